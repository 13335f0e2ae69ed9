# lint() agrees with the live hook: every rule, in three states of its table
# (populated, empty, created in the same transaction), and the transaction
# cases where a script's ROLLBACK or ROLLBACK TO SAVEPOINT changes what the
# live server refuses.
#
# For each case and state the schema is made anew, the script is linted
# (lint(script, assume_populated => false, runner => 'psql'): the real
# state), then run live through psql with real transactions, so commit-time
# rules run as they do in production.  Live runs in warn mode, as lint()
# judges a script: every statement runs and every finding is reported (in
# enforce mode a refused statement would take the rest of its transaction
# with it).  Where another session holds a lock, live runs in enforce mode,
# which refuses instead of waiting.  live: every rule the warnings and
# refusals name; lint: every rule of its rows.  They must be the same set,
# and in the populated state the rule under test must be among them (the
# case tests something) unless the case says it passes.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('agree');
$node->init;
# The populated fixtures hold 500 rows: judged as tables of any size
# (sql/small_tables.sql shows live and lint() agreeing at the default 1MB).
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'schemaguard'\nschemaguard.small_table_size = 0\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION schemaguard; CREATE ROLE agree_owner');

my $rows = 'INSERT INTO t SELECT g, g FROM generate_series(1, 500) g';
my $table = 'CREATE TABLE t (id int PRIMARY KEY, v int)';

# rule: the rule under test; table: its table(s); pre: more of the schema;
# stmt: the statement judged (the last of the script); block: run inside
# BEGIN ... COMMIT (default 1); timeout: SET lock_timeout first (default 1);
# busy: another session holds a lock on t meanwhile; level: the rule's level
# for the case.
# inheritance: the rows are in the child t1 (or the grandchild t2), the
# parent t named by the statement is empty; core recurses into them
my $inh = 'CREATE TABLE t (id int PRIMARY KEY, v int); CREATE TABLE t1 () INHERITS (t)';
my $inh_rows = 'INSERT INTO t1 SELECT g, g FROM generate_series(1, 500) g';

my @cases = (
	{ rule => 'changing-column-type', label => 'inheritance child', table => $inh, rows => $inh_rows,
	  stmt => 'ALTER TABLE t ALTER COLUMN v TYPE bigint USING 0' },
	{ rule => 'changing-column-type', label => 'inheritance grandchild',
	  table => "$inh; CREATE TABLE t2 () INHERITS (t1)",
	  rows => 'INSERT INTO t2 SELECT g, g FROM generate_series(1, 500) g',
	  stmt => 'ALTER TABLE t ALTER COLUMN v TYPE bigint USING 0' },
	{ rule => 'constraint-missing-not-valid', label => 'inheritance child', table => $inh, rows => $inh_rows,
	  stmt => 'ALTER TABLE t ADD CONSTRAINT t_v CHECK (v > 0)' },
	{ rule => 'set-not-null-without-check', label => 'inheritance child', table => $inh, rows => $inh_rows,
	  stmt => 'ALTER TABLE t ALTER COLUMN v SET NOT NULL' },
	{ rule => 'renaming-column', label => 'inheritance child', table => $inh, rows => $inh_rows,
	  stmt => 'ALTER TABLE t RENAME COLUMN v TO w' },
	{ rule => 'require-lock-timeout', label => 'a reader on the inheritance child', timeout => 0,
	  busy => 't1', table => $inh, rows => $inh_rows,
	  stmt => 'ALTER TABLE t ADD COLUMN c int' },
	{ rule => 'ban-truncate-cascade', label => 'inheritance child', table => $inh, rows => $inh_rows,
	  stmt => 'TRUNCATE t CASCADE' },
	# 18+: NOT NULL as a constraint of its own scans as SET NOT NULL does;
	# NOT VALID does not, nor does a NOT ENFORCED CHECK or foreign key
	(($ENV{PG_MAJOR} // 15) >= 18 ? (
	{ rule => 'set-not-null-without-check', label => 'ADD CONSTRAINT ... NOT NULL (18+)',
	  stmt => 'ALTER TABLE t ADD CONSTRAINT t_v_nn NOT NULL v' },
	{ rule => 'set-not-null-without-check', label => 'ADD CONSTRAINT ... NOT NULL ... NOT VALID (18+)', passes => 1,
	  stmt => 'ALTER TABLE t ADD CONSTRAINT t_v_nn NOT NULL v NOT VALID' },
	{ rule => 'constraint-missing-not-valid', label => 'NOT ENFORCED (18+)', passes => 1,
	  stmt => 'ALTER TABLE t ADD CONSTRAINT t_v_pos CHECK (v > 0) NOT ENFORCED' },
	{ rule => 'constraint-missing-not-valid', label => 'a NOT ENFORCED foreign key (18+)', passes => 1,
	  table => 'CREATE TABLE r (id int PRIMARY KEY); CREATE TABLE t (id int PRIMARY KEY, v int); CREATE INDEX t_v ON t (v)',
	  stmt => 'ALTER TABLE t ADD CONSTRAINT t_v_fk FOREIGN KEY (v) REFERENCES r (id) NOT ENFORCED' },
	{ rule => 'set-not-null-without-check', label => 'NOT NULL constraint over a validated CHECK (18+)', passes => 1,
	  pre => 'ALTER TABLE t ADD CONSTRAINT t_v_chk CHECK (v IS NOT NULL)',
	  stmt => 'ALTER TABLE t ADD CONSTRAINT t_v_nn NOT NULL v' },
	{ rule => 'unique-constraint-without-index', label => 'PRIMARY KEY ... WITHOUT OVERLAPS (18+)',
	  table => 'CREATE TABLE t (id int, v int, r int4range NOT NULL, during tstzrange NOT NULL)',
	  rows => "INSERT INTO t SELECT g, g, int4range(g, g + 1), tstzrange(now(), NULL) FROM generate_series(1, 500) g",
	  stmt => 'ALTER TABLE t ADD CONSTRAINT t_pk PRIMARY KEY (r, during WITHOUT OVERLAPS)' },
	{ rule => 'constraint-missing-not-valid', label => 'NOT VALID foreign key on a partitioned table (18+)', passes => 1,
	  table => 'CREATE TABLE r (id int PRIMARY KEY); INSERT INTO r SELECT generate_series(1, 500); '
		. 'CREATE TABLE t (id int, v int) PARTITION BY RANGE (id); CREATE TABLE t1 PARTITION OF t FOR VALUES FROM (0) TO (1000); '
		. 'CREATE INDEX t_v ON t (v)',
	  rows => 'INSERT INTO t1 SELECT g, g FROM generate_series(1, 500) g',
	  stmt => 'ALTER TABLE t ADD CONSTRAINT t_v_fk FOREIGN KEY (v) REFERENCES r (id) NOT VALID' },
	) : ()),
	# 17+: SET EXPRESSION rewrites a table with a stored generated column
	(($ENV{PG_MAJOR} // 15) >= 17 ? (
	{ rule => 'table-rewrite', label => 'SET EXPRESSION of a stored generated column (17+)',
	  table => 'CREATE TABLE t (id int PRIMARY KEY, v int, g int GENERATED ALWAYS AS (v * 2) STORED)',
	  rows => 'INSERT INTO t (id, v) SELECT g, g FROM generate_series(1, 500) g',
	  stmt => 'ALTER TABLE t ALTER COLUMN g SET EXPRESSION AS (v * 3)' },
	{ rule => 'table-rewrite', label => 'DROP EXPRESSION rewrites nothing (17+)', passes => 1,
	  table => 'CREATE TABLE t (id int PRIMARY KEY, v int, g int GENERATED ALWAYS AS (v * 2) STORED)',
	  rows => 'INSERT INTO t (id, v) SELECT g, g FROM generate_series(1, 500) g',
	  stmt => 'ALTER TABLE t ALTER COLUMN g DROP EXPRESSION' },
	) : ()),
	(($ENV{PG_MAJOR} // 15) >= 18 ? (
	{ rule => 'table-rewrite', label => 'SET EXPRESSION of a virtual column rewrites nothing (18+)', passes => 1,
	  table => 'CREATE TABLE t (id int PRIMARY KEY, v int, g int GENERATED ALWAYS AS (v * 2) VIRTUAL)',
	  rows => 'INSERT INTO t (id, v) SELECT g, g FROM generate_series(1, 500) g',
	  stmt => 'ALTER TABLE t ALTER COLUMN g SET EXPRESSION AS (v * 3)' },
	) : ()),
	# advice (warning by default)
	{ rule => 'require-enum-value-ordering', table => "CREATE TYPE st AS ENUM ('a', 'c'); CREATE TABLE t (id int PRIMARY KEY, v int, s st)",
	  stmt => "ALTER TYPE st ADD VALUE 'z'" },
	{ rule => 'require-enum-value-ordering', label => 'placed BEFORE', passes => 1,
	  table => "CREATE TYPE st AS ENUM ('a', 'c'); CREATE TABLE t (id int PRIMARY KEY, v int, s st)",
	  stmt => "ALTER TYPE st ADD VALUE 'b' BEFORE 'c'" },
	{ rule => 'ban-drop-not-null', table => 'CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)',
	  stmt => 'ALTER TABLE t ALTER COLUMN v DROP NOT NULL' },
	{ rule => 'ban-drop-not-null', label => 'of a domain',
	  pre => 'CREATE DOMAIN dn AS int NOT NULL', stmt => 'ALTER DOMAIN dn DROP NOT NULL' },
	{ rule => 'identifier-too-long',
	  stmt => 'ALTER TABLE t ADD COLUMN column_very_long_very_long_very_long_very_long_very_long_very_long int' },
	{ rule => 'identifier-too-long', label => 'exactly 63 bytes', passes => 1,
	  stmt => 'ALTER TABLE t ADD COLUMN column_very_long_very_long_very_long_very_long_very_long_very_l int' },
	# style (off by default: each case turns its rule on)
	{ rule => 'prefer-bigint-over-int', level => 'warning', stmt => 'ALTER TABLE t ADD COLUMN n int' },
	{ rule => 'prefer-bigint-over-int', label => 'serial', level => 'warning', stmt => 'ALTER TABLE t ADD COLUMN n serial' },
	{ rule => 'prefer-bigint-over-smallint', level => 'warning', stmt => 'ALTER TABLE t ADD COLUMN n smallint' },
	{ rule => 'prefer-identity', level => 'warning', stmt => 'ALTER TABLE t ADD COLUMN n bigserial' },
	{ rule => 'prefer-text-field', level => 'warning', stmt => 'ALTER TABLE t ADD COLUMN n varchar(100)' },
	{ rule => 'prefer-text-field', label => 'varchar without a limit', level => 'warning', passes => 1,
	  stmt => 'ALTER TABLE t ADD COLUMN n varchar' },
	{ rule => 'prefer-timestamptz', level => 'warning', stmt => 'ALTER TABLE t ADD COLUMN n timestamp' },
	{ rule => 'prefer-timestamptz', label => 'an array of it', level => 'warning', stmt => 'ALTER TABLE t ADD COLUMN n timestamp[]' },
	{ rule => 'ban-create-domain-with-constraint', level => 'warning', stmt => 'CREATE DOMAIN dpos AS int CHECK (VALUE > 0)' },
	{ rule => 'require-table-schema', level => 'warning', stmt => 'ALTER TABLE t ADD COLUMN n text' },
	{ rule => 'require-table-schema', label => 'qualified', level => 'warning', passes => 1,
	  stmt => 'ALTER TABLE a.t ADD COLUMN n text' },
	{ rule => 'require-statement-timeout', level => 'warning', stmt => 'ALTER TABLE t ADD COLUMN n text' },
	{ rule => 'require-statement-timeout', label => 'statement_timeout set', level => 'warning', passes => 1,
	  stmt => "SET LOCAL statement_timeout = '5s'; ALTER TABLE t ADD COLUMN n text" },
	{ rule => 'prefer-robust-stmts', level => 'warning', block => 0, stmt => 'ALTER TABLE t ADD COLUMN n text' },
	{ rule => 'prefer-robust-stmts', label => 'IF NOT EXISTS', level => 'warning', block => 0, passes => 1,
	  stmt => 'ALTER TABLE t ADD COLUMN IF NOT EXISTS n text' },
	{ rule => 'prefer-robust-stmts', label => 'in a transaction', level => 'warning', passes => 1,
	  stmt => 'ALTER TABLE t ADD COLUMN n text' },
	# 18+: a temporal key WITHOUT OVERLAPS (ranges: no btree_gist needed)
	(($ENV{PG_MAJOR} // 15) >= 18 ? (
	{ rule => 'unique-constraint-without-index', label => 'WITHOUT OVERLAPS (18+)',
	  table => 'CREATE TABLE t (id int PRIMARY KEY, v int, r int4range, during tstzrange)',
	  rows => "INSERT INTO t SELECT g, g, int4range(g, g + 1), tstzrange(now(), NULL) FROM generate_series(1, 500) g",
	  stmt => 'ALTER TABLE t ADD CONSTRAINT t_r_during UNIQUE (r, during WITHOUT OVERLAPS)' },
	) : ()),
	# 19+: REPACK rewrites under ACCESS EXCLUSIVE; REPACK (CONCURRENTLY) is the online form
	(($ENV{PG_MAJOR} // 15) >= 19 ? (
	{ rule => 'table-rewrite', label => 'REPACK (19+)', stmt => 'REPACK t' },
	{ rule => 'table-rewrite', label => 'REPACK USING INDEX (19+)', stmt => 'REPACK t USING INDEX t_pkey' },
	{ rule => 'table-rewrite', label => 'REPACK (CONCURRENTLY) (19+)', block => 0, passes => 1,
	  stmt => 'REPACK (CONCURRENTLY) t' },
	) : ()),
	# before 18 a partitioned table takes no NOT VALID foreign key (the hint goes per partition)
	{ rule => 'constraint-missing-not-valid', label => 'a foreign key on a partitioned table',
	  table => 'CREATE TABLE r (id int PRIMARY KEY); INSERT INTO r SELECT generate_series(1, 500); '
		. 'CREATE TABLE t (id int, v int) PARTITION BY RANGE (id); CREATE TABLE t1 PARTITION OF t FOR VALUES FROM (0) TO (1000)',
	  rows => 'INSERT INTO t1 SELECT g, g FROM generate_series(1, 500) g',
	  stmt => 'ALTER TABLE t ADD CONSTRAINT t_v_fk FOREIGN KEY (v) REFERENCES r (id)' },
	# ATTACH PARTITION proves the bound by a scan unless a CHECK implies it
	{ rule => 'attach-partition-scan', pre => 'CREATE TABLE pp (id int, v int) PARTITION BY RANGE (id)',
	  stmt => 'ALTER TABLE pp ATTACH PARTITION t FOR VALUES FROM (0) TO (1000)' },
	{ rule => 'attach-partition-scan', label => 'a validated CHECK implies the bound', passes => 1,
	  pre => 'CREATE TABLE pp (id int, v int) PARTITION BY RANGE (id); '
		. 'ALTER TABLE t ADD CONSTRAINT t_b CHECK (id IS NOT NULL AND id >= 0 AND id < 1000)',
	  stmt => 'ALTER TABLE pp ATTACH PARTITION t FOR VALUES FROM (0) TO (1000)' },
	{ rule => 'attach-partition-scan', label => 'a populated default partition',
	  pre => 'CREATE TABLE pp (id int, v int) PARTITION BY RANGE (id); CREATE TABLE pdef PARTITION OF pp DEFAULT; '
		. 'INSERT INTO pdef VALUES (5000, 1); '
		. 'ALTER TABLE t ADD CONSTRAINT t_b CHECK (id IS NOT NULL AND id >= 0 AND id < 1000)',
	  stmt => 'ALTER TABLE pp ATTACH PARTITION t FOR VALUES FROM (0) TO (1000)' },
	# names the application uses, changed by a move or a schema rename
	{ rule => 'renaming-table', label => 'SET SCHEMA', stmt => 'ALTER TABLE t SET SCHEMA a2' },
	{ rule => 'renaming-table', label => 'a materialized view moved', pre => 'CREATE MATERIALIZED VIEW mv AS SELECT * FROM t',
	  stmt => 'ALTER MATERIALIZED VIEW mv SET SCHEMA a2' },
	{ rule => 'renaming-table', label => 'the schema renamed', stmt => 'ALTER SCHEMA a RENAME TO a3' },
	# an enum label renamed under the rows that hold it: a column, an array, a domain
	{ rule => 'renaming-enum-value',
	  table => "CREATE TYPE st AS ENUM ('paid', 'refunded'); CREATE TABLE t (id int PRIMARY KEY, v int, s st)",
	  stmt => "ALTER TYPE st RENAME VALUE 'paid' TO 'settled'" },
	{ rule => 'renaming-enum-value', label => 'an array of it',
	  table => "CREATE TYPE st AS ENUM ('paid', 'refunded'); CREATE TABLE t (id int PRIMARY KEY, v int, s st[])",
	  stmt => "ALTER TYPE st RENAME VALUE 'paid' TO 'settled'" },
	{ rule => 'renaming-enum-value', label => 'a domain over it',
	  table => "CREATE TYPE st AS ENUM ('paid', 'refunded'); CREATE DOMAIN sd AS st; "
		. "CREATE TABLE t (id int PRIMARY KEY, v int, s sd)",
	  stmt => "ALTER TYPE st RENAME VALUE 'paid' TO 'settled'" },
	# a sequence sent back to values in use: serial, identity, a shared DEFAULT nextval()
	{ rule => 'sequence-restart', table => 'CREATE TABLE t (id serial PRIMARY KEY, v int)',
	  rows => 'INSERT INTO t (v) SELECT g FROM generate_series(1, 500) g',
	  stmt => 'ALTER SEQUENCE t_id_seq RESTART' },
	{ rule => 'sequence-restart', label => 'identity RESTART WITH below its last value',
	  table => 'CREATE TABLE t (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v int)',
	  rows => 'INSERT INTO t (v) SELECT g FROM generate_series(1, 500) g',
	  stmt => 'ALTER TABLE t ALTER COLUMN id RESTART WITH 2' },
	{ rule => 'sequence-restart', label => 'DROP IDENTITY, then ADD GENERATED',
	  table => 'CREATE TABLE t (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v int)',
	  rows => 'INSERT INTO t (v) SELECT g FROM generate_series(1, 500) g',
	  stmt => 'ALTER TABLE t ALTER COLUMN id DROP IDENTITY; ALTER TABLE t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY' },
	{ rule => 'sequence-restart', label => 'a shared sequence of a DEFAULT',
	  table => "CREATE SEQUENCE shared_seq; CREATE TABLE t (id bigint PRIMARY KEY DEFAULT nextval('shared_seq'), v int)",
	  rows => 'INSERT INTO t (v) SELECT g FROM generate_series(1, 500) g',
	  stmt => 'ALTER SEQUENCE shared_seq RESTART WITH 3' },
	{ rule => 'sequence-restart', label => 'RESTART WITH beyond its last value', passes => 1,
	  table => 'CREATE TABLE t (id serial PRIMARY KEY, v int)',
	  rows => 'INSERT INTO t (v) SELECT g FROM generate_series(1, 500) g',
	  stmt => 'ALTER SEQUENCE t_id_seq RESTART WITH 100000' },
	{ rule => 'concurrently-in-transaction',
	  stmt => 'CREATE INDEX CONCURRENTLY t_v_idx ON t (v)' },
	{ rule => 'require-lock-timeout', timeout => 0, busy => 1,
	  stmt => 'ALTER TABLE t ADD COLUMN c int' },
	{ rule => 'require-concurrent-index-creation',
	  stmt => 'CREATE INDEX t_v_idx ON t (v)' },
	{ rule => 'require-concurrent-index-deletion', pre => 'CREATE INDEX t_v_idx ON t (v)',
	  stmt => 'DROP INDEX t_v_idx' },
	{ rule => 'require-concurrent-reindex', pre => 'CREATE INDEX t_v_idx ON t (v)',
	  stmt => 'REINDEX INDEX t_v_idx' },
	# the tripwire observes core, live only: lint() has nothing to observe, and
	# with the rules' predictions on it never fires where a rule foresaw the
	# work (its own test: TAP 019); its refusal of an ALTER TABLE subcommand
	# type the build predates cannot fire on a supported major (every type is
	# known); here, a statement that rewrites nothing
	{ rule => 'unpredicted-rewrite', passes => 1,
	  stmt => 'ALTER TABLE t ADD COLUMN c int DEFAULT 7' },
	# an INVALID index (as a failed CONCURRENTLY build leaves one), at any size
	{ rule => 'invalid-index-if-not-exists',
	  base => "CREATE TABLE inv (v int); CREATE INDEX inv_v ON inv (v); "
		. "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'a.inv_v'::regclass",
	  stmt => 'CREATE INDEX IF NOT EXISTS inv_v ON inv (v)' },
	{ rule => 'constraint-missing-not-valid',
	  stmt => 'ALTER TABLE t ADD CONSTRAINT t_v_chk CHECK (v > 0)' },
	{ rule => 'constraint-missing-not-valid', label => 'domain',
	  table => 'CREATE DOMAIN pos AS int; CREATE TABLE t (id int PRIMARY KEY, v pos)',
	  stmt => 'ALTER DOMAIN pos ADD CONSTRAINT pos_chk CHECK (VALUE > 0)' },
	{ rule => 'constraint-missing-not-valid', label => 'foreign key',
	  base => 'CREATE TABLE par (id int PRIMARY KEY); INSERT INTO par SELECT generate_series(1, 500)',
	  stmt => 'ALTER TABLE t ADD CONSTRAINT t_v_fk FOREIGN KEY (v) REFERENCES par (id)' },
	{ rule => 'validate-in-same-transaction',
	  stmt => 'ALTER TABLE t ADD CONSTRAINT t_v_chk CHECK (v > 0) NOT VALID; '
		. 'ALTER TABLE t VALIDATE CONSTRAINT t_v_chk' },
	{ rule => 'unique-constraint-without-index',
	  stmt => 'ALTER TABLE t ADD CONSTRAINT t_v_key UNIQUE (v)' },
	{ rule => 'exclusion-constraint-on-existing-table',
	  stmt => 'ALTER TABLE t ADD CONSTRAINT t_v_excl EXCLUDE USING btree (v WITH =)' },
	{ rule => 'set-not-null-without-check',
	  stmt => 'ALTER TABLE t ALTER COLUMN v SET NOT NULL' },
	{ rule => 'set-not-null-without-check', label => 'proven by an AND-ed CHECK', passes => 1,
	  pre => 'ALTER TABLE t ADD CONSTRAINT t_v_nn CHECK (v > 0 AND v IS NOT NULL)',
	  stmt => 'ALTER TABLE t ALTER COLUMN v SET NOT NULL' },
	{ rule => 'adding-required-field',
	  stmt => 'ALTER TABLE t ADD COLUMN r int NOT NULL' },
	{ rule => 'adding-field-with-volatile-default',
	  stmt => 'ALTER TABLE t ADD COLUMN r float8 DEFAULT random()' },
	{ rule => 'adding-json-column',
	  stmt => 'ALTER TABLE t ADD COLUMN doc json' },
	{ rule => 'adding-json-column', label => 'a domain over json',
	  base => 'CREATE DOMAIN a_json AS json',
	  stmt => 'ALTER TABLE t ADD COLUMN doc a_json' },
	{ rule => 'ban-char-field',
	  stmt => 'ALTER TABLE t ADD COLUMN code char(3)' },
	{ rule => 'changing-column-type',
	  stmt => 'ALTER TABLE t ALTER COLUMN v TYPE bigint' },
	{ rule => 'renaming-column',
	  stmt => 'ALTER TABLE t RENAME COLUMN v TO w' },
	{ rule => 'renaming-table',
	  stmt => 'ALTER TABLE t RENAME TO t_old' },
	{ rule => 'table-rewrite',
	  stmt => 'ALTER TABLE t SET UNLOGGED' },
	{ rule => 'require-concurrent-refresh',
	  pre => 'CREATE MATERIALIZED VIEW mv AS SELECT * FROM t',
	  stmt => 'REFRESH MATERIALIZED VIEW mv' },
	{ rule => 'require-concurrent-partition-detach',
	  table => 'CREATE TABLE t (id int, v int) PARTITION BY RANGE (id); '
		. 'CREATE TABLE t1 PARTITION OF t FOR VALUES FROM (0) TO (1000000)',
	  stmt => 'ALTER TABLE t DETACH PARTITION t1' },
	{ rule => 'ban-drop-database', block => 0, pre_outside => 'CREATE DATABASE agree_victim',
	  stmt => 'DROP DATABASE agree_victim' },
	{ rule => 'ban-truncate-cascade',
	  stmt => 'TRUNCATE t CASCADE' },
	{ rule => 'ban-drop-cascade',
	  table => 'CREATE TABLE a2.t (id int PRIMARY KEY, v int)',
	  rows => 'INSERT INTO a2.t SELECT g, g FROM generate_series(1, 500) g',
	  stmt => 'DROP SCHEMA a2 CASCADE' },
	{ rule => 'ban-drop-cascade', label => 'a domain',
	  table => 'CREATE DOMAIN pos AS int; CREATE TABLE t (id int PRIMARY KEY, v pos)',
	  stmt => 'DROP DOMAIN pos CASCADE' },
	{ rule => 'staged-drop',
	  stmt => 'ALTER TABLE t DROP COLUMN v' },
	{ rule => 'staged-drop', label => 'table',
	  stmt => 'DROP TABLE t' },
	{ rule => 'tenant-table-rls',
	  stmt => 'ALTER TABLE t ADD COLUMN tenant_id text' },
	{ rule => 'tenant-table-rls', label => 'isolated by enable_tenant_isolation()', passes => 1,
	  stmt => "ALTER TABLE t ADD COLUMN tenant_id text; SELECT schemaguard.enable_tenant_isolation('t')" },
	{ rule => 'tenant-table-rls', label => 'isolated by a policy of its own', passes => 1,
	  stmt => 'ALTER TABLE t ADD COLUMN tenant_id text; ALTER TABLE t ENABLE ROW LEVEL SECURITY; '
		. 'ALTER TABLE t FORCE ROW LEVEL SECURITY; '
		. 'CREATE POLICY own ON t USING (tenant_id = schemaguard.current_tenant()) '
		. 'WITH CHECK (tenant_id = schemaguard.current_tenant())' },
	{ rule => 'tenant-table-rls', label => 'a partitioned table',
	  table => 'CREATE TABLE t (id int, v int) PARTITION BY RANGE (id); '
		. 'CREATE TABLE t1 PARTITION OF t FOR VALUES FROM (0) TO (1000000)',
	  stmt => 'ALTER TABLE t ADD COLUMN tenant_id text' },
	{ rule => 'tenant-table-rls', label => 'a partitioned table isolated by enable_tenant_isolation()',
	  passes => 1,
	  table => 'CREATE TABLE t (id int, v int) PARTITION BY RANGE (id); '
		. 'CREATE TABLE t1 PARTITION OF t FOR VALUES FROM (0) TO (1000000)',
	  stmt => "ALTER TABLE t ADD COLUMN tenant_id text; SELECT schemaguard.enable_tenant_isolation('t')" },
	{ rule => 'tenant-table-rls', label => 'a partitioned tenant table and a partition, then enable_tenant_isolation()',
	  passes => 1,
	  stmt => 'CREATE TABLE tq (id int, tenant_id text) PARTITION BY RANGE (id); '
		. 'CREATE TABLE tq1 PARTITION OF tq FOR VALUES FROM (0) TO (1000); '
		. 'CREATE TABLE tq2 (id int, tenant_id text); '
		. 'ALTER TABLE tq ATTACH PARTITION tq2 FOR VALUES FROM (1000) TO (2000); '
		. "SELECT schemaguard.enable_tenant_isolation('tq')" },
	{ rule => 'tenant-table-rls', label => 'a partition added after enable_tenant_isolation()',
	  stmt => 'CREATE TABLE tq (id int, tenant_id text) PARTITION BY RANGE (id); '
		. "SELECT schemaguard.enable_tenant_isolation('tq'); "
		. 'CREATE TABLE tq1 PARTITION OF tq FOR VALUES FROM (0) TO (1000)' },
	{ rule => 'tenant-table-rls', label => 'a new partition of an isolated table (RLS is not inherited)',
	  base => 'CREATE TABLE a.tp (id int, tenant_id text) PARTITION BY RANGE (id); '
		. "SELECT schemaguard.enable_tenant_isolation('a.tp')",
	  stmt => 'CREATE TABLE tp9 PARTITION OF tp FOR VALUES FROM (0) TO (1000000)' },
	{ rule => 'tenant-table-rls', label => 'a typed table of a type with a tenant column',
	  base => 'CREATE TYPE a.tenant_row AS (id int, tenant_id text)',
	  table => 'CREATE TABLE t OF tenant_row', rows => 'INSERT INTO t SELECT g, g FROM generate_series(1, 500) g',
	  stmt => 'CREATE TABLE t_typed OF tenant_row' },
	{ rule => 'tenant-table-rls', label => 'LIKE a tenant table',
	  base => 'CREATE TABLE a.tl (id int, tenant_id text)',
	  stmt => 'CREATE TABLE t_like (LIKE tl)' },
	{ rule => 'tenant-table-rls', label => 'a policy on a look-alike current_tenant()',
	  base => "CREATE FUNCTION a.current_tenant() RETURNS text LANGUAGE sql AS 'SELECT ''t1''::text'",
	  stmt => 'ALTER TABLE t ADD COLUMN tenant_id text; ALTER TABLE t ENABLE ROW LEVEL SECURITY; '
		. 'ALTER TABLE t FORCE ROW LEVEL SECURITY; '
		. 'CREATE POLICY own ON t USING (tenant_id = current_tenant()) '
		. 'WITH CHECK (tenant_id = current_tenant())' },
	{ rule => 'fk-without-index',
	  base => 'CREATE TABLE par (id int PRIMARY KEY); INSERT INTO par SELECT generate_series(1, 500)',
	  stmt => 'ALTER TABLE t ADD CONSTRAINT t_v_fk FOREIGN KEY (v) REFERENCES par (id) NOT VALID' },
	{ rule => 'ddl-outside-migration', level => 'error',
	  stmt => 'ALTER TABLE t ADD COLUMN c int' },
	{ rule => 'invalid-ignore',
	  stmt => "/* schemaguard:ignore no-such-rule the reason */ ALTER TABLE t ADD COLUMN c int" },
);

# The transaction cases: the populated table t, a script of several
# transactions, and what live refuses once the rollback is taken into account.
my $allow = "SELECT schemaguard.allow('require-concurrent-index-creation', 'agreement test')";
my $par = 'CREATE TABLE par (id int PRIMARY KEY); INSERT INTO par SELECT generate_series(1, 500)';
my @xact_cases = (
	{ label => 'ROLLBACK takes a VALIDATE back: SET NOT NULL is unproven',
	  expect => 'set-not-null-without-check',
	  script => "BEGIN; ALTER TABLE t ADD CONSTRAINT t_v_nn CHECK (v IS NOT NULL) NOT VALID; COMMIT;\n"
		. "BEGIN; ALTER TABLE t VALIDATE CONSTRAINT t_v_nn; ROLLBACK;\n"
		. "BEGIN; ALTER TABLE t ALTER COLUMN v SET NOT NULL; COMMIT;" },
	{ label => 'a CHECK (v > 0) the script validated proves NOT NULL (core proof: a strict comparison)',
	  expect => '',
	  script => "BEGIN; ALTER TABLE t ADD CONSTRAINT t_v_pos CHECK (v > 0) NOT VALID; COMMIT;\n"
		. "BEGIN; ALTER TABLE t VALIDATE CONSTRAINT t_v_pos; COMMIT;\n"
		. "BEGIN; ALTER TABLE t ALTER COLUMN v SET NOT NULL; COMMIT;" },
	{ label => 'a CHECK (v IS NOT NULL OR id > 0) the script validated proves nothing',
	  expect => 'set-not-null-without-check',
	  script => "BEGIN; ALTER TABLE t ADD CONSTRAINT t_v_or CHECK (v IS NOT NULL OR id > 0) NOT VALID; COMMIT;\n"
		. "BEGIN; ALTER TABLE t VALIDATE CONSTRAINT t_v_or; COMMIT;\n"
		. "BEGIN; ALTER TABLE t ALTER COLUMN v SET NOT NULL; COMMIT;" },
	{ label => 'COMMIT keeps a VALIDATE: SET NOT NULL is proven',
	  expect => '',
	  script => "BEGIN; ALTER TABLE t ADD CONSTRAINT t_v_nn CHECK (v IS NOT NULL) NOT VALID; COMMIT;\n"
		. "BEGIN; ALTER TABLE t VALIDATE CONSTRAINT t_v_nn; COMMIT;\n"
		. "BEGIN; ALTER TABLE t ALTER COLUMN v SET NOT NULL; COMMIT;" },
	# a tenant table that leaked before: any DDL on it is judged, live (by
	# OID, whatever the statement altered) and in lint() (the table named)
	{ label => 'ALTER TABLE ADD COLUMN on a leaking tenant table',
	  expect => 'tenant-table-rls', base => 'CREATE TABLE leaky (id int, tenant_id uuid)',
	  script => "BEGIN; ALTER TABLE leaky ADD COLUMN note text; COMMIT;" },
	{ label => 'RENAME COLUMN on a leaking tenant table',
	  expect => 'tenant-table-rls', base => 'CREATE TABLE leaky (id int, tenant_id uuid)',
	  script => "ALTER TABLE leaky RENAME COLUMN id TO ident;" },
	{ label => 'ALTER TABLE on a leaking tenant table with its team policy',
	  expect => 'tenant-table-rls',
	  base => "CREATE TABLE leaky (id int, \"tenantId\" text); ALTER TABLE leaky ENABLE ROW LEVEL SECURITY; "
		. "CREATE POLICY p ON leaky USING (\"tenantId\" IS NULL OR \"tenantId\" = current_setting('app.t', true))",
	  script => "ALTER TABLE leaky ADD COLUMN name text;" },
	# the baseline: reported (a warning, live and in lint()), not refused
	{ label => 'a baselined leaking tenant table is reported',
	  expect => 'tenant-table-rls',
	  base => "CREATE TABLE leaky (id int, tenant_id uuid); SELECT schemaguard.baseline_tenant_leaks('agreement')",
	  script => "ALTER TABLE leaky ADD COLUMN note text;" },
	{ label => 'the shared-rows migration leaves the team table isolated',
	  expect => '',
	  base => "CREATE TABLE leaky (id int, \"tenantId\" text); ALTER TABLE leaky ENABLE ROW LEVEL SECURITY; "
		. "CREATE POLICY p ON leaky USING (\"tenantId\" IS NULL OR \"tenantId\" = current_setting('app.t', true))",
	  script => "BEGIN; SELECT schemaguard.enable_tenant_isolation('a.leaky', 'tenantId', shared_rows => true, "
		. "replace_policies => true); ALTER TABLE leaky ADD COLUMN name text; COMMIT;" },
	{ label => 'ROLLBACK drops the deferred findings of its transaction',
	  expect => '',
	  script => "BEGIN; ALTER TABLE t ADD COLUMN tenant_id text; ROLLBACK;" },
	{ label => 'ROLLBACK TO SAVEPOINT withdraws an allow()',
	  expect => 'require-concurrent-index-creation',
	  script => "BEGIN; SAVEPOINT s; $allow; ROLLBACK TO SAVEPOINT s;\n"
		. "CREATE INDEX t_v_idx ON t (v); COMMIT;" },
	{ label => 'RELEASE SAVEPOINT keeps an allow()',
	  expect => '',
	  script => "BEGIN; SAVEPOINT s; $allow; RELEASE SAVEPOINT s;\n"
		. "CREATE INDEX t_v_idx ON t (v); COMMIT;" },
	{ label => 'ROLLBACK TO SAVEPOINT takes an index back: the foreign key has none at COMMIT',
	  base => $par, expect => 'fk-without-index',
	  script => "BEGIN; $allow;\n"
		. "ALTER TABLE t ADD CONSTRAINT t_v_fk FOREIGN KEY (v) REFERENCES par (id) NOT VALID;\n"
		. "SAVEPOINT s; CREATE INDEX t_v_idx ON t (v); ROLLBACK TO SAVEPOINT s; COMMIT;" },
	{ label => 'an index kept past RELEASE counts at COMMIT',
	  base => $par, expect => '',
	  script => "BEGIN; $allow;\n"
		. "ALTER TABLE t ADD CONSTRAINT t_v_fk FOREIGN KEY (v) REFERENCES par (id) NOT VALID;\n"
		. "SAVEPOINT s; CREATE INDEX t_v_idx ON t (v); RELEASE SAVEPOINT s; COMMIT;" },
	{ label => 'ROLLBACK TO SAVEPOINT drops a deferred finding made after it',
	  expect => '',
	  script => "BEGIN; SAVEPOINT s; ALTER TABLE t ADD COLUMN tenant_id text; ROLLBACK TO SAVEPOINT s; COMMIT;" },
	{ label => 'a deferred finding made before the savepoint stays',
	  expect => 'tenant-table-rls',
	  script => "BEGIN; ALTER TABLE t ADD COLUMN tenant_id text; SAVEPOINT s;\n"
		. "ALTER TABLE t ADD COLUMN note text; ROLLBACK TO SAVEPOINT s; COMMIT;" },
	{ label => 'ROLLBACK TO SAVEPOINT takes a table back: the statement after it is judged on t',
	  expect => 'renaming-table,require-concurrent-index-creation',
	  script => "BEGIN; SAVEPOINT s; ALTER TABLE t RENAME TO t2; "
		. "CREATE TABLE t (id int PRIMARY KEY, v int); ROLLBACK TO SAVEPOINT s;\n"
		. "CREATE INDEX t_v_idx ON t (v); COMMIT;" },
	{ label => 'DROP OWNED takes a populated table with it',
	  base => 'CREATE TABLE a.o (id int); INSERT INTO a.o SELECT generate_series(1, 500); '
		. 'ALTER TABLE a.o OWNER TO agree_owner',
	  expect => 'staged-drop',
	  script => "BEGIN; DROP OWNED BY agree_owner; COMMIT;" },
	{ label => 'DROP OWNED of a role that owns only an empty table',
	  base => 'CREATE TABLE a.o (id int); ALTER TABLE a.o OWNER TO agree_owner',
	  expect => '',
	  script => "BEGIN; DROP OWNED BY agree_owner; COMMIT;" },
	{ label => 'a staging in the same transaction as the drop',
	  expect => 'staged-drop',
	  script => "BEGIN; SELECT schemaguard.stage_drop('t', 'v'); ALTER TABLE t DROP COLUMN v; COMMIT;" },
	{ label => 'a staging committed before the drop (drop_delay 0, no use since)',
	  expect => '',
	  script => "BEGIN; SELECT schemaguard.stage_drop('t', 'v'); COMMIT;\n"
		. "BEGIN; ALTER TABLE t DROP COLUMN v; COMMIT;" },
	{ label => 'a staging rolled back: the drop is of something not staged',
	  expect => 'staged-drop',
	  script => "BEGIN; SELECT schemaguard.stage_drop('t', 'v'); ROLLBACK;\n"
		. "BEGIN; ALTER TABLE t DROP COLUMN v; COMMIT;" },
	{ label => 'a staging rolled back to a savepoint',
	  expect => 'staged-drop',
	  script => "BEGIN; SAVEPOINT s; SELECT schemaguard.stage_drop('t', 'v'); ROLLBACK TO SAVEPOINT s; COMMIT;\n"
		. "BEGIN; ALTER TABLE t DROP COLUMN v; COMMIT;" },
	{ label => 'nested savepoints: RELEASE of the inner, ROLLBACK TO the outer, withdraws an allow()',
	  expect => 'require-concurrent-index-creation',
	  script => "BEGIN; SAVEPOINT a; SAVEPOINT b; $allow; RELEASE SAVEPOINT b; ROLLBACK TO SAVEPOINT a;\n"
		. "CREATE INDEX t_v_idx ON t (v); COMMIT;" },
	{ label => 'COMMIT AND CHAIN: the deferred findings are judged at the first COMMIT',
	  expect => 'tenant-table-rls',
	  script => "BEGIN; ALTER TABLE t ADD COLUMN tenant_id text; COMMIT AND CHAIN;\n"
		. "ALTER TABLE t ENABLE ROW LEVEL SECURITY; ROLLBACK;" },
	{ label => 'an older table inherited under a parent the transaction creates',
	  expect => 'changing-column-type',
	  script => "BEGIN; CREATE TABLE np (id int, v int); ALTER TABLE t INHERIT np;\n"
		. "ALTER TABLE np ALTER COLUMN v TYPE bigint USING 0; COMMIT;" },
	{ label => 'an older table attached to a partitioned table the transaction creates',
	  expect => 'changing-column-type',
	  script => "BEGIN; CREATE TABLE pp (id int, v int) PARTITION BY RANGE (id);\n"
		. "ALTER TABLE pp ATTACH PARTITION t FOR VALUES FROM (0) TO (1000);\n"
		. "ALTER TABLE pp ALTER COLUMN v TYPE bigint USING 0; COMMIT;" },
	{ label => 'ROLLBACK takes back a SET of lock_timeout', timeout => 0, busy => 1,
	  expect => 'require-lock-timeout',
	  script => "BEGIN; SET lock_timeout = '1s'; ROLLBACK;\nALTER TABLE t ADD COLUMN c int;" },
	{ label => 'COMMIT keeps a SET of lock_timeout', timeout => 0, busy => 1,
	  expect => '',
	  script => "BEGIN; SET lock_timeout = '1s'; COMMIT;\nALTER TABLE t ADD COLUMN c int;" },
);

# The schema made anew, as a superuser with the guard off.
sub reset_schema
{
	my (@sql) = @_;
	$node->safe_psql('postgres', join(";\n",
		'SET schemaguard.mode = off',
		'SET client_min_messages = warning',
		'DROP SCHEMA IF EXISTS a, a2, a3 CASCADE',
		'DROP DATABASE IF EXISTS agree_victim',
		"DELETE FROM schemaguard.drop_stages",
		"DELETE FROM schemaguard.tenant_baseline",
		'CREATE SCHEMA a',
		'CREATE SCHEMA a2',
		'SET search_path = a',
		grep { defined && $_ ne '' } @sql));
}

# The rules a psql run's messages name, as a sorted list.
sub live_rules
{
	my ($stderr) = @_;
	my %r;
	while ($stderr =~ /violates rule ([a-z-]+)(?:, and \d+ more rules?: ([a-z, -]+))?/g)
	{
		$r{$1} = 1;
		$r{$_} = 1 for grep { $_ ne '' } split /,\s*/, ($2 // '');
	}
	return join(',', sort keys %r);
}

sub lint_rules
{
	my ($script) = @_;
	my $q = $script;
	$q =~ s/\$/\$\$/g if 0;
	return $node->safe_psql('postgres',
		"SET search_path = a; SELECT coalesce(string_agg(DISTINCT rule, ',' ORDER BY rule), '') "
		. "FROM schemaguard.lint(\$sg\$$script\$sg\$, false, 'psql')");
}

# Another session holding ACCESS SHARE on a.t (a reader in the way).
sub hold_lock
{
	my ($tbl) = @_;
	$tbl = 't' if !defined $tbl || $tbl eq '1';
	my ($in, $out) = ("BEGIN; LOCK TABLE ONLY a.$tbl IN ACCESS SHARE MODE; SELECT 'locked';\n", '');
	my $h = IPC::Run::start([ 'psql', '-X', '-At', '-d', $node->connstr('postgres') ],
		'<', \$in, '>', \$out, '2>', \my $err);
	$h->pump until $out =~ /locked/ || !$h->pumpable;
	return $h;
}

sub run_case
{
	my ($name, $script, $expect, $setup, %o) = @_;
	reset_schema(@$setup);
	my $full = ($o{timeout} // 1 ? "SET lock_timeout = '1s';\n" : '') . $script . "\n";
	$node->safe_psql('postgres', "SELECT schemaguard.set_rule_level('$o{rule}', '$o{level}')")
		if $o{level};
	my $lint = lint_rules($full);
	my $h = $o{busy} ? hold_lock($o{busy}) : undef;
	my $mode = $o{busy} ? 'enforce' : 'warn';
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET search_path = a;\nSET schemaguard.mode = $mode;\n"
		  # the reader stays for the whole case: one attempt, no retries
		  . "SET schemaguard.lock_retry_budget = 0;\n" . $full, on_error_stop => 0);
	if ($h)
	{
		$h->kill_kill;
		$h->finish;
	}
	$node->safe_psql('postgres', "SELECT schemaguard.set_rule_level('$o{rule}', 'default')")
		if $o{level};
	my $live = live_rules($err);
	is($lint, $live, "$name: lint [$lint] agrees with live [$live]");
	if (defined $expect)
	{
		if ($expect eq '')
		{
			is($live, '', "$name: live passes it");
		}
		else
		{
			like(",$live,", qr/,\Q$expect\E,/, "$name: live reports $expect");
		}
	}
	diag("$name\n$err") if $lint ne $live;
}

for my $c (@cases)
{
	my $tbl = $c->{table} // $table;
	my $r = exists $c->{rows} ? $c->{rows} : $rows;
	$r = 'INSERT INTO t1 SELECT g, g FROM generate_series(1, 500) g' if $tbl =~ /PARTITION OF/;
	for my $state ('populated', 'empty', 'created')
	{
		my $name = "$c->{rule}" . ($c->{label} ? " ($c->{label})" : '') . ", $state";
		my @setup = ($c->{base}, $c->{pre_outside});
		my $inside = '';
		if ($state eq 'created')
		{
			$inside = join(";\n", grep { defined && $_ ne '' } $tbl, $r, $c->{pre}) . ";\n";
		}
		else
		{
			push @setup, $tbl, ($state eq 'populated' ? $r : ''), $c->{pre}, 'ANALYZE';
		}
		my $block = $c->{block} // 1;
		# a database is created outside a transaction block
		my $script = $block ? "BEGIN;\n$inside$c->{stmt};\nCOMMIT;"
		  : ($state eq 'created' ? "$inside$c->{stmt};" : "$c->{stmt};");
		if (!$block && $state eq 'created')
		{
			@setup = grep { !defined || $_ ne $c->{pre_outside} } @setup;
			$script = "$c->{pre_outside};\n" . $script;
		}
		my $expect = $state ne 'populated' ? undef : $c->{passes} ? '' : $c->{rule};
		run_case($name, $script, $expect, \@setup,
			rule => $c->{rule}, level => $c->{level}, timeout => $c->{timeout},
			busy => $c->{busy} && $state ne 'created');
	}
}

for my $c (@xact_cases)
{
	run_case($c->{label}, $c->{script}, $c->{expect},
		[ $c->{base}, $table, $rows, 'ANALYZE' ],
		rule => 'x', timeout => $c->{timeout}, busy => $c->{busy});
}

# the baseline's level: live lets the statement through with a WARNING in
# enforce mode, and lint() says warning; without the baseline, error and
# refused
reset_schema('CREATE TABLE leaky (id int, tenant_id uuid)');
my ($brc, $bout, $berr) = $node->psql('postgres', 'SET search_path = a; ALTER TABLE leaky ADD COLUMN note text;');
isnt($brc, 0, 'not baselined: refused');
is(lint_level('ALTER TABLE leaky ADD COLUMN note2 text;'), 'error', '... and lint() says error');
$node->safe_psql('postgres', "SELECT schemaguard.baseline_tenant_leaks('agreement')");
($brc, $bout, $berr) = $node->psql('postgres', 'SET search_path = a; ALTER TABLE leaky ADD COLUMN note text;');
is($brc, 0, 'baselined: it runs');
like($berr, qr/WARNING:  .*violates rule tenant-table-rls/, '... with a warning');
is(lint_level('ALTER TABLE leaky ADD COLUMN note2 text;'), 'warning', '... and lint() says warning');

sub lint_level
{
	my ($script) = @_;
	return $node->safe_psql('postgres',
		"SET search_path = a; SELECT string_agg(level, ',') FROM schemaguard.lint(\$sg\$$script\$sg\$, false, 'psql') "
		. "WHERE rule = 'tenant-table-rls'");
}

# lint() only: the shape of a file's transactions, which the server never
# sees whole (core warns of a nested BEGIN and of a COMMIT outside a
# transaction itself); here lint() reports them under each runner model
my %lint_only = ('transaction-nesting' => 1, 'ban-uncommitted-transaction' => 1);
for my $t (
	[ 'BEGIN; BEGIN; SELECT 1; COMMIT;', 'psql', 'transaction-nesting' ],
	[ 'BEGIN; SELECT 1; COMMIT; COMMIT;', 'psql', 'transaction-nesting' ],
	[ 'SELECT 1; COMMIT;', 'psql-single', 'transaction-nesting' ],
	[ 'BEGIN; SELECT 1; COMMIT;', 'dbmate', 'transaction-nesting' ],
	[ 'BEGIN; SELECT 1; COMMIT;', 'prisma', '' ],
	[ 'BEGIN; SELECT 1; COMMIT; BEGIN; SELECT 2; COMMIT;', 'psql', '' ],
	[ 'BEGIN; CREATE TABLE u (id bigint);', 'psql', 'ban-uncommitted-transaction' ],
	[ 'START TRANSACTION; CREATE TABLE u (id bigint);', 'psql', 'ban-uncommitted-transaction' ],
	[ 'BEGIN; CREATE TABLE u (id bigint); ROLLBACK;', 'psql', '' ])
{
	my ($script, $runner, $expect) = @$t;
	is($node->safe_psql('postgres',
			"SELECT coalesce(string_agg(DISTINCT rule, ','), '') FROM schemaguard.lint(\$sg\$$script\$sg\$, false, '$runner') "
			  . "WHERE rule IN ('transaction-nesting', 'ban-uncommitted-transaction')"),
		$expect, "lint() only: $script under $runner: [$expect]");
}

# every rule has a case
my %covered = map { $_->{rule} => 1 } @cases;
my @rules = split /\n/, $node->safe_psql('postgres', 'SELECT rule FROM schemaguard.rules() ORDER BY 1');
is(join(',', grep { !$covered{$_} && !$lint_only{$_} } @rules), '', 'every rule of rules() has an agreement case (or is lint() only)');

$node->stop;
done_testing();
