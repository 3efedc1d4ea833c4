/* test_polar.c - msign --method qr-newton (src/core/polar.c): the exact polar
 * factor by Cholesky QR2 and a scaled Newton iteration, checked against a
 * polar factor built in the test (Haar-random U, V and a triple loop), the
 * SVD method, and its fall-back to the SVD on ill-conditioned input. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/linalg.h"
#include "lionmuon/msign.h"
#include "testutil.h"

/* G = U_k diag(s) V_k^T and P = U_r V_r^T over the nonzero s. */
static void build(int m, int n, const double *s, unsigned long seed, double *G, double *P)
{
    int k = m < n ? m : n;
    gsl_rng *r = tu_rng(seed);
    double *U = malloc(sizeof(double) * m * m), *V = malloc(sizeof(double) * n * n);
    cr_assert(la_random_orthogonal(m, r, U) == 0 && la_random_orthogonal(n, r, V) == 0);
    memset(G, 0, sizeof(double) * m * n);
    memset(P, 0, sizeof(double) * m * n);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            for (int l = 0; l < k; l++) {
                double uv = U[i * m + l] * V[j * n + l];
                G[i * n + j] += s[l] * uv;
                if (s[l] > 0)
                    P[i * n + j] += uv;
            }
    free(U);
    free(V);
    gsl_rng_free(r);
}

static void geometric(int k, double cond, double *s)
{
    for (int i = 0; i < k; i++)
        s[i] = pow(cond, -(double)i / (k > 1 ? k - 1 : 1));
}

static void run(msign_method method, int m, int n, const double *G, double *X,
                msign_info *info)
{
    msign_opts o = msign_default_opts(method);
    msign_ws *ws = msign_ws_alloc(m, n);
    lm_error e;
    cr_assert(msign(&o, m, n, G, X, ws, info, &e) == 0, "%s", e.msg);
    msign_ws_free(ws);
}

Test(polar, name_round_trips)
{
    msign_method m;
    cr_assert(msign_method_parse("qr-newton", &m) == 0);
    cr_assert_eq(m, MSIGN_QR_NEWTON);
    cr_assert_str_eq(msign_method_name(MSIGN_QR_NEWTON), "qr-newton");
}

/* Wide, square and tall, condition numbers 1 to 1e3 (where ns5 is used):
 * the constructed polar factor to 1e-13 in every entry.  At 1e4 the
 * factor itself moves by about cond * eps under rounding of G, so there
 * the bar is the SVD method's own error (times 4). */
Test(polar, reaches_the_constructed_polar_factor)
{
    static const int shapes[][2] = {{12, 12}, {8, 24}, {8, 32}, {32, 8}, {40, 160}, {160, 40}};
    static const double conds[] = {1, 10, 100, 1e3, 1e4};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (size_t ci = 0; ci < sizeof conds / sizeof conds[0]; ci++) {
            int m = shapes[si][0], n = shapes[si][1], k = m < n ? m : n;
            double *s = malloc(sizeof(double) * k), *G = malloc(sizeof(double) * m * n);
            double *P = malloc(sizeof(double) * m * n), *X = malloc(sizeof(double) * m * n);
            geometric(k, conds[ci], s);
            build(m, n, s, 11 + si, G, P);
            msign_info info;
            run(MSIGN_QR_NEWTON, m, n, G, X, &info);
            double err = tu_maxdiff((size_t)m * n, X, P), bar = 1e-13;
            if (conds[ci] > 1e3) {
                run(MSIGN_SVD, m, n, G, X + 0, NULL);
                bar = fmax(bar, 4 * tu_maxdiff((size_t)m * n, X, P));
            }
            cr_assert(err <= bar, "%dx%d cond %g: max error %.3g > %.3g", m, n, conds[ci], err,
                      bar);
            cr_assert(info.iterations >= 1 && info.iterations <= 12, "%d Newton steps",
                      info.iterations);
            free(s), free(G), free(P), free(X);
        }
}

/* Against the SVD method at a benchmark shape: 1e-13 in spectral norm. */
Test(polar, agrees_with_svd)
{
    int m = 96, n = 384;
    double *s = malloc(sizeof(double) * m), *G = malloc(sizeof(double) * m * n);
    double *A = malloc(sizeof(double) * m * n), *B = malloc(sizeof(double) * m * n);
    gsl_rng *r = tu_rng(5);
    geometric(m, 100.0, s);
    cr_assert(la_random_with_spectrum(m, n, s, r, G) == 0);
    run(MSIGN_SVD, m, n, G, A, NULL);
    run(MSIGN_QR_NEWTON, m, n, G, B, NULL);
    for (int i = 0; i < m * n; i++)
        A[i] -= B[i];
    double err = la_norm_spectral(m, n, A);
    cr_assert(err <= 1e-13, "||qr-newton - svd||_2 = %.3g", err);
    gsl_rng_free(r);
    free(s), free(G), free(A), free(B);
}

/* Condition numbers beyond the Cholesky route, rank deficiency, shapes
 * with both sides below 3: the SVD computes the factor, so the bytes are
 * the SVD's. */
Test(polar, falls_back_to_svd_bitwise)
{
    static const struct { int m, n; double cond; int rank; } cases[] = {
        {24, 48, 1e10, 24}, {48, 24, 1e12, 24}, {20, 30, 10, 12}, {2, 2, 3, 2}, {1, 2, 1, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int m = cases[i].m, n = cases[i].n, k = m < n ? m : n;
        double *s = calloc(k, sizeof(double)), *G = malloc(sizeof(double) * m * n);
        double *P = malloc(sizeof(double) * m * n), *X = malloc(sizeof(double) * m * n);
        double *Y = malloc(sizeof(double) * m * n);
        geometric(cases[i].rank, cases[i].cond, s);
        build(m, n, s, 3 + i, G, P);
        run(MSIGN_SVD, m, n, G, X, NULL);
        msign_info info;
        run(MSIGN_QR_NEWTON, m, n, G, Y, &info);
        cr_assert(memcmp(X, Y, sizeof(double) * m * n) == 0, "case %zu: not the SVD's bytes", i);
        cr_assert_eq(info.iterations, 0);
        free(s), free(G), free(P), free(X), free(Y);
    }
}

/* One row or one column: the Newton iteration on a 1 x 1 factor. */
Test(polar, vectors)
{
    double g[7] = {3, -1, 0.5, 2, -4, 1e-3, 7}, x[7], nrm = 0;
    for (int i = 0; i < 7; i++)
        nrm += g[i] * g[i];
    nrm = sqrt(nrm);
    run(MSIGN_QR_NEWTON, 1, 7, g, x, NULL);
    for (int i = 0; i < 7; i++)
        cr_assert(fabs(x[i] - g[i] / nrm) <= 1e-15, "row %d", i);
    run(MSIGN_QR_NEWTON, 7, 1, g, x, NULL);
    for (int i = 0; i < 7; i++)
        cr_assert(fabs(x[i] - g[i] / nrm) <= 1e-15, "column %d", i);
}

Test(polar, zero_and_in_place)
{
    double Z[6] = {0}, out[6] = {1, 1, 1, 1, 1, 1};
    run(MSIGN_QR_NEWTON, 2, 3, Z, out, NULL);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(out[i], 0.0);
    int m = 16, n = 40;
    double s[16], *G = malloc(sizeof(double) * m * n), *P = malloc(sizeof(double) * m * n);
    geometric(m, 30, s);
    build(m, n, s, 9, G, P);
    run(MSIGN_QR_NEWTON, m, n, G, G, NULL); /* out == G */
    cr_assert(tu_maxdiff((size_t)m * n, G, P) <= 1e-13);
    free(G), free(P);
}

/* The count behind "Newton-Schulz cost": at k x 4k with 6 Newton steps it
 * is below ns5's paper count. */
Test(polar, flop_count_below_ns5)
{
    msign_opts q = msign_default_opts(MSIGN_QR_NEWTON), n5 = msign_default_opts(MSIGN_NS5);
    q.steps = 6;
    cr_assert(msign_flops(&q, 512, 2048) < 0.6 * msign_flops(&n5, 512, 2048));
}
