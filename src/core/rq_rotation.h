/*
 * rq_rotation.h
 *	  The random orthogonal rotation P of RABITQ.md 1.3, in two kinds:
 *
 *	  dense	   a Haar-distributed Dp x Dp matrix: Gaussian entries from PCG32,
 *			   QR by LAPACK (sgeqrf + sorgqr), columns sign-corrected by
 *			   diag(R).  Applied with BLAS (sgemv, sgemm for batches); see
 *			   rq_blas.h for how BLAS is bound.
 *			   Dp^2 floats, so the index stores the matrix itself: every
 *			   server, replica and CPU then uses the same bits.
 *	  fht-kac  four rounds of random signs + normalised Walsh-Hadamard
 *			   transform (+ a 45-degree Kac butterfly when Dp is not a power of
 *			   two).  O(Dp log Dp); its whole state is the seed (4 Dp signs).
 *
 * rot(x) = P pad(x), with pad appending Dp - D zeros.  Both kinds keep norms
 * to about 1e-7 relative and are deterministic for a seed.
 */
#ifndef RQ_ROTATION_H
#define RQ_ROTATION_H

#include "rq_types.h"

typedef enum rq_rotation_kind
{
	RQ_ROTATION_DENSE = 1,
	RQ_ROTATION_FHT_KAC = 2
} rq_rotation_kind;

#define RQ_FHT_ROUNDS 4

/*
 * A rotation for D-dimensional vectors.  The arrays belong to the caller
 * (rq_rotation_*_floats says how many floats each needs); the structure only
 * points at them.
 */
typedef struct rq_rotation
{
	rq_rotation_kind kind;
	int			dim;			/* D */
	int			dp;				/* Dp */
	const float *matrix;		/* dense: Dp x Dp, row-major; rot(x) = matrix * pad(x) */
	const float *signs;			/* fht-kac: RQ_FHT_ROUNDS x Dp values of +-1 */
} rq_rotation;

/* Floats of the dense matrix (Dp^2) and of the FHT-Kac signs (4 Dp). */
extern size_t rq_rotation_dense_floats(int dp);
extern size_t rq_rotation_fht_floats(int dp);

/* Floats of scratch memory rq_rotation_dense_generate needs. */
extern size_t rq_rotation_dense_work_floats(int dp);

/*
 * Fills matrix (Dp^2 floats) with a Haar-random orthogonal matrix for seed,
 * using work (rq_rotation_dense_work_floats floats) as scratch.
 */
extern rq_status rq_rotation_dense_generate(int dp, uint64_t seed, float *matrix,
											float *work);

/* Fills signs (4 Dp floats) with the random signs of the FHT-Kac rotation. */
extern void rq_rotation_fht_generate(int dp, uint64_t seed, float *signs);

/* Sets up r for D-dimensional input over an already generated state. */
extern void rq_rotation_init(rq_rotation *r, rq_rotation_kind kind, int dim,
							 const float *state);

/* out (Dp floats) = rot(x), x of D floats. */
extern void rq_rotate(const rq_rotation *r, const float *x, float *out);

/*
 * Rotates n vectors at once: x is n x D row-major, out n x Dp.  The dense
 * kind does one sgemm; fht-kac rotates each row.
 */
extern void rq_rotate_batch(const rq_rotation *r, const float *x, size_t n, float *out);

#endif							/* RQ_ROTATION_H */
