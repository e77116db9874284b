/*
 * test_cpu.c
 *	  CPU detection and level selection.
 */
#include <string.h>

#include "core/rq_cpu.h"
#include "rq_test.h"

/* Detection agrees with the compiler's own CPUID reading. */
static void
test_detect_matches_compiler(void)
{
	rq_isa		isa = rq_cpu_detect();
	int			avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
		__builtin_cpu_supports("popcnt");
	int			avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
		__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
		__builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vpopcntdq");
	rq_isa		expected = avx512 ? RQ_ISA_AVX512 : avx2 ? RQ_ISA_AVX2 : RQ_ISA_SCALAR;

	RQ_CHECK(isa == expected, "detected %s, compiler builtins say %s",
			 rq_isa_name(isa), rq_isa_name(expected));
}

/* A cap lowers the level, never raises it; unknown caps are flagged. */
static void
test_choose_caps(void)
{
	int			bad;

	RQ_CHECK(rq_isa_choose(RQ_ISA_AVX512, NULL, &bad) == RQ_ISA_AVX512 && !bad, "no cap");
	RQ_CHECK(rq_isa_choose(RQ_ISA_AVX512, "", &bad) == RQ_ISA_AVX512 && !bad, "empty cap");
	RQ_CHECK(rq_isa_choose(RQ_ISA_AVX512, "avx2", &bad) == RQ_ISA_AVX2 && !bad, "cap avx2");
	RQ_CHECK(rq_isa_choose(RQ_ISA_AVX512, "scalar", &bad) == RQ_ISA_SCALAR, "cap scalar");
	RQ_CHECK(rq_isa_choose(RQ_ISA_AVX2, "avx512", &bad) == RQ_ISA_AVX2 && !bad, "no raise");
	RQ_CHECK(rq_isa_choose(RQ_ISA_SCALAR, "avx2", &bad) == RQ_ISA_SCALAR, "no raise");
	RQ_CHECK(rq_isa_choose(RQ_ISA_AVX2, "sse9", &bad) == RQ_ISA_AVX2 && bad, "bad cap");
}

/* Names and levels map both ways. */
static void
test_names(void)
{
	for (int i = 0; i < RQ_ISA_COUNT; i++)
		RQ_CHECK(rq_isa_from_name(rq_isa_name((rq_isa) i)) == i, "level %d", i);
	RQ_CHECK(rq_isa_from_name("AVX2") == -1, "names are lowercase");
	RQ_CHECK(strcmp(rq_isa_name((rq_isa) 7), "unknown") == 0, "out of range");
}

const rq_test_case rq_cpu_tests[] = {
	{"cpu/detect matches compiler builtins", test_detect_matches_compiler, 0},
	{"cpu/choose caps the level", test_choose_caps, 0},
	{"cpu/level names", test_names, 0},
	{NULL, NULL, 0}
};
