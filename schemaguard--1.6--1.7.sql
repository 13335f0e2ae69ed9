/* schemaguard--1.6--1.7.sql: what schemaguard keeps, and who may read it */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION schemaguard UPDATE TO '1.7'" to load this file. \quit

--
-- Statement text is read as pg_stat_statements and pg_stat_activity let it
-- be read: every role sees every ddl_log row (when, who, which command, on
-- what), but the statement and what the rules said only of its own roles
-- (those it is a member of); superusers and members of pg_read_all_stats
-- see all.  Secrets never reach the text (passwords, user mapping and
-- server options, connection strings, values of secret settings are
-- '********'), and a statement is kept up to 8 kB, the rest as its digest.
--
ALTER TABLE schemaguard.ddl_log RENAME TO ddl_log_rows;
ALTER SEQUENCE schemaguard.ddl_log_id_seq RENAME TO ddl_log_rows_id_seq;
REVOKE ALL ON schemaguard.ddl_log_rows FROM PUBLIC;
GRANT SELECT ON schemaguard.ddl_log_rows TO pg_read_all_stats;
COMMENT ON TABLE schemaguard.ddl_log_rows IS
	'Every DDL statement that succeeded; read it through schemaguard.ddl_log';

-- May the current role read the text of a statement that role ran?
CREATE FUNCTION schemaguard._may_read_statement(statement_role text) RETURNS boolean
	LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE')
	    OR EXISTS (SELECT FROM pg_catalog.pg_roles r
	                WHERE r.rolname OPERATOR(pg_catalog.=) statement_role
	                  AND pg_catalog.pg_has_role(r.oid, 'USAGE'))
$$;

CREATE VIEW schemaguard.ddl_log AS
SELECT l.id, l.at, l.role, l.application_name, l.migration_id, l.command_tag, l.object_identity,
       CASE WHEN schemaguard._may_read_statement(l.role) THEN l.statement
            ELSE '<insufficient privilege>' END AS statement,
       CASE WHEN schemaguard._may_read_statement(l.role) THEN l.rules END AS rules
  FROM schemaguard.ddl_log_rows l;
GRANT SELECT ON schemaguard.ddl_log TO PUBLIC;
COMMENT ON VIEW schemaguard.ddl_log IS
	'Every DDL statement that succeeded; the text only of your own roles'' statements (all with pg_read_all_stats)';

-- The history: its rows are public, the last statement's text is not.
REVOKE ALL ON schemaguard.migration_history FROM PUBLIC;
GRANT SELECT (id, version, name, checksum, status, transactional, applied_by, application_name,
              holder_pid, holder_start, started_at, finished_at, statement_count, prev_checksum, chain)
	ON schemaguard.migration_history TO PUBLIC;
GRANT SELECT ON schemaguard.migration_history TO pg_read_all_stats;
ALTER FUNCTION schemaguard.verify_history() SECURITY DEFINER;

CREATE OR REPLACE VIEW schemaguard.migrations AS
SELECT h.id, h.version, h.name, h.checksum,
       CASE WHEN h.status = 'running' AND NOT schemaguard._session_alive(h.holder_pid, h.holder_start)
            THEN 'interrupted' ELSE h.status END AS status,
       h.transactional, h.applied_by, h.application_name, h.holder_pid, h.started_at, h.finished_at,
       h.finished_at - h.started_at AS duration,
       CASE WHEN h.status = 'running'
            THEN (SELECT count(*) FROM schemaguard.ddl_log_rows l WHERE l.migration_id = h.id)::int
            ELSE h.statement_count END AS statement_count,
       CASE WHEN NOT schemaguard._may_read_statement(h.applied_by) THEN '<insufficient privilege>'
            WHEN h.status = 'running'
            THEN (SELECT left(l.statement, 1000) FROM schemaguard.ddl_log_rows l
                   WHERE l.migration_id = h.id ORDER BY l.id DESC LIMIT 1)
            ELSE h.last_statement END AS last_statement,
       h.prev_checksum, h.chain
  FROM schemaguard.migration_history h;
