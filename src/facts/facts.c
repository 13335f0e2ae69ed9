/*-------------------------------------------------------------------------
 *
 * facts.c
 *		The live fact source: the SgFactSource the hook gives the rules.
 *		Each callback resolves the statement's names and asks the catalog
 *		readers (catalog.c, catalog_tenant.c, staged_usage.c), which lint()'s
 *		source (lint_facts.c) asks too.
 *
 * Locking.  A relation is looked up by name without a lock, its ownership is
 * checked, and only then is it locked with exactly the lock core is about to
 * take (catalog.c, sg_catalog_relation_facts()).  Names are resolved with
 * missing_ok, so core still raises its own "does not exist" error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "compat.h"
#include "schemaguard.h"

/* SgFactSource.relation for the live server. */
static void
live_relation(SgFactSource *self, const RangeVar *rv, SgLockSpec locks,
			  SgRelFacts *out)
{
	Oid			relid;

	sg_init_facts(out);
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (!OidIsValid(relid))
		return;
	/* With lock_timeout 0, waiting here is what the rules warn against. */
	if (self->nowait && (locks.table != NoLock || locks.index != NoLock))
		locks.conditional = true;
	sg_catalog_relation_facts(relid, locks, true, out);
}

/* SgFactSource.has_column for the live server. */
static bool
live_has_column(SgFactSource *self, const SgRelFacts *rel, const char *column)
{
	return get_attnum(rel->relid, column) != InvalidAttrNumber;
}

/* SgFactSource.sibling_exists for the live server. */
static bool
live_sibling_exists(SgFactSource *self, const SgRelFacts *rel, const char *name)
{
	return OidIsValid(get_relname_relid(name, get_rel_namespace(rel->relid)));
}

/* SgFactSource.invalid_index for the live server. */
static const char *
live_invalid_index(SgFactSource *self, const SgRelFacts *rel, const char *name)
{
	return sg_catalog_invalid_index(get_rel_namespace(rel->relid), name);
}

/* SgFactSource.namespace for the live server. */
static void
live_namespace(SgFactSource *self, const char *nspname, bool indexed_only,
			   SgRelFacts *out)
{
	sg_catalog_namespace_facts(nspname, indexed_only, false, out);
}

/* SgFactSource.column for the live server. */
static void
live_column(SgFactSource *self, const SgRelFacts *rel, const char *column,
			SgColumnFacts *out)
{
	sg_catalog_column_facts(rel->relid, column, NIL, out);
}

/*
 * SgFactSource.added_not_valid for the live server: the constraint is not
 * validated and its catalog row was written by this transaction.
 */
static bool
live_added_not_valid(SgFactSource *self, const SgRelFacts *rel, const char *conname)
{
	Oid			conoid = get_relation_constraint_oid(rel->relid, conname, true);
	HeapTuple	tup;
	bool		result = false;

	if (!OidIsValid(conoid))
		return false;
	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));
	if (HeapTupleIsValid(tup))
	{
		result = !((Form_pg_constraint) GETSTRUCT(tup))->convalidated &&
			TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data));
		ReleaseSysCache(tup);
	}
	return result;
}

/* SgFactSource.index_leads for the live server. */
static bool
live_index_leads(SgFactSource *self, const SgRelFacts *rel, List *columns)
{
	return sg_catalog_index_leads(rel->relid, columns);
}

/* SgFactSource.type_users for the live server. */
static void
live_type_users(SgFactSource *self, List *typname, SgRelFacts *out)
{
	TypeName   *tn = makeTypeNameFromNameList(typname);
	Type		typ = LookupTypeName(NULL, tn, NULL, true);

	sg_init_facts(out);
	if (typ == NULL)
		return;					/* core reports it */
	sg_catalog_type_users(((Form_pg_type) GETSTRUCT(typ))->oid, false, out);
	ReleaseSysCache(typ);
}

/* Constraint names this session dropped (prefer-robust-stmts). */
static List *live_dropped_names = NIL;

static void
live_remember_dropped(SgFactSource *self, const char *conname)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	if (!list_member(live_dropped_names, makeString((char *) conname)))
		live_dropped_names = lappend(live_dropped_names, makeString(pstrdup(conname)));
	MemoryContextSwitchTo(old);
}

static bool
live_was_dropped(SgFactSource *self, const char *conname)
{
	return list_member(live_dropped_names, makeString((char *) conname));
}

/* SgFactSource.sequence_users for the live server. */
static void
live_sequence_users(SgFactSource *self, Oid seqid, SgRelFacts *out)
{
	sg_catalog_sequence_users(seqid, false, out);
}

/* SgFactSource.tenant for the live server: rv was resolved after the statement. */
static void
live_tenant(SgFactSource *self, Oid relid, const RangeVar *rv, SgTenantFacts *out)
{
	if (!OidIsValid(relid) && rv != NULL)
		relid = RangeVarGetRelid(rv, NoLock, true);
	sg_catalog_tenant_facts(relid, out);
}

/* SgFactSource.staged for the live server. */
static void
live_staged(SgFactSource *self, const SgRelFacts *rel, const char *column, SgStagedFacts *out)
{
	sg_catalog_staged_facts(rel->relid, column, out);
}

/*
 * Does a migration of this session or transaction record the statements
 * run now?  migrations.c owns that state and registers its reader, so the
 * fact layer does not call up into it.
 */
static bool (*migration_reader) (void) = NULL;

void
sg_register_migration_reader(bool (*reader) (void))
{
	migration_reader = reader;
}

bool
sg_migration_running(void)
{
	return migration_reader != NULL && migration_reader();
}

static bool
live_in_migration(SgFactSource *self)
{
	return sg_migration_running();
}

/* SgFactSource.in_xact_block for the live server. */
static bool
live_in_xact_block(SgFactSource *self)
{
	return IsTransactionBlock();
}

/*
 * SgFactSource.dropped_with for the live server: nothing here; the object
 * access hook judges each table and column as core deletes it (hooks.c).
 */
static List *
live_dropped_with(SgFactSource *self, const Node *stmt)
{
	return NIL;
}

#define LIVE_SOURCE(no_wait) { \
	.relation = live_relation, .has_column = live_has_column, \
	.sibling_exists = live_sibling_exists, .invalid_index = live_invalid_index, .namespace = live_namespace, \
	.column = live_column, .added_not_valid = live_added_not_valid, \
	.index_leads = live_index_leads, .type_users = live_type_users, \
	.sequence_users = live_sequence_users, \
	.remember_dropped = live_remember_dropped, .was_dropped = live_was_dropped, \
	.staged = live_staged, .in_migration = live_in_migration, \
	.tenant = live_tenant, .in_xact_block = live_in_xact_block, \
	.dropped_with = live_dropped_with, \
	.nowait = (no_wait) }

/*
 * The fact source the live hook uses.  With nowait (lock_timeout is 0), a
 * lookup never waits for a lock: a relation whose lock is not granted at
 * once is reported busy, with its blockers (SgRelFacts.lock_busy).
 */
SgFactSource *
sg_live_fact_source(bool nowait)
{
	static SgFactSource live = LIVE_SOURCE(false);
	static SgFactSource live_nowait = LIVE_SOURCE(true);

	return nowait ? &live_nowait : &live;
}
