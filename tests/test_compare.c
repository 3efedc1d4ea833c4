/* test_compare.c - the low-precision emulation (lowprec.h) and the verdicts
 * of compare (compare.h), each against an independent computation: rounding
 * cases worked out by hand from the formats' bit layouts, the emulated
 * product against a triple loop in float32 rounded by hand, the emulated
 * msign against the double one within the format's reach, and compare's
 * rules on files written here. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lionmuon/compare.h"
#include "lionmuon/lowprec.h"
#include "lionmuon/msign.h"
#include "lionmuon/safetensors.h"
#include "testutil.h"

/* ---- rounding ---- */

Test(lowprec, names_and_unit_roundoff)
{
    lp_precision p;
    cr_assert(lp_parse("bf16", &p) == 0 && p == LP_BF16);
    cr_assert(lp_parse("fp16", &p) != 0);
    cr_assert_str_eq(lp_name(LP_F16), "f16");
    cr_assert_eq(lp_unit_roundoff(LP_F32), ldexp(1, -24));
    cr_assert_eq(lp_unit_roundoff(LP_BF16), ldexp(1, -8));
    cr_assert_eq(lp_unit_roundoff(LP_F16), ldexp(1, -11));
}

Test(lowprec, bf16_round_to_nearest_even)
{
    /* bf16 keeps 8 significant bits: the spacing in [1, 2) is 2^-7 */
    double u = ldexp(1, -7);
    cr_assert_eq(lp_round(LP_BF16, 1 + u / 2), 1.0);          /* tie: to even (1) */
    cr_assert_eq(lp_round(LP_BF16, 1 + 3 * u / 2), 1 + 2 * u); /* tie: to even (1 + 2u) */
    cr_assert_eq(lp_round(LP_BF16, 1 + u / 2 + 1e-9), 1 + u);  /* above the tie: up */
    cr_assert_eq(lp_round(LP_BF16, -(1 + 0.7 * u)), -(1 + u));
    cr_assert_eq(lp_round(LP_BF16, 3.4e38), INFINITY);        /* beyond the largest, 0x1.fep127 */
    cr_assert(isfinite(lp_round(LP_BF16, 3.0e38)));           /* below: finite */
    cr_assert_eq(lp_round(LP_BF16, 0x1.fep127), 0x1.fep127);
    /* the float path agrees with the double path on float values */
    gsl_rng *r = tu_rng(3);
    for (int i = 0; i < 10000; i++) {
        float x = (float)(gsl_ran_gaussian(r, 1.0) * pow(10, gsl_rng_uniform_int(r, 20) - 10.0));
        cr_assert_eq((double)lp_roundf(LP_BF16, x), lp_round(LP_BF16, x), "x = %a", x);
        cr_assert_eq((double)lp_roundf(LP_F16, x), lp_round(LP_F16, x), "x = %a", x);
    }
    gsl_rng_free(r);
}

Test(lowprec, f16_range_and_subnormals)
{
    cr_assert_eq(lp_round(LP_F16, 65504.0), 65504.0);
    cr_assert_eq(lp_round(LP_F16, 65520.0), INFINITY); /* the tie above 65504 rounds to inf */
    cr_assert_eq(lp_round(LP_F16, 65519.0), 65504.0);
    /* subnormals: spacing 2^-24 below 2^-14 */
    cr_assert_eq(lp_round(LP_F16, ldexp(1, -24) * 0.4), 0.0);
    cr_assert_eq(lp_round(LP_F16, ldexp(1, -24) * 0.6), ldexp(1, -24));
    cr_assert_eq(lp_round(LP_F16, ldexp(3, -20) + ldexp(1, -26)), ldexp(3, -20));
    cr_assert_eq(lp_round(LP_F32, 1 + ldexp(1, -30)), 1.0);
    cr_assert_eq(lp_round(LP_F64, 1 + ldexp(1, -30)), 1 + ldexp(1, -30));
    cr_assert(isnan(lp_round(LP_BF16, NAN)));
}

/* The emulated product against a triple loop: float32 sums in the same
 * order are not guaranteed (BLAS blocks), so the check is the format's
 * rounding: |C - round(exact)| within one ulp of the format plus the f32
 * accumulation error. */
Test(lowprec, gemm_rounds_inputs_products_and_output)
{
    int m = 7, k = 33, n = 5;
    gsl_rng *r = tu_rng(11);
    float A[7 * 33], B[33 * 5], C[7 * 5];
    for (int i = 0; i < m * k; i++)
        A[i] = lp_roundf(LP_BF16, (float)gsl_ran_gaussian(r, 1.0));
    for (int i = 0; i < k * n; i++)
        B[i] = lp_roundf(LP_BF16, (float)gsl_ran_gaussian(r, 1.0));
    lp_gemm(LP_BF16, 0, 0, m, n, k, A, k, B, n, C, n);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0, a = 0;
            for (int l = 0; l < k; l++) {
                s += (double)A[i * k + l] * B[l * n + j];
                a += fabs((double)A[i * k + l] * B[l * n + j]);
            }
            double c = C[i * n + j];
            cr_assert_eq(c, lp_round(LP_BF16, c), "output not a bf16 value");
            cr_assert(fabs(c - s) <= ldexp(1, -8) * fabs(s) + k * ldexp(1, -24) * a + 1e-30,
                      "C[%d,%d] = %g, exact %g", i, j, c, s);
        }
    gsl_rng_free(r);
}

/* ---- msign in a low precision ---- */

Test(lowprec, msign_f32_and_bf16_near_the_double_iteration)
{
    int m = 24, n = 40;
    gsl_rng *r = tu_rng(5);
    double *G = malloc(sizeof(double) * m * n), *ref = malloc(sizeof(double) * m * n),
           *low = malloc(sizeof(double) * m * n);
    tu_gauss(r, (size_t)m * n, G);
    msign_ws *ws = msign_ws_alloc(m, n);
    lm_error e;
    for (int method = MSIGN_NS5; method <= MSIGN_POLAR_EXPRESS; method++) {
        msign_opts o = msign_default_opts((msign_method)method);
        cr_assert(msign(&o, m, n, G, ref, ws, NULL, &e) == 0);
        for (int p = LP_F32; p <= LP_BF16; p++) {
            o.precision = (lp_precision)p;
            /* both orientations */
            cr_assert(msign(&o, m, n, G, low, ws, NULL, &e) == 0, "%s", e.msg);
            double d = 0, s = 0;
            for (int i = 0; i < m * n; i++) {
                d += (low[i] - ref[i]) * (low[i] - ref[i]);
                s += ref[i] * ref[i];
                cr_assert_eq(low[i], lp_round((lp_precision)p, low[i]));
            }
            double rel = sqrt(d / s), u = lp_unit_roundoff((lp_precision)p);
            /* a few hundred roundings deep, but far from the format's noise */
            cr_assert(rel > u / 100 && rel < 100 * u, "%s %s: %g", msign_method_name(o.method),
                      lp_name(o.precision), rel);
        }
    }
    msign_opts o = msign_default_opts(MSIGN_SVD);
    o.precision = LP_BF16;
    cr_assert(msign(&o, m, n, G, low, ws, NULL, &e) != 0);
    cr_assert(strstr(e.msg, "not svd") != NULL, "%s", e.msg);
    msign_ws_free(ws);
    free(G);
    free(ref);
    free(low);
    gsl_rng_free(r);
}

/* ---- compare ---- */

static char *tmpfile_with(const char *tag, st_file *f, int f32)
{
    static int count;
    char *path = malloc(256);
    snprintf(path, 256, "/tmp/lm_test_compare_%d_%d_%s.st", (int)getpid(), count++, tag);
    lm_error e;
    cr_assert((f32 ? st_write_f32(f, path, &e) : st_write(f, path, &e)) == 0, "%s", e.msg);
    st_free(f);
    return path;
}

static char *file1(const char *tag, const char *name, int n, const double *v, int f32)
{
    st_file *f = st_new();
    int64_t shape[1] = {n};
    lm_error e;
    cr_assert(st_add_f64(f, name, 1, shape, v, &e) == 0);
    return tmpfile_with(tag, f, f32);
}

Test(compare, frobenius_verdict_and_worst_element)
{
    double b[4] = {1, 2, 3, 1e-14}, a[4] = {1, 2, 3.001, 2e-14};
    char *pa = file1("a", "w", 4, a, 0), *pb = file1("b", "w", 4, b, 0);
    cmp_opts o = {0};
    cmp_report r;
    lm_error e;
    cr_assert(cmp_files(&o, pa, pb, &r, &e) == 0, "%s", e.msg);
    cr_assert_eq(r.precision, LP_F64);
    cr_assert_eq(r.passed, 0);
    double want = 0.001 / sqrt(14.0);
    cr_assert(fabs(r.rows[0].rel_fro - want) < 1e-9 * want, "%g", r.rows[0].rel_fro);
    cr_assert_eq(r.rows[0].max_rel, 1.0); /* the near-zero entry: shown, not judged */
    cr_assert_eq(r.rows[0].worst_index[0], 2);
    cmp_report_free(&r);
    o.tol = 1e-3;
    cr_assert(cmp_files(&o, pa, pb, &r, &e) == 0);
    cr_assert_eq(r.passed, 1);
    cmp_report_free(&r);
    o.allclose = 1; /* rtol = atol = 0: elementwise exact, fails */
    cr_assert(cmp_files(&o, pa, pb, &r, &e) == 0);
    cr_assert_eq(r.passed, 0);
    cr_assert(strstr(r.rows[0].reason, "outside tolerance") != NULL);
    cmp_report_free(&r);
    unlink(pa);
    unlink(pb);
    free(pa);
    free(pb);
}

/* A file of one F64 tensor w written byte by byte (the library refuses to
 * write non-finite values). */
static char *raw_file(const char *tag, int n, const double *v)
{
    static int count;
    char *path = malloc(256), hdr[128];
    snprintf(path, 256, "/tmp/lm_test_compare_raw_%d_%d_%s.st", (int)getpid(), count++, tag);
    int len = snprintf(hdr, sizeof hdr,
                       "{\"w\":{\"dtype\":\"F64\",\"shape\":[%d],\"data_offsets\":[0,%d]}}",
                       n, 8 * n);
    while (len % 8)
        hdr[len++] = ' ';
    FILE *f = fopen(path, "wb");
    cr_assert(f != NULL);
    uint64_t hl = (uint64_t)len;
    fwrite(&hl, 8, 1, f); /* little-endian hosts */
    fwrite(hdr, 1, (size_t)len, f);
    fwrite(v, 8, (size_t)n, f);
    fclose(f);
    return path;
}

Test(compare, nan_and_infinities)
{
    double b[2] = {1, INFINITY}, a_inf[2] = {1, INFINITY}, a_ninf[2] = {1, -INFINITY};
    double a_nan[2] = {NAN, INFINITY};
    char *pb = raw_file("b", 2, b), *pn = raw_file("nan", 2, a_nan);
    char *p1 = raw_file("inf", 2, a_inf), *p2 = raw_file("ninf", 2, a_ninf);
    cmp_opts o = {0};
    o.tol = 1e300;
    cmp_report r;
    lm_error e;
    cr_assert(cmp_files(&o, p1, pb, &r, &e) == 0);
    cr_assert_eq(r.passed, 1);
    cmp_report_free(&r);
    cr_assert(cmp_files(&o, p2, pb, &r, &e) == 0);
    cr_assert_eq(r.passed, 0);
    cr_assert(strstr(r.rows[0].reason, "infinity") != NULL);
    cmp_report_free(&r);
    cr_assert(cmp_files(&o, pn, pn, &r, &e) == 0);
    cr_assert_eq(r.passed, 0, "NaN against NaN must fail");
    cr_assert(strstr(r.rows[0].reason, "NaN") != NULL);
    cmp_report_free(&r);
    unlink(pn);
    free(pn);
    unlink(pb);
    unlink(p1);
    unlink(p2);
    free(pb);
    free(p1);
    free(p2);
}

Test(compare, integers_exactly)
{
    st_file *fa = st_new(), *fb = st_new();
    int64_t shape[1] = {1}, ia = INT64_MAX - 1;
    double fbv = 0x1p63;
    lm_error e;
    cr_assert(st_add_i64(fa, "k", 1, shape, &ia, &e) == 0);
    cr_assert(st_add_f64(fb, "k", 1, shape, &fbv, &e) == 0);
    char *pa = tmpfile_with("ia", fa, 0), *pb = tmpfile_with("fb", fb, 0);
    cmp_opts o = {0};
    o.tol = 1;
    cmp_report r;
    cr_assert(cmp_files(&o, pa, pb, &r, &e) == 0);
    cr_assert_eq(r.passed, 0, "2^63 - 2 against 2^63 must fail");
    cmp_report_free(&r);
    unlink(pa);
    unlink(pb);
    free(pa);
    free(pb);
}

Test(compare, precision_the_file_cannot_hold)
{
    double v[3] = {1, 2, 3};
    char *pa = file1("a32", "w", 3, v, 1), *pb = file1("b", "w", 3, v, 0);
    cmp_opts o = {0};
    cmp_report r;
    lm_error e;
    cr_assert(cmp_files(&o, pa, pb, &r, &e) == 0);
    cr_assert_eq(r.precision, LP_F32);
    cr_assert_eq(r.rows[0].tol, LP_MARGIN * lp_envelope(LP_F32, LP_KIND_VALUE));
    cmp_report_free(&r);
    o.precision_given = 1;
    o.precision = LP_F64;
    cr_assert(cmp_files(&o, pa, pb, &r, &e) != 0);
    cr_assert(strstr(e.msg, "tensor w is stored as F32") != NULL, "%s", e.msg);
    unlink(pa);
    unlink(pb);
    free(pa);
    free(pb);
}

/* The update mode: a no-op step fails in every precision; the rounding of
 * the stored weights is allowed for. */
Test(compare, baseline_noop_fails_everywhere)
{
    double in[4] = {0.02, -0.01, 0.03, 0.005}, ref[4], a32[4];
    for (int i = 0; i < 4; i++) {
        ref[i] = in[i] * (1 - 5e-6) - 5e-5 * (in[i] > 0 ? 1 : -1);
        a32[i] = lp_round(LP_F32, ref[i]);
    }
    st_file *fb = st_new();
    int64_t shape[1] = {4};
    lm_error e;
    cr_assert(st_add_f64(fb, "params.w", 1, shape, ref, &e) == 0);
    st_set_meta(fb, "step_kinds", "{\"params.w\": \"sign\"}");
    char *pb = tmpfile_with("ref", fb, 0), *pin = file1("in", "params.w", 4, in, 0);
    char *pa = file1("a32", "params.w", 4, a32, 1);
    cmp_opts o = {0};
    o.baseline = pin;
    cmp_report r;
    cr_assert(cmp_files(&o, pa, pb, &r, &e) == 0, "%s", e.msg);
    cr_assert_eq(r.passed, 1, "%s", r.rows[0].reason);
    cr_assert_eq(r.rows[0].kind, LP_KIND_SIGN);
    cmp_report_free(&r);
    for (int p = 0; p < LP_NPREC; p++) {
        o.precision_given = 1;
        o.precision = (lp_precision)p;
        cr_assert(cmp_files(&o, pin, pb, &r, &e) == 0, "%s", e.msg);
        cr_assert_eq(r.passed, 0, "a no-op passes in %s", lp_name((lp_precision)p));
        cr_assert_eq(r.rows[0].rel_fro, 1.0);
        cmp_report_free(&r);
    }
    unlink(pa);
    unlink(pb);
    unlink(pin);
    free(pa);
    free(pb);
    free(pin);
}

Test(compare, thresholds_from_the_envelope)
{
    for (int p = 0; p < LP_NPREC; p++)
        for (int k = 0; k < LP_NKIND; k++) {
            double env = lp_envelope((lp_precision)p, (lp_kind)k);
            cr_assert(env >= 0 && env < 0.3);
            cr_assert_eq(lp_threshold((lp_precision)p, (lp_kind)k, LP_F32, 0), LP_MARGIN * env);
        }
    /* the storage term: 3 u ||W'|| / ||W' - W|| */
    double t = lp_threshold(LP_BF16, LP_KIND_SIGN, LP_F32, 100.0);
    cr_assert(fabs(t - (LP_MARGIN * lp_envelope(LP_BF16, LP_KIND_SIGN) + 300 * ldexp(1, -24))) < 1e-18);
    /* the envelope grows as the precision drops */
    cr_assert(lp_envelope(LP_F64, LP_KIND_MUON) < lp_envelope(LP_F32, LP_KIND_MUON));
    cr_assert(lp_envelope(LP_F32, LP_KIND_MUON) < lp_envelope(LP_F16, LP_KIND_MUON));
    cr_assert(lp_envelope(LP_F16, LP_KIND_MUON) < lp_envelope(LP_BF16, LP_KIND_MUON));
}
