/*-------------------------------------------------------------------------
 *
 * hooks.c
 *		Every hook entry point of schemaguard, in one dispatcher: the
 *		ProcessUtility hook, the ExecutorStart hook (usage of staged
 *		objects), the shared memory hooks, and the transaction callbacks.
 *
 * The ProcessUtility hook sees each utility statement once, whether it came
 * from a simple query, the extended protocol, PL/pgSQL, a DO block or a SQL
 * function, and one statement at a time for multi-statement strings.  It
 * returns early (costing no catalog access) unless the statement is of a
 * kind some rule examines; only then does it ask whether the extension is
 * installed in this database.  Violations are reported before the statement
 * is chained on, so a refused statement never starts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/objectaccess.h"
#include "utils/syscache.h"
#include "catalog/pg_namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/namespace.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "storage/ipc.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "storage/proc.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "catalog/pg_database.h"
#include "citus.h"
#include "compat.h"
#include "schemaguard.h"

/* Saved hook values */
static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static object_access_hook_type prev_object_access_hook = NULL;

/*
 * The utility statement running now (innermost, for DDL run from a
 * function or DO block) and what the object access hook saw it do, by OID:
 * relations it created or changed, tenant tables that were sealed before it
 * (rules_tenant.c), and (in the hook itself) the tables and columns it drops
 * through the dependency machinery.
 */
typedef struct SgRunning
{
	SgStatement st;
	List	   *changed;		/* relids created or altered */
	List	   *sealed;			/* tenant tables without a leak before it */
	MemoryContext cxt;			/* the lists' (the statement's: it outlives the
								 * transactions CONCURRENTLY commits) */
	PlannedStmt *pstmt;			/* for statement_of() */
	const char *query;
	bool		have_text;		/* st's texts are filled in */
	bool		citus;			/* Citus's own work: see citus_work() */
	List	   *touched;		/* objects created or altered (ObjectAddress *) */
	bool		touched_temp;	/* it touched a temporary object ... */
	bool		touched_durable;	/* ... or another */
	bool		judged;			/* a rule found something in it (tripwire.c) */
	struct SgRunning *outer;
} SgRunning;

static SgRunning *running = NULL;

/*
 * Is the statement about to run Citus's own work (citus.c), or one that
 * Citus derived from the DDL statement running around it?  Citus applies a
 * DDL statement to the coordinator's own placements (a reference table's)
 * by running worker_apply_shard_ddl_command() locally: a function that
 * runs SQL it is given, so a user's own call of it is judged, but inside a
 * DDL statement it is the statement's propagation.
 */
static bool
citus_work(void)
{
	if (!sg_citus_loaded())
		return false;
	if (running != NULL && running->citus)
		return true;
	if (sg_citus_internal())
		return true;
	return running != NULL && sg_citus_running_given_sql() &&
		GetCommandLogLevel(running->st.parsetree) == LOGSTMT_DDL;
}

/* Should this statement be checked at all?  Cheapest tests first. */
static bool
should_check(Node *parsetree, ProcessUtilityContext context, bool citus)
{
	if (sg_mode == SG_MODE_OFF)
		return false;
	if (IsBinaryUpgrade || creating_extension)
		return false;
	/* schemaguard's own functions lock first and run fixed DDL (rows.c) */
	if (sg_own_ddl_depth > 0)
		return false;
	/* Citus's own commands: shards, metadata, moves (citus.c) */
	if (citus)
		return false;
	/* Parts of a statement that was itself checked as a whole. */
	if (context == PROCESS_UTILITY_SUBCOMMAND)
		return false;
	if (!IsTransactionState())
		return false;
	if (!sg_statement_checked(parsetree))
		return false;
	return sg_extension_installed();
}

/* The statement's own slice of a (possibly multi-statement) query string. */
static char *
statement_text(const char *queryString, int location, int len)
{
	if (queryString == NULL)
		return pstrdup("");
	if (location < 0)
		return pstrdup(queryString);
	if (len <= 0)
		return pstrdup(queryString + location);
	return pnstrdup(queryString + location, len);
}

/*
 * Rethrow an error of the statement (called in PG_CATCH), adding what
 * schemaguard knows: to core's "cannot run inside a transaction block" error
 * for a statement that cannot, the hint to split the migration; to a lock
 * timeout under schemaguard.default_lock_timeout, the sessions that were in
 * the way when the wait began.  Everything else of core's error is kept.
 */
static void
rethrow_with_context(MemoryContext cxt, const char *no_xact_command, const char *blockers)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	if (edata->sqlerrcode == ERRCODE_ACTIVE_SQL_TRANSACTION && no_xact_command &&
		edata->hint == NULL)
		edata->hint = pstrdup(sg_no_xact_hint(no_xact_command, NULL));
	else if (edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE && blockers &&
			 edata->detail == NULL)
	{
		edata->detail = psprintf("schemaguard.default_lock_timeout (%d ms) ran out. "
								 "Sessions in the way when the wait began:\n%s",
								 sg_default_lock_timeout, blockers);
		edata->hint = pstrdup("Retry the migration when they have finished.");
	}
	else
		PG_RE_THROW();
	FlushErrorState();
	ReThrowError(edata);
}

/* The one path to the next ProcessUtility: every argument unchanged. */
static void
call_next(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
		  ProcessUtilityContext context, ParamListInfo params,
		  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
							params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/*
 * The statement as the rules see it: its own text and the comments above
 * it.  Filled when a rule or the DDL log needs it (statement_of()), not for
 * every utility statement (BEGIN, SET ...).
 */
static void
init_statement(SgStatement *st, PlannedStmt *pstmt, const char *queryString)
{
	st->parsetree = pstmt->utilityStmt;
	st->sql = statement_text(queryString, pstmt->stmt_location, pstmt->stmt_len);
	st->location_base = Max(pstmt->stmt_location, 0);
	if (queryString)
	{
		int			from = sg_comments_start(queryString, st->location_base);

		st->leading = pnstrdup(queryString + from, st->location_base - from);
	}
	else
		st->leading = NULL;
	st->lock_timeout_ms = LockTimeout;
	st->statement_timeout_ms = StatementTimeout;
	st->facts = NULL;
	st->wait_blockers = NULL;
}

/* The running statement, its texts filled in on first use. */
static SgStatement *
statement_of(SgRunning *r)
{
	if (!r->have_text)
	{
		MemoryContext old = MemoryContextSwitchTo(r->cxt);

		init_statement(&r->st, r->pstmt, r->query);
		MemoryContextSwitchTo(old);
		r->have_text = true;
	}
	return &r->st;
}

/* Is the guard on for this statement now (for what the object access hook sees)? */
static bool
guard_on(SgRunning *r)
{
	return sg_mode != SG_MODE_OFF && !IsBinaryUpgrade && !creating_extension &&
		IsTransactionState() && !r->citus && sg_extension_installed();
}

/*
 * Before the statement: the tenant tables it may weaken (a deferred
 * tenant finding names them), if they are sealed now.
 */
static void
note_sealed(SgRunning *r, List *findings)
{
	ListCell   *lc;

	foreach(lc, findings)
	{
		SgFinding  *f = lfirst(lc);
		Oid			relid;

		if (!f->deferred || f->relation == NULL || strcmp(f->rule->id, "tenant-table-rls") != 0)
			continue;
		relid = RangeVarGetRelid(f->relation, NoLock, true);
		if (OidIsValid(relid) && sg_tenant_sealed(relid))
			r->sealed = list_append_unique_oid(r->sealed, relid);
	}
}

/*
 * A deferred finding for a table the statement created keeps the OID the
 * object access hook saw created, never the name looked up again (which can
 * find a temporary table of the same name first).
 */
static void
bind_created(SgRunning *r, List *findings)
{
	ListCell   *lc;
	ListCell   *lc2;

	foreach(lc, findings)
	{
		SgFinding  *f = lfirst(lc);

		if (!f->deferred || f->relation == NULL)
			continue;
		foreach(lc2, r->changed)
		{
			Oid			relid = lfirst_oid(lc2);
			char	   *name = get_rel_name(relid);

			if (name && strcmp(name, f->relation->relname) == 0 &&
				(f->relation->schemaname == NULL ||
				 get_namespace_oid(f->relation->schemaname, true) == get_rel_namespace(relid)))
			{
				f->target.relid = relid;
				f->relation = NULL;
				break;
			}
		}
	}
}

/* The relation that a rule, default, trigger or policy belongs to; InvalidOid if none. */
static Oid
part_relation(Oid classId, Oid objectId)
{
	Relation	catalog = table_open(classId, AccessShareLock);
	AttrNumber	oidcol = classId == RewriteRelationId ? Anum_pg_rewrite_oid :
		classId == AttrDefaultRelationId ? Anum_pg_attrdef_oid :
		classId == TriggerRelationId ? Anum_pg_trigger_oid : Anum_pg_policy_oid;
	Oid			oidindex = classId == RewriteRelationId ? RewriteOidIndexId :
		classId == AttrDefaultRelationId ? AttrDefaultOidIndexId :
		classId == TriggerRelationId ? TriggerOidIndexId : PolicyOidIndexId;
	AttrNumber	relcol = classId == RewriteRelationId ? Anum_pg_rewrite_ev_class :
		classId == AttrDefaultRelationId ? Anum_pg_attrdef_adrelid :
		classId == TriggerRelationId ? Anum_pg_trigger_tgrelid : Anum_pg_policy_polrelid;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			relid = InvalidOid;

	ScanKeyInit(&key, oidcol, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(objectId));
	scan = systable_beginscan(catalog, oidindex, true, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, relcol, RelationGetDescr(catalog), &isnull);

		if (!isnull)
			relid = DatumGetObjectId(d);
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	return relid;
}

/*
 * Note whether an object that the running statement touches is temporary
 * (in a temporary schema, or a temporary relation) or not.  An object of a
 * class without a schema (a role, an attribute default, a trigger) counts
 * as not temporary.  One that cannot be found counts as neither.
 */
static void
classify_touched(SgRunning *r, Oid classId, Oid objectId)
{
	ObjectAddress addr = {classId, objectId, 0};
	int			cache;
	HeapTuple	tup;
	Oid			nsp;

	if (classId == RelationRelationId)
	{
		tup = SearchSysCache1(RELOID, ObjectIdGetDatum(objectId));
		if (!HeapTupleIsValid(tup))
			return;
		if (((Form_pg_class) GETSTRUCT(tup))->relpersistence == RELPERSISTENCE_TEMP)
			r->touched_temp = true;
		else
			r->touched_durable = true;
		ReleaseSysCache(tup);
		return;
	}
	if (classId == NamespaceRelationId)
		nsp = objectId;
	else if (classId == RewriteRelationId || classId == AttrDefaultRelationId ||
			 classId == TriggerRelationId || classId == PolicyRelationId)
	{
		/* a part of a relation: it is what its relation is */
		Oid			relid = part_relation(classId, objectId);

		if (OidIsValid(relid))
			classify_touched(r, RelationRelationId, relid);
		return;
	}
	else
	{
		if (!is_objectclass_supported(classId))
		{
			r->touched_durable = true;
			return;
		}
		cache = get_object_catcache_oid(classId);
		if (cache < 0 || get_object_attnum_namespace(classId) == InvalidAttrNumber)
		{
			r->touched_durable = true;
			return;
		}
		tup = SearchSysCache1(cache, ObjectIdGetDatum(objectId));
		if (!HeapTupleIsValid(tup))
			return;
		ReleaseSysCache(tup);
		nsp = get_object_namespace(&addr);
	}
	if (OidIsValid(nsp) && isAnyTempNamespace(nsp))
		r->touched_temp = true;
	else
		r->touched_durable = true;
}

/*
 * Does ddl_log keep this statement?  Every DDL statement but Citus's own
 * (derived from a statement of the user's, logged once where it ran) and
 * those that touched temporary objects only: no other session can see
 * them, they go with the session, and any role may create them (TEMP is
 * granted to PUBLIC), so they would let any role grow the log.
 */
static bool
keep_in_ddl_log(SgRunning *r)
{
	ListCell   *lc;

	if (r->citus || GetCommandLogLevel(r->st.parsetree) != LOGSTMT_DDL)
		return false;
	foreach(lc, r->touched)
	{
		ObjectAddress *a = lfirst(lc);

		if (r->touched_durable)
			break;
		classify_touched(r, a->classId, a->objectId);
	}
	return !(r->touched_temp && !r->touched_durable);
}

/* After the statement succeeded: what the object access hook recorded. */
static void
after_statement(SgRunning *r)
{
	ListCell   *lc;

	/*
	 * Audit reaches every partition, whenever it was created (any partition
	 * the statement created or changed, CREATE SCHEMA's elements included)
	 * or attached (the ATTACH's parent: core resolved that name the same way
	 * a moment ago).
	 */
	foreach(lc, r->changed)
	{
		if (get_rel_relispartition(lfirst_oid(lc)))
			sg_audit_partitions(lfirst_oid(lc));
	}
	if (IsA(r->st.parsetree, AlterTableStmt))
	{
		AlterTableStmt *at = (AlterTableStmt *) r->st.parsetree;

		foreach(lc, at->cmds)
		{
			if (lfirst_node(AlterTableCmd, lc)->subtype == AT_AttachPartition)
			{
				sg_audit_partitions(RangeVarGetRelid(at->relation, NoLock, true));
				break;
			}
		}
	}
	if ((r->changed != NIL || r->sealed != NIL) && guard_on(r))
		sg_tenant_after_statement(statement_of(r), r->sealed, r->changed);
	/*
	 * audit triggers switched off or on by hand: a marker in the audit log
	 * (not for Citus's own work: the shards' triggers on a worker are
	 * Citus's, and the coordinator refuses their writes)
	 */
	if ((IsA(r->st.parsetree, AlterTableStmt) || IsA(r->st.parsetree, DropStmt)) && !r->citus)
		sg_audit_after_statement(r->st.parsetree, statement_of(r)->sql);
}

/* Does user own the type typname names?  A missing type: yes (core reports it). */
static bool
owns_type(List *typname, Oid user)
{
	Type		typ = LookupTypeName(NULL, makeTypeNameFromNameList(typname), NULL, true);
	bool		owns;

	if (typ == NULL)
		return true;
	owns = sg_type_ownercheck(((Form_pg_type) GETSTRUCT(typ))->oid, user);
	ReleaseSysCache(typ);
	return owns;
}

/*
 * Will core refuse the statement for want of privilege before it does
 * anything?  Then the rules say nothing: core's own error comes first, and
 * a refusal of ours would show the sizes and counts of tables to a role
 * that core turns away.  Statements on one relation are covered where
 * their relation is looked up (sg_catalog_relation_facts()); these are the
 * ones judged by a whole schema or database, or by the tables that use a
 * type or a sequence.
 */
static bool
core_will_refuse(Node *parsetree)
{
	Oid			user = GetUserId();
	ListCell   *lc;

	if (IsA(parsetree, ReindexStmt))
	{
		ReindexStmt *rs = (ReindexStmt *) parsetree;

		if (rs->kind == REINDEX_OBJECT_SCHEMA)
		{
			Oid			nsp = get_namespace_oid(rs->name, true);

			return OidIsValid(nsp) && !sg_may_reindex_schema(nsp, user);
		}
		if (rs->kind == REINDEX_OBJECT_DATABASE || rs->kind == REINDEX_OBJECT_SYSTEM)
			return !sg_may_reindex_database(user);
	}
	else if (IsA(parsetree, DropStmt) && ((DropStmt *) parsetree)->removeType == OBJECT_SCHEMA)
	{
		foreach(lc, ((DropStmt *) parsetree)->objects)
		{
			Oid			nsp = get_namespace_oid(strVal(lfirst(lc)), true);

			if (OidIsValid(nsp) && !sg_namespace_ownercheck(nsp, user))
				return true;
		}
	}
	else if (IsA(parsetree, RenameStmt) && ((RenameStmt *) parsetree)->renameType == OBJECT_SCHEMA)
	{
		Oid			nsp = get_namespace_oid(((RenameStmt *) parsetree)->subname, true);

		return OidIsValid(nsp) && !sg_namespace_ownercheck(nsp, user);
	}
	/* judged by the tables that use a type or a sequence: its owner's commands */
	else if (IsA(parsetree, DropStmt) && (((DropStmt *) parsetree)->removeType == OBJECT_TYPE ||
										  ((DropStmt *) parsetree)->removeType == OBJECT_DOMAIN))
	{
		foreach(lc, ((DropStmt *) parsetree)->objects)
		{
			if (!owns_type(castNode(TypeName, lfirst(lc))->names, user))
				return true;
		}
	}
	else if (IsA(parsetree, AlterEnumStmt))
		return !owns_type(((AlterEnumStmt *) parsetree)->typeName, user);
	else if (IsA(parsetree, AlterDomainStmt))
		return !owns_type(((AlterDomainStmt *) parsetree)->typeName, user);
	else if (IsA(parsetree, AlterSeqStmt))
	{
		Oid			seqid = RangeVarGetRelid(((AlterSeqStmt *) parsetree)->sequence, NoLock, true);

		return OidIsValid(seqid) && !sg_class_ownercheck(seqid, user);
	}
	return false;
}

/*
 * ProcessUtility hook: check the statement against the rules, then chain.
 * The parse tree is only read, never modified (readOnlyTree or not).
 */
static void
sg_ProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				  ProcessUtilityContext context, ParamListInfo params,
				  QueryEnvironment *queryEnv, DestReceiver *dest,
				  QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	const char *volatile no_xact_command = NULL;
	volatile int guc_level = -1;
	SgVerdict	verdict = {NIL, NIL, false};
	MemoryContext cxt = CurrentMemoryContext;
	SgRunning	r;
	bool		checked;
	volatile Oid dropped_db = InvalidOid;

	/* Sub-commands belong to the statement that runs them. */
	if (context == PROCESS_UTILITY_SUBCOMMAND)
	{
		call_next(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
		return;
	}

	/* COPY reads or writes a table without the executor seeing it */
	if (IsA(parsetree, CopyStmt))
		sg_staged_note_copy((CopyStmt *) parsetree, queryString);
	/* a dropped database's usage entries go with it */
	if (IsA(parsetree, DropdbStmt))
		dropped_db = get_database_oid(((DropdbStmt *) parsetree)->dbname, true);

	memset(&r, 0, sizeof(r));
	r.cxt = cxt;
	r.pstmt = pstmt;
	r.query = queryString;
	r.st.parsetree = parsetree;
	r.outer = running;
	r.citus = citus_work();
	checked = should_check(parsetree, context, r.citus) && !core_will_refuse(parsetree);
	if (!checked)
	{
		running = &r;
		PG_TRY();
		{
			call_next(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
		}
		PG_FINALLY();
		{
			running = r.outer;
		}
		PG_END_TRY();
		sg_usage_forget_database(dropped_db);
		if (IsTransactionState())
		{
			after_statement(&r);

			/*
			 * ddl_log: every DDL statement, checked or not (not its
			 * sub-commands), but not Citus's: those are derived from a
			 * statement of the user's, logged once where it ran.
			 */
			if (keep_in_ddl_log(&r))
				sg_migrations_log_ddl(parsetree, statement_of(&r)->sql, NULL);
		}
		return;
	}

	PG_TRY();
	{
		(void) statement_of(&r);
		r.st.lock_timeout_ms = LockTimeout;
		r.st.statement_timeout_ms = StatementTimeout;

		/*
		 * schemaguard.default_lock_timeout: the statement, and our lookups
		 * after the lock rule's, run under it when lock_timeout is 0.  It is
		 * set as a function's SET clause is (a GUC nest level of its own),
		 * so the session's value and its source come back unchanged
		 * afterwards, a SET LOCAL of the migration included.
		 */
		no_xact_command = sg_no_xact_command(parsetree);
		if (sg_default_lock_timeout > 0 && LockTimeout == 0 &&
			sg_lock_timeout_applies(parsetree))
		{
			guc_level = NewGUCNestLevel();
			(void) set_config_option("lock_timeout", psprintf("%d", sg_default_lock_timeout),
									 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		}

		/*
		 * With lock_timeout still 0 no lookup waits: a busy lock is what
		 * rule require-lock-timeout refuses, before the statement queues
		 * (that rule asks conditionally in any case).
		 */
		/*
		 * Lock retries: with lock_timeout 0, take the statement's strong
		 * locks in short waits and retries first (lock_retry.c); the rule's
		 * lookups then find them granted, or refuse as before.  Not for
		 * statements that commit transactions of their own.
		 */
		if (sg_lock_retry && LockTimeout == 0 && no_xact_command == NULL &&
			sg_lock_timeout_applies(parsetree))
			(void) sg_lock_with_retries(&r.st);
		r.st.facts = sg_live_fact_source(LockTimeout == 0);
		sg_staged_judged_reset();
		verdict = sg_evaluate(&r.st);
		sg_report(&r.st, verdict);
		note_sealed(&r, verdict.findings);
		r.judged = verdict.ignored != NIL || verdict.rule_off;
		{
			ListCell   *lc;

			/* a finding judged at commit says nothing about this work */
			foreach(lc, verdict.findings)
			{
				if (!((SgFinding *) lfirst(lc))->deferred)
					r.judged = true;
			}
		}

		running = &r;
		call_next(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
		running = r.outer;
		if (guc_level >= 0)
			AtEOXact_GUC(true, guc_level);
		bind_created(&r, verdict.findings);
		sg_defer_findings(verdict.findings);
		after_statement(&r);
		sg_staged_after_statement(parsetree);
		sg_usage_forget_database(dropped_db);
		if (IsTransactionState() && keep_in_ddl_log(&r))
			sg_migrations_log_ddl(parsetree, r.st.sql, sg_verdict_json(verdict));
	}
	PG_CATCH();
	{
		/* The (sub)transaction's abort pops the GUC nest level. */
		running = r.outer;
		rethrow_with_context(cxt, no_xact_command, r.st.wait_blockers);
	}
	PG_END_TRY();
}

/*
 * Is the statement DROP EXTENSION schemaguard (or DROP OWNED of its owner)?
 * Our own tables go first, and the rules cannot be read while it runs;
 * what it takes with it (CASCADE) is the DBA's explicit choice.
 */
static bool
dropping_schemaguard(Node *parsetree)
{
	ListCell   *lc;

	if (IsA(parsetree, DropOwnedStmt))
	{
		Oid			owner;

		if (!OidIsValid(get_extension_oid("schemaguard", true)))
			return false;
		owner = sg_extension_owner();
		foreach(lc, ((DropOwnedStmt *) parsetree)->roles)
		{
			if (get_rolespec_oid(lfirst(lc), true) == owner)
				return true;
		}
		return false;
	}
	if (!IsA(parsetree, DropStmt) || ((DropStmt *) parsetree)->removeType != OBJECT_EXTENSION)
		return false;
	foreach(lc, ((DropStmt *) parsetree)->objects)
	{
		if (strcmp(strVal(lfirst(lc)), "schemaguard") == 0)
			return true;
	}
	return false;
}

/*
 * A table, materialized view or column about to be deleted (core calls the
 * hook for each object of its dependency walk, just before deleting it):
 * rule staged-drop judges it as it judges an explicit DROP, unless the
 * statement's own check judged it already.  Temporary objects, objects
 * created in this transaction, core's internal deletions (a rewrite's
 * transient heap) and schemaguard's own tables are not at risk.
 */
static void
judge_drop(SgRunning *r, Oid relid, int subid, int flags)
{
	char		relkind = get_rel_relkind(relid);
	const SgRule *rule;
	List	   *findings = NIL;
	char	   *column = NULL;

	if ((flags & PERFORM_DELETION_INTERNAL) ||
		(relkind != RELKIND_RELATION && relkind != RELKIND_MATVIEW &&
		 relkind != RELKIND_PARTITIONED_TABLE))
		return;
	if (relkind == RELKIND_PARTITIONED_TABLE && subid == 0)
		return;					/* its leaves hold the data, and are judged */
	if (get_rel_persistence(relid) == RELPERSISTENCE_TEMP ||
		get_rel_namespace(relid) == get_namespace_oid(SG_SCHEMA, true))
		return;
	if (dropping_schemaguard(r->st.parsetree) || !guard_on(r))
		return;
	rule = sg_rule_by_id("staged-drop");
	if (sg_rule_level(rule) == SG_LEVEL_OFF)
		return;
	if (subid > 0)
	{
		column = get_attname(relid, subid, true);
		if (column == NULL)
			return;
	}
	(void) statement_of(r);
	if (r->st.facts == NULL)
		r->st.facts = sg_live_fact_source(false);
	sg_judge_dependent_drop(&r->st, rule,
							psprintf("%s cascading to", GetCommandTagName(CreateCommandTag(r->st.parsetree))),
							relid, column, &findings);
	sg_report_extra(&r->st, findings);
}

/*
 * Object access hook: what the running statement creates, changes and
 * drops, by OID.  Only lists are kept here; they are acted on after the
 * statement (after_statement()), except drops, which are judged before the
 * object is gone.
 */
static void
sg_object_access(ObjectAccessType access, Oid classId, Oid objectId, int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	if (running == NULL)
		return;

	switch (access)
	{
		case OAT_POST_CREATE:
		case OAT_POST_ALTER:
			/* classified after the statement, when the catalog shows them */
			if (!running->touched_durable && list_length(running->touched) < 64)
			{
				MemoryContext old = MemoryContextSwitchTo(running->cxt);
				ObjectAddress *a = palloc(sizeof(ObjectAddress));

				a->classId = classId;
				a->objectId = objectId;
				a->objectSubId = 0;
				running->touched = lappend(running->touched, a);
				MemoryContextSwitchTo(old);
			}
			else
				running->touched_durable = true;
			if (classId == RelationRelationId)
			{
				MemoryContext old = MemoryContextSwitchTo(running->cxt);

				running->changed = list_append_unique_oid(running->changed, objectId);
				MemoryContextSwitchTo(old);
				/* a rewrite or an index build starting: did a rule foresee it? */
				if (access == OAT_POST_CREATE && sg_own_ddl_depth == 0 && guard_on(running))
				{
					(void) statement_of(running);
					sg_tripwire_created(&running->st, running->judged, objectId);
				}
			}
			break;
		case OAT_DROP:
			if (!running->touched_durable)
				classify_touched(running, classId, objectId);
			if (classId == RelationRelationId)
				judge_drop(running, objectId, subId, ((ObjectAccessDrop *) arg)->dropflags);
			else if (classId == PolicyRelationId)
			{
				Oid			relid = part_relation(PolicyRelationId, objectId);	/* before core deletes it */
				MemoryContext old;

				if (!OidIsValid(relid) || list_member_oid(running->sealed, relid) || !guard_on(running))
					break;
				old = MemoryContextSwitchTo(running->cxt);
				if (sg_tenant_sealed(relid))
					running->sealed = lappend_oid(running->sealed, relid);
				running->changed = list_append_unique_oid(running->changed, relid);
				MemoryContextSwitchTo(old);
			}
			break;
		default:
			break;
	}
}

/*
 * Transaction end: deferred findings are judged before commit (and may make
 * it fail); afterwards per-transaction state goes, never raising.
 */
static void
sg_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			sg_engine_pre_commit();
			sg_migrations_pre_commit();
			sg_staged_pre_commit();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			sg_xact_lists_end();
			sg_migrations_xact_end(true);
			sg_staged_xact_end(true);
			break;
		case XACT_EVENT_PREPARE:
			/* the prepared transaction may yet roll back: keep the entries */
			sg_xact_lists_end();
			sg_migrations_xact_end(true);
			sg_staged_xact_end(false);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			sg_xact_lists_end();
			sg_migrations_xact_end(false);
			sg_staged_xact_end(false);
			break;
		default:
			break;
	}
}

/* Subtransaction end: undo what an aborted one granted; hand up the rest. */
static void
sg_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		sg_xact_lists_subxact_abort(mySubid);
		sg_migrations_subxact_abort(mySubid);
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		sg_xact_lists_subxact_commit(mySubid, parentSubid);
		sg_migrations_subxact_commit(mySubid, parentSubid);
	}
}

/* ExecutorStart hook: record uses of staged objects, then chain. */
static void
sg_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	/* Citus copying or moving a shard is not a use of it. */
	if (!sg_citus_internal())
		sg_staged_note_query(queryDesc, eflags);
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/* Shared memory for the usage counters (preloaded only). */
static void
sg_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	sg_staged_shmem_request();
	sg_ids_shmem_request();
}

static void
sg_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	sg_staged_shmem_startup();
	sg_ids_shmem_startup();
}

/* Install every hook; called once from _PG_init. */
void
sg_hooks_install(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = sg_ProcessUtility;
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = sg_ExecutorStart;
	prev_object_access_hook = object_access_hook;
	object_access_hook = sg_object_access;
	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = sg_shmem_request;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = sg_shmem_startup;
	}

	RegisterXactCallback(sg_xact_callback, NULL);
	RegisterSubXactCallback(sg_subxact_callback, NULL);
}
