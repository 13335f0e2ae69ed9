-- Rewrites and locks (see rules_constraint.sql for the pattern).
SET lock_timeout = '5s';
-- Its tables are small: judge them as tables of any size (sql/small_tables.sql
-- tests the default schemaguard.small_table_size).
SET schemaguard.small_table_size = 0;
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/sql/fixtures/rules.sql'
\i :fixture
\set new_table 'CREATE TABLE fresh (LIKE pop INCLUDING ALL); INSERT INTO fresh SELECT * FROM pop'

-- table-rewrite
SET allow_in_place_tablespaces = on;
CREATE TABLESPACE regress_sg_ts LOCATION '';
VACUUM FULL pop;
CLUSTER pop USING pop_pkey;
ALTER TABLE pop SET UNLOGGED;
SELECT c.* FROM (VALUES
	('vacuum full', NULL, 'VACUUM FULL pop'),
	('vacuum (full)', NULL, 'VACUUM (FULL, VERBOSE false) pop'),
	('cluster', NULL, 'CLUSTER pop USING pop_pkey'),
	('set unlogged', NULL, 'ALTER TABLE pop SET UNLOGGED'),
	('set tablespace', NULL, 'ALTER TABLE pop SET TABLESPACE regress_sg_ts'),
	('safe: the tablespace it is in', NULL, 'ALTER TABLE pop SET TABLESPACE pg_default'),
	('safe: already logged', NULL, 'ALTER TABLE pop SET LOGGED'),
	('safe: the access method it has', NULL, 'ALTER TABLE pop SET ACCESS METHOD heap'),
	('safe: plain vacuum', NULL, 'VACUUM pop'),
	('new table', :'new_table', 'ALTER TABLE fresh SET UNLOGGED'),
	('empty table', NULL, 'ALTER TABLE emp SET UNLOGGED'),
	('empty table: vacuum full', NULL, 'VACUUM FULL emp')
) v(label, setup, stmt), LATERAL sg_case(v.label, v.setup, v.stmt) c;
-- outside a function, VACUUM FULL of an empty table just runs
VACUUM FULL emp;
ALTER TABLE pop SET TABLESPACE regress_sg_ts;
DROP TABLESPACE regress_sg_ts;

-- require-concurrent-refresh
CREATE MATERIALIZED VIEW pop_mv AS SELECT id, note FROM pop WHERE id <= 100;
CREATE MATERIALIZED VIEW emp_mv AS SELECT id FROM pop WITH NO DATA;
REFRESH MATERIALIZED VIEW pop_mv;
CREATE UNIQUE INDEX CONCURRENTLY pop_mv_id ON pop_mv (id);
REFRESH MATERIALIZED VIEW pop_mv;
SELECT c.* FROM (VALUES
	('refresh populated', NULL, 'REFRESH MATERIALIZED VIEW pop_mv'),
	('safe: concurrently', NULL, 'REFRESH MATERIALIZED VIEW CONCURRENTLY pop_mv'),
	('safe: WITH NO DATA', NULL, 'REFRESH MATERIALIZED VIEW pop_mv WITH NO DATA'),
	('new view', 'CREATE MATERIALIZED VIEW fresh_mv AS SELECT id FROM pop', 'REFRESH MATERIALIZED VIEW fresh_mv'),
	('empty (unpopulated) view', NULL, 'REFRESH MATERIALIZED VIEW emp_mv')
) v(label, setup, stmt), LATERAL sg_case(v.label, v.setup, v.stmt) c;

-- require-concurrent-partition-detach
CREATE TABLE parted (id int, v text) PARTITION BY RANGE (id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (1000);
CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (1000) TO (2000);
INSERT INTO parted SELECT g, 'v' FROM generate_series(0, 999) g;
ALTER TABLE parted DETACH PARTITION parted_1;
SELECT c.* FROM (VALUES
	('detach populated', NULL, 'ALTER TABLE parted DETACH PARTITION parted_1'),
	('safe: concurrently (core: not in a block)', NULL, 'ALTER TABLE parted DETACH PARTITION parted_1 CONCURRENTLY'),
	('new table', 'CREATE TABLE np (id int) PARTITION BY RANGE (id); CREATE TABLE np_1 PARTITION OF np FOR VALUES FROM (0) TO (10); INSERT INTO np VALUES (1)',
	 'ALTER TABLE np DETACH PARTITION np_1'),
	('empty partition', NULL, 'ALTER TABLE parted DETACH PARTITION parted_2')
) v(label, setup, stmt), LATERAL sg_case(v.label, v.setup, v.stmt) c;
ALTER TABLE parted DETACH PARTITION parted_1 CONCURRENTLY;
ALTER TABLE parted ATTACH PARTITION parted_1 FOR VALUES FROM (0) TO (1000);

-- require-lock-timeout: judged against the lock queue, live.  No other
-- session is in the way here, so the lock is granted at once and the
-- statement runs (test/isolation/specs/lock_queue.spec holds the lock).
-- lint() cannot see the queue: it reports every table the script did not
-- create, once per transaction.
SET lock_timeout = 0;
BEGIN;
ALTER TABLE pop ADD COLUMN c int;
ROLLBACK;
SELECT c.* FROM (VALUES
	('alter without lock_timeout', NULL, 'ALTER TABLE pop ADD COLUMN c int'),
	('create trigger', NULL, 'CREATE TRIGGER t BEFORE INSERT ON pop FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()'),
	('lock table', NULL, 'LOCK TABLE pop IN SHARE ROW EXCLUSIVE MODE'),
	('safe: SET LOCAL lock_timeout', 'SET LOCAL lock_timeout = ''2s''', 'ALTER TABLE pop ADD COLUMN c int'),
	('share lock (queued, it blocks writes)', NULL, 'LOCK TABLE pop IN SHARE MODE'),
	('safe: weaker lock', NULL, 'LOCK TABLE pop IN SHARE UPDATE EXCLUSIVE MODE'),
	('safe: NOWAIT', NULL, 'LOCK TABLE pop IN ACCESS EXCLUSIVE MODE NOWAIT'),
	('new table', :'new_table', 'ALTER TABLE fresh ADD COLUMN c int'),
	('empty table', NULL, 'ALTER TABLE emp ADD COLUMN c int')
) v(label, setup, stmt), LATERAL sg_case(v.label, v.setup, v.stmt) c;
-- schemaguard.default_lock_timeout applies a lock_timeout instead of refusing
-- (superuser-only), and restores the previous value
SET schemaguard.default_lock_timeout = '3s';
BEGIN;
ALTER TABLE pop ADD COLUMN c int;
SHOW lock_timeout;
ROLLBACK;
SELECT count(*) FROM schemaguard.lint('ALTER TABLE pop ADD COLUMN c int');
-- ... as a function's SET clause does: a migration's SET LOCAL survives
-- the statement, and after COMMIT the session's value and source are back
CREATE TABLE leak (id int);
INSERT INTO leak SELECT generate_series(1, 100);
RESET lock_timeout;
BEGIN;
SET LOCAL lock_timeout = 0;
ALTER TABLE leak ADD COLUMN c int;
SHOW lock_timeout;
COMMIT;
SELECT setting, source FROM pg_settings WHERE name = 'lock_timeout';
SET lock_timeout = '1min';
BEGIN;
SET LOCAL lock_timeout = 0;
ALTER TABLE leak ADD COLUMN d int;
COMMIT;
SELECT setting, source FROM pg_settings WHERE name = 'lock_timeout';
RESET schemaguard.default_lock_timeout;
SET lock_timeout = '5s';

SELECT schemaguard.set_rule_level('staged-drop', 'default');
