-- squawk's own rule tests (sbdchd/squawk, crates/squawk_linter/src/rules/*.rs),
-- run through schemaguard.lint() in a database that knows none of their
-- tables (so every table is assumed to hold data).  Each case: squawk's rule,
-- the schemaguard rules that answer for it, whether squawk's test calls it
-- dangerous (err) or safe (ok), the runner that matches squawk's setting
-- (assume_in_transaction: a file run as one transaction; otherwise psql,
-- statement by statement), and the SQL.  Used by test/bench/squawk_agreement.
CREATE TEMP TABLE squawk_case (n serial, squawk text, ours text[], dangerous boolean, runner text, sql text);
INSERT INTO squawk_case (squawk, ours, dangerous, runner, sql) VALUES
-- require-concurrent-index-creation
('require-concurrent-index-creation', '{require-concurrent-index-creation}', true, 'psql',
 $$CREATE INDEX "field_name_idx" ON "table_name" ("field_name");$$),
('require-concurrent-index-creation', '{require-concurrent-index-creation}', false, 'psql',
 $$CREATE INDEX CONCURRENTLY "field_name_idx" ON "table_name" ("field_name");$$),
('require-concurrent-index-creation', '{require-concurrent-index-creation}', false, 'psql',
 $$BEGIN; CREATE TABLE "core_foo" ("id" serial NOT NULL PRIMARY KEY, "tenant_id" integer NULL);
   CREATE INDEX "core_foo_tenant_id_4d397ef9" ON "core_foo" ("tenant_id"); COMMIT;$$),
('require-concurrent-index-creation', '{require-concurrent-index-creation}', false, 'single-transaction',
 $$CREATE TABLE "core_foo" ("id" serial NOT NULL PRIMARY KEY, "tenant_id" integer NULL);
   CREATE INDEX "core_foo_tenant_id_4d397ef9" ON "core_foo" ("tenant_id");$$),
-- require-concurrent-index-deletion
('require-concurrent-index-deletion', '{require-concurrent-index-deletion}', true, 'psql',
 $$DROP INDEX IF EXISTS "field_name_idx";$$),
('require-concurrent-index-deletion', '{require-concurrent-index-deletion}', false, 'psql',
 $$DROP INDEX CONCURRENTLY IF EXISTS "field_name_idx";$$),
('require-concurrent-index-deletion', '{require-concurrent-index-deletion}', false, 'psql',
 $$DROP TABLE IF EXISTS some_table;$$),
('require-concurrent-index-deletion', '{require-concurrent-index-deletion}', false, 'psql',
 $$DROP TRIGGER IF EXISTS trigger on foo_table;$$),
-- constraint-missing-not-valid
('constraint-missing-not-valid', '{constraint-missing-not-valid,validate-in-same-transaction}', true, 'psql',
 $$BEGIN; ALTER TABLE "app_email" ADD CONSTRAINT "fk_user" FOREIGN KEY (user_id) REFERENCES "app_user" (id) NOT VALID;
   ALTER TABLE "app_email" VALIDATE CONSTRAINT "fk_user"; COMMIT;$$),
('constraint-missing-not-valid', '{constraint-missing-not-valid,validate-in-same-transaction}', true, 'single-transaction',
 $$ALTER TABLE "app_email" ADD CONSTRAINT "fk_user" FOREIGN KEY (user_id) REFERENCES "app_user" (id) NOT VALID;
   ALTER TABLE "app_email" VALIDATE CONSTRAINT "fk_user";$$),
('constraint-missing-not-valid', '{constraint-missing-not-valid,validate-in-same-transaction}', true, 'single-transaction',
 $$ALTER TABLE "app_email" ADD CONSTRAINT "fk_user" FOREIGN KEY (user_id) REFERENCES "app_user" (id) NOT VALID;
   ALTER TABLE "app_email" VALIDATE CONSTRAINT "fk_user"; COMMIT;$$),
('constraint-missing-not-valid', '{constraint-missing-not-valid,validate-in-same-transaction}', true, 'psql',
 $$ALTER TABLE distributors ADD CONSTRAINT distfk FOREIGN KEY (address) REFERENCES addresses (address);$$),
('constraint-missing-not-valid', '{constraint-missing-not-valid,validate-in-same-transaction}', false, 'psql',
 $$ALTER TABLE distributors ADD CONSTRAINT distfk FOREIGN KEY (address) REFERENCES addresses (address) NOT VALID;
   ALTER TABLE distributors VALIDATE CONSTRAINT distfk;$$),
('constraint-missing-not-valid', '{constraint-missing-not-valid,validate-in-same-transaction}', true, 'single-transaction',
 $$ALTER TABLE "accounts" ADD CONSTRAINT "positive_balance" CHECK ("balance" >= 0);$$),
('constraint-missing-not-valid', '{constraint-missing-not-valid,validate-in-same-transaction}', false, 'psql',
 $$ALTER TABLE "accounts" ADD CONSTRAINT "positive_balance" CHECK ("balance" >= 0) NOT VALID;
   ALTER TABLE accounts VALIDATE CONSTRAINT positive_balance;$$),
('constraint-missing-not-valid', '{constraint-missing-not-valid,validate-in-same-transaction}', false, 'psql',
 $$BEGIN; CREATE TABLE "core_foo" ("id" serial NOT NULL PRIMARY KEY, "age" integer NOT NULL);
   ALTER TABLE "core_foo" ADD CONSTRAINT "age_restriction" CHECK ("age" >= 25); COMMIT;$$),
('constraint-missing-not-valid', '{constraint-missing-not-valid,validate-in-same-transaction}', false, 'single-transaction',
 $$CREATE TABLE "core_foo" ("id" serial NOT NULL PRIMARY KEY, "age" integer NOT NULL);
   ALTER TABLE "core_foo" ADD CONSTRAINT "age_restriction" CHECK ("age" >= 25);$$),
('constraint-missing-not-valid', '{constraint-missing-not-valid,validate-in-same-transaction}', false, 'psql',
 $$ALTER TABLE "app_email" ADD CONSTRAINT "email_uniq" UNIQUE USING INDEX "email_idx";$$),
-- ban-concurrent-index-creation-in-transaction
('ban-concurrent-index-creation-in-transaction', '{concurrently-in-transaction}', true, 'psql',
 $$BEGIN; CREATE INDEX CONCURRENTLY "field_name_idx" ON "table_name" ("field_name"); COMMIT;$$),
('ban-concurrent-index-creation-in-transaction', '{concurrently-in-transaction}', false, 'psql',
 $$CREATE INDEX CONCURRENTLY "field_name_idx" ON "table_name" ("field_name");$$),
('ban-concurrent-index-creation-in-transaction', '{concurrently-in-transaction}', true, 'single-transaction',
 $$CREATE UNIQUE INDEX CONCURRENTLY "field_name_idx" ON "table_name" ("field_name");
   ALTER TABLE "table_name" ADD CONSTRAINT "field_name_id" UNIQUE USING INDEX "field_name_idx";$$),
('ban-concurrent-index-creation-in-transaction', '{concurrently-in-transaction}', false, 'single-transaction',
 $$CREATE UNIQUE INDEX CONCURRENTLY "field_name_idx" ON "table_name" ("field_name");$$),
('ban-concurrent-index-creation-in-transaction', '{concurrently-in-transaction}', false, 'psql-single',
 $$COMMIT; CREATE UNIQUE INDEX CONCURRENTLY "field_name_idx" ON "table_name" ("field_name");
   BEGIN; ALTER TABLE "table_name" ADD CONSTRAINT "field_name_id" UNIQUE USING INDEX "field_name_idx";$$),
-- adding-field-with-default
('adding-field-with-default', '{adding-field-with-volatile-default}', false, 'psql',
 $$ALTER TABLE "core_recipe" ADD COLUMN "foo" integer DEFAULT 10;$$),
('adding-field-with-default', '{adding-field-with-volatile-default}', false, 'psql',
 $$ALTER TABLE "core_recipe" ADD COLUMN "foo" integer; ALTER TABLE "core_recipe" ALTER COLUMN "foo" SET DEFAULT 10;$$),
('adding-field-with-default', '{adding-field-with-volatile-default}', true, 'psql',
 $$alter table t set logged, add column c integer default uuid();$$),
('adding-field-with-default', '{adding-field-with-volatile-default}', true, 'psql',
 $$ALTER TABLE "core_recipe" ADD COLUMN "foo" integer DEFAULT uuid();$$),
('adding-field-with-default', '{adding-field-with-volatile-default}', true, 'psql',
 $$ALTER TABLE "core_recipe" ADD COLUMN "foo" boolean DEFAULT random();$$),
('adding-field-with-default', '{adding-field-with-volatile-default}', false, 'psql',
 $$ALTER TABLE "core_recipe" ADD COLUMN "foo" boolean DEFAULT true;$$),
('adding-field-with-default', '{adding-field-with-volatile-default}', false, 'psql',
 $$ALTER TABLE "core_recipe" ADD COLUMN "foo" text DEFAULT 'some-str';$$),
('adding-field-with-default', '{adding-field-with-volatile-default}', false, 'psql',
 $$ALTER TABLE "core_recipe" ADD COLUMN "foo" jsonb DEFAULT '{}'::jsonb;$$),
('adding-field-with-default', '{adding-field-with-volatile-default}', true, 'psql',
 $$ALTER TABLE "core_recipe" ADD COLUMN "foo" jsonb DEFAULT myjsonb();$$),
('adding-field-with-default', '{adding-field-with-volatile-default}', false, 'psql',
 $$ALTER TABLE "core_recipe" ADD COLUMN "foo" timestamptz DEFAULT now();$$),
('adding-field-with-default', '{adding-field-with-volatile-default}', true, 'psql',
 $$ALTER TABLE foo ADD COLUMN bar numeric GENERATED ALWAYS AS (bar + baz) STORED;$$),
-- adding-not-nullable-field (SET NOT NULL)
('adding-not-nullable-field', '{set-not-null-without-check}', true, 'psql',
 $$ALTER TABLE "core_recipe" ALTER COLUMN "foo" SET NOT NULL;$$),
('adding-not-nullable-field', '{set-not-null-without-check}', false, 'psql',
 $$BEGIN; ALTER TABLE "core_recipe" ADD COLUMN "foo" integer DEFAULT 10 NOT NULL;
   ALTER TABLE "core_recipe" ALTER COLUMN "foo" DROP DEFAULT; COMMIT;$$),
('adding-not-nullable-field', '{set-not-null-without-check}', false, 'psql',
 $$BEGIN; ALTER TABLE "core_recipe" ADD COLUMN "foo" integer NOT NULL DEFAULT 10; COMMIT;$$),
-- adding-required-field
('adding-required-field', '{adding-required-field}', true, 'psql',
 $$ALTER TABLE "core_recipe" ADD COLUMN "foo" integer NOT NULL;$$),
('adding-required-field', '{adding-required-field}', false, 'psql',
 $$ALTER TABLE "core_recipe" ADD COLUMN "foo" integer NOT NULL DEFAULT 10;$$),
('adding-required-field', '{adding-required-field}', false, 'psql',
 $$ALTER TABLE "core_recipe" ADD COLUMN "foo" integer;$$),
-- disallowed-unique-constraint
('disallowed-unique-constraint', '{unique-constraint-without-index}', true, 'psql',
 $$ALTER TABLE table_name ADD CONSTRAINT field_name_constraint UNIQUE (field_name);$$),
('disallowed-unique-constraint', '{unique-constraint-without-index}', false, 'psql',
 $$ALTER TABLE table_name DROP CONSTRAINT field_name_constraint;$$),
('disallowed-unique-constraint', '{unique-constraint-without-index}', false, 'psql',
 $$CREATE UNIQUE INDEX CONCURRENTLY dist_id_temp_idx ON distributors (dist_id);
   ALTER TABLE distributors DROP CONSTRAINT distributors_pkey,
   ADD CONSTRAINT distributors_pkey PRIMARY KEY USING INDEX dist_id_temp_idx;$$),
('disallowed-unique-constraint', '{unique-constraint-without-index}', false, 'psql',
 $$CREATE UNIQUE INDEX CONCURRENTLY "legacy_questiongrouppg_mongo_id_1f8f47d9_uniq_idx" ON "legacy_questiongrouppg" ("mongo_id");
   ALTER TABLE "legacy_questiongrouppg" ADD CONSTRAINT "legacy_questiongrouppg_mongo_id_1f8f47d9_uniq" UNIQUE USING INDEX "legacy_questiongrouppg_mongo_id_1f8f47d9_uniq_idx";$$),
('disallowed-unique-constraint', '{unique-constraint-without-index}', false, 'psql',
 $$BEGIN; CREATE TABLE products (id bigint generated by default as identity primary key, sku text not null);
   ALTER TABLE products ADD CONSTRAINT sku_constraint UNIQUE (sku); COMMIT;$$),
('disallowed-unique-constraint', '{unique-constraint-without-index}', false, 'single-transaction',
 $$CREATE TABLE products (id bigint generated by default as identity primary key, sku text not null);
   ALTER TABLE products ADD CONSTRAINT sku_constraint UNIQUE (sku);$$),
('disallowed-unique-constraint', '{unique-constraint-without-index}', true, 'psql',
 $$ALTER TABLE foo ADD COLUMN bar text CONSTRAINT foo_bar_unique UNIQUE;$$),
('disallowed-unique-constraint', '{unique-constraint-without-index}', true, 'psql',
 $$ALTER TABLE foo ADD COLUMN bar text UNIQUE;$$),
-- adding-primary-key-constraint
('adding-primary-key-constraint', '{unique-constraint-without-index}', true, 'psql',
 $$ALTER TABLE items ADD PRIMARY KEY (id);$$),
('adding-primary-key-constraint', '{unique-constraint-without-index,adding-field-with-volatile-default}', true, 'psql',
 $$ALTER TABLE a ADD COLUMN b SERIAL PRIMARY KEY;$$),
('adding-primary-key-constraint', '{unique-constraint-without-index}', false, 'psql',
 $$ALTER TABLE items ADD CONSTRAINT items_pk PRIMARY KEY USING INDEX items_pk;$$),
-- renaming-column, renaming-table
('renaming-column', '{renaming-column}', true, 'psql',
 $$ALTER TABLE "table_name" RENAME COLUMN "column_name" TO "new_column_name";$$),
('renaming-table', '{renaming-table}', true, 'psql',
 $$ALTER TABLE "table_name" RENAME TO "new_table_name";$$),
-- changing-column-type
('changing-column-type', '{changing-column-type}', true, 'psql',
 $$ALTER TABLE "core_recipe" ALTER COLUMN "edits" TYPE text USING "edits"::text;$$),
('changing-column-type', '{changing-column-type}', true, 'psql',
 $$ALTER TABLE "core_recipe" ALTER COLUMN "foo" TYPE varchar(255) USING "foo"::varchar(255);$$),
-- ban-drop-database
('ban-drop-database', '{ban-drop-database}', true, 'psql', $$DROP DATABASE "table_name";$$),
('ban-drop-database', '{ban-drop-database}', true, 'psql', $$DROP DATABASE IF EXISTS "table_name";$$),
-- ban-truncate-cascade
('ban-truncate-cascade', '{ban-truncate-cascade}', true, 'psql', $$truncate a, b, c cascade;$$),
('ban-truncate-cascade', '{ban-truncate-cascade}', false, 'psql', $$truncate a, b, c;$$),
-- ban-drop-column, ban-drop-table: staged drops
('ban-drop-column', '{staged-drop}', true, 'psql', $$ALTER TABLE "bar_tbl" DROP COLUMN "foo_col" CASCADE;$$),
('ban-drop-table', '{staged-drop}', true, 'psql', $$DROP TABLE "table_name";$$),
('ban-drop-table', '{staged-drop}', true, 'psql', $$DROP TABLE IF EXISTS "table_name";$$),
-- require-concurrent-reindex
('require-concurrent-reindex', '{require-concurrent-reindex}', true, 'psql', $$REINDEX INDEX idx;$$),
('require-concurrent-reindex', '{require-concurrent-reindex}', true, 'psql', $$REINDEX TABLE t;$$),
('require-concurrent-reindex', '{require-concurrent-reindex}', true, 'psql', $$REINDEX SCHEMA s;$$),
('require-concurrent-reindex', '{require-concurrent-reindex}', false, 'psql', $$REINDEX INDEX CONCURRENTLY idx;$$),
('require-concurrent-reindex', '{require-concurrent-reindex}', false, 'psql', $$REINDEX TABLE CONCURRENTLY t;$$),
-- require-concurrent-partition-detach
('require-concurrent-partition-detach', '{require-concurrent-partition-detach}', true, 'psql',
 $$ALTER TABLE parent DETACH PARTITION child;$$),
('require-concurrent-partition-detach', '{require-concurrent-partition-detach}', false, 'psql',
 $$ALTER TABLE parent DETACH PARTITION child CONCURRENTLY;$$),
-- require-timeout-settings
('require-timeout-settings', '{require-lock-timeout}', true, 'psql',
 $$ALTER TABLE t ADD COLUMN c int;$$),
('require-timeout-settings', '{require-lock-timeout}', false, 'psql',
 $$SET lock_timeout = '1s'; SET statement_timeout = '5s'; ALTER TABLE t ADD COLUMN c int;$$),
('require-timeout-settings', '{require-lock-timeout}', false, 'psql',
 $$CREATE TABLE t (id int); ALTER TABLE t ADD COLUMN c int;$$);

CREATE TEMP TABLE squawk_result AS
SELECT c.n, c.squawk, c.dangerous, c.runner,
       EXISTS (SELECT FROM schemaguard.lint(c.sql, true, c.runner) l
                WHERE l.rule = ANY (c.ours) AND l.level = 'error') AS flagged,
       (SELECT string_agg(DISTINCT l.rule, ', ') FROM schemaguard.lint(c.sql, true, c.runner) l) AS rules
  FROM squawk_case c;
