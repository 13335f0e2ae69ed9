/* schemaguard--1.2--1.3.sql: migration history */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION schemaguard UPDATE TO '1.3'" to load this file. \quit

CREATE TABLE schemaguard.migration_history (
	id bigserial PRIMARY KEY,
	version text NOT NULL UNIQUE CHECK (version <> '' AND length(version) <= 200),
	name text,
	checksum text,
	status text NOT NULL CHECK (status IN ('running', 'applied', 'interrupted', 'rolled_back')),
	transactional boolean NOT NULL,
	applied_by text NOT NULL,
	application_name text,
	holder_pid int,
	holder_start timestamptz,
	started_at timestamptz NOT NULL,
	finished_at timestamptz,
	statement_count int NOT NULL DEFAULT 0,
	last_statement text,
	prev_checksum text,
	chain text
);
-- begin_migration() looks for running migrations
CREATE INDEX migration_history_running ON schemaguard.migration_history (id) WHERE status = 'running';

CREATE TABLE schemaguard.migration_events (
	id bigserial PRIMARY KEY,
	migration_id bigint,
	version text NOT NULL,
	at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	event text NOT NULL,
	note text,
	actor text NOT NULL DEFAULT current_user
);
CREATE TABLE schemaguard.ddl_log (
	id bigserial PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	role text NOT NULL,
	application_name text,
	migration_id bigint,
	command_tag text NOT NULL,
	object_identity text,
	statement text NOT NULL,
	rules jsonb
);
CREATE INDEX ddl_log_migration ON schemaguard.ddl_log (migration_id, id) WHERE migration_id IS NOT NULL;
-- ddl_log ids start at the creation time in microseconds.  Restoring a dump
-- runs DDL (logged here, truthfully) before the dumped ddl_log rows come
-- back; numbered from 1, those statements would take the dumped rows' ids
-- and the restore would fail on ddl_log_pkey.  The sequence's position is
-- not dumped, so after a restore ids go on after the restore's own rows:
-- dumped rows, then the restore, then what follows, in id order.
SELECT pg_catalog.setval('schemaguard.ddl_log_id_seq',
                         (extract(epoch FROM pg_catalog.clock_timestamp()) * 1000000)::bigint, false);
SELECT pg_catalog.pg_extension_config_dump('schemaguard.migration_history', '');
SELECT pg_catalog.pg_extension_config_dump('schemaguard.migration_history_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('schemaguard.migration_events', '');
SELECT pg_catalog.pg_extension_config_dump('schemaguard.migration_events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('schemaguard.ddl_log', '');
REVOKE ALL ON schemaguard.migration_history, schemaguard.migration_events, schemaguard.ddl_log FROM PUBLIC;
GRANT SELECT ON schemaguard.migration_history, schemaguard.migration_events, schemaguard.ddl_log TO PUBLIC;

-- One row per version.  A session-scoped migration whose session ended
-- before end_migration() (disconnect, crash, kill) is 'interrupted': its row
-- still says running, but its session is gone.
CREATE FUNCTION schemaguard._session_alive(pid int, started timestamptz) RETURNS boolean
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS
	$$ SELECT EXISTS (SELECT FROM pg_catalog.pg_stat_get_activity(pid) a WHERE a.backend_start = started) $$;

CREATE VIEW schemaguard.migrations AS
SELECT h.id, h.version, h.name, h.checksum,
       CASE WHEN h.status = 'running' AND NOT schemaguard._session_alive(h.holder_pid, h.holder_start)
            THEN 'interrupted' ELSE h.status END AS status,
       h.transactional, h.applied_by, h.application_name, h.holder_pid, h.started_at, h.finished_at,
       h.finished_at - h.started_at AS duration,
       CASE WHEN h.status = 'running'
            THEN (SELECT count(*) FROM schemaguard.ddl_log l WHERE l.migration_id = h.id)::int
            ELSE h.statement_count END AS statement_count,
       CASE WHEN h.status = 'running'
            THEN (SELECT left(l.statement, 1000) FROM schemaguard.ddl_log l
                   WHERE l.migration_id = h.id ORDER BY l.id DESC LIMIT 1)
            ELSE h.last_statement END AS last_statement,
       h.prev_checksum, h.chain
  FROM schemaguard.migration_history h;
GRANT SELECT ON schemaguard.migrations TO PUBLIC;

-- Append-only through SQL: only superusers may write, owners included (the
-- C writers below bypass these triggers).
CREATE FUNCTION schemaguard._history_protect() RETURNS trigger
	AS 'MODULE_PATHNAME', 'sg_history_protect' LANGUAGE C;
CREATE TRIGGER migration_history_protect BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON schemaguard.migration_history
	FOR EACH STATEMENT EXECUTE FUNCTION schemaguard._history_protect();
CREATE TRIGGER migration_events_protect BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON schemaguard.migration_events
	FOR EACH STATEMENT EXECUTE FUNCTION schemaguard._history_protect();
CREATE TRIGGER ddl_log_protect BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON schemaguard.ddl_log
	FOR EACH STATEMENT EXECUTE FUNCTION schemaguard._history_protect();

-- The migration this session (or transaction) runs, NULL when none.
CREATE FUNCTION schemaguard.current_migration() RETURNS bigint
	AS 'MODULE_PATHNAME', 'sg_current_migration' LANGUAGE C STABLE PARALLEL RESTRICTED;

-- Hash chain: each applied migration's chain value covers its own fields and
-- the previous one's chain (the C writer computes the same, in migrations.c).
CREATE FUNCTION schemaguard._chain(prev text, h schemaguard.migration_history) RETURNS text
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT encode(sha256(convert_to(coalesce(prev, '') || string_agg('|' || coalesce(octet_length(f) || ':' || f, '-'), '' ORDER BY n),
	                                getdatabaseencoding())), 'hex')
	  FROM unnest(ARRAY[h.id::text, h.version, h.name, h.checksum, CASE WHEN h.transactional THEN 't' ELSE 'f' END,
	                    h.applied_by,
	                    ((extract(epoch FROM h.started_at) - 946684800) * 1000000)::bigint::text,
	                    ((extract(epoch FROM h.finished_at) - 946684800) * 1000000)::bigint::text,
	                    h.statement_count::text, h.prev_checksum]) WITH ORDINALITY AS u(f, n) $$;

-- The writers are C (src/migrations.c): they write the history tables
-- directly, past the append-only triggers.  Recording migrations is
-- granted, not public: a session that begins one holds up every other
-- runner.
CREATE FUNCTION schemaguard.begin_migration(version text, name text DEFAULT NULL, checksum text DEFAULT NULL)
	RETURNS bigint AS 'MODULE_PATHNAME', 'sg_begin_migration' LANGUAGE C VOLATILE;
CREATE FUNCTION schemaguard.end_migration() RETURNS void
	AS 'MODULE_PATHNAME', 'sg_end_migration' LANGUAGE C VOLATILE;
CREATE FUNCTION schemaguard.resolve_migration(version text, outcome text, note text) RETURNS void
	AS 'MODULE_PATHNAME', 'sg_resolve_migration' LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION schemaguard.begin_migration(text, text, text), schemaguard.end_migration(),
	schemaguard.resolve_migration(text, text, text) FROM PUBLIC;

CREATE FUNCTION schemaguard.migration_applied(version text) RETURNS boolean
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF version IS NULL THEN
		RAISE EXCEPTION 'migration version must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	RETURN EXISTS (SELECT FROM schemaguard.migration_history h
	                WHERE h.version = migration_applied.version AND h.status = 'applied');
END $$;

CREATE FUNCTION schemaguard.verify_history(OUT version text, OUT problem text) RETURNS SETOF record
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	h schemaguard.migration_history;
	m record;
	prev_chain text;
BEGIN
	FOR h IN SELECT * FROM schemaguard.migration_history WHERE status = 'applied' ORDER BY id LOOP
		IF h.chain IS DISTINCT FROM schemaguard._chain(prev_chain, h) THEN
			version := h.version;
			problem := 'hash chain broken: the row, or one before it, was edited, removed or reordered';
			RETURN NEXT;
		END IF;
		prev_chain := h.chain;
	END LOOP;
	FOR m IN SELECT * FROM schemaguard.migrations WHERE status IN ('interrupted', 'running') LOOP
		version := m.version;
		problem := CASE WHEN m.status = 'interrupted' THEN 'interrupted: resolve it with resolve_migration()'
		                ELSE 'running' END;
		RETURN NEXT;
	END LOOP;
END $$;
