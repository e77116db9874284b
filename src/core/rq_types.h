/*
 * rq_types.h
 *	  Types shared by the RaBitQ core: metrics, status codes, the allocator
 *	  interface, and the code geometry (padding to whole 64-bit words).
 *
 * Symbols follow doc/RABITQ.md: D is the vector dimension, Dp the padded
 * dimension (the code length in bits), "words" the number of uint64 per code.
 */
#ifndef RQ_TYPES_H
#define RQ_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef enum rq_metric
{
	RQ_METRIC_L2 = 1,			/* Euclidean distance (vector_l2_ops) */
	RQ_METRIC_IP = 2,			/* negative inner product (vector_ip_ops) */
	RQ_METRIC_COSINE = 3		/* cosine distance, on normalised vectors */
} rq_metric;

typedef enum rq_status
{
	RQ_OK = 0,
	RQ_ERR_ZERO_VECTOR,			/* cosine of a zero vector is undefined */
	RQ_ERR_NO_MEMORY,			/* an allocation failed */
	RQ_ERR_OVERFLOW,			/* a value the index would store is beyond float */
	RQ_ERR_ARGUMENT				/* a size or parameter out of range */
} rq_status;

/* A short lowercase description of a status. */
extern const char *rq_status_message(rq_status status);

/*
 * Memory for structures that grow (the re-rank heaps).  grow has realloc
 * semantics (ptr may be NULL) and returns NULL on failure; the PostgreSQL
 * layer passes palloc-based functions that raise an error instead.
 */
typedef struct rq_allocator
{
	void	   *(*grow) (void *ctx, void *ptr, size_t size);
	void		(*release) (void *ctx, void *ptr);
	void	   *ctx;
} rq_allocator;

/* realloc/free. */
extern const rq_allocator rq_malloc_allocator;

/* Dp = max(64, 64 * ceil(D / 64)) (doc/RABITQ.md 1.2). */
static inline int
rq_padded_dim(int dim)
{
	int			dp = ((dim + 63) / 64) * 64;

	return dp < 64 ? 64 : dp;
}

/* Number of uint64 words of a 1-bit code (or of one bit plane). */
static inline int
rq_code_words(int dp)
{
	return dp / 64;
}

/*
 * The total order of scores and distances every ranking in the core uses:
 * -inf < finite < +inf < NaN, all NaNs equal.  A user's numbers can make a
 * score NaN (a query near the float limits); with IEEE comparisons alone a
 * NaN is neither before nor after anything, which breaks heaps and selections.
 * NaN last matches PostgreSQL's float8 ordering, so ORDER BY puts such rows
 * where the SQL operators do.
 */
static inline int
rq_order_before(double a, double b)
{
	return a < b || (b != b && a == a);
}

static inline int
rq_order_same(double a, double b)
{
	return a == b || (a != a && b != b);
}

/* Bits of the quantized query (doc/RABITQ.md 2.2: Bq = 4). */
#define RQ_QUERY_BITS 4

/*
 * Carves one caller-provided block into n parts of the given sizes, each
 * starting on a 64-byte boundary: parts[i] points into base (NULL when base
 * is NULL, to measure).  Returns the bytes the block needs.  The core's
 * workspaces are laid out with it, so their sizes are known before the
 * caller allocates anything.
 */
extern size_t rq_carve(char *base, const size_t *sizes, void **parts, int n);

#endif							/* RQ_TYPES_H */
