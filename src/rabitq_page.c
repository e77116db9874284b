/*
 * rabitq_page.c
 *	  Pages of a rabitq index: initialisation, extension, the metapage, the
 *	  geometry of block records, and the per-backend cache of rotation and
 *	  centroids (rd_amcache).
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "core/rq_distance.h"
#include "core/rq_layout.h"
#include "rabitq.h"
#include "vector.h"

/* Usable bytes of one page item (an empty list page takes one item this large). */
#define RABITQ_ITEM_SPACE \
	(BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(RabitqPageOpaqueData)) \
	 - sizeof(ItemIdData))

/* Floats of the centroid array per centroid page. */
#define RABITQ_CENTROID_FLOATS \
	((BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(RabitqPageOpaqueData))) / sizeof(float))

/* Directory entries per directory page. */
#define RABITQ_DIR_ENTRIES \
	((BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(RabitqPageOpaqueData))) / \
	 sizeof(RabitqListEntry))

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

/*
 * Lays out block records for Dp bits and key_bytes of keys per lane.  One
 * item per record when it fits a page; otherwise non-tail items of as many
 * words as a page holds and a tail with the rest plus factors, TIDs, lane
 * flags, segment locations and keys.
 */
void
RabitqComputeGeometry(RabitqGeometry *g, int dp, int key_bytes)
{
	Size		head = sizeof(RabitqBlockHead);
	Size		lane_word = RQ_BLOCK_LANES * sizeof(uint64_t);
	Size		extras;
	int			seg_max,
				tail_max;
	rq_segment_plan plan;

	g->dp = dp;
	g->words = rq_code_words(dp);
	g->key_bytes = key_bytes;
	extras = 4 * RQ_BLOCK_LANES * sizeof(float) + RQ_BLOCK_LANES * sizeof(ItemPointerData) +
		RQ_BLOCK_LANES + MAXALIGN((RABITQ_MAX_SEGMENTS - 1) * sizeof(ItemPointerData)) +
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
	g->off_tids = g->off_factors + 4 * RQ_BLOCK_LANES * sizeof(float);
	g->off_used = g->off_tids + RQ_BLOCK_LANES * sizeof(ItemPointerData);
	g->off_segs = g->off_used + RQ_BLOCK_LANES;
	g->off_keys = MAXALIGN(g->off_segs + (RABITQ_MAX_SEGMENTS - 1) * sizeof(ItemPointerData));
	g->tail_size = MAXALIGN(g->off_keys + (Size) RQ_BLOCK_LANES * key_bytes);
	Assert(g->tail_size <= RABITQ_ITEM_SPACE);
}

/* Entries (lanes) a list page holds with single-item records; 8 otherwise. */
int
RabitqEntriesPerPage(const RabitqGeometry *g)
{
	if (g->nseg > 1)
		return RQ_BLOCK_LANES;
	return (int) ((RABITQ_ITEM_SPACE + sizeof(ItemIdData)) / (g->tail_size + sizeof(ItemIdData))) *
		RQ_BLOCK_LANES;
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

/* The metric of the vector column's opclass (support function 1). */
rq_metric
RabitqIndexMetric(Relation index, int vector_attno)
{
	FmgrInfo   *proc = index_getprocinfo(index, vector_attno + 1, RABITQ_METRIC_PROC);

	return (rq_metric) DatumGetInt32(FunctionCall1(proc, PointerGetDatum(NULL)));
}

/* Dimensions of the indexed vector column (its typmod); ERROR without one. */
int
RabitqIndexDimensions(Relation index, int vector_attno)
{
	int			dim = TupleDescAttr(RelationGetDescr(index), vector_attno)->atttypmod;

	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_COLUMN_DEFINITION),
				 errmsg("column does not have dimensions"),
				 errhint("Declare the column as vector(n), or index an expression such as (embedding::vector(n)).")));
	return dim;
}

/* Reads the directory: where each list's entry lives (that never changes). */
static void
RabitqLoadDirectory(Relation index, BlockNumber start, RabitqCache *cache)
{
	BlockNumber blkno = start;
	int			list = 0;

	while (BlockNumberIsValid(blkno) && list < cache->lists)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		for (int i = 0; i < (int) RABITQ_DIR_ENTRIES && list < cache->lists; i++, list++)
		{
			cache->dir_page[list] = blkno;
			cache->dir_slot[list] = (uint16) i;
		}
		blkno = RabitqPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
	if (list != cache->lists)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("rabitq index \"%s\" has a short list directory", RelationGetRelationName(index)),
				 errhint("REINDEX the index.")));
}

/* Reads the flat centroid array. */
static void
RabitqLoadCentroids(Relation index, BlockNumber start, RabitqCache *cache)
{
	Size		total = (Size) cache->lists * cache->dp,
				done = 0;
	BlockNumber blkno = start;

	while (done < total)
	{
		Buffer		buf;
		Page		page;
		Size		n = Min(total - done, RABITQ_CENTROID_FLOATS);

		if (!BlockNumberIsValid(blkno))
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("rabitq index \"%s\" has a short centroid area", RelationGetRelationName(index)),
					 errhint("REINDEX the index.")));
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		memcpy(cache->centroids + done, PageGetContents(page), n * sizeof(float));
		done += n;
		blkno = RabitqPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
}

/* Builds the cache from the pages, in the index's own memory context. */
static RabitqCache *
RabitqBuildCache(Relation index, const RabitqMetaPageData *meta)
{
	MemoryContext old = MemoryContextSwitchTo(index->rd_indexcxt);
	RabitqCache *cache = palloc0(sizeof(RabitqCache));

	RabitqKeyLayoutInit(index, &cache->keys);
	if (cache->keys.vector_attno != meta->vector_attno || cache->keys.key_bytes != (int) meta->key_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("rabitq index \"%s\" does not match its columns", RelationGetRelationName(index)),
				 errhint("REINDEX the index.")));
	cache->posting_start = meta->posting_start;
	cache->posting_buckets = meta->posting_buckets;
	cache->build_id = meta->build_id;
	cache->dim = meta->dimensions;
	cache->dp = meta->padded_dim;
	cache->metric = (rq_metric) meta->metric;
	cache->lists = meta->lists;
	RabitqComputeGeometry(&cache->geom, cache->dp, meta->key_bytes);
	cache->signs = palloc(sizeof(float) * rq_rotation_fht_floats(cache->dp));
	rq_rotation_fht_generate(cache->dp, meta->rotation_seed, cache->signs);
	rq_rotation_init(&cache->rotation, RQ_ROTATION_FHT_KAC, cache->dim, cache->signs);
	cache->centroids = palloc(mul_size(sizeof(float), mul_size(cache->lists, cache->dp)));
	cache->centroid_norm2 = palloc(sizeof(float) * cache->lists);
	cache->dir_page = palloc(sizeof(BlockNumber) * cache->lists);
	cache->dir_slot = palloc(sizeof(uint16) * cache->lists);
	MemoryContextSwitchTo(old);

	RabitqLoadDirectory(index, meta->directory_start, cache);
	RabitqLoadCentroids(index, meta->centroid_start, cache);
	for (int l = 0; l < cache->lists; l++)
	{
		const float *c = cache->centroids + (Size) l * cache->dp;

		cache->centroid_norm2[l] = rq_dist.dot(c, c, cache->dp);
	}
	return cache;
}

/* Frees a cache built by RabitqBuildCache. */
static void
RabitqFreeCache(RabitqCache *cache)
{
	pfree(cache->signs);
	pfree(cache->centroids);
	pfree(cache->centroid_norm2);
	pfree(cache->dir_page);
	pfree(cache->dir_slot);
	pfree(cache);
}

/*
 * The index's cache, rebuilt when the metapage's build id differs from the
 * cached one (the metapage is read, and checked, on every call).
 */
RabitqCache *
RabitqGetCache(Relation index)
{
	RabitqMetaPageData meta = RabitqReadMeta(index);
	RabitqCache *cache = (RabitqCache *) index->rd_amcache;

	if (cache != NULL && cache->build_id == meta.build_id)
		return cache;
	if (cache != NULL)
		RabitqFreeCache(cache);
	index->rd_amcache = NULL;
	cache = RabitqBuildCache(index, &meta);
	index->rd_amcache = cache;
	return cache;
}

/* A copy of list's directory entry (its first page and insert hint). */
RabitqListEntry
RabitqReadListEntry(Relation index, const RabitqCache *cache, int list)
{
	Buffer		buf = ReadBuffer(index, cache->dir_page[list]);
	RabitqListEntry entry;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	entry = ((RabitqListEntry *) PageGetContents(BufferGetPage(buf)))[cache->dir_slot[list]];
	UnlockReleaseBuffer(buf);
	return entry;
}

/* The list whose rotated centroid is nearest (L2) to a rotated vector. */
int
RabitqNearestList(const RabitqCache *cache, const float *rotated)
{
	int			best = 0;
	float		best_d = INFINITY;

	for (int l = 0; l < cache->lists; l++)
	{
		float		d = cache->centroid_norm2[l] -
			2.0f * rq_dist.dot(rotated, cache->centroids + (Size) l * cache->dp, cache->dp);

		if (d < best_d)
		{
			best_d = d;
			best = l;
		}
	}
	return best;
}

/*
 * Checks a vector for the index (dimensions, and not zero for cosine),
 * preprocesses it into prep (D floats) and rotates it into rotated (Dp).
 * The errors go to whoever stores the value: scans never see such a row.
 */
void
RabitqPrepareVector(const RabitqCache *cache, Datum value, float *prep, float *rotated)
{
	Vector	   *vec = DatumGetVector(value);

	if (vec->dim != cache->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", cache->dim, vec->dim)));
	if (rq_preprocess(cache->metric, vec->x, cache->dim, prep) == RQ_ERR_ZERO_VECTOR)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("zero vector cannot be indexed with vector_cosine_ops"),
				 errdetail("Cosine distance is undefined for a vector whose elements are all zero."),
				 errhint("Store a non-zero vector, or use vector_l2_ops.")));
	rq_rotate(&cache->rotation, prep, rotated);
}

/*
 * Refuses an entry whose factors overflowed float: a finite vector of huge
 * magnitude (near 1e38 per element) whose squared distance from its centroid
 * is beyond float's range would give every scan infinite or NaN estimates.
 * Like RabitqPrepareVector's errors, this one goes to whoever stores the row.
 */
void
RabitqCheckFactors(const rq_factors *f)
{
	if (!isfinite(f->add) || !isfinite(f->a) || !isfinite(f->bc) || !isfinite(f->err))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("vector is too large for a rabitq index"),
				 errdetail("Its squared distance from the nearest list centroid is outside the range of type real."),
				 errhint("Scale the vector down (normalize it), or do not index it.")));
}

/* Points list's insert hint at blkno (one GenericXLog record). */
void
RabitqSetInsertHint(Relation index, const RabitqCache *cache, int list, BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(index, cache->dir_page[list]);
	GenericXLogState *state;
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	((RabitqListEntry *) PageGetContents(page))[cache->dir_slot[list]].insert_page = blkno;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
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

/* Raises list's largest residual norm to norm if it is smaller. */
void
RabitqRaiseMaxResidual(Relation index, const RabitqCache *cache, int list, float norm)
{
	Buffer		buf = ReadBuffer(index, cache->dir_page[list]);

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	if (((RabitqListEntry *) PageGetContents(BufferGetPage(buf)))[cache->dir_slot[list]].max_residual < norm)
	{
		GenericXLogState *state = GenericXLogStart(index);
		Page		page = GenericXLogRegisterBuffer(state, buf, 0);

		((RabitqListEntry *) PageGetContents(page))[cache->dir_slot[list]].max_residual = norm;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(buf);
}
