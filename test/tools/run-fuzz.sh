#!/bin/bash
# Runs each libFuzzer harness (build/fuzz/*) for FUZZ_SECONDS (default 20)
# from its committed seed corpus (test/fuzz/corpus/NAME), with a fixed seed;
# new inputs go to a scratch directory, so the committed corpus never changes.
# Prints a TAP line per harness; a crash leaves its input in build/test-logs/.
# A harness that ran fewer than FUZZ_MIN_RUNS inputs (default 100,000; about
# 5 million run in 20 s here) fails: a fuzzer that barely ran proved nothing.
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-20}
min_runs=${FUZZ_MIN_RUNS:-100000}
n=0
rc=0
echo "1..2"
for name in text binary; do
	n=$((n + 1))
	work=$(mktemp -d)
	log=$work/log
	if build/fuzz/fuzz_$name -max_total_time="$secs" -seed=1 -max_len=4096 -rss_limit_mb=1024 \
		-artifact_prefix="build/test-logs/fuzz_$name-" "$work" "test/fuzz/corpus/$name" >"$log" 2>&1; then
		runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log")
		if [ "${runs:-0}" -ge "$min_runs" ]; then
			echo "ok $n - fuzz_$name: $runs inputs in ${secs} s, no failure"
		else
			echo "not ok $n - fuzz_$name ran ${runs:-no} inputs in ${secs} s, fewer than $min_runs"
			rc=1
		fi
	else
		echo "not ok $n - fuzz_$name failed"
		tail -30 "$log" | sed 's/^/# /'
		rc=1
	fi
	rm -rf "$work"
done
exit $rc
