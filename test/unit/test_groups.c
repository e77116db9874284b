/*
 * test_groups.c
 *	  The grouped nearest-centroid search: the same nearest centroid as
 *	  comparing with every centroid (rq_assign_nearest), for rows like the
 *	  data and rows far outside it, non-finite rows included; it compares
 *	  with a fraction of the centroids; deterministic.
 *
 * Workspaces are allocated with exactly the advertised sizes, so
 * AddressSanitizer checks them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rq_groups.h"
#include "core/rq_kmeans.h"
#include "core/rq_random.h"
#include "rq_test.h"

typedef struct fixture
{
	int			dim,
				k;
	float	   *centroids;
	float	   *cnorm2;
	rq_groups	g;
	void	   *mem;
} fixture;

/* What a grouped search found, against comparing with every centroid. */
typedef struct outcome
{
	double		per_row;		/* centroids compared per row */
	double		nearest;		/* rows given a nearest centroid (ties within rounding count) */
	double		worst;			/* the largest distance ratio, found / nearest */
} outcome;

/* Rows from a mixture: `modes` Gaussian centres spread `gap` apart, unit noise, then `shift` added. */
static float *
mixture(size_t n, int dim, int modes, double gap, double shift, uint64_t seed)
{
	rq_pcg32	rng,
				crng;
	float	   *data = rq_test_alloc(sizeof(float) * n * dim);

	rq_pcg32_seed(&rng, seed, 9);
	for (size_t i = 0; i < n; i++)
	{
		int			m = (int) rq_pcg32_below(&rng, (uint32_t) modes);

		rq_pcg32_seed(&crng, 77, (uint64_t) m);	/* the mode's centre, the same in every call */
		for (int d = 0; d < dim; d++)
			data[i * dim + d] = (float) (gap * rq_pcg32_gaussian(&crng) + rq_pcg32_gaussian(&rng) + shift);
	}
	return data;
}

/* k centroids by k-means on a sample of a mixture with modes `gap` apart, grouped for searches of max_groups (0: exact). */
static void
fixture_make(fixture *f, int dim, int k, int max_groups, double gap)
{
	/* under CPU emulation (--quick) rougher centroids: the checks hold for any */
	size_t		n = (size_t) k * (rq_test_quick ? 2 : 20);
	float	   *sample = mixture(n, dim, k / 8, gap, 0.0, 1);
	rq_kmeans_config cfg = {.dim = dim, .k = k, .max_iterations = rq_test_quick ? 1 : 8, .seed = 5};
	void	   *work = rq_test_alloc(rq_kmeans_work_bytes(n, &cfg));
	rq_kmeans_result res;
	int			ng = rq_groups_count(k, max_groups);

	f->dim = dim;
	f->k = k;
	f->centroids = rq_test_alloc(sizeof(float) * k * dim);
	f->cnorm2 = rq_test_alloc(sizeof(float) * k);
	RQ_CHECK(rq_kmeans(sample, n, &cfg, f->centroids, work, &res) == RQ_OK, "k-means");
	rq_squared_norms(f->centroids, k, dim, f->cnorm2);
	f->mem = rq_test_alloc(rq_groups_bytes(k, dim, ng));
	RQ_CHECK(rq_groups_build(f->centroids, f->cnorm2, k, dim, ng, max_groups, 3, f->mem, &f->g, NULL, NULL) == RQ_OK,
			 "groups");
	free(sample);
	free(work);
}

static void
fixture_free(fixture *f)
{
	free(f->centroids);
	free(f->cnorm2);
	free(f->mem);
}

static double
exact_l2sq(const float *a, const float *b, int dim)
{
	double		s = 0.0;

	for (int d = 0; d < dim; d++)
		s += ((double) a[d] - b[d]) * ((double) a[d] - b[d]);
	return s;
}

/* Searches n rows both ways, the grouped search in batches of `batch`. */
static outcome
search_rows(const fixture *f, const float *data, size_t n, size_t batch)
{
	int			dim = f->dim,
				k = f->k;
	size_t		block_rows = rq_gemm_block_rows(k, dim);
	float	   *xn = rq_test_alloc(sizeof(float) * n),
			   *block = rq_test_alloc(sizeof(float) * block_rows * k),
			   *dist = rq_test_alloc(sizeof(float) * n);
	int32_t    *full = rq_test_alloc(sizeof(int32_t) * n),
			   *grouped = rq_test_alloc(sizeof(int32_t) * n);
	void	   *work = rq_test_alloc(rq_groups_search_bytes(k, dim, f->g.ngroups, f->g.max_groups, batch));
	rq_groups_stats stats = {0};
	outcome		o = {0.0, 0.0, 1.0};

	rq_squared_norms(data, n, dim, xn);
	rq_assign_nearest(data, xn, n, dim, f->centroids, f->cnorm2, k, full, NULL, block, block_rows);
	for (size_t start = 0; start < n; start += batch)
		rq_groups_nearest(&f->g, data + start * dim, xn + start, n - start < batch ? n - start : batch,
						  grouped + start, dist + start, work, &stats);
	for (size_t i = 0; i < n; i++)
	{
		double		a,
					b;

		RQ_CHECK(grouped[i] >= 0 && grouped[i] < k, "row %zu: centroid %d of %d", i, grouped[i], k);
		a = exact_l2sq(data + i * dim, f->centroids + (size_t) full[i] * dim, dim);
		b = exact_l2sq(data + i * dim, f->centroids + (size_t) grouped[i] * dim, dim);
		/* a different centroid counts as nearest at a tie within the GEMM's rounding */
		if (b <= a + 1e-5 * (a + xn[i] + f->cnorm2[full[i]]) || (isnan(a) && isnan(b)))
			o.nearest += 1.0;
		else if (a > 0.0 && sqrt(b / a) > o.worst)
			o.worst = sqrt(b / a);
	}
	RQ_CHECK(stats.rows == n, "%llu rows counted, not %zu", (unsigned long long) stats.rows, n);
	/* capped: no row visits more than max_groups groups (its nearest, then the others kept) */
	RQ_CHECK(f->g.max_groups == 0 || stats.groups <= n * (uint64_t) f->g.max_groups,
			 "%.2f groups visited per row, capped at %d", (double) stats.groups / n, f->g.max_groups);
	o.per_row = (double) stats.centroids / n;
	o.nearest /= n;
	free(xn);
	free(block);
	free(dist);
	free(full);
	free(grouped);
	free(work);
	return o;
}

/* An uncapped search: every row's centroid is a nearest one. */
static void
expect_exact(const fixture *f, const float *data, size_t n, size_t batch, const char *what)
{
	outcome		o = search_rows(f, data, n, batch);

	RQ_CHECK(o.nearest == 1.0, "%s: %.4f of rows got a nearest centroid (worst ratio %.3f)", what,
			 o.nearest, o.worst);
}

/* Uncapped, rows like the data and unlike it, batches of every size: the nearest centroid. */
static void
test_exact(void)
{
	fixture		f;
	size_t		n = rq_test_quick ? 200 : 2000;
	int			dim = 32;
	float	   *rows;

	fixture_make(&f, dim, 600, 0, 4.0);
	RQ_CHECK(f.g.ngroups == 35, "%d groups for 600 centroids", f.g.ngroups);
	rows = mixture(n, dim, 75, 4.0, 0.0, 2);
	expect_exact(&f, rows, n, 512, "like the data");
	expect_exact(&f, rows, 7, 1, "batches of one");
	expect_exact(&f, rows, n / 7, 512, "a short batch");
	free(rows);
	rows = mixture(n, dim, 75, 4.0, 40.0, 3);
	expect_exact(&f, rows, n, 512, "shifted by +40");
	for (size_t i = 0; i < n * dim; i++)
		rows[i] = (float) ((rows[i] - 40.0) * 3.0);
	expect_exact(&f, rows, n, 512, "scaled by 3");
	memset(rows, 0, sizeof(float) * n * dim);
	expect_exact(&f, rows, n, 512, "the origin");
	for (size_t i = 0; i < n * dim; i++)
		rows[i] = (float) (5.0e3 + (double) (i % 7));
	expect_exact(&f, rows, n, 512, "far outside the data");
	free(rows);
	fixture_free(&f);
}

/*
 * Capped at 8 groups (the index build's setting), on barely clustered data
 * (modes half a noise unit apart: the hard case; sift1m measured 98 %
 * nearest, README): the nearest centroid for 17 rows in 20, never one
 * much farther, comparing with under a third of the centroids; rows far
 * outside the data get one nearly as near as the nearest.
 */
static void
test_capped(void)
{
	fixture		f;
	float	   *rows;
	outcome		o;

	fixture_make(&f, 64, 1024, 8, 0.5);
	RQ_CHECK(f.g.ngroups == 91, "%d groups for 1024 centroids", f.g.ngroups);
	rows = mixture(6000, 64, 128, 0.5, 0.0, 2);
	o = search_rows(&f, rows, 6000, 1024);
	RQ_CHECK(o.nearest >= 0.85 && o.worst < 1.3, "%.4f of rows got the nearest centroid, the worst one %.3f times as far",
			 o.nearest, o.worst);
	RQ_CHECK(o.per_row < 1024 / 3, "%.0f centroids compared per row of 1024", o.per_row);
	for (size_t i = 0; i < 6000 * 64; i++)
		rows[i] += 40.0f;
	o = search_rows(&f, rows, 6000, 1024);
	RQ_CHECK(o.worst < 1.02, "shifted by +40: a centroid %.3f times as far as the nearest", o.worst);
	free(rows);
	fixture_free(&f);
}

/* Huge and infinite components: as comparing with every centroid does, capped or not. */
static void
test_non_finite(void)
{
	int			dim = 16;
	size_t		n = 64;
	float	   *rows = mixture(n, dim, 30, 4.0, 0.0, 4);

	for (size_t i = 0; i < n; i += 2)
		rows[i * dim + i % dim] = (i % 4 == 0) ? 3.4e38f : -INFINITY;
	for (int cap = 0; cap <= 8; cap += 8)
	{
		fixture		f;

		fixture_make(&f, dim, 300, cap, 4.0);
		expect_exact(&f, rows, n, 16, cap ? "capped" : "uncapped");
		fixture_free(&f);
	}
	free(rows);
}

static void
count_grouping(void *ctx, rq_kmeans_stage stage, int done, int total)
{
	(void) done;
	(void) total;
	if (stage == RQ_KMEANS_GROUPING)
		(*(int *) ctx)++;
	else
		*(int *) ctx = -1000000;	/* another stage: the caller's progress would move */
}

/* Grouping ticks (the build's chance to cancel), as grouping and nothing else. */
static void
test_grouping_ticks(void)
{
	fixture		f;
	rq_groups	g;
	int			ticks = 0;
	void	   *mem;

	fixture_make(&f, 16, 300, 8, 4.0);
	mem = rq_test_alloc(rq_groups_bytes(300, 16, f.g.ngroups));
	RQ_CHECK(rq_groups_build(f.centroids, f.cnorm2, 300, 16, f.g.ngroups, 8, 3, mem, &g, count_grouping,
							 &ticks) == RQ_OK, "groups");
	RQ_CHECK(ticks >= f.g.ngroups, "%d ticks while grouping (%d groups seeded)", ticks, f.g.ngroups);
	free(mem);
	fixture_free(&f);
}

/* Few centroids: no groups; the same seed groups the same way; a cap of one group works. */
static void
test_count_and_determinism(void)
{
	fixture		a,
				b;

	RQ_CHECK(rq_groups_count(100, 8) == 0, "100 centroids grouped");
	RQ_CHECK(rq_groups_count(3162, 8) == 160, "3162 centroids: %d groups", rq_groups_count(3162, 8));
	fixture_make(&a, 24, 400, 8, 4.0);
	fixture_make(&b, 24, 400, 8, 4.0);
	RQ_CHECK(memcmp(a.g.order, b.g.order, sizeof(int32_t) * 400) == 0 &&
			 memcmp(a.g.radius, b.g.radius, sizeof(float) * a.g.ngroups) == 0, "groupings differ");
	fixture_free(&a);
	fixture_free(&b);
	/* a cap of one group: the row's nearest group alone */
	{
		fixture		c;
		float	   *rows = mixture(200, 24, 50, 4.0, 0.0, 7);
		outcome		o;

		fixture_make(&c, 24, 400, 1, 4.0);
		o = search_rows(&c, rows, 200, 64);
		RQ_CHECK(o.per_row < 400 / 4, "capped at one group: %.0f centroids compared per row", o.per_row);
		free(rows);
		fixture_free(&c);
	}
}

/* k-means assigning through groups: as good as comparing with every centroid, and deterministic. */
static void
test_grouped_lloyd(void)
{
	size_t		n = 12000;
	int			dim = 32,
				k = 400;
	float	   *data = mixture(n, dim, 200, 1.0, 0.0, 6);
	rq_kmeans_config full = {.dim = dim, .k = k, .max_iterations = 10, .seed = 8},
				grouped = full;
	void	   *work;
	float	   *a = rq_test_alloc(sizeof(float) * k * dim),
			   *b = rq_test_alloc(sizeof(float) * k * dim),
			   *c = rq_test_alloc(sizeof(float) * k * dim);
	rq_kmeans_result ra,
				rb,
				rc;

	grouped.max_groups = 8;
	work = rq_test_alloc(rq_kmeans_work_bytes(n, &grouped));
	RQ_CHECK(rq_kmeans(data, n, &full, a, work, &ra) == RQ_OK, "full");
	RQ_CHECK(rq_kmeans(data, n, &grouped, b, work, &rb) == RQ_OK, "grouped");
	RQ_CHECK(rq_kmeans(data, n, &grouped, c, work, &rc) == RQ_OK, "grouped again");
	RQ_CHECK(rb.inertia <= ra.inertia * 1.01, "grouped inertia %.1f, full %.1f", rb.inertia, ra.inertia);
	RQ_CHECK(memcmp(b, c, sizeof(float) * k * dim) == 0, "grouped k-means is not deterministic");
	RQ_CHECK(rq_kmeans_work_bytes(n, &grouped) > rq_kmeans_work_bytes(n, &full), "no room for the groups");
	free(data);
	free(work);
	free(a);
	free(b);
	free(c);
}

const rq_test_case rq_groups_tests[] = {
	{"groups/k-means through groups: inertia within 1 % of the full search's", test_grouped_lloyd, 1},
	{"groups/uncapped: the nearest centroid for rows like the data and unlike it", test_exact, 0},
	{"groups/capped: the nearest centroid for nearly every row, a fraction compared", test_capped, 1},
	{"groups/huge and infinite components: as the full search", test_non_finite, 0},
	{"groups/no groups for few centroids; deterministic", test_count_and_determinism, 0},
	{"groups/grouping ticks as grouping", test_grouping_ticks, 0},
	{NULL, NULL, 0}
};
