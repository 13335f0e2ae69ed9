/*-------------------------------------------------------------------------
 *
 * schemaguard.h
 *		Declarations shared by the hook dispatcher, the rule engine, the fact
 *		sources and the rule families.
 *
 * The central idea: a rule is a pure check over (statement, facts).  The
 * statement is a raw or analysed utility parse node that is never modified;
 * the facts come from an SgFactSource.  The live hook supplies a source that
 * reads the catalog (facts.c); lint() supplies one that simulates a script.
 * Both feed the same checks through the same engine (engine.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SCHEMAGUARD_H
#define SCHEMAGUARD_H

#include "postgres.h"

#include "fmgr.h"
#include "access/htup.h"
#include "access/sdir.h"
#include "storage/itemptr.h"
#include "utils/snapshot.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#define SG_VERSION			"1.6"
#define SG_SCHEMA			"schemaguard"
#define SG_LEVELS_TABLE		"rule_levels"
#define SG_TENANT_POLICY	"schemaguard_tenant_isolation"

/*
 * SQLSTATEs.  Class SG is ours (classes I-Z are implementation-defined).
 * They are documented in docs/reference.md; never renumber one.
 */
#define ERRCODE_SG_BLOCKED			MAKE_SQLSTATE('S','G','0','0','1')
#define ERRCODE_SG_TENANT_NOT_SET	MAKE_SQLSTATE('S','G','0','1','0')
#define ERRCODE_SG_MIGRATION_APPLIED	MAKE_SQLSTATE('S','G','0','2','0')
#define ERRCODE_SG_MIGRATION_CHECKSUM	MAKE_SQLSTATE('S','G','0','2','1')
#define ERRCODE_SG_MIGRATION_IN_PROGRESS	MAKE_SQLSTATE('S','G','0','3','0')
#define ERRCODE_SG_MIGRATION_INTERRUPTED	MAKE_SQLSTATE('S','G','0','3','1')


/* More than the rule catalog holds (engine.c checks). */
#define SG_MAX_RULES		64

/* Rule levels, in increasing severity. */
typedef enum SgLevel
{
	SG_LEVEL_OFF = 0,
	SG_LEVEL_WARNING,
	SG_LEVEL_ERROR
} SgLevel;

/* schemaguard.mode */
typedef enum SgMode
{
	SG_MODE_OFF = 0,
	SG_MODE_WARN,
	SG_MODE_ENFORCE
} SgMode;

/* Locks a lookup takes, in core's order: the table first, then the index. */
typedef struct SgLockSpec
{
	LOCKMODE	table;
	LOCKMODE	index;
	bool		recurse;		/* lock and sum a partitioned table's leaves */
	const char *relkinds;		/* relkinds core accepts; others: core errors */
	bool		conditional;	/* do not wait: if busy, assume the worst */
} SgLockSpec;

/*
 * What the server knows about a relation that a statement targets.
 *
 * For an index, the size and emptiness facts describe the table it belongs
 * to (that is what the lock blocks), and table_qualname names that table.
 * For a partitioned table they are summed over its leaf partitions.
 */
typedef struct SgRelFacts
{
	bool		exists;			/* false: core will report the error */
	bool		checkable;		/* false: we may not lock it (not the owner) */
	Oid			relid;
	char		relkind;
	const char *qualname;		/* schema-qualified, quoted where needed */
	const char *table_qualname; /* the table itself, or an index's table */
	bool		created_in_xact;	/* CREATE TABLE in this transaction */
	bool		populated;		/* holds rows: see sg_rel_is_empty() */
	bool		is_temp;
	int64		bytes;			/* heap size; -1 when unknown */
	double		rows;			/* planner estimate; < 0 when unknown */
	int			npartitions;	/* leaf partitions, for a partitioned table */
	int			nshards;		/* Citus: shards of a distributed table (citus.c) */
	bool		reference;		/* Citus: a reference table, on every node */
	int			ntables;		/* populated tables, for a schema or database */
	const char *example_partition;	/* one leaf, for hints */
	bool		unknown;		/* lint: neither catalog nor script knows it */
	bool		assumed;		/* lint: assumed to hold data */
	bool		assume_large;	/* lint, assume_populated: never small */
	bool		has_unique_index;	/* a plain unique index (matviews) */
	/* its storage, as pg_class has it (0: unknown, lint's new relations) */
	char		relpersistence;
	Oid			tablespace;		/* InvalidOid: the database's default */
	Oid			relam;
	bool		lock_busy;		/* a conditional lock was not granted */
	/* live, when lock_busy: the sessions that hold or await conflicting locks */
	const char *blockers;
	/* lint: the lock queue cannot be seen (a relation the script did not create) */
	bool		lock_unseen;
	void	   *handle;			/* fact source's own reference */
} SgRelFacts;

/* What the server knows about one column of a relation. */
typedef struct SgColumnFacts
{
	bool		exists;
	bool		unknown;		/* lint: the table's columns are unknown */
	AttrNumber	attnum;
	Oid			typid;			/* InvalidOid when the type is unknown */
	int32		typmod;
	Oid			collid;
	bool		notnull;
	bool		notnull_proven; /* a validated CHECK implies IS NOT NULL */
} SgColumnFacts;

/* One row-level security policy of a table. */
typedef struct SgPolicyFacts
{
	char	   *name;
	char		cmd;			/* pg_policy.polcmd: '*', 'r', 'a', 'w', 'd' */
	bool		permissive;
	bool		always_true;	/* USING or WITH CHECK is the constant true */
	bool		uses_current_tenant;
	/* it restricts rows to the tenant: see rules_tenant.c, isolating() */
	bool		isolates;
	/* an object it depends on outside pg_catalog and schemaguard, or NULL */
	char	   *foreign_dep;
} SgPolicyFacts;

/* A table as a tenant table: its tenant column and row-level security. */
typedef struct SgTenantFacts
{
	bool		exists;			/* a non-temporary plain or partitioned table */
	Oid			relid;			/* InvalidOid for a table lint() simulates */
	const char *qualname;
	const char *column;			/* its tenant column; NULL: not a tenant table */
	bool		rls;			/* ENABLE ROW LEVEL SECURITY */
	bool		force;			/* FORCE ROW LEVEL SECURITY */
	List	   *policies;		/* SgPolicyFacts */
	bool		tenant_index;	/* an index leads with the tenant column */
} SgTenantFacts;

/* A staged drop, as the rule and the staged_drops view judge it. */
typedef enum SgStagedState
{
	SG_STAGED_WAITING = 0,
	SG_STAGED_IN_USE,
	SG_STAGED_DROPPABLE
} SgStagedState;

typedef struct SgStagedFacts
{
	bool		staged;
	bool		this_xact;		/* staged in the current transaction */
	Oid			relid;
	int			attnum;
	TimestampTz staged_at;
	char	   *staged_by;
	char	   *reason;
	bool		tracked;		/* usage counters exist (library preloaded) */
	TimestampTz tracking_since;
	int64		use_count;
	TimestampTz last_used;
	bool		last_write;		/* the last use wrote it */
	Oid			last_role;
	char		last_app[NAMEDATALEN];
	int64		delay_usecs;	/* schemaguard.drop_delay */
	TimestampTz droppable_at;
	SgStagedState state;
} SgStagedFacts;

/* A table (column NULL) or column that a DROP ... CASCADE takes with it. */
typedef struct SgDropped
{
	SgRelFacts	rel;
	const char *column;
} SgDropped;

typedef struct SgFactSource SgFactSource;

/*
 * A fact source answers questions about the database a statement runs in.
 * Every callback fills *out; none may raise for a missing object (out->exists
 * stays false instead, so that core raises its own error).
 */
struct SgFactSource
{
	/* The relation rv names, locked as core will lock it. */
	void		(*relation) (SgFactSource *self, const RangeVar *rv,
							 SgLockSpec locks, SgRelFacts *out);
	/* Does the relation described by rel have this column? */
	bool		(*has_column) (SgFactSource *self, const SgRelFacts *rel,
							   const char *column);
	/* Does rel's schema hold a relation with this name? */
	bool		(*sibling_exists) (SgFactSource *self, const SgRelFacts *rel,
								   const char *name);
	/*
	 * Populated user tables in schema nspname (NULL: any schema); only those
	 * with indexes when indexed_only.
	 */
	void		(*namespace) (SgFactSource *self, const char *nspname,
							  bool indexed_only, SgRelFacts *out);
	/* One column of rel. */
	void		(*column) (SgFactSource *self, const SgRelFacts *rel,
						   const char *column, SgColumnFacts *out);
	/* Was constraint conname of rel added NOT VALID in this transaction? */
	bool		(*added_not_valid) (SgFactSource *self, const SgRelFacts *rel,
									const char *conname);
	/* Do these columns (names) lead some index of rel?  Unknown: true. */
	bool		(*index_leads) (SgFactSource *self, const SgRelFacts *rel,
								List *columns);
	/* Populated tables with a column of the type typname names. */
	void		(*type_users) (SgFactSource *self, List *typname,
							   SgRelFacts *out);
	/* Is rel (column NULL), or one of its columns, staged for dropping? */
	void		(*staged) (SgFactSource *self, const SgRelFacts *rel, const char *column,
						   SgStagedFacts *out);
	/* Does a migration record the statements run now? */
	bool		(*in_migration) (SgFactSource *self);
	/*
	 * What a DROP ... CASCADE of a schema, type or domain takes with it
	 * (SgDropped).  Live: NIL, because the object access hook judges each
	 * object as core deletes it; lint: the catalog and the script's tables.
	 */
	List	   *(*dropped_with) (SgFactSource *self, const DropStmt *ds);
	/* A table as a tenant table: by relid, or (lint) by the name rv. */
	void		(*tenant) (SgFactSource *self, Oid relid, const RangeVar *rv,
						   SgTenantFacts *out);
	/*
	 * A name neither the catalog nor the script knows may exist where the
	 * statement will run (lint, whose database may not be production's):
	 * rules then assume it does.  Live: the catalog is where it runs, and
	 * core reports a missing name.
	 */
	bool		unknown_may_exist;
	/* live: lookups never wait for a lock (lock_timeout is 0) */
	bool		nowait;
	/* Will the statement run inside a transaction block? */
	bool		(*in_xact_block) (SgFactSource *self);
	/*
	 * How the migration runner runs a file (lint), for hints; NULL when
	 * unknown (the live server).
	 */
	const char *runner;
	void	   *private_data;
};

/* One statement, as the rules see it. */
typedef struct SgStatement
{
	Node	   *parsetree;		/* utility statement; read-only */
	const char *sql;			/* the statement's own text, NUL-terminated */
	const char *leading;		/* comments directly above it, outside sql */
	int			location_base;	/* offset of sql in the text parse locations
								 * refer to */
	int			lock_timeout_ms;	/* lock_timeout in force for it */
	SgFactSource *facts;
	/*
	 * out: the sessions it will wait for under schemaguard.default_lock_timeout
	 * (the hook names them if the wait times out)
	 */
	const char *wait_blockers;
} SgStatement;

/*
 * Does a statement on this target put other sessions at risk?  Exempt: what
 * does not exist or we may not look at (core reports it), tables created in
 * this transaction, empty tables, and temporary tables (no other session can
 * wait for their locks).
 */
static inline bool
sg_facts_at_risk(const SgRelFacts *t)
{
	return t->exists && t->checkable && !t->created_in_xact &&
		t->populated && !t->is_temp;
}

/*
 * Is the table small enough that core's work through it under the lock (a
 * scan, a rewrite, an index build) is trivial: at most
 * schemaguard.small_table_size by its real size?  Never for a size lint()
 * assumes or cannot know, nor for a table whose lock is busy (its size was
 * not read).
 */
extern int	sg_small_table_kb;

static inline bool
sg_facts_small(const SgRelFacts *t)
{
	return t->bytes >= 0 && !t->assumed && !t->assume_large && !t->unknown &&
		!t->lock_busy && t->bytes <= (int64) sg_small_table_kb * 1024;
}

/* At risk, and core's work through it under the lock is not trivial. */
static inline bool
sg_facts_work_at_risk(const SgRelFacts *t)
{
	return sg_facts_at_risk(t) && !sg_facts_small(t);
}

struct SgRule;

/* A rule's verdict on one statement. */
typedef struct SgFinding
{
	const struct SgRule *rule;
	char	   *message;		/* errmsg: statement, object, rule id */
	char	   *detail;			/* why: lock, size */
	char	   *hint;			/* the safe SQL, with the user's names */
	/* Checked again at the end of the transaction (fk-without-index): */
	bool		deferred;
	SgRelFacts	target;
	List	   *columns;		/* column names (String) */
	const RangeVar *relation;	/* a table the statement may create */
	SubTransactionId subid;
	int			stmtno;			/* lint: the statement, and its line */
	int			line;
} SgFinding;

/* An honoured "schemaguard:ignore" comment. */
typedef struct SgIgnore
{
	const struct SgRule *rule;
	char	   *reason;
} SgIgnore;

/* What sg_evaluate() found for one statement. */
typedef struct SgVerdict
{
	List	   *findings;		/* SgFinding, in catalog order */
	List	   *ignored;		/* SgIgnore that suppressed a finding */
} SgVerdict;

typedef void (*SgCheckFn) (const SgStatement *st, const struct SgRule *rule,
						   List **findings);

/*
 * For a rule judged at commit: does a deferred finding still hold?  May
 * rewrite the finding's texts with what it sees then.
 */
typedef bool (*SgRecheckFn) (SgFactSource *facts, SgFinding *f);

/* Fold a rule's findings at commit into one report (NULL: one each). */
typedef SgFinding *(*SgMergeFn) (List *findings);

/* An entry of the rule catalog (engine.c). */
typedef struct SgRule
{
	const char *id;				/* kebab-case, stable */
	const char *family;
	SgLevel		default_level;
	NodeTag		stmt_tags[16];	/* the statement kinds it examines */
	SgCheckFn	check;
	const char *description;
	SgRecheckFn recheck;		/* deferred rules only */
	SgMergeFn	merge;
	/* lint: one finding per transaction, listing its statements */
	bool		lint_per_xact;
} SgRule;

/* GUC variables and hooks that _PG_init() (schemaguard.c) defines */
extern char *sg_tenant_value;
extern char *sg_tenant_key;
extern char *sg_tenant_token;
extern int	sg_tenant_token_lifetime;
extern bool sg_check_tenant(char **newval, void **extra, GucSource source);
extern bool sg_check_tenant_columns(char **newval, void **extra, GucSource source);
extern void sg_assign_tenant_columns(const char *newval, void *extra);
extern bool sg_check_tenant_key(char **newval, void **extra, GucSource source);
extern bool sg_check_tenant_token(char **newval, void **extra, GucSource source);
extern void sg_assign_tenant_token(const char *newval, void *extra);
extern bool sg_check_drop_delay(char **newval, void **extra, GucSource source);
extern void sg_assign_drop_delay(const char *newval, void *extra);

/* schemaguard.c: GUCs and load state */
extern int	sg_mode;
extern bool sg_preloaded;
extern int	sg_default_lock_timeout;
extern bool sg_honor_ignore_comments;
extern bool sg_hint_in_message;
extern char *sg_tenant_columns;

/* An allow() grant of the current transaction (levels.c). */
typedef struct SgAllowance
{
	const struct SgRule *rule;
	char	   *reason;
	SubTransactionId subid;
} SgAllowance;

/* levels.c */
extern void sg_levels_init(void);
extern void sg_ddl_log_init(void);
extern int	sg_rule_index(const SgRule *rule);
extern const char *sg_shown_value(const char *value);
extern const SgAllowance *sg_find_allowance(const SgRule *rule);

/* engine.c */
extern int	sg_nrules;
extern void sg_register_rules(const SgRule *const *rules);
extern const SgRule *sg_rule_at(int i);
extern const SgRule *sg_rule_by_id(const char *id);
extern SgLevel sg_rule_level(const SgRule *rule);
extern const char *sg_level_name(SgLevel level);
extern SgVerdict sg_evaluate(SgStatement *st);
extern void sg_report(const SgStatement *st, SgVerdict verdict);
extern void sg_report_extra(const SgStatement *st, List *findings);
extern bool sg_statement_ignores(const SgStatement *st, const SgRule *rule);
extern char *sg_rule_message(const SgRule *rule, const char *phrase);
extern SgFinding *sg_add_finding(List **findings, const SgRule *rule,
								 char *phrase, char *detail, char *hint);
extern bool sg_deferred_still_holds(SgFactSource *facts, SgFinding *f);
extern SgFinding *sg_copy_finding(const SgFinding *src);
extern List *sg_judge_deferred(SgFactSource *facts, List *findings);
extern List *sg_findings_subxact_abort(List *findings, SubTransactionId subid);
extern void sg_findings_subxact_commit(List *findings, SubTransactionId subid,
									   SubTransactionId parent);
struct HTAB;
extern bool sg_seen(struct HTAB **set, const char *key);
extern void sg_defer_findings(List *findings);
extern void sg_engine_pre_commit(void);
extern char *sg_verdict_json(SgVerdict verdict);
extern void sg_engine_init(void);
extern bool sg_extension_installed(void);
extern bool sg_statement_checked(Node *stmt);

/* facts.c */
extern SgFactSource *sg_live_fact_source(bool nowait);
extern void sg_register_migration_reader(bool (*reader) (void));
extern bool sg_migration_running(void);
extern char *sg_lock_blockers(Oid relid, LOCKMODE mode);
extern const char *sg_qualified_relname(Oid relid);
extern bool sg_rel_is_empty(Relation rel);
extern void sg_init_facts(SgRelFacts *out);
extern void sg_catalog_relation_facts(Oid relid, SgLockSpec locks, bool check_owner,
									  SgRelFacts *out);
extern void sg_catalog_column_facts(Oid relid, const char *column, List *validated,
									SgColumnFacts *out);
extern bool sg_catalog_index_leads(Oid relid, List *columns);
extern List *sg_check_clauses(Node *expr);
extern bool sg_checks_prove_not_null(List *clauses, const SgColumnFacts *col);
extern bool sg_index_keys_lead(List *keys, List *columns);
extern void sg_catalog_namespace_facts(const char *nspname, bool indexed_only,
									   bool assume_populated, SgRelFacts *out);
extern void sg_catalog_type_users(Oid typid, bool assume_populated, SgRelFacts *out);
extern char *sg_catalog_missing_partition_index(Oid parent, Oid part);
extern List *sg_catalog_schema_relations(Oid nspid);
extern List *sg_catalog_type_columns(Oid typid);
extern void sg_catalog_query_tables(const char *join, const char *cond, int nargs,
									Oid *argtypes, Datum *values, SgRelFacts *out);
extern char *sg_tables_phrase(const SgRelFacts *t, const char *what);
extern Oid	sg_target_arg(FunctionCallInfo fcinfo, int argno, const char *relkinds,
						  const char *what, const char *detail, const char *catalog_detail);
extern AttrNumber sg_column_arg(Oid relid, const char *column);

/* Each family's rules (NULL-terminated), registered by _PG_init(). */
extern const SgRule *const sg_lock_rules[];
extern const SgRule *const sg_index_rules[];
extern const SgRule *const sg_constraint_rules[];
extern const SgRule *const sg_column_rules[];
extern const SgRule *const sg_rewrite_rules[];
extern const SgRule *const sg_destroy_rules[];
extern const SgRule *const sg_staged_rules[];
extern const SgRule *const sg_tenant_rules[];
extern const SgRule *const sg_advice_rules[];
extern const SgRule *const sg_migration_rules[];

/* hooks.c */
extern void sg_hooks_install(void);

/* sqltext.c: statement text helpers shared by rules and reports */
extern char *sg_insert_after_keyword(const char *sql, const char *keyword,
									 const char *insertion);
extern char *sg_insert_at(const char *sql, int location, const char *insertion);
extern const char *sg_lock_name(LOCKMODE mode);
extern const char *sg_lock_blocks(LOCKMODE mode);
extern char *sg_lock_phrase(LOCKMODE mode);
extern char *sg_size_phrase(const SgRelFacts *facts);
extern char *sg_rangevar_name(const RangeVar *rv);
extern const char *sg_no_xact_hint(const char *command, const char *runner);
extern bool sg_runner_known(const char *name);
extern const char *sg_runner_names(void);
extern bool sg_runner_single(const char *name, int nstmts, const char *sql);
extern bool sg_runner_resumes(const char *name);
extern char *sg_statement_trimmed(const char *sql);
extern char *sg_clause_text(const char *sql, int location);
extern int	sg_last_statement_end(const char *sql, int before);
extern List *sg_ignore_comments(const char *sql);
extern char *sg_name_list(List *names);
extern char *sg_column_list(List *names);
extern bool sg_name_ok(List *names);
extern RangeVar *sg_rangevar_from_names(List *names);
extern int	sg_first_token_offset(const char *sql);
extern int	sg_comments_start(const char *text, int location);

/* An ignore directive as written: ids (String) and reason. */
typedef struct SgIgnoreComment
{
	List	   *ids;
	char	   *reason;			/* NULL or blank: invalid */
	char	   *text;			/* the directive, for messages */
} SgIgnoreComment;

/* rules_index.c */
extern const char *sg_index_concurrent_command(Node *parsetree);

/* rules_lock.c */
extern bool sg_reindex_is_concurrent(const ReindexStmt *stmt);
extern bool sg_vacuum_full(const VacuumStmt *stmt);
extern const char *sg_no_xact_command(Node *parsetree);

/* rules_alter.c: helpers shared by the ALTER TABLE rules */
extern bool sg_alter_target(const SgStatement *st, SgRelFacts *t);
extern List *sg_alter_cmds(const SgStatement *st, AlterTableType subtype);
extern List *sg_alter_cmds_at_risk(const SgStatement *st, AlterTableType subtype,
								   SgRelFacts *t);
extern char *sg_alter_prefix(const SgRelFacts *t);
extern char *sg_text_between(const SgStatement *st, int from, int to);
extern char *sg_default_name(const char *relname, List *columns, const char *suffix);
extern SgRelFacts *sg_referenced_table(const SgStatement *st, const Constraint *c);
extern const char *sg_unknown_note(const SgRelFacts *t);

/* rules_constraint.c */

/* rules_column.c */

/* rules_rewrite.c */
extern bool sg_lock_timeout_applies(Node *parsetree);

/* rules_destroy.c */

/* rules_constraint.c: fk-without-index at commit */
extern bool sg_fk_index_recheck(SgFactSource *facts, SgFinding *f);

/* tenant.c */
extern void sg_tenant_init(void);
extern List *sg_tenant_column_names(void);
extern const char *sg_tenant(void);
extern bool sg_is_tenant_column(const char *name);

/* staged_usage.c and staged.c */
extern char *sg_drop_delay_string;
extern void sg_staged_init(void);
extern void sg_staged_shmem_request(void);
extern void sg_staged_shmem_startup(void);
struct QueryDesc;
extern void sg_staged_note_query(struct QueryDesc *queryDesc, int eflags);
extern bool sg_anything_staged(void);
extern bool sg_relation_staged(Oid relid);
extern void sg_catalog_staged_facts(Oid relid, const char *column, SgStagedFacts *sf);
extern void sg_staged_after_statement(Node *parsetree);
extern char *sg_span_phrase(int64 usecs);
extern char *sg_timestamp_text(TimestampTz t);
extern const char *sg_staged_state_name(SgStagedState state);
extern void sg_usage_forget(Oid relid, int attnum);
extern void sg_read_usage(Oid relid, int attnum, SgStagedFacts *sf);
extern void sg_stage_state(SgStagedFacts *sf);

/* rows.c: direct row access to schemaguard's history tables */
typedef struct SgRowScan
{
	Relation	index;
	Snapshot	snapshot;
	ScanDirection direction;
	struct SysScanDescData *scan;
} SgRowScan;
extern Oid	sg_rows_relid(const char *relname, bool missing_ok);
extern Relation sg_rows_open(const char *relname, const Oid *types, int ntypes,
							 LOCKMODE lockmode, bool missing_ok);
extern void sg_require_arg(FunctionCallInfo fcinfo, int argno, const char *argname);
extern void sg_rows_put(Relation rel, Datum *values, bool *nulls);
extern void sg_rows_append(Relation rel, Datum *values, bool *nulls);
extern void sg_rows_insert(Relation rel, Datum *values, bool *nulls);
extern void sg_rows_delete(Relation rel, ItemPointer tid);
extern int64 sg_rows_next_id(Relation rel);
extern Datum sg_text_datum_or_null(const char *s, bool *isnull);
extern SgRowScan *sg_rows_scan(Relation rel, const char *indexname, AttrNumber keyatt,
							   Oid keytype, Datum key, bool backward);
extern HeapTuple sg_rows_next(SgRowScan *scan);
extern void sg_rows_end(SgRowScan *scan);
extern struct TriggerData *sg_trigger_data(FunctionCallInfo fcinfo);
extern int	sg_spi_connect(void);
extern void sg_spi_finish(int level);
extern ErrorData *sg_try_in_subxact(void (*fn) (void *arg), void *arg);
extern List *sg_spi_values(const char *sql, int nargs, Oid *argtypes, Datum *args, long limit);
extern List *sg_subxact_list_abort(List *items, size_t subid_offset, SubTransactionId subid);
extern void sg_subxact_list_commit(List *items, size_t subid_offset, SubTransactionId subid,
								   SubTransactionId parent);
extern void sg_register_xact_list(List **list, size_t subid_offset);
extern void sg_xact_lists_end(void);
extern void sg_xact_lists_subxact_abort(SubTransactionId subid);
extern void sg_xact_lists_subxact_commit(SubTransactionId subid, SubTransactionId parent);
extern Oid	sg_extension_owner(void);
extern int64 sg_next_id(Oid seqid, int64 step);
extern void sg_ids_shmem_request(void);
extern void sg_ids_shmem_startup(void);
extern void sg_run_as_owner(List *statements);
extern int	sg_own_ddl_depth;
extern void sg_lock_for_own_ddl(List *relids, LOCKMODE mode, const char *function);
extern struct TriggerData *sg_own_trigger_data(FunctionCallInfo fcinfo, const char *function,
											   const char *const *tables, bool row,
											   int timing);

/* audit.c */
extern void sg_audit_init(void);
extern void sg_audit_partitions(Oid relid);

/* migrations.c */
extern int	sg_migration_lock_timeout;
extern bool sg_record_ddl;
extern void sg_migrations_init(void);
extern void sg_migrations_pre_commit(void);
extern void sg_migrations_xact_end(bool committed);
extern void sg_migrations_subxact_abort(SubTransactionId subid);
extern void sg_migrations_subxact_commit(SubTransactionId subid, SubTransactionId parent);
extern void sg_migrations_log_ddl(Node *parsetree, const char *sql, const char *rules_json);

/* ddl_log.c */
extern void sg_ddl_log_add(Node *parsetree, const char *sql, const char *rules_json, int64 migration);
extern void sg_ddl_log_flush(void);
extern int	sg_ddl_log_count(int64 mid, char **last_statement);

/* rules_staged.c */
extern void sg_staged_judged_reset(void);
extern void sg_judge_dependent_drop(const SgStatement *st, const struct SgRule *rule,
									const char *command, Oid relid, const char *column,
									List **findings);

/* rules_tenant.c */
extern bool sg_tenant_recheck(SgFactSource *facts, SgFinding *f);
extern SgFinding *sg_tenant_merge(List *findings);
extern List *sg_tenant_problems(const SgTenantFacts *tf);
extern List *sg_tenant_leaks(const SgTenantFacts *tf);
extern char sg_policy_cmd(const char *cmd_name);
extern void sg_catalog_tenant_facts(Oid relid, SgTenantFacts *out);
extern char *sg_catalog_tenant_column(Oid relid);
extern Oid sg_current_tenant_as_oid(void);
extern bool sg_policy_is_ours(Oid relid, AttrNumber attnum);
extern bool sg_tenant_sealed(Oid relid);
extern void sg_tenant_after_statement(const SgStatement *st, List *sealed, List *relids);

#endif							/* SCHEMAGUARD_H */
