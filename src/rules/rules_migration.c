/*-------------------------------------------------------------------------
 *
 * rules_migration.c
 *		The migration family: ddl-outside-migration (off by default).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "tcop/cmdtag.h"
#include "tcop/utility.h"

#include "rule.h"

/* ddl-outside-migration: any DDL while no migration runs. */
static void
sg_check_ddl_outside_migration(const SgStatement *st, const SgRule *rule, List **findings)
{
	const char *tag;

	if (st->facts->in_migration(st->facts))
		return;
	tag = GetCommandTagName(CreateCommandTag(st->parsetree));
	sg_add_finding(findings, rule,
				   psprintf("%s outside a migration", tag),
				   pstrdup("This database requires every DDL statement to run inside a migration, so that "
						   "the migration history records it."),
				   psprintf("Run it inside one: BEGIN; SELECT schemaguard.begin_migration('<version>'); %s; COMMIT;",
							sg_statement_trimmed(st->sql)));
}

static const SgRule rule_ddl_outside_migration = {
	.id = "ddl-outside-migration",
	.family = "migration",
	.default_level = SG_LEVEL_OFF,
	.stmt_tags = {T_Invalid},
	.check = sg_check_ddl_outside_migration,
	.description = "a DDL statement run outside begin_migration() ... end_migration(), so no migration records it",
};

/*
 * transaction-nesting and ban-uncommitted-transaction: the shape of a file's
 * transactions, which only lint() sees whole (lint_xact.c, lint.c).  The
 * server sees one statement at a time: core itself warns of a BEGIN inside a
 * transaction and of a COMMIT outside one, and ends what a session leaves
 * open.  No check here: the hook never examines BEGIN or COMMIT.
 */
static const SgRule rule_transaction_nesting = {
	.id = "transaction-nesting",
	.family = "migration",
	.default_level = SG_LEVEL_WARNING,
	.stmt_tags = {T_Invalid},
	.description = "lint: BEGIN, COMMIT or ROLLBACK in a file its runner already runs in a transaction, or nested, or with none open",
};

static const SgRule rule_ban_uncommitted_transaction = {
	.id = "ban-uncommitted-transaction",
	.family = "migration",
	.default_level = SG_LEVEL_WARNING,
	.stmt_tags = {T_Invalid},
	.description = "lint: a BEGIN the file never commits or rolls back",
};

/* This file's rules, in the order rules() lists them. */
const SgRule *const sg_migration_rules[] = {
	&rule_ddl_outside_migration,
	&rule_transaction_nesting,
	&rule_ban_uncommitted_transaction,
	NULL
};
