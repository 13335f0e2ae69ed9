/*-------------------------------------------------------------------------
 *
 * staged.c
 *		Staged drops: stage_drop(), unstage_drop(), the staged_drops view,
 *		the GUC schemaguard.drop_delay, and usage tracking of staged objects.
 *
 * Staging rows live in schemaguard.drop_stages (relid regclass, attnum; 0 for
 * the whole table or view), so pg_dump keeps them and renames keep them.
 *
 * Usage tracking.  The ExecutorStart hook (hooks.c) calls
 * sg_staged_note_query(), which looks at the relations a query reads
 * or writes, and the columns it uses (RTE permission info: a column reached
 * through * or a whole-row reference counts), and records a use of each
 * staged one in shared memory: time, count, role and application_name.  The
 * staged set of the current database is cached per backend; a statement
 * trigger on drop_stages sends a relcache invalidation, and a syscache
 * callback on pg_namespace notices CREATE/DROP EXTENSION, so the common case
 * (no staged object in this database) costs one test of a static variable.
 * Each backend logs the first use of each staged object it sees.
 *
 * tracking_since is the later of server start and staging: the counters live
 * in shared memory and start again with the server, which is honest (the
 * evidence window restarts) and safe (droppable_at moves later, not earlier).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "postmaster/postmaster.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "schemaguard.h"

#define SG_STAGES_TABLE		"drop_stages"
#define SG_MAX_TRACKED		1024	/* staged objects tracked in shared memory */

/* Shared memory: usage of staged objects, across databases. */
typedef struct UsageKey
{
	Oid			dbid;
	Oid			relid;
	int32		attnum;			/* 0: the whole relation */
} UsageKey;

typedef struct UsageEntry
{
	UsageKey	key;
	TimestampTz last_used;
	int64		count;
	bool		write;
	Oid			roleid;
	char		appname[NAMEDATALEN];
} UsageEntry;

typedef struct SgShared
{
	LWLock	   *lock;
} SgShared;

static SgShared *sg_shared = NULL;
static HTAB *sg_usage = NULL;

/* schemaguard.drop_delay */
char	   *sg_drop_delay_string = NULL;
static int64 drop_delay_usecs = 0;

/* Per-backend cache of this database's staged objects. */
typedef struct StagedKey
{
	Oid			relid;
	int32		attnum;
	TimestampTz staged_at;
	TransactionId xmin;			/* of the staging row: staged in this xact? */
	bool		logged;			/* this backend has logged a use */
} StagedKey;

static bool cache_valid = false;
static bool cache_loading = false;	/* our own query must not recurse */
static Oid	stages_relid = InvalidOid;
static int	nstaged = 0;
static StagedKey *staged = NULL;	/* in TopMemoryContext */

PG_FUNCTION_INFO_V1(sg_stage_drop);
PG_FUNCTION_INFO_V1(sg_unstage_drop);
PG_FUNCTION_INFO_V1(sg_staged_drops);
PG_FUNCTION_INFO_V1(sg_stage_row);

/* ---------- schemaguard.drop_delay ---------- */

/* Parse an interval without raising; false when it is not one. */
static bool
parse_delay(const char *str, int64 *usecs)
{
	char		workbuf[256];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	struct pg_itm_in itm;
	Interval	iv;
	int			dterr;
	char	   *copy = pstrdup(str);

	dterr = ParseDateTime(str, workbuf, sizeof(workbuf), field, ftype, MAXDATEFIELDS, &nf);
	if (dterr == 0)
		dterr = DecodeInterval(field, ftype, nf, INTERVAL_FULL_RANGE, &dtype, &itm);
	if (dterr == DTERR_BAD_FORMAT)
		dterr = DecodeISO8601Interval(copy, &dtype, &itm);
	if (dterr != 0 || dtype != DTK_DELTA || itmin2interval(&itm, &iv) != 0)
		return false;
	if (iv.month < 0 || iv.day < 0 || iv.time < 0 || iv.month > 12000 || iv.day > 365000)
		return false;
	*usecs = iv.time + ((int64) iv.month * DAYS_PER_MONTH + iv.day) * USECS_PER_DAY;
	return *usecs >= 0;
}

static bool
check_drop_delay(char **newval, void **extra, GucSource source)
{
	int64		usecs;

	if (!parse_delay(*newval, &usecs))
	{
		GUC_check_errdetail("schemaguard.drop_delay must be a non-negative interval, such as '7 days'.");
		return false;
	}
	return true;
}

/* The value passed its check, so it parses again (and without raising). */
static void
assign_drop_delay(const char *newval, void *extra)
{
	int64		usecs;

	if (parse_delay(newval, &usecs))
		drop_delay_usecs = usecs;
}

/* ---------- shared memory ---------- */

/* Ask for the shared memory the usage counters need (shmem_request_hook). */
void
sg_staged_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(SgShared)) +
						   hash_estimate_size(SG_MAX_TRACKED, sizeof(UsageEntry)));
	RequestNamedLWLockTranche("schemaguard", 1);
}

/* Attach to (or create) the usage counters (shmem_startup_hook). */
void
sg_staged_shmem_startup(void)
{
	HASHCTL		info;
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	sg_shared = ShmemInitStruct("schemaguard", sizeof(SgShared), &found);
	if (!found)
		sg_shared->lock = &(GetNamedLWLockTranche("schemaguard"))->lock;
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(UsageKey);
	info.entrysize = sizeof(UsageEntry);
	sg_usage = ShmemInitHash("schemaguard staged usage", SG_MAX_TRACKED, SG_MAX_TRACKED,
							 &info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

static UsageKey
usage_key(Oid relid, int attnum)
{
	UsageKey	key;

	memset(&key, 0, sizeof(key));
	key.dbid = MyDatabaseId;
	key.relid = relid;
	key.attnum = attnum;
	return key;
}

/* Forget the usage of an object (it was staged anew or unstaged). */
static void
usage_forget(Oid relid, int attnum)
{
	UsageKey	key = usage_key(relid, attnum);

	if (sg_usage == NULL)
		return;
	LWLockAcquire(sg_shared->lock, LW_EXCLUSIVE);
	hash_search(sg_usage, &key, HASH_REMOVE, NULL);
	LWLockRelease(sg_shared->lock);
}

/* Record one use; never raises (a full table is logged once). */
static void
usage_record(StagedKey *sk, bool write, const char *query)
{
	UsageKey	key = usage_key(sk->relid, sk->attnum);
	UsageEntry *e;
	bool		found;
	static bool warned_full = false;

	LWLockAcquire(sg_shared->lock, LW_EXCLUSIVE);
	e = hash_search(sg_usage, &key, HASH_ENTER_NULL, &found);
	if (e != NULL)
	{
		if (!found)
			e->count = 0;
		e->last_used = GetCurrentStatementStartTimestamp();
		e->count++;
		e->write = write;
		e->roleid = GetUserId();
		strlcpy(e->appname, application_name ? application_name : "", NAMEDATALEN);
	}
	LWLockRelease(sg_shared->lock);

	if (e == NULL && !warned_full)
	{
		warned_full = true;
		ereport(LOG,
				(errmsg("schemaguard: more than %d staged objects are in use; usage of some is not tracked",
						SG_MAX_TRACKED)));
	}
	if (!sk->logged)
	{
		char	   *rel = get_rel_name(sk->relid);
		char	   *att = sk->attnum > 0 ? get_attname(sk->relid, sk->attnum, true) : NULL;

		sk->logged = true;
		ereport(LOG,
				(errmsg("schemaguard: staged %s %s%s%s is still used by role \"%s\" (application_name \"%s\")",
						att ? "column" : "relation", rel ? rel : "?", att ? "." : "", att ? att : "",
						GetUserNameFromId(GetUserId(), true), application_name ? application_name : ""),
				 query ? errdetail_internal("Statement: %.1000s", query) : 0,
				 errhint("It is staged for dropping; find and change the code that runs this statement.")));
	}
}

/* ---------- the per-backend cache ---------- */

/* Relcache callback: the staged set may have changed. */
static void
stages_inval(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == stages_relid)
		cache_valid = false;
}

/* Syscache callback on pg_namespace: the extension may have come or gone. */
static void
namespace_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	cache_valid = false;
}

/*
 * Read drop_stages into the cache array; returns the number of rows.  A
 * plain heap scan, not SPI: it runs for the first query of a backend, as
 * whatever role runs it, and must need no privilege and no executor.
 * SnapshotSelf (every committed row, and our own), as a catalog read: an MVCC
 * snapshot would take a predicate lock on drop_stages in a SERIALIZABLE
 * transaction, which the user's query never asked for (core's tidscan test
 * saw the extra SIReadLock).
 */
static int
read_stages(void)
{
	Relation	rel = table_open(stages_relid, AccessShareLock);
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, SnapshotSelf, 0, NULL);
	HeapTuple	tup;
	List	   *rows = NIL;
	int			n = 0;
	ListCell   *lc;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		StagedKey  *sk = palloc0(sizeof(StagedKey));

		sk->relid = DatumGetObjectId(heap_getattr(tup, 1, RelationGetDescr(rel), &isnull));
		sk->attnum = DatumGetInt16(heap_getattr(tup, 2, RelationGetDescr(rel), &isnull));
		sk->staged_at = DatumGetTimestampTz(heap_getattr(tup, 4, RelationGetDescr(rel), &isnull));
		sk->xmin = HeapTupleHeaderGetXmin(tup->t_data);
		rows = lappend(rows, sk);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (rows != NIL)
		staged = MemoryContextAllocZero(TopMemoryContext, sizeof(StagedKey) * list_length(rows));
	foreach(lc, rows)
		staged[n++] = *(StagedKey *) lfirst(lc);
	return n;
}

/*
 * Read this database's staged set into the cache.  Guarded against
 * re-entry (an invalidation arriving while we read).
 */
static void
load_staged(void)
{
	Oid			nsp = get_namespace_oid(SG_SCHEMA, true);
	int			n = 0;

	stages_relid = OidIsValid(nsp) ? get_relname_relid(SG_STAGES_TABLE, nsp) : InvalidOid;
	if (staged)
		pfree(staged);
	staged = NULL;
	nstaged = 0;
	if (OidIsValid(stages_relid))
	{
		cache_loading = true;
		PG_TRY();
		{
			n = read_stages();
		}
		PG_FINALLY();
		{
			cache_loading = false;
		}
		PG_END_TRY();
	}
	nstaged = n;
	cache_valid = true;
}

/* Is anything staged in this database?  Loads the cache when needed. */
bool
sg_anything_staged(void)
{
	if (!cache_valid)
	{
		if (cache_loading || !IsTransactionState())
			return false;
		load_staged();
	}
	return nstaged > 0;
}

/* Is relid (or one of its columns) staged? */
bool
sg_relation_staged(Oid relid)
{
	if (!sg_anything_staged())
		return false;
	for (int i = 0; i < nstaged; i++)
	{
		if (staged[i].relid == relid)
			return true;
	}
	return false;
}

/* ---------- usage tracking ---------- */

/* One relation a query uses, with the columns it reads and writes. */
static void
note_relation_use(Oid relid, Bitmapset *selected, Bitmapset *inserted,
				  Bitmapset *updated, void *arg)
{
	for (int i = 0; i < nstaged; i++)
	{
		StagedKey  *sk = &staged[i];
		int			bit;
		bool		write;

		if (sk->relid != relid)
			continue;
		if (sk->attnum != 0)
		{
			bit = sk->attnum - FirstLowInvalidHeapAttributeNumber;
			write = bms_is_member(bit, inserted) || bms_is_member(bit, updated);
			/* a whole-row reference reads every column */
			if (!write && !bms_is_member(bit, selected) &&
				!bms_is_member(InvalidAttrNumber - FirstLowInvalidHeapAttributeNumber, selected))
				continue;
		}
		else
			write = !bms_is_empty(inserted) || !bms_is_empty(updated);
		usage_record(sk, write, (const char *) arg);
	}
}

/*
 * A query is about to run (ExecutorStart): record its uses of staged
 * objects.  Cheapest test first: nothing staged in this database.
 */
void
sg_staged_note_query(QueryDesc *queryDesc, int eflags)
{
	/* The leader records the query; its parallel workers do not. */
	if (IsParallelWorker())
		return;
	if (sg_usage != NULL && !(eflags & EXEC_FLAG_EXPLAIN_ONLY) && sg_anything_staged())
		sg_foreach_relation_use(queryDesc->plannedstmt, note_relation_use,
								(void *) queryDesc->sourceText);
}

/* Define the GUC and the cache callbacks; called from _PG_init. */
void
sg_staged_init(void)
{
	DefineCustomStringVariable("schemaguard.drop_delay",
							   "How long a staged table or column must go unused before it may be dropped.",
							   "Rule staged-drop refuses a drop until this long after staging, "
							   "and until no use was recorded for this long.",
							   &sg_drop_delay_string,
							   "0",
							   PGC_SUSET,
							   0,
							   check_drop_delay, assign_drop_delay, NULL);

	CacheRegisterRelcacheCallback(stages_inval, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, namespace_inval, (Datum) 0);
}

/* ---------- what the rule and the view know ---------- */

/* A span of time, roughly, for messages: "40 seconds", "2 minutes". */
char *
sg_span_phrase(int64 usecs)
{
	int64		s = usecs / USECS_PER_SEC;

	if (s < 120)
		return psprintf("%lld second%s", (long long) s, s == 1 ? "" : "s");
	if (s < 7200)
		return psprintf("%lld minutes", (long long) (s / 60));
	if (s < 172800)
		return psprintf("%lld hours", (long long) (s / 3600));
	return psprintf("%lld days", (long long) (s / 86400));
}

/*
 * A timestamp for messages, in a string of its own: core's
 * timestamptz_to_str() returns a static buffer, so two of its results in one
 * psprintf() both showed the last one.
 */
char *
sg_timestamp_text(TimestampTz t)
{
	return pstrdup(timestamptz_to_str(t));
}

/* Fill in tracking, droppable_at and state from the row and the counters. */
static void
stage_state(SgStagedFacts *sf)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz from;

	sf->tracked = sg_usage != NULL;
	sf->tracking_since = Max(sf->staged_at, PgStartTime);
	sf->delay_usecs = drop_delay_usecs;
	from = sf->tracking_since;
	if (sf->use_count > 0 && sf->last_used > from)
		from = sf->last_used;
	sf->droppable_at = from + drop_delay_usecs;
	if (!sf->tracked || sf->this_xact)
		sf->state = SG_STAGED_WAITING;
	else if (sf->use_count > 0 && now < sf->last_used + drop_delay_usecs)
		sf->state = SG_STAGED_IN_USE;
	else if (now >= sf->droppable_at)
		sf->state = SG_STAGED_DROPPABLE;
	else
		sf->state = SG_STAGED_WAITING;
}

/* The counters of one staged object into sf. */
static void
read_usage(Oid relid, int attnum, SgStagedFacts *sf)
{
	UsageKey	key = usage_key(relid, attnum);
	UsageEntry *e;

	sf->use_count = 0;
	if (sg_usage == NULL)
		return;
	LWLockAcquire(sg_shared->lock, LW_SHARED);
	e = hash_search(sg_usage, &key, HASH_FIND, NULL);
	if (e)
	{
		sf->use_count = e->count;
		sf->last_used = e->last_used;
		sf->last_write = e->write;
		sf->last_role = e->roleid;
		strlcpy(sf->last_app, e->appname, NAMEDATALEN);
	}
	LWLockRelease(sg_shared->lock);
}

/*
 * What the catalog and the counters say about a staged relation or column:
 * its staging row as the cache holds it (read_stages(); any change to
 * drop_stages invalidates the cache), and its use counters.
 */
void
sg_catalog_staged_facts(Oid relid, const char *column, SgStagedFacts *sf)
{
	int			attnum = column ? get_attnum(relid, column) : 0;

	memset(sf, 0, sizeof(SgStagedFacts));
	if (attnum < 0 || !sg_relation_staged(relid))
		return;
	for (int i = 0; i < nstaged; i++)
	{
		if (staged[i].relid != relid || staged[i].attnum != attnum)
			continue;
		sf->staged = true;
		sf->staged_at = staged[i].staged_at;
		sf->this_xact = TransactionIdIsCurrentTransactionId(staged[i].xmin);
		break;
	}
	if (!sf->staged)
		return;
	read_usage(relid, attnum, sf);
	stage_state(sf);
}

/*
 * After a successful DROP, ALTER TABLE or RENAME: forget staging rows of
 * what is gone (a staged object that was dropped, or taken by CASCADE), and
 * keep column names current for pg_dump.  Only when something is staged.
 */
void
sg_staged_after_statement(Node *parsetree)
{
	int			spi_level;
	switch (nodeTag(parsetree))
	{
		case T_DropStmt:
		case T_AlterTableStmt:
		case T_RenameStmt:
			break;
		default:
			return;
	}
	if (!sg_anything_staged())
		return;
	spi_level = sg_spi_connect();
	if (SPI_execute("SELECT schemaguard._stages_sync()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not update schemaguard.drop_stages");
	sg_spi_finish(spi_level);
}

/* ---------- SQL functions ---------- */

/* Resolve (target, column_name) for stage_drop()/unstage_drop(). */
static int
stage_target(FunctionCallInfo fcinfo, Oid *relid)
{
	int			attnum = 0;

	if (!PG_ARGISNULL(1))
	{
		*relid = sg_target_arg(fcinfo, 0, "rp", "a table",
							   "Only a column of a table can be staged for dropping.", NULL);
		attnum = sg_column_arg(*relid, NameStr(*PG_GETARG_NAME(1)));
	}
	else
		*relid = sg_target_arg(fcinfo, 0, "rpm", "a table or materialized view",
							   "stage_drop() stages tables, materialized views and columns of tables.",
							   NULL);
	if (!sg_class_ownercheck(*relid, GetOuterUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of relation %s", get_rel_name(*relid)),
				 errdetail("Only the owner, who may drop it, may stage or unstage it.")));
	return attnum;
}

/*
 * Run one statement on drop_stages with parameters (relid, attnum, attname,
 * reason, staged_by); returns the rows it touched, and in *first the first
 * column of the first row it returned (a boolean), if any.
 */
static uint64
stages_write(const char *sql, Oid relid, int attnum, const char *attname, const char *reason,
			 bool *first)
{
	int			spi_level;
	Oid			argtypes[5] = {OIDOID, INT2OID, NAMEOID, TEXTOID, NAMEOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	NameData	an,
				by;
	int			rc;
	uint64		n;

	values[0] = ObjectIdGetDatum(relid);
	values[1] = Int16GetDatum(attnum);
	if (attname)
		namestrcpy(&an, attname);
	else
		nulls[2] = 'n';
	values[2] = NameGetDatum(&an);
	if (reason)
		values[3] = CStringGetTextDatum(reason);
	else
		nulls[3] = 'n';
	namestrcpy(&by, GetUserNameFromId(GetOuterUserId(), false));
	values[4] = NameGetDatum(&by);

	spi_level = sg_spi_connect();
	rc = SPI_execute_with_args(sql, 5, argtypes, values, nulls, false, 0);
	if (rc < 0)
		elog(ERROR, "could not update schemaguard.drop_stages: %s", SPI_result_code_string(rc));
	n = SPI_processed;
	if (first && n > 0 && SPI_tuptable != NULL)
	{
		bool		isnull;

		*first = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	sg_spi_finish(spi_level);
	return n;
}

/*
 * stage_drop(target, column_name, reason): mark a table, materialized view
 * or column for dropping.  Idempotent: staging it again keeps the first
 * staging time (the waiting period does not restart) and updates the reason.
 */
Datum
sg_stage_drop(PG_FUNCTION_ARGS)
{
	Oid			relid;
	int			attnum = stage_target(fcinfo, &relid);
	char	   *reason = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	const char *attname = attnum > 0 ? get_attname(relid, attnum, false) : NULL;
	bool		inserted = false;

	if (reason && strlen(reason) > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("stage_drop() reason is too long"),
				 errdetail("The reason has %zu bytes; the limit is 1000.", strlen(reason))));
	(void) stages_write("INSERT INTO schemaguard.drop_stages AS s "
						"(relid, attnum, attname, reason, staged_by) VALUES ($1, $2, $3, $4, $5) "
						"ON CONFLICT (relid, attnum) DO UPDATE SET attname = excluded.attname, "
						"reason = coalesce(excluded.reason, s.reason) "
						"RETURNING (s.xmax = 0)", relid, attnum, attname, reason, &inserted);
	/* A fresh staging starts a fresh record of use. */
	if (inserted)
		usage_forget(relid, attnum);
	ereport(LOG,
			(errmsg("schemaguard: role \"%s\" staged %s%s%s for dropping%s%s",
					GetUserNameFromId(GetOuterUserId(), false), get_rel_name(relid),
					attname ? "." : "", attname ? attname : "",
					reason ? ": " : "", reason ? reason : "")));
	PG_RETURN_VOID();
}

/* unstage_drop(target, column_name): remove the mark.  Idempotent. */
Datum
sg_unstage_drop(PG_FUNCTION_ARGS)
{
	Oid			relid;
	int			attnum = stage_target(fcinfo, &relid);

	if (stages_write("DELETE FROM schemaguard.drop_stages WHERE relid = $1 AND attnum = $2",
					 relid, attnum, NULL, NULL, NULL) > 0)
		usage_forget(relid, attnum);
	PG_RETURN_VOID();
}

static const char *const state_names[] = {"waiting", "in use", "droppable"};

const char *
sg_staged_state_name(SgStagedState state)
{
	return state_names[state];
}

/*
 * _staged_drops(): the rows of the staged_drops view, with the counters of
 * shared memory and the state the rule would judge.
 */
Datum
sg_staged_drops(PG_FUNCTION_ARGS)
{
	int			spi_level;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext caller = CurrentMemoryContext;
	List	   *rows = NIL;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);

	spi_level = sg_spi_connect();
	if (SPI_execute("SELECT s.relid::oid, s.attnum, s.staged_at, s.staged_by::text, s.reason, "
					"s.xmin::text::bigint FROM schemaguard.drop_stages s "
					"JOIN pg_catalog.pg_class c ON c.oid = s.relid "
					"WHERE s.attnum = 0 OR EXISTS (SELECT FROM pg_catalog.pg_attribute a "
					"WHERE a.attrelid = s.relid AND a.attnum = s.attnum AND NOT a.attisdropped) "
					"ORDER BY s.staged_at, s.relid::regclass::text, s.attnum",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read schemaguard.drop_stages");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(caller);
		SgStagedFacts *sf = palloc0(sizeof(SgStagedFacts));
		bool		isnull;
		char	   *by = SPI_getvalue(t, d, 4);
		char	   *reason = SPI_getvalue(t, d, 5);

		sf->relid = DatumGetObjectId(SPI_getbinval(t, d, 1, &isnull));
		sf->attnum = DatumGetInt16(SPI_getbinval(t, d, 2, &isnull));
		sf->staged = true;
		sf->staged_at = DatumGetTimestampTz(SPI_getbinval(t, d, 3, &isnull));
		sf->staged_by = by ? pstrdup(by) : NULL;
		sf->reason = reason ? pstrdup(reason) : NULL;
		sf->this_xact = TransactionIdIsCurrentTransactionId(
			(TransactionId) DatumGetInt64(SPI_getbinval(t, d, 6, &isnull)));
		rows = lappend(rows, sf);
		MemoryContextSwitchTo(old);
	}
	sg_spi_finish(spi_level);

	foreach(lc, rows)
	{
		SgStagedFacts *sf = lfirst(lc);
		Datum		values[11];
		bool		nulls[11];
		NameData   *column = palloc0(sizeof(NameData));
		NameData   *by = palloc0(sizeof(NameData));

		memset(nulls, 0, sizeof(nulls));
		read_usage(sf->relid, sf->attnum, sf);
		stage_state(sf);
		values[0] = ObjectIdGetDatum(sf->relid);
		if (sf->attnum > 0)
			namestrcpy(column, get_attname(sf->relid, sf->attnum, false));
		else
			nulls[1] = true;
		values[1] = NameGetDatum(column);
		values[2] = TimestampTzGetDatum(sf->staged_at);
		namestrcpy(by, sf->staged_by ? sf->staged_by : "");
		values[3] = NameGetDatum(by);
		if (sf->reason)
			values[4] = CStringGetTextDatum(sf->reason);
		else
			nulls[4] = true;
		if (sf->use_count > 0)
		{
			values[5] = TimestampTzGetDatum(sf->last_used);
			values[7] = CStringGetTextDatum(psprintf("%s (application_name %s)",
													 GetUserNameFromId(sf->last_role, true),
													 sf->last_app[0] ? sf->last_app : "''"));
		}
		else
			nulls[5] = nulls[7] = true;
		values[6] = Int64GetDatum(sf->use_count);
		if (sf->tracked)
		{
			values[8] = TimestampTzGetDatum(sf->tracking_since);
			values[9] = TimestampTzGetDatum(sf->droppable_at);
		}
		else
			nulls[8] = nulls[9] = true;
		values[10] = CStringGetTextDatum(sg_staged_state_name(sf->state));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * BEFORE INSERT trigger on drop_stages: a row restored by pg_restore names
 * its column; if the column's number changed (dropped columns are not
 * dumped), follow the name.
 */
Datum
sg_stage_row(PG_FUNCTION_ARGS)
{
	static const char *const tables[] = {"drop_stages", NULL};
	TriggerData *trigdata = sg_own_trigger_data(fcinfo, "_stage_row", tables,
												true, TRIGGER_TYPE_BEFORE);
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	Datum		relid,
				attnum,
				attname;
	int			current;

	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("schemaguard._stage_row() fires on INSERT only")));
	tup = trigdata->tg_trigtuple;
	desc = RelationGetDescr(trigdata->tg_relation);
	relid = heap_getattr(tup, 1, desc, &isnull);
	attnum = heap_getattr(tup, 2, desc, &isnull);
	attname = heap_getattr(tup, 3, desc, &isnull);
	if (isnull || DatumGetInt16(attnum) <= 0)
		return PointerGetDatum(tup);
	current = get_attnum(DatumGetObjectId(relid), NameStr(*DatumGetName(attname)));
	if (current > 0 && current != DatumGetInt16(attnum))
	{
		int			col = 2;
		Datum		v = Int16GetDatum(current);
		bool		n = false;

		tup = heap_modify_tuple_by_cols(tup, desc, 1, &col, &v, &n);
	}
	return PointerGetDatum(tup);
}
