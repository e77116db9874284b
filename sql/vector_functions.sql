-- Distances, norms, arithmetic, comparison and aggregates.

-- Distances on small exact cases, by function and by operator.
SELECT l2_distance('[0,0]', '[3,4]'), '[0,0]'::vector <-> '[3,4]';
SELECT l2_distance('[1,2,3]', '[1,2,3]');
SELECT vector_l2_squared_distance('[0,0]', '[3,4]');
SELECT inner_product('[1,2]', '[3,4]'), '[1,2]'::vector <#> '[3,4]';
SELECT cosine_distance('[1,2]', '[2,4]'), '[1,2]'::vector <=> '[2,4]';
SELECT cosine_distance('[1,0]', '[0,2]'), cosine_distance('[1,1]', '[-1,-1]');
SELECT l1_distance('[0,0]', '[3,-4]'), '[0,0]'::vector <+> '[3,-4]';

-- Cosine distance of a zero vector is NaN (as in pgvector), never an error.
SELECT cosine_distance('[0,0]', '[1,1]'), cosine_distance('[0,0]', '[0,0]');
-- The similarity is clamped to [-1, 1].
SELECT cosine_distance('[1,1,1]', '[1,1,1]') >= 0 AS clamped;
-- parallel vectors: rounding can put their similarity above 1; the clamp keeps
-- every distance at or above 0 (2,000 seeded random pairs)
SELECT setseed(0.5);
SELECT bool_and(d >= 0) AS never_negative, max(d) < 1e-6 AS all_near_zero FROM (
	SELECT a <=> (SELECT array_agg(x * k)::vector FROM unnest(a::real[]) x) AS d
	FROM (SELECT (SELECT array_agg(random()::real) FROM generate_series(1, 37) WHERE g > 0)::vector AS a,
				 1 + random() * 7 AS k
		  FROM generate_series(1, 2000) g) s) t;

-- Different dimensions are an error for every binary function.
SELECT l2_distance('[1,2]', '[1,2,3]');
\echo :LAST_ERROR_SQLSTATE
SELECT '[1,2]'::vector <#> '[1,2,3]';
\echo :LAST_ERROR_SQLSTATE
SELECT '[1,2]'::vector <=> '[1,2,3]';
\echo :LAST_ERROR_SQLSTATE
SELECT '[1,2]'::vector <+> '[1,2,3]';
\echo :LAST_ERROR_SQLSTATE
SELECT '[1,2]'::vector + '[1,2,3]';
\echo :LAST_ERROR_SQLSTATE

-- Against a double-precision reference computed from the arrays: random
-- vectors up to 2000 dimensions (relative error of float accumulation).
SELECT setseed(0.5);
CREATE TEMP TABLE pairs AS
SELECT i, array_agg((random() * 2 - 1)::real) AS a, array_agg((random() * 2 - 1)::real) AS b
FROM generate_series(1, 60) i, generate_series(1, (i * 37) % 2000 + 1) j GROUP BY i;
CREATE TEMP TABLE refs AS
SELECT i, a::vector AS va, b::vector AS vb,
	   (SELECT sqrt(sum((x::float8 - y::float8) ^ 2)) FROM unnest(a, b) u(x, y)) AS l2,
	   (SELECT sum(x::float8 * y::float8) FROM unnest(a, b) u(x, y)) AS ip,
	   (SELECT sum(abs(x::float8 * y::float8)) FROM unnest(a, b) u(x, y)) AS ip_abs,
	   (SELECT sum(abs(x::float8 - y::float8)) FROM unnest(a, b) u(x, y)) AS l1,
	   (SELECT 1 - sum(x::float8 * y::float8) /
			   sqrt(sum(x::float8 ^ 2) * sum(y::float8 ^ 2)) FROM unnest(a, b) u(x, y)) AS cos,
	   (SELECT sqrt(sum(x::float8 ^ 2)) FROM unnest(a) u(x)) AS norm,
	   cardinality(a) AS n
FROM pairs;
SELECT count(*) AS pairs,
	   bool_and(abs((va <-> vb) - l2) <= 1e-5 * l2) AS l2_ok,
	   bool_and(abs(-(va <#> vb) - ip) <= 1e-7 * n * ip_abs) AS ip_ok,
	   bool_and(abs(inner_product(va, vb) - ip) <= 1e-7 * n * ip_abs) AS ip_fn_ok,
	   bool_and(abs((va <=> vb) - cos) <= 1e-5) AS cos_ok,
	   bool_and(abs((va <+> vb) - l1) <= 1e-5 * l1) AS l1_ok,
	   bool_and(abs(vector_norm(va) - norm) <= 1e-12 * norm) AS norm_ok,
	   bool_and(vector_dims(va) = n) AS dims_ok
FROM refs;

-- Norms and normalisation.
SELECT vector_dims('[1,2,3]'), vector_norm('[3,4]'), vector_norm('[0,0]');
SELECT l2_normalize('[3,4]'), l2_normalize('[0,0]'), l2_normalize('[-5]');
SELECT vector_norm(l2_normalize('[1,2,3,4,5]')) BETWEEN 0.999999 AND 1.000001 AS unit;

-- Element-wise arithmetic, concatenation and subvectors.
SELECT '[1,2,3]'::vector + '[4,5,6]', '[1,2,3]'::vector - '[4,5,6]', '[1,2,3]'::vector * '[4,5,6]';
SELECT '[1,2]'::vector || '[3]';
SELECT subvector('[1,2,3,4,5]', 2, 3), subvector('[1,2,3,4,5]', 0, 2), subvector('[1,2,3,4,5]', 4, 10);
SELECT subvector('[1,2,3]', 4, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT subvector('[1,2,3]', 1, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT subvector('[1,2,3]', 2147483647, 2147483647);
\echo :LAST_ERROR_SQLSTATE
SELECT '[3e38]'::vector + '[3e38]';
\echo :LAST_ERROR_SQLSTATE
SELECT '[-3e38]'::vector - '[3e38]';
\echo :LAST_ERROR_SQLSTATE
SELECT '[1e30]'::vector * '[1e30]';
\echo :LAST_ERROR_SQLSTATE
SELECT '[1e-30]'::vector * '[1e-30]';
\echo :LAST_ERROR_SQLSTATE
SELECT array_fill(1, ARRAY[8000])::vector || array_fill(1, ARRAY[8001])::vector;
\echo :LAST_ERROR_SQLSTATE

-- Comparison operators and the btree operator class.
SELECT '[1,2]'::vector < '[1,3]', '[1,2]'::vector < '[1,2,0]', '[2]'::vector > '[1,9,9]';
SELECT '[1,2]'::vector = '[1,2]', '[1,2]'::vector <> '[1,2]', '[0]'::vector = '[-0]';
SELECT '[1,2]'::vector <= '[1,2]', '[1,2]'::vector >= '[1,3]';
CREATE TEMP TABLE cmp (v vector);
INSERT INTO cmp VALUES ('[1,2,3]'), ('[1,2]'), ('[1,2,4]'), ('[0,5]'), ('[1,2,3]'), ('[-1]');
SELECT v FROM cmp ORDER BY v;
SELECT DISTINCT v FROM cmp ORDER BY v DESC;
CREATE UNIQUE INDEX cmp_v ON cmp (v);
\echo :LAST_ERROR_SQLSTATE
DELETE FROM cmp WHERE ctid = (SELECT max(ctid) FROM cmp WHERE v = '[1,2,3]');
CREATE UNIQUE INDEX cmp_v ON cmp (v);
INSERT INTO cmp VALUES ('[1,2,3]');
\echo :LAST_ERROR_SQLSTATE
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT v FROM cmp WHERE v = '[0,5]';
SELECT v FROM cmp WHERE v = '[0,5]';
RESET enable_seqscan;

-- Aggregates.
SELECT avg(v), sum(v) FROM (VALUES ('[1,2,3]'::vector), ('[3,5,7]'), (NULL)) t(v);
SELECT avg(v), sum(v) FROM (VALUES (NULL::vector)) t(v);
SELECT avg(v) FROM cmp WHERE false;
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);
\echo :LAST_ERROR_SQLSTATE
SELECT sum(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);
\echo :LAST_ERROR_SQLSTATE
SELECT g % 2 AS grp, avg(ARRAY[g, -g]::vector), sum(ARRAY[g, 1]::vector)
FROM generate_series(1, 10) g GROUP BY g % 2 ORDER BY 1;
SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
\echo :LAST_ERROR_SQLSTATE

-- Parallel aggregation gives the same result as serial (integer sums are exact).
CREATE TABLE agg_rows AS SELECT ARRAY[g % 97, g % 13, 1]::vector AS v FROM generate_series(1, 50000) g;
ANALYZE agg_rows;
SELECT avg(v) AS serial_avg, sum(v) AS serial_sum FROM agg_rows;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM agg_rows;
SELECT avg(v) AS parallel_avg, sum(v) AS parallel_sum FROM agg_rows;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP TABLE agg_rows;

-- The avg() state functions check the state they are given.
SELECT vector_accum('{0}', '[1,2]'), vector_accum('{1,5,5}', '[1,2]');
SELECT vector_combine('{1,1,1}', '{2,2,2}'), vector_combine('{0}', '{2,2,2}');
SELECT vector_avg('{4,2,6}'), vector_avg('{0}');
SELECT vector_accum('{1,5}', '[1,2]');
\echo :LAST_ERROR_SQLSTATE
SELECT vector_accum('{}', '[1,2]');
\echo :LAST_ERROR_SQLSTATE
SELECT vector_accum('{{1,2}}', '[1]');
\echo :LAST_ERROR_SQLSTATE
SELECT vector_accum('{0,5}', '[1]');
\echo :LAST_ERROR_SQLSTATE
SELECT vector_accum('{-1,5}', '[1]');
\echo :LAST_ERROR_SQLSTATE
SELECT vector_combine('{1,1,1}', '{1,1}');
\echo :LAST_ERROR_SQLSTATE
