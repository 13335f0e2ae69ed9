# schemaguard-lint --migrations on a hostile history, as a pull request
# would bring it to a CI job: every file and option value is the
# attacker's.  Each attempt must be refused or harmless: a canary file on
# the runner is never written, no secret file reaches the output, and the
# replay never runs as a superuser.
use strict;
use warnings;
use File::Temp qw(tempdir);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SgTest qw(put);

my $node = PostgreSQL::Test::Cluster->new('hostile');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'schemaguard'");
$node->start;
my $bindir = $node->config_data('--bindir');
my $lint = "$bindir/schemaguard-lint";
my @pg = ('--pg-config', "$bindir/pg_config");

my $root = tempdir(CLEANUP => 1);
chmod 0755, $root;
# The canary's folder is writable by anyone (the server's OS user too), so
# that any command that ran would leave it behind.
my $cdir = "$root/canary";
mkdir $cdir;
chmod 0777, $cdir;
my $canary = "$cdir/pwned";
my $secret = put("$root/secret.txt", "SECRET-CANARY-7f3a\n");
chmod 0600, $secret;

sub run
{
	my @args = @_;
	my ($out, $err) = ('', '');
	local $ENV{GITHUB_ACTIONS};
	IPC::Run::run([ $lint, @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# A history: an applied first migration with the payload, then a new one.
my $case = 0;
sub history
{
	my ($payload, $where) = @_;
	my $dir = "$root/h" . ++$case;
	my $p = "$dir/prisma/migrations";
	put("$p/1_init/migration.sql", "CREATE TABLE t (id int PRIMARY KEY);\n"
		  . ($where eq 'applied' ? $payload : ''));
	put("$p/2_next/migration.sql", "ALTER TABLE t ADD COLUMN v int;\n" . ($where eq 'changed' ? $payload : ''));
	return ($p, "$p/2_next");
}

my @payloads = (
	[ 'a psql meta-command', "\\! id > $canary\n" ],
	[ 'another one, in a string psql would expand', "\\o |id > $canary\nSELECT 1;\n" ],
	[ 'COPY ... TO PROGRAM', "COPY (SELECT 1) TO PROGRAM 'id > $canary';\n" ],
	[ 'COPY ... FROM PROGRAM', "CREATE TABLE x (a text); COPY x FROM PROGRAM 'id > $canary';\n" ],
	[ 'COPY to a server file', "COPY (SELECT 'x') TO '$canary';\n" ],
	[ 'lo_import of a server file', "SELECT lo_import('$secret');\n" ],
	[ 'lo_export to a server file', "SELECT lo_export(lo_create(0), '$canary');\n" ],
	[ 'pg_read_file', "CREATE TABLE s AS SELECT pg_read_file('$secret') AS v;\n" ],
	[ 'pg_ls_dir', "CREATE TABLE s AS SELECT pg_ls_dir('/') AS v;\n" ],
	[ 'a C function', "CREATE FUNCTION f() RETURNS int AS '/lib/x86_64-linux-gnu/libc.so.6', 'system' LANGUAGE C;\n" ],
	[ 'ALTER SYSTEM', "ALTER SYSTEM SET archive_command = 'id > $canary';\n" ],
	[ 'becoming a superuser', "ALTER ROLE CURRENT_USER SUPERUSER;\n" ],
	[ 'SET ROLE to the superuser', "SET ROLE schemaguard_lint;\nCOPY (SELECT 1) TO PROGRAM 'id > $canary';\n" ],
	[ 'granting itself server programs', "GRANT pg_execute_server_program TO CURRENT_USER;\n" ],
	[ 'an untrusted language', "CREATE FUNCTION f() RETURNS void LANGUAGE plperlu AS \$\$ system('id > $canary') \$\$;\n" ],
	[ 'file_fdw (created for it), then a foreign table on a server file',
	  "CREATE EXTENSION IF NOT EXISTS file_fdw;\nCREATE SERVER fs FOREIGN DATA WRAPPER file_fdw;\n"
		. "CREATE FOREIGN TABLE ft (v text) SERVER fs OPTIONS (filename '$secret');\n" ],
	[ 'dblink back to the superuser', "CREATE EXTENSION IF NOT EXISTS dblink;\n"
		. "SELECT dblink_exec('dbname=replay user=schemaguard_lint', 'COPY (SELECT 1) TO PROGRAM ''id > $canary''');\n" ],
);
for my $pl (@payloads)
{
	my ($what, $sql) = @$pl;
	for my $where ('applied', 'changed')
	{
		my ($dir, $changed) = history($sql, $where);
		my ($rc, $out, $err) = run(@pg, '--migrations', $dir, '--changed', $changed);
		ok($rc == 0 || $rc == 1 || $rc == 2, "$what ($where): a clean exit ($rc)");
		ok(!-e $canary, "$what ($where): nothing was run on the runner");
		unlike("$out$err", qr/SECRET-CANARY/, "$what ($where): no secret in the output");
		unlink $canary;
	}
}

# A migration that is a symbolic link to a file the runner can read.
{
	my ($dir, $changed) = history('', 'none');
	mkdir "$dir/3_link";
	symlink($secret, "$dir/3_link/migration.sql") or die;
	my ($rc, $out, $err) = run(@pg, '--migrations', $dir);
	is($rc, 2, 'a migration that is a symbolic link is refused');
	like($err, qr/refusing migration .*3_link\/migration\.sql.*symbolic link/, 'and the refusal says why');
	unlike("$out$err", qr/SECRET-CANARY/, 'and its target is never printed');
	# a migration folder that is a link
	my ($dir2) = history('', 'none');
	mkdir "$root/elsewhere";
	put("$root/elsewhere/migration.sql", "SELECT 'SECRET-CANARY-7f3a' AS leaked;\n");
	symlink("$root/elsewhere", "$dir2/3_linked_folder") or die;
	($rc, $out, $err) = run(@pg, '--migrations', $dir2);
	is($rc, 2, 'a migration folder that is a symbolic link is refused');
	unlike("$out$err", qr/SECRET-CANARY/, 'and nothing of it is printed');
	# sqitch.plan naming a script outside the folder
	my $sq = "$root/sq";
	put("$sq/sqitch.plan", "%syntax-version=1.0.0\n%project=x\n\n../../../secret 2026-01-01T00:00:00Z a <a\@b> # x\n");
	put("$sq/deploy/ok.sql", "SELECT 1;\n");
	($rc, $out, $err) = run(@pg, '--migrations', $sq);
	is($rc, 2, 'a sqitch.plan change outside the folder is refused');
	unlike("$out$err", qr/SECRET-CANARY/, 'and nothing of it is printed');
}

# Option-like file names: the documented job's word-split list.
{
	my ($dir, $changed) = history('', 'none');
	my $evil = put("$root/evil/pg_config", "#!/bin/sh\nid > $canary\n");
	chmod 0755, $evil;
	# "1_x --pg-config=.../pg_config .../migration.sql", word-split
	my ($rc, $out, $err) = run(@pg, '--migrations', $dir, "$dir/2_next", "--pg-config=$evil", "$dir/2_next/migration.sql");
	is($rc, 2, 'an option after the first file name is a file name, not an option');
	ok(!-e $canary, 'and the pull request\'s program never runs');
	unlink $canary;
	($rc, $out, $err) = run('--pg-config=$(id>' . $canary . ')', '--migrations', $dir);
	is($rc, 2, '--pg-config with $(...) is refused');
	ok(!-e $canary, 'and no shell ever sees it');
	($rc, $out, $err) = run("--pg-config=$root/evil/../evil/pg_config\`id>$canary\`", '--migrations', $dir);
	is($rc, 2, '--pg-config with backquotes is refused');
	ok(!-e $canary, 'and no shell ever sees them');
	unlink $canary;
}

# A dump with psql meta-commands: SQL only.
{
	my $dump = put("$root/dump.sql", "CREATE TABLE d (id int);\n\\! id > $canary\n");
	my $f = put("$root/f.sql", "SELECT 1;\n");
	my ($rc, $out, $err) = run(@pg, '--schema', $dump, $f);
	is($rc, 2, '--schema: a dump with a psql meta-command is refused');
	like($err, qr/dump\.sql:2 is a psql meta-command/, 'and the refusal names its line');
	ok(!-e $canary, 'and the command never runs');
	# pg_dump's own \restrict and \unrestrict are dropped, and the dump loads
	$dump = put("$root/dump2.sql", "\\restrict abc\nCREATE TABLE d (id int);\n\\unrestrict abc\n");
	($rc, $out, $err) = run(@pg, '--schema', $dump, $f);
	is($rc, 0, '--schema: pg_dump\'s \\restrict lines are dropped, the dump loads');
}

# An applied migration that the pull request edits (--base): it needs git.
my $have_git = system('git --version >/dev/null 2>&1') == 0;
diag('part skipped: TAP 013 --base (git is not installed)') unless $have_git;
if ($have_git)
{
	my ($dir, $changed) = history('', 'none');
	my $repo = ($dir =~ m{^(.*)/prisma/migrations$})[0];
	my @git = ('git', '-C', $repo, '-c', 'user.email=t@t', '-c', 'user.name=t');
	system(@git, 'init', '-q') == 0 or die;
	system(@git, 'add', '.') == 0 or die;
	system(@git, 'commit', '-qm', 'base') == 0 or die;
	put("$dir/1_init/migration.sql", "CREATE TABLE t (id bigint PRIMARY KEY);\n");
	put("$dir/3_new/migration.sql", "SELECT 1;\n");
	my ($rc, $out, $err) = run(@pg, '--migrations', $dir, '--base', 'HEAD', '--changed', "$dir/3_new");
	is($rc, 1, '--base: an edited applied migration is an error');
	like($out, qr/1_init\/migration\.sql:1: error: applied-migration-edited: migration 1_init was changed after it was applied/,
		'and the finding names it');
	unlike($out, qr/3_new.*applied-migration-edited/, 'a new migration is not "edited"');
	# the documented job: --base alone, no file list to quote
	($rc, $out, $err) = run(@pg, '--migrations', $dir, '--base', 'HEAD');
	is($rc, 1, '--base alone: the edited migration is an error');
	like($out, qr/^schemaguard-lint: 1 error, 0 warnings in 1 file$/m,
		'--base alone lints what is new since the base, and only that');
	($rc, $out, $err) = run(@pg, '--migrations', $dir, '--base', '--output=/tmp/x');
	is($rc, 2, '--base refuses a value that git would read as an option');
}

$node->stop;
done_testing();
