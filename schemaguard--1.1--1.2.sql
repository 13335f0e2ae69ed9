/* schemaguard--1.1--1.2.sql: tenant context, tenant tables and tenant-table-rls */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION schemaguard UPDATE TO '1.2'" to load this file. \quit

--
-- Tenant context.  The tenant is kept where SET and set_config() cannot
-- reach it (see src/tenant.c); only these functions change it.
--
CREATE FUNCTION schemaguard.set_tenant(tenant text) RETURNS void
	AS 'MODULE_PATHNAME', 'sg_set_tenant'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION schemaguard.set_tenant(text) IS
	'Set the tenant for the current transaction (inside BEGIN ... COMMIT only)';

CREATE FUNCTION schemaguard.set_tenant_session(tenant text) RETURNS void
	AS 'MODULE_PATHNAME', 'sg_set_tenant_session'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION schemaguard.set_tenant_session(text) IS
	'Set the tenant for the rest of the session (not safe behind a transaction-mode pooler)';

CREATE FUNCTION schemaguard.reset_tenant() RETURNS void
	AS 'MODULE_PATHNAME', 'sg_reset_tenant'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION schemaguard.reset_tenant() IS
	'Clear the tenant, for the transaction and the session';

CREATE FUNCTION schemaguard.current_tenant() RETURNS text
	AS 'MODULE_PATHNAME', 'sg_current_tenant'
	LANGUAGE C STABLE PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION schemaguard.current_tenant() IS
	'The current tenant, or NULL when none is set; for row-level security policies';

CREATE FUNCTION schemaguard.require_tenant() RETURNS text
	AS 'MODULE_PATHNAME', 'sg_require_tenant'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION schemaguard.require_tenant() IS
	'The current tenant; raises SQLSTATE SG010 when none is set';

-- Switching tenants is a privilege: grant it to the application role only.
REVOKE ALL ON FUNCTION schemaguard.set_tenant(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION schemaguard.set_tenant_session(text) FROM PUBLIC;

--
-- Tenant tables.
--
CREATE FUNCTION schemaguard.enable_tenant_isolation(
	target regclass,
	tenant_column name DEFAULT NULL)
	RETURNS SETOF text
	AS 'MODULE_PATHNAME', 'sg_enable_tenant_isolation'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION schemaguard.enable_tenant_isolation(regclass, name) IS
	'ENABLE and FORCE row-level security and create the tenant policy; returns the statements run';

CREATE FUNCTION schemaguard.tenant_report(
	OUT table_name regclass,
	OUT tenant_column name,
	OUT rls_enabled boolean,
	OUT rls_forced boolean,
	OUT policies text[],
	OUT uses_current_tenant boolean,
	OUT tenant_index boolean,
	OUT problems text[])
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'sg_tenant_report'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION schemaguard.tenant_report() IS
	'Every tenant table with its row-level security and the problems found';
