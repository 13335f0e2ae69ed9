/*-------------------------------------------------------------------------
 *
 * engine.c
 *		The rule engine: evaluation of a statement against the rules,
 *		ignore comments, the deferred (commit-time) findings, and reporting.
 *
 * The live hook (hooks.c) and lint() both call sg_evaluate(), which runs the
 * pure checks of every rule that examines the statement's kind and is not
 * off (the catalog and the levels: levels.c).  Deferred findings are judged
 * by sg_judge_deferred() at the end of the transaction, for both: live at
 * pre-commit, lint at the script's COMMIT.  Reporting is separate:
 * sg_report() turns findings into WARNINGs and ERRORs for the live hook,
 * honouring schemaguard.mode and allow().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "parser/parse_func.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "common/hashfn.h"
#include "utils/hsearch.h"
#include "tcop/utility.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "schemaguard.h"

/*
 * The rule catalog: each family's rules, registered by _PG_init() in the
 * order rules() lists them and sg_evaluate() runs them, then the engine's
 * own invalid-ignore.  A rule is defined next to its check, in its family's
 * file; nothing else lists it.
 */
static const SgRule rule_invalid_ignore = {
	.id = "invalid-ignore",
	.family = "meta",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_Invalid},
	.description = "a schemaguard:ignore comment without a reason or with an unknown rule id",
};



/* Findings checked again at commit, in TopTransactionContext. */
static List *deferred_findings = NIL;






/* Register callbacks; called once from _PG_init. */
void
sg_engine_init(void)
{
	static const SgRule *const meta_rules[] = {&rule_invalid_ignore, NULL};

	sg_register_rules(meta_rules);
	sg_levels_init();
	sg_register_xact_list(&deferred_findings, offsetof(SgFinding, subid));
}

/*
 * Does the rule examine this statement?  A rule with a check and no
 * statement kinds examines every DDL statement (ddl-outside-migration).
 */
static bool
rule_examines(const SgRule *rule, Node *stmt)
{
	if (rule->stmt_tags[0] == T_Invalid)
		return rule->check != NULL && GetCommandLogLevel(stmt) == LOGSTMT_DDL;
	for (int t = 0; t < lengthof(rule->stmt_tags) && rule->stmt_tags[t] != T_Invalid; t++)
	{
		if (rule->stmt_tags[t] == nodeTag(stmt))
			return true;
	}
	return false;
}

/* Does any rule examine this statement?  Cheap: no catalog access. */
bool
sg_statement_checked(Node *stmt)
{
	for (int i = 0; i < sg_nrules; i++)
	{
		if (rule_examines(sg_rule_at(i), stmt))
			return true;
	}
	return false;
}

/*
 * A finding's message: what the statement does, then the rule it violates.
 * Every rule's message ends the same way; the rule gives only the phrase.
 */
char *
sg_rule_message(const SgRule *rule, const char *phrase)
{
	return psprintf("%s violates rule %s", phrase, rule->id);
}

/*
 * Record a finding; the strings must live as long as the statement.  The
 * engine appends "violates rule <id>" to phrase.
 */
SgFinding *
sg_add_finding(List **findings, const SgRule *rule,
			   char *phrase, char *detail, char *hint)
{
	SgFinding  *f = palloc0(sizeof(SgFinding));

	f->rule = rule;
	f->message = sg_rule_message(rule, phrase);
	f->detail = detail;
	f->hint = hint;
	*findings = lappend(*findings, f);
	return f;
}

/*
 * May the current role call schemaguard.allow()?  An ignore comment is an
 * escape hatch like allow(), so it needs the same right: EXECUTE on it
 * (revoked from PUBLIC; superusers always have it).
 */
static bool
may_call_allow(void)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Oid			fn = LookupFuncName(list_make2(makeString(SG_SCHEMA), makeString("allow")),
									2, argtypes, true);

	return OidIsValid(fn) && sg_proc_aclcheck(fn, GetUserId()) == ACLCHECK_OK;
}

/*
 * Read the statement's ignore comments: valid ones become SgIgnores, invalid
 * ones findings of rule invalid-ignore.
 */
static List *
read_ignores(const SgStatement *st, List **findings)
{
	const SgRule *invalid = &rule_invalid_ignore;
	List	   *ignores = NIL;
	ListCell   *lc;

	foreach(lc, list_concat(sg_ignore_comments(st->leading ? st->leading : ""),
							sg_ignore_comments(st->sql)))
	{
		SgIgnoreComment *ic = lfirst(lc);
		ListCell   *lc2;
		char	   *why = NULL;

		if (ic->ids == NIL)
			why = "it names no rule";
		foreach(lc2, ic->ids)
		{
			if (why == NULL && sg_rule_by_id(strVal(lfirst(lc2))) == NULL)
				why = psprintf("rule \"%s\" does not exist", sg_shown_value(strVal(lfirst(lc2))));
		}
		if (why == NULL && ic->reason[0] == '\0')
			why = "it gives no reason";
		if (why == NULL && !may_call_allow())
		{
			why = psprintf("role \"%s\" may not call schemaguard.allow()",
						   GetUserNameFromId(GetUserId(), false));
			if (sg_rule_level(invalid) != SG_LEVEL_OFF)
				sg_add_finding(findings, invalid,
							   psprintf("schemaguard:ignore comment not honoured (%s)", why),
							   psprintf("Comment: %s. An ignore comment needs the right to call schemaguard.allow(); "
										"the rules it names still apply.", sg_shown_value(ic->text)),
							   psprintf("Have a DBA run the statement, or GRANT EXECUTE ON FUNCTION "
										"schemaguard.allow(text, text) TO %s;",
										quote_identifier(GetUserNameFromId(GetUserId(), false))));
			continue;
		}
		if (why != NULL)
		{
			if (sg_rule_level(invalid) != SG_LEVEL_OFF)
				sg_add_finding(findings, invalid,
							   psprintf("schemaguard:ignore comment invalid (%s)", why),
							   psprintf("Comment: %s", sg_shown_value(ic->text)),
							   pstrdup("Write -- schemaguard:ignore <rule-id>[, <rule-id>...] <reason>, for example: "
									   "-- schemaguard:ignore require-lock-timeout table is only read by the nightly job"));
			continue;
		}
		foreach(lc2, ic->ids)
		{
			SgIgnore   *ig = palloc(sizeof(SgIgnore));

			ig->rule = sg_rule_by_id(strVal(lfirst(lc2)));
			ig->reason = ic->reason;
			ignores = lappend(ignores, ig);
		}
	}
	return ignores;
}

/* The ignore in a list that names rule, or NULL. */
static SgIgnore *
find_ignore(List *ignores, const SgRule *rule)
{
	ListCell   *lc;

	foreach(lc, ignores)
	{
		if (((SgIgnore *) lfirst(lc))->rule == rule)
			return lfirst(lc);
	}
	return NULL;
}

/* schemaguard.predictions: a developer's switch (schemaguard.c) */
bool		sg_predictions = true;

/*
 * Run every rule that examines this kind of statement and is not off, then
 * drop what an honoured ignore comment suppresses.  Shared by the live hook
 * and lint().
 */
SgVerdict
sg_evaluate(SgStatement *st)
{
	SgVerdict	v = {NIL, NIL, false};
	List	   *ignores = NIL;

	/* schemaguard.predictions off (developers only): no rule judges it */
	if (!sg_predictions)
		return v;

	if (sg_honor_ignore_comments)
		ignores = read_ignores(st, &v.findings);

	for (int i = 0; i < sg_nrules; i++)
	{
		const SgRule *rule = sg_rule_at(i);
		List	   *findings = NIL;
		SgIgnore   *ig;
		ListCell   *lc;

		if (rule->check == NULL || !rule_examines(rule, st->parsetree))
			continue;
		if (sg_rule_level(rule) == SG_LEVEL_OFF)
		{
			/* turned off by a DBA (not advice that is off by default) */
			if (rule->default_level != SG_LEVEL_OFF)
				v.rule_off = true;
			continue;
		}
		rule->check(st, rule, &findings);
		if (findings == NIL)
			continue;
		ig = find_ignore(ignores, rule);
		if (ig != NULL)
		{
			v.ignored = lappend(v.ignored, ig);
			continue;
		}
		foreach(lc, findings)
			v.findings = lappend(v.findings, lfirst(lc));
	}
	return v;
}

/*
 * A set of strings, for folding repeats in one pass: has key been seen
 * before (and if not, remember it)?  *set is created in the current memory
 * context on first use.  Keys are hashed to 64 bits and compared in full.
 */
typedef struct SeenEntry
{
	uint64		hash;
	List	   *keys;
} SeenEntry;

bool
sg_seen(HTAB **set, const char *key)
{
	uint64		h = hash_bytes_extended((const unsigned char *) key, strlen(key), 0);
	SeenEntry  *e;
	bool		found;
	ListCell   *lc;

	if (*set == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(uint64);
		ctl.entrysize = sizeof(SeenEntry);
		ctl.hcxt = CurrentMemoryContext;
		*set = hash_create("schemaguard seen", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	e = hash_search(*set, &h, HASH_ENTER, &found);
	if (!found)
		e->keys = NIL;
	foreach(lc, e->keys)
	{
		if (strcmp(lfirst(lc), key) == 0)
			return true;
	}
	e->keys = lappend(e->keys, MemoryContextStrdup(GetMemoryChunkContext(*set), key));
	return false;
}

/*
 * Is a deferred finding still true now, at the end of its transaction?  Its
 * rule's recheck may rewrite its texts with what it sees now.
 */
static bool
sg_deferred_still_holds(SgFactSource *facts, SgFinding *f)
{
	if (sg_rule_level(f->rule) == SG_LEVEL_OFF)
		return false;
	return f->rule->recheck(facts, f);
}

/*
 * The deferred findings that still hold at the end of the transaction, those
 * of a rule with a merge function folded into one.
 */
List *
sg_judge_deferred(SgFactSource *facts, List *findings)
{
	List	   *out = NIL;
	List	   *same[SG_MAX_RULES];
	HTAB	   *judged = NULL;
	ListCell   *lc;

	memset(same, 0, sizeof(same));
	foreach(lc, findings)
	{
		SgFinding  *f = lfirst(lc);
		int			r = sg_rule_index(f->rule);

		/* one recheck per rule and table, however many statements touched it */
		if (f->columns == NIL &&
			(OidIsValid(f->target.relid) ?
			 sg_seen(&judged, psprintf("%s %u", f->rule->id, f->target.relid)) :
			 f->target.qualname != NULL &&
			 sg_seen(&judged, psprintf("%s %s", f->rule->id, f->target.qualname))))
			continue;
		if (!sg_deferred_still_holds(facts, f))
			continue;
		/* a rule's findings fold into one report, in the rule's first place */
		if (f->rule->merge == NULL || same[r] == NIL)
			out = lappend(out, f);
		if (f->rule->merge != NULL)
			same[r] = lappend(same[r], f);
	}
	foreach(lc, out)
	{
		SgFinding  *f = lfirst(lc);

		if (f->rule->merge != NULL)
			lfirst(lc) = f->rule->merge(same[sg_rule_index(f->rule)]);
	}
	return out;
}

/*
 * A copy of a finding, in CurrentMemoryContext, that outlives the statement:
 * its strings and names.  The fact source's handle is kept (lint's overlay
 * entry lives as long as the findings made while it existed).
 */
SgFinding *
sg_copy_finding(const SgFinding *src)
{
	SgFinding  *f = palloc(sizeof(SgFinding));

	*f = *src;
	f->message = pstrdup(src->message);
	f->detail = src->detail ? pstrdup(src->detail) : NULL;
	f->hint = src->hint ? pstrdup(src->hint) : NULL;
	f->target.qualname = src->target.qualname ? pstrdup(src->target.qualname) : NULL;
	f->target.table_qualname = src->target.table_qualname ?
		pstrdup(src->target.table_qualname) : NULL;
	f->target.example_partition = NULL;
	f->target.blockers = NULL;
	f->columns = copyObject(src->columns);
	f->relation = copyObject(src->relation);
	return f;
}

/*
 * A (sub)transaction of the findings' ended: an aborted one takes its
 * findings with it, a committed one hands them to its parent.  The live
 * hook calls these from its subtransaction callbacks, lint() at ROLLBACK TO
 * and RELEASE of the script's savepoints.
 */
List *
sg_findings_subxact_abort(List *findings, SubTransactionId subid)
{
	return sg_subxact_list_abort(findings, offsetof(SgFinding, subid), subid);
}

void
sg_findings_subxact_commit(List *findings, SubTransactionId subid, SubTransactionId parent)
{
	sg_subxact_list_commit(findings, offsetof(SgFinding, subid), subid, parent);
}

/*
 * Keep the deferred findings of a statement that succeeded until commit,
 * when sg_engine_pre_commit() checks them again.
 */
void
sg_defer_findings(List *findings)
{
	ListCell   *lc;
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

	foreach(lc, findings)
	{
		SgFinding  *src = lfirst(lc);
		SgFinding  *f;

		if (!src->deferred)
			continue;
		f = sg_copy_finding(src);
		f->target.handle = NULL;
		f->subid = GetCurrentSubTransactionId();
		/* A table the statement created exists now: keep its OID. */
		if (src->relation != NULL)
		{
			f->target.relid = RangeVarGetRelid(src->relation, NoLock, true);
			f->relation = NULL;
			if (!OidIsValid(f->target.relid))
			{
				pfree(f);
				continue;
			}
		}
		deferred_findings = lappend(deferred_findings, f);
	}
	MemoryContextSwitchTo(old);
}

/*
 * The message a refusal is sent with: itself, or with schemaguard.hint_in_message
 * its detail and hint after it, for clients that print nothing else.
 */
static const char *
refusal_message(const char *msg, const char *detail, const char *hint)
{
	if (!sg_hint_in_message)
		return msg;
	return psprintf("%s%s%s%s%s", msg,
					detail ? "\nDETAIL:  " : "", detail ? detail : "",
					hint ? "\nHINT:  " : "", hint ? hint : "");
}

/* Emit one finding at elevel. */
static void
emit_finding(int elevel, const SgFinding *f)
{
	ereport(elevel,
			(errcode(elevel >= ERROR ? ERRCODE_SG_BLOCKED : ERRCODE_WARNING),
			 errmsg_internal("%s", elevel >= ERROR ? refusal_message(f->message, f->detail, f->hint) : f->message),
			 f->detail ? errdetail_internal("%s", f->detail) : 0,
			 f->hint ? errhint("%s", f->hint) : 0));
}

/*
 * Refuse with every error finding at once: the first one's message, detail
 * and hint, then each other rule's message, detail and hint, in one ERROR, so
 * that psql and a driver's error object show everything in one round trip.
 */
static void
emit_refusal(List *errors)
{
	SgFinding  *first = linitial(errors);
	StringInfoData msg;
	StringInfoData detail;
	StringInfoData hint;
	ListCell   *lc;

	if (list_length(errors) == 1)
	{
		emit_finding(ERROR, first);
		return;
	}
	initStringInfo(&msg);
	initStringInfo(&detail);
	initStringInfo(&hint);
	appendStringInfo(&msg, "%s, and %d more rule%s:", first->message,
					 list_length(errors) - 1, list_length(errors) == 2 ? "" : "s");
	if (first->detail)
		appendStringInfoString(&detail, first->detail);
	if (first->hint)
		appendStringInfoString(&hint, first->hint);
	for_each_from(lc, errors, 1)
	{
		SgFinding  *f = lfirst(lc);

		appendStringInfo(&msg, "%s %s", foreach_current_index(lc) > 1 ? "," : "", f->rule->id);
		appendStringInfo(&detail, "%s%s: %s%s%s", detail.len > 0 ? "\n" : "", f->rule->id,
						 f->message, f->detail ? ". " : "", f->detail ? f->detail : "");
		if (f->hint)
			appendStringInfo(&hint, "%s%s: %s", hint.len > 0 ? "\n" : "", f->rule->id, f->hint);
	}
	ereport(ERROR,
			(errcode(ERRCODE_SG_BLOCKED),
			 errmsg_internal("%s", refusal_message(msg.data, detail.len > 0 ? detail.data : NULL,
												   hint.len > 0 ? hint.data : NULL)),
			 detail.len > 0 ? errdetail_internal("%s", detail.data) : 0,
			 hint.len > 0 ? errhint("%s", hint.data) : 0));
}

/*
 * Report findings: log allowed ones, warn about warnings, then refuse with
 * every error (emit_refusal()).  The lock rule goes last: the other rules
 * say what is dangerous in the statement itself, it says what is in the
 * way right now.  For a statement (at_commit false) deferred findings are
 * skipped; at commit only they are reported, if they still hold.
 */
static void
report_findings(List *findings, const char *sql, bool at_commit)
{
	ListCell   *lc;
	List	   *errors = NIL;
	List	   *last = NIL;

	foreach(lc, findings)
	{
		SgFinding  *f = lfirst(lc);
		SgLevel		level = sg_rule_level(f->rule);
		const SgAllowance *a = sg_find_allowance(f->rule);

		if (f->deferred != at_commit)
			continue;			/* judged at commit */
		if (a != NULL)
		{
			ereport(LOG,
					(errmsg("schemaguard: rule %s allowed for role \"%s\": %s",
							f->rule->id,
							GetUserNameFromId(GetUserId(), false),
							a->reason),
					 sql ? errdetail_internal("Statement: %s", sql) : 0,
					 errhidestmt(true)));
			continue;
		}
		if (level == SG_LEVEL_ERROR && sg_mode == SG_MODE_ENFORCE && !f->baselined)
		{
			if (f->rule->lint_per_xact)
				last = lappend(last, f);
			else
				errors = lappend(errors, f);
			continue;
		}
		emit_finding(WARNING, f);
	}

	errors = list_concat(errors, last);
	if (errors != NIL)
		emit_refusal(errors);
}

/*
 * Report what the live hook found for a statement, before it is chained on:
 * honoured ignore comments are logged, then the findings.
 */
void
sg_report(const SgStatement *st, SgVerdict verdict)
{
	ListCell   *lc;

	foreach(lc, verdict.ignored)
	{
		SgIgnore   *ig = lfirst(lc);

		ereport(LOG,
				(errmsg("schemaguard: rule %s ignored by a comment for role \"%s\": %s",
						ig->rule->id, GetUserNameFromId(GetUserId(), false), ig->reason),
				 errdetail_internal("Statement: %s", st->sql),
				 errhidestmt(true)));
	}
	report_findings(verdict.findings, st->sql, false);
}

/* Does an honoured ignore comment of the statement name rule? */
bool
sg_statement_ignores(const SgStatement *st, const SgRule *rule)
{
	List	   *unused = NIL;

	return sg_honor_ignore_comments && find_ignore(read_ignores(st, &unused), rule) != NULL;
}

/*
 * Findings made while a statement runs (the drop hook, the tenant check
 * after it): reported like sg_evaluate()'s, so honoured ignore comments of
 * the statement, levels, allow() and the mode apply.  In enforce mode a
 * finding at level error raises, and the statement fails.
 */
void
sg_report_extra(const SgStatement *st, List *findings)
{
	List	   *ignores = NIL;
	List	   *kept = NIL;
	List	   *unused = NIL;
	ListCell   *lc;

	if (findings == NIL)
		return;
	if (sg_honor_ignore_comments)
		ignores = read_ignores(st, &unused);
	foreach(lc, findings)
	{
		SgFinding  *f = lfirst(lc);
		SgIgnore   *ig = find_ignore(ignores, f->rule);

		if (sg_rule_level(f->rule) == SG_LEVEL_OFF)
			continue;
		if (ig != NULL)
		{
			ereport(LOG,
					(errmsg("schemaguard: rule %s ignored by a comment for role \"%s\": %s",
							ig->rule->id, GetUserNameFromId(GetUserId(), false), ig->reason),
					 errdetail_internal("Statement: %s", st->sql),
					 errhidestmt(true)));
			continue;
		}
		kept = lappend(kept, f);
	}
	report_findings(kept, st->sql, false);
}

/*
 * What the rules said of a statement that ran, as JSON for ddl_log: rules
 * that warned, were allowed (with the reason) or ignored (with the reason).
 * NULL when none did.
 */
char *
sg_verdict_json(SgVerdict verdict)
{
	StringInfoData buf;
	ListCell   *lc;
	int			n = 0;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	foreach(lc, verdict.findings)
	{
		SgFinding  *f = lfirst(lc);
		const SgAllowance *a = sg_find_allowance(f->rule);

		if (f->deferred)
			continue;
		appendStringInfo(&buf, "%s{\"rule\": ", n++ ? ", " : "");
		escape_json(&buf, f->rule->id);
		appendStringInfo(&buf, ", \"outcome\": \"%s\"", a ? "allowed" : "warned");
		if (a)
		{
			appendStringInfoString(&buf, ", \"reason\": ");
			escape_json(&buf, a->reason);
		}
		appendStringInfoChar(&buf, '}');
	}
	foreach(lc, verdict.ignored)
	{
		SgIgnore   *ig = lfirst(lc);

		appendStringInfo(&buf, "%s{\"rule\": ", n++ ? ", " : "");
		escape_json(&buf, ig->rule->id);
		appendStringInfoString(&buf, ", \"outcome\": \"ignored\", \"reason\": ");
		escape_json(&buf, ig->reason);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	return n ? buf.data : NULL;
}

/*
 * Before commit: report the deferred findings that still hold.  A level
 * error (in enforce mode) makes the COMMIT fail.
 */
void
sg_engine_pre_commit(void)
{
	List	   *todo = deferred_findings;

	deferred_findings = NIL;
	if (todo == NIL || sg_mode == SG_MODE_OFF || !sg_extension_installed())
		return;
	report_findings(sg_judge_deferred(sg_live_fact_source(false), todo), NULL, true);
}


