/*-------------------------------------------------------------------------
 *
 * ddl_log.c
 *		schemaguard.ddl_log: one row for each DDL statement that succeeded,
 *		checked or not, with its migration (if one runs) and what the rules
 *		said of it.
 *
 * The rows of a transaction are kept in memory and written just before it
 * commits (sg_ddl_log_flush(), also before anything reads a migration's
 * rows), so that the transaction holds no lock on ddl_log while its
 * statements run; a statement rolled back with its savepoint is not logged.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/sequence.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/backend_status.h"

#include "compat.h"
#include "schemaguard.h"

/* schemaguard.record_ddl: whether DDL statements are logged */
bool		sg_record_ddl = true;

/* last_statement keeps this many characters */
#define LAST_STATEMENT_CHARS 1000

/*
 * A statement is kept in ddl_log up to this many bytes; the rest is kept as
 * its length and SHA-256, so that no statement (a 100 MB comment, say)
 * grows the log by more than this.
 */
#define STATEMENT_KEEP_BYTES 8192

/*
 * The table the rows go to: ddl_log_rows since 1.7 (ddl_log is the view
 * every role reads), ddl_log before.
 */
static const char *
log_table(void)
{
	return OidIsValid(sg_rows_relid("ddl_log_rows", true)) ? "ddl_log_rows" : "ddl_log";
}

/*
 * Would the value of setting name be hidden from other roles by core: a
 * superuser-only or unlisted setting (GUC_SUPERUSER_ONLY, GUC_NO_SHOW_ALL:
 * schemaguard.tenant_key, primary_conninfo, ...), or one this server does
 * not know (a placeholder, whose flags are unknown)?
 */
static bool
secret_setting(const char *name)
{
	if (name == NULL)
		return false;
	if (GetConfigOption(name, true, false) == NULL)
		return true;
	return (GetConfigOptionFlags(name, true) & (GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL)) != 0;
}

/* Does a CREATE/ALTER ROLE set a password? */
static bool
sets_password(List *options)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		if (strcmp(lfirst_node(DefElem, lc)->defname, "password") == 0)
			return true;
	}
	return false;
}

/*
 * The text ddl_log keeps of a statement: what core itself hides from other
 * roles is replaced by '********', decided from the parse tree, never from
 * the text: passwords (CREATE/ALTER ROLE), the options of user mappings,
 * foreign servers, foreign-data wrappers and foreign tables (credentials),
 * subscriptions' connection strings, and the values of secret settings
 * (ALTER SYSTEM, ALTER ROLE ... SET, ALTER DATABASE ... SET).  Then at most
 * STATEMENT_KEEP_BYTES of it, and the length and SHA-256 of the rest.
 */
static char *
statement_for_log(Node *parsetree, const char *sql)
{
	char	   *text = (char *) sql;
	size_t		len;

	switch (nodeTag(parsetree))
	{
		case T_CreateRoleStmt:
			if (sets_password(((CreateRoleStmt *) parsetree)->options))
				text = sg_redact_constants(sql, false);
			break;
		case T_AlterRoleStmt:
			if (sets_password(((AlterRoleStmt *) parsetree)->options))
				text = sg_redact_constants(sql, false);
			break;
		case T_CreateUserMappingStmt:
		case T_AlterUserMappingStmt:
		case T_CreateForeignServerStmt:
		case T_AlterForeignServerStmt:
		case T_CreateFdwStmt:
		case T_AlterFdwStmt:
		case T_CreateForeignTableStmt:
		case T_ImportForeignSchemaStmt:
		case T_CreateSubscriptionStmt:
		case T_AlterSubscriptionStmt:
			text = sg_redact_constants(sql, false);
			break;
		case T_AlterTableStmt:
			{
				ListCell   *lc;

				/* ALTER FOREIGN TABLE ... OPTIONS, and a column's OPTIONS */
				foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					if (cmd->subtype == AT_GenericOptions || cmd->subtype == AT_AlterColumnGenericOptions)
						text = sg_redact_constants(sql, false);
				}
				break;
			}
		case T_AlterSystemStmt:
			if (secret_setting(((AlterSystemStmt *) parsetree)->setstmt->name))
				text = sg_redact_constants(sql, true);
			break;
		case T_AlterRoleSetStmt:
			if (secret_setting(((AlterRoleSetStmt *) parsetree)->setstmt->name))
				text = sg_redact_constants(sql, true);
			break;
		case T_AlterDatabaseSetStmt:
			if (secret_setting(((AlterDatabaseSetStmt *) parsetree)->setstmt->name))
				text = sg_redact_constants(sql, true);
			break;
		default:
			break;
	}

	len = strlen(text);
	if (len > STATEMENT_KEEP_BYTES)
	{
		int			keep = pg_mbcliplen(text, len, STATEMENT_KEEP_BYTES);
		uint8		digest[PG_SHA256_DIGEST_LENGTH];
		char		hex[PG_SHA256_DIGEST_LENGTH * 2 + 1];
		pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

		if (pg_cryptohash_init(ctx) < 0 ||
			pg_cryptohash_update(ctx, (uint8 *) text, len) < 0 ||
			pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
			elog(ERROR, "could not compute a statement's SHA-256");
		pg_cryptohash_free(ctx);
		hex_encode((char *) digest, sizeof(digest), hex);
		hex[PG_SHA256_DIGEST_LENGTH * 2] = '\0';
		text = psprintf("%.*s\n/* schemaguard: the statement is cut here: %zu bytes in all, SHA-256 %s */",
						keep, text, len, hex);
	}
	return text;
}

/* ddl_log, as this library writes it (see the install script) */
enum
{
	L_ID, L_AT, L_ROLE, L_APPLICATION_NAME, L_MIGRATION_ID, L_COMMAND_TAG,
	L_OBJECT_IDENTITY, L_STATEMENT, L_RULES, L_NATTS
};
static const Oid ddl_log_types[L_NATTS] = {
	INT8OID, TIMESTAMPTZOID, TEXTOID, TEXTOID, INT8OID, TEXTOID, TEXTOID, TEXTOID, JSONBOID
};

/* ddl_log rows of this transaction, written before it commits */
typedef struct PendingDdl
{
	SubTransactionId subid;
	Datum		values[L_NATTS];
	bool		nulls[L_NATTS];
} PendingDdl;

static List *pending_ddl = NIL;

/* How many ddl_log rows migration mid has, and the text of its last one. */
static int
count_rows(int64 mid, char **last_statement)
{
	Relation	rel = sg_rows_open(log_table(), ddl_log_types, L_NATTS, AccessShareLock, false);
	SgRowScan  *scan = sg_rows_scan(rel, "ddl_log_migration", L_MIGRATION_ID + 1, INT8OID,
									Int64GetDatum(mid), true);
	HeapTuple	tup;
	int			n = 0;

	*last_statement = NULL;
	while ((tup = sg_rows_next(scan)) != NULL)
	{
		if (n++ == 0)
		{
			bool		isnull;
			Datum		d = heap_getattr(tup, L_STATEMENT + 1, RelationGetDescr(rel), &isnull);

			if (!isnull)
			{
				char	   *s = TextDatumGetCString(d);

				*last_statement = pnstrdup(s, pg_mbcharcliplen(s, strlen(s), LAST_STATEMENT_CHARS));
			}
		}
	}
	sg_rows_end(scan);
	table_close(rel, NoLock);
	return n;
}

/* count_rows(), after writing the rows this transaction kept. */
int
sg_ddl_log_count(int64 mid, char **last_statement)
{
	sg_ddl_log_flush();
	return count_rows(mid, last_statement);
}

/* What a statement acts on, for ddl_log: the first relation it names. */
static char *
statement_object(Node *parsetree)
{
	RangeVar   *rv = NULL;

	switch (nodeTag(parsetree))
	{
		case T_CreateStmt:
			rv = ((CreateStmt *) parsetree)->relation;
			break;
		case T_AlterTableStmt:
			rv = ((AlterTableStmt *) parsetree)->relation;
			break;
		case T_IndexStmt:
			{
				/* the index, in its table's schema; unnamed: the table */
				IndexStmt  *is = (IndexStmt *) parsetree;
				Oid			relid = RangeVarGetRelid(is->relation, NoLock, true);

				if (!OidIsValid(relid))
					return is->idxname ? pstrdup(quote_identifier(is->idxname)) : sg_rangevar_name(is->relation);
				return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												  is->idxname ? is->idxname : get_rel_name(relid));
			}
		case T_RenameStmt:
			rv = ((RenameStmt *) parsetree)->relation;
			break;
		case T_CreateTableAsStmt:
			rv = ((CreateTableAsStmt *) parsetree)->into->rel;
			break;
		case T_ViewStmt:
			rv = ((ViewStmt *) parsetree)->view;
			break;
		case T_DropStmt:
			if (((DropStmt *) parsetree)->objects != NIL &&
				IsA(linitial(((DropStmt *) parsetree)->objects), List))
				return sg_name_list(linitial(((DropStmt *) parsetree)->objects));
			return NULL;
		default:
			return NULL;
	}
	if (rv == NULL)
		return NULL;
	/* It exists now (the statement succeeded): its schema-qualified name. */
	{
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);

		if (OidIsValid(relid))
			return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											  get_rel_name(relid));
	}
	return sg_rangevar_name(rv);
}

/*
 * After a DDL statement succeeded: one ddl_log row, attached to migration
 * (0: none), with what the rules said.  Not in a read-only transaction
 * (only temporary objects can change there, and history is not written).
 */
void
sg_ddl_log_add(Node *parsetree, const char *sql, const char *rules_json, int64 migration)
{
	PendingDdl *p;
	Datum	   *values;
	bool	   *nulls;
	MemoryContext old;

	if (!sg_record_ddl || creating_extension || IsBinaryUpgrade || XactReadOnly ||
		GetCommandLogLevel(parsetree) != LOGSTMT_DDL)
		return;
	if (!OidIsValid(sg_rows_relid(log_table(), true)))
		return;					/* the history is not installed (before 1.3) */
	old = MemoryContextSwitchTo(TopTransactionContext);
	p = palloc0(sizeof(PendingDdl));
	p->subid = GetCurrentSubTransactionId();
	values = p->values;
	nulls = p->nulls;
	values[L_AT] = TimestampTzGetDatum(GetCurrentTimestamp());
	/* the role that ran it: the caller of our own functions' DDL */
	values[L_ROLE] = CStringGetTextDatum(GetUserNameFromId(sg_statement_role(), false));
	values[L_APPLICATION_NAME] = sg_text_datum_or_null(application_name && application_name[0] ? application_name : NULL,
													&nulls[L_APPLICATION_NAME]);
	values[L_MIGRATION_ID] = Int64GetDatum(migration);
	nulls[L_MIGRATION_ID] = (migration == 0);
	values[L_COMMAND_TAG] = CStringGetTextDatum(GetCommandTagName(CreateCommandTag(parsetree)));
	values[L_OBJECT_IDENTITY] = sg_text_datum_or_null(statement_object(parsetree), &nulls[L_OBJECT_IDENTITY]);
	/* from its first token: leading comments are not in the slice on 18 */
	values[L_STATEMENT] = CStringGetTextDatum(statement_for_log(parsetree, sql + sg_first_token_offset(sql)));
	if (rules_json)
		values[L_RULES] = DirectFunctionCall1(jsonb_in, CStringGetDatum(rules_json));
	else
		nulls[L_RULES] = true;
	pending_ddl = lappend(pending_ddl, p);
	MemoryContextSwitchTo(old);
}

/*
 * Write the ddl_log rows kept so far (before COMMIT, and before anything
 * reads a migration's rows).  Kept until then so that the transaction holds
 * no lock on ddl_log while its statements run: core's own views of a
 * transaction's locks (pg_locks) show what core takes, nothing of ours.
 */
void
sg_ddl_log_flush(void)
{
	Relation	rel;
	ListCell   *lc;

	if (pending_ddl == NIL)
		return;
	rel = sg_rows_open(log_table(), ddl_log_types, L_NATTS, RowExclusiveLock, true);
	if (rel != NULL)
	{
		foreach(lc, pending_ddl)
		{
			PendingDdl *p = lfirst(lc);

			p->values[L_ID] = Int64GetDatum(sg_rows_next_id(rel));
			sg_rows_insert(rel, p->values, p->nulls);
		}
		table_close(rel, NoLock);
	}
	pending_ddl = NIL;
}

/* The pending rows go with their (sub)transaction (rows.c's registry). */
void
sg_ddl_log_init(void)
{
	sg_register_xact_list(&pending_ddl, offsetof(PendingDdl, subid));
}
