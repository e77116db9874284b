/*
 * blas_loader.c
 *	  Loads OpenBLAS on first need (index builds: k-means) and binds the
 *	  core's call table to it (src/core/rq_blas.h).
 *
 * OpenBLAS starts a worker thread per core while it loads unless
 * OPENBLAS_NUM_THREADS is already 1, and backends must stay single-threaded,
 * so the variable is set in this process before dlopen.
 */
#include "postgres.h"

#include <dlfcn.h>
#include <stdlib.h>

#include "core/rq_blas.h"
#include "rabitq.h"

#define RABITQ_OPENBLAS "libopenblas.so.0"

/* Looks a symbol up in OpenBLAS. */
static void *
LookupSymbol(void *ctx, const char *name)
{
	return dlsym(ctx, name);
}

/* dlopen, or ERROR naming the library and the package that provides it. */
static void *
OpenLibrary(const char *name, const char *package)
{
	void	   *handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);

	if (handle == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("could not load library \"%s\" needed to build a rabitq index: %s",
						name, dlerror()),
				 errhint("Install the Debian package %s (\"make deps\" does).", package)));
	return handle;
}

void
RabitqLoadBlas(void)
{
	static void *handle;
	const char *missing = NULL;

	if (rq_blas_bound())
		return;
	if (setenv("OPENBLAS_NUM_THREADS", "1", 1) != 0)
		elog(ERROR, "could not set OPENBLAS_NUM_THREADS");
	handle = OpenLibrary(RABITQ_OPENBLAS, "libopenblas0");
	if (rq_blas_bind(LookupSymbol, handle, &missing) != RQ_OK)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("BLAS routine %s not found in %s", missing, RABITQ_OPENBLAS)));
}
