/*-------------------------------------------------------------------------
 *
 * lint_facts.c
 *		lint()'s fact source: the catalog, overlaid with what the script has
 *		done so far (the SimRel of each relation it touched).
 *
 * A relation the catalog has is described by the catalog readers the live
 * source uses (catalog.c, catalog_tenant.c, staged_usage.c), read once,
 * under ACCESS SHARE at most; the overlay adds only the script's changes:
 * columns, constraints, indexes, rows written, row-level security and
 * policies, stagings.  A relation neither the catalog nor the script knows
 * is assumed to exist and hold data, with unknown columns.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "parser/parse_type.h"
#include "parser/parser.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "compat.h"
#include "lint.h"


/*
 * schemaguard.lint_real_sizes: off, lint() with assume_populated says every
 * table of the catalog is assumed to hold data, instead of giving its size
 * in this database (schemaguard-lint's throwaway server, where the sizes
 * are those of the rows the history seeded).
 */
bool		sg_lint_real_sizes = true;

/* ---------- the fact source ---------- */

static void
lint_relation(SgFactSource *self, const RangeVar *rv, SgLockSpec locks, SgRelFacts *out)
{
	LintState  *ls = self->private_data;
	SimRel	   *r = sg_sim_resolve(ls, rv);
	SimRel	   *table;

	sg_init_facts(out);
	if (r == NULL)
		return;
	table = r->table ? r->table : r;

	if (OidIsValid(r->relid) && !r->created)
	{
		/*
		 * The catalog's facts, read once per relation and call (recursing
		 * into partitions, and for a statement that recurses into them,
		 * into inheritance children): lint changes nothing, so they stay
		 * true.
		 */
		int			inh = locks.recurse && locks.inherit ? 1 : 0;

		if (!r->cached[inh])
		{
			SgLockSpec	look = {AccessShareLock, AccessShareLock, true, NULL, false, inh == 1};
			MemoryContext old = MemoryContextSwitchTo(ls->cxt);

			sg_catalog_relation_facts(r->relid, look, false, &r->facts[inh]);
			MemoryContextSwitchTo(old);
			r->cached[inh] = true;
		}
		*out = r->facts[inh];
		if (locks.relkinds && !strchr(locks.relkinds, out->relkind))
			out->checkable = false;
		if (!out->checkable)
		{
			out->handle = r;
			return;
		}
		if (ls->assume_populated && (!out->populated || !sg_lint_real_sizes))
		{
			/* in a throwaway replay its size is the seed data's, not production's */
			out->populated = true;
			out->assumed = true;
		}
		/* production may hold far more than this database */
		out->assume_large = ls->assume_populated;
	}
	else
	{
		const char *relkinds = locks.relkinds ? locks.relkinds : "r";

		out->exists = true;
		out->checkable = true;
		out->relkind = r->unknown && !strchr(relkinds, r->relkind) ? relkinds[0] : r->relkind;
		if (locks.relkinds && !strchr(locks.relkinds, out->relkind))
			out->checkable = false;
		out->qualname = quote_qualified_identifier(r->nspname, r->relname);
		out->table_qualname = quote_qualified_identifier(table->nspname, table->relname);
		out->is_temp = table->is_temp;
		out->unknown = r->unknown;
		out->populated = r->unknown;
		out->created_in_xact = table->created && !table->holds_old &&
			ls->in_block && table->block == ls->block;
	}
	if (table->populated)
		out->populated = true;
	/* lint cannot see the lock queue: only what the script made is free */
	if (locks.conditional)
		out->lock_unseen = !table->created;
	out->handle = r;
}

static bool
lint_has_column(SgFactSource *self, const SgRelFacts *rel, const char *column)
{
	SimRel	   *r = rel->handle;

	if (r == NULL)
		return true;
	if (sg_sim_column(r, column))
		return true;
	if (OidIsValid(r->relid) && !r->created)
		return get_attnum(r->relid, column) != InvalidAttrNumber;
	return r->unknown;
}

static bool
lint_sibling_exists(SgFactSource *self, const SgRelFacts *rel, const char *name)
{
	LintState  *ls = self->private_data;
	SimRel	   *r = rel->handle;
	SimRel	   *s;

	if (r == NULL)
		return false;
	s = sg_sim_find(ls, r->nspname, name);
	if (s)
		return !s->dropped;
	if (OidIsValid(r->relid))
		return OidIsValid(get_relname_relid(name, get_rel_namespace(r->relid)));
	return false;
}

/*
 * An index the script creates is valid (lint() does not model a failed
 * build); one of the catalog is read there, unless the script dropped it.
 */
static const char *
lint_invalid_index(SgFactSource *self, const SgRelFacts *rel, const char *name)
{
	LintState  *ls = self->private_data;
	SimRel	   *r = rel->handle;

	if (r == NULL || sg_sim_find(ls, r->nspname, name) != NULL || !OidIsValid(r->relid))
		return NULL;
	return sg_catalog_invalid_index(get_rel_namespace(r->relid), name);
}

/*
 * Does a raw CHECK expression say "col IS NOT NULL" (perhaps among ANDs)?
 * Only for a table or column the script made, which has nothing in the
 * catalog to analyse the expression against; everything else goes through
 * core's proof (sg_checks_prove_not_null()).
 */
static bool
check_proves_not_null(Node *expr, const char *column)
{
	if (expr == NULL)
		return false;
	if (IsA(expr, BoolExpr) && ((BoolExpr *) expr)->boolop == AND_EXPR)
	{
		ListCell   *lc;

		foreach(lc, ((BoolExpr *) expr)->args)
		{
			if (check_proves_not_null(lfirst(lc), column))
				return true;
		}
		return false;
	}
	if (IsA(expr, NullTest) && ((NullTest *) expr)->nulltesttype == IS_NOT_NULL &&
		IsA(((NullTest *) expr)->arg, ColumnRef))
	{
		ColumnRef  *cr = (ColumnRef *) ((NullTest *) expr)->arg;

		return list_length(cr->fields) == 1 && IsA(linitial(cr->fields), String) &&
			strcmp(strVal(linitial(cr->fields)), column) == 0;
	}
	return false;
}

/* What cook_step() analyses, in a subtransaction. */
typedef struct CookStep
{
	Oid			relid;
	Node	   *raw;
	List	   *clauses;
} CookStep;

/* A raw CHECK expression, analysed as core analyses it for relid. */
static void
cook_step(void *arg)
{
	CookStep   *cs = arg;
	ParseState *pstate;
	Relation	rel;
	ParseNamespaceItem *nsitem;
	Node	   *expr;

	if (!sg_catalog_may_probe(cs->relid))
		return;					/* its caller may not read the table */
	pstate = make_parsestate(NULL);
	rel = relation_open(cs->relid, AccessShareLock);
	nsitem = addRangeTableEntryForRelation(pstate, rel, AccessShareLock, NULL, false, true);
	addNSItemToQuery(pstate, nsitem, true, true, true);
	expr = transformExpr(pstate, copyObject(cs->raw), EXPR_KIND_CHECK_CONSTRAINT);
	expr = coerce_to_boolean(pstate, expr, "CHECK");
	assign_expr_collations(pstate, expr);
	free_parsestate(pstate);
	relation_close(rel, NoLock);
	cs->clauses = sg_check_clauses(expr);
}

static void
lint_column(SgFactSource *self, const SgRelFacts *rel, const char *column, SgColumnFacts *out)
{
	SimRel	   *r = rel->handle;
	SimColumn  *c = sg_sim_column(r, column);
	List	   *clauses = NIL;
	ListCell   *lc;

	memset(out, 0, sizeof(SgColumnFacts));
	if (r == NULL)
		return;
	if (c && c->type)
	{
		Oid			typid = sg_catalog_type_of(c->type, &out->typmod);

		out->exists = true;
		out->attnum = 1;
		if (OidIsValid(typid))
		{
			out->typid = typid;
			out->collid = get_typcollation(typid);
		}
	}
	else if (OidIsValid(r->relid) && !r->created)
		sg_catalog_column_facts(r->relid, column, r->validated, out);
	else if (r->unknown)
	{
		out->exists = true;
		out->unknown = true;
	}
	if (!out->exists)
		return;
	if (c && c->notnull)
		out->notnull = true;
	if (out->notnull_proven)
		return;
	foreach(lc, r->constraints)
	{
		SimConstraint *sc = lfirst(lc);

		if (!sc->valid || sc->check == NULL)
			continue;
		/*
		 * A CHECK the script added to a catalog table, on one of its catalog
		 * columns: analysed against the table once (kept with the
		 * constraint), then core's own proof.
		 */
		if (OidIsValid(r->relid) && !r->created && !(c && c->type))
		{
			if (sc->cooked == 0)
			{
				CookStep	cs = {r->relid, sc->check, NIL};
				MemoryContext old = MemoryContextSwitchTo(((LintState *) self->private_data)->cxt);
				ErrorData  *edata = sg_try_in_subxact(cook_step, &cs);

				MemoryContextSwitchTo(old);
				sc->cooked = edata == NULL ? 1 : -1;	/* -1: it names what the script added */
				sc->clauses = cs.clauses;
				if (edata)
					FreeErrorData(edata);
			}
			if (sc->cooked > 0)
			{
				clauses = list_concat(clauses, list_copy(sc->clauses));
				continue;
			}
		}
		/* a table or column the script made: the CHECK as written */
		if (check_proves_not_null(sc->check, column))
			out->notnull_proven = true;
	}
	if (!out->notnull_proven && clauses != NIL)
		out->notnull_proven = sg_checks_prove_not_null(clauses, out);
}

static bool
lint_added_not_valid(SgFactSource *self, const SgRelFacts *rel, const char *conname)
{
	LintState  *ls = self->private_data;
	SimRel	   *r = rel->handle;
	ListCell   *lc;

	foreach(lc, r ? r->constraints : NIL)
	{
		SimConstraint *sc = lfirst(lc);

		if (strcmp(sc->name, conname) == 0)
			return !sc->valid && ls->in_block && sc->block == ls->block;
	}
	return false;
}

static bool
lint_index_leads(SgFactSource *self, const SgRelFacts *rel, List *columns)
{
	SimRel	   *r = rel->handle;
	ListCell   *lc;

	if (r == NULL || r->unknown)
		return true;
	foreach(lc, r->indexes)
	{
		if (sg_index_keys_lead(lfirst(lc), columns))
			return true;
	}
	if (OidIsValid(r->relid) && !r->created)
		return sg_catalog_index_leads(r->relid, columns);
	return false;
}

/* Add the populated tables the script made in a schema to *out. */
static void
add_script_tables(LintState *ls, const char *nspname, SgRelFacts *out)
{
	HASH_SEQ_STATUS seq;
	SimRel	   *r;

	hash_seq_init(&seq, ls->rels);
	while ((r = hash_seq_search(&seq)) != NULL)
	{
		if (!r->created || r->dropped || !r->populated || r->relkind != RELKIND_RELATION)
			continue;
		if (ls->in_block && r->block == ls->block)
			continue;			/* created in this transaction */
		if (nspname && strcmp(r->nspname, nspname) != 0)
			continue;
		out->exists = out->checkable = out->populated = true;
		out->ntables++;
		if (out->qualname == NULL)
			out->qualname = quote_qualified_identifier(r->nspname, r->relname);
	}
}

static void
lint_namespace(SgFactSource *self, const char *nspname, bool indexed_only, SgRelFacts *out)
{
	LintState  *ls = self->private_data;

	sg_catalog_namespace_facts(nspname, indexed_only, ls->assume_populated, out);
	add_script_tables(ls, nspname, out);
	out->assume_large = ls->assume_populated;

	/*
	 * A schema neither the catalog nor the script knows: assumed to hold
	 * populated tables, like a table neither knows.
	 */
	if (out->ntables == 0 && nspname != NULL && ls->assume_populated &&
		!OidIsValid(get_namespace_oid(nspname, true)))
	{
		out->exists = out->checkable = out->populated = true;
		out->unknown = true;
		out->ntables = 1;
		out->qualname = quote_identifier(nspname);
	}
}

static void
lint_type_users(SgFactSource *self, List *typname, SgRelFacts *out)
{
	LintState  *ls = self->private_data;
	Type		typ = LookupTypeName(NULL, makeTypeNameFromNameList(typname), NULL, true);

	sg_init_facts(out);
	if (typ == NULL)
		return;
	sg_catalog_type_users(((Form_pg_type) GETSTRUCT(typ))->oid, ls->assume_populated, out);
	out->assume_large = ls->assume_populated;
	ReleaseSysCache(typ);
}

static void
lint_remember_dropped(SgFactSource *self, const char *conname)
{
	LintState  *ls = self->private_data;
	MemoryContext old = MemoryContextSwitchTo(ls->cxt);

	if (!list_member(ls->dropped_names, makeString((char *) conname)))
		ls->dropped_names = lappend(ls->dropped_names, makeString(pstrdup(conname)));
	MemoryContextSwitchTo(old);
}

static bool
lint_was_dropped(SgFactSource *self, const char *conname)
{
	return list_member(((LintState *) self->private_data)->dropped_names, makeString((char *) conname));
}

static void
lint_sequence_users(SgFactSource *self, Oid seqid, SgRelFacts *out)
{
	LintState  *ls = self->private_data;

	sg_catalog_sequence_users(seqid, ls->assume_populated, out);
	out->assume_large = ls->assume_populated;
}

/* The tenant columns the script has given r. */
static const char *
sim_tenant_column(SimRel *r)
{
	ListCell   *lc;

	foreach(lc, sg_tenant_column_names())
	{
		if (sg_sim_column(r, strVal(lfirst(lc))))
			return strVal(lfirst(lc));
	}
	return NULL;
}

static void
lint_tenant(SgFactSource *self, Oid relid, const RangeVar *rv, SgTenantFacts *out)
{
	LintState  *ls = self->private_data;
	SimRel	   *r = rv ? sg_sim_resolve(ls, rv) : NULL;

	memset(out, 0, sizeof(SgTenantFacts));
	if (r == NULL || r->unknown || r->is_temp ||
		(r->relkind != RELKIND_RELATION && r->relkind != RELKIND_PARTITIONED_TABLE))
		return;
	if (OidIsValid(r->relid) && !r->created)
	{
		sg_catalog_tenant_facts(r->relid, out);
		if (!out->exists)
			return;
	}
	else
	{
		out->exists = true;
		out->qualname = quote_qualified_identifier(r->nspname, r->relname);
	}
	if (out->column == NULL)
		out->column = sim_tenant_column(r);
	if (r->rls_known)
	{
		out->rls = r->rls;
		out->force = r->force;
		out->policies = r->policies;
	}
}

static bool
lint_in_migration(SgFactSource *self)
{
	return ((LintState *) self->private_data)->in_migration || sg_migration_running();
}

static void
lint_staged(SgFactSource *self, const SgRelFacts *rel, const char *column, SgStagedFacts *out)
{
	LintState  *ls = self->private_data;
	SimRel	   *r = rel->handle;
	ListCell   *lc;

	memset(out, 0, sizeof(SgStagedFacts));
	foreach(lc, r != NULL ? r->staged_here : NIL)
	{
		SimStaged  *sg = lfirst(lc);

		if (strcmp(sg->column, column ? column : "") != 0)
			continue;
		/*
		 * Staged by the script: in this transaction, or committed by an
		 * earlier one of the script, now, with no use since; then judged as
		 * staged_usage.c judges a staging row (drop_delay).
		 */
		out->staged = true;
		out->this_xact = ls->in_block && sg->block == ls->block;
		out->relid = rel->relid;
		out->staged_at = GetCurrentTimestamp();
		out->staged_by = GetUserNameFromId(GetUserId(), false);
		sg_stage_state(out);
		return;
	}
	if (OidIsValid(rel->relid) && !rel->unknown && (r == NULL || !r->created))
		sg_catalog_staged_facts(rel->relid, column, out);
}

/* SgFactSource.in_xact_block for lint(). */
static bool
lint_in_xact_block(SgFactSource *self)
{
	return ((LintState *) self->private_data)->in_block;
}

/*
 * What a DROP SCHEMA/TYPE/DOMAIN ... CASCADE or a DROP OWNED would take with it: the
 * catalog's tables (or columns) as the overlay has them, and for a schema
 * the tables the script made in it.
 */
/*
 * Add to result a relation (and column) that a drop takes with it, as the
 * overlay has it: not if the script has dropped it, or the column, already.
 */
static List *
dropped(List *result, SgFactSource *self, const char *nspname, const char *relname,
		const char *column)
{
	SgLockSpec	locks = {AccessExclusiveLock, NoLock, false, "rm", false, false};
	SgDropped  *d = palloc0(sizeof(SgDropped));

	lint_relation(self, makeRangeVar((char *) nspname, (char *) relname, -1), locks, &d->rel);
	d->column = column;
	if (!d->rel.exists || (column && !lint_has_column(self, &d->rel, column)))
		return result;
	return lappend(result, d);
}

/* dropped() for a catalog relation, by OID */
static List *
dropped_relid(List *result, SgFactSource *self, Oid relid, const char *column)
{
	return dropped(result, self, get_namespace_name(get_rel_namespace(relid)),
				   get_rel_name(relid), column);
}

static List *
lint_dropped_with(SgFactSource *self, const Node *stmt)
{
	LintState  *ls = self->private_data;
	List	   *result = NIL;
	const DropStmt *ds;
	ListCell   *lc;
	ListCell   *lc2;

	if (IsA(stmt, DropOwnedStmt))
	{
		/* the catalog's tables of each role, as the overlay has them */
		foreach(lc, ((const DropOwnedStmt *) stmt)->roles)
		{
			Oid			roleid = get_rolespec_oid(lfirst(lc), true);

			foreach(lc2, OidIsValid(roleid) ? sg_catalog_owned_relations(roleid) : NIL)
				result = dropped_relid(result, self, linitial_int(lfirst(lc2)), NULL);
		}
		return result;
	}
	if (!IsA(stmt, DropStmt) || ((const DropStmt *) stmt)->behavior != DROP_CASCADE)
		return NIL;
	ds = (const DropStmt *) stmt;
	foreach(lc, ds->objects)
	{
		if (ds->removeType == OBJECT_SCHEMA)
		{
			const char *nspname = strVal(lfirst(lc));
			Oid			nsp = get_namespace_oid(nspname, true);
			HASH_SEQ_STATUS seq;
			SimRel	   *r;

			/* the catalog's tables of the schema, then those the script made there */
			foreach(lc2, OidIsValid(nsp) ? sg_catalog_schema_relations(nsp) : NIL)
				result = dropped_relid(result, self, linitial_int(lfirst(lc2)), NULL);
			hash_seq_init(&seq, ls->rels);
			while ((r = hash_seq_search(&seq)) != NULL)
			{
				if (r->created && !r->dropped && strcmp(r->nspname, nspname) == 0 &&
					(r->relkind == RELKIND_RELATION || r->relkind == RELKIND_MATVIEW) &&
					!(OidIsValid(nsp) && OidIsValid(get_relname_relid(r->relname, nsp))))
					result = dropped(result, self, nspname, r->relname, NULL);
			}
		}
		else if (ds->removeType == OBJECT_TYPE || ds->removeType == OBJECT_DOMAIN)
		{
			Type		typ = LookupTypeName(NULL, lfirst_node(TypeName, lc), NULL, true);

			if (typ == NULL)
				continue;
			foreach(lc2, sg_catalog_type_columns(((Form_pg_type) GETSTRUCT(typ))->oid))
			{
				Oid			relid = linitial_int(lfirst(lc2));
				char	   *column = get_attname(relid, lsecond_int(lfirst(lc2)), true);

				if (column != NULL)
					result = dropped_relid(result, self, relid, column);
			}
			ReleaseSysCache(typ);
		}
	}
	return result;
}


/* Set up ls->src and the overlay. */
void
sg_lint_source_init(LintState *ls)
{
	HASHCTL		ctl;

	ls->src.relation = lint_relation;
	ls->src.has_column = lint_has_column;
	ls->src.sibling_exists = lint_sibling_exists;
	ls->src.invalid_index = lint_invalid_index;
	ls->src.namespace = lint_namespace;
	ls->src.column = lint_column;
	ls->src.added_not_valid = lint_added_not_valid;
	ls->src.index_leads = lint_index_leads;
	ls->src.type_users = lint_type_users;
	ls->src.sequence_users = lint_sequence_users;
	ls->src.remember_dropped = lint_remember_dropped;
	ls->src.was_dropped = lint_was_dropped;
	ls->src.tenant = lint_tenant;
	ls->src.staged = lint_staged;
	ls->src.in_migration = lint_in_migration;
	ls->src.in_xact_block = lint_in_xact_block;
	ls->src.dropped_with = lint_dropped_with;
	ls->src.unknown_may_exist = true;
	ls->src.private_data = ls;
	ctl.keysize = SIM_KEYLEN;
	ctl.entrysize = sizeof(SimRel);
	ctl.hcxt = ls->cxt;
	ls->rels = hash_create("schemaguard lint relations", 256, &ctl,
						   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}
