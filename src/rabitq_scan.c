/*
 * rabitq_scan.c
 *	  Ordered index scans (doc/DESIGN.md 6).
 *
 * On the first call: preprocess and rotate the query, rank the lists by
 * their centroids, and probe the first `probes` of them: for each block of
 * each probed list, estimate the eight distances and lower bounds with the
 * dispatched kernels and push every live entry into the streaming re-rank.
 * Each call then takes the next row from the re-rank, whose exact distance
 * comes from the heap tuple (fetched with the scan's MVCC snapshot, so rows
 * the snapshot cannot see drop out), so xs_recheckorderby is false.
 *
 * Ordering.  The re-rank runs in strict mode: within an epoch every row
 * comes out at an exact distance no smaller than the previous row's.  A row
 * whose RaBitQ lower bound overestimated its distance (the bound holds for
 * about 94 % of pairs at epsilon 1.9) is found only after a farther row went
 * out; it is set aside, not emitted out of order.  The first epoch covers
 * the first `probes` lists, so ORDER BY ... LIMIT k is exactly ordered
 * whenever those lists hold k rows.  When the executor asks for more (a
 * filter removed rows), a new epoch starts: rabitq.iterative_scan probes the
 * next lists (up to rabitq.max_probes) and the set-aside rows rejoin; the
 * order restarts there, so a row of a later epoch can be closer than one
 * returned earlier, as if an earlier search with fewer probes had missed it.
 *
 * A NULL query, or a zero query under cosine, has no order: every distance
 * is NULL (or NaN), so all rows are returned in index order.
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/pg_bitutils.h"
#include "storage/bufmgr.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/acl.h"
#include "utils/rel.h"

#include "core/rq_distance.h"
#include "core/rq_encode.h"
#include "core/rq_metric.h"
#include "core/rq_rerank.h"
#include "core/rq_select.h"
#include "rabitq.h"
#include "vector.h"

/* the first batch probes at most this many times the lists under key conditions */
#define RABITQ_FILTER_WIDEN 4

/*
 * What one scan (one amrescan) knows.  Every field starts at zero at every
 * amrescan (ResetRun), so no start path can leave one over from the
 * previous scan; its arrays live in scanctx, which the reset empties.
 */
typedef struct RabitqScanRun
{
	bool		started;
	bool		done;			/* nothing (more) can match: the scan returns no row */
	bool		unordered;		/* NULL (or zero cosine) query */
	bool		null_query;
	bool		exact;			/* ranking a key's rows from its postings */
	int			posted;			/* rows found in the postings */
	RabitqKeyFilter filter;		/* the key conditions */
	float	   *query;			/* rotated query, Dp */
	int			query_exp;		/* bounds are in units of 2^query_exp (rq_preprocess_query) */
	Vector	   *raw_query;		/* for exact distances */
	float	   *score;			/* per list: smaller is probed first */
	rq_ranked  *batch;			/* the lists of the current batch */
	rq_ranked	last_probed;	/* the last list probed (valid when probed > 0) */
	int			probed;			/* lists probed so far */
	int			probes;			/* lists per batch */
	uint64		lanes_seen;		/* live entries in the lists probed */
	uint64		lanes_matched;	/* ... of which match the key conditions */
	int			max_probes;		/* lists at most */
	float		epsilon;
	uint64_t   *planes;
	/* unordered mode: the TIDs of the current page, then the next page */
	int			cur_list;
	BlockNumber cur_page;
	ItemPointerData *page_tids;
	int			page_count;
	int			page_pos;
} RabitqScanRun;

typedef struct RabitqScanOpaqueData
{
	RabitqCache *cache;
	MemoryContext scanctx;		/* the run's arrays and the re-rank; reset by rescan */
	MemoryContext rowctx;		/* reset after every exact distance */
	rq_rerank	rerank;
	RabitqScanRun run;
	/* heap access for exact distances, for the scan's whole life */
	IndexFetchTableData *fetch;
	TupleTableSlot *slot;
	EState	   *estate;
	IndexInfo  *indexInfo;
} RabitqScanOpaqueData;

typedef RabitqScanOpaqueData *RabitqScanOpaque;

static void *
RabitqGrow(void *ctx, void *ptr, size_t size)
{
	MemoryContext mcxt = ctx;

	return ptr ? repalloc_huge(ptr, size) : MemoryContextAllocHuge(mcxt, size);
}

static void
RabitqRelease(void *ctx, void *ptr)
{
	(void) ctx;
	pfree(ptr);
}

static inline uint64_t
TidToId(ItemPointer tid)
{
	return ((uint64_t) ItemPointerGetBlockNumberNoCheck(tid) << 16) | ItemPointerGetOffsetNumberNoCheck(tid);
}

static inline void
IdToTid(uint64_t id, ItemPointer tid)
{
	ItemPointerSet(tid, (BlockNumber) (id >> 16), (OffsetNumber) (id & 0xFFFF));
}

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
#define RABITQ_PREFETCH_ITEMS 2	/* items ahead: 2-3 measured best of 1..6 on sift1m */

static inline void
PrefetchItem(Page page, OffsetNumber o, OffsetNumber maxoff, Size size)
{
	char	   *item;

	if (o > maxoff)
		return;
	item = PageGetItem(page, PageGetItemId(page, o));
	for (Size off = 0; off < size; off += 64)
		__builtin_prefetch(item + off);
}

/* The lanes of a tail item that hold a row meeting the key conditions. */
static inline uint8
LiveLanes(RabitqScanOpaque so, const char *item)
{
	const RabitqGeometry *g = &so->cache->geom;
	uint8		used = RabitqUsedLanes(g, item);
	uint8		mask = 0;
	int			l;

	if (so->run.filter.ncons == 0)
		return used;
	RabitqForEachLane(l, used)
	{
		if (RabitqKeyMatches(&so->cache->keys, &so->run.filter, RabitqTailKey(g, item, l)))
			mask |= (uint8) (1 << l);
	}
	so->run.lanes_seen += pg_popcount32(used);
	so->run.lanes_matched += pg_popcount32(mask);
	return mask;
}

/*
 * The re-rank key of a lower bound.  A bound that is not a finite number
 * came from arithmetic past the float range (a query near the limits) and
 * bounds nothing: -infinity, so that row's exact distance is computed before
 * any row goes out.  Bounds of a scaled inner-product query are scaled back
 * to the exact distances' units.
 */
static inline double
BoundKey(const RabitqScanOpaque so, float lb)
{
	double		key = so->run.query_exp != 0 ? ldexp((double) lb, so->run.query_exp) : (double) lb;

	return isfinite(key) ? key : -INFINITY;
}

/*
 * Estimates one locked list page and pushes its live entries.  With key
 * conditions, a one-item record none of whose rows match costs a compare
 * per lane, not an estimate.
 */
static void
EstimatePage(RabitqScanOpaque so, Page page, const rq_estimate_params *params,
			 int64_t ip[RQ_BLOCK_LANES])
{
	const RabitqGeometry *g = &so->cache->geom;
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	float		est[RQ_BLOCK_LANES],
				lb[RQ_BLOCK_LANES];

	for (OffsetNumber o = FirstOffsetNumber; o < FirstOffsetNumber + RABITQ_PREFETCH_ITEMS; o++)
		PrefetchItem(page, o, maxoff, g->tail_size);
	for (OffsetNumber o = FirstOffsetNumber; o <= maxoff; o = OffsetNumberNext(o))
	{
		char	   *item = PageGetItem(page, PageGetItemId(page, o));
		RabitqBlockHead *head = (RabitqBlockHead *) item;
		ItemPointerData *tids;
		uint8		live = 0;
		int			l;

		PrefetchItem(page, o + RABITQ_PREFETCH_ITEMS, maxoff, g->tail_size);
		if (head->nseg == 1 && (live = LiveLanes(so, item)) == 0)
			continue;
		rq_codes.block_dot(RabitqItemCodes(item), head->word_begin, head->word_end, so->run.planes,
						   g->words, ip);
		if (!RabitqItemIsTail(item))
			continue;			/* a segment: its tail follows */
		rq_codes.block_finish(ip, RabitqTailFactors(g, item), params, est, lb);
		memset(ip, 0, sizeof(int64_t) * RQ_BLOCK_LANES);
		if (head->nseg > 1)
			live = LiveLanes(so, item);
		tids = RabitqTailTids(g, item);
		RabitqForEachLane(l, live)
		{
			if (rq_rerank_push(&so->rerank, TidToId(&tids[l]), BoundKey(so, lb[l])) != RQ_OK)
				ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		}
	}
}

/* Estimates every entry of list l and pushes it into the re-rank. */
static void
ProbeList(IndexScanDesc scan, int l)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	RabitqCache *cache = so->cache;
	const RabitqCodec *c = &cache->codec;
	RabitqListEntry entry = RabitqReadListEntry(scan->indexRelation, cache, l);
	BlockNumber blkno = entry.first_page;
	rq_list_query lq;
	rq_estimate_params params;
	int64_t		ip[RQ_BLOCK_LANES] = {0};

	if (!BlockNumberIsValid(blkno))
		return;
	rq_prepare_list_query(so->run.query, c->centroids + (Size) l * c->dp, c->dp, c->metric,
						  so->run.planes, NULL, &lq);
	rq_estimate_setup(&lq, so->run.epsilon, &params);
	while (BlockNumberIsValid(blkno))
	{
		Buffer		buf = ReadBuffer(scan->indexRelation, blkno);
		Page		page;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		EstimatePage(so, page, &params, ip);
		blkno = RabitqPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
		CHECK_FOR_INTERRUPTS();
	}
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

	if (run->probed >= limit)
		return false;
	count = rq_select_smallest(run->score, so->cache->codec.lists, limit - run->probed,
							   run->probed > 0 ? &run->last_probed : NULL, run->batch);
	if (count <= 0)
	{
		run->max_probes = run->probed;	/* every list has been probed */
		return false;
	}
	for (int i = 0; i < count; i++)
		ProbeList(scan, run->batch[i].index);
	run->probed += count;
	run->last_probed = run->batch[count - 1];
	return true;
}

/* Probes the next batch of lists; false when no list is left to probe. */
static bool
ProbeNextBatch(IndexScanDesc scan)
{
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
 * Exact distance of the heap row id, in the estimator's units (squared L2,
 * negative inner product, cosine distance); 0 if the snapshot cannot see it.
 * Called once per candidate the re-rank settles, so it checks for interrupts.
 */
static int
ExactDistance(void *ctx, uint64_t id, double *distance)
{
	IndexScanDesc scan = ctx;
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	MemoryContext old;
	ItemPointerData tid;
	bool		call_again = false,
				all_dead = false;
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	int			found = 0;
	int			vattno = so->cache->keys.vector_attno;

	CHECK_FOR_INTERRUPTS();
	old = MemoryContextSwitchTo(so->rowctx);
	IdToTid(id, &tid);
	if (table_index_fetch_tuple(so->fetch, &tid, scan->xs_snapshot, so->slot, &call_again, &all_dead))
	{
		GetPerTupleExprContext(so->estate)->ecxt_scantuple = so->slot;
		FormIndexDatum(so->indexInfo, so->slot, so->estate, values, isnull);
		/* a posting names a key hash: the row itself must have the keys */
		if (!isnull[vattno] &&
			(!so->run.exact || RabitqKeyRowMatches(&so->cache->keys, &so->run.filter, values, isnull)))
		{
			Vector	   *v = DatumGetVector(values[vattno]);
			Vector	   *q = so->run.raw_query;

			if (v->dim == q->dim)
			{
				/* exactly the SQL operator's distance (rq_metric.h) */
				*distance = rq_metric_distance(so->cache->codec.metric, q->x, v->x, v->dim);
				found = 1;
			}
		}
		ExecClearTuple(so->slot);
	}
	ResetExprContext(GetPerTupleExprContext(so->estate));
	MemoryContextSwitchTo(old);
	MemoryContextReset(so->rowctx);
	return found;
}

static int
CompareTidsArg(const void *a, const void *b, void *arg)
{
	(void) arg;
	return ItemPointerCompare((ItemPointer) a, (ItemPointer) b);
}

/*
 * When the key conditions fix every key column and the postings hold at
 * most rabitq.exact_limit rows with those keys, ranks exactly those rows:
 * each waits with a lower bound of -infinity, so the re-rank computes every
 * exact distance before the first row goes out, and the stream is complete
 * and exactly ordered.  False (nothing done) otherwise.
 */
static bool
StartExactScan(IndexScanDesc scan)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	RabitqCache *c = so->cache;
	int			limit = rabitq_exact_limit;
	uint8	   *images;
	ItemPointerData *tids;
	int			nimages,
				total = 0,
				unique = 0;

	if (limit <= 0 || so->run.filter.ncons == 0)
		return false;
	images = palloc(mul_size(RABITQ_MAX_EXACT_KEYS, c->keys.key_bytes));
	nimages = RabitqKeyFilterImages(&c->keys, &so->run.filter, RABITQ_MAX_EXACT_KEYS, images);
	if (nimages < 0)
		return false;
	tids = palloc(sizeof(ItemPointerData) * ((Size) limit + 1));
	for (int i = 0; i < nimages && total <= limit; i++)
		total += RabitqPostingLookup(scan->indexRelation, c,
									 RabitqKeyHash(&c->keys, images + (Size) i * c->keys.key_bytes),
									 limit - total, tids + total);
	if (total > limit)
		return false;
	/* two keys of a set may share a hash: rank each row once */
	qsort_interruptible(tids, total, sizeof(ItemPointerData), CompareTidsArg, NULL);
	for (int i = 0; i < total; i++)
	{
		if (i > 0 && ItemPointerEquals(&tids[i], &tids[i - 1]))
			continue;
		unique++;
		if (rq_rerank_push(&so->rerank, TidToId(&tids[i]), -INFINITY) != RQ_OK)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	so->run.exact = true;
	so->run.posted = unique;
	return true;
}

/*
 * Starts ordered probing: the lists' scores and the first batch.  The first
 * batch holds rabitq.probes lists (widened under key conditions); with
 * rabitq.iterative_scan, later batches go up to rabitq.max_probes lists.
 */
static void
StartProbing(IndexScanDesc scan)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	RabitqScanRun *run = &so->run;
	const RabitqCodec *c = &so->cache->codec;

	run->planes = palloc(sizeof(uint64_t) * rq_query_plane_words(c->dp));
	run->probes = RabitqProbes(scan->indexRelation, c->lists, c->metric);
	run->max_probes = (rabitq_iterative_scan == RABITQ_ITERATIVE_OFF) ? run->probes
		: (rabitq_max_probes > 0 ? Max(rabitq_max_probes, run->probes) : c->lists);
	run->max_probes = Min(run->max_probes, c->lists);
	run->epsilon = (float) rabitq_epsilon;
	run->batch = palloc(sizeof(rq_ranked) * run->probes * RABITQ_FILTER_WIDEN);
	ScoreLists(so);
	ProbeNextBatch(scan);
	WidenFirstBatch(scan);
}

/* The query vector checked and rotated; false if it has no order (cosine of zero). */
static bool
PrepareQuery(IndexScanDesc scan)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	RabitqScanRun *run = &so->run;
	const RabitqCodec *c = &so->cache->codec;

	run->raw_query = DatumGetVector(scan->orderByData[0].sk_argument);
	if (run->raw_query->dim != c->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", c->dim, run->raw_query->dim)));
	run->query = palloc(sizeof(float) * c->dp);
	/* cosine of a zero query: NaN for every row, no order */
	return rq_encode_query(&c->rotation, c->metric, run->raw_query->x, palloc(sizeof(float) * c->dim),
						   run->query, &run->query_exp) != RQ_ERR_ZERO_VECTOR;
}

/* First call: the key conditions, the query, and the first batch (or the exact ranking). */
static void
StartScan(IndexScanDesc scan)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	RabitqScanRun *run = &so->run;
	RabitqCache *cache;
	MemoryContext old;

	if (!IsMVCCSnapshot(scan->xs_snapshot))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("non-MVCC snapshots are not supported with rabitq")));
	old = MemoryContextSwitchTo(so->scanctx);
	cache = so->cache = RabitqGetCache(scan->indexRelation);
	run->started = true;
	run->cur_page = InvalidBlockNumber;
	run->page_tids = palloc(sizeof(ItemPointerData) * RQ_BLOCK_LANES *
							(BLCKSZ / (sizeof(RabitqBlockHead) + sizeof(ItemIdData))));

	RabitqKeyFilterInit(&cache->keys, scan->keyData, scan->numberOfKeys, &run->filter);
	run->done = run->filter.empty;	/* contradictory or NULL key conditions */
	run->null_query = scan->numberOfOrderBys == 0 || (scan->orderByData[0].sk_flags & SK_ISNULL);
	run->unordered = run->null_query || !PrepareQuery(scan);
	if (!run->done && !run->unordered && !StartExactScan(scan))
		StartProbing(scan);
	MemoryContextSwitchTo(old);
}

/* Unordered mode: collects the live TIDs of page blkno; returns its next page. */
static BlockNumber
ReadPageTids(IndexScanDesc scan, BlockNumber blkno)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	const RabitqGeometry *g = &so->cache->geom;
	Buffer		buf = ReadBuffer(scan->indexRelation, blkno);
	Page		page;
	BlockNumber next;
	OffsetNumber maxoff;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	maxoff = PageGetMaxOffsetNumber(page);
	so->run.page_count = so->run.page_pos = 0;
	for (OffsetNumber o = FirstOffsetNumber; o <= maxoff; o = OffsetNumberNext(o))
	{
		char	   *item = PageGetItem(page, PageGetItemId(page, o));
		int			l;

		if (!RabitqItemIsTail(item))
			continue;
		RabitqForEachLane(l, LiveLanes(so, item))
			so->run.page_tids[so->run.page_count++] = RabitqTailTids(g, item)[l];
	}
	next = RabitqPageGetOpaque(page)->next;
	UnlockReleaseBuffer(buf);
	return next;
}

/* Unordered mode: the next live TID of any list, in index order. */
static bool
NextUnordered(IndexScanDesc scan, ItemPointer tid)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	RabitqScanRun *run = &so->run;

	while (run->page_pos >= run->page_count)
	{
		if (!BlockNumberIsValid(run->cur_page))
		{
			if (run->cur_list >= so->cache->codec.lists)
				return false;
			run->cur_page = RabitqReadListEntry(scan->indexRelation, so->cache, run->cur_list++).first_page;
			run->page_count = run->page_pos = 0;
			continue;
		}
		run->cur_page = ReadPageTids(scan, run->cur_page);
		CHECK_FOR_INTERRUPTS();
	}
	*tid = run->page_tids[run->page_pos++];
	return true;
}

/* Forgets the last scan: every per-scan field back to zero, its memory freed. */
static void
ResetRun(RabitqScanOpaque so)
{
	/* the re-rank's arrays live in scanctx: forget them before resetting it */
	rq_rerank_forget(&so->rerank);
	MemoryContextReset(so->scanctx);
	memset(&so->run, 0, sizeof(so->run));
}

IndexScanDesc
rabitqbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	RabitqScanOpaque so = palloc0(sizeof(RabitqScanOpaqueData));
	rq_allocator alloc;

	so->scanctx = AllocSetContextCreate(CurrentMemoryContext, "rabitq scan", ALLOCSET_DEFAULT_SIZES);
	so->rowctx = AllocSetContextCreate(CurrentMemoryContext, "rabitq scan row", ALLOCSET_SMALL_SIZES);
	alloc.grow = RabitqGrow;
	alloc.release = RabitqRelease;
	alloc.ctx = so->scanctx;
	rq_rerank_init(&so->rerank, &alloc);
	rq_rerank_set_strict(&so->rerank, 1);
	so->indexInfo = BuildIndexInfo(index);
	so->estate = CreateExecutorState();
	/* the AM provides the ORDER BY value arrays (as GiST does) */
	if (norderbys > 0)
	{
		scan->xs_orderbyvals = palloc0(sizeof(Datum) * norderbys);
		scan->xs_orderbynulls = palloc(sizeof(bool) * norderbys);
	}
	scan->opaque = so;
	return scan;
}

/*
 * Whether the current role could read every row of the table anyway: a
 * superuser, a role with BYPASSRLS, or the table's owner (who can turn row
 * security off).  Only such a role gets the scan statistics: they count
 * rows near the query whoever owns them, so for anyone else they would
 * describe other tenants' rows.  Asked of the table the scan reads, a
 * partition too: its parent's policies do not show on it.
 */
static bool
MayReadEveryRow(Relation heap)
{
	Oid			role = GetUserId();

	return superuser() || has_bypassrls_privilege(role) ||
		pg_class_ownercheck(RelationGetRelid(heap), role);
}

/* What the last scan did, for tuning (DEBUG1; counts only, no row data). */
static void
ReportScanStats(IndexScanDesc scan)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	RabitqScanRun *run = &so->run;

	if (!run->started || run->unordered || run->done || !message_level_is_interesting(DEBUG1))
		return;
	if (scan->heapRelation == NULL || !MayReadEveryRow(scan->heapRelation))
		return;
	elog(DEBUG1, "rabitq scan: %s, %d lists probed, %d rows from postings, %zu candidates pending, "
		 "%zu bounds refined, %zu exact distances, %zu late rows, %zu refills",
		 run->exact ? "exact" : "probing", run->probed, run->posted, rq_rerank_remaining(&so->rerank),
		 so->rerank.refined,
		 so->rerank.exact_computed - so->rerank.refined, so->rerank.late_rows,
		 so->rerank.refills);
}

void
rabitqrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;

	(void) nkeys;
	(void) norderbys;
	ReportScanStats(scan);
	ResetRun(so);
	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
}

/* The next row in exact order into scan->xs_heaptid; false at the end. */
static bool
NextOrdered(IndexScanDesc scan)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	uint64_t	id;
	double		distance;

	for (;;)
	{
		int			r = rq_rerank_next(&so->rerank, ExactDistance, scan, &id, &distance);
		bool		more;
		size_t		back;

		if (r < 0)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		if (r == 1)
			break;
		/* the epoch ran dry: next lists and the rows set aside as late */
		CHECK_FOR_INTERRUPTS();
		more = !so->run.exact && ProbeNextBatch(scan);
		back = rq_rerank_new_epoch(&so->rerank);
		if (back == RQ_EPOCH_NO_MEMORY)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		if (back == 0 && !more)
			return false;
	}
	IdToTid(id, &scan->xs_heaptid);
	scan->xs_orderbyvals[0] = Float8GetDatum(rq_metric_sql_value(so->cache->codec.metric, distance));
	scan->xs_orderbynulls[0] = false;
	return true;
}

bool
rabitqgettuple(IndexScanDesc scan, ScanDirection dir)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;

	(void) dir;					/* forward only (amcanbackward is false) */
	if (!so->run.started)
	{
		if (so->fetch == NULL)
		{
			so->fetch = table_index_fetch_begin(scan->heapRelation);
			so->slot = table_slot_create(scan->heapRelation, NULL);
		}
		StartScan(scan);
	}
	/* key conditions are checked here exactly; the executor checks them again anyway */
	scan->xs_recheck = scan->numberOfKeys > 0;
	scan->xs_recheckorderby = false;
	if (so->run.done)
		return false;
	if (!so->run.unordered)
		return NextOrdered(scan);
	if (!NextUnordered(scan, &scan->xs_heaptid))
		return false;
	if (scan->numberOfOrderBys > 0)
	{
		scan->xs_orderbyvals[0] = so->run.null_query ? (Datum) 0 : Float8GetDatum(get_float8_nan());
		scan->xs_orderbynulls[0] = so->run.null_query;
	}
	return true;
}

void
rabitqendscan(IndexScanDesc scan)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;

	ReportScanStats(scan);
	if (so->fetch != NULL)
	{
		table_index_fetch_end(so->fetch);
		ExecDropSingleTupleTableSlot(so->slot);
	}
	FreeExecutorState(so->estate);
	MemoryContextDelete(so->scanctx);
	MemoryContextDelete(so->rowctx);
	pfree(so);
	scan->opaque = NULL;
}
