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
 *	 - with ex-codes, every list's ex-code chain, and that each lane names
 *	   an ex item of its own list's chain that no other lane or block names;
 *	 - every entry: its heap TID names an existing line pointer, and when
 *	   the row is still there its code, factors, ex-code and keys are
 *	   exactly what quantizing the row's vector against the entry's list
 *	   gives;
 *	 - every posting: when its row is still there, the row's keys hash to
 *	   the posting's hash and its ex-code is the row's taken from the
 *	   origin;
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
	int32	   *ex_list;		/* per index block: the list whose ex chain reached it, or -1 */
	ItemPointerData *ex_refs;	/* every ex item a tail names */
	int64		nex_refs;
	int64		ex_cap;
	char	   *ex_lane;		/* a lane's stored ex-code lane */
	/* heap access and scratch for re-quantizing a row */
	Snapshot	snapshot;
	IndexFetchTableData *fetch;
	TupleTableSlot *slot;
	EState	   *estate;
	IndexInfo  *indexInfo;
	MemoryContext rowctx;
	float	   *rotated;
	RabitqEntry entry;			/* the row's entry, re-quantized */
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

/* Whether the entry re-quantized from the row is the stored lane (ex-code too, with ex-codes). */
static bool
SameEntry(const RabitqGeometry *g, const RabitqEntry *want, const RabitqLane *stored, bool bits1)
{
	if (bits1 && (memcmp(want->code, stored->code, sizeof(uint64_t) * g->words) != 0 ||
				  want->f.a != stored->f.a || want->f.err != stored->f.err))
		return false;
	if (want->f.add != stored->f.add)
		return false;
	return g->ex_bits == 0 ||
		(memcmp(want->ex_code, stored->ex_code, g->ex_code_bytes) == 0 &&
		 want->ex_f.fr == stored->ex_f.fr && want->ex_f.err == stored->ex_f.err);
}

/*
 * The heap row tid must have a line pointer (what names it: `what`); when
 * the row is still there (not yet pruned), fetches it into cs->slot and
 * forms its index values, returning true.
 */
static bool
FetchRow(CheckState *cs, ItemPointer tid, const char *what, Datum *values, bool *isnull)
{
	BlockNumber hblk = ItemPointerGetBlockNumber(tid);
	OffsetNumber hoff = ItemPointerGetOffsetNumber(tid);
	Buffer		hbuf;
	bool		exists,
				call_again = false,
				all_dead = false;

	if (hblk >= RelationGetNumberOfBlocks(cs->heap))
		Corrupt(cs, psprintf("%s points at heap page %u, beyond the table.", what, hblk));
	hbuf = ReadBuffer(cs->heap, hblk);
	LockBuffer(hbuf, BUFFER_LOCK_SHARE);
	exists = hoff >= FirstOffsetNumber && hoff <= PageGetMaxOffsetNumber(BufferGetPage(hbuf)) &&
		ItemIdIsUsed(PageGetItemId(BufferGetPage(hbuf), hoff));
	UnlockReleaseBuffer(hbuf);
	if (!exists)
		Corrupt(cs, psprintf("%s points at heap row (%u,%u), which does not exist.", what, hblk, hoff));
	if (!table_index_fetch_tuple(cs->fetch, tid, SnapshotAny, cs->slot, &call_again, &all_dead))
		return false;
	GetPerTupleExprContext(cs->estate)->ecxt_scantuple = cs->slot;
	FormIndexDatum(cs->indexInfo, cs->slot, cs->estate, values, isnull);
	return true;
}

/* Done with a row FetchRow returned. */
static void
ReleaseRow(CheckState *cs, MemoryContext old)
{
	ExecClearTuple(cs->slot);
	ResetExprContext(GetPerTupleExprContext(cs->estate));
	MemoryContextSwitchTo(old);
	MemoryContextReset(cs->rowctx);
}

/*
 * The row behind an entry: its line pointer must exist; when the row is
 * still there, quantizing its vector against the entry's list must give
 * exactly the stored code, factors, ex-code and keys.
 */
static void
CheckRow(CheckState *cs, int list, const RabitqLane *stored)
{
	const RabitqCache *c = cs->cache;
	ItemPointerData tid = stored->tid;
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	int			vattno = c->keys.vector_attno;
	MemoryContext old = MemoryContextSwitchTo(cs->rowctx);

	if (!FetchRow(cs, &tid, psprintf("An entry of list %d", list), values, isnull))
	{
		ReleaseRow(cs, old);
		return;
	}
	if (isnull[vattno])
		Corrupt(cs, psprintf("Heap row (%u,%u) has a NULL vector but is indexed.",
							 ItemPointerGetBlockNumber(&tid), ItemPointerGetOffsetNumber(&tid)));
	/* the very encoder that wrote the entry */
	if (!RabitqEncodeVector(&c->codec, values[vattno], c->codec.prep, cs->rotated))
		Corrupt(cs, psprintf("Heap row (%u,%u) has a zero vector, which cosine leaves out, but is indexed.",
							 ItemPointerGetBlockNumber(&tid), ItemPointerGetOffsetNumber(&tid)));
	RabitqEncodeEntry(&c->codec, cs->rotated, list, &cs->entry);
	if (!SameEntry(&c->geom, &cs->entry, stored, true))
		Corrupt(cs, psprintf("The code of heap row (%u,%u) in list %d does not match its vector.",
							 ItemPointerGetBlockNumber(&tid), ItemPointerGetOffsetNumber(&tid), list));
	if (c->keys.nkeys > 0)
	{
		RabitqKeyImage(&c->keys, values, isnull, cs->key);
		if (memcmp(cs->key, stored->key, c->keys.key_bytes) != 0)
			Corrupt(cs, psprintf("The keys stored for heap row (%u,%u) differ from the row's.",
								 ItemPointerGetBlockNumber(&tid), ItemPointerGetOffsetNumber(&tid)));
	}
	ReleaseRow(cs, old);
}

/* Remembers that a tail names ex item tid (each may be named once). */
static void
AddExRef(CheckState *cs, ItemPointer tid)
{
	if (cs->nex_refs == cs->ex_cap)
	{
		cs->ex_cap *= 2;
		cs->ex_refs = repalloc_huge(cs->ex_refs, sizeof(ItemPointerData) * cs->ex_cap);
	}
	cs->ex_refs[cs->nex_refs++] = *tid;
}

/*
 * The ex item that lane of a tail names must be on list's own ex chain;
 * copies the lane's ex-code lane into cs->ex_lane and points e at it.
 */
static void
ReadExLane(CheckState *cs, int list, BlockNumber blkno, char *tail, int lane, RabitqLane *e)
{
	const RabitqGeometry *g = &cs->cache->geom;
	ItemPointer tid = RabitqTailExItem(g, tail, lane);
	BlockNumber exblk = ItemPointerGetBlockNumber(tid);

	if (!ItemPointerIsValid(tid) || exblk >= cs->nblocks || cs->ex_list[exblk] != list)
		Corrupt(cs, psprintf("An entry on page %u of list %d names an ex-code item outside its list's chain.",
							 blkno, list));
	RabitqExReadLane(cs->index, g, tid, lane, cs->ex_lane);
	e->ex_code = RabitqExLaneCode(cs->ex_lane);
	RabitqExLaneFactors(g, cs->ex_lane, &e->f.add, &e->ex_f);
}

/* The lanes of a complete block record (its tail item, codes gathered in cs->record). */
static void
CheckRecord(CheckState *cs, int list, BlockNumber blkno, char *tail)
{
	const RabitqGeometry *g = &cs->cache->geom;
	const uint8 *used = RabitqTailUsed(g, tail);
	const ItemPointerData *tids = RabitqTailTids(g, tail);
	int			l;

	if (cs->record_words != g->words)
		Corrupt(cs, psprintf("A block record ending on page %u of list %d has %d of its %d code words.",
							 blkno, list, cs->record_words, g->words));
	for (l = 0; l < RQ_BLOCK_LANES; l++)
		if (used[l] > 1)
			Corrupt(cs, psprintf("A lane flag on page %u of list %d is %d.", blkno, list, used[l]));
	/* an ex item, once named, stays with its lane (or block) even when the lane is emptied */
	for (int p = 0; p < g->ex_ptrs; p++)
		if (ItemPointerIsValid(&RabitqTailEx(g, tail)[p]))
			AddExRef(cs, &RabitqTailEx(g, tail)[p]);
	RabitqForEachLane(l, RabitqUsedLanes(g, tail))
	{
		RabitqLane	e;

		e.f = RabitqTailGetFactors(g, tail, l);
		if (!isfinite(e.f.add) || !isfinite(e.f.a) || !isfinite(e.f.err))
			Corrupt(cs, psprintf("An entry on page %u of list %d has a non-finite factor.", blkno, list));
		rq_block_get_code(cs->record, 0, g->words, l, cs->stored);
		e.code = cs->stored;
		e.tid = tids[l];
		e.key = g->key_bytes > 0 ? RabitqTailKey(g, tail, l) : NULL;
		if (g->ex_bits > 0)
		{
			float		add = e.f.add;

			ReadExLane(cs, list, blkno, tail, l, &e);
			if (e.f.add != add || !isfinite(e.ex_f.fr) || !isfinite(e.ex_f.err))
				Corrupt(cs, psprintf("The ex-code of an entry on page %u of list %d has wrong factors.",
									 blkno, list));
		}
		if (cs->ntids == cs->cap)
		{
			cs->cap *= 2;
			cs->tids = repalloc_huge(cs->tids, sizeof(ItemPointerData) * cs->cap);
		}
		cs->tids[cs->ntids++] = tids[l];
		CheckRow(cs, list, &e);
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

/* List's ex-code chain: pages of the right kind, items of the geometry's size. */
static void
WalkExChain(CheckState *cs, int list, BlockNumber start)
{
	char	   *chain = psprintf("the ex-codes of list %d", list);

	for (BlockNumber blkno = start; BlockNumberIsValid(blkno);)
	{
		Buffer		buf;
		Page		page;

		Reach(cs, blkno, chain);
		cs->ex_list[blkno] = list;
		buf = ReadBuffer(cs->index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		CheckPageKind(cs, page, blkno, RABITQ_PAGE_EXCODES, chain);
		for (OffsetNumber o = FirstOffsetNumber; o <= PageGetMaxOffsetNumber(page); o++)
			if (ItemIdGetLength(PageGetItemId(page, o)) != cs->cache->geom.ex_item_size)
				Corrupt(cs, psprintf("Item %u on page %u of %s has the wrong size.", o, blkno, chain));
		blkno = RabitqPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
		CHECK_FOR_INTERRUPTS();
	}
}

static void
WalkList(CheckState *cs, int list)
{
	RabitqListEntry entry = RabitqReadListEntry(cs->index, cs->cache, list);
	char	   *chain = psprintf("List %d.", list);
	PGAlignedBlock copy;

	if (cs->cache->geom.ex_bits > 0)
	{
		if (BlockNumberIsValid(entry.first_page) != BlockNumberIsValid(entry.ex_first))
			Corrupt(cs, psprintf("List %d has %s ex-code chain.", list,
								 BlockNumberIsValid(entry.ex_first) ? "an" : "no"));
		WalkExChain(cs, list, entry.ex_first);
	}
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
	/* rows with a NULL vector, and zero vectors under cosine, are not indexed */
	if (!alive || isnull[cs->cache->keys.vector_attno] ||
		!RabitqEncodeVector(&cs->cache->codec, values[cs->cache->keys.vector_attno], cs->cache->codec.prep, NULL))
		return;
	cs->visible++;
	if (!bsearch(tid, cs->tids, cs->ntids, sizeof(ItemPointerData), CompareTids))
		Corrupt(cs, psprintf("Heap row (%u,%u) is not in the index.",
							 ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid)));
}

/* No ex item is named by two lanes or blocks. */
static void
CheckExRefs(CheckState *cs)
{
	qsort(cs->ex_refs, cs->nex_refs, sizeof(ItemPointerData), CompareTids);
	for (int64 i = 1; i < cs->nex_refs; i++)
		if (ItemPointerEquals(&cs->ex_refs[i - 1], &cs->ex_refs[i]))
			Corrupt(cs, psprintf("Ex-code item (%u,%u) is named twice.",
								 ItemPointerGetBlockNumber(&cs->ex_refs[i]),
								 ItemPointerGetOffsetNumber(&cs->ex_refs[i])));
}

/* A posting whose row is still there: the row's key hash, and its ex-code from the origin. */
static void
CheckPosting(CheckState *cs, const char *posting)
{
	const RabitqCache *c = cs->cache;
	const RabitqPosting *p = (const RabitqPosting *) posting;
	ItemPointerData tid = p->tid;
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	MemoryContext old = MemoryContextSwitchTo(cs->rowctx);

	if (FetchRow(cs, &tid, "A posting", values, isnull))
	{
		RabitqLane	stored;

		if (!RabitqKeyImage(&c->keys, values, isnull, cs->key) ||
			(uint32) RabitqKeyHash(&c->keys, cs->key) != p->hash)
			Corrupt(cs, psprintf("The posting of heap row (%u,%u) does not hash its keys.",
								 ItemPointerGetBlockNumber(&tid), ItemPointerGetOffsetNumber(&tid)));
		if (c->geom.ex_bits > 0 && !isnull[c->keys.vector_attno])
		{
			stored.ex_code = RabitqExLaneCode(posting + sizeof(RabitqPosting));
			RabitqExLaneFactors(&c->geom, posting + sizeof(RabitqPosting), &stored.f.add, &stored.ex_f);
			if (!RabitqEncodeVector(&c->codec, values[c->keys.vector_attno], c->codec.prep, cs->rotated))
				Corrupt(cs, psprintf("The posting of heap row (%u,%u) names a zero vector, which cosine leaves out.",
									 ItemPointerGetBlockNumber(&tid), ItemPointerGetOffsetNumber(&tid)));
			RabitqEncodeOrigin(&c->codec, cs->rotated, &cs->entry);
			if (!SameEntry(&c->geom, &cs->entry, &stored, false))
				Corrupt(cs, psprintf("The posting of heap row (%u,%u) holds a code that does not match its vector.",
									 ItemPointerGetBlockNumber(&tid), ItemPointerGetOffsetNumber(&tid)));
		}
	}
	ReleaseRow(cs, old);
}

/* A posting bucket's chain, and each posting on it. */
static void
WalkPostings(CheckState *cs, BlockNumber head)
{
	Size		size = RabitqPostingSize(&cs->cache->geom);
	PGAlignedBlock copy;

	for (BlockNumber blkno = head; BlockNumberIsValid(blkno);)
	{
		Buffer		buf;
		Page		page = (Page) copy.data;
		const RabitqPostingHeader *h = (const RabitqPostingHeader *) PageGetContents(page);

		Reach(cs, blkno, "a posting bucket");
		buf = ReadBuffer(cs->index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		memcpy(copy.data, BufferGetPage(buf), BLCKSZ);
		UnlockReleaseBuffer(buf);
		CheckPageKind(cs, page, blkno, RABITQ_PAGE_POSTING, "a posting bucket");
		if (h->count > RABITQ_POSTINGS_PER_PAGE(size))
			Corrupt(cs, psprintf("Posting page %u holds %u postings, more than fit.", blkno, h->count));
		for (int i = 0; i < h->count; i++)
			CheckPosting(cs, PageGetContents(page) + sizeof(RabitqPostingHeader) + (Size) i * size);
		blkno = RabitqPageGetOpaque(page)->next;
		CHECK_FOR_INTERRUPTS();
	}
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
	cs->ex_list = palloc(sizeof(int32) * cs->nblocks);
	memset(cs->ex_list, 0xFF, sizeof(int32) * cs->nblocks);	/* -1 */
	cs->cap = cs->ex_cap = 1024;
	cs->tids = palloc(sizeof(ItemPointerData) * cs->cap);
	cs->ex_refs = palloc(sizeof(ItemPointerData) * cs->ex_cap);
	cs->ex_lane = palloc(Max(c->geom.ex_lane_size, 1));
	cs->record = palloc(sizeof(uint64_t) * RQ_BLOCK_LANES * c->geom.words);
	cs->snapshot = RegisterSnapshot(GetTransactionSnapshot());
	cs->fetch = table_index_fetch_begin(cs->heap);
	cs->slot = table_slot_create(cs->heap, NULL);
	cs->estate = CreateExecutorState();
	cs->indexInfo = BuildIndexInfo(cs->index);
	cs->rowctx = AllocSetContextCreate(CurrentMemoryContext, "rabitq check row", ALLOCSET_DEFAULT_SIZES);
	cs->rotated = palloc(sizeof(float) * c->codec.dp);
	cs->entry.code = palloc(sizeof(uint64_t) * c->geom.words);
	cs->entry.ex_code = palloc(Max(c->geom.ex_code_bytes, 1));
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
		WalkPostings(&cs, meta.posting_start + b);
	for (int l = 0; l < cs.cache->codec.lists; l++)
		WalkList(&cs, l);
	CheckExRefs(&cs);
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
