#!/usr/bin/perl
# Checks META.json against the PGXN Meta Spec 1.0.0 (https://pgxn.org/spec/)
# and against the control file: required keys and their forms, semantic
# versions, provides entries pointing at real files, and the same version as
# the control file's default_version.  Prints TAP-style lines and a summary.
use strict;
use warnings;
use JSON::PP;

my ($meta_path, $control_path) = @ARGV;
my ($n, $failed) = (0, 0);

sub check {
	my ($ok, $name) = @_;
	$n++;
	$failed++ unless $ok;
	print(($ok ? "" : "not ") . "ok $n - $name\n");
}

my $semver = qr/^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
my %licenses = map { $_ => 1 } qw(agpl_3 apache_1_1 apache_2_0 artistic_1 artistic_2 bsd
  freebsd gfdl_1_2 gfdl_1_3 gpl_1 gpl_2 gpl_3 lgpl_2_1 lgpl_3_0 mit mozilla_1_0 mozilla_1_1
  openssl perl_5 postgresql qpl_1_0 ssleay sun zlib open_source restricted unrestricted unknown);
my %phases = map { $_ => 1 } qw(configure build test runtime develop);
my %relations = map { $_ => 1 } qw(requires recommends suggests conflicts);

open(my $fh, '<', $meta_path) or die "$meta_path: $!";
my $text = do { local $/; <$fh> };
my $meta = eval { JSON::PP->new->decode($text) };
check(defined $meta && ref $meta eq 'HASH', "META.json is a JSON object");
exit 1 unless $meta;

for my $key (qw(name abstract version maintainer license provides meta-spec)) {
	check(exists $meta->{$key}, "required key '$key' present");
}
check(($meta->{name} // '') =~ /^[^\s\/\\:]{2,}$/, "name has no spaces, slashes or colons");
check(scalar(($meta->{version} // "") =~ $semver), "version is a semantic version");
check(($meta->{'meta-spec'}{version} // '') eq '1.0.0', "meta-spec version is 1.0.0");
my $m = $meta->{maintainer};
check(defined $m && (!ref $m || (ref $m eq 'ARRAY' && @$m)), "maintainer is a string or list");
my $lic = $meta->{license};
check(defined $lic && ((!ref $lic && $licenses{$lic})
		|| (ref $lic eq 'ARRAY' && !grep { !$licenses{$_} } @$lic)
		|| ref $lic eq 'HASH'), "license is a known license string, list or map");

my $provides = $meta->{provides} // {};
check(ref $provides eq 'HASH' && %$provides, "provides lists at least one extension");
for my $ext (sort keys %$provides) {
	my $p = $provides->{$ext};
	check(defined $p->{file} && -f $p->{file}, "provides.$ext.file exists");
	check(scalar(($p->{version} // "") =~ $semver), "provides.$ext.version is a semantic version");
}
if (exists $meta->{release_status}) {
	check(scalar($meta->{release_status} =~ /^(?:stable|testing|unstable)$/), "release_status is valid");
}
if (exists $meta->{prereqs}) {
	my $ok = ref $meta->{prereqs} eq 'HASH';
	for my $phase (keys %{ $meta->{prereqs} }) {
		$ok &&= $phases{$phase} && ref $meta->{prereqs}{$phase} eq 'HASH';
		$ok &&= !grep { !$relations{$_} } keys %{ $meta->{prereqs}{$phase} };
	}
	check($ok, "prereqs use known phases and relationships");
}

open(my $cf, '<', $control_path) or die "$control_path: $!";
my ($control_version) = map { /^default_version\s*=\s*'([^']+)'/ ? $1 : () } <$cf>;
my ($ext_name) = $control_path =~ m{([^/]+)\.control$};
check(defined $control_version && $control_version eq ($meta->{version} // ''),
	"META version equals the control file's default_version");
check(($provides->{$ext_name}{version} // '') eq ($control_version // ''),
	"provides.$ext_name.version equals default_version");

print "1..$n\n";	# the plan, at the end: the checks depend on the keys present
print "# meta: ", $n - $failed, " passed, $failed failed\n";
exit($failed ? 1 : 0);
