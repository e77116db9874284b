/*
 * rq_distance_avx2.c
 *	  AVX2 + FMA exact distance kernels.
 *
 * Compiled with a per-function target attribute so this file builds into the
 * same portable object as the scalar code; rq_cpu_detect decides at load time
 * whether these functions may run.  Two accumulators of 8 lanes hide the FMA
 * latency; the last n % 8 elements come in through a masked load (the masked
 * lanes read as zero and add nothing).
 */
#include "rq_distance.h"

#ifdef RQ_HAVE_X86_KERNELS
#include <immintrin.h>
#include <stdint.h>

#define RQ_AVX2 __attribute__((target("avx2,fma")))

/* 8 ones then 8 zeros: loading at offset 8 - r gives a mask of r lanes. */
static const int32_t rq_tail_lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
0, 0, 0, 0, 0, 0, 0, 0};

/* Mask selecting the first r (1..7) lanes. */
RQ_AVX2 static inline __m256i
rq_tail_mask(size_t r)
{
	return _mm256_loadu_si256((const __m256i *) (rq_tail_lanes + 8 - r));
}

/* Horizontal sum of 8 lanes, in a fixed order. */
RQ_AVX2 static inline float
rq_hsum256(__m256 v)
{
	__m128		s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

RQ_AVX2 static inline __m256
rq_step_l2sq(__m256 acc, __m256 a, __m256 b)
{
	__m256		d = _mm256_sub_ps(a, b);

	return _mm256_fmadd_ps(d, d, acc);
}

RQ_AVX2 static inline __m256
rq_step_dot(__m256 acc, __m256 a, __m256 b)
{
	return _mm256_fmadd_ps(a, b, acc);
}

RQ_AVX2 static inline __m256
rq_step_l1(__m256 acc, __m256 a, __m256 b)
{
	__m256		d = _mm256_sub_ps(a, b);

	return _mm256_add_ps(acc, _mm256_andnot_ps(_mm256_set1_ps(-0.0f), d));
}

/* One kernel over a and b that folds pairs of 8-lane loads with STEP. */
#define RQ_AVX2_PAIR_KERNEL(NAME, STEP) \
RQ_AVX2 float \
NAME(const float *a, const float *b, size_t n) \
{ \
	__m256		acc0 = _mm256_setzero_ps(); \
	__m256		acc1 = _mm256_setzero_ps(); \
	size_t		i = 0; \
\
	for (; i + 16 <= n; i += 16) \
	{ \
		acc0 = STEP(acc0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)); \
		acc1 = STEP(acc1, _mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8)); \
	} \
	if (i + 8 <= n) \
	{ \
		acc0 = STEP(acc0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)); \
		i += 8; \
	} \
	if (i < n) \
	{ \
		__m256i		m = rq_tail_mask(n - i); \
\
		acc1 = STEP(acc1, _mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m)); \
	} \
	return rq_hsum256(_mm256_add_ps(acc0, acc1)); \
}

RQ_AVX2_PAIR_KERNEL(rq_l2sq_avx2, rq_step_l2sq)
RQ_AVX2_PAIR_KERNEL(rq_dot_avx2, rq_step_dot)
RQ_AVX2_PAIR_KERNEL(rq_l1_avx2, rq_step_l1)

RQ_AVX2 void
rq_cosine_avx2(const float *a, const float *b, size_t n, float out[3])
{
	__m256		ab = _mm256_setzero_ps();
	__m256		aa = _mm256_setzero_ps();
	__m256		bb = _mm256_setzero_ps();
	size_t		i = 0;

	for (; i + 8 <= n; i += 8)
	{
		__m256		va = _mm256_loadu_ps(a + i);
		__m256		vb = _mm256_loadu_ps(b + i);

		ab = _mm256_fmadd_ps(va, vb, ab);
		aa = _mm256_fmadd_ps(va, va, aa);
		bb = _mm256_fmadd_ps(vb, vb, bb);
	}
	if (i < n)
	{
		__m256i		m = rq_tail_mask(n - i);
		__m256		va = _mm256_maskload_ps(a + i, m);
		__m256		vb = _mm256_maskload_ps(b + i, m);

		ab = _mm256_fmadd_ps(va, vb, ab);
		aa = _mm256_fmadd_ps(va, va, aa);
		bb = _mm256_fmadd_ps(vb, vb, bb);
	}
	out[0] = rq_hsum256(ab);
	out[1] = rq_hsum256(aa);
	out[2] = rq_hsum256(bb);
}

/* 8 halves a step with F16C; the last n % 8 through the scalar twin (exact either way). */
__attribute__((target("avx2,f16c"))) void
rq_half_to_float_avx2(const uint16_t *src, float *dst, size_t n)
{
	size_t		i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (src + i))));
	rq_half_to_float_scalar(src + i, dst + i, n - i);
}

#endif							/* RQ_HAVE_X86_KERNELS */
