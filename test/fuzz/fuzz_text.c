/*
 * fuzz_text.c
 *	  libFuzzer harness for the vector text parser (rq_vector_parse), the
 *	  code behind vector_in.  Properties, under AddressSanitizer and UBSan:
 *	  no crash or out-of-bounds access with a buffer of exactly
 *	  rq_vector_text_capacity floats; the same answer twice; on success
 *	  1 <= dim <= capacity, finite values, and printing them with %.9g and
 *	  parsing again gives the same bits.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rq_vector_text.h"

#define MAX_DIM 16000

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
Fail(const char *what)
{
	fprintf(stderr, "fuzz_text: %s\n", what);
	abort();
}

static void
CheckRoundTrip(const float *x, int dim)
{
	size_t		cap = (size_t) dim * 20 + 3;
	char	   *text = malloc(cap),
			   *p = text;
	float	   *again;
	int			dim2 = 0;
	rq_text_span where;

	*p++ = '[';
	for (int i = 0; i < dim; i++)
		p += snprintf(p, cap - (size_t) (p - text), "%s%.9g", i ? "," : "", x[i]);
	strcpy(p, "]");
	again = malloc(sizeof(float) * (size_t) rq_vector_text_capacity(text, MAX_DIM));
	if (rq_vector_parse(text, again, MAX_DIM, &dim2, &where) != RQ_TEXT_OK || dim2 != dim ||
		memcmp(again, x, sizeof(float) * (size_t) dim) != 0)
		Fail("printing and parsing again changed the vector");
	free(again);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = malloc(size + 1);
	int			cap,
				dim = 0,
				dim2 = 0;
	float	   *out,
			   *out2;
	rq_text_status st,
				st2;
	rq_text_span where;

	memcpy(text, data, size);
	text[size] = '\0';			/* vector_in gets a C string */
	cap = rq_vector_text_capacity(text, MAX_DIM);
	out = malloc(sizeof(float) * (size_t) (cap > 0 ? cap : 1));
	out2 = malloc(sizeof(float) * (size_t) (cap > 0 ? cap : 1));
	st = rq_vector_parse(text, out, MAX_DIM, &dim, &where);
	st2 = rq_vector_parse(text, out2, MAX_DIM, &dim2, &where);
	if (st != st2 || (st == RQ_TEXT_OK && (dim != dim2 || memcmp(out, out2, sizeof(float) * (size_t) dim))))
		Fail("two parses of one input disagree");
	if (st == RQ_TEXT_OK)
	{
		if (dim < 1 || dim > cap || dim > MAX_DIM)
			Fail("dimensions out of range");
		for (int i = 0; i < dim; i++)
			if (!isfinite(out[i]))
				Fail("a non-finite value was accepted");
		CheckRoundTrip(out, dim);
	}
	free(out2);
	free(out);
	free(text);
	return 0;
}
