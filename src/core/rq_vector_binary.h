/*
 * rq_vector_binary.h
 *	  pgvector's binary form of a vector (COPY BINARY, drivers' binary
 *	  parameters): int16 dim, int16 unused (0), then dim float4, all in
 *	  network byte order.  Decoding is split in two so the server can check
 *	  the dimensions against the column's typmod between the header and the
 *	  values, and refuse a short buffer before allocating anything.
 */
#ifndef RQ_VECTOR_BINARY_H
#define RQ_VECTOR_BINARY_H

#include <stddef.h>
#include <stdint.h>

#define RQ_BINARY_HEADER 4

typedef enum rq_binary_status
{
	RQ_BINARY_OK = 0,
	RQ_BINARY_SHORT,			/* fewer bytes than the header or the values need */
	RQ_BINARY_NAN,				/* a value is NaN */
	RQ_BINARY_INFINITE			/* a value is infinite */
} rq_binary_status;

/* Reads the header of buf (len bytes): dim and unused, as stored (signed). */
extern rq_binary_status rq_vector_binary_header(const uint8_t *buf, size_t len, int *dim, int *unused);

/* Bytes of the values of a dim-dimensional vector (after the header). */
static inline size_t
rq_vector_binary_values_size(int dim)
{
	return (size_t) dim * 4;
}

/*
 * Decodes dim (>= 1) values from buf (len bytes, the header excluded) into
 * out; on RQ_BINARY_NAN / RQ_BINARY_INFINITE, *bad is the first such value's
 * index (out holds the values up to it).
 */
extern rq_binary_status rq_vector_binary_values(const uint8_t *buf, size_t len, int dim, float *out,
												int *bad);

/* Encodes a vector (header and values) into out, 4 + 4 dim bytes. */
extern void rq_vector_binary_encode(const float *x, int dim, int unused, uint8_t *out);

#endif							/* RQ_VECTOR_BINARY_H */
