/*
 * test_vector_text.c
 *	  The text parser on hand-picked inputs: every status, white space,
 *	  number forms, limits and the capacity rule.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rq_random.h"
#include "core/rq_vector_text.h"
#include "rq_test.h"

typedef struct text_case
{
	const char *input;
	rq_text_status status;
	int			dim;			/* on RQ_TEXT_OK */
	float		first,
				last;			/* on RQ_TEXT_OK */
	size_t		offset;			/* on error: where */
} text_case;

static const text_case cases[] = {
	{"[1,2,3]", RQ_TEXT_OK, 3, 1, 3, 0},
	{"[1.5]", RQ_TEXT_OK, 1, 1.5f, 1.5f, 0},
	{"  [ 1 ,\t2.5 ,\n-3e-2 ]  ", RQ_TEXT_OK, 3, 1, -0.03f, 0},
	{"\r\v\f[1]\f", RQ_TEXT_OK, 1, 1, 1, 0},
	{"[+4,-0,0x1p-2,1E3]", RQ_TEXT_OK, 4, 4, 1000, 0},
	{"[.5,5.,1e-50]", RQ_TEXT_OK, 3, 0.5f, 0, 0},
	{"[3.4028234e38,-3.4028234e38]", RQ_TEXT_OK, 2, 3.4028234e38f, -3.4028234e38f, 0},
	{"", RQ_TEXT_NO_OPEN_BRACKET, 0, 0, 0, 0},
	{"   ", RQ_TEXT_NO_OPEN_BRACKET, 0, 0, 0, 3},
	{"1,2", RQ_TEXT_NO_OPEN_BRACKET, 0, 0, 0, 0},
	{"{1,2}", RQ_TEXT_NO_OPEN_BRACKET, 0, 0, 0, 0},
	{"[]", RQ_TEXT_EMPTY, 0, 0, 0, 1},
	{"[  ]", RQ_TEXT_EMPTY, 0, 0, 0, 3},
	{"[", RQ_TEXT_UNTERMINATED, 0, 0, 0, 1},
	{"[1", RQ_TEXT_UNTERMINATED, 0, 0, 0, 2},
	{"[1,", RQ_TEXT_UNTERMINATED, 0, 0, 0, 3},
	{"[1, 2  ", RQ_TEXT_UNTERMINATED, 0, 0, 0, 7},
	{"[1,]", RQ_TEXT_BAD_NUMBER, 0, 0, 0, 3},
	{"[,1]", RQ_TEXT_BAD_NUMBER, 0, 0, 0, 1},
	{"[a]", RQ_TEXT_BAD_NUMBER, 0, 0, 0, 1},
	{"[1,,2]", RQ_TEXT_BAD_NUMBER, 0, 0, 0, 3},
	{"[[1]]", RQ_TEXT_BAD_NUMBER, 0, 0, 0, 1},
	{"[1 2]", RQ_TEXT_BAD_SEPARATOR, 0, 0, 0, 3},
	{"[1;2]", RQ_TEXT_BAD_SEPARATOR, 0, 0, 0, 2},
	{"[1e]", RQ_TEXT_BAD_SEPARATOR, 0, 0, 0, 2},
	{"[1,2]x", RQ_TEXT_TRAILING_JUNK, 0, 0, 0, 5},
	{"[1,2]]", RQ_TEXT_TRAILING_JUNK, 0, 0, 0, 5},
	{"[1] [2]", RQ_TEXT_TRAILING_JUNK, 0, 0, 0, 4},
	{"[nan]", RQ_TEXT_NAN, 0, 0, 0, 1},
	{"[1,NaN]", RQ_TEXT_NAN, 0, 0, 0, 3},
	{"[1, -nan(0x1)]", RQ_TEXT_NAN, 0, 0, 0, 4},
	{"[inf]", RQ_TEXT_INFINITE, 0, 0, 0, 1},
	{"[-Infinity]", RQ_TEXT_INFINITE, 0, 0, 0, 1},
	{"[1e39]", RQ_TEXT_OUT_OF_RANGE, 0, 0, 0, 1},
	{"[0, -3.5e38]", RQ_TEXT_OUT_OF_RANGE, 0, 0, 0, 4},
};

static void
test_cases(void)
{
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		const text_case *tc = &cases[c];
		int			cap = rq_vector_text_capacity(tc->input, RQ_VECTOR_MAX_DIM);
		float	   *out = rq_test_alloc(sizeof(float) * cap);
		rq_text_span where = {99, 99};
		int			dim = -1;
		rq_text_status st = rq_vector_parse(tc->input, out, RQ_VECTOR_MAX_DIM, &dim, &where);

		RQ_CHECK(st == tc->status, "\"%s\": %s, expected %s", tc->input,
				 rq_text_status_name(st), rq_text_status_name(tc->status));
		if (st == RQ_TEXT_OK && tc->status == RQ_TEXT_OK)
			RQ_CHECK(dim == tc->dim && out[0] == tc->first && out[dim - 1] == tc->last,
					 "\"%s\": dim %d first %g last %g", tc->input, dim, out[0], out[dim - 1]);
		else if (st == tc->status)
			RQ_CHECK(where.offset == tc->offset, "\"%s\": offset %zu, expected %zu",
					 tc->input, where.offset, tc->offset);
		free(out);
	}
}

/* The out-of-range span covers exactly the offending number. */
static void
test_out_of_range_span(void)
{
	float		out[2];
	rq_text_span where;
	int			dim;

	RQ_CHECK(rq_vector_parse("[1, 5e40 ]", out, 2, &dim, &where) == RQ_TEXT_OUT_OF_RANGE &&
			 where.offset == 4 && where.length == 4, "span %zu+%zu", where.offset, where.length);
}

/* Builds "[1,1,...,1]" with n elements. */
static char *
ones(int n)
{
	char	   *s = rq_test_alloc((size_t) n * 2 + 2);
	char	   *p = s;

	*p++ = '[';
	for (int i = 0; i < n; i++)
	{
		*p++ = '1';
		*p++ = (i + 1 < n) ? ',' : ']';
	}
	*p = '\0';
	return s;
}

/* Exactly the maximum parses; one more is "too many dimensions". */
static void
test_dimension_limit(void)
{
	char	   *at_max = ones(RQ_VECTOR_MAX_DIM);
	char	   *over = ones(RQ_VECTOR_MAX_DIM + 1);
	float	   *out = rq_test_alloc(sizeof(float) * RQ_VECTOR_MAX_DIM);
	int			dim;

	RQ_CHECK(rq_vector_text_capacity(at_max, RQ_VECTOR_MAX_DIM) == RQ_VECTOR_MAX_DIM, "cap");
	RQ_CHECK(rq_vector_parse(at_max, out, RQ_VECTOR_MAX_DIM, &dim, NULL) == RQ_TEXT_OK &&
			 dim == RQ_VECTOR_MAX_DIM, "16000 dimensions parse");
	RQ_CHECK(rq_vector_text_capacity(over, RQ_VECTOR_MAX_DIM) == RQ_VECTOR_MAX_DIM, "capped");
	RQ_CHECK(rq_vector_parse(over, out, RQ_VECTOR_MAX_DIM, &dim, NULL) == RQ_TEXT_TOO_MANY_DIMS,
			 "16001 dimensions rejected");
	RQ_CHECK(rq_vector_parse("[1,2,3]", out, 2, &dim, NULL) == RQ_TEXT_TOO_MANY_DIMS,
			 "a smaller max_dim is honoured");
	free(at_max);
	free(over);
	free(out);
}

/* Capacity is commas + 1, at least 1, at most max_dim. */
static void
test_capacity(void)
{
	RQ_CHECK(rq_vector_text_capacity("", 10) == 1, "empty");
	RQ_CHECK(rq_vector_text_capacity("[1]", 10) == 1, "one");
	RQ_CHECK(rq_vector_text_capacity("[1,2,3]", 10) == 3, "three");
	RQ_CHECK(rq_vector_text_capacity(",,,,,,,,,,,,,,", 10) == 10, "capped");
	RQ_CHECK(rq_vector_text_capacity(",,,,,,,,,", 10) == 10, "nine commas");
}

/* Every float printed with 9 significant digits reads back to the same bits. */
static void
test_round_trip(void)
{
	rq_pcg32	rng;
	char		text[64];
	float		out[1];
	int			dim;

	rq_pcg32_seed(&rng, 12345, 0);
	for (int i = 0; i < (rq_test_quick ? 2000 : 200000); i++)
	{
		uint32_t	bits = rq_pcg32_next(&rng);
		float		f;

		memcpy(&f, &bits, sizeof(f));
		if (!isfinite(f))
			continue;
		snprintf(text, sizeof(text), "[%.9g]", f);
		RQ_CHECK(rq_vector_parse(text, out, 1, &dim, NULL) == RQ_TEXT_OK &&
				 memcmp(&out[0], &f, sizeof(f)) == 0, "%s", text);
	}
}

const rq_test_case rq_vector_text_tests[] = {
	{"text/cases", test_cases, 0},
	{"text/out-of-range span", test_out_of_range_span, 0},
	{"text/dimension limit", test_dimension_limit, 0},
	{"text/capacity", test_capacity, 0},
	{"text/round trip of float bit patterns", test_round_trip, 0},
	{NULL, NULL, 0}
};
