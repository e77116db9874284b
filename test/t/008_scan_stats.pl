# Who gets the scan statistics (DEBUG1 "rabitq scan: ..."): they count rows
# near the query whoever owns them, so only roles that could read every row
# anyway get them -- a superuser, the table's owner, a BYPASSRLS role -- and
# never a tenant, on a plain table or on a partitioned one whose policy sits
# on the parent (the partitions themselves have none).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More tests => 8;

my $gen = "$ENV{VECRABITQ_BUILD}/tools/gen_vectors";
my $tenant = 'd1000000-0000-0000-0000-000000000000';
my $node = PostgreSQL::Test::Cluster->new('stats');
$node->init;
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vecrabitq;
	CREATE ROLE "$tenant" LOGIN;
	CREATE ROLE boss LOGIN;
	CREATE ROLE svc LOGIN BYPASSRLS;
	CREATE TABLE seed (id int, v vector(16));
	COPY seed FROM PROGRAM '$gen 16 4000 2';
	CREATE TABLE plain (id int, owner uuid NOT NULL, v vector(16));
	CREATE TABLE parted (id int, owner uuid NOT NULL, v vector(16)) PARTITION BY HASH (id);
	CREATE TABLE parted0 PARTITION OF parted FOR VALUES WITH (MODULUS 2, REMAINDER 0);
	CREATE TABLE parted1 PARTITION OF parted FOR VALUES WITH (MODULUS 2, REMAINDER 1);
	INSERT INTO plain SELECT id, CASE WHEN id % 2 = 0 THEN '$tenant' ELSE 'ffffffff-0000-0000-0000-000000000000' END::uuid, v FROM seed;
	INSERT INTO parted SELECT * FROM plain;
});
for my $t (qw(plain parted parted0 parted1))
{
	$node->safe_psql('postgres', "ALTER TABLE $t OWNER TO boss");
}
for my $t (qw(plain parted))
{
	$node->safe_psql('postgres', qq{
		ALTER TABLE $t ENABLE ROW LEVEL SECURITY;
		CREATE POLICY tenant ON $t USING (owner = current_user::uuid);
		GRANT SELECT ON $t TO PUBLIC;
		SET client_min_messages = warning;
		CREATE INDEX ON $t USING rabitq (owner, v) WITH (lists = 8);
	});
}

# the DEBUG1 lines a role gets for one ordered scan of table t
sub stats_lines
{
	my ($role, $t) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', qq{SET ROLE "$role"; SET rabitq.exact_limit = 0;
		SET client_min_messages = debug1;
		SELECT count(*) FROM (SELECT id FROM $t ORDER BY v <-> (SELECT v FROM seed WHERE id = 7) LIMIT 3) s});
	die "query failed: $err" if $ret != 0;
	return scalar(() = $err =~ /rabitq scan: probing/g);
}

$node->safe_psql('postgres', 'GRANT SELECT ON seed TO PUBLIC');
for my $t (qw(plain parted))
{
	my $parts = $t eq 'parted' ? 2 : 1;
	is(stats_lines('postgres', $t), $parts, "$t: a superuser gets the statistics of each scan");
	is(stats_lines('boss', $t), $parts, "$t: the table owner gets them");
	is(stats_lines('svc', $t), $parts, "$t: a BYPASSRLS role gets them");
	is(stats_lines($tenant, $t), 0, "$t: a tenant gets none");
}

$node->stop;
