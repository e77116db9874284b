#!/bin/bash
# make mutants: applies, one at a time, small deliberate bugs to the critical
# paths, rebuilds and installs, runs the suites that should catch each one,
# and prints which were killed and which survived.  A developer's tool, not
# part of make test (about 15 minutes on 2 cores); it changes the installed
# extension while it runs and reinstalls the unmutated build at the end.
# The mutants are applied to a copy of the tree (uncommitted changes
# included), never to the tree itself, so nothing done in the tree while it
# runs (an edit, a commit) can meet a mutant.
#
#   test/tools/mutants.sh [NAME...]     (default: every mutant)
#
# A mutant is a file, an exact piece of its text (which must occur exactly
# once) and its replacement; its suites are unit (the core's unit tests),
# regress:TEST,... (pg_regress against a throwaway cluster) and tap:NNN,...
# (TAP files by number).  Exit status 1 if any mutant survived or did not
# apply.
set -u
cd "$(dirname "$0")/../.."
. test/tools/pgcluster.sh

# NAME|FILE|TEXT|REPLACEMENT|SUITES  (TEXT and REPLACEMENT: perl strings, \t \n allowed)
MUTANTS=(
"bound-without-epsilon|src/core/rq_estimate.c|p->bound = (l2 ? 1.0f : 0.5f) * eps * lq->ynorm;|p->bound = 0.0f * eps * lq->ynorm;|tap:011"
"refine-without-epsilon|src/rabitq_probe.c|RabitqCandidatesRefine(run->cands, ids, n, run->ex_epsilon, est, lb);|RabitqCandidatesRefine(run->cands, ids, n, 0.0f, est, lb);|tap:011"
"strict-order-emits-late-row|src/core/rq_rerank.c|if (rr->strict && rr->emitted_any|if (0 && rr->strict && rr->emitted_any|unit regress:rabitq_scan"
"ex-lane-not-wal-logged|src/rabitq_insert.c|RabitqExLaneIn(g, GenericXLogRegisterBuffer(state, exbuf, 0), extid, lane)|RabitqExLaneIn(g, BufferGetPage(exbuf), extid, lane)|tap:002,003"
"vacuum-clears-a-live-lane|src/rabitq_vacuum.c|if (callback(&RabitqTailTids(g, it.tail)[it.lane], callback_state))|if (it.lane == 7 \|\| callback(&RabitqTailTids(g, it.tail)[it.lane], callback_state))|regress:rabitq_vacuum tap:004"
"deferred-block-loses-a-lane|src/rabitq_probe.c|RabitqForEachLane(l, d->lanes & RabitqUsedLanes(g, tail))|RabitqForEachLane(l, d->lanes & RabitqUsedLanes(g, tail) & 0x7F)|regress:rabitq_scan tap:001,011"
"insert-into-the-wrong-list|src/rabitq_insert.c|list = rq_nearest_list(rotated, codec->centroids, codec->centroid_norm2, codec->lists, codec->dp);|list = (rq_nearest_list(rotated, codec->centroids, codec->centroid_norm2, codec->lists, codec->dp) + 1) % codec->lists;|tap:001,007"
"cosine-clamp-dropped|src/core/rq_metric.c|if (similarity > 1.0)|if (similarity > 2.0)|unit regress:vector_functions"
"any-array-skips-an-element|src/rabitq_keys.c|for (int i = 0; i < nelems; i++)|for (int i = 1; i < nelems; i++)|regress:rabitq_tenants tap:009"
"key-filter-accepts-a-foreign-lane|src/rabitq_scan.h|if (RabitqKeyMatches(&so->cache->keys, &so->run.filter, RabitqTailKey(g, item, l)))|if (l == 0 \|\| RabitqKeyMatches(&so->cache->keys, &so->run.filter, RabitqTailKey(g, item, l)))|regress:rabitq_tenants"
"key-filter-inverted|src/rabitq_scan.h|if (RabitqKeyMatches(&so->cache->keys, &so->run.filter, RabitqTailKey(g, item, l)))|if (!RabitqKeyMatches(&so->cache->keys, &so->run.filter, RabitqTailKey(g, item, l)))|regress:rabitq_tenants"
"scan-stats-to-tenants|src/rabitq_scan.c|return superuser() \|\| has_bypassrls_privilege(role) \|\||return true \|\| superuser() \|\| has_bypassrls_privilege(role) \|\||tap:008"
"stats-under-row-security|src/rabitq_inspect.c|if (check_enable_rls(heapoid, InvalidOid, true) == RLS_ENABLED)|if (false && check_enable_rls(heapoid, InvalidOid, true) == RLS_ENABLED)|tap:007"
"check-skips-a-list|src/rabitq_check.c|for (int l = 0; l < cs.cache->codec.lists; l++)|for (int l = 1; l < cs.cache->codec.lists; l++)|tap:007"
"zero-cosine-vector-indexed|src/rabitq_encode.c|return rq_encode_vector(&codec->rotation, codec->metric, x, prep, rotated) != RQ_ERR_ZERO_VECTOR;|return rq_encode_vector(&codec->rotation, codec->metric, x, prep, rotated) != RQ_ERR_ZERO_VECTOR \|\| true;|regress:rabitq_options"
"half-tail-mask|src/core/rq_distance_avx512.c|_mm256_maskz_loadu_epi16(m, src + i)|_mm256_maskz_loadu_epi16((__mmask16) (m >> 1), src + i)|unit"
"upgrade-script-misses-a-function|sql/vecrabitq--0.1.0--0.2.0.sql|CREATE FUNCTION @extschema@.rabitq_support_ip_half|-- CREATE FUNCTION @extschema@.rabitq_support_ip_half|regress:upgrade"
"exact-path-skips-key-recheck|src/rabitq_scan.c|(!so->run.exact \|\| RabitqKeyRowMatches(|(!so->run.exact \|\| true \|\| RabitqKeyRowMatches(|regress:rabitq_keys"
"posting-hash-dropped|src/rabitq_keys.c|return hash_bytes_extended(image + 1, layout->key_bytes - 1, 0);|return hash_bytes_extended(image + 1, layout->key_bytes - 1, 0) & UINT64CONST(0xFFFFFFFF00000000);|regress:rabitq_keys"
"scan-forgets-xs-recheck|src/rabitq_scan.c|scan->xs_recheck = scan->numberOfKeys > 0;|scan->xs_recheck = false;|regress:rabitq_keys"
"parallel-build-drops-worker-postings|src/rabitq_build_parallel.c|for (int i = 0; i < counts[1]; i++)|for (int i = 0; i < 0; i++)|tap:014"
"parallel-build-misfiles-worker-rows|src/rabitq_build_parallel.c|RabitqBuildPut(bs, list, &e, residual2);|RabitqBuildPut(bs, (list + 1) % bs->lists, &e, residual2);|tap:014"
"probes-option-ignored|src/rabitq_lists.c|opts->probes > 0|opts->probes < 0|regress:rabitq_options"
"groups-bound-without-radius|src/core/rq_groups.c|sqrtf(cd[t]) - g->radius[cg[t]] - slack > best|sqrtf(cd[t]) - slack > best|unit"
"groups-keep-the-farthest|src/core/rq_groups.c|s->cands, j, d > 0.0f ? d : 0.0f);|s->cands, j, d > 0.0f ? -d : 0.0f);|unit"
"groups-cap-one-more|src/core/rq_groups.c|max_groups < ngroups ? max_groups : ngroups;|max_groups < ngroups ? max_groups + 1 : ngroups;|unit"
"worker-progress-never-started|src/rabitq_build_parallel.c|RabitqWorkerProgressStart(RelationGetRelid(heap), RelationGetRelid(index), index->rd_rel->relam,|if (0) RabitqWorkerProgressStart(RelationGetRelid(heap), RelationGetRelid(index), index->rd_rel->relam,|tap:014"
"kmeans-worker-groups-its-own-way|src/rabitq_build_kmeans.c|rq_kmeans_assigner_start(&assigner, &p->cfg, a->centroids, iteration, p->scratch);|rq_kmeans_assigner_start(&assigner, &p->cfg, a->centroids, iteration + IsParallelWorker(), p->scratch);|tap:014"
"release-without-widening|src/rabitq_probe.c|(float) (run->epsilon + RABITQ_RELEASE_WIDEN) / run->epsilon : 1.0f;|(float) run->epsilon / run->epsilon : 1.0f;|tap:011"
"planes-avx512-off-by-one-bit|src/core/rq_estimate_avx512.c|_mm512_set1_epi8((char) (1 << j))|_mm512_set1_epi8((char) (2 << j))|unit"
"levels-avx2-halves-swapped|src/core/rq_estimate_avx2.c|_mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)|_mm256_setr_epi32(4, 0, 5, 1, 6, 2, 7, 3)|unit"
"levels-avx512-nan-kept|src/core/rq_estimate_avx512.c|_mm512_max_ps(x, _mm512_setzero_ps())|_mm512_max_ps(_mm512_setzero_ps(), x)|unit"
"err-rounded-down|src/core/rq_quantize.c|bits = (bits \| 0xFFFFu) + 1u;|bits = bits & ~0xFFFFu;|unit"
"set-bits-not-counted-avx512|src/core/rq_estimate_avx512.c|sum = _mm512_add_epi64(sum, _mm512_slli_epi64(pop, 32));|sum = _mm512_add_epi64(sum, _mm512_slli_epi64(pop, 31));|unit"
"lanes-min-not-finite-ignored-simd|src/core/rq_estimate_impl.h|return NAN;|(void) 0;|unit"
"lanes-min-tree-keeps-first-scalar|src/core/rq_estimate.h|m[l] = lb[l] < lb[l + 4] ? lb[l] : lb[l + 4];|m[l] = lb[l + 4] < lb[l] ? lb[l + 4] : lb[l];|unit"
"block-estimate-drops-last-word|src/core/rq_estimate_impl.h|block_dot(codes, 0, words, planes, words, ip);|block_dot(codes, 0, words - 1, planes, words, ip);|unit"
"sample-kept-at-estimated-size|src/rabitq_build.c|if (capacity != sample.capacity)|if (capacity > 2 * sample.capacity)|regress:rabitq_options"
"list-walk-stops-after-first-page|src/rabitq_probe.c|next = PinAhead(so, RabitqPageGetOpaque(page)->next);|next = PinAhead(so, InvalidBlockNumber);|regress:rabitq_scan tap:001"
)

work=$(mktemp -d)
chmod 755 "$work"	# the cluster below runs as postgres
tree=$PWD
cluster=
cleanup() {
	[ -n "$cluster" ] && pgcluster_stop
	cd "$tree" && make -s install >/dev/null 2>&1	# the unmutated build again
	rm -rf "$work"
}
trap cleanup EXIT
# the copy the mutants go into (a test cluster owned by postgres reads it)
mkdir "$work/tree"
tar --exclude=./.git -cf - . | tar -xf - -C "$work/tree"
cd "$work/tree"

build() { make -s >/dev/null 2>&1 && make -s install >/dev/null 2>&1 && make -s build/unit/rq_unit >/dev/null 2>&1; }

# runs one suite spec; status 0 when it passes
run_spec() {
	local spec=$1 log=$2
	case $spec in
		unit) build/unit/rq_unit >>"$log" 2>&1 ;;
		regress:*)
			pgcluster_restart "" >/dev/null 2>&1
			local tests=${spec#regress:}
			make -s installcheck REGRESS="${tests//,/ }" >>"$log" 2>&1 ;;
		tap:*)
			local files=()
			local nums=${spec#tap:}
			for n in ${nums//,/ }; do files+=(test/t/"$n"_*.pl); done
			test/tools/run-tap.sh "${files[@]}" >>"$log" 2>&1 ;;
	esac
}

selected() {	# NAME: whether the command line asks for it
	[ ${#ARGS[@]} = 0 ] && return 0
	local a
	for a in "${ARGS[@]}"; do [ "$a" = "$1" ] && return 0; done
	return 1
}

ARGS=("$@")
build || { echo "the unmutated tree does not build"; exit 1; }
pgcluster_start "$work/pg" >/dev/null || { echo "could not start a test cluster"; exit 1; }
cluster=1
printf '| mutant | file | suites | result |\n|---|---|---|---|\n'
survived=0
for m in "${MUTANTS[@]}"; do
	IFS='|' read -r name file text repl suites <<<"$(echo "$m" | sed 's/\\|/\x01/g')"
	text=${text//$'\x01'/|}
	repl=${repl//$'\x01'/|}
	selected "$name" || continue
	cp "$file" "$work/orig.$name"
	count=$(OLD="$text" perl -0ne 'my $n = () = /\Q$ENV{OLD}\E/g; print $n' "$file")
	if [ "$count" != 1 ]; then
		echo "| $name | $file | $suites | did not apply ($count matches) |"
		survived=$((survived + 1))
		rm -f "$work/orig.$name"
		continue
	fi
	OLD="$text" NEW="$repl" perl -0pi -e 's/\Q$ENV{OLD}\E/$ENV{NEW}/' "$file"
	log=$work/$name.log
	result="survived"
	if ! build; then
		result="killed (does not build)"
	else
		for spec in $suites; do
			if ! run_spec "$spec" "$log"; then result="killed by $spec"; break; fi
		done
	fi
	cp "$work/orig.$name" "$file"
	rm -f "$work/orig.$name"
	[ "$result" = survived ] && { survived=$((survived + 1)); cp "$log" "$tree/build/mutant-$name.log" 2>/dev/null; }
	echo "| $name | $file | $suites | $result |"
done
echo
echo "$survived survived or did not apply"
[ "$survived" = 0 ]
