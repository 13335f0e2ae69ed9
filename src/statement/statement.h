/*-------------------------------------------------------------------------
 *
 * statement.h
 *		The statement model (statement.c): what core will do with a
 *		utility statement, from its parse tree.  Below the rules and the
 *		hook, which both ask it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SCHEMAGUARD_STATEMENT_H
#define SCHEMAGUARD_STATEMENT_H

#include "postgres.h"

#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "storage/lockdefs.h"

#include "compat.h"

extern DefElem *sg_option(List *options, const char *name);
extern bool sg_reindex_is_concurrent(const ReindexStmt *stmt);
extern bool sg_vacuum_full(const VacuumStmt *stmt);
extern bool sg_cluster_concurrent(const SgClusterStmt *stmt);
extern const char *sg_no_xact_command(Node *parsetree);
extern LOCKMODE sg_statement_lock_targets(Node *parsetree, List **rvs, const char **relkinds,
										  bool *recurse);
extern List *sg_statement_referenced_tables(Node *parsetree);
extern bool sg_alter_cmds_recurse(List *cmds);
extern bool sg_alter_subtype_known(AlterTableType subtype);
extern bool sg_statement_recurses_inheritance(Node *parsetree);
extern bool sg_lock_timeout_applies(Node *parsetree);

/*
 * A relation a statement locks with SHARE or stronger, the lock that blocks
 * traffic while it waits in the queue.  sg_statement_strong_locks() lists
 * them in core's order: the statement's tables, then the tables its new
 * foreign keys reference.
 */
typedef struct SgLockTarget
{
	RangeVar   *rv;
	LOCKMODE	mode;
	bool		recurse;		/* its partitions too (core locks them) */
	bool		inherit;		/* and a plain table's inheritance children */
	const char *relkinds;		/* the kinds core accepts; NULL: any */
	bool		referenced;		/* referenced by a new foreign key */
} SgLockTarget;

extern List *sg_statement_strong_locks(Node *parsetree);

#endif							/* SCHEMAGUARD_STATEMENT_H */
