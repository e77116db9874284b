/*
 * rq_random.h
 *	  PCG32 (O'Neill 2014): a small, portable, seedable generator.  The same
 *	  seed gives the same numbers on every platform, which is what makes a
 *	  stored rotation seed, k-means runs and test data reproducible.  Never use
 *	  libc rand() for any of these.
 */
#ifndef RQ_RANDOM_H
#define RQ_RANDOM_H

#include <stdint.h>

typedef struct rq_pcg32
{
	uint64_t	state;
	uint64_t	inc;			/* stream selector, always odd */
} rq_pcg32;

/* Seeds the generator; different streams give independent sequences. */
extern void rq_pcg32_seed(rq_pcg32 *rng, uint64_t seed, uint64_t stream);

/* Next 32 random bits. */
extern uint32_t rq_pcg32_next(rq_pcg32 *rng);

/* Uniform integer in [0, bound), without modulo bias (bound >= 1). */
extern uint32_t rq_pcg32_below(rq_pcg32 *rng, uint32_t bound);

/* Uniform double in [0, 1) with 53 random bits. */
extern double rq_pcg32_uniform(rq_pcg32 *rng);

/* Standard normal deviate (Box-Muller on two uniforms). */
extern double rq_pcg32_gaussian(rq_pcg32 *rng);

#endif							/* RQ_RANDOM_H */
