/*-------------------------------------------------------------------------
 *
 * lint_overlay.c
 *		The overlay: the script's relations as it has left them so far (a
 *		SimRel per "schema.name"), name resolution against it and the
 *		catalog, and the undo log that rollbacks use.
 *
 * The undo log.  Inside a transaction block every change of a SimRel is
 * preceded by a copy of it (sg_sim_change(), once per savepoint level), so
 * that ROLLBACK and ROLLBACK TO SAVEPOINT put the overlay back as it was
 * (sg_sim_undo()).  Outside a block nothing is copied, and a statement
 * copies only what it changes: the work stays linear in the script.
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

/* An entry of the undo log: a SimRel as it was, or (copy NULL) absent. */
typedef struct SimUndo
{
	char		key[SIM_KEYLEN];
	SimRel	   *copy;
} SimUndo;

/* The relation rv names, about to be changed by the statement. */
SimRel *
sg_sim_target(LintState *ls, const RangeVar *rv)
{
	SimRel	   *r = sg_sim_resolve(ls, rv);

	return r ? sg_sim_change(ls, r) : NULL;
}

/* ---------- the simulated catalog ---------- */

SimRel *
sg_sim_find(LintState *ls, const char *nspname, const char *relname)
{
	char		key[SIM_KEYLEN];

	snprintf(key, sizeof(key), "%s.%s", nspname, relname);
	return hash_search(ls->rels, key, HASH_FIND, NULL);
}

/* Find or add the entry for nspname.relname; new entries are blank. */
SimRel *
sg_sim_enter(LintState *ls, const char *nspname, const char *relname)
{
	char		key[SIM_KEYLEN];
	SimRel	   *r;
	bool		found;

	snprintf(key, sizeof(key), "%s.%s", nspname, relname);
	r = hash_search(ls->rels, key, HASH_ENTER, &found);
	if (!found)
	{
		MemoryContext old = MemoryContextSwitchTo(ls->cxt);
		char		keep[SIM_KEYLEN];

		strlcpy(keep, r->key, sizeof(keep));
		memset(r, 0, sizeof(SimRel));
		strlcpy(r->key, keep, sizeof(r->key));
		r->nspname = pstrdup(nspname);
		r->relname = pstrdup(relname);
		r->relkind = RELKIND_RELATION;
		/* a rollback removes it again */
		if (ls->in_block)
		{
			SimUndo    *u = palloc0(sizeof(SimUndo));

			strlcpy(u->key, r->key, sizeof(u->key));
			ls->undo = lappend(ls->undo, u);
			r->saved_gen = ls->gen;
		}
		MemoryContextSwitchTo(old);
	}
	return r;
}

/* The schema an unqualified CREATE puts its object in. */
const char *
sg_sim_creation_schema(const RangeVar *rv)
{
	List	   *path;

	if (rv->schemaname)
		return rv->schemaname;
	if (rv->relpersistence == RELPERSISTENCE_TEMP)
		return "pg_temp";
	path = fetch_search_path(false);
	if (path != NIL)
		return get_namespace_name(linitial_oid(path));
	return "public";
}

/*
 * Resolve a name as the server would, against the script's state first and
 * the catalog second.  Always returns an entry (an overlay for a catalog
 * relation, or an "unknown" one) unless the name was dropped by the script.
 */
SimRel *
sg_sim_resolve(LintState *ls, const RangeVar *rv)
{
	SimRel	   *r;
	ListCell   *lc;

	if (rv->schemaname)
	{
		Oid			nsp = get_namespace_oid(rv->schemaname, true);
		Oid			relid;

		r = sg_sim_find(ls, rv->schemaname, rv->relname);
		if (r)
			return r->dropped ? NULL : r;
		relid = OidIsValid(nsp) ? get_relname_relid(rv->relname, nsp) : InvalidOid;
		r = sg_sim_enter(ls, rv->schemaname, rv->relname);
		r->relid = relid;
		r->unknown = !OidIsValid(relid);
		if (OidIsValid(relid))
			r->relkind = get_rel_relkind(relid);
		return r;
	}

	r = sg_sim_find(ls, "pg_temp", rv->relname);
	if (r && !r->dropped)
		return r;
	foreach(lc, fetch_search_path(true))
	{
		Oid			nsp = lfirst_oid(lc);
		const char *nspname = isTempNamespace(nsp) ? "pg_temp" : get_namespace_name(nsp);
		Oid			relid;

		if (nspname == NULL)
			continue;
		r = sg_sim_find(ls, nspname, rv->relname);
		if (r)
		{
			if (r->dropped)
				continue;
			return r;
		}
		relid = get_relname_relid(rv->relname, nsp);
		if (OidIsValid(relid))
		{
			r = sg_sim_enter(ls, nspname, rv->relname);
			r->relid = relid;
			r->relkind = get_rel_relkind(relid);
			r->is_temp = isTempNamespace(nsp);
			return r;
		}
	}
	r = sg_sim_enter(ls, sg_sim_creation_schema(rv), rv->relname);
	r->unknown = true;
	return r;
}

/* An entry of a relation's column index: its first column of that name. */
typedef struct SimColumnEntry
{
	char		name[NAMEDATALEN];
	SimColumn  *col;
} SimColumnEntry;

/*
 * The column of r named name, or NULL.  Columns are only ever appended to
 * r->columns, so a hash index by name is kept beside the list, brought up
 * to date with what was appended since, and rebuilt when the list is
 * another (an undo put back an older copy of r): a script that adds n
 * columns to one table does n lookups of constant cost, not n scans.
 */
SimColumn *
sg_sim_column(SimRel *r, const char *name)
{
	ListCell   *lc;
	SimColumnEntry *e;

	if (r == NULL || r->columns == NIL)
		return NULL;
	if (list_length(r->columns) < 16 || strlen(name) >= NAMEDATALEN)
	{
		foreach(lc, r->columns)
		{
			SimColumn  *c = lfirst(lc);

			if (strcmp(c->name, name) == 0)
				return c;
		}
		return NULL;
	}
	if (r->colindex == NULL || r->colindex_of != r->columns ||
		r->colindex_len > list_length(r->columns))
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = sizeof(SimColumnEntry);
		/* with the list: the overlay's memory */
		ctl.hcxt = GetMemoryChunkContext(r->columns);
		r->colindex = hash_create("schemaguard lint columns", 64, &ctl,
								  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
		r->colindex_of = r->columns;
		r->colindex_len = 0;
	}
	for (int i = r->colindex_len; i < list_length(r->columns); i++)
	{
		SimColumn  *c = list_nth(r->columns, i);
		bool		found;

		if (strlen(c->name) >= NAMEDATALEN)
			continue;
		e = hash_search(r->colindex, c->name, HASH_ENTER, &found);
		if (!found)
			e->col = c;
	}
	r->colindex_len = list_length(r->columns);
	e = hash_search(r->colindex, name, HASH_FIND, NULL);
	return e ? e->col : NULL;
}

/*
 * r is about to change: inside a transaction block, keep a copy of it as it
 * is, once per savepoint level.  Returns r.
 */
SimRel *
sg_sim_change(LintState *ls, SimRel *r)
{
	MemoryContext old;
	SimUndo    *u;
	ListCell   *lc;

	if (!ls->in_block || r->saved_gen == ls->gen)
		return r;
	old = MemoryContextSwitchTo(ls->cxt);
	u = palloc0(sizeof(SimUndo));
	strlcpy(u->key, r->key, sizeof(u->key));
	u->copy = palloc(sizeof(SimRel));
	*u->copy = *r;
	/* what is changed in place is copied: columns, constraints, policies */
	u->copy->columns = NIL;
	u->copy->colindex = NULL;
	foreach(lc, r->columns)
		u->copy->columns = lappend(u->copy->columns,
								   memcpy(palloc(sizeof(SimColumn)), lfirst(lc), sizeof(SimColumn)));
	u->copy->constraints = NIL;
	foreach(lc, r->constraints)
		u->copy->constraints = lappend(u->copy->constraints,
									   memcpy(palloc(sizeof(SimConstraint)), lfirst(lc),
											  sizeof(SimConstraint)));
	u->copy->policies = NIL;
	foreach(lc, r->policies)
		u->copy->policies = lappend(u->copy->policies,
									memcpy(palloc(sizeof(SgPolicyFacts)), lfirst(lc),
										   sizeof(SgPolicyFacts)));
	u->copy->validated = list_copy(r->validated);
	u->copy->indexes = list_copy(r->indexes);
	u->copy->staged_here = list_copy(r->staged_here);
	ls->undo = lappend(ls->undo, u);
	r->saved_gen = ls->gen;
	MemoryContextSwitchTo(old);
	return r;
}

/* Put the overlay back as it was when the undo log was mark entries long. */
void
sg_sim_undo(LintState *ls, int mark)
{
	while (list_length(ls->undo) > mark)
	{
		SimUndo    *u = llast(ls->undo);

		if (u->copy == NULL)
			hash_search(ls->rels, u->key, HASH_REMOVE, NULL);
		else
		{
			SimRel	   *r = hash_search(ls->rels, u->key, HASH_ENTER, NULL);

			*r = *u->copy;
		}
		ls->undo = list_delete_last(ls->undo);
	}
}
