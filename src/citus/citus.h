/*-------------------------------------------------------------------------
 *
 * citus.h
 *		schemaguard on a Citus cluster (citus.c): recognising Citus's own
 *		work, and the facts of a distributed table.  schemaguard does not link
 *		against Citus; everything here is read through SQL and fmgr, and only
 *		when Citus is loaded.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SCHEMAGUARD_CITUS_H
#define SCHEMAGUARD_CITUS_H

#include "postgres.h"

struct SgRelFacts;

/* Install the fmgr hooks when Citus was loaded first; from _PG_init. */
extern void sg_citus_init(void);

/* Is Citus loaded in this backend (its GUCs are defined)? */
extern bool sg_citus_loaded(void);

/*
 * Is the current work Citus's own: a connection Citus opened
 * (application_name "citus_internal gpid=..." or "citus_rebalancer
 * gpid=..."), a Citus background worker, or a Citus C function that the
 * user called (create_distributed_table(), citus_add_node(), ...)?
 */
extern bool sg_citus_internal(void);

/*
 * Is a Citus function that runs SQL text it is given running now
 * (worker_apply_shard_ddl_command(), run_command_on_workers() ...)?
 */
extern bool sg_citus_running_given_sql(void);

/*
 * For a table Citus knows (pg_dist_partition lists it, in a database with
 * the citus extension), add its shards to the facts: their count, and the
 * size and emptiness of their main forks (citus_relation_size()) in place
 * of the local shell's, unless the table was created in this transaction.
 * False, and out untouched, for any other relation.
 */
extern bool sg_citus_add_shards(Oid relid, bool created, struct SgRelFacts *out);

/* Is relid a table Citus knows (distributed, reference or Citus local)? */
extern bool sg_citus_is_distributed(Oid relid);

/*
 * When relid is one of Citus's shards on this node
 * (relation_is_a_known_shard()), the table it is a shard of; else
 * InvalidOid.
 */
extern Oid	sg_citus_shard_of(Oid relid);

/* The distribution column of a Citus table (palloc'd), or NULL. */
extern char *sg_citus_distribution_column(Oid relid);

/*
 * Run "SET LOCAL name TO 'value'" so that Citus sends it to every node of
 * the transaction (as with citus.propagate_set_commands = 'local').
 */
extern void sg_citus_set_local(const char *name, const char *value);

#endif							/* SCHEMAGUARD_CITUS_H */
