# Migration history across sessions: a runner killed mid-migration leaves it
# interrupted, the next begin_migration() refuses and says how to resolve it;
# a second runner waits, then fails naming the holder; pg_dump / pg_restore
# keeps the history without duplicating it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('migrations');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'schemaguard'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION schemaguard');

# A session-scoped migration, killed after its first statement.
my $runner = $node->background_psql('postgres', on_error_stop => 0);
$runner->query_safe("SET application_name = 'dbmate'");
$runner->query_safe("SELECT schemaguard.begin_migration('20260301_split', 'split users', 'abc')");
$runner->query_safe('CREATE TABLE profiles (id int)');
my $pid = $runner->query_safe('SELECT pg_backend_pid()');

# While it runs, a second runner waits, then fails naming it.
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	"SET schemaguard.migration_lock_timeout = '500ms'; SELECT schemaguard.begin_migration('20260302_next')");
like($stderr, qr/migration 20260301_split is in progress in another session/, 'a second runner fails after waiting');
like($stderr, qr/Held by pid $pid, role \w+, application_name dbmate/, 'the error names pid, role and application_name');

$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
$runner->quit;
$node->poll_query_until('postgres', "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $pid)");

is($node->safe_psql('postgres', "SELECT status FROM schemaguard.migrations WHERE version = '20260301_split'"),
	'interrupted', 'the killed migration is interrupted');
($ret, $stdout, $stderr) = $node->psql('postgres', "SELECT schemaguard.begin_migration('20260302_next')");
like($stderr, qr/migration 20260301_split was interrupted/, 'the next begin_migration() refuses');
like($stderr, qr/Its last completed statement was: CREATE TABLE profiles \(id int\)/, 'it names the last statement');
like($stderr, qr/schemaguard\.resolve_migration\('20260301_split'/, 'and the call to make');

$node->safe_psql('postgres', "SELECT schemaguard.resolve_migration('20260301_split', 'applied', 'profiles exists, checked by hand')");
is($node->safe_psql('postgres', "SELECT status FROM schemaguard.migrations WHERE version = '20260301_split'"),
	'applied', 'resolving it marks it applied');
is($node->safe_psql('postgres',
		"SELECT string_agg(event, ',' ORDER BY id) FROM schemaguard.migration_events WHERE version = '20260301_split'"),
	'started,interrupted,resolved applied', 'the events are appended, never rewritten');
$node->safe_psql('postgres', q{
	BEGIN; SELECT schemaguard.begin_migration('20260302_next', 'next', 'def'); CREATE TABLE notes (id int); COMMIT;
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM schemaguard.verify_history()'), '0', 'verify_history() finds nothing wrong');

# A transactional migration that rolls back leaves no row, only a LOG line.
my $log_offset = -s $node->logfile;
$node->psql('postgres', q{BEGIN; SELECT schemaguard.begin_migration('20260303_aborted'); CREATE TABLE never (id int); ROLLBACK;});
is($node->safe_psql('postgres', "SELECT count(*) FROM schemaguard.migrations WHERE version = '20260303_aborted'"),
	'0', 'an aborted migration leaves no history row');
ok($node->log_contains(qr/schemaguard: migration 20260303_aborted rolled back with its transaction; no history row was kept/,
		$log_offset), 'only a line in the server log');

# pg_dump / pg_restore: the history comes back once, and the restore's own DDL
# is not recorded (schemaguard.record_ddl = off for the restore).
my $before = $node->safe_psql('postgres',
	"SELECT (SELECT count(*) FROM schemaguard.migrations) || '/' || (SELECT count(*) FROM schemaguard.migration_events)"
	  . " || '/' || (SELECT count(*) FROM schemaguard.ddl_log)");
my $dumped_ddl = $node->safe_psql('postgres', 'SELECT count(*) || \'/\' || max(id) FROM schemaguard.ddl_log');
my $dump = $node->basedir . '/history.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
{
	local $ENV{PGOPTIONS} = '-c schemaguard.record_ddl=off';
	$node->command_ok([ 'pg_restore', '--single-transaction', '-d', $node->connstr('restored'), $dump ],
		'pg_restore --single-transaction with schemaguard.record_ddl=off');
}
is($node->safe_psql('restored',
		"SELECT (SELECT count(*) FROM schemaguard.migrations) || '/' || (SELECT count(*) FROM schemaguard.migration_events)"
		  . " || '/' || (SELECT count(*) FROM schemaguard.ddl_log)"),
	$before, 'the restored history has the same rows, none duplicated');
is($node->safe_psql('restored', 'SELECT count(*) FROM schemaguard.verify_history()'), '0',
	'and its hash chain verifies');

# A plain restore (record_ddl on) works too: the history once, with the same
# ids, and the restore's own DDL logged after the dumped rows.
my $ids = "SELECT string_agg(id::text, ',' ORDER BY id) FROM schemaguard.migration_history";
$node->safe_psql('postgres', 'CREATE DATABASE restored_plain');
$node->command_ok([ 'pg_restore', '--single-transaction', '-d', $node->connstr('restored_plain'), $dump ],
	'pg_restore --single-transaction with the DDL log on');
is($node->safe_psql('restored_plain', $ids), $node->safe_psql('postgres', $ids),
	'the migrations come back with their ids');
is($node->safe_psql('restored_plain', 'SELECT count(*) FROM schemaguard.verify_history()'), '0',
	'and the chain verifies');
my ($ndumped, $maxdumped) = split m{/}, $dumped_ddl;
is($node->safe_psql('restored_plain',
		"SELECT count(*) FILTER (WHERE id <= $maxdumped) || ','"
		  . " || (count(*) FILTER (WHERE id > $maxdumped AND command_tag = 'CREATE TABLE') > 0) FROM schemaguard.ddl_log"),
	"$ndumped,true", 'the dumped ddl_log rows are there once, and the restore\'s DDL after them');

$node->stop;
done_testing();
