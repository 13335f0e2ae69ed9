# Tenant context behind a real PgBouncer in transaction pooling mode with a
# single server connection: two clients interleave transactions for
# different tenants on the same backend, and neither ever sees the other's
# tenant or rows.  A session-level custom GUC, for contrast, leaks.
# Transactional migrations through the same pooler leave nothing behind.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pgbouncer = '/usr/sbin/pgbouncer';
plan skip_all => 'pgbouncer is not installed' unless -x $pgbouncer;

my $node = PostgreSQL::Test::Cluster->new('tenant');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'schemaguard'");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION schemaguard;
	CREATE ROLE app LOGIN;
	SET lock_timeout = '5s';
	BEGIN;
	CREATE TABLE docs (id serial PRIMARY KEY, tenant_id text NOT NULL, body text);
	CREATE INDEX docs_tenant ON docs (tenant_id);
	SELECT schemaguard.enable_tenant_isolation('docs');
	COMMIT;
	INSERT INTO docs (tenant_id, body) VALUES ('A', 'a1'), ('A', 'a2'), ('B', 'b1');
	GRANT SELECT, INSERT ON docs TO app;
	GRANT USAGE ON SEQUENCE docs_id_seq TO app;
	GRANT EXECUTE ON FUNCTION schemaguard.set_tenant(text) TO app;
});

# PgBouncer listens on a socket of its own; a Cluster object that is never
# initialised gives us a free port and a socket directory, and lets
# background_psql() connect through the pooler.
my $bouncer = PostgreSQL::Test::Cluster->new('bouncer');
my $dir = $bouncer->basedir;
mkdir $dir;
open(my $users, '>', "$dir/users.txt") or die;
print $users qq{"app" ""\n"postgres" ""\n};
close($users);
my $host = $node->host;
my $port = $node->port;
my $bport = $bouncer->port;
my $bhost = $bouncer->host;
open(my $ini, '>', "$dir/pgbouncer.ini") or die;
print $ini <<"EOF";
[databases]
postgres = host=$host port=$port dbname=postgres

[pgbouncer]
listen_addr =
listen_port = $bport
unix_socket_dir = $bhost
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = 1
max_client_conn = 20
server_reset_query =
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
close($ini);
system($pgbouncer, '-d', "$dir/pgbouncer.ini") == 0 or die "pgbouncer did not start";

# Stop PgBouncer however the script ends.
END
{
	if (defined $dir && open(my $pidf, '<', "$dir/pgbouncer.pid"))
	{
		my $pid = <$pidf>;
		close($pidf);
		chomp $pid if defined $pid;
		kill 'TERM', $pid if $pid;
	}
}
for (1 .. 50)
{
	last if -S "$bhost/.s.PGSQL.$bport";
	select(undef, undef, undef, 0.1);
}
ok(-S "$bhost/.s.PGSQL.$bport", 'PgBouncer listens');

my $a = $bouncer->background_psql('postgres', extra_params => [ '-U', 'app' ]);
my $b = $bouncer->background_psql('postgres', extra_params => [ '-U', 'app' ]);

# One transaction: set the tenant, report backend, tenant and visible rows.
sub txn
{
	my ($client, $tenant, $extra) = @_;
	$extra //= '';
	my $out = $client->query(
		"BEGIN; SELECT schemaguard.set_tenant('$tenant'); $extra "
		  . "SELECT pg_backend_pid() || '|' || coalesce(schemaguard.current_tenant(), '-') || '|' "
		  . "|| coalesce(string_agg(body, ',' ORDER BY id), '') FROM docs; COMMIT;");
	my @lines = grep { /\|/ } split /\n/, $out;
	return split /\|/, $lines[-1], 3;
}

# Outside a transaction: the tenant this client would inherit.
sub bare
{
	my ($client) = @_;
	my $out = $client->query(
		"SELECT coalesce(schemaguard.current_tenant(), 'none') || '|' || count(*) FROM docs");
	return $out;
}

my %pids;
my $leaks = 0;
my $mismatch = 0;
for my $i (1 .. 25)
{
	my ($pa, $ta, $rows_a) = txn($a, 'A', $i == 1 ? "INSERT INTO docs (body) VALUES ('a-new');" : '');
	my $after_a = bare($b);
	my ($pb, $tb, $rows_b) = txn($b, 'B');
	my $after_b = bare($a);
	$pids{$pa}++;
	$pids{$pb}++;
	$mismatch++ if $ta ne 'A' || $tb ne 'B';
	$mismatch++ if $rows_a ne 'a1,a2,a-new' || $rows_b ne 'b1';
	$leaks++ if $after_a ne 'none|0' || $after_b ne 'none|0';
}
is(scalar(keys %pids), 1, 'both clients ran every transaction on the same server backend');
is($mismatch, 0, '50 interleaved transactions: each client saw only its own tenant and rows');
is($leaks, 0, 'after each transaction the next client starts with no tenant and sees no rows');

# The row A inserted took A's tenant from the column default.
is($node->safe_psql('postgres', "SELECT tenant_id FROM docs WHERE body = 'a-new'"),
	'A', 'the column default filled in the tenant');

# set_tenant() outside a transaction is refused, so it cannot leak either.
my ($ret, $stdout, $stderr) = $bouncer->psql('postgres',
	"SELECT schemaguard.set_tenant('A')", extra_params => [ '-U', 'app' ]);
like($stderr, qr/can only be used in a transaction block/,
	'set_tenant() outside a transaction block is refused behind the pooler');

# The pattern set_tenant() replaces: a session-level custom GUC leaks to the
# next client of the same server connection.
$a->query("SELECT set_config('app.tenant', 'A', false)");
is($b->query("SELECT current_setting('app.tenant', true)"), 'A',
	'for contrast: a session-level set_config() leaks to the other client');

# Transactional migrations behind the same pooler: a migration's lock and
# state end with its transaction, so the next client on the same server
# backend sees no migration of the first one's and begins its own at once.
$node->safe_psql('postgres', q{
	GRANT EXECUTE ON FUNCTION schemaguard.begin_migration(text, text, text) TO app;
	GRANT CREATE ON SCHEMA public TO app;
});
my $pa_pid = $a->query_safe("BEGIN; SELECT schemaguard.begin_migration('pool_1') > 0; "
	  . "CREATE TABLE pool_t1 (id int); SELECT pg_backend_pid(); COMMIT;");
is($b->query_safe("SELECT coalesce(schemaguard.current_migration()::text, 'none')"), 'none',
	'the next client of the backend inherits no migration');
my $pb_pid = $b->query_safe("BEGIN; SET LOCAL schemaguard.migration_lock_timeout = '1s'; "
	  . "SELECT schemaguard.begin_migration('pool_2') > 0; CREATE TABLE pool_t2 (id int); "
	  . "SELECT pg_backend_pid(); COMMIT;");
($pa_pid) = $pa_pid =~ /(\d+)\s*$/;
($pb_pid) = $pb_pid =~ /(\d+)\s*$/;
is($pa_pid, $pb_pid, 'both migrations ran on the same server backend');
is($node->safe_psql('postgres',
		"SELECT string_agg(version || ':' || status || ':' || statement_count, ',' ORDER BY id) FROM schemaguard.migrations"),
	'pool_1:applied:1,pool_2:applied:1', 'each is applied with its own statement, without waiting for a lock');

$a->quit;
$b->quit;

# pg_dump / pg_restore into the guarded server: in one transaction every table
# is created in the restoring transaction and gets its policies before COMMIT,
# so the guard stays on; restored one statement at a time, the tenant table
# is refused at its CREATE.
my $dump = $node->basedir . '/tenant.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ],
	'pg_dump of a database with a tenant table');
$node->safe_psql('postgres', 'CREATE DATABASE restored_one; CREATE DATABASE restored_each');
$node->command_ok([ 'pg_restore', '--single-transaction', '-d', $node->connstr('restored_one'), $dump ],
	'pg_restore --single-transaction succeeds with the guard on');
is($node->safe_psql('restored_one',
		"SELECT count(*) || ',' || (SELECT problems::text FROM schemaguard.tenant_report()) FROM docs"),
	'4,{}', 'the restored tenant table has its rows and its isolation');
my ($rout, $rerr) = run_command([ 'pg_restore', '-d', $node->connstr('restored_each'), $dump ]);
like($rerr, qr/leaves tenant table public.docs without row-level security isolation/,
	'pg_restore statement by statement is refused at the tenant table');

done_testing();
