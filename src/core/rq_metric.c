/*
 * rq_metric.c
 *	  Exact distances, list scores and list assignment of each metric.
 */
#include "rq_metric.h"

#include <math.h>

#include "rq_distance.h"

double
rq_cosine_distance(const float parts[3])
{
	/* sqrt(|a|^2 |b|^2) rather than |a| |b|: one rounding fewer */
	double		similarity = (double) parts[0] / sqrt((double) parts[1] * (double) parts[2]);

	if (isnan(similarity))
		return NAN;
	if (similarity > 1.0)
		similarity = 1.0;
	else if (similarity < -1.0)
		similarity = -1.0;
	return 1.0 - similarity;
}

double
rq_metric_distance(rq_metric metric, const float *a, const float *b, int dim)
{
	float		parts[3];

	if (metric == RQ_METRIC_L2)
		return (double) rq_dist.l2sq(a, b, dim);
	if (metric == RQ_METRIC_IP)
		return -(double) rq_dist.dot(a, b, dim);
	rq_dist.cosine(a, b, dim, parts);
	return rq_cosine_distance(parts);
}

double
rq_metric_sql_value(rq_metric metric, double distance)
{
	return metric == RQ_METRIC_L2 ? sqrt(distance) : distance;
}

void
rq_score_lists(rq_metric metric, const float *q_rot, const float *centroids, const float *cnorm2,
			   int lists, int dp, float *score)
{
	for (int l = 0; l < lists; l++)
	{
		float		dot = rq_dist.dot(q_rot, centroids + (size_t) l * dp, dp);

		score[l] = (metric == RQ_METRIC_IP) ? -dot : cnorm2[l] - 2.0f * dot;
	}
}

int
rq_nearest_list(const float *x_rot, const float *centroids, const float *cnorm2, int lists, int dp)
{
	int			best = 0;
	float		best_d = INFINITY;

	for (int l = 0; l < lists; l++)
	{
		float		d = cnorm2[l] - 2.0f * rq_dist.dot(x_rot, centroids + (size_t) l * dp, dp);

		if (d < best_d)
		{
			best_d = d;
			best = l;
		}
	}
	return best;
}
