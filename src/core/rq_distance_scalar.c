/*
 * rq_distance_scalar.c
 *	  Portable exact distance kernels: one float accumulator, left to right.
 *
 * These are the reference twins of the SIMD variants and the code every CPU
 * can run.  Built without -ffast-math, so the compiler keeps the order.
 */
#include "rq_distance.h"

#include <math.h>
#include <string.h>

float
rq_l2sq_scalar(const float *a, const float *b, size_t n)
{
	float		sum = 0.0f;

	for (size_t i = 0; i < n; i++)
	{
		float		d = a[i] - b[i];

		sum += d * d;
	}
	return sum;
}

float
rq_dot_scalar(const float *a, const float *b, size_t n)
{
	float		sum = 0.0f;

	for (size_t i = 0; i < n; i++)
		sum += a[i] * b[i];
	return sum;
}

float
rq_l1_scalar(const float *a, const float *b, size_t n)
{
	float		sum = 0.0f;

	for (size_t i = 0; i < n; i++)
		sum += fabsf(a[i] - b[i]);
	return sum;
}

void
rq_cosine_scalar(const float *a, const float *b, size_t n, float out[3])
{
	float		ab = 0.0f,
				aa = 0.0f,
				bb = 0.0f;

	for (size_t i = 0; i < n; i++)
	{
		ab += a[i] * b[i];
		aa += a[i] * a[i];
		bb += b[i] * b[i];
	}
	out[0] = ab;
	out[1] = aa;
	out[2] = bb;
}

/* One half to float by its fields (the reference for the SIMD conversions). */
static inline float
rq_half_to_float1(uint16_t h)
{
	uint32_t	sign = (uint32_t) (h & 0x8000) << 16,
				exp = (h >> 10) & 0x1F,
				mant = h & 0x3FF,
				bits;
	float		f;

	if (exp == 0x1F)			/* infinity, or NaN made quiet */
		bits = sign | 0x7F800000u | (mant ? 0x400000u | (mant << 13) : 0);
	else if (exp != 0)			/* normal: rebias the exponent */
		bits = sign | ((exp + 112) << 23) | (mant << 13);
	else if (mant == 0)			/* zero */
		bits = sign;
	else
	{
		/* subnormal: mant * 2^-24 is a normal float, exact */
		f = (float) mant * 5.9604644775390625e-8f;
		memcpy(&bits, &f, sizeof(bits));
		bits |= sign;
	}
	memcpy(&f, &bits, sizeof(f));
	return f;
}

void
rq_half_to_float_scalar(const uint16_t *src, float *dst, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = rq_half_to_float1(src[i]);
}

