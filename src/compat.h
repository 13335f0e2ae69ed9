/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Every PostgreSQL major-version difference schemaguard cares about.
 *
 * No other file may test PG_VERSION_NUM.  When a new major changes an API
 * we use, add a small island here and keep the callers version-free.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SCHEMAGUARD_COMPAT_H
#define SCHEMAGUARD_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
#error "schemaguard requires PostgreSQL 15 or later"
#endif

#include "utils/acl.h"

/* Ownership checks became generic object_ownercheck() in 16. */
#if PG_VERSION_NUM >= 160000
#define sg_class_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#else
#define sg_class_ownercheck(relid, roleid) pg_class_ownercheck((relid), (roleid))
#endif

/* EXECUTE privilege on a function: generic object_aclcheck() in 16. */
#if PG_VERSION_NUM >= 160000
#define sg_proc_aclcheck(funcid, roleid) \
	object_aclcheck(ProcedureRelationId, (funcid), (roleid), ACL_EXECUTE)
#else
#define sg_proc_aclcheck(funcid, roleid) pg_proc_aclcheck((funcid), (roleid), ACL_EXECUTE)
#endif

/*
 * May the current user run maintenance DDL on a relation?  The owner may; from
 * 17 on, so may a holder of the MAINTAIN privilege (REINDEX, CLUSTER, ...).
 */
#if PG_VERSION_NUM >= 170000
#define sg_may_maintain(relid, roleid) \
	(sg_class_ownercheck((relid), (roleid)) || \
	 pg_class_aclcheck((relid), (roleid), ACL_MAINTAIN) == ACLCHECK_OK)
#else
#define sg_may_maintain(relid, roleid) sg_class_ownercheck((relid), (roleid))
#endif

/* PG_MODULE_MAGIC_EXT (name and version in pg_get_loaded_modules) in 18. */
#if PG_VERSION_NUM >= 180000
#define SG_MODULE_MAGIC PG_MODULE_MAGIC_EXT(.name = "schemaguard", .version = SG_VERSION)
#else
#define SG_MODULE_MAGIC PG_MODULE_MAGIC
#endif

/* 18 added virtual generated columns, and made them the default. */
#if PG_VERSION_NUM >= 180000
#define sg_generated_is_stored(c) ((c)->generated_kind == ATTRIBUTE_GENERATED_STORED)
#else
#define sg_generated_is_stored(c) true
#endif

/* PostgreSQL 15's walker takes an unprototyped callback. */
#if PG_VERSION_NUM >= 160000
#define sg_raw_walker(n, w, c) raw_expression_tree_walker((n), (w), (c))
#else
#define sg_raw_walker(n, w, c) raw_expression_tree_walker((n), (bool (*) ()) (w), (c))
#endif

/*
 * The relations a plan reads or writes, with the columns it selects,
 * inserts and updates: RTEPermissionInfo from 16 on, the range table
 * before.
 */
#include "nodes/plannodes.h"

typedef void (*SgRelationUseFn) (Oid relid, Bitmapset *selected, Bitmapset *inserted,
								 Bitmapset *updated, void *arg);

static inline void
sg_foreach_relation_use(PlannedStmt *ps, SgRelationUseFn fn, void *arg)
{
	ListCell   *lc;

#if PG_VERSION_NUM >= 160000
	foreach(lc, ps->permInfos)
	{
		RTEPermissionInfo *p = lfirst(lc);

		fn(p->relid, p->selectedCols, p->insertedCols, p->updatedCols, arg);
	}
#else
	foreach(lc, ps->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_RELATION)
			fn(rte->relid, rte->selectedCols, rte->insertedCols, rte->updatedCols, arg);
	}
#endif
}

/* ExecInsertIndexTuples() grew onlySummarizing in 16 (and flags in 19). */
#include "executor/executor.h"

static inline void
sg_insert_index_tuples(ResultRelInfo *rri, TupleTableSlot *slot, EState *estate)
{
#if PG_VERSION_NUM >= 160000
	(void) ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL, false);
#else
	(void) ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL);
#endif
}

/* index_insert_cleanup() (17): an access method's insert state (BRIN's). */
#include "access/genam.h"

static inline void
sg_index_insert_cleanup(Relation index, IndexInfo *ii)
{
#if PG_VERSION_NUM >= 170000
	index_insert_cleanup(index, ii);
#endif
}

/* The backend status array by index (1-based): renamed in 17. */
#if PG_VERSION_NUM >= 170000
#define sg_local_beentry(i) pgstat_get_local_beentry_by_index(i)
#else
#define sg_local_beentry(i) pgstat_fetch_stat_local_beentry(i)
#endif

/* This backend's local transaction id: in PGPROC.vxid from 17. */
#include "storage/proc.h"
#if PG_VERSION_NUM >= 170000
#define sg_my_lxid() (MyProc->vxid.lxid)
#else
#define sg_my_lxid() (MyProc->lxid)
#endif

#endif							/* SCHEMAGUARD_COMPAT_H */
