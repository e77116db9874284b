/*
 * rabitq.h
 *	  The rabitq index access method: options, settings, the codec and the
 *	  per-backend cache, and the prototypes of the AM's files.  The on-disk
 *	  format is rabitq_format.h, block records rabitq_record.h, key columns
 *	  rabitq_keys.h; the section "Architecture" of DEVELOPERS.md says which
 *	  file does what.
 *
 * Lock order: a backend holds at most one list-page lock at a time, except
 * an insert that writes a multi-segment block, which locks that block's
 * pages in chain order, and list extension, which locks the last page and
 * then the new page(s).  The directory page is never locked while a list
 * page lock is held.
 */
#ifndef VECRABITQ_RABITQ_H
#define VECRABITQ_RABITQ_H

#include "postgres.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "access/reloptions.h"
#include "common/relpath.h"
#include "nodes/pathnodes.h"
#include "storage/buf.h"
#include "utils/relcache.h"

#include "core/rq_exbits.h"
#include "core/rq_rotation.h"
#include "rabitq_format.h"
#include "rabitq_keys.h"
#include "rabitq_record.h"

#define RABITQ_MAX_PROBES		RABITQ_MAX_LISTS
#define RABITQ_SAMPLES_PER_LIST 50		/* k-means training rows per list */
#define RABITQ_MIN_ROWS_PER_LIST 10		/* fewer: NOTICE about low recall */
/*
 * Groups of centroids a row's nearest-list search looks into at most, in
 * k-means and when loading rows, once there are enough lists to group
 * (rq_groups.h; measured in the README's growth section).
 */
#define RABITQ_ASSIGN_GROUPS 8
#define RABITQ_ROTATION_SEED	UINT64_C(0x7261626974710001)
#define RABITQ_MAX_EXACT_KEYS	64	/* key value combinations an exact scan looks up */

/* Support function 1 of every opclass: returns the metric (rq_metric). */
#define RABITQ_METRIC_PROC		1
/*
 * Support function 1 of a vector opclass returns its metric (rq_metric), plus
 * RABITQ_HALF when the column holds IEEE half floats (pgvector's halfvec).
 */
#define RABITQ_HALF				0x100
#define RABITQ_KEY_EQUAL_STRATEGY 2	/* `=` of key opclasses */
#define RABITQ_NPROCS			1

/* Build phases shown in pg_stat_progress_create_index. */
#define RABITQ_PHASE_SAMPLE		2
#define RABITQ_PHASE_KMEANS		3
#define RABITQ_PHASE_LOAD		4

/* Index options (WITH (...)). */
typedef struct RabitqOptions
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int			lists;			/* 0: derived from the row count */
	int			probes;			/* 0: derived from the list count */
	int			ex_bits;		/* bits per dimension of the refining codes beyond the 1-bit one */
} RabitqOptions;

#define RABITQ_DEFAULT_EX_BITS	3	/* B = 4: nibbles (see the README's measurements) */
#define RABITQ_MAX_EX_BITS		(RQ_EX_MAX_BITS - 1)

/*
 * How an index turns vectors into entries (rabitq_encode.c): the metric,
 * the rotation and the rotated centroids, with scratch space for one row.
 * Build, insert and check encode through the same codec; a backend keeps
 * one per index in its cache.
 */
typedef struct RabitqCodec
{
	int			dim;
	int			dp;
	rq_metric	metric;
	bool		half;			/* the column holds half floats (halfvec) */
	int			lists;
	int			ex_bits;		/* 0: no B-bit codes */
	rq_rotation rotation;
	float	   *signs;			/* the rotation's state */
	float	   *centroids;		/* lists x Dp, rotated */
	float	   *centroid_norm2; /* lists */
	float	   *origin;			/* Dp zeros: the centroid postings' codes are taken from */
	rq_ex_quantizer ex;			/* the B-bit quantizer's grid */
	void	   *ex_work;		/* scratch: rq_ex_work_bytes */
	float	   *prep;			/* scratch: D */
	float	   *elems;			/* scratch: D, a halfvec's elements as floats */
	float	   *residual;		/* scratch: Dp */
} RabitqCodec;

/* An entry as the codec makes it (the code arrays belong to the caller). */
typedef struct RabitqEntry
{
	uint64_t   *code;			/* 1-bit code: rq_code_words(Dp) words */
	rq_factors	f;
	uint8	   *ex_code;		/* B-bit code: rq_ex_code_bytes (ex_bits > 0) */
	rq_ex_factors ex_f;
	float		residual2;		/* |o - c|^2 */
} RabitqEntry;

/* What a backend keeps per index (rd_amcache), rebuilt when build_id changes. */
typedef struct RabitqCache
{
	MemoryContext cxt;			/* everything below */
	uint64		build_id;
	RabitqCodec codec;
	RabitqKeyLayout keys;
	RabitqGeometry geom;
	BlockNumber posting_start;
	uint32		posting_buckets;
	BlockNumber *dir_page;		/* lists: directory page of the list's entry */
	uint16	   *dir_slot;		/* lists: index of the entry in that page */
	struct RabitqRecent *recent;	/* per block: the buffer that last held it (RabitqReadBuffer) */
} RabitqCache;

typedef struct RabitqRecent
{
	Buffer	   *buffers;
	uint32		size;
} RabitqRecent;

/* GUCs */
extern int	rabitq_probes;
extern double rabitq_epsilon;
extern double rabitq_ex_epsilon;
extern int	rabitq_iterative_scan;
extern int	rabitq_max_probes;
extern int	rabitq_exact_limit;

#define RABITQ_DEFAULT_EPSILON		3.0		/* the 1-bit stage's: no miss from 2.0 up, misses at 1.5 (README, Order) */
#define RABITQ_DEFAULT_EX_EPSILON	4.0		/* the refining stage's */
#define RABITQ_MAX_EPSILON			10.0
#define RABITQ_EPSILON_GROWTH		1.5		/* a late row widens the bounds this much ... */
#define RABITQ_EPSILON_MAX_GROWTH	8.0		/* ... up to this many times the setting */
#define RABITQ_RELEASE_WIDEN		2.0		/* a deferred entry's bound, if released, at epsilon + this */

#define RABITQ_ITERATIVE_OFF 0
#define RABITQ_ITERATIVE_ON	 1

/* A build's reserved blocks (rabitq_page.c): the index extended a chunk at a time. */
typedef struct RabitqReservation
{
	Relation	index;
	BlockNumber next;			/* the next block to hand out */
	BlockNumber end;			/* one past the last block extended */
} RabitqReservation;

/* rabitq_postings.c: the key hash table */
typedef struct RabitqPostingWriter RabitqPostingWriter;
extern uint32 RabitqPostingBuckets(double rows);
extern Size RabitqPostingBuildMemory(uint32 buckets);
extern RabitqPostingWriter *RabitqPostingBuildStart(Relation index, RabitqReservation *reserve,
												   uint32 buckets, Size size);
extern void RabitqPostingBuildAdd(RabitqPostingWriter *w, uint64 hash, ItemPointer tid,
								  const char *ex_lane);
extern BlockNumber RabitqPostingBuildFinish(RabitqPostingWriter *w);
extern BlockNumber RabitqPostingWriteEmpty(Relation index, ForkNumber fork, uint32 buckets);
extern void RabitqPostingInsert(Relation index, const RabitqCache *cache, uint64 hash, ItemPointer tid,
								const char *ex_lane);
extern int	RabitqPostingLookup(Relation index, const RabitqCache *cache, uint64 hash, int limit,
								char *out);
extern void RabitqPostingVacuum(IndexVacuumInfo *info, const RabitqCache *cache,
								IndexBulkDeleteCallback callback, void *callback_state);

/* rabitq_handler.c */
extern void RabitqInitGucs(void);
extern void RabitqInitOptions(void);
extern bytea *rabitqoptions(Datum reloptions, bool validate);
extern bool rabitqvalidate(Oid opclassoid);
extern char *rabitqbuildphasename(int64 phasenum);

/* rabitq_inspect.c */
extern void RabitqOpenForInspection(Oid indexoid, LOCKMODE lockmode, const char *fname,
									Relation *heap, Relation *index);

/* rabitq_cost.c */
extern void rabitqcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
							   Cost *indexStartupCost, Cost *indexTotalCost,
							   Selectivity *indexSelectivity, double *indexCorrelation,
							   double *indexPages);

/* rabitq_build.c */
/* rabitq_citus.c */
extern bool RabitqIsDistributedShell(Oid relid);

extern IndexBuildResult *rabitqbuild(Relation heap, Relation index, struct IndexInfo *indexInfo);
extern void rabitqbuildempty(Relation index);

/* rabitq_insert.c */
extern bool rabitqinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
						 Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
						 struct IndexInfo *indexInfo);

/* rabitq_scan.c */
extern IndexScanDesc rabitqbeginscan(Relation index, int nkeys, int norderbys);
extern void rabitqrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys,
						 int norderbys);
extern bool rabitqgettuple(IndexScanDesc scan, ScanDirection dir);
extern void rabitqendscan(IndexScanDesc scan);

/* rabitq_vacuum.c */
extern IndexBulkDeleteResult *rabitqbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
											   IndexBulkDeleteCallback callback, void *callback_state);
extern IndexBulkDeleteResult *rabitqvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);

/* rabitq_page.c: pages, the metapage, array chains */
extern void RabitqInitPage(Page page, uint16 kind);
extern Buffer RabitqNewBuffer(Relation index, ForkNumber fork);
extern void RabitqReserveStart(RabitqReservation *r, Relation index);
extern BlockNumber RabitqReserveBlock(RabitqReservation *r);
extern void RabitqReserveFinish(RabitqReservation *r);
extern void RabitqWriteImage(Relation index, BlockNumber blkno, Page image);
extern RabitqMetaPageData RabitqNewMeta(const RabitqKeyLayout *keys, int dim, int dp, rq_metric metric,
										int lists, int ex_bits);
extern void RabitqWriteMeta(Relation index, ForkNumber fork, const RabitqMetaPageData *meta);
extern RabitqMetaPageData RabitqReadMeta(Relation index);
extern BlockNumber RabitqWriteArray(Relation index, ForkNumber fork, uint16 kind, const void *data,
									Size elem_size, Size count);
extern void RabitqReadArray(Relation index, BlockNumber start, Size elem_size, Size count, void *data,
							BlockNumber *pages);

/* rabitq_cache.c: the per-backend cache */
extern RabitqCache *RabitqGetCache(Relation index);
extern Buffer RabitqReadBuffer(Relation index, const RabitqCache *cache, BlockNumber blkno);
extern rq_metric RabitqIndexMetric(Relation index, int vector_attno);
extern bool RabitqIndexHalf(Relation index, int vector_attno);
extern int	RabitqIndexDimensions(Relation index, int vector_attno);

/* rabitq_lists.c: list directory entries and how many lists a scan probes */
extern RabitqListEntry RabitqReadListEntry(Relation index, const RabitqCache *cache, int list);
extern void RabitqSetInsertHint(Relation index, const RabitqCache *cache, int list, BlockNumber blkno);
extern void RabitqRaiseMaxResidual(Relation index, const RabitqCache *cache, int list, float norm);
extern RabitqListEntry RabitqCreateFirstPage(Relation index, const RabitqCache *cache, int list);
extern void RabitqSetExHint(Relation index, const RabitqCache *cache, int list, BlockNumber blkno);
extern int	RabitqProbes(Relation index, int lists, rq_metric metric);

/* rabitq_encode.c: the codec */
extern void RabitqCodecInit(RabitqCodec *codec, int dim, rq_metric metric, bool half, uint64 seed,
							int ex_bits);
extern void RabitqCodecSetCentroids(RabitqCodec *codec, int lists, float *centroids);
extern const float *RabitqVectorFloats(const RabitqCodec *codec, Datum value, float *buf, int *dim);
extern bool RabitqEncodeVector(const RabitqCodec *codec, Datum value, float *prep, float *rotated);
extern void RabitqEncodeEntry(const RabitqCodec *codec, const float *rotated, int list,
							  RabitqEntry *e);
extern void RabitqEncodeOrigin(const RabitqCodec *codec, const float *rotated, RabitqEntry *e);

/* rabitq_excodes.c: the ex-code chains */
extern char *RabitqExLaneIn(const RabitqGeometry *g, Page page, ItemPointer tid, int lane);
extern Buffer RabitqExAllocate(Relation index, const RabitqGeometry *g, BlockNumber *hint,
							   ItemPointer tid);
extern void RabitqExReadLane(Relation index, const RabitqGeometry *g, ItemPointer tid, int lane,
							 char *dst);

/* blas_loader.c */
extern void RabitqLoadBlas(void);

#endif							/* VECRABITQ_RABITQ_H */
