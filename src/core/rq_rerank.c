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

static rq_status
rq_heap_push(rq_heap *h, const rq_allocator *alloc, rq_candidate c)
{
	size_t		i;

	if (h->count == h->capacity)
	{
		size_t		capacity = h->capacity ? h->capacity * 2 : 256;
		rq_candidate *items = alloc->grow(alloc->ctx, h->items, capacity * sizeof(rq_candidate));

		if (items == NULL)
			return RQ_ERR_NO_MEMORY;
		h->items = items;
		h->capacity = capacity;
	}
	for (i = h->count++; i > 0 && rq_before(&c, &h->items[(i - 1) / 2]); i = (i - 1) / 2)
		h->items[i] = h->items[(i - 1) / 2];
	h->items[i] = c;
	return RQ_OK;
}

/* Removes and returns the smallest item (the heap must not be empty). */
static rq_candidate
rq_heap_pop(rq_heap *h)
{
	rq_candidate top = h->items[0];
	rq_candidate last = h->items[--h->count];
	size_t		i = 0;

	for (;;)
	{
		size_t		child = 2 * i + 1;

		if (child >= h->count)
			break;
		if (child + 1 < h->count && rq_before(&h->items[child + 1], &h->items[child]))
			child++;
		if (!rq_before(&h->items[child], &last))
			break;
		h->items[i] = h->items[child];
		i = child;
	}
	if (h->count > 0)
		h->items[i] = last;
	return top;
}

void
rq_rerank_init(rq_rerank *rr, const rq_allocator *alloc)
{
	rr->pending = (rq_heap) {NULL, 0, 0};
	rr->ready = (rq_heap) {NULL, 0, 0};
	rr->alloc = *alloc;
	rr->exact_computed = 0;
}

rq_status
rq_rerank_push(rq_rerank *rr, uint64_t id, float lower_bound)
{
	return rq_heap_push(&rr->pending, &rr->alloc, (rq_candidate) {lower_bound, id});
}

int
rq_rerank_next(rq_rerank *rr, rq_exact_fn exact, void *ctx, uint64_t *id, float *distance)
{
	rq_candidate best;

	/* re-rank until the best known exact distance beats every waiting bound */
	while (rr->pending.count > 0 &&
		   (rr->ready.count == 0 || rr->ready.items[0].key > rr->pending.items[0].key))
	{
		rq_candidate c = rq_heap_pop(&rr->pending);
		float		d;

		rr->exact_computed++;
		if (!exact(ctx, c.id, &d))
			continue;
		if (rq_heap_push(&rr->ready, &rr->alloc, (rq_candidate) {d, c.id}) != RQ_OK)
			return -1;
	}
	if (rr->ready.count == 0)
		return 0;
	best = rq_heap_pop(&rr->ready);
	*id = best.id;
	*distance = best.key;
	return 1;
}

size_t
rq_rerank_remaining(const rq_rerank *rr)
{
	return rr->pending.count + rr->ready.count;
}

void
rq_rerank_reset(rq_rerank *rr)
{
	rr->pending.count = 0;
	rr->ready.count = 0;
	rr->exact_computed = 0;
}

void
rq_rerank_free(rq_rerank *rr)
{
	if (rr->pending.items != NULL)
		rr->alloc.release(rr->alloc.ctx, rr->pending.items);
	if (rr->ready.items != NULL)
		rr->alloc.release(rr->alloc.ctx, rr->ready.items);
	rr->pending = (rq_heap) {NULL, 0, 0};
	rr->ready = (rq_heap) {NULL, 0, 0};
}
