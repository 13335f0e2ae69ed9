-- lint(): the same rule engine over a script, without running it.
-- The fixture and the live-versus-lint helper sg_case() are in
-- sql/fixtures/rules.sql, shared with the rules_*.sql files.
SET lock_timeout = '5s';
-- Its tables are small: judge them as tables of any size (sql/small_tables.sql
-- tests the default schemaguard.small_table_size).
SET schemaguard.small_table_size = 0;
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/sql/fixtures/rules.sql'
\i :fixture

-- one row per finding: statement, 1-based line, rule, level, message, hint
SELECT statement, line, rule, level, message, hint
  FROM schemaguard.lint($$
-- migration 42
SET lock_timeout = '3s';

ALTER TABLE pop ADD CONSTRAINT pop_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
ALTER TABLE pop
  ALTER COLUMN note SET NOT NULL;
$$);

-- assume_populated (the default) treats existing tables as holding data;
-- false reads the real state: emp is empty
SELECT rule, message FROM schemaguard.lint('ALTER TABLE emp ALTER COLUMN note SET NOT NULL');
SELECT rule, message FROM schemaguard.lint('ALTER TABLE emp ALTER COLUMN note SET NOT NULL', false);

-- the script is simulated: a table created in the same block is new; one
-- created before counts as empty until the script writes rows into it
SELECT statement, rule FROM schemaguard.lint($$
BEGIN;
CREATE TABLE t1 (id int);
ALTER TABLE t1 ADD COLUMN a int NOT NULL;
COMMIT;
ALTER TABLE t1 ADD COLUMN b int NOT NULL;
INSERT INTO t1 VALUES (1);
ALTER TABLE t1 ADD COLUMN c int NOT NULL;
$$);

-- SET lock_timeout, SET LOCAL, RESET; lock_timeout starts at this session's
SET lock_timeout = 0;
SELECT statement, rule FROM schemaguard.lint($$
ALTER TABLE pop ADD COLUMN a int;
SET lock_timeout = '2s';
ALTER TABLE pop ADD COLUMN b int;
RESET lock_timeout;
ALTER TABLE pop ADD COLUMN c int;
BEGIN;
SET LOCAL lock_timeout = '1s';
ALTER TABLE pop ADD COLUMN d int;
COMMIT;
ALTER TABLE pop ADD COLUMN e int;
$$, true, 'psql');
SET lock_timeout = '5s';

-- NOT VALID, then VALIDATE in a later transaction, then SET NOT NULL: clean
-- when each statement runs in its own transaction (psql) ...
SELECT statement, rule FROM schemaguard.lint($$
ALTER TABLE pop ADD CONSTRAINT pop_note_nn CHECK (note IS NOT NULL) NOT VALID;
ALTER TABLE pop VALIDATE CONSTRAINT pop_note_nn;
ALTER TABLE pop ALTER COLUMN note SET NOT NULL;
$$, true, 'psql');
-- ... but the same file run as one transaction (the default runner, as
-- Prisma runs a file) validates in the transaction that added it
SELECT statement, rule FROM schemaguard.lint($$
ALTER TABLE pop ADD CONSTRAINT pop_note_nn CHECK (note IS NOT NULL) NOT VALID;
ALTER TABLE pop VALIDATE CONSTRAINT pop_note_nn;
$$);
-- ... and VALIDATE in the same block is refused
SELECT statement, rule FROM schemaguard.lint($$
BEGIN;
ALTER TABLE pop ADD CONSTRAINT pop_note_nn CHECK (note IS NOT NULL) NOT VALID;
ALTER TABLE pop VALIDATE CONSTRAINT pop_note_nn;
COMMIT;
$$);

-- allow() in the script is honoured for the rest of its block
SELECT statement, rule FROM schemaguard.lint($$
BEGIN;
SELECT schemaguard.allow('renaming-column', 'no client reads it yet');
ALTER TABLE pop RENAME COLUMN note TO memo;
COMMIT;
ALTER TABLE pop RENAME COLUMN note TO memo;
$$);

-- a table neither the catalog nor the script knows: assumed populated,
-- columns unknown, read cautiously
SELECT rule, detail FROM schemaguard.lint('ALTER TABLE ghost ALTER COLUMN a TYPE int');

-- fk-without-index is judged at the end of the transaction
SELECT statement, rule, level FROM schemaguard.lint($$
ALTER TABLE pop ADD CONSTRAINT pop_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
BEGIN;
ALTER TABLE pop ADD CONSTRAINT pop_user_fk2 FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
SELECT schemaguard.allow('require-concurrent-index-creation', 'tiny table');
CREATE INDEX pop_user_idx ON pop (user_id);
COMMIT;
$$, true, 'psql');

-- syntax errors are rows, with their line; the statements before still count
SELECT statement, line, rule, level, message FROM schemaguard.lint($$
ALTER TABLE pop ALTER COLUMN note SET NOT NULL;

SELEC 1;
$$);
SELECT statement, line, rule, message FROM schemaguard.lint('SELECT ''unterminated');
-- NULL is an error; empty and comment-only scripts give no rows
SELECT count(*) FROM schemaguard.lint(NULL);
SELECT count(*) FROM schemaguard.lint('');
SELECT count(*) FROM schemaguard.lint('-- nothing');
-- lint never executes: the table is still there, unchanged
SELECT count(*) FROM schemaguard.lint('DROP TABLE pop; TRUNCATE users CASCADE;');
SELECT count(*) FROM pop;
-- a 10 MB script
\set big 'repeat(''ALTER TABLE pop RENAME COLUMN note TO memo; -- padding padding padding padding'' || chr(10), 135000)'
SELECT octet_length(:big) AS bytes;
SELECT count(*) AS findings, max(statement) AS last_statement, max(line) AS last_line
  FROM schemaguard.lint(:big);

-- ignore comments: -- and /* */ forms, reason required, ids checked
SELECT statement, rule, message FROM schemaguard.lint($$
-- schemaguard:ignore set-not-null-without-check backfilled and verified by hand
ALTER TABLE pop ALTER COLUMN note SET NOT NULL;
/* schemaguard:ignore adding-required-field, require-lock-timeout table is empty in every environment */
ALTER TABLE pop ADD COLUMN x int NOT NULL;
-- schemaguard:ignore set-not-null-without-check
ALTER TABLE pop ALTER COLUMN note SET NOT NULL;
-- schemaguard:ignore no-such-rule because
ALTER TABLE pop ALTER COLUMN note SET NOT NULL;
$$);

-- the live hook honours the block form (psql keeps it) and logs it
BEGIN;
/* schemaguard:ignore set-not-null-without-check verified by hand */
ALTER TABLE pop ALTER COLUMN note SET NOT NULL;
ROLLBACK;
-- a comment belongs to the statement it precedes (here BEGIN)
/* schemaguard:ignore set-not-null-without-check verified by hand */
BEGIN;
ALTER TABLE pop ALTER COLUMN note SET NOT NULL;
ROLLBACK;
/* schemaguard:ignore set-not-null-without-check */ ALTER TABLE pop ALTER COLUMN note SET NOT NULL;
-- ... and the -- form when a driver sends it with the statement
DO $$
BEGIN
	EXECUTE E'-- schemaguard:ignore set-not-null-without-check verified by hand\nALTER TABLE pop ALTER COLUMN note SET NOT NULL';
	RAISE EXCEPTION USING ERRCODE = 'SGX00', MESSAGE = 'passed, rolled back';
END
$$;
-- a DBA can require allow() instead (superuser-only)
SET schemaguard.honor_ignore_comments = off;
/* schemaguard:ignore set-not-null-without-check verified by hand */ ALTER TABLE pop ALTER COLUMN note SET NOT NULL;
SELECT count(*) FROM schemaguard.lint('/* schemaguard:ignore set-not-null-without-check verified */ ALTER TABLE pop ALTER COLUMN note SET NOT NULL');
RESET schemaguard.honor_ignore_comments;
CREATE ROLE regress_sg_lint_user;
SET ROLE regress_sg_lint_user;
SET schemaguard.honor_ignore_comments = off;
SET schemaguard.default_lock_timeout = '1s';
-- and anyone may lint
SELECT count(*) FROM schemaguard.lint('ALTER TABLE pop ALTER COLUMN note SET NOT NULL');
RESET ROLE;
DROP ROLE regress_sg_lint_user;

-- rules at level off are not evaluated by lint() either; warnings say so
SELECT schemaguard.set_rule_level('set-not-null-without-check', 'warning');
SELECT rule, level FROM schemaguard.lint('ALTER TABLE pop ALTER COLUMN note SET NOT NULL');
SELECT schemaguard.set_rule_level('set-not-null-without-check', 'off');
SELECT count(*) FROM schemaguard.lint('ALTER TABLE pop ALTER COLUMN note SET NOT NULL');
SELECT schemaguard.set_rule_level('set-not-null-without-check', 'default');

-- names core refuses when it runs the statement do not make lint() raise
SELECT statement, rule FROM schemaguard.lint($$
DROP TABLE a.b.c.d;
DROP INDEX otherdb.s.i;
DROP TRIGGER t ON a.b.c.d;
ALTER TABLE pop ADD COLUMN z int DEFAULT a.b.c.d();
$$);
-- ... and a parse-time name error is a syntax-error row
SELECT statement, line, rule, message FROM schemaguard.lint('ALTER TABLE a.b.c.d ADD COLUMN x int');
