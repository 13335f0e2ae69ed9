/*-------------------------------------------------------------------------
 *
 * rules_constraint.c
 *		The constraint rule family: constraints that scan or index a
 *		populated table under the ALTER TABLE lock, and the advice on
 *		foreign keys without an index.
 *
 * Pure checks over (statement, facts), shared by the live hook and lint().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/tablecmds.h"
#include "parser/parse_type.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"

#include "rule.h"

/* The constraint's name: its own, or the one core would choose. */
static char *
constraint_name(const SgStatement *st, const AddedConstraint *ac, List *columns,
				const char *suffix)
{
	AlterTableStmt *stmt = castNode(AlterTableStmt, st->parsetree);

	if (ac->con->conname)
		return (char *) quote_identifier(ac->con->conname);
	return sg_default_name(stmt->relation->relname, columns, suffix);
}

/*
 * The constraint clause as written, named: "CONSTRAINT name <clause>".  For
 * an inline foreign key, "FOREIGN KEY (col) REFERENCES ...".
 */
static char *
named_clause(const SgStatement *st, const AddedConstraint *ac, const char *name)
{
	char	   *clause = sg_text_between(st, ac->con->location, ac->next_location);

	if (clause == NULL)
		clause = "...";
	if (ac->column && ac->con->contype == CONSTR_FOREIGN)
		return psprintf("CONSTRAINT %s FOREIGN KEY (%s) %s", name,
						quote_identifier(ac->column->colname), clause);
	if (ac->con->conname)
		return clause;
	return psprintf("CONSTRAINT %s %s", name, clause);
}

/* The column definition as written, without its constraint ac. */
static char *
column_without(const SgStatement *st, const AddedConstraint *ac)
{
	char	   *text = sg_text_between(st, ac->column->location, ac->con->location);

	return text ? text : pstrdup(quote_identifier(ac->column->colname));
}

/*
 * constraint-missing-not-valid: ADD FOREIGN KEY or CHECK without NOT VALID,
 * and ADD COLUMN ... REFERENCES, check every row under the ALTER TABLE lock.
 */
/*
 * ALTER DOMAIN ... ADD CONSTRAINT ... CHECK (without NOT VALID) and ALTER
 * DOMAIN ... SET NOT NULL check every row of every table with a column of
 * the domain, under a SHARE lock on each, blocking writes.
 */
static void
check_domain(const SgStatement *st, const SgRule *rule, bool not_null, List **findings)
{
	AlterDomainStmt *stmt = castNode(AlterDomainStmt, st->parsetree);
	char	   *name = NameListToString(stmt->typeName);
	SgRelFacts	t;

	if (not_null ? stmt->subtype != 'O' :
		(stmt->subtype != 'C' || !IsA(stmt->def, Constraint) ||
		 ((Constraint *) stmt->def)->contype != CONSTR_CHECK ||
		 ((Constraint *) stmt->def)->skip_validation))
		return;
	st->facts->type_users(st->facts, stmt->typeName, &t);
	if (!sg_facts_work_at_risk(&t))
		return;
	sg_add_finding(findings, rule,
				   not_null ?
				   psprintf("ALTER DOMAIN %s SET NOT NULL", name) :
				   psprintf("ALTER DOMAIN %s ADD CONSTRAINT ... CHECK without NOT VALID",
							name),
				   psprintf("It checks every row of the %s with a column of the domain, each under a %s "
							"lock that blocks %s.", sg_tables_phrase(&t, "table"),
							sg_lock_name(ShareLock), sg_lock_blocks(ShareLock)),
				   not_null ?
				   psprintf("Add the rule as a constraint that is validated later: ALTER DOMAIN %s ADD "
							"CONSTRAINT %s_not_null CHECK (VALUE IS NOT NULL) NOT VALID; then, in a later "
							"transaction, ALTER DOMAIN %s VALIDATE CONSTRAINT %s_not_null;",
							name, strVal(llast(stmt->typeName)), name, strVal(llast(stmt->typeName))) :
				   psprintf("Add it NOT VALID (new values are checked at once), then validate it in a later "
							"transaction: ALTER DOMAIN %s VALIDATE CONSTRAINT <name>;", name));
}

static void
sg_check_missing_not_valid(const SgStatement *st, const SgRule *rule, List **findings)
{
	List	   *added = list_concat(sg_added_constraints(st, CONSTR_FOREIGN),
									sg_added_constraints(st, CONSTR_CHECK));
	LOCKMODE	lock;
	SgRelFacts	t;
	ListCell   *lc;

	if (IsA(st->parsetree, AlterDomainStmt))
	{
		check_domain(st, rule, false, findings);
		return;
	}
	if (added == NIL || !sg_alter_target(st, &t) || sg_facts_small(&t))
		return;
	lock = AlterTableGetLockLevel(castNode(AlterTableStmt, st->parsetree)->cmds);

	foreach(lc, added)
	{
		AddedConstraint *ac = lfirst(lc);
		bool		fk = ac->con->contype == CONSTR_FOREIGN;
		char	   *name;
		char	   *detail;
		char	   *hint;

		/*
		 * Inline CHECK on a new column is not this rule's business; a NOT
		 * ENFORCED constraint (18+) checks no row.
		 */
		if (ac->con->skip_validation || (ac->column && !fk) || !sg_constraint_enforced(ac->con))
			continue;
		name = constraint_name(st, ac, fk ? sg_fk_columns(ac) : NIL, fk ? "fkey" : "check");
		if (fk)
		{
			SgRelFacts *pk = sg_referenced_table(st, ac->con);

			detail = psprintf("Without NOT VALID, the foreign key is checked against every row of %s (%s) "
							  "while the statement holds %s on it, blocking %s, and %s "
							  "on the referenced table %s, blocking %s.",
							  t.qualname, sg_size_phrase(&t), sg_lock_phrase(lock), sg_lock_blocks(lock),
							  sg_lock_phrase(ShareRowExclusiveLock), pk->qualname,
							  sg_lock_blocks(ShareRowExclusiveLock));
		}
		else
			detail = psprintf("Without NOT VALID, the CHECK constraint is tested on every row of %s (%s) "
							  "while the statement holds %s on it, blocking %s.",
							  t.qualname, sg_size_phrase(&t), sg_lock_phrase(lock), sg_lock_blocks(lock));

		hint = psprintf("%s%s ADD %s NOT VALID; then, in a later transaction: %s VALIDATE CONSTRAINT %s; "
						"(VALIDATE takes only a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes go on).",
						ac->column ? psprintf("%s ADD COLUMN %s; ", sg_alter_prefix(&t), column_without(st, ac)) : "",
						sg_alter_prefix(&t), named_clause(st, ac, name),
						sg_alter_prefix(&t), name);
#ifndef SG_HAVE_PARTITIONED_NOT_VALID_FK
		/* before 18 core refuses a NOT VALID foreign key on a partitioned table */
		if (fk && t.relkind == RELKIND_PARTITIONED_TABLE)
			hint = psprintf("A partitioned table takes no NOT VALID foreign key before PostgreSQL 18. Per "
							"partition instead: ALTER TABLE <partition> ADD %s NOT VALID; then, in a later "
							"transaction, ALTER TABLE <partition> VALIDATE CONSTRAINT %s; once every partition "
							"has it validated, %s ADD %s; attaches them without a scan.",
							named_clause(st, ac, name), name, sg_alter_prefix(&t), named_clause(st, ac, name));
#endif
		sg_add_finding(findings, rule,
					   psprintf("%s on %s without NOT VALID",
								fk ? "FOREIGN KEY" : "CHECK", t.qualname),
					   detail, hint);
	}
}

static const SgRule rule_constraint_missing_not_valid = {
	.id = "constraint-missing-not-valid",
	.family = "constraint",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_AlterTableStmt, T_AlterDomainStmt},
	.check = sg_check_missing_not_valid,
	.description = "ADD FOREIGN KEY or CHECK without NOT VALID scans the whole table under the ALTER TABLE lock",
};

/*
 * validate-in-same-transaction: VALIDATE CONSTRAINT in the transaction that
 * added the constraint NOT VALID; the ADD's lock is still held.
 */
static void
sg_check_validate_same_xact(const SgStatement *st, const SgRule *rule, List **findings)
{
	List	   *cmds;
	SgRelFacts	t;
	ListCell   *lc;

	if ((cmds = sg_alter_cmds_at_risk(st, AT_ValidateConstraint, &t)) == NIL || sg_facts_small(&t))
		return;
	foreach(lc, cmds)
	{
		AlterTableCmd *cmd = lfirst(lc);

		if (!st->facts->added_not_valid(st->facts, &t, cmd->name))
			continue;
		sg_add_finding(findings, rule,
					   psprintf("VALIDATE CONSTRAINT %s on %s in the transaction that added it",
								quote_identifier(cmd->name), t.qualname),
					   psprintf("ADD CONSTRAINT ... NOT VALID earlier in this transaction took a lock on %s "
								"(ACCESS EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE for a foreign key) that is "
								"held until COMMIT; validating now scans every row (%s) under that lock, "
								"which is what NOT VALID was meant to avoid.",
								t.qualname, sg_size_phrase(&t)),
					   psprintf("COMMIT after the ADD CONSTRAINT ... NOT VALID, and run %s VALIDATE CONSTRAINT %s; "
								"in a later transaction (a separate migration).",
								sg_alter_prefix(&t), quote_identifier(cmd->name)));
	}
}

static const SgRule rule_validate_in_same_transaction = {
	.id = "validate-in-same-transaction",
	.family = "constraint",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_AlterTableStmt},
	.check = sg_check_validate_same_xact,
	.description = "VALIDATE CONSTRAINT in the transaction that added it NOT VALID still holds the ADD's lock",
};

/*
 * unique-constraint-without-index: ADD UNIQUE or PRIMARY KEY, as a
 * constraint or inline on ADD COLUMN, builds its index under an ACCESS
 * EXCLUSIVE lock.  USING INDEX attaches an index built CONCURRENTLY.
 */
static void
sg_check_unique_without_index(const SgStatement *st, const SgRule *rule, List **findings)
{
	List	   *added = list_concat(sg_added_constraints(st, CONSTR_UNIQUE),
									sg_added_constraints(st, CONSTR_PRIMARY));
	AlterTableStmt *stmt = castNode(AlterTableStmt, st->parsetree);
	SgRelFacts	t;
	ListCell   *lc;

	if (added == NIL || !sg_alter_target(st, &t) || sg_facts_small(&t))
		return;
	foreach(lc, added)
	{
		AddedConstraint *ac = lfirst(lc);
		bool		pk = ac->con->contype == CONSTR_PRIMARY;
		List	   *keys = ac->column ? list_make1(makeString(ac->column->colname)) : ac->con->keys;
		char	   *name;
		char	   *hint;

		if (ac->con->indexname != NULL)
			continue;			/* USING INDEX */
		if (sg_constraint_without_overlaps(ac->con))
		{
			/* a temporal key's GiST index: no USING INDEX adopts it */
			sg_add_finding(findings, rule,
						   psprintf("ADD %s ... WITHOUT OVERLAPS on %s", pk ? "PRIMARY KEY" : "UNIQUE", t.qualname),
						   psprintf("The temporal key builds its GiST index on %s (%s) and checks every row "
									"while the statement holds an %s lock, blocking %s; PostgreSQL has no "
									"CONCURRENTLY or USING INDEX form for a key WITHOUT OVERLAPS.",
									t.qualname, sg_size_phrase(&t), sg_lock_name(AccessExclusiveLock),
									sg_lock_blocks(AccessExclusiveLock)),
						   psprintf("There is no online way to add it to a populated table. In a maintenance "
									"window: BEGIN; SET LOCAL lock_timeout = '2s'; SELECT schemaguard.allow('%s', "
									"'<reason>'); %s; COMMIT;", rule->id, sg_statement_trimmed(st->sql)));
			continue;
		}
		name = ac->con->conname ? (char *) quote_identifier(ac->con->conname) :
			pk ? sg_default_name(stmt->relation->relname, NIL, "pkey") :
			sg_default_name(stmt->relation->relname, keys, "key");
		hint = psprintf("%sCREATE UNIQUE INDEX CONCURRENTLY %s ON %s (%s); %s, "
						"then %s ADD CONSTRAINT %s %s USING INDEX %s;%s",
						ac->column ? psprintf("%s ADD COLUMN %s; then ", sg_alter_prefix(&t),
											  column_without(st, ac)) : "",
						name, t.qualname, sg_column_list(keys), sg_outside_block(st->facts->runner),
						sg_alter_prefix(&t), name, pk ? "PRIMARY KEY" : "UNIQUE", name,
						pk ? " The key columns must already be NOT NULL (see rule set-not-null-without-check)." : "");
		sg_add_finding(findings, rule,
					   psprintf("ADD %s on %s without USING INDEX",
								pk ? "PRIMARY KEY" : "UNIQUE", t.qualname),
					   psprintf("The constraint builds its unique index on %s (%s) while the statement holds "
								"an %s lock, blocking %s until the build ends.",
								t.qualname, sg_size_phrase(&t), sg_lock_name(AccessExclusiveLock),
								sg_lock_blocks(AccessExclusiveLock)),
					   hint);
	}
}

static const SgRule rule_unique_constraint_without_index = {
	.id = "unique-constraint-without-index",
	.family = "constraint",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_AlterTableStmt},
	.check = sg_check_unique_without_index,
	.description = "ADD UNIQUE or PRIMARY KEY builds its index under an ACCESS EXCLUSIVE lock",
};

/* exclusion-constraint-on-existing-table: ADD EXCLUDE has no online path. */
static void
sg_check_exclusion(const SgStatement *st, const SgRule *rule, List **findings)
{
	List	   *added = sg_added_constraints(st, CONSTR_EXCLUSION);
	SgRelFacts	t;

	if (added == NIL || !sg_alter_target(st, &t) || sg_facts_small(&t))
		return;
	sg_add_finding(findings, rule,
				   psprintf("ADD EXCLUDE on %s", t.qualname),
				   psprintf("The exclusion constraint builds its index and checks every row of %s (%s) "
							"under an %s lock, blocking %s; PostgreSQL has no CONCURRENTLY or NOT VALID "
							"form for it.",
							t.qualname, sg_size_phrase(&t), sg_lock_name(AccessExclusiveLock),
							sg_lock_blocks(AccessExclusiveLock)),
				   psprintf("There is no online way to add it. In a maintenance window: BEGIN; "
							"SET LOCAL lock_timeout = '2s'; SELECT schemaguard.allow('%s', '<reason>'); "
							"%s; COMMIT;",
							rule->id, sg_statement_trimmed(st->sql)));
}

static const SgRule rule_exclusion_constraint_on_existing_table = {
	.id = "exclusion-constraint-on-existing-table",
	.family = "constraint",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_AlterTableStmt},
	.check = sg_check_exclusion,
	.description = "ADD EXCLUDE builds its index and checks every row under an ACCESS EXCLUSIVE lock",
};

/*
 * set-not-null-without-check: SET NOT NULL scans the table under an ACCESS
 * EXCLUSIVE lock, unless a validated CHECK (col IS NOT NULL) proves it
 * (PostgreSQL 12+ then skips the scan).  So does 18's ADD CONSTRAINT n NOT
 * NULL col without NOT VALID; on 18 the safe form is that constraint NOT
 * VALID, validated in a later transaction.
 */
static void
not_null_finding(const SgStatement *st, const SgRule *rule, SgRelFacts *t, const char *column,
				 const char *how, List **findings)
{
	AlterTableStmt *stmt = castNode(AlterTableStmt, st->parsetree);
	SgColumnFacts col;
	const char *c = quote_identifier(column);
	char	   *name;
	char	   *pre = sg_alter_prefix(t);

	st->facts->column(st->facts, t, column, &col);
	if (!col.exists || col.notnull || col.notnull_proven)
		return;					/* core's error, a no-op, or no scan */
	name = sg_default_name(stmt->relation->relname, list_make1(makeString((char *) column)), "not_null");
	sg_add_finding(findings, rule,
				   psprintf("%s on %s.%s without a validated CHECK", how, t->qualname, c),
				   psprintf("%s scans every row of %s (%s) under an %s lock, blocking %s, "
							"unless a validated CHECK (%s IS NOT NULL) constraint already proves it.%s",
							how, t->qualname, sg_size_phrase(t), sg_lock_name(AccessExclusiveLock),
							sg_lock_blocks(AccessExclusiveLock), c, sg_unknown_note(t)),
#ifdef SG_HAVE_NOTNULL_CONSTRAINT
				   psprintf("Two steps: %s ADD CONSTRAINT %s NOT NULL %s NOT VALID; (new rows are checked at "
							"once) then, in a later transaction: %s VALIDATE CONSTRAINT %s; (it scans under a "
							"SHARE UPDATE EXCLUSIVE lock, which lets reads and writes go on).",
							pre, name, c, pre, name)
#else
				   psprintf("Four steps: %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID; "
							"then, in a later transaction: %s VALIDATE CONSTRAINT %s; "
							"%s ALTER COLUMN %s SET NOT NULL; %s DROP CONSTRAINT %s;",
							pre, name, c, pre, name, pre, c, pre, name)
#endif
		);
}

static void
sg_check_set_not_null(const SgStatement *st, const SgRule *rule, List **findings)
{
	List	   *cmds;
	SgRelFacts	t;
	ListCell   *lc;

	if (IsA(st->parsetree, AlterDomainStmt))
	{
		check_domain(st, rule, true, findings);
		return;
	}
	if ((cmds = sg_alter_cmds_at_risk(st, AT_SetNotNull, &t)) != NIL && !sg_facts_small(&t))
	{
		foreach(lc, cmds)
			not_null_finding(st, rule, &t, ((AlterTableCmd *) lfirst(lc))->name, "SET NOT NULL", findings);
	}
#ifdef SG_HAVE_NOTNULL_CONSTRAINT
	if ((cmds = sg_alter_cmds_at_risk(st, AT_AddConstraint, &t)) != NIL && !sg_facts_small(&t))
	{
		foreach(lc, cmds)
		{
			Constraint *c = (Constraint *) ((AlterTableCmd *) lfirst(lc))->def;

			if (c == NULL || !IsA(c, Constraint) || c->contype != CONSTR_NOTNULL ||
				c->skip_validation || list_length(c->keys) != 1)
				continue;
			not_null_finding(st, rule, &t, strVal(linitial(c->keys)), "ADD CONSTRAINT ... NOT NULL",
							 findings);
		}
	}
#endif
}

static const SgRule rule_set_not_null_without_check = {
	.id = "set-not-null-without-check",
	.family = "constraint",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_AlterTableStmt, T_AlterDomainStmt},
	.check = sg_check_set_not_null,
	.description = "SET NOT NULL (or, 18+, ADD CONSTRAINT ... NOT NULL without NOT VALID) scans the whole table under an ACCESS EXCLUSIVE lock unless a validated CHECK proves it",
};

/*
 * attach-partition-scan: ATTACH PARTITION proves the new bound by scanning
 * every row of the partition under ACCESS EXCLUSIVE on it (and those of a
 * default partition, which may hold rows of the new range), unless the
 * table's validated CHECK constraints already imply it: then core skips the
 * scan, which is the safe form.
 */
static void
sg_check_attach_scan(const SgStatement *st, const SgRule *rule, List **findings)
{
	AlterTableStmt *stmt = castNode(AlterTableStmt, st->parsetree);
	SgLockSpec	parent_locks = {NoLock, NoLock, false, "p", false, false};
	SgLockSpec	part_locks = {AccessExclusiveLock, NoLock, false, "rp", true, false};
	ListCell   *lc;

	foreach(lc, sg_alter_cmds(st, AT_AttachPartition))
	{
		PartitionCmd *pc = castNode(PartitionCmd, ((AlterTableCmd *) lfirst(lc))->def);
		SgRelFacts	parent;
		SgRelFacts	part;
		bool		scans_part = true;
		bool		scans_default = false;
		char	   *check = NULL;

		st->facts->relation(st->facts, stmt->relation, parent_locks, &parent);
		if (!parent.exists || !parent.checkable)
			continue;
		st->facts->relation(st->facts, pc->name, part_locks, &part);
		if (!part.exists || !part.checkable)
			continue;
		/*
		 * Both in the catalog: core's own proof.  Otherwise (a parent the
		 * script creates, in lint()) the scan is assumed.
		 */
		if (OidIsValid(parent.relid) && OidIsValid(part.relid) && pc->bound != NULL &&
			!pc->bound->is_default)
		{
			if (!sg_catalog_attach_scans(parent.relid, part.relid, pc->bound,
										 &scans_part, &scans_default, &check))
				scans_part = true;
		}
		else if (pc->bound != NULL && pc->bound->is_default)
			scans_part = true;
		if (scans_part && sg_facts_work_at_risk(&part))
		{
			const char *cname = quote_identifier(psprintf("%s_bound", pc->name->relname));

			sg_add_finding(findings, rule,
						   psprintf("ATTACH PARTITION %s, which scans it to prove its bound,", part.qualname),
						   psprintf("No validated CHECK constraint of %s implies the partition bound, so ATTACH "
									"PARTITION reads every row of it (%s) while it holds an %s lock on it, "
									"blocking %s.", part.qualname, sg_size_phrase(&part),
									sg_lock_name(AccessExclusiveLock), sg_lock_blocks(AccessExclusiveLock)),
						   psprintf("Prove the bound first, online: ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s) "
									"NOT VALID; then, in a later transaction, ALTER TABLE %s VALIDATE CONSTRAINT %s; "
									"(SHARE UPDATE EXCLUSIVE: reads and writes go on); then ATTACH PARTITION, which "
									"skips the scan, and DROP CONSTRAINT %s.",
									part.qualname, cname, check ? check : "<the partition bound as an expression>",
									part.qualname, cname, cname));
		}
		if (scans_default)
			sg_add_finding(findings, rule,
						   psprintf("ATTACH PARTITION %s, which scans the default partition,", part.qualname),
						   psprintf("%s has a populated default partition, and no validated CHECK of it "
									"excludes the new bound, so ATTACH PARTITION reads every row of it under "
									"an %s lock, blocking %s.", parent.qualname,
									sg_lock_name(AccessExclusiveLock), sg_lock_blocks(AccessExclusiveLock)),
						   psprintf("Add to the default partition a CHECK (NOT (%s)) NOT VALID and VALIDATE it "
									"in a later transaction before the ATTACH (core then skips that scan too).",
									check ? check : "<the new bound>"));
	}
}

static const SgRule rule_attach_partition_scan = {
	.id = "attach-partition-scan",
	.family = "constraint",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_AlterTableStmt},
	.check = sg_check_attach_scan,
	.description = "ATTACH PARTITION of a populated table whose validated CHECK constraints do not imply the bound: it scans the partition (and a default partition) under ACCESS EXCLUSIVE",
};

/* This file's rules, in the order rules() lists them. */
const SgRule *const sg_constraint_rules[] = {
	&rule_constraint_missing_not_valid,
	&rule_validate_in_same_transaction,
	&rule_unique_constraint_without_index,
	&rule_exclusion_constraint_on_existing_table,
	&rule_set_not_null_without_check,
	&rule_attach_partition_scan,
	NULL
};
