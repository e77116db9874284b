/*
 * test_select.c
 *	  Selecting the k smallest scores: the same items in the same order as a
 *	  full sort by (score, index), ties included, for every k, and chained
 *	  selections that continue after the previous one cover everything once.
 */
#include <stdlib.h>

#include "core/rq_random.h"
#include "core/rq_select.h"
#include "rq_test.h"

static int
compare_ranked(const void *a, const void *b)
{
	const rq_ranked *x = a,
			   *y = b;

	if (x->score != y->score)
		return (x->score > y->score) - (x->score < y->score);
	return (x->index > y->index) - (x->index < y->index);
}

/* Scores with many ties (a few distinct values) and the sorted reference. */
static float *
make_scores(int n, rq_ranked *sorted, uint64_t seed)
{
	float	   *score = rq_test_alloc(sizeof(float) * n);
	rq_pcg32	rng;

	rq_pcg32_seed(&rng, seed, 1);
	for (int i = 0; i < n; i++)
	{
		score[i] = (float) (int) (20.0 * rq_pcg32_uniform(&rng)) - 5.0f;
		sorted[i] = (rq_ranked) {score[i], i};
	}
	qsort(sorted, n, sizeof(rq_ranked), compare_ranked);
	return score;
}

static void
test_every_k(void)
{
	int			n = 300;
	rq_ranked  *sorted = rq_test_alloc(sizeof(rq_ranked) * n);
	rq_ranked  *out = rq_test_alloc(sizeof(rq_ranked) * (n + 5));
	float	   *score = make_scores(n, sorted, 11);

	for (int k = 0; k <= n + 5; k++)
	{
		int			got = rq_select_smallest(score, n, k, NULL, out);
		int			bad = 0;

		RQ_CHECK(got == (k < n ? k : n), "k %d: %d items", k, got);
		for (int i = 0; i < got; i++)
			bad += out[i].index != sorted[i].index || out[i].score != sorted[i].score;
		RQ_CHECK(bad == 0, "k %d: %d items differ from the sort", k, bad);
	}
	free(score);
	free(sorted);
	free(out);
}

static void
test_continue_after(void)
{
	int			n = 1000,
				done = 0,
				bad = 0;
	rq_ranked  *sorted = rq_test_alloc(sizeof(rq_ranked) * n);
	rq_ranked  *out = rq_test_alloc(sizeof(rq_ranked) * 37);
	float	   *score = make_scores(n, sorted, 12);
	rq_ranked	last;

	while (done < n)
	{
		int			got = rq_select_smallest(score, n, 37, done ? &last : NULL, out);

		RQ_CHECK(got > 0, "stalled after %d", done);
		if (got <= 0)
			break;
		for (int i = 0; i < got; i++)
			bad += out[i].index != sorted[done + i].index;
		done += got;
		last = out[got - 1];
	}
	RQ_CHECK(bad == 0 && done == n, "%d of %d out of place", bad, done);
	RQ_CHECK(rq_select_smallest(score, n, 37, &last, out) == 0, "nothing after the last");
	free(score);
	free(sorted);
	free(out);
}

const rq_test_case rq_select_tests[] = {
	{"select/k smallest equal a full sort, ties included", test_every_k, 0},
	{"select/continuing after the previous batch covers all once", test_continue_after, 0},
	{NULL, NULL, 0}
};
