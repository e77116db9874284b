#!/bin/bash
# Runs the TAP suites (test/t/*.pl, PostgreSQL::Test::Cluster) as the cluster
# owner: PostgreSQL refuses to run as root, so under root the tests run as
# the postgres user in a scratch directory it owns.  Arguments: test files
# (default: all).
set -u
cd "$(dirname "$0")/../.."
. test/tools/pgcluster.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$(id -u)" = 0 ]; then chown postgres: "$work"; fi
perl_lib="$(pg_config --pkglibdir)/pgxs/src/test/perl"
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(test/t/*.pl)

as_pg env TESTDIR="$work" PATH="$PG_BINDIR:$PATH" VECRABITQ_BUILD="$PWD/build" \
	PG_REGRESS="$(pg_config --pkglibdir)/pgxs/src/test/regress/pg_regress" \
	prove -v -I "$perl_lib" -I "$PWD/test/perl" "${tests[@]}"
rc=$?
# keep the logs of failed runs for inspection
if [ $rc != 0 ]; then mkdir -p build/test-logs/tap && cp -r "$work"/tmp_check/log/* build/test-logs/tap/ 2>/dev/null; fi
exit $rc
