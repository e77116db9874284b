/*
 * rq_vector_binary.c
 *	  pgvector's binary form: decoding and encoding (see rq_vector_binary.h).
 */
#include "rq_vector_binary.h"

#include <math.h>
#include <string.h>

static uint32_t
ReadBig32(const uint8_t *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | (uint32_t) p[3];
}

static int
ReadBig16(const uint8_t *p)
{
	return (int16_t) (uint16_t) ((uint16_t) p[0] << 8 | p[1]);
}

rq_binary_status
rq_vector_binary_header(const uint8_t *buf, size_t len, int *dim, int *unused)
{
	if (len < RQ_BINARY_HEADER)
		return RQ_BINARY_SHORT;
	*dim = ReadBig16(buf);
	*unused = ReadBig16(buf + 2);
	return RQ_BINARY_OK;
}

rq_binary_status
rq_vector_binary_values(const uint8_t *buf, size_t len, int dim, float *out, int *bad)
{
	if (dim < 1 || len < rq_vector_binary_values_size(dim))
		return RQ_BINARY_SHORT;
	for (int i = 0; i < dim; i++)
	{
		uint32_t	bits = ReadBig32(buf + (size_t) i * 4);

		memcpy(&out[i], &bits, sizeof(float));
		if (isnan(out[i]) || isinf(out[i]))
		{
			*bad = i;
			return isnan(out[i]) ? RQ_BINARY_NAN : RQ_BINARY_INFINITE;
		}
	}
	return RQ_BINARY_OK;
}

void
rq_vector_binary_encode(const float *x, int dim, int unused, uint8_t *out)
{
	out[0] = (uint8_t) ((unsigned) dim >> 8);
	out[1] = (uint8_t) dim;
	out[2] = (uint8_t) ((unsigned) unused >> 8);
	out[3] = (uint8_t) unused;
	for (int i = 0; i < dim; i++)
	{
		uint32_t	bits;

		memcpy(&bits, &x[i], sizeof(float));
		out[4 + (size_t) i * 4] = (uint8_t) (bits >> 24);
		out[5 + (size_t) i * 4] = (uint8_t) (bits >> 16);
		out[6 + (size_t) i * 4] = (uint8_t) (bits >> 8);
		out[7 + (size_t) i * 4] = (uint8_t) bits;
	}
}
