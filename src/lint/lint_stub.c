/*-------------------------------------------------------------------------
 *
 * lint_stub.c
 *		An index access method that holds nothing, for schemaguard-lint's
 *		throwaway server: a migration history that uses an extension the
 *		machine does not have (pgvector's hnsw and ivfflat) replays with
 *		--stub-extension, which creates the extension's types, operator
 *		classes and access methods as shells.  An index of this access
 *		method accepts any options, builds nothing and finds nothing; only
 *		the CLI's superuser, on its own throwaway server, creates one
 *		(CREATE FUNCTION ... LANGUAGE C needs a superuser).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "access/relscan.h"
#include "fmgr.h"
#include "nodes/pathnodes.h"
#include "utils/selfuncs.h"

#include "compat.h"

PG_FUNCTION_INFO_V1(sg_stub_index_am_handler);

static IndexBuildResult *
stub_build(Relation heap, Relation index, IndexInfo *info)
{
	return palloc0(sizeof(IndexBuildResult));
}

static void
stub_buildempty(Relation index)
{
}

static bool
stub_insert(Relation index, Datum *values, bool *isnull, ItemPointer tid, Relation heap,
			IndexUniqueCheck check, bool unchanged, IndexInfo *info)
{
	return false;
}

static IndexBulkDeleteResult *
stub_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				IndexBulkDeleteCallback callback, void *state)
{
	return stats;
}

static IndexBulkDeleteResult *
stub_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	return stats;
}

static void
stub_costestimate(PlannerInfo *root, IndexPath *path, double loop_count, Cost *startup,
				  Cost *total, Selectivity *selectivity, double *correlation, double *pages)
{
	/* never chosen */
	*startup = *total = 1.0e10;
	*selectivity = 1.0;
	*correlation = 0.0;
	*pages = 1.0;
}

static bytea *
stub_options(Datum reloptions, bool validate)
{
	return NULL;				/* any option the extension's own would take */
}

static bool
stub_validate(Oid opclassoid)
{
	return true;
}

static IndexScanDesc
stub_beginscan(Relation index, int nkeys, int norderbys)
{
	return RelationGetIndexScan(index, nkeys, norderbys);
}

static void
stub_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
}

static bool
stub_gettuple(IndexScanDesc scan, ScanDirection dir)
{
	return false;
}

static void
stub_endscan(IndexScanDesc scan)
{
}

Datum
sg_stub_index_am_handler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 0;
	am->amsupport = 0;
	am->amcanorderbyop = true;
	am->amcanmulticol = true;
	am->amoptionalkey = true;
	am->amcaninclude = true;
	am->amkeytype = InvalidOid;
	am->ambuild = stub_build;
	am->ambuildempty = stub_buildempty;
	am->aminsert = stub_insert;
	am->ambulkdelete = stub_bulkdelete;
	am->amvacuumcleanup = stub_vacuumcleanup;
	am->amcostestimate = stub_costestimate;
	am->amoptions = stub_options;
	am->amvalidate = stub_validate;
	am->ambeginscan = stub_beginscan;
	am->amrescan = stub_rescan;
	am->amgettuple = stub_gettuple;
	am->amendscan = stub_endscan;
	PG_RETURN_POINTER(am);
}
