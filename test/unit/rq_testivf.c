/*
 * rq_testivf.c
 *	  Clustered test data and an in-memory IVF built from the core.
 */
#include "rq_testivf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rq_encode.h"
#include "core/rq_kmeans.h"
#include "core/rq_metric.h"
#include "core/rq_random.h"
#include "core/rq_select.h"
#include "rq_test.h"

#define LATENT 32
#define MIXTURE 300

/* One row: a random mixture component, latent Gaussian, linear map, noise. */
static void
rq_draw_row(rq_pcg32 *rng, int dim, const double *centres, const double *scales,
			const double *map, const double *offset, float *out)
{
	const double *c = centres + (size_t) rq_pcg32_below(rng, MIXTURE) * LATENT;
	double		z[LATENT];

	for (int l = 0; l < LATENT; l++)
		z[l] = c[l] + scales[l] * rq_pcg32_gaussian(rng);
	for (int d = 0; d < dim; d++)
	{
		double		v = offset[d] + 0.05 * rq_pcg32_gaussian(rng);

		for (int l = 0; l < LATENT; l++)
			v += map[(size_t) d * LATENT + l] * z[l];
		out[d] = (float) v;
	}
}

void
rq_make_clustered(rq_dataset *ds, int dim, size_t n, size_t nq, uint64_t seed)
{
	rq_pcg32	rng;
	double	   *centres = rq_test_alloc(sizeof(double) * MIXTURE * LATENT);
	double	   *map = rq_test_alloc(sizeof(double) * dim * LATENT);
	double	   *offset = calloc(dim, sizeof(double));
	double		scales[LATENT];
	double		spread = 0.0;

	rq_pcg32_seed(&rng, seed, 99);
	for (size_t i = 0; i < (size_t) MIXTURE * LATENT; i++)
		centres[i] = 1.3 * rq_pcg32_gaussian(&rng);
	for (int l = 0; l < LATENT; l++)
		scales[l] = 0.3 + 1.2 * rq_pcg32_uniform(&rng);		/* anisotropic */
	for (size_t i = 0; i < (size_t) dim * LATENT; i++)
		map[i] = rq_pcg32_gaussian(&rng) / sqrt((double) LATENT);
	/* a mean offset a few times the spread of the data (doc/RABITQ.md 9) */
	for (int d = 0; d < dim; d++)
	{
		offset[d] = rq_pcg32_gaussian(&rng);
		spread += offset[d] * offset[d];
	}
	/* each mapped coordinate has variance of a few units: |offset| = 2.5 sqrt(D) */
	for (int d = 0; d < dim; d++)
		offset[d] *= 2.5 * sqrt((double) dim) / sqrt(spread);

	ds->dim = dim;
	ds->n = n;
	ds->nq = nq;
	ds->base = rq_test_alloc(sizeof(float) * n * dim);
	ds->queries = rq_test_alloc(sizeof(float) * nq * dim);
	for (size_t i = 0; i < n; i++)
		rq_draw_row(&rng, dim, centres, scales, map, offset, ds->base + i * dim);
	for (size_t i = 0; i < nq; i++)
		rq_draw_row(&rng, dim, centres, scales, map, offset, ds->queries + i * dim);
	free(centres);
	free(map);
	free(offset);
}

void
rq_dataset_free(rq_dataset *ds)
{
	free(ds->base);
	free(ds->queries);
}

int32_t *
rq_ground_truth(const rq_dataset *ds, rq_metric metric, int k)
{
	int32_t    *gt = rq_test_alloc(sizeof(int32_t) * ds->nq * k);
	double	   *best = rq_test_alloc(sizeof(double) * k);

	for (size_t q = 0; q < ds->nq; q++)
	{
		const float *qv = ds->queries + q * ds->dim;
		int32_t    *ids = gt + q * k;

		for (int j = 0; j < k; j++)
			best[j] = INFINITY;
		for (size_t i = 0; i < ds->n; i++)
		{
			double		d = rq_metric_distance(metric, qv, ds->base + i * ds->dim, ds->dim);
			int			j = k - 1;

			if (d >= best[j])
				continue;
			/* insertion into the sorted top-k */
			while (j > 0 && best[j - 1] > d)
			{
				best[j] = best[j - 1];
				ids[j] = ids[j - 1];
				j--;
			}
			best[j] = d;
			ids[j] = (int32_t) i;
		}
	}
	free(best);
	return gt;
}

/* k-means on the preprocessed vectors, in the original space. */
static float *
rq_test_lists(const rq_test_ivf *ivf, uint64_t seed)
{
	rq_kmeans_config cfg = {.dim = ivf->ds->dim, .k = ivf->nlist, .max_iterations = 20, .seed = seed,
	.spherical = ivf->metric == RQ_METRIC_COSINE};
	void	   *work = rq_test_alloc(rq_kmeans_work_bytes(ivf->ds->n, &cfg));
	float	   *centroids = rq_test_alloc(sizeof(float) * ivf->nlist * ivf->ds->dim);
	rq_kmeans_result res;

	RQ_CHECK(rq_kmeans(ivf->vectors, ivf->ds->n, &cfg, centroids, work, &res) == RQ_OK,
			 "k-means failed");
	free(work);
	return centroids;
}

/* Assigns every row to its nearest list and groups the rows by list. */
static void
rq_test_group(rq_test_ivf *ivf)
{
	size_t		n = ivf->ds->n;
	float	   *xn = rq_test_alloc(sizeof(float) * n);
	float	   *cn = rq_test_alloc(sizeof(float) * ivf->nlist);
	float	   *block = rq_test_alloc(sizeof(float) * 256 * ivf->nlist);
	size_t	   *fill = calloc(ivf->nlist + 1, sizeof(size_t));

	rq_squared_norms(ivf->rotated, n, ivf->dp, xn);
	rq_squared_norms(ivf->centroids_rot, ivf->nlist, ivf->dp, cn);
	rq_assign_nearest(ivf->rotated, xn, n, ivf->dp, ivf->centroids_rot, cn, ivf->nlist,
					  ivf->list_of, NULL, block, 256);
	ivf->list_start = calloc(ivf->nlist + 1, sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		ivf->list_start[ivf->list_of[i] + 1]++;
	for (int l = 0; l < ivf->nlist; l++)
		ivf->list_start[l + 1] += ivf->list_start[l];
	for (size_t i = 0; i < n; i++)
		ivf->order[ivf->list_start[ivf->list_of[i]] + fill[ivf->list_of[i]]++] = (int32_t) i;
	free(xn);
	free(cn);
	free(block);
	free(fill);
}

/* Copies each list's codes and factors into blocks of 8 (the last one partial). */
static void
rq_test_ivf_pack(rq_test_ivf *ivf)
{
	int			dp = ivf->dp,
				words = rq_code_words(dp);

	ivf->list_block = calloc(ivf->nlist + 1, sizeof(size_t));
	for (int l = 0; l < ivf->nlist; l++)
		ivf->list_block[l + 1] = ivf->list_block[l] +
			(ivf->list_start[l + 1] - ivf->list_start[l] + RQ_BLOCK_LANES - 1) / RQ_BLOCK_LANES;
	ivf->blocks = calloc(ivf->list_block[ivf->nlist] + 1, rq_test_block_bytes(dp));
	for (int l = 0; l < ivf->nlist; l++)
		for (size_t pos = ivf->list_start[l]; pos < ivf->list_start[l + 1]; pos++)
		{
			size_t		k = pos - ivf->list_start[l];

			rq_test_block_put(ivf->blocks + (ivf->list_block[l] + k / RQ_BLOCK_LANES) * rq_test_block_bytes(dp),
							  dp, (int) (k % RQ_BLOCK_LANES), ivf->codes + pos * words, &ivf->factors[pos]);
		}
}

const void *
rq_test_ivf_blocks(const rq_test_ivf *ivf, int l, size_t *nblocks)
{
	*nblocks = ivf->list_block[l + 1] - ivf->list_block[l];
	return ivf->blocks + ivf->list_block[l] * rq_test_block_bytes(ivf->dp);
}

void
rq_test_ivf_build(rq_test_ivf *ivf, const rq_dataset *ds, rq_metric metric, int nlist,
				  rq_test_rotation_kind kind, uint64_t seed)
{
	int			dim = ds->dim,
				dp = rq_padded_dim(dim),
				words = rq_code_words(dp);
	float	   *centroids,
			   *residual = rq_test_alloc(sizeof(float) * dp);

	memset(ivf, 0, sizeof(*ivf));
	ivf->ds = ds;
	ivf->metric = metric;
	ivf->dp = dp;
	ivf->nlist = nlist;
	ivf->vectors = rq_test_alloc(sizeof(float) * ds->n * dim);
	for (size_t i = 0; i < ds->n; i++)
		RQ_CHECK(rq_preprocess(metric, ds->base + i * dim, dim, ivf->vectors + i * dim) == RQ_OK,
				 "preprocess row %zu", i);
	rq_test_rotation_make(&ivf->rotation, kind, dim, seed);

	centroids = rq_test_lists(ivf, seed);
	ivf->centroids_rot = rq_test_alloc(sizeof(float) * nlist * dp);
	rq_test_rotate_batch(&ivf->rotation, centroids, nlist, ivf->centroids_rot);
	free(centroids);
	ivf->rotated = rq_test_alloc(sizeof(float) * ds->n * dp);
	rq_test_rotate_batch(&ivf->rotation, ivf->vectors, ds->n, ivf->rotated);

	ivf->list_of = rq_test_alloc(sizeof(int32_t) * ds->n);
	ivf->order = rq_test_alloc(sizeof(int32_t) * ds->n);
	rq_test_group(ivf);

	ivf->codes = rq_test_alloc(sizeof(uint64_t) * ds->n * words);
	ivf->factors = rq_test_alloc(sizeof(rq_factors) * ds->n);
	for (size_t pos = 0; pos < ds->n; pos++)
	{
		size_t		row = ivf->order[pos];
		float		residual2;

		RQ_CHECK(rq_encode_entry(ivf->rotated + row * dp, ivf->centroids_rot + (size_t) ivf->list_of[row] * dp,
								 dp, metric, residual, ivf->codes + pos * words, &ivf->factors[pos],
								 &residual2) == RQ_OK, "encode row %zu", row);
	}
	free(residual);
	rq_test_ivf_pack(ivf);
}

void
rq_test_ivf_free(rq_test_ivf *ivf)
{
	rq_test_rotation_free(&ivf->rotation);
	free(ivf->vectors);
	free(ivf->rotated);
	free(ivf->centroids_rot);
	free(ivf->list_of);
	free(ivf->order);
	free(ivf->list_start);
	free(ivf->codes);
	free(ivf->factors);
	free(ivf->blocks);
	free(ivf->list_block);
}

void
rq_test_ivf_query(const rq_test_ivf *ivf, const float *q, float *out)
{
	float	   *pre = rq_test_alloc(sizeof(float) * ivf->ds->dim);

	RQ_CHECK(rq_preprocess(ivf->metric, q, ivf->ds->dim, pre) == RQ_OK, "query preprocess");
	rq_test_rotate(&ivf->rotation, pre, out);
	free(pre);
}

void
rq_test_ivf_rank_lists(const rq_test_ivf *ivf, const float *q_rot, int32_t *lists)
{
	float	   *score = rq_test_alloc(sizeof(float) * ivf->nlist),
			   *cn = rq_test_alloc(sizeof(float) * ivf->nlist);
	rq_ranked  *ranked = rq_test_alloc(sizeof(rq_ranked) * ivf->nlist);

	rq_squared_norms(ivf->centroids_rot, ivf->nlist, ivf->dp, cn);
	rq_score_lists(ivf->metric, q_rot, ivf->centroids_rot, cn, ivf->nlist, ivf->dp, score);
	RQ_CHECK(rq_select_smallest(score, ivf->nlist, ivf->nlist, NULL, ranked) == ivf->nlist, "rank lists");
	for (int l = 0; l < ivf->nlist; l++)
		lists[l] = ranked[l].index;
	free(score);
	free(cn);
	free(ranked);
}

double
rq_test_exact_distance(const rq_test_ivf *ivf, const float *q, size_t row)
{
	return rq_metric_distance(ivf->metric, q, ivf->ds->base + row * ivf->ds->dim, ivf->ds->dim);
}
