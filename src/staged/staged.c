/*-------------------------------------------------------------------------
 *
 * staged.c
 *		Staged drops, the SQL functions: stage_drop(), unstage_drop(), the
 *		staged_drops view and the trigger that keeps drop_stages honest.
 *
 * What they write is read by staged_usage.c: the staged set, the usage
 * evidence and the state each staged object is in.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "postmaster/postmaster.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "utils/tuplestore.h"
#include "compat.h"
#include "schemaguard.h"

#define SG_STAGES_TABLE		"drop_stages"

PG_FUNCTION_INFO_V1(sg_stage_drop);
PG_FUNCTION_INFO_V1(sg_unstage_drop);
PG_FUNCTION_INFO_V1(sg_staged_drops);
PG_FUNCTION_INFO_V1(sg_stage_row);

/* Resolve (target, column_name) for stage_drop()/unstage_drop(). */
static int
stage_target(FunctionCallInfo fcinfo, Oid *relid)
{
	int			attnum = 0;

	if (!PG_ARGISNULL(1))
	{
		*relid = sg_target_arg(fcinfo, 0, "rp", "a table",
							   "Only a column of a table can be staged for dropping.", NULL);
		attnum = sg_column_arg(*relid, NameStr(*PG_GETARG_NAME(1)));
	}
	else
		*relid = sg_target_arg(fcinfo, 0, "rpm", "a table or materialized view",
							   "stage_drop() stages tables, materialized views and columns of tables.",
							   NULL);
	if (!sg_class_ownercheck(*relid, GetOuterUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of relation %s", get_rel_name(*relid)),
				 errdetail("Only the owner, who may drop it, may stage or unstage it.")));
	return attnum;
}

/*
 * Run one statement on drop_stages with parameters (relid, attnum, attname,
 * reason, staged_by); returns the rows it touched, and in *first the first
 * column of the first row it returned (a boolean), if any.
 */
static uint64
stages_write(const char *sql, Oid relid, int attnum, const char *attname, const char *reason,
			 bool *first)
{
	int			spi_level;
	Oid			argtypes[5] = {OIDOID, INT2OID, NAMEOID, TEXTOID, NAMEOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	NameData	an,
				by;
	int			rc;
	uint64		n;

	values[0] = ObjectIdGetDatum(relid);
	values[1] = Int16GetDatum(attnum);
	if (attname)
		namestrcpy(&an, attname);
	else
		nulls[2] = 'n';
	values[2] = NameGetDatum(&an);
	if (reason)
		values[3] = CStringGetTextDatum(reason);
	else
		nulls[3] = 'n';
	namestrcpy(&by, GetUserNameFromId(GetOuterUserId(), false));
	values[4] = NameGetDatum(&by);

	spi_level = sg_spi_connect();
	rc = SPI_execute_with_args(sql, 5, argtypes, values, nulls, false, 0);
	if (rc < 0)
		elog(ERROR, "could not update schemaguard.drop_stages: %s", SPI_result_code_string(rc));
	n = SPI_processed;
	if (first && n > 0 && SPI_tuptable != NULL)
	{
		bool		isnull;

		*first = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	sg_spi_finish(spi_level);
	return n;
}

/*
 * stage_drop(target, column_name, reason): mark a table, materialized view
 * or column for dropping.  Idempotent: staging it again keeps the first
 * staging time (the waiting period does not restart) and updates the reason.
 */
Datum
sg_stage_drop(PG_FUNCTION_ARGS)
{
	Oid			relid;
	int			attnum = stage_target(fcinfo, &relid);
	char	   *reason = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	const char *attname = attnum > 0 ? get_attname(relid, attnum, false) : NULL;
	bool		inserted = false;

	if (reason && strlen(reason) > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("stage_drop() reason is too long"),
				 errdetail("The reason has %zu bytes; the limit is 1000.", strlen(reason))));
	(void) stages_write("INSERT INTO schemaguard.drop_stages AS s "
						"(relid, attnum, attname, reason, staged_by) VALUES ($1, $2, $3, $4, $5) "
						"ON CONFLICT (relid, attnum) DO UPDATE SET attname = excluded.attname, "
						"reason = coalesce(excluded.reason, s.reason) "
						"RETURNING (s.xmax = 0)", relid, attnum, attname, reason, &inserted);
	/* A fresh staging starts a fresh record of use. */
	if (inserted)
		sg_usage_forget(relid, attnum);
	ereport(LOG,
			(errmsg("schemaguard: role \"%s\" staged %s%s%s for dropping%s%s",
					GetUserNameFromId(GetOuterUserId(), false), get_rel_name(relid),
					attname ? "." : "", attname ? attname : "",
					reason ? ": " : "", reason ? reason : "")));
	PG_RETURN_VOID();
}

/* unstage_drop(target, column_name): remove the mark.  Idempotent. */
Datum
sg_unstage_drop(PG_FUNCTION_ARGS)
{
	Oid			relid;
	int			attnum = stage_target(fcinfo, &relid);

	if (stages_write("DELETE FROM schemaguard.drop_stages WHERE relid = $1 AND attnum = $2",
					 relid, attnum, NULL, NULL, NULL) > 0)
		sg_usage_forget(relid, attnum);
	PG_RETURN_VOID();
}


/*
 * _staged_drops(): the rows of the staged_drops view, with the counters of
 * shared memory and the state the rule would judge.
 */
Datum
sg_staged_drops(PG_FUNCTION_ARGS)
{
	int			spi_level;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext caller = CurrentMemoryContext;
	List	   *rows = NIL;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);

	spi_level = sg_spi_connect();
	if (SPI_execute("SELECT s.relid::oid, s.attnum, s.staged_at, s.staged_by::text, s.reason, "
					"s.xmin::text::bigint FROM schemaguard.drop_stages s "
					"JOIN pg_catalog.pg_class c ON c.oid = s.relid "
					"WHERE s.attnum = 0 OR EXISTS (SELECT FROM pg_catalog.pg_attribute a "
					"WHERE a.attrelid = s.relid AND a.attnum = s.attnum AND NOT a.attisdropped) "
					"ORDER BY s.staged_at, s.relid::regclass::text, s.attnum",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read schemaguard.drop_stages");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(caller);
		SgStagedFacts *sf = palloc0(sizeof(SgStagedFacts));
		bool		isnull;
		char	   *by = SPI_getvalue(t, d, 4);
		char	   *reason = SPI_getvalue(t, d, 5);

		sf->relid = DatumGetObjectId(SPI_getbinval(t, d, 1, &isnull));
		sf->attnum = DatumGetInt16(SPI_getbinval(t, d, 2, &isnull));
		sf->staged = true;
		sf->staged_at = DatumGetTimestampTz(SPI_getbinval(t, d, 3, &isnull));
		sf->staged_by = by ? pstrdup(by) : NULL;
		sf->reason = reason ? pstrdup(reason) : NULL;
		sf->this_xact = TransactionIdIsCurrentTransactionId(
			(TransactionId) DatumGetInt64(SPI_getbinval(t, d, 6, &isnull)));
		rows = lappend(rows, sf);
		MemoryContextSwitchTo(old);
	}
	sg_spi_finish(spi_level);

	foreach(lc, rows)
	{
		SgStagedFacts *sf = lfirst(lc);
		Datum		values[11];
		bool		nulls[11];
		NameData   *column = palloc0(sizeof(NameData));
		NameData   *by = palloc0(sizeof(NameData));

		memset(nulls, 0, sizeof(nulls));
		sg_read_usage(sf->relid, sf->attnum, sf);
		sg_stage_state(sf);
		values[0] = ObjectIdGetDatum(sf->relid);
		if (sf->attnum > 0)
			namestrcpy(column, get_attname(sf->relid, sf->attnum, false));
		else
			nulls[1] = true;
		values[1] = NameGetDatum(column);
		values[2] = TimestampTzGetDatum(sf->staged_at);
		namestrcpy(by, sf->staged_by ? sf->staged_by : "");
		values[3] = NameGetDatum(by);
		if (sf->reason)
			values[4] = CStringGetTextDatum(sf->reason);
		else
			nulls[4] = true;
		if (sf->uses_lost)
		{
			values[5] = TimestampTzGetDatum(sf->last_used);
			values[7] = CStringGetTextDatum("unknown: a use went unrecorded (the usage table was full)");
		}
		else if (sf->use_count > 0)
		{
			values[5] = TimestampTzGetDatum(sf->last_used);
			values[7] = CStringGetTextDatum(psprintf("%s (application_name %s)",
													 GetUserNameFromId(sf->last_role, true),
													 sf->last_app[0] ? sf->last_app : "''"));
		}
		else
			nulls[5] = nulls[7] = true;
		values[6] = Int64GetDatum(sf->use_count);
		if (sf->tracked)
		{
			values[8] = TimestampTzGetDatum(sf->tracking_since);
			values[9] = TimestampTzGetDatum(sf->droppable_at);
		}
		else
			nulls[8] = nulls[9] = true;
		values[10] = CStringGetTextDatum(sg_staged_state_name(sf->state));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * BEFORE INSERT trigger on drop_stages: a row restored by pg_restore names
 * its column; if the column's number changed (dropped columns are not
 * dumped), follow the name.
 */
Datum
sg_stage_row(PG_FUNCTION_ARGS)
{
	static const char *const tables[] = {"drop_stages", NULL};
	TriggerData *trigdata = sg_own_trigger_data(fcinfo, "_stage_row", tables,
												true, TRIGGER_TYPE_BEFORE);
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	Datum		relid,
				attnum,
				attname;
	int			current;

	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("schemaguard._stage_row() fires on INSERT only")));
	tup = trigdata->tg_trigtuple;
	desc = RelationGetDescr(trigdata->tg_relation);
	relid = heap_getattr(tup, 1, desc, &isnull);
	attnum = heap_getattr(tup, 2, desc, &isnull);
	attname = heap_getattr(tup, 3, desc, &isnull);
	if (isnull || DatumGetInt16(attnum) <= 0)
		return PointerGetDatum(tup);
	current = get_attnum(DatumGetObjectId(relid), NameStr(*DatumGetName(attname)));
	if (current > 0 && current != DatumGetInt16(attnum))
	{
		int			col = 2;
		Datum		v = Int16GetDatum(current);
		bool		n = false;

		tup = heap_modify_tuple_by_cols(tup, desc, 1, &col, &v, &n);
	}
	return PointerGetDatum(tup);
}
