# Staged drops across sessions and restarts: a use in one session is seen by
# the DROP in another, a restart starts the tracking window again, and
# pg_dump / pg_restore keeps the staging rows.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('staged');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'schemaguard'");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION schemaguard;
	CREATE ROLE app LOGIN;
	CREATE TABLE orders (id int PRIMARY KEY, total numeric, legacy_code text, note text);
	INSERT INTO orders SELECT g, g, 'c' || g, 'n' FROM generate_series(1, 1000) g;
	GRANT SELECT ON orders TO app;
	SELECT schemaguard.stage_drop('orders', 'legacy_code', 'replaced by order_codes');
	SELECT schemaguard.stage_drop('orders', 'note');
	-- staged two hours ago, as if by an earlier migration
	UPDATE schemaguard.drop_stages SET staged_at = now() - interval '2 hours';
});

# Another session, as the application, still reads the column.
$node->safe_psql('postgres', 'SELECT legacy_code FROM orders WHERE id = 7',
	connstr => $node->connstr('postgres') . ' user=app application_name=billing');
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	"SET lock_timeout = '2s'; SET schemaguard.drop_delay = '1 hour'; ALTER TABLE orders DROP COLUMN legacy_code");
isnt($ret, 0, 'the drop of a column another session read is refused');
like($stderr, qr/DROP COLUMN public\.orders\.legacy_code, read \d+ seconds? ago by role app \(application_name billing\), violates rule staged-drop/,
	'the refusal names the reader seen in the other session');
like(slurp_file($node->logfile),
	qr/LOG:  schemaguard: staged column orders\.legacy_code is still used by role "app" \(application_name "billing"\)\n.*DETAIL:  Statement: SELECT legacy_code FROM orders WHERE id = 7/,
	'the server log names the use and the statement, for the DBA');
is($node->safe_psql('postgres',
		"SELECT use_count || ',' || state FROM schemaguard.staged_drops WHERE column_name = 'legacy_code'"
		  . " AND current_setting('schemaguard.drop_delay') = '0'"),
	'1,droppable', 'with drop_delay 0 the view shows the use and the column droppable');

# The unused column: droppable once the delay has passed since server start.
my $since_before = $node->safe_psql('postgres',
	"SELECT tracking_since FROM schemaguard.staged_drops WHERE column_name = 'note'");

# A restart: the counters start again, and so does the tracking window.
$node->restart;
my $row = $node->safe_psql('postgres',
	"SELECT use_count || ',' || (tracking_since = pg_postmaster_start_time()) || ',' || (tracking_since > '$since_before'::timestamptz)"
	  . " FROM schemaguard.staged_drops WHERE column_name = 'legacy_code'");
is($row, '0,true,true', 'after a restart use_count is 0 and tracking_since is the new start time');
($ret, $stdout, $stderr) = $node->psql('postgres',
	"SET lock_timeout = '2s'; SET schemaguard.drop_delay = '1 hour'; ALTER TABLE orders DROP COLUMN note");
like($stderr, qr/staged 2 hours ago, violates rule staged-drop/,
	'after a restart a column staged 2 hours ago waits again');
like($stderr, qr/\(the server restarted after it was staged\)/, 'the detail says why');

# pg_dump / pg_restore keeps the staging rows (by name, with new OIDs).
my $dump = $node->basedir . '/staged.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '--single-transaction', '-d', $node->connstr('restored'), $dump ],
	'pg_restore --single-transaction');
is($node->safe_psql('restored',
		"SELECT string_agg(object || '.' || column_name || ':' || coalesce(reason, '-'), ' ' ORDER BY column_name)"
		  . " FROM schemaguard.staged_drops"),
	'orders.legacy_code:replaced by order_codes orders.note:-',
	'the restored database has the same staged columns');
isnt($node->safe_psql('restored', "SELECT min(relid::oid) FROM schemaguard.drop_stages"),
	$node->safe_psql('postgres', "SELECT min(relid::oid) FROM schemaguard.drop_stages"),
	'and they point at the restored table (a new OID)');

$node->stop;
done_testing();
