/*
 * rabitq_cache.c
 *	  What a backend keeps per index (rd_amcache): the codec (rotation and
 *	  centroids), the key layout, the record geometry and where each list's
 *	  directory entry lives.  Rebuilt when the metapage's build id changes.
 */
#include "postgres.h"

#include "access/genam.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "rabitq.h"

/* What support function 1 of the vector column's opclass says: metric, RABITQ_HALF. */
static int32
ColumnKind(Relation index, int vector_attno)
{
	FmgrInfo   *proc = index_getprocinfo(index, vector_attno + 1, RABITQ_METRIC_PROC);

	return DatumGetInt32(FunctionCall1(proc, PointerGetDatum(NULL)));
}

/* The metric of the vector column's opclass. */
rq_metric
RabitqIndexMetric(Relation index, int vector_attno)
{
	return (rq_metric) (ColumnKind(index, vector_attno) & ~RABITQ_HALF);
}

/* Whether the vector column holds half floats (pgvector's halfvec). */
bool
RabitqIndexHalf(Relation index, int vector_attno)
{
	return (ColumnKind(index, vector_attno) & RABITQ_HALF) != 0;
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

/* Builds the cache from the pages, in a context of its own under the index's. */
static RabitqCache *
RabitqBuildCache(Relation index, const RabitqMetaPageData *meta)
{
	MemoryContext cxt = AllocSetContextCreate(index->rd_indexcxt, "rabitq cache", ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	RabitqCache *cache = palloc0(sizeof(RabitqCache));
	int			lists = meta->lists;
	float	   *centroids;

	RabitqKeyLayoutInit(index, &cache->keys);
	if (cache->keys.vector_attno != meta->vector_attno || cache->keys.key_bytes != (int) meta->key_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("rabitq index \"%s\" does not match its columns", RelationGetRelationName(index)),
				 errhint("REINDEX the index.")));
	cache->cxt = cxt;
	cache->recent = palloc0(sizeof(RabitqRecent));
	cache->posting_start = meta->posting_start;
	cache->posting_buckets = meta->posting_buckets;
	cache->build_id = meta->build_id;
	RabitqCodecInit(&cache->codec, meta->dimensions, (rq_metric) meta->metric,
					RabitqIndexHalf(index, cache->keys.vector_attno), meta->rotation_seed, meta->ex_bits);
	RabitqComputeGeometry(&cache->geom, cache->codec.dp, meta->key_bytes, meta->ex_bits);
	centroids = palloc(mul_size(sizeof(float), mul_size(lists, cache->codec.dp)));
	cache->dir_page = palloc(sizeof(BlockNumber) * lists);
	cache->dir_slot = palloc(sizeof(uint16) * lists);
	RabitqReadArray(index, meta->centroid_start, sizeof(float), (Size) lists * cache->codec.dp,
					centroids, NULL);
	/* the directory's entries stay on their pages: only where each one is */
	RabitqReadArray(index, meta->directory_start, sizeof(RabitqListEntry), lists, NULL, cache->dir_page);
	for (int l = 0; l < lists; l++)
		cache->dir_slot[l] = (uint16) (l % RABITQ_DIR_ENTRIES_PER_PAGE);
	RabitqCodecSetCentroids(&cache->codec, lists, centroids);
	MemoryContextSwitchTo(old);
	return cache;
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
	index->rd_amcache = NULL;
	if (cache != NULL)
		MemoryContextDelete(cache->cxt);
	cache = RabitqBuildCache(index, &meta);
	index->rd_amcache = cache;
	return cache;
}

/* index blocks whose last buffer a backend remembers (4 bytes each) */
#define RABITQ_RECENT_MAX_BLOCKS (1 << 22)

/*
 * Reads block blkno of the index's main fork like ReadBuffer, trying first
 * the buffer that held it when this backend last read it: ReadRecentBuffer
 * pins that buffer if it still holds the block, without a lookup in the
 * shared buffer mapping table, which costs a scan that reads hundreds of
 * index pages more than its estimates do.
 */
Buffer
RabitqReadBuffer(Relation index, const RabitqCache *cache, BlockNumber blkno)
{
	RabitqRecent *r = cache->recent;
	Buffer		buf;

	if (blkno < r->size && BufferIsValid(r->buffers[blkno]) &&
		ReadRecentBuffer(index->rd_node, MAIN_FORKNUM, blkno, r->buffers[blkno]))
		return r->buffers[blkno];
	buf = ReadBuffer(index, blkno);
	if (blkno >= r->size && blkno < RABITQ_RECENT_MAX_BLOCKS)
	{
		uint32		size = Min(Max(blkno + 1, r->size * 2), RABITQ_RECENT_MAX_BLOCKS);

		r->buffers = r->buffers ? repalloc(r->buffers, sizeof(Buffer) * size)
			: MemoryContextAlloc(cache->cxt, sizeof(Buffer) * size);
		for (uint32 b = r->size; b < size; b++)
			r->buffers[b] = InvalidBuffer;
		r->size = size;
	}
	if (blkno < r->size)
		r->buffers[blkno] = buf;
	return buf;
}
