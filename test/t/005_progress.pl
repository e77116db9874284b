# CREATE INDEX reports its progress in pg_stat_progress_create_index: the
# rabitq phases by name, and the tuple counts of the loading phase.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More tests => 4;
use Time::HiRes qw(usleep);

my $gen = "$ENV{VECRABITQ_BUILD}/tools/gen_vectors";
my $node = PostgreSQL::Test::Cluster->new('progress');
$node->init;
$node->append_conf('postgresql.conf', "maintenance_work_mem = '256MB'");
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vecrabitq;
	CREATE TABLE items (id int, v vector(64));
	COPY items FROM PROGRAM '$gen 64 150000 3';
});

my ($out, $err) = ('', '');
my $build = IPC::Run::start(
	[ 'psql', '-X', '-q', '-h', $node->host, '-p', $node->port, '-d', 'postgres',
	  '-c', 'CREATE INDEX items_v ON items USING rabitq (v) WITH (lists = 800)' ],
	'>', \$out, '2>', \$err);

my (%phases, $total, $done_seen);
while ($build->pumpable)
{
	my $row = $node->safe_psql('postgres',
		"SELECT phase, tuples_total, tuples_done FROM pg_stat_progress_create_index");
	if ($row ne '')
	{
		my ($phase, $t, $d) = split /\|/, $row;
		$phases{$phase} = 1;
		$total = $t if $t > 0;
		$done_seen = 1 if $d > 0 && $d <= $t;
	}
	usleep(20_000);
	$build->pump_nb;
}
$build->finish;
is($err, '', 'the build succeeded') or diag($err);
my @ours = grep { /^building index: (sampling table|performing k-means|assigning and quantizing rows)$/ } keys %phases;
cmp_ok(scalar(@ours), '>=', 2, 'named rabitq phases were reported: ' . join(', ', sort keys %phases));
is($total, 150000, 'tuples_total is the number of rows to index');
ok($done_seen, 'tuples_done advanced while loading');

$node->stop;
