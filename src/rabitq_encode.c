/*
 * rabitq_encode.c
 *	  The codec of an index: its rotation and centroids, and the one place
 *	  where a row's vector becomes an entry (src/core/rq_encode.h) and where
 *	  the errors of that go to whoever stores the row.  Build, insert and
 *	  check all encode through it, so the checker verifies an entry with the
 *	  very code that wrote it.
 */
#include "postgres.h"

#include "core/rq_distance.h"
#include "core/rq_encode.h"
#include "rabitq.h"
#include "vector.h"

/*
 * Sets up a codec for dim-dimensional vectors: the rotation of seed, the
 * B-bit quantizer for ex_bits (B = 1 + ex_bits; none for 0), scratch, no
 * lists yet.
 */
void
RabitqCodecInit(RabitqCodec *codec, int dim, rq_metric metric, bool half, uint64 seed, int ex_bits)
{
	memset(codec, 0, sizeof(*codec));
	codec->dim = dim;
	codec->dp = rq_padded_dim(dim);
	codec->metric = metric;
	codec->half = half;
	codec->ex_bits = ex_bits;
	codec->signs = palloc(sizeof(float) * rq_rotation_floats(codec->dp));
	rq_rotation_generate(codec->dp, seed, codec->signs);
	rq_rotation_init(&codec->rotation, dim, codec->signs);
	codec->prep = palloc(sizeof(float) * dim);
	codec->elems = palloc(sizeof(float) * dim);
	codec->residual = palloc(sizeof(float) * codec->dp);
	codec->origin = palloc0(sizeof(float) * codec->dp);
	if (ex_bits > 0)
	{
		codec->ex_work = palloc(rq_ex_work_bytes(codec->dp));
		rq_ex_quantizer_init(&codec->ex, codec->dp, ex_bits + 1, codec->ex_work);
	}
}

/* Gives the codec its lists: rotated centroids (lists x Dp, kept), and their norms. */
void
RabitqCodecSetCentroids(RabitqCodec *codec, int lists, float *centroids)
{
	codec->lists = lists;
	codec->centroids = centroids;
	codec->centroid_norm2 = palloc(sizeof(float) * lists);
	for (int l = 0; l < lists; l++)
	{
		const float *c = centroids + (Size) l * codec->dp;

		codec->centroid_norm2[l] = rq_dist.dot(c, c, codec->dp);
	}
}

/*
 * The elements of a vector datum of the codec's column as floats, and its
 * dimensions in *dim: the datum's own array for vector, or converted into
 * buf (room for D floats) for halfvec, whose header is vector's (int16
 * dimensions, int16 unused) followed by IEEE half floats.  A halfvec of other
 * than D dimensions is not converted: its caller reports the mismatch.
 */
const float *
RabitqVectorFloats(const RabitqCodec *codec, Datum value, float *buf, int *dim)
{
	Vector	   *vec = DatumGetVector(value);

	*dim = vec->dim;
	if (!codec->half)
		return vec->x;
	if (vec->dim == codec->dim)
		rq_dist.half_to_float((const uint16_t *) vec->x, buf, (size_t) vec->dim);
	return buf;
}

/*
 * A row's vector preprocessed for the metric (D floats into prep) and, when
 * rotated is not NULL, rotated (Dp floats); false when the index leaves the
 * row out: a zero vector under cosine has no distance to anything (NaN, last
 * in any order), so, as pgvector's indexes do, the row is stored in the
 * table but not in the index.  ERROR for other dimensions; the error goes to
 * whoever stores the row: scans never see such a value.
 */
bool
RabitqEncodeVector(const RabitqCodec *codec, Datum value, float *prep, float *rotated)
{
	int			dim;
	const float *x = RabitqVectorFloats(codec, value, codec->elems, &dim);

	if (dim != codec->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", codec->dim, dim)));
	return rq_encode_vector(&codec->rotation, codec->metric, x, prep, rotated) != RQ_ERR_ZERO_VECTOR;
}

/* The error for a vector whose entry would hold a factor beyond float. */
static void
ReportTooLarge(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("vector is too large for a rabitq index"),
			 errdetail("Its squared distance from the nearest list centroid is outside the range of type real."),
			 errhint("Scale the vector down (normalize it), or do not index it.")));
}

/* Fills e from the rotated vector against centroid c (the codec's residual scratch). */
static void
EncodeAgainst(const RabitqCodec *codec, const float *rotated, const float *c, RabitqEntry *e)
{
	if (rq_encode_entry(rotated, c, codec->dp, codec->metric, codec->residual, e->code, &e->f,
						&e->residual2) == RQ_ERR_OVERFLOW)
		ReportTooLarge();
	if (codec->ex_bits > 0 &&
		rq_encode_ex(&codec->ex, codec->residual, e->ex_code, &e->ex_f, codec->ex_work) == RQ_ERR_OVERFLOW)
		ReportTooLarge();
}

/*
 * The entry of a rotated vector in list: its 1-bit code and factors, its
 * B-bit code with ex_bits, and its squared distance from the centroid.
 * ERROR (for whoever stores the row) when a factor overflows float: a finite
 * vector of huge magnitude whose squared distance from its centroid is
 * beyond float's range would give every scan infinite or NaN estimates.
 */
void
RabitqEncodeEntry(const RabitqCodec *codec, const float *rotated, int list, RabitqEntry *e)
{
	EncodeAgainst(codec, rotated, codec->centroids + (Size) list * codec->dp, e);
}

/*
 * The same taken from the origin instead of a centroid: what a posting
 * holds, so that a tenant's rows are ranked from the postings alone, with
 * one query for all of them.
 */
void
RabitqEncodeOrigin(const RabitqCodec *codec, const float *rotated, RabitqEntry *e)
{
	EncodeAgainst(codec, rotated, codec->origin, e);
}
