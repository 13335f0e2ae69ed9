/*-------------------------------------------------------------------------
 *
 * rules_index.c
 *		The index rule family: building, dropping and rebuilding indexes
 *		without CONCURRENTLY.
 *
 * Each check is pure: it reads the statement and asks the fact source about
 * the target.  The same functions run in the live hook and in lint().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/namespace.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/formatting.h"

#include "rule.h"


/* Do all the plain columns in a list of IndexElems exist?  If not, core says so. */
static bool
columns_exist(const SgStatement *st, List *elems, const SgRelFacts *t)
{
	ListCell   *lc;

	foreach(lc, elems)
	{
		IndexElem  *elem = lfirst_node(IndexElem, lc);

		if (elem->name && !st->facts->has_column(st->facts, t, elem->name))
			return false;
	}
	return true;
}

/*
 * ATTACH PARTITION builds, on the partition, each index of the partitioned
 * table that it has no matching index for, without CONCURRENTLY and under
 * the lock ATTACH takes.  Matching: an index of the partition whose columns
 * (by name, in order) and uniqueness are those of the parent's index.
 */
static void
check_attach(const SgStatement *st, const SgRule *rule, List **findings)
{
	AlterTableStmt *stmt = castNode(AlterTableStmt, st->parsetree);
	List	   *cmds = sg_alter_cmds(st, AT_AttachPartition);
	SgLockSpec	parent_locks = {NoLock, NoLock, false, "p", false, false};
	SgLockSpec	part_locks = {AccessExclusiveLock, NoLock, false, "rp", true, false};
	SgRelFacts	parent;
	SgRelFacts	part;
	char	   *missing;

	if (cmds == NIL)
		return;
	st->facts->relation(st->facts, stmt->relation, parent_locks, &parent);
	if (!parent.exists || !OidIsValid(parent.relid))
		return;
	st->facts->relation(st->facts, castNode(PartitionCmd, ((AlterTableCmd *) linitial(cmds))->def)->name,
						part_locks, &part);
	if (!sg_facts_work_at_risk(&part) || !OidIsValid(part.relid))
		return;
	missing = sg_catalog_missing_partition_index(parent.relid, part.relid);
	if (missing == NULL)
		return;
	sg_add_finding(findings, rule,
				   psprintf("ATTACH PARTITION %s, which builds index %s without CONCURRENTLY,",
							part.qualname, missing),
				   psprintf("%s (%s) has no index matching %s of %s, so ATTACH PARTITION builds it while "
							"it holds its lock, blocking INSERT, UPDATE and DELETE on the partition.",
							part.qualname, sg_size_phrase(&part), missing, parent.qualname),
				   psprintf("First CREATE INDEX CONCURRENTLY on %s with the same columns as %s (and every "
							"other index of %s), then ATTACH PARTITION: it attaches existing matching "
							"indexes instead of building them.", part.qualname, missing, parent.qualname));
}

/*
 * require-concurrent-index-creation: CREATE INDEX without CONCURRENTLY on a
 * populated table holds a SHARE lock for the whole build.
 */
static void
sg_check_create_index(const SgStatement *st, const SgRule *rule, List **findings)
{
	IndexStmt  *stmt;
	SgLockSpec	locks;
	SgRelFacts	t;
	char	   *detail;
	char	   *hint;

	if (IsA(st->parsetree, AlterTableStmt))
	{
		check_attach(st, rule, findings);
		return;
	}
	stmt = castNode(IndexStmt, st->parsetree);
	locks = (SgLockSpec) {ShareLock, ShareLock, stmt->relation->inh, "rmp", false, false};
	if (stmt->concurrent)
		return;
	/* An unknown access method: core reports it. */
	if (stmt->accessMethod &&
		!OidIsValid(get_index_am_oid(stmt->accessMethod, true)))
		return;
	st->facts->relation(st->facts, stmt->relation, locks, &t);
	if (!sg_facts_work_at_risk(&t))
		return;
	/* IF NOT EXISTS naming an index of the table's schema: core skips it. */
	if (stmt->if_not_exists && stmt->idxname &&
		st->facts->sibling_exists(st->facts, &t, stmt->idxname))
		return;
	if (!columns_exist(st, stmt->indexParams, &t) ||
		!columns_exist(st, stmt->indexIncludingParams, &t))
		return;
	/* ON ONLY a partitioned table builds nothing. */
	if (t.relkind == RELKIND_PARTITIONED_TABLE && !stmt->relation->inh)
		return;

	detail = psprintf("Without CONCURRENTLY, CREATE INDEX holds a %s lock on %s (%s) "
					  "until the build ends, blocking %s.",
					  sg_lock_name(ShareLock), t.qualname, sg_size_phrase(&t),
					  sg_lock_blocks(ShareLock));

	if (t.relkind == RELKIND_PARTITIONED_TABLE)
	{
		const char *parent_index = stmt->idxname ?
			quote_identifier(stmt->idxname) : "<parent index>";

		hint = psprintf("CREATE INDEX CONCURRENTLY does not support partitioned tables. "
						"Create the index on the parent alone with %s; "
						"then, on each of the %d partitions (for example %s), run "
						"CREATE INDEX CONCURRENTLY with the same definition outside a "
						"transaction block, and attach it with ALTER INDEX %s ATTACH "
						"PARTITION <partition index>;. The parent index becomes valid "
						"once every partition's index is attached.",
						sg_insert_at(st->sql, stmt->relation->location - st->location_base,
									 "ONLY "),
						t.npartitions,
						t.example_partition ? t.example_partition : "none yet",
						parent_index);
	}
	else
		hint = psprintf("Use %s; %s.",
						sg_insert_after_keyword(st->sql, "index", " CONCURRENTLY"),
						sg_outside_block(st->facts->runner));

	sg_add_finding(findings, rule,
				   psprintf("CREATE %sINDEX on %s",
							stmt->unique ? "UNIQUE " : "", t.qualname),
				   detail, hint);
}

static const SgRule rule_require_concurrent_index_creation = {
	.id = "require-concurrent-index-creation",
	.family = "index",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_IndexStmt, T_AlterTableStmt},
	.check = sg_check_create_index,
	.description = "CREATE INDEX without CONCURRENTLY on a populated table blocks writes for the whole build",
};

/*
 * The statement's text without IF NOT EXISTS (for the hint), or as it is
 * when the words are not found as written.
 */
static char *
without_if_not_exists(const char *sql)
{
	const char *words = "if not exists";
	size_t		n = strlen(words);
	const char *p;

	for (p = sql; *p; p++)
	{
		if (pg_strncasecmp(p, words, n) == 0)
		{
			const char *rest = p + n;

			while (*rest == ' ' || *rest == '\t' || *rest == '\n' || *rest == '\r')
				rest++;
			return psprintf("%.*s%s", (int) (p - sql), sql, rest);
		}
	}
	return pstrdup(sql);
}

/*
 * invalid-index-if-not-exists: CREATE INDEX [CONCURRENTLY] IF NOT EXISTS
 * naming an index that exists but is INVALID, left by a failed CONCURRENTLY
 * build.  Core skips the statement (the name exists), and the table stays
 * without a usable index: the usual retry of a failed build does nothing.
 * Judged at any size: the index is missing either way.
 */
static void
sg_check_invalid_index(const SgStatement *st, const SgRule *rule, List **findings)
{
	IndexStmt  *stmt = castNode(IndexStmt, st->parsetree);
	SgLockSpec	locks = {NoLock, NoLock, false, "rmp", false, false};
	SgRelFacts	t;
	const char *index;
	char	   *build;

	if (!stmt->if_not_exists || stmt->idxname == NULL)
		return;
	st->facts->relation(st->facts, stmt->relation, locks, &t);
	if (!t.exists || !t.checkable)
		return;
	index = st->facts->invalid_index(st->facts, &t, stmt->idxname);
	if (index == NULL)
		return;
	build = without_if_not_exists(stmt->concurrent ? sg_statement_trimmed(st->sql) :
								  sg_insert_after_keyword(st->sql, "index", " CONCURRENTLY"));
	sg_add_finding(findings, rule,
				   psprintf("CREATE INDEX IF NOT EXISTS naming the INVALID index %s", index),
				   psprintf("%s exists but is not valid: a CREATE INDEX CONCURRENTLY failed or was "
							"cancelled and left it behind. IF NOT EXISTS would skip the statement, "
							"and %s would stay without a usable index (queries do not use an "
							"INVALID index, though every write still maintains it).",
							index, t.qualname),
				   psprintf("Drop it, then build it again, each statement %s: "
							"DROP INDEX CONCURRENTLY %s; then %s;",
							sg_outside_block(st->facts->runner), index, build));
}

static const SgRule rule_invalid_index_if_not_exists = {
	.id = "invalid-index-if-not-exists",
	.family = "index",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_IndexStmt},
	.check = sg_check_invalid_index,
	.description = "CREATE INDEX IF NOT EXISTS naming an INVALID index (a failed CONCURRENTLY build) skips it and leaves the table without the index",
};

/*
 * require-concurrent-index-deletion: DROP INDEX without CONCURRENTLY takes an
 * ACCESS EXCLUSIVE lock on the index's populated table.
 */
static void
sg_check_drop_index(const SgStatement *st, const SgRule *rule, List **findings)
{
	DropStmt   *stmt = castNode(DropStmt, st->parsetree);
	SgLockSpec	locks = {AccessExclusiveLock, AccessExclusiveLock, true, "iI", false, false};
	ListCell   *lc;

	if (stmt->removeType != OBJECT_INDEX || stmt->concurrent)
		return;

	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = sg_rangevar_from_names(lfirst(lc));
		SgRelFacts	t;
		char	   *hint;

		if (rv == NULL)
			continue;			/* core reports the name */
		st->facts->relation(st->facts, rv, locks, &t);
		if (!sg_facts_at_risk(&t))
			continue;

		if (t.relkind == RELKIND_PARTITIONED_INDEX)
			hint = psprintf("DROP INDEX CONCURRENTLY does not support partitioned indexes. "
							"Drop it with a short lock_timeout so that it gives up instead "
							"of queueing, and retry: SET lock_timeout = '2s'; "
							"SELECT schemaguard.allow('%s', '<reason>'); DROP INDEX %s;",
							rule->id, t.qualname);
		else
			hint = psprintf("Use DROP INDEX CONCURRENTLY %s%s; %s%s.",
							stmt->missing_ok ? "IF EXISTS " : "", t.qualname,
							sg_outside_block(st->facts->runner),
							list_length(stmt->objects) > 1 ?
							", one statement per index" : "");

		sg_add_finding(findings, rule,
					   psprintf("DROP INDEX %s", t.qualname),
					   psprintf("DROP INDEX without CONCURRENTLY takes an %s lock on %s (%s): "
								"it waits behind every running query on the table and "
								"blocks %s queued after it.",
								sg_lock_name(AccessExclusiveLock), t.table_qualname,
								sg_size_phrase(&t), sg_lock_blocks(AccessExclusiveLock)),
					   hint);
	}
}

static const SgRule rule_require_concurrent_index_deletion = {
	.id = "require-concurrent-index-deletion",
	.family = "index",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_DropStmt},
	.check = sg_check_drop_index,
	.description = "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on a populated table",
};

/*
 * require-concurrent-reindex: REINDEX without CONCURRENTLY blocks writes to
 * the table and reads through the index while it rebuilds.
 */
static void
sg_check_reindex(const SgStatement *st, const SgRule *rule, List **findings)
{
	ReindexStmt *stmt = castNode(ReindexStmt, st->parsetree);
	SgRelFacts	t;
	const char *kind;
	const char *what;
	char	   *detail;

	if (sg_reindex_is_concurrent(stmt))
		return;

	switch (stmt->kind)
	{
		case REINDEX_OBJECT_INDEX:
			{
				SgLockSpec	locks = {ShareLock, AccessExclusiveLock, true, "iI", false, false};

				kind = "index";
				st->facts->relation(st->facts, stmt->relation, locks, &t);
				what = t.qualname;
				break;
			}
		case REINDEX_OBJECT_TABLE:
			{
				SgLockSpec	locks = {ShareLock, ShareLock, true, "rmpt", false, false};

				kind = "table";
				st->facts->relation(st->facts, stmt->relation, locks, &t);
				what = t.qualname;
				break;
			}
		case REINDEX_OBJECT_SCHEMA:
			kind = "schema";
			st->facts->namespace(st->facts, stmt->name, true, &t);
			what = quote_identifier(stmt->name);
			break;
		case REINDEX_OBJECT_DATABASE:
			kind = "database";
			st->facts->namespace(st->facts, NULL, true, &t);
			what = stmt->name ? quote_identifier(stmt->name) : "the current database";
			break;
		default:
			return;				/* REINDEX SYSTEM is left alone */
	}
	if (!sg_facts_work_at_risk(&t))
		return;

	if (stmt->kind == REINDEX_OBJECT_SCHEMA && t.unknown)
		detail = psprintf("REINDEX SCHEMA rebuilds the indexes of every table in %s (%s), "
						  "each under a %s lock that blocks %s and an %s lock on its indexes "
						  "that blocks queries using them.",
						  what, sg_size_phrase(&t), sg_lock_name(ShareLock),
						  sg_lock_blocks(ShareLock), sg_lock_name(AccessExclusiveLock));
	else if (stmt->kind == REINDEX_OBJECT_SCHEMA || stmt->kind == REINDEX_OBJECT_DATABASE)
		detail = psprintf("REINDEX %s rebuilds the indexes of %d populated table%s "
						  "(%s in all, the largest %s), each under a %s lock that blocks %s "
						  "and an %s lock on its indexes that blocks queries using them.",
						  asc_toupper(kind, strlen(kind)), t.ntables,
						  t.ntables == 1 ? "" : "s",
						  sg_size_phrase(&t), t.qualname,
						  sg_lock_name(ShareLock), sg_lock_blocks(ShareLock),
						  sg_lock_name(AccessExclusiveLock));
	else
		detail = psprintf("Without CONCURRENTLY, REINDEX holds a %s lock on %s (%s), "
						  "blocking %s, and an %s lock on the rebuilt indexes, blocking "
						  "queries that use them, until the rebuild ends.",
						  sg_lock_name(ShareLock), t.table_qualname, sg_size_phrase(&t),
						  sg_lock_blocks(ShareLock), sg_lock_name(AccessExclusiveLock));

	sg_add_finding(findings, rule,
				   psprintf("REINDEX %s %s",
							asc_toupper(kind, strlen(kind)), what),
				   detail,
				   psprintf("Use %s; %s.",
							sg_insert_after_keyword(st->sql, kind, " CONCURRENTLY"),
							sg_outside_block(st->facts->runner)));
}

static const SgRule rule_require_concurrent_reindex = {
	.id = "require-concurrent-reindex",
	.family = "index",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_ReindexStmt},
	.check = sg_check_reindex,
	.description = "REINDEX without CONCURRENTLY blocks writes, and reads through the index, while it rebuilds",
};

/* This file's rules, in the order rules() lists them. */
const SgRule *const sg_index_rules[] = {
	&rule_require_concurrent_index_creation,
	&rule_invalid_index_if_not_exists,
	&rule_require_concurrent_index_deletion,
	&rule_require_concurrent_reindex,
	NULL
};
