/*
 * rabitq_vacuum.c
 *	  VACUUM (doc/DESIGN.md 5): ambulkdelete clears the lanes of dead rows, page
 *	  by page, and points each list's insert hint back at the first page where
 *	  it freed a lane, so inserts refill that space before the list grows.
 *	  Entries are never moved, so concurrent scans and inserts never see a
 *	  row twice or miss one.  With key columns, the postings of dead rows
 *	  are removed too (rabitq_postings.c).
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "rabitq.h"

/*
 * Clears the dead lanes of the locked list page buf (one GenericXLog record
 * if any); returns how many it cleared and adds the live ones to *live.
 */
static int
VacuumPage(Relation index, const RabitqGeometry *g, Buffer buf,
		   IndexBulkDeleteCallback callback, void *callback_state, double *live)
{
	RabitqLaneIter it;
	OffsetNumber dead_off[MaxOffsetNumber * RQ_BLOCK_LANES];
	uint8		dead_lane[MaxOffsetNumber * RQ_BLOCK_LANES];
	int			ndead = 0;

	RabitqLaneIterStart(&it, BufferGetPage(buf), false);
	while (RabitqLaneIterNext(g, &it))
	{
		if (callback(&RabitqTailTids(g, it.tail)[it.lane], callback_state))
		{
			dead_off[ndead] = it.off;
			dead_lane[ndead++] = (uint8) it.lane;
		}
		else
			*live += 1;
	}
	if (ndead > 0)
	{
		GenericXLogState *state = GenericXLogStart(index);
		Page		copy = GenericXLogRegisterBuffer(state, buf, 0);

		for (int i = 0; i < ndead; i++)
			RabitqClearLane(g, PageGetItem(copy, PageGetItemId(copy, dead_off[i])), dead_lane[i]);
		GenericXLogFinish(state);
	}
	return ndead;
}

/* Vacuums one list; moves its insert hint back to the first page it freed space on. */
static void
VacuumList(IndexVacuumInfo *info, const RabitqCache *cache, int list,
		   IndexBulkDeleteCallback callback, void *callback_state, IndexBulkDeleteResult *stats)
{
	Relation	index = info->index;
	RabitqListEntry entry = RabitqReadListEntry(index, cache, list);
	BlockNumber blkno = entry.first_page;
	BlockNumber first_freed = InvalidBlockNumber;
	bool		hint_seen = false;

	while (BlockNumberIsValid(blkno))
	{
		Buffer		buf;
		int			cleared;

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		cleared = VacuumPage(index, &cache->geom, buf, callback, callback_state,
							 &stats->num_index_tuples);
		stats->tuples_removed += cleared;
		/* only pages before the hint matter: the walk from the hint finds the rest */
		if (cleared > 0 && !hint_seen && !BlockNumberIsValid(first_freed))
			first_freed = blkno;
		hint_seen |= (blkno == entry.insert_page);
		blkno = RabitqPageGetOpaque(BufferGetPage(buf))->next;
		UnlockReleaseBuffer(buf);
	}
	if (BlockNumberIsValid(first_freed) && first_freed != entry.insert_page)
		RabitqSetInsertHint(index, cache, list, first_freed);
}

/* Vacuums (or with NothingDead, counts) every list; the postings too when asked. */
static IndexBulkDeleteResult *
VacuumIndex(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			IndexBulkDeleteCallback callback, void *callback_state, bool postings)
{
	RabitqCache *cache = RabitqGetCache(info->index);

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	stats->num_index_tuples = 0;
	for (int l = 0; l < cache->codec.lists; l++)
		VacuumList(info, cache, l, callback, callback_state, stats);
	/* a dead row's posting goes in the same pass, before its heap TID can be reused */
	if (postings && cache->keys.nkeys > 0)
		RabitqPostingVacuum(info, cache, callback, callback_state);
	return stats;
}

IndexBulkDeleteResult *
rabitqbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				 IndexBulkDeleteCallback callback, void *callback_state)
{
	return VacuumIndex(info, stats, callback, callback_state, true);
}

/* Counts every entry as dead-free (VACUUM without deletions). */
static bool
NothingDead(ItemPointer tid, void *state)
{
	(void) tid;
	(void) state;
	return false;
}

IndexBulkDeleteResult *
rabitqvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	/* no bulkdelete pass ran: count the entries for the statistics */
	if (stats == NULL)
		stats = VacuumIndex(info, NULL, NothingDead, NULL, false);
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	stats->estimated_count = false;
	return stats;
}
