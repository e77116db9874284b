/*
 * rq_estimate_impl.h
 *	  Shared shape of the per-level estimator files.  Each defines, with its
 *	  own target attribute ATTR:
 *		static inline void block_dot(codes, w0, w1, planes, words, ip)
 *		static inline void block_finish(ip, factors, p, est, lb)
 *	  and then RQ_DEFINE_CODE_KERNELS(SUFFIX, ISA, ATTR) emits the exported
 *	  functions and the kernel table rq_code_kernels_SUFFIX.
 *
 * block_finish computes, per lane and in this order (so every level rounds
 * alike; the build uses -ffp-contract=off so no level fuses a product and
 * a sum into an FMA):
 *	  x = (float) (2 ip - sum_q)
 *	  t = (a * delta) * x + bc * vl
 *	  est = m * (add + qadd) + s * t
 *	  lb = est - bound * err
 */
#ifndef RQ_ESTIMATE_IMPL_H
#define RQ_ESTIMATE_IMPL_H

#include "rq_estimate.h"

#define RQ_DEFINE_CODE_KERNELS(SUFFIX, ISA, ATTR) \
ATTR void \
rq_block_dot_##SUFFIX(const uint64_t *codes, int w0, int w1, const uint64_t *planes, \
					  int words, int64_t ip[RQ_BLOCK_LANES]) \
{ \
	block_dot(codes, w0, w1, planes, words, ip); \
} \
\
ATTR void \
rq_block_finish_##SUFFIX(const int64_t ip[RQ_BLOCK_LANES], const float *factors, \
						 const rq_estimate_params *p, float *est, float *lb) \
{ \
	block_finish(ip, factors, p, est, lb); \
} \
\
ATTR void \
rq_estimate_blocks_##SUFFIX(const void *blocks, size_t nblocks, int dp, \
							const uint64_t *planes, const rq_estimate_params *p, \
							float *est, float *lb) \
{ \
	int			words = rq_code_words(dp); \
	size_t		stride = rq_block_bytes(dp); \
\
	for (size_t b = 0; b < nblocks; b++) \
	{ \
		const char *block = (const char *) blocks + b * stride; \
		int64_t		ip[RQ_BLOCK_LANES] = {0}; \
\
		block_dot((const uint64_t *) block, 0, words, planes, words, ip); \
		block_finish(ip, (const float *) (block + (size_t) words * RQ_BLOCK_LANES * sizeof(uint64_t)), \
					 p, est + b * RQ_BLOCK_LANES, lb + b * RQ_BLOCK_LANES); \
	} \
} \
\
const rq_code_kernels rq_code_kernels_##SUFFIX = { \
	ISA, rq_block_dot_##SUFFIX, rq_block_finish_##SUFFIX, rq_estimate_blocks_##SUFFIX \
};

#endif							/* RQ_ESTIMATE_IMPL_H */
