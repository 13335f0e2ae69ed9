--
-- Staged drops: stage_drop(), unstage_drop(), the staged_drops view, usage
-- tracking, and rule staged-drop.
--
SET lock_timeout = '5s';
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/sql/fixtures/rules.sql'
\i :fixture
SELECT schemaguard.set_rule_level('staged-drop', 'default');
SET DateStyle = ISO;

-- Refusals, with their timestamps and small durations masked.
CREATE FUNCTION try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	m text; d text; h text;
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
	RETURN regexp_replace(regexp_replace(
		m || E'\nDETAIL: ' || coalesce(d, '') || E'\nHINT: ' || coalesce(h, ''),
		'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?[+-]\d\d', 'TIMESTAMP', 'g'),
		'\m\d+ seconds?', 'N seconds', 'g');
END $$;

-- The timestamps a refusal's detail names, each as the distance from the
-- first one (every timestamp its own, not one repeated).
CREATE FUNCTION try_times(sql text) RETURNS interval[] LANGUAGE plpgsql AS $$
DECLARE
	d text;
	t timestamptz[];
BEGIN
	EXECUTE sql;
	RETURN NULL;
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
	SELECT array_agg(m[1]::timestamptz ORDER BY n) INTO t
	  FROM regexp_matches(d, '(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?[+-]\d\d)', 'g') WITH ORDINALITY AS r(m, n);
	RETURN (SELECT array_agg(x - t[1] ORDER BY i) FROM unnest(t) WITH ORDINALITY AS u(x, i));
END $$;

-- What the view shows, without the moving parts.
CREATE VIEW staged AS
SELECT object, column_name, staged_by, reason, use_count, last_used_by, state,
	tracking_since = greatest(staged_at, pg_postmaster_start_time()) AS tracking_ok,
	droppable_at - greatest(tracking_since, last_used_at) AS wait
FROM schemaguard.staged_drops;

CREATE ROLE regress_sg_staged_app;
CREATE TABLE members (id int PRIMARY KEY, name text, legacy text, note text);
INSERT INTO members SELECT g, 'n' || g, 'l', 'x' FROM generate_series(1, 100) g;
GRANT SELECT, INSERT, UPDATE, DELETE ON members TO regress_sg_staged_app;
CREATE TABLE audit_old (id int, at timestamptz);
INSERT INTO audit_old SELECT g, now() FROM generate_series(1, 10) g;
CREATE MATERIALIZED VIEW member_names AS SELECT name FROM members;

-- Not staged: refused, and the hint is the stage_drop() call.
SELECT try('ALTER TABLE members DROP COLUMN legacy');
SELECT try('DROP TABLE audit_old');
SELECT try('DROP MATERIALIZED VIEW member_names');

-- Staging is idempotent; a second call keeps the first staging time.
SELECT schemaguard.stage_drop('members', 'legacy', 'moved to profiles (PR 812)');
SELECT schemaguard.stage_drop('members', 'legacy');
SELECT schemaguard.stage_drop('audit_old');
SELECT schemaguard.stage_drop('member_names', reason => 'replaced by a view');
SELECT * FROM staged ORDER BY object::text, column_name;

-- Staged and dropped in one transaction: refused.
BEGIN;
SELECT schemaguard.stage_drop('members', 'note');
SELECT try('ALTER TABLE members DROP COLUMN note');
ROLLBACK;

-- With drop_delay 0, staging in an earlier transaction is enough.
SELECT try('DROP MATERIALIZED VIEW member_names');
SELECT count(*) AS rows_left FROM schemaguard.drop_stages WHERE relid::text = 'member_names';

-- drop_delay: waiting, then droppable.
SET schemaguard.drop_delay = '1 hour';
SELECT try('ALTER TABLE members DROP COLUMN legacy');
-- tracked since T, droppable at T + 1 hour
SELECT try_times('ALTER TABLE members DROP COLUMN legacy');
SELECT object, column_name, state FROM schemaguard.staged_drops ORDER BY object::text, column_name;

-- A staged column that is still read: refused, naming the reader.
UPDATE schemaguard.drop_stages SET staged_at = now() - interval '2 hours';
SET application_name = 'web';
SET ROLE regress_sg_staged_app;
SELECT legacy FROM members WHERE id = 1;
RESET ROLE;
RESET application_name;
SELECT try('ALTER TABLE members DROP COLUMN legacy');
-- used since T, last used at U, droppable at U + 1 hour
SELECT t[3] - t[2] AS wait_after_last_use, t[2] > t[1] AS used_after_tracking
  FROM try_times('ALTER TABLE members DROP COLUMN legacy') t;
SELECT object, column_name, use_count, last_used_by, state FROM schemaguard.staged_drops
ORDER BY object::text, column_name;
-- SELECT * reaches it too, and a write is reported as a write.
SET ROLE regress_sg_staged_app;
SELECT count(*) FROM (SELECT * FROM members) u;
UPDATE members SET legacy = 'y' WHERE id = 2;
RESET ROLE;
SELECT try('ALTER TABLE members DROP COLUMN legacy');
SELECT use_count FROM schemaguard.staged_drops WHERE column_name = 'legacy';
-- Queries that do not touch the column do not count.
SELECT id, name FROM members WHERE id = 3;
INSERT INTO members (id, name) VALUES (1000, 'n');
SELECT use_count FROM schemaguard.staged_drops WHERE column_name = 'legacy';

-- A table staged as a whole: any use counts, DELETE included.
DELETE FROM audit_old WHERE id = 1;
SELECT try('DROP TABLE audit_old');

-- The escape hatch.
BEGIN;
SELECT schemaguard.allow('staged-drop', 'column verified unused in every service by hand');
ALTER TABLE members DROP COLUMN legacy;
COMMIT;
-- A dropped object's staging row goes with it.
SELECT count(*) AS rows_for_legacy FROM schemaguard.drop_stages WHERE attname = 'legacy';

-- Renames keep the staging (it is keyed by OID and attnum).
SELECT schemaguard.stage_drop('members', 'note');
BEGIN;
SELECT schemaguard.allow('renaming-column', 'test'), schemaguard.allow('renaming-table', 'test');
ALTER TABLE members RENAME COLUMN note TO old_note;
ALTER TABLE audit_old RENAME TO audit_older;
COMMIT;
SELECT object, column_name FROM schemaguard.staged_drops ORDER BY object::text, column_name;
SELECT attname FROM schemaguard.drop_stages WHERE attnum > 0;

-- Unstaging is idempotent.
SELECT schemaguard.unstage_drop('members', 'old_note');
SELECT schemaguard.unstage_drop('members', 'old_note');
SELECT try('ALTER TABLE members DROP COLUMN old_note');

-- After the delay with no use: droppable.
SET schemaguard.drop_delay = '1 second';
SELECT pg_sleep(1.2);
SELECT object, state FROM schemaguard.staged_drops;
-- Several tables in one DROP: each counts.
SELECT try('DROP TABLE audit_older, members');
DROP TABLE audit_older;
SELECT count(*) AS staged_left FROM schemaguard.drop_stages;

-- Exempt: empty tables, tables created in this transaction, temporary tables.
CREATE TABLE empty_one (id int);
DROP TABLE empty_one;
BEGIN;
CREATE TABLE fresh (id int);
INSERT INTO fresh VALUES (1);
DROP TABLE fresh;
COMMIT;
CREATE TEMP TABLE scratch AS SELECT 1 AS id;
DROP TABLE scratch;

-- Bad input.
SELECT schemaguard.stage_drop(NULL);
SELECT schemaguard.stage_drop('members', 'no_such_column');
SELECT schemaguard.stage_drop('pg_class');
SELECT schemaguard.stage_drop('members_pkey');
CREATE VIEW members_view AS SELECT id FROM members;
SELECT schemaguard.stage_drop('members_view');
SELECT schemaguard.stage_drop('member_names_missing');
SELECT schemaguard.stage_drop('members', 'name', repeat('x', 2000));
SELECT schemaguard.stage_drop('members', 'ctid');
SET schemaguard.drop_delay = 'soon';
SET schemaguard.drop_delay = '-5 minutes';
-- Only the owner may stage, and EXECUTE is not granted to PUBLIC.
SELECT has_function_privilege('public', 'schemaguard.stage_drop(regclass, name, text)', 'EXECUTE');
GRANT EXECUTE ON FUNCTION schemaguard.stage_drop(regclass, name, text) TO regress_sg_staged_app;
SET ROLE regress_sg_staged_app;
SELECT schemaguard.stage_drop('members', 'name');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION schemaguard.stage_drop(regclass, name, text) FROM regress_sg_staged_app;

-- lint(): staging and dropping in one script is refused; a drop of what the
-- catalog has staged long enough is not.
SET schemaguard.drop_delay = '0';
SELECT schemaguard.stage_drop('members', 'name');
SELECT statement, rule, message FROM schemaguard.lint($$
SELECT schemaguard.stage_drop('members', 'id');
ALTER TABLE members DROP COLUMN id;
ALTER TABLE members DROP COLUMN name;
DROP TABLE members;
$$, false);

-- Live and lint() agree (sg_case() and the fixture tables come from lint.sql).
SET schemaguard.drop_delay = '0';
SELECT schemaguard.stage_drop('pop', 'user_id');
SELECT c.* FROM (VALUES
	('not staged: column', NULL, 'ALTER TABLE pop DROP COLUMN note'),
	('not staged: table', NULL, 'DROP TABLE pop CASCADE'),
	('staged in the same transaction', 'SELECT schemaguard.stage_drop(''pop'', ''note'')',
	 'ALTER TABLE pop DROP COLUMN note'),
	('staged earlier', NULL, 'ALTER TABLE pop DROP COLUMN user_id'),
	('new table', 'CREATE TABLE fresh_sd AS SELECT 1 AS a', 'DROP TABLE fresh_sd'),
	('empty table', NULL, 'DROP TABLE emp CASCADE')
) v(label, setup, stmt), LATERAL sg_case(v.label, v.setup, v.stmt) c;
SELECT schemaguard.unstage_drop('pop', 'user_id');

DROP VIEW members_view;
DROP VIEW staged;
SELECT schemaguard.unstage_drop('members', 'name');
BEGIN;
SELECT schemaguard.allow('staged-drop', 'test cleanup');
DROP TABLE members;
COMMIT;
DROP FUNCTION try(text);
DROP FUNCTION try_times(text);
DROP ROLE regress_sg_staged_app;
