/*-------------------------------------------------------------------------
 *
 * rules_style.c
 *		The style family: conventions squawk users know (its prefer-* and
 *		require-* rules), judged from the statement alone.  None of them is
 *		about a lock held long or data lost, so all are off by default; a
 *		team turns on the ones it follows (set_rule_level(), or the [rules]
 *		table of .schemaguard.toml).  The types are judged by what the names
 *		resolve to where possible, and by the name as written for the serial
 *		pseudo-types, which exist only in the grammar.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "rule.h"
#include "schemaguard.h"

/* A new column's type, as a statement gives it. */
typedef struct NewColumn
{
	const char *what;			/* "column", "ADD COLUMN", "ALTER COLUMN ... TYPE of" */
	const char *table;
	const char *name;
	TypeName   *type;
} NewColumn;

/*
 * The columns a statement gives a type: a CREATE TABLE's, an ADD COLUMN's,
 * an ALTER COLUMN ... TYPE's.
 */
static List *
new_columns(const SgStatement *st)
{
	List	   *result = NIL;
	ListCell   *lc;

	if (IsA(st->parsetree, CreateStmt))
	{
		CreateStmt *cs = (CreateStmt *) st->parsetree;

		foreach(lc, cs->tableElts)
		{
			NewColumn  *nc;

			if (!IsA(lfirst(lc), ColumnDef) || ((ColumnDef *) lfirst(lc))->typeName == NULL)
				continue;
			nc = palloc0(sizeof(NewColumn));
			nc->what = "column";
			nc->table = sg_rangevar_name(cs->relation);
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
			NewColumn  *nc;

			if ((cmd->subtype != AT_AddColumn && cmd->subtype != AT_AlterColumnType) ||
				cmd->def == NULL || castNode(ColumnDef, cmd->def)->typeName == NULL)
				continue;
			nc = palloc0(sizeof(NewColumn));
			nc->what = cmd->subtype == AT_AddColumn ? "ADD COLUMN" : "ALTER COLUMN ... TYPE of";
			nc->table = sg_rangevar_name(stmt->relation);
			nc->name = cmd->subtype == AT_AddColumn ? castNode(ColumnDef, cmd->def)->colname : cmd->name;
			nc->type = castNode(ColumnDef, cmd->def)->typeName;
			result = lappend(result, nc);
		}
	}
	return result;
}

/* The serial pseudo-type a name spells ("serial", "bigserial", ...), or NULL. */
static const char *
serial_name(const TypeName *tn)
{
	const char *n;

	if (tn->names == NIL || list_length(tn->names) > 2 || tn->arrayBounds != NIL)
		return NULL;
	/* core accepts them bare or as pg_catalog.serial */
	if (list_length(tn->names) == 2 && strcmp(strVal(linitial(tn->names)), "pg_catalog") != 0)
		return NULL;
	n = strVal(llast(tn->names));
	if (strcmp(n, "serial") == 0 || strcmp(n, "serial4") == 0 || strcmp(n, "bigserial") == 0 ||
		strcmp(n, "serial8") == 0 || strcmp(n, "smallserial") == 0 || strcmp(n, "serial2") == 0)
		return n;
	return NULL;
}

/* The element type a column's type resolves to (an array's element), or InvalidOid. */
static Oid
element_type(const TypeName *tn, int32 *typmod)
{
	Oid			typid = sg_catalog_type_of(tn, typmod);
	Oid			elem = OidIsValid(typid) ? get_element_type(typid) : InvalidOid;

	return OidIsValid(elem) ? elem : typid;
}

/* The integer width a new column gets: 2, 4 or 8 bytes; 0 if not an integer. */
static int
int_width(const TypeName *tn)
{
	const char *s = serial_name(tn);
	Oid			typid;

	if (s)
		return strcmp(s, "smallserial") == 0 || strcmp(s, "serial2") == 0 ? 2 :
			strcmp(s, "bigserial") == 0 || strcmp(s, "serial8") == 0 ? 8 : 4;
	typid = element_type(tn, NULL);
	return typid == INT2OID ? 2 : typid == INT4OID ? 4 : typid == INT8OID ? 8 : 0;
}

static void
column_finding(List **findings, const SgRule *rule, const NewColumn *nc, const char *type,
			   const char *detail, char *hint)
{
	sg_add_finding(findings, rule,
				   psprintf("%s %s of type %s on %s", nc->what, quote_identifier(nc->name), type, nc->table),
				   pstrdup(detail), hint);
}

/* prefer-bigint-over-int, prefer-bigint-over-smallint: a 4- or 2-byte integer key runs out. */
static void
check_int_width(const SgStatement *st, const SgRule *rule, List **findings, int width)
{
	ListCell   *lc;

	foreach(lc, new_columns(st))
	{
		NewColumn  *nc = lfirst(lc);
		const char *s = serial_name(nc->type);

		if (int_width(nc->type) != width)
			continue;
		column_finding(findings, rule, nc, s ? s : width == 4 ? "integer" : "smallint",
					   width == 4 ?
					   "A 32-bit integer holds values up to 2147483647; an id or a counter that reaches it "
					   "fails every insert, and widening the column later rewrites the table under an "
					   "ACCESS EXCLUSIVE lock." :
					   "A 16-bit integer holds values up to 32767; a column that reaches it fails every "
					   "insert, and widening it later rewrites the table under an ACCESS EXCLUSIVE lock.",
					   psprintf("Use bigint (%s) from the start: it costs 4 bytes more per row at most.",
								s ? "bigserial, or bigint GENERATED BY DEFAULT AS IDENTITY" : "int8"));
	}
}

static void
sg_check_bigint_over_int(const SgStatement *st, const SgRule *rule, List **findings)
{
	check_int_width(st, rule, findings, 4);
}

static void
sg_check_bigint_over_smallint(const SgStatement *st, const SgRule *rule, List **findings)
{
	check_int_width(st, rule, findings, 2);
}

/* prefer-identity: serial types own a sequence the table's privileges do not cover. */
static void
sg_check_prefer_identity(const SgStatement *st, const SgRule *rule, List **findings)
{
	ListCell   *lc;

	foreach(lc, new_columns(st))
	{
		NewColumn  *nc = lfirst(lc);
		const char *s = serial_name(nc->type);
		int			w;

		if (s == NULL)
			continue;
		w = int_width(nc->type);
		column_finding(findings, rule, nc, s,
					   "A serial column's sequence is a separate object: its privileges, its owner and "
					   "its value are not the table's, so a GRANT, an ownership change or a copy of the "
					   "table can leave it behind. An identity column is part of the table (SQL standard).",
					   psprintf("%s %s GENERATED BY DEFAULT AS IDENTITY",
								quote_identifier(nc->name),
								w == 2 ? "smallint" : w == 8 ? "bigint" : "integer"));
	}
}

/* prefer-text-field: varchar(n) limits change under an ACCESS EXCLUSIVE lock. */
static void
sg_check_prefer_text(const SgStatement *st, const SgRule *rule, List **findings)
{
	ListCell   *lc;

	foreach(lc, new_columns(st))
	{
		NewColumn  *nc = lfirst(lc);
		int32		typmod = -1;

		if (element_type(nc->type, &typmod) != VARCHAROID || nc->type->typmods == NIL)
			continue;
		column_finding(findings, rule, nc, format_type_with_typemod(VARCHAROID, typmod),
					   "A varchar(n) limit is part of the column's type: shrinking it, or changing it on "
					   "older servers, means ALTER COLUMN ... TYPE under an ACCESS EXCLUSIVE lock. A CHECK "
					   "constraint states the same limit and can be replaced online (NOT VALID, then "
					   "VALIDATE).",
					   psprintf("%s text, with CHECK (char_length(%s) <= %d) if the limit matters.",
								quote_identifier(nc->name), quote_identifier(nc->name),
								typmod > VARHDRSZ ? typmod - VARHDRSZ : 255));
	}
}

/* prefer-timestamptz: timestamp without time zone drops the offset. */
static void
sg_check_prefer_timestamptz(const SgStatement *st, const SgRule *rule, List **findings)
{
	ListCell   *lc;

	foreach(lc, new_columns(st))
	{
		NewColumn  *nc = lfirst(lc);

		if (element_type(nc->type, NULL) != TIMESTAMPOID)
			continue;
		column_finding(findings, rule, nc, "timestamp without time zone",
					   "timestamp without time zone stores the clock reading and drops the UTC offset: "
					   "2019-10-11 21:11:24+02 and 2019-10-11 21:11:24-06 are stored alike, though eight "
					   "hours apart.",
					   psprintf("%s timestamptz (timestamp with time zone: stored in UTC, shown in the "
								"session's time zone).", quote_identifier(nc->name)));
	}
}

/*
 * ban-create-domain-with-constraint: a domain's constraint applies to every
 * column of the domain, and changing it later checks every one of their
 * rows (ALTER DOMAIN ... ADD CONSTRAINT, judged by constraint-missing-not-valid).
 */
static void
sg_check_domain_constraint(const SgStatement *st, const SgRule *rule, List **findings)
{
	CreateDomainStmt *stmt = castNode(CreateDomainStmt, st->parsetree);

	if (stmt->constraints == NIL)
		return;
	sg_add_finding(findings, rule,
				   psprintf("CREATE DOMAIN %s with a constraint", NameListToQuotedString(stmt->domainname)),
				   pstrdup("A domain's constraints bind every column of the domain, in every table: a later "
						   "change of them scans all those tables' rows at once, and a column cannot "
						   "opt out."),
				   pstrdup("Create the domain without constraints and put a CHECK on each table column "
						   "(table constraints can be added NOT VALID and validated online)."));
}

/* require-table-schema: a table named without its schema depends on search_path. */
static void
sg_check_table_schema(const SgStatement *st, const SgRule *rule, List **findings)
{
	List	   *rvs = NIL;
	ListCell   *lc;

	switch (nodeTag(st->parsetree))
	{
		case T_CreateStmt:
			if (((CreateStmt *) st->parsetree)->relation->relpersistence != RELPERSISTENCE_TEMP)
				rvs = list_make1(((CreateStmt *) st->parsetree)->relation);
			break;
		case T_CreateTableAsStmt:
			if (((CreateTableAsStmt *) st->parsetree)->objtype == OBJECT_TABLE &&
				((CreateTableAsStmt *) st->parsetree)->into->rel->relpersistence != RELPERSISTENCE_TEMP)
				rvs = list_make1(((CreateTableAsStmt *) st->parsetree)->into->rel);
			break;
		case T_AlterTableStmt:
			if (((AlterTableStmt *) st->parsetree)->objtype == OBJECT_TABLE)
				rvs = list_make1(((AlterTableStmt *) st->parsetree)->relation);
			break;
		case T_DropStmt:
			if (((DropStmt *) st->parsetree)->removeType == OBJECT_TABLE)
			{
				foreach(lc, ((DropStmt *) st->parsetree)->objects)
				{
					if (list_length(lfirst(lc)) == 1)
						rvs = lappend(rvs, makeRangeVarFromNameList(lfirst(lc)));
				}
			}
			break;
		default:
			break;
	}
	foreach(lc, rvs)
	{
		RangeVar   *rv = lfirst(lc);

		if (rv->schemaname != NULL)
			continue;
		sg_add_finding(findings, rule,
					   psprintf("table %s named without its schema", quote_identifier(rv->relname)),
					   pstrdup("An unqualified name resolves through the session's search_path, which a "
							   "runner, a role or a connection string may set differently."),
					   psprintf("Qualify it: public.%s (or its schema).", quote_identifier(rv->relname)));
	}
}

/*
 * require-statement-timeout: a statement that may take a strong lock, while
 * statement_timeout is 0 (squawk reports the first in a file; here each, as
 * the server sees them).
 */
static void
sg_check_statement_timeout(const SgStatement *st, const SgRule *rule, List **findings)
{
	List	   *rvs;
	const char *relkinds;
	bool		recurse;

	if (st->statement_timeout_ms != 0)
		return;
	if (sg_statement_lock_targets(st->parsetree, &rvs, &relkinds, &recurse) < ShareUpdateExclusiveLock &&
		!IsA(st->parsetree, IndexStmt))
		return;
	sg_add_finding(findings, rule,
				   pstrdup("a statement that may take a strong lock with statement_timeout 0"),
				   pstrdup("With statement_timeout 0 a statement that turns out slow (a scan, a rewrite, an "
						   "index build) holds its lock for as long as it takes."),
				   pstrdup("SET statement_timeout = '5s'; (or what the migration may take) before it, with "
						   "lock_timeout."));
}

/*
 * prefer-robust-stmts: outside a transaction, a migration that fails part
 * way leaves what it did, and running it again fails on the first statement
 * that already took effect unless each says IF [NOT] EXISTS.  In a
 * transaction (the file's own, or the runner's) a failure takes everything
 * back, except CREATE INDEX CONCURRENTLY, which runs outside one anyway.
 * An ADD or VALIDATE CONSTRAINT of a name dropped before (in the script;
 * live, in the session) passes: the DROP ... IF EXISTS makes the pair
 * rerunnable, as squawk counts it.
 */
static void
robust_finding(List **findings, const SgRule *rule, const char *what, const char *fix)
{
	sg_add_finding(findings, rule,
				   psprintf("%s outside a transaction", what),
				   pstrdup("If the migration fails after it, running it again fails here: the statement "
						   "already took effect, and nothing took it back."),
				   psprintf("%s, or run the migration in a transaction.", fix));
}

static void
sg_check_robust_stmts(const SgStatement *st, const SgRule *rule, List **findings)
{
	Node	   *n = st->parsetree;
	bool		in_xact = st->facts->in_xact_block(st->facts);
	ListCell   *lc;

	switch (nodeTag(n))
	{
		case T_IndexStmt:
			{
				IndexStmt  *stmt = (IndexStmt *) n;

				if (!stmt->if_not_exists && stmt->idxname != NULL && (stmt->concurrent || !in_xact))
					robust_finding(findings, rule, "CREATE INDEX without IF NOT EXISTS",
								   "Write CREATE INDEX IF NOT EXISTS");
				return;
			}
		case T_CreateStmt:
			{
				CreateStmt *stmt = (CreateStmt *) n;

				if (in_xact || stmt->if_not_exists ||
					(stmt->relation->relpersistence == RELPERSISTENCE_TEMP && stmt->oncommit == ONCOMMIT_DROP))
					return;
				robust_finding(findings, rule, "CREATE TABLE without IF NOT EXISTS", "Write CREATE TABLE IF NOT EXISTS");
				return;
			}
		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) n;

				if (in_xact || stmt->missing_ok ||
					(stmt->removeType != OBJECT_TABLE && stmt->removeType != OBJECT_INDEX &&
					 stmt->removeType != OBJECT_TYPE))
					return;
				robust_finding(findings, rule, "DROP without IF EXISTS", "Write DROP ... IF EXISTS");
				return;
			}
		case T_AlterTableStmt:
			if (((AlterTableStmt *) n)->objtype != OBJECT_TABLE)
				return;
			/* the names it drops, remembered even in a transaction */
			foreach(lc, ((AlterTableStmt *) n)->cmds)
			{
				AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

				if (cmd->subtype == AT_DropConstraint && cmd->name)
					st->facts->remember_dropped(st->facts, cmd->name);
			}
			if (in_xact)
				return;
			foreach(lc, ((AlterTableStmt *) n)->cmds)
			{
				AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
				Constraint *con = cmd->subtype == AT_AddConstraint && cmd->def && IsA(cmd->def, Constraint) ?
					(Constraint *) cmd->def : NULL;

				if (((cmd->subtype == AT_AddColumn || cmd->subtype == AT_DropColumn ||
					  cmd->subtype == AT_DropConstraint) && cmd->missing_ok))
					continue;
				/* re-adding, or validating, a constraint dropped (IF EXISTS) earlier is a rerun's redo */
				if ((con && con->conname && st->facts->was_dropped(st->facts, con->conname)) ||
					(cmd->subtype == AT_ValidateConstraint && cmd->name &&
					 st->facts->was_dropped(st->facts, cmd->name)))
					continue;
				robust_finding(findings, rule,
							   cmd->subtype == AT_AddColumn ? "ADD COLUMN without IF NOT EXISTS" :
							   cmd->subtype == AT_DropColumn ? "DROP COLUMN without IF EXISTS" :
							   cmd->subtype == AT_DropConstraint ? "DROP CONSTRAINT without IF EXISTS" :
							   "ALTER TABLE",
							   cmd->subtype == AT_AddColumn ? "Write ADD COLUMN IF NOT EXISTS" :
							   cmd->subtype == AT_DropColumn ? "Write DROP COLUMN IF EXISTS" :
							   cmd->subtype == AT_DropConstraint ? "Write DROP CONSTRAINT IF EXISTS" :
							   "Put it in a transaction (BEGIN ... COMMIT)");
				return;			/* one per statement */
			}
			return;
		default:
			return;
	}
}

static const SgRule rule_prefer_robust_stmts = {
	.id = "prefer-robust-stmts",
	.family = "style",
	.default_level = SG_LEVEL_OFF,
	.stmt_tags = {T_IndexStmt, T_CreateStmt, T_DropStmt, T_AlterTableStmt},
	.check = sg_check_robust_stmts,
	.description = "outside a transaction, a CREATE, DROP or ALTER TABLE that a second run of a half-failed migration would fail on (no IF [NOT] EXISTS)",
};

static const SgRule rule_prefer_bigint_over_int = {
	.id = "prefer-bigint-over-int",
	.family = "style",
	.default_level = SG_LEVEL_OFF,
	.stmt_tags = {T_CreateStmt, T_AlterTableStmt},
	.check = sg_check_bigint_over_int,
	.description = "a new integer (int4, serial) column: bigint does not run out",
};

static const SgRule rule_prefer_bigint_over_smallint = {
	.id = "prefer-bigint-over-smallint",
	.family = "style",
	.default_level = SG_LEVEL_OFF,
	.stmt_tags = {T_CreateStmt, T_AlterTableStmt},
	.check = sg_check_bigint_over_smallint,
	.description = "a new smallint (int2, smallserial) column: bigint does not run out",
};

static const SgRule rule_prefer_identity = {
	.id = "prefer-identity",
	.family = "style",
	.default_level = SG_LEVEL_OFF,
	.stmt_tags = {T_CreateStmt, T_AlterTableStmt},
	.check = sg_check_prefer_identity,
	.description = "a new serial column: an identity column keeps its sequence part of the table",
};

static const SgRule rule_prefer_text_field = {
	.id = "prefer-text-field",
	.family = "style",
	.default_level = SG_LEVEL_OFF,
	.stmt_tags = {T_CreateStmt, T_AlterTableStmt},
	.check = sg_check_prefer_text,
	.description = "a new varchar(n) column: text with a CHECK can change its limit online",
};

static const SgRule rule_prefer_timestamptz = {
	.id = "prefer-timestamptz",
	.family = "style",
	.default_level = SG_LEVEL_OFF,
	.stmt_tags = {T_CreateStmt, T_AlterTableStmt},
	.check = sg_check_prefer_timestamptz,
	.description = "a new timestamp without time zone column: timestamptz keeps the instant",
};

static const SgRule rule_ban_create_domain_with_constraint = {
	.id = "ban-create-domain-with-constraint",
	.family = "style",
	.default_level = SG_LEVEL_OFF,
	.stmt_tags = {T_CreateDomainStmt},
	.check = sg_check_domain_constraint,
	.description = "CREATE DOMAIN with a constraint: table constraints change online, domain ones do not",
};

static const SgRule rule_require_table_schema = {
	.id = "require-table-schema",
	.family = "style",
	.default_level = SG_LEVEL_OFF,
	.stmt_tags = {T_CreateStmt, T_CreateTableAsStmt, T_AlterTableStmt, T_DropStmt},
	.check = sg_check_table_schema,
	.description = "a table named without its schema (CREATE, CREATE AS, ALTER, DROP TABLE; not temporary ones)",
};

static const SgRule rule_require_statement_timeout = {
	.id = "require-statement-timeout",
	.family = "style",
	.default_level = SG_LEVEL_OFF,
	.stmt_tags = {T_AlterTableStmt, T_IndexStmt, T_DropStmt, T_TruncateStmt, T_VacuumStmt, T_SgClusterStmt, T_ReindexStmt, T_RefreshMatViewStmt, T_LockStmt, T_RenameStmt},
	.check = sg_check_statement_timeout,
	.description = "a statement that may take a strong lock while statement_timeout is 0",
};

/* This file's rules, in the order rules() lists them. */
const SgRule *const sg_style_rules[] = {
	&rule_prefer_bigint_over_int,
	&rule_prefer_bigint_over_smallint,
	&rule_prefer_identity,
	&rule_prefer_text_field,
	&rule_prefer_timestamptz,
	&rule_ban_create_domain_with_constraint,
	&rule_require_table_schema,
	&rule_require_statement_timeout,
	&rule_prefer_robust_stmts,
	NULL
};
