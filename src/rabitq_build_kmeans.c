/*
 * rabitq_build_kmeans.c
 *	  k-means of CREATE INDEX with parallel workers (doc/DESIGN.md 4).  The
 *	  leader runs k-means (rq_kmeans: seeding, then Lloyd) on the sample,
 *	  copied into dynamic shared memory; each Lloyd iteration's assignment,
 *	  three quarters of the phase, is split into the core's fixed batches
 *	  (rq_kmeans_assigner), which the workers and the leader take one at a
 *	  time from a shared counter.  A row's result depends only on the
 *	  centroids and its batch, so the lists are the serial build's, bit for
 *	  bit, however the batches fall.  The centroid update, re-seeding and
 *	  normalisation stay serial in the leader, between iterations.
 *
 *	  An iteration: the leader copies the centroids into shared memory and
 *	  publishes a new generation (under the spinlock, with the batch counter
 *	  reset); a worker joins it (counted in `active`) if batches are left,
 *	  starts its own assigner (grouping the centroids as the leader does),
 *	  takes batches until none is left, and leaves.  The leader waits until
 *	  every batch is done and no worker is in the generation before it
 *	  changes the centroids again.  A worker's error reaches the leader as in
 *	  any parallel operation (its interrupt checks while waiting).
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/shm_toc.h"
#include "storage/spin.h"
#include "utils/rel.h"

#include "core/rq_kmeans.h"
#include "rabitq_build.h"

#define KEY_KMEANS		UINT64CONST(0xB17B0000000000B1)
#define KEY_ROWS		UINT64CONST(0xB17B0000000000B2)

typedef struct KmeansShared
{
	/* set up by the leader, read-only afterwards */
	Oid			heaprelid;
	Oid			indexrelid;
	Oid			amid;
	bool		isconcurrent;
	int			dim;
	int			k;
	int			max_iterations;
	int			max_groups;
	bool		spherical;
	uint64		seed;
	Size		n;

	/* the iteration being assigned */
	slock_t		mutex;
	ConditionVariable cv;		/* broadcast on every change below */
	uint32		generation;		/* bumped when an iteration is published */
	int			iteration;
	uint64		batches;
	uint64		done;			/* batches finished */
	int			active;			/* workers in the current generation */
	bool		shutdown;
	pg_atomic_uint64 next;		/* the next batch to take */
} KmeansShared;

/* The arrays after the header, in one chunk: centroids, rows, their norms, assignments, distances. */
typedef struct KmeansArrays
{
	float	   *centroids;		/* k x dim */
	float	   *rows;			/* n x dim */
	float	   *xnorm2;			/* n */
	int32	   *assign;			/* n */
	float	   *dist;			/* n */
} KmeansArrays;

/* A participant: the shared state, its arrays, its assigner's scratch. */
typedef struct KmeansParticipant
{
	KmeansShared *shared;
	KmeansArrays arrays;
	rq_kmeans_config cfg;
	void	   *scratch;
	uint64		batches;		/* the leader: batches of all iterations */
	uint64		taken;			/* batches this participant assigned */
} KmeansParticipant;

PGDLLEXPORT void RabitqKmeansWorkerMain(dsm_segment *seg, shm_toc *toc);

/* Lays the arrays out from base (measures them when base is NULL). */
static Size
ArraysLayout(char *base, int k, int dim, Size n, KmeansArrays *a)
{
	void	   *parts[5];
	size_t		sizes[5] = {
		mul_size(mul_size(k, dim), sizeof(float)), mul_size(mul_size(n, dim), sizeof(float)),
		mul_size(n, sizeof(float)), mul_size(n, sizeof(int32)), mul_size(n, sizeof(float))
	};
	Size		bytes = rq_carve(base, sizes, parts, 5);

	if (a != NULL)
	{
		a->centroids = parts[0];
		a->rows = parts[1];
		a->xnorm2 = parts[2];
		a->assign = parts[3];
		a->dist = parts[4];
	}
	return bytes;
}

/*
 * Memory a parallel k-means adds to the build: the shared copy of the
 * sample with its per-row arrays, and the assigners of each worker and of
 * the leader (whose k-means workspace holds one it does not use then).
 */
Size
RabitqKmeansParallelMemory(int nworkers, Size samples, const rq_kmeans_config *cfg)
{
	if (nworkers == 0)
		return 0;
	return add_size(add_size(sizeof(KmeansShared), ArraysLayout(NULL, cfg->k, cfg->dim, samples, NULL)),
					mul_size(nworkers + 1, rq_kmeans_assigner_bytes(cfg)));
}

/*
 * Takes batches of the current iteration until none is left: starts an
 * assigner on the shared centroids, then assigns each batch taken into the
 * shared arrays.
 */
static void
RunBatches(KmeansParticipant *p, int iteration)
{
	KmeansShared *shared = p->shared;
	KmeansArrays *a = &p->arrays;
	rq_kmeans_assigner assigner;

	rq_kmeans_assigner_start(&assigner, &p->cfg, a->centroids, iteration, p->scratch);
	for (;;)
	{
		uint64		b = pg_atomic_fetch_add_u64(&shared->next, 1);
		size_t		start;

		if (b >= shared->batches)
			break;
		rq_kmeans_batch_span(&assigner, shared->n, b, &start);
		rq_kmeans_assign_batch(&assigner, a->rows, a->xnorm2, shared->n, b, a->assign + start,
							   a->dist + start);
		SpinLockAcquire(&shared->mutex);
		shared->done++;
		SpinLockRelease(&shared->mutex);
		p->taken++;
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * The leader's assign_all (rq_kmeans_config): publishes the iteration,
 * takes batches itself, waits for the workers, then takes the shared
 * assignments into k-means' own arrays.
 */
static size_t
LeaderAssignAll(void *ctx, int iteration, const float *centroids, int32_t *assign, float *dist)
{
	KmeansParticipant *p = ctx;
	KmeansShared *shared = p->shared;
	rq_kmeans_assigner assigner;
	size_t		changed = 0;

	/* no worker is in a generation (the previous call waited): the centroids are the leader's */
	memcpy(p->arrays.centroids, centroids, mul_size(mul_size(shared->k, shared->dim), sizeof(float)));
	rq_kmeans_assigner_start(&assigner, &p->cfg, p->arrays.centroids, iteration, p->scratch);
	SpinLockAcquire(&shared->mutex);
	shared->iteration = iteration;
	shared->batches = rq_kmeans_batches(&assigner, shared->n);
	shared->done = 0;
	pg_atomic_write_u64(&shared->next, 0);
	shared->generation++;
	SpinLockRelease(&shared->mutex);
	p->batches += shared->batches;
	ConditionVariableBroadcast(&shared->cv);

	RunBatches(p, iteration);

	ConditionVariablePrepareToSleep(&shared->cv);
	for (;;)
	{
		bool		finished;

		SpinLockAcquire(&shared->mutex);
		finished = shared->done == shared->batches && shared->active == 0;
		SpinLockRelease(&shared->mutex);
		if (finished)
			break;
		ConditionVariableSleep(&shared->cv, WAIT_EVENT_PARALLEL_CREATE_INDEX_SCAN);
	}
	ConditionVariableCancelSleep();

	for (Size i = 0; i < shared->n; i++)
	{
		changed += assign[i] != p->arrays.assign[i];
		assign[i] = p->arrays.assign[i];
	}
	memcpy(dist, p->arrays.dist, mul_size(shared->n, sizeof(float)));
	return changed;
}

/* k-means' tick in a worker (grouping the centroids): cancellation. */
static void
WorkerTick(void *ctx, rq_kmeans_stage stage, int done, int total)
{
	(void) ctx;
	(void) stage;
	(void) done;
	(void) total;
	CHECK_FOR_INTERRUPTS();
}

/* The configuration every participant runs k-means' assignment with. */
static rq_kmeans_config
SharedConfig(const KmeansShared *shared)
{
	rq_kmeans_config cfg = {.dim = shared->dim, .k = shared->k, .max_iterations = shared->max_iterations,
		.seed = shared->seed, .spherical = shared->spherical, .max_groups = shared->max_groups,
	.tick = WorkerTick};

	return cfg;
}

/* Sets up the shared state and arrays: the sample copied in, with its rows' norms. */
static KmeansParticipant
SetUpShared(ParallelContext *pcxt, const BuildState *bs, const float *rows, Size n,
			const rq_kmeans_config *cfg)
{
	KmeansParticipant p;
	KmeansShared *shared = shm_toc_allocate(pcxt->toc, sizeof(KmeansShared));
	char	   *base = shm_toc_allocate(pcxt->toc, ArraysLayout(NULL, cfg->k, cfg->dim, n, NULL));

	memset(shared, 0, sizeof(*shared));
	shared->heaprelid = RelationGetRelid(bs->heap);
	shared->indexrelid = RelationGetRelid(bs->index);
	shared->amid = bs->index->rd_rel->relam;
	shared->isconcurrent = bs->indexInfo->ii_Concurrent;
	shared->dim = cfg->dim;
	shared->k = cfg->k;
	shared->max_iterations = cfg->max_iterations;
	shared->max_groups = cfg->max_groups;
	shared->spherical = cfg->spherical;
	shared->seed = cfg->seed;
	shared->n = n;
	SpinLockInit(&shared->mutex);
	ConditionVariableInit(&shared->cv);
	pg_atomic_init_u64(&shared->next, 0);
	shm_toc_insert(pcxt->toc, KEY_KMEANS, shared);
	shm_toc_insert(pcxt->toc, KEY_ROWS, base);

	memset(&p, 0, sizeof(p));
	p.shared = shared;
	ArraysLayout(base, cfg->k, cfg->dim, n, &p.arrays);
	memcpy(p.arrays.rows, rows, mul_size(mul_size(n, cfg->dim), sizeof(float)));
	rq_squared_norms(p.arrays.rows, n, cfg->dim, p.arrays.xnorm2);
	p.cfg = *cfg;
	p.scratch = palloc(rq_kmeans_assigner_bytes(cfg));
	return p;
}

/*
 * k-means of the n sample rows (cfg and work as for rq_kmeans) with the build's
 * planned workers taking part in every assignment; serially when no
 * dynamic shared memory is to be had.  The centroids and the result are
 * rq_kmeans's, bit for bit.
 */
rq_status
RabitqKmeansParallel(BuildState *bs, const float *rows, Size n, const rq_kmeans_config *cfg,
					 float *centroids, void *work, rq_kmeans_result *result)
{
	ParallelContext *pcxt;
	KmeansParticipant p;
	rq_kmeans_config leader = *cfg;
	rq_status	status;

	EnterParallelMode();
	pcxt = CreateParallelContext("vecrabitq", "RabitqKmeansWorkerMain", bs->nworkers);
	shm_toc_estimate_chunk(&pcxt->estimator, sizeof(KmeansShared));
	shm_toc_estimate_chunk(&pcxt->estimator, ArraysLayout(NULL, cfg->k, cfg->dim, n, NULL));
	shm_toc_estimate_keys(&pcxt->estimator, 2);
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return rq_kmeans(rows, n, cfg, centroids, work, result);
	}
	p = SetUpShared(pcxt, bs, rows, n, cfg);
	LaunchParallelWorkers(pcxt);
	elog(DEBUG1, "rabitq k-means assigns with %d of %d parallel workers launched", pcxt->nworkers_launched,
		 bs->nworkers);

	leader.assign_all = LeaderAssignAll;
	leader.assign_ctx = &p;
	status = rq_kmeans(p.arrays.rows, n, &leader, centroids, work, result);
	elog(DEBUG1, "rabitq k-means: the workers assigned " UINT64_FORMAT " of " UINT64_FORMAT " batches",
		 p.batches - p.taken, p.batches);

	SpinLockAcquire(&p.shared->mutex);
	p.shared->shutdown = true;
	SpinLockRelease(&p.shared->mutex);
	ConditionVariableBroadcast(&p.shared->cv);
	WaitForParallelWorkersToFinish(pcxt);
	pfree(p.scratch);
	DestroyParallelContext(pcxt);
	ExitParallelMode();
	return status;
}

/* ---- a worker ---- */

/*
 * Waits for an iteration with batches left; false when the leader shuts
 * down.  *seen is the last generation this worker looked at.
 */
static bool
JoinNextIteration(KmeansShared *shared, uint32 *seen, int *iteration)
{
	bool		joined = false;

	ConditionVariablePrepareToSleep(&shared->cv);
	for (;;)
	{
		bool		stop;

		SpinLockAcquire(&shared->mutex);
		stop = shared->shutdown;
		if (!stop && shared->generation != *seen)
		{
			*seen = shared->generation;
			if (pg_atomic_read_u64(&shared->next) < shared->batches)
			{
				shared->active++;
				*iteration = shared->iteration;
				joined = true;
			}
		}
		SpinLockRelease(&shared->mutex);
		if (stop || joined)
			break;
		ConditionVariableSleep(&shared->cv, WAIT_EVENT_PARALLEL_CREATE_INDEX_SCAN);
	}
	ConditionVariableCancelSleep();
	return joined;
}

/* The entry point of a k-means worker (CreateParallelContext names it). */
void
RabitqKmeansWorkerMain(dsm_segment *seg, shm_toc *toc)
{
	KmeansParticipant p;
	uint32		seen = 0;
	int			iteration;

	(void) seg;
	memset(&p, 0, sizeof(p));
	p.shared = shm_toc_lookup(toc, KEY_KMEANS, false);
	ArraysLayout(shm_toc_lookup(toc, KEY_ROWS, false), p.shared->k, p.shared->dim, p.shared->n, &p.arrays);
	p.cfg = SharedConfig(p.shared);
	p.scratch = palloc(rq_kmeans_assigner_bytes(&p.cfg));
	RabitqLoadBlas();
	RabitqWorkerProgressStart(p.shared->heaprelid, p.shared->indexrelid, p.shared->amid,
							  p.shared->isconcurrent, RABITQ_PHASE_KMEANS, p.shared->max_iterations);
	while (JoinNextIteration(p.shared, &seen, &iteration))
	{
		RunBatches(&p, iteration);
		SpinLockAcquire(&p.shared->mutex);
		p.shared->active--;
		SpinLockRelease(&p.shared->mutex);
		ConditionVariableBroadcast(&p.shared->cv);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, iteration + 1);
	}
	pgstat_progress_end_command();
}
