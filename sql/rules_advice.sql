-- The advice family: warnings by default, never about locks.  fk-without-index
-- is in rules_constraint.sql (it shares the constraint fixtures).
SET lock_timeout = '5s';

-- ban-char-field: a column of type character(n), in a new table, an added
-- column or a type change, whatever the table holds; the script runs live
-- (a WARNING per column) and is linted (the same rules).  varchar, text, the
-- one-byte "char" and an array of character pass.
\set VERBOSITY default
\set char_script 'CREATE TABLE adv_codes (id int, code char(3), name varchar(10), flag "char", tags character(2)[]); ALTER TABLE adv_codes ADD COLUMN country character(2); ALTER TABLE adv_codes ALTER COLUMN name TYPE character; CREATE TABLE adv_ok (id int, code text);'
BEGIN;
:char_script
ROLLBACK;
SELECT statement, rule, level, message, hint FROM schemaguard.lint(:'char_script', false);
-- off like any rule
SELECT schemaguard.set_rule_level('ban-char-field', 'off');
SELECT count(*) AS findings FROM schemaguard.lint(:'char_script', false) WHERE rule = 'ban-char-field';
SELECT schemaguard.set_rule_level('ban-char-field', 'default');
