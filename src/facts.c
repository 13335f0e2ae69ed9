/*-------------------------------------------------------------------------
 *
 * facts.c
 *		The live fact source: what the server knows about a statement's
 *		target, read from the catalog and the relation itself.
 *
 * Locking.  A relation is looked up by name without a lock, its ownership is
 * checked, and only then is it locked with exactly the lock core is about to
 * take (table before index, partitions through find_all_inheritors, as core
 * does).  So the hook never queues a lock request for a relation the user may
 * not touch, never takes a weaker lock that core then upgrades, and never
 * holds a stronger one.  Names are resolved with missing_ok, so core still
 * raises its own "does not exist" error.
 *
 * Emptiness.  A table is empty when its main fork has no blocks, or when it
 * has at most SG_EMPTY_SCAN_BLOCKS blocks and a scan with a fresh snapshot
 * finds no row.  The lock is already held at that point, so no concurrent
 * writer can be mid-insert.  A larger table counts as populated even if every
 * row is dead: its size, not its row count, is what the lock is held for.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "compat.h"
#include "schemaguard.h"

#define SG_EMPTY_SCAN_BLOCKS	8

/* Reset facts to "does not exist". */
static void
init_facts(SgRelFacts *out)
{
	memset(out, 0, sizeof(SgRelFacts));
	out->bytes = -1;
	out->rows = -1;
}

/* Schema-qualified, quoted name of a relation. */
static const char *
qualified_name(Oid relid)
{
	char	   *nsp = get_namespace_name(get_rel_namespace(relid));
	char	   *rel = get_rel_name(relid);

	if (nsp == NULL || rel == NULL)
		return "?";
	return quote_qualified_identifier(nsp, rel);
}

/* Does this table hold rows?  See the file header for the definition. */
bool
sg_rel_is_empty(Relation rel)
{
	BlockNumber nblocks;
	Snapshot	snap;
	TableScanDesc scan;
	TupleTableSlot *slot;
	bool		found;

	if (!RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
		return true;
	nblocks = RelationGetNumberOfBlocks(rel);
	if (nblocks == 0)
		return true;
	if (nblocks > SG_EMPTY_SCAN_BLOCKS)
		return false;

	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snap, 0, NULL);
	slot = table_slot_create(rel, NULL);
	found = table_scan_getnextslot(scan, ForwardScanDirection, slot);
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snap);
	return !found;
}

/* Add one table's size and emptiness to the facts. */
static void
add_table(Relation rel, SgRelFacts *out)
{
	if (!RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
		return;
	out->bytes += (int64) RelationGetNumberOfBlocks(rel) * BLCKSZ;
	if (rel->rd_rel->reltuples > 0)
		out->rows += rel->rd_rel->reltuples;
	if (!sg_rel_is_empty(rel))
		out->populated = true;
}

/*
 * Fill size facts for a table, summing the leaf partitions of a partitioned
 * table (locked as core locks them) when recurse is set.
 */
static void
table_facts(Relation rel, LOCKMODE lockmode, bool recurse, SgRelFacts *out)
{
	out->bytes = 0;
	out->rows = 0;
	out->created_in_xact = rel->rd_createSubid != InvalidSubTransactionId;
	out->is_temp = rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP;

	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE && recurse)
	{
		List	   *children = find_all_inheritors(RelationGetRelid(rel), lockmode, NULL);
		ListCell   *lc;

		foreach(lc, children)
		{
			Oid			child = lfirst_oid(lc);
			Relation	crel;

			if (child == RelationGetRelid(rel))
				continue;
			crel = try_relation_open(child, NoLock);
			if (crel == NULL)
				continue;
			if (RELKIND_HAS_STORAGE(crel->rd_rel->relkind))
			{
				out->npartitions++;
				if (out->example_partition == NULL)
					out->example_partition = qualified_name(child);
			}
			add_table(crel, out);
			relation_close(crel, NoLock);
		}
	}
	else
		add_table(rel, out);

	if (out->rows <= 0 && rel->rd_rel->reltuples < 0)
		out->rows = -1;
}

/*
 * Facts about relation relid (a table, or an index and its table), locked
 * as the SgLockSpec says.
 */
static void
relation_facts(Oid relid, SgLockSpec locks, SgRelFacts *out)
{
	char		relkind = get_rel_relkind(relid);
	Oid			heapid = relid;
	Relation	heap;

	if (relkind == '\0')
		return;
	if (relkind == RELKIND_INDEX || relkind == RELKIND_PARTITIONED_INDEX)
	{
		heapid = IndexGetRelation(relid, true);
		if (!OidIsValid(heapid))
			return;
	}
	out->exists = true;
	out->relid = relid;
	out->relkind = relkind;

	/*
	 * Never queue a lock for a relation core is about to reject: the wrong
	 * kind, or one the user may not alter.  Core raises its own error.
	 */
	if (locks.relkinds && strchr(locks.relkinds, relkind) == NULL)
		return;
	if (!sg_may_maintain(relid, GetUserId()))
		return;

	LockRelationOid(heapid, locks.table);
	if (heapid != relid)
		LockRelationOid(relid, locks.index);

	/* It may have been dropped while we waited for the lock. */
	heap = try_relation_open(heapid, NoLock);
	if (heap == NULL || (heapid != relid &&
						 !SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid))))
	{
		if (heap)
			relation_close(heap, NoLock);
		out->exists = false;
		return;
	}

	out->checkable = true;
	out->qualname = qualified_name(relid);
	out->table_qualname = qualified_name(heapid);
	table_facts(heap, locks.table, locks.recurse, out);
	relation_close(heap, NoLock);
}

/* SgFactSource.relation for the live server. */
static void
live_relation(SgFactSource *self, const RangeVar *rv, SgLockSpec locks,
			  SgRelFacts *out)
{
	Oid			relid;

	init_facts(out);
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (OidIsValid(relid))
		relation_facts(relid, locks, out);
}

/* SgFactSource.has_column for the live server. */
static bool
live_has_column(SgFactSource *self, const SgRelFacts *rel, const char *column)
{
	return get_attnum(rel->relid, column) != InvalidAttrNumber;
}

/* SgFactSource.sibling_exists for the live server. */
static bool
live_sibling_exists(SgFactSource *self, const SgRelFacts *rel, const char *name)
{
	return OidIsValid(get_relname_relid(name, get_rel_namespace(rel->relid)));
}

/*
 * SgFactSource.namespace for the live server: user tables with indexes in
 * one schema, or in the whole database when nspname is NULL.  At this scope a
 * table counts as populated when it has any block; pg_relation_size() takes
 * and releases an ACCESS SHARE lock per table, as the REINDEX that follows
 * processes each table in a transaction of its own.
 */
static void
live_namespace(SgFactSource *self, const char *nspname, SgRelFacts *out)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	char		nulls[1] = {' '};
	MemoryContext caller = CurrentMemoryContext;

	init_facts(out);
	out->exists = true;
	out->checkable = true;
	out->bytes = 0;
	values[0] = nspname ? CStringGetTextDatum(nspname) : (Datum) 0;
	if (nspname == NULL)
		nulls[0] = 'n';

	SPI_connect();
	if (SPI_execute_with_args(
							  "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname),"
							  "       pg_catalog.pg_relation_size(c.oid)"
							  "  FROM pg_catalog.pg_class c"
							  "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
							  " WHERE c.relkind IN ('r', 'm') AND c.relhasindex"
							  "   AND c.relpersistence <> 't'"
							  "   AND CASE WHEN $1 IS NULL"
							  "            THEN n.nspname NOT IN ('pg_catalog', 'information_schema')"
							  "                 AND n.nspname !~ '^pg_toast'"
							  "            ELSE n.nspname = $1 END"
							  " ORDER BY 2 DESC, 1",
							  1, argtypes, values, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list the tables of a schema");

	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		int64		size = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r],
													   SPI_tuptable->tupdesc, 2, &isnull));

		if (isnull || size <= 0)
			continue;
		if (out->qualname == NULL)
			out->qualname = MemoryContextStrdup(caller,
												SPI_getvalue(SPI_tuptable->vals[r],
															 SPI_tuptable->tupdesc, 1));
		out->populated = true;
		out->ntables++;
		out->bytes += size;
	}
	SPI_finish();
}

/* The fact source the live hook uses. */
SgFactSource *
sg_live_fact_source(void)
{
	static SgFactSource live = {
		live_relation, live_has_column, live_sibling_exists, live_namespace, NULL
	};

	return &live;
}
