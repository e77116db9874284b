/*
 * gen_vectors.c
 *	  Deterministic clustered vectors as PostgreSQL COPY text ("id<TAB>[...]"),
 *	  for the TAP tests: the latent-mixture model of doc/RABITQ.md 9 (a 32-dim
 *	  mixture of 300 anisotropic Gaussians mapped linearly to D dimensions,
 *	  plus isotropic noise and a mean offset), from PCG32.
 *
 *	  gen_vectors DIM ROWS SEED [FIRST_ID]
 *
 * Rows with different seeds come from different mixtures; queries should be
 * drawn with the base's seed and a different FIRST_ID: the row stream for a
 * seed is fixed, so the generator skips ahead to FIRST_ID.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/rq_random.h"

#define LATENT 32
#define MIXTURE 300

int
main(int argc, char **argv)
{
	int			dim;
	long		rows,
				first;
	unsigned long seed;
	rq_pcg32	model,
				rows_rng;
	static double centres[MIXTURE][LATENT],
				scales[LATENT];
	double	   *map,
			   *offset,
				spread = 0.0;

	if (argc < 4)
	{
		fprintf(stderr, "usage: gen_vectors DIM ROWS SEED [FIRST_ID]\n");
		return 2;
	}
	dim = atoi(argv[1]);
	rows = atol(argv[2]);
	seed = strtoul(argv[3], NULL, 10);
	first = argc > 4 ? atol(argv[4]) : 0;
	map = malloc(sizeof(double) * dim * LATENT);
	offset = malloc(sizeof(double) * dim);

	/* the model depends on the seed only */
	rq_pcg32_seed(&model, seed, 1);
	for (int c = 0; c < MIXTURE; c++)
		for (int l = 0; l < LATENT; l++)
			centres[c][l] = 1.3 * rq_pcg32_gaussian(&model);
	for (int l = 0; l < LATENT; l++)
		scales[l] = 0.3 + 1.2 * rq_pcg32_uniform(&model);
	for (long i = 0; i < (long) dim * LATENT; i++)
		map[i] = rq_pcg32_gaussian(&model) / sqrt((double) LATENT);
	for (int d = 0; d < dim; d++)
	{
		offset[d] = rq_pcg32_gaussian(&model);
		spread += offset[d] * offset[d];
	}
	for (int d = 0; d < dim; d++)
		offset[d] *= 2.5 * sqrt((double) dim) / sqrt(spread);

	/* row i always comes from stream i of the seed, so ids are stable */
	for (long i = first; i < first + rows; i++)
	{
		int			c;
		double		z[LATENT];

		rq_pcg32_seed(&rows_rng, seed, 1000 + (uint64_t) i);
		c = (int) rq_pcg32_below(&rows_rng, MIXTURE);
		for (int l = 0; l < LATENT; l++)
			z[l] = centres[c][l] + scales[l] * rq_pcg32_gaussian(&rows_rng);
		printf("%ld\t[", i);
		for (int d = 0; d < dim; d++)
		{
			double		v = offset[d] + 0.05 * rq_pcg32_gaussian(&rows_rng);

			for (int l = 0; l < LATENT; l++)
				v += map[(long) d * LATENT + l] * z[l];
			printf(d ? ",%.6g" : "%.6g", v);
		}
		printf("]\n");
	}
	free(map);
	free(offset);
	return 0;
}
