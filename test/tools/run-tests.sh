#!/bin/bash
# Runs every test suite and prints one line per suite and a total
# "N passed, N failed" (individual tests).  Exits non-zero if anything failed.
# Expects the extension built and installed (make test does that first).
#
# Suites that need a server share one throwaway cluster, started here as the
# postgres user and removed at the end.  Logs go to build/test-logs/.
set -u
cd "$(dirname "$0")/../.."
. test/tools/pgcluster.sh

LOGS=build/test-logs
rm -rf "$LOGS"
mkdir -p "$LOGS"
total_pass=0
total_fail=0
trap pgcluster_stop EXIT

# run_suite NAME COMMAND...: runs COMMAND, logs its output, counts its checks
# ("ok"/"not ok" lines, or pg_regress's "... ok"/"... FAILED") against the
# plan the suite printed ("1..N" lines, summed: every suite prints one, most
# before their first check).  Planned checks that never ran (the suite
# stopped early) count as failures; so do a suite with no plan, one that ran
# more checks than it planned, and one that exits non-zero without a failed
# check.  Skips ("# skip..." lines) are printed with their reasons.
run_suite() {
	local name=$1 log=$LOGS/$1.log rc pass fail planned ran start=$SECONDS
	shift
	"$@" >"$log" 2>&1
	rc=$?
	pass=$(grep -cE '^ok [0-9]|\.\.\. ok ' "$log")
	fail=$(grep -cE '^not ok [0-9]|\.\.\. FAILED' "$log")
	planned=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
	ran=$((pass + fail))
	if [ "$planned" = 0 ]; then
		fail=$((fail + 1))
		echo "not ok - $name printed no plan (it stopped before saying how many checks it makes)" >>"$log"
	elif [ "$ran" -lt "$planned" ]; then
		fail=$((fail + planned - ran))
		echo "not ok - $name: $((planned - ran)) of $planned planned checks never ran" >>"$log"
	elif [ "$ran" -gt "$planned" ]; then
		fail=$((fail + 1))
		echo "not ok - $name ran $ran checks but planned $planned" >>"$log"
	fi
	if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then
		fail=1
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	printf '%-22s %4d passed, %d failed  (%ds)\n' "$name" "$pass" "$fail" $((SECONDS - start))
	grep -iE '^# skip|# SKIP' "$log" | sed 's/^/    /'
	if [ "$fail" != 0 ]; then
		grep -E '^not ok|FAILED|^#   ' "$log" | head -20 | sed 's/^/    /'
		[ -f regression.diffs ] && [ "$name" = regress ] && head -60 regression.diffs | sed 's/^/    /'
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
}

# a skipped suite: one visible line with the reason
skip_suite() {	# NAME REASON
	printf '%-22s skipped (%s)\n' "$1" "$2"
}

# pg_regress over the given tests (default: the Makefile's REGRESS), with
# their number as the plan
regress_suite() {
	local tests=${1:-$(make -s print-regress)}
	echo "1..$(echo $tests | wc -w)"
	make -s installcheck REGRESS="$tests" 2>&1
}

# The tests an index scan runs in a server (scan, tenants, bad and hostile
# input), again on a lower kernel level, with the distance functions.
LEVEL_REGRESS="vector_functions rabitq_scan rabitq_tenants rabitq_bad_input rabitq_hostile"

# pg_regress with the server restarted on a lower kernel level; checks the
# level took effect, then runs LEVEL_REGRESS on it.
regress_on_level() {
	pgcluster_restart "VECRABITQ_SIMD=$1" || return 1
	local got
	echo "1..1"
	got=$(psql -X -At -d contrib_regression -c "SELECT vecrabitq_simd()")
	if [ "$got" = "$1" ]; then echo "ok 1 - server runs the $1 kernels"; else
		echo "not ok 1 - server runs the $1 kernels (got $got)"; fi
	regress_suite "$LEVEL_REGRESS"
}

# An unknown VECRABITQ_SIMD: a warning that names it, and the CPU's own level.
bad_level() {
	local native out
	echo "1..2"
	pgcluster_restart "" || return 1
	native=$(psql -X -At -d contrib_regression -c "SELECT vecrabitq_simd()")
	pgcluster_restart "VECRABITQ_SIMD=bogus" || return 1
	out=$(psql -X -At -d contrib_regression -c "SELECT vecrabitq_simd()" 2>&1)
	if echo "$out" | grep -q 'WARNING:  ignoring unknown VECRABITQ_SIMD value "bogus"'; then
		echo "ok 1 - VECRABITQ_SIMD=bogus: a warning names it"; else echo "not ok 1 - no warning: $out"; fi
	if [ "$(echo "$out" | tail -1)" = "$native" ]; then
		echo "ok 2 - and the server runs its CPU's level ($native)"; else echo "not ok 2 - level: $out"; fi
}

# The binary protocol client needs a database with the extension.
client_suite() {
	psql -X -q -c "DROP DATABASE IF EXISTS vr_client" -c "CREATE DATABASE vr_client" &&
		psql -X -q -d vr_client -c "CREATE EXTENSION vecrabitq" &&
		PGDATABASE=vr_client build/client/binary_io
}

cpu_has() { grep -qw "$1" /proc/cpuinfo; }

echo "== vecrabitq tests"
run_suite meta perl test/tools/check-meta.pl META.json vecrabitq.control
run_suite sql-lint perl test/tools/check-sql-qualified.pl build/sql/vecrabitq--*.sql sql/vecrabitq--*.sql
run_suite unit build/unit/rq_unit
run_suite fuzz test/tools/run-fuzz.sh
run_suite unit-qemu-haswell qemu-x86_64 -cpu Haswell build/unit/rq_unit_plain --quick --expect-isa avx2
# qemu64 claims to be an AMD K8, for which OpenBLAS picks its Opteron kernels;
# those use 3DNow! (femms), which qemu does not emulate.  A real CPU reports
# itself truthfully, so pin OpenBLAS to its SSE3 kernels for this model only.
run_suite unit-qemu-x86-64 env OPENBLAS_CORETYPE=Prescott \
	qemu-x86_64 -cpu qemu64 build/unit/rq_unit_plain --quick --expect-isa scalar

pgcluster_start "$(mktemp -d)" || { echo "could not start a test cluster"; exit 1; }
run_suite regress regress_suite
run_suite client client_suite
if cpu_has avx512f; then run_suite regress-avx2 regress_on_level avx2; else
	skip_suite regress-avx2 "no AVX-512 on this CPU: AVX2 is its native level, which regress ran"; fi
run_suite regress-scalar regress_on_level scalar
run_suite simd-env bad_level
pgcluster_stop

run_suite emulated-server test/tools/check-emulated-server.sh
run_suite tap test/tools/run-tap.sh

echo "== total: $total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
