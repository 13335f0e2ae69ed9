# The README's day one, as written: preload and create, the first refusal
# and its fix, allow(), the CI lint of a Prisma migration (its output
# compared with the README's block), and the tenant example.  Also: every
# rule of rules() has its anchor in docs/rules.md (SARIF links to them).
use strict;
use warnings;
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = $ENV{SG_SRC} // '.';
my $readme = do { local (@ARGV, $/) = ("$src/README.md"); <> };
ok($readme, 'README.md is readable');
cmp_ok(length($readme), '<', 15 * 1024, 'README.md is under 15 KB');

my $node = PostgreSQL::Test::Cluster->new('dayone');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'schemaguard'");
$node->start;

# 1. Preload and create
$node->safe_psql('postgres', 'CREATE EXTENSION schemaguard');
is($node->safe_psql('postgres', 'SELECT preloaded, active, mode FROM schemaguard.status()'),
	't|t|enforce', 'status(): preloaded t, active t, mode enforce');

# 2. The first refusal, and its fix
$node->safe_psql('postgres',
	'CREATE TABLE big AS SELECT g AS id, md5(g::text) AS email FROM generate_series(1, 100000) g');
my ($rc, $out, $err) = $node->psql('postgres', 'CREATE INDEX big_email ON big (email);');
like($err, qr/ERROR:  CREATE INDEX on public\.big violates rule require-concurrent-index-creation/, 'refused');
like($err, qr/HINT:  Use CREATE INDEX CONCURRENTLY big_email ON big \(email\); outside a transaction block\./,
	'with the README\'s hint');
ok(index($readme, 'HINT:  Use CREATE INDEX CONCURRENTLY big_email ON big (email); outside a transaction block.') >= 0,
	'which the README shows');
$node->safe_psql('postgres', 'CREATE INDEX CONCURRENTLY big_email ON big (email);');
pass('CREATE INDEX CONCURRENTLY runs');
$node->safe_psql('postgres', q{
BEGIN;
SELECT schemaguard.allow('require-concurrent-index-creation', 'big is read only by the nightly job');
CREATE INDEX big_id ON big (id);
COMMIT;
});
pass('allow() with a reason lets the statement through');

# 3. Lint in CI: the README's block, line by line
my $dir = tempdir(CLEANUP => 1);
make_path("$dir/prisma/migrations/20260101000000_init", "$dir/prisma/migrations/20260301120000_add_email_index");
open(my $fh, '>', "$dir/prisma/migrations/20260101000000_init/migration.sql") or die;
print $fh qq{CREATE TABLE "User" (id SERIAL PRIMARY KEY, email TEXT NOT NULL);\n};
close $fh;
open($fh, '>', "$dir/prisma/migrations/20260301120000_add_email_index/migration.sql") or die;
print $fh qq{-- CreateIndex\nCREATE INDEX "User_email_idx" ON "User"("email");\n};
close $fh;
my $bindir = $node->config_data('--bindir');
my ($lout, $lerr) = ('', '');
{
	local $ENV{GITHUB_ACTIONS};
	chdir $dir;
	IPC::Run::run([ "$bindir/schemaguard-lint", '--pg-config', "$bindir/pg_config", '--migrations', 'prisma/migrations',
		'--changed', 'prisma/migrations/20260301120000_add_email_index' ], '<', \undef, '>', \$lout, '2>', \$lerr);
	$rc = $? >> 8;
	chdir $src;
}
is($rc, 1, 'schemaguard-lint --migrations exits 1');
my ($block) = $readme =~ /\n\$ schemaguard-lint --migrations prisma\/migrations [^\n]*\n(.*?)```/s;
ok(defined $block, 'the README shows the output');
is($lout, $block // '', 'the output is the README\'s, line for line');

# 4. Tenant isolation in one example
$node->safe_psql('postgres', q{
CREATE ROLE app LOGIN;
BEGIN;
CREATE TABLE notes (id bigint PRIMARY KEY, tenant_id text NOT NULL, body text);
SELECT schemaguard.enable_tenant_isolation('notes');
COMMIT;
GRANT SELECT, INSERT ON notes TO app;
GRANT EXECUTE ON FUNCTION schemaguard.set_tenant(text) TO app;
INSERT INTO notes VALUES (1, 'acme', 'a'), (2, 'other', 'o');
});
is($node->safe_psql('postgres', q{
SET ROLE app;
BEGIN;
SELECT schemaguard.set_tenant('acme');
INSERT INTO notes (id, body) VALUES (3, 'new');
SELECT string_agg(id || ':' || tenant_id, ',' ORDER BY id) FROM notes;
COMMIT;
}), "\n1:acme,3:acme", 'the tenant sees its rows only, and new rows get its tenant_id');
is($node->safe_psql('postgres', 'SET ROLE app; SELECT count(*) FROM notes'), '0', 'with no tenant set: none');

# the versions the docs show are the current one
my ($ctl) = do { local (@ARGV, $/) = ("$src/schemaguard.control"); <> } =~ /default_version = '([^']+)'/;
my $ref = do { local (@ARGV, $/) = ("$src/docs/reference.md"); <> } // '';
like($ref, qr/\| enforce \| \Q$ctl\E +\| \Q$ctl\E\n/, "docs/reference.md shows status() at $ctl");
like($readme, qr/_\Q$ctl\E-1_amd64\.deb/, "the README installs the $ctl package");

# docs/rules.md anchors, for SARIF's helpUri
my $rules = do { local (@ARGV, $/) = ("$src/docs/rules.md"); <> } // '';
my %anchor = map { $_ => 1 } $rules =~ /<a id="([a-z-]+)"><\/a>/g;
my @missing = grep { !$anchor{$_} } split /\n/, $node->safe_psql('postgres', 'SELECT rule FROM schemaguard.rules() ORDER BY 1');
is_deeply(\@missing, [], 'every rule has its anchor in docs/rules.md');

$node->stop;
done_testing();
