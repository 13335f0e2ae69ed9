# Helpers shared by the TAP tests (test/t).
package SgTest;
use strict;
use warnings;
use Exporter 'import';
use File::Path qw(make_path);

our @EXPORT_OK = qw(put);

# put(PATH, TEXT): write a file, making its directories; returns PATH.
sub put
{
	my ($path, $text) = @_;
	make_path(($path =~ m{^(.*)/[^/]+$})[0]);
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $text;
	close $fh;
	return $path;
}

1;
