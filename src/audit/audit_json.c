/*-------------------------------------------------------------------------
 *
 * audit_json.c
 *		The JSON text of an audited row: how each column is written, and the
 *		old and new values of an UPDATE, column by column.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
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
#include "utils/typcache.h"

#include "compat.h"
#include "audit.h"
#include "citus.h"
#include "schemaguard.h"
#include "audit.h"

/* ---------- JSON text of a row ---------- */


static bool
is_excluded(Trigger *trigger, const char *name)
{
	for (int a = 0; a < trigger->tgnargs; a++)
	{
		if (strcmp(trigger->tgargs[a], name) == 0)
			return true;
	}
	return false;
}

/* How values of a type are printed; COL_TO_JSON for anything not a built-in scalar. */
static AuditColKind
column_kind(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return COL_INTEGER;
		case NUMERICOID:
		case FLOAT4OID:
		case FLOAT8OID:
			return COL_NUMBER;
		case BOOLOID:
			return COL_BOOL;
		case TEXTOID:
		case VARCHAROID:
			return COL_TEXT;
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return COL_DATETIME;
		case JSONOID:
		case JSONBOID:
			return COL_JSON;
		default:
			return COL_TO_JSON;
	}
}

/*
 * Does to_json() of a value of typid call only built-in code?  It calls a
 * cast to json of any type made in the database (json_categorize_type()),
 * at any depth: array elements, composite attributes, domains' base types.
 * A new cast resets the cache these answers are kept in (audit.c).
 */
static bool
to_json_runs_no_user_code(Oid typid)
{
	Oid			elem;

	check_stack_depth();
	typid = getBaseType(typid);
	if (typid < FirstNormalObjectId)
		return true;			/* built in: its elements and attributes too */
	if (SearchSysCacheExists2(CASTSOURCETARGET, ObjectIdGetDatum(typid), ObjectIdGetDatum(JSONOID)))
		return false;
	elem = get_element_type(typid);
	if (OidIsValid(elem))
		return to_json_runs_no_user_code(elem);
	if (type_is_rowtype(typid))
	{
		TupleDesc	desc = lookup_rowtype_tupdesc(typid, -1);
		bool		ok = true;

		for (int i = 0; ok && i < desc->natts; i++)
		{
			if (!TupleDescAttr(desc, i)->attisdropped)
				ok = to_json_runs_no_user_code(TupleDescAttr(desc, i)->atttypid);
		}
		ReleaseTupleDesc(desc);
		return ok;
	}
	return true;
}

static void
init_column(AuditCol *col, Form_pg_attribute att)
{
	Oid			typid = att->atttypid;
	AuditColKind kind = column_kind(typid);
	StringInfoData key;

	/* a domain is printed as its base type, as to_jsonb() does */
	if (kind == COL_TO_JSON)
	{
		typid = getBaseType(typid);
		kind = column_kind(typid);
		if (kind == COL_TO_JSON && typid < FirstNormalObjectId &&
			!type_is_rowtype(typid) && !OidIsValid(get_element_type(typid)))
			kind = COL_STRING;
		/*
		 * A type created in the database whose values to_json() would pass
		 * through a cast to json (a function a role wrote, run as whoever
		 * writes the table) is written as its text instead: output
		 * functions are C, created by a superuser.
		 */
		if (kind == COL_TO_JSON && !to_json_runs_no_user_code(typid))
			kind = COL_STRING;
	}
	col->attnum = att->attnum;
	col->typid = typid;
	col->byval = att->attbyval;
	col->len = att->attlen;
	col->last_tz = NULL;
	col->kind = kind;
	initStringInfo(&key);
	escape_json(&key, NameStr(att->attname));
	appendStringInfoChar(&key, ':');
	col->key = key.data;
	if (kind == COL_TO_JSON)
	{
		/* to_json() is polymorphic: it reads its argument type from the call */
		fmgr_info(F_TO_JSON, &col->fn);
		col->fn.fn_expr = (Node *) makeFuncExpr(F_TO_JSON, JSONOID,
												list_make1(makeNullConst(att->atttypid, -1, InvalidOid)),
												InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	}
	else if (kind == COL_NUMBER || kind == COL_JSON || kind == COL_STRING)
	{
		Oid			outfn;
		bool		varlena;

		getTypeOutputInfo(typid, &outfn, &varlena);
		fmgr_info(outfn, &col->fn);
	}
}

AuditShape *
sg_audit_shape(Relation rel, Trigger *trigger)
{
	TupleDesc	desc = RelationGetDescr(rel);
	AuditShape *shape = palloc0(sizeof(AuditShape));
	Bitmapset  *pk = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_PRIMARY_KEY);

	shape->cols = palloc(sizeof(AuditCol) * desc->natts);
	shape->keys = palloc(sizeof(AuditCol *) * desc->natts);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		AuditCol   *col;

		if (att->attisdropped || is_excluded(trigger, NameStr(att->attname)))
			continue;
		col = &shape->cols[shape->ncols++];
		init_column(col, att);
		if (bms_is_member(att->attnum - FirstLowInvalidHeapAttributeNumber, pk))
			shape->keys[shape->nkeys++] = col;
	}
	return shape;
}

/*
 * Would jsonb refuse this JSON text?  json keeps any \u escape, jsonb
 * refuses \u0000 (and, in a database that is not UTF8, any escape above
 * ASCII).  audit_log reads the rows as jsonb: one such value would make
 * every read of its batch fail.
 */
static bool
jsonb_refuses(const char *json)
{
	bool		utf8 = GetDatabaseEncoding() == PG_UTF8;

	for (const char *p = json; *p; p++)
	{
		if (*p != '\\')
			continue;
		if (p[1] == 'u' && isxdigit((unsigned char) p[2]) && isxdigit((unsigned char) p[3]) &&
			isxdigit((unsigned char) p[4]) && isxdigit((unsigned char) p[5]))
		{
			char		hex[5] = {p[2], p[3], p[4], p[5], '\0'};
			long		code = strtol(hex, NULL, 16);

			if (code == 0 || (!utf8 && code > 0x7F))
				return true;
		}
		if (p[1] != '\0')
			p++;				/* the escaped character */
	}
	return false;
}

/*
 * Append JSON text that came from a json value (a json column, or json
 * inside an array): as it is, or, where jsonb would refuse it, as a JSON
 * string holding its exact text, so that the value is kept and read back.
 */
static void
append_json_text(StringInfo buf, const char *json)
{
	if (jsonb_refuses(json))
		escape_json(buf, json);
	else
		appendStringInfoString(buf, json);
}

/* Append the JSON of one (non-NULL) value. */
static void
append_value(StringInfo buf, AuditCol *col, Datum value)
{
	char		dt[MAXDATELEN + 1];
	char	   *s;

	switch (col->kind)
	{
		case COL_INTEGER:
			{
				int64		v = col->typid == INT2OID ? DatumGetInt16(value) :
					col->typid == INT4OID ? DatumGetInt32(value) : DatumGetInt64(value);

				enlargeStringInfo(buf, MAXINT8LEN + 1);
				buf->len += pg_lltoa(v, buf->data + buf->len);
				return;
			}
		case COL_BOOL:
			appendStringInfoString(buf, DatumGetBool(value) ? "true" : "false");
			return;
		case COL_TEXT:
			escape_json(buf, TextDatumGetCString(value));
			return;
		case COL_DATETIME:
			/* a statement's rows often share a time (now()): it is printed once */
			if (col->last_tz != session_timezone || col->last_value != value)
			{
				strlcpy(col->last_text, JsonEncodeDateTime(dt, value, col->typid, NULL),
						sizeof(col->last_text));
				col->last_value = value;
				col->last_tz = session_timezone;
			}
			appendStringInfoChar(buf, '"');
			appendStringInfoString(buf, col->last_text);
			appendStringInfoChar(buf, '"');
			return;
		case COL_NUMBER:
			s = OutputFunctionCall(&col->fn, value);
			/* NaN and the infinities are strings, as to_jsonb() writes them */
			if (isdigit((unsigned char) s[s[0] == '-' ? 1 : 0]))
				appendStringInfoString(buf, s);
			else
				escape_json(buf, s);
			return;
		case COL_JSON:
			if (col->typid == JSONOID)
				append_json_text(buf, OutputFunctionCall(&col->fn, value));
			else
				appendStringInfoString(buf, OutputFunctionCall(&col->fn, value));
			return;
		case COL_STRING:
			escape_json(buf, OutputFunctionCall(&col->fn, value));
			return;
		case COL_TO_JSON:
			append_json_text(buf, TextDatumGetCString(FunctionCall1(&col->fn, value)));
			return;
	}
}

static void
append_column(StringInfo buf, AuditCol *col, Datum value, bool isnull)
{
	if (buf->data[buf->len - 1] != '{')
		appendStringInfoChar(buf, ',');
	appendStringInfoString(buf, col->key);
	if (isnull)
		appendStringInfoString(buf, "null");
	else
		append_value(buf, col, value);
}

/* The JSON object of cols[0..n-1] of slot, appended to buf. */
void
sg_audit_append_object(StringInfo buf, AuditCol **cols, AuditCol *all, int n, TupleTableSlot *slot)
{
	appendStringInfoChar(buf, '{');
	for (int i = 0; i < n; i++)
	{
		AuditCol   *col = cols ? cols[i] : &all[i];
		bool		isnull;
		Datum		value = slot_getattr(slot, col->attnum, &isnull);

		append_column(buf, col, value, isnull);
	}
	appendStringInfoChar(buf, '}');
}

/*
 * For an UPDATE: the old and new values of the included columns that
 * changed.  False when none did.
 */
bool
sg_audit_append_changes(StringInfo olds, StringInfo news, AuditShape *shape,
			   TupleTableSlot *oslot, TupleTableSlot *nslot)
{
	bool		changed = false;

	appendStringInfoChar(olds, '{');
	appendStringInfoChar(news, '{');
	for (int i = 0; i < shape->ncols; i++)
	{
		AuditCol   *col = &shape->cols[i];
		bool		onull,
					nnull;
		Datum		ov = slot_getattr(oslot, col->attnum, &onull);
		Datum		nv = slot_getattr(nslot, col->attnum, &nnull);

		if (onull == nnull && (onull || datumIsEqual(ov, nv, col->byval, col->len)))
			continue;
		append_column(olds, col, ov, onull);
		append_column(news, col, nv, nnull);
		changed = true;
	}
	appendStringInfoChar(olds, '}');
	appendStringInfoChar(news, '}');
	return changed;
}

