#!/bin/bash
# Installs the Debian packages vecrabitq needs to build, test and run its demo,
# when any is missing; with --bench also what the benchmarks use (gnuplot for
# the recall/QPS plots, bc).  Must run as root for the install; a no-op when
# all are present.  Used by `make deps`, `make test`, `make demo` and
# test/bench.
set -euo pipefail

packages=(
	make gcc libc6-dev                       # build
	postgresql-15 postgresql-server-dev-15   # server, PGXS, pg_regress, TAP modules
	libopenblas-dev liblapacke-dev           # GEMM for k-means and rotation, QR
	libipc-run-perl                          # PostgreSQL's TAP test modules
	qemu-user                                # runs tests on emulated CPUs without AVX-512/AVX
	clang libclang-rt-14-dev                 # libFuzzer harnesses (test/fuzz)
)
if [ "${1:-}" = --bench ]; then
	packages+=(gnuplot-nox bc)
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#packages[@]} packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing ${missing[*]}; run 'make deps' as root" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Keep package scripts from starting services (the stock "main" cluster):
# tests start their own throwaway clusters.  Only if no policy exists already.
policy=/usr/sbin/policy-rc.d
added_policy=
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod +x "$policy"
	added_policy=1
fi
trap '[ -n "$added_policy" ] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
