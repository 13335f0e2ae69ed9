--
-- Audit triggers: enable_audit(), audit_log, row_history(), purge_audit(),
-- the protections, and enable_timestamps().
--
SET lock_timeout = '5s';

CREATE TABLE acct (id int PRIMARY KEY, name text, balance numeric, secret text, at timestamptz);
SELECT schemaguard.enable_audit('acct', '{secret}');
SELECT * FROM schemaguard.audited_tables;

-- Every operation; excluded columns never appear; UPDATE logs only what changed.
INSERT INTO acct VALUES (1, 'ann', 10, 's1', '2026-01-01 00:00:00+00'), (2, 'bob', 20, 's2', NULL);
UPDATE acct SET balance = 11 WHERE id = 1;
-- no-op updates: only an excluded column, or nothing at all, changes
UPDATE acct SET secret = 'changed' WHERE id = 1;
UPDATE acct SET name = name;
DELETE FROM acct WHERE id = 2;
TRUNCATE acct;
SELECT op, schema_name, table_name, row_key, old, new, actor, "session_user"
FROM schemaguard.audit_log ORDER BY id;

-- Calling it again updates the exclusions.
SELECT schemaguard.enable_audit('acct', '{secret,balance}');
SELECT * FROM schemaguard.audited_tables;
INSERT INTO acct VALUES (3, 'cy', 30, 's3', NULL);
SELECT op, new FROM schemaguard.audit_log ORDER BY id DESC LIMIT 1;

-- The tenant and application_name are recorded.
SET application_name = 'billing';
BEGIN;
SELECT schemaguard.set_tenant('acme');
UPDATE acct SET name = 'cyd' WHERE id = 3;
COMMIT;
RESET application_name;
SELECT op, tenant, application_name, old, new FROM schemaguard.audit_log ORDER BY id DESC LIMIT 1;

-- row_history(): one row's changes, oldest first (TRUNCATE markers included).
SELECT op, old, new FROM schemaguard.row_history('acct', '{"id": 3}');
-- It finds a key's batches by the text the trigger wrote, and reads every
-- batch of the table when it cannot be sure of that text: the same rows.
SELECT schemaguard._audit_key_text('acct', '{"id": 3}') AS key_text,
       schemaguard._audit_key_text('acct', '{"id": 3.0}') AS other_spelling,
       schemaguard._audit_key_text('acct', '{"name": "cy"}') AS not_the_key,
       schemaguard._audit_key_text('acct', '[3]') AS not_an_object;
SELECT op, old, new FROM schemaguard.row_history('acct', '{"id": 3.0}');
SELECT count(*) AS other_row FROM schemaguard.row_history('acct', '{"id": 30}');

-- A table without a primary key: row_key is NULL.
CREATE TABLE nokey (a int, b text);
SELECT schemaguard.enable_audit('nokey');
INSERT INTO nokey VALUES (1, 'x');
UPDATE nokey SET b = 'y';
SELECT op, row_key, old, new FROM schemaguard.audit_log WHERE table_name = 'nokey' ORDER BY id;

-- A partitioned table: rows are logged under the table audited.
CREATE TABLE events (id int, at date, what text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT schemaguard.enable_audit('events');
INSERT INTO events VALUES (1, '2026-05-01', 'signup');
UPDATE events SET what = 'signed up' WHERE id = 1;
DELETE FROM events;
SELECT op, table_name, row_key, old, new FROM schemaguard.audit_log WHERE table_name LIKE 'events%' ORDER BY id;
SELECT schemaguard._audit_key_text('events', '{"at": "2026-05-01", "id": 1}') AS key_text;
SELECT op FROM schemaguard.row_history('events', '{"id": 1, "at": "2026-05-01"}');

-- Values are what to_jsonb() gives, whatever the type (domains, arrays,
-- composites, json, NaN and infinities, escapes, ranges, intervals).
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE TYPE pair AS (x int, y text);
CREATE TABLE typed (id posint PRIMARY KEY, n numeric, f float8, nan numeric, inf float8,
	b bool, t text, v varchar(5), c char(3), u uuid, j json, jb jsonb, arr int[], p pair,
	ts timestamp, d date, iv interval, r int4range, bits bit(3), big bigint, small smallint);
SELECT schemaguard.enable_audit('typed');
INSERT INTO typed VALUES (1, 1.50, 2.5e10, 'NaN', '-Infinity', true,
	E'quote " back \\ nl \n tab \t \u0001', 'abc', 'x', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
	'{"a": [1, 2]}', '{"b": null}', '{1,NULL,3}', ROW(1, 'y'), '2026-01-02 03:04:05', 'infinity',
	'1 day 2 hours', '[1,5)', B'101', 9223372036854775807, -32768);
SELECT l.op, l.row_key, l.new = to_jsonb(ty) AS insert_same_as_to_jsonb
  FROM schemaguard.audit_log l, typed ty WHERE l.table_name = 'typed' AND l.op = 'INSERT';
UPDATE typed SET n = 'Infinity', arr = '{}', p = NULL, t = NULL;
SELECT l.old, l.new = (SELECT jsonb_object_agg(k, v) FROM jsonb_each(to_jsonb(ty)) e(k, v)
                        WHERE k IN ('n', 'arr', 'p', 't')) AS update_same_as_to_jsonb
  FROM schemaguard.audit_log l, typed ty WHERE l.table_name = 'typed' AND l.op = 'UPDATE';

-- A large statement is written in several batches; every row is there once,
-- ids are unique; a row wider than a batch is fine too.
CREATE TABLE bulk (id int PRIMARY KEY, v text);
SELECT schemaguard.enable_audit('bulk');
INSERT INTO bulk SELECT g, 'value ' || g FROM generate_series(1, 3000) g;
UPDATE bulk SET v = repeat('w', 20000) WHERE id = 7;
SELECT count(*) AS logged, count(DISTINCT id) AS distinct_ids,
       count(DISTINCT row_key->>'id') AS distinct_keys, min((row_key->>'id')::int), max((row_key->>'id')::int)
  FROM schemaguard.audit_log WHERE table_name = 'bulk' AND op = 'INSERT';
SELECT count(*) > 1 AS several_batches, max(nrows) <= 1024 AS batches_bounded
  FROM schemaguard.audit_batch WHERE table_name = 'bulk' AND op = 'INSERT';
SELECT length(new->>'v') AS wide_value FROM schemaguard.audit_log WHERE table_name = 'bulk' AND op = 'UPDATE';
-- batches from 512 bytes of JSON on are stored LZ4-compressed, small ones
-- as they are; a wide value of hex digits comes back whole
UPDATE bulk SET v = (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) g) WHERE id = 8;
SELECT length(new->>'v') AS incompressible_value, new->>'v' = (SELECT v FROM bulk WHERE id = 8) AS same
  FROM schemaguard.audit_log WHERE table_name = 'bulk' AND op = 'UPDATE' AND row_key->>'id' = '8';
SELECT op, pg_column_compression(rows) AS compression, count(*) AS batches, sum(nrows) AS rows
  FROM schemaguard.audit_batch WHERE table_name = 'bulk' GROUP BY 1, 2 ORDER BY 1, 2;
SELECT op, new->>'v' AS v FROM schemaguard.row_history('bulk', '{"id": 2999}');

-- Rows of a renamed or dropped table stay readable by schema and name.
BEGIN;
SELECT schemaguard.allow('renaming-table', 'test'), schemaguard.allow('staged-drop', 'test');
ALTER TABLE nokey RENAME TO nokey_old;
DROP TABLE nokey_old;
COMMIT;
SELECT count(*) AS rows_of_dropped_table FROM schemaguard.audit_log WHERE table_name = 'nokey';

-- disable_audit(): the triggers go, the rows stay.
SELECT schemaguard.disable_audit('acct');
SELECT * FROM schemaguard.audited_tables ORDER BY 1::text;
INSERT INTO acct VALUES (4, 'dee', 40, 's4', NULL);
SELECT count(*) FROM schemaguard.audit_log WHERE new->>'name' = 'dee';

-- Protections: only the trigger writes; nobody but a superuser may change
-- the log, its owner included; PUBLIC cannot read it.
CREATE ROLE regress_sg_audit_owner;
CREATE ROLE regress_sg_audit_reader;
SELECT has_table_privilege('regress_sg_audit_reader', 'schemaguard.audit_log', 'SELECT') AS public_can_read;
SET ROLE regress_sg_audit_reader;
SELECT count(*) FROM schemaguard.audit_log;
DELETE FROM schemaguard.audit_log;
UPDATE schemaguard.audit_batch SET op = 'forged';
SELECT schemaguard.purge_audit('0 seconds');
RESET ROLE;
-- a role with no right on the log changes an audited table: it is recorded,
-- as the role that did it (actor) and the session's login (session_user)
GRANT INSERT ON bulk TO regress_sg_audit_reader;
SET ROLE regress_sg_audit_reader;
INSERT INTO bulk VALUES (5000, 'by the reader');
RESET ROLE;
SELECT op, actor, "session_user", new FROM schemaguard.audit_log WHERE table_name = 'bulk' AND row_key = '{"id": 5000}';
ALTER TABLE schemaguard.audit_batch OWNER TO regress_sg_audit_owner;
ALTER VIEW schemaguard.audit_log OWNER TO regress_sg_audit_owner;
SET ROLE regress_sg_audit_owner;
-- through the view, and on the table behind it
UPDATE schemaguard.audit_log SET op = 'forged';
DELETE FROM schemaguard.audit_log;
INSERT INTO schemaguard.audit_log (at, xid, table_oid, schema_name, table_name, op, actor, "session_user")
VALUES (now(), '1', 0, 'x', 'x', 'INSERT', 'x', 'x');
UPDATE schemaguard.audit_batch SET op = 'forged';
DELETE FROM schemaguard.audit_batch;
TRUNCATE schemaguard.audit_batch;
INSERT INTO schemaguard.audit_batch VALUES (1, now(), '1', 0, 'x', 'x', 'INSERT', NULL, 'x', 'x', NULL, 1, '[{}]');
RESET ROLE;
ALTER TABLE schemaguard.audit_batch OWNER TO CURRENT_USER;
ALTER VIEW schemaguard.audit_log OWNER TO CURRENT_USER;
-- a superuser changes the table, not the view
DELETE FROM schemaguard.audit_log;
SELECT count(*) AS rows_kept FROM schemaguard.audit_log;

-- purge_audit(): the retention path, recorded in the log.
SELECT has_function_privilege('public', 'schemaguard.purge_audit(interval)', 'EXECUTE') AS public_can_purge;
SELECT schemaguard.purge_audit('1 hour') AS purged_recent;
SELECT schemaguard.purge_audit('0 seconds') > 0 AS purged_all;
SELECT op, new ? 'deleted' AS has_count, new->>'older_than' AS older_than FROM schemaguard.audit_log ORDER BY id;
SELECT schemaguard.purge_audit(NULL);
SELECT schemaguard.purge_audit('-1 day');

-- What the trigger keeps between statements (a table's columns, its
-- names, the roles' names) follows every change, in the same session.
-- (The guard is off here: its rules about these changes are tested elsewhere.)
SET schemaguard.mode = 'off';
CREATE SCHEMA sgc;
CREATE TABLE sgc.kept (id int PRIMARY KEY, a int, b text);
SELECT schemaguard.enable_audit('sgc.kept');
INSERT INTO sgc.kept VALUES (1, 1, 'one');
ALTER TABLE sgc.kept ADD COLUMN c int;
INSERT INTO sgc.kept VALUES (2, 2, 'two', 2);
ALTER TABLE sgc.kept RENAME COLUMN a TO aa;
ALTER TABLE sgc.kept ALTER COLUMN aa TYPE text;
INSERT INTO sgc.kept VALUES (3, '3', 'three', 3);
ALTER TABLE sgc.kept DROP COLUMN b;
UPDATE sgc.kept SET c = 30 WHERE id = 3;
ALTER TABLE sgc.kept RENAME TO kept2;
ALTER SCHEMA sgc RENAME TO sgc2;
INSERT INTO sgc2.kept2 VALUES (4, '4', 4);
SELECT schemaguard.enable_audit('sgc2.kept2', '{c}');
INSERT INTO sgc2.kept2 VALUES (5, '5', 5);
CREATE ROLE regress_sg_audit_renamed;
GRANT USAGE ON SCHEMA sgc2 TO regress_sg_audit_renamed;
GRANT INSERT ON sgc2.kept2 TO regress_sg_audit_renamed;
SET ROLE regress_sg_audit_renamed;
INSERT INTO sgc2.kept2 VALUES (6, '6', 6);
RESET ROLE;
ALTER ROLE regress_sg_audit_renamed RENAME TO regress_sg_audit_renamed2;
SET ROLE regress_sg_audit_renamed2;
INSERT INTO sgc2.kept2 VALUES (7, '7', 7);
RESET ROLE;
SELECT op, schema_name, table_name, row_key, old, new, actor FROM schemaguard.audit_log
 WHERE table_oid = 'sgc2.kept2'::regclass ORDER BY id;
-- a time is written in the session's time zone of the moment
CREATE TABLE sgc2.times (id int PRIMARY KEY, t timestamptz);
SELECT schemaguard.enable_audit('sgc2.times');
SET TimeZone = 'UTC';
INSERT INTO sgc2.times VALUES (1, '2026-01-01 00:00:00+00'), (2, '2026-01-01 00:00:00+00');
SET TimeZone = 'Asia/Tokyo';
INSERT INTO sgc2.times VALUES (3, '2026-01-01 00:00:00+00');
RESET TimeZone;
SELECT new FROM schemaguard.audit_log WHERE table_oid = 'sgc2.times'::regclass ORDER BY id;
-- a cast to json that a role wrote (here one that changes the table under
-- the trigger) is never run by the audit trigger, as whoever writes the
-- table: the enum is written as its text, and the cast's writes never happen
CREATE TYPE sgc2.mood AS ENUM ('ok', 'sad');
CREATE TABLE sgc2.nested (id int PRIMARY KEY, m sgc2.mood);
CREATE FUNCTION sgc2.mood_json(m sgc2.mood) RETURNS json LANGUAGE plpgsql AS $$
BEGIN
	GRANT SELECT ON sgc2.nested TO PUBLIC;	-- a relcache invalidation of the table
	INSERT INTO sgc2.nested SELECT coalesce(max(id), 0) + 100, NULL FROM sgc2.nested WHERE id < 1000;
	RETURN to_json(m::text);
END $$;
CREATE CAST (sgc2.mood AS json) WITH FUNCTION sgc2.mood_json(sgc2.mood);
SELECT schemaguard.enable_audit('sgc2.nested');
INSERT INTO sgc2.nested VALUES (1, 'ok'), (2, 'sad');
SELECT row_key, new FROM schemaguard.audit_log WHERE table_oid = 'sgc2.nested'::regclass ORDER BY id;
-- a partition's rows follow its root's name
ALTER TABLE events RENAME TO events_renamed;
INSERT INTO events_2026 VALUES (9, '2026-09-09', 'after the rename');
SELECT table_name, new FROM schemaguard.audit_log ORDER BY id DESC LIMIT 1;
ALTER TABLE events_renamed RENAME TO events;
DROP SCHEMA sgc2 CASCADE;
DROP ROLE regress_sg_audit_renamed2;
RESET schemaguard.mode;

-- Bad input.
SELECT schemaguard.enable_audit(NULL);
SELECT schemaguard.enable_audit('acct', NULL);
SELECT schemaguard.enable_audit('acct', '{no_such_column}');
SELECT schemaguard.enable_audit('acct', ARRAY[NULL]::name[]);
SELECT schemaguard.enable_audit('pg_class');
CREATE VIEW acct_view AS SELECT * FROM acct;
SELECT schemaguard.enable_audit('acct_view');
SELECT schemaguard.enable_audit('schemaguard.audit_log');
SELECT schemaguard.enable_audit('schemaguard.audit_batch');
SELECT schemaguard.disable_audit(NULL);

-- enable_timestamps(): created_at/updated_at filled on INSERT when NULL,
-- updated_at and updated_by set on UPDATE.
CREATE TABLE posts (id int PRIMARY KEY, body text, created_at timestamptz, updated_at timestamp,
	updated_by text);
SELECT schemaguard.enable_timestamps('posts', updated_by => 'updated_by');
INSERT INTO posts (id, body) VALUES (1, 'hello');
INSERT INTO posts (id, body, created_at) VALUES (2, 'kept', '2020-01-01 00:00:00+00');
SELECT id, created_at = statement_timestamp() AS created_now, updated_at IS NOT NULL AS has_updated,
	updated_by = current_user AS by_me FROM posts ORDER BY id;
UPDATE posts SET body = 'edited', updated_at = '2000-01-01', updated_by = 'someone else' WHERE id = 2;
SELECT id, created_at, updated_at > '2020-01-01' AS updated_now, updated_by = current_user AS by_me
FROM posts WHERE id = 2;
SELECT schemaguard.enable_timestamps('posts', 'missing');
SELECT schemaguard.enable_timestamps('posts', 'body');
SELECT schemaguard.enable_timestamps('posts', updated_by => 'id');
SELECT schemaguard.enable_timestamps(NULL);

BEGIN;
SELECT schemaguard.allow('staged-drop', 'test cleanup');
DROP VIEW acct_view;
DROP TABLE acct, events, posts, typed, bulk;
DROP TYPE pair;
DROP DOMAIN posint;
COMMIT;
DROP ROLE regress_sg_audit_owner, regress_sg_audit_reader;
-- a superuser may empty the log (the later suites count populated tables)
TRUNCATE schemaguard.audit_batch;
