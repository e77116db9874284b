/*
 * rabitq_postings.c
 *	  The postings of an index with key columns: a hash table from the key
 *	  values to the heap TIDs of the rows that have them, so a scan whose
 *	  conditions fix every key column finds a small tenant's rows directly
 *	  and ranks them exactly, instead of probing lists where they are a few
 *	  among many (doc/DESIGN.md 6, "a tenant whose rows are few must still get its
 *	  full top-k").
 *
 * `posting_buckets` chains (a power of two), whose head pages are
 * consecutive from `posting_start`.  A posting is (the key image's 32-bit
 * hash, the heap TID); each page keeps a 256-bit Bloom filter of the hashes
 * it holds, so a lookup skips the pages of other keys that share the bucket
 * (a large tenant's pages, above all) after reading one cache line.  The
 * head page also records the chain's last page, where inserts append.
 *
 * Postings never move between pages, and VACUUM compacts a page only under
 * its exclusive lock, so a scan reading a page under a share lock sees each
 * posting exactly once.  Lock order: head page, then the chain's last page,
 * then a new page.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "rabitq.h"

#define RABITQ_MIN_BUCKETS 16
#define RABITQ_MAX_BUCKETS 4096
#define RABITQ_ROWS_PER_BUCKET 1024

#define PostingHeader(page)		((RabitqPostingHeader *) PageGetContents(page))
#define PostingArray(page)		((RabitqPosting *) (PageGetContents(page) + sizeof(RabitqPostingHeader)))

/* Buckets for a table of `rows` rows: about 1,024 postings each, 16 to 4,096. */
uint32
RabitqPostingBuckets(double rows)
{
	uint32		buckets = RABITQ_MIN_BUCKETS;

	while (buckets < RABITQ_MAX_BUCKETS && buckets * (double) RABITQ_ROWS_PER_BUCKET < rows)
		buckets *= 2;
	return buckets;
}

static inline uint32
BucketOf(uint64 hash, uint32 buckets)
{
	return (uint32) (hash >> 32) & (buckets - 1);
}

static inline void
BloomAdd(RabitqPostingHeader *h, uint32 hash)
{
	h->bloom[(hash & 255) >> 6] |= UINT64CONST(1) << (hash & 63);
	h->bloom[((hash >> 8) & 255) >> 6] |= UINT64CONST(1) << ((hash >> 8) & 63);
}

static inline bool
BloomMayHave(const RabitqPostingHeader *h, uint32 hash)
{
	return (h->bloom[(hash & 255) >> 6] & (UINT64CONST(1) << (hash & 63))) &&
		(h->bloom[((hash >> 8) & 255) >> 6] & (UINT64CONST(1) << ((hash >> 8) & 63)));
}

/* An empty posting page; pd_lower covers the header and postings (GenericXLog diffs up to it). */
static void
InitPostingPage(Page page)
{
	RabitqInitPage(page, RABITQ_PAGE_POSTING);
	memset(PostingHeader(page), 0, sizeof(RabitqPostingHeader));
	PostingHeader(page)->tail = InvalidBlockNumber;
	((PageHeader) page)->pd_lower = MAXALIGN(SizeOfPageHeaderData) + sizeof(RabitqPostingHeader);
}

/* Appends a posting to a page with room. */
static void
PutPosting(Page page, uint32 hash, ItemPointer tid)
{
	RabitqPostingHeader *h = PostingHeader(page);

	PostingArray(page)[h->count].hash = hash;
	PostingArray(page)[h->count].tid = *tid;
	h->count++;
	BloomAdd(h, hash);
	((PageHeader) page)->pd_lower += sizeof(RabitqPosting);
}

/* ---- build: one page image per bucket, like the lists ---- */

struct RabitqPostingWriter
{
	Relation	index;
	uint32		buckets;
	BlockNumber start;
	BlockNumber *blkno;			/* per bucket: the block of its open image */
	Page	   *image;
};

Size
RabitqPostingBuildMemory(uint32 buckets)
{
	return mul_size(buckets, BLCKSZ + sizeof(BlockNumber) + sizeof(Page));
}

/* Reserves the head pages (consecutive blocks) and opens one image per bucket. */
RabitqPostingWriter *
RabitqPostingBuildStart(Relation index, uint32 buckets)
{
	RabitqPostingWriter *w = palloc(sizeof(RabitqPostingWriter));

	w->index = index;
	w->buckets = buckets;
	w->blkno = palloc(sizeof(BlockNumber) * buckets);
	w->image = palloc(sizeof(Page) * buckets);
	for (uint32 b = 0; b < buckets; b++)
	{
		w->blkno[b] = RabitqReserveBlock(index);
		w->image[b] = palloc(BLCKSZ);
		InitPostingPage(w->image[b]);
	}
	w->start = w->blkno[0];
	Assert(w->blkno[buckets - 1] == w->start + buckets - 1);
	return w;
}

void
RabitqPostingBuildAdd(RabitqPostingWriter *w, uint64 hash, ItemPointer tid)
{
	uint32		b = BucketOf(hash, w->buckets);
	Page		image = w->image[b];

	if (PostingHeader(image)->count == RABITQ_POSTINGS_PER_PAGE)
	{
		Buffer		buf = RabitqNewBuffer(w->index, MAIN_FORKNUM);
		BlockNumber next = BufferGetBlockNumber(buf);

		UnlockReleaseBuffer(buf);
		RabitqPageGetOpaque(image)->next = next;
		RabitqWriteImage(w->index, w->blkno[b], image);
		InitPostingPage(image);
		w->blkno[b] = next;
	}
	PutPosting(image, (uint32) hash, tid);
}

/* Writes the open images, each head recording its chain's last page; returns the first head. */
BlockNumber
RabitqPostingBuildFinish(RabitqPostingWriter *w)
{
	for (uint32 b = 0; b < w->buckets; b++)
	{
		BlockNumber head = w->start + b;

		if (w->blkno[b] == head)
			PostingHeader(w->image[b])->tail = head;
		else
		{
			Buffer		buf = ReadBuffer(w->index, head);

			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			PostingHeader(BufferGetPage(buf))->tail = w->blkno[b];
			MarkBufferDirty(buf);
			UnlockReleaseBuffer(buf);
		}
		RabitqWriteImage(w->index, w->blkno[b], w->image[b]);
		pfree(w->image[b]);
	}
	return w->start;
}

/* Empty bucket heads on new pages of fork (the init fork of an unlogged index); returns the first. */
BlockNumber
RabitqPostingWriteEmpty(Relation index, ForkNumber fork, uint32 buckets)
{
	BlockNumber start = InvalidBlockNumber;

	for (uint32 b = 0; b < buckets; b++)
	{
		Buffer		buf = RabitqNewBuffer(index, fork);
		Page		page = BufferGetPage(buf);

		InitPostingPage(page);
		PostingHeader(page)->tail = BufferGetBlockNumber(buf);
		MarkBufferDirty(buf);
		if (b == 0)
			start = BufferGetBlockNumber(buf);
		UnlockReleaseBuffer(buf);
	}
	return start;
}

/* ---- insert ---- */

/*
 * Appends (hash, tid) to its bucket's last page, extending the chain when
 * the page is full.  The head page's lock serializes the bucket's inserts.
 */
void
RabitqPostingInsert(Relation index, const RabitqCache *cache, uint64 hash, ItemPointer tid)
{
	BlockNumber head_blkno = cache->posting_start + BucketOf(hash, cache->posting_buckets);
	Buffer		head = ReadBuffer(index, head_blkno);
	Buffer		tail = InvalidBuffer,
				fresh = InvalidBuffer;
	BlockNumber tail_blkno;
	GenericXLogState *state;
	Page		head_page,
				tail_page;

	LockBuffer(head, BUFFER_LOCK_EXCLUSIVE);
	tail_blkno = PostingHeader(BufferGetPage(head))->tail;
	if (BlockNumberIsValid(tail_blkno) && tail_blkno != head_blkno)
	{
		tail = ReadBuffer(index, tail_blkno);
		LockBuffer(tail, BUFFER_LOCK_EXCLUSIVE);
	}
	state = GenericXLogStart(index);
	head_page = GenericXLogRegisterBuffer(state, head, 0);
	tail_page = BufferIsValid(tail) ? GenericXLogRegisterBuffer(state, tail, 0) : head_page;
	if (PostingHeader(tail_page)->count == RABITQ_POSTINGS_PER_PAGE)
	{
		Page		page;

		fresh = RabitqNewBuffer(index, MAIN_FORKNUM);
		page = GenericXLogRegisterBuffer(state, fresh, GENERIC_XLOG_FULL_IMAGE);
		InitPostingPage(page);
		RabitqPageGetOpaque(tail_page)->next = BufferGetBlockNumber(fresh);
		PostingHeader(head_page)->tail = BufferGetBlockNumber(fresh);
		tail_page = page;
	}
	PutPosting(tail_page, (uint32) hash, tid);
	GenericXLogFinish(state);
	if (BufferIsValid(fresh))
		UnlockReleaseBuffer(fresh);
	if (BufferIsValid(tail))
		UnlockReleaseBuffer(tail);
	UnlockReleaseBuffer(head);
}

/* ---- scan ---- */

/*
 * Collects into tids the TIDs posted under hash (other keys with the same
 * 32-bit hash too: the caller checks the row), at most limit + 1 of them;
 * returns how many.  limit + 1 means "more than limit".
 */
int
RabitqPostingLookup(Relation index, const RabitqCache *cache, uint64 hash, int limit,
					ItemPointerData *tids)
{
	BlockNumber blkno = cache->posting_start + BucketOf(hash, cache->posting_buckets);
	uint32		h = (uint32) hash;
	int			found = 0;

	while (BlockNumberIsValid(blkno) && found <= limit)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;
		const RabitqPostingHeader *header;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		header = PostingHeader(page);
		if (BloomMayHave(header, h))
		{
			const RabitqPosting *p = PostingArray(page);

			for (int i = 0; i < header->count && found <= limit; i++)
				if (p[i].hash == h)
					tids[found++] = p[i].tid;
		}
		blkno = RabitqPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
		CHECK_FOR_INTERRUPTS();
	}
	return found;
}

/* ---- vacuum ---- */

/* Drops the dead postings of the locked page buf and rebuilds its filter (one WAL record). */
static void
VacuumPostingPage(Relation index, Buffer buf, IndexBulkDeleteCallback callback, void *callback_state)
{
	Page		page = BufferGetPage(buf);
	int			count = PostingHeader(page)->count;
	bool		any = false;
	GenericXLogState *state;
	RabitqPostingHeader *h;
	RabitqPosting *p;
	int			kept = 0;

	for (int i = 0; i < count && !any; i++)
		any = callback(&PostingArray(page)[i].tid, callback_state);
	if (!any)
		return;
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	h = PostingHeader(page);
	p = PostingArray(page);
	memset(h->bloom, 0, sizeof(h->bloom));
	for (int i = 0; i < count; i++)
		if (!callback(&p[i].tid, callback_state))
		{
			p[kept] = p[i];
			BloomAdd(h, p[kept++].hash);
		}
	h->count = (uint16) kept;
	((PageHeader) page)->pd_lower = MAXALIGN(SizeOfPageHeaderData) + sizeof(RabitqPostingHeader) +
		kept * sizeof(RabitqPosting);
	GenericXLogFinish(state);
}

/* Removes the postings of dead rows from every bucket. */
void
RabitqPostingVacuum(IndexVacuumInfo *info, const RabitqCache *cache,
					IndexBulkDeleteCallback callback, void *callback_state)
{
	for (uint32 b = 0; b < cache->posting_buckets; b++)
	{
		BlockNumber blkno = cache->posting_start + b;

		while (BlockNumberIsValid(blkno))
		{
			Buffer		buf;

			vacuum_delay_point();
			buf = ReadBufferExtended(info->index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			VacuumPostingPage(info->index, buf, callback, callback_state);
			blkno = RabitqPageGetOpaque(BufferGetPage(buf))->next;
			UnlockReleaseBuffer(buf);
		}
	}
}
