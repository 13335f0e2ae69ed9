--
-- Rule tenant-table-rls: judged at the end of every transaction that did
-- DDL on a tenant table.  Also tenant_report() and lint().
--
SET lock_timeout = '5s';
\set VERBOSITY default

-- A tenant table without row-level security: the COMMIT fails, and the
-- table does not exist afterwards.
CREATE TABLE invoices (id int PRIMARY KEY, tenant_id uuid NOT NULL, total numeric);
SELECT to_regclass('invoices') IS NULL AS rolled_back;

-- RLS without policies, or policies without RLS, fail too.
BEGIN;
CREATE TABLE invoices (id int PRIMARY KEY, tenant_id uuid NOT NULL, total numeric);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
COMMIT;
BEGIN;
CREATE TABLE invoices (id int PRIMARY KEY, tenant_id uuid NOT NULL, total numeric);
CREATE POLICY p ON invoices USING (tenant_id = schemaguard.current_tenant()::uuid);
COMMIT;
-- RLS and a policy, but not FORCE: the owner would bypass it.
BEGIN;
CREATE TABLE invoices (id int PRIMARY KEY, tenant_id uuid NOT NULL, total numeric);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON invoices USING (tenant_id = schemaguard.current_tenant()::uuid);
COMMIT;
-- Policies that miss a command.
BEGIN;
CREATE TABLE invoices (id int PRIMARY KEY, tenant_id uuid NOT NULL, total numeric);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY r ON invoices FOR SELECT USING (tenant_id = schemaguard.current_tenant()::uuid);
CREATE POLICY w ON invoices FOR INSERT WITH CHECK (tenant_id = schemaguard.current_tenant()::uuid);
COMMIT;
-- A restrictive policy alone covers nothing.
BEGIN;
CREATE TABLE invoices (id int PRIMARY KEY, tenant_id uuid NOT NULL, total numeric);
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY r ON invoices AS RESTRICTIVE USING (tenant_id = schemaguard.current_tenant()::uuid);
COMMIT;

-- PREPARE TRANSACTION is judged like COMMIT.
BEGIN;
CREATE TABLE invoices (id int PRIMARY KEY, tenant_id uuid NOT NULL, total numeric);
PREPARE TRANSACTION 'tenant_rule';
SELECT count(*) AS prepared FROM pg_prepared_xacts WHERE gid = 'tenant_rule';

-- Every offending table is named in one report.
BEGIN;
CREATE TABLE invoices (id int PRIMARY KEY, tenant_id uuid NOT NULL, total numeric);
CREATE TABLE "Line Items" (id int, tenant_id uuid NOT NULL);
CREATE TABLE notes (id int);
COMMIT;

-- The same DDL with its policies in one transaction passes: the helper ...
BEGIN;
CREATE TABLE invoices (id int PRIMARY KEY, tenant_id uuid NOT NULL, total numeric);
CREATE INDEX invoices_tenant ON invoices (tenant_id);
SELECT schemaguard.enable_tenant_isolation('invoices');
COMMIT;
-- ... or policies written by hand, one per command.
BEGIN;
CREATE TABLE payments (id int PRIMARY KEY, tenant_id text NOT NULL);
ALTER TABLE payments ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments FORCE ROW LEVEL SECURITY;
CREATE POLICY s ON payments FOR SELECT USING (tenant_id = schemaguard.current_tenant());
CREATE POLICY i ON payments FOR INSERT WITH CHECK (tenant_id = schemaguard.current_tenant());
CREATE POLICY u ON payments FOR UPDATE USING (tenant_id = schemaguard.current_tenant());
CREATE POLICY d ON payments FOR DELETE USING (tenant_id = schemaguard.current_tenant());
COMMIT;

-- Tables that are not tenant tables, and temporary tables, are exempt.
CREATE TABLE plans (id int PRIMARY KEY, name text);
CREATE TABLE notes (id int);
CREATE TEMP TABLE scratch (tenant_id uuid);
DROP TABLE scratch;

-- Weakening a tenant table later is refused: at once when it lets rows
-- through (DISABLE, NO FORCE, a policy that does not isolate), at commit
-- when it only leaves the table closed (a dropped policy).
ALTER TABLE invoices DISABLE ROW LEVEL SECURITY;
ALTER TABLE invoices NO FORCE ROW LEVEL SECURITY;
DROP POLICY schemaguard_tenant_isolation ON invoices;
ALTER POLICY schemaguard_tenant_isolation ON invoices USING (true);
CREATE POLICY open_all ON invoices USING (true);
DROP POLICY d ON payments;
-- Removing isolation from a tenant table that had it is refused when the
-- statement runs, not at commit: the transaction could read every tenant's
-- rows in between, and end with ROLLBACK.
BEGIN;
ALTER TABLE invoices DISABLE ROW LEVEL SECURITY;
SELECT count(*) FROM invoices;
ROLLBACK;
-- Replacing a policy: create the new one first, then drop the old.  A
-- policy dropped first leaves the table closed (no rows), never open.
BEGIN;
CREATE POLICY by_tenant ON invoices USING (tenant_id::text = schemaguard.current_tenant() AND true);
DROP POLICY schemaguard_tenant_isolation ON invoices;
ROLLBACK;
-- DDL that does not touch isolation is not judged; neither is a table that
-- IF NOT EXISTS leaves alone.
ALTER TABLE invoices ADD COLUMN note text;
SET schemaguard.mode = off;
CREATE TABLE legacy_open (id int, tenant_id uuid);
RESET schemaguard.mode;
CREATE TABLE IF NOT EXISTS legacy_open (id int, tenant_id uuid);
ALTER TABLE legacy_open ADD COLUMN IF NOT EXISTS tenant_id uuid;
BEGIN;
SELECT schemaguard.allow('staged-drop', 'test cleanup');
DROP TABLE legacy_open;
COMMIT;

-- A table becomes a tenant table: ADD COLUMN, RENAME COLUMN, CREATE TABLE
-- ... LIKE / PARTITION OF / AS, ATTACH PARTITION.
ALTER TABLE plans ADD COLUMN tenant_id uuid;
ALTER TABLE plans ADD COLUMN owner_tenant uuid;
ALTER TABLE plans RENAME COLUMN owner_tenant TO tenant_id;
CREATE TABLE invoices_copy (LIKE invoices);
CREATE TABLE invoices_snapshot AS SELECT * FROM invoices;
BEGIN;
CREATE TABLE events (id int, tenant_id int, at date) PARTITION BY RANGE (at);
SELECT schemaguard.enable_tenant_isolation('events');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
COMMIT;
BEGIN;
CREATE TABLE events (id int, tenant_id int, at date) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
-- The helper isolates a partitioned table and every partition.
SELECT schemaguard.enable_tenant_isolation('events');
COMMIT;
SET schemaguard.mode = off;
CREATE TABLE events_2027 (id int, tenant_id int, at date);
RESET schemaguard.mode;
ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
BEGIN;
ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
SELECT schemaguard.enable_tenant_isolation('events_2027');
COMMIT;

-- schemaguard.tenant_columns is a list.
SET schemaguard.tenant_columns = 'org_id, "Tenant Key"';
CREATE TABLE orgs_data (id int, org_id bigint);
CREATE TABLE quoted (id int, "Tenant Key" text);
BEGIN;
CREATE TABLE orgs_data (id int, org_id bigint);
SELECT schemaguard.enable_tenant_isolation('orgs_data');
COMMIT;
-- tenant_id is no longer a tenant column.
ALTER TABLE invoices DISABLE ROW LEVEL SECURITY;
ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
SET schemaguard.tenant_columns = '';
SET schemaguard.tenant_columns = 'a,,b';
RESET schemaguard.tenant_columns;

-- The escape hatch: allow() (logged), an ignore comment, the level, the mode.
BEGIN;
SELECT schemaguard.allow('tenant-table-rls', 'shared lookup table, same for every tenant');
CREATE TABLE currencies (code text PRIMARY KEY, tenant_id uuid);
COMMIT;
/* schemaguard:ignore tenant-table-rls rows are copied in by the nightly job only */ CREATE TABLE staging_import (tenant_id uuid, payload jsonb);
SELECT schemaguard.set_rule_level('tenant-table-rls', 'warning');
CREATE TABLE warned (tenant_id uuid);
SELECT schemaguard.set_rule_level('tenant-table-rls', 'default');
SET schemaguard.mode = warn;
CREATE TABLE warned_too (tenant_id uuid);
RESET schemaguard.mode;

-- enable_tenant_isolation(): bad input.
SELECT schemaguard.enable_tenant_isolation(NULL);
SELECT schemaguard.enable_tenant_isolation('plans_missing');
SELECT schemaguard.enable_tenant_isolation('notes');
SELECT schemaguard.enable_tenant_isolation('notes', 'nope');
SELECT schemaguard.enable_tenant_isolation('pg_class');
CREATE VIEW invoices_view AS SELECT * FROM invoices;
SELECT schemaguard.enable_tenant_isolation('invoices_view');
SELECT schemaguard.enable_tenant_isolation('invoices_pkey');
-- A column named explicitly need not be in tenant_columns.
BEGIN;
SELECT schemaguard.enable_tenant_isolation('notes', 'id');
\d notes
ROLLBACK;
-- A policy of the same name that differs is replaced.
BEGIN;
SET LOCAL schemaguard.mode = off;
ALTER POLICY schemaguard_tenant_isolation ON invoices USING (tenant_id IS NOT NULL);
SET LOCAL schemaguard.mode = enforce;
SELECT schemaguard.enable_tenant_isolation('invoices');
COMMIT;

-- tenant_report(): every tenant table, for auditing an existing database.
SET schemaguard.mode = off;
CREATE TABLE legacy (id int, tenant_id uuid);
CREATE TABLE legacy_setting (id int, tenant_id uuid);
ALTER TABLE legacy_setting ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_setting ON legacy_setting
	USING (tenant_id = current_setting('app.tenant')::uuid);
RESET schemaguard.mode;
SELECT * FROM schemaguard.tenant_report();

-- lint() judges the rule at the end of each transaction of a script.
SELECT statement, line, rule, detail FROM schemaguard.lint($$
CREATE TABLE a (id int, tenant_id uuid);
BEGIN;
CREATE TABLE b (id int, tenant_id uuid);
ALTER TABLE b ENABLE ROW LEVEL SECURITY;
ALTER TABLE b FORCE ROW LEVEL SECURITY;
CREATE POLICY b_all ON b USING (tenant_id = schemaguard.current_tenant()::uuid);
COMMIT;
BEGIN;
CREATE TABLE c (id int, tenant_id uuid);
SELECT schemaguard.enable_tenant_isolation('c');
COMMIT;
CREATE TABLE d (id int);
ALTER TABLE d ADD COLUMN tenant_id uuid;
ALTER TABLE invoices DISABLE ROW LEVEL SECURITY;
CREATE POLICY wide ON payments FOR SELECT USING (true);
BEGIN;
CREATE TABLE e (id int, tenant_id uuid);
ALTER TABLE e ENABLE ROW LEVEL SECURITY;
CREATE POLICY e_read ON e FOR SELECT USING (tenant_id = schemaguard.current_tenant()::uuid);
DROP POLICY e_read ON e;
COMMIT;
$$, false);

DROP VIEW invoices_view;
-- cleanup: never staged (staged-drop is tested in staged_drops.sql)
BEGIN;
SELECT schemaguard.allow('staged-drop', 'test cleanup');
DROP TABLE invoices, payments, plans, events, notes, orgs_data, currencies, staging_import,
	warned, warned_too, legacy, legacy_setting;
COMMIT;
