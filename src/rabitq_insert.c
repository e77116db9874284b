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
 * page is locked while the list is extended (by an empty block record,
 * filled like any free lane), so two inserters cannot both extend it.  With
 * ex-codes, the entry's B-bit code goes into the ex item its lane names, in
 * the same GenericXLog record as the 1-bit lane (rabitq_excodes.c
 * allocates a missing item first, in a record of its own).  With key
 * columns, the posting holds the row's B-bit code taken from the origin.
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

/* One insert: the entry, where it goes, and the ex-code chain's last page as last seen. */
typedef struct InsertState
{
	Relation	index;
	const RabitqCache *cache;
	int			list;
	const RabitqLane *e;
	BlockNumber ex_hint;		/* moves forward as ex items are allocated */
} InsertState;

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
 * With ex-codes, the exclusively locked page of the ex item that lane of
 * tail uses, allocating the item (a record of its own) when the lane has
 * none yet; *tid receives it.  InvalidBuffer without ex-codes.  The
 * caller holds the record's list pages locked.
 */
static Buffer
LockExItem(InsertState *is, const char *tail, int lane, ItemPointer tid)
{
	const RabitqGeometry *g = &is->cache->geom;
	Buffer		buf;

	if (g->ex_bits == 0)
		return InvalidBuffer;
	*tid = *RabitqTailExItem(g, (char *) tail, lane);
	if (!ItemPointerIsValid(tid))
		return RabitqExAllocate(is->index, g, &is->ex_hint, tid);
	buf = ReadBuffer(is->index, ItemPointerGetBlockNumber(tid));
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	return buf;
}

/* In a GenericXLog record: the entry's ex-code lane into its item, which the tail then names. */
static void
PutExLane(InsertState *is, GenericXLogState *state, Buffer exbuf, ItemPointer extid, char *tail,
		  int lane)
{
	const RabitqGeometry *g = &is->cache->geom;

	if (!BufferIsValid(exbuf))
		return;
	*RabitqTailExItem(g, tail, lane) = *extid;
	RabitqPutExLane(g, RabitqExLaneIn(g, GenericXLogRegisterBuffer(state, exbuf, 0), extid, lane), is->e);
}

/*
 * Writes the entry into a free lane of a one-item block on the locked page
 * buf, and its ex-code, in one record; false if the page has no free lane.
 */
static bool
FillOnPage(InsertState *is, Buffer buf)
{
	const RabitqGeometry *g = &is->cache->geom;
	GenericXLogState *state;
	Page		page;
	OffsetNumber off;
	int			lane;
	Buffer		exbuf;
	ItemPointerData extid;
	char	   *tail;

	if (!FindFreeLane(g, BufferGetPage(buf), &off, &lane))
		return false;
	exbuf = LockExItem(is, PageGetItem(BufferGetPage(buf), PageGetItemId(BufferGetPage(buf), off)),
					   lane, &extid);
	state = GenericXLogStart(is->index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	tail = PageGetItem(page, PageGetItemId(page, off));
	RabitqPutLane(g, tail, lane, is->e);
	PutExLane(is, state, exbuf, &extid, tail, lane);
	GenericXLogFinish(state);
	if (BufferIsValid(exbuf))
		UnlockReleaseBuffer(exbuf);
	return true;
}

/*
 * Writes the entry into lane slot->lane of a multi-item block whose tail is
 * at slot: locks the record's pages in chain order (segments come before the
 * tail) and checks the lane is still free.  False if it was taken meanwhile.
 */
static bool
FillSegmented(InsertState *is, const LaneSlot *slot)
{
	const RabitqGeometry *g = &is->cache->geom;
	Buffer		tailbuf = ReadBuffer(is->index, slot->blkno);
	ItemPointerData segs[RABITQ_MAX_SEGMENTS - 1];
	Buffer		bufs[RABITQ_MAX_SEGMENTS];
	char	   *tail;
	bool		free_still;

	LockBuffer(tailbuf, BUFFER_LOCK_SHARE);
	memcpy(segs, RabitqTailSegs(g, PageGetItem(BufferGetPage(tailbuf),
											   PageGetItemId(BufferGetPage(tailbuf), slot->off))),
		   sizeof(segs));
	LockBuffer(tailbuf, BUFFER_LOCK_UNLOCK);

	for (int s = 0; s < g->nseg - 1; s++)
	{
		bufs[s] = ReadBuffer(is->index, ItemPointerGetBlockNumber(&segs[s]));
		LockBuffer(bufs[s], BUFFER_LOCK_EXCLUSIVE);
	}
	bufs[g->nseg - 1] = tailbuf;
	LockBuffer(tailbuf, BUFFER_LOCK_EXCLUSIVE);

	tail = PageGetItem(BufferGetPage(tailbuf), PageGetItemId(BufferGetPage(tailbuf), slot->off));
	free_still = !RabitqTailUsed(g, tail)[slot->lane];
	if (free_still)
	{
		ItemPointerData extid;
		Buffer		exbuf = LockExItem(is, tail, slot->lane, &extid);
		GenericXLogState *state = GenericXLogStart(is->index);

		/* at most RABITQ_MAX_SEGMENTS list pages and one ex page: within a record's four */
		for (int s = 0; s < g->nseg; s++)
		{
			Page		page = GenericXLogRegisterBuffer(state, bufs[s], 0);
			OffsetNumber off = (s < g->nseg - 1) ? ItemPointerGetOffsetNumber(&segs[s]) : slot->off;
			char	   *item = PageGetItem(page, PageGetItemId(page, off));

			RabitqPutLane(g, item, slot->lane, is->e);
			if (s == g->nseg - 1)
				PutExLane(is, state, exbuf, &extid, item, slot->lane);
		}
		GenericXLogFinish(state);
		if (BufferIsValid(exbuf))
			UnlockReleaseBuffer(exbuf);
	}
	for (int s = 0; s < g->nseg; s++)
		UnlockReleaseBuffer(bufs[s]);
	return free_still;
}

/* A new, empty block record's item s. */
static char *
NewBlockItem(const RabitqGeometry *g, int s, const ItemPointerData *segs)
{
	char	   *item = palloc(RabitqItemSize(g, s));

	RabitqInitItem(g, item, s, segs);
	return item;
}

/*
 * Adds an empty block record after the locked last page `last` of a list
 * (one record): on that page if a one-item record fits, else on new pages
 * chained after it.  Returns the page where the record's tail went; the
 * caller fills its lanes like any free lane.
 */
static BlockNumber
AppendBlock(Relation index, const RabitqGeometry *g, Buffer last)
{
	GenericXLogState *state = GenericXLogStart(index);
	Page		lastpage = GenericXLogRegisterBuffer(state, last, 0);
	Buffer		newbuf[RABITQ_MAX_SEGMENTS] = {InvalidBuffer};
	Page		newpage[RABITQ_MAX_SEGMENTS];
	ItemPointerData segs[RABITQ_MAX_SEGMENTS - 1];
	BlockNumber tail_page;

	if (g->nseg == 1 && PageGetFreeSpace(lastpage) >= g->tail_size)
	{
		if (PageAddItem(lastpage, (Item) NewBlockItem(g, 0, segs), g->tail_size, InvalidOffsetNumber,
						false, false) == InvalidOffsetNumber)
			elog(ERROR, "rabitq could not add a block record");
		GenericXLogFinish(state);
		return BufferGetBlockNumber(last);
	}

	/* one new page per item of the record, chained after the last page */
	for (int s = 0; s < g->nseg; s++)
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
		if (PageAddItem(newpage[s], (Item) NewBlockItem(g, s, segs), RabitqItemSize(g, s),
						InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
			elog(ERROR, "rabitq could not add a block record to a new page");
	}
	GenericXLogFinish(state);
	tail_page = BufferGetBlockNumber(newbuf[g->nseg - 1]);
	for (int s = 0; s < g->nseg; s++)
		UnlockReleaseBuffer(newbuf[s]);
	return tail_page;
}

/*
 * One-item records: walk from the hint and fill the first free lane; at the
 * last page, add an empty block and fill it.  Returns the page filled.
 */
static BlockNumber
AddSingle(InsertState *is, BlockNumber start)
{
	BlockNumber blkno = start;

	for (;;)
	{
		Buffer		buf = ReadBuffer(is->index, blkno);
		BlockNumber next;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		if (FillOnPage(is, buf))
		{
			UnlockReleaseBuffer(buf);
			return blkno;
		}
		next = RabitqPageGetOpaque(BufferGetPage(buf))->next;
		if (!BlockNumberIsValid(next))
			next = AppendBlock(is->index, &is->cache->geom, buf);
		UnlockReleaseBuffer(buf);
		blkno = next;
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Multi-item records: find a free lane with shared locks, then take the
 * record's pages in chain order; at the last page add an empty block under
 * its lock.  Returns the page of the filled record's tail.
 */
static BlockNumber
AddSegmented(InsertState *is, BlockNumber start)
{
	BlockNumber blkno = start;

	for (;;)
	{
		Buffer		buf = ReadBuffer(is->index, blkno);
		LaneSlot	slot = {0};
		BlockNumber next;
		bool		found;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		found = FindFreeLane(&is->cache->geom, BufferGetPage(buf), &slot.off, &slot.lane);
		next = RabitqPageGetOpaque(BufferGetPage(buf))->next;
		UnlockReleaseBuffer(buf);
		slot.blkno = blkno;
		if (found && FillSegmented(is, &slot))
			return blkno;
		if (found)
			continue;			/* taken meanwhile: look at this page again */
		CHECK_FOR_INTERRUPTS();
		if (BlockNumberIsValid(next))
		{
			blkno = next;
			continue;
		}
		/* the last page: lock it and extend unless someone else just did */
		buf = ReadBuffer(is->index, blkno);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		if (!BlockNumberIsValid(RabitqPageGetOpaque(BufferGetPage(buf))->next))
			blkno = AppendBlock(is->index, &is->cache->geom, buf);
		UnlockReleaseBuffer(buf);
	}
}

/*
 * Stores one quantized entry in list; residual_norm (|o - c|) raises the
 * list's recorded maximum when larger.  The directory's hints move after
 * the list pages are unlocked (rabitq.h's lock order).
 */
static void
AddEntry(Relation index, const RabitqCache *cache, int list, const RabitqLane *e, float residual_norm)
{
	RabitqListEntry entry = RabitqReadListEntry(index, cache, list);
	InsertState is;
	BlockNumber filled;

	if (residual_norm > entry.max_residual)
		RabitqRaiseMaxResidual(index, cache, list, residual_norm);

	if (!BlockNumberIsValid(entry.first_page))
		entry = RabitqCreateFirstPage(index, cache, list);
	is.index = index;
	is.cache = cache;
	is.list = list;
	is.e = e;
	is.ex_hint = entry.ex_last;
	if (cache->geom.nseg == 1)
		filled = AddSingle(&is, entry.insert_page);
	else
		filled = AddSegmented(&is, entry.insert_page);
	if (filled != entry.insert_page)
		RabitqSetInsertHint(index, cache, list, filled);
	if (is.ex_hint != entry.ex_last)
		RabitqSetExHint(index, cache, list, is.ex_hint);
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
	uint8	   *key = NULL;
	char	   *posting_ex = NULL;
	bool		posted = false;
	RabitqEntry entry;
	RabitqLane	e;
	int			list;

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
	entry.code = palloc(sizeof(uint64_t) * cache->geom.words);
	entry.ex_code = palloc(Max(cache->geom.ex_code_bytes, 1));

	/* every check that can fail on the value comes before any page changes */
	if (!RabitqEncodeVector(codec, values[cache->keys.vector_attno], codec->prep, rotated))
	{
		/* a zero vector under cosine is stored in the table only (as in pgvector) */
		MemoryContextSwitchTo(old);
		MemoryContextDelete(ctx);
		return false;
	}
	if (cache->keys.nkeys > 0)
	{
		key = palloc(cache->keys.key_bytes);
		posted = RabitqKeyImage(&cache->keys, values, isnull, key);
	}
	if (posted && cache->geom.ex_bits > 0)
	{
		RabitqEncodeOrigin(codec, rotated, &entry);
		e.f = entry.f;
		e.ex_code = entry.ex_code;
		e.ex_f = entry.ex_f;
		posting_ex = palloc(cache->geom.ex_lane_size);
		RabitqPutExLane(&cache->geom, posting_ex, &e);
	}
	list = rq_nearest_list(rotated, codec->centroids, codec->centroid_norm2, codec->lists, codec->dp);
	RabitqEncodeEntry(codec, rotated, list, &entry);
	e.code = entry.code;
	e.f = entry.f;
	e.ex_code = entry.ex_code;
	e.ex_f = entry.ex_f;
	e.tid = *heap_tid;
	e.key = key;
	AddEntry(index, cache, list, &e, sqrtf(entry.residual2));
	if (posted)
		RabitqPostingInsert(index, cache, RabitqKeyHash(&cache->keys, key), heap_tid, posting_ex);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}
