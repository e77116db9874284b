/*
 * bench_rabitq.c
 *	  The RaBitQ core, measured:
 *	  1. estimator throughput (codes per second, estimate + lower bound) for
 *		 every kernel variant at D = 128, 768 and 1536, against exact float L2
 *		 (best kernel) on the same vectors in the same run, with the vectors
 *		 once cache-resident (4 MiB) and once streamed from memory (256 MiB);
 *	  2. k-means of 100,000 x 128 rows into 1,000 lists: the SIFT rows of
 *		 sift100k when its file is given, else synthetic clustered rows.
 *
 *	  bench_rabitq [path/to/sift100k/base.bvecs]
 */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rq_blas.h"
#include "core/rq_distance.h"
#include "core/rq_estimate.h"
#include "core/rq_kernels.h"
#include "core/rq_groups.h"
#include "core/rq_kmeans.h"
#include "core/rq_random.h"
#include "core/rq_rotation.h"
#include "unit/rq_testblocks.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *
linked_symbol(void *ctx, const char *name)
{
	(void) ctx;
	return dlsym(RTLD_DEFAULT, name);
}

/* One data set at dimension d: raw vectors, their codes and factors. */
typedef struct bench_set
{
	int			d,
				dp,
				words;
	size_t		n;
	float	   *raw;
	char	   *blocks;			/* n / 8 blocks */
} bench_set;

static bench_set
make_set(int d, size_t raw_bytes, rq_pcg32 *rng)
{
	bench_set	s = {d, rq_padded_dim(d), rq_code_words(rq_padded_dim(d)), 0, NULL, NULL};
	uint64_t   *code = malloc(sizeof(uint64_t) * s.words);
	rq_factors	f;
	float	   *signs = malloc(sizeof(float) * rq_rotation_floats(s.dp));
	float	   *rot = malloc(sizeof(float) * s.dp);
	float	   *zero = calloc(s.dp, sizeof(float));
	rq_rotation r;

	s.n = raw_bytes / (sizeof(float) * d) / RQ_BLOCK_LANES * RQ_BLOCK_LANES;
	s.raw = malloc(sizeof(float) * s.n * d);
	s.blocks = malloc(rq_test_block_bytes(s.dp) * (s.n / RQ_BLOCK_LANES));
	rq_rotation_generate(s.dp, 1, signs);
	rq_rotation_init(&r, d, signs);
	for (size_t i = 0; i < s.n; i++)
	{
		for (int j = 0; j < d; j++)
			s.raw[i * d + j] = (float) rq_pcg32_gaussian(rng);
		rq_rotate(&r, s.raw + i * d, rot);
		rq_quantize(rot, zero, s.dp, RQ_METRIC_L2, code, &f);
		rq_test_block_put(s.blocks + (i / RQ_BLOCK_LANES) * rq_test_block_bytes(s.dp), s.dp,
						  (int) (i % RQ_BLOCK_LANES), code, &f);
	}
	free(code);
	free(signs);
	free(rot);
	free(zero);
	return s;
}

static void
free_set(bench_set *s)
{
	free(s->raw);
	free(s->blocks);
}

/* Best of 3 passes of at least 0.3 s: items per second of fn over the set. */
#define MEASURE(result, items, body) \
	do { \
		double		best_ = 0; \
		for (int rep_ = 0; rep_ < 3; rep_++) \
		{ \
			double		start_ = now(), \
						elapsed_; \
			long		passes_ = 0; \
			do { body; passes_++; elapsed_ = now() - start_; } while (elapsed_ < 0.3); \
			if (passes_ * (double) (items) / elapsed_ > best_) \
				best_ = passes_ * (double) (items) / elapsed_; \
		} \
		result = best_; \
	} while (0)

static void
bench_estimator(int d, size_t raw_bytes, const char *label, rq_pcg32 *rng)
{
	bench_set	s = make_set(d, raw_bytes, rng);
	float	   *q = malloc(sizeof(float) * s.dp),
			   *zero = calloc(s.dp, sizeof(float));
	float	   *est = malloc(sizeof(float) * s.n),
			   *lb = malloc(sizeof(float) * s.n);
	uint64_t   *planes = malloc(sizeof(uint64_t) * rq_query_plane_words(s.dp));
	rq_list_query lq;
	volatile float sink = 0;
	double		exact_rate,
				rate;

	for (int j = 0; j < s.dp; j++)
		q[j] = (float) rq_pcg32_gaussian(rng);
	rq_prepare_list_query(q, zero, s.dp, RQ_METRIC_L2, planes, NULL, &lq);
	MEASURE(exact_rate, s.n, for (size_t i = 0; i < s.n; i++) sink += rq_dist.l2sq(q, s.raw + i * d, d));
	printf("D=%-5d %-9s n=%-7zu exact L2 (%s) %8.2f M/s", d, label, s.n,
		   rq_isa_name(rq_dist.isa), exact_rate / 1e6);
	for (int isa = 0; isa <= (int) rq_cpu_detect(); isa++)
	{
		const rq_code_kernels *k = rq_code_kernels_for((rq_isa) isa);

		MEASURE(rate, s.n, rq_test_estimate_blocks(k, &lq, s.blocks, s.n / RQ_BLOCK_LANES, 1.9f, est, lb, NULL); sink += est[0]);
		printf(" | %s %7.1f M/s (%4.1fx)", rq_isa_name((rq_isa) isa), rate / 1e6, rate / exact_rate);
	}
	printf("\n");
	fflush(stdout);
	(void) sink;
	free(q);
	free(zero);
	free(est);
	free(lb);
	free(planes);
	free_set(&s);
}

/* 100,000 x 128: sift100k rows if readable, else a Gaussian mixture. */
static float *
kmeans_rows(const char *path, size_t n, int dim, rq_pcg32 *rng, const char **source)
{
	float	   *x = malloc(sizeof(float) * n * dim);
	FILE	   *f = path ? fopen(path, "rb") : NULL;
	unsigned char rec[4 + 128];

	*source = "synthetic mixture";
	if (f != NULL)
	{
		size_t		i = 0;

		for (; i < n && fread(rec, 1, sizeof(rec), f) == sizeof(rec); i++)
			for (int j = 0; j < dim; j++)
				x[i * dim + j] = rec[4 + j];
		fclose(f);
		if (i == n)
		{
			*source = "sift100k";
			return x;
		}
	}
	for (size_t i = 0; i < n; i++)
	{
		double		c = (double) rq_pcg32_below(rng, 2000);

		for (int j = 0; j < dim; j++)
			x[i * dim + j] = (float) (sin(c * (j + 1)) * 40.0 + 5.0 * rq_pcg32_gaussian(rng));
	}
	return x;
}

/* One k-means run: seeding and Lloyd timed; max_groups as the index build sets it, or 0. */
static void
bench_kmeans_run(const float *x, size_t n, int dim, int k, const char *source, int max_groups, float *c)
{
	rq_kmeans_config cfg = {.dim = dim, .k = k, .max_iterations = 10, .seed = 42, .max_groups = max_groups};
	size_t		bytes = rq_kmeans_work_bytes(n, &cfg);
	void	   *work = malloc(bytes);
	rq_kmeans_result res;
	double		t0 = now(),
				t1,
				t2;

	rq_kmeans_seed(x, n, &cfg, c, work);
	t1 = now();
	rq_kmeans_lloyd(x, n, &cfg, c, work, &res);
	t2 = now();
	printf("k-means %zu x %d (%s) into %d lists, rows searched among %s: seeding %.2f s,"
		   " %d Lloyd iterations %.2f s (%.2f s each), total %.2f s; workspace %.1f MiB; inertia %.4g;"
		   " %zu rows moved in the last iteration\n",
		   n, dim, source, k, max_groups ? "the nearest 8 groups of centroids" : "all centroids", t1 - t0,
		   res.iterations, t2 - t1, (t2 - t1) / res.iterations, t2 - t0, bytes / 1048576.0, res.inertia,
		   res.changed);
	free(work);
}

/*
 * The index build's list assignment through groups (the nearest 8 groups'
 * centroids) against comparing with every centroid, for the k-means rows
 * themselves: how many get a nearest centroid, how much farther the others'
 * is, how many centroids a row is compared with.
 */
static void
bench_grouped_assign(const float *x, size_t n, int dim, const float *c, int k)
{
	int			ng = rq_groups_count(k, 8);
	size_t		block_rows = rq_gemm_block_rows(k, dim),
				batch = 1024,
				nearest = 0;
	float	   *xn = malloc(sizeof(float) * n),
			   *cn = malloc(sizeof(float) * k),
			   *block = malloc(sizeof(float) * block_rows * k);
	int32_t    *full = malloc(sizeof(int32_t) * n),
			   *grouped = malloc(sizeof(int32_t) * n);
	void	   *mem = malloc(rq_groups_bytes(k, dim, ng)),
			   *work = malloc(rq_groups_search_bytes(k, dim, ng, 8, batch));
	rq_groups	g;
	rq_groups_stats stats = {0};
	double		excess = 0.0,
				t0,
				t1;

	rq_squared_norms(x, n, dim, xn);
	rq_squared_norms(c, k, dim, cn);
	t0 = now();
	rq_assign_nearest(x, xn, n, dim, c, cn, k, full, NULL, block, block_rows);
	t1 = now();
	rq_groups_build(c, cn, k, dim, ng, 8, 42, mem, &g, NULL, NULL);
	for (size_t start = 0; start < n; start += batch)
		rq_groups_nearest(&g, x + start * dim, xn + start, n - start < batch ? n - start : batch,
						  grouped + start, NULL, work, &stats);
	for (size_t i = 0; i < n; i++)
	{
		double		a = rq_dist.l2sq(x + i * dim, c + (size_t) full[i] * dim, dim),
					b = rq_dist.l2sq(x + i * dim, c + (size_t) grouped[i] * dim, dim);

		if (b <= a * (1.0 + 1e-6))
			nearest++;
		else
			excess += sqrt(b / a) - 1.0;
	}
	printf("list assignment of those rows through %d groups (the nearest 8 searched) against all %d centroids:"
		   " %.2f %% of rows get a nearest centroid, the others one %.1f %% farther on average;"
		   " %.0f centroids and %d group centres compared per row; %.2f s against %.2f s\n",
		   ng, k, 100.0 * nearest / n, n > nearest ? 100.0 * excess / (n - nearest) : 0.0,
		   (double) stats.centroids / n, ng, now() - t1, t1 - t0);
	free(xn);
	free(cn);
	free(block);
	free(full);
	free(grouped);
	free(mem);
	free(work);
}

static void
bench_kmeans(const char *path, rq_pcg32 *rng)
{
	size_t		n = 100000;
	int			dim = 128,
				k = 1000;
	const char *source;
	float	   *x = kmeans_rows(path, n, dim, rng, &source);

	float	   *c = malloc(sizeof(float) * k * dim);

	bench_kmeans_run(x, n, dim, k, source, 0, c);
	bench_grouped_assign(x, n, dim, c, k);
	bench_kmeans_run(x, n, dim, k, source, 8, c);	/* the index build's RABITQ_ASSIGN_GROUPS */
	free(x);
	free(c);
}

int
main(int argc, char **argv)
{
	rq_pcg32	rng;
	const char *missing;
	static const int dims[] = {128, 768, 1536};

	if (rq_blas_bind(linked_symbol, NULL, &missing) != RQ_OK)
	{
		fprintf(stderr, "BLAS routine %s not found\n", missing);
		return 2;
	}
	rq_kernels_use(rq_cpu_detect());
	rq_pcg32_seed(&rng, 2026, 1);
	printf("RaBitQ 1-bit estimator (estimate + lower bound per code) vs exact float L2, same vectors\n");
	for (int i = 0; i < 3; i++)
	{
		bench_estimator(dims[i], 4u << 20, "in cache", &rng);
		bench_estimator(dims[i], 256u << 20, "streamed", &rng);
	}
	bench_kmeans(argc > 1 ? argv[1] : NULL, &rng);
	return 0;
}
