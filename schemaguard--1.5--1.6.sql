/* schemaguard--1.5--1.6.sql: lint a file as its runner runs it; our functions lock with a bounded wait */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION schemaguard UPDATE TO '1.6'" to load this file. \quit

--
-- lint(sql, assume_populated, runner): runner says how the file will be
-- run: in one transaction ('single-transaction', the default, and 'prisma',
-- 'flyway', 'dbmate', 'node-pg-migrate', 'psql-single') or statement by
-- statement ('per-statement', 'psql', 'sqitch').
--
DROP FUNCTION schemaguard.lint(text, boolean);
CREATE FUNCTION schemaguard.lint(
	sql text,
	assume_populated boolean DEFAULT true,
	runner text DEFAULT 'single-transaction',
	OUT statement integer,
	OUT line integer,
	OUT rule text,
	OUT level text,
	OUT message text,
	OUT hint text,
	OUT detail text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'sg_lint'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION schemaguard.lint(text, boolean, text) IS
	'Check a migration script against the schemaguard rules without running it, as its runner will run it';

--
-- disable_audit(target): in C, so that it locks the tree with a bounded
-- wait and its DROP TRIGGERs are not judged by the rules.
--
CREATE OR REPLACE FUNCTION schemaguard.disable_audit(target regclass) RETURNS void
	AS 'MODULE_PATHNAME', 'sg_disable_audit'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT;

--
-- current_tenant_as(type_sample): the tenant as a smallint, integer, bigint
-- or uuid, NULL unless it is the value's canonical spelling.  Policies on
-- tenant columns of those types compare with it: an index condition,
-- evaluated once per scan, where 1.5's canonical check ran for every row.
-- enable_tenant_isolation() rewrites a 1.5 policy when run again.
--
CREATE FUNCTION schemaguard.current_tenant_as(type_sample anyelement) RETURNS anyelement
	AS 'MODULE_PATHNAME', 'sg_current_tenant_as'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION schemaguard.current_tenant_as(anyelement) IS
	'The current tenant as a value of the sample''s type (smallint, integer, bigint, uuid); NULL when unset or not canonical';
