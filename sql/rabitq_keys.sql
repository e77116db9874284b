-- Key columns beyond one uuid: four keys of four types (smallint, bigint,
-- uuid, text) on an inner-product index; every combination of conditions is
-- an index condition and returns what exact search returns; a ninth key is
-- refused; a vector whose squared norm overflows real is refused at build;
-- keys whose postings share a hash; PostgreSQL's recheck of every row.
CREATE TABLE mk (id int PRIMARY KEY, a int2, b int8, c uuid, t text COLLATE "C", v vector(4));
INSERT INTO mk SELECT i, (i % 3)::int2, i % 5, ('0000000' || (i % 2) || '-0000-0000-0000-000000000000')::uuid,
	't' || (i % 4), ARRAY[i % 7, i % 11, i % 13, i % 17]::vector FROM generate_series(1, 1200) i;
CREATE INDEX mk_keys ON mk USING rabitq (a, b, c, t, v vector_ip_ops) WITH (lists = 4);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM mk
	WHERE a = 1 AND b = 2 AND c = '00000001-0000-0000-0000-000000000000' AND t = 't1'
	ORDER BY v <#> '[1,2,3,4]' LIMIT 5;
-- the rows (all of them, in order) and exact search's, per combination of
-- conditions: same count, same distances
CREATE FUNCTION mk_same(cond text) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE by_index float8[]; exact float8[];
BEGIN
	SET LOCAL enable_seqscan = off;
	EXECUTE format('SELECT array_agg(d) FROM (SELECT v <#> ''[1,2,3,4]'' AS d FROM mk WHERE %s
		ORDER BY v <#> ''[1,2,3,4]'' LIMIT 2000) s', cond) INTO by_index;
	SET LOCAL enable_seqscan = on;
	SET LOCAL enable_indexscan = off;
	EXECUTE format('SELECT array_agg(d) FROM (SELECT v <#> ''[1,2,3,4]'' AS d FROM mk WHERE %s
		ORDER BY v <#> ''[1,2,3,4]'' LIMIT 2000) s', cond) INTO exact;
	RETURN by_index IS NOT DISTINCT FROM exact;
END $$;
SELECT cond, mk_same(cond) FROM (VALUES
	('a = 1'), ('a = 1::int2'), ('b = 2'), ('b = 2::int4'), ('c = ''00000001-0000-0000-0000-000000000000'''),
	('t = ''t1'''), ('a = 1 AND b = 2'), ('a = 1 AND t = ''t3'''),
	('a = 1 AND b = 2 AND c = ''00000001-0000-0000-0000-000000000000'' AND t = ''t1'''),
	('a = ANY (''{0,2}'') AND b = 4'), ('a = 1 AND a = 2')) v(cond);
RESET enable_seqscan;
DROP FUNCTION mk_same(text);
-- at most 8 key columns besides the vector
CREATE TABLE nine (k1 int, k2 int, k3 int, k4 int, k5 int, k6 int, k7 int, k8 int, k9 int, v vector(2));
CREATE INDEX ON nine USING rabitq (k1, k2, k3, k4, k5, k6, k7, k8, v);
CREATE INDEX ON nine USING rabitq (k1, k2, k3, k4, k5, k6, k7, k8, k9, v);
\echo :LAST_ERROR_SQLSTATE
DROP TABLE nine;
-- a finite vector whose squared norm overflows real, met by a build
CREATE TABLE huge (v vector(3));
INSERT INTO huge VALUES ('[1,2,3]'), ('[3e38,3e38,3e38]');
CREATE INDEX ON huge USING rabitq (v);
\echo :LAST_ERROR_SQLSTATE
DROP TABLE huge;
DROP TABLE mk;
-- Two bigint keys whose postings share a hash: the same low 32 bits (what
-- a posting stores) and the same 12 bits above them (the bucket, for up to
-- 4,096 buckets).  The pair was found offline; the first query checks it
-- with PostgreSQL's own hash of the same eight bytes (a key image is the
-- value's little-endian bytes; these values' bytes are letters, so they
-- form a text that hashtextextended hashes byte for byte).  The exact path
-- looks up both keys' postings (the DEBUG1 count is what the data says
-- shares the hash) and keeps only the asked key's rows: no row reaches
-- PostgreSQL's recheck to be removed, and the rows are exact search's.
CREATE FUNCTION pg_temp.le(v int8) RETURNS text LANGUAGE sql
	AS $$ SELECT string_agg(chr(get_byte(int8send(v), 7 - i)), '' ORDER BY i) FROM generate_series(0, 7) i $$;
CREATE FUNCTION pg_temp.posting_hash(v int8) RETURNS int8 LANGUAGE sql
	AS $$ SELECT hashtextextended(pg_temp.le(v), 0) & x'00000fffffffffff'::int8 $$;
SELECT pg_temp.posting_hash(8825216290989896044) = pg_temp.posting_hash(7019820410123870569) AS same_hash,
	8825216290989896044 <> 7019820410123870569 AS different_keys;
CREATE TABLE coll (id int, k int8, v vector(2));
-- the other keys' bytes are letters too, so the oracle can hash every row
INSERT INTO coll SELECT i, CASE i % 3 WHEN 0 THEN 8825216290989896044 WHEN 1 THEN 7019820410123870569
	ELSE (SELECT sum((97 + (i / 26 ^ j)::int8 % 26)::int8 << (8 * j)) FROM generate_series(0, 7) j)::int8 END,
	ARRAY[i % 17, i % 23]::vector FROM generate_series(1, 600) i;
CREATE INDEX coll_k ON coll USING rabitq (k, v) WITH (lists = 2);
SELECT count(*) AS rows_sharing_the_hash FROM coll
	WHERE pg_temp.posting_hash(k) = pg_temp.posting_hash(8825216290989896044);
SET enable_seqscan = off;
SET client_min_messages = debug1;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
	SELECT id FROM coll WHERE k = 8825216290989896044 ORDER BY v <-> '[3,4]' LIMIT 500;
RESET client_min_messages;
CREATE TEMP TABLE by_index AS SELECT id, v <-> '[3,4]' AS d FROM coll
	WHERE k = 8825216290989896044 ORDER BY v <-> '[3,4]' LIMIT 500;
SET enable_seqscan = on;
SET enable_indexscan = off;
SELECT (SELECT array_agg(d ORDER BY d) FROM by_index) =
	(SELECT array_agg(v <-> '[3,4]' ORDER BY v <-> '[3,4]') FROM coll WHERE k = 8825216290989896044) AS same_distances,
	(SELECT count(*) FROM by_index b JOIN coll c USING (id) WHERE c.k <> 8825216290989896044) AS foreign_rows;
RESET enable_indexscan;
-- PostgreSQL, not the index, has the last word on every row the index
-- returns (xs_recheck): the condition's function runs again for each row
CREATE FUNCTION pg_temp.counted_key() RETURNS int8 STABLE LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('coll.calls', (coalesce(nullif(current_setting('coll.calls', true), ''), '0')::int + 1)::text, false);
	RETURN 8825216290989896044;
END $$;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM coll WHERE k = pg_temp.counted_key() ORDER BY v <-> '[3,4]' LIMIT 50) s;
SELECT current_setting('coll.calls')::int >= 50 AS rechecked_every_row;
RESET enable_seqscan;
DROP TABLE coll;
