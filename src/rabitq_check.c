/*
 * rabitq_check.c
 *	  rabitq_index_check(regclass): verifies an index against its table.
 *
 * Under a ShareLock on the table (writes and VACUUM wait, reads go on, as
 * during CREATE INDEX) it walks every chain of the index and checks:
 *	 - the metapage (through the cache: magic, format version) and that the
 *	   directory, centroid, list and posting chains have the right page kind,
 *	   stay inside the index and never reach a page twice (no cycles, no
 *	   page in two chains), and that no initialized page is outside them;
 *	 - every block record: code words covered once by its segments, lane
 *	   flags 0 or 1, finite factors;
 *	 - every entry: its heap TID names an existing line pointer, and when
 *	   the row is still there its code, factors and keys are exactly what
 *	   quantizing the row's vector against the entry's list gives;
 *	 - no heap row is indexed twice, and every row visible to the check's
 *	   snapshot with a non-NULL vector is indexed.
 * The first problem found is raised as an error that names it.
 */
#include "postgres.h"

#include <math.h>

#include "access/heapam.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "rabitq.h"

PG_FUNCTION_INFO_V1(rabitq_index_check);

typedef struct CheckState
{
	Relation	heap;
	Relation	index;
	RabitqCache *cache;
	BlockNumber nblocks;
	bool	   *seen;			/* per index block: reached by a chain */
	ItemPointerData *tids;		/* every entry's heap TID */
	int64		ntids;
	int64		cap;
	uint64_t   *record;			/* the current block record's codes, word-major */
	int			record_words;	/* words of it seen so far */
	/* heap access and scratch for re-quantizing a row */
	Snapshot	snapshot;
	IndexFetchTableData *fetch;
	TupleTableSlot *slot;
	EState	   *estate;
	IndexInfo  *indexInfo;
	MemoryContext rowctx;
	float	   *rotated;
	uint64_t   *code;			/* the row's code, re-quantized */
	uint64_t   *stored;			/* a lane's stored code */
	uint8	   *key;
	int64		visible;		/* heap rows with a vector the snapshot sees */
} CheckState;

static void
Corrupt(CheckState *cs, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("rabitq index \"%s\" is corrupt", RelationGetRelationName(cs->index)),
			 errdetail_internal("%s", detail),
			 errhint("REINDEX the index.")));
}

/* Marks blkno reached by a chain; the page must be inside the index and new to the walk. */
static void
Reach(CheckState *cs, BlockNumber blkno, const char *chain)
{
	if (blkno >= cs->nblocks)
		Corrupt(cs, psprintf("The chain of %s links to page %u, beyond the index's %u pages.", chain, blkno, cs->nblocks));
	if (cs->seen[blkno])
		Corrupt(cs, psprintf("The chain of %s reaches page %u, which a chain already reached.", chain, blkno));
	cs->seen[blkno] = true;
}

static void
CheckPageKind(CheckState *cs, Page page, BlockNumber blkno, uint16 kind, const char *chain)
{
	if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(RabitqPageOpaqueData)) ||
		RabitqPageGetOpaque(page)->page_id != RABITQ_PAGE_ID || RabitqPageGetOpaque(page)->kind != kind)
		Corrupt(cs, psprintf("Page %u of %s is not a page of that kind.", blkno, chain));
}

/* Walks a chain of pages that hold no entries (directory, centroids, a posting bucket). */
static void
WalkPlainChain(CheckState *cs, BlockNumber start, uint16 kind, const char *chain)
{
	for (BlockNumber blkno = start; BlockNumberIsValid(blkno);)
	{
		Buffer		buf;
		Page		page;

		Reach(cs, blkno, chain);
		buf = ReadBuffer(cs->index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		CheckPageKind(cs, page, blkno, kind, chain);
		blkno = RabitqPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * The row behind an entry: its line pointer must exist; when the row is
 * still there (not yet pruned), quantizing its vector against the entry's
 * list must give exactly the stored code, factors and keys.
 */
static void
CheckRow(CheckState *cs, int list, ItemPointer tid, const uint64_t *code, const rq_factors *f,
		 const uint8 *key)
{
	const RabitqCache *c = cs->cache;
	BlockNumber hblk = ItemPointerGetBlockNumber(tid);
	OffsetNumber hoff = ItemPointerGetOffsetNumber(tid);
	Buffer		hbuf;
	bool		exists,
				call_again = false,
				all_dead = false;
	MemoryContext old;

	if (hblk >= RelationGetNumberOfBlocks(cs->heap))
		Corrupt(cs, psprintf("An entry of list %d points at heap page %u, beyond the table.", list, hblk));
	hbuf = ReadBuffer(cs->heap, hblk);
	LockBuffer(hbuf, BUFFER_LOCK_SHARE);
	exists = hoff >= FirstOffsetNumber && hoff <= PageGetMaxOffsetNumber(BufferGetPage(hbuf)) &&
		ItemIdIsUsed(PageGetItemId(BufferGetPage(hbuf), hoff));
	UnlockReleaseBuffer(hbuf);
	if (!exists)
		Corrupt(cs, psprintf("An entry of list %d points at heap row (%u,%u), which does not exist.",
							 list, hblk, hoff));

	old = MemoryContextSwitchTo(cs->rowctx);
	if (table_index_fetch_tuple(cs->fetch, tid, SnapshotAny, cs->slot, &call_again, &all_dead))
	{
		Datum		values[INDEX_MAX_KEYS];
		bool		isnull[INDEX_MAX_KEYS];
		int			vattno = c->keys.vector_attno;
		rq_factors	want;

		GetPerTupleExprContext(cs->estate)->ecxt_scantuple = cs->slot;
		FormIndexDatum(cs->indexInfo, cs->slot, cs->estate, values, isnull);
		if (isnull[vattno])
			Corrupt(cs, psprintf("Heap row (%u,%u) has a NULL vector but is indexed.", hblk, hoff));
		/* the very encoder that wrote the entry */
		RabitqEncodeVector(&c->codec, values[vattno], c->codec.prep, cs->rotated);
		(void) RabitqEncodeEntry(&c->codec, cs->rotated, list, cs->code, &want);
		if (memcmp(cs->code, code, sizeof(uint64_t) * c->geom.words) != 0 ||
			want.add != f->add || want.a != f->a || want.bc != f->bc || want.err != f->err)
			Corrupt(cs, psprintf("The code of heap row (%u,%u) in list %d does not match its vector.",
								 hblk, hoff, list));
		if (c->keys.nkeys > 0)
		{
			RabitqKeyImage(&c->keys, values, isnull, cs->key);
			if (memcmp(cs->key, key, c->keys.key_bytes) != 0)
				Corrupt(cs, psprintf("The keys stored for heap row (%u,%u) differ from the row's.", hblk, hoff));
		}
		ExecClearTuple(cs->slot);
	}
	ResetExprContext(GetPerTupleExprContext(cs->estate));
	MemoryContextSwitchTo(old);
	MemoryContextReset(cs->rowctx);
}

/* The lanes of a complete block record (its tail item, codes gathered in cs->record). */
static void
CheckRecord(CheckState *cs, int list, BlockNumber blkno, const char *tail)
{
	const RabitqGeometry *g = &cs->cache->geom;
	const uint8 *used = RabitqTailUsed(g, tail);
	const ItemPointerData *tids = RabitqTailTids(g, tail);
	uint64_t   *code = cs->stored;
	int			l;

	if (cs->record_words != g->words)
		Corrupt(cs, psprintf("A block record ending on page %u of list %d has %d of its %d code words.",
							 blkno, list, cs->record_words, g->words));
	for (l = 0; l < RQ_BLOCK_LANES; l++)
		if (used[l] > 1)
			Corrupt(cs, psprintf("A lane flag on page %u of list %d is %d.", blkno, list, used[l]));
	RabitqForEachLane(l, RabitqUsedLanes(g, tail))
	{
		rq_factors	f = RabitqTailGetFactors(g, tail, l);

		if (!isfinite(f.add) || !isfinite(f.a) || !isfinite(f.bc) || !isfinite(f.err))
			Corrupt(cs, psprintf("An entry on page %u of list %d has a non-finite factor.", blkno, list));
		rq_block_get_code(cs->record, 0, g->words, l, code);
		if (cs->ntids == cs->cap)
		{
			cs->cap *= 2;
			cs->tids = repalloc_huge(cs->tids, sizeof(ItemPointerData) * cs->cap);
		}
		cs->tids[cs->ntids++] = tids[l];
		CheckRow(cs, list, (ItemPointer) &tids[l], code, &f,
				 g->key_bytes > 0 ? RabitqTailKey(g, tail, l) : NULL);
	}
	cs->record_words = 0;
}

/* One list page, copied out so that heap rows are read without an index lock held. */
static void
CheckListPage(CheckState *cs, int list, BlockNumber blkno, Page page)
{
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);

	for (OffsetNumber o = FirstOffsetNumber; o <= maxoff; o = OffsetNumberNext(o))
	{
		char	   *item = PageGetItem(page, PageGetItemId(page, o));
		RabitqBlockHead *head = (RabitqBlockHead *) item;
		const uint64_t *codes = RabitqItemCodes(item);

		if (head->word_begin != cs->record_words || head->word_end <= head->word_begin ||
			head->word_end > cs->cache->geom.words)
			Corrupt(cs, psprintf("Item %u on page %u of list %d covers code words %d to %d, not from %d.",
								 o, blkno, list, head->word_begin, head->word_end, cs->record_words));
		/* an item's code area is words [begin, end) of the record's */
		memcpy(cs->record + (Size) head->word_begin * RQ_BLOCK_LANES, codes,
			   sizeof(uint64_t) * RQ_BLOCK_LANES * (head->word_end - head->word_begin));
		cs->record_words = head->word_end;
		if (RabitqItemIsTail(item))
			CheckRecord(cs, list, blkno, item);
	}
}

static void
WalkList(CheckState *cs, int list)
{
	RabitqListEntry entry = RabitqReadListEntry(cs->index, cs->cache, list);
	char	   *chain = psprintf("List %d.", list);
	PGAlignedBlock copy;

	cs->record_words = 0;
	for (BlockNumber blkno = entry.first_page; BlockNumberIsValid(blkno);)
	{
		Buffer		buf;

		Reach(cs, blkno, chain);
		buf = ReadBuffer(cs->index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		memcpy(copy.data, BufferGetPage(buf), BLCKSZ);
		UnlockReleaseBuffer(buf);
		CheckPageKind(cs, (Page) copy.data, blkno, RABITQ_PAGE_LIST, chain);
		CheckListPage(cs, list, blkno, (Page) copy.data);
		blkno = RabitqPageGetOpaque((Page) copy.data)->next;
		CHECK_FOR_INTERRUPTS();
	}
	if (cs->record_words != 0)
		Corrupt(cs, psprintf("List %d ends inside a block record.", list));
}

static int
CompareTids(const void *a, const void *b)
{
	return ItemPointerCompare((ItemPointer) a, (ItemPointer) b);
}

/* table_index_build_scan callback: a row the snapshot sees must be indexed. */
static void
HeapRowPresent(Relation index, ItemPointer tid, Datum *values, bool *isnull, bool alive, void *arg)
{
	CheckState *cs = arg;

	(void) index;
	(void) values;
	if (!alive || isnull[cs->cache->keys.vector_attno])
		return;
	cs->visible++;
	if (!bsearch(tid, cs->tids, cs->ntids, sizeof(ItemPointerData), CompareTids))
		Corrupt(cs, psprintf("Heap row (%u,%u) is not in the index.",
							 ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid)));
}

static void
CheckHeapRows(CheckState *cs)
{
	TableScanDesc scan;

	qsort(cs->tids, cs->ntids, sizeof(ItemPointerData), CompareTids);
	for (int64 i = 1; i < cs->ntids; i++)
		if (ItemPointerEquals(&cs->tids[i - 1], &cs->tids[i]))
			Corrupt(cs, psprintf("Heap row (%u,%u) is indexed twice.",
								 ItemPointerGetBlockNumber(&cs->tids[i]), ItemPointerGetOffsetNumber(&cs->tids[i])));
	/* an MVCC scan, as the first pass of CREATE INDEX CONCURRENTLY makes */
	cs->indexInfo->ii_Concurrent = true;
	scan = table_beginscan_strat(cs->heap, cs->snapshot, 0, NULL, true, false);
	table_index_build_scan(cs->heap, cs->index, cs->indexInfo, false, false, HeapRowPresent, cs, scan);
}

static void
CheckState_Init(CheckState *cs)
{
	const RabitqCache *c = cs->cache;

	cs->nblocks = RelationGetNumberOfBlocks(cs->index);
	cs->seen = palloc0(sizeof(bool) * cs->nblocks);
	cs->cap = 1024;
	cs->tids = palloc(sizeof(ItemPointerData) * cs->cap);
	cs->record = palloc(sizeof(uint64_t) * RQ_BLOCK_LANES * c->geom.words);
	cs->snapshot = RegisterSnapshot(GetTransactionSnapshot());
	cs->fetch = table_index_fetch_begin(cs->heap);
	cs->slot = table_slot_create(cs->heap, NULL);
	cs->estate = CreateExecutorState();
	cs->indexInfo = BuildIndexInfo(cs->index);
	cs->rowctx = AllocSetContextCreate(CurrentMemoryContext, "rabitq check row", ALLOCSET_DEFAULT_SIZES);
	cs->rotated = palloc(sizeof(float) * c->codec.dp);
	cs->code = palloc(sizeof(uint64_t) * c->geom.words);
	cs->stored = palloc(sizeof(uint64_t) * c->geom.words);
	cs->key = c->keys.key_bytes > 0 ? palloc(c->keys.key_bytes) : NULL;
}

Datum
rabitq_index_check(PG_FUNCTION_ARGS)
{
	CheckState	cs = {0};
	RabitqMetaPageData meta;

	RabitqOpenForInspection(PG_GETARG_OID(0), ShareLock, "rabitq_index_check", &cs.heap, &cs.index);
	cs.cache = RabitqGetCache(cs.index);	/* checks magic and format version */
	meta = RabitqReadMeta(cs.index);
	CheckState_Init(&cs);
	Reach(&cs, RABITQ_METAPAGE_BLKNO, "the metapage");
	WalkPlainChain(&cs, meta.directory_start, RABITQ_PAGE_DIRECTORY, "the list directory");
	WalkPlainChain(&cs, meta.centroid_start, RABITQ_PAGE_CENTROIDS, "the centroids");
	for (uint32 b = 0; b < meta.posting_buckets; b++)
		WalkPlainChain(&cs, meta.posting_start + b, RABITQ_PAGE_POSTING, "a posting bucket");
	for (int l = 0; l < cs.cache->codec.lists; l++)
		WalkList(&cs, l);
	for (BlockNumber b = 0; b < cs.nblocks; b++)
	{
		Buffer		buf;
		bool		lost;

		if (cs.seen[b])
			continue;
		buf = ReadBuffer(cs.index, b);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		lost = !PageIsNew(BufferGetPage(buf));
		UnlockReleaseBuffer(buf);
		if (lost)
			Corrupt(&cs, psprintf("Page %u belongs to no chain.", b));
		CHECK_FOR_INTERRUPTS();
	}
	CheckHeapRows(&cs);

	table_index_fetch_end(cs.fetch);
	ExecDropSingleTupleTableSlot(cs.slot);
	FreeExecutorState(cs.estate);
	UnregisterSnapshot(cs.snapshot);
	index_close(cs.index, ShareLock);
	table_close(cs.heap, ShareLock);
	PG_RETURN_INT64(cs.ntids);
}
