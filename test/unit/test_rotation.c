/*
 * test_rotation.c
 *	  The index's FHT-Kac rotation and the dense Haar reference: norms kept
 *	  to 1e-6 relative (doc/RABITQ.md 7.1), orthogonal, deterministic for a
 *	  seed, batch equal to one-by-one; FHT-Kac never overflows inside.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rq_random.h"
#include "rq_test.h"
#include "rq_testrot.h"

static const int dims[] = {1, 5, 63, 64, 100, 128, 200, 768, 1000};

static double
norm(const float *x, int n)
{
	double		s = 0.0;

	for (int i = 0; i < n; i++)
		s += (double) x[i] * x[i];
	return sqrt(s);
}

/* |rot(x)| / |x| - 1 below 1e-6 for random x. */
static void
check_norms(rq_test_rotation_kind kind)
{
	rq_pcg32	rng;
	double		worst = 0.0;

	rq_pcg32_seed(&rng, 5, 5);
	for (size_t d = 0; d < sizeof(dims) / sizeof(dims[0]); d++)
	{
		rq_test_rotation r;
		float	   *x = rq_test_alloc(sizeof(float) * dims[d]),
				   *out = rq_test_alloc(sizeof(float) * rq_padded_dim(dims[d]));

		if (rq_test_quick && dims[d] > 200)
			continue;
		rq_test_rotation_make(&r, kind, dims[d], 11);
		for (int t = 0; t < 20; t++)
		{
			double		rel;

			for (int i = 0; i < dims[d]; i++)
				x[i] = (float) (rq_pcg32_gaussian(&rng) * (t % 2 ? 100.0 : 0.01));
			rq_test_rotate(&r, x, out);
			rel = fabs(norm(out, r.dp) / norm(x, dims[d]) - 1.0);
			worst = rel > worst ? rel : worst;
			RQ_CHECK(rel < 1e-6, "dim %d: relative norm error %.3g", dims[d], rel);
		}
		rq_test_rotation_free(&r);
		free(x);
		free(out);
	}
	printf("#   %s: worst relative norm error %.2g\n",
		   rq_test_rotation_name(kind), worst);
}

/* The images of the basis vectors are orthonormal (columns of P). */
static void
check_orthogonal(rq_test_rotation_kind kind, int dim)
{
	rq_test_rotation r;
	int			dp = rq_padded_dim(dim);
	float	   *x = calloc(dim, sizeof(float));
	float	   *cols = rq_test_alloc(sizeof(float) * dim * dp);
	double		worst = 0.0;

	rq_test_rotation_make(&r, kind, dim, 3);
	for (int j = 0; j < dim; j++)
	{
		x[j] = 1.0f;
		rq_test_rotate(&r, x, cols + (size_t) j * dp);
		x[j] = 0.0f;
	}
	for (int a = 0; a < dim; a++)
		for (int b = a; b < dim; b++)
		{
			double		g = 0.0;

			for (int i = 0; i < dp; i++)
				g += (double) cols[(size_t) a * dp + i] * cols[(size_t) b * dp + i];
			g -= (a == b);
			worst = fabs(g) > worst ? fabs(g) : worst;
		}
	RQ_CHECK(worst < 1e-5, "dim %d: Gram matrix off identity by %.3g", dim, worst);
	rq_test_rotation_free(&r);
	free(x);
	free(cols);
}

/* Same seed, same bits; another seed, another rotation. */
static void
check_deterministic(rq_test_rotation_kind kind)
{
	int			dim = 100,
				dp = rq_padded_dim(dim);
	size_t		floats = kind == RQ_TEST_DENSE ? (size_t) dp * dp : rq_rotation_floats(dp);
	rq_test_rotation r1,
				r2,
				r3;

	rq_test_rotation_make(&r1, kind, dim, 42);
	rq_test_rotation_make(&r2, kind, dim, 42);
	rq_test_rotation_make(&r3, kind, dim, 43);
	RQ_CHECK(memcmp(r1.state, r2.state, sizeof(float) * floats) == 0, "same seed differs");
	RQ_CHECK(memcmp(r1.state, r3.state, sizeof(float) * floats) != 0, "different seeds agree");
	rq_test_rotation_free(&r1);
	rq_test_rotation_free(&r2);
	rq_test_rotation_free(&r3);
}

/* A batch equals one row at a time (to float rounding for dense). */
static void
check_batch(rq_test_rotation_kind kind)
{
	int			dim = 200,
				dp = rq_padded_dim(dim),
				n = 37;
	rq_test_rotation r;
	float	   *x = rq_test_alloc(sizeof(float) * n * dim),
			   *batch = rq_test_alloc(sizeof(float) * n * dp),
			   *one = rq_test_alloc(sizeof(float) * dp);
	rq_pcg32	rng;

	rq_pcg32_seed(&rng, 8, 8);
	for (int i = 0; i < n * dim; i++)
		x[i] = (float) rq_pcg32_gaussian(&rng);
	rq_test_rotation_make(&r, kind, dim, 9);
	rq_test_rotate_batch(&r, x, n, batch);
	for (int v = 0; v < n; v++)
	{
		rq_test_rotate(&r, x + (size_t) v * dim, one);
		for (int i = 0; i < dp; i++)
			RQ_CHECK(fabsf(one[i] - batch[(size_t) v * dp + i]) <= 1e-5f * (1.0f + fabsf(one[i])),
					 "row %d coordinate %d: %g vs %g", v, i, one[i], batch[(size_t) v * dp + i]);
	}
	rq_test_rotation_free(&r);
	free(x);
	free(batch);
	free(one);
}

static void
test_dense(void)
{
	check_norms(RQ_TEST_DENSE);
	check_orthogonal(RQ_TEST_DENSE, 70);
	check_deterministic(RQ_TEST_DENSE);
	check_batch(RQ_TEST_DENSE);
}

static void
test_fht(void)
{
	check_norms(RQ_TEST_FHT_KAC);
	check_orthogonal(RQ_TEST_FHT_KAC, 64);	/* Dp a power of two */
	check_orthogonal(RQ_TEST_FHT_KAC, 150); /* Dp = 192: with the Kac butterfly */
	check_deterministic(RQ_TEST_FHT_KAC);
	check_batch(RQ_TEST_FHT_KAC);
}

/*
 * Elements near the float limit (a user may store or query 3.4e38): the
 * rotation never makes NaN, keeps the norm wherever the result is
 * representable, and rotating x equals rotating x / 2^40 times 2^40 bit for
 * bit (no intermediate sum overflowed).
 */
static void
test_huge(void)
{
	static const int huge_dims[] = {32, 768, 16000};
	rq_pcg32	rng;

	rq_pcg32_seed(&rng, 9, 9);
	for (size_t d = 0; d < sizeof(huge_dims) / sizeof(huge_dims[0]); d++)
	{
		int			dim = huge_dims[d],
					dp = rq_padded_dim(dim);
		rq_test_rotation r;
		float	   *x = rq_test_alloc(sizeof(float) * dim),
				   *small = rq_test_alloc(sizeof(float) * dim),
				   *out = rq_test_alloc(sizeof(float) * dp),
				   *out_small = rq_test_alloc(sizeof(float) * dp);
		int			nan = 0,
					inf = 0,
					differ = 0;

		rq_test_rotation_make(&r, RQ_TEST_FHT_KAC, dim, 3);
		for (int t = 0; t < 4; t++)
		{
			/* t = 0: elements up to 3.4e38; t > 0: norms within the float range */
			double		scale = t == 0 ? 3.4e38 : 3.0e38 / sqrt((double) dim) / (1 << t);

			for (int i = 0; i < dim; i++)
			{
				x[i] = (float) ((2.0 * rq_pcg32_uniform(&rng) - 1.0) * scale);
				small[i] = ldexpf(x[i], -40);
			}
			rq_test_rotate(&r, x, out);
			rq_test_rotate(&r, small, out_small);
			for (int i = 0; i < dp; i++)
			{
				nan += isnan(out[i]);
				inf += isinf(out[i]) && t > 0;
				differ += isfinite(out[i]) && out[i] != ldexpf(out_small[i], 40);
			}
			if (t > 0)
				RQ_CHECK(fabs(norm(out, dp) / norm(x, dim) - 1.0) < 1e-6, "dim %d: norm", dim);
		}
		RQ_CHECK(nan == 0 && inf == 0 && differ == 0, "dim %d: %d NaN, %d infinite, %d differ",
				 dim, nan, inf, differ);
		rq_test_rotation_free(&r);
		free(x);
		free(small);
		free(out);
		free(out_small);
	}
}

/* Padding: Dp = max(64, 64 ceil(D / 64)). */
static void
test_padding(void)
{
	RQ_CHECK(rq_padded_dim(1) == 64 && rq_padded_dim(64) == 64 && rq_padded_dim(65) == 128 &&
			 rq_padded_dim(768) == 768 && rq_padded_dim(769) == 832 && rq_padded_dim(16000) == 16000,
			 "padding");
}

const rq_test_case rq_rotation_tests[] = {
	{"rotation/padded dimension", test_padding, 0},
	{"rotation/dense haar: norms, orthogonal, deterministic, batch", test_dense, 0},
	{"rotation/fht-kac: norms, orthogonal, deterministic, batch", test_fht, 0},
	{"rotation/elements near the float limit: no overflow inside", test_huge, 0},
	{NULL, NULL, 0}
};
