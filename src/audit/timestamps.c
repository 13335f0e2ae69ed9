/*-------------------------------------------------------------------------
 *
 * timestamps.c
 *		The created_at/updated_at/updated_by trigger, and
 *		enable_timestamps() that attaches it.
 *
 * A C BEFORE ROW trigger: on INSERT it fills created_at and updated_at
 * when NULL; on UPDATE it sets updated_at to the statement timestamp and
 * updated_by to current_user.  It checks its arguments and the columns'
 * types again in every statement that fires it: whoever may execute it
 * can attach it by hand, with any arguments.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "audit.h"
#include "compat.h"
#include "schemaguard.h"

PG_FUNCTION_INFO_V1(sg_timestamps_trigger);
PG_FUNCTION_INFO_V1(sg_enable_timestamps);

/* The roles of enable_timestamps()'s three columns, in trigger argument order. */
static const char *const ts_role[3] = {"created_at", "updated_at", "updated_by"};

/*
 * Is a column of this type (and typmod) one that timestamp role i may be
 * written into?  created_at and updated_at: timestamptz or timestamp;
 * updated_by: text, varchar (of any length: the value is checked against
 * it when written) or name.  Domains are refused: their constraints would
 * not be checked for a value a trigger writes.
 */
static bool
ts_type_ok(int i, Oid typid)
{
	if (i < 2)
		return typid == TIMESTAMPTZOID || typid == TIMESTAMPOID;
	return typid == TEXTOID || typid == VARCHAROID || typid == NAMEOID;
}

/*
 * The column that argument i of a timestamps trigger names, checked as
 * enable_timestamps() checks it: 0 for '' (none); otherwise an existing,
 * not generated user column of a type ts_type_ok() accepts.  The trigger
 * checks on every call, since anyone with EXECUTE can attach it by hand.
 */
static AttrNumber
ts_column(Relation rel, int i, const char *name)
{
	TupleDesc	desc = RelationGetDescr(rel);
	AttrNumber	attnum;
	Form_pg_attribute att;

	if (name[0] == '\0')
		return 0;
	attnum = get_attnum(RelationGetRelid(rel), name);
	if (attnum <= 0 || attnum > desc->natts)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist", name,
						RelationGetRelationName(rel)),
				 errdetail("The schemaguard timestamps trigger names it as %s.", ts_role[i]),
				 errhint("Recreate the trigger with schemaguard.enable_timestamps().")));
	att = TupleDescAttr(desc, attnum - 1);
	if (att->attgenerated)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_COLUMN_DEFINITION),
				 errmsg("column \"%s\" of relation \"%s\" is a generated column", name,
						RelationGetRelationName(rel)),
				 errdetail("%s is written by the schemaguard timestamps trigger.", ts_role[i])));
	if (!ts_type_ok(i, att->atttypid))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of relation \"%s\" is of type %s", name,
						RelationGetRelationName(rel), format_type_be(att->atttypid)),
				 errdetail(i < 2 ? "%s must be timestamptz or timestamp." :
						   "%s must be text, varchar or name.", ts_role[i])));
	return attnum;
}

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
	if (who != NULL && att->atttypid == NAMEOID)
		value = DirectFunctionCall1(namein, CStringGetDatum(who));
	else if (who != NULL && att->atttypid == VARCHAROID)
		/* varchar(n): a longer role name is an error, as an INSERT's would be */
		value = DirectFunctionCall3(varchar, CStringGetTextDatum(who),
									Int32GetDatum(att->atttypmod), BoolGetDatum(false));
	else if (who != NULL)
		value = CStringGetTextDatum(who);
	else if (att->atttypid == TIMESTAMPOID)
		value = DirectFunctionCall1(timestamptz_timestamp, ts);
	else
		value = ts;
	return heap_modify_tuple_by_cols(tup, desc, 1, &attnum, &value, &isnull);
}

/* A timestamps trigger's checked columns, kept in its FmgrInfo (fn_extra). */
typedef struct TsColumns
{
	Oid			tgoid;
	Oid			relid;
	AttrNumber	col[3];
} TsColumns;

/*
 * BEFORE INSERT OR UPDATE FOR EACH ROW.  Arguments: created_at, updated_at
 * and updated_by column names ('' for none).  Every argument and column is
 * checked when it fires (once per statement and table): the trigger may have
 * been attached by hand.
 */
Datum
sg_timestamps_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sg_trigger_data(fcinfo);
	Relation	rel = td->tg_relation;
	Trigger    *tg = td->tg_trigger;
	HeapTuple	tup;
	Datum		now = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
	TsColumns  *cached = (TsColumns *) fcinfo->flinfo->fn_extra;
	AttrNumber *col;
	char	   *user;

	/*
	 * Checked once per statement and table: the trigger's FmgrInfo lives as
	 * long as the statement, during which the table (locked) cannot change.
	 */
	if (cached == NULL || cached->tgoid != tg->tgoid || cached->relid != RelationGetRelid(rel))
	{
		if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
			tg->tgnargs != 3)
			ereport(ERROR,
					(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
					 errmsg("schemaguard timestamps must be a BEFORE ROW trigger made by enable_timestamps()"),
					 errdetail("Trigger \"%s\" on \"%s\" fires %s with %d arguments.", tg->tgname,
							   RelationGetRelationName(rel),
							   TRIGGER_FIRED_FOR_ROW(td->tg_event) ? "for each row" : "for each statement",
							   tg->tgnargs),
					 errhint("Recreate it with SELECT schemaguard.enable_timestamps('%s');",
							 RelationGetRelationName(rel))));
		cached = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(TsColumns));
		for (int i = 0; i < 3; i++)
			cached->col[i] = ts_column(rel, i, tg->tgargs[i]);
		cached->tgoid = tg->tgoid;
		cached->relid = RelationGetRelid(rel);
		fcinfo->flinfo->fn_extra = cached;
	}
	col = cached->col;
	user = GetUserNameFromId(GetUserId(), false);

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		tup = td->tg_trigtuple;
		tup = set_column(rel, tup, col[0], now, NULL, true);
		tup = set_column(rel, tup, col[1], now, NULL, true);
		tup = set_column(rel, tup, col[2], now, user, true);
	}
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		tup = td->tg_newtuple;
		tup = set_column(rel, tup, col[1], now, NULL, false);
		tup = set_column(rel, tup, col[2], now, user, false);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("schemaguard timestamps fire on INSERT and UPDATE only")));
	return PointerGetDatum(tup);
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
	Relation	rel;
	char	   *qual;

	sg_require_arg(fcinfo, 0, "target");
	relid = PG_GETARG_OID(0);
	sg_check_trigger_target(relid, "enable_timestamps()");
	sg_refuse_citus_table(relid, "enable_timestamps()");
	sg_check_table_owner(relid);
	rel = table_open(relid, AccessShareLock);
	for (int i = 0; i < 3; i++)
	{
		if (PG_ARGISNULL(i + 1))
			continue;
		cols[i] = pstrdup(NameStr(*PG_GETARG_NAME(i + 1)));
		if (cols[i][0] == '\0' || get_attnum(relid, cols[i]) <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist", cols[i], get_rel_name(relid)),
					 errhint("Add it, or pass %s => NULL.", ts_role[i])));
		(void) ts_column(rel, i, cols[i]);
	}
	table_close(rel, AccessShareLock);
	qual = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
	sg_lock_for_own_ddl(list_make1_oid(relid), ShareRowExclusiveLock, "enable_timestamps()");
	sg_run_as_owner(list_make1(psprintf("CREATE OR REPLACE TRIGGER schemaguard_timestamps BEFORE INSERT OR UPDATE ON %s "
										"FOR EACH ROW EXECUTE FUNCTION %s._timestamps(%s, %s, %s)", qual, SG_SCHEMA,
										quote_literal_cstr(cols[0]), quote_literal_cstr(cols[1]),
										quote_literal_cstr(cols[2]))));
	PG_RETURN_VOID();
}
