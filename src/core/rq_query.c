/*
 * rq_query.c
 *	  Residual query, 4-bit scalar quantization and bit planes.
 */
#include "rq_query.h"

#include <math.h>
#include <string.h>

#define RQ_QUERY_LEVELS ((1 << RQ_QUERY_BITS) - 1)

/*
 * Bit j of each of the 64 levels, coordinate b in bit b: eight levels at a
 * time, their bits j gathered into one byte by a multiply (the byte lanes'
 * 0/1 values land on distinct bits of the product's top byte, no carries).
 */
static inline uint64_t
rq_bit_plane(const uint8_t *level, int j)
{
	uint64_t	plane = 0;

	for (int g = 0; g < 8; g++)
	{
		uint64_t	x = 0;

		for (int i = 0; i < 8; i++)	/* one load on a little-endian CPU */
			x |= (uint64_t) level[8 * g + i] << (8 * i);
		x = (x >> j) & UINT64_C(0x0101010101010101);
		plane |= ((x * UINT64_C(0x0102040810204080)) >> 56) << (8 * g);
	}
	return plane;
}

void
rq_residual_stats_of(const float *q_rot, const float *c_rot, int dp, rq_residual_stats *st)
{
	float		vl = INFINITY,
				vr = -INFINITY;
	double		y2 = 0.0,
				qc = 0.0;

	for (int i = 0; i < dp; i++)
	{
		float		y = q_rot[i] - c_rot[i];

		vl = y < vl ? y : vl;	/* not fminf: a libm call unless -ffast-math */
		vr = y > vr ? y : vr;
		y2 += (double) y * y;
		qc += (double) q_rot[i] * c_rot[i];
	}
	st->vl = vl;
	st->vr = vr;
	st->y2 = y2;
	st->qc = qc;
}

void
rq_prepare_list_query(const float *q_rot, const float *c_rot, int dp, rq_metric metric,
					  uint64_t *planes, uint8_t *q_u, rq_list_query *lq)
{
	rq_residual_stats st;

	rq_residual_stats_of(q_rot, c_rot, dp, &st);
	rq_prepare_list_query_from(q_rot, c_rot, dp, metric, &st, planes, q_u, lq);
}

void
rq_prepare_list_query_from(const float *q_rot, const float *c_rot, int dp, rq_metric metric,
						   const rq_residual_stats *st, uint64_t *planes, uint8_t *q_u, rq_list_query *lq)
{
	int			words = rq_code_words(dp);
	float		vl,
				inv_delta;
	double		y2,
				qc;
	int32_t		sum_q = 0;

	vl = st->vl;
	y2 = st->y2;
	qc = st->qc;
	lq->dp = dp;
	lq->metric = metric;
	lq->vl = vl;
	lq->delta = (st->vr - vl) / (float) RQ_QUERY_LEVELS;
	/* a constant y (query on the centroid): delta = 0, every q_u = 0 */
	inv_delta = (lq->delta > 0.0f) ? 1.0f / lq->delta : 0.0f;

	for (int w = 0; w < words; w++)
	{
		uint8_t		level[64];

		for (int b = 0; b < 64; b++)
			level[b] = (uint8_t) rq_query_level(q_rot[w * 64 + b] - c_rot[w * 64 + b], vl, lq->delta,
											   inv_delta, RQ_QUERY_LEVELS);
		for (int b = 0; b < 64; b++)
			sum_q += level[b];
		if (q_u != NULL)
			memcpy(q_u + w * 64, level, sizeof(level));
		for (int j = 0; j < RQ_QUERY_BITS; j++)
			planes[(size_t) j * words + w] = rq_bit_plane(level, j);
	}
	lq->sum_q = sum_q;
	lq->add = (float) (metric == RQ_METRIC_IP ? qc : y2);
	lq->ynorm = (float) sqrt(y2);
	lq->planes = planes;
}
