/*
 * rq_cpu.c
 *	  Runtime detection of the SIMD level (CPUID + XGETBV).
 *
 * A feature is usable only when the CPU reports it *and* the operating system
 * saves the matching register state (XCR0), which is why this reads XGETBV
 * instead of trusting the CPUID feature bits alone.
 */
#include "rq_cpu.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <stdint.h>

/* CPUID leaf 1, ECX */
#define RQ_CPUID1_FMA		(1u << 12)
#define RQ_CPUID1_F16C		(1u << 29)
#define RQ_CPUID1_POPCNT	(1u << 23)
#define RQ_CPUID1_OSXSAVE	(1u << 27)
#define RQ_CPUID1_AVX		(1u << 28)
/* CPUID leaf 7 subleaf 0, EBX */
#define RQ_CPUID7_AVX2		(1u << 5)
#define RQ_CPUID7_AVX512F	(1u << 16)
#define RQ_CPUID7_AVX512DQ	(1u << 17)
#define RQ_CPUID7_AVX512BW	(1u << 30)
#define RQ_CPUID7_AVX512VL	(1u << 31)
/* CPUID leaf 7 subleaf 0, ECX */
#define RQ_CPUID7_VPOPCNTDQ (1u << 14)
/* XCR0: SSE and AVX state; opmask, upper ZMM0-15 and ZMM16-31 state */
#define RQ_XCR0_AVX			0x06u
#define RQ_XCR0_AVX512		0xE6u

/* Reads XCR0; only valid when CPUID reports OSXSAVE. */
static uint64_t
rq_read_xcr0(void)
{
	uint32_t	eax,
				edx;

	__asm__ volatile ("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
	return ((uint64_t) edx << 32) | eax;
}

rq_isa
rq_cpu_detect(void)
{
	unsigned int eax,
				ebx,
				ecx,
				edx;
	unsigned int ecx1;
	uint64_t	xcr0;
	int			avx2;

	if (!__get_cpuid(1, &eax, &ebx, &ecx1, &edx))
		return RQ_ISA_SCALAR;
	if ((ecx1 & RQ_CPUID1_OSXSAVE) == 0 || (ecx1 & RQ_CPUID1_AVX) == 0)
		return RQ_ISA_SCALAR;
	xcr0 = rq_read_xcr0();
	if ((xcr0 & RQ_XCR0_AVX) != RQ_XCR0_AVX)
		return RQ_ISA_SCALAR;
	if (__get_cpuid_max(0, NULL) < 7)
		return RQ_ISA_SCALAR;
	__cpuid_count(7, 0, eax, ebx, ecx, edx);

	avx2 = (ebx & RQ_CPUID7_AVX2) && (ecx1 & RQ_CPUID1_FMA) &&
		(ecx1 & RQ_CPUID1_POPCNT) && (ecx1 & RQ_CPUID1_F16C);
	if (!avx2)
		return RQ_ISA_SCALAR;
	if ((xcr0 & RQ_XCR0_AVX512) == RQ_XCR0_AVX512 &&
		(ebx & RQ_CPUID7_AVX512F) && (ebx & RQ_CPUID7_AVX512DQ) &&
		(ebx & RQ_CPUID7_AVX512BW) && (ebx & RQ_CPUID7_AVX512VL) &&
		(ecx & RQ_CPUID7_VPOPCNTDQ))
		return RQ_ISA_AVX512;
	return RQ_ISA_AVX2;
}
#else
rq_isa
rq_cpu_detect(void)
{
	return RQ_ISA_SCALAR;
}
#endif

static const char *const rq_isa_names[RQ_ISA_COUNT] = {"scalar", "avx2", "avx512"};

const char *
rq_isa_name(rq_isa isa)
{
	if ((int) isa < 0 || (int) isa >= RQ_ISA_COUNT)
		return "unknown";
	return rq_isa_names[isa];
}

int
rq_isa_from_name(const char *name)
{
	for (int i = 0; i < RQ_ISA_COUNT; i++)
		if (strcmp(name, rq_isa_names[i]) == 0)
			return i;
	return -1;
}

rq_isa
rq_isa_choose(rq_isa detected, const char *cap, int *bad_cap)
{
	int			wanted;

	*bad_cap = 0;
	if (cap == NULL || cap[0] == '\0')
		return detected;
	wanted = rq_isa_from_name(cap);
	if (wanted < 0)
	{
		*bad_cap = 1;
		return detected;
	}
	return (wanted < (int) detected) ? (rq_isa) wanted : detected;
}
