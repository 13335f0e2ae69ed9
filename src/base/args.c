/*-------------------------------------------------------------------------
 *
 * args.c
 *		Argument checks of schemaguard's SQL functions and trigger functions:
 *		a required argument, a target table (kind, catalog, owner), a column,
 *		and the trigger context a trigger function may trust.
 *
 * A trigger function can be attached by hand to any table, so each one
 * checks here how it was called before it reads its arguments.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/regproc.h"

#include "schemaguard.h"

/*
 * The relation a regclass argument names, for the SQL functions that take a
 * target: not NULL, existing, not a system catalog, and of one of relkinds.
 * Each failure is a clear error; what and detail word the wrong-kind one
 * ("a table", why only tables).
 */
Oid
sg_target_arg(FunctionCallInfo fcinfo, int argno, const char *relkinds,
			  const char *what, const char *detail, const char *catalog_detail)
{
	Oid			relid;
	char		relkind;
	Oid			nsp;

	sg_require_arg(fcinfo, argno, "target");
	relid = PG_GETARG_OID(argno);
	relkind = get_rel_relkind(relid);
	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	nsp = get_rel_namespace(relid);
	if (IsCatalogRelationOid(relid) || IsCatalogNamespace(nsp) || nsp == PG_TOAST_NAMESPACE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a system catalog", get_rel_name(relid)),
				 catalog_detail ? errdetail("%s", catalog_detail) : 0));
	if (strchr(relkinds, relkind) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not %s", get_rel_name(relid), what),
				 errdetail("%s", detail)));
	return relid;
}

/* The number of an existing column of relid, or a clear error. */
AttrNumber
sg_column_arg(Oid relid, const char *column)
{
	AttrNumber	attnum = get_attnum(relid, column);

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						column, get_rel_name(relid))));
	return attnum;
}

/* Raise a clear error for a NULL argument (SQLSTATE 22004). */
void
sg_require_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", argname)));
}

/* The TriggerData of a trigger function of ours; an error when not a trigger. */
TriggerData *
sg_trigger_data(FunctionCallInfo fcinfo)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function must be called as a trigger")));
	return (TriggerData *) fcinfo->context;
}

/*
 * The TriggerData of one of schemaguard's internal triggers, which the
 * extension script attaches to its own tables only.  Anyone with EXECUTE
 * (superusers, at least) could attach the function elsewhere, with any
 * timing, level and arguments: refuse to run unless it fires on one of
 * `tables` in schema schemaguard, at the level (row or statement) and
 * timing (TRIGGER_TYPE_BEFORE, _AFTER or _INSTEAD) it was written for.
 */
TriggerData *
sg_own_trigger_data(FunctionCallInfo fcinfo, const char *function,
					const char *const *tables, bool row, int timing)
{
	TriggerData *td = sg_trigger_data(fcinfo);
	Relation	rel = td->tg_relation;
	bool		ok = RelationGetNamespace(rel) == get_namespace_oid(SG_SCHEMA, true);
	int			fired = TRIGGER_FIRED_BEFORE(td->tg_event) ? TRIGGER_TYPE_BEFORE :
		TRIGGER_FIRED_INSTEAD(td->tg_event) ? TRIGGER_TYPE_INSTEAD : TRIGGER_TYPE_AFTER;
	bool		found = false;

	for (int i = 0; ok && tables[i] != NULL; i++)
		found |= strcmp(RelationGetRelationName(rel), tables[i]) == 0;
	if (!ok || !found || row != (TRIGGER_FIRED_FOR_ROW(td->tg_event) != 0) || fired != timing ||
		td->tg_trigger->tgnargs != 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("schemaguard.%s() is an internal trigger of schemaguard", function),
				 errdetail("Trigger \"%s\" on \"%s\" was not created by the extension.",
						   td->tg_trigger->tgname, RelationGetRelationName(rel)),
				 errhint("Drop the trigger.")));
	return td;
}
