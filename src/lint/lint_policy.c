/*-------------------------------------------------------------------------
 *
 * lint_policy.c
 *		What the script does to row-level security, and its calls of
 *		schemaguard's own functions, as lint() simulates them.
 *
 * A policy's USING and WITH CHECK are read on the raw parse tree: constant
 * true, a call of current_tenant(), and the isolating shape that
 * catalog_tenant.c's isolating() reads on analysed expressions.  A call is
 * schemaguard's when the name resolves to schemaguard's function on the
 * search_path (own_function()), as the server would call it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
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
#include "catalog/namespace.h"

#include "compat.h"
#include "lint.h"

/*
 * The name of the schemaguard function a call resolves to, as the server
 * would resolve it (search_path, the number of arguments, defaults), or
 * NULL when it resolves to another function or none.
 */
static const char *
own_function(FuncCall *fc)
{
	Oid			nsp = get_namespace_oid(SG_SCHEMA, true);
	FuncCandidateList c;
	FuncCandidateList best = NULL;

	if (!OidIsValid(nsp) || fc->agg_star || fc->func_variadic)
		return NULL;
	c = sg_funcname_candidates(fc->funcname, list_length(fc->args), NIL,
							  false, true, false, true);
	for (; c != NULL; c = c->next)
	{
		if (best == NULL || c->pathpos < best->pathpos)
			best = c;
	}
	if (best == NULL || get_func_namespace(best->oid) != nsp)
		return NULL;
	return get_func_name(best->oid);
}

/* r's row-level security, read from the catalog the first time. */
SimRel *
sg_sim_rls(SimRel *r)
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

/* ---------- simulating the script ---------- */

static bool
raw_uses_tenant_walker(Node *n, void *cxt)
{
	if (n == NULL)
		return false;
	if (IsA(n, FuncCall))
	{
		const char *fname = own_function((FuncCall *) n);

		if (fname != NULL && strcmp(fname, "current_tenant") == 0)
			return true;
	}
	return sg_raw_walker(n, raw_uses_tenant_walker, cxt);
}

/* Is a raw expression a call of current_tenant()? */
static bool
raw_tenant_call(Node *n)
{
	const char *fname;

	while (n != NULL && IsA(n, TypeCast))
		n = ((TypeCast *) n)->arg;
	fname = n != NULL && IsA(n, FuncCall) ? own_function((FuncCall *) n) : NULL;
	return fname != NULL &&
		(strcmp(fname, "current_tenant") == 0 || strcmp(fname, "current_tenant_as") == 0);
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

/* Is n "arg IS [NOT] NULL" of a column (IS NULL) or of current_tenant() (IS NOT NULL)? */
static bool
raw_null_test(Node *n, NullTestType type)
{
	NullTest   *nt = (NullTest *) n;

	if (n == NULL || !IsA(n, NullTest) || nt->nulltesttype != type || nt->arg == NULL)
		return false;
	return type == IS_NULL ? IsA(nt->arg, ColumnRef) : raw_tenant_call((Node *) nt->arg);
}

/* The shared arm (catalog_tenant.c, shared_arm()), raw. */
static bool
raw_shared_arm(Node *n)
{
	BoolExpr   *b = (BoolExpr *) n;

	if (raw_null_test(n, IS_NULL))
		return true;
	return n != NULL && IsA(n, BoolExpr) && b->boolop == AND_EXPR && list_length(b->args) == 2 &&
		((raw_null_test(linitial(b->args), IS_NULL) && raw_null_test(lsecond(b->args), IS_NOT_NULL)) ||
		 (raw_null_test(lsecond(b->args), IS_NULL) && raw_null_test(linitial(b->args), IS_NOT_NULL)));
}

/* The shared-rows shape (catalog_tenant.c, shared_rows()), raw. */
static bool
raw_shared_rows(Node *n)
{
	BoolExpr   *b = (BoolExpr *) n;

	if (raw_shared_arm(n))
		return true;
	if (n == NULL || !IsA(n, BoolExpr) || b->boolop != OR_EXPR || list_length(b->args) != 2)
		return false;
	for (int side = 0; side < 2; side++)
	{
		if (raw_shared_arm(list_nth(b->args, side)) && raw_isolating(list_nth(b->args, 1 - side)))
			return true;
	}
	return false;
}

/* Set a policy's facts from its (raw) USING and WITH CHECK. */
void
sg_sim_policy_exprs(SgPolicyFacts *p, Node *qual, Node *check)
{
	if (qual == NULL && check == NULL)
		return;
	p->always_true = raw_true(qual) || raw_true(check);
	p->uses_current_tenant = raw_uses_tenant_walker(qual, NULL) ||
		raw_uses_tenant_walker(check, NULL);
	p->isolates = (qual == NULL || raw_isolating(qual)) && (check == NULL || raw_isolating(check));
	p->shares_rows = false;
	if (!p->isolates && p->cmd == 'r' && check == NULL && raw_shared_rows(qual))
		p->isolates = p->shares_rows = true;
}

/* The policy of r called name, or NULL. */
SgPolicyFacts *
sg_sim_policy(SimRel *r, const char *name)
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
	return rv ? sg_sim_target(ls, rv) : NULL;
}

/* enable_tenant_isolation()'s effect on one table: RLS, FORCE, its policy. */
static void
sim_isolate(SimRel *r)
{
	SgPolicyFacts *p;

	sg_sim_rls(r);
	r->rls = r->force = true;
	p = sg_sim_policy(r, SG_TENANT_POLICY);
	if (p == NULL)
	{
		p = palloc0(sizeof(SgPolicyFacts));
		p->name = SG_TENANT_POLICY;
		r->policies = lappend(r->policies, p);
	}
	p->cmd = '*';
	p->permissive = true;
	p->always_true = false;
	p->uses_current_tenant = true;
	p->isolates = true;
}

/*
 * After enable_tenant_isolation() on r: a permissive policy that does not
 * isolate keeps the table open, and the function fails, as it does live
 * (tenant_admin.c): one row of rule tenant-table-rls, with its hint.
 */
static void
isolation_fails(LintState *ls, SimRel *r)
{
	const SgRule *rule = sg_rule_by_id("tenant-table-rls");
	const char *qual = quote_qualified_identifier(r->nspname, r->relname);
	char	   *names;
	char	   *hint = NULL;
	char	  **row;
	MemoryContext old;

	if (rule == NULL || sg_rule_level(rule) == SG_LEVEL_OFF)
		return;
	names = sg_tenant_open_policies(r->policies, qual, NULL, &hint);
	if (names == NULL)
		return;
	old = MemoryContextSwitchTo(ls->cxt);
	row = palloc(sizeof(char *) * 3);
	row[0] = sg_rule_message(rule, psprintf("enable_tenant_isolation() on %s, which %s %s %s open,", qual,
											strchr(names, ',') ? "policies" : "policy", names,
											strchr(names, ',') ? "keep" : "keeps"));
	row[1] = pstrdup(hint);
	row[2] = pstrdup("Permissive policies are OR-ed: a row that any of them lets through reaches "
					 "every tenant, whatever schemaguard's policy says, so enable_tenant_isolation() "
					 "refuses to report the table isolated (SQLSTATE 55000).");
	ls->call_errors = lappend(ls->call_errors, row);
	MemoryContextSwitchTo(old);
}

/*
 * A boolean argument of a call, by name or position: 1 true, 0 false, -1
 * absent, NULL or not a constant.
 */
static int
bool_arg(FuncCall *fc, const char *name, int position)
{
	ListCell   *lc;
	Node	   *arg = NULL;

	foreach(lc, fc->args)
	{
		Node	   *a = lfirst(lc);

		if (IsA(a, NamedArgExpr))
		{
			if (strcmp(((NamedArgExpr *) a)->name, name) == 0)
				arg = (Node *) ((NamedArgExpr *) a)->arg;
		}
		else if (foreach_current_index(lc) == position)
			arg = a;
	}
	while (arg && IsA(arg, TypeCast))
		arg = ((TypeCast *) arg)->arg;
	if (arg == NULL || !IsA(arg, A_Const) || ((A_Const *) arg)->isnull)
		return -1;
	if (IsA(&((A_Const *) arg)->val, Boolean))
		return boolVal(&((A_Const *) arg)->val) ? 1 : 0;
	if (IsA(&((A_Const *) arg)->val, String))
	{
		bool		b;

		return parse_bool(strVal(&((A_Const *) arg)->val), &b) ? (b ? 1 : 0) : -1;
	}
	return -1;
}

/* enable_tenant_isolation()'s shared_rows and replace_policies, on r. */
static void
sim_isolation_options(SimRel *r, int shared, bool replace)
{
	ListCell   *lc;

	if (shared >= 0)
	{
		SgPolicyFacts *p = sg_sim_policy(r, SG_TENANT_SHARED_POLICY);

		if (p != NULL)
			r->policies = list_delete_ptr(r->policies, p);
		if ((p = sg_sim_policy(r, SG_TENANT_SHARED_GATE)) != NULL)
			r->policies = list_delete_ptr(r->policies, p);
		if (shared)
		{
			p = palloc0(sizeof(SgPolicyFacts));
			p->name = SG_TENANT_SHARED_GATE;
			p->cmd = 'r';
			p->permissive = false;
			p->uses_current_tenant = true;
			r->policies = lappend(r->policies, p);
			p = palloc0(sizeof(SgPolicyFacts));
			p->name = SG_TENANT_SHARED_POLICY;
			p->cmd = 'r';
			p->permissive = true;
			p->uses_current_tenant = true;
			p->isolates = p->shares_rows = true;
			r->policies = lappend(r->policies, p);
		}
	}
	if (!replace)
		return;
	foreach(lc, r->policies)
	{
		SgPolicyFacts *p = lfirst(lc);

		if (p->permissive && !p->isolates)
			r->policies = foreach_delete_current(r->policies, lc);
	}
}

/*
 * SELECT schemaguard.enable_tenant_isolation('table'): what it would do, on
 * the table and, for a partitioned one, on every partition, as the function
 * does: the catalog's partitions and those the script attached to it.
 */
static void
sim_enable_tenant_isolation(LintState *ls, const char *target, FuncCall *fc)
{
	int			shared = bool_arg(fc, "shared_rows", 2);
	bool		replace = bool_arg(fc, "replace_policies", 3) == 1;
	SimRel	   *r = sim_named(ls, target);
	List	   *todo;

	if (r == NULL)
		return;
	todo = list_make1(r);
	while (todo != NIL)
	{
		SimRel	   *t = linitial(todo);
		HASH_SEQ_STATUS seq;
		SimRel	   *c;
		ListCell   *lc;

		todo = list_delete_first(todo);
		sim_isolate(t);
		sim_isolation_options(t, shared, replace);
		isolation_fails(ls, t);
		if (t->relkind != RELKIND_PARTITIONED_TABLE)
			continue;
		if (OidIsValid(t->relid) && !t->created)
		{
			foreach(lc, find_inheritance_children(t->relid, NoLock))
			{
				RangeVar   *rv = makeRangeVar(get_namespace_name(get_rel_namespace(lfirst_oid(lc))),
											  get_rel_name(lfirst_oid(lc)), -1);

				if ((c = sg_sim_target(ls, rv)) != NULL)
					todo = lappend(todo, c);
			}
		}
		hash_seq_init(&seq, ls->rels);
		while ((c = hash_seq_search(&seq)) != NULL)
		{
			if (c->created && !c->dropped && c->parent != NULL && strcmp(c->parent, t->key) == 0)
				todo = lappend(todo, sg_sim_change(ls, c));
		}
	}
}

/*
 * SELECT schemaguard.allow('rule', '...') and
 * SELECT schemaguard.enable_tenant_isolation('table') in the script.
 */
void
sg_sim_calls(LintState *ls, SelectStmt *stmt)
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
		fname = own_function(fc);
		if (fname == NULL)
			continue;
		if (strcmp(fname, "end_migration") == 0)
		{
			ls->in_migration = ls->migration_in_block = false;
			continue;
		}
		if (fc->args == NIL || !IsA(linitial(fc->args), A_Const) ||
			!IsA(&((A_Const *) linitial(fc->args))->val, String))
			continue;
		arg = strVal(&((A_Const *) linitial(fc->args))->val);
		if (strcmp(fname, "allow") == 0 && list_length(fc->args) == 2)
		{
			const SgRule *rule = sg_rule_by_id(arg);

			if (rule && ls->in_block)
				ls->allowed = lappend(ls->allowed, (void *) rule);
		}
		else if (strcmp(fname, "enable_tenant_isolation") == 0)
			sim_enable_tenant_isolation(ls, arg, fc);
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
			{
				SimStaged  *sg = palloc(sizeof(SimStaged));

				sg->column = col && IsA(col, A_Const) && IsA(&((A_Const *) col)->val, String) ?
					strVal(&((A_Const *) col)->val) : "";
				sg->block = ls->in_block ? ls->block : -1;	/* -1: committed at once */
				r->staged_here = lappend(r->staged_here, sg);
			}
		}
	}
}
