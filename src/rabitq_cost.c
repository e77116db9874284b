/*
 * rabitq_cost.c
 *	  Planner costs.  Most of the work (ranking the lists, estimating every
 *	  code of the probed lists) happens before the first row, so the whole
 *	  index cost is startup cost, as in pgvector: with LIMIT k the planner
 *	  then charges only k rows' worth of heap fetches on top.  Without an
 *	  ORDER BY on the indexed distance the index is never useful.
 */
#include "postgres.h"

#include <math.h>

#include "access/relation.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"

#include "rabitq.h"

void
rabitqcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				   Cost *indexStartupCost, Cost *indexTotalCost,
				   Selectivity *indexSelectivity, double *indexCorrelation,
				   double *indexPages)
{
	GenericCosts costs;
	Relation	index;
	RabitqMetaPageData meta;
	double		ratio;
	int			probes;

	/* never an index scan without ORDER BY on the distance (as pgvector) */
	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = get_float8_infinity();
		*indexTotalCost = get_float8_infinity();
		*indexSelectivity = 0;
		*indexCorrelation = 0;
		*indexPages = 0;
		return;
	}

	index = index_open(path->indexinfo->indexoid, NoLock);
	meta = RabitqReadMeta(index);
	probes = RabitqProbes(index, Max(meta.lists, 1), (rq_metric) meta.metric);
	index_close(index, NoLock);
	ratio = (double) probes / Max(meta.lists, 1);

	/* the probed share of the entries and pages, as genericcostestimate counts them */
	MemSet(&costs, 0, sizeof(costs));
	costs.numIndexTuples = Max(path->indexinfo->tuples * ratio, 1.0);
	genericcostestimate(root, path, loop_count, &costs);

	/* ranking every list: one distance to each centroid */
	costs.indexTotalCost += meta.lists * cpu_operator_cost;

	*indexStartupCost = costs.indexTotalCost;
	*indexTotalCost = costs.indexTotalCost;
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = costs.indexCorrelation;
	*indexPages = costs.numIndexPages;
}
