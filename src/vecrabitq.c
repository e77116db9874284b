/*
 * vecrabitq.c
 *	  Library entry point: picks the SIMD kernels once when the library loads
 *	  and registers the rabitq settings and index options.
 */
#include "postgres.h"

#include <stdlib.h>

#include "utils/builtins.h"

#include "core/rq_cpu.h"
#include "core/rq_distance.h"
#include "core/rq_kernels.h"
#include "rabitq.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(vecrabitq_simd);

void		_PG_init(void);

/*
 * Chooses the kernels from CPUID.  VECRABITQ_SIMD in the server's environment
 * ("scalar", "avx2", "avx512") can lower the level, never raise it; tests use
 * it to run the same queries on every variant.
 */
void
_PG_init(void)
{
	const char *cap = getenv(RQ_ISA_ENV);
	int			bad_cap;
	rq_isa		isa = rq_isa_choose(rq_cpu_detect(), cap, &bad_cap);

	if (bad_cap)
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ignoring unknown %s value \"%s\"", RQ_ISA_ENV, cap),
				 errhint("Use scalar, avx2 or avx512.")));
	rq_kernels_use(isa);
	RabitqInitGucs();
	RabitqInitOptions();
}

/* vecrabitq_simd(): name of the kernel variant this backend uses */
Datum
vecrabitq_simd(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(rq_isa_name(rq_dist.isa)));
}
