#!/bin/bash
# A throwaway PostgreSQL cluster for tests and the demo.  Source this file:
#
#   pgcluster_start DIR    initdb + start in DIR (owned by postgres when run as
#                          root); exports PGHOST, PGPORT, PGUSER, PGDATABASE
#   pgcluster_restart ENV  restart with extra environment (e.g. VECRABITQ_SIMD=scalar)
#   pgcluster_stop         stop it and remove DIR
#
# The server listens only on a Unix socket inside DIR, so it never collides
# with another server on the machine.  PostgreSQL refuses to run as root, so
# as root the server runs as the postgres user.  Safe under `set -e`.
# UTF-8 with the C locale on every machine: a minimal root has no locale, and
# initdb would pick SQL_ASCII, where ICU collations (the tests use one) do not exist.

PG_BINDIR=$(pg_config --bindir)
PGCLUSTER_DIR=

# Runs a command as the cluster's owner.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pgcluster_start() {
	PGCLUSTER_DIR=$1
	mkdir -p "$PGCLUSTER_DIR"
	if [ "$(id -u)" = 0 ]; then chown postgres: "$PGCLUSTER_DIR"; fi
	as_pg "$PG_BINDIR/initdb" -D "$PGCLUSTER_DIR/data" -A trust -U postgres -E UTF8 --locale=C \
		--no-sync >"$PGCLUSTER_DIR/initdb.log" 2>&1 || { cat "$PGCLUSTER_DIR/initdb.log"; return 1; }
	cat >>"$PGCLUSTER_DIR/data/postgresql.conf" <<-CONF
		listen_addresses = ''
		unix_socket_directories = '$PGCLUSTER_DIR'
		port = 54329
		fsync = off
		max_worker_processes = 8
		max_parallel_workers = 4
	CONF
	export PGHOST=$PGCLUSTER_DIR PGPORT=54329 PGUSER=postgres PGDATABASE=postgres
	pgcluster_restart ""
}

pgcluster_restart() {
	as_pg "$PG_BINDIR/pg_ctl" -D "$PGCLUSTER_DIR/data" -m fast stop >/dev/null 2>&1 || true
	as_pg env $1 "$PG_BINDIR/pg_ctl" -D "$PGCLUSTER_DIR/data" -l "$PGCLUSTER_DIR/server.log" \
		-w start >/dev/null || { tail -20 "$PGCLUSTER_DIR/server.log"; return 1; }
}

pgcluster_stop() {
	[ -n "$PGCLUSTER_DIR" ] || return 0
	as_pg "$PG_BINDIR/pg_ctl" -D "$PGCLUSTER_DIR/data" -m fast stop >/dev/null 2>&1 || true
	rm -rf "$PGCLUSTER_DIR"
	PGCLUSTER_DIR=
}
