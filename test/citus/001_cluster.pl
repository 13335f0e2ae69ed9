# schemaguard on a Citus cluster: a coordinator and two workers on this
# machine, shared_preload_libraries = 'citus,schemaguard' and the guard
# enforcing on every node (issue 18).  Run by test/scripts/citus, which
# builds Citus from ../shared/citus first.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $t0 = time;
my $key = 'schemaguard-test-key-' . ('k' x 24);
my %node;
for my $name (qw(coordinator worker1 worker2))
{
	my $n = PostgreSQL::Test::Cluster->new($name);
	$n->init(allows_streaming => 'logical');
	$n->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'citus,schemaguard'
schemaguard.mode = enforce
schemaguard.tenant_key = '$key'
# shards and the reference table are small: judged as tables of any size
# (sql/small_tables.sql tests the 1MB default)
schemaguard.small_table_size = 0
max_prepared_transactions = 20
max_connections = 200
max_worker_processes = 24
citus.background_task_queue_interval = '1s'
listen_addresses = 'localhost'
});
	# Citus connects to a node by host name and TCP (shard copies too).
	$n->append_conf('pg_hba.conf', "host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n");
	$n->start;
	$n->safe_psql('postgres', 'CREATE EXTENSION citus; CREATE EXTENSION schemaguard;');
	$node{$name} = $n;
}
my ($co, $w1, $w2) = @node{qw(coordinator worker1 worker2)};

# psql as role (default the superuser); returns (exit code, stdout, stderr)
sub run_sql
{
	my ($n, $sql, $role) = @_;
	my ($out, $err) = ('', '');
	my $rc = $n->psql('postgres', $sql, stdout => \$out, stderr => \$err,
		extra_params => [ '-v', 'VERBOSITY=verbose', ($role ? ('-U', $role) : ()) ],
		on_error_stop => 1);
	return ($rc, $out, $err);
}

sub refused
{
	my ($n, $sql, $want, $name, $role) = @_;
	my ($rc, $out, $err) = run_sql($n, $sql, $role);
	ok($rc != 0 && $err =~ $want, $name) or diag("rc $rc\n$out\n$err");
	return $err;
}

sub passes
{
	my ($n, $sql, $name, $role) = @_;
	my ($rc, $out, $err) = run_sql($n, $sql, $role);
	ok($rc == 0, $name) or diag("$out\n$err");
	return $out;
}

# ---------- the cluster forms with the guard enforcing on every node ----------
passes($co, "SELECT citus_set_coordinator_host('localhost', " . $co->port . ")",
	'citus_set_coordinator_host');
for my $w ($w1, $w2)
{
	passes($co, "SELECT citus_add_node('localhost', " . $w->port . ")",
		'citus_add_node ' . $w->name . ' (metadata sync to an enforcing worker)');
}
is($co->safe_psql('postgres', 'SELECT count(*) FROM pg_dist_node WHERE isactive'), '3',
	'three active nodes');

# ---------- a populated distributed table ----------
my $setup = <<'SQL';
SET lock_timeout = '2s';
CREATE TABLE t (id bigint, acct text NOT NULL, v int, w text, PRIMARY KEY (acct, id));
SELECT create_distributed_table('t', 'acct');
INSERT INTO t SELECT g, 'a' || (g % 997), g, repeat('x', 100) FROM generate_series(1, 100000) g;
CREATE TABLE ref (id int PRIMARY KEY, name text);
SELECT create_reference_table('ref');
INSERT INTO ref SELECT g, 'n' || g FROM generate_series(1, 2000) g;
SQL
passes($co, $setup, 'create_distributed_table and create_reference_table, with data');

# What the shards look like: columns, types, constraints and indexes of every placement.
my $shape_sql = q{SELECT string_agg(result, ';' ORDER BY shardid) FROM run_command_on_shards('t',
 $$SELECT (SELECT string_agg(attname || ':' || atttypid::regtype, ',' ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = '%1$s'::regclass AND attnum > 0 AND NOT attisdropped)
   || '/' || (SELECT count(*) FROM pg_constraint WHERE conrelid = '%1$s'::regclass)
   || '/' || (SELECT count(*) FROM pg_index WHERE indrelid = '%1$s'::regclass)$$)};
my $shape = $co->safe_psql('postgres', $shape_sql);
my $nshards = $co->safe_psql('postgres', "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 't'::regclass");
my $size = $co->safe_psql('postgres', "SELECT pg_size_pretty(citus_relation_size('t'))");
diag("t: $size over $nshards shards; its local shell: "
	  . $co->safe_psql('postgres', "SELECT pg_size_pretty(pg_relation_size('t'))"));

# ---------- each dangerous DDL is refused on the coordinator, shards unchanged ----------
my $lt = "SET lock_timeout = '2s';";
my %dangerous = (
	'CREATE INDEX without CONCURRENTLY' =>
	  [ 'CREATE INDEX t_v ON t (v)', qr/require-concurrent-index-creation/ ],
	'ADD CHECK without NOT VALID' =>
	  [ 'ALTER TABLE t ADD CONSTRAINT t_pos CHECK (id > 0)', qr/constraint-missing-not-valid/ ],
	'ADD FOREIGN KEY without NOT VALID' =>
	  [ 'ALTER TABLE t ADD CONSTRAINT t_ref FOREIGN KEY (v) REFERENCES ref (id)', qr/constraint-missing-not-valid/ ],
	'DROP COLUMN, not staged' =>
	  [ 'ALTER TABLE t DROP COLUMN w', qr/staged-drop/ ],
	'ALTER COLUMN TYPE (a rewrite)' =>
	  [ 'ALTER TABLE t ALTER COLUMN v TYPE bigint', qr/changing-column-type/ ],
	'SET NOT NULL' =>
	  [ 'ALTER TABLE t ALTER COLUMN v SET NOT NULL', qr/set-not-null-without-check/ ],
	'DROP TABLE, not staged' =>
	  [ 'DROP TABLE t', qr/staged-drop/ ],
);
my $shown;
for my $what (sort keys %dangerous)
{
	my ($sql, $rule) = @{ $dangerous{$what} };
	my $err = refused($co, "$lt $sql", qr/SG001.*$rule/s, "coordinator refuses $what");
	like($err, qr/over $nshards shards/, "... and the detail shows the distributed size ($what)");
	($shown) = $err =~ /\(([^()]*over $nshards shards)\)/ if !$shown;
}
diag("size shown in refusals: ($shown)");
is($co->safe_psql('postgres', $shape_sql), $shape, 'every shard unchanged after the refusals');
refused($co, "$lt ALTER TABLE ref ADD CONSTRAINT ref_pos CHECK (id > 0)",
	qr/a reference table on every node/, 'a reference table is judged by its placements');
my $lint = $co->safe_psql('postgres',
	"SELECT string_agg(DISTINCT rule, ',' ORDER BY rule) FROM schemaguard.lint("
	  . "'SET lock_timeout = ''2s''; CREATE INDEX t_v ON t (v); ALTER TABLE t ADD CONSTRAINT t_pos CHECK (id > 0);', false)");
is($lint, 'constraint-missing-not-valid,require-concurrent-index-creation',
	'lint() on the coordinator uses the same facts (assume_populated false)');

# ---------- the safe forms pass, and reach every shard ----------
passes($co, "$lt CREATE INDEX CONCURRENTLY t_v ON t (v)", 'CREATE INDEX CONCURRENTLY on a distributed table');
passes($co, "$lt ALTER TABLE t ADD CONSTRAINT t_pos CHECK (id > 0) NOT VALID", 'ADD CHECK ... NOT VALID');
passes($co, "$lt ALTER TABLE t VALIDATE CONSTRAINT t_pos", 'VALIDATE CONSTRAINT');
passes($co, "$lt ALTER TABLE t ADD COLUMN note text", 'ADD COLUMN');
my $after = $co->safe_psql('postgres', $shape_sql);
my $every = () = $after =~ /note:text\/2\/2/g;
is($every, $nshards, 'every shard has the new column, constraint and index');
passes($co, <<"SQL", 'a table created, distributed, filled and indexed in one transaction');
$lt
BEGIN;
CREATE TABLE fresh (id bigint PRIMARY KEY, v int);
SELECT create_distributed_table('fresh', 'id');
INSERT INTO fresh SELECT g, g FROM generate_series(1, 20000) g;
CREATE INDEX fresh_v ON fresh (v);
ALTER TABLE fresh ADD CONSTRAINT fresh_pos CHECK (v > 0);
COMMIT;
SQL
refused($co, "$lt BEGIN; UPDATE fresh SET v = v + 1; CREATE INDEX fresh_v2 ON fresh (v); COMMIT;",
	qr/whose size Citus could not read here, so assumed to hold data/,
	'after a multi-shard UPDATE in the same transaction, the size is unknown and taken as data');

# ---------- the user's statements are recorded once, on the coordinator ----------
is($co->safe_psql('postgres', "SELECT count(*) FROM schemaguard.ddl_log WHERE statement LIKE 'CREATE INDEX CONCURRENTLY t_v%'"),
	'1', 'ddl_log on the coordinator: CREATE INDEX CONCURRENTLY once');
passes($co, "$lt ALTER TABLE ref ADD COLUMN extra int", 'ALTER TABLE on a reference table (a placement on the coordinator)');
is($co->safe_psql('postgres', "SELECT count(*) FROM schemaguard.ddl_log WHERE statement ~ 'ref ADD COLUMN extra'"),
	'1', "ddl_log: once, not again for the coordinator's own placement");
passes($co, <<"SQL", 'a migration on distributed tables');
$lt
BEGIN;
SELECT schemaguard.begin_migration('20261203', 'add flag');
ALTER TABLE t ADD COLUMN flag boolean;
ALTER TABLE t ADD CONSTRAINT t_acct CHECK (acct <> '') NOT VALID;
COMMIT;
SQL
is($co->safe_psql('postgres', "SELECT statement_count FROM schemaguard.migrations WHERE version = '20261203'"),
	'2', 'the migration history holds its two statements, once each');
for my $w ($w1, $w2)
{
	is($w->safe_psql('postgres', "SELECT count(*) FROM schemaguard.ddl_log WHERE command_tag <> 'CREATE EXTENSION'"),
		'0', 'ddl_log on ' . $w->name . ': none of Citus\'s shard DDL');
}

# ---------- shard moves, rebalancing, cleanup ----------
passes($co, <<"SQL", 'a table placed on worker1 only');
SELECT citus_set_node_property('localhost', ${\ $w2->port}, 'shouldhaveshards', false);
CREATE TABLE moving (id bigint PRIMARY KEY, v int);
SELECT create_distributed_table('moving', 'id', colocate_with => 'none');
INSERT INTO moving SELECT g, g FROM generate_series(1, 30000) g;
SELECT citus_set_node_property('localhost', ${\ $w2->port}, 'shouldhaveshards', true);
SQL
my $on_w2 = "SELECT count(*) FROM citus_shards WHERE table_name = 'moving'::regclass AND nodeport = " . $w2->port;
is($co->safe_psql('postgres', $on_w2), '0', 'no shard on worker2 yet');
passes($co, "SELECT rebalance_table_shards('moving', shard_transfer_mode => 'block_writes')",
	'rebalance_table_shards (block_writes) completes');
my $moved = $co->safe_psql('postgres', $on_w2);
ok($moved > 0, "rebalance moved $moved shards to worker2");
my ($shard) = $co->safe_psql('postgres', "SELECT shardid FROM citus_shards WHERE table_name = 'moving'::regclass AND nodeport = " . $w1->port . " LIMIT 1");
passes($co, "SELECT citus_move_shard_placement($shard, 'localhost', ${\ $w1->port}, 'localhost', ${\ $w2->port}, shard_transfer_mode => 'force_logical')",
	'citus_move_shard_placement by logical replication');
passes($co, "SELECT citus_set_node_property('localhost', ${\ $w2->port}, 'shouldhaveshards', false); SELECT citus_drain_node('localhost', ${\ $w2->port}, shard_transfer_mode => 'block_writes'); SELECT citus_set_node_property('localhost', ${\ $w2->port}, 'shouldhaveshards', true);",
	'citus_drain_node');
passes($co, "SELECT citus_rebalance_start(shard_transfer_mode => 'block_writes'); SELECT citus_rebalance_wait();",
	'the background rebalancer (citus_rebalance_start) completes');
is($co->safe_psql('postgres', "SELECT state FROM pg_dist_background_job ORDER BY job_id DESC LIMIT 1"), 'finished',
	'background rebalance job finished');
passes($co, 'CALL citus_cleanup_orphaned_resources()', 'orphaned shards are cleaned up on enforcing workers');
is($co->safe_psql('postgres', 'SELECT count(*) FROM pg_dist_cleanup'), '0', 'nothing left to clean');
is($co->safe_psql('postgres', 'SELECT count(*), sum(v) FROM moving'), '30000|450015000', 'every row after the moves');

# ---------- tenant isolation on distributed tables ----------
passes($co, <<"SQL", 'tenant tables isolated before and after create_distributed_table');
$lt
CREATE ROLE app LOGIN;
CREATE ROLE reporter LOGIN;
GRANT EXECUTE ON FUNCTION schemaguard.set_tenant(text), schemaguard.set_tenant_session(text) TO app;
BEGIN;
CREATE TABLE inv (id bigint, tenant_id text NOT NULL, total int, PRIMARY KEY (tenant_id, id));
SELECT schemaguard.enable_tenant_isolation('inv');
COMMIT;
SELECT create_distributed_table('inv', 'tenant_id');
BEGIN;
CREATE TABLE orders (id bigint, tenant_id text NOT NULL, total int, PRIMARY KEY (tenant_id, id));
SELECT create_distributed_table('orders', 'tenant_id');
SELECT schemaguard.enable_tenant_isolation('orders');
COMMIT;
INSERT INTO inv SELECT g, 't' || (g % 100), g FROM generate_series(1, 100000) g;
INSERT INTO orders SELECT g, 't' || (g % 100), g FROM generate_series(1, 50000) g;
GRANT SELECT, INSERT ON inv, orders TO app;
GRANT SELECT ON inv TO reporter;
SQL
for my $tab (qw(inv orders))
{
	is($co->safe_psql('postgres', "SELECT count(*) FILTER (WHERE result = '1') || '/' || count(*) FROM run_command_on_shards('$tab', \$\$SELECT count(*) FROM pg_policy WHERE polrelid = '%s'::regclass AND polname = 'schemaguard_tenant_isolation'\$\$)"),
		"$nshards/$nshards", "$tab: the policy is on every shard");
}
my $tenant_sql = <<'SQL';
BEGIN;
SELECT schemaguard.set_tenant('t7');
SELECT 'multi-shard ' || count(*) FROM inv;
SELECT 'router ' || count(*) FROM inv WHERE tenant_id = 't7';
SELECT 'other tenant ' || count(*) FROM inv WHERE tenant_id = 't8';
SELECT 'join ' || count(*) FROM inv i JOIN orders o USING (tenant_id, id);
SELECT 'sum ' || sum(total) FROM orders;
SAVEPOINT s;
SELECT schemaguard.set_tenant('t8');
SELECT 'in savepoint ' || count(*) FROM inv WHERE tenant_id = 't8';
ROLLBACK TO SAVEPOINT s;
SELECT 'after rollback to savepoint ' || count(*) FROM inv;
SELECT schemaguard.reset_tenant();
SELECT 'after reset ' || count(*) FROM inv;
COMMIT;
SELECT 'no tenant ' || count(*) FROM inv;
SELECT 'no tenant, router ' || count(*) FROM inv WHERE tenant_id = 't7';
SQL
my $res = passes($co, $tenant_sql, 'tenant queries through the coordinator', 'app');
my $want_sum = $co->safe_psql('postgres', "SELECT sum(total) FROM orders WHERE tenant_id = 't7'");
my %got = map { /^(.*) (\d+)$/ ? ($1 => $2) : () } split /\n/, $res;
is($got{'multi-shard'}, 1000, 'multi-shard query: exactly tenant t7\'s 1000 rows');
is($got{router}, 1000, 'router query: 1000 rows');
is($got{'other tenant'}, 0, 'another tenant\'s rows: none');
is($got{join}, 500, 'a co-located join: 500 rows');
is($got{sum}, $want_sum, 'sum over orders: tenant t7\'s only');
is($got{'in savepoint'}, 1000, 'set_tenant() in a savepoint reaches the workers');
is($got{'after rollback to savepoint'}, 1000, 'ROLLBACK TO SAVEPOINT restores t7 on the workers');
is($got{'after reset'}, 0, 'reset_tenant(): none');
is($got{'no tenant'}, 0, 'no tenant set: none (fail closed)');
is($got{'no tenant, router'}, 0, 'no tenant set, router query: none');
diag("tenant t7 through the coordinator: " . join(', ', map { "$_ $got{$_}" } sort keys %got));
refused($co, "BEGIN; SELECT schemaguard.set_tenant('t7'); INSERT INTO inv VALUES (-1, 't8', 0); COMMIT;",
	qr/row-level security/, 'an INSERT of another tenant\'s row is refused', 'app');
my $session = passes($co, "SELECT schemaguard.set_tenant_session('t7'); SELECT count(*) FROM inv;",
	'set_tenant_session() on the coordinator', 'app');
like($session, qr/^0$/m, 'a session tenant is not carried to the workers: none (documented)');
refused($co, "BEGIN; CREATE TABLE leaky (id bigint, tenant_id text NOT NULL, PRIMARY KEY (tenant_id, id)); SELECT create_distributed_table('leaky', 'tenant_id'); COMMIT;",
	qr/tenant-table-rls/, 'rule tenant-table-rls: a distributed tenant table without isolation');

# A client on a worker: tokens it did not get from set_tenant() are refused.
my $token = (split /\n/, passes($co, "BEGIN; SELECT schemaguard.set_tenant('t7'); SHOW schemaguard.tenant_token; COMMIT;",
		'a token, as app sees its own', 'app'))[-1];
my $shard_sql = "SET citus.override_table_visibility TO off; SELECT relname FROM pg_class WHERE relname LIKE 'inv\\_1%' AND relkind = 'r' ORDER BY pg_relation_size(oid) DESC LIMIT 1";
my $inv_shard = (split /\n/, $w1->safe_psql('postgres', $shard_sql))[-1];
my $forged = $token;
$forged =~ s/:([0-9a-f]+):([0-9a-f]+)$/':' . unpack('H*', 't8') . ':' . $2/e;
refused($w1, "BEGIN; SET LOCAL schemaguard.tenant_token = '$forged'; SELECT count(*) FROM $inv_shard; COMMIT;",
	qr/42501.*not a valid tenant token.*not signed with this server's schemaguard.tenant_key/s,
	'worker: a token with another tenant in it is refused', 'app');
refused($w1, "BEGIN; SET LOCAL schemaguard.tenant_token = 't8'; COMMIT;",
	qr/not a valid tenant token/, 'worker: a bare tenant in the token is refused', 'app');
refused($w1, "SET schemaguard.tenant = 't8'", qr/42501/,
	'worker: schemaguard.tenant cannot be SET', 'app');
my $stolen = passes($w1, "BEGIN; SET LOCAL schemaguard.tenant_token = '$token'; SELECT coalesce(schemaguard.current_tenant(), 'none'); SELECT count(*) FROM $inv_shard; COMMIT;",
	'worker: app\'s token presented by another role', 'reporter');
like($stolen, qr/^none\n0$/m, 'worker: ... gives that role no tenant and no rows');
my $direct = passes($w1, "SELECT count(*) FROM $inv_shard", 'worker: a direct query on a shard', 'app');
like($direct, qr/^0$/m, 'worker: no tenant, no rows');
my $expired = passes($co, "SET schemaguard.tenant_token_lifetime = 1; BEGIN; SELECT schemaguard.set_tenant('t7'); SHOW schemaguard.tenant_token; COMMIT;",
	'a token with a one-second lifetime');
$expired = (split /\n/, $expired)[-1];
sleep 2;
like(passes($w1, "BEGIN; SET LOCAL schemaguard.tenant_token = '$expired'; SELECT coalesce(schemaguard.current_tenant(), 'none'); COMMIT;",
		'worker: an expired token'), qr/^none$/m, 'worker: an expired token gives no tenant');

# A token counts only in the transaction that set it: a plain SET of one
# never outlives its transaction (a pooled connection's next client).
my $fresh = (split /\n/, passes($co, "BEGIN; SELECT schemaguard.set_tenant('t7'); SHOW schemaguard.tenant_token; COMMIT;",
		'a fresh token', 'app'))[-1];
like(passes($w1, "SET schemaguard.tenant_token = '$fresh'; SELECT coalesce(schemaguard.current_tenant(), 'none'); SELECT count(*) FROM $inv_shard;",
		'worker: a session SET of a valid token', 'app'),
	qr/^none\n0$/m, 'worker: ... gives no tenant in the next transactions');
like(passes($co, "SET schemaguard.tenant_token = '$fresh'; SELECT count(*) FROM inv;",
		'coordinator: a session SET of a valid token', 'app'),
	qr/^0$/m, 'coordinator: ... carries no tenant to the next transactions');
# Parallel workers on a worker node inherit the token with the transaction.
my $par = passes($w1, "BEGIN; SET LOCAL schemaguard.tenant_token = '$fresh'; SELECT count(*) FROM $inv_shard; "
	  . "SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0; SET LOCAL min_parallel_table_scan_size = 0; "
	  . "SET LOCAL max_parallel_workers_per_gather = 2; SET LOCAL force_parallel_mode = on; "
	  . "SELECT count(*) FROM $inv_shard; EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(*) FROM $inv_shard; COMMIT;",
	'worker: the token in a parallel query', 'app');
like($par, qr/Workers Launched: [1-9]/, 'worker: ... ran in parallel workers');
my @par = grep { /^\d+$/ } split /\n/, $par;
ok(@par == 2 && $par[0] > 0 && $par[0] == $par[1], "worker: a parallel scan sees the token's rows ($par[0] and $par[1])")
  or diag($par);

# ---------- staged drops: coordinator queries count as uses ----------
passes($co, "SELECT schemaguard.stage_drop('t', 'w', reason => 'moved to note')", 'stage a column of a distributed table');
passes($co, "SELECT count(w) FROM t WHERE acct = 'a1'; SELECT count(*) FROM t WHERE w IS NULL;", 'queries that read it');
like($co->safe_psql('postgres', "SELECT use_count || ' ' || (last_used_at IS NOT NULL) FROM schemaguard.staged_drops WHERE column_name = 'w'"),
	qr/^[1-9]\d* true$/, 'their uses are recorded');
refused($co, "SET schemaguard.drop_delay = '1h'; $lt ALTER TABLE t DROP COLUMN w", qr/staged-drop.*used/s,
	'DROP COLUMN of a staged column in use is refused');
passes($co, "$lt ALTER TABLE t DROP COLUMN w", 'with no delay, the staged column drops');

# ---------- audit ----------
refused($co, "SELECT schemaguard.enable_audit('t')", qr/0A000.*enable_audit\(\) does not support Citus table "t"/s,
	'enable_audit() refuses a distributed table');
refused($co, "SELECT schemaguard.enable_audit('ref')", qr/does not support Citus table/,
	'... and a reference table');
passes($co, "CREATE TABLE local_only (id int PRIMARY KEY); SELECT schemaguard.enable_audit('local_only'); INSERT INTO local_only VALUES (1);",
	'a local table on the coordinator is audited');
is($co->safe_psql('postgres', "SELECT count(*) FROM schemaguard.audit_log WHERE table_name = 'local_only' AND op NOT LIKE 'AUDIT %'"), '1',
	'... and its row is in the log');
# Distributed after enable_audit(): Citus refuses (the table has triggers)
# unless citus.enable_unsafe_triggers copies them to every shard; then the
# audit trigger refuses the writes rather than log on the workers.
refused($co, "SELECT create_distributed_table('local_only', 'id')", qr/has triggers/,
	'Citus refuses to distribute an audited table');
refused($co, "SET citus.enable_unsafe_triggers = on; SELECT create_distributed_table('local_only', 'id')",
	qr/cannot record changes of Citus table "local_only"/,
	'with citus.enable_unsafe_triggers, copying its rows into the shards is refused');
passes($co, "INSERT INTO local_only VALUES (2)", 'the table stays local');
is($co->safe_psql('postgres', "SELECT count(*) FROM schemaguard.audit_log WHERE table_name = 'local_only' AND op NOT LIKE 'AUDIT %'"), '2',
	'... and audited');
passes($co, "CREATE TABLE audited_empty (id int PRIMARY KEY); SELECT schemaguard.enable_audit('audited_empty'); "
	  . "SET citus.enable_unsafe_triggers = on; SELECT create_distributed_table('audited_empty', 'id')",
	'an empty audited table distributes with citus.enable_unsafe_triggers');
refused($co, "INSERT INTO audited_empty VALUES (1)",
	qr/0A000.*cannot record changes of Citus table "audited_empty".*disable_audit\('audited_empty'\)/s,
	'then the audit trigger on its shards refuses the writes');
refused($co, "INSERT INTO audited_empty SELECT g FROM generate_series(1, 40) g",
	qr/cannot record changes of Citus table "audited_empty"/,
	'... a multi-shard INSERT too (Citus reports it as XX000)');
refused($co, "TRUNCATE audited_empty", qr/cannot record changes of Citus table/,
	'... and TRUNCATE');
for my $w ($w1, $w2)
{
	is($w->safe_psql('postgres', "SELECT count(*) FROM schemaguard.audit_log"), '0',
		$w->name . ': no audit rows written on the worker');
}
passes($co, "SET citus.enable_unsafe_triggers = on; SELECT schemaguard.disable_audit('audited_empty'); INSERT INTO audited_empty SELECT g FROM generate_series(1, 40) g",
	'after disable_audit() the writes go on');

# ---------- a client on a worker is still guarded ----------
my $t_shard = (split /\n/, $w1->safe_psql('postgres',
		"SET citus.override_table_visibility TO off; SELECT relname FROM pg_class WHERE relname LIKE 't\\_1%' AND relkind = 'r' ORDER BY pg_relation_size(oid) DESC LIMIT 1"))[-1];
refused($w1, "SET citus.enable_manual_changes_to_shards = on; $lt CREATE INDEX t_shard_v ON $t_shard (v)",
	qr/require-concurrent-index-creation/, 'worker: direct DDL on a populated shard is refused');
my ($t_shardid) = $t_shard =~ /_(\d+)$/;
refused($w1, "$lt SELECT worker_apply_shard_ddl_command($t_shardid, 'public', 'ALTER TABLE t ADD CONSTRAINT t_x CHECK (v > 0)')",
	qr/constraint-missing-not-valid/, 'worker: DDL sent through worker_apply_shard_ddl_command() by hand is judged');

# ---------- no crash on any node ----------
for my $n ($co, $w1, $w2)
{
	is($n->safe_psql('postgres', 'SELECT 1'), '1', $n->name . ' still answers');
	my $log = slurp_file($n->logfile);
	unlike($log, qr/terminated by signal|PANIC|TRAP:|server process .* was terminated/,
		$n->name . ': no crash in the server log');
}
diag(sprintf('citus tier: %.0f s', time - $t0));
done_testing();
