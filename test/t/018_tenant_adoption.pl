# Tenant adoption as a team would do it (issue 31): the team's own
# row-level security (a policy on current_setting(), rows whose tenant is
# NULL shared by every tenant), the extension installed afterwards, and the
# migration docs/tenant.md gives ("Coming from current_setting"), sent as
# one string as `prisma migrate deploy` sends a file.  The application's
# queries run through real clients: psql (one multi-statement string) and
# node-postgres when it is installed.  Each tenant sees its own rows plus
# the shared ones and nothing else, with a forged app.current_tenant_id, and
# nothing without a tenant; it writes only its own rows.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('adopt');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'schemaguard'\n");
$node->start;

# the team's database, before schemaguard
$node->safe_psql('postgres', q{
CREATE ROLE team_owner LOGIN;
CREATE ROLE team_app LOGIN;
GRANT CREATE ON SCHEMA public TO team_owner;
SET ROLE team_owner;
CREATE TABLE "User" ("id" TEXT NOT NULL, "tenantId" TEXT, "email" VARCHAR(255) NOT NULL,
  CONSTRAINT "User_pkey" PRIMARY KEY ("id"));
CREATE INDEX "User_tenantId_idx" ON "User" ("tenantId");
ALTER TABLE "User" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation_policy ON "User"
  USING ("tenantId" IS NULL OR "tenantId" = current_setting('app.current_tenant_id', true)::TEXT);
CREATE FUNCTION set_tenant_context(tenant text) RETURNS void LANGUAGE sql
  AS $$ SELECT set_config('app.current_tenant_id', tenant, false) $$;
INSERT INTO "User" VALUES ('1', 'acme', 'ann@acme'), ('2', 'acme', 'bob@acme'),
  ('3', 'other', 'olga@other'), ('4', NULL, 'admin@shared');
GRANT SELECT, INSERT, UPDATE, DELETE ON "User" TO team_app;
GRANT EXECUTE ON FUNCTION set_tenant_context(text) TO team_app;
});

# psql as a role, one multi-statement string; returns (rc, stdout, stderr)
sub as_role
{
	my ($role, $sql) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'psql', '-X', '-At', '-d', $node->connstr('postgres') . " user=$role", '-c', $sql ],
		'>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# before: the team's pattern leaks (a forged setting reads another tenant)
my ($rc, $out) = as_role('team_app', q{SELECT set_tenant_context('acme'); SELECT set_config('app.current_tenant_id', 'other', false); SELECT string_agg(id, ',' ORDER BY id) FROM "User";});
like($out, qr/^3,4$/m, 'before: the application reads whatever tenant it names (other\'s rows and the shared one)');

$node->safe_psql('postgres', 'CREATE EXTENSION schemaguard');
$node->safe_psql('postgres', 'GRANT EXECUTE ON FUNCTION schemaguard.set_tenant(text) TO team_app');

# with the extension: the team's next DDL is refused, with the way in
($rc, $out, my $err) = as_role('team_owner', q{SET lock_timeout = '2s'; ALTER TABLE "User" ADD COLUMN name text;});
isnt($rc, 0, 'with schemaguard, DDL on the leaking table is refused');
like($err, qr/HINT:  SELECT schemaguard\.enable_tenant_isolation\('public\."User"', 'tenantId', replace_policies => true\);.*Coming from current_setting/s,
	'the hint is the call that isolates it, and points to the documented migration');

# the documented migration, as Prisma sends a file: one string
my $migration = q{SET lock_timeout = '2s';
SELECT schemaguard.enable_tenant_isolation('"User"', 'tenantId', shared_rows => true, replace_policies => true);
DROP FUNCTION set_tenant_context(text);
ALTER TABLE "User" ADD COLUMN name text;};
is(join('', $node->safe_psql('postgres', "SELECT count(*) FROM schemaguard.lint(\$m\$$migration\$m\$, false, 'prisma') WHERE level = 'error'")),
	'0', 'lint() finds the migration clean');
($rc, $out, $err) = as_role('team_owner', $migration);
is($rc, 0, 'the migration runs, as one string') or diag($err);
is($node->safe_psql('postgres', q{SELECT array_to_string(problems, ';') || '|' || shares_rows FROM schemaguard.tenant_report() WHERE table_name = '"User"'::regclass}),
	'|true', 'tenant_report(): no problem, shares rows');

# the application, through psql: one string per request
($rc, $out) = as_role('team_app', q{BEGIN; SELECT schemaguard.set_tenant('acme');
SELECT set_config('app.current_tenant_id', 'other', true);
SELECT 'rows:' || string_agg(id, ',' ORDER BY id) FROM "User"; COMMIT;});
like($out, qr/^rows:1,2,4$/m, 'psql, tenant acme with a forged setting: its rows and the shared one');
($rc, $out) = as_role('team_app', q{BEGIN; SELECT schemaguard.set_tenant('other'); SELECT 'rows:' || string_agg(id, ',' ORDER BY id) FROM "User"; COMMIT;});
like($out, qr/^rows:3,4$/m, 'psql, tenant other: its row and the shared one');
($rc, $out) = as_role('team_app', q{SELECT 'rows:' || count(*) FROM "User";});
like($out, qr/^rows:0$/m, 'psql, the application forgot the tenant: nothing, not even the shared row');
($rc, $out, $err) = as_role('team_app', q{SELECT set_config('app.current_tenant_id', 'acme', false); SELECT 'rows:' || count(*) FROM "User";});
like($out, qr/^rows:0$/m, 'psql, the old setting alone: nothing');
($rc, $out, $err) = as_role('team_app', q{BEGIN; SELECT schemaguard.set_tenant('acme');
INSERT INTO "User" ("id", "email") VALUES ('5', 'cat@acme');
UPDATE "User" SET "tenantId" = 'acme', email = 'taken' WHERE id = '4';
DELETE FROM "User" WHERE id IN ('3', '4');
COMMIT;});
is($rc, 0, 'psql, writes of tenant acme run') or diag($err);
is($node->safe_psql('postgres', q{SELECT string_agg(id || ':' || coalesce("tenantId", '-') || ':' || email, ' ' ORDER BY id) FROM "User"}),
	'1:acme:ann@acme 2:acme:bob@acme 3:other:olga@other 4:-:admin@shared 5:acme:cat@acme',
	'... its new row got its tenant; the shared row and other\'s row are untouched');
($rc, $out, $err) = as_role('team_app', q{BEGIN; SELECT schemaguard.set_tenant('acme'); INSERT INTO "User" VALUES ('6', NULL, 'x'); COMMIT;});
like($err, qr/new row violates row-level security policy/, 'a tenant cannot create a shared row');
($rc, $out, $err) = as_role('team_app', q{BEGIN; SELECT schemaguard.set_tenant('acme'); UPDATE "User" SET "tenantId" = NULL WHERE id = '1'; COMMIT;});
like($err, qr/new row violates row-level security policy/, 'nor make its own row shared');

# the application through node-postgres
# node-postgres comes with the npm runners, installed on PostgreSQL 15 only
my $on15 = ($ENV{PG_MAJOR} // '15') eq '15';
my $modules = $on15 && ($ENV{SG_RUNNER} // '') =~ m{^(.*/node_modules)/\.bin/} ? $1 : '';
if ($modules && -d "$modules/pg" && system('node --version >/dev/null 2>&1') == 0)
{
	my $js = q{
const { Client } = require('pg');
(async () => {
  const c = new Client({ host: process.env.PGHOST, port: +process.env.PGPORT, user: 'team_app', database: 'postgres' });
  await c.connect();
  const out = {};
  for (const t of ['acme', 'other']) {
    await c.query('BEGIN');
    await c.query('SELECT schemaguard.set_tenant($1)', [t]);
    await c.query("SELECT set_config('app.current_tenant_id', 'nobody', true)");
    out[t] = (await c.query('SELECT id FROM "User" ORDER BY id')).rows.map(r => r.id).join(',');
    await c.query('COMMIT');
  }
  out.none = (await c.query('SELECT count(*)::int AS n FROM "User"')).rows[0].n;
  try { await c.query('BEGIN'); await c.query('SELECT schemaguard.set_tenant($1)', ['acme']);
        await c.query('INSERT INTO "User" VALUES ($1, NULL, $2)', ['7', 'x']); out.shared_insert = 'ran'; }
  catch (e) { out.shared_insert = e.code; }
  await c.query('ROLLBACK');
  console.log(JSON.stringify(out));
  await c.end();
})().catch(e => { console.error(e); process.exit(1); });
};
	my ($nout, $nerr) = ('', '');
	local $ENV{NODE_PATH} = $modules;
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	IPC::Run::run([ 'node', '-e', $js ], '>', \$nout, '2>', \$nerr);
	is($?, 0, 'node-postgres: the application runs') or diag($nerr);
	like($nout, qr/"acme":"1,2,4,5"/, 'node-postgres, tenant acme: its rows and the shared one');
	like($nout, qr/"other":"3,4"/, 'node-postgres, tenant other: its row and the shared one');
	like($nout, qr/"none":0/, 'node-postgres, no tenant: nothing');
	like($nout, qr/"shared_insert":"42501"/, 'node-postgres: a shared row cannot be created (42501)');
}
else
{
	diag('part skipped: the application through node-postgres ('
		  . ($on15 ? 'node-postgres is not installed: ' . ($ENV{SG_RUNNER_WHY} || 'SG_RUNNER is not set or has no pg module next to it')
			: 'the npm runners are tested on PostgreSQL 15 only') . ')');
}

$node->stop;
done_testing();
