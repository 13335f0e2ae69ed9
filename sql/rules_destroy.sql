-- Destruction (see rules_constraint.sql for the pattern).  ban-drop-database
-- is shown in transparency.sql (DROP DATABASE cannot run in a function).
SET lock_timeout = '5s';
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/sql/fixtures/rules.sql'
\i :fixture
SELECT rule, message FROM schemaguard.lint('DROP DATABASE production');

-- ban-truncate-cascade
CREATE TABLE child (id int, user_id bigint REFERENCES users (id));
TRUNCATE users CASCADE;
SELECT c.* FROM (VALUES
	('truncate cascade', NULL, 'TRUNCATE users CASCADE'),
	('safe: name every table', NULL, 'TRUNCATE users, child, pop'),
	('new table', 'CREATE TABLE fresh AS SELECT 1 AS a', 'TRUNCATE fresh CASCADE'),
	('empty table', NULL, 'TRUNCATE emp CASCADE')
) v(label, setup, stmt), LATERAL sg_case(v.label, v.setup, v.stmt) c;

-- ban-drop-cascade
CREATE SCHEMA sg_full;
CREATE TABLE sg_full.t AS SELECT generate_series(1, 100) AS id;
CREATE SCHEMA sg_empty;
CREATE TABLE sg_empty.t (id int);
CREATE TYPE mood AS ENUM ('ok', 'meh');
CREATE TABLE feelings (id int, m mood);
INSERT INTO feelings VALUES (1, 'ok');
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
ALTER TABLE emp ADD COLUMN p posint;
DROP SCHEMA sg_full CASCADE;
DROP TYPE mood CASCADE;
SELECT c.* FROM (VALUES
	('schema with data', NULL, 'DROP SCHEMA sg_full CASCADE'),
	('type used by populated table', NULL, 'DROP TYPE mood CASCADE'),
	('safe: without cascade (core refuses)', NULL, 'DROP SCHEMA sg_full'),
	('new schema', 'CREATE SCHEMA sg_new; CREATE TABLE sg_new.t AS SELECT 1 AS a', 'DROP SCHEMA sg_new CASCADE'),
	('empty schema', NULL, 'DROP SCHEMA sg_empty CASCADE'),
	('domain used by empty table', NULL, 'DROP DOMAIN posint CASCADE')
) v(label, setup, stmt), LATERAL sg_case(v.label, v.setup, v.stmt) c;
DROP SCHEMA sg_empty CASCADE;
DROP DOMAIN posint CASCADE;
