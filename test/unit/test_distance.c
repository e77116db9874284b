/*
 * test_distance.c
 *	  Every exact distance kernel variant against a double-precision reference,
 *	  within RQ_DISTANCE_TOLERANCE, over dimensions 1..16000 with odd tails,
 *	  unaligned inputs and several value distributions.
 *
 * Inputs are allocated with exactly n floats, so AddressSanitizer reports any
 * kernel that reads past the end (a masked tail done wrong).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rq_distance.h"
#include "core/rq_estimate.h"
#include "core/rq_kernels.h"
#include "core/rq_random.h"
#include "rq_test.h"

typedef enum kernel_kind
{
	K_L2SQ,
	K_DOT,
	K_L1,
	K_COS_AB,
	K_COS_AA,
	K_COS_BB
} kernel_kind;

static const char *const kind_names[] = {"l2sq", "dot", "l1", "cosine <a,b>", "cosine <a,a>", "cosine <b,b>"};

typedef enum value_kind
{
	V_UNIFORM,					/* [-1, 1) */
	V_SIFT,						/* whole numbers 0..255, like SIFT descriptors */
	V_WIDE,						/* magnitudes from 1e-3 to 1e3, both signs */
	V_COUNT
} value_kind;

static float
draw(rq_pcg32 *rng, value_kind kind)
{
	double		u = rq_pcg32_uniform(rng);

	switch (kind)
	{
		case V_UNIFORM:
			return (float) (2.0 * u - 1.0);
		case V_SIFT:
			return (float) rq_pcg32_below(rng, 256);
		default:
			return (float) ((u < 0.5 ? -1.0 : 1.0) * pow(10.0, 6.0 * rq_pcg32_uniform(rng) - 3.0));
	}
}

/* Exact term i of a kernel, in double. */
static double
term(kernel_kind k, float a, float b)
{
	switch (k)
	{
		case K_L2SQ:
			return ((double) a - b) * ((double) a - b);
		case K_DOT:
		case K_COS_AB:
			return (double) a * b;
		case K_L1:
			return fabs((double) a - b);
		case K_COS_AA:
			return (double) a * a;
		default:
			return (double) b * b;
	}
}

/* Runs one variant's kernel of kind k. */
static double
run_kernel(const rq_distance_kernels *kern, kernel_kind k, const float *a,
		   const float *b, size_t n)
{
	float		parts[3];

	switch (k)
	{
		case K_L2SQ:
			return kern->l2sq(a, b, n);
		case K_DOT:
			return kern->dot(a, b, n);
		case K_L1:
			return kern->l1(a, b, n);
		default:
			kern->cosine(a, b, n, parts);
			return parts[k - K_COS_AB];
	}
}

/* Checks every kernel of every runnable variant on one pair of arrays. */
static void
check_pair(const float *a, const float *b, size_t n, const char *what)
{
	for (int k = K_L2SQ; k <= K_COS_BB; k++)
	{
		double		exact = 0,
					abs_sum = 0;

		for (size_t i = 0; i < n; i++)
		{
			double		t = term((kernel_kind) k, a[i], b[i]);

			exact += t;
			abs_sum += fabs(t);
		}
		for (int isa = 0; isa < rq_test_isa_count(); isa++)
		{
			const rq_distance_kernels *kern = rq_distance_kernels_for((rq_isa) isa);
			double		got = run_kernel(kern, (kernel_kind) k, a, b, n);
			double		bound = RQ_DISTANCE_TOLERANCE(n) * abs_sum;

			RQ_CHECK(fabs(got - exact) <= bound,
					 "%s %s n=%zu %s: got %.9g, exact %.9g, bound %.3g",
					 rq_isa_name((rq_isa) isa), kind_names[k], n, what, got, exact, bound);
		}
	}
}

/* Allocates n floats at an offset of off floats from a malloc'd block. */
static float *
alloc_at(size_t n, size_t off, float **block)
{
	*block = rq_test_alloc(sizeof(float) * (n + off));
	return *block + off;
}

/* Random pairs at dimension n, for each value kind and offsets 0..2. */
static void
check_dimension(rq_pcg32 *rng, size_t n)
{
	for (int v = 0; v < V_COUNT; v++)
	{
		for (size_t off = 0; off < 3; off++)
		{
			float	   *ablock,
					   *bblock;
			float	   *a = alloc_at(n, off, &ablock);
			float	   *b = alloc_at(n, 2 - off, &bblock);
			char		what[48];

			for (size_t i = 0; i < n; i++)
			{
				a[i] = draw(rng, (value_kind) v);
				b[i] = draw(rng, (value_kind) v);
			}
			snprintf(what, sizeof(what), "values %d offset %zu", v, off);
			check_pair(a, b, n, what);
			free(ablock);
			free(bblock);
		}
	}
}

/* Every dimension 1..300 (all tail lengths of both SIMD widths, many times). */
static void
test_small_dimensions(void)
{
	rq_pcg32	rng;
	size_t		top = rq_test_quick ? 70 : 300;

	rq_pcg32_seed(&rng, 2024, 1);
	for (size_t n = 1; n <= top; n++)
		check_dimension(&rng, n);
}

/* Embedding sizes and the maximum, with odd tails around each. */
static void
test_large_dimensions(void)
{
	static const size_t dims[] = {383, 384, 385, 511, 767, 768, 769, 1023, 1536, 1537,
	2047, 3072, 3075, 4095, 8191, 12345, 15999, 16000};
	size_t		count = rq_test_quick ? 6 : sizeof(dims) / sizeof(dims[0]);
	rq_pcg32	rng;

	rq_pcg32_seed(&rng, 2024, 2);
	for (size_t i = 0; i < count; i++)
		check_dimension(&rng, dims[i]);
}

/* Zero length and identical inputs give exact answers in every variant. */
static void
test_exact_cases(void)
{
	float		a[40],
				b[40];

	for (int i = 0; i < 40; i++)
	{
		a[i] = (float) (i - 20) * 0.25f;
		b[i] = a[i];
	}
	for (int isa = 0; isa < rq_test_isa_count(); isa++)
	{
		const rq_distance_kernels *kern = rq_distance_kernels_for((rq_isa) isa);
		float		parts[3] = {1, 1, 1};

		RQ_CHECK(kern->l2sq(a, b, 0) == 0 && kern->dot(a, b, 0) == 0 &&
				 kern->l1(a, b, 0) == 0, "%s: n = 0", rq_isa_name((rq_isa) isa));
		kern->cosine(a, b, 0, parts);
		RQ_CHECK(parts[0] == 0 && parts[1] == 0 && parts[2] == 0, "cosine n = 0");
		RQ_CHECK(kern->l2sq(a, b, 40) == 0 && kern->l1(a, b, 40) == 0,
				 "%s: identical inputs", rq_isa_name((rq_isa) isa));
		/* quarter steps squared are exact in float, so any order is exact */
		RQ_CHECK(kern->dot(a, b, 40) == 333.75f, "%s: exact dot %g",
				 rq_isa_name((rq_isa) isa), kern->dot(a, b, 40));
	}
}

/* The one switch installs the requested level in every kernel table; scalar before it. */
static void
test_dispatch(void)
{
	rq_distance_kernels saved = rq_dist;
	rq_code_kernels saved_codes = rq_codes;

	RQ_CHECK(rq_dist.isa == RQ_ISA_SCALAR && rq_codes.isa == RQ_ISA_SCALAR, "scalar before rq_kernels_use");
	for (int isa = 0; isa < RQ_ISA_COUNT; isa++)
	{
		const rq_distance_kernels *kern = rq_distance_kernels_for((rq_isa) isa);
		const rq_code_kernels *codes = rq_code_kernels_for((rq_isa) isa);

		RQ_CHECK(kern != NULL && kern->isa == (rq_isa) isa && codes != NULL && codes->isa == (rq_isa) isa,
				 "variant %d present", isa);
		rq_kernels_use((rq_isa) isa);
		RQ_CHECK(rq_dist.isa == (rq_isa) isa && rq_dist.l2sq == kern->l2sq &&
				 rq_codes.isa == (rq_isa) isa && rq_codes.block_dot == codes->block_dot,
				 "rq_kernels_use(%d)", isa);
	}
	/* the rest of the tests run on the scalar kernels unless they ask for a level */
	rq_dist = saved;
	rq_codes = saved_codes;
}

/* A half's value from its fields, in double: the oracle of the conversions. */
static double
half_value(uint16_t h)
{
	int			exp = (h >> 10) & 0x1F,
				mant = h & 0x3FF;
	double		v = exp == 0 ? ldexp(mant, -24) : ldexp(1024 + mant, exp - 25);

	return (h & 0x8000) ? -v : v;
}

/*
 * Every half (all 65,536) converted by every level: finite values equal the
 * double oracle exactly, infinities are infinite with their sign, NaNs quiet
 * NaNs with the payload kept; and every level gives the scalar twin's bits,
 * at every length 0..40 (the SIMD tails) and from unaligned addresses.
 */
static void
test_half_to_float(void)
{
	uint16_t   *all = rq_test_alloc(sizeof(uint16_t) * 65536);
	float	   *ref = rq_test_alloc(sizeof(float) * 65536),
			   *got = rq_test_alloc(sizeof(float) * 65536);

	for (int i = 0; i < 65536; i++)
		all[i] = (uint16_t) i;
	rq_half_to_float_scalar(all, ref, 65536);
	for (int i = 0; i < 65536; i++)
	{
		uint32_t	bits;
		int			exp = (i >> 10) & 0x1F,
					mant = i & 0x3FF;

		memcpy(&bits, &ref[i], sizeof(bits));
		if (exp == 0x1F && mant != 0)
			RQ_CHECK(isnan(ref[i]) && (bits & 0x400000u) && ((bits >> 13) & 0x1FF) == (uint32_t) (mant & 0x1FF) &&
					 (bits >> 31) == (uint32_t) (i >> 15), "half 0x%04x: a quiet NaN with its payload", i);
		else if (exp == 0x1F)
			RQ_CHECK(isinf(ref[i]) && !!signbit(ref[i]) == !!(i & 0x8000), "half 0x%04x: infinity", i);
		else
			RQ_CHECK((double) ref[i] == half_value((uint16_t) i) && !!signbit(ref[i]) == !!(i & 0x8000),
					 "half 0x%04x: %.9g, not %.9g", i, ref[i], half_value((uint16_t) i));
	}
	for (int isa = 0; isa < rq_test_isa_count(); isa++)
	{
		const rq_distance_kernels *k = rq_distance_kernels_for((rq_isa) isa);

		k->half_to_float(all, got, 65536);
		RQ_CHECK(memcmp(got, ref, sizeof(float) * 65536) == 0, "level %d: the scalar twin's bits", isa);
		for (size_t n = 0; n <= 40; n++)
		{
			uint16_t   *src = rq_test_alloc(sizeof(uint16_t) * (n + 1));
			float	   *dst = rq_test_alloc(sizeof(float) * (n + 1));

			memcpy(src + 1, all + 15300 + 7 * n, sizeof(uint16_t) * n);
			k->half_to_float(src + 1, dst + 1, n);
			RQ_CHECK(memcmp(dst + 1, ref + 15300 + 7 * n, sizeof(float) * n) == 0,
					 "level %d, %zu halves from an odd address", isa, n);
			free(src);
			free(dst);
		}
	}
	free(all);
	free(ref);
	free(got);
}

const rq_test_case rq_distance_tests[] = {
	{"distance/half to float: every value, every level", test_half_to_float, 0},
	{"distance/dispatch", test_dispatch, 0},
	{"distance/exact cases", test_exact_cases, 0},
	{"distance/dimensions 1..300 vs double reference", test_small_dimensions, 0},
	{"distance/dimensions up to 16000 vs double reference", test_large_dimensions, 0},
	{NULL, NULL, 0}
};
