/* schemaguard--1.1--1.2.sql: tenant isolation and staged drops */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION schemaguard UPDATE TO '1.2'" to load this file. \quit

--
-- Tenant context.  The tenant is kept where SET and set_config() cannot
-- reach it (see src/tenant.c); only these functions change it.
--
CREATE FUNCTION schemaguard.set_tenant(tenant text) RETURNS void
	AS 'MODULE_PATHNAME', 'sg_set_tenant'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION schemaguard.set_tenant(text) IS
	'Set the tenant for the current transaction (inside BEGIN ... COMMIT only)';

CREATE FUNCTION schemaguard.set_tenant_session(tenant text) RETURNS void
	AS 'MODULE_PATHNAME', 'sg_set_tenant_session'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION schemaguard.set_tenant_session(text) IS
	'Set the tenant for the rest of the session (not safe behind a transaction-mode pooler)';

CREATE FUNCTION schemaguard.reset_tenant() RETURNS void
	AS 'MODULE_PATHNAME', 'sg_reset_tenant'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION schemaguard.reset_tenant() IS
	'Clear the tenant, for the transaction and the session';

CREATE FUNCTION schemaguard.current_tenant() RETURNS text
	AS 'MODULE_PATHNAME', 'sg_current_tenant'
	LANGUAGE C STABLE PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION schemaguard.current_tenant() IS
	'The current tenant, or NULL when none is set; for row-level security policies';

CREATE FUNCTION schemaguard.require_tenant() RETURNS text
	AS 'MODULE_PATHNAME', 'sg_require_tenant'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION schemaguard.require_tenant() IS
	'The current tenant; raises SQLSTATE SG010 when none is set';

-- Switching tenants is a privilege: grant it to the application role only.
REVOKE ALL ON FUNCTION schemaguard.set_tenant(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemaguard.set_tenant_session(text) FROM PUBLIC;

--
-- Tenant tables.
--
CREATE FUNCTION schemaguard.enable_tenant_isolation(
	target regclass,
	tenant_column name DEFAULT NULL)
	RETURNS SETOF text
	AS 'MODULE_PATHNAME', 'sg_enable_tenant_isolation'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION schemaguard.enable_tenant_isolation(regclass, name) IS
	'ENABLE and FORCE row-level security and create the tenant policy; returns the statements run';

CREATE FUNCTION schemaguard.tenant_report(
	OUT table_name regclass,
	OUT tenant_column name,
	OUT rls_enabled boolean,
	OUT rls_forced boolean,
	OUT policies text[],
	OUT uses_current_tenant boolean,
	OUT tenant_index boolean,
	OUT problems text[])
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'sg_tenant_report'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION schemaguard.tenant_report() IS
	'Every tenant table with its row-level security and the problems found';

--
-- Staged drops.  One row per staged table, materialized view (attnum 0) or
-- column.  relid is a regclass, so pg_dump writes the name and a restore
-- finds the new OID; attname lets a restore follow a column whose number
-- changed.  Written only through stage_drop()/unstage_drop().
--
CREATE TABLE schemaguard.drop_stages (
	relid regclass NOT NULL,
	attnum int2 NOT NULL DEFAULT 0 CHECK (attnum >= 0),
	attname name,
	staged_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	staged_by name NOT NULL,
	reason text,
	PRIMARY KEY (relid, attnum)
);
SELECT pg_catalog.pg_extension_config_dump('schemaguard.drop_stages', '');
REVOKE ALL ON schemaguard.drop_stages FROM PUBLIC;
GRANT SELECT ON schemaguard.drop_stages TO PUBLIC;

CREATE FUNCTION schemaguard._stage_row() RETURNS trigger
	AS 'MODULE_PATHNAME', 'sg_stage_row' LANGUAGE C;
CREATE TRIGGER drop_stages_row BEFORE INSERT ON schemaguard.drop_stages
	FOR EACH ROW EXECUTE FUNCTION schemaguard._stage_row();
-- Every backend re-reads the staged set after a change.
CREATE FUNCTION schemaguard._stages_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'sg_levels_changed' LANGUAGE C;
CREATE TRIGGER drop_stages_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON schemaguard.drop_stages
	FOR EACH STATEMENT EXECUTE FUNCTION schemaguard._stages_changed();
REVOKE ALL ON FUNCTION schemaguard._stage_row() FROM PUBLIC;
REVOKE ALL ON FUNCTION schemaguard._stages_changed() FROM PUBLIC;

-- After DDL: forget what was dropped, keep column names current.
CREATE FUNCTION schemaguard._stages_sync() RETURNS void
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS $$
	DELETE FROM schemaguard.drop_stages s
	 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = s.relid)
	    OR (s.attnum > 0 AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
	                                      WHERE a.attrelid = s.relid AND a.attnum = s.attnum
	                                        AND NOT a.attisdropped));
	UPDATE schemaguard.drop_stages s SET attname = a.attname
	  FROM pg_catalog.pg_attribute a
	 WHERE a.attrelid = s.relid AND a.attnum = s.attnum AND s.attnum > 0
	   AND s.attname IS DISTINCT FROM a.attname;
	$$;

CREATE FUNCTION schemaguard.stage_drop(
	target regclass,
	column_name name DEFAULT NULL,
	reason text DEFAULT NULL)
	RETURNS void
	AS 'MODULE_PATHNAME', 'sg_stage_drop'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION schemaguard.stage_drop(regclass, name, text) IS
	'Mark a table, materialized view or column for dropping in a later migration';

CREATE FUNCTION schemaguard.unstage_drop(
	target regclass,
	column_name name DEFAULT NULL)
	RETURNS void
	AS 'MODULE_PATHNAME', 'sg_unstage_drop'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION schemaguard.unstage_drop(regclass, name) IS
	'Remove the mark stage_drop() set';

REVOKE ALL ON FUNCTION schemaguard.stage_drop(regclass, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemaguard.unstage_drop(regclass, name) FROM PUBLIC;

CREATE FUNCTION schemaguard._staged_drops(
	OUT object regclass,
	OUT column_name name,
	OUT staged_at timestamptz,
	OUT staged_by name,
	OUT reason text,
	OUT last_used_at timestamptz,
	OUT use_count bigint,
	OUT last_used_by text,
	OUT tracking_since timestamptz,
	OUT droppable_at timestamptz,
	OUT state text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'sg_staged_drops'
	LANGUAGE C STABLE;

CREATE VIEW schemaguard.staged_drops AS
	SELECT * FROM schemaguard._staged_drops();
COMMENT ON VIEW schemaguard.staged_drops IS
	'Staged tables and columns: when staged, last use, and when they become droppable';
GRANT SELECT ON schemaguard.staged_drops TO PUBLIC;
