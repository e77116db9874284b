/*
 * rq_exbits.c
 *	  Extended RaBitQ: exact rescale search, ex-codes, B-bit estimates.
 */
#include "rq_exbits.h"

#include <math.h>
#include <string.h>

/* One pending critical point: dimension i reaches level k[i] + 1 at time t. */
typedef struct rq_event
{
	double		t;
	int32_t		dim;
} rq_event;

/* Scratch: the event heap (Dp) and the levels (Dp). */
size_t
rq_ex_work_bytes(int dp)
{
	return (size_t) dp * (sizeof(rq_event) + sizeof(int32_t));
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
rq_sweep(const float *r, int dp, int maxk, long stop, rq_event *heap, int32_t *k)
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
		}
	}
	return best_done;
}

double
rq_ex_quantize(const float *r, int dp, int ex_bits, uint64_t *ex_code, rq_ex_factors *f,
			   void *work)
{
	rq_event   *heap = work;
	int32_t    *k = (int32_t *) (heap + dp);
	int			maxk = (1 << ex_bits) - 1;
	int			words = rq_code_words(dp);
	double		n2 = 0.0,
				ip_rx = 0.0,
				xx = 0.0,
				x0,
				spread;

	/* find the best prefix of events, then replay exactly that prefix */
	rq_sweep(r, dp, maxk, rq_sweep(r, dp, maxk, -1, heap, k), heap, k);

	memset(ex_code, 0, sizeof(uint64_t) * rq_ex_code_words(dp, ex_bits));
	for (int i = 0; i < dp; i++)
	{
		double		o = fabs((double) r[i]);
		int			e = (r[i] > 0.0f) ? k[i] : maxk - k[i];

		n2 += (double) r[i] * r[i];
		ip_rx += (k[i] + 0.5) * o;
		xx += (k[i] + 0.5) * (k[i] + 0.5);
		for (int j = 0; j < ex_bits; j++)
			if ((e >> j) & 1)
				ex_code[(size_t) j * words + i / 64] |= UINT64_C(1) << (i % 64);
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

/* sum of y_i over the set bits of a Dp-bit string */
static double
rq_masked_sum(const uint64_t *bits, const float *y, int dp)
{
	double		sum = 0.0;

	for (int w = 0; w < rq_code_words(dp); w++)
	{
		uint64_t	word = bits[w];

		while (word != 0)
		{
			sum += y[w * 64 + __builtin_ctzll(word)];
			word &= word - 1;
		}
	}
	return sum;
}

double
rq_ex_dot(const uint64_t *code, const uint64_t *ex_code, int ex_bits, const float *y, int dp)
{
	int			words = rq_code_words(dp);
	double		ey = 0.0,
				ysum = 0.0;

	for (int j = 0; j < ex_bits; j++)
		ey += ldexp(rq_masked_sum(ex_code + (size_t) j * words, y, dp), j);
	for (int i = 0; i < dp; i++)
		ysum += y[i];
	return ldexp(rq_masked_sum(code, y, dp), ex_bits) + ey -
		0.5 * ((1 << (ex_bits + 1)) - 1) * ysum;
}

float
rq_ex_estimate(const rq_list_query *lq, const rq_factors *f1, const rq_ex_factors *fx,
			   double xy, float eps, float *lb)
{
	/* same metric constants as rq_estimate, with t = -2 <r, y> ~ -2 fr <x, y> */
	float		m = (lq->metric == RQ_METRIC_L2) ? 1.0f : (lq->metric == RQ_METRIC_IP) ? -1.0f : 0.5f;
	float		s = (lq->metric == RQ_METRIC_L2) ? 1.0f : 0.5f;
	float		w = (lq->metric == RQ_METRIC_L2) ? 1.0f : 0.5f;
	float		t = (float) (-2.0 * fx->fr * xy);
	float		est = m * (f1->add + lq->add) + s * t;

	*lb = est - w * eps * fx->err * lq->ynorm;
	return est;
}
