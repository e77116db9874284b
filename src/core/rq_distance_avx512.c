/*
 * rq_distance_avx512.c
 *	  AVX-512 exact distance kernels.
 *
 * Same structure as the AVX2 file with 16 lanes: two accumulators over 32
 * elements a step, then one 16-lane step, then a masked load for the last
 * n % 16 elements (masked lanes are zero and add nothing).
 */
#include "rq_distance.h"

#ifdef RQ_HAVE_X86_KERNELS
#include <immintrin.h>

#define RQ_AVX512 __attribute__((target("avx512f")))

/* Mask selecting the first r (1..15) lanes. */
RQ_AVX512 static inline __mmask16
rq_tail_mask16(size_t r)
{
	return (__mmask16) ((1u << r) - 1u);
}

RQ_AVX512 static inline __m512
rq_step_l2sq(__m512 acc, __m512 a, __m512 b)
{
	__m512		d = _mm512_sub_ps(a, b);

	return _mm512_fmadd_ps(d, d, acc);
}

RQ_AVX512 static inline __m512
rq_step_dot(__m512 acc, __m512 a, __m512 b)
{
	return _mm512_fmadd_ps(a, b, acc);
}

RQ_AVX512 static inline __m512
rq_step_l1(__m512 acc, __m512 a, __m512 b)
{
	return _mm512_add_ps(acc, _mm512_abs_ps(_mm512_sub_ps(a, b)));
}

/* One kernel over a and b that folds pairs of 16-lane loads with STEP. */
#define RQ_AVX512_PAIR_KERNEL(NAME, STEP) \
RQ_AVX512 float \
NAME(const float *a, const float *b, size_t n) \
{ \
	__m512		acc0 = _mm512_setzero_ps(); \
	__m512		acc1 = _mm512_setzero_ps(); \
	size_t		i = 0; \
\
	for (; i + 32 <= n; i += 32) \
	{ \
		acc0 = STEP(acc0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)); \
		acc1 = STEP(acc1, _mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16)); \
	} \
	if (i + 16 <= n) \
	{ \
		acc0 = STEP(acc0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)); \
		i += 16; \
	} \
	if (i < n) \
	{ \
		__mmask16	m = rq_tail_mask16(n - i); \
\
		acc1 = STEP(acc1, _mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i)); \
	} \
	return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)); \
}

RQ_AVX512_PAIR_KERNEL(rq_l2sq_avx512, rq_step_l2sq)
RQ_AVX512_PAIR_KERNEL(rq_dot_avx512, rq_step_dot)
RQ_AVX512_PAIR_KERNEL(rq_l1_avx512, rq_step_l1)

RQ_AVX512 void
rq_cosine_avx512(const float *a, const float *b, size_t n, float out[3])
{
	__m512		ab = _mm512_setzero_ps();
	__m512		aa = _mm512_setzero_ps();
	__m512		bb = _mm512_setzero_ps();
	size_t		i = 0;

	for (; i < n; i += 16)
	{
		__mmask16	m = (n - i >= 16) ? (__mmask16) 0xFFFF : rq_tail_mask16(n - i);
		__m512		va = _mm512_maskz_loadu_ps(m, a + i);
		__m512		vb = _mm512_maskz_loadu_ps(m, b + i);

		ab = _mm512_fmadd_ps(va, vb, ab);
		aa = _mm512_fmadd_ps(va, va, aa);
		bb = _mm512_fmadd_ps(vb, vb, bb);
	}
	out[0] = _mm512_reduce_add_ps(ab);
	out[1] = _mm512_reduce_add_ps(aa);
	out[2] = _mm512_reduce_add_ps(bb);
}

/* 16 halves a step; the last n % 16 through a masked load and store. */
__attribute__((target("avx512f,avx512bw,avx512vl"))) void
rq_half_to_float_avx512(const uint16_t *src, float *dst, size_t n)
{
	size_t		i = 0;

	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) (src + i))));
	if (i < n)
	{
		__mmask16	m = rq_tail_mask16(n - i);

		_mm512_mask_storeu_ps(dst + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, src + i)));
	}
}

#endif							/* RQ_HAVE_X86_KERNELS */
