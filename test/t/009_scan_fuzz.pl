# A scan fuzzer: thousands of random queries, as tenant roles and as a role
# that bypasses row security, against a table with a key index and a table
# with a vector-only index (all three metrics), while another session inserts,
# deletes and VACUUMs.  Each query runs by the index and again without it in
# the same REPEATABLE READ snapshot; the answers are compared.
#
# Random: the role; the table and metric; the query vector (a row plus noise,
# far away, huge, denormal, zero, mixed signs near 3.4e38, NULL); LIMIT; `= ANY`
# arrays on the key (empty, NULL, duplicates, NULL elements, other tenants'
# keys, thousands of values); a non-key filter; the settings probes, epsilon,
# exact_limit, max_probes, iterative_scan; the form (a plain query, LATERAL
# rescans whose key arrays change, two cursors fetched in small interleaved
# steps).
#
# Always checked: the server never restarts; no query errors; a tenant gets
# only its own rows; no row twice; when the scan may reach every list, LIMIT
# or all of the caller's matching rows.  Where the scan is exact (a small
# tenant ranked from its postings), the k distances equal exact search's.
#
# VECRABITQ_FUZZ_SEED (default 1) and VECRABITQ_FUZZ_CASES (default 6000)
# choose the run; a failure prints the case's settings and SQL to replay.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More tests => 7;

my $seed = $ENV{VECRABITQ_FUZZ_SEED} // 1;
my $cases = $ENV{VECRABITQ_FUZZ_CASES} // 6000;
my $gen = "$ENV{VECRABITQ_BUILD}/tools/gen_vectors";
my $dim = 24;
my $lists = 12;
my %tenant = (
	T1 => 'a1000000-0000-0000-0000-000000000000',	# 40 %, churned
	T2 => 'a2000000-0000-0000-0000-000000000000',	# 10 %, churned
	T3 => 'a3000000-0000-0000-0000-000000000000',	# 60 rows
	T4 => 'a4000000-0000-0000-0000-000000000000',	# 5 rows
	T5 => 'a5000000-0000-0000-0000-000000000000',	# no rows
);
my %fixed_rows = (T3 => 60, T4 => 5, T5 => 0);

my $node = PostgreSQL::Test::Cluster->new('fuzz');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 20\nlog_min_messages = warning\n");
$node->start;
my $roles = join '', map { qq{CREATE ROLE "$tenant{$_}" LOGIN;\n} } sort keys %tenant;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vecrabitq;
	$roles
	CREATE ROLE svc LOGIN BYPASSRLS;
	CREATE TABLE seed (id int, v vector($dim));
	COPY seed FROM PROGRAM '$gen $dim 6000 11';
	CREATE TABLE pool (id int, v vector($dim));
	COPY pool FROM PROGRAM '$gen $dim 2000 11 100000';
	CREATE FUNCTION owner_of(i int) RETURNS uuid IMMUTABLE LANGUAGE sql AS \$\$
		SELECT CASE WHEN i % 100 < 40 THEN '$tenant{T1}' WHEN i % 100 < 50 THEN '$tenant{T2}'
			WHEN i % 100 = 50 AND i < 6000 THEN '$tenant{T3}' WHEN i IN (51, 151, 251, 351, 451) THEN '$tenant{T4}'
			ELSE 'f0000000-0000-0000-0000-000000000000' END::uuid \$\$;
	CREATE TABLE fz_key (id bigserial PRIMARY KEY, owner uuid NOT NULL, tag int NOT NULL, embedding vector($dim));
	CREATE TABLE fz_vec (LIKE fz_key INCLUDING ALL);
	INSERT INTO fz_key (owner, tag, embedding) SELECT owner_of(id), id % 7, v FROM seed ORDER BY id;
	INSERT INTO fz_vec SELECT * FROM fz_key;
});
for my $t (qw(fz_key fz_vec))
{
	my $lead = $t eq 'fz_key' ? 'owner, ' : '';
	$node->safe_psql('postgres', qq{
		ALTER TABLE $t ENABLE ROW LEVEL SECURITY;
		CREATE POLICY tenant ON $t USING (owner = current_user::uuid);
		GRANT SELECT ON $t TO PUBLIC;
		SET client_min_messages = warning;
		CREATE INDEX ${t}_l2 ON $t USING rabitq (${lead}embedding vector_l2_ops) WITH (lists = $lists);
		CREATE INDEX ${t}_ip ON $t USING rabitq (${lead}embedding vector_ip_ops) WITH (lists = $lists);
		CREATE INDEX ${t}_cos ON $t USING rabitq (${lead}embedding vector_cosine_ops) WITH (lists = $lists);
	});
}

# fz_run: one case, as the calling role, in its snapshot.  NULL when every
# check holds, else what failed.
$node->safe_psql('postgres', <<'SQL');
CREATE FUNCTION fz_rows(sql text, q vector, keys uuid[], lim int,
						OUT ids bigint[], OUT owners uuid[], OUT d float8[])
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('SELECT array_agg(id ORDER BY o), array_agg(owner ORDER BY o), array_agg(d ORDER BY o)
		FROM (SELECT *, row_number() OVER () AS o FROM (%s LIMIT %s) s) t', sql, lim)
		INTO ids, owners, d USING q, keys;
END $$;

-- two cursors fetched in interleaved steps of 1-4 rows; the first's rows
CREATE FUNCTION fz_cursor(sql text, q vector, keys uuid[], lim int,
						  OUT ids bigint[], OUT owners uuid[], OUT d float8[])
LANGUAGE plpgsql AS $$
DECLARE
	c1 refcursor;
	c2 refcursor;
	r record;
	step int := 0;
	done bool := false;
BEGIN
	OPEN c1 FOR EXECUTE sql USING q, keys;
	OPEN c2 FOR EXECUTE sql USING (SELECT array_agg(-x)::vector FROM unnest(q::real[]) x), keys;
	WHILE NOT done AND coalesce(cardinality(ids), 0) < lim LOOP
		step := step + 1;
		FOR i IN 1 .. 1 + step % 4 LOOP
			EXIT WHEN coalesce(cardinality(ids), 0) >= lim;
			FETCH c1 INTO r;
			IF NOT FOUND THEN
				done := true;
				EXIT;
			END IF;
			ids := ids || r.id; owners := owners || r.owner; d := d || r.d;
		END LOOP;
		FOR i IN 1 .. 1 + (step * 3) % 4 LOOP
			FETCH c2 INTO r;
		END LOOP;
	END LOOP;
	CLOSE c1;
	CLOSE c2;
END $$;

CREATE FUNCTION fz_run(tab text, op text, q vector, lim int, use_keys bool, keys uuid[], tag int,
					   form text, complete bool, strong bool) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	cond text := 'true';
	sql text;
	plan text := '';
	r record;
	got record;
	again record;
	empty bigint[];
	want_d float8[];
	total bigint;
	mine uuid := CASE WHEN current_user ~ '^[0-9a-f-]{36}$' THEN current_user::uuid END;
BEGIN
	IF use_keys OR form = 'lateral' THEN cond := cond || ' AND owner = ANY ($2)'; END IF;
	IF tag IS NOT NULL THEN cond := cond || format(' AND tag = %s', tag); END IF;
	-- the query through an InitPlan: a runtime key, and a NULL query stays NULL at plan time
	sql := format('SELECT id, owner, embedding %s (SELECT $1) AS d FROM %I WHERE %s ORDER BY embedding %s (SELECT $1)',
				  op, tab, cond, op);

	PERFORM set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true),
		set_config('enable_indexscan', 'on', true), set_config('enable_sort', 'off', true);
	FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || sql || ' LIMIT 1' USING q, keys LOOP
		plan := plan || r."QUERY PLAN" || ' ';
	END LOOP;
	IF plan NOT LIKE '%Index Scan using ' || tab || '_%' THEN
		RETURN 'no rabitq index scan: ' || plan;
	END IF;
	IF form = 'cursor' THEN
		SELECT * INTO got FROM fz_cursor(sql, q, keys, lim);
	ELSIF form = 'lateral' THEN
		-- rescans: the same query, then a NULL key array, an empty one, the same again
		EXECUTE format('SELECT array_agg(s.id ORDER BY v.k, s.o) FILTER (WHERE v.k IN (2, 3)) AS empty,
				array_agg(s.id ORDER BY s.o) FILTER (WHERE v.k = 1) AS ids,
				array_agg(s.owner ORDER BY s.o) FILTER (WHERE v.k = 1) AS owners,
				array_agg(s.d ORDER BY s.o) FILTER (WHERE v.k = 1) AS d,
				array_agg(s.id ORDER BY s.o) FILTER (WHERE v.k = 4) AS again
			FROM (VALUES (1, $2), (2, NULL::uuid[]), (3, ''{}''::uuid[]), (4, $2)) v(k, a)
			CROSS JOIN LATERAL (SELECT *, row_number() OVER () AS o FROM (%s LIMIT %s) s) s',
			replace(sql, '$2', 'v.a'), lim)
			INTO got USING q, keys;
		IF got.empty IS NOT NULL THEN
			RETURN 'a rescan with a NULL or empty key array returned rows';
		END IF;
		IF got.again IS DISTINCT FROM got.ids THEN
			RETURN format('the same rescan twice differs: %s / %s', got.ids, got.again);
		END IF;
	ELSE
		SELECT * INTO got FROM fz_rows(sql, q, keys, lim);
	END IF;

	PERFORM set_config('enable_seqscan', 'on', true), set_config('enable_indexscan', 'off', true),
		set_config('enable_sort', 'on', true);
	EXECUTE format('SELECT count(*) FROM %I WHERE %s', tab, cond) INTO total USING q, keys;
	EXECUTE format('SELECT array_agg(d) FROM (%s, id LIMIT %s) s', sql, lim) INTO want_d USING q, keys;
	PERFORM set_config('enable_indexscan', 'on', true);

	IF mine IS NOT NULL AND EXISTS (SELECT FROM unnest(got.owners) o WHERE o IS DISTINCT FROM mine) THEN
		RETURN 'another owner''s row';
	END IF;
	IF (SELECT count(DISTINCT i) FROM unnest(got.ids) i) <> coalesce(cardinality(got.ids), 0) THEN
		RETURN 'a row twice';
	END IF;
	IF coalesce(cardinality(got.ids), 0) > least(lim, total)
	   OR (complete AND coalesce(cardinality(got.ids), 0) <> least(lim, total)) THEN
		RETURN format('%s rows, expected %s%s', coalesce(cardinality(got.ids), 0),
					  CASE WHEN complete THEN '' ELSE 'at most ' END, least(lim, total));
	END IF;
	IF strong AND got.d IS DISTINCT FROM want_d THEN
		RETURN format('distances %s, exact search %s', got.d, want_d);
	END IF;
	RETURN NULL;
END $$;
GRANT SELECT ON pool TO PUBLIC;
SQL

# --- another session: inserts, deletes and VACUUM on the churned tenants ----
my $dir = $node->basedir;
open(my $fh, '>', "$dir/churn.sql") or die;
print $fh <<"EOF";
\\set p random(100000, 101999)
\\set d random(1, 6000)
\\set t random(0, 1)
INSERT INTO fz_key (owner, tag, embedding) SELECT CASE WHEN :t = 0 THEN '$tenant{T1}' ELSE '$tenant{T2}' END::uuid, :p % 7, v FROM pool WHERE id = :p;
INSERT INTO fz_vec (owner, tag, embedding) SELECT CASE WHEN :t = 0 THEN '$tenant{T1}' ELSE '$tenant{T2}' END::uuid, :p % 7, v FROM pool WHERE id = :p;
DELETE FROM fz_key WHERE id = (SELECT id FROM fz_key WHERE id >= :d AND owner IN ('$tenant{T1}', '$tenant{T2}') ORDER BY id LIMIT 1);
DELETE FROM fz_vec WHERE id = (SELECT id FROM fz_vec WHERE id >= :d AND owner IN ('$tenant{T1}', '$tenant{T2}') ORDER BY id LIMIT 1);
EOF
close($fh);
open($fh, '>', "$dir/vacuum.sql") or die;
print $fh "VACUUM fz_key;\nVACUUM fz_vec;\n";
close($fh);
my ($churn_out, $churn_err) = ('', '');
$node->safe_psql('postgres', 'SELECT pg_stat_force_next_flush()');
my $churn = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '1', '-T', '600', '--random-seed', $seed, '-R', '200',
	  '-f', "$dir/churn.sql\@50", '-f', "$dir/vacuum.sql\@1",
	  '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$churn_out, '2>', \$churn_err);

# --- the cases ----------------------------------------------------------------
srand($seed);
my @seed_rows = split /\n/, $node->safe_psql('postgres', 'SELECT v FROM seed WHERE id % 50 = 3 ORDER BY id');
my @all_keys = values %tenant;

sub pick { return $_[ int(rand(@_)) ]; }

sub vec_lit { return "'[" . join(',', @_) . "]'::vector"; }

sub query_vector
{
	my $kind = pick(qw(row row row far huge huge denormal zero mixed null));
	my @v;
	if ($kind eq 'row' || $kind eq 'far')
	{
		my ($body) = pick(@seed_rows) =~ /\[(.*)\]/;
		@v = map { $_ + ($kind eq 'far' ? 40 : 0.3 * (rand() - 0.5)) } split /,/, $body;
	}
	elsif ($kind eq 'huge') { @v = map { pick(3.4e38, -3.4e38, 3e38, 1e30, 0) } 1 .. $dim; }
	elsif ($kind eq 'denormal') { @v = map { pick(1e-45, -1e-44, 1e-40, 0) } 1 .. $dim; }
	elsif ($kind eq 'zero') { @v = (0) x $dim; }
	elsif ($kind eq 'mixed') { @v = map { pick(3.4e38, -1e-40, 1, -5e37, 0) } 1 .. $dim; }
	else { return ('NULL::vector', $kind); }
	return (vec_lit(@v), $kind);
}

sub key_array
{
	my ($role_key) = @_;
	my $kind = pick(qw(own own null empty dups others nullelem many));
	my @k;
	if ($kind eq 'null') { return ('NULL::uuid[]', $kind); }
	elsif ($kind eq 'empty') { return ("'{}'::uuid[]", $kind); }
	elsif ($kind eq 'own') { @k = ("'$role_key'"); }
	elsif ($kind eq 'dups') { @k = ("'$role_key'") x 3; }
	elsif ($kind eq 'others') { @k = map { "'" . pick(@all_keys) . "'" } 1 .. 3; }
	elsif ($kind eq 'nullelem') { @k = ("'$role_key'", 'NULL'); }
	else
	{
		return ("(ARRAY(SELECT md5((g * " . int(rand(1000)) . ")::text)::uuid FROM generate_series(1, 3000) g) || '$role_key'::uuid)",
			$kind);
	}
	return ('ARRAY[' . join(',', @k) . ']::uuid[]', $kind);
}

my (%seen, @failures);
my ($seen_strong, $seen_complete) = (0, 0);
my $script = '';
my @meta;
for my $case (1 .. $cases)
{
	my $role = pick(qw(T1 T2 T3 T3 T4 T4 T5 svc));
	my $role_name = $role eq 'svc' ? 'svc' : $tenant{$role};
	my $role_key = $role eq 'svc' ? pick(@all_keys) : $tenant{$role};
	my $tab = pick(qw(fz_key fz_key fz_vec));
	my $op = pick('<->', '<#>', '<=>');
	my ($q, $qkind) = query_vector();
	my $lim = pick(1, 3, 10, 10, 50, 200, 3000);
	my $use_keys = rand() < 0.5 ? 1 : 0;
	my $form = pick(qw(plain plain lateral cursor));
	$use_keys = 1 if $form eq 'lateral';
	my ($keys, $kkind) = $use_keys ? key_array($role_key) : ('NULL::uuid[]', 'none');
	my $tag = rand() < 0.2 ? int(rand(7)) : 'NULL';
	my $probes = pick(1, 2, 4, $lists, 20);
	my $eps = pick(0, 0.5, 1.9, 4);
	my $exact_limit = pick(0, 10, 2000);
	my $max_probes = pick(0, 0, 1, 3, $lists);
	my $iterative = pick('on', 'on', 'off');
	# may the scan reach every list: complete, LIMIT or all matching rows
	my $complete = ($qkind eq 'null' || $probes >= $lists
		  || ($iterative eq 'on' && ($max_probes == 0 || $max_probes >= $lists))) ? 'true' : 'false';
	# a small tenant ranked exactly from its postings: the exact distances
	my $strong = ($tab eq 'fz_key' && defined $fixed_rows{$role} && $exact_limit >= $fixed_rows{$role}
		  && $fixed_rows{$role} > 0) ? 'true' : 'false';
	$complete = 'true' if $strong eq 'true';
	$seen{"$tab $op $form $qkind"}++;
	$seen_strong++ if $strong eq 'true';
	$seen_complete++ if $complete eq 'true';
	my $settings = "SET LOCAL rabitq.probes = $probes; SET LOCAL rabitq.epsilon = $eps; "
	  . "SET LOCAL rabitq.exact_limit = $exact_limit; SET LOCAL rabitq.max_probes = $max_probes; "
	  . "SET LOCAL rabitq.iterative_scan = $iterative;";
	my $call = "fz_run('$tab', '$op', $q, $lim, " . ($use_keys ? 'true' : 'false')
	  . ", $keys, $tag, '$form', $complete, $strong)";
	$script .= "BEGIN ISOLATION LEVEL REPEATABLE READ;\nSET LOCAL ROLE \"$role_name\";\n$settings\n"
	  . "SELECT 'case $case: ' || coalesce($call, 'ok');\nCOMMIT;\n";
	$meta[$case] = "role $role, $settings\n  SELECT $call;";
}

my $t0 = time;
my ($out, $err, $timed_out) = ('', '', 0);
$node->psql('postgres', $script, stdout => \$out, stderr => \$err, extra_params => [ '-X', '-q' ],
	on_error_stop => 0, timeout => ($ENV{VECRABITQ_FUZZ_TIMEOUT} // 600), timed_out => \$timed_out);
my $secs = time - $t0;
$churn->kill_kill;
$node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'pgbench'");
$node->safe_psql('postgres', 'SELECT pg_stat_force_next_flush()');

my %result = map { /^case (\d+): (.*)$/ ? ($1 => $2) : () } split /\n/, $out;
for my $case (1 .. $cases)
{
	my $r = $result{$case} // 'no answer';
	push @failures, "case $case: $r\n  $meta[$case]" if $r ne 'ok';
}
ok(!$timed_out, 'fuzz: no case hung') or diag("after case " . (scalar(keys %result)) . ":\n  "
	  . ($meta[scalar(keys %result) + 1] // ''));
is(scalar(keys %result), $cases, "fuzz: all $cases cases answered (seed $seed, ${secs} s)");
is(scalar(@failures), 0, 'fuzz: every answer passed its checks') or diag(join("\n", @failures[0 .. ($#failures < 9 ? $#failures : 9)]));
is($err, '', 'fuzz: no query raised an error') or diag(substr($err, 0, 2000));
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|was terminated|server process .* exited with exit code [^0]/,
	'fuzz: no server process died');
my ($ins, $del, $vac) = split /\|/, $node->safe_psql('postgres',
	"SELECT n_tup_ins - 6000, n_tup_del, vacuum_count FROM pg_stat_user_tables WHERE relname = 'fz_key'");
cmp_ok($ins, '>', 100, "beside the fuzzer: $ins inserts, $del deletes, $vac VACUUMs of the key table");
SKIP:
{
	skip 'fewer than 2,000 cases: not every combination', 1 if $cases < 2000;
	is(scalar(keys %seen), 2 * 3 * 3 * 7, 'every combination of table, metric, form and query kind ran');
}
note("fuzz: $cases cases ($seen_complete expected complete, $seen_strong exact), seed $seed, $secs s, "
	  . scalar(@failures) . ' failures');

$node->stop;
