/*-------------------------------------------------------------------------
 *
 * rules_advice.c
 *		The advice family: what a careful reviewer would point out, but that
 *		does not lock a table for long or lose data.  Warning (or off) by
 *		default, so that the guard's errors stay about danger.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/makefuncs.h"
#include "utils/builtins.h"

#include "rule.h"

/*
 * fk-without-index (advice): a foreign key whose referencing columns lead no
 * index.  Deferred: judged again at the end of the transaction, so that an
 * index created later in the same migration counts.
 */
static void
sg_check_fk_without_index(const SgStatement *st, const SgRule *rule, List **findings)
{
	List	   *added = sg_added_constraints(st, CONSTR_FOREIGN);
	AlterTableStmt *stmt;
	SgRelFacts	t;
	ListCell   *lc;

	if (added == NIL || !sg_alter_target(st, &t))
		return;
	stmt = castNode(AlterTableStmt, st->parsetree);
	foreach(lc, added)
	{
		AddedConstraint *ac = lfirst(lc);
		List	   *cols = sg_fk_columns(ac);
		SgRelFacts *pk;
		SgFinding  *f;

		if (cols == NIL)
			continue;
		pk = sg_referenced_table(st, ac->con);
		f = sg_add_finding(findings, rule,
						   psprintf("foreign key on %s (%s) without an index leading with its columns",
									t.qualname, sg_column_list(cols)),
						   psprintf("Every DELETE from %s, and every UPDATE of its key, must find the referencing "
									"rows of %s (%s); without an index that is a scan of the whole table, "
									"under a lock, for each row changed.",
									pk->qualname, t.qualname, sg_size_phrase(&t)),
						   psprintf("CREATE INDEX CONCURRENTLY %s ON %s (%s); outside a transaction block.",
									sg_default_name(stmt->relation->relname, cols, "idx"),
									t.qualname, sg_column_list(cols)));
		f->deferred = true;
		f->target = t;
		f->columns = cols;
	}
}

/* At commit: does the foreign key still lack an index leading with its columns? */
static bool
sg_fk_index_recheck(SgFactSource *facts, SgFinding *f)
{
	return !facts->index_leads(facts, &f->target, f->columns);
}

static const SgRule rule_fk_without_index = {
	.id = "fk-without-index",
	.family = "advice",
	.default_level = SG_LEVEL_WARNING,
	.stmt_tags = {T_AlterTableStmt},
	.check = sg_check_fk_without_index,
	.description = "a foreign key whose columns lead no index makes DELETE and UPDATE on the referenced table scan this one",
	.recheck = sg_fk_index_recheck,
};

/* This file's rules, in the order rules() lists them. */
const SgRule *const sg_advice_rules[] = {
	&rule_fk_without_index,
	NULL
};
