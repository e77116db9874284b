/*
 * rabitq_build.c
 *	  CREATE INDEX for rabitq (doc/DESIGN.md 4): sample the table with an MVCC
 *	  snapshot, cluster the sample with k-means, rotate the centroids, then
 *	  stream the table, assigning, quantizing and writing every row into its
 *	  list's pages.  Pages are written through shared buffers (the index
 *	  extended a chunk of blocks at a time, RabitqReserveBlock) and WAL-logged
 *	  at the end with log_newpage_range.  The streaming phase may run with
 *	  parallel workers (rabitq_build_parallel.c); this file is also what
 *	  each of them runs.
 *
 * Memory: the sample, the k-means workspace, one page image per list, a
 * batch buffer and the parallel workers' own, all checked against
 * maintenance_work_mem before anything is allocated.
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "core/rq_groups.h"
#include "core/rq_kmeans.h"
#include "core/rq_random.h"
#include "rabitq.h"
#include "rabitq_build.h"
#include "vector.h"


/* Lists derived from the row count (rq_default_lists). */
static int
DefaultLists(double rows)
{
	return rq_default_lists(rows, RABITQ_MAX_LISTS);
}

/*
 * The vector of a row, checked and preprocessed into prep (and rotated when
 * rotated is not NULL); false for a row that is not indexed (NULL, or zero
 * under cosine).
 */
static bool
RowVector(BuildState *bs, Datum value, bool isnull, float *prep, float *rotated)
{
	return !isnull && RabitqEncodeVector(&bs->codec, value, prep, rotated);
}

/* ---- phase 1: sampling ---- */

typedef struct Sample
{
	int			capacity;
	int			count;
	float	   *rows;			/* capacity x D */
	double		seen;			/* non-NULL rows visited */
	rq_pcg32	rng;
} Sample;

/* Reservoir sampling (Vitter's Algorithm R), deterministic for the seed. */
static void
SampleAdd(Sample *s, const float *row, int dim)
{
	int			slot;

	s->seen += 1.0;
	if (s->count < s->capacity)
		slot = s->count++;
	else
	{
		double		r = rq_pcg32_uniform(&s->rng) * s->seen;

		if (r >= s->capacity)
			return;
		slot = (int) r;
	}
	memcpy(s->rows + (Size) slot * dim, row, sizeof(float) * dim);
}

/* Evaluates the partial-index predicate (if any) for the row in the econtext. */
static bool
PredicateHolds(ExprState *predicate, ExprContext *econtext)
{
	return predicate == NULL || ExecQual(predicate, econtext);
}

/*
 * Scans the table with an MVCC snapshot (dead rows are never sampled),
 * counting the rows to index and keeping a uniform sample.
 */
static void
SampleTable(BuildState *bs, Sample *s)
{
	Snapshot	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	/* from the first block, never where another scan is (no syncscan): the same sample every time */
	TableScanDesc scan = table_beginscan_strat(bs->heap, snapshot, 0, NULL, true, false);
	TupleTableSlot *slot = table_slot_create(bs->heap, NULL);
	EState	   *estate = CreateExecutorState();
	ExprContext *econtext = GetPerTupleExprContext(estate);
	ExprState  *predicate = ExecPrepareQual(bs->indexInfo->ii_Predicate, estate);
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];

	econtext->ecxt_scantuple = slot;
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		ResetExprContext(econtext);
		if (!PredicateHolds(predicate, econtext))
			continue;
		/* a detoasted vector is the row's alone: freed with the next row */
		old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
		FormIndexDatum(bs->indexInfo, slot, estate, values, isnull);
		if (RowVector(bs, values[bs->keys.vector_attno], isnull[bs->keys.vector_attno], bs->prep, NULL))
			SampleAdd(s, bs->prep, bs->codec.dim);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	FreeExecutorState(estate);
	/*
	 * FormIndexDatum prepared the index expressions in that executor state;
	 * forget them, or the loading scan would evaluate freed ones (as
	 * heapam_index_build_range_scan does after its own scan).
	 */
	bs->indexInfo->ii_ExpressionsState = NIL;
	bs->indexInfo->ii_PredicateState = NULL;
	UnregisterSnapshot(snapshot);
}

/* Samples the table into a fresh reservoir of `capacity` rows. */
static void
SampleWithCapacity(BuildState *bs, Sample *s, int capacity)
{
	memset(s, 0, sizeof(*s));
	s->capacity = capacity;
	s->rows = palloc(mul_size(mul_size(capacity, bs->codec.dim), sizeof(float)));
	rq_pcg32_seed(&s->rng, RABITQ_ROTATION_SEED, 1);
	SampleTable(bs, s);
}

/* ---- memory ---- */

/*
 * Rows of a sample from which k-means assigns with the build's workers:
 * below, starting them costs more than they would take off.
 */
#define RABITQ_PARALLEL_KMEANS_ROWS 8192

static bool
ParallelKmeans(const BuildState *bs, int samples)
{
	return bs->nworkers > 0 && samples >= RABITQ_PARALLEL_KMEANS_ROWS;
}

/*
 * Bytes of the batch being assigned: its rows and, with groups, the grouped
 * centroids and the search's scratch, else one GEMM block.
 */
Size
RabitqBuildBatchMemory(const BuildState *bs, int lists)
{
	int			dp = bs->codec.dp,
				groups = rq_groups_count(lists, RABITQ_ASSIGN_GROUPS);
	Size		rows = mul_size(BatchRows(dp), (Size) (dp + 4) * sizeof(float) + bs->keys.key_bytes);

	if (groups > 0)
		return add_size(rows, add_size(rq_groups_bytes(lists, dp, groups),
									   rq_groups_search_bytes(lists, dp, groups, RABITQ_ASSIGN_GROUPS, BatchRows(dp))));
	return add_size(rows, mul_size(mul_size(rq_gemm_block_rows(lists, dp), lists), sizeof(float)));
}

/*
 * Bytes the build needs with `samples` sample rows and `lists` lists, its
 * parallel workers' included.
 */
static Size
BuildMemory(const BuildState *bs, int samples, int lists)
{
	int			dim = bs->codec.dim,
				dp = bs->codec.dp;
	rq_kmeans_config cfg = {.dim = dim, .k = lists, .max_iterations = 1,
	.max_groups = RABITQ_ASSIGN_GROUPS};
	Size		need = 0;

	need = add_size(need, mul_size(mul_size(samples, dim), sizeof(float)));
	need = add_size(need, rq_kmeans_work_bytes(Max(samples, lists), &cfg));
	if (ParallelKmeans(bs, samples))
		need = add_size(need, RabitqKmeansParallelMemory(bs->nworkers, Max(samples, lists), &cfg));
	need = add_size(need, mul_size(mul_size(lists, dim + dp + 1), sizeof(float)));
	need = add_size(need, mul_size(mul_size(lists, bs->geom.nseg + (bs->geom.ex_bits > 0)),
								   BLCKSZ + sizeof(ListWriter)));
	need = add_size(need, RabitqBuildBatchMemory(bs, lists));
	if (bs->keys.nkeys > 0)
		need = add_size(need, RabitqPostingBuildMemory(bs->buckets));
	need = add_size(need, mul_size(bs->nworkers, RabitqBuildWorkerMemory(bs, lists)));
	return need;
}

/* Rows a sample for `lists` lists out of `rows` would hold with memory enough. */
static int
WantedSamples(int lists, double rows)
{
	return (int) Min((double) lists * RABITQ_SAMPLES_PER_LIST, Max(rows, 1.0));
}

/*
 * Rows to sample for `lists` lists out of at most `rows`: 50 per list, fewer
 * (down to 10 per list; *cut says so, for ReportLists) when
 * maintenance_work_mem is short; ERROR if even that does not fit, naming the
 * setting.
 */
static int
PlanSample(const BuildState *bs, int lists, double rows, bool *cut)
{
	Size		budget = (Size) maintenance_work_mem * 1024;
	int			want = WantedSamples(lists, rows);
	int			fewest = (int) Min((double) lists * RABITQ_MIN_ROWS_PER_LIST, Max(rows, 1.0));
	int			samples = want;

	while (samples > fewest && BuildMemory(bs, samples, lists) > budget)
		samples = Max(fewest, samples * 3 / 4);
	if (BuildMemory(bs, samples, lists) > budget)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("building this rabitq index needs %zu MB of memory, but maintenance_work_mem is %d MB",
						BuildMemory(bs, samples, lists) / (1024 * 1024) + 1, maintenance_work_mem / 1024),
				 errhint("Increase maintenance_work_mem to at least %zu MB, or build with fewer lists.",
						 BuildMemory(bs, samples, lists) / (1024 * 1024) + 1)));
	if (cut != NULL)
		*cut = samples < want;
	return samples;
}

/* ---- phase 2: k-means ---- */

#define RABITQ_KMEANS_ITERATIONS 10

/*
 * k-means' tick: cancellation between its bounded steps, and its progress
 * (in the k-means phase tuples_done counts Lloyd iterations of
 * tuples_total).
 */
static void
KmeansTick(void *ctx, rq_kmeans_stage stage, int done, int total)
{
	(void) ctx;
	CHECK_FOR_INTERRUPTS();
	if (stage == RQ_KMEANS_LLOYD)
	{
		const int	index[] = {PROGRESS_CREATEIDX_TUPLES_TOTAL, PROGRESS_CREATEIDX_TUPLES_DONE};
		const int64 value[] = {total, done};

		pgstat_progress_update_multi_param(2, index, value);
	}
}

/* Centroids of the sample (k <= sample rows), in the original space, then rotated into the codec. */
static void
ClusterSample(BuildState *bs, Sample *s)
{
	int			k = bs->lists,
				dim = bs->codec.dim,
				dp = bs->codec.dp;
	float	   *rotated;

	bs->centroids = palloc0(mul_size(mul_size(k, dim), sizeof(float)));
	if (s->count > 0)
	{
		rq_kmeans_config cfg = {.dim = dim, .k = k, .max_iterations = RABITQ_KMEANS_ITERATIONS,
			.seed = RABITQ_ROTATION_SEED, .spherical = bs->codec.metric == RQ_METRIC_COSINE,
		.max_groups = RABITQ_ASSIGN_GROUPS, .tick = KmeansTick};
		void	   *work = palloc(rq_kmeans_work_bytes(s->count, &cfg));
		rq_kmeans_result res;
		rq_status	status;

		/*
		 * One OpenBLAS thread, also in a parallel build: with the centroids
		 * grouped, k-means' GEMMs are small and a second thread made them
		 * slower (10 M rows: 10.6 s against 9.2 s).  Backends stay one thread.
		 */
		RabitqLoadBlas();
		if (ParallelKmeans(bs, s->count))
			status = RabitqKmeansParallel(bs, s->rows, s->count, &cfg, bs->centroids, work, &res);
		else
			status = rq_kmeans(s->rows, s->count, &cfg, bs->centroids, work, &res);
		if (status != RQ_OK)
			elog(ERROR, "rabitq k-means rejected %d lists for %d rows", k, s->count);
		pfree(work);
	}
	rotated = palloc(mul_size(mul_size(k, dp), sizeof(float)));
	for (int l = 0; l < k; l++)
		rq_rotate(&bs->codec.rotation, bs->centroids + (Size) l * dim, rotated + (Size) l * dp);
	RabitqCodecSetCentroids(&bs->codec, k, rotated);
}

/* ---- phase 3: writing list pages ---- */

/* New images (one per segment, chained among themselves) for list w. */
static void
StartImages(BuildState *bs, ListWriter *w)
{
	for (int s = 0; s < bs->geom.nseg; s++)
	{
		w->image[s] = MemoryContextAlloc(bs->buildctx, BLCKSZ);
		RabitqInitPage(w->image[s], RABITQ_PAGE_LIST);
		w->blkno[s] = RabitqReserveBlock(&bs->reserve);
		if (s > 0)
			RabitqPageGetOpaque(w->image[s - 1])->next = w->blkno[s];
	}
	if (!BlockNumberIsValid(w->first))
		w->first = w->blkno[0];
}

/* The current images of list w are full: chain new ones after them, write them out. */
static void
NextImages(BuildState *bs, ListWriter *w)
{
	int			nseg = bs->geom.nseg;
	BlockNumber old_blkno[RABITQ_MAX_SEGMENTS];
	Page		old_image[RABITQ_MAX_SEGMENTS];

	memcpy(old_blkno, w->blkno, sizeof(old_blkno));
	memcpy(old_image, w->image, sizeof(old_image));
	StartImages(bs, w);
	RabitqPageGetOpaque(old_image[nseg - 1])->next = w->blkno[0];
	for (int s = 0; s < nseg; s++)
	{
		RabitqWriteImage(bs->index, old_blkno[s], old_image[s]);
		pfree(old_image[s]);
	}
}

/*
 * Adds an empty block record to list w: one item per segment, the tail
 * recording where the others are.  A multi-segment record fills its pages,
 * so it always starts on new ones.
 */
static void
OpenBlock(BuildState *bs, ListWriter *w)
{
	const RabitqGeometry *g = &bs->geom;
	char	   *item = palloc(Max(g->tail_size, g->seg_size));
	ItemPointerData segs[RABITQ_MAX_SEGMENTS - 1];

	if (w->image[0] == NULL)
		StartImages(bs, w);
	else if (g->nseg > 1 || PageGetFreeSpace(w->image[0]) < g->tail_size)
		NextImages(bs, w);
	for (int s = 0; s < g->nseg; s++)
	{
		RabitqInitItem(g, item, s, segs);
		w->open[s] = PageAddItem(w->image[s], (Item) item, RabitqItemSize(g, s),
								 InvalidOffsetNumber, false, false);
		if (w->open[s] == InvalidOffsetNumber)
			elog(ERROR, "rabitq could not add a block record to a new page");
		if (s < g->nseg - 1)
			ItemPointerSet(&segs[s], w->blkno[s], w->open[s]);
	}
	w->lanes = 0;
	pfree(item);
}

/*
 * Adds a zeroed ex item of the geometry's size to list w's ex-code chain:
 * on the current ex image, or on a new one chained after it (the full one
 * written out).  Returns where it went.
 */
static ItemPointerData
AddExItem(BuildState *bs, ListWriter *w)
{
	const RabitqGeometry *g = &bs->geom;
	char	   *item = palloc0(g->ex_item_size);
	ItemPointerData tid;
	OffsetNumber off;

	if (w->ex_image == NULL || PageGetFreeSpace(w->ex_image) < g->ex_item_size)
	{
		BlockNumber blkno = RabitqReserveBlock(&bs->reserve);

		if (w->ex_image == NULL)
		{
			w->ex_image = MemoryContextAlloc(bs->buildctx, BLCKSZ);
			w->ex_first = blkno;
		}
		else
		{
			RabitqPageGetOpaque(w->ex_image)->next = blkno;
			RabitqWriteImage(bs->index, w->ex_blkno, w->ex_image);
		}
		RabitqInitPage(w->ex_image, RABITQ_PAGE_EXCODES);
		w->ex_blkno = blkno;
	}
	off = PageAddItem(w->ex_image, (Item) item, g->ex_item_size, InvalidOffsetNumber, false, false);
	if (off == InvalidOffsetNumber)
		elog(ERROR, "rabitq could not add an ex-code item to a new page");
	ItemPointerSet(&tid, w->ex_blkno, off);
	pfree(item);
	return tid;
}

/* Writes one entry into lane w->lanes of the open block of list w, and its ex-code. */
static void
PutEntry(BuildState *bs, ListWriter *w, const RabitqLane *e)
{
	const RabitqGeometry *g = &bs->geom;
	int			lane;
	char	   *tail;

	if (w->image[0] == NULL || w->lanes == RQ_BLOCK_LANES)
		OpenBlock(bs, w);
	lane = w->lanes++;
	for (int s = 0; s < g->nseg; s++)
		RabitqPutLane(g, PageGetItem(w->image[s], PageGetItemId(w->image[s], w->open[s])), lane, e);
	if (g->ex_bits == 0)
		return;
	/* a block's ex item is added with its first lane, so it is on the current ex image */
	tail = PageGetItem(w->image[g->nseg - 1], PageGetItemId(w->image[g->nseg - 1], w->open[g->nseg - 1]));
	if (g->ex_per_item == 1 || lane == 0)
		*RabitqTailExItem(g, tail, lane) = AddExItem(bs, w);
	RabitqPutExLane(g, PageGetItem(w->ex_image,
								   PageGetItemId(w->ex_image,
												 ItemPointerGetOffsetNumber(RabitqTailExItem(g, tail, lane)))) +
					RabitqExLaneOffset(g, lane), e);
}

/* DEBUG1: how much of the centroids the grouped search compared each row with. */
void
RabitqBuildReportAssign(const BuildState *bs)
{
	const rq_groups_stats *st = bs->groups_stats;

	if (bs->groups == NULL || st->rows == 0)
		return;
	elog(DEBUG1, "rabitq build compared %.0f rows with %.1f of %d lists each, in %.2f of %d groups",
		 (double) st->rows, (double) st->centroids / st->rows, bs->lists,
		 (double) st->groups / st->rows, bs->groups->ngroups);
}

/* Stores one quantized row into its list (the leader's, or a serial build's, pages). */
void
RabitqBuildPut(BuildState *bs, int list, const RabitqLane *e, float residual2)
{
	bs->residual2 += residual2;
	bs->max_residual[list] = Max(bs->max_residual[list], sqrtf(residual2));
	PutEntry(bs, &bs->writers[list], e);
	bs->indexed += 1;
}

/*
 * The list of each row of the batch: the nearest of the grouped centroids'
 * RABITQ_ASSIGN_GROUPS nearest groups (a few milliseconds a batch), else the
 * nearest of all, one bounded GEMM block at a time, cancellable between
 * them.
 */
static void
AssignBatch(BuildState *bs)
{
	int			dp = bs->codec.dp;

	if (bs->groups != NULL)
	{
		rq_groups_nearest(bs->groups, bs->batch, bs->batch_norm2, bs->batch_count, bs->batch_list,
						  NULL, bs->groups_work, bs->groups_stats);
		CHECK_FOR_INTERRUPTS();
		return;
	}
	for (int start = 0; start < bs->batch_count; start += bs->block_rows)
	{
		int			rows = Min(bs->block_rows, bs->batch_count - start);

		rq_assign_nearest(bs->batch + (Size) start * dp, bs->batch_norm2 + start, rows, dp,
						  bs->codec.centroids, bs->codec.centroid_norm2, bs->lists,
						  bs->batch_list + start, NULL, bs->batch_block, rows);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Assigns and quantizes the rows of the batch, and stores them (a parallel
 * worker sends them to the leader instead).
 */
void
RabitqBuildFlush(BuildState *bs)
{
	int			dp = bs->codec.dp;
	RabitqLane	e;

	if (bs->batch_count == 0)
		return;
	rq_squared_norms(bs->batch, bs->batch_count, dp, bs->batch_norm2);
	AssignBatch(bs);
	for (int i = 0; i < bs->batch_count; i++)
	{
		int			l = bs->batch_list[i];

		RabitqEncodeEntry(&bs->codec, bs->batch + (Size) i * dp, l, &bs->entry);
		e.code = bs->entry.code;
		e.f = bs->entry.f;
		e.ex_code = bs->entry.ex_code;
		e.ex_f = bs->entry.ex_f;
		e.tid = bs->batch_tids[i];
		e.key = bs->batch_keys + (Size) i * bs->keys.key_bytes;
		if (bs->worker)
			RabitqParallelEmitEntry(bs, l, &e, bs->entry.residual2);
		else
			RabitqBuildPut(bs, l, &e, bs->entry.residual2);
	}
	bs->batch_count = 0;
	if (bs->par != NULL)
		RabitqParallelBatchDone(bs);
	/* the rows stored, the workers' too (a worker counts its rows as it reads them) */
	if (!bs->worker)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indexed);
}

/* The ex-code lane a posting of the rotated row holds (taken from the origin); NULL without ex-codes. */
static const char *
PostingExLane(BuildState *bs, const float *rotated, ItemPointer tid)
{
	RabitqLane	e;

	if (bs->geom.ex_bits == 0)
		return NULL;
	RabitqEncodeOrigin(&bs->codec, rotated, &bs->entry);
	e.f = bs->entry.f;
	e.ex_code = bs->entry.ex_code;
	e.ex_f = bs->entry.ex_f;
	e.tid = *tid;
	RabitqPutExLane(&bs->geom, bs->posting_ex, &e);
	return bs->posting_ex;
}

/* table_index_build_scan callback: one live row. */
void
RabitqBuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool tupleIsAlive,
			  void *state)
{
	BuildState *bs = state;
	MemoryContext old = MemoryContextSwitchTo(bs->tmpctx);

	(void) index;
	(void) tupleIsAlive;		/* recently dead rows are indexed too, as required */
	if (RowVector(bs, values[bs->keys.vector_attno], isnull[bs->keys.vector_attno], bs->prep,
				  bs->batch + (Size) bs->batch_count * bs->codec.dp))
	{
		uint8	   *key = bs->batch_keys + (Size) bs->batch_count * bs->keys.key_bytes;

		if (bs->keys.nkeys > 0 && RabitqKeyImage(&bs->keys, values, isnull, key))
		{
			uint64		hash = RabitqKeyHash(&bs->keys, key);
			const char *ex_lane = PostingExLane(bs, bs->batch + (Size) bs->batch_count * bs->codec.dp, tid);

			if (bs->worker)
				RabitqParallelEmitPosting(bs, hash, tid, ex_lane);
			else
				RabitqPostingBuildAdd(bs->postings, hash, tid, ex_lane);
		}
		bs->batch_tids[bs->batch_count++] = *tid;
		if (bs->worker)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) ++bs->assigned);
		if (bs->batch_count == BatchRows(bs->codec.dp))
			RabitqBuildFlush(bs);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpctx);
}

/* ---- entry points ---- */

/*
 * The NOTICEs saying what was built: the lists (derived, or fewer than asked
 * for), whether they had enough data, and a sample of `samples` rows cut
 * short by memory.  An empty table is a normal start (an index made before
 * loading, or the shell of a distributed table): one NOTICE says what
 * happens next; for the shell, that its shards build their own.
 */
static void
ReportLists(Relation heap, int lists, int requested, bool derived, double rows, int samples, bool memory_short)
{
	if (rows == 0 && RabitqIsDistributedShell(RelationGetRelid(heap)))
	{
		ereport(NOTICE,
				(errmsg("rabitq index on distributed table \"%s\": each shard's index chooses its lists from that shard's rows",
						RelationGetRelationName(heap)),
				 errhint("rabitq_index_stats on each shard's index (through run_command_on_shards) shows them.")));
		return;
	}
	if (rows == 0)
	{
		ereport(NOTICE,
				(errmsg("rabitq index built on an empty table, with one list"),
				 errdetail("Rows inserted later all go into that list: lists are trained on the rows present at build."),
				 errhint("REINDEX once the table holds its data.")));
		return;
	}
	if (derived)
		ereport(NOTICE,
				(errmsg("rabitq index built with lists = %d (derived from %.0f rows)", lists, rows),
				 errhint("Set WITH (lists = N) to choose the number of lists.")));
	else if (lists < requested)
		ereport(NOTICE,
				(errmsg("rabitq index built with lists = %d, not %d: the table has %.0f rows", lists, requested, rows),
				 errhint("REINDEX once the table holds its data to get the lists asked for.")));
	if (lists == requested && rows < (double) requested * RABITQ_MIN_ROWS_PER_LIST)
		ereport(NOTICE,
				(errmsg("rabitq index created with little data"),
				 errdetail("The table has %.0f rows for lists = %d; lists trained on fewer than %d rows each give low recall.",
						   rows, requested, RABITQ_MIN_ROWS_PER_LIST),
				 errhint("REINDEX once the table holds its data, or use fewer lists.")));
	if (memory_short)
		ereport(NOTICE,
				(errmsg("rabitq samples %d rows for %d lists instead of %d to fit maintenance_work_mem",
						samples, lists, WantedSamples(lists, rows)),
				 errhint("Increase maintenance_work_mem for better lists.")));
}

/* Sets up the parts of the build state that do not depend on the data. */
void
RabitqBuildInitState(BuildState *bs, Relation heap, Relation index, IndexInfo *indexInfo)
{
	RabitqOptions *opts = (RabitqOptions *) index->rd_options;
	int			ex_bits = opts ? opts->ex_bits : RABITQ_DEFAULT_EX_BITS;

	memset(bs, 0, sizeof(*bs));
	bs->heap = heap;
	bs->index = index;
	bs->indexInfo = indexInfo;

	RabitqKeyLayoutInit(index, &bs->keys);
	RabitqCodecInit(&bs->codec, RabitqIndexDimensions(index, bs->keys.vector_attno),
					RabitqIndexMetric(index, bs->keys.vector_attno),
					RabitqIndexHalf(index, bs->keys.vector_attno), RABITQ_ROTATION_SEED, ex_bits);
	RabitqComputeGeometry(&bs->geom, bs->codec.dp, bs->keys.key_bytes, ex_bits);
	bs->prep = palloc(sizeof(float) * bs->codec.dim);
	bs->entry.code = palloc(sizeof(uint64_t) * bs->geom.words);
	bs->entry.ex_code = palloc0(Max(bs->geom.ex_code_bytes, 1));
	bs->posting_ex = palloc0(Max(bs->geom.ex_lane_size, 1));
}

/*
 * Groups the rotated centroids for the loading phase's nearest-list search
 * when there are enough of them (rq_groups_count).  Deterministic: every
 * participant of a parallel build makes the same groups from the same
 * centroids, so a row gets the same list whoever loads it.
 */
static void
InitGroups(BuildState *bs)
{
	int			dp = bs->codec.dp,
				groups = rq_groups_count(bs->lists, RABITQ_ASSIGN_GROUPS);

	bs->groups = NULL;
	if (groups == 0)
		return;
	bs->groups = palloc(sizeof(rq_groups));
	if (rq_groups_build(bs->codec.centroids, bs->codec.centroid_norm2, bs->lists, dp, groups,
						RABITQ_ASSIGN_GROUPS, RABITQ_ROTATION_SEED, palloc(rq_groups_bytes(bs->lists, dp, groups)),
						bs->groups, KmeansTick, NULL) != RQ_OK)
		elog(ERROR, "rabitq could not group %d lists", bs->lists);
	bs->groups_work = palloc(rq_groups_search_bytes(bs->lists, dp, groups, RABITQ_ASSIGN_GROUPS, BatchRows(dp)));
}

/* Allocates the loading buffers (after the memory check). */
void
RabitqBuildInitLoading(BuildState *bs)
{
	int			rows = BatchRows(bs->codec.dp);

	bs->writers = palloc0(sizeof(ListWriter) * bs->lists);
	bs->max_residual = palloc0(sizeof(float) * bs->lists);
	for (int l = 0; l < bs->lists; l++)
	{
		bs->writers[l].first = InvalidBlockNumber;
		bs->writers[l].ex_first = bs->writers[l].ex_blkno = InvalidBlockNumber;
		for (int s = 0; s < RABITQ_MAX_SEGMENTS; s++)
			bs->writers[l].blkno[s] = InvalidBlockNumber;
	}
	bs->batch = palloc(mul_size(rows, sizeof(float) * bs->codec.dp));
	bs->batch_tids = palloc(sizeof(ItemPointerData) * rows);
	bs->batch_keys = palloc0(Max((Size) rows * bs->keys.key_bytes, 1));
	bs->batch_norm2 = palloc(sizeof(float) * rows);
	bs->batch_list = palloc(sizeof(int32) * rows);
	bs->groups_stats = palloc0(sizeof(rq_groups_stats));
	RabitqLoadBlas();			/* the assignment's GEMMs */
	InitGroups(bs);
	if (bs->groups == NULL)
	{
		bs->block_rows = (int) rq_gemm_block_rows(bs->lists, bs->codec.dp);
		bs->batch_block = palloc(mul_size(mul_size(bs->block_rows, bs->lists), sizeof(float)));
	}
}

/* Writes the last images of every list and returns the directory entries. */
static RabitqListEntry *
FinishLists(BuildState *bs)
{
	RabitqListEntry *entries = palloc(sizeof(RabitqListEntry) * bs->lists);

	for (int l = 0; l < bs->lists; l++)
	{
		ListWriter *w = &bs->writers[l];

		entries[l].first_page = w->first;
		entries[l].insert_page = w->first;
		entries[l].max_residual = bs->max_residual[l];
		entries[l].ex_first = entries[l].ex_last = w->ex_first;
		if (w->ex_image != NULL)
		{
			RabitqWriteImage(bs->index, w->ex_blkno, w->ex_image);
			entries[l].ex_last = w->ex_blkno;
		}
		if (w->image[0] == NULL)
			continue;
		for (int s = 0; s < bs->geom.nseg; s++)
			RabitqWriteImage(bs->index, w->blkno[s], w->image[s]);
		/* only the last page can have free lanes after a build */
		entries[l].insert_page = w->blkno[0];
	}
	return entries;
}

IndexBuildResult *
rabitqbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result = palloc(sizeof(IndexBuildResult));
	RabitqOptions *opts = (RabitqOptions *) index->rd_options;
	MemoryContext buildctx = AllocSetContextCreate(CurrentMemoryContext, "rabitq build",
												   ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(buildctx);
	BuildState	bs;
	Sample		sample;
	RabitqMetaPageData meta;
	RabitqListEntry *entries;
	int			requested;
	double		estimated;
	BlockNumber pages;
	double		tuples;
	bool		sample_cut;		/* memory cut the sample short */

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	RabitqBuildInitState(&bs, heap, index, indexInfo);
	bs.nworkers = RabitqBuildPlanWorkers(heap, index);

	/*
	 * phase 1: sample, sized for the lists the row estimate suggests; if the
	 * real count needs another size and the sample had to leave rows out,
	 * sample again at that size.  A reservoir of another capacity keeps other
	 * rows, so the lists would otherwise depend on the estimate's last
	 * digits (sift1m: 999,990 rows estimated instead of 1,000,000 made 49,950
	 * sample rows and other lists; a bench run whose index was built on
	 * ANALYZE's estimate measured recall@10 0.948 at 24 probes where the
	 * others measured 0.953); a second pass costs one more sampling scan.
	 */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, RABITQ_PHASE_SAMPLE);
	table_relation_estimate_size(heap, NULL, &pages, &tuples, &estimated);
	tuples = Max(tuples, 0.0);
	requested = (opts && opts->lists > 0) ? opts->lists : DefaultLists(tuples);
	bs.buckets = (bs.keys.nkeys > 0) ? RabitqPostingBuckets(2.0 * tuples + 1000.0) : 0;
	/* room for twice the estimate: estimates of fresh tables are rough */
	SampleWithCapacity(&bs, &sample, PlanSample(&bs, requested, 2.0 * tuples + 1000.0, &sample_cut));
	if (sample.seen > sample.capacity)
	{
		int			capacity;
		bool		cut;

		if (!(opts && opts->lists > 0))
			requested = DefaultLists(sample.seen);
		capacity = PlanSample(&bs, requested, sample.seen, &cut);
		if (capacity != sample.capacity)
		{
			pfree(sample.rows);
			SampleWithCapacity(&bs, &sample, capacity);
			sample_cut = cut;
		}
	}
	else if (!(opts && opts->lists > 0))
		requested = DefaultLists(sample.seen);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) sample.seen);

	/* phase 2: k-means; never more lists than sampled rows (one list for none) */
	bs.lists = Max(1, Min(requested, sample.count));
	bs.buckets = (bs.keys.nkeys > 0) ? RabitqPostingBuckets(sample.seen) : 0;
	PlanSample(&bs, bs.lists, sample.count, NULL);
	ReportLists(heap, bs.lists, requested, !(opts && opts->lists > 0), sample.seen, sample.count, sample_cut);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, RABITQ_PHASE_KMEANS);
	ClusterSample(&bs, &sample);
	pfree(sample.rows);

	/* phase 3: metapage, centroids, then every row into its list */
	{
		/* the k-means phase counted its iterations in the tuple counters */
		const int	index[] = {PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_CREATEIDX_TUPLES_TOTAL,
		PROGRESS_CREATEIDX_TUPLES_DONE};
		const int64 value[] = {RABITQ_PHASE_LOAD, (int64) sample.seen, 0};

		pgstat_progress_update_multi_param(3, index, value);
		bs.tuples_total = sample.seen;
	}
	meta = RabitqNewMeta(&bs.keys, bs.codec.dim, bs.codec.dp, bs.codec.metric, bs.lists, bs.geom.ex_bits);
	UnlockReleaseBuffer(RabitqNewBuffer(index, MAIN_FORKNUM));	/* block 0 */
	meta.centroid_start = RabitqWriteArray(index, MAIN_FORKNUM, RABITQ_PAGE_CENTROIDS, bs.codec.centroids,
										   sizeof(float), (Size) bs.lists * bs.codec.dp);
	RabitqBuildInitLoading(&bs);
	RabitqReserveStart(&bs.reserve, index);
	if (bs.keys.nkeys > 0)
	{
		bs.postings = RabitqPostingBuildStart(index, &bs.reserve, bs.buckets, RabitqPostingSize(&bs.geom));
		meta.posting_buckets = bs.buckets;
	}
	bs.buildctx = buildctx;
	bs.tmpctx = AllocSetContextCreate(buildctx, "rabitq build row", ALLOCSET_DEFAULT_SIZES);
	result->heap_tuples = RabitqBuildLoad(&bs);
	RabitqBuildReportAssign(&bs);
	entries = FinishLists(&bs);
	if (bs.postings != NULL)
		meta.posting_start = RabitqPostingBuildFinish(bs.postings);
	RabitqReserveFinish(&bs.reserve);
	meta.directory_start = RabitqWriteArray(index, MAIN_FORKNUM, RABITQ_PAGE_DIRECTORY, entries,
											sizeof(RabitqListEntry), bs.lists);
	meta.build_rows = (int64) bs.indexed;
	meta.build_residual2 = bs.indexed > 0 ? bs.residual2 / bs.indexed : 0.0;
	RabitqWriteMeta(index, MAIN_FORKNUM, &meta);

	if (RelationNeedsWAL(index))
		log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);

	result->index_tuples = bs.indexed;
	MemoryContextSwitchTo(old);
	MemoryContextDelete(buildctx);
	return result;
}

/*
 * The init fork of an unlogged index: an empty index of one list whose
 * centroid is the origin, so inserts after a crash restart have a list.
 */
void
rabitqbuildempty(Relation index)
{
	RabitqKeyLayout keys;
	int			dim;
	int			dp;
	RabitqMetaPageData meta;
	RabitqListEntry entry = {InvalidBlockNumber, InvalidBlockNumber, 0.0f, InvalidBlockNumber, InvalidBlockNumber};
	RabitqOptions *opts = (RabitqOptions *) index->rd_options;
	float	   *zero;

	RabitqKeyLayoutInit(index, &keys);
	dim = RabitqIndexDimensions(index, keys.vector_attno);
	dp = rq_padded_dim(dim);
	meta = RabitqNewMeta(&keys, dim, dp, RabitqIndexMetric(index, keys.vector_attno), 1,
						 opts ? opts->ex_bits : RABITQ_DEFAULT_EX_BITS);
	zero = palloc0(sizeof(float) * dp);
	UnlockReleaseBuffer(RabitqNewBuffer(index, INIT_FORKNUM));
	meta.centroid_start = RabitqWriteArray(index, INIT_FORKNUM, RABITQ_PAGE_CENTROIDS, zero,
										   sizeof(float), dp);
	meta.directory_start = RabitqWriteArray(index, INIT_FORKNUM, RABITQ_PAGE_DIRECTORY, &entry,
											sizeof(RabitqListEntry), 1);
	if (keys.nkeys > 0)
	{
		meta.posting_buckets = RabitqPostingBuckets(0);
		meta.posting_start = RabitqPostingWriteEmpty(index, INIT_FORKNUM, meta.posting_buckets);
	}
	RabitqWriteMeta(index, INIT_FORKNUM, &meta);
	log_newpage_range(index, INIT_FORKNUM, 0, RelationGetNumberOfBlocksInFork(index, INIT_FORKNUM), true);
	pfree(zero);
}
