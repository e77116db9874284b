#!/bin/bash
# Shared by the index benchmarks (source it from the project root):
#   bench_start SET [DATA_DIR]   checks the data set, builds vecs2pg, starts a
#                                throwaway cluster tuned for loading a million
#                                vectors (stopped on exit); sets $data
#   q ARGS...                    psql, quiet, unaligned, stopping on errors
. test/tools/pgcluster.sh

bench_start() {
	data=${2:-../shared/data}/$1
	[ -d "$data" ] || { echo "no data set at $data" >&2; exit 1; }
	make -s build/tools/vecs2pg >/dev/null
	trap pgcluster_stop EXIT
	pgcluster_start "$(mktemp -d)"
	cat >>"$PGCLUSTER_DIR/data/postgresql.conf" <<CONF
shared_buffers = '4GB'
maintenance_work_mem = '2GB'
work_mem = '64MB'
max_wal_size = '8GB'
checkpoint_timeout = '30min'
CONF
	pgcluster_restart ""
}

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
