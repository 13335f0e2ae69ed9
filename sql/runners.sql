--
-- Precision on real migrations: lint() as the runner runs a file,
-- concurrently-in-transaction, require-lock-timeout judged against the lock
-- queue, every violation in one refusal, schemaguard's own functions, and
-- Prisma's tenant column.  This file brings its own fixture (schema run).
--
CREATE SCHEMA run;
CREATE TABLE run.users (id bigint PRIMARY KEY, email text, "createdAt" timestamptz);
INSERT INTO run.users SELECT g, 'u' || g, now() FROM generate_series(1, 2000) g;
ANALYZE run.users;
SET search_path = run, public;
SET lock_timeout = 0;

-- concurrently-in-transaction: a Prisma migration file (one string: one
-- implicit transaction) that follows the index hint next to another statement
SELECT statement, rule, level, detail, hint FROM schemaguard.lint($$
ALTER TABLE "users" ADD COLUMN "name" TEXT;
CREATE INDEX CONCURRENTLY "users_createdAt_idx" ON "users" ("createdAt");
$$, true, 'prisma') WHERE rule = 'concurrently-in-transaction';
-- a file holding only that statement runs outside a transaction: silent
SELECT count(*) FROM schemaguard.lint($$
CREATE INDEX CONCURRENTLY "users_createdAt_idx" ON "users" ("createdAt");
$$, true, 'prisma');
-- psql runs each statement in its own transaction: silent
SELECT count(*) FROM schemaguard.lint($$
ALTER TABLE "users" ADD COLUMN "name" TEXT;
CREATE INDEX CONCURRENTLY "users_createdAt_idx" ON "users" ("createdAt");
$$, true, 'psql') WHERE rule = 'concurrently-in-transaction';
-- ... unless the file opens a block itself (sqitch's deploy template)
SELECT rule, hint FROM schemaguard.lint($$
BEGIN;
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);
COMMIT;
$$, true, 'sqitch') WHERE rule = 'concurrently-in-transaction';
-- psql -1, dbmate and node-pg-migrate wrap even a lone statement
SELECT r.runner, l.rule, l.hint
  FROM (VALUES ('psql-single'), ('dbmate'), ('node-pg-migrate'), ('flyway')) r(runner),
       LATERAL schemaguard.lint('CREATE INDEX CONCURRENTLY users_email_idx ON users (email);', true, r.runner) l;
-- ... except a dbmate migration marked transaction:false
SELECT count(*) FROM schemaguard.lint($$
-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);
$$, true, 'dbmate');
-- ... which dbmate sends as one multi-statement string (an implicit
-- transaction): the statement must be alone in it (seen with dbmate 2.36,
-- test/t/010)
SELECT statement, rule FROM schemaguard.lint($$
-- migrate:up transaction:false
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);
$$, true, 'dbmate') WHERE rule = 'concurrently-in-transaction';
-- the default runner is single-transaction (a file as one string, as Prisma
-- and Flyway run it): the setting that protects the most users
SELECT statement, rule FROM schemaguard.lint($$
ALTER TABLE users ADD COLUMN note text;
DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;
$$) WHERE rule = 'concurrently-in-transaction';
-- the other statements that cannot run inside a transaction block
SELECT statement, message FROM schemaguard.lint($$
SET lock_timeout = '2s';
VACUUM users;
VACUUM (FULL) users;
REINDEX SCHEMA run;
REINDEX TABLE CONCURRENTLY users;
ALTER SYSTEM SET work_mem = '8MB';
CREATE DATABASE sg_never;
CLUSTER;
ALTER TABLE users DETACH PARTITION users_old CONCURRENTLY;
$$) WHERE rule = 'concurrently-in-transaction';
-- a runner lint() does not know, and NULL, are errors
SELECT * FROM schemaguard.lint('SELECT 1', true, 'liquibase');
SELECT * FROM schemaguard.lint('SELECT 1', true, NULL);

-- require-lock-timeout in lint: lint cannot see the lock queue, so every
-- table the script did not create counts; reported once per transaction,
-- at its first statement, listing them all
SELECT statement, line, rule, message, detail FROM schemaguard.lint($$
CREATE TABLE fresh (id int);
ALTER TABLE fresh ADD COLUMN a int;
ALTER TABLE users ADD COLUMN a int;
CREATE INDEX users_a ON users (a);
ALTER TABLE users ADD COLUMN b int;
$$) WHERE rule = 'require-lock-timeout';
-- ... once per statement outside a block under psql
SELECT statement, rule FROM schemaguard.lint($$
ALTER TABLE users ADD COLUMN a int;
ALTER TABLE users ADD COLUMN b int;
$$, true, 'psql') WHERE rule = 'require-lock-timeout';
-- ... and not at all with SET LOCAL lock_timeout in the transaction
SELECT count(*) FROM schemaguard.lint($$
SET LOCAL lock_timeout = '2s';
ALTER TABLE users ADD COLUMN a int;
ALTER TABLE users ADD COLUMN b int;
$$) WHERE rule = 'require-lock-timeout';

-- REINDEX SCHEMA of a schema the catalog does not know: assumed populated
SELECT rule, detail FROM schemaguard.lint('REINDEX SCHEMA elsewhere', true, 'psql');

-- Live: with no other session in the way the lock is granted at once, so
-- a statement without lock_timeout runs (no refusal, no queueing)
BEGIN;
ALTER TABLE users ADD COLUMN a int;
ROLLBACK;
-- A prepared transaction holds a conflicting lock (as a session in an open
-- transaction would; test/isolation/specs/lock_queue.spec shows those).
BEGIN;
UPDATE users SET email = email WHERE id = 1;
PREPARE TRANSACTION 'sg_holder';
-- without the lock retries (test/isolation/specs/lock_retry.spec tests them;
-- a prepared transaction never leaves): refused at once, naming the holder,
-- before it queues
SET schemaguard.lock_retry = off;
ALTER TABLE users ADD COLUMN a int;
-- every violation in one refusal: the index rule and the lock rule
CREATE INDEX users_email ON users (email);
-- a new table whose foreign key references the busy table waits for it too
-- (SHARE ROW EXCLUSIVE on the referenced table): refused, naming the holder
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id));
-- and lint() counts the referenced table (it did not create it)
SELECT statement, rule, message FROM schemaguard.lint($$
CREATE TABLE "Order" ("id" TEXT NOT NULL, "userId" BIGINT NOT NULL, CONSTRAINT "Order_pkey" PRIMARY KEY ("id"));
ALTER TABLE "Order" ADD CONSTRAINT "Order_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id");
$$, true, 'prisma') WHERE rule = 'require-lock-timeout';
-- with a lock_timeout the statement may wait (bounded): core's own timeout
-- (19 adds a CONTEXT line naming the relation's OID to a lock timeout)
\set SHOW_CONTEXT never
SET lock_timeout = '50ms';
ALTER TABLE users ADD COLUMN a int;
SET lock_timeout = 0;
-- schemaguard.default_lock_timeout: it waits that long instead, and the
-- timeout names who was in the way
SET schemaguard.default_lock_timeout = '50ms';
ALTER TABLE users ADD COLUMN a int;
\set SHOW_CONTEXT errors
RESET schemaguard.default_lock_timeout;
SHOW lock_timeout;
-- schemaguard's own functions lock with a bounded wait of their own and are
-- never refused by its rules; a holder makes them fail clearly
SET lock_timeout = '100ms';
SELECT schemaguard.enable_audit('users');
SELECT count(*) FROM schemaguard.enable_tenant_isolation('users', 'email');
SET lock_timeout = 0;
ROLLBACK PREPARED 'sg_holder';
RESET schemaguard.lock_retry;
-- without the holder they work, lock_timeout 0 and all
SELECT schemaguard.enable_audit('users');
SELECT schemaguard.enable_timestamps('users', NULL, NULL, NULL);
SELECT schemaguard.disable_audit('users');
SELECT count(*) FROM schemaguard.enable_tenant_isolation('users', 'email');
SHOW lock_timeout;

-- A CHECK (col IS NOT NULL) added NOT VALID by an earlier file, validated
-- by this one, proves SET NOT NULL: lint() reads its definition from the
-- catalog (core's own proof, predicate_implied_by); without the VALIDATE
-- it does not.
ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;
SELECT r.runner, l.statement, l.rule FROM (VALUES ('psql'), ('prisma')) r(runner)
  LEFT JOIN LATERAL schemaguard.lint($$
SET lock_timeout = '2s';
ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
$$, true, r.runner) l ON true;
SELECT statement, rule FROM schemaguard.lint($$
SET lock_timeout = '2s';
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
$$, true, 'psql');

-- Prisma's default spelling of the tenant column is a tenant column out of
-- the box: a table without isolation is refused at commit
SHOW schemaguard.tenant_columns;
CREATE TABLE "Booking" ("id" TEXT NOT NULL, "tenantId" TEXT NOT NULL, "at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "Booking_pkey" PRIMARY KEY ("id"));
SELECT rule FROM schemaguard.lint($$CREATE TABLE "Seat" ("id" TEXT NOT NULL, "tenantId" TEXT NOT NULL);$$);

-- current_tenant_as(): the tenant as a value of the sample's type, for the
-- policies of integer and uuid tenant columns; NULL unless canonical
SELECT schemaguard.current_tenant_as(NULL::int) IS NULL AS unset;
BEGIN;
SELECT schemaguard.set_tenant('7');
SELECT schemaguard.current_tenant_as(NULL::int2), schemaguard.current_tenant_as(NULL::int),
       schemaguard.current_tenant_as(NULL::bigint);
SELECT schemaguard.set_tenant('007');
SELECT schemaguard.current_tenant_as(NULL::int) IS NULL AS not_canonical;
SELECT schemaguard.set_tenant('8F14E45F-CEEA-167A-5A36-DEDD4BEA2543');
SELECT schemaguard.current_tenant_as(NULL::uuid) IS NULL AS upper_case_uuid;
SELECT schemaguard.set_tenant('8f14e45f-ceea-167a-5a36-dedd4bea2543');
SELECT schemaguard.current_tenant_as(NULL::uuid);
SELECT schemaguard.set_tenant('x');
SELECT schemaguard.current_tenant_as(NULL::int);
ROLLBACK;
-- what it keeps between calls follows the tenant and the type
CREATE DOMAIN run.tenant_no AS int CHECK (VALUE > 0);
BEGIN;
SELECT schemaguard.set_tenant('x');
SAVEPOINT s;
SELECT schemaguard.current_tenant_as(NULL::int);
ROLLBACK TO s;
SELECT schemaguard.current_tenant_as(NULL::int);
ROLLBACK TO s;
SELECT schemaguard.set_tenant('42');
SELECT schemaguard.current_tenant_as(NULL::int) AS as_int, schemaguard.current_tenant_as(NULL::run.tenant_no) AS as_domain,
       schemaguard.current_tenant_as(NULL::bigint) AS as_bigint, schemaguard.current_tenant_as(NULL::int) AS as_int_again;
SELECT schemaguard.set_tenant('43');
SELECT schemaguard.current_tenant_as(NULL::int) AS after_a_new_tenant;
SELECT schemaguard.current_tenant_as(NULL::uuid);
ROLLBACK;
BEGIN;
SELECT schemaguard.current_tenant_as(NULL::int) IS NULL AS unset_again;
ROLLBACK;
SELECT schemaguard.current_tenant_as(NULL::text);
SELECT schemaguard.current_tenant_as(NULL::numeric);

RESET lock_timeout;
RESET search_path;
SET schemaguard.mode = off;
DROP SCHEMA run CASCADE;
RESET schemaguard.mode;
