/*
 * rq_estimate.h
 *	  Distance estimates and lower bounds for blocks of 1-bit codes against
 *	  one list query (doc/RABITQ.md 2.3-2.5), with scalar, AVX2 and AVX-512
 *	  variants that agree bit for bit.
 *
 * Block layout (RQ_BLOCK_LANES = 8 codes, "vertical"): first the codes, word
 * w of lane l at codes[w * 8 + l], then the factors (RQ_BLOCK_FACTOR_BYTES):
 * two arrays of 8 floats, add and a, and one of 8 bfloat16, err (the top
 * half of err's float bits; rq_quantize rounds err up to that precision).
 * bc = a (2 pop - Dp) is not stored: block_dot counts each code's set bits
 * (pop) beside its dot product, so a block is 80 bytes of factors, not 128.
 * One 512-bit load then holds word w of all eight
 * codes; ANDed with a broadcast query-plane word and counted with VPOPCNTQ
 * it yields eight partial dot products at once, so no horizontal reduction
 * is ever needed and the factor arithmetic runs on eight lanes too.  (Measured
 * on this project's machine: 1.0 ns per code at D = 128 and 3.6 ns at 768,
 * against 5.8 and 7.9 ns for one code at a time.)  Unused lanes of a partly
 * filled block hold zeros; their results are meaningless and ignored.
 *
 * With ip = <b, q_u>, bc = a (2 pop - Dp) and
 * t = a * delta * (2 ip - sum_q) + bc * v_l (= -2 <r, y>):
 *
 *	 L2		 est = (add + y2) + t			  lb = est - eps * err * ||y||
 *	 cosine  est = ((add + y2) + t) / 2	  lb = est - eps * err/2 * ||y||
 *	 IP		 est = -(add + <q',c'>) + t / 2   lb = est - eps * err/2 * ||y||
 *
 * (for IP "add" is <r, c'> and est is the negative inner product, as <#>).
 * The bound holds per pair with probability about 1 - 2(1 - Phi(eps)):
 * 94 % at eps = 1.9 (doc/RABITQ.md 2.6).  It is not a guarantee.
 */
#ifndef RQ_ESTIMATE_H
#define RQ_ESTIMATE_H

#include <math.h>
#include <string.h>

#include "rq_cpu.h"
#include "rq_exbits.h"
#include "rq_query.h"
#include "rq_quantize.h"

#define RQ_BLOCK_LANES 8

/*
 * The block layout, for whoever stores blocks (the index's records, the
 * tests' arrays): lane `lane`'s code words [w0, w1) into / out of a code
 * area that starts at word w0, and its factors into / out of the factor
 * area.
 */
static inline void
rq_block_put_code(uint64_t *codes, int w0, int w1, int lane, const uint64_t *code)
{
	for (int w = w0; w < w1; w++)
		codes[(size_t) (w - w0) * RQ_BLOCK_LANES + lane] = code[w];
}

static inline void
rq_block_get_code(const uint64_t *codes, int w0, int w1, int lane, uint64_t *code)
{
	for (int w = w0; w < w1; w++)
		code[w] = codes[(size_t) (w - w0) * RQ_BLOCK_LANES + lane];
}

/* Bytes of a block's factor area: add and a (float), err (bfloat16). */
#define RQ_BLOCK_FACTOR_BYTES (RQ_BLOCK_LANES * (2 * sizeof(float) + sizeof(uint16_t)))

/* Where the err array starts in a factor area. */
#define RQ_BLOCK_ERR_OFFSET (2 * RQ_BLOCK_LANES * sizeof(float))

/* err is kept as the top 16 bits of its float, rounded up (so never narrower). */
static inline void
rq_block_put_factors(void *factors, int lane, const rq_factors *f)
{
	float		err = rq_err_round_up(f->err);
	uint32_t	bits;
	uint16_t	top;

	memcpy(&bits, &err, sizeof(bits));
	top = (uint16_t) (bits >> 16);
	memcpy((char *) factors + lane * sizeof(float), &f->add, sizeof(float));
	memcpy((char *) factors + (RQ_BLOCK_LANES + lane) * sizeof(float), &f->a, sizeof(float));
	memcpy((char *) factors + RQ_BLOCK_ERR_OFFSET + lane * sizeof(uint16_t), &top, sizeof(top));
}

static inline rq_factors
rq_block_get_factors(const void *factors, int lane)
{
	rq_factors	f;
	uint16_t	top;
	uint32_t	bits;

	memcpy(&f.add, (const char *) factors + lane * sizeof(float), sizeof(float));
	memcpy(&f.a, (const char *) factors + (RQ_BLOCK_LANES + lane) * sizeof(float), sizeof(float));
	memcpy(&top, (const char *) factors + RQ_BLOCK_ERR_OFFSET + lane * sizeof(uint16_t), sizeof(top));
	bits = (uint32_t) top << 16;
	memcpy(&f.err, &bits, sizeof(bits));
	return f;
}

/*
 * Constants of the estimate for one list query and eps, shared by every
 * block: est = m (add + qadd) + s t, with t = (a delta) (2 ip - sum_q) +
 * (a (2 pop - dp)) vl, and
 *
 *	 lb = est - bound * sqrt(err^2 + (a * qrel)^2)
 *
 * where bound = s * eps * ||y||.  err * ||y|| is the code's error in t
 * (doc/RABITQ.md 2.4); a * qrel * ||y|| = a * delta * sqrt(Dp / 12) is the
 * 4-bit query's: rounding y to the grid moves each coordinate by up to
 * delta / 2, uniformly, so <2b - 1, y - y_quantized> has standard deviation
 * delta sqrt(Dp / 12), and t carries it times a.  The two are independent
 * and add in quadrature.
 */
typedef struct rq_estimate_params
{
	float		delta,
				vl,
				m,
				s,
				qadd,
				bound,
				qrel;
	int32_t		sum_q,
				dp;
} rq_estimate_params;

extern void rq_estimate_setup(const rq_list_query *lq, float eps, rq_estimate_params *p);

/*
 * The smallest of a block's eight lower bounds when all are finite, NaN
 * otherwise: what a scan compares with its threshold to set a whole block
 * aside.  Taken as a tree, lanes i and i + 4, then i and i + 2, then 0 and
 * 1, each step "a < b ? a : b" (MINPS's rule), so that every level returns
 * the same bits (a zero's sign included).
 */
static inline float
rq_lanes_min(const float lb[RQ_BLOCK_LANES])
{
	float		m[4];

	for (int l = 0; l < RQ_BLOCK_LANES; l++)
		if (!isfinite(lb[l]))
			return NAN;
	for (int l = 0; l < 4; l++)
		m[l] = lb[l] < lb[l + 4] ? lb[l] : lb[l + 4];
	m[0] = m[0] < m[2] ? m[0] : m[2];
	m[1] = m[1] < m[3] ? m[1] : m[3];
	return m[0] < m[1] ? m[0] : m[1];
}

/*
 * Kernels of one instruction-set level.
 *   block_dot: adds <b, q_u> + 2^32 pop(b) over words [w0, w1) of a block
 *			  to ip[0..7] (the dot product in the low 32 bits, the set bits
 *			  in the high: each is below 2^31 up to Dp = 2^27); codes points
 *			  at the block's word w0 (so a block may be split across pages
 *			  by word ranges), planes are the query's full planes.
 *   block_finish: est and lb of the 8 lanes from ip and the factor area;
 *			  returns rq_lanes_min(lb).
 *   block_estimate: block_dot over all of a block's words, then
 *			  block_finish, in one call (a block in one piece, the common
 *			  case: a call and the sums' round trip through memory fewer).
 *   query_levels: out[i] = rq_query_level(q[i] - c[i], vl, delta, inv,
 *			  levels) for i < n (n a multiple of 64, levels < 256), the grid
 *			  levels of a residual query (rq_query.h, rq_exbits.h); returns
 *			  their sum.  Every step is one IEEE operation, so every level
 *			  gives the same bytes.
 *   bit_planes: bit j of each of 64 levels, level b in bit b, into
 *			  planes[j * stride] for j < nplanes (the query's bit planes,
 *			  packed like the codes).
 *   ex_dot: the integer sums of one B-bit code against a refining query
 *			 (rq_exbits.h); Dp a multiple of 64.
 */
typedef struct rq_code_kernels
{
	rq_isa		isa;
	void		(*block_dot) (const uint64_t *codes, int w0, int w1, const uint64_t *planes,
							  int words, int64_t ip[RQ_BLOCK_LANES]);
	float		(*block_finish) (const int64_t ip[RQ_BLOCK_LANES], const void *factors,
								 const rq_estimate_params *p, float *est, float *lb);
	float		(*block_estimate) (const uint64_t *codes, int words, const uint64_t *planes,
								   const void *factors, const rq_estimate_params *p, float *est,
								   float *lb);
	int64_t		(*query_levels) (const float *q, const float *c, int n, float vl, float delta, float inv,
								 int levels, uint8_t *out);
	void		(*bit_planes) (const uint8_t *levels, int nplanes, uint64_t *planes, size_t stride);
	void		(*ex_dot) (const uint8_t *code, const uint8_t *q, int dp, int bits, rq_ex_sums *s);
} rq_code_kernels;

/* The active code kernels (scalar until rq_kernels_use). */
extern rq_code_kernels rq_codes;

/* Kernels of one level, or NULL when this build has none (non-x86). */
extern const rq_code_kernels *rq_code_kernels_for(rq_isa isa);

/*
 * Per-level kernel tables and their functions (RQ_DEFINE_CODE_KERNELS in
 * rq_estimate_impl.h defines them; the scalar ones are the initial kernels).
 */
#define RQ_DECLARE_CODE_KERNELS(SUFFIX) \
extern const rq_code_kernels rq_code_kernels_##SUFFIX; \
extern void rq_block_dot_##SUFFIX(const uint64_t *codes, int w0, int w1, \
								  const uint64_t *planes, int words, \
								  int64_t ip[RQ_BLOCK_LANES]); \
extern float rq_block_finish_##SUFFIX(const int64_t ip[RQ_BLOCK_LANES], const void *factors, \
									 const rq_estimate_params *p, float *est, float *lb); \
extern float rq_block_estimate_##SUFFIX(const uint64_t *codes, int words, const uint64_t *planes, \
										const void *factors, const rq_estimate_params *p, \
										float *est, float *lb); \
extern int64_t rq_query_levels_##SUFFIX(const float *q, const float *c, int n, float vl, \
										float delta, float inv, int levels, uint8_t *out); \
extern void rq_bit_planes_##SUFFIX(const uint8_t *levels, int nplanes, uint64_t *planes, \
								   size_t stride); \
extern void rq_ex_dot_##SUFFIX(const uint8_t *code, const uint8_t *q, int dp, int bits, rq_ex_sums *s)

RQ_DECLARE_CODE_KERNELS(scalar);
#ifdef RQ_HAVE_X86_KERNELS
RQ_DECLARE_CODE_KERNELS(avx2);
RQ_DECLARE_CODE_KERNELS(avx512);
#endif

#endif							/* RQ_ESTIMATE_H */
