/*
 * rq_encode.c
 *	  Vectors and queries into rotated form, rotated vectors into entries.
 */
#include "rq_encode.h"

#include <math.h>

#include "rq_distance.h"

/* Inner-product queries beyond 2^QUERY_SAFE_EXP per element are scaled. */
#define RQ_QUERY_SAFE_EXP 60

rq_status
rq_encode_vector(const rq_rotation *rot, rq_metric metric, const float *x, float *prep,
				 float *rotated)
{
	rq_status	status = rq_preprocess(metric, x, rot->dim, prep);

	if (status == RQ_OK && rotated != NULL)
		rq_rotate(rot, prep, rotated);
	return status;
}

rq_status
rq_encode_query(const rq_rotation *rot, rq_metric metric, const float *x, float *prep,
				float *rotated, int *scale_exp)
{
	rq_status	status = rq_preprocess(metric, x, rot->dim, prep);
	float		maxabs = 0.0f;
	int			exp;

	*scale_exp = 0;
	if (status != RQ_OK)
		return status;
	if (metric == RQ_METRIC_IP)
	{
		for (int i = 0; i < rot->dim; i++)
			maxabs = fabsf(prep[i]) > maxabs ? fabsf(prep[i]) : maxabs;
		(void) frexpf(maxabs, &exp);
		if (exp > RQ_QUERY_SAFE_EXP)
		{
			*scale_exp = exp - RQ_QUERY_SAFE_EXP;
			for (int i = 0; i < rot->dim; i++)
				prep[i] = ldexpf(prep[i], -*scale_exp);
		}
	}
	rq_rotate(rot, prep, rotated);
	return RQ_OK;
}

rq_status
rq_encode_entry(const float *rotated, const float *c, int dp, rq_metric metric, float *residual,
				uint64_t *code, rq_factors *f, float *residual2)
{
	for (int i = 0; i < dp; i++)
		residual[i] = rotated[i] - c[i];
	*residual2 = rq_dist.dot(residual, residual, dp);
	rq_quantize(residual, c, dp, metric, code, f);
	/* a Dp bounds the estimator's a (2 pop - Dp), |2 pop - Dp| <= Dp */
	if (!isfinite(f->add) || !isfinite(f->a) || !isfinite(f->a * (float) dp) || !isfinite(f->err))
		return RQ_ERR_OVERFLOW;
	return RQ_OK;
}

rq_status
rq_encode_ex(const rq_ex_quantizer *qz, const float *residual, uint8_t *code, rq_ex_factors *f,
			 void *work)
{
	rq_ex_quantize(qz, residual, code, f, work);
	if (!isfinite(f->fr) || !isfinite(f->err))
		return RQ_ERR_OVERFLOW;
	return RQ_OK;
}
