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

/* what ranking one row exactly costs beyond its distance: a heap fetch, mostly from shared buffers */
#define RABITQ_EXACT_ROW_COST (10 * cpu_tuple_cost)
/* rows an exact scan with ex-codes reads from the heap, for costing (measured: about 2k for LIMIT k) */
#define RABITQ_EXACT_HEAP_ROWS 30.0

void
rabitqcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				   Cost *indexStartupCost, Cost *indexTotalCost,
				   Selectivity *indexSelectivity, double *indexCorrelation,
				   double *indexPages)
{
	GenericCosts costs;
	Relation	index;
	RabitqMetaPageData meta;
	double		ratio,
				pages,
				matched,
				cost,
				seq_page_cost_ts;
	int			probes;
	Size		posting_size;
	int			ex_bits;

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
	posting_size = RabitqPostingSize(&RabitqGetCache(index)->geom);
	ex_bits = (int) meta.ex_bits;
	index_close(index, NoLock);
	ratio = (double) probes / Max(meta.lists, 1);

	/* selectivity and correlation as genericcostestimate has them; the costs are ours */
	MemSet(&costs, 0, sizeof(costs));
	costs.numIndexTuples = Max(path->indexinfo->tuples * ratio, 1.0);
	genericcostestimate(root, path, loop_count, &costs);

	/*
	 * Pages: the probed lists are read whole, in chain order, and the build
	 * lays each chain out contiguously, so they cost sequential reads.  Never
	 * more of them than the heap's main pages: a sequential scan computes
	 * every row's distance, and from about 500 dimensions the vectors are
	 * stored out of line (TOAST), so it reads many more pages than the
	 * planner charges it for (its page cost counts only the main pages),
	 * while the list pages hold 1-bit codes, 1/32 of the vectors' size.
	 * pgvector's IVFFlat makes the same correction.
	 */
	get_tablespace_page_costs(path->indexinfo->reltablespace, NULL, &seq_page_cost_ts);
	matched = path->indexinfo->tuples * costs.indexSelectivity;
	if (path->indexclauses != NIL && matched <= rabitq_exact_limit)
	{
		/*
		 * Few rows meet the key conditions: the scan reads their postings and
		 * ranks them (rabitq.exact_limit).  A row ranked from the heap costs a
		 * fetch, mostly from shared buffers, and a distance; with ex-codes
		 * every row costs an estimate and only the few the codes cannot order
		 * (RABITQ_EXACT_HEAP_ROWS, a typical LIMIT's worth) are read.
		 */
		double		heap_rows = ex_bits > 0 ? Min(matched, RABITQ_EXACT_HEAP_ROWS) : matched;

		pages = 1 + ceil(matched / RABITQ_POSTINGS_PER_PAGE(posting_size));
		cost = pages * seq_page_cost_ts +
			(ex_bits > 0 ? matched * cpu_operator_cost : 0) +
			heap_rows * (RABITQ_EXACT_ROW_COST + cpu_operator_cost * list_length(path->indexorderbys));
	}
	else
	{
		pages = Min(ceil(path->indexinfo->pages * ratio), Max((double) path->indexinfo->rel->pages, 1.0));
		cost = pages * seq_page_cost_ts;
		/*
		 * Each probed entry is read and its keys compared; only those meeting
		 * the key conditions (the tenant of a policy) are estimated and
		 * re-ranked.  Then ranking every list by its centroid.
		 */
		cost += costs.numIndexTuples *
			(cpu_operator_cost * list_length(path->indexclauses) +
			 (path->indexclauses != NIL ? costs.indexSelectivity : 1.0) *
			 (cpu_index_tuple_cost + cpu_operator_cost * list_length(path->indexorderbys)));
		cost += meta.lists * cpu_operator_cost;
	}

	/* all of it before the first row (as in pgvector): LIMIT k pays it whole */
	*indexStartupCost = cost;
	*indexTotalCost = cost;
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = costs.indexCorrelation;
	*indexPages = pages;
}
