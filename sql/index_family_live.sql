-- Migrations set a lock_timeout (rule require-lock-timeout has its own tests).
SET lock_timeout = '5s';
-- Its tables are small: judge them as tables of any size (sql/small_tables.sql
-- tests the default schemaguard.small_table_size).
SET schemaguard.small_table_size = 0;
--
-- The index family: require-concurrent-index-creation,
-- require-concurrent-index-deletion, require-concurrent-reindex.
--
\set VERBOSITY default
CREATE TABLE big (id int PRIMARY KEY, v text);
INSERT INTO big SELECT g, 'v' || g FROM generate_series(1, 10000) g;
VACUUM ANALYZE big;
CREATE TABLE empty_t (id int PRIMARY KEY, v text);

-- require-concurrent-index-creation fires on a populated table
CREATE INDEX big_v ON big (v);
CREATE UNIQUE INDEX big_v_u ON public.big (v);
-- the hint keeps the user's expressions, options and comments
CREATE INDEX /* keep me */ big_lower
	ON big USING btree (lower(v)) INCLUDE (id) WHERE id > 10;
-- Prisma-style leading comments are not part of the hint
-- CreateIndex
CREATE INDEX "big_Quoted" ON "big"("v");

-- silent with CONCURRENTLY, on an empty table, on a table created in this
-- transaction, and on a temporary table
CREATE INDEX CONCURRENTLY big_v ON big (v);
CREATE INDEX empty_v ON empty_t (v);
BEGIN;
CREATE TABLE fresh (id int);
INSERT INTO fresh SELECT generate_series(1, 10000);
CREATE INDEX fresh_id ON fresh (id);
COMMIT;
CREATE TEMP TABLE tmp_big AS SELECT generate_series(1, 10000) AS id;
CREATE INDEX tmp_big_id ON tmp_big (id);
-- IF NOT EXISTS on an existing index is a no-op in core
CREATE INDEX IF NOT EXISTS big_v ON big (v);

-- a table with one row is populated (with schemaguard.small_table_size 0,
-- as set above, every table that holds a row counts) ...
CREATE TABLE small (id int);
INSERT INTO small VALUES (1);
CREATE INDEX small_id ON small (id);
-- ... but with small_table_size set, building an index on a table at most
-- that size is trivial: it passes
SET schemaguard.small_table_size = '64kB';
BEGIN;
CREATE INDEX small_id ON small (id);
ROLLBACK;
SET schemaguard.small_table_size = 0;
-- once its rows are gone it is empty
DELETE FROM small;
CREATE INDEX small_id ON small (id);

-- fires from a DO block, PL/pgSQL (static and dynamic) and a SQL function
DO $$ BEGIN CREATE INDEX big_do ON big (v); END $$;
CREATE FUNCTION mk_index_static() RETURNS void LANGUAGE plpgsql
	AS $$ BEGIN CREATE INDEX big_fn ON big (v); END $$;
SELECT mk_index_static();
CREATE FUNCTION mk_index_dynamic() RETURNS void LANGUAGE plpgsql
	AS $$ BEGIN EXECUTE 'CREATE INDEX big_fn2 ON big (v)'; END $$;
SELECT mk_index_dynamic();
CREATE FUNCTION mk_index_sql() RETURNS void LANGUAGE sql
	AS $$ CREATE INDEX big_fn3 ON big (v) $$;
SELECT mk_index_sql();
-- a multi-statement query string is checked statement by statement
SELECT 1 AS first \; CREATE INDEX big_multi ON big (v);

-- CONCURRENTLY inside a transaction block: core's error, with our hint
BEGIN;
CREATE INDEX CONCURRENTLY big_id2 ON big (id);
ROLLBACK;
DO $$ BEGIN CREATE INDEX CONCURRENTLY big_id3 ON big (id); END $$;

-- partitioned tables: the hint explains the per-partition procedure
CREATE TABLE parted (id int, v text) PARTITION BY RANGE (id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (5000);
CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (5000) TO (20000);
INSERT INTO parted SELECT g, 'v' || g FROM generate_series(1, 10000) g;
CREATE INDEX parted_v ON parted (v);
CREATE INDEX parted_v ON ONLY parted (v);
CREATE TABLE parted_e (id int) PARTITION BY RANGE (id);
CREATE TABLE parted_e1 PARTITION OF parted_e FOR VALUES FROM (0) TO (10);
CREATE INDEX parted_e_id ON parted_e (id);

-- require-concurrent-index-deletion
DROP INDEX big_v;
DROP INDEX IF EXISTS big_v, empty_v;
DROP INDEX parted_v;
DROP INDEX empty_v;
DROP INDEX CONCURRENTLY big_v;
BEGIN;
DROP INDEX CONCURRENTLY big_pkey;
ROLLBACK;

-- require-concurrent-reindex
REINDEX INDEX big_pkey;
REINDEX TABLE big;
REINDEX (VERBOSE) TABLE public.big;
REINDEX SCHEMA public;
-- REINDEX DATABASE judges every table of the database, schemaguard's own
-- DDL log included: in a database of its own, so that its sizes do not
-- depend on what the suites before this one logged
SET schemaguard.mode = off;
SET client_min_messages = warning;
DROP DATABASE IF EXISTS sg_reindex_db;
RESET client_min_messages;
CREATE DATABASE sg_reindex_db;
\c sg_reindex_db
SET client_min_messages = warning;
CREATE EXTENSION schemaguard;
RESET client_min_messages;
SET lock_timeout = '5s';
SET schemaguard.small_table_size = 0;
BEGIN;
CREATE TABLE big (id int PRIMARY KEY);
INSERT INTO big SELECT generate_series(1, 20000);
COMMIT;
REINDEX DATABASE sg_reindex_db;
\c contrib_regression
SET lock_timeout = '5s';
SET schemaguard.mode = off;	-- ban-drop-database
DROP DATABASE sg_reindex_db;
RESET schemaguard.mode;
REINDEX TABLE CONCURRENTLY big;
REINDEX INDEX CONCURRENTLY big_pkey;
REINDEX TABLE empty_t;
CREATE SCHEMA quiet;
CREATE TABLE quiet.t (id int PRIMARY KEY);
REINDEX SCHEMA quiet;
BEGIN;
CREATE TABLE fresh2 (id int PRIMARY KEY);
INSERT INTO fresh2 SELECT generate_series(1, 10000);
REINDEX TABLE fresh2;
ROLLBACK;
REINDEX SYSTEM contrib_regression;

DROP SCHEMA quiet CASCADE;
-- cleanup: never staged (staged-drop is tested in staged_drops.sql)
BEGIN;
SELECT schemaguard.allow('staged-drop', 'test cleanup');
DROP TABLE big, empty_t, fresh, small, parted, parted_e;
COMMIT;
DROP FUNCTION mk_index_static(), mk_index_dynamic(), mk_index_sql();
