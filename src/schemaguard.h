/*-------------------------------------------------------------------------
 *
 * schemaguard.h
 *		What the subsystems declare for one another: the settings, the
 *		SQLSTATEs, the engine, the base (rows.c, args.c, ids.c), the tenant
 *		context, staged drops, the migration history, audit and the hooks.
 *
 * The central idea: a rule is a pure check over (statement, facts).  A rule
 * family needs only rule.h (the statement, the finding, the registration,
 * the text helpers), which includes facts.h (the fact model, the fact
 * source interface and the catalog readers both sources call).
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

#include "rule.h"

#define SG_VERSION			"1.8"
#define SG_SCHEMA			"schemaguard"
#define SG_LEVELS_TABLE		"rule_levels"
#define SG_TENANT_POLICY	"schemaguard_tenant_isolation"
#define SG_TENANT_SHARED_POLICY	"schemaguard_tenant_shared"
#define SG_TENANT_SHARED_GATE	"schemaguard_tenant_shared_gate"

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

/* schemaguard.mode */
typedef enum SgMode
{
	SG_MODE_OFF = 0,
	SG_MODE_WARN,
	SG_MODE_ENFORCE
} SgMode;

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
extern const char *sg_level_name(SgLevel level);
extern SgVerdict sg_evaluate(SgStatement *st);
extern void sg_report(const SgStatement *st, SgVerdict verdict);
extern void sg_report_extra(const SgStatement *st, List *findings);
extern bool sg_statement_ignores(const SgStatement *st, const SgRule *rule);
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
extern char *sg_lock_blockers(Oid relid, LOCKMODE mode);
extern const char *sg_qualified_relname(Oid relid);
extern Oid	sg_target_arg(FunctionCallInfo fcinfo, int argno, const char *relkinds,
						  const char *what, const char *detail, const char *catalog_detail);
extern AttrNumber sg_column_arg(Oid relid, const char *column);

/* engine.c: schemaguard.predictions */
extern bool sg_predictions;

/* tripwire.c */
extern void sg_tripwire_created(const SgStatement *st, bool judged, Oid relid);

/* lock_retry.c */
extern bool sg_lock_retry;
extern bool sg_lock_with_retries(SgStatement *st);

/* hooks.c */
extern void sg_hooks_install(void);

/* tenant.c */
extern void sg_tenant_init(void);
extern List *sg_tenant_column_names(void);
extern const char *sg_tenant(void);
extern bool sg_is_tenant_column(const char *name);

/* staged_usage.c and staged.c */
extern void sg_staged_init(void);
extern void sg_staged_shmem_request(void);
extern void sg_staged_shmem_startup(void);
struct QueryDesc;
extern void sg_staged_note_query(struct QueryDesc *queryDesc, int eflags);
extern bool sg_anything_staged(void);
extern bool sg_relation_staged(Oid relid);
extern void sg_staged_after_statement(Node *parsetree);
extern void sg_usage_forget(Oid relid, int attnum);
extern void sg_usage_forget_database(Oid dbid);
extern void sg_staged_note_copy(CopyStmt *stmt, const char *query);
extern void sg_staged_pre_commit(void);
extern void sg_staged_xact_end(bool commit);
extern int	sg_staged_max_tracked;
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
extern void sg_run_and_undo(void (*fn) (void *arg), void *arg);
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
extern void sg_audit_after_statement(Node *parsetree, const char *sql);

/* migrations.c */
extern int	sg_migration_lock_timeout;
extern bool sg_record_ddl;
extern bool sg_lint_real_sizes;
extern void sg_migrations_init(void);
extern void sg_migrations_pre_commit(void);
extern void sg_migrations_xact_end(bool committed);
extern void sg_migrations_subxact_abort(SubTransactionId subid);
extern void sg_migrations_subxact_commit(SubTransactionId subid, SubTransactionId parent);
extern void sg_migrations_log_ddl(Node *parsetree, const char *sql, const char *rules_json);

/* ddl_log.c */
extern Oid	sg_statement_role(void);
extern void sg_ddl_log_add(Node *parsetree, const char *sql, const char *rules_json, int64 migration);
extern void sg_ddl_log_flush(void);
extern int	sg_ddl_log_count(int64 mid, char **last_statement);

/* rules_tenant.c */
extern bool sg_tenant_sealed(Oid relid);
extern void sg_tenant_after_statement(const SgStatement *st, List *sealed, List *relids);

#endif							/* SCHEMAGUARD_H */
