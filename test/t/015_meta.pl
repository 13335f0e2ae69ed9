# META.json, as PGXN reads it (its meta spec 1.0.0): valid JSON, the keys
# the spec requires, a semantic version that is the control file's, and
# files that exist.  No server is needed.
use strict;
use warnings;
use JSON::PP;
use Test::More;

my $src = $ENV{SG_SRC} // '.';
my $text = do { local (@ARGV, $/) = ("$src/META.json"); <> };
ok(defined $text, 'META.json is there');
my $meta = eval { JSON::PP->new->decode($text // '') };
ok($meta, 'META.json is valid JSON') or diag($@);
$meta //= {};
for my $k (qw(name abstract version maintainer license provides meta-spec))
{
	ok(exists $meta->{$k}, "it has \"$k\", which the spec requires");
}
is($meta->{'meta-spec'}{version}, '1.0.0', 'meta-spec 1.0.0');
my ($ctl) = do { local (@ARGV, $/) = ("$src/schemaguard.control"); <> } =~ /default_version = '([^']+)'/;
is($meta->{version}, "$ctl.0", "the distribution's version is the control file's ($ctl), as semver");
like($meta->{version}, qr/^\d+\.\d+\.\d+$/, 'a semantic version');
my $p = $meta->{provides}{schemaguard} // {};
is($p->{version}, $meta->{version}, 'the extension provided has that version');
ok($p->{file} && -f "$src/$p->{file}", "its file ($p->{file}) exists");
ok($p->{docfile} && -f "$src/$p->{docfile}", "its docfile ($p->{docfile}) exists");
like($meta->{prereqs}{runtime}{requires}{PostgreSQL} // '', qr/^15\./, 'it needs PostgreSQL 15 or later');
ok(ref $meta->{maintainer} eq 'ARRAY' && @{ $meta->{maintainer} }, 'maintainers listed');
like($meta->{license}, qr/^(unknown|postgresql|mit|bsd|apache_2_0|gpl_3|restricted|open_source)$/,
	'a license name the spec knows');
done_testing();
