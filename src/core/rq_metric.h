/*
 * rq_metric.h
 *	  What each metric means, in one place: the exact distance in the
 *	  estimator's units, which is the order the index returns rows in and,
 *	  through rq_metric_sql_value, the value of the SQL operators; how the
 *	  lists are ranked for a query; and which list a vector belongs to.
 *
 *	  L2		squared Euclidean distance (the operator <-> is its root)
 *	  IP		negative inner product (<#>)
 *	  cosine	1 - <a, b> / sqrt(|a|^2 |b|^2), the similarity clamped to
 *				[-1, 1]; NaN when either vector is zero (<=>)
 *
 * All through the dispatched float kernels (rq_distance.h), as pgvector
 * accumulates, and widened to double.
 */
#ifndef RQ_METRIC_H
#define RQ_METRIC_H

#include "rq_types.h"

/* The cosine distance from rq_dist.cosine's three sums. */
extern double rq_cosine_distance(const float parts[3]);

/* The exact distance between a and b (dim floats) in the estimator's units. */
extern double rq_metric_distance(rq_metric metric, const float *a, const float *b, int dim);

/* The SQL operator's value of an exact distance (the root for L2). */
extern double rq_metric_sql_value(rq_metric metric, double distance);

/*
 * Scores lists [0, lists) for a rotated query, smaller first: the nearest
 * centroid for L2 and cosine, the largest <q, c> for inner product
 * (doc/RABITQ.md 2.5).  centroids are rotated, lists x dp; cnorm2 their
 * squared norms.
 */
extern void rq_score_lists(rq_metric metric, const float *q_rot, const float *centroids,
						   const float *cnorm2, int lists, int dp, float *score);

/* The list whose centroid is nearest (L2) to a rotated vector: where it is stored. */
extern int	rq_nearest_list(const float *x_rot, const float *centroids, const float *cnorm2,
							int lists, int dp);

#endif							/* RQ_METRIC_H */
