# Every trigger function of the extension (found in pg_proc, so a new one is
# covered without editing this file), attached by a superuser to a role's own
# tables with hostile arguments, at every timing and level PostgreSQL
# accepts, fired by INSERT, UPDATE, DELETE and TRUNCATE.  Each attempt may
# fail, with an ERROR; the server must stay up (no backend crash, no
# assertion, no FATAL) and no row may be written with a value of the wrong
# type.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('attack');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'schemaguard'");
$node->append_conf('postgresql.conf', "schemaguard.mode = warn");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION schemaguard;
	CREATE ROLE owner1;
	CREATE SCHEMA att AUTHORIZATION owner1;
});

my @functions = split /\n/, $node->safe_psql('postgres', q{
	SELECT p.proname FROM pg_proc p
	 WHERE p.pronamespace = 'schemaguard'::regnamespace
	   AND p.prorettype = 'trigger'::regtype ORDER BY 1});
cmp_ok(scalar(@functions), '>=', 7, 'the extension has trigger functions to attack: ' . join(', ', @functions));

# Tables of the shapes the functions may meet: our own tables' column
# layouts (oid, int2, name ...), mixed types, no columns but one, a
# partitioned table, and a view for INSTEAD OF.
$node->safe_psql('postgres', q{
	SET ROLE owner1;
	CREATE TABLE att.mixed (id int, a text, b int, c varchar(2), d timestamptz, e name, f jsonb, g bytea);
	CREATE TABLE att.like_stages (relid oid, attnum int2, attname name, reason text);
	CREATE TABLE att.like_stages_wrong (relid text, attnum text, attname int, reason int);
	CREATE TABLE att.one (x int);
	CREATE TABLE att.parted (id int, a text, d timestamptz) PARTITION BY RANGE (id);
	CREATE TABLE att.parted_1 PARTITION OF att.parted FOR VALUES FROM (0) TO (100);
	CREATE VIEW att.v AS SELECT * FROM att.mixed;
});

my @tables = qw(att.mixed att.like_stages att.like_stages_wrong att.one att.parted);
my @args = (
	"", "'a', '', ''", "'c', 'b', 'b'", "'d', 'd', 'e'", "'e', 'f', 'g'", "'ctid', 'xmin', 'tableoid'",
	"'', '', ''", "'a'", "'a', 'b', 'c', 'd'", "'no_such_column', '', ''", "'" . ('x' x 200) . "'",
	"'id', 'id', 'id'", "'relid'", "'attnum', 'attname', 'reason'", "'g', 'g', 'g'");
my @shapes = (
	'BEFORE INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW',
	'AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW',
	'BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s FOR EACH STATEMENT',
	'AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s FOR EACH STATEMENT',
	'AFTER INSERT ON %s REFERENCING NEW TABLE AS n FOR EACH STATEMENT',
	'AFTER UPDATE ON %s REFERENCING OLD TABLE AS o NEW TABLE AS n FOR EACH STATEMENT',
	'AFTER DELETE ON %s REFERENCING OLD TABLE AS o FOR EACH ROW');
my @names = ('t', 'schemaguard_audit_insert', 'schemaguard_timestamps');

my %dml = (
	'att.mixed' => "INSERT INTO att.mixed (id, a, b) VALUES (1, 'x', 2); UPDATE att.mixed SET a = 'y'; DELETE FROM att.mixed; TRUNCATE att.mixed;",
	'att.like_stages' => "INSERT INTO att.like_stages VALUES ('att.one'::regclass, 1, 'x', 'r'); UPDATE att.like_stages SET reason = 's'; DELETE FROM att.like_stages; TRUNCATE att.like_stages;",
	'att.like_stages_wrong' => "INSERT INTO att.like_stages_wrong VALUES ('a', 'b', 3, 4); UPDATE att.like_stages_wrong SET reason = 5; DELETE FROM att.like_stages_wrong; TRUNCATE att.like_stages_wrong;",
	'att.one' => "INSERT INTO att.one VALUES (1); UPDATE att.one SET x = 2; DELETE FROM att.one; TRUNCATE att.one;",
	'att.parted' => "INSERT INTO att.parted VALUES (1, 'x', now()); UPDATE att.parted SET a = 'y'; DELETE FROM att.parted; TRUNCATE att.parted;");

# One script per function, run in one session that goes on after errors:
# every attachment, its statements, and a DROP TRIGGER IF EXISTS.
my ($attempts, $created, $refused) = (0, 0, 0);
foreach my $fn (@functions)
{
	my $sql = "SET lock_timeout = '2s';\n";
	foreach my $table (@tables)
	{
		foreach my $shape (@shapes)
		{
			foreach my $arg (@args)
			{
				foreach my $name (@names)
				{
					$attempts++;
					$sql .= sprintf("CREATE TRIGGER %s $shape EXECUTE FUNCTION schemaguard.%s(%s);\n",
						$name, $table, $fn, $arg);
					$sql .= "SELECT 'created' FROM pg_trigger WHERE tgname = '$name' AND tgrelid = '$table'::regclass;\n";
					$sql .= "$dml{$table}\n";
					$sql .= "DROP TRIGGER IF EXISTS $name ON $table;\n";
				}
			}
		}
	}
	foreach my $arg (@args)
	{
		$attempts++;
		$sql .= "CREATE TRIGGER t INSTEAD OF INSERT OR UPDATE OR DELETE ON att.v FOR EACH ROW EXECUTE FUNCTION schemaguard.$fn($arg);\n";
		$sql .= "SELECT 'created' FROM pg_trigger WHERE tgname = 't' AND tgrelid = 'att.v'::regclass;\n";
		$sql .= "INSERT INTO att.v (id) VALUES (1); UPDATE att.v SET a = 'z'; DELETE FROM att.v;\n";
		$sql .= "DROP TRIGGER IF EXISTS t ON att.v;\n";
	}
	my ($ret, $stdout, $stderr) = $node->psql('postgres', $sql, on_error_stop => 0);
	$created += () = $stdout =~ /^created$/mg;
	$refused += () = $stderr =~ /^psql:.*ERROR:/mg;
	last unless $node->safe_psql('postgres', 'SELECT 1') eq '1';
}
note("$attempts attachments tried, $created accepted by core; $refused statements ended in an ERROR");
cmp_ok($created, '>', 100, 'many hostile attachments were fired');

is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|server process .* was terminated|TRAP:|PANIC:|FATAL:/,
	'no backend crashed, asserted or hit FATAL');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM att.mixed WHERE c IS NOT NULL AND length(c) > 2}), '0',
	'no value longer than its varchar(n) was written');

# The extension's own triggers still work after all this.
$node->safe_psql('postgres', q{
	SET lock_timeout = '2s';
	CREATE TABLE att.audited (id int PRIMARY KEY, v text);
	SELECT schemaguard.enable_audit('att.audited');
	INSERT INTO att.audited VALUES (1, 'a');});
is($node->safe_psql('postgres', "SELECT count(*) FROM schemaguard.audit_log WHERE table_name = 'audited' AND op NOT LIKE 'AUDIT %'"),
	'1', 'auditing works after the attack');

$node->stop;
done_testing();
