/*
 * test_blocks.c
 *	  The block estimator: every variant gives the same estimates and bounds
 *	  as the scalar twin, bit for bit, and <b, q_u> equals the naive integer
 *	  dot product (doc/RABITQ.md 7.2), for padded dimensions from 64 to 16000;
 *	  block_finish's minimum of the lanes' bounds equals the naive one, or is
 *	  NaN when a bound is not finite; block_estimate is block_dot then
 *	  block_finish;
 *	  a block split by word ranges gives the same sums; put/get round-trip.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rq_estimate.h"
#include "core/rq_random.h"
#include "rq_test.h"
#include "rq_testivf.h"

static uint64_t
random_word(rq_pcg32 *rng)
{
	return ((uint64_t) rq_pcg32_next(rng) << 32) | rq_pcg32_next(rng);
}

/* Naive <b, q_u> from unpacked bits and levels. */
static int64_t
naive_dot(const uint64_t *code, const uint64_t *planes, int words)
{
	int64_t		sum = 0;

	for (int i = 0; i < words * 64; i++)
	{
		int			q = 0;

		for (int j = 0; j < RQ_QUERY_BITS; j++)
			q |= (int) ((planes[(size_t) j * words + i / 64] >> (i % 64)) & 1) << j;
		sum += (int64_t) ((code[i / 64] >> (i % 64)) & 1) * q;
	}
	return sum;
}

/* nblocks random blocks with finite random factors; codes[] keeps each lane's code. */
static void *
random_blocks(rq_pcg32 *rng, int dp, size_t nblocks, uint64_t *codes)
{
	int			words = rq_code_words(dp);
	char	   *blocks = rq_test_alloc(rq_test_block_bytes(dp) * nblocks);

	for (size_t b = 0; b < nblocks; b++)
		for (int l = 0; l < RQ_BLOCK_LANES; l++)
		{
			uint64_t   *code = codes + (b * RQ_BLOCK_LANES + l) * words;
			rq_factors	f = {(float) rq_pcg32_uniform(rng) * 100.0f, -(float) rq_pcg32_uniform(rng),
			(float) rq_pcg32_uniform(rng)};

			for (int w = 0; w < words; w++)
				code[w] = random_word(rng);
			if (b == 0 && l == 0)
				memset(code, 0xFF, sizeof(uint64_t) * words);	/* extreme counts */
			rq_test_block_put(blocks + b * rq_test_block_bytes(dp), dp, l, code, &f);
		}
	return blocks;
}

/* The smallest of eight finite bounds, lane by lane. */
static float
naive_min(const float *lb)
{
	float		min = lb[0];

	for (int l = 1; l < RQ_BLOCK_LANES; l++)
		min = fminf(min, lb[l]);
	return min;
}

/* block_estimate of each block equals block_dot then block_finish (est0, lb0, mins0), bit for bit. */
static void
check_block_estimate(const rq_code_kernels *k, const rq_list_query *lq, const void *blocks, size_t nblocks,
					 const float *est0, const float *lb0, const float *mins0)
{
	int			words = rq_code_words(lq->dp);
	rq_estimate_params p;

	rq_estimate_setup(lq, 1.9f, &p);
	for (size_t b = 0; b < nblocks; b++)
	{
		const uint64_t *codes = (const uint64_t *) ((const char *) blocks + b * rq_test_block_bytes(lq->dp));
		float		est[RQ_BLOCK_LANES],
					lb[RQ_BLOCK_LANES];
		float		min = k->block_estimate(codes, words, lq->planes, codes + (size_t) words * RQ_BLOCK_LANES,
											&p, est, lb);

		RQ_CHECK(memcmp(est, est0 + b * RQ_BLOCK_LANES, sizeof(est)) == 0 &&
				 memcmp(lb, lb0 + b * RQ_BLOCK_LANES, sizeof(lb)) == 0 &&
				 memcmp(&min, &mins0[b], sizeof(min)) == 0,
				 "%s dp %d block %zu: block_estimate differs from block_dot and block_finish",
				 rq_isa_name(k->isa), lq->dp, b);
	}
}

static void
check_dimension(rq_pcg32 *rng, int dp, size_t nblocks, rq_metric metric)
{
	int			words = rq_code_words(dp);
	size_t		n = nblocks * RQ_BLOCK_LANES;
	uint64_t   *codes = rq_test_alloc(sizeof(uint64_t) * n * words);
	void	   *blocks = random_blocks(rng, dp, nblocks, codes);
	float	   *q = rq_test_alloc(sizeof(float) * dp),
			   *c = rq_test_alloc(sizeof(float) * dp);
	uint64_t   *planes = rq_test_alloc(sizeof(uint64_t) * rq_query_plane_words(dp));
	float	   *est = rq_test_alloc(sizeof(float) * n),
			   *lb = rq_test_alloc(sizeof(float) * n),
			   *est0 = rq_test_alloc(sizeof(float) * n),
			   *lb0 = rq_test_alloc(sizeof(float) * n),
			   *mins = rq_test_alloc(sizeof(float) * nblocks),
			   *mins0 = rq_test_alloc(sizeof(float) * nblocks);
	rq_list_query lq;
	for (int i = 0; i < dp; i++)
	{
		q[i] = (float) rq_pcg32_gaussian(rng);
		c[i] = (float) rq_pcg32_gaussian(rng);
	}
	rq_prepare_list_query(q, c, dp, metric, planes, NULL, &lq);

	/* scalar ip = naive, lane by lane, and a split at every word boundary sums alike */
	for (size_t b = 0; b < nblocks; b++)
	{
		const uint64_t *bc = (const uint64_t *) ((char *) blocks + b * rq_test_block_bytes(dp));
		int64_t		ip[RQ_BLOCK_LANES] = {0},
					split[RQ_BLOCK_LANES] = {0};
		int			cut = (int) rq_pcg32_below(rng, (uint32_t) words + 1);

		rq_block_dot_scalar(bc, 0, words, planes, words, ip);
		rq_block_dot_scalar(bc, 0, cut, planes, words, split);
		rq_block_dot_scalar(bc + (size_t) cut * RQ_BLOCK_LANES, cut, words, planes, words, split);
		for (int l = 0; l < RQ_BLOCK_LANES; l++)
		{
			const uint64_t *code = codes + (b * RQ_BLOCK_LANES + l) * words;
			int64_t		pop = 0;

			for (int w = 0; w < words; w++)
				pop += __builtin_popcountll(code[w]);
			RQ_CHECK((ip[l] & 0xFFFFFFFF) == naive_dot(code, planes, words) && ip[l] >> 32 == pop,
					 "dp %d block %zu lane %d: scalar dot or set bits differ from naive", dp, b, l);
			RQ_CHECK(split[l] == ip[l], "dp %d: split at word %d changes the sum", dp, cut);
		}
	}

	rq_test_estimate_blocks(&rq_code_kernels_scalar, &lq, blocks, nblocks, 1.9f, est0, lb0, mins0);
	for (size_t b = 0; b < nblocks; b++)
		RQ_CHECK(mins0[b] == naive_min(lb0 + b * RQ_BLOCK_LANES), "dp %d block %zu: scalar lanes' minimum", dp, b);
	check_block_estimate(&rq_code_kernels_scalar, &lq, blocks, nblocks, est0, lb0, mins0);
	for (int isa = 1; isa < rq_test_isa_count(); isa++)
	{
		const rq_code_kernels *k = rq_code_kernels_for((rq_isa) isa);

		rq_test_estimate_blocks(k, &lq, blocks, nblocks, 1.9f, est, lb, mins);
		RQ_CHECK(memcmp(est, est0, sizeof(float) * n) == 0 && memcmp(lb, lb0, sizeof(float) * n) == 0,
				 "%s dp %d: estimates differ from scalar", rq_isa_name((rq_isa) isa), dp);
		RQ_CHECK(memcmp(mins, mins0, sizeof(float) * nblocks) == 0, "%s dp %d: lanes' minimum differs from scalar",
				 rq_isa_name((rq_isa) isa), dp);
		check_block_estimate(k, &lq, blocks, nblocks, est0, lb0, mins0);
		for (size_t b = 0; b < nblocks && b < 4; b++)
		{
			const uint64_t *bc = (const uint64_t *) ((char *) blocks + b * rq_test_block_bytes(dp));
			int64_t		ip[RQ_BLOCK_LANES] = {0},
						ref[RQ_BLOCK_LANES] = {0};
			int			cut = words / 3;

			k->block_dot(bc, 0, cut, planes, words, ip);
			k->block_dot(bc + (size_t) cut * RQ_BLOCK_LANES, cut, words, planes, words, ip);
			rq_block_dot_scalar(bc, 0, words, planes, words, ref);
			RQ_CHECK(memcmp(ip, ref, sizeof(ip)) == 0, "%s dp %d: block_dot differs",
					 rq_isa_name((rq_isa) isa), dp);
		}
	}
	free(codes);
	free(blocks);
	free(q);
	free(c);
	free(planes);
	free(est);
	free(lb);
	free(est0);
	free(lb0);
	free(mins);
	free(mins0);
}

static void
test_variants_agree(void)
{
	rq_pcg32	rng;

	rq_pcg32_seed(&rng, 77, 1);
	for (int words = 1; words <= 40; words++)
		check_dimension(&rng, words * 64, rq_test_quick ? 2 : 9, (rq_metric) (1 + words % 3));
	check_dimension(&rng, 1536, 40, RQ_METRIC_L2);
	check_dimension(&rng, 16000, rq_test_quick ? 1 : 3, RQ_METRIC_COSINE);
}

/*
 * A block with a lane whose bound is not finite (its factor a near the float
 * limit overflows the estimate): every level's block_finish says NaN, not a
 * minimum, so that the scan looks at the lanes one by one; and
 * rq_lanes_min's tree on signed zeros and infinities.
 */
static void
test_lanes_min_not_finite(void)
{
	int			dp = 128;
	float		c[128],
				q[128],
				est[RQ_BLOCK_LANES],
				lb[RQ_BLOCK_LANES],
				min;
	uint64_t	planes[RQ_QUERY_BITS * 2];
	rq_list_query lq;
	rq_pcg32	rng;
	void	   *block = rq_test_alloc(rq_test_block_bytes(dp));

	rq_pcg32_seed(&rng, 5, 9);
	for (int i = 0; i < dp; i++)
	{
		c[i] = 0.0f;
		q[i] = (float) rq_pcg32_gaussian(&rng);
	}
	rq_prepare_list_query(q, c, dp, RQ_METRIC_L2, planes, NULL, &lq);
	for (int bad = 0; bad < RQ_BLOCK_LANES; bad++)
		for (int isa = 0; isa < rq_test_isa_count(); isa++)
		{
			memset(block, 0, rq_test_block_bytes(dp));
			for (int l = 0; l < RQ_BLOCK_LANES; l++)
			{
				uint64_t	code[2] = {random_word(&rng), random_word(&rng)};
				rq_factors	f = {1.0f + l, l == bad ? 3.0e38f : -0.5f, 0.25f};

				rq_test_block_put(block, dp, l, code, &f);
			}
			rq_test_estimate_blocks(rq_code_kernels_for((rq_isa) isa), &lq, block, 1, 1.9f, est, lb, &min);
			RQ_CHECK(!isfinite(lb[bad]) && isnan(min), "%s, lane %d not finite: the minimum is %g, not NaN",
					 rq_isa_name((rq_isa) isa), bad, min);
		}
	{
		float		zeros[RQ_BLOCK_LANES] = {0.0f, 1.0f, 2.0f, 3.0f, -0.0f, 5.0f, 6.0f, 7.0f},
					inf[RQ_BLOCK_LANES] = {1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, -INFINITY, 1.0f};

		/* lanes 0 and 4 are equal: MINPS's rule keeps the second, -0 */
		RQ_CHECK(rq_lanes_min(zeros) == 0.0f && signbit(rq_lanes_min(zeros)), "the tree keeps -0");
		RQ_CHECK(isnan(rq_lanes_min(inf)), "an infinite lane");
	}
	free(block);
}

/* The lane helpers of the block layout: a lane's words and factors round-trip, others stay empty. */
static void
test_put_get(void)
{
	int			dp = 192,
				words = 3;
	uint64_t	code[3] = {1, UINT64_C(0x8000000000000000), 12345},
				back[3];
	rq_factors	f = {1.5f, -2.0f, 0.5f},
				g;
	uint64_t	codes[3 * RQ_BLOCK_LANES] = {0};
	char		factors[RQ_BLOCK_FACTOR_BYTES] = {0};
	float		err;
	uint32_t	bits;

	rq_block_put_code(codes, 0, words, 5, code);
	rq_block_put_factors(factors, 5, &f);
	rq_block_get_code(codes, 0, words, 5, back);
	g = rq_block_get_factors(factors, 5);
	RQ_CHECK(memcmp(code, back, sizeof(code)) == 0 && memcmp(&f, &g, sizeof(f)) == 0, "lane 5");
	rq_block_get_code(codes, 0, words, 4, back);
	g = rq_block_get_factors(factors, 4);
	RQ_CHECK(back[0] == 0 && back[1] == 0 && back[2] == 0 && g.add == 0.0f && g.err == 0.0f,
			 "lane 4 stays empty");
	/* words [1, 3) of a split block: word 1 of lane 5 first */
	rq_block_put_code(codes, 1, 3, 5, code);
	RQ_CHECK(codes[5] == code[1] && codes[RQ_BLOCK_LANES + 5] == code[2], "a segment starts at its first word");
	RQ_CHECK(rq_test_block_bytes(768) == 12 * 64 + 80 && dp == words * 64, "block size at D=768");

	/* err keeps 8 significant bits, rounded up: never below the value put */
	f.err = 0.3f;
	rq_block_put_factors(factors, 2, &f);
	err = rq_block_get_factors(factors, 2).err;
	memcpy(&bits, &err, sizeof(bits));
	RQ_CHECK(err >= 0.3f && err - 0.3f < 0.3f / 128 && (bits & 0xFFFF) == 0, "err 0.3 kept as %.9g", err);
	RQ_CHECK(rq_err_round_up(0.3) == err && rq_err_round_up(err) == err, "rounding up is idempotent");
	RQ_CHECK((double) rq_err_round_up(nextafter((double) 0.375f, 1.0)) > 0.375,
			 "a double just above a bfloat16 rounds up past it");
	RQ_CHECK(rq_err_round_up(0.375) == 0.375f, "a bfloat16 stays");
	RQ_CHECK(rq_err_round_up(0.0) == 0.0f && rq_err_round_up(1e-45) > 0.0f, "zero and the smallest denormal");
	RQ_CHECK(isinf(rq_err_round_up(3.4e38)) && rq_err_round_up(3.3e38) >= 3.3e38f, "overflow is +infinity");
}

/*
 * One query grid on every level: the levels and their sum equal the scalar
 * twin's, which is rq_query_level itself.
 */
static void
check_levels(const float *q, const float *c, int n, float vl, float delta, int levels, const char *what)
{
	float		inv = delta > 0.0f ? 1.0f / delta : 0.0f;
	uint8_t    *ref = rq_test_alloc((size_t) n),
			   *out = rq_test_alloc((size_t) n);
	int64_t		sum0 = rq_query_levels_scalar(q, c, n, vl, delta, inv, levels, ref),
				naive = 0;

	for (int i = 0; i < n; i++)
	{
		RQ_CHECK(ref[i] == rq_query_level(q[i] - c[i], vl, delta, inv, levels), "%s: scalar level %d", what, i);
		naive += ref[i];
	}
	RQ_CHECK(sum0 == naive, "%s: scalar sum", what);
	for (int isa = 1; isa < rq_test_isa_count(); isa++)
	{
		const rq_code_kernels *k = rq_code_kernels_for((rq_isa) isa);
		int64_t		sum;

		memset(out, 0xAB, (size_t) n);
		sum = k->query_levels(q, c, n, vl, delta, inv, levels, out);
		RQ_CHECK(memcmp(out, ref, (size_t) n) == 0 && sum == sum0, "%s: %s levels differ from scalar",
				 what, rq_isa_name((rq_isa) isa));
	}
	free(ref);
	free(out);
}

/*
 * The query's grid levels (15 for the 1-bit codes' planes, 255 for the
 * ex-codes) and bit planes: every level gives the scalar twin's bytes and
 * words, on ordinary residuals and on what a hostile query brings: NaN,
 * infinities, values near FLT_MAX, a zero step (a constant residual) and a
 * step so small that its inverse overflows (the levels divide).
 */
static void
test_query_levels_agree(void)
{
	enum
	{
		n = 256
	};
	rq_pcg32	rng;
	float		q[n],
				c[n];
	uint8_t		levels[64];
	uint64_t	planes[8 * 3],
				ref[8 * 3];

	rq_pcg32_seed(&rng, 78, 1);
	for (int i = 0; i < n; i++)
	{
		q[i] = (float) rq_pcg32_gaussian(&rng);
		c[i] = (float) rq_pcg32_gaussian(&rng) * 0.5f;
	}
	check_levels(q, c, n, -4.0f, 8.0f / 15.0f, 15, "gaussian, 15 levels");
	check_levels(q, c, n, -4.0f, 8.0f / 255.0f, 255, "gaussian, 255 levels");
	check_levels(q, c, n, -1.0f, 0.0f, 15, "zero step");
	check_levels(q, c, n, 0.0f, 1e-45f, 255, "denormal step");
	q[3] = NAN;
	q[17] = INFINITY;
	q[18] = -INFINITY;
	c[40] = INFINITY;
	q[64] = 3.4e38f;
	c[64] = -3.4e38f;
	q[65] = -3.4e38f;
	q[130] = 1e-40f;
	check_levels(q, c, n, -4.0f, 8.0f / 15.0f, 15, "non-finite, 15 levels");
	check_levels(q, c, n, -3.4e38f, 3.4e38f / 127.0f, 255, "non-finite, wide step");
	check_levels(q, c, n, -4.0f, 1e-44f, 255, "non-finite, denormal step");

	/* planes of every byte value, eight planes, written with a stride */
	for (int b = 0; b < 64; b++)
		levels[b] = (uint8_t) rq_pcg32_next(&rng);
	levels[0] = 0;
	levels[63] = 255;
	memset(ref, 0, sizeof(ref));
	rq_bit_planes_scalar(levels, 8, ref + 1, 3);
	for (int j = 0; j < 8; j++)
		for (int b = 0; b < 64; b++)
			RQ_CHECK(((ref[1 + j * 3] >> b) & 1) == (uint64_t) ((levels[b] >> j) & 1),
					 "scalar plane %d bit %d", j, b);
	for (int isa = 1; isa < rq_test_isa_count(); isa++)
	{
		memset(planes, 0, sizeof(planes));
		rq_code_kernels_for((rq_isa) isa)->bit_planes(levels, 8, planes + 1, 3);
		RQ_CHECK(memcmp(planes, ref, sizeof(planes)) == 0, "%s planes differ from scalar",
				 rq_isa_name((rq_isa) isa));
	}
}

const rq_test_case rq_block_tests[] = {
	{"blocks/query levels and bit planes equal scalar bit for bit", test_query_levels_agree, 0},
	{"blocks/put and get", test_put_get, 0},
	{"blocks/variants equal scalar bit for bit; dot = naive; splits", test_variants_agree, 0},
	{"blocks/lanes' minimum: NaN for a bound not finite, on every level", test_lanes_min_not_finite, 0},
	{NULL, NULL, 0}
};
