-- Migrations set a lock_timeout (rule require-lock-timeout has its own tests).
SET lock_timeout = '5s';
-- Its tables are small: judge them as tables of any size (sql/small_tables.sql
-- tests the default schemaguard.small_table_size).
SET schemaguard.small_table_size = 0;
--
-- The hook is transparent: core's errors and notices are unchanged, other
-- databases are untouched, the hook chain still runs, and the extension can
-- be dropped and created again.
--
\set VERBOSITY default
CREATE TABLE tr (id int PRIMARY KEY);
INSERT INTO tr SELECT generate_series(1, 10000);

-- core's own errors
CREATE INDEX ON no_such_table (id);
CREATE INDEX tr_x ON tr (no_such_column);
CREATE INDEX ON tr id;
DROP INDEX no_such_index;
DROP INDEX IF EXISTS no_such_index;
DROP INDEX IF EXISTS no_such_schema.no_such_index;
REINDEX TABLE no_such_table;
REINDEX INDEX tr;
REINDEX TABLE tr_pkey;
REINDEX SCHEMA no_such_schema;
CREATE INDEX ON tr USING no_such_am (id);
CREATE VIEW tr_v AS SELECT * FROM tr;
CREATE INDEX ON tr_v (id);
DROP VIEW tr_v;

-- statements no rule examines run as before
CREATE TABLE tr2 (id int);
ALTER TABLE tr2 ADD COLUMN v text;
DROP TABLE tr2;

-- status()
SELECT preloaded, active, mode, library_version, extension_version
  FROM schemaguard.status();

-- a database without the extension is untouched
CREATE DATABASE regress_sg_noext;
\c regress_sg_noext
CREATE TABLE t AS SELECT generate_series(1, 10000) AS id;
CREATE INDEX t_id ON t (id);
REINDEX TABLE t;
DROP INDEX t_id;
\c contrib_regression
SET lock_timeout = '5s';
SET schemaguard.small_table_size = 0;
-- ban-drop-database: DROP DATABASE cannot run in a block, so allow() cannot
-- cover it; a superuser steps around the guard for the session.
DROP DATABASE regress_sg_noext;
SET schemaguard.mode = warn;
DROP DATABASE regress_sg_noext;
RESET schemaguard.mode;

-- pg_stat_statements witness: the hook chain still runs.  Where
-- pg_stat_statements is not preloaded (make installcheck on your own
-- server), its functions say so: expected/transparency_1.out.
CREATE EXTENSION pg_stat_statements;
SELECT count(*) FROM (SELECT pg_stat_statements_reset()) r;
CREATE INDEX CONCURRENTLY tr_witness ON tr (id);
SELECT calls, query FROM pg_stat_statements
 WHERE query LIKE 'CREATE INDEX CONCURRENTLY tr_witness%';
DROP EXTENSION pg_stat_statements;

-- DROP EXTENSION turns the guard off here; CREATE EXTENSION turns it on
SELECT schemaguard.set_rule_level('require-concurrent-reindex', 'warning');
DROP EXTENSION schemaguard;
CREATE INDEX tr_unguarded ON tr (id);
CREATE EXTENSION schemaguard;
CREATE INDEX tr_guarded ON tr (id);
SELECT rule, level FROM schemaguard.rules() WHERE rule = 'require-concurrent-reindex';

-- cleanup: never staged (staged-drop is tested in staged_drops.sql)
BEGIN;
SELECT schemaguard.allow('staged-drop', 'test cleanup');
DROP TABLE tr;
COMMIT;

-- Our own reads take no predicate lock in a SERIALIZABLE transaction: the
-- staged-drop cache a new backend loads for its first query (core's tidscan
-- test once saw the extra SIReadLock on drop_stages) ...
CREATE TABLE ser_t (id int);
INSERT INTO ser_t VALUES (1);
\c
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT * FROM ser_t WHERE ctid = '(0,1)';
SELECT locktype, relation::regclass FROM pg_locks
 WHERE pid = pg_backend_pid() AND mode = 'SIReadLock' ORDER BY 1, 2;
ROLLBACK;
-- ... and the emptiness test of a DDL statement's table (its pages hold
-- only dead rows, so the guard reads it)
INSERT INTO ser_t VALUES (2);
DELETE FROM ser_t;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SET LOCAL lock_timeout = '5s';
CREATE INDEX ser_t_id ON ser_t (id);
SELECT locktype, relation::regclass FROM pg_locks
 WHERE pid = pg_backend_pid() AND mode = 'SIReadLock' ORDER BY 1, 2;
ROLLBACK;
-- ... and the staging row a DROP COLUMN of a staged column is judged by
ALTER TABLE ser_t ADD COLUMN old int;
INSERT INTO ser_t VALUES (3, 3);
SELECT schemaguard.stage_drop('ser_t', 'old', 'transparency test');
BEGIN ISOLATION LEVEL SERIALIZABLE;
SET LOCAL lock_timeout = '5s';
SET LOCAL schemaguard.drop_delay = '1h';	-- refused: only the read happens
SAVEPOINT s;
\set VERBOSITY sqlstate
ALTER TABLE ser_t DROP COLUMN old;
\set VERBOSITY default
ROLLBACK TO s;
SELECT locktype, relation::regclass FROM pg_locks
 WHERE pid = pg_backend_pid() AND mode = 'SIReadLock' ORDER BY 1, 2;
ROLLBACK;
SELECT schemaguard.unstage_drop('ser_t', 'old');
DROP TABLE ser_t;
