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

-- has_tenant(): is a tenant set (current_tenant() IS NOT NULL, without
-- building the text).  The shared-rows gate policy calls it for each row.
CREATE FUNCTION schemaguard.has_tenant()
	RETURNS boolean
	AS 'MODULE_PATHNAME', 'sg_has_tenant'
	LANGUAGE C STABLE LEAKPROOF PARALLEL SAFE;
COMMENT ON FUNCTION schemaguard.has_tenant() IS
	'Whether a tenant is set for this transaction (or session)';

-- enable_tenant_isolation(): shared rows and replacing the team's policies.
-- shared_rows: true adds the FOR SELECT policy schemaguard_tenant_shared
-- (every tenant reads the rows of no tenant; writes stay the tenant's own),
-- false drops it, NULL leaves it as it is.  replace_policies: drop the
-- permissive policies that keep the table open, after creating ours.
DROP FUNCTION schemaguard.enable_tenant_isolation(regclass, name);
CREATE FUNCTION schemaguard.enable_tenant_isolation(
	target regclass,
	tenant_column name DEFAULT NULL,
	shared_rows boolean DEFAULT NULL,
	replace_policies boolean DEFAULT false)
	RETURNS SETOF text
	AS 'MODULE_PATHNAME', 'sg_enable_tenant_isolation'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION schemaguard.enable_tenant_isolation(regclass, name, boolean, boolean) IS
	'ENABLE and FORCE row-level security and create the tenant policy (and the shared-rows policy); returns the statements run';

-- tenant_report(): which tables share rows, which are in the baseline.
DROP FUNCTION schemaguard.tenant_report();
CREATE FUNCTION schemaguard.tenant_report(
	OUT table_name regclass,
	OUT tenant_column name,
	OUT rls_enabled boolean,
	OUT rls_forced boolean,
	OUT policies text[],
	OUT uses_current_tenant boolean,
	OUT tenant_index boolean,
	OUT problems text[],
	OUT shares_rows boolean,
	OUT baselined boolean)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'sg_tenant_report'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION schemaguard.tenant_report() IS
	'Every tenant table with its row-level security and the problems found';

-- The adoption baseline: tenant tables that leaked when the team adopted
-- schemaguard.  Rule tenant-table-rls reports them (a WARNING at every
-- transaction that alters them) but does not refuse them, until
-- enable_tenant_isolation() isolates each (which removes its row); a table
-- not in it that leaks is refused.  Written only by baseline_tenant_leaks(),
-- a superuser's act, with a reason; readable by every role, as
-- tenant_report() is.
CREATE TABLE schemaguard.tenant_baseline (
	table_name regclass PRIMARY KEY,
	problems text[] NOT NULL,
	reason text NOT NULL CHECK (reason <> ''),
	recorded_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	recorded_by name NOT NULL DEFAULT CURRENT_USER);
SELECT pg_catalog.pg_extension_config_dump('schemaguard.tenant_baseline', '');
GRANT SELECT ON schemaguard.tenant_baseline TO PUBLIC;

CREATE FUNCTION schemaguard.baseline_tenant_leaks(reason text)
	RETURNS SETOF regclass
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF reason IS NULL OR btrim(reason) = '' THEN
		RAISE EXCEPTION 'baseline_tenant_leaks() needs a reason'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'The reason is recorded with each table, as allow() records its reason.',
				  HINT = 'SELECT schemaguard.baseline_tenant_leaks(''adopting schemaguard: isolated table by table, ticket ...'');';
	END IF;
	RETURN QUERY
	INSERT INTO schemaguard.tenant_baseline AS b (table_name, problems, reason)
	SELECT r.table_name, r.problems, baseline_tenant_leaks.reason
	  FROM schemaguard.tenant_report() r
	 WHERE EXISTS (SELECT FROM unnest(r.problems) p
				   WHERE p NOT LIKE 'no index leads with %'
					 AND p NOT LIKE 'policy % depends on %')
	ON CONFLICT (table_name) DO UPDATE
	   SET problems = EXCLUDED.problems, reason = EXCLUDED.reason,
		   recorded_at = pg_catalog.now(), recorded_by = CURRENT_USER
	RETURNING b.table_name;
END
$$;
REVOKE ALL ON FUNCTION schemaguard.baseline_tenant_leaks(text) FROM PUBLIC;
COMMENT ON FUNCTION schemaguard.baseline_tenant_leaks(text) IS
	'Record every tenant table that leaks now, with a reason: reported, not refused, until isolated';
