--
-- Migration history: begin_migration(), end_migration(), resolve_migration(),
-- migration_applied(), verify_history(), ddl_log.
--
SET lock_timeout = '5s';
-- the fixtures are small: judge them as any table that holds a row
SET schemaguard.small_table_size = 0;
\set SHOW_CONTEXT never
-- the DDL log from here on (the other suites' DDL is theirs)
SELECT coalesce(max(id), 0) AS ddl_start FROM schemaguard.ddl_log \gset

-- The transactional flow: history commits with the DDL.
BEGIN;
SELECT schemaguard.begin_migration('20260101_init', 'init', 'sha-1') > 0 AS started;
CREATE TABLE mig_a (id int PRIMARY KEY);
CREATE INDEX mig_a_id ON mig_a (id);
COMMIT;
SELECT version, name, checksum, status, transactional, statement_count, last_statement, prev_checksum
FROM schemaguard.migrations ORDER BY id;
SELECT schemaguard.migration_applied('20260101_init'), schemaguard.migration_applied('nope');

-- Applied twice (same checksum) and a checksum mismatch: documented SQLSTATEs.
\set VERBOSITY sqlstate
BEGIN;
SELECT schemaguard.begin_migration('20260101_init', 'init', 'sha-1');
ROLLBACK;
\set VERBOSITY default
BEGIN;
SELECT schemaguard.begin_migration('20260101_init', 'init', 'sha-2');
ROLLBACK;

-- An aborted transaction leaves no history row.
BEGIN;
SELECT schemaguard.begin_migration('20260102_aborted') > 0 AS started;
CREATE TABLE mig_never (id int);
ROLLBACK;
SELECT count(*) AS rows_for_aborted FROM schemaguard.migrations WHERE version = '20260102_aborted';

-- The non-transactional flow, with CREATE INDEX CONCURRENTLY inside.
SELECT schemaguard.begin_migration('20260103_concurrent', 'index', 'sha-3') > 0 AS started;
INSERT INTO mig_a SELECT generate_series(1, 1000);
CREATE INDEX CONCURRENTLY mig_a_id2 ON mig_a (id);
BEGIN;
SELECT schemaguard.allow('require-concurrent-index-creation', 'one-off, table is tiny');
CREATE INDEX mig_a_id3 ON mig_a (id);
COMMIT;
SELECT schemaguard.end_migration();
SELECT schemaguard.migration_applied('20260103_concurrent');
SELECT schemaguard.migration_applied(NULL);
SELECT version, status, transactional, statement_count, prev_checksum FROM schemaguard.migrations ORDER BY id;

-- ddl_log: every DDL statement, its own slice of a multi-statement string,
-- DDL from DO blocks, DDL outside migrations, and what the rules said.
CREATE TABLE mig_b (id int); CREATE TABLE mig_c (id int);
INSERT INTO mig_b SELECT generate_series(1, 100);
/* schemaguard:ignore require-concurrent-index-creation mig_b is a lookup table, read once a day */
CREATE INDEX mig_b_id ON mig_b (id);
DO $$ BEGIN EXECUTE 'CREATE TABLE mig_d (id int)'; END $$;
SELECT m.version, l.command_tag, regexp_replace(l.object_identity, '^pg_temp_[0-9]+', 'pg_temp') AS object_identity, l.statement, l.rules
FROM schemaguard.ddl_log l LEFT JOIN schemaguard.migrations m ON m.id = l.migration_id
WHERE l.command_tag <> 'CREATE EXTENSION' AND l.id > :ddl_start
ORDER BY l.id;

-- The hash chain, and what verify_history() finds when a row is edited.
SELECT version, chain IS NOT NULL AS chained FROM schemaguard.migrations ORDER BY id;
SELECT * FROM schemaguard.verify_history();
BEGIN;
ALTER TABLE schemaguard.migration_history DISABLE TRIGGER migration_history_protect;
UPDATE schemaguard.migration_history SET checksum = 'forged' WHERE version = '20260101_init';
SELECT * FROM schemaguard.verify_history();
ROLLBACK;
BEGIN;
ALTER TABLE schemaguard.migration_history DISABLE TRIGGER migration_history_protect;
UPDATE schemaguard.migration_history SET applied_by = 'someone_else' WHERE version = '20260103_concurrent';
SELECT * FROM schemaguard.verify_history();
ROLLBACK;

-- resolve_migration(): bad input; an interrupted migration is covered in TAP.
SELECT schemaguard.resolve_migration('20260101_init', 'applied', 'x');
SELECT schemaguard.resolve_migration('20260101_init', 'maybe', 'x');
SELECT schemaguard.resolve_migration('20260101_init', 'applied', '');
SELECT schemaguard.begin_migration(NULL);
SELECT schemaguard.begin_migration('');
SELECT schemaguard.begin_migration(repeat('v', 201));
SELECT schemaguard.begin_migration('v', 'n', repeat('c', 201));
SELECT schemaguard.end_migration();

-- Append-only for everyone but superusers, the owner included.
CREATE ROLE regress_sg_mig_owner;
ALTER TABLE schemaguard.migration_events OWNER TO regress_sg_mig_owner;
SET ROLE regress_sg_mig_owner;
DELETE FROM schemaguard.migration_events;
-- recording migrations is granted, not public
SELECT schemaguard.begin_migration('by_anyone');
RESET ROLE;
ALTER TABLE schemaguard.migration_events OWNER TO CURRENT_USER;
DROP ROLE regress_sg_mig_owner;

BEGIN;
SELECT schemaguard.allow('staged-drop', 'test cleanup');
DROP TABLE mig_a, mig_b, mig_c, mig_d;
COMMIT;

-- Rule ddl-outside-migration (off by default): DDL outside a migration.
SELECT schemaguard.set_rule_level('ddl-outside-migration', 'error');
CREATE TABLE mig_outside (id int);
BEGIN;
SELECT schemaguard.begin_migration('20260104_inside') > 0 AS started;
CREATE TABLE mig_inside (id int);
COMMIT;
SELECT statement, rule FROM schemaguard.lint($$
CREATE TABLE l1 (id int);
BEGIN; SELECT schemaguard.begin_migration('x'); CREATE TABLE l2 (id int); COMMIT;
CREATE TABLE l3 (id int);
$$, false);
SELECT schemaguard.set_rule_level('ddl-outside-migration', 'default');
-- schemaguard.record_ddl = off (superuser-only, for restoring a dump)
SET schemaguard.record_ddl = off;
CREATE TABLE mig_unrecorded (id int);
RESET schemaguard.record_ddl;
SELECT count(*) AS unrecorded FROM schemaguard.ddl_log WHERE statement LIKE '%mig_unrecorded%';
BEGIN;
SELECT schemaguard.allow('staged-drop', 'test cleanup');
DROP TABLE mig_inside, mig_unrecorded;
COMMIT;
RESET schemaguard.small_table_size;
