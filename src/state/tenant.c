/*-------------------------------------------------------------------------
 *
 * tenant.c
 *		Tenant context for row-level security policies: set_tenant(),
 *		set_tenant_session(), reset_tenant(), current_tenant() and
 *		require_tenant(), and the GUC schemaguard.tenant_columns.
 *
 * Where the tenant lives.  The value rides in a hidden GUC,
 * schemaguard.tenant, that nothing but this file can write: its check hook
 * refuses every SET, set_config(), ALTER ROLE/DATABASE ... SET, function SET
 * clause and postgresql.conf entry, superusers included.  A GUC, and not a
 * static variable, because that is the only state core hands to parallel
 * workers (so current_tenant() is truly PARALLEL SAFE), and because core's
 * GUC stack already gives the semantics a tenant needs:
 *
 *	- set_tenant() is SET LOCAL: gone at COMMIT or ROLLBACK, undone by
 *	  ROLLBACK TO SAVEPOINT, so it cannot leak to the next client of a
 *	  transaction-mode pooler;
 *	- set_tenant_session() is SET: it survives the transaction (and is
 *	  undone if the transaction aborts);
 *	- RESET ALL and DISCARD ALL clear both.
 *
 * The unset state is the empty string; current_tenant() returns NULL for it,
 * so a policy "tenant_id = current_tenant()::type" matches no row.
 *
 * On a Citus cluster the policy runs on the workers, where the shard
 * queries run, so the tenant must travel with the transaction.  When
 * schemaguard.tenant_key is set, set_tenant() on the coordinator also signs
 * the tenant: an HMAC-SHA256, under that key, over the tenant, the role the
 * queries run as, the database and an expiry.  The token rides in
 * schemaguard.tenant_token, a SET LOCAL that Citus sends to every node of the
 * transaction (citus.c).  Any client may SET the token, but only a token
 * signed with the key is accepted, and on a node with no tenant of its own
 * current_tenant() answers with the token's tenant only while it is unexpired,
 * for the role and database it was signed for, and in the transaction that
 * set it.  So a client that
 * reaches a worker directly can present a token only as the role it was
 * minted for: one that may call set_tenant() anyway.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "catalog/pg_type.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/inval.h"
#include "utils/syscache.h"
#include "utils/uuid.h"
#include "utils/varlena.h"

#include "commands/dbcommands.h"
#include "common/hmac.h"
#include "miscadmin.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "citus.h"
#include "compat.h"
#include "schemaguard.h"

/* Longest tenant id accepted, in bytes. */
#define SG_TENANT_MAXLEN	256

/* Shortest schemaguard.tenant_key accepted, in bytes. */
#define SG_TENANT_KEY_MINLEN	32

/* An HMAC-SHA256. */
#define SG_MAC_LEN			32

/* GUC variables */
char *sg_tenant_value = NULL;	/* schemaguard.tenant; "" = unset */
char	   *sg_tenant_columns = NULL;	/* schemaguard.tenant_columns */

/* schemaguard.tenant_columns, parsed once per change (String nodes). */
static List *tenant_cols = NIL;
static bool tenant_cols_valid = false;

/* True only while this file writes schemaguard.tenant or tenant_token. */
static bool tenant_writing = false;

/* Signed tenants for the nodes of a Citus cluster (see the file header). */
char *sg_tenant_key = NULL;	/* schemaguard.tenant_key */
char *sg_tenant_token = NULL;	/* schemaguard.tenant_token; "" = none */
int	sg_tenant_token_lifetime = 3600;	/* seconds */

/*
 * The local transaction in which schemaguard.tenant_token got its value.
 * A token counts only in that transaction, so a plain SET of it (or ALTER
 * ROLE ... SET) never outlives its transaction: a pooled connection hands
 * no tenant to its next client.
 */
static LocalTransactionId token_lxid = InvalidLocalTransactionId;

/*
 * The last token current_tenant() verified: the answer holds for the same
 * token, role and transaction.
 */
static struct
{
	char	   *token;			/* TopMemoryContext; NULL = nothing cached */
	Oid			user;
	TimestampTz xact_start;
	bool		valid;
	char		tenant[SG_TENANT_MAXLEN + 1];
} token_cache;

PG_FUNCTION_INFO_V1(sg_set_tenant);
PG_FUNCTION_INFO_V1(sg_set_tenant_session);
PG_FUNCTION_INFO_V1(sg_reset_tenant);
PG_FUNCTION_INFO_V1(sg_current_tenant);
PG_FUNCTION_INFO_V1(sg_has_tenant);
PG_FUNCTION_INFO_V1(sg_require_tenant);
PG_FUNCTION_INFO_V1(sg_current_tenant_as);

static void tenant_as_inval(Datum arg, int cacheid, uint32 hashvalue);

/*
 * Check hook of schemaguard.tenant: only this file (and a parallel worker
 * copying its leader's state) may set it.
 */
bool
sg_check_tenant(char **newval, void **extra, GucSource source)
{
	if (tenant_writing || InitializingParallelWorker || source == PGC_S_DEFAULT)
		return true;
	if (*newval == NULL || (*newval)[0] == '\0')
		return true;			/* clearing it is always safe */
	GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
	GUC_check_errmsg("schemaguard.tenant can only be set by schemaguard.set_tenant()");
	GUC_check_errhint("Use SELECT schemaguard.set_tenant('...') inside a transaction block.");
	return false;
}

/* Check hook of schemaguard.tenant_columns: a list of column names. */
bool
sg_check_tenant_columns(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *names;
	bool		ok = SplitIdentifierString(raw, ',', &names);

	if (!ok)
		GUC_check_errdetail("List syntax is invalid.");
	else if (names == NIL)
	{
		GUC_check_errdetail("The list needs at least one column name.");
		ok = false;
	}
	list_free(names);
	pfree(raw);
	return ok;
}

/* The list changed: parse it again when it is next asked for. */
void
sg_assign_tenant_columns(const char *newval, void *extra)
{
	tenant_cols_valid = false;
}

/* ---------- signed tenants (Citus) ---------- */

/* Check hook of schemaguard.tenant_key: empty, or long enough. */
bool
sg_check_tenant_key(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0' || strlen(*newval) >= SG_TENANT_KEY_MINLEN)
		return true;
	GUC_check_errdetail("The key has %zu bytes; it needs at least %d.",
						strlen(*newval), SG_TENANT_KEY_MINLEN);
	return false;
}

static void
hex_append(StringInfo buf, const uint8 *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++)
	{
		appendStringInfoChar(buf, digits[data[i] >> 4]);
		appendStringInfoChar(buf, digits[data[i] & 0xf]);
	}
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decode the hex field that starts at *p and ends at the next ':' (or the
 * end), into out (at most maxlen bytes); advances *p past the ':'.  Returns
 * the length, or -1 when the field is malformed or too long.
 */
static int
hex_field(const char **p, uint8 *out, int maxlen)
{
	int			n = 0;

	while (**p != '\0' && **p != ':')
	{
		int			hi = hex_digit((*p)[0]);
		int			lo = hi < 0 ? -1 : hex_digit((*p)[1]);

		if (lo < 0 || n >= maxlen)
			return -1;
		out[n++] = (uint8) (hi << 4 | lo);
		*p += 2;
	}
	if (**p == ':')
		(*p)++;
	return n;
}

/* A hex field holding text (no NUL byte), NUL-terminated into out. */
static bool
text_field(const char **p, char *out, int maxlen)
{
	int			n = hex_field(p, (uint8 *) out, maxlen);

	if (n < 0)
		return false;
	out[n] = '\0';
	return strlen(out) == (size_t) n;
}

/*
 * The MAC of a token's fields under schemaguard.tenant_key.  False when
 * there is no key, or no resource owner for the HMAC.
 */
static bool
token_mac(const char *db, const char *role, int64 expiry, const char *tenant, uint8 *mac)
{
	StringInfoData msg;
	pg_hmac_ctx *ctx;
	bool		ok;

	if (sg_tenant_key == NULL || sg_tenant_key[0] == '\0' || CurrentResourceOwner == NULL)
		return false;
	initStringInfo(&msg);
	appendStringInfo(&msg, "schemaguard tenant token 1");
	appendStringInfoChar(&msg, '\0');
	appendStringInfoString(&msg, db);
	appendStringInfoChar(&msg, '\0');
	appendStringInfoString(&msg, role);
	appendStringInfoChar(&msg, '\0');
	appendStringInfo(&msg, INT64_FORMAT, expiry);
	appendStringInfoChar(&msg, '\0');
	appendStringInfoString(&msg, tenant);
	ctx = pg_hmac_create(PG_SHA256);
	ok = ctx != NULL &&
		pg_hmac_init(ctx, (const uint8 *) sg_tenant_key, strlen(sg_tenant_key)) == 0 &&
		pg_hmac_update(ctx, (const uint8 *) msg.data, msg.len) == 0 &&
		pg_hmac_final(ctx, mac, SG_MAC_LEN) == 0;
	pg_hmac_free(ctx);
	pfree(msg.data);
	return ok;
}

/* "1:<expiry>:<db>:<role>:<tenant>:<mac>", the text fields in hex. */
static char *
make_token(const char *tenant)
{
	const char *db = get_database_name(MyDatabaseId);
	const char *role = GetUserNameFromId(GetOuterUserId(), false);
	int64		expiry = (int64) timestamptz_to_time_t(GetCurrentTimestamp()) + sg_tenant_token_lifetime;
	uint8		mac[SG_MAC_LEN];
	StringInfoData buf;

	if (!token_mac(db, role, expiry, tenant, mac))
		return NULL;
	initStringInfo(&buf);
	appendStringInfo(&buf, "1:" INT64_FORMAT ":", expiry);
	hex_append(&buf, (const uint8 *) db, strlen(db));
	appendStringInfoChar(&buf, ':');
	hex_append(&buf, (const uint8 *) role, strlen(role));
	appendStringInfoChar(&buf, ':');
	hex_append(&buf, (const uint8 *) tenant, strlen(tenant));
	appendStringInfoChar(&buf, ':');
	hex_append(&buf, mac, SG_MAC_LEN);
	return buf.data;
}

/* A token's fields, as read by parse_token(). */
typedef struct SgToken
{
	int64		expiry;
	char		db[NAMEDATALEN];
	char		role[NAMEDATALEN];
	char		tenant[SG_TENANT_MAXLEN + 1];
} SgToken;

/*
 * Parse and authenticate a token: NULL when it was signed with this node's
 * key, else why not.  Never raises.
 */
static const char *
parse_token(const char *token, SgToken *t)
{
	const char *p = token;
	char	   *end;
	uint8		mac[SG_MAC_LEN];
	uint8		want[SG_MAC_LEN];
	int			diff = 0;

	if (sg_tenant_key == NULL || sg_tenant_key[0] == '\0')
		return "this server has no schemaguard.tenant_key";
	if (strncmp(p, "1:", 2) != 0)
		return "it is not a schemaguard tenant token";
	p += 2;
	t->expiry = strtoi64(p, &end, 10);
	if (end == p || *end != ':')
		return "it is not a schemaguard tenant token";
	p = end + 1;
	if (!text_field(&p, t->db, NAMEDATALEN - 1) ||
		!text_field(&p, t->role, NAMEDATALEN - 1) ||
		!text_field(&p, t->tenant, SG_TENANT_MAXLEN) || t->tenant[0] == '\0' ||
		hex_field(&p, mac, SG_MAC_LEN) != SG_MAC_LEN || *p != '\0')
		return "it is not a schemaguard tenant token";
	if (!token_mac(t->db, t->role, t->expiry, t->tenant, want))
		return "it cannot be verified here";
	for (int i = 0; i < SG_MAC_LEN; i++)
		diff |= mac[i] ^ want[i];
	if (diff != 0)
		return "it was not signed with this server's schemaguard.tenant_key";
	return NULL;
}

/*
 * Check hook of schemaguard.tenant_token: only a token signed with this
 * node's key may be set (a forged one is refused loudly).
 */
bool
sg_check_tenant_token(char **newval, void **extra, GucSource source)
{
	SgToken		t;
	const char *why;

	if (tenant_writing || InitializingParallelWorker || source == PGC_S_DEFAULT)
		return true;
	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (!IsTransactionState())
		why = "it can only be set inside a transaction";
	else
		why = parse_token(*newval, &t);
	if (why == NULL)
		return true;
	GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
	GUC_check_errmsg("schemaguard.tenant_token is not a valid tenant token");
	GUC_check_errdetail("The token was refused: %s.", why);
	GUC_check_errhint("The tenant comes from schemaguard.set_tenant() on the coordinator.");
	return false;
}

/*
 * The tenant of the token, when it is authentic, unexpired at the start of
 * this transaction, and for this role and database; else NULL.  Never
 * raises (current_tenant() is LEAKPROOF).
 */
static const char *
token_tenant(void)
{
	TimestampTz xact_start;
	SgToken		t;
	bool		valid;
	const char *role;
	const char *db;

	if (!IsTransactionState())
		return NULL;
	/* a parallel worker restores its leader's settings in a setup transaction */
	if (token_lxid != sg_my_lxid() && !IsParallelWorker())
		return NULL;
	xact_start = GetCurrentTransactionStartTimestamp();
	if (token_cache.token != NULL && token_cache.user == GetUserId() &&
		token_cache.xact_start == xact_start && strcmp(token_cache.token, sg_tenant_token) == 0)
		return token_cache.valid ? token_cache.tenant : NULL;

	role = GetUserNameFromId(GetUserId(), true);
	db = get_database_name(MyDatabaseId);
	valid = parse_token(sg_tenant_token, &t) == NULL && role != NULL && db != NULL &&
		strcmp(t.role, role) == 0 && strcmp(t.db, db) == 0 &&
		(int64) timestamptz_to_time_t(xact_start) <= t.expiry;

	if (token_cache.token)
		pfree(token_cache.token);
	token_cache.token = MemoryContextStrdup(TopMemoryContext, sg_tenant_token);
	token_cache.user = GetUserId();
	token_cache.xact_start = xact_start;
	token_cache.valid = valid;
	if (valid)
		strlcpy(token_cache.tenant, t.tenant, sizeof(token_cache.tenant));
	return valid ? token_cache.tenant : NULL;
}

/*
 * The tenant this node acts for: its own (set_tenant() here), else the one
 * the coordinator signed for this transaction; NULL when neither.
 */
static const char *
effective_tenant(void)
{
	if (sg_tenant_value != NULL && sg_tenant_value[0] != '\0')
		return sg_tenant_value;
	if (sg_tenant_token == NULL || sg_tenant_token[0] == '\0')
		return NULL;
	/*
	 * Only Citus sends tokens (citus.c signs them for its workers): where
	 * Citus is not loaded, none counts, so that a key that leaked does not
	 * let a role without EXECUTE on set_tenant() choose its tenant.
	 */
	if (!sg_citus_loaded())
		return NULL;
	return token_tenant();
}

/* Assign hook of schemaguard.tenant_token: note the transaction. */
void
sg_assign_tenant_token(const char *newval, void *extra)
{
	token_lxid = MyProc != NULL ? sg_my_lxid() : InvalidLocalTransactionId;
}

/*
 * On a Citus coordinator: send the tenant, signed, to the nodes of this
 * transaction (NULL: no tenant).  Without a key nothing is signed, and the
 * workers see no tenant.
 */
static void
propagate_tenant(const char *tenant)
{
	char	   *token;

	if (!sg_citus_loaded() || !IsTransactionBlock())
		return;
	token = tenant ? make_token(tenant) : NULL;
	if (token == NULL && (sg_tenant_token == NULL || sg_tenant_token[0] == '\0'))
		return;
	if (token == NULL)
		token = "";
	tenant_writing = true;
	PG_TRY();
	{
		sg_citus_set_local("schemaguard.tenant_token", token);
	}
	PG_FINALLY();
	{
		tenant_writing = false;
	}
	PG_END_TRY();
}

/* Define the tenant GUCs; called from _PG_init. */
void
sg_tenant_init(void)
{
	CacheRegisterSyscacheCallback(TYPEOID, tenant_as_inval, (Datum) 0);
}

/*
 * The configured tenant column names (String nodes), parsed once after each
 * change of the setting.  The list is shared: callers must not modify it.
 */
List *
sg_tenant_column_names(void)
{
	MemoryContext old;
	List	   *names = NIL;
	ListCell   *lc;

	if (tenant_cols_valid)
		return tenant_cols;
	foreach(lc, tenant_cols)
		pfree(strVal(lfirst(lc)));
	list_free_deep(tenant_cols);
	tenant_cols = NIL;
	if (SplitIdentifierString(pstrdup(sg_tenant_columns ? sg_tenant_columns : ""), ',', &names))
	{
		old = MemoryContextSwitchTo(TopMemoryContext);
		foreach(lc, names)
			tenant_cols = lappend(tenant_cols, makeString(pstrdup(lfirst(lc))));
		MemoryContextSwitchTo(old);
	}
	tenant_cols_valid = true;
	return tenant_cols;
}

/* Is name one of the configured tenant columns? */
bool
sg_is_tenant_column(const char *name)
{
	ListCell   *lc;

	foreach(lc, sg_tenant_column_names())
	{
		if (strcmp(strVal(lfirst(lc)), name) == 0)
			return true;
	}
	return false;
}

/* Write schemaguard.tenant, with GUC semantics: SET LOCAL or SET. */
static void
write_tenant(const char *value, GucAction action)
{
	tenant_writing = true;
	PG_TRY();
	{
		(void) set_config_option("schemaguard.tenant", value, PGC_SUSET,
								 PGC_S_SESSION, action, true, ERROR, false);
	}
	PG_FINALLY();
	{
		tenant_writing = false;
	}
	PG_END_TRY();
}

/* The tenant argument of a setter, validated. */
static char *
tenant_arg(FunctionCallInfo fcinfo)
{
	char	   *tenant;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tenant must not be NULL"),
				 errhint("Use schemaguard.reset_tenant() to clear the tenant.")));
	tenant = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (strspn(tenant, " \t\r\n") == strlen(tenant))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tenant must not be empty"),
				 errhint("Use schemaguard.reset_tenant() to clear the tenant.")));
	if (strlen(tenant) > SG_TENANT_MAXLEN)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("tenant is too long"),
				 errdetail("The tenant has %zu bytes; the limit is %d.",
						   strlen(tenant), SG_TENANT_MAXLEN)));
	return tenant;
}

/*
 * set_tenant(tenant): the tenant for the rest of the current transaction.
 */
Datum
sg_set_tenant(PG_FUNCTION_ARGS)
{
	char	   *tenant = tenant_arg(fcinfo);

	if (!IsTransactionBlock())
		ereport(ERROR,
				(errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
				 errmsg("schemaguard.set_tenant() can only be used in a transaction block"),
				 errdetail("The tenant lasts until the end of the transaction; outside a "
						   "transaction block it would be gone before the next statement."),
				 errhint("Use BEGIN; SELECT schemaguard.set_tenant('%s'); ... COMMIT; or, "
						 "for the whole session, schemaguard.set_tenant_session().", tenant)));
	write_tenant(tenant, GUC_ACTION_LOCAL);
	propagate_tenant(tenant);
	PG_RETURN_VOID();
}

/*
 * set_tenant_session(tenant): the tenant for the rest of the session.  Not
 * safe behind a transaction-mode pooler; an explicit opt-in.
 */
Datum
sg_set_tenant_session(PG_FUNCTION_ARGS)
{
	write_tenant(tenant_arg(fcinfo), GUC_ACTION_SET);
	/* not carried to the workers: they see no tenant (README, Citus) */
	propagate_tenant(NULL);
	PG_RETURN_VOID();
}

/* reset_tenant(): no tenant, in the transaction and the session. */
Datum
sg_reset_tenant(PG_FUNCTION_ARGS)
{
	write_tenant("", GUC_ACTION_SET);
	propagate_tenant(NULL);
	PG_RETURN_VOID();
}

/*
 * current_tenant(): the tenant, or NULL when unset.  LEAKPROOF: it reads
 * no argument and never raises.
 */
/* The tenant of this transaction, or NULL: for C callers (the audit trigger). */
const char *
sg_tenant(void)
{
	return effective_tenant();
}

Datum
sg_current_tenant(PG_FUNCTION_ARGS)
{
	const char *tenant = effective_tenant();

	if (tenant == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(tenant));
}

/*
 * has_tenant(): is a tenant set?  What current_tenant() IS NOT NULL says,
 * without building the text: the shared-rows gate calls it for every row.
 */
Datum
sg_has_tenant(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(effective_tenant() != NULL);
}

/*
 * What current_tenant_as() worked out last, per backend: the sample type's
 * base type, and the value of the tenant it last read.  A policy calls it
 * once per scan, and for the same tenant across a transaction's statements,
 * so the common call is one string comparison.  Reset when a type changes.
 */
static struct
{
	Oid			typid;			/* the sample's type; InvalidOid = nothing cached */
	Oid			base;
	bool		have_value;		/* value/isnull are those of tenant text */
	char		tenant[SG_TENANT_MAXLEN + 1];
	bool		isnull;			/* not the canonical spelling */
	Datum		value;			/* by value, or pointing at uuid */
	pg_uuid_t	uuid;
} tenant_as;

static void
tenant_as_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	tenant_as.typid = InvalidOid;
	tenant_as.have_value = false;
}

/* The tenant as a value of base (int2, int4, int8, uuid); isnull unless canonical. */
static Datum
tenant_as_value(Oid base, const char *tenant, bool *isnull)
{
	Datum		value;
	char	   *canonical;

	switch (base)
	{
		case INT2OID:
			value = DirectFunctionCall1(int2in, CStringGetDatum(tenant));
			canonical = DatumGetCString(DirectFunctionCall1(int2out, value));
			break;
		case INT4OID:
			value = DirectFunctionCall1(int4in, CStringGetDatum(tenant));
			canonical = DatumGetCString(DirectFunctionCall1(int4out, value));
			break;
		case INT8OID:
			value = DirectFunctionCall1(int8in, CStringGetDatum(tenant));
			canonical = DatumGetCString(DirectFunctionCall1(int8out, value));
			break;
		default:
			value = DirectFunctionCall1(uuid_in, CStringGetDatum(tenant));
			canonical = DatumGetCString(DirectFunctionCall1(uuid_out, value));
			break;
	}
	*isnull = strcmp(canonical, tenant) != 0;
	return value;
}

/*
 * current_tenant_as(type_sample anyelement): the tenant as a value of the
 * sample's type (smallint, integer, bigint or uuid; the sample is a typed
 * NULL), for the policies of tenant columns of those types.  NULL when no
 * tenant is set, and when the tenant is not the canonical spelling of its
 * value ('007', ' 7', an upper-case uuid): such a tenant matches no row.  An
 * error when it is no value of the type.  STABLE with a constant argument,
 * the planner evaluates it once per scan (an index condition); a canonical
 * check written in the policy itself would be evaluated for every row.
 */
Datum
sg_current_tenant_as(PG_FUNCTION_ARGS)
{
	Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, 0);
	const char *tenant;

	if (tenant_as.typid != typid || !OidIsValid(typid))
	{
		Oid			base = getBaseType(typid);

		if (base != INT2OID && base != INT4OID && base != INT8OID && base != UUIDOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("current_tenant_as() takes a smallint, integer, bigint or uuid sample, not %s",
							format_type_be(typid)),
					 errhint("Compare text tenant columns with schemaguard.current_tenant().")));
		tenant_as.have_value = false;
		tenant_as.base = base;
		tenant_as.typid = typid;
	}
	if ((tenant = effective_tenant()) == NULL)
		PG_RETURN_NULL();
	if (!tenant_as.have_value || strcmp(tenant_as.tenant, tenant) != 0)
	{
		bool		isnull;
		Datum		value = tenant_as_value(tenant_as.base, tenant, &isnull);

		/* (an error above leaves the cache as it was) */
		tenant_as.have_value = false;
		strlcpy(tenant_as.tenant, tenant, sizeof(tenant_as.tenant));
		tenant_as.isnull = isnull;
		if (tenant_as.base == UUIDOID)
		{
			memcpy(&tenant_as.uuid, DatumGetUUIDP(value), sizeof(pg_uuid_t));
			tenant_as.value = UUIDPGetDatum(&tenant_as.uuid);
		}
		else
			tenant_as.value = value;
		tenant_as.have_value = true;
	}
	if (tenant_as.isnull)
		PG_RETURN_NULL();
	if (tenant_as.base == UUIDOID)
	{
		pg_uuid_t  *copy = palloc(sizeof(pg_uuid_t));

		memcpy(copy, &tenant_as.uuid, sizeof(pg_uuid_t));
		PG_RETURN_UUID_P(copy);
	}
	PG_RETURN_DATUM(tenant_as.value);
}

/* require_tenant(): the tenant, or SQLSTATE SG010 when unset. */
Datum
sg_require_tenant(PG_FUNCTION_ARGS)
{
	const char *tenant = effective_tenant();

	if (tenant == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SG_TENANT_NOT_SET),
				 errmsg("no tenant is set"),
				 errhint("Call SELECT schemaguard.set_tenant('...') at the start of the transaction.")));
	PG_RETURN_TEXT_P(cstring_to_text(tenant));
}
