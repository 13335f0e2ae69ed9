# Staged drops count every read and write, and fail closed: COPY in both
# directions is a use (of the table, and of the columns it names); the usage
# table in shared memory frees an object's entry when a committed DROP takes
# the object (a rolled-back one keeps it); and when the table is full, a use
# that cannot be recorded counts as a use of every staged object, so none
# looks unused.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('staged_usage');
$node->init;
# room for three objects' usage, so that the test can fill it
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'schemaguard'\nschemaguard.staged_max_tracked = 3\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION schemaguard;
	CREATE ROLE regress_sg_app LOGIN;
	CREATE TABLE a (id int, note text);
	CREATE TABLE b (id int);
	CREATE TABLE c (id int);
	CREATE TABLE d (id int);
	CREATE TABLE e (id int);
	CREATE TABLE f (id int, secret text, other text);
	INSERT INTO a SELECT g, 'n' FROM generate_series(1, 10) g;
	INSERT INTO b SELECT generate_series(1, 10);
	INSERT INTO c SELECT generate_series(1, 10);
	INSERT INTO d SELECT generate_series(1, 10);
	INSERT INTO e SELECT generate_series(1, 10);
	INSERT INTO f SELECT g, 's', 'o' FROM generate_series(1, 10) g;
	GRANT SELECT, INSERT ON a, b, c, d, e, f TO regress_sg_app;
	SELECT schemaguard.stage_drop('a');
	SELECT schemaguard.stage_drop('f', 'secret');
});

my $app = $node->connstr('postgres') . ' user=regress_sg_app application_name=nightly_export';
sub state_of
{
	my ($where) = @_;
	return $node->safe_psql('postgres',
		"SET schemaguard.drop_delay = '1 hour'; SELECT use_count || ',' || state || ',' || coalesce(last_used_by, '-')"
		  . " FROM schemaguard.staged_drops WHERE $where");
}

# COPY TO is a read of the table
is(state_of("object = 'a'::regclass AND column_name IS NULL"), "0,waiting,-", 'a staged table nobody used: waiting');
$node->safe_psql('postgres', 'COPY a TO STDOUT', connstr => $app);
is(state_of("object = 'a'::regclass AND column_name IS NULL"), "1,in use,regress_sg_app (application_name nightly_export)",
	'COPY a TO STDOUT counts as a use, with its role and application');
my ($ret, $out, $err) = $node->psql('postgres',
	"SET schemaguard.drop_delay = '1 hour'; SET lock_timeout = '2s'; DROP TABLE a");
like($err, qr/DROP TABLE public\.a, read \d+ seconds? ago by role regress_sg_app \(application_name nightly_export\), violates rule staged-drop/,
	'so the DROP is refused while a nightly export reads it');

# a COPY that names only other columns does not use a staged column; one that
# names it, or names none, does
$node->safe_psql('postgres', 'COPY f (id, other) TO STDOUT', connstr => $app);
is(state_of("column_name = 'secret'"), "0,waiting,-", 'COPY f (id, other) does not use the staged column f.secret');
$node->safe_psql('postgres', 'COPY f TO STDOUT', connstr => $app);
is(state_of("column_name = 'secret'"), "1,in use,regress_sg_app (application_name nightly_export)",
	'COPY f (every column) uses it');

# COPY FROM is a write: b staged, loaded from STDIN
$node->safe_psql('postgres', "SELECT schemaguard.stage_drop('b')");
$node->psql('postgres', "COPY b FROM STDIN;\n11\n\\.\n", connstr => $app);
is(state_of("object = 'b'::regclass AND column_name IS NULL"), "1,in use,regress_sg_app (application_name nightly_export)",
	'COPY b FROM STDIN counts as a use');
($ret, $out, $err) = $node->psql('postgres',
	"SET schemaguard.drop_delay = '1 hour'; SET lock_timeout = '2s'; DROP TABLE b");
like($err, qr/DROP TABLE public\.b, written \d+ seconds? ago/, 'and the refusal says it was written');

# A rolled-back DROP keeps the entry; a committed one frees it.
$node->safe_psql('postgres', "SET schemaguard.drop_delay = 0; BEGIN; DROP TABLE b; ROLLBACK;");
is(state_of("object = 'b'::regclass AND column_name IS NULL"), "1,in use,regress_sg_app (application_name nightly_export)",
	'a rolled-back DROP keeps the usage');
$node->safe_psql('postgres', "SET schemaguard.drop_delay = 0; DROP TABLE b");
is($node->safe_psql('postgres', "SELECT count(*) FROM schemaguard.staged_drops WHERE object::text = 'b'"),
	'0', 'a committed DROP takes b out of the staged set');

# The table now holds a and f.secret (two of three).  c takes the last
# entry; a use of d finds the table full.
$node->safe_psql('postgres', "SELECT schemaguard.stage_drop('c'); SELECT schemaguard.stage_drop('d'); "
	  . "SELECT schemaguard.stage_drop('e')");
$node->safe_psql('postgres', 'SELECT count(*) FROM c', connstr => $app);
is(state_of("object = 'c'::regclass AND column_name IS NULL"), "1,in use,regress_sg_app (application_name nightly_export)",
	'c takes the last entry (the DROP of b freed one)');
$node->safe_psql('postgres', 'SELECT count(*) FROM d', connstr => $app);
like(slurp_file($node->logfile), qr/more than 3 staged objects are in use; usage of some is not tracked/,
	'a use that cannot be recorded is logged');
is(state_of("object = 'd'::regclass AND column_name IS NULL"), "0,in use,unknown: a use went unrecorded (the usage table was full)",
	'd, whose use was lost, counts as in use');
is(state_of("object = 'e'::regclass AND column_name IS NULL"), "0,in use,unknown: a use went unrecorded (the usage table was full)",
	'so does e, which nobody used: the lost use may have been of any staged object (fail closed)');
($ret, $out, $err) = $node->psql('postgres',
	"SET schemaguard.drop_delay = '1 hour'; SET lock_timeout = '2s'; DROP TABLE e");
isnt($ret, 0, 'the DROP of e is refused');
like($err, qr/DROP TABLE public\.e, whose use could not be recorded, violates rule staged-drop/,
	'... saying that its use could not be recorded');
like($err, qr/usage table \(3 staged objects, all databases\) was full/, '... and why');

# Freed entries are used again: drop a (committed), then d's use is recorded.
$node->safe_psql('postgres', "SET schemaguard.drop_delay = 0; DROP TABLE a");
$node->safe_psql('postgres', 'SELECT count(*) FROM d', connstr => $app);
is(state_of("object = 'd'::regclass AND column_name IS NULL"), "1,in use,regress_sg_app (application_name nightly_export)",
	'after the committed DROP of a, a use of d is recorded again');

# A dropped database's entries go with it (no error, and its room is free).
$node->safe_psql('postgres', 'CREATE DATABASE regress_other');
$node->safe_psql('regress_other', 'CREATE EXTENSION schemaguard; CREATE TABLE x (id int); '
	  . "SELECT schemaguard.stage_drop('x'); SELECT count(*) FROM x");
$node->safe_psql('postgres', "SET schemaguard.mode = 'warn'; DROP DATABASE regress_other");
$node->safe_psql('postgres', "SET schemaguard.drop_delay = 0; DROP TABLE c");
$node->safe_psql('postgres', 'SELECT count(*) FROM e', connstr => $app);
is(state_of("object = 'e'::regclass AND column_name IS NULL"), "1,in use,regress_sg_app (application_name nightly_export)",
	'with room again, a use of e is recorded');

done_testing();
