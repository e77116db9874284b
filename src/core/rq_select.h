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

#endif							/* RQ_SELECT_H */
