/*
 * rq_test.h
 *	  A minimal test harness for src/core: checks that record failures,
 *	  TAP-style output ("ok N - name"), and a summary line that
 *	  test/tools/run-tests.sh adds up.
 */
#ifndef RQ_TEST_H
#define RQ_TEST_H

#include <stddef.h>

#include "core/rq_cpu.h"

typedef struct rq_test_case
{
	const char *name;
	void		(*fn) (void);
	int			statistical;	/* asserts measured rates: full size only, skipped by --quick */
} rq_test_case;

/*
 * Set by --quick (runs under CPU emulation): tests shrink their loops, and
 * statistical tests, whose thresholds need full-size samples, are skipped.
 */
extern int	rq_test_quick;

/* Records a failed check of the running test (prints at most a few). */
extern void rq_test_fail(const char *file, int line, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

#define RQ_CHECK(cond, ...) \
	do { \
		if (!(cond)) \
			rq_test_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

/* Levels whose kernels this CPU can run (scalar .. detected). */
extern int	rq_test_isa_count(void);

/* malloc that aborts on failure (tests only). */
extern void *rq_test_alloc(size_t size);

/* Test lists, one per file (NULL-name terminated). */
extern const rq_test_case rq_cpu_tests[];
extern const rq_test_case rq_random_tests[];
extern const rq_test_case rq_distance_tests[];
extern const rq_test_case rq_vector_text_tests[];
extern const rq_test_case rq_vector_text_fuzz_tests[];
extern const rq_test_case rq_rotation_tests[];
extern const rq_test_case rq_block_tests[];
extern const rq_test_case rq_kmeans_tests[];
extern const rq_test_case rq_estimator_tests[];
extern const rq_test_case rq_rerank_tests[];
extern const rq_test_case rq_ivf_tests[];
extern const rq_test_case rq_exbits_tests[];
extern const rq_test_case rq_layout_tests[];
extern const rq_test_case rq_select_tests[];
extern const rq_test_case rq_groups_tests[];

#endif							/* RQ_TEST_H */
