/*
 * rq_types.c
 *	  Status messages, workspace carving and the malloc allocator.
 */
#include "rq_types.h"

#include <stdlib.h>

const char *
rq_status_message(rq_status status)
{
	switch (status)
	{
		case RQ_OK:
			return "ok";
		case RQ_ERR_ZERO_VECTOR:
			return "zero vector has no direction (cosine distance is undefined)";
		case RQ_ERR_NO_MEMORY:
			return "out of memory";
		case RQ_ERR_OVERFLOW:
			return "a factor of the entry is outside the range of float";
		case RQ_ERR_ARGUMENT:
			return "argument out of range";
	}
	return "unknown status";
}

size_t
rq_carve(char *base, const size_t *sizes, void **parts, int n)
{
	size_t		off = 0;

	for (int i = 0; i < n; i++)
	{
		parts[i] = base ? base + off : NULL;
		off += (sizes[i] + 63) & ~(size_t) 63;
	}
	return off;
}

static void *
rq_malloc_grow(void *ctx, void *ptr, size_t size)
{
	(void) ctx;
	return realloc(ptr, size);
}

static void
rq_malloc_release(void *ctx, void *ptr)
{
	(void) ctx;
	free(ptr);
}

const rq_allocator rq_malloc_allocator = {rq_malloc_grow, rq_malloc_release, NULL};
