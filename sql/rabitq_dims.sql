-- rabitq at the edges of the dimension range: 1, and up to 16,000 (records
-- of more than ~7,900 dimensions span several pages).

CREATE TABLE d1 (id int, v vector(1));
INSERT INTO d1 SELECT i, ARRAY[i]::vector FROM generate_series(1, 100) i;
CREATE INDEX ON d1 USING rabitq (v) WITH (lists = 3);
SET enable_seqscan = off;
SELECT array_agg(id) FROM (SELECT id FROM d1 ORDER BY v <-> '[42.2]' LIMIT 4) s;
RESET enable_seqscan;

CREATE FUNCTION big(n int, seed int) RETURNS vector LANGUAGE sql IMMUTABLE AS
$$ SELECT array_agg(sin(seed * 7 + i * 0.37))::vector FROM generate_series(1, n) i $$;

-- 8,000 dimensions: two items per record; 16,000: the most a vector has
CREATE TABLE d8k (id int, v vector(8000));
INSERT INTO d8k SELECT i, big(8000, i) FROM generate_series(1, 40) i;
CREATE INDEX d8k_v ON d8k USING rabitq (v) WITH (lists = 2);
CREATE TABLE d16k (id int, v vector(16000));
INSERT INTO d16k SELECT i, big(16000, i) FROM generate_series(1, 30) i;
CREATE INDEX d16k_v ON d16k USING rabitq (v) WITH (lists = 2);
INSERT INTO d16k SELECT i, big(16000, i) FROM generate_series(31, 45) i;
-- index results (every list probed) against exact search, for each width
CREATE FUNCTION nearest(tab regclass, q vector, k int, use_index bool) RETURNS int[]
LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
	EXECUTE format('SET LOCAL enable_seqscan = %s', NOT use_index);
	EXECUTE format('SET LOCAL enable_indexscan = %s', use_index);
	EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %s ORDER BY v <-> $1 LIMIT $2) s', tab)
		INTO r USING q, k;
	RETURN r;
END $$;
SET rabitq.probes = 2;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM d8k ORDER BY v <-> (SELECT v FROM d8k WHERE id = 17) LIMIT 3;
RESET enable_seqscan;
SELECT nearest('d8k', big(8000, 17), 5, true) AS d8k_index, nearest('d8k', big(8000, 17), 5, false) AS d8k_exact;
SELECT nearest('d16k', big(16000, 40), 5, true) = nearest('d16k', big(16000, 40), 5, false) AS d16k_same,
	   (nearest('d16k', big(16000, 40), 5, true))[1] AS first;
SET enable_seqscan = off;
SELECT array_agg(id) FROM (SELECT id FROM d16k ORDER BY v <=> big(16000, 5) LIMIT 1) s;
DELETE FROM d16k WHERE id % 3 = 0;
VACUUM d16k;
INSERT INTO d16k SELECT i, big(16000, i) FROM generate_series(46, 55) i;
SELECT count(*) FROM (SELECT id FROM d16k ORDER BY v <-> big(16000, 1)) s;
RESET rabitq.probes;
RESET enable_seqscan;
DROP TABLE d1, d8k, d16k;
DROP FUNCTION nearest(regclass, vector, int, bool);
DROP FUNCTION big(int, int);
