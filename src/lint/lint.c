/*-------------------------------------------------------------------------
 *
 * lint.c
 *		lint(sql): the rule engine over a migration script, without running
 *		it.
 *
 * The driver.  The script is parsed with core's raw parser (a syntax error
 * becomes a row, after the statements before it are linted), and each
 * statement goes through sg_evaluate(), exactly as the live hook sends it,
 * with lint()'s fact source (lint_facts.c: the catalog, overlaid with what
 * the script has done so far).  Then the statement is simulated
 * (lint_sim.c), and at the end of each transaction the engine judges the
 * deferred findings as it does at a live COMMIT.
 *
 * Findings become rows.  lint_per_xact findings (require-lock-timeout) fold
 * into one per transaction, at its first statement.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_type.h"
#include "parser/parser.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "utils/tuplestore.h"
#include "compat.h"
#include "lint.h"


PG_FUNCTION_INFO_V1(sg_lint);


/* ---------- output ---------- */

static void
put_row(LintState *ls, int stmtno, int line, const char *rule, const char *level,
		const char *message, const char *hint, const char *detail)
{
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	values[0] = Int32GetDatum(stmtno);
	values[1] = Int32GetDatum(line);
	values[2] = CStringGetTextDatum(rule);
	values[3] = CStringGetTextDatum(level);
	values[4] = CStringGetTextDatum(message);
	if (hint)
		values[5] = CStringGetTextDatum(hint);
	else
		nulls[5] = true;
	if (detail)
		values[6] = CStringGetTextDatum(detail);
	else
		nulls[6] = true;
	tuplestore_putvalues(ls->rsinfo->setResult, ls->rsinfo->setDesc, values, nulls);
}

static bool
lint_allowed(LintState *ls, const SgRule *rule)
{
	return list_member_ptr(ls->allowed, rule);
}

static void
put_finding(LintState *ls, int stmtno, int line, const SgFinding *f)
{
	SgLevel		level = sg_rule_level(f->rule);

	if (f->baselined && level == SG_LEVEL_ERROR)
		level = SG_LEVEL_WARNING;
	put_row(ls, stmtno, line, f->rule->id, sg_level_name(level),
			f->message, f->hint, f->detail);
}

/*
 * The lint_per_xact findings of a transaction (require-lock-timeout), as
 * one: at its first statement, listing every statement.
 */
static void
flush_xact_locks(LintState *ls)
{
	SgFinding  *first;
	StringInfoData detail;
	const char *suffix;
	ListCell   *lc;

	if (ls->xact_locks == NIL)
		return;
	first = linitial(ls->xact_locks);
	if (list_length(ls->xact_locks) == 1)
	{
		put_finding(ls, first->stmtno, first->line, first);
		ls->xact_locks = NIL;
		return;
	}
	initStringInfo(&detail);
	appendStringInfoString(&detail, "lint cannot see the lock queue, so each of these may wait behind "
						   "other sessions, however long, while every query that arrives meanwhile "
						   "queues behind it:");
	foreach(lc, ls->xact_locks)
	{
		SgFinding  *d = lfirst(lc);

		suffix = strstr(d->message, " without lock_timeout");
		appendStringInfo(&detail, "\nstatement %d (line %d): %.*s", d->stmtno, d->line,
						 suffix ? (int) (suffix - d->message) : (int) strlen(d->message),
						 d->message);
	}
	suffix = strstr(first->message, " without lock_timeout");
	put_row(ls, first->stmtno, first->line, first->rule->id,
			sg_level_name(sg_rule_level(first->rule)),
			sg_rule_message(first->rule,
							psprintf("%.*s, and %d more lock%s in the transaction, without lock_timeout",
									 suffix ? (int) (suffix - first->message) : (int) strlen(first->message),
									 first->message, list_length(ls->xact_locks) - 1,
									 list_length(ls->xact_locks) == 2 ? "" : "s")),
			pstrdup("Start the transaction with SET LOCAL lock_timeout = '2s'; (or run SET lock_timeout = '2s'; "
					"before the file), and retry the migration if it times out. " SG_LINT_RETRY_HINT),
			detail.data);
	ls->xact_locks = NIL;
}

/*
 * The end of a transaction.  Committed: the engine judges the deferred
 * findings against the overlay, as the live hook's pre-commit callback does
 * against the catalog (recheck, then merge).  Rolled back: they are gone.
 */
static void
end_transaction(LintState *ls, bool committed)
{
	List	   *todo = NIL;
	ListCell   *lc;

	flush_xact_locks(ls);
	foreach(lc, ls->deferred)
	{
		SgFinding  *f = lfirst(lc);

		if (!lint_allowed(ls, f->rule))
			todo = lappend(todo, f);
	}
	ls->deferred = NIL;
	if (!committed)
		return;
	foreach(lc, sg_judge_deferred(&ls->src, todo))
	{
		SgFinding  *f = lfirst(lc);

		put_finding(ls, f->stmtno, f->line, f);
	}
}

/* Evaluate one statement and report what it finds. */
static void
lint_statement(LintState *ls, RawStmt *raw, const char *sql, int stmtno, int line,
			   MemoryContext stmtcxt)
{
	Node	   *stmt = raw->stmt;
	int			len = raw->stmt_len > 0 ? raw->stmt_len : (int) strlen(sql + raw->stmt_location);
	SimXactEvent xact;
	ListCell   *lce;

	if (sg_statement_checked(stmt))
	{
		MemoryContext old = MemoryContextSwitchTo(stmtcxt);
		SgStatement st;
		SgVerdict	v;
		ListCell   *lc;
		int			from;

		memset(&st, 0, sizeof(st));
		st.parsetree = stmt;
		st.sql = pnstrdup(sql + raw->stmt_location, len);
		st.location_base = raw->stmt_location;
		from = sg_comments_start(sql, raw->stmt_location);
		st.leading = pnstrdup(sql + from, raw->stmt_location - from);
		st.lock_timeout_ms = ls->lock_timeout;
		st.statement_timeout_ms = ls->statement_timeout;
		st.facts = &ls->src;
		v = sg_evaluate(&st);
		foreach(lc, v.findings)
		{
			SgFinding  *f = lfirst(lc);

			if (lint_allowed(ls, f->rule))
				continue;
			if (f->deferred || (f->rule->lint_per_xact && ls->in_block))
			{
				SgFinding  *d;

				MemoryContextSwitchTo(ls->cxt);
				d = sg_copy_finding(f);
				d->subid = ls->subid;
				d->stmtno = stmtno;
				d->line = line;
				if (f->deferred)
					ls->deferred = lappend(ls->deferred, d);
				else
					ls->xact_locks = lappend(ls->xact_locks, d);
				MemoryContextSwitchTo(stmtcxt);
				continue;
			}
			put_finding(ls, stmtno, line, f);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(stmtcxt);
	}
	ls->cur_stmtno = stmtno;
	ls->cur_line = line;
	xact = sg_simulate(ls, stmt);
	foreach(lce, ls->xact_notes)
	{
		char	  **row = lfirst(lce);
		SgLevel		level = sg_rule_level(sg_rule_by_id(row[0]));

		if (level != SG_LEVEL_OFF)
			put_row(ls, stmtno, line, row[0], sg_level_name(level), row[1], row[2], NULL);
	}
	ls->xact_notes = NIL;
	/* a call of ours that would fail (enable_tenant_isolation()) */
	foreach(lce, ls->call_errors)
	{
		char	  **row = lfirst(lce);

		put_row(ls, stmtno, line, "tenant-table-rls",
				sg_level_name(sg_rule_level(sg_rule_by_id("tenant-table-rls"))),
				row[0], row[1], row[2]);
	}
	ls->call_errors = NIL;
	switch (xact)
	{
		case SIM_XACT_COMMIT:
			end_transaction(ls, true);
			break;
		case SIM_XACT_ROLLBACK:
			end_transaction(ls, false);
			break;
		case SIM_XACT_NONE:
			/* outside a block, each statement is a transaction of its own */
			if (!ls->in_block)
				end_transaction(ls, true);
			break;
	}
}

/* What parse_script() and safe_last_end() run in a subtransaction. */
typedef struct ScanStep
{
	const char *sql;
	int			before;
	List	   *parsed;
	int			end;
} ScanStep;

static void
parse_step(void *arg)
{
	ScanStep   *s = arg;

	s->parsed = raw_parser(s->sql, RAW_PARSE_DEFAULT);
}

static void
last_end_step(void *arg)
{
	ScanStep   *s = arg;

	s->end = sg_last_statement_end(s->sql, s->before);
}

/* Parse sql, catching a syntax error: NIL and *edata set on failure. */
static List *
parse_script(const char *sql, ErrorData **edata)
{
	ScanStep	s = {.sql = sql};

	*edata = sg_try_in_subxact(parse_step, &s);
	return *edata ? NIL : s.parsed;
}

/* sg_last_statement_end(), catching a scanner error (then 0). */
static int
safe_last_end(const char *sql, int before)
{
	ScanStep	s = {.sql = sql, .before = before};
	ErrorData  *edata = sg_try_in_subxact(last_end_step, &s);

	if (edata != NULL)
	{
		FreeErrorData(edata);
		return 0;
	}
	return s.end;
}

/* Byte offset of the (1-based) character position pos. */
static int
char_to_byte(const char *s, int pos)
{
	int			off = 0;

	for (int i = 1; i < pos && s[off]; i++)
		off += pg_mblen(s + off);
	return off;
}

/* The 1-based line of byte offset 'to', counting on from a known line. */
static int
line_at(const char *s, int *from, int *line, int to)
{
	for (; *from < to && s[*from]; (*from)++)
	{
		if (s[*from] == '\n')
			(*line)++;
	}
	return *line;
}

/* What lint_script() needs. */
typedef struct LintCall
{
	LintState  *ls;
	const char *sql;
	const char *runner;
} LintCall;

/* Lint a whole script into ls's result (run by sg_lint(), and undone). */
static void
lint_script(void *arg)
{
	LintCall   *call = arg;
	LintState  *ls = call->ls;
	const char *sql = call->sql;
	List	   *stmts;
	ErrorData  *edata;
	int			pos = 0;
	int			line = 1;
	int			stmtno = 0;
	int			errline = 0;
	MemoryContext stmtcxt;
	ListCell   *lc;

	sg_lint_source_init(ls);
	(void) sg_extension_installed();

	stmts = parse_script(sql, &edata);
	if (edata != NULL)
	{
		/* Lint what precedes the error, then report it. */
		int			errpos = edata->cursorpos > 0 ? char_to_byte(sql, edata->cursorpos) : 0;
		int			p = 0;
		int			l = 1;
		ErrorData  *edata2 = NULL;
		int			end = safe_last_end(sql, errpos);

		errline = line_at(sql, &p, &l, errpos);
		stmts = end > 0 ? parse_script(pnstrdup(sql, end), &edata2) : NIL;
	}

	ls->single = sg_runner_single(call->runner, list_length(stmts), sql);
	ls->wrapped = ls->single && sg_runner_wraps(call->runner, sql);
	if (ls->single)
		sg_sim_begin_implicit(ls);

	stmtcxt = AllocSetContextCreate(CurrentMemoryContext, "schemaguard lint statement",
									ALLOCSET_DEFAULT_SIZES);
	foreach(lc, stmts)
	{
		RawStmt    *raw = lfirst_node(RawStmt, lc);

		CHECK_FOR_INTERRUPTS();
		stmtno++;
		lint_statement(ls, raw, sql, stmtno,
					   line_at(sql, &pos, &line, raw->stmt_location +
							   sg_first_token_offset(sql + raw->stmt_location)),
					   stmtcxt);
	}
	/*
	 * ban-uncommitted-transaction: a BEGIN of the file's own left open at its
	 * end (a runner's transaction is the runner's to end).
	 */
	if (ls->in_block && !ls->implicit && ls->begin_stmtno > 0 && edata == NULL)
	{
		const SgRule *rule = sg_rule_by_id("ban-uncommitted-transaction");

		if (sg_rule_level(rule) != SG_LEVEL_OFF)
			put_row(ls, ls->begin_stmtno, ls->begin_line, rule->id, sg_level_name(sg_rule_level(rule)),
					sg_rule_message(rule, pstrdup("BEGIN never committed or rolled back")),
					pstrdup("End the transaction in the file: COMMIT; at its end (or ROLLBACK;). Left open, "
							"it holds its locks until the connection closes, and its work is lost then."),
					NULL);
	}
	/* the end of the script commits what is open (the runner's transaction) */
	end_transaction(ls, true);
	if (edata != NULL)
		put_row(ls, stmtno + 1, errline, "syntax-error", "error", edata->message,
				NULL, edata->detail);
}

/*
 * lint(sql text, assume_populated boolean DEFAULT true,
 *		runner text DEFAULT 'single-transaction')
 *	RETURNS TABLE (statement int, line int, rule text, level text,
 *				   message text, hint text, detail text)
 *
 * Any role may call it.  It runs in a subtransaction that is rolled back
 * when it returns, so that no lock it took outlives the call, and it looks
 * into no relation its caller may not read (sg_probe_as_caller).
 */
Datum
sg_lint(PG_FUNCTION_ARGS)
{
	const char *runner = "single-transaction";	/* lint(text, boolean) of 1.5 */
	LintState	ls;
	LintCall	call;
	bool		save_probe = sg_probe_as_caller;

	/* NULL is an error: an empty result would read as a clean script */
	sg_require_arg(fcinfo, 0, "sql");
	sg_require_arg(fcinfo, 1, "assume_populated");
	if (PG_NARGS() > 2)
	{
		sg_require_arg(fcinfo, 2, "runner");
		runner = text_to_cstring(PG_GETARG_TEXT_PP(2));
		if (!sg_runner_known(runner))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown runner \"%s\"", runner),
					 errhint("Use one of: %s.", sg_runner_names())));
	}
	call.sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	call.runner = runner;
	call.ls = &ls;
	InitMaterializedSRF(fcinfo, 0);
	memset(&ls, 0, sizeof(ls));
	ls.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ls.cxt = CurrentMemoryContext;
	ls.assume_populated = PG_GETARG_BOOL(1);
	ls.lock_timeout = ls.session_timeout = LockTimeout;
	ls.statement_timeout = ls.session_statement_timeout = StatementTimeout;
	ls.src.runner = runner;

	sg_probe_as_caller = true;
	PG_TRY();
	{
		sg_run_and_undo(lint_script, &call);
	}
	PG_FINALLY();
	{
		sg_probe_as_caller = save_probe;
	}
	PG_END_TRY();
	PG_RETURN_NULL();
}
