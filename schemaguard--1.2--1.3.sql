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
	duration interval GENERATED ALWAYS AS (finished_at - started_at) STORED,
	statement_count int NOT NULL DEFAULT 0,
	last_statement text,
	prev_checksum text,
	chain text
);
-- begin_migration() looks for running migrations and the last applied one
CREATE INDEX migration_history_running ON schemaguard.migration_history (id) WHERE status = 'running';
CREATE INDEX migration_history_applied ON schemaguard.migration_history (finished_at, id) WHERE status = 'applied';

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
SELECT pg_catalog.pg_extension_config_dump('schemaguard.migration_history', '');
SELECT pg_catalog.pg_extension_config_dump('schemaguard.migration_history_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('schemaguard.migration_events', '');
SELECT pg_catalog.pg_extension_config_dump('schemaguard.migration_events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('schemaguard.ddl_log', '');
SELECT pg_catalog.pg_extension_config_dump('schemaguard.ddl_log_id_seq', '');
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
       h.duration,
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

-- Append-only: only superusers (and so the SECURITY DEFINER functions below,
-- which a superuser owns) may write; owners included.
CREATE FUNCTION schemaguard._history_protect() RETURNS trigger
	AS 'MODULE_PATHNAME', 'sg_history_protect' LANGUAGE C;
CREATE FUNCTION schemaguard._lock_history() RETURNS boolean
	AS 'MODULE_PATHNAME', 'sg_lock_history' LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION schemaguard._lock_history() FROM PUBLIC;
CREATE TRIGGER migration_history_protect BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON schemaguard.migration_history
	FOR EACH STATEMENT EXECUTE FUNCTION schemaguard._history_protect();
CREATE TRIGGER migration_events_protect BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON schemaguard.migration_events
	FOR EACH STATEMENT EXECUTE FUNCTION schemaguard._history_protect();
CREATE TRIGGER ddl_log_protect BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON schemaguard.ddl_log
	FOR EACH STATEMENT EXECUTE FUNCTION schemaguard._history_protect();

-- C helpers: the migration this session or transaction runs.
CREATE FUNCTION schemaguard._backend_start() RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'sg_backend_start' LANGUAGE C STABLE;
CREATE FUNCTION schemaguard._in_transaction_block() RETURNS boolean
	AS 'MODULE_PATHNAME', 'sg_in_transaction_block' LANGUAGE C VOLATILE;
CREATE FUNCTION schemaguard._set_migration(id bigint, transactional boolean) RETURNS void
	AS 'MODULE_PATHNAME', 'sg_set_migration' LANGUAGE C VOLATILE;
CREATE FUNCTION schemaguard.current_migration() RETURNS bigint
	AS 'MODULE_PATHNAME', 'sg_current_migration' LANGUAGE C STABLE;
REVOKE ALL ON FUNCTION schemaguard._set_migration(bigint, boolean) FROM PUBLIC;

-- Hash chain: each applied migration's chain value covers the previous one's.
CREATE FUNCTION schemaguard._chain(prev text, version text, checksum text) RETURNS text
	LANGUAGE sql IMMUTABLE AS
	$$ SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(
	       coalesce(prev, '') || '|' || version || '|' || coalesce(checksum, ''), 'UTF8')), 'hex') $$;

CREATE FUNCTION schemaguard.begin_migration(version text, name text DEFAULT NULL, checksum text DEFAULT NULL)
	RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	m schemaguard.migrations;
	h schemaguard.migration_history;
	deadline timestamptz;
	in_block boolean := schemaguard._in_transaction_block();
	new_id bigint;
	holder record;
	saved_timeout text := pg_catalog.current_setting('lock_timeout');
BEGIN
	IF version IS NULL OR btrim(version) = '' THEN
		RAISE EXCEPTION 'migration version must not be NULL or empty' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF schemaguard.current_migration() IS NOT NULL THEN
		-- A runner that applies several migrations in one transaction: the
		-- previous one is complete (it commits, or rolls back, with them).
		IF in_block AND (SELECT h.transactional FROM schemaguard.migration_history h
		                  WHERE h.id = schemaguard.current_migration()) THEN
			PERFORM schemaguard._finish_migration(schemaguard.current_migration());
			PERFORM schemaguard._set_migration(NULL, false);
		ELSE
			RAISE EXCEPTION 'a migration is already running in this session'
				USING ERRCODE = 'object_not_in_prerequisite_state',
				      HINT = 'Call schemaguard.end_migration() first.';
		END IF;
	END IF;
	deadline := clock_timestamp() + pg_catalog.current_setting('schemaguard.migration_lock_timeout')::interval;
	LOOP
		-- one runner at a time: a lock on the history while the begin runs
		-- (to COMMIT for a transactional migration) ...
		IF NOT schemaguard._lock_history() THEN
			BEGIN
				PERFORM pg_catalog.set_config('lock_timeout',
					greatest(1, extract(epoch FROM deadline - clock_timestamp()) * 1000)::int::text, true);
				LOCK TABLE schemaguard.migration_history IN SHARE ROW EXCLUSIVE MODE;
				PERFORM pg_catalog.set_config('lock_timeout', saved_timeout, true);
			EXCEPTION WHEN lock_not_available THEN
			-- a transactional migration holds it: name its session
			SELECT a.pid, a.usename, a.application_name INTO holder
			  FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
			 WHERE l.relation = 'schemaguard.migration_history'::regclass AND l.granted
			   AND l.mode = 'ShareRowExclusiveLock' AND l.pid <> pg_catalog.pg_backend_pid()
			 LIMIT 1;
			RAISE EXCEPTION 'another migration is in progress'
				USING ERRCODE = 'SG030',
				      DETAIL = format('Waited %s for the migration transaction of pid %s, role %s, application_name %s.',
				                      pg_catalog.current_setting('schemaguard.migration_lock_timeout'),
				                      holder.pid, holder.usename, coalesce(holder.application_name, '')),
				      HINT = 'Run migrations one at a time, or raise schemaguard.migration_lock_timeout.';
			END;
		END IF;
		-- ... and the running row of a session-scoped migration (a partial
		-- index keeps this cheap: usually there is none)
		SELECT * INTO m FROM schemaguard.migrations
		 WHERE id = (SELECT max(r.id) FROM schemaguard.migration_history r WHERE r.status = 'running');
		EXIT WHEN NOT FOUND;
		IF m.status = 'interrupted' THEN
			RAISE EXCEPTION 'migration % was interrupted', m.version
				USING ERRCODE = 'SG031',
				      DETAIL = format('Its last completed statement was: %s', coalesce(m.last_statement, '(none)')),
				      HINT = format('Check the database, then call SELECT schemaguard.resolve_migration(%L, ''applied'' or ''rolled_back'', ''what you checked'');',
				                    m.version);
		END IF;
		IF clock_timestamp() >= deadline THEN
			RAISE EXCEPTION 'migration % is in progress in another session', m.version
				USING ERRCODE = 'SG030',
				      DETAIL = format('Held by pid %s, role %s, application_name %s, since %s.',
				                      m.holder_pid, m.applied_by, coalesce(m.application_name, ''), m.started_at),
				      HINT = 'Wait for it, or raise schemaguard.migration_lock_timeout.';
		END IF;
		PERFORM pg_catalog.pg_sleep(0.1);
	END LOOP;

	SELECT * INTO h FROM schemaguard.migration_history mm WHERE mm.version = begin_migration.version;
	IF FOUND AND h.status IN ('applied') THEN
		IF h.checksum IS NOT DISTINCT FROM checksum THEN
			RAISE EXCEPTION 'migration % is already applied', version
				USING ERRCODE = 'SG020', DETAIL = format('Applied at %s by %s.', h.finished_at, h.applied_by);
		END IF;
		RAISE EXCEPTION 'migration % was applied with a different checksum', version
			USING ERRCODE = 'SG021',
			      DETAIL = format('Recorded checksum: %s; this one: %s.', coalesce(h.checksum, '(none)'), coalesce(checksum, '(none)'));
	ELSIF FOUND THEN
		-- rolled back earlier: start it again under the same version
		DELETE FROM schemaguard.migration_history mm WHERE mm.id = h.id;
	END IF;

	INSERT INTO schemaguard.migration_history (version, name, checksum, status, transactional, applied_by,
	                                    application_name, holder_pid, holder_start, started_at)
	VALUES (begin_migration.version, begin_migration.name, begin_migration.checksum, 'running', in_block,
	        session_user, pg_catalog.current_setting('application_name'), pg_catalog.pg_backend_pid(),
	        schemaguard._backend_start(), clock_timestamp())
	RETURNING id INTO new_id;
	-- A transactional migration's start commits with its end: one 'applied'
	-- event tells both.  A session-scoped one records its start at once.
	IF NOT in_block THEN
		INSERT INTO schemaguard.migration_events (migration_id, version, event)
		VALUES (new_id, version, 'started');
	END IF;
	PERFORM schemaguard._set_migration(new_id, in_block);
	RETURN new_id;
END $$;

-- Mark the current migration applied (called by end_migration() and, for a
-- transactional migration, before COMMIT).
CREATE FUNCTION schemaguard._finish_migration(mid bigint, log_event boolean DEFAULT true) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	prev schemaguard.migration_history;
	m schemaguard.migration_history;
BEGIN
	SELECT * INTO m FROM schemaguard.migration_history WHERE id = mid;
	IF NOT FOUND THEN
		RETURN;		-- its row was rolled back with a savepoint
	END IF;
	SELECT * INTO prev FROM schemaguard.migration_history
	 WHERE status = 'applied' AND id <> mid ORDER BY finished_at DESC, id DESC LIMIT 1;
	UPDATE schemaguard.migration_history
	   SET status = 'applied', finished_at = clock_timestamp(), holder_pid = NULL,
	       (statement_count, last_statement) =
	           (SELECT count(*), left((array_agg(l.statement ORDER BY l.id DESC))[1], 1000)
	              FROM schemaguard.ddl_log l WHERE l.migration_id = mid),
	       prev_checksum = prev.checksum,
	       chain = schemaguard._chain(prev.chain, m.version, m.checksum)
	 WHERE id = mid;
	IF log_event THEN
		INSERT INTO schemaguard.migration_events (migration_id, version, event)
		VALUES (mid, m.version, 'applied');
	END IF;
END $$;

REVOKE ALL ON FUNCTION schemaguard._finish_migration(bigint, boolean) FROM PUBLIC;

CREATE FUNCTION schemaguard.end_migration() RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	mid bigint := schemaguard.current_migration();
BEGIN
	IF mid IS NULL THEN
		RAISE EXCEPTION 'no migration is running in this session'
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = 'Call schemaguard.begin_migration(version) first.';
	END IF;
	PERFORM schemaguard._finish_migration(mid);
	PERFORM schemaguard._set_migration(NULL, false);
END $$;

CREATE FUNCTION schemaguard.resolve_migration(version text, outcome text, note text) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	m schemaguard.migrations;
BEGIN
	IF outcome IS NULL OR outcome NOT IN ('applied', 'rolled_back') THEN
		RAISE EXCEPTION 'outcome must be ''applied'' or ''rolled_back'''
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF note IS NULL OR btrim(note) = '' THEN
		RAISE EXCEPTION 'resolve_migration() needs a note saying what was checked'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO m FROM schemaguard.migrations mm WHERE mm.version = resolve_migration.version;
	IF NOT FOUND OR m.status <> 'interrupted' THEN
		RAISE EXCEPTION 'migration % is not interrupted', version
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	INSERT INTO schemaguard.migration_events (migration_id, version, event, note)
	VALUES (m.id, m.version, 'interrupted',
	        format('session %s ended before end_migration(); last statement: %s',
	               m.holder_pid, coalesce(m.last_statement, '(none)')));
	IF outcome = 'applied' THEN
		PERFORM schemaguard._finish_migration(m.id, false);
	ELSE
		UPDATE schemaguard.migration_history SET status = 'rolled_back', finished_at = clock_timestamp(), holder_pid = NULL
		 WHERE id = m.id;
	END IF;
	INSERT INTO schemaguard.migration_events (migration_id, version, event, note)
	VALUES (m.id, m.version, 'resolved ' || outcome, note);
END $$;
REVOKE ALL ON FUNCTION schemaguard.resolve_migration(text, text, text) FROM PUBLIC;

CREATE FUNCTION schemaguard.migration_applied(version text) RETURNS boolean
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS
	$$ SELECT EXISTS (SELECT FROM schemaguard.migrations m WHERE m.version = $1 AND m.status = 'applied') $$;

CREATE FUNCTION schemaguard.verify_history(OUT version text, OUT problem text) RETURNS SETOF record
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	m record;
	prev_chain text;
BEGIN
	FOR m IN SELECT * FROM schemaguard.migration_history WHERE status = 'applied' ORDER BY finished_at, id LOOP
		IF m.chain IS DISTINCT FROM schemaguard._chain(prev_chain, m.version, m.checksum) THEN
			version := m.version;
			problem := 'hash chain broken: the row, or one before it, was edited, removed or reordered';
			RETURN NEXT;
		END IF;
		prev_chain := m.chain;
	END LOOP;
	FOR m IN SELECT * FROM schemaguard.migrations WHERE status IN ('interrupted', 'running') LOOP
		version := m.version;
		problem := CASE WHEN m.status = 'interrupted' THEN 'interrupted: resolve it with resolve_migration()'
		                ELSE 'running' END;
		RETURN NEXT;
	END LOOP;
END $$;
