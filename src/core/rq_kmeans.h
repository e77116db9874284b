/*
 * rq_kmeans.h
 *	  k-means for the IVF lists: k-means++ seeding on a sample, then Lloyd
 *	  iterations whose distance step is a cblas_sgemm over blocks of rows
 *	  (||x||^2 - 2 x.c + ||c||^2).  Empty clusters are re-seeded with the row
 *	  farthest from its centroid.  Deterministic for a seed.  Spherical mode
 *	  (for cosine, on unit vectors) normalises the centroids after each update.
 *
 * All scratch memory is one caller-provided block whose size
 * rq_kmeans_work_bytes gives in advance, so the index build can check it
 * against maintenance_work_mem before allocating anything.
 */
#ifndef RQ_KMEANS_H
#define RQ_KMEANS_H

#include "rq_types.h"

/* Where k-means is when it calls its tick (see rq_kmeans_config). */
typedef enum rq_kmeans_stage
{
	RQ_KMEANS_SEEDING = 1,		/* done = centres chosen, total = k */
	RQ_KMEANS_LLOYD = 2,		/* done = iterations finished, total = max_iterations */
	RQ_KMEANS_GROUPING = 3		/* grouping centroids (rq_groups_build): no progress to report */
} rq_kmeans_stage;

/*
 * Called between bounded steps of work (a centre chosen, a GEMM block, an
 * iteration): the caller's chance to report progress and to check for
 * cancellation.  It may leave by longjmp (a PostgreSQL ERROR): k-means keeps
 * everything in the caller's workspace, so nothing leaks.
 */
typedef void (*rq_kmeans_tick) (void *ctx, rq_kmeans_stage stage, int done, int total);

/*
 * Assigns every one of the n rows to its nearest centroid for Lloyd
 * iteration `iteration`, as rq_kmeans_assigner_start and
 * rq_kmeans_assign_batch would over all batches (see below): updates
 * assign[i] and dist[i] and returns how many rows changed cluster.  A caller
 * sets it to spread the batches over several processes; the outcome must be
 * the serial one.
 */
typedef size_t (*rq_kmeans_assign_all) (void *ctx, int iteration, const float *centroids,
										int32_t *assign, float *dist);

typedef struct rq_kmeans_config
{
	int			dim;
	int			k;				/* 1 <= k <= n */
	int			max_iterations; /* Lloyd iterations at most */
	uint64_t	seed;
	int			spherical;		/* normalise centroids (rows must be unit vectors) */
	size_t		seed_sample;	/* rows k-means++ looks at; 0: min(n, max(8 k, 8192)) */
	size_t		block_rows;		/* rows per GEMM block; 0: rq_gemm_block_rows(k, dim) */
	int			max_groups;		/* > 0: Lloyd assigns through grouped centroids searching
								 * this many groups at most (rq_groups.h), when k is
								 * large enough to group; 0: compares with every centroid */
	rq_kmeans_tick tick;		/* may be NULL */
	void	   *tick_ctx;
	rq_kmeans_assign_all assign_all;	/* NULL: Lloyd assigns the rows itself */
	void	   *assign_ctx;
} rq_kmeans_config;

/*
 * Rows per GEMM block when assigning rows to k centroids of dim floats:
 * about 2^25 multiply-adds (a few milliseconds) per block, 1 to 1024 rows,
 * so a caller that checks for cancellation between blocks answers quickly.
 */
extern size_t rq_gemm_block_rows(int k, int dim);

typedef struct rq_kmeans_result
{
	int			iterations;		/* Lloyd iterations run */
	double		inertia;		/* sum of squared distances at the last assignment */
	int			reseeded;		/* empty clusters re-seeded, over all iterations */
	size_t		changed;		/* rows that changed cluster in the last iteration */
} rq_kmeans_result;

/*
 * One Lloyd assignment, in batches.  Each participant starts an assigner on
 * the iteration's centroids (their norms, and the groups when the
 * configuration groups them: deterministic for the seed and iteration) and
 * may then run any of the batches, in any order: batch b is rows
 * [b * batch_rows, (b + 1) * batch_rows), and a row's result depends only
 * on the centroids and its batch, so any split of the batches among
 * participants gives the serial result, bit for bit.
 */
typedef struct rq_kmeans_assigner
{
	const rq_kmeans_config *cfg;
	const float *centroids;		/* k x dim, the caller's */
	float	   *cnorm2;			/* k */
	float	   *block;			/* batch_rows x k: one GEMM block, without groups */
	struct rq_groups *groups;	/* NULL: compare with every centroid */
	void	   *search;			/* a grouped batch's scratch */
	size_t		batch_rows;
} rq_kmeans_assigner;

/* Bytes of one assigner's scratch. */
extern size_t rq_kmeans_assigner_bytes(const rq_kmeans_config *cfg);

/* Starts an assigner in scratch (rq_kmeans_assigner_bytes) for the given iteration. */
extern void rq_kmeans_assigner_start(rq_kmeans_assigner *a, const rq_kmeans_config *cfg,
									 const float *centroids, int iteration, void *scratch);

/* Batches n rows make; the rows of batch b, and its first row in *start (may be NULL). */
extern size_t rq_kmeans_batches(const rq_kmeans_assigner *a, size_t n);
extern size_t rq_kmeans_batch_span(const rq_kmeans_assigner *a, size_t n, size_t b, size_t *start);

/*
 * Assigns the rows of batch b of the n rows of data (xnorm2 their squared
 * norms, rq_squared_norms): assign[r] and dist[r] for the batch's r-th row.
 */
extern void rq_kmeans_assign_batch(const rq_kmeans_assigner *a, const float *data, const float *xnorm2,
								   size_t n, size_t b, int32_t *assign, float *dist);

/* Bytes of the workspace rq_kmeans (and its two halves) need for n rows. */
extern size_t rq_kmeans_work_bytes(size_t n, const rq_kmeans_config *cfg);

/* k-means++ seeds (k x dim) from a random sample of the n rows of data. */
extern rq_status rq_kmeans_seed(const float *data, size_t n, const rq_kmeans_config *cfg,
								float *centroids, void *work);

/* Lloyd iterations from the given centroids. */
extern rq_status rq_kmeans_lloyd(const float *data, size_t n, const rq_kmeans_config *cfg,
								 float *centroids, void *work, rq_kmeans_result *result);

/* Seeding, then Lloyd. */
extern rq_status rq_kmeans(const float *data, size_t n, const rq_kmeans_config *cfg,
						   float *centroids, void *work, rq_kmeans_result *result);

/*
 * Clusters for an inverted index of `rows` rows when the user chose none:
 * rows / 1000 up to a million rows, sqrt(rows) beyond (pgvector's advice for
 * IVFFlat), at least 1 and at most max_k.
 */
extern int	rq_default_lists(double rows, int max_k);

/* Squared Euclidean norms of n rows of dim floats. */
extern void rq_squared_norms(const float *x, size_t n, int dim, float *out);

/*
 * Nearest of k centroids for each of n rows, by one GEMM per block of
 * block_rows rows: assign[i] and its squared distance dist[i] (either may be
 * NULL).  xnorm2 and cnorm2 are the squared norms; block holds
 * block_rows x k floats.
 */
extern void rq_assign_nearest(const float *data, const float *xnorm2, size_t n, int dim,
							  const float *centroids, const float *cnorm2, int k,
							  int32_t *assign, float *dist, float *block, size_t block_rows);

#endif							/* RQ_KMEANS_H */
