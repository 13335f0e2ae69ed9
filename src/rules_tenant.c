/*-------------------------------------------------------------------------
 *
 * rules_tenant.c
 *		Tenant tables: rule tenant-table-rls, enable_tenant_isolation() and
 *		tenant_report().
 *
 * A tenant table is a table (plain or partitioned, not temporary) with a
 * column named in schemaguard.tenant_columns.  It is isolated when row-level
 * security is enabled and forced, and permissive policies cover SELECT,
 * INSERT, UPDATE and DELETE without one of them letting every row through.
 *
 * The rule is judged at the end of the transaction, so that a migration can
 * create a table and its policies in one transaction: each statement that
 * can make a table a tenant table, or weaken its isolation, leaves a
 * deferred finding naming the table; before COMMIT (or PREPARE) the engine
 * asks sg_tenant_recheck() whether the table is a tenant table and is still
 * not isolated, and sg_tenant_merge() folds every offending table into one
 * report.  lint() runs the same check and recheck over its simulation.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
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

#define SG_TENANT_POLICY	"schemaguard_tenant_isolation"

PG_FUNCTION_INFO_V1(sg_enable_tenant_isolation);
PG_FUNCTION_INFO_V1(sg_tenant_report);

/* ---------- the rule ---------- */

/* Leave a deferred finding for the table rv names. */
static void
defer_tenant_check(const SgRule *rule, const RangeVar *rv, List **findings)
{
	SgFinding  *f;

	if (rv == NULL || rv->relpersistence == RELPERSISTENCE_TEMP)
		return;
	f = sg_add_finding(findings, rule, pstrdup(""), NULL, NULL);
	f->deferred = true;
	sg_init_facts(&f->target);
	f->target.qualname = sg_rangevar_name(rv);
	f->target.table_qualname = f->target.qualname;
	f->relation = rv;
}

/* Does a CREATE TABLE's column list name a tenant column, or take columns from elsewhere? */
static bool
create_may_add_tenant_column(CreateStmt *cs)
{
	ListCell   *lc;

	if (cs->inhRelations != NIL || cs->partbound != NULL || cs->ofTypename != NULL)
		return true;
	foreach(lc, cs->tableElts)
	{
		Node	   *n = lfirst(lc);

		if (IsA(n, TableLikeClause))
			return true;
		if (IsA(n, ColumnDef) && sg_is_tenant_column(((ColumnDef *) n)->colname))
			return true;
	}
	return false;
}

/*
 * Does rv name an existing relation?  For IF NOT EXISTS, which then leaves
 * it alone: a legacy table is not judged because a migration skipped it.
 */
static bool
already_exists(const SgStatement *st, RangeVar *rv)
{
	SgLockSpec	name_only = {NoLock, NoLock, false, NULL, false};
	SgRelFacts	t;

	st->facts->relation(st->facts, rv, name_only, &t);
	return t.exists && !t.unknown;
}

/* Does the table rv names already have this column? */
static bool
already_has_column(const SgStatement *st, RangeVar *rv, const char *column)
{
	SgLockSpec	name_only = {NoLock, NoLock, false, NULL, false};
	SgRelFacts	t;

	st->facts->relation(st->facts, rv, name_only, &t);
	return t.exists && !t.unknown && st->facts->has_column(st->facts, &t, column);
}

/*
 * Statements that can make a table a tenant table or weaken its isolation
 * leave a deferred finding for it; the table is judged at commit.
 */
static void
sg_check_tenant_table(const SgStatement *st, const SgRule *rule, List **findings)
{
	Node	   *n = st->parsetree;
	ListCell   *lc;

	switch (nodeTag(n))
	{
		case T_CreateStmt:
			{
				CreateStmt *cs = (CreateStmt *) n;

				if (create_may_add_tenant_column(cs) &&
					!(cs->if_not_exists && already_exists(st, cs->relation)))
					defer_tenant_check(rule, cs->relation, findings);
				break;
			}
		case T_CreateTableAsStmt:
			{
				CreateTableAsStmt *ctas = (CreateTableAsStmt *) n;

				if (ctas->objtype == OBJECT_TABLE &&
					!(ctas->if_not_exists && already_exists(st, ctas->into->rel)))
					defer_tenant_check(rule, ctas->into->rel, findings);
				break;
			}
		case T_AlterTableStmt:
			{
				AlterTableStmt *at = (AlterTableStmt *) n;

				if (at->objtype != OBJECT_TABLE)
					break;
				foreach(lc, at->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					switch (cmd->subtype)
					{
						case AT_AddColumn:
							if (!sg_is_tenant_column(castNode(ColumnDef, cmd->def)->colname))
								continue;
							/* ADD COLUMN IF NOT EXISTS of a column it has: skipped */
							if (cmd->missing_ok && already_has_column(st, at->relation,
																	  castNode(ColumnDef, cmd->def)->colname))
								continue;
							break;
						case AT_AttachPartition:
							defer_tenant_check(rule, castNode(PartitionCmd, cmd->def)->name, findings);
							break;
						case AT_DisableRowSecurity:
						case AT_NoForceRowSecurity:
							break;
						default:
							continue;
					}
					defer_tenant_check(rule, at->relation, findings);
					break;
				}
				break;
			}
		case T_RenameStmt:
			{
				RenameStmt *rs = (RenameStmt *) n;

				if (rs->renameType == OBJECT_COLUMN && rs->relationType == OBJECT_TABLE &&
					sg_is_tenant_column(rs->newname))
					defer_tenant_check(rule, rs->relation, findings);
				break;
			}
		case T_DropStmt:
			{
				DropStmt   *ds = (DropStmt *) n;

				if (ds->removeType != OBJECT_POLICY)
					break;
				foreach(lc, ds->objects)
				{
					List	   *names = lfirst(lc);

					/* schema.table.policy: the table is all but the last name */
					if (list_length(names) >= 2)
						defer_tenant_check(rule, sg_rangevar_from_names(list_truncate(list_copy(names),
																		 list_length(names) - 1)),
							  findings);
				}
				break;
			}
		case T_CreatePolicyStmt:
			defer_tenant_check(rule, ((CreatePolicyStmt *) n)->table, findings);
			break;
		case T_AlterPolicyStmt:
			defer_tenant_check(rule, ((AlterPolicyStmt *) n)->table, findings);
			break;
		default:
			break;
	}
}

static const SgRule rule_tenant_table_rls = {
	.id = "tenant-table-rls",
	.family = "tenant",
	.default_level = SG_LEVEL_ERROR,
	.stmt_tags = {T_CreateStmt, T_CreateTableAsStmt, T_AlterTableStmt, T_RenameStmt, T_DropStmt, T_CreatePolicyStmt, T_AlterPolicyStmt},
	.check = sg_check_tenant_table,
	.description = "a transaction that leaves a tenant table without row-level security, FORCE, or permissive policies for every command",
	.recheck = sg_tenant_recheck,
	.merge = sg_tenant_merge,
};

static char *isolation_call(const SgTenantFacts *tf);
static char *catalog_tenant_column(Oid relid);

/* ---------- while a statement runs (hooks.c) ---------- */

/*
 * Is relid a tenant table that nothing leaks from now (sg_tenant_leaks()),
 * and not one created in this transaction?  Asked before a statement that
 * may weaken it, and at a policy's drop.
 */
bool
sg_tenant_sealed(Oid relid)
{
	Relation	rel = RelationIdGetRelation(relid);
	bool		created;
	SgTenantFacts tf;

	if (rel == NULL)
		return false;
	created = rel->rd_createSubid != InvalidSubTransactionId ||
		rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP;
	RelationClose(rel);
	if (created)
		return false;
	sg_catalog_tenant_facts(relid, &tf);
	return tf.exists && tf.column != NULL && sg_tenant_leaks(&tf) == NIL;
}

/*
 * After a statement: a tenant table that was sealed before it and leaks now
 * is refused at once, not at commit, for the transaction could read every
 * tenant's rows before it ends (and end with ROLLBACK).  Every table the
 * statement created or changed (by OID, as the object access hook saw it)
 * is judged again at commit.
 */
void
sg_tenant_after_statement(const SgStatement *st, List *sealed, List *relids)
{
	const SgRule *rule = sg_rule_by_id("tenant-table-rls");
	List	   *now = NIL;
	List	   *later = NIL;
	ListCell   *lc;

	if (sg_rule_level(rule) == SG_LEVEL_OFF)
		return;
	foreach(lc, sealed)
	{
		SgTenantFacts tf;
		List	   *leaks;
		StringInfoData buf;
		ListCell   *lc2;

		sg_catalog_tenant_facts(lfirst_oid(lc), &tf);
		leaks = sg_tenant_leaks(&tf);
		if (leaks == NIL)
			continue;
		initStringInfo(&buf);
		foreach(lc2, leaks)
			appendStringInfo(&buf, "%s%s", buf.len ? "; " : "", (char *) lfirst(lc2));
		sg_add_finding(&now, rule,
					   psprintf("%s, which removes the isolation of tenant table %s,",
								GetCommandTagName(CreateCommandTag(st->parsetree)), tf.qualname),
					   psprintf("After it, %s (tenant column %s) would let rows of one tenant reach "
								"another: %s. This transaction could read them before it ends.",
								tf.qualname, quote_identifier(tf.column), buf.data),
					   psprintf("Keep the table isolated at every step: to replace a policy, create the new "
								"one before dropping the old; %s", isolation_call(&tf)));
	}
	sg_report_extra(st, now);
	if (relids == NIL || sg_statement_ignores(st, rule))
		return;

	foreach(lc, relids)
	{
		SgFinding  *f;

		char		relkind = get_rel_relkind(lfirst_oid(lc));

		if ((relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE) ||
			catalog_tenant_column(lfirst_oid(lc)) == NULL)
			continue;
		f = sg_add_finding(&later, rule, pstrdup(""), NULL, NULL);
		f->deferred = true;
		sg_init_facts(&f->target);
		f->target.relid = lfirst_oid(lc);
	}
	sg_defer_findings(later);
}

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

/* The enable_tenant_isolation() call that fixes a table, as SQL. */
static char *
isolation_call(const SgTenantFacts *tf)
{
	List	   *cols = sg_tenant_column_names();

	if (cols != NIL && strcmp(strVal(linitial(cols)), tf->column) == 0)
		return psprintf("SELECT schemaguard.enable_tenant_isolation(%s);",
						quote_literal_cstr(tf->qualname));
	return psprintf("SELECT schemaguard.enable_tenant_isolation(%s, %s);",
					quote_literal_cstr(tf->qualname), quote_literal_cstr(tf->column));
}

/*
 * At commit: is the table of a deferred finding a tenant table that is not
 * isolated?  If so, the finding is filled in with what is wrong.
 */
bool
sg_tenant_recheck(SgFactSource *facts, SgFinding *f)
{
	SgTenantFacts tf;
	List	   *problems;
	StringInfoData buf;
	ListCell   *lc;

	memset(&tf, 0, sizeof(tf));
	facts->tenant(facts, f->target.relid, f->relation, &tf);
	problems = sg_tenant_problems(&tf);
	if (problems == NIL)
		return false;

	initStringInfo(&buf);
	foreach(lc, problems)
		appendStringInfo(&buf, "%s%s", buf.len ? "; " : "", (char *) lfirst(lc));
	f->target.qualname = tf.qualname;
	f->message = sg_rule_message(f->rule,
								 psprintf("a transaction that leaves tenant table %s without row-level security isolation",
										  tf.qualname));
	f->detail = psprintf("%s (tenant column %s): %s.", tf.qualname,
						 quote_identifier(tf.column), buf.data);
	f->hint = isolation_call(&tf);
	return true;
}

/*
 * Fold the findings of every offending table into one report, naming each
 * table once.
 */
SgFinding *
sg_tenant_merge(List *findings)
{
	SgFinding  *first = linitial(findings);
	SgFinding  *out;
	StringInfoData names,
				detail,
				hint;
	HTAB	   *seen = NULL;
	ListCell   *lc;
	int			n = 0;

	initStringInfo(&names);
	initStringInfo(&detail);
	initStringInfo(&hint);
	foreach(lc, findings)
	{
		SgFinding  *f = lfirst(lc);

		if (sg_seen(&seen, f->target.qualname))
			continue;
		appendStringInfo(&names, "%s%s", n ? ", " : "", f->target.qualname);
		appendStringInfo(&detail, "%s%s", n ? "\n" : "", f->detail);
		appendStringInfo(&hint, "%s%s", n ? " " : "", f->hint);
		n++;
	}
	if (n == 1)
		return first;
	out = palloc(sizeof(SgFinding));
	*out = *first;
	out->message = sg_rule_message(first->rule,
								   psprintf("a transaction that leaves tenant tables %s without row-level security isolation",
											names.data));
	out->detail = detail.data;
	out->hint = hint.data;
	return out;
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
static Oid
current_tenant_as_oid(void)
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
	as_fn = current_tenant_as_oid();
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
	cxt.as_funcid = current_tenant_as_oid();
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
		p->foreign_dep = policy_foreign_dependency(form->oid, relid);
		out = lappend(out, p);
	}
	systable_endscan(scan);
	table_close(pol, AccessShareLock);
	return out;
}

/* The first configured tenant column that relid has, or NULL. */
static char *
catalog_tenant_column(Oid relid)
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
	out->column = catalog_tenant_column(relid);
	if (out->column == NULL)
		return;
	out->policies = catalog_policies(relid, out->column);
	out->tenant_index = sg_catalog_index_leads(relid, list_make1(makeString(pstrdup(out->column))));
}

/* ---------- enable_tenant_isolation() ---------- */

/* The statements enable_tenant_isolation() ran, kept outside SPI's memory. */
typedef struct Isolation
{
	MemoryContext cxt;
	List	   *done;
} Isolation;

/* Run one statement through SPI (and so through the guard), and keep it. */
static void
run_isolation_sql(const char *sql, Isolation *iso)
{
	int			rc = SPI_execute(sql, false, 0);
	MemoryContext old;

	if (rc < 0)
		elog(ERROR, "schemaguard: could not run \"%s\": %s", sql, SPI_result_code_string(rc));
	old = MemoryContextSwitchTo(iso->cxt);
	iso->done = lappend(iso->done, pstrdup(sql));
	MemoryContextSwitchTo(old);
}

/*
 * Is the existing policy one that enable_tenant_isolation() would leave as
 * it is: FOR ALL, permissive, the same isolating condition for USING and
 * WITH CHECK, nothing outside pg_catalog and schemaguard?
 */
static bool
policy_is_ours(Oid relid, AttrNumber attnum)
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
			UsesFuncContext cxt = {InvalidOid, current_tenant_as_oid()};

			if (OidIsValid(cxt.as_funcid) &&
				(base == INT2OID || base == INT4OID || base == INT8OID || base == UUIDOID))
				ours = uses_func_walker(qual, &cxt);
		}
	}
	systable_endscan(scan);
	table_close(pol, AccessShareLock);
	return ours;
}

/*
 * The condition and the column default that isolate a tenant column of this
 * type, as SQL naming the column col.  Every operator, function and type is
 * schema-qualified, and the tenant value is never cast to a type that could
 * shorten or fold it (see isolating()).  Types where equality is not
 * identity are refused: char(n) pads and compares without trailing spaces,
 * citext and nondeterministic collations fold case, numeric and floats have
 * several spellings of one value.
 */
static void
isolation_sql(Oid relid, Form_pg_attribute att, const char *col, char **cond, char **def)
{
	Oid			base = getBaseType(att->atttypid);
	const char *cast = NULL;

	switch (base)
	{
		case TEXTOID:
		case VARCHAROID:
			if (OidIsValid(att->attcollation) && !get_collation_isdeterministic(att->attcollation))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("tenant column \"%s\" of \"%s\" has a nondeterministic collation",
								NameStr(att->attname), get_rel_name(relid)),
						 errdetail("Under collation %s, different tenant values can compare equal.",
								   generate_collation_name(att->attcollation)),
						 errhint("ALTER TABLE %s ALTER COLUMN %s TYPE %s COLLATE \"C\";",
								 get_rel_name(relid), col, format_type_be(att->atttypid))));
			*cond = psprintf("%s OPERATOR(pg_catalog.=) %s.current_tenant()", col, SG_SCHEMA);
			*def = psprintf("%s.current_tenant()", SG_SCHEMA);
			return;
		case INT2OID:
			cast = "pg_catalog.int2";
			break;
		case INT4OID:
			cast = "pg_catalog.int4";
			break;
		case INT8OID:
			cast = "pg_catalog.int8";
			break;
		case UUIDOID:
			cast = "pg_catalog.uuid";
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("tenant column \"%s\" of \"%s\" is of type %s, which schemaguard cannot isolate on",
							NameStr(att->attname), get_rel_name(relid), format_type_be(att->atttypid)),
					 errdetail("Tenant columns must be text, varchar, smallint, integer, bigint or uuid "
							   "(or a domain over one): for other types equal values can be told apart, or "
							   "different tenants compare equal."),
					 errhint("Use a text or integer tenant column.")));
	}
	if (!OidIsValid(current_tenant_as_oid()))
	{
		/* the 1.5 objects, before ALTER EXTENSION UPDATE: 1.5's shape */
		*cond = psprintf("%s OPERATOR(pg_catalog.=) (%s.current_tenant())::%s AND "
						 "((%s.current_tenant())::%s)::pg_catalog.text OPERATOR(pg_catalog.=) %s.current_tenant()",
						 col, SG_SCHEMA, cast, SG_SCHEMA, cast, SG_SCHEMA);
		*def = psprintf("(%s.current_tenant())::%s", SG_SCHEMA, cast);
		return;
	}
	*cond = psprintf("%s OPERATOR(pg_catalog.=) %s.current_tenant_as(NULL::%s)", col, SG_SCHEMA, cast);
	*def = psprintf("%s.current_tenant_as(NULL::%s)", SG_SCHEMA, cast);
}

/* Isolate one table on column attnum; append the statements run to *done. */
static void
isolate_one(Oid relid, AttrNumber attnum, Isolation *iso)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	HeapTuple	att;
	Form_pg_class form;
	const char *qual;
	const char *col;
	char	   *cond;
	char	   *def;
	bool		rls,
				force,
				hasdef;
	NameData	attname;
	char	   *dist;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	form = (Form_pg_class) GETSTRUCT(tup);
	qual = quote_qualified_identifier(get_namespace_name(form->relnamespace),
									  NameStr(form->relname));
	rls = form->relrowsecurity;
	force = form->relforcerowsecurity;
	ReleaseSysCache(tup);

	att = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
	if (!HeapTupleIsValid(att))
		elog(ERROR, "cache lookup failed for attribute %d of relation %u", attnum, relid);
	col = quote_identifier(pstrdup(NameStr(((Form_pg_attribute) GETSTRUCT(att))->attname)));
	isolation_sql(relid, (Form_pg_attribute) GETSTRUCT(att), col, &cond, &def);
	hasdef = ((Form_pg_attribute) GETSTRUCT(att))->atthasdef;
	namestrcpy(&attname, NameStr(((Form_pg_attribute) GETSTRUCT(att))->attname));
	ReleaseSysCache(att);

	if (!rls || !force)
		run_isolation_sql(psprintf("ALTER TABLE %s %s%s%s", qual,
					 rls ? "" : "ENABLE ROW LEVEL SECURITY",
					 (!rls && !force) ? ", " : "",
					 force ? "" : "FORCE ROW LEVEL SECURITY"), iso);

	if (!policy_is_ours(relid, attnum))
	{
		if (OidIsValid(get_relation_policy_oid(relid, SG_TENANT_POLICY, true)))
			run_isolation_sql(psprintf("DROP POLICY %s ON %s", SG_TENANT_POLICY, qual), iso);
		run_isolation_sql(psprintf("CREATE POLICY %s ON %s AS PERMISSIVE FOR ALL TO PUBLIC "
					 "USING (%s) WITH CHECK (%s)", SG_TENANT_POLICY, qual, cond, cond), iso);
	}

	/*
	 * Citus refuses to change the default of a distribution column; its
	 * INSERTs name the tenant, and the policy's WITH CHECK holds them to it.
	 */
	if (!hasdef && (dist = sg_citus_distribution_column(relid)) != NULL &&
		strcmp(dist, NameStr(attname)) == 0)
		ereport(NOTICE,
				(errmsg("column %s of %s keeps no default: it is the table's Citus distribution column",
						col, qual),
				 errdetail("Citus does not allow the default of a distribution column to change."),
				 errhint("INSERTs must name %s; the policy refuses any value but the current tenant's.", col)));
	else if (!hasdef)
		run_isolation_sql(psprintf("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s", qual, col, def), iso);
}

/*
 * enable_tenant_isolation(target, tenant_column): ENABLE and FORCE row-level
 * security, the policy schemaguard_tenant_isolation, and the column default;
 * for a partitioned table, on it and on every partition.  Idempotent.
 * Returns the statements it ran.  It locks the tables first with a bounded
 * wait (sg_lock_for_own_ddl()); the rules do not judge its own DDL.
 */
Datum
sg_enable_tenant_isolation(PG_FUNCTION_ARGS)
{
	int			spi_level;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid;
	char		relkind;
	char	   *volatile column = NULL;
	Isolation	iso = {CurrentMemoryContext, NIL};
	List	   *rels;
	ListCell   *lc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	relid = sg_target_arg(fcinfo, 0, "rp", "a table",
						  "Row-level security isolates plain and partitioned tables only.",
						  "Only user tables can be tenant tables.");
	relkind = get_rel_relkind(relid);

	if (!PG_ARGISNULL(1))
	{
		column = pstrdup(NameStr(*PG_GETARG_NAME(1)));
		(void) sg_column_arg(relid, column);
	}
	else
	{
		column = catalog_tenant_column(relid);
		if (column == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("table \"%s\" has no tenant column", get_rel_name(relid)),
					 errdetail("schemaguard.tenant_columns is: %s.", sg_tenant_columns),
					 errhint("Name the column: SELECT schemaguard.enable_tenant_isolation('%s', 'column_name');",
							 get_rel_name(relid))));
	}

	/* The table first, then every partition, as ALTER TABLE recurses. */
	rels = relkind == RELKIND_PARTITIONED_TABLE ?
		find_all_inheritors(relid, NoLock, NULL) : list_make1_oid(relid);

	/* ALTER TABLE's lock, taken first with a bounded wait; our DDL is not judged */
	sg_lock_for_own_ddl(rels, AccessExclusiveLock, "enable_tenant_isolation()");
	spi_level = sg_spi_connect();
	sg_own_ddl_depth++;
	PG_TRY();
	{
		foreach(lc, rels)
		{
			Oid			rel = lfirst_oid(lc);
			AttrNumber	attnum = get_attnum(rel, column);

			if (attnum > 0)
				isolate_one(rel, attnum, &iso);
		}
	}
	PG_FINALLY();
	{
		sg_own_ddl_depth--;
	}
	PG_END_TRY();
	sg_spi_finish(spi_level);

	/* SETOF text: InitMaterializedSRF() wants a row type, so build the store here. */
	{
		MemoryContext old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
		TupleDesc	desc = CreateTemplateTupleDesc(1);

		TupleDescInitEntry(desc, (AttrNumber) 1, "statement", TEXTOID, -1, 0);
		rsinfo->returnMode = SFRM_Materialize;
		rsinfo->setDesc = BlessTupleDesc(desc);
		rsinfo->setResult = tuplestore_begin_heap(false, false, work_mem);
		MemoryContextSwitchTo(old);
	}
	foreach(lc, iso.done)
	{
		Datum		value = CStringGetTextDatum(lfirst(lc));
		bool		isnull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	return (Datum) 0;
}

/* ---------- tenant_report() ---------- */

/* A text[] of C strings. */
static Datum
text_array(List *strings)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(strings), 1));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, strings)
		elems[n++] = CStringGetTextDatum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * tenant_report(): every tenant table of the database, with its isolation
 * and the problems found.
 */
Datum
sg_tenant_report(PG_FUNCTION_ARGS)
{
	int			spi_level;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		args[1];
	List	   *relids = NIL;
	List	   *cols = NIL;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	foreach(lc, sg_tenant_column_names())
		cols = lappend(cols, strVal(lfirst(lc)));
	args[0] = text_array(cols);

	spi_level = sg_spi_connect();
	if (SPI_execute_with_args("SELECT c.oid FROM pg_catalog.pg_class c "
							  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
							  "WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't' "
							  "AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "
							  "AND EXISTS (SELECT FROM pg_catalog.pg_attribute a "
							  "WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
							  "AND a.attname::text = ANY ($1)) "
							  "ORDER BY n.nspname, c.relname",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "schemaguard: could not list tenant tables");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		relids = lappend_oid(relids, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
																	 SPI_tuptable->tupdesc,
																	 1, &isnull)));
	}
	sg_spi_finish(spi_level);

	foreach(lc, relids)
	{
		SgTenantFacts tf;
		Datum		values[8];
		bool		nulls[8] = {false, false, false, false, false, false, false, false};
		List	   *policies = NIL;
		List	   *problems;
		bool		uses = false;
		NameData	column;
		ListCell   *lc2;

		sg_catalog_tenant_facts(lfirst_oid(lc), &tf);
		if (!tf.exists || tf.column == NULL)
			continue;
		foreach(lc2, tf.policies)
		{
			SgPolicyFacts *p = lfirst(lc2);

			policies = lappend(policies, p->name);
			uses |= p->uses_current_tenant;
		}
		problems = sg_tenant_problems(&tf);
		foreach(lc2, tf.policies)
		{
			SgPolicyFacts *p = lfirst(lc2);

			if (p->foreign_dep)
				problems = lappend(problems,
								   psprintf("policy %s depends on %s, outside pg_catalog and schemaguard",
											quote_identifier(p->name), p->foreign_dep));
		}
		if (!tf.tenant_index)
			problems = lappend(problems,
							   psprintf("no index leads with %s, so every policy check scans the table",
										quote_identifier(tf.column)));
		namestrcpy(&column, tf.column);
		values[0] = ObjectIdGetDatum(tf.relid);
		values[1] = NameGetDatum(&column);
		values[2] = BoolGetDatum(tf.rls);
		values[3] = BoolGetDatum(tf.force);
		values[4] = text_array(policies);
		values[5] = BoolGetDatum(uses);
		values[6] = BoolGetDatum(tf.tenant_index);
		values[7] = text_array(problems);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* This file's rules, in the order rules() lists them. */
const SgRule *const sg_tenant_rules[] = {
	&rule_tenant_table_rls,
	NULL
};
