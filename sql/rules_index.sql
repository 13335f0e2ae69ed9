-- The index family (its messages shown live in index_family_live.sql), live and through lint().
SET lock_timeout = '5s';
-- Its tables are small: judge them as tables of any size (sql/small_tables.sql
-- tests the default schemaguard.small_table_size).
SET schemaguard.small_table_size = 0;
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/sql/fixtures/rules.sql'
\i :fixture
\set new_table 'CREATE TABLE fresh (LIKE pop INCLUDING ALL); INSERT INTO fresh SELECT * FROM pop'
SELECT c.* FROM (VALUES
	('create index on populated', NULL, 'CREATE INDEX pop_note_idx ON pop (note)'),
	('create unique index', NULL, 'CREATE UNIQUE INDEX pop_note_idx ON pop (note)'),
	('safe: concurrently (core: not in a block)', NULL, 'CREATE INDEX CONCURRENTLY pop_note_idx ON pop (note)'),
	('new table: create', :'new_table', 'CREATE INDEX fresh_note_idx ON fresh (note)'),
	('empty table: create', NULL, 'CREATE INDEX emp_note_idx ON emp (note)'),
	('drop index on populated', NULL, 'DROP INDEX pop_pkey'),
	('safe: drop concurrently (core: not in a block)', NULL, 'DROP INDEX CONCURRENTLY pop_pkey'),
	('empty table: drop', 'CREATE INDEX emp_note_i ON emp (note)', 'DROP INDEX emp_note_i'),
	('new table: drop', :'new_table' || '; CREATE INDEX fresh_note_idx ON fresh (note)', 'DROP INDEX fresh_note_idx'),
	('reindex table', NULL, 'REINDEX TABLE pop'),
	('reindex index', NULL, 'REINDEX INDEX pop_pkey'),
	('safe: reindex concurrently (core: not in a block)', NULL, 'REINDEX TABLE CONCURRENTLY pop'),
	('new table: reindex', :'new_table', 'REINDEX TABLE fresh'),
	('empty table: reindex', NULL, 'REINDEX TABLE emp')
) v(label, setup, stmt), LATERAL sg_case(v.label, v.setup, v.stmt) c;
