/*
 * rq_rotation.c
 *	  The FHT-Kac rotation.
 */
#include "rq_rotation.h"

#include <math.h>
#include <string.h>

#include "rq_random.h"

/* The PCG32 stream of the signs (a seed may serve other uses on other streams). */
#define RQ_STREAM_FHT	0x6668ULL

size_t
rq_rotation_floats(int dp)
{
	return (size_t) RQ_FHT_ROUNDS * (size_t) dp;
}

void
rq_rotation_generate(int dp, uint64_t seed, float *signs)
{
	rq_pcg32	rng;
	uint32_t	bits = 0;

	rq_pcg32_seed(&rng, seed, RQ_STREAM_FHT);
	for (size_t i = 0; i < rq_rotation_floats(dp); i++)
	{
		if (i % 32 == 0)
			bits = rq_pcg32_next(&rng);
		signs[i] = (bits >> (i % 32)) & 1u ? -1.0f : 1.0f;
	}
}

void
rq_rotation_init(rq_rotation *r, int dim, const float *signs)
{
	r->dim = dim;
	r->dp = rq_padded_dim(dim);
	r->signs = signs;
}

/* In-place normalised Walsh-Hadamard transform of n (a power of two) floats. */
static void
rq_fwht(float *x, int n, float scale)
{
	for (int h = 1; h < n; h *= 2)
	{
		for (int i = 0; i < n; i += 2 * h)
		{
			for (int j = i; j < i + h; j++)
			{
				float		a = x[j],
							b = x[j + h];

				x[j] = a + b;
				x[j + h] = a - b;
			}
		}
	}
	for (int i = 0; i < n; i++)
		x[i] *= scale;
}

/*
 * FHT-Kac (doc/RABITQ.md 1.3 option B): four rounds of sign flip, FWHT on
 * the first T coordinates (odd rounds) or the last T (even rounds), T the
 * largest power of two <= Dp, and, when T < Dp, a 45-degree butterfly
 * between the two halves so every coordinate mixes with every other.  x may
 * be out.
 */
static void
rq_rotate_fht(const rq_rotation *r, const float *x, float *out)
{
	int			dp = r->dp;
	int			t = 1;
	int			h = dp / 2;
	float		scale;

	while (t * 2 <= dp)
		t *= 2;
	scale = (float) (1.0 / sqrt((double) t));
	memmove(out, x, sizeof(float) * r->dim);
	memset(out + r->dim, 0, sizeof(float) * (dp - r->dim));

	for (int round = 0; round < RQ_FHT_ROUNDS; round++)
	{
		const float *s = r->signs + (size_t) round * dp;

		for (int i = 0; i < dp; i++)
			out[i] *= s[i];
		rq_fwht(out + (round % 2 == 0 ? 0 : dp - t), t, scale);
		if (t < dp)
		{
			for (int i = 0; i < h; i++)
			{
				float		a = out[i],
							b = out[i + h];

				out[i] = (a + b) * (float) M_SQRT1_2;
				out[i + h] = (a - b) * (float) M_SQRT1_2;
			}
		}
	}
}

/*
 * Inputs up to 2^100 per element are rotated as they are.  The transform
 * sums up to Dp <= 2^14 elements before scaling, and a coordinate of the
 * result can reach |x| <= 2^7 max|x_i|, so larger inputs (a user may store
 * or query elements up to 3.4e38 = 2^128) would overflow in the middle of
 * the sums although the result is representable.  Those are scaled down by
 * a power of two first and back up after: exact, apart from elements that
 * fall below the float range on the way, which are far below the rounding
 * of the large ones anyway.  A result beyond the float range becomes
 * infinite, as the true value is.
 */
#define RQ_ROTATE_SAFE_EXP 100

void
rq_rotate(const rq_rotation *r, const float *x, float *out)
{
	float		maxabs = 0.0f;
	int			exp;

	for (int i = 0; i < r->dim; i++)
		maxabs = fabsf(x[i]) > maxabs ? fabsf(x[i]) : maxabs;
	(void) frexpf(maxabs, &exp);
	if (exp <= RQ_ROTATE_SAFE_EXP)
	{
		rq_rotate_fht(r, x, out);
		return;
	}
	/* out doubles as the scaled input (Dp >= D) */
	for (int i = 0; i < r->dim; i++)
		out[i] = ldexpf(x[i], RQ_ROTATE_SAFE_EXP - exp);
	rq_rotate_fht(r, out, out);
	for (int i = 0; i < r->dp; i++)
		out[i] = ldexpf(out[i], exp - RQ_ROTATE_SAFE_EXP);
}
