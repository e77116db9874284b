#!/bin/bash
# Shared by the index benchmarks (source it from the project root):
#   bench_start SET [DATA_DIR]   checks the data set, builds the tools, starts a
#                                throwaway cluster tuned for loading a million
#                                vectors (stopped on exit); sets $data
#   bench_cluster_start          the same without a data set (generated data)
#   bench_settings MB            restarts it with shared_buffers = MB, in huge
#                                pages when run as root (PostgreSQL's advice for a
#                                large shared_buffers; every index measured in the
#                                run gets the same memory)
#   q ARGS...                    psql, quiet, unaligned, stopping on errors
#   qps SETTINGS SECS SCRIPT     queries per second of one client running the
#                                pgbench script (prepared statements, as drivers
#                                run them), the median of three runs; SETTINGS
#                                go in PGOPTIONS, not in the timed script
#   drop_caches                  empties the kernel's page cache (root only)
#   scan_stats_lines             the rabitq scan statistics (DEBUG1) in a
#                                session's messages on stdin, one line per
#                                scan: lists probed, rows read from the heap,
#                                late rows
#   scan_stats_of SETTINGS SQL   those lines for the scans SQL runs
. test/tools/pgcluster.sh

bench_start() {
	data=${2:-../shared/data}/$1
	[ -d "$data" ] || { echo "no data set at $data" >&2; exit 1; }
	bench_cluster_start
}

# the cluster alone, for generated data
bench_cluster_start() {
	test/tools/deps.sh --bench >/dev/null
	make -s build/tools/vecs2pg build/tools/gen_vectors >/dev/null
	trap pgcluster_stop EXIT
	pgcluster_start "$(mktemp -d)"
	cat >>"$PGCLUSTER_DIR/data/postgresql.conf" <<CONF
maintenance_work_mem = '2GB'
work_mem = '64MB'
max_wal_size = '8GB'
checkpoint_timeout = '30min'
max_parallel_maintenance_workers = 0
CONF
	bench_settings 4096
}

bench_settings() {
	local mb=$1 pages free
	sed -i '/^shared_buffers/d' "$PGCLUSTER_DIR/data/postgresql.conf"
	echo "shared_buffers = '${mb}MB'" >>"$PGCLUSTER_DIR/data/postgresql.conf"
	as_pg "$PG_BINDIR/pg_ctl" -D "$PGCLUSTER_DIR/data" -m fast stop >/dev/null 2>&1 || true
	if [ "$(id -u)" = 0 ]; then
		# the 2 MB pages this server's shared memory takes, on top of what others hold
		pages=$(as_pg "$PG_BINDIR/postgres" -D "$PGCLUSTER_DIR/data" -C shared_memory_size_in_huge_pages)
		free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
		if [ "$free" -lt "$pages" ]; then
			echo $(( $(cat /proc/sys/vm/nr_hugepages) + pages - free )) >/proc/sys/vm/nr_hugepages
		fi
	fi
	pgcluster_restart ""
	echo "server: shared_buffers $(q -c 'SHOW shared_buffers'), $(awk '/HugePages_Total/ {t = $2} /HugePages_Free/ {f = $2} /HugePages_Rsvd/ {r = $2} END {print t - f + r}' /proc/meminfo) huge pages of 2 MB in use or reserved on the machine"
}

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

qps() {	# SETTINGS SECS SCRIPT
	for _ in 1 2 3; do
		PGOPTIONS="$1" pgbench -n -M prepared -c 1 -T "$2" -f "$3" 2>/dev/null |
			sed -n 's/^tps = \([0-9.]*\).*/\1/p'
	done | sort -n | sed -n 2p | awk '{printf ($1 < 10 ? "%.2f" : "%.1f"), $1}'
}

drop_caches() {
	[ "$(id -u)" = 0 ] || return 0
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# ratio A / B to one decimal
ratio() { echo "scale=1; $1 / $2" | bc; }

# Only a role that may read every row gets the statistics (the scan's own
# rule), so run it as the superuser, with any tenant's condition written out.
scan_stats_lines() {
	sed -n 's/.*rabitq scan: [a-z]*, \([0-9]*\) lists probed.* \([0-9]*\) exact distances, \([0-9]*\) late rows.*/\1 \2 \3/p'
}
scan_stats_of() {	# SETTINGS SQL
	q -c "$1" -c "SET client_min_messages = debug1" -c "$2" 2>&1 >/dev/null | scan_stats_lines
}
