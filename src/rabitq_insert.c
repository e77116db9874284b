/*
 * rabitq_insert.c
 *	  aminsert (doc/DESIGN.md 5): quantize the new row against the cached rotation
 *	  and centroids, then write it into a free lane of its list, extending the
 *	  list only when no page of it has one.
 *
 * With key columns the lane also stores the key image, and the row is
 * posted under its key's hash (rabitq_postings.c) unless a key is NULL.
 *
 * Finding a lane: start at the list's insert hint (directory) and walk the
 * chain.  VACUUM points the hint back at the first page where it freed
 * lanes, so deleted space is refilled before the list grows.  A list's last
 * page is locked while the list is extended, so two inserters cannot both
 * extend it.  Every change is one GenericXLog record.
 */
#include "postgres.h"

#include <math.h>

#include "access/generic_xlog.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "core/rq_metric.h"
#include "rabitq.h"

/* Where a new entry goes: tail item `off` on block `blkno`, lane `lane`. */
typedef struct LaneSlot
{
	BlockNumber blkno;
	OffsetNumber off;
	int			lane;
} LaneSlot;

/* A free lane among the tail items of page, or false. */
static bool
FindFreeLane(const RabitqGeometry *g, Page page, OffsetNumber *off, int *lane)
{
	RabitqLaneIter it;

	RabitqLaneIterStart(&it, page, true);
	if (!RabitqLaneIterNext(g, &it))
		return false;
	*off = it.off;
	*lane = it.lane;
	return true;
}

/*
 * Writes the entry into a free lane of a one-item block on the locked page
 * buf; false if the page has none.
 */
static bool
FillOnPage(Relation index, const RabitqGeometry *g, Buffer buf, const RabitqLane *e)
{
	GenericXLogState *state;
	Page		page;
	OffsetNumber off;
	int			lane;

	if (!FindFreeLane(g, BufferGetPage(buf), &off, &lane))
		return false;
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	RabitqPutLane(g, PageGetItem(page, PageGetItemId(page, off)), lane, e);
	GenericXLogFinish(state);
	return true;
}

/*
 * Writes the entry into lane slot->lane of a multi-item block whose tail is
 * at slot: locks the record's pages in chain order (segments come before the
 * tail) and checks the lane is still free.  False if it was taken meanwhile.
 */
static bool
FillSegmented(Relation index, const RabitqGeometry *g, const LaneSlot *slot, const RabitqLane *e)
{
	Buffer		tailbuf = ReadBuffer(index, slot->blkno);
	ItemPointerData segs[RABITQ_MAX_SEGMENTS - 1];
	Buffer		bufs[RABITQ_MAX_SEGMENTS];
	GenericXLogState *state;
	char	   *tail;
	bool		free_still;

	LockBuffer(tailbuf, BUFFER_LOCK_SHARE);
	memcpy(segs, RabitqTailSegs(g, PageGetItem(BufferGetPage(tailbuf),
											   PageGetItemId(BufferGetPage(tailbuf), slot->off))),
		   sizeof(segs));
	LockBuffer(tailbuf, BUFFER_LOCK_UNLOCK);

	for (int s = 0; s < g->nseg - 1; s++)
	{
		bufs[s] = ReadBuffer(index, ItemPointerGetBlockNumber(&segs[s]));
		LockBuffer(bufs[s], BUFFER_LOCK_EXCLUSIVE);
	}
	bufs[g->nseg - 1] = tailbuf;
	LockBuffer(tailbuf, BUFFER_LOCK_EXCLUSIVE);

	tail = PageGetItem(BufferGetPage(tailbuf), PageGetItemId(BufferGetPage(tailbuf), slot->off));
	free_still = !RabitqTailUsed(g, tail)[slot->lane];
	if (free_still)
	{
		state = GenericXLogStart(index);
		for (int s = 0; s < g->nseg; s++)
		{
			Page		page = GenericXLogRegisterBuffer(state, bufs[s], 0);
			OffsetNumber off = (s < g->nseg - 1) ? ItemPointerGetOffsetNumber(&segs[s]) : slot->off;
			RabitqPutLane(g, PageGetItem(page, PageGetItemId(page, off)), slot->lane, e);
		}
		GenericXLogFinish(state);
	}
	for (int s = 0; s < g->nseg; s++)
		UnlockReleaseBuffer(bufs[s]);
	return free_still;
}

/* A new block record's item s, lane 0 holding the entry. */
static char *
NewBlockItem(const RabitqGeometry *g, int s, const RabitqLane *e, const ItemPointerData *segs)
{
	char	   *item = palloc(RabitqItemSize(g, s));

	RabitqInitItem(g, item, s, segs);
	RabitqPutLane(g, item, 0, e);
	return item;
}

/*
 * Adds a block record holding the entry after the locked last page `last`
 * of a list: on that page if a one-item record fits, else on new pages
 * chained after it.  Returns the page where the record's tail went.
 */
static BlockNumber
AppendBlock(Relation index, const RabitqGeometry *g, Buffer last, const RabitqLane *e)
{
	GenericXLogState *state = GenericXLogStart(index);
	Page		lastpage = GenericXLogRegisterBuffer(state, last, 0);
	Buffer		newbuf[RABITQ_MAX_SEGMENTS] = {InvalidBuffer};
	Page		newpage[RABITQ_MAX_SEGMENTS];
	ItemPointerData segs[RABITQ_MAX_SEGMENTS - 1];
	BlockNumber tail_page;
	int			nnew = 0;

	if (g->nseg == 1 && PageGetFreeSpace(lastpage) >= g->tail_size)
	{
		char	   *item = NewBlockItem(g, 0, e, segs);

		if (PageAddItem(lastpage, (Item) item, g->tail_size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
			elog(ERROR, "rabitq could not add a block record");
		GenericXLogFinish(state);
		return BufferGetBlockNumber(last);
	}

	/* one new page per item of the record, chained after the last page */
	for (int s = 0; s < g->nseg; s++, nnew++)
	{
		newbuf[s] = RabitqNewBuffer(index, MAIN_FORKNUM);
		newpage[s] = GenericXLogRegisterBuffer(state, newbuf[s], GENERIC_XLOG_FULL_IMAGE);
		RabitqInitPage(newpage[s], RABITQ_PAGE_LIST);
		if (s == 0)
			RabitqPageGetOpaque(lastpage)->next = BufferGetBlockNumber(newbuf[0]);
		else
			RabitqPageGetOpaque(newpage[s - 1])->next = BufferGetBlockNumber(newbuf[s]);
		if (s < g->nseg - 1)
			ItemPointerSet(&segs[s], BufferGetBlockNumber(newbuf[s]), FirstOffsetNumber);
	}
	for (int s = 0; s < g->nseg; s++)
	{
		char	   *item = NewBlockItem(g, s, e, segs);

		if (PageAddItem(newpage[s], (Item) item, RabitqItemSize(g, s), InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
			elog(ERROR, "rabitq could not add a block record to a new page");
	}
	GenericXLogFinish(state);
	tail_page = BufferGetBlockNumber(newbuf[g->nseg - 1]);
	for (int s = 0; s < nnew; s++)
		UnlockReleaseBuffer(newbuf[s]);
	return tail_page;
}

/* One-item records: walk from the hint, fill the first free lane or extend. */
static void
AddSingle(Relation index, const RabitqCache *cache, int list, BlockNumber start, const RabitqLane *e)
{
	BlockNumber blkno = start;

	for (;;)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		BlockNumber next;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		if (FillOnPage(index, &cache->geom, buf, e))
		{
			UnlockReleaseBuffer(buf);
			if (blkno != start)
				RabitqSetInsertHint(index, cache, list, blkno);
			return;
		}
		next = RabitqPageGetOpaque(BufferGetPage(buf))->next;
		if (!BlockNumberIsValid(next))
		{
			BlockNumber tail = AppendBlock(index, &cache->geom, buf, e);

			UnlockReleaseBuffer(buf);
			if (tail != start)
				RabitqSetInsertHint(index, cache, list, tail);
			return;
		}
		UnlockReleaseBuffer(buf);
		blkno = next;
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Multi-item records: find a free lane with shared locks, then take the
 * record's pages in chain order; at the last page extend under its lock.
 */
static void
AddSegmented(Relation index, const RabitqCache *cache, int list, BlockNumber start, const RabitqLane *e)
{
	BlockNumber blkno = start;

	for (;;)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		LaneSlot	slot;
		BlockNumber next;
		bool		found;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		found = FindFreeLane(&cache->geom, BufferGetPage(buf), &slot.off, &slot.lane);
		next = RabitqPageGetOpaque(BufferGetPage(buf))->next;
		UnlockReleaseBuffer(buf);
		slot.blkno = blkno;
		if (found && FillSegmented(index, &cache->geom, &slot, e))
		{
			if (blkno != start)
				RabitqSetInsertHint(index, cache, list, blkno);
			return;
		}
		if (found)
			continue;			/* taken meanwhile: look at this page again */
		CHECK_FOR_INTERRUPTS();
		if (BlockNumberIsValid(next))
		{
			blkno = next;
			continue;
		}
		/* the last page: lock it and extend unless someone else just did */
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		if (!BlockNumberIsValid(RabitqPageGetOpaque(BufferGetPage(buf))->next))
		{
			BlockNumber tail = AppendBlock(index, &cache->geom, buf, e);

			UnlockReleaseBuffer(buf);
			RabitqSetInsertHint(index, cache, list, tail);
			return;
		}
		UnlockReleaseBuffer(buf);
	}
}

/*
 * Stores one quantized entry in list; residual_norm (|o - c|) raises the
 * list's recorded maximum when larger.
 */
static void
AddEntry(Relation index, const RabitqCache *cache, int list, const RabitqLane *e, float residual_norm)
{
	RabitqListEntry entry = RabitqReadListEntry(index, cache, list);

	if (residual_norm > entry.max_residual)
		RabitqRaiseMaxResidual(index, cache, list, residual_norm);

	if (!BlockNumberIsValid(entry.first_page))
		entry = RabitqCreateFirstPage(index, cache, list);
	if (cache->geom.nseg == 1)
		AddSingle(index, cache, list, entry.insert_page, e);
	else
		AddSegmented(index, cache, list, entry.insert_page, e);
}

bool
rabitqinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid, Relation heap,
			 IndexUniqueCheck checkUnique, bool indexUnchanged, IndexInfo *indexInfo)
{
	MemoryContext ctx,
				old;
	RabitqCache *cache;
	RabitqCodec *codec;
	float	   *rotated;
	uint64_t   *code;
	uint8	   *key = NULL;
	bool		posted = false;
	RabitqLane	e;
	int			list;
	float		residual2;

	(void) heap;
	(void) checkUnique;
	(void) indexUnchanged;
	(void) indexInfo;
	ctx = AllocSetContextCreate(CurrentMemoryContext, "rabitq insert", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(ctx);
	cache = RabitqGetCache(index);
	codec = &cache->codec;
	/* rows with a NULL vector are not indexed (as in pgvector) */
	if (isnull[cache->keys.vector_attno])
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(ctx);
		return false;
	}
	rotated = palloc(sizeof(float) * codec->dp);
	code = palloc(sizeof(uint64_t) * cache->geom.words);

	/* every check that can fail on the value comes before any page changes */
	RabitqEncodeVector(codec, values[cache->keys.vector_attno], codec->prep, rotated);
	if (cache->keys.nkeys > 0)
	{
		key = palloc(cache->keys.key_bytes);
		posted = RabitqKeyImage(&cache->keys, values, isnull, key);
	}
	list = rq_nearest_list(rotated, codec->centroids, codec->centroid_norm2, codec->lists, codec->dp);
	residual2 = RabitqEncodeEntry(codec, rotated, list, code, &e.f);
	e.code = code;
	e.tid = *heap_tid;
	e.key = key;
	AddEntry(index, cache, list, &e, sqrtf(residual2));
	if (posted)
		RabitqPostingInsert(index, cache, RabitqKeyHash(&cache->keys, key), heap_tid);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}
