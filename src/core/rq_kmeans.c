/*
 * rq_kmeans.c
 *	  k-means++ seeding and GEMM-based Lloyd iterations.
 */
#include "rq_kmeans.h"

#include <math.h>
#include <string.h>

#include "rq_blas.h"
#include "rq_distance.h"
#include "rq_groups.h"
#include "rq_random.h"

#define RQ_STREAM_KMEANS 0x6b6dULL
/* The workspace, carved out of the caller's block. */
typedef struct rq_kmeans_work
{
	int32_t    *assign;			/* n */
	float	   *dist;			/* n */
	float	   *xnorm2;			/* n */
	int32_t    *fresh;			/* a batch's new assignments */
	double	   *sums;			/* k x dim */
	int64_t    *counts;			/* k */
	uint32_t   *sample;			/* m */
	double	   *mindist;		/* m */
	float	   *rows;			/* m x dim: the sample, contiguous */
	float	   *rownorm2;		/* m */
	float	   *dots;			/* m */
	void	   *assigner;		/* rq_kmeans_assigner_bytes */
} rq_kmeans_work;

/* Rows a grouped assignment searches at once (gathered per group: many, for its GEMMs). */
#define RQ_GROUPED_ROWS 1024

#define RQ_GEMM_BLOCK_WORK (UINT64_C(1) << 25)

size_t
rq_gemm_block_rows(int k, int dim)
{
	uint64_t	per_row = (uint64_t) (k > 0 ? k : 1) * (uint64_t) (dim > 0 ? dim : 1);
	uint64_t	rows = RQ_GEMM_BLOCK_WORK / per_row;

	return rows < 1 ? 1 : (rows > 1024 ? 1024 : (size_t) rows);
}

static size_t
rq_block_rows(const rq_kmeans_config *cfg)
{
	return cfg->block_rows ? cfg->block_rows : rq_gemm_block_rows(cfg->k, cfg->dim);
}

/* Groups an assignment uses (0: compares with every centroid). */
static int
rq_assign_groups(const rq_kmeans_config *cfg)
{
	return cfg->max_groups > 0 ? rq_groups_count(cfg->k, cfg->max_groups) : 0;
}

/* Rows of the largest batch an assigner may run. */
static size_t
rq_largest_batch(const rq_kmeans_config *cfg)
{
	size_t		rows = rq_block_rows(cfg);

	return rq_assign_groups(cfg) && rows < RQ_GROUPED_ROWS ? RQ_GROUPED_ROWS : rows;
}

static inline void
rq_tick(const rq_kmeans_config *cfg, rq_kmeans_stage stage, int done, int total)
{
	if (cfg->tick != NULL)
		cfg->tick(cfg->tick_ctx, stage, done, total);
}

static size_t
rq_seed_sample(size_t n, const rq_kmeans_config *cfg)
{
	size_t		m = cfg->seed_sample;

	if (m == 0)
		m = (size_t) cfg->k * 8 > 8192 ? (size_t) cfg->k * 8 : 8192;
	return m < n ? m : n;
}

/*
 * Lays out an assigner's scratch (and measures it when base is NULL): the
 * groups' header, the centroids' norms, a GEMM block (also with groups: a
 * grouping that fails falls back to it), the groups and a batch's search.
 */
static size_t
rq_assigner_layout(const rq_kmeans_config *cfg, char *base, rq_kmeans_assigner *a, void **groups_mem)
{
	size_t		k = (size_t) cfg->k;
	int			ng = rq_assign_groups(cfg);
	void	   *parts[5];
	size_t		sizes[5] = {
		ng ? sizeof(rq_groups) : 0, k * sizeof(float), rq_block_rows(cfg) * k * sizeof(float),
		ng ? rq_groups_bytes(cfg->k, cfg->dim, ng) : 0,
		ng ? rq_groups_search_bytes(cfg->k, cfg->dim, ng, cfg->max_groups, RQ_GROUPED_ROWS) : 0
	};
	size_t		off = rq_carve(base, sizes, parts, 5);

	if (a != NULL)
	{
		a->groups = ng ? parts[0] : NULL;
		a->cnorm2 = parts[1];
		a->block = parts[2];
		a->search = ng ? parts[4] : NULL;
		*groups_mem = parts[3];
	}
	return off;
}

size_t
rq_kmeans_assigner_bytes(const rq_kmeans_config *cfg)
{
	return rq_assigner_layout(cfg, NULL, NULL, NULL);
}

void
rq_kmeans_assigner_start(rq_kmeans_assigner *a, const rq_kmeans_config *cfg, const float *centroids,
						 int iteration, void *scratch)
{
	void	   *groups_mem;

	a->cfg = cfg;
	a->centroids = centroids;
	rq_assigner_layout(cfg, scratch, a, &groups_mem);
	rq_squared_norms(centroids, cfg->k, cfg->dim, a->cnorm2);
	a->batch_rows = rq_block_rows(cfg);
	if (a->groups != NULL &&
		rq_groups_build(centroids, a->cnorm2, cfg->k, cfg->dim, rq_assign_groups(cfg), cfg->max_groups,
						cfg->seed + (uint64_t) iteration, groups_mem, a->groups, cfg->tick,
						cfg->tick_ctx) == RQ_OK)
		a->batch_rows = RQ_GROUPED_ROWS;
	else
		a->groups = NULL;
}

size_t
rq_kmeans_batches(const rq_kmeans_assigner *a, size_t n)
{
	return (n + a->batch_rows - 1) / a->batch_rows;
}

size_t
rq_kmeans_batch_span(const rq_kmeans_assigner *a, size_t n, size_t b, size_t *start)
{
	size_t		first = b * a->batch_rows;

	if (start != NULL)
		*start = first;
	return n - first < a->batch_rows ? n - first : a->batch_rows;
}

void
rq_kmeans_assign_batch(const rq_kmeans_assigner *a, const float *data, const float *xnorm2, size_t n,
					   size_t b, int32_t *assign, float *dist)
{
	const rq_kmeans_config *cfg = a->cfg;
	size_t		start;
	size_t		rows = rq_kmeans_batch_span(a, n, b, &start);

	if (a->groups != NULL)
		rq_groups_nearest(a->groups, data + start * cfg->dim, xnorm2 + start, rows, assign, dist,
						  a->search, NULL);
	else
		rq_assign_nearest(data + start * cfg->dim, xnorm2 + start, rows, cfg->dim, a->centroids,
						  a->cnorm2, cfg->k, assign, dist, a->block, rows);
}

/* Lays the workspace out (and measures it when base is NULL). */
static size_t
rq_kmeans_layout(size_t n, const rq_kmeans_config *cfg, char *base, rq_kmeans_work *w)
{
	size_t		k = (size_t) cfg->k,
				m = rq_seed_sample(n, cfg);
	void	   *parts[12];
	size_t		sizes[12] = {
		n * sizeof(int32_t), n * sizeof(float), n * sizeof(float),
		rq_largest_batch(cfg) * sizeof(int32_t),
		k * cfg->dim * sizeof(double), k * sizeof(int64_t),
		m * sizeof(uint32_t), m * sizeof(double), m * cfg->dim * sizeof(float),
		m * sizeof(float), m * sizeof(float), rq_kmeans_assigner_bytes(cfg)
	};
	size_t		off = rq_carve(base, sizes, parts, 12);

	if (w != NULL)
	{
		w->assign = parts[0];
		w->dist = parts[1];
		w->xnorm2 = parts[2];
		w->fresh = parts[3];
		w->sums = parts[4];
		w->counts = parts[5];
		w->sample = parts[6];
		w->mindist = parts[7];
		w->rows = parts[8];
		w->rownorm2 = parts[9];
		w->dots = parts[10];
		w->assigner = parts[11];
	}
	return off;
}

size_t
rq_kmeans_work_bytes(size_t n, const rq_kmeans_config *cfg)
{
	return rq_kmeans_layout(n, cfg, NULL, NULL);
}

int
rq_default_lists(double rows, int max_k)
{
	double		lists = (rows <= 1000000.0) ? rows / 1000.0 : sqrt(rows);

	if (!(lists >= 1.0))
		return 1;
	return lists >= (double) max_k ? max_k : (int) lists;
}

void
rq_squared_norms(const float *x, size_t n, int dim, float *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = rq_dist.dot(x + i * dim, x + i * dim, dim);
}

void
rq_assign_nearest(const float *data, const float *xnorm2, size_t n, int dim,
				  const float *centroids, const float *cnorm2, int k,
				  int32_t *assign, float *dist, float *block, size_t block_rows)
{
	for (size_t start = 0; start < n; start += block_rows)
	{
		size_t		rows = (n - start < block_rows) ? n - start : block_rows;

		/* block = X_rows * C^T */
		rq_sgemm_abt((int) rows, k, dim, data + start * dim, dim, centroids, dim, block, k);
		for (size_t r = 0; r < rows; r++)
		{
			const float *dots = block + r * k;
			int			best = 0;
			float		best_d = cnorm2[0] - 2.0f * dots[0];

			for (int j = 1; j < k; j++)
			{
				float		d = cnorm2[j] - 2.0f * dots[j];

				if (d < best_d)
				{
					best_d = d;
					best = j;
				}
			}
			best_d += xnorm2[start + r];
			if (assign != NULL)
				assign[start + r] = best;
			if (dist != NULL)
				dist[start + r] = best_d > 0.0f ? best_d : 0.0f;
		}
	}
}

/*
 * m distinct row numbers out of n, uniformly, in increasing order: selection
 * sampling (Knuth, TAOCP 3.4.2, Algorithm S) takes row i with probability
 * (rows still wanted) / (rows left), which yields exactly m rows.
 */
static void
rq_sample_rows(rq_pcg32 *rng, size_t n, size_t m, uint32_t *out)
{
	size_t		count = 0;

	for (size_t i = 0; i < n && count < m; i++)
	{
		if ((double) (n - i) * rq_pcg32_uniform(rng) < (double) (m - count))
			out[count++] = (uint32_t) i;
	}
}

/*
 * Lowers mindist[i] to the squared distance between sample row i and centre
 * c (norm2 its squared norm): one sgemv over the contiguous sample.
 */
static void
rq_seed_update(rq_kmeans_work *w, size_t m, int dim, const float *c, float norm2)
{
	rq_sgemv((int) m, dim, w->rows, dim, c, w->dots);
	for (size_t i = 0; i < m; i++)
	{
		double		d = (double) w->rownorm2[i] - 2.0 * w->dots[i] + norm2;

		d = d > 0.0 ? d : 0.0;
		if (d < w->mindist[i])
			w->mindist[i] = d;
	}
}

/* Row of the sample chosen with probability proportional to mindist. */
static size_t
rq_seed_pick(rq_pcg32 *rng, const double *mindist, size_t m)
{
	double		total = 0.0,
				target;

	for (size_t i = 0; i < m; i++)
		total += mindist[i];
	/* total == 0 (every row already a centre): any row will do */
	if (total == 0.0)
		return rq_pcg32_below(rng, (uint32_t) m);
	target = rq_pcg32_uniform(rng) * total;
	for (size_t i = 0; i < m; i++)
	{
		target -= mindist[i];
		if (target < 0.0)
			return i;
	}
	return m - 1;
}

/*
 * k-means++ (Arthur & Vassilvitskii 2007) on a uniform sample of the rows,
 * copied into one contiguous block so each new centre costs one sgemv.
 */
rq_status
rq_kmeans_seed(const float *data, size_t n, const rq_kmeans_config *cfg, float *centroids,
			   void *work)
{
	rq_kmeans_work w;
	rq_pcg32	rng;
	size_t		m = rq_seed_sample(n, cfg);
	int			dim = cfg->dim;

	if (cfg->k < 1 || (size_t) cfg->k > n || dim < 1)
		return RQ_ERR_ARGUMENT;
	rq_kmeans_layout(n, cfg, work, &w);
	rq_pcg32_seed(&rng, cfg->seed, RQ_STREAM_KMEANS);
	rq_sample_rows(&rng, n, m, w.sample);
	for (size_t i = 0; i < m; i++)
		memcpy(w.rows + i * dim, data + (size_t) w.sample[i] * dim, sizeof(float) * dim);
	rq_squared_norms(w.rows, m, dim, w.rownorm2);

	for (size_t i = 0; i < m; i++)
		w.mindist[i] = INFINITY;
	for (int c = 0; c < cfg->k; c++)
	{
		size_t		pick = (c == 0) ? rq_pcg32_below(&rng, (uint32_t) m)
			: rq_seed_pick(&rng, w.mindist, m);
		float	   *centre = centroids + (size_t) c * dim;

		memcpy(centre, w.rows + pick * dim, sizeof(float) * dim);
		rq_seed_update(&w, m, dim, centre, w.rownorm2[pick]);
		rq_tick(cfg, RQ_KMEANS_SEEDING, c + 1, cfg->k);
	}
	return RQ_OK;
}

/* Scales each centroid to unit length (spherical k-means); zero stays zero. */
static void
rq_normalize_rows(float *x, int k, int dim)
{
	for (int j = 0; j < k; j++)
	{
		float	   *row = x + (size_t) j * dim;
		double		norm = sqrt((double) rq_dist.dot(row, row, dim));

		if (norm > 0.0)
			rq_sscal(dim, (float) (1.0 / norm), row);
	}
}

/*
 * Gives every empty cluster the row farthest from its own centroid (among
 * clusters with more than one row); returns how many were re-seeded.
 */
static int
rq_reseed_empty(const float *data, size_t n, const rq_kmeans_config *cfg, rq_kmeans_work *w,
				float *centroids, int iteration)
{
	int			dim = cfg->dim,
				k = cfg->k;
	int			reseeded = 0;

	for (int j = 0; j < k; j++)
	{
		size_t		far = n;

		if (w->counts[j] > 0)
			continue;
		for (size_t i = 0; i < n; i++)
			if (w->counts[w->assign[i]] > 1 && (far == n || w->dist[i] > w->dist[far]))
				far = i;
		if (far == n)
			break;				/* fewer distinct rows than clusters */
		memcpy(centroids + (size_t) j * dim, data + far * dim, sizeof(float) * dim);
		w->counts[w->assign[far]]--;
		w->counts[j] = 1;
		w->assign[far] = j;
		w->dist[far] = 0.0f;
		reseeded++;
		rq_tick(cfg, RQ_KMEANS_LLOYD, iteration, cfg->max_iterations);
	}
	return reseeded;
}

/* New centroids: the mean of each cluster's rows (sums in double). */
static void
rq_update_centroids(const float *data, size_t n, int dim, int k, rq_kmeans_work *w,
					float *centroids)
{
	memset(w->sums, 0, sizeof(double) * k * dim);
	memset(w->counts, 0, sizeof(int64_t) * k);
	for (size_t i = 0; i < n; i++)
	{
		double	   *sum = w->sums + (size_t) w->assign[i] * dim;
		const float *x = data + i * dim;

		for (int d = 0; d < dim; d++)
			sum[d] += x[d];
		w->counts[w->assign[i]]++;
	}
	for (int j = 0; j < k; j++)
	{
		if (w->counts[j] == 0)
			continue;
		for (int d = 0; d < dim; d++)
			centroids[(size_t) j * dim + d] = (float) (w->sums[(size_t) j * dim + d] / w->counts[j]);
	}
}

/* Records block `rows` rows from `start`'s fresh assignments; returns how many changed. */
static size_t
rq_lloyd_record(rq_kmeans_work *w, size_t start, size_t rows)
{
	size_t		changed = 0;

	for (size_t r = 0; r < rows; r++)
	{
		changed += (w->assign[start + r] != w->fresh[r]);
		w->assign[start + r] = w->fresh[r];
	}
	return changed;
}

/*
 * One Lloyd assignment of every row (w->assign, w->dist), batch after batch
 * (or by the caller's assign_all); returns the rows that changed cluster.
 */
static size_t
rq_lloyd_assign(const float *data, size_t n, const rq_kmeans_config *cfg, const float *centroids,
				rq_kmeans_work *w, int iteration)
{
	rq_kmeans_assigner a;
	size_t		changed = 0;

	if (cfg->assign_all != NULL)
		return cfg->assign_all(cfg->assign_ctx, iteration, centroids, w->assign, w->dist);
	rq_kmeans_assigner_start(&a, cfg, centroids, iteration, w->assigner);
	for (size_t b = 0; b < rq_kmeans_batches(&a, n); b++)
	{
		size_t		start;
		size_t		rows = rq_kmeans_batch_span(&a, n, b, &start);

		rq_kmeans_assign_batch(&a, data, w->xnorm2, n, b, w->fresh, w->dist + start);
		changed += rq_lloyd_record(w, start, rows);
		rq_tick(cfg, RQ_KMEANS_LLOYD, iteration, cfg->max_iterations);
	}
	return changed;
}

rq_status
rq_kmeans_lloyd(const float *data, size_t n, const rq_kmeans_config *cfg, float *centroids,
				void *work, rq_kmeans_result *result)
{
	rq_kmeans_work w;
	int			k = cfg->k,
				dim = cfg->dim;

	if (k < 1 || (size_t) k > n || dim < 1)
		return RQ_ERR_ARGUMENT;
	rq_kmeans_layout(n, cfg, work, &w);
	memset(result, 0, sizeof(*result));
	rq_squared_norms(data, n, dim, w.xnorm2);
	for (size_t i = 0; i < n; i++)
		w.assign[i] = -1;

	while (result->iterations < cfg->max_iterations)
	{
		size_t		changed;

		changed = rq_lloyd_assign(data, n, cfg, centroids, &w, result->iterations);
		result->iterations++;
		result->changed = changed;
		result->inertia = 0.0;
		for (size_t i = 0; i < n; i++)
			result->inertia += w.dist[i];
		if (changed == 0)
			break;
		rq_update_centroids(data, n, dim, k, &w, centroids);
		result->reseeded += rq_reseed_empty(data, n, cfg, &w, centroids, result->iterations);
		if (cfg->spherical)
			rq_normalize_rows(centroids, k, dim);
		rq_tick(cfg, RQ_KMEANS_LLOYD, result->iterations, cfg->max_iterations);
	}
	return RQ_OK;
}

rq_status
rq_kmeans(const float *data, size_t n, const rq_kmeans_config *cfg, float *centroids,
		  void *work, rq_kmeans_result *result)
{
	rq_status	status = rq_kmeans_seed(data, n, cfg, centroids, work);

	if (status != RQ_OK)
		return status;
	return rq_kmeans_lloyd(data, n, cfg, centroids, work, result);
}
