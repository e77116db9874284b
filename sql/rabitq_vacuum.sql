-- VACUUM frees the lanes of dead rows and inserts refill them: deleting half
-- the rows, vacuuming and inserting as many again grows the index < 10 %.

SELECT setseed(0.3);
CREATE TABLE vac (id int, v vector(16));
INSERT INTO vac SELECT i, ARRAY(SELECT random() FROM generate_series(1, 16) WHERE i > 0)::vector
FROM generate_series(1, 20000) i;
CREATE INDEX vac_v ON vac USING rabitq (v) WITH (lists = 20);
CREATE TEMP TABLE sizes AS SELECT pg_relation_size('vac_v') AS built;

DELETE FROM vac WHERE id % 2 = 0;
VACUUM vac;
INSERT INTO vac SELECT i, ARRAY(SELECT random() FROM generate_series(1, 16) WHERE i > 0)::vector
FROM generate_series(20001, 30000) i;
SELECT pg_relation_size('vac_v') < 1.10 * built AS grew_less_than_10_percent,
	   pg_relation_size('vac_v') >= built AS no_page_was_lost
FROM sizes;

-- and every live row is in the index once
SET enable_seqscan = off;
SELECT count(*) = (SELECT count(*) FROM vac) AS all_rows, count(DISTINCT id) = count(*) AS once
FROM (SELECT id FROM vac ORDER BY v <-> NULL) s;
RESET enable_seqscan;

-- VACUUM with nothing to delete only counts: no page, lane or entry changes
CREATE TEMP TABLE before AS SELECT pg_relation_size('vac_v') AS size, s.* FROM rabitq_index_stats('vac_v') s;
VACUUM vac;
SELECT (SELECT size FROM before) = pg_relation_size('vac_v') AS same_size,
	   (SELECT (entries, dead_entries, free_lanes, free_bytes) FROM before) =
	   (SELECT (entries, dead_entries, free_lanes, free_bytes) FROM rabitq_index_stats('vac_v')) AS same_lanes;
DROP TABLE vac;
