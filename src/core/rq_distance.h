/*
 * rq_distance.h
 *	  Exact float distance kernels (squared L2, dot product, L1, and the three
 *	  sums cosine needs) with scalar, AVX2 and AVX-512 variants.
 *
 * All variants accumulate in float, like pgvector.  They differ from each other
 * only in summation order, so each stays within the classic bound for float
 * summation of n terms (see RQ_DISTANCE_TOLERANCE) of the exact value; test/unit
 * checks every variant against a double-precision reference with that bound.
 *
 * The active variant is a table of function pointers, set once when the
 * library loads (rq_kernels_use, rq_kernels.h); until then it points at the
 * scalar code.
 */
#ifndef RQ_DISTANCE_H
#define RQ_DISTANCE_H

#include <stddef.h>
#include <stdint.h>

#include "rq_cpu.h"

/*
 * Error bound of every variant, relative to the sum of the absolute values of
 * the exact terms: |computed - exact| <= RQ_DISTANCE_TOLERANCE(n) * sum|term|.
 * (n + 4) unit roundoffs of float (2^-24) covers recursive, blocked or tree
 * summation of n rounded terms, each term carrying up to two roundings of its
 * own (the difference and the product).
 */
#define RQ_DISTANCE_TOLERANCE(n) (((double) (n) + 4.0) * 5.9604644775390625e-8)

/* Kernel on two float arrays of n elements. */
typedef float (*rq_pair_kernel) (const float *a, const float *b, size_t n);

/* Cosine parts in one pass: out[0] = <a,b>, out[1] = <a,a>, out[2] = <b,b>. */
typedef void (*rq_cosine_kernel) (const float *a, const float *b, size_t n,
								  float out[3]);

/*
 * n IEEE binary16 values to float: exact (every half is a float), so every
 * variant gives the same bits; a NaN keeps its payload and comes out quiet,
 * as F16C's conversion does.
 */
typedef void (*rq_half_kernel) (const uint16_t *src, float *dst, size_t n);

typedef struct rq_distance_kernels
{
	rq_isa		isa;
	rq_pair_kernel l2sq;		/* sum (a_i - b_i)^2 */
	rq_pair_kernel dot;			/* sum a_i * b_i */
	rq_pair_kernel l1;			/* sum |a_i - b_i| */
	rq_cosine_kernel cosine;	/* the three sums of cosine distance */
	rq_half_kernel half_to_float;
} rq_distance_kernels;

/* The active kernels (scalar until rq_kernels_use is called). */
extern rq_distance_kernels rq_dist;

/*
 * Kernels of one level, or NULL when this build has no code for it (non-x86).
 * Tests use it to run every variant on the same data.
 */
extern const rq_distance_kernels *rq_distance_kernels_for(rq_isa isa);

/* Per-level implementations (rq_distance_scalar.c, _avx2.c, _avx512.c). */
extern float rq_l2sq_scalar(const float *a, const float *b, size_t n);
extern float rq_dot_scalar(const float *a, const float *b, size_t n);
extern float rq_l1_scalar(const float *a, const float *b, size_t n);
extern void rq_cosine_scalar(const float *a, const float *b, size_t n, float out[3]);
extern void rq_half_to_float_scalar(const uint16_t *src, float *dst, size_t n);

#ifdef RQ_HAVE_X86_KERNELS
extern float rq_l2sq_avx2(const float *a, const float *b, size_t n);
extern float rq_dot_avx2(const float *a, const float *b, size_t n);
extern float rq_l1_avx2(const float *a, const float *b, size_t n);
extern void rq_cosine_avx2(const float *a, const float *b, size_t n, float out[3]);
extern void rq_half_to_float_avx2(const uint16_t *src, float *dst, size_t n);
extern float rq_l2sq_avx512(const float *a, const float *b, size_t n);
extern float rq_dot_avx512(const float *a, const float *b, size_t n);
extern float rq_l1_avx512(const float *a, const float *b, size_t n);
extern void rq_cosine_avx512(const float *a, const float *b, size_t n, float out[3]);
extern void rq_half_to_float_avx512(const uint16_t *src, float *dst, size_t n);
#endif

#endif							/* RQ_DISTANCE_H */
