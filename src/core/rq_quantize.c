/*
 * rq_quantize.c
 *	  1-bit RaBitQ quantization of one residual (doc/RABITQ.md 1.4).
 */
#include "rq_quantize.h"

#include <math.h>
#include <string.h>

rq_status
rq_preprocess(rq_metric metric, const float *x, int dim, float *out)
{
	double		norm2 = 0.0;

	memcpy(out, x, sizeof(float) * dim);
	if (metric != RQ_METRIC_COSINE)
		return RQ_OK;
	for (int i = 0; i < dim; i++)
		norm2 += (double) x[i] * x[i];
	if (norm2 == 0.0)
		return RQ_ERR_ZERO_VECTOR;
	for (int i = 0; i < dim; i++)
		out[i] = (float) (x[i] / sqrt(norm2));
	return RQ_OK;
}

void
rq_quantize(const float *r, const float *c_rot, int dp, rq_metric metric,
			uint64_t *code, rq_factors *f)
{
	double		n2 = 0.0,
				l1 = 0.0,
				ip_oc = 0.0;
	double		fr,
				spread;

	memset(code, 0, sizeof(uint64_t) * rq_code_words(dp));
	for (int i = 0; i < dp; i++)
	{
		double		v = r[i];

		n2 += v * v;
		l1 += fabs(v);
		if (v > 0.0)
			code[i / 64] |= UINT64_C(1) << (i % 64);
		if (metric == RQ_METRIC_IP)
			ip_oc += v * c_rot[i];
	}

	f->add = (float) (metric == RQ_METRIC_IP ? ip_oc : n2);
	if (l1 == 0.0)
	{
		/* degenerate residual (o == c): the estimate is exactly ||y||^2 */
		f->a = f->err = 0.0f;
		return;
	}
	fr = n2 / l1;
	/* Dp ||r||^2 / ||r||_1^2 - 1 = (1 - x0^2) / x0^2, never negative in exact math */
	spread = (double) dp * n2 / (l1 * l1) - 1.0;
	f->a = (float) (-2.0 * fr);
	f->err = rq_err_round_up(2.0 * sqrt(n2) * sqrt((spread > 0.0 ? spread : 0.0) / (dp - 1)));
}

float
rq_err_round_up(double x)
{
	float		f = (float) x;
	uint32_t	bits;

	if (isnan(f) || isinf(f))
		return f;
	if ((double) f < x)
		f = nextafterf(f, INFINITY);
	memcpy(&bits, &f, sizeof(bits));
	if ((bits & 0xFFFFu) != 0)
		bits = (bits | 0xFFFFu) + 1u;	/* the next bfloat16 up (0x7F800000: +infinity) */
	memcpy(&f, &bits, sizeof(f));
	return f;
}

double
rq_factors_residual2(const rq_factors *f, int dp, rq_metric metric)
{
	double		r2;

	if (metric != RQ_METRIC_IP)
		return f->add;
	r2 = dp * ((double) f->a / 2) * ((double) f->a / 2) - (dp - 1) * (double) f->err * f->err / 4;
	return r2 > 0.0 ? r2 : 0.0;
}

double
rq_code_cosine(const float *r, int dp)
{
	double		n2 = 0.0,
				l1 = 0.0;

	for (int i = 0; i < dp; i++)
	{
		n2 += (double) r[i] * r[i];
		l1 += fabs((double) r[i]);
	}
	return (n2 > 0.0) ? l1 / (sqrt((double) dp) * sqrt(n2)) : 0.0;
}
