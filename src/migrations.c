/*-------------------------------------------------------------------------
 *
 * migrations.c
 *		Migration history: which migration this session or transaction runs,
 *		finishing a transactional migration at COMMIT, and ddl_log.
 *
 * begin_migration() and the rest are PL/pgSQL in the install script; this
 * file keeps the state they cannot: the current migration (per session for
 * a migration begun outside a transaction block, per transaction inside
 * one), and writes ddl_log for every DDL statement the hook sees.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "nodes/makefuncs.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "catalog/pg_namespace.h"
#include "access/htup_details.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/snapmgr.h"

#include "schemaguard.h"

int			sg_migration_lock_timeout = 10000;
bool		sg_record_ddl = true;

static int64 current_migration = 0;	/* 0: none */
static bool current_transactional = false;
static SubTransactionId current_subid = InvalidSubTransactionId;

PG_FUNCTION_INFO_V1(sg_in_transaction_block);
PG_FUNCTION_INFO_V1(sg_backend_start);
PG_FUNCTION_INFO_V1(sg_lock_history);
PG_FUNCTION_INFO_V1(sg_history_protect);
PG_FUNCTION_INFO_V1(sg_set_migration);
PG_FUNCTION_INFO_V1(sg_current_migration);

void
sg_migrations_init(void)
{
	DefineCustomIntVariable("schemaguard.migration_lock_timeout",
							"How long begin_migration() waits for a migration in progress.",
							NULL,
							&sg_migration_lock_timeout,
							10000, 1, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("schemaguard.record_ddl",
							 "Whether DDL statements are written to schemaguard.ddl_log.",
							 "Turn it off only to restore a dump, whose own DDL is not history.",
							 &sg_record_ddl,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
}

/* When this backend started: with its pid, what identifies a session. */
Datum
sg_backend_start(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(MyStartTimestamp);
}

Datum
sg_in_transaction_block(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(IsTransactionBlock());
}

/* _set_migration(id, transactional); id NULL clears it. */
Datum
sg_set_migration(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
	{
		current_migration = 0;
		PG_RETURN_VOID();
	}
	current_migration = PG_GETARG_INT64(0);
	current_transactional = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	current_subid = GetCurrentSubTransactionId();
	PG_RETURN_VOID();
}

Datum
sg_current_migration(PG_FUNCTION_ARGS)
{
	if (current_migration == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(current_migration);
}

/*
 * Run one of the history writers as the owner of schema schemaguard (the
 * extension's owner): they are revoked from PUBLIC, so that no role can
 * forge history by calling them.
 */
static void
run_as_owner(const char *sql, int nargs, Oid *argtypes, Datum *args, const char *nulls)
{
	Oid			nsp = get_namespace_oid(SG_SCHEMA, false);
	HeapTuple	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	Oid			owner;
	Oid			save_userid;
	int			save_sec;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for namespace %u", nsp);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		SPI_connect();
		if (SPI_execute_with_args(sql, nargs, argtypes, args, nulls, false, 0) < 0)
			elog(ERROR, "schemaguard: could not run \"%s\"", sql);
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_END_TRY();
}

/* Is the migration history installed (version 1.3 or later) here? */
static bool
history_installed(void)
{
	Oid			nsp = get_namespace_oid(SG_SCHEMA, true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("ddl_log", nsp));
}

/* Before COMMIT: a transactional migration is applied with its DDL. */
void
sg_migrations_pre_commit(void)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1];

	if (current_migration == 0 || !current_transactional)
		return;
	args[0] = Int64GetDatum(current_migration);
	current_migration = 0;
	if (!history_installed())
		return;
	/* Pre-commit runs outside any portal: give SPI a snapshot. */
	PushActiveSnapshot(GetTransactionSnapshot());
	run_as_owner("SELECT schemaguard._finish_migration($1)", 1, argtypes, args, NULL);
	PopActiveSnapshot();
}

/* Transaction end: a transactional migration ends with it. */
void
sg_migrations_xact_end(bool committed)
{
	if (current_migration != 0 && current_transactional)
	{
		if (!committed)
			ereport(LOG,
					(errmsg("schemaguard: migration %lld rolled back with its transaction; no history row was kept",
							(long long) current_migration)));
		current_migration = 0;
	}
}

/* Subtransaction abort: a begin_migration() inside it is undone. */
void
sg_migrations_subxact_abort(SubTransactionId subid)
{
	if (current_migration != 0 && current_subid == subid)
		current_migration = 0;
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
			rv = ((IndexStmt *) parsetree)->relation;
			if (((IndexStmt *) parsetree)->idxname)
			{
				RangeVar   *idx = makeRangeVar(rv->schemaname, ((IndexStmt *) parsetree)->idxname, -1);
				Oid			relid = RangeVarGetRelid(rv, NoLock, true);

				if (OidIsValid(relid))
					idx->schemaname = get_namespace_name(get_rel_namespace(relid));
				rv = idx;
			}
			break;
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
 * After a DDL statement succeeded: one ddl_log row, attached to the current
 * migration, with what the rules said.
 */
void
sg_migrations_log_ddl(Node *parsetree, const char *sql, const char *rules_json)
{
	Oid			argtypes[6] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, INT8OID};
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	char	   *object;

	if (!sg_record_ddl || creating_extension || IsBinaryUpgrade ||
		GetCommandLogLevel(parsetree) != LOGSTMT_DDL)
		return;
	if (!history_installed())
		return;
	object = statement_object(parsetree);
	args[0] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	args[1] = CStringGetTextDatum(GetCommandTagName(CreateCommandTag(parsetree)));
	if (object)
		args[2] = CStringGetTextDatum(object);
	else
		nulls[2] = 'n';
	args[3] = CStringGetTextDatum(sql);
	if (rules_json)
		args[4] = DirectFunctionCall1(jsonb_in, CStringGetDatum(rules_json));
	else
		nulls[4] = 'n';
	if (current_migration != 0)
		args[5] = Int64GetDatum(current_migration);
	else
		nulls[5] = 'n';
	run_as_owner("INSERT INTO schemaguard.ddl_log (role, application_name, migration_id, command_tag, "
				 "object_identity, statement, rules) VALUES ($1, nullif(pg_catalog.current_setting("
				 "'application_name'), ''), $6, $2, $3, $4, $5)", 6, argtypes, args, nulls);
}

/* Is a migration (of this session or transaction) recording statements? */
bool
sg_migration_running(void)
{
	return current_migration != 0;
}

/* ddl-outside-migration: any DDL while no migration runs. */
void
sg_check_ddl_outside_migration(const SgStatement *st, const SgRule *rule, List **findings)
{
	const char *tag;

	if (st->facts->in_migration(st->facts))
		return;
	tag = GetCommandTagName(CreateCommandTag(st->parsetree));
	sg_add_finding(findings, rule,
				   psprintf("%s outside a migration violates rule %s", tag, rule->id),
				   pstrdup("This database requires every DDL statement to run inside a migration, so that "
						   "the migration history records it."),
				   psprintf("Run it inside one: BEGIN; SELECT schemaguard.begin_migration('<version>'); %s; COMMIT;",
							sg_statement_trimmed(st->sql)));
}

/*
 * _lock_history(): SHARE ROW EXCLUSIVE on migration_history for the rest of
 * the transaction if it is free now; false if another transaction holds it
 * (begin_migration() then waits for it with LOCK TABLE and lock_timeout).
 */
Datum
sg_lock_history(PG_FUNCTION_ARGS)
{
	Oid			nsp = get_namespace_oid(SG_SCHEMA, false);

	PG_RETURN_BOOL(ConditionalLockRelationOid(get_relname_relid("migration_history", nsp),
											  ShareRowExclusiveLock));
}

/*
 * Statement trigger on the history tables: append-only for everyone but
 * superusers (and so the SECURITY DEFINER writers a superuser owns).
 */
Datum
sg_history_protect(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function must be called as a trigger")));
	if (superuser())
		return PointerGetDatum(NULL);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("schemaguard.%s is append-only", RelationGetRelationName(td->tg_relation)),
			 errdetail("%s is refused for every role but superusers, the table owner included.",
					   TRIGGER_FIRED_BY_INSERT(td->tg_event) ? "INSERT" :
					   TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? "UPDATE" :
					   TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "DELETE" : "TRUNCATE"),
			 errhint("Correct history with schemaguard.resolve_migration(); it appends an event.")));
	return PointerGetDatum(NULL);
}
