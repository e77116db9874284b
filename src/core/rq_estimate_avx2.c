/*
 * rq_estimate_avx2.c
 *	  The estimator with AVX2: the eight lanes of a block word in two
 *	  registers of four; popcounts by nibble look-up (vpshufb) in byte lanes,
 *	  the planes weighted 8:4:2:1 by Horner's rule in bytes (at most
 *	  8 * 15 = 120 per byte), and vpsadbw turning the bytes of each 64-bit
 *	  lane into that lane's count.
 */
#include <float.h>

#include "rq_estimate_impl.h"

#ifdef RQ_HAVE_X86_KERNELS
#include <immintrin.h>

#define RQ_AVX2 __attribute__((target("avx2")))

/* Per-byte population counts of v. */
RQ_AVX2 static inline __m256i
rq_popcount_bytes(__m256i v)
{
	const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
										   0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
	const __m256i low = _mm256_set1_epi8(0x0f);

	return _mm256_add_epi8(_mm256_shuffle_epi8(table, _mm256_and_si256(v, low)),
						   _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(v, 4), low)));
}

/*
 * Weighted count of the four planes' word w against four lanes c, plus
 * 2^32 times the lanes' set bits.
 */
RQ_AVX2 static inline __m256i
rq_weighted_counts(__m256i c, const uint64_t *planes, int words, int w)
{
	__m256i		bytes = _mm256_setzero_si256();
	__m256i		pop = _mm256_sad_epu8(rq_popcount_bytes(c), _mm256_setzero_si256());

	for (int j = RQ_QUERY_BITS - 1; j >= 0; j--)
	{
		__m256i		p = _mm256_set1_epi64x((long long) planes[(size_t) j * words + w]);

		bytes = _mm256_add_epi8(_mm256_add_epi8(bytes, bytes), rq_popcount_bytes(_mm256_and_si256(c, p)));
	}
	return _mm256_add_epi64(_mm256_sad_epu8(bytes, _mm256_setzero_si256()), _mm256_slli_epi64(pop, 32));
}

RQ_AVX2 static inline void
block_dot(const uint64_t *codes, int w0, int w1, const uint64_t *planes, int words,
		  int64_t ip[RQ_BLOCK_LANES])
{
	__m256i		lo = _mm256_loadu_si256((const __m256i *) ip);
	__m256i		hi = _mm256_loadu_si256((const __m256i *) (ip + 4));

	for (int w = w0; w < w1; w++)
	{
		const uint64_t *c = codes + (size_t) (w - w0) * RQ_BLOCK_LANES;

		lo = _mm256_add_epi64(lo, rq_weighted_counts(_mm256_loadu_si256((const __m256i *) c), planes, words, w));
		hi = _mm256_add_epi64(hi, rq_weighted_counts(_mm256_loadu_si256((const __m256i *) (c + 4)), planes, words, w));
	}
	_mm256_storeu_si256((__m256i *) ip, lo);
	_mm256_storeu_si256((__m256i *) (ip + 4), hi);
}

/* The low 32 bits of each int64 of lo and hi, as eight int32. */
RQ_AVX2 static inline __m256i
rq_narrow(__m256i lo, __m256i hi)
{
	const __m256i pick = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
	__m256i		a = _mm256_permutevar8x32_epi32(lo, pick);
	__m256i		b = _mm256_permutevar8x32_epi32(hi, pick);

	return _mm256_blend_epi32(a, b, 0xF0);
}

RQ_AVX2 static inline float
block_finish(const int64_t ip[RQ_BLOCK_LANES], const void *f, const rq_estimate_params *p,
			 float *est, float *lb)
{
	__m256i		lo = _mm256_loadu_si256((const __m256i *) ip),
				hi = _mm256_loadu_si256((const __m256i *) (ip + 4));

	return rq_block_finish_m256(rq_narrow(lo, hi), rq_narrow(_mm256_srli_epi64(lo, 32), _mm256_srli_epi64(hi, 32)),
						 f, p, est, lb);
}

/* Horizontal sum of eight int32. */
RQ_AVX2 static inline int64_t
rq_hsum_epi32(__m256i v)
{
	__m128i		s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));

	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
	return _mm_cvtsi128_si32(s);
}

/*
 * The sums of a B-bit code against the 8-bit query: 32 dimensions per step,
 * widened to 16 bits and multiplied pairwise into 32-bit lanes (vpmaddwd);
 * integers, so exactly the scalar sums.
 */
RQ_AVX2 static inline void
ex_dot(const uint8_t *code, const uint8_t *q, int dp, int bits, rq_ex_sums *s)
{
	__m256i		uq = _mm256_setzero_si256(),
				uu = uq,
				u = uq;
	const __m128i low = _mm_set1_epi8(0x0F);

	if (bits > 4)
	{
		for (int i = 0; i < dp; i += 16)
		{
			__m128i		c8 = _mm_loadu_si128((const __m128i *) (code + i));
			__m256i		c = _mm256_cvtepu8_epi16(c8);
			__m256i		y = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *) (q + i)));

			uq = _mm256_add_epi32(uq, _mm256_madd_epi16(c, y));
			uu = _mm256_add_epi32(uu, _mm256_madd_epi16(c, c));
			u = _mm256_add_epi64(u, _mm256_cvtepu32_epi64(_mm_sad_epu8(c8, _mm_setzero_si128())));
		}
	}
	else
	{
		int			half = dp / 2;

		for (int j = 0; j < half; j += 16)
		{
			__m128i		c8 = _mm_loadu_si128((const __m128i *) (code + j));
			__m128i		lo8 = _mm_and_si128(c8, low);
			__m128i		hi8 = _mm_and_si128(_mm_srli_epi16(c8, 4), low);
			__m256i		lo = _mm256_cvtepu8_epi16(lo8);
			__m256i		hi = _mm256_cvtepu8_epi16(hi8);
			__m256i		ye = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *) (q + j)));
			__m256i		yo = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *) (q + half + j)));

			uq = _mm256_add_epi32(uq, _mm256_add_epi32(_mm256_madd_epi16(lo, ye), _mm256_madd_epi16(hi, yo)));
			uu = _mm256_add_epi32(uu, _mm256_add_epi32(_mm256_madd_epi16(lo, lo), _mm256_madd_epi16(hi, hi)));
			u = _mm256_add_epi64(u, _mm256_cvtepu32_epi64(_mm_sad_epu8(_mm_add_epi8(lo8, hi8), _mm_setzero_si128())));
		}
	}
	s->uq = rq_hsum_epi32(uq);
	s->uu = rq_hsum_epi32(uu);
	s->u = _mm256_extract_epi64(u, 0) + _mm256_extract_epi64(u, 1) + _mm256_extract_epi64(u, 2) +
		_mm256_extract_epi64(u, 3);
}

/* rq_query_level of 8 coordinates as int32 (see the AVX-512 file for the operations). */
RQ_AVX2 static inline __m256i
query_levels8(const float *q, const float *c, __m256 lo, __m256 scale, __m256 step, __m256 top, int divide)
{
	__m256		d = _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(q), _mm256_loadu_ps(c)), lo);
	__m256		x = _mm256_add_ps(divide ? _mm256_div_ps(d, step) : _mm256_mul_ps(d, scale),
								  _mm256_set1_ps(0.5f));

	return _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(x, _mm256_setzero_ps()), top));
}

/*
 * The grid levels of q - c, 32 coordinates a step: four int32 vectors
 * narrowed by two saturating packs (levels fit a byte), which interleave
 * 4-byte groups across the 128-bit halves; one dword permutation puts them
 * back in order.
 */
RQ_AVX2 static inline int64_t
query_levels(const float *q, const float *c, int n, float vl, float delta, float inv, int levels,
			 uint8_t *out)
{
	const __m256 lo = _mm256_set1_ps(vl),
				scale = _mm256_set1_ps(inv),
				step = _mm256_set1_ps(delta),
				top = _mm256_set1_ps((float) levels);
	const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
	int			divide = !(inv <= FLT_MAX);
	__m256i		sum = _mm256_setzero_si256();

	for (int i = 0; i < n; i += 32)
	{
		__m256i		a = query_levels8(q + i, c + i, lo, scale, step, top, divide),
					b = query_levels8(q + i + 8, c + i + 8, lo, scale, step, top, divide),
					e = query_levels8(q + i + 16, c + i + 16, lo, scale, step, top, divide),
					f = query_levels8(q + i + 24, c + i + 24, lo, scale, step, top, divide);
		__m256i		bytes = _mm256_packus_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(e, f));

		bytes = _mm256_permutevar8x32_epi32(bytes, order);
		_mm256_storeu_si256((__m256i *) (out + i), bytes);
		sum = _mm256_add_epi64(sum, _mm256_sad_epu8(bytes, _mm256_setzero_si256()));
	}
	return _mm256_extract_epi64(sum, 0) + _mm256_extract_epi64(sum, 1) + _mm256_extract_epi64(sum, 2) +
		_mm256_extract_epi64(sum, 3);
}

/*
 * The planes by VPMOVMSKB, which takes each byte's top bit: shifted left by
 * 7 - j in 16-bit lanes, a byte's top bit is its own bit j.
 */
RQ_AVX2 static inline void
bit_planes(const uint8_t *levels, int nplanes, uint64_t *planes, size_t stride)
{
	__m256i		lo = _mm256_loadu_si256((const __m256i *) levels),
				hi = _mm256_loadu_si256((const __m256i *) (levels + 32));

	for (int j = 0; j < nplanes; j++)
	{
		__m128i		shift = _mm_cvtsi32_si128(7 - j);

		planes[(size_t) j * stride] = (uint64_t) (uint32_t) _mm256_movemask_epi8(_mm256_sll_epi16(lo, shift)) |
			(uint64_t) (uint32_t) _mm256_movemask_epi8(_mm256_sll_epi16(hi, shift)) << 32;
	}
}

RQ_DEFINE_CODE_KERNELS(avx2, RQ_ISA_AVX2, RQ_AVX2)

#endif							/* RQ_HAVE_X86_KERNELS */
