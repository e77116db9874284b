/*
 * test_estimator.c
 *	  The 1-bit estimator against the oracles of doc/RABITQ.md 7, on clustered
 *	  data: <o-bar, o> concentrates at 0.80; the normalised error of the
 *	  cross term has std within 5 % of 0.75 / sqrt(Dp - 1); 4 % to 8 % of the
 *	  pairs fall outside [lb, ub] at eps = 1.9; a zero residual is exact; a
 *	  constant residual query (delta = 0) is handled.  Every query is compared
 *	  with every vector, each through its own list's residual query.
 */
#include <float.h>
#include <math.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/rq_distance.h"
#include "core/rq_encode.h"
#include "core/rq_estimate.h"
#include "core/rq_metric.h"
#include "rq_test.h"
#include "rq_testivf.h"

typedef struct pair_stats
{
	double		x0_sum,
				x0_min;
	size_t		vectors;
	double		err_sum,
				err_sq;
	size_t		pairs,
				outside;
} pair_stats;

/* est = m (add_f + add_q) + s t with t = -2 <r, y>: solve for the cross term. */
static double
estimated_cross(rq_metric metric, const rq_factors *f, const rq_list_query *lq, double est)
{
	double		m = metric == RQ_METRIC_L2 ? 1.0 : metric == RQ_METRIC_IP ? -1.0 : 0.5;
	double		s = metric == RQ_METRIC_L2 ? 1.0 : 0.5;

	return -(est - m * (f->add + lq->add)) / (2.0 * s);
}

/* One query against every list: accumulates the error and bound statistics. */
static void
collect_query(const rq_test_ivf *ivf, const float *q_rot, float eps, pair_stats *st,
			  float *est, float *lb, float *r, float *y, uint64_t *planes)
{
	int			dp = ivf->dp;

	for (int l = 0; l < ivf->nlist; l++)
	{
		const float *c = ivf->centroids_rot + (size_t) l * dp;
		size_t		first = ivf->list_start[l],
					count = ivf->list_start[l + 1] - first,
					nblocks;
		const void *blocks = rq_test_ivf_blocks(ivf, l, &nblocks);
		rq_list_query lq;

		rq_prepare_list_query(q_rot, c, dp, ivf->metric, planes, NULL, &lq);
		rq_test_estimate_blocks(&rq_codes, &lq, blocks, nblocks, eps, est, lb, NULL);
		for (int i = 0; i < dp; i++)
			y[i] = q_rot[i] - c[i];
		for (size_t v = 0; v < count; v++)
		{
			const float *o = ivf->rotated + (size_t) ivf->order[first + v] * dp;
			double		exact,
						rn,
						err;

			for (int i = 0; i < dp; i++)
				r[i] = o[i] - c[i];
			rn = sqrt((double) rq_dist.dot(r, r, dp));
			if (rn == 0.0)
				continue;
			err = (rq_dist.dot(r, y, dp) - estimated_cross(ivf->metric, &ivf->factors[first + v], &lq, est[v]))
				/ (rn * lq.ynorm);
			st->err_sum += err;
			st->err_sq += err * err;
			st->pairs++;
			exact = rq_metric_distance(ivf->metric, o, q_rot, dp);	/* rotation keeps it */
			/* the upper bound is as far above est as lb is below */
			st->outside += exact < lb[v] || exact > 2.0 * est[v] - lb[v];
		}
	}
}

/* Statistics of nq queries against the whole index. */
static pair_stats
collect(const rq_test_ivf *ivf, size_t nq, float eps)
{
	int			dp = ivf->dp;
	pair_stats	st = {0, 1.0, 0, 0, 0, 0, 0};
	float	   *est = rq_test_alloc(sizeof(float) * (ivf->ds->n + RQ_BLOCK_LANES)),
			   *lb = rq_test_alloc(sizeof(float) * (ivf->ds->n + RQ_BLOCK_LANES)),
			   *r = rq_test_alloc(sizeof(float) * dp),
			   *y = rq_test_alloc(sizeof(float) * dp),
			   *q_rot = rq_test_alloc(sizeof(float) * dp);
	uint64_t   *planes = rq_test_alloc(sizeof(uint64_t) * rq_query_plane_words(dp));

	for (size_t row = 0; row < ivf->ds->n; row++)
	{
		const float *c = ivf->centroids_rot + (size_t) ivf->list_of[row] * dp;
		double		x0;

		for (int i = 0; i < dp; i++)
			r[i] = ivf->rotated[row * dp + i] - c[i];
		x0 = rq_code_cosine(r, dp);
		st.x0_sum += x0;
		st.x0_min = x0 < st.x0_min ? x0 : st.x0_min;
		st.vectors++;
	}
	for (size_t q = 0; q < nq; q++)
	{
		rq_test_ivf_query(ivf, ivf->ds->queries + q * ivf->ds->dim, q_rot);
		collect_query(ivf, q_rot, eps, &st, est, lb, r, y, planes);
	}
	free(est);
	free(lb);
	free(r);
	free(y);
	free(q_rot);
	free(planes);
	return st;
}

static void
check_oracles(int dim, rq_metric metric, rq_test_rotation_kind kind, size_t n, size_t nq)
{
	rq_dataset	ds;
	rq_test_ivf ivf;
	pair_stats	st;
	double		mean,
				sd,
				theory,
				outside;
	const char *name = metric == RQ_METRIC_L2 ? "l2" : metric == RQ_METRIC_IP ? "ip" : "cosine";

	rq_make_clustered(&ds, dim, n, nq, 1000 + dim);
	rq_test_ivf_build(&ivf, &ds, metric, 64, kind, 7);
	st = collect(&ivf, nq, 1.9f);
	mean = st.err_sum / st.pairs;
	sd = sqrt(st.err_sq / st.pairs - mean * mean);
	theory = 0.75 / sqrt(ivf.dp - 1.0);
	outside = (double) st.outside / st.pairs;
	printf("#   D=%d %s %s: <o-bar,o> mean %.4f min %.3f; error std %.4f (theory %.4f, ratio %.3f),"
		   " bias %.1e; outside [lb,ub] at eps 1.9: %.2f%% of %zu pairs\n",
		   dim, name, rq_test_rotation_name(kind), st.x0_sum / st.vectors,
		   st.x0_min, sd, theory, sd / theory, mean, 100.0 * outside, st.pairs);

	RQ_CHECK(fabs(st.x0_sum / st.vectors - 0.80) <= 0.01, "<o-bar,o> mean %.4f", st.x0_sum / st.vectors);
	RQ_CHECK(st.x0_min > 0.7, "<o-bar,o> min %.4f", st.x0_min);
	RQ_CHECK(fabs(sd / theory - 1.0) <= 0.05, "error std %.4f vs theory %.4f", sd, theory);
	RQ_CHECK(fabs(mean) <= 0.1 * sd, "biased: mean error %.3g", mean);
	RQ_CHECK(outside >= 0.04 && outside <= 0.08, "%.2f%% outside the bounds", 100.0 * outside);
	rq_test_ivf_free(&ivf);
	rq_dataset_free(&ds);
}

static void
test_l2_128(void)
{
	check_oracles(128, RQ_METRIC_L2, RQ_TEST_DENSE, rq_test_quick ? 3000 : 20000, rq_test_quick ? 10 : 60);
}

static void
test_l2_768(void)
{
	check_oracles(768, RQ_METRIC_L2, RQ_TEST_FHT_KAC, rq_test_quick ? 2000 : 8000, rq_test_quick ? 5 : 25);
}

static void
test_ip_cosine(void)
{
	check_oracles(128, RQ_METRIC_IP, RQ_TEST_FHT_KAC, rq_test_quick ? 3000 : 10000, rq_test_quick ? 10 : 40);
	check_oracles(128, RQ_METRIC_COSINE, RQ_TEST_DENSE, rq_test_quick ? 3000 : 10000, rq_test_quick ? 10 : 40);
}

/* o == c gives a zero residual: all factors zero, the estimate exact. */
static void
test_zero_residual(void)
{
	int			dp = 128;
	float		c[128],
				r[128] = {0},
				q[128];
	uint64_t	code[2],
				planes[RQ_QUERY_BITS * 2];
	rq_factors	f;
	rq_list_query lq;
	float		est[RQ_BLOCK_LANES],
				lb[RQ_BLOCK_LANES];
	double		exact = 0.0;
	void	   *block = rq_test_alloc(rq_test_block_bytes(128));

	for (int i = 0; i < dp; i++)
	{
		c[i] = (float) sin(i);
		q[i] = c[i] + (float) cos(3.0 * i);
		exact += ((double) q[i] - c[i]) * ((double) q[i] - c[i]);
	}
	rq_quantize(r, c, dp, RQ_METRIC_L2, code, &f);
	RQ_CHECK(f.add == 0.0f && f.a == 0.0f && f.err == 0.0f, "factors not zero");
	rq_prepare_list_query(q, c, dp, RQ_METRIC_L2, planes, NULL, &lq);
	memset(block, 0, rq_test_block_bytes(dp));
	rq_test_block_put(block, dp, 3, code, &f);
	rq_test_estimate_blocks(&rq_codes, &lq, block, 1, 1.9f, est, lb, NULL);
	RQ_CHECK(fabs(est[3] - exact) <= 1e-6 * exact && est[3] == lb[3], "est %.9g exact %.9g lb %.9g",
			 est[3], exact, lb[3]);
	free(block);
}

/* A query on the centroid: delta = 0, no NaN, estimate = ||r||^2 exactly. */
static void
test_constant_query(void)
{
	int			dp = 64;
	float		c[64],
				r[64];
	uint64_t	code[1],
				planes[RQ_QUERY_BITS];
	uint8_t		q_u[64];
	rq_factors	f;
	rq_list_query lq;
	float		est[RQ_BLOCK_LANES],
				lb[RQ_BLOCK_LANES];
	void	   *block = rq_test_alloc(rq_test_block_bytes(64));

	for (int i = 0; i < dp; i++)
	{
		c[i] = 1.0f;
		r[i] = (float) (i % 7) - 3.0f;
	}
	rq_quantize(r, c, dp, RQ_METRIC_L2, code, &f);
	rq_prepare_list_query(c, c, dp, RQ_METRIC_L2, planes, q_u, &lq);
	RQ_CHECK(lq.delta == 0.0f && lq.sum_q == 0 && q_u[5] == 0, "delta %g", lq.delta);
	memset(block, 0, rq_test_block_bytes(dp));
	rq_test_block_put(block, dp, 0, code, &f);
	rq_test_estimate_blocks(&rq_codes, &lq, block, 1, 1.9f, est, lb, NULL);
	RQ_CHECK(isfinite(est[0]) && isfinite(lb[0]) && est[0] == f.add, "est %g, ||r||^2 %g", est[0], f.add);
	free(block);
}

/*
 * A residual whose range is denormal: 1 / delta overflows float, yet the
 * levels still span 0..15 in order (1-bit query) and 0..255 (refining
 * query), not garbage from converting an infinite float.
 */
static void
test_denormal_residual(void)
{
	int			dp = 128;
	float		c[128] = {0},
				q[128];
	uint64_t	planes[RQ_QUERY_BITS * 2];
	uint8_t		q_u[128],
				ex[128];
	rq_list_query lq;
	rq_ex_query eq;
	int			ordered = 1;

	for (int i = 0; i < dp; i++)
		q[i] = (float) i * 1e-42f;
	rq_prepare_list_query(q, c, dp, RQ_METRIC_L2, planes, q_u, &lq);
	rq_prepare_ex_query(q, c, dp, 8, RQ_METRIC_L2, ex, &eq);
	for (int i = 1; i < dp; i++)
		ordered &= q_u[i] >= q_u[i - 1] && ex[i] >= ex[i - 1];
	RQ_CHECK(lq.delta > 0.0f && !(1.0f / lq.delta <= FLT_MAX), "delta %g is not that small", lq.delta);
	RQ_CHECK(ordered && q_u[0] == 0 && q_u[dp - 1] == 15 && q_u[dp / 2] >= 7 && q_u[dp / 2] <= 8,
			 "1-bit levels %d %d %d", q_u[0], q_u[dp / 2], q_u[dp - 1]);
	RQ_CHECK(ordered && ex[0] == 0 && ex[dp - 1] == 255, "refining levels %d %d", ex[0], ex[dp - 1]);
}

/* Cosine rejects a zero vector; other metrics accept it. */
static void
test_zero_vector(void)
{
	float		zero[5] = {0},
				out[5],
				x[3] = {3, 0, 4};

	RQ_CHECK(rq_preprocess(RQ_METRIC_COSINE, zero, 5, out) == RQ_ERR_ZERO_VECTOR, "cosine zero");
	RQ_CHECK(rq_preprocess(RQ_METRIC_L2, zero, 5, out) == RQ_OK, "l2 zero");
	RQ_CHECK(rq_preprocess(RQ_METRIC_IP, zero, 5, out) == RQ_OK, "ip zero");
	RQ_CHECK(rq_preprocess(RQ_METRIC_COSINE, x, 3, out) == RQ_OK &&
			 fabsf(out[0] - 0.6f) < 1e-7f && fabsf(out[2] - 0.8f) < 1e-7f, "normalised");
}

/*
 * q_u is round-to-nearest of (y - v_l) / delta, clamped to 0..15, and plane
 * j holds bit j of every level (two words, so the word layout is checked).
 */
static void
test_query_levels(void)
{
	int			dp = 128;
	float		q[128],
				c[128] = {0};
	uint64_t	planes[RQ_QUERY_BITS * 2];
	uint8_t		q_u[128];
	rq_list_query lq;
	int			sum = 0,
				bad_bits = 0;

	for (int i = 0; i < dp; i++)
		q[i] = (float) (i % 64) / 63.0f * 15.0f * (i < 64 ? 1.0f : -1.0f);	/* the 16 levels and between */
	rq_prepare_list_query(q, c, dp, RQ_METRIC_L2, planes, q_u, &lq);
	for (int i = 0; i < dp; i++)
	{
		int			want = (int) floor((q[i] - lq.vl) / lq.delta + 0.5);

		want = want > 15 ? 15 : want;
		RQ_CHECK(q_u[i] == want, "coordinate %d: level %d, expected %d", i, q_u[i], want);
		sum += q_u[i];
		for (int j = 0; j < RQ_QUERY_BITS; j++)
			bad_bits += ((planes[j * 2 + i / 64] >> (i % 64)) & 1) != (uint64_t) ((q_u[i] >> j) & 1);
	}
	RQ_CHECK(q_u[0] == 8 && q_u[63] == 15 && q_u[127] == 0 && lq.sum_q == sum, "range ends, sum");
	RQ_CHECK(bad_bits == 0, "%d plane bits differ from the levels", bad_bits);
}

/*
 * Query encoding: L2 and cosine as for data; an inner-product query with
 * elements beyond 2^60 scaled by a power of two (exactly: every ratio
 * between elements kept, the exponent reported), smaller ones untouched.
 */
static void
test_query_scaling(void)
{
	float		x[4] = {3.0e38f, -1.5e38f, 1.0f, 0.0f},
				small[4] = {2.0f, -3.0f, 0.5f, 0.0f},
				prep[4],
				rotated[64],
				plain[64];
	float	   *signs = rq_test_alloc(sizeof(float) * rq_rotation_floats(64));
	rq_rotation rot;
	int			exp,
				exact = 1;

	rq_rotation_generate(64, 5, signs);
	rq_rotation_init(&rot, 4, signs);
	RQ_CHECK(rq_encode_query(&rot, RQ_METRIC_L2, x, prep, rotated, &exp) == RQ_OK && exp == 0 &&
			 memcmp(x, prep, sizeof(x)) == 0, "L2: the query as given");
	RQ_CHECK(rq_encode_query(&rot, RQ_METRIC_IP, x, prep, rotated, &exp) == RQ_OK && exp > 0, "IP: scaled");
	RQ_CHECK(fabsf(prep[0]) <= ldexpf(1.0f, 60) && fabsf(prep[0]) >= ldexpf(1.0f, 59), "IP: largest element near 2^60 (%g)", prep[0]);
	for (int i = 0; i < 4; i++)
		exact &= prep[i] == ldexpf(x[i], -exp);
	RQ_CHECK(exact, "IP: scaled by 2^-%d exactly", exp);
	rq_rotate(&rot, prep, plain);
	RQ_CHECK(memcmp(plain, rotated, sizeof(plain)) == 0, "IP: the scaled query rotated");
	RQ_CHECK(rq_encode_query(&rot, RQ_METRIC_IP, small, prep, rotated, &exp) == RQ_OK && exp == 0 &&
			 memcmp(small, prep, sizeof(small)) == 0, "IP: ordinary queries untouched");
	RQ_CHECK(rq_encode_query(&rot, RQ_METRIC_COSINE, x, prep, rotated, &exp) == RQ_OK && fabs(prep[0] - 0.894427) < 1e-5,
			 "cosine: the unit vector (%g)", prep[0]);
	free(signs);
}

const rq_test_case rq_estimator_tests[] = {
	{"estimator/zero residual is exact", test_zero_residual, 0},
	{"estimator/constant residual query (delta = 0)", test_constant_query, 0},
	{"estimator/cosine rejects zero vectors", test_zero_vector, 0},
	{"estimator/4-bit query levels", test_query_levels, 0},
	{"estimator/query levels of a denormal residual", test_denormal_residual, 0},
	{"estimator/query preprocessing scales huge inner-product queries", test_query_scaling, 0},
	{"estimator/oracles at D=128 (L2, dense rotation)", test_l2_128, 1},
	{"estimator/oracles at D=768 (L2, fht-kac rotation)", test_l2_768, 1},
	{"estimator/oracles for inner product and cosine", test_ip_cosine, 1},
	{NULL, NULL, 0}
};
