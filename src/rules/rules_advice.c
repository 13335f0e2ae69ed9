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

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

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

		/* a NOT ENFORCED key (18+) has no triggers: nothing looks rows up */
		if (cols == NIL || !sg_constraint_enforced(ac->con))
			continue;
		pk = sg_referenced_table(st, ac->con);
		f = sg_add_finding(findings, rule,
						   psprintf("foreign key on %s (%s) without an index leading with its columns",
									t.qualname, sg_column_list(cols)),
						   psprintf("Every DELETE from %s, and every UPDATE of its key, must find the referencing "
									"rows of %s (%s); without an index that is a scan of the whole table, "
									"under a lock, for each row changed.",
									pk->qualname, t.qualname, sg_size_phrase(&t)),
						   psprintf("CREATE INDEX CONCURRENTLY %s ON %s (%s); %s.",
									sg_default_name(stmt->relation->relname, cols, "idx"),
									t.qualname, sg_column_list(cols),
									sg_outside_block(st->facts->runner)));
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

/* Is a column type name character(n) (bpchar, as the parser spells it)? */
static bool
is_char_type(const TypeName *tn)
{
	int32		typmod;

	if (tn == NULL || tn->arrayBounds != NIL)
		return false;
	/* a missing type or a bad modifier: InvalidOid, and core's error */
	return sg_catalog_type_of(tn, NULL) == BPCHAROID &&
		OidIsValid(sg_catalog_type_of(tn, &typmod));
}

/* A finding for column colname of type tn on table qualname. */
static void
char_finding(const SgRule *rule, const char *what, const char *qualname, const char *colname,
			 const TypeName *tn, List **findings)
{
	const char *c = quote_identifier(colname);
	char	   *type;
	int32		n = -1;

	if (list_length(tn->typmods) == 1 && IsA(linitial(tn->typmods), A_Const) &&
		IsA(&((A_Const *) linitial(tn->typmods))->val, Integer))
		n = intVal(&((A_Const *) linitial(tn->typmods))->val);
	/* as the user wrote it: character(3) */
	type = format_type_with_typemod(BPCHAROID, n > 0 ? n + VARHDRSZ : -1);
	sg_add_finding(findings, rule,
				   psprintf("%s %s of type %s on %s", what, c, type, qualname),
				   pstrdup("character(n) pads every value with spaces to n characters, and ignores "
						   "trailing spaces when it compares: 'ab' and 'ab ' are equal, and a value "
						   "reads back longer than it was written. It is no faster than text or varchar."),
				   n > 0 ?
				   psprintf("Use text, with CHECK (char_length(%s) <= %d) if the limit matters, or "
							"varchar(%d): %s text CHECK (char_length(%s) <= %d).", c, n, n, c, c, n) :
				   psprintf("Use text (or varchar(n)): %s text.", c));
}

/*
 * ban-char-field (advice): a column of type character(n), squawk's
 * ban-char-field.  New columns only: a CREATE TABLE's, an ADD COLUMN's, and
 * ALTER COLUMN ... TYPE.  Whatever the table holds: it is about the type.
 */
static void
sg_check_char_field(const SgStatement *st, const SgRule *rule, List **findings)
{
	ListCell   *lc;

	if (IsA(st->parsetree, CreateStmt))
	{
		CreateStmt *cs = (CreateStmt *) st->parsetree;
		char	   *qualname = NULL;

		foreach(lc, cs->tableElts)
		{
			ColumnDef  *def;

			if (!IsA(lfirst(lc), ColumnDef))
				continue;
			def = (ColumnDef *) lfirst(lc);
			if (!is_char_type(def->typeName))
				continue;
			if (qualname == NULL)
				qualname = sg_rangevar_name(cs->relation);
			char_finding(rule, "column", qualname, def->colname, def->typeName, findings);
		}
		return;
	}
	if (IsA(st->parsetree, AlterTableStmt) &&
		((AlterTableStmt *) st->parsetree)->objtype == OBJECT_TABLE)
	{
		AlterTableStmt *stmt = (AlterTableStmt *) st->parsetree;
		char	   *qualname = NULL;

		foreach(lc, stmt->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
			ColumnDef  *def;

			if (cmd->subtype != AT_AddColumn && cmd->subtype != AT_AlterColumnType)
				continue;
			def = castNode(ColumnDef, cmd->def);
			if (!is_char_type(def->typeName))
				continue;
			if (qualname == NULL)
				qualname = sg_rangevar_name(stmt->relation);
			char_finding(rule, cmd->subtype == AT_AddColumn ? "ADD COLUMN" : "ALTER COLUMN ... TYPE of",
						 qualname, cmd->subtype == AT_AddColumn ? def->colname : cmd->name,
						 def->typeName, findings);
		}
	}
}

static const SgRule rule_ban_char_field = {
	.id = "ban-char-field",
	.family = "advice",
	.default_level = SG_LEVEL_WARNING,
	.stmt_tags = {T_CreateStmt, T_AlterTableStmt},
	.check = sg_check_char_field,
	.description = "a column of type character(n), which pads with spaces and compares ignoring them: use text or varchar",
};

/* This file's rules, in the order rules() lists them. */
const SgRule *const sg_advice_rules[] = {
	&rule_fk_without_index,
	&rule_ban_char_field,
	NULL
};
