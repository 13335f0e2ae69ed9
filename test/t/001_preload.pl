# Loading: the not-preloaded WARNING, preloading through a restart, DDL over
# the extended protocol, and allow() written to the server log.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('preload');
$node->init;
$node->start;

# Not preloaded: CREATE EXTENSION warns, with a hint, that new sessions are
# unguarded.
my ($ret, $stdout, $stderr) = $node->psql('postgres', 'CREATE EXTENSION schemaguard');
is($ret, 0, 'CREATE EXTENSION succeeds without preloading');
like($stderr, qr/WARNING:  schemaguard is not loaded through shared_preload_libraries/,
	'CREATE EXTENSION warns when not preloaded');
like($stderr, qr/HINT:  Add schemaguard to shared_preload_libraries/,
	'the warning hints at shared_preload_libraries');
is($node->safe_psql('postgres', 'SELECT preloaded FROM schemaguard.status()'),
	'f', 'status() reports the library as not preloaded');

$node->safe_psql('postgres',
	'CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 10000) g');

# Preload it and restart: no warning, and every new session is guarded.
# Its tables are small: judged as tables of any size (sql/small_tables.sql
# tests the default schemaguard.small_table_size).
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'schemaguard'\nschemaguard.small_table_size = 0");
$node->restart;
is($node->safe_psql('postgres', 'SELECT preloaded, active FROM schemaguard.status()'),
	't|t', 'status() reports preloaded and active after a restart');
($ret, $stdout, $stderr) = $node->psql('postgres',
	'DROP EXTENSION schemaguard; CREATE EXTENSION schemaguard');
unlike($stderr, qr/not loaded through shared_preload_libraries/,
	'no warning when preloaded');

($ret, $stdout, $stderr) = $node->psql('postgres', 'CREATE INDEX big_id ON big (id)');
isnt($ret, 0, 'a new session is guarded');
like($stderr, qr/violates rule require-concurrent-index-creation/,
	'the refusal names the rule');

# The extended protocol goes through the same hook.
my $script = $node->basedir . '/ddl.sql';
open(my $fh, '>', $script) or die;
print $fh "CREATE INDEX big_id2 ON big (id);\n";
close($fh);
my ($out, $err) = run_command([ 'pgbench', '-n', '-M', 'extended', '-t', '1',
	'-f', $script, '-h', $node->host, '-p', $node->port, 'postgres' ]);
like($err, qr/violates rule require-concurrent-index-creation/,
	'DDL over the extended protocol is checked');

# A temporary table of the same name does not hide a new tenant table from
# the commit-time check, over the extended protocol either: the check holds
# the OID of the table the statement created.
open($fh, '>', $script) or die;
print $fh "CREATE TEMP TABLE leakx (x int);\n";
print $fh "CREATE TABLE leakx (id int, tenant_id text, secret text);\n";
close($fh);
($out, $err) = run_command([ 'pgbench', '-n', '-M', 'extended', '-t', '1',
	'-f', $script, '-h', $node->host, '-p', $node->port, 'postgres' ]);
like($err, qr/a transaction that leaves tenant table public\.leakx without row-level security isolation violates rule tenant-table-rls/,
	'a tenant table shadowed by a temporary table is judged by its OID (extended protocol)');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'leakx'"),
	'0', 'and it was not committed');

# allow() is logged with role, rule, reason and statement.
my $log_offset = -s $node->logfile;
$node->safe_psql('postgres', q{
	BEGIN;
	SELECT schemaguard.allow('require-concurrent-index-creation', 'ticket OPS-42: quiet hour');
	CREATE INDEX big_allowed ON big (id);
	COMMIT;
});
my $log = slurp_file($node->logfile, $log_offset);
like($log, qr/rule require-concurrent-index-creation allowed for role "\w+": ticket OPS-42: quiet hour/,
	'an allowed statement is logged with role, rule and reason');
like($log, qr/Statement: CREATE INDEX big_allowed ON big \(id\)/,
	'the log names the statement');

$node->stop;
done_testing();
