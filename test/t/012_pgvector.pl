# vecrabitq_pgvector: the rabitq index on pgvector's own vector and halfvec
# columns, in a database that had pgvector and its data first.  Runs when
# pgvector is installed in the server (build it from its source with `make
# install`); otherwise the whole file is skipped with that reason.
#
# Checked: which extension may be installed beside which (and the errors name
# the other); pgvector's types are untouched (same I/O functions, text and
# binary forms); every metric on both types, with the index chosen, recall at
# default settings and the exact top 10 (by distance) with every list probed,
# against pgvector's own operators by sequential scan; D = 3072 for both types,
# beyond pgvector's own index limits; a zero vector under cosine is stored but
# left out of the index, as in pgvector; the tenant policy as an Index Cond
# and only the tenant's rows; rabitq_index_check; dump and restore in
# dependency order with the same answers; DROP EXTENSION vector refused.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $gen = "$ENV{VECRABITQ_BUILD}/tools/gen_vectors";
my $node = PostgreSQL::Test::Cluster->new('pgvector');
$node->init;
$node->append_conf('postgresql.conf', "shared_buffers = '256MB'\nmaintenance_work_mem = '512MB'");
$node->start;
if ($node->safe_psql('postgres', q{SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'}) eq '0')
{
	plan skip_all => 'pgvector not installed';
}
plan tests => 29;

# --- which extension beside which ------------------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE standalone');
$node->safe_psql('standalone', 'CREATE EXTENSION vecrabitq');
my ($ret, $out, $err) = $node->psql('standalone',
	'CREATE SCHEMA pgv; CREATE EXTENSION vector SCHEMA pgv; CREATE EXTENSION vecrabitq_pgvector',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/42710: extension "vecrabitq" is installed in this database.*HINT:.*vecrabitq_pgvector/s,
	'vecrabitq_pgvector beside vecrabitq: refused, naming vecrabitq');

my $types = q{SELECT typname, typinput, typoutput, typreceive, typsend FROM pg_type
	WHERE typname IN ('vector', 'halfvec') ORDER BY 1};
$node->safe_psql('postgres', 'CREATE EXTENSION vector');
my $types_before = $node->safe_psql('postgres', $types);
($ret, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION vecrabitq', extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/42710: pgvector \(extension "vector"\) is installed in this database.*HINT:.*vecrabitq_pgvector/s,
	'vecrabitq beside pgvector: refused, pointing at vecrabitq_pgvector');

# an existing pgvector table with its data, then the companion
my $dim = 64;
$node->safe_psql('postgres', qq{
	CREATE TABLE seed (id int, v text);
	COPY seed FROM PROGRAM '$gen $dim 6000 11';
	CREATE TABLE items (id int PRIMARY KEY, owner uuid NOT NULL, v vector($dim), h halfvec($dim));
	INSERT INTO items SELECT id, ('0000000' || (id % 3) || '-0000-0000-0000-000000000000')::uuid,
		v::vector, v::halfvec FROM seed WHERE id < 5000;
	CREATE TABLE queries (id int, v vector($dim), h halfvec($dim));
	INSERT INTO queries SELECT id, v::vector, v::halfvec FROM seed WHERE id >= 5000 AND id < 5020;
	ANALYZE items;
	CREATE EXTENSION vecrabitq_pgvector;
});
is($node->safe_psql('postgres', $types), $types_before, "pgvector's types keep their own input, output, receive and send");
is($node->safe_psql('postgres', q{SELECT '[1,2.5,-3]'::vector::text, '[1,2.5,-3]'::halfvec::text,
	encode(vector_send('[1,2]'), 'hex')}), '[1,2.5,-3]|[1,2.5,-3]|000200003f80000040000000',
	'text and binary forms as pgvector writes them');

# exact top-10 distances by sequential scan, and what the index returns
$node->safe_psql('postgres', <<'SQL');
CREATE FUNCTION top_d(col text, op text, q text, use_index bool) RETURNS float8[]
LANGUAGE plpgsql AS $$
DECLARE r float8[];
BEGIN
	EXECUTE format('SET LOCAL enable_seqscan = %s', NOT use_index);
	EXECUTE format('SET LOCAL enable_indexscan = %s', use_index);
	EXECUTE format('SELECT array_agg(d) FROM (SELECT %I %s %L::%s AS d FROM items ORDER BY %I %s %L::%s LIMIT 10) s',
				   col, op, q, CASE col WHEN 'h' THEN 'halfvec' ELSE 'vector' END,
				   col, op, q, CASE col WHEN 'h' THEN 'halfvec' ELSE 'vector' END) INTO r;
	RETURN r;
END $$;
-- recall@10 over the queries by the index against exact search (ids)
CREATE FUNCTION recall(col text, op text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	q record;
	exact int[];
	found int[];
	hits int := 0;
BEGIN
	FOR q IN SELECT CASE col WHEN 'h' THEN h::text ELSE v::text END AS t FROM queries LOOP
		SET LOCAL enable_indexscan = off;
		EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM items ORDER BY %I %s %L LIMIT 10) s', col, op, q.t)
			INTO exact;
		SET LOCAL enable_indexscan = on;
		SET LOCAL enable_seqscan = off;
		EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM items ORDER BY %I %s %L LIMIT 10) s', col, op, q.t)
			INTO found;
		RESET enable_seqscan;
		hits := hits + (SELECT count(*) FROM unnest(found) f WHERE f = ANY(exact));
	END LOOP;
	RETURN hits::float8 / (10 * (SELECT count(*) FROM queries));
END $$;
SQL

for my $case ([ 'v', 'vector_l2_ops', '<->' ], [ 'v', 'vector_ip_ops', '<#>' ], [ 'v', 'vector_cosine_ops', '<=>' ],
	[ 'h', 'halfvec_l2_ops', '<->' ], [ 'h', 'halfvec_ip_ops', '<#>' ], [ 'h', 'halfvec_cosine_ops', '<=>' ])
{
	my ($col, $ops, $op) = @$case;
	$node->safe_psql('postgres', "SET client_min_messages = warning; CREATE INDEX items_idx ON items USING rabitq ($col $ops) WITH (lists = 20)");
	my $q = $node->safe_psql('postgres', "SELECT $col FROM queries LIMIT 1");
	my $recall = $node->safe_psql('postgres', "SELECT recall('$col', '$op')");
	my $wrong = $node->safe_psql('postgres', qq{SET rabitq.probes = 20;
		SELECT count(*) FROM queries q WHERE top_d('$col', '$op', q.$col\::text, true) IS DISTINCT FROM top_d('$col', '$op', q.$col\::text, false)});
	ok($recall >= 0.9 && $wrong eq '0'
		  && $node->safe_psql('postgres', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY $col $op '$q' LIMIT 10") =~ /Index Scan using items_idx/,
		"$ops on pgvector's column: the index is used, recall\@10 $recall >= 0.9 at default settings, "
		  . "$wrong of 20 queries off the exact top 10 with every list probed");
	$node->safe_psql('postgres', 'DROP INDEX items_idx');
}

# --- beyond pgvector's index limits: 3072 dimensions, both types ------------
$node->safe_psql('postgres', qq{
	CREATE TABLE wide_seed (id int, v text);
	COPY wide_seed FROM PROGRAM '$gen 3072 1200 5';
	CREATE TABLE wide (id int PRIMARY KEY, v vector(3072), h halfvec(3072));
	INSERT INTO wide SELECT id, v::vector, v::halfvec FROM wide_seed;
	SET client_min_messages = warning;
	CREATE INDEX wide_v ON wide USING rabitq (v vector_cosine_ops) WITH (lists = 6);
	CREATE INDEX wide_h ON wide USING rabitq (h halfvec_l2_ops) WITH (lists = 6);
});
for my $case ([ 'v', '<=>', 'vector' ], [ 'h', '<->', 'halfvec' ])
{
	my ($col, $op, $type) = @$case;
	my $sql = "SELECT array_agg(d) FROM (SELECT $col $op q AS d FROM wide, (SELECT $col AS q FROM wide WHERE id = 17) s "
	  . "ORDER BY $col $op q LIMIT 10) t";
	my $by_index = $node->safe_psql('postgres', "SET enable_seqscan = off; SET rabitq.probes = 6; $sql");
	my $exact = $node->safe_psql('postgres', "SET enable_indexscan = off; $sql");
	is($by_index, $exact, "$type(3072): the exact top 10 with every list probed");
}
is($node->safe_psql('postgres', q{SELECT rabitq_index_check('wide_v'), rabitq_index_check('wide_h')}), '1200|1200',
	'both 3072-dimension indexes check out');

# --- zero vectors under cosine: stored, not indexed (as in pgvector) ---------
$node->safe_psql('postgres', qq{
	CREATE INDEX items_vcos ON items USING rabitq (v vector_cosine_ops) WITH (lists = 20);
	CREATE INDEX items_hcos ON items USING rabitq (h halfvec_cosine_ops) WITH (lists = 20);
	INSERT INTO items VALUES (9001, '00000000-0000-0000-0000-000000000000',
		array_fill(0, ARRAY[$dim])::vector, array_fill(0, ARRAY[$dim])::halfvec);
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM items WHERE id = 9001}), '1', 'a zero vector row is stored');
is($node->safe_psql('postgres', q{SET enable_seqscan = off;
	SELECT count(*) FILTER (WHERE id = 9001), count(*) FROM (SELECT id FROM items ORDER BY v <=> (SELECT v FROM queries LIMIT 1)) s}),
	'0|5000', 'and left out of the cosine index: every other row, not that one');
is($node->safe_psql('postgres', q{SELECT rabitq_index_check('items_vcos'), rabitq_index_check('items_hcos')}), '5000|5000',
	'the check knows the zero vector is not indexed');
$node->safe_psql('postgres', 'DROP INDEX items_vcos, items_hcos; DELETE FROM items WHERE id = 9001');

# --- tenants: the policy as an index condition ------------------------------
$node->safe_psql('postgres', q{
	CREATE ROLE "00000001-0000-0000-0000-000000000000" NOLOGIN;
	GRANT SELECT ON items, queries TO "00000001-0000-0000-0000-000000000000";
	ALTER TABLE items ENABLE ROW LEVEL SECURITY;
	CREATE POLICY tenant ON items USING (owner = current_user::uuid);
	SET client_min_messages = warning;
	CREATE INDEX items_owner_v ON items USING rabitq (owner, v vector_l2_ops) WITH (lists = 20);
	CREATE INDEX items_owner_h ON items USING rabitq (owner, h halfvec_cosine_ops) WITH (lists = 20);
});
for my $case ([ 'v', '<->', 'items_owner_v' ], [ 'h', '<=>', 'items_owner_h' ])
{
	my ($col, $op, $idx) = @$case;
	my $tenant = q{SET ROLE "00000001-0000-0000-0000-000000000000"; SET enable_seqscan = off; };
	my $plan = $node->safe_psql('postgres',
		"$tenant EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY $col $op (SELECT $col FROM queries LIMIT 1) LIMIT 10");
	like($plan, qr/Index Scan using $idx on items.*Index Cond: \(owner = \(CURRENT_USER\)::uuid\)/s,
		"$idx: the policy is an Index Cond");
	my ($n, $foreign, $exact) = split /\|/, $node->safe_psql('postgres', "$tenant
		SELECT count(*), count(*) FILTER (WHERE owner <> current_user::uuid),
			array_agg(id ORDER BY d, id) = (SELECT array_agg(id ORDER BY d, id) FROM (SELECT id, $col $op q AS d FROM items,
				(SELECT $col AS q FROM queries LIMIT 1) s WHERE owner = current_user::uuid ORDER BY d, id LIMIT 10) e)
		FROM (SELECT id, owner, $col $op (SELECT $col FROM queries LIMIT 1) AS d FROM items
			ORDER BY $col $op (SELECT $col FROM queries LIMIT 1) LIMIT 10) s");
	ok($n == 10 && $foreign == 0 && $exact eq 't', "$idx: the tenant's own exact top 10 ($n rows, $foreign foreign)");
}

# --- check and stats ------------------------------------------------------
is($node->safe_psql('postgres', q{SELECT rabitq_index_check('items_owner_v'), rabitq_index_check('items_owner_h')}),
	'5000|5000', 'rabitq_index_check on key indexes of both types');
is($node->safe_psql('postgres', q{SELECT lists, entries FROM rabitq_index_stats('items_owner_h')}), '20|5000',
	'rabitq_index_stats');

# --- dump and restore -----------------------------------------------------
my $answers = q{SET enable_seqscan = off; SET rabitq.probes = 4;
	SELECT string_agg(ids, ';' ORDER BY qid) FROM (SELECT q.id AS qid, (SELECT string_agg(id::text, ',') FROM (
		SELECT id FROM items ORDER BY h <=> q.h LIMIT 5) s) AS ids FROM queries q) t};
my $dump = $node->basedir . '/pgv.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ],
	'pg_restore in dependency order: pgvector, the companion, the tables, the indexes');
is($node->safe_psql('restored', q{SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension WHERE extname <> 'plpgsql'}),
	'vecrabitq_pgvector,vector', 'the restored database has both extensions');
is($node->safe_psql('restored', $answers), $node->safe_psql('postgres', $answers), 'and answers alike');
is($node->safe_psql('restored', q{SELECT rabitq_index_check('items_owner_h')}), '5000', 'its indexes check out');

# --- pgvector cannot go while the companion needs it -----------------------
($ret, $out, $err) = $node->psql('postgres', 'DROP EXTENSION vector', extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/2BP01: cannot drop extension vector because other objects depend on it/,
	'DROP EXTENSION vector refuses while vecrabitq_pgvector depends on it');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_extension WHERE extname IN ('vector', 'vecrabitq_pgvector')}), '2',
	'both are still there');

$node->stop;
