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
CREATE ROLE sg_audit_owner;
CREATE ROLE sg_audit_reader;
SELECT has_table_privilege('sg_audit_reader', 'schemaguard.audit_log', 'SELECT') AS public_can_read;
SET ROLE sg_audit_reader;
SELECT count(*) FROM schemaguard.audit_log;
RESET ROLE;
ALTER TABLE schemaguard.audit_log OWNER TO sg_audit_owner;
SET ROLE sg_audit_owner;
UPDATE schemaguard.audit_log SET op = 'forged';
DELETE FROM schemaguard.audit_log;
TRUNCATE schemaguard.audit_log;
INSERT INTO schemaguard.audit_log (at, xid, table_oid, schema_name, table_name, op, actor, "session_user")
VALUES (now(), '1', 0, 'x', 'x', 'INSERT', 'x', 'x');
RESET ROLE;
ALTER TABLE schemaguard.audit_log OWNER TO CURRENT_USER;

-- purge_audit(): the retention path, recorded in the log.
SELECT has_function_privilege('public', 'schemaguard.purge_audit(interval)', 'EXECUTE') AS public_can_purge;
SELECT schemaguard.purge_audit('1 hour') AS purged_recent;
SELECT schemaguard.purge_audit('0 seconds') > 0 AS purged_all;
SELECT op, new ? 'deleted' AS has_count, new->>'older_than' AS older_than FROM schemaguard.audit_log ORDER BY id;
SELECT schemaguard.purge_audit(NULL);
SELECT schemaguard.purge_audit('-1 day');

-- Bad input.
SELECT schemaguard.enable_audit(NULL);
SELECT schemaguard.enable_audit('acct', NULL);
SELECT schemaguard.enable_audit('acct', '{no_such_column}');
SELECT schemaguard.enable_audit('acct', ARRAY[NULL]::name[]);
SELECT schemaguard.enable_audit('pg_class');
CREATE VIEW acct_view AS SELECT * FROM acct;
SELECT schemaguard.enable_audit('acct_view');
SELECT schemaguard.enable_audit('schemaguard.audit_log');
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
DROP TABLE acct, events, posts;
COMMIT;
DROP ROLE sg_audit_owner, sg_audit_reader;
-- a superuser may empty the log (the later suites count populated tables)
TRUNCATE schemaguard.audit_log;
