# CREATE INDEX reports its progress in pg_stat_progress_create_index: the
# rabitq phases by name, and the tuple counts of the loading phase.  The
# build is made slow, not the test fast: the index is on an expression whose
# function sleeps a millisecond per row in the building session only, so the
# sampling and loading phases each last seconds and the test waits for each
# by condition (poll_query_until), never by a clock.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More tests => 5;
use VecrabitqTest;

my $gen = "$ENV{VECRABITQ_BUILD}/tools/gen_vectors";
my $node = PostgreSQL::Test::Cluster->new('progress');
$node->init;
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vecrabitq;
	CREATE TABLE items (id int, v vector(64));
	COPY items FROM PROGRAM '$gen 64 3000 3';
	ANALYZE items;
});
create_slow_vector($node, 0.001);

my ($out, $err) = ('', '');
my $build = IPC::Run::start(
	[ 'psql', '-X', '-q', '-h', $node->host, '-p', $node->port, '-d', 'postgres',
	  '-c', 'SET test.slow = on', '-c', 'SET client_min_messages = warning',
	  '-c', 'CREATE INDEX items_v ON items USING rabitq ((slow_v(v)::vector(64))) WITH (lists = 30)' ],
	'>', \$out, '2>', \$err);

ok($node->poll_query_until('postgres',
		q{SELECT phase = 'building index: sampling table' FROM pg_stat_progress_create_index}),
	'the sampling phase is reported by name');
ok($node->poll_query_until('postgres',
		q{SELECT phase = 'building index: assigning and quantizing rows' AND tuples_done > 0
		  FROM pg_stat_progress_create_index}),
	'the loading phase is reported by name, with tuples_done advancing');
is($node->safe_psql('postgres', q{SELECT tuples_total FROM pg_stat_progress_create_index}), '3000',
	'tuples_total is the number of rows to index');
$build->finish;
is($err, '', 'the build succeeded') or diag($err);
is($node->safe_psql('postgres', q{SELECT rabitq_index_check('items_v')}), '3000', 'and the index checks out');

$node->stop;
