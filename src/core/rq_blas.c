/*
 * rq_blas.c
 *	  The BLAS call table and its wrappers.
 */
#include "rq_blas.h"

#include <cblas.h>

static struct
{
	__typeof__(cblas_sgemm) *sgemm;
	__typeof__(cblas_sgemv) *sgemv;
	__typeof__(cblas_sscal) *sscal;
	int			bound;
}			rq_blas;

rq_status
rq_blas_bind(rq_symbol_lookup lookup, void *ctx, const char **missing)
{
	static const char *const names[] = {"cblas_sgemm", "cblas_sgemv", "cblas_sscal"};
	void	   *found[3];

	for (int i = 0; i < 3; i++)
	{
		found[i] = lookup(ctx, names[i]);
		if (found[i] == NULL)
		{
			*missing = names[i];
			return RQ_ERR_ARGUMENT;
		}
	}
	rq_blas.sgemm = (__typeof__(cblas_sgemm) *) found[0];
	rq_blas.sgemv = (__typeof__(cblas_sgemv) *) found[1];
	rq_blas.sscal = (__typeof__(cblas_sscal) *) found[2];
	rq_blas.bound = 1;
	return RQ_OK;
}

int
rq_blas_bound(void)
{
	return rq_blas.bound;
}

void
rq_sgemm_abt(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
			 float *c, int ldc)
{
	rq_blas.sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, lda, b, ldb,
				  0.0f, c, ldc);
}

void
rq_sgemv(int m, int n, const float *a, int lda, const float *x, float *y)
{
	rq_blas.sgemv(CblasRowMajor, CblasNoTrans, m, n, 1.0f, a, lda, x, 1, 0.0f, y, 1);
}

void
rq_sscal(int n, float alpha, float *x)
{
	rq_blas.sscal(n, alpha, x, 1);
}
