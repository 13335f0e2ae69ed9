--
-- Hardening: what an attacker or a careless migration author tries, as a
-- non-superuser application role, a tenant, or a table owner.  Everything
-- here lives in schema h (dropped at the end), so later files see nothing.
--
SET lock_timeout = '5s';
-- later files list the DDL log: this file's DDL stays out of it
SET schemaguard.record_ddl = off;
CREATE SCHEMA h;
-- These fixtures are small: judge them as any table that holds a row.
SET schemaguard.small_table_size = 0;
CREATE ROLE regress_sg_h_app;
CREATE ROLE regress_sg_h_other;
GRANT USAGE, CREATE ON SCHEMA h TO regress_sg_h_app, regress_sg_h_other;
GRANT USAGE ON SCHEMA h TO PUBLIC;
SET search_path = h, public;

-- 1. Trigger functions attached by hand.  PUBLIC may not attach them ...
SET ROLE regress_sg_h_app;
CREATE TABLE h.ts_crash (id int, a text, b int, c varchar(3));
CREATE TRIGGER t BEFORE INSERT ON h.ts_crash FOR EACH ROW EXECUTE FUNCTION schemaguard._timestamps('a', '', '');
CREATE TRIGGER t AFTER INSERT ON h.ts_crash EXECUTE FUNCTION schemaguard._audit();
CREATE TRIGGER t BEFORE INSERT ON h.ts_crash FOR EACH ROW EXECUTE FUNCTION schemaguard._history_protect();
RESET ROLE;
-- ... and when a superuser does, each one checks its table and arguments
-- when it fires: a clean error, never a crash or a wrong value.
CREATE TRIGGER t BEFORE INSERT ON h.ts_crash FOR EACH ROW EXECUTE FUNCTION schemaguard._timestamps('a', '', '');
INSERT INTO h.ts_crash (id) VALUES (1);
DROP TRIGGER t ON h.ts_crash;
CREATE TRIGGER t BEFORE INSERT ON h.ts_crash FOR EACH ROW EXECUTE FUNCTION schemaguard._timestamps('c', 'b', 'b');
INSERT INTO h.ts_crash (id) VALUES (1);
DROP TRIGGER t ON h.ts_crash;
CREATE TRIGGER t BEFORE INSERT ON h.ts_crash FOR EACH ROW EXECUTE FUNCTION schemaguard._timestamps('', '', 'b');
INSERT INTO h.ts_crash (id) VALUES (1);
DROP TRIGGER t ON h.ts_crash;
CREATE TRIGGER t BEFORE INSERT ON h.ts_crash FOR EACH ROW EXECUTE FUNCTION schemaguard._timestamps('ctid', '', '');
INSERT INTO h.ts_crash (id) VALUES (1);
DROP TRIGGER t ON h.ts_crash;
CREATE TRIGGER t BEFORE INSERT ON h.ts_crash FOR EACH ROW EXECUTE FUNCTION schemaguard._timestamps('a');
INSERT INTO h.ts_crash (id) VALUES (1);
DROP TRIGGER t ON h.ts_crash;
CREATE TRIGGER t AFTER INSERT ON h.ts_crash FOR EACH STATEMENT EXECUTE FUNCTION schemaguard._timestamps('', '', '');
INSERT INTO h.ts_crash (id) VALUES (1);
DROP TRIGGER t ON h.ts_crash;
CREATE TRIGGER t BEFORE INSERT OR UPDATE ON h.ts_crash FOR EACH ROW EXECUTE FUNCTION schemaguard._stage_row();
INSERT INTO h.ts_crash (id) VALUES (1);
DROP TRIGGER t ON h.ts_crash;
CREATE TRIGGER t BEFORE INSERT ON h.ts_crash FOR EACH ROW EXECUTE FUNCTION schemaguard._audit_log_protect();
INSERT INTO h.ts_crash (id) VALUES (1);
DROP TRIGGER t ON h.ts_crash;
CREATE TRIGGER t AFTER INSERT ON h.ts_crash FOR EACH STATEMENT EXECUTE FUNCTION schemaguard._levels_changed();
INSERT INTO h.ts_crash (id) VALUES (1);
DROP TRIGGER t ON h.ts_crash;
CREATE TRIGGER schemaguard_audit_insert AFTER INSERT ON h.ts_crash FOR EACH ROW EXECUTE FUNCTION schemaguard._audit();
INSERT INTO h.ts_crash (id) VALUES (1);
DROP TRIGGER schemaguard_audit_insert ON h.ts_crash;
SELECT count(*) AS rows_written FROM h.ts_crash;
-- enable_timestamps() refuses what the trigger would refuse, and a
-- varchar(n) updated_by longer than n is an error, not a longer value.
SELECT schemaguard.enable_timestamps('h.ts_crash', 'a', NULL, NULL);
CREATE ROLE regress_sg_h_long_role_name;
GRANT USAGE ON SCHEMA h TO regress_sg_h_long_role_name;
CREATE TABLE h.stamped (id int, updated_by varchar(3));
GRANT INSERT ON h.stamped TO regress_sg_h_long_role_name;
SELECT schemaguard.enable_timestamps('h.stamped', NULL, NULL, 'updated_by');
SET ROLE regress_sg_h_long_role_name;
INSERT INTO h.stamped (id) VALUES (1);
RESET ROLE;
-- enable_audit() and enable_timestamps() need the table's owner.
SET ROLE regress_sg_h_other;
SELECT schemaguard.enable_audit('h.ts_crash');
SELECT schemaguard.enable_timestamps('h.ts_crash', NULL, NULL, NULL);
RESET ROLE;

-- 2. Tenant rows.  A varchar(8) tenant column: the tenant value is never cast.
BEGIN;
CREATE TABLE h.app_orders (id int, tenant_id varchar(8), secret text);
INSERT INTO h.app_orders VALUES (1, 'LONGTENA', 'theirs'), (2, 'other', 'x');
SELECT * FROM schemaguard.enable_tenant_isolation('h.app_orders');
COMMIT;
GRANT SELECT, INSERT ON h.app_orders TO regress_sg_h_app;
GRANT EXECUTE ON FUNCTION schemaguard.set_tenant(text) TO regress_sg_h_app;
SET ROLE regress_sg_h_app;
BEGIN;
SELECT schemaguard.set_tenant('LONGTENANT-attacker');
SELECT * FROM h.app_orders;
INSERT INTO h.app_orders (id, secret) VALUES (3, 'mine');
ROLLBACK;
BEGIN;
SELECT schemaguard.set_tenant('LONGTENA');
SELECT id, secret FROM h.app_orders;
ROLLBACK;
RESET ROLE;
-- An operator planted in public does not capture the generated policy.
CREATE FUNCTION public.sg_h_true(varchar, varchar) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = public.sg_h_true);
SET search_path = public, h;
BEGIN;
CREATE TABLE h.hijack (id int, tenant_id varchar(20));
INSERT INTO h.hijack VALUES (1, 'a');
SELECT count(*) FROM schemaguard.enable_tenant_isolation('h.hijack');
COMMIT;
SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polrelid = 'h.hijack'::regclass;
GRANT SELECT ON h.hijack TO regress_sg_h_app;
SET ROLE regress_sg_h_app;
SELECT count(*) AS visible_without_tenant FROM h.hijack;
RESET ROLE;
-- A policy written with that operator: the rule refuses it, and
-- tenant_report() names the dependency.
BEGIN;
CREATE POLICY planted ON h.hijack USING (tenant_id OPERATOR(public.=) schemaguard.current_tenant()::varchar);
ROLLBACK;
BEGIN;
CREATE POLICY planted ON h.hijack AS RESTRICTIVE USING (tenant_id OPERATOR(public.=) schemaguard.current_tenant()::varchar);
COMMIT;
SELECT table_name, problems FROM schemaguard.tenant_report() WHERE table_name = 'h.hijack'::regclass;
DROP POLICY planted ON h.hijack;
SET search_path = h, public;
-- Column types where equality is not identity are refused.
BEGIN;
CREATE TABLE h.padded (id int, tenant_id char(8));
SELECT * FROM schemaguard.enable_tenant_isolation('h.padded');
ROLLBACK;
BEGIN;
CREATE TABLE h.numbered (id int, tenant_id numeric);
SELECT * FROM schemaguard.enable_tenant_isolation('h.numbered');
ROLLBACK;
-- An integer tenant: '007' is not tenant 7.
BEGIN;
CREATE TABLE h.by_int (id int, tenant_id int);
INSERT INTO h.by_int VALUES (1, 7);
SELECT count(*) FROM schemaguard.enable_tenant_isolation('h.by_int');
COMMIT;
GRANT SELECT ON h.by_int TO regress_sg_h_app;
SET ROLE regress_sg_h_app;
BEGIN; SELECT schemaguard.set_tenant('007'); SELECT count(*) FROM h.by_int; ROLLBACK;
BEGIN; SELECT schemaguard.set_tenant(' 7'); SELECT count(*) FROM h.by_int; ROLLBACK;
BEGIN; SELECT schemaguard.set_tenant('7'); SELECT count(*) FROM h.by_int; ROLLBACK;
RESET ROLE;
-- The owner cannot read every tenant inside a transaction it rolls back.
BEGIN; ALTER TABLE h.app_orders NO FORCE ROW LEVEL SECURITY; SELECT * FROM h.app_orders; ROLLBACK;
BEGIN; ALTER TABLE h.app_orders DISABLE ROW LEVEL SECURITY; SELECT * FROM h.app_orders; ROLLBACK;
BEGIN; DROP POLICY schemaguard_tenant_isolation ON h.app_orders; CREATE POLICY p ON h.app_orders USING (1 = 1); ROLLBACK;
BEGIN; DROP POLICY schemaguard_tenant_isolation ON h.app_orders; CREATE POLICY p ON h.app_orders USING (tenant_id IS NOT NULL OR true); ROLLBACK;
-- nor by a statement that drops the policy as a side effect
BEGIN; DO $$ BEGIN EXECUTE 'ALTER TABLE h.app_orders NO FORCE ROW LEVEL SECURITY'; END $$; ROLLBACK;
-- A dropped policy alone leaves the table closed: refused at commit only.
BEGIN; DROP POLICY schemaguard_tenant_isolation ON h.app_orders; SELECT count(*) FROM h.app_orders; ROLLBACK;

-- 3. Tenant tables committed without row-level security, by other paths.
CREATE SCHEMA evil CREATE TABLE leak1 (id int, tenant_id text, secret text);
CREATE TEMP TABLE leakx (x int);
DO $$ BEGIN CREATE TABLE h.leakx (id int, tenant_id text, secret text); END $$;
DO $$ BEGIN SET LOCAL search_path = h; CREATE TABLE leakx (id int, tenant_id text, secret text); END $$;
CREATE TYPE h.ct AS (id int);
SET schemaguard.mode = off;
CREATE TABLE h.typed OF h.ct;
RESET schemaguard.mode;
ALTER TYPE h.ct ADD ATTRIBUTE tenant_id text CASCADE;
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relname IN ('leak1', 'leakx', 'typed') AND c.relpersistence <> 't' ORDER BY 1, 2;
-- A policy must restrict rows by the tenant column against the tenant.
BEGIN;
CREATE TABLE h.shapes (id int, tenant_id text, owner text);
ALTER TABLE h.shapes ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY p ON h.shapes USING (1 = 1) WITH CHECK (1 = 1);
COMMIT;
BEGIN;
CREATE TABLE h.shapes (id int, tenant_id text, owner text);
ALTER TABLE h.shapes ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY p ON h.shapes USING (owner = schemaguard.current_tenant());
COMMIT;
BEGIN;
CREATE TABLE h.shapes (id int, tenant_id text, owner text);
ALTER TABLE h.shapes ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY p ON h.shapes USING (tenant_id = schemaguard.current_tenant() OR owner = 'admin');
COMMIT;
BEGIN;
CREATE TABLE h.shapes (id int, tenant_id text, owner text);
ALTER TABLE h.shapes ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY p ON h.shapes USING (tenant_id = schemaguard.current_tenant() AND owner IS NOT NULL);
COMMIT;

-- 4. Data dropped or rewritten through other objects: judged by what
-- core's dependency walk removes.
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE h.withcit (id int, c citext);
INSERT INTO h.withcit VALUES (1, 'a');
DROP EXTENSION citext CASCADE;
CREATE FUNCTION h.f(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1';
CREATE TABLE h.gen (id int, g int GENERATED ALWAYS AS (h.f(id)) STORED);
INSERT INTO h.gen VALUES (1);
DROP FUNCTION h.f(int) CASCADE;
CREATE TABLE h.parent (id int);
CREATE TABLE h.child () INHERITS (h.parent);
INSERT INTO h.child VALUES (1);
DROP TABLE h.parent CASCADE;
CREATE TYPE h.tt AS (a int, b int);
CREATE TABLE h.typed2 OF h.tt;
INSERT INTO h.typed2 VALUES (1, 2);
ALTER TYPE h.tt DROP ATTRIBUTE a CASCADE;
ALTER TYPE h.tt ALTER ATTRIBUTE b TYPE bigint CASCADE;
SET ROLE regress_sg_h_app;
CREATE TABLE h.owned (id int);
INSERT INTO h.owned VALUES (1);
RESET ROLE;
DROP OWNED BY regress_sg_h_app;
SELECT count(*) AS still_there FROM h.owned;
-- allow() lets the cascade through, and it is logged.
BEGIN;
SELECT schemaguard.allow('staged-drop', 'test: the child goes with the parent');
DROP TABLE h.parent CASCADE;
ROLLBACK;
-- Rewrites, scans and index builds.
CREATE TABLE h.cl (id int PRIMARY KEY);
INSERT INTO h.cl SELECT generate_series(1, 100);
SET schemaguard.mode = warn;
CLUSTER h.cl USING cl_pkey;
RESET schemaguard.mode;
CLUSTER;
CREATE MATERIALIZED VIEW h.mv AS SELECT 1 AS x;
ALTER MATERIALIZED VIEW ALL IN TABLESPACE pg_default SET TABLESPACE pg_global;
ALTER INDEX h.cl_pkey SET TABLESPACE pg_global;
CREATE TABLE h.ptab (id int, at int) PARTITION BY RANGE (at);
CREATE INDEX ON h.ptab (id);
CREATE TABLE h.pp (id int, at int);
INSERT INTO h.pp VALUES (1, 5);
ALTER TABLE h.ptab ATTACH PARTITION h.pp FOR VALUES FROM (0) TO (10);
CREATE TABLE h.coll (t text);
CREATE INDEX ON h.coll (t);
INSERT INTO h.coll VALUES ('a');
ALTER TABLE h.coll ALTER COLUMN t TYPE text COLLATE "C";
CREATE DOMAIN h.dpos AS int;
CREATE TABLE h.dusers (v h.dpos);
INSERT INTO h.dusers VALUES (1);
ALTER DOMAIN h.dpos ADD CONSTRAINT pos CHECK (VALUE > 0);
ALTER DOMAIN h.dpos SET NOT NULL;
ALTER DOMAIN h.dpos ADD CONSTRAINT pos CHECK (VALUE > 0) NOT VALID;
-- CREATE RULE waits for its lock as DROP RULE does (lint: the lock rule
-- counts it; live, no other session is in the way here, so it runs).
SET lock_timeout = 0;
SELECT rule FROM schemaguard.lint('CREATE RULE r AS ON INSERT TO h.cl DO INSTEAD NOTHING', true, 'psql');
BEGIN;
CREATE RULE r AS ON INSERT TO h.cl DO INSTEAD NOTHING;
ROLLBACK;
SET lock_timeout = '5s';
-- Our own catalog queries ignore the caller's search_path.
CREATE SCHEMA mig;
CREATE FUNCTION mig.f(oid, oid) RETURNS boolean LANGUAGE sql AS 'SELECT false';
CREATE OPERATOR mig.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = mig.f);
CREATE FUNCTION mig.g(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT false';
CREATE OPERATOR mig.= (LEFTARG = text, RIGHTARG = text, FUNCTION = mig.g);
CREATE SCHEMA victim;
CREATE TABLE victim.big (id int PRIMARY KEY);
INSERT INTO victim.big SELECT generate_series(1, 5000);
SET search_path = mig, pg_catalog, public;
DROP SCHEMA victim CASCADE;
REINDEX SCHEMA victim;
SELECT count(*) FROM schemaguard.tenant_report();
SET search_path = h, public;

-- 5. An ignore comment needs the right to call allow().
SET ROLE regress_sg_h_app;
CREATE TABLE h.ig (id int);
RESET ROLE;
INSERT INTO h.ig SELECT generate_series(1, 100);
SET ROLE regress_sg_h_app;
/* schemaguard:ignore require-concurrent-index-creation trust me */ CREATE INDEX ig_id ON h.ig (id);
-- schemaguard:ignore staged-drop trust me
DROP TABLE h.ig;
RESET ROLE;
GRANT EXECUTE ON FUNCTION schemaguard.allow(text, text) TO regress_sg_h_app;
SET ROLE regress_sg_h_app;
/* schemaguard:ignore require-concurrent-index-creation the table is read by one nightly job */ CREATE INDEX ig_id ON h.ig (id);
RESET ROLE;
REVOKE EXECUTE ON FUNCTION schemaguard.allow(text, text) FROM regress_sg_h_app;

-- 6. Audit reaches every partition, whenever it was created or attached.
CREATE TABLE h.ev (id int, at int, v text) PARTITION BY RANGE (at);
CREATE TABLE h.ev_1 PARTITION OF h.ev FOR VALUES FROM (0) TO (10);
SELECT schemaguard.enable_audit('h.ev');
CREATE TABLE h.ev_2 PARTITION OF h.ev FOR VALUES FROM (10) TO (20) PARTITION BY RANGE (at);
CREATE TABLE h.ev_2a PARTITION OF h.ev_2 FOR VALUES FROM (10) TO (15);
SET schemaguard.mode = off;
CREATE TABLE h.ev_3 (id int, at int, v text);
RESET schemaguard.mode;
ALTER TABLE h.ev ATTACH PARTITION h.ev_3 FOR VALUES FROM (20) TO (30);
INSERT INTO h.ev VALUES (1, 1, 'through the parent');
INSERT INTO h.ev_1 VALUES (2, 2, 'direct');
INSERT INTO h.ev_2a VALUES (3, 12, 'new, two levels down');
INSERT INTO h.ev_3 VALUES (4, 25, 'attached');
UPDATE h.ev_1 SET v = 'changed' WHERE id = 2;
DELETE FROM h.ev_3;
TRUNCATE h.ev_2a;
SELECT op, table_name, row_key, old ->> 'v' AS old_v, new ->> 'v' AS new_v
  FROM schemaguard.audit_log WHERE schema_name = 'h' ORDER BY id;
SELECT table_name FROM schemaguard.audited_tables
 WHERE table_name::oid IN (SELECT oid FROM pg_class WHERE relnamespace = 'h'::regnamespace);
SELECT schemaguard.disable_audit('h.ev');
SELECT count(*) AS audit_triggers_left FROM pg_trigger WHERE tgname LIKE 'schemaguard_audit_%'
   AND tgrelid IN (SELECT relid FROM pg_partition_tree('h.ev'));

-- 7. Liveness of a migration (an isolation spec covers other sessions).
SELECT schemaguard._session_alive(pg_backend_pid(),
	(SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()));
SELECT schemaguard._session_alive(pg_backend_pid(), now() - interval '1 day');
SELECT schemaguard._session_alive(NULL, NULL);

-- 9. No change to core's answers: lastval(), and the locks it takes.
\c
SET lock_timeout = '5s';
SET schemaguard.record_ddl = off;
SET search_path = h, public;
CREATE TABLE h.lv (id int);
SELECT lastval();
CREATE SEQUENCE h.s;
SELECT nextval('h.s');
CREATE TABLE h.lv2 (id int);
SELECT lastval();
SET schemaguard.mode = warn;
CREATE INDEX lv_idx ON h.lv (id);
INSERT INTO h.lv VALUES (1);
BEGIN;
ALTER TABLE h.lv_idx RENAME TO lv_idx2;
SELECT relation::regclass, mode FROM pg_locks
 WHERE pid = pg_backend_pid() AND locktype = 'relation'
   AND relation IN (SELECT oid FROM pg_class WHERE relnamespace = 'h'::regnamespace)
 ORDER BY 1::text;
COMMIT;
RESET schemaguard.mode;

-- Clean up (the guard would refuse these drops: they are populated).
SET schemaguard.mode = off;
DROP SCHEMA IF EXISTS h, evil, mig, victim CASCADE;
DROP OPERATOR public.= (varchar, varchar);
DROP FUNCTION public.sg_h_true(varchar, varchar);
REVOKE ALL ON FUNCTION schemaguard.set_tenant(text) FROM regress_sg_h_app;
DROP ROLE regress_sg_h_app, regress_sg_h_other, regress_sg_h_long_role_name;
-- the log as a fresh database has it (index_family_live.sql counts populated tables)
TRUNCATE schemaguard.audit_batch;
RESET schemaguard.mode;
RESET search_path;
RESET schemaguard.small_table_size;
