/*-------------------------------------------------------------------------
 *
 * audit.c
 *		Audit triggers in C: row changes into schemaguard.audit_log, and the
 *		created_at/updated_at/updated_by trigger.
 *
 * The audit trigger is an AFTER ROW trigger (and an AFTER TRUNCATE statement
 * trigger).  It builds the log row itself, in C, and inserts it straight
 * into the heap and the log's indexes, without SPI or the executor: no plan,
 * no portal, no permission check (the log is writable by nobody else).
 * What it costs per row: the jsonb of the changed columns, a nextval, one
 * heap insert and its index entries.
 *
 *	- excluded columns (the trigger's arguments) never appear;
 *	- an UPDATE logs only the columns whose value changed, and nothing at
 *	  all when no included column changed;
 *	- row_key holds the primary key's values (NULL without a primary key);
 *	- a partition's rows are logged under its root table, the table
 *	  enable_audit() was called on.
 *
 * The log is protected by a statement trigger (_audit_log_protect) that
 * refuses INSERT, UPDATE, DELETE and TRUNCATE for everyone but superusers
 * and purge_audit().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/xid8.h"
#include "utils/jsonb.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "schemaguard.h"

#define SG_AUDIT_LOG		"audit_log"
#define SG_AUDIT_SEQ		"audit_log_id_seq"
#define SG_AUDIT_NCOLS		14

/* Set while purge_audit() deletes, so that the protection lets it. */
static bool purging = false;

/* audit_log and its sequence, looked up once per backend (see audit_ids()). */
static Oid	log_relid = InvalidOid;
static Oid	log_seqid = InvalidOid;
static bool ids_callback = false;

PG_FUNCTION_INFO_V1(sg_audit_trigger);
PG_FUNCTION_INFO_V1(sg_audit_log_protect);
PG_FUNCTION_INFO_V1(sg_purge_audit);
PG_FUNCTION_INFO_V1(sg_timestamps_trigger);
PG_FUNCTION_INFO_V1(sg_enable_audit);
PG_FUNCTION_INFO_V1(sg_enable_timestamps);

/* ---------- jsonb of a row ---------- */

/*
 * to_jsonb() of one value.  to_jsonb is polymorphic and reads its argument
 * type from the call expression, so give it one.
 */
static Jsonb *
value_jsonb(Datum value, Oid typid)
{
	FmgrInfo	flinfo;
	FuncExpr   *expr;
	LOCAL_FCINFO(fcinfo, 1);
	Datum		result;

	fmgr_info(F_TO_JSONB, &flinfo);
	expr = makeFuncExpr(F_TO_JSONB, JSONBOID,
						list_make1(makeNullConst(typid, -1, InvalidOid)),
						InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	flinfo.fn_expr = (Node *) expr;
	InitFunctionCallInfoData(*fcinfo, &flinfo, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = value;
	fcinfo->args[0].isnull = false;
	result = FunctionCallInvoke(fcinfo);
	return DatumGetJsonbP(result);
}

/*
 * The common scalar types, converted as to_jsonb() would, without a
 * function call; false for any other type.
 */
static bool
fast_scalar(Datum value, Oid typid, JsonbValue *val)
{
	char		buf[MAXDATELEN + 1];

	switch (typid)
	{
		case INT2OID:
			val->type = jbvNumeric;
			val->val.numeric = int64_to_numeric(DatumGetInt16(value));
			return true;
		case INT4OID:
			val->type = jbvNumeric;
			val->val.numeric = int64_to_numeric(DatumGetInt32(value));
			return true;
		case INT8OID:
			val->type = jbvNumeric;
			val->val.numeric = int64_to_numeric(DatumGetInt64(value));
			return true;
		case NUMERICOID:
			if (numeric_is_nan(DatumGetNumeric(value)) || numeric_is_inf(DatumGetNumeric(value)))
				return false;	/* to_jsonb writes these as strings */
			val->type = jbvNumeric;
			val->val.numeric = DatumGetNumeric(value);
			return true;
		case BOOLOID:
			val->type = jbvBool;
			val->val.boolean = DatumGetBool(value);
			return true;
		case TEXTOID:
		case VARCHAROID:
			{
				text	   *t = DatumGetTextPP(value);

				val->type = jbvString;
				val->val.string.val = VARDATA_ANY(t);
				val->val.string.len = VARSIZE_ANY_EXHDR(t);
				return true;
			}
		case TIMESTAMPTZOID:
		case TIMESTAMPOID:
		case DATEOID:
			{
				char	   *s = pstrdup(JsonEncodeDateTime(buf, value, typid, NULL));

				val->type = jbvString;
				val->val.string.val = s;
				val->val.string.len = strlen(s);
				return true;
			}
		default:
			return false;
	}
}

/* Add "name": value to the object being built. */
static void
push_column(JsonbParseState **state, const char *name, Datum value, bool isnull, Oid typid)
{
	JsonbValue	key;
	JsonbValue	val;

	key.type = jbvString;
	key.val.string.val = (char *) name;
	key.val.string.len = strlen(name);
	pushJsonbValue(state, WJB_KEY, &key);
	if (isnull)
	{
		val.type = jbvNull;
		pushJsonbValue(state, WJB_VALUE, &val);
		return;
	}
	if (fast_scalar(value, typid, &val))
	{
		pushJsonbValue(state, WJB_VALUE, &val);
		return;
	}
	{
		Jsonb	   *j = value_jsonb(value, typid);

		val.type = jbvBinary;
		val.val.binary.data = &j->root;
		val.val.binary.len = VARSIZE(j) - VARHDRSZ;
		pushJsonbValue(state, WJB_VALUE, &val);
	}
}

/* Which columns the log may show: not dropped, not excluded. */
static Bitmapset *
included_columns(Relation rel, Trigger *trigger)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Bitmapset  *cols = NULL;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		excluded = false;

		if (att->attisdropped)
			continue;
		for (int a = 0; a < trigger->tgnargs; a++)
		{
			if (strcmp(trigger->tgargs[a], NameStr(att->attname)) == 0)
				excluded = true;
		}
		if (!excluded)
			cols = bms_add_member(cols, att->attnum);
	}
	return cols;
}

/*
 * The jsonb object of tup's columns in cols (when other is given: only those
 * whose value differs from other's); NULL when there is none.
 */
static Datum
row_jsonb(Relation rel, HeapTuple tup, HeapTuple other, Bitmapset *cols, bool *isnull)
{
	TupleDesc	desc = RelationGetDescr(rel);
	JsonbParseState *state = NULL;
	JsonbValue *res;
	int			n = 0;
	int			attnum = -1;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	while ((attnum = bms_next_member(cols, attnum)) >= 0)
	{
		Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);
		bool		null;
		Datum		value = heap_getattr(tup, attnum, desc, &null);

		if (other != NULL)
		{
			bool		onull;
			Datum		ovalue = heap_getattr(other, attnum, desc, &onull);

			if (null == onull &&
				(null || datumIsEqual(value, ovalue, att->attbyval, att->attlen)))
				continue;
		}
		push_column(&state, NameStr(att->attname), value, null, att->atttypid);
		n++;
	}
	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	*isnull = (n == 0);
	return n == 0 ? (Datum) 0 : JsonbPGetDatum(JsonbValueToJsonb(res));
}

/*
 * For an UPDATE: the old and new values of the included columns that
 * changed, in one pass.  False when none changed.
 */
static bool
update_images(Relation rel, HeapTuple oldtup, HeapTuple newtup, Bitmapset *cols,
			  Datum *oldjson, Datum *newjson)
{
	TupleDesc	desc = RelationGetDescr(rel);
	JsonbParseState *os = NULL;
	JsonbParseState *ns = NULL;
	JsonbValue *o;
	JsonbValue *n;
	int			changed = 0;
	int			attnum = -1;

	pushJsonbValue(&os, WJB_BEGIN_OBJECT, NULL);
	pushJsonbValue(&ns, WJB_BEGIN_OBJECT, NULL);
	while ((attnum = bms_next_member(cols, attnum)) >= 0)
	{
		Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);
		bool		onull,
					nnull;
		Datum		ov = heap_getattr(oldtup, attnum, desc, &onull);
		Datum		nv = heap_getattr(newtup, attnum, desc, &nnull);

		if (onull == nnull && (onull || datumIsEqual(ov, nv, att->attbyval, att->attlen)))
			continue;
		push_column(&os, NameStr(att->attname), ov, onull, att->atttypid);
		push_column(&ns, NameStr(att->attname), nv, nnull, att->atttypid);
		changed++;
	}
	if (changed == 0)
		return false;
	o = pushJsonbValue(&os, WJB_END_OBJECT, NULL);
	n = pushJsonbValue(&ns, WJB_END_OBJECT, NULL);
	*oldjson = JsonbPGetDatum(JsonbValueToJsonb(o));
	*newjson = JsonbPGetDatum(JsonbValueToJsonb(n));
	return true;
}

/* The primary key's values of tup, or NULL without a primary key. */
static Datum
row_key(Relation rel, HeapTuple tup, bool *isnull)
{
	Bitmapset  *pk = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_PRIMARY_KEY);
	Bitmapset  *cols = NULL;
	int			x = -1;

	if (pk == NULL)
	{
		*isnull = true;
		return (Datum) 0;
	}
	while ((x = bms_next_member(pk, x)) >= 0)
		cols = bms_add_member(cols, x + FirstLowInvalidHeapAttributeNumber);
	return row_jsonb(rel, tup, NULL, cols, isnull);
}

/* ---------- writing the log ---------- */

/* pg_namespace changed (CREATE/DROP EXTENSION): look the log up again. */
static void
audit_ids_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	log_relid = InvalidOid;
}

/* The OIDs of audit_log and its sequence. */
static void
audit_ids(void)
{
	Oid			nsp;

	if (OidIsValid(log_relid))
		return;
	if (!ids_callback)
	{
		CacheRegisterSyscacheCallback(NAMESPACEOID, audit_ids_inval, (Datum) 0);
		ids_callback = true;
	}
	nsp = get_namespace_oid(SG_SCHEMA, true);
	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid(SG_AUDIT_LOG, nsp)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("schemaguard.audit_log does not exist in this database"),
				 errhint("CREATE EXTENSION schemaguard, or drop the trigger.")));
	log_seqid = get_relname_relid(SG_AUDIT_SEQ, nsp);
	log_relid = get_relname_relid(SG_AUDIT_LOG, nsp);
}

/* An open audit_log, ready to take rows: one per trigger call. */
#define SG_AUDIT_BATCH	64

typedef struct LogWriter
{
	Relation	log;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	CommandId	cid;
	/* rows waiting for one table_multi_insert() */
	TupleTableSlot *batch[SG_AUDIT_BATCH];
	int			nbatch;
	int			nslots;
	MemoryContext batchcxt;
} LogWriter;

static void
writer_open(LogWriter *w)
{
	audit_ids();
	w->log = table_open(log_relid, RowExclusiveLock);
	w->estate = CreateExecutorState();
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, w->log, 1, NULL, 0);
	ExecOpenIndices(w->rri, false);
	w->slot = ExecInitExtraTupleSlot(w->estate, RelationGetDescr(w->log), &TTSOpsHeapTuple);
	w->cid = GetCurrentCommandId(true);
	w->nbatch = w->nslots = 0;
	w->batchcxt = AllocSetContextCreate(CurrentMemoryContext, "schemaguard audit batch",
										ALLOCSET_DEFAULT_SIZES);
}

/* Write the batched rows: one multi-insert into the heap, then the indexes. */
static void
writer_flush(LogWriter *w)
{
	if (w->nbatch == 0)
		return;
	table_multi_insert(w->log, w->batch, w->nbatch, w->cid, 0, NULL);
	for (int i = 0; i < w->nbatch; i++)
	{
		sg_insert_index_tuples(w->rri, w->batch[i], w->estate);
		ExecClearTuple(w->batch[i]);
		ResetPerTupleExprContext(w->estate);
	}
	w->nbatch = 0;
	MemoryContextReset(w->batchcxt);
}

/* Queue one row; written by writer_flush() (every SG_AUDIT_BATCH rows, and at close). */
static void
writer_add(LogWriter *w, Datum *values, bool *nulls)
{
	MemoryContext old = MemoryContextSwitchTo(w->batchcxt);
	HeapTuple	tup;

	if (w->nbatch == w->nslots)
	{
		MemoryContext o2 = MemoryContextSwitchTo(w->estate->es_query_cxt);

		w->batch[w->nslots++] = ExecInitExtraTupleSlot(w->estate, RelationGetDescr(w->log),
													   &TTSOpsHeapTuple);
		MemoryContextSwitchTo(o2);
	}
	values[0] = Int64GetDatum(nextval_internal(log_seqid, false));
	nulls[0] = false;
	tup = heap_form_tuple(RelationGetDescr(w->log), values, nulls);
	ExecStoreHeapTuple(tup, w->batch[w->nbatch++], false);
	MemoryContextSwitchTo(old);
	if (w->nbatch == SG_AUDIT_BATCH)
		writer_flush(w);
}

/* Insert one row, heap and indexes, as the executor would. */
static void
writer_put(LogWriter *w, Datum *values, bool *nulls)
{
	HeapTuple	tup;

	values[0] = Int64GetDatum(nextval_internal(log_seqid, false));
	nulls[0] = false;
	tup = heap_form_tuple(RelationGetDescr(w->log), values, nulls);
	ExecStoreHeapTuple(tup, w->slot, true);
	table_tuple_insert(w->log, w->slot, w->cid, 0, NULL);
	sg_insert_index_tuples(w->rri, w->slot, w->estate);
	ExecClearTuple(w->slot);
	ResetPerTupleExprContext(w->estate);
}

static void
writer_close(LogWriter *w)
{
	writer_flush(w);
	MemoryContextDelete(w->batchcxt);
	ExecCloseIndices(w->rri);
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	FreeExecutorState(w->estate);
	table_close(w->log, NoLock);
}

/* Insert one row into audit_log. */
static void
log_insert(Datum *values, bool *nulls)
{
	LogWriter	w;

	writer_open(&w);
	writer_put(&w, values, nulls);
	writer_close(&w);
}

/* The table a row is logged under: a partition's root. */
static Oid
logged_table(Relation rel)
{
	if (rel->rd_rel->relispartition)
	{
		List	   *ancestors = get_partition_ancestors(RelationGetRelid(rel));

		if (ancestors != NIL)
			return llast_oid(ancestors);
	}
	return RelationGetRelid(rel);
}

/* Fill the columns every log row has; op and the row images are the caller's. */
static void
log_common(Datum *values, bool *nulls, Oid relid, const char *op)
{
	const char *tenant = GetConfigOption("schemaguard.tenant", true, false);
	char	   *nsp = get_namespace_name(get_rel_namespace(relid));
	char	   *name = get_rel_name(relid);

	memset(nulls, 0, sizeof(bool) * SG_AUDIT_NCOLS);
	values[1] = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
	values[2] = FullTransactionIdGetDatum(GetTopFullTransactionId());
	values[3] = ObjectIdGetDatum(relid);
	values[4] = CStringGetTextDatum(nsp ? nsp : "?");
	values[5] = CStringGetTextDatum(name ? name : "?");
	values[6] = CStringGetTextDatum(op);
	nulls[7] = nulls[8] = nulls[9] = true;	/* row_key, old, new */
	if (tenant && tenant[0])
		values[10] = CStringGetTextDatum(tenant);
	else
		nulls[10] = true;
	values[11] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	values[12] = CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false));
	if (application_name && application_name[0])
		values[13] = CStringGetTextDatum(application_name);
	else
		nulls[13] = true;
}

/*
 * One statement's changes, from its transition tables: a log row per row,
 * written through one open log.  Per-row memory is reset as it goes, so a
 * large statement does not grow.
 */
static void
audit_statement(TriggerData *td)
{
	Relation	rel = td->tg_relation;
	TupleDesc	desc = RelationGetDescr(rel);
	Bitmapset  *cols = included_columns(rel, td->tg_trigger);
	Tuplestorestate *olds = td->tg_oldtable;
	Tuplestorestate *news = td->tg_newtable;
	TupleTableSlot *oslot = olds ? MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple) : NULL;
	TupleTableSlot *nslot = news ? MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple) : NULL;
	const char *op = TRIGGER_FIRED_BY_INSERT(td->tg_event) ? "INSERT" :
		TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? "UPDATE" : "DELETE";
	Datum		base[SG_AUDIT_NCOLS];
	bool		basenulls[SG_AUDIT_NCOLS];
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "schemaguard audit row",
												 ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	LogWriter	w;
	bool		opened = false;

	if ((TRIGGER_FIRED_BY_INSERT(td->tg_event) && news == NULL) ||
		(TRIGGER_FIRED_BY_DELETE(td->tg_event) && olds == NULL) ||
		(TRIGGER_FIRED_BY_UPDATE(td->tg_event) && (olds == NULL || news == NULL)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("schemaguard audit statement trigger has no transition table"),
				 errhint("Recreate it with SELECT schemaguard.enable_audit('%s');",
						 RelationGetRelationName(rel))));

	log_common(base, basenulls, logged_table(rel), op);
	if (olds)
		tuplestore_rescan(olds);
	if (news)
		tuplestore_rescan(news);
	for (;;)
	{
		bool		haveo = olds && tuplestore_gettupleslot(olds, true, false, oslot);
		bool		haven = news && tuplestore_gettupleslot(news, true, false, nslot);
		HeapTuple	ot;
		HeapTuple	nt;
		Datum		values[SG_AUDIT_NCOLS];
		bool		nulls[SG_AUDIT_NCOLS];

		if (!haveo && !haven)
			break;
		old = MemoryContextSwitchTo(rowcxt);
		memcpy(values, base, sizeof(values));
		memcpy(nulls, basenulls, sizeof(nulls));
		ot = haveo ? ExecFetchSlotHeapTuple(oslot, false, NULL) : NULL;
		nt = haven ? ExecFetchSlotHeapTuple(nslot, false, NULL) : NULL;
		if (ot && nt)
		{
			if (!update_images(rel, ot, nt, cols, &values[8], &values[9]))
			{
				MemoryContextSwitchTo(old);
				MemoryContextReset(rowcxt);
				continue;		/* nothing included changed */
			}
			nulls[8] = nulls[9] = false;
		}
		else if (nt)
			values[9] = row_jsonb(rel, nt, NULL, cols, &nulls[9]);
		else
			values[8] = row_jsonb(rel, ot, NULL, cols, &nulls[8]);
		values[7] = row_key(rel, ot ? ot : nt, &nulls[7]);
		MemoryContextSwitchTo(old);
		if (!opened)
		{
			writer_open(&w);
			opened = true;
		}
		writer_add(&w, values, nulls);
		MemoryContextReset(rowcxt);
	}
	if (opened)
		writer_close(&w);
	if (oslot)
		ExecDropSingleTupleTableSlot(oslot);
	if (nslot)
		ExecDropSingleTupleTableSlot(nslot);
	MemoryContextDelete(rowcxt);
}

/*
 * The audit trigger.  enable_audit() attaches it as AFTER INSERT, UPDATE and
 * DELETE statement triggers with transition tables, and an AFTER TRUNCATE
 * statement trigger; it also works as an AFTER ROW trigger.  Arguments: the
 * excluded columns.
 */
Datum
sg_audit_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	Datum		values[SG_AUDIT_NCOLS];
	bool		nulls[SG_AUDIT_NCOLS];
	Bitmapset  *cols;
	HeapTuple	key_tuple;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("schemaguard audit must be called as an AFTER trigger")));
	rel = td->tg_relation;

	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
	{
		log_common(values, nulls, logged_table(rel), "TRUNCATE");
		log_insert(values, nulls);
		return PointerGetDatum(NULL);
	}
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event))
	{
		audit_statement(td);
		return PointerGetDatum(NULL);
	}

	cols = included_columns(rel, td->tg_trigger);
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		log_common(values, nulls, logged_table(rel), "INSERT");
		values[9] = row_jsonb(rel, td->tg_trigtuple, NULL, cols, &nulls[9]);
		key_tuple = td->tg_trigtuple;
	}
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		log_common(values, nulls, logged_table(rel), "DELETE");
		values[8] = row_jsonb(rel, td->tg_trigtuple, NULL, cols, &nulls[8]);
		key_tuple = td->tg_trigtuple;
	}
	else
	{
		Datum		oldjson,
					newjson;

		/* Only what changed; nothing at all when no included column did. */
		if (!update_images(rel, td->tg_trigtuple, td->tg_newtuple, cols, &oldjson, &newjson))
			return PointerGetDatum(NULL);
		log_common(values, nulls, logged_table(rel), "UPDATE");
		values[8] = oldjson;
		values[9] = newjson;
		nulls[8] = nulls[9] = false;
		key_tuple = td->tg_trigtuple;
	}
	values[7] = row_key(rel, key_tuple, &nulls[7]);
	log_insert(values, nulls);
	return PointerGetDatum(NULL);
}

/*
 * Statement trigger on audit_log: only the audit trigger (which does not go
 * through the executor), superusers and purge_audit() may change the log.
 */
Datum
sg_audit_log_protect(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function must be called as a trigger")));
	if (purging || superuser())
		return PointerGetDatum(NULL);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("schemaguard.audit_log is append-only"),
			 errdetail("%s on the audit log is refused for every role but superusers, its owner included.",
					   TRIGGER_FIRED_BY_INSERT(td->tg_event) ? "INSERT" :
					   TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? "UPDATE" :
					   TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "DELETE" : "TRUNCATE"),
			 errhint("Rows are written by the audit trigger only; remove old ones with schemaguard.purge_audit(interval).")));
	return PointerGetDatum(NULL);
}

/*
 * purge_audit(older_than): delete log rows older than that, and record the
 * purge in the log itself.  Returns the number of rows deleted.
 */
Datum
sg_purge_audit(PG_FUNCTION_ARGS)
{
	Interval   *older;
	Oid			argtypes[1] = {INTERVALOID};
	Datum		args[1];
	uint64		deleted = 0;
	Datum		values[SG_AUDIT_NCOLS];
	bool		nulls[SG_AUDIT_NCOLS];
	char	   *summary;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("older_than must not be NULL")));
	older = PG_GETARG_INTERVAL_P(0);
	if (older->month < 0 || older->day < 0 || older->time < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("older_than must not be negative")));
	args[0] = IntervalPGetDatum(older);

	SPI_connect();
	purging = true;
	PG_TRY();
	{
		if (SPI_execute_with_args("DELETE FROM schemaguard.audit_log WHERE at < pg_catalog.now() - $1",
								  1, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not purge schemaguard.audit_log");
		deleted = SPI_processed;
	}
	PG_FINALLY();
	{
		purging = false;
	}
	PG_END_TRY();
	SPI_finish();

	/* The purge itself is recorded. */
	audit_ids();
	log_common(values, nulls, log_relid, "PURGE");
	summary = psprintf("{\"older_than\": \"%s\", \"deleted\": " UINT64_FORMAT "}",
					   DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(older))),
					   deleted);
	values[9] = DirectFunctionCall1(jsonb_in, CStringGetDatum(summary));
	nulls[9] = false;
	log_insert(values, nulls);
	ereport(LOG,
			(errmsg("schemaguard: role \"%s\" purged " UINT64_FORMAT " audit log rows older than %s",
					GetUserNameFromId(GetOuterUserId(), false), deleted,
					DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(older))))));
	PG_RETURN_INT64((int64) deleted);
}

/* ---------- created_at / updated_at / updated_by ---------- */

/* Set column attnum (if any) of tup to value, converted to its type. */
static HeapTuple
set_column(Relation rel, HeapTuple tup, int attnum, Datum ts, const char *who, bool only_if_null)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Form_pg_attribute att;
	Datum		value;
	bool		isnull = false;

	if (attnum <= 0)
		return tup;
	att = TupleDescAttr(desc, attnum - 1);
	if (only_if_null)
	{
		bool		null;

		(void) heap_getattr(tup, attnum, desc, &null);
		if (!null)
			return tup;
	}
	if (who != NULL)
		value = att->atttypid == NAMEOID ? DirectFunctionCall1(namein, CStringGetDatum(who)) :
			CStringGetTextDatum(who);
	else if (att->atttypid == TIMESTAMPOID)
		value = DirectFunctionCall1(timestamptz_timestamp, ts);
	else
		value = ts;
	return heap_modify_tuple_by_cols(tup, desc, 1, &attnum, &value, &isnull);
}

/*
 * BEFORE INSERT OR UPDATE FOR EACH ROW.  Arguments: created_at, updated_at
 * and updated_by column names ('' for none).
 */
Datum
sg_timestamps_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	Trigger    *tg;
	HeapTuple	tup;
	Datum		now = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
	int			created,
				updated,
				by;
	char	   *user = GetUserNameFromId(GetUserId(), false);

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || td->tg_trigger->tgnargs != 3)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("schemaguard timestamps must be a BEFORE ROW trigger made by enable_timestamps()")));
	rel = td->tg_relation;
	tg = td->tg_trigger;
	created = tg->tgargs[0][0] ? get_attnum(RelationGetRelid(rel), tg->tgargs[0]) : 0;
	updated = tg->tgargs[1][0] ? get_attnum(RelationGetRelid(rel), tg->tgargs[1]) : 0;
	by = tg->tgargs[2][0] ? get_attnum(RelationGetRelid(rel), tg->tgargs[2]) : 0;

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		tup = td->tg_trigtuple;
		tup = set_column(rel, tup, created, now, NULL, true);
		tup = set_column(rel, tup, updated, now, NULL, true);
		tup = set_column(rel, tup, by, now, user, true);
	}
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		tup = td->tg_newtuple;
		tup = set_column(rel, tup, updated, now, NULL, false);
		tup = set_column(rel, tup, by, now, user, false);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("schemaguard timestamps fire on INSERT and UPDATE only")));
	return PointerGetDatum(tup);
}

/* ---------- enable_audit(), enable_timestamps() ---------- */

/* A table that may carry our triggers: plain or partitioned, not a catalog. */
static void
check_trigger_target(Oid relid, const char *what)
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

/* Run one statement through SPI (and so through the guard). */
static void
run_ddl(const char *sql)
{
	if (SPI_execute(sql, false, 0) < 0)
		elog(ERROR, "schemaguard: could not run \"%s\"", sql);
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

/*
 * enable_audit(target, exclude_columns): create (or replace) the audit
 * triggers.  Calling it again updates the exclusions.
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
	char	   *qual;
	char	   *args;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", PG_ARGISNULL(0) ? "target" : "exclude_columns"),
				 errhint("Pass '{}' to exclude no column.")));
	relid = PG_GETARG_OID(0);
	check_trigger_target(relid, "enable_audit()");
	arr = PG_GETARG_ARRAYTYPE_P(1);
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
	qual = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));

	args = literal_list(names);
	SPI_connect();
	run_ddl(psprintf("CREATE OR REPLACE TRIGGER schemaguard_audit_insert AFTER INSERT ON %s "
					 "REFERENCING NEW TABLE AS sg_new "
					 "FOR EACH STATEMENT EXECUTE FUNCTION %s._audit(%s)", qual, SG_SCHEMA, args));
	run_ddl(psprintf("CREATE OR REPLACE TRIGGER schemaguard_audit_update AFTER UPDATE ON %s "
					 "REFERENCING OLD TABLE AS sg_old NEW TABLE AS sg_new "
					 "FOR EACH STATEMENT EXECUTE FUNCTION %s._audit(%s)", qual, SG_SCHEMA, args));
	run_ddl(psprintf("CREATE OR REPLACE TRIGGER schemaguard_audit_delete AFTER DELETE ON %s "
					 "REFERENCING OLD TABLE AS sg_old "
					 "FOR EACH STATEMENT EXECUTE FUNCTION %s._audit(%s)", qual, SG_SCHEMA, args));
	run_ddl(psprintf("CREATE OR REPLACE TRIGGER schemaguard_audit_truncate AFTER TRUNCATE ON %s "
					 "FOR EACH STATEMENT EXECUTE FUNCTION %s._audit()", qual, SG_SCHEMA));
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * enable_timestamps(target, created_at, updated_at, updated_by): the BEFORE
 * trigger that maintains them.  Columns must exist with the right types.
 */
Datum
sg_enable_timestamps(PG_FUNCTION_ARGS)
{
	Oid			relid;
	const char *cols[3] = {"", "", ""};
	const char *role[3] = {"created_at", "updated_at", "updated_by"};
	char	   *qual;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("target must not be NULL")));
	relid = PG_GETARG_OID(0);
	check_trigger_target(relid, "enable_timestamps()");
	for (int i = 0; i < 3; i++)
	{
		AttrNumber	att;
		Oid			typid;

		if (PG_ARGISNULL(i + 1))
			continue;
		cols[i] = pstrdup(NameStr(*PG_GETARG_NAME(i + 1)));
		att = get_attnum(relid, cols[i]);
		if (att <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist", cols[i], get_rel_name(relid)),
					 errhint("Add it, or pass %s => NULL.", role[i])));
		typid = get_atttype(relid, att);
		if (i < 2 && typid != TIMESTAMPTZOID && typid != TIMESTAMPOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of relation \"%s\" is of type %s", cols[i], get_rel_name(relid),
							format_type_be(typid)),
					 errdetail("%s must be timestamptz or timestamp.", role[i])));
		if (i == 2 && typid != TEXTOID && typid != VARCHAROID && typid != NAMEOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of relation \"%s\" is of type %s", cols[i], get_rel_name(relid),
							format_type_be(typid)),
					 errdetail("updated_by must be text, varchar or name.")));
	}
	qual = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
	SPI_connect();
	run_ddl(psprintf("CREATE OR REPLACE TRIGGER schemaguard_timestamps BEFORE INSERT OR UPDATE ON %s "
					 "FOR EACH ROW EXECUTE FUNCTION %s._timestamps(%s, %s, %s)", qual, SG_SCHEMA,
					 quote_literal_cstr(cols[0]), quote_literal_cstr(cols[1]), quote_literal_cstr(cols[2])));
	SPI_finish();
	PG_RETURN_VOID();
}
