/*
 * rq_rerank.h
 *	  Streaming re-rank in lower-bound order (RABITQ.md 2.6, rule 2).
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
 * The bound holds with high probability, not always (RABITQ.md 8.9): a
 * candidate whose true distance is below its bound can come out late.
 */
#ifndef RQ_RERANK_H
#define RQ_RERANK_H

#include "rq_types.h"

typedef struct rq_candidate
{
	float		key;			/* lower bound, or exact distance */
	uint64_t	id;				/* caller's handle (a heap TID, a row number) */
} rq_candidate;

typedef struct rq_heap
{
	rq_candidate *items;
	size_t		count;
	size_t		capacity;
} rq_heap;

typedef struct rq_rerank
{
	rq_heap		pending;		/* by lower bound */
	rq_heap		ready;			/* exact distance known, by exact distance */
	rq_allocator alloc;
	size_t		exact_computed; /* statistics: callback calls */
} rq_rerank;

/*
 * Exact distance of candidate id into *distance.  Returns 0 when the
 * candidate no longer exists (a dead tuple); it is then dropped.
 */
typedef int (*rq_exact_fn) (void *ctx, uint64_t id, float *distance);

extern void rq_rerank_init(rq_rerank *rr, const rq_allocator *alloc);

/* Adds a candidate; RQ_ERR_NO_MEMORY if the heap cannot grow. */
extern rq_status rq_rerank_push(rq_rerank *rr, uint64_t id, float lower_bound);

/*
 * The next result in exact-distance order: returns 1 with *id and *distance,
 * 0 when every candidate has been emitted or dropped, -1 when out of memory.
 */
extern int	rq_rerank_next(rq_rerank *rr, rq_exact_fn exact, void *ctx,
						   uint64_t *id, float *distance);

/* Number of candidates not yet emitted (waiting or ready). */
extern size_t rq_rerank_remaining(const rq_rerank *rr);

/* Forgets every candidate, keeping the memory (for a rescan). */
extern void rq_rerank_reset(rq_rerank *rr);

extern void rq_rerank_free(rq_rerank *rr);

#endif							/* RQ_RERANK_H */
