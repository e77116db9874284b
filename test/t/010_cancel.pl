# Cancellation reaches every loop a user's data or query can lengthen.
#
# Builds: CREATE INDEX is cancelled in each of its phases (sampling the
# table, k-means, assigning and quantizing rows), as soon as
# pg_stat_progress_create_index shows the phase, and must end within 500 ms
# of the cancel.  Scans: statement_timeout = 200ms must end, within 500 ms of
# firing, a scan that would otherwise run for seconds: an iterative scan
# through every list for a tenant without rows (probing and re-ranking), the
# exact path over a large tenant, and `= ANY` arrays of two million keys.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More tests => 15;
use VecrabitqTest;
use Time::HiRes qw(time usleep);

my $gen = "$ENV{VECRABITQ_BUILD}/tools/gen_vectors";
my $owner = 'c1000000-0000-0000-0000-000000000000';
my $empty = 'c2000000-0000-0000-0000-000000000000';
my $node = PostgreSQL::Test::Cluster->new('cancel');
$node->init;
$node->append_conf('postgresql.conf', "shared_buffers = '256MB'\nmaintenance_work_mem = '512MB'\n");
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vecrabitq;
	CREATE ROLE "$owner" LOGIN;
	CREATE ROLE "$empty" LOGIN;
	CREATE TABLE items (id int, owner uuid NOT NULL, v vector(64));
	CREATE TABLE seed (id int, v vector(64));
	COPY seed FROM PROGRAM '$gen 64 300000 5';
	INSERT INTO items SELECT id, '$owner', v FROM seed;
	DROP TABLE seed;
	ALTER TABLE items ENABLE ROW LEVEL SECURITY;
	CREATE POLICY tenant ON items USING (owner = current_user::uuid);
	GRANT SELECT ON items TO PUBLIC;
	VACUUM ANALYZE items;
});

# Starts $sql in the background; returns the harness and its backend's pid.
sub start_bg
{
	my ($sql, $out, $err) = @_;
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', $node->host, '-p', $node->port,
		  '-d', 'postgres', '-c', "SET application_name = 'victim'", '-c', $sql ],
		'>', $out, '2>', $err);
	my $pid;
	for (1 .. 2000)
	{
		$pid = $node->safe_psql('postgres',
			"SELECT pid FROM pg_stat_activity WHERE application_name = 'victim' AND state = 'active'");
		last if $pid ne '';
		usleep(5_000);
	}
	return ($h, $pid);
}

# Waits until the build shows `phase` (condition, not clock), cancels it,
# and returns the seconds from the cancel to the statement's end (undef if
# the phase was never seen).
sub cancel_build_in_phase
{
	my ($sql, $phase) = @_;
	my ($out, $err) = ('', '');
	my ($h, $pid) = start_bg($sql, \$out, \$err);
	my $seen = 0;
	while ($h->pumpable)
	{
		my $now = $node->safe_psql('postgres',
			"SELECT phase FROM pg_stat_progress_create_index WHERE pid = $pid");
		if ($now eq "building index: $phase")
		{
			$seen = 1;
			last;
		}
		usleep(2_000);
		$h->pump_nb;
	}
	my $t0 = time;
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)") if $seen;
	$h->finish;
	my $latency = time - $t0;
	return $seen && $err =~ /canceling statement due to user request/ ? $latency : undef;
}

# Sampling and loading scan the table; made long not by size but by an
# expression index whose function sleeps half a millisecond a row in the
# building session only, each lasts ten seconds, so the poll sees it however
# loaded the machine is.  k-means is long by its size (3,000 lists).
create_slow_vector($node, 0.0005);
$node->safe_psql('postgres', q{
	CREATE TABLE build_src AS SELECT id, v FROM items WHERE id < 20000;
	ANALYZE build_src;
});
my $slow_build = 'SET test.slow = on; CREATE INDEX items_v ON build_src USING rabitq ((slow_v(v)::vector(64)))';
for my $case ([ 'sampling table', "$slow_build WITH (lists = 20)" ],
	[ 'performing k-means', 'CREATE INDEX items_v ON items USING rabitq (v) WITH (lists = 3000)' ],
	[ 'assigning and quantizing rows', "$slow_build WITH (lists = 20)" ])
{
	my ($phase, $sql) = @$case;
	my $latency = cancel_build_in_phase($sql, $phase);
	ok(defined $latency && $latency < 0.5,
		"CREATE INDEX cancelled while $phase: ended "
		  . (defined $latency ? sprintf('%.0f ms', 1000 * $latency) : 'never (phase not seen or not cancelled)')
		  . ' after the cancel');
	# a build the test failed to cancel must not fail the next case too
	$node->safe_psql('postgres', 'SET client_min_messages = warning; DROP INDEX IF EXISTS items_v') if !defined $latency;
}
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'items_v'"), '0',
	'no index left behind');

# Runs sql (after `prefix`, untimed) with a 200 ms statement_timeout in one
# session; returns its stderr and the seconds from just before the timed
# part until the session's next statement, measured by the server: psql's
# and the backend's start-up are not the scan's to answer for.  JIT is off:
# with enable_seqscan off a plan's cost passes jit_above_cost, and LLVM
# compiling the slow table's 200-call expression took 415 ms (EXPLAIN
# ANALYZE) with no interrupt check, more under load (a run beside another
# suite ended after 959 ms): PostgreSQL's compile time, not the scan's.
sub run_with_timeout
{
	my ($prefix, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', qq{$prefix
SET jit = off;
SELECT clock_timestamp() AS t0 \\gset
SET statement_timeout = '200ms';
$sql;
RESET statement_timeout;
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
}, on_error_stop => 0);
	return ($err, $out);
}

# a statement_timeout of 200 ms on a build spends under 700 ms in all
{
	my ($err, $elapsed) = run_with_timeout('', 'CREATE INDEX ON items USING rabitq (v) WITH (lists = 3000)');
	like($err, qr/canceling statement due to statement timeout/, 'the build timed out');
	cmp_ok($elapsed, '<', 0.7, sprintf('build with statement_timeout 200 ms ended after %.0f ms', 1000 * $elapsed));
}

# the scans: first a tenant without rows through the vector-only index (the
# policy is a filter, so the scan probes list after list and ranks every
# row), then the key index
$node->safe_psql('postgres', q{
	SET client_min_messages = warning;
	CREATE INDEX items_v ON items USING rabitq (v) WITH (lists = 300);
	CREATE TABLE probe AS SELECT v FROM items WHERE id = 17;
	GRANT SELECT ON probe TO PUBLIC;
	CREATE TABLE arrays AS SELECT
		ARRAY(SELECT md5(g::text)::uuid FROM generate_series(1, 2000000) g) AS x,
		ARRAY(SELECT md5((g + 1000000)::text)::uuid FROM generate_series(1, 2000000) g) AS y;
	GRANT SELECT ON arrays TO PUBLIC;
});
my $knn = "SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> (SELECT v FROM probe) LIMIT 10) s";
like($node->safe_psql('postgres', qq{SET ROLE "$empty"; SET enable_seqscan = off; EXPLAIN (COSTS OFF) $knn}),
	qr/Index Scan using items_v on items.*Filter: \(owner = \(CURRENT_USER\)::uuid\)/s,
	'a tenant without rows: the vector-only index, the policy as a filter');

# runs sql as role with a 200 ms statement_timeout: it must time out and end within 700 ms
sub times_out
{
	my ($name, $role, $sql) = @_;
	my ($err, $elapsed) = run_with_timeout(qq{SET ROLE "$role";}, $sql);
	like($err, qr/canceling statement due to statement timeout/, "$name: timed out");
	cmp_ok($elapsed, '<', 0.7, sprintf("$name: ended after %.0f ms", 1000 * $elapsed));
}

times_out('an iterative scan through every list (probing, re-ranking)', $empty,
	"SET enable_seqscan = off; SET rabitq.epsilon = 4; $knn");
$node->safe_psql('postgres', q{
	SET client_min_messages = warning;
	DROP INDEX items_v;
	CREATE INDEX items_ov ON items USING rabitq (owner, v) WITH (lists = 300);
});
like($node->safe_psql('postgres', qq{SET ROLE "$owner"; EXPLAIN (COSTS OFF) $knn}),
	qr/Index Scan using items_ov on items.*Index Cond/s, 'the tenant with rows: the key index');
# The exact path over a tenant whose every row costs about a millisecond to
# rank: an index expression built of 200 vector concatenations (C functions,
# no interrupt check inside), evaluated for each row the scan reads from the
# heap.  Asked for all 1,500 rows in order, the scan reads each of them;
# without an interrupt check between rows it would run them all to the end.
my $slow = 'subvector(' . join(' || ', ('v') x 200) . ', 1, 64)::vector(64)';
$node->safe_psql('postgres', qq{
	SET client_min_messages = warning;
	CREATE TABLE slow AS SELECT * FROM items WHERE id < 1500;
	ALTER TABLE slow ENABLE ROW LEVEL SECURITY;
	CREATE POLICY tenant ON slow USING (owner = current_user::uuid);
	GRANT SELECT ON slow TO PUBLIC;
	CREATE INDEX slow_ov ON slow USING rabitq (owner, ($slow)) WITH (lists = 4);
});
my $slow_knn = "SELECT count(*) FROM (SELECT id FROM slow ORDER BY ($slow) <-> (SELECT v FROM probe) LIMIT 10) s";
like($node->safe_psql('postgres', qq{SET ROLE "$owner"; EXPLAIN (COSTS OFF) $slow_knn}),
	qr/Index Scan using slow_ov on slow.*Index Cond/s, 'the slow table: its key index');
times_out('the exact path over 1,500 rows of a millisecond each', $owner,
	"SET enable_seqscan = off; SELECT count(*) FROM (SELECT id FROM slow ORDER BY ($slow) <-> (SELECT v FROM probe) LIMIT 1500) s");
times_out('two = ANY arrays of 2,000,000 keys', $owner,
	"SELECT count(*) FROM arrays a CROSS JOIN LATERAL (SELECT id FROM items
		WHERE owner = ANY (a.x || '$owner'::uuid) AND owner = ANY (a.y || '$owner'::uuid)
		ORDER BY v <-> (SELECT v FROM probe) LIMIT 10) s");

$node->stop;
