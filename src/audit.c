/*-------------------------------------------------------------------------
 *
 * audit.c
 *		Audit triggers in C: row changes into schemaguard.audit_log.
 *
 * The audit trigger is an AFTER statement trigger with transition tables
 * (and an AFTER TRUNCATE statement trigger).  What a second write costs is
 * the bytes and the per-row work, so a statement's rows are written
 * together: one row of schemaguard.audit_batch holds what the statement's
 * rows share (time, xid, table, op, tenant, roles) once, and the rows as a
 * JSON array built as text in C (no jsonb tree, no SQL calls for the
 * common types), inserted straight into the heap without SPI or the
 * executor.  The audit_log view unnests the batches and casts to jsonb
 * when read.
 *
 *	- excluded columns never appear;
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

/* Set while purge_audit() deletes, so that the protection lets it. */
static bool purging = false;

PG_FUNCTION_INFO_V1(sg_audit_trigger);
PG_FUNCTION_INFO_V1(sg_audit_log_protect);
PG_FUNCTION_INFO_V1(sg_purge_audit);
PG_FUNCTION_INFO_V1(sg_enable_audit);
PG_FUNCTION_INFO_V1(sg_disable_audit);
PG_FUNCTION_INFO_V1(sg_audit_key_text);

/* ---------- JSON text of a row ---------- */

/*
 * How one column's value is written.  The log stores JSON text (cheap to
 * write: no jsonb tree, no key sorting) and the audit_log view casts it to
 * jsonb when read, so a value only has to be valid JSON with the meaning
 * to_jsonb() gives it.
 */
typedef enum AuditColKind
{
	COL_INTEGER,				/* int2, int4, int8: digits */
	COL_NUMBER,					/* numeric, float: digits, or a string for NaN/Infinity */
	COL_BOOL,
	COL_TEXT,					/* text, varchar: an escaped string */
	COL_DATETIME,				/* date, timestamp, timestamptz: ISO 8601, as to_jsonb */
	COL_JSON,					/* json, jsonb: their own text */
	COL_STRING,					/* other built-in scalars: output function, escaped */
	COL_TO_JSON					/* arrays, composites, user types: to_json() */
} AuditColKind;

typedef struct AuditCol
{
	AttrNumber	attnum;
	AuditColKind kind;
	Oid			typid;			/* base type */
	bool		byval;			/* of the column's own type, for comparing values */
	int16		len;
	char	   *key;			/* "name": */
	/* COL_DATETIME: the last value written, its text, and the time zone it is in */
	Datum		last_value;
	pg_tz	   *last_tz;
	char		last_text[MAXDATELEN + 1];
	FmgrInfo	fn;				/* output function, or to_json */
} AuditCol;

/* A table's columns as the log shows them (kept across statements: see below). */
typedef struct AuditShape
{
	int			ncols;
	AuditCol   *cols;			/* included columns */
	int			nkeys;
	AuditCol  **keys;			/* included primary key columns */
} AuditShape;

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

static AuditShape *
audit_shape(Relation rel, Trigger *trigger)
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
			appendStringInfoString(buf, OutputFunctionCall(&col->fn, value));
			return;
		case COL_STRING:
			escape_json(buf, OutputFunctionCall(&col->fn, value));
			return;
		case COL_TO_JSON:
			appendStringInfoString(buf, TextDatumGetCString(FunctionCall1(&col->fn, value)));
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
static void
append_object(StringInfo buf, AuditCol **cols, AuditCol *all, int n, TupleTableSlot *slot)
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
static bool
append_changes(StringInfo olds, StringInfo news, AuditShape *shape,
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

/* ---------- what the trigger keeps between statements ---------- */

/*
 * A table's AuditShape and the names its batches carry are the same for
 * every statement until the table, its trigger, its partition root or a
 * schema changes.  They are kept per trigger (by OID: the excluded columns
 * are its arguments) in CacheMemoryContext.  The relcache and syscache
 * callbacks only mark entries stale; the next statement rebuilds one.  The
 * old memory is freed then if that statement is the only audit statement
 * running, else it moves to audit_stale_cxt, emptied at the end of the
 * transaction, so that a statement still using it (an output function that
 * writes to another audited table) never reads freed memory.
 */
typedef struct AuditCacheEntry
{
	Oid			tgoid;			/* hash key */
	Oid			relid;			/* the table the trigger is on */
	Oid			logged;			/* the table its rows are logged under */
	bool		valid;
	MemoryContext cxt;
	AuditShape *shape;
	Datum		nsp;			/* text: logged's schema and name */
	Datum		name;
	Oid			citus;			/* a Citus table, or the one this shard is of: refuse */
} AuditCacheEntry;

static HTAB *audit_cache = NULL;
static MemoryContext audit_stale_cxt = NULL;
static uint64 audit_cache_generation = 0;	/* counts invalidations */
static int	audit_depth = 0;	/* audit statements running; reset at transaction end */

/* The role names batches carry: the last role's name, kept until pg_authid changes. */
typedef struct RoleNameCache
{
	Oid			roleid;
	bool		valid;
	text	   *name;			/* in TopMemoryContext */
} RoleNameCache;

static RoleNameCache actor_cache;
static RoleNameCache session_cache;

static void
audit_cache_inval(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	AuditCacheEntry *e;

	audit_cache_generation++;
	if (audit_cache == NULL)
		return;
	hash_seq_init(&seq, audit_cache);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (!OidIsValid(relid) || e->relid == relid || e->logged == relid)
			e->valid = false;
	}
}

static void
audit_names_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	audit_cache_inval(arg, InvalidOid);
}

static void
audit_roles_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	actor_cache.valid = session_cache.valid = false;
}

/* Transaction end: the memory of entries made stale during it goes. */
static void
audit_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT)
	{
		audit_depth = 0;
		if (audit_stale_cxt != NULL)
			MemoryContextReset(audit_stale_cxt);
	}
}

/* Register the callbacks; called from _PG_init. */
void
sg_audit_init(void)
{
	CacheRegisterRelcacheCallback(audit_cache_inval, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, audit_names_inval, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, audit_roles_inval, (Datum) 0);
	RegisterXactCallback(audit_xact_callback, NULL);
}

/*
 * roleid's name as text, a copy in the current memory context: a statement
 * that runs while this one's batch is open (under another role) may replace
 * the cached one.
 */
static Datum
role_name(RoleNameCache *c, Oid roleid)
{
	if (!c->valid || c->roleid != roleid)
	{
		char	   *name = GetUserNameFromId(roleid, false);
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		text	   *t = cstring_to_text(name);

		MemoryContextSwitchTo(old);
		if (c->name != NULL)
			pfree(c->name);
		c->name = t;
		c->roleid = roleid;
		c->valid = true;
	}
	return PointerGetDatum(DatumGetTextPCopy(PointerGetDatum(c->name)));
}

static Oid logged_table(Relation rel);

/* The schema and name of relid, as text ("?" for one dropped meanwhile). */
static void
rel_names(Oid relid, Datum *nsp, Datum *name)
{
	char	   *n = get_namespace_name(get_rel_namespace(relid));
	char	   *r = get_rel_name(relid);

	*nsp = CStringGetTextDatum(n ? n : "?");
	*name = CStringGetTextDatum(r ? r : "?");
}

/* The cached shape and names of rel's audit trigger, made on first use. */
static AuditCacheEntry *
audit_cache_entry(Relation rel, Trigger *trigger)
{
	AuditCacheEntry *e;
	bool		found;
	MemoryContext cxt;
	MemoryContext old;
	AuditShape *shape;
	Oid			logged;
	Datum		nspd;
	Datum		named;
	uint64		generation = audit_cache_generation;

	if (audit_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(AuditCacheEntry);
		ctl.hcxt = CacheMemoryContext;
		audit_cache = hash_create("schemaguard audit shapes", 16, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		audit_stale_cxt = AllocSetContextCreate(CacheMemoryContext, "schemaguard stale audit shapes",
												ALLOCSET_SMALL_SIZES);
	}
	e = hash_search(audit_cache, &trigger->tgoid, HASH_FIND, NULL);
	if (e != NULL && e->valid && e->relid == RelationGetRelid(rel))
		return e;

	/* build in a context of our own, kept only once it is complete */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "schemaguard audit shape",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	shape = audit_shape(rel, trigger);
	logged = logged_table(rel);
	rel_names(logged, &nspd, &named);
	MemoryContextSwitchTo(old);

	e = hash_search(audit_cache, &trigger->tgoid, HASH_ENTER, &found);
	if (found)
	{
		/* no other statement can hold it when this is the only one running */
		if (audit_depth <= 1)
			MemoryContextDelete(e->cxt);
		else
			MemoryContextSetParent(e->cxt, audit_stale_cxt);
	}
	MemoryContextSetParent(cxt, CacheMemoryContext);
	e->relid = RelationGetRelid(rel);
	e->logged = logged;
	e->cxt = cxt;
	e->shape = shape;
	e->nsp = nspd;
	e->name = named;
	e->citus = sg_citus_is_distributed(RelationGetRelid(rel)) ? RelationGetRelid(rel) :
		sg_citus_shard_of(RelationGetRelid(rel));
	/* valid unless something changed while it was built (used once, then) */
	e->valid = generation == audit_cache_generation;
	return e;
}

/* ---------- writing the log ---------- */

/*
 * schemaguard.audit_batch: one row per statement (or per chunk of a large
 * statement) holding what is common to its rows once, and the rows as a JSON
 * array of {"k": row_key, "o": old, "n": new}.  The audit_log view unnests
 * it; row i of a batch has id = batch id + i - 1, which is why the id
 * sequence steps by SG_AUDIT_MAX_ROWS.
 */
#define SG_AUDIT_BATCH		"audit_batch"
#define SG_AUDIT_SEQ		"audit_log_id_seq"
#define SG_AUDIT_NCOLS		13
#define SG_AUDIT_MAX_ROWS	1024
/*
 * A batch's JSON stays under a page and the table's toast_tuple_target
 * (8160), so it is never moved out of line, even when it does not compress.
 * From SG_AUDIT_COMPRESS_BYTES on it is compressed with LZ4 (where the
 * server has it) before the row is formed: JSON of many rows repeats its
 * keys and shrinks five- to sevenfold, which halves what a multi-row
 * statement costs to log (heap pages and WAL).  Smaller batches are stored
 * as they are: compressing them saves less than it costs.
 */
#define SG_AUDIT_MAX_BYTES	3800
#define SG_AUDIT_COMPRESS_BYTES 512

enum
{
	B_ID, B_AT, B_XID, B_TABLE_OID, B_SCHEMA, B_TABLE, B_OP, B_TENANT, B_ACTOR,
	B_SESSION_USER, B_APPLICATION, B_NROWS, B_ROWS
};

static const Oid batch_types[SG_AUDIT_NCOLS] = {
	INT8OID, TIMESTAMPTZOID, XID8OID, OIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, INT4OID, JSONOID
};

typedef struct AuditBatch
{
	Relation	rel;			/* opened at the first write */
	Oid			seqid;
	Datum		values[SG_AUDIT_NCOLS];
	bool		nulls[SG_AUDIT_NCOLS];
	StringInfoData rows;		/* "[" element, ... */
	int			nrows;
} AuditBatch;

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

/* Start a batch: what every row of the statement shares (nsp, name: text). */
static void
batch_begin(AuditBatch *b, Oid relid, Datum nsp, Datum name, const char *op)
{
	const char *tenant = sg_tenant();

	b->rel = NULL;
	memset(b->nulls, 0, sizeof(b->nulls));
	b->values[B_AT] = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
	b->values[B_XID] = FullTransactionIdGetDatum(GetTopFullTransactionId());
	b->values[B_TABLE_OID] = ObjectIdGetDatum(relid);
	b->values[B_SCHEMA] = nsp;
	b->values[B_TABLE] = name;
	b->values[B_OP] = CStringGetTextDatum(op);
	if (tenant)
		b->values[B_TENANT] = CStringGetTextDatum(tenant);
	else
		b->nulls[B_TENANT] = true;
	b->values[B_ACTOR] = role_name(&actor_cache, GetUserId());
	b->values[B_SESSION_USER] = role_name(&session_cache, GetSessionUserId());
	if (application_name && application_name[0])
		b->values[B_APPLICATION] = CStringGetTextDatum(application_name);
	else
		b->nulls[B_APPLICATION] = true;
	initStringInfo(&b->rows);
	appendStringInfoChar(&b->rows, '[');
	b->nrows = 0;
}

/* Write the rows gathered so far as one audit_batch row. */
static void
batch_flush(AuditBatch *b)
{
	if (b->nrows == 0)
		return;
	if (b->rel == NULL)
	{
		b->rel = sg_rows_open(SG_AUDIT_BATCH, batch_types, SG_AUDIT_NCOLS, RowExclusiveLock, false);
		b->seqid = sg_rows_relid(SG_AUDIT_SEQ, false);
	}
	appendStringInfoChar(&b->rows, ']');
	b->values[B_ID] = Int64GetDatum(sg_next_id(b->seqid, SG_AUDIT_MAX_ROWS));
	b->values[B_NROWS] = Int32GetDatum(b->nrows);
	b->values[B_ROWS] = PointerGetDatum(cstring_to_text_with_len(b->rows.data, b->rows.len));
#ifdef USE_LZ4
	if (b->rows.len >= SG_AUDIT_COMPRESS_BYTES)
	{
		Datum		compressed = toast_compress_datum(b->values[B_ROWS], TOAST_LZ4_COMPRESSION);

		if (DatumGetPointer(compressed) != NULL)
		{
			pfree(DatumGetPointer(b->values[B_ROWS]));
			b->values[B_ROWS] = compressed;
		}
	}
#endif
	sg_rows_append(b->rel, b->values, b->nulls);
	pfree(DatumGetPointer(b->values[B_ROWS]));
	resetStringInfo(&b->rows);
	appendStringInfoChar(&b->rows, '[');
	b->nrows = 0;
}

/* Start the next row's JSON element; the caller appends its fields. */
static StringInfo
batch_row(AuditBatch *b)
{
	if (b->nrows == SG_AUDIT_MAX_ROWS || b->rows.len >= SG_AUDIT_MAX_BYTES)
		batch_flush(b);
	if (b->nrows > 0)
		appendStringInfoChar(&b->rows, ',');
	b->nrows++;
	appendStringInfoChar(&b->rows, '{');
	return &b->rows;
}

static void
batch_end(AuditBatch *b)
{
	batch_flush(b);
	if (b->rel != NULL)
		table_close(b->rel, NoLock);
	pfree(b->rows.data);
}

/* A batch of one row: TRUNCATE and purge markers.  new_json may be NULL. */
static void
log_marker(Oid relid, const char *op, const char *new_json)
{
	AuditBatch	b;
	StringInfo	row;
	Datum		nsp;
	Datum		name;

	rel_names(relid, &nsp, &name);
	batch_begin(&b, relid, nsp, name, op);
	row = batch_row(&b);
	if (new_json)
		appendStringInfo(row, "\"n\":%s", new_json);
	appendStringInfoChar(row, '}');
	batch_end(&b);
}

/*
 * A table that became a Citus table after enable_audit() (possible only
 * with citus.enable_unsafe_triggers, which copies the triggers to every
 * shard): its rows are written on the workers, into logs the coordinator
 * cannot read, under shard names.  Refuse the write rather than leave a
 * silent gap in the log.  That includes Citus's copy of a populated
 * table's rows into its new shards, so create_distributed_table() of one
 * fails, and the table stays local and audited.
 */
static void
refuse_citus_write(AuditCacheEntry *e)
{
	char	   *name;

	if (!OidIsValid(e->citus))
		return;
	name = get_rel_name(e->citus);
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("schemaguard audit cannot record changes of Citus table \"%s\"", name ? name : "?"),
			 errdetail("Its audit triggers were copied to its shards (citus.enable_unsafe_triggers), "
					   "whose rows are written on the workers, where the coordinator cannot read "
					   "their log."),
			 errhint("Run SELECT schemaguard.disable_audit('%s'); on the coordinator first, and stream "
					 "its changes with Citus's change data capture instead.", name ? name : "?")));
}

/*
 * One statement's changes, from its transition tables, into batches.
 * Memory per row is reset as it goes, so a large statement does not grow.
 */
static void
audit_statement(TriggerData *td)
{
	Relation	rel = td->tg_relation;
	TupleDesc	desc = RelationGetDescr(rel);
	Tuplestorestate *olds = td->tg_oldtable;
	Tuplestorestate *news = td->tg_newtable;
	bool		is_update = TRIGGER_FIRED_BY_UPDATE(td->tg_event);
	const char *op = TRIGGER_FIRED_BY_INSERT(td->tg_event) ? "INSERT" : is_update ? "UPDATE" : "DELETE";
	AuditCacheEntry *entry;
	AuditShape *shape;
	TupleTableSlot *oslot;
	TupleTableSlot *nslot;
	StringInfoData oldbuf;
	StringInfoData newbuf;
	AuditBatch	b;
	MemoryContext rowcxt;
	MemoryContext outer;

	if ((TRIGGER_FIRED_BY_INSERT(td->tg_event) && news == NULL) ||
		(TRIGGER_FIRED_BY_DELETE(td->tg_event) && olds == NULL) ||
		(is_update && (olds == NULL || news == NULL)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("schemaguard audit trigger has no transition table"),
				 errhint("Recreate it with SELECT schemaguard.enable_audit('%s');",
						 RelationGetRelationName(rel))));

	audit_depth++;			/* not decremented on error: then stale entries wait for transaction end */
	entry = audit_cache_entry(rel, td->tg_trigger);
	refuse_citus_write(entry);
	shape = entry->shape;
	oslot = olds ? MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple) : NULL;
	nslot = news ? MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple) : NULL;
	if (is_update)
	{
		initStringInfo(&oldbuf);
		initStringInfo(&newbuf);
	}
	batch_begin(&b, entry->logged, entry->nsp, entry->name, op);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "schemaguard audit row",
								   ALLOCSET_DEFAULT_SIZES);
	outer = CurrentMemoryContext;
	if (olds)
		tuplestore_rescan(olds);
	if (news)
		tuplestore_rescan(news);
	for (;;)
	{
		bool		haveo = olds && tuplestore_gettupleslot(olds, true, false, oslot);
		bool		haven = news && tuplestore_gettupleslot(news, true, false, nslot);
		StringInfo	row;

		if (!haveo && !haven)
			break;
		MemoryContextReset(rowcxt);
		if (is_update)
		{
			bool		changed;

			/* only what changed; nothing at all when no included column did */
			resetStringInfo(&oldbuf);
			resetStringInfo(&newbuf);
			MemoryContextSwitchTo(rowcxt);
			changed = append_changes(&oldbuf, &newbuf, shape, oslot, nslot);
			MemoryContextSwitchTo(outer);
			if (!changed)
				continue;
		}
		row = batch_row(&b);
		/* the buffers grow in their own context; values are converted in rowcxt */
		MemoryContextSwitchTo(rowcxt);
		if (shape->nkeys > 0)
		{
			appendStringInfoString(row, "\"k\":");
			append_object(row, shape->keys, NULL, shape->nkeys, haveo ? oslot : nslot);
			appendStringInfoChar(row, ',');
		}
		if (is_update)
			appendStringInfo(row, "\"o\":%s,\"n\":%s", oldbuf.data, newbuf.data);
		else
		{
			appendStringInfoString(row, haveo ? "\"o\":" : "\"n\":");
			append_object(row, NULL, shape->cols, shape->ncols, haveo ? oslot : nslot);
		}
		appendStringInfoChar(row, '}');
		MemoryContextSwitchTo(outer);
	}
	batch_end(&b);
	MemoryContextDelete(rowcxt);
	if (oslot)
		ExecDropSingleTupleTableSlot(oslot);
	if (nslot)
		ExecDropSingleTupleTableSlot(nslot);
	audit_depth--;
}

/*
 * The audit trigger.  enable_audit() attaches it as AFTER INSERT, UPDATE and
 * DELETE statement triggers with transition tables, and an AFTER TRUNCATE
 * statement trigger.  Arguments: the excluded columns.
 */
Datum
sg_audit_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = sg_trigger_data(fcinfo);

	if (!TRIGGER_FIRED_AFTER(td->tg_event) || TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		strncmp(td->tg_trigger->tgname, "schemaguard_audit_", strlen("schemaguard_audit_")) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("schemaguard audit must be an AFTER ... FOR EACH STATEMENT trigger made by enable_audit()"),
				 errdetail("Trigger \"%s\" on \"%s\" was not created by enable_audit().",
						   td->tg_trigger->tgname, RelationGetRelationName(td->tg_relation)),
				 errhint("Create it with SELECT schemaguard.enable_audit('%s');",
						 RelationGetRelationName(td->tg_relation))));
	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
	{
		audit_depth++;
		refuse_citus_write(audit_cache_entry(td->tg_relation, td->tg_trigger));
		audit_depth--;
		log_marker(logged_table(td->tg_relation), "TRUNCATE", NULL);
	}
	else
		audit_statement(td);
	return PointerGetDatum(NULL);
}

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
	shape = trigger ? audit_shape(rel, trigger) : NULL;
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
		log_marker(sg_rows_relid("audit_log", false), "PURGE", summary.data);
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
	PG_RETURN_VOID();
}
