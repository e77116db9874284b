/*
 * vector.h
 *	  The vector type: on-disk layout (identical to pgvector's) and the checks
 *	  every entry path shares.
 *
 * Layout: varlena header, int16 dimensions, int16 unused (always 0), then
 * dim float4 values.  Binary send/recv use the same fields in network order.
 */
#ifndef VECRABITQ_VECTOR_H
#define VECRABITQ_VECTOR_H

#include "postgres.h"

#include "fmgr.h"

#include "core/rq_vector_text.h"

#define VECTOR_MAX_DIM RQ_VECTOR_MAX_DIM

typedef struct Vector
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int16		dim;			/* number of dimensions */
	int16		unused;			/* reserved for future use, always zero */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} Vector;

#define VECTOR_SIZE(_dim)		(offsetof(Vector, x) + sizeof(float) * (_dim))
#define DatumGetVector(x)		((Vector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_VECTOR_P(x)	DatumGetVector(PG_GETARG_DATUM(x))
#define PG_RETURN_VECTOR_P(x)	PG_RETURN_POINTER(x)

/* A zeroed vector of dim dimensions (dim already checked). */
extern Vector *InitVector(int dim);

/* ERROR unless 1 <= dim <= VECTOR_MAX_DIM. */
extern void CheckVectorDim(int dim);

/* ERROR unless typmod is -1 (unconstrained) or equal to dim. */
extern void CheckVectorTypmod(int32 typmod, int dim);

/* ERROR if value is NaN or infinite. */
extern void CheckVectorElement(float value);

/* ERROR unless a and b have the same number of dimensions. */
extern void CheckVectorSameDim(const Vector *a, const Vector *b);

#endif							/* VECRABITQ_VECTOR_H */
