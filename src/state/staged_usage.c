/*-------------------------------------------------------------------------
 *
 * staged_usage.c
 *		Staged drops, the part every query and every DDL statement reaches:
 *		usage tracking in shared memory, the per-backend staged set, the
 *		GUC schemaguard.drop_delay, and the staged-drop facts the rule and
 *		the staged_drops view judge (sg_catalog_staged_facts()).
 *
 * Staging rows live in schemaguard.drop_stages (relid regclass, attnum; 0 for
 * the whole table or view), so pg_dump keeps them and renames keep them.
 * The SQL functions that write them are in staged.c.
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
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_attribute.h"
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
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "schemaguard.h"

#define SG_STAGES_TABLE		"drop_stages"

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
	TimestampTz lost_at;		/* the last use that found the table full */
} SgShared;

static SgShared *sg_shared = NULL;
static HTAB *sg_usage = NULL;

/* schemaguard.staged_max_tracked: entries of the usage table */
int			sg_staged_max_tracked = 1024;

/*
 * Staged objects a statement of this transaction dropped: their usage
 * entries are freed when it commits (a rolled-back drop keeps them).
 */
static List *gone_candidates = NIL;	/* UsageKey *, in TopTransactionContext */
static List *gone_at_commit = NIL;	/* UsageKey *, in TopMemoryContext */

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

bool
sg_check_drop_delay(char **newval, void **extra, GucSource source)
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
void
sg_assign_drop_delay(const char *newval, void *extra)
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
						   hash_estimate_size(sg_staged_max_tracked, sizeof(UsageEntry)));
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
	{
		sg_shared->lock = &(GetNamedLWLockTranche("schemaguard"))->lock;
		sg_shared->lost_at = 0;
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(UsageKey);
	info.entrysize = sizeof(UsageEntry);
	sg_usage = sg_shmem_init_hash("schemaguard staged usage", sg_staged_max_tracked, sg_staged_max_tracked,
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

/* Forget the usage of every object of a database that was dropped. */
void
sg_usage_forget_database(Oid dbid)
{
	HASH_SEQ_STATUS seq;
	UsageEntry *e;

	if (sg_usage == NULL || !OidIsValid(dbid))
		return;
	LWLockAcquire(sg_shared->lock, LW_EXCLUSIVE);
	hash_seq_init(&seq, sg_usage);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (e->key.dbid == dbid)
			hash_search(sg_usage, &e->key, HASH_REMOVE, NULL);
	}
	LWLockRelease(sg_shared->lock);
}

/* Does the staged relation (attnum 0) or column still exist? */
static bool
staged_object_exists(Oid relid, int attnum)
{
	HeapTuple	tup;
	bool		exists;

	if (attnum == 0)
		return SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid));
	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
	if (!HeapTupleIsValid(tup))
		return false;
	exists = !((Form_pg_attribute) GETSTRUCT(tup))->attisdropped;
	ReleaseSysCache(tup);
	return exists;
}

/*
 * At PRE_COMMIT: which of the staged objects this transaction's statements
 * dropped are still gone (a rollback to a savepoint may have brought one
 * back); their entries are freed at COMMIT.
 */
void
sg_staged_pre_commit(void)
{
	ListCell   *lc;

	gone_at_commit = NIL;
	foreach(lc, gone_candidates)
	{
		UsageKey   *k = lfirst(lc);

		if (!staged_object_exists(k->relid, k->attnum))
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
			UsageKey   *copy = palloc(sizeof(UsageKey));

			*copy = *k;
			gone_at_commit = lappend(gone_at_commit, copy);
			MemoryContextSwitchTo(old);
		}
	}
}

/* At the end of the transaction: free the entries of what its commit dropped. */
void
sg_staged_xact_end(bool commit)
{
	ListCell   *lc;

	if (commit && sg_usage != NULL)
	{
		foreach(lc, gone_at_commit)
		{
			UsageKey   *k = lfirst(lc);

			sg_usage_forget(k->relid, k->attnum);
		}
	}
	list_free_deep(gone_at_commit);
	gone_at_commit = NIL;
	gone_candidates = NIL;		/* TopTransactionContext is gone */
}

/* Forget the usage of an object (it was staged anew or unstaged). */
void
sg_usage_forget(Oid relid, int attnum)
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
	/*
	 * A shared hash table grows past its declared size into the rest of
	 * shared memory: its size is held here, as pg_stat_statements holds
	 * its own.
	 */
	e = hash_search(sg_usage, &key, HASH_FIND, &found);
	if (e == NULL && hash_get_num_entries(sg_usage) < sg_staged_max_tracked)
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
	else
		sg_shared->lost_at = GetCurrentStatementStartTimestamp();
	LWLockRelease(sg_shared->lock);

	if (e == NULL && !warned_full)
	{
		warned_full = true;
		ereport(LOG,
				(errmsg("schemaguard: more than %d staged objects are in use; usage of some is not tracked",
						sg_staged_max_tracked),
				 errdetail("Until schemaguard.drop_delay has passed after the last use that went unrecorded, "
						   "every staged object counts as in use.")));
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

/*
 * COPY of a table, in either direction, is a use of it and of the columns it
 * names (all, without a list), as a query's would be; COPY (query) TO runs
 * the executor and is seen there.  Recorded before the COPY runs, so a COPY
 * that fails counts too (the conservative way).
 */
void
sg_staged_note_copy(CopyStmt *stmt, const char *query)
{
	Oid			relid;
	Bitmapset  *cols = NULL;
	Bitmapset  *none = NULL;
	ListCell   *lc;

	if (IsParallelWorker() || sg_usage == NULL || stmt->relation == NULL || !sg_anything_staged())
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) || !sg_relation_staged(relid))
		return;
	if (stmt->attlist == NIL)
		cols = bms_make_singleton(InvalidAttrNumber - FirstLowInvalidHeapAttributeNumber);
	foreach(lc, stmt->attlist)
	{
		AttrNumber	attnum = get_attnum(relid, strVal(lfirst(lc)));

		if (attnum != InvalidAttrNumber)
			cols = bms_add_member(cols, attnum - FirstLowInvalidHeapAttributeNumber);
	}
	if (stmt->is_from)
	{
		/* every column it loads is written; the rest get their defaults */
		if (stmt->attlist == NIL)
		{
			Relation	rel = relation_open(relid, NoLock);

			bms_free(cols);
			cols = NULL;
			for (int i = 0; i < RelationGetDescr(rel)->natts; i++)
			{
				if (!TupleDescAttr(RelationGetDescr(rel), i)->attisdropped)
					cols = bms_add_member(cols, i + 1 - FirstLowInvalidHeapAttributeNumber);
			}
			relation_close(rel, NoLock);
		}
		note_relation_use(relid, none, cols, none, (void *) query);
	}
	else
		note_relation_use(relid, cols, none, none, (void *) query);
}

/* Define the GUC and the cache callbacks; called from _PG_init. */
void
sg_staged_init(void)
{
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
void
sg_stage_state(SgStagedFacts *sf)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz from;

	sf->tracked = sg_usage != NULL;
	sf->tracking_since = Max(sf->staged_at, PgStartTime);
	sf->delay_usecs = drop_delay_usecs;
	from = sf->tracking_since;
	if ((sf->use_count > 0 || sf->uses_lost) && sf->last_used > from)
		from = sf->last_used;
	sf->droppable_at = from + drop_delay_usecs;
	if (!sf->tracked || sf->this_xact)
		sf->state = SG_STAGED_WAITING;
	else if ((sf->use_count > 0 || sf->uses_lost) && now < sf->last_used + drop_delay_usecs)
		sf->state = SG_STAGED_IN_USE;
	else if (now >= sf->droppable_at)
		sf->state = SG_STAGED_DROPPABLE;
	else
		sf->state = SG_STAGED_WAITING;
}

/* The counters of one staged object into sf. */
void
sg_read_usage(Oid relid, int attnum, SgStagedFacts *sf)
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
	/* a use that went unrecorded may have been of this object */
	if (sg_shared->lost_at != 0 && (e == NULL || e->last_used < sg_shared->lost_at))
	{
		sf->uses_lost = true;
		sf->last_used = sg_shared->lost_at;
		sf->last_write = false;
		sf->last_role = InvalidOid;
		sf->last_app[0] = '\0';
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
	sg_read_usage(relid, attnum, sf);
	sg_stage_state(sf);
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
	/* staged objects the statement dropped: their entries go at commit */
	for (int i = 0; i < nstaged; i++)
	{
		if (!staged_object_exists(staged[i].relid, staged[i].attnum))
		{
			MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
			UsageKey   *k = palloc(sizeof(UsageKey));

			*k = usage_key(staged[i].relid, staged[i].attnum);
			gone_candidates = lappend(gone_candidates, k);
			MemoryContextSwitchTo(old);
		}
	}
	spi_level = sg_spi_connect();
	if (SPI_execute("SELECT schemaguard._stages_sync()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not update schemaguard.drop_stages");
	sg_spi_finish(spi_level);
}

/* ---------- SQL functions ---------- */


static const char *const state_names[] = {"waiting", "in use", "droppable"};

const char *
sg_staged_state_name(SgStagedState state)
{
	return state_names[state];
}
