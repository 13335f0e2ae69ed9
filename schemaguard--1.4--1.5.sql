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
