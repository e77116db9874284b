/*
 * rq_kernels.h
 *	  The one switch between instruction-set levels: the exact distance
 *	  kernels (rq_distance.h) and the code estimators (rq_estimate.h) are
 *	  chosen together, once, when the library loads.
 */
#ifndef RQ_KERNELS_H
#define RQ_KERNELS_H

#include "rq_cpu.h"

/* Makes isa's kernels of every table active (scalar where a table has none). */
extern void rq_kernels_use(rq_isa isa);

#endif							/* RQ_KERNELS_H */
