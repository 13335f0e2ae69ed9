# Rule unpredicted-rewrite (issue 32): the object access hook observes core
# starting a rewrite of a populated table (make_new_heap()) or an index
# build on one without CONCURRENTLY, before a row is copied.  The proof:
# with the rules' predictions off (schemaguard.predictions, a developer
# option) every form of the catalogue below is still refused, by the
# tripwire, and the table's relfilenode is unchanged.  With predictions on,
# each form is refused by a rule that predicted it; a form only the
# tripwire catches is a missing prediction, and is listed.  The safe forms
# pass in both modes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('tripwire');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'schemaguard'\n");
$node->start;
my $major = $node->pg_version->major;
$node->safe_psql('postgres', q{
CREATE EXTENSION schemaguard;
CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;
SET lock_timeout = '5s';
CREATE TABLE big (id int PRIMARY KEY, v int, t text, g int GENERATED ALWAYS AS (v * 2) STORED);
INSERT INTO big (id, v, t) SELECT g, g, md5(g::text) FROM generate_series(1, 30000) g;
CREATE TABLE src AS SELECT g AS id, g AS v FROM generate_series(1, 30000) g;
CREATE MATERIALIZED VIEW mv AS SELECT id, v FROM src;
CREATE TABLE parted (id int, v int) PARTITION BY RANGE (id);
CREATE INDEX parted_v ON parted (v);
CREATE TABLE part1 (id int, v int);
INSERT INTO part1 SELECT g, g FROM generate_series(1, 30000) g;
});
$node->safe_psql('postgres', 'CREATE UNIQUE INDEX CONCURRENTLY mv_id ON mv (id)');

# The catalogue: every rewrite cause of tablecmds.c (AT_REWRITE_*), CLUSTER,
# VACUUM FULL, REFRESH, and the index builds (CREATE INDEX, constraints,
# ATTACH PARTITION); [form, statement, first major]
my @forms = (
	[ 'ALTER COLUMN TYPE (AT_REWRITE_COLUMN_REWRITE)', 'ALTER TABLE big ALTER COLUMN id TYPE bigint', 15 ],
	[ 'ALTER COLUMN TYPE ... USING', 'ALTER TABLE big ALTER COLUMN t TYPE varchar(64) USING upper(t)', 15 ],
	[ 'ADD COLUMN with a volatile default (AT_REWRITE_DEFAULT_VAL)', 'ALTER TABLE big ADD COLUMN r float8 DEFAULT random()', 15 ],
	[ 'ADD COLUMN GENERATED ... STORED', 'ALTER TABLE big ADD COLUMN h int GENERATED ALWAYS AS (v + 1) STORED', 15 ],
	[ 'ADD COLUMN ... GENERATED ALWAYS AS IDENTITY', 'ALTER TABLE big ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY', 15 ],
	[ 'SET UNLOGGED (AT_REWRITE_ALTER_PERSISTENCE)', 'ALTER TABLE big SET UNLOGGED', 15 ],
	[ 'SET ACCESS METHOD (AT_REWRITE_ACCESS_METHOD)', 'ALTER TABLE big SET ACCESS METHOD heap2', 15 ],
	[ 'ALTER COLUMN ... SET EXPRESSION', 'ALTER TABLE big ALTER COLUMN g SET EXPRESSION AS (v * 3)', 17 ],
	[ 'VACUUM FULL', 'VACUUM FULL big', 15 ],
	[ 'CLUSTER', 'CLUSTER big USING big_pkey', 15 ],
	[ 'REFRESH MATERIALIZED VIEW', 'REFRESH MATERIALIZED VIEW mv', 15 ],
	[ 'CREATE INDEX', 'CREATE INDEX big_t ON big (t)', 15 ],
	[ 'CREATE UNIQUE INDEX', 'CREATE UNIQUE INDEX big_t_u ON big (t)', 15 ],
	[ 'ADD CONSTRAINT UNIQUE', 'ALTER TABLE big ADD CONSTRAINT big_t_key UNIQUE (t)', 15 ],
	[ 'ADD CONSTRAINT EXCLUDE', 'ALTER TABLE big ADD CONSTRAINT big_v_excl EXCLUDE USING btree (v WITH =)', 15 ],
	[ 'ADD PRIMARY KEY', 'ALTER TABLE part1 ADD PRIMARY KEY (id)', 15 ],
	[ 'ATTACH PARTITION building the parent\'s index', 'ALTER TABLE parted ATTACH PARTITION part1 FOR VALUES FROM (1) TO (100000)', 15 ],
);
# the safe forms, which pass in both modes
my @safe = (
	'CREATE INDEX CONCURRENTLY big_t_c ON big (t)',
	'REFRESH MATERIALIZED VIEW CONCURRENTLY mv',
	'REFRESH MATERIALIZED VIEW mv WITH NO DATA',
	'ALTER TABLE big ADD COLUMN c int',
	'ALTER TABLE big ADD COLUMN d int DEFAULT 7',
);

sub relfilenodes
{
	return $node->safe_psql('postgres',
		q{SELECT string_agg(relname || '=' || relfilenode, ',' ORDER BY relname) FROM pg_class WHERE relname IN ('big', 'mv', 'part1')});
}

my ($forms, $tripped, $missing) = (0, 0, 0);
my @unpredicted;
for my $f (@forms)
{
	my ($label, $sql, $since) = @$f;
	next if $major < $since;
	$forms++;
	my $before = relfilenodes();
	my ($rc, $out, $err) = $node->psql('postgres',
		"SET lock_timeout = '5s'; SET schemaguard.predictions = off; $sql;");
	like($err, qr/violates rule unpredicted-rewrite/, "predictions off: $label is refused by the tripwire");
	$tripped++ if $err =~ /violates rule unpredicted-rewrite/;
	is(relfilenodes(), $before, "... and no relfilenode changed");
	($rc, $out, $err) = $node->psql('postgres', "SET lock_timeout = '5s'; $sql;");
	my ($rule) = $err =~ /violates rule ([a-z-]+)/;
	isnt($rc, 0, "predictions on: $label is refused") ;
	if (($rule // '') eq 'unpredicted-rewrite')
	{
		push @unpredicted, $label;
		$missing++;
	}
}
for my $sql (@safe)
{
	for my $mode ('off', 'on')
	{
		my ($rc, $out, $err) = $node->psql('postgres',
			"SET lock_timeout = '5s'; SET schemaguard.predictions = $mode; $sql;");
		unlike($err, qr/unpredicted-rewrite/, "predictions $mode: the safe form passes the tripwire: $sql");
	}
}
# an allow() lets the work through; a table created in the transaction,
# a temporary one and a small one are not judged
my ($rc, $out, $err) = $node->psql('postgres', q{SET lock_timeout = '5s'; SET schemaguard.predictions = off;
BEGIN; SELECT schemaguard.allow('unpredicted-rewrite', 'maintenance window'); ALTER TABLE big ALTER COLUMN id TYPE bigint; ROLLBACK;});
is($rc, 0, 'allow(unpredicted-rewrite) lets a rewrite through');
($rc, $out, $err) = $node->psql('postgres', q{SET schemaguard.predictions = off;
BEGIN; CREATE TABLE fresh AS SELECT * FROM generate_series(1, 100000) g; ALTER TABLE fresh ALTER COLUMN g TYPE bigint; ROLLBACK;
CREATE TEMP TABLE tmp AS SELECT * FROM generate_series(1, 100000) g; ALTER TABLE tmp ALTER COLUMN g TYPE bigint;
CREATE TABLE small AS SELECT * FROM generate_series(1, 100) g; ALTER TABLE small ALTER COLUMN g TYPE bigint;});
is($rc, 0, 'a table of the transaction, a temporary one and a small one are not judged') or diag($err);

diag("the catalogue on PostgreSQL $major: $forms forms, $tripped refused by the tripwire with predictions off; "
	. "$missing caught only by the tripwire with predictions on" . (@unpredicted ? ': ' . join('; ', @unpredicted) : ''));
is($tripped, $forms, "every form of the catalogue ($forms on $major) is refused by the tripwire");
is($missing, 0, 'with predictions on, a rule predicts every form (none is left to the tripwire)');
if ($major >= 17)
{
	is($node->safe_psql('postgres', q{SELECT string_agg(rule, ',') FROM schemaguard.lint('SET lock_timeout = ''5s''; ALTER TABLE big ALTER COLUMN g SET EXPRESSION AS (v * 5)', false)}),
		'table-rewrite', 'lint() predicts SET EXPRESSION as the live hook does (table-rewrite)');
}

$node->stop;
done_testing();
