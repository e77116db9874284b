# Crash safety: an immediate shutdown (no checkpoint) in the middle of an
# insert storm from several sessions, of a VACUUM and of a build; after
# recovery rabitq_index_check passes, every committed row is in the index
# exactly once and finds itself, and the index takes inserts.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More tests => 17;
use VecrabitqTest;
use Time::HiRes qw(usleep);

my $gen = "$ENV{VECRABITQ_BUILD}/tools/gen_vectors";
my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 40\nfsync = on");
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vecrabitq;
	CREATE TABLE items (id bigserial PRIMARY KEY, v vector(32));
	CREATE TEMP TABLE seed (id int, v vector(32));
	COPY seed FROM PROGRAM '$gen 32 3000 5';
	INSERT INTO items (v) SELECT v FROM seed;
	CREATE INDEX items_v ON items USING rabitq (v) WITH (lists = 8);
});

# four sessions insert random vectors (each row its own: the subquery is
# correlated) in small transactions until the crash
my $script = $node->basedir . '/insert.sql';
open(my $fh, '>', $script) or die;
print $fh "INSERT INTO items (v) SELECT ARRAY(SELECT random() * 20 + g * 0 FROM generate_series(1, 32))::vector FROM generate_series(1, 5) g;\n";
close($fh);
my ($out, $err) = ('', '');
my $storm = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '4', '-T', '60', '-f', $script, '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$out, '2>', \$err);
# let the storm run until it has extended the index a good deal
$node->poll_query_until('postgres', 'SELECT count(*) > 12000 FROM items') or die 'storm too slow';
$node->stop('immediate');
$storm->finish;
$node->start;

my ($rows, $in_index, $distinct) = split /\|/, $node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT (SELECT count(*) FROM items),
		   count(*), count(DISTINCT id) FROM (SELECT id FROM items ORDER BY v <-> NULL) s;
});
cmp_ok($rows, '>', 12000, "the storm committed $rows rows before the crash");
is($in_index, $rows, 'after recovery every visible row is in the index');
is($distinct, $rows, 'and none twice');

my $self_first = $node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SET rabitq.probes = 8;
	SELECT count(*) FROM (SELECT id, v FROM items ORDER BY id DESC LIMIT 300) t
	WHERE (SELECT s.id FROM items s ORDER BY s.v <-> t.v LIMIT 1) = t.id;
});
is($self_first, 300, 'the last 300 committed rows each find themselves first');

$node->safe_psql('postgres', "INSERT INTO items (v) SELECT array_fill(7::real, ARRAY[32])::vector");
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT v = array_fill(7::real, ARRAY[32])::vector FROM items ORDER BY v <-> array_fill(7::real, ARRAY[32])::vector LIMIT 1;
}), 't', 'the recovered index takes new rows');

# entries of committed rows, each once; every row the scan can see, exactly
sub index_matches_table
{
	my ($what) = @_;
	my ($rows, $in_index, $distinct) = split /\|/, $node->safe_psql('postgres', q{
		SET enable_seqscan = off;
		SELECT (SELECT count(*) FROM items), count(*), count(DISTINCT id)
		FROM (SELECT id FROM items ORDER BY v <-> NULL) s;
	});
	is("$in_index|$distinct", "$rows|$rows", "$what: the index lists each of the $rows rows once");
	is($node->safe_psql('postgres', "SELECT rabitq_index_check('items_v') >= $rows"), 't',
		"$what: rabitq_index_check passes");
}
index_matches_table('after the insert storm');

# --- a VACUUM cut short: half the rows deleted, VACUUM slowed down --------------
$node->safe_psql('postgres', 'DELETE FROM items WHERE id % 2 = 0');
my $vacuum = IPC::Run::start(
	[ 'psql', '-X', '-c', 'SET vacuum_cost_delay = 2', '-c', 'SET vacuum_cost_limit = 20', '-c', 'VACUUM items',
	  '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$out, '2>', \$err);
$node->poll_query_until('postgres',
	q{SELECT count(*) > 0 FROM pg_stat_progress_vacuum WHERE phase = 'vacuuming indexes'})
	or die 'VACUUM never reached its index phase';
$node->stop('immediate');
$vacuum->finish;
$node->start;
index_matches_table('after a crash in VACUUM');
$node->safe_psql('postgres', 'VACUUM items');
index_matches_table('after VACUUM completes');

# --- a build cut short: one that lasts (an expression that sleeps a
# millisecond a row in the building session only), so the crash comes while
# it runs however loaded the machine is -----------------------------------------
$node->safe_psql('postgres', q{DROP INDEX items_v;
	INSERT INTO items (v) SELECT ARRAY(SELECT random() * 20 + g * 0 FROM generate_series(1, 32))::vector
	FROM generate_series(1, 60000) g});
create_slow_vector($node, 0.001);
my $build = IPC::Run::start(
	[ 'psql', '-X', '-c', 'SET test.slow = on',
	  '-c', 'CREATE INDEX items_slow ON items USING rabitq ((slow_v(v)::vector(32))) WITH (lists = 64)',
	  '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$out, '2>', \$err);
$node->poll_query_until('postgres',
	q{SELECT count(*) > 0 FROM pg_stat_progress_create_index WHERE phase LIKE 'building index: %'})
	or die 'the build never started';
$node->stop('immediate');
$build->finish;
$node->start;
$node->safe_psql('postgres', 'CREATE INDEX items_v ON items USING rabitq (v) WITH (lists = 8)');
index_matches_table('after building again');
$node->safe_psql('postgres', q{DELETE FROM items WHERE id % 3 = 0; VACUUM items});
index_matches_table('after deletes and VACUUM on the new index');

# --- an unlogged table's index after a crash: reset to its empty init fork -----
$node->safe_psql('postgres', q{
	CREATE UNLOGGED TABLE ul (id int, v vector(32));
	INSERT INTO ul SELECT id, v FROM items LIMIT 2000;
	CREATE INDEX ul_v ON ul USING rabitq (v) WITH (lists = 8);
	CHECKPOINT;
});
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', q{SET enable_seqscan = off;
	SELECT (SELECT count(*) FROM ul), (SELECT count(*) FROM (SELECT id FROM ul ORDER BY v <-> NULL) s)}), '0|0',
	'an unlogged table and its rabitq index are empty after a crash');
$node->safe_psql('postgres', q{INSERT INTO ul SELECT id, v FROM items LIMIT 300});
is($node->safe_psql('postgres', q{SET enable_seqscan = off;
	SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM ul ORDER BY v <-> (SELECT v FROM items LIMIT 1)) s;
	SELECT rabitq_index_check('ul_v')}), "300|300\n300", 'the reset index takes new rows, finds each once and checks out');

$node->stop;
