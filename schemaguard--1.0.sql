/* schemaguard--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION schemaguard" to load this file. \quit

--
-- Rule levels: one row per rule whose level differs from its default.
-- pg_dump keeps the rows (pg_extension_config_dump).
--
CREATE TABLE schemaguard.rule_levels (
	rule	text PRIMARY KEY,
	level	text NOT NULL CHECK (level IN ('error', 'warning', 'off')),
	set_by	text NOT NULL DEFAULT session_user,
	set_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE schemaguard.rule_levels IS
	'Per-database rule levels set with schemaguard.set_rule_level()';
SELECT pg_catalog.pg_extension_config_dump('schemaguard.rule_levels', '');

-- Every change, however made, invalidates the level cache of every backend.
CREATE FUNCTION schemaguard._levels_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'sg_levels_changed' LANGUAGE C;
CREATE TRIGGER rule_levels_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON schemaguard.rule_levels
	FOR EACH STATEMENT EXECUTE FUNCTION schemaguard._levels_changed();
REVOKE ALL ON FUNCTION schemaguard._levels_changed() FROM PUBLIC;

--
-- status(): is the guard loaded and active here?
--
CREATE FUNCTION schemaguard.status(
	OUT preloaded boolean,
	OUT active boolean,
	OUT mode text,
	OUT library_version text,
	OUT extension_version text)
	RETURNS record
	AS 'MODULE_PATHNAME', 'sg_status'
	LANGUAGE C STABLE;
COMMENT ON FUNCTION schemaguard.status() IS
	'Whether schemaguard is preloaded and active in this database, its mode and versions';

--
-- rules(): the rule catalog with the level in force in this database.
--
CREATE FUNCTION schemaguard.rules(
	OUT rule text,
	OUT family text,
	OUT level text,
	OUT description text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'sg_rules_srf'
	LANGUAGE C STABLE;
COMMENT ON FUNCTION schemaguard.rules() IS
	'Every schemaguard rule with the level in force in this database';

--
-- set_rule_level(rule, level): per-database level; 'default' removes it.
-- SECURITY DEFINER so that a DBA can delegate it with GRANT EXECUTE alone.
--
CREATE FUNCTION schemaguard.set_rule_level(rule text, level text)
	RETURNS void
	AS 'MODULE_PATHNAME', 'sg_set_rule_level'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION schemaguard.set_rule_level(text, text) FROM PUBLIC;
COMMENT ON FUNCTION schemaguard.set_rule_level(text, text) IS
	'Set the level (error, warning, off, default) of a rule in this database';

--
-- allow(rule, reason): let a rule pass until the end of this transaction
-- block.  Logged with role, rule, reason and statement.
--
CREATE FUNCTION schemaguard.allow(rule text, reason text)
	RETURNS void
	AS 'MODULE_PATHNAME', 'sg_allow'
	LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION schemaguard.allow(text, text) FROM PUBLIC;
COMMENT ON FUNCTION schemaguard.allow(text, text) IS
	'Let a rule pass for the rest of the current transaction block, with a logged reason';

GRANT USAGE ON SCHEMA schemaguard TO PUBLIC;
-- Levels are no secret (rules() shows them), and every role's DDL reads them.
GRANT SELECT ON schemaguard.rule_levels TO PUBLIC;

-- A library that is not preloaded guards only the session that loaded it.
DO $$
BEGIN
	IF NOT (SELECT preloaded FROM schemaguard.status()) THEN
		RAISE WARNING 'schemaguard is not loaded through shared_preload_libraries'
			USING DETAIL = 'Only this session is guarded; new sessions run DDL unchecked.',
			      HINT = 'Add schemaguard to shared_preload_libraries in postgresql.conf and restart the server.';
	END IF;
END
$$;
