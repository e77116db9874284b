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
 * hash, the heap TID) and, with ex_bits > 0, the row's B-bit code taken
 * from the origin (rabitq_format.h), RabitqPostingSize bytes in all, so the
 * scan ranks a small tenant from its postings and reads from the heap only
 * the rows those codes cannot order.  Each page keeps a 256-bit Bloom filter of the hashes
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
#define PostingArray(page)		(PageGetContents(page) + sizeof(RabitqPostingHeader))
#define PostingAt(page, size, i)	((RabitqPosting *) (PostingArray(page) + (Size) (i) * (size)))

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

/* Appends a posting (size bytes, starting with its RabitqPosting) to a page with room. */
static void
PutPosting(Page page, const char *posting, Size size)
{
	RabitqPostingHeader *h = PostingHeader(page);

	memcpy(PostingAt(page, size, h->count), posting, size);
	h->count++;
	BloomAdd(h, ((const RabitqPosting *) posting)->hash);
	((PageHeader) page)->pd_lower += size;
}

/* ---- build: one page image per bucket, like the lists ---- */

struct RabitqPostingWriter
{
	Relation	index;
	RabitqReservation *reserve; /* the build's: where new pages come from */
	uint32		buckets;
	Size		size;			/* bytes of a posting */
	char	   *posting;		/* scratch: one posting */
	BlockNumber start;
	BlockNumber *blkno;			/* per bucket: the block of its open image */
	Page	   *image;
};

Size
RabitqPostingBuildMemory(uint32 buckets)
{
	return mul_size(buckets, BLCKSZ + sizeof(BlockNumber) + sizeof(Page));
}

/*
 * Reserves the head pages (consecutive blocks) and opens one image per
 * bucket, for postings of `size` bytes (RabitqPostingSize).
 */
RabitqPostingWriter *
RabitqPostingBuildStart(Relation index, RabitqReservation *reserve, uint32 buckets, Size size)
{
	RabitqPostingWriter *w = palloc(sizeof(RabitqPostingWriter));

	w->index = index;
	w->reserve = reserve;
	w->buckets = buckets;
	w->size = size;
	w->posting = palloc0(size);
	w->blkno = palloc(sizeof(BlockNumber) * buckets);
	w->image = palloc(sizeof(Page) * buckets);
	for (uint32 b = 0; b < buckets; b++)
	{
		w->blkno[b] = RabitqReserveBlock(reserve);
		w->image[b] = palloc(BLCKSZ);
		InitPostingPage(w->image[b]);
	}
	w->start = w->blkno[0];
	Assert(w->blkno[buckets - 1] == w->start + buckets - 1);
	return w;
}

/*
 * Fills a posting of `size` bytes: hash, TID, and the ex-code lane (which
 * must be given when the posting has room for one).
 */
static void
MakePosting(char *posting, Size size, uint64 hash, ItemPointer tid, const char *ex_lane)
{
	RabitqPosting *p = (RabitqPosting *) posting;

	p->hash = (uint32) hash;
	p->tid = *tid;
	if (size > sizeof(RabitqPosting))
	{
		Assert(ex_lane != NULL);
		memcpy(posting + sizeof(RabitqPosting), ex_lane, size - sizeof(RabitqPosting));
	}
}

void
RabitqPostingBuildAdd(RabitqPostingWriter *w, uint64 hash, ItemPointer tid, const char *ex_lane)
{
	uint32		b = BucketOf(hash, w->buckets);
	Page		image = w->image[b];

	if (PostingHeader(image)->count == RABITQ_POSTINGS_PER_PAGE(w->size))
	{
		BlockNumber next = RabitqReserveBlock(w->reserve);

		RabitqPageGetOpaque(image)->next = next;
		RabitqWriteImage(w->index, w->blkno[b], image);
		InitPostingPage(image);
		w->blkno[b] = next;
	}
	MakePosting(w->posting, w->size, hash, tid, ex_lane);
	PutPosting(image, w->posting, w->size);
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
 * Appends (hash, tid, ex_lane) to its bucket's last page, extending the
 * chain when the page is full.  The head page's lock serializes the
 * bucket's inserts.
 */
void
RabitqPostingInsert(Relation index, const RabitqCache *cache, uint64 hash, ItemPointer tid,
					const char *ex_lane)
{
	Size		size = RabitqPostingSize(&cache->geom);
	char	   *posting = palloc(size);
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
	if (PostingHeader(tail_page)->count == RABITQ_POSTINGS_PER_PAGE(size))
	{
		Page		page;

		fresh = RabitqNewBuffer(index, MAIN_FORKNUM);
		page = GenericXLogRegisterBuffer(state, fresh, GENERIC_XLOG_FULL_IMAGE);
		InitPostingPage(page);
		RabitqPageGetOpaque(tail_page)->next = BufferGetBlockNumber(fresh);
		PostingHeader(head_page)->tail = BufferGetBlockNumber(fresh);
		tail_page = page;
	}
	MakePosting(posting, size, hash, tid, ex_lane);
	PutPosting(tail_page, posting, size);
	GenericXLogFinish(state);
	if (BufferIsValid(fresh))
		UnlockReleaseBuffer(fresh);
	if (BufferIsValid(tail))
		UnlockReleaseBuffer(tail);
	UnlockReleaseBuffer(head);
	pfree(posting);
}

/* ---- scan ---- */

/*
 * Copies into out the postings (RabitqPostingSize bytes each) under hash
 * (other keys with the same 32-bit hash too: the caller checks the row), at
 * most limit + 1 of them; returns how many.  limit + 1 means "more than
 * limit".
 */
int
RabitqPostingLookup(Relation index, const RabitqCache *cache, uint64 hash, int limit, char *out)
{
	BlockNumber blkno = cache->posting_start + BucketOf(hash, cache->posting_buckets);
	Size		size = RabitqPostingSize(&cache->geom);
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
			for (int i = 0; i < header->count && found <= limit; i++)
				if (PostingAt(page, size, i)->hash == h)
					memcpy(out + (Size) found++ * size, PostingAt(page, size, i), size);
		}
		blkno = RabitqPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
		CHECK_FOR_INTERRUPTS();
	}
	return found;
}

/* ---- vacuum ---- */

/* Drops the dead postings (size bytes each) of the locked page buf and rebuilds its filter (one WAL record). */
static void
VacuumPostingPage(Relation index, Buffer buf, Size size, IndexBulkDeleteCallback callback,
				  void *callback_state)
{
	Page		page = BufferGetPage(buf);
	int			count = PostingHeader(page)->count;
	bool		any = false;
	GenericXLogState *state;
	RabitqPostingHeader *h;
	int			kept = 0;

	for (int i = 0; i < count && !any; i++)
		any = callback(&PostingAt(page, size, i)->tid, callback_state);
	if (!any)
		return;
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	h = PostingHeader(page);
	memset(h->bloom, 0, sizeof(h->bloom));
	for (int i = 0; i < count; i++)
		if (!callback(&PostingAt(page, size, i)->tid, callback_state))
		{
			if (kept != i)
				memcpy(PostingAt(page, size, kept), PostingAt(page, size, i), size);
			BloomAdd(h, PostingAt(page, size, kept++)->hash);
		}
	h->count = (uint16) kept;
	((PageHeader) page)->pd_lower = MAXALIGN(SizeOfPageHeaderData) + sizeof(RabitqPostingHeader) +
		kept * size;
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
			VacuumPostingPage(info->index, buf, RabitqPostingSize(&cache->geom), callback,
							  callback_state);
			blkno = RabitqPageGetOpaque(BufferGetPage(buf))->next;
			UnlockReleaseBuffer(buf);
		}
	}
}
