-- What a hostile tenant role can send: rescans that change the key filter,
-- vectors near the float limits, long `= ANY` arrays, partitioned tables,
-- hand-made aggregate states.  Each must end cleanly with a correct answer
-- or an error with an SQLSTATE; none may crash, hang or leak other rows.

SET client_min_messages = warning;
CREATE ROLE "a0000000-0000-0000-0000-000000000000";	-- 1,000 rows
CREATE ROLE "b0000000-0000-0000-0000-000000000000";	-- 9,000 rows
CREATE ROLE regress_hostile_owner;
RESET client_min_messages;
\set VERBOSITY sqlstate

SELECT setseed(0.25);
CREATE TABLE h_items (id int PRIMARY KEY, owner uuid NOT NULL, embedding vector(32) NOT NULL);
INSERT INTO h_items SELECT i,
	CASE WHEN i % 10 = 0 THEN 'a0000000-0000-0000-0000-000000000000'
		 ELSE 'b0000000-0000-0000-0000-000000000000' END::uuid,
	ARRAY(SELECT random() FROM generate_series(1, 32) WHERE i > 0)::vector
FROM generate_series(1, 10000) i;
ALTER TABLE h_items OWNER TO regress_hostile_owner;
ALTER TABLE h_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON h_items USING (owner = current_user::uuid);
GRANT SELECT ON h_items TO PUBLIC;
CREATE INDEX h_items_ov ON h_items USING rabitq (owner, embedding) WITH (lists = 20);

-- 1. A LATERAL rescan whose key filter is empty (NULL array) after one that
--    probed lists: the second scan starts from nothing, returns nothing.
SET ROLE "b0000000-0000-0000-0000-000000000000";
SELECT v.n, s.id IS NOT NULL AS found
FROM (VALUES (1, ARRAY[current_user::uuid]), (2, NULL), (3, '{}'), (4, ARRAY[current_user::uuid])) v(n, a)
LEFT JOIN LATERAL (SELECT id FROM h_items WHERE owner = ANY (v.a)
	ORDER BY embedding <-> array_fill(0.5, ARRAY[32])::real[]::vector LIMIT 1) s ON true
ORDER BY v.n;
-- ... and the same with the exact path turned off, and contradictory keys
SET rabitq.exact_limit = 0;
SELECT v.n, count(s.id)
FROM (VALUES (1, ARRAY[current_user::uuid]), (2, NULL), (3, ARRAY['a0000000-0000-0000-0000-000000000000'::uuid]),
			 (4, ARRAY[current_user::uuid, current_user::uuid])) v(n, a)
LEFT JOIN LATERAL (SELECT id FROM h_items WHERE owner = ANY (v.a)
	ORDER BY embedding <-> array_fill(0.5, ARRAY[32])::real[]::vector LIMIT 3) s ON true
GROUP BY v.n ORDER BY v.n;
RESET rabitq.exact_limit;

-- 2. Queries near the float limits, every metric: the scan ends with the
--    tenant's rows, and with every list probed it returns the k smallest
--    distances exact search finds (compared as distances: at 3e38 many are
--    infinite, and tied rows may come in any order).
SET rabitq.exact_limit = 0;
SET statement_timeout = '60s';
SELECT count(*), count(DISTINCT id), bool_and(owner = current_user::uuid)
FROM (SELECT id, owner FROM h_items
	  ORDER BY embedding <-> array_fill(3e38::real, ARRAY[32])::real[]::vector LIMIT 2000) s;
RESET ROLE;
CREATE INDEX h_items_ip ON h_items USING rabitq (owner, embedding vector_ip_ops) WITH (lists = 20);
CREATE INDEX h_items_cos ON h_items USING rabitq (owner, embedding vector_cosine_ops) WITH (lists = 20);
CREATE TABLE hq (n int, q vector(32));
INSERT INTO hq SELECT n, CASE n WHEN 1 THEN array_fill(3e38::real, ARRAY[32])
	WHEN 2 THEN array_fill(-3.4e38::real, ARRAY[32])
	WHEN 3 THEN array_fill(3e38::real, ARRAY[16]) || array_fill(-1e38::real, ARRAY[16])
	WHEN 4 THEN array_fill(1e36::real, ARRAY[32])	-- inner products finite, the query scaled inside
	WHEN 5 THEN array_fill(1e-45::real, ARRAY[32])	-- denormal
	ELSE array_fill(0::real, ARRAY[32]) END::vector	-- zero
FROM generate_series(1, 6) n;
GRANT SELECT ON hq TO PUBLIC;
-- whether the index plan returns the k smallest distances of a metric that
-- exact search (no index) finds, for the calling role
CREATE FUNCTION h_same(op text, q vector) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
	got float8[];
	want float8[];
	sql text := format('SELECT array_agg(d) FROM (SELECT embedding %s $1 AS d FROM h_items ORDER BY embedding %s $1 LIMIT 10) s', op, op);
BEGIN
	PERFORM set_config('enable_indexscan', 'on', true), set_config('enable_seqscan', 'off', true);
	EXECUTE sql INTO got USING q;
	PERFORM set_config('enable_indexscan', 'off', true), set_config('enable_seqscan', 'on', true);
	EXECUTE sql INTO want USING q;
	PERFORM set_config('enable_indexscan', 'on', true);
	RETURN got IS NOT DISTINCT FROM want AND cardinality(got) = 10;
END $$;
SET ROLE "b0000000-0000-0000-0000-000000000000";
SET rabitq.probes = 20;
SELECT n, op, h_same(op, q) FROM hq, (VALUES ('<->'), ('<#>'), ('<=>')) o(op) ORDER BY n, op;
RESET rabitq.probes;
RESET rabitq.exact_limit;
RESET statement_timeout;
RESET ROLE;
DROP INDEX h_items_ip, h_items_cos;

-- 3. Long and repeated `= ANY` arrays on the key column are intersected:
--    only the caller's own key survives the policy, duplicates count once.
SET ROLE "a0000000-0000-0000-0000-000000000000";
SELECT count(*), bool_and(owner = current_user::uuid)
FROM (SELECT id, owner FROM h_items
	  WHERE owner = ANY (ARRAY(SELECT md5(g::text)::uuid FROM generate_series(1, 70000) g) || current_user::uuid)
		AND owner = ANY (ARRAY(SELECT md5((g + 35000)::text)::uuid FROM generate_series(1, 70000) g)
						 || current_user::uuid || current_user::uuid)
	  ORDER BY embedding <-> array_fill(0.5, ARRAY[32])::real[]::vector LIMIT 30) s;
RESET ROLE;

-- 4. Scan statistics (DEBUG1) on a partitioned table with the policy on the
--    parent: none for a tenant, although its partitions have no policy of
--    their own (test/t/008_hostile.pl checks that the owner does get them).
CREATE TABLE h_parts (id int, owner uuid NOT NULL, embedding vector(32) NOT NULL) PARTITION BY HASH (id);
CREATE TABLE h_parts0 PARTITION OF h_parts FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE h_parts1 PARTITION OF h_parts FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO h_parts SELECT * FROM h_items;
ALTER TABLE h_parts OWNER TO regress_hostile_owner;
ALTER TABLE h_parts0 OWNER TO regress_hostile_owner;
ALTER TABLE h_parts1 OWNER TO regress_hostile_owner;
ALTER TABLE h_parts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON h_parts USING (owner = current_user::uuid);
GRANT SELECT ON h_parts TO PUBLIC;
SET client_min_messages = warning;
CREATE INDEX h_parts_ov ON h_parts USING rabitq (owner, embedding) WITH (lists = 10);
RESET client_min_messages;
SET ROLE "b0000000-0000-0000-0000-000000000000";
SET client_min_messages = debug1;
SELECT count(*) FROM (SELECT id FROM h_parts
	  ORDER BY embedding <-> array_fill(0.5, ARRAY[32])::real[]::vector LIMIT 3) s;
RESET client_min_messages;
RESET ROLE;

-- 5. An index expression long enough that the build's sampling and loading
--    each prepare it: both evaluate live state, and the check agrees.
CREATE INDEX h_expr ON h_items USING rabitq ((CASE WHEN id = 1 THEN 'k1' WHEN id = 2 THEN 'k2'
	WHEN id = 3 THEN 'k3' WHEN id = 4 THEN 'k4' WHEN id = 5 THEN 'k5' WHEN id = 6 THEN 'k6'
	WHEN id = 7 THEN 'k7' WHEN id = 8 THEN 'k8' WHEN id = 9 THEN 'k9' WHEN id = 10 THEN 'k10'
	WHEN id = 11 THEN 'k11' WHEN id = 12 THEN 'k12' WHEN id = 13 THEN 'k13' WHEN id = 14 THEN 'k14'
	WHEN id = 15 THEN 'k15' WHEN id = 16 THEN 'k16' WHEN id = 17 THEN 'k17' WHEN id = 18 THEN 'k18'
	WHEN id = 19 THEN 'k19' WHEN id = 20 THEN 'k20' WHEN id = 21 THEN 'k21' WHEN id = 22 THEN 'k22'
	ELSE 'other' END), (embedding::vector(32))) WITH (lists = 10);
SELECT rabitq_index_check('h_expr');
SELECT id FROM h_items WHERE (CASE WHEN id = 1 THEN 'k1' WHEN id = 2 THEN 'k2'
	WHEN id = 3 THEN 'k3' WHEN id = 4 THEN 'k4' WHEN id = 5 THEN 'k5' WHEN id = 6 THEN 'k6'
	WHEN id = 7 THEN 'k7' WHEN id = 8 THEN 'k8' WHEN id = 9 THEN 'k9' WHEN id = 10 THEN 'k10'
	WHEN id = 11 THEN 'k11' WHEN id = 12 THEN 'k12' WHEN id = 13 THEN 'k13' WHEN id = 14 THEN 'k14'
	WHEN id = 15 THEN 'k15' WHEN id = 16 THEN 'k16' WHEN id = 17 THEN 'k17' WHEN id = 18 THEN 'k18'
	WHEN id = 19 THEN 'k19' WHEN id = 20 THEN 'k20' WHEN id = 21 THEN 'k21' WHEN id = 22 THEN 'k22'
	ELSE 'other' END) = 'k7' ORDER BY embedding::vector(32) <-> array_fill(0.5, ARRAY[32])::real[]::vector LIMIT 3;
DROP INDEX h_expr;

-- 6. NaN never enters a vector, not even through a hand-made avg state.
SELECT vector_avg('{1,NaN,2}'::float8[]);
\echo :LAST_ERROR_SQLSTATE
SELECT vector_avg('{1,Infinity,2}'::float8[]);
\echo :LAST_ERROR_SQLSTATE
SELECT vector_avg('{2,1,4}'::float8[]);

-- 7. The inspection functions refuse a partitioned index with a hint, and
--    read each partition's index.
SELECT rabitq_index_stats('h_parts_ov');
\echo :LAST_ERROR_SQLSTATE
SELECT rabitq_index_check('h_parts_ov');
\echo :LAST_ERROR_SQLSTATE
SELECT sum(entries) FROM pg_partition_tree('h_parts_ov') t, rabitq_index_stats(t.relid) WHERE t.isleaf;

-- 8. One row far from every centroid does not move the drift statistic:
--    each entry counts at most ten times the build's mean.
SELECT round(drift::numeric, 2) AS drift, reindex_advised FROM rabitq_index_stats('h_items_ov');
INSERT INTO h_items VALUES (10001, 'a0000000-0000-0000-0000-000000000000', array_fill(3e18::real, ARRAY[32]));
SELECT drift < 1.01 AS drift_unmoved, reindex_advised FROM rabitq_index_stats('h_items_ov');

DROP TABLE h_items, h_parts, hq;
DROP FUNCTION h_same;
DROP ROLE "a0000000-0000-0000-0000-000000000000", "b0000000-0000-0000-0000-000000000000",
	regress_hostile_owner;
