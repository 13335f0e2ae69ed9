--
-- Trust: schemaguard's own machinery gives away nothing the server
-- protects.  Written as an attacker would write it: a developer who may
-- create tables (regress_sg_dev), an application role (regress_sg_app), and
-- the DBA (the superuser running this file) whose privileges they are after.
-- Everything lives in schema trust, dropped at the end.
--
SET lock_timeout = '5s';
SET schemaguard.small_table_size = 0;
CREATE SCHEMA trust;
CREATE ROLE regress_sg_dev;
CREATE ROLE regress_sg_app;
GRANT USAGE, CREATE ON SCHEMA trust TO regress_sg_dev;
GRANT USAGE ON SCHEMA trust TO regress_sg_app;

--
-- 1. What it stores.  Nothing core hides from other roles reaches ddl_log
-- in clear text, decided from the parse tree: passwords, the options of
-- servers and user mappings, connection strings, secret settings' values.
--
CREATE ROLE regress_sg_ops LOGIN PASSWORD 'Sup3r-S3cret';
ALTER ROLE regress_sg_ops PASSWORD 'An0ther-S3cret' VALID UNTIL 'infinity';
CREATE ROLE regress_sg_ops2 ENCRYPTED PASSWORD E'esc\'aped-S3cret' /* a comment */ LOGIN;
ALTER USER regress_sg_ops2 WITH PASSWORD $pw$dollar-S3cret$pw$;
ALTER SYSTEM SET schemaguard.tenant_key = 'a-32-byte-or-longer-secret-key-0123456789';
ALTER SYSTEM RESET schemaguard.tenant_key;
-- a setting this server does not know may be anyone's secret
ALTER ROLE regress_sg_ops SET other_ext.api_key TO 'unknown-setting-S3cret';
ALTER ROLE regress_sg_ops IN DATABASE contrib_regression SET other_ext.token = unquoted_S3cret;
ALTER DATABASE contrib_regression SET other_ext.token = 'db-S3cret';
ALTER DATABASE contrib_regression RESET other_ext.token;
ALTER ROLE regress_sg_ops RESET ALL;
-- a public setting's value is public (pg_settings shows it to everyone)
ALTER ROLE regress_sg_ops SET work_mem = '8MB';
CREATE FOREIGN DATA WRAPPER regress_sg_fdw OPTIONS (token 'fdw-S3cret');
CREATE SERVER regress_sg_srv FOREIGN DATA WRAPPER regress_sg_fdw OPTIONS (host 'h', password 'server-S3cret');
ALTER SERVER regress_sg_srv OPTIONS (SET password 'server2-S3cret');
CREATE USER MAPPING FOR regress_sg_ops SERVER regress_sg_srv OPTIONS (user 'u', password 'mapping-S3cret');
ALTER USER MAPPING FOR regress_sg_ops SERVER regress_sg_srv OPTIONS (SET password U&'unic\0064de-S3cret');
CREATE FOREIGN TABLE trust.ft (a int) SERVER regress_sg_srv OPTIONS (secret 'ft-S3cret');
ALTER FOREIGN TABLE trust.ft OPTIONS (SET secret 'ft2-S3cret');
SET client_min_messages = error;
CREATE SUBSCRIPTION regress_sg_sub CONNECTION 'host=nowhere password=conninfo-S3cret'
  PUBLICATION p WITH (connect = false);
ALTER SUBSCRIPTION regress_sg_sub CONNECTION 'host=nowhere password=conninfo2-S3cret';
ALTER SUBSCRIPTION regress_sg_sub SET (slot_name = NONE);
DROP SUBSCRIPTION regress_sg_sub;
RESET client_min_messages;
-- even the superuser reads no secret back ...
SELECT count(*) AS secrets_kept FROM schemaguard.ddl_log_rows WHERE statement ~ 'S3cret|secret-key';
-- ... but still what was done, to what
SELECT command_tag, statement FROM schemaguard.ddl_log
 WHERE statement ~ '\*\*\*\*\*\*\*\*|work_mem' ORDER BY id;

-- Who reads ddl_log: every role sees every row, as pg_stat_activity shows
-- every session, but the text only of its own roles' statements (all of
-- them with pg_read_all_stats, as pg_stat_statements).
SET ROLE regress_sg_dev;
CREATE TABLE trust.mine (a int);
SELECT role, command_tag, object_identity, statement FROM schemaguard.ddl_log
 WHERE object_identity IN ('trust.mine', 'regress_sg_ops') ORDER BY id;
SELECT count(*) AS readable_not_own FROM schemaguard.ddl_log
 WHERE role <> 'regress_sg_dev' AND statement <> '<insufficient privilege>';
SELECT count(*) FROM schemaguard.ddl_log WHERE rules IS NOT NULL AND role <> 'regress_sg_dev';
SELECT * FROM schemaguard.ddl_log_rows LIMIT 1;
SELECT last_statement FROM schemaguard.migration_history LIMIT 1;
SELECT last_statement FROM schemaguard.migrations WHERE last_statement <> '<insufficient privilege>';
SELECT count(*) >= 0 AS history_readable FROM schemaguard.migration_history;
INSERT INTO schemaguard.ddl_log (role, command_tag, statement) VALUES ('x', 'x', 'x');
RESET ROLE;
GRANT pg_read_all_stats TO regress_sg_app;
SET ROLE regress_sg_app;
SELECT count(*) > 0 AS reads_all_with_pg_read_all_stats FROM schemaguard.ddl_log
 WHERE role <> 'regress_sg_app' AND statement <> '<insufficient privilege>';
RESET ROLE;
REVOKE pg_read_all_stats FROM regress_sg_app;

-- Growth: temporary objects (any role may make them) are not logged, and
-- a statement is kept up to 8 kB, the rest as its length and SHA-256.
SET ROLE regress_sg_app;
DO $$
BEGIN
	EXECUTE 'CREATE TEMP TABLE spam (a int /*' || repeat('x', 1000000) || '*/)';
	EXECUTE 'CREATE INDEX ON spam (a /*' || repeat('x', 1000000) || '*/)';
	EXECUTE 'CREATE TEMP VIEW spam_v AS SELECT a /*' || repeat('x', 1000000) || '*/ FROM spam';
	EXECUTE 'CREATE TEMP SEQUENCE spam_s';
	EXECUTE 'ALTER TABLE spam ADD COLUMN b int';
	EXECUTE 'DROP TABLE spam CASCADE';
	EXECUTE 'DROP SEQUENCE pg_temp.spam_s';
END $$;
RESET ROLE;
SELECT count(*) AS logged_for_temp_objects FROM schemaguard.ddl_log WHERE role = 'regress_sg_app';
SET ROLE regress_sg_dev;
DO $$ BEGIN EXECUTE 'CREATE TABLE trust.wide (a int /*' || repeat('x', 100000) || '*/)'; END $$;
RESET ROLE;
SELECT octet_length(statement) <= 8192 + 200 AS capped,
       substring(statement from 'cut here: [0-9]+ bytes in all, SHA-256 ') AS note,
       substring(statement from 'SHA-256 ([0-9a-f]{64})') =
         encode(sha256(convert_to('CREATE TABLE trust.wide (a int /*' || repeat('x', 100000) || '*/)', 'UTF8')), 'hex')
         AS digest_of_the_whole
  FROM schemaguard.ddl_log WHERE object_identity = 'trust.wide';

--
-- 3. What it evaluates.  A developer's IMMUTABLE function in a CHECK never
-- runs as the DBA who lints, or runs guarded DDL on, the developer's table.
--
SET ROLE regress_sg_dev;
CREATE TABLE trust.canary (who name, super boolean);
GRANT INSERT ON trust.canary TO PUBLIC;
CREATE FUNCTION trust.grab() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO trust.canary SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user;
	RETURN 1;
END $$;
CREATE FUNCTION trust.one(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$BEGIN RETURN trust.grab(); END$$;
CREATE TABLE trust.dev_t (v int, CHECK (trust.one(1) = 1));
INSERT INTO trust.dev_t VALUES (1);
-- an SQL function is inlined, and what is left is folded: a second way in
CREATE FUNCTION trust.one_sql(int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT trust.one($1) $$;
CREATE TABLE trust.dev_t2 (v int CHECK (v > 0 OR trust.one_sql(2) = 1));
INSERT INTO trust.dev_t2 VALUES (1);
-- a cast of the developer's type, through an inlined SQL function
CREATE TYPE trust.mood AS ENUM ('ok', 'sad');
CREATE FUNCTION trust.mood_text(trust.mood) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT $1::text || trust.one(1)::text $$;
CREATE CAST (trust.mood AS text) WITH FUNCTION trust.mood_text(trust.mood) AS ASSIGNMENT;
CREATE TABLE trust.moods (id int, m trust.mood);
INSERT INTO trust.moods VALUES (1, 'ok');
-- a domain whose CHECK is the developer's function
CREATE DOMAIN trust.pos AS int CHECK (trust.one(VALUE) = 1);
-- a cast to json of the developer's type, which to_json() would call
CREATE TYPE trust.pt AS (x int);
CREATE FUNCTION trust.pt_json(trust.pt) RETURNS json LANGUAGE plpgsql AS $$
BEGIN PERFORM trust.grab(); RETURN '{}'; END $$;
CREATE CAST (trust.pt AS json) WITH FUNCTION trust.pt_json(trust.pt);
CREATE TABLE trust.pts (id int PRIMARY KEY, p trust.pt, ps trust.pt[], m trust.mood);
SELECT schemaguard.enable_audit('trust.pts');
RESET ROLE;
DELETE FROM trust.canary;
-- as the DBA: lint, refused DDL, allowed DDL, a write to an audited table
SELECT rule FROM schemaguard.lint('ALTER TABLE trust.dev_t ALTER COLUMN v SET NOT NULL');
SELECT rule FROM schemaguard.lint('ALTER TABLE trust.dev_t2 ALTER COLUMN v SET NOT NULL');
SELECT rule FROM schemaguard.lint($$ALTER TABLE trust.dev_t ADD CONSTRAINT c CHECK (trust.one(2) = 1 AND v IS NOT NULL) NOT VALID;
ALTER TABLE trust.dev_t VALIDATE CONSTRAINT c;
ALTER TABLE trust.dev_t ALTER COLUMN v SET NOT NULL;$$);
SELECT rule FROM schemaguard.lint('ALTER TABLE trust.moods ALTER COLUMN m TYPE text');
SELECT rule FROM schemaguard.lint('ALTER TABLE trust.moods ALTER COLUMN id TYPE trust.pos');
ALTER TABLE trust.dev_t RENAME COLUMN v TO w;
ALTER TABLE trust.dev_t DROP COLUMN v;
ALTER TABLE trust.dev_t ALTER COLUMN v SET NOT NULL;
ALTER TABLE trust.moods ALTER COLUMN m TYPE text;
BEGIN;
SELECT schemaguard.allow('renaming-column', 'a test: the allowed path evaluates nothing either');
ALTER TABLE trust.dev_t2 RENAME COLUMN v TO v2;
ROLLBACK;
INSERT INTO trust.pts VALUES (1, ROW(1), ARRAY[ROW(2)::trust.pt], 'sad');
SELECT new FROM schemaguard.audit_log WHERE table_name = 'pts' AND op = 'INSERT';
SELECT count(*) AS user_code_run_by_schemaguard FROM trust.canary;

--
-- 4. What it locks and what it reveals.  lint() holds no lock past its
-- call, and neither locks nor looks into a relation its caller may not
-- read; core's own permission errors come before any refusal of ours.
--
CREATE SCHEMA trust_secret;
CREATE TABLE trust_secret.payroll (id int, salary int);
INSERT INTO trust_secret.payroll VALUES (1, 100);
CREATE TABLE trust_secret.flag (v int);
CREATE TABLE trust.no_select (v int CHECK (v IS NOT NULL));
SET ROLE regress_sg_app;
SET lock_timeout = 0;
BEGIN;
SELECT rule, detail FROM schemaguard.lint('ALTER TABLE trust_secret.payroll ADD COLUMN x int');
-- its CHECK is not read either: SET NOT NULL is not proven
SELECT rule FROM schemaguard.lint('CREATE INDEX ON trust.no_select (v); ALTER TABLE trust.no_select ALTER COLUMN v SET NOT NULL');
SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND c.relname IN ('payroll', 'no_select', 'flag');
COMMIT;
SET lock_timeout = '5s';
-- one bit: a table it may not read is judged the same, row or no row
SELECT rule, detail FROM schemaguard.lint('CREATE INDEX ON trust_secret.flag (v)', false);
RESET ROLE;
INSERT INTO trust_secret.flag VALUES (1);
SET ROLE regress_sg_app;
SELECT rule, detail FROM schemaguard.lint('CREATE INDEX ON trust_secret.flag (v)', false);
-- a table it may read is looked into, and its locks go with the call
RESET ROLE;
GRANT USAGE ON SCHEMA trust_secret TO regress_sg_app;
GRANT SELECT ON trust_secret.flag TO regress_sg_app;
SET ROLE regress_sg_app;
BEGIN;
SELECT rule, detail FROM schemaguard.lint('CREATE INDEX ON trust_secret.flag (v)', false);
SELECT count(*) AS locks_after_lint FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND c.relname = 'flag';
COMMIT;
-- core's own errors first: nothing of ours (no sizes, no counts)
REINDEX SCHEMA pg_catalog;
REINDEX SCHEMA trust_secret;
DROP SCHEMA trust_secret CASCADE;
REINDEX DATABASE contrib_regression;
REINDEX SYSTEM contrib_regression;
SET client_min_messages = error;
VACUUM FULL;	-- core skips every table this role does not own: nothing to refuse
RESET client_min_messages;
RESET ROLE;
-- a type modifier core refuses: core's error, with its position (the
-- rules resolve a type without its modifiers, whose input function raises)
CREATE TABLE trust.bad_mod (c numeric(42,13,7));
ALTER TABLE trust.canary ADD COLUMN c numeric(1,2,3);
ALTER TABLE trust.canary ADD COLUMN c character(0);
SELECT rule FROM schemaguard.lint('ALTER TABLE trust.canary ALTER COLUMN who TYPE varchar(0); CREATE TABLE trust.bad_mod (c numeric(42,13,7));');

--
-- 5. Audit integrity.  Any value a column can hold is recorded and read
-- back, and switching the audit off leaves a trace: who, when, how.
--
SET ROLE regress_sg_dev;
CREATE TYPE trust.wrap AS (j json);
CREATE TABLE trust.docs (id int PRIMARY KEY, body json, bodies json[], w trust.wrap, jb jsonb);
SELECT schemaguard.enable_audit('trust.docs');
GRANT SELECT, INSERT, UPDATE ON trust.docs TO regress_sg_app;
RESET ROLE;
SET ROLE regress_sg_app;
-- the poison shares its statement with the writes it would hide
INSERT INTO trust.docs VALUES (1, '{"a":"\u0000"}', NULL, NULL, NULL), (2, '{"b": 2}', NULL, NULL, '{"c": 3}');
INSERT INTO trust.docs VALUES (3, NULL, ARRAY['{"d":"\u0000"}'::json], ROW('"\u0000"'), NULL);
UPDATE trust.docs SET body = '[1, "\u0000", {"e": "\u00e9"}]' WHERE id = 2;
RESET ROLE;
SELECT op, row_key, old, new FROM schemaguard.audit_log WHERE table_name = 'docs' ORDER BY id;
SELECT (new ->> 'body')::json::text = '{"a":"\u0000"}' AS read_back_exactly
  FROM schemaguard.audit_log WHERE table_name = 'docs' AND row_key = '{"id": 1}';
SELECT op FROM schemaguard.row_history('trust.docs', '{"id": 2}');
-- the table's owner switches it off, six ways
SET ROLE regress_sg_dev;
ALTER TABLE trust.docs DISABLE TRIGGER ALL;
INSERT INTO trust.docs VALUES (10, '{}');
ALTER TABLE trust.docs ENABLE TRIGGER ALL;
ALTER TABLE trust.docs DISABLE TRIGGER USER;
ALTER TABLE trust.docs ENABLE TRIGGER USER;
ALTER TABLE trust.docs ENABLE REPLICA TRIGGER schemaguard_audit_update;
ALTER TABLE trust.docs ENABLE TRIGGER schemaguard_audit_update;
ALTER TABLE trust.docs DISABLE TRIGGER schemaguard_audit_delete, ENABLE TRIGGER schemaguard_audit_delete;
DROP TRIGGER schemaguard_audit_truncate ON trust.docs;
SELECT schemaguard.disable_audit('trust.docs');
-- a trigger of its own is not the audit's
CREATE FUNCTION trust.noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
CREATE TRIGGER mine AFTER INSERT ON trust.docs FOR EACH STATEMENT EXECUTE FUNCTION trust.noop();
ALTER TABLE trust.docs DISABLE TRIGGER mine;
RESET ROLE;
SELECT op, actor, new ->> 'statement' AS how FROM schemaguard.audit_log
 WHERE table_name = 'docs' AND op LIKE 'AUDIT %' ORDER BY id;
-- disable_audit()'s own DDL is recorded under its caller
SELECT DISTINCT role FROM schemaguard.ddl_log
 WHERE statement LIKE 'DROP TRIGGER IF EXISTS schemaguard_audit_% ON trust.docs';

-- Clean up (the guard would refuse these drops: they are populated).
SET schemaguard.mode = off;
DROP SCHEMA trust, trust_secret CASCADE;
DROP USER MAPPING FOR regress_sg_ops SERVER regress_sg_srv;
DROP SERVER regress_sg_srv;
DROP FOREIGN DATA WRAPPER regress_sg_fdw;
DROP ROLE regress_sg_dev, regress_sg_app, regress_sg_ops, regress_sg_ops2;
RESET schemaguard.mode;
