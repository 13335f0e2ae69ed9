/*-------------------------------------------------------------------------
 *
 * rules_staged.c
 *		Rule staged-drop: DROP TABLE, DROP MATERIALIZED VIEW and ALTER TABLE
 *		... DROP COLUMN only for what was staged in an earlier transaction,
 *		has waited schemaguard.drop_delay, and has gone unused that long.
 *
 * The facts (staging row, usage counters) come from the fact source, so
 * lint() judges a script the same way (staged.c reads the catalog and
 * shared memory for both).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "tcop/cmdtag.h"
#include "tcop/utility.h"

#include "rule.h"

/* "'public.t'" or "'public.t', 'col'", as stage_drop() arguments. */
static char *
stage_args(const SgRelFacts *t, const char *column)
{
	if (column)
		return psprintf("%s, %s", quote_literal_cstr(t->qualname), quote_literal_cstr(column));
	return quote_literal_cstr(t->qualname);
}

/*
 * What the live rule has judged in the current statement (relid, column
 * name or NULL), so that the drop hook does not judge an explicit target a
 * second time when core drops it.  Reset for each statement.
 */
typedef struct Judged
{
	const SgStatement *st;		/* the statement that judged it */
	Oid			relid;
	char	   *column;
} Judged;

static List *judged = NIL;
static MemoryContext judged_cxt = NULL;

/*
 * Forget what the previous statement judged.  The list lives in a context
 * of its own: a CONCURRENTLY statement commits transactions as it runs.
 */
void
sg_staged_judged_reset(void)
{
	if (judged_cxt == NULL)
		judged_cxt = AllocSetContextCreate(TopMemoryContext, "schemaguard judged drops",
										   ALLOCSET_SMALL_SIZES);
	else if (judged != NIL)
		MemoryContextReset(judged_cxt);
	judged = NIL;
}

static void
remember(const SgStatement *st, Oid relid, const char *column)
{
	Judged	   *j;
	MemoryContext old;

	if (judged_cxt == NULL)
		return;
	old = MemoryContextSwitchTo(judged_cxt);
	j = palloc(sizeof(Judged));
	j->st = st;
	j->relid = relid;
	j->column = column ? pstrdup(column) : NULL;
	judged = lappend(judged, j);
	MemoryContextSwitchTo(old);
}

/*
 * Was relid (or its column), or a table it is a partition of, judged
 * already by statement st?  (Only st's own: lint() called inside a
 * statement judges a script, not that statement.)
 */
static bool
already_judged(const SgStatement *st, Oid relid, const char *column)
{
	List	   *line = list_make1_oid(relid);
	ListCell   *lc;
	ListCell   *lc2;

	if (get_rel_relispartition(relid))
		line = list_concat(line, get_partition_ancestors(relid));
	foreach(lc, judged)
	{
		Judged	   *j = lfirst(lc);

		foreach(lc2, line)
		{
			if (j->st == st && j->relid == lfirst_oid(lc2) &&
				(j->column == NULL || (column != NULL && strcmp(j->column, column) == 0)))
				return true;
		}
	}
	return false;
}

static void judge_drop(const SgStatement *st, const SgRule *rule, const char *command,
					   const SgRelFacts *t, const char *column, List **findings);

/*
 * A table, materialized view or column that a statement drops through the
 * dependency machinery (CASCADE, DROP OWNED, DROP EXTENSION, a dropped
 * type, function or partitioned parent), as the object access hook sees
 * it just before core deletes it: judged like an explicit DROP.
 */
void
sg_judge_dependent_drop(const SgStatement *st, const SgRule *rule, const char *command,
						Oid relid, const char *column, List **findings)
{
	SgLockSpec	locks = {AccessExclusiveLock, NoLock, false, NULL, false, false};
	SgRelFacts	t;

	if (already_judged(st, relid, column))
		return;
	sg_init_facts(&t);
	sg_catalog_relation_facts(relid, locks, false, &t);
	t.checkable = true;
	remember(st, relid, column);
	if (sg_facts_at_risk(&t))
		judge_drop(st, rule, command, &t, column, findings);
}

/* Judge one object; add a finding if it may not be dropped yet. */
static void
judge_drop(const SgStatement *st, const SgRule *rule, const char *command,
		   const SgRelFacts *t, const char *column, List **findings)
{
	SgStagedFacts sf;
	char	   *what = column ? psprintf("%s %s.%s", command, t->qualname, quote_identifier(column)) :
		psprintf("%s %s", command, t->qualname);
	char	   *object = column ? psprintf("column %s of %s", quote_identifier(column), t->qualname) :
		pstrdup(t->qualname);
	const char *delay = sg_drop_delay_string;

	memset(&sf, 0, sizeof(sf));
	st->facts->staged(st->facts, t, column, &sf);

	if (!sf.staged)
	{
		sg_add_finding(findings, rule,
					   psprintf("%s without staging it first", what),
					   psprintf("%s (%s) was not staged with schemaguard.stage_drop() in an earlier "
								"migration, so nothing shows that the application has stopped using it.",
								object, sg_size_phrase(t)),
					   psprintf("Stage it now: SELECT schemaguard.stage_drop(%s, reason => '...'); "
								"deploy the application without it, and drop it in a later migration "
								"once it has gone unused for schemaguard.drop_delay (%s).",
								stage_args(t, column), delay));
		return;
	}
	if (sf.this_xact)
	{
		sg_add_finding(findings, rule,
					   psprintf("%s in the transaction that staged it", what),
					   psprintf("%s was staged in this transaction; the staging must be committed, and the "
								"application deployed without it, before it is dropped.", object),
					   pstrdup("Commit the staging in this migration and drop it in a later one; "
							   "SELECT * FROM schemaguard.staged_drops; shows when it becomes droppable."));
		return;
	}
	if (!sf.tracked)
	{
		sg_add_finding(findings, rule,
					   psprintf("%s, whose use is not tracked,", what),
					   psprintf("schemaguard is not loaded through shared_preload_libraries, so no use of %s "
								"can be recorded.", object),
					   pstrdup("Add schemaguard to shared_preload_libraries and restart the server; the "
							   "waiting period starts then."));
		return;
	}
	if (sf.state == SG_STAGED_IN_USE && sf.uses_lost)
	{
		sg_add_finding(findings, rule,
					   psprintf("%s, whose use could not be recorded,", what),
					   psprintf("schemaguard's usage table (%d staged objects, all databases) was full at %s, "
								"when a use of a staged object went unrecorded; it may have been %s, which "
								"therefore counts as used then. It may be dropped after %s without use, at %s "
								"at the earliest.", SG_STAGED_MAX_TRACKED, sg_timestamp_text(sf.last_used),
								object, delay, sg_timestamp_text(sf.droppable_at)),
					   psprintf("Drop or unstage the staged objects no longer needed, in every database (their "
								"entries are freed), then drop it after %s.",
								sg_timestamp_text(sf.droppable_at)));
		return;
	}
	if (sf.state == SG_STAGED_IN_USE)
	{
		TimestampTz now = GetCurrentTimestamp();
		char	   *who = psprintf("role %s (application_name %s)",
								   GetUserNameFromId(sf.last_role, true),
								   sf.last_app[0] ? sf.last_app : "''");

		sg_add_finding(findings, rule,
					   psprintf("%s, %s %s ago by %s,", what,
								sf.last_write ? "written" : "read",
								sg_span_phrase(now - sf.last_used), who),
					   psprintf("%s was staged %s ago and has been used %lld time%s since %s; the last "
								"use was at %s. It may be dropped after %s without use, at %s at the "
								"earliest.", object, sg_span_phrase(now - sf.staged_at),
								(long long) sf.use_count, sf.use_count == 1 ? "" : "s",
								sg_timestamp_text(sf.tracking_since),
								sg_timestamp_text(sf.last_used), delay,
								sg_timestamp_text(sf.droppable_at)),
					   psprintf("Find the code that still uses it (the server log has a line "
								"\"schemaguard: staged ... is still used\" for each backend that used it), "
								"change and deploy it, then drop it after %s.",
								sg_timestamp_text(sf.droppable_at)));
		return;
	}
	if (sf.state == SG_STAGED_WAITING)
	{
		TimestampTz now = GetCurrentTimestamp();

		sg_add_finding(findings, rule,
					   psprintf("%s, staged %s ago,", what,
								sg_span_phrase(now - sf.staged_at)),
					   psprintf("schemaguard.drop_delay is %s, and use of %s has been tracked since %s%s: "
								"it becomes droppable at %s if nothing uses it until then.",
								delay, object, sg_timestamp_text(sf.tracking_since),
								sf.tracking_since > sf.staged_at ? " (the server restarted after it was staged)" : "",
								sg_timestamp_text(sf.droppable_at)),
					   psprintf("Drop it in a migration after %s; SELECT * FROM schemaguard.staged_drops; "
								"shows its state.", sg_timestamp_text(sf.droppable_at)));
	}
}

/*
 * staged-drop: each table or materialized view of a DROP, each column of an
 * ALTER TABLE ... DROP COLUMN, if it exists and holds data.
 */
static void
sg_check_staged_drop(const SgStatement *st, const SgRule *rule, List **findings)
{
	Node	   *n = st->parsetree;
	ListCell   *lc;

	/* what a CASCADE or DROP OWNED takes with it: live, the drop hook judges it */
	foreach(lc, st->facts->dropped_with(st->facts, n))
	{
		SgDropped  *d = lfirst(lc);

		if (sg_facts_at_risk(&d->rel))
			judge_drop(st, rule, psprintf("%s cascading to",
										  GetCommandTagName(CreateCommandTag(n))),
					   &d->rel, d->column, findings);
	}
	if (IsA(n, DropStmt))
	{
		DropStmt   *ds = (DropStmt *) n;
		bool		matview = ds->removeType == OBJECT_MATVIEW;

		if (ds->removeType != OBJECT_TABLE && !matview)
			return;
		foreach(lc, ds->objects)
		{
			SgLockSpec	locks = {AccessExclusiveLock, NoLock, false, matview ? "m" : "rp", false, false};
			SgRelFacts	t;

			if (!sg_name_ok(lfirst(lc)))
				return;			/* core reports the name */
			st->facts->relation(st->facts, sg_rangevar_from_names(lfirst(lc)), locks, &t);
			if (t.exists && !t.unknown)
				remember(st, t.relid, NULL);
			if (sg_facts_at_risk(&t))
				judge_drop(st, rule, matview ? "DROP MATERIALIZED VIEW" : "DROP TABLE", &t,
						   NULL, findings);
		}
		return;
	}

	if (IsA(n, AlterTableStmt) && castNode(AlterTableStmt, n)->objtype == OBJECT_TABLE)
	{
		SgRelFacts	t;

		foreach(lc, sg_alter_cmds_at_risk(st, AT_DropColumn, &t))
		{
			AlterTableCmd *cmd = lfirst(lc);
			SgColumnFacts c;

			st->facts->column(st->facts, &t, cmd->name, &c);
			if (t.exists && !t.unknown)
				remember(st, t.relid, cmd->name);
			if (c.exists || c.unknown)
				judge_drop(st, rule, "DROP COLUMN", &t, cmd->name, findings);
		}
	}
}

static const SgRule rule_staged_drop = {
	.id = "staged-drop",
	.family = "staged",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_DropStmt, T_AlterTableStmt, T_DropOwnedStmt},
	.check = sg_check_staged_drop,
	.description = "DROP TABLE, DROP MATERIALIZED VIEW or DROP COLUMN of something not staged in an earlier migration, staged too recently, or still in use",
};

/* This file's rules, in the order rules() lists them. */
const SgRule *const sg_staged_rules[] = {
	&rule_staged_drop,
	NULL
};
