/*
 * rq_distance_scalar.c
 *	  Portable exact distance kernels: one float accumulator, left to right.
 *
 * These are the reference twins of the SIMD variants and the code every CPU
 * can run.  Built without -ffast-math, so the compiler keeps the order.
 */
#include "rq_distance.h"

#include <math.h>

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
