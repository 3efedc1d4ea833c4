/* lowprec.c - rounding to float32, bfloat16 and float16, the emulated
 * low-precision product, and the measured envelope (lowprec.h). */
#include "lionmuon/lowprec.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "lionmuon/common.h"

static const char *const NAMES[LP_NPREC] = {"f64", "f32", "bf16", "f16"};

const char *lp_name(lp_precision p)
{
    return (unsigned)p < LP_NPREC ? NAMES[p] : "?";
}

int lp_parse(const char *name, lp_precision *out)
{
    int i = lm_name_lookup(NAMES, LP_NPREC, name);
    if (i < 0)
        return -1;
    *out = (lp_precision)i;
    return 0;
}

/* significant bits, smallest normal exponent, largest finite value */
static const int SIG_BITS[LP_NPREC] = {53, 24, 8, 11};
static const int EMIN[LP_NPREC] = {-1022, -126, -126, -14};
static const double MAXV[LP_NPREC] = {DBL_MAX, FLT_MAX, 0x1.fep127, 65504.0};

double lp_unit_roundoff(lp_precision p)
{
    return ldexp(1.0, -SIG_BITS[(unsigned)p < LP_NPREC ? p : 0]);
}

/* Round to `bits` significant bits, ties to even, subnormal below 2^emin:
 * x / q is exact (q a power of two) and nearbyint rounds to nearest even. */
static double round_sig(double x, int bits, int emin, double maxv)
{
    if (x == 0 || !isfinite(x))
        return x;
    int ex = ilogb(x);
    if (ex < emin)
        ex = emin;
    double q = ldexp(1.0, ex - (bits - 1));
    double r = nearbyint(x / q) * q;
    return fabs(r) > maxv ? copysign(INFINITY, x) : r;
}

double lp_round(lp_precision p, double x)
{
    switch (p) {
    case LP_F64: return x;
    case LP_F32: return (double)(float)x;
    default: return round_sig(x, SIG_BITS[p], EMIN[p], MAXV[p]);
    }
}

/* float -> bfloat16 by the bit pattern: add half an ulp of bf16 (less one,
 * plus the kept lsb: ties to even) and drop the low 16 bits; overflow
 * carries into the exponent and gives infinity, as it should. */
static float bf16_of_float(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u)
        return x; /* inf, NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    u &= 0xffff0000u;
    float y;
    memcpy(&y, &u, sizeof y);
    return y;
}

float lp_roundf(lp_precision p, float x)
{
    switch (p) {
    case LP_F64:
    case LP_F32: return x;
    case LP_BF16: return bf16_of_float(x);
    case LP_F16: return (float)round_sig(x, 11, -14, 65504.0);
    }
    return x;
}

void lp_round_array(lp_precision p, size_t n, double *x)
{
    if (p == LP_F64)
        return;
    for (size_t i = 0; i < n; i++)
        x[i] = lp_round(p, x[i]);
}

void lp_roundf_array(lp_precision p, size_t n, float *x)
{
    if (p == LP_F64 || p == LP_F32)
        return;
    for (size_t i = 0; i < n; i++)
        x[i] = lp_roundf(p, x[i]);
}

void lp_gemm(lp_precision p, int trans_a, int trans_b, int m, int n, int k,
             const float *A, int lda, const float *B, int ldb, float *C, int ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, A, lda, B, ldb, 0.0f, C,
                ldc);
    if (p == LP_BF16 || p == LP_F16)
        for (int i = 0; i < m; i++)
            lp_roundf_array(p, (size_t)n, C + (size_t)i * ldc);
}

/* ---- the envelope ---- */

static const char *const KIND_NAMES[LP_NKIND] = {"value", "muon", "sign", "adamw", "state"};

const char *lp_kind_name(lp_kind k)
{
    return (unsigned)k < LP_NKIND ? KIND_NAMES[k] : "?";
}

int lp_kind_parse(const char *name, lp_kind *out)
{
    int i = lm_name_lookup(KIND_NAMES, LP_NKIND, name);
    if (i < 0)
        return -1;
    *out = (lp_kind)i;
    return 0;
}

/* The envelope, measured (relative Frobenius errors against the double
 * reference, the maximum over every case and 5 seeds) by
 *     /usr/bin/python3 experiments/torch_verify/envelope.py --seeds 5
 * on the development machine (OpenBLAS, torch 1.13 CPU), which prints this
 * table; the full tables are in experiments/torch_verify/README.md.
 *   value  ns5 (5 steps) in p against ns5 in double, on U diag(s) V^T with
 *          s log-spaced over condition numbers 1, 1e2, 1e4, 1e6 and shapes
 *          64x64 to 512x128 (both orientations): `lionmuon msign
 *          --precision p` and PyTorch in p (float32-accumulated products).
 *          It grows with the condition number (bf16: 2e-2 at cond 1, 0.27
 *          at cond 1e6; f32: 5e-7 to 7e-6), and the maximum is kept.
 *          f64: PyTorch float64 against this code, and 2 BLAS threads
 *          against 1.
 *   muon   the update of a Muon step (`lionmuon step --precision p`, and
 *          the PyTorch replay of it), never below value.
 *   sign, adamw, state   the update of a sign step and of an AdamW step, and
 *          the change of the optimizer state, with zero weights (the
 *          rounding of stored weights is lp_threshold's separate term).
 *          float32 master weights, state and elementwise arithmetic in
 *          every low precision, so these are the float32 rounding of the
 *          update itself (f64: 0, both implementations agree exactly). */
static const double ENVELOPE[LP_NPREC][LP_NKIND] = {
    /*            value     muon      sign      adamw     state */
    /* f64  */ {2.04e-14, 2.04e-14, 0.00e+00, 0.00e+00, 9.97e-16},
    /* f32  */ {7.07e-06, 7.07e-06, 2.53e-08, 7.37e-08, 6.71e-08},
    /* bf16 */ {2.67e-01, 2.67e-01, 2.53e-08, 7.37e-08, 6.71e-08},
    /* f16  */ {3.30e-02, 3.30e-02, 2.53e-08, 7.37e-08, 6.71e-08},
};

double lp_envelope(lp_precision p, lp_kind k)
{
    if ((unsigned)p >= LP_NPREC || (unsigned)k >= LP_NKIND)
        return NAN;
    return ENVELOPE[p][k];
}

double lp_threshold(lp_precision p, lp_kind k, lp_precision store, double ratio)
{
    double t = LP_MARGIN * lp_envelope(p, k);
    if (k != LP_KIND_VALUE && ratio > 0)
        t += 3.0 * lp_unit_roundoff(store) * ratio;
    return t;
}
