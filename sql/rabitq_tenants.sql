-- Tenant key columns: a row-level-security policy becomes a rabitq index
-- condition, and every tenant role gets its own complete, ordered top-k.

SET client_min_messages = warning;
CREATE ROLE "aaaaaaaa-0000-0000-0000-000000000000";	-- A: 40 % of the rows
CREATE ROLE "bbbbbbbb-0000-0000-0000-000000000000";	-- B: 5 %
CREATE ROLE "cccccccc-0000-0000-0000-000000000000";	-- C: 0.1 %
CREATE ROLE "dddddddd-0000-0000-0000-000000000000";	-- D: 7 rows
CREATE ROLE "eeeeeeee-0000-0000-0000-000000000000";	-- E: no rows
CREATE ROLE regress_rabitq_svc BYPASSRLS;
RESET client_min_messages;

SELECT setseed(0.5);
-- clustered data: 50 centres, each row a centre plus noise
CREATE TABLE centres AS SELECT c, ARRAY(SELECT random() * 2 - 1 FROM generate_series(1, 16) WHERE c >= 0) AS v
FROM generate_series(0, 49) c;
CREATE TABLE items (id int PRIMARY KEY, owner uuid NOT NULL, tenant_id int NOT NULL,
					embedding vector(16) NOT NULL);
INSERT INTO items SELECT i,
	CASE WHEN i <= 8000 THEN 'aaaaaaaa-0000-0000-0000-000000000000'
		 WHEN i <= 9000 THEN 'bbbbbbbb-0000-0000-0000-000000000000'
		 WHEN i <= 9020 THEN 'cccccccc-0000-0000-0000-000000000000'
		 WHEN i <= 9027 THEN 'dddddddd-0000-0000-0000-000000000000'
		 ELSE 'ffffffff-0000-0000-0000-000000000000' END::uuid,
	i % 10,
	ARRAY(SELECT v[j] + random() * 0.6 - 0.3 FROM generate_series(1, 16) j)::vector
FROM generate_series(1, 20000) i JOIN centres ON c = i % 50;
CREATE TABLE queries (qid int, q vector(16));
INSERT INTO queries SELECT i, ARRAY(SELECT v[j] + random() * 0.6 - 0.3 FROM generate_series(1, 16) j)::vector
FROM generate_series(1, 20) i JOIN centres ON c = (i * 7) % 50;
SELECT q AS q1 FROM queries WHERE qid = 1 \gset
CREATE TABLE probe AS SELECT q FROM queries WHERE qid = 1;
GRANT SELECT ON probe TO PUBLIC;

-- the storage-bucket pattern: one role per tenant, named by its uuid
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON items USING (owner = current_user::uuid)
	WITH CHECK (owner = current_user::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON items TO PUBLIC;
GRANT SELECT ON queries TO PUBLIC;

-- each tenant's exact top-50, computed by the table owner (who bypasses the policy)
CREATE TABLE truth AS
SELECT o.owner, qid, ARRAY(SELECT id FROM items i WHERE i.owner = o.owner
						   ORDER BY embedding <-> q, id LIMIT 50) AS ids
FROM (SELECT DISTINCT owner FROM items UNION ALL
	  SELECT 'eeeeeeee-0000-0000-0000-000000000000') o, queries;
-- and the global top-50 of the first query (owner NULL)
INSERT INTO truth SELECT NULL, 1, ARRAY(SELECT id FROM items ORDER BY embedding <-> :'q1', id LIMIT 50);
GRANT SELECT ON truth TO PUBLIC;

-- a tenant's k nearest rows, as the calling role (SECURITY INVOKER)
CREATE FUNCTION knn(qv vector, k int) RETURNS TABLE (id int, owner uuid, d float8)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY SELECT i.id, i.owner, i.embedding <-> qv FROM items i
		ORDER BY i.embedding <-> qv LIMIT k;
END $$;

-- the invariants for the calling role over all queries: only its own rows,
-- min(k, its rows) of them, non-decreasing distances, and recall@k
CREATE FUNCTION tenant_report(k int, OUT own_rows_only bool, OUT complete bool,
							  OUT ordered bool, OUT recall numeric)
LANGUAGE plpgsql AS $$
DECLARE
	mine int := (SELECT count(*) FROM items);
	hits int := 0;
	wanted int := 0;
	r record;
	got int[];
	dist float8[];
	own bool;
BEGIN
	own_rows_only := true; complete := true; ordered := true;
	FOR r IN SELECT qid, q FROM queries ORDER BY qid LOOP
		SELECT array_agg(n.id ORDER BY ord), array_agg(n.d ORDER BY ord),
			   coalesce(bool_and(n.owner = current_user::uuid), true)
			INTO got, dist, own
			FROM (SELECT *, row_number() OVER () AS ord FROM knn(r.q, k)) n;
		own_rows_only := own_rows_only AND own;
		complete := complete AND coalesce(cardinality(got), 0) = least(k, mine);
		ordered := ordered AND NOT EXISTS (SELECT FROM generate_subscripts(dist, 1) j
										  WHERE j > 1 AND dist[j] < dist[j - 1]);
		SELECT wanted + coalesce(cardinality(t.ids[1:k]), 0),
			   hits + (SELECT count(*) FROM unnest(t.ids[1:k]) x WHERE x = ANY(got))
			INTO wanted, hits
			FROM truth t WHERE t.owner = current_user::uuid AND t.qid = r.qid;
	END LOOP;
	recall := CASE WHEN wanted > 0 THEN hits::numeric / wanted END;
END $$;

-- 1. a vector-only index: the policy is a filter, and the iterative scan
-- still finds k rows for a tenant owning 0.1 % of the table (their order
-- restarts with each batch of lists, so it is not checked here)
CREATE INDEX items_v ON items USING rabitq (embedding) WITH (lists = 20);
SET enable_seqscan = off;
SET ROLE "cccccccc-0000-0000-0000-000000000000";
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <-> (SELECT q FROM probe) LIMIT 10;
SELECT own_rows_only, complete FROM tenant_report(10);
RESET ROLE;
DROP INDEX items_v;
RESET enable_seqscan;

-- 2. (owner, embedding): the policy is an index condition, with no Filter
CREATE INDEX items_ov ON items USING rabitq (owner, embedding) WITH (lists = 20);
SET ROLE "aaaaaaaa-0000-0000-0000-000000000000";
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <-> (SELECT q FROM probe) LIMIT 10;
SELECT own_rows_only, complete, ordered, recall >= 0.95 AS good_recall FROM tenant_report(10);
-- with the key column first, = ANY is an index condition too (both conditions apply)
EXPLAIN (COSTS OFF) SELECT id FROM items
WHERE owner = ANY ('{aaaaaaaa-0000-0000-0000-000000000000,bbbbbbbb-0000-0000-0000-000000000000}')
ORDER BY embedding <-> (SELECT q FROM probe) LIMIT 10;
SELECT count(*), bool_and(owner = current_user::uuid) FROM (SELECT owner FROM items
	WHERE owner = ANY ('{aaaaaaaa-0000-0000-0000-000000000000,bbbbbbbb-0000-0000-0000-000000000000}')
	ORDER BY embedding <-> :'q1' LIMIT 10) s;
SET ROLE "bbbbbbbb-0000-0000-0000-000000000000";
SELECT own_rows_only, complete, ordered, recall >= 0.95 AS good_recall FROM tenant_report(10);
-- ranked from the index's lists rather than exactly from the key's rows
SET rabitq.exact_limit = 0;
SELECT own_rows_only, complete, ordered, recall >= 0.95 AS good_recall FROM tenant_report(10);
RESET rabitq.exact_limit;
SET ROLE "cccccccc-0000-0000-0000-000000000000";
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT id FROM items ORDER BY embedding <-> (SELECT q FROM probe) LIMIT 10;
SELECT own_rows_only, complete, ordered, recall FROM tenant_report(10);
-- a limit beyond the tenant's rows: all 7 of D's rows, in exact order
SET ROLE "dddddddd-0000-0000-0000-000000000000";
SELECT own_rows_only, complete, ordered, recall FROM tenant_report(50);
SELECT array_agg(id ORDER BY d, id) = (SELECT ids FROM truth t JOIN queries USING (qid)
		WHERE t.owner = current_user::uuid AND qid = 3) AS exact_order
FROM knn((SELECT q FROM queries WHERE qid = 3), 50);
SET ROLE "eeeeeeee-0000-0000-0000-000000000000";
SELECT own_rows_only, complete, ordered, recall FROM tenant_report(10);
SELECT count(*) FROM knn(:'q1', 10);
RESET ROLE;
DROP INDEX items_ov;

-- 3. (embedding, owner) works the same way, and beside a vector-only index
-- the key index is chosen: its cost counts distance work only for the rows
-- the key keeps
CREATE INDEX items_vo ON items USING rabitq (embedding vector_l2_ops, owner) WITH (lists = 20);
CREATE INDEX items_v ON items USING rabitq (embedding) WITH (lists = 20);
ANALYZE items;
SET ROLE "cccccccc-0000-0000-0000-000000000000";
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <-> (SELECT q FROM probe) LIMIT 10;
RESET ROLE;
CREATE FUNCTION plan_cost(query text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
	EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
	RETURN (plan -> 0 -> 'Plan' ->> 'Total Cost')::float8;
END $$;
SELECT plan_cost($$SELECT id FROM items WHERE owner = 'cccccccc-0000-0000-0000-000000000000'
					ORDER BY embedding <-> '$$ || :'q1' || $$' LIMIT 10$$)
	 < plan_cost($$SELECT id FROM items WHERE owner = 'aaaaaaaa-0000-0000-0000-000000000000'
					ORDER BY embedding <-> '$$ || :'q1' || $$' LIMIT 10$$) AS rarer_key_costs_less;
DROP INDEX items_v;
SET ROLE "cccccccc-0000-0000-0000-000000000000";
SELECT own_rows_only, complete, ordered, recall FROM tenant_report(10);

-- user conditions on top of the policy: another tenant's key, ANY (here a
-- filter: PostgreSQL 15 orders an index scan only without = ANY on a later
-- column), a non-key column
SET ROLE "aaaaaaaa-0000-0000-0000-000000000000";
SELECT count(*) FROM (SELECT id FROM items WHERE owner = 'bbbbbbbb-0000-0000-0000-000000000000'
	ORDER BY embedding <-> :'q1' LIMIT 10) s;
EXPLAIN (COSTS OFF) SELECT id FROM items
WHERE owner = ANY ('{aaaaaaaa-0000-0000-0000-000000000000,bbbbbbbb-0000-0000-0000-000000000000}')
ORDER BY embedding <-> (SELECT q FROM probe) LIMIT 10;
SELECT count(*), bool_and(owner = current_user::uuid) FROM (SELECT owner FROM items
	WHERE owner = ANY ('{aaaaaaaa-0000-0000-0000-000000000000,bbbbbbbb-0000-0000-0000-000000000000}')
	ORDER BY embedding <-> :'q1' LIMIT 10) s;
SELECT count(*), bool_and(owner = current_user::uuid AND tenant_id = 5) FROM (SELECT owner, tenant_id
	FROM items WHERE tenant_id = 5 ORDER BY embedding <-> :'q1' LIMIT 10) s;

-- 4. a generic plan, prepared once and executed as two roles
SET plan_cache_mode = force_generic_plan;
PREPARE nearest(vector) AS SELECT id, owner FROM items ORDER BY embedding <-> $1 LIMIT 3;
-- each role gets its own exact top 3 (the truth table, as a set: ties)
CREATE FUNCTION pg_temp.own_top3(got regclass) RETURNS TABLE (own_rows bool, exact_top3 bool)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format('SELECT bool_and(owner = current_user::uuid), array_agg(id ORDER BY id) =
		(SELECT array_agg(x ORDER BY x) FROM truth, unnest(ids[1:3]) x WHERE truth.owner = current_user::uuid AND qid = 1)
		FROM %s', got);
END $$;
SET ROLE "aaaaaaaa-0000-0000-0000-000000000000";
EXPLAIN (COSTS OFF) EXECUTE nearest(array_fill(0, ARRAY[16])::vector);
CREATE TEMP TABLE got_a AS EXECUTE nearest(:'q1');
SELECT * FROM pg_temp.own_top3('got_a');
SET ROLE "cccccccc-0000-0000-0000-000000000000";
CREATE TEMP TABLE got_c AS EXECUTE nearest(:'q1');
SELECT * FROM pg_temp.own_top3('got_c');
RESET ROLE;
DROP TABLE got_a, got_c;
DROP FUNCTION pg_temp.own_top3(regclass);
DEALLOCATE nearest;
RESET plan_cache_mode;

-- 5. roles that bypass the policy get the global top-k: no key condition
SET ROLE regress_rabitq_svc;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <-> (SELECT q FROM probe) LIMIT 10;
SELECT count(DISTINCT owner) > 1 AS mixed_owners, count(*) FROM (SELECT owner FROM items
	ORDER BY embedding <-> :'q1' LIMIT 10) s;
RESET ROLE;
SELECT (SELECT array_agg(id) FROM (SELECT id FROM items ORDER BY embedding <-> :'q1' LIMIT 10) s) =
	   (SELECT ids[1:10] FROM truth WHERE owner IS NULL) AS superuser_global;
SET ROLE "aaaaaaaa-0000-0000-0000-000000000000";
SET row_security = off;
SELECT count(*) FROM items;
\echo :LAST_ERROR_SQLSTATE
RESET row_security;

-- 6. WITH CHECK rejects another tenant's rows and leaves the index untouched
INSERT INTO items VALUES (30001, 'bbbbbbbb-0000-0000-0000-000000000000', 1, :'q1');
\echo :LAST_ERROR_SQLSTATE
UPDATE items SET owner = 'bbbbbbbb-0000-0000-0000-000000000000' WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO items VALUES (30002, current_user::uuid, 1, :'q1');
SELECT id FROM knn(:'q1', 1);
SET ROLE "bbbbbbbb-0000-0000-0000-000000000000";
SELECT own_rows_only, complete, ordered, recall >= 0.95 AS good_recall FROM tenant_report(10);
SELECT count(*) FROM knn(:'q1', 10) WHERE id IN (30001, 30002);
RESET ROLE;

-- a bucket-style quota: at most 8 rows per tenant, checked by a policy function
CREATE FUNCTION under_quota(o uuid) RETURNS bool LANGUAGE sql STABLE
	AS 'SELECT count(*) < 8 FROM items WHERE owner = o';
CREATE POLICY quota ON items AS RESTRICTIVE FOR INSERT WITH CHECK (under_quota(owner));
SET ROLE "dddddddd-0000-0000-0000-000000000000";
INSERT INTO items VALUES (30003, current_user::uuid, 1, :'q1');
INSERT INTO items VALUES (30004, current_user::uuid, 1, :'q1');
\echo :LAST_ERROR_SQLSTATE
SELECT array_agg(id ORDER BY d, id) FROM knn(:'q1', 50);
RESET ROLE;
DROP POLICY quota ON items;

-- 7. integer keys: one family, so a bigint column matches integer and
-- smallint parameters; NULL keys are stored and never match
CREATE TABLE docs (id int PRIMARY KEY, org bigint, tag text COLLATE "C", embedding vector(3));
INSERT INTO docs SELECT i, CASE WHEN i % 10 = 0 THEN NULL ELSE i % 4 END, 'tag' || i % 3,
	ARRAY[i % 7, i % 11, i % 13]::vector FROM generate_series(1, 400) i;
CREATE INDEX docs_org ON docs USING rabitq (org, embedding) WITH (lists = 4);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM docs WHERE org = 2 ORDER BY embedding <-> '[1,2,3]' LIMIT 5;
SELECT array_agg(DISTINCT org) AS orgs, count(*) FROM (SELECT org FROM docs WHERE org = 2
	ORDER BY embedding <-> '[1,2,3]' LIMIT 500) s;
SELECT count(*) FROM (SELECT 1 FROM docs WHERE org = 2::smallint ORDER BY embedding <-> '[1,2,3]' LIMIT 500) s;
EXPLAIN (COSTS OFF) SELECT id FROM docs WHERE org = ANY ('{1,3}'::int[]) ORDER BY embedding <-> '[1,2,3]' LIMIT 5;
SELECT array_agg(DISTINCT org) AS orgs, count(*) FROM (SELECT org FROM docs WHERE org = ANY ('{1,3}'::int[])
	ORDER BY embedding <-> '[1,2,3]' LIMIT 500) s;
SELECT count(*) FROM (SELECT 1 FROM docs WHERE org = ANY ('{}'::int[]) ORDER BY embedding <-> '[1,2,3]' LIMIT 5) s;
SELECT count(*) FROM (SELECT 1 FROM docs WHERE org = NULL::int ORDER BY embedding <-> '[1,2,3]' LIMIT 5) s;
SELECT count(*) FROM (SELECT 1 FROM docs WHERE org = 2 AND org = 3 ORDER BY embedding <-> '[1,2,3]' LIMIT 5) s;
-- without a key condition every row comes back, NULL keys included
SELECT count(*), count(*) FILTER (WHERE org IS NULL) AS null_keys
FROM (SELECT org FROM docs ORDER BY embedding <-> '[1,2,3]' LIMIT 1000) s;

-- text keys are compared byte for byte: deterministic collations only
CREATE INDEX docs_tag ON docs USING rabitq (embedding, tag) WITH (lists = 4);
SELECT array_agg(DISTINCT tag), count(*) FROM (SELECT tag FROM docs WHERE tag = 'tag1'
	ORDER BY embedding <-> '[1,2,3]' LIMIT 500) s;
-- a key value too long to store exactly is refused at insert, and nothing changes
INSERT INTO docs VALUES (1000, 1, repeat('x', 64), '[1,1,1]');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM docs;
INSERT INTO docs VALUES (1000, 1, repeat('x', 63), '[1,1,1]');
SELECT id FROM docs WHERE tag = repeat('x', 63) ORDER BY embedding <-> '[1,1,1]' LIMIT 5;
RESET enable_seqscan;

-- 8. hygiene: scan statistics (DEBUG1) depend on every row near the query,
-- so a role subject to the policy gets none (the superuser running this
-- file sees them: the control, here with a key condition, so its counts are
-- those of one tenant's lanes); nothing is SECURITY DEFINER or LEAKPROOF
SET client_min_messages = debug1;
SELECT count(*) FROM (SELECT id FROM items WHERE owner = 'aaaaaaaa-0000-0000-0000-000000000000'
	ORDER BY embedding <-> :'q1' LIMIT 3) s;
RESET client_min_messages;
SET ROLE "cccccccc-0000-0000-0000-000000000000";
SET client_min_messages = debug1;
SELECT count(*) FROM (SELECT id FROM items ORDER BY embedding <-> :'q1' LIMIT 3) s;
RESET ROLE;
RESET client_min_messages;
SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vecrabitq')
  AND (p.prosecdef OR p.proleakproof);

-- 9. errors
CREATE COLLATION case_insensitive (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE ci (t text COLLATE case_insensitive, f float8, v vector(3), w vector(3));
CREATE INDEX ON ci USING rabitq (v, t);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON ci USING rabitq (v, f);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON ci USING rabitq (v, w);
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX ON ci USING rabitq (t COLLATE "C");
\echo :LAST_ERROR_SQLSTATE
DROP TABLE ci;
DROP COLLATION case_insensitive;

DROP TABLE docs;
DROP TABLE items, queries, probe, truth, centres;
DROP FUNCTION knn, tenant_report, under_quota, plan_cost;
DROP ROLE "aaaaaaaa-0000-0000-0000-000000000000", "bbbbbbbb-0000-0000-0000-000000000000",
	"cccccccc-0000-0000-0000-000000000000", "dddddddd-0000-0000-0000-000000000000",
	"eeeeeeee-0000-0000-0000-000000000000", regress_rabitq_svc;
