/*
 * rq_kernels.c
 *	  Activates one instruction-set level for every kernel table.
 */
#include "rq_kernels.h"

#include "rq_distance.h"
#include "rq_estimate.h"

void
rq_kernels_use(rq_isa isa)
{
	const rq_distance_kernels *d = rq_distance_kernels_for(isa);
	const rq_code_kernels *c = rq_code_kernels_for(isa);

	rq_dist = (d != NULL) ? *d : *rq_distance_kernels_for(RQ_ISA_SCALAR);
	rq_codes = (c != NULL) ? *c : rq_code_kernels_scalar;
}
