/*
 * rabitq_keys.h
 *	  Key columns of a multi-column rabitq index (doc/DESIGN.md 7,
 *	  doc/RLS.md 2): which index column is the vector, how the other
 *	  columns' values are stored exactly in a lane's key image, and a scan's
 *	  equality conditions as per-column sets of accepted images.
 */
#ifndef VECRABITQ_RABITQ_KEYS_H
#define VECRABITQ_RABITQ_KEYS_H

#include "postgres.h"

#include "access/skey.h"
#include "utils/relcache.h"

/* Key columns: at most 8 besides the vector; text keys up to 63 bytes. */
#define RABITQ_MAX_KEY_COLUMNS	8
#define RABITQ_TEXT_KEY_MAX		63

/* How key-column values are stored in a lane's key image. */
typedef enum RabitqKeyKind
{
	RABITQ_KEY_UUID = 1,		/* 16 bytes */
	RABITQ_KEY_INT,				/* int2, int4, int8 as int64: 8 bytes */
	RABITQ_KEY_TEXT				/* length byte + up to 63 bytes, zero padded */
} RabitqKeyKind;

typedef struct RabitqKeyColumn
{
	int			attno;			/* index column, 0-based */
	Oid			type;			/* the opclass's input type (the values' type) */
	RabitqKeyKind kind;
	int			offset;			/* in the key image */
	int			size;
} RabitqKeyColumn;

/*
 * Which index column is the vector and how the others (keys) are laid out
 * in a lane's key image: byte 0 has bit i set when key column i is NULL,
 * then each column's slot.  key_bytes is 0 without key columns.
 */
typedef struct RabitqKeyLayout
{
	int			vector_attno;
	int			nkeys;
	int			key_bytes;
	RabitqKeyColumn col[RABITQ_MAX_KEY_COLUMNS];
} RabitqKeyLayout;

/*
 * A scan's key conditions, per key column the set of values (slot images,
 * sorted in memcmp order and unique) a row may have; a column without
 * conditions accepts anything.
 */
typedef struct RabitqKeyFilter
{
	bool		empty;			/* contradictory or NULL conditions: nothing matches */
	int			ncons;
	struct
	{
		int			keyno;		/* index into RabitqKeyLayout.col */
		int			nvalues;
		uint8	   *values;		/* nvalues slot images */
	}			cons[RABITQ_MAX_KEY_COLUMNS];
} RabitqKeyFilter;

extern void RabitqKeyLayoutInit(Relation index, RabitqKeyLayout *layout);
extern bool RabitqKeyImage(const RabitqKeyLayout *layout, const Datum *values, const bool *isnull,
						   uint8 *image);
extern uint64 RabitqKeyHash(const RabitqKeyLayout *layout, const uint8 *image);
extern void RabitqKeyFilterInit(const RabitqKeyLayout *layout, ScanKey keys, int nkeys,
								RabitqKeyFilter *filter);
extern bool RabitqKeyRowMatches(const RabitqKeyLayout *layout, const RabitqKeyFilter *filter,
								const Datum *values, const bool *isnull);
extern int	RabitqKeyFilterImages(const RabitqKeyLayout *layout, const RabitqKeyFilter *filter,
								  int max_images, uint8 *images);

/* Whether two key slots are equal; slot sizes are multiples of 8 bytes. */
static inline bool
RabitqKeySlotEqual(const uint8 *a, const uint8 *b, int size)
{
	uint64		diff = 0;

	for (int i = 0; i < size; i += 8)
	{
		uint64		x,
					y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		diff |= x ^ y;
	}
	return diff == 0;
}

/* Values of a condition compared one by one; more are searched by halving. */
#define RABITQ_KEY_LINEAR_VALUES 8

/*
 * Whether a slot is among a condition's n values (sorted in memcmp order,
 * unique): a few word compares for the usual one value, a binary search for
 * a long `= ANY` list, so no array a tenant sends costs more than
 * log2(its length) compares per entry.
 */
static inline bool
RabitqKeyValueIn(const uint8 *slot, const uint8 *values, int n, int size)
{
	int			lo = 0,
				hi = n;

	if (n <= RABITQ_KEY_LINEAR_VALUES)
	{
		for (int v = 0; v < n; v++)
			if (RabitqKeySlotEqual(slot, values + (Size) v * size, size))
				return true;
		return false;
	}
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			cmp = memcmp(values + (Size) mid * size, slot, size);

		if (cmp == 0)
			return true;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * Whether a lane's key image meets every condition (once per live lane of a
 * probed list, so inline).
 */
static inline bool
RabitqKeyMatches(const RabitqKeyLayout *layout, const RabitqKeyFilter *filter, const uint8 *image)
{
	for (int c = 0; c < filter->ncons; c++)
	{
		const RabitqKeyColumn *col = &layout->col[filter->cons[c].keyno];

		if (image[0] & (1 << filter->cons[c].keyno))
			return false;
		if (!RabitqKeyValueIn(image + col->offset, filter->cons[c].values, filter->cons[c].nvalues,
							  col->size))
			return false;
	}
	return true;
}

#endif							/* VECRABITQ_RABITQ_KEYS_H */
