/*-------------------------------------------------------------------------
 *
 * rows.c
 *		Direct row access to schemaguard's own history tables: open with a
 *		layout check, insert with index maintenance, delete, index lookups.
 *
 * The history writers (migration history, ddl_log) run on every DDL
 * statement and every migration; going through SPI would parse, plan and
 * run the executor for each row.  These helpers write the heap and its
 * indexes directly, as the executor would, and so also bypass the tables'
 * append-only triggers: only this code writes the history.  Constraints
 * other than the indexes' (CHECK, NOT NULL) are the caller's business.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_sequence.h"
#include "commands/sequence.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/inval.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "compat.h"
#include "schemaguard.h"

/*
 * The OIDs looked up so far in this backend, by name.  The audit trigger
 * asks on every statement; any change to pg_class (a relation created,
 * dropped or renamed, DROP EXTENSION) empties the cache.
 */
#define SG_RELID_CACHE	16

typedef struct RelidEntry
{
	char		name[NAMEDATALEN];
	Oid			relid;
} RelidEntry;

static RelidEntry relid_cache[SG_RELID_CACHE];
static int	relid_cached = 0;
static bool relid_callback = false;

static void
relid_cache_reset(Datum arg, int cacheid, uint32 hashvalue)
{
	relid_cached = 0;
}

/* The OID of schemaguard.<relname> (a table, view, index or sequence of ours). */
Oid
sg_rows_relid(const char *relname, bool missing_ok)
{
	Oid			nsp;
	Oid			relid;

	for (int i = 0; i < relid_cached; i++)
	{
		if (strcmp(relid_cache[i].name, relname) == 0)
			return relid_cache[i].relid;
	}
	if (!relid_callback)
	{
		CacheRegisterSyscacheCallback(RELNAMENSP, relid_cache_reset, (Datum) 0);
		relid_callback = true;
	}
	nsp = get_namespace_oid(SG_SCHEMA, true);
	relid = OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid;
	if (OidIsValid(relid) && relid_cached < SG_RELID_CACHE && strlen(relname) < NAMEDATALEN)
	{
		strlcpy(relid_cache[relid_cached].name, relname, NAMEDATALEN);
		relid_cache[relid_cached++].relid = relid;
	}
	if (!OidIsValid(relid) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation %s.%s does not exist", SG_SCHEMA, relname),
				 errhint("Run ALTER EXTENSION schemaguard UPDATE.")));
	return relid;
}

/*
 * Open schemaguard.<relname>, refusing a table whose columns are not the
 * ones this library writes (an extension script older or newer than the
 * library, or a table altered by hand).  NULL when the table does not exist
 * and missing_ok.
 */
Relation
sg_rows_open(const char *relname, const Oid *types, int ntypes,
			 LOCKMODE lockmode, bool missing_ok)
{
	Oid			relid = sg_rows_relid(relname, missing_ok);
	Relation	rel;
	TupleDesc	desc;
	bool		ok;

	if (!OidIsValid(relid))
		return NULL;
	rel = try_table_open(relid, lockmode);
	if (rel == NULL)
	{
		/* dropped since it was cached (DROP EXTENSION elsewhere): look again */
		relid_cached = 0;
		rel = table_open(sg_rows_relid(relname, false), lockmode);
	}
	desc = RelationGetDescr(rel);
	ok = desc->natts == ntypes;
	for (int i = 0; ok && i < ntypes; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		ok = !att->attisdropped && att->atttypid == types[i] && !att->attgenerated;
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s.%s does not have the columns this schemaguard library writes",
						SG_SCHEMA, relname),
				 errdetail("The extension's SQL objects and its shared library are of different versions, "
						   "or the table was altered."),
				 errhint("Run ALTER EXTENSION schemaguard UPDATE, or restore the table's definition.")));
	return rel;
}

/*
 * Insert one row into rel and its indexes (unique ones checked), without a
 * CommandCounterIncrement: this command does not see it.
 */
void
sg_rows_put(Relation rel, Datum *values, bool *nulls)
{
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	TupleTableSlot *slot;

	InitResultRelInfo(rri, rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);
	slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(rel), &TTSOpsHeapTuple);
	ExecStoreHeapTuple(heap_form_tuple(RelationGetDescr(rel), values, nulls), slot, true);
	table_tuple_insert(rel, slot, GetCurrentCommandId(true), 0, NULL);
	sg_insert_index_tuples(rri, slot, estate);
	ExecCloseIndices(rri);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
}

/*
 * Append one row, as sg_rows_put() does, on the hot path of the audit
 * trigger: heap_insert() with no executor state, and each index (plain
 * columns only, as ours are) given its entry through index_insert()
 * directly.  An index with expressions or a predicate falls back to
 * sg_rows_put().
 */
void
sg_rows_append(Relation rel, Datum *values, bool *nulls)
{
	List	   *indexoids = RelationGetIndexList(rel);
	int			nindexes = list_length(indexoids);
	Relation   *indexes = palloc(sizeof(Relation) * Max(nindexes, 1));
	bool		plain = true;
	HeapTuple	tup;
	int			i = 0;
	ListCell   *lc;

	/* each index opened once, under the lock the executor would take */
	foreach(lc, indexoids)
	{
		indexes[i] = index_open(lfirst_oid(lc), RowExclusiveLock);
		plain &= RelationGetIndexExpressions(indexes[i]) == NIL &&
			RelationGetIndexPredicate(indexes[i]) == NIL;
		i++;
	}
	if (!plain)
	{
		for (i = 0; i < nindexes; i++)
			index_close(indexes[i], RowExclusiveLock);
		sg_rows_put(rel, values, nulls);
		return;
	}
	tup = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	heap_insert(rel, tup, GetCurrentCommandId(true), 0, NULL);
	for (i = 0; i < nindexes; i++)
	{
		IndexInfo  *ii = BuildIndexInfo(indexes[i]);
		Datum		ivalues[INDEX_MAX_KEYS];
		bool		inulls[INDEX_MAX_KEYS];

		for (int k = 0; k < ii->ii_NumIndexAttrs; k++)
		{
			AttrNumber	att = ii->ii_IndexAttrNumbers[k];

			ivalues[k] = values[att - 1];
			inulls[k] = nulls[att - 1];
		}
		(void) index_insert(indexes[i], ivalues, inulls, &tup->t_self, rel,
							ii->ii_Unique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO, false, ii);
		sg_index_insert_cleanup(indexes[i], ii);
		/* the lock is kept to the end of the transaction, as the executor keeps it */
		index_close(indexes[i], NoLock);
	}
	heap_freetuple(tup);
	pfree(indexes);
	list_free(indexoids);
}

/* Insert one row; later lookups in this transaction see it. */
void
sg_rows_insert(Relation rel, Datum *values, bool *nulls)
{
	sg_rows_put(rel, values, nulls);
	CommandCounterIncrement();
}

/* Delete the row at tid (found by this transaction's latest snapshot). */
void
sg_rows_delete(Relation rel, ItemPointer tid)
{
	simple_heap_delete(rel, tid);
	CommandCounterIncrement();
}

/*
 * Scan schemaguard.<indexname> on rel, with at most one equality key: heap
 * column keyatt (of type INT8OID or TEXTOID; keyatt 0 for no key), with
 * the latest snapshot: it sees what committed up to now, whatever the
 * isolation level.  backward: last index entry first.
 */
SgRowScan *
sg_rows_scan(Relation rel, const char *indexname, AttrNumber keyatt, Oid keytype,
			 Datum key, bool backward)
{
	SgRowScan  *scan = palloc0(sizeof(SgRowScan));
	ScanKeyData skey;

	scan->index = index_open(sg_rows_relid(indexname, false), AccessShareLock);
	if (keyatt > 0)
		ScanKeyEntryInitialize(&skey, 0, keyatt, BTEqualStrategyNumber, InvalidOid,
							   TupleDescAttr(RelationGetDescr(rel), keyatt - 1)->attcollation,
							   keytype == INT8OID ? F_INT8EQ : F_TEXTEQ, key);
	scan->snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan->direction = backward ? BackwardScanDirection : ForwardScanDirection;
	scan->scan = systable_beginscan_ordered(rel, scan->index, scan->snapshot,
											keyatt > 0 ? 1 : 0, &skey);
	return scan;
}

HeapTuple
sg_rows_next(SgRowScan *scan)
{
	return systable_getnext_ordered(scan->scan, scan->direction);
}

void
sg_rows_end(SgRowScan *scan)
{
	systable_endscan_ordered(scan->scan);
	index_close(scan->index, AccessShareLock);
	UnregisterSnapshot(scan->snapshot);
	pfree(scan);
}

/* The TriggerData of a trigger function of ours; an error when not a trigger. */
TriggerData *
sg_trigger_data(FunctionCallInfo fcinfo)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function must be called as a trigger")));
	return (TriggerData *) fcinfo->context;
}

/*
 * The TriggerData of one of schemaguard's internal triggers, which the
 * extension script attaches to its own tables only.  Anyone with EXECUTE
 * (superusers, at least) could attach the function elsewhere, with any
 * timing, level and arguments: refuse to run unless it fires on one of
 * `tables` in schema schemaguard, at the level (row or statement) and
 * timing (TRIGGER_TYPE_BEFORE, _AFTER or _INSTEAD) it was written for.
 */
TriggerData *
sg_own_trigger_data(FunctionCallInfo fcinfo, const char *function,
					const char *const *tables, bool row, int timing)
{
	TriggerData *td = sg_trigger_data(fcinfo);
	Relation	rel = td->tg_relation;
	bool		ok = RelationGetNamespace(rel) == get_namespace_oid(SG_SCHEMA, true);
	int			fired = TRIGGER_FIRED_BEFORE(td->tg_event) ? TRIGGER_TYPE_BEFORE :
		TRIGGER_FIRED_INSTEAD(td->tg_event) ? TRIGGER_TYPE_INSTEAD : TRIGGER_TYPE_AFTER;
	bool		found = false;

	for (int i = 0; ok && tables[i] != NULL; i++)
		found |= strcmp(RelationGetRelationName(rel), tables[i]) == 0;
	if (!ok || !found || row != (TRIGGER_FIRED_FOR_ROW(td->tg_event) != 0) || fired != timing ||
		td->tg_trigger->tgnargs != 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("schemaguard.%s() is an internal trigger of schemaguard", function),
				 errdetail("Trigger \"%s\" on \"%s\" was not created by the extension.",
						   td->tg_trigger->tgname, RelationGetRelationName(rel)),
				 errhint("Drop the trigger.")));
	return td;
}

/*
 * SPI for the queries schemaguard runs itself, under search_path
 * pg_catalog, pg_temp (with pg_temp last, as for SECURITY DEFINER
 * functions): an operator, function, cast or table that a query names
 * without a schema can never resolve to one the caller created.  The
 * setting is saved as for a function's SET clause and restored by
 * sg_spi_finish(), or by the (sub)transaction abort on error.  Returns the
 * GUC nest level to hand to sg_spi_finish().
 */
int
sg_spi_connect(void)
{
	int			level;

	SPI_connect();
	level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return level;
}

/*
 * Run fn(arg) in an internal subtransaction, for a step whose error the
 * caller turns into something else (a lint row, an unknown size, SG030).
 * NULL when fn returned; else the error it raised, copied into the
 * caller's memory context, after the subtransaction was rolled back.  The
 * caller restores what fn changed, then rethrows what it must not swallow
 * (ReThrowError(); a query cancel at least).
 */
ErrorData *
sg_try_in_subxact(void (*fn) (void *arg), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return edata;
}

/* End what sg_spi_connect() began. */
void
sg_spi_finish(int level)
{
	AtEOXact_GUC(true, level);
	SPI_finish();
}

/* The role that owns the extension (a superuser when it was created). */
Oid
sg_extension_owner(void)
{
	Oid			extoid = get_extension_oid("schemaguard", false);
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!OidIsValid(owner))
		elog(ERROR, "could not find the owner of extension schemaguard");
	return owner;
}

/*
 * Run statements through SPI (and so through the guard) as the extension's
 * owner, under sg_spi_connect()'s search_path.  For triggers whose
 * functions are not executable by PUBLIC: the caller has checked that the
 * current user may change the table.
 */
void
sg_run_as_owner(List *statements)
{
	Oid			save_userid;
	int			save_sec;
	int			spi_level;
	ListCell   *lc;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	spi_level = sg_spi_connect();
	SetUserIdAndSecContext(sg_extension_owner(), save_sec | SECURITY_LOCAL_USERID_CHANGE);
	sg_own_ddl_depth++;
	PG_TRY();
	{
		foreach(lc, statements)
		{
			int			rc = SPI_execute(lfirst(lc), false, 0);

			if (rc < 0)
				elog(ERROR, "schemaguard: could not run \"%s\": %s", (char *) lfirst(lc),
					 SPI_result_code_string(rc));
		}
	}
	PG_FINALLY();
	{
		sg_own_ddl_depth--;
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_END_TRY();
	sg_spi_finish(spi_level);
}

/*
 * The DDL that schemaguard's own functions run (enable_audit(),
 * enable_tenant_isolation() ...) is fixed, short and safe: the rules do not
 * judge it while sg_own_ddl_depth > 0 (hooks.c).  Instead the function
 * locks its tables first, in core's order, with a bounded wait of its own:
 * lock_timeout if set, else schemaguard.default_lock_timeout, else
 * SG_OWN_LOCK_TIMEOUT_MS.  A lock not granted in time is a clear error that
 * names the sessions in the way, so a busy table never queues everything
 * behind the function for longer than that.
 */
int			sg_own_ddl_depth = 0;

#define SG_OWN_LOCK_TIMEOUT_MS	5000

void
sg_lock_for_own_ddl(List *relids, LOCKMODE mode, const char *function)
{
	volatile int timeout = LockTimeout > 0 ? LockTimeout :
		sg_default_lock_timeout > 0 ? sg_default_lock_timeout : SG_OWN_LOCK_TIMEOUT_MS;
	ListCell   *lc;

	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);
		char	   *blockers;
		MemoryContext cxt = CurrentMemoryContext;
		int			level;

		if (ConditionalLockRelationOid(relid, mode))
			continue;
		/* Who is in the way now, for the error if the wait times out. */
		blockers = sg_lock_blockers(relid, mode);
		level = NewGUCNestLevel();
		(void) set_config_option("lock_timeout", psprintf("%d", timeout), PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		PG_TRY();
		{
			LockRelationOid(relid, mode);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
				PG_RE_THROW();
			FlushErrorState();
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("%s could not lock table %s within %d ms", function,
							sg_qualified_relname(relid), timeout),
					 errdetail("It needs %s on it, and other sessions are in the way:\n%s",
							   sg_lock_name(mode), blockers ? blockers : "(they had gone when looked up)"),
					 errhint("Retry when they have finished. The wait is bounded by lock_timeout, "
							 "or schemaguard.default_lock_timeout when that is 0 (%d ms when both are).",
							 SG_OWN_LOCK_TIMEOUT_MS)));
		}
		PG_END_TRY();
		AtEOXact_GUC(true, level);
	}
}

/*
 * Ids for our own tables (ddl_log, the migration history, audit batches).
 *
 * nextval() would make lastval() return our id: the extension would change
 * what core answers an application that calls lastval() after its own
 * INSERT, with DDL or an audited write in between.  So, when the library is
 * preloaded, ids come from a block reserved in shared memory: one slot per
 * (database, sequence) holds the next id and the end of the reserved
 * block; the block is reserved by setval() on the sequence (WAL-logged,
 * not transactional, and setval() leaves lastval() alone), so after a
 * restart ids continue above every block ever handed out.  Without the
 * shared memory (library not preloaded) nextval() is used, and lastval()
 * can show our ids: docs/rules.md says so.
 */
#define SG_ID_SLOTS		128
#define SG_ID_BLOCK		1000

typedef struct IdSlot
{
	Oid			dbid;
	Oid			seqid;
	int64		next;			/* the next id to hand out */
	int64		limit;			/* first id past the reserved block */
} IdSlot;

typedef struct IdShared
{
	LWLock	   *lock;
	int			nslots;
	IdSlot		slots[SG_ID_SLOTS];
} IdShared;

static IdShared *id_shared = NULL;

void
sg_ids_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(IdShared)));
	RequestNamedLWLockTranche("schemaguard ids", 1);
}

void
sg_ids_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	id_shared = ShmemInitStruct("schemaguard ids", sizeof(IdShared), &found);
	if (!found)
	{
		memset(id_shared, 0, sizeof(IdShared));
		id_shared->lock = &(GetNamedLWLockTranche("schemaguard ids"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* The value nextval() would return next, read as the extension's owner. */
static int64
sequence_next(Oid seqid, int64 step)
{
	Oid			save_userid;
	int			save_sec;
	volatile int64 next = 0;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(sg_extension_owner(), save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		int			spi_level;
		bool		isnull;
		bool		pushed = false;

		/* at PRE_COMMIT (the ddl_log rows are written then) there is none */
		if (!ActiveSnapshotSet())
		{
			PushActiveSnapshot(GetTransactionSnapshot());
			pushed = true;
		}
		spi_level = sg_spi_connect();

		if (SPI_execute(psprintf("SELECT last_value, is_called FROM %s",
								 quote_qualified_identifier(get_namespace_name(get_rel_namespace(seqid)),
															get_rel_name(seqid))),
						true, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not read sequence %u", seqid);
		next = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)))
			next += step;
		sg_spi_finish(spi_level);
		if (pushed)
			PopActiveSnapshot();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_END_TRY();
	return next;
}

/* The slot of (this database, seqid), or NULL; under the lock. */
static IdSlot *
find_slot(Oid seqid)
{
	for (int i = 0; i < id_shared->nslots; i++)
	{
		if (id_shared->slots[i].dbid == MyDatabaseId && id_shared->slots[i].seqid == seqid)
			return &id_shared->slots[i];
	}
	return NULL;
}

/* Reserve ids up to limit - step: setval(seq, limit - step), as the extension's owner. */
static void
sequence_reserve(Oid seqid, int64 last)
{
	Oid			save_userid;
	int			save_sec;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(sg_extension_owner(), save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		(void) DirectFunctionCall2(setval_oid, ObjectIdGetDatum(seqid), Int64GetDatum(last));
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_END_TRY();
}

/*
 * The next id of sequence seqid (which steps by step), without touching
 * lastval(), from a block of ids reserved in shared memory.  Only when the
 * block is used up is the sequence itself locked and advanced; its lock is
 * taken before the LWLock, so that setval() under the LWLock never waits
 * for a heavyweight lock.
 */
int64
sg_next_id(Oid seqid, int64 step)
{
	IdSlot	   *volatile slot;
	volatile int64 id = 0;

	if (id_shared == NULL)
		return nextval_internal(seqid, false);
	/* the common case: the block reserved earlier still has ids */
	LWLockAcquire(id_shared->lock, LW_EXCLUSIVE);
	slot = find_slot(seqid);
	if (slot != NULL && slot->next < slot->limit)
	{
		id = slot->next;
		slot->next += step;
		LWLockRelease(id_shared->lock);
		return id;
	}
	LWLockRelease(id_shared->lock);

	/* the sequence is read or advanced: lock it as nextval() does */
	LockRelationOid(seqid, RowExclusiveLock);
	LWLockAcquire(id_shared->lock, LW_EXCLUSIVE);
	slot = find_slot(seqid);
	if (slot == NULL)
	{
		int64		next;

		/* first use since startup: continue after what the sequence says */
		LWLockRelease(id_shared->lock);
		next = sequence_next(seqid, step);
		LWLockAcquire(id_shared->lock, LW_EXCLUSIVE);
		slot = find_slot(seqid);
		if (slot == NULL)
		{
			if (id_shared->nslots == SG_ID_SLOTS)
			{
				LWLockRelease(id_shared->lock);
				return nextval_internal(seqid, false);
			}
			slot = &id_shared->slots[id_shared->nslots++];
			slot->dbid = MyDatabaseId;
			slot->seqid = seqid;
			slot->next = slot->limit = next;
		}
	}
	PG_TRY();
	{
		if (slot->next >= slot->limit)
		{
			sequence_reserve(seqid, slot->next + (SG_ID_BLOCK - 1) * step);
			slot->limit = slot->next + SG_ID_BLOCK * step;
		}
		id = slot->next;
		slot->next += step;
	}
	PG_FINALLY();
	{
		LWLockRelease(id_shared->lock);
	}
	PG_END_TRY();
	return id;
}
