/*
 * rq_random.c
 *	  PCG32: XSH RR output on a 64-bit LCG (https://www.pcg-random.org/).
 */
#include "rq_random.h"

#include <math.h>

#define RQ_PCG_MULT 6364136223846793005ULL

void
rq_pcg32_seed(rq_pcg32 *rng, uint64_t seed, uint64_t stream)
{
	rng->state = 0;
	rng->inc = (stream << 1) | 1u;
	(void) rq_pcg32_next(rng);
	rng->state += seed;
	(void) rq_pcg32_next(rng);
}

uint32_t
rq_pcg32_next(rq_pcg32 *rng)
{
	uint64_t	old = rng->state;
	uint32_t	xorshifted = (uint32_t) (((old >> 18) ^ old) >> 27);
	uint32_t	rot = (uint32_t) (old >> 59);

	rng->state = old * RQ_PCG_MULT + rng->inc;
	return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

uint32_t
rq_pcg32_below(rq_pcg32 *rng, uint32_t bound)
{
	/* reject the low values that would make the modulo uneven */
	uint32_t	threshold = (-bound) % bound;

	for (;;)
	{
		uint32_t	r = rq_pcg32_next(rng);

		if (r >= threshold)
			return r % bound;
	}
}

double
rq_pcg32_uniform(rq_pcg32 *rng)
{
	uint64_t	hi = rq_pcg32_next(rng) >> 5;	/* 27 bits */
	uint64_t	lo = rq_pcg32_next(rng) >> 6;	/* 26 bits */

	return (double) ((hi << 26) | lo) * (1.0 / 9007199254740992.0);
}

double
rq_pcg32_gaussian(rq_pcg32 *rng)
{
	/* 1 - u lies in (0, 1], so the logarithm is finite */
	double		u1 = 1.0 - rq_pcg32_uniform(rng);
	double		u2 = rq_pcg32_uniform(rng);

	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
