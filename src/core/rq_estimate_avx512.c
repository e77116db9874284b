/*
 * rq_estimate_avx512.c
 *	  The estimator with AVX-512 VPOPCNTDQ: word w of the block's eight codes
 *	  in one register, ANDed with each query plane's word w (broadcast) and
 *	  counted per 64-bit lane; one accumulator per plane, weighted 1:2:4:8 at
 *	  the end.  The factor arithmetic runs on the eight lanes at once.
 */
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
				a3 = a0;
	__m512i		sum;

	for (int w = w0; w < w1; w++)
	{
		__m512i		c = _mm512_loadu_si512(codes + (size_t) (w - w0) * RQ_BLOCK_LANES);

		a0 = _mm512_add_epi64(a0, _mm512_popcnt_epi64(_mm512_and_si512(c, _mm512_set1_epi64((long long) planes[w]))));
		a1 = _mm512_add_epi64(a1, _mm512_popcnt_epi64(_mm512_and_si512(c, _mm512_set1_epi64((long long) planes[words + w]))));
		a2 = _mm512_add_epi64(a2, _mm512_popcnt_epi64(_mm512_and_si512(c, _mm512_set1_epi64((long long) planes[2 * words + w]))));
		a3 = _mm512_add_epi64(a3, _mm512_popcnt_epi64(_mm512_and_si512(c, _mm512_set1_epi64((long long) planes[3 * words + w]))));
	}
	sum = _mm512_add_epi64(a0, _mm512_slli_epi64(a1, 1));
	sum = _mm512_add_epi64(sum, _mm512_slli_epi64(a2, 2));
	sum = _mm512_add_epi64(sum, _mm512_slli_epi64(a3, 3));
	_mm512_storeu_si512(ip, _mm512_add_epi64(_mm512_loadu_si512(ip), sum));
}

RQ_AVX512 static inline void
block_finish(const int64_t ip[RQ_BLOCK_LANES], const float *f, const rq_estimate_params *p,
			 float *est, float *lb)
{
	__m256i		ip32 = _mm512_cvtepi64_epi32(_mm512_loadu_si512(ip));

	rq_block_finish_m256(ip32, f, p, est, lb);
}

RQ_DEFINE_CODE_KERNELS(avx512, RQ_ISA_AVX512, RQ_AVX512)

#endif							/* RQ_HAVE_X86_KERNELS */
