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

/* A new zeroed block at the end of the index, for a build to fill; returns its number. */
BlockNumber
RabitqReserveBlock(Relation index)
{
	Buffer		buf = RabitqNewBuffer(index, MAIN_FORKNUM);
	BlockNumber blkno = BufferGetBlockNumber(buf);

	UnlockReleaseBuffer(buf);
	return blkno;
}

/*
 * Copies a page image a build prepared into its block (not WAL-logged here:
 * the build logs all its pages with log_newpage_range at the end).
 */
void
RabitqWriteImage(Relation index, BlockNumber blkno, Page image)
{
	Buffer		buf = ReadBuffer(index, blkno);

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
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
