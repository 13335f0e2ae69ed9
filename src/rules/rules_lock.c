/*-------------------------------------------------------------------------
 *
 * rules_lock.c
 *		The lock family: statements core refuses inside a transaction block
 *		(concurrently-in-transaction), and strong locks taken while
 *		lock_timeout is 0 (require-lock-timeout).  What a statement locks,
 *		and whether it may run in a transaction block, is the statement
 *		model's (statement/statement.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "catalog/namespace.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"

#include "compat.h"
#include "rule.h"

/*
 * concurrently-in-transaction: core refuses these statements inside a
 * transaction block, explicit (BEGIN) or implicit (a multi-statement
 * string, as Prisma sends a migration file).  Live, the hook knows the
 * block; lint() knows it from the script and from how the runner runs it
 * (SgFactSource.runner), and its hint says how that runner takes one.
 */
static void
sg_check_no_xact_in_block(const SgStatement *st, const SgRule *rule, List **findings)
{
	const char *command = sg_no_xact_command(st->parsetree);

	if (command == NULL || !st->facts->in_xact_block(st->facts))
		return;
	sg_add_finding(findings, rule,
				   psprintf("%s inside a transaction block", command),
				   psprintf("PostgreSQL refuses to run %s inside a transaction block (\"%s cannot run "
							"inside a transaction block\"), so the migration fails when it gets here%s",
							command, command,
							st->facts->runner == NULL ? "." :
							sg_runner_single(st->facts->runner, -1, NULL) ?
							psprintf(": runner %s runs the whole file in one transaction.", st->facts->runner) :
							": it is between BEGIN and COMMIT."),
				   pstrdup(sg_no_xact_hint(command, st->facts->runner)));
}

static const SgRule rule_concurrently_in_transaction = {
	.id = "concurrently-in-transaction",
	.family = "lock",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_IndexStmt, T_DropStmt, T_ReindexStmt, T_VacuumStmt, T_SgClusterStmt, T_AlterTableStmt, T_CreatedbStmt, T_DropdbStmt, T_AlterSystemStmt, T_CreateTableSpaceStmt, T_DropTableSpaceStmt, T_AlterDatabaseStmt},
	.check = sg_check_no_xact_in_block,
	.description = "CONCURRENTLY, VACUUM, CREATE DATABASE, ALTER SYSTEM and the other statements that cannot run inside a transaction block, inside one (explicit, or the runner's)",
};

/*
 * require-lock-timeout: with lock_timeout 0, a statement whose lock is not
 * granted at once waits for every session in the way, however long, and
 * everything that arrives meanwhile queues behind it.  Locks of SHARE and
 * stronger count: queued, they block writes (SHARE) or reads too.
 *
 * Live, the lock is asked for without waiting, in core's mode and order
 * (the fact source's conditional lookup): granted, nothing can queue behind
 * the statement and it runs; not granted, it is refused before it queues,
 * naming the sessions in the way.  lint() cannot see the queue, so every
 * relation the script did not create counts (SgRelFacts.lock_unseen), and
 * lint reports the rule once per transaction.
 *
 * With schemaguard.default_lock_timeout set, the hook runs the statement
 * under that timeout instead; the sessions in the way are kept for its
 * error if the wait times out.
 */
/*
 * schemaguard.lint_lock_retries: the server the migrations go to retries
 * busy locks (schemaguard's lock retries, on by default), so lint() does not
 * report a missing lock_timeout (the lock queue it cannot see).
 */
bool		sg_lint_lock_retries = false;

/* What the hook's lock retries did (lock_retry.c), for the detail. */
static const char *
retry_detail(const SgStatement *st)
{
	if (st->lock_no_retry)
		return psprintf(" schemaguard waited %d ms for it and did not retry: this transaction "
						"already holds %s, whose queries would wait while it retried.",
						st->lock_waited_ms, st->lock_no_retry);
	if (st->lock_attempts > 0)
		return psprintf(" schemaguard asked for it %d times over %d ms, each time waiting in the "
						"queue for at most schemaguard.lock_wait_slice (%d ms), until "
						"schemaguard.lock_retry_budget (%d ms) ran out.",
						st->lock_attempts, st->lock_waited_ms, sg_lock_wait_slice,
						sg_lock_retry_budget);
	return "";
}

/* The hint: what lets the statement through. */
static char *
lock_hint(const SgStatement *st, const char *name, bool unseen)
{
	if (st->lock_no_retry)
		return psprintf("Run this statement in a migration (transaction) of its own, or before the "
						"statements that take strong locks, so that schemaguard can wait for "
						"%s in short retries: %s;", name, sg_statement_trimmed(st->sql));
	if (st->lock_attempts > 0)
		return psprintf("Retry the migration when the sessions in the way have finished, or give "
						"the retries longer: SET schemaguard.lock_retry_budget = '2min'; before %s;",
						sg_statement_trimmed(st->sql));
	return psprintf("Run SET lock_timeout = '2s'; before it (SET LOCAL inside a transaction "
					"block), and retry the migration if it times out: %s;%s",
					sg_statement_trimmed(st->sql), unseen ? " " SG_LINT_RETRY_HINT : "");
}

static void
sg_check_lock_timeout(const SgStatement *st, const SgRule *rule, List **findings)
{
	bool		bounded = sg_default_lock_timeout > 0 && sg_lock_timeout_applies(st->parsetree);
	ListCell   *lc;

	if (st->lock_timeout_ms > 0)
		return;

	foreach(lc, sg_statement_strong_locks(st->parsetree))
	{
		SgLockTarget *target = lfirst(lc);
		bool		is_main = !target->referenced;
		SgLockSpec	locks = {target->mode, NoLock, target->recurse, target->relkinds, true, target->inherit};
		SgRelFacts	t;
		const char *name;

		st->facts->relation(st->facts, target->rv, locks, &t);
		if (!t.exists || !t.checkable || !(t.lock_busy || t.lock_unseen) ||
			t.created_in_xact || t.is_temp)
			continue;
		if (t.lock_unseen && !t.lock_busy && sg_lint_lock_retries)
			continue;			/* lint(), for a server that retries */
		name = t.table_qualname ? t.table_qualname : t.qualname;
		if (bounded)
		{
			((SgStatement *) st)->wait_blockers = t.blockers;
			return;
		}
		sg_add_finding(findings, rule,
					   psprintf("%s lock on %s without lock_timeout",
								sg_lock_name(locks.table), name),
					   t.lock_busy ?
					   psprintf("The statement needs %s on %s%s, and another session is in the way. "
								"With lock_timeout = 0 it would wait for it, however long, and "
								"all queries that arrive meanwhile (%s) would queue behind it.%s%s%s",
								sg_lock_phrase(locks.table), name,
								is_main ? "" : " (a table its foreign key references)",
								sg_lock_blocks(locks.table), retry_detail(st),
								t.blockers ? "\n" : "", t.blockers ? t.blockers : "") :
					   psprintf("The statement needs %s on %s%s (%s). With lock_timeout = 0 it waits "
								"for every running query on the table, however long, and all queries "
								"that arrive meanwhile (%s) queue behind it.",
								sg_lock_phrase(locks.table), name,
								is_main ? "" : ", which its foreign key references",
								sg_size_phrase(&t), sg_lock_blocks(locks.table)),
					   lock_hint(st, name, t.lock_unseen && !t.lock_busy));
		return;					/* one finding per statement */
	}
}

static const SgRule rule_require_lock_timeout = {
	.id = "require-lock-timeout",
	.family = "lock",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_AlterTableStmt, T_RenameStmt, T_DropStmt, T_TruncateStmt, T_CreateTrigStmt, T_VacuumStmt, T_SgClusterStmt, T_RefreshMatViewStmt, T_CreatePolicyStmt, T_AlterPolicyStmt, T_LockStmt, T_RuleStmt, T_IndexStmt, T_CreateStmt},
	.check = sg_check_lock_timeout,
	.description = "a statement whose SHARE or stronger lock another session is in the way of, while lock_timeout is 0 (lint: once per transaction, for tables the script did not create)",
	.lint_per_xact = true,
};

/* This file's rules, in the order rules() lists them. */
const SgRule *const sg_lock_rules[] = {
	&rule_concurrently_in_transaction,
	&rule_require_lock_timeout,
	NULL
};
