-- A team's own row-level security, adopted: enable_tenant_isolation()
-- either leaves the table isolated or fails, naming the policies that keep
-- it open (permissive policies are OR-ed), and the hint leads to a state
-- that passes.  The tables are made as a team had them before the
-- extension (mode off), then adopted with the guard on.
SET lock_timeout = '5s';
CREATE ROLE regress_sg_adopt_app;
SET schemaguard.mode = off;
CREATE TABLE "User" ("id" TEXT NOT NULL, "tenantId" TEXT, "email" VARCHAR(255) NOT NULL,
  CONSTRAINT "User_pkey" PRIMARY KEY ("id"));
ALTER TABLE "User" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation_policy ON "User"
  USING ("tenantId" IS NULL OR "tenantId" = current_setting('app.current_tenant_id', true)::TEXT);
INSERT INTO "User" VALUES ('1', 'acme', 'a@acme'), ('2', 'other', 'o@other'), ('3', NULL, 'shared');
GRANT SELECT ON "User" TO regress_sg_adopt_app;
GRANT EXECUTE ON FUNCTION schemaguard.set_tenant(text) TO regress_sg_adopt_app;
-- variants: a permissive policy for SELECT only, TO one role; one that
-- isolates beside ours; a restrictive one (it can only narrow)
CREATE TABLE notes_a (id int PRIMARY KEY, tenant_id text NOT NULL);
CREATE POLICY reader ON notes_a FOR SELECT TO regress_sg_adopt_app USING (true);
CREATE TABLE notes_b (id int PRIMARY KEY, tenant_id text NOT NULL);
CREATE POLICY own_isolating ON notes_b USING (tenant_id = schemaguard.current_tenant());
CREATE POLICY narrow ON notes_b AS RESTRICTIVE USING (id > 0);
CREATE TABLE notes_c (id int PRIMARY KEY, tenant_id text NOT NULL);
CREATE POLICY isolating_one ON notes_c FOR SELECT USING (tenant_id = schemaguard.current_tenant());
CREATE POLICY open_one ON notes_c FOR UPDATE USING (true) WITH CHECK (tenant_id = schemaguard.current_tenant());
RESET schemaguard.mode;

\set VERBOSITY default
-- the team's pattern: refused, naming its policy; tenant_report() agrees
SELECT schemaguard.enable_tenant_isolation('"User"', 'tenantId');
SELECT problems FROM schemaguard.tenant_report() WHERE table_name = '"User"'::regclass;
-- lint() says the same of the script, and the hint's migration is clean
SELECT rule, message, hint FROM schemaguard.lint($$SELECT schemaguard.enable_tenant_isolation('"User"', 'tenantId');$$);
SELECT rule FROM schemaguard.lint($$BEGIN;
DROP POLICY tenant_isolation_policy ON public."User";
SELECT schemaguard.enable_tenant_isolation('public."User"', 'tenantId');
COMMIT;$$) WHERE rule = 'tenant-table-rls';
-- the documented one-migration path (docs/tenant.md, "Coming from
-- current_setting"): schemaguard's policy, the shared rows, the team's
-- policy dropped after ours exists; lint() finds it clean
SELECT rule FROM schemaguard.lint($$BEGIN;
SELECT schemaguard.enable_tenant_isolation('public."User"', 'tenantId', shared_rows => true, replace_policies => true);
COMMIT;$$) WHERE rule = 'tenant-table-rls';
BEGIN;
SELECT * FROM schemaguard.enable_tenant_isolation('public."User"', 'tenantId', shared_rows => true, replace_policies => true);
COMMIT;
SELECT policies, problems, shares_rows FROM schemaguard.tenant_report() WHERE table_name = '"User"'::regclass;
GRANT INSERT, UPDATE, DELETE ON "User" TO regress_sg_adopt_app;
-- the application: its own rows plus the shared ones, and nothing else
SET ROLE regress_sg_adopt_app;
BEGIN;
SELECT schemaguard.set_tenant('acme');
SELECT set_config('app.current_tenant_id', 'other', true);   -- a forged setting no longer counts
SELECT id, "tenantId" FROM "User" ORDER BY id;
-- it writes only its own rows: no shared row created, none taken over or changed
INSERT INTO "User" ("id", "email") VALUES ('4', 'new@acme') RETURNING "tenantId";
SAVEPOINT s;
INSERT INTO "User" VALUES ('5', NULL, 'made-shared@acme');
ROLLBACK TO s;
UPDATE "User" SET "tenantId" = 'acme' WHERE id = '3';
UPDATE "User" SET email = 'changed' WHERE id = '3';
DELETE FROM "User" WHERE id = '3';
SAVEPOINT s2;
UPDATE "User" SET "tenantId" = NULL WHERE id = '1';
ROLLBACK TO s2;
COMMIT;
-- without a tenant: nothing, not even the shared rows
SELECT count(*) AS rows_without_a_tenant FROM "User";
BEGIN;
SELECT schemaguard.set_tenant('other');
SELECT id, "tenantId", email FROM "User" ORDER BY id;
COMMIT;
RESET ROLE;
-- shared_rows => false takes the shared rows away; NULL (the default) keeps them
SELECT count(*) FROM schemaguard.enable_tenant_isolation('"User"', 'tenantId');
SELECT shares_rows FROM schemaguard.tenant_report() WHERE table_name = '"User"'::regclass;
SELECT * FROM schemaguard.enable_tenant_isolation('"User"', 'tenantId', shared_rows => false);
SELECT shares_rows, problems FROM schemaguard.tenant_report() WHERE table_name = '"User"'::regclass;

-- the judgement: the shared-rows shape isolates for reads only
SET schemaguard.mode = off;
CREATE TABLE shared_shapes (id int PRIMARY KEY, tenant_id text);
ALTER TABLE shared_shapes ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY own ON shared_shapes USING (tenant_id = schemaguard.current_tenant());
CREATE POLICY reads_shared ON shared_shapes FOR SELECT USING (tenant_id IS NULL OR tenant_id = schemaguard.current_tenant());
CREATE POLICY writes_shared ON shared_shapes FOR UPDATE USING (tenant_id IS NULL OR tenant_id = schemaguard.current_tenant());
CREATE POLICY all_shared ON shared_shapes FOR ALL USING (tenant_id IS NULL OR tenant_id = schemaguard.current_tenant());
CREATE POLICY other_null ON shared_shapes FOR SELECT USING (id IS NULL OR tenant_id = schemaguard.current_tenant());
CREATE POLICY shared_or_any ON shared_shapes FOR SELECT USING (tenant_id IS NULL OR true);
RESET schemaguard.mode;
SELECT unnest(problems) FROM schemaguard.tenant_report() WHERE table_name = 'shared_shapes'::regclass;
SELECT shares_rows FROM schemaguard.tenant_report() WHERE table_name = 'shared_shapes'::regclass;
-- lint() judges the same shapes the same way
SELECT message FROM schemaguard.lint($$
CREATE TABLE s2 (id int PRIMARY KEY, tenant_id text);
ALTER TABLE s2 ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY own ON s2 USING (tenant_id = schemaguard.current_tenant());
CREATE POLICY reads_shared ON s2 FOR SELECT USING (tenant_id IS NULL OR tenant_id = schemaguard.current_tenant());
$$) WHERE rule = 'tenant-table-rls';
SELECT detail FROM schemaguard.lint($$
CREATE TABLE s2 (id int PRIMARY KEY, tenant_id text);
ALTER TABLE s2 ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY own ON s2 USING (tenant_id = schemaguard.current_tenant());
CREATE POLICY all_shared ON s2 FOR ALL USING (tenant_id IS NULL OR tenant_id = schemaguard.current_tenant());
$$) WHERE rule = 'tenant-table-rls';

-- the adoption baseline: DDL on a leaking table is refused; once recorded
-- (a superuser, with a reason) it is reported and not refused, live and in
-- lint(), until enable_tenant_isolation() isolates it; a new leak is refused
SET schemaguard.mode = off;
CREATE TABLE legacy_a (id int PRIMARY KEY, tenant_id text);
CREATE TABLE legacy_b (id int PRIMARY KEY, tenant_id text);
RESET schemaguard.mode;
ALTER TABLE legacy_a ADD COLUMN note text;
SELECT rule, level FROM schemaguard.lint('ALTER TABLE legacy_a ADD COLUMN note text;', false) WHERE rule = 'tenant-table-rls';
SELECT schemaguard.baseline_tenant_leaks('');
SELECT schemaguard.baseline_tenant_leaks(NULL);
SET ROLE regress_sg_adopt_app;
SELECT schemaguard.baseline_tenant_leaks('not mine to decide');
RESET ROLE;
SELECT * FROM schemaguard.baseline_tenant_leaks('adopting schemaguard: isolated table by table (ticket 42)') ORDER BY 1;
SELECT table_name, reason, recorded_by = current_user AS by_me FROM schemaguard.tenant_baseline ORDER BY 1;
ALTER TABLE legacy_a ADD COLUMN note text;
SELECT rule, level FROM schemaguard.lint('ALTER TABLE legacy_a ADD COLUMN note2 text;', false) WHERE rule = 'tenant-table-rls';
-- a new leak, beside a baselined one: refused
SET schemaguard.mode = off;
CREATE TABLE legacy_new (id int PRIMARY KEY);
RESET schemaguard.mode;
BEGIN;
ALTER TABLE legacy_b ADD COLUMN note text;
ALTER TABLE legacy_new ADD COLUMN tenant_id text;
COMMIT;
-- isolated: out of the baseline, so a later leak is refused again
SELECT count(*) FROM schemaguard.enable_tenant_isolation('legacy_a');
SELECT table_name FROM schemaguard.tenant_baseline ORDER BY 1;
BEGIN;
ALTER TABLE legacy_a NO FORCE ROW LEVEL SECURITY;
ROLLBACK;

-- an isolated table put under a parent that does not isolate it: refused
-- when it runs, live and in lint() (queries through the parent apply the
-- parent's row-level security, not the child's)
SET schemaguard.mode = off;
CREATE TABLE notes_all (id int, tenant_id text);
CREATE TABLE notes_iso (id int, tenant_id text);
CREATE TABLE parted_open (id int, tenant_id text) PARTITION BY LIST (tenant_id);
CREATE TABLE plain_parent (id int);
RESET schemaguard.mode;
SELECT count(*) FROM schemaguard.enable_tenant_isolation('notes_iso');
ALTER TABLE notes_iso INHERIT notes_all;
ALTER TABLE parted_open ATTACH PARTITION notes_iso DEFAULT;
ALTER TABLE notes_iso INHERIT plain_parent;
SELECT rule, message FROM schemaguard.lint('ALTER TABLE parted_open ATTACH PARTITION notes_iso DEFAULT;', false) WHERE rule = 'tenant-table-rls';
-- the parent isolated first, in the same migration: it passes
BEGIN;
SELECT count(*) FROM schemaguard.enable_tenant_isolation('notes_all');
ALTER TABLE notes_iso INHERIT notes_all;
ROLLBACK;
SELECT rule FROM schemaguard.lint($$BEGIN;
SELECT schemaguard.enable_tenant_isolation('parted_open');
ALTER TABLE parted_open ATTACH PARTITION notes_iso DEFAULT;
COMMIT;$$, false) WHERE rule = 'tenant-table-rls';

-- variants
SELECT count(*) FROM schemaguard.enable_tenant_isolation('notes_a');
SELECT count(*) FROM schemaguard.enable_tenant_isolation('notes_b');
SELECT policies, problems FROM schemaguard.tenant_report() WHERE table_name = 'notes_b'::regclass;
SELECT count(*) FROM schemaguard.enable_tenant_isolation('notes_c');

-- clean up
SET schemaguard.mode = off;
DROP TABLE "User", notes_a, notes_b, notes_c, shared_shapes, legacy_a, legacy_b, legacy_new,
  notes_iso, notes_all, parted_open, plain_parent;
DELETE FROM schemaguard.tenant_baseline;
REVOKE ALL ON FUNCTION schemaguard.set_tenant(text) FROM regress_sg_adopt_app;
DROP ROLE regress_sg_adopt_app;
RESET schemaguard.mode;
