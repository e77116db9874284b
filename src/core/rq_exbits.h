/*
 * rq_exbits.h
 *	  Extended RaBitQ (doc/RABITQ.md 4; Gao et al., arXiv 2409.09913): B = 2..8 bits
 *	  per dimension, the 1-bit code's sign bit plus an ex-code of ex = B - 1
 *	  bits, so the hot 1-bit code is reused and only the ex-code is extra.
 *
 *	  k_i = min(floor(t |r_i| / ||r||), 2^ex - 1) for the rescale t that
 *	  maximises cos(k + 1/2, |r|), found exactly by sweeping the critical
 *	  points t = m / o_i in increasing order;
 *	  e_i = b_i ? k_i : 2^ex - 1 - k_i, so x_i = u_i - (2^B - 1)/2 with
 *	  u_i = (b_i << ex) | e_i equals sign(r_i) (k_i + 1/2).
 *
 * The ex-code is stored as ex bit planes packed like the 1-bit code.  The
 * estimate uses the float residual query y:
 *	  <x, y> = 2^ex <b, y> + <e, y> - (2^B - 1)/2 sum y
 *	  <r, y> ~ fr <x, y>,  fr = ||r||^2 / <x, r>
 * with error bound eps * err * ||y|| for L2 (err/2 for IP and cosine), the
 * same form as the 1-bit bound and about 2^-(B-1) of its size.
 */
#ifndef RQ_EXBITS_H
#define RQ_EXBITS_H

#include "rq_query.h"
#include "rq_quantize.h"

#define RQ_EX_MAX_BITS 7		/* B = ex + 1 <= 8 */

typedef struct rq_ex_factors
{
	float		fr;				/* ||r||^2 / <x, r> */
	float		err;			/* error factor (eps excluded) */
} rq_ex_factors;

/* uint64 words of an ex-code: ex_bits planes of Dp bits. */
static inline size_t
rq_ex_code_words(int dp, int ex_bits)
{
	return (size_t) ex_bits * (size_t) rq_code_words(dp);
}

/* Bytes of scratch rq_ex_quantize needs. */
extern size_t rq_ex_work_bytes(int dp);

/*
 * Ex-code (rq_ex_code_words words) and factors of residual r with
 * ex_bits = 1..RQ_EX_MAX_BITS, by the exact critical-point search.
 * Also returns the cosine it reached, cos(x, r) (<o-bar, o> for B bits).
 */
extern double rq_ex_quantize(const float *r, int dp, int ex_bits, uint64_t *ex_code,
							 rq_ex_factors *f, void *work);

/* <x, y> from the 1-bit code, the ex-code and the float residual query y. */
extern double rq_ex_dot(const uint64_t *code, const uint64_t *ex_code, int ex_bits,
						const float *y, int dp);

/*
 * B-bit estimate of the distance (same conventions as rq_estimate) and its
 * lower bound, from <x, y>, the 1-bit factors (for add) and the ex factors.
 */
extern float rq_ex_estimate(const rq_list_query *lq, const rq_factors *f1,
							const rq_ex_factors *fx, double xy, float eps, float *lb);

#endif							/* RQ_EXBITS_H */
