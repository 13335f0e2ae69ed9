/*-------------------------------------------------------------------------
 *
 * rules_alter.c
 *		Helpers shared by the rules that examine ALTER TABLE: the target and
 *		its lock, the subcommands of one kind, and hint text.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/tablecmds.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "rule.h"

/*
 * The target of an ALTER TABLE, locked as core locks it.  True when a
 * statement on it puts other sessions at risk (see sg_facts_at_risk).
 */
bool
sg_alter_target(const SgStatement *st, SgRelFacts *t)
{
	AlterTableStmt *stmt = castNode(AlterTableStmt, st->parsetree);
	SgLockSpec	locks = {AlterTableGetLockLevel(stmt->cmds), NoLock,
		stmt->relation->inh, "rpm", false, sg_alter_cmds_recurse(stmt->cmds)};

	sg_init_facts(t);
	if (stmt->objtype != OBJECT_TABLE && stmt->objtype != OBJECT_MATVIEW)
		return false;
	st->facts->relation(st->facts, stmt->relation, locks, t);
	return sg_facts_at_risk(t);
}

/* The subcommands of one kind of an ALTER TABLE statement. */
List *
sg_alter_cmds(const SgStatement *st, AlterTableType subtype)
{
	AlterTableStmt *stmt;
	List	   *result = NIL;
	ListCell   *lc;

	if (!IsA(st->parsetree, AlterTableStmt))
		return NIL;
	stmt = (AlterTableStmt *) st->parsetree;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if (cmd->subtype == subtype)
			result = lappend(result, cmd);
	}
	return result;
}

/*
 * The subcommands of one kind, when there are any and the target is at
 * risk (filling *t); NIL otherwise.  The opening of most ALTER TABLE rules.
 */
List *
sg_alter_cmds_at_risk(const SgStatement *st, AlterTableType subtype, SgRelFacts *t)
{
	List	   *cmds = sg_alter_cmds(st, subtype);

	if (cmds == NIL || !sg_alter_target(st, t))
		return NIL;
	return cmds;
}

/* "ALTER TABLE public.t" */
char *
sg_alter_prefix(const SgRelFacts *t)
{
	return psprintf("ALTER TABLE %s", t->qualname);
}

/* A note for details when the table's columns are unknown (lint). */
const char *
sg_unknown_note(const SgRelFacts *t)
{
	return t->unknown ?
		" The table is not in this database, so its columns are unknown; this reads them cautiously." : "";
}

/*
 * The statement's text from parse location 'from' up to location 'to', or
 * to the end of the clause when to < 0, trimmed.
 */
char *
sg_text_between(const SgStatement *st, int from, int to)
{
	int			start = from - st->location_base;
	char	   *text;
	int			len;

	if (from < 0 || start < 0 || start >= (int) strlen(st->sql))
		return NULL;
	if (to < 0)
		return sg_clause_text(st->sql, start);
	if (to < from || to - st->location_base > (int) strlen(st->sql))
		return NULL;
	text = pnstrdup(st->sql + start, to - from);
	len = strlen(text);
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\n' ||
					   text[len - 1] == '\t' || text[len - 1] == '\r'))
		text[--len] = '\0';
	return text;
}

/*
 * A constraint or index name in core's style: relname_col1_col2_suffix,
 * cut to fit NAMEDATALEN, quoted as needed.
 */
char *
sg_default_name(const char *relname, List *columns, const char *suffix)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoString(&buf, relname);
	foreach(lc, columns)
		appendStringInfo(&buf, "_%s", strVal(lfirst(lc)));
	if (buf.len + strlen(suffix) + 1 >= NAMEDATALEN)
		buf.data[NAMEDATALEN - strlen(suffix) - 2] = '\0';
	return (char *) quote_identifier(psprintf("%s_%s", buf.data, suffix));
}

/* The table a foreign key references, looked up without a lock. */
SgRelFacts *
sg_referenced_table(const SgStatement *st, const Constraint *c)
{
	SgRelFacts *pk = palloc(sizeof(SgRelFacts));
	SgLockSpec	nolock = {NoLock, NoLock, false, NULL, false, false};

	st->facts->relation(st->facts, c->pktable, nolock, pk);
	if (!pk->exists || pk->qualname == NULL)
		pk->qualname = sg_rangevar_name(c->pktable);
	return pk;
}


/* The constraints of kind contype an ALTER TABLE adds, table or column. */
List *
sg_added_constraints(const SgStatement *st, ConstrType contype)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, sg_alter_cmds(st, AT_AddConstraint))
	{
		Constraint *c = castNode(Constraint, ((AlterTableCmd *) lfirst(lc))->def);
		AddedConstraint *ac;

		if (c->contype != contype)
			continue;
		ac = palloc0(sizeof(AddedConstraint));
		ac->con = c;
		ac->next_location = -1;
		result = lappend(result, ac);
	}
	foreach(lc, sg_alter_cmds(st, AT_AddColumn))
	{
		ColumnDef  *def = castNode(ColumnDef, ((AlterTableCmd *) lfirst(lc))->def);
		ListCell   *lc2;

		foreach(lc2, def->constraints)
		{
			Constraint *c = lfirst_node(Constraint, lc2);
			AddedConstraint *ac;

			if (c->contype != contype)
				continue;
			ac = palloc0(sizeof(AddedConstraint));
			ac->con = c;
			ac->column = def;
			ac->next_location = lnext(def->constraints, lc2) ?
				((Constraint *) lfirst(lnext(def->constraints, lc2)))->location : -1;
			result = lappend(result, ac);
		}
	}
	return result;
}

/* The referencing columns of a foreign key (inline: the new column). */
List *
sg_fk_columns(const AddedConstraint *ac)
{
	if (ac->column)
		return list_make1(makeString(ac->column->colname));
	return ac->con->fk_attrs;
}

/*
 * The columns a statement gives a type (SgNewColumn): a CREATE TABLE's, an
 * ADD COLUMN's, an ALTER COLUMN ... TYPE's.  The rules about a column's type
 * (ban-char-field, the style family's) walk them.
 */
List *
sg_new_columns(const SgStatement *st)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (IsA(st->parsetree, CreateStmt))
	{
		CreateStmt *cs = (CreateStmt *) st->parsetree;

		foreach(lc, cs->tableElts)
		{
			SgNewColumn  *nc;

			if (!IsA(lfirst(lc), ColumnDef) || ((ColumnDef *) lfirst(lc))->typeName == NULL)
				continue;
			nc = palloc0(sizeof(SgNewColumn));
			nc->what = "column";
			nc->table = cs->relation;
			nc->name = ((ColumnDef *) lfirst(lc))->colname;
			nc->type = ((ColumnDef *) lfirst(lc))->typeName;
			result = lappend(result, nc);
		}
	}
	else if (IsA(st->parsetree, AlterTableStmt) &&
			 ((AlterTableStmt *) st->parsetree)->objtype == OBJECT_TABLE)
	{
		AlterTableStmt *stmt = (AlterTableStmt *) st->parsetree;

		foreach(lc, stmt->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
			SgNewColumn  *nc;

			if ((cmd->subtype != AT_AddColumn && cmd->subtype != AT_AlterColumnType) ||
				cmd->def == NULL || castNode(ColumnDef, cmd->def)->typeName == NULL)
				continue;
			nc = palloc0(sizeof(SgNewColumn));
			nc->what = cmd->subtype == AT_AddColumn ? "ADD COLUMN" : "ALTER COLUMN ... TYPE of";
			nc->table = stmt->relation;
			nc->name = cmd->subtype == AT_AddColumn ? castNode(ColumnDef, cmd->def)->colname : cmd->name;
			nc->type = castNode(ColumnDef, cmd->def)->typeName;
			result = lappend(result, nc);
		}
	}
	return result;
}
