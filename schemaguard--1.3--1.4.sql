/* schemaguard--1.3--1.4.sql: audit triggers */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION schemaguard UPDATE TO '1.4'" to load this file. \quit

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
