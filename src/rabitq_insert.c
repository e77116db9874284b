/*
 * rabitq_insert.c
 *	  aminsert (DESIGN.md 5): quantize the new row against the cached rotation
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

#include "core/rq_distance.h"
#include "rabitq.h"

/* What one lane holds. */
typedef struct LaneEntry
{
	const uint64_t *code;
	rq_factors	f;
	ItemPointerData tid;
	const uint8 *key;			/* key image (key_bytes), or NULL without key columns */
} LaneEntry;

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
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);

	for (OffsetNumber o = FirstOffsetNumber; o <= maxoff; o = OffsetNumberNext(o))
	{
		char	   *item = PageGetItem(page, PageGetItemId(page, o));
		uint8	   *used;

		if (!(((RabitqBlockHead *) item)->flags & RABITQ_BLOCK_TAIL))
			continue;
		used = RabitqTailUsed(g, item);
		for (int l = 0; l < RQ_BLOCK_LANES; l++)
			if (!used[l])
			{
				*off = o;
				*lane = l;
				return true;
			}
	}
	return false;
}

/* Writes the code words an item holds into its lane. */
static void
WriteLaneCodes(char *item, int lane, const uint64_t *code)
{
	RabitqBlockHead *head = (RabitqBlockHead *) item;
	uint64_t   *codes = RabitqItemCodes(item);

	for (int w = head->word_begin; w < head->word_end; w++)
		codes[(Size) (w - head->word_begin) * RQ_BLOCK_LANES + lane] = code[w];
}

/* Fills lane of a tail item: its codes, factors, TID, key, and marks it used. */
static void
WriteLaneTail(const RabitqGeometry *g, char *item, int lane, const LaneEntry *e)
{
	WriteLaneCodes(item, lane, e->code);
	RabitqTailPutFactors(g, item, lane, &e->f);
	RabitqTailTids(g, item)[lane] = e->tid;
	if (g->key_bytes > 0)
		memcpy(RabitqTailKey(g, item, lane), e->key, g->key_bytes);
	RabitqTailUsed(g, item)[lane] = 1;
}

/*
 * Writes the entry into a free lane of a one-item block on the locked page
 * buf; false if the page has none.
 */
static bool
FillOnPage(Relation index, const RabitqGeometry *g, Buffer buf, const LaneEntry *e)
{
	GenericXLogState *state;
	Page		page;
	OffsetNumber off;
	int			lane;

	if (!FindFreeLane(g, BufferGetPage(buf), &off, &lane))
		return false;
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	WriteLaneTail(g, PageGetItem(page, PageGetItemId(page, off)), lane, e);
	GenericXLogFinish(state);
	return true;
}

/*
 * Writes the entry into lane slot->lane of a multi-item block whose tail is
 * at slot: locks the record's pages in chain order (segments come before the
 * tail) and checks the lane is still free.  False if it was taken meanwhile.
 */
static bool
FillSegmented(Relation index, const RabitqGeometry *g, const LaneSlot *slot, const LaneEntry *e)
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
			char	   *item = PageGetItem(page, PageGetItemId(page, off));

			if (s < g->nseg - 1)
				WriteLaneCodes(item, slot->lane, e->code);
			else
				WriteLaneTail(g, item, slot->lane, e);
		}
		GenericXLogFinish(state);
	}
	for (int s = 0; s < g->nseg; s++)
		UnlockReleaseBuffer(bufs[s]);
	return free_still;
}

/* A new block record item image for segment s, lane 0 holding the entry if tail. */
static char *
NewBlockItem(const RabitqGeometry *g, int s, const LaneEntry *e, const ItemPointerData *segs)
{
	bool		tail = (s == g->nseg - 1);
	char	   *item = palloc0(tail ? g->tail_size : g->seg_size);
	RabitqBlockHead *head = (RabitqBlockHead *) item;

	head->flags = tail ? RABITQ_BLOCK_TAIL : 0;
	head->word_begin = (uint16) (s * g->seg_words);
	head->word_end = (uint16) (tail ? g->words : (s + 1) * g->seg_words);
	head->nseg = (uint16) g->nseg;
	if (tail)
	{
		memcpy(RabitqTailSegs(g, item), segs, sizeof(ItemPointerData) * (g->nseg - 1));
		WriteLaneTail(g, item, 0, e);
	}
	else
		WriteLaneCodes(item, 0, e->code);
	return item;
}

/*
 * Adds a block record holding the entry after the locked last page `last`
 * of a list: on that page if a one-item record fits, else on new pages
 * chained after it.  Returns the page where the record's tail went.
 */
static BlockNumber
AppendBlock(Relation index, const RabitqGeometry *g, Buffer last, const LaneEntry *e)
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
		Size		size = (s == g->nseg - 1) ? g->tail_size : g->seg_size;

		if (PageAddItem(newpage[s], (Item) item, size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
			elog(ERROR, "rabitq could not add a block record to a new page");
	}
	GenericXLogFinish(state);
	tail_page = BufferGetBlockNumber(newbuf[g->nseg - 1]);
	for (int s = 0; s < nnew; s++)
		UnlockReleaseBuffer(newbuf[s]);
	return tail_page;
}

/*
 * Gives an empty list its first page (under the directory page's lock, so
 * only one backend does); returns the list's entry afterwards.
 */
static RabitqListEntry
CreateFirstPage(Relation index, const RabitqCache *cache, int list)
{
	Buffer		dirbuf = ReadBuffer(index, cache->dir_page[list]);
	RabitqListEntry *entry;
	RabitqListEntry result;

	LockBuffer(dirbuf, BUFFER_LOCK_EXCLUSIVE);
	entry = &((RabitqListEntry *) PageGetContents(BufferGetPage(dirbuf)))[cache->dir_slot[list]];
	if (!BlockNumberIsValid(entry->first_page))
	{
		Buffer		buf = RabitqNewBuffer(index, MAIN_FORKNUM);
		GenericXLogState *state = GenericXLogStart(index);
		Page		dirpage = GenericXLogRegisterBuffer(state, dirbuf, 0);
		Page		page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
		RabitqListEntry *e = &((RabitqListEntry *) PageGetContents(dirpage))[cache->dir_slot[list]];

		RabitqInitPage(page, RABITQ_PAGE_LIST);
		e->first_page = e->insert_page = BufferGetBlockNumber(buf);
		GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);
	}
	result = ((RabitqListEntry *) PageGetContents(BufferGetPage(dirbuf)))[cache->dir_slot[list]];
	UnlockReleaseBuffer(dirbuf);
	return result;
}

/* One-item records: walk from the hint, fill the first free lane or extend. */
static void
AddSingle(Relation index, const RabitqCache *cache, int list, BlockNumber start, const LaneEntry *e)
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
AddSegmented(Relation index, const RabitqCache *cache, int list, BlockNumber start, const LaneEntry *e)
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
AddEntry(Relation index, const RabitqCache *cache, int list, const LaneEntry *e, float residual_norm)
{
	RabitqListEntry entry = RabitqReadListEntry(index, cache, list);

	if (residual_norm > entry.max_residual)
		RabitqRaiseMaxResidual(index, cache, list, residual_norm);

	if (!BlockNumberIsValid(entry.first_page))
		entry = CreateFirstPage(index, cache, list);
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
	float	   *prep,
			   *rotated,
			   *residual;
	uint64_t   *code;
	uint8	   *key = NULL;
	bool		posted = false;
	LaneEntry	e;
	int			list;
	int			vattno;

	(void) heap;
	(void) checkUnique;
	(void) indexUnchanged;
	(void) indexInfo;
	ctx = AllocSetContextCreate(CurrentMemoryContext, "rabitq insert", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(ctx);
	cache = RabitqGetCache(index);
	vattno = cache->keys.vector_attno;
	/* rows with a NULL vector are not indexed (as in pgvector) */
	if (isnull[vattno])
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(ctx);
		return false;
	}
	prep = palloc(sizeof(float) * cache->dim);
	rotated = palloc(sizeof(float) * cache->dp);
	residual = palloc(sizeof(float) * cache->dp);
	code = palloc(sizeof(uint64_t) * cache->geom.words);

	/* every check that can fail on the value comes before any page changes */
	RabitqPrepareVector(cache, values[vattno], prep, rotated);
	if (cache->keys.nkeys > 0)
	{
		key = palloc(cache->keys.key_bytes);
		posted = RabitqKeyImage(&cache->keys, values, isnull, key);
	}
	list = RabitqNearestList(cache, rotated);
	for (int i = 0; i < cache->dp; i++)
		residual[i] = rotated[i] - cache->centroids[(Size) list * cache->dp + i];
	rq_quantize(residual, cache->centroids + (Size) list * cache->dp, cache->dp, cache->metric,
				code, &e.f);
	RabitqCheckFactors(&e.f);
	e.code = code;
	e.tid = *heap_tid;
	e.key = key;
	AddEntry(index, cache, list, &e, sqrtf(rq_dist.dot(residual, residual, cache->dp)));
	if (posted)
		RabitqPostingInsert(index, cache, RabitqKeyHash(&cache->keys, key), heap_tid);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}
