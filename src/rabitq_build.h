/*
 * rabitq_build.h
 *	  The state of one participant of CREATE INDEX: rabitq_build.c runs the
 *	  phases, rabitq_build_parallel.c lets workers load rows beside the
 *	  leader, rabitq_build_kmeans.c lets them assign k-means' rows.  Private
 *	  to those three files.
 */
#ifndef RABITQ_BUILD_H
#define RABITQ_BUILD_H

#include "core/rq_kmeans.h"
#include "rabitq.h"
#include "rabitq_record.h"

/* Rows assigned per GEMM: up to 1024, and about 4 MB of rotated vectors. */
#define RABITQ_BATCH_BYTES (4 * 1024 * 1024)
#define BatchRows(dp) Max(8, Min(1024, RABITQ_BATCH_BYTES / ((dp) * (int) sizeof(float))))

/* One list's page being filled during the build. */
typedef struct ListWriter
{
	BlockNumber first;			/* first page of the list (Invalid: none yet) */
	BlockNumber blkno[RABITQ_MAX_SEGMENTS]; /* blocks of the current images */
	Page		image[RABITQ_MAX_SEGMENTS]; /* NULL until the list has a row */
	int			lanes;			/* lanes used in the open block (0..8) */
	OffsetNumber open[RABITQ_MAX_SEGMENTS]; /* item numbers of the open block */
	/* the list's ex-code chain (ex_bits > 0) */
	BlockNumber ex_first;
	BlockNumber ex_blkno;		/* block of the current ex image */
	Page		ex_image;		/* NULL until the list has a row */
} ListWriter;

typedef struct BuildState
{
	Relation	heap;
	Relation	index;
	IndexInfo  *indexInfo;
	RabitqKeyLayout keys;
	RabitqPostingWriter *postings;	/* NULL without key columns */
	RabitqReservation reserve;	/* where the lists' and postings' pages come from */
	uint32		buckets;
	RabitqCodec codec;			/* rotation, then the rotated centroids */
	int			lists;
	RabitqGeometry geom;
	float	   *centroids;		/* lists x D: k-means' centroids, before rotation */
	ListWriter *writers;
	float	   *max_residual;	/* lists */
	/* the batch being assigned */
	int			batch_count;
	float	   *batch;			/* BatchRows x Dp, rotated */
	ItemPointerData *batch_tids;
	uint8	   *batch_keys;		/* BatchRows x key_bytes */
	float	   *batch_norm2;
	int32	   *batch_list;
	float	   *batch_block;	/* block_rows x lists (GEMM output), without groups */
	int			block_rows;		/* rows per GEMM block (rq_gemm_block_rows) */
	struct rq_groups *groups;	/* the centroids grouped (rq_groups.h); NULL: compare with all */
	void	   *groups_work;	/* a batch's search scratch */
	struct rq_groups_stats *groups_stats;
	float	   *prep;			/* D: one preprocessed row */
	RabitqEntry entry;			/* the row being stored */
	char	   *posting_ex;		/* a posting's ex-code lane (key columns, ex_bits > 0) */
	double		indexed;		/* rows stored (the leader: every participant's) */
	double		assigned;		/* a worker: the rows it has read */
	double		tuples_total;	/* rows the sample saw (progress) */
	double		residual2;
	MemoryContext buildctx;		/* lives for the whole build */
	MemoryContext tmpctx;		/* reset after every row */
	/* a parallel build (rabitq_build_parallel.c); NULL in a serial one */
	struct RabitqParallelState *par;
	int			nworkers;		/* workers planned besides the leader (memory check) */
	bool		worker;			/* this is a parallel worker: it sends, the leader stores */
} BuildState;

/* rabitq_build.c: what a participant of the loading phase runs */
extern void RabitqBuildInitState(BuildState *bs, Relation heap, Relation index, struct IndexInfo *indexInfo);
extern Size RabitqBuildBatchMemory(const BuildState *bs, int lists);
extern void RabitqBuildInitLoading(BuildState *bs);
extern void RabitqBuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
								bool tupleIsAlive, void *state);
extern void RabitqBuildFlush(BuildState *bs);
extern void RabitqBuildReportAssign(const BuildState *bs);
extern void RabitqBuildPut(BuildState *bs, int list, const RabitqLane *e, float residual2);

/* rabitq_build_parallel.c */
extern int	RabitqBuildPlanWorkers(Relation heap, Relation index);
extern Size RabitqBuildWorkerMemory(const BuildState *bs, int lists);
extern double RabitqBuildLoad(BuildState *bs);
extern void RabitqParallelEmitEntry(BuildState *bs, int list, const RabitqLane *e, float residual2);
extern void RabitqParallelEmitPosting(BuildState *bs, uint64 hash, ItemPointer tid, const char *ex_lane);
extern void RabitqParallelBatchDone(BuildState *bs);
extern void RabitqWorkerProgressStart(Oid heaprelid, Oid indexrelid, Oid amid, bool concurrent, int subphase,
									  int64 tuples_total);

/* rabitq_build_kmeans.c */
extern Size RabitqKmeansParallelMemory(int nworkers, Size samples, const rq_kmeans_config *cfg);
extern rq_status RabitqKmeansParallel(BuildState *bs, const float *rows, Size n, const rq_kmeans_config *cfg,
									  float *centroids, void *work, rq_kmeans_result *result);

#endif							/* RABITQ_BUILD_H */
