/*
 * rq_exbits.h
 *	  Extended RaBitQ (doc/RABITQ.md 4; Gao et al., arXiv 2409.09913): a
 *	  B-bit code of a residual, B = 2..8, for the refining stage of a scan.
 *
 *	  k_i = min(floor(t |r_i| / ||r||), 2^(B-1) - 1) for the rescale t that
 *	  maximises cos(k + 1/2, |r|), found exactly by sweeping the critical
 *	  points t = m / o_i in increasing order, or (what the index uses) on a
 *	  grid around the typical rescale;
 *	  u_i = r_i > 0 ? 2^(B-1) + k_i : 2^(B-1) - 1 - k_i, in [0, 2^B), so that
 *	  x_i = u_i - (2^B - 1) / 2 = sign(r_i) (k_i + 1/2).
 *
 * The code holds every u_i, sign included, so the refining stage needs
 * nothing from the 1-bit code: packed two to a byte for B <= 4 (dimension
 * 2j in the low nibble of byte j, 2j + 1 in the high one), one to a byte
 * beyond.  The query side is y = q' - c' rounded to 8 bits (255 steps);
 * the kernels compute integer sums exactly, so every instruction-set level
 * agrees bit for bit:
 *
 *	  uq = sum u_i q_i,  u = sum u_i,  uu = sum u_i^2
 *	  <x, y~> = vl (u - h Dp) + delta (uq - h sum q),  h = (2^B - 1) / 2
 *	  ||x||^2 = uu - 2 h u + h^2 Dp
 *	  <r, y> ~ fr <x, y>,  fr = ||r||^2 / <x, r>
 *
 * The estimate has the 1-bit stage's form (rq_estimate.h) with
 * t = -2 fr <x, y~>, and its bound the same two terms in quadrature: the
 * code's error err * ||y|| (err about 2^-(B-1) of the 1-bit one) and the
 * query's 2 fr ||x|| delta / sqrt(12).
 */
#ifndef RQ_EXBITS_H
#define RQ_EXBITS_H

#include "rq_query.h"
#include "rq_quantize.h"

#define RQ_EX_MIN_BITS 2
#define RQ_EX_MAX_BITS 8		/* B: total bits per dimension */

/* Factors of a B-bit code (beside the entry's `add`, rq_factors.add). */
typedef struct rq_ex_factors
{
	float		fr;				/* ||r||^2 / <x, r> */
	float		err;			/* error factor in t = -2 <r, y> (eps excluded) */
} rq_ex_factors;

/* Bytes of a B-bit code of Dp dimensions: nibbles up to B = 4, bytes beyond. */
static inline size_t
rq_ex_code_bytes(int dp, int bits)
{
	return bits <= 4 ? (size_t) dp / 2 : (size_t) dp;
}

/* u_i of a packed B-bit code. */
static inline int
rq_ex_level(const uint8_t *code, int bits, int i)
{
	if (bits > 4)
		return code[i];
	return (code[i / 2] >> (4 * (i % 2))) & 0x0F;
}

/* Bytes of scratch the quantizers need. */
extern size_t rq_ex_work_bytes(int dp);

/*
 * The B-bit code (rq_ex_code_bytes) and factors of residual r (Dp floats)
 * by the exact critical-point search, O(Dp 2^B log Dp): the reference.
 * Returns the cosine it reached, cos(x, r) (<o-bar, o> for B bits).
 */
extern double rq_ex_quantize_exact(const float *r, int dp, int bits, uint8_t *code,
								   rq_ex_factors *f, void *work);

/* The grid the fast quantizer searches for one (Dp, B). */
typedef struct rq_ex_quantizer
{
	int			dp;
	int			bits;
	float		t_lo;			/* first rescale of the coarse grid (times ||r||) */
	float		t_step;
} rq_ex_quantizer;

/* Sets up the grid: the mean exact rescale of 32 seeded Gaussian residuals. */
extern void rq_ex_quantizer_init(rq_ex_quantizer *qz, int dp, int bits, void *work);

/* The same code by a grid search of the rescale, O(Dp) per point: what the index uses. */
extern double rq_ex_quantize(const rq_ex_quantizer *qz, const float *r, uint8_t *code,
							 rq_ex_factors *f, void *work);

/* The refining query of one list: y = q' - c' rounded to 8 bits. */
typedef struct rq_ex_query
{
	int			dp;
	int			bits;			/* the codes' B: sets q's layout */
	rq_metric	metric;
	float		vl;				/* min y */
	float		delta;			/* (max y - min y) / 255 */
	int64_t		sum_q;
	float		add;			/* ||y||^2 (L2, cosine) or <q', c'> (IP) */
	float		ynorm;			/* ||y|| */
	const uint8_t *q;			/* Dp levels: for B <= 4 even dimensions, then odd */
} rq_ex_query;

/*
 * Prepares eq for rotated query q_rot against rotated centroid c_rot (a
 * zero centroid is allowed: the codes of postings are taken from the
 * origin), writing the Dp levels into q, which eq keeps pointing at.
 */
extern void rq_prepare_ex_query(const float *q_rot, const float *c_rot, int dp, int bits,
								rq_metric metric, uint8_t *q, rq_ex_query *eq);

/* The same from the residual's stats, when the caller has them (rq_residual_stats_of). */
extern void rq_prepare_ex_query_from(const float *q_rot, const float *c_rot, int dp, int bits,
									 rq_metric metric, const rq_residual_stats *st, uint8_t *q,
									 rq_ex_query *eq);

/* The integer sums of a code against a query (the kernels' output). */
typedef struct rq_ex_sums
{
	int64_t		uq;
	int64_t		u;
	int64_t		uu;
} rq_ex_sums;

/*
 * The estimate of an entry from the sums, its `add` factor (rq_factors.add
 * of the same residual) and B-bit factors; *lb receives the lower bound at
 * eps.
 */
extern float rq_ex_estimate(const rq_ex_query *eq, float add, const rq_ex_factors *f,
							const rq_ex_sums *s, float eps, float *lb);

#endif							/* RQ_EXBITS_H */
