/*
 * rabitq_scan.h
 *	  The state of an ordered scan, shared by rabitq_scan.c (the access
 *	  method's scan entry points, exact ranking of a tenant, the stream) and
 *	  rabitq_probe.c (probing lists).
 */
#ifndef VECRABITQ_RABITQ_SCAN_H
#define VECRABITQ_RABITQ_SCAN_H

#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "port/pg_bitutils.h"
#include "nodes/execnodes.h"

#include "core/rq_rerank.h"
#include "core/rq_select.h"
#include "rabitq.h"
#include "rabitq_candidates.h"
#include "vector.h"

/*
 * The live entries of one block deferred together (rabitq_probe.c): where
 * the block is and the bounds they join the re-rank with if the stream
 * reaches them (widened: Widen in rabitq_probe.c).  Its TIDs are copied
 * only then.
 */
typedef struct RabitqDeferredBlock
{
	BlockNumber blkno;			/* the list page of its tail item */
	OffsetNumber off;			/* the tail item */
	uint8		lanes;			/* the deferred lanes */
	uint32		list_slot;		/* its list, in the candidates */
	float		lb[RQ_BLOCK_LANES];
} RabitqDeferredBlock;

/*
 * One estimated entry waiting while probing (rabitq_probe.c): its candidate
 * id and its 1-bit estimate and lower bound, from which its keys are
 * computed (RabitqBoundKey; if it is deferred and released, Widen).
 */
typedef struct RabitqEstimated
{
	float		est;
	float		lb;
	uint64		id;
} RabitqEstimated;

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
	const float *raw_query;		/* D floats, for exact distances */
	float	   *row_elems;		/* scratch: D, a halfvec row's elements as floats */
	float		epsilon;		/* the 1-bit stage's bound multiplier, widened by late rows */
	float		ex_epsilon;		/* the refining stage's */
	size_t		late_seen;		/* late rows the bounds have been widened for */
	uint64		returned;		/* rows returned so far */
	RabitqCandidates *cands;	/* what candidate ids name; the refining stage */
	char	   *postings;		/* exact ranking: the key's postings */
	/* probing (rabitq_probe.c) */
	float	   *score;			/* per list: smaller is probed first */
	rq_ranked  *batch;			/* the lists of the current batch */
	rq_ranked	last_probed;	/* the last list probed (valid when probed > 0) */
	int			probed;			/* lists probed so far */
	int			probes;			/* lists per batch */
	int			max_probes;		/* lists at most */
	uint64		lanes_seen;		/* live entries in the lists probed */
	uint64		lanes_matched;	/* ... of which match the key conditions */
	uint64_t   *planes;
	uint32		list_slot;		/* the list being probed, in cands */
	rq_kbest	near;			/* the smallest upper bounds seen: the refining threshold */
	double	   *near_heap;
	RabitqEstimated *queue;		/* the current list's candidates below the threshold */
	size_t		nqueue;
	size_t		queue_cap;
	float		release_ratio;	/* widening of a deferred 1-bit bound (Widen, rabitq_probe.c) */
	RabitqEstimated *deferred;	/* candidates above the threshold, not in the re-rank yet */
	size_t		ndeferred;
	size_t		deferred_cap;
	RabitqDeferredBlock *dblocks;	/* ... and whole blocks of them */
	size_t		ndblocks;
	size_t		dblocks_cap;
	uint64		deferred_lanes; /* statistics: entries deferred in dblocks */
	double		sentinel;		/* smallest key of a placeholder in the re-rank (+inf: none) */
	uint64		refined_early;	/* statistics: bounds refined while probing */
	uint64		released;		/* statistics: deferred candidates released into the re-rank */
	uint64		placeholders;	/* statistics: placeholders the stream reached */
	/* unordered mode: the TIDs of the current page, then the next page */
	int			cur_list;
	BlockNumber cur_page;
	ItemPointerData *page_tids;
	int			page_count;
	int			page_pos;
} RabitqScanRun;

typedef struct RabitqScanOpaqueData
{
	Relation	index;
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

/* The id of a placeholder for the deferred candidates (rabitq_probe.c). */
#define RABITQ_ID_DEFERRED		(~UINT64CONST(0))

/*
 * The re-rank key of a bound (lower or upper).  A bound that is not a
 * finite number came from arithmetic past the float range (a query near the
 * limits) and bounds nothing: -infinity, so that row's exact distance is
 * computed before any row goes out.  Bounds of a scaled inner-product query
 * are scaled back to the exact distances' units.
 */
static inline double
RabitqBoundKey(const RabitqScanOpaque so, double bound)
{
	double		key = so->run.query_exp != 0 ? ldexp(bound, so->run.query_exp) : bound;

	return isfinite(key) ? key : -INFINITY;
}

/* The lanes of a tail item that hold a row meeting the key conditions. */
static pg_attribute_always_inline uint8
RabitqLiveLanes(RabitqScanOpaque so, const char *item)
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

/* rabitq_probe.c */
extern void RabitqStartProbing(IndexScanDesc scan);
extern bool RabitqProbeNextBatch(IndexScanDesc scan);
extern void RabitqReleaseDeferred(RabitqScanOpaque so);
extern void RabitqPushCandidate(RabitqScanOpaque so, uint64 id, double key);

#endif							/* VECRABITQ_RABITQ_SCAN_H */
