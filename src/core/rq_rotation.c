/*
 * rq_rotation.c
 *	  Dense Haar rotation (LAPACK QR, cblas) and the FHT-Kac rotation.
 */
#include "rq_rotation.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rq_blas.h"
#include "rq_random.h"

/* PCG32 streams: one per use of a seed, so the two kinds never share numbers. */
#define RQ_STREAM_DENSE 0x6465ULL
#define RQ_STREAM_FHT	0x6668ULL

size_t
rq_rotation_dense_floats(int dp)
{
	return (size_t) dp * (size_t) dp;
}

size_t
rq_rotation_fht_floats(int dp)
{
	return (size_t) RQ_FHT_ROUNDS * (size_t) dp;
}

/* Scratch of the dense generator: tau (Dp), sign(R_jj) (Dp), LAPACK work (64 Dp). */
#define RQ_DENSE_LWORK_BLOCKS 64

size_t
rq_rotation_dense_work_floats(int dp)
{
	return (size_t) dp * (2 + RQ_DENSE_LWORK_BLOCKS);
}

/*
 * Haar matrix: G Gaussian, G = QR, column j of Q times sign(R_jj) (Mezzadri,
 * "How to generate random matrices from the classical compact groups").
 * LAPACK works column-major, so Q's memory read row-major is Q^T, which is
 * itself Haar-distributed: rot(x) = Q^T x, one sgemv over row-major memory.
 */
rq_status
rq_rotation_dense_generate(int dp, uint64_t seed, float *matrix, float *work)
{
	rq_pcg32	rng;
	float	   *tau = work;
	float	   *sign = work + dp;
	float	   *lwork = work + 2 * (size_t) dp;
	int			nwork = dp * RQ_DENSE_LWORK_BLOCKS;

	if (dp < 1)
		return RQ_ERR_ARGUMENT;
	rq_pcg32_seed(&rng, seed, RQ_STREAM_DENSE);
	for (size_t i = 0; i < rq_rotation_dense_floats(dp); i++)
		matrix[i] = (float) rq_pcg32_gaussian(&rng);

	if (rq_sgeqrf(dp, dp, matrix, dp, tau, lwork, nwork) != 0)
		return RQ_ERR_LAPACK;
	/* R's diagonal is overwritten by sorgqr: keep its signs */
	for (int j = 0; j < dp; j++)
		sign[j] = matrix[(size_t) j * dp + j] < 0.0f ? -1.0f : 1.0f;
	if (rq_sorgqr(dp, dp, dp, matrix, dp, tau, lwork, nwork) != 0)
		return RQ_ERR_LAPACK;
	/* column j of Q is contiguous in column-major memory */
	for (int j = 0; j < dp; j++)
		rq_sscal(dp, sign[j], matrix + (size_t) j * dp);
	return RQ_OK;
}

void
rq_rotation_fht_generate(int dp, uint64_t seed, float *signs)
{
	rq_pcg32	rng;
	uint32_t	bits = 0;

	rq_pcg32_seed(&rng, seed, RQ_STREAM_FHT);
	for (size_t i = 0; i < rq_rotation_fht_floats(dp); i++)
	{
		if (i % 32 == 0)
			bits = rq_pcg32_next(&rng);
		signs[i] = (bits >> (i % 32)) & 1u ? -1.0f : 1.0f;
	}
}

void
rq_rotation_init(rq_rotation *r, rq_rotation_kind kind, int dim, const float *state)
{
	r->kind = kind;
	r->dim = dim;
	r->dp = rq_padded_dim(dim);
	r->matrix = (kind == RQ_ROTATION_DENSE) ? state : NULL;
	r->signs = (kind == RQ_ROTATION_FHT_KAC) ? state : NULL;
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
 * FHT-Kac (RABITQ.md 1.3 option B): four rounds of sign flip, FWHT on the
 * first T coordinates (odd rounds) or the last T (even rounds), T the largest
 * power of two <= Dp, and, when T < Dp, a 45-degree butterfly between the two
 * halves so every coordinate mixes with every other.
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
	memmove(out, x, sizeof(float) * r->dim);	/* x may be out (rq_rotate) */
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
 * Inputs up to 2^100 per element are rotated as they are.  The transforms
 * sum up to Dp <= 2^14 elements before scaling, and a coordinate of the
 * result can reach |x| <= 2^7 max|x_i|, so larger inputs (a user may store
 * or query elements up to 3.4e38 = 2^128) would overflow in the middle of
 * the sums although the result is representable.  Those are scaled down by
 * a power of two first and back up after: exact, apart from elements that
 * fall below the float range on the way, which are far below the rounding
 * of the large ones anyway.  A result beyond the float range becomes
 * infinite, as the true value is.
 */
#define RQ_ROTATE_SAFE_EXP 100

static void
rq_rotate_plain(const rq_rotation *r, const float *x, float *out)
{
	if (r->kind == RQ_ROTATION_FHT_KAC)
		rq_rotate_fht(r, x, out);
	else						/* only the first D columns meet non-zero input */
		rq_sgemv(r->dp, r->dim, r->matrix, r->dp, x, out);
}

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
		rq_rotate_plain(r, x, out);
		return;
	}
	if (r->kind == RQ_ROTATION_FHT_KAC)
	{
		/* FHT-Kac works in place: out doubles as the scaled input (Dp >= D) */
		for (int i = 0; i < r->dim; i++)
			out[i] = ldexpf(x[i], RQ_ROTATE_SAFE_EXP - exp);
		rq_rotate_fht(r, out, out);
	}
	else
	{
		float	   *scaled = malloc(sizeof(float) * r->dim);

		if (scaled == NULL)
		{
			rq_rotate_plain(r, x, out);
			return;
		}
		for (int i = 0; i < r->dim; i++)
			scaled[i] = ldexpf(x[i], RQ_ROTATE_SAFE_EXP - exp);
		rq_rotate_plain(r, scaled, out);
		free(scaled);
	}
	for (int i = 0; i < r->dp; i++)
		out[i] = ldexpf(out[i], exp - RQ_ROTATE_SAFE_EXP);
}

void
rq_rotate_batch(const rq_rotation *r, const float *x, size_t n, float *out)
{
	if (r->kind == RQ_ROTATION_FHT_KAC)
	{
		for (size_t i = 0; i < n; i++)
			rq_rotate(r, x + i * r->dim, out + i * r->dp);
		return;
	}
	/* out (n x Dp) = X (n x D) * M[:, :D]^T */
	rq_sgemm_abt((int) n, r->dp, r->dim, x, r->dim, r->matrix, r->dp, out, r->dp);
}
