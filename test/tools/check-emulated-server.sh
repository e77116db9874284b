#!/bin/bash
# Runs the installed server and extension on emulated CPUs (qemu-user): one
# without any AVX (qemu64, plain x86-64) and one with AVX2 but no AVX-512
# (Haswell).  Proves the shipped binary runs there and that runtime dispatch
# picks the right kernels, which then compute the same distances as the
# native run.  Prints TAP-style lines and a summary.
set -u
cd "$(dirname "$0")/../.."
. test/tools/pgcluster.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$(id -u)" = 0 ]; then chown postgres: "$work"; fi
as_pg "$PG_BINDIR/initdb" -D "$work/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null 2>&1

# One text result: the kernel level, then the four distances over 37
# dimensions (odd tails for both SIMD widths), rounded so every variant must
# agree.  Single-user mode reads one statement per line.
query="CREATE EXTENSION IF NOT EXISTS vecrabitq;
SELECT 'result=' || vecrabitq_simd() || ' ' || string_agg(round(dist::numeric, 3)::text, ' ' ORDER BY k) FROM (SELECT array_agg(sin(i)::real)::vector AS a, array_agg(cos(3 * i)::real)::vector AS b FROM generate_series(1, 37) i) v, LATERAL (VALUES (1, a <-> b), (2, a <#> b), (3, a <=> b), (4, a <+> b)) d(k, dist) GROUP BY vecrabitq_simd();"

run_on() {	# CPU-MODEL: prints the result string
	echo "$query" | as_pg qemu-x86_64 -cpu "$1" "$PG_BINDIR/postgres" --single -D "$work/data" postgres 2>/dev/null |
		sed -n 's/.*= "result=\(.*\)".*/\1/p'
}

native=$(echo "$query" | as_pg "$PG_BINDIR/postgres" --single -D "$work/data" postgres 2>/dev/null |
	sed -n 's/.*= "result=\(.*\)".*/\1/p')
n=0 failed=0
echo "1..5"
check() {	# OK-CONDITION NAME
	n=$((n + 1))
	if [ "$1" = 1 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
check "$([ -n "$native" ] && echo 1)" "native run answers: $native"
for pair in qemu64:scalar Haswell:avx2; do
	cpu=${pair%%:*} want=${pair##*:}
	got=$(run_on "$cpu")
	check "$([ "${got%% *}" = "$want" ] && echo 1)" "on $cpu the server picks $want (got '${got%% *}')"
	check "$([ -n "$got" ] && [ "${got#* }" = "${native#* }" ] && echo 1)" \
		"on $cpu the distances equal the native run's"
done
echo "# emulated-server: $((n - failed)) passed, $failed failed"
[ $failed = 0 ]
