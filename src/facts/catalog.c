/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		The catalog readers: what the server knows about a relation, its
 *		columns, constraints and indexes, a schema's tables and a type's
 *		users, read from the catalog and the relation itself.  The live
 *		fact source (facts.c) and lint()'s (lint_facts.c) both call them, so
 *		a fact has one reader.
 *
 * Locking.  A relation is looked up by name without a lock, its ownership is
 * checked, and only then is it locked with exactly the lock core is about to
 * take (table before index, partitions through find_all_inheritors, as core
 * does).  So the hook never queues a lock request for a relation the user may
 * not touch, never takes a weaker lock that core then upgrades, and never
 * holds a stronger one.  Names are resolved with missing_ok, so core still
 * raises its own "does not exist" error.
 *
 * Emptiness.  A table is empty when its main fork has no blocks, or when it
 * has at most SG_EMPTY_SCAN_BLOCKS blocks and a scan with a fresh snapshot
 * finds no row.  The lock is already held at that point, so no concurrent
 * writer can be mid-insert.  A larger table counts as populated even if every
 * row is dead: its size, not its row count, is what the lock is held for.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/catalog.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/partition.h"
#include "catalog/pg_sequence.h"
#include "commands/sequence.h"
#include "commands/tablecmds.h"
#include "parser/parse_utilcmd.h"
#include "partitioning/partbounds.h"
#include "utils/partcache.h"
#include "utils/ruleutils.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parse_type.h"

#include "citus.h"
#include "compat.h"
#include "schemaguard.h"

#define SG_EMPTY_SCAN_BLOCKS	8

static void tables_facts(const char *query, int nargs, Oid *argtypes, Datum *values,
						 const char *nulls, bool assume_populated, SgRelFacts *out);

/* tables_facts() of a query with one OID parameter, $1. */
static void
oid_tables_facts(const char *query, Oid oid, bool assume_populated, SgRelFacts *out)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(oid)};
	char		nulls[1] = {' '};

	tables_facts(query, 1, argtypes, values, nulls, assume_populated, out);
}

/*
 * While lint() runs: a relation its caller may not read is neither locked
 * nor looked into (its rows, its constraints); it is judged as holding
 * data.  lint() must not wait behind, or hold up, another session's work on
 * a table its caller cannot see, nor tell whether it holds a row.
 */
bool		sg_probe_as_caller = false;

/*
 * May the facts of relid be read by looking into it?  Always, but while
 * lint() runs: then only when its caller may use the schema and read the
 * relation (SELECT, or owning it).
 */
bool
sg_catalog_may_probe(Oid relid)
{
	Oid			nsp;
	Oid			user = GetUserId();

	if (!sg_probe_as_caller)
		return true;
	nsp = get_rel_namespace(relid);
	if (!OidIsValid(nsp) || sg_namespace_aclcheck(nsp, user, ACL_USAGE) != ACLCHECK_OK)
		return false;
	if (get_rel_relkind(relid) == RELKIND_INDEX || get_rel_relkind(relid) == RELKIND_PARTITIONED_INDEX)
	{
		relid = IndexGetRelation(relid, true);
		if (!OidIsValid(relid))
			return false;
	}
	return pg_class_aclcheck(relid, user, ACL_SELECT) == ACLCHECK_OK || sg_class_ownercheck(relid, user);
}

/* Reset facts to "does not exist". */
void
sg_init_facts(SgRelFacts *out)
{
	memset(out, 0, sizeof(SgRelFacts));
	out->bytes = -1;
	out->rows = -1;
}

/* Is this table empty (no rows)?  See the file header for the definition. */
bool
sg_rel_is_empty(Relation rel)
{
	BlockNumber nblocks;
	SnapshotData dirty;
	TableScanDesc scan;
	TupleTableSlot *slot;
	bool		found;

	if (!RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
		return true;
	nblocks = RelationGetNumberOfBlocks(rel);
	if (nblocks == 0)
		return true;
	if (nblocks > SG_EMPTY_SCAN_BLOCKS)
		return false;

	/*
	 * A dirty snapshot: rows of transactions still in progress count as
	 * rows (the conservative answer), and, not being an MVCC snapshot, it
	 * takes no predicate lock on the user's table in a SERIALIZABLE
	 * transaction.
	 */
	InitDirtySnapshot(dirty);
	scan = sg_table_beginscan(rel, &dirty, 0, NULL);
	slot = table_slot_create(rel, NULL);
	found = table_scan_getnextslot(scan, ForwardScanDirection, slot);
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	return !found;
}

/*
 * Add one table's size and emptiness to the facts: its shards', for a table
 * Citus distributes (its local shell is empty).
 */
static void
add_table(Relation rel, SgRelFacts *out)
{
	if (!RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
		return;
	if (sg_citus_add_shards(RelationGetRelid(rel),
							rel->rd_createSubid != InvalidSubTransactionId, out))
		return;
	out->bytes += (int64) RelationGetNumberOfBlocks(rel) * BLCKSZ;
	if (rel->rd_rel->reltuples > 0)
		out->rows += rel->rd_rel->reltuples;
	if (!sg_rel_is_empty(rel))
		out->populated = true;
}

/*
 * Facts of a relation another session holds or awaits a conflicting lock
 * on: whatever it holds, the statement would queue (the worst is assumed),
 * and who is in the way.
 */
static void
lock_busy(Oid relid, LOCKMODE mode, SgRelFacts *out)
{
	out->checkable = true;
	out->populated = true;
	out->lock_busy = true;
	out->blockers = sg_lock_blockers(relid, mode);
}

/*
 * Fill size facts for a table, summing the leaf partitions of a partitioned
 * table (locked as core locks them, in find_all_inheritors() order) when
 * recurse is set, and with inherit, a plain table's inheritance children
 * with it (ALTER TABLE, TRUNCATE, LOCK and RENAME COLUMN recurse into them as
 * into partitions).  With conditional, a member whose lock is not granted at
 * once makes the whole table busy.
 */
static void
table_facts(Relation rel, LOCKMODE lockmode, bool recurse, bool inherit, bool conditional,
			SgRelFacts *out)
{
	bool		members;

	out->bytes = 0;
	out->rows = 0;
	out->created_in_xact = rel->rd_createSubid != InvalidSubTransactionId;
	out->is_temp = rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP;

	members = recurse && (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE ||
						  (inherit && rel->rd_rel->relhassubclass &&
						   rel->rd_rel->relkind == RELKIND_RELATION));
	if (members)
	{
		List	   *children = find_all_inheritors(RelationGetRelid(rel),
												   conditional ? NoLock : lockmode, NULL);
		ListCell   *lc;

		out->inherited = rel->rd_rel->relkind == RELKIND_RELATION;
		add_table(rel, out);
		foreach(lc, children)
		{
			Oid			child = lfirst_oid(lc);
			Relation	crel;

			if (child == RelationGetRelid(rel))
				continue;
			if (conditional && lockmode != NoLock &&
				!ConditionalLockRelationOid(child, lockmode))
			{
				lock_busy(child, lockmode, out);
				break;
			}
			crel = try_relation_open(child, NoLock);
			if (crel == NULL)
				continue;
			if (RELKIND_HAS_STORAGE(crel->rd_rel->relkind))
			{
				out->npartitions++;
				if (out->example_partition == NULL)
					out->example_partition = sg_qualified_relname(child);
			}
			/*
			 * New in this transaction only when every member is: an old
			 * table attached or inherited under a new parent holds rows
			 * that others read.
			 */
			if (RELKIND_HAS_STORAGE(crel->rd_rel->relkind) &&
				crel->rd_createSubid == InvalidSubTransactionId)
				out->created_in_xact = false;
			add_table(crel, out);
			relation_close(crel, NoLock);
		}
	}
	else
		add_table(rel, out);

	if (out->rows <= 0 && rel->rd_rel->reltuples < 0)
		out->rows = -1;
}

/* Does the relation have a unique index on plain columns, without WHERE? */
static bool
has_plain_unique_index(Relation rel)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		found = false;

	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index idx;

		if (!HeapTupleIsValid(tup))
			continue;
		idx = (Form_pg_index) GETSTRUCT(tup);
		if (idx->indisunique && idx->indisvalid &&
			heap_attisnull(tup, Anum_pg_index_indpred, NULL) &&
			heap_attisnull(tup, Anum_pg_index_indexprs, NULL))
			found = true;
		ReleaseSysCache(tup);
		if (found)
			break;
	}
	list_free(indexes);
	return found;
}

/*
 * Facts about relation relid (a table, or an index and its table), locked
 * as the SgLockSpec says.  With check_owner, a relation the user may not
 * alter is neither locked nor examined (core refuses the statement).
 */
void
sg_catalog_relation_facts(Oid relid, SgLockSpec locks, bool check_owner,
						  SgRelFacts *out)
{
	char		relkind = get_rel_relkind(relid);
	Oid			heapid = relid;
	Relation	heap;

	if (relkind == '\0')
		return;
	if (relkind == RELKIND_INDEX || relkind == RELKIND_PARTITIONED_INDEX)
	{
		heapid = IndexGetRelation(relid, true);
		if (!OidIsValid(heapid))
			return;
	}
	out->exists = true;
	out->relid = relid;
	out->relkind = relkind;
	{
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));

		if (HeapTupleIsValid(tup))
		{
			Form_pg_class cls = (Form_pg_class) GETSTRUCT(tup);

			out->relpersistence = cls->relpersistence;
			out->tablespace = OidIsValid(cls->reltablespace) ? cls->reltablespace :
				MyDatabaseTableSpace;
			out->relam = cls->relam;
			ReleaseSysCache(tup);
		}
	}

	/*
	 * Never queue a lock for a relation core is about to reject: the wrong
	 * kind, or one the user may not alter.  Core raises its own error.
	 */
	if (locks.relkinds && strchr(locks.relkinds, relkind) == NULL)
		return;
	if (check_owner && !sg_may_maintain(relid, GetUserId()))
		return;
	if (!sg_catalog_may_probe(relid))
	{
		/* lint() for a caller who may not read it: holds data, nothing more */
		out->checkable = true;
		out->qualname = sg_qualified_relname(relid);
		out->table_qualname = sg_qualified_relname(heapid);
		out->populated = true;
		out->assumed = true;
		return;
	}

	if (locks.table == NoLock && (locks.index == NoLock || heapid == relid) && !locks.conditional)
	{
		/* Only its name is wanted (a referenced table, say). */
		out->checkable = true;
		out->qualname = sg_qualified_relname(relid);
		out->table_qualname = sg_qualified_relname(heapid);
		return;
	}
	if (locks.conditional && locks.table != NoLock)
	{
		if (!ConditionalLockRelationOid(heapid, locks.table))
		{
			out->qualname = sg_qualified_relname(relid);
			out->table_qualname = sg_qualified_relname(heapid);
			lock_busy(heapid, locks.table, out);
			return;
		}
	}
	else if (locks.table != NoLock)
		LockRelationOid(heapid, locks.table);
	if (heapid != relid && locks.index != NoLock)
	{
		if (!locks.conditional)
			LockRelationOid(relid, locks.index);
		else if (!ConditionalLockRelationOid(relid, locks.index))
		{
			out->qualname = sg_qualified_relname(relid);
			out->table_qualname = sg_qualified_relname(heapid);
			lock_busy(relid, locks.index, out);
			return;
		}
	}

	/* It may have been dropped while we waited for the lock. */
	heap = try_relation_open(heapid, NoLock);
	if (heap == NULL || (heapid != relid &&
						 !SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid))))
	{
		if (heap)
			relation_close(heap, NoLock);
		out->exists = false;
		return;
	}

	out->checkable = true;
	out->qualname = sg_qualified_relname(relid);
	out->table_qualname = sg_qualified_relname(heapid);
	table_facts(heap, locks.table, locks.recurse, locks.inherit, locks.conditional, out);
	if (relkind == RELKIND_MATVIEW)
		out->has_unique_index = has_plain_unique_index(heap);
	relation_close(heap, NoLock);
}

/*
 * Populated user tables (with indexes, when indexed_only) in one schema, or
 * in the whole database when nspname is NULL: there, those the user may
 * maintain, as core's VACUUM FULL, CLUSTER and REINDEX DATABASE process.  At this scope a table counts
 * as populated when it has any block; pg_relation_size() takes and releases
 * an ACCESS SHARE lock per table, as REINDEX SCHEMA processes each table in a
 * transaction of its own.
 */
void
sg_catalog_namespace_facts(const char *nspname, bool indexed_only, bool assume_populated,
						   SgRelFacts *out)
{
	Oid			argtypes[2] = {TEXTOID, BOOLOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};

	values[0] = nspname ? CStringGetTextDatum(nspname) : (Datum) 0;
	if (nspname == NULL)
		nulls[0] = 'n';
	values[1] = BoolGetDatum(indexed_only);
	tables_facts("SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname),"
				 "       pg_catalog.pg_relation_size(c.oid), c.oid"
				 "  FROM pg_catalog.pg_class c"
				 "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
				 " WHERE c.relkind IN ('r', 'm') AND (c.relhasindex OR NOT $2)"
				 "   AND c.relpersistence <> 't'"
				 "   AND CASE WHEN $1 IS NULL"
				 "            THEN n.nspname NOT IN ('pg_catalog', 'information_schema')"
				 "                 AND n.nspname !~ '^pg_toast' AND " SG_SQL_MAY_MAINTAIN
				 "            ELSE n.nspname = $1 END"
				 " ORDER BY 2 DESC, 1",
				 2, argtypes, values, nulls, assume_populated, out);
}

/*
 * Would ATTACH PARTITION of part to parent, with the bound raw (as parsed),
 * scan rows to prove the bound?  Core scans the partition unless its
 * validated CHECK constraints (and NOT NULLs) imply the partition
 * constraint, and a default partition of parent likewise for the negation.
 * Sets *scans_part, *scans_default, and *check to the partition constraint
 * as SQL over the partition's columns (for the hint).  False when it cannot
 * be told without running user code: the bound must be literal constants
 * and the partition key plain columns of built-in types and operator
 * classes (core evaluates the bound, and the proof runs the key's operators,
 * which lint() would otherwise run as its caller).
 */
typedef struct AttachWork
{
	Oid			parentid;
	Oid			partid;
	PartitionBoundSpec *raw;
	bool		known;
	bool		scans_part;
	bool		scans_default;
	char	   *check;
} AttachWork;

static void
attach_work(void *arg)
{
	AttachWork *w = arg;
	Relation	parent;
	Relation	part;
	PartitionKey key;
	ParseState *pstate;
	PartitionBoundSpec *bound;
	List	   *boundcon;
	List	   *partcon;
	Oid			defid;
	bool		ok = true;

	parent = try_relation_open(w->parentid, NoLock);
	if (parent == NULL)
		return;
	if (parent->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
	{
		relation_close(parent, NoLock);
		return;
	}
	key = RelationGetPartitionKey(parent);
	for (int i = 0; i < key->partnatts && ok; i++)
	{
		if (key->partattrs[i] == 0 || key->parttypid[i] >= FirstNormalObjectId ||
			key->partopfamily[i] >= FirstNormalObjectId ||
			get_typtype(key->parttypid[i]) == TYPTYPE_DOMAIN)
			ok = false;
	}
	part = ok ? try_relation_open(w->partid, NoLock) : NULL;
	if (part == NULL)
	{
		relation_close(parent, NoLock);
		return;
	}

	pstate = make_parsestate(NULL);
	bound = transformPartitionBound(pstate, parent, copyObject(w->raw));
	boundcon = get_qual_from_partbound(parent, bound);
	partcon = list_concat(list_copy(boundcon), RelationGetPartitionQual(parent));
	if (partcon != NIL)
	{
		List	   *mapped;

		partcon = (List *) eval_const_expressions(NULL, (Node *) partcon);
		partcon = list_make1(make_ands_explicit(partcon));
		mapped = map_partition_varattnos(partcon, 1, part, parent);
		w->scans_part = RELKIND_HAS_STORAGE(part->rd_rel->relkind) &&
			!PartConstraintImpliedByRelConstraint(part, mapped);
		w->check = deparse_expression((Node *) linitial(mapped),
									  deparse_context_for(RelationGetRelationName(part), w->partid),
									  false, false);
	}
	defid = get_default_partition_oid(w->parentid);
	if (OidIsValid(defid) && defid != w->partid)
	{
		Relation	def = try_relation_open(defid, NoLock);

		if (def != NULL)
		{
			List	   *defcon = get_proposed_default_constraint(boundcon);

			defcon = map_partition_varattnos(defcon, 1, def, parent);
			/* new in this transaction, it holds rows nobody else reads */
			w->scans_default = RELKIND_HAS_STORAGE(def->rd_rel->relkind) &&
				def->rd_createSubid == InvalidSubTransactionId && !sg_rel_is_empty(def) &&
				!PartConstraintImpliedByRelConstraint(def, defcon);
			relation_close(def, NoLock);
		}
	}
	relation_close(part, NoLock);
	relation_close(parent, NoLock);
	w->known = true;
}

bool
sg_catalog_attach_scans(Oid parentid, Oid partid, PartitionBoundSpec *raw,
						bool *scans_part, bool *scans_default, char **check)
{
	AttachWork	w = {parentid, partid, raw, false, false, false, NULL};
	ErrorData  *edata;
	ListCell   *lc;

	*scans_part = *scans_default = false;
	*check = NULL;
	if (raw == NULL || raw->is_default)
		return false;
	foreach(lc, list_concat(list_concat(list_copy(raw->listdatums), raw->lowerdatums), raw->upperdatums))
	{
		Node	   *d = lfirst(lc);

		/* a literal, MINVALUE/MAXVALUE (a ColumnRef), or a negated literal */
		if (IsA(d, A_Const) || IsA(d, ColumnRef))
			continue;
		if (IsA(d, A_Expr) && ((A_Expr *) d)->kind == AEXPR_OP && ((A_Expr *) d)->lexpr == NULL &&
			IsA(((A_Expr *) d)->rexpr, A_Const))
			continue;
		return false;
	}

	/*
	 * A bound core will reject (a value of the wrong type, the wrong
	 * strategy) is core's to report, when it runs the statement: here it
	 * only makes the answer unknown.
	 */
	edata = sg_try_in_subxact(attach_work, &w);
	if (edata != NULL)
	{
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		return false;
	}
	*scans_part = w.scans_part;
	*scans_default = w.scans_default;
	*check = w.check;
	return w.known;
}

/*
 * Populated tables with a column that takes its values from sequence seqid:
 * the table it is OWNED BY or is the identity of, and every table whose
 * column DEFAULT calls it (nextval('seq') depends on it), largest first.
 */
void
sg_catalog_sequence_users(Oid seqid, bool assume_populated, SgRelFacts *out)
{
	oid_tables_facts("SELECT pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.' "
				 "       OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.relname),"
				 "       pg_catalog.pg_relation_size(c.oid), c.oid"
				 "  FROM pg_catalog.pg_class c"
				 "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
				 " WHERE c.relkind IN ('r', 'p') AND c.relpersistence OPERATOR(pg_catalog.<>) 't'"
				 "   AND c.oid IN (SELECT d.refobjid FROM pg_catalog.pg_depend d"
				 "                  WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
				 "                    AND d.objid OPERATOR(pg_catalog.=) $1"
				 "                    AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
				 "                    AND d.deptype IN ('a', 'i')"
				 "                 UNION"
				 "                 SELECT ad.adrelid FROM pg_catalog.pg_depend d"
				 "                   JOIN pg_catalog.pg_attrdef ad ON ad.oid OPERATOR(pg_catalog.=) d.objid"
				 "                  WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass"
				 "                    AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
				 "                    AND d.refobjid OPERATOR(pg_catalog.=) $1)"
				 " ORDER BY 2 DESC, 1",
				 seqid, assume_populated, out);
}

/*
 * Where sequence seqid stands: the last value it gave out and its
 * increment.  False when that cannot be told (it never gave one out, or the
 * role may not read it: the sequence's value is its own to read, as for
 * pg_sequence_last_value()).
 */
bool
sg_catalog_sequence_position(Oid seqid, int64 *last_value, int64 *increment)
{
	HeapTuple	tup;
	Relation	seqrel;
	Buffer		buf;
	Page		page;
	ItemId		lp;
	bool		known = false;

	tup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(seqid));
	if (!HeapTupleIsValid(tup))
		return false;
	*increment = ((Form_pg_sequence) GETSTRUCT(tup))->seqincrement;
	ReleaseSysCache(tup);
	if (pg_class_aclcheck(seqid, GetUserId(), ACL_SELECT | ACL_USAGE) != ACLCHECK_OK)
		return false;

	/*
	 * Its one tuple, read as sequence.c reads it, under ACCESS SHARE
	 * released at once: nothing of the caller's lasts beyond the look.
	 */
	seqrel = try_relation_open(seqid, AccessShareLock);
	if (seqrel == NULL)
		return false;
	if (seqrel->rd_rel->relkind == RELKIND_SEQUENCE && !RELATION_IS_OTHER_TEMP(seqrel) &&
		RelationGetNumberOfBlocks(seqrel) > 0)
	{
		buf = ReadBuffer(seqrel, 0);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		lp = PageGetItemId(page, FirstOffsetNumber);
		if (ItemIdIsNormal(lp))
		{
			HeapTupleHeader th = (HeapTupleHeader) PageGetItem(page, lp);
			Form_pg_sequence_data seq = (Form_pg_sequence_data) ((char *) th + th->t_hoff);

			if (seq->is_called)
			{
				*last_value = seq->last_value;
				known = true;
			}
		}
		UnlockReleaseBuffer(buf);
	}
	relation_close(seqrel, AccessShareLock);
	return known;
}

/*
 * Populated tables with a column of type typid, of an array of it, or of a
 * domain over it (one level), largest first.
 */
void
sg_catalog_type_users(Oid typid, bool assume_populated, SgRelFacts *out)
{
	oid_tables_facts("SELECT DISTINCT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname),"
				 "       pg_catalog.pg_relation_size(c.oid), c.oid"
				 "  FROM pg_catalog.pg_attribute a"
				 "  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
				 "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
				 "  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
				 " WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't'"
				 "   AND a.attnum > 0 AND NOT a.attisdropped"
				 "   AND (t.oid = $1 OR t.typelem = $1 OR t.typbasetype = $1)"
				 " ORDER BY 2 DESC, 1",
				 typid, assume_populated, out);
}

/* Was the relation created in this transaction?  Checked under ACCESS SHARE. */
static bool
created_in_xact(Oid relid)
{
	Relation	rel = try_relation_open(relid, AccessShareLock);
	bool		result;

	if (rel == NULL)
		return true;			/* dropped meanwhile: nothing at risk */
	result = rel->rd_createSubid != InvalidSubTransactionId;
	relation_close(rel, AccessShareLock);
	return result;
}

/*
 * Sum the tables a query lists as (name, size, oid), leaving out those
 * created in this transaction: see the two callers.
 */
static void
tables_facts(const char *query, int nargs, Oid *argtypes, Datum *values,
			 const char *nulls, bool assume_populated, SgRelFacts *out)
{
	int			spi_level;
	MemoryContext caller = CurrentMemoryContext;
	SPITupleTable *tuples;
	uint64		ntuples;

	sg_init_facts(out);
	out->exists = true;
	out->checkable = true;
	out->bytes = 0;

	spi_level = sg_spi_connect();
	if (SPI_execute_with_args(query, nargs, argtypes, values, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list tables: %s", query);

	tuples = SPI_tuptable;
	ntuples = SPI_processed;
	for (uint64 r = 0; r < ntuples; r++)
	{
		bool		isnull;
		int64		size = DatumGetInt64(SPI_getbinval(tuples->vals[r], tuples->tupdesc, 2, &isnull));
		Oid			relid;

		if (isnull)
			continue;
		relid = DatumGetObjectId(SPI_getbinval(tuples->vals[r], tuples->tupdesc, 3, &isnull));
		if (size == 0 && sg_citus_loaded())
		{
			/* A distributed table's shell is empty: its shards hold the rows. */
			SgRelFacts	shards;

			sg_init_facts(&shards);
			shards.bytes = 0;
			if (sg_citus_add_shards(relid, created_in_xact(relid), &shards) && shards.populated)
			{
				size = Max(shards.bytes, 1);
				out->nshards += shards.nshards;
			}
		}
		if (size <= 0 && !assume_populated)
			continue;
		if (created_in_xact(relid))
			continue;
		if (size <= 0)
			out->assumed = true;
		if (out->qualname == NULL)
			out->qualname = MemoryContextStrdup(caller, SPI_getvalue(tuples->vals[r], tuples->tupdesc, 1));
		out->populated = true;
		out->ntables++;
		out->bytes += size;
	}
	sg_spi_finish(spi_level);
}

/*
 * The populated, non-temporary relations c of pg_class (schema n) that a
 * condition selects, largest first, summed into *out: for rules whose
 * targets only the catalog names (a bare CLUSTER, ALTER ... ALL IN
 * TABLESPACE, the typed tables of a type).  join is more FROM items (or
 * ""); cond is SQL over them with $1..$nargs, operators schema-qualified.
 */
void
sg_catalog_query_tables(const char *join, const char *cond, int nargs, Oid *argtypes,
						Datum *values, SgRelFacts *out)
{
	tables_facts(psprintf("SELECT pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.' "
						  "OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.relname), "
						  "pg_catalog.pg_relation_size(c.oid), c.oid "
						  "FROM pg_catalog.pg_class c "
						  "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace %s "
						  "WHERE c.relpersistence OPERATOR(pg_catalog.<>) 't' AND (%s) ORDER BY 2 DESC, 1",
						  join, cond),
				 nargs, argtypes, values, NULL, false, out);
}

/* "3 populated tables (40 MB in all, the largest public.t)" */
char *
sg_tables_phrase(const SgRelFacts *t, const char *what)
{
	return psprintf("%d populated %s%s (%s in all, the largest %s)", t->ntables, what,
					t->ntables == 1 ? "" : "s", sg_size_phrase(t), t->qualname);
}

/*
 * The first index of partitioned table parent (quoted, qualified) that
 * ATTACH PARTITION would have to build on part: no index of part has the
 * same key columns, by name and in order, and the same uniqueness.  NULL
 * when every one is matched.
 */
char *
sg_catalog_missing_partition_index(Oid parent, Oid part)
{
	Oid			argtypes[2] = {OIDOID, OIDOID};
	Datum		values[2] = {ObjectIdGetDatum(parent), ObjectIdGetDatum(part)};
	List	   *rows;

	rows = sg_spi_values("WITH k AS (SELECT i.indrelid, i.indexrelid, i.indisunique, "
							  "  ARRAY(SELECT a.attname FROM pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY u(n, o) "
							  "        LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid "
							  "        AND a.attnum OPERATOR(pg_catalog.=) u.n ORDER BY u.o) AS cols "
							  "  FROM pg_catalog.pg_index i WHERE i.indrelid OPERATOR(pg_catalog.=) ANY (ARRAY[$1, $2])) "
							  "SELECT p.indexrelid::pg_catalog.regclass::pg_catalog.text FROM k p "
							  "WHERE p.indrelid OPERATOR(pg_catalog.=) $1 AND NOT EXISTS (SELECT FROM k c "
							  "  WHERE c.indrelid OPERATOR(pg_catalog.=) $2 AND c.indisunique OPERATOR(pg_catalog.=) p.indisunique "
							  "  AND c.cols::pg_catalog.text[] OPERATOR(pg_catalog.=) p.cols::pg_catalog.text[]) "
							  "ORDER BY 1 LIMIT 1",
							  2, argtypes, values, 1);
	return rows != NIL ? linitial(linitial(rows)) : NULL;
}

/* Is name one of the String nodes of names? */
static bool
list_member_name(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
	{
		if (strcmp(strVal(lfirst(lc)), name) == 0)
			return true;
	}
	return false;
}

/* What sg_catalog_type_of() computes in a subtransaction. */
typedef struct TypmodStep
{
	const TypeName *tn;
	int32		typmod;
} TypmodStep;

static void
typmod_step(void *arg)
{
	TypmodStep *s = arg;
	Type		typ = LookupTypeName(NULL, s->tn, &s->typmod, false);

	ReleaseSysCache(typ);
}

/*
 * The type a statement's TypeName names, as core will resolve it, and (when
 * typmod is given) its type modifier; InvalidOid when core will refuse it
 * (no such type, a bad modifier such as numeric(42,13,7)), so that core
 * reports it with its position.  Without typmod the modifiers are left
 * out: a type's typmod input function raises errors of its own, which must
 * not come before core's.  With typmod they are computed in a
 * subtransaction, and an error there means core will refuse.
 */
Oid
sg_catalog_type_of(const TypeName *tn, int32 *typmod)
{
	TypeName   *bare;
	Type		typ;
	Oid			oid;
	TypmodStep	s;
	ErrorData  *edata;

	if (tn == NULL)
		return InvalidOid;
	bare = (TypeName *) copyObjectImpl(tn);
	bare->typmods = NIL;
	typ = LookupTypeName(NULL, bare, NULL, true);
	if (typ == NULL)
		return InvalidOid;
	oid = ((Form_pg_type) GETSTRUCT(typ))->oid;
	ReleaseSysCache(typ);
	if (typmod == NULL)
		return oid;
	*typmod = -1;
	if (tn->typmods == NIL && tn->typemod < 0)
		return oid;
	s.tn = tn;
	s.typmod = -1;
	edata = sg_try_in_subxact(typmod_step, &s);
	if (edata != NULL)
	{
		FreeErrorData(edata);
		return InvalidOid;
	}
	*typmod = s.typmod;
	return oid;
}

/* check_functions_in_node() callback: a function created after initdb? */
static bool
is_user_function(Oid funcid, void *context)
{
	return funcid >= FirstNormalObjectId;
}

static bool
user_code_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	/* functions, operators, type I/O of coercions, casts */
	if (check_functions_in_node(node, is_user_function, context))
		return true;
	/* a domain's CHECK constraints are user code too */
	if (IsA(node, CoerceToDomain) && ((CoerceToDomain *) node)->resulttype >= FirstNormalObjectId)
		return true;
	return expression_tree_walker(node, user_code_walker, context);
}

/*
 * Does an analysed expression call anything that is not built in: a
 * function, an operator's function, a cast, a type's I/O function or a
 * domain's check created after initdb (by a role, or by an extension)?
 * schemaguard never runs such code with the privileges of whoever triggered
 * it (a DBA's DDL on a developer's table, a lint() call): an expression for
 * which this is true is neither constant-folded nor planned.
 */
bool
sg_expr_has_user_code(Node *expr)
{
	return user_code_walker(expr, NULL);
}

/*
 * A CHECK expression (analysed) as core's NOT NULL proof reads it: simplified,
 * canonicalised, as a list of AND-ed clauses.  Constant folding runs
 * IMMUTABLE functions, so an expression with user code is not folded (core
 * folds it only for ALTER ... SET NOT NULL, run by the table's owner): it is
 * only canonicalised, and a proof that needed the folding is not made.
 */
List *
sg_check_clauses(Node *expr)
{
	if (!sg_expr_has_user_code(expr))
		expr = eval_const_expressions(NULL, expr);
	expr = (Node *) canonicalize_qual((Expr *) expr, true);
	return make_ands_implicit((Expr *) expr);
}

/*
 * Do the clauses of validated CHECK constraints (sg_check_clauses()) prove
 * that column col of the relation (varno 1) is never NULL?  Core's own
 * test, predicate_implied_by(): "col IS NOT NULL", and also a strict
 * comparison such as "col > 0", prove it.  The one predicate for the live
 * source and lint().
 */
bool
sg_checks_prove_not_null(List *clauses, const SgColumnFacts *col)
{
	NullTest   *nt;

	if (clauses == NIL)
		return false;
	nt = makeNode(NullTest);
	nt->arg = (Expr *) makeVar(1, col->attnum, col->typid, col->typmod, col->collid, 0);
	nt->nulltesttype = IS_NOT_NULL;
	nt->argisrow = false;
	nt->location = -1;
	return predicate_implied_by(list_make1(nt), clauses, false);
}

/*
 * Facts about one column.  notnull_proven follows core's own test
 * (NotNullImpliedByRelConstraints): the validated CHECK constraints, as
 * implicit-AND lists, imply "col IS NOT NULL".  lint() passes the names of
 * catalog constraints its script validated (validated), which then count
 * as validated too: a CHECK (col IS NOT NULL) added NOT VALID in an earlier
 * file and validated in this one is recognised by its definition.
 */
void
sg_catalog_column_facts(Oid relid, const char *column, List *validated, SgColumnFacts *out)
{
	HeapTuple	tup;
	Form_pg_attribute att;
	Relation	rel;
	TupleConstr *constr;
	List	   *checks = NIL;

	memset(out, 0, sizeof(SgColumnFacts));
	tup = SearchSysCacheAttName(relid, column);
	if (!HeapTupleIsValid(tup))
		return;
	att = (Form_pg_attribute) GETSTRUCT(tup);
	out->exists = true;
	out->attnum = att->attnum;
	out->typid = att->atttypid;
	out->typmod = att->atttypmod;
	out->collid = att->attcollation;
	out->notnull = att->attnotnull;
	ReleaseSysCache(tup);

	if (!sg_catalog_may_probe(relid))
		return;					/* lint() for a caller who may not read it */
	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		return;
	constr = rel->rd_att->constr;
	for (int i = 0; constr && i < constr->num_check; i++)
	{
		if (!constr->check[i].ccvalid && !list_member_name(validated, constr->check[i].ccname))
			continue;
		checks = list_concat(checks, sg_check_clauses(stringToNode(constr->check[i].ccbin)));
	}
	relation_close(rel, NoLock);
	out->notnull_proven = sg_checks_prove_not_null(checks, out);
}

/*
 * The qualified name of index name in namespace nsp if it is not valid (a
 * CONCURRENTLY build that failed, or one still running); NULL otherwise.
 */
const char *
sg_catalog_invalid_index(Oid nsp, const char *name)
{
	Oid			relid = get_relname_relid(name, nsp);
	HeapTuple	tup;
	bool		invalid = false;

	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_INDEX)
		return NULL;
	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tup))
	{
		invalid = !((Form_pg_index) GETSTRUCT(tup))->indisvalid;
		ReleaseSysCache(tup);
	}
	return invalid ? sg_qualified_relname(relid) : NULL;
}

/*
 * Do the named columns, in any order, make up the leading key columns of a
 * valid index of relid without a WHERE clause?
 */
bool
sg_catalog_index_leads(Oid relid, List *columns)
{
	Relation	rel;
	List	   *indexes;
	ListCell   *lc;
	bool		found = false;

	foreach(lc, columns)
	{
		if (get_attnum(relid, strVal(lfirst(lc))) == InvalidAttrNumber)
			return true;		/* gone or renamed: nothing to advise */
	}
	if (!sg_catalog_may_probe(relid))
		return true;			/* lint() for a caller who may not read it */
	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		return true;
	indexes = RelationGetIndexList(rel);
	relation_close(rel, NoLock);

	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index idx;
		List	   *keys = NIL;

		if (!HeapTupleIsValid(tup))
			continue;
		idx = (Form_pg_index) GETSTRUCT(tup);
		/* a partial index does not serve every row */
		if (heap_attisnull(tup, Anum_pg_index_indpred, NULL))
		{
			for (int k = 0; k < idx->indnkeyatts; k++)
			{
				char	   *name = idx->indkey.values[k] == 0 ? NULL :
					get_attname(relid, idx->indkey.values[k], true);

				if (name == NULL)
					break;		/* an expression: no column leads from here */
				keys = lappend(keys, makeString(name));
			}
		}
		ReleaseSysCache(tup);
		if (sg_index_keys_lead(keys, columns))
		{
			found = true;
			break;
		}
	}
	return found;
}

/*
 * Do columns (names, in any order) make up the leading keys of an index
 * whose plain key columns, in order, are keys?  The one predicate for the
 * catalog's indexes and those a script creates (lint).
 */
bool
sg_index_keys_lead(List *keys, List *columns)
{
	int			ncols = list_length(columns);

	if (ncols == 0 || list_length(keys) < ncols)
		return false;
	for (int k = 0; k < ncols; k++)
	{
		bool		member = false;
		ListCell   *lc;

		foreach(lc, columns)
		{
			if (strcmp(strVal(list_nth(keys, k)), strVal(lfirst(lc))) == 0)
				member = true;
		}
		if (!member)
			return false;
	}
	return true;
}

/*
 * Pairs (an OID, an attnum or 0) that query returns for arg, through SPI
 * (under sg_spi_connect()'s search_path, every operator qualified).
 */
static List *
catalog_pairs(const char *query, Oid arg)
{
	List	   *result = NIL;
	ListCell   *lc;

	Oid			argtype = OIDOID;
	Datum		value = ObjectIdGetDatum(arg);

	foreach(lc, sg_spi_values(query, 1, &argtype, &value, 0))
		result = lappend(result, list_make2_int(atooid(linitial(lfirst(lc))),
												atoi(lsecond(lfirst(lc)))));
	return result;
}

/*
 * What DROP SCHEMA ... CASCADE takes with it: the tables and materialized
 * views of the schema that hold data (leaves; a partitioned table's rows
 * are its partitions'), as (relid, 0) pairs.
 */
List *
sg_catalog_schema_relations(Oid nspid)
{
	return catalog_pairs("SELECT c.oid, 0::int2 FROM pg_catalog.pg_class c"
						 " WHERE c.relnamespace OPERATOR(pg_catalog.=) $1"
						 "   AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,m}'::pg_catalog.\"char\"[])"
						 "   AND c.relpersistence OPERATOR(pg_catalog.<>) 't'"
						 " ORDER BY c.relname", nspid);
}

/*
 * What DROP OWNED BY takes with it: the tables and materialized views the
 * role owns in this database, as (relid, 0) pairs.
 */
List *
sg_catalog_owned_relations(Oid roleid)
{
	return catalog_pairs("SELECT c.oid, 0::int2 FROM pg_catalog.pg_class c"
						 " WHERE c.relowner OPERATOR(pg_catalog.=) $1"
						 "   AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,m}'::pg_catalog.\"char\"[])"
						 "   AND c.relpersistence OPERATOR(pg_catalog.<>) 't'"
						 " ORDER BY c.relname", roleid);
}

/*
 * What DROP TYPE/DOMAIN ... CASCADE takes with it: the columns of tables
 * and materialized views whose type is typid, a domain over it or an array
 * of it (as sg_catalog_type_users() counts them), as (relid, attnum) pairs.
 */
List *
sg_catalog_type_columns(Oid typid)
{
	return catalog_pairs("SELECT a.attrelid, a.attnum FROM pg_catalog.pg_attribute a"
						 "  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.attrelid"
						 "  JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid"
						 " WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,m}'::pg_catalog.\"char\"[])"
						 "   AND c.relpersistence OPERATOR(pg_catalog.<>) 't'"
						 "   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
						 "   AND (t.oid OPERATOR(pg_catalog.=) $1 OR t.typelem OPERATOR(pg_catalog.=) $1"
						 "        OR t.typbasetype OPERATOR(pg_catalog.=) $1)"
						 " ORDER BY c.relname, a.attnum", typid);
}
