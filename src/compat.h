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

#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "catalog/dependency.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"

/* Ownership checks became generic object_ownercheck() in 16. */
#if PG_VERSION_NUM >= 160000
#define sg_class_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#else
#define sg_class_ownercheck(relid, roleid) pg_class_ownercheck((relid), (roleid))
#endif

/* Ownership of a type: generic object_ownercheck() in 16. */
#if PG_VERSION_NUM >= 160000
#define sg_type_ownercheck(typid, roleid) \
	object_ownercheck(TypeRelationId, (typid), (roleid))
#else
#define sg_type_ownercheck(typid, roleid) pg_type_ownercheck((typid), (roleid))
#endif

/* The identity sequence of a column: by the Relation from 17 on, by its OID before. */
#if PG_VERSION_NUM >= 170000
#define sg_identity_sequence(rel, attnum) getIdentitySequence((rel), (attnum), true)
#else
#define sg_identity_sequence(rel, attnum) getIdentitySequence(RelationGetRelid(rel), (attnum), true)
#endif

/* A privilege on a schema, or ownership of one or of a database: generic in 16. */
#if PG_VERSION_NUM >= 160000
#define sg_namespace_aclcheck(nspid, roleid, mode) \
	object_aclcheck(NamespaceRelationId, (nspid), (roleid), (mode))
#define sg_namespace_ownercheck(nspid, roleid) \
	object_ownercheck(NamespaceRelationId, (nspid), (roleid))
#define sg_database_ownercheck(dbid, roleid) \
	object_ownercheck(DatabaseRelationId, (dbid), (roleid))
#else
#define sg_namespace_aclcheck(nspid, roleid, mode) pg_namespace_aclcheck((nspid), (roleid), (mode))
#define sg_namespace_ownercheck(nspid, roleid) pg_namespace_ownercheck((nspid), (roleid))
#define sg_database_ownercheck(dbid, roleid) pg_database_ownercheck((dbid), (roleid))
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

/*
 * The same test in SQL, over pg_class c, for the database-wide maintenance
 * commands (VACUUM FULL, CLUSTER, REINDEX DATABASE without a list): core
 * processes the tables the user owns, all but shared ones for the database
 * owner, and from 17 on those it holds MAINTAIN on.
 */
#define SG_SQL_DB_OWNER \
	"pg_catalog.pg_has_role((SELECT d.datdba FROM pg_catalog.pg_database d " \
	"WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()), 'USAGE')"
#if PG_VERSION_NUM >= 170000
#define SG_SQL_MAY_MAINTAIN \
	"(pg_catalog.pg_has_role(c.relowner, 'USAGE') OR " SG_SQL_DB_OWNER \
	" OR pg_catalog.has_table_privilege(c.oid, 'MAINTAIN'))"
#else
#define SG_SQL_MAY_MAINTAIN \
	"(pg_catalog.pg_has_role(c.relowner, 'USAGE') OR " SG_SQL_DB_OWNER ")"
#endif

/*
 * May roleid REINDEX a whole schema or database (core's check before it
 * starts): its owner; from 17 on also a member of pg_maintain.
 */
#if PG_VERSION_NUM >= 170000
#define sg_may_reindex_schema(nspid, roleid) \
	(sg_namespace_ownercheck((nspid), (roleid)) || has_privs_of_role((roleid), ROLE_PG_MAINTAIN))
#define sg_may_reindex_database(roleid) \
	(sg_database_ownercheck(MyDatabaseId, (roleid)) || has_privs_of_role((roleid), ROLE_PG_MAINTAIN))
#else
#define sg_may_reindex_schema(nspid, roleid) sg_namespace_ownercheck((nspid), (roleid))
#define sg_may_reindex_database(roleid) sg_database_ownercheck(MyDatabaseId, (roleid))
#endif

/* PG_MODULE_MAGIC_EXT (name and version in pg_get_loaded_modules) in 18. */
#if PG_VERSION_NUM >= 180000
#define SG_MODULE_MAGIC PG_MODULE_MAGIC_EXT(.name = "schemaguard", .version = SG_VERSION)
#else
#define SG_MODULE_MAGIC PG_MODULE_MAGIC
#endif

/* 17 added ALTER TABLE ... ALTER COLUMN ... SET EXPRESSION. */
#if PG_VERSION_NUM >= 170000
#define SG_HAVE_SET_EXPRESSION 1
#endif

/*
 * ALTER TABLE's subcommand types that came and went: the *Recurse variants
 * until 16 folded them into their base types; AT_CheckNotNull until 18 made
 * NOT NULL a constraint of its own.  sg_alter_subtype_known() lists every
 * type of each major.
 */
#if PG_VERSION_NUM < 160000
#define SG_HAVE_AT_RECURSE 1
#endif
#if PG_VERSION_NUM < 180000
#define SG_HAVE_AT_CHECK_NOT_NULL 1
#endif

/*
 * 18 made NOT NULL a constraint of its own: ADD CONSTRAINT n NOT NULL col,
 * which may be NOT VALID and validated later (as a CHECK may).
 */
#if PG_VERSION_NUM >= 180000
#define SG_HAVE_NOTNULL_CONSTRAINT 1
#endif

/*
 * 18: NOT ENFORCED constraints (never checked, so nothing scans), temporal
 * keys WITHOUT OVERLAPS (a GiST index, which no USING INDEX can adopt), and
 * NOT VALID foreign keys on partitioned tables (before, core refuses them).
 */
#if PG_VERSION_NUM >= 180000
#define sg_constraint_enforced(c) ((c)->is_enforced)
#define sg_constraint_without_overlaps(c) ((c)->without_overlaps)
#define SG_HAVE_PARTITIONED_NOT_VALID_FK 1
#else
#define sg_constraint_enforced(c) true
#define sg_constraint_without_overlaps(c) false
#endif

/* Is the column a virtual generated one (18+: changing it rewrites nothing)? */
#if PG_VERSION_NUM >= 180000
#define sg_column_is_virtual(relid, attname) \
	(get_attgenerated((relid), get_attnum((relid), (attname))) == ATTRIBUTE_GENERATED_VIRTUAL)
#else
#define sg_column_is_virtual(relid, attname) false
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
#if PG_VERSION_NUM >= 190000
	(void) ExecInsertIndexTuples(rri, estate, 0, slot, NIL, NULL);
#elif PG_VERSION_NUM >= 160000
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


/*
 * CLUSTER became a form of REPACK in 19: one RepackStmt for CLUSTER and
 * REPACK (with CONCURRENTLY, an online rewrite); before, a ClusterStmt.
 * SgClusterStmt is either, read through these.
 */
#if PG_VERSION_NUM >= 190000
#define SG_HAVE_REPACK 1
#define T_SgClusterStmt T_RepackStmt
typedef RepackStmt SgClusterStmt;
#define sg_cluster_rv(s) ((s)->relation ? (s)->relation->relation : NULL)
#define sg_cluster_is_repack(s) ((s)->command != REPACK_COMMAND_CLUSTER)
#define sg_cluster_verb(s) ((s)->command == REPACK_COMMAND_CLUSTER ? "CLUSTER" : \
							(s)->command == REPACK_COMMAND_VACUUMFULL ? "VACUUM FULL" : "REPACK")
#define sg_cluster_params(s) ((s)->params)
/* the online rewrite a hint names: core's own from 19, pg_repack before */
#define SG_IF_REPACK(with, without) with
#define SG_ONLINE_REWRITE_HINT(repack, pgrepack) \
	"Use " repack ": it rewrites online, taking an ACCESS EXCLUSIVE lock only to swap in the new files."
#else
#define T_SgClusterStmt T_ClusterStmt
typedef ClusterStmt SgClusterStmt;
#define sg_cluster_rv(s) ((s)->relation)
#define sg_cluster_is_repack(s) false
#define sg_cluster_verb(s) "CLUSTER"
#define sg_cluster_params(s) ((s)->params)
#define SG_ONLINE_REWRITE_HINT(repack, pgrepack) "Use " pgrepack ", which rewrites it online."
#define SG_IF_REPACK(with, without) without
#endif

/* Calls whose arguments changed in 19. */
#if PG_VERSION_NUM >= 190000
#define sg_table_beginscan(rel, snap, nkeys, key) table_beginscan((rel), (snap), (nkeys), (key), 0)
#define sg_funcname_candidates(names, nargs, argnames, variadic, defaults, outargs, missing_ok) \
	FuncnameGetCandidates((names), (nargs), (argnames), (variadic), (defaults), (outargs), (missing_ok), &(int){0})
#define sg_domain_has_constraints(typid) DomainHasConstraints((typid), NULL)
#define sg_shmem_init_hash(name, init, max, info, flags) ShmemInitHash((name), (max), (info), (flags))
#else
#define sg_table_beginscan(rel, snap, nkeys, key) table_beginscan((rel), (snap), (nkeys), (key))
#define sg_funcname_candidates(names, nargs, argnames, variadic, defaults, outargs, missing_ok) \
	FuncnameGetCandidates((names), (nargs), (argnames), (variadic), (defaults), (outargs), (missing_ok))
#define sg_domain_has_constraints(typid) DomainHasConstraints(typid)
#define sg_shmem_init_hash(name, init, max, info, flags) ShmemInitHash((name), (init), (max), (info), (flags))
#endif

#endif							/* SCHEMAGUARD_COMPAT_H */
