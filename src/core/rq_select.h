/*
 * rq_select.h
 *	  The k smallest of n scores, smallest first, in O(n log k) with one
 *	  compare for most items: a scan probes the nearest few of thousands of
 *	  lists without sorting them all.  Scores follow rq_order_before (NaN
 *	  last) and ties break on the index, so the order is total and
 *	  deterministic whatever the scores, and a selection can continue after the last
 *	  item of the previous one (the next batch of an iterative scan).
 */
#ifndef RQ_SELECT_H
#define RQ_SELECT_H

#include <math.h>

#include "rq_types.h"

typedef struct rq_ranked
{
	float		score;
	int32_t		index;
} rq_ranked;

/*
 * Writes to out the at most k items (score[i], i) that come after `after`
 * (NULL: from the start), smallest first; returns how many it wrote.
 */
extern int	rq_select_smallest(const float *score, int n, int k, const rq_ranked *after,
							   rq_ranked *out);

/*
 * The k smallest values seen so far, as a max-heap over caller memory: a
 * scan keeps the k smallest upper bounds of the candidates it estimated, so
 * the largest of them bounds the k-th nearest distance (doc/DESIGN.md 6).
 */
typedef struct rq_kbest
{
	double	   *heap;			/* k values, the largest first */
	int			k;
	int			count;
} rq_kbest;

/* Starts empty over heap (k values of room). */
extern void rq_kbest_init(rq_kbest *kb, double *heap, int k);

/* Offers v; a NaN is ignored. */
extern void rq_kbest_add(rq_kbest *kb, double v);

/* The largest of the k smallest values, or +infinity until k were offered. */
static inline double
rq_kbest_bound(const rq_kbest *kb)
{
	return kb->count < kb->k ? (double) INFINITY : kb->heap[0];
}

#endif							/* RQ_SELECT_H */
