/*-------------------------------------------------------------------------
 *
 * tenant_admin.c
 *		enable_tenant_isolation() and tenant_report(): the SQL functions that
 *		isolate tenant tables and report on them.
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

#include "utils/tuplestore.h"
#include "citus.h"
#include "schemaguard.h"


PG_FUNCTION_INFO_V1(sg_enable_tenant_isolation);
PG_FUNCTION_INFO_V1(sg_tenant_report);

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
	if (!OidIsValid(sg_current_tenant_as_oid()))
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

/*
 * What enable_tenant_isolation() is asked for beyond isolation: shared rows
 * (SG_SHARED_KEEP: leave the shared-rows policy as it is), and whether to
 * drop the permissive policies that keep the table open.
 */
#define SG_SHARED_KEEP	(-1)

/* Isolate one table on column attnum; append the statements run to *done. */
static void
isolate_one(Oid relid, AttrNumber attnum, int shared, bool replace, Isolation *iso)
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

	if (!sg_policy_is_ours(relid, attnum))
	{
		if (OidIsValid(get_relation_policy_oid(relid, SG_TENANT_POLICY, true)))
			run_isolation_sql(psprintf("DROP POLICY %s ON %s", SG_TENANT_POLICY, qual), iso);
		run_isolation_sql(psprintf("CREATE POLICY %s ON %s AS PERMISSIVE FOR ALL TO PUBLIC "
					 "USING (%s) WITH CHECK (%s)", SG_TENANT_POLICY, qual, cond, cond), iso);
	}

	/*
	 * Shared rows: every tenant reads the rows of no tenant.  FOR SELECT
	 * only, so the FOR ALL policy's WITH CHECK still decides every write: no
	 * tenant can create a shared row or take one over.  A restrictive FOR
	 * SELECT policy requires a tenant for a shared row (tenant IS NOT NULL
	 * OR has_tenant(): a null test for the other rows, and a check that
	 * builds nothing for the shared ones), so a session without one reads
	 * no shared row either; the permissive conditions stay index
	 * conditions.
	 */
	if (shared != SG_SHARED_KEEP)
	{
		if (OidIsValid(get_relation_policy_oid(relid, SG_TENANT_SHARED_POLICY, true)))
			run_isolation_sql(psprintf("DROP POLICY %s ON %s", SG_TENANT_SHARED_POLICY, qual), iso);
		if (OidIsValid(get_relation_policy_oid(relid, SG_TENANT_SHARED_GATE, true)))
			run_isolation_sql(psprintf("DROP POLICY %s ON %s", SG_TENANT_SHARED_GATE, qual), iso);
		if (shared)
		{
			run_isolation_sql(psprintf("CREATE POLICY %s ON %s AS PERMISSIVE FOR SELECT TO PUBLIC "
						 "USING (%s IS NULL)", SG_TENANT_SHARED_POLICY, qual, col), iso);
			run_isolation_sql(psprintf("CREATE POLICY %s ON %s AS RESTRICTIVE FOR SELECT TO PUBLIC "
						 "USING (%s IS NOT NULL OR %s.has_tenant())", SG_TENANT_SHARED_GATE, qual,
						 col, SG_SCHEMA), iso);
		}
	}

	/*
	 * replace_policies: the team's permissive policies that do not isolate
	 * are dropped after schemaguard's exists, so that the table is never
	 * without a policy that covers it.
	 */
	if (replace)
	{
		SgTenantFacts tf;
		ListCell   *lc;

		CommandCounterIncrement();
		sg_catalog_tenant_facts_for(relid, NameStr(attname), &tf);
		foreach(lc, tf.policies)
		{
			SgPolicyFacts *p = lfirst(lc);

			if (p->permissive && !p->isolates)
				run_isolation_sql(psprintf("DROP POLICY %s ON %s", quote_identifier(p->name), qual), iso);
		}
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
	/* (target, tenant_column) before the 1.8 update; then shared_rows, replace_policies */
	volatile int shared = PG_NARGS() > 2 && !PG_ARGISNULL(2) ? PG_GETARG_BOOL(2) : SG_SHARED_KEEP;
	volatile bool replace = PG_NARGS() > 3 && !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
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
		column = sg_catalog_tenant_column(relid);
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
				isolate_one(rel, attnum, shared, replace, &iso);
		}
	}
	PG_FINALLY();
	{
		sg_own_ddl_depth--;
	}
	PG_END_TRY();
	sg_spi_finish(spi_level);

	/*
	 * The table must now be isolated, judged as tenant_report() and rule
	 * tenant-table-rls judge it: every permissive policy, for every command
	 * and role (permissive policies are OR-ed, so one that does not isolate
	 * opens the table).  A policy of the team's own that does not isolate
	 * leaves it open: fail, naming it, rather than report success.
	 */
	CommandCounterIncrement();
	foreach(lc, rels)
	{
		Oid			rel = lfirst_oid(lc);
		SgTenantFacts tf;
		char	   *names;
		char	   *hint = NULL;

		if (get_attnum(rel, column) <= 0)
			continue;
		sg_catalog_tenant_facts_for(rel, column, &tf);
		if (sg_tenant_leaks(&tf) == NIL)
			continue;
		names = sg_tenant_open_policies(tf.policies, tf.qualname, column, &hint);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("enable_tenant_isolation() cannot isolate %s: %s", tf.qualname,
						(char *) linitial(sg_tenant_leaks(&tf))),
				 errdetail("Permissive policies are OR-ed: a row that any of them lets through reaches "
						   "every tenant, whatever schemaguard's policy says. Not isolating: %s.",
						   names ? names : "(none)"),
				 hint ? errhint("%s", hint) : 0));
	}

	/* Isolated now: out of the adoption baseline, so that a new leak is refused. */
	foreach(lc, rels)
		sg_tenant_baseline_forget(lfirst_oid(lc));

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
		Datum		values[10];
		bool		nulls[10] = {false};
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
		/* since 1.8: shares_rows, baselined (the 1.7 definition has 8 columns) */
		values[8] = BoolGetDatum(sg_tenant_shares_rows(&tf));
		values[9] = BoolGetDatum(tf.baselined);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

