/*
 * vector_agg.c
 *	  avg(vector): transition, combine and final functions.  (sum(vector) uses
 *	  vector_add directly.)
 *
 * The state is a double precision[] {n, sum_1, ..., sum_dim}, as in pgvector,
 * so plans and parallel aggregation behave the same.  Sums are kept in double.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/float.h"

#include "vector.h"

PG_FUNCTION_INFO_V1(vector_accum);
PG_FUNCTION_INFO_V1(vector_combine);
PG_FUNCTION_INFO_V1(vector_avg);

/*
 * Checks an avg(vector) state array and returns its values; *dim is the
 * number of sums (0 for the initial state {0}).
 */
static float8 *
StateValues(ArrayType *state, int *dim)
{
	float8	   *values;

	if (ARR_NDIM(state) != 1 || ARR_HASNULL(state) ||
		ARR_ELEMTYPE(state) != FLOAT8OID || ARR_DIMS(state)[0] < 1 ||
		ARR_DIMS(state)[0] > VECTOR_MAX_DIM + 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("invalid state for avg(vector)"),
				 errdetail("The state must be a double precision array {count, sum_1, ..., sum_n}.")));
	values = (float8 *) ARR_DATA_PTR(state);
	if (!(values[0] >= 0.0) || (values[0] == 0.0) != (ARR_DIMS(state)[0] == 1))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("invalid state for avg(vector)"),
				 errdetail("The count does not match the number of sums.")));
	*dim = ARR_DIMS(state)[0] - 1;
	return values;
}

/* A new state array from count and dim sums. */
static ArrayType *
MakeState(float8 count, const float8 *sums, int dim)
{
	Datum	   *datums = palloc(sizeof(Datum) * (dim + 1));

	datums[0] = Float8GetDatum(count);
	for (int i = 0; i < dim; i++)
		datums[i + 1] = Float8GetDatum(sums[i]);
	return construct_array(datums, dim + 1, FLOAT8OID, sizeof(float8),
						   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/* vector_accum(double precision[], vector): adds one vector to the state */
Datum
vector_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	Vector	   *vec = PG_GETARG_VECTOR_P(1);
	int			dim;
	float8	   *values = StateValues(state, &dim);
	float8	   *sums;

	if (dim != 0)
		CheckVectorTypmod(dim, vec->dim);

	/* As an aggregate we own the state and may update it in place */
	if (dim != 0 && AggCheckCallContext(fcinfo, NULL))
	{
		values[0] += 1.0;
		for (int i = 0; i < dim; i++)
			values[i + 1] += (double) vec->x[i];
		PG_RETURN_ARRAYTYPE_P(state);
	}

	sums = palloc0(sizeof(float8) * vec->dim);
	for (int i = 0; i < vec->dim; i++)
		sums[i] = (dim != 0 ? values[i + 1] : 0.0) + (double) vec->x[i];
	PG_RETURN_ARRAYTYPE_P(MakeState(values[0] + 1.0, sums, vec->dim));
}

/* vector_combine(double precision[], double precision[]): merges two states */
Datum
vector_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *s1 = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *s2 = PG_GETARG_ARRAYTYPE_P(1);
	int			dim1,
				dim2;
	float8	   *v1 = StateValues(s1, &dim1);
	float8	   *v2 = StateValues(s2, &dim2);
	float8	   *sums;

	if (dim2 == 0)
		PG_RETURN_ARRAYTYPE_P(MakeState(v1[0], v1 + 1, dim1));
	if (dim1 == 0)
		PG_RETURN_ARRAYTYPE_P(MakeState(v2[0], v2 + 1, dim2));
	CheckVectorTypmod(dim1, dim2);

	sums = palloc(sizeof(float8) * dim1);
	for (int i = 0; i < dim1; i++)
		sums[i] = v1[i + 1] + v2[i + 1];
	PG_RETURN_ARRAYTYPE_P(MakeState(v1[0] + v2[0], sums, dim1));
}

/* vector_avg(double precision[]): the mean vector, NULL without input rows */
Datum
vector_avg(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			dim;
	float8	   *values = StateValues(state, &dim);
	Vector	   *result;

	if (dim == 0)
		PG_RETURN_NULL();
	result = InitVector(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = (float) (values[i + 1] / values[0]);
		if (isinf(result->x[i]))
			float_overflow_error();
		/* a state array made by hand can hold NaN; no vector may */
		CheckVectorElement(result->x[i]);
	}
	PG_RETURN_VECTOR_P(result);
}
