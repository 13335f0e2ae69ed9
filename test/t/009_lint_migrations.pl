# schemaguard-lint with no database of the user's: --migrations DIR starts a
# throwaway server, replays the applied migrations in order and lints the
# changed ones against the schema they made; --schema loads a pg_dump.
# Layouts (plain, prisma, dbmate, flyway, sqitch), a 163-file history, the
# sarif, github and gitlab formats, errors, and nothing left behind.
use strict;
use warnings;
use Cwd ();
use File::Temp qw(tempdir);
use JSON::PP;
use Time::HiRes qw(time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SgTest qw(put);

# A server only to find the installed binaries and make a dump.
my $node = PostgreSQL::Test::Cluster->new('migr');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'schemaguard'");
$node->start;
my $bindir = $node->config_data('--bindir');
my $lint = "$bindir/schemaguard-lint";
my @pg = ('--pg-config', "$bindir/pg_config");

my $root = tempdir(CLEANUP => 1);
my $tmp = "$root/tmp";
mkdir $tmp;
$ENV{TMPDIR} = $tmp;	# where the throwaway servers live: checked empty at the end


sub run
{
	my @args = @_;
	my ($out, $err) = ('', '');
	local $ENV{GITHUB_ACTIONS};
	IPC::Run::run([ $lint, @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# --- a 163-file plain history ------------------------------------------------
my $plain = "$root/plain";
my $n = 163;
for my $i (1 .. $n - 1)
{
	my $t = sprintf('t%03d', $i);
	my $sql = "CREATE TABLE $t (id bigint PRIMARY KEY, tenant_id text, v int, note text);\n"
	  . "CREATE INDEX ${t}_v ON $t (v);\n"
	  . ($i > 1 ? sprintf("ALTER TABLE t%03d ADD COLUMN next_id bigint REFERENCES $t (id);\n"
			. "CREATE INDEX t%03d_next ON t%03d (next_id);\n", $i - 1, $i - 1, $i - 1) : '')
	  . "COMMENT ON TABLE $t IS 'table $i';\n";
	put(sprintf('%s/%04d_create_%s.sql', $plain, $i, $t), $sql);
}
my $last = put(sprintf('%s/%04d_index_note.sql', $plain, $n),
	"SET lock_timeout = '2s';\nCREATE INDEX t042_note ON t042 (note);\n");

my $t0 = time;
my ($rc, $out, $err) = run(@pg, '--migrations', $plain, '--changed', $last);
my $secs = time - $t0;
is($rc, 1, 'a 163-file history: the new migration would be refused (exit 1)');
like($out, qr/^\Q$last\E:2: error: require-concurrent-index-creation: CREATE INDEX on public\.t042 violates rule require-concurrent-index-creation\n/m,
	'it names the file, the line and the table the history created');
like($out, qr/  hint: Use CREATE INDEX CONCURRENTLY t042_note ON t042 \(note\);/, 'with the safe SQL');
like($out, qr/\nschemaguard-lint: 1 error, 0 warnings in 1 file\n\z/, 'the summary comes last');
is($err, '', 'nothing on stderr');
note(sprintf('replayed %d migrations and linted 1 in %.1f s', $n - 1, $secs));
diag(sprintf('163-file history: replayed 162, linted 1 in %.1f s', $secs));
ok($secs < 60, '163 files replay in seconds');

($rc, $out) = run(@pg, '--migrations', $plain, '--changed', "$plain/0010_create_t010.sql", $last);
like($out, qr/0010_create_t010\.sql:3: error: constraint-missing-not-valid: .*t009/,
	'changed files in the middle: linted against the migrations before them and the other applied ones');

my $bad = put("$root/broken/0001_a.sql", "CREATE TABLE a (id int);\n");
put("$root/broken/0002_b.sql", "CREATE TABLE b (id int);\n\nALTER TABLE nope ADD COLUMN x int;\n");
my $new = put("$root/broken/0003_c.sql", "ALTER TABLE a ADD COLUMN c int;\n");
($rc, $out, $err) = run(@pg, '--migrations', "$root/broken", '--changed', $new);
is($rc, 2, 'an applied migration that does not replay exits 2');
like($err, qr/replaying the applied migrations failed at \Q$root\E\/broken\/0002_b\.sql:3: ERROR:  relation "nope" does not exist/,
	'and names its file and line');
($rc, $out, $err) = run(@pg, '--migrations', "$root/broken", '--changed', "$root/elsewhere.sql");
is($rc, 2, 'a changed file that is not one of the migrations exits 2');
like($err, qr/is not one of the plain migrations/, 'and says so');
($rc, $out, $err) = run(@pg, '--migrations', "$root/none");
is($rc, 2, 'a missing directory exits 2');
($rc, $out, $err) = run(@pg, '--migrations', $plain, '-h', '/tmp', $last);
is($rc, 2, 'connection options do not combine with --migrations');

# --- Prisma ---------------------------------------------------------------
my $prisma = "$root/app/prisma/migrations";
put("$prisma/20260101000000_init/migration.sql", "CREATE TABLE \"User\" (id serial PRIMARY KEY, email text);\n");
put("$prisma/migration_lock.toml", "provider = \"postgresql\"\n");
my $p2 = put("$prisma/20260102000000_email/migration.sql",
	"SET lock_timeout = '2s';\nALTER TABLE \"User\" ADD COLUMN name text;\nCREATE INDEX CONCURRENTLY user_email ON \"User\" (email);\n");
($rc, $out) = run(@pg, '--migrations', "$root/app", '--changed', "$prisma/20260102000000_email");
like($out, qr/^\Q$p2\E:3: error: concurrently-in-transaction: .*\n(?:  .*\n)*  hint: .*Prisma runs each migration file/m,
	'Prisma: found under the project root, a migration named by its folder, linted as Prisma runs it');

# --- dbmate: only the up section, lines as in the file ----------------------
my $dbmate = "$root/db/migrations";
put("$dbmate/20260101000000_init.sql",
	"-- migrate:up\nCREATE TABLE accounts (id int PRIMARY KEY, plan text);\n\n-- migrate:down\nDROP TABLE accounts;\n");
my $d2 = put("$dbmate/20260102000000_plan.sql",
	"-- migrate:up\nSET lock_timeout = '2s';\nALTER TABLE accounts ALTER COLUMN plan SET NOT NULL;\n\n"
	  . "-- migrate:down\nALTER TABLE accounts DROP COLUMN plan;\n");
($rc, $out) = run(@pg, '--migrations', "$root/db/migrations", '--changed', $d2);
like($out, qr/^\Q$d2\E:3: error: set-not-null-without-check: /m,
	'dbmate: the up section is replayed and linted, its line numbers are the file\'s');
unlike($out, qr/:6: |staged-drop/, 'the down section is neither replayed nor linted');

# --- Flyway: V2 before V10 ---------------------------------------------------
my $fly = "$root/flyway";
put("$fly/V1__init.sql", "CREATE TABLE orders (id int PRIMARY KEY);\n");
put("$fly/V2__more.sql", "ALTER TABLE orders ADD COLUMN total numeric;\n");
my $f10 = put("$fly/V10__check.sql", "SET lock_timeout = '2s';\nALTER TABLE orders ADD CONSTRAINT total_pos CHECK (total > 0);\n");
put("$fly/R__view.sql", "CREATE OR REPLACE VIEW order_totals AS SELECT id, total FROM orders;\n");
($rc, $out, $err) = run(@pg, '--migrations', $fly, '--changed', $f10);
like($out, qr/^\Q$f10\E:2: error: constraint-missing-not-valid: /m,
	'Flyway: versions in numeric order (V10 after V2), repeatable scripts after them');

# --- sqitch: the plan's order ------------------------------------------------
my $sq = "$root/sqitch";
put("$sq/sqitch.plan", "%syntax-version=1.0.0\n%project=demo\n\n"
	  . "zeta 2026-01-01T00:00:00Z A <a\@example.com> # the table\n"
	  . "alpha [zeta] 2026-01-02T00:00:00Z A <a\@example.com> # the column\n"
	  . "\@v1 2026-01-02T00:00:00Z A <a\@example.com> # tag\n");
put("$sq/deploy/zeta.sql", "BEGIN;\nCREATE TABLE items (id int PRIMARY KEY, sku text);\nCOMMIT;\n");
my $sa = put("$sq/deploy/alpha.sql", "BEGIN;\nSET LOCAL lock_timeout = '2s';\nALTER TABLE items RENAME COLUMN sku TO code;\nCOMMIT;\n");
($rc, $out) = run(@pg, '--migrations', $sq, '--changed', $sa);
like($out, qr/^\Q$sa\E:3: error: renaming-column: /m, 'sqitch: deploy scripts in the order of sqitch.plan');
($rc, $out) = run(@pg, '--migrations', $sq);
is($rc, 1, 'without --changed every migration is linted against the ones before it');
like($out, qr/in 2 files\n\z/, 'both files');

# --- Prisma 8: migrations/app/<name>/ops.json, written by Prisma 8's own CLI ---
# (examples/prisma8: prisma migration plan, 8.0.0-rc.19; see examples/README.md)
{
	my $src = $ENV{SG_SRC} // '.';
	my $p8 = "$src/examples/prisma8/migrations";
	my $ix = "$p8/app/20261207T2124_index_user_name/ops.json";
	($rc, $out, $err) = run(@pg, '--migrations', $p8);
	is($rc, 1, 'Prisma 8: the history replays from ops.json, and the index migration would be refused');
	like($out, qr/^\Q$ix\E:27: error: require-concurrent-index-creation: CREATE INDEX on public\."User"/m,
		'... at the line of ops.json that holds its SQL');
	like($out, qr/for Prisma 8: by hand before prisma db migrate, which runs every pending migration in one transaction/,
		'... with the hint in Prisma 8\'s terms (db migrate runs every pending migration in one transaction)');
	($rc, $out, $err) = run(@pg, '--migrations', "$src/examples/prisma8", '--changed', "$p8/app/20261207T2124_index_user_name");
	is($rc, 1, 'Prisma 8: found from the project directory, --changed names a migration package');
	like($out, qr/in 1 file\n\z/, '... and only it is linted');
	# a data step (parameters) is left out, and said so
	my $d8 = "$root/p8/app";
	put("$d8/20260101T0000_init/ops.json", '[{"id":"t","operationClass":"additive","precheck":[],'
		  . '"execute":[{"description":"t","sql":"CREATE TABLE t (id int)","params":[]}],"postcheck":[]}]');
	put("$d8/20260102T0000_fill/ops.json", '[{"id":"d","operationClass":"data","precheck":[],'
		  . '"execute":[{"description":"fill","sql":"INSERT INTO t VALUES ($1)","params":[1]}],"postcheck":[]}]');
	($rc, $out, $err) = run(@pg, '--migrations', "$root/p8");
	is($rc, 0, 'Prisma 8: a history with a data step replays');
	like($err, qr/fill\/ops\.json: 1 data step with parameters left out/, '... and the data step is named as left out');
	put("$d8/20260103T0000_bad/ops.json", '{"not":"a list"}');
	($rc, $out, $err) = run(@pg, '--migrations', "$root/p8");
	is($rc, 2, 'Prisma 8: an ops.json that is not a list of operations is a usage error');
	like($err, qr/cannot read .*bad\/ops\.json.* as Prisma 8's ops\.json/, '... that says so');
}

# --- an extension this machine lacks (pgvector, as formbricks' history uses it) ---
{
	my $vh = "$root/vh/prisma/migrations";
	put("$vh/1_init/migration.sql", "-- CreateExtension\nCREATE EXTENSION IF NOT EXISTS \"vector\";\n\n"
		  . "CREATE TABLE \"Document\" (\"id\" TEXT NOT NULL, \"embedding\" vector(1536),\n"
		  . "    CONSTRAINT \"Document_pkey\" PRIMARY KEY (\"id\"));\n");
	put("$vh/2_more/migration.sql", "ALTER TABLE \"Document\" ADD COLUMN \"small\" halfvec(512);\n"
		  . "CREATE TABLE \"Chunk\" (\"id\" TEXT PRIMARY KEY, \"embedding\" vector(3) NOT NULL DEFAULT '[0,0,0]');\n"
		  . "CREATE INDEX \"Chunk_e\" ON \"Chunk\" USING hnsw (\"embedding\" vector_cosine_ops) WITH (m = 16, ef_construction = 64);\n"
		  . "SELECT id FROM \"Chunk\" ORDER BY embedding <=> '[1,2,3]' LIMIT 5;\n");
	my $v3 = put("$vh/3_idx/migration.sql",
		"SET lock_timeout = '2s';\nCREATE INDEX \"Document_e\" ON \"Document\" USING ivfflat (\"embedding\" vector_l2_ops) WITH (lists = 100);\n");
	($rc, $out, $err) = run(@pg, '--migrations', "$root/vh", '--changed', $v3);
	SKIP:
	{
		skip 'pgvector is installed on this machine: nothing to stub', 6 if $rc != 2;
		is($rc, 2, 'a history that creates an extension this machine lacks does not replay');
		like($err, qr/hint: this machine does not have extension vector; --stub-extension=vector/,
			'... and the error names --stub-extension');
		($rc, $out, $err) = run(@pg, '--migrations', "$root/vh", '--stub-extension', 'vector', '--changed', $v3);
		is($rc, 1, '--stub-extension=vector: it replays (types, operators, hnsw WITH options), and the new index is judged');
		like($out, qr/^\Q$v3\E:2: error: require-concurrent-index-creation: CREATE INDEX on public\."Document"/m,
			'... an ivfflat index without CONCURRENTLY on an existing table');
		like($err, qr/extension vector is not on this machine: its CREATE EXTENSION is skipped, and its types, operators and access methods are stand-ins/,
			'... and the replay says what it stood in for');
		# WITH SCHEMA, and an extension with no known stand-ins
		put("$root/vh2/1_init.sql", "CREATE SCHEMA ext;\nCREATE EXTENSION vector WITH SCHEMA ext;\n"
			  . "CREATE EXTENSION IF NOT EXISTS no_such_ext;\nCREATE TABLE d (e ext.vector(3));\n");
		($rc, $out, $err) = run(@pg, '--migrations', "$root/vh2", '--stub-extension', 'vector,no_such_ext');
		ok($rc == 0 || $rc == 1, 'WITH SCHEMA ext: the stand-ins are made in that schema; an unknown extension is skipped, and said so')
		  or diag($err);
	}
	($rc, $out, $err) = run(@pg, '--migrations', "$root/vh", '--stub-extension', 'vector;drop');
	is($rc, 2, '--stub-extension takes names only');
}

# --- --schema: a pg_dump --schema-only ---------------------------------------
$node->safe_psql('postgres', q{
	CREATE ROLE app NOLOGIN;
	CREATE TABLE invoices (id bigint PRIMARY KEY, customer text);
	ALTER TABLE invoices OWNER TO app;
	GRANT SELECT ON invoices TO app;
});
my $dump = "$root/schema.sql";
$node->command_ok([ 'pg_dump', '--schema-only', '-h', $node->host, '-p', $node->port, '-f', $dump, 'postgres' ],
	'pg_dump --schema-only');
my $inv = put("$root/inv.sql", "SET lock_timeout = '2s';\nALTER TABLE invoices DROP COLUMN customer;\n");
($rc, $out, $err) = run(@pg, '--schema', $dump, $inv);
like($out, qr/^\Q$inv\E:2: error: staged-drop: /m,
	'--schema: the dump loads (its roles made on the way) and the file is linted against it');

# --- seed rows of the history are not production's size ----------------------
{
	my $seed = "$root/seed";
	put("$seed/0001_t.sql", "CREATE TABLE s (id int PRIMARY KEY, v text);\nINSERT INTO s SELECT g, 'x' FROM generate_series(1, 100) g;\n");
	my $ix = put("$seed/0002_ix.sql", "SET lock_timeout = '2s';\nCREATE INDEX s_v ON s (v);\n");
	my ($src, $sout) = run(@pg, '--migrations', $seed, '--changed', $ix);
	like($sout, qr/SHARE lock on public\.s \(assumed to hold data\)/,
		'a table the history seeded is "assumed to hold data", not the seed rows\' size');
	unlike($sout, qr/bytes|kB/, 'no size of the throwaway\'s rows');
}

# --- the repository's example, as docs/lint.md shows it ----------------------
{
	my $src = $ENV{SG_SRC} // '.';
	my $doc = do { local (@ARGV, $/) = ("$src/docs/lint.md"); <> } // '';
	my ($cmd, $shown) = $doc =~ /\n\$ (schemaguard-lint --migrations examples\/prisma\/migrations [^\n]*)\n(.*?)```/s;
	ok(defined $cmd, 'docs/lint.md shows the example\'s lint');
	my @args = split / /, ($cmd // '');
	shift @args;
	my ($out, $err) = ('', '');
	my $here = Cwd::getcwd();
	chdir $src;
	local $ENV{GITHUB_ACTIONS};
	IPC::Run::run([ $lint, @pg, @args ], '<', \undef, '>', \$out, '2>', \$err);
	my $erc = $? >> 8;
	chdir $here;
	is($erc, 1, 'the example\'s last migration would be refused');
	is($out, $shown // '', 'its output is docs/lint.md\'s, line for line');
}

# --- formats -------------------------------------------------------------------
my $corpus = $ENV{SG_SRC} && -d "$ENV{SG_SRC}/corpus" ? "$ENV{SG_SRC}/corpus" : undef;
# (diag: PostgreSQL::Test::Utils sends plain prints to the test's log)
diag('part skipped: TAP 009 on the practice corpus (../shared/corpus is not beside the checkout)')
  unless $corpus;
if ($corpus)
{
	my @files = sort glob("$corpus/*.sql");
	my $t1 = time;
	my ($crc, $cout) = run(@pg, '--migrations', $corpus, '--changed', $files[-1]);
	diag(sprintf('the corpus: %d files replayed, the last linted, in %.1f s', @files - 1, time - $t1));
	is($crc, 1, 'the practice corpus: its last migration would be refused');
	like($cout, qr/^\Q$files[-1]\E:2: error: require-lock-timeout: ACCESS EXCLUSIVE lock on public\."PublishedDocs" without lock_timeout/m,
		'for taking ACCESS EXCLUSIVE on "PublishedDocs" without lock_timeout');
}
my $hist = $corpus // $plain;
my ($rc_t, $out_t) = run(@pg, '--migrations', $hist);
my $count = () = $out_t =~ /^\S+:\d+: (?:error|warning): /mg;
ok($count > 0, "the history has findings to report ($count)");

($rc, $out, $err) = run(@pg, '--migrations', $hist, '--format=sarif');
my $s = eval { decode_json($out) };
ok($s, 'sarif is JSON') or diag($@);
is($s->{version}, '2.1.0', 'SARIF version 2.1.0');
like($s->{'$schema'}, qr/sarif-2\.1\.0/, 'names the 2.1.0 schema');
is(ref $s->{runs}, 'ARRAY', 'runs is an array');
my $r = $s->{runs}[0];
is($r->{tool}{driver}{name}, 'schemaguard', 'tool.driver.name');
my %rules = map { $_->{id} => $_ } @{ $r->{tool}{driver}{rules} };
is(scalar @{ $r->{results} }, $count, 'one result per finding');
my @bad = grep {
	!defined $_->{message}{text} || $_->{message}{text} eq ''
	  || !$rules{ $_->{ruleId} // '' }
	  || ($r->{tool}{driver}{rules}[ $_->{ruleIndex} ]{id} // '') ne $_->{ruleId}
	  || ($_->{level} // '') !~ /^(error|warning|note|none)$/
	  || !$_->{locations}[0]{physicalLocation}{artifactLocation}{uri}
	  || ($_->{locations}[0]{physicalLocation}{region}{startLine} // 0) < 1
} @{ $r->{results} };
is(scalar @bad, 0, 'every result has message.text, a ruleId in the rules, a level and a location with startLine >= 1');
my @nohelp = grep { ($_->{helpUri} // '') !~ m{^https?://.+#\Q$_->{id}\E$} } values %rules;
is(scalar @nohelp, 0, 'every rule has a helpUri to its anchor in docs/rules.md');
like($err, qr/^schemaguard-lint: \d+ errors?, \d+ warnings? in \d+ files\n\z/, 'the summary goes to stderr, stdout is only the SARIF');

($rc, $out) = run(@pg, '--migrations', $hist, '--format=github');
my @ann = $out =~ /^::(?:error|warning) file=[^,]+,line=\d+,title=schemaguard [a-z-]+::.+$/mg;
is(scalar @ann, $count, 'github: one annotation per finding');
{
	local $ENV{GITHUB_ACTIONS} = 'true';
	my ($o, $e) = ('', '');
	IPC::Run::run([ $lint, @pg, '--migrations', $hist ], '<', \undef, '>', \$o, '2>', \$e);
	is($o, $out, 'github is the default when GITHUB_ACTIONS=true');
}
($rc, $out) = run(@pg, '--migrations', $hist, '--format=gitlab');
my $g = eval { decode_json($out) };
is(ref $g, 'ARRAY', 'gitlab: a JSON array');
is(scalar @$g, $count, 'one issue per finding');
my @gbad = grep {
	!$_->{description} || !$_->{check_name} || ($_->{fingerprint} // '') !~ /^[0-9a-f]{32}$/
	  || ($_->{severity} // '') !~ /^(info|minor|major|critical|blocker)$/
	  || !$_->{location}{path} || ($_->{location}{lines}{begin} // 0) < 1
} @$g;
is(scalar @gbad, 0, 'each has description, check_name, fingerprint, severity and location.path/lines.begin');
my %fp = map { $_->{fingerprint} => 1 } @$g;
is(scalar keys %fp, scalar @$g, 'fingerprints are unique');

opendir(my $dh, $tmp);
my @left = grep { !/^\.\.?$/ } readdir $dh;
is_deeply(\@left, [], 'every throwaway server and its directory is gone');

done_testing();
