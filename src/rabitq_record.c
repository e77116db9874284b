/*
 * rabitq_record.c
 *	  Block records: their geometry, making and filling them, and iterating
 *	  over their lanes (rabitq_record.h).
 */
#include "postgres.h"

#include "core/rq_layout.h"
#include "rabitq_record.h"

/*
 * Lays out block records for Dp bits, key_bytes of keys per lane and
 * ex_bits.  One item per record when it fits a page; otherwise non-tail
 * items of as many words as a page holds and a tail with the rest plus
 * factors, TIDs, lane flags, segment locations, ex-code locations and keys.
 */
void
RabitqComputeGeometry(RabitqGeometry *g, int dp, int key_bytes, int ex_bits)
{
	Size		head = sizeof(RabitqBlockHead);
	Size		lane_word = RQ_BLOCK_LANES * sizeof(uint64_t);
	Size		extras;
	int			seg_max,
				tail_max;
	rq_segment_plan plan;

	memset(g, 0, sizeof(*g));
	g->dp = dp;
	g->words = rq_code_words(dp);
	g->key_bytes = key_bytes;
	if (ex_bits > 0)
	{
		g->ex_bits = ex_bits;
		g->bits = ex_bits + 1;
		g->ex_code_bytes = rq_ex_code_bytes(dp, g->bits);
		g->ex_lane_size = g->ex_code_bytes + 3 * sizeof(float);
		if (g->ex_lane_size > RABITQ_ITEM_SPACE)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("rabitq ex-codes of %d bits for %d dimensions do not fit in a page", g->bits, dp),
					 errhint("Use ex_bits = 3 or less above 8,000 dimensions.")));
		g->ex_per_item = (RQ_BLOCK_LANES * g->ex_lane_size <= RABITQ_ITEM_SPACE) ? RQ_BLOCK_LANES : 1;
		g->ex_item_size = MAXALIGN((Size) g->ex_per_item * g->ex_lane_size);
		g->ex_ptrs = RQ_BLOCK_LANES / g->ex_per_item;
	}
	extras = RQ_BLOCK_FACTOR_BYTES + RQ_BLOCK_LANES * sizeof(ItemPointerData) +
		RQ_BLOCK_LANES + MAXALIGN((RABITQ_MAX_SEGMENTS - 1 + g->ex_ptrs) * sizeof(ItemPointerData)) +
		MAXALIGN((Size) RQ_BLOCK_LANES * key_bytes) + 8;	/* + alignment slack */

	seg_max = (int) ((RABITQ_ITEM_SPACE - head) / lane_word);
	tail_max = (int) ((RABITQ_ITEM_SPACE - head - extras) / lane_word);
	if (rq_plan_segments(g->words, seg_max, tail_max, RABITQ_MAX_SEGMENTS, &plan) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("rabitq index entries of %d dimensions do not fit in %d pages", dp,
						RABITQ_MAX_SEGMENTS)));
	g->nseg = plan.nseg;
	g->seg_words = plan.seg_words;
	g->tail_words = plan.tail_words;
	g->seg_size = MAXALIGN(head + (Size) g->seg_words * lane_word);

	g->off_codes = head;
	g->off_factors = head + (Size) g->tail_words * lane_word;
	g->off_tids = g->off_factors + RQ_BLOCK_FACTOR_BYTES;
	g->off_used = g->off_tids + RQ_BLOCK_LANES * sizeof(ItemPointerData);
	g->off_segs = g->off_used + RQ_BLOCK_LANES;
	/* a one-item record has no other items to locate (planned as if it had) */
	g->off_ex = g->off_segs + (g->nseg > 1 ? (RABITQ_MAX_SEGMENTS - 1) * sizeof(ItemPointerData) : 0);
	g->off_keys = MAXALIGN(g->off_ex + (Size) g->ex_ptrs * sizeof(ItemPointerData));
	g->tail_size = MAXALIGN(g->off_keys + (Size) RQ_BLOCK_LANES * key_bytes);
	Assert(g->tail_size <= RABITQ_ITEM_SPACE);
}

int
RabitqEntriesPerPage(const RabitqGeometry *g)
{
	if (g->nseg > 1)
		return RQ_BLOCK_LANES;
	return (int) ((RABITQ_ITEM_SPACE + sizeof(ItemIdData)) / (g->tail_size + sizeof(ItemIdData))) *
		RQ_BLOCK_LANES;
}

void
RabitqInitItem(const RabitqGeometry *g, char *item, int s, const ItemPointerData *segs)
{
	RabitqBlockHead *head = RabitqItemHead(item);
	bool		tail = (s == g->nseg - 1);

	memset(item, 0, RabitqItemSize(g, s));
	head->flags = tail ? RABITQ_BLOCK_TAIL : 0;
	head->word_begin = (uint16) (s * g->seg_words);
	head->word_end = (uint16) (tail ? g->words : (s + 1) * g->seg_words);
	head->nseg = (uint16) g->nseg;
	if (tail && g->nseg > 1)
		memcpy(RabitqTailSegs(g, item), segs, sizeof(ItemPointerData) * (g->nseg - 1));
	if (tail)
		for (int p = 0; p < g->ex_ptrs; p++)
			ItemPointerSetInvalid(&RabitqTailEx(g, item)[p]);
}

void
RabitqPutLane(const RabitqGeometry *g, char *item, int lane, const RabitqLane *e)
{
	RabitqBlockHead *head = RabitqItemHead(item);

	rq_block_put_code(RabitqItemCodes(item), head->word_begin, head->word_end, lane, e->code);
	if (!RabitqItemIsTail(item))
		return;
	rq_block_put_factors(RabitqTailFactors(g, item), lane, &e->f);
	RabitqTailTids(g, item)[lane] = e->tid;
	if (g->key_bytes > 0)
		memcpy(RabitqTailKey(g, item, lane), e->key, g->key_bytes);
	RabitqTailUsed(g, item)[lane] = 1;
}

void
RabitqPutExLane(const RabitqGeometry *g, char *dst, const RabitqLane *e)
{
	float	   *x = (float *) (dst + g->ex_code_bytes);

	memcpy(dst, e->ex_code, g->ex_code_bytes);
	x[0] = e->f.add;
	x[1] = e->ex_f.fr;
	x[2] = e->ex_f.err;
}

void
RabitqClearLane(const RabitqGeometry *g, char *tail, int lane)
{
	RabitqTailUsed(g, tail)[lane] = 0;
	ItemPointerSetInvalid(&RabitqTailTids(g, tail)[lane]);
}

void
RabitqLaneIterStart(RabitqLaneIter *it, Page page, bool free_lanes)
{
	it->page = page;
	it->free_lanes = free_lanes;
	it->off = InvalidOffsetNumber;
	it->maxoff = PageGetMaxOffsetNumber(page);
	it->pending = 0;
	it->tail = NULL;
	it->lane = -1;
}

bool
RabitqLaneIterNext(const RabitqGeometry *g, RabitqLaneIter *it)
{
	while (it->pending == 0)
	{
		if (it->off >= it->maxoff)
			return false;
		it->off = OffsetNumberNext(it->off);
		it->tail = PageGetItem(it->page, PageGetItemId(it->page, it->off));
		if (RabitqItemIsTail(it->tail))
			it->pending = it->free_lanes ? (uint8) ~RabitqUsedLanes(g, it->tail)
				: RabitqUsedLanes(g, it->tail);
	}
	it->lane = pg_rightmost_one_pos32(it->pending);
	it->pending &= it->pending - 1;
	return true;
}
