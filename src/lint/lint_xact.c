/*-------------------------------------------------------------------------
 *
 * lint_xact.c
 *		The script's transactions, as lint() simulates them: BEGIN, COMMIT,
 *		ROLLBACK, PREPARE TRANSACTION (and AND CHAIN), SAVEPOINT, RELEASE and
 *		ROLLBACK TO SAVEPOINT, and the runner's own transaction around the
 *		file (lint()'s runner argument).
 *
 * Each level (the transaction, each savepoint) records where the undo log
 * stood and the settings a rollback to it restores (lock_timeout, allow()
 * grants, a migration begun).  A rollback puts the overlay back
 * (sg_sim_undo()) and drops the deferred findings made since, as the
 * engine's subtransaction callbacks do live.  The end of a transaction is
 * returned to the driver (lint.c), which has the engine judge the deferred
 * findings then (COMMIT) or drops them (ROLLBACK).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lint.h"

/* Open a (sub)transaction level: the start of a block, or a savepoint. */
static void
push_level(LintState *ls, const char *name)
{
	SimSavepoint *sp = palloc0(sizeof(SimSavepoint));

	sp->name = name ? pstrdup(name) : NULL;
	sp->subid = ls->subid = ++ls->next_subid;
	sp->gen = ls->gen = ++ls->next_gen;
	sp->undo_mark = list_length(ls->undo);
	sp->lock_timeout = ls->lock_timeout;
	sp->session_timeout = ls->session_timeout;
	sp->statement_timeout = ls->statement_timeout;
	sp->session_statement_timeout = ls->session_statement_timeout;
	sp->allowed = list_copy(ls->allowed);
	sp->in_migration = ls->in_migration;
	sp->migration_in_block = ls->migration_in_block;
	ls->savepoints = lappend(ls->savepoints, sp);
}

/* The innermost savepoint called name, or -1. */
static int
find_savepoint(LintState *ls, const char *name)
{
	for (int i = list_length(ls->savepoints) - 1; i > 0; i--)
	{
		SimSavepoint *sp = list_nth(ls->savepoints, i);

		if (strcmp(sp->name, name) == 0)
			return i;
	}
	return -1;
}

/*
 * Roll back to level i (0: the whole transaction): the overlay, the
 * settings, the allow() grants and the deferred findings of every level from
 * i up.  The levels above i are gone; level i itself is left for the caller.
 */
static void
rollback_to(LintState *ls, int i)
{
	SimSavepoint *sp = list_nth(ls->savepoints, i);

	for (int k = list_length(ls->savepoints) - 1; k >= i; k--)
		ls->deferred = sg_findings_subxact_abort(ls->deferred,
												 ((SimSavepoint *) list_nth(ls->savepoints, k))->subid);
	sg_sim_undo(ls, sp->undo_mark);
	ls->lock_timeout = sp->lock_timeout;
	ls->session_timeout = sp->session_timeout;
	ls->statement_timeout = sp->statement_timeout;
	ls->session_statement_timeout = sp->session_statement_timeout;
	ls->allowed = list_copy(sp->allowed);
	ls->in_migration = sp->in_migration;
	ls->migration_in_block = sp->migration_in_block;
	ls->savepoints = list_truncate(ls->savepoints, i + 1);
}

/* BEGIN, or the runner's own transaction around the file. */
static void
begin_block(LintState *ls, bool implicit)
{
	ls->in_block = true;
	ls->implicit = implicit;
	ls->block++;
	ls->savepoints = NIL;
	ls->undo = NIL;
	push_level(ls, NULL);
}

/* The runner's own transaction around the file (or the rest of it). */
void
sg_sim_begin_implicit(LintState *ls)
{
	begin_block(ls, true);
}

/* COMMIT or ROLLBACK of the block; chain: AND CHAIN. */
static SimXactEvent
end_block(LintState *ls, bool commit, bool chain)
{
	if (!ls->in_block)
		return SIM_XACT_NONE;	/* core warns: no transaction in progress */
	if (!commit)
		rollback_to(ls, 0);
	if (ls->migration_in_block)
		ls->in_migration = ls->migration_in_block = false;
	ls->in_block = false;
	ls->allowed = NIL;
	ls->lock_timeout = ls->session_timeout;
	ls->statement_timeout = ls->session_statement_timeout;
	ls->savepoints = NIL;
	ls->undo = NIL;
	ls->subid = ls->gen = 0;
	if (chain)
		begin_block(ls, false);
	/* the rest of a one-string file is a transaction again */
	else if (ls->single && sg_runner_resumes(ls->src.runner))
		sg_sim_begin_implicit(ls);
	return commit ? SIM_XACT_COMMIT : SIM_XACT_ROLLBACK;
}

/* ---------- the transaction ---------- */

/*
 * transaction-nesting: a BEGIN, COMMIT or ROLLBACK that does not do what it
 * says, because the runner already runs the file in a transaction (its
 * COMMIT ends the runner's transaction, whose work then commits half-done),
 * or because one is already open, or none is.
 */
static void
nesting_note(LintState *ls, const char *message, const char *hint)
{
	char	  **row = palloc(sizeof(char *) * 3);

	row[0] = "transaction-nesting";
	row[1] = sg_rule_message(sg_rule_by_id("transaction-nesting"), pstrdup(message));
	row[2] = pstrdup(hint);
	ls->xact_notes = lappend(ls->xact_notes, row);
}

#define SG_NESTING_HINT \
	"Let the runner own the transaction: drop BEGIN and COMMIT from the file, or run it with a runner " \
	"that does not wrap it (for Prisma and Flyway, a file of its own)."

SimXactEvent
sg_sim_transaction(LintState *ls, TransactionStmt *ts)
{
	int			i;

	switch (ts->kind)
	{
		case TRANS_STMT_BEGIN:
		case TRANS_STMT_START:
			/* BEGIN in the runner's transaction goes on with it */
			if (ls->in_block && ls->implicit)
			{
				if (ls->wrapped)
					nesting_note(ls, "BEGIN inside the transaction the runner opened", SG_NESTING_HINT);
				ls->implicit = false;
			}
			else if (ls->in_block)
				nesting_note(ls, "BEGIN inside a transaction already in progress",
							 "Remove the inner BEGIN: PostgreSQL has no nested transactions (use SAVEPOINT).");
			else
				begin_block(ls, false);
			if (!ls->implicit)
			{
				ls->begin_stmtno = ls->cur_stmtno;
				ls->begin_line = ls->cur_line;
			}
			return SIM_XACT_NONE;
		case TRANS_STMT_COMMIT:
		case TRANS_STMT_PREPARE:
		case TRANS_STMT_ROLLBACK:
			if (ls->in_block && ls->implicit && ls->wrapped)
				nesting_note(ls, psprintf("%s of the transaction the runner opened",
										  ts->kind == TRANS_STMT_ROLLBACK ? "ROLLBACK" : "COMMIT"),
							 SG_NESTING_HINT);
			else if (!ls->in_block && !ls->single)
				nesting_note(ls, psprintf("%s with no transaction in progress",
										  ts->kind == TRANS_STMT_ROLLBACK ? "ROLLBACK" : "COMMIT"),
							 "BEGIN the transaction earlier in the file, or remove this statement.");
			return end_block(ls, ts->kind != TRANS_STMT_ROLLBACK, ts->chain);
		case TRANS_STMT_SAVEPOINT:
			if (ls->in_block)
				push_level(ls, ts->savepoint_name);
			return SIM_XACT_NONE;
		case TRANS_STMT_RELEASE:
			/* its levels' findings and grants now belong to the parent */
			if (!ls->in_block || (i = find_savepoint(ls, ts->savepoint_name)) < 0)
				return SIM_XACT_NONE;
			{
				SimSavepoint *parent = list_nth(ls->savepoints, i - 1);

				for (int k = list_length(ls->savepoints) - 1; k >= i; k--)
					sg_findings_subxact_commit(ls->deferred,
											   ((SimSavepoint *) list_nth(ls->savepoints, k))->subid,
											   parent->subid);
				ls->savepoints = list_truncate(ls->savepoints, i);
				ls->subid = parent->subid;
				ls->gen = parent->gen;
			}
			return SIM_XACT_NONE;
		case TRANS_STMT_ROLLBACK_TO:
			/* the savepoint stays, as a new subtransaction */
			if (!ls->in_block || (i = find_savepoint(ls, ts->savepoint_name)) < 0)
				return SIM_XACT_NONE;
			{
				char	   *name = pstrdup(ts->savepoint_name);

				rollback_to(ls, i);
				ls->savepoints = list_truncate(ls->savepoints, i);
				push_level(ls, name);
			}
			return SIM_XACT_NONE;
		default:
			return SIM_XACT_NONE;
	}
}
