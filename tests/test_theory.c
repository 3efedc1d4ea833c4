/* test_theory.c - the synthetic objectives, noise, estimators and bounds of
 * issue 4 against closed forms (theory/bounds.md). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "lionmuon/bounds.h"
#include "lionmuon/stats.h"
#include "lionmuon/linalg.h"
#include "lionmuon/measure.h"
#include "lionmuon/noise.h"
#include "lionmuon/objective.h"
#include "testutil.h"
#include "lionmuon/validate.h"
#include "lionmuon/verdict.h"
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_statistics_double.h>

static obj *make(obj_kind k, int m, int n, unsigned long seed)
{
    obj_params p = obj_default_params(k, m, n, seed);
    lm_error e;
    obj *o = obj_alloc(&p, &e);
    cr_assert_not_null(o, "%s", e.msg);
    return o;
}

/* ratio of the gradient change between X and X + D, in the pairing */
static double ratio(obj *o, const double *X, const double *D, char pairing)
{
    int m = o->m, n = o->n;
    size_t mn = (size_t)m * n;
    double *Y = malloc(mn * sizeof *Y), *g1 = malloc(mn * sizeof *g1), *g2 = malloc(mn * sizeof *g2);
    for (size_t i = 0; i < mn; i++)
        Y[i] = X[i] + D[i];
    obj_grad(o, X, g1);
    obj_grad(o, Y, g2);
    for (size_t i = 0; i < mn; i++)
        g2[i] -= g1[i];
    double r = pairing == 'M' ? la_norm_nuclear(m, n, g2) / la_norm_spectral(m, n, D)
                              : la_norm_l1(m, n, g2) / la_norm_linf(m, n, D);
    free(Y); free(g1); free(g2);
    return r;
}

/* Property: for every objective and both pairings, the ratio along 200
 * random directions (Gaussian, sign, rank-one) never exceeds the analytic
 * upper constant (relative slack 1e-9 for rounding), and along the returned
 * direction it equals the attained constant to 1e-9 (quadratics: the
 * gradient is affine, so the ratio is exact up to rounding). */
Test(theory, smoothness_ratio_bounded_and_attained)
{
    obj_kind kinds[] = {OBJ_SEPARABLE, OBJ_KRONECKER, OBJ_MIX, OBJ_ZIPF, OBJ_GEOMETRY};
    for (int a = 0; a < 5; a++) {
        int m = 6, n = 9;
        obj *o = make(kinds[a], m, n, 11);
        obj_smooth s;
        lm_error e;
        cr_assert_eq(obj_smoothness(o, &s, &e), 0);
        cr_assert(s.LM_lo <= s.LM_hi * (1 + 1e-12) && s.LL_lo <= s.LL_hi * (1 + 1e-12));
        gsl_rng *r = tu_rng(5 + a);
        double X[54], D[54];
        for (int t = 0; t < 200; t++) {
            tu_gauss(r, 54, X);
            if (t % 3 == 0)
                tu_gauss(r, 54, D);
            else if (t % 3 == 1)
                for (int i = 0; i < 54; i++)
                    D[i] = gsl_rng_uniform(r) < 0.5 ? -1 : 1;
            else {
                double u[6], v[9];
                tu_gauss(r, 6, u);
                tu_gauss(r, 9, v);
                for (int i = 0; i < 6; i++)
                    for (int j = 0; j < 9; j++)
                        D[i * 9 + j] = u[i] * v[j];
            }
            double sc = pow(10.0, -2 + 3 * gsl_rng_uniform(r));
            for (int i = 0; i < 54; i++)
                D[i] *= sc;
            cr_assert_leq(ratio(o, X, D, 'M'), s.LM_hi * (1 + 1e-9), "%s M", obj_kind_name(kinds[a]));
            cr_assert_leq(ratio(o, X, D, 'L'), s.LL_hi * (1 + 1e-9), "%s L", obj_kind_name(kinds[a]));
        }
        if (kinds[a] != OBJ_ZIPF) {
            cr_assert_eq(obj_smooth_direction(o, 'M', D, &e), 0);
            cr_assert_float_eq(ratio(o, X, D, 'M'), s.LM_lo, 1e-9 * s.LM_lo, "%s", obj_kind_name(kinds[a]));
            cr_assert_eq(obj_smooth_direction(o, 'L', D, &e), 0);
            cr_assert_float_eq(ratio(o, X, D, 'L'), s.LL_lo, 1e-9 * s.LL_lo, "%s", obj_kind_name(kinds[a]));
        }
        gsl_rng_free(r);
        obj_free(o);
    }
}

/* Closed forms: separable L_L = sum h, L_M = max-weight matching; Kronecker
 * L_M = sum_k a_k b_k; both exact (hi == lo). */
Test(theory, smoothness_closed_forms)
{
    obj *o = make(OBJ_SEPARABLE, 5, 7, 3);
    obj_smooth s;
    cr_assert_eq(obj_smoothness(o, &s, NULL), 0);
    double sum = 0;
    for (int i = 0; i < 35; i++)
        sum += o->H[i];
    cr_assert_float_eq(s.LL_hi, sum, 1e-12 * sum);
    cr_assert_float_eq(s.LL_lo, s.LL_hi, 1e-12 * sum);
    cr_assert_float_eq(s.LM_lo, s.LM_hi, 1e-12 * sum);
    obj_free(o);
    o = make(OBJ_KRONECKER, 4, 6, 3);
    cr_assert_eq(obj_smoothness(o, &s, NULL), 0);
    double lm = 0;
    for (int k = 0; k < 4; k++)
        lm += o->a[k] * o->b[k];
    cr_assert_float_eq(s.LM_hi, lm, 1e-12 * lm);
    cr_assert_float_eq(s.LM_lo, lm, 1e-9 * lm);
    obj_free(o);
}

static double best_perm(int k, const double *W, int c, int *used, int row)
{
    if (row == k)
        return 0;
    double best = -1;
    for (int j = 0; j < c; j++)
        if (!used[j]) {
            used[j] = 1;
            double v = W[row * c + j] + best_perm(k, W, c, used, row + 1);
            used[j] = 0;
            best = fmax(best, v);
        }
    return best;
}

/* The Hungarian matching against brute force over all injections, square
 * and both rectangular orientations. */
Test(theory, max_matching_brute_force)
{
    gsl_rng *r = tu_rng(9);
    int shapes[3][2] = {{5, 5}, {3, 6}, {6, 4}};
    for (int t = 0; t < 30; t++) {
        int m = shapes[t % 3][0], n = shapes[t % 3][1];
        double W[36], WT[36];
        for (int i = 0; i < m * n; i++)
            W[i] = gsl_ran_pareto(r, 1.2, 1.0);
        int perm[6], used[6] = {0};
        double got = obj_max_matching(m, n, W, perm);
        double want;
        if (m <= n) {
            want = best_perm(m, W, n, used, 0);
        } else {
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    WT[j * m + i] = W[i * n + j];
            want = best_perm(n, WT, m, used, 0);
        }
        cr_assert_float_eq(got, want, 1e-10 * want);
        double s = 0;
        for (int i = 0; i < m; i++)
            if (perm[i] >= 0)
                s += W[i * n + perm[i]];
        cr_assert_float_eq(s, want, 1e-10 * want);
    }
    gsl_rng_free(r);
}

/* Exact gradients: central differences, step 1e-5, relative tolerance 1e-6
 * (the truncation error of a central difference is O(h^2 f''')). */
Test(theory, gradients_match_finite_differences)
{
    obj_kind kinds[] = {OBJ_SEPARABLE, OBJ_KRONECKER, OBJ_MIX, OBJ_ZIPF, OBJ_GEOMETRY};
    for (int a = 0; a < 5; a++) {
        obj *o = make(kinds[a], 4, 5, 21);
        gsl_rng *r = tu_rng(1);
        double W[20], G[20];
        tu_gauss(r, 20, W);
        obj_grad(o, W, G);
        double gmax = 0;
        for (int i = 0; i < 20; i++)
            gmax = fmax(gmax, fabs(G[i]));
        for (int i = 0; i < 20; i++) {
            double h = 1e-5, w = W[i];
            W[i] = w + h;
            double fp = obj_value(o, W);
            W[i] = w - h;
            double fm = obj_value(o, W);
            W[i] = w;
            cr_assert_float_eq(G[i], (fp - fm) / (2 * h), 1e-6 * (gmax + 1), "%s entry %d",
                               obj_kind_name(kinds[a]), i);
        }
        gsl_rng_free(r);
        obj_free(o);
    }
}

/* The zipf mini-batch gradient is unbiased: the mean of 20000 draws is
 * within 5 standard errors (entrywise) of the exact gradient. */
Test(theory, zipf_minibatch_unbiased)
{
    obj_params p = obj_default_params(OBJ_ZIPF, 3, 4, 2);
    p.zipf_n = 50;
    p.zipf_s = 0.6;
    obj *o = obj_alloc(&p, NULL);
    double W[12] = {0}, G[12], g[12], s1[12] = {0}, s2[12] = {0};
    obj_grad(o, W, g);
    gsl_rng *r = tu_rng(4);
    int N = 20000;
    for (int t = 0; t < N; t++) {
        obj_stoch_grad(o, W, r, G);
        for (int i = 0; i < 12; i++) {
            s1[i] += G[i];
            s2[i] += G[i] * G[i];
        }
    }
    for (int i = 0; i < 12; i++) {
        double mean = s1[i] / N, sd = sqrt(s2[i] / N - mean * mean);
        cr_assert_leq(fabs(mean - g[i]), 5 * sd / sqrt(N) + 1e-12, "entry %d", i);
    }
    gsl_rng_free(r);
    obj_free(o);
}

/* Hill on exact Pareto(alpha) samples: 1/alpha_hat is a mean of k iid
 * Exp(alpha) variables, so its standard error is alpha / sqrt(k); with
 * n = 50000, k = n/5 = 10000 the tolerance 5 alpha / 100 is 5 standard errors;
 * with the default k = sqrt(n) = 224, 5 SE = 0.33 alpha. */
Test(theory, hill_on_pareto)
{
    double alphas[] = {1.2, 1.5, 2.0, 3.0};
    size_t n = 50000;
    double *x = malloc(n * sizeof *x);
    for (int a = 0; a < 4; a++) {
        gsl_rng *r = tu_rng(100 + a);
        for (size_t i = 0; i < n; i++)
            x[i] = gsl_ran_pareto(r, alphas[a], 2.0);
        double h = meas_hill(n, x, n / 5);
        cr_assert_float_eq(h, alphas[a], 0.05 * alphas[a], "alpha %g: %g", alphas[a], h);
        double hd = meas_hill(n, x, meas_hill_k(n));
        cr_assert_float_eq(hd, alphas[a], 0.33 * alphas[a], "alpha %g default k: %g", alphas[a], hd);
        gsl_rng_free(r);
    }
    cr_assert_eq(meas_hill_k(50000), 224);
    free(x);
}

/* E||xi||_F^2 = sigma^2 m n Var(z) in every structure: Var = 1 (gaussian),
 * nu/(nu-2) (student-t, nu = 6), 2 (stable alpha = 2 is N(0, 2)).  Mean of
 * 4000 draws within 5% (the relative standard error is below 1% here). */
Test(theory, noise_second_moments)
{
    struct { noise_dist d; double par, var; } laws[] = {
        {NOISE_GAUSSIAN, 0, 1.0}, {NOISE_STUDENT_T, 6.0, 1.5}, {NOISE_STABLE, 2.0, 2.0}};
    noise_structure st[] = {NOISE_ENTRYWISE, NOISE_LOWRANK, NOISE_SPARSE};
    int m = 8, n = 10;
    double xi[80], scr[80 + 18];
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            noise_params p = noise_default_params();
            p.dist = laws[a].d;
            p.nu = p.alpha = laws[a].par;
            p.sigma = 0.7;
            p.structure = st[b];
            p.rank = 3;
            p.density = 0.25;
            cr_assert_eq(noise_check(&p, NULL), 0);
            gsl_rng *r = tu_rng(7);
            double s = 0;
            int N = 4000;
            for (int t = 0; t < N; t++) {
                noise_draw(&p, m, n, r, xi, scr);
                double f = la_norm_fro(m, n, xi);
                s += f * f;
            }
            double want = 0.49 * m * n * laws[a].var;
            double tol = (st[b] == NOISE_ENTRYWISE ? 0.05 : 0.08) * want;
            cr_assert_float_eq(s / N, want, tol, "law %d structure %d: %g vs %g", a, b, s / N, want);
            gsl_rng_free(r);
        }
}

/* Structure: low-rank noise has rank r, sparse noise round(d m n) nonzeros. */
Test(theory, noise_structure)
{
    noise_params p = noise_default_params();
    p.structure = NOISE_LOWRANK;
    p.rank = 2;
    double xi[60], scr[60 + 16], sv[6];
    gsl_rng *r = tu_rng(3);
    noise_draw(&p, 6, 10, r, xi, scr);
    la_singular_values(6, 10, xi, sv);
    cr_assert_gt(sv[1], 1e-8 * sv[0]);
    cr_assert_lt(sv[2], 1e-10 * sv[0]);
    p.structure = NOISE_SPARSE;
    p.density = 0.1;
    noise_draw(&p, 6, 10, r, xi, scr);
    int nz = 0;
    for (int i = 0; i < 60; i++)
        nz += xi[i] != 0;
    cr_assert_eq(nz, 6);
    gsl_rng_free(r);
}

/* The range checks of A3: nu <= 1 and alpha outside (1, 2] are refused. */
Test(theory, noise_rejects_missing_moment)
{
    noise_params p = noise_default_params();
    lm_error e;
    p.dist = NOISE_STUDENT_T;
    p.nu = 1.0;
    cr_assert_eq(noise_check(&p, &e), -1);
    cr_assert(strstr(e.msg, "--nu") != NULL);
    p.dist = NOISE_STABLE;
    p.alpha = 1.0;
    cr_assert_eq(noise_check(&p, &e), -1);
    cr_assert(strstr(e.msg, "--alpha") != NULL);
    p.alpha = 2.5;
    cr_assert_eq(noise_check(&p, &e), -1);
    p.alpha = 2.0;
    cr_assert_eq(noise_check(&p, &e), 0);
}

static bound_constants tiny(void)
{
    bound_constants k = {.L_M = 1, .L_L = 2, .alpha = 3, .gamma = 0.5, .sigma_F = 1,
                         .kappa = 2, .rho_N = 1, .rho_1 = 2, .Delta = 10, .g0_N = 0, .g0_1 = 0};
    return k;
}

/* Thm 1 by hand, P = 2, T = 4, eta_M = 0.1, eta_L = 0.05, b1 = 0.5, b2 = 0.75:
 *   n_M = n_L = 2, H = 0.3
 *   statement: A_2 = max(0.1, 3 * 0.05) = 0.15, A_inf = max(0.05, 0.5 * 0.1) = 0.05
 *     Lbar = (2*0.1*1*0.15 + 2*0.05*2*0.05) / 0.3 = 0.04 / 0.3 = 0.133333
 *     Sbar = (2*0.1*1 + 2*0.05*2) / 0.3 = 1.333333
 *     Delta/H = 33.333333, drift = 2*0.5*Lbar/0.25 = 0.533333
 *     noise = 2 Sbar (0.5 * 2^0 * 0.25^0.5 + 0.5) = 2 * 1.333333 * 0.75 = 2
 *     quad = (2*1*0.01 + 2*2*0.0025) / 0.6 = 0.05;  total = 35.916667
 *   refined: A_2 = 0.15 - 0.05 * (0.25*0.75/(1-0.5625)) = 0.15 - 0.05*0.428571
 *     = 0.128571 (= 0.25 * (0.15 + 0.75*0.1)/(1 - 0.5625), the discounted sum
 *     of the preceding lengths 0.15, 0.1, 0.15, ...), A_inf = 0.05,
 *     Lbar = (0.2*0.128571 + 0.01)/0.3 = 0.119048
 *   init with g0_N = 1, g0_1 = 2: sum = 0.1 + 0.05*0.75*2 + 0.1*0.5625 + 0.05*0.421875*2
 *     = 0.2734375, init = 2*0.5*0.2734375/0.3 = 0.911458 */
Test(theory, bound_by_hand)
{
    bound_constants k = tiny();
    bound_terms b;
    bound_rhs(&k, BOUND_STATEMENT, 2, 4, 0.1, 0.05, 0.5, 0.75, &b);
    cr_assert_float_eq(b.H, 0.3, 1e-12);
    cr_assert_float_eq(b.Lbar, 0.04 / 0.3, 1e-12);
    cr_assert_float_eq(b.Sbar, 0.4 / 0.3, 1e-12);
    cr_assert_float_eq(b.delta, 10 / 0.3, 1e-12);
    cr_assert_float_eq(b.drift, 0.533333333333, 1e-9);
    cr_assert_float_eq(b.noise, 2.0, 1e-12);
    cr_assert_float_eq(b.quad, 0.05, 1e-12);
    cr_assert_float_eq(b.total, 35.9166666667, 1e-9);
    bound_rhs(&k, BOUND_REFINED, 2, 4, 0.1, 0.05, 0.5, 0.75, &b);
    cr_assert_float_eq(b.Lbar, (0.2 * (0.15 - 0.05 * 0.1875 / 0.4375) + 0.01) / 0.3, 1e-12);
    cr_assert_float_eq(b.Lbar, 0.119047619, 1e-8);
    k.g0_N = 1;
    k.g0_1 = 2;
    bound_rhs(&k, BOUND_STATEMENT, 2, 4, 0.1, 0.05, 0.5, 0.75, &b);
    cr_assert_float_eq(b.init, 0.91145833333, 1e-9);
    long nM, nL;
    bound_counts(3, 10, &nM, &nL);
    cr_assert(nM == 4 && nL == 6);
    bound_counts(0, 10, &nM, &nL);
    cr_assert(nM == 0 && nL == 10);
    cr_assert_float_eq(bound_cost_per_iter(4, 10, 100, 2), 36.5, 1e-12);
    cr_assert_float_eq(bound_cost_per_iter(0, 10, 100, 2), 12, 1e-12);
    cr_assert_float_eq(bound_cost_per_iter(1, 10, 100, 2), 110, 1e-12);
}

/* The refined step lengths reduce to the pure methods' own at the ends and
 * to plain period averages as b2 -> 1. */
Test(theory, refined_lengths_limits)
{
    bound_constants k = tiny();
    double A2, Ai;
    bound_step_lengths(&k, BOUND_REFINED, 1, 0.1, 0.05, 0.9, &A2, &Ai);
    cr_assert_float_eq(A2, 0.1, 1e-15);
    bound_step_lengths(&k, BOUND_REFINED, 0, 0.1, 0.05, 0.9, &A2, &Ai);
    cr_assert_float_eq(Ai, 0.05, 1e-15);
    bound_step_lengths(&k, BOUND_REFINED, 5, 0.1, 0.05, 1 - 1e-9, &A2, &Ai);
    cr_assert_float_eq(A2, (0.1 + 4 * 0.15) / 5, 1e-7);
    cr_assert_float_eq(Ai, (0.05 + 4 * 0.05) / 5, 1e-7);
}

/* Cor. 2 by hand: P = 1, statement, kappa = 2, eps = 0.1: h = 1, lhat = L_M = 1,
 * lquad = 1, L' = 2.5, Sbar = 1, c_k = 2, (4*2*1/0.1)^2 = 6400,
 * T = 16 * 10 * 2.5 / 0.01 * 6400 = 2.56e8.  The grid-tuned count is within
 * a grid step (10^0.05) above it and, for eps -> 0, its log-log slope is
 * (3 kappa - 2)/(kappa - 1). */
Test(theory, tuned_complexity)
{
    bound_constants k = tiny();
    double Tc = bound_tuned_T_closed(&k, BOUND_STATEMENT, 1, 0.1, 1.0);
    cr_assert_float_eq(Tc, 2.56e8, 1e-3);
    double Tn = bound_tuned_T(&k, BOUND_STATEMENT, 1, 0.1, NULL, NULL, NULL);
    cr_assert_leq(Tn, Tc * 1.13);
    cr_assert_geq(Tn, Tc / 64);
    double kap[] = {2.0, 1.5, 1.25};
    for (int a = 0; a < 3; a++) {
        k.kappa = kap[a];
        double t1 = bound_tuned_T(&k, BOUND_REFINED, 4, 1e-3, NULL, NULL, NULL);
        double t2 = bound_tuned_T(&k, BOUND_REFINED, 4, 1e-4, NULL, NULL, NULL);
        double slope = log10(t2 / t1), want = (3 * kap[a] - 2) / (kap[a] - 1);
        cr_assert_float_eq(slope, want, 0.05 * want, "kappa %g: slope %g", kap[a], slope);
    }
}

/* predict: 11 periods, P "inf" last, P_star the argmin of compute. */
Test(theory, predict_json)
{
    bound_constants k = tiny();
    val_cost c = {100, 5000, 10};
    long Ps;
    json_t *j = val_predict(&k, &c, 0.5, BOUND_REFINED, &Ps);
    json_t *per = json_object_get(j, "periods");
    cr_assert_eq(json_array_size(per), 11);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(per, 10), "P")), "inf");
    double best = INFINITY;
    long bp = -1;
    for (size_t i = 0; i < 11; i++) {
        json_t *it = json_array_get(per, i);
        double C = json_number_value(json_object_get(it, "compute"));
        if (C < best) {
            best = C;
            bp = bound_periods[i];
        }
    }
    cr_assert_eq(bp, Ps);
    json_decref(j);
}

/* Along a run the measured local ratios never exceed the analytic constants,
 * and for the separable objective every Lion step attains L_L = sum h
 * (||H o sign(C)||_1 = sum h for any sign pattern without zeros). */
Test(theory, measured_constants_within_analytic)
{
    obj_kind kinds[] = {OBJ_SEPARABLE, OBJ_KRONECKER, OBJ_MIX, OBJ_ZIPF};
    for (int a = 0; a < 4; a++) {
        obj *o = make(kinds[a], 6, 8, 2);
        noise_params np = noise_default_params();
        np.dist = kinds[a] == OBJ_ZIPF ? NOISE_NONE : NOISE_STUDENT_T;
        np.nu = 2.5;
        opt_config c = opt_default_config(OPT_LIONMUON);
        c.period = 3;
        c.lr_muon = 0.05;
        c.lr_sign = 0.01;
        c.weight_decay = 0;
        c.msign = msign_default_opts(MSIGN_SVD);
        meas_setup s = {.o = o, .noise = &np, .opt = &c, .T = 60, .seed = 4, .extra_samples = 200};
        meas_trace t;
        meas_summary sm;
        lm_error e;
        cr_assert_eq(meas_run(&s, &t, &e), 0, "%s", e.msg);
        cr_assert_eq(meas_summarize(&t, 0, noise_tail_index(&np), &sm, &e), 0, "%s", e.msg);
        obj_smooth an;
        obj_smoothness(o, &an, NULL);
        cr_assert_leq(sm.L_M.max, an.LM_hi * (1 + 1e-9), "%s", obj_kind_name(kinds[a]));
        cr_assert_leq(sm.L_L.max, an.LL_hi * (1 + 1e-9), "%s", obj_kind_name(kinds[a]));
        cr_assert_leq(sm.alpha.max, sqrt(48.0) * (1 + 1e-12));
        cr_assert_leq(sm.gamma.max, 1 + 1e-9);
        if (kinds[a] == OBJ_SEPARABLE)
            cr_assert_float_eq(sm.L_L.max, an.LL_hi, 1e-9 * an.LL_hi);
        cr_assert(sm.kappa > 1 && sm.kappa <= 2);
        meas_trace_free(&t);
        obj_free(o);
    }
}

/* The 95% t interval: for {1, 2, 3} the half-width is t_{0.975,2} sd/sqrt 3
 * = 4.302653 * 1 / 1.732051 = 2.484138. */
Test(theory, t_interval)
{
    double x[3] = {1, 2, 3}, mean, half;
    stats_mean_ci(3, x, &mean, &half);
    cr_assert_float_eq(mean, 2, 1e-15);
    cr_assert_float_eq(half, 2.484138, 1e-5);
}

/* ---- issue 13 ---- */

/* Lemma 3, per phase: at b2 = 0.9, P = 5, with eta_L = 0 and gamma eta_M = 1
 * the Lion step right after the Muon step carries (1 - b2)/(1 - b2^5) =
 * 0.244194 of the Muon step, the mean over the four Lion phases is
 * (1 - b2^4)/(4 (1 - b2^5)) = 0.209946 (= A_inf): a per-step bound needs the
 * per-phase value, and so does a partial last period. */
Test(theory, per_phase_lengths)
{
    bound_constants k = tiny();
    k.gamma = 1;
    double A2, Ai;
    bound_step_lengths(&k, BOUND_REFINED, 5, 1.0, 0.0, 0.9, &A2, &Ai);
    cr_assert_float_eq(Ai, 0.209946, 1e-6);
    cr_assert_float_eq(bound_phase_length(&k, BOUND_REFINED, 5, 1, 1.0, 0.0, 0.9), 0.244194, 1e-6);
    double mean = 0;
    for (int j = 1; j < 5; j++)
        mean += bound_phase_length(&k, BOUND_REFINED, 5, j, 1.0, 0.0, 0.9) / 4;
    cr_assert_float_eq(mean, Ai, 1e-12);
    cr_assert_float_eq(bound_phase_length(&k, BOUND_REFINED, 5, 0, 1.0, 0.0, 0.9), A2, 1e-15);
}

/* The discounted sum of the lengths of the steps before t, in t's own norm,
 * along the actual sequence of steps from t = 0 (the transient). */
static double transient_length(const bound_constants *k, long P, long t, double eM, double eL,
                               double b2)
{
    int muon_t = P > 0 && t % P == 0;
    double s = 0, w = 1;
    for (long j = t - 1; j >= 0; j--, w *= b2) {
        int muon_j = P > 0 && j % P == 0;
        double len = muon_t ? (muon_j ? eM : k->alpha * eL) : (muon_j ? k->gamma * eM : eL);
        s += w * len;
    }
    return (1 - b2) * s;
}

/* bound_rhs when T is not a multiple of P: its drift equals the per-step
 * sum (2 b1 / ((1 - b2) H)) sum_t eta_t L_tau(t) phase_length(t mod P), and
 * every actual (transient) discounted sum lies below its phase's steady
 * value, so the bound holds step by step.  With the old period mean for the
 * partial period the drift would be smaller than the per-step sum. */
Test(theory, partial_period_drift)
{
    bound_constants k = tiny();
    k.gamma = 2.0;
    double eM = 0.1, eL = 0.02, b1 = 0.8, b2 = 0.9;
    long Ps[] = {2, 3, 5, 7}, Ts[] = {1, 2, 6, 11, 23, 40};
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 6; b++) {
            long P = Ps[a], T = Ts[b];
            bound_terms bt;
            bound_rhs(&k, BOUND_REFINED, P, T, eM, eL, b1, b2, &bt);
            double sum = 0, H = 0, mean_sum = 0, A2, Ai;
            bound_step_lengths(&k, BOUND_REFINED, P, eM, eL, b2, &A2, &Ai);
            for (long t = 0; t < T; t++) {
                int muon = t % P == 0;
                double eta = muon ? eM : eL, L = muon ? k.L_M : k.L_L;
                double ph = bound_phase_length(&k, BOUND_REFINED, P, t % P, eM, eL, b2);
                cr_assert_leq(transient_length(&k, P, t, eM, eL, b2), ph * (1 + 1e-12),
                              "P %ld t %ld", P, t);
                sum += eta * L * ph;
                mean_sum += eta * L * (muon ? A2 : Ai);
                H += eta;
            }
            double want = 2 * b1 * sum / ((1 - b2) * H);
            cr_assert_float_eq(bt.drift, want, 1e-12 * want, "P %ld T %ld", P, T);
            if (T % P != 0 && T % P != 1) /* a partial period with Lion steps */
                cr_assert_gt(sum, mean_sum * (1 + 1e-12), "P %ld T %ld", P, T);
            if (T % P == 0)
                cr_assert_float_eq(sum, mean_sum, 1e-12 * sum);
        }
}

/* Cor. 1: with g_ratio = 1 the common-currency bound is Thm 1's; with a
 * ratio r it is Thm 1's times H / (n_M eta_M + r n_L eta_L). */
Test(theory, common_currency)
{
    bound_constants k = tiny();
    bound_terms b;
    k.g_ratio = 1;
    bound_rhs(&k, BOUND_REFINED, 3, 10, 0.1, 0.05, 0.9, 0.99, &b);
    cr_assert_float_eq(b.total_common, b.total, 1e-12 * b.total);
    k.g_ratio = 3;
    bound_rhs(&k, BOUND_REFINED, 3, 10, 0.1, 0.05, 0.9, 0.99, &b);
    double H = 4 * 0.1 + 6 * 0.05, Hcc = 4 * 0.1 + 3 * 6 * 0.05;
    cr_assert_float_eq(b.H_cc, Hcc, 1e-12);
    cr_assert_float_eq(b.total_common, b.total * H / Hcc, 1e-12 * b.total);
    /* the tuned common-currency count is never above the mixed one */
    for (long P = 1; P <= 8; P *= 2)
        cr_assert_leq(bound_tuned(&k, BOUND_REFINED, BOUND_COMMON, P, 5.0, NULL),
                      bound_tuned(&k, BOUND_REFINED, BOUND_MIXED, P, 5.0, NULL) * (1 + 1e-12));
}

/* bound_T_at at the tuned point reproduces the tuned count (eta is the
 * optimum for that T), and reports an excess >= 1 exactly when unreachable. */
Test(theory, T_at_matches_tuned)
{
    bound_constants k = tiny();
    k.g0_N = 1;
    k.g0_1 = 2;
    long Ps[] = {1, 3, 0};
    for (int a = 0; a < 3; a++) {
        bound_tuned_point tp;
        double T = bound_tuned(&k, BOUND_REFINED, BOUND_MIXED, Ps[a], 1.0, &tp);
        double eM = Ps[a] == 0 ? 1 : tp.eta, eL = Ps[a] == 0 ? tp.eta : tp.eta * tp.theta, ex;
        double T2 = bound_T_at(&k, BOUND_REFINED, BOUND_MIXED, Ps[a], 1.0, eM, eL, 1 - tp.q, &ex);
        cr_assert_float_eq(T2, T, 1e-6 * T, "P %ld: %g vs %g", Ps[a], T2, T);
        cr_assert_lt(ex, 1);
        double T3 = bound_T_at(&k, BOUND_REFINED, BOUND_MIXED, Ps[a], 1.0, eM * 1e6, eL * 1e6,
                               1 - tp.q, &ex);
        cr_assert(isinf(T3) && ex >= 1);
    }
}

/* sigma_F(kappa) from the law: Gaussian entrywise has ||xi||_F^2 / sigma^2
 * ~ chi^2_{mn}, E S^{k/2} = sigma^k 2^{k/2} Gamma(mn/2 + k/2) / Gamma(mn/2);
 * rank-one noise has S = sigma^2 m n z^2 (closed moments of |z|); the value
 * scales with sigma; student-t(3) entrywise agrees with 2e5 draws within 2%. */
Test(theory, sigma_F_from_the_law)
{
    noise_params p = noise_default_params();
    p.sigma = 0.7;
    for (double kap = 1.2; kap <= 2.0; kap += 0.4) {
        double K = 48, pw = kap / 2;
        double want = p.sigma * pow(pow(2, pw) * exp(gsl_sf_lngamma(K / 2 + pw) -
                                                      gsl_sf_lngamma(K / 2)), 1 / kap);
        cr_assert_float_eq(noise_sigma_F(&p, 6, 8, kap, NULL), want, 1e-6 * want, "kappa %g", kap);
    }
    p.dist = NOISE_STUDENT_T;
    p.nu = 1.5;
    p.structure = NOISE_LOWRANK;
    p.rank = 1;
    double want = p.sigma * pow(pow(48, 0.6) * noise_abs_moment(&p, 1.2), 1 / 1.2);
    cr_assert_float_eq(noise_sigma_F(&p, 6, 8, 1.2, NULL), want, 1e-9 * want);
    cr_assert(isinf(noise_sigma_F(&p, 6, 8, 1.5, NULL)));
    p.structure = NOISE_ENTRYWISE;
    p.nu = 3;
    double s1 = noise_sigma_F(&p, 6, 8, 1.2, NULL);
    p.sigma = 1.4;
    cr_assert_float_eq(noise_sigma_F(&p, 6, 8, 1.2, NULL), 2 * s1, 1e-12 * s1);
    gsl_rng *r = tu_rng(9);
    double xi[48], scr[200], acc = 0;
    int N = 200000;
    for (int i = 0; i < N; i++) {
        noise_draw(&p, 6, 8, r, xi, scr);
        double f = 0;
        for (int j = 0; j < 48; j++)
            f += xi[j] * xi[j];
        acc += pow(f, 0.6);
    }
    gsl_rng_free(r);
    cr_assert_float_eq(pow(acc / N, 1 / 1.2), 2 * s1, 0.02 * 2 * s1);
}

/* The centred Pareto law: mean 0, median below 0 (skewed), tail index a. */
Test(theory, pareto_noise_centred_and_skewed)
{
    noise_params p = noise_default_params();
    p.dist = NOISE_PARETO;
    p.pareto_a = 3;
    lm_error e;
    cr_assert_eq(noise_check(&p, &e), 0);
    cr_assert_float_eq(noise_tail_index(&p), 3, 0);
    gsl_rng *r = tu_rng(3);
    int N = 400000, below = 0;
    double s = 0;
    for (int i = 0; i < N; i++) {
        double z = noise_scalar(&p, r);
        s += z;
        below += z < 0;
    }
    gsl_rng_free(r);
    /* Var z = a / ((a - 1)^2 (a - 2)) = 0.75: 5 standard errors */
    cr_assert_leq(fabs(s / N), 5 * sqrt(0.75 / N));
    cr_assert_gt((double)below / N, 0.6); /* P(X < mean) = 1 - (2/3)^3 = 0.70 */
    p.pareto_a = 1;
    cr_assert_eq(noise_check(&p, &e), -1);
    cr_assert(strstr(e.msg, "--pareto-a") != NULL);
}

/* geometry(lambda): inf f = lambda (1 - lambda)/2 ||S - K||^2 is attained
 * at W* (the gradient vanishes there), Delta = f(0) - inf f, the targets
 * are a sign matrix (lambda = 1) and sqrt(max) times an orthonormal set of
 * rows (lambda = 0). */
Test(theory, geometry_objective)
{
    int m = 6, n = 8;
    double lams[] = {0.0, 0.3, 1.0};
    for (int a = 0; a < 3; a++) {
        obj_params p = obj_default_params(OBJ_GEOMETRY, m, n, 4);
        p.lambda = lams[a];
        lm_error e;
        obj *o = obj_alloc(&p, &e);
        cr_assert_not_null(o, "%s", e.msg);
        double G[48];
        obj_grad(o, o->Wstar, G);
        cr_assert_leq(la_norm_fro(m, n, G), 1e-12);
        cr_assert_float_eq(obj_value(o, o->Wstar), obj_inf(o), 1e-12);
        cr_assert_float_eq(obj_delta(o), 0.5 * la_norm_fro(m, n, o->Wstar) *
                                             la_norm_fro(m, n, o->Wstar), 1e-9);
        if (lams[a] == 1.0)
            for (int i = 0; i < m * n; i++)
                cr_assert_float_eq(fabs(o->Wstar[i]), 1.0, 0);
        if (lams[a] == 0.0) { /* K K^T = n I */
            for (int i = 0; i < m; i++)
                for (int j = 0; j < m; j++) {
                    double d = 0;
                    for (int c = 0; c < n; c++)
                        d += o->Wstar[i * n + c] * o->Wstar[j * n + c];
                    cr_assert_float_eq(d, i == j ? n : 0, 1e-9);
                }
            cr_assert_float_eq(obj_inf(o), 0, 0);
        }
        obj_smooth s;
        obj_smoothness(o, &s, NULL);
        cr_assert(s.LM_hi == m && s.LL_hi == m * n);
        obj_free(o);
    }
}

/* The verdict statistics by hand: Holm on {0.01, 0.04, 0.03, 0.005} is
 * {0.03, 0.06, 0.06, 0.02}; the paired t-test on differences {1, 2, 3}
 * has t = 2 sqrt(3), p = 2 (1 - F_2(t)) = 1 - t / sqrt(2 + t^2) = 0.074180;
 * Spearman with ties uses average ranks; inf ranks last. */
Test(theory, verdict_statistics)
{
    double p[4] = {0.01, 0.04, 0.03, 0.005}, adj[4];
    vd_holm(4, p, adj);
    double want[4] = {0.03, 0.06, 0.06, 0.02};
    for (int i = 0; i < 4; i++)
        cr_assert_float_eq(adj[i], want[i], 1e-15);
    double q[3] = {NAN, 0.2, 0.9}, qa[3];
    vd_holm(3, q, qa);
    cr_assert(isnan(qa[0]) && fabs(qa[1] - 0.4) < 1e-15 && fabs(qa[2] - 0.9) < 1e-15);
    double a[3] = {2, 4, 6}, b[3] = {1, 2, 3}, m, h, pv;
    int k;
    vd_paired(3, a, b, &m, &h, &pv, &k);
    double t = 2 * sqrt(3.0);
    cr_assert(k == 3 && m == 2);
    cr_assert_float_eq(pv, 1 - t / sqrt(2 + t * t), 1e-9);
    double x[5] = {1, 2, 3, 4, 5}, y[5] = {5, 6, 7, 8, 7};
    /* ranks of y: 1, 2, 3.5, 5, 3.5 */
    double rx[5] = {1, 2, 3, 4, 5}, ry[5] = {1, 2, 3.5, 5, 3.5};
    cr_assert_float_eq(vd_spearman(5, x, y), gsl_stats_correlation(rx, 1, ry, 1, 5), 1e-12);
    double z[4] = {3, INFINITY, 1, 2}, w[4] = {30, 40, 10, 20};
    cr_assert_float_eq(vd_spearman(4, z, w), 1.0, 1e-12);
    cr_assert_eq(vd_argmin(4, z), 2);
    cr_assert_float_eq(vd_spearman_p(10, 0.0), 1.0, 1e-12);
}

/* A run on injected noise uses sigma_F computed from the law (the same on
 * every seed) and carries the sigma_F(kappa) table and the Hill range. */
Test(theory, summary_sigma_from_law)
{
    obj *o = make(OBJ_SEPARABLE, 6, 8, 2);
    noise_params np = noise_default_params();
    np.dist = NOISE_STUDENT_T;
    np.nu = 2.5;
    opt_config c = opt_default_config(OPT_LIONMUON);
    c.weight_decay = 0;
    c.msign = msign_default_opts(MSIGN_SVD);
    double sig[2];
    for (int s = 0; s < 2; s++) {
        meas_setup st = {.o = o, .noise = &np, .opt = &c, .T = 40, .seed = 10 + s,
                         .extra_samples = 400};
        meas_trace t;
        meas_summary sm;
        lm_error e;
        cr_assert_eq(meas_run(&st, &t, &e), 0, "%s", e.msg);
        cr_assert_eq(meas_summarize(&t, 0, noise_tail_index(&np), &sm, &e), 0, "%s", e.msg);
        cr_assert_eq(sm.sigma_method, 1);
        cr_assert_eq(sm.nkappa, 10);
        cr_assert(sm.kappa_tab[0] > 1 && sm.kappa_tab[9] <= 2);
        cr_assert(sm.hill_stable >= 0 && sm.hill_lo <= sm.hill_hi);
        cr_assert_geq(sm.g_ratio_min, 1 - 1e-12);
        sig[s] = sm.sigma_F;
        meas_trace_free(&t);
    }
    cr_assert_eq(sig[0], sig[1]);
    obj_free(o);
}
