/*
 * rq_exbits.c
 *	  Extended RaBitQ: exact rescale search, packed B-bit codes, the 8-bit
 *	  refining query and the B-bit estimate (rq_exbits.h).
 */
#include "rq_exbits.h"

#include <math.h>
#include <string.h>

#include "rq_estimate.h"
#include "rq_query.h"
#include "rq_random.h"

/* One pending critical point: dimension i reaches level k[i] + 1 at time t. */
typedef struct rq_event
{
	double		t;
	int32_t		dim;
} rq_event;

/* Scratch: the event heap (Dp), the levels (Dp) and a vector (Dp). */
size_t
rq_ex_work_bytes(int dp)
{
	return (size_t) dp * (sizeof(rq_event) + sizeof(int32_t) + sizeof(float));
}

static inline int
rq_event_before(const rq_event *a, const rq_event *b)
{
	return a->t < b->t || (a->t == b->t && a->dim < b->dim);
}

static void
rq_event_sift_down(rq_event *heap, int count, int i)
{
	rq_event	e = heap[i];

	for (;;)
	{
		int			child = 2 * i + 1;

		if (child >= count)
			break;
		if (child + 1 < count && rq_event_before(&heap[child + 1], &heap[child]))
			child++;
		if (!rq_event_before(&heap[child], &e))
			break;
		heap[i] = heap[child];
		i = child;
	}
	heap[i] = e;
}

/*
 * Sweeps the critical points t = m / o_i in increasing order (a heap holding
 * each dimension's next one) and applies the first `stop` of them to k, or
 * all of them when stop < 0.  Returns the number of events after which
 * cos(k + 1/2, o) was largest.  Events at the same t are applied together
 * before the value is compared, since they happen at the same rescale.
 */
static long
rq_sweep(const float *r, int dp, int maxk, long stop, rq_event *heap, int32_t *k, double *best_t)
{
	int			count = 0;
	double		num = 0.0,
				den = 0.25 * dp,
				best;
	long		done = 0,
				best_done = 0;

	for (int i = 0; i < dp; i++)
	{
		double		o = fabs((double) r[i]);

		k[i] = 0;
		num += 0.5 * o;
		if (o > 0.0 && maxk > 0)
			heap[count++] = (rq_event) {1.0 / o, i};
	}
	for (int i = count / 2 - 1; i >= 0; i--)
		rq_event_sift_down(heap, count, i);
	best = num / sqrt(den);

	while (count > 0 && (stop < 0 || done < stop))
	{
		rq_event	e = heap[0];
		int			i = e.dim;
		double		o = fabs((double) r[i]);

		/* level m = k_i + 1: numerator + o_i, sum of (k + 1/2)^2 + 2m */
		k[i]++;
		num += o;
		den += 2.0 * k[i];
		done++;
		if (k[i] < maxk)
			heap[0] = (rq_event) {(k[i] + 1) / o, i};
		else
			heap[0] = heap[--count];
		rq_event_sift_down(heap, count, 0);
		if ((count == 0 || heap[0].t != e.t) && num / sqrt(den) > best)
		{
			best = num / sqrt(den);
			best_done = done;
			if (best_t != NULL)
				*best_t = e.t;
		}
	}
	return best_done;
}

/* Packs levels k (the magnitudes) with r's signs into code; returns cos(x, r) and fills f. */
static double
rq_ex_pack(const float *r, int dp, int bits, const int32_t *k, uint8_t *code, rq_ex_factors *f)
{
	int			ex = bits - 1;
	double		n2 = 0.0,
				ip_rx = 0.0,
				xx = 0.0,
				x0,
				spread;

	memset(code, 0, rq_ex_code_bytes(dp, bits));
	for (int i = 0; i < dp; i++)
	{
		double		o = fabs((double) r[i]);
		int			u = (r[i] > 0.0f) ? (1 << ex) + k[i] : (1 << ex) - 1 - k[i];

		n2 += (double) r[i] * r[i];
		ip_rx += (k[i] + 0.5) * o;
		xx += (k[i] + 0.5) * (k[i] + 0.5);
		if (bits > 4)
			code[i] = (uint8_t) u;
		else
			code[i / 2] |= (uint8_t) (u << (4 * (i % 2)));
	}
	if (n2 == 0.0)
	{
		f->fr = f->err = 0.0f;
		return 1.0;
	}
	x0 = ip_rx / (sqrt(xx) * sqrt(n2));
	spread = 1.0 / (x0 * x0) - 1.0;
	f->fr = (float) (n2 / ip_rx);
	f->err = (float) (2.0 * sqrt(n2) * sqrt((spread > 0.0 ? spread : 0.0) / (dp - 1)));
	return x0;
}

double
rq_ex_quantize_exact(const float *r, int dp, int bits, uint8_t *code, rq_ex_factors *f, void *work)
{
	rq_event   *heap = work;
	int32_t    *k = (int32_t *) (heap + dp);
	int			maxk = (1 << (bits - 1)) - 1;

	/* find the best prefix of events, then replay exactly that prefix */
	rq_sweep(r, dp, maxk, rq_sweep(r, dp, maxk, -1, heap, k, NULL), heap, k, NULL);
	return rq_ex_pack(r, dp, bits, k, code, f);
}

/*
 * The grid: the exact rescale of Gaussian residuals concentrates around a
 * constant (in units of 1 / ||r||), so the search looks at RQ_EX_GRID points
 * over [0.66, 1.45] of it, then RQ_EX_GRID finer ones around the best
 * (doc/RABITQ.md 9.5: the grid reaches the exact search's <o-bar, o> to 5-6
 * digits).  O(Dp) per point, against the exact sweep's O(Dp 2^B log Dp).
 */
#define RQ_EX_GRID 8
#define RQ_EX_T_SAMPLES 32
#define RQ_STREAM_EX_T 0x6578ULL

void
rq_ex_quantizer_init(rq_ex_quantizer *qz, int dp, int bits, void *work)
{
	rq_event   *heap = work;
	int32_t    *k = (int32_t *) (heap + dp);
	float	   *r = (float *) (k + dp);
	rq_pcg32	rng;
	double		sum = 0.0;

	qz->dp = dp;
	qz->bits = bits;
	rq_pcg32_seed(&rng, (uint64_t) dp * 16 + bits, RQ_STREAM_EX_T);
	for (int s = 0; s < RQ_EX_T_SAMPLES; s++)
	{
		double		n2 = 0.0,
					t = 0.0;

		for (int i = 0; i < dp; i++)
		{
			r[i] = (float) rq_pcg32_gaussian(&rng);
			n2 += (double) r[i] * r[i];
		}
		rq_sweep(r, dp, (1 << (bits - 1)) - 1, -1, heap, k, &t);
		sum += t * sqrt(n2);
	}
	qz->t_lo = (float) (0.66 * sum / RQ_EX_T_SAMPLES);
	qz->t_step = (float) ((1.45 - 0.66) * sum / RQ_EX_T_SAMPLES / (RQ_EX_GRID - 1));
}

/*
 * cos(k + 1/2, o) at rescale t for the normalised magnitudes o (||o|| = 1),
 * with eight float accumulators (Dp is a multiple of 64) so the compiler
 * vectorizes it; the same binary always sums in the same order.
 */
static double
rq_ex_cosine_at(const float *o, int dp, float maxk, float t)
{
	float		num[8] = {0},
				den[8] = {0};
	float		n = 0.0f,
				d = 0.0f;

	for (int i = 0; i < dp; i += 8)
		for (int j = 0; j < 8; j++)
		{
			float		k = (float) (int) (t * o[i + j]);
			float		x = (k < maxk ? k : maxk) + 0.5f;

			num[j] += x * o[i + j];
			den[j] += x * x;
		}
	for (int j = 0; j < 8; j++)
	{
		n += num[j];
		d += den[j];
	}
	return n / sqrt((double) d);
}

double
rq_ex_quantize(const rq_ex_quantizer *qz, const float *r, uint8_t *code, rq_ex_factors *f, void *work)
{
	int			dp = qz->dp,
				maxk = (1 << (qz->bits - 1)) - 1;
	int32_t    *k = work;
	float	   *o = (float *) (k + dp);
	double		n2 = 0.0,
				inv,
				best = -1.0;
	float		best_t = 0.0f,
				step = qz->t_step;

	for (int i = 0; i < dp; i++)
		n2 += (double) r[i] * r[i];
	inv = n2 > 0.0 ? 1.0 / sqrt(n2) : 0.0;
	for (int i = 0; i < dp; i++)
		o[i] = (float) (fabs((double) r[i]) * inv);
	/* coarse over the whole range, then as fine around the best */
	for (int pass = 0; pass < 2 && n2 > 0.0; pass++)
	{
		float		from = pass == 0 ? qz->t_lo : best_t - step;

		if (pass == 1)
			step = 2.0f * step / (RQ_EX_GRID - 1);
		for (int g = 0; g < RQ_EX_GRID; g++)
		{
			float		t = from + step * g;
			double		c = t > 0.0f ? rq_ex_cosine_at(o, dp, (float) maxk, t) : -1.0;

			if (c > best)
			{
				best = c;
				best_t = t;
			}
		}
	}
	for (int i = 0; i < dp; i++)
	{
		int			level = (int) (best_t * o[i]);

		k[i] = level < maxk ? level : maxk;
	}
	return rq_ex_pack(r, dp, qz->bits, k, code, f);
}

#define RQ_EX_QUERY_LEVELS 255

void
rq_prepare_ex_query(const float *q_rot, const float *c_rot, int dp, int bits, rq_metric metric,
					uint8_t *q, rq_ex_query *eq)
{
	rq_residual_stats st;

	rq_residual_stats_of(q_rot, c_rot, dp, &st);
	rq_prepare_ex_query_from(q_rot, c_rot, dp, bits, metric, &st, q, eq);
}

void
rq_prepare_ex_query_from(const float *q_rot, const float *c_rot, int dp, int bits, rq_metric metric,
						 const rq_residual_stats *st, uint8_t *q, rq_ex_query *eq)
{
	float		vl = st->vl,
				inv;
	int64_t		sum = 0;

	eq->dp = dp;
	eq->bits = bits;
	eq->metric = metric;
	eq->vl = vl;
	eq->delta = (st->vr - vl) / (float) RQ_EX_QUERY_LEVELS;
	/* a constant y: delta = 0, every level 0 (and delta must not be inverted) */
	inv = eq->delta > 0.0f ? 1.0f / eq->delta : 0.0f;
	if (bits > 4)
		sum = rq_codes.query_levels(q_rot, c_rot, dp, vl, eq->delta, inv, RQ_EX_QUERY_LEVELS, q);
	else
		/* nibble codes: even dimensions first, the kernels pair them with low nibbles */
		for (int w = 0; w < dp; w += 64)
		{
			uint8_t		level[64];

			sum += rq_codes.query_levels(q_rot + w, c_rot + w, 64, vl, eq->delta, inv, RQ_EX_QUERY_LEVELS,
										 level);
			for (int i = 0; i < 32; i++)
			{
				q[w / 2 + i] = level[2 * i];
				q[dp / 2 + w / 2 + i] = level[2 * i + 1];
			}
		}
	eq->sum_q = sum;
	eq->add = (float) (metric == RQ_METRIC_IP ? st->qc : st->y2);
	eq->ynorm = (float) sqrt(st->y2);
	eq->q = q;
}

float
rq_ex_estimate(const rq_ex_query *eq, float add, const rq_ex_factors *f, const rq_ex_sums *s,
			   float eps, float *lb)
{
	/* the metric constants of rq_estimate_setup */
	double		m = (eq->metric == RQ_METRIC_L2) ? 1.0 : (eq->metric == RQ_METRIC_IP) ? -1.0 : 0.5;
	double		w = (eq->metric == RQ_METRIC_L2) ? 1.0 : 0.5;
	double		h = 0.5 * ((1 << eq->bits) - 1);
	double		xy = eq->vl * ((double) s->u - h * eq->dp) + eq->delta * ((double) s->uq - h * (double) eq->sum_q);
	double		xx = (double) s->uu - 2.0 * h * (double) s->u + h * h * eq->dp;
	double		t = -2.0 * f->fr * xy;
	double		est = m * ((double) add + eq->add) + w * t;
	double		code_err = (double) f->err * eq->ynorm;
	double		query_err = 2.0 * f->fr * sqrt(xx > 0.0 ? xx : 0.0) * eq->delta / sqrt(12.0);

	*lb = (float) (est - w * eps * sqrt(code_err * code_err + query_err * query_err));
	return (float) est;
}
