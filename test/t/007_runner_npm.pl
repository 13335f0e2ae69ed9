# A real migration runner from npm, node-pg-migrate (node-postgres), drives a
# folder of SQL migrations against a guarded server: a safe migration is
# applied and recorded by schemaguard; a dangerous one fails, and the runner
# prints schemaguard's message and hint.
use strict;
use warnings;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $runner = $ENV{SG_RUNNER} // '';
plan skip_all => ($ENV{PG_MAJOR} // '15') ne '15'
	? 'the npm runners are tested on PostgreSQL 15 only'
	: 'node-pg-migrate could not be installed: ' . ($ENV{SG_RUNNER_WHY} || 'SG_RUNNER is not set (run through test/scripts/suite)')
	unless $runner && -x $runner;

my $node = PostgreSQL::Test::Cluster->new('runner');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'schemaguard'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION schemaguard');

my $dir = $node->basedir . '/migrations';
mkdir $dir;
sub migration
{
	my ($file, $body) = @_;
	open(my $fh, '>', "$dir/$file") or die;
	print $fh $body;
	close($fh);
}
sub run_runner
{
	my ($out, $err) = run_command([ $runner, 'up', '-m', $dir ]);
	return "$out\n$err";
}
# The cluster's superuser is the OS user running the tests.
my $user = (getpwuid($<))[0];
local $ENV{DATABASE_URL} =
  "postgres://$user\@localhost/postgres?host=" . $node->host . '&port=' . $node->port;

migration('1700000000000_create-users.sql', <<'SQL');
-- Up Migration
SET LOCAL lock_timeout = '2s';
SELECT schemaguard.begin_migration('1700000000000', 'create users', 'c0ffee');
CREATE TABLE users (id bigint PRIMARY KEY, email text);
INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 60000) g;
-- Down Migration
DROP TABLE users;
SQL
my $out = run_runner();
like($out, qr/Migrations complete!/, 'the runner applies the safe migration');
is($node->safe_psql('postgres',
		"SELECT status || ',' || statement_count FROM schemaguard.migrations WHERE version = '1700000000000'"),
	'applied,1', 'schemaguard recorded it, with its DDL statement');

migration('1700000000001_index-email.sql', <<'SQL');
-- Up Migration
SET LOCAL lock_timeout = '2s';
SELECT schemaguard.begin_migration('1700000000001', 'index email', 'beef');
CREATE INDEX users_email ON users (email);
-- Down Migration
DROP INDEX users_email;
SQL
$out = run_runner();
like($out, qr/CREATE INDEX on public\.users violates rule require-concurrent-index-creation/,
	'the dangerous migration fails with schemaguard\'s message');
like($out, qr/hint: 'Use CREATE INDEX CONCURRENTLY users_email ON users \(email\); outside a transaction block \([^']*node-pg-migrate: alone in a migration that calls pgm\.noTransaction\(\)[^']*\)\.'/,
	'and the runner shows the hint');
is($node->safe_psql('postgres', "SELECT count(*) FROM schemaguard.migrations WHERE version = '1700000000001'"),
	'0', 'the failed migration left no history row');

$node->stop;
done_testing();
