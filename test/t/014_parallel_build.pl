# Parallel builds: with max_parallel_maintenance_workers a worker loads rows
# beside the leader.  On 200,000 rows (64 dimensions, a key column, so the
# postings travel to the leader too) the parallel build has the serial
# build's lists, answers every query with the serial build's rows, with and
# without a key condition (1,000 rows a key: the exact path, from the
# postings), and passes rabitq_index_check; CONCURRENTLY too.
# A build whose worker is still loading survives a crash of the server (no
# index afterwards, and the next build is sound), and a cancelled one
# leaves no worker behind.  k-means assigns its sample with the worker too:
# the same lists still; cancelled in k-means, no worker is left either.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More tests => 21;
use Time::HiRes qw(usleep);

my $gen = "$ENV{VECRABITQ_BUILD}/tools/gen_vectors";
my $node = PostgreSQL::Test::Cluster->new('parallel');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_buffers = '256MB'
maintenance_work_mem = '512MB'
max_worker_processes = 8
max_parallel_workers = 4
max_parallel_maintenance_workers = 1
});
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vecrabitq;
	CREATE TABLE seed (id int, v vector(64));
	COPY seed FROM PROGRAM '$gen 64 200000 6';
	CREATE TABLE items (id int, owner int, v vector(64));
	INSERT INTO items SELECT id, id % 200, v FROM seed;
	CREATE TABLE queries AS SELECT id, v FROM seed WHERE id % 4000 = 3;
	DROP TABLE seed;
	VACUUM ANALYZE items;
	-- every query's top 10, through whichever index the session has
	CREATE FUNCTION answers() RETURNS TABLE (qid int, plain int[], keyed int[]) LANGUAGE sql AS \$\$
		SELECT q.id, ARRAY(SELECT i.id FROM items i ORDER BY i.v <-> q.v LIMIT 10),
			ARRAY(SELECT i.id FROM items i WHERE i.owner = q.id % 200 ORDER BY i.v <-> q.v LIMIT 10)
		FROM queries q \$\$;
});

# builds an index with $workers workers; returns the DEBUG lines and whether
# the build succeeded (300 lists: enough for the build to group its centroids)
sub build
{
	my ($name, $workers, $extra) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', qq{
		SET max_parallel_maintenance_workers = $workers;
		SET client_min_messages = debug1;
		CREATE INDEX $extra $name ON items USING rabitq (owner, v) WITH (lists = 300);
	});
	return ($ret, $err);
}

my ($ret, $err) = build('serial', 0, '');
is($ret, 0, 'a serial build');
unlike($err, qr/parallel workers launched/, 'with no worker');
like($err, qr/rabitq build compared 200000 rows with [\d.]+ of 300 lists each, in [\d.]+ of 49 groups/,
	'assigning rows through groups of centroids');
($ret, $err) = build('par', 1, '');
is($ret, 0, 'a parallel build');
like($err, qr/rabitq k-means assigns with 1 of 1 parallel workers launched/,
	'k-means assigning its sample with one worker launched');
# how the batches fell depends on the timing (the lists do not): shown, not checked
diag($1) if $err =~ /(rabitq k-means: the workers assigned \d+ of \d+ batches)/;
like($err, qr/rabitq build loads with 1 of 1 parallel workers launched/, 'loading with one worker launched');
is($node->safe_psql('postgres', q{
	SELECT (SELECT row(lists, list_min, list_median, list_max, entries) FROM rabitq_index_stats('serial'))
		= (SELECT row(lists, list_min, list_median, list_max, entries) FROM rabitq_index_stats('par'))}),
	't', 'the same lists, of the same sizes, as the serial build');
is($node->safe_psql('postgres', q{SELECT rabitq_index_check('par')}), '200000',
	'rabitq_index_check passes, every row once');

# the answers of each index alone (the other dropped in a transaction rolled back)
my %answers;
for my $drop ('par', 'serial')
{
	$answers{$drop} = $node->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		BEGIN;
		DROP INDEX $drop;
		SELECT qid, plain, keyed FROM answers() ORDER BY qid;
		ROLLBACK;
	});
}
my @lines = split /\n/, $answers{par};
is(scalar(@lines), 50, 'answers for 50 queries');
is($answers{serial}, $answers{par}, 'the same rows for every query, with and without a key condition, from either index');

($ret, $err) = build('par_concurrently', 1, 'CONCURRENTLY');
like($err, qr/1 of 1 parallel workers launched/, 'CREATE INDEX CONCURRENTLY loads in parallel too');
is($node->safe_psql('postgres', q{SELECT rabitq_index_check('par_concurrently')}), '200000',
	'and its index passes rabitq_index_check');
$node->safe_psql('postgres', 'DROP INDEX serial, par, par_concurrently');

# --- a build whose worker is still loading: crash, then cancel -------------
# An expression that sleeps only in a parallel worker keeps the worker busy
# while the leader waits for its rows.
$node->safe_psql('postgres', q{
	CREATE FUNCTION worker_slow(v vector) RETURNS vector IMMUTABLE PARALLEL SAFE LANGUAGE plpgsql AS $$
	BEGIN
		IF current_setting('test.slow', true) = 'on'
		   AND (SELECT backend_type FROM pg_stat_activity WHERE pid = pg_backend_pid()) = 'parallel worker' THEN
			PERFORM pg_sleep(0.01);
		END IF;
		RETURN v;
	END $$;
});
sub start_slow_build
{
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-d', 'postgres', '-c',
		  "SET test.slow = on; SET application_name = 'builder';
		   CREATE INDEX slow_build ON items USING rabitq ((worker_slow(v)::vector(64)))" ],
		'>', \$out, '2>', \$err);
	$node->poll_query_until('postgres', q{
		SELECT count(*) > 0 FROM pg_stat_progress_create_index p JOIN pg_stat_activity a USING (pid)
		WHERE a.application_name = 'builder' AND p.phase = 'building index: assigning and quantizing rows'
		  AND EXISTS (SELECT FROM pg_stat_activity w WHERE w.leader_pid = a.pid AND w.backend_type = 'parallel worker')})
		or die 'the build never reached loading with a worker';
	return $h;
}

my $h = start_slow_build();
$node->stop('immediate');
$h->finish;
$node->start;
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 'slow_build'}), '0',
	'after a crash while a worker loads, no index is left');
($ret, $err) = build('after_crash', 1, '');
is($node->safe_psql('postgres', q{SELECT rabitq_index_check('after_crash')}), '200000',
	'and the next parallel build passes rabitq_index_check');
$node->safe_psql('postgres', 'DROP INDEX after_crash');

$h = start_slow_build();
my $leader = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE application_name = 'builder' AND backend_type = 'client backend'});
# the worker has its own progress row: the loading phase, the table's
# blocks, and the rows it has assigned (its first batch takes a while)
ok($node->poll_query_until('postgres', qq{
	SELECT count(*) = 1 FROM pg_stat_progress_create_index p JOIN pg_stat_activity w USING (pid)
	WHERE w.leader_pid = $leader AND w.backend_type = 'parallel worker'
	  AND p.command = 'CREATE INDEX' AND p.relid = 'items'::regclass
	  AND p.phase = 'building index: assigning and quantizing rows'
	  AND p.blocks_total = pg_relation_size('items') / current_setting('block_size')::int
	  AND p.blocks_done > 0 AND p.tuples_total >= 200000 AND p.tuples_done > 0}),
	'a parallel worker reports its own blocks and rows in pg_stat_progress_create_index');
$node->safe_psql('postgres', "SELECT pg_cancel_backend($leader)");
$h->finish;
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'parallel worker'}),
	'a cancelled parallel build leaves no worker behind');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 'slow_build'}), '0',
	'nor an index');
is($node->safe_psql('postgres', q{SELECT count(*) FROM items}), '200000', 'and the table is whole');

# --- a build cancelled in k-means, its worker waiting or assigning --------
# 3,000 lists: a sample of 150,000 rows, seconds of k-means
my ($kout, $kerr) = ('', '');
$h = IPC::Run::start(
	[ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-d', 'postgres', '-c',
	  "SET application_name = 'clusterer'; CREATE INDEX kmeans_build ON items USING rabitq (v) WITH (lists = 3000)" ],
	'>', \$kout, '2>', \$kerr);
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_progress_create_index p JOIN pg_stat_activity w USING (pid)
	JOIN pg_stat_activity l ON l.pid = w.leader_pid JOIN pg_stat_progress_create_index lp ON lp.pid = l.pid
	WHERE l.application_name = 'clusterer' AND w.backend_type = 'parallel worker'
	  AND p.phase = 'building index: performing k-means' AND p.tuples_total = 10
	  AND lp.phase = 'building index: performing k-means'}),
	'a k-means worker has its own progress row while the leader clusters');
$leader = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE application_name = 'clusterer' AND backend_type = 'client backend'});
$node->safe_psql('postgres', "SELECT pg_cancel_backend($leader)");
$h->finish;
like($kerr, qr/canceling statement due to user request/, 'the build cancelled in k-means');
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'parallel worker'}),
	'and no k-means worker is left behind');

$node->stop;
