/*
 * rabitq_scan.c
 *	  Ordered index scans (doc/DESIGN.md 6): the access method's scan entry
 *	  points, the exact ranking of a small tenant from its postings, and the
 *	  stream of rows.  Probing lists is rabitq_probe.c; what a candidate is,
 *	  and the refining stage, rabitq_candidates.c.
 *
 * On the first call: preprocess and rotate the query; then either rank a
 * small tenant's postings (StartExactScan) or probe the nearest `probes`
 * lists.  Every candidate waits in the streaming re-rank (rq_rerank.h)
 * under a lower bound: the 1-bit one, then, when it comes first, the one of
 * its B-bit code (ex_bits > 0), and when it comes first again its exact
 * distance from the heap tuple (fetched with the scan's MVCC snapshot, so
 * rows the snapshot cannot see drop out).  A row goes out as soon as its
 * exact distance is no larger than every bound still waiting, so
 * xs_recheckorderby is false.
 *
 * Ordering.  The re-rank runs in strict mode: within an epoch every row
 * comes out at an exact distance no smaller than the previous row's.  The
 * bounds hold with high probability (at the default epsilons no true
 * neighbour was lost on sift1m or on queries far from the data, with every
 * list probed); a row whose bound was violated would be found only after a
 * farther row went out.  It is set aside, not emitted out of order, and the
 * scan widens its bounds for the rest of its work (LearnFromLateRows).  The
 * first epoch covers the first `probes` lists, so ORDER BY ... LIMIT k is
 * exactly ordered whenever those lists hold k rows.  When the executor asks
 * for more (a filter removed rows), a new epoch starts: rabitq.iterative_scan
 * probes the next lists (up to rabitq.max_probes) and the set-aside rows
 * rejoin; the order restarts there, so a row of a later epoch can be closer
 * than one returned earlier, as if an earlier search with fewer probes had
 * missed it.
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

#include "core/rq_encode.h"
#include "core/rq_metric.h"
#include "rabitq_scan.h"

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

/*
 * Exact distance of the heap row tid, in the estimator's units (squared L2,
 * negative inner product, cosine distance); RQ_GONE if the snapshot cannot
 * see it.  Called once per candidate the re-rank settles, so it checks for
 * interrupts.
 */
static int
ExactDistance(IndexScanDesc scan, ItemPointer tid, double *distance)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	MemoryContext old;
	bool		call_again = false,
				all_dead = false;
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	int			found = RQ_GONE;
	int			vattno = so->cache->keys.vector_attno;

	CHECK_FOR_INTERRUPTS();
	old = MemoryContextSwitchTo(so->rowctx);
	if (table_index_fetch_tuple(so->fetch, tid, scan->xs_snapshot, so->slot, &call_again, &all_dead))
	{
		GetPerTupleExprContext(so->estate)->ecxt_scantuple = so->slot;
		FormIndexDatum(so->indexInfo, so->slot, so->estate, values, isnull);
		/* a posting names a key hash: the row itself must have the keys */
		if (!isnull[vattno] &&
			(!so->run.exact || RabitqKeyRowMatches(&so->cache->keys, &so->run.filter, values, isnull)))
		{
			const RabitqCodec *c = &so->cache->codec;
			int			dim;
			const float *v = RabitqVectorFloats(c, values[vattno], so->run.row_elems, &dim);

			if (dim == c->dim)
			{
				/* exactly the SQL operator's distance (rq_metric.h) */
				*distance = rq_metric_distance(c->metric, so->run.raw_query, v, dim);
				found = RQ_EXACT;
			}
		}
		ExecClearTuple(so->slot);
	}
	ResetExprContext(GetPerTupleExprContext(so->estate));
	MemoryContextSwitchTo(old);
	MemoryContextReset(so->rowctx);
	return found;
}

/*
 * The re-rank's callback for the candidate that comes first: a placeholder
 * releases the deferred candidates (rabitq_probe.c); a 1-bit bound is
 * refined from the candidate's B-bit code (and the candidate waits again,
 * marked refined); a refined one is measured exactly from the heap.
 */
static int
ResolveCandidate(void *ctx, uint64_t *id, double *distance)
{
	IndexScanDesc scan = ctx;
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	ItemPointerData tid;

	if (*id == RABITQ_ID_DEFERRED)
	{
		RabitqReleaseDeferred(so);
		so->run.placeholders++;
		return RQ_GONE;
	}
	if ((*id & RABITQ_ID_REFINED) == 0)
	{
		float		est,
					lb;

		RabitqCandidatesRefine(so->run.cands, id, 1, so->run.ex_epsilon, &est, &lb);
		*distance = RabitqBoundKey(so, lb);
		*id |= RABITQ_ID_REFINED;
		return RQ_REFINED;
	}
	tid = RabitqCandidateTid(so->run.cands, *id);
	if (ExactDistance(scan, &tid, distance) == RQ_GONE)
		return RQ_GONE;
	*id = RabitqHeapId(&tid);
	return RQ_EXACT;
}

static int
ComparePostings(const void *a, const void *b, void *arg)
{
	(void) arg;
	return ItemPointerCompare(&((RabitqPosting *) a)->tid, &((RabitqPosting *) b)->tid);
}

/*
 * Sorts n postings of size bytes by heap TID and drops repeats (two keys of
 * a set may share a hash: each row is ranked once); returns how many are left.
 */
static int
UniquePostings(char *postings, int n, Size size)
{
	int			kept = 0;

	qsort_interruptible(postings, n, size, ComparePostings, NULL);
	for (int i = 0; i < n; i++)
	{
		char	   *p = postings + (Size) i * size;

		if (kept > 0 && ItemPointerEquals(&((RabitqPosting *) p)->tid,
										  &((RabitqPosting *) (postings + (Size) (kept - 1) * size))->tid))
			continue;
		if (kept != i)
			memcpy(postings + (Size) kept * size, p, size);
		kept++;
	}
	return kept;
}

/*
 * When the key conditions fix every key column and the postings hold at
 * most rabitq.exact_limit rows with those keys, ranks exactly those rows.
 * With ex-codes each waits with the lower bound of its posting's B-bit code
 * (taken from the origin), so only the rows those bounds cannot order are
 * read from the heap; without, with -infinity, so every exact distance is
 * computed before the first row goes out.  Either way the stream is
 * complete and exactly ordered.  False (nothing done) otherwise.
 */
static bool
StartExactScan(IndexScanDesc scan)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	RabitqCache *c = so->cache;
	int			limit = rabitq_exact_limit;
	Size		size = RabitqPostingSize(&c->geom);
	uint8	   *images;
	int			nimages,
				total = 0,
				unique;

	if (limit <= 0 || so->run.filter.ncons == 0)
		return false;
	images = palloc(mul_size(RABITQ_MAX_EXACT_KEYS, c->keys.key_bytes));
	nimages = RabitqKeyFilterImages(&c->keys, &so->run.filter, RABITQ_MAX_EXACT_KEYS, images);
	if (nimages < 0)
		return false;
	so->run.postings = palloc_extended(mul_size(size, (Size) limit + 1), MCXT_ALLOC_HUGE);
	for (int i = 0; i < nimages && total <= limit; i++)
		total += RabitqPostingLookup(scan->indexRelation, c,
									 RabitqKeyHash(&c->keys, images + (Size) i * c->keys.key_bytes),
									 limit - total, so->run.postings + (Size) total * size);
	if (total > limit)
		return false;
	unique = UniquePostings(so->run.postings, total, size);
	RabitqCandidatesSetPostings(so->run.cands, so->run.postings);
	for (int i = 0; i < unique; i++)
	{
		double		bound = c->geom.ex_bits > 0 ?
			RabitqBoundKey(so, RabitqCandidatePostingBound(so->run.cands, i, so->run.ex_epsilon)) : -INFINITY;

		RabitqPushCandidate(so, (uint64) i | RABITQ_ID_REFINED, bound);
		if (i % 1024 == 1023)
			CHECK_FOR_INTERRUPTS();
	}
	so->run.exact = true;
	so->run.posted = unique;
	return true;
}

/* The query vector checked and rotated; false if it has no order (cosine of zero). */
static bool
PrepareQuery(IndexScanDesc scan)
{
	RabitqScanOpaque so = (RabitqScanOpaque) scan->opaque;
	RabitqScanRun *run = &so->run;
	const RabitqCodec *c = &so->cache->codec;

	int			dim;

	run->raw_query = RabitqVectorFloats(c, scan->orderByData[0].sk_argument, palloc(sizeof(float) * c->dim), &dim);
	if (dim != c->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", c->dim, dim)));
	run->row_elems = palloc(sizeof(float) * c->dim);
	run->query = palloc(sizeof(float) * c->dp);
	/* cosine of a zero query: NaN for every row, no order */
	return rq_encode_query(&c->rotation, c->metric, run->raw_query, palloc(sizeof(float) * c->dim),
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

	/*
	 * Only C code can get here with another snapshot (no SQL command scans
	 * an amgettuple index with one unless it can cluster, or has search
	 * operators for an exclusion constraint): refused, not supported.
	 */
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
	run->epsilon = (float) rabitq_epsilon;
	run->ex_epsilon = (float) rabitq_ex_epsilon;
	if (!run->done && !run->unordered)
	{
		run->cands = RabitqCandidatesCreate(scan->indexRelation, cache, run->query);
		if (!StartExactScan(scan))
			RabitqStartProbing(scan);
	}
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
		RabitqForEachLane(l, RabitqLiveLanes(so, item))
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

	so->index = index;
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
		 "%zu deferred, %zu bounds refined, %zu exact distances, %zu late rows, %zu refills",
		 run->exact ? "exact" : "probing", run->probed, run->posted,
		 rq_rerank_remaining(&so->rerank) + run->ndeferred + run->deferred_lanes,
		 (size_t) (run->released + run->ndeferred + run->deferred_lanes),
		 so->rerank.refined + (size_t) run->refined_early,
		 so->rerank.exact_computed - so->rerank.refined - (size_t) run->placeholders,
		 so->rerank.late_rows, so->rerank.refills);
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

/*
 * A late row (one whose bound was violated, found after a farther row went
 * out) means the bounds are too narrow for this query: widen both stages'
 * for the rest of the scan, up to RABITQ_EPSILON_MAX_GROWTH times the
 * settings.  Candidates already waiting keep their bounds; the lists probed
 * next and every refining from now on use the wider ones.
 */
static void
LearnFromLateRows(RabitqScanOpaque so)
{
	RabitqScanRun *run = &so->run;

	if (so->rerank.late_rows == run->late_seen)
		return;
	run->late_seen = so->rerank.late_rows;
	run->epsilon = Min(run->epsilon * RABITQ_EPSILON_GROWTH,
					   Max(rabitq_epsilon, 0.5) * RABITQ_EPSILON_MAX_GROWTH);
	run->ex_epsilon = Min(run->ex_epsilon * RABITQ_EPSILON_GROWTH,
						  Max(rabitq_ex_epsilon, 0.5) * RABITQ_EPSILON_MAX_GROWTH);
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
		int			r = rq_rerank_next(&so->rerank, ResolveCandidate, scan, &id, &distance);
		bool		more;
		size_t		back;

		if (r < 0)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		LearnFromLateRows(so);
		if (r == 1)
			break;
		/* the epoch ran dry: next lists and the rows set aside as late */
		CHECK_FOR_INTERRUPTS();
		more = !so->run.exact && RabitqProbeNextBatch(scan);
		back = rq_rerank_new_epoch(&so->rerank);
		if (back == RQ_EPOCH_NO_MEMORY)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		if (back == 0 && !more)
			return false;
	}
	scan->xs_heaptid = RabitqCandidateTid(so->run.cands, id);
	so->run.returned++;
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
