/*
 * rq_rerank.c
 *	  Two binary min-heaps: candidates by lower bound, results by exact
 *	  distance.  Keys follow rq_order_before (NaN last) and ties break on the
 *	  id, so the order is total and the stream deterministic for any keys.
 */
#include "rq_rerank.h"

static inline int
rq_before(const rq_candidate *a, const rq_candidate *b)
{
	return rq_order_before(a->key, b->key) || (rq_order_same(a->key, b->key) && a->id < b->id);
}

/* Makes room for one more item. */
static rq_status
rq_heap_reserve(rq_heap *h, const rq_allocator *alloc)
{
	if (h->count == h->capacity)
	{
		size_t		capacity = h->capacity ? h->capacity * 2 : 256;
		rq_candidate *items = alloc->grow(alloc->ctx, h->items, capacity * sizeof(rq_candidate));

		if (items == NULL)
			return RQ_ERR_NO_MEMORY;
		h->items = items;
		h->capacity = capacity;
	}
	return RQ_OK;
}

/* Moves c down from slot i until the heap property holds below it. */
static void
rq_sift_down(rq_heap *h, size_t i, rq_candidate c)
{
	for (;;)
	{
		size_t		child = 2 * i + 1;

		if (child >= h->count)
			break;
		if (child + 1 < h->count && rq_before(&h->items[child + 1], &h->items[child]))
			child++;
		if (!rq_before(&h->items[child], &c))
			break;
		h->items[i] = h->items[child];
		i = child;
	}
	h->items[i] = c;
}

/* Inserts c keeping heap order. */
static rq_status
rq_heap_push(rq_heap *h, const rq_allocator *alloc, rq_candidate c)
{
	size_t		i;

	if (rq_heap_reserve(h, alloc) != RQ_OK)
		return RQ_ERR_NO_MEMORY;
	for (i = h->count++; i > 0 && rq_before(&c, &h->items[(i - 1) / 2]); i = (i - 1) / 2)
		h->items[i] = h->items[(i - 1) / 2];
	h->items[i] = c;
	h->ordered = h->count;
	return RQ_OK;
}

/* Appends c without ordering (rq_heap_order restores it). */
static rq_status
rq_heap_append(rq_heap *h, const rq_allocator *alloc, rq_candidate c)
{
	if (rq_heap_reserve(h, alloc) != RQ_OK)
		return RQ_ERR_NO_MEMORY;
	h->items[h->count++] = c;
	return RQ_OK;
}

/* Restores heap order after appends (Floyd's bottom-up construction). */
static void
rq_heap_order(rq_heap *h)
{
	if (h->ordered == h->count)
		return;
	for (size_t i = h->count / 2; i-- > 0;)
		rq_sift_down(h, i, h->items[i]);
	h->ordered = h->count;
}

/* Removes and returns the smallest item (the heap must be ordered, not empty). */
static rq_candidate
rq_heap_pop(rq_heap *h)
{
	rq_candidate top = h->items[0];

	h->count--;
	h->ordered = h->count;
	if (h->count > 0)
		rq_sift_down(h, 0, h->items[h->count]);
	return top;
}

#define RQ_REFILL_FIRST 128		/* candidates the first refill aims at */
#define RQ_PIVOT_SAMPLE 64

/* A pivot that about `want` of the n pool items come before (at least one). */
static rq_candidate
rq_pick_pivot(const rq_candidate *items, size_t n, size_t want)
{
	rq_candidate sample[RQ_PIVOT_SAMPLE];
	size_t		stride = n / RQ_PIVOT_SAMPLE,
				rank = want * RQ_PIVOT_SAMPLE / n;

	for (size_t i = 0; i < RQ_PIVOT_SAMPLE; i++)
	{
		rq_candidate c = items[i * stride];
		size_t		j = i;

		for (; j > 0 && rq_before(&c, &sample[j - 1]); j--)
			sample[j] = sample[j - 1];
		sample[j] = c;
	}
	rank = rank < 1 ? 1 : (rank > RQ_PIVOT_SAMPLE - 1 ? RQ_PIVOT_SAMPLE - 1 : rank);
	return sample[rank];
}

/*
 * Moves the pool's smallest candidates into the (empty) heap: one branch-free
 * partition pass around a sampled pivot, or all of them when the pool is small.
 */
static rq_status
rq_refill(rq_rerank *rr)
{
	rq_heap    *pool = &rr->pool,
			   *heap = &rr->pending;
	size_t		n = pool->count,
				kept = 0,
				moved;
	rq_candidate pivot;

	rr->refills++;
	if (n <= 2 * rr->refill || n < 2 * RQ_PIVOT_SAMPLE)
	{
		rq_heap		t = *heap;

		*heap = *pool;
		*pool = t;
		heap->ordered = 0;
		rq_heap_order(heap);
		rr->has_threshold = RQ_HEAP_ALL;
		return RQ_OK;
	}
	pivot = rq_pick_pivot(pool->items, n, rr->refill);
	/* Lomuto without branches: items not before the pivot gather in front */
	for (size_t i = 0; i < n; i++)
	{
		rq_candidate c = pool->items[i];
		int			keep = !rq_before(&c, &pivot);

		pool->items[i] = pool->items[kept];
		pool->items[kept] = c;
		kept += keep;
	}
	moved = n - kept;
	for (size_t i = 0; i < moved; i++)
		if (rq_heap_append(heap, &rr->alloc, pool->items[kept + i]) != RQ_OK)
			return RQ_ERR_NO_MEMORY;
	pool->count = pool->ordered = kept;
	rq_heap_order(heap);
	rr->threshold = pivot;
	rr->has_threshold = RQ_HEAP_BELOW;
	rr->refill *= 2;
	return RQ_OK;
}

/* Puts a waiting candidate in the heap or the pool, by the threshold. */
static rq_status
rq_wait(rq_rerank *rr, rq_candidate c)
{
	if (rr->has_threshold == RQ_HEAP_ALL ||
		(rr->has_threshold == RQ_HEAP_BELOW && rq_before(&c, &rr->threshold)))
		return rq_heap_push(&rr->pending, &rr->alloc, c);
	return rq_heap_append(&rr->pool, &rr->alloc, c);
}

/* The smallest waiting candidate, refilling the heap when it ran dry; NULL if none. */
static rq_status
rq_waiting_top(rq_rerank *rr, const rq_candidate **top)
{
	*top = NULL;
	if (rr->pending.count == 0 && rr->pool.count > 0 && rq_refill(rr) != RQ_OK)
		return RQ_ERR_NO_MEMORY;
	if (rr->pending.count > 0)
		*top = &rr->pending.items[0];
	return RQ_OK;
}

void
rq_rerank_init(rq_rerank *rr, const rq_allocator *alloc)
{
	rr->pending = (rq_heap) {NULL, 0, 0, 0};
	rr->pool = (rq_heap) {NULL, 0, 0, 0};
	rr->ready = (rq_heap) {NULL, 0, 0, 0};
	rr->late = (rq_heap) {NULL, 0, 0, 0};
	rr->alloc = *alloc;
	rr->strict = 0;
	rq_rerank_reset(rr);
}

void
rq_rerank_set_strict(rq_rerank *rr, int strict)
{
	rr->strict = strict;
}

size_t
rq_rerank_new_epoch(rq_rerank *rr)
{
	size_t		back = rr->late.count;

	for (size_t i = 0; i < rr->late.count; i++)
		if (rq_heap_push(&rr->ready, &rr->alloc, rr->late.items[i]) != RQ_OK)
			return RQ_EPOCH_NO_MEMORY;
	rr->late.count = rr->late.ordered = 0;
	rr->emitted_any = 0;
	return back;
}

rq_status
rq_rerank_push_slow(rq_rerank *rr, uint64_t id, double lower_bound)
{
	return rq_wait(rr, (rq_candidate) {lower_bound, id});
}

/*
 * Re-ranks waiting candidates until the smallest known exact distance is no
 * larger than every waiting bound; returns 0, or -1 when out of memory.
 */
static int
rq_settle(rq_rerank *rr, rq_exact_fn exact, void *ctx)
{
	for (;;)
	{
		const rq_candidate *top;
		rq_candidate c;
		double		d;
		int			answer;

		if (rq_waiting_top(rr, &top) != RQ_OK)
			return -1;
		if (top == NULL || (rr->ready.count > 0 && !rq_order_before(top->key, rr->ready.items[0].key)))
			return 0;
		c = rq_heap_pop(&rr->pending);
		rr->exact_computed++;
		answer = exact(ctx, &c.id, &d);
		if (answer == RQ_GONE)
			continue;
		if (answer == RQ_REFINED)
		{
			rr->refined++;
			d = (d != d) ? -INFINITY : d;
			if (rq_wait(rr, (rq_candidate) {d, c.id}) != RQ_OK)
				return -1;
			continue;
		}
		if (rq_heap_push(&rr->ready, &rr->alloc, (rq_candidate) {d, c.id}) != RQ_OK)
			return -1;
	}
}

int
rq_rerank_next(rq_rerank *rr, rq_exact_fn exact, void *ctx, uint64_t *id, double *distance)
{
	/* a loop, not recursion: any number of late rows in a row costs no stack */
	for (;;)
	{
		rq_candidate best;

		if (rq_settle(rr, exact, ctx) != 0)
			return -1;
		if (rr->ready.count == 0)
			return 0;
		best = rq_heap_pop(&rr->ready);
		/* strict: a late row (its bound was violated) waits for the next epoch */
		if (rr->strict && rr->emitted_any && rq_order_before(best.key, rr->last))
		{
			rr->late_rows++;
			if (rq_heap_append(&rr->late, &rr->alloc, best) != RQ_OK)
				return -1;
			continue;
		}
		rr->emitted_any = 1;
		rr->last = best.key;
		*id = best.id;
		*distance = best.key;
		return 1;
	}
}

size_t
rq_rerank_remaining(const rq_rerank *rr)
{
	return rr->pending.count + rr->pool.count + rr->ready.count + rr->late.count;
}

void
rq_rerank_reset(rq_rerank *rr)
{
	rr->pending.count = rr->pending.ordered = 0;
	rr->pool.count = rr->pool.ordered = 0;
	rr->ready.count = rr->ready.ordered = 0;
	rr->late.count = rr->late.ordered = 0;
	rr->has_threshold = RQ_HEAP_NONE;
	rr->refill = RQ_REFILL_FIRST;
	rr->emitted_any = 0;
	rr->last = 0.0;
	rr->exact_computed = 0;
	rr->refined = 0;
	rr->late_rows = 0;
	rr->refills = 0;
}

void
rq_rerank_forget(rq_rerank *rr)
{
	rr->pending = (rq_heap) {NULL, 0, 0, 0};
	rr->pool = (rq_heap) {NULL, 0, 0, 0};
	rr->ready = (rq_heap) {NULL, 0, 0, 0};
	rr->late = (rq_heap) {NULL, 0, 0, 0};
	rq_rerank_reset(rr);
}

void
rq_rerank_free(rq_rerank *rr)
{
	rq_heap    *heaps[] = {&rr->pending, &rr->pool, &rr->ready, &rr->late};

	for (size_t i = 0; i < sizeof(heaps) / sizeof(heaps[0]); i++)
		if (heaps[i]->items != NULL)
			rr->alloc.release(rr->alloc.ctx, heaps[i]->items);
	rq_rerank_forget(rr);
}
