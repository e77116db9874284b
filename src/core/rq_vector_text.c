/*
 * rq_vector_text.c
 *	  Text form of a vector: "[x1,x2,...]" -> float array, with an error code.
 */
#include "rq_vector_text.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

/* The white space pgvector (and PostgreSQL's array input) skips. */
static int
rq_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static const char *
rq_skip_space(const char *p)
{
	while (rq_is_space(*p))
		p++;
	return p;
}

static rq_text_status
rq_fail(rq_text_status status, const char *text, const char *at, size_t length,
		rq_text_span *where)
{
	if (where != NULL)
	{
		where->offset = (size_t) (at - text);
		where->length = length;
	}
	return status;
}

int
rq_vector_text_capacity(const char *text, int max_dim)
{
	int			commas = 0;

	for (const char *p = text; *p != '\0'; p++)
	{
		if (*p == ',' && ++commas >= max_dim)
			return max_dim;
	}
	return commas + 1;
}

/*
 * Reads one number at *pp into *value and advances *pp past it.  Returns
 * RQ_TEXT_OK or the reason the number is rejected.
 */
static rq_text_status
rq_parse_number(const char **pp, float *value)
{
	const char *p = *pp;
	char	   *end;
	float		v;

	errno = 0;
	v = strtof(p, &end);
	if (end == p)
		return RQ_TEXT_BAD_NUMBER;
	*pp = end;
	if (isnan(v))
		return RQ_TEXT_NAN;
	if (isinf(v))
		return (errno == ERANGE) ? RQ_TEXT_OUT_OF_RANGE : RQ_TEXT_INFINITE;
	*value = v;
	return RQ_TEXT_OK;
}

rq_text_status
rq_vector_parse(const char *text, float *out, int max_dim, int *dim,
				rq_text_span *where)
{
	const char *p = rq_skip_space(text);
	int			n = 0;

	*dim = 0;
	if (*p != '[')
		return rq_fail(RQ_TEXT_NO_OPEN_BRACKET, text, p, 1, where);
	p = rq_skip_space(p + 1);
	if (*p == ']')
		return rq_fail(RQ_TEXT_EMPTY, text, p, 1, where);

	for (;;)
	{
		const char *start;
		rq_text_status status;

		p = rq_skip_space(p);
		if (*p == '\0')
			return rq_fail(RQ_TEXT_UNTERMINATED, text, p, 0, where);
		if (n == max_dim)
			return rq_fail(RQ_TEXT_TOO_MANY_DIMS, text, p, 0, where);
		start = p;
		status = rq_parse_number(&p, &out[n]);
		if (status != RQ_TEXT_OK)
			return rq_fail(status, text, start, (size_t) (p - start), where);
		n++;

		p = rq_skip_space(p);
		if (*p == ']')
			break;
		if (*p == '\0')
			return rq_fail(RQ_TEXT_UNTERMINATED, text, p, 0, where);
		if (*p != ',')
			return rq_fail(RQ_TEXT_BAD_SEPARATOR, text, p, 1, where);
		p++;
	}

	p = rq_skip_space(p + 1);
	if (*p != '\0')
		return rq_fail(RQ_TEXT_TRAILING_JUNK, text, p, 1, where);
	*dim = n;
	return RQ_TEXT_OK;
}

const char *
rq_text_status_name(rq_text_status status)
{
	switch (status)
	{
		case RQ_TEXT_OK:
			return "ok";
		case RQ_TEXT_NO_OPEN_BRACKET:
			return "no opening bracket";
		case RQ_TEXT_EMPTY:
			return "no dimensions";
		case RQ_TEXT_BAD_NUMBER:
			return "not a number";
		case RQ_TEXT_BAD_SEPARATOR:
			return "bad separator";
		case RQ_TEXT_UNTERMINATED:
			return "unterminated";
		case RQ_TEXT_TRAILING_JUNK:
			return "trailing junk";
		case RQ_TEXT_TOO_MANY_DIMS:
			return "too many dimensions";
		case RQ_TEXT_OUT_OF_RANGE:
			return "out of range";
		case RQ_TEXT_NAN:
			return "nan";
		case RQ_TEXT_INFINITE:
			return "infinite";
	}
	return "unknown";
}
