#!/bin/bash
# Benchmark of the rabitq index on real SIFT data with exact ground truth
# (../shared/data): build time, index size, recall@10 and queries per second
# over a sweep of probes, exact search measured in the same run, and insert
# throughput with and without the index for one and two sessions.
#
#   test/bench/bench_index.sh sift100k|sift1m [DATA_DIR]
#
# Single client (pgbench -c 1, prepared statements as drivers use them),
# throwaway cluster, printed as Markdown tables.  RABITQ_WITH="lists = 2000"
# passes index options.  Reports; asserts nothing.
set -eu
cd "$(dirname "$0")/../.."
. test/bench/bench_cluster.sh

set_name=${1:-sift100k}
bench_start "$set_name" "${2:-}"
base=$(ls "$data"/base.*vecs)
echo "== $set_name: loading $(basename "$base")"
q -c "CREATE EXTENSION vecrabitq" \
  -c "CREATE TABLE items (id int PRIMARY KEY, v vector(128))" \
  -c "CREATE TABLE queries (id int PRIMARY KEY, v vector(128))" \
  -c "CREATE TABLE gt (id int PRIMARY KEY, ids int[])"
build/tools/vecs2pg "$base" | q -c "\\copy items FROM STDIN"
build/tools/vecs2pg --limit 1000 "$data/query.fvecs" | q -c "\\copy queries FROM STDIN"
build/tools/vecs2pg --limit 1000 --columns 10 --array "$data/gt_l2.ivecs" | q -c "\\copy gt FROM STDIN"
q -c "VACUUM ANALYZE items" -c "VACUUM ANALYZE queries"
rows=$(q -c "SELECT count(*) FROM items")

work=$(mktemp -d)
# queries per second of one client, the median of three runs of `secs`
# seconds (a random query each time); settings go in PGOPTIONS, not in the
# timed script
qps() {	# SETTINGS SECS
	printf '\\set q random(0, 999)\nSELECT id FROM items ORDER BY v <-> (SELECT v FROM queries WHERE id = :q) LIMIT 10;\n' >"$work/q.sql"
	for _ in 1 2 3; do
		PGOPTIONS="$1" pgbench -n -M prepared -c 1 -T "$2" -f "$work/q.sql" 2>/dev/null |
			sed -n 's/^tps = \([0-9.]*\).*/\1/p'
	done | sort -n | sed -n 2p | xargs printf '%.1f'
}
# recall@10 over the first n queries against the ground truth
recall() {	# SETTINGS N
	q -c "$1" -c "SELECT round(avg(h) / 10, 4) FROM (SELECT (SELECT count(*) FROM (
			SELECT id FROM items ORDER BY v <-> q.v LIMIT 10) r WHERE r.id = ANY(gt.ids)) AS h
		FROM queries q JOIN gt USING (id) WHERE q.id < $2) s" | tail -1
}

echo "== exact search (sequential scan, parallel workers as configured)"
exact_qps=$(qps "-c enable_indexscan=off" 15)
exact_recall=$(recall "SET enable_indexscan = off;" 20)
echo "exact: recall $exact_recall, $exact_qps QPS"

echo "== build"
start=$(date +%s.%N)
q -c "CREATE INDEX items_v ON items USING rabitq (v) ${RABITQ_WITH:+WITH ($RABITQ_WITH)}" 2>&1 |
	grep -v '^HINT' || true
build_s=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
size=$(q -c "SELECT pg_size_pretty(pg_relation_size('items_v'))")
heap=$(q -c "SELECT pg_size_pretty(pg_relation_size('items'))")
echo "build: $build_s s, index $size (table $heap), $rows rows"

echo
echo "| probes | recall@10 | QPS | vs exact |"
echo "|---|---|---|---|"
for p in 0 1 2 4 8 16 32 64 128; do
	settings="SET enable_seqscan = off; SET rabitq.probes = $p;"
	r=$(recall "$settings" 1000)
	t=$(qps "-c enable_seqscan=off -c rabitq.probes=$p" 5)
	label=$p; [ "$p" = 0 ] && label="default"
	echo "| $label | $r | $t | $(echo "scale=1; $t / $exact_qps" | bc)x |"
done
echo "| exact | $exact_recall | $exact_qps | 1x |"

echo
echo "== inserts (one row per transaction, 10 s each; the throwaway cluster runs with fsync = off)"
# the same rows into the indexed table and into a table like it without the index
q -c "CREATE TABLE ins_plain (id int PRIMARY KEY, v vector(128))" \
  -c "CREATE SEQUENCE ins_id START $((rows + 1))"
echo "| table | 1 session rows/s | 2 sessions rows/s |"
echo "|---|---|---|"
for t in ins_plain items; do
	printf '\\set r random(0, %d)\nINSERT INTO %s SELECT nextval('"'ins_id'"'), v FROM items WHERE id = :r;\n' \
		$((rows - 1)) "$t" >"$work/ins.sql"
	one=$(pgbench -n -M prepared -c 1 -T 10 -f "$work/ins.sql" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | xargs printf '%.0f')
	two=$(pgbench -n -M prepared -c 2 -j 2 -T 10 -f "$work/ins.sql" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | xargs printf '%.0f')
	label=$t; [ "$t" = items ] && label="items (rabitq index)"
	echo "| $label | $one | $two |"
done
rm -rf "$work"
