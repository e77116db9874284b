#!/bin/bash
# Benchmark of the rabitq index on generated high-dimensional data: the
# clustered latent-mixture vectors of test/tools/gen_vectors (doc/RABITQ.md
# 9) at D = 768 and 1536, 200,000 rows each, cosine distance, as embedding
# models produce.  Per dimension, in one run on one throwaway cluster: exact
# search (a sequential scan, max_parallel_workers_per_gather = 0), the
# build, then per probes setting recall@10 against the exact top 10 (by
# distance, so ties count as hits), QPS, the ratio to exact search and rows
# read from the heap per query, and recall with every list probed.
#
#   test/bench/bench_highdim.sh [ROWS] [QUERIES]
#
# ROWS (default 200000) per set, QUERIES (default 200).  One client,
# prepared statements, the median of three pgbench runs; Markdown, kept in
# build/bench/highdim/report.md.  Reports; asserts nothing.
set -eu
cd "$(dirname "$0")/../.."
. test/bench/bench_cluster.sh

rows=${1:-200000}
nq=${2:-200}
out=${BENCH_OUT:-build/bench}/highdim
mkdir -p "$out"
exec > >(tee "$out/report.md") 2>&1
# the data sets are generated; bench_start only needs a directory to exist
bench_start . "$PWD"
q -c "CREATE EXTENSION vecrabitq"
work=$(mktemp -d)

for dim in 768 1536; do
	echo
	echo "== D = $dim: $rows rows, $nq queries, cosine"
	q -c "CREATE TABLE items (id int PRIMARY KEY, v vector($dim))" \
	  -c "CREATE TABLE queries (id int PRIMARY KEY, v vector($dim), d10 float8)"
	build/tools/gen_vectors "$dim" "$rows" 42 | q -c "\\copy items FROM STDIN"
	build/tools/gen_vectors "$dim" "$nq" 42 10000000 | awk -F'\t' -v OFS='\t' '{$1 = $1 - 10000000; print}' |
		q -c "\\copy queries (id, v) FROM STDIN"
	q -c "VACUUM ANALYZE items" -c "VACUUM ANALYZE queries"
	q -c "SET max_parallel_workers_per_gather = 2" -c "SET enable_indexscan = off" \
	  -c "UPDATE queries s SET d10 = (SELECT max(d) FROM (SELECT v <=> s.v AS d FROM items ORDER BY v <=> s.v LIMIT 10) t)"
	printf '\\set q random(0, %d)\nSELECT id FROM items ORDER BY v <=> (SELECT v FROM queries WHERE id = :q) LIMIT 10;\n' \
		$((nq - 1)) >"$work/q.sql"
	exact_qps=$(qps "-c enable_indexscan=off -c max_parallel_workers_per_gather=0" 15 "$work/q.sql")
	echo "exact search: $exact_qps QPS (table $(q -c "SELECT pg_size_pretty(pg_total_relation_size('items'))"))"

	start=$(date +%s.%N)
	q -c "CREATE INDEX items_v ON items USING rabitq (v vector_cosine_ops)" 2>&1 | grep -v '^HINT' || true
	echo "build: $(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)") s," \
		"index $(q -c "SELECT pg_size_pretty(pg_relation_size('items_v'))")"
	lists=$(q -c "SELECT lists FROM rabitq_index_stats('items_v')")

	echo
	echo "| probes | recall@10 | QPS | × exact | heap rows/query | late rows/query |"
	echo "|---|---|---|---|---|---|"
	for p in 0 1 2 4 8 16 32 64 "$lists"; do
		res=$(q -F ' ' -c "SET enable_seqscan = off" -c "SET rabitq.probes = $p" -c "SET client_min_messages = debug1" \
		  -c "SELECT round(avg(h) / 10, 4) FROM (SELECT (SELECT count(*) FROM (
				SELECT v <=> s.v AS d FROM items ORDER BY v <=> s.v LIMIT 10) r WHERE r.d <= s.d10) AS h
			FROM queries s) t" 2>"$work/debug")
		read -r probed heap late <<<"$(scan_stats_lines <"$work/debug" |
			awk '{p = $1; h += $2; l += $3; n++} END {printf "%d %.1f %.3f", p, h / n, l / n}')"
		t=$(qps "-c enable_seqscan=off -c rabitq.probes=$p" 5 "$work/q.sql")
		label=$p
		[ "$p" = 0 ] && label="default ($probed)"
		[ "$p" = "$lists" ] && label="all $lists"
		echo "| $label | $res | $t | $(ratio "$t" "$exact_qps")× | $heap | $late |"
	done
	echo "| exact | 1.0000 | $exact_qps | 1× | | |"
	q -c "DROP TABLE items, queries"
done
rm -rf "$work"
