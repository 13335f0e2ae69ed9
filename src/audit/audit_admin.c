/*-------------------------------------------------------------------------
 *
 * audit_admin.c
 *		The audit SQL functions: enable_audit(), disable_audit(), purge_audit(),
 *		the key text of a row, and the trigger that keeps audit_log append-only;
 *		and the checks of a table that enable_audit() and enable_timestamps()
 *		are given.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/toast_compression.h"
#include "access/toast_internals.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_inherits.h"
#include "parser/parse_func.h"
#include "pgtime.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/syscache.h"
#include "utils/xid8.h"
#include "utils/jsonb.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "audit.h"
#include "citus.h"
#include "schemaguard.h"
#include "audit.h"

/* Set while purge_audit() deletes, so that the protection lets it. */
static bool purging = false;

PG_FUNCTION_INFO_V1(sg_audit_log_protect);
PG_FUNCTION_INFO_V1(sg_purge_audit);
PG_FUNCTION_INFO_V1(sg_enable_audit);
PG_FUNCTION_INFO_V1(sg_disable_audit);
PG_FUNCTION_INFO_V1(sg_audit_key_text);

/*
 * _audit_key_text(target, key): the text the audit trigger writes for row
 * key `key` of target ("k":{...}), which row_history() looks for in each
 * batch's text before it parses any JSON.  NULL whenever that text might
 * differ from what was written for a row whose row_key equals key: the
 * table is not audited now, a key column is excluded, key names other
 * columns, or a value is a number that jsonb would compare equal in
 * another spelling (1.5 and 1.50).  row_history() then reads every batch of
 * the table.
 */
Datum
sg_audit_key_text(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Jsonb	   *key;
	Relation	rel;
	Trigger    *trigger = NULL;
	AuditShape *shape;
	StringInfoData buf;
	bool		ok;
	bool		missing = false;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	relid = PG_GETARG_OID(0);
	key = PG_GETARG_JSONB_P(1);
	if (!JB_ROOT_IS_OBJECT(key))
		PG_RETURN_NULL();
	/* nothing about a table the caller may not read */
	if (pg_class_aclcheck_ext(relid, GetUserId(), ACL_SELECT, &missing) != ACLCHECK_OK || missing)
		PG_RETURN_NULL();
	rel = try_table_open(relid, AccessShareLock);
	if (rel == NULL)
		PG_RETURN_NULL();
	for (int i = 0; rel->trigdesc && i < rel->trigdesc->numtriggers; i++)
	{
		if (strcmp(rel->trigdesc->triggers[i].tgname, "schemaguard_audit_insert") == 0)
			trigger = &rel->trigdesc->triggers[i];
	}
	shape = trigger ? sg_audit_shape(rel, trigger) : NULL;
	ok = shape != NULL && shape->nkeys > 0 &&
		shape->nkeys == bms_num_members(RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_PRIMARY_KEY)) &&
		JsonContainerSize(&key->root) == (uint32) shape->nkeys;
	initStringInfo(&buf);
	appendStringInfoString(&buf, "\"k\":{");
	for (int i = 0; ok && i < shape->nkeys; i++)
	{
		AuditCol   *col = shape->keys[i];
		char	   *name = NameStr(TupleDescAttr(RelationGetDescr(rel), col->attnum - 1)->attname);
		JsonbValue	k;
		JsonbValue *v;

		k.type = jbvString;
		k.val.string.val = name;
		k.val.string.len = strlen(name);
		v = findJsonbValueFromContainer(&key->root, JB_FOBJECT, &k);
		if (v == NULL)
		{
			ok = false;
			break;
		}
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, col->key);
		if (col->kind == COL_INTEGER && v->type == jbvNumeric)
		{
			char	   *digits = DatumGetCString(DirectFunctionCall1(numeric_out,
																	 NumericGetDatum(v->val.numeric)));

			/* the writer prints integers as plain digits */
			ok = strspn(digits + (digits[0] == '-'), "0123456789") == strlen(digits + (digits[0] == '-'));
			appendStringInfoString(&buf, digits);
		}
		else if (col->kind == COL_BOOL && v->type == jbvBool)
			appendStringInfoString(&buf, v->val.boolean ? "true" : "false");
		else if ((col->kind == COL_TEXT || col->kind == COL_DATETIME || col->kind == COL_STRING) &&
				 v->type == jbvString)
		{
			/* jsonb compares strings byte for byte: the written text is this one */
			escape_json(&buf, pnstrdup(v->val.string.val, v->val.string.len));
		}
		else
			ok = false;
	}
	appendStringInfoChar(&buf, '}');
	table_close(rel, AccessShareLock);
	if (!ok)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(buf.data));
}

/*
 * The log's protection.  On audit_batch (BEFORE ... FOR EACH STATEMENT):
 * only the audit trigger (which does not go through the executor),
 * superusers and purge_audit() may change it.  On the audit_log view
 * (INSTEAD OF ... FOR EACH ROW): refused for everyone; a superuser changes
 * audit_batch itself.
 */
Datum
sg_audit_log_protect(PG_FUNCTION_ARGS)
{
	static const char *const table[] = {SG_AUDIT_BATCH, NULL};
	static const char *const view[] = {"audit_log", NULL};
	TriggerData *td = TRIGGER_FIRED_INSTEAD(((TriggerData *) sg_trigger_data(fcinfo))->tg_event) ?
		sg_own_trigger_data(fcinfo, "_audit_log_protect", view, true, TRIGGER_TYPE_INSTEAD) :
		sg_own_trigger_data(fcinfo, "_audit_log_protect", table, false, TRIGGER_TYPE_BEFORE);
	bool		on_view = TRIGGER_FIRED_INSTEAD(td->tg_event);
	const char *what = TRIGGER_FIRED_BY_INSERT(td->tg_event) ? "INSERT" :
		TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? "UPDATE" :
		TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "DELETE" : "TRUNCATE";

	if (!on_view && (purging || superuser()))
		return PointerGetDatum(NULL);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("schemaguard.audit_log is append-only"),
			 on_view && superuser() ?
			 errdetail("%s on the audit_log view is refused for every role.", what) :
			 errdetail("%s on the audit log is refused for every role but superusers, its owner included.", what),
			 on_view && superuser() ?
			 errhint("A superuser may change schemaguard.audit_batch, the table behind the view.") :
			 errhint("Rows are written by the audit trigger only; remove old ones with schemaguard.purge_audit(interval).")));
	return PointerGetDatum(NULL);
}

/*
 * purge_audit(older_than): delete log rows older than that, and record the
 * purge in the log itself.  Returns the number of log rows deleted.  The
 * records of earlier purges stay: the trail of what was removed is kept.
 */
Datum
sg_purge_audit(PG_FUNCTION_ARGS)
{
	int			spi_level;
	Interval   *older;
	Oid			argtypes[1] = {INTERVALOID};
	Datum		args[1];
	int64		deleted = 0;
	char	   *older_text;

	sg_require_arg(fcinfo, 0, "older_than");
	older = PG_GETARG_INTERVAL_P(0);
	if (older->month < 0 || older->day < 0 || older->time < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("older_than must not be negative")));
	args[0] = IntervalPGetDatum(older);
	older_text = DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(older)));

	spi_level = sg_spi_connect();
	purging = true;
	PG_TRY();
	{
		bool		isnull;

		if (SPI_execute_with_args("WITH d AS (DELETE FROM schemaguard.audit_batch "
								  "WHERE at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) $1) "
								  "AND op OPERATOR(pg_catalog.<>) 'PURGE' "
								  "RETURNING nrows) "
								  "SELECT pg_catalog.sum(nrows)::pg_catalog.int8 FROM d",
								  1, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not purge schemaguard.audit_batch");
		deleted = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (isnull)
			deleted = 0;
	}
	PG_FINALLY();
	{
		purging = false;
	}
	PG_END_TRY();
	sg_spi_finish(spi_level);

	/* The purge itself is recorded, under the log's own name. */
	{
		StringInfoData summary;

		initStringInfo(&summary);
		appendStringInfoString(&summary, "{\"older_than\":");
		escape_json(&summary, older_text);
		appendStringInfo(&summary, ",\"deleted\":" INT64_FORMAT "}", deleted);
		sg_audit_log_marker(sg_rows_relid("audit_log", false), "PURGE", summary.data);
	}
	ereport(LOG,
			(errmsg("schemaguard: role \"%s\" purged " INT64_FORMAT " audit log rows older than %s",
					GetUserNameFromId(GetOuterUserId(), false), deleted, older_text)));
	PG_RETURN_INT64(deleted);
}

/* ---------- enable_audit() ---------- */

/* A table that may carry our triggers: plain or partitioned, not a catalog. */
void
sg_check_trigger_target(Oid relid, const char *what)
{
	char		relkind = get_rel_relkind(relid);

	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (IsCatalogNamespace(get_rel_namespace(relid)) || get_rel_namespace(relid) == PG_TOAST_NAMESPACE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a system catalog", get_rel_name(relid)),
				 errdetail("%s works on user tables only.", what)));
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relid)),
				 errdetail("%s works on plain and partitioned tables; views, materialized views and foreign tables have no rows of their own to audit.",
						   what)));
	if (get_namespace_oid(SG_SCHEMA, true) == get_rel_namespace(relid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" belongs to schemaguard", get_rel_name(relid))));
}

/*
 * The rows of a Citus table live in its shards, on the workers: a trigger
 * on the coordinator's shell never sees them, and one on the shards would
 * write each worker's own log.
 */
void
sg_refuse_citus_table(Oid relid, const char *what)
{
	if (sg_citus_is_distributed(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s does not support Citus table \"%s\"", what, get_rel_name(relid)),
				 errdetail("Its rows are stored in shards on the workers, where changes are made "
						   "without passing through the coordinator's table."),
				 errhint("Stream the changes of distributed tables with Citus's change data "
						 "capture (citus.enable_change_data_capture = on, then logical "
						 "decoding); %s works on the coordinator's local tables.", what)));
}

/* A quoted, comma-separated list of SQL string literals. */
static char *
literal_list(List *names)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", quote_literal_cstr(lfirst(lc)));
	return buf.data;
}

/* The trigger arguments (excluded columns) as a list of C strings. */
static List *
trigger_args(Trigger *tg)
{
	List	   *names = NIL;

	for (int i = 0; i < tg->tgnargs; i++)
		names = lappend(names, pstrdup(tg->tgargs[i]));
	return names;
}

/*
 * An AUDIT ON or AUDIT OFF marker in the audit log of relid (of its root,
 * for a partition): who switched it (the caller, also for our own
 * functions), when, and how.
 */
static void
audit_switched(Oid relid, const char *op, const char *how)
{
	StringInfoData json;
	List	   *ancestors;
	const char *text = how ? how : "";

	/* the catalog only for the statements that switch triggers, never for every ALTER */
	if (!OidIsValid(sg_rows_relid(SG_AUDIT_BATCH, true)))
		return;
	ancestors = get_rel_relispartition(relid) ? get_partition_ancestors(relid) : NIL;
	initStringInfo(&json);
	appendStringInfoString(&json, "{\"statement\": ");
	escape_json(&json, pnstrdup(text, pg_mbcliplen(text, strlen(text), 1000)));
	appendStringInfoChar(&json, '}');
	sg_audit_log_marker(ancestors != NIL ? llast_oid(ancestors) : relid, op, json.data);
}

/* The audit INSERT trigger of relid (a copy), or NULL when it is not audited. */
static Trigger *
audit_trigger_of(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	Trigger    *found = NULL;
	Oid			audit_fn = LookupFuncName(list_make2(makeString(SG_SCHEMA), makeString("_audit")),
										  0, NULL, true);

	for (int i = 0; rel->trigdesc && i < rel->trigdesc->numtriggers; i++)
	{
		Trigger    *tg = &rel->trigdesc->triggers[i];

		if (strcmp(tg->tgname, "schemaguard_audit_insert") == 0 && tg->tgfoid == audit_fn)
		{
			found = palloc(sizeof(Trigger));
			*found = *tg;
			found->tgargs = palloc(sizeof(char *) * Max(tg->tgnargs, 1));
			for (int a = 0; a < tg->tgnargs; a++)
				found->tgargs[a] = pstrdup(tg->tgargs[a]);
		}
	}
	table_close(rel, AccessShareLock);
	return found;
}

/* The four CREATE OR REPLACE TRIGGER statements that audit one table. */
static List *
audit_statements(Oid relid, List *excluded)
{
	char	   *qual = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												  get_rel_name(relid));
	char	   *args = literal_list(excluded);

	return list_make4(psprintf("CREATE OR REPLACE TRIGGER schemaguard_audit_insert AFTER INSERT ON %s "
							   "REFERENCING NEW TABLE AS sg_new "
							   "FOR EACH STATEMENT EXECUTE FUNCTION %s._audit(%s)", qual, SG_SCHEMA, args),
					  psprintf("CREATE OR REPLACE TRIGGER schemaguard_audit_update AFTER UPDATE ON %s "
							   "REFERENCING OLD TABLE AS sg_old NEW TABLE AS sg_new "
							   "FOR EACH STATEMENT EXECUTE FUNCTION %s._audit(%s)", qual, SG_SCHEMA, args),
					  psprintf("CREATE OR REPLACE TRIGGER schemaguard_audit_delete AFTER DELETE ON %s "
							   "REFERENCING OLD TABLE AS sg_old "
							   "FOR EACH STATEMENT EXECUTE FUNCTION %s._audit(%s)", qual, SG_SCHEMA, args),
					  psprintf("CREATE OR REPLACE TRIGGER schemaguard_audit_truncate AFTER TRUNCATE ON %s "
							   "FOR EACH STATEMENT EXECUTE FUNCTION %s._audit()", qual, SG_SCHEMA));
}

/*
 * Audit relid and, for a partitioned table, every partition below it at
 * every level: PostgreSQL does not clone statement triggers to partitions,
 * so without its own triggers a partition written directly (INSERT,
 * UPDATE, DELETE or TRUNCATE naming the partition) would go unrecorded.
 * Rows are logged under the root either way (logged_table()).  Only the
 * members that need it are (re)created when only_missing.
 */
static List *
audit_members(Oid relid)
{
	List	   *members = NIL;
	ListCell   *lc;

	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		Oid			member = lfirst_oid(lc);
		char		relkind = get_rel_relkind(member);

		if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
			continue;			/* foreign partitions have no transition tables */
		if (member != relid && !get_rel_relispartition(member))
			continue;			/* inheritance children are tables of their own */
		members = lappend_oid(members, member);
	}
	return members;
}

static void
audit_tree(Oid relid, List *excluded, bool only_missing)
{
	List	   *statements = NIL;
	List	   *members = audit_members(relid);
	ListCell   *lc;

	/* CREATE TRIGGER's lock, on the table and then its partitions */
	sg_lock_for_own_ddl(members, ShareRowExclusiveLock, "enable_audit()");
	foreach(lc, members)
	{
		Oid			member = lfirst_oid(lc);

		if (only_missing && audit_trigger_of(member) != NULL)
			continue;
		statements = list_concat(statements, audit_statements(member, excluded));
	}
	if (statements != NIL)
		sg_run_as_owner(statements);
}

/*
 * After CREATE TABLE ... PARTITION OF or ATTACH PARTITION (hooks.c): if the
 * new partition, or a table above it, is audited, audit every partition of
 * the nearest audited table that is not yet, with its exclusions.
 */
void
sg_audit_partitions(Oid relid)
{
	List	   *line;
	ListCell   *lc;
	char		relkind = OidIsValid(relid) ? get_rel_relkind(relid) : '\0';

	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		return;
	line = list_make1_oid(relid);
	if (get_rel_relispartition(relid))
		line = list_concat(line, get_partition_ancestors(relid));
	foreach(lc, line)
	{
		Trigger    *tg = audit_trigger_of(lfirst_oid(lc));

		if (tg != NULL)
		{
			audit_tree(lfirst_oid(lc), trigger_args(tg), true);
			return;
		}
	}
}

/* The caller must own the table, as CREATE TRIGGER would require. */
void
sg_check_table_owner(Oid relid)
{
	if (!sg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, get_relkind_objtype(get_rel_relkind(relid)),
					   get_rel_name(relid));
}

/*
 * enable_audit(target, exclude_columns): create (or replace) the audit
 * triggers, on the table and every partition.  Calling it again updates
 * the exclusions.
 */
Datum
sg_enable_audit(PG_FUNCTION_ARGS)
{
	Oid			relid;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *enulls;
	int			n;
	List	   *names = NIL;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", PG_ARGISNULL(0) ? "target" : "exclude_columns"),
				 errhint("Pass '{}' to exclude no column.")));
	relid = PG_GETARG_OID(0);
	sg_check_trigger_target(relid, "enable_audit()");
	sg_refuse_citus_table(relid, "enable_audit()");
	sg_check_table_owner(relid);
	arr = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("exclude_columns must be a one-dimensional array")));
	deconstruct_array(arr, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &elems, &enulls, &n);
	for (int i = 0; i < n; i++)
	{
		char	   *col;

		if (enulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("exclude_columns must not contain NULL")));
		col = pstrdup(NameStr(*DatumGetName(elems[i])));
		if (get_attnum(relid, col) <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist", col, get_rel_name(relid))));
		names = lappend(names, col);
	}
	audit_tree(relid, names, false);
	audit_switched(relid, "AUDIT ON", "schemaguard.enable_audit()");
	PG_RETURN_VOID();
}

/*
 * disable_audit(target): drop the audit triggers of the table and of every
 * partition below it.  The rows logged so far stay.
 */
Datum
sg_disable_audit(PG_FUNCTION_ARGS)
{
	Oid			relid;
	List	   *members;
	List	   *statements = NIL;
	ListCell   *lc;
	static const char *const ops[] = {"insert", "update", "delete", "truncate"};

	sg_require_arg(fcinfo, 0, "target");
	relid = PG_GETARG_OID(0);
	sg_check_trigger_target(relid, "disable_audit()");
	sg_check_table_owner(relid);
	members = audit_members(relid);
	sg_lock_for_own_ddl(members, AccessExclusiveLock, "disable_audit()");
	foreach(lc, members)
	{
		Oid			member = lfirst_oid(lc);
		char	   *qual = quote_qualified_identifier(get_namespace_name(get_rel_namespace(member)),
													  get_rel_name(member));

		for (int i = 0; i < lengthof(ops); i++)
			statements = lappend(statements,
								 psprintf("DROP TRIGGER IF EXISTS schemaguard_audit_%s ON %s", ops[i], qual));
	}
	sg_run_as_owner(statements);
	audit_switched(relid, "AUDIT OFF", "schemaguard.disable_audit()");
	PG_RETURN_VOID();
}

/* Does a trigger name, or ALL or USER (name NULL), take in an audit trigger? */
static bool
names_audit_trigger(const char *name)
{
	return name == NULL || strncmp(name, "schemaguard_audit_", strlen("schemaguard_audit_")) == 0;
}

/*
 * After a statement that switched audit triggers off or on by hand: ALTER
 * TABLE ... DISABLE / ENABLE [REPLICA | ALWAYS] TRIGGER (an audit trigger,
 * ALL or USER), or DROP TRIGGER of an audit trigger.  Nothing is refused
 * (the owner may), but the audit log gets a marker: AUDIT OFF while any of
 * the table's audit triggers no longer fires in a normal session, AUDIT ON
 * once all fire again, with who, when and the statement.  enable_audit()
 * and disable_audit() write their own.
 */
void
sg_audit_after_statement(Node *parsetree, const char *sql)
{
	ListCell   *lc;

	if (sg_own_ddl_depth > 0)
		return;
	if (IsA(parsetree, AlterTableStmt))
	{
		AlterTableStmt *at = (AlterTableStmt *) parsetree;
		bool		switches = false;
		Oid			relid;
		Relation	rel;
		int			audit = 0,
					firing = 0;

		foreach(lc, at->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

			switch (cmd->subtype)
			{
				case AT_EnableTrig:
				case AT_EnableAlwaysTrig:
				case AT_EnableReplicaTrig:
				case AT_DisableTrig:
					switches |= names_audit_trigger(cmd->name);
					break;
				case AT_EnableTrigAll:
				case AT_DisableTrigAll:
				case AT_EnableTrigUser:
				case AT_DisableTrigUser:
					switches = true;
					break;
				default:
					break;
			}
		}
		if (!switches)
			return;
		relid = RangeVarGetRelid(at->relation, NoLock, true);
		if (!OidIsValid(relid) || (rel = try_relation_open(relid, NoLock)) == NULL)
			return;
		for (int i = 0; rel->trigdesc && i < rel->trigdesc->numtriggers; i++)
		{
			Trigger    *tg = &rel->trigdesc->triggers[i];

			if (!names_audit_trigger(tg->tgname) || tg->tgisinternal)
				continue;
			audit++;
			firing += (tg->tgenabled == TRIGGER_FIRES_ON_ORIGIN || tg->tgenabled == TRIGGER_FIRES_ALWAYS);
		}
		relation_close(rel, NoLock);
		if (audit > 0)
			audit_switched(relid, firing == audit ? "AUDIT ON" : "AUDIT OFF", sql);
	}
	else if (IsA(parsetree, DropStmt) && ((DropStmt *) parsetree)->removeType == OBJECT_TRIGGER)
	{
		foreach(lc, ((DropStmt *) parsetree)->objects)
		{
			List	   *names = lfirst(lc);
			Oid			relid;

			if (!names_audit_trigger(strVal(llast(names))))
				continue;
			relid = RangeVarGetRelid(makeRangeVarFromNameList(list_truncate(list_copy(names),
																				list_length(names) - 1)),
									 NoLock, true);
			if (OidIsValid(relid))
				audit_switched(relid, "AUDIT OFF", sql);
		}
	}
}

