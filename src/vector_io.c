/*
 * vector_io.c
 *	  Text and binary input/output of the vector type and its type modifier.
 *
 * Text and binary forms match pgvector's byte for byte, so drivers that speak
 * pgvector (text or binary mode, COPY BINARY) work unchanged.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "core/rq_vector_binary.h"
#include "vector.h"

PG_FUNCTION_INFO_V1(vector_in);
PG_FUNCTION_INFO_V1(vector_out);
PG_FUNCTION_INFO_V1(vector_typmod_in);
PG_FUNCTION_INFO_V1(vector_typmod_out);
PG_FUNCTION_INFO_V1(vector_recv);
PG_FUNCTION_INFO_V1(vector_send);

/* Detail line explaining a syntax error of the text form. */
static const char *
TextErrorDetail(rq_text_status status)
{
	switch (status)
	{
		case RQ_TEXT_NO_OPEN_BRACKET:
			return "Vector contents must start with \"[\".";
		case RQ_TEXT_UNTERMINATED:
			return "Vector contents must end with \"]\".";
		case RQ_TEXT_BAD_SEPARATOR:
			return "Elements must be separated by \",\".";
		case RQ_TEXT_TRAILING_JUNK:
			return "Junk after closing right bracket.";
		default:
			return "Elements must be numbers.";
	}
}

/* Raises the ERROR for a parse status other than RQ_TEXT_OK. */
pg_attribute_noreturn()
static void
ReportTextError(const char *lit, rq_text_status status, const rq_text_span *where)
{
	switch (status)
	{
		case RQ_TEXT_EMPTY:
			CheckVectorDim(0);
			break;
		case RQ_TEXT_TOO_MANY_DIMS:
			CheckVectorDim(VECTOR_MAX_DIM + 1);
			break;
		case RQ_TEXT_NAN:
			CheckVectorElement(NAN);
			break;
		case RQ_TEXT_INFINITE:
			CheckVectorElement(INFINITY);
			break;
		case RQ_TEXT_OUT_OF_RANGE:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("\"%s\" is out of range for type vector",
							pnstrdup(lit + where->offset, where->length))));
			break;
		default:
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type vector: \"%s\"", lit),
			 errdetail("%s", TextErrorDetail(status))));
}

/* vector_in(cstring, oid, int4): '[1,2,3]' -> vector */
Datum
vector_in(PG_FUNCTION_ARGS)
{
	char	   *lit = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			capacity = rq_vector_text_capacity(lit, VECTOR_MAX_DIM);
	Vector	   *result = InitVector(capacity);
	rq_text_span where;
	rq_text_status status;
	int			dim;

	status = rq_vector_parse(lit, result->x, VECTOR_MAX_DIM, &dim, &where);
	if (status != RQ_TEXT_OK)
		ReportTextError(lit, status, &where);
	CheckVectorTypmod(typmod, dim);

	result->dim = (int16) dim;
	SET_VARSIZE(result, VECTOR_SIZE(dim));
	PG_RETURN_VECTOR_P(result);
}

/* vector_out(vector): shortest text that reads back to the same floats */
Datum
vector_out(PG_FUNCTION_ARGS)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	char	   *buf = palloc(mul_size(vec->dim, FLOAT_SHORTEST_DECIMAL_LEN) + 2);
	char	   *p = buf;

	*p++ = '[';
	for (int i = 0; i < vec->dim; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += float_to_shortest_decimal_bufn(vec->x[i], p);
	}
	*p++ = ']';
	*p = '\0';
	PG_FREE_IF_COPY(vec, 0);
	PG_RETURN_CSTRING(buf);
}

/* vector_typmod_in(cstring[]): the n of vector(n) */
Datum
vector_typmod_in(PG_FUNCTION_ARGS)
{
	ArrayType  *ta = PG_GETARG_ARRAYTYPE_P(0);
	int32	   *mods;
	int			n;

	mods = ArrayGetIntegerTypmods(ta, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier"),
				 errhint("Use vector(n) with one number of dimensions.")));
	if (mods[0] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type vector must be at least 1")));
	if (mods[0] > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type vector cannot exceed %d", VECTOR_MAX_DIM)));
	PG_RETURN_INT32(mods[0]);
}

/* vector_typmod_out(int4): "(n)" */
Datum
vector_typmod_out(PG_FUNCTION_ARGS)
{
	int32		typmod = PG_GETARG_INT32(0);

	if (typmod < 0)
		PG_RETURN_CSTRING(pstrdup(""));
	PG_RETURN_CSTRING(psprintf("(%d)", typmod));
}

/*
 * vector_recv(internal, oid, int4): binary input.
 * int16 dim, int16 unused (must be 0), dim float4, all in network order.
 * The length is checked before anything is allocated; PostgreSQL itself
 * rejects bytes left over after the value (COPY and Bind both check).
 */
Datum
vector_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	const uint8 *data = (const uint8 *) buf->data + buf->cursor;
	size_t		len = buf->len - buf->cursor;
	int			dim,
				unused,
				bad = 0;
	Vector	   *result;
	rq_binary_status status;

	if (rq_vector_binary_header(data, len, &dim, &unused) != RQ_BINARY_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("binary vector data is too short"),
				 errdetail("The 4-byte header is incomplete.")));
	CheckVectorDim(dim);
	CheckVectorTypmod(typmod, dim);
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("expected unused to be 0, not %d", unused)));
	if (len - RQ_BINARY_HEADER < rq_vector_binary_values_size(dim))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("binary vector data is too short"),
				 errdetail("%d dimensions need %d bytes, but %d remain.",
						   dim, (int) rq_vector_binary_values_size(dim), (int) (len - RQ_BINARY_HEADER))));

	result = InitVector(dim);
	status = rq_vector_binary_values(data + RQ_BINARY_HEADER, len - RQ_BINARY_HEADER, dim, result->x, &bad);
	if (status != RQ_BINARY_OK)
		CheckVectorElement(result->x[bad]);	/* raises the NaN or infinity error */
	buf->cursor += RQ_BINARY_HEADER + (int) rq_vector_binary_values_size(dim);
	PG_RETURN_VECTOR_P(result);
}

/* vector_send(vector): binary output, the layout vector_recv reads */
Datum
vector_send(PG_FUNCTION_ARGS)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, vec->dim);
	pq_sendint16(&buf, vec->unused);
	for (int i = 0; i < vec->dim; i++)
		pq_sendfloat4(&buf, vec->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}
