/*-------------------------------------------------------------------------
 *
 * statement.c
 *		The statement model: what core will do with a utility statement,
 *		read from its parse tree alone.  Which relations it locks, how
 *		strongly, and which tables its foreign keys reference; whether it
 *		may run inside a transaction block; whether it is a VACUUM FULL or
 *		a REINDEX CONCURRENTLY.  The hook asks it before it runs a statement
 *		(the hint to core's "cannot run inside a transaction block", and
 *		schemaguard.default_lock_timeout), and the rules ask it to judge.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "catalog/namespace.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"

#include "compat.h"
#include "schemaguard.h"
#include "statement.h"

/* Is this VACUUM a VACUUM FULL? */
bool
sg_vacuum_full(const VacuumStmt *stmt)
{
	DefElem    *opt = stmt->is_vacuumcmd ? sg_option(stmt->options, "full") : NULL;

	return opt != NULL && defGetBoolean(opt);
}

/* The option of a statement's list (a DefElem) named name, or NULL. */
DefElem *
sg_option(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		if (IsA(lfirst(lc), DefElem) && strcmp(lfirst_node(DefElem, lc)->defname, name) == 0)
			return lfirst_node(DefElem, lc);
	}
	return NULL;
}

/* Is a REINDEX statement CONCURRENTLY? */
bool
sg_reindex_is_concurrent(const ReindexStmt *stmt)
{
	DefElem    *opt = sg_option(stmt->params, "concurrently");

	return opt != NULL && defGetBoolean(opt);
}

/*
 * If the statement cannot run inside a transaction block (core calls
 * PreventInTransactionBlock() for it), its command name; else NULL.
 */
const char *
sg_no_xact_command(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_IndexStmt:
			return ((IndexStmt *) parsetree)->concurrent ?
				"CREATE INDEX CONCURRENTLY" : NULL;
		case T_DropStmt:
			return ((DropStmt *) parsetree)->removeType == OBJECT_INDEX &&
				((DropStmt *) parsetree)->concurrent ?
				"DROP INDEX CONCURRENTLY" : NULL;
		case T_ReindexStmt:
			{
				ReindexStmt *stmt = (ReindexStmt *) parsetree;

				if (sg_reindex_is_concurrent(stmt))
					return "REINDEX CONCURRENTLY";
				return stmt->kind == REINDEX_OBJECT_SCHEMA ? "REINDEX SCHEMA" :
					stmt->kind == REINDEX_OBJECT_DATABASE ? "REINDEX DATABASE" :
					stmt->kind == REINDEX_OBJECT_SYSTEM ? "REINDEX SYSTEM" : NULL;
			}
		case T_VacuumStmt:
			return ((VacuumStmt *) parsetree)->is_vacuumcmd ? "VACUUM" : NULL;
		case T_SgClusterStmt:
			if (sg_cluster_rv((SgClusterStmt *) parsetree) == NULL)
				return sg_cluster_is_repack((SgClusterStmt *) parsetree) ? "REPACK" : "CLUSTER";
			return sg_cluster_concurrent((SgClusterStmt *) parsetree) ? "REPACK (CONCURRENTLY)" : NULL;
		case T_CreatedbStmt:
			return "CREATE DATABASE";
		case T_DropdbStmt:
			return "DROP DATABASE";
		case T_AlterSystemStmt:
			return "ALTER SYSTEM";
		case T_CreateTableSpaceStmt:
			return "CREATE TABLESPACE";
		case T_DropTableSpaceStmt:
			return "DROP TABLESPACE";
		case T_AlterDatabaseStmt:
			{
				ListCell   *lc;

				foreach(lc, ((AlterDatabaseStmt *) parsetree)->options)
				{
					if (strcmp(lfirst_node(DefElem, lc)->defname, "tablespace") == 0)
						return "ALTER DATABASE SET TABLESPACE";
				}
				return NULL;
			}
		case T_AlterTableStmt:
			{
				ListCell   *lc;

				foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					if (cmd->subtype == AT_DetachPartition &&
						castNode(PartitionCmd, cmd->def)->concurrent)
						return "ALTER TABLE ... DETACH PARTITION CONCURRENTLY";
				}
				return NULL;
			}
		default:
			return NULL;
	}
}

/*
 * Which relations a statement locks with SHARE ROW EXCLUSIVE or stronger,
 * and how.  Returns the lock mode, or NoLock if it takes no such lock.
 */
LOCKMODE
sg_statement_lock_targets(Node *parsetree, List **rvs, const char **relkinds, bool *recurse)
{
	*rvs = NIL;
	*relkinds = NULL;
	/* core locks a partitioned table's partitions too (unless ONLY) */
	*recurse = IsA(parsetree, AlterTableStmt) || IsA(parsetree, TruncateStmt) ||
		IsA(parsetree, IndexStmt) || IsA(parsetree, LockStmt) ||
		IsA(parsetree, CreateTrigStmt) || IsA(parsetree, DropStmt) ||
		(IsA(parsetree, RenameStmt) && sg_statement_recurses_inheritance(parsetree));
	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
			{
				AlterTableStmt *stmt = (AlterTableStmt *) parsetree;

				if (stmt->objtype != OBJECT_TABLE && stmt->objtype != OBJECT_MATVIEW)
					return NoLock;
				*rvs = list_make1(stmt->relation);
				/* ALTER TABLE naming an index locks the index, not its table */
				*relkinds = "rpmf";
				return AlterTableGetLockLevel(stmt->cmds);
			}
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				if (stmt->relation == NULL ||
					(stmt->renameType != OBJECT_TABLE && stmt->renameType != OBJECT_COLUMN &&
					 stmt->renameType != OBJECT_TABCONSTRAINT && stmt->renameType != OBJECT_MATVIEW))
					return NoLock;
				*rvs = list_make1(stmt->relation);
				/* renaming an index (even through ALTER TABLE) locks the index only */
				*relkinds = "rpmf";
				return AccessExclusiveLock;
			}
		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) parsetree;
				ListCell   *lc;

				if (stmt->removeType == OBJECT_INDEX && stmt->concurrent)
					return NoLock;
				foreach(lc, stmt->objects)
				{
					List	   *names = lfirst(lc);
					List	   *table = stmt->removeType == OBJECT_TRIGGER ||
						stmt->removeType == OBJECT_POLICY || stmt->removeType == OBJECT_RULE ?
						list_truncate(list_copy(names), list_length(names) - 1) : names;

					if (!sg_name_ok(table))
						return NoLock;	/* core reports the name */
					switch (stmt->removeType)
					{
						case OBJECT_TABLE:
						case OBJECT_MATVIEW:
						case OBJECT_INDEX:
						case OBJECT_TRIGGER:
						case OBJECT_POLICY:
						case OBJECT_RULE:
							*rvs = lappend(*rvs, makeRangeVarFromNameList(table));
							break;
						default:
							return NoLock;
					}
				}
				return AccessExclusiveLock;
			}
		case T_TruncateStmt:
			*rvs = ((TruncateStmt *) parsetree)->relations;
			return AccessExclusiveLock;
		case T_IndexStmt:
			if (((IndexStmt *) parsetree)->concurrent)
				return NoLock;
			*rvs = list_make1(((IndexStmt *) parsetree)->relation);
			*relkinds = "rpm";
			return ShareLock;
		case T_CreateTrigStmt:
			*rvs = list_make1(((CreateTrigStmt *) parsetree)->relation);
			return ShareRowExclusiveLock;
		case T_VacuumStmt:
			{
				ListCell   *lc;

				if (!sg_vacuum_full((VacuumStmt *) parsetree))
					return NoLock;
				foreach(lc, ((VacuumStmt *) parsetree)->rels)
					*rvs = lappend(*rvs, lfirst_node(VacuumRelation, lc)->relation);
				return AccessExclusiveLock;
			}
		case T_SgClusterStmt:
			/* REPACK (CONCURRENTLY) takes SHARE UPDATE EXCLUSIVE, ACCESS EXCLUSIVE only to swap */
			if (sg_cluster_rv((SgClusterStmt *) parsetree) == NULL ||
				sg_cluster_concurrent((SgClusterStmt *) parsetree))
				return NoLock;
			*rvs = list_make1(sg_cluster_rv((SgClusterStmt *) parsetree));
			return AccessExclusiveLock;
		case T_RefreshMatViewStmt:
			*rvs = list_make1(((RefreshMatViewStmt *) parsetree)->relation);
			return ((RefreshMatViewStmt *) parsetree)->concurrent ? ExclusiveLock : AccessExclusiveLock;
		case T_CreatePolicyStmt:
			*rvs = list_make1(((CreatePolicyStmt *) parsetree)->table);
			return AccessExclusiveLock;
		case T_AlterPolicyStmt:
			*rvs = list_make1(((AlterPolicyStmt *) parsetree)->table);
			return AccessExclusiveLock;
		case T_RuleStmt:
			/* CREATE RULE locks its table as DROP RULE does */
			*rvs = list_make1(((RuleStmt *) parsetree)->relation);
			*relkinds = "rpmv";
			return AccessExclusiveLock;
		case T_LockStmt:
			if (((LockStmt *) parsetree)->nowait)
				return NoLock;	/* never waits */
			*rvs = ((LockStmt *) parsetree)->relations;
			return ((LockStmt *) parsetree)->mode;
		default:
			return NoLock;
	}
}

/* Add the tables that the FOREIGN KEY constraints of cons reference. */
static List *
fk_targets(List *rvs, List *cons)
{
	ListCell   *lc;

	foreach(lc, cons)
	{
		if (IsA(lfirst(lc), Constraint) &&
			((Constraint *) lfirst(lc))->contype == CONSTR_FOREIGN &&
			((Constraint *) lfirst(lc))->pktable != NULL)
			rvs = lappend(rvs, ((Constraint *) lfirst(lc))->pktable);
	}
	return rvs;
}

/*
 * The tables a statement's new foreign keys reference: core locks each with
 * SHARE ROW EXCLUSIVE (blocking writes) to add the constraint's triggers,
 * after the table it alters or creates.  This counts for a table the
 * transaction created as well: Prisma adds the foreign keys of a new table
 * to existing ones with ALTER TABLE ... ADD CONSTRAINT.
 */
List *
sg_statement_referenced_tables(Node *parsetree)
{
	List	   *rvs = NIL;
	ListCell   *lc;

	if (IsA(parsetree, CreateStmt))
	{
		foreach(lc, ((CreateStmt *) parsetree)->tableElts)
		{
			if (IsA(lfirst(lc), ColumnDef))
				rvs = fk_targets(rvs, ((ColumnDef *) lfirst(lc))->constraints);
			else
				rvs = fk_targets(rvs, list_make1(lfirst(lc)));
		}
	}
	else if (IsA(parsetree, AlterTableStmt))
	{
		foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

			if (cmd->subtype == AT_AddConstraint && cmd->def)
				rvs = fk_targets(rvs, list_make1(cmd->def));
			else if (cmd->subtype == AT_AddColumn && cmd->def && IsA(cmd->def, ColumnDef))
				rvs = fk_targets(rvs, ((ColumnDef *) cmd->def)->constraints);
		}
	}
	return rvs;
}

/* REPACK (CONCURRENTLY) (19): the online form. */
bool
sg_cluster_concurrent(const SgClusterStmt *stmt)
{
	DefElem    *opt = sg_option(sg_cluster_params(stmt), "concurrently");

	return opt != NULL && defGetBoolean(opt);
}

/*
 * Does one of these ALTER TABLE subcommands recurse into the table's
 * inheritance children, as core's ATPrepCmd() recurses (unless ONLY)?  Those
 * that change a column or a CHECK or NOT NULL constraint do; a new index, a
 * foreign key, a trigger, RLS, storage parameters and the like concern the
 * named table alone.
 */
bool
sg_alter_cmds_recurse(List *cmds)
{
	ListCell   *lc;

	foreach(lc, cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		switch (cmd->subtype)
		{
			case AT_AddColumn:
			case AT_ColumnDefault:
			case AT_DropNotNull:
			case AT_SetNotNull:
			case AT_DropExpression:
			case AT_SetStatistics:
			case AT_SetOptions:
			case AT_ResetOptions:
			case AT_SetStorage:
			case AT_SetCompression:
			case AT_DropColumn:
			case AT_AlterColumnType:
			case AT_DropConstraint:
			case AT_ValidateConstraint:
#ifdef SG_HAVE_SET_EXPRESSION
			case AT_SetExpression:
#endif
				return true;
			case AT_AddConstraint:
				if (cmd->def && IsA(cmd->def, Constraint) &&
					(castNode(Constraint, cmd->def)->contype == CONSTR_CHECK ||
					 castNode(Constraint, cmd->def)->contype == CONSTR_NOTNULL))
					return true;
				break;
			default:
				break;
		}
	}
	return false;
}

/*
 * Is this an ALTER TABLE subcommand type schemaguard was built knowing?
 * Every type of the majors it supports is listed: the rules were written
 * knowing them, and the tripwire observes the rewrites and index builds
 * they start.  A type a newer major adds is not, and rule
 * unpredicted-rewrite refuses it on a populated table (fail closed) until a
 * rule judges it.  -Wswitch-enum makes the build warn about such a type
 * (and fail with SG_WERROR=1, as the test command builds), so that it is
 * classified when the major is added.
 */
#pragma GCC diagnostic push
#ifdef SG_WERROR
#pragma GCC diagnostic error "-Wswitch-enum"
#else
#pragma GCC diagnostic warning "-Wswitch-enum"
#endif
bool
sg_alter_subtype_known(AlterTableType subtype)
{
	switch (subtype)
	{
		case AT_AddColumn:
		case AT_AddColumnToView:
		case AT_ColumnDefault:
		case AT_CookedColumnDefault:
		case AT_DropNotNull:
		case AT_SetNotNull:
#ifdef SG_HAVE_SET_EXPRESSION
		case AT_SetExpression:
#endif
		case AT_DropExpression:
		case AT_SetStatistics:
		case AT_SetOptions:
		case AT_ResetOptions:
		case AT_SetStorage:
		case AT_SetCompression:
		case AT_DropColumn:
		case AT_AddIndex:
		case AT_ReAddIndex:
		case AT_AddConstraint:
		case AT_ReAddConstraint:
		case AT_ReAddDomainConstraint:
		case AT_AlterConstraint:
		case AT_ValidateConstraint:
		case AT_AddIndexConstraint:
		case AT_DropConstraint:
		case AT_ReAddComment:
		case AT_AlterColumnType:
		case AT_AlterColumnGenericOptions:
		case AT_ChangeOwner:
		case AT_ClusterOn:
		case AT_DropCluster:
		case AT_SetLogged:
		case AT_SetUnLogged:
		case AT_DropOids:
		case AT_SetAccessMethod:
		case AT_SetTableSpace:
		case AT_SetRelOptions:
		case AT_ResetRelOptions:
		case AT_ReplaceRelOptions:
		case AT_EnableTrig:
		case AT_EnableAlwaysTrig:
		case AT_EnableReplicaTrig:
		case AT_DisableTrig:
		case AT_EnableTrigAll:
		case AT_DisableTrigAll:
		case AT_EnableTrigUser:
		case AT_DisableTrigUser:
		case AT_EnableRule:
		case AT_EnableAlwaysRule:
		case AT_EnableReplicaRule:
		case AT_DisableRule:
		case AT_AddInherit:
		case AT_DropInherit:
		case AT_AddOf:
		case AT_DropOf:
		case AT_ReplicaIdentity:
		case AT_EnableRowSecurity:
		case AT_DisableRowSecurity:
		case AT_ForceRowSecurity:
		case AT_NoForceRowSecurity:
		case AT_GenericOptions:
		case AT_AttachPartition:
		case AT_DetachPartition:
		case AT_DetachPartitionFinalize:
		case AT_AddIdentity:
		case AT_SetIdentity:
		case AT_DropIdentity:
		case AT_ReAddStatistics:
#ifdef SG_HAVE_AT_RECURSE
		case AT_AddColumnRecurse:
		case AT_DropColumnRecurse:
		case AT_AddConstraintRecurse:
		case AT_ValidateConstraintRecurse:
		case AT_DropConstraintRecurse:
#endif
#ifdef SG_HAVE_AT_CHECK_NOT_NULL
		case AT_CheckNotNull:
#endif
			return true;
		default:
			return false;
	}
}
#pragma GCC diagnostic pop

/*
 * Does core apply this statement to the inheritance children of a plain
 * table it names (without ONLY), locking them with the same lock?  ALTER
 * TABLE for the subcommands above, TRUNCATE, LOCK, and renaming a column or
 * a constraint.  A new index, a trigger, CLUSTER, VACUUM and DROP (without
 * CASCADE) concern the named table alone.
 */
bool
sg_statement_recurses_inheritance(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
			return sg_alter_cmds_recurse(((AlterTableStmt *) parsetree)->cmds);
		case T_TruncateStmt:
		case T_LockStmt:
			return true;
		case T_RenameStmt:
			return ((RenameStmt *) parsetree)->renameType == OBJECT_COLUMN ||
				((RenameStmt *) parsetree)->renameType == OBJECT_TABCONSTRAINT;
		default:
			return false;
	}
}

/* See SgLockTarget. */
List *
sg_statement_strong_locks(Node *parsetree)
{
	List	   *rvs;
	const char *relkinds;
	bool		recurse;
	LOCKMODE	mode = sg_statement_lock_targets(parsetree, &rvs, &relkinds, &recurse);
	List	   *targets = NIL;
	ListCell   *lc;

	if (mode >= ShareLock)
	{
		foreach(lc, rvs)
		{
			SgLockTarget *t = palloc0(sizeof(SgLockTarget));

			t->rv = lfirst(lc);
			t->mode = mode;
			t->recurse = recurse && t->rv->inh;
			t->inherit = t->recurse && sg_statement_recurses_inheritance(parsetree);
			t->relkinds = relkinds;
			targets = lappend(targets, t);
		}
	}
	foreach(lc, sg_statement_referenced_tables(parsetree))
	{
		SgLockTarget *t = palloc0(sizeof(SgLockTarget));

		t->rv = lfirst(lc);
		t->mode = ShareRowExclusiveLock;
		t->relkinds = "rp";
		t->referenced = true;
		targets = lappend(targets, t);
	}
	return targets;
}

/*
 * May the hook apply schemaguard.default_lock_timeout to this statement?
 * Not to VACUUM and CLUSTER, which may commit transactions of their own.
 */
bool
sg_lock_timeout_applies(Node *parsetree)
{
	List	   *rvs;
	const char *relkinds;
	bool		recurse;

	if (IsA(parsetree, VacuumStmt) || nodeTag(parsetree) == T_SgClusterStmt)
		return false;
	return sg_statement_lock_targets(parsetree, &rvs, &relkinds, &recurse) >= ShareLock ||
		sg_statement_referenced_tables(parsetree) != NIL;
}

