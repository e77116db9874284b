/*
 * rq_blas.h
 *	  The few BLAS routines the core uses (k-means), called through a table
 *	  that is bound at run time.
 *
 * OpenBLAS starts its worker threads in a load-time constructor unless
 * OPENBLAS_NUM_THREADS=1 is already in the environment, and
 * openblas_set_num_threads(1) does not stop them afterwards.  Linked into the
 * extension, it would add a thread per core to every backend that merely
 * uses the vector type.  So the PostgreSQL layer sets the variable and then
 * loads the libraries with dlopen, on first need, and binds this table
 * (src/blas_loader.c); the unit tests bind it to the linked libraries.
 */
#ifndef RQ_BLAS_H
#define RQ_BLAS_H

#include "rq_types.h"

/* Resolves a symbol name to its address, or NULL. */
typedef void *(*rq_symbol_lookup) (void *ctx, const char *name);

/* Binds every routine through lookup; RQ_ERR_ARGUMENT names the first missing one. */
extern rq_status rq_blas_bind(rq_symbol_lookup lookup, void *ctx, const char **missing);

/* True once rq_blas_bind has succeeded. */
extern int	rq_blas_bound(void);

/* C (m x n) = A (m x k) * B^T, B stored n x k; all row-major. */
extern void rq_sgemm_abt(int m, int n, int k, const float *a, int lda, const float *b,
						 int ldb, float *c, int ldc);

/* y (m) = A (m x n, row-major, leading dimension lda) * x (n). */
extern void rq_sgemv(int m, int n, const float *a, int lda, const float *x, float *y);

/* x *= alpha over n floats. */
extern void rq_sscal(int n, float alpha, float *x);

#endif							/* RQ_BLAS_H */
