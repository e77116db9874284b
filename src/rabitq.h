/*
 * rabitq.h
 *	  The rabitq index access method: constants, on-disk format, options,
 *	  the per-backend cache and the prototypes of the AM's files.
 *
 * Storage (format version 2), all pages in the main fork:
 *
 *	 block 0	  metapage: magic, format version, dimensions, metric, list
 *				  count, rotation (FHT-Kac seed), where the areas start
 *	 directory	  chained pages, an array of RabitqListEntry, one per list:
 *				  first page of the list and the insert hint
 *	 centroids	  chained pages, one flat float array: list l's rotated
 *				  centroid is floats [l * Dp, (l + 1) * Dp)
 *	 lists		  one chain of pages per list; each item on a list page is a
 *				  block record holding up to RQ_BLOCK_LANES (8) entries in
 *				  the core's block layout (src/core/rq_estimate.h), with each
 *				  entry's key-column values stored exactly (the lane key image)
 *	 postings	  (indexes with key columns) a hash table of the key values:
 *				  `posting_buckets` chains whose head pages are consecutive
 *				  from `posting_start`; each posting is (key hash, heap TID),
 *				  so a scan finds a small tenant's rows without probing lists
 *
 * A block record is one page item when it fits (Dp up to about 7,900);
 * beyond that it is split into up to RABITQ_MAX_SEGMENTS items by code-word
 * ranges, on consecutive pages of the chain, the last ("tail") one carrying
 * the factors, heap TIDs and lane flags.
 *
 * Entries never move once written: VACUUM clears the lanes of dead rows and
 * inserts refill free lanes, so a scan can never see a row twice or miss it
 * because of concurrent maintenance.
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
#include "access/generic_xlog.h"
#include "access/genam.h"
#include "access/reloptions.h"
#include "access/skey.h"
#include "nodes/pathnodes.h"
#include "storage/bufpage.h"
#include "utils/relcache.h"

#include "core/rq_estimate.h"
#include "core/rq_rotation.h"

#define RABITQ_MAGIC			0x52425451	/* "RBTQ" */
#define RABITQ_FORMAT_VERSION	2
#define RABITQ_METAPAGE_BLKNO	0
#define RABITQ_PAGE_ID			0xFF91		/* in every page's special space */

#define RABITQ_MAX_LISTS		32768
#define RABITQ_MAX_PROBES		RABITQ_MAX_LISTS
#define RABITQ_MAX_SEGMENTS		3
#define RABITQ_SAMPLES_PER_LIST 50		/* k-means training rows per list */
#define RABITQ_MIN_ROWS_PER_LIST 10		/* fewer: NOTICE about low recall */
#define RABITQ_ROTATION_SEED	UINT64_C(0x7261626974710001)

/* Support function 1 of every opclass: returns the metric (rq_metric). */
#define RABITQ_METRIC_PROC		1
#define RABITQ_KEY_EQUAL_STRATEGY 2	/* `=` of key opclasses */
#define RABITQ_NPROCS			1

/* Build phases shown in pg_stat_progress_create_index. */
#define RABITQ_PHASE_SAMPLE		2
#define RABITQ_PHASE_KMEANS		3
#define RABITQ_PHASE_LOAD		4

/* Page kinds (RabitqPageOpaque.kind). */
#define RABITQ_PAGE_META		1
#define RABITQ_PAGE_DIRECTORY	2
#define RABITQ_PAGE_CENTROIDS	3
#define RABITQ_PAGE_LIST		4
#define RABITQ_PAGE_POSTING		5

/* Key columns: at most 8 besides the vector; text keys up to 63 bytes. */
#define RABITQ_MAX_KEY_COLUMNS	8
#define RABITQ_TEXT_KEY_MAX		63
#define RABITQ_MAX_EXACT_KEYS	64	/* key value combinations an exact scan looks up */

typedef struct RabitqPageOpaqueData
{
	BlockNumber next;			/* next page of this chain, or InvalidBlockNumber */
	uint16		kind;			/* RABITQ_PAGE_* */
	uint16		page_id;		/* RABITQ_PAGE_ID */
} RabitqPageOpaqueData;

typedef RabitqPageOpaqueData *RabitqPageOpaque;

#define RabitqPageGetOpaque(page) ((RabitqPageOpaque) PageGetSpecialPointer(page))

typedef struct RabitqMetaPageData
{
	uint32		magic;
	uint32		version;
	uint32		dimensions;		/* D */
	uint32		padded_dim;		/* Dp */
	uint32		metric;			/* rq_metric */
	uint32		rotation_kind;	/* rq_rotation_kind (FHT-Kac) */
	uint64		rotation_seed;
	uint64		build_id;		/* changes at every build: the cache key */
	uint32		lists;
	BlockNumber directory_start;
	BlockNumber centroid_start;
	uint32		key_bytes;		/* per-lane key area (0: no key columns) */
	double		build_residual2;	/* mean squared residual norm at build */
	int64		build_rows;		/* rows indexed by the build */
	uint16		vector_attno;	/* index column (0-based) of the vector */
	uint16		key_columns;	/* other (key) columns */
	BlockNumber posting_start;	/* head page of posting bucket 0 */
	uint32		posting_buckets;	/* a power of two; 0 without key columns */
} RabitqMetaPageData;

typedef RabitqMetaPageData *RabitqMetaPage;

#define RabitqPageGetMeta(page) ((RabitqMetaPage) PageGetContents(page))

/* One list's directory entry. */
typedef struct RabitqListEntry
{
	BlockNumber first_page;		/* head of the list's chain */
	BlockNumber insert_page;	/* hint: first page that may have a free lane */
	float		max_residual;	/* largest |o - c| of the list (only grows) */
} RabitqListEntry;

/* Header of a block-record item (8 bytes; the codes that follow are 8-aligned). */
typedef struct RabitqBlockHead
{
	uint16		flags;			/* RABITQ_BLOCK_TAIL on the record's last item */
	uint16		word_begin;		/* first code word in this item */
	uint16		word_end;		/* one past the last */
	uint16		nseg;			/* items of the whole record */
} RabitqBlockHead;

#define RABITQ_BLOCK_TAIL		0x0001

/*
 * Geometry of block records, fixed per index by Dp and the key area size:
 * item sizes and how the code words are split into segments.
 */
typedef struct RabitqGeometry
{
	int			dp;
	int			words;
	int			nseg;			/* items per block record */
	int			seg_words;		/* words of each non-tail segment */
	int			tail_words;		/* words of the tail item */
	int			key_bytes;		/* per lane */
	Size		seg_size;		/* bytes of a non-tail item */
	Size		tail_size;		/* bytes of the tail item */
	/* offsets inside the tail item */
	Size		off_codes;
	Size		off_factors;
	Size		off_tids;
	Size		off_used;
	Size		off_segs;
	Size		off_keys;
} RabitqGeometry;

/* How key-column values are stored in a lane's key image. */
typedef enum RabitqKeyKind
{
	RABITQ_KEY_UUID = 1,		/* 16 bytes */
	RABITQ_KEY_INT,				/* int2, int4, int8 as int64: 8 bytes */
	RABITQ_KEY_TEXT				/* length byte + up to 63 bytes, zero padded */
} RabitqKeyKind;

typedef struct RabitqKeyColumn
{
	int			attno;			/* index column, 0-based */
	Oid			type;			/* the opclass's input type (the values' type) */
	RabitqKeyKind kind;
	int			offset;			/* in the key image */
	int			size;
} RabitqKeyColumn;

/*
 * Which index column is the vector and how the others (keys) are laid out
 * in a lane's key image: byte 0 has bit i set when key column i is NULL,
 * then each column's slot.  key_bytes is 0 without key columns.
 */
typedef struct RabitqKeyLayout
{
	int			vector_attno;
	int			nkeys;
	int			key_bytes;
	RabitqKeyColumn col[RABITQ_MAX_KEY_COLUMNS];
} RabitqKeyLayout;

/*
 * A scan's key conditions, per key column the set of values (slot images,
 * sorted in memcmp order and unique) a row may have; a column without
 * conditions accepts anything.
 */
typedef struct RabitqKeyFilter
{
	bool		empty;			/* contradictory or NULL conditions: nothing matches */
	int			ncons;
	struct
	{
		int			keyno;		/* index into RabitqKeyLayout.col */
		int			nvalues;
		uint8	   *values;		/* nvalues slot images */
	}			cons[RABITQ_MAX_KEY_COLUMNS];
} RabitqKeyFilter;

/* Index options (WITH (...)). */
typedef struct RabitqOptions
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int			lists;			/* 0: derived from the row count */
	int			probes;			/* 0: derived from the list count */
} RabitqOptions;

/* What a backend keeps per index (rd_amcache), rebuilt when build_id changes. */
typedef struct RabitqCache
{
	uint64		build_id;
	RabitqKeyLayout keys;
	BlockNumber posting_start;
	uint32		posting_buckets;
	int			dim;
	int			dp;
	rq_metric	metric;
	int			lists;
	RabitqGeometry geom;
	rq_rotation rotation;
	float	   *signs;			/* FHT-Kac state: 4 Dp */
	float	   *centroids;		/* lists x Dp, rotated */
	float	   *centroid_norm2; /* lists */
	BlockNumber *dir_page;		/* lists: directory page of the list's entry */
	uint16	   *dir_slot;		/* lists: index of the entry in that page */
} RabitqCache;

/* GUCs */
extern int	rabitq_probes;
extern double rabitq_epsilon;
extern int	rabitq_iterative_scan;
extern int	rabitq_max_probes;
extern int	rabitq_exact_limit;

#define RABITQ_ITERATIVE_OFF 0
#define RABITQ_ITERATIVE_ON	 1

/* rabitq_keys.c: key columns */
extern void RabitqKeyLayoutInit(Relation index, RabitqKeyLayout *layout);
extern bool RabitqKeyImage(const RabitqKeyLayout *layout, const Datum *values, const bool *isnull,
						   uint8 *image);
extern uint64 RabitqKeyHash(const RabitqKeyLayout *layout, const uint8 *image);
extern void RabitqKeyFilterInit(const RabitqKeyLayout *layout, ScanKey keys, int nkeys,
								RabitqKeyFilter *filter);
extern bool RabitqKeyRowMatches(const RabitqKeyLayout *layout, const RabitqKeyFilter *filter,
								const Datum *values, const bool *isnull);
extern int	RabitqKeyFilterImages(const RabitqKeyLayout *layout, const RabitqKeyFilter *filter,
								  int max_images, uint8 *images);

/* Whether two key slots are equal; slot sizes are multiples of 8 bytes. */
static inline bool
RabitqKeySlotEqual(const uint8 *a, const uint8 *b, int size)
{
	uint64		diff = 0;

	for (int i = 0; i < size; i += 8)
	{
		uint64		x,
					y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		diff |= x ^ y;
	}
	return diff == 0;
}

/* Values of a condition compared one by one; more are searched by halving. */
#define RABITQ_KEY_LINEAR_VALUES 8

/*
 * Whether a slot is among a condition's n values (sorted in memcmp order,
 * unique): a few word compares for the usual one value, a binary search for
 * a long `= ANY` list, so no array a tenant sends costs more than
 * log2(its length) compares per entry.
 */
static inline bool
RabitqKeyValueIn(const uint8 *slot, const uint8 *values, int n, int size)
{
	int			lo = 0,
				hi = n;

	if (n <= RABITQ_KEY_LINEAR_VALUES)
	{
		for (int v = 0; v < n; v++)
			if (RabitqKeySlotEqual(slot, values + (Size) v * size, size))
				return true;
		return false;
	}
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			cmp = memcmp(values + (Size) mid * size, slot, size);

		if (cmp == 0)
			return true;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * Whether a lane's key image meets every condition (once per live lane of a
 * probed list, so inline).
 */
static inline bool
RabitqKeyMatches(const RabitqKeyLayout *layout, const RabitqKeyFilter *filter, const uint8 *image)
{
	for (int c = 0; c < filter->ncons; c++)
	{
		const RabitqKeyColumn *col = &layout->col[filter->cons[c].keyno];

		if (image[0] & (1 << filter->cons[c].keyno))
			return false;
		if (!RabitqKeyValueIn(image + col->offset, filter->cons[c].values, filter->cons[c].nvalues,
							  col->size))
			return false;
	}
	return true;
}

/* rabitq_postings.c: the key hash table */
typedef struct RabitqPostingWriter RabitqPostingWriter;
extern uint32 RabitqPostingBuckets(double rows);
extern Size RabitqPostingBuildMemory(uint32 buckets);
extern RabitqPostingWriter *RabitqPostingBuildStart(Relation index, uint32 buckets);
extern void RabitqPostingBuildAdd(RabitqPostingWriter *w, uint64 hash, ItemPointer tid);
extern BlockNumber RabitqPostingBuildFinish(RabitqPostingWriter *w);
extern BlockNumber RabitqPostingWriteEmpty(Relation index, ForkNumber fork, uint32 buckets);
extern void RabitqPostingInsert(Relation index, const RabitqCache *cache, uint64 hash, ItemPointer tid);
extern int	RabitqPostingLookup(Relation index, const RabitqCache *cache, uint64 hash, int limit,
								ItemPointerData *tids);
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

/* rabitq_page.c: pages, metapage, geometry, cache */
extern void RabitqInitPage(Page page, uint16 kind);
extern Buffer RabitqNewBuffer(Relation index, ForkNumber fork);
extern BlockNumber RabitqReserveBlock(Relation index);
extern void RabitqWriteImage(Relation index, BlockNumber blkno, Page image);
extern void RabitqComputeGeometry(RabitqGeometry *g, int dp, int key_bytes);
extern RabitqMetaPageData RabitqReadMeta(Relation index);
extern RabitqCache *RabitqGetCache(Relation index);
extern rq_metric RabitqIndexMetric(Relation index, int vector_attno);
extern int	RabitqIndexDimensions(Relation index, int vector_attno);
extern int	RabitqEntriesPerPage(const RabitqGeometry *g);
extern RabitqListEntry RabitqReadListEntry(Relation index, const RabitqCache *cache, int list);
extern void RabitqSetInsertHint(Relation index, const RabitqCache *cache, int list, BlockNumber blkno);
extern void RabitqRaiseMaxResidual(Relation index, const RabitqCache *cache, int list, float norm);
extern int	RabitqProbes(Relation index, int lists, rq_metric metric);
extern int	RabitqNearestList(const RabitqCache *cache, const float *rotated);
extern void RabitqPrepareVector(const RabitqCache *cache, Datum value, float *prep, float *rotated);
extern void RabitqCheckFactors(const rq_factors *f);

/* Block-record accessors (tail item). */
#define RabitqTailTids(g, item)		((ItemPointerData *) ((char *) (item) + (g)->off_tids))
#define RabitqTailUsed(g, item)		((uint8 *) ((char *) (item) + (g)->off_used))
#define RabitqTailSegs(g, item)		((ItemPointerData *) ((char *) (item) + (g)->off_segs))
#define RabitqItemCodes(item)		((uint64_t *) ((char *) (item) + sizeof(RabitqBlockHead)))
#define RabitqTailFactors(g, item)	((float *) ((char *) (item) + (g)->off_factors))
#define RabitqTailKey(g, item, lane) \
	((uint8 *) ((char *) (item) + (g)->off_keys + (Size) (lane) * (g)->key_bytes))

/* A lane's factors in a tail item: four arrays of RQ_BLOCK_LANES floats (add, a, bc, err). */
static inline void
RabitqTailPutFactors(const RabitqGeometry *g, char *item, int lane, const rq_factors *f)
{
	float	   *fac = RabitqTailFactors(g, item);

	fac[lane] = f->add;
	fac[RQ_BLOCK_LANES + lane] = f->a;
	fac[2 * RQ_BLOCK_LANES + lane] = f->bc;
	fac[3 * RQ_BLOCK_LANES + lane] = f->err;
}

static inline rq_factors
RabitqTailGetFactors(const RabitqGeometry *g, const char *item, int lane)
{
	const float *fac = RabitqTailFactors(g, item);
	rq_factors	f;

	f.add = fac[lane];
	f.a = fac[RQ_BLOCK_LANES + lane];
	f.bc = fac[2 * RQ_BLOCK_LANES + lane];
	f.err = fac[3 * RQ_BLOCK_LANES + lane];
	return f;
}

/* blas_loader.c */
extern void RabitqLoadBlas(void);

#endif							/* VECRABITQ_RABITQ_H */
