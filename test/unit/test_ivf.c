/*
 * test_ivf.c
 *	  IVF search with the streaming re-rank against the IVF-flat ceiling
 *	  (doc/RABITQ.md 9.3): at nprobe 16 of 64 lists, recall@10 must reach 0.99 of
 *	  what exact search over the same probed lists achieves, for every metric.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/rq_estimate.h"
#include "core/rq_exbits.h"
#include "core/rq_rerank.h"
#include "rq_test.h"
#include "rq_testivf.h"

#define K 10

typedef struct exact_ctx
{
	const rq_test_ivf *ivf;
	const float *query;
} exact_ctx;

static int
exact_row(void *ctx, uint64_t *idp, double *distance)
{
	uint64_t	id = *idp;
	exact_ctx  *e = ctx;

	*distance = rq_test_exact_distance(e->ivf, e->query, id);
	return 1;
}

/* Hits of a result list against the ground truth row. */
static int
hits(const int32_t *found, int n, const int32_t *truth)
{
	int			h = 0;

	for (int i = 0; i < n; i++)
		for (int j = 0; j < K; j++)
			h += found[i] == truth[j];
	return h;
}

/* Exact top-K over the rows of the probed lists (the IVF-flat ceiling). */
static int
flat_hits(const rq_test_ivf *ivf, const float *q, const int32_t *lists, int nprobe,
		  const int32_t *truth)
{
	int32_t		top[K];
	double		best[K];
	int			n = 0;

	for (int p = 0; p < nprobe; p++)
		for (size_t pos = ivf->list_start[lists[p]]; pos < ivf->list_start[lists[p] + 1]; pos++)
		{
			int32_t		row = ivf->order[pos];
			double		d = rq_test_exact_distance(ivf, q, row);
			int			j;

			if (n == K && d >= best[K - 1])
				continue;
			j = (n < K) ? n++ : K - 1;
			while (j > 0 && best[j - 1] > d)
			{
				best[j] = best[j - 1];
				top[j] = top[j - 1];
				j--;
			}
			best[j] = d;
			top[j] = row;
		}
	return hits(top, n, truth);
}

/* RaBitQ: estimates of the probed lists, streaming re-rank, first K rows. */
static int
rabitq_hits(const rq_test_ivf *ivf, const float *q, const float *q_rot, const int32_t *lists,
			int nprobe, const int32_t *truth, int strict, size_t *exact_count, size_t *late)
{
	int			dp = ivf->dp;
	uint64_t   *planes = rq_test_alloc(sizeof(uint64_t) * rq_query_plane_words(dp));
	float	   *est = rq_test_alloc(sizeof(float) * (ivf->ds->n + RQ_BLOCK_LANES)),
			   *lb = rq_test_alloc(sizeof(float) * (ivf->ds->n + RQ_BLOCK_LANES));
	exact_ctx	ctx = {ivf, q};
	rq_rerank	rr;
	int32_t		found[K];
	int			n = 0;
	uint64_t	id;
	double		d;

	rq_rerank_init(&rr, &rq_malloc_allocator);
	rq_rerank_set_strict(&rr, strict);
	for (int p = 0; p < nprobe; p++)
	{
		size_t		first = ivf->list_start[lists[p]],
					count = ivf->list_start[lists[p] + 1] - first,
					nblocks;
		const void *blocks = rq_test_ivf_blocks(ivf, lists[p], &nblocks);
		rq_list_query lq;

		rq_prepare_list_query(q_rot, ivf->centroids_rot + (size_t) lists[p] * dp, dp,
							  ivf->metric, planes, NULL, &lq);
		rq_test_estimate_blocks(&rq_codes, &lq, blocks, nblocks, 1.9f, est, lb, NULL);
		for (size_t v = 0; v < count; v++)
			rq_rerank_push(&rr, (uint64_t) ivf->order[first + v], lb[v]);
	}
	while (n < K && rq_rerank_next(&rr, exact_row, &ctx, &id, &d) == 1)
		found[n++] = (int32_t) id;
	*exact_count += rr.exact_computed;
	*late += rr.late_rows;
	rq_rerank_free(&rr);
	free(planes);
	free(est);
	free(lb);
	return hits(found, n, truth);
}

static void
check_recall(int dim, rq_metric metric, rq_test_rotation_kind kind, size_t n, size_t nq)
{
	rq_dataset	ds;
	rq_test_ivf ivf;
	int32_t    *truth,
			   *lists = rq_test_alloc(sizeof(int32_t) * 64);
	float	   *q_rot = rq_test_alloc(sizeof(float) * rq_padded_dim(dim));
	long		flat = 0,
				rabitq = 0,
				strict = 0;
	size_t		exact_count = 0,
				strict_exact = 0,
				late = 0;
	int			nprobe = 16;
	double		ceiling,
				recall;

	rq_make_clustered(&ds, dim, n, nq, 7 + dim);
	rq_test_ivf_build(&ivf, &ds, metric, 64, kind, 21);
	truth = rq_ground_truth(&ds, metric, K);
	for (size_t q = 0; q < nq; q++)
	{
		const float *qv = ds.queries + q * dim;

		rq_test_ivf_query(&ivf, qv, q_rot);
		rq_test_ivf_rank_lists(&ivf, q_rot, lists);
		flat += flat_hits(&ivf, qv, lists, nprobe, truth + q * K);
		rabitq += rabitq_hits(&ivf, qv, q_rot, lists, nprobe, truth + q * K, 0, &exact_count, &late);
		strict += rabitq_hits(&ivf, qv, q_rot, lists, nprobe, truth + q * K, 1, &strict_exact, &late);
	}
	ceiling = (double) flat / (nq * K);
	recall = (double) rabitq / (nq * K);
	printf("#   D=%d %s: nprobe %d/64, IVF-flat ceiling %.3f, RaBitQ + re-rank %.3f (%.4f of it),"
		   " %.1f exact distances per query (of ~%zu candidates); strict order: recall %.3f,"
		   " %.2f late rows set aside per query\n",
		   dim, metric == RQ_METRIC_L2 ? "l2" : metric == RQ_METRIC_IP ? "ip" : "cosine", nprobe,
		   ceiling, recall, recall / ceiling, (double) exact_count / nq, n * nprobe / 64,
		   (double) strict / (nq * K), (double) late / nq);
	RQ_CHECK(recall >= 0.99 * ceiling, "recall %.3f below 0.99 of ceiling %.3f", recall, ceiling);
	RQ_CHECK(ceiling > 0.8, "ceiling %.3f: the test data is not clustered enough", ceiling);
	free(truth);
	free(lists);
	free(q_rot);
	rq_test_ivf_free(&ivf);
	rq_dataset_free(&ds);
}

static void
test_l2(void)
{
	check_recall(128, RQ_METRIC_L2, RQ_TEST_DENSE, rq_test_quick ? 4000 : 20000, rq_test_quick ? 20 : 200);
	check_recall(768, RQ_METRIC_L2, RQ_TEST_FHT_KAC, rq_test_quick ? 3000 : 20000, rq_test_quick ? 10 : 100);
}

static void
test_ip_cosine(void)
{
	check_recall(128, RQ_METRIC_IP, RQ_TEST_FHT_KAC, rq_test_quick ? 4000 : 20000, rq_test_quick ? 20 : 200);
	check_recall(128, RQ_METRIC_COSINE, RQ_TEST_DENSE, rq_test_quick ? 4000 : 20000, rq_test_quick ? 20 : 200);
}

/* B-bit codes and factors of every row of the index, in list order. */
typedef struct ex_index
{
	int			bits;
	uint8_t    *codes;			/* n x rq_ex_code_bytes */
	rq_ex_factors *factors;		/* n */
} ex_index;

static ex_index
build_ex(const rq_test_ivf *ivf, int bits)
{
	int			dp = ivf->dp;
	size_t		n = ivf->ds->n,
				len = rq_ex_code_bytes(dp, bits);
	ex_index	x = {bits, rq_test_alloc(n * len), rq_test_alloc(sizeof(rq_ex_factors) * n)};
	float	   *r = rq_test_alloc(sizeof(float) * dp);
	void	   *work = rq_test_alloc(rq_ex_work_bytes(dp));
	rq_ex_quantizer qz;

	rq_ex_quantizer_init(&qz, dp, bits, work);
	for (size_t pos = 0; pos < n; pos++)
	{
		size_t		row = ivf->order[pos];
		const float *c = ivf->centroids_rot + (size_t) ivf->list_of[row] * dp;

		for (int i = 0; i < dp; i++)
			r[i] = ivf->rotated[row * dp + i] - c[i];
		rq_ex_quantize(&qz, r, x.codes + pos * len, &x.factors[pos], work);
	}
	free(r);
	free(work);
	return x;
}

typedef struct scored
{
	float		lb,
				est;
	size_t		pos;
	int			list;
} scored;

static int
by_lower_bound(const void *a, const void *b)
{
	float		x = ((const scored *) a)->lb,
				y = ((const scored *) b)->lb;

	return (x > y) - (x < y);
}

/*
 * Two-stage search (doc/RABITQ.md 4): 1-bit estimates of the probed lists,
 * then, in lower-bound order, the ex-code of a candidate is read only while
 * its 1-bit lower bound beats the K-th best B-bit estimate so far; the
 * answer is the top K by B-bit estimate, with no exact distance at all.
 */
static int
two_stage_hits(const rq_test_ivf *ivf, const ex_index *x, const float *q_rot,
			   const int32_t *lists, int nprobe, const int32_t *truth, size_t *reads,
			   size_t *candidates)
{
	int			dp = ivf->dp;
	uint64_t   *planes = rq_test_alloc(sizeof(uint64_t) * rq_query_plane_words(dp));
	scored	   *cand = rq_test_alloc(sizeof(scored) * ivf->ds->n);
	float	   *est = rq_test_alloc(sizeof(float) * (ivf->ds->n + RQ_BLOCK_LANES)),
			   *lb = rq_test_alloc(sizeof(float) * (ivf->ds->n + RQ_BLOCK_LANES));
	uint8_t    *q8 = rq_test_alloc(dp);
	float		best[K];
	int32_t		top[K];
	size_t		n = 0;
	int			found = 0;

	for (int p = 0; p < nprobe; p++)
	{
		size_t		first = ivf->list_start[lists[p]],
					count = ivf->list_start[lists[p] + 1] - first,
					nblocks;
		const void *blocks = rq_test_ivf_blocks(ivf, lists[p], &nblocks);
		rq_list_query lq;

		rq_prepare_list_query(q_rot, ivf->centroids_rot + (size_t) lists[p] * dp, dp,
							  ivf->metric, planes, NULL, &lq);
		rq_test_estimate_blocks(&rq_codes, &lq, blocks, nblocks, 1.9f, est, lb, NULL);
		for (size_t v = 0; v < count; v++)
			cand[n++] = (scored) {lb[v], est[v], first + v, lists[p]};
	}
	qsort(cand, n, sizeof(scored), by_lower_bound);
	*candidates += n;
	for (size_t i = 0; i < n && !(found == K && cand[i].lb >= best[K - 1]); i++)
	{
		size_t		pos = cand[i].pos;
		rq_ex_query eq;
		rq_ex_sums	sums;
		float		lbx,
					e;
		int			j;

		rq_prepare_ex_query(q_rot, ivf->centroids_rot + (size_t) cand[i].list * dp, dp, x->bits,
							ivf->metric, q8, &eq);
		rq_codes.ex_dot(x->codes + pos * rq_ex_code_bytes(dp, x->bits), q8, dp, x->bits, &sums);
		e = rq_ex_estimate(&eq, ivf->factors[pos].add, &x->factors[pos], &sums, 1.9f, &lbx);
		(*reads)++;
		if (found == K && e >= best[K - 1])
			continue;
		j = (found < K) ? found++ : K - 1;
		for (; j > 0 && best[j - 1] > e; j--)
		{
			best[j] = best[j - 1];
			top[j] = top[j - 1];
		}
		best[j] = e;
		top[j] = ivf->order[pos];
	}
	free(planes);
	free(cand);
	free(est);
	free(lb);
	free(q8);
	return hits(top, found, truth);
}

/* B = 5, no exact distances: recall close to the ceiling, few ex-code reads. */
static void
test_two_stage(void)
{
	rq_dataset	ds;
	rq_test_ivf ivf;
	size_t		n = 20000,
				nq = 100,
				reads = 0,
				candidates = 0;
	int32_t    *truth,
				lists[64];
	float		q_rot[128];
	long		flat = 0,
				two = 0;
	ex_index	x;

	rq_make_clustered(&ds, 128, n, nq, 7 + 128);
	rq_test_ivf_build(&ivf, &ds, RQ_METRIC_L2, 64, RQ_TEST_DENSE, 21);
	x = build_ex(&ivf, 5);
	truth = rq_ground_truth(&ds, RQ_METRIC_L2, K);
	for (size_t q = 0; q < nq; q++)
	{
		rq_test_ivf_query(&ivf, ds.queries + q * 128, q_rot);
		rq_test_ivf_rank_lists(&ivf, q_rot, lists);
		flat += flat_hits(&ivf, ds.queries + q * 128, lists, 16, truth + q * K);
		two += two_stage_hits(&ivf, &x, q_rot, lists, 16, truth + q * K, &reads, &candidates);
	}
	printf("#   D=128 B=5 two-stage, no exact distances: recall@10 %.3f of ceiling %.3f (%.4f),"
		   " ex-codes read for %.2f%% of %zu candidates per query\n",
		   (double) two / (nq * K), (double) flat / (nq * K), (double) two / flat,
		   100.0 * reads / candidates, candidates / nq);
	RQ_CHECK(two >= 0.97 * flat, "two-stage recall %ld of ceiling %ld", two, flat);
	RQ_CHECK(reads <= 0.05 * candidates, "ex-codes read for %zu of %zu candidates", reads, candidates);
	free(truth);
	free(x.codes);
	free(x.factors);
	rq_test_ivf_free(&ivf);
	rq_dataset_free(&ds);
}

const rq_test_case rq_ivf_tests[] = {
	{"ivf/recall@10 vs IVF-flat ceiling, L2 at D=128 and 768", test_l2, 1},
	{"ivf/recall@10 vs IVF-flat ceiling, inner product and cosine", test_ip_cosine, 1},
	{"ivf/two-stage extended RaBitQ (B=5) without exact distances", test_two_stage, 1},
	{NULL, NULL, 0}
};
