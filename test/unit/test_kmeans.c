/*
 * test_kmeans.c
 *	  k-means: quality against a straightforward double-precision Lloyd from
 *	  the same seeds, recovery of planted clusters, determinism, re-seeding of
 *	  empty clusters, spherical mode, and the GEMM assignment.
 *
 * Every workspace is allocated with exactly rq_kmeans_work_bytes, so
 * AddressSanitizer checks that the advertised size is enough.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rq_kmeans.h"
#include "core/rq_random.h"
#include "rq_test.h"

/* n rows around `clusters` centres spread `gap` apart, unit noise. */
static float *
planted(size_t n, int dim, int clusters, double gap, uint64_t seed, int *truth)
{
	rq_pcg32	rng;
	float	   *data = rq_test_alloc(sizeof(float) * n * dim);
	double	   *centres = rq_test_alloc(sizeof(double) * clusters * dim);

	rq_pcg32_seed(&rng, seed, 4);
	for (int i = 0; i < clusters * dim; i++)
		centres[i] = gap * rq_pcg32_gaussian(&rng);
	for (size_t i = 0; i < n; i++)
	{
		int			c = (int) (i % clusters);

		if (truth)
			truth[i] = c;
		for (int d = 0; d < dim; d++)
			data[i * dim + d] = (float) (centres[(size_t) c * dim + d] + rq_pcg32_gaussian(&rng));
	}
	free(centres);
	return data;
}

/* Plain Lloyd in double: assignment by exhaustive search; returns inertia of the last assignment. */
static double
lloyd_double(const float *data, size_t n, int dim, int k, int iterations, double *c, int *assign)
{
	double	   *sums = rq_test_alloc(sizeof(double) * k * dim);
	long	   *counts = rq_test_alloc(sizeof(long) * k);
	double		inertia = 0.0;

	for (int it = 0; it < iterations; it++)
	{
		inertia = 0.0;
		for (size_t i = 0; i < n; i++)
		{
			double		best = INFINITY;

			for (int j = 0; j < k; j++)
			{
				double		d = 0.0;

				for (int e = 0; e < dim; e++)
					d += (data[i * dim + e] - c[(size_t) j * dim + e]) * (data[i * dim + e] - c[(size_t) j * dim + e]);
				if (d < best)
				{
					best = d;
					assign[i] = j;
				}
			}
			inertia += best;
		}
		memset(sums, 0, sizeof(double) * k * dim);
		memset(counts, 0, sizeof(long) * k);
		for (size_t i = 0; i < n; i++)
		{
			counts[assign[i]]++;
			for (int e = 0; e < dim; e++)
				sums[(size_t) assign[i] * dim + e] += data[i * dim + e];
		}
		for (int j = 0; j < k; j++)
			for (int e = 0; e < dim && counts[j] > 0; e++)
				c[(size_t) j * dim + e] = sums[(size_t) j * dim + e] / counts[j];
	}
	free(sums);
	free(counts);
	return inertia;
}

/* Same seeds, same number of iterations: GEMM/float Lloyd tracks double Lloyd. */
static void
test_matches_double_lloyd(void)
{
	size_t		n = 3000;
	int			dim = 24,
				k = 30,
				iterations = 8;
	float	   *data = planted(n, dim, 40, 1.5, 1, NULL);
	rq_kmeans_config cfg = {.dim = dim, .k = k, .max_iterations = iterations, .seed = 123};
	void	   *work = rq_test_alloc(rq_kmeans_work_bytes(n, &cfg));
	float	   *c = rq_test_alloc(sizeof(float) * k * dim);
	double	   *cd = rq_test_alloc(sizeof(double) * k * dim);
	int		   *assign = rq_test_alloc(sizeof(int) * n);
	rq_kmeans_result res;
	double		ref;

	RQ_CHECK(rq_kmeans_seed(data, n, &cfg, c, work) == RQ_OK, "seed");
	for (int i = 0; i < k * dim; i++)
		cd[i] = c[i];
	RQ_CHECK(rq_kmeans_lloyd(data, n, &cfg, c, work, &res) == RQ_OK, "lloyd");
	ref = lloyd_double(data, n, dim, k, res.iterations, cd, assign);
	RQ_CHECK(fabs(res.inertia - ref) <= 1e-4 * ref, "inertia %.6g vs double %.6g", res.inertia, ref);
	RQ_CHECK(res.reseeded == 0, "no cluster should empty here");
	free(data);
	free(work);
	free(c);
	free(cd);
	free(assign);
}

/* Well-separated planted clusters are found exactly (every cluster pure). */
static void
test_recovers_planted(void)
{
	size_t		n = 4000;
	int			dim = 16,
				k = 10;
	int		   *truth = rq_test_alloc(sizeof(int) * n);
	float	   *data = planted(n, dim, k, 20.0, 2, truth);
	rq_kmeans_config cfg = {.dim = dim, .k = k, .max_iterations = 25, .seed = 7};
	void	   *work = rq_test_alloc(rq_kmeans_work_bytes(n, &cfg));
	float	   *c = rq_test_alloc(sizeof(float) * k * dim);
	float	   *xn = rq_test_alloc(sizeof(float) * n),
			   *cn = rq_test_alloc(sizeof(float) * k),
			   *block = rq_test_alloc(sizeof(float) * 64 * k);
	int32_t    *assign = rq_test_alloc(sizeof(int32_t) * n);
	int		   *owner = rq_test_alloc(sizeof(int) * k);
	rq_kmeans_result res;
	size_t		impure = 0;

	RQ_CHECK(rq_kmeans(data, n, &cfg, c, work, &res) == RQ_OK, "kmeans");
	rq_squared_norms(data, n, dim, xn);
	rq_squared_norms(c, k, dim, cn);
	rq_assign_nearest(data, xn, n, dim, c, cn, k, assign, NULL, block, 64);
	for (int j = 0; j < k; j++)
		owner[j] = -1;
	for (size_t i = 0; i < n; i++)
	{
		if (owner[assign[i]] < 0)
			owner[assign[i]] = truth[i];
		impure += owner[assign[i]] != truth[i];
	}
	RQ_CHECK(impure == 0, "%zu rows share a cluster with another planted cluster", impure);
	RQ_CHECK(res.changed == 0, "converged (changed %zu after %d iterations)", res.changed, res.iterations);
	free(truth);
	free(data);
	free(work);
	free(c);
	free(xn);
	free(cn);
	free(block);
	free(assign);
	free(owner);
}

/* Same seed, same centroids, bit for bit. */
static void
test_deterministic(void)
{
	size_t		n = 2000;
	int			dim = 12,
				k = 16;
	float	   *data = planted(n, dim, 20, 2.0, 3, NULL);
	rq_kmeans_config cfg = {.dim = dim, .k = k, .max_iterations = 10, .seed = 99, .seed_sample = 500, .block_rows = 100};
	void	   *work = rq_test_alloc(rq_kmeans_work_bytes(n, &cfg));
	float	   *c1 = rq_test_alloc(sizeof(float) * k * dim),
			   *c2 = rq_test_alloc(sizeof(float) * k * dim);
	rq_kmeans_result res;

	RQ_CHECK(rq_kmeans(data, n, &cfg, c1, work, &res) == RQ_OK, "first run");
	RQ_CHECK(rq_kmeans(data, n, &cfg, c2, work, &res) == RQ_OK, "second run");
	RQ_CHECK(memcmp(c1, c2, sizeof(float) * k * dim) == 0, "runs differ");
	cfg.seed = 100;
	RQ_CHECK(rq_kmeans(data, n, &cfg, c2, work, &res) == RQ_OK, "other seed");
	RQ_CHECK(memcmp(c1, c2, sizeof(float) * k * dim) != 0, "other seed gives the same centroids");
	free(data);
	free(work);
	free(c1);
	free(c2);
}

/*
 * A caller's assign_all standing in for a parallel build: three
 * participants, each with its own assigner, take the batches in reverse,
 * round robin, into shared arrays.
 */
typedef struct split_ctx
{
	const rq_kmeans_config *cfg;
	const float *data;
	size_t		n;
	float	   *xnorm2;
	int32_t    *shared_assign;
	float	   *shared_dist;
	void	   *scratch[3];
	int			calls;
} split_ctx;

static size_t
split_assign_all(void *ctx, int iteration, const float *centroids, int32_t *assign, float *dist)
{
	split_ctx  *s = ctx;
	rq_kmeans_assigner a[3];
	size_t		batches,
				changed = 0;

	for (int p = 0; p < 3; p++)
		rq_kmeans_assigner_start(&a[p], s->cfg, centroids, iteration, s->scratch[p]);
	batches = rq_kmeans_batches(&a[0], s->n);
	for (size_t i = 0; i < batches; i++)
	{
		size_t		b = batches - 1 - i,
					start;

		rq_kmeans_batch_span(&a[i % 3], s->n, b, &start);
		rq_kmeans_assign_batch(&a[i % 3], s->data, s->xnorm2, s->n, b, s->shared_assign + start,
							   s->shared_dist + start);
	}
	for (size_t r = 0; r < s->n; r++)
	{
		changed += assign[r] != s->shared_assign[r];
		assign[r] = s->shared_assign[r];
		dist[r] = s->shared_dist[r];
	}
	s->calls++;
	return changed;
}

/* k-means whose assignment is split among participants ends as the serial one, bit for bit. */
static void
test_split_assignment(void)
{
	size_t		n = 12000;
	int			dim = 32;
	float	   *data = planted(n, dim, 300, 1.5, 12, NULL);

	for (int grouped = 0; grouped < 2; grouped++)
	{
		rq_kmeans_config cfg = {.dim = dim, .k = grouped ? 400 : 40, .max_iterations = 8, .seed = 5,
		.block_rows = grouped ? 0 : 700, .max_groups = grouped ? 8 : 0};
		rq_kmeans_config split = cfg;
		split_ctx	s = {.cfg = &split, .data = data, .n = n};
		void	   *work = rq_test_alloc(rq_kmeans_work_bytes(n, &cfg));
		float	   *c1 = rq_test_alloc(sizeof(float) * cfg.k * dim),
				   *c2 = rq_test_alloc(sizeof(float) * cfg.k * dim);
		rq_kmeans_result r1,
					r2;
		rq_kmeans_assigner probe;

		s.xnorm2 = rq_test_alloc(sizeof(float) * n);
		rq_squared_norms(data, n, dim, s.xnorm2);
		s.shared_assign = rq_test_alloc(sizeof(int32_t) * n);
		s.shared_dist = rq_test_alloc(sizeof(float) * n);
		for (int p = 0; p < 3; p++)
			s.scratch[p] = rq_test_alloc(rq_kmeans_assigner_bytes(&cfg));
		split.assign_all = split_assign_all;
		split.assign_ctx = &s;
		RQ_CHECK(rq_kmeans(data, n, &cfg, c1, work, &r1) == RQ_OK, "serial");
		RQ_CHECK(rq_kmeans(data, n, &split, c2, work, &r2) == RQ_OK, "split");
		RQ_CHECK(s.calls == r2.iterations && r2.iterations > 1, "assign_all called %d times in %d iterations",
				 s.calls, r2.iterations);
		RQ_CHECK(memcmp(c1, c2, sizeof(float) * cfg.k * dim) == 0 && r1.inertia == r2.inertia &&
				 r1.iterations == r2.iterations && r1.changed == r2.changed,
				 "%s: split assignment ends elsewhere (inertia %.6g vs %.6g)", grouped ? "grouped" : "full",
				 r2.inertia, r1.inertia);
		rq_kmeans_assigner_start(&probe, &cfg, c1, 0, s.scratch[0]);
		RQ_CHECK((probe.groups != NULL) == grouped && rq_kmeans_batches(&probe, n) > 3,
				 "%s: %zu batches", grouped ? "grouped" : "full", rq_kmeans_batches(&probe, n));
		for (int p = 0; p < 3; p++)
			free(s.scratch[p]);
		free(s.xnorm2);
		free(s.shared_assign);
		free(s.shared_dist);
		free(work);
		free(c1);
		free(c2);
	}
	free(data);
}

/* A centroid nothing is near empties; it is re-seeded and every cluster ends non-empty. */
static void
test_reseeds_empty(void)
{
	size_t		n = 1000;
	int			dim = 8,
				k = 6;
	float	   *data = planted(n, dim, 6, 3.0, 5, NULL);
	rq_kmeans_config cfg = {.dim = dim, .k = k, .max_iterations = 15, .seed = 1};
	void	   *work = rq_test_alloc(rq_kmeans_work_bytes(n, &cfg));
	float	   *c = rq_test_alloc(sizeof(float) * k * dim);
	float	   *xn = rq_test_alloc(sizeof(float) * n),
			   *cn = rq_test_alloc(sizeof(float) * k),
			   *block = rq_test_alloc(sizeof(float) * 16 * k);
	int32_t    *assign = rq_test_alloc(sizeof(int32_t) * n);
	int		   *size = calloc(k, sizeof(int));
	rq_kmeans_result res;

	RQ_CHECK(rq_kmeans_seed(data, n, &cfg, c, work) == RQ_OK, "seed");
	for (int d = 0; d < dim; d++)
		c[(size_t) (k - 1) * dim + d] = 1e6f;	/* never the nearest */
	RQ_CHECK(rq_kmeans_lloyd(data, n, &cfg, c, work, &res) == RQ_OK, "lloyd");
	RQ_CHECK(res.reseeded >= 1, "no re-seed happened");
	rq_squared_norms(data, n, dim, xn);
	rq_squared_norms(c, k, dim, cn);
	rq_assign_nearest(data, xn, n, dim, c, cn, k, assign, NULL, block, 16);
	for (size_t i = 0; i < n; i++)
		size[assign[i]]++;
	for (int j = 0; j < k; j++)
		RQ_CHECK(size[j] > 0, "cluster %d empty", j);
	/* fewer distinct rows than clusters: still valid, nothing non-finite */
	for (size_t i = 0; i < n; i++)
		memcpy(data + i * dim, data + (i % 3) * dim, sizeof(float) * dim);
	RQ_CHECK(rq_kmeans(data, n, &cfg, c, work, &res) == RQ_OK, "duplicates");
	for (int i = 0; i < k * dim; i++)
		RQ_CHECK(isfinite(c[i]), "non-finite centroid value");
	RQ_CHECK(rq_kmeans(data, 5, &(rq_kmeans_config) {.dim = dim, .k = 6, .max_iterations = 5, .seed = 1}, c, work, &res) ==
			 RQ_ERR_ARGUMENT, "k > n is an argument error");
	free(data);
	free(work);
	free(c);
	free(xn);
	free(cn);
	free(block);
	free(assign);
	free(size);
}

/* Spherical mode leaves unit-length centroids. */
static void
test_spherical(void)
{
	size_t		n = 1500;
	int			dim = 10,
				k = 12;
	float	   *data = planted(n, dim, 12, 2.0, 6, NULL);
	rq_kmeans_config cfg = {.dim = dim, .k = k, .max_iterations = 10, .seed = 4, .spherical = 1};
	void	   *work = rq_test_alloc(rq_kmeans_work_bytes(n, &cfg));
	float	   *c = rq_test_alloc(sizeof(float) * k * dim);
	rq_kmeans_result res;

	for (size_t i = 0; i < n; i++)
	{
		double		s = 0.0;

		for (int d = 0; d < dim; d++)
			s += (double) data[i * dim + d] * data[i * dim + d];
		for (int d = 0; d < dim; d++)
			data[i * dim + d] = (float) (data[i * dim + d] / sqrt(s));
	}
	RQ_CHECK(rq_kmeans(data, n, &cfg, c, work, &res) == RQ_OK, "kmeans");
	for (int j = 0; j < k; j++)
	{
		double		s = 0.0;

		for (int d = 0; d < dim; d++)
			s += (double) c[(size_t) j * dim + d] * c[(size_t) j * dim + d];
		RQ_CHECK(fabs(sqrt(s) - 1.0) < 1e-5, "centroid %d has norm %g", j, sqrt(s));
	}
	free(data);
	free(work);
	free(c);
}

/* GEMM assignment equals brute force in double (no near ties in this data). */
static void
test_assign_nearest(void)
{
	size_t		n = 700;
	int			dim = 33,
				k = 50;
	float	   *data = planted(n, dim, 60, 3.0, 8, NULL);
	float	   *c = planted(k, dim, 50, 3.0, 9, NULL);
	float	   *xn = rq_test_alloc(sizeof(float) * n),
			   *cn = rq_test_alloc(sizeof(float) * k),
			   *block = rq_test_alloc(sizeof(float) * 100 * k),
			   *dist = rq_test_alloc(sizeof(float) * n);
	int32_t    *assign = rq_test_alloc(sizeof(int32_t) * n);
	size_t		wrong = 0;

	rq_squared_norms(data, n, dim, xn);
	rq_squared_norms(c, k, dim, cn);
	rq_assign_nearest(data, xn, n, dim, c, cn, k, assign, dist, block, 100);
	for (size_t i = 0; i < n; i++)
	{
		double		best = INFINITY,
					second = INFINITY;
		int			arg = -1;

		for (int j = 0; j < k; j++)
		{
			double		d = 0.0;

			for (int e = 0; e < dim; e++)
				d += ((double) data[i * dim + e] - c[(size_t) j * dim + e]) *
					((double) data[i * dim + e] - c[(size_t) j * dim + e]);
			if (d < best)
			{
				second = best;
				best = d;
				arg = j;
			}
			else if (d < second)
				second = d;
		}
		/* a near tie may go either way in float; count only clear cases */
		if (second - best > 1e-3 * best)
			wrong += assign[i] != arg;
		RQ_CHECK(fabs(dist[i] - best) <= 1e-3 * best + 1e-3, "row %zu distance %g vs %g", i, dist[i], best);
	}
	RQ_CHECK(wrong == 0, "%zu rows assigned to a farther centroid", wrong);
	free(data);
	free(c);
	free(xn);
	free(cn);
	free(block);
	free(dist);
	free(assign);
}

/* The tick: called while seeding (once per centre) and between Lloyd blocks. */
typedef struct tick_log
{
	int			seeding;
	int			lloyd;
	int			last_iteration;
} tick_log;

static void
count_ticks(void *ctx, rq_kmeans_stage stage, int done, int total)
{
	tick_log   *log = ctx;

	if (stage == RQ_KMEANS_SEEDING)
		log->seeding++;
	else
	{
		log->lloyd++;
		log->last_iteration = done;
	}
	(void) total;
}

static void
test_tick(void)
{
	int			dim = 16,
				k = 20;
	size_t		n = 2000;
	float	   *data = rq_test_alloc(sizeof(float) * n * dim);
	float	   *c = rq_test_alloc(sizeof(float) * k * dim);
	tick_log	log = {0, 0, 0};
	rq_kmeans_config cfg = {.dim = dim, .k = k, .max_iterations = 5, .seed = 2, .block_rows = 100,
	.tick = count_ticks, .tick_ctx = &log};
	void	   *work = rq_test_alloc(rq_kmeans_work_bytes(n, &cfg));
	rq_kmeans_result res;
	rq_pcg32	rng;

	rq_pcg32_seed(&rng, 2, 2);
	for (size_t i = 0; i < n * dim; i++)
		data[i] = (float) rq_pcg32_gaussian(&rng);
	RQ_CHECK(rq_kmeans(data, n, &cfg, c, work, &res) == RQ_OK, "k-means");
	RQ_CHECK(log.seeding == k, "%d seeding ticks for %d centres", log.seeding, k);
	/* 20 blocks of 100 rows per iteration, plus one tick after each update */
	RQ_CHECK(log.lloyd >= res.iterations * 20, "%d Lloyd ticks for %d iterations", log.lloyd, res.iterations);
	RQ_CHECK(log.last_iteration == res.iterations, "last tick at iteration %d of %d",
			 log.last_iteration, res.iterations);
	RQ_CHECK(rq_gemm_block_rows(3000, 256) * 3000 * 256 <= (1 << 25) &&
			 rq_gemm_block_rows(32768, 16000) == 1 && rq_gemm_block_rows(10, 8) == 1024,
			 "GEMM block rows bound the work per block");
	free(data);
	free(c);
	free(work);
}

/* The derived number of lists on both sides of a million rows, and its clamps. */
static void
test_default_lists(void)
{
	static const struct
	{
		double		rows;
		int			lists;
	}			cases[] = {
		{0, 1}, {999, 1}, {1500, 1}, {100000, 100}, {999999, 999}, {1000000, 1000},
		{1000001, 1000}, {4000000, 2000}, {1.0e8, 10000}, {1.0737e9, 32767}, {1.0e10, 32768}, {-5, 1}
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		RQ_CHECK(rq_default_lists(cases[i].rows, 32768) == cases[i].lists, "%.0f rows: %d lists, not %d",
				 cases[i].rows, rq_default_lists(cases[i].rows, 32768), cases[i].lists);
}

const rq_test_case rq_kmeans_tests[] = {
	{"kmeans/default lists: rows / 1000 up to 1M, sqrt beyond, clamped", test_default_lists, 0},
	{"kmeans/matches double-precision Lloyd from the same seeds", test_matches_double_lloyd, 0},
	{"kmeans/recovers planted clusters", test_recovers_planted, 0},
	{"kmeans/deterministic for a seed", test_deterministic, 0},
	{"kmeans/assignment split among participants ends as the serial one", test_split_assignment, 0},
	{"kmeans/re-seeds empty clusters", test_reseeds_empty, 0},
	{"kmeans/spherical mode", test_spherical, 0},
	{"kmeans/GEMM assignment equals brute force", test_assign_nearest, 0},
	{"kmeans/tick per centre and per GEMM block; bounded blocks", test_tick, 0},
	{NULL, NULL, 0}
};
