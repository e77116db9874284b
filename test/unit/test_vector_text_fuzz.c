/*
 * test_vector_text_fuzz.c
 *	  Fuzz-style test of the text parser: 100,000+ random and mutated inputs.
 *
 * Properties checked for every input, under ASan/UBSan:
 *   - no crash, no sanitizer report, no write past the capacity-sized buffer
 *     (the buffer is malloc'd with exactly rq_vector_text_capacity floats);
 *   - the status is a known one, and parsing twice gives the same answer;
 *   - on success: 1 <= dim <= capacity, every value finite, and printing the
 *     values with %.9g and parsing again gives the same bits;
 *   - an unmutated well-formed input always parses, to exactly its values.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rq_random.h"
#include "core/rq_vector_text.h"
#include "rq_test.h"

#define FUZZ_MAX_LEN 4096

/* Fragments mutations splice in: separators, number syntax, special words. */
static const char *const tokens[] = {
	"[", "]", ",", " ", "\t", "\n", "-", "+", ".", "e", "E", "e-", "e+", "0x",
	"p", "nan", "NaN", "inf", "-Infinity", "1e39", "-1e39", "1e-50", "3.4028235e38",
	"0", "1", "9", "00000000001", ".5", "5.", "\\", "\"", "'", "{", "}", "\xff", "\x80",
	"[]", ",,", "]]", "[[", "1.17549435e-38", "1e-45",
};

/* Appends a random number in one of several spellings. */
static int
print_number(rq_pcg32 *rng, char *buf, size_t room, float *value)
{
	double		u = rq_pcg32_uniform(rng);
	float		f = (float) ((u - 0.5) * pow(10.0, (double) rq_pcg32_below(rng, 60) - 30.0));

	*value = f;
	switch (rq_pcg32_below(rng, 4))
	{
		case 0:
			return snprintf(buf, room, "%.9g", f);
		case 1:
			return snprintf(buf, room, "%a", f);
		case 2:
			return snprintf(buf, room, "%.8e", f);
		default:
			*value = (float) rq_pcg32_below(rng, 256);
			return snprintf(buf, room, "%d", (int) *value);
	}
}

/* A well-formed vector text with random spacing; its values go to values[]. */
static int
make_valid(rq_pcg32 *rng, char *buf, float *values)
{
	int			n = 1 + (int) rq_pcg32_below(rng, 24);
	size_t		len = 0;

	len += (size_t) snprintf(buf + len, FUZZ_MAX_LEN - len, "%s[", rq_pcg32_below(rng, 4) ? "" : " \t");
	for (int i = 0; i < n; i++)
	{
		len += (size_t) print_number(rng, buf + len, FUZZ_MAX_LEN - len, &values[i]);
		len += (size_t) snprintf(buf + len, FUZZ_MAX_LEN - len, "%s%s",
								 rq_pcg32_below(rng, 3) ? "" : " ",
								 i + 1 < n ? "," : "]");
	}
	snprintf(buf + len, FUZZ_MAX_LEN - len, "%s", rq_pcg32_below(rng, 4) ? "" : "\n ");
	return n;
}

/* One random edit of buf (NUL-terminated, shorter than FUZZ_MAX_LEN - 64). */
static void
mutate(rq_pcg32 *rng, char *buf)
{
	size_t		len = strlen(buf);
	size_t		pos = len ? rq_pcg32_below(rng, (uint32_t) len + 1) : 0;
	const char *tok;

	switch (rq_pcg32_below(rng, 5))
	{
		case 0:					/* replace a byte with any byte but NUL */
			if (pos < len)
				buf[pos] = (char) (1 + rq_pcg32_below(rng, 255));
			break;
		case 1:					/* insert a token */
			tok = tokens[rq_pcg32_below(rng, sizeof(tokens) / sizeof(tokens[0]))];
			memmove(buf + pos + strlen(tok), buf + pos, len - pos + 1);
			memcpy(buf + pos, tok, strlen(tok));
			break;
		case 2:					/* delete a range */
			{
				size_t		n = rq_pcg32_below(rng, 8);

				n = (pos + n > len) ? len - pos : n;
				memmove(buf + pos, buf + pos + n, len - pos - n + 1);
				break;
			}
		case 3:					/* truncate */
			buf[pos] = '\0';
			break;
		default:				/* swap two bytes */
			if (len > 1)
			{
				size_t		other = rq_pcg32_below(rng, (uint32_t) len);
				char		c = buf[pos < len ? pos : 0];

				buf[pos < len ? pos : 0] = buf[other];
				buf[other] = c;
			}
			break;
	}
}

/* Random bytes drawn mostly from the characters the grammar cares about. */
static void
make_random(rq_pcg32 *rng, char *buf)
{
	static const char alphabet[] = "[],.-+eE0123456789 \tnaifxp";
	size_t		len = rq_pcg32_below(rng, 48);

	for (size_t i = 0; i < len; i++)
		buf[i] = rq_pcg32_below(rng, 4) ? alphabet[rq_pcg32_below(rng, sizeof(alphabet) - 1)]
			: (char) (1 + rq_pcg32_below(rng, 255));
	buf[len] = '\0';
}

/* Parses buf with an exactly sized buffer and checks the properties. */
static rq_text_status
check_input(const char *buf)
{
	int			cap = rq_vector_text_capacity(buf, RQ_VECTOR_MAX_DIM);
	float	   *out = rq_test_alloc(sizeof(float) * cap);
	float	   *again = rq_test_alloc(sizeof(float) * cap);
	int			dim = -1,
				dim2 = -1;
	rq_text_status st = rq_vector_parse(buf, out, RQ_VECTOR_MAX_DIM, &dim, NULL);
	rq_text_status st2 = rq_vector_parse(buf, again, RQ_VECTOR_MAX_DIM, &dim2, NULL);

	RQ_CHECK(st >= RQ_TEXT_OK && st <= RQ_TEXT_INFINITE, "unknown status %d", (int) st);
	RQ_CHECK(st == st2 && dim == dim2, "parse is not deterministic: \"%s\"", buf);
	if (st == RQ_TEXT_OK)
	{
		char	   *text = rq_test_alloc((size_t) dim * 20 + 3);
		size_t		len = 0;

		RQ_CHECK(dim >= 1 && dim <= cap, "dim %d, capacity %d", dim, cap);
		text[len++] = '[';
		for (int i = 0; i < dim; i++)
		{
			RQ_CHECK(isfinite(out[i]), "non-finite value from \"%s\"", buf);
			len += (size_t) sprintf(text + len, "%s%.9g", i ? "," : "", out[i]);
		}
		sprintf(text + len, "]");
		RQ_CHECK(rq_vector_parse(text, again, cap, &dim2, NULL) == RQ_TEXT_OK && dim2 == dim &&
				 memcmp(out, again, sizeof(float) * dim) == 0, "reprint differs: \"%s\"", buf);
		free(text);
	}
	free(out);
	free(again);
	return st;
}

static void
test_fuzz(void)
{
	rq_pcg32	rng;
	char	   *buf = rq_test_alloc(FUZZ_MAX_LEN);
	float		values[32];
	int			total = rq_test_quick ? 5000 : 120000;
	int			ok = 0;

	rq_pcg32_seed(&rng, 20261122, 3);
	for (int i = 0; i < total; i++)
	{
		if (i % 3 == 0)
			make_random(&rng, buf);
		else
		{
			int			n = make_valid(&rng, buf, values);
			int			edits = (int) rq_pcg32_below(&rng, 4);

			if (edits == 0)
			{
				float		out[32];
				int			dim;

				RQ_CHECK(rq_vector_parse(buf, out, 32, &dim, NULL) == RQ_TEXT_OK && dim == n &&
						 memcmp(out, values, sizeof(float) * n) == 0, "valid \"%s\"", buf);
			}
			for (int e = 0; e < edits; e++)
				mutate(&rng, buf);
		}
		ok += check_input(buf) == RQ_TEXT_OK;
	}
	/* both outcomes must be exercised, or the generator is broken */
	RQ_CHECK(ok > total / 10 && ok < total - total / 10, "%d of %d inputs parsed", ok, total);
	free(buf);
}

const rq_test_case rq_vector_text_fuzz_tests[] = {
	{"text-fuzz/120000 random and mutated inputs", test_fuzz, 0},
	{NULL, NULL, 0}
};
