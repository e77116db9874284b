-- Key columns beyond one uuid: four keys of four types (smallint, bigint,
-- uuid, text) on an inner-product index; every combination of conditions is
-- an index condition and returns what exact search returns; a ninth key is
-- refused; a vector whose squared norm overflows real is refused at build.
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
