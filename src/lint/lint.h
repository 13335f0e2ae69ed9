/*-------------------------------------------------------------------------
 *
 * lint.h
 *		lint(): the script's overlay on the catalog, shared by the driver
 *		(lint.c), the simulation (lint_sim.c) and the fact source that reads
 *		the overlay (lint_facts.c).
 *
 * The overlay holds only what the script changes.  Every fact about a
 * relation the catalog has is read by the catalog readers the live source
 * uses too (catalog.c, catalog_tenant.c, staged_usage.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SG_LINT_H
#define SG_LINT_H

#include "schemaguard.h"

#include "funcapi.h"
#include "utils/hsearch.h"

#define SIM_KEYLEN	(NAMEDATALEN * 2 + 2)

/* A relation as the script has left it so far. */
typedef struct SimRel
{
	char		key[SIM_KEYLEN];	/* "schema.name" */
	char	   *nspname;
	char	   *relname;
	char		relkind;
	Oid			relid;			/* the catalog's relation, if any */
	bool		unknown;		/* neither catalog nor script knew it */
	bool		created;		/* created by the script */
	int			block;			/* block it was created in; 0: none */
	bool		dropped;
	bool		populated;		/* the script wrote rows into it */
	bool		holds_old;		/* created by the script, with an older table
								 * attached or inherited under it */
	bool		is_temp;
	List	   *columns;		/* SimColumn */
	struct HTAB *colindex;		/* columns by name (sg_sim_column()) ... */
	List	   *colindex_of;	/* ... of this list ... */
	int			colindex_len;	/* ... up to this length */
	List	   *constraints;	/* SimConstraint */
	List	   *validated;		/* catalog constraints the script VALIDATEd (String) */
	List	   *indexes;		/* List of leading column names */
	struct SimRel *table;		/* for an index: its table */
	bool		cached[2];		/* catalog facts read (lint never changes them) */
	SgRelFacts	facts[2];		/* [1]: with its inheritance children */
	/* row-level security, once the script has touched it */
	bool		rls_known;
	bool		rls;
	bool		force;
	List	   *policies;		/* SgPolicyFacts */
	List	   *staged_here;	/* SimStaged: stage_drop() calls of the script */
	char	   *parent;			/* PARTITION OF in the script: its parent's key */
	int			saved_gen;		/* the undo level it was last saved in */
} SimRel;

/* A stage_drop() of the script: the column ("" for the table), and when. */
typedef struct SimStaged
{
	const char *column;
	int			block;			/* the block it ran in; -1: outside one */
} SimStaged;

typedef struct SimColumn
{
	char	   *name;
	TypeName   *type;			/* NULL: a catalog column */
	bool		notnull;
} SimColumn;

typedef struct SimConstraint
{
	char	   *name;
	Node	   *check;			/* CHECK expression, raw */
	bool		valid;
	int			block;			/* block it was added NOT VALID in */
	int			cooked;			/* check analysed: 0 not yet, 1 done, -1 failed */
	List	   *clauses;		/* ... its clauses (sg_check_clauses()) */
} SimConstraint;

/*
 * A savepoint of the script, or the start of its transaction (name NULL):
 * where the undo log stood, and the settings a rollback to it restores.
 */
typedef struct SimSavepoint
{
	char	   *name;
	SubTransactionId subid;
	int			gen;			/* undo level */
	int			undo_mark;		/* length of the undo log when it began */
	int			lock_timeout;
	int			session_timeout;
	int			statement_timeout;
	int			session_statement_timeout;
	List	   *allowed;
	bool		in_migration;
	bool		migration_in_block;
} SimSavepoint;

typedef struct LintState
{
	SgFactSource src;
	HTAB	   *rels;			/* SimRel by "schema.name" */
	MemoryContext cxt;			/* lives for the whole call */
	bool		assume_populated;
	bool		single;			/* the runner runs the file in one transaction */
	bool		wrapped;		/* ... of its own, between its BEGIN and COMMIT */
	bool		implicit;		/* in the runner's transaction, not a BEGIN */
	bool		in_block;
	int			block;
	int			lock_timeout;	/* in force */
	int			session_timeout;	/* outside SET LOCAL */
	int			statement_timeout;	/* statement_timeout, likewise */
	int			session_statement_timeout;
	List	   *allowed;		/* rules allow()ed in the current block */
	List	   *dropped_names;	/* DROP CONSTRAINT names of the script */
	List	   *xact_notes;		/* transaction-nesting rows of the statement
								 * (char *[3]: rule, message, hint) */
	int			cur_stmtno;		/* the statement simulated, and its line */
	int			cur_line;
	int			begin_stmtno;	/* the BEGIN of the open explicit block */
	int			begin_line;
	List	   *call_errors;	/* rows for a call of ours the statement makes
								 * that would fail (char *[3]: message, hint,
								 * detail), reported after it */
	List	   *deferred;		/* SgFinding, judged at COMMIT by the engine */
	List	   *xact_locks;		/* SgFinding: lint_per_xact findings */
	bool		in_migration;	/* after begin_migration() in the script */
	bool		migration_in_block; /* ... begun inside BEGIN: ends at COMMIT */
	/* the transaction model (lint_sim.c) */
	List	   *savepoints;		/* SimSavepoint, the transaction's start first */
	SubTransactionId subid;		/* the current (simulated) subtransaction */
	SubTransactionId next_subid;
	int			gen;			/* the current undo level */
	int			next_gen;
	List	   *undo;			/* SimUndo (lint_facts.c) */
	ReturnSetInfo *rsinfo;
} LintState;

/* What a statement did to the script's transaction. */
typedef enum SimXactEvent
{
	SIM_XACT_NONE = 0,
	SIM_XACT_COMMIT,			/* COMMIT, PREPARE TRANSACTION */
	SIM_XACT_ROLLBACK			/* ROLLBACK */
} SimXactEvent;

/* lint_facts.c: the fact source that reads the overlay */
extern void sg_lint_source_init(LintState *ls);

/* lint_overlay.c: the overlay, name resolution, the undo log */
extern SimRel *sg_sim_target(LintState *ls, const RangeVar *rv);
extern SimRel *sg_sim_find(LintState *ls, const char *nspname, const char *relname);
extern SimRel *sg_sim_enter(LintState *ls, const char *nspname, const char *relname);
extern SimRel *sg_sim_resolve(LintState *ls, const RangeVar *rv);
extern const char *sg_sim_creation_schema(const RangeVar *rv);
extern SimColumn *sg_sim_column(SimRel *r, const char *name);
extern SimRel *sg_sim_change(LintState *ls, SimRel *r);
extern void sg_sim_undo(LintState *ls, int mark);

/* lint_policy.c: row-level security and schemaguard's function calls */
extern SimRel *sg_sim_rls(SimRel *r);
extern void sg_sim_policy_exprs(SgPolicyFacts *p, Node *qual, Node *check);
extern SgPolicyFacts *sg_sim_policy(SimRel *r, const char *name);
extern void sg_sim_calls(LintState *ls, SelectStmt *stmt);

/* lint_sim.c: the simulation */
extern SimXactEvent sg_simulate(LintState *ls, Node *stmt);

/* lint_xact.c: the script's transactions */
extern void sg_sim_begin_implicit(LintState *ls);
extern SimXactEvent sg_sim_transaction(LintState *ls, TransactionStmt *ts);

#endif							/* SG_LINT_H */
