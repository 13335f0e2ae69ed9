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

/*
 * Run fn in an internal subtransaction that is rolled back afterwards,
 * whether fn succeeds or fails: every lock it took is released and nothing
 * it did is kept, but what it wrote to memory of the caller's context.  An
 * error is raised again after the rollback.
 */
void
sg_run_and_undo(void (*fn) (void *arg), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		ReThrowError(edata);
	}
	PG_END_TRY();
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
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
/* The role that called the function running our own DDL, while it runs. */
static Oid	own_ddl_caller = InvalidOid;

/*
 * The role a DDL statement is recorded under (ddl_log): the current user,
 * but for the DDL that our own functions run as the extension's owner
 * (sg_run_as_owner()), the role that called them.
 */
Oid
sg_statement_role(void)
{
	return sg_own_ddl_depth > 0 && OidIsValid(own_ddl_caller) ? own_ddl_caller : GetUserId();
}

void
sg_run_as_owner(List *statements)
{
	Oid			save_userid;
	int			save_sec;
	int			spi_level;
	ListCell   *lc;
	Oid			save_caller = own_ddl_caller;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	spi_level = sg_spi_connect();
	if (sg_own_ddl_depth == 0)
		own_ddl_caller = save_userid;
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
		own_ddl_caller = save_caller;
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

/* Schema-qualified, quoted name of a relation. */
const char *
sg_qualified_relname(Oid relid)
{
	char	   *nsp = get_namespace_name(get_rel_namespace(relid));
	char	   *rel = get_rel_name(relid);

	if (nsp == NULL || rel == NULL)
		return "?";
	return quote_qualified_identifier(nsp, rel);
}

/*
 * The sessions that hold or await a lock on relid that conflicts with mode,
 * as one line each: pid, role, application, state and for how long, the
 * lock, and the start of the query.  They are read from pg_locks and
 * pg_stat_activity as the caller may see them (another role's query stays
 * hidden unless the caller has pg_read_all_stats).  NULL when none is left.
 */
char *
sg_lock_blockers(Oid relid, LOCKMODE mode)
{
	LOCKTAG		tag;
	LockMethod	method;
	Datum	   *modes = palloc(sizeof(Datum) * MAX_LOCKMODES);
	int			nmodes = 0;
	Oid			argtypes[3] = {OIDOID, OIDOID, TEXTARRAYOID};
	Datum		values[3];
	StringInfoData buf;
	List	   *rows;
	ListCell   *lc;

	SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	method = GetLockTagsMethodTable(&tag);
	for (int m = 1; m <= method->numLockModes; m++)
	{
		if (method->conflictTab[mode] & LOCKBIT_ON(m))
			modes[nmodes++] = CStringGetTextDatum(GetLockmodeName(DEFAULT_LOCKMETHOD, m));
	}
	values[0] = ObjectIdGetDatum(MyDatabaseId);
	values[1] = ObjectIdGetDatum(relid);
	values[2] = PointerGetDatum(construct_array(modes, nmodes, TEXTOID, -1, false, TYPALIGN_INT));

	initStringInfo(&buf);
	rows = sg_spi_values("SELECT CASE WHEN l.pid IS NULL"
							  "  THEN pg_catalog.format('prepared transaction %s (owner %s) %s %s',"
							  "    COALESCE(pg_catalog.quote_literal(p.gid), '?'), COALESCE(pg_catalog.quote_ident(p.owner::pg_catalog.text), '?'),"
							  "    CASE WHEN pg_catalog.bool_and(l.granted) THEN 'holds' ELSE 'awaits' END,"
							  "    pg_catalog.string_agg(pg_catalog.upper(pg_catalog.regexp_replace(pg_catalog.regexp_replace("
							  "      l.mode, 'Lock$', ''), '([a-z])([A-Z])', '\\1 \\2', 'g')), ' and ' ORDER BY l.mode))"
							  "  ELSE pg_catalog.format('pid %s (role %s, application %s, %s for %s s) %s %s: %s',"
							  "    l.pid, COALESCE(pg_catalog.quote_ident(a.usename::pg_catalog.text), '?'),"
							  "    COALESCE(pg_catalog.quote_literal(a.application_name), '?'),"
							  "    COALESCE(a.state, 'state hidden'),"
							  "    COALESCE(pg_catalog.floor(pg_catalog.date_part('epoch',"
							  "      pg_catalog.now() OPERATOR(pg_catalog.-) COALESCE(a.xact_start, a.backend_start)))::pg_catalog.int8::pg_catalog.text, '?'),"
							  "    CASE WHEN pg_catalog.bool_and(l.granted) THEN 'holds' ELSE 'awaits' END,"
							  "    pg_catalog.string_agg(pg_catalog.upper(pg_catalog.regexp_replace(pg_catalog.regexp_replace("
							  "      l.mode, 'Lock$', ''), '([a-z])([A-Z])', '\\1 \\2', 'g')), ' and ' ORDER BY l.mode),"
							  "    COALESCE(pg_catalog.\"left\"(pg_catalog.regexp_replace(a.query, '\\s+', ' ', 'g'), 80), 'query hidden')) END"
							  "  FROM pg_catalog.pg_locks l"
							  "  LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid"
							  "  LEFT JOIN pg_catalog.pg_prepared_xacts p ON l.pid IS NULL AND p.transaction OPERATOR(pg_catalog.=) ("
							  "    SELECT x.transactionid FROM pg_catalog.pg_locks x WHERE x.locktype OPERATOR(pg_catalog.=) 'transactionid'"
							  "       AND x.pid IS NULL AND x.virtualtransaction OPERATOR(pg_catalog.=) l.virtualtransaction LIMIT 1)"
							  " WHERE l.locktype OPERATOR(pg_catalog.=) 'relation'"
							  "   AND l.database OPERATOR(pg_catalog.=) $1 AND l.relation OPERATOR(pg_catalog.=) $2"
							  "   AND (l.pid IS NULL OR l.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid())"
							  "   AND l.mode OPERATOR(pg_catalog.=) ANY ($3)"
							  " GROUP BY l.pid, l.virtualtransaction, p.gid, p.owner, a.usename, a.application_name, a.state,"
							  "          a.xact_start, a.backend_start, a.query"
							  " ORDER BY pg_catalog.bool_and(l.granted) DESC, l.pid NULLS LAST, p.gid LIMIT 6",
							  3, argtypes, values, 0);
	foreach(lc, rows)
	{
		char	   *line = linitial(lfirst(lc));

		if (foreach_current_index(lc) >= 5)
			break;

		if (line == NULL)
			continue;
		if (buf.len > 0)
			appendStringInfoChar(&buf, '\n');
		appendStringInfoString(&buf, line);
	}
	if (list_length(rows) > 5)
		appendStringInfoString(&buf, "\n... and more");
	return buf.len > 0 ? buf.data : NULL;
}

/* A text Datum of s, or (s NULL) a null. */
Datum
sg_text_datum_or_null(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/*
 * The rows a read-only query with nargs arguments returns, through SPI
 * (sg_spi_connect(): search_path pinned), as text: a List of rows, each a
 * List of C strings (NULL for a null), in the caller's memory context; at
 * most limit rows (0: all).
 */
List *
sg_spi_values(const char *sql, int nargs, Oid *argtypes, Datum *args, long limit)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *rows = NIL;
	int			spi_level = sg_spi_connect();

	if (SPI_execute_with_args(sql, nargs, argtypes, args, NULL, true, limit) != SPI_OK_SELECT)
		elog(ERROR, "could not run an internal query: %s", sql);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(caller);
		List	   *row = NIL;

		for (int c = 1; c <= SPI_tuptable->tupdesc->natts; c++)
		{
			char	   *v = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, c);

			row = lappend(row, v ? pstrdup(v) : NULL);
		}
		rows = lappend(rows, row);
		MemoryContextSwitchTo(old);
	}
	sg_spi_finish(spi_level);
	return rows;
}

/*
 * A list of items that each carry a SubTransactionId at subid_offset:
 * subtransaction subid aborted, so its items (and those of the ones it
 * held, which have higher ids) go; it committed, so they belong to parent.
 */
List *
sg_subxact_list_abort(List *items, size_t subid_offset, SubTransactionId subid)
{
	ListCell   *lc;

	foreach(lc, items)
	{
		if (*(SubTransactionId *) ((char *) lfirst(lc) + subid_offset) >= subid)
			items = foreach_delete_current(items, lc);
	}
	return items;
}

void
sg_subxact_list_commit(List *items, size_t subid_offset, SubTransactionId subid,
					   SubTransactionId parent)
{
	ListCell   *lc;

	foreach(lc, items)
	{
		SubTransactionId *id = (SubTransactionId *) ((char *) lfirst(lc) + subid_offset);

		if (*id == subid)
			*id = parent;
	}
}

/*
 * The transactional lists of schemaguard (deferred findings, allow() grants,
 * pending ddl_log rows), each a static List in TopTransactionContext whose
 * items carry their subtransaction: registered once, kept by the hook's
 * transaction callbacks (sg_xact_lists_*()).
 */
typedef struct XactList
{
	List	  **list;
	size_t		subid_offset;
} XactList;

static XactList xact_lists[8];
static int	nxact_lists = 0;

void
sg_register_xact_list(List **list, size_t subid_offset)
{
	if (nxact_lists >= lengthof(xact_lists))
		elog(ERROR, "schemaguard: too many transactional lists");
	xact_lists[nxact_lists].list = list;
	xact_lists[nxact_lists++].subid_offset = subid_offset;
}

/* The transaction ended: the lists went with TopTransactionContext. */
void
sg_xact_lists_end(void)
{
	for (int i = 0; i < nxact_lists; i++)
		*xact_lists[i].list = NIL;
}

void
sg_xact_lists_subxact_abort(SubTransactionId subid)
{
	for (int i = 0; i < nxact_lists; i++)
		*xact_lists[i].list = sg_subxact_list_abort(*xact_lists[i].list,
													xact_lists[i].subid_offset, subid);
}

void
sg_xact_lists_subxact_commit(SubTransactionId subid, SubTransactionId parent)
{
	for (int i = 0; i < nxact_lists; i++)
		sg_subxact_list_commit(*xact_lists[i].list, xact_lists[i].subid_offset, subid, parent);
}
