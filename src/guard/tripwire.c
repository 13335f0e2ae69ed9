/*-------------------------------------------------------------------------
 *
 * tripwire.c
 *		Rule unpredicted-rewrite: an observation of what core does, for the
 *		paths the rules did not predict.
 *
 * The rules predict, from a statement's parse tree, whether core will
 * rewrite a table or build an index under a lock.  Every major adds paths.
 * This file does not predict: the object access hook calls it when core
 * creates a relation, and it recognises the two moments when the work
 * under the lock is about to start, before a row is copied:
 *
 *	- a rewrite: make_new_heap() creates the transient heap "pg_temp_<oid>"
 *	  of the table it is about to copy (ALTER TABLE's rewrites, CLUSTER,
 *	  VACUUM FULL, REFRESH MATERIALIZED VIEW, and whatever a major adds);
 *	- an index build without CONCURRENTLY: index_create() of an index whose
 *	  pg_index row is ready (a CONCURRENTLY build creates it not ready).
 *
 * It refuses then when the table is populated beyond
 * schemaguard.small_table_size, is not temporary or created by this
 * transaction, and no rule judged the statement (a finding at any level, an
 * allow() or an ignore comment means a rule foresaw it).  The finding goes
 * through the engine, so levels, allow('unpredicted-rewrite', ...), ignore
 * comments and the mode apply.  REFRESH ... CONCURRENTLY's temporary diff
 * table is not a rewrite.  Not observed: ALTER TABLE ... SET TABLESPACE
 * and REINDEX without CONCURRENTLY (core copies or rebuilds in place, with
 * no new relation; their rules judge them), and validation scans (no hook
 * point: their rules judge them).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "storage/bufmgr.h"
#include "tcop/utility.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "schemaguard.h"

/*
 * The heap an index being created belongs to, and whether it is built now
 * (not a CONCURRENTLY build), from its pg_index row: written by this very
 * command, so read with SnapshotSelf.
 */
static Oid
index_heap(Oid indexid, bool *ready)
{
	Relation	rel = table_open(IndexRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			heap = InvalidOid;

	ScanKeyInit(&key, Anum_pg_index_indexrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(indexid));
	scan = systable_beginscan(rel, IndexRelidIndexId, true, SnapshotSelf, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		heap = ((Form_pg_index) GETSTRUCT(tup))->indrelid;
		*ready = ((Form_pg_index) GETSTRUCT(tup))->indisready;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return heap;
}

/*
 * The table whose work is about to start, if relid (just created) is a
 * transient heap or an index built now; InvalidOid otherwise.  *what says
 * which.
 */
static Oid
work_target(Oid relid, const char **what)
{
	Relation	rel = RelationIdGetRelation(relid);
	Oid			target = InvalidOid;

	if (!RelationIsValid(rel))
		return InvalidOid;
	if (rel->rd_rel->relkind == RELKIND_RELATION || rel->rd_rel->relkind == RELKIND_MATVIEW)
	{
		unsigned int old;
		char		tail;

		/* make_new_heap(): "pg_temp_<the old table's oid>" */
		if (sscanf(NameStr(rel->rd_rel->relname), "pg_temp_%u%c", &old, &tail) == 1 &&
			old != relid && OidIsValid(old))
		{
			char		oldpersistence = get_rel_persistence(old);

			/* REFRESH ... CONCURRENTLY's temporary diff table copies nothing in place */
			if (oldpersistence != '\0' &&
				!(rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP &&
				  oldpersistence != RELPERSISTENCE_TEMP))
			{
				target = old;
				*what = "rewrite";
			}
		}
	}
	else if (rel->rd_rel->relkind == RELKIND_INDEX)
	{
		bool		ready = false;
		Oid			heap = index_heap(relid, &ready);

		if (OidIsValid(heap) && ready)
		{
			target = heap;
			*what = "build an index on";
		}
	}
	RelationClose(rel);
	return target;
}

/*
 * Called by the object access hook for each relation the running statement
 * creates (st: the statement; judged: a rule judged it).  Refuses, through
 * the engine, work under a lock on a populated table that no rule
 * predicted.
 */
void
sg_tripwire_created(const SgStatement *st, bool judged, Oid relid)
{
	const SgRule *rule;
	const char *what = NULL;
	Oid			target;
	SgLockSpec	locks = {AccessShareLock, NoLock, true, NULL, false, false};
	SgRelFacts	t;
	int64		bytes;
	List	   *findings = NIL;
	char	   *qual;

	if (judged)
		return;
	/* REFRESH ... WITH NO DATA swaps in an empty heap: nothing is copied */
	if (IsA(st->parsetree, RefreshMatViewStmt) && ((RefreshMatViewStmt *) st->parsetree)->skipData)
		return;
	/*
	 * REPACK (CONCURRENTLY) (19) copies into a new heap while reads and
	 * writes go on: the online rewrite the rules recommend, judged safe.
	 */
	if (nodeTag(st->parsetree) == T_SgClusterStmt && sg_cluster_concurrent((SgClusterStmt *) st->parsetree))
		return;
	rule = sg_rule_by_id("unpredicted-rewrite");
	if (rule == NULL || sg_rule_level(rule) == SG_LEVEL_OFF)
		return;
	target = work_target(relid, &what);
	if (!OidIsValid(target))
		return;
	/*
	 * Judged as the rules judge a table: populated, not created by this
	 * transaction, not temporary, above schemaguard.small_table_size.  The
	 * statement holds a stronger lock on it already.
	 */
	sg_init_facts(&t);
	sg_catalog_relation_facts(target, locks, false, &t);
	if (!sg_facts_work_at_risk(&t) || get_rel_namespace(target) == get_namespace_oid(SG_SCHEMA, true))
		return;
	bytes = t.bytes;
	qual = (char *) sg_qualified_relname(target);
	sg_add_finding(&findings, rule,
				   psprintf("%s, about to %s %s under its lock, which no rule predicted,",
							GetCommandTagName(CreateCommandTag(st->parsetree)), what, qual),
				   psprintf("PostgreSQL is about to %s %s (%lld kB) while the statement holds its lock; "
							"schemaguard's rules did not foresee it from the statement, so it was "
							"stopped before a row was copied. Please report the statement: a rule "
							"should predict it.",
							what, qual, (long long) (bytes / 1024)),
				   sg_unpredicted_hint(st));
	sg_report_extra(st, findings);
}
