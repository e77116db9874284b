/*
 * rabitq_probe.c
 *	  Probing lists for an ordered scan (doc/DESIGN.md 6): rank the lists by
 *	  their centroids, estimate every live entry of the nearest ones from
 *	  its 1-bit code, refine the promising ones from their B-bit codes while
 *	  the list's ex pages are at hand, and hand the candidates to the
 *	  re-rank (candidate ids: rabitq_candidates.h).
 *
 * Which candidates are promising: the scan keeps the smallest upper bounds
 * (estimate plus the bound's width) of everything it has estimated, as many
 * as a stream of RABITQ_NEAR_ROWS rows (or twice the rows returned so far)
 * needs; the largest of them, T, bounds the distance of the rows such a
 * stream returns.  An entry whose lower bound is below T may be one of
 * them: it is refined right away, in list order, so each ex page is read
 * once for many entries instead of once per entry.  An entry whose lower
 * bound is at least T matters only to a longer stream: it is deferred, and
 * one placeholder, keyed by the smallest deferred bound, waits in the
 * re-rank for all of them.  If the stream reaches the placeholder, the
 * deferred candidates join the re-rank and are refined when they come first
 * (RabitqReleaseDeferred).  Only the work moves, and the re-rank's pool
 * stays small.  A stream that gets that far is a long one, and near a long
 * stream's frontier almost any violated bound crosses a row already
 * returned (a late row: at epsilon 3 about one row in a thousand on
 * sift1m): so the released candidates join with their bounds widened to
 * epsilon + RABITQ_RELEASE_WIDEN (Widen): those of whole blocks computed
 * when they are deferred (eight lanes at once), those of single entries
 * when they are released (a LIMIT-10 scan rarely gets there; computing
 * them while deferring cost it 3 %).  The widening is the scan's first
 * epsilon's: epsilon only grows (late rows), so an entry deferred at a
 * larger one is widened by at least RABITQ_RELEASE_WIDEN of its own.
 * With ex_bits = 0 there is no refining: a candidate below T is pushed with
 * its 1-bit bound as final, the rest deferred.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "core/rq_distance.h"
#include "core/rq_metric.h"
#include "core/rq_select.h"
#include "rabitq_scan.h"

/* the first batch probes at most this many times the lists under key conditions */
#define RABITQ_FILTER_WIDEN 4

/* entries the arrays are sized for at most before they grow */
#define RABITQ_RESERVE_MAX (1 << 22)

/* rows a first batch refines for: a typical LIMIT (more are refined on demand) */
#define RABITQ_NEAR_ROWS 10

/* Lists scored per interrupt check: a score costs a Dp-float dot product. */
#define RABITQ_SCORE_CHUNK 256

/*
 * Scores every list for the query (rq_score_lists: smaller is probed
 * first); each batch then selects its lists from the scores (rq_select)
 * instead of sorting them all.  (Ranking inner product by the bound
 * <q, c> + |q| max|o - c| was tried and measured worse: the largest
 * residual is an outlier's.)  A query near the float limits can make scores
 * infinite or NaN; rq_select orders those too.
 */
static void
ScoreLists(RabitqScanOpaque so)
{
	const RabitqCodec *c = &so->cache->codec;

	so->run.score = palloc(sizeof(float) * c->lists);
	for (int l = 0; l < c->lists; l += RABITQ_SCORE_CHUNK)
	{
		rq_score_lists(c->metric, so->run.query, c->centroids + (Size) l * c->dp, c->centroid_norm2 + l,
					   Min(RABITQ_SCORE_CHUNK, c->lists - l), c->dp, so->run.score + l);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Asks the CPU to load the item at offset o, if there is one, while the
 * current one is estimated.  List pages come from shared buffers, rarely from
 * cache: without this, the first touch of every block record waits on memory.
 */
#define RABITQ_PREFETCH_ITEMS 4	/* items ahead */
#define RABITQ_PREFETCH_AHEAD 512	/* bytes of the next page's first item */

#define PrefetchItem(page, o, maxoff, size) \
	do { \
		if ((o) <= (maxoff)) \
			RabitqPrefetchRange(PageGetItem((page), PageGetItemId((page), (o))), (size)); \
	} while (0)

/* Pushes a candidate into the re-rank (ERROR when out of memory). */
void
RabitqPushCandidate(RabitqScanOpaque so, uint64 id, double key)
{
	if (rq_rerank_push(&so->rerank, id, key) != RQ_OK)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
}

/* Resizes an array to `cap` elements of `size` bytes in the scan's memory (the caller doubles cap). */
static void *
GrowArray(RabitqScanOpaque so, void *array, size_t cap, Size size)
{
	Size		bytes = mul_size(size, cap);

	return array ? repalloc_huge(array, bytes) : MemoryContextAllocHuge(so->scanctx, bytes);
}

/*
 * The 1-bit lower bound lb of estimate est (at the list's epsilon) widened
 * by ratio: the bound a deferred entry joins the re-rank with, if the
 * stream reaches it.  In float, as the bounds are (a DeferBlock runs it on
 * eight lanes at once), and never above lb, whatever the rounding; if
 * est - lb overflows, the result is lb (NaN fails the comparison) or
 * -infinity, which RabitqBoundKey keys first.
 */
static pg_attribute_always_inline float
Widen(float est, float lb, float ratio)
{
	float		wide = est - (est - lb) * ratio;

	return wide < lb ? wide : lb;
}

/* Widen's bound as a re-rank key. */
static inline double
RabitqReleaseKey(RabitqScanOpaque so, float est, float lb)
{
	return RabitqBoundKey(so, Widen(est, lb, so->run.release_ratio));
}

/*
 * Sets a candidate aside until the stream reaches its bound's key (see the
 * file header); it will join the re-rank at RabitqReleaseKey(est, lb).
 */
static pg_attribute_always_inline void
Defer(RabitqScanOpaque so, uint64 id, double key, float est, float lb)
{
	RabitqScanRun *run = &so->run;

	if (unlikely(run->ndeferred == run->deferred_cap))
	{
		run->deferred_cap = Max(256, run->deferred_cap * 2);
		run->deferred = GrowArray(so, run->deferred, run->deferred_cap, sizeof(RabitqEstimated));
	}
	run->deferred[run->ndeferred++] = (RabitqEstimated) {est, lb, id};
	/* a placeholder at or below every deferred bound waits in the re-rank */
	if (unlikely(rq_order_before(key, run->sentinel)))
	{
		RabitqPushCandidate(so, RABITQ_ID_DEFERRED, key);
		run->sentinel = key;
	}
}

/*
 * Defers the live lanes of a block (its tail item at blkno, off) when all
 * their lower bounds are at or above the threshold (most blocks): one
 * record, not eight, and the block's TIDs are not even copied; false
 * (nothing done) otherwise, or when a bound is not finite.  The record
 * keeps the widened bounds the lanes would be released with (Widen).
 * lanes_min is block_finish's rq_lanes_min of the eight bounds.
 */
static pg_attribute_always_inline bool
DeferBlock(RabitqScanOpaque so, BlockNumber blkno, OffsetNumber off, uint8 live, const float *est,
		   const float *lb, float lanes_min)
{
	RabitqScanRun *run = &so->run;
	float		min = INFINITY;
	float		nan_if_not_finite = 0.0f;
	double		key;
	RabitqDeferredBlock *d;

	/*
	 * Most blocks have every lane live: their minimum came with the bounds,
	 * from registers, NaN if a bound is not finite (reading the eight bounds
	 * back and folding them lane by lane here, where perf put a quarter of
	 * the probing's own time, made a sift1m query 1-4 % slower).  Otherwise
	 * over the live lanes without a branch: x - x is 0 for a finite x and
	 * NaN otherwise, so the sum of those of the live lanes is 0 exactly when
	 * every live bound is finite.
	 */
	if (live == (1 << RQ_BLOCK_LANES) - 1)
	{
		min = lanes_min;
		nan_if_not_finite = lanes_min - lanes_min;
	}
	else
		for (int l = 0; l < RQ_BLOCK_LANES; l++)
		{
			bool		on = (live >> l) & 1;
			float		x = on ? lb[l] : INFINITY;

			min = x < min ? x : min;
			nan_if_not_finite += on ? lb[l] - lb[l] : 0.0f;
		}
	key = RabitqBoundKey(so, min);
	if (nan_if_not_finite != 0.0f || rq_order_before(key, rq_kbest_bound(&run->near)))
		return false;
	if (unlikely(run->ndblocks == run->dblocks_cap))
	{
		run->dblocks_cap = Max(64, run->dblocks_cap * 2);
		run->dblocks = GrowArray(so, run->dblocks, run->dblocks_cap, sizeof(RabitqDeferredBlock));
	}
	d = &run->dblocks[run->ndblocks++];
	d->blkno = blkno;
	d->off = off;
	d->lanes = live;
	d->list_slot = run->list_slot;
	{
		float		wide[RQ_BLOCK_LANES];	/* local, so that the loop vectorizes */

		for (int l = 0; l < RQ_BLOCK_LANES; l++)
			wide[l] = Widen(est[l], lb[l], run->release_ratio);
		memcpy(d->lb, wide, sizeof(d->lb));
	}
	run->deferred_lanes += pg_popcount32(live);
	if (unlikely(rq_order_before(key, run->sentinel)))
	{
		RabitqPushCandidate(so, RABITQ_ID_DEFERRED, key);
		run->sentinel = key;
	}
	return true;
}

/*
 * Pushes the entries of a deferred block, reading its tail item again (on
 * the share-locked page) for the TIDs.  Entries never move, so the item is
 * still there; a lane VACUUM emptied since is skipped, and a lane refilled
 * since holds a row inserted after VACUUM ran, which this scan's MVCC
 * snapshot, older than that, cannot see: it drops out at its heap fetch.
 */
static void
ReleaseBlock(RabitqScanOpaque so, Page page, const RabitqDeferredBlock *d, uint64 flag)
{
	const RabitqGeometry *g = &so->cache->geom;
	ItemId		iid;
	char	   *tail;
	uint64		base;
	int			l;

	if (d->off > PageGetMaxOffsetNumber(page) ||
		ItemIdGetLength(iid = PageGetItemId(page, d->off)) != g->tail_size ||
		!RabitqItemIsTail(tail = PageGetItem(page, iid)))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("rabitq index \"%s\" lost a block record at (%u,%u)",
						RelationGetRelationName(so->index), d->blkno, d->off),
				 errhint("REINDEX the index.")));
	base = RabitqCandidatesAddBlock(so->run.cands, d->list_slot, tail) * RQ_BLOCK_LANES | flag;
	RabitqForEachLane(l, d->lanes & RabitqUsedLanes(g, tail))
		RabitqPushCandidate(so, base + l, RabitqBoundKey(so, d->lb[l]));
}

/* The stream reached a placeholder: every deferred candidate joins the re-rank. */
void
RabitqReleaseDeferred(RabitqScanOpaque so)
{
	RabitqScanRun *run = &so->run;
	uint64		flag = so->cache->geom.ex_bits > 0 ? 0 : RABITQ_ID_REFINED;
	Buffer		buf = InvalidBuffer;

	for (size_t i = 0; i < run->ndeferred; i++)
	{
		RabitqPushCandidate(so, run->deferred[i].id,
							RabitqReleaseKey(so, run->deferred[i].est, run->deferred[i].lb));
		if ((i & 4095) == 4095)	/* a long stream defers as many as the lists hold */
			CHECK_FOR_INTERRUPTS();
	}
	for (size_t i = 0; i < run->ndblocks; i++)
	{
		const RabitqDeferredBlock *d = &run->dblocks[i];

		/* consecutive records are mostly on one page */
		if (!BufferIsValid(buf) || BufferGetBlockNumber(buf) != d->blkno)
		{
			if (BufferIsValid(buf))
				UnlockReleaseBuffer(buf);
			buf = RabitqReadBuffer(so->index, so->cache, d->blkno);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			CHECK_FOR_INTERRUPTS();
		}
		ReleaseBlock(so, BufferGetPage(buf), d, flag);
	}
	if (BufferIsValid(buf))
		UnlockReleaseBuffer(buf);
	run->released += run->ndeferred + run->deferred_lanes;
	run->ndeferred = run->ndblocks = 0;
	run->deferred_lanes = 0;
	run->sentinel = INFINITY;
}

/* The re-rank key of an upper bound: +infinity (no information) when not finite. */
static inline double
UpperKey(RabitqScanOpaque so, float est, float lb)
{
	double		ub = 2.0 * (double) est - (double) lb;
	double		key = so->run.query_exp != 0 ? ldexp(ub, so->run.query_exp) : ub;

	return isfinite(key) ? key : INFINITY;
}

/* The threshold's size for the batch about to be probed: RABITQ_NEAR_ROWS, or twice the rows returned. */
static void
SizeThreshold(RabitqScanOpaque so)
{
	RabitqScanRun *run = &so->run;
	int			k = (int) Min(Max((uint64) RABITQ_NEAR_ROWS, 2 * run->returned), (uint64) INT_MAX / 16);

	if (run->near_heap != NULL && run->near.k == k)
		return;
	run->near_heap = MemoryContextAllocHuge(so->scanctx, sizeof(double) * k);
	rq_kbest_init(&run->near, run->near_heap, k);
}

/*
 * One estimated entry: its upper bound joins the smallest ones; below the
 * threshold it is queued to be refined (or, without ex-codes, pushed as
 * final), above it deferred.
 */
static pg_attribute_always_inline void
Offer(RabitqScanOpaque so, uint64 id, float est, float lb)
{
	RabitqScanRun *run = &so->run;
	double		key = RabitqBoundKey(so, lb);
	double		ub;

	/* most entries: at or above the threshold, so their upper bound is too */
	if (!rq_order_before(key, rq_kbest_bound(&run->near)))
	{
		Defer(so, id, key, est, lb);
		return;
	}
	ub = UpperKey(so, est, lb);
	if (ub < rq_kbest_bound(&run->near))
		rq_kbest_add(&run->near, ub);
	if (!rq_order_before(key, rq_kbest_bound(&run->near)))
		Defer(so, id, key, est, lb);
	else if (id & RABITQ_ID_REFINED)
		RabitqPushCandidate(so, id, key);
	else
	{
		if (run->nqueue == run->queue_cap)
		{
			run->queue_cap = Max(256, run->queue_cap * 2);
			run->queue = GrowArray(so, run->queue, run->queue_cap, sizeof(RabitqEstimated));
		}
		run->queue[run->nqueue++] = (RabitqEstimated) {est, lb, id};
	}
}

/*
 * Refines the queued entries of the list just estimated, in list order
 * (their ex items are in chain order, so a chunk shares a few pages),
 * unless the threshold has meanwhile dropped below an entry's 1-bit bound:
 * that one is deferred.
 */
static void
RefineQueue(RabitqScanOpaque so)
{
	RabitqScanRun *run = &so->run;
	uint64		ids[RABITQ_REFINE_MAX];
	float		est[RABITQ_REFINE_MAX],
				lb[RABITQ_REFINE_MAX];
	size_t		i = 0;

	while (i < run->nqueue)
	{
		int			n = 0;

		for (; i < run->nqueue && n < RABITQ_REFINE_MAX; i++)
		{
			RabitqEstimated e = run->queue[i];
			double		key = RabitqBoundKey(so, e.lb);

			if (rq_order_before(key, rq_kbest_bound(&run->near)))
				ids[n++] = e.id;
			else
				Defer(so, e.id, key, e.est, e.lb);
		}
		RabitqCandidatesRefine(run->cands, ids, n, run->ex_epsilon, est, lb);
		for (int j = 0; j < n; j++)
		{
			rq_kbest_add(&run->near, UpperKey(so, est[j], lb[j]));
			RabitqPushCandidate(so, ids[j] | RABITQ_ID_REFINED, RabitqBoundKey(so, lb[j]));
		}
		run->refined_early += n;
		CHECK_FOR_INTERRUPTS();
	}
	run->nqueue = 0;
}

/*
 * Estimates one locked list page and offers its live entries.  With key
 * conditions, a one-item record none of whose rows match costs a compare
 * per lane, not an estimate.
 */
static void
EstimatePage(RabitqScanOpaque so, Page page, BlockNumber blkno, const rq_estimate_params *params,
			 int64_t ip[RQ_BLOCK_LANES])
{
	const RabitqGeometry *g = &so->cache->geom;
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	float		est[RQ_BLOCK_LANES],
				lb[RQ_BLOCK_LANES];
	/* without ex-codes a 1-bit bound is final: the next step is the heap */
	uint64		flag = g->ex_bits > 0 ? 0 : RABITQ_ID_REFINED;

	for (OffsetNumber o = FirstOffsetNumber; o < FirstOffsetNumber + RABITQ_PREFETCH_ITEMS; o++)
		PrefetchItem(page, o, maxoff, g->tail_size);
	for (OffsetNumber o = FirstOffsetNumber; o <= maxoff; o = OffsetNumberNext(o))
	{
		char	   *item = PageGetItem(page, PageGetItemId(page, o));
		RabitqBlockHead *head = (RabitqBlockHead *) item;
		uint64		base;
		uint8		live = 0;
		float		lanes_min;
		int			l;

		PrefetchItem(page, o + RABITQ_PREFETCH_ITEMS, maxoff, g->tail_size);
		if (g->nseg == 1)
		{
			/* a block in one item: nothing to sum for a record with no live lane */
			if ((live = RabitqLiveLanes(so, item)) == 0)
				continue;
			lanes_min = rq_codes.block_estimate(RabitqItemCodes(item), g->words, so->run.planes,
												RabitqTailFactors(g, item), params, est, lb);
		}
		else
		{
			/* a block in segments: sum each, finish at its tail */
			rq_codes.block_dot(RabitqItemCodes(item), head->word_begin, head->word_end, so->run.planes,
							   g->words, ip);
			if (!RabitqItemIsTail(item))
				continue;
			lanes_min = rq_codes.block_finish(ip, RabitqTailFactors(g, item), params, est, lb);
			memset(ip, 0, sizeof(int64_t) * RQ_BLOCK_LANES);
			live = RabitqLiveLanes(so, item);
		}
		if (live == 0)
			continue;
		if (DeferBlock(so, blkno, o, live, est, lb, lanes_min))
			continue;
		base = RabitqCandidatesAddBlock(so->run.cands, so->run.list_slot, item) * RQ_BLOCK_LANES | flag;
		RabitqForEachLane(l, live)
			Offer(so, base + l, est[l], lb[l]);
	}
}

/*
 * Pins list page blkno (none when it is invalid) and asks the CPU to load
 * its head and first item while the current page is estimated: each page
 * of a probed list is otherwise first touched in memory, not cache, and
 * the wait was a tenth of the probing (sift1m, 24 lists).  Item 1 is the
 * page's first added, right below the special space (its first
 * RABITQ_PREFETCH_AHEAD bytes: a tail item at high dimensions fills most of
 * the page).
 */
static Buffer
PinAhead(RabitqScanOpaque so, BlockNumber blkno)
{
	Buffer		buf;
	char	   *page;
	Size		ahead;

	if (!BlockNumberIsValid(blkno))
		return InvalidBuffer;
	buf = RabitqReadBuffer(so->index, so->cache, blkno);
	page = BufferGetPage(buf);
	ahead = Min(so->cache->geom.tail_size, RABITQ_PREFETCH_AHEAD);
	RabitqPrefetchPageHead(page, FirstOffsetNumber);
	RabitqPrefetchRange(page + BLCKSZ - sizeof(RabitqPageOpaqueData) - ahead, ahead);
	return buf;
}

/*
 * Estimates every entry of list l, refines the promising ones, defers the
 * rest.  buf is its first page, pinned by PinAhead.  Each page
 * pins the next one first (PinAhead; reading a buffer while holding a
 * share lock on another is safe: eviction only tries the victim's lock).
 */
static void
ProbeList(IndexScanDesc scan, int l, Buffer buf)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	const RabitqCodec *c = &so->cache->codec;
	const float *centroid = c->centroids + (Size) l * c->dp;
	rq_residual_stats st;
	rq_list_query lq;
	rq_estimate_params params;
	int64_t		ip[RQ_BLOCK_LANES] = {0};

	if (!BufferIsValid(buf))
		return;
	/* the residual's stats once, for the 1-bit query here and the refining one */
	rq_residual_stats_of(so->run.query, centroid, c->dp, &st);
	so->run.list_slot = RabitqCandidatesAddList(so->run.cands, l, &st);
	rq_prepare_list_query_from(so->run.query, centroid, c->dp, c->metric, &st, so->run.planes, NULL, &lq);
	rq_estimate_setup(&lq, so->run.epsilon, &params);
	while (BufferIsValid(buf))
	{
		Page		page;
		Buffer		next;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		next = PinAhead(so, RabitqPageGetOpaque(page)->next);
		EstimatePage(so, page, BufferGetBlockNumber(buf), &params, ip);
		UnlockReleaseBuffer(buf);
		buf = next;
		CHECK_FOR_INTERRUPTS();
	}
	RefineQueue(so);
}

/* The first page of list l, pinned by PinAhead (InvalidBuffer for an empty list). */
static Buffer
PinList(IndexScanDesc scan, int l)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;

	return PinAhead(so, RabitqReadListEntry(scan->indexRelation, so->cache, l).first_page);
}

/*
 * Probes the next n lists (at most max_probes in all); false when none is
 * left.  Every call either probes a list or says none is left, so a scan
 * always ends: rq_select orders every score, NaN included.
 */
static bool
ProbeMore(IndexScanDesc scan, int n)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	RabitqScanRun *run = &so->run;
	int			limit = Min(run->probed + n, run->max_probes);
	int			count;
	Buffer		next;

	if (run->probed >= limit)
		return false;
	count = rq_select_smallest(run->score, so->cache->codec.lists, limit - run->probed,
							   run->probed > 0 ? &run->last_probed : NULL, run->batch);
	if (count <= 0)
	{
		run->max_probes = run->probed;	/* every list has been probed */
		return false;
	}
	/* each list's first page is pinned while the one before is probed */
	next = PinList(scan, run->batch[0].index);
	for (int i = 0; i < count; i++)
	{
		Buffer		buf = next;

		next = i + 1 < count ? PinList(scan, run->batch[i + 1].index) : InvalidBuffer;
		ProbeList(scan, run->batch[i].index, buf);
	}
	run->probed += count;
	run->last_probed = run->batch[count - 1];
	return true;
}

/* Probes the next batch of lists; false when no list is left to probe. */
bool
RabitqProbeNextBatch(IndexScanDesc scan)
{
	SizeThreshold((RabitqScanOpaque) scan->opaque);
	return ProbeMore(scan, ((RabitqScanOpaque) scan->opaque)->run.probes);
}

/*
 * Widens the first batch for key conditions.  Conditions that keep a
 * fraction f of the rows move the k-th matching row to about rank k / f of
 * the whole table, in lists farther from the query: on sift1m a 5 % tenant
 * needs twice the lists for an unfiltered scan's recall, a 40 % tenant 1.3
 * times, close to f^(-1/4).  f is measured on the lists just probed; the
 * extra lists join the first epoch, before any row is returned, so the order
 * stays exact.  At most RABITQ_FILTER_WIDEN times the lists.
 */
static void
WidenFirstBatch(IndexScanDesc scan)
{
	RabitqScanRun *run = &((RabitqScanOpaque) scan->opaque)->run;
	double		f;
	int			want;

	if (run->filter.ncons == 0 || run->lanes_seen == 0 || run->lanes_matched >= run->lanes_seen)
		return;
	f = (double) Max(run->lanes_matched, 1) / (double) run->lanes_seen;
	want = (int) Min(ceil(run->probes * pow(f, -0.25)), (double) run->probes * RABITQ_FILTER_WIDEN);
	if (want > run->probed)
		ProbeMore(scan, want - run->probed);
}

/*
 * Sizes the arrays for the first batch's entries up front (a quarter more
 * than an average batch holds), so that they are not copied while they grow.
 */
static void
ReserveForBatch(IndexScanDesc scan)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	RabitqScanRun *run = &so->run;
	double		rows = Max(scan->indexRelation->rd_rel->reltuples, 0.0);
	double		want = 1.25 * rows * run->probes / Max(so->cache->codec.lists, 1);
	size_t		entries = (size_t) Min(want, (double) RABITQ_RESERVE_MAX);

	if (entries <= 256)
		return;
	run->dblocks_cap = entries / RQ_BLOCK_LANES + 1;
	run->dblocks = MemoryContextAllocHuge(so->scanctx, sizeof(RabitqDeferredBlock) * run->dblocks_cap);
	RabitqCandidatesReserve(run->cands, entries / RQ_BLOCK_LANES + 1);
}

/*
 * Starts ordered probing: the lists' scores and the first batch.  The first
 * batch holds rabitq.probes lists (widened under key conditions); with
 * rabitq.iterative_scan, later batches go up to rabitq.max_probes lists.
 */
void
RabitqStartProbing(IndexScanDesc scan)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	RabitqScanRun *run = &so->run;
	const RabitqCodec *c = &so->cache->codec;

	run->planes = palloc(sizeof(uint64_t) * rq_query_plane_words(c->dp));
	run->probes = RabitqProbes(scan->indexRelation, c->lists, c->metric);
	run->max_probes = (rabitq_iterative_scan == RABITQ_ITERATIVE_OFF) ? run->probes
		: (rabitq_max_probes > 0 ? Max(rabitq_max_probes, run->probes) : c->lists);
	run->max_probes = Min(run->max_probes, c->lists);
	run->batch = palloc(sizeof(rq_ranked) * run->probes * RABITQ_FILTER_WIDEN);
	/* the first epsilon's (see the file header) */
	run->release_ratio = run->epsilon > 0 ? (float) (run->epsilon + RABITQ_RELEASE_WIDEN) / run->epsilon : 1.0f;
	ScoreLists(so);
	run->sentinel = INFINITY;
	ReserveForBatch(scan);
	RabitqProbeNextBatch(scan);
	WidenFirstBatch(scan);
}

