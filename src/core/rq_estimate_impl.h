/*
 * rq_estimate_impl.h
 *	  Shared shape of the per-level estimator files.  Each defines, with its
 *	  own target attribute ATTR:
 *		static inline void block_dot(codes, w0, w1, planes, words, ip)
 *		static inline float block_finish(ip, factors, p, est, lb)
 *		static inline int64_t query_levels(q, c, n, vl, delta, inv, levels, out)
 *		static inline void bit_planes(levels, nplanes, planes, stride)
 *		static inline void ex_dot(code, q, dp, bits, sums)
 *	  and then RQ_DEFINE_CODE_KERNELS(SUFFIX, ISA, ATTR) emits the exported
 *	  functions and the kernel table rq_code_kernels_SUFFIX.
 *
 * block_finish computes, per lane and in this order (so every level rounds
 * alike; the build uses -ffp-contract=off so no level fuses a product and
 * a sum into an FMA):
 *	  x = (float) (2 ip - sum_q)
 *	  bc = a * (float) (2 pop - dp)
 *	  t = (a * delta) * x + bc * vl
 *	  est = m * (add + qadd) + s * t
 *	  q = a * qrel
 *	  lb = est - bound * sqrt(err * err + q * q)
 */
#ifndef RQ_ESTIMATE_IMPL_H
#define RQ_ESTIMATE_IMPL_H

#include "rq_estimate.h"

#ifdef RQ_HAVE_X86_KERNELS
#include <immintrin.h>

/*
 * block_finish's arithmetic on the eight lanes in one 256-bit register,
 * from the eight dot products and set-bit counts as int32: the AVX2 and the
 * AVX-512 levels both end with it (the AVX-512 level only narrows its
 * 512-bit sums first).  err's bfloat16 lanes widen to float by a shift.
 */
__attribute__((target("avx2"))) static inline float
rq_block_finish_m256(__m256i ip32, __m256i pop32, const void *factors, const rq_estimate_params *p,
					 float *est, float *lb)
{
	const float *f = (const float *) factors;
	__m256		a = _mm256_loadu_ps(f + RQ_BLOCK_LANES);
	__m256		x = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_add_epi32(ip32, ip32),
														_mm256_set1_epi32(p->sum_q)));
	__m256		bc = _mm256_mul_ps(a, _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_add_epi32(pop32, pop32),
																		  _mm256_set1_epi32(p->dp))));
	__m256		t = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(a, _mm256_set1_ps(p->delta)), x),
								  _mm256_mul_ps(bc, _mm256_set1_ps(p->vl)));
	__m256		e = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(p->m),
												_mm256_add_ps(_mm256_loadu_ps(f), _mm256_set1_ps(p->qadd))),
								  _mm256_mul_ps(_mm256_set1_ps(p->s), t));

	__m256		q = _mm256_mul_ps(a, _mm256_set1_ps(p->qrel));
	__m256		err = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(
		_mm_loadu_si128((const __m128i *) ((const char *) factors + RQ_BLOCK_ERR_OFFSET))), 16));
	__m256		w = _mm256_sqrt_ps(_mm256_add_ps(_mm256_mul_ps(err, err), _mm256_mul_ps(q, q)));

	__m256		l = _mm256_sub_ps(e, _mm256_mul_ps(_mm256_set1_ps(p->bound), w));
	__m256i		exponent = _mm256_set1_epi32(0x7f800000);
	__m128		m;

	_mm256_storeu_ps(est, e);
	_mm256_storeu_ps(lb, l);
	if (!_mm256_testz_si256(_mm256_cmpeq_epi32(_mm256_and_si256(_mm256_castps_si256(l), exponent), exponent),
							_mm256_set1_epi32(-1)))
		return NAN;
	/* rq_lanes_min's tree: lanes i and i + 4, then i and i + 2, then 0 and 1 */
	m = _mm_min_ps(_mm256_castps256_ps128(l), _mm256_extractf128_ps(l, 1));
	m = _mm_min_ps(m, _mm_movehl_ps(m, m));
	m = _mm_min_ss(m, _mm_shuffle_ps(m, m, 1));
	return _mm_cvtss_f32(m);
}
#endif

#define RQ_DEFINE_CODE_KERNELS(SUFFIX, ISA, ATTR) \
ATTR void \
rq_block_dot_##SUFFIX(const uint64_t *codes, int w0, int w1, const uint64_t *planes, \
					  int words, int64_t ip[RQ_BLOCK_LANES]) \
{ \
	block_dot(codes, w0, w1, planes, words, ip); \
} \
\
ATTR float \
rq_block_finish_##SUFFIX(const int64_t ip[RQ_BLOCK_LANES], const void *factors, \
						 const rq_estimate_params *p, float *est, float *lb) \
{ \
	return block_finish(ip, factors, p, est, lb); \
} \
\
ATTR float \
rq_block_estimate_##SUFFIX(const uint64_t *codes, int words, const uint64_t *planes, \
						   const void *factors, const rq_estimate_params *p, float *est, float *lb) \
{ \
	int64_t		ip[RQ_BLOCK_LANES] = {0}; \
\
	block_dot(codes, 0, words, planes, words, ip); \
	return block_finish(ip, factors, p, est, lb); \
} \
\
ATTR int64_t \
rq_query_levels_##SUFFIX(const float *q, const float *c, int n, float vl, float delta, float inv, \
						 int levels, uint8_t *out) \
{ \
	return query_levels(q, c, n, vl, delta, inv, levels, out); \
} \
\
ATTR void \
rq_bit_planes_##SUFFIX(const uint8_t *levels, int nplanes, uint64_t *planes, size_t stride) \
{ \
	bit_planes(levels, nplanes, planes, stride); \
} \
\
ATTR void \
rq_ex_dot_##SUFFIX(const uint8_t *code, const uint8_t *q, int dp, int bits, rq_ex_sums *s) \
{ \
	ex_dot(code, q, dp, bits, s); \
} \
\
const rq_code_kernels rq_code_kernels_##SUFFIX = { \
	ISA, rq_block_dot_##SUFFIX, rq_block_finish_##SUFFIX, rq_block_estimate_##SUFFIX, \
	rq_query_levels_##SUFFIX, rq_bit_planes_##SUFFIX, rq_ex_dot_##SUFFIX \
};

#endif							/* RQ_ESTIMATE_IMPL_H */
