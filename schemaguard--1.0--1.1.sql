/* schemaguard--1.0--1.1.sql: the complete rule catalog and lint() */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION schemaguard UPDATE TO '1.1'" to load this file. \quit

--
-- lint(sql, assume_populated): the rule engine over a migration script,
-- without running it.  One row per finding.
--
CREATE FUNCTION schemaguard.lint(
	sql text,
	assume_populated boolean DEFAULT true,
	OUT statement integer,
	OUT line integer,
	OUT rule text,
	OUT level text,
	OUT message text,
	OUT hint text,
	OUT detail text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'sg_lint'
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION schemaguard.lint(text, boolean) IS
	'Check a migration script against the schemaguard rules without running it';
