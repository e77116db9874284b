/*
 * rabitq_build_parallel.c
 *	  The loading phase of CREATE INDEX with parallel workers (doc/DESIGN.md
 *	  4): after the leader has sampled the table and trained the lists,
 *	  workers and the leader scan shares of the table (a parallel table
 *	  scan), and each assigns and quantizes its rows (the GEMM and the
 *	  encoding, the phase's work).  Only the leader writes pages: a worker
 *	  sends each batch of quantized rows through its own shm_mq and the
 *	  leader stores them into the lists between its own batches.  The lists
 *	  are the serial build's (the same sample, the same k-means); only the
 *	  order of the entries within a list depends on the timing.
 *
 *	  Workers are planned as for a btree (plan_create_index_workers:
 *	  max_parallel_maintenance_workers, the table's size, parallel-safe
 *	  index expressions); their memory (batch, GEMM block, centroids, queue)
 *	  is counted in the build's maintenance_work_mem check.
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "storage/spin.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "rabitq_build.h"

#define KEY_SHARED		UINT64CONST(0xB17B0000000000A1)
#define KEY_CENTROIDS	UINT64CONST(0xB17B0000000000A2)
#define KEY_QUEUES		UINT64CONST(0xB17B0000000000A3)

/* Each worker's queue to the leader: room for a few batches. */
#define RABITQ_QUEUE_BYTES (8 * 1024 * 1024)

/* What the leader shares with the workers; the parallel table scan follows it. */
typedef struct RabitqParallelShared
{
	Oid			heaprelid;
	Oid			indexrelid;
	bool		isconcurrent;
	int			lists;
	slock_t		mutex;
	double		reltuples;		/* the workers' heap tuples, summed as they end */
	double		tuples_total;	/* the rows the sample saw, for the workers' progress */
} RabitqParallelShared;

#define SharedScan(shared) \
	((ParallelTableScanDesc) ((char *) (shared) + BUFFERALIGN(sizeof(RabitqParallelShared))))

/*
 * One participant's side.  A batch message is: int32 entries, int32
 * postings, then the entries (EntryBytes each), then the postings
 * (PostingBytes each), every field copied bytewise.
 */
typedef struct RabitqParallelState
{
	/* the leader */
	shm_mq_handle **queues;		/* one per worker planned */
	bool	   *done;			/* the worker detached (or never started) */
	uint64_t   *code;			/* an aligned copy of one received code */
	/* a worker */
	shm_mq_handle *out;
	char	   *entries;
	char	   *postings;
	int32		nentries;
	int32		npostings;
	Size		entry_bytes;
	Size		posting_bytes;
} RabitqParallelState;

PGDLLEXPORT void RabitqParallelBuildMain(dsm_segment *seg, shm_toc *toc);

/* Bytes of one entry in a message: list, residual, TID, factors, codes, keys. */
static Size
EntryBytes(const BuildState *bs)
{
	return sizeof(int32) + sizeof(float) + sizeof(ItemPointerData) + sizeof(rq_factors) +
		sizeof(rq_ex_factors) + bs->geom.words * sizeof(uint64_t) + bs->geom.ex_code_bytes +
		bs->keys.key_bytes;
}

/* Bytes of one posting in a message: hash, TID, ex-code lane. */
static Size
PostingBytes(const BuildState *bs)
{
	return sizeof(uint64) + sizeof(ItemPointerData) + bs->geom.ex_lane_size;
}

/* Bytes of the rotated centroids the leader shares with the workers. */
static Size
CentroidBytes(const BuildState *bs)
{
	return mul_size(mul_size(bs->lists, bs->codec.dp), sizeof(float));
}

/* How many workers to load with besides the leader (0: a serial build). */
int
RabitqBuildPlanWorkers(Relation heap, Relation index)
{
	return plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
}

/* One worker's memory: its batch and GEMM block, the centroids, its queue and message buffers. */
Size
RabitqBuildWorkerMemory(const BuildState *bs, int lists)
{
	Size		need = RabitqBuildBatchMemory(bs, lists);
	int			rows = BatchRows(bs->codec.dp);

	need = add_size(need, mul_size(mul_size(lists, bs->codec.dp + 1), sizeof(float)));
	need = add_size(need, RABITQ_QUEUE_BYTES);
	return add_size(need, mul_size(rows, EntryBytes(bs) + PostingBytes(bs)));
}

/* ---- a worker: quantized rows into messages ---- */

#define PUT(dst, src, n) (memcpy((dst), (src), (n)), (dst) += (n))
#define GET(dst, src, n) (memcpy((dst), (src), (n)), (src) += (n))

void
RabitqParallelEmitEntry(BuildState *bs, int list, const RabitqLane *e, float residual2)
{
	RabitqParallelState *ps = bs->par;
	char	   *p = ps->entries + (Size) ps->nentries++ * ps->entry_bytes;
	int32		l = list;

	PUT(p, &l, sizeof(l));
	PUT(p, &residual2, sizeof(residual2));
	PUT(p, &e->tid, sizeof(ItemPointerData));
	PUT(p, &e->f, sizeof(rq_factors));
	PUT(p, &e->ex_f, sizeof(rq_ex_factors));
	PUT(p, e->code, bs->geom.words * sizeof(uint64_t));
	PUT(p, e->ex_code, bs->geom.ex_code_bytes);
	PUT(p, e->key, bs->keys.key_bytes);
}

void
RabitqParallelEmitPosting(BuildState *bs, uint64 hash, ItemPointer tid, const char *ex_lane)
{
	RabitqParallelState *ps = bs->par;
	char	   *p = ps->postings + (Size) ps->npostings++ * ps->posting_bytes;

	PUT(p, &hash, sizeof(hash));
	PUT(p, tid, sizeof(ItemPointerData));
	if (ex_lane != NULL)
		PUT(p, ex_lane, bs->geom.ex_lane_size);
}

/* A worker sends what its batch produced (waiting while the queue is full). */
static void
SendBatch(BuildState *bs)
{
	RabitqParallelState *ps = bs->par;
	shm_mq_iovec iov[3];

	if (ps->nentries == 0 && ps->npostings == 0)
		return;
	{
		int32		counts[2] = {ps->nentries, ps->npostings};

		iov[0].data = (const char *) counts;
		iov[0].len = sizeof(counts);
		iov[1].data = ps->entries;
		iov[1].len = (Size) ps->nentries * ps->entry_bytes;
		iov[2].data = ps->postings;
		iov[2].len = (Size) ps->npostings * ps->posting_bytes;
		if (shm_mq_sendv(ps->out, iov, 3, false, true) != SHM_MQ_SUCCESS)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("rabitq parallel build: the leader stopped receiving")));
	}
	ps->nentries = ps->npostings = 0;
}

/* ---- the leader: messages into the lists ---- */

/* Stores the rows and postings of one worker's batch. */
static void
StoreMessage(BuildState *bs, const char *p, Size size)
{
	RabitqParallelState *ps = bs->par;
	int32		counts[2];
	const char *end = p + size;

	GET(counts, p, sizeof(counts));
	if (size != sizeof(counts) + (Size) counts[0] * ps->entry_bytes + (Size) counts[1] * ps->posting_bytes)
		elog(ERROR, "rabitq parallel build: a message of %zu bytes does not hold %d rows and %d postings",
			 size, counts[0], counts[1]);
	for (int i = 0; i < counts[0]; i++)
	{
		RabitqLane	e;
		int32		list;
		float		residual2;

		GET(&list, p, sizeof(list));
		GET(&residual2, p, sizeof(residual2));
		GET(&e.tid, p, sizeof(ItemPointerData));
		GET(&e.f, p, sizeof(rq_factors));
		GET(&e.ex_f, p, sizeof(rq_ex_factors));
		GET(ps->code, p, bs->geom.words * sizeof(uint64_t));
		e.code = ps->code;
		e.ex_code = (const uint8 *) p;
		p += bs->geom.ex_code_bytes;
		e.key = (const uint8 *) p;
		p += bs->keys.key_bytes;
		if (list < 0 || list >= bs->lists)
			elog(ERROR, "rabitq parallel build: a row for list %d of %d", list, bs->lists);
		RabitqBuildPut(bs, list, &e, residual2);
	}
	for (int i = 0; i < counts[1]; i++)
	{
		uint64		hash;
		ItemPointerData tid;

		GET(&hash, p, sizeof(hash));
		GET(&tid, p, sizeof(tid));
		RabitqPostingBuildAdd(bs->postings, hash, &tid, bs->geom.ex_bits > 0 ? p : NULL);
		p += bs->geom.ex_lane_size;
	}
	Assert(p == end);
	(void) end;
}

/*
 * Stores every message waiting in the workers' queues; with wait, until
 * every worker has detached (finished, or failed: then its error is
 * rethrown by WaitForParallelWorkersToFinish).
 */
static void
Drain(BuildState *bs, bool wait)
{
	RabitqParallelState *ps = bs->par;

	for (;;)
	{
		bool		got = false,
					open = false;

		for (int i = 0; i < bs->nworkers; i++)
		{
			while (!ps->done[i])
			{
				Size		size;
				void	   *data;
				shm_mq_result r = shm_mq_receive(ps->queues[i], &size, &data, true);

				if (r == SHM_MQ_WOULD_BLOCK)
					break;
				if (r == SHM_MQ_DETACHED)
					ps->done[i] = true;
				else
				{
					StoreMessage(bs, data, size);
					got = true;
				}
				CHECK_FOR_INTERRUPTS();
			}
			open |= !ps->done[i];
		}
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indexed);
		if (!wait || !open)
			return;
		if (!got)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, WAIT_EVENT_MQ_RECEIVE);
			ResetLatch(MyLatch);
		}
		CHECK_FOR_INTERRUPTS();
	}
}

/* After each batch: a worker sends it; the leader stores what the workers sent meanwhile. */
void
RabitqParallelBatchDone(BuildState *bs)
{
	if (bs->worker)
		SendBatch(bs);
	else
		Drain(bs, false);
}

/* ---- setting up ---- */

/* The DSM: shared state and scan, the rotated centroids, one queue per worker. */
static RabitqParallelShared *
SetUpShared(BuildState *bs, ParallelContext *pcxt, Snapshot snapshot)
{
	Size		centroid_bytes = CentroidBytes(bs);
	RabitqParallelShared *shared;
	void	   *centroids;
	char	   *queues;

	shared = shm_toc_allocate(pcxt->toc, add_size(BUFFERALIGN(sizeof(RabitqParallelShared)),
												  table_parallelscan_estimate(bs->heap, snapshot)));
	shared->heaprelid = RelationGetRelid(bs->heap);
	shared->indexrelid = RelationGetRelid(bs->index);
	shared->isconcurrent = bs->indexInfo->ii_Concurrent;
	shared->lists = bs->lists;
	shared->reltuples = 0.0;
	shared->tuples_total = bs->tuples_total;
	SpinLockInit(&shared->mutex);
	table_parallelscan_initialize(bs->heap, SharedScan(shared), snapshot);
	shm_toc_insert(pcxt->toc, KEY_SHARED, shared);

	centroids = shm_toc_allocate(pcxt->toc, centroid_bytes);
	memcpy(centroids, bs->codec.centroids, centroid_bytes);
	shm_toc_insert(pcxt->toc, KEY_CENTROIDS, centroids);

	queues = shm_toc_allocate(pcxt->toc, mul_size(RABITQ_QUEUE_BYTES, bs->nworkers));
	for (int i = 0; i < bs->nworkers; i++)
		shm_mq_set_receiver(shm_mq_create(queues + (Size) i * RABITQ_QUEUE_BYTES, RABITQ_QUEUE_BYTES), MyProc);
	shm_toc_insert(pcxt->toc, KEY_QUEUES, queues);
	return shared;
}

/* The serial loading phase: one scan of the whole table. */
static double
SerialLoad(BuildState *bs)
{
	double		reltuples = table_index_build_scan(bs->heap, bs->index, bs->indexInfo, true, true,
												   RabitqBuildCallback, bs, NULL);

	RabitqBuildFlush(bs);
	return reltuples;
}

/*
 * The loading phase: with workers when the build planned some and the
 * server started any, the leader scanning its share too; serially
 * otherwise.  Returns the heap tuples scanned.
 */
double
RabitqBuildLoad(BuildState *bs)
{
	RabitqParallelState ps;
	ParallelContext *pcxt;
	RabitqParallelShared *shared;
	Snapshot	snapshot;
	char	   *queues;
	double		reltuples;

	if (bs->nworkers == 0)
		return SerialLoad(bs);
	EnterParallelMode();
	pcxt = CreateParallelContext("vecrabitq", "RabitqParallelBuildMain", bs->nworkers);
	/* as a btree build: all tuples, or an MVCC snapshot for CONCURRENTLY */
	snapshot = bs->indexInfo->ii_Concurrent ? RegisterSnapshot(GetTransactionSnapshot()) : SnapshotAny;
	shm_toc_estimate_chunk(&pcxt->estimator, add_size(BUFFERALIGN(sizeof(RabitqParallelShared)),
													  table_parallelscan_estimate(bs->heap, snapshot)));
	shm_toc_estimate_chunk(&pcxt->estimator, CentroidBytes(bs));
	shm_toc_estimate_chunk(&pcxt->estimator, mul_size(RABITQ_QUEUE_BYTES, bs->nworkers));
	shm_toc_estimate_keys(&pcxt->estimator, 3);
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		/* no dynamic shared memory: build serially */
		if (IsMVCCSnapshot(snapshot))
			UnregisterSnapshot(snapshot);
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		bs->nworkers = 0;
		return SerialLoad(bs);
	}
	shared = SetUpShared(bs, pcxt, snapshot);
	queues = shm_toc_lookup(pcxt->toc, KEY_QUEUES, false);

	memset(&ps, 0, sizeof(ps));
	ps.entry_bytes = EntryBytes(bs);
	ps.posting_bytes = PostingBytes(bs);
	ps.queues = palloc0(sizeof(shm_mq_handle *) * bs->nworkers);
	ps.done = palloc0(sizeof(bool) * bs->nworkers);
	ps.code = palloc(sizeof(uint64_t) * bs->geom.words);
	for (int i = 0; i < bs->nworkers; i++)
		ps.queues[i] = shm_mq_attach((shm_mq *) (queues + (Size) i * RABITQ_QUEUE_BYTES), pcxt->seg, NULL);
	LaunchParallelWorkers(pcxt);
	elog(DEBUG1, "rabitq build loads with %d of %d parallel workers launched", pcxt->nworkers_launched,
		 bs->nworkers);
	for (int i = 0; i < bs->nworkers; i++)
	{
		if (i < pcxt->nworkers_launched)
			shm_mq_set_handle(ps.queues[i], pcxt->worker[i].bgwhandle);
		else
			ps.done[i] = true;	/* never started: nothing will come */
	}
	bs->par = &ps;

	/* the leader's own share, storing the workers' batches between its own */
	reltuples = table_index_build_scan(bs->heap, bs->index, bs->indexInfo, true, true,
									   RabitqBuildCallback, bs, table_beginscan_parallel(bs->heap, SharedScan(shared)));
	RabitqBuildFlush(bs);
	Drain(bs, true);
	WaitForParallelWorkersToFinish(pcxt);
	reltuples += shared->reltuples;

	bs->par = NULL;
	if (IsMVCCSnapshot(snapshot))
		UnregisterSnapshot(snapshot);
	DestroyParallelContext(pcxt);
	ExitParallelMode();
	return reltuples;
}

/* ---- a worker ---- */

/*
 * A worker's own row in pg_stat_progress_create_index, in its phase: in
 * the loading phase its scan's blocks (the shared scan's position as this
 * worker sees it) and the rows it has read (RabitqBuildCallback counts
 * them); in k-means the iterations it took part in.
 */
void
RabitqWorkerProgressStart(Oid heaprelid, Oid indexrelid, Oid amid, bool concurrent, int subphase,
						  int64 tuples_total)
{
	const int	param[] = {PROGRESS_CREATEIDX_COMMAND, PROGRESS_CREATEIDX_INDEX_OID,
		PROGRESS_CREATEIDX_ACCESS_METHOD_OID, PROGRESS_CREATEIDX_PHASE, PROGRESS_CREATEIDX_SUBPHASE,
	PROGRESS_CREATEIDX_TUPLES_TOTAL};
	const int64 value[] = {concurrent ? PROGRESS_CREATEIDX_COMMAND_CREATE_CONCURRENTLY :
		PROGRESS_CREATEIDX_COMMAND_CREATE, indexrelid, amid, PROGRESS_CREATEIDX_PHASE_BUILD, subphase,
	tuples_total};

	pgstat_progress_start_command(PROGRESS_COMMAND_CREATE_INDEX, heaprelid);
	pgstat_progress_update_multi_param(lengthof(param), param, value);
}

/* The entry point of a parallel worker (CreateParallelContext names it). */
void
RabitqParallelBuildMain(dsm_segment *seg, shm_toc *toc)
{
	RabitqParallelShared *shared = shm_toc_lookup(toc, KEY_SHARED, false);
	LOCKMODE	heap_lock = shared->isconcurrent ? ShareUpdateExclusiveLock : ShareLock;
	Relation	heap = table_open(shared->heaprelid, heap_lock);
	Relation	index = index_open(shared->indexrelid, RowExclusiveLock);
	IndexInfo  *indexInfo = BuildIndexInfo(index);
	char	   *queues = shm_toc_lookup(toc, KEY_QUEUES, false);
	Size		centroid_bytes;
	float	   *centroids;
	RabitqParallelState ps;
	shm_mq	   *mq;
	BuildState	bs;
	double		reltuples;

	indexInfo->ii_Concurrent = shared->isconcurrent;
	RabitqBuildInitState(&bs, heap, index, indexInfo);
	bs.lists = shared->lists;
	centroid_bytes = CentroidBytes(&bs);
	centroids = palloc(centroid_bytes);
	memcpy(centroids, shm_toc_lookup(toc, KEY_CENTROIDS, false), centroid_bytes);
	RabitqCodecSetCentroids(&bs.codec, bs.lists, centroids);
	RabitqBuildInitLoading(&bs);
	bs.buildctx = CurrentMemoryContext;
	bs.tmpctx = AllocSetContextCreate(CurrentMemoryContext, "rabitq build row", ALLOCSET_DEFAULT_SIZES);

	memset(&ps, 0, sizeof(ps));
	ps.entry_bytes = EntryBytes(&bs);
	ps.posting_bytes = PostingBytes(&bs);
	ps.entries = palloc(mul_size(BatchRows(bs.codec.dp), ps.entry_bytes));
	ps.postings = palloc(mul_size(BatchRows(bs.codec.dp), ps.posting_bytes));
	mq = (shm_mq *) (queues + (Size) ParallelWorkerNumber * RABITQ_QUEUE_BYTES);
	shm_mq_set_sender(mq, MyProc);
	ps.out = shm_mq_attach(mq, seg, NULL);
	bs.par = &ps;
	bs.worker = true;

	RabitqWorkerProgressStart(RelationGetRelid(heap), RelationGetRelid(index), index->rd_rel->relam,
							  shared->isconcurrent, RABITQ_PHASE_LOAD, (int64) shared->tuples_total);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, true, RabitqBuildCallback, &bs,
									   table_beginscan_parallel(heap, SharedScan(shared)));
	RabitqBuildFlush(&bs);
	SendBatch(&bs);
	RabitqBuildReportAssign(&bs);
	SpinLockAcquire(&shared->mutex);
	shared->reltuples += reltuples;
	SpinLockRelease(&shared->mutex);
	shm_mq_detach(ps.out);
	pgstat_progress_end_command();
	index_close(index, RowExclusiveLock);
	table_close(heap, heap_lock);
}
