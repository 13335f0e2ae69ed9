/*-------------------------------------------------------------------------
 *
 * facts.h
 *		The fact model: what the server knows about a statement's targets
 *		(SgRelFacts, SgColumnFacts, SgTenantFacts, SgStagedFacts), the fact
 *		source interface both the live hook (facts.c) and lint()
 *		(lint_facts.c) fill, and the catalog readers both call (catalog.c,
 *		catalog_tenant.c, staged_usage.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SG_FACTS_H
#define SG_FACTS_H

#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"
#include "utils/timestamp.h"

/* Locks a lookup takes, in core's order: the table first, then the index. */
typedef struct SgLockSpec
{
	LOCKMODE	table;
	LOCKMODE	index;
	bool		recurse;		/* lock and sum a partitioned table's leaves */
	const char *relkinds;		/* relkinds core accepts; others: core errors */
	bool		conditional;	/* do not wait: if busy, assume the worst */
	bool		inherit;		/* with recurse: a plain table's inheritance
								 * children too (the statement recurses into
								 * them, as ALTER TABLE ... TYPE does) */
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
	int			npartitions;	/* leaf partitions, for a partitioned table;
								 * inheritance children, when inherited */
	bool		inherited;		/* sizes include inheritance children */
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
	/*
	 * FOR SELECT, USING (tenant IS NULL OR <isolating>): every tenant reads
	 * the rows of no tenant (shared rows); counted as isolating, for reads
	 */
	bool		shares_rows;
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
	/* recorded in schemaguard.tenant_baseline: reported, not refused */
	bool		baselined;
} SgTenantFacts;

/* A staged drop, as the rule and the staged_drops view judge it. */
typedef enum SgStagedState
{
	SG_STAGED_WAITING = 0,
	SG_STAGED_IN_USE,
	SG_STAGED_DROPPABLE
} SgStagedState;

/* schemaguard.staged_max_tracked: the usage table's size, for messages */
extern int	sg_staged_max_tracked;
#define SG_STAGED_MAX_TRACKED sg_staged_max_tracked

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
	/*
	 * A use of some staged object went unrecorded (the usage table was
	 * full) at last_used, later than any recorded use of this one: it
	 * counts as a use of every staged object (fail closed).
	 */
	bool		uses_lost;
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
	 * The schema-qualified name of the index called name in rel's schema
	 * if it exists and is not valid (a failed CONCURRENTLY build); NULL if
	 * there is none or it is valid.
	 */
	const char *(*invalid_index) (SgFactSource *self, const SgRelFacts *rel,
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
	/*
	 * Populated tables with a column that takes its values from sequence
	 * seqid (OWNED BY, an identity, a DEFAULT nextval()).
	 */
	void		(*sequence_users) (SgFactSource *self, Oid seqid, SgRelFacts *out);
	/*
	 * Constraint names a DROP CONSTRAINT dropped earlier: in this session
	 * (live), in this script (lint()).  prefer-robust-stmts reads them.
	 */
	void		(*remember_dropped) (SgFactSource *self, const char *conname);
	bool		(*was_dropped) (SgFactSource *self, const char *conname);
	/* Is rel (column NULL), or one of its columns, staged for dropping? */
	void		(*staged) (SgFactSource *self, const SgRelFacts *rel, const char *column,
						   SgStagedFacts *out);
	/* Does a migration record the statements run now? */
	bool		(*in_migration) (SgFactSource *self);
	/*
	 * What a DROP ... CASCADE of a schema, type or domain, or a DROP OWNED, takes with it
	 * (SgDropped).  Live: NIL, because the object access hook judges each
	 * object as core deletes it; lint: the catalog and the script's tables.
	 */
	List	   *(*dropped_with) (SgFactSource *self, const Node *stmt);
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

/* facts.c (the live source), catalog.c (the readers) */
extern SgFactSource *sg_live_fact_source(bool nowait);
extern void sg_register_migration_reader(bool (*reader) (void));
extern bool sg_migration_running(void);
extern bool sg_rel_is_empty(Relation rel);
extern void sg_init_facts(SgRelFacts *out);
extern void sg_catalog_relation_facts(Oid relid, SgLockSpec locks, bool check_owner,
									  SgRelFacts *out);
extern void sg_catalog_column_facts(Oid relid, const char *column, List *validated,
									SgColumnFacts *out);
extern bool sg_catalog_index_leads(Oid relid, List *columns);
extern bool sg_tenant_baselined(Oid relid);
extern void sg_tenant_baseline_forget(Oid relid);
extern bool sg_tenant_shares_rows(const SgTenantFacts *tf);
extern const char *sg_catalog_invalid_index(Oid nsp, const char *name);
extern bool sg_expr_has_user_code(Node *expr);
extern Oid	sg_catalog_type_of(const TypeName *tn, int32 *typmod);
extern PGDLLIMPORT bool sg_probe_as_caller;
extern bool sg_catalog_may_probe(Oid relid);
extern List *sg_check_clauses(Node *expr);
extern bool sg_checks_prove_not_null(List *clauses, const SgColumnFacts *col);
extern bool sg_index_keys_lead(List *keys, List *columns);
extern void sg_catalog_namespace_facts(const char *nspname, bool indexed_only,
									   bool assume_populated, SgRelFacts *out);
extern void sg_catalog_type_users(Oid typid, bool assume_populated, SgRelFacts *out);
extern void sg_catalog_sequence_users(Oid seqid, bool assume_populated, SgRelFacts *out);
extern bool sg_catalog_sequence_position(Oid seqid, int64 *last_value, int64 *increment);
extern char *sg_catalog_missing_partition_index(Oid parent, Oid part);
extern bool sg_catalog_attach_scans(Oid parentid, Oid partid, PartitionBoundSpec *raw,
									bool *scans_part, bool *scans_default, char **check);
extern List *sg_catalog_schema_relations(Oid nspid);
extern List *sg_catalog_owned_relations(Oid roleid);
extern List *sg_catalog_type_columns(Oid typid);
extern void sg_catalog_query_tables(const char *join, const char *cond, int nargs,
									Oid *argtypes, Datum *values, SgRelFacts *out);
extern char *sg_tables_phrase(const SgRelFacts *t, const char *what);

/* catalog_tenant.c */
extern void sg_catalog_tenant_facts(Oid relid, SgTenantFacts *out);
extern void sg_catalog_tenant_facts_for(Oid relid, const char *column, SgTenantFacts *out);
extern char *sg_tenant_open_policies(List *policies, const char *qualname, const char *column,
									  char **hint);
extern char *sg_catalog_tenant_column(Oid relid);
extern bool sg_policy_is_ours(Oid relid, AttrNumber attnum);
extern Oid sg_current_tenant_as_oid(void);
extern List *sg_tenant_problems(const SgTenantFacts *tf);
extern List *sg_tenant_leaks(const SgTenantFacts *tf);
extern char sg_policy_cmd(const char *cmd_name);

/* staged_usage.c */
extern char *sg_drop_delay_string;
extern char *sg_span_phrase(int64 usecs);
extern char *sg_timestamp_text(TimestampTz t);
extern const char *sg_staged_state_name(SgStagedState state);
extern void sg_catalog_staged_facts(Oid relid, const char *column, SgStagedFacts *sf);

#endif							/* SG_FACTS_H */
