#!/bin/bash
# Growth with the table: for generated clustered data (test/tools/gen_vectors,
# loaded in COPY's binary form, with exact ground truth computed by the
# generator itself) of each size, measures
#   - the build: serial and with one parallel worker (time, the backends'
#     peak private memory sampled every 0.2 s, leader and worker summed, the
#     phases' times), and that both builds have the same lists;
#   - the index size;
#   - recall@10 and queries per second of one client over a sweep of probes,
#     and the QPS and times exact search at the first setting reaching
#     recall 0.95 and 0.99 (exact = sequential scan,
#     max_parallel_workers_per_gather = 0, in the same run);
#   - inserts (one row per transaction) from 1 and 2 sessions into the table
#     with the index and, after dropping it, without;
# then prints the growth table and draws build time, QPS at fixed recall and
# index size against rows as SVG plots (gnuplot).
#
#   test/bench/bench_growth.sh [ROWS...]        (default: 100000 1000000 10000000)
#
# A size may also be sift1m: the million SIFT rows of ../shared/data (DATA
# overrides the directory) with 1,000 of their queries and their ground
# truth, 128 dimensions, L2; its row is printed apart and not plotted (the
# plots are of the generated sizes).
#
# Environment: DIM (128), METRIC (l2 or cosine), QUERIES (100), SEED (11).
# 10 M rows of 128 dimensions take about 6 GB of table and an hour on 2
# cores.  Reports; asserts nothing.
set -eu
cd "$(dirname "$0")/../.."
. test/bench/bench_cluster.sh

dim=${DIM:-128}
metric=${METRIC:-l2}
nq=${QUERIES:-100}
seed=${SEED:-11}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000 10000000)
case $metric in
	l2) ops=vector_l2_ops op='<->' ;;
	cosine) ops=vector_cosine_ops op='<=>' ;;
	*) echo "METRIC is l2 or cosine" >&2; exit 2 ;;
esac
out=build/bench/growth-$dim-$metric
mkdir -p "$out"
: >"$out/growth.dat"
: >"$out/growth-sift1m.dat"
bench_cluster_start
cat >>"$PGCLUSTER_DIR/data/postgresql.conf" <<CONF
max_worker_processes = 8
max_parallel_workers = 4
CONF
pgcluster_restart ""
q -c "CREATE EXTENSION vecrabitq"
gen="$PWD/build/tools/gen_vectors"
work=$(mktemp -d)
chmod 755 "$work"
mwm=$(q -c "SHOW maintenance_work_mem")
echo "== growth: $dim dimensions, $metric, $nq queries, maintenance_work_mem $mwm, sizes ${sizes[*]}"

secs() { printf '%.1f' "$(echo "${2:-$(date +%s.%N)} - $1" | bc)"; }	# FROM [TO]
secs2() { printf '%.2f' "$(echo "$(date +%s.%N) - $1" | bc)"; }	# FROM: build times, whose ratios are taken

# Runs CREATE INDEX with W workers; prints "seconds peak_MB" (private memory
# of the building backend and its workers, sampled) and leaves in
# $work/phases.W the seconds of its phases (sampling, k-means, loading and
# writing), from when pg_stat_progress_create_index first showed each.
build() {	# WORKERS
	local start pid peak=0 m ph last= t_sample= t_kmeans= t_load=
	q -c "DROP INDEX IF EXISTS items_v" >/dev/null
	start=$(date +%s.%N)
	PGOPTIONS="-c max_parallel_maintenance_workers=$1" PGAPPNAME=growth_build \
		q -c "CREATE INDEX items_v ON items USING rabitq (v $ops)" >/dev/null 2>"$work/build.err" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		m=$(for p in $(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'growth_build'
				OR leader_pid IN (SELECT pid FROM pg_stat_activity WHERE application_name = 'growth_build')" 2>/dev/null); do
				awk '/^RssAnon/ {print $2}' "/proc/$p/status" 2>/dev/null
			done | awk '{s += $1} END {print int(s / 1024)}')
		[ "${m:-0}" -gt "$peak" ] && peak=$m
		# the leader's row (its workers share its application_name)
		ph=$(q -c "SELECT p.phase FROM pg_stat_progress_create_index p JOIN pg_stat_activity a USING (pid)
			WHERE a.application_name = 'growth_build' AND a.backend_type = 'client backend'" 2>/dev/null || true)
		if [ -n "$ph" ] && [ "$ph" != "$last" ]; then
			case $ph in
				*sampling*) t_sample=$(date +%s.%N) ;;
				*k-means*) t_kmeans=$(date +%s.%N) ;;
				*assigning*) t_load=$(date +%s.%N) ;;
			esac
			last=$ph
		fi
		sleep 0.2
	done
	wait "$pid" || { cat "$work/build.err" >&2; exit 1; }
	if [ -n "$t_sample" ] && [ -n "$t_kmeans" ] && [ -n "$t_load" ]; then
		echo "sampling $(secs "$t_sample" "$t_kmeans") s, k-means $(secs "$t_kmeans" "$t_load") s," \
			"loading and writing $(secs "$t_load") s" >"$work/phases.$1"
	else
		echo "(a phase too short to be seen)" >"$work/phases.$1"
	fi
	echo "$(secs2 "$start") $peak"
}

recall() {	# PROBES
	q -c "SET enable_seqscan = off" -c "SET rabitq.probes = $1" -c "SELECT round(avg(h) / 10, 4) FROM (
		SELECT (SELECT count(*) FROM (SELECT id FROM items ORDER BY v $op q.v LIMIT 10) r WHERE r.id = ANY (t.ids)) AS h
		FROM queries q JOIN truth t ON t.qid = q.id) s" | tail -1
}

inserts() {	# CLIENTS
	pgbench -n -M prepared -c "$1" -j "$1" -T 10 -f "$work/ins.sql" 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p' | xargs printf '%.0f'
}

# ANALYZE estimates the table's rows from a sample (999,990 for a million,
# say), and a rabitq build sizes its sample and derives its lists from that
# estimate; every index build then records the exact count.  So the first of
# the two builds compared below would plan from another count than the
# second (a sample of 49,950 rows against 50,000: other lists).  A btree
# build first records the exact count for both.
exact_row_count() {
	q -c "CREATE INDEX items_id ON items (id)" -c "DROP INDEX items_id" >/dev/null
}

# Generated rows: the generator's table, queries and exact top 10.
load_generated() {	# ROWS
	q -c "COPY items FROM PROGRAM '$gen --binary $dim $1 $seed' WITH (FORMAT binary)" \
	  -c "COPY queries FROM PROGRAM '$gen --binary $dim $nq $seed 1000000000' WITH (FORMAT binary)" \
	  -c "VACUUM ANALYZE items" >/dev/null
	exact_row_count
	echo "loaded in $(secs "$start") s; table $(q -c "SELECT pg_size_pretty(pg_table_size('items'))") (with TOAST)"
	start=$(date +%s.%N)
	q -c "COPY truth FROM PROGRAM '$gen --truth $metric $dim $1 $seed 1000000000 $nq 10'"
	echo "ground truth (the generator's exact search) in $(secs "$start") s"
}

# sift1m: the data set's rows, its first nq queries (ids from 1000000000, as
# the generated ones) and their ground truth.
load_sift() {
	local data=${DATA:-../shared/data}/sift1m
	build/tools/vecs2pg "$data/base.bvecs" | q -c "\\copy items FROM STDIN"
	build/tools/vecs2pg --limit "$nq" "$data/query.fvecs" |
		awk -F '\t' '{print 1000000000 + $1 "\t" $2}' | q -c "\\copy queries FROM STDIN"
	build/tools/vecs2pg --limit "$nq" --columns 10 --array "$data/gt_l2.ivecs" |
		awk -F '\t' '{print 1000000000 + $1 "\t" $2}' | q -c "\\copy truth FROM STDIN"
	q -c "VACUUM ANALYZE items" >/dev/null
	exact_row_count
	echo "loaded in $(secs "$start") s; table $(q -c "SELECT pg_size_pretty(pg_table_size('items'))")"
}

for n in "${sizes[@]}"; do
	dat=$out/growth.dat nq=${QUERIES:-100}
	if [ "$n" = sift1m ]; then
		[ "$dim" = 128 ] && [ "$metric" = l2 ] || { echo "sift1m is 128 dimensions, l2" >&2; exit 2; }
		dat=$out/growth-sift1m.dat nq=1000
	fi
	echo
	echo "== $n rows"
	start=$(date +%s.%N)
	q -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS items, queries, truth" \
	  -c "CREATE TABLE items (id int, v vector($dim))" \
	  -c "CREATE TABLE queries (id int PRIMARY KEY, v vector($dim))" \
	  -c "CREATE TABLE truth (qid int, ids int[])" >/dev/null
	if [ "$n" = sift1m ]; then load_sift; else load_generated "$n"; fi
	printf '\\set q random(1000000000, %d)\nSELECT id FROM items ORDER BY v %s (SELECT v FROM queries WHERE id = :q) LIMIT 10;\n' \
		$((1000000000 + nq - 1)) "$op" >"$work/q.sql"

	[ "$n" = sift1m ] && n=$(q -c "SELECT count(*) FROM items")
	exact_secs=$(( n >= 5000000 ? 30 : 10 ))
	exact_qps=$(qps "-c enable_indexscan=off -c max_parallel_workers_per_gather=0" "$exact_secs" "$work/q.sql")
	echo "exact search: $exact_qps QPS"

	read -r t_par m_par <<<"$(build 1)"
	lists_par=$(q -c "SELECT lists || ' ' || list_min || ' ' || list_median || ' ' || list_max FROM rabitq_index_stats('items_v')")
	read -r t_ser m_ser <<<"$(build 0)"
	lists_ser=$(q -c "SELECT lists || ' ' || list_min || ' ' || list_median || ' ' || list_max FROM rabitq_index_stats('items_v')")
	size=$(q -c "SELECT pg_relation_size('items_v') / 1048576")
	same="no (parallel: $lists_par)"; [ "$lists_par" = "$lists_ser" ] && same=yes
	echo "build: serial $t_ser s (peak $m_ser MB), 1 worker $t_par s (peak $m_par MB, leader + worker);" \
		"speed-up $(ratio "$t_ser" "$t_par")×; lists (count min median max) $lists_ser; same lists: $same; index $size MB"
	echo "phases: serial $(cat "$work/phases.0"); 1 worker $(cat "$work/phases.1")"

	echo "| probes | recall@10 | QPS | × exact |"
	echo "|---|---|---|---|"
	r95= q95= r99= q99=
	for p in 1 2 4 8 16 24 32 48 64 96 128 192 256 384 512; do
		r=$(recall "$p")
		t=$(qps "-c enable_seqscan=off -c rabitq.probes=$p" 5 "$work/q.sql")
		echo "| $p | $r | $t | $(ratio "$t" "$exact_qps")× |"
		if [ -z "$q95" ] && awk -v r="$r" 'BEGIN { exit !(r >= 0.95) }'; then r95=$p q95=$t; fi
		if [ -z "$q99" ] && awk -v r="$r" 'BEGIN { exit !(r >= 0.99) }'; then r99=$p q99=$t; break; fi
	done

	printf '\\set r random(0, %d)\nINSERT INTO items SELECT nextval('"'ins_id'"'), v FROM queries WHERE id = 1000000000 + :r;\n' \
		$((nq - 1)) >"$work/ins.sql"
	q -c "DROP SEQUENCE IF EXISTS ins_id" -c "CREATE SEQUENCE ins_id START $((n + 1))"
	i1=$(inserts 1) i2=$(inserts 2)
	q -c "DROP INDEX items_v"
	p1=$(inserts 1) p2=$(inserts 2)
	echo "inserts rows/s: with the index $i1 (1 session), $i2 (2 sessions); without $p1, $p2"
	echo "$n $t_ser $t_par $m_ser $m_par $size ${q95:-0} ${q99:-0} $exact_qps ${r95:-0} ${r99:-0} $i1 $i2 $p1 $p2" >>"$dat"
done

table() {	# FILE
	echo "| rows | build serial | build 1 worker | peak memory serial / parallel | index | QPS at recall 0.95 (probes) | × exact | QPS at recall 0.99 (probes) | × exact | exact QPS | inserts/s 1 / 2 sessions | without index |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	while read -r n ts tp ms mp size q95 q99 ex r95 r99 i1 i2 p1 p2; do
		echo "| $n | $ts s | $tp s | $ms / $mp MB | $size MB | $q95 ($r95) | $(ratio "$q95" "$ex")× | $q99 ($r99) | $(ratio "$q99" "$ex")× | $ex | $i1 / $i2 | $p1 / $p2 |"
	done <"$1"
}
if [ -s "$out/growth-sift1m.dat" ] && [[ " ${sizes[*]} " == *" sift1m "* ]]; then
	echo
	echo "sift1m:"
	table "$out/growth-sift1m.dat"
fi
[ -s "$out/growth.dat" ] || { rm -rf "$work"; exit 0; }
echo
table "$out/growth.dat"

# Each size against the one before, and the last against the first: how much
# longer the builds took against n log n's ratio, and how much QPS at recall
# 0.95 fell against sqrt(n)'s (the issue's bounds).
growth() {	# FILE
	echo "| rows | × rows | build serial × | 1 worker × | n log n × | QPS at 0.95 ÷ | √n ÷ |"
	echo "|---|---|---|---|---|---|---|"
	awk 'function row(a, b) { printf "| %s → %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", n[a], n[b], n[b] / n[a],
			ts[b] / ts[a], tp[b] / tp[a], n[b] * log(n[b]) / (n[a] * log(n[a])), q[a] / q[b], sqrt(n[b] / n[a]) }
		{ n[NR] = $1; ts[NR] = $2; tp[NR] = $3; q[NR] = $7 }
		END { for (i = 2; i <= NR; i++) row(i - 1, i); if (NR > 2) row(1, NR) }' "$1"
}
echo
growth "$out/growth.dat"

plot() {	# FILE TITLE YLABEL PLOTS
	gnuplot <<GP
set terminal svg size 640,420 dynamic noenhanced font 'sans,12' background '#ffffff'
set output '$out/$1'
set title '$2'
set xlabel 'rows'
set ylabel '$3'
set logscale xy
set grid
set key top left
plot $4
GP
}
first=$(head -1 "$out/growth.dat")
read -r n0 ts0 _ _ _ size0 q950 q990 _ <<<"$first"
dat="'$out/growth.dat'"
plot build_time.svg "$dim dimensions, $metric: build time" seconds \
	"$dat using 1:2 with linespoints pt 7 title 'serial', $dat using 1:3 with linespoints pt 5 title 'one parallel worker', $ts0 * x * log(x) / ($n0 * log($n0)) with lines dt 2 title 'n log n from the first'"
plot qps.svg "$dim dimensions, $metric: queries per second at fixed recall@10" 'queries per second' \
	"$dat using 1:7 with linespoints pt 7 title 'recall 0.95', $dat using 1:8 with linespoints pt 5 title 'recall 0.99', $q950 * sqrt($n0 / x) with lines dt 2 title '1/sqrt(n) from the first'"
plot index_size.svg "$dim dimensions, $metric: index size" MB \
	"$dat using 1:6 with linespoints pt 7 title 'rabitq index', $size0 * x / $n0 with lines dt 2 title 'linear from the first'"
echo
echo "plots: $out/build_time.svg $out/qps.svg $out/index_size.svg"
rm -rf "$work"
