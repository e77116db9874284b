/*
 * rq_distance.c
 *	  Dispatch table for the exact distance kernels.
 */
#include "rq_distance.h"

static const rq_distance_kernels rq_kernels_scalar = {
	RQ_ISA_SCALAR, rq_l2sq_scalar, rq_dot_scalar, rq_l1_scalar, rq_cosine_scalar,
	rq_half_to_float_scalar
};

#ifdef RQ_HAVE_X86_KERNELS
static const rq_distance_kernels rq_kernels_avx2 = {
	RQ_ISA_AVX2, rq_l2sq_avx2, rq_dot_avx2, rq_l1_avx2, rq_cosine_avx2, rq_half_to_float_avx2
};

static const rq_distance_kernels rq_kernels_avx512 = {
	RQ_ISA_AVX512, rq_l2sq_avx512, rq_dot_avx512, rq_l1_avx512, rq_cosine_avx512,
	rq_half_to_float_avx512
};
#endif

rq_distance_kernels rq_dist = {
	RQ_ISA_SCALAR, rq_l2sq_scalar, rq_dot_scalar, rq_l1_scalar, rq_cosine_scalar,
	rq_half_to_float_scalar
};

const rq_distance_kernels *
rq_distance_kernels_for(rq_isa isa)
{
	switch (isa)
	{
		case RQ_ISA_SCALAR:
			return &rq_kernels_scalar;
#ifdef RQ_HAVE_X86_KERNELS
		case RQ_ISA_AVX2:
			return &rq_kernels_avx2;
		case RQ_ISA_AVX512:
			return &rq_kernels_avx512;
#else
		default:
			break;
#endif
	}
	return NULL;
}
