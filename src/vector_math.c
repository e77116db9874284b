/*
 * vector_math.c
 *	  Element-wise arithmetic (+ - *), concatenation, subvector, l2_normalize.
 *
 * Results that overflow float raise PostgreSQL's usual "value out of range"
 * errors instead of storing an infinity (which no entry path accepts).
 */
#include "postgres.h"

#include <math.h>

#include "utils/float.h"

#include "vector.h"

PG_FUNCTION_INFO_V1(vector_add);
PG_FUNCTION_INFO_V1(vector_sub);
PG_FUNCTION_INFO_V1(vector_mul);
PG_FUNCTION_INFO_V1(vector_concat);
PG_FUNCTION_INFO_V1(subvector);
PG_FUNCTION_INFO_V1(l2_normalize);

typedef enum VectorOp
{
	VECTOR_ADD,
	VECTOR_SUB,
	VECTOR_MUL
} VectorOp;

/* a op b, element by element, with overflow and underflow checks. */
static Vector *
VectorElementwise(const Vector *a, const Vector *b, VectorOp op)
{
	Vector	   *result;

	CheckVectorSameDim(a, b);
	result = InitVector(a->dim);
	for (int i = 0; i < a->dim; i++)
	{
		float		x = a->x[i],
					y = b->x[i],
					r;

		r = (op == VECTOR_ADD) ? x + y : (op == VECTOR_SUB) ? x - y : x * y;
		if (isinf(r))
			float_overflow_error();
		if (op == VECTOR_MUL && r == 0.0f && x != 0.0f && y != 0.0f)
			float_underflow_error();
		result->x[i] = r;
	}
	return result;
}

/* vector_add(vector, vector): operator + (also the sum() transition) */
Datum
vector_add(PG_FUNCTION_ARGS)
{
	PG_RETURN_VECTOR_P(VectorElementwise(PG_GETARG_VECTOR_P(0),
										 PG_GETARG_VECTOR_P(1), VECTOR_ADD));
}

/* vector_sub(vector, vector): operator - */
Datum
vector_sub(PG_FUNCTION_ARGS)
{
	PG_RETURN_VECTOR_P(VectorElementwise(PG_GETARG_VECTOR_P(0),
										 PG_GETARG_VECTOR_P(1), VECTOR_SUB));
}

/* vector_mul(vector, vector): operator *, element-wise product */
Datum
vector_mul(PG_FUNCTION_ARGS)
{
	PG_RETURN_VECTOR_P(VectorElementwise(PG_GETARG_VECTOR_P(0),
										 PG_GETARG_VECTOR_P(1), VECTOR_MUL));
}

/* vector_concat(vector, vector): operator || */
Datum
vector_concat(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	CheckVectorDim(a->dim + b->dim);
	result = InitVector(a->dim + b->dim);
	memcpy(result->x, a->x, sizeof(float) * a->dim);
	memcpy(result->x + a->dim, b->x, sizeof(float) * b->dim);
	PG_RETURN_VECTOR_P(result);
}

/*
 * subvector(vector, start int4, count int4): count elements from the 1-based
 * position start, clipped to the vector like substring().
 */
Datum
subvector(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	int64		start = PG_GETARG_INT32(1);
	int64		count = PG_GETARG_INT32(2);
	int64		end = start + count;	/* exclusive; int64 cannot overflow */
	Vector	   *result;

	if (count < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vector must have at least 1 dimension")));
	start = Max(start, 1);
	end = Min(end, (int64) a->dim + 1);
	CheckVectorDim((int) Max(end - start, 0));

	result = InitVector((int) (end - start));
	memcpy(result->x, a->x + (start - 1), sizeof(float) * result->dim);
	PG_RETURN_VECTOR_P(result);
}

/* l2_normalize(vector): a / |a| (the zero vector stays zero) */
Datum
l2_normalize(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *result = InitVector(a->dim);
	double		norm = 0.0;

	for (int i = 0; i < a->dim; i++)
		norm += (double) a->x[i] * (double) a->x[i];
	norm = sqrt(norm);
	if (norm > 0.0)
	{
		for (int i = 0; i < a->dim; i++)
			result->x[i] = (float) (a->x[i] / norm);
	}
	PG_RETURN_VECTOR_P(result);
}
