/*-------------------------------------------------------------------------
 *
 * rules_column.c
 *		The column rule family: adding, retyping and renaming columns, and
 *		renaming tables.
 *
 * changing-column-type follows core's own rewrite decision (tablecmds.c,
 * ATColumnChangeRequiresRewrite): the column, as a Var, is coerced to the
 * new type by assignment and simplified by the planner, whose support
 * functions turn a length coercion that cannot fail (varchar(10) to
 * varchar(20), numeric(10,2) to numeric(12,2)) into a relabel.  What is
 * left other than a relabel of the column is a rewrite.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/tablecmds.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_type.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "compat.h"
#include "rule.h"
#include "schemaguard.h"

/* What a default expression calls. */
typedef struct VolatilityScan
{
	bool		isvolatile;
	bool		unknown;		/* a function that does not exist (yet) */
	char	   *culprit;
} VolatilityScan;

/* raw_expression_tree_walker callback: look at every function call. */
static bool
volatility_walker(Node *node, void *context)
{
	VolatilityScan *vs = context;

	if (node == NULL)
		return false;
	if (IsA(node, FuncCall))
	{
		FuncCall   *fc = (FuncCall *) node;
		FuncCandidateList cands;

		if (!sg_name_ok(fc->funcname))
		{
			vs->unknown = true;	/* core reports the name */
			return false;
		}
		cands = sg_funcname_candidates(fc->funcname, list_length(fc->args), NIL,
									  false, false, false, true);
		if (cands == NULL)
			cands = sg_funcname_candidates(fc->funcname, -1, NIL, true, true, false, true);
		if (cands == NULL)
			vs->unknown = true;
		for (; cands; cands = cands->next)
		{
			if (func_volatile(cands->oid) == PROVOLATILE_VOLATILE)
			{
				vs->isvolatile = true;
				vs->culprit = psprintf("%s()", NameListToString(fc->funcname));
				return true;
			}
		}
	}
	return sg_raw_walker(node, volatility_walker, context);
}

/* Is the type a serial pseudo-type, as core's transformColumnDefinition sees it? */
static bool
is_serial(const TypeName *tn)
{
	static const char *const serials[] = {
		"smallserial", "serial2", "serial", "serial4", "bigserial", "serial8"
	};
	const char *name;

	if (list_length(tn->names) != 1 || tn->pct_type)
		return false;
	name = strVal(linitial(tn->names));
	for (int i = 0; i < lengthof(serials); i++)
	{
		if (strcmp(name, serials[i]) == 0)
			return true;
	}
	return false;
}

/* The constraint of kind contype on a column definition, or NULL. */
static Constraint *
column_constraint(const ColumnDef *def, ConstrType contype)
{
	ListCell   *lc;

	foreach(lc, def->constraints)
	{
		Constraint *c = lfirst_node(Constraint, lc);

		if (c->contype == contype)
			return c;
	}
	return NULL;
}

/*
 * Why adding this column rewrites the table, or NULL if it does not (a
 * constant or stable default is stored once, in the catalog, since 11).
 * *unknown: the default calls a function the catalog does not know.
 */
static char *
add_column_rewrite_reason(const ColumnDef *def, bool *unknown)
{
	Constraint *dflt = column_constraint(def, CONSTR_DEFAULT);
	Constraint *gen = column_constraint(def, CONSTR_GENERATED);
	Node	   *expr = def->raw_default ? def->raw_default : dflt ? dflt->raw_expr : NULL;

	*unknown = false;
	if (is_serial(def->typeName))
		return psprintf("a %s column is filled from its sequence for every existing row",
						strVal(linitial(def->typeName->names)));
	if (column_constraint(def, CONSTR_IDENTITY))
		return pstrdup("an identity column is filled from its sequence for every existing row");
	if (gen && sg_generated_is_stored(gen))
		return pstrdup("a GENERATED ... STORED column is computed and stored for every existing row");
	if (expr)
	{
		VolatilityScan vs = {false, false, NULL};

		(void) volatility_walker(expr, &vs);
		if (vs.isvolatile)
			return psprintf("the default calls the volatile function %s, which is evaluated "
							"and stored for every existing row", vs.culprit);
		*unknown = vs.unknown;
	}
	{
		Oid			oid = sg_catalog_type_of(def->typeName, NULL);
		bool		domain = OidIsValid(oid) && get_typtype(oid) == TYPTYPE_DOMAIN;

		if (domain && sg_domain_has_constraints(oid))
			return psprintf("the domain %s has constraints, which are checked for every existing row",
							format_type_be(oid));
	}
	return NULL;
}

/*
 * adding-required-field: ADD COLUMN ... NOT NULL without a default fails on
 * a populated table, and breaks every INSERT that does not name it.
 */
static void
sg_check_required_field(const SgStatement *st, const SgRule *rule, List **findings)
{
	List	   *cmds;
	SgRelFacts	t;
	ListCell   *lc;

	if ((cmds = sg_alter_cmds_at_risk(st, AT_AddColumn, &t)) == NIL)
		return;
	foreach(lc, cmds)
	{
		ColumnDef  *def = castNode(ColumnDef, ((AlterTableCmd *) lfirst(lc))->def);
		char	   *coldef = sg_text_between(st, def->location, -1);

		if (!(def->is_not_null || column_constraint(def, CONSTR_NOTNULL)))
			continue;
		if (def->raw_default || column_constraint(def, CONSTR_DEFAULT) ||
			column_constraint(def, CONSTR_IDENTITY) ||
			column_constraint(def, CONSTR_GENERATED) || is_serial(def->typeName))
			continue;
		if (!t.unknown && st->facts->has_column(st->facts, &t, def->colname))
			continue;			/* IF NOT EXISTS skips it, or core errors */
		sg_add_finding(findings, rule,
					   psprintf("ADD COLUMN %s NOT NULL without a default on %s",
								quote_identifier(def->colname), t.qualname),
					   psprintf("The rows already in %s (%s) have no value for it: PostgreSQL refuses the "
								"statement after taking its %s lock, and every INSERT of the running "
								"application that does not name the column would fail too.",
								t.qualname, sg_size_phrase(&t), sg_lock_name(AccessExclusiveLock)),
					   psprintf("Give it a constant default, which is stored once and rewrites nothing: "
								"%s ADD COLUMN %s DEFAULT <value>; or add it nullable, backfill it in batches, "
								"and make it NOT NULL through a validated CHECK (rule set-not-null-without-check).",
								sg_alter_prefix(&t), coldef ? coldef : quote_identifier(def->colname)));
	}
}

static const SgRule rule_adding_required_field = {
	.id = "adding-required-field",
	.family = "column",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_AlterTableStmt},
	.check = sg_check_required_field,
	.description = "ADD COLUMN ... NOT NULL without a default fails on a populated table and breaks inserts that omit it",
};

/*
 * adding-field-with-volatile-default: ADD COLUMN that rewrites the table:
 * volatile default, GENERATED STORED, serial, identity.
 */
static void
sg_check_volatile_default(const SgStatement *st, const SgRule *rule, List **findings)
{
	List	   *cmds;
	SgRelFacts	t;
	ListCell   *lc;

	if ((cmds = sg_alter_cmds_at_risk(st, AT_AddColumn, &t)) == NIL || sg_facts_small(&t))
		return;
	foreach(lc, cmds)
	{
		ColumnDef  *def = castNode(ColumnDef, ((AlterTableCmd *) lfirst(lc))->def);
		const char *c = quote_identifier(def->colname);
		char	   *type;
		bool		unknown;
		char	   *why;

		if (!t.unknown && st->facts->has_column(st->facts, &t, def->colname))
			continue;
		why = add_column_rewrite_reason(def, &unknown);
		if (why == NULL && unknown && st->facts->unknown_may_exist)
			why = pstrdup("the default calls a function this database does not have, which is "
						  "read cautiously as volatile");
		if (why == NULL)
			continue;
		if (is_serial(def->typeName))
		{
			type = strVal(linitial(def->typeName->names));
			type = psprintf("%s %s", c, strstr(type, "big") || strstr(type, "8") ? "bigint" :
							strstr(type, "small") || strstr(type, "2") ? "smallint" : "integer");
		}
		else
			type = def->constraints ?
				sg_text_between(st, def->location, ((Constraint *) linitial(def->constraints))->location) :
				sg_text_between(st, def->location, -1);
		if (type == NULL)
			type = psprintf("%s %s", c, TypeNameToString(def->typeName));
		sg_add_finding(findings, rule,
					   psprintf("ADD COLUMN %s on %s, which rewrites the table,",
								c, t.qualname),
					   psprintf("PostgreSQL rewrites %s (%s) under an %s lock, blocking %s until the "
								"rewrite ends, because %s.",
								t.qualname, sg_size_phrase(&t), sg_lock_name(AccessExclusiveLock),
								sg_lock_blocks(AccessExclusiveLock), why),
					   psprintf("Add the column without it: %s ADD COLUMN %s; then set the default for new "
								"rows with %s ALTER COLUMN %s SET DEFAULT <expression>; and fill the existing "
								"rows in batches (UPDATE ... WHERE <key range>). A GENERATED STORED column "
								"can instead be a plain column kept up to date by a trigger.",
								sg_alter_prefix(&t), type, sg_alter_prefix(&t), c));
	}
}

static const SgRule rule_adding_field_with_volatile_default = {
	.id = "adding-field-with-volatile-default",
	.family = "column",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_AlterTableStmt},
	.check = sg_check_volatile_default,
	.description = "ADD COLUMN with a volatile default, GENERATED STORED, serial or identity rewrites the table",
};

/*
 * Would core rewrite the table to change a column from col's type to the
 * one def names?  Core's decision, as the file header explains.  *unknown:
 * the target type does not exist (core will say so).
 */
static bool
type_change_rewrites(const SgColumnFacts *col, const char *colname, const ColumnDef *def,
					 Oid *target, int32 *targetmod, bool *unknown)
{
	Node	   *expr;

	*target = sg_catalog_type_of(def->typeName, targetmod);
	*unknown = !OidIsValid(*target);
	if (*unknown)
		return true;			/* core will refuse: a missing type, a bad modifier */

	/* USING other than the column itself computes new values. */
	if (def->raw_default)
	{
		Node	   *u = def->raw_default;

		if (IsA(u, TypeCast))
			u = ((TypeCast *) u)->arg;
		if (!IsA(u, ColumnRef) || list_length(((ColumnRef *) u)->fields) != 1 ||
			!IsA(linitial(((ColumnRef *) u)->fields), String) ||
			strcmp(strVal(linitial(((ColumnRef *) u)->fields)), colname) != 0)
			return true;
	}

	expr = (Node *) makeVar(1, col->attnum, col->typid, col->typmod, col->collid, 0);
	expr = coerce_to_target_type(NULL, expr, col->typid, *target, *targetmod,
								 COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST, -1);
	if (expr == NULL)
	{
		*unknown = true;		/* no assignment cast: core refuses */
		return true;
	}
	/* a cast a role wrote computes new values; it is never run here */
	if (sg_expr_has_user_code(expr))
		return true;
	expr = (Node *) expression_planner((Expr *) expr);

	for (;;)
	{
		if (IsA(expr, Var) && ((Var *) expr)->varattno == col->attnum)
			return false;
		else if (IsA(expr, RelabelType))
			expr = (Node *) ((RelabelType *) expr)->arg;
		else if (IsA(expr, CoerceToDomain))
		{
			CoerceToDomain *d = (CoerceToDomain *) expr;

			if (sg_domain_has_constraints(d->resulttype))
				return true;
			expr = (Node *) d->arg;
		}
		else if (IsA(expr, FuncExpr) &&
				 (((FuncExpr *) expr)->funcid == F_TIMESTAMPTZ_TIMESTAMP ||
				  ((FuncExpr *) expr)->funcid == F_TIMESTAMP_TIMESTAMPTZ) &&
				 !TimestampTimestampTzRequiresRewrite())
			expr = linitial(((FuncExpr *) expr)->args);
		else
			return true;
	}
}

/* A type name as the statement spells it (up to USING, if any). */
static char *
written_type(const SgStatement *st, const TypeName *tn)
{
	char	   *text = sg_text_between(st, tn->location, -1);
	char	   *using;

	if (text == NULL)
		return TypeNameToString(tn);
	using = strcasestr(text, " using ");
	if (using)
		*using = '\0';
	return text;
}

/*
 * ALTER TYPE ... ALTER ATTRIBUTE ... TYPE ... CASCADE changes the column of
 * every typed table of the type, rewriting each.
 */
static void
check_typed_tables(const SgStatement *st, const SgRule *rule, List **findings)
{
	AlterTableStmt *stmt = castNode(AlterTableStmt, st->parsetree);
	List	   *names = stmt->relation->schemaname ?
		list_make2(makeString(stmt->relation->schemaname), makeString(stmt->relation->relname)) :
		list_make1(makeString(stmt->relation->relname));
	Type		typ = LookupTypeName(NULL, makeTypeNameFromNameList(names), NULL, true);
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	SgRelFacts	t;

	if (typ == NULL || sg_alter_cmds(st, AT_AlterColumnType) == NIL || stmt->cmds == NIL ||
		((AlterTableCmd *) linitial(stmt->cmds))->behavior != DROP_CASCADE)
	{
		if (typ)
			ReleaseSysCache(typ);
		return;
	}
	values[0] = ObjectIdGetDatum(((Form_pg_type) GETSTRUCT(typ))->oid);
	ReleaseSysCache(typ);
	sg_catalog_query_tables("", "c.reloftype OPERATOR(pg_catalog.=) $1", 1, argtypes, values, &t);
	if (!sg_facts_work_at_risk(&t))
		return;
	sg_add_finding(findings, rule,
				   psprintf("ALTER TYPE %s ALTER ATTRIBUTE ... TYPE ... CASCADE, which rewrites its typed tables,", NameListToString(names)),
				   psprintf("CASCADE changes the column of the %s, rewriting each and its indexes under "
							"an %s lock, blocking %s.", sg_tables_phrase(&t, "typed table"),
							sg_lock_name(AccessExclusiveLock), sg_lock_blocks(AccessExclusiveLock)),
				   pstrdup("Expand and contract on each table instead: add a new attribute, backfill it "
						   "in batches, move reads to it, then drop the old one in a later migration."));
}

/*
 * A type change that rewrites nothing still rebuilds the column's indexes
 * when the collation changes (core cannot reuse them): an index build under
 * the ACCESS EXCLUSIVE lock.
 */
static void
check_collation_change(const SgStatement *st, const SgRule *rule, const SgRelFacts *t,
					   const SgColumnFacts *col, const char *colname, const ColumnDef *def,
					   Oid target, List **findings)
{
	Oid			newcoll;

	if (!OidIsValid(target) || !type_is_collatable(target))
		return;
	newcoll = def->collClause ?
		get_collation_oid(def->collClause->collname, true) : get_typcollation(target);
	if (!OidIsValid(newcoll) || newcoll == col->collid)
		return;
	if (!st->facts->index_leads(st->facts, t, list_make1(makeString(pstrdup(colname)))))
		return;
	sg_add_finding(findings, rule,
				   psprintf("ALTER COLUMN %s TYPE ... COLLATE %s on %s, which rebuilds its indexes,",
							quote_identifier(colname), generate_collation_name(newcoll), t->qualname),
				   psprintf("A new collation changes the order of %s, so every index on it is rebuilt under "
							"an %s lock on %s (%s), blocking %s.", quote_identifier(colname),
							sg_lock_name(AccessExclusiveLock), t->qualname, sg_size_phrase(t),
							sg_lock_blocks(AccessExclusiveLock)),
				   psprintf("Build the index with the new collation first: CREATE INDEX CONCURRENTLY ON %s "
							"(%s COLLATE %s); then change the column in a migration that drops the old index "
							"(DROP INDEX CONCURRENTLY) beforehand.", t->qualname, quote_identifier(colname),
							generate_collation_name(newcoll)));
}

/*
 * changing-column-type: ALTER COLUMN ... TYPE that rewrites or scans the
 * table.  Binary-coercible changes without a typmod shrink pass.
 */
static void
sg_check_column_type(const SgStatement *st, const SgRule *rule, List **findings)
{
	List	   *cmds;
	SgRelFacts	t;
	ListCell   *lc;

	if (IsA(st->parsetree, AlterTableStmt) &&
		((AlterTableStmt *) st->parsetree)->objtype == OBJECT_TYPE)
	{
		check_typed_tables(st, rule, findings);
		return;
	}
	if ((cmds = sg_alter_cmds_at_risk(st, AT_AlterColumnType, &t)) == NIL || sg_facts_small(&t))
		return;
	foreach(lc, cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);
		ColumnDef  *def = castNode(ColumnDef, cmd->def);
		const char *c = quote_identifier(cmd->name);
		SgColumnFacts col;
		Oid			target = InvalidOid;
		int32		targetmod = -1;
		bool		unknown = false;
		char	   *from;
		char	   *to;

		st->facts->column(st->facts, &t, cmd->name, &col);
		if (!col.exists)
			continue;			/* core reports it */
		if (!col.unknown && OidIsValid(col.typid))
		{
			if (!type_change_rewrites(&col, cmd->name, def, &target, &targetmod, &unknown))
			{
				check_collation_change(st, rule, &t, &col, cmd->name, def, target, findings);
				continue;
			}
			if (unknown)
				continue;		/* core reports the missing type or cast */
		}
		else
			unknown = true;

		from = col.unknown || !OidIsValid(col.typid) ? "its current type" :
			format_type_with_typemod(col.typid, col.typmod);
		to = OidIsValid(target) ? format_type_with_typemod(target, targetmod) :
			written_type(st, def->typeName);
		sg_add_finding(findings, rule,
					   psprintf("ALTER COLUMN %s TYPE %s on %s, which rewrites the table,",
								c, to, t.qualname),
					   psprintf("Changing %s from %s to %s rewrites %s (%s) and rebuilds its indexes under "
								"an %s lock, blocking %s.%s%s",
								c, from, to, t.qualname, sg_size_phrase(&t),
								sg_lock_name(AccessExclusiveLock), sg_lock_blocks(AccessExclusiveLock),
								unknown ? " The column's current type is unknown here, so this assumes a rewrite." : "",
								sg_unknown_note(&t)),
					   psprintf("Expand and contract: %s ADD COLUMN <new_column> %s; write both columns from "
								"the application (or a trigger), backfill the new one in batches, move reads "
								"to it, then drop %s in a later migration. Changes that only widen a type "
								"(varchar(n) to varchar(m > n) or text, numeric(p,s) to numeric(p2 > p,s)) "
								"need no rewrite.",
								sg_alter_prefix(&t), to, c));
	}
}

static const SgRule rule_changing_column_type = {
	.id = "changing-column-type",
	.family = "column",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_AlterTableStmt},
	.check = sg_check_column_type,
	.description = "ALTER COLUMN ... TYPE that rewrites or scans the table under an ACCESS EXCLUSIVE lock",
};

/* The target of a RENAME of a table or a table's column. */
static bool
rename_target(const SgStatement *st, ObjectType type, SgRelFacts *t)
{
	RenameStmt *stmt = castNode(RenameStmt, st->parsetree);
	/* a parent's name and columns are its inheritance children's rows' too */
	SgLockSpec	locks = {AccessExclusiveLock, NoLock, true, "rpm", false, true};

	if (stmt->renameType != type || stmt->relation == NULL ||
		(type == OBJECT_COLUMN && stmt->relationType != OBJECT_TABLE))
		return false;
	st->facts->relation(st->facts, stmt->relation, locks, t);
	return sg_facts_at_risk(t);
}

/* renaming-column: the running application still uses the old name. */
static void
sg_check_rename_column(const SgStatement *st, const SgRule *rule, List **findings)
{
	RenameStmt *stmt = castNode(RenameStmt, st->parsetree);
	SgRelFacts	t;
	SgColumnFacts col;
	const char *oldc;
	const char *newc;

	if (!rename_target(st, OBJECT_COLUMN, &t))
		return;
	st->facts->column(st->facts, &t, stmt->subname, &col);
	if (!col.exists)
		return;
	oldc = quote_identifier(stmt->subname);
	newc = quote_identifier(stmt->newname);
	sg_add_finding(findings, rule,
				   psprintf("RENAME COLUMN %s on %s", oldc, t.qualname),
				   psprintf("Every query of the running application that names %s.%s fails from the "
							"moment the rename commits until the new code is deployed everywhere.",
							t.qualname, oldc),
				   psprintf("Expand and contract: %s ADD COLUMN %s %s; write both columns from the "
							"application (or a trigger), backfill %s from %s in batches, move reads to %s, "
							"then drop %s in a later migration.",
							sg_alter_prefix(&t), newc,
							OidIsValid(col.typid) ? format_type_with_typemod(col.typid, col.typmod) : "<type>",
							newc, oldc, newc, oldc));
}

static const SgRule rule_renaming_column = {
	.id = "renaming-column",
	.family = "column",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_RenameStmt},
	.check = sg_check_rename_column,
	.description = "RENAME COLUMN breaks the running application",
};

/*
 * renaming-table: the running application still uses the old name.  A move
 * to another schema (ALTER TABLE ... SET SCHEMA) changes the name it uses as
 * RENAME does, and ALTER SCHEMA ... RENAME TO changes the names of every
 * table in the schema.
 */
static void
sg_check_rename_table(const SgStatement *st, const SgRule *rule, List **findings)
{
	SgRelFacts	t;
	char	   *oldname;

	if (IsA(st->parsetree, AlterObjectSchemaStmt))
	{
		AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) st->parsetree;
		SgLockSpec	locks = {AccessExclusiveLock, NoLock, true, "rpm", false, true};
		const char *newnsp = quote_identifier(stmt->newschema);

		if ((stmt->objectType != OBJECT_TABLE && stmt->objectType != OBJECT_MATVIEW) ||
			stmt->relation == NULL)
			return;
		st->facts->relation(st->facts, stmt->relation, locks, &t);
		if (!sg_facts_at_risk(&t))
			return;
		oldname = sg_rangevar_name(stmt->relation);
		sg_add_finding(findings, rule,
					   psprintf("SET SCHEMA %s of table %s", newnsp, t.qualname),
					   psprintf("Every query of the running application that names %s (%s) fails from the "
								"moment the move commits until the new code is deployed everywhere, as after "
								"a RENAME.", t.qualname, sg_size_phrase(&t)),
					   psprintf("Keep the old name working while clients move: BEGIN; SELECT schemaguard.allow('%s', "
								"'<reason>'); ALTER TABLE %s SET SCHEMA %s; CREATE VIEW %s AS SELECT * FROM %s.%s; "
								"COMMIT; (a simple view is updatable), then drop the view once no client uses "
								"the old name.",
								rule->id, oldname, newnsp, t.qualname, newnsp,
								quote_identifier(stmt->relation->relname)));
		return;
	}
	else
	{
		RenameStmt *stmt = castNode(RenameStmt, st->parsetree);

		if (stmt->renameType == OBJECT_SCHEMA)
		{
			const char *oldnsp = quote_identifier(stmt->subname);
			const char *newnsp = quote_identifier(stmt->newname);

			st->facts->namespace(st->facts, stmt->subname, false, &t);
			if (!sg_facts_at_risk(&t))
				return;
			sg_add_finding(findings, rule,
						   psprintf("RENAME of schema %s", oldnsp),
						   psprintf("Every query of the running application that names a table of %s by its "
									"schema fails from the moment the rename commits: %s.",
									oldnsp, sg_tables_phrase(&t, "table")),
						   psprintf("Move the tables one at a time instead, each leaving a view under its old "
									"name: CREATE SCHEMA %s; then, per table, BEGIN; SELECT schemaguard.allow('%s', "
									"'<reason>'); ALTER TABLE %s.<table> SET SCHEMA %s; CREATE VIEW %s.<table> AS "
									"SELECT * FROM %s.<table>; COMMIT; and drop the views and the old schema once "
									"no client uses them.",
									newnsp, rule->id, oldnsp, newnsp, oldnsp, newnsp));
			return;
		}
		if (!rename_target(st, OBJECT_TABLE, &t))
			return;
		oldname = sg_rangevar_name(stmt->relation);
		sg_add_finding(findings, rule,
					   psprintf("RENAME of table %s", t.qualname),
					   psprintf("Every query of the running application that names %s fails from the "
								"moment the rename commits until the new code is deployed everywhere.",
								t.qualname),
					   psprintf("Expand and contract: keep the old name working while clients move: BEGIN; "
								"SELECT schemaguard.allow('%s', '<reason>'); ALTER TABLE %s RENAME TO %s; "
								"CREATE VIEW %s AS SELECT * FROM %s; COMMIT; (a simple view is updatable), "
								"then drop the view once no client uses the old name.",
								rule->id, oldname, quote_identifier(stmt->newname),
								oldname, quote_identifier(stmt->newname)));
	}
}

static const SgRule rule_renaming_table = {
	.id = "renaming-table",
	.family = "column",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_RenameStmt, T_AlterObjectSchemaStmt},
	.check = sg_check_rename_table,
	.description = "RENAME TO, SET SCHEMA, or renaming the schema of a populated table breaks the running application",
};

/*
 * renaming-enum-value: ALTER TYPE ... RENAME VALUE changes what every row
 * holding the value reads, at once, without an UPDATE: no trigger fires, no
 * audit row is written, and the application still writing the old label
 * fails.
 */
static void
sg_check_rename_enum_value(const SgStatement *st, const SgRule *rule, List **findings)
{
	AlterEnumStmt *stmt = castNode(AlterEnumStmt, st->parsetree);
	char	   *name;
	SgRelFacts	t;

	if (stmt->oldVal == NULL)
		return;
	st->facts->type_users(st->facts, stmt->typeName, &t);
	if (!sg_facts_at_risk(&t))
		return;
	name = NameListToQuotedString(stmt->typeName);
	sg_add_finding(findings, rule,
				   psprintf("RENAME VALUE %s of enum %s", quote_literal_cstr(stmt->oldVal), name),
				   psprintf("Every row of the %s with a column of %s that holds %s reads %s from the moment "
							"it commits, without an UPDATE: no trigger fires and no audit row is written, "
							"and the running application that still writes %s fails.",
							sg_tables_phrase(&t, "table"), name, quote_literal_cstr(stmt->oldVal),
							quote_literal_cstr(stmt->newVal), quote_literal_cstr(stmt->oldVal)),
				   psprintf("Add the new label instead: ALTER TYPE %s ADD VALUE %s; (in a migration of its own), "
							"deploy code that reads both, move the rows in batches (UPDATE <table> SET <column> = "
							"%s WHERE <column> = %s), then stop writing the old label (an enum value cannot be "
							"dropped: leave it unused).",
							name, quote_literal_cstr(stmt->newVal), quote_literal_cstr(stmt->newVal),
							quote_literal_cstr(stmt->oldVal)));
}

static const SgRule rule_renaming_enum_value = {
	.id = "renaming-enum-value",
	.family = "column",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_AlterEnumStmt},
	.check = sg_check_rename_enum_value,
	.description = "ALTER TYPE ... RENAME VALUE silently changes what the rows of populated tables hold",
};

/*
 * Does RESTART [WITH v] move sequence seqid beyond every value it has given
 * out?  Only a WITH past its last value does (in the direction it counts);
 * a bare RESTART goes back to its START.  Unknown (it cannot be read): no.
 */
static bool
restart_moves_on(Oid seqid, DefElem *restart, char **why)
{
	int64		last;
	int64		inc;
	int64		v;
	bool		known = OidIsValid(seqid) && sg_catalog_sequence_position(seqid, &last, &inc);

	if (restart->arg == NULL)
	{
		*why = pstrdup("back to its START value");
		return false;
	}
	v = defGetInt64(restart);
	if (!known)
	{
		*why = psprintf("to " INT64_FORMAT ", which may not be beyond the values it gave out (its last value "
						"cannot be read here)", v);
		return false;
	}
	if (inc > 0 ? v > last : v < last)
		return true;
	*why = psprintf("to " INT64_FORMAT ", which is not beyond its last value " INT64_FORMAT, v, last);
	return false;
}

/*
 * sequence-restart: a sequence that populated tables take their values from,
 * sent back to values it has given out (ALTER SEQUENCE ... RESTART, ALTER
 * TABLE ... ALTER COLUMN ... RESTART of an identity), or a new identity on a
 * populated column that starts at 1 (after DROP IDENTITY, say): the inserts
 * that take those values fail on a duplicate key, or, without a unique index,
 * repeat them silently.
 */
static void
sg_check_sequence_restart(const SgStatement *st, const SgRule *rule, List **findings)
{
	SgRelFacts	t;
	char	   *why;
	const char *hint_tail = "(a RESTART WITH beyond the sequence's last value passes).";

	if (IsA(st->parsetree, AlterSeqStmt))
	{
		AlterSeqStmt *stmt = (AlterSeqStmt *) st->parsetree;
		DefElem    *restart = sg_option(stmt->options, "restart");
		Oid			seqid;
		const char *seqname;

		if (restart == NULL)
			return;
		seqid = RangeVarGetRelid(stmt->sequence, NoLock, true);
		if (!OidIsValid(seqid) || get_rel_relkind(seqid) != RELKIND_SEQUENCE)
			return;				/* core reports it */
		st->facts->sequence_users(st->facts, seqid, &t);
		if (!sg_facts_at_risk(&t) || restart_moves_on(seqid, restart, &why))
			return;
		seqname = sg_qualified_relname(seqid);
		sg_add_finding(findings, rule,
					   psprintf("ALTER SEQUENCE %s RESTART", seqname),
					   psprintf("%s gives the values of a column of the %s; sent %s, it hands out values "
								"already in use, and the inserts that take them fail on a duplicate key "
								"(without a unique index, the values repeat silently).",
								seqname, sg_tables_phrase(&t, "table"), why),
					   psprintf("Restart beyond the values in use: SELECT max(<column>) FROM %s; then ALTER "
								"SEQUENCE %s RESTART WITH <that + 1>; %s", t.qualname, seqname, hint_tail));
		return;
	}
	else
	{
		AlterTableStmt *stmt = castNode(AlterTableStmt, st->parsetree);
		ListCell   *lc;

		if (stmt->objtype != OBJECT_TABLE)
			return;
		foreach(lc, stmt->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
			const char *col = cmd->name ? quote_identifier(cmd->name) : "<column>";

			if (cmd->subtype == AT_SetIdentity)
			{
				DefElem    *restart = sg_option((List *) cmd->def, "restart");
				Oid			seqid = InvalidOid;

				if (restart == NULL || !sg_alter_target(st, &t))
					continue;
				if (OidIsValid(t.relid) && cmd->name)
				{
					Relation	rel = relation_open(t.relid, NoLock);
					AttrNumber	attnum = get_attnum(t.relid, cmd->name);

					if (attnum != InvalidAttrNumber)
						seqid = sg_identity_sequence(rel, attnum);
					relation_close(rel, NoLock);
				}
				if (restart_moves_on(seqid, restart, &why))
					continue;
				sg_add_finding(findings, rule,
							   psprintf("RESTART of the identity %s.%s", t.qualname, col),
							   psprintf("The identity of %s (%s) sent %s hands out values already in use: the "
										"inserts that take them fail on a duplicate key (without a unique "
										"index, the values repeat silently).",
										t.qualname, sg_size_phrase(&t), why),
							   psprintf("Restart beyond the values in use: SELECT max(%s) FROM %s; then %s ALTER "
										"COLUMN %s RESTART WITH <that + 1>; %s",
										col, t.qualname, sg_alter_prefix(&t), col, hint_tail));
			}
			else if (cmd->subtype == AT_AddIdentity)
			{
				Constraint *c = castNode(Constraint, cmd->def);

				if (sg_option(c->options, "start") != NULL || !sg_alter_target(st, &t))
					continue;
				sg_add_finding(findings, rule,
							   psprintf("ADD GENERATED AS IDENTITY on %s.%s", t.qualname, col),
							   psprintf("The new identity's sequence starts at 1 while %s (%s) already holds "
										"values in %s: the inserts that take values from it fail on a duplicate "
										"key (without a unique index, the values repeat silently).",
										t.qualname, sg_size_phrase(&t), col),
							   psprintf("Start it beyond the values in use: SELECT max(%s) FROM %s; then %s ALTER "
										"COLUMN %s ADD GENERATED %s AS IDENTITY (START WITH <that + 1>);",
										col, t.qualname, sg_alter_prefix(&t), col,
										c->generated_when == ATTRIBUTE_IDENTITY_ALWAYS ? "ALWAYS" : "BY DEFAULT"));
			}
		}
	}
}

static const SgRule rule_sequence_restart = {
	.id = "sequence-restart",
	.family = "column",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_AlterSeqStmt, T_AlterTableStmt},
	.check = sg_check_sequence_restart,
	.description = "RESTART of a sequence or identity that populated tables use, or a new identity on a populated column, without starting beyond the values in use",
};

/*
 * adding-json-column: a json column on a table the application already
 * queries.  json has no equality operator, so every SELECT DISTINCT,
 * UNION, GROUP BY or comparison of whole rows of the table (SELECT
 * DISTINCT t.*, as ORMs write it) fails once the column exists, however
 * few rows the table holds; jsonb has one.  The type is judged by what the
 * name resolves to (a domain over json counts, a user type called json
 * does not); a table created in this transaction has no queries yet.
 */
static void
sg_check_json_column(const SgStatement *st, const SgRule *rule, List **findings)
{
	AlterTableStmt *stmt;
	SgLockSpec	locks = {AccessExclusiveLock, NoLock, false, "rp", false, false};
	SgRelFacts	t;
	ListCell   *lc;

	if (!IsA(st->parsetree, AlterTableStmt))
		return;
	stmt = (AlterTableStmt *) st->parsetree;
	if (stmt->objtype != OBJECT_TABLE ||
		(sg_alter_cmds(st, AT_AddColumn) == NIL && sg_alter_cmds(st, AT_AlterColumnType) == NIL))
		return;
	locks.table = AlterTableGetLockLevel(stmt->cmds);
	locks.recurse = stmt->relation->inh;
	locks.inherit = true;		/* ADD COLUMN and ALTER TYPE recurse */
	st->facts->relation(st->facts, stmt->relation, locks, &t);
	if (!t.exists || !t.checkable || t.created_in_xact || t.is_temp)
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		ColumnDef  *def;
		const char *colname;
			Oid			typid;

		if (cmd->subtype != AT_AddColumn && cmd->subtype != AT_AlterColumnType)
			continue;
		def = castNode(ColumnDef, cmd->def);
		colname = cmd->subtype == AT_AddColumn ? def->colname : cmd->name;
		if (def->typeName == NULL || def->typeName->arrayBounds != NIL)
			continue;
		if (cmd->subtype == AT_AddColumn && !t.unknown &&
			st->facts->has_column(st->facts, &t, colname))
			continue;			/* IF NOT EXISTS skips it, or core errors */
		typid = sg_catalog_type_of(def->typeName, NULL);
		if (!OidIsValid(typid))
			continue;			/* core reports the missing type */
		if (getBaseType(typid) != JSONOID)
			continue;
		sg_add_finding(findings, rule,
					   psprintf("%s %s of type %s on %s",
								cmd->subtype == AT_AddColumn ? "ADD COLUMN" : "ALTER COLUMN ... TYPE of",
								quote_identifier(colname), format_type_be(typid), t.qualname),
					   psprintf("json has no equality operator: once %s holds a json column, every query of the "
								"running application that compares its whole rows (SELECT DISTINCT %s.*, "
								"UNION, GROUP BY, row comparisons) fails with \"could not identify an "
								"equality operator for type json\", whatever the table holds (%s).",
								t.qualname, quote_identifier(stmt->relation->relname), sg_size_phrase(&t)),
					   psprintf("Use jsonb, which has equality, indexes and a binary form: %s %s %s%s jsonb;",
								sg_alter_prefix(&t),
								cmd->subtype == AT_AddColumn ? "ADD COLUMN" : "ALTER COLUMN",
								quote_identifier(colname),
								cmd->subtype == AT_AddColumn ? "" : " TYPE"));
	}
}

static const SgRule rule_adding_json_column = {
	.id = "adding-json-column",
	.family = "column",
	.default_level = SG_LEVEL_WARNING,
	.stmt_tags = {T_AlterTableStmt},
	.check = sg_check_json_column,
	.description = "ADD COLUMN (or ALTER COLUMN ... TYPE) json on an existing table breaks the application's SELECT DISTINCT, UNION and GROUP BY over its rows",
};

/* This file's rules, in the order rules() lists them. */
const SgRule *const sg_column_rules[] = {
	&rule_adding_required_field,
	&rule_adding_field_with_volatile_default,
	&rule_changing_column_type,
	&rule_renaming_column,
	&rule_renaming_table,
	&rule_renaming_enum_value,
	&rule_sequence_restart,
	&rule_adding_json_column,
	NULL
};
