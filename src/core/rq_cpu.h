/*
 * rq_cpu.h
 *	  Instruction-set levels and runtime CPU detection for the SIMD kernels.
 *
 * Kernels are compiled per level with function target attributes, never with
 * -march, and one level is chosen when the library loads.  The levels are
 * cumulative: a CPU at RQ_ISA_AVX512 can also run the AVX2 and scalar code.
 *
 * No PostgreSQL headers here (src/core is plain C).
 */
#ifndef RQ_CPU_H
#define RQ_CPU_H

typedef enum rq_isa
{
	RQ_ISA_SCALAR = 0,			/* portable C, any x86-64 or other CPU */
	RQ_ISA_AVX2 = 1,			/* AVX2 + FMA + POPCNT (Haswell, Zen 1 and later) */
	RQ_ISA_AVX512 = 2			/* AVX-512 F/BW/DQ/VL + VPOPCNTDQ (Ice Lake, Zen 4) */
} rq_isa;

#define RQ_ISA_COUNT 3

/* Whether this build has the x86 SIMD kernels (AVX2, AVX-512) of every table. */
#if defined(__x86_64__)
#define RQ_HAVE_X86_KERNELS 1
#endif

/* Environment variable that caps the chosen level (for tests and bisection) */
#define RQ_ISA_ENV "VECRABITQ_SIMD"

/* Highest level this CPU and operating system support (CPUID + XGETBV). */
extern rq_isa rq_cpu_detect(void);

/*
 * Level to use: the detected level, lowered to the one named by cap
 * ("scalar", "avx2", "avx512") when cap is a known name.  Never raises it.
 * Returns -1 through *bad_cap when cap is set but not a known name.
 */
extern rq_isa rq_isa_choose(rq_isa detected, const char *cap, int *bad_cap);

/* Lowercase name of a level ("scalar", "avx2", "avx512"). */
extern const char *rq_isa_name(rq_isa isa);

/* Level for a name, or -1 when the name is unknown. */
extern int	rq_isa_from_name(const char *name);

#endif							/* RQ_CPU_H */
