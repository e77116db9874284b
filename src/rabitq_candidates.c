/*
 * rabitq_candidates.c
 *	  What a scan's candidate ids name, and the refining stage (doc/DESIGN.md
 *	  6; doc/RABITQ.md 4).
 *
 * Probing: every block record a scan estimates is copied here once (its
 * eight heap TIDs, where its lanes' ex-codes are, and which probed list it
 * came from), so a candidate is just (block ordinal, lane) and the
 * re-rank's entries stay 16 bytes.  Copying under the page's share lock
 * gives a consistent picture: if VACUUM later empties the lane and an
 * insert refills it, the copied heap TID names a row the scan's MVCC
 * snapshot cannot see (VACUUM removes only rows dead to every snapshot),
 * so the row drops out at its heap fetch whatever its ex-code then says.
 *
 * Refining a candidate reads its B-bit code from the ex-code chain and
 * estimates it against the list's refining query (rq_prepare_ex_query,
 * made when the list's first candidate is refined).  Candidates refined
 * together in list order share ex pages: one pin and lock per page, and
 * their lanes' loads overlap.
 *
 * Exact ranking (a small tenant): the candidates are the tenant's
 * postings, each estimated against one refining query from the origin.
 */
#include "postgres.h"

#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "rabitq.h"
#include "rabitq_candidates.h"

/* A probed list: its number, the query's residual, and once needed its refining query. */
typedef struct ProbedList
{
	int			list;
	bool		ready;
	rq_residual_stats st;
	rq_ex_query eq;
} ProbedList;

struct RabitqCandidates
{
	Relation	index;
	const RabitqCache *cache;
	const float *query;			/* rotated query, Dp */
	MemoryContext cxt;
	/* probing */
	ProbedList *lists;
	int			nlists;
	int			lists_cap;
	ItemPointerData *heap_tids; /* 8 per block */
	ItemPointerData *ex_tids;	/* ex_ptrs per block */
	uint32	   *block_list;		/* per block: index into lists */
	uint64		nblocks;
	uint64		blocks_cap;
	uint8	   *levels;			/* the refining queries' levels, Dp per list */
	/* exact ranking */
	const char *postings;
	Size		posting_size;
	rq_ex_query origin_eq;
	uint8	   *origin_levels;
};

RabitqCandidates *
RabitqCandidatesCreate(Relation index, const RabitqCache *cache, const float *query)
{
	RabitqCandidates *c = palloc0(sizeof(RabitqCandidates));

	c->index = index;
	c->cache = cache;
	c->query = query;
	c->cxt = CurrentMemoryContext;
	return c;
}

/* ---- probing ---- */

uint32
RabitqCandidatesAddList(RabitqCandidates *c, int list, const rq_residual_stats *st)
{
	if (c->nlists == c->lists_cap)
	{
		c->lists_cap = Max(16, c->lists_cap * 2);
		c->lists = c->lists ? repalloc(c->lists, sizeof(ProbedList) * c->lists_cap)
			: MemoryContextAlloc(c->cxt, sizeof(ProbedList) * c->lists_cap);
	}
	c->lists[c->nlists].list = list;
	c->lists[c->nlists].ready = false;
	c->lists[c->nlists].st = *st;
	return (uint32) c->nlists++;
}

static void
GrowBlocks(RabitqCandidates *c, uint64 cap)
{
	const RabitqGeometry *g = &c->cache->geom;

	if (cap > RABITQ_CANDIDATE_MAX_BLOCKS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("rabitq scan has too many candidates")));
#define GROW(ptr, size) \
	(ptr) = (ptr) ? repalloc_huge((ptr), (size)) : MemoryContextAllocHuge(c->cxt, (size))
	GROW(c->heap_tids, sizeof(ItemPointerData) * RQ_BLOCK_LANES * cap);
	GROW(c->block_list, sizeof(uint32) * cap);
	if (g->ex_bits > 0)
		GROW(c->ex_tids, sizeof(ItemPointerData) * g->ex_ptrs * cap);
#undef GROW
	c->blocks_cap = cap;
}

void
RabitqCandidatesReserve(RabitqCandidates *c, uint64 blocks)
{
	if (blocks > c->blocks_cap)
		GrowBlocks(c, blocks);
}

uint64
RabitqCandidatesAddBlock(RabitqCandidates *c, uint32 list_slot, char *tail)
{
	const RabitqGeometry *g = &c->cache->geom;
	uint64		b = c->nblocks;

	if (b == c->blocks_cap)
		GrowBlocks(c, Max(256, c->blocks_cap * 2));
	memcpy(&c->heap_tids[b * RQ_BLOCK_LANES], RabitqTailTids(g, tail),
		   sizeof(ItemPointerData) * RQ_BLOCK_LANES);
	if (g->ex_bits > 0)
		memcpy(&c->ex_tids[b * g->ex_ptrs], RabitqTailEx(g, tail), sizeof(ItemPointerData) * g->ex_ptrs);
	c->block_list[b] = list_slot;
	c->nblocks++;
	return b;
}

/* The refining query of probed list slot, made on first use. */
static const rq_ex_query *
ListQuery(RabitqCandidates *c, uint32 slot)
{
	const RabitqCodec *codec = &c->cache->codec;
	ProbedList *pl = &c->lists[slot];

	if (!pl->ready)
	{
		uint8	   *q = MemoryContextAlloc(c->cxt, codec->dp);

		rq_prepare_ex_query_from(c->query, codec->centroids + (Size) pl->list * codec->dp, codec->dp,
								 c->cache->geom.bits, codec->metric, &pl->st, q, &pl->eq);
		pl->ready = true;
	}
	return &pl->eq;
}

/* The B-bit estimate of the ex-code lane at lane against eq; *lb its bound at eps. */
static float
EstimateLane(const RabitqGeometry *g, const rq_ex_query *eq, const char *lane, float eps, float *lb)
{
	rq_ex_sums	sums;
	rq_ex_factors f;
	float		add;

	rq_codes.ex_dot(RabitqExLaneCode(lane), eq->q, g->dp, g->bits, &sums);
	RabitqExLaneFactors(g, lane, &add, &f);
	return rq_ex_estimate(eq, add, &f, &sums, eps, lb);
}

/* The ex item of probing candidate id. */
static inline ItemPointer
ExItemOf(const RabitqCandidates *c, uint64 id)
{
	const RabitqGeometry *g = &c->cache->geom;
	uint64		b = RabitqCandidateBlock(id);

	return &c->ex_tids[b * g->ex_ptrs + (g->ex_per_item == 1 ? RabitqCandidateLane(id) : 0)];
}

/* Where candidate id's ex-code lane is on its locked ex page; ERROR if the page has no such item. */
static const char *
ExLaneOn(const RabitqCandidates *c, Page page, uint64 id)
{
	const RabitqGeometry *g = &c->cache->geom;
	ItemPointer tid = ExItemOf(c, id);

	if (RabitqPageGetOpaque(page)->kind != RABITQ_PAGE_EXCODES ||
		ItemPointerGetOffsetNumber(tid) > PageGetMaxOffsetNumber(page) ||
		ItemIdGetLength(PageGetItemId(page, ItemPointerGetOffsetNumber(tid))) != g->ex_item_size)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("rabitq index \"%s\" points at a missing ex-code item",
						RelationGetRelationName(c->index)),
				 errhint("REINDEX the index.")));
	return RabitqExLaneIn(g, page, tid, RabitqCandidateLane(id));
}

#define RABITQ_REFINE_PAGES 16	/* ex pages one refining pass keeps locked */


/*
 * Refines ids[0, n).  Consecutive ids whose ex-codes share a page form a
 * run (entries refined in list order share pages); up to
 * RABITQ_REFINE_PAGES runs are pinned, with the first touches of their
 * pages prefetched, then every lane of them is located and prefetched, and
 * only then estimated, each run under its page's share lock (one lock at a
 * time: an insert holds a list page and an ex page), so the memory loads
 * of pages and lanes overlap instead of waiting one by one (measured on
 * sift1m: the pages' first touches were three quarters of this function's
 * own time).  A lane stays where it was located while its page is pinned:
 * ex items never move.
 */
void
RabitqCandidatesRefine(RabitqCandidates *c, const uint64 *ids, int n, float eps, float *est, float *lb)
{
	const RabitqGeometry *g = &c->cache->geom;
	Buffer		bufs[RABITQ_REFINE_PAGES];
	int			start[RABITQ_REFINE_PAGES + 1];
	const char *lanes[RABITQ_REFINE_MAX];
	int			i = 0;

	Assert(n <= RABITQ_REFINE_MAX);
	while (i < n)
	{
		int			runs = 0;

		/* pin the pages of the next runs and prefetch their first touches */
		while (i < n && runs < RABITQ_REFINE_PAGES)
		{
			ItemPointer tid = ExItemOf(c, ids[i]);
			BlockNumber blkno = ItemPointerGetBlockNumber(tid);

			bufs[runs] = RabitqReadBuffer(c->index, c->cache, blkno);
			RabitqPrefetchPageHead(BufferGetPage(bufs[runs]), ItemPointerGetOffsetNumber(tid));
			start[runs++] = i;
			while (i < n && ItemPointerGetBlockNumber(ExItemOf(c, ids[i])) == blkno)
				i++;
		}
		start[runs] = i;
		/* locate and prefetch their lanes */
		for (int r = 0; r < runs; r++)
		{
			Page		page = BufferGetPage(bufs[r]);

			LockBuffer(bufs[r], BUFFER_LOCK_SHARE);
			for (int j = start[r]; j < start[r + 1]; j++)
			{
				lanes[j] = ExLaneOn(c, page, ids[j]);
				RabitqPrefetchRange(lanes[j], g->ex_lane_size);
			}
			LockBuffer(bufs[r], BUFFER_LOCK_UNLOCK);
		}
		/* estimate them */
		for (int r = 0; r < runs; r++)
		{
			LockBuffer(bufs[r], BUFFER_LOCK_SHARE);
			for (int j = start[r]; j < start[r + 1]; j++)
			{
				const rq_ex_query *eq = ListQuery(c, c->block_list[RabitqCandidateBlock(ids[j])]);

				est[j] = EstimateLane(g, eq, lanes[j], eps, &lb[j]);
			}
			UnlockReleaseBuffer(bufs[r]);
		}
	}
}

ItemPointerData
RabitqCandidateTid(const RabitqCandidates *c, uint64 id)
{
	if (id & RABITQ_ID_HEAP)
	{
		ItemPointerData tid;

		ItemPointerSet(&tid, (BlockNumber) ((id >> 16) & 0xFFFFFFFF), (OffsetNumber) (id & 0xFFFF));
		return tid;
	}
	if (c->postings != NULL)
		return ((const RabitqPosting *) (c->postings + (Size) RabitqCandidateIndex(id) * c->posting_size))->tid;
	return c->heap_tids[RabitqCandidateIndex(id)];
}

/* ---- exact ranking ---- */

void
RabitqCandidatesSetPostings(RabitqCandidates *c, const char *postings)
{
	const RabitqCodec *codec = &c->cache->codec;

	c->postings = postings;
	c->posting_size = RabitqPostingSize(&c->cache->geom);
	if (c->cache->geom.ex_bits > 0)
	{
		c->origin_levels = MemoryContextAlloc(c->cxt, codec->dp);
		rq_prepare_ex_query(c->query, codec->origin, codec->dp, c->cache->geom.bits, codec->metric,
							c->origin_levels, &c->origin_eq);
	}
}

float
RabitqCandidatePostingBound(RabitqCandidates *c, int i, float eps)
{
	float		lb;

	(void) EstimateLane(&c->cache->geom, &c->origin_eq,
						c->postings + (Size) i * c->posting_size + sizeof(RabitqPosting), eps, &lb);
	return lb;
}
