/*
 * rabitq_lists.c
 *	  The list directory: reading a list's entry, moving its insert hint,
 *	  raising its largest residual, giving an empty list its first page (one
 *	  GenericXLog record each); and how many lists a scan probes.
 */
#include "postgres.h"

#include <math.h>

#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "rabitq.h"

#define DirEntry(page, cache, list) \
	(&((RabitqListEntry *) PageGetContents(page))[(cache)->dir_slot[list]])

/* A copy of list's directory entry (its first page and insert hint). */
RabitqListEntry
RabitqReadListEntry(Relation index, const RabitqCache *cache, int list)
{
	Buffer		buf = RabitqReadBuffer(index, cache, cache->dir_page[list]);
	RabitqListEntry entry;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	entry = *DirEntry(BufferGetPage(buf), cache, list);
	UnlockReleaseBuffer(buf);
	return entry;
}

/* Sets the block number at offset `field` of list's directory entry, WAL-logged. */
static void
SetEntryBlock(Relation index, const RabitqCache *cache, int list, size_t field, BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(index, cache->dir_page[list]);
	GenericXLogState *state;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	*(BlockNumber *) ((char *) DirEntry(GenericXLogRegisterBuffer(state, buf, 0), cache, list) + field) = blkno;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/* Points list's insert hint at blkno. */
void
RabitqSetInsertHint(Relation index, const RabitqCache *cache, int list, BlockNumber blkno)
{
	SetEntryBlock(index, cache, list, offsetof(RabitqListEntry, insert_page), blkno);
}

/* Raises list's largest residual norm to norm if it is smaller. */
void
RabitqRaiseMaxResidual(Relation index, const RabitqCache *cache, int list, float norm)
{
	Buffer		buf = ReadBuffer(index, cache->dir_page[list]);

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	if (DirEntry(BufferGetPage(buf), cache, list)->max_residual < norm)
	{
		GenericXLogState *state = GenericXLogStart(index);

		DirEntry(GenericXLogRegisterBuffer(state, buf, 0), cache, list)->max_residual = norm;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(buf);
}

/*
 * Gives an empty list its first page, and with ex-codes the first page of
 * its ex-code chain (under the directory page's lock, so only one backend
 * does); returns the list's entry afterwards.
 */
RabitqListEntry
RabitqCreateFirstPage(Relation index, const RabitqCache *cache, int list)
{
	Buffer		dirbuf = ReadBuffer(index, cache->dir_page[list]);
	RabitqListEntry *entry;
	RabitqListEntry result;

	LockBuffer(dirbuf, BUFFER_LOCK_EXCLUSIVE);
	entry = DirEntry(BufferGetPage(dirbuf), cache, list);
	if (!BlockNumberIsValid(entry->first_page))
	{
		Buffer		buf = RabitqNewBuffer(index, MAIN_FORKNUM);
		Buffer		exbuf = InvalidBuffer;
		GenericXLogState *state = GenericXLogStart(index);
		Page		dirpage = GenericXLogRegisterBuffer(state, dirbuf, 0);
		Page		page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
		RabitqListEntry *e = DirEntry(dirpage, cache, list);

		RabitqInitPage(page, RABITQ_PAGE_LIST);
		e->first_page = e->insert_page = BufferGetBlockNumber(buf);
		if (cache->geom.ex_bits > 0)
		{
			exbuf = RabitqNewBuffer(index, MAIN_FORKNUM);
			RabitqInitPage(GenericXLogRegisterBuffer(state, exbuf, GENERIC_XLOG_FULL_IMAGE),
						   RABITQ_PAGE_EXCODES);
			e->ex_first = e->ex_last = BufferGetBlockNumber(exbuf);
		}
		GenericXLogFinish(state);
		if (BufferIsValid(exbuf))
			UnlockReleaseBuffer(exbuf);
		UnlockReleaseBuffer(buf);
	}
	result = *DirEntry(BufferGetPage(dirbuf), cache, list);
	UnlockReleaseBuffer(dirbuf);
	return result;
}

/* Moves list's ex-code chain hint forward to blkno (its last page, as an inserter last saw it). */
void
RabitqSetExHint(Relation index, const RabitqCache *cache, int list, BlockNumber blkno)
{
	SetEntryBlock(index, cache, list, offsetof(RabitqListEntry, ex_last), blkno);
}

/*
 * Lists a scan probes per batch: rabitq.probes when set, else the index's
 * probes option, else 2 sqrt(lists) for L2 and cosine and 3 sqrt(lists) for
 * inner product, whose nearest rows spread over more lists (measured: see
 * the README); never more than the lists.
 */
int
RabitqProbes(Relation index, int lists, rq_metric metric)
{
	RabitqOptions *opts = (RabitqOptions *) index->rd_options;
	int			probes;

	if (rabitq_probes > 0)
		probes = rabitq_probes;
	else if (opts != NULL && opts->probes > 0)
		probes = opts->probes;
	else
		probes = (int) ceil((metric == RQ_METRIC_IP ? 3.0 : 2.0) * sqrt((double) lists));
	return Min(Max(probes, 1), lists);
}
