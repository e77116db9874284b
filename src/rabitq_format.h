/*
 * rabitq_format.h
 *	  The on-disk format of a rabitq index (format version 4): every struct
 *	  stored on a page and every page capacity derived from one.  The block
 *	  records of the lists are laid out by rabitq_record.h, key images by
 *	  rabitq_keys.h.
 *
 * All pages are in the main fork (and the init fork of an unlogged index):
 *
 *	 block 0	  metapage: magic, format version, dimensions, metric, list
 *				  count, rotation (FHT-Kac seed), where the areas start
 *	 directory	  a chain of pages holding an array of RabitqListEntry, one
 *				  per list: first page of the list and the insert hint
 *	 centroids	  a chain of pages holding one flat float array: list l's
 *				  rotated centroid is floats [l * Dp, (l + 1) * Dp)
 *	 lists		  one chain of pages per list; each item on a list page is a
 *				  block record (or a segment of one) of RQ_BLOCK_LANES (8)
 *				  entries in the core's block layout (src/core/rq_estimate.h)
 *	 ex-codes	  (ex_bits > 0) a second chain per list, of the entries'
 *				  B-bit codes (B = 1 + ex_bits), stored apart so that a scan's
 *				  first pass reads only the compact 1-bit pages; each block
 *				  record's tail says where its lanes' ex-codes are
 *	 postings	  (indexes with key columns) `posting_buckets` chains whose
 *				  head pages are consecutive from `posting_start`; each
 *				  posting is (key hash, heap TID) and, with ex_bits > 0, the
 *				  row's B-bit code taken from the origin
 *
 * Every page has RabitqPageOpaqueData in its special space.
 */
#ifndef VECRABITQ_RABITQ_FORMAT_H
#define VECRABITQ_RABITQ_FORMAT_H

#include "postgres.h"

#include "storage/bufpage.h"
#include "storage/itemptr.h"

#define RABITQ_MAGIC			0x52425451	/* "RBTQ" */
#define RABITQ_FORMAT_VERSION	4
#define RABITQ_METAPAGE_BLKNO	0
#define RABITQ_PAGE_ID			0xFF91		/* in every page's special space */

#define RABITQ_MAX_LISTS		32768
#define RABITQ_MAX_SEGMENTS		3		/* items of one block record at most */

/* Page kinds (RabitqPageOpaque.kind). */
#define RABITQ_PAGE_META		1
#define RABITQ_PAGE_DIRECTORY	2
#define RABITQ_PAGE_CENTROIDS	3
#define RABITQ_PAGE_LIST		4
#define RABITQ_PAGE_POSTING		5
#define RABITQ_PAGE_EXCODES		6

typedef struct RabitqPageOpaqueData
{
	BlockNumber next;			/* next page of this chain, or InvalidBlockNumber */
	uint16		kind;			/* RABITQ_PAGE_* */
	uint16		page_id;		/* RABITQ_PAGE_ID */
} RabitqPageOpaqueData;

typedef RabitqPageOpaqueData *RabitqPageOpaque;

#define RabitqPageGetOpaque(page) ((RabitqPageOpaque) PageGetSpecialPointer(page))

/*
 * Asks the CPU to load every cache line of the size bytes at start (the
 * last byte's line too, whatever start's alignment).  This and the macro
 * below are macros: GCC deems a function that only prefetches free of
 * effects and drops the calls.
 */
#define RabitqPrefetchRange(start, size) \
	do { \
		const char *start_ = (const char *) (start); \
		Size		size_ = (size); \
		\
		for (Size off_ = 0; off_ < size_; off_ += 64) \
			__builtin_prefetch(start_ + off_); \
		if (size_ > 0) \
			__builtin_prefetch(start_ + size_ - 1); \
	} while (0)

/*
 * Asks the CPU to load what finding item off on a pinned page reads first:
 * the page header, off's line pointer and the special space (at the page's
 * end on every rabitq page).  Scans issue it for the pages they read next
 * so that first touches overlap instead of each waiting on memory.
 */
#define RabitqPrefetchPageHead(page, off) \
	do { \
		__builtin_prefetch((char *) (page)); \
		__builtin_prefetch((char *) PageGetItemId((page), (off))); \
		__builtin_prefetch((char *) (page) + BLCKSZ - sizeof(RabitqPageOpaqueData)); \
	} while (0)

/* Bytes of a page for contents: after the header, before the special space. */
#define RABITQ_PAGE_SPACE \
	(BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(RabitqPageOpaqueData)))

/* Usable bytes of one page item (an empty list page takes one item this large). */
#define RABITQ_ITEM_SPACE (RABITQ_PAGE_SPACE - sizeof(ItemIdData))

/* Elements of `size` bytes an array chain page holds (directory, centroids). */
#define RABITQ_ARRAY_PER_PAGE(size) (RABITQ_PAGE_SPACE / (size))

typedef struct RabitqMetaPageData
{
	uint32		magic;
	uint32		version;
	uint32		dimensions;		/* D */
	uint32		padded_dim;		/* Dp */
	uint32		metric;			/* rq_metric */
	uint32		rotation_kind;	/* RQ_ROTATION_FHT_KAC */
	uint64		rotation_seed;
	uint64		build_id;		/* changes at every build: the cache key */
	uint32		lists;
	BlockNumber directory_start;
	BlockNumber centroid_start;
	uint32		key_bytes;		/* per-lane key area (0: no key columns) */
	double		build_residual2;	/* mean squared residual norm at build */
	int64		build_rows;		/* rows indexed by the build */
	uint16		vector_attno;	/* index column (0-based) of the vector */
	uint16		key_columns;	/* other (key) columns */
	BlockNumber posting_start;	/* head page of posting bucket 0 */
	uint32		posting_buckets;	/* a power of two; 0 without key columns */
	uint32		ex_bits;		/* bits per dimension beyond the 1-bit code (0: none) */
} RabitqMetaPageData;

typedef RabitqMetaPageData *RabitqMetaPage;

#define RabitqPageGetMeta(page) ((RabitqMetaPage) PageGetContents(page))

/* One list's directory entry. */
typedef struct RabitqListEntry
{
	BlockNumber first_page;		/* head of the list's chain */
	BlockNumber insert_page;	/* hint: first page that may have a free lane */
	float		max_residual;	/* largest |o - c| of the list (only grows) */
	BlockNumber ex_first;		/* head of the list's ex-code chain (ex_bits > 0) */
	BlockNumber ex_last;		/* hint: its last page, where new ex-code items go */
} RabitqListEntry;

#define RABITQ_DIR_ENTRIES_PER_PAGE RABITQ_ARRAY_PER_PAGE(sizeof(RabitqListEntry))
#define RABITQ_CENTROID_FLOATS_PER_PAGE RABITQ_ARRAY_PER_PAGE(sizeof(float))

/*
 * Header of a list page item: a block record, or one segment of a record
 * too large for a page (8 bytes, so the codes that follow are 8-aligned).
 */
typedef struct RabitqBlockHead
{
	uint16		flags;			/* RABITQ_BLOCK_TAIL on the record's last item */
	uint16		word_begin;		/* first code word in this item */
	uint16		word_end;		/* one past the last */
	uint16		nseg;			/* items of the whole record */
} RabitqBlockHead;

#define RABITQ_BLOCK_TAIL		0x0001

/*
 * A posting page: a header, then postings.  The head page of a bucket also
 * records the chain's last page, where inserts append.
 */
typedef struct RabitqPostingHeader
{
	uint64		bloom[4];		/* bits (hash & 255) and ((hash >> 8) & 255) */
	BlockNumber tail;			/* head page: the chain's last page */
	uint16		count;			/* postings on this page */
	uint16		unused;
} RabitqPostingHeader;

/*
 * A posting: with ex_bits > 0 followed by an ex-code lane (rabitq_record.h)
 * of the row's rotated vector taken from the origin, so a small tenant is
 * ranked from its postings alone.
 */
typedef struct RabitqPosting
{
	uint32		hash;			/* low 32 bits of the key image's hash */
	ItemPointerData tid;
} RabitqPosting;

/* Postings of posting_size bytes a page holds. */
#define RABITQ_POSTINGS_PER_PAGE(posting_size) \
	((int) ((RABITQ_PAGE_SPACE - sizeof(RabitqPostingHeader)) / (posting_size)))

/*
 * The sizes the planner and the chains count on (rabitq_cost.c prices
 * posting pages by RABITQ_POSTINGS_PER_PAGE of RabitqPostingSize): a
 * compiler that pads these structs differently would change the format, so
 * it must not build.
 */
StaticAssertDecl(sizeof(RabitqPageOpaqueData) == 8, "page opaque is 8 bytes");
StaticAssertDecl(sizeof(RabitqListEntry) == 20, "directory entries are 20 bytes");
StaticAssertDecl(sizeof(RabitqBlockHead) == 8, "block heads are 8 bytes");
StaticAssertDecl(sizeof(RabitqPostingHeader) == 40, "posting page headers are 40 bytes");
StaticAssertDecl(sizeof(RabitqPosting) == 12, "postings are 12 bytes (4-byte hash, 6-byte TID, padding)");
StaticAssertDecl(sizeof(RabitqMetaPageData) <= RABITQ_PAGE_SPACE, "the metapage fits a page");

#endif							/* VECRABITQ_RABITQ_FORMAT_H */
