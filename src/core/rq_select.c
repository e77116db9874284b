/*
 * rq_select.c
 *	  A max-heap of the k best so far in `out`, then heapsort in place.
 */
#include "rq_select.h"

static inline int
rq_ranked_before(const rq_ranked *a, const rq_ranked *b)
{
	return rq_order_before(a->score, b->score) ||
		(rq_order_same(a->score, b->score) && a->index < b->index);
}

/* Moves c down from slot i of the max-heap h[0, n). */
static void
rq_ranked_sift_down(rq_ranked *h, int n, int i, rq_ranked c)
{
	for (;;)
	{
		int			child = 2 * i + 1;

		if (child >= n)
			break;
		if (child + 1 < n && rq_ranked_before(&h[child], &h[child + 1]))
			child++;
		if (!rq_ranked_before(&c, &h[child]))
			break;
		h[i] = h[child];
		i = child;
	}
	h[i] = c;
}

static void
rq_ranked_sift_up(rq_ranked *h, int i, rq_ranked c)
{
	for (; i > 0 && rq_ranked_before(&h[(i - 1) / 2], &c); i = (i - 1) / 2)
		h[i] = h[(i - 1) / 2];
	h[i] = c;
}

int
rq_select_smallest(const float *score, int n, int k, const rq_ranked *after, rq_ranked *out)
{
	int			count = 0;

	if (k <= 0)
		return 0;
	for (int i = 0; i < n; i++)
	{
		rq_ranked	c = {score[i], i};

		if (after != NULL && !rq_ranked_before(after, &c))
			continue;
		if (count < k)
			rq_ranked_sift_up(out, count++, c);
		else if (rq_ranked_before(&c, &out[0]))
			rq_ranked_sift_down(out, k, 0, c);
	}
	/* heapsort: the largest goes last */
	for (int end = count - 1; end > 0; end--)
	{
		rq_ranked	last = out[end];

		out[end] = out[0];
		rq_ranked_sift_down(out, end, 0, last);
	}
	return count;
}

void
rq_kbest_init(rq_kbest *kb, double *heap, int k)
{
	kb->heap = heap;
	kb->k = k;
	kb->count = 0;
}

/* Moves v down from slot i of the max-heap until the heap property holds. */
static void
rq_kbest_sift_down(rq_kbest *kb, int i, double v)
{
	for (;;)
	{
		int			child = 2 * i + 1;

		if (child >= kb->count)
			break;
		if (child + 1 < kb->count && kb->heap[child + 1] > kb->heap[child])
			child++;
		if (kb->heap[child] <= v)
			break;
		kb->heap[i] = kb->heap[child];
		i = child;
	}
	kb->heap[i] = v;
}

void
rq_kbest_add(rq_kbest *kb, double v)
{
	int			i;

	if (v != v || kb->k <= 0)
		return;
	if (kb->count == kb->k)
	{
		if (v < kb->heap[0])
			rq_kbest_sift_down(kb, 0, v);
		return;
	}
	for (i = kb->count++; i > 0 && kb->heap[(i - 1) / 2] < v; i = (i - 1) / 2)
		kb->heap[i] = kb->heap[(i - 1) / 2];
	kb->heap[i] = v;
}
