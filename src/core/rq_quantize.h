/*
 * rq_quantize.h
 *	  The 1-bit RaBitQ code of a vector and its per-vector factors
 *	  (doc/RABITQ.md 1.1 and 1.4), and the metric preprocessing.
 *
 * Input is the rotated residual r = rot(o) - c' (Dp floats).  Output:
 *   code	Dp bits, dimension i is bit i % 64 of word i / 64; b_i = r_i > 0
 *   factors three floats, computed in double:
 *	   add	||r||^2 for L2 and cosine; <r, c'> for inner product
 *	   a	-2 ||r||^2 / ||r||_1  (multiplies the integer dot product)
 *	   err	2 ||r|| sqrt((Dp ||r||^2 / ||r||_1^2 - 1) / (Dp - 1))  (eps0 excluded),
 *			rounded up to 8 significant bits (rq_err_round_up), the
 *			precision blocks store it with
 *   and a fourth the estimator derives from a and the code: a (2 pop - Dp),
 *   which multiplies v_l (pop = the code's set bits).
 * A zero residual gives a = err = 0, which makes the estimate exact.
 */
#ifndef RQ_QUANTIZE_H
#define RQ_QUANTIZE_H

#include "rq_types.h"

typedef struct rq_factors
{
	float		add;
	float		a;
	float		err;
} rq_factors;

/*
 * x rounded up to a float whose low 16 bits are zero (a bfloat16: float's
 * range, 8 significant bits), so that the error bound a block keeps is
 * never narrower than the one computed: +infinity beyond the largest such
 * value; NaN and infinities stay as they are.  x >= 0.
 */
extern float rq_err_round_up(double x);

/*
 * Metric preprocessing of a D-float vector into out: a copy for L2 and inner
 * product, the unit vector for cosine.  RQ_ERR_ZERO_VECTOR for a zero vector
 * under cosine (its direction, hence its distance, is undefined).
 */
extern rq_status rq_preprocess(rq_metric metric, const float *x, int dim, float *out);


/*
 * Quantizes the rotated residual r (Dp floats).  c_rot, the rotated centroid,
 * is needed for RQ_METRIC_IP only (may be NULL otherwise).
 */
extern void rq_quantize(const float *r, const float *c_rot, int dp, rq_metric metric,
						uint64_t *code, rq_factors *f);

/*
 * ||r||^2 of an entry from its factors: for L2 and cosine it is `add`; under
 * inner product, from a = -2 ||r||^2 / ||r||_1 and err (see above):
 * ||r||^2 = Dp (a/2)^2 - (Dp - 1) err^2 / 4.
 */
extern double rq_factors_residual2(const rq_factors *f, int dp, rq_metric metric);

/* <o-bar, o> = ||r||_1 / (sqrt(Dp) ||r||): concentrates near 0.8 (diagnostic). */
extern double rq_code_cosine(const float *r, int dp);

#endif							/* RQ_QUANTIZE_H */
