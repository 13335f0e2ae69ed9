/*-------------------------------------------------------------------------
 *
 * history.c
 *		The migration history tables: migration_history rows (read, written,
 *		chained by checksum), migration_events, the runners' lock on the
 *		history and the liveness of the session that holds a migration, and
 *		the trigger that keeps the tables append-only.
 *
 * migrations.c holds the state of the migration in progress and the SQL
 * functions that move it; this file only reads and writes rows.
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

/* schemaguard.migration_lock_timeout: how long a runner waits for another */
int			sg_migration_lock_timeout = 10000;

const Oid	sg_history_types[H_NATTS] = {
	INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, BOOLOID, TEXTOID,
	TEXTOID, INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
	INT4OID, TEXTOID, TEXTOID, TEXTOID
};

static const Oid event_types[E_NATTS] = {
	INT8OID, INT8OID, TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID
};

PG_FUNCTION_INFO_V1(sg_session_alive);
PG_FUNCTION_INFO_V1(sg_history_protect);

/* ---- the history tables ---- */

Relation
sg_history_open(void)
{
	return sg_rows_open("migration_history", sg_history_types, H_NATTS, RowExclusiveLock, false);
}

/* Copy row's by-reference values into cxt. */
void
sg_history_copy_texts(HistRow *row, MemoryContext cxt)
{
	for (int i = 0; i < H_NATTS; i++)
		if (!row->nulls[i] && sg_history_types[i] == TEXTOID)
		{
			struct varlena *v = PG_DETOAST_DATUM_PACKED(row->values[i]);
			Size		len = VARSIZE_ANY(v);
			void	   *copy = MemoryContextAlloc(cxt, len);

			memcpy(copy, v, len);
			row->values[i] = PointerGetDatum(copy);
		}
}

char *
sg_history_text(const HistRow *row, int att)
{
	return row->nulls[att] ? NULL : TextDatumGetCString(row->values[att]);
}

/*
 * The first row of schemaguard.<indexname> (see sg_rows_scan), copied into
 * row; false when there is none.  skip_id: a row id to pass over; status:
 * the status the row must have, NULL for any.
 */
static bool
history_lookup(Relation rel, const char *indexname, AttrNumber keyatt, Oid keytype,
			   Datum key, bool backward, int64 skip_id, const char *status, HistRow *row)
{
	SgRowScan  *scan = sg_rows_scan(rel, indexname, keyatt, keytype, key, backward);
	HeapTuple	tup;
	bool		found = false;

	while ((tup = sg_rows_next(scan)) != NULL)
	{
		heap_deform_tuple(tup, RelationGetDescr(rel), row->values, row->nulls);
		if (DatumGetInt64(row->values[H_ID]) == skip_id)
			continue;
		if (status && strcmp(TextDatumGetCString(row->values[H_STATUS]), status) != 0)
			continue;
		/* the tuple goes with the scan: keep copies of the by-reference values */
		sg_history_copy_texts(row, CurrentMemoryContext);
		row->tid = tup->t_self;
		found = true;
		break;
	}
	sg_rows_end(scan);
	return found;
}

bool
sg_history_by_version(Relation rel, const char *version, HistRow *row)
{
	return history_lookup(rel, "migration_history_version_key", H_VERSION + 1, TEXTOID,
						  CStringGetTextDatum(version), false, 0, NULL, row);
}

bool
sg_history_by_id(Relation rel, int64 id, HistRow *row)
{
	return history_lookup(rel, "migration_history_pkey", H_ID + 1, INT8OID,
						  Int64GetDatum(id), false, 0, NULL, row);
}

/* The newest running (session-scoped) migration. */
bool
sg_history_running(Relation rel, HistRow *row)
{
	return history_lookup(rel, "migration_history_running", 0, InvalidOid, (Datum) 0,
						  true, 0, "running", row);
}

/*
 * The last applied migration other than skip_id: the chain's head.  One
 * migration runs at a time (begin_migration() waits for the one before to
 * finish, and refuses while one is interrupted), so migrations are applied
 * in id order.
 */
bool
sg_history_last_applied(Relation rel, int64 skip_id, HistRow *row)
{
	return history_lookup(rel, "migration_history_pkey", 0, InvalidOid, (Datum) 0,
						  true, skip_id, "applied", row);
}

/* One migration_events row. */
void
sg_history_log_event(int64 mid, const char *version, const char *event, const char *note)
{
	Relation	rel = sg_rows_open("migration_events", event_types, E_NATTS, RowExclusiveLock, false);
	Datum		values[E_NATTS];
	bool		nulls[E_NATTS] = {false};

	values[E_ID] = Int64GetDatum(sg_rows_next_id(rel));
	values[E_MIGRATION_ID] = Int64GetDatum(mid);
	values[E_VERSION] = CStringGetTextDatum(version);
	values[E_AT] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[E_EVENT] = CStringGetTextDatum(event);
	values[E_NOTE] = sg_text_datum_or_null(note, &nulls[E_NOTE]);
	values[E_ACTOR] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	sg_rows_insert(rel, values, nulls);
	table_close(rel, NoLock);
}

/* Write row (replacing the version at row->tid, if any). */
void
sg_history_write(Relation rel, HistRow *row)
{
	if (ItemPointerIsValid(&row->tid))
		sg_rows_delete(rel, &row->tid);
	sg_rows_insert(rel, row->values, row->nulls);
}

/* One field of the chain's input: "<bytes>:<value>", or "-" for NULL. */
static void
chain_field(StringInfo buf, const char *value)
{
	appendStringInfoChar(buf, '|');
	if (value == NULL)
		appendStringInfoChar(buf, '-');
	else
		appendStringInfo(buf, "%zu:%s", strlen(value), value);
}

/*
 * The hash chain: sha256 hex of the previous row's chain and this row's
 * fields that history is about (id, version, name, checksum, transactional,
 * applied_by, started_at and finished_at in microseconds since 2000,
 * statement_count, prev_checksum), each length-prefixed.  An edit of any of
 * them, or of an earlier row, breaks it.  schemaguard._chain() computes the
 * same for verify_history().
 */
char *
sg_history_chain(const char *prev, const HistRow *row)
{
	StringInfoData buf;
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *hex = palloc(PG_SHA256_DIGEST_LENGTH * 2 + 1);

	initStringInfo(&buf);
	appendStringInfoString(&buf, prev ? prev : "");
	chain_field(&buf, psprintf(INT64_FORMAT, DatumGetInt64(row->values[H_ID])));
	chain_field(&buf, sg_history_text(row, H_VERSION));
	chain_field(&buf, sg_history_text(row, H_NAME));
	chain_field(&buf, sg_history_text(row, H_CHECKSUM));
	chain_field(&buf, DatumGetBool(row->values[H_TRANSACTIONAL]) ? "t" : "f");
	chain_field(&buf, sg_history_text(row, H_APPLIED_BY));
	chain_field(&buf, psprintf(INT64_FORMAT, DatumGetTimestampTz(row->values[H_STARTED_AT])));
	chain_field(&buf, row->nulls[H_FINISHED_AT] ? NULL :
				psprintf(INT64_FORMAT, DatumGetTimestampTz(row->values[H_FINISHED_AT])));
	chain_field(&buf, psprintf("%d", DatumGetInt32(row->values[H_STATEMENT_COUNT])));
	chain_field(&buf, sg_history_text(row, H_PREV_CHECKSUM));

	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (uint8 *) buf.data, buf.len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute the migration history's SHA-256 chain");
	pg_cryptohash_free(ctx);
	hex_encode((char *) digest, sizeof(digest), hex);
	hex[PG_SHA256_DIGEST_LENGTH * 2] = '\0';
	return hex;
}

/*
 * Is the session pid, started at started, still connected?  Read from the
 * backend status array directly: pg_stat_activity hides backend_start from
 * roles that may not see other roles' sessions, and a liveness test that
 * depended on it would call another role's running migration interrupted.
 * Only the answer (yes or no) leaves this function.
 */
bool
sg_history_session_alive(int pid, TimestampTz started)
{
	int			n;

	if (pid == MyProcPid && started == MyStartTimestamp)
		return true;
	if (BackendPidGetProc(pid) == NULL)
		return false;
	/* the pid is in use: by that session, or by a later one? */
	pgstat_clear_backend_activity_snapshot();
	n = pgstat_fetch_stat_numbackends();
	for (int i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = sg_local_beentry(i);

		if (local != NULL && local->backendStatus.st_procpid == pid)
			return local->backendStatus.st_proc_start_timestamp == started;
	}
	return false;
}

/*
 * _session_alive(pid, started): sg_history_session_alive() for the migrations view,
 * for every role alike.
 */
Datum
sg_session_alive(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(sg_history_session_alive(PG_GETARG_INT32(0), PG_GETARG_TIMESTAMPTZ(1)));
}

/*
 * A transactional migration holds the history lock past the timeout:
 * refuse, naming its session.
 */
static void
report_lock_holder(Oid histrel)
{
	int			spi_level;
	Oid			argtypes[2] = {OIDOID, INT4OID};
	Datum		args[2] = {ObjectIdGetDatum(histrel), Int32GetDatum(MyProcPid)};
	char	   *holder = NULL;

	spi_level = sg_spi_connect();
	if (SPI_execute_with_args("SELECT format('pid %s, role %s, application_name %s', a.pid, a.usename, "
							  "coalesce(a.application_name, '')) "
							  "FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
							  "WHERE l.relation = $1 AND l.granted AND l.mode = 'ShareRowExclusiveLock' "
							  "AND l.pid <> $2 LIMIT 1", 2, argtypes, args, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
		holder = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	holder = holder ? MemoryContextStrdup(TopTransactionContext, holder) : NULL;
	sg_spi_finish(spi_level);
	ereport(ERROR,
			(errcode(ERRCODE_SG_MIGRATION_IN_PROGRESS),
			 errmsg("another migration is in progress"),
			 errdetail("Waited %d ms for the migration transaction of %s.",
					   sg_migration_lock_timeout, holder ? holder : "another session"),
			 errhint("Run migrations one at a time, or raise schemaguard.migration_lock_timeout.")));
}

/* The wait sg_history_lock() runs in a subtransaction. */
typedef struct HistoryLock
{
	Oid			histrel;
	TimestampTz deadline;
} HistoryLock;

/* The wait of sg_history_lock(), with lock_timeout set to what is left. */
static void
wait_for_history(void *arg)
{
	HistoryLock *h = arg;
	long		ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), h->deadline);

	LockTimeout = (int) Max(1, Min(ms, INT_MAX));
	LockRelationOid(h->histrel, ShareRowExclusiveLock);
}

/*
 * One runner at a time: SHARE ROW EXCLUSIVE on migration_history to the end
 * of the transaction (it conflicts with itself, and not with readers).
 * Waits until deadline, in a subtransaction so that the timeout can be
 * reported as SG030 with the holder's name.
 */
void
sg_history_lock(Oid histrel, TimestampTz deadline)
{
	int			save_timeout = LockTimeout;
	HistoryLock h = {histrel, deadline};
	ErrorData  *edata;

	if (ConditionalLockRelationOid(histrel, ShareRowExclusiveLock))
		return;

	edata = sg_try_in_subxact(wait_for_history, &h);
	LockTimeout = save_timeout;
	if (edata == NULL)
		return;
	if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
		ReThrowError(edata);
	FreeErrorData(edata);
	report_lock_holder(histrel);
}

/*
 * Statement trigger on the history tables: no writes through SQL but a
 * superuser's, the owner's included.  Our own writers (rows.c) do not fire
 * triggers.
 */
Datum
sg_history_protect(PG_FUNCTION_ARGS)
{
	static const char *const tables[] = {"migration_history", "migration_events", "ddl_log_rows", "ddl_log", NULL};
	TriggerData *td = sg_own_trigger_data(fcinfo, "_history_protect", tables,
										  false, TRIGGER_TYPE_BEFORE);

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
