/*
 * rabitq_stats.c
 *	  rabitq_index_stats(regclass): the shape of an index, and whether it
 *	  has drifted from the lists it was built with.
 *
 * Lists, entries (rows indexed) and their spread over the lists, dead
 * entries (whose heap rows every transaction sees as deleted: the next
 * VACUUM frees them), free lanes (freed by VACUUM, reused by inserts into
 * the same list), free bytes on the index pages, and drift: the mean squared
 * distance of the entries from their list centroids over the same mean at
 * build.  RaBitQ's error bound grows with that distance, so a drifted index
 * computes more exact distances for the same recall.  Each entry counts at
 * most RABITQ_DRIFT_CLIP times the build's mean: one row far from every
 * centroid (any role may insert one) moves the mean by at most that much
 * over the entry count, instead of by its own square.  reindex_advised says
 * when REINDEX pays: drift above RABITQ_DRIFT_REINDEX, or more than twice
 * the rows the lists were trained on (and at least RABITQ_GROWTH_MIN_ROWS).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "funcapi.h"
#include "storage/bufmgr.h"
#include "utils/snapmgr.h"

#include "rabitq.h"

#define RABITQ_DRIFT_REINDEX	1.2
#define RABITQ_DRIFT_CLIP		10.0
#define RABITQ_GROWTH_MIN_ROWS	10000

PG_FUNCTION_INFO_V1(rabitq_index_stats);

typedef struct StatsState
{
	Relation	heap;
	Relation	index;
	RabitqCache *cache;
	int64	   *per_list;
	int64		entries;
	int64		dead;
	int64		free_lanes;
	int64		free_bytes;
	double		residual2;		/* sum over entries of |o - c|^2, each clipped */
	double		clip;			/* RABITQ_DRIFT_CLIP times the build's mean (0: no clipping) */
} StatsState;

static void
CountPage(StatsState *st, int list, Page page)
{
	const RabitqCache *c = st->cache;
	const RabitqGeometry *g = &c->geom;
	RabitqLaneIter it;

	st->free_bytes += PageGetFreeSpace(page);
	RabitqLaneIterStart(&it, page, true);
	while (RabitqLaneIterNext(g, &it))
		st->free_lanes++;
	RabitqLaneIterStart(&it, page, false);
	while (RabitqLaneIterNext(g, &it))
	{
		rq_factors	f = RabitqTailGetFactors(g, it.tail, it.lane);
		double		r2 = rq_factors_residual2(&f, c->codec.dp, c->codec.metric);
		bool		all_dead = false;

		st->per_list[list]++;
		st->entries++;
		st->residual2 += st->clip > 0 ? Min(r2, st->clip) : r2;
		if (!table_index_fetch_tuple_check(st->heap, &RabitqTailTids(g, it.tail)[it.lane], SnapshotSelf,
										   &all_dead) && all_dead)
			st->dead++;
	}
}

static void
CountList(StatsState *st, int list)
{
	RabitqListEntry entry = RabitqReadListEntry(st->index, st->cache, list);
	PGAlignedBlock copy;

	for (BlockNumber blkno = entry.first_page; BlockNumberIsValid(blkno);)
	{
		Buffer		buf = ReadBuffer(st->index, blkno);

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		memcpy(copy.data, BufferGetPage(buf), BLCKSZ);
		UnlockReleaseBuffer(buf);
		CountPage(st, list, (Page) copy.data);
		blkno = RabitqPageGetOpaque((Page) copy.data)->next;
		CHECK_FOR_INTERRUPTS();
	}
}

static int
CompareInt64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a,
				y = *(const int64 *) b;

	return (x > y) - (x < y);
}

Datum
rabitq_index_stats(PG_FUNCTION_ARGS)
{
	StatsState	st = {0};
	RabitqMetaPageData meta;
	TupleDesc	desc;
	Datum		values[11];
	bool		nulls[11] = {0};
	double		drift;
	int			n;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	RabitqOpenForInspection(PG_GETARG_OID(0), AccessShareLock, "rabitq_index_stats", &st.heap, &st.index);
	st.cache = RabitqGetCache(st.index);
	meta = RabitqReadMeta(st.index);
	n = st.cache->codec.lists;
	st.clip = RABITQ_DRIFT_CLIP * meta.build_residual2;
	st.per_list = palloc0(sizeof(int64) * n);
	for (int l = 0; l < n; l++)
		CountList(&st, l);
	qsort(st.per_list, n, sizeof(int64), CompareInt64);
	drift = (st.entries > 0 && meta.build_residual2 > 0) ?
		(st.residual2 / st.entries) / meta.build_residual2 : 1.0;

	values[0] = Int32GetDatum(n);
	values[1] = Int64GetDatum(st.entries);
	values[2] = Int64GetDatum(st.per_list[0]);
	values[3] = Int64GetDatum(st.per_list[n / 2]);
	values[4] = Int64GetDatum(st.per_list[n - 1]);
	values[5] = Int64GetDatum(st.dead);
	values[6] = Int64GetDatum(st.free_lanes);
	values[7] = Int64GetDatum(st.free_bytes);
	values[8] = Float8GetDatum(drift);
	values[9] = Int64GetDatum(meta.build_rows);
	values[10] = BoolGetDatum(drift > RABITQ_DRIFT_REINDEX ||
							  (st.entries > 2 * meta.build_rows && st.entries >= RABITQ_GROWTH_MIN_ROWS));
	index_close(st.index, AccessShareLock);
	table_close(st.heap, AccessShareLock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
