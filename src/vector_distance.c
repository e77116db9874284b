/*
 * vector_distance.c
 *	  Distance functions and norms, with pgvector's definitions: float
 *	  accumulation through the dispatched kernels (src/core/rq_distance.h),
 *	  result widened to double.  The three an index orders by are the
 *	  metrics' exact distances (src/core/rq_metric.h), so a scan's order and
 *	  these operators' values are one formula.
 *
 * These run on stored data during scans, so apart from the dimension check
 * (which pgvector has too) they never raise an error: a zero vector gives a
 * NaN cosine distance, as in pgvector.
 */
#include "postgres.h"

#include <math.h>

#include "core/rq_distance.h"
#include "core/rq_metric.h"
#include "vector.h"

PG_FUNCTION_INFO_V1(l2_distance);
PG_FUNCTION_INFO_V1(vector_l2_squared_distance);
PG_FUNCTION_INFO_V1(inner_product);
PG_FUNCTION_INFO_V1(vector_negative_inner_product);
PG_FUNCTION_INFO_V1(cosine_distance);
PG_FUNCTION_INFO_V1(l1_distance);
PG_FUNCTION_INFO_V1(vector_dims);
PG_FUNCTION_INFO_V1(vector_norm);

/* Fetches both vector arguments and checks they have the same dimensions. */
static void
GetVectorPair(FunctionCallInfo fcinfo, Vector **a, Vector **b)
{
	*a = PG_GETARG_VECTOR_P(0);
	*b = PG_GETARG_VECTOR_P(1);
	CheckVectorSameDim(*a, *b);
}

/* l2_distance(vector, vector): Euclidean distance (operator <->) */
Datum
l2_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a,
			   *b;

	GetVectorPair(fcinfo, &a, &b);
	PG_RETURN_FLOAT8(rq_metric_sql_value(RQ_METRIC_L2, rq_metric_distance(RQ_METRIC_L2, a->x, b->x, a->dim)));
}

/* vector_l2_squared_distance(vector, vector): squared Euclidean distance */
Datum
vector_l2_squared_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a,
			   *b;

	GetVectorPair(fcinfo, &a, &b);
	PG_RETURN_FLOAT8(rq_metric_distance(RQ_METRIC_L2, a->x, b->x, a->dim));
}

/* inner_product(vector, vector) */
Datum
inner_product(PG_FUNCTION_ARGS)
{
	Vector	   *a,
			   *b;

	GetVectorPair(fcinfo, &a, &b);
	PG_RETURN_FLOAT8((double) rq_dist.dot(a->x, b->x, a->dim));
}

/* vector_negative_inner_product(vector, vector): operator <#> */
Datum
vector_negative_inner_product(PG_FUNCTION_ARGS)
{
	Vector	   *a,
			   *b;

	GetVectorPair(fcinfo, &a, &b);
	PG_RETURN_FLOAT8(rq_metric_distance(RQ_METRIC_IP, a->x, b->x, a->dim));
}

/*
 * cosine_distance(vector, vector): 1 - cos(a, b) (operator <=>).
 * The similarity is clamped to [-1, 1]; it is NaN when either vector is zero.
 */
Datum
cosine_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a,
			   *b;

	GetVectorPair(fcinfo, &a, &b);
	PG_RETURN_FLOAT8(rq_metric_distance(RQ_METRIC_COSINE, a->x, b->x, a->dim));
}

/* l1_distance(vector, vector): taxicab distance (operator <+>) */
Datum
l1_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a,
			   *b;

	GetVectorPair(fcinfo, &a, &b);
	PG_RETURN_FLOAT8((double) rq_dist.l1(a->x, b->x, a->dim));
}

/* vector_dims(vector) */
Datum
vector_dims(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);

	PG_RETURN_INT32(a->dim);
}

/* vector_norm(vector): Euclidean norm, accumulated in double */
Datum
vector_norm(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	double		sum = 0.0;

	for (int i = 0; i < a->dim; i++)
		sum += (double) a->x[i] * (double) a->x[i];
	PG_RETURN_FLOAT8(sqrt(sum));
}
