# A soak: pgbench with several clients mixing inserts, updates of the vector,
# deletes, nearest-neighbour queries (each checked for exact order) and
# VACUUM on a rabitq index; no client may fail, and afterwards
# rabitq_index_check passes and the index holds every row exactly once.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More tests => 5;

my $gen = "$ENV{VECRABITQ_BUILD}/tools/gen_vectors";
my $node = PostgreSQL::Test::Cluster->new('concurrency');
$node->init;
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vecrabitq;
	CREATE TABLE items (id bigserial PRIMARY KEY, v vector(32));
	CREATE TEMP TABLE seed (id int, v vector(32));
	COPY seed FROM PROGRAM '$gen 32 5000 9';
	INSERT INTO items (v) SELECT v FROM seed;
	CREATE INDEX items_v ON items USING rabitq (v) WITH (lists = 10);
	-- ten nearest rows of a random query; an error if they come out of order
	CREATE FUNCTION ordered_knn() RETURNS int LANGUAGE plpgsql AS \$\$
	DECLARE d float8[];
	BEGIN
		SET LOCAL enable_seqscan = off;
		SELECT array_agg(dist ORDER BY ord) INTO d FROM (SELECT dist, row_number() OVER () AS ord
			FROM (SELECT v <-> q AS dist FROM items,
				  (SELECT ARRAY(SELECT random() * 20 FROM generate_series(1, 32))::vector AS q) r
				  ORDER BY v <-> q LIMIT 10) s) t;
		IF EXISTS (SELECT FROM generate_subscripts(d, 1) j WHERE j > 1 AND d[j] < d[j - 1]) THEN
			RAISE EXCEPTION 'out of order: %', d;
		END IF;
		RETURN cardinality(d);
	END \$\$;
});

my $dir = $node->basedir;
my %scripts = (
	'insert.sql@4' => "INSERT INTO items (v) SELECT ARRAY(SELECT random() * 20 + g * 0 FROM generate_series(1, 32))::vector FROM generate_series(1, 3) g;\n",
	'query.sql@6' => "SELECT ordered_knn();\n",
	'update.sql@2' => "UPDATE items SET v = (SELECT ARRAY(SELECT random() * 20 + id * 0 FROM generate_series(1, 32))::vector) WHERE id = (SELECT max(id) FROM items) - (random() * 100)::int;\n",
	'delete.sql@2' => "DELETE FROM items WHERE id IN (SELECT id FROM items TABLESAMPLE SYSTEM (1) LIMIT 3);\n",
	'vacuum.sql@1' => "VACUUM items;\n",
);
my @args;
for my $name (sort keys %scripts)
{
	my ($file, $weight) = split /@/, $name;
	open(my $fh, '>', "$dir/$file") or die;
	# SQL random() seeded from pgbench's generator (--random-seed below): reproducible values
	print $fh "\\set seed random(0, 999999)\nSELECT setseed(:seed / 1000000.0);\n" . $scripts{$name};
	close($fh);
	push @args, '-f', "$dir/$file\@$weight";
}
my ($out, $err) = ('', '');
my $ok = IPC::Run::run(
	[ 'pgbench', '-n', '-c', '6', '-j', '2', '-T', '15', '--random-seed', '1', @args, '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$out, '2>', \$err);
# a failed order check raises, which in PG15 aborts pgbench's client (not counted as a failed transaction)
ok($ok && $err !~ /aborted/, 'pgbench with inserts, queries, deletes and VACUUM ran to the end: no client aborted')
	or diag($err);
my ($tx) = $out =~ /number of transactions actually processed: (\d+)/;
cmp_ok($tx // 0, '>', 100, "pgbench ran " . ($tx // 0) . " transactions");

$node->safe_psql('postgres', 'VACUUM items');
my ($rows, $in_index, $distinct) = split /\|/, $node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT (SELECT count(*) FROM items), count(*), count(DISTINCT id)
	FROM (SELECT id FROM items ORDER BY v <-> NULL) s;
});
is($in_index, $rows, "the index holds all $rows rows");
is($distinct, $rows, 'each exactly once');
is($node->safe_psql('postgres', "SELECT rabitq_index_check('items_v') >= $rows"), 't',
	'rabitq_index_check passes (VACUUM may leave a few dead entries: it skips index cleanup for few)');

$node->stop;
