/*
 * rq_testrot.c
 *	  The test rotations: the dense Haar reference and the index's FHT-Kac.
 */
#include "rq_testrot.h"

#include <cblas.h>
#include <lapacke.h>
#include <stdlib.h>

#include "core/rq_random.h"
#include "rq_test.h"

/* PCG32 stream of the dense matrix's Gaussians. */
#define RQ_STREAM_DENSE 0x6465ULL

/*
 * Haar matrix: G Gaussian, G = QR, column j of Q times sign(R_jj) (Mezzadri,
 * "How to generate random matrices from the classical compact groups").
 * LAPACK works column-major, so Q's memory read row-major is Q^T, which is
 * itself Haar-distributed: rot(x) = Q^T x, one sgemv over row-major memory.
 */
static void
dense_generate(int dp, uint64_t seed, float *matrix)
{
	rq_pcg32	rng;
	float	   *tau = rq_test_alloc(sizeof(float) * dp);
	float	   *sign = rq_test_alloc(sizeof(float) * dp);

	rq_pcg32_seed(&rng, seed, RQ_STREAM_DENSE);
	for (size_t i = 0; i < (size_t) dp * dp; i++)
		matrix[i] = (float) rq_pcg32_gaussian(&rng);
	RQ_CHECK(LAPACKE_sgeqrf(LAPACK_COL_MAJOR, dp, dp, matrix, dp, tau) == 0, "sgeqrf dp=%d", dp);
	/* R's diagonal is overwritten by sorgqr: keep its signs */
	for (int j = 0; j < dp; j++)
		sign[j] = matrix[(size_t) j * dp + j] < 0.0f ? -1.0f : 1.0f;
	RQ_CHECK(LAPACKE_sorgqr(LAPACK_COL_MAJOR, dp, dp, dp, matrix, dp, tau) == 0, "sorgqr dp=%d", dp);
	/* column j of Q is contiguous in column-major memory */
	for (int j = 0; j < dp; j++)
		cblas_sscal(dp, sign[j], matrix + (size_t) j * dp, 1);
	free(tau);
	free(sign);
}

void
rq_test_rotation_make(rq_test_rotation *r, rq_test_rotation_kind kind, int dim, uint64_t seed)
{
	r->kind = kind;
	r->dim = dim;
	r->dp = rq_padded_dim(dim);
	if (kind == RQ_TEST_DENSE)
	{
		r->state = rq_test_alloc(sizeof(float) * r->dp * r->dp);
		dense_generate(r->dp, seed, r->state);
	}
	else
	{
		r->state = rq_test_alloc(sizeof(float) * rq_rotation_floats(r->dp));
		rq_rotation_generate(r->dp, seed, r->state);
		rq_rotation_init(&r->fht, dim, r->state);
	}
}

void
rq_test_rotation_free(rq_test_rotation *r)
{
	free(r->state);
	r->state = NULL;
}

void
rq_test_rotate(const rq_test_rotation *r, const float *x, float *out)
{
	if (r->kind == RQ_TEST_FHT_KAC)
		rq_rotate(&r->fht, x, out);
	else						/* only the first D columns meet non-zero input */
		cblas_sgemv(CblasRowMajor, CblasNoTrans, r->dp, r->dim, 1.0f, r->state, r->dp, x, 1, 0.0f,
					out, 1);
}

void
rq_test_rotate_batch(const rq_test_rotation *r, const float *x, size_t n, float *out)
{
	if (r->kind == RQ_TEST_FHT_KAC)
	{
		for (size_t i = 0; i < n; i++)
			rq_rotate(&r->fht, x + i * r->dim, out + i * r->dp);
		return;
	}
	/* out (n x Dp) = X (n x D) * M[:, :D]^T */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int) n, r->dp, r->dim, 1.0f, x, r->dim,
				r->state, r->dp, 0.0f, out, r->dp);
}

const char *
rq_test_rotation_name(rq_test_rotation_kind kind)
{
	return kind == RQ_TEST_DENSE ? "dense" : "fht-kac";
}
