/*
 * gen_vectors.c
 *	  Deterministic clustered vectors as PostgreSQL COPY text ("id<TAB>[...]"),
 *	  for the TAP tests: the latent-mixture model of doc/RABITQ.md 9 (a 32-dim
 *	  mixture of 300 anisotropic Gaussians mapped linearly to D dimensions,
 *	  plus isotropic noise and a mean offset), from PCG32.
 *
 *	  gen_vectors [--binary] DIM ROWS SEED [FIRST_ID]
 *	  gen_vectors --truth l2|cosine DIM ROWS SEED QUERY_FIRST_ID QUERIES K
 *
 * Rows with different seeds come from different mixtures; queries should be
 * drawn with the base's seed and a different FIRST_ID: the row stream for a
 * seed is fixed, so the generator skips ahead to FIRST_ID.
 *
 * --binary writes COPY's binary format (FORMAT binary: an int4 id and a
 * vector in pgvector's binary form), each value the float nearest the
 * model's, and is much faster than text for ten million rows.  --truth
 * prints, for QUERIES query rows from QUERY_FIRST_ID, "qid<TAB>{ids}": the K
 * nearest of rows 0..ROWS-1 by exact search over those same float values
 * (ties by id), an oracle independent of the database for binary loads.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "core/rq_random.h"

#define LATENT 32
#define MIXTURE 300

typedef struct Model
{
	int			dim;
	uint64_t	seed;
	double		centres[MIXTURE][LATENT];
	double		scales[LATENT];
	double	   *map;			/* dim x LATENT */
	double	   *offset;			/* dim */
} Model;

/* The mixture: it depends on the seed only. */
static Model *
model_new(int dim, uint64_t seed)
{
	Model	   *m = calloc(1, sizeof(Model));
	rq_pcg32	rng;
	double		spread = 0.0;

	m->dim = dim;
	m->seed = seed;
	m->map = malloc(sizeof(double) * dim * LATENT);
	m->offset = malloc(sizeof(double) * dim);
	rq_pcg32_seed(&rng, seed, 1);
	for (int c = 0; c < MIXTURE; c++)
		for (int l = 0; l < LATENT; l++)
			m->centres[c][l] = 1.3 * rq_pcg32_gaussian(&rng);
	for (int l = 0; l < LATENT; l++)
		m->scales[l] = 0.3 + 1.2 * rq_pcg32_uniform(&rng);
	for (long i = 0; i < (long) dim * LATENT; i++)
		m->map[i] = rq_pcg32_gaussian(&rng) / sqrt((double) LATENT);
	for (int d = 0; d < dim; d++)
	{
		m->offset[d] = rq_pcg32_gaussian(&rng);
		spread += m->offset[d] * m->offset[d];
	}
	for (int d = 0; d < dim; d++)
		m->offset[d] *= 2.5 * sqrt((double) dim) / sqrt(spread);
	return m;
}

/* Row i (always from stream i of the seed, so ids are stable). */
static void
model_row(const Model *m, long i, double *out)
{
	rq_pcg32	rng;
	int			c;
	double		z[LATENT];

	rq_pcg32_seed(&rng, m->seed, 1000 + (uint64_t) i);
	c = (int) rq_pcg32_below(&rng, MIXTURE);
	for (int l = 0; l < LATENT; l++)
		z[l] = m->centres[c][l] + m->scales[l] * rq_pcg32_gaussian(&rng);
	for (int d = 0; d < m->dim; d++)
	{
		double		v = m->offset[d] + 0.05 * rq_pcg32_gaussian(&rng);

		for (int l = 0; l < LATENT; l++)
			v += m->map[(long) d * LATENT + l] * z[l];
		out[d] = v;
	}
}

/* Row i as the floats a binary load stores. */
static void
model_row_float(const Model *m, long i, double *work, float *out)
{
	model_row(m, i, work);
	for (int d = 0; d < m->dim; d++)
		out[d] = (float) work[d];
}

static void
put_be32(uint32_t v)
{
	uint32_t	be = htonl(v);

	fwrite(&be, 4, 1, stdout);
}

static void
put_be16(uint16_t v)
{
	uint16_t	be = htons(v);

	fwrite(&be, 2, 1, stdout);
}

/* COPY ... (FORMAT binary): header, rows of (int4 id, vector), trailer. */
static void
write_binary(const Model *m, long first, long rows)
{
	double	   *work = malloc(sizeof(double) * m->dim);
	float	   *row = malloc(sizeof(float) * m->dim);

	fwrite("PGCOPY\n\377\r\n\0", 11, 1, stdout);
	put_be32(0);				/* flags */
	put_be32(0);				/* header extension */
	for (long i = first; i < first + rows; i++)
	{
		model_row_float(m, i, work, row);
		put_be16(2);
		put_be32(4);
		put_be32((uint32_t) i);
		put_be32(4 + 4 * (uint32_t) m->dim);
		put_be16((uint16_t) m->dim);
		put_be16(0);
		for (int d = 0; d < m->dim; d++)
		{
			uint32_t	bits;

			memcpy(&bits, &row[d], 4);
			put_be32(bits);
		}
	}
	put_be16(0xFFFF);
	free(work);
	free(row);
}

static void
write_text(const Model *m, long first, long rows)
{
	double	   *row = malloc(sizeof(double) * m->dim);

	for (long i = first; i < first + rows; i++)
	{
		model_row(m, i, row);
		printf("%ld\t[", i);
		for (int d = 0; d < m->dim; d++)
			printf(d ? ",%.6g" : "%.6g", row[d]);
		printf("]\n");
	}
	free(row);
}

/* The distance PostgreSQL's operator computes, in double over the floats. */
static double
distance(const float *a, const float *b, int dim, int cosine)
{
	double		dot = 0.0,
				na = 0.0,
				nb = 0.0,
				l2 = 0.0;

	for (int d = 0; d < dim; d++)
	{
		double		x = a[d],
					y = b[d];

		if (cosine)
		{
			dot += x * y;
			na += x * x;
			nb += y * y;
		}
		else
			l2 += (x - y) * (x - y);
	}
	return cosine ? 1.0 - dot / sqrt(na * nb) : l2;
}

/* Exact K nearest of rows 0..rows-1 for each query, kept sorted by (distance, id). */
static void
write_truth(const Model *m, int cosine, long rows, long qfirst, int nq, int k)
{
	float	   *queries = malloc(sizeof(float) * m->dim * nq);
	float	   *row = malloc(sizeof(float) * m->dim);
	double	   *work = malloc(sizeof(double) * m->dim);
	double	   *best_d = malloc(sizeof(double) * nq * k);
	long	   *best_id = malloc(sizeof(long) * nq * k);

	for (int q = 0; q < nq; q++)
		model_row_float(m, qfirst + q, work, queries + (long) q * m->dim);
	for (long i = 0; i < (long) nq * k; i++)
	{
		best_d[i] = INFINITY;
		best_id[i] = -1;
	}
	for (long i = 0; i < rows; i++)
	{
		model_row_float(m, i, work, row);
		for (int q = 0; q < nq; q++)
		{
			double		dist = distance(queries + (long) q * m->dim, row, m->dim, cosine);
			double	   *bd = best_d + (long) q * k;
			long	   *bi = best_id + (long) q * k;
			int			j;

			if (dist >= bd[k - 1])
				continue;
			for (j = k - 1; j > 0 && bd[j - 1] > dist; j--)
			{
				bd[j] = bd[j - 1];
				bi[j] = bi[j - 1];
			}
			bd[j] = dist;
			bi[j] = i;
		}
	}
	for (int q = 0; q < nq; q++)
	{
		printf("%ld\t{", qfirst + q);
		for (int j = 0; j < k; j++)
			printf(j ? ",%ld" : "%ld", best_id[(long) q * k + j]);
		printf("}\n");
	}
	free(queries);
	free(row);
	free(work);
	free(best_d);
	free(best_id);
}

int
main(int argc, char **argv)
{
	if (argc == 9 && strcmp(argv[1], "--truth") == 0)
	{
		Model	   *m = model_new(atoi(argv[3]), strtoull(argv[5], NULL, 10));

		write_truth(m, strcmp(argv[2], "cosine") == 0, atol(argv[4]), atol(argv[6]), atoi(argv[7]),
					atoi(argv[8]));
		return 0;
	}
	if (argc >= 5 && strcmp(argv[1], "--binary") == 0)
	{
		Model	   *m = model_new(atoi(argv[2]), strtoull(argv[4], NULL, 10));

		write_binary(m, argc > 5 ? atol(argv[5]) : 0, atol(argv[3]));
		return 0;
	}
	if (argc >= 4 && argv[1][0] != '-')
	{
		Model	   *m = model_new(atoi(argv[1]), strtoull(argv[3], NULL, 10));

		write_text(m, argc > 4 ? atol(argv[4]) : 0, atol(argv[2]));
		return 0;
	}
	fprintf(stderr, "usage: gen_vectors [--binary] DIM ROWS SEED [FIRST_ID]\n"
			"       gen_vectors --truth l2|cosine DIM ROWS SEED QUERY_FIRST_ID QUERIES K\n");
	return 2;
}
