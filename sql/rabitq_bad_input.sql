-- Bad input through every entry path into an indexed table: each attempt is a
-- clean error, and the table and its indexes are unchanged afterwards.

CREATE TABLE bad (id int PRIMARY KEY, owner int, v vector(3));
INSERT INTO bad SELECT i, i % 3, ARRAY[i, i % 7 + 1, i % 5 + 1]::vector FROM generate_series(1, 300) i;
CREATE INDEX bad_l2 ON bad USING rabitq (v) WITH (lists = 2);
CREATE INDEX bad_cos ON bad USING rabitq (owner, v vector_cosine_ops) WITH (lists = 2);
CREATE TABLE snapshot AS SELECT count(*) AS n, rabitq_index_check('bad_l2') AS l2,
	rabitq_index_check('bad_cos') AS cos FROM bad;

-- text literals
INSERT INTO bad VALUES (1001, 1, '[1,2');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO bad VALUES (1002, 1, '[1,,2]');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO bad VALUES (1003, 1, '[]');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO bad VALUES (1004, 1, '[NaN,1,2]');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO bad VALUES (1005, 1, '[Infinity,1,2]');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO bad VALUES (1006, 1, '[1e39,1,2]');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO bad VALUES (1007, 1, '[1,2,3,4]');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO bad VALUES (1008, 1, '[1,2]');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO bad VALUES (1009, 1, '[1,2,3]x');
\echo :LAST_ERROR_SQLSTATE
-- zero and huge dimensions, wrong typmods
INSERT INTO bad VALUES (1010, 1, array_fill(1, ARRAY[16001])::vector);
\echo :LAST_ERROR_SQLSTATE
SELECT '[1,2,3]'::vector(0);
\echo :LAST_ERROR_SQLSTATE
SELECT '[1,2,3]'::vector(16001);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO bad VALUES (1011, 1, '[1,2,3]'::vector(4));
\echo :LAST_ERROR_SQLSTATE
-- array casts
INSERT INTO bad VALUES (1012, 1, ARRAY[1, NULL, 3]::vector);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO bad VALUES (1013, 1, ARRAY['NaN', 1, 2]::real[]::vector);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO bad VALUES (1014, 1, ARRAY[1, 2, 3, 4]::vector);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO bad VALUES (1015, 1, '{}'::real[]::vector);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO bad VALUES (1016, 1, ARRAY[[1, 2], [3, 4]]::vector);
\echo :LAST_ERROR_SQLSTATE
-- arithmetic results
INSERT INTO bad VALUES (1017, 1, '[3e38,1,1]'::vector + '[3e38,1,1]');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO bad VALUES (1018, 1, '[3e38,1,1]'::vector * '[10,1,1]');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO bad VALUES (1019, 1, '[1,2,3]'::vector + '[1,2]');
\echo :LAST_ERROR_SQLSTATE
-- a finite vector so large its squared norm overflows real is refused (here
-- by the L2 index: the cosine index normalizes it)
INSERT INTO bad VALUES (1021, 1, '[3e38,3e38,3e38]');
\echo :LAST_ERROR_SQLSTATE
-- updates go through the same checks
UPDATE bad SET v = '[1,2]' WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
UPDATE bad SET v = v + '[3e38,3e38,3e38]' WHERE id = 3;
\echo :LAST_ERROR_SQLSTATE

-- nothing changed: the same rows, and once VACUUM has cleared the entries a
-- failed statement left for its aborted row, the same index entries (and the
-- indexes pass their check)
VACUUM (INDEX_CLEANUP ON) bad;
SELECT s.n = (SELECT count(*) FROM bad) AS same_rows,
	   s.l2 = rabitq_index_check('bad_l2') AND s.cos = rabitq_index_check('bad_cos') AS same_entries
FROM snapshot s;
SELECT count(*) FROM bad WHERE id > 1000;
SELECT v FROM bad WHERE id IN (1, 2, 3) ORDER BY id;

DROP TABLE bad, snapshot;

-- no SQL command scans a rabitq index with a non-MVCC snapshot: the two that
-- could (an exclusion constraint, CLUSTER) are refused before any scan
CREATE TABLE excl (v vector(3), EXCLUDE USING rabitq (v WITH <->));
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE clu (v vector(3));
CREATE INDEX clu_v ON clu USING rabitq (v);
CLUSTER clu USING clu_v;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE clu;
