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
 * and purge_audit().  That trigger and the SQL functions are in
 * audit_admin.c; the JSON text of a row is written by audit_json.c.
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

PG_FUNCTION_INFO_V1(sg_audit_trigger);

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
	/* a new cast to json changes how a column's values may be written */
	CacheRegisterSyscacheCallback(CASTSOURCETARGET, audit_names_inval, (Datum) 0);
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
	shape = sg_audit_shape(rel, trigger);
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
void
sg_audit_log_marker(Oid relid, const char *op, const char *new_json)
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
			changed = sg_audit_append_changes(&oldbuf, &newbuf, shape, oslot, nslot);
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
			sg_audit_append_object(row, shape->keys, NULL, shape->nkeys, haveo ? oslot : nslot);
			appendStringInfoChar(row, ',');
		}
		if (is_update)
			appendStringInfo(row, "\"o\":%s,\"n\":%s", oldbuf.data, newbuf.data);
		else
		{
			appendStringInfoString(row, haveo ? "\"o\":" : "\"n\":");
			sg_audit_append_object(row, NULL, shape->cols, shape->ncols, haveo ? oslot : nslot);
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
		sg_audit_log_marker(logged_table(td->tg_relation), "TRUNCATE", NULL);
	}
	else
		audit_statement(td);
	return PointerGetDatum(NULL);
}
