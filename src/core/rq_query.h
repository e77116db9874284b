/*
 * rq_query.h
 *	  Query preparation for one probed list (doc/RABITQ.md 2.1-2.3): the residual
 *	  query y = q' - c', its deterministic 4-bit quantization and bit planes,
 *	  and the per-list constants the estimator folds in.
 *
 *	  q_u[i] = clamp(floor((y_i - v_l) / delta + 1/2), 0, 15),
 *	  delta = (max y - min y) / 15 (0 for a constant y: then q_u = 0),
 *	  plane j holds bit j of every q_u[i], packed like the codes.
 *
 * Deterministic rounding: identical queries give identical results, and its
 * error is slightly lower than randomized rounding's (doc/RABITQ.md 9.2).
 */
#ifndef RQ_QUERY_H
#define RQ_QUERY_H

#include <float.h>

#include "rq_types.h"

typedef struct rq_list_query
{
	int			dp;
	rq_metric	metric;
	float		vl;				/* min_i y_i */
	float		delta;			/* quantization step */
	int32_t		sum_q;			/* sum_i q_u[i] */
	float		add;			/* ||y||^2 (L2, cosine) or <q', c'> (IP) */
	float		ynorm;			/* ||y|| */
	const uint64_t *planes;		/* RQ_QUERY_BITS planes of Dp bits */
} rq_list_query;

/*
 * What every query quantizer needs of the residual y = q_rot - c_rot (Dp
 * floats each): its range, ||y||^2 and <q_rot, c_rot>.
 */
typedef struct rq_residual_stats
{
	float		vl;				/* min_i y_i */
	float		vr;				/* max_i y_i */
	double		y2;				/* ||y||^2 */
	double		qc;				/* <q_rot, c_rot> */
} rq_residual_stats;

extern void rq_residual_stats_of(const float *q_rot, const float *c_rot, int dp, rq_residual_stats *st);

/*
 * Level of residual coordinate y on the grid vl + level * delta, 0 <= level
 * <= levels: round to nearest, clamped (faiss PR 4550).  inv is 1 / delta,
 * or 0 for delta 0.  Clamped in float before the conversion, as a float
 * outside int's range (1 / delta times y, say) must not be converted; and
 * when delta is so small (denormal) that 1 / delta overflows, y divides
 * instead, or every level would be lost.  Truncation is floor here, x being
 * at least 0 (floorf would be a libm call on plain x86-64, which lacks
 * SSE4.1).
 */
static inline int
rq_query_level(float y, float vl, float delta, float inv, int levels)
{
	float		x = (inv <= FLT_MAX ? (y - vl) * inv : (y - vl) / delta) + 0.5f;

	x = x > 0.0f ? x : 0.0f;	/* and NaN */
	x = x < (float) levels ? x : (float) levels;
	return (int) x;
}

/* uint64 words of the bit planes of one list query. */
static inline size_t
rq_query_plane_words(int dp)
{
	return (size_t) RQ_QUERY_BITS * (size_t) rq_code_words(dp);
}

/*
 * Prepares list query lq for rotated query q_rot against rotated centroid
 * c_rot (both Dp floats), writing the bit planes into planes
 * (rq_query_plane_words words, which lq keeps pointing at).  If q_u is not
 * NULL it receives the Dp quantized values (tests use them).
 */
extern void rq_prepare_list_query(const float *q_rot, const float *c_rot, int dp,
								  rq_metric metric, uint64_t *planes, uint8_t *q_u,
								  rq_list_query *lq);

/* The same from the residual's stats, when the caller has them (rq_residual_stats_of). */
extern void rq_prepare_list_query_from(const float *q_rot, const float *c_rot, int dp, rq_metric metric,
									   const rq_residual_stats *st, uint64_t *planes, uint8_t *q_u,
									   rq_list_query *lq);

#endif							/* RQ_QUERY_H */
