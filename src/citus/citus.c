/*-------------------------------------------------------------------------
 *
 * citus.c
 *		schemaguard on a Citus cluster: which work is Citus's own, and what a
 *		distributed table holds.
 *
 * Citus's own work.  Citus must be first in shared_preload_libraries, so
 * schemaguard's ProcessUtility hook runs before Citus's and sees both the
 * user's statement and every command Citus derives from it and runs again
 * through ProcessUtility (shard DDL, metadata sync, shard moves, cleanup).
 * Those derived commands are not the user's migration: judging them would
 * refuse Citus's own bookkeeping (a LOCK TABLE pg_dist_node without
 * lock_timeout, the DROP of an orphaned shard).  They are recognised by what
 * Citus itself uses to recognise them:
 *
 *	- a connection Citus opened to another node carries application_name
 *	  "citus_internal gpid=..." or "citus_rebalancer gpid=..." (Citus's
 *	  IsCitusInternalBackend() and IsRebalancerInternalBackend() test the same
 *	  prefixes); "citus_run_command gpid=..." (run_command_on_workers(), the
 *	  user's own SQL) is not among them;
 *	- a background worker of the citus library (the maintenance daemon, the
 *	  background task runner);
 *	- a Citus C function running in this backend: create_distributed_table(),
 *	  citus_add_node(), citus_move_shard_placement() ...  A needs_fmgr_hook
 *	  marks the functions whose pg_proc row points at $libdir/citus, and the
 *	  fmgr_hook counts how deep we are inside them.  The few Citus functions
 *	  that run SQL text their caller wrote (worker_apply_shard_ddl_command(),
 *	  run_command_on_workers(), ...) are counted apart: DDL sent through them
 *	  by hand is judged like any other, and only inside a DDL statement that
 *	  Citus is propagating (a reference table's coordinator placement) are
 *	  they Citus's work (hooks.c, citus_work()).
 *
 * Never "the caller is a superuser".  A client that sets application_name
 * to Citus's prefix is treated as Citus, as Citus itself treats it; the
 * README's "Running on Citus" says how pg_hba.conf keeps clients off the
 * workers.
 *
 * Distributed facts.  On the coordinator a distributed table is an empty
 * shell; its rows live in shards on the workers.  sg_citus_add_shards()
 * replaces the shell's size with the sum over its shards
 * (citus_relation_size()), so the rules judge the table by its data.  All of
 * it is read through SQL, schema-qualified, and only in a database where the
 * citus extension is installed; schemaguard does not link against Citus.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "parser/parser.h"
#include "postmaster/bgworker.h"
#include "tcop/dest.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "citus.h"
#include "schemaguard.h"

/* Citus was loaded before us (its GUCs exist). */
static bool citus_loaded = false;

/* What a function is to us. */
typedef enum SgFnKind
{
	SG_FN_OTHER = 0,
	SG_FN_CITUS,				/* a Citus C function */
	SG_FN_CITUS_GIVEN_SQL		/* one that runs SQL text it is given */
} SgFnKind;

/* How many Citus C functions of each kind are running in this backend now. */
static int	citus_depth = 0;
static int	given_sql_depth = 0;

/* The last function needs_fmgr_hook was asked about, and its answer. */
static Oid	last_fn = InvalidOid;
static SgFnKind last_kind = SG_FN_OTHER;

static needs_fmgr_hook_type prev_needs_fmgr_hook = NULL;
static fmgr_hook_type prev_fmgr_hook = NULL;

/*
 * Citus functions that run SQL text they are given: DDL a user sends
 * through them is the user's, not Citus's (but see hooks.c, citus_work()).
 */
static const char *const runs_given_sql[] = {
	"worker_apply_",
	"worker_create_or_replace_object",
	"worker_execute_sql_task",
	"run_command_on_",
	"master_run_on_worker",
	"citus_run_local_command",
	"database_command",
	"create_intermediate_result",
	"broadcast_intermediate_result",
	"worker_partition_query_result",
	"worker_save_query_explain_analyze",
	"worker_merge_files_and_run_query",
	"master_apply_delete_command",
};

/* What is fn: a C function of the citus library, and of which kind? */
static SgFnKind
function_kind(Oid fn)
{
	HeapTuple	tup;
	SgFnKind	kind = SG_FN_OTHER;

	if (fn == last_fn)
		return last_kind;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(tup);
		bool		isnull;
		Datum		bin;

		if (proc->prolang == ClanguageId)
		{
			bin = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_probin, &isnull);
			if (!isnull)
			{
				char	   *path = TextDatumGetCString(bin);

				if (strcmp(path, "$libdir/citus") == 0)
					kind = SG_FN_CITUS;
				pfree(path);
			}
		}
		for (int i = 0; kind == SG_FN_CITUS && i < lengthof(runs_given_sql); i++)
		{
			if (strncmp(NameStr(proc->proname), runs_given_sql[i],
						strlen(runs_given_sql[i])) == 0)
				kind = SG_FN_CITUS_GIVEN_SQL;
		}
		ReleaseSysCache(tup);
	}
	last_fn = fn;
	last_kind = kind;
	return kind;
}

static bool
sg_needs_fmgr(Oid fn)
{
	if (prev_needs_fmgr_hook && prev_needs_fmgr_hook(fn))
		return true;
	return function_kind(fn) != SG_FN_OTHER;
}

static void
sg_fmgr(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	SgFnKind	kind;
	int		   *depth;

	if (prev_fmgr_hook)
		prev_fmgr_hook(event, flinfo, private);
	kind = function_kind(flinfo->fn_oid);
	if (kind == SG_FN_OTHER)
		return;
	depth = kind == SG_FN_CITUS ? &citus_depth : &given_sql_depth;
	switch (event)
	{
		case FHET_START:
			(*depth)++;
			break;
		case FHET_END:
		case FHET_ABORT:
			if (*depth > 0)
				(*depth)--;
			break;
	}
}

/* A transaction's end leaves no Citus function running. */
static void
citus_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		citus_depth = given_sql_depth = 0;
}

void
sg_citus_init(void)
{
	if (GetConfigOption("citus.propagate_set_commands", true, false) == NULL)
		return;
	citus_loaded = true;
	prev_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = sg_needs_fmgr;
	prev_fmgr_hook = fmgr_hook;
	fmgr_hook = sg_fmgr;
	RegisterXactCallback(citus_xact_callback, NULL);
}

bool
sg_citus_loaded(void)
{
	return citus_loaded;
}

bool
sg_citus_running_given_sql(void)
{
	return given_sql_depth > 0;
}

bool
sg_citus_internal(void)
{
	if (!citus_loaded)
		return false;
	if (citus_depth > 0)
		return true;
	if (MyBgworkerEntry != NULL && strcmp(MyBgworkerEntry->bgw_library_name, "citus") == 0)
		return true;
	return application_name != NULL &&
		(strncmp(application_name, "citus_internal gpid=", 20) == 0 ||
		 strncmp(application_name, "citus_rebalancer gpid=", 22) == 0);
}

/* Is the citus extension installed in this database? */
static bool
citus_installed(void)
{
	return citus_loaded && IsTransactionState() &&
		OidIsValid(get_extension_oid("citus", true));
}

/*
 * One row for a table Citus knows: is it a reference table, how many
 * shards, and (when size) the main forks of its shards summed.
 */
static bool
citus_query(Oid relid, bool size, bool *reference, int *nshards, int64 *bytes)
{
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	bool		found = false;
	int			spi_level;

	spi_level = sg_spi_connect();
	if (SPI_execute_with_args(psprintf("SELECT p.repmodel OPERATOR(pg_catalog.=) 't', "
									   "(SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_shard s "
									   "  WHERE s.logicalrelid OPERATOR(pg_catalog.=) p.logicalrelid), "
									   "%s FROM pg_catalog.pg_dist_partition p "
									   "WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1",
									   size ? "pg_catalog.citus_relation_size(p.logicalrelid)" : "0::pg_catalog.int8"),
							  1, argtypes, values, NULL, !size, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the Citus metadata of relation %u", relid);
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		found = true;
		*reference = DatumGetBool(SPI_getbinval(tup, desc, 1, &isnull));
		*nshards = (int) DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		*bytes = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
		if (isnull)
			*bytes = -1;
	}
	sg_spi_finish(spi_level);
	return found;
}

/* The size query citus_row() runs in a subtransaction. */
typedef struct SizeQuery
{
	Oid			relid;
	bool		found;
	bool		reference;
	int			nshards;
	int64		bytes;
} SizeQuery;

static void
size_query(void *arg)
{
	SizeQuery  *q = arg;

	q->found = citus_query(q->relid, true, &q->reference, &q->nshards, &q->bytes);
}

/*
 * citus_query(), with the size when Citus can tell it.  Its size functions
 * refuse to run in a transaction that already made multi-shard changes
 * (SQLSTATE 25001: an earlier statement of the same migration, say), and
 * fail when a worker cannot be reached or the caller may not read the
 * table (lint() by a non-owner).  Then the size is unknown (-1), which the
 * rules take as data; only a cancel goes on up.
 */
static bool
citus_row(Oid relid, bool size, bool *reference, int *nshards, int64 *bytes)
{
	SizeQuery	q = {.relid = relid};
	ErrorData  *edata;
	bool		found;

	if (!size)
		return citus_query(relid, false, reference, nshards, bytes);

	edata = sg_try_in_subxact(size_query, &q);
	if (edata == NULL)
	{
		*reference = q.reference;
		*nshards = q.nshards;
		*bytes = q.bytes;
		return q.found;
	}
	if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
		ReThrowError(edata);
	FreeErrorData(edata);
	found = citus_query(relid, false, reference, nshards, bytes);
	*bytes = -1;
	return found;
}

bool
sg_citus_is_distributed(Oid relid)
{
	bool		reference;
	int			nshards;
	int64		bytes;

	if (!citus_installed())
		return false;
	return citus_row(relid, false, &reference, &nshards, &bytes);
}

/*
 * The one text value of a query about relid ($1, regclass) in the citus
 * extension's catalog, palloc'd in the caller's context; NULL for no row,
 * a NULL, or a database without the extension.
 */
static char *
citus_text(const char *sql, Oid relid)
{
	Oid			argtype = REGCLASSOID;
	Datum		value = ObjectIdGetDatum(relid);
	List	   *rows;

	if (!citus_installed())
		return NULL;
	rows = sg_spi_values(sql, 1, &argtype, &value, 1);
	return rows != NIL ? linitial(linitial(rows)) : NULL;
}

/*
 * A shard's name is its table's name (shortened if need be) and
 * "_<shardid>"; relation_is_a_known_shard() says whether it is one.
 */
Oid
sg_citus_shard_of(Oid relid)
{
	char	   *table = citus_text("SELECT s.logicalrelid::pg_catalog.oid::pg_catalog.text "
								   "FROM pg_catalog.pg_dist_shard s, pg_catalog.pg_class c "
								   "WHERE c.oid OPERATOR(pg_catalog.=) $1 "
								   "AND pg_catalog.relation_is_a_known_shard($1) "
								   "AND s.shardid OPERATOR(pg_catalog.=) "
								   "(pg_catalog.regexp_match(c.relname::pg_catalog.text, '_([0-9]+)$'))[1]::pg_catalog.int8",
								   relid);

	return table ? atooid(table) : InvalidOid;
}

bool
sg_citus_add_shards(Oid relid, bool created, SgRelFacts *out)
{
	bool		reference = false;
	int			nshards = 0;
	int64		bytes = -1;

	if (!citus_installed())
		return false;
	/* A table this transaction created holds nothing anyone else can see. */
	if (!citus_row(relid, !created, &reference, &nshards, &bytes))
		return false;
	out->nshards += Max(nshards, 1);
	out->reference = out->reference || reference;
	out->rows = -1;
	if (created)
		return true;
	if (bytes < 0)
		out->bytes = -1;		/* unknown stays unknown */
	else if (out->bytes >= 0)
		out->bytes += bytes;
	/* A size it could not read counts as data. */
	if (bytes != 0)
		out->populated = true;
	return true;
}

char *
sg_citus_distribution_column(Oid relid)
{
	return citus_text("SELECT pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) "
					  "FROM pg_catalog.pg_dist_partition p "
					  "WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1 AND p.partkey IS NOT NULL",
					  relid);
}

void
sg_citus_set_local(const char *name, const char *value)
{
	char	   *sql = psprintf("SET LOCAL %s TO %s", name, quote_literal_cstr(value));
	RawStmt    *raw = linitial_node(RawStmt, raw_parser(sql, RAW_PARSE_DEFAULT));
	PlannedStmt *pstmt = makeNode(PlannedStmt);
	int			level;

	pstmt->commandType = CMD_UTILITY;
	pstmt->canSetTag = true;
	pstmt->utilityStmt = raw->stmt;
	pstmt->stmt_location = 0;
	pstmt->stmt_len = 0;

	/*
	 * Citus sends a SET LOCAL to the transaction's nodes (now and when it
	 * opens more) under citus.propagate_set_commands = 'local'; that is set
	 * for this one statement, at a GUC nest level of its own, so the
	 * session's value comes back unchanged and the SET LOCAL stays.
	 */
	level = NewGUCNestLevel();
	(void) set_config_option("citus.propagate_set_commands", "local", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	ProcessUtility(pstmt, sql, false, PROCESS_UTILITY_QUERY, NULL, NULL, None_Receiver, NULL);
	AtEOXact_GUC(true, level);
}
