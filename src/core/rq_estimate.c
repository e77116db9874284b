/*
 * rq_estimate.c
 *	  Block layout helpers, estimate constants and the code-kernel dispatch.
 */
#include "rq_estimate.h"

#include <math.h>
#include <string.h>

rq_code_kernels rq_codes = {
	RQ_ISA_SCALAR, rq_block_dot_scalar, rq_block_finish_scalar, rq_block_estimate_scalar,
	rq_query_levels_scalar, rq_bit_planes_scalar, rq_ex_dot_scalar
};

const rq_code_kernels *
rq_code_kernels_for(rq_isa isa)
{
	switch (isa)
	{
		case RQ_ISA_SCALAR:
			return &rq_code_kernels_scalar;
#ifdef RQ_HAVE_X86_KERNELS
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
rq_estimate_setup(const rq_list_query *lq, float eps, rq_estimate_params *p)
{
	int			l2 = lq->metric == RQ_METRIC_L2;

	p->delta = lq->delta;
	p->vl = lq->vl;
	p->sum_q = lq->sum_q;
	p->dp = lq->dp;
	p->qadd = lq->add;
	p->m = l2 ? 1.0f : (lq->metric == RQ_METRIC_IP) ? -1.0f : 0.5f;
	p->s = l2 ? 1.0f : 0.5f;
	p->bound = (l2 ? 1.0f : 0.5f) * eps * lq->ynorm;
	p->qrel = lq->ynorm > 0.0f ? (float) (lq->delta * sqrt(lq->dp / 12.0) / lq->ynorm) : 0.0f;
}
