/*
 * rq_estimate_avx2.c
 *	  The estimator with AVX2: the eight lanes of a block word in two
 *	  registers of four; popcounts by nibble look-up (vpshufb) in byte lanes,
 *	  the planes weighted 8:4:2:1 by Horner's rule in bytes (at most
 *	  8 * 15 = 120 per byte), and vpsadbw turning the bytes of each 64-bit
 *	  lane into that lane's count.
 */
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

/* Weighted count of the four planes' word w against four lanes c. */
RQ_AVX2 static inline __m256i
rq_weighted_counts(__m256i c, const uint64_t *planes, int words, int w)
{
	__m256i		bytes = _mm256_setzero_si256();

	for (int j = RQ_QUERY_BITS - 1; j >= 0; j--)
	{
		__m256i		p = _mm256_set1_epi64x((long long) planes[(size_t) j * words + w]);

		bytes = _mm256_add_epi8(_mm256_add_epi8(bytes, bytes), rq_popcount_bytes(_mm256_and_si256(c, p)));
	}
	return _mm256_sad_epu8(bytes, _mm256_setzero_si256());
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

RQ_AVX2 static inline void
block_finish(const int64_t ip[RQ_BLOCK_LANES], const float *f, const rq_estimate_params *p,
			 float *est, float *lb)
{
	__m256i		ip32 = rq_narrow(_mm256_loadu_si256((const __m256i *) ip),
								 _mm256_loadu_si256((const __m256i *) (ip + 4)));

	rq_block_finish_m256(ip32, f, p, est, lb);
}

RQ_DEFINE_CODE_KERNELS(avx2, RQ_ISA_AVX2, RQ_AVX2)

#endif							/* RQ_HAVE_X86_KERNELS */
