# Lock retries in the server (issue 30), through real clients and runners:
# a reader holds ACCESS SHARE on the table for about 1.5 s while a migration
# that needs ACCESS EXCLUSIVE is applied with lock_timeout 0.  The migration
# waits in short slices and succeeds once the reader is gone, with no retry
# in the client: a psql multi-statement string (an implicit transaction, as
# Prisma sends a file), a psql script with BEGIN ... COMMIT (an explicit
# one), and, where they are installed, dbmate and node-pg-migrate (each
# wraps the file in its own transaction).  The NOTICE names the reader.
# With the budget shorter than the reader, the migration is refused and the
# refusal names it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use SgTest qw(put);

my $node = PostgreSQL::Test::Cluster->new('retry');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'schemaguard'\n");
$node->start;
$node->safe_psql('postgres', q{CREATE EXTENSION schemaguard;
	CREATE TABLE accounts (id int PRIMARY KEY, note text);
	INSERT INTO accounts SELECT g, md5(g::text) FROM generate_series(1, 1000) g;});
my $user = (getpwuid($<))[0];

# A reader in the way for $secs seconds; returns its harness once it holds
# the lock.
sub reader
{
	my ($secs) = @_;
	my ($in, $out) = ("BEGIN; SELECT 'locked' FROM accounts LIMIT 1;\nSELECT pg_sleep($secs); COMMIT;\n", '');
	my $h = IPC::Run::start([ 'psql', '-X', '-At', '-v', 'application_name=reader', '-d',
		$node->connstr('postgres') . ' application_name=the_reader' ], '<', \$in, '>', \$out, '2>', \my $err);
	$h->pump until $out =~ /locked/ || !$h->pumpable;
	return $h;
}

my ($n, $logpos) = (0, 0);
# the server log written since the case began
sub log_since { return slurp_file($node->logfile, $logpos); }
sub check_retry
{
	my ($label, $run) = @_;
	$n++;
	$logpos = -s $node->logfile;
	my $h = reader(1.5);
	my $t0 = time;
	my ($ok, $output) = $run->("c$n");
	my $took = time - $t0;
	$h->finish;
	ok($ok, "$label: the migration succeeds behind a 1.5 s reader");
	# psql prints the NOTICE; runners that do not show notices leave the
	# server's LOG line of each attempt
	like($output, qr/ACCESS EXCLUSIVE lock on public\.accounts is busy: schemaguard retries|schemaguard: attempt 1 for ACCESS EXCLUSIVE lock on public\.accounts timed out/,
		"$label: the NOTICE or the log says it retries");
	like($output, qr/the_reader/, "$label: ... and names the reader");
	ok($took > 0.8 && $took < 10, sprintf('%s: it waited for the reader (%.1f s)', $label, $took));
	is($node->safe_psql('postgres', "SELECT count(*) FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'c$n'"),
		'1', "$label: the column is there");
}

check_retry('psql, a multi-statement string (implicit transaction)', sub {
	my $c = shift;
	my ($rc, $out, $err) = $node->psql('postgres', undef,
		extra_params => [ '-c', "ALTER TABLE accounts ADD COLUMN $c int; COMMENT ON COLUMN accounts.$c IS 'x';" ]);
	return ($rc == 0, "$out$err");
});
check_retry('psql, BEGIN ... COMMIT (explicit transaction)', sub {
	my $c = shift;
	my ($rc, $out, $err) = $node->psql('postgres', "BEGIN;\nALTER TABLE accounts ADD COLUMN $c int;\nCOMMIT;",
		on_error_stop => 1);
	return ($rc == 0, "$out$err");
});

# the npm runners are installed and tested on PostgreSQL 15 only
my $on15 = ($ENV{PG_MAJOR} // '15') eq '15';
my $dbmate = $on15 ? $ENV{SG_DBMATE} // '' : '';
if ($dbmate && -x $dbmate)
{
	my $dir = $node->basedir . '/dbmate';
	local $ENV{DATABASE_URL} = "postgres://$user\@/postgres?socket=" . $node->host . '&port=' . $node->port . '&sslmode=disable';
	check_retry('dbmate', sub {
		my $c = shift;
		put("$dir/2026010100000$n\_add.sql", "-- migrate:up\nALTER TABLE accounts ADD COLUMN $c int;\n\n-- migrate:down\n");
		my ($out, $err) = run_command([ $dbmate, '--migrations-dir', $dir, '--no-dump-schema', 'migrate' ]);
		diag("dbmate: $out$err") unless "$out$err" =~ /Applied:/;
		return ("$out$err" =~ /Applied:/, "$out$err" . log_since());
	});
}
else
{
	diag('part skipped: lock retries through dbmate ('
		  . ($on15 ? 'dbmate could not be installed: ' . ($ENV{SG_DBMATE_WHY} || 'SG_DBMATE is not set')
			: 'the npm runners are tested on PostgreSQL 15 only') . ')');
}

my $npm = $on15 ? $ENV{SG_RUNNER} // '' : '';
if ($npm && -x $npm)
{
	my $dir = $node->basedir . '/npm';
	local $ENV{DATABASE_URL} = "postgres://$user\@localhost/postgres?host=" . $node->host . '&port=' . $node->port;
	check_retry('node-pg-migrate', sub {
		my $c = shift;
		put("$dir/170000000000$n\_add.sql", "-- Up Migration\nALTER TABLE accounts ADD COLUMN $c int;\n-- Down Migration\n");
		my ($out, $err) = run_command([ $npm, 'up', '-m', $dir ]);
		return ("$out$err" =~ /Migrations complete!/, "$out$err" . log_since());
	});
}
else
{
	diag('part skipped: lock retries through node-pg-migrate ('
		  . ($on15 ? 'node-pg-migrate could not be installed: ' . ($ENV{SG_RUNNER_WHY} || 'SG_RUNNER is not set')
			: 'the npm runners are tested on PostgreSQL 15 only') . ')');
}

# the budget shorter than the reader: refused, naming it, nothing held
{
	my $h = reader(3);
	my ($rc, $out, $err) = $node->psql('postgres',
		"SET schemaguard.lock_retry_budget = '1s';\nALTER TABLE accounts ADD COLUMN never int;");
	$h->finish;
	like($err, qr/ERROR:  ACCESS EXCLUSIVE lock on public\.accounts without lock_timeout violates rule require-lock-timeout/,
		'with a budget shorter than the reader: refused');
	like($err, qr/schemaguard asked for it \d+ times over \d+ ms/, '... after its attempts');
	like($err, qr/the_reader/, '... naming the reader');
}

$node->stop;
done_testing();
