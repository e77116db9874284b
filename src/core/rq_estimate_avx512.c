/*
 * rq_estimate_avx512.c
 *	  The estimator with AVX-512 VPOPCNTDQ: word w of the block's eight codes
 *	  in one register, ANDed with each query plane's word w (broadcast) and
 *	  counted per 64-bit lane; one accumulator per plane, weighted 1:2:4:8 at
 *	  the end.  The factor arithmetic runs on the eight lanes at once.
 */
#include <float.h>

#include "rq_estimate_impl.h"

#ifdef RQ_HAVE_X86_KERNELS
#include <immintrin.h>

#define RQ_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512vpopcntdq")))

RQ_AVX512 static inline void
block_dot(const uint64_t *codes, int w0, int w1, const uint64_t *planes, int words,
		  int64_t ip[RQ_BLOCK_LANES])
{
	__m512i		a0 = _mm512_setzero_si512(),
				a1 = a0,
				a2 = a0,
				a3 = a0,
				pop = a0;
	__m512i		sum;

	for (int w = w0; w < w1; w++)
	{
		__m512i		c = _mm512_loadu_si512(codes + (size_t) (w - w0) * RQ_BLOCK_LANES);

		a0 = _mm512_add_epi64(a0, _mm512_popcnt_epi64(_mm512_and_si512(c, _mm512_set1_epi64((long long) planes[w]))));
		a1 = _mm512_add_epi64(a1, _mm512_popcnt_epi64(_mm512_and_si512(c, _mm512_set1_epi64((long long) planes[words + w]))));
		a2 = _mm512_add_epi64(a2, _mm512_popcnt_epi64(_mm512_and_si512(c, _mm512_set1_epi64((long long) planes[2 * words + w]))));
		a3 = _mm512_add_epi64(a3, _mm512_popcnt_epi64(_mm512_and_si512(c, _mm512_set1_epi64((long long) planes[3 * words + w]))));
		pop = _mm512_add_epi64(pop, _mm512_popcnt_epi64(c));
	}
	sum = _mm512_add_epi64(a0, _mm512_slli_epi64(a1, 1));
	sum = _mm512_add_epi64(sum, _mm512_slli_epi64(a2, 2));
	sum = _mm512_add_epi64(sum, _mm512_slli_epi64(a3, 3));
	sum = _mm512_add_epi64(sum, _mm512_slli_epi64(pop, 32));
	_mm512_storeu_si512(ip, _mm512_add_epi64(_mm512_loadu_si512(ip), sum));
}

RQ_AVX512 static inline float
block_finish(const int64_t ip[RQ_BLOCK_LANES], const void *f, const rq_estimate_params *p,
			 float *est, float *lb)
{
	__m512i		sums = _mm512_loadu_si512(ip);

	/* VPMOVQD keeps each lane's low half: the dot product, then the set bits */
	return rq_block_finish_m256(_mm512_cvtepi64_epi32(sums), _mm512_cvtepi64_epi32(_mm512_srli_epi64(sums, 32)),
						 f, p, est, lb);
}

#define RQ_AVX512BW __attribute__((target("avx512f,avx512bw,avx512vl")))

/*
 * The sums of a B-bit code against the 8-bit query: 64 dimensions per step,
 * widened to 16 bits and multiplied pairwise into 32-bit lanes (vpmaddwd);
 * integers, so exactly the scalar sums.
 */
RQ_AVX512BW static inline void
ex_dot(const uint8_t *code, const uint8_t *q, int dp, int bits, rq_ex_sums *s)
{
	__m512i		uq = _mm512_setzero_si512(),
				uu = uq;
	__m256i		u = _mm256_setzero_si256();
	const __m256i low = _mm256_set1_epi8(0x0F);

	if (bits > 4)
	{
		for (int i = 0; i < dp; i += 32)
		{
			__m256i		c8 = _mm256_loadu_si256((const __m256i *) (code + i));
			__m512i		c = _mm512_cvtepu8_epi16(c8);
			__m512i		y = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *) (q + i)));

			uq = _mm512_add_epi32(uq, _mm512_madd_epi16(c, y));
			uu = _mm512_add_epi32(uu, _mm512_madd_epi16(c, c));
			u = _mm256_add_epi64(u, _mm256_sad_epu8(c8, _mm256_setzero_si256()));
		}
	}
	else
	{
		int			half = dp / 2;

		for (int j = 0; j < half; j += 32)
		{
			__m256i		c8 = _mm256_loadu_si256((const __m256i *) (code + j));
			__m256i		lo8 = _mm256_and_si256(c8, low);
			__m256i		hi8 = _mm256_and_si256(_mm256_srli_epi16(c8, 4), low);
			__m512i		lo = _mm512_cvtepu8_epi16(lo8);
			__m512i		hi = _mm512_cvtepu8_epi16(hi8);
			__m512i		ye = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *) (q + j)));
			__m512i		yo = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *) (q + half + j)));

			uq = _mm512_add_epi32(uq, _mm512_add_epi32(_mm512_madd_epi16(lo, ye), _mm512_madd_epi16(hi, yo)));
			uu = _mm512_add_epi32(uu, _mm512_add_epi32(_mm512_madd_epi16(lo, lo), _mm512_madd_epi16(hi, hi)));
			u = _mm256_add_epi64(u, _mm256_sad_epu8(_mm256_add_epi8(lo8, hi8), _mm256_setzero_si256()));
		}
	}
	s->uq = _mm512_reduce_add_epi32(uq);
	s->uu = _mm512_reduce_add_epi32(uu);
	s->u = _mm256_extract_epi64(u, 0) + _mm256_extract_epi64(u, 1) + _mm256_extract_epi64(u, 2) +
		_mm256_extract_epi64(u, 3);
}

/*
 * The grid levels of q - c, 16 coordinates a step, with rq_query_level's
 * operations in its order: MAXPS(x, 0) returns 0 for a NaN x as the scalar
 * compare does, MINPS(x, levels) keeps x only below levels; the conversion
 * truncates a value already in [0, levels].
 */
RQ_AVX512BW static inline int64_t
query_levels(const float *q, const float *c, int n, float vl, float delta, float inv, int levels,
			 uint8_t *out)
{
	const __m512 lo = _mm512_set1_ps(vl),
				scale = _mm512_set1_ps(inv),
				step = _mm512_set1_ps(delta),
				half = _mm512_set1_ps(0.5f),
				top = _mm512_set1_ps((float) levels);
	int			divide = !(inv <= FLT_MAX);
	__m512i		sum = _mm512_setzero_si512();	/* per lane at most 255 n / 16 */

	for (int i = 0; i < n; i += 16)
	{
		__m512		d = _mm512_sub_ps(_mm512_sub_ps(_mm512_loadu_ps(q + i), _mm512_loadu_ps(c + i)), lo);
		__m512		x = _mm512_add_ps(divide ? _mm512_div_ps(d, step) : _mm512_mul_ps(d, scale), half);
		__m512i		level;

		x = _mm512_min_ps(_mm512_max_ps(x, _mm512_setzero_ps()), top);
		level = _mm512_cvttps_epi32(x);
		sum = _mm512_add_epi32(sum, level);
		_mm_storeu_si128((__m128i *) (out + i), _mm512_cvtepi32_epi8(level));
	}
	return _mm512_reduce_add_epi32(sum);
}

/* The planes by VPTESTMB: bit b of the mask is bit j of byte b. */
RQ_AVX512BW static inline void
bit_planes(const uint8_t *levels, int nplanes, uint64_t *planes, size_t stride)
{
	__m512i		v = _mm512_loadu_si512(levels);

	for (int j = 0; j < nplanes; j++)
		planes[(size_t) j * stride] = _mm512_test_epi8_mask(v, _mm512_set1_epi8((char) (1 << j)));
}

RQ_DEFINE_CODE_KERNELS(avx512, RQ_ISA_AVX512, RQ_AVX512)

#endif							/* RQ_HAVE_X86_KERNELS */
