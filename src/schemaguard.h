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

#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"

#define SG_VERSION			"1.0"
#define SG_SCHEMA			"schemaguard"
#define SG_LEVELS_TABLE		"rule_levels"

/*
 * SQLSTATEs.  Class SG is ours (classes I-Z are implementation-defined).
 * They are documented in the README; never renumber one.
 */
#define ERRCODE_SG_BLOCKED			MAKE_SQLSTATE('S','G','0','0','1')

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
	int			ntables;		/* populated tables, for a schema or database */
	const char *example_partition;	/* one leaf, for hints */
} SgRelFacts;

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
	/* Is any user table in schema nspname (NULL: any schema) populated? */
	void		(*namespace) (SgFactSource *self, const char *nspname,
							  SgRelFacts *out);
	void	   *private_data;
};

/* One statement, as the rules see it. */
typedef struct SgStatement
{
	Node	   *parsetree;		/* utility statement; read-only */
	const char *sql;			/* the statement's own text, NUL-terminated */
	int			location_base;	/* offset of sql in the text parse locations
								 * refer to */
	bool		in_xact_block;	/* explicit BEGIN block, function or DO */
	SgFactSource *facts;
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

struct SgRule;

/* A rule's verdict on one statement. */
typedef struct SgFinding
{
	const struct SgRule *rule;
	char	   *message;		/* errmsg: statement, object, rule id */
	char	   *detail;			/* why: lock, size */
	char	   *hint;			/* the safe SQL, with the user's names */
} SgFinding;

typedef void (*SgCheckFn) (const SgStatement *st, const struct SgRule *rule,
						   List **findings);

/* An entry of the rule catalog (engine.c). */
typedef struct SgRule
{
	const char *id;				/* kebab-case, stable */
	const char *family;
	SgLevel		default_level;
	NodeTag		stmt_tag;		/* the statement kind it examines */
	SgCheckFn	check;
	const char *description;
} SgRule;

/* schemaguard.c: GUCs and load state */
extern int	sg_mode;
extern bool sg_preloaded;

/* engine.c */
extern const SgRule sg_rules[];
extern const int sg_nrules;
extern const SgRule *sg_rule_by_id(const char *id);
extern SgLevel sg_rule_level(const SgRule *rule);
extern List *sg_evaluate(const SgStatement *st);
extern void sg_report(const SgStatement *st, List *findings);
extern void sg_add_finding(List **findings, const SgRule *rule,
						   char *message, char *detail, char *hint);
extern void sg_engine_xact_end(void);
extern void sg_engine_subxact_abort(SubTransactionId subid);
extern void sg_engine_init(void);
extern bool sg_extension_installed(void);
extern bool sg_statement_kind_checked(NodeTag tag);

/* facts.c */
extern SgFactSource *sg_live_fact_source(void);
extern bool sg_rel_is_empty(Relation rel);

/* hooks.c */
extern void sg_hooks_install(void);

/* sqltext.c: statement text helpers shared by rules and reports */
extern char *sg_insert_after_keyword(const char *sql, const char *keyword,
									 const char *insertion);
extern char *sg_insert_at(const char *sql, int location, const char *insertion);
extern const char *sg_lock_name(LOCKMODE mode);
extern const char *sg_lock_blocks(LOCKMODE mode);
extern char *sg_size_phrase(const SgRelFacts *facts);
extern char *sg_rangevar_name(const RangeVar *rv);
extern const char *sg_no_xact_hint(const char *command);

/* rules_index.c */
extern void sg_check_create_index(const SgStatement *st, const struct SgRule *rule, List **findings);
extern void sg_check_drop_index(const SgStatement *st, const struct SgRule *rule, List **findings);
extern void sg_check_reindex(const SgStatement *st, const struct SgRule *rule, List **findings);
extern const char *sg_index_concurrent_command(Node *parsetree);

#endif							/* SCHEMAGUARD_H */
