-- ALTER EXTENSION vecrabitq UPDATE: version 0.1.0's install script, an index
-- built under it, the update to the current version.  Afterwards the
-- extension has exactly the members (and the access method's comment) of a
-- fresh install, and the index still answers.  (This library writes and
-- reads on-disk format 3; an index written by 0.1.0's library, format 2, is
-- refused with a hint to REINDEX: test/t/007_check.pl.)
DROP EXTENSION vecrabitq;
CREATE EXTENSION vecrabitq VERSION '0.1.0';
CREATE TABLE up (id int, v vector(3));
INSERT INTO up SELECT i, ARRAY[i % 7, i % 5, i % 3]::vector FROM generate_series(1, 300) i;
CREATE INDEX up_v ON up USING rabitq (v) WITH (lists = 3);
ALTER EXTENSION vecrabitq UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'vecrabitq';
SET enable_seqscan = off;
SELECT count(*), min(v <-> '[1,1,1]') FROM (SELECT v FROM up ORDER BY v <-> '[1,1,1]' LIMIT 30) s;
RESET enable_seqscan;

CREATE FUNCTION pg_temp.members() RETURNS SETOF text LANGUAGE sql AS $$
	SELECT pg_describe_object(classid, objid, 0) FROM pg_depend
	WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
	  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vecrabitq')
	UNION ALL
	SELECT 'comment on access method rabitq: ' || obj_description(oid, 'pg_am') FROM pg_am WHERE amname = 'rabitq'
$$;
CREATE TEMP TABLE upgraded AS SELECT pg_temp.members() AS m;
DROP TABLE up;
DROP EXTENSION vecrabitq;
CREATE EXTENSION vecrabitq;
CREATE TEMP TABLE fresh AS SELECT pg_temp.members() AS m;
-- both directions: nothing only in one of them
(SELECT 'only upgraded' AS side, m FROM upgraded EXCEPT SELECT 'only upgraded', m FROM fresh)
UNION ALL
(SELECT 'only fresh', m FROM fresh EXCEPT SELECT 'only fresh', m FROM upgraded);
SELECT count(*) AS members FROM fresh;
