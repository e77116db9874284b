/*
 * rabitq_record.h
 *	  Block records, the items of list pages: the one module that knows
 *	  their layout.  Build, insert, scan, VACUUM, check and stats read and
 *	  write entries only through these functions.
 *
 * A block record holds up to RQ_BLOCK_LANES (8) entries in the core's
 * block layout (src/core/rq_estimate.h): codes word-major, so one 64-byte
 * load feeds eight estimates.  It is one page item when it fits (Dp up to
 * about 7,900); beyond that it is split into up to RABITQ_MAX_SEGMENTS
 * items by code-word ranges, on consecutive pages of the list's chain.
 * Every item starts with a RabitqBlockHead; the last ("tail") item holds,
 * after its code words:
 *
 *	 factors	 the block's factor area (RQ_BLOCK_FACTOR_BYTES: add and a as
 *				 floats, err as bfloat16)
 *	 tids		 8 heap TIDs
 *	 used		 8 lane flags (1: the lane holds an entry)
 *	 segs		 where the other items are (RABITQ_MAX_SEGMENTS - 1 TIDs; absent
 *				 from a one-item record)
 *	 ex			 where the lanes' ex-codes are (ex_bits > 0): one TID of an
 *				 ex item holding all 8 lanes, or, when 8 lanes do not fit a
 *				 page, 8 TIDs of one-lane items (invalid until the lane is
 *				 first filled)
 *	 keys		 8 key images of key_bytes (rabitq_keys.h), when the index
 *				 has key columns
 *
 * An ex-code lane (in an ex item on the list's ex-code chain, or in a
 * posting) is the entry's B-bit code (src/core/rq_exbits.h) followed by
 * three floats: the 1-bit factors' add, and the B-bit fr and err.
 *
 * Entries never move once written: VACUUM clears lanes, inserts refill
 * them, so a scan never sees a row twice or misses one.
 */
#ifndef VECRABITQ_RABITQ_RECORD_H
#define VECRABITQ_RABITQ_RECORD_H

#include "rabitq_format.h"

#include "port/pg_bitutils.h"

#include "core/rq_estimate.h"
#include "core/rq_exbits.h"

/*
 * Geometry of block records, fixed per index by Dp and the key area size:
 * item sizes and how the code words are split into segments.
 */
typedef struct RabitqGeometry
{
	int			dp;
	int			words;
	int			nseg;			/* items per block record */
	int			seg_words;		/* words of each non-tail segment */
	int			tail_words;		/* words of the tail item */
	int			key_bytes;		/* per lane */
	Size		seg_size;		/* bytes of a non-tail item */
	Size		tail_size;		/* bytes of the tail item */
	/* offsets inside the tail item */
	Size		off_codes;
	Size		off_factors;
	Size		off_tids;
	Size		off_used;
	Size		off_segs;
	Size		off_ex;
	Size		off_keys;
	/* ex-codes (all 0 when ex_bits is 0) */
	int			ex_bits;
	int			bits;			/* B = 1 + ex_bits */
	Size		ex_code_bytes;
	Size		ex_lane_size;	/* code + add, fr, err */
	int			ex_per_item;	/* lanes per ex item: 8, or 1 */
	Size		ex_item_size;
	int			ex_ptrs;		/* ex item TIDs in a tail: 8 / ex_per_item */
} RabitqGeometry;

/* What one lane holds. */
typedef struct RabitqLane
{
	const uint64_t *code;		/* the whole code (words) */
	rq_factors	f;
	ItemPointerData tid;
	const uint8 *key;			/* key image (key_bytes), or NULL without key columns */
	const uint8 *ex_code;		/* B-bit code (ex_bits > 0) */
	rq_ex_factors ex_f;
} RabitqLane;

/*
 * Lays out records for Dp bits, key_bytes of keys per lane and ex_bits; ERROR
 * when an entry cannot fit (the dimensions or ex_bits are too large).
 */
extern void RabitqComputeGeometry(RabitqGeometry *g, int dp, int key_bytes, int ex_bits);

/* Entries (lanes) a list page holds with one-item records; 8 otherwise. */
extern int	RabitqEntriesPerPage(const RabitqGeometry *g);

/* Bytes of item s (0 .. nseg - 1) of a record. */
static inline Size
RabitqItemSize(const RabitqGeometry *g, int s)
{
	return s == g->nseg - 1 ? g->tail_size : g->seg_size;
}

/*
 * Sets up item s of a new, empty record in item (RabitqItemSize bytes); a
 * tail records where the other items are (segs, nseg - 1 TIDs).
 */
extern void RabitqInitItem(const RabitqGeometry *g, char *item, int s, const ItemPointerData *segs);

/*
 * Writes an entry into lane of one item of its record: the code words the
 * item holds, and in the tail the factors, TID, keys and the used flag.
 */
extern void RabitqPutLane(const RabitqGeometry *g, char *item, int lane, const RabitqLane *e);

/* Empties lane of a tail item (VACUUM): flag cleared, TID invalid. */
extern void RabitqClearLane(const RabitqGeometry *g, char *tail, int lane);

/* Writes an entry's ex-code lane (code and factors) at dst. */
extern void RabitqPutExLane(const RabitqGeometry *g, char *dst, const RabitqLane *e);

/* An ex-code lane's code, the 1-bit factors' add and the B-bit factors. */
static inline const uint8 *
RabitqExLaneCode(const char *lane)
{
	return (const uint8 *) lane;
}

static inline void
RabitqExLaneFactors(const RabitqGeometry *g, const char *lane, float *add, rq_ex_factors *f)
{
	const float *x = (const float *) (lane + g->ex_code_bytes);

	*add = x[0];
	f->fr = x[1];
	f->err = x[2];
}

/* Item accessors. */
#define RabitqItemHead(item)		((RabitqBlockHead *) (item))
#define RabitqItemIsTail(item)		((((const RabitqBlockHead *) (item))->flags & RABITQ_BLOCK_TAIL) != 0)
#define RabitqItemCodes(item)		((uint64_t *) ((char *) (item) + sizeof(RabitqBlockHead)))
#define RabitqTailTids(g, item)		((ItemPointerData *) ((char *) (item) + (g)->off_tids))
#define RabitqTailUsed(g, item)		((uint8 *) ((char *) (item) + (g)->off_used))
#define RabitqTailSegs(g, item)		((ItemPointerData *) ((char *) (item) + (g)->off_segs))
#define RabitqTailEx(g, item)		((ItemPointerData *) ((char *) (item) + (g)->off_ex))
#define RabitqTailFactors(g, item)	((void *) ((char *) (item) + (g)->off_factors))
#define RabitqTailKey(g, item, lane) \
	((uint8 *) ((char *) (item) + (g)->off_keys + (Size) (lane) * (g)->key_bytes))

static inline rq_factors
RabitqTailGetFactors(const RabitqGeometry *g, const char *tail, int lane)
{
	return rq_block_get_factors(RabitqTailFactors(g, tail), lane);
}

/* The TID of the ex item that holds lane's ex-code, in a tail. */
static inline ItemPointer
RabitqTailExItem(const RabitqGeometry *g, char *tail, int lane)
{
	return &RabitqTailEx(g, tail)[g->ex_per_item == 1 ? lane : 0];
}

/* Where lane's ex-code starts inside its ex item. */
static inline Size
RabitqExLaneOffset(const RabitqGeometry *g, int lane)
{
	return g->ex_per_item == 1 ? 0 : (Size) lane * g->ex_lane_size;
}

/* Bytes of a posting: the heap TID and hash, and the ex-code lane with ex_bits > 0. */
static inline Size
RabitqPostingSize(const RabitqGeometry *g)
{
	return sizeof(RabitqPosting) + g->ex_lane_size;
}

/*
 * The lanes of a tail item that hold an entry, as a bit mask: the eight
 * 0/1 flags gathered by one multiplication (flag l lands in bit 56 + l).
 */
static inline uint8
RabitqUsedLanes(const RabitqGeometry *g, const char *tail)
{
	uint64		flags;

	StaticAssertStmt(RQ_BLOCK_LANES == 8, "eight lane flags make one 64-bit word");
	memcpy(&flags, RabitqTailUsed(g, tail), sizeof(flags));
	return (uint8) (((flags & UINT64CONST(0x0101010101010101)) * UINT64CONST(0x0102040810204080)) >> 56);
}

/* Iterates lane over the set bits of an 8-bit mask, lowest first. */
#define RabitqForEachLane(lane, mask) \
	for (uint32 lanes_ = (mask); lanes_ != 0 && ((lane) = pg_rightmost_one_pos32(lanes_), true); \
		 lanes_ &= lanes_ - 1)

/* The lanes of a list page's tail items, used or free (RabitqLaneIterStart). */
typedef struct RabitqLaneIter
{
	Page		page;
	bool		free_lanes;		/* iterate the free lanes instead of the used */
	OffsetNumber off;			/* the current item */
	OffsetNumber maxoff;
	uint8		pending;		/* lanes of the current item not yet returned */
	char	   *tail;			/* out: the current tail item */
	int			lane;			/* out: the current lane */
} RabitqLaneIter;

extern void RabitqLaneIterStart(RabitqLaneIter *it, Page page, bool free_lanes);

/* The next lane (it->tail, it->off, it->lane); false when the page has no more. */
extern bool RabitqLaneIterNext(const RabitqGeometry *g, RabitqLaneIter *it);

#endif							/* VECRABITQ_RABITQ_RECORD_H */
