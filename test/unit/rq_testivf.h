/*
 * rq_testivf.h
 *	  Test fixtures for the RaBitQ core: clustered synthetic data shaped like
 *	  doc/RABITQ.md 9 (a 32-dim latent mixture of 300 anisotropic Gaussians mapped
 *	  linearly to D dimensions, plus isotropic noise and a mean offset), and an
 *	  in-memory IVF index built from the core pieces (k-means, rotation,
 *	  quantizer) with exact ground truth.
 */
#ifndef RQ_TESTIVF_H
#define RQ_TESTIVF_H

#include "core/rq_quantize.h"
#include "rq_testblocks.h"
#include "rq_testrot.h"

typedef struct rq_dataset
{
	int			dim;
	size_t		n;				/* base rows */
	size_t		nq;				/* query rows */
	float	   *base;			/* n x dim */
	float	   *queries;		/* nq x dim */
} rq_dataset;

/* Fills ds with n base and nq query rows from the same mixture. */
extern void rq_make_clustered(rq_dataset *ds, int dim, size_t n, size_t nq, uint64_t seed);
extern void rq_dataset_free(rq_dataset *ds);

/* Exact top-k row numbers of every query in the metric (double), nq x k. */
extern int32_t *rq_ground_truth(const rq_dataset *ds, rq_metric metric, int k);

typedef struct rq_test_ivf
{
	const rq_dataset *ds;
	rq_metric	metric;
	int			dp;
	int			nlist;
	rq_test_rotation rotation;
	float	   *vectors;		/* n x D after metric preprocessing */
	float	   *rotated;		/* n x Dp: rot(vector) */
	float	   *centroids_rot;	/* nlist x Dp */
	int32_t    *list_of;		/* n: list of each row */
	int32_t    *order;			/* n: rows grouped by list */
	size_t	   *list_start;		/* nlist + 1 offsets into order */
	uint64_t   *codes;			/* n x words, in list order */
	rq_factors *factors;		/* n, in list order */
	char	   *blocks;			/* each list's codes as blocks of 8 */
	size_t	   *list_block;		/* nlist + 1 offsets (in blocks) into blocks */
} rq_test_ivf;

/* The blocks of list l and how many there are. */
extern const void *rq_test_ivf_blocks(const rq_test_ivf *ivf, int l, size_t *nblocks);

/* Builds the index: k-means (nlist lists), rotation of the given kind, codes. */
extern void rq_test_ivf_build(rq_test_ivf *ivf, const rq_dataset *ds, rq_metric metric,
							  int nlist, rq_test_rotation_kind kind, uint64_t seed);
extern void rq_test_ivf_free(rq_test_ivf *ivf);

/* Rotated, preprocessed query q (Dp floats into out). */
extern void rq_test_ivf_query(const rq_test_ivf *ivf, const float *q, float *out);

/* Lists in probe order for a rotated query: nearest centroids (max <q,c> for IP). */
extern void rq_test_ivf_rank_lists(const rq_test_ivf *ivf, const float *q_rot, int32_t *lists);

/*
 * Exact distance of row i to the (raw) query in the estimator's units
 * (rq_metric_distance): squared L2, negative inner product, or 1 - cosine.
 */
extern double rq_test_exact_distance(const rq_test_ivf *ivf, const float *q, size_t row);

#endif							/* RQ_TESTIVF_H */
