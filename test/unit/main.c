/*
 * main.c
 *	  Runs the src/core unit tests.
 *
 *	  rq_unit [--quick] [--expect-isa NAME] [--list] [FILTER...]
 *
 * FILTER arguments run only tests whose name contains one of them.
 * --expect-isa fails unless runtime detection picks NAME (used by the qemu
 * runs that emulate CPUs without AVX-512 or AVX).
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rq_blas.h"
#include "rq_test.h"

int			rq_test_quick = 0;
static int	current_failures = 0;

void
rq_test_fail(const char *file, int line, const char *fmt,...)
{
	va_list		ap;

	if (++current_failures > 5)
		return;
	printf("#   %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

int
rq_test_isa_count(void)
{
	return (int) rq_cpu_detect() + 1;
}

void *
rq_test_alloc(size_t size)
{
	void	   *p = malloc(size > 0 ? size : 1);

	if (p == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	return p;
}

static void *
linked_symbol(void *ctx, const char *name)
{
	(void) ctx;
	return dlsym(RTLD_DEFAULT, name);
}

/* The tests link OpenBLAS and LAPACKE; bind the core's call table to them. */
static int
bind_blas(void)
{
	const char *missing = NULL;

	if (rq_blas_bind(linked_symbol, NULL, &missing) != RQ_OK)
	{
		fprintf(stderr, "BLAS routine %s not found\n", missing);
		return 0;
	}
	return 1;
}

static const rq_test_case *const all_lists[] = {
	rq_cpu_tests, rq_random_tests, rq_distance_tests, rq_vector_text_tests,
	rq_vector_text_fuzz_tests, rq_rotation_tests, rq_block_tests, rq_kmeans_tests,
	rq_estimator_tests, rq_rerank_tests, rq_exbits_tests, rq_ivf_tests, rq_layout_tests,
	rq_select_tests, rq_groups_tests, NULL
};

static int
selected(const char *name, int nfilters, char **filters)
{
	if (nfilters == 0)
		return 1;
	for (int i = 0; i < nfilters; i++)
		if (strstr(name, filters[i]) != NULL)
			return 1;
	return 0;
}

/* The checks this run will make (the TAP plan): selected tests not skipped, and --expect-isa's. */
static int
planned_checks(int nfilters, char **filters, int expect)
{
	int			n = expect;

	for (int l = 0; all_lists[l] != NULL; l++)
		for (const rq_test_case *t = all_lists[l]; t->name != NULL; t++)
			n += selected(t->name, nfilters, filters) && !(rq_test_quick && t->statistical);
	return n;
}

/* Checks --expect-isa; returns 1 on a mismatch. */
static int
check_expected_isa(const char *expect, int *number)
{
	const char *got = rq_isa_name(rq_cpu_detect());
	int			bad = strcmp(got, expect) != 0;

	printf("%sok %d - cpu detection picks %s (got %s)\n", bad ? "not " : "",
		   ++*number, expect, got);
	return bad;
}

int
main(int argc, char **argv)
{
	const char *expect = NULL;
	char	  **filters = rq_test_alloc(sizeof(char *) * argc);
	int			nfilters = 0,
				list = 0,
				number = 0,
				failed = 0;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--quick") == 0)
			rq_test_quick = 1;
		else if (strcmp(argv[i], "--list") == 0)
			list = 1;
		else if (strcmp(argv[i], "--expect-isa") == 0 && i + 1 < argc)
			expect = argv[++i];
		else
			filters[nfilters++] = argv[i];
	}

	if (!bind_blas())
		return 2;
	if (!list)
		printf("1..%d\n", planned_checks(nfilters, filters, expect != NULL));
	if (expect != NULL)
		failed += check_expected_isa(expect, &number);
	for (int l = 0; all_lists[l] != NULL; l++)
	{
		for (const rq_test_case *t = all_lists[l]; t->name != NULL; t++)
		{
			if (!selected(t->name, nfilters, filters))
				continue;
			if (list)
			{
				printf("%s\n", t->name);
				continue;
			}
			if (rq_test_quick && t->statistical)
			{
				printf("# skipped (statistical, not run in --quick mode): %s\n", t->name);
				continue;
			}
			current_failures = 0;
			t->fn();
			printf("%sok %d - %s\n", current_failures ? "not " : "", ++number, t->name);
			fflush(stdout);
			failed += current_failures ? 1 : 0;
		}
	}
	free(filters);
	if (!list)
		printf("# unit: %d passed, %d failed\n", number - failed, failed);
	return failed ? 1 : 0;
}
