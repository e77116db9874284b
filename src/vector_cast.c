/*
 * vector_cast.c
 *	  Casts: typmod coercion vector -> vector(n), arrays -> vector, vector -> real[].
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"

#include "vector.h"

PG_FUNCTION_INFO_V1(vector);
PG_FUNCTION_INFO_V1(array_to_vector);
PG_FUNCTION_INFO_V1(vector_to_float4);

/* vector(vector, int4, bool): coercion to vector(n), checks the dimensions */
Datum
vector(PG_FUNCTION_ARGS)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	int32		typmod = PG_GETARG_INT32(1);

	CheckVectorTypmod(typmod, vec->dim);
	PG_RETURN_VECTOR_P(vec);
}

/* Converts one array element of type elemtype to float4. */
static float
ElementToFloat(Datum elem, Oid elemtype)
{
	float		value;

	switch (elemtype)
	{
		case INT4OID:
			return (float) DatumGetInt32(elem);
		case FLOAT4OID:
			return DatumGetFloat4(elem);
		case FLOAT8OID:
			value = (float) DatumGetFloat8(elem);
			/* a finite double beyond float's range is an overflow, not "infinite" */
			if (isinf(value) && !isinf(DatumGetFloat8(elem)))
				float_overflow_error();
			return value;
		case NUMERICOID:
			return DatumGetFloat4(DirectFunctionCall1(numeric_float4, elem));
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("cannot cast an array of type %s to vector",
							format_type_be(elemtype))));
	}
	pg_unreachable();
}

/*
 * array_to_vector(anyarray, int4, bool): integer[], real[], double precision[]
 * and numeric[] to vector.  The array must be one-dimensional, without NULLs,
 * with finite values.
 */
Datum
array_to_vector(PG_FUNCTION_ARGS)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	int			nelems;
	Vector	   *result;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be 1-D")));
	if (ARR_HASNULL(array) && array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array must not contain nulls")));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign,
					  &elems, NULL, &nelems);
	CheckVectorDim(nelems);
	CheckVectorTypmod(typmod, nelems);

	result = InitVector(nelems);
	for (int i = 0; i < nelems; i++)
	{
		result->x[i] = ElementToFloat(elems[i], elemtype);
		CheckVectorElement(result->x[i]);
	}
	PG_RETURN_VECTOR_P(result);
}

/* vector_to_float4(vector, int4, bool): vector to real[] */
Datum
vector_to_float4(PG_FUNCTION_ARGS)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	Datum	   *datums = palloc(sizeof(Datum) * vec->dim);

	for (int i = 0; i < vec->dim; i++)
		datums[i] = Float4GetDatum(vec->x[i]);
	PG_RETURN_POINTER(construct_array(datums, vec->dim, FLOAT4OID,
									  sizeof(float4), true, TYPALIGN_INT));
}
