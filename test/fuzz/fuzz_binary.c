/*
 * fuzz_binary.c
 *	  libFuzzer harness for the binary input path (rq_vector_binary_*, the
 *	  code behind vector_recv), decoding exactly as vector_recv does: header,
 *	  dimension and unused checks, length check, then the values into a
 *	  buffer of exactly dim floats.  Properties, under AddressSanitizer and
 *	  UBSan: no crash or out-of-bounds access; on success every value is
 *	  finite and encoding again reproduces the input's bytes.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rq_vector_binary.h"

#define MAX_DIM 16000

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
Fail(const char *what)
{
	fprintf(stderr, "fuzz_binary: %s\n", what);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int			dim,
				unused,
				bad = -1;
	float	   *x;
	uint8_t    *again;
	size_t		need;
	rq_binary_status st;

	if (rq_vector_binary_header(data, size, &dim, &unused) != RQ_BINARY_OK)
	{
		if (size >= RQ_BINARY_HEADER)
			Fail("a complete header was refused");
		return 0;
	}
	if (dim < 1 || dim > MAX_DIM || unused != 0)
		return 0;				/* vector_recv raises its errors here */
	need = RQ_BINARY_HEADER + rq_vector_binary_values_size(dim);
	x = malloc(sizeof(float) * (size_t) dim);
	st = rq_vector_binary_values(data + RQ_BINARY_HEADER, size - RQ_BINARY_HEADER, dim, x, &bad);
	if ((st == RQ_BINARY_SHORT) != (size < need))
		Fail("the length check disagrees with the size");
	if ((st == RQ_BINARY_NAN && !isnan(x[bad])) || (st == RQ_BINARY_INFINITE && !isinf(x[bad])))
		Fail("a reported bad value is not bad");
	if (st == RQ_BINARY_OK)
	{
		for (int i = 0; i < dim; i++)
			if (!isfinite(x[i]))
				Fail("a non-finite value was accepted");
		again = malloc(need);
		rq_vector_binary_encode(x, dim, unused, again);
		if (memcmp(again, data, need) != 0)
			Fail("encoding again changed the bytes");
		free(again);
	}
	free(x);
	return 0;
}
