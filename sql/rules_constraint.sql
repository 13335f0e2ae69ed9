-- The constraint family: each rule fires on a populated table (shown live,
-- with its hint), and stays silent on the safe form, a new table and an
-- empty table; sg_case() (lint.sql) runs every case live and through lint().
SET lock_timeout = '5s';
-- Its tables are small: judge them as tables of any size (sql/small_tables.sql
-- tests the default schemaguard.small_table_size).
SET schemaguard.small_table_size = 0;
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixture :abs_srcdir '/sql/fixtures/rules.sql'
\i :fixture
\set new_table 'CREATE TABLE fresh (LIKE pop INCLUDING ALL); INSERT INTO fresh SELECT * FROM pop'

-- constraint-missing-not-valid
ALTER TABLE pop ADD CONSTRAINT pop_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
ALTER TABLE pop ADD CONSTRAINT pop_amount_positive CHECK (amount > 0);
ALTER TABLE pop ADD COLUMN owner_id bigint REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE pop ADD FOREIGN KEY (user_id) REFERENCES users (id);
SELECT c.* FROM (VALUES
	('fk on populated', NULL, 'ALTER TABLE pop ADD CONSTRAINT pop_user_fk FOREIGN KEY (user_id) REFERENCES users (id)'),
	('check on populated', NULL, 'ALTER TABLE pop ADD CONSTRAINT pop_amount_positive CHECK (amount > 0)'),
	('add column references', NULL, 'ALTER TABLE pop ADD COLUMN owner_id bigint REFERENCES users (id)'),
	('safe: fk NOT VALID', NULL, 'ALTER TABLE pop ADD CONSTRAINT pop_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID'),
	('safe: check NOT VALID', NULL, 'ALTER TABLE pop ADD CONSTRAINT pop_amount_positive CHECK (amount > 0) NOT VALID'),
	('new table', :'new_table', 'ALTER TABLE fresh ADD CONSTRAINT f_fk FOREIGN KEY (user_id) REFERENCES users (id)'),
	('empty table', NULL, 'ALTER TABLE emp ADD CONSTRAINT emp_fk FOREIGN KEY (user_id) REFERENCES users (id)')
) v(label, setup, stmt), LATERAL sg_case(v.label, v.setup, v.stmt) c;

-- validate-in-same-transaction
BEGIN;
ALTER TABLE pop ADD CONSTRAINT pop_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE pop VALIDATE CONSTRAINT pop_user_fk;
ROLLBACK;
ALTER TABLE pop ADD CONSTRAINT pop_user_positive CHECK (user_id > 0) NOT VALID;
SELECT c.* FROM (VALUES
	('validate after add', 'ALTER TABLE pop ADD CONSTRAINT pop_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID',
	 'ALTER TABLE pop VALIDATE CONSTRAINT pop_user_fk'),
	('safe: added earlier', NULL, 'ALTER TABLE pop VALIDATE CONSTRAINT pop_user_positive'),
	('new table', :'new_table' || '; ALTER TABLE fresh ADD CONSTRAINT f_pos CHECK (id > 0) NOT VALID',
	 'ALTER TABLE fresh VALIDATE CONSTRAINT f_pos'),
	('empty table', 'ALTER TABLE emp ADD CONSTRAINT e_pos CHECK (id > 0) NOT VALID',
	 'ALTER TABLE emp VALIDATE CONSTRAINT e_pos')
) v(label, setup, stmt), LATERAL sg_case(v.label, v.setup, v.stmt) c;
ALTER TABLE pop DROP CONSTRAINT pop_user_positive;

-- unique-constraint-without-index
ALTER TABLE pop ADD CONSTRAINT pop_note_key UNIQUE (note);
ALTER TABLE pop ADD CONSTRAINT pop_id_note_key UNIQUE (id, note);
ALTER TABLE pop ADD COLUMN code int UNIQUE;
CREATE UNIQUE INDEX CONCURRENTLY pop_note_uidx ON pop (note);
SELECT c.* FROM (VALUES
	('unique on populated', NULL, 'ALTER TABLE pop ADD CONSTRAINT pop_note_key UNIQUE (note)'),
	('inline unique', NULL, 'ALTER TABLE pop ADD COLUMN code int UNIQUE'),
	('safe: USING INDEX', NULL, 'ALTER TABLE pop ADD CONSTRAINT pop_note_key UNIQUE USING INDEX pop_note_uidx'),
	('new table', :'new_table', 'ALTER TABLE fresh ADD CONSTRAINT f_note_key UNIQUE (note)'),
	('empty table', NULL, 'ALTER TABLE emp ADD CONSTRAINT emp_note_key UNIQUE (note)')
) v(label, setup, stmt), LATERAL sg_case(v.label, v.setup, v.stmt) c;
DROP INDEX CONCURRENTLY pop_note_uidx;

-- exclusion-constraint-on-existing-table (no safe form: allow())
ALTER TABLE pop ADD CONSTRAINT pop_excl EXCLUDE USING btree (id WITH =);
BEGIN;
SELECT c.* FROM (VALUES
	('exclude on populated', NULL, 'ALTER TABLE pop ADD CONSTRAINT pop_excl EXCLUDE USING btree (id WITH =)'),
	('allowed', 'SELECT schemaguard.allow(''exclusion-constraint-on-existing-table'', ''maintenance window'')',
	 'ALTER TABLE pop ADD CONSTRAINT pop_excl EXCLUDE USING btree (id WITH =)'),
	('new table', :'new_table', 'ALTER TABLE fresh ADD CONSTRAINT f_excl EXCLUDE USING btree (id WITH =)'),
	('empty table', NULL, 'ALTER TABLE emp ADD CONSTRAINT e_excl EXCLUDE USING btree (id WITH =)')
) v(label, setup, stmt), LATERAL sg_case(v.label, v.setup, v.stmt) c;
ROLLBACK;

-- set-not-null-without-check
ALTER TABLE pop ALTER COLUMN note SET NOT NULL;
-- the safe sequence, each step in its own transaction
ALTER TABLE pop ADD CONSTRAINT pop_at_not_null CHECK (at IS NOT NULL) NOT VALID;
ALTER TABLE pop VALIDATE CONSTRAINT pop_at_not_null;
SELECT c.* FROM (VALUES
	('set not null on populated', NULL, 'ALTER TABLE pop ALTER COLUMN note SET NOT NULL'),
	('safe: validated check', NULL, 'ALTER TABLE pop ALTER COLUMN at SET NOT NULL'),
	('already not null', NULL, 'ALTER TABLE pop ALTER COLUMN id SET NOT NULL'),
	('new table', :'new_table', 'ALTER TABLE fresh ALTER COLUMN note SET NOT NULL'),
	('empty table', NULL, 'ALTER TABLE emp ALTER COLUMN note SET NOT NULL')
) v(label, setup, stmt), LATERAL sg_case(v.label, v.setup, v.stmt) c;
ALTER TABLE pop ALTER COLUMN at SET NOT NULL;
ALTER TABLE pop DROP CONSTRAINT pop_at_not_null;
ALTER TABLE pop ALTER COLUMN at DROP NOT NULL;

-- fk-without-index (advice, level warning): judged at COMMIT, so an index
-- created later in the same transaction counts
BEGIN;
ALTER TABLE pop ADD CONSTRAINT pop_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
COMMIT;
ALTER TABLE pop DROP CONSTRAINT pop_user_fk;
BEGIN;
ALTER TABLE pop ADD CONSTRAINT pop_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
SELECT schemaguard.allow('require-concurrent-index-creation', 'regression test');
CREATE INDEX pop_user_idx ON pop (user_id);
COMMIT;
ALTER TABLE pop DROP CONSTRAINT pop_user_fk;
DROP INDEX CONCURRENTLY pop_user_idx;
-- a savepoint rolled back takes its deferred finding with it
BEGIN;
SAVEPOINT s;
ALTER TABLE pop ADD CONSTRAINT pop_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ROLLBACK TO s;
COMMIT;
-- at level error the COMMIT itself fails
SELECT schemaguard.set_rule_level('fk-without-index', 'error');
BEGIN;
ALTER TABLE pop ADD CONSTRAINT pop_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
COMMIT;
SELECT schemaguard.set_rule_level('fk-without-index', 'default');
SELECT conname FROM pg_constraint WHERE conrelid = 'pop'::regclass AND contype = 'f';
-- lint agrees: a warning for the first, nothing for the second
SELECT statement, rule, level FROM schemaguard.lint($$
BEGIN;
ALTER TABLE pop ADD CONSTRAINT pop_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
COMMIT;
BEGIN;
ALTER TABLE pop ADD CONSTRAINT pop_user_fk2 FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
SELECT schemaguard.allow('require-concurrent-index-creation', 'regression test');
CREATE INDEX pop_user_idx ON pop (user_id);
COMMIT;
$$, false);
