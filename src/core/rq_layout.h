/*
 * rq_layout.h
 *	  How a block record of `words` code words is split into page items when
 *	  it does not fit one (very high dimensions): the tail item holds as many
 *	  words as fit beside its fixed extras, the other items share the rest
 *	  evenly.  Pure arithmetic, so every dimension can be unit-tested.
 */
#ifndef RQ_LAYOUT_H
#define RQ_LAYOUT_H

typedef struct rq_segment_plan
{
	int			nseg;			/* items per record (1 when it fits one) */
	int			seg_words;		/* words of each non-tail item (0 if nseg = 1) */
	int			tail_words;		/* words of the tail item */
} rq_segment_plan;

/*
 * Splits `words` words into items of at most seg_max words (non-tail) and
 * tail_max words (tail).  Returns 0 on success, -1 when more than max_seg
 * items would be needed or tail_max < 1.
 */
extern int	rq_plan_segments(int words, int seg_max, int tail_max, int max_seg,
							 rq_segment_plan *plan);

#endif							/* RQ_LAYOUT_H */
