/*-------------------------------------------------------------------------
 *
 * rule.h
 *		What a rule needs: the statement, the fact source (facts.h), the
 *		finding it adds, its registration (SgRule), and the text helpers
 *		that write its messages and hints.  A rule family's file includes
 *		this header; see ARCHITECTURE.md, "Adding a rule".
 *
 *-------------------------------------------------------------------------
 */
#ifndef SG_RULE_H
#define SG_RULE_H

#include "facts.h"
#include "statement.h"

/* More than the rule catalog holds (engine.c checks). */
#define SG_MAX_RULES		64

/* Rule levels, in increasing severity. */
typedef enum SgLevel
{
	SG_LEVEL_OFF = 0,
	SG_LEVEL_WARNING,
	SG_LEVEL_ERROR
} SgLevel;

/* One statement, as the rules see it. */
typedef struct SgStatement
{
	Node	   *parsetree;		/* utility statement; read-only */
	const char *sql;			/* the statement's own text, NUL-terminated */
	const char *leading;		/* comments directly above it, outside sql */
	int			location_base;	/* offset of sql in the text parse locations
								 * refer to */
	int			lock_timeout_ms;	/* lock_timeout in force for it */
	int			statement_timeout_ms;	/* statement_timeout in force for it */
	SgFactSource *facts;
	/*
	 * out: the sessions it will wait for under schemaguard.default_lock_timeout
	 * (the hook names them if the wait times out)
	 */
	const char *wait_blockers;
	/*
	 * The hook's lock retries (lock_retry.c), when they gave up: the
	 * attempts made and the ms spent, or why it did not retry.
	 */
	int			lock_attempts;
	int			lock_waited_ms;
	const char *lock_no_retry;
} SgStatement;

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
	/* a known problem recorded in a baseline: reported as a WARNING, not refused */
	bool		baselined;
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
	bool		rule_off;		/* a rule that examines it was turned off */
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

/* Settings a rule reads (schemaguard.small_table_size: facts.h) */
extern int	sg_default_lock_timeout;
extern int	sg_lock_wait_slice;			/* lock_retry.c */
extern int	sg_lock_retry_budget;
extern bool sg_lint_lock_retries;		/* rules_lock.c */
/* lint()'s word on require-lock-timeout for a server that retries */
#define SG_LINT_RETRY_HINT \
	"A server running schemaguard retries busy locks itself: if the migrations go only to such " \
	"servers, lint with schemaguard.lint_lock_retries = on (schemaguard-lint --target-retries-locks)."


/* The engine's side (engine.c, levels.c) */
extern const SgRule *sg_rule_by_id(const char *id);
extern SgLevel sg_rule_level(const SgRule *rule);
extern char *sg_rule_message(const SgRule *rule, const char *phrase);
extern SgFinding *sg_add_finding(List **findings, const SgRule *rule,
								 char *phrase, char *detail, char *hint);

/* Each family's rules (NULL-terminated), registered by _PG_init(). */
/* A column a statement gives a type (sg_new_columns(), rules_alter.c). */
typedef struct SgNewColumn
{
	const char *what;			/* "column", "ADD COLUMN", "ALTER COLUMN ... TYPE of" */
	const RangeVar *table;		/* named by sg_rangevar_name() when reported */
	const char *name;
	TypeName   *type;
} SgNewColumn;

extern List *sg_new_columns(const SgStatement *st);

extern const SgRule *const sg_lock_rules[];
extern const SgRule *const sg_index_rules[];
extern const SgRule *const sg_constraint_rules[];
extern const SgRule *const sg_column_rules[];
extern const SgRule *const sg_rewrite_rules[];
extern char *sg_unpredicted_hint(const SgStatement *st);
extern const SgRule *const sg_destroy_rules[];
extern const SgRule *const sg_staged_rules[];
extern const SgRule *const sg_tenant_rules[];
extern const SgRule *const sg_advice_rules[];
extern const SgRule *const sg_migration_rules[];
extern const SgRule *const sg_style_rules[];

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
extern const char *sg_outside_block(const char *runner);
extern bool sg_runner_known(const char *name);
extern const char *sg_runner_names(void);
extern bool sg_runner_single(const char *name, int nstmts, const char *sql);
extern bool sg_runner_resumes(const char *name);
extern bool sg_runner_wraps(const char *name, const char *sql);
extern char *sg_statement_trimmed(const char *sql);
extern char *sg_clause_text(const char *sql, int location);
extern int	sg_last_statement_end(const char *sql, int before);
extern List *sg_ignore_comments(const char *sql);
extern char *sg_name_list(List *names);
extern char *sg_column_list(List *names);
extern bool sg_name_ok(List *names);
extern RangeVar *sg_rangevar_from_names(List *names);
extern int	sg_first_token_offset(const char *sql);
extern char *sg_redact_constants(const char *sql, bool value_only);
extern int	sg_comments_start(const char *text, int location);

/* An ignore directive as written: ids (String) and reason. */
typedef struct SgIgnoreComment
{
	List	   *ids;
	char	   *reason;			/* NULL or blank: invalid */
	char	   *text;			/* the directive, for messages */
} SgIgnoreComment;

/* rules_alter.c: helpers shared by the ALTER TABLE rules */
extern bool sg_alter_target(const SgStatement *st, SgRelFacts *t);
extern List *sg_alter_cmds(const SgStatement *st, AlterTableType subtype);
extern List *sg_alter_cmds_at_risk(const SgStatement *st, AlterTableType subtype,
								   SgRelFacts *t);
extern char *sg_alter_prefix(const SgRelFacts *t);
extern char *sg_text_between(const SgStatement *st, int from, int to);
extern char *sg_default_name(const char *relname, List *columns, const char *suffix);
extern SgRelFacts *sg_referenced_table(const SgStatement *st, const Constraint *c);

/* Each constraint an ALTER TABLE adds, with the column it comes with. */
typedef struct AddedConstraint
{
	Constraint *con;
	ColumnDef  *column;			/* ADD COLUMN ... <constraint>; else NULL */
	int			next_location;	/* where the column's next constraint starts */
} AddedConstraint;
extern List *sg_added_constraints(const SgStatement *st, ConstrType contype);
extern List *sg_fk_columns(const AddedConstraint *ac);
extern const char *sg_unknown_note(const SgRelFacts *t);

/* rules_staged.c: the drop hook asks it (hooks.c) */
extern void sg_staged_judged_reset(void);
extern void sg_judge_dependent_drop(const SgStatement *st, const struct SgRule *rule,
									const char *command, Oid relid, const char *column,
									List **findings);

#endif							/* SG_RULE_H */
