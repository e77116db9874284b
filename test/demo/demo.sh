#!/bin/bash
# The `make demo` walk-through: a throwaway cluster, 10,000 real SIFT vectors
# shared by three tenants under a row-level-security policy, a rabitq index,
# and the nearest neighbours of a query as each tenant and as the table
# owner, with the plan and timings next to exact search.
set -eu
cd "$(dirname "$0")/../.."
. test/tools/pgcluster.sh

trap pgcluster_stop EXIT
pgcluster_start "$(mktemp -d)"

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
load() {	# TABLE FILE: COPY id + vector lines into TABLE
	zcat "$2" | build/tools/vecs2pg --format bvecs - |
		psql_q -c "\\copy $1 (id, embedding) FROM STDIN"
}

echo "== Loading 10,000 SIFT descriptors (128 dimensions) and 100 queries"
psql_q <<'SQL'
CREATE EXTENSION vecrabitq;
CREATE TABLE items (id bigint PRIMARY KEY, owner uuid, embedding vector(128) NOT NULL);
CREATE TABLE queries (id int PRIMARY KEY, embedding vector(128) NOT NULL);
SQL
load items test/demo/sift10k-base.bvecs.gz
load queries test/demo/sift10k-query.bvecs.gz

psql_q <<'SQL'
-- Three tenants, one role each, named by UUID (the storage-bucket pattern):
-- tenant A owns 60% of the rows, B 35%, C 5%.
CREATE ROLE "aaaaaaaa-0000-0000-0000-000000000000";
CREATE ROLE "bbbbbbbb-0000-0000-0000-000000000000";
CREATE ROLE "cccccccc-0000-0000-0000-000000000000";
UPDATE items SET owner = CASE WHEN id % 20 = 0 THEN 'cccccccc-0000-0000-0000-000000000000'
                              WHEN id % 20 < 8 THEN 'bbbbbbbb-0000-0000-0000-000000000000'
                              ELSE 'aaaaaaaa-0000-0000-0000-000000000000' END::uuid;
ALTER TABLE items ALTER owner SET NOT NULL;
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON items USING (owner = current_user::uuid)
  WITH CHECK (owner = current_user::uuid);
GRANT SELECT, INSERT ON items TO PUBLIC;
GRANT SELECT ON queries TO PUBLIC;
ANALYZE items;
SQL

echo "== Building the rabitq index, with the tenant key: the policy becomes an index condition"
psql_q -c "\\timing on" -c "CREATE INDEX items_embedding ON items USING rabitq (owner, embedding)" 2>&1 |
	grep -v '^HINT'
psql_q -At -c "SELECT 'index size ' || pg_size_pretty(pg_relation_size('items_embedding'))
	|| ', table ' || pg_size_pretty(pg_relation_size('items'))"

psql_q 2>&1 <<'SQL'
\pset footer off
SELECT owner AS tenant, count(*) AS rows FROM items GROUP BY owner ORDER BY owner;

-- the query vector (as an application passes $1), and the search, prepared
SELECT embedding AS qv FROM queries WHERE id = 0 \gset
PREPARE knn(vector) AS
  SELECT id, owner, round((embedding <-> $1)::numeric, 1) AS l2_distance
  FROM items ORDER BY embedding <-> $1 LIMIT 5;
SET plan_cache_mode = force_generic_plan;  -- one plan for every query vector, as a driver's

\echo
\echo == Tenant C (5% of the rows): SET ROLE, then the nearest neighbours; the policy is
\echo == the index condition (no Filter), so only the rows of C are ever ranked
SET ROLE "cccccccc-0000-0000-0000-000000000000";
EXPLAIN (COSTS OFF) EXECUTE knn(:'qv');
\timing on
EXECUTE knn(:'qv');
\timing off
RESET ROLE;

\echo == Tenant A (60% of the rows): the same query sees only its own rows
SET ROLE "aaaaaaaa-0000-0000-0000-000000000000";
\timing on
EXECUTE knn(:'qv');
\timing off
\echo == Tenant A cannot write a row into the bucket of tenant C
\set ON_ERROR_STOP off
INSERT INTO items VALUES (100000, 'cccccccc-0000-0000-0000-000000000000', :'qv');
\set ON_ERROR_STOP on
RESET ROLE;

\echo
\echo == The table owner (not subject to row security) sees every tenant: the index
\timing on
EXECUTE knn(:'qv');
\timing off
\echo == ... and exact search (sequential scan) agrees
SET enable_indexscan = off;
\timing on
EXECUTE knn(:'qv');
\timing off
RESET enable_indexscan;
SELECT vecrabitq_simd() AS distance_kernels;
SQL
echo "== Demo finished; the throwaway cluster is removed."
