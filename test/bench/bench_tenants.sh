#!/bin/bash
# Multi-tenant benchmark on real SIFT data: the rows are split across tenant
# roles (40 %, 5 %, 0.1 % and 100 rows; the rest to a tenant not measured)
# under the policy owner = current_user::uuid, and each tenant's recall@10
# against its own exact top-10 and its queries per second are measured for
#   (a) a rabitq (owner, v) index: the policy is an index condition (and
#       the rows it reads from the heap per query, from its scan statistics),
#   (b) a rabitq (v) index: the policy filters after the index,
#   (c) exact search: a btree on owner and a sort, or a sequential scan
#       ((a) and (b) run without that btree),
# all in the same run, at default settings, as the tenant roles.
#
#   test/bench/bench_tenants.sh sift1m|sift100k [DATA_DIR] [QUERIES]
#
# One client, prepared statements, median of three pgbench runs; QUERIES
# (default 100) queries for recall, the same queries for QPS.  Reports;
# asserts nothing.
set -eu
cd "$(dirname "$0")/../.."
. test/bench/bench_cluster.sh

set_name=${1:-sift100k}
nq=${3:-100}
bench_start "$set_name" "${2:-}"
tenants="A B C D"
declare -A role=(
	[A]=aaaaaaaa-0000-0000-0000-000000000000 [B]=bbbbbbbb-0000-0000-0000-000000000000
	[C]=cccccccc-0000-0000-0000-000000000000 [D]=dddddddd-0000-0000-0000-000000000000)

base=$(ls "$data"/base.*vecs)
echo "== $set_name: loading $(basename "$base")"
q -c "CREATE EXTENSION vecrabitq" \
  -c "CREATE TABLE base (id int, v vector(128))" \
  -c "CREATE TABLE queries (id int PRIMARY KEY, v vector(128))"
build/tools/vecs2pg "$base" | q -c "\\copy base FROM STDIN"
build/tools/vecs2pg --limit "$nq" "$data/query.fvecs" | q -c "\\copy queries FROM STDIN"
rows=$(q -c "SELECT count(*) FROM base")
# tenants by a fixed pseudo-random permutation of the rows
a=$((rows * 40 / 100)); b=$((a + rows * 5 / 100)); c=$((b + rows / 1000)); d=$((c + 100))
q -c "CREATE TABLE items (id int PRIMARY KEY, owner uuid NOT NULL, v vector(128) NOT NULL)" \
  -c "INSERT INTO items SELECT id, CASE WHEN rn <= $a THEN '${role[A]}' WHEN rn <= $b THEN '${role[B]}'
		WHEN rn <= $c THEN '${role[C]}' WHEN rn <= $d THEN '${role[D]}'
		ELSE 'ffffffff-0000-0000-0000-000000000000' END::uuid, v
	FROM (SELECT id, v, row_number() OVER (ORDER BY md5(id::text)) AS rn FROM base) s ORDER BY id" \
  -c "DROP TABLE base" \
  -c "CREATE INDEX items_owner ON items (owner)" \
  -c "ALTER TABLE items ENABLE ROW LEVEL SECURITY" \
  -c "CREATE POLICY tenant ON items USING (owner = current_user::uuid)" \
  -c "GRANT SELECT ON items, queries TO PUBLIC" \
  -c "VACUUM ANALYZE items" -c "VACUUM ANALYZE queries"
for t in $tenants; do q -c "CREATE ROLE \"${role[$t]}\" LOGIN"; done

echo "== each tenant's exact top-10 for $nq queries"
q -c "SET enable_indexscan = off" -c "CREATE TABLE truth AS
	SELECT owner, q.id AS qid, ARRAY(SELECT id FROM items i WHERE i.owner = o.owner
		ORDER BY v <-> q.v LIMIT 10) AS ids
	FROM (VALUES $(for t in $tenants; do printf "('%s'::uuid)," "${role[$t]}"; done | sed 's/,$//')) o(owner),
		queries q" -c "GRANT SELECT ON truth TO PUBLIC"
declare -A count
for t in $tenants; do count[$t]=$(q -c "SELECT count(*) FROM items WHERE owner = '${role[$t]}'"); done

work=$(mktemp -d)
printf '\\set q random(0, %d)\nSELECT id FROM items ORDER BY v <-> (SELECT v FROM queries WHERE id = :q) LIMIT 10;\n' \
	$((nq - 1)) >"$work/q.sql"
# queries per second of one client as tenant T, the median of three runs
qps() {	# T SETTINGS SECS
	for _ in 1 2 3; do
		PGOPTIONS="$2" pgbench -n -M prepared -c 1 -T "$3" -U "${role[$1]}" -f "$work/q.sql" 2>/dev/null |
			sed -n 's/^tps = \([0-9.]*\).*/\1/p'
	done | sort -n | sed -n 2p | xargs printf '%.1f'
}
# recall@10 of tenant T against its exact top-10, as the tenant
recall() {	# T SETTINGS
	PGOPTIONS="$2" PGUSER="${role[$1]}" q -c "SELECT round(sum((SELECT count(*) FROM (
			SELECT id FROM items ORDER BY v <-> q.v LIMIT 10) r WHERE r.id = ANY (t.ids)))::numeric
		/ sum(cardinality(t.ids)), 4)
		FROM queries q JOIN truth t ON t.qid = q.id WHERE t.owner = current_user::uuid"
}
# the plan node that answers tenant T
plan() {	# T SETTINGS
	PGOPTIONS="$2" PGUSER="${role[$1]}" q -c "EXPLAIN (COSTS OFF) SELECT id FROM items
		ORDER BY v <-> (SELECT v FROM queries WHERE id = 0) LIMIT 10" |
		grep -o -m1 'Index Scan using items[a-z_]*\|Bitmap Heap Scan\|Seq Scan on items' || true
}
# rows read from the heap per query for tenant T's rows, from the scan
# statistics, asked with the policy's condition written out: the same index
# condition the tenant's scan gets
heap_rows() {	# T
	scan_stats_of "SET enable_seqscan = off" "SELECT count(*) FROM queries q CROSS JOIN LATERAL (
			SELECT id FROM items WHERE owner = '${role[$1]}' ORDER BY v <-> q.v LIMIT 10) s" |
		awk '{h += $2; n++} END {if (n) printf "%.1f", h / n; else printf "-"}'
}
declare -A R Q P H
measure() {	# VARIANT SETTINGS
	for t in $tenants; do
		P[$1$t]=$(plan "$t" "$2")
		R[$1$t]=$(recall "$t" "$2")
		Q[$1$t]=$(qps "$t" "$2" 5)
		echo "$1 $t: ${P[$1$t]}, recall ${R[$1$t]}, ${Q[$1$t]} QPS"
	done
}
build() {	# NAME COLUMNS
	local start
	start=$(date +%s.%N)
	q -c "CREATE INDEX $1 ON items USING rabitq ($2)" 2>&1 | grep -v '^HINT' || true
	echo "$1 ($2): build $(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)") s," \
		"$(q -c "SELECT pg_size_pretty(pg_relation_size('$1'))")"
}

echo "== (c) exact search"
measure c "-c enable_indexscan=off"
# the planner's choice for the 100-row tenant with the key index and the btree both there
build items_ov "owner, v" >/dev/null
echo "with a btree on owner and a rabitq (owner, v) index, tenant D's plan: $(plan D "")"
q -c "DROP INDEX items_ov" -c "DROP INDEX items_owner"
echo "== (b) vector-only rabitq index, the policy as a filter"
build items_v "v"
measure b ""
q -c "DROP INDEX items_v"
echo "== (a) rabitq (owner, v) index, the policy as an index condition"
build items_ov "owner, v"
measure a ""
for t in $tenants; do H[$t]=$(heap_rows "$t"); done

echo
echo "| tenant | rows | (a) key index recall@10 | (a) QPS | (a) heap rows/query | (b) vector index recall@10 | (b) QPS | (c) exact QPS | (a)/(b) | (a)/(c) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for t in $tenants; do
	echo "| $t | ${count[$t]} | ${R[a$t]} | ${Q[a$t]} | ${H[$t]} | ${R[b$t]} | ${Q[b$t]} | ${Q[c$t]} |" \
		"$(ratio "${Q[a$t]}" "${Q[b$t]}")× | $(ratio "${Q[a$t]}" "${Q[c$t]}")× |"
done
for v in a b c; do
	echo "($v) plans: $(for t in $tenants; do printf '%s: %s; ' "$t" "${P[$v$t]}"; done)"
done
rm -rf "$work"
