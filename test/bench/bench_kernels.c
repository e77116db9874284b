/*
 * bench_kernels.c
 *	  Throughput of the exact distance kernels: nanoseconds per distance for
 *	  every variant this CPU runs, at D = 128, 768 and 1536, with the speed-up
 *	  over the scalar variant measured in the same run.
 *
 * Each measurement computes the distance from one query to every vector of a
 * 4 MiB block (the shape of a re-rank or a sequential scan), repeated until at
 * least 0.2 s has passed; the best of 5 measurements is reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/rq_distance.h"
#include "core/rq_random.h"

#define BLOCK_BYTES (4u << 20)

static const size_t dims[] = {128, 768, 1536};
static const char *const kernel_names[] = {"l2sq", "dot", "l1", "cosine"};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One pass of kernel k over all n vectors; returns a checksum. */
static float
pass(const rq_distance_kernels *kern, int k, const float *q, const float *data,
	 size_t n, size_t d)
{
	float		sum = 0.0f;
	float		parts[3];

	for (size_t i = 0; i < n; i++)
	{
		const float *x = data + i * d;

		if (k == 0)
			sum += kern->l2sq(q, x, d);
		else if (k == 1)
			sum += kern->dot(q, x, d);
		else if (k == 2)
			sum += kern->l1(q, x, d);
		else
		{
			kern->cosine(q, x, d, parts);
			sum += parts[0];
		}
	}
	return sum;
}

/* Best-of-5 nanoseconds per distance. */
static double
measure(const rq_distance_kernels *kern, int k, const float *q, const float *data,
		size_t n, size_t d)
{
	volatile float sink = 0.0f;
	double		best = 1e30;

	for (int rep = 0; rep < 5; rep++)
	{
		double		start = now(),
					elapsed;
		long		passes = 0;

		do
		{
			sink += pass(kern, k, q, data, n, d);
			passes++;
			elapsed = now() - start;
		} while (elapsed < 0.2);
		if (elapsed * 1e9 / (passes * (double) n) < best)
			best = elapsed * 1e9 / (passes * (double) n);
	}
	(void) sink;
	return best;
}

int
main(void)
{
	int			levels = (int) rq_cpu_detect() + 1;
	rq_pcg32	rng;

	rq_pcg32_seed(&rng, 1, 1);
	printf("exact distance kernels, ns per distance (speed-up over scalar); CPU level %s\n",
		   rq_isa_name(rq_cpu_detect()));
	printf("%-7s %5s", "kernel", "D");
	for (int l = 0; l < levels; l++)
		printf(" %20s", rq_isa_name((rq_isa) l));
	printf("\n");

	for (size_t di = 0; di < sizeof(dims) / sizeof(dims[0]); di++)
	{
		size_t		d = dims[di];
		size_t		n = BLOCK_BYTES / (sizeof(float) * d);
		float	   *data = malloc(sizeof(float) * n * d);
		float	   *q = malloc(sizeof(float) * d);

		for (size_t i = 0; i < n * d; i++)
			data[i] = (float) rq_pcg32_uniform(&rng);
		for (size_t i = 0; i < d; i++)
			q[i] = (float) rq_pcg32_uniform(&rng);
		for (int k = 0; k < 4; k++)
		{
			double		scalar = 0;

			printf("%-7s %5zu", kernel_names[k], d);
			for (int l = 0; l < levels; l++)
			{
				double		ns = measure(rq_distance_kernels_for((rq_isa) l), k, q, data, n, d);

				if (l == 0)
					scalar = ns;
				printf(" %12.1f (%5.1fx)", ns, scalar / ns);
			}
			printf("\n");
			fflush(stdout);
		}
		free(data);
		free(q);
	}
	return 0;
}
