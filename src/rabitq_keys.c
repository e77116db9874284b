/*
 * rabitq_keys.c
 *	  Key columns of a multi-column rabitq index (doc/DESIGN.md 7, doc/RLS.md 2):
 *	  which column is the vector, how the other columns' values are stored
 *	  exactly in a lane's key image, and a scan's equality conditions turned
 *	  into per-column sets of accepted images.
 *
 * Every supported key type has an image whose bytes are equal exactly when
 * the values are equal under the opclass's `=`: uuid as its 16 bytes,
 * int2/int4/int8 as an int64 (so the cross-type operators of the integer
 * family compare the same way), text under a deterministic collation as its
 * bytes (texteq compares bytes then).  Filtering is therefore a memcmp, and
 * the executor rechecks the original conditions anyway (xs_recheck).
 */
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/uuid.h"

#include "rabitq.h"

/* The stored form of each key type. */
static RabitqKeyKind
KeyKind(Relation index, int attno)
{
	Oid			type = index->rd_opcintype[attno];

	switch (type)
	{
		case UUIDOID:
			return RABITQ_KEY_UUID;
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return RABITQ_KEY_INT;
		case TEXTOID:
			if (!OidIsValid(index->rd_indcollation[attno]) ||
				!get_collation_isdeterministic(index->rd_indcollation[attno]))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("rabitq key columns of type text need a deterministic collation"),
						 errhint("Index the column with COLLATE \"C\" or another deterministic collation.")));
			return RABITQ_KEY_TEXT;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("rabitq cannot use a key column of type %s", format_type_be(type)),
					 errhint("Key columns may be uuid, smallint, integer, bigint or text.")));
	}
	return RABITQ_KEY_UUID;		/* not reached */
}

static int
KeySize(RabitqKeyKind kind)
{
	StaticAssertStmt((1 + RABITQ_TEXT_KEY_MAX) % 8 == 0, "key slots are compared in 8-byte words");
	return kind == RABITQ_KEY_UUID ? 16 : (kind == RABITQ_KEY_INT ? 8 : 1 + RABITQ_TEXT_KEY_MAX);
}

/*
 * The layout of the index's columns: exactly one vector column (its opclass
 * has the metric support function), up to RABITQ_MAX_KEY_COLUMNS others.
 */
void
RabitqKeyLayoutInit(Relation index, RabitqKeyLayout *layout)
{
	int			ncols = IndexRelationGetNumberOfKeyAttributes(index);

	memset(layout, 0, sizeof(*layout));
	layout->vector_attno = -1;
	layout->key_bytes = 1;		/* the NULL bitmap */
	for (int attno = 0; attno < ncols; attno++)
	{
		RabitqKeyColumn *col;

		if (OidIsValid(index_getprocid(index, attno + 1, RABITQ_METRIC_PROC)))
		{
			if (layout->vector_attno >= 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("a rabitq index has exactly one vector column")));
			layout->vector_attno = attno;
			continue;
		}
		if (layout->nkeys == RABITQ_MAX_KEY_COLUMNS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("a rabitq index can have at most %d key columns besides the vector",
							RABITQ_MAX_KEY_COLUMNS)));
		col = &layout->col[layout->nkeys++];
		col->attno = attno;
		col->type = index->rd_opcintype[attno];
		col->kind = KeyKind(index, attno);
		col->offset = layout->key_bytes;
		col->size = KeySize(col->kind);
		layout->key_bytes += col->size;
	}
	if (layout->vector_attno < 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a rabitq index needs a vector column"),
				 errhint("Index a vector column with vector_l2_ops, vector_ip_ops or vector_cosine_ops.")));
	if (layout->nkeys == 0)
		layout->key_bytes = 0;
}

/* An integer of type `type` (int2, int4 or int8) as an int64. */
static int64
IntValue(Datum value, Oid type)
{
	if (type == INT2OID)
		return DatumGetInt16(value);
	if (type == INT4OID)
		return DatumGetInt32(value);
	return DatumGetInt64(value);
}

/*
 * Writes value (of type `type`) into slot as the column's image; false if no
 * stored value can equal it (a text longer than any stored key).
 */
static bool
SlotImage(const RabitqKeyColumn *col, Datum value, Oid type, uint8 *slot)
{
	memset(slot, 0, col->size);
	if (col->kind == RABITQ_KEY_UUID)
		memcpy(slot, DatumGetUUIDP(value)->data, 16);
	else if (col->kind == RABITQ_KEY_INT)
	{
		int64		v = IntValue(value, type);

		memcpy(slot, &v, sizeof(v));
	}
	else
	{
		text	   *t = DatumGetTextPP(value);
		int			len = VARSIZE_ANY_EXHDR(t);

		if (len > RABITQ_TEXT_KEY_MAX)
			return false;
		slot[0] = (uint8) len;
		memcpy(slot + 1, VARDATA_ANY(t), len);
	}
	return true;
}

/* Fills image from a row's index values: 1, or 0 if a key is NULL, -1 if a text key is too long. */
static int
FillKeyImage(const RabitqKeyLayout *layout, const Datum *values, const bool *isnull, uint8 *image)
{
	int			result = 1;

	memset(image, 0, layout->key_bytes);
	for (int k = 0; k < layout->nkeys; k++)
	{
		const RabitqKeyColumn *col = &layout->col[k];

		if (isnull[col->attno])
		{
			image[0] |= (uint8) (1 << k);
			result = Min(result, 0);
		}
		else if (!SlotImage(col, values[col->attno], col->type, image + col->offset))
			result = -1;
	}
	return result;
}

/*
 * The lane key image of a row being stored (index column values); returns
 * false if a key is NULL (such a row never matches an equality condition).
 * A text key longer than RABITQ_TEXT_KEY_MAX bytes is an error for whoever
 * stores it.
 */
bool
RabitqKeyImage(const RabitqKeyLayout *layout, const Datum *values, const bool *isnull, uint8 *image)
{
	int			result = FillKeyImage(layout, values, isnull, image);

	if (result < 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("rabitq key values of type text are limited to %d bytes", RABITQ_TEXT_KEY_MAX),
				 errhint("Use a shorter key, or a uuid or integer key column.")));
	return result > 0;
}

/* Whether a row (index column values read by a scan) meets the filter; never an error. */
bool
RabitqKeyRowMatches(const RabitqKeyLayout *layout, const RabitqKeyFilter *filter,
					const Datum *values, const bool *isnull)
{
	uint8		image[1 + RABITQ_MAX_KEY_COLUMNS * (1 + RABITQ_TEXT_KEY_MAX)];

	if (FillKeyImage(layout, values, isnull, image) < 0)
		return false;
	return RabitqKeyMatches(layout, filter, image);
}

/* The hash of a full key image (no NULLs), for the postings. */
uint64
RabitqKeyHash(const RabitqKeyLayout *layout, const uint8 *image)
{
	return hash_bytes_extended(image + 1, layout->key_bytes - 1, 0);
}

/* The key column number (into layout->col) of index column attno, or -1. */
static int
KeyNumber(const RabitqKeyLayout *layout, int attno)
{
	for (int k = 0; k < layout->nkeys; k++)
		if (layout->col[k].attno == attno)
			return k;
	return -1;
}

/* The accepted images of one scan key: the value, or the array's non-NULL elements. */
static int
ScanKeyImages(const RabitqKeyColumn *col, ScanKey key, uint8 **images)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems,
				n = 0;
	Oid			type = OidIsValid(key->sk_subtype) ? key->sk_subtype : col->type;

	if (!(key->sk_flags & SK_SEARCHARRAY))
	{
		*images = palloc(col->size);
		return SlotImage(col, key->sk_argument, type, *images) ? 1 : 0;
	}
	{
		ArrayType  *array = DatumGetArrayTypeP(key->sk_argument);
		int16		elmlen;
		bool		elmbyval;
		char		elmalign;

		type = ARR_ELEMTYPE(array);
		get_typlenbyvalalign(type, &elmlen, &elmbyval, &elmalign);
		deconstruct_array(array, type, elmlen, elmbyval, elmalign, &elems, &nulls, &nelems);
	}
	*images = palloc(mul_size(Max(nelems, 1), col->size));
	for (int i = 0; i < nelems; i++)
		if (!nulls[i] && SlotImage(col, elems[i], type, *images + (Size) n * col->size))
			n++;
	return n;
}

/* memcmp order of slot images of `size` bytes (arg), for sorting and searching. */
static int
CompareSlots(const void *a, const void *b, void *arg)
{
	return memcmp(a, b, *(const int *) arg);
}

/* Interrupt checks per this many images merged or deduplicated. */
#define RABITQ_KEY_CHUNK 4096

/*
 * Sorts n images (memcmp order) and drops duplicates; returns how many are
 * left.  A tenant may send `= ANY` arrays of millions of values, so the sort
 * can be cancelled and the rest is linear.
 */
static int
SortUnique(uint8 *images, int n, int size)
{
	int			kept = 0;

	qsort_interruptible(images, n, size, CompareSlots, &size);
	for (int i = 0; i < n; i++)
	{
		if (kept == 0 || memcmp(images + (Size) (kept - 1) * size, images + (Size) i * size, size) != 0)
			memmove(images + (Size) kept++ * size, images + (Size) i * size, size);
		if (i % RABITQ_KEY_CHUNK == RABITQ_KEY_CHUNK - 1)
			CHECK_FOR_INTERRUPTS();
	}
	return kept;
}

/*
 * Keeps in `have` (n sorted unique images) only those also in `with` (m
 * sorted unique images), by one merge; returns how many.
 */
static int
Intersect(uint8 *have, int n, const uint8 *with, int m, int size)
{
	int			kept = 0,
				i = 0,
				j = 0;

	while (i < n && j < m)
	{
		int			cmp = memcmp(have + (Size) i * size, with + (Size) j * size, size);

		if (cmp == 0)
			memmove(have + (Size) kept++ * size, have + (Size) i * size, size);
		i += (cmp <= 0);
		j += (cmp >= 0);
		if ((i + j) % RABITQ_KEY_CHUNK == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return kept;
}

/*
 * The conditions of a scan on the key columns: per column, the images a row
 * may have, sorted and unique (the intersection of every condition on it, as
 * the planner does not merge redundant or contradictory keys).  Integer scan keys are typed
 * by sk_subtype (cross-type operators); an absent subtype means the column's
 * own type, whose image is taken the same way.
 */
void
RabitqKeyFilterInit(const RabitqKeyLayout *layout, ScanKey keys, int nkeys, RabitqKeyFilter *filter)
{
	memset(filter, 0, sizeof(*filter));
	for (int i = 0; i < nkeys; i++)
	{
		ScanKey		key = &keys[i];
		int			k = KeyNumber(layout, key->sk_attno - 1);
		const RabitqKeyColumn *col;
		uint8	   *images;
		int			n,
					c;

		if (k < 0)
			continue;			/* not a key column: the executor checks it */
		col = &layout->col[k];
		if (key->sk_flags & SK_ISNULL)
		{
			filter->empty = true;	/* x = NULL matches nothing */
			continue;
		}
		n = SortUnique(images, ScanKeyImages(col, key, &images), col->size);
		for (c = 0; c < filter->ncons && filter->cons[c].keyno != k; c++)
			;
		if (c == filter->ncons)
		{
			filter->cons[c].keyno = k;
			filter->cons[c].nvalues = n;
			filter->cons[c].values = images;
			filter->ncons++;
		}
		else
			filter->cons[c].nvalues = Intersect(filter->cons[c].values, filter->cons[c].nvalues,
												images, n, col->size);
		if (filter->cons[c].nvalues == 0)
			filter->empty = true;
	}
}

/*
 * When every key column has a condition, writes the full key images the
 * filter accepts (every combination of the columns' values) and returns
 * how many; -1 if some column is unconstrained or there would be more than
 * max_images.
 */
int
RabitqKeyFilterImages(const RabitqKeyLayout *layout, const RabitqKeyFilter *filter, int max_images,
					  uint8 *images)
{
	int			total = 1;
	int			choice[RABITQ_MAX_KEY_COLUMNS] = {0};

	if (filter->ncons < layout->nkeys)
		return -1;
	for (int c = 0; c < filter->ncons; c++)
	{
		if (filter->cons[c].nvalues > max_images || total * filter->cons[c].nvalues > max_images)
			return -1;
		total *= filter->cons[c].nvalues;
	}
	for (int i = 0; i < total; i++)
	{
		uint8	   *image = images + (Size) i * layout->key_bytes;
		int			rest = i;

		memset(image, 0, layout->key_bytes);
		for (int c = 0; c < filter->ncons; c++)
		{
			const RabitqKeyColumn *col = &layout->col[filter->cons[c].keyno];

			choice[c] = rest % filter->cons[c].nvalues;
			rest /= filter->cons[c].nvalues;
			memcpy(image + col->offset, filter->cons[c].values + (Size) choice[c] * col->size,
				   col->size);
		}
	}
	return total;
}
