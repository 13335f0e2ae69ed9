# A fresh deploy replays the whole history with the guard on and its
# defaults (issue 30): each migration file sent as one string, as
# `prisma migrate deploy` sends it.  Tables that earlier migrations seeded
# with rows (a few kB) get their indexes, foreign keys and NOT NULLs
# (schemaguard.small_table_size, 1MB by default); a seeded table above the
# threshold is still judged.  Histories: the repository's Prisma example, a
# documenso-shaped history written here (seed rows, then an index and a
# foreign key on them), and the practice corpus when it is beside the
# checkout.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = $ENV{SG_SRC} // '.';
my $node = PostgreSQL::Test::Cluster->new('replay');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'schemaguard'\n");
$node->start;

# Replay files into a fresh database; returns the files refused, as
# "name: first error line".
sub replay
{
	my ($db, @files) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION schemaguard');
	my @refused;
	for my $f (@files)
	{
		my $sql = slurp_file($f);
		my ($rc, $out, $err) = $node->psql($db, undef, extra_params => [ '-c', $sql ]);
		next if $rc == 0;
		my ($first) = $err =~ /(ERROR:[^\n]*)/;
		push @refused, ($f =~ s{.*/}{}r) . ': ' . ($first // $err);
	}
	return @refused;
}

my @example = sort glob("$src/examples/prisma/migrations/*/migration.sql");
ok(@example > 0, 'the Prisma example history is there');
is(join("\n", replay('example', @example)), '', 'the Prisma example replays into a fresh database: 0 files refused');

# documenso's shape: an early migration seeds rows; later ones index them,
# reference them, and make a column NOT NULL
my $dir = PostgreSQL::Test::Utils::tempdir;
my @shape = (
	q{CREATE TABLE "User" ("id" SERIAL NOT NULL, "email" TEXT NOT NULL, "name" TEXT, "teamId" INTEGER,
	  CONSTRAINT "User_pkey" PRIMARY KEY ("id"));
	  CREATE TABLE "Team" ("id" SERIAL NOT NULL, "name" TEXT NOT NULL, CONSTRAINT "Team_pkey" PRIMARY KEY ("id"));},
	q{INSERT INTO "Team" ("name") VALUES ('default');
	  INSERT INTO "User" ("email", "name", "teamId")
	  SELECT 'admin' || g || '@example.com', 'Admin ' || g, 1 FROM generate_series(1, 60) g;},
	q{CREATE UNIQUE INDEX "User_email_key" ON "User"("email");},
	q{ALTER TABLE "User" ADD CONSTRAINT "User_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE SET NULL ON UPDATE CASCADE;},
	q{UPDATE "User" SET "name" = '' WHERE "name" IS NULL;
	  ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;},
	q{ALTER TABLE "User" ADD COLUMN "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
	  CREATE INDEX "User_createdAt_idx" ON "User"("createdAt");},
);
my @shape_files;
for my $i (0 .. $#shape)
{
	my $f = sprintf('%s/%02d_migration.sql', $dir, $i + 1);
	append_to_file($f, $shape[$i]);
	push @shape_files, $f;
}
is(join("\n", replay('shape', @shape_files)), '',
	'a history whose earlier migrations seed rows replays: 0 files refused');

# the same history with 20000 seeded rows (above 1MB): the index is refused
my @big = @shape_files;
my $seed_big = "$dir/02_big.sql";
append_to_file($seed_big, q{INSERT INTO "Team" ("name") VALUES ('default');
	INSERT INTO "User" ("email", "name", "teamId")
	SELECT md5(g::text) || '@example.com', md5(g::text), 1 FROM generate_series(1, 20000) g;});
$big[1] = $seed_big;
my @refused = replay('shape_big', @big);
like($refused[0] // '', qr/^03_migration\.sql: ERROR:  CREATE UNIQUE INDEX on public\."User" violates rule require-concurrent-index-creation/,
	'seeded above 1MB, the index build is still refused');

my $corpus = -d "$src/corpus" ? "$src/corpus" : undef;
diag('part skipped: the practice corpus replay (../shared/corpus is not beside the checkout)')
  unless $corpus;
if ($corpus)
{
	my @files = sort glob("$corpus/*.sql");
	my @r = replay('corpus', @files);
	is(join("\n", @r), '', sprintf('the practice corpus (%d files) replays: 0 files refused', scalar @files));
}

$node->stop;
done_testing();
