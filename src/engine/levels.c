/*-------------------------------------------------------------------------
 *
 * levels.c
 *		The rule catalog and the level in force for each rule: rules(),
 *		set_rule_level(), and allow()'s grants for the transaction.
 *
 * The catalog is filled once by _PG_init(): each family registers its rules
 * (sg_register_rules()), in the order rules() lists them and sg_evaluate()
 * runs them; the engine's own invalid-ignore comes last.
 *
 * Levels set with set_rule_level() live in schemaguard.rule_levels and are
 * cached per backend.  A statement trigger on that table sends a relcache
 * invalidation for it, and our relcache callback drops the cache, so every
 * backend sees a change at its next DDL statement after the commit.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "parser/parse_func.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "common/hashfn.h"
#include "utils/hsearch.h"
#include "tcop/utility.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "utils/tuplestore.h"
#include "compat.h"
#include "schemaguard.h"

static const SgRule *catalog[SG_MAX_RULES];
int			sg_nrules = 0;

static const char *const level_names[] = {"off", "warning", "error"};

/* Per-backend cache of the levels in force; see file header. */
static bool levels_valid = false;
static Oid	levels_relid = InvalidOid;
static SgLevel levels[SG_MAX_RULES];

/* allow() grants of the current transaction, in TopTransactionContext. */
static List *allowances = NIL;

PG_FUNCTION_INFO_V1(sg_rules_srf);
PG_FUNCTION_INFO_V1(sg_set_rule_level);
PG_FUNCTION_INFO_V1(sg_allow);
PG_FUNCTION_INFO_V1(sg_levels_changed);

/* Add a family's rules (a NULL-terminated array) to the catalog. */
void
sg_register_rules(const SgRule *const *rules)
{
	for (; *rules != NULL; rules++)
	{
		if (sg_nrules >= SG_MAX_RULES)
			elog(ERROR, "schemaguard: more than %d rules registered", SG_MAX_RULES);
		if (sg_rule_by_id((*rules)->id) != NULL)
			elog(ERROR, "schemaguard: rule %s registered twice", (*rules)->id);
		catalog[sg_nrules++] = *rules;
	}
}

/* The i-th rule of the catalog. */
const SgRule *
sg_rule_at(int i)
{
	Assert(i >= 0 && i < sg_nrules);
	return catalog[i];
}

/* A rule's position in the catalog. */
int
sg_rule_index(const SgRule *rule)
{
	for (int i = 0; i < sg_nrules; i++)
	{
		if (catalog[i] == rule)
			return i;
	}
	elog(ERROR, "schemaguard: rule %s is not registered", rule->id);
	return -1;					/* keep the compiler quiet */
}

/* Look a rule up by id; NULL when unknown. */
const SgRule *
sg_rule_by_id(const char *id)
{
	for (int i = 0; i < sg_nrules; i++)
	{
		if (strcmp(catalog[i]->id, id) == 0)
			return catalog[i];
	}
	return NULL;
}

/* A user-supplied value, cut short for an error message. */
const char *
sg_shown_value(const char *value)
{
	if (strlen(value) <= 64)
		return pstrdup(value);
	return psprintf("%.64s...", value);
}

/* Parse a level name; -1 when unknown. */
static int
level_from_name(const char *name)
{
	for (int i = 0; i < lengthof(level_names); i++)
	{
		if (strcmp(level_names[i], name) == 0)
			return i;
	}
	return -1;
}

/* Relcache callback: forget cached levels when rule_levels changes. */
static void
levels_inval_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == levels_relid)
		levels_valid = false;
}

/*
 * Is the extension installed in this database?  Two syscache probes, no
 * catalog scan: this runs for every DDL statement the rules examine.
 */
bool
sg_extension_installed(void)
{
	Oid			nsp = get_namespace_oid(SG_SCHEMA, true);
	Oid			relid = InvalidOid;

	if (OidIsValid(nsp))
		relid = get_relname_relid(SG_LEVELS_TABLE, nsp);
	if (relid != levels_relid)
	{
		levels_relid = relid;
		levels_valid = false;
	}
	return OidIsValid(relid);
}

/*
 * Read schemaguard.rule_levels into the cache: a heap scan with SnapshotSelf
 * (every committed row, and our own), as a catalog read.  Not SPI: a query
 * under the transaction's snapshot would take a predicate lock on
 * rule_levels in a SERIALIZABLE transaction, which the user's DDL never
 * asked for.
 */
static void
load_levels(void)
{
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;

	for (int i = 0; i < sg_nrules; i++)
		levels[i] = catalog[i]->default_level;

	if (!OidIsValid(levels_relid))
	{
		levels_valid = true;
		return;
	}

	rel = table_open(levels_relid, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, SnapshotSelf, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull[2];
		Datum		id = heap_getattr(tup, 1, RelationGetDescr(rel), &isnull[0]);
		Datum		lv = heap_getattr(tup, 2, RelationGetDescr(rel), &isnull[1]);
		const SgRule *rule = isnull[0] ? NULL : sg_rule_by_id(TextDatumGetCString(id));
		int			level = isnull[1] ? -1 : level_from_name(TextDatumGetCString(lv));

		/* Rows for rules of a newer version are ignored, not fatal. */
		if (rule && level >= 0)
			levels[sg_rule_index(rule)] = (SgLevel) level;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	levels_valid = true;
}

/* The level in force for a rule in this database. */
SgLevel
sg_rule_level(const SgRule *rule)
{
	if (!levels_valid)
		load_levels();
	return levels[sg_rule_index(rule)];
}

/* The name of a level. */
const char *
sg_level_name(SgLevel level)
{
	return level_names[level];
}

/* The allow() grant in force for a rule, or NULL. */
const SgAllowance *
sg_find_allowance(const SgRule *rule)
{
	ListCell   *lc;

	foreach(lc, allowances)
	{
		SgAllowance *a = lfirst(lc);

		if (a->rule == rule)
			return a;
	}
	return NULL;
}

/* Resolve a rule id argument, or raise naming the valid ids. */
static const SgRule *
rule_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *id;
	const SgRule *rule;

	sg_require_arg(fcinfo, argno, "rule");
	id = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	rule = sg_rule_by_id(id);
	if (rule == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown schemaguard rule \"%s\"", sg_shown_value(id)),
				 errhint("schemaguard.rules() lists the rules.")));
	return rule;
}

/*
 * rules(): every rule with the level in force in this database.
 */
Datum
sg_rules_srf(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	(void) sg_extension_installed();
	for (int i = 0; i < sg_nrules; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(catalog[i]->id);
		values[1] = CStringGetTextDatum(catalog[i]->family);
		values[2] = CStringGetTextDatum(level_names[sg_rule_level(catalog[i])]);
		values[3] = CStringGetTextDatum(catalog[i]->description);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * set_rule_level(rule, level): store the level for this database.  The level
 * 'default' removes the override.  SECURITY DEFINER; EXECUTE is granted by
 * a DBA.
 */
Datum
sg_set_rule_level(PG_FUNCTION_ARGS)
{
	int			spi_level;
	const SgRule *rule = rule_arg(fcinfo, 0);
	char	   *lv;
	int			level;
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	int			rc;

	sg_require_arg(fcinfo, 1, "level");
	lv = text_to_cstring(PG_GETARG_TEXT_PP(1));
	level = level_from_name(lv);
	if (level < 0 && strcmp(lv, "default") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown schemaguard level \"%s\"", sg_shown_value(lv)),
				 errdetail("Valid levels are: error, warning, off, default.")));

	values[0] = CStringGetTextDatum(rule->id);
	values[1] = CStringGetTextDatum(lv);
	values[2] = CStringGetTextDatum(GetUserNameFromId(GetOuterUserId(), false));

	spi_level = sg_spi_connect();
	if (level < 0)
		rc = SPI_execute_with_args("DELETE FROM schemaguard.rule_levels WHERE rule = $1",
								   1, argtypes, values, NULL, false, 0);
	else
		rc = SPI_execute_with_args("INSERT INTO schemaguard.rule_levels AS l (rule, level, set_by) "
								   "VALUES ($1, $2, $3) ON CONFLICT (rule) DO UPDATE "
								   "SET level = excluded.level, set_by = excluded.set_by, "
								   "set_at = pg_catalog.now()",
								   3, argtypes, values, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "could not update schemaguard.rule_levels: %s",
			 SPI_result_code_string(rc));
	sg_spi_finish(spi_level);

	ereport(LOG,
			(errmsg("schemaguard: rule %s set to %s by role \"%s\"",
					rule->id, lv, GetUserNameFromId(GetOuterUserId(), false))));
	PG_RETURN_VOID();
}

/*
 * allow(rule, reason): let rule pass for the rest of this transaction block.
 */
Datum
sg_allow(PG_FUNCTION_ARGS)
{
	const SgRule *rule = rule_arg(fcinfo, 0);
	char	   *reason;
	SgAllowance *a;
	MemoryContext old;

	sg_require_arg(fcinfo, 1, "reason");
	reason = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (strspn(reason, " \t\r\n") == strlen(reason))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("schemaguard.allow() needs a reason"),
				 errhint("Say why the statement is safe here, for example: SELECT schemaguard.allow('%s', 'table is only read by the nightly job');",
						 rule->id)));
	if (strlen(reason) > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("schemaguard.allow() reason is too long"),
				 errdetail("The reason has %zu bytes; the limit is 1000.", strlen(reason))));
	if (!IsTransactionBlock())
		ereport(ERROR,
				(errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
				 errmsg("schemaguard.allow() can only be used in a transaction block"),
				 errdetail("A grant lasts until the end of the transaction block; outside one it would expire at once."),
				 errhint("Use BEGIN; SELECT schemaguard.allow('%s', '...'); <statement>; COMMIT;",
						 rule->id)));

	old = MemoryContextSwitchTo(TopTransactionContext);
	a = palloc(sizeof(SgAllowance));
	a->rule = rule;
	a->reason = pstrdup(reason);
	a->subid = GetCurrentSubTransactionId();
	allowances = lappend(allowances, a);
	MemoryContextSwitchTo(old);

	ereport(LOG,
			(errmsg("schemaguard: role \"%s\" allowed rule %s for this transaction: %s",
					GetUserNameFromId(GetUserId(), false), rule->id, reason)));
	PG_RETURN_VOID();
}

/*
 * Statement trigger on rule_levels: invalidate every backend's level cache.
 */
Datum
sg_levels_changed(PG_FUNCTION_ARGS)
{
	static const char *const tables[] = {SG_LEVELS_TABLE, "drop_stages", NULL};
	TriggerData *trigdata = sg_own_trigger_data(fcinfo, "_levels_changed", tables,
												false, TRIGGER_TYPE_AFTER);

	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}

/* Register the relcache callback that drops the level cache, and the grants' list. */
void
sg_levels_init(void)
{
	CacheRegisterRelcacheCallback(levels_inval_callback, (Datum) 0);
	sg_register_xact_list(&allowances, offsetof(SgAllowance, subid));
}

