/*
 * rq_query.c
 *	  Residual query, 4-bit scalar quantization and bit planes.
 */
#include "rq_query.h"

#include "rq_estimate.h"

#include <math.h>
#include <string.h>

#define RQ_QUERY_LEVELS ((1 << RQ_QUERY_BITS) - 1)

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

		sum_q += (int32_t) rq_codes.query_levels(q_rot + w * 64, c_rot + w * 64, 64, vl, lq->delta,
												 inv_delta, RQ_QUERY_LEVELS, level);
		if (q_u != NULL)
			memcpy(q_u + w * 64, level, sizeof(level));
		rq_codes.bit_planes(level, RQ_QUERY_BITS, planes + w, (size_t) words);
	}
	lq->sum_q = sum_q;
	lq->add = (float) (metric == RQ_METRIC_IP ? qc : y2);
	lq->ynorm = (float) sqrt(y2);
	lq->planes = planes;
}
