/*
 * rq_rerank.h
 *	  Streaming re-rank in lower-bound order (doc/RABITQ.md 2.6, rule 2).
 *
 * Candidates wait in a min-heap keyed by their lower bound.  rq_rerank_next
 * computes exact distances lazily (through a callback), smallest bound
 * first, and emits the smallest exact distance as soon as it is <= the
 * smallest bound still waiting.  Results therefore come out in exact-distance
 * order without knowing k, and only as many exact distances are computed as
 * the stream consumes.  Candidates may be pushed between calls (iterative
 * probing of further lists); the order guarantee then holds among everything
 * not yet emitted.
 *
 * The bound holds with high probability, not always (doc/RABITQ.md 8.9): a
 * candidate whose true distance is below its lower bound can be re-ranked
 * only after a farther row was already emitted ("late").  By default late
 * rows are emitted anyway, as doc/RABITQ.md 2.6 describes.  In strict mode
 * (rq_rerank_set_strict) they are set aside instead, so every row emitted
 * within an epoch is in non-decreasing exact distance; rq_rerank_new_epoch
 * starts a new epoch and puts the set-aside rows back, so none is lost.
 * Exact distances are doubles, so the order matches distances computed in
 * double precision (cosine) to the last bit.
 *
 * A scan pushes tens of thousands of candidates per probed batch and pops a
 * few hundred, so waiting candidates are kept in two tiers: an unordered
 * pool, and a small heap of the ones below a threshold.  When the heap runs
 * dry, one partition pass over the pool (around a pivot picked from a sample)
 * moves the next smallest few into the heap; each such refill takes twice as
 * many as the last, so draining everything still costs O(n log n), and a
 * scan that stops early never orders the pool at all.
 */
#ifndef RQ_RERANK_H
#define RQ_RERANK_H

#include <math.h>

#include "rq_types.h"

typedef struct rq_candidate
{
	double		key;			/* lower bound, or exact distance */
	uint64_t	id;				/* caller's handle (a heap TID, a row number) */
} rq_candidate;

typedef struct rq_heap
{
	rq_candidate *items;
	size_t		count;
	size_t		capacity;
	size_t		ordered;		/* items[0, ordered) are in heap order */
} rq_heap;

typedef struct rq_rerank
{
	rq_heap		pending;		/* by lower bound: every candidate before `threshold` */
	rq_heap		pool;			/* unordered: the candidates not before `threshold` */
	rq_candidate threshold;		/* valid when has_threshold */
	int			has_threshold;	/* 0: everything waiting is in the pool */
	size_t		refill;			/* how many the next refill moves to the heap */
	rq_heap		ready;			/* exact distance known, by exact distance */
	rq_heap		late;			/* strict mode: set aside for the next epoch */
	rq_allocator alloc;
	int			strict;
	int			emitted_any;	/* a row was emitted in this epoch */
	double		last;			/* distance of the epoch's last emitted row */
	size_t		exact_computed; /* statistics: callback calls */
	size_t		refined;		/* statistics: RQ_REFINED answers */
	size_t		late_rows;		/* statistics: rows set aside as late */
	size_t		refills;		/* statistics: partition passes over the pool */
} rq_rerank;

/*
 * What the callback learned about candidate *id.  RQ_EXACT: *distance is its
 * exact distance.  RQ_REFINED: *distance is a tighter lower bound (from a
 * multi-bit code, doc/RABITQ.md 4); the candidate waits again with it, under
 * the id the callback left in *id (it may mark the id refined), and the
 * callback is asked again when it next comes first.  RQ_GONE: the candidate
 * no longer exists (a dead tuple) and is dropped.
 */
#define RQ_GONE		0
#define RQ_EXACT	1
#define RQ_REFINED	2

typedef int (*rq_exact_fn) (void *ctx, uint64_t *id, double *distance);

extern void rq_rerank_init(rq_rerank *rr, const rq_allocator *alloc);

/* Which candidates the heap holds (rq_rerank.has_threshold). */
#define RQ_HEAP_NONE	0		/* none: everything waits in the pool */
#define RQ_HEAP_BELOW	1		/* those before the threshold */
#define RQ_HEAP_ALL		2		/* all: the pool is empty and stays so */

extern rq_status rq_rerank_push_slow(rq_rerank *rr, uint64_t id, double lower_bound);

/*
 * Adds a candidate; RQ_ERR_NO_MEMORY if the heap cannot grow.  A NaN lower
 * bound counts as -infinity.  Inline for
 * the common case, a scan filling the pool before its first pop.
 */
static inline rq_status
rq_rerank_push(rq_rerank *rr, uint64_t id, double lower_bound)
{
	/* a NaN bound (arithmetic on extreme values) bounds nothing: -inf, so exact first */
	if (lower_bound != lower_bound)
		lower_bound = -INFINITY;
	if (rr->has_threshold == RQ_HEAP_NONE && rr->pool.count < rr->pool.capacity)
	{
		rr->pool.items[rr->pool.count].key = lower_bound;
		rr->pool.items[rr->pool.count++].id = id;
		return RQ_OK;
	}
	return rq_rerank_push_slow(rr, id, lower_bound);
}

/*
 * The next result in exact-distance order: returns 1 with *id and *distance,
 * 0 when every candidate has been emitted or dropped, -1 when out of memory.
 */
extern int	rq_rerank_next(rq_rerank *rr, rq_exact_fn exact, void *ctx,
						   uint64_t *id, double *distance);

/* Strict mode: never emit a row closer than the epoch's last one. */
extern void rq_rerank_set_strict(rq_rerank *rr, int strict);

/*
 * Starts a new epoch: the order restarts, and rows set aside as late are
 * ready again.  Returns how many were put back, or RQ_EPOCH_NO_MEMORY.
 */
#define RQ_EPOCH_NO_MEMORY ((size_t) -1)
extern size_t rq_rerank_new_epoch(rq_rerank *rr);

/* Number of candidates not yet emitted (waiting, ready or set aside). */
extern size_t rq_rerank_remaining(const rq_rerank *rr);

/* Forgets every candidate, keeping the memory (for a rescan). */
extern void rq_rerank_reset(rq_rerank *rr);

/*
 * Forgets every candidate and the memory without releasing it, for callers
 * whose allocator frees everything at once (a memory context reset).
 */
extern void rq_rerank_forget(rq_rerank *rr);

extern void rq_rerank_free(rq_rerank *rr);

#endif							/* RQ_RERANK_H */
