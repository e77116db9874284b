-- rabitq scans: plans, and exact results on small data for every metric.

SELECT setseed(0.2);
CREATE TABLE items (id int PRIMARY KEY, v vector(16));
INSERT INTO items SELECT i, ARRAY(SELECT random() * 2 - 1 FROM generate_series(1, 16) WHERE i > 0)::vector
FROM generate_series(1, 2000) i;
CREATE TABLE queries (qid int, q vector(16));
INSERT INTO queries SELECT i, ARRAY(SELECT random() * 2 - 1 FROM generate_series(1, 16) WHERE i > 0)::vector
FROM generate_series(1, 20) i;

-- Probing every list at the default settings must give exactly the exact
-- search's rows, in its order: the refining codes' bounds, wide enough that
-- a violated one is vanishingly rare, lose no row.
CREATE FUNCTION top_ids(op text, qv vector, k int, use_index bool) RETURNS int[]
LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
	EXECUTE format('SET LOCAL enable_seqscan = %s', NOT use_index);
	EXECUTE format('SET LOCAL enable_indexscan = %s', use_index);
	EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM items ORDER BY v %s $1 LIMIT $2) s', op)
		INTO r USING qv, k;
	RETURN r;
END $$;

CREATE INDEX items_l2 ON items USING rabitq (v vector_l2_ops) WITH (lists = 8);
CREATE INDEX items_ip ON items USING rabitq (v vector_ip_ops) WITH (lists = 8);
CREATE INDEX items_cos ON items USING rabitq (v vector_cosine_ops) WITH (lists = 8);
SET rabitq.probes = 8;
SELECT op, bool_and(top_ids(op, q, 25, true) = top_ids(op, q, 25, false)) AS same_as_exact
FROM queries, (VALUES ('<->'), ('<#>'), ('<=>')) ops(op) GROUP BY op ORDER BY op;

-- distances never go backwards within the first epoch (here: the 1,900
-- nearest of 2,000 rows)
CREATE FUNCTION never_backwards(op text, k int) RETURNS bool
LANGUAGE plpgsql AS $$
DECLARE d float8[];
BEGIN
	SET LOCAL enable_seqscan = off;
	EXECUTE format('SELECT array_agg(d) FROM (SELECT v %1$s (SELECT q FROM queries WHERE qid = 1) AS d
					FROM items ORDER BY v %1$s (SELECT q FROM queries WHERE qid = 1) LIMIT $1) s', op)
		INTO d USING k;
	RETURN cardinality(d) = k AND NOT EXISTS (SELECT FROM generate_subscripts(d, 1) i WHERE i > 1 AND d[i] < d[i - 1]);
END $$;
SELECT never_backwards('<->', 1900) AS l2, never_backwards('<#>', 1900) AS ip, never_backwards('<=>', 1900) AS cosine;
SET enable_seqscan = off;

-- default probes: still the right nearest rows for most queries
RESET rabitq.probes;
SELECT count(*) FILTER (WHERE top_ids('<->', q, 10, true) = top_ids('<->', q, 10, false)) >= 15 AS mostly_exact
FROM queries;

-- plans: the index for ORDER BY distance LIMIT, never without the ORDER BY
RESET enable_seqscan;
ANALYZE items;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <-> '[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <#> '[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <=> '[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM items;
-- L1 distance has no rabitq operator class
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <+> '[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10;
RESET enable_seqscan;

-- rows inserted after the build are found, deleted rows never come back
SET enable_seqscan = off;
SET rabitq.probes = 8;
INSERT INTO items VALUES (5001, '[9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9]');
SELECT id FROM items ORDER BY v <-> '[9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9]' LIMIT 1;
DELETE FROM items WHERE id = 5001;
-- the deleted row is gone; what comes first is exact search's nearest (by distance: ties)
SELECT id AS first_id, v <-> '[9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9]' AS first_d FROM items
	ORDER BY v <-> '[9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9]' LIMIT 1 \gset
SELECT :first_id <> 5001 AS deleted_row_gone,
	:first_d = (SELECT min(v <-> '[9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9]') FROM items) AS exact_nearest;
VACUUM items;
SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> '[9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9]') s;

-- a NULL query has no order: every row, no error
SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> NULL) s;
SELECT count(*) FROM (SELECT id FROM items ORDER BY v <=> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]') s;
-- rows with a NULL vector are not in the index (as in pgvector)
INSERT INTO items VALUES (6000, NULL);
SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> '[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]') s;
DELETE FROM items WHERE id = 6000;

-- a rescan per outer row (LATERAL) gives each query its own nearest rows
SELECT qid, n.id = (SELECT id FROM items ORDER BY v <-> q LIMIT 1) AS nearest_matches
FROM queries, LATERAL (SELECT id FROM items ORDER BY v <-> q LIMIT 1) n WHERE qid <= 3 ORDER BY qid;

-- iterative scan: a filter that keeps 1 row in 50 still gets LIMIT rows
SET rabitq.probes = 1;
SELECT count(*) FROM (SELECT id FROM items WHERE id % 50 = 0
					  ORDER BY v <-> '[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 30) s;
SET rabitq.iterative_scan = off;
SELECT count(*) BETWEEN 1 AND 29 AS stops_at_probes FROM (SELECT id FROM items WHERE id % 50 = 0
					  ORDER BY v <-> '[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 30) s;
RESET rabitq.iterative_scan;
SET rabitq.max_probes = 2;
SELECT count(*) BETWEEN 1 AND 29 AS stops_at_max_probes FROM (SELECT id FROM items WHERE id % 50 = 0
					  ORDER BY v <-> '[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 30) s;
RESET rabitq.max_probes;
RESET rabitq.probes;
RESET enable_seqscan;
DROP FUNCTION top_ids(text, vector, int, bool);
DROP FUNCTION never_backwards(text, int);

-- an empty table builds a valid index that accepts inserts
CREATE TABLE empty (id int, v vector(4));
CREATE INDEX empty_v ON empty USING rabitq (v);
INSERT INTO empty SELECT i, ARRAY[i, 0, 0, 1]::vector FROM generate_series(1, 100) i;
SET enable_seqscan = off;
SELECT array_agg(id) FROM (SELECT id FROM empty ORDER BY v <-> '[50,0,0,1]' LIMIT 3) s;
RESET enable_seqscan;

-- unlogged tables, expression and partial indexes
CREATE UNLOGGED TABLE ul (id int, v vector(4));
INSERT INTO ul SELECT i, ARRAY[i, 1, 2, 3]::vector FROM generate_series(1, 300) i;
CREATE INDEX ON ul USING rabitq (v) WITH (lists = 2);
CREATE TABLE ex (id int, v vector);
INSERT INTO ex SELECT i, ARRAY[i, 1, 2]::vector FROM generate_series(1, 300) i;
CREATE INDEX ex_v ON ex USING rabitq ((v::vector(3))) WITH (lists = 2);
CREATE INDEX ul_part ON ul USING rabitq (v) WITH (lists = 2) WHERE id > 150;
SET enable_seqscan = off;
SELECT id FROM ul ORDER BY v <-> '[10.2,1,2,3]' LIMIT 2;   -- 10, 11 (no ties)
SELECT id FROM ex ORDER BY v::vector(3) <-> '[10.2,1,2]' LIMIT 2;
EXPLAIN (COSTS OFF) SELECT id FROM ul WHERE id > 150 ORDER BY v <-> '[10,1,2,3]' LIMIT 2;
SELECT id FROM ul WHERE id > 150 ORDER BY v <-> '[10,1,2,3]' LIMIT 2;
RESET enable_seqscan;
DROP TABLE items, queries, empty, ul, ex;
