/*-------------------------------------------------------------------------
 *
 * hooks.c
 *		Every hook entry point of schemaguard, in one dispatcher: the
 *		ProcessUtility hook, the ExecutorStart hook (usage of staged
 *		objects), the shared memory hooks, and the transaction callbacks.
 *
 * The ProcessUtility hook sees each utility statement once, whether it came
 * from a simple query, the extended protocol, PL/pgSQL, a DO block or a SQL
 * function, and one statement at a time for multi-statement strings.  It
 * returns early (costing no catalog access) unless the statement is of a
 * kind some rule examines; only then does it ask whether the extension is
 * installed in this database.  Violations are reported before the statement
 * is chained on, so a refused statement never starts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "storage/ipc.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "storage/proc.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "compat.h"
#include "schemaguard.h"

/* Saved hook values */
static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Should this statement be checked at all?  Cheapest tests first. */
static bool
should_check(Node *parsetree, ProcessUtilityContext context)
{
	if (sg_mode == SG_MODE_OFF)
		return false;
	if (IsBinaryUpgrade || creating_extension)
		return false;
	/* Parts of a statement that was itself checked as a whole. */
	if (context == PROCESS_UTILITY_SUBCOMMAND)
		return false;
	if (!IsTransactionState())
		return false;
	if (!sg_statement_checked(parsetree))
		return false;
	return sg_extension_installed();
}

/* The statement's own slice of a (possibly multi-statement) query string. */
static char *
statement_text(const char *queryString, int location, int len)
{
	if (queryString == NULL)
		return pstrdup("");
	if (location < 0)
		return pstrdup(queryString);
	if (len <= 0)
		return pstrdup(queryString + location);
	return pnstrdup(queryString + location, len);
}

/*
 * Add schemaguard's hint to core's "cannot run inside a transaction block"
 * error for a CONCURRENTLY statement, keeping everything else of core's.
 * Called in PG_CATCH; always rethrows.
 */
static void
rethrow_with_hint(MemoryContext cxt, const char *command)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	if (edata->sqlerrcode != ERRCODE_ACTIVE_SQL_TRANSACTION || edata->hint != NULL)
		PG_RE_THROW();
	FlushErrorState();
	edata->hint = pstrdup(sg_no_xact_hint(command));
	ReThrowError(edata);
}

/* Set lock_timeout for the session, as SET would. */
static void
set_lock_timeout(const char *value)
{
	(void) set_config_option("lock_timeout", value, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SET, true, 0, false);
}

/* The one path to the next ProcessUtility: every argument unchanged. */
static void
call_next(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
		  ProcessUtilityContext context, ParamListInfo params,
		  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
							params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/*
 * ProcessUtility hook: check the statement against the rules, then chain.
 * The parse tree is only read, never modified (readOnlyTree or not).
 */
static void
sg_ProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				  ProcessUtilityContext context, ParamListInfo params,
				  QueryEnvironment *queryEnv, DestReceiver *dest,
				  QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	const char *volatile concurrent_command = NULL;
	char	   *volatile saved_timeout = NULL;
	SgVerdict	verdict = {NIL, NIL};
	MemoryContext cxt = CurrentMemoryContext;

	if (!should_check(parsetree, context))
	{
		call_next(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
		/* ddl_log: every DDL statement, checked or not (not its sub-commands). */
		if (context != PROCESS_UTILITY_SUBCOMMAND && IsTransactionState())
			sg_migrations_log_ddl(parsetree,
								  statement_text(queryString, pstmt->stmt_location, pstmt->stmt_len),
								  NULL);
		return;
	}

	/*
	 * schemaguard.default_lock_timeout: the statement, and our own lookups,
	 * run under it when lock_timeout is 0.  Restored afterwards.
	 */
	if (sg_default_lock_timeout > 0 && LockTimeout == 0 &&
		sg_lock_timeout_applies(parsetree))
	{
		saved_timeout = pstrdup(GetConfigOption("lock_timeout", false, false));
		set_lock_timeout(psprintf("%d", sg_default_lock_timeout));
	}

	PG_TRY();
	{
		SgStatement st;

		st.parsetree = parsetree;
		st.sql = statement_text(queryString, pstmt->stmt_location, pstmt->stmt_len);
		st.location_base = Max(pstmt->stmt_location, 0);
		if (queryString)
		{
			int			from = sg_comments_start(queryString, st.location_base);

			st.leading = pnstrdup(queryString + from, st.location_base - from);
		}
		else
			st.leading = NULL;
		st.lock_timeout_ms = saved_timeout ? 0 : LockTimeout;
		st.facts = sg_live_fact_source();
		verdict = sg_evaluate(&st, true);
		sg_report(&st, verdict);

		concurrent_command = sg_index_concurrent_command(parsetree);
		call_next(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
		sg_defer_findings(verdict.findings);
		sg_staged_after_statement(parsetree);
		if (IsTransactionState())
			sg_migrations_log_ddl(parsetree, st.sql, sg_verdict_json(verdict));
	}
	PG_CATCH();
	{
		if (saved_timeout)
			set_lock_timeout(saved_timeout);
		/* A CONCURRENTLY statement that core refused: add how to split. */
		if (concurrent_command)
			rethrow_with_hint(cxt, concurrent_command);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (saved_timeout)
		set_lock_timeout(saved_timeout);
}

/*
 * Transaction end: deferred findings are judged before commit (and may make
 * it fail); afterwards per-transaction state goes, never raising.
 */
static void
sg_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			sg_engine_pre_commit();
			sg_migrations_pre_commit();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			sg_engine_xact_end();
			sg_migrations_xact_end(true);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			sg_engine_xact_end();
			sg_migrations_xact_end(false);
			break;
		default:
			break;
	}
}

/* Subtransaction end: undo what an aborted one granted; hand up the rest. */
static void
sg_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		sg_engine_subxact_abort(mySubid);
		sg_migrations_subxact_abort(mySubid);
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		sg_engine_subxact_commit(mySubid, parentSubid);
		sg_migrations_subxact_commit(mySubid, parentSubid);
	}
}

/* ExecutorStart hook: record uses of staged objects, then chain. */
static void
sg_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	sg_staged_note_query(queryDesc, eflags);
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/* Shared memory for the usage counters (preloaded only). */
static void
sg_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	sg_staged_shmem_request();
}

static void
sg_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	sg_staged_shmem_startup();
}

/* Install every hook; called once from _PG_init. */
void
sg_hooks_install(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = sg_ProcessUtility;
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = sg_ExecutorStart;
	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = sg_shmem_request;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = sg_shmem_startup;
	}

	RegisterXactCallback(sg_xact_callback, NULL);
	RegisterSubXactCallback(sg_subxact_callback, NULL);
}
