# A tenant token minted with the key: the check hook accepts it as
# authentic (so the minting below is right), but where Citus is not loaded
# no token counts, so a role that knows schemaguard.tenant_key and has no
# EXECUTE on set_tenant() still reads no tenant's rows.  (test/citus has the
# cluster, where the coordinator's tokens do count on the workers.)
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $key = 'a-32-byte-or-longer-secret-key-0123456789';
my $node = PostgreSQL::Test::Cluster->new('token');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'schemaguard'\nschemaguard.tenant_key = '$key'\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION schemaguard;
	CREATE EXTENSION pgcrypto;
	CREATE ROLE app LOGIN;
	SET lock_timeout = '2s';
	BEGIN;
	CREATE TABLE notes (id int PRIMARY KEY, tenant_id text NOT NULL, body text);
	INSERT INTO notes VALUES (1, 'acme', 'a'), (2, 'other', 'o');
	SELECT count(*) FROM schemaguard.enable_tenant_isolation('notes');
	COMMIT;
	GRANT SELECT ON notes TO app;
});

# The token format of tenant.c: "1:<expiry>:<db>:<role>:<tenant>:<mac>", the
# text fields in hex, the MAC an HMAC-SHA256 under the key.
my $mint = qq{
	WITH f AS (SELECT (extract(epoch FROM now())::bigint + 600)::text AS expiry,
	                  'postgres'::text AS db, 'app'::text AS role, 'other'::text AS tenant)
	SELECT '1:' || expiry || ':' || encode(convert_to(db, 'UTF8'), 'hex') || ':'
	       || encode(convert_to(role, 'UTF8'), 'hex') || ':' || encode(convert_to(tenant, 'UTF8'), 'hex') || ':'
	       || encode(hmac(convert_to('schemaguard tenant token 1', 'UTF8') || '\\x00'::bytea
	                      || convert_to(db, 'UTF8') || '\\x00'::bytea || convert_to(role, 'UTF8') || '\\x00'::bytea
	                      || convert_to(expiry, 'UTF8') || '\\x00'::bytea || convert_to(tenant, 'UTF8'),
	                      convert_to('$key', 'UTF8'), 'sha256'), 'hex')
	  FROM f};
my $token = $node->safe_psql('postgres', $mint);
like($token, qr/^1:\d+:[0-9a-f]+:[0-9a-f]+:[0-9a-f]+:[0-9a-f]{64}$/, 'a token minted with the key');

my ($rc, $out, $err) = $node->psql('postgres', qq{
	BEGIN;
	SET LOCAL schemaguard.tenant_token = '$token';
	SELECT coalesce(schemaguard.current_tenant(), '<none>') || ' ' || count(*) FROM notes;
	COMMIT;}, extra_params => [ '-U', 'app' ]);
is($rc, 0, 'the minted token is authentic: its SET is accepted');
is($out, '<none> 0', 'but without Citus it gives no tenant, and no row of "other"');

my ($rc2, $out2, $err2) = $node->psql('postgres', q{
	BEGIN;
	SET LOCAL schemaguard.tenant_token = '1:99999999999:706f737467726573:617070:6f74686572:00';
	COMMIT;}, extra_params => [ '-U', 'app' ]);
like($err2, qr/is not a valid tenant token/, 'a token with a wrong MAC is refused, as before');

$node->stop;
done_testing();
