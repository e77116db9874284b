/*
 * rq_testrot.h
 *	  Rotations for the tests: the index's FHT-Kac (src/core/rq_rotation.h)
 *	  and, as the reference it is compared with, the dense Haar rotation of
 *	  the paper (doc/RABITQ.md 1.3 option A): Gaussian entries from PCG32, QR
 *	  by LAPACK (sgeqrf + sorgqr), columns sign-corrected by diag(R), applied
 *	  with BLAS.  The index does not use the dense kind (it measured no more
 *	  accurate, doc/RABITQ.md 9.4), so it lives here, with LAPACK.
 */
#ifndef RQ_TESTROT_H
#define RQ_TESTROT_H

#include <stddef.h>

#include "core/rq_rotation.h"

typedef enum rq_test_rotation_kind
{
	RQ_TEST_DENSE = 1,
	RQ_TEST_FHT_KAC = 2
} rq_test_rotation_kind;

typedef struct rq_test_rotation
{
	rq_test_rotation_kind kind;
	int			dim;
	int			dp;
	float	   *state;			/* dense: Dp x Dp row-major; fht-kac: the signs */
	rq_rotation fht;
} rq_test_rotation;

/* A rotation of kind for dim-dimensional vectors, generated from seed. */
extern void rq_test_rotation_make(rq_test_rotation *r, rq_test_rotation_kind kind, int dim,
								  uint64_t seed);
extern void rq_test_rotation_free(rq_test_rotation *r);

/* out (Dp floats) = rot(x), x of D floats. */
extern void rq_test_rotate(const rq_test_rotation *r, const float *x, float *out);

/* n rows at once (x n x D, out n x Dp); one sgemm for dense. */
extern void rq_test_rotate_batch(const rq_test_rotation *r, const float *x, size_t n, float *out);

extern const char *rq_test_rotation_name(rq_test_rotation_kind kind);

#endif							/* RQ_TESTROT_H */
