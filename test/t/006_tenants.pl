# Tenants under row-level security with a rabitq (owner, embedding) index:
# tenant roles inserting and querying concurrently, FORCE ROW LEVEL SECURITY,
# roles that bypass the policy, a current_setting() policy, and a pg_dump /
# pg_restore round trip.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More tests => 29;

my $gen = "$ENV{VECRABITQ_BUILD}/tools/gen_vectors";
my %tenant = (
	A => 'aaaaaaaa-0000-0000-0000-000000000000',	# 2,400 rows: ranked from the lists
	B => 'bbbbbbbb-0000-0000-0000-000000000000',	# 2,400 rows
	C => 'cccccccc-0000-0000-0000-000000000000',	# 20 rows: ranked exactly
	O => '00000000-0000-0000-0000-0000000000aa',	# owns the table, 20 rows
);
my $node = PostgreSQL::Test::Cluster->new('tenants');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 40\n");
$node->start;
my $roles = join '', map { qq{CREATE ROLE "$tenant{$_}" LOGIN;\n} } sort keys %tenant;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vecrabitq;
	$roles
	CREATE ROLE svc LOGIN BYPASSRLS;
	CREATE TABLE seed (id int, v vector(32));
	COPY seed FROM PROGRAM '$gen 32 6000 5';
	CREATE TABLE pool (pid int, v vector(32));
	COPY pool FROM PROGRAM '$gen 32 5000 5 100000';
	CREATE TABLE queries (qid int, v vector(32));
	COPY queries FROM PROGRAM '$gen 32 5 5 200000';
	CREATE TABLE items (id bigserial PRIMARY KEY, owner uuid NOT NULL, embedding vector(32) NOT NULL);
	INSERT INTO items (owner, embedding) SELECT CASE
		WHEN id % 100 < 40 THEN '$tenant{A}' WHEN id % 100 < 80 THEN '$tenant{B}'
		WHEN id % 150 = 81 THEN '$tenant{C}' WHEN id % 150 = 82 THEN '$tenant{O}'
		ELSE 'ffffffff-0000-0000-0000-000000000000' END::uuid, v FROM seed ORDER BY id;
	ALTER TABLE items OWNER TO "$tenant{O}";
	ALTER TABLE items ENABLE ROW LEVEL SECURITY;
	CREATE POLICY tenant ON items USING (owner = current_user::uuid)
		WITH CHECK (owner = current_user::uuid);
	GRANT SELECT, INSERT ON items TO PUBLIC;
	GRANT USAGE ON SEQUENCE items_id_seq TO PUBLIC;
	GRANT SELECT ON pool TO PUBLIC;
	CREATE INDEX items_ov ON items USING rabitq (owner, embedding) WITH (lists = 12);

	-- the caller's k nearest rows at q must be its own, k of them, distinct,
	-- in order, and include new_id (its own row, maybe uncommitted) at distance 0
	CREATE FUNCTION check_knn(q vector, k int, new_id bigint) RETURNS int
	LANGUAGE plpgsql AS \$\$
	DECLARE ids bigint[]; owners uuid[]; d float8[];
	BEGIN
		SET LOCAL enable_seqscan = off;
		SELECT array_agg(id ORDER BY ord), array_agg(owner ORDER BY ord), array_agg(dist ORDER BY ord)
			INTO ids, owners, d
			FROM (SELECT id, owner, dist, row_number() OVER () AS ord
				  FROM (SELECT id, owner, embedding <-> q AS dist FROM items
						ORDER BY embedding <-> q LIMIT k) s) t;
		IF EXISTS (SELECT FROM unnest(owners) o WHERE o <> current_user::uuid) THEN
			RAISE EXCEPTION 'another tenant''s row';
		END IF;
		IF coalesce(cardinality(ids), 0) <> k THEN
			RAISE EXCEPTION '% rows instead of %', coalesce(cardinality(ids), 0), k;
		END IF;
		IF (SELECT count(DISTINCT x) FROM unnest(ids) x) <> k THEN
			RAISE EXCEPTION 'a row came back twice';
		END IF;
		IF EXISTS (SELECT FROM generate_subscripts(d, 1) j WHERE j > 1 AND d[j] < d[j - 1]) THEN
			RAISE EXCEPTION 'distances out of order';
		END IF;
		IF new_id IS NOT NULL AND NOT (new_id = ANY (ids) AND d[1] = 0) THEN
			RAISE EXCEPTION 'own new row % missing', new_id;
		END IF;
		RETURN k;
	END \$\$;
});

sub psql_as
{
	my ($role, $sql, $db) = @_;
	return $node->safe_psql($db // 'postgres', qq{SET ROLE "$role";\n$sql});
}

my $dir = $node->basedir;

# --- pg_dump / pg_restore, right after the build: the restored index is built
# from the same rows in the same order, so it answers alike -----------------
# (queries no tenant inserted: rows at equal distances may come in any order)
my @queries = split /\n/, $node->safe_psql('postgres', 'SELECT v FROM queries ORDER BY qid');
sub answers
{
	my ($db) = @_;
	my $out = '';
	for my $t (qw(A C))
	{
		$out .= psql_as($tenant{$t}, qq{EXPLAIN (COSTS OFF) SELECT id FROM items
			ORDER BY embedding <-> '$queries[0]' LIMIT 10}, $db) . "\n";
		for my $v (@queries)
		{
			$out .= psql_as($tenant{$t}, qq{SELECT string_agg(id::text, ',') FROM (SELECT id FROM items
				ORDER BY embedding <-> '$v' LIMIT 10) s}, $db) . "\n";
		}
	}
	return $out;
}
my $dump = "$dir/tenants.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');
my $original = answers('postgres');
like($original, qr/Index Cond: \(owner = \(CURRENT_USER\)::uuid\)/, 'the tenant plans use the key');
is(answers('restored'), $original, 'the restored database gives the same plans and rows');
is($node->safe_psql('restored', q{SELECT relrowsecurity FROM pg_class WHERE relname = 'items'}), 't',
	'row security is enabled after restore');

# --- two (three) tenants inserting and querying at once -------------------
my %scripts = (
	'insert.sql' => <<'EOF',
\set p random(100000, 104999)
BEGIN;
INSERT INTO items (owner, embedding) SELECT current_user::uuid, v FROM pool WHERE pid = :p RETURNING id AS new_id \gset
SELECT check_knn((SELECT v FROM pool WHERE pid = :p), 10, :new_id);
COMMIT;
EOF
	'query.sql' => <<'EOF',
\set p random(100000, 104999)
SELECT check_knn((SELECT v FROM pool WHERE pid = :p), 10, NULL);
EOF
);
for my $file (keys %scripts)
{
	open(my $fh, '>', "$dir/$file") or die;
	print $fh $scripts{$file};
	close($fh);
}
my %before = map { $_ => psql_as($tenant{$_}, 'SELECT count(*) FROM items') } qw(A B C);
my @runs;
for my $t (qw(A B C))
{
	my %run = (tenant => $t, out => '', err => '');
	$run{h} = IPC::Run::start(
		[ 'pgbench', '-n', '-c', '2', '-j', '1', '-T', '12', '--random-seed', ord($t), '-U', $tenant{$t},
		  '-f', "$dir/insert.sql\@1", '-f', "$dir/query.sql\@2",
		  '-h', $node->host, '-p', $node->port, 'postgres' ],
		'>', \$run{out}, '2>', \$run{err});
	push @runs, \%run;
}
for my $run (@runs)
{
	my $t = $run->{tenant};
	# a failed check raises, which in PG15 aborts pgbench's client (not counted as a failed transaction)
	my $ok = $run->{h}->finish && $run->{err} !~ /aborted/;
	ok($ok, "tenant $t: pgbench ran to the end: every kNN result was its own, complete, distinct, "
		. "in order, with its new rows");
	diag($run->{err}) if !$ok;
	my ($inserts) = $run->{out} =~ /script 1: \S+\n - weight: 1.*?\n - (\d+) transactions/s;
	cmp_ok($inserts // 0, '>', 10, "tenant $t inserted " . ($inserts // 0) . " rows");
	my ($count, $listed, $distinct) = split /\|/, psql_as($tenant{$t}, q{
		SET enable_seqscan = off;
		SELECT (SELECT count(*) FROM items), count(*), count(DISTINCT id)
		FROM (SELECT id FROM items ORDER BY embedding <-> NULL) s;
	});
	is($count, $before{$t} + ($inserts // 0), "tenant $t: every committed row is there");
	is("$listed|$distinct", "$count|$count", "tenant $t: the index lists each of its $count rows once");
}

# --- the table owner, FORCE ROW LEVEL SECURITY, and bypassing roles ----------
# The query is none of the rows tenants inserted (those are copies of pool
# rows, and two tenants may insert the same one: rows at equal distances,
# which exact search orders by id and the index by heap position, so the
# two are compared by their distances; owners only where they must all be
# one tenant's).
my $q = $queries[1];
my $dists = qq{SELECT string_agg(d::text, ',') FROM (SELECT embedding <-> '$q' AS d FROM items
	ORDER BY embedding <-> '$q' LIMIT 10) s};
my $owners = qq{SELECT string_agg(owner::text, ',') FROM (SELECT owner FROM items
	ORDER BY embedding <-> '$q' LIMIT 10) s};
my $global = $node->safe_psql('postgres', "SET enable_indexscan = off; $dists");
my $global_owners = $node->safe_psql('postgres', "SET enable_indexscan = off; $owners");
my $plan = qq{EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <-> '$q' LIMIT 10};
cmp_ok(scalar(() = $global =~ /,/g), '==', 9, 'the global top-10 has ten rows');
isnt(scalar(keys %{{ map { $_ => 1 } split /,/, $global_owners }}), 1, 'the global top-10 mixes owners');
my $probe_all = 'SET rabitq.probes = 12; SET rabitq.epsilon = 4; SET enable_seqscan = off;';
is($node->safe_psql('postgres', "$probe_all $dists"), $global, 'superuser: global top-10');
is(psql_as('svc', "$probe_all $dists"), $global, 'BYPASSRLS role: global top-10');
unlike(psql_as('svc', $plan), qr/Index Cond/, 'BYPASSRLS role: no key condition');
is(psql_as($tenant{O}, "$probe_all $dists"), $global, 'table owner: global top-10 without FORCE');

$node->safe_psql('postgres', 'ALTER TABLE items FORCE ROW LEVEL SECURITY');
like(psql_as($tenant{O}, $plan), qr/Index Cond: \(owner = \(CURRENT_USER\)::uuid\)/,
	'FORCE ROW LEVEL SECURITY: the policy is the owner\'s index condition');
is(psql_as($tenant{O}, $owners), join(',', ($tenant{O}) x 10), 'FORCE: the owner gets ten of its own rows');
is(psql_as('svc', "$probe_all $dists"), $global, 'FORCE: BYPASSRLS still global');
$node->safe_psql('postgres', 'ALTER TABLE items NO FORCE ROW LEVEL SECURITY');

# --- a policy on current_setting('app.tenant') -------------------------------
$node->safe_psql('postgres', qq{
	CREATE ROLE app LOGIN;
	CREATE TABLE docs (id int PRIMARY KEY, tenant_id int NOT NULL, embedding vector(32));
	INSERT INTO docs SELECT id, CASE WHEN id % 200 = 0 THEN 7 ELSE id % 3 END, v FROM seed;
	ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
	CREATE POLICY by_setting ON docs USING (tenant_id = current_setting('app.tenant')::int);
	GRANT SELECT ON docs TO app;
	CREATE INDEX docs_tv ON docs USING rabitq (tenant_id, embedding) WITH (lists = 12);
});
my $app_knn = qq{SELECT string_agg(id::text, ',') FROM (SELECT id FROM docs ORDER BY embedding <-> '$q' LIMIT 10) s};
like(psql_as('app', qq{SET app.tenant = '7'; EXPLAIN (COSTS OFF) SELECT id FROM docs ORDER BY embedding <-> '$q' LIMIT 10}),
	qr/Index Cond: \(tenant_id = \(current_setting\('app.tenant'::text\)\)::integer\)/,
	'current_setting policy: an index condition');
for my $t (7, 1)
{
	my $want = $node->safe_psql('postgres', qq{SET enable_indexscan = off;
		SELECT string_agg(id::text, ',') FROM (SELECT id FROM docs WHERE tenant_id = $t
		ORDER BY embedding <-> '$q', id LIMIT 10) s});
	is(psql_as('app', "SET app.tenant = '$t'; $app_knn"), $want,
		"current_setting policy: tenant $t gets its exact top-10");
}

$node->stop;
