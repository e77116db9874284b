/*
 * test_random.c
 *	  PCG32: reproducible, platform-independent, roughly uniform.
 */
#include <math.h>
#include <stdlib.h>

#include "core/rq_random.h"
#include "rq_test.h"

/*
 * First outputs for seed 42, stream 54: the published pcg32-demo sequence
 * (pcg-c-basic), so the stream is the reference generator's.
 */
static void
test_reference_sequence(void)
{
	static const uint32_t expected[6] = {
		0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e
	};
	rq_pcg32	rng;

	rq_pcg32_seed(&rng, 42u, 54u);
	for (int i = 0; i < 6; i++)
	{
		uint32_t	got = rq_pcg32_next(&rng);

		RQ_CHECK(got == expected[i], "output %d: 0x%08x, expected 0x%08x", i, got, expected[i]);
	}
}

/* below() stays in range and hits every value of a small range evenly. */
static void
test_below_uniform(void)
{
	rq_pcg32	rng;
	int			counts[7] = {0};
	const int	n = 70000;

	rq_pcg32_seed(&rng, 1, 2);
	for (int i = 0; i < n; i++)
	{
		uint32_t	r = rq_pcg32_below(&rng, 7);

		RQ_CHECK(r < 7, "out of range: %u", r);
		if (r < 7)
			counts[r]++;
	}
	/* each count ~ Binomial(70000, 1/7): mean 10000, sd ~93; allow 6 sd */
	for (int v = 0; v < 7; v++)
		RQ_CHECK(abs(counts[v] - n / 7) < 560, "value %d drawn %d times", v, counts[v]);
}

/* uniform() lies in [0, 1) with mean 1/2 and variance 1/12. */
static void
test_uniform_moments(void)
{
	rq_pcg32	rng;
	const int	n = 100000;
	double		sum = 0,
				sum2 = 0;

	rq_pcg32_seed(&rng, 7, 0);
	for (int i = 0; i < n; i++)
	{
		double		u = rq_pcg32_uniform(&rng);

		RQ_CHECK(u >= 0.0 && u < 1.0, "out of range: %g", u);
		sum += u;
		sum2 += u * u;
	}
	RQ_CHECK(fabs(sum / n - 0.5) < 0.005, "mean %g", sum / n);
	RQ_CHECK(fabs(sum2 / n - sum * sum / ((double) n * n) - 1.0 / 12) < 0.002, "variance");
}

const rq_test_case rq_random_tests[] = {
	{"random/pcg32 reference sequence", test_reference_sequence, 0},
	{"random/below is uniform", test_below_uniform, 0},
	{"random/uniform moments", test_uniform_moments, 0},
	{NULL, NULL, 0}
};
