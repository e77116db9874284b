/*
 * rq_rotation.h
 *	  The random orthogonal rotation P of doc/RABITQ.md 1.3, as FHT-Kac: four
 *	  rounds of random signs and a normalised Walsh-Hadamard transform (with a
 *	  45-degree Kac butterfly when Dp is not a power of two).  O(Dp log Dp),
 *	  and its whole state is the seed (4 Dp signs), so every server, replica
 *	  and CPU rebuilds the same rotation from the metapage.
 *
 * A dense Haar matrix (Gaussian, QR, sign-corrected) is what the paper
 * uses; it measured no more accurate than FHT-Kac at any dimension
 * (doc/RABITQ.md 9.4, and the unit tests compare the two), costs Dp^2
 * floats per index and LAPACK at run time, so the index does not use it:
 * it lives in the tests (test/unit/rq_testrot.c) as the reference.
 *
 * rot(x) = P pad(x), with pad appending Dp - D zeros.  Norms kept to about
 * 1e-7 relative; deterministic for a seed.
 */
#ifndef RQ_ROTATION_H
#define RQ_ROTATION_H

#include "rq_types.h"

/* The rotation kind an index records in its metapage (1 was reserved for dense). */
#define RQ_ROTATION_FHT_KAC 2

#define RQ_FHT_ROUNDS 4

/*
 * A rotation for D-dimensional vectors.  The signs belong to the caller
 * (rq_rotation_floats of them); the structure only points at them.
 */
typedef struct rq_rotation
{
	int			dim;			/* D */
	int			dp;				/* Dp */
	const float *signs;			/* RQ_FHT_ROUNDS x Dp values of +-1 */
} rq_rotation;

/* Floats of the state: 4 Dp signs. */
extern size_t rq_rotation_floats(int dp);

/* Fills signs (rq_rotation_floats floats) with the random signs for seed. */
extern void rq_rotation_generate(int dp, uint64_t seed, float *signs);

/* Sets up r for D-dimensional input over generated signs. */
extern void rq_rotation_init(rq_rotation *r, int dim, const float *signs);

/* out (Dp floats) = rot(x), x of D floats. */
extern void rq_rotate(const rq_rotation *r, const float *x, float *out);

#endif							/* RQ_ROTATION_H */
