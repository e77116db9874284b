#!/usr/bin/perl
# Checks that the extension script qualifies every object it names with
# @extschema@ or pg_catalog, so a hostile search_path cannot capture a
# reference.  Every identifier that is not an SQL keyword of the script must
# be "@extschema@.name" or "pg_catalog.name", and every operator named in
# OPERATOR(...), COMMUTATOR/NEGATOR or an operator class must be qualified.
# Prints TAP-style lines (one per statement of all the scripts given) and a
# summary.
use strict;
use warnings;

my %keywords = map { lc($_) => 1 } qw(
  CREATE OR REPLACE FUNCTION RETURNS AS LANGUAGE C IMMUTABLE STABLE VOLATILE STRICT
  PARALLEL SAFE RESTRICTED UNSAFE COST ROWS TYPE INPUT OUTPUT TYPMOD_IN TYPMOD_OUT
  RECEIVE SEND STORAGE EXTERNAL EXTENDED PLAIN MAIN INTERNALLENGTH VARIABLE ALIGNMENT
  OPERATOR LEFTARG RIGHTARG COMMUTATOR NEGATOR RESTRICT JOIN HASHES MERGES
  CAST WITH WITHOUT INOUT IMPLICIT ASSIGNMENT AGGREGATE SFUNC STYPE FINALFUNC
  COMBINEFUNC SERIALFUNC DESERIALFUNC INITCOND MSFUNC MINVFUNC MSTYPE MFINALFUNC
  CLASS FAMILY DEFAULT FOR USING BTREE HASH ADD ORDER BY STRATEGY SUPPORT
  ACCESS METHOD HANDLER INDEX TABLE REVOKE GRANT EXECUTE ON FROM TO PUBLIC ALL
  ALTER SET RESET SEARCH_PATH NOT LEAKPROOF SECURITY INVOKER DEFINER
  MODULE_PATHNAME COMMENT IS DO
  rabitq);  # access method names are global: they cannot be schema-qualified

@ARGV or die "usage: $0 SCRIPT...\n";
my $sql = '';
for my $file (@ARGV) {
	open(my $fh, '<', $file) or die "$file: $!";
	$sql .= do { local $/; <$fh> } . ";\n";
}
$sql =~ s/^\\.*$//mg;        # psql meta-commands
$sql =~ s/--[^\n]*//g;        # comments
$sql =~ s/\$\$.*?\$\$/''/gs;   # DO blocks' bodies (they qualify what they name, by review)
$sql =~ s/'(?:[^']|'')*'/''/g;    # string literals

my ($n, $failed) = (0, 0);
for my $stmt (split /;/, $sql) {
	(my $s = $stmt) =~ s/\s+/ /g;
	$s =~ s/^ | $//g;
	next if $s eq '';
	my @bad;
	# identifiers: strip qualified names first, then anything left over is bad
	(my $rest = $s) =~ s/(?:\@extschema\@|pg_catalog)\.(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_]*|[-+*\/<>=~!\@#%^&|`?]+)//g;
	# an OUT parameter's name declares a column, it references nothing
	$rest =~ s/\bOUT\s+[A-Za-z_][A-Za-z0-9_]*//gi;
	for my $word ($rest =~ /([A-Za-z_][A-Za-z0-9_]*)/g) {
		push @bad, $word unless $keywords{ lc $word };
	}
	# OPERATOR(op) references and an operator class's members name operators
	my $qualified = qr/^(?:\@extschema\@|pg_catalog)\./;
	for my $op (($s =~ /OPERATOR\s*\(\s*([^)\s]+)\s*\)/gi),
		($s =~ /OPERATOR\s+\d+\s+(\S+)/gi)) {
		push @bad, $op unless $op =~ $qualified;
	}
	my ($what) = $s =~ /^(\w+ (?:OPERATOR CLASS|OPERATOR FAMILY|ACCESS METHOD|\w+)(?: \S+)?)/;
	$what //= $s;
	$n++;
	if (@bad) {
		$failed++;
		print "not ok $n - $what: unqualified @bad\n";
	} else {
		print "ok $n - $what\n";
	}
}
print "1..$n\n";	# the plan, once the statements are known (a run that dies prints none)
print "# sql-lint: ", $n - $failed, " passed, $failed failed\n";
exit($failed ? 1 : 0);
