/* test_msign.c - msign and the norms, each against an independent computation:
 * a polar factor known by construction, the closed-form action of each
 * Newton-Schulz polynomial on the singular values, and identities. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/linalg.h"
#include "lionmuon/msign.h"
#include "testutil.h"

/* G = U_k diag(s) V_k^T and its polar factor P = U_r V_r^T (r = number of
 * nonzero s), built with the test's own triple loop from Haar-random U, V. */
typedef struct {
    int m, n, k;
    double *G, *P, *s;
} known;

static known make_known(int m, int n, const double *s, unsigned long seed)
{
    known K = {m, n, m < n ? m : n, NULL, NULL, NULL};
    gsl_rng *r = tu_rng(seed);
    double *U = malloc(sizeof(double) * m * m), *V = malloc(sizeof(double) * n * n);
    cr_assert(la_random_orthogonal(m, r, U) == 0 && la_random_orthogonal(n, r, V) == 0);
    K.G = calloc((size_t)m * n, sizeof(double));
    K.P = calloc((size_t)m * n, sizeof(double));
    K.s = malloc(sizeof(double) * K.k);
    memcpy(K.s, s, sizeof(double) * K.k);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            for (int l = 0; l < K.k; l++) {
                double uv = U[i * m + l] * V[j * n + l];
                K.G[i * n + j] += s[l] * uv;
                if (s[l] > 0)
                    K.P[i * n + j] += uv;
            }
    free(U);
    free(V);
    gsl_rng_free(r);
    return K;
}

static void free_known(known *K)
{
    free(K->G);
    free(K->P);
    free(K->s);
}

static void geometric(int k, double cond, double *s)
{
    for (int i = 0; i < k; i++)
        s[i] = pow(cond, -(double)i / (k > 1 ? k - 1 : 1));
}

static double *run(msign_method method, int steps, int m, int n, const double *G)
{
    msign_opts o = msign_default_opts(method);
    if (steps > 0)
        o.steps = steps;
    msign_ws *ws = msign_ws_alloc(m, n);
    double *X = malloc(sizeof(double) * m * n);
    lm_error e;
    cr_assert(msign(&o, m, n, G, X, ws, NULL, &e) == 0, "%s", e.msg);
    msign_ws_free(ws);
    return X;
}

static const int SHAPES[][2] = {{12, 12}, {8, 24}, {8, 32}, {32, 8}, {1, 7}, {7, 1}};

/* Over every shape of SHAPES: method's msign of a matrix with geometric
 * spectrum of condition cond is within tol of the constructed U V^T; with
 * orthonormal, its rows (wide) or columns (tall) are also orthonormal. */
static void reaches_polar_factor(msign_method method, double cond, double tol,
                                 unsigned long seed, int orthonormal)
{
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++) {
        int m = SHAPES[i][0], n = SHAPES[i][1], k = m < n ? m : n;
        double s[64];
        geometric(k, cond, s);
        known K = make_known(m, n, s, seed + i);
        double *X = run(method, 0, m, n, K.G);
        double d = tu_maxdiff((size_t)m * n, X, K.P);
        cr_assert(d < tol, "%s %dx%d: max |msign - U V^T| = %g", msign_method_name(method), m, n,
                  d);
        if (orthonormal) {
            /* X X^T = I (wide) or X^T X = I (tall) */
            double *XT = malloc(sizeof(double) * m * n), *Id = malloc(sizeof(double) * k * k);
            la_transpose(m, n, X, XT);
            if (m <= n)
                tu_matmul(m, n, m, X, XT, Id);
            else
                tu_matmul(n, m, n, XT, X, Id);
            for (int a = 0; a < k; a++)
                for (int b = 0; b < k; b++)
                    cr_assert(fabs(Id[a * k + b] - (a == b)) < tol, "%dx%d: not orthonormal", m, n);
            free(XT);
            free(Id);
        }
        free(X);
        free_known(&K);
    }
}

/* Exact SVD msign reproduces the constructed polar factor.  Tolerance 1e-12:
 * LAPACK's singular vectors are backward stable, so for cond 1e3 the
 * factor's error is about cond * eps ~ 2e-13. */
Test(msign, svd_reconstructs_the_polar_factor)
{
    reaches_polar_factor(MSIGN_SVD, 1e3, 1e-12, 10, 1);
}

/* <G, msign(G)> = ||G||_N = sum of the constructed singular values: msign
 * is the LMO of the spectral-norm ball. */
Test(msign, svd_inner_product_is_the_nuclear_norm)
{
    double s[10];
    geometric(10, 50, s);
    known K = make_known(10, 17, s, 3);
    double *X = run(MSIGN_SVD, 0, 10, 17, K.G), ip = 0, nuc = 0;
    for (int i = 0; i < 170; i++)
        ip += K.G[i] * X[i];
    for (int i = 0; i < 10; i++)
        nuc += s[i];
    cr_assert(fabs(ip - nuc) < 1e-12 * nuc, "<G, msign G> = %.16g, sum s = %.16g", ip, nuc);
    cr_assert(fabs(la_norm_nuclear(10, 17, K.G) - nuc) < 1e-12 * nuc);
    cr_assert(fabs(la_norm_spectral(10, 17, K.G) - 1.0) < 1e-13);
    cr_assert(fabs(la_norm_spectral(10, 17, X) - 1.0) < 1e-13);
    free(X);
    free_known(&K);
}

/* Scale invariance msign(cX) = msign(X) (c > 0) and msign(X^T) = msign(X)^T,
 * for every method.  ns5 and polar-express normalise by ||G||_F + shift
 * (shift 1e-7 and 1e-6), so X and cX start from points that differ by
 * delta = shift / ||G||_F + shift / (c ||G||_F) relative; the five steps
 * move singular values near 1 towards a fixed band, which damps rather
 * than amplifies such a perturbation (measured amplification < 10):
 * tolerance 20 delta for them, 1e-12 for the exact methods. */
Test(msign, scale_and_transpose_invariance)
{
    msign_method ms[] = {MSIGN_SVD, MSIGN_NS5, MSIGN_CUBIC, MSIGN_POLAR_EXPRESS};
    double s[8];
    geometric(8, 20, s);
    known K = make_known(8, 20, s, 4);
    double cG[160], GT[160], XT[160];
    for (int mi = 0; mi < 4; mi++) {
        double *X = run(ms[mi], 0, 8, 20, K.G);
        int exact = ms[mi] == MSIGN_SVD || ms[mi] == MSIGN_CUBIC;
        for (double c = 1e-3; c <= 1e3; c *= 1e3) {
            for (int i = 0; i < 160; i++)
                cG[i] = c * K.G[i];
            double *Y = run(ms[mi], 0, 8, 20, cG);
            double d = tu_maxdiff(160, X, Y);
            double shift = ms[mi] == MSIGN_NS5 ? 1e-7 : 1e-6 / 1.02;
            double fro = la_norm_fro(8, 20, K.G);
            double tol = exact ? 1e-12 : 20 * (shift / fro + shift / (c * fro));
            cr_assert(d < tol, "%s: msign(%g X) differs by %g", msign_method_name(ms[mi]), c, d);
            free(Y);
        }
        la_transpose(8, 20, K.G, GT);
        double *Z = run(ms[mi], 0, 20, 8, GT);
        la_transpose(20, 8, Z, XT);
        double d = tu_maxdiff(160, X, XT);
        cr_assert(d < 1e-13, "%s: msign(X^T) != msign(X)^T (%g)", msign_method_name(ms[mi]), d);
        free(Z);
        free(X);
    }
    free_known(&K);
}

/* Rank-deficient input gives the partial isometry U_r V_r^T; zero gives 0. */
Test(msign, rank_deficient_and_zero_inputs)
{
    double s[9] = {3, 2, 1, 0.5, 0, 0, 0, 0, 0};
    known K = make_known(9, 14, s, 5);
    msign_opts o = msign_default_opts(MSIGN_SVD);
    msign_ws *ws = msign_ws_alloc(9, 14);
    double X[126], sv[9];
    msign_info info;
    lm_error e;
    cr_assert(msign(&o, 9, 14, K.G, X, ws, &info, &e) == 0);
    cr_assert_eq(info.rank, 4, "rank %d", info.rank);
    cr_assert(tu_maxdiff(126, X, K.P) < 1e-12);
    cr_assert(la_singular_values(9, 14, X, sv) == 0);
    for (int i = 0; i < 9; i++)
        cr_assert(fabs(sv[i] - (i < 4)) < 1e-12, "sv[%d] = %g", i, sv[i]);
    /* cubic leaves the zero directions at zero and converges on the rest */
    double *C = run(MSIGN_CUBIC, 0, 9, 14, K.G);
    cr_assert(tu_maxdiff(126, C, K.P) < 1e-10, "cubic on rank 4: %g", tu_maxdiff(126, C, K.P));
    free(C);
    double Z[126] = {0};
    msign_method ms[] = {MSIGN_SVD, MSIGN_NS5, MSIGN_CUBIC, MSIGN_POLAR_EXPRESS};
    for (int mi = 0; mi < 4; mi++) {
        double *Y = run(ms[mi], 0, 9, 14, Z);
        for (int i = 0; i < 126; i++)
            cr_assert(Y[i] == 0.0, "%s: msign(0) != 0", msign_method_name(ms[mi]));
        free(Y);
    }
    msign_ws_free(ws);
    free_known(&K);
}

/* Numerically rank-deficient input (singular values 1e-14 below the top,
 * as real gradients have): without a cut-off, cubic would amplify those
 * directions by 1.5x a step until they reached 1.  It must instead return
 * the partial isometry of the significant part, like svd. */
Test(msign, cubic_cuts_off_rounding_level_directions)
{
    double s[16] = {3, 2, 1, 0.5, 1e-6, 1e-14, 1e-14, 1e-15, 1e-15, 1e-16, 0, 0, 0, 0, 0, 0};
    known K = make_known(16, 40, s, 8);
    double *C = run(MSIGN_CUBIC, 0, 16, 40, K.G);
    /* the expected factor keeps the 1e-6 direction (above the 1e-10 cut-off)
     * and drops everything at rounding level */
    double want[16] = {3, 2, 1, 0.5, 1e-6};
    known W = make_known(16, 40, want, 8);
    double d = tu_maxdiff(16 * 40, C, W.P);
    cr_assert(d < 1e-10, "cubic on a numerically rank-5 matrix: %g from U_5 V_5^T", d);
    free(C);
    free_known(&K);
    free_known(&W);
}

/* Cubic Newton-Schulz converges to the exact polar factor.  Its error is
 * about cond * eps after convergence; 1e-10 leaves margin at cond 1e4. */
Test(msign, cubic_reaches_the_svd_answer)
{
    reaches_polar_factor(MSIGN_CUBIC, 1e4, 1e-10, 20, 0);
}

/* The Newton-Schulz maps act on each singular value separately:
 * sigma -> a sigma + b sigma^3 + c sigma^5 per step, after the normalisation.
 * So the singular values of the output are the scalar iteration applied to
 * the constructed s, and the error against U V^T in spectral norm is
 * max_i |p(s_i) - 1|.  This predicts ns5's band and polar-express's error
 * without any matrix code. */
static double scalar_ns(msign_method method, int steps, double x)
{
    static const double ns5[3] = {3.4445, -4.7750, 2.0315};
    static const double pe[5][3] = {
        {8.156554524902461, -22.48329292557795, 15.878769915207462},
        {4.042929935166739, -2.808917465908714, 0.5000178451051316},
        {3.8916678022926607, -2.772484153217685, 0.5060648178503393},
        {3.285753657755655, -2.3681294933425376, 0.46449024233003106},
        {2.3465413258596377, -1.7097828382687081, 0.42323551169305323}};
    for (int t = 0; t < steps; t++) {
        const double *c = method == MSIGN_NS5 ? ns5 : pe[t < 5 ? t : 4];
        x = c[0] * x + c[1] * x * x * x + c[2] * x * x * x * x * x;
    }
    return x;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static void check_scalar_prediction(msign_method method, int steps, int m, int n, double cond,
                                    double *band_lo, double *band_hi, double *err2)
{
    int k = m < n ? m : n;
    double s[64], pred[64], sv[64], fro = 0;
    geometric(k, cond, s);
    known K = make_known(m, n, s, 30);
    for (int i = 0; i < k; i++)
        fro += s[i] * s[i];
    fro = sqrt(fro);
    double denom = method == MSIGN_NS5 ? fro + 1e-7 : 1.02 * fro + 1e-6;
    double worst = 0;
    for (int i = 0; i < k; i++) {
        pred[i] = scalar_ns(method, steps, s[i] / denom);
        worst = fmax(worst, fabs(pred[i] - 1));
    }
    qsort(pred, k, sizeof(double), cmp_desc);
    double *X = run(method, steps, m, n, K.G);
    cr_assert(la_singular_values(m, n, X, sv) == 0);
    for (int i = 0; i < k; i++)
        cr_assert(fabs(sv[i] - pred[i]) < 1e-11, "%s sv[%d] = %.15g, predicted %.15g",
                  msign_method_name(method), i, sv[i], pred[i]);
    for (int i = 0; i < m * n; i++)
        X[i] -= K.P[i];
    *err2 = la_norm_spectral(m, n, X);
    cr_assert(fabs(*err2 - worst) < 1e-11, "%s: ||X - UV^T||_2 = %g, predicted %g",
              msign_method_name(method), *err2, worst);
    *band_lo = pred[k - 1];
    *band_hi = pred[0];
    free(X);
    free_known(&K);
}

/* ns5 does not converge: with 5 steps its singular values end in a band
 * around 1 (about [0.68, 1.20] for well-conditioned input, as Keller
 * Jordan's coefficients intend), predicted exactly by the scalar map. */
Test(msign, ns5_singular_value_band)
{
    double lo, hi, err;
    check_scalar_prediction(MSIGN_NS5, 5, 16, 48, 10, &lo, &hi, &err);
    cr_assert(lo > 0.6 && hi < 1.25 && hi > 1.1, "ns5 band [%g, %g]", lo, hi);
    check_scalar_prediction(MSIGN_NS5, 5, 40, 10, 1e3, &lo, &hi, &err);
}

/* polar-express with its 5-step table: error against SVD as the scalar map
 * predicts, and smaller than ns5's on the same well-conditioned input. */
Test(msign, polar_express_error_against_svd)
{
    double lo, hi, err_pe, err_ns5;
    check_scalar_prediction(MSIGN_POLAR_EXPRESS, 5, 16, 48, 10, &lo, &hi, &err_pe);
    check_scalar_prediction(MSIGN_NS5, 5, 16, 48, 10, &lo, &hi, &err_ns5);
    cr_assert(err_pe < err_ns5, "polar-express %g vs ns5 %g", err_pe, err_ns5);
    check_scalar_prediction(MSIGN_POLAR_EXPRESS, 8, 12, 12, 100, &lo, &hi, &err_pe);
}

Test(msign, bad_input_is_refused)
{
    msign_opts o = msign_default_opts(MSIGN_NS5);
    msign_ws *ws = msign_ws_alloc(4, 4);
    double G[25] = {0}, X[25];
    lm_error e;
    cr_assert(msign(&o, 5, 5, G, X, ws, NULL, &e) != 0, "oversized matrix accepted");
    cr_assert(strstr(e.msg, "workspace") != NULL, "%s", e.msg);
    G[3] = NAN;
    cr_assert(msign(&o, 4, 4, G, X, ws, NULL, &e) != 0, "NaN accepted");
    cr_assert(strstr(e.msg, "non-finite") != NULL, "%s", e.msg);
    G[3] = 0;
    o.steps = 0;
    cr_assert(msign(&o, 4, 4, G, X, ws, NULL, &e) != 0, "zero steps accepted");
    msign_ws_free(ws);
    msign_method m;
    cr_assert(msign_method_parse("newton", &m) != 0);
    cr_assert(msign_method_parse("polar-express", &m) == 0 && m == MSIGN_POLAR_EXPRESS);
}

/* The paper's FLOP count, by hand: 5 * 2 * 768^2 * (2 * 2304 + 768). */
Test(msign, flop_count_matches_the_paper)
{
    msign_opts o = msign_default_opts(MSIGN_NS5);
    double want = 5.0 * 2 * 768.0 * 768 * (2 * 2304.0 + 768);
    cr_assert(fabs(msign_flops(&o, 2304, 768) - want) < 1);
    cr_assert(fabs(msign_flops(&o, 768, 2304) - want) < 1);
}

/* Entrywise and Frobenius norms against the plain loops; spectral and
 * nuclear against constructed singular values. */
Test(linalg, norms_against_definitions)
{
    double X[6] = {1, -2, 3, -4, 5, -6};
    cr_assert(fabs(la_norm_l1(2, 3, X) - 21) < 1e-15);
    cr_assert(la_norm_linf(2, 3, X) == 6);
    cr_assert(fabs(la_norm_fro(2, 3, X) - sqrt(91.0)) < 1e-14);
    double s[5] = {4, 3, 2, 1, 0.5};
    known K = make_known(5, 9, s, 6);
    la_norms nn;
    cr_assert(la_norms_all(5, 9, K.G, &nn) == 0);
    cr_assert(fabs(nn.spectral - 4) < 1e-13 && fabs(nn.nuclear - 10.5) < 1e-13);
    cr_assert(fabs(nn.fro - sqrt(16 + 9 + 4 + 1 + 0.25)) < 1e-13);
    /* power iteration: a lower bound that gets close */
    double u[5], v[9];
    double est = la_spectral_power(5, 9, K.G, 30, u, v);
    cr_assert(est <= 4 + 1e-12 && est > 3.99, "power estimate %g", est);
    free_known(&K);
}
