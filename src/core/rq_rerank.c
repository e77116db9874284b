/*
 * rq_rerank.c
 *	  Two binary min-heaps: candidates by lower bound, results by exact
 *	  distance.  Ties break on the id, so the stream is deterministic.
 */
#include "rq_rerank.h"

static inline int
rq_before(const rq_candidate *a, const rq_candidate *b)
{
	return a->key < b->key || (a->key == b->key && a->id < b->id);
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

void
rq_rerank_init(rq_rerank *rr, const rq_allocator *alloc)
{
	rr->pending = (rq_heap) {NULL, 0, 0, 0};
	rr->ready = (rq_heap) {NULL, 0, 0, 0};
	rr->late = (rq_heap) {NULL, 0, 0, 0};
	rr->alloc = *alloc;
	rr->strict = 0;
	rr->emitted_any = 0;
	rr->last = 0.0;
	rr->exact_computed = 0;
	rr->late_rows = 0;
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
			return 0;
	rr->late.count = rr->late.ordered = 0;
	rr->emitted_any = 0;
	return back;
}

rq_status
rq_rerank_push(rq_rerank *rr, uint64_t id, double lower_bound)
{
	return rq_heap_append(&rr->pending, &rr->alloc, (rq_candidate) {lower_bound, id});
}

int
rq_rerank_next(rq_rerank *rr, rq_exact_fn exact, void *ctx, uint64_t *id, double *distance)
{
	rq_candidate best;

	rq_heap_order(&rr->pending);
	/* re-rank until the best known exact distance beats every waiting bound */
	while (rr->pending.count > 0 &&
		   (rr->ready.count == 0 || rr->ready.items[0].key > rr->pending.items[0].key))
	{
		rq_candidate c = rq_heap_pop(&rr->pending);
		double		d;

		rr->exact_computed++;
		if (!exact(ctx, c.id, &d))
			continue;
		if (rq_heap_push(&rr->ready, &rr->alloc, (rq_candidate) {d, c.id}) != RQ_OK)
			return -1;
	}
	if (rr->ready.count == 0)
		return 0;
	best = rq_heap_pop(&rr->ready);
	/* strict: a late row (its bound was violated) waits for the next epoch */
	if (rr->strict && rr->emitted_any && best.key < rr->last)
	{
		rr->late_rows++;
		if (rq_heap_append(&rr->late, &rr->alloc, best) != RQ_OK)
			return -1;
		return rq_rerank_next(rr, exact, ctx, id, distance);
	}
	rr->emitted_any = 1;
	rr->last = best.key;
	*id = best.id;
	*distance = best.key;
	return 1;
}

size_t
rq_rerank_remaining(const rq_rerank *rr)
{
	return rr->pending.count + rr->ready.count + rr->late.count;
}

void
rq_rerank_reset(rq_rerank *rr)
{
	rr->pending.count = rr->pending.ordered = 0;
	rr->ready.count = rr->ready.ordered = 0;
	rr->late.count = rr->late.ordered = 0;
	rr->emitted_any = 0;
	rr->last = 0.0;
	rr->exact_computed = 0;
	rr->late_rows = 0;
}

void
rq_rerank_free(rq_rerank *rr)
{
	if (rr->pending.items != NULL)
		rr->alloc.release(rr->alloc.ctx, rr->pending.items);
	if (rr->ready.items != NULL)
		rr->alloc.release(rr->alloc.ctx, rr->ready.items);
	if (rr->late.items != NULL)
		rr->alloc.release(rr->alloc.ctx, rr->late.items);
	rr->pending = (rq_heap) {NULL, 0, 0, 0};
	rr->ready = (rq_heap) {NULL, 0, 0, 0};
	rr->late = (rq_heap) {NULL, 0, 0, 0};
}
