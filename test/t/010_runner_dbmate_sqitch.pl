# Two more real runners against a guarded server: dbmate (its npm package
# ships the binary) and sqitch (Debian's package; its pg engine runs each
# deploy script with psql).  A safe migration is applied and recorded in
# schemaguard's history (begin_migration() called from the migration's own
# SQL: neither runner needs a wrapper); a dangerous one fails, and the
# runner's output carries schemaguard's message and hint intact.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SgTest qw(put);

my ($dbmate, $sqitch) = ($ENV{SG_DBMATE} // '', $ENV{SG_SQITCH} // '');
plan skip_all => ($ENV{PG_MAJOR} // '15') ne '15'
	? 'the dbmate and sqitch runners are tested on PostgreSQL 15 only'
	: join('; ',
		($dbmate && -x $dbmate ? () : ('dbmate could not be installed: ' . ($ENV{SG_DBMATE_WHY} || 'SG_DBMATE is not set'))),
		($sqitch && -x $sqitch ? () : ('sqitch could not be installed: ' . ($ENV{SG_SQITCH_WHY} || 'SG_SQITCH is not set'))))
	unless $dbmate && -x $dbmate && $sqitch && -x $sqitch;

my $node = PostgreSQL::Test::Cluster->new('runners');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'schemaguard'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION schemaguard');
my $user = (getpwuid($<))[0];
my $base = $node->basedir;


sub history
{
	my $v = shift;
	return $node->safe_psql('postgres',
		"SELECT status || ',' || statement_count || ',' || coalesce(name, '') FROM schemaguard.migrations WHERE version = '$v'");
}

# --- dbmate -------------------------------------------------------------------
{
	my $dir = "$base/db/migrations";
	local $ENV{DATABASE_URL} = "postgres://$user\@/postgres?socket=" . $node->host . '&port=' . $node->port . '&sslmode=disable';
	my @dbmate = ($dbmate, '--migrations-dir', $dir, '--no-dump-schema');
	put("$dir/20260101000000_create_users.sql", <<'SQL');
-- migrate:up
SET LOCAL lock_timeout = '2s';
SELECT schemaguard.begin_migration('20260101000000', 'create_users', 'sha256:aa');
CREATE TABLE users (id bigint PRIMARY KEY, email text);
INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 60000) g;

-- migrate:down
DROP TABLE users;
SQL
	my ($out, $err) = run_command([ @dbmate, 'migrate' ]);
	like("$out$err", qr/Applied: 20260101000000_create_users\.sql/, 'dbmate applies the safe migration');
	is(history('20260101000000'), 'applied,1,create_users', 'schemaguard recorded it, with its DDL statement');

	put("$dir/20260102000000_index_email.sql", <<'SQL');
-- migrate:up
SET LOCAL lock_timeout = '2s';
SELECT schemaguard.begin_migration('20260102000000', 'index_email', 'sha256:bb');
CREATE INDEX users_email ON users (email);

-- migrate:down
DROP INDEX users_email;
SQL
	my $rc;
	($out, $err) = run_command([ @dbmate, 'migrate' ]);
	like("$out$err", qr/Error: pq: CREATE INDEX on public\.users violates rule require-concurrent-index-creation/,
		'dbmate: the dangerous migration fails with schemaguard\'s message');
	unlike("$out$err", qr/CONCURRENTLY/, 'dbmate prints the message alone (lib/pq drops DETAIL and HINT)');
	{
		# schemaguard.hint_in_message, set in the URL (lib/pq sends unknown
		# parameters to the server)
		local $ENV{DATABASE_URL} = "$ENV{DATABASE_URL}&schemaguard.hint_in_message=on";
		IPC::Run::run([ @dbmate, 'migrate' ], '>', \$out, '2>', \$err);
		$rc = $? >> 8;
	}
	isnt($rc, 0, 'dbmate exits non-zero');
	like("$out$err", qr/Error: pq: CREATE INDEX on public\.users violates rule require-concurrent-index-creation\nDETAIL:  Without CONCURRENTLY, CREATE INDEX holds a SHARE lock on public\.users \(\d+ kB\)[^\n]*\nHINT:  Use CREATE INDEX CONCURRENTLY users_email ON users \(email\); outside a transaction block \([^\n]*dbmate: alone under "-- migrate:up transaction:false"[^\n]*\)\./,
		'with schemaguard.hint_in_message = on the detail and the hint reach dbmate\'s output intact');
	is(history('20260102000000'), '', 'the failed migration left no history row');
	is($node->safe_psql('postgres', "SELECT count(*) FROM schema_migrations WHERE version = '20260102000000'"),
		'0', 'dbmate did not record it either');

	# dbmate sends a transaction:false migration as one multi-statement
	# string, an implicit transaction: CONCURRENTLY next to anything fails ...
	put("$dir/20260102000000_index_email.sql", <<'SQL');
-- migrate:up transaction:false
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY users_email ON users (email);

-- migrate:down
DROP INDEX users_email;
SQL
	($out, $err) = run_command([ @dbmate, 'migrate' ]);
	like("$out$err", qr/Error: pq: CREATE INDEX CONCURRENTLY inside a transaction block violates rule concurrently-in-transaction/,
		'dbmate: transaction:false with two statements is still one transaction, and refused as such');
	my ($lrc, $lout) = (0, '');
	IPC::Run::run([ $node->config_data('--bindir') . '/schemaguard-lint', '-h', $node->host, '-p', $node->port,
		'-d', 'postgres', '--runner=dbmate', "$dir/20260102000000_index_email.sql" ], '>', \$lout, '2>', \my $lerr);
	like($lout, qr/:3: error: concurrently-in-transaction: /, 'lint(..., runner => dbmate) predicts it');
	# ... alone it runs outside one (the hint's way)
	put("$dir/20260102000000_index_email.sql", <<'SQL');
-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY users_email ON users (email);

-- migrate:down
DROP INDEX users_email;
SQL
	IPC::Run::run([ @dbmate, 'migrate' ], '>', \$out, '2>', \$err);
	is($? >> 8, 0, 'dbmate applies CREATE INDEX CONCURRENTLY alone under transaction:false');
	is($node->safe_psql('postgres',
			"SELECT command_tag FROM schemaguard.ddl_log WHERE statement LIKE 'CREATE INDEX CONCURRENTLY users_email%'"),
		'CREATE INDEX', 'the DDL log has it (a lone statement has no room for begin_migration())');
}

# --- sqitch -------------------------------------------------------------------
{
	my $dir = "$base/sqitch";
	put("$dir/sqitch.conf", "[core]\n\tengine = pg\n\ttop_dir = .\n");
	put("$dir/sqitch.plan", "%syntax-version=1.0.0\n%project=demo\n\n"
		  . "orders 2026-01-01T00:00:00Z Test <t\@example.com> # the orders table\n");
	put("$dir/deploy/orders.sql", <<'SQL');
BEGIN;
SET LOCAL lock_timeout = '2s';
SELECT schemaguard.begin_migration('orders', 'the orders table', 'sha256:cc');
CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);
INSERT INTO orders SELECT g, g FROM generate_series(1, 60000) g;
COMMIT;
SQL
	put("$dir/revert/orders.sql", "DROP TABLE orders;\n");
	put("$dir/verify/orders.sql", "SELECT 1/count(*) FROM orders;\n");
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	local $ENV{PGUSER} = $user;
	local $ENV{SQITCH_CONFIG} = "$dir/sqitch.conf";
	local $ENV{HOME} = $base;	# sqitch reads ~/.sqitch/sqitch.conf
	my @sq = ($sqitch, '--chdir', $dir);
	my ($out, $err) = run_command([ @sq, 'deploy', '--verify', 'db:pg:postgres' ]);
	like("$out$err", qr/\+ orders \.\.[^\n]*\n?ok\b/, 'sqitch deploys the safe change (its registry made on the way)');
	is(history('orders'), 'applied,1,the orders table', 'schemaguard recorded it');

	open(my $fh, '>>', "$dir/sqitch.plan") or die;
	print $fh "orders_check [orders] 2026-01-02T00:00:00Z Test <t\@example.com> # a check\n";
	close $fh;
	put("$dir/deploy/orders_check.sql", <<'SQL');
BEGIN;
SET LOCAL lock_timeout = '2s';
SELECT schemaguard.begin_migration('orders_check', 'a check', 'sha256:dd');
ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total > 0);
COMMIT;
SQL
	put("$dir/revert/orders_check.sql", "ALTER TABLE orders DROP CONSTRAINT total_positive;\n");
	put("$dir/verify/orders_check.sql", "SELECT 1;\n");
	($out, $err) = run_command([ @sq, 'deploy', 'db:pg:postgres' ]);
	like("$out$err", qr/ERROR:  CHECK on public\.orders without NOT VALID violates rule constraint-missing-not-valid/,
		'sqitch: the dangerous change fails with schemaguard\'s message');
	like("$out$err", qr/\nHINT:  ALTER TABLE public\.orders ADD CONSTRAINT total_positive CHECK \(total > 0\) NOT VALID; then, in a later transaction: ALTER TABLE public\.orders VALIDATE CONSTRAINT total_positive;/,
		'and psql\'s HINT line reaches sqitch\'s output intact');
	like("$out$err", qr/Deploy failed/, 'sqitch reports the deploy failed');
	is(history('orders_check'), '', 'no history row for the failed change');
}

$node->stop;
done_testing();
