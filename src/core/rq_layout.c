/*
 * rq_layout.c
 *	  Splitting block records into page items.
 */
#include "rq_layout.h"

int
rq_plan_segments(int words, int seg_max, int tail_max, int max_seg, rq_segment_plan *plan)
{
	int			rest;

	if (tail_max < 1 || seg_max < 1 || words < 1)
		return -1;
	if (words <= tail_max)
	{
		plan->nseg = 1;
		plan->seg_words = 0;
		plan->tail_words = words;
		return 0;
	}
	/*
	 * With s non-tail items of w words each the tail gets words - s w, which
	 * must be 1..tail_max: w from ceil((words - tail_max) / s) up to
	 * (words - 1) / s.  Take the fewest items for which such a w exists (in
	 * page geometries, the fewest that can hold the words at all).
	 */
	rest = words - tail_max;
	for (int s = (rest + seg_max - 1) / seg_max; s + 1 <= max_seg; s++)
	{
		int			lo = (rest + s - 1) / s;
		int			hi = (words - 1) / s;

		if (hi > seg_max)
			hi = seg_max;
		if (lo <= hi)
		{
			plan->nseg = s + 1;
			plan->seg_words = lo;
			plan->tail_words = words - s * lo;
			return 0;
		}
	}
	return -1;
}
