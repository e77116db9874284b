/*
 * rq_estimate.c
 *	  Block layout helpers, estimate constants and the code-kernel dispatch.
 */
#include "rq_estimate.h"

#include <string.h>

rq_code_kernels rq_codes = {
	RQ_ISA_SCALAR, rq_block_dot_scalar, rq_block_finish_scalar, rq_estimate_blocks_scalar
};

const rq_code_kernels *
rq_code_kernels_for(rq_isa isa)
{
	switch (isa)
	{
		case RQ_ISA_SCALAR:
			return &rq_code_kernels_scalar;
#ifdef __x86_64__
		case RQ_ISA_AVX2:
			return &rq_code_kernels_avx2;
		case RQ_ISA_AVX512:
			return &rq_code_kernels_avx512;
#else
		default:
			break;
#endif
	}
	return NULL;
}

void
rq_code_kernels_use(rq_isa isa)
{
	const rq_code_kernels *k = rq_code_kernels_for(isa);

	rq_codes = (k != NULL) ? *k : rq_code_kernels_scalar;
}

void
rq_block_clear(void *block, int dp)
{
	memset(block, 0, rq_block_bytes(dp));
}

void
rq_block_put(void *block, int dp, int lane, const uint64_t *code, const rq_factors *f)
{
	uint64_t   *codes = block;
	float	   *fac = rq_block_factors(block, dp);

	for (int w = 0; w < rq_code_words(dp); w++)
		codes[(size_t) w * RQ_BLOCK_LANES + lane] = code[w];
	fac[lane] = f->add;
	fac[RQ_BLOCK_LANES + lane] = f->a;
	fac[2 * RQ_BLOCK_LANES + lane] = f->bc;
	fac[3 * RQ_BLOCK_LANES + lane] = f->err;
}

void
rq_block_get(const void *block, int dp, int lane, uint64_t *code, rq_factors *f)
{
	const uint64_t *codes = block;
	const float *fac = rq_block_factors((void *) block, dp);

	for (int w = 0; w < rq_code_words(dp); w++)
		code[w] = codes[(size_t) w * RQ_BLOCK_LANES + lane];
	f->add = fac[lane];
	f->a = fac[RQ_BLOCK_LANES + lane];
	f->bc = fac[2 * RQ_BLOCK_LANES + lane];
	f->err = fac[3 * RQ_BLOCK_LANES + lane];
}

void
rq_estimate_setup(const rq_list_query *lq, float eps, rq_estimate_params *p)
{
	int			l2 = lq->metric == RQ_METRIC_L2;

	p->delta = lq->delta;
	p->vl = lq->vl;
	p->sum_q = lq->sum_q;
	p->qadd = lq->add;
	p->m = l2 ? 1.0f : (lq->metric == RQ_METRIC_IP) ? -1.0f : 0.5f;
	p->s = l2 ? 1.0f : 0.5f;
	p->bound = (l2 ? 1.0f : 0.5f) * eps * lq->ynorm;
}

void
rq_estimate_blocks(const rq_list_query *lq, const void *blocks, size_t nblocks, float eps,
				   float *est, float *lb)
{
	rq_estimate_params p;

	rq_estimate_setup(lq, eps, &p);
	rq_codes.estimate_blocks(blocks, nblocks, lq->dp, lq->planes, &p, est, lb);
}
