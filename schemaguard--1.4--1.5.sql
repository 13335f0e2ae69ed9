/* schemaguard--1.4--1.5.sql: hardening */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION schemaguard UPDATE TO '1.5'" to load this file. \quit

-- A migration's session is alive or not whoever asks: read in C from the
-- backend status array, not from pg_stat_activity, which hides
-- backend_start from roles that may not see other sessions.
CREATE OR REPLACE FUNCTION schemaguard._session_alive(pid int, started timestamptz) RETURNS boolean
	AS 'MODULE_PATHNAME', 'sg_session_alive' LANGUAGE C STABLE;

-- Trigger functions: only the extension attaches them.  enable_audit() and
-- enable_timestamps() check that the caller owns the table and create the
-- triggers as the extension's owner; by hand, nobody but a superuser can.
REVOKE ALL ON FUNCTION schemaguard._audit() FROM PUBLIC;
REVOKE ALL ON FUNCTION schemaguard._timestamps() FROM PUBLIC;
REVOKE ALL ON FUNCTION schemaguard._history_protect() FROM PUBLIC;

-- Audit reaches every partition: enable_audit() puts the statement
-- triggers on each partition (PostgreSQL does not clone statement
-- triggers), and the hook adds them to partitions created or attached
-- later.  disable_audit() removes them from the whole tree; the view lists
-- the tables auditing was enabled on, not their partitions.
CREATE OR REPLACE FUNCTION schemaguard.disable_audit(target regclass) RETURNS void
	LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r regclass;
BEGIN
	IF target IS NULL THEN
		RAISE EXCEPTION 'target must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	FOR r IN SELECT t.relid FROM pg_catalog.pg_partition_tree(target) t
	          UNION SELECT target
	LOOP
		EXECUTE format('DROP TRIGGER IF EXISTS schemaguard_audit_insert ON %s', r);
		EXECUTE format('DROP TRIGGER IF EXISTS schemaguard_audit_update ON %s', r);
		EXECUTE format('DROP TRIGGER IF EXISTS schemaguard_audit_delete ON %s', r);
		EXECUTE format('DROP TRIGGER IF EXISTS schemaguard_audit_truncate ON %s', r);
	END LOOP;
END
$$;

CREATE OR REPLACE VIEW schemaguard.audited_tables AS
SELECT t.tgrelid::regclass AS table_name,
       ARRAY(SELECT pg_catalog.convert_from(pg_catalog.decode(a, 'escape'), 'UTF8')::name
               FROM pg_catalog.unnest(pg_catalog.string_to_array(
                      pg_catalog.rtrim(pg_catalog.encode(t.tgargs, 'escape'), E'\\000'), E'\\000')) AS u(a)
              WHERE a OPERATOR(pg_catalog.<>) '')::name[] AS excluded_columns
  FROM pg_catalog.pg_trigger t
 WHERE t.tgname OPERATOR(pg_catalog.=) 'schemaguard_audit_insert' AND NOT t.tgisinternal
   AND NOT EXISTS (SELECT FROM pg_catalog.pg_partition_ancestors(t.tgrelid) a
                     JOIN pg_catalog.pg_trigger p ON p.tgrelid OPERATOR(pg_catalog.=) a.relid
                    WHERE a.relid OPERATOR(pg_catalog.<>) t.tgrelid
                      AND p.tgname OPERATOR(pg_catalog.=) 'schemaguard_audit_insert');

-- lint(NULL) is an error, not an empty (clean-looking) result.
ALTER FUNCTION schemaguard.lint(text, boolean) CALLED ON NULL INPUT;
