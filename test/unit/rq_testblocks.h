/*
 * rq_testblocks.h
 *	  Contiguous arrays of blocks in the core's block layout (codes, then the
 *	  factor arrays; src/core/rq_estimate.h), for the tests and benchmarks
 *	  that estimate without pages, and the estimate of such an array with
 *	  one level's kernels.
 */
#ifndef RQ_TESTBLOCKS_H
#define RQ_TESTBLOCKS_H

#include "core/rq_estimate.h"

/* Bytes of one block of 8 codes of Dp bits with their factors, stored contiguously. */
extern size_t rq_test_block_bytes(int dp);

/* Writes lane's code and factors into a contiguous block. */
extern void rq_test_block_put(void *block, int dp, int lane, const uint64_t *code, const rq_factors *f);

/*
 * Estimates and bounds of nblocks contiguous blocks with kernels k (8 per
 * block), and each block's rq_lanes_min as block_finish returns it into
 * mins[b] (unless mins is NULL).
 */
extern void rq_test_estimate_blocks(const rq_code_kernels *k, const rq_list_query *lq,
									const void *blocks, size_t nblocks, float eps, float *est,
									float *lb, float *mins);

#endif							/* RQ_TESTBLOCKS_H */
