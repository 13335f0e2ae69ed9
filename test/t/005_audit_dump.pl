# The audit log survives pg_dump / pg_restore, and auditing keeps working in
# the restored database.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('audit');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'schemaguard'");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION schemaguard;
	SET lock_timeout = '5s';
	CREATE TABLE acct (id int PRIMARY KEY, name text, secret text);
	SELECT schemaguard.enable_audit('acct', '{secret}');
	INSERT INTO acct VALUES (1, 'ann', 's'), (2, 'bob', 's');
	UPDATE acct SET name = 'anne' WHERE id = 1;
});
my $before = $node->safe_psql('postgres',
	"SELECT string_agg(op || ':' || coalesce(new::text, ''), ' ' ORDER BY id) FROM schemaguard.audit_log");

my $dump = $node->basedir . '/audit.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '--single-transaction', '-d', $node->connstr('restored'), $dump ],
	'pg_restore --single-transaction');
is($node->safe_psql('restored',
		"SELECT string_agg(op || ':' || coalesce(new::text, ''), ' ' ORDER BY id) FROM schemaguard.audit_log"),
	$before, 'the restored log has the same rows');

$node->safe_psql('restored', "UPDATE acct SET name = 'bobby' WHERE id = 2");
is($node->safe_psql('restored',
		"SELECT op || ' ' || old::text || ' ' || new::text FROM schemaguard.audit_log ORDER BY id DESC LIMIT 1"),
	'UPDATE {"name": "bob"} {"name": "bobby"}', 'auditing keeps working after the restore');
cmp_ok($node->safe_psql('restored', "SELECT max(id) FROM schemaguard.audit_log WHERE op = 'UPDATE'"),
	'>', $node->safe_psql('restored', "SELECT max(id) FROM schemaguard.audit_log WHERE op = 'INSERT'"),
	'new log ids continue after the restored ones');

$node->stop;
done_testing();
