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
like($err, qr/HINT:  Use CREATE INDEX CONCURRENTLY big_email ON big \(email\); outside a transaction block \(for Prisma: a migration of its own holding only this statement; /,
	'with the README\'s hint');
ok(index($readme, 'HINT:  Use CREATE INDEX CONCURRENTLY big_email ON big (email); outside a transaction block (for Prisma: a migration of its own holding only this statement; dbmate: alone under "-- migrate:up transaction:false"; node-pg-migrate: alone in a migration that calls pgm.noTransaction(); Flyway: alone in a script of its own; sqitch: a change of its own, outside BEGIN ... COMMIT).') >= 0,
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

# 4. Tenant isolation in one example: the README's two blocks, as written
my ($step4) = $readme =~ /\*\*4\. Tenant isolation in one example\.\*\*(.*?)\nHow it holds/s;
my @blocks = ($step4 // '') =~ /```sql\n(.*?)```/gs;
is(scalar @blocks, 2, 'step 4 has two SQL blocks: the superuser\'s and the application\'s');
$node->safe_psql('postgres', $blocks[0] // '');
pass('the superuser\'s block runs as written (the role, the table, the grants, the rows)');
# the application's block, as app (the README connects over TCP with the
# password; the test server trusts local connections)
my ($arc, $aout, $aerr) = $node->psql('postgres', $blocks[1] // '', extra_params => [ '-U', 'app', '-v', 'ON_ERROR_STOP=1' ]);
is($arc, 0, 'the application\'s block runs as written, as app');
like($aout, qr/1\|acme\|a note of acme/, 'it reads acme\'s row');
unlike($aout, qr/globex/, 'and not globex\'s');
is($node->safe_psql('postgres', 'SELECT string_agg(id || \':\' || tenant_id, \',\' ORDER BY id) FROM notes'),
	'1:acme,2:globex,3:acme', 'its INSERT got acme\'s tenant_id');
is($node->safe_psql('postgres', 'SELECT count(*) FROM notes', extra_params => [ '-U', 'app' ]), '0',
	'with no tenant set: none');

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
