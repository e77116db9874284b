/*
 * rabitq_page.c
 *	  Pages of a rabitq index: initialising and extending them, the
 *	  metapage, and chains of pages holding one array (the list directory,
 *	  the centroids).
 */
#include "postgres.h"

#include "common/pg_prng.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/smgr.h"
#include "utils/rel.h"

#include "rabitq.h"

void
RabitqInitPage(Page page, uint16 kind)
{
	RabitqPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(RabitqPageOpaqueData));
	opaque = RabitqPageGetOpaque(page);
	opaque->next = InvalidBlockNumber;
	opaque->kind = kind;
	opaque->page_id = RABITQ_PAGE_ID;
}

/*
 * A new page at the end of fork, returned pinned and exclusively locked.
 * The extension lock keeps two backends from getting the same block
 * (https://www.postgresql.org/docs/current/indexam.html, "Index Locking").
 */
Buffer
RabitqNewBuffer(Relation index, ForkNumber fork)
{
	bool		needlock = !RELATION_IS_LOCAL(index);
	Buffer		buf;

	if (needlock)
		LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, NULL);
	if (needlock)
		UnlockRelationForExtension(index, ExclusiveLock);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	return buf;
}

/*
 * Blocks a build reserves are taken from chunks of RABITQ_RESERVE_CHUNK:
 * the index is extended once per chunk, by writing the chunk's last block
 * (md.c fills the blocks before it with zeros, which hash's
 * _hash_alloc_buckets relies on too), not once per page.  A write a page
 * grew costly in the kernel as the index grew (perf, a 10 M row build:
 * 4 % of the loading, against under 1 % at 1 M rows).
 */
#define RABITQ_RESERVE_CHUNK 128

void
RabitqReserveStart(RabitqReservation *r, Relation index)
{
	r->index = index;
	r->next = r->end = RelationGetNumberOfBlocks(index);
}

/* The next reserved block, zeroed on disk, for a build to fill with RabitqWriteImage. */
BlockNumber
RabitqReserveBlock(RabitqReservation *r)
{
	if (r->next == r->end)
	{
		SMgrRelation smgr = RelationGetSmgr(r->index);
		PGAlignedBlock zero;
		BlockNumber start;

		LockRelationForExtension(r->index, ExclusiveLock);
		start = smgrnblocks(smgr, MAIN_FORKNUM);
		if (start >= MaxBlockNumber - RABITQ_RESERVE_CHUNK)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("cannot extend index \"%s\" beyond %u blocks",
							RelationGetRelationName(r->index), MaxBlockNumber)));
		memset(zero.data, 0, BLCKSZ);
		smgrextend(smgr, MAIN_FORKNUM, start + RABITQ_RESERVE_CHUNK - 1, zero.data, false);
		UnlockRelationForExtension(r->index, ExclusiveLock);
		r->next = start;
		r->end = start + RABITQ_RESERVE_CHUNK;
	}
	return r->next++;
}

/*
 * Gives back the reserved blocks no one took (the end of the last chunk),
 * so that the index holds no unused page; called when the build's writers
 * are done, before anything else extends the index.
 */
void
RabitqReserveFinish(RabitqReservation *r)
{
	SMgrRelation smgr = RelationGetSmgr(r->index);
	ForkNumber	fork = MAIN_FORKNUM;
	BlockNumber nblocks = r->next;

	if (r->next < r->end)
	{
		if (smgrnblocks(smgr, MAIN_FORKNUM) != r->end)
			elog(ERROR, "index \"%s\" was extended during its build", RelationGetRelationName(r->index));
		/* no buffer holds a block past r->next: none was ever read */
		smgrtruncate(smgr, &fork, 1, &nblocks);
	}
	r->end = r->next;
}

/*
 * Copies a page image a build prepared into its block (not WAL-logged here:
 * the build logs all its pages with log_newpage_range at the end).
 */
void
RabitqWriteImage(Relation index, BlockNumber blkno, Page image)
{
		/* the whole page is replaced: no need to read what the block held */
	Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_ZERO_AND_LOCK, NULL);

	memcpy(BufferGetPage(buf), image, BLCKSZ);
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
}

/* ---- the metapage ---- */

/* The metapage fields of a fresh build (the areas' starts still to fill in). */
RabitqMetaPageData
RabitqNewMeta(const RabitqKeyLayout *keys, int dim, int dp, rq_metric metric, int lists, int ex_bits)
{
	RabitqMetaPageData meta;

	memset(&meta, 0, sizeof(meta));
	meta.magic = RABITQ_MAGIC;
	meta.version = RABITQ_FORMAT_VERSION;
	meta.dimensions = dim;
	meta.padded_dim = dp;
	meta.metric = metric;
	meta.rotation_kind = RQ_ROTATION_FHT_KAC;
	meta.rotation_seed = RABITQ_ROTATION_SEED;
	meta.build_id = pg_prng_uint64(&pg_global_prng_state);
	meta.lists = lists;
	meta.directory_start = InvalidBlockNumber;
	meta.centroid_start = InvalidBlockNumber;
	meta.vector_attno = (uint16) keys->vector_attno;
	meta.key_columns = (uint16) keys->nkeys;
	meta.key_bytes = (uint32) keys->key_bytes;
	meta.posting_start = InvalidBlockNumber;
	meta.ex_bits = (uint32) ex_bits;
	return meta;
}

/* Fills the metapage (block 0 of fork, already allocated) from its fields. */
void
RabitqWriteMeta(Relation index, ForkNumber fork, const RabitqMetaPageData *meta)
{
	Buffer		buf = ReadBufferExtended(index, fork, RABITQ_METAPAGE_BLKNO, RBM_NORMAL, NULL);
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	RabitqInitPage(page, RABITQ_PAGE_META);
	*RabitqPageGetMeta(page) = *meta;
	((PageHeader) page)->pd_lower = MAXALIGN(SizeOfPageHeaderData) + sizeof(RabitqMetaPageData);
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
}

/* ERROR unless the metapage says this is a rabitq index of our format. */
static void
RabitqCheckMeta(Relation index, const RabitqMetaPageData *meta, const RabitqPageOpaqueData *opaque)
{
	if (opaque->page_id != RABITQ_PAGE_ID || meta->magic != RABITQ_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not a valid rabitq index", RelationGetRelationName(index)),
				 errhint("REINDEX the index.")));
	if (meta->version != RABITQ_FORMAT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("rabitq index \"%s\" has on-disk format version %u, but this vecrabitq reads version %d",
						RelationGetRelationName(index), meta->version, RABITQ_FORMAT_VERSION),
				 errhint("REINDEX the index to rebuild it in the current format.")));
}

/* A copy of the metapage contents, checked. */
RabitqMetaPageData
RabitqReadMeta(Relation index)
{
	Buffer		buf = ReadBuffer(index, RABITQ_METAPAGE_BLKNO);
	Page		page;
	RabitqMetaPageData meta;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	meta = *RabitqPageGetMeta(page);
	RabitqCheckMeta(index, &meta, RabitqPageGetOpaque(page));
	UnlockReleaseBuffer(buf);
	return meta;
}

/* ---- array chains: RABITQ_ARRAY_PER_PAGE(elem_size) elements a page ---- */

/*
 * Writes count elements of elem_size bytes on a chain of new pages of kind
 * in fork; returns the first page.  At least one page, even for none.
 */
BlockNumber
RabitqWriteArray(Relation index, ForkNumber fork, uint16 kind, const void *data, Size elem_size,
				 Size count)
{
	Size		per_page = RABITQ_ARRAY_PER_PAGE(elem_size);
	BlockNumber start = InvalidBlockNumber;
	Buffer		prev = InvalidBuffer;
	Size		done = 0;

	do
	{
		Buffer		buf = RabitqNewBuffer(index, fork);
		Page		page = BufferGetPage(buf);
		Size		n = Min(count - done, per_page);

		RabitqInitPage(page, kind);
		memcpy(PageGetContents(page), (const char *) data + done * elem_size, n * elem_size);
		((PageHeader) page)->pd_lower = MAXALIGN(SizeOfPageHeaderData) + n * elem_size;
		MarkBufferDirty(buf);
		if (BufferIsValid(prev))
		{
			RabitqPageGetOpaque(BufferGetPage(prev))->next = BufferGetBlockNumber(buf);
			MarkBufferDirty(prev);
			UnlockReleaseBuffer(prev);
		}
		else
			start = BufferGetBlockNumber(buf);
		prev = buf;
		done += n;
	} while (done < count);
	UnlockReleaseBuffer(prev);
	return start;
}

/*
 * Reads count elements of an array chain from start: into data when not
 * NULL, and the page of each element into pages when not NULL.  ERROR if
 * the chain is shorter.
 */
void
RabitqReadArray(Relation index, BlockNumber start, Size elem_size, Size count, void *data,
				BlockNumber *pages)
{
	Size		per_page = RABITQ_ARRAY_PER_PAGE(elem_size);
	BlockNumber blkno = start;
	Size		done = 0;

	while (done < count)
	{
		Buffer		buf;
		Page		page;
		Size		n = Min(count - done, per_page);

		if (!BlockNumberIsValid(blkno))
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("rabitq index \"%s\" has a short array of %zu-byte elements",
							RelationGetRelationName(index), elem_size),
					 errhint("REINDEX the index.")));
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (data != NULL)
			memcpy((char *) data + done * elem_size, PageGetContents(page), n * elem_size);
		for (Size i = 0; pages != NULL && i < n; i++)
			pages[done + i] = blkno;
		done += n;
		blkno = RabitqPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
}
