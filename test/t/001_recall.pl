# Recall@10 of rabitq at default settings against exact search, on generated
# clustered data (fixed seed) at 128 and 768 dimensions for L2, inner product
# and cosine; rows inserted after the build are found and deleted rows never
# come back.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More tests => 15;

my $gen = "$ENV{VECRABITQ_BUILD}/tools/gen_vectors";
my $node = PostgreSQL::Test::Cluster->new('recall');
$node->init;
$node->append_conf('postgresql.conf', "shared_buffers = '256MB'\nmaintenance_work_mem = '256MB'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION vecrabitq');

# recall@10 of the index over the queries, against exact search
$node->safe_psql('postgres', <<'SQL');
CREATE FUNCTION recall(tab text, op text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	q record;
	exact int[];
	found int[];
	hits int := 0;
	n int := 0;
BEGIN
	FOR q IN EXECUTE format('SELECT v FROM %I_queries', tab) LOOP
		SET LOCAL enable_indexscan = off;
		EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %I ORDER BY v %s $1 LIMIT 10) s', tab, op)
			INTO exact USING q.v;
		SET LOCAL enable_indexscan = on;
		SET LOCAL enable_seqscan = off;
		EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %I ORDER BY v %s $1 LIMIT 10) s', tab, op)
			INTO found USING q.v;
		RESET enable_seqscan;
		hits := hits + (SELECT count(*) FROM unnest(found) f WHERE f = ANY(exact));
		n := n + 10;
	END LOOP;
	RETURN hits::float8 / n;
END $$;
SQL

my %rows = (128 => 20000, 768 => 10000);
for my $dim (128, 768)
{
	my $tab = "items$dim";
	$node->safe_psql('postgres', qq{
		CREATE TABLE $tab (id int PRIMARY KEY, v vector($dim));
		CREATE TABLE ${tab}_queries (id int, v vector($dim));
		COPY $tab FROM PROGRAM '$gen $dim $rows{$dim} 7';
		COPY ${tab}_queries FROM PROGRAM '$gen $dim 100 7 1000000';
		ANALYZE $tab;
	});
	for my $opclass (['vector_l2_ops', '<->'], ['vector_ip_ops', '<#>'], ['vector_cosine_ops', '<=>'])
	{
		my ($ops, $op) = @$opclass;
		$node->safe_psql('postgres', "CREATE INDEX ${tab}_idx ON $tab USING rabitq (v $ops)");
		my $recall = $node->safe_psql('postgres', "SELECT recall('$tab', '$op')");
		cmp_ok($recall, '>=', 0.95, "D=$dim $ops: recall\@10 at default settings $recall >= 0.95");
		# default planner settings: the index for ORDER BY ... LIMIT
		my $q = "(SELECT v FROM ${tab}_queries LIMIT 1)";
		like($node->safe_psql('postgres', "EXPLAIN (COSTS OFF) SELECT id FROM $tab ORDER BY v $op $q LIMIT 10"),
			qr/Index Scan using ${tab}_idx/, "D=$dim $ops: planner uses the index on $rows{$dim} rows");
		$node->safe_psql('postgres', "DROP INDEX ${tab}_idx");
	}
}

# rows inserted after the build are found first for their own vector;
# deleted rows never come back
my $tab = 'items128';
$node->safe_psql('postgres', qq{
	CREATE INDEX items128_idx ON $tab USING rabitq (v);
	COPY $tab FROM PROGRAM '$gen 128 2000 7 500000';
});
my $self_first = $node->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SELECT count(*) FROM $tab t
	WHERE t.id >= 500000 AND t.id < 500200
	  AND (SELECT s.id FROM $tab s ORDER BY s.v <-> t.v LIMIT 1) = t.id;
});
is($self_first, 200, 'each of 200 rows inserted after the build is its own nearest row');

$node->safe_psql('postgres', "DELETE FROM $tab WHERE id % 2 = 1");
my $deleted_seen = $node->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SELECT count(*) FROM (SELECT q.id AS qid, t.id FROM ${tab}_queries q,
		LATERAL (SELECT id FROM $tab ORDER BY v <-> q.v LIMIT 10) t) s WHERE s.id % 2 = 1;
});
is($deleted_seen, 0, 'deleted rows are never returned (before VACUUM)');
$node->safe_psql('postgres', "VACUUM $tab");
my $counts = $node->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SELECT (SELECT count(*) FROM (SELECT id FROM $tab ORDER BY v <-> NULL) s) = (SELECT count(*) FROM $tab),
		   (SELECT count(*) FROM (SELECT id FROM $tab ORDER BY v <-> NULL) s WHERE id % 2 = 1);
});
is($counts, 't|0', 'after VACUUM the index holds exactly the live rows');

$node->stop;
