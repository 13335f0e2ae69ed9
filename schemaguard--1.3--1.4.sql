/* schemaguard--1.3--1.4.sql: audit triggers */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION schemaguard UPDATE TO '1.4'" to load this file. \quit

--
-- Audit triggers.  The C trigger writes one audit_batch row per statement
-- (per chunk of a large one): what its rows share once, and the rows as a
-- JSON array [{"k": row_key, "o": old, "n": new}, ...].  audit_log is the
-- view users read; row i of a batch has id = batch id + i - 1, so the id
-- sequence steps by 1024, the most rows a batch holds.
--
CREATE SEQUENCE schemaguard.audit_log_id_seq INCREMENT BY 1024 CACHE 32;
CREATE TABLE schemaguard.audit_batch (
	id bigint NOT NULL,
	at timestamptz NOT NULL,
	xid xid8 NOT NULL,
	table_oid oid NOT NULL,
	schema_name text NOT NULL,
	table_name text NOT NULL,
	op text NOT NULL,
	tenant text,
	actor text NOT NULL,
	"session_user" text NOT NULL,
	application_name text,
	nrows int NOT NULL,
	rows json NOT NULL
) WITH (toast_tuple_target = 8160);	-- a batch (under 4 kB) is stored as it is
ALTER SEQUENCE schemaguard.audit_log_id_seq OWNED BY schemaguard.audit_batch.id;
-- The only index: BRIN on the statement time (purge_audit(), time ranges).
-- row_history() reads a table's batches; see the README for why there is
-- no per-row key index.
CREATE INDEX audit_batch_at ON schemaguard.audit_batch USING brin (at);
SELECT pg_catalog.pg_extension_config_dump('schemaguard.audit_batch', '');
SELECT pg_catalog.pg_extension_config_dump('schemaguard.audit_log_id_seq', '');
REVOKE ALL ON schemaguard.audit_batch FROM PUBLIC;
REVOKE ALL ON SEQUENCE schemaguard.audit_log_id_seq FROM PUBLIC;
COMMENT ON TABLE schemaguard.audit_batch IS
	'Audited row changes, one row per statement; read them through schemaguard.audit_log';

CREATE VIEW schemaguard.audit_log AS
SELECT b.id + r.n - 1 AS id, b.at, b.xid, b.table_oid, b.schema_name, b.table_name, b.op,
       (r.e OPERATOR(pg_catalog.->) 'k')::jsonb AS row_key,
       (r.e OPERATOR(pg_catalog.->) 'o')::jsonb AS old,
       (r.e OPERATOR(pg_catalog.->) 'n')::jsonb AS new,
       b.tenant, b.actor, b."session_user", b.application_name
  FROM schemaguard.audit_batch b
 CROSS JOIN LATERAL pg_catalog.json_array_elements(b.rows) WITH ORDINALITY AS r(e, n);
REVOKE ALL ON schemaguard.audit_log FROM PUBLIC;
COMMENT ON VIEW schemaguard.audit_log IS 'Audited row changes, one row per changed row';

CREATE FUNCTION schemaguard._audit_log_protect() RETURNS trigger
	AS 'MODULE_PATHNAME', 'sg_audit_log_protect' LANGUAGE C;
CREATE TRIGGER audit_batch_append_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON schemaguard.audit_batch
	FOR EACH STATEMENT EXECUTE FUNCTION schemaguard._audit_log_protect();
CREATE TRIGGER audit_log_append_only INSTEAD OF INSERT OR UPDATE OR DELETE
	ON schemaguard.audit_log
	FOR EACH ROW EXECUTE FUNCTION schemaguard._audit_log_protect();
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

-- The text the trigger wrote for a row key, to find its batches without
-- parsing their JSON; NULL when that cannot be relied on.
CREATE FUNCTION schemaguard._audit_key_text(target regclass, key jsonb) RETURNS text
	AS 'MODULE_PATHNAME', 'sg_audit_key_text'
	LANGUAGE C STABLE;

CREATE FUNCTION schemaguard.row_history(target regclass, key jsonb)
	RETURNS SETOF schemaguard.audit_log
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
	AS $$
	WITH p AS MATERIALIZED (SELECT schemaguard._audit_key_text(target, key) AS pat),
	t AS (
		-- audit_log, reading only the batches whose text holds the key
		-- (and the table's TRUNCATE markers)
		SELECT b.id + r.n - 1 AS id, b.at, b.xid, b.table_oid, b.schema_name, b.table_name, b.op,
		       (r.e -> 'k')::jsonb AS row_key, (r.e -> 'o')::jsonb AS old, (r.e -> 'n')::jsonb AS new,
		       b.tenant, b.actor, b."session_user", b.application_name
		  FROM schemaguard.audit_batch b
		 CROSS JOIN p
		 CROSS JOIN LATERAL json_array_elements(b.rows) WITH ORDINALITY AS r(e, n)
		 WHERE b.table_oid = target
		   AND (p.pat IS NULL OR b.op = 'TRUNCATE' OR strpos(b.rows::text, p.pat) > 0)),
	r AS (SELECT * FROM t WHERE row_key = key)
	SELECT * FROM r
	UNION ALL
	-- a TRUNCATE after the row first appeared removed it too
	SELECT * FROM t WHERE op = 'TRUNCATE' AND id > (SELECT min(id) FROM r)
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
