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
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"

#include "compat.h"
#include "rule.h"

/* One table-rewrite finding. */
static void
add_rewrite(List **findings, const SgRule *rule, const char *what,
			const SgRelFacts *t, const char *hint)
{
	sg_add_finding(findings, rule,
				   psprintf("%s on %s, which rewrites the table,", what, t->qualname),
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
	switch (subtype)
	{
		case AT_SetTableSpace:
			return name && OidIsValid(t->tablespace) &&
				get_tablespace_oid(name, true) == t->tablespace;
		case AT_SetLogged:
			return t->relpersistence == RELPERSISTENCE_PERMANENT;
		case AT_SetUnLogged:
			return t->relpersistence == RELPERSISTENCE_UNLOGGED;
		case AT_SetAccessMethod:
			return name && OidIsValid(t->relam) && get_table_am_oid(name, true) == t->relam;
		default:
			return false;
	}
}

/*
 * table-rewrite: VACUUM FULL, CLUSTER, ALTER TABLE ... SET TABLESPACE,
 * SET LOGGED/UNLOGGED and SET ACCESS METHOD.
 */
static void
sg_check_table_rewrite(const SgStatement *st, const SgRule *rule, List **findings)
{
	SgRelFacts	t;

	if (IsA(st->parsetree, VacuumStmt))
	{
		VacuumStmt *stmt = (VacuumStmt *) st->parsetree;
		/* VACUUM looks its tables up with ACCESS SHARE first, as here. */
		SgLockSpec	locks = {AccessShareLock, NoLock, true, "rmp", false, false};
		ListCell   *lc;

		if (!sg_vacuum_full(stmt))
			return;
		if (stmt->rels == NIL)
		{
			st->facts->namespace(st->facts, NULL, false, &t);
			if (!sg_facts_work_at_risk(&t))
				return;
			sg_add_finding(findings, rule,
						   psprintf("VACUUM FULL of the whole database"),
						   psprintf("VACUUM FULL rewrites each of %d populated tables (%s in all, the largest %s) "
									"under an %s lock that blocks %s.",
									t.ntables, sg_size_phrase(&t), t.qualname,
									sg_lock_name(AccessExclusiveLock), sg_lock_blocks(AccessExclusiveLock)),
						   pstrdup(SG_IF_REPACK("Use REPACK (CONCURRENTLY) <table> on each table that needs it: it rewrites online; "
												"plain VACUUM (without FULL) never blocks reads or writes.",
												"Use pg_repack --no-order on the tables that need it, which rewrites them "
												"online; plain VACUUM (without FULL) never blocks reads or writes.")));
			return;
		}
		foreach(lc, stmt->rels)
		{
			VacuumRelation *vr = lfirst_node(VacuumRelation, lc);

			st->facts->relation(st->facts, vr->relation, locks, &t);
			if (sg_facts_work_at_risk(&t))
				add_rewrite(findings, rule, "VACUUM FULL", &t,
							psprintf(SG_IF_REPACK("Use REPACK (CONCURRENTLY) %s: it rewrites online, taking an "
												  "ACCESS EXCLUSIVE lock only to swap in the new files; ",
												  "Use pg_repack --no-order --table=%s, which rewrites it online; ")
									 "plain VACUUM (without FULL) never blocks reads or writes.",
									 t.qualname));
		}
		return;
	}

	if (nodeTag(st->parsetree) == T_SgClusterStmt)
	{
		SgClusterStmt *stmt = (SgClusterStmt *) st->parsetree;
		SgLockSpec	locks = {AccessExclusiveLock, NoLock, true, "rmp", false, false};
		RangeVar   *rv = sg_cluster_rv(stmt);
		const char *verb = sg_cluster_verb(stmt);

		/* REPACK (CONCURRENTLY) (19) rewrites online: the safe form */
		if (sg_cluster_concurrent(stmt))
			return;
		if (rv == NULL)
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
						   psprintf("%s of every clustered table", verb),
						   psprintf("A bare %s rewrites the %s clustered before, each under an %s "
									"lock that blocks %s.", verb, sg_tables_phrase(&t, "table"),
									sg_lock_name(AccessExclusiveLock), sg_lock_blocks(AccessExclusiveLock)),
						   pstrdup(SG_ONLINE_REWRITE_HINT("REPACK (CONCURRENTLY) <table> USING INDEX on each table that needs it",
														  "pg_repack --table=<table> --order-by=<the index's columns> on each table that needs it")));
			return;
		}
		st->facts->relation(st->facts, rv, locks, &t);
		if (sg_facts_work_at_risk(&t))
			add_rewrite(findings, rule, verb, &t,
						stmt->indexname ?
						psprintf(SG_ONLINE_REWRITE_HINT("REPACK (CONCURRENTLY) %s USING INDEX %s",
														"pg_repack --table=%s --order-by=<the columns of index %s>"),
								 t.qualname, quote_identifier(stmt->indexname)) :
						psprintf(SG_ONLINE_REWRITE_HINT("REPACK (CONCURRENTLY) %s%s",
														"pg_repack --table=%s%s"),
								 t.qualname, strcmp(verb, "CLUSTER") == 0 ?
								 SG_IF_REPACK(" USING INDEX", "") : SG_IF_REPACK("", " --no-order")));
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
					   psprintf("ALTER %s ALL IN TABLESPACE %s ... SET TABLESPACE",
								kind == RELKIND_INDEX ? "INDEX" : kind == RELKIND_MATVIEW ? "MATERIALIZED VIEW" : "TABLE",
								quote_identifier(stmt->orig_tablespacename)),
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
		SgLockSpec	locks = {NoLock, AccessExclusiveLock, false, "iI", false, false};

		if (cmds == NIL)
			return;
		st->facts->relation(st->facts, stmt->relation, locks, &t);
		if (!sg_facts_work_at_risk(&t) ||
			form_already_holds(&t, AT_SetTableSpace, ((AlterTableCmd *) linitial(cmds))->name))
			return;
		sg_add_finding(findings, rule,
					   psprintf("ALTER INDEX %s SET TABLESPACE", t.qualname),
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
#ifdef SG_HAVE_SET_EXPRESSION

		/*
		 * 17+: SET EXPRESSION of a stored generated column recomputes it for
		 * every row, rewriting the table (a virtual one, 18+, rewrites
		 * nothing).
		 */
		{
			ListCell   *lc;

			foreach(lc, sg_alter_cmds(st, AT_SetExpression))
			{
				AlterTableCmd *cmd = lfirst(lc);

				if (!checked)
				{
					checked = true;
					if (!sg_alter_target(st, &t) || sg_facts_small(&t))
						return;
				}
				if (OidIsValid(t.relid) && cmd->name && sg_column_is_virtual(t.relid, cmd->name))
					continue;
				add_rewrite(findings, rule,
							psprintf("ALTER COLUMN %s SET EXPRESSION", quote_identifier(cmd->name)), &t,
							"A stored generated column cannot change its expression online. Add a plain "
							"column, keep it filled by a trigger and backfill it in batches, move reads "
							"to it, then drop the old column; or, in a maintenance window, use "
							"schemaguard.allow() with a reason.");
			}
		}
#endif
	}
}

static const SgRule rule_table_rewrite = {
	.id = "table-rewrite",
	.family = "rewrite",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_VacuumStmt, T_SgClusterStmt, T_AlterTableStmt, T_AlterTableMoveAllStmt},
	.check = sg_check_table_rewrite,
	.description = "VACUUM FULL, CLUSTER, SET TABLESPACE, SET LOGGED/UNLOGGED, SET ACCESS METHOD and (17+) SET EXPRESSION of a stored generated column rewrite the table under an ACCESS EXCLUSIVE lock",
};

/*
 * require-concurrent-refresh: REFRESH MATERIALIZED VIEW without CONCURRENTLY
 * on a populated view blocks every read of it.
 */
static void
sg_check_refresh(const SgStatement *st, const SgRule *rule, List **findings)
{
	RefreshMatViewStmt *stmt = castNode(RefreshMatViewStmt, st->parsetree);
	SgLockSpec	locks = {AccessExclusiveLock, NoLock, false, "m", false, false};
	SgRelFacts	t;
	char	   *refresh;

	if (stmt->concurrent || stmt->skipData)
		return;
	st->facts->relation(st->facts, stmt->relation, locks, &t);
	if (!sg_facts_at_risk(&t))
		return;
	refresh = psprintf("REFRESH MATERIALIZED VIEW CONCURRENTLY %s;", t.qualname);
	sg_add_finding(findings, rule,
				   psprintf("REFRESH MATERIALIZED VIEW %s", t.qualname),
				   psprintf("Without CONCURRENTLY, the refresh holds an %s lock on %s (%s) until the "
							"query that fills it ends, blocking %s.",
							sg_lock_name(AccessExclusiveLock), t.qualname, sg_size_phrase(&t),
							sg_lock_blocks(AccessExclusiveLock)),
				   t.has_unique_index ? psprintf("Use %s", refresh) :
				   psprintf("CONCURRENTLY needs a unique index on plain columns of the view: "
							"CREATE UNIQUE INDEX CONCURRENTLY ON %s (<key columns>); then %s",
							t.qualname, refresh));
}

static const SgRule rule_require_concurrent_refresh = {
	.id = "require-concurrent-refresh",
	.family = "rewrite",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_RefreshMatViewStmt},
	.check = sg_check_refresh,
	.description = "REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks every read of a populated view",
};

/*
 * require-concurrent-partition-detach: DETACH PARTITION without CONCURRENTLY
 * takes an ACCESS EXCLUSIVE lock on the partitioned table.
 */
static void
sg_check_detach(const SgStatement *st, const SgRule *rule, List **findings)
{
	List	   *cmds = sg_alter_cmds(st, AT_DetachPartition);
	AlterTableStmt *stmt;
	PartitionCmd *pc;
	SgLockSpec	parent_locks = {AccessExclusiveLock, NoLock, false, "p", false, false};
	SgLockSpec	part_locks = {AccessExclusiveLock, NoLock, true, "rp", false, false};
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
				   psprintf("DETACH PARTITION %s from %s",
							part.qualname, parent.qualname),
				   psprintf("Without CONCURRENTLY, DETACH PARTITION takes an %s lock on %s, blocking %s "
							"on every partition, and waits behind every running query on it.",
							sg_lock_name(AccessExclusiveLock), parent.qualname,
							sg_lock_blocks(AccessExclusiveLock)),
				   psprintf("Use ALTER TABLE %s DETACH PARTITION %s CONCURRENTLY; %s. Not possible "
							"while the table has a DEFAULT partition.",
							parent.qualname, part.qualname, sg_outside_block(st->facts->runner)));
}

static const SgRule rule_require_concurrent_partition_detach = {
	.id = "require-concurrent-partition-detach",
	.family = "rewrite",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_AlterTableStmt},
	.check = sg_check_detach,
	.description = "DETACH PARTITION without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the partitioned table",
};


/*
 * unpredicted-rewrite: mostly not judged from the statement; the object
 * access hook observes core starting a rewrite or an index build that no
 * rule predicted (guard/tripwire.c), which lint() has nothing to observe.
 * From the statement, live and in lint(): an ALTER TABLE subcommand of a
 * type schemaguard was built without knowing (a newer major's, such as a
 * form of partition maintenance) on a populated table, whatever it does:
 * nothing predicted it, and the tripwire sees only the rewrites and builds
 * it knows how to recognise.
 */
static void
sg_check_unknown_subcommand(const SgStatement *st, const SgRule *rule, List **findings)
{
	AlterTableStmt *stmt = castNode(AlterTableStmt, st->parsetree);
	SgRelFacts	t;
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if (sg_alter_subtype_known(cmd->subtype))
			continue;
		if (!sg_alter_target(st, &t) || sg_facts_small(&t))
			return;
		sg_add_finding(findings, rule,
					   psprintf("ALTER TABLE %s with a subcommand schemaguard does not know", t.qualname),
					   psprintf("The statement holds an %s lock on %s (%s) and uses a form of ALTER TABLE "
								"(subcommand type %d) that this build of schemaguard predates, so no rule "
								"judged what core will do under the lock. Please report the statement: "
								"a rule should predict it.",
								sg_lock_name(AlterTableGetLockLevel(stmt->cmds)), t.qualname,
								sg_size_phrase(&t), (int) cmd->subtype),
					   sg_unpredicted_hint(st));
		return;
	}
}

/* unpredicted-rewrite's hint, here and from the tripwire. */
char *
sg_unpredicted_hint(const SgStatement *st)
{
	return psprintf("If the work is acceptable (a maintenance window), say so: "
					"SELECT schemaguard.allow('unpredicted-rewrite', '<reason>'); in the same "
					"transaction, before %s;", sg_statement_trimmed(st->sql));
}

/* This file's rules, in the order rules() lists them. */
static const SgRule rule_unpredicted_rewrite = {
	.id = "unpredicted-rewrite",
	.family = "rewrite",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_AlterTableStmt},
	.check = sg_check_unknown_subcommand,
	.description = "core starts rewriting a populated table, or building an index on one without CONCURRENTLY, and no rule predicted it (observed live, as it starts; not by lint()); and an ALTER TABLE form this build predates, on a populated table (live and by lint())",
};

const SgRule *const sg_rewrite_rules[] = {
	&rule_table_rewrite,
	&rule_require_concurrent_refresh,
	&rule_require_concurrent_partition_detach,
	&rule_unpredicted_rewrite,
	NULL
};
