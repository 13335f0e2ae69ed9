/*-------------------------------------------------------------------------
 *
 * lint_sim.c
 *		The simulation: what each statement of a script does to the overlay
 *		(lint_overlay.c), and to the script's transaction.
 *
 * A statement is simulated after the rules have judged it, so its own
 * check sees the database as it was before it.  What is simulated:
 *
 *	- tables, indexes, columns and constraints the script creates, renames
 *	  and drops, and which of them it writes rows into;
 *	- NOT VALID constraints and their VALIDATE, SET NOT NULL;
 *	- row-level security: ENABLE/FORCE, CREATE/ALTER/DROP POLICY (policies
 *	  read by lint_policy.c);
 *	- SET [LOCAL] lock_timeout;
 *	- calls of schemaguard's own functions (allow(), enable_tenant_isolation(),
 *	  begin_migration(), end_migration(), stage_drop()): lint_policy.c;
 *	- the transaction statements, handed to lint_xact.c.
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

/* Mark the relation a DML statement writes as populated. */
static void
sim_write(LintState *ls, RangeVar *rv)
{
	SimRel	   *r = rv ? sg_sim_target(ls, rv) : NULL;

	if (r)
		r->populated = true;
}

/*
 * A table the script created gets a member (ATTACH PARTITION, INHERIT):
 * when the member is an older table, the new parent holds its rows, which
 * others read, as the live server's facts say.
 */
static void
sim_adopt(LintState *ls, SimRel *parent, RangeVar *member_rv)
{
	SgLockSpec	look = {AccessShareLock, NoLock, true, NULL, false, true};
	SimRel	   *member = member_rv ? sg_sim_resolve(ls, member_rv) : NULL;
	SgRelFacts	cf;

	if (parent == NULL || !parent->created || member == NULL)
		return;
	ls->src.relation(&ls->src, member_rv, look, &cf);
	if (cf.exists && cf.populated)
		parent->populated = true;
	if (!member->created)
		parent->holds_old = true;
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

/*
 * The columns r gets from another relation: a parent (PARTITION OF,
 * INHERITS), LIKE, or the composite type of OF (relid): as the script has
 * left it, or as the catalog has it.  A tenant column comes with them.
 */
static void
sim_copy_columns(LintState *ls, SimRel *r, const RangeVar *from, Oid relid)
{
	SimRel	   *f = from ? sg_sim_resolve(ls, from) : NULL;
	ListCell   *lc;

	if (f != NULL && (f->created || !OidIsValid(f->relid)))
	{
		foreach(lc, f->columns)
		{
			SimColumn  *c = palloc(sizeof(SimColumn));

			*c = *(SimColumn *) lfirst(lc);
			if (sg_sim_column(r, c->name) == NULL)
				r->columns = lappend(r->columns, c);
		}
		return;
	}
	if (f != NULL)
		relid = f->relid;
	if (!OidIsValid(relid))
		return;
	for (AttrNumber a = 1;; a++)
	{
		HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(a));
		Form_pg_attribute att;

		if (!HeapTupleIsValid(tup))
			break;				/* past its last column */
		att = (Form_pg_attribute) GETSTRUCT(tup);
		if (!att->attisdropped && sg_sim_column(r, NameStr(att->attname)) == NULL)
		{
			SimColumn  *c = palloc0(sizeof(SimColumn));

			c->name = pstrdup(NameStr(att->attname));
			c->type = makeTypeNameFromOid(att->atttypid, att->atttypmod);
			c->notnull = att->attnotnull;
			r->columns = lappend(r->columns, c);
		}
		ReleaseSysCache(tup);
	}
}

/* A relation the script creates. */
static SimRel *
sim_create(LintState *ls, RangeVar *rv, char relkind, bool populated)
{
	SimRel	   *r = sg_sim_change(ls, sg_sim_enter(ls, sg_sim_creation_schema(rv), rv->relname));

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
	r->parent = NULL;
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

/* Apply a statement's effect on the simulated database. */
SimXactEvent
sg_simulate(LintState *ls, Node *stmt)
{
	MemoryContext old = MemoryContextSwitchTo(ls->cxt);
	SimXactEvent event = SIM_XACT_NONE;

	switch (nodeTag(stmt))
	{
		case T_TransactionStmt:
			event = sg_sim_transaction(ls, (TransactionStmt *) stmt);
			break;
		case T_VariableSetStmt:
			{
				VariableSetStmt *vs = (VariableSetStmt *) stmt;
				bool		lock;
				int			ms;

				if (vs->kind == VAR_RESET_ALL)
				{
					ls->lock_timeout = ls->session_timeout = LockTimeout;
					ls->statement_timeout = ls->session_statement_timeout = StatementTimeout;
					break;
				}
				if (vs->name == NULL ||
					(strcmp(vs->name, "lock_timeout") != 0 && strcmp(vs->name, "statement_timeout") != 0))
					break;
				lock = strcmp(vs->name, "lock_timeout") == 0;
				ms = lock ? ls->session_timeout : ls->session_statement_timeout;
				if (vs->kind == VAR_SET_VALUE)
					ms = timeout_value(vs->args);
				else if (vs->kind == VAR_SET_DEFAULT || vs->kind == VAR_RESET)
					ms = lock ? LockTimeout : StatementTimeout;
				if (ms < 0)
					break;
				if (vs->is_local)
				{
					if (ls->in_block)
						*(lock ? &ls->lock_timeout : &ls->statement_timeout) = ms;
				}
				else if (lock)
					ls->lock_timeout = ls->session_timeout = ms;
				else
					ls->statement_timeout = ls->session_statement_timeout = ms;
				break;
			}
		case T_CreateStmt:
			{
				CreateStmt *cs = (CreateStmt *) stmt;
				SimRel	   *r;
				ListCell   *lc;

				if (cs->if_not_exists && sg_sim_target(ls, cs->relation) &&
					!sg_sim_target(ls, cs->relation)->unknown)
					break;
				r = sim_create(ls, cs->relation, cs->partspec ? RELKIND_PARTITIONED_TABLE :
							   RELKIND_RELATION, false);
				/* columns it gets from elsewhere: PARTITION OF, INHERITS, OF type */
				foreach(lc, cs->inhRelations)
					sim_copy_columns(ls, r, lfirst_node(RangeVar, lc), InvalidOid);
				if (cs->partbound && cs->inhRelations != NIL)
				{
					SimRel	   *parent = sg_sim_resolve(ls, linitial_node(RangeVar, cs->inhRelations));

					r->parent = parent ? pstrdup(parent->key) : NULL;
				}
				if (cs->ofTypename)
				{
					Type		typ = LookupTypeName(NULL, cs->ofTypename, NULL, true);

					if (typ)
					{
						sim_copy_columns(ls, r, NULL, ((Form_pg_type) GETSTRUCT(typ))->typrelid);
						ReleaseSysCache(typ);
					}
				}
				foreach(lc, cs->tableElts)
				{
					if (IsA(lfirst(lc), ColumnDef))
						sim_add_column(ls, r, lfirst(lc));
					else if (IsA(lfirst(lc), Constraint))
						sim_constraint(ls, r, lfirst(lc), NULL);
					else if (IsA(lfirst(lc), TableLikeClause))
						sim_copy_columns(ls, r, ((TableLikeClause *) lfirst(lc))->relation, InvalidOid);
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
				SimRel	   *table = sg_sim_target(ls, is->relation);

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
				SimRel	   *r = sg_sim_target(ls, at->relation);
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
						case AT_AttachPartition:
							{
								SimRel	   *part = sg_sim_target(ls, castNode(PartitionCmd, cmd->def)->name);

								if (part)
									part->parent = pstrdup(r->key);
								sim_adopt(ls, r, castNode(PartitionCmd, cmd->def)->name);
								break;
							}
						case AT_AddInherit:
							sim_adopt(ls, sg_sim_target(ls, castNode(RangeVar, cmd->def)), at->relation);
							break;
						case AT_EnableRowSecurity:
						case AT_DisableRowSecurity:
							sg_sim_rls(r)->rls = cmd->subtype == AT_EnableRowSecurity;
							break;
						case AT_ForceRowSecurity:
						case AT_NoForceRowSecurity:
							sg_sim_rls(r)->force = cmd->subtype == AT_ForceRowSecurity;
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
								SimColumn  *c = sg_sim_column(r, cmd->name);

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
				r = sg_sim_target(ls, rs->relation);
				if (r == NULL)
					break;
				copy = *r;
				(void) sg_sim_change(ls, r);
				n = sg_sim_change(ls, sg_sim_enter(ls, copy.nspname, rs->newname));
				strlcpy(copy.key, n->key, sizeof(copy.key));
				copy.relname = pstrdup(rs->newname);
				*n = copy;
				r = sg_sim_find(ls, copy.nspname, rs->relation->relname);
				if (r)
					sg_sim_change(ls, r)->dropped = true;
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
						SimRel	   *r = rv ? sg_sim_target(ls, rv) : NULL;
						SgPolicyFacts *p = r ? sg_sim_policy(sg_sim_rls(r), strVal(llast(names))) : NULL;

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
					SimRel	   *r = rv ? sg_sim_target(ls, rv) : NULL;

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
			sg_sim_calls(ls, (SelectStmt *) stmt);
			break;
		case T_CreatePolicyStmt:
			{
				CreatePolicyStmt *cp = (CreatePolicyStmt *) stmt;
				SimRel	   *r = sg_sim_target(ls, cp->table);
				SgPolicyFacts *p;

				if (r == NULL)
					break;
				p = palloc0(sizeof(SgPolicyFacts));
				p->name = cp->policy_name;
				p->cmd = sg_policy_cmd(cp->cmd_name);
				p->permissive = cp->permissive;
				sg_sim_policy_exprs(p, cp->qual, cp->with_check);
				sg_sim_rls(r);
				r->policies = lappend(r->policies, p);
				break;
			}
		case T_AlterPolicyStmt:
			{
				AlterPolicyStmt *ap = (AlterPolicyStmt *) stmt;
				SimRel	   *r = sg_sim_target(ls, ap->table);
				SgPolicyFacts *p = r ? sg_sim_policy(sg_sim_rls(r), ap->policy_name) : NULL;

				if (p)
					sg_sim_policy_exprs(p, ap->qual, ap->with_check);
				break;
			}
		default:
			break;
	}
	MemoryContextSwitchTo(old);
	return event;
}
