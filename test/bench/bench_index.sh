#!/bin/bash
# Benchmark of the rabitq index on real SIFT data with exact ground truth
# (../shared/data), everything measured in one run on one throwaway cluster:
#
#   - exact search: a sequential scan with max_parallel_workers_per_gather = 0
#   - rabitq at the default ex_bits: build time and size, then per probes
#     setting recall@10, QPS, the ratio to exact search, rows read from the
#     heap and late rows per query
#   - completeness: every list probed, for the data set's queries and for
#     queries unlike the data (x2, +40 on every coordinate, the data's mean,
#     data rows x3, a constant vector far outside), recall against their
#     exact top 10 (by distance, so ties count as hits) and late rows
#   - the same sweep with ex_bits = 0 (the 1-bit layout alone)
#   - out of cache: shared_buffers = 128MB and the kernel's page cache dropped
#     before each run (as root), QPS and heap and index blocks read per query
#     for ex_bits = 0 and the default
#   - pgvector's HNSW (m 16, ef_construction 64, hnsw.ef_search swept) when the
#     `vector` extension is installed: build pgvector 0.8.x from its source
#     with `make install`; otherwise a line says it was skipped
#   - for rabitq and HNSW, the operating points: the smallest probes
#     (ef_search) reaching recall 0.95 and 0.99, found by bisecting between
#     the sweep's settings, with their QPS and ratio to exact search
#   - insert throughput with and without the index, one and two sessions
#   - a recall/QPS plot (gnuplot SVG) of rabitq and HNSW
#
#   test/bench/bench_index.sh sift100k|sift1m [DATA_DIR]
#
# One client, prepared statements, the median of three pgbench runs;
# printed as Markdown and kept with the plot and its data in
# build/bench/SET/ (BENCH_OUT overrides build/bench).  Builds are single
# threaded (max_parallel_maintenance_workers = 0).  Reports; asserts nothing.
set -eu
cd "$(dirname "$0")/../.."
. test/bench/bench_cluster.sh

set_name=${1:-sift100k}
out=${BENCH_OUT:-build/bench}/$set_name
mkdir -p "$out"
rm -f "$out"/*.dat "$out"/*.points
exec > >(tee "$out/report.md") 2>&1
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

# Every query set with the distance of its exact 10th nearest row: the data
# set's queries (from its ground truth), and queries unlike the data, whose
# exact top 10 comes from parallel sequential scans.
echo "== query sets unlike the data, and their exact top 10"
q -c "CREATE TABLE qsets (kind text, id int, v vector(128), d10 float8)" \
  -c "INSERT INTO qsets SELECT '$set_name queries', q.id, q.v,
		(SELECT max(i.v <-> q.v) FROM items i WHERE i.id = ANY (gt.ids)) FROM queries q JOIN gt USING (id)" \
  -c "INSERT INTO qsets (kind, id, v) SELECT 'x2', id, (SELECT array_agg(x * 2) FROM unnest(v::real[]) x)::vector
		FROM queries WHERE id < 200" \
  -c "INSERT INTO qsets (kind, id, v) SELECT '+40', id, (SELECT array_agg(x + 40) FROM unnest(v::real[]) x)::vector
		FROM queries WHERE id < 200" \
  -c "INSERT INTO qsets (kind, id, v) SELECT 'the mean', 0, avg(v) FROM items" \
  -c "INSERT INTO qsets (kind, id, v) SELECT 'a row x3', id, (SELECT array_agg(x * 3) FROM unnest(v::real[]) x)::vector
		FROM items WHERE id % ($rows / 100) = 7" \
  -c "INSERT INTO qsets (kind, id, v) SELECT 'far outside', 0, array_fill(1000::real, ARRAY[128])::vector" \
  -c "SET max_parallel_workers_per_gather = 2" -c "SET enable_indexscan = off" \
  -c "UPDATE qsets s SET d10 = (SELECT max(d) FROM (SELECT v <-> s.v AS d FROM items ORDER BY v <-> s.v LIMIT 10) t)
		WHERE d10 IS NULL"

work=$(mktemp -d)
printf '\\set q random(0, 999)\nSELECT id FROM items ORDER BY v <-> (SELECT v FROM queries WHERE id = :q) LIMIT 10;\n' >"$work/q.sql"
# recall@10 over the first n queries against the ground truth
recall() {	# SETTINGS N
	q -c "$1" -c "SELECT round(avg(h) / 10, 4) FROM (SELECT (SELECT count(*) FROM (
			SELECT id FROM items ORDER BY v <-> q.v LIMIT 10) r WHERE r.id = ANY(gt.ids)) AS h
		FROM queries q JOIN gt USING (id) WHERE q.id < $2) s" | tail -1
}
# the scan statistics (DEBUG1) of the first n queries: lists probed, and rows
# read from the heap and late rows per query
scan_stats() {	# SETTINGS N
	scan_stats_of "$1; SET enable_seqscan = off" "SELECT count(*) FROM queries q
		CROSS JOIN LATERAL (SELECT id FROM items ORDER BY v <-> q.v LIMIT 10) s WHERE q.id < $2" |
		awk '{p = $1; h += $2; l += $3; n++} END {printf "%d %.1f %.3f", p, h / n, l / n}'
}

echo "== exact search (sequential scan, max_parallel_workers_per_gather = 0)"
exact_qps=$(qps "-c enable_indexscan=off -c max_parallel_workers_per_gather=0" 15 "$work/q.sql")
exact_recall=$(recall "SET enable_indexscan = off; SET max_parallel_workers_per_gather = 0;" 20)
echo "exact: recall $exact_recall, $exact_qps QPS"

build_index() {	# OPTIONS
	local start
	start=$(date +%s.%N)
	q -c "CREATE INDEX items_v ON items USING rabitq (v) ${1:+WITH ($1)}" 2>&1 | grep -v '^HINT' || true
	echo "build${1:+ ($1)}: $(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)") s," \
		"index $(q -c "SELECT pg_size_pretty(pg_relation_size('items_v'))")" \
		"(table $(q -c "SELECT pg_size_pretty(pg_relation_size('items'))")), $rows rows"
}

# The smallest value of GUC (an integer) whose recall reaches each target,
# bisected between the sweep's settings (POINTS: lines "value recall QPS",
# ascending), and its recall, QPS and ratio to exact search; PGDATABASE and
# the settings in PREFIX apply.
operating_points() {	# LABEL GUC POINTS PREFIX
	local target lo hi mid r t
	for target in 0.95 0.99; do
		lo=$(awk -v x="$target" '$2 < x {v = $1} END {print v + 0}' "$3")
		hi=$(awk -v x="$target" '$2 >= x {print $1; exit}' "$3")
		if [ -z "$hi" ]; then
			echo "| $1 | $target | not reached | | | |"
			continue
		fi
		while [ $((hi - lo)) -gt 1 ]; do
			mid=$(((lo + hi) / 2))
			r=$(recall "$4 SET $2 = $mid;" 1000)
			if awk -v r="$r" -v x="$target" 'BEGIN { exit !(r >= x) }'; then hi=$mid; else lo=$mid; fi
		done
		r=$(recall "$4 SET $2 = $hi;" 1000)
		t=$(qps "-c enable_seqscan=off -c $2=$hi" 5 "$work/q.sql")
		echo "| $1 | $target | $2 = $hi | $r | $t | $(ratio "$t" "$exact_qps")× |"
	done
}

sweep() {	# DATA_FILE
	echo
	echo "| probes | recall@10 | QPS | × exact | heap rows/query | late rows/query |"
	echo "|---|---|---|---|---|---|"
	for p in 0 1 2 4 8 16 20 24 28 32 48 64 96 128; do
		local settings="SET enable_seqscan = off; SET rabitq.probes = $p;" r t probed heap late label
		r=$(recall "$settings" 1000)
		t=$(qps "-c enable_seqscan=off -c rabitq.probes=$p" 5 "$work/q.sql")
		read -r probed heap late <<<"$(scan_stats "SET rabitq.probes = $p" 1000)"
		label=$p
		[ "$p" = 0 ] && label="default ($probed)"
		echo "| $label | $r | $t | $(ratio "$t" "$exact_qps")× | $heap | $late |"
		[ "$p" = 0 ] || echo "$r $t" >>"$1"
		[ "$p" = 0 ] || echo "$p $r $t" >>"$1.points"
	done
	echo "| exact | $exact_recall | $exact_qps | 1× | | |"
}

# Every list probed: per query set, the share of the returned rows within its
# exact 10th distance (ties count as hits), the worst query's, and late rows
# per query.
completeness() {
	local lists res late count rec worst
	lists=$(q -c "SELECT lists FROM rabitq_index_stats('items_v')")
	echo
	echo "every one of $lists lists probed:"
	echo "| queries | count | recall@10 | worst query | late rows/query |"
	echo "|---|---|---|---|---|"
	q -c "SELECT kind FROM qsets GROUP BY kind ORDER BY min(ctid)" | while read -r kind; do
		res=$(q -F ' ' -c "SET enable_seqscan = off" -c "SET rabitq.probes = $lists" -c "SET client_min_messages = debug1" \
		  -c "SELECT count(*), round(avg(h) / 10, 4), min(h) FROM (SELECT (SELECT count(*) FROM (
				SELECT v <-> s.v AS d FROM items ORDER BY v <-> s.v LIMIT 10) r WHERE r.d <= s.d10) AS h
			FROM qsets s WHERE kind = '$kind') t" 2>"$work/debug")
		late=$(scan_stats_lines <"$work/debug" | awk '{s += $3; n++} END {printf "%.3f", n ? s / n : 0}')
		read -r count rec worst <<<"$res"
		echo "| $kind | $count | $rec | $worst/10 | $late |"
	done
}

echo "== rabitq, default settings"
build_index ""
sweep "$out/rabitq.dat"
echo "| index | recall target | smallest setting | recall@10 | QPS | × exact |" >"$work/points"
echo "|---|---|---|---|---|---|" >>"$work/points"
operating_points "rabitq (default)" rabitq.probes "$out/rabitq.dat.points" "SET enable_seqscan = off;" >>"$work/points"
completeness

echo
echo "== out of cache: shared_buffers 128MB, page cache dropped before each run$([ "$(id -u)" = 0 ] || echo ' (not root: not dropped)')"
out_of_cache() {	# LABEL
	bench_settings 128 >/dev/null
	for p in 8 24 64; do
		local before after n
		drop_caches
		before=$(q -c "SELECT heap_blks_read, idx_blks_read FROM pg_statio_user_tables WHERE relname = 'items'")
		n=$(PGOPTIONS="-c enable_seqscan=off -c rabitq.probes=$p" pgbench -n -M prepared -c 1 -T 10 -f "$work/q.sql" 2>/dev/null |
			sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
		after=$(q -c "SELECT heap_blks_read, idx_blks_read FROM pg_statio_user_tables WHERE relname = 'items'")
		echo "| $1 | $p | $(echo "scale=1; $n / 10" | bc) |" \
			"$(echo "scale=1; (${after%|*} - ${before%|*}) / $n" | bc) | $(echo "scale=1; (${after#*|} - ${before#*|}) / $n" | bc) |"
	done
	bench_settings 4096 >/dev/null
}
echo "| index | probes | QPS | heap blocks read/query | index blocks read/query |" >"$work/ooc"
echo "|---|---|---|---|---|" >>"$work/ooc"
out_of_cache "ex_bits 3 (default)" >>"$work/ooc"

echo
echo "== rabitq, ex_bits = 0 (1-bit codes alone)"
q -c "DROP INDEX items_v"
build_index "ex_bits = 0"
sweep "$out/rabitq_ex0.dat"
out_of_cache "ex_bits 0" >>"$work/ooc"
q -c "DROP INDEX items_v"
echo
cat "$work/ooc"

echo
if [ "$(q -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")" = 1 ]; then
	echo "== pgvector HNSW (m 16, ef_construction 64), $(q -c "SELECT 'pgvector ' || default_version FROM pg_available_extensions WHERE name = 'vector'")"
	q -c "CREATE DATABASE hnsw"
	PGDATABASE=hnsw q -c "CREATE EXTENSION vector" \
	  -c "CREATE TABLE items (id int PRIMARY KEY, v vector(128))" \
	  -c "CREATE TABLE queries (id int PRIMARY KEY, v vector(128))" \
	  -c "CREATE TABLE gt (id int PRIMARY KEY, ids int[])"
	for t in items queries gt; do
		q -c "COPY $t TO STDOUT" | PGDATABASE=hnsw q -c "COPY $t FROM STDIN"
	done
	PGDATABASE=hnsw q -c "VACUUM ANALYZE items" -c "VACUUM ANALYZE queries"
	start=$(date +%s.%N)
	PGDATABASE=hnsw q -c "CREATE INDEX items_hnsw ON items USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64)"
	echo "build: $(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)") s," \
		"index $(PGDATABASE=hnsw q -c "SELECT pg_size_pretty(pg_relation_size('items_hnsw'))")"
	echo
	echo "| hnsw.ef_search | recall@10 | QPS | × exact |"
	echo "|---|---|---|---|"
	for ef in 10 16 24 32 40 64 100 128 200 400; do
		r=$(PGDATABASE=hnsw recall "SET enable_seqscan = off; SET hnsw.ef_search = $ef;" 1000)
		t=$(PGDATABASE=hnsw qps "-c enable_seqscan=off -c hnsw.ef_search=$ef" 5 "$work/q.sql")
		echo "| $ef | $r | $t | $(ratio "$t" "$exact_qps")× |"
		echo "$r $t" >>"$out/hnsw.dat"
		echo "$ef $r $t" >>"$out/hnsw.dat.points"
	done
	PGDATABASE=hnsw operating_points "pgvector HNSW" hnsw.ef_search "$out/hnsw.dat.points" "SET enable_seqscan = off;" \
		>>"$work/points"

	q -c "DROP DATABASE hnsw"
else
	echo "== pgvector HNSW: skipped, the vector extension is not installed (build pgvector 0.8.x from its source, make install)"
fi

echo
echo "== operating points (bisected between the sweeps' settings)"
cat "$work/points"

echo
echo "== inserts (one row per transaction, 10 s each; the throwaway cluster runs with fsync = off)"
build_index "" >/dev/null
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

# the plot: recall@10 against queries per second, one line per index
plots="'$out/rabitq.dat' using 1:2 with linespoints pt 7 title 'rabitq (ex_bits 3, default)',"
plots="$plots '$out/rabitq_ex0.dat' using 1:2 with linespoints pt 5 title 'rabitq, ex_bits 0',"
[ -s "$out/hnsw.dat" ] && plots="$plots '$out/hnsw.dat' using 1:2 with linespoints pt 9 title 'pgvector HNSW (m 16, ef_construction 64)',"
gnuplot <<GP
set terminal svg size 760,480 dynamic noenhanced font 'sans,12' background '#ffffff'
set output '$out/recall_qps.svg'
set title '$set_name: queries per second of one client against recall@10 (exact search: $exact_qps QPS)'
set xlabel 'recall@10'
set ylabel 'queries per second'
set logscale y
set grid
set key bottom left
set xrange [0.8:1.0]
plot ${plots%,}
GP
echo
echo "plot: $out/recall_qps.svg; report: $out/report.md"
rm -rf "$work"
