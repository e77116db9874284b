-- rabitq: index options, settings and the errors users can cause.

CREATE TABLE opt (id int, v vector(3));
INSERT INTO opt SELECT i, ARRAY[i % 10, i % 7, i % 3]::vector FROM generate_series(1, 500) i;

-- lists: 1..32768, 0 or omitted means derived from the row count (with a NOTICE)
CREATE INDEX ON opt USING rabitq (v) WITH (lists = -1);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON opt USING rabitq (v) WITH (lists = 32769);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON opt USING rabitq (v) WITH (lists = 'many');
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON opt USING rabitq (v) WITH (probes = -1);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON opt USING rabitq (v) WITH (probes = 32769);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON opt USING rabitq (v) WITH (depth = 3);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX opt_auto ON opt USING rabitq (v);
CREATE INDEX opt_zero ON opt USING rabitq (v) WITH (lists = 0);
CREATE INDEX opt_set ON opt USING rabitq (v) WITH (lists = 5, probes = 2);
SELECT relname, reloptions FROM pg_class WHERE relname LIKE 'opt_%' ORDER BY relname;
-- changing probes needs no rebuild (its effect on scans: the end of this file)
ALTER INDEX opt_set SET (probes = 3);
SELECT reloptions FROM pg_class WHERE relname = 'opt_set';
ALTER INDEX opt_set SET (probes = 0);
SELECT reloptions FROM pg_class WHERE relname = 'opt_set';
ALTER INDEX opt_set RESET (probes);
SELECT reloptions FROM pg_class WHERE relname = 'opt_set';

-- ex_bits: 0..7 bits per dimension beyond the 1-bit code (0: no refining
-- codes); like lists, a change takes effect when the index is rebuilt
CREATE INDEX ON opt USING rabitq (v) WITH (ex_bits = -1);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON opt USING rabitq (v) WITH (ex_bits = 8);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX opt_ex0 ON opt USING rabitq (v) WITH (lists = 5, ex_bits = 0);
CREATE INDEX opt_ex7 ON opt USING rabitq (v) WITH (lists = 5, ex_bits = 7);
-- 8-bit codes of 16,000 dimensions do not fit a page: refused with the fix
CREATE TABLE wide16 (v vector(16000));
CREATE INDEX ON wide16 USING rabitq (v) WITH (ex_bits = 7);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX wide16_v ON wide16 USING rabitq (v) WITH (ex_bits = 3);
DROP TABLE wide16;
ALTER INDEX opt_ex0 SET (ex_bits = 3);
SET enable_seqscan = off;
SET rabitq.probes = 5;
SELECT array_agg(id) FROM (SELECT id FROM opt ORDER BY v <-> '[2,3,1]', id LIMIT 5) s;
DROP INDEX opt_ex0;
SELECT array_agg(id) FROM (SELECT id FROM opt ORDER BY v <-> '[2,3,1]', id LIMIT 5) s;
SELECT rabitq_index_check('opt_ex7');
DROP INDEX opt_ex7;
RESET enable_seqscan;
RESET rabitq.probes;

-- too little data for the lists asked for
CREATE INDEX opt_many ON opt USING rabitq (v) WITH (lists = 100);
DROP INDEX opt_auto, opt_zero, opt_set, opt_many;

-- settings: defaults and bounds
SHOW rabitq.probes;
SHOW rabitq.epsilon;
SHOW rabitq.ex_epsilon;
SHOW rabitq.iterative_scan;
SHOW rabitq.max_probes;
SET rabitq.probes = -1;
\echo :LAST_ERROR_SQLSTATE
SET rabitq.probes = 32769;
\echo :LAST_ERROR_SQLSTATE
SET rabitq.epsilon = -0.1;
\echo :LAST_ERROR_SQLSTATE
SET rabitq.epsilon = 10.1;
\echo :LAST_ERROR_SQLSTATE
SET rabitq.epsilon = 2.5;
SET rabitq.ex_epsilon = -1;
\echo :LAST_ERROR_SQLSTATE
SET rabitq.ex_epsilon = 10.1;
\echo :LAST_ERROR_SQLSTATE
SET rabitq.ex_epsilon = 3;
SET rabitq.iterative_scan = maybe;
\echo :LAST_ERROR_SQLSTATE
SET rabitq.iterative_scan = off;
SET rabitq.max_probes = -1;
\echo :LAST_ERROR_SQLSTATE
SET rabitq.max_probes = 40000;
\echo :LAST_ERROR_SQLSTATE
SET rabitq.no_such_setting = 1;
\echo :LAST_ERROR_SQLSTATE
RESET rabitq.epsilon;
RESET rabitq.ex_epsilon;
RESET rabitq.iterative_scan;

-- the column needs dimensions
CREATE TABLE nodim (v vector);
CREATE INDEX ON nodim USING rabitq (v);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON nodim USING rabitq ((v::vector(3)));
DROP TABLE nodim;

-- other types cannot be indexed
CREATE TABLE other (x real[]);
CREATE INDEX ON other USING rabitq (x);
\echo :LAST_ERROR_SQLSTATE
DROP TABLE other;

-- zero vectors have no cosine distance (NaN): as in pgvector, the row is
-- stored but left out of the cosine index, at build and at insert, and the
-- check agrees; L2 and inner product index it
CREATE TABLE zeros (id int, v vector(3));
INSERT INTO zeros VALUES (1, '[1,2,3]'), (2, '[0,0,0]');
CREATE INDEX zeros_cos ON zeros USING rabitq (v vector_cosine_ops);
INSERT INTO zeros VALUES (3, '[0,0,0]'), (4, '[3,2,1]');
SELECT id FROM zeros ORDER BY id;
SET enable_seqscan = off;
SELECT id FROM zeros ORDER BY v <=> '[1,1,2]';
SELECT rabitq_index_check('zeros_cos');
DROP INDEX zeros_cos;
CREATE INDEX zeros_l2 ON zeros USING rabitq (v vector_l2_ops);
SELECT count(*) FROM (SELECT id FROM zeros ORDER BY v <-> '[1,1,1]') s;
RESET enable_seqscan;
DROP TABLE zeros;

-- a query of other dimensions
SET enable_seqscan = off;
CREATE INDEX opt_v ON opt USING rabitq (v) WITH (lists = 4);
SELECT id FROM opt ORDER BY v <-> '[1,2]' LIMIT 1;
\echo :LAST_ERROR_SQLSTATE
RESET enable_seqscan;

-- memory is checked against maintenance_work_mem before allocating
CREATE TABLE wide (v vector(768));
INSERT INTO wide SELECT array_fill(i::real, ARRAY[768])::vector FROM generate_series(1, 3000) i;
SET maintenance_work_mem = '1MB';
CREATE INDEX ON wide USING rabitq (v) WITH (lists = 300);
\echo :LAST_ERROR_SQLSTATE
RESET maintenance_work_mem;
DROP TABLE wide;

DROP TABLE opt;

-- the probes option is the index's default for rabitq.probes: a scan that
-- does not iterate returns the rows of the lists it probes, so its row count
-- under the option equals the count under the same setting, and grows with
-- it; without the option, 2 * sqrt(lists) lists (8 of 16)
CREATE TABLE popt (id int, v vector(3));
INSERT INTO popt SELECT i, ARRAY[i % 10, i % 7, i % 3]::vector FROM generate_series(1, 800) i;
CREATE INDEX popt_v ON popt USING rabitq (v) WITH (lists = 16, probes = 1);
CREATE FUNCTION popt_rows() RETURNS bigint LANGUAGE sql
	AS $$SELECT count(*) FROM (SELECT id FROM popt ORDER BY v <-> '[5,3,1]' LIMIT 1000) s$$;
SET enable_seqscan = off;
SET rabitq.iterative_scan = off;
SELECT popt_rows() AS option_1 \gset
SET rabitq.probes = 1;
SELECT popt_rows() = :option_1 AS same_as_setting_1, :option_1 BETWEEN 1 AND 799 AS some_not_all;
RESET rabitq.probes;
ALTER INDEX popt_v SET (probes = 16);
SELECT popt_rows() AS option_16_all_rows;
ALTER INDEX popt_v RESET (probes);
SELECT popt_rows() AS derived \gset
SET rabitq.probes = 8;
SELECT popt_rows() = :derived AS derived_is_8, :derived > :option_1 AS more_than_1;
RESET rabitq.probes;
RESET rabitq.iterative_scan;
RESET enable_seqscan;
DROP TABLE popt;
DROP FUNCTION popt_rows();

-- reindex_advised once the index holds more than twice the rows it was built
-- on, and at least 10,000 (new rows like the old: drift stays near 1)
CREATE TABLE grow (v vector(2));
INSERT INTO grow SELECT ARRAY[i % 100, i % 37]::vector FROM generate_series(1, 4000) i;
CREATE INDEX grow_v ON grow USING rabitq (v) WITH (lists = 4);
SELECT build_rows, entries, reindex_advised FROM rabitq_index_stats('grow_v');
INSERT INTO grow SELECT ARRAY[i % 100, i % 37]::vector FROM generate_series(1, 4000) i;
SELECT entries, round(drift::numeric, 1) AS drift, reindex_advised FROM rabitq_index_stats('grow_v');
INSERT INTO grow SELECT ARRAY[i % 100, i % 37]::vector FROM generate_series(1, 2001) i;
SELECT entries, round(drift::numeric, 1) AS drift, reindex_advised FROM rabitq_index_stats('grow_v');
DROP TABLE grow;

-- the lists do not depend on the row estimate: a build whose sample had to
-- leave rows out samples again at the size the real count asks for (here the
-- estimate says 19 lists, 950 sample rows; the table has 20,000 rows: 20, 1,000)
CREATE TABLE est (id int, v vector(4));
INSERT INTO est SELECT i, ARRAY[sin(i), cos(i), sin(3 * i), cos(7 * i)]::vector FROM generate_series(1, 20000) i;
CREATE INDEX est_v ON est USING rabitq (v);
CREATE FUNCTION est_lists() RETURNS text LANGUAGE sql
	AS $$SELECT format('%s %s %s %s', lists, list_min, list_median, list_max) FROM rabitq_index_stats('est_v')$$;
SELECT est_lists() AS exact_estimate \gset
UPDATE pg_class SET reltuples = 19990 WHERE oid = 'est'::regclass;
REINDEX INDEX est_v;
SELECT est_lists() = :'exact_estimate' AS same_lists_from_19990;
UPDATE pg_class SET reltuples = 31000 WHERE oid = 'est'::regclass;
REINDEX INDEX est_v;
SELECT est_lists() = :'exact_estimate' AS same_lists_from_31000;
DROP TABLE est;
DROP FUNCTION est_lists();
