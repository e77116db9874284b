# Helpers shared by the TAP tests (test/t), found through run-tap.sh's -I.
package VecrabitqTest;
use strict;
use warnings;
use Exporter 'import';

our @EXPORT = qw(create_slow_vector);

# Creates slow_v(vector) in $node's postgres database: it returns its
# argument, after sleeping $seconds, but only in a session that has
# SET test.slow = on.  An expression index on slow_v(v)::vector(n) makes a
# build, or a check, in such a session last as long as a test needs, so the
# test waits for a phase by condition however loaded the machine is, while
# every other session evaluates the expression at full speed.
sub create_slow_vector
{
	my ($node, $seconds) = @_;
	$node->safe_psql('postgres', qq{
		CREATE FUNCTION slow_v(v vector) RETURNS vector IMMUTABLE LANGUAGE plpgsql AS \$\$
		BEGIN
			IF current_setting('test.slow', true) = 'on' THEN PERFORM pg_sleep($seconds); END IF;
			RETURN v;
		END \$\$});
}

1;
