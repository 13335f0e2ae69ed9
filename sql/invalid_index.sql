-- Rule invalid-index-if-not-exists and invalid_indexes(): a failed
-- CREATE INDEX CONCURRENTLY leaves an INVALID index behind, and the usual
-- retry, CREATE INDEX CONCURRENTLY IF NOT EXISTS, would skip it.
SET lock_timeout = '5s';
CREATE TABLE dup (id int PRIMARY KEY, v int);
INSERT INTO dup VALUES (1, 1), (2, 1);
CREATE UNIQUE INDEX CONCURRENTLY dup_v ON dup (v);
SELECT index_name, table_name, repair FROM schemaguard.invalid_indexes();

-- the retry is refused, live and in lint(), at any size
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS dup_v ON dup (v);
CREATE INDEX IF NOT EXISTS dup_v ON dup (v);
SELECT rule, message FROM schemaguard.lint('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS dup_v ON dup (v);');
-- ... but not when the script dropped it first
SELECT count(*) FROM schemaguard.lint($$
DROP INDEX CONCURRENTLY dup_v;
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS dup_v ON dup (v);
$$, runner => 'psql');

-- the hint's path: drop it, fix the data, build it again
DROP INDEX CONCURRENTLY dup_v;
DELETE FROM dup WHERE id = 2;
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS dup_v ON dup (v);
SELECT count(*) FROM schemaguard.invalid_indexes();
-- a valid index: IF NOT EXISTS skips it, as core does
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS dup_v ON dup (v);

-- another schema and a quoted name; a name that is a table, not an index
CREATE SCHEMA "Other";
CREATE TABLE "Other"."Dup" ("V" int);
INSERT INTO "Other"."Dup" VALUES (1), (1);
CREATE UNIQUE INDEX CONCURRENTLY "Dup_V_key" ON "Other"."Dup" ("V");
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "Dup_V_key" ON "Other"."Dup" ("V");
CREATE INDEX CONCURRENTLY IF NOT EXISTS "Dup" ON "Other"."Dup" ("V");
-- any role may list them (the catalog is public)
CREATE ROLE regress_sg_invalid;
SET ROLE regress_sg_invalid;
SELECT index_name, table_name FROM schemaguard.invalid_indexes();
RESET ROLE;
DROP ROLE regress_sg_invalid;
SET schemaguard.mode = off;
DROP SCHEMA "Other" CASCADE;
DROP TABLE dup;
