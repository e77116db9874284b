/*
 * rq_groups.h
 *	  The nearest of k centroids without comparing every row with every
 *	  centroid.  Comparing a row with all k centroids costs k dot products;
 *	  with k growing as sqrt(rows) (rq_default_lists) the index build's
 *	  assignment would grow as rows^1.5.  Here the centroids are grouped
 *	  (k-means on the centroids themselves, rq_groups_count), and for a
 *	  centroid c of group g with centre m_g and radius r_g = max ||c - m_g||
 *	  the triangle inequality gives
 *
 *	      ||x - c|| >= ||x - m_g|| - r_g.
 *
 *	  A search takes the row's nearest group first, then only the groups
 *	  whose bound is below the best distance found; the rest cannot hold a
 *	  nearer centroid.  Uncapped, the answer is the nearest centroid, as
 *	  comparing with every centroid gives (a group is skipped only with a
 *	  margin for the rounding of the GEMM's distances; ties may resolve to
 *	  another of the equally near centroids).  But in a hundred dimensions
 *	  the bound rarely clears (measured: 128-dimensional rows compared with
 *	  92 % of 1,000 centroids), so a search may be capped at the nearest
 *	  max_groups groups by their centres (those the bound clears skipped):
 *	  then most rows find their nearest centroid and the others one nearly as
 *	  near (rq_groups_stats counts the work; the unit tests measure the rate).
 *	  Rows are searched in batches so that every distance step is a GEMM (the
 *	  rows visiting one group gathered, by a counting sort on the groups).

 *
 * All memory is the caller's, sized in advance, as for rq_kmeans.
 */
#ifndef RQ_GROUPS_H
#define RQ_GROUPS_H

#include <stddef.h>
#include <stdint.h>

#include "rq_kmeans.h"
#include "rq_types.h"

typedef struct rq_groups
{
	int			k;				/* centroids */
	int			dim;
	int			ngroups;
	int			largest;		/* members of the largest group */
	int			max_groups;		/* groups a row searches at most; 0: as the bound says */
	const float *centroids;		/* k x dim, the caller's, in their order */
	const float *cnorm2;		/* k, the caller's */
	int32_t    *first;			/* ngroups + 1: group g is order[first[g] .. first[g + 1]) */
	int32_t    *order;			/* k: centroid numbers, group by group */
	float	   *members;		/* k x dim: the centroids in that order */
	float	   *mnorm2;			/* k: their squared norms */
	float	   *centres;		/* ngroups x dim */
	float	   *gnorm2;			/* ngroups */
	float	   *radius;			/* ngroups: the farthest member's distance, rounded up */
	float		cmax2;			/* the largest squared norm of a centroid */
} rq_groups;

/* Counters a search adds to (for measurements; may be NULL). */
typedef struct rq_groups_stats
{
	uint64_t	rows;			/* rows searched */
	uint64_t	groups;			/* groups searched, summed over rows */
	uint64_t	centroids;		/* centroids compared, summed over rows */
} rq_groups_stats;

/*
 * Groups worth making for k centroids when a search looks into max_groups
 * (0: as many as the bound says); 0 when comparing with all is as cheap.
 */
extern int	rq_groups_count(int k, int max_groups);

/* Bytes of the grouping of k centroids into ngroups, scratch for building it included. */
extern size_t rq_groups_bytes(int k, int dim, int ngroups);

/*
 * Groups the k centroids (kept by pointer, with their squared norms: both
 * must outlive g) into ngroups (1 <= ngroups <= k), deterministically for a
 * seed; searches will look into max_groups groups at most (0: no cap).
 * mem holds rq_groups_bytes.  Grouping is a k-means of the centroids: tick
 * (may be NULL) is called as k-means calls it, with RQ_KMEANS_GROUPING.
 */
extern rq_status rq_groups_build(const float *centroids, const float *cnorm2, int k, int dim,
								 int ngroups, int max_groups, uint64_t seed, void *mem,
								 rq_groups *g, rq_kmeans_tick tick, void *tick_ctx);

/* Bytes of scratch a search of up to `rows` rows needs. */
extern size_t rq_groups_search_bytes(int k, int dim, int ngroups, int max_groups, size_t rows);

/*
 * The nearest centroid of each of n rows (n no more than the rows the
 * scratch was sized for): assign[i] and, when dist is not NULL, its squared
 * distance.  xnorm2 holds the rows' squared norms.  A row whose norm is not
 * finite is compared with every centroid, as rq_assign_nearest does.
 */
extern void rq_groups_nearest(const rq_groups *g, const float *data, const float *xnorm2, size_t n,
							  int32_t *assign, float *dist, void *work, rq_groups_stats *stats);

#endif							/* RQ_GROUPS_H */
