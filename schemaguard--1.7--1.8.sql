/* schemaguard 1.7 -> 1.8 */
\echo Use "ALTER EXTENSION schemaguard UPDATE TO '1.8'" to load this file. \quit

-- INVALID indexes: what a failed or cancelled CREATE INDEX CONCURRENTLY (or
-- REINDEX CONCURRENTLY) left behind.  Queries do not use them, every write
-- still maintains them, and CREATE INDEX ... IF NOT EXISTS skips them (rule
-- invalid-index-if-not-exists).  A build still running is not listed
-- (pg_stat_progress_create_index), nor a partitioned table's index, which
-- is invalid by design until every partition's index is attached.  Reads
-- only the catalog, as any role may; its path is pinned.
CREATE FUNCTION schemaguard.invalid_indexes(
	OUT index_name regclass,
	OUT table_name regclass,
	OUT index_size bigint,
	OUT repair text)
	RETURNS SETOF record
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT i.indexrelid::regclass, i.indrelid::regclass,
		   pg_relation_size(i.indexrelid),
		   format('DROP INDEX CONCURRENTLY %s; then, in a migration of its own: %s;',
				  i.indexrelid::regclass,
				  regexp_replace(pg_get_indexdef(i.indexrelid),
								 '^CREATE (UNIQUE )?INDEX ', 'CREATE \1INDEX CONCURRENTLY '))
	  FROM pg_index i
	  JOIN pg_class c ON c.oid = i.indexrelid
	 WHERE NOT i.indisvalid
	   AND c.relkind = 'i'
	   AND c.relnamespace <> 'pg_catalog'::regnamespace
	   AND c.relpersistence <> 't'
	   AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p
					   WHERE p.index_relid = i.indexrelid OR
							 (p.relid = i.indrelid AND p.index_relid = 0))
	 ORDER BY 2::text, 1::text
	$$;
COMMENT ON FUNCTION schemaguard.invalid_indexes() IS
	'INVALID indexes left by failed CONCURRENTLY builds, with the SQL that repairs each';
