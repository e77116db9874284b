/*
 * rq_testblocks.c
 *	  Contiguous block arrays (rq_testblocks.h).
 */
#include "rq_testblocks.h"

size_t
rq_test_block_bytes(int dp)
{
	return (size_t) rq_code_words(dp) * RQ_BLOCK_LANES * sizeof(uint64_t) + RQ_BLOCK_FACTOR_BYTES;
}

void
rq_test_block_put(void *block, int dp, int lane, const uint64_t *code, const rq_factors *f)
{
	int			words = rq_code_words(dp);

	rq_block_put_code(block, 0, words, lane, code);
	rq_block_put_factors((uint64_t *) block + (size_t) words * RQ_BLOCK_LANES, lane, f);
}

void
rq_test_estimate_blocks(const rq_code_kernels *k, const rq_list_query *lq, const void *blocks,
						size_t nblocks, float eps, float *est, float *lb, float *mins)
{
	int			words = rq_code_words(lq->dp);
	rq_estimate_params p;

	rq_estimate_setup(lq, eps, &p);
	for (size_t b = 0; b < nblocks; b++)
	{
		const uint64_t *codes = (const uint64_t *) ((const char *) blocks + b * rq_test_block_bytes(lq->dp));
		int64_t		ip[RQ_BLOCK_LANES] = {0};

		k->block_dot(codes, 0, words, lq->planes, words, ip);
		float		min = k->block_finish(ip, codes + (size_t) words * RQ_BLOCK_LANES, &p,
										  est + b * RQ_BLOCK_LANES, lb + b * RQ_BLOCK_LANES);

		if (mins != NULL)
			mins[b] = min;
	}
}
