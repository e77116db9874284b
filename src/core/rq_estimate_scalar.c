/*
 * rq_estimate_scalar.c
 *	  The portable estimator: the twin the SIMD levels must match bit for bit.
 */
#include <math.h>

#include "rq_estimate_impl.h"

static inline void
block_dot(const uint64_t *codes, int w0, int w1, const uint64_t *planes, int words,
		  int64_t ip[RQ_BLOCK_LANES])
{
	for (int w = w0; w < w1; w++)
	{
		const uint64_t *c = codes + (size_t) (w - w0) * RQ_BLOCK_LANES;

		for (int l = 0; l < RQ_BLOCK_LANES; l++)
			ip[l] += (int64_t) __builtin_popcountll(c[l]) << 32;
		for (int j = 0; j < RQ_QUERY_BITS; j++)
		{
			uint64_t	plane = planes[(size_t) j * words + w];

			for (int l = 0; l < RQ_BLOCK_LANES; l++)
				ip[l] += (int64_t) __builtin_popcountll(c[l] & plane) << j;
		}
	}
}

static inline float
block_finish(const int64_t ip[RQ_BLOCK_LANES], const void *factors, const rq_estimate_params *p,
			 float *est, float *lb)
{
	for (int l = 0; l < RQ_BLOCK_LANES; l++)
	{
		rq_factors	f = rq_block_get_factors(factors, l);
		int32_t		dot = (int32_t) (ip[l] & 0xFFFFFFFF),
					pop = (int32_t) (ip[l] >> 32);
		float		x = (float) (2 * dot - p->sum_q);
		float		bc = f.a * (float) (2 * pop - p->dp);
		float		t = (f.a * p->delta) * x + bc * p->vl;
		float		e = p->m * (f.add + p->qadd) + p->s * t;

		float		q = f.a * p->qrel;
		float		err = f.err;

		est[l] = e;
		lb[l] = e - p->bound * sqrtf(err * err + q * q);
	}
	return rq_lanes_min(lb);
}

static inline int64_t
query_levels(const float *q, const float *c, int n, float vl, float delta, float inv, int levels,
			 uint8_t *out)
{
	int64_t		sum = 0;

	for (int i = 0; i < n; i++)
	{
		out[i] = (uint8_t) rq_query_level(q[i] - c[i], vl, delta, inv, levels);
		sum += out[i];
	}
	return sum;
}

/*
 * Bit j of each of the 64 levels, coordinate b in bit b: eight levels at a
 * time, their bits j gathered into one byte by a multiply (the byte lanes'
 * 0/1 values land on distinct bits of the product's top byte, no carries).
 */
static inline uint64_t
bit_plane(const uint8_t *level, int j)
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

static inline void
bit_planes(const uint8_t *levels, int nplanes, uint64_t *planes, size_t stride)
{
	for (int j = 0; j < nplanes; j++)
		planes[(size_t) j * stride] = bit_plane(levels, j);
}

static inline void
ex_dot(const uint8_t *code, const uint8_t *q, int dp, int bits, rq_ex_sums *s)
{
	int64_t		uq = 0,
				u = 0,
				uu = 0;

	if (bits > 4)
	{
		for (int i = 0; i < dp; i++)
		{
			int			c = code[i];

			uq += c * q[i];
			u += c;
			uu += c * c;
		}
	}
	else
	{
		int			half = dp / 2;

		for (int j = 0; j < half; j++)
		{
			int			lo = code[j] & 0x0F,
						hi = code[j] >> 4;

			uq += lo * q[j] + hi * q[half + j];
			u += lo + hi;
			uu += lo * lo + hi * hi;
		}
	}
	s->uq = uq;
	s->u = u;
	s->uu = uu;
}

RQ_DEFINE_CODE_KERNELS(scalar, RQ_ISA_SCALAR, )
