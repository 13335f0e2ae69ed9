-- Migrations set a lock_timeout (rule require-lock-timeout has its own tests).
SET lock_timeout = '5s';
-- Its tables are small: judge them as tables of any size (sql/small_tables.sql
-- tests the default schemaguard.small_table_size).
SET schemaguard.small_table_size = 0;
--
-- Rule levels, modes, allow() and privileges.
--
\set VERBOSITY default
CREATE TABLE lm (id int);
INSERT INTO lm SELECT generate_series(1, 10000);

-- The catalog (docs/rules.md documents each rule; test/t/012_agreement.pl
-- has a case for each): ids unique and kebab-case, every rule described,
-- levels valid, the families as documented.
SELECT count(*) > 0 AS has_rules, count(*) = count(DISTINCT rule) AS unique_ids,
       bool_and(rule ~ '^[a-z]+(-[a-z]+)*$') AS kebab_case,
       bool_and(length(description) > 20) AS described,
       bool_and(level IN ('off', 'warning', 'error')) AS levels_valid
  FROM schemaguard.rules();
SELECT string_agg(DISTINCT family, ', ' ORDER BY family) AS families FROM schemaguard.rules();
SELECT rule, family, level FROM schemaguard.rules()
 WHERE family IN ('lock', 'advice', 'migration', 'meta') ORDER BY rule;

-- levels are per database and take effect at once
SELECT schemaguard.set_rule_level('require-concurrent-index-creation', 'warning');
CREATE INDEX lm_warned ON lm (id);
SELECT schemaguard.set_rule_level('require-concurrent-index-creation', 'off');
CREATE INDEX lm_off ON lm (id);
SELECT rule, level FROM schemaguard.rules() WHERE rule LIKE '%creation';
SELECT rule, level, set_by = current_user AS set_by_me FROM schemaguard.rule_levels;
SELECT schemaguard.set_rule_level('require-concurrent-index-creation', 'default');
SELECT count(*) FROM schemaguard.rule_levels;
CREATE INDEX lm_refused ON lm (id);
-- a level set inside a transaction is rolled back with it
BEGIN;
SELECT schemaguard.set_rule_level('require-concurrent-index-creation', 'off');
ROLLBACK;
CREATE INDEX lm_refused ON lm (id);

-- bad input: unknown rule or level, NULL, huge strings
SELECT schemaguard.set_rule_level('no-such-rule', 'error');
SELECT schemaguard.set_rule_level('require-concurrent-reindex', 'fatal');
SELECT schemaguard.set_rule_level(NULL, 'error');
SELECT schemaguard.set_rule_level('require-concurrent-reindex', NULL);
SELECT schemaguard.set_rule_level(repeat('x', 100000), 'error');
INSERT INTO schemaguard.rule_levels VALUES ('require-concurrent-reindex', 'loud', 'x', 'epoch');

-- warn mode: every error becomes a WARNING and the statement runs
SET schemaguard.mode = warn;
CREATE INDEX lm_warn_mode ON lm (id);
SET schemaguard.mode = off;
CREATE INDEX lm_mode_off ON lm (id);
RESET schemaguard.mode;
SHOW schemaguard.mode;
SET schemaguard.mode = loud;
SET schemaguard.no_such_setting = 1;

-- allow(): the rest of this transaction block only
SELECT schemaguard.allow('require-concurrent-index-creation', 'quiet hour');
BEGIN;
SELECT schemaguard.allow('require-concurrent-index-creation', 'lm is read only by the nightly job');
CREATE INDEX lm_allowed ON lm (id);
CREATE INDEX lm_allowed2 ON lm (id);
COMMIT;
CREATE INDEX lm_expired ON lm (id);
-- it covers only the rule it names
BEGIN;
SELECT schemaguard.allow('require-concurrent-reindex', 'reindex only');
CREATE INDEX lm_other_rule ON lm (id);
ROLLBACK;
-- a grant made in a rolled-back savepoint is gone
BEGIN;
SAVEPOINT s;
SELECT schemaguard.allow('require-concurrent-index-creation', 'in a savepoint');
ROLLBACK TO s;
CREATE INDEX lm_savepoint ON lm (id);
ROLLBACK;
-- bad input
BEGIN;
SELECT schemaguard.allow('require-concurrent-index-creation', '   ');
ROLLBACK;
BEGIN;
SELECT schemaguard.allow('require-concurrent-index-creationn', 'typo');
ROLLBACK;
BEGIN;
SELECT schemaguard.allow('require-concurrent-index-creation', NULL);
ROLLBACK;
BEGIN;
SELECT schemaguard.allow(NULL, 'why');
ROLLBACK;
BEGIN;
SELECT schemaguard.allow('require-concurrent-index-creation', repeat('x', 2000));
ROLLBACK;

-- privileges: an ordinary role can neither allow, set levels nor turn it off
CREATE ROLE regress_sg_app;
CREATE ROLE regress_sg_other;
GRANT CREATE ON SCHEMA public TO regress_sg_app, regress_sg_other;
SET ROLE regress_sg_app;
CREATE TABLE app_t (id int);
INSERT INTO app_t SELECT generate_series(1, 10000);
BEGIN;
SELECT schemaguard.allow('require-concurrent-index-creation', 'not granted');
ROLLBACK;
SELECT schemaguard.set_rule_level('require-concurrent-index-creation', 'off');
SET schemaguard.mode = off;
SET schemaguard.mode = warn;
CREATE INDEX app_t_id ON app_t (id);
RESET ROLE;
-- a DBA grants allow() to the migration role
GRANT EXECUTE ON FUNCTION schemaguard.allow(text, text) TO regress_sg_app;
SET ROLE regress_sg_app;
BEGIN;
SELECT schemaguard.allow('require-concurrent-index-creation', 'granted to the migration role');
CREATE INDEX app_t_id ON app_t (id);
COMMIT;
RESET ROLE;
-- and can delegate set_rule_level() the same way
GRANT EXECUTE ON FUNCTION schemaguard.set_rule_level(text, text) TO regress_sg_app;
SET ROLE regress_sg_app;
SELECT schemaguard.set_rule_level('require-concurrent-reindex', 'warning');
SELECT schemaguard.set_rule_level('require-concurrent-reindex', 'default');
RESET ROLE;
-- a non-owner gets core's own error, and we queue no lock for it
SET ROLE regress_sg_other;
CREATE INDEX other_id ON app_t (id);
DROP INDEX app_t_id;
RESET ROLE;

-- schemaguard.hint_in_message: for clients that print only the message
-- (dbmate on lib/pq): the detail and hint follow it, and are still sent
SET schemaguard.hint_in_message = on;
CREATE INDEX lm_id ON lm (id);
-- several rules refusing one statement: one message, then every detail and hint
ALTER TABLE lm ADD COLUMN c int NOT NULL, ADD CONSTRAINT lm_pos CHECK (id > 0);
RESET schemaguard.hint_in_message;
-- any role may set it: it weakens nothing
SET ROLE regress_sg_other;
SET schemaguard.hint_in_message = on;
RESET schemaguard.hint_in_message;
RESET ROLE;

-- cleanup: never staged (staged-drop is tested in staged_drops.sql)
BEGIN;
SELECT schemaguard.allow('staged-drop', 'test cleanup');
DROP TABLE lm, app_t;
COMMIT;
REVOKE CREATE ON SCHEMA public FROM regress_sg_app, regress_sg_other;
REVOKE EXECUTE ON FUNCTION schemaguard.allow(text, text) FROM regress_sg_app;
REVOKE EXECUTE ON FUNCTION schemaguard.set_rule_level(text, text) FROM regress_sg_app;
DROP ROLE regress_sg_app, regress_sg_other;
