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
-- the hint's migration: the policy replaced, in one transaction
BEGIN;
DROP POLICY tenant_isolation_policy ON public."User";
SELECT count(*) FROM schemaguard.enable_tenant_isolation('public."User"', 'tenantId');
COMMIT;
SELECT problems FROM schemaguard.tenant_report() WHERE table_name = '"User"'::regclass;
-- the application reads its own rows, and none without a tenant
SET ROLE regress_sg_adopt_app;
BEGIN;
SELECT schemaguard.set_tenant('acme');
SELECT set_config('app.current_tenant_id', 'other', true);   -- the old setting no longer counts
SELECT id, "tenantId" FROM "User" ORDER BY id;
COMMIT;
SELECT count(*) AS rows_without_a_tenant FROM "User";
RESET ROLE;

-- variants
SELECT count(*) FROM schemaguard.enable_tenant_isolation('notes_a');
SELECT count(*) FROM schemaguard.enable_tenant_isolation('notes_b');
SELECT policies, problems FROM schemaguard.tenant_report() WHERE table_name = 'notes_b'::regclass;
SELECT count(*) FROM schemaguard.enable_tenant_isolation('notes_c');

-- clean up
SET schemaguard.mode = off;
DROP TABLE "User", notes_a, notes_b, notes_c;
REVOKE ALL ON FUNCTION schemaguard.set_tenant(text) FROM regress_sg_adopt_app;
DROP ROLE regress_sg_adopt_app;
RESET schemaguard.mode;
