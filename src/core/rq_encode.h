/*
 * rq_encode.h
 *	  The row encoder: how a vector becomes an index entry, written once for
 *	  every stage that makes or verifies entries (build, insert, check) and
 *	  for the query side of a scan.
 *
 *	  vector  metric preprocessing (cosine: the unit vector), then rotation
 *	  entry   the residual from its list's rotated centroid, its 1-bit code
 *			  and factors (rq_quantize) and, for the refining stage, its
 *			  B-bit code (rq_ex_quantize); refused when a factor is not a
 *			  finite float (a vector of huge elements far from every
 *			  centroid), so no scan ever meets such an entry
 */
#ifndef RQ_ENCODE_H
#define RQ_ENCODE_H

#include "rq_exbits.h"
#include "rq_quantize.h"
#include "rq_rotation.h"

/*
 * Vector x (D floats) preprocessed for the metric into prep (D floats) and,
 * when rotated is not NULL, rotated into it (Dp floats);
 * RQ_ERR_ZERO_VECTOR for a zero vector under cosine.
 */
extern rq_status rq_encode_vector(const rq_rotation *rot, rq_metric metric, const float *x,
								  float *prep, float *rotated);

/*
 * The same for a query.  Under inner product the order of <q, o> does not
 * change when q is multiplied by a positive number, so a query with
 * elements beyond 2^60 is scaled down by a power of two, keeping every
 * estimate of the scan finite: *scale_exp is the exponent (0 when not
 * scaled), and estimates and bounds are in units of 2^-scale_exp of the
 * exact distances.
 */
extern rq_status rq_encode_query(const rq_rotation *rot, rq_metric metric, const float *x,
								 float *prep, float *rotated, int *scale_exp);

/*
 * The entry of a rotated vector in the list of rotated centroid c: code
 * (rq_code_words(dp) words) and factors; residual (Dp floats) receives
 * o - c and *residual2 its squared norm.  RQ_ERR_OVERFLOW when a factor is
 * not finite.
 */
extern rq_status rq_encode_entry(const float *rotated, const float *c, int dp, rq_metric metric,
								 float *residual, uint64_t *code, rq_factors *f,
								 float *residual2);

/*
 * The B-bit code and factors of the residual rq_encode_entry left in
 * residual (work: rq_ex_work_bytes); RQ_ERR_OVERFLOW when a factor is not
 * finite.
 */
extern rq_status rq_encode_ex(const rq_ex_quantizer *qz, const float *residual, uint8_t *code,
							  rq_ex_factors *f, void *work);

#endif							/* RQ_ENCODE_H */
