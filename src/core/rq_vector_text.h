/*
 * rq_vector_text.h
 *	  Parser for the text form of a vector, "[1,2.5,-3e-2]", as a pure function.
 *
 * The grammar is pgvector's: optional white space, "[", one or more numbers
 * separated by ",", "]", optional white space.  Numbers are whatever strtof
 * accepts in the C locale (so "1e-3" and "0x1p-2" too); NaN and infinities are
 * rejected, and so is a number too large for float.  A number too small for
 * float becomes 0 or a denormal, as in pgvector.
 *
 * The PostgreSQL layer turns each status into an ereport; the unit tests and
 * the fuzz harness call the parser directly.
 */
#ifndef RQ_VECTOR_TEXT_H
#define RQ_VECTOR_TEXT_H

#include <stddef.h>

/* Largest number of dimensions of a vector (pgvector's limit). */
#define RQ_VECTOR_MAX_DIM 16000

typedef enum rq_text_status
{
	RQ_TEXT_OK = 0,
	RQ_TEXT_NO_OPEN_BRACKET,	/* does not start with "[" */
	RQ_TEXT_EMPTY,				/* "[]": no dimensions */
	RQ_TEXT_BAD_NUMBER,			/* something that is not a number */
	RQ_TEXT_BAD_SEPARATOR,		/* a number followed by neither "," nor "]" */
	RQ_TEXT_UNTERMINATED,		/* input ends before "]" */
	RQ_TEXT_TRAILING_JUNK,		/* something other than white space after "]" */
	RQ_TEXT_TOO_MANY_DIMS,		/* more than max_dim numbers */
	RQ_TEXT_OUT_OF_RANGE,		/* a number beyond the range of float */
	RQ_TEXT_NAN,				/* a NaN */
	RQ_TEXT_INFINITE			/* an infinity written as such ("inf") */
} rq_text_status;

/* Where a problem was found: the byte offset and length of the culprit. */
typedef struct rq_text_span
{
	size_t		offset;
	size_t		length;
} rq_text_span;

/*
 * Number of floats the output buffer needs to parse text with at most max_dim
 * dimensions: one more than the number of commas, capped at max_dim (at least
 * 1).  A valid element is always preceded by a comma, so this is an upper
 * bound on what rq_vector_parse writes.
 */
extern int	rq_vector_text_capacity(const char *text, int max_dim);

/*
 * Parses the NUL-terminated text into out, which must hold
 * rq_vector_text_capacity(text, max_dim) floats.  On RQ_TEXT_OK, *dim is the
 * number of values (1..max_dim).  On any other status, *where (if not NULL)
 * says where the problem is; out holds partial garbage.
 */
extern rq_text_status rq_vector_parse(const char *text, float *out, int max_dim,
									  int *dim, rq_text_span *where);

/* A short lowercase description of a status, for tests and tools. */
extern const char *rq_text_status_name(rq_text_status status);

#endif							/* RQ_VECTOR_TEXT_H */
