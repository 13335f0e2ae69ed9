--
-- Tenant context: set_tenant(), set_tenant_session(), reset_tenant(),
-- current_tenant(), require_tenant(), and isolation through a policy made
-- by enable_tenant_isolation().
--
SET lock_timeout = '5s';

-- Unset: NULL, never ''.
SELECT schemaguard.current_tenant() IS NULL AS unset;
SELECT schemaguard.require_tenant();

-- Transaction scope only: outside a transaction block it is refused.
SELECT schemaguard.set_tenant('acme');
BEGIN;
SELECT schemaguard.set_tenant('acme');
SELECT schemaguard.current_tenant(), schemaguard.require_tenant();
COMMIT;
SELECT schemaguard.current_tenant() IS NULL AS gone_after_commit;
BEGIN;
SELECT schemaguard.set_tenant('acme');
ROLLBACK;
SELECT schemaguard.current_tenant() IS NULL AS gone_after_rollback;

-- Savepoints: a rolled-back set_tenant() is undone, a released one kept.
BEGIN;
SELECT schemaguard.set_tenant('acme');
SAVEPOINT s1;
SELECT schemaguard.set_tenant('globex');
SELECT schemaguard.current_tenant() AS in_savepoint;
ROLLBACK TO s1;
SELECT schemaguard.current_tenant() AS after_rollback_to;
SAVEPOINT s2;
SELECT schemaguard.set_tenant('initech');
RELEASE s2;
SELECT schemaguard.current_tenant() AS after_release;
COMMIT;

-- Session scope is an explicit opt-in; a transaction tenant overrides it
-- until COMMIT.
SELECT schemaguard.set_tenant_session('acme');
SELECT schemaguard.current_tenant() AS session_tenant;
BEGIN;
SELECT schemaguard.set_tenant('globex');
SELECT schemaguard.current_tenant() AS transaction_tenant;
COMMIT;
SELECT schemaguard.current_tenant() AS back_to_session;
-- A session tenant set in a transaction that aborts is undone.
BEGIN;
SELECT schemaguard.set_tenant_session('globex');
ROLLBACK;
SELECT schemaguard.current_tenant() AS still_acme;

-- reset_tenant(), RESET ALL and DISCARD ALL clear it.
SELECT schemaguard.reset_tenant();
SELECT schemaguard.current_tenant() IS NULL AS after_reset_tenant;
SELECT schemaguard.set_tenant_session('acme');
RESET ALL;
SELECT schemaguard.current_tenant() IS NULL AS after_reset_all;
SELECT schemaguard.set_tenant_session('acme');
DISCARD ALL;
SELECT schemaguard.current_tenant() IS NULL AS after_discard_all;
SET lock_timeout = '5s';

-- SET and set_config() cannot forge it, not even for a superuser.
SET schemaguard.tenant = 'globex';
SELECT set_config('schemaguard.tenant', 'globex', false);
BEGIN;
SELECT schemaguard.set_tenant('acme');
SET LOCAL schemaguard.tenant = 'globex';
ROLLBACK;
CREATE FUNCTION forge() RETURNS text LANGUAGE sql
	SET schemaguard.tenant = 'globex' AS 'SELECT schemaguard.current_tenant()';
SELECT schemaguard.current_tenant() IS NULL AS unchanged;

-- Bad input.
SELECT schemaguard.set_tenant_session(NULL);
SELECT schemaguard.set_tenant_session('');
SELECT schemaguard.set_tenant_session('   ');
SELECT schemaguard.set_tenant_session(repeat('x', 300));
BEGIN;
SELECT schemaguard.set_tenant(NULL);
ROLLBACK;

-- The function properties RLS relies on.
SELECT p.proname, p.provolatile, p.proparallel, p.proleakproof, p.prosecdef
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'schemaguard' AND p.proname LIKE '%tenant%'
ORDER BY p.proname;

-- Switching tenants is a privilege: not granted to PUBLIC.
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_can
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'schemaguard' AND p.proname LIKE '%tenant%'
ORDER BY p.proname;

--
-- Isolation through the helper: an owner role (not a superuser, so RLS
-- applies to it) and an application role.
--
CREATE ROLE regress_sg_tenant_owner;
CREATE ROLE regress_sg_tenant_app;
CREATE ROLE regress_sg_tenant_reporting;
GRANT USAGE, CREATE ON SCHEMA public TO regress_sg_tenant_owner;
GRANT EXECUTE ON FUNCTION schemaguard.set_tenant(text) TO regress_sg_tenant_owner, regress_sg_tenant_app;
GRANT EXECUTE ON FUNCTION schemaguard.set_tenant_session(text) TO regress_sg_tenant_app;

SET ROLE regress_sg_tenant_owner;
BEGIN;
CREATE TABLE accounts (id int PRIMARY KEY, tenant_id uuid NOT NULL, name text);
CREATE INDEX accounts_tenant ON accounts (tenant_id);
SELECT * FROM schemaguard.enable_tenant_isolation('accounts');
GRANT SELECT, INSERT, UPDATE, DELETE ON accounts TO regress_sg_tenant_app, regress_sg_tenant_reporting;
COMMIT;
-- Idempotent: a second call changes nothing.
SELECT count(*) AS statements_run FROM schemaguard.enable_tenant_isolation('accounts');
\d accounts

-- The owner is subject to RLS (FORCE): with no tenant it sees nothing and
-- cannot insert.
SELECT count(*) AS owner_sees_without_tenant FROM accounts;
INSERT INTO accounts VALUES (1, 'aaaaaaaa-0000-0000-0000-000000000001', 'a1');
BEGIN;
SELECT schemaguard.set_tenant('aaaaaaaa-0000-0000-0000-000000000001');
-- The default fills in the tenant.
INSERT INTO accounts (id, name) VALUES (1, 'a1'), (2, 'a2');
COMMIT;
BEGIN;
SELECT schemaguard.set_tenant('bbbbbbbb-0000-0000-0000-000000000002');
INSERT INTO accounts (id, name) VALUES (3, 'b1');
COMMIT;
RESET ROLE;
SELECT id, tenant_id, name FROM accounts ORDER BY id;

SET ROLE regress_sg_tenant_app;
-- Unset: zero rows, and inserts are refused.
SELECT count(*) AS rows_without_tenant FROM accounts;
INSERT INTO accounts VALUES (9, 'aaaaaaaa-0000-0000-0000-000000000001', 'x');
UPDATE accounts SET name = 'x';
DELETE FROM accounts;

BEGIN;
SELECT schemaguard.set_tenant('aaaaaaaa-0000-0000-0000-000000000001');
SELECT id, name FROM accounts ORDER BY id;
-- B's rows cannot be read, updated, deleted, or written.
SELECT count(*) AS b_rows_visible FROM accounts WHERE id = 3;
UPDATE accounts SET name = 'stolen' WHERE id = 3;
DELETE FROM accounts WHERE id = 3;
SAVEPOINT s;
INSERT INTO accounts VALUES (4, 'bbbbbbbb-0000-0000-0000-000000000002', 'planted');
ROLLBACK TO s;
-- Moving a row to B is refused too.
UPDATE accounts SET tenant_id = 'bbbbbbbb-0000-0000-0000-000000000002' WHERE id = 1;
ROLLBACK TO s;
-- Forging the tenant is refused.
SELECT set_config('schemaguard.tenant', 'bbbbbbbb-0000-0000-0000-000000000002', true);
ROLLBACK;

BEGIN;
SELECT schemaguard.set_tenant('bbbbbbbb-0000-0000-0000-000000000002');
SELECT id, name FROM accounts ORDER BY id;
COMMIT;

-- Session scope for a role that opts in.
SELECT schemaguard.set_tenant_session('aaaaaaaa-0000-0000-0000-000000000001');
SELECT count(*) AS session_rows FROM accounts;
SELECT schemaguard.reset_tenant();
RESET ROLE;

-- A reporting role may not switch tenants.
SET ROLE regress_sg_tenant_reporting;
BEGIN;
SELECT schemaguard.set_tenant('aaaaaaaa-0000-0000-0000-000000000001');
ROLLBACK;
SELECT count(*) AS reporting_rows FROM accounts;
RESET ROLE;

-- Parallel workers see the leader's tenant (current_tenant() is PARALLEL SAFE).
SET ROLE regress_sg_tenant_owner;
BEGIN;
SELECT schemaguard.set_tenant('aaaaaaaa-0000-0000-0000-000000000001');
INSERT INTO accounts (id, name) SELECT g, 'bulk' FROM generate_series(100, 20099) g;
COMMIT;
RESET ROLE;
ANALYZE accounts;
SET ROLE regress_sg_tenant_app;
BEGIN;
SELECT schemaguard.set_tenant('bbbbbbbb-0000-0000-0000-000000000002');
-- The typed policy keeps the tenant index usable.
EXPLAIN (COSTS OFF) SELECT * FROM accounts;
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = off;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT count(*) FROM accounts;
SELECT count(*) AS b_rows_in_parallel FROM accounts;
SELECT schemaguard.set_tenant('aaaaaaaa-0000-0000-0000-000000000001');
SELECT count(*) AS a_rows_in_parallel FROM accounts;
COMMIT;
RESET ROLE;

-- The signed tenant a Citus coordinator sends its workers
-- (schemaguard.tenant_token; test/citus has the cluster).  On a server
-- without schemaguard.tenant_key no token is accepted, and none can be
-- forged: a SET of one is refused, superusers included.
SET ROLE regress_sg_tenant_reporting;
BEGIN;
SET LOCAL schemaguard.tenant_token = 'b';
ROLLBACK;
BEGIN;
SET LOCAL schemaguard.tenant_token = '1:99999999999:706f737467726573:617070:7433:00';
ROLLBACK;
SELECT set_config('schemaguard.tenant_token', 'x', true);
-- clearing it is always allowed, and leaves no tenant
SET schemaguard.tenant_token = '';
SELECT schemaguard.current_tenant() IS NULL AS no_tenant;
RESET ROLE;
SET schemaguard.tenant_token = '1:1:00:00:7433:00';
-- a lifetime out of range is refused (the message's unit format differs by major)
DO $$ BEGIN
	PERFORM set_config('schemaguard.tenant_token_lifetime', '0', false);
EXCEPTION WHEN invalid_parameter_value THEN
	RAISE NOTICE 'lifetime 0 refused: %', SQLSTATE;
END $$;
SHOW schemaguard.tenant_token_lifetime;

-- cleanup: never staged (staged-drop is tested in staged_drops.sql)
BEGIN;
SELECT schemaguard.allow('staged-drop', 'test cleanup');
DROP TABLE accounts;
COMMIT;
DROP FUNCTION IF EXISTS forge();
REVOKE ALL ON SCHEMA public FROM regress_sg_tenant_owner;
REVOKE ALL ON FUNCTION schemaguard.set_tenant(text) FROM regress_sg_tenant_owner, regress_sg_tenant_app;
REVOKE ALL ON FUNCTION schemaguard.set_tenant_session(text) FROM regress_sg_tenant_app;
DROP ROLE regress_sg_tenant_owner, regress_sg_tenant_app, regress_sg_tenant_reporting;
