/* lowprec.h - low-precision arithmetic emulated on the CPU (prefix lp_).
 *
 * A GPU kernel in float32, bfloat16 or float16 rounds the inputs and the
 * output of every product to its format and accumulates the sums in float32.
 * lp_gemm does the same on the CPU: its float inputs hold values of the
 * format (lp_roundf), OpenBLAS's sgemm accumulates in float32, and the
 * result is rounded to the format.  msign (msign.h, msign_opts.precision)
 * and `lionmuon step --precision` build on it to predict the deviation a
 * correct low-precision implementation shows from this double-precision
 * reference; the tolerances of `compare` and of the PyTorch verification
 * example are derived from that measured envelope (lp_envelope below and
 * experiments/torch_verify/README.md).
 *
 * Rounding is to nearest, ties to even, with the format's exponent range:
 * gradual underflow to its subnormals and overflow to infinity.
 *   format  significant bits  unit roundoff u   largest finite
 *   f64     53                2^-53 = 1.1e-16   1.8e308
 *   f32     24                2^-24 = 6.0e-8    3.4e38
 *   bf16     8                2^-8  = 3.9e-3    3.4e38
 *   f16     11                2^-11 = 4.9e-4    65504
 */
#ifndef LM_LOWPREC_H
#define LM_LOWPREC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { LP_F64 = 0, LP_F32, LP_BF16, LP_F16 } lp_precision;
#define LP_NPREC 4

/* "f64", "f32", "bf16", "f16"; parse returns -1 on another name. */
const char *lp_name(lp_precision p);
int lp_parse(const char *name, lp_precision *out);

/* The unit roundoff u = 2^-(significant bits). */
double lp_unit_roundoff(lp_precision p);

/* x rounded to the format (f64: x itself). */
double lp_round(lp_precision p, double x);
/* A float (already an f32 value) rounded to the format; f64 and f32 leave
 * it as it is. */
float lp_roundf(lp_precision p, float x);
void lp_round_array(lp_precision p, size_t n, double *x);
void lp_roundf_array(lp_precision p, size_t n, float *x);

/* C (m x n, row-major, leading dimension ldc) = round_p(op(A) op(B)), op(X)
 * = X or X^T, with op(A) m x k and op(B) k x n: the products of A and B
 * (values of the format) accumulated in float32 by cblas_sgemm, the result
 * rounded to the format.  p must be f32, bf16 or f16. */
void lp_gemm(lp_precision p, int trans_a, int trans_b, int m, int n, int k,
             const float *A, int lda, const float *B, int ldb, float *C, int ldc);

/* ---- the measured envelope of a correct low-precision implementation ----
 *
 * Relative Frobenius errors against the double-precision reference, the
 * maximum over the shapes, condition numbers and seeds of the measurement
 * (experiments/torch_verify/envelope.py, which prints this table): what
 * `compare` and verify_golden.py multiply by LP_MARGIN to get their
 * default thresholds.  Kinds:
 *   LP_KIND_VALUE  msign (ns5) outputs: the largest deviation of a correct
 *                  kernel, compare's threshold without --baseline
 *   LP_KIND_MUON   the update W' - W of a Muon step
 *   LP_KIND_SIGN   the update of a sign (Lion) step
 *   LP_KIND_ADAMW  the update of an AdamW step
 *   LP_KIND_STATE  the change of an optimizer state tensor
 */
typedef enum {
    LP_KIND_VALUE = 0, LP_KIND_MUON, LP_KIND_SIGN, LP_KIND_ADAMW, LP_KIND_STATE
} lp_kind;
#define LP_NKIND 5
const char *lp_kind_name(lp_kind k);
int lp_kind_parse(const char *name, lp_kind *out);

/* The margin over the measured envelope. */
#define LP_MARGIN 3.0

/* The measured envelope (before the margin) of kind k at precision p. */
double lp_envelope(lp_precision p, lp_kind k);

/* The default threshold on a relative Frobenius error: LP_MARGIN times
 * the envelope.  For an update (every kind but LP_KIND_VALUE) whose values
 * are stored in format `store`, add the rounding of the stored weights,
 * which no implementation can avoid: three roundings (the input, the
 * decayed weight, the result), 3 u_store ||W'||_F / ||W' - W||_F, where
 * ratio = ||W'||_F / ||W' - W||_F (pass 0 for none). */
double lp_threshold(lp_precision p, lp_kind k, lp_precision store, double ratio);

#ifdef __cplusplus
}
#endif

#endif
