/*-------------------------------------------------------------------------
 *
 * rules_rewrite.c
 *		Rewrites and long locks: VACUUM FULL, CLUSTER and the ALTER TABLE
 *		forms that rewrite, REFRESH MATERIALIZED VIEW, DETACH PARTITION,
 *		and strong locks taken while lock_timeout is 0.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/tablespace.h"
#include "miscadmin.h"
#include "utils/syscache.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"

#include "schemaguard.h"

/* Is this VACUUM a VACUUM FULL? */
static bool
vacuum_full(const VacuumStmt *stmt)
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

/* One table-rewrite finding. */
static void
add_rewrite(List **findings, const SgRule *rule, const char *what,
			const SgRelFacts *t, const char *hint)
{
	sg_add_finding(findings, rule,
				   psprintf("%s on %s rewrites the table, violating rule %s", what, t->qualname, rule->id),
				   psprintf("%s rewrites %s (%s) and its indexes under an %s lock, blocking %s "
							"until it ends.",
							what, t->qualname, sg_size_phrase(t), sg_lock_name(AccessExclusiveLock),
							sg_lock_blocks(AccessExclusiveLock)),
				   pstrdup(hint));
}

static const char *const no_repack_hint =
"pg_repack cannot do this online. Create the new table as it should be, copy the rows in "
"batches while a trigger keeps it in step, and swap the names in one short transaction; "
"or, in a maintenance window, use schemaguard.allow() with a reason.";

/*
 * Is the table already as the ALTER TABLE form asks (same tablespace, same
 * persistence, same access method)?  Core then rewrites nothing.  Unknown
 * for a relation outside the catalog (lint): no.
 */
static bool
form_already_holds(const SgRelFacts *t, AlterTableType subtype, const char *name)
{
	HeapTuple	tup;
	Form_pg_class cls;
	bool		result = false;

	if (!OidIsValid(t->relid))
		return false;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(t->relid));
	if (!HeapTupleIsValid(tup))
		return false;
	cls = (Form_pg_class) GETSTRUCT(tup);
	switch (subtype)
	{
		case AT_SetTableSpace:
			result = name &&
				get_tablespace_oid(name, true) ==
				(OidIsValid(cls->reltablespace) ? cls->reltablespace : MyDatabaseTableSpace);
			break;
		case AT_SetLogged:
			result = cls->relpersistence == RELPERSISTENCE_PERMANENT;
			break;
		case AT_SetUnLogged:
			result = cls->relpersistence == RELPERSISTENCE_UNLOGGED;
			break;
		case AT_SetAccessMethod:
			result = name && get_table_am_oid(name, true) == cls->relam;
			break;
		default:
			break;
	}
	ReleaseSysCache(tup);
	return result;
}

/*
 * table-rewrite: VACUUM FULL, CLUSTER, ALTER TABLE ... SET TABLESPACE,
 * SET LOGGED/UNLOGGED and SET ACCESS METHOD.
 */
void
sg_check_table_rewrite(const SgStatement *st, const SgRule *rule, List **findings)
{
	SgRelFacts	t;

	if (IsA(st->parsetree, VacuumStmt))
	{
		VacuumStmt *stmt = (VacuumStmt *) st->parsetree;
		/* VACUUM looks its tables up with ACCESS SHARE first, as here. */
		SgLockSpec	locks = {AccessShareLock, NoLock, true, "rmp", false};
		ListCell   *lc;

		if (!vacuum_full(stmt))
			return;
		if (stmt->rels == NIL)
		{
			st->facts->namespace(st->facts, NULL, false, &t);
			if (!sg_facts_work_at_risk(&t))
				return;
			sg_add_finding(findings, rule,
						   psprintf("VACUUM FULL of the whole database violates rule %s", rule->id),
						   psprintf("VACUUM FULL rewrites each of %d populated tables (%s in all, the largest %s) "
									"under an %s lock that blocks %s.",
									t.ntables, sg_size_phrase(&t), t.qualname,
									sg_lock_name(AccessExclusiveLock), sg_lock_blocks(AccessExclusiveLock)),
						   pstrdup("Use pg_repack --no-order on the tables that need it, which rewrites them "
								   "online; plain VACUUM (without FULL) never blocks reads or writes."));
			return;
		}
		foreach(lc, stmt->rels)
		{
			VacuumRelation *vr = lfirst_node(VacuumRelation, lc);

			st->facts->relation(st->facts, vr->relation, locks, &t);
			if (sg_facts_work_at_risk(&t))
				add_rewrite(findings, rule, "VACUUM FULL", &t,
							psprintf("Use pg_repack --no-order --table=%s, which rewrites it online; "
									 "plain VACUUM (without FULL) never blocks reads or writes.",
									 t.qualname));
		}
		return;
	}

	if (IsA(st->parsetree, ClusterStmt))
	{
		ClusterStmt *stmt = (ClusterStmt *) st->parsetree;
		SgLockSpec	locks = {AccessExclusiveLock, NoLock, true, "rmp", false};

		if (stmt->relation == NULL)
		{
			/* re-cluster: every table with a clustered index that the role may cluster */
			Oid			argtypes[1] = {OIDOID};
			Datum		values[1] = {ObjectIdGetDatum(GetUserId())};

			sg_catalog_query_tables("",
									"EXISTS (SELECT FROM pg_catalog.pg_index i WHERE i.indrelid OPERATOR(pg_catalog.=) c.oid "
									"AND i.indisclustered) AND pg_catalog.pg_has_role($1, c.relowner, 'USAGE')",
									1, argtypes, values, &t);
			if (!sg_facts_work_at_risk(&t))
				return;
			sg_add_finding(findings, rule,
						   psprintf("CLUSTER of every clustered table violates rule %s", rule->id),
						   psprintf("A bare CLUSTER rewrites the %s clustered before, each under an %s "
									"lock that blocks %s.", sg_tables_phrase(&t, "table"),
									sg_lock_name(AccessExclusiveLock), sg_lock_blocks(AccessExclusiveLock)),
						   pstrdup("Use pg_repack --table=<table> --order-by=<the index's columns> on the "
								   "tables that need it, which reorders them online."));
			return;
		}
		st->facts->relation(st->facts, stmt->relation, locks, &t);
		if (sg_facts_work_at_risk(&t))
			add_rewrite(findings, rule, "CLUSTER", &t,
						psprintf("Use pg_repack --table=%s%s%s, which reorders it online by that index.",
								 t.qualname, stmt->indexname ? " --order-by=<the index's columns>" : "",
								 stmt->indexname ? psprintf(" (index %s)", quote_identifier(stmt->indexname)) : ""));
		return;
	}

	/* ALTER TABLE ALL IN TABLESPACE ... SET TABLESPACE */
	if (IsA(st->parsetree, AlterTableMoveAllStmt))
	{
		AlterTableMoveAllStmt *stmt = (AlterTableMoveAllStmt *) st->parsetree;
		Oid			argtypes[3] = {OIDOID, CHAROID, OIDOID};
		Datum		values[3];
		Oid			spc = get_tablespace_oid(stmt->orig_tablespacename, true);
		char		kind = stmt->objtype == OBJECT_INDEX ? RELKIND_INDEX :
			stmt->objtype == OBJECT_MATVIEW ? RELKIND_MATVIEW : RELKIND_RELATION;

		if (!OidIsValid(spc) || (stmt->new_tablespacename &&
								 get_tablespace_oid(stmt->new_tablespacename, true) == spc))
			return;				/* core reports it, or moves nothing */
		values[0] = ObjectIdGetDatum(spc == MyDatabaseTableSpace ? InvalidOid : spc);
		values[1] = CharGetDatum(kind);
		values[2] = ObjectIdGetDatum(GetUserId());
		sg_catalog_query_tables("",
								"c.reltablespace OPERATOR(pg_catalog.=) $1 AND c.relkind OPERATOR(pg_catalog.=) $2 "
								"AND n.nspname OPERATOR(pg_catalog.<>) ALL ('{pg_catalog,information_schema}') "
								"AND n.nspname OPERATOR(pg_catalog.!~) '^pg_toast' "
								"AND pg_catalog.pg_has_role($3, c.relowner, 'USAGE')",
								3, argtypes, values, &t);
		if (!sg_facts_work_at_risk(&t))
			return;
		sg_add_finding(findings, rule,
					   psprintf("ALTER %s ALL IN TABLESPACE %s ... SET TABLESPACE violates rule %s",
								kind == RELKIND_INDEX ? "INDEX" : kind == RELKIND_MATVIEW ? "MATERIALIZED VIEW" : "TABLE",
								quote_identifier(stmt->orig_tablespacename), rule->id),
					   psprintf("It copies the %s to the new tablespace, each under an %s lock that "
								"blocks %s.", sg_tables_phrase(&t, "relation"),
								sg_lock_name(AccessExclusiveLock), sg_lock_blocks(AccessExclusiveLock)),
					   psprintf("Move the tables one at a time online: pg_repack --table=<table> --tablespace=%s --moveidx.",
								stmt->new_tablespacename ? quote_identifier(stmt->new_tablespacename) : "<tablespace>"));
		return;
	}

	/* ALTER INDEX ... SET TABLESPACE: copies the index, which queries then cannot use */
	if (IsA(st->parsetree, AlterTableStmt) &&
		((AlterTableStmt *) st->parsetree)->objtype == OBJECT_INDEX)
	{
		AlterTableStmt *stmt = (AlterTableStmt *) st->parsetree;
		List	   *cmds = sg_alter_cmds(st, AT_SetTableSpace);
		/* core locks the index (ACCESS EXCLUSIVE), not its table: so do we */
		SgLockSpec	locks = {NoLock, AccessExclusiveLock, false, "iI", false};

		if (cmds == NIL)
			return;
		st->facts->relation(st->facts, stmt->relation, locks, &t);
		if (!sg_facts_work_at_risk(&t) ||
			form_already_holds(&t, AT_SetTableSpace, ((AlterTableCmd *) linitial(cmds))->name))
			return;
		sg_add_finding(findings, rule,
					   psprintf("ALTER INDEX %s SET TABLESPACE violates rule %s", t.qualname, rule->id),
					   psprintf("It copies %s under an %s lock on the index, which blocks every query that "
								"would use it on %s (%s) until the copy ends.",
								t.qualname, sg_lock_name(AccessExclusiveLock), t.table_qualname,
								sg_size_phrase(&t)),
					   psprintf("Build a copy in the new tablespace instead: CREATE INDEX CONCURRENTLY ... "
								"TABLESPACE %s; then DROP INDEX CONCURRENTLY %s;",
								quote_identifier(((AlterTableCmd *) linitial(cmds))->name), t.qualname));
		return;
	}

	/* ALTER TABLE */
	{
		static const struct
		{
			AlterTableType subtype;
			const char *what;
		}			forms[] = {
			{AT_SetTableSpace, "SET TABLESPACE"},
			{AT_SetLogged, "SET LOGGED"},
			{AT_SetUnLogged, "SET UNLOGGED"},
			{AT_SetAccessMethod, "SET ACCESS METHOD"},
		};
		bool		checked = false;

		for (int i = 0; i < lengthof(forms); i++)
		{
			List	   *cmds = sg_alter_cmds(st, forms[i].subtype);
			AlterTableCmd *cmd;

			if (cmds == NIL)
				continue;
			if (!checked)
			{
				checked = true;
				if (!sg_alter_target(st, &t) || sg_facts_small(&t))
					return;
			}
			cmd = linitial(cmds);
			if (form_already_holds(&t, forms[i].subtype, cmd->name))
				continue;		/* core does nothing */
			add_rewrite(findings, rule, psprintf("ALTER TABLE ... %s", forms[i].what), &t,
						forms[i].subtype == AT_SetTableSpace ?
						psprintf("Use pg_repack --table=%s --tablespace=%s --moveidx, which moves it online.",
								 t.qualname, cmd->name ? quote_identifier(cmd->name) : "<tablespace>") :
						no_repack_hint);
		}
	}
}

/*
 * require-concurrent-refresh: REFRESH MATERIALIZED VIEW without CONCURRENTLY
 * on a populated view blocks every read of it.
 */
void
sg_check_refresh(const SgStatement *st, const SgRule *rule, List **findings)
{
	RefreshMatViewStmt *stmt = castNode(RefreshMatViewStmt, st->parsetree);
	SgLockSpec	locks = {AccessExclusiveLock, NoLock, false, "m", false};
	SgRelFacts	t;
	char	   *refresh;

	if (stmt->concurrent || stmt->skipData)
		return;
	st->facts->relation(st->facts, stmt->relation, locks, &t);
	if (!sg_facts_at_risk(&t))
		return;
	refresh = psprintf("REFRESH MATERIALIZED VIEW CONCURRENTLY %s;", t.qualname);
	sg_add_finding(findings, rule,
				   psprintf("REFRESH MATERIALIZED VIEW %s violates rule %s", t.qualname, rule->id),
				   psprintf("Without CONCURRENTLY, the refresh holds an %s lock on %s (%s) until the "
							"query that fills it ends, blocking %s.",
							sg_lock_name(AccessExclusiveLock), t.qualname, sg_size_phrase(&t),
							sg_lock_blocks(AccessExclusiveLock)),
				   t.has_unique_index ? psprintf("Use %s", refresh) :
				   psprintf("CONCURRENTLY needs a unique index on plain columns of the view: "
							"CREATE UNIQUE INDEX CONCURRENTLY ON %s (<key columns>); then %s",
							t.qualname, refresh));
}

/*
 * require-concurrent-partition-detach: DETACH PARTITION without CONCURRENTLY
 * takes an ACCESS EXCLUSIVE lock on the partitioned table.
 */
void
sg_check_detach(const SgStatement *st, const SgRule *rule, List **findings)
{
	List	   *cmds = sg_alter_cmds(st, AT_DetachPartition);
	AlterTableStmt *stmt;
	PartitionCmd *pc;
	SgLockSpec	parent_locks = {AccessExclusiveLock, NoLock, false, "p", false};
	SgLockSpec	part_locks = {AccessExclusiveLock, NoLock, true, "rp", false};
	SgRelFacts	parent;
	SgRelFacts	part;

	if (cmds == NIL)
		return;
	stmt = castNode(AlterTableStmt, st->parsetree);
	pc = castNode(PartitionCmd, ((AlterTableCmd *) linitial(cmds))->def);
	if (pc->concurrent)
		return;
	/* Core locks the parent, then the partition. */
	st->facts->relation(st->facts, stmt->relation, parent_locks, &parent);
	if (!parent.exists || !parent.checkable)
		return;
	st->facts->relation(st->facts, pc->name, part_locks, &part);
	if (!sg_facts_at_risk(&part) || parent.created_in_xact || parent.is_temp)
		return;
	sg_add_finding(findings, rule,
				   psprintf("DETACH PARTITION %s from %s violates rule %s",
							part.qualname, parent.qualname, rule->id),
				   psprintf("Without CONCURRENTLY, DETACH PARTITION takes an %s lock on %s, blocking %s "
							"on every partition, and waits behind every running query on it.",
							sg_lock_name(AccessExclusiveLock), parent.qualname,
							sg_lock_blocks(AccessExclusiveLock)),
				   psprintf("Use ALTER TABLE %s DETACH PARTITION %s CONCURRENTLY; outside a transaction "
							"block (not possible while the table has a DEFAULT partition).",
							parent.qualname, part.qualname));
}

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

				if (!vacuum_full((VacuumStmt *) parsetree))
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
void
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
					   psprintf("%s lock on %s without lock_timeout violates rule %s",
								sg_lock_name(locks.table), name, rule->id),
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
