# schemaguard-lint, the CI wrapper around lint(): output formats, exit codes
# (0 clean or warnings, 1 errors, 2 usage or connection problems), stdin,
# --real-state, and the "--" ignore comment honoured by the live hook when a
# driver sends the whole file.
use strict;
use warnings;
use File::Temp qw(tempdir);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('lint');
$node->init;
# Its tables are small: judged as tables of any size (sql/small_tables.sql
# tests the default schemaguard.small_table_size).
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'schemaguard'\nschemaguard.small_table_size = 0");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION schemaguard;
	CREATE TABLE users (id bigint PRIMARY KEY);
	INSERT INTO users SELECT generate_series(1, 1000);
	CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, note text);
	INSERT INTO orders SELECT g, g, 'n' FROM generate_series(1, 5000) g;
	CREATE TABLE empty_t (id int, note text);
});

my $bindir = $node->config_data('--bindir');
my $lint = "$bindir/schemaguard-lint";
ok(-x $lint, 'schemaguard-lint is installed with the extension');
{
	my ($ctl) = do { local (@ARGV, $/) = (($ENV{SG_SRC} // ".") . "/schemaguard.control"); <> } =~ /default_version = '([^']+)'/;
	my $v = `$lint --version`;
	is($v, "schemaguard-lint (schemaguard) $ctl\n", '--version prints the extension version');
}
my @conn = ('-h', $node->host, '-p', $node->port, '-d', 'postgres');
my $dir = tempdir(CLEANUP => 1);

sub write_file
{
	my ($name, $text) = @_;
	open(my $fh, '>', "$dir/$name") or die $!;
	print $fh $text;
	close $fh;
	return "$dir/$name";
}

sub run
{
	my ($stdin, @args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $lint, @args ], '<', \$stdin, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my $clean = write_file('clean.sql', "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN c int;\n");
my $warn = write_file('warn.sql', "SET lock_timeout = '2s';\n"
	  . "ALTER TABLE orders ADD CONSTRAINT o_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n");
my $bad = write_file('bad.sql', "SET lock_timeout = '2s';\n\n"
	  . "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n");
my $empty = write_file('empty.sql', "SET lock_timeout = '2s';\nALTER TABLE empty_t ALTER COLUMN note SET NOT NULL;\n");
my $ignored = write_file('ignored.sql', "SET lock_timeout = '2s';\n"
	  . "-- schemaguard:ignore set-not-null-without-check backfilled and verified\n"
	  . "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n");

my ($rc, $out, $err) = run('', @conn, $clean);
is($rc, 0, 'a clean file exits 0');
like($out, qr/\Aschemaguard-lint: 0 errors, 0 warnings in 1 file\n\z/, 'the summary goes to stdout');

($rc, $out, $err) = run('', @conn, $warn);
is($rc, 0, 'warnings only exit 0');
like($out, qr/^\Q$warn\E:2: warning: fk-without-index: /m, 'a warning is printed as file:line: level: rule: message');

($rc, $out, $err) = run('', @conn, $bad, $clean);
is($rc, 1, 'an error-level finding exits 1');
like($out, qr/^\Q$bad\E:3: error: set-not-null-without-check: SET NOT NULL on public\.orders\.note/m,
	'the error names file, line, rule and message');
like($out, qr/\n  hint: [^\n]*(?:\n    [^\n]*)*\nschemaguard-lint: 1 error, 0 warnings in 2 files\n\z/,
	'the summary comes last, after the findings, in the same stream');
like($out, qr/^  hint: (?:Four|Two) steps: ALTER TABLE public\.orders ADD CONSTRAINT orders_note_not_null/m,
	'text output carries the hint');

($rc, $out) = run('', @conn, '--format=gcc', $bad);
like($out, qr/^\Q$bad\E:3:1: error: SET NOT NULL .* \[set-not-null-without-check\]$/m, 'gcc format');

($rc, $out) = run('', @conn, '--format=json', $bad, $warn);
my $json = eval { decode_json($out) };
ok($json && ref $json eq 'ARRAY', 'json format is a JSON array');
is(scalar(@$json), 2, 'one object per finding across files');
is($json->[0]{rule}, 'set-not-null-without-check', 'json carries the rule');
is($json->[0]{line}, 3, 'json carries the line');

($rc, $out) = run('', @conn, $empty);
is($rc, 1, 'by default every existing table is assumed to hold data');
($rc, $out) = run('', @conn, '--real-state', $empty);
is($rc, 0, '--real-state reads the table as empty');

($rc, $out) = run("ALTER TABLE orders RENAME COLUMN note TO memo;\n", @conn, '-');
is($rc, 1, 'reads a migration from stdin');
like($out, qr/^-:1: error: renaming-column:/m, 'stdin is named -');

($rc, $out) = run('', @conn, $ignored);
is($rc, 0, 'an ignore comment with a reason suppresses the rule');

# --runner: how the file will be run.  A Prisma migration file that follows
# the index hint next to another statement fails on deploy (one implicit
# transaction); alone it runs; psql runs each statement on its own.
my $cic = write_file('cic.sql', "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN c int;\n"
	  . "CREATE INDEX CONCURRENTLY orders_c ON orders (c);\n");
my $cic_alone = write_file('cic_alone.sql', "CREATE INDEX CONCURRENTLY orders_c ON orders (c);\n");
($rc, $out) = run('', @conn, '--runner=prisma', $cic);
is($rc, 1, 'CREATE INDEX CONCURRENTLY next to another statement fails as Prisma runs it');
like($out, qr/^\Q$cic\E:3: error: concurrently-in-transaction: .*\n.*\n  hint: .*Prisma runs each migration file/m,
	'the finding names the line and the hint says how Prisma takes it');
($rc, $out) = run('', @conn, $cic);
is($rc, 1, 'the default runner runs a file as one transaction too');
($rc, $out) = run('', @conn, '--runner=prisma', $cic_alone);
is($rc, 0, 'a file holding only CREATE INDEX CONCURRENTLY is clean');
($rc, $out) = run('', @conn, '--runner=psql', $cic);
is($rc, 0, 'psql runs each statement in its own transaction: clean');
($rc, $out, $err) = run('', @conn, '--runner=liquibase', $cic);
is($rc, 2, 'an unknown runner exits 2');

# CLI conventions, as psql's: --help (and -?) on stdout; an error in one
# line and a pointer to --help, not the whole usage
($rc, $out, $err) = run('', '--help');
is($rc, 0, '--help exits 0');
like($out, qr/^Usage: schemaguard-lint /, '--help writes the usage to stdout');
($rc, $out, $err) = run('', '-?');
like($out, qr/^Usage: schemaguard-lint /, '-? too');
# the man page: every option of --help is in it, and it renders without a warning
{
	my $help = $out;
	my $src = $ENV{SG_SRC} // '.';
	my $man = do { local (@ARGV, $/) = ("$src/docs/schemaguard-lint.1"); <> } // '';
	(my $plain = $man) =~ s/\\f[BIRP]//g;
	$plain =~ s/\\-/-/g;
	my %opt = map { $_ => 1 } $help =~ /(--[a-z][a-z-]+)/g;
	my @missing = grep { index($plain, $_) < 0 } sort keys %opt;
	is(join(' ', @missing), '', 'docs/schemaguard-lint.1 names every option of --help (' . scalar(keys %opt) . ')');
	if (system('sh', '-c', 'command -v groff >/dev/null 2>&1') == 0)
	{
		my ($gout, $gerr) = ('', '');
		IPC::Run::run([ 'groff', '-man', '-Tutf8', '-ww', '-z', "$src/docs/schemaguard-lint.1" ], '>', \$gout, '2>', \$gerr);
		is($gerr, '', 'the man page renders without a warning (groff -man -ww)');
	}
	else
	{
		diag('part skipped: rendering the man page (groff is not installed)');
	}
}
($rc, $out, $err) = run('', '--no-such-option', $clean);
is($rc, 2, 'an unknown option exits 2');
is($err, "Unknown option: no-such-option\nTry \"schemaguard-lint --help\" for more information.\n",
	'in two lines: the error and a pointer to --help');
# --exclude, --include, --fail-on-warning
($rc, $out) = run('', @conn, '--exclude=set-not-null-without-check', $bad);
is($rc, 0, '--exclude leaves a rule\'s findings out (and their exit status)');
unlike($out, qr/set-not-null-without-check/, 'and out of the report');
($rc, $out) = run('', @conn, '--include=fk-without-index', $bad, $warn);
unlike($out, qr/set-not-null-without-check/, '--include reports only the rules named');
like($out, qr/fk-without-index/, '... those it names');
($rc, $out) = run('', @conn, $warn);
is($rc, 0, 'a warning alone exits 0');
($rc, $out) = run('', @conn, '--fail-on-warning', $warn);
is($rc, 1, 'with --fail-on-warning it exits 1');
# --target-retries-locks: a missing lock_timeout is not reported for a
# server that retries busy locks; without it, it is
my $no_timeout = write_file('no_timeout.sql', "ALTER TABLE orders ADD COLUMN d int;\n");
($rc, $out) = run('', @conn, $no_timeout);
like($out, qr/require-lock-timeout/, 'a file without lock_timeout: require-lock-timeout');
is($rc, 1, '... an error');
($rc, $out) = run('', @conn, '--target-retries-locks', $no_timeout);
is($rc, 0, 'with --target-retries-locks: clean');
unlike($out, qr/require-lock-timeout/, '... not reported');
# the configuration file (docs/lint.md): rule levels, excluded paths, the
# runner and the target change the findings as documented
my $cfg = write_file('schemaguard.toml', <<'TOML');
# schemaguard-lint configuration
target = "schemaguard"          # the server retries busy locks: no require-lock-timeout
exclude_paths = ["*/skipped_*.sql"]

[rules]
set-not-null-without-check = "off"
fk-without-index = "error"
TOML
my $skipped = write_file('skipped_bad.sql', "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n");
($rc, $out) = run('', @conn, "--config=$cfg", $bad);
is($rc, 0, 'config: a rule at "off" leaves its findings out');
($rc, $out) = run('', @conn, "--config=$cfg", $warn);
is($rc, 1, 'config: a rule raised to "error" fails the run');
like($out, qr/error: fk-without-index/, '... and is reported as an error');
($rc, $out) = run('', @conn, "--config=$cfg", $no_timeout);
is($rc, 0, 'config: target = "schemaguard" drops require-lock-timeout');
($rc, $out) = run('', @conn, "--config=$cfg", $skipped);
like($out, qr/in 0 files/, 'config: an excluded path is not linted');
($rc, $out) = run('', @conn, "--config=$cfg", '--no-config', $bad);
is($rc, 1, '--no-config ignores it');
my $badcfg = write_file('bad.toml', "[rules]\nno-such-rule = \"off\"\n");
($rc, $out, $err) = run('', @conn, "--config=$badcfg", $bad);
is($rc, 2, 'config: an unknown rule is a usage error');
like($err, qr/unknown rule "no-such-rule" in the configuration/, '... naming it');
$badcfg = write_file('bad2.toml', "colour = \"blue\"\n");
($rc, $out, $err) = run('', @conn, "--config=$badcfg", $bad);
like($err, qr/bad2\.toml:1: unknown key colour/, 'config: an unknown key is a usage error, with its line');
# per-file ignores, with a reason
my $ig = write_file('ignored_file.sql', "-- schemaguard:ignore-file set-not-null-without-check backfilled in 2025, verified\n"
	  . "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n");
($rc, $out) = run('', @conn, $ig);
is($rc, 0, 'ignore-file with a reason leaves the rule out of the file');
my $ig2 = write_file('ignored_noreason.sql', "-- schemaguard:ignore-file set-not-null-without-check\n"
	  . "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n");
($rc, $out) = run('', @conn, $ig2);
like($out, qr/invalid-ignore: schemaguard:ignore-file comment invalid \(it gives no reason\)/, 'without a reason it is invalid-ignore');
like($out, qr/set-not-null-without-check/, '... and the rule still applies');
my $ig3 = write_file('ignored_unknown.sql', "-- schemaguard:ignore-file no-such-rule because\nSELECT 1;\n");
($rc, $out) = run('', @conn, $ig3);
like($out, qr/rule "no-such-rule" does not exist/, 'an unknown rule in ignore-file is invalid-ignore');
($rc, $out, $err) = run('', @conn, '--exclude=no-such-rule', $warn);
is($rc, 2, 'an unknown rule id is a usage error');
like($err, qr/unknown rule "no-such-rule" in --exclude or --include/, 'which names it');
($rc, $out, $err) = run('', @conn, "$dir/missing.sql");
is($rc, 2, 'a missing file exits 2');
($rc, $out, $err) = run('', '-h', $node->host, '-p', '1', '-d', 'postgres', $clean);
is($rc, 2, 'a connection failure exits 2');
like($err, qr/could not connect: connection to server/, 'it says so in libpq\'s words');
unlike($err, qr/installed/, 'without guessing that schemaguard is missing');
$node->safe_psql('postgres', 'CREATE DATABASE noext');
($rc, $out, $err) = run('', '-h', $node->host, '-p', $node->port, '-d', 'noext', $clean);
is($rc, 2, 'a database without schemaguard exits 2');
like($err, qr/hint: schemaguard 1\.6 or later is not installed in that database: CREATE EXTENSION schemaguard;/,
	'and the hint says to create the extension');
($rc, $out, $err) = run('', @conn);
is($rc, 2, 'no file exits 2');
($rc, $out, $err) = run('', @conn, '--format=xml', $clean);
is($rc, 2, 'an unknown format exits 2');
($rc, $out, $err) = run('', @conn, '--no-such-option', $clean);
is($rc, 2, 'an unknown option exits 2');

# The live hook: a driver that sends the whole file keeps "--" comments
# (psql -c sends its string as it is, as Prisma and node-postgres do).
sub send_whole
{
	my ($sql) = @_;
	my ($o, $e) = ('', '');
	IPC::Run::run([ "$bindir/psql", '-X', @conn, '-c', $sql ], '>', \$o, '2>', \$e);
	return ($? >> 8, $o, $e);
}
my $file = do { local $/; open(my $fh, '<', $ignored) or die; <$fh> };
my ($ret, $stdout, $stderr) = send_whole($file);
is($ret, 0, 'the live hook honours the -- form sent with the statement');
my $log = slurp_file($node->logfile);
like($log, qr/rule set-not-null-without-check ignored by a comment for role "\w+": backfilled and verified/,
	'the honoured ignore is in the server log');
($ret, $stdout, $stderr) = send_whole(
	"SET lock_timeout = '2s'; ALTER TABLE orders ALTER COLUMN note DROP NOT NULL;\n"
	  . "-- schemaguard:ignore set-not-null-without-check\n"
	  . "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;");
like($stderr, qr/schemaguard:ignore comment invalid \(it gives no reason\) violates rule invalid-ignore/,
	'an ignore without a reason is refused live too');

# The upgrade path from 1.0: lint() arrives with ALTER EXTENSION UPDATE.
$node->safe_psql('postgres', 'CREATE DATABASE upgrade');
$node->safe_psql('upgrade', "CREATE EXTENSION schemaguard VERSION '1.0'");
is($node->safe_psql('upgrade',
		"SELECT count(*) FROM pg_proc WHERE proname = 'lint' AND pronamespace = 'schemaguard'::regnamespace"),
	'0', 'version 1.0 has no lint()');
$node->safe_psql('upgrade', "ALTER EXTENSION schemaguard UPDATE TO '1.1'");
is($node->safe_psql('upgrade', "SELECT extversion FROM pg_extension WHERE extname = 'schemaguard'"),
	'1.1', 'ALTER EXTENSION UPDATE TO 1.1 reaches 1.1');
is($node->safe_psql('upgrade', "SELECT count(*) FROM schemaguard.lint('DROP DATABASE x')"),
	'1', 'lint() works after the upgrade');

# 1.1 to 1.2: the tenant functions, with set_tenant() not granted to PUBLIC.
$node->safe_psql('upgrade', "ALTER EXTENSION schemaguard UPDATE TO '1.2'");
is($node->safe_psql('upgrade', "SELECT extversion FROM pg_extension WHERE extname = 'schemaguard'"),
	'1.2', 'ALTER EXTENSION UPDATE reaches 1.2');
is($node->safe_psql('upgrade',
		"SELECT has_function_privilege('public', 'schemaguard.set_tenant(text)', 'EXECUTE')"
		  . " || ',' || has_function_privilege('public', 'schemaguard.current_tenant()', 'EXECUTE')"),
	'false,true', 'after the upgrade set_tenant() is revoked from PUBLIC, current_tenant() is not');

# 1.2 to 1.3: the migration history.
$node->safe_psql('upgrade', "ALTER EXTENSION schemaguard UPDATE TO '1.3'");
is($node->safe_psql('upgrade', "SELECT extversion FROM pg_extension WHERE extname = 'schemaguard'"),
	'1.3', 'ALTER EXTENSION UPDATE reaches 1.3');
$node->safe_psql('upgrade', q{
	BEGIN; SELECT schemaguard.begin_migration('1'); CREATE TABLE after_upgrade (id int); COMMIT;});
is($node->safe_psql('upgrade', q{SELECT status FROM schemaguard.migrations WHERE version = '1'}),
	'applied', 'migrations work after the upgrade');

# 1.3 to 1.4: audit triggers.
$node->safe_psql('upgrade', "ALTER EXTENSION schemaguard UPDATE TO '1.4'");
is($node->safe_psql('upgrade', "SELECT extversion FROM pg_extension WHERE extname = 'schemaguard'"),
	'1.4', 'ALTER EXTENSION UPDATE reaches 1.4');
$node->safe_psql('upgrade', q{
	CREATE TABLE audited_after (id int PRIMARY KEY, v text);
	SELECT schemaguard.enable_audit('audited_after');
	INSERT INTO audited_after VALUES (1, 'a');});
is($node->safe_psql('upgrade', q{SELECT op || ' ' || new::text FROM schemaguard.audit_log WHERE table_name = 'audited_after' AND op NOT LIKE 'AUDIT %'}),
	'INSERT {"v": "a", "id": 1}', 'auditing works after the upgrade');

# 1.4 to 1.5: hardening.  Trigger functions are no longer PUBLIC's, the
# migrations view reads liveness in C, audit reaches partitions.
$node->safe_psql('upgrade', "ALTER EXTENSION schemaguard UPDATE TO '1.5'");
is($node->safe_psql('upgrade', "SELECT extversion FROM pg_extension WHERE extname = 'schemaguard'"),
	'1.5', 'ALTER EXTENSION UPDATE reaches 1.5');
is($node->safe_psql('upgrade',
		"SELECT has_function_privilege('public', 'schemaguard._audit()', 'EXECUTE')"
		  . " || ',' || has_function_privilege('public', 'schemaguard._timestamps()', 'EXECUTE')"),
	'false,false', 'after the upgrade the trigger functions are not executable by PUBLIC');
$node->safe_psql('upgrade', q{
	SET lock_timeout = '2s';
	BEGIN;
	CREATE TABLE parted_after (id int, at date) PARTITION BY RANGE (at);
	CREATE TABLE parted_after_1 PARTITION OF parted_after FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
	SELECT schemaguard.enable_audit('parted_after');
	COMMIT;
	INSERT INTO parted_after_1 VALUES (1, '2026-05-01');});
is($node->safe_psql('upgrade', q{SELECT op || ' ' || table_name FROM schemaguard.audit_log WHERE table_name = 'parted_after' AND op NOT LIKE 'AUDIT %'}),
	'INSERT parted_after', 'a write to a partition is audited after the upgrade');

# 1.5 to 1.6: lint() takes the runner; disable_audit() is C; policies of
# uuid and integer tenant columns compare with current_tenant_as().  A
# table isolated by 1.5 (its policy shape) stays isolated.
$node->safe_psql('upgrade', q{
	SET lock_timeout = '2s';
	BEGIN;
	CREATE TABLE tenants_15 (id int PRIMARY KEY, tenant_id uuid NOT NULL);
	CREATE INDEX ON tenants_15 (tenant_id);
	SELECT count(*) FROM schemaguard.enable_tenant_isolation('tenants_15');
	COMMIT;});
like($node->safe_psql('upgrade', q{SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polrelid = 'tenants_15'::regclass}),
	qr/::text = schemaguard\.current_tenant\(\)/, 'before the update, the 1.5 objects get the 1.5 policy');
$node->safe_psql('upgrade', 'ALTER EXTENSION schemaguard UPDATE');
is($node->safe_psql('upgrade', q{SELECT problems FROM schemaguard.tenant_report() WHERE table_name = 'tenants_15'::regclass}),
	'{}', 'after the update the 1.5 policy still isolates');
$node->safe_psql('upgrade', q{SET lock_timeout = '2s'; SELECT count(*) FROM schemaguard.enable_tenant_isolation('tenants_15')});
is($node->safe_psql('upgrade', q{SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polrelid = 'tenants_15'::regclass}),
	'(tenant_id = schemaguard.current_tenant_as(NULL::uuid))', 'enable_tenant_isolation() rewrites it to the 1.6 shape');
is($node->safe_psql('upgrade', "SELECT extversion FROM pg_extension WHERE extname = 'schemaguard'"),
	'1.8', 'ALTER EXTENSION UPDATE reaches 1.8');
# 1.6 to 1.7: ddl_log's rows move to ddl_log_rows, read through the ddl_log
# view (the text of other roles' statements hidden); the rows logged before
# the update are there, and new ones go on after them.
is($node->safe_psql('upgrade', q{SELECT count(*) > 0 FROM schemaguard.ddl_log WHERE command_tag = 'CREATE TABLE' AND statement LIKE '%tenants_15%'}),
	't', 'after the update ddl_log shows the rows logged before it');
$node->safe_psql('upgrade', q{CREATE ROLE upgrade_reader; CREATE TABLE after_update (a int)});
is($node->safe_psql('upgrade', q{SET ROLE upgrade_reader; SELECT string_agg(DISTINCT statement, ',') FROM schemaguard.ddl_log WHERE object_identity = 'public.after_update'}),
	'<insufficient privilege>', 'after the update another role\'s statement text is hidden');
my ($urc) = $node->psql('upgrade', q{SET ROLE upgrade_reader; SELECT count(*) FROM schemaguard.ddl_log_rows});
isnt($urc, 0, 'after the update ddl_log_rows is not readable by PUBLIC');
is($node->safe_psql('upgrade', q{SELECT string_agg(rule, ',') FROM schemaguard.lint(
	'CREATE TABLE a (id int); CREATE INDEX CONCURRENTLY a_id ON a (id);', true, 'prisma')}),
	'concurrently-in-transaction', 'after the upgrade lint() takes a runner');
# 1.7 to 1.8: invalid_indexes()
is($node->safe_psql('upgrade', q{SELECT count(*) FROM schemaguard.invalid_indexes()}),
	'0', 'after the upgrade invalid_indexes() works');
$node->safe_psql('upgrade', "SELECT schemaguard.disable_audit('parted_after')");
is($node->safe_psql('upgrade', q{SELECT count(*) FROM schemaguard.audited_tables WHERE table_name = 'parted_after'::regclass}),
	'0', 'after the upgrade disable_audit() still drops the triggers');

$node->stop;
done_testing();
