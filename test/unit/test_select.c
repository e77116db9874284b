/*
 * test_select.c
 *	  Selecting the k smallest scores: the same items in the same order as a
 *	  full sort by (score, index), ties included, for every k, and chained
 *	  selections that continue after the previous one cover everything once.
 */
#include <math.h>
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

/*
 * Scores a hostile query can produce (NaN, infinities): the selection still
 * follows the total order -inf < finite < +inf < NaN, and chained batches
 * still cover every item once, so an iterative scan always advances.
 */
static void
test_non_finite(void)
{
	int			n = 200;
	float	   *score = rq_test_alloc(sizeof(float) * n);
	rq_ranked  *out = rq_test_alloc(sizeof(rq_ranked) * n);
	rq_ranked	last;
	int			done = 0,
				bad = 0;
	int			seen[200] = {0};

	for (int i = 0; i < n; i++)
		score[i] = (i % 3 == 0) ? NAN : (i % 3 == 1) ? (float) (n - i) : (i % 2 ? INFINITY : -INFINITY);
	while (done < n)
	{
		int			got = rq_select_smallest(score, n, 7, done > 0 ? &last : NULL, out);

		RQ_CHECK(got > 0, "stalled after %d of %d", done, n);
		if (got <= 0)
			break;
		for (int i = 0; i < got; i++)
		{
			seen[out[i].index]++;
			/* NaN only after every number, -inf before everything else */
			if (i > 0 || done > 0)
			{
				float		prev = i > 0 ? out[i - 1].score : last.score;

				bad += (isnan(prev) && !isnan(out[i].score)) || (out[i].score < prev);
			}
		}
		done += got;
		last = out[got - 1];
	}
	for (int i = 0; i < n; i++)
		bad += seen[i] != 1;
	RQ_CHECK(bad == 0 && done == n, "%d out of order or not once, %d of %d", bad, done, n);
	free(score);
	free(out);
}

/*
 * The k best so far: after every offer the bound is the k-th smallest value
 * offered (NaN ignored), or +infinity before k values, for k = 1..40.
 */
static void
test_kbest(void)
{
	int			n = 500,
				bad = 0;
	double	   *all = rq_test_alloc(sizeof(double) * n);
	double	   *sorted = rq_test_alloc(sizeof(double) * n);
	double		heap[40];
	rq_pcg32	rng;

	rq_pcg32_seed(&rng, 13, 1);
	for (int i = 0; i < n; i++)
		all[i] = (i % 17 == 5) ? NAN : (double) (int) (50.0 * rq_pcg32_uniform(&rng)) - 10.0;
	for (int k = 1; k <= 40; k++)
	{
		rq_kbest	kb;
		int			m = 0;

		rq_kbest_init(&kb, heap, k);
		for (int i = 0; i < n; i++)
		{
			double		want;
			int			j;

			rq_kbest_add(&kb, all[i]);
			if (all[i] != all[i])
				continue;
			/* insertion into the sorted prefix of the numbers offered so far */
			for (j = m++; j > 0 && sorted[j - 1] > all[i]; j--)
				sorted[j] = sorted[j - 1];
			sorted[j] = all[i];
			want = m < k ? INFINITY : sorted[k - 1];
			bad += rq_kbest_bound(&kb) != want;
		}
	}
	RQ_CHECK(bad == 0, "%d bounds differ from the k-th smallest", bad);
	free(all);
	free(sorted);
}

const rq_test_case rq_select_tests[] = {
	{"select/k best so far: the bound is the k-th smallest offered", test_kbest, 0},
	{"select/k smallest equal a full sort, ties included", test_every_k, 0},
	{"select/continuing after the previous batch covers all once", test_continue_after, 0},
	{"select/NaN and infinite scores: total order, every item once", test_non_finite, 0},
	{NULL, NULL, 0}
};
