/*-------------------------------------------------------------------------
 *
 * rules_lock.c
 *		The lock family: statements core refuses inside a transaction block
 *		(concurrently-in-transaction), and strong locks taken while
 *		lock_timeout is 0 (require-lock-timeout).
 *
 * Also the two statement classifications the hook needs before it runs a
 * statement: sg_no_xact_command() (its hint to core's "cannot run inside a
 * transaction block") and sg_lock_timeout_applies() (default_lock_timeout).
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

#include "rule.h"

/* Is this VACUUM a VACUUM FULL? */
bool
sg_vacuum_full(const VacuumStmt *stmt)
{
	ListCell   *lc;

	if (!stmt->is_vacuumcmd)
		return false;
	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "full") == 0)
			return defGetBoolean(opt);
	}
	return false;
}

/* Is a REINDEX statement CONCURRENTLY? */
bool
sg_reindex_is_concurrent(const ReindexStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->params)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "concurrently") == 0)
			return defGetBoolean(opt);
	}
	return false;
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
		case T_ClusterStmt:
			return ((ClusterStmt *) parsetree)->relation == NULL ? "CLUSTER" : NULL;
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
 * concurrently-in-transaction: core refuses these statements inside a
 * transaction block, explicit (BEGIN) or implicit (a multi-statement
 * string, as Prisma sends a migration file).  Live, the hook knows the
 * block; lint() knows it from the script and from how the runner runs it
 * (SgFactSource.runner), and its hint says how that runner takes one.
 */
static void
sg_check_no_xact_in_block(const SgStatement *st, const SgRule *rule, List **findings)
{
	const char *command = sg_no_xact_command(st->parsetree);

	if (command == NULL || !st->facts->in_xact_block(st->facts))
		return;
	sg_add_finding(findings, rule,
				   psprintf("%s inside a transaction block", command),
				   psprintf("PostgreSQL refuses to run %s inside a transaction block (\"%s cannot run "
							"inside a transaction block\"), so the migration fails when it gets here%s",
							command, command,
							st->facts->runner == NULL ? "." :
							sg_runner_single(st->facts->runner, -1, NULL) ?
							psprintf(": runner %s runs the whole file in one transaction.", st->facts->runner) :
							": it is between BEGIN and COMMIT."),
				   pstrdup(sg_no_xact_hint(command, st->facts->runner)));
}

static const SgRule rule_concurrently_in_transaction = {
	.id = "concurrently-in-transaction",
	.family = "lock",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_IndexStmt, T_DropStmt, T_ReindexStmt, T_VacuumStmt, T_ClusterStmt, T_AlterTableStmt, T_CreatedbStmt, T_DropdbStmt, T_AlterSystemStmt, T_CreateTableSpaceStmt, T_DropTableSpaceStmt, T_AlterDatabaseStmt},
	.check = sg_check_no_xact_in_block,
	.description = "CONCURRENTLY, VACUUM, CREATE DATABASE, ALTER SYSTEM and the other statements that cannot run inside a transaction block, inside one (explicit, or the runner's)",
};

/*
 * Which relations a statement locks with SHARE ROW EXCLUSIVE or stronger,
 * and how.  Returns the lock mode, or NoLock if it takes no such lock.
 */
static LOCKMODE
strong_lock_targets(Node *parsetree, List **rvs, const char **relkinds, bool *recurse)
{
	*rvs = NIL;
	*relkinds = NULL;
	/* core locks a partitioned table's partitions too (unless ONLY) */
	*recurse = IsA(parsetree, AlterTableStmt) || IsA(parsetree, TruncateStmt) ||
		IsA(parsetree, IndexStmt) || IsA(parsetree, LockStmt) ||
		IsA(parsetree, CreateTrigStmt) || IsA(parsetree, DropStmt);
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
		case T_ClusterStmt:
			if (((ClusterStmt *) parsetree)->relation == NULL)
				return NoLock;
			*rvs = list_make1(((ClusterStmt *) parsetree)->relation);
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
static List *
referenced_tables(Node *parsetree)
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

	if (IsA(parsetree, VacuumStmt) || IsA(parsetree, ClusterStmt))
		return false;
	return strong_lock_targets(parsetree, &rvs, &relkinds, &recurse) >= ShareLock ||
		referenced_tables(parsetree) != NIL;
}

/*
 * require-lock-timeout: with lock_timeout 0, a statement whose lock is not
 * granted at once waits for every session in the way, however long, and
 * everything that arrives meanwhile queues behind it.  Locks of SHARE and
 * stronger count: queued, they block writes (SHARE) or reads too.
 *
 * Live, the lock is asked for without waiting, in core's mode and order
 * (the fact source's conditional lookup): granted, nothing can queue behind
 * the statement and it runs; not granted, it is refused before it queues,
 * naming the sessions in the way.  lint() cannot see the queue, so every
 * relation the script did not create counts (SgRelFacts.lock_unseen), and
 * lint reports the rule once per transaction.
 *
 * With schemaguard.default_lock_timeout set, the hook runs the statement
 * under that timeout instead; the sessions in the way are kept for its
 * error if the wait times out.
 */
static void
sg_check_lock_timeout(const SgStatement *st, const SgRule *rule, List **findings)
{
	List	   *rvs;
	const char *relkinds;
	bool		recurse;
	LOCKMODE	mode = strong_lock_targets(st->parsetree, &rvs, &relkinds, &recurse);
	bool		bounded = sg_default_lock_timeout > 0 && sg_lock_timeout_applies(st->parsetree);
	ListCell   *lc;

	List	   *referenced = referenced_tables(st->parsetree);
	int			nmain;

	if (st->lock_timeout_ms > 0)
		return;
	if (mode < ShareLock)
		rvs = NIL;
	nmain = list_length(rvs);
	/* in core's order: the table, then the tables its foreign keys reference */
	rvs = list_concat(list_copy(rvs), referenced);

	foreach(lc, rvs)
	{
		RangeVar   *rv = lfirst(lc);
		bool		is_main = foreach_current_index(lc) < nmain;
		SgLockSpec	locks = {is_main ? mode : ShareRowExclusiveLock, NoLock,
		is_main && recurse && rv->inh, is_main ? relkinds : "rp", true};
		SgRelFacts	t;
		const char *name;

		st->facts->relation(st->facts, rv, locks, &t);
		if (!t.exists || !t.checkable || !(t.lock_busy || t.lock_unseen) ||
			t.created_in_xact || t.is_temp)
			continue;
		name = t.table_qualname ? t.table_qualname : t.qualname;
		if (bounded)
		{
			((SgStatement *) st)->wait_blockers = t.blockers;
			return;
		}
		sg_add_finding(findings, rule,
					   psprintf("%s lock on %s without lock_timeout",
								sg_lock_name(locks.table), name),
					   t.lock_busy ?
					   psprintf("The statement needs %s on %s%s, and another session is in the way. "
								"With lock_timeout = 0 it would wait for it, however long, and "
								"all queries that arrive meanwhile (%s) would queue behind it.%s%s",
								sg_lock_phrase(locks.table), name,
								is_main ? "" : " (a table its foreign key references)",
								sg_lock_blocks(locks.table),
								t.blockers ? "\n" : "", t.blockers ? t.blockers : "") :
					   psprintf("The statement needs %s on %s%s (%s). With lock_timeout = 0 it waits "
								"for every running query on the table, however long, and all queries "
								"that arrive meanwhile (%s) queue behind it.",
								sg_lock_phrase(locks.table), name,
								is_main ? "" : ", which its foreign key references",
								sg_size_phrase(&t), sg_lock_blocks(locks.table)),
					   psprintf("Run SET lock_timeout = '2s'; before it (SET LOCAL inside a transaction "
								"block), and retry the migration if it times out: %s;",
								sg_statement_trimmed(st->sql)));
		return;					/* one finding per statement */
	}
}

static const SgRule rule_require_lock_timeout = {
	.id = "require-lock-timeout",
	.family = "lock",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_AlterTableStmt, T_RenameStmt, T_DropStmt, T_TruncateStmt, T_CreateTrigStmt, T_VacuumStmt, T_ClusterStmt, T_RefreshMatViewStmt, T_CreatePolicyStmt, T_AlterPolicyStmt, T_LockStmt, T_RuleStmt, T_IndexStmt, T_CreateStmt},
	.check = sg_check_lock_timeout,
	.description = "a statement whose SHARE or stronger lock another session is in the way of, while lock_timeout is 0 (lint: once per transaction, for tables the script did not create)",
	.lint_per_xact = true,
};

/* This file's rules, in the order rules() lists them. */
const SgRule *const sg_lock_rules[] = {
	&rule_concurrently_in_transaction,
	&rule_require_lock_timeout,
	NULL
};
