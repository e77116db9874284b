/*
 * rabitq_excodes.c
 *	  The ex-code chains (rabitq_format.h): each list's second chain, whose
 *	  items hold its entries' B-bit codes, kept apart from the list pages so
 *	  a scan's first pass reads only the compact 1-bit records.  Inserts
 *	  allocate ex items here; scans and check read lanes through here.
 *
 * Items never move and are never removed (VACUUM clears the 1-bit lane; an
 * insert that refills the lane overwrites its ex-code lane in place), so
 * only the last page of a chain has room.  An item is allocated in a WAL
 * record of its own, before the record that points a tail at it: a crash
 * in between leaves an item nothing points at, which wastes its bytes and
 * nothing else.
 *
 * Lock order: an inserter locks its list page(s) first, then ex pages in
 * chain order.  Nobody locks a list page while holding an ex page.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "rabitq.h"

/* Where lane's ex-code is in the ex item tid on page. */
char *
RabitqExLaneIn(const RabitqGeometry *g, Page page, ItemPointer tid, int lane)
{
	ItemId		iid = PageGetItemId(page, ItemPointerGetOffsetNumber(tid));

	return (char *) PageGetItem(page, iid) + RabitqExLaneOffset(g, lane);
}

/*
 * Allocates a zeroed ex item on the chain whose last page is at or after
 * *hint (one WAL record); returns it in *tid with its page exclusively
 * locked in the returned buffer, and moves *hint to the chain's last page.
 */
Buffer
RabitqExAllocate(Relation index, const RabitqGeometry *g, BlockNumber *hint, ItemPointer tid)
{
	BlockNumber blkno = *hint;
	Buffer		buf;
	GenericXLogState *state;
	Page		page;
	char	   *zero = palloc0(g->ex_item_size);
	OffsetNumber off;

	Assert(BlockNumberIsValid(blkno));
	for (;;)
	{
		BlockNumber next;

		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		next = RabitqPageGetOpaque(BufferGetPage(buf))->next;
		if (!BlockNumberIsValid(next))
			break;
		UnlockReleaseBuffer(buf);
		blkno = next;
		CHECK_FOR_INTERRUPTS();
	}
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	if (PageGetFreeSpace(page) < g->ex_item_size)
	{
		Buffer		fresh = RabitqNewBuffer(index, MAIN_FORKNUM);
		Page		fpage = GenericXLogRegisterBuffer(state, fresh, GENERIC_XLOG_FULL_IMAGE);

		RabitqInitPage(fpage, RABITQ_PAGE_EXCODES);
		RabitqPageGetOpaque(page)->next = BufferGetBlockNumber(fresh);
		off = PageAddItem(fpage, (Item) zero, g->ex_item_size, InvalidOffsetNumber, false, false);
		GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);
		buf = fresh;
	}
	else
	{
		off = PageAddItem(page, (Item) zero, g->ex_item_size, InvalidOffsetNumber, false, false);
		GenericXLogFinish(state);
	}
	if (off == InvalidOffsetNumber)
		elog(ERROR, "rabitq could not add an ex-code item");
	*hint = BufferGetBlockNumber(buf);
	ItemPointerSet(tid, *hint, off);
	pfree(zero);
	return buf;
}

/* Reads lane's ex-code lane (g->ex_lane_size bytes) of ex item tid into dst. */
void
RabitqExReadLane(Relation index, const RabitqGeometry *g, ItemPointer tid, int lane, char *dst)
{
	Buffer		buf = ReadBuffer(index, ItemPointerGetBlockNumber(tid));
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (RabitqPageGetOpaque(page)->kind != RABITQ_PAGE_EXCODES ||
		ItemPointerGetOffsetNumber(tid) > PageGetMaxOffsetNumber(page))
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("rabitq index \"%s\" points at a missing ex-code item (%u,%u)",
						RelationGetRelationName(index), ItemPointerGetBlockNumber(tid),
						ItemPointerGetOffsetNumber(tid)),
				 errhint("REINDEX the index.")));
	memcpy(dst, RabitqExLaneIn(g, page, tid, lane), g->ex_lane_size);
	UnlockReleaseBuffer(buf);
}
