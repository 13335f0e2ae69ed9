/*-------------------------------------------------------------------------
 *
 * rules_destroy.c
 *		The destruction family: DROP DATABASE, TRUNCATE ... CASCADE, and
 *		DROP SCHEMA/TYPE/DOMAIN ... CASCADE that take data with them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/dbcommands.h"
#include "parser/parse_type.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"

#include "catalog/pg_database.h"
#include "rule.h"

/* ban-drop-database: a migration never drops a database. */
static void
sg_check_drop_database(const SgStatement *st, const SgRule *rule, List **findings)
{
	DropdbStmt *stmt = castNode(DropdbStmt, st->parsetree);

	if (!OidIsValid(get_database_oid(stmt->dbname, true)) && !st->facts->unknown_may_exist)
		return;					/* core reports it, or skips it (IF EXISTS) */
	sg_add_finding(findings, rule,
				   psprintf("DROP DATABASE %s", quote_identifier(stmt->dbname)),
				   pstrdup("A migration that drops a database destroys every table in it; "
						   "there is no undo short of a restore from backup."),
				   psprintf("Drop databases by hand, outside migrations. DROP DATABASE cannot run in a "
							"transaction block, so schemaguard.allow() cannot cover it; a superuser who "
							"must run it can SET schemaguard.mode = 'warn' for that session first."));
}

static const SgRule rule_ban_drop_database = {
	.id = "ban-drop-database",
	.family = "destruction",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_DropdbStmt},
	.check = sg_check_drop_database,
	.description = "DROP DATABASE in a migration",
};

/*
 * ban-truncate-cascade: CASCADE also empties every table with a foreign key
 * to the target, transitively, including rows whose key is NULL.
 */
static void
sg_check_truncate_cascade(const SgStatement *st, const SgRule *rule, List **findings)
{
	TruncateStmt *stmt = castNode(TruncateStmt, st->parsetree);
	SgLockSpec	locks = {AccessExclusiveLock, NoLock, true, "rp", false, true};
	ListCell   *lc;

	if (stmt->behavior != DROP_CASCADE)
		return;
	foreach(lc, stmt->relations)
	{
		SgRelFacts	t;

		st->facts->relation(st->facts, lfirst(lc), locks, &t);
		if (!sg_facts_at_risk(&t))
			continue;
		sg_add_finding(findings, rule,
					   psprintf("TRUNCATE ... CASCADE of %s", t.qualname),
					   psprintf("Besides %s (%s), CASCADE empties every table that has a foreign key to it, "
								"transitively, including rows whose key is NULL: tables the statement "
								"never names.",
								t.qualname, sg_size_phrase(&t)),
					   pstrdup("Name every table to empty, without CASCADE: TRUNCATE <table>, <referencing table>, ...; "
							   "PostgreSQL then refuses if a table you did not name still references one you did."));
		return;
	}
}

static const SgRule rule_ban_truncate_cascade = {
	.id = "ban-truncate-cascade",
	.family = "destruction",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_TruncateStmt},
	.check = sg_check_truncate_cascade,
	.description = "TRUNCATE ... CASCADE also empties every table that references the target, transitively",
};

/*
 * ban-drop-cascade: DROP SCHEMA ... CASCADE of a schema holding a populated
 * table, and DROP TYPE/DOMAIN ... CASCADE used by a column of one.
 */
static void
sg_check_drop_cascade(const SgStatement *st, const SgRule *rule, List **findings)
{
	DropStmt   *stmt = castNode(DropStmt, st->parsetree);
	ListCell   *lc;

	if (stmt->behavior != DROP_CASCADE)
		return;
	if (stmt->removeType != OBJECT_SCHEMA && stmt->removeType != OBJECT_TYPE &&
		stmt->removeType != OBJECT_DOMAIN)
		return;

	foreach(lc, stmt->objects)
	{
		SgRelFacts	t;
		char	   *name;
		const char *kind;

		if (stmt->removeType == OBJECT_SCHEMA)
		{
			name = (char *) quote_identifier(strVal(lfirst(lc)));
			kind = "SCHEMA";
			st->facts->namespace(st->facts, strVal(lfirst(lc)), false, &t);
		}
		else
		{
			TypeName   *tn = lfirst_node(TypeName, lc);

			name = TypeNameToString(tn);
			kind = stmt->removeType == OBJECT_TYPE ? "TYPE" : "DOMAIN";
			st->facts->type_users(st->facts, tn->names, &t);
		}
		if (!sg_facts_at_risk(&t))
			continue;
		sg_add_finding(findings, rule,
					   psprintf("DROP %s %s CASCADE", kind, name),
					   stmt->removeType == OBJECT_SCHEMA ?
					   psprintf("CASCADE drops the %d populated table%s of the schema (%s in all, the "
								"largest %s) with everything in them.",
								t.ntables, t.ntables == 1 ? "" : "s", sg_size_phrase(&t), t.qualname) :
					   psprintf("CASCADE drops every column of this type, with its data, from %d populated "
								"table%s (%s in all, the largest %s).",
								t.ntables, t.ntables == 1 ? "" : "s", sg_size_phrase(&t), t.qualname),
					   psprintf("Drop or move the dependent objects explicitly first (staged, in earlier "
								"migrations), then DROP %s %s without CASCADE, so that PostgreSQL refuses "
								"if anything still depends on it.", kind, name));
	}
}

static const SgRule rule_ban_drop_cascade = {
	.id = "ban-drop-cascade",
	.family = "destruction",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_DropStmt},
	.check = sg_check_drop_cascade,
	.description = "DROP SCHEMA/TYPE/DOMAIN ... CASCADE that takes populated tables or columns with it",
};

/* This file's rules, in the order rules() lists them. */
const SgRule *const sg_destroy_rules[] = {
	&rule_ban_drop_database,
	&rule_ban_truncate_cascade,
	&rule_ban_drop_cascade,
	NULL
};
