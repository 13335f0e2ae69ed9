/*-------------------------------------------------------------------------
 *
 * migrations.c
 *		Migration history: begin_migration(), end_migration(),
 *		resolve_migration(), finishing a transactional migration at COMMIT,
 *		and ddl_log for every DDL statement.
 *
 * A migration begun inside a transaction block is transactional: it holds
 * a SHARE ROW EXCLUSIVE lock on migration_history until COMMIT, and its
 * history row is written at PRE_COMMIT, so that it commits (or vanishes)
 * with its DDL.  One begun outside a block is session-scoped: its 'running'
 * row commits at once, names its session (pid and backend start), and
 * end_migration() marks it applied; a session that ends first leaves it
 * 'interrupted' (derived by the view, no cleanup needed).
 *
 * The history tables are written directly (rows.c), not through SQL: this
 * runs for every migration and every DDL statement, and the tables'
 * triggers refuse writes through SQL to everyone but superusers.
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
#include "history.h"

/* Longest version, checksum; name and note (bytes). */
#define MAX_VERSION_LEN		200
#define MAX_CHECKSUM_LEN	200
#define MAX_NOTE_LEN		1000
/* last_statement keeps this many characters */
#define LAST_STATEMENT_CHARS 1000


/*
 * The migration this session (session-scoped) or transaction (transactional)
 * runs; 0 for none.  A transactional migration's row is written at COMMIT,
 * from pending_row (kept in TopMemoryContext until then).
 */
static int64 current_migration = 0;
static bool current_transactional = false;
static SubTransactionId current_subid = InvalidSubTransactionId;
static bool current_begun_in_xact = false;	/* begun by the transaction in progress */
static HistRow *pending_row = NULL;
static bool history_locked = false;	/* this transaction holds the runners' lock */
static char current_version[MAX_VERSION_LEN + 1];

PG_FUNCTION_INFO_V1(sg_begin_migration);
PG_FUNCTION_INFO_V1(sg_end_migration);
PG_FUNCTION_INFO_V1(sg_resolve_migration);
PG_FUNCTION_INFO_V1(sg_current_migration);

static bool migration_running(void);

void
sg_migrations_init(void)
{
	sg_register_migration_reader(migration_running);
	sg_ddl_log_init();
}

Datum
sg_current_migration(PG_FUNCTION_ARGS)
{
	if (current_migration == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(current_migration);
}

/*
 * Mark migration mid applied: finished now, its statement count and last
 * statement from ddl_log, chained to the last applied one.  A transactional
 * migration's row is written here for the first time.
 */
static void
finish_migration(int64 mid, bool with_event)
{
	Relation	rel = sg_history_open();
	HistRow		row;
	HistRow		prev;
	bool		have_prev;
	char	   *last = NULL;
	char	   *version;
	int			count;

	if (pending_row && mid == current_migration)
		row = *pending_row;
	else if (!sg_history_by_id(rel, mid, &row))
	{
		/* its row was rolled back with a savepoint */
		table_close(rel, NoLock);
		return;
	}
	have_prev = sg_history_last_applied(rel, mid, &prev);
	count = sg_ddl_log_count(mid, &last);
	version = sg_history_text(&row, H_VERSION);

	row.values[H_STATUS] = CStringGetTextDatum("applied");
	row.values[H_FINISHED_AT] = TimestampTzGetDatum(GetCurrentTimestamp());
	row.nulls[H_FINISHED_AT] = false;
	row.nulls[H_HOLDER_PID] = true;
	row.values[H_STATEMENT_COUNT] = Int32GetDatum(count);
	row.nulls[H_STATEMENT_COUNT] = false;
	row.values[H_LAST_STATEMENT] = sg_text_datum_or_null(last, &row.nulls[H_LAST_STATEMENT]);
	row.values[H_PREV_CHECKSUM] = sg_text_datum_or_null(have_prev ? sg_history_text(&prev, H_CHECKSUM) : NULL,
													 &row.nulls[H_PREV_CHECKSUM]);
	row.values[H_CHAIN] = CStringGetTextDatum(sg_history_chain(have_prev ? sg_history_text(&prev, H_CHAIN) : NULL,
														  &row));
	row.nulls[H_CHAIN] = false;
	sg_history_write(rel, &row);
	/*
	 * A transactional migration's row commits with its DDL, started_at and
	 * finished_at in it: no event adds to that.  A session-scoped one logged
	 * 'started' and now logs 'applied'.
	 */
	if (with_event && !DatumGetBool(row.values[H_TRANSACTIONAL]))
		sg_history_log_event(mid, version, "applied", NULL);
	table_close(rel, NoLock);
}

static void
clear_current(void)
{
	current_migration = 0;
	current_transactional = false;
	current_begun_in_xact = false;
	if (pending_row)
	{
		for (int i = 0; i < H_NATTS; i++)
			if (!pending_row->nulls[i] && sg_history_types[i] == TEXTOID)
				pfree(DatumGetPointer(pending_row->values[i]));
		pfree(pending_row);
		pending_row = NULL;
	}
}

/* ---- the SQL functions ---- */

static bool
is_blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

/* Text argument argno, NULL when NULL and not required; at most maxlen bytes. */
static char *
checked_text_arg(FunctionCallInfo fcinfo, int argno, const char *what, int maxlen, bool required)
{
	char	   *s;

	if (PG_ARGISNULL(argno))
	{
		if (required)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be NULL", what)));
		return NULL;
	}
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (required && is_blank(s))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what)));
	if (strlen(s) > maxlen)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("%s is too long", what),
				 errdetail("It is %zu bytes; the limit is %d.", strlen(s), maxlen)));
	return s;
}

/*
 * begin_migration(version, name, checksum): start recording a migration.
 * Refuses while another runs (after migration_lock_timeout: SG030), while
 * one is interrupted (SG031), for a version applied already (SG020) or
 * applied with another checksum (SG021).
 */
Datum
sg_begin_migration(PG_FUNCTION_ARGS)
{
	char	   *version = checked_text_arg(fcinfo, 0, "migration version", MAX_VERSION_LEN, true);
	char	   *name = checked_text_arg(fcinfo, 1, "migration name", MAX_NOTE_LEN, false);
	char	   *checksum = checked_text_arg(fcinfo, 2, "migration checksum", MAX_CHECKSUM_LEN, false);
	bool		in_block = IsTransactionBlock();
	TimestampTz deadline;
	Oid			relid;
	Relation	rel;
	HistRow		row;
	int64		id;

	if (current_migration != 0)
	{
		/*
		 * A runner that applies several migrations in one transaction: the
		 * previous one is complete (it commits, or rolls back, with them).
		 */
		if (!(in_block && current_transactional))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("a migration is already running in this session"),
					 errhint("Call schemaguard.end_migration() first.")));
		finish_migration(current_migration, true);
		clear_current();
	}

	/*
	 * One runner at a time: the history lock (a transactional migration
	 * holds it to COMMIT), then no session-scoped migration running.  While
	 * one runs, poll without the lock, so that its end_migration() can
	 * write; up to deadline.
	 */
	relid = sg_rows_relid("migration_history", false);
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), sg_migration_lock_timeout);
	for (;;)
	{
		bool		held = history_locked;
		char	   *rversion;

		sg_history_lock(relid, deadline);
		history_locked = true;
		rel = sg_history_open();
		if (!sg_history_running(rel, &row))
			break;
		rversion = sg_history_text(&row, H_VERSION);
		if (!sg_history_session_alive(DatumGetInt32(row.values[H_HOLDER_PID]),
						   DatumGetTimestampTz(row.values[H_HOLDER_START])))
		{
			char	   *last;

			(void) sg_ddl_log_count(DatumGetInt64(row.values[H_ID]), &last);
			ereport(ERROR,
					(errcode(ERRCODE_SG_MIGRATION_INTERRUPTED),
					 errmsg("migration %s was interrupted", rversion),
					 errdetail("Its session ended before end_migration(). Its last completed statement was: %s",
							   last ? last : "(none)"),
					 errhint("Check the database, then call SELECT schemaguard.resolve_migration(%s, "
							 "'applied' or 'rolled_back', 'what you checked');",
							 quote_literal_cstr(rversion))));
		}
		if (GetCurrentTimestamp() >= deadline)
			ereport(ERROR,
					(errcode(ERRCODE_SG_MIGRATION_IN_PROGRESS),
					 errmsg("migration %s is in progress in another session", rversion),
					 errdetail("Held by pid %d, role %s, application_name %s, since %s.",
							   DatumGetInt32(row.values[H_HOLDER_PID]),
							   sg_history_text(&row, H_APPLIED_BY),
							   row.nulls[H_APPLICATION_NAME] ? "" : sg_history_text(&row, H_APPLICATION_NAME),
							   sg_timestamp_text(DatumGetTimestampTz(row.values[H_STARTED_AT]))),
					 errhint("Wait for it, or raise schemaguard.migration_lock_timeout.")));
		table_close(rel, NoLock);
		if (!held)
		{
			UnlockRelationOid(relid, ShareRowExclusiveLock);
			history_locked = false;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 100,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}

	if (sg_history_by_version(rel, version, &row))
	{
		char	   *recorded = sg_history_text(&row, H_CHECKSUM);
		char	   *status = sg_history_text(&row, H_STATUS);

		if (strcmp(status, "applied") == 0)
		{
			if ((recorded == NULL) == (checksum == NULL) &&
				(recorded == NULL || strcmp(recorded, checksum) == 0))
				ereport(ERROR,
						(errcode(ERRCODE_SG_MIGRATION_APPLIED),
						 errmsg("migration %s is already applied", version),
						 errdetail("Applied at %s by %s.",
								   sg_timestamp_text(DatumGetTimestampTz(row.values[H_FINISHED_AT])),
								   sg_history_text(&row, H_APPLIED_BY))));
			ereport(ERROR,
					(errcode(ERRCODE_SG_MIGRATION_CHECKSUM),
					 errmsg("migration %s was applied with a different checksum", version),
					 errdetail("Recorded checksum: %s; this one: %s.",
							   recorded ? recorded : "(none)", checksum ? checksum : "(none)")));
		}
		/* rolled back earlier: it starts again under the same version */
		sg_rows_delete(rel, &row.tid);
	}

	id = sg_rows_next_id(rel);
	memset(row.nulls, true, sizeof(row.nulls));
	ItemPointerSetInvalid(&row.tid);
	row.values[H_ID] = Int64GetDatum(id);
	row.values[H_VERSION] = CStringGetTextDatum(version);
	row.values[H_NAME] = sg_text_datum_or_null(name, &row.nulls[H_NAME]);
	row.values[H_CHECKSUM] = sg_text_datum_or_null(checksum, &row.nulls[H_CHECKSUM]);
	row.values[H_STATUS] = CStringGetTextDatum("running");
	row.values[H_TRANSACTIONAL] = BoolGetDatum(in_block);
	row.values[H_APPLIED_BY] = CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false));
	row.values[H_APPLICATION_NAME] = sg_text_datum_or_null(application_name && application_name[0] ? application_name : NULL,
														&row.nulls[H_APPLICATION_NAME]);
	row.values[H_HOLDER_PID] = Int32GetDatum(MyProcPid);
	row.values[H_HOLDER_START] = TimestampTzGetDatum(MyStartTimestamp);
	row.values[H_STARTED_AT] = TimestampTzGetDatum(GetCurrentTimestamp());
	row.values[H_STATEMENT_COUNT] = Int32GetDatum(0);
	for (int i = H_ID; i <= H_STATEMENT_COUNT; i++)
		if (i != H_NAME && i != H_CHECKSUM && i != H_APPLICATION_NAME && i != H_FINISHED_AT)
			row.nulls[i] = false;

	if (in_block)
	{
		/* written at COMMIT, with its DDL; copied out of this call's memory */
		pending_row = MemoryContextAlloc(TopMemoryContext, sizeof(HistRow));
		*pending_row = row;
		sg_history_copy_texts(pending_row, TopMemoryContext);
	}
	else
	{
		/* session-scoped: running from now on, for everyone to see */
		sg_rows_insert(rel, row.values, row.nulls);
		sg_history_log_event(id, version, "started", NULL);
	}
	table_close(rel, NoLock);

	current_migration = id;
	strlcpy(current_version, version, sizeof(current_version));
	current_transactional = in_block;
	current_subid = GetCurrentSubTransactionId();
	current_begun_in_xact = true;
	PG_RETURN_INT64(id);
}

/* end_migration(): the current migration is applied. */
Datum
sg_end_migration(PG_FUNCTION_ARGS)
{
	if (current_migration == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no migration is running in this session"),
				 errhint("Call schemaguard.begin_migration(version) first.")));
	finish_migration(current_migration, true);
	clear_current();
	PG_RETURN_VOID();
}

/*
 * resolve_migration(version, outcome, note): close an interrupted migration
 * as applied or rolled back.  Appends events; the history row changes
 * status, as a finished migration's does.
 */
Datum
sg_resolve_migration(PG_FUNCTION_ARGS)
{
	char	   *version = checked_text_arg(fcinfo, 0, "migration version", MAX_VERSION_LEN, true);
	char	   *outcome = checked_text_arg(fcinfo, 1, "outcome", 20, true);
	char	   *note;
	Relation	rel;
	HistRow		row;
	int64		mid;
	char	   *last;

	if (strcmp(outcome, "applied") != 0 && strcmp(outcome, "rolled_back") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("outcome must be 'applied' or 'rolled_back'")));
	note = checked_text_arg(fcinfo, 2, "note", MAX_NOTE_LEN, false);
	if (note == NULL || is_blank(note))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("resolve_migration() needs a note saying what was checked")));

	LockRelationOid(sg_rows_relid("migration_history", false), ShareRowExclusiveLock);
	history_locked = true;
	rel = sg_history_open();
	if (!sg_history_by_version(rel, version, &row) ||
		strcmp(sg_history_text(&row, H_STATUS), "running") != 0 ||
		sg_history_session_alive(DatumGetInt32(row.values[H_HOLDER_PID]),
					  DatumGetTimestampTz(row.values[H_HOLDER_START])))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("migration %s is not interrupted", version)));
	mid = DatumGetInt64(row.values[H_ID]);
	(void) sg_ddl_log_count(mid, &last);
	sg_history_log_event(mid, version, "interrupted",
			  psprintf("session %d ended before end_migration(); last statement: %s",
					   DatumGetInt32(row.values[H_HOLDER_PID]), last ? last : "(none)"));
	if (strcmp(outcome, "applied") == 0)
		finish_migration(mid, false);
	else
	{
		row.values[H_STATUS] = CStringGetTextDatum("rolled_back");
		row.values[H_FINISHED_AT] = TimestampTzGetDatum(GetCurrentTimestamp());
		row.nulls[H_FINISHED_AT] = false;
		row.nulls[H_HOLDER_PID] = true;
		sg_history_write(rel, &row);
	}
	sg_history_log_event(mid, version, psprintf("resolved %s", outcome), note);
	table_close(rel, NoLock);
	PG_RETURN_VOID();
}

/* ---- transaction boundaries ---- */

/* Before COMMIT: a transactional migration is applied with its DDL. */
void
sg_migrations_pre_commit(void)
{
	sg_ddl_log_flush();
	if (current_migration == 0 || !current_transactional)
		return;
	finish_migration(current_migration, true);
	clear_current();
}

/* Transaction end: a transactional migration ends with it. */
void
sg_migrations_xact_end(bool committed)
{
	history_locked = false;
	if (current_migration == 0)
		return;
	if (!committed && (current_transactional || current_begun_in_xact))
	{
		ereport(LOG,
				(errmsg("schemaguard: migration %s rolled back with its transaction; no history row was kept",
						current_version)));
		clear_current();
	}
	else if (current_transactional)
		clear_current();
	current_begun_in_xact = false;
}

/* Subtransaction abort: a begin_migration() inside it is undone. */
void
sg_migrations_subxact_abort(SubTransactionId subid)
{
	if (current_migration != 0 && current_subid == subid)
		clear_current();
}

/* Subtransaction commit: its begin_migration() now belongs to the parent. */
void
sg_migrations_subxact_commit(SubTransactionId subid, SubTransactionId parent)
{
	if (current_migration != 0 && current_subid == subid)
		current_subid = parent;
}

/* Is a migration (of this session or transaction) recording statements? */
static bool
migration_running(void)
{
	return current_migration != 0;
}

/*
 * After a DDL statement succeeded: its ddl_log row, attached to the current
 * migration (ddl_log.c keeps it until the transaction commits).
 */
void
sg_migrations_log_ddl(Node *parsetree, const char *sql, const char *rules_json)
{
	sg_ddl_log_add(parsetree, sql, rules_json, current_migration);
}
