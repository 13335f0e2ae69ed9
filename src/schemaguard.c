/*-------------------------------------------------------------------------
 *
 * schemaguard.c
 *		Module entry point: load-context checks, GUCs, hook installation,
 *		and status().
 *
 * schemaguard must be loaded through shared_preload_libraries: only then is
 * every session of every database guarded.  A library loaded later (by
 * CREATE EXTENSION or a function call) still guards the session that loaded
 * it, and the install script warns that other sessions are not guarded.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "compat.h"
#include "citus.h"
#include "schemaguard.h"

SG_MODULE_MAGIC;

/* GUC variables */
int			sg_mode = SG_MODE_ENFORCE;
int			sg_default_lock_timeout = 0;
int			sg_small_table_kb = 1024;
bool		sg_honor_ignore_comments = true;
bool		sg_hint_in_message = false;

/* Was the library loaded by shared_preload_libraries? */
bool		sg_preloaded = false;

static const struct config_enum_entry mode_options[] = {
	{"enforce", SG_MODE_ENFORCE, false},
	{"warn", SG_MODE_WARN, false},
	{"off", SG_MODE_OFF, false},
	{NULL, 0, false}
};

void		_PG_init(void);

PG_FUNCTION_INFO_V1(sg_status);

/*
 * Module load callback.
 */
void
_PG_init(void)
{
	/* Load context: remember it; status() and the install script report it. */
	sg_preloaded = process_shared_preload_libraries_in_progress;

	/*
	 * Every GUC of schemaguard, defined here; the variables and their check
	 * and assign hooks live with the code that reads them.
	 */
	DefineCustomEnumVariable("schemaguard.mode",
							 "How schemaguard treats rule violations.",
							 "enforce refuses error-level violations; warn reports every "
							 "violation as a WARNING and lets the statement run; off "
							 "disables the DDL guard.",
							 &sg_mode,
							 SG_MODE_ENFORCE,
							 mode_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/*
	 * A server-start setting can only be defined while the server loads
	 * shared_preload_libraries (core refuses it later, FATAL); without
	 * preloading there is no usage table to size.
	 */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("schemaguard.staged_max_tracked",
								"How many staged objects, across databases, usage is tracked for.",
								"The usage table lives in shared memory. When it is full, a use that "
								"cannot be recorded counts as a use of every staged object (fail closed).",
								&sg_staged_max_tracked,
								1024, 1, 1000000,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);

	DefineCustomIntVariable("schemaguard.default_lock_timeout",
							"lock_timeout applied to strongly locking DDL when lock_timeout is 0.",
							"When set, a statement that rule require-lock-timeout would refuse runs "
							"under this lock_timeout instead, and the previous value is restored "
							"afterwards. 0 disables it.",
							&sg_default_lock_timeout,
							0, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("schemaguard.lock_retry",
							 "Whether a statement whose strong lock is busy waits in short slices and retries.",
							 "With lock_timeout 0, a statement that needs a SHARE or stronger lock "
							 "another session is in the way of waits for it in the queue for at most "
							 "schemaguard.lock_wait_slice, leaves the queue, sleeps with backoff and "
							 "tries again, for up to schemaguard.lock_retry_budget; off refuses it at once.",
							 &sg_lock_retry,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("schemaguard.lock_wait_slice",
							"How long one lock retry waits in the lock queue.",
							"The queries that arrive while it waits queue behind it, so this is "
							"the longest a retry delays them.",
							&sg_lock_wait_slice,
							50, 1, 60000,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("schemaguard.lock_retry_budget",
							"How long lock retries go on before the statement is refused.",
							NULL,
							&sg_lock_retry_budget,
							30000, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("schemaguard.small_table_size",
							"Tables up to this size are too small for a scan, rewrite or index build under lock to matter.",
							"Rules about work core does through the table while it holds the lock "
							"(index builds, constraint scans, rewrites) pass a table this small, by "
							"its real size (1MB by default: at most a few tens of milliseconds of "
							"such work). 0: every table that holds a row counts.",
							&sg_small_table_kb,
							1024, 0, INT_MAX / 1024,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("schemaguard.predictions",
							 "Developer option: whether the rules judge statements at all.",
							 "Off, no rule judges a statement from its parse tree, so that the tests can "
							 "show rule unpredicted-rewrite catching every rewrite and index build as core "
							 "starts it. Not for production.",
							 &sg_predictions,
							 true,
							 PGC_SUSET,
							 GUC_NOT_IN_SAMPLE,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("schemaguard.lint_lock_retries",
							 "Whether lint() lints for a server that retries busy locks.",
							 "On: the migrations go to a server running schemaguard with "
							 "schemaguard.lock_retry on, which waits for a busy lock in short slices "
							 "instead of queueing, so lint() does not report require-lock-timeout.",
							 &sg_lint_lock_retries,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("schemaguard.lint_real_sizes",
							 "Whether lint() names the tables' sizes in this database.",
							 "Off: with assume_populated, lint() says every existing table is assumed "
							 "to hold data, as schemaguard-lint's throwaway server does, where the "
							 "sizes are those of the rows the history seeded.",
							 &sg_lint_real_sizes,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("schemaguard.honor_ignore_comments",
							 "Whether schemaguard:ignore comments suppress rules.",
							 "When off, only schemaguard.allow() lets a refused statement through.",
							 &sg_honor_ignore_comments,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("schemaguard.hint_in_message",
							 "Repeats a refusal's detail and hint in its message.",
							 "For clients that print only the error message (dbmate and other "
							 "Go programs on lib/pq, for example); they are sent as DETAIL and "
							 "HINT as well.",
							 &sg_hint_in_message,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	/* tenant context (tenant.c) */
	DefineCustomStringVariable("schemaguard.tenant",
							   "The tenant of the current transaction or session (read-only).",
							   "Set it with schemaguard.set_tenant() or set_tenant_session(); "
							   "SET cannot change it.",
							   &sg_tenant_value,
							   "",
							   PGC_SUSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							   sg_check_tenant, NULL, NULL);

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
							   sg_check_tenant_columns, sg_assign_tenant_columns, NULL);

	DefineCustomStringVariable("schemaguard.tenant_key",
							   "The key that signs tenants for the other nodes of a Citus cluster.",
							   "At least 32 bytes, the same on every node; empty: set_tenant() "
							   "does not sign, and workers see no tenant (no rows).",
							   &sg_tenant_key,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   sg_check_tenant_key, NULL, NULL);

	DefineCustomStringVariable("schemaguard.tenant_token",
							   "The signed tenant of the current transaction, from the coordinator.",
							   "Set by schemaguard.set_tenant() on a Citus coordinator and sent by "
							   "Citus to the workers; only a token signed with "
							   "schemaguard.tenant_key is accepted.",
							   &sg_tenant_token,
							   "",
							   PGC_USERSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							   sg_check_tenant_token, sg_assign_tenant_token, NULL);

	DefineCustomIntVariable("schemaguard.tenant_token_lifetime",
							"How long a signed tenant stays valid on the other nodes.",
							"Counted from set_tenant() to the start of the transaction "
							"that reads it on a worker.",
							&sg_tenant_token_lifetime,
							3600, 1, 7 * 24 * 3600,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);


	/* staged drops (staged_usage.c) */
	DefineCustomStringVariable("schemaguard.drop_delay",
							   "How long a staged table or column must go unused before it may be dropped.",
							   "Rule staged-drop refuses a drop until this long after staging, "
							   "and until no use was recorded for this long.",
							   &sg_drop_delay_string,
							   "0",
							   PGC_SUSET,
							   0,
							   sg_check_drop_delay, sg_assign_drop_delay, NULL);


	/* migrations (migrations.c) */
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

	sg_tenant_init();
	sg_staged_init();
	sg_migrations_init();
	sg_audit_init();

	MarkGUCPrefixReserved("schemaguard");

	/* The rule catalog, in the order rules() lists it. */
	sg_register_rules(sg_lock_rules);
	sg_register_rules(sg_index_rules);
	sg_register_rules(sg_constraint_rules);
	sg_register_rules(sg_column_rules);
	sg_register_rules(sg_rewrite_rules);
	sg_register_rules(sg_destroy_rules);
	sg_register_rules(sg_staged_rules);
	sg_register_rules(sg_tenant_rules);
	sg_register_rules(sg_advice_rules);
	sg_register_rules(sg_migration_rules);
	sg_register_rules(sg_style_rules);

	/* Install hooks. */
	sg_engine_init();
	sg_hooks_install();
	sg_citus_init();
}

/*
 * status(): is the library preloaded, is the guard active in this database,
 * the mode, and the library and extension versions.
 */
Datum
sg_status(PG_FUNCTION_ARGS)
{
	int			spi_level;
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	bool		installed = sg_extension_installed();
	char	   *extversion = NULL;
	MemoryContext caller = CurrentMemoryContext;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	spi_level = sg_spi_connect();
	if (SPI_execute("SELECT extversion FROM pg_catalog.pg_extension "
					"WHERE extname = 'schemaguard'", true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
		extversion = MemoryContextStrdup(caller,
										 SPI_getvalue(SPI_tuptable->vals[0],
													  SPI_tuptable->tupdesc, 1));
	sg_spi_finish(spi_level);

	if (extversion)
		values[4] = CStringGetTextDatum(extversion);
	else
		nulls[4] = true;
	values[0] = BoolGetDatum(sg_preloaded);
	values[1] = BoolGetDatum(installed && sg_mode != SG_MODE_OFF);
	values[2] = CStringGetTextDatum(GetConfigOption("schemaguard.mode", false, false));
	values[3] = CStringGetTextDatum(SG_VERSION);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
