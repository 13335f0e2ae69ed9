/*-------------------------------------------------------------------------
 *
 * catalog_tenant.c
 *		A table as a tenant table: its tenant column, row-level security and
 *		policies read from the catalog (sg_catalog_tenant_facts()), and what
 *		makes one isolated or leaking.  The live source and lint() both read
 *		tenant facts here; the rule judges them in rules_tenant.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/tableam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "optimizer/optimizer.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_depend.h"
#include "catalog/objectaddress.h"
#include "catalog/dependency.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_type.h"
#include "commands/policy.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_func.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

#include "citus.h"
#include "schemaguard.h"


/* ---------- what makes a tenant table isolated ---------- */

/* The command letters of pg_policy.polcmd, in report order. */
static const struct
{
	char		cmd;
	const char *name;
}			policy_cmds[] = {
	{'r', "SELECT"}, {'a', "INSERT"}, {'w', "UPDATE"}, {'d', "DELETE"}
};

/* The policy command letter for CREATE POLICY's cmd_name. */
char
sg_policy_cmd(const char *cmd_name)
{
	if (cmd_name == NULL || strcmp(cmd_name, "all") == 0)
		return '*';
	if (strcmp(cmd_name, "select") == 0)
		return 'r';
	if (strcmp(cmd_name, "insert") == 0)
		return 'a';
	if (strcmp(cmd_name, "update") == 0)
		return 'w';
	if (strcmp(cmd_name, "delete") == 0)
		return 'd';
	return '?';
}

/* What a permissive policy that does not isolate is told. */
static char *
not_isolating(const SgTenantFacts *tf, const SgPolicyFacts *p)
{
	if (p->always_true)
		return psprintf("policy %s lets every row through (its condition is constant true)",
						quote_identifier(p->name));
	return psprintf("policy %s does not restrict rows to the tenant: none of its top-level AND-ed "
					"conditions is %s = schemaguard.current_tenant() with pg_catalog's =",
					quote_identifier(p->name), quote_identifier(tf->column));
}

/*
 * What lets rows of one tenant reach another; NIL when nothing does (the
 * table may still lack a policy: that fails closed).  No FORCE, no row-level
 * security, or a permissive policy that does not isolate (permissive
 * policies are ORed, so one of them is enough to open the table).
 */
List *
sg_tenant_leaks(const SgTenantFacts *tf)
{
	List	   *leaks = NIL;
	ListCell   *lc;

	if (!tf->exists || tf->column == NULL)
		return NIL;
	if (!tf->rls)
		leaks = lappend(leaks, pstrdup("row-level security is not enabled"));
	if (!tf->force)
		leaks = lappend(leaks,
						pstrdup("FORCE ROW LEVEL SECURITY is not set, so the table owner bypasses the policies"));
	foreach(lc, tf->policies)
	{
		SgPolicyFacts *p = lfirst(lc);

		if (p->permissive && !p->isolates)
			leaks = lappend(leaks, not_isolating(tf, p));
	}
	return leaks;
}

/*
 * The permissive policies that keep a table open (permissive policies are
 * OR-ed: one that does not isolate is enough), as enable_tenant_isolation()
 * reports them, live and in lint(): their quoted names, or NULL when there
 * is none, and in *hint the migration that passes (column: the call's
 * tenant column, or NULL to leave it out).
 */
char *
sg_tenant_open_policies(List *policies, const char *qualname, const char *column, char **hint)
{
	StringInfoData names;
	StringInfoData drops;
	ListCell   *lc;

	initStringInfo(&names);
	initStringInfo(&drops);
	foreach(lc, policies)
	{
		SgPolicyFacts *p = lfirst(lc);

		if (!p->permissive || p->isolates)
			continue;
		appendStringInfo(&names, "%s%s", names.len ? ", " : "", quote_identifier(p->name));
		appendStringInfo(&drops, "%sDROP POLICY %s ON %s;", drops.len ? " " : "",
						 quote_identifier(p->name), qualname);
	}
	if (names.len == 0)
		return NULL;
	*hint = psprintf("Let it drop them after creating its own policy: "
					 "SELECT schemaguard.enable_tenant_isolation('%s'%s%s%s, replace_policies => true); "
					 "(add shared_rows => true if rows without a tenant are shared by every tenant: "
					 "docs/tenant.md, \"Coming from current_setting\"), or drop them yourself first: %s",
					 qualname, column ? ", '" : "", column ? column : "", column ? "'" : "", drops.data);
	return names.data;
}

/*
 * What keeps a tenant table from being isolated; NIL when it is isolated or
 * is not a tenant table: the leaks, and any command no permissive policy
 * covers.
 */
List *
sg_tenant_problems(const SgTenantFacts *tf)
{
	List	   *problems = sg_tenant_leaks(tf);
	StringInfoData missing;
	ListCell   *lc;

	if (!tf->exists || tf->column == NULL)
		return NIL;
	initStringInfo(&missing);
	for (int i = 0; i < lengthof(policy_cmds); i++)
	{
		bool		covered = false;

		foreach(lc, tf->policies)
		{
			SgPolicyFacts *p = lfirst(lc);

			if (p->permissive && (p->cmd == '*' || p->cmd == policy_cmds[i].cmd))
				covered = true;
		}
		if (!covered)
			appendStringInfo(&missing, "%s%s", missing.len ? ", " : "", policy_cmds[i].name);
	}
	if (missing.len)
		problems = lappend(problems, psprintf("no permissive policy covers %s", missing.data));
	return problems;
}

/* ---------- catalog facts ---------- */

/* The OID of schemaguard.current_tenant(), or InvalidOid. */
static Oid
current_tenant_oid(void)
{
	return LookupFuncName(list_make2(makeString(SG_SCHEMA), makeString("current_tenant")),
						  0, NULL, true);
}

/* The OID of schemaguard.current_tenant_as(anyelement) (1.6), or InvalidOid. */
Oid
sg_current_tenant_as_oid(void)
{
	Oid			argtype = ANYELEMENTOID;

	return LookupFuncName(list_make2(makeString(SG_SCHEMA), makeString("current_tenant_as")),
						  1, &argtype, true);
}

typedef struct UsesFuncContext
{
	Oid			funcid;
	Oid			as_funcid;
} UsesFuncContext;

static bool
uses_func_walker(Node *node, UsesFuncContext *cxt)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncExpr) && (((FuncExpr *) node)->funcid == cxt->funcid ||
								((FuncExpr *) node)->funcid == cxt->as_funcid))
		return true;
	return expression_tree_walker(node, uses_func_walker, (void *) cxt);
}

/* A stored policy expression (pg_node_tree), or NULL. */
static Node *
policy_expr(HeapTuple tup, TupleDesc desc, int attno)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attno, desc, &isnull);

	if (isnull)
		return NULL;
	return stringToNode(TextDatumGetCString(d));
}

/* Is a policy expression the constant true? */
static bool
constant_true(Node *expr)
{
	return expr != NULL && IsA(expr, Const) && !((Const *) expr)->constisnull &&
		((Const *) expr)->consttype == BOOLOID && DatumGetBool(((Const *) expr)->constvalue);
}

/* Under binary-compatible relabelling (varchar to text, a domain to its base). */
static Node *
strip_relabel(Node *n)
{
	while (n != NULL && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	return n;
}

/* Is n a call of schemaguard.current_tenant()? */
static bool
is_tenant_call(Node *n, Oid tenant_fn)
{
	n = strip_relabel(n);
	return n != NULL && IsA(n, FuncExpr) && ((FuncExpr *) n)->funcid == tenant_fn &&
		((FuncExpr *) n)->args == NIL;
}

/* Is n schemaguard.current_tenant_as(<a constant>) (as_fn)? */
static bool
is_tenant_as_call(Node *n, Oid as_fn)
{
	n = strip_relabel(n);
	return OidIsValid(as_fn) && n != NULL && IsA(n, FuncExpr) &&
		((FuncExpr *) n)->funcid == as_fn && list_length(((FuncExpr *) n)->args) == 1 &&
		IsA(linitial(((FuncExpr *) n)->args), Const);
}

/* Is n the tenant column of the policy's own table? */
static bool
is_tenant_var(Node *n, AttrNumber attnum)
{
	n = strip_relabel(n);
	return n != NULL && IsA(n, Var) && ((Var *) n)->varattno == attnum &&
		((Var *) n)->varlevelsup == 0;
}

/* n's argument under an I/O conversion cast (CoerceViaIO) to type typid, or NULL. */
static Node *
io_cast_arg(Node *n, Oid typid)
{
	n = strip_relabel(n);
	if (n == NULL || !IsA(n, CoerceViaIO))
		return NULL;
	if (OidIsValid(typid) && ((CoerceViaIO *) n)->resulttype != typid)
		return NULL;
	return (Node *) ((CoerceViaIO *) n)->arg;
}

/*
 * Is opno pg_catalog's "=", compared under a deterministic collation?  An
 * operator of any other schema may be anyone's (a "=" in public that
 * returns true), and a nondeterministic collation makes different tenants
 * equal.
 */
static bool
catalog_equality(Oid opno, Oid inputcollid)
{
	HeapTuple	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opno));
	bool		ok;

	if (!HeapTupleIsValid(tup))
		return false;
	ok = ((Form_pg_operator) GETSTRUCT(tup))->oprnamespace == PG_CATALOG_NAMESPACE &&
		strcmp(NameStr(((Form_pg_operator) GETSTRUCT(tup))->oprname), "=") == 0;
	ReleaseSysCache(tup);
	return ok && (!OidIsValid(inputcollid) || get_collation_isdeterministic(inputcollid));
}

/* The top-level AND-ed conditions of a boolean expression. */
static List *
conjuncts(Node *expr, List *out)
{
	if (expr != NULL && is_andclause(expr))
	{
		ListCell   *lc;

		foreach(lc, ((BoolExpr *) expr)->args)
			out = conjuncts(lfirst(lc), out);
		return out;
	}
	return lappend(out, expr);
}

/*
 * Does a stored policy condition restrict rows to the tenant?  It does when
 * one of its top-level AND-ed conditions is, with pg_catalog's = (see
 * catalog_equality()):
 *
 *	 tenant_column = schemaguard.current_tenant()
 *		the column text-like (text, varchar of any length, or a type cast to
 *		text without a function, such as a domain): compared as text, the
 *		tenant value never cast, so never truncated;
 *	 tenant_column::text = schemaguard.current_tenant()
 *		any type, compared as its canonical text;
 *	 tenant_column = schemaguard.current_tenant_as(NULL::T)
 *		for integer and uuid columns (what enable_tenant_isolation() writes
 *		since 1.6): the function gives the tenant as a T only for its
 *		canonical spelling (NULL otherwise), so '007' or an upper-case uuid
 *		never reads tenant 7's rows; with a constant argument it is an index
 *		condition, evaluated once per scan;
 *	 tenant_column = schemaguard.current_tenant()::T
 *		AND (schemaguard.current_tenant()::T)::text = schemaguard.current_tenant()
 *		what 1.5 wrote for those columns: the same meaning, but the second
 *		condition is evaluated for every row (a security qual with casts that
 *		are not leakproof is not hoisted); enable_tenant_isolation() replaces
 *		it.
 *
 * Anything else ANDed to it can only narrow what it lets through; an OR at
 * the top does not isolate.
 */
static bool
isolating(Node *expr, AttrNumber attnum, Oid tenant_fn)
{
	bool		direct = false;
	bool		via_cast = false;
	bool		canonical = false;
	Oid			as_fn;
	ListCell   *lc;

	if (expr == NULL || !OidIsValid(tenant_fn) || attnum <= 0)
		return false;
	as_fn = sg_current_tenant_as_oid();
	foreach(lc, conjuncts(expr, NIL))
	{
		OpExpr	   *op = lfirst(lc);

		if (op == NULL || !IsA(op, OpExpr) || list_length(op->args) != 2 ||
			!catalog_equality(op->opno, op->inputcollid))
			continue;
		for (int side = 0; side < 2; side++)
		{
			Node	   *a = list_nth(op->args, side);
			Node	   *b = list_nth(op->args, 1 - side);
			Node	   *inner;

			if (is_tenant_var(a, attnum) && is_tenant_as_call(b, as_fn))
			{
				direct = true;
				continue;
			}
			if (!is_tenant_call(b, tenant_fn) && !is_tenant_call(io_cast_arg(b, InvalidOid), tenant_fn))
				continue;
			if (is_tenant_call(b, tenant_fn) &&
				(is_tenant_var(a, attnum) || is_tenant_var(io_cast_arg(a, TEXTOID), attnum)))
				direct = true;
			else if (is_tenant_var(a, attnum) && is_tenant_call(io_cast_arg(b, InvalidOid), tenant_fn))
				via_cast = true;
			if (is_tenant_call(b, tenant_fn) && (inner = io_cast_arg(a, TEXTOID)) != NULL &&
				is_tenant_call(io_cast_arg(inner, InvalidOid), tenant_fn))
				canonical = true;
		}
	}
	return direct || (via_cast && canonical);
}

/* Is n "arg IS [NOT] NULL" (not a row test)? */
static bool
null_test(Node *n, NullTestType type)
{
	return n != NULL && IsA(n, NullTest) && ((NullTest *) n)->nulltesttype == type &&
		!((NullTest *) n)->argisrow;
}

/*
 * The shared arm of the shared-rows shape: tenant_column IS NULL, alone or
 * ANDed with schemaguard.current_tenant() IS NOT NULL (what
 * enable_tenant_isolation() writes: without a tenant, no shared row either).
 */
static bool
shared_arm(Node *n, AttrNumber attnum, Oid tenant_fn)
{
	BoolExpr   *b = (BoolExpr *) n;

	if (null_test(n, IS_NULL))
		return is_tenant_var((Node *) ((NullTest *) n)->arg, attnum);
	if (n == NULL || !IsA(n, BoolExpr) || b->boolop != AND_EXPR || list_length(b->args) != 2)
		return false;
	for (int side = 0; side < 2; side++)
	{
		Node	   *a = list_nth(b->args, side);
		Node	   *c = list_nth(b->args, 1 - side);

		if (null_test(a, IS_NULL) && is_tenant_var((Node *) ((NullTest *) a)->arg, attnum) &&
			null_test(c, IS_NOT_NULL) && is_tenant_call((Node *) ((NullTest *) c)->arg, tenant_fn))
			return true;
	}
	return false;
}

/*
 * The shared-rows shape, for a FOR SELECT policy only:
 *	 <shared arm>, or <shared arm> OR <isolating()> (either order)
 * every tenant reads its own rows and the rows of no tenant.  Writes are
 * judged by the other policies, whose WITH CHECK keeps a tenant from
 * creating or taking over a shared row.
 */
static bool
shared_rows(Node *expr, AttrNumber attnum, Oid tenant_fn)
{
	BoolExpr   *b = (BoolExpr *) expr;

	if (shared_arm(expr, attnum, tenant_fn))
		return true;
	if (expr == NULL || !IsA(expr, BoolExpr) || b->boolop != OR_EXPR || list_length(b->args) != 2)
		return false;
	for (int side = 0; side < 2; side++)
	{
		if (shared_arm(list_nth(b->args, side), attnum, tenant_fn) &&
			isolating(list_nth(b->args, 1 - side), attnum, tenant_fn))
			return true;
	}
	return false;
}

/*
 * The first object a policy depends on (pg_depend, as recorded from its
 * expressions) that lies outside pg_catalog and schemaguard, described; or
 * NULL.  Its own table and columns do not count.
 */
static char *
policy_foreign_dependency(Oid polid, Oid relid)
{
	Relation	dep = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			sg_nsp = get_namespace_oid(SG_SCHEMA, true);
	char	   *found = NULL;

	ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(PolicyRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(polid));
	scan = systable_beginscan(dep, DependDependerIndexId, true, NULL, 2, key);
	while (found == NULL && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);
		ObjectAddress ref = {d->refclassid, d->refobjid, d->refobjsubid};
		Oid			nsp;

		if (ref.classId == RelationRelationId && ref.objectId == relid)
			continue;
		if (!is_objectclass_supported(ref.classId))
			continue;
		nsp = get_object_namespace(&ref);
		if (OidIsValid(nsp) && nsp != PG_CATALOG_NAMESPACE && nsp != sg_nsp)
			found = getObjectDescription(&ref, true);
		else if (!OidIsValid(nsp) && ref.classId == RelationRelationId)
			found = getObjectDescription(&ref, true);
	}
	systable_endscan(scan);
	table_close(dep, AccessShareLock);
	return found;
}

/* The policies of a relation, from pg_policy, judged against its tenant column. */
static List *
catalog_policies(Oid relid, const char *column)
{
	Relation	pol = table_open(PolicyRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *out = NIL;
	UsesFuncContext cxt;
	AttrNumber	attnum = column ? get_attnum(relid, column) : InvalidAttrNumber;

	cxt.funcid = current_tenant_oid();
	cxt.as_funcid = sg_current_tenant_as_oid();
	ScanKeyInit(&key, Anum_pg_policy_polrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(pol, PolicyPolrelidPolnameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_policy form = (Form_pg_policy) GETSTRUCT(tup);
		SgPolicyFacts *p = palloc0(sizeof(SgPolicyFacts));
		Node	   *qual = policy_expr(tup, RelationGetDescr(pol), Anum_pg_policy_polqual);
		Node	   *check = policy_expr(tup, RelationGetDescr(pol), Anum_pg_policy_polwithcheck);

		p->name = pstrdup(NameStr(form->polname));
		p->cmd = form->polcmd;
		p->permissive = form->polpermissive;
		p->always_true = constant_true(qual) || constant_true(check);
		p->uses_current_tenant = (OidIsValid(cxt.funcid) || OidIsValid(cxt.as_funcid)) &&
			(uses_func_walker(qual, &cxt) || uses_func_walker(check, &cxt));
		/* USING filters what is read; WITH CHECK (or USING) what is written */
		p->isolates = (qual != NULL || check != NULL) &&
			(qual == NULL || isolating(qual, attnum, cxt.funcid)) &&
			(check == NULL || isolating(check, attnum, cxt.funcid));
		if (!p->isolates && p->cmd == 'r' && check == NULL &&
			shared_rows(qual, attnum, cxt.funcid))
			p->isolates = p->shares_rows = true;
		p->foreign_dep = policy_foreign_dependency(form->oid, relid);
		out = lappend(out, p);
	}
	systable_endscan(scan);
	table_close(pol, AccessShareLock);
	return out;
}

/* The first configured tenant column that relid has, or NULL. */
char *
sg_catalog_tenant_column(Oid relid)
{
	ListCell   *lc;

	foreach(lc, sg_tenant_column_names())
	{
		AttrNumber	att = get_attnum(relid, strVal(lfirst(lc)));

		if (att > 0)
			return strVal(lfirst(lc));
	}
	return NULL;
}

/*
 * What the catalog says about relid as a tenant table.  out->exists is false
 * for what is not a non-temporary user table.
 */
void
sg_catalog_tenant_facts(Oid relid, SgTenantFacts *out)
{
	sg_catalog_tenant_facts_for(relid, NULL, out);
}

/*
 * The same, for a tenant column named by the caller (enable_tenant_isolation()
 * with its column argument); NULL: the first of schemaguard.tenant_columns.
 */
void
sg_catalog_tenant_facts_for(Oid relid, const char *column, SgTenantFacts *out)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class form;

	memset(out, 0, sizeof(SgTenantFacts));
	if (!HeapTupleIsValid(tup))
		return;
	form = (Form_pg_class) GETSTRUCT(tup);
	if ((form->relkind == RELKIND_RELATION || form->relkind == RELKIND_PARTITIONED_TABLE) &&
		form->relpersistence != RELPERSISTENCE_TEMP && !IsCatalogNamespace(form->relnamespace) &&
		!IsToastNamespace(form->relnamespace))
	{
		out->exists = true;
		out->relid = relid;
		out->qualname = quote_qualified_identifier(get_namespace_name(form->relnamespace),
												   NameStr(form->relname));
		out->rls = form->relrowsecurity;
		out->force = form->relforcerowsecurity;
	}
	ReleaseSysCache(tup);
	if (!out->exists)
		return;
	out->column = column ? pstrdup(column) : sg_catalog_tenant_column(relid);
	if (out->column == NULL)
		return;
	out->policies = catalog_policies(relid, out->column);
	out->tenant_index = sg_catalog_index_leads(relid, list_make1(makeString(pstrdup(out->column))));
	out->baselined = sg_tenant_baselined(relid);
}

/* Does a permissive policy of the table share rows (shared_rows())? */
bool
sg_tenant_shares_rows(const SgTenantFacts *tf)
{
	ListCell   *lc;

	foreach(lc, tf->policies)
	{
		SgPolicyFacts *p = lfirst(lc);

		if (p->permissive && p->shares_rows)
			return true;
	}
	return false;
}

/*
 * schemaguard.tenant_baseline: the tenant tables recorded as leaking when a
 * team adopted schemaguard (baseline_tenant_leaks()), read by OID.  NULL
 * when the table does not exist (before the 1.8 update).
 */
static Relation
baseline_open(LOCKMODE mode)
{
	Oid			nsp = get_namespace_oid(SG_SCHEMA, true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("tenant_baseline", nsp) : InvalidOid;

	return OidIsValid(relid) ? table_open(relid, mode) : NULL;
}

/* Is relid recorded in the baseline?  If forget, its row is deleted. */
static bool
baseline_find(Oid relid, bool forget)
{
	Relation	rel = baseline_open(forget ? RowExclusiveLock : AccessShareLock);
	ScanKeyData key;
	TableScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	if (rel == NULL)
		return false;
	/* its first column, table_name regclass, compared as an OID */
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = table_beginscan_catalog(rel, 1, &key);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		found = true;
		if (forget)
			simple_heap_delete(rel, &tup->t_self);
	}
	table_endscan(scan);
	table_close(rel, NoLock);
	return found;
}

/* Is relid a tenant table recorded in schemaguard.tenant_baseline? */
bool
sg_tenant_baselined(Oid relid)
{
	return baseline_find(relid, false);
}

/* Remove relid from the baseline (it is isolated now). */
void
sg_tenant_baseline_forget(Oid relid)
{
	if (baseline_find(relid, true))
		CommandCounterIncrement();
}

/*
 * Is the existing policy one that enable_tenant_isolation() would leave as
 * it is: FOR ALL, permissive, the same isolating condition for USING and
 * WITH CHECK, nothing outside pg_catalog and schemaguard?
 */
bool
sg_policy_is_ours(Oid relid, AttrNumber attnum)
{
	Relation	pol = table_open(PolicyRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		ours = false;

	ScanKeyInit(&key[0], Anum_pg_policy_polrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&key[1], Anum_pg_policy_polname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum(SG_TENANT_POLICY));
	scan = systable_beginscan(pol, PolicyPolrelidPolnameIndexId, true, NULL, 2, &key[0]);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_policy form = (Form_pg_policy) GETSTRUCT(tup);
		Node	   *qual = policy_expr(tup, RelationGetDescr(pol), Anum_pg_policy_polqual);
		Node	   *check = policy_expr(tup, RelationGetDescr(pol), Anum_pg_policy_polwithcheck);

		ours = form->polcmd == '*' && form->polpermissive && qual != NULL &&
			equal(qual, check) && isolating(qual, attnum, current_tenant_oid()) &&
			policy_foreign_dependency(form->oid, relid) == NULL;

		/*
		 * For an integer or uuid column, 1.5's shape (a per-row canonical
		 * check) isolates but is rewritten once current_tenant_as() exists.
		 */
		if (ours)
		{
			Oid			base = getBaseType(get_atttype(relid, attnum));
			UsesFuncContext cxt = {InvalidOid, sg_current_tenant_as_oid()};

			if (OidIsValid(cxt.as_funcid) &&
				(base == INT2OID || base == INT4OID || base == INT8OID || base == UUIDOID))
				ours = uses_func_walker(qual, &cxt);
		}
	}
	systable_endscan(scan);
	table_close(pol, AccessShareLock);
	return ours;
}
