/* schemaguard--1.1--1.2.sql: tenant isolation, staged drops and audit triggers */

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

--
-- Audit triggers.  The log is written by the C trigger only (straight into
-- the heap and its indexes); a statement trigger refuses INSERT, UPDATE,
-- DELETE and TRUNCATE for everyone but superusers and purge_audit().
--
-- CACHE: most ids come from the backend's own cache, not the sequence page
CREATE SEQUENCE schemaguard.audit_log_id_seq CACHE 100;
CREATE TABLE schemaguard.audit_log (
	id bigint NOT NULL DEFAULT pg_catalog.nextval('schemaguard.audit_log_id_seq'),
	at timestamptz NOT NULL,
	xid xid8 NOT NULL,
	table_oid oid NOT NULL,
	schema_name text NOT NULL,
	table_name text NOT NULL,
	op text NOT NULL,
	row_key jsonb,
	old jsonb,
	new jsonb,
	tenant text,
	actor text NOT NULL,
	"session_user" text NOT NULL,
	application_name text
);
ALTER SEQUENCE schemaguard.audit_log_id_seq OWNED BY schemaguard.audit_log.id;
CREATE INDEX audit_log_at ON schemaguard.audit_log USING brin (at);
-- row_history(): a btree on (table, key).  Measured against a btree on the
-- key's hash and a hash index: this one costs least per insert, as serial
-- keys take the btree's rightmost-page fast path.
CREATE INDEX audit_log_row ON schemaguard.audit_log (table_oid, row_key);
SELECT pg_catalog.pg_extension_config_dump('schemaguard.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('schemaguard.audit_log_id_seq', '');
REVOKE ALL ON schemaguard.audit_log FROM PUBLIC;
REVOKE ALL ON SEQUENCE schemaguard.audit_log_id_seq FROM PUBLIC;

CREATE FUNCTION schemaguard._audit_log_protect() RETURNS trigger
	AS 'MODULE_PATHNAME', 'sg_audit_log_protect' LANGUAGE C;
CREATE TRIGGER audit_log_append_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON schemaguard.audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION schemaguard._audit_log_protect();
REVOKE ALL ON FUNCTION schemaguard._audit_log_protect() FROM PUBLIC;

-- The triggers enable_audit() and enable_timestamps() attach.  EXECUTE stays
-- with PUBLIC: a trigger runs as the role that changes the table.
CREATE FUNCTION schemaguard._audit() RETURNS trigger
	AS 'MODULE_PATHNAME', 'sg_audit_trigger' LANGUAGE C;
CREATE FUNCTION schemaguard._timestamps() RETURNS trigger
	AS 'MODULE_PATHNAME', 'sg_timestamps_trigger' LANGUAGE C;

CREATE FUNCTION schemaguard.enable_audit(target regclass, exclude_columns name[] DEFAULT '{}')
	RETURNS void
	AS 'MODULE_PATHNAME', 'sg_enable_audit'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION schemaguard.enable_audit(regclass, name[]) IS
	'Record INSERT, UPDATE, DELETE and TRUNCATE of a table in schemaguard.audit_log';

CREATE FUNCTION schemaguard.disable_audit(target regclass) RETURNS void
	LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF target IS NULL THEN
		RAISE EXCEPTION 'target must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	EXECUTE format('DROP TRIGGER IF EXISTS schemaguard_audit_insert ON %s', target);
	EXECUTE format('DROP TRIGGER IF EXISTS schemaguard_audit_update ON %s', target);
	EXECUTE format('DROP TRIGGER IF EXISTS schemaguard_audit_delete ON %s', target);
	EXECUTE format('DROP TRIGGER IF EXISTS schemaguard_audit_truncate ON %s', target);
END
$$;
COMMENT ON FUNCTION schemaguard.disable_audit(regclass) IS
	'Stop auditing a table; its log rows stay';

CREATE FUNCTION schemaguard.enable_timestamps(
	target regclass,
	created_at name DEFAULT 'created_at',
	updated_at name DEFAULT 'updated_at',
	updated_by name DEFAULT NULL)
	RETURNS void
	AS 'MODULE_PATHNAME', 'sg_enable_timestamps'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION schemaguard.enable_timestamps(regclass, name, name, name) IS
	'Maintain created_at, updated_at (and updated_by) with a C trigger';

CREATE FUNCTION schemaguard.purge_audit(older_than interval) RETURNS bigint
	AS 'MODULE_PATHNAME', 'sg_purge_audit'
	LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION schemaguard.purge_audit(interval) IS
	'Delete audit log rows older than the interval; the purge is itself recorded';
REVOKE ALL ON FUNCTION schemaguard.purge_audit(interval) FROM PUBLIC;

CREATE FUNCTION schemaguard.row_history(target regclass, key jsonb)
	RETURNS SETOF schemaguard.audit_log
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
	AS $$
	WITH r AS (SELECT * FROM schemaguard.audit_log WHERE table_oid = target AND row_key = key)
	SELECT * FROM r
	UNION ALL
	-- a TRUNCATE after the row first appeared removed it too
	SELECT * FROM schemaguard.audit_log l
	 WHERE l.table_oid = target AND l.op = 'TRUNCATE' AND l.id > (SELECT min(id) FROM r)
	ORDER BY at, id
	$$;
COMMENT ON FUNCTION schemaguard.row_history(regclass, jsonb) IS
	'The change history of one row (by its primary key), oldest first';

CREATE VIEW schemaguard.audited_tables AS
SELECT t.tgrelid::regclass AS table_name,
       ARRAY(SELECT pg_catalog.convert_from(pg_catalog.decode(a, 'escape'), 'UTF8')::name
               FROM pg_catalog.unnest(pg_catalog.string_to_array(
                      pg_catalog.rtrim(pg_catalog.encode(t.tgargs, 'escape'), E'\\000'), E'\\000')) AS u(a)
              WHERE a <> '')::name[] AS excluded_columns
  FROM pg_catalog.pg_trigger t
 WHERE t.tgname = 'schemaguard_audit_insert' AND NOT t.tgisinternal;
COMMENT ON VIEW schemaguard.audited_tables IS 'Tables audited by schemaguard, with their excluded columns';
GRANT SELECT ON schemaguard.audited_tables TO PUBLIC;
