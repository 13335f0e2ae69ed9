/*-------------------------------------------------------------------------
 *
 * lint.c
 *		lint(sql): the rule engine over a migration script, without running
 *		it.
 *
 * The script is parsed with core's raw parser, and each statement goes
 * through sg_evaluate(), exactly as the live hook sends it.  What differs is
 * the fact source: instead of locking and reading the real target, it reads
 * the catalog (ACCESS SHARE at most) and overlays what the script itself has
 * done so far, simulated statement by statement:
 *
 *	- tables, indexes, columns and constraints the script creates;
 *	- which of them the script has written rows into;
 *	- BEGIN ... COMMIT blocks, and the runner's own transaction (lint()'s
 *	  runner argument: a file sent as one string, wrapped in BEGIN ...
 *	  COMMIT, or statement by statement): a table created inside the
 *	  current block counts as created in the current transaction;
 *	- SET [LOCAL] lock_timeout, and schemaguard.allow() calls;
 *	- NOT VALID constraints and their VALIDATE;
 *	- row-level security: ENABLE/FORCE, CREATE/ALTER/DROP POLICY, and
 *	  schemaguard.enable_tenant_isolation() calls.
 *
 * A relation neither the catalog nor the script knows is assumed to exist
 * and hold data, with unknown columns (SgRelFacts.unknown).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

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
#include "parser/parse_type.h"
#include "parser/parser.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "compat.h"
#include "schemaguard.h"

#define SIM_KEYLEN	(NAMEDATALEN * 2 + 2)

/* A relation as the script has left it so far. */
typedef struct SimRel
{
	char		key[SIM_KEYLEN];	/* "schema.name" */
	char	   *nspname;
	char	   *relname;
	char		relkind;
	Oid			relid;			/* the catalog's relation, if any */
	bool		unknown;		/* neither catalog nor script knew it */
	bool		created;		/* created by the script */
	int			block;			/* block it was created in; 0: none */
	bool		dropped;
	bool		populated;		/* the script wrote rows into it */
	bool		is_temp;
	List	   *columns;		/* SimColumn */
	List	   *constraints;	/* SimConstraint */
	List	   *validated;		/* catalog constraints the script VALIDATEd (String) */
	List	   *indexes;		/* List of leading column names */
	struct SimRel *table;		/* for an index: its table */
	bool		cached;			/* catalog facts read (lint never changes them) */
	SgRelFacts	facts;
	/* row-level security, once the script has touched it */
	bool		rls_known;
	bool		rls;
	bool		force;
	List	   *policies;		/* SgPolicyFacts */
	List	   *staged_here;	/* stage_drop() in the script: column names, "" */
} SimRel;

typedef struct SimColumn
{
	char	   *name;
	TypeName   *type;			/* NULL: a catalog column */
	bool		notnull;
} SimColumn;

typedef struct SimConstraint
{
	char	   *name;
	Node	   *check;			/* CHECK expression, raw */
	bool		valid;
	int			block;			/* block it was added NOT VALID in */
} SimConstraint;

/* A deferred finding, with where its statement is. */
typedef struct LintDeferred
{
	SgFinding  *finding;
	int			stmtno;
	int			line;
} LintDeferred;

typedef struct LintState
{
	SgFactSource src;
	HTAB	   *rels;
	MemoryContext cxt;			/* lives for the whole call */
	bool		assume_populated;
	bool		single;			/* the runner runs the file in one transaction */
	bool		implicit;		/* in the runner's transaction, not a BEGIN */
	bool		in_block;
	int			block;
	int			lock_timeout;	/* in force */
	int			session_timeout;	/* outside SET LOCAL */
	List	   *allowed;		/* rules allow()ed in the current block */
	List	   *deferred;		/* LintDeferred */
	List	   *xact_locks;		/* LintDeferred: lint_per_xact findings */
	bool		in_migration;	/* after begin_migration() in the script */
	bool		migration_in_block; /* ... begun inside BEGIN: ends at COMMIT */
	ReturnSetInfo *rsinfo;
} LintState;

PG_FUNCTION_INFO_V1(sg_lint);

/* ---------- the simulated catalog ---------- */

static SimRel *
sim_find(LintState *ls, const char *nspname, const char *relname)
{
	char		key[SIM_KEYLEN];

	snprintf(key, sizeof(key), "%s.%s", nspname, relname);
	return hash_search(ls->rels, key, HASH_FIND, NULL);
}

/* Find or add the entry for nspname.relname; new entries are blank. */
static SimRel *
sim_enter(LintState *ls, const char *nspname, const char *relname)
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
		MemoryContextSwitchTo(old);
	}
	return r;
}

/* The schema an unqualified CREATE puts its object in. */
static const char *
creation_schema(const RangeVar *rv)
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
static SimRel *
sim_resolve(LintState *ls, const RangeVar *rv)
{
	SimRel	   *r;
	ListCell   *lc;

	if (rv->schemaname)
	{
		Oid			nsp = get_namespace_oid(rv->schemaname, true);
		Oid			relid;

		r = sim_find(ls, rv->schemaname, rv->relname);
		if (r)
			return r->dropped ? NULL : r;
		relid = OidIsValid(nsp) ? get_relname_relid(rv->relname, nsp) : InvalidOid;
		r = sim_enter(ls, rv->schemaname, rv->relname);
		r->relid = relid;
		r->unknown = !OidIsValid(relid);
		if (OidIsValid(relid))
			r->relkind = get_rel_relkind(relid);
		return r;
	}

	r = sim_find(ls, "pg_temp", rv->relname);
	if (r && !r->dropped)
		return r;
	foreach(lc, fetch_search_path(true))
	{
		Oid			nsp = lfirst_oid(lc);
		const char *nspname = isTempNamespace(nsp) ? "pg_temp" : get_namespace_name(nsp);
		Oid			relid;

		if (nspname == NULL)
			continue;
		r = sim_find(ls, nspname, rv->relname);
		if (r)
		{
			if (r->dropped)
				continue;
			return r;
		}
		relid = get_relname_relid(rv->relname, nsp);
		if (OidIsValid(relid))
		{
			r = sim_enter(ls, nspname, rv->relname);
			r->relid = relid;
			r->relkind = get_rel_relkind(relid);
			r->is_temp = isTempNamespace(nsp);
			return r;
		}
	}
	r = sim_enter(ls, creation_schema(rv), rv->relname);
	r->unknown = true;
	return r;
}

/* ---------- the fact source ---------- */

static void
lint_relation(SgFactSource *self, const RangeVar *rv, SgLockSpec locks, SgRelFacts *out)
{
	LintState  *ls = self->private_data;
	SimRel	   *r = sim_resolve(ls, rv);
	SimRel	   *table;

	sg_init_facts(out);
	if (r == NULL)
		return;
	table = r->table ? r->table : r;

	if (OidIsValid(r->relid) && !r->created)
	{
		/*
		 * The catalog's facts, read once per relation and call (recursing
		 * into partitions): lint changes nothing, so they stay true.
		 */
		if (!r->cached)
		{
			SgLockSpec	look = {AccessShareLock, AccessShareLock, true, NULL, false};
			MemoryContext old = MemoryContextSwitchTo(ls->cxt);

			sg_catalog_relation_facts(r->relid, look, false, &r->facts);
			MemoryContextSwitchTo(old);
			r->cached = true;
		}
		*out = r->facts;
		if (locks.relkinds && !strchr(locks.relkinds, out->relkind))
			out->checkable = false;
		if (!out->checkable)
		{
			out->handle = r;
			return;
		}
		if (ls->assume_populated && !out->populated)
		{
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
		out->created_in_xact = table->created && ls->in_block && table->block == ls->block;
	}
	if (table->populated)
		out->populated = true;
	/* lint cannot see the lock queue: only what the script made is free */
	if (locks.conditional)
		out->lock_unseen = !table->created;
	out->handle = r;
}

static SimColumn *
sim_column(SimRel *r, const char *name)
{
	ListCell   *lc;

	foreach(lc, r ? r->columns : NIL)
	{
		SimColumn  *c = lfirst(lc);

		if (strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

static bool
lint_has_column(SgFactSource *self, const SgRelFacts *rel, const char *column)
{
	SimRel	   *r = rel->handle;

	if (r == NULL)
		return true;
	if (sim_column(r, column))
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
	s = sim_find(ls, r->nspname, name);
	if (s)
		return !s->dropped;
	if (OidIsValid(r->relid))
		return OidIsValid(get_relname_relid(name, get_rel_namespace(r->relid)));
	return false;
}

/* Does a raw CHECK expression say "col IS NOT NULL" (perhaps among ANDs)? */
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

static void
lint_column(SgFactSource *self, const SgRelFacts *rel, const char *column, SgColumnFacts *out)
{
	SimRel	   *r = rel->handle;
	SimColumn  *c = sim_column(r, column);
	ListCell   *lc;

	memset(out, 0, sizeof(SgColumnFacts));
	if (r == NULL)
		return;
	if (c && c->type)
	{
		Type		typ = LookupTypeName(NULL, c->type, &out->typmod, true);

		out->exists = true;
		out->attnum = 1;
		if (typ)
		{
			out->typid = ((Form_pg_type) GETSTRUCT(typ))->oid;
			out->collid = ((Form_pg_type) GETSTRUCT(typ))->typcollation;
			ReleaseSysCache(typ);
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
	foreach(lc, r->constraints)
	{
		SimConstraint *sc = lfirst(lc);

		if (sc->valid && check_proves_not_null(sc->check, column))
			out->notnull_proven = true;
	}
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
		List	   *keys = lfirst(lc);
		int			matched = 0;

		if (list_length(keys) < list_length(columns))
			continue;
		for (int k = 0; k < list_length(columns); k++)
		{
			ListCell   *c;

			foreach(c, columns)
			{
				if (strcmp(strVal(list_nth(keys, k)), strVal(lfirst(c))) == 0)
				{
					matched++;
					break;
				}
			}
		}
		if (matched == list_length(columns))
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

/* The tenant columns the script has given r. */
static const char *
sim_tenant_column(SimRel *r)
{
	ListCell   *lc;

	foreach(lc, sg_tenant_column_names())
	{
		if (sim_column(r, strVal(lfirst(lc))))
			return strVal(lfirst(lc));
	}
	return NULL;
}

static void
lint_tenant(SgFactSource *self, Oid relid, const RangeVar *rv, SgTenantFacts *out)
{
	LintState  *ls = self->private_data;
	SimRel	   *r = rv ? sim_resolve(ls, rv) : NULL;

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
	SimRel	   *r = rel->handle;
	ListCell   *lc;

	memset(out, 0, sizeof(SgStagedFacts));
	if (r != NULL)
	{
		foreach(lc, r->staged_here)
		{
			if (strcmp(strVal(lfirst(lc)), column ? column : "") == 0)
			{
				/* staged by this very script: not in an earlier migration */
				out->staged = out->this_xact = true;
				return;
			}
		}
	}
	if (OidIsValid(rel->relid) && !rel->unknown && (r == NULL || !r->created))
		sg_catalog_staged_facts(rel->relid, column, out);
}

/* ---------- simulating the script ---------- */

/* r's row-level security, read from the catalog the first time. */
static SimRel *
sim_rls(SimRel *r)
{
	if (!r->rls_known && OidIsValid(r->relid) && !r->created)
	{
		SgTenantFacts tf;

		sg_catalog_tenant_facts(r->relid, &tf);
		r->rls = tf.rls;
		r->force = tf.force;
		r->policies = tf.column ? tf.policies : NIL;
	}
	r->rls_known = true;
	return r;
}

/* Is a raw expression the constant true? */
static bool
raw_true(Node *n)
{
	return n && IsA(n, A_Const) && !((A_Const *) n)->isnull &&
		IsA(&((A_Const *) n)->val, Boolean) && boolVal(&((A_Const *) n)->val);
}

static bool
raw_uses_tenant_walker(Node *n, void *cxt)
{
	if (n == NULL)
		return false;
	if (IsA(n, FuncCall) &&
		strcmp(strVal(llast(((FuncCall *) n)->funcname)), "current_tenant") == 0)
		return true;
	return sg_raw_walker(n, raw_uses_tenant_walker, cxt);
}

/* Is a raw expression a call of current_tenant()? */
static bool
raw_tenant_call(Node *n)
{
	while (n != NULL && IsA(n, TypeCast))
		n = ((TypeCast *) n)->arg;
	return n != NULL && IsA(n, FuncCall) &&
		(strcmp(strVal(llast(((FuncCall *) n)->funcname)), "current_tenant") == 0 ||
		 strcmp(strVal(llast(((FuncCall *) n)->funcname)), "current_tenant_as") == 0);
}

/*
 * lint's reading of rules_tenant.c's isolating(), on the raw parse tree: a
 * top-level AND-ed "column = current_tenant()" with = unqualified or
 * pg_catalog's.
 */
static bool
raw_isolating(Node *n)
{
	ListCell   *lc;

	if (n == NULL)
		return false;
	if (IsA(n, BoolExpr) && ((BoolExpr *) n)->boolop == AND_EXPR)
	{
		foreach(lc, ((BoolExpr *) n)->args)
			if (raw_isolating(lfirst(lc)))
				return true;
		return false;
	}
	if (IsA(n, A_Expr) && ((A_Expr *) n)->kind == AEXPR_OP)
	{
		A_Expr	   *e = (A_Expr *) n;
		List	   *name = e->name;
		Node	   *l = e->lexpr;
		Node	   *r = e->rexpr;

		if (strcmp(strVal(llast(name)), "=") != 0 ||
			(list_length(name) == 2 && strcmp(strVal(linitial(name)), "pg_catalog") != 0))
			return false;
		while (l && IsA(l, TypeCast))
			l = ((TypeCast *) l)->arg;
		while (r && IsA(r, TypeCast))
			r = ((TypeCast *) r)->arg;
		return (l && IsA(l, ColumnRef) && raw_tenant_call(e->rexpr)) ||
			(r && IsA(r, ColumnRef) && raw_tenant_call(e->lexpr));
	}
	return false;
}

/* Set a policy's facts from its (raw) USING and WITH CHECK. */
static void
sim_policy_exprs(SgPolicyFacts *p, Node *qual, Node *check)
{
	if (qual == NULL && check == NULL)
		return;
	p->always_true = raw_true(qual) || raw_true(check);
	p->uses_current_tenant = raw_uses_tenant_walker(qual, NULL) ||
		raw_uses_tenant_walker(check, NULL);
	p->isolates = (qual == NULL || raw_isolating(qual)) && (check == NULL || raw_isolating(check));
}

/* The policy of r called name, or NULL. */
static SgPolicyFacts *
sim_policy(SimRel *r, const char *name)
{
	ListCell   *lc;

	foreach(lc, r->policies)
	{
		if (strcmp(((SgPolicyFacts *) lfirst(lc))->name, name) == 0)
			return lfirst(lc);
	}
	return NULL;
}

/* The relation a regclass literal ('schema.table') names, or NULL. */
static SimRel *
sim_named(LintState *ls, const char *target)
{
	List	   *parts;
	List	   *names = NIL;
	ListCell   *lc;
	RangeVar   *rv;

	if (!SplitIdentifierString(pstrdup(target), '.', &parts))
		return NULL;
	foreach(lc, parts)
		names = lappend(names, makeString(lfirst(lc)));
	rv = sg_rangevar_from_names(names);
	return rv ? sim_resolve(ls, rv) : NULL;
}

/* SELECT schemaguard.enable_tenant_isolation('table'): what it would do. */
static void
sim_enable_tenant_isolation(LintState *ls, const char *target)
{
	SimRel	   *r = sim_named(ls, target);
	SgPolicyFacts *p;

	if (r == NULL)
		return;
	sim_rls(r);
	r->rls = r->force = true;
	p = sim_policy(r, "schemaguard_tenant_isolation");
	if (p == NULL)
	{
		p = palloc0(sizeof(SgPolicyFacts));
		p->name = "schemaguard_tenant_isolation";
		r->policies = lappend(r->policies, p);
	}
	p->cmd = '*';
	p->permissive = true;
	p->always_true = false;
	p->uses_current_tenant = true;
	p->isolates = true;
}

/* Mark the relation a DML statement writes as populated. */
static void
sim_write(LintState *ls, RangeVar *rv)
{
	SimRel	   *r = rv ? sim_resolve(ls, rv) : NULL;

	if (r)
		r->populated = true;
}

/* Leading plain columns of an index definition. */
static List *
leading_names(List *elems)
{
	List	   *names = NIL;
	ListCell   *lc;

	foreach(lc, elems)
	{
		Node	   *n = lfirst(lc);

		if (IsA(n, IndexElem))
		{
			if (((IndexElem *) n)->name == NULL)
				break;
			names = lappend(names, makeString(((IndexElem *) n)->name));
		}
		else if (IsA(n, String))
			names = lappend(names, n);
	}
	return names;
}

/* Record a constraint added to r (by CREATE TABLE or ALTER TABLE). */
static void
sim_constraint(LintState *ls, SimRel *r, Constraint *c, const char *colname)
{
	switch (c->contype)
	{
		case CONSTR_PRIMARY:
		case CONSTR_UNIQUE:
			r->indexes = lappend(r->indexes, colname ? list_make1(makeString((char *) colname)) :
								 leading_names(c->keys));
			break;
		case CONSTR_CHECK:
		case CONSTR_FOREIGN:
			{
				SimConstraint *sc = palloc0(sizeof(SimConstraint));

				sc->name = c->conname ? c->conname : "";
				sc->check = c->contype == CONSTR_CHECK ? c->raw_expr : NULL;
				sc->valid = !c->skip_validation;
				sc->block = ls->in_block ? ls->block : 0;
				r->constraints = lappend(r->constraints, sc);
				break;
			}
		default:
			break;
	}
}

/* Record a column definition of r. */
static void
sim_add_column(LintState *ls, SimRel *r, ColumnDef *def)
{
	SimColumn  *c = palloc0(sizeof(SimColumn));
	ListCell   *lc;

	c->name = def->colname;
	c->type = def->typeName;
	c->notnull = def->is_not_null;
	foreach(lc, def->constraints)
	{
		Constraint *con = lfirst_node(Constraint, lc);

		if (con->contype == CONSTR_NOTNULL || con->contype == CONSTR_PRIMARY)
			c->notnull = true;
		sim_constraint(ls, r, con, def->colname);
	}
	r->columns = lappend(r->columns, c);
}

/* A relation the script creates. */
static SimRel *
sim_create(LintState *ls, RangeVar *rv, char relkind, bool populated)
{
	SimRel	   *r = sim_enter(ls, creation_schema(rv), rv->relname);

	r->relid = InvalidOid;
	r->unknown = false;
	r->created = true;
	r->dropped = false;
	r->relkind = relkind;
	r->block = ls->in_block ? ls->block : 0;
	r->populated = populated;
	r->is_temp = rv->relpersistence == RELPERSISTENCE_TEMP;
	r->columns = r->constraints = r->indexes = NIL;
	r->table = NULL;
	r->rls_known = true;		/* a new table: no row-level security */
	r->rls = r->force = false;
	r->policies = NIL;
	r->staged_here = NIL;
	return r;
}

/* The value of a SET lock_timeout, in ms; -1 when unreadable. */
static int
timeout_value(List *args)
{
	A_Const    *ac;
	int			ms;

	if (list_length(args) != 1 || !IsA(linitial(args), A_Const))
		return -1;
	ac = linitial(args);
	if (IsA(&ac->val, Integer))
		return intVal(&ac->val);
	if (IsA(&ac->val, String) && parse_int(strVal(&ac->val), &ms, GUC_UNIT_MS, NULL))
		return ms;
	return -1;
}

/*
 * SELECT schemaguard.allow('rule', '...') and
 * SELECT schemaguard.enable_tenant_isolation('table') in the script.
 */
static void
sim_calls(LintState *ls, SelectStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->targetList)
	{
		ResTarget  *rt = lfirst_node(ResTarget, lc);
		FuncCall   *fc;
		const char *fname;
		const char *arg;

		if (rt->val == NULL || !IsA(rt->val, FuncCall))
			continue;
		fc = (FuncCall *) rt->val;
		if (strcmp(strVal(llast(fc->funcname)), "end_migration") == 0)
		{
			ls->in_migration = ls->migration_in_block = false;
			continue;
		}
		if (fc->args == NIL || !IsA(linitial(fc->args), A_Const) ||
			!IsA(&((A_Const *) linitial(fc->args))->val, String))
			continue;
		fname = strVal(llast(fc->funcname));
		arg = strVal(&((A_Const *) linitial(fc->args))->val);
		if (strcmp(fname, "allow") == 0 && list_length(fc->args) == 2)
		{
			const SgRule *rule = sg_rule_by_id(arg);

			if (rule && ls->in_block)
				ls->allowed = lappend(ls->allowed, (void *) rule);
		}
		else if (strcmp(fname, "enable_tenant_isolation") == 0)
			sim_enable_tenant_isolation(ls, arg);
		else if (strcmp(fname, "begin_migration") == 0)
		{
			ls->in_migration = true;
			ls->migration_in_block = ls->in_block;
		}
		else if (strcmp(fname, "stage_drop") == 0)
		{
			SimRel	   *r = sim_named(ls, arg);
			Node	   *col = list_length(fc->args) > 1 ? lsecond(fc->args) : NULL;

			if (r)
				r->staged_here = lappend(r->staged_here,
										 makeString(col && IsA(col, A_Const) &&
													IsA(&((A_Const *) col)->val, String) ?
													strVal(&((A_Const *) col)->val) : ""));
		}
	}
}

static void flush_deferred(LintState *ls);

/* The runner's own transaction around the file (or the rest of it). */
static void
begin_implicit(LintState *ls)
{
	ls->in_block = true;
	ls->implicit = true;
	ls->block++;
}

/* SgFactSource.in_xact_block for lint(). */
static bool
lint_in_xact_block(SgFactSource *self)
{
	return ((LintState *) self->private_data)->in_block;
}

/* Apply a statement's effect on the simulated database. */
static void
simulate(LintState *ls, Node *stmt)
{
	MemoryContext old = MemoryContextSwitchTo(ls->cxt);

	switch (nodeTag(stmt))
	{
		case T_TransactionStmt:
			switch (((TransactionStmt *) stmt)->kind)
			{
				case TRANS_STMT_BEGIN:
				case TRANS_STMT_START:
					/* BEGIN in the runner's transaction goes on with it */
					if (ls->in_block && ls->implicit)
						ls->implicit = false;
					else if (!ls->in_block)
					{
						ls->in_block = true;
						ls->block++;
					}
					break;
				case TRANS_STMT_COMMIT:
				case TRANS_STMT_ROLLBACK:
				case TRANS_STMT_PREPARE:
					if (ls->migration_in_block)
						ls->in_migration = ls->migration_in_block = false;
					flush_deferred(ls);
					ls->in_block = false;
					ls->allowed = NIL;
					ls->lock_timeout = ls->session_timeout;
					/* the rest of a one-string file is a transaction again */
					if (ls->single && sg_runner_resumes(ls->src.runner))
						begin_implicit(ls);
					break;
				default:
					break;
			}
			break;
		case T_VariableSetStmt:
			{
				VariableSetStmt *vs = (VariableSetStmt *) stmt;
				int			ms = ls->session_timeout;

				if (vs->kind == VAR_RESET_ALL)
				{
					ls->lock_timeout = ls->session_timeout = LockTimeout;
					break;
				}
				if (vs->name == NULL || strcmp(vs->name, "lock_timeout") != 0)
					break;
				if (vs->kind == VAR_SET_VALUE)
					ms = timeout_value(vs->args);
				else if (vs->kind == VAR_SET_DEFAULT || vs->kind == VAR_RESET)
					ms = LockTimeout;
				if (ms < 0)
					break;
				if (vs->is_local)
				{
					if (ls->in_block)
						ls->lock_timeout = ms;
				}
				else
					ls->lock_timeout = ls->session_timeout = ms;
				break;
			}
		case T_CreateStmt:
			{
				CreateStmt *cs = (CreateStmt *) stmt;
				SimRel	   *r;
				ListCell   *lc;

				if (cs->if_not_exists && sim_resolve(ls, cs->relation) &&
					!sim_resolve(ls, cs->relation)->unknown)
					break;
				r = sim_create(ls, cs->relation, cs->partspec ? RELKIND_PARTITIONED_TABLE :
							   RELKIND_RELATION, false);
				foreach(lc, cs->tableElts)
				{
					if (IsA(lfirst(lc), ColumnDef))
						sim_add_column(ls, r, lfirst(lc));
					else if (IsA(lfirst(lc), Constraint))
						sim_constraint(ls, r, lfirst(lc), NULL);
				}
				foreach(lc, cs->constraints)
					sim_constraint(ls, r, lfirst(lc), NULL);
				break;
			}
		case T_CreateTableAsStmt:
			{
				CreateTableAsStmt *ctas = (CreateTableAsStmt *) stmt;

				sim_create(ls, ctas->into->rel,
						   ctas->objtype == OBJECT_MATVIEW ? RELKIND_MATVIEW : RELKIND_RELATION,
						   !ctas->into->skipData);
				break;
			}
		case T_IndexStmt:
			{
				IndexStmt  *is = (IndexStmt *) stmt;
				SimRel	   *table = sim_resolve(ls, is->relation);

				if (table == NULL)
					break;
				table->indexes = lappend(table->indexes, leading_names(is->indexParams));
				if (is->idxname)
				{
					RangeVar   *irv = makeRangeVar(table->nspname, is->idxname, -1);
					SimRel	   *ir = sim_create(ls, irv, RELKIND_INDEX, false);

					ir->table = table;
					ir->is_temp = table->is_temp;
				}
				break;
			}
		case T_AlterTableStmt:
			{
				AlterTableStmt *at = (AlterTableStmt *) stmt;
				SimRel	   *r = sim_resolve(ls, at->relation);
				ListCell   *lc;

				if (r == NULL || at->objtype != OBJECT_TABLE)
					break;
				foreach(lc, at->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					switch (cmd->subtype)
					{
						case AT_AddColumn:
							sim_add_column(ls, r, castNode(ColumnDef, cmd->def));
							break;
						case AT_AddConstraint:
							sim_constraint(ls, r, castNode(Constraint, cmd->def), NULL);
							break;
						case AT_EnableRowSecurity:
						case AT_DisableRowSecurity:
							sim_rls(r)->rls = cmd->subtype == AT_EnableRowSecurity;
							break;
						case AT_ForceRowSecurity:
						case AT_NoForceRowSecurity:
							sim_rls(r)->force = cmd->subtype == AT_ForceRowSecurity;
							break;
						case AT_ValidateConstraint:
							{
								ListCell   *lc2;

								bool		found = false;

								foreach(lc2, r->constraints)
								{
									SimConstraint *sc = lfirst(lc2);

									if (strcmp(sc->name, cmd->name) == 0)
										sc->valid = found = true;
								}
								/* one of the catalog's: its definition counts from now on */
								if (!found && OidIsValid(r->relid) && !r->created)
									r->validated = lappend(r->validated, makeString(pstrdup(cmd->name)));
								break;
							}
						case AT_SetNotNull:
							{
								SimColumn  *c = sim_column(r, cmd->name);

								if (c == NULL)
								{
									c = palloc0(sizeof(SimColumn));
									c->name = cmd->name;
									r->columns = lappend(r->columns, c);
								}
								c->notnull = true;
								break;
							}
						default:
							break;
					}
				}
				break;
			}
		case T_RenameStmt:
			{
				RenameStmt *rs = (RenameStmt *) stmt;
				SimRel	   *r;
				SimRel	   *n;
				SimRel		copy;

				if (rs->renameType != OBJECT_TABLE || rs->relation == NULL)
					break;
				r = sim_resolve(ls, rs->relation);
				if (r == NULL)
					break;
				copy = *r;
				n = sim_enter(ls, copy.nspname, rs->newname);
				strlcpy(copy.key, n->key, sizeof(copy.key));
				copy.relname = pstrdup(rs->newname);
				*n = copy;
				r = sim_find(ls, copy.nspname, rs->relation->relname);
				if (r)
					r->dropped = true;
				break;
			}
		case T_DropStmt:
			{
				DropStmt   *ds = (DropStmt *) stmt;
				ListCell   *lc;

				if (ds->removeType == OBJECT_POLICY)
				{
					foreach(lc, ds->objects)
					{
						List	   *names = lfirst(lc);
						RangeVar   *rv = list_length(names) >= 2 ?
							sg_rangevar_from_names(list_truncate(list_copy(names),
																 list_length(names) - 1)) : NULL;
						SimRel	   *r = rv ? sim_resolve(ls, rv) : NULL;
						SgPolicyFacts *p = r ? sim_policy(sim_rls(r), strVal(llast(names))) : NULL;

						if (p)
							r->policies = list_delete_ptr(r->policies, p);
					}
					break;
				}
				if (ds->removeType != OBJECT_TABLE && ds->removeType != OBJECT_INDEX &&
					ds->removeType != OBJECT_MATVIEW && ds->removeType != OBJECT_VIEW)
					break;
				foreach(lc, ds->objects)
				{
					RangeVar   *rv = sg_rangevar_from_names(lfirst(lc));
					SimRel	   *r = rv ? sim_resolve(ls, rv) : NULL;

					if (r)
						r->dropped = true;
				}
				break;
			}
		case T_InsertStmt:
			sim_write(ls, ((InsertStmt *) stmt)->relation);
			break;
		case T_UpdateStmt:
			sim_write(ls, ((UpdateStmt *) stmt)->relation);
			break;
		case T_MergeStmt:
			sim_write(ls, ((MergeStmt *) stmt)->relation);
			break;
		case T_CopyStmt:
			if (((CopyStmt *) stmt)->is_from)
				sim_write(ls, ((CopyStmt *) stmt)->relation);
			break;
		case T_SelectStmt:
			sim_calls(ls, (SelectStmt *) stmt);
			break;
		case T_CreatePolicyStmt:
			{
				CreatePolicyStmt *cp = (CreatePolicyStmt *) stmt;
				SimRel	   *r = sim_resolve(ls, cp->table);
				SgPolicyFacts *p;

				if (r == NULL)
					break;
				p = palloc0(sizeof(SgPolicyFacts));
				p->name = cp->policy_name;
				p->cmd = sg_policy_cmd(cp->cmd_name);
				p->permissive = cp->permissive;
				sim_policy_exprs(p, cp->qual, cp->with_check);
				sim_rls(r);
				r->policies = lappend(r->policies, p);
				break;
			}
		case T_AlterPolicyStmt:
			{
				AlterPolicyStmt *ap = (AlterPolicyStmt *) stmt;
				SimRel	   *r = sim_resolve(ls, ap->table);
				SgPolicyFacts *p = r ? sim_policy(sim_rls(r), ap->policy_name) : NULL;

				if (p)
					sim_policy_exprs(p, ap->qual, ap->with_check);
				break;
			}
		default:
			break;
	}
	MemoryContextSwitchTo(old);
}

/* ---------- output ---------- */

static void
put_row(LintState *ls, int stmtno, int line, const char *rule, const char *level,
		const char *message, const char *hint, const char *detail)
{
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	values[0] = Int32GetDatum(stmtno);
	values[1] = Int32GetDatum(line);
	values[2] = CStringGetTextDatum(rule);
	values[3] = CStringGetTextDatum(level);
	values[4] = CStringGetTextDatum(message);
	if (hint)
		values[5] = CStringGetTextDatum(hint);
	else
		nulls[5] = true;
	if (detail)
		values[6] = CStringGetTextDatum(detail);
	else
		nulls[6] = true;
	tuplestore_putvalues(ls->rsinfo->setResult, ls->rsinfo->setDesc, values, nulls);
}

static bool
lint_allowed(LintState *ls, const SgRule *rule)
{
	return list_member_ptr(ls->allowed, rule);
}

static void
put_finding(LintState *ls, int stmtno, int line, const SgFinding *f)
{
	put_row(ls, stmtno, line, f->rule->id, sg_level_name(sg_rule_level(f->rule)),
			f->message, f->hint, f->detail);
}

/*
 * The lint_per_xact findings of a transaction (require-lock-timeout), as
 * one: at its first statement, listing every statement.
 */
static void
flush_xact_locks(LintState *ls)
{
	LintDeferred *first;
	StringInfoData detail;
	const char *suffix;
	ListCell   *lc;

	if (ls->xact_locks == NIL)
		return;
	first = linitial(ls->xact_locks);
	if (list_length(ls->xact_locks) == 1)
	{
		put_finding(ls, first->stmtno, first->line, first->finding);
		ls->xact_locks = NIL;
		return;
	}
	initStringInfo(&detail);
	appendStringInfoString(&detail, "lint cannot see the lock queue, so each of these may wait behind "
						   "other sessions, however long, while every query that arrives meanwhile "
						   "queues behind it:");
	foreach(lc, ls->xact_locks)
	{
		LintDeferred *d = lfirst(lc);

		suffix = strstr(d->finding->message, " without lock_timeout");
		appendStringInfo(&detail, "\nstatement %d (line %d): %.*s", d->stmtno, d->line,
						 suffix ? (int) (suffix - d->finding->message) : (int) strlen(d->finding->message),
						 d->finding->message);
	}
	suffix = strstr(first->finding->message, " without lock_timeout");
	put_row(ls, first->stmtno, first->line, first->finding->rule->id,
			sg_level_name(sg_rule_level(first->finding->rule)),
			sg_rule_message(first->finding->rule,
							psprintf("%.*s, and %d more lock%s in the transaction, without lock_timeout",
									 suffix ? (int) (suffix - first->finding->message) : (int) strlen(first->finding->message),
									 first->finding->message, list_length(ls->xact_locks) - 1,
									 list_length(ls->xact_locks) == 2 ? "" : "s")),
			pstrdup("Start the transaction with SET LOCAL lock_timeout = '2s'; (or run SET lock_timeout = '2s'; "
					"before the file), and retry the migration if it times out."),
			detail.data);
	ls->xact_locks = NIL;
}

/* The end of a transaction: judge the deferred findings. */
static void
flush_deferred(LintState *ls)
{
	ListCell   *lc;
	HTAB	   *reported = NULL;

	flush_xact_locks(ls);

	foreach(lc, ls->deferred)
	{
		LintDeferred *d = lfirst(lc);

		if (lint_allowed(ls, d->finding->rule) ||
			!sg_deferred_still_holds(&ls->src, d->finding))
			continue;
		/* Several statements on one table: report it once (one hash probe each). */
		if (sg_seen(&reported, psprintf("%s\n%s", d->finding->rule->id, d->finding->message)))
			continue;
		put_finding(ls, d->stmtno, d->line, d->finding);
	}
	if (reported)
		hash_destroy(reported);
	ls->deferred = NIL;
}

/* Evaluate one statement and report what it finds. */
static void
lint_statement(LintState *ls, RawStmt *raw, const char *sql, int stmtno, int line,
			   MemoryContext stmtcxt)
{
	Node	   *stmt = raw->stmt;
	int			len = raw->stmt_len > 0 ? raw->stmt_len : (int) strlen(sql + raw->stmt_location);

	if (sg_statement_checked(stmt))
	{
		MemoryContext old = MemoryContextSwitchTo(stmtcxt);
		SgStatement st;
		SgVerdict	v;
		ListCell   *lc;
		int			from;

		st.parsetree = stmt;
		st.sql = pnstrdup(sql + raw->stmt_location, len);
		st.location_base = raw->stmt_location;
		from = sg_comments_start(sql, raw->stmt_location);
		st.leading = pnstrdup(sql + from, raw->stmt_location - from);
		st.lock_timeout_ms = ls->lock_timeout;
		st.facts = &ls->src;
		v = sg_evaluate(&st);
		foreach(lc, v.findings)
		{
			SgFinding  *f = lfirst(lc);

			if (lint_allowed(ls, f->rule))
				continue;
			if (f->deferred || (f->rule->lint_per_xact && ls->in_block))
			{
				LintDeferred *d;

				MemoryContextSwitchTo(ls->cxt);
				d = palloc(sizeof(LintDeferred));
				d->finding = palloc(sizeof(SgFinding));
				*d->finding = *f;
				d->finding->message = pstrdup(f->message);
				d->finding->detail = f->detail ? pstrdup(f->detail) : NULL;
				d->finding->hint = f->hint ? pstrdup(f->hint) : NULL;
				d->finding->columns = copyObject(f->columns);
				d->finding->target.qualname = f->target.qualname ? pstrdup(f->target.qualname) : NULL;
				d->finding->target.table_qualname = f->target.table_qualname ?
					pstrdup(f->target.table_qualname) : NULL;
				d->finding->target.blockers = NULL;
				d->finding->target.example_partition = NULL;
				d->finding->relation = copyObject(f->relation);
				d->stmtno = stmtno;
				d->line = line;
				if (f->deferred)
					ls->deferred = lappend(ls->deferred, d);
				else
					ls->xact_locks = lappend(ls->xact_locks, d);
				MemoryContextSwitchTo(stmtcxt);
				continue;
			}
			put_finding(ls, stmtno, line, f);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(stmtcxt);
	}
	simulate(ls, stmt);
	if (!ls->in_block)
		flush_deferred(ls);
}

/* What parse_script() and safe_last_end() run in a subtransaction. */
typedef struct ScanStep
{
	const char *sql;
	int			before;
	List	   *parsed;
	int			end;
} ScanStep;

static void
parse_step(void *arg)
{
	ScanStep   *s = arg;

	s->parsed = raw_parser(s->sql, RAW_PARSE_DEFAULT);
}

static void
last_end_step(void *arg)
{
	ScanStep   *s = arg;

	s->end = sg_last_statement_end(s->sql, s->before);
}

/* Parse sql, catching a syntax error: NIL and *edata set on failure. */
static List *
parse_script(const char *sql, ErrorData **edata)
{
	ScanStep	s = {.sql = sql};

	*edata = sg_try_in_subxact(parse_step, &s);
	return *edata ? NIL : s.parsed;
}

/* sg_last_statement_end(), catching a scanner error (then 0). */
static int
safe_last_end(const char *sql, int before)
{
	ScanStep	s = {.sql = sql, .before = before};
	ErrorData  *edata = sg_try_in_subxact(last_end_step, &s);

	if (edata != NULL)
	{
		FreeErrorData(edata);
		return 0;
	}
	return s.end;
}

/* Byte offset of the (1-based) character position pos. */
static int
char_to_byte(const char *s, int pos)
{
	int			off = 0;

	for (int i = 1; i < pos && s[off]; i++)
		off += pg_mblen(s + off);
	return off;
}

/* The 1-based line of byte offset 'to', counting on from a known line. */
static int
line_at(const char *s, int *from, int *line, int to)
{
	for (; *from < to && s[*from]; (*from)++)
	{
		if (s[*from] == '\n')
			(*line)++;
	}
	return *line;
}

/*
 * lint(sql text, assume_populated boolean DEFAULT true,
 *		runner text DEFAULT 'single-transaction')
 *	RETURNS TABLE (statement int, line int, rule text, level text,
 *				   message text, hint text, detail text)
 */
Datum
sg_lint(PG_FUNCTION_ARGS)
{
	char	   *sql;
	const char *runner = "single-transaction";	/* lint(text, boolean) of 1.5 */
	LintState	ls;
	List	   *stmts;
	ErrorData  *edata;
	int			pos = 0;
	int			line = 1;
	int			stmtno = 0;
	int			errline = 0;
	MemoryContext stmtcxt;
	HASHCTL		ctl;
	ListCell   *lc;

	/* NULL is an error: an empty result would read as a clean script */
	sg_require_arg(fcinfo, 0, "sql");
	sg_require_arg(fcinfo, 1, "assume_populated");
	if (PG_NARGS() > 2)
	{
		sg_require_arg(fcinfo, 2, "runner");
		runner = text_to_cstring(PG_GETARG_TEXT_PP(2));
		if (!sg_runner_known(runner))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown runner \"%s\"", runner),
					 errhint("Use one of: %s.", sg_runner_names())));
	}
	sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	InitMaterializedSRF(fcinfo, 0);
	memset(&ls, 0, sizeof(ls));
	ls.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ls.cxt = CurrentMemoryContext;
	ls.assume_populated = PG_GETARG_BOOL(1);
	ls.lock_timeout = ls.session_timeout = LockTimeout;
	ls.src.relation = lint_relation;
	ls.src.has_column = lint_has_column;
	ls.src.sibling_exists = lint_sibling_exists;
	ls.src.namespace = lint_namespace;
	ls.src.column = lint_column;
	ls.src.added_not_valid = lint_added_not_valid;
	ls.src.index_leads = lint_index_leads;
	ls.src.type_users = lint_type_users;
	ls.src.tenant = lint_tenant;
	ls.src.staged = lint_staged;
	ls.src.in_migration = lint_in_migration;
	ls.src.in_xact_block = lint_in_xact_block;
	ls.src.runner = runner;
	ls.src.simulated = true;

	ls.src.private_data = &ls;
	ctl.keysize = SIM_KEYLEN;
	ctl.entrysize = sizeof(SimRel);
	ctl.hcxt = CurrentMemoryContext;
	ls.rels = hash_create("schemaguard lint relations", 256, &ctl,
						  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	(void) sg_extension_installed();

	stmts = parse_script(sql, &edata);
	if (edata != NULL)
	{
		/* Lint what precedes the error, then report it. */
		int			errpos = edata->cursorpos > 0 ? char_to_byte(sql, edata->cursorpos) : 0;
		int			p = 0;
		int			l = 1;
		ErrorData  *edata2 = NULL;
		int			end = safe_last_end(sql, errpos);

		errline = line_at(sql, &p, &l, errpos);
		stmts = end > 0 ? parse_script(pnstrdup(sql, end), &edata2) : NIL;
	}

	ls.single = sg_runner_single(runner, list_length(stmts), sql);
	if (ls.single)
		begin_implicit(&ls);

	stmtcxt = AllocSetContextCreate(CurrentMemoryContext, "schemaguard lint statement",
									ALLOCSET_DEFAULT_SIZES);
	foreach(lc, stmts)
	{
		RawStmt    *raw = lfirst_node(RawStmt, lc);

		CHECK_FOR_INTERRUPTS();
		stmtno++;
		lint_statement(&ls, raw, sql, stmtno,
					   line_at(sql, &pos, &line, raw->stmt_location +
							   sg_first_token_offset(sql + raw->stmt_location)),
					   stmtcxt);
	}
	flush_deferred(&ls);
	if (edata != NULL)
		put_row(&ls, stmtno + 1, errline, "syntax-error", "error", edata->message,
				NULL, edata->detail);
	PG_RETURN_NULL();
}
