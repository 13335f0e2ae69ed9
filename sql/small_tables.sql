-- Work under a lock is judged by the table's real size, by default
-- (schemaguard.small_table_size, 1MB): a table this small is built, scanned
-- and rewritten in milliseconds (test/bench/lock_work), as on a fresh deploy
-- whose earlier migrations seeded a few rows.
SET lock_timeout = '5s';
SELECT boot_val, unit, context FROM pg_settings WHERE name = 'schemaguard.small_table_size';
CREATE TABLE "Team" (id int PRIMARY KEY);
INSERT INTO "Team" SELECT generate_series(1, 10);
CREATE TABLE "User" (id int PRIMARY KEY, "teamId" int, email text, n int);
INSERT INTO "User" SELECT g, 1 + g % 10, 'u' || g || '@example.com', g FROM generate_series(1, 50) g;
SELECT pg_size_pretty(pg_table_size('"User"')) AS "User";

-- the work-under-lock rules pass it: an index, a validated foreign key and
-- CHECK, SET NOT NULL's scan, a rewrite
BEGIN;
CREATE UNIQUE INDEX "User_email_key" ON "User" (email);
ALTER TABLE "User" ADD CONSTRAINT "User_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team" (id);
ALTER TABLE "User" ADD CONSTRAINT "User_n_check" CHECK (n > 0);
ALTER TABLE "User" ALTER COLUMN email SET NOT NULL;
ALTER TABLE "User" ALTER COLUMN n TYPE bigint;
REINDEX TABLE "User";
COMMIT;

-- rules whose danger does not grow with size still refuse it
ALTER TABLE "User" DROP COLUMN n;
ALTER TABLE "User" RENAME COLUMN email TO mail;
ALTER TABLE "User" ADD COLUMN "role" text NOT NULL;

-- above the threshold the same work is refused
CREATE TABLE big (id int PRIMARY KEY, v text);
INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
SELECT pg_table_size('big') > 1024 * 1024 AS above_1mb;
CREATE INDEX big_v ON big (v);
ALTER TABLE big ALTER COLUMN id TYPE bigint;
-- and a lower threshold (or 0: every table that holds a row) refuses the small one
SET schemaguard.small_table_size = '4kB';
CREATE INDEX "User_n" ON "User" (n);
RESET schemaguard.small_table_size;

-- lint() assumes existing tables are populated (its default) and judges
-- them at any size; with assume_populated false it reads the real size,
-- as the live server does
SELECT rule FROM schemaguard.lint('CREATE INDEX "User_n" ON "User" (n)');
SELECT count(*) AS findings FROM schemaguard.lint('SET lock_timeout = ''2s''; CREATE INDEX "User_n" ON "User" (n)', false);

-- only a superuser may change the threshold
CREATE ROLE regress_sg_small;
SET ROLE regress_sg_small;
SET schemaguard.small_table_size = '1GB';
RESET ROLE;
DROP ROLE regress_sg_small;
SET schemaguard.mode = off;
DROP TABLE "User", "Team", big;
