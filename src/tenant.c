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

#include "schemaguard.h"

/* Longest tenant id accepted, in bytes. */
#define SG_TENANT_MAXLEN	256

/* GUC variables */
static char *tenant_value = NULL;	/* schemaguard.tenant; "" = unset */
char	   *sg_tenant_columns = NULL;	/* schemaguard.tenant_columns */

/* schemaguard.tenant_columns, parsed once per change (String nodes). */
static List *tenant_cols = NIL;
static bool tenant_cols_valid = false;

/* True only while this file writes schemaguard.tenant. */
static bool tenant_writing = false;

PG_FUNCTION_INFO_V1(sg_set_tenant);
PG_FUNCTION_INFO_V1(sg_set_tenant_session);
PG_FUNCTION_INFO_V1(sg_reset_tenant);
PG_FUNCTION_INFO_V1(sg_current_tenant);
PG_FUNCTION_INFO_V1(sg_require_tenant);
PG_FUNCTION_INFO_V1(sg_current_tenant_as);

static void tenant_as_inval(Datum arg, int cacheid, uint32 hashvalue);

/*
 * Check hook of schemaguard.tenant: only this file (and a parallel worker
 * copying its leader's state) may set it.
 */
static bool
check_tenant(char **newval, void **extra, GucSource source)
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
static bool
check_tenant_columns(char **newval, void **extra, GucSource source)
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
static void
assign_tenant_columns(const char *newval, void *extra)
{
	tenant_cols_valid = false;
}

/* Define the tenant GUCs; called from _PG_init. */
void
sg_tenant_init(void)
{
	DefineCustomStringVariable("schemaguard.tenant",
							   "The tenant of the current transaction or session (read-only).",
							   "Set it with schemaguard.set_tenant() or set_tenant_session(); "
							   "SET cannot change it.",
							   &tenant_value,
							   "",
							   PGC_SUSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							   check_tenant, NULL, NULL);

	DefineCustomStringVariable("schemaguard.tenant_columns",
							   "Column names that make a table a tenant table.",
							   "A table with one of these columns must be isolated by "
							   "row-level security (rule tenant-table-rls). Names are "
							   "identifiers: unquoted ones are folded to lower case, "
							   "quoted ones (\"tenantId\", Prisma's default) match exactly.",
							   &sg_tenant_columns,
							   "tenant_id, \"tenantId\"",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   check_tenant_columns, assign_tenant_columns, NULL);

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
	PG_RETURN_VOID();
}

/* reset_tenant(): no tenant, in the transaction and the session. */
Datum
sg_reset_tenant(PG_FUNCTION_ARGS)
{
	write_tenant("", GUC_ACTION_SET);
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
	return (tenant_value == NULL || tenant_value[0] == '\0') ? NULL : tenant_value;
}

Datum
sg_current_tenant(PG_FUNCTION_ARGS)
{
	if (tenant_value == NULL || tenant_value[0] == '\0')
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(tenant_value));
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
	if (tenant_value == NULL || tenant_value[0] == '\0')
		PG_RETURN_NULL();
	if (!tenant_as.have_value || strcmp(tenant_as.tenant, tenant_value) != 0)
	{
		bool		isnull;
		Datum		value = tenant_as_value(tenant_as.base, tenant_value, &isnull);

		/* (an error above leaves the cache as it was) */
		tenant_as.have_value = false;
		strlcpy(tenant_as.tenant, tenant_value, sizeof(tenant_as.tenant));
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
	if (tenant_value == NULL || tenant_value[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_SG_TENANT_NOT_SET),
				 errmsg("no tenant is set"),
				 errhint("Call SELECT schemaguard.set_tenant('...') at the start of the transaction.")));
	PG_RETURN_TEXT_P(cstring_to_text(tenant_value));
}
