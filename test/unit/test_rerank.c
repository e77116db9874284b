/*
 * test_rerank.c
 *	  The streaming re-rank: with valid lower bounds the stream is exactly the
 *	  candidates sorted by exact distance; it computes exact distances lazily;
 *	  dropped candidates never appear; candidates pushed between pops join the
 *	  order; allocation failure is reported.
 */
#include <math.h>
#include <stdlib.h>

#include "core/rq_random.h"
#include "core/rq_rerank.h"
#include "rq_test.h"

typedef struct exact_table
{
	const float *distance;		/* by id */
	int			drop_every;		/* ids divisible by this are gone (0: none) */
	size_t		calls;
} exact_table;

static int
exact_lookup(void *ctx, uint64_t *idp, double *distance)
{
	uint64_t	id = *idp;
	exact_table *t = ctx;

	t->calls++;
	if (t->drop_every && id % t->drop_every == 0)
		return 0;
	*distance = t->distance[id];
	return 1;
}

/* Random exact distances with bounds below them by a random slack. */
static float *
make_candidates(rq_rerank *rr, rq_pcg32 *rng, size_t n, size_t first_id, float *distance)
{
	for (size_t i = 0; i < n; i++)
	{
		distance[first_id + i] = (float) (100.0 * rq_pcg32_uniform(rng));
		RQ_CHECK(rq_rerank_push(rr, first_id + i,
								distance[first_id + i] - (float) (10.0 * rq_pcg32_uniform(rng))) == RQ_OK,
				 "push");
	}
	return distance;
}

static void
test_exact_order(void)
{
	size_t		n = 5000;
	float	   *distance = rq_test_alloc(sizeof(float) * n);
	exact_table t = {distance, 7, 0};
	rq_rerank	rr;
	rq_pcg32	rng;
	uint64_t	id;
	double		d,
				last = -INFINITY;
	size_t		emitted = 0;

	rq_pcg32_seed(&rng, 1, 1);
	rq_rerank_init(&rr, &rq_malloc_allocator);
	make_candidates(&rr, &rng, n, 0, distance);
	while (rq_rerank_next(&rr, exact_lookup, &t, &id, &d) == 1)
	{
		RQ_CHECK(d >= last, "out of order: %g after %g", d, last);
		RQ_CHECK(id % 7 != 0, "dropped candidate %llu emitted", (unsigned long long) id);
		RQ_CHECK(d == distance[id], "wrong distance for %llu", (unsigned long long) id);
		last = d;
		emitted++;
	}
	RQ_CHECK(emitted == n - (n + 6) / 7, "emitted %zu", emitted);
	RQ_CHECK(rq_rerank_remaining(&rr) == 0, "candidates left");
	rq_rerank_free(&rr);
	free(distance);
}

/* The first 10 results need far fewer exact distances than candidates. */
static void
test_lazy(void)
{
	size_t		n = 10000;
	float	   *distance = rq_test_alloc(sizeof(float) * n);
	exact_table t = {distance, 0, 0};
	rq_rerank	rr;
	rq_pcg32	rng;
	uint64_t	id;
	double		d;

	rq_pcg32_seed(&rng, 2, 1);
	rq_rerank_init(&rr, &rq_malloc_allocator);
	make_candidates(&rr, &rng, n, 0, distance);
	for (int i = 0; i < 10; i++)
		RQ_CHECK(rq_rerank_next(&rr, exact_lookup, &t, &id, &d) == 1, "result %d", i);
	/* slack <= 10 on a 0..100 range: about 10 % of the candidates at most */
	RQ_CHECK(t.calls < n / 5, "%zu exact distances for 10 results", t.calls);
	RQ_CHECK(rr.exact_computed == t.calls, "statistics");
	rq_rerank_free(&rr);
	free(distance);
}

/* Candidates added after some results keep the order of what remains. */
static void
test_push_between(void)
{
	size_t		n = 2000;
	float	   *distance = rq_test_alloc(sizeof(float) * 2 * n);
	exact_table t = {distance, 0, 0};
	rq_rerank	rr;
	rq_pcg32	rng;
	uint64_t	id;
	double		d,
				last = -INFINITY;
	size_t		emitted = 0;

	rq_pcg32_seed(&rng, 3, 1);
	rq_rerank_init(&rr, &rq_malloc_allocator);
	make_candidates(&rr, &rng, n, 0, distance);
	for (int i = 0; i < 100; i++)
		emitted += rq_rerank_next(&rr, exact_lookup, &t, &id, &d) == 1;
	make_candidates(&rr, &rng, n, n, distance);
	while (rq_rerank_next(&rr, exact_lookup, &t, &id, &d) == 1)
	{
		RQ_CHECK(d >= last, "remaining stream out of order");
		last = d;
		emitted++;
	}
	RQ_CHECK(emitted == 2 * n, "emitted %zu of %zu", emitted, 2 * n);
	rq_rerank_reset(&rr);
	RQ_CHECK(rq_rerank_next(&rr, exact_lookup, &t, &id, &d) == 0, "reset leaves nothing");
	rq_rerank_free(&rr);
	free(distance);
}

/*
 * Strict mode with violated bounds: rows within an epoch never go backwards,
 * late rows are set aside and come back in the next epoch, none is lost.
 */
static void
test_strict_epochs(void)
{
	size_t		n = 3000;
	float	   *distance = rq_test_alloc(sizeof(float) * n);
	exact_table t = {distance, 0, 0};
	rq_rerank	rr;
	rq_pcg32	rng;
	uint64_t	id;
	double		d,
				last = -INFINITY;
	size_t		emitted = 0,
				epochs = 1;
	int			backwards = 0;

	rq_pcg32_seed(&rng, 4, 1);
	rq_rerank_init(&rr, &rq_malloc_allocator);
	rq_rerank_set_strict(&rr, 1);
	for (size_t i = 0; i < n; i++)
	{
		distance[i] = (float) (100.0 * rq_pcg32_uniform(&rng));
		/* one bound in ten overestimates the distance */
		rq_rerank_push(&rr, i, distance[i] + (i % 10 == 0 ? 5.0 : -5.0 * rq_pcg32_uniform(&rng)));
	}
	for (;;)
	{
		int			r = rq_rerank_next(&rr, exact_lookup, &t, &id, &d);

		if (r == 0)
		{
			if (rq_rerank_new_epoch(&rr) == 0)
				break;
			epochs++;
			last = -INFINITY;
			continue;
		}
		backwards += d < last;
		last = d;
		emitted++;
	}
	RQ_CHECK(backwards == 0, "%d rows went backwards within an epoch", backwards);
	RQ_CHECK(rr.late_rows > 0 && epochs > 1, "the test needs late rows (%zu, %zu epochs)", rr.late_rows, epochs);
	RQ_CHECK(emitted == n, "emitted %zu of %zu", emitted, n);
	rq_rerank_free(&rr);
	free(distance);
}

/* Two-stage: the first answer is a tighter bound (slack 0.5), the second the distance. */
typedef struct staged
{
	const float *distance;
	uint8_t    *stage;
	size_t		exact;
} staged;

static int
staged_lookup(void *ctx, uint64_t *idp, double *distance)
{
	uint64_t	id = *idp;
	staged	   *t = ctx;

	if (t->stage[id]++ == 0)
	{
		*distance = t->distance[id] - 0.5;
		return RQ_REFINED;
	}
	t->exact++;
	*distance = t->distance[id];
	return RQ_EXACT;
}

/* Refined bounds keep the order exact and spare most exact distances. */
static void
test_refine(void)
{
	size_t		n = 4000;
	float	   *distance = rq_test_alloc(sizeof(float) * n);
	uint8_t    *stage = calloc(n, 1);
	staged		t = {distance, stage, 0};
	rq_rerank	rr;
	rq_pcg32	rng;
	uint64_t	id;
	double		d,
				last = -INFINITY;
	int			backwards = 0;

	rq_pcg32_seed(&rng, 6, 1);
	rq_rerank_init(&rr, &rq_malloc_allocator);
	for (size_t i = 0; i < n; i++)
	{
		distance[i] = (float) (100.0 * rq_pcg32_uniform(&rng));
		rq_rerank_push(&rr, i, distance[i] - 10.0);	/* loose first bounds */
	}
	for (int i = 0; i < 20; i++)
	{
		RQ_CHECK(rq_rerank_next(&rr, staged_lookup, &t, &id, &d) == 1, "result %d", i);
		backwards += d < last;
		last = d;
	}
	RQ_CHECK(backwards == 0, "out of order");
	/* bound slack 10 needs ~10 % of rows refined, slack 0.5 about 0.5 % exact */
	RQ_CHECK(rr.refined > t.exact * 5, "%zu refined, %zu exact", rr.refined, t.exact);
	RQ_CHECK(t.exact < 60, "%zu exact distances for 20 rows", t.exact);
	rq_rerank_free(&rr);
	free(distance);
	free(stage);
}

/* Records the (bound, id) order in which candidates reach the callback. */
typedef struct bound_log
{
	double	   *bound;			/* current bound by id */
	const float *distance;
	uint8_t    *stage;
	double		last_key;
	uint64_t	last_id;
	int			backwards;
} bound_log;

static int
logged_lookup(void *ctx, uint64_t *idp, double *distance)
{
	uint64_t	id = *idp;
	bound_log  *t = ctx;
	double		key = t->bound[id];

	t->backwards += key < t->last_key || (key == t->last_key && id < t->last_id);
	t->last_key = key;
	t->last_id = id;
	if (t->stage[id]++ == 0)
	{
		/* refined: halfway between the first bound and the distance */
		*distance = t->bound[id] = (t->bound[id] + t->distance[id]) / 2.0;
		return RQ_REFINED;
	}
	*distance = t->distance[id];
	return RQ_EXACT;
}

/*
 * However the waiting candidates are split between heap and pool, the
 * callback sees them in (bound, id) order, ties included, and the stream is
 * the sorted distances: drained through many refills.
 */
static void
test_bound_order(void)
{
	size_t		n = 30000,
				emitted = 0;
	float	   *distance = rq_test_alloc(sizeof(float) * n);
	double	   *bound = rq_test_alloc(sizeof(double) * n);
	uint8_t    *stage = calloc(n, 1);
	bound_log	t = {bound, distance, stage, -INFINITY, 0, 0};
	rq_rerank	rr;
	rq_pcg32	rng;
	uint64_t	id;
	double		d,
				last = -INFINITY;

	rq_pcg32_seed(&rng, 7, 1);
	rq_rerank_init(&rr, &rq_malloc_allocator);
	for (size_t i = 0; i < n; i++)
	{
		/* coarse values: many ties in bounds and distances */
		bound[i] = floor(50.0 * rq_pcg32_uniform(&rng));
		distance[i] = (float) (bound[i] + floor(8.0 * rq_pcg32_uniform(&rng)));
		rq_rerank_push(&rr, i, bound[i]);
	}
	while (rq_rerank_next(&rr, logged_lookup, &t, &id, &d) == 1)
	{
		RQ_CHECK(d >= last, "stream out of order");
		last = d;
		emitted++;
	}
	RQ_CHECK(t.backwards == 0, "%d candidates reached the callback out of bound order", t.backwards);
	RQ_CHECK(emitted == n, "emitted %zu of %zu", emitted, n);
	RQ_CHECK(rr.refills >= 5, "the test needs refills (%zu)", rr.refills);
	rq_rerank_free(&rr);
	free(distance);
	free(bound);
	free(stage);
}

static void *
refuse_grow(void *ctx, void *ptr, size_t size)
{
	(void) ctx;
	(void) ptr;
	(void) size;
	return NULL;
}

static void
never_release(void *ctx, void *ptr)
{
	(void) ctx;
	(void) ptr;
}

static void
test_out_of_memory(void)
{
	rq_allocator none = {refuse_grow, never_release, NULL};
	rq_rerank	rr;

	rq_rerank_init(&rr, &none);
	RQ_CHECK(rq_rerank_push(&rr, 1, 0.5f) == RQ_ERR_NO_MEMORY, "push must fail");
	rq_rerank_free(&rr);
}

/*
 * Non-finite keys (a hostile query's bounds and distances): NaN distances
 * come last, the stream ends, and every row comes out once.  Then a run of
 * 200,000 late rows in a row in strict mode: emitted without recursion (a
 * recursive implementation overflows the stack here).
 */
static void
test_non_finite(void)
{
	size_t		n = 3000;
	float	   *distance = rq_test_alloc(sizeof(float) * n);
	exact_table t = {distance, 0, 0};
	rq_rerank	rr;
	uint64_t	id;
	double		d,
				last = -INFINITY;
	size_t		emitted = 0;
	int			bad = 0,
				nan_seen = 0;

	rq_rerank_init(&rr, &rq_malloc_allocator);
	for (size_t i = 0; i < n; i++)
	{
		distance[i] = (i % 5 == 0) ? NAN : (i % 5 == 1) ? INFINITY : (float) (i % 97);
		rq_rerank_push(&rr, i, (i % 7 == 0) ? NAN : (i % 7 == 1) ? -INFINITY : (double) (i % 97) - 1.0);
	}
	while (rq_rerank_next(&rr, exact_lookup, &t, &id, &d) == 1 && emitted <= n)
	{
		bad += nan_seen && !isnan(d);
		bad += !isnan(d) && d < last;
		nan_seen |= isnan(d);
		last = isnan(d) ? last : d;
		emitted++;
	}
	RQ_CHECK(bad == 0 && emitted == n, "%d out of order, %zu of %zu", bad, emitted, n);
	rq_rerank_free(&rr);

	n = 200000;
	distance = realloc(distance, sizeof(float) * n);
	t.distance = distance;
	rq_rerank_init(&rr, &rq_malloc_allocator);
	rq_rerank_set_strict(&rr, 1);
	/* row 0 is emitted first at distance n; every other row is nearer: late */
	distance[0] = (float) n;
	rq_rerank_push(&rr, 0, -1.0);
	for (size_t i = 1; i < n; i++)
	{
		distance[i] = (float) i;
		rq_rerank_push(&rr, i, (double) n + 1.0);
	}
	RQ_CHECK(rq_rerank_next(&rr, exact_lookup, &t, &id, &d) == 1 && id == 0, "row 0 first");
	RQ_CHECK(rq_rerank_next(&rr, exact_lookup, &t, &id, &d) == 0, "the rest are late");
	RQ_CHECK(rr.late_rows == n - 1, "%zu late rows", rr.late_rows);
	RQ_CHECK(rq_rerank_new_epoch(&rr) == n - 1, "the late rows come back");
	RQ_CHECK(rq_rerank_next(&rr, exact_lookup, &t, &id, &d) == 1 && id == 1, "nearest late row first");
	rq_rerank_free(&rr);
	free(distance);
}

const rq_test_case rq_rerank_tests[] = {
	{"rerank/valid bounds give exact order, dropped rows vanish", test_exact_order, 0},
	{"rerank/exact distances computed lazily", test_lazy, 0},
	{"rerank/candidates pushed between pops", test_push_between, 0},
	{"rerank/strict mode: ordered epochs, late rows come back", test_strict_epochs, 0},
	{"rerank/refined bounds: exact order, few exact distances", test_refine, 0},
	{"rerank/heap and pool: callback in bound order through refills", test_bound_order, 0},
	{"rerank/allocation failure reported", test_out_of_memory, 0},
	{"rerank/NaN and infinite keys, 200,000 late rows in a row", test_non_finite, 0},
	{NULL, NULL, 0}
};
