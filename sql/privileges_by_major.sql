-- Migrations set a lock_timeout (rule require-lock-timeout has its own tests).
SET lock_timeout = '5s';
-- Its tables are small: judge them as tables of any size (sql/small_tables.sql
-- tests the default schemaguard.small_table_size).
SET schemaguard.small_table_size = 0;
--
-- Core's permission rules for maintenance DDL differ by major: PostgreSQL 17
-- added the MAINTAIN privilege.  expected/privileges_by_major.out is for
-- 15 and 16, privileges_by_major_1.out for 17 and later.
--
\set VERBOSITY default
SELECT CASE WHEN current_setting('server_version_num')::int >= 170000
	THEN 'PostgreSQL 17 or later' ELSE 'PostgreSQL 15 or 16' END AS major;
CREATE ROLE regress_sg_owner;
CREATE ROLE regress_sg_stranger;
GRANT CREATE ON SCHEMA public TO regress_sg_owner;
SET ROLE regress_sg_owner;
CREATE TABLE owned (id int);
INSERT INTO owned SELECT generate_series(1, 10000);
CREATE INDEX CONCURRENTLY owned_id ON owned (id);
RESET ROLE;

-- a stranger gets core's own error
SET ROLE regress_sg_stranger;
REINDEX TABLE owned;
REINDEX INDEX owned_id;
RESET ROLE;

-- with MAINTAIN (17 and later) the stranger may REINDEX, and is guarded
GRANT MAINTAIN ON owned TO regress_sg_stranger;
SET ROLE regress_sg_stranger;
REINDEX TABLE owned;
REINDEX TABLE CONCURRENTLY owned;
RESET ROLE;

-- cleanup: never staged (staged-drop is tested in staged_drops.sql)
BEGIN;
SELECT schemaguard.allow('staged-drop', 'test cleanup');
DROP TABLE owned;
COMMIT;
REVOKE CREATE ON SCHEMA public FROM regress_sg_owner;
DROP ROLE regress_sg_owner, regress_sg_stranger;
