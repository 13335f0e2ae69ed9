-- The column family (see rules_constraint.sql for the pattern).
SET lock_timeout = '5s';
-- Its tables are small: judge them as tables of any size (sql/small_tables.sql
-- tests the default schemaguard.small_table_size).
SET schemaguard.small_table_size = 0;
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/sql/fixtures/rules.sql'
\i :fixture
\set new_table 'CREATE TABLE fresh (LIKE pop INCLUDING ALL); INSERT INTO fresh SELECT * FROM pop'

-- adding-required-field
ALTER TABLE pop ADD COLUMN region text NOT NULL;
SELECT c.* FROM (VALUES
	('not null, no default', NULL, 'ALTER TABLE pop ADD COLUMN region text NOT NULL'),
	('safe: constant default', NULL, 'ALTER TABLE pop ADD COLUMN region text NOT NULL DEFAULT ''eu'''),
	('safe: nullable', NULL, 'ALTER TABLE pop ADD COLUMN region text'),
	('new table', :'new_table', 'ALTER TABLE fresh ADD COLUMN region text NOT NULL'),
	('empty table', NULL, 'ALTER TABLE emp ADD COLUMN region text NOT NULL')
) v(label, setup, stmt), LATERAL sg_case(v.label, v.setup, v.stmt) c;

-- adding-field-with-volatile-default
ALTER TABLE pop ADD COLUMN token uuid DEFAULT gen_random_uuid();
ALTER TABLE pop ADD COLUMN seq bigserial;
SELECT c.* FROM (VALUES
	('random()', NULL, 'ALTER TABLE pop ADD COLUMN r float8 DEFAULT random()'),
	('clock_timestamp()', NULL, 'ALTER TABLE pop ADD COLUMN t timestamptz DEFAULT clock_timestamp()'),
	('gen_random_uuid()', NULL, 'ALTER TABLE pop ADD COLUMN u uuid DEFAULT gen_random_uuid()'),
	('serial', NULL, 'ALTER TABLE pop ADD COLUMN s serial'),
	('bigserial', NULL, 'ALTER TABLE pop ADD COLUMN s bigserial'),
	('identity', NULL, 'ALTER TABLE pop ADD COLUMN s bigint GENERATED ALWAYS AS IDENTITY'),
	('generated stored', NULL, 'ALTER TABLE pop ADD COLUMN g numeric GENERATED ALWAYS AS (amount * 2) STORED'),
	('safe: now()', NULL, 'ALTER TABLE pop ADD COLUMN t timestamptz DEFAULT now()'),
	('safe: literal', NULL, 'ALTER TABLE pop ADD COLUMN n int DEFAULT 42'),
	('new table', :'new_table', 'ALTER TABLE fresh ADD COLUMN u uuid DEFAULT gen_random_uuid()'),
	('empty table', NULL, 'ALTER TABLE emp ADD COLUMN u uuid DEFAULT gen_random_uuid()')
) v(label, setup, stmt), LATERAL sg_case(v.label, v.setup, v.stmt) c;

-- changing-column-type: core's own rewrite decision
ALTER TABLE pop ALTER COLUMN note TYPE varchar(10);
ALTER TABLE pop ALTER COLUMN big TYPE int;
SELECT c.* FROM (VALUES
	('varchar(20) to varchar(10)', NULL, 'ALTER TABLE pop ALTER COLUMN note TYPE varchar(10)'),
	('bigint to int', NULL, 'ALTER TABLE pop ALTER COLUMN big TYPE int'),
	('numeric scale change', NULL, 'ALTER TABLE pop ALTER COLUMN amount TYPE numeric(12,3)'),
	('timestamptz to timestamp', NULL, 'ALTER TABLE pop ALTER COLUMN at TYPE timestamp'),
	('USING expression', NULL, 'ALTER TABLE pop ALTER COLUMN note TYPE text USING upper(note)'),
	('safe: varchar(20) to varchar(40)', NULL, 'ALTER TABLE pop ALTER COLUMN note TYPE varchar(40)'),
	('safe: varchar to text', NULL, 'ALTER TABLE pop ALTER COLUMN note TYPE text'),
	('safe: numeric(10,2) to numeric(12,2)', NULL, 'ALTER TABLE pop ALTER COLUMN amount TYPE numeric(12,2)'),
	('safe: numeric(10,2) to numeric', NULL, 'ALTER TABLE pop ALTER COLUMN amount TYPE numeric'),
	('safe: USING the column', NULL, 'ALTER TABLE pop ALTER COLUMN note TYPE text USING note::text'),
	('new table', :'new_table', 'ALTER TABLE fresh ALTER COLUMN big TYPE int'),
	('empty table', NULL, 'ALTER TABLE emp ALTER COLUMN big TYPE int'),
	('missing type: core says so', NULL, 'ALTER TABLE pop ALTER COLUMN big TYPE no_such_type')
) v(label, setup, stmt), LATERAL sg_case(v.label, v.setup, v.stmt) c;

-- renaming-column and renaming-table
ALTER TABLE pop RENAME COLUMN note TO memo;
ALTER TABLE pop RENAME TO orders;
SELECT c.* FROM (VALUES
	('rename column', NULL, 'ALTER TABLE pop RENAME COLUMN note TO memo'),
	('rename table', NULL, 'ALTER TABLE pop RENAME TO orders'),
	('new table: column', :'new_table', 'ALTER TABLE fresh RENAME COLUMN note TO memo'),
	('new table: table', :'new_table', 'ALTER TABLE fresh RENAME TO fresher'),
	('empty table: column', NULL, 'ALTER TABLE emp RENAME COLUMN note TO memo'),
	('empty table: table', NULL, 'ALTER TABLE emp RENAME TO emp2')
) v(label, setup, stmt), LATERAL sg_case(v.label, v.setup, v.stmt) c;

-- adding-json-column (a warning): json has no equality operator.  An existing
-- table warns, populated or empty; a domain over json counts; jsonb, a table
-- created in the transaction, and a type of another schema called json pass.
\set VERBOSITY default
CREATE SCHEMA lookalike;
CREATE DOMAIN lookalike.json AS text;
CREATE DOMAIN doc_json AS json;
\set json_script 'ALTER TABLE pop ADD COLUMN doc json; ALTER TABLE emp ADD COLUMN doc doc_json; ALTER TABLE pop ADD COLUMN doc2 jsonb; ALTER TABLE pop ADD COLUMN doc3 lookalike.json; CREATE TABLE fresh_json (id int); ALTER TABLE fresh_json ADD COLUMN doc json;'
BEGIN;
:json_script
ROLLBACK;
SELECT statement, rule, level, message, hint FROM schemaguard.lint(:'json_script', false);
DROP DOMAIN doc_json;
SET client_min_messages = warning;
DROP SCHEMA lookalike CASCADE;
RESET client_min_messages;
\set VERBOSITY terse
