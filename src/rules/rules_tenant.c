/*-------------------------------------------------------------------------
 *
 * rules_tenant.c
 *		Tenant tables: rule tenant-table-rls, enable_tenant_isolation() and
 *		tenant_report().
 *
 * A tenant table is a table (plain or partitioned, not temporary) with a
 * column named in schemaguard.tenant_columns.  It is isolated when row-level
 * security is enabled and forced, and permissive policies cover SELECT,
 * INSERT, UPDATE and DELETE without one of them letting every row through.
 *
 * The rule is judged at the end of the transaction, so that a migration can
 * create a table and its policies in one transaction: each statement that
 * can make a table a tenant table, or weaken its isolation, leaves a
 * deferred finding naming the table; before COMMIT (or PREPARE) the engine
 * asks sg_tenant_recheck() whether the table is a tenant table and is still
 * not isolated, and sg_tenant_merge() folds every offending table into one
 * report.  lint() runs the same check and recheck over its simulation.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "optimizer/optimizer.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_depend.h"
#include "catalog/objectaddress.h"
#include "catalog/dependency.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_type.h"
#include "commands/policy.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_func.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

#include "citus.h"
#include "rule.h"
#include "schemaguard.h"



/* ---------- the rule ---------- */

/* Leave a deferred finding for the table rv names. */
static void
defer_tenant_check(const SgRule *rule, const RangeVar *rv, List **findings)
{
	SgFinding  *f;

	if (rv == NULL || rv->relpersistence == RELPERSISTENCE_TEMP)
		return;
	f = sg_add_finding(findings, rule, pstrdup(""), NULL, NULL);
	f->deferred = true;
	sg_init_facts(&f->target);
	f->target.qualname = sg_rangevar_name(rv);
	f->target.table_qualname = f->target.qualname;
	f->relation = rv;
}

/* Does a CREATE TABLE's column list name a tenant column, or take columns from elsewhere? */
static bool
create_may_add_tenant_column(CreateStmt *cs)
{
	ListCell   *lc;

	if (cs->inhRelations != NIL || cs->partbound != NULL || cs->ofTypename != NULL)
		return true;
	foreach(lc, cs->tableElts)
	{
		Node	   *n = lfirst(lc);

		if (IsA(n, TableLikeClause))
			return true;
		if (IsA(n, ColumnDef) && sg_is_tenant_column(((ColumnDef *) n)->colname))
			return true;
	}
	return false;
}

/*
 * Does rv name an existing relation?  For IF NOT EXISTS, which then leaves
 * it alone: a legacy table is not judged because a migration skipped it.
 */
static bool
already_exists(const SgStatement *st, RangeVar *rv)
{
	SgLockSpec	name_only = {NoLock, NoLock, false, NULL, false, false};
	SgRelFacts	t;

	st->facts->relation(st->facts, rv, name_only, &t);
	return t.exists && !t.unknown;
}

/* Does the table rv names already have this column? */
static bool
already_has_column(const SgStatement *st, RangeVar *rv, const char *column)
{
	SgLockSpec	name_only = {NoLock, NoLock, false, NULL, false, false};
	SgRelFacts	t;

	st->facts->relation(st->facts, rv, name_only, &t);
	return t.exists && !t.unknown && st->facts->has_column(st->facts, &t, column);
}

/* Is the ALTER TABLE only ADD COLUMN IF NOT EXISTS of columns it has (a no-op)? */
static bool
alter_is_noop(const SgStatement *st, AlterTableStmt *at)
{
	ListCell   *lc;

	foreach(lc, at->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if (cmd->subtype != AT_AddColumn || !cmd->missing_ok ||
			!already_has_column(st, at->relation, castNode(ColumnDef, cmd->def)->colname))
			return false;
	}
	return true;
}

/*
 * Does a parent isolate the rows of its children?  Queries through a parent
 * apply the parent's row-level security, not the child's: it must have
 * row-level security, FORCE, and no permissive policy that does not
 * isolate; a parent without a tenant column cannot isolate.
 */
static bool
parent_isolates(const SgTenantFacts *p)
{
	return p->exists && p->column != NULL && sg_tenant_leaks(p) == NIL;
}

/*
 * ATTACH PARTITION and INHERIT put a table under a parent.  An isolated
 * tenant table under a parent that does not isolate is readable, every
 * tenant's rows, by anyone granted SELECT on the parent: refused when the
 * statement runs.
 */
static void
check_new_parent(const SgStatement *st, const SgRule *rule, const char *what,
				 RangeVar *child_rv, RangeVar *parent_rv, List **findings)
{
	SgTenantFacts child;
	SgTenantFacts parent;
	List	   *why;
	StringInfoData buf;
	ListCell   *lc;

	memset(&child, 0, sizeof(child));
	memset(&parent, 0, sizeof(parent));
	st->facts->tenant(st->facts, InvalidOid, child_rv, &child);
	if (!child.exists || child.column == NULL || !child.rls || sg_tenant_leaks(&child) != NIL)
		return;					/* not an isolated tenant table */
	st->facts->tenant(st->facts, InvalidOid, parent_rv, &parent);
	if (!parent.exists || parent_isolates(&parent))
		return;
	why = parent.column == NULL ? list_make1(pstrdup("it has no tenant column")) : sg_tenant_leaks(&parent);
	initStringInfo(&buf);
	foreach(lc, why)
		appendStringInfo(&buf, "%s%s", buf.len ? "; " : "", (char *) lfirst(lc));
	sg_add_finding(findings, rule,
				   psprintf("%s, which puts isolated tenant table %s under %s,", what, child.qualname,
							parent.qualname),
				   psprintf("Queries through %s apply its row-level security, not %s's: anyone granted "
							"SELECT on %s would read every tenant's rows of %s. %s does not isolate: %s.",
							parent.qualname, child.qualname, parent.qualname, child.qualname,
							parent.qualname, buf.data),
				   parent.column != NULL ?
				   psprintf("Isolate %s first, in the same migration: "
							"SELECT schemaguard.enable_tenant_isolation(%s, %s);",
							parent.qualname, quote_literal_cstr(parent.qualname),
							quote_literal_cstr(parent.column)) :
				   psprintf("Give %s the tenant column and isolate it first, or keep %s out of it.",
							parent.qualname, child.qualname));
}

/*
 * Statements that can make a table a tenant table or weaken its isolation
 * leave a deferred finding for it; the table is judged at commit.
 */
static void
sg_check_tenant_table(const SgStatement *st, const SgRule *rule, List **findings)
{
	Node	   *n = st->parsetree;
	ListCell   *lc;

	switch (nodeTag(n))
	{
		case T_CreateStmt:
			{
				CreateStmt *cs = (CreateStmt *) n;

				if (create_may_add_tenant_column(cs) &&
					!(cs->if_not_exists && already_exists(st, cs->relation)))
					defer_tenant_check(rule, cs->relation, findings);
				break;
			}
		case T_CreateTableAsStmt:
			{
				CreateTableAsStmt *ctas = (CreateTableAsStmt *) n;

				if (ctas->objtype == OBJECT_TABLE &&
					!(ctas->if_not_exists && already_exists(st, ctas->into->rel)))
					defer_tenant_check(rule, ctas->into->rel, findings);
				break;
			}
		case T_AlterTableStmt:
			{
				/*
				 * Any ALTER TABLE: the live hook judges at commit every table
				 * a statement altered (by OID, after_statement()), so a
				 * tenant table that leaks is refused whatever the statement
				 * changed; lint() judges the table the statement names.
				 * ATTACH PARTITION judges the partition too.  Not a no-op
				 * (ADD COLUMN IF NOT EXISTS of a column the table has: core
				 * alters nothing).
				 */
				AlterTableStmt *at = (AlterTableStmt *) n;

				if (at->objtype != OBJECT_TABLE || alter_is_noop(st, at))
					break;
				foreach(lc, at->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					if (cmd->subtype == AT_AttachPartition)
					{
						defer_tenant_check(rule, castNode(PartitionCmd, cmd->def)->name, findings);
						check_new_parent(st, rule, "ATTACH PARTITION",
										 castNode(PartitionCmd, cmd->def)->name, at->relation, findings);
					}
					else if (cmd->subtype == AT_AddInherit)
						check_new_parent(st, rule, "INHERIT", at->relation,
										 castNode(RangeVar, cmd->def), findings);
				}
				defer_tenant_check(rule, at->relation, findings);
				break;
			}
		case T_RenameStmt:
			{
				RenameStmt *rs = (RenameStmt *) n;

				/* the table renamed is judged under its new name */
				if (rs->renameType == OBJECT_TABLE && rs->relation)
					defer_tenant_check(rule, makeRangeVar(rs->relation->schemaname, rs->newname, -1),
									   findings);
				else if (rs->relationType == OBJECT_TABLE && rs->relation &&
						 (rs->renameType == OBJECT_COLUMN || rs->renameType == OBJECT_TABCONSTRAINT ||
						  rs->renameType == OBJECT_POLICY || rs->renameType == OBJECT_TRIGGER))
					defer_tenant_check(rule, rs->relation, findings);
				break;
			}
		case T_DropStmt:
			{
				DropStmt   *ds = (DropStmt *) n;

				if (ds->removeType != OBJECT_POLICY)
					break;
				foreach(lc, ds->objects)
				{
					List	   *names = lfirst(lc);

					/* schema.table.policy: the table is all but the last name */
					if (list_length(names) >= 2)
						defer_tenant_check(rule, sg_rangevar_from_names(list_truncate(list_copy(names),
																		 list_length(names) - 1)),
							  findings);
				}
				break;
			}
		case T_CreatePolicyStmt:
			defer_tenant_check(rule, ((CreatePolicyStmt *) n)->table, findings);
			break;
		case T_AlterPolicyStmt:
			defer_tenant_check(rule, ((AlterPolicyStmt *) n)->table, findings);
			break;
		default:
			break;
	}
}

static char *isolation_call(const SgTenantFacts *tf);

/* ---------- while a statement runs (hooks.c) ---------- */

/*
 * Is relid a tenant table that nothing leaks from now (sg_tenant_leaks()),
 * and not one created in this transaction?  Asked before a statement that
 * may weaken it, and at a policy's drop.
 */
bool
sg_tenant_sealed(Oid relid)
{
	Relation	rel = RelationIdGetRelation(relid);
	bool		created;
	SgTenantFacts tf;

	if (rel == NULL)
		return false;
	created = rel->rd_createSubid != InvalidSubTransactionId ||
		rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP;
	RelationClose(rel);
	if (created)
		return false;
	sg_catalog_tenant_facts(relid, &tf);
	return tf.exists && tf.column != NULL && sg_tenant_leaks(&tf) == NIL;
}

/*
 * After a statement: a tenant table that was sealed before it and leaks now
 * is refused at once, not at commit, for the transaction could read every
 * tenant's rows before it ends (and end with ROLLBACK).  Every table the
 * statement created or changed (by OID, as the object access hook saw it)
 * is judged again at commit.
 */
void
sg_tenant_after_statement(const SgStatement *st, List *sealed, List *relids)
{
	const SgRule *rule = sg_rule_by_id("tenant-table-rls");
	List	   *now = NIL;
	List	   *later = NIL;
	ListCell   *lc;

	if (sg_rule_level(rule) == SG_LEVEL_OFF)
		return;
	foreach(lc, sealed)
	{
		SgTenantFacts tf;
		List	   *leaks;
		StringInfoData buf;
		ListCell   *lc2;

		sg_catalog_tenant_facts(lfirst_oid(lc), &tf);
		leaks = sg_tenant_leaks(&tf);
		if (leaks == NIL)
			continue;
		initStringInfo(&buf);
		foreach(lc2, leaks)
			appendStringInfo(&buf, "%s%s", buf.len ? "; " : "", (char *) lfirst(lc2));
		sg_add_finding(&now, rule,
					   psprintf("%s, which removes the isolation of tenant table %s,",
								GetCommandTagName(CreateCommandTag(st->parsetree)), tf.qualname),
					   psprintf("After it, %s (tenant column %s) would let rows of one tenant reach "
								"another: %s. This transaction could read them before it ends.",
								tf.qualname, quote_identifier(tf.column), buf.data),
					   psprintf("Keep the table isolated at every step: to replace a policy, create the new "
								"one before dropping the old; %s", isolation_call(&tf)));
	}
	sg_report_extra(st, now);
	if (relids == NIL || sg_statement_ignores(st, rule))
		return;

	foreach(lc, relids)
	{
		SgFinding  *f;

		char		relkind = get_rel_relkind(lfirst_oid(lc));

		if ((relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE) ||
			sg_catalog_tenant_column(lfirst_oid(lc)) == NULL)
			continue;
		f = sg_add_finding(&later, rule, pstrdup(""), NULL, NULL);
		f->deferred = true;
		sg_init_facts(&f->target);
		f->target.relid = lfirst_oid(lc);
	}
	sg_defer_findings(later);
}

/* The enable_tenant_isolation() call that fixes a table, as SQL. */
static char *
isolation_call(const SgTenantFacts *tf)
{
	List	   *cols = sg_tenant_column_names();
	bool		open = false;
	ListCell   *lc;
	const char *call;

	foreach(lc, tf->policies)
		if (((SgPolicyFacts *) lfirst(lc))->permissive && !((SgPolicyFacts *) lfirst(lc))->isolates)
			open = true;
	if (cols != NIL && strcmp(strVal(linitial(cols)), tf->column) == 0)
		call = psprintf("SELECT schemaguard.enable_tenant_isolation(%s%s);",
						quote_literal_cstr(tf->qualname), open ? ", replace_policies => true" : "");
	else
		call = psprintf("SELECT schemaguard.enable_tenant_isolation(%s, %s%s);",
						quote_literal_cstr(tf->qualname), quote_literal_cstr(tf->column),
						open ? ", replace_policies => true" : "");
	if (!open)
		return (char *) call;
	return psprintf("%s It creates schemaguard's policy, then drops the permissive policies that "
					"keep the table open (add shared_rows => true if rows without a tenant are "
					"shared: docs/tenant.md, \"Coming from current_setting\").", call);
}

/*
 * At commit: is the table of a deferred finding a tenant table that is not
 * isolated?  If so, the finding is filled in with what is wrong.
 */
static bool
sg_tenant_recheck(SgFactSource *facts, SgFinding *f)
{
	SgTenantFacts tf;
	List	   *problems;
	StringInfoData buf;
	ListCell   *lc;

	memset(&tf, 0, sizeof(tf));
	facts->tenant(facts, f->target.relid, f->relation, &tf);
	problems = sg_tenant_problems(&tf);
	if (problems == NIL)
		return false;

	initStringInfo(&buf);
	foreach(lc, problems)
		appendStringInfo(&buf, "%s%s", buf.len ? "; " : "", (char *) lfirst(lc));
	f->target.qualname = tf.qualname;
	f->message = sg_rule_message(f->rule,
								 psprintf("a transaction that leaves tenant table %s without row-level security isolation",
										  tf.qualname));
	f->detail = psprintf("%s (tenant column %s): %s.%s", tf.qualname,
						 quote_identifier(tf.column), buf.data,
						 tf.baselined ? " It is in schemaguard.tenant_baseline (recorded as leaking when "
						 "schemaguard was adopted): reported, not refused, until it is isolated." : "");
	f->hint = isolation_call(&tf);
	f->baselined = tf.baselined;
	return true;
}

/*
 * Fold the findings of every offending table into one report, naming each
 * table once.
 */
static SgFinding *
sg_tenant_merge(List *findings)
{
	SgFinding  *first = linitial(findings);
	SgFinding  *out;
	StringInfoData names,
				detail,
				hint;
	HTAB	   *seen = NULL;
	ListCell   *lc;
	int			n = 0;

	initStringInfo(&names);
	initStringInfo(&detail);
	initStringInfo(&hint);
	foreach(lc, findings)
	{
		SgFinding  *f = lfirst(lc);

		if (sg_seen(&seen, f->target.qualname))
			continue;
		appendStringInfo(&names, "%s%s", n ? ", " : "", f->target.qualname);
		appendStringInfo(&detail, "%s%s", n ? "\n" : "", f->detail);
		appendStringInfo(&hint, "%s%s", n ? " " : "", f->hint);
		n++;
	}
	if (n == 1)
		return first;
	out = palloc(sizeof(SgFinding));
	*out = *first;
	/* refused if any table is not baselined */
	foreach(lc, findings)
		if (!((SgFinding *) lfirst(lc))->baselined)
			out->baselined = false;
	out->message = sg_rule_message(first->rule,
								   psprintf("a transaction that leaves tenant tables %s without row-level security isolation",
											names.data));
	out->detail = detail.data;
	out->hint = hint.data;
	return out;
}

static const SgRule rule_tenant_table_rls = {
	.id = "tenant-table-rls",
	.family = "tenant",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_CreateStmt, T_CreateTableAsStmt, T_AlterTableStmt, T_RenameStmt, T_DropStmt, T_CreatePolicyStmt, T_AlterPolicyStmt},
	.check = sg_check_tenant_table,
	.description = "a transaction that leaves a tenant table without row-level security, FORCE, or permissive policies for every command",
	.recheck = sg_tenant_recheck,
	.merge = sg_tenant_merge,
};

/* This file's rules, in the order rules() lists them. */
const SgRule *const sg_tenant_rules[] = {
	&rule_tenant_table_rls,
	NULL
};
