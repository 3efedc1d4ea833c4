/* test_optim.c - the optimizer family against hand computations, and the
 * identities between its special cases. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "lionmuon/optim.h"
#include "testutil.h"

/* A config with every knob explicit, so a hand computation can follow it. */
static opt_config cfg(opt_kind kind)
{
    opt_config c = opt_default_config(kind);
    c.msign = msign_default_opts(MSIGN_SVD);
    return c;
}

/* One LionMuon Muon step and one Lion step on a 2 x 3 matrix whose direction
 * has an obvious polar factor: C = diag(3, -2) padded, msign(C) =
 * diag(1, -1) padded.  Everything else is the formula by hand. */
Test(optim, lionmuon_muon_then_lion_by_hand)
{
    opt_config c = cfg(OPT_LIONMUON);
    c.beta1 = 0.5;
    c.beta2 = 0.75;
    c.lr_muon = 0.1;
    c.lr_sign = 0.01;
    c.weight_decay = 0.2;
    c.period = 2;
    double W[6] = {1, 2, 3, 4, 5, 6}, M[6] = {0};
    /* with M = 0, C = (1 - beta1) G = G / 2 */
    double G[6] = {6, 0, 0, 0, -4, 0};
    opt_matrix_ws *ws = opt_matrix_ws_alloc(2, 3);
    lm_error e;
    int muon;
    cr_assert(opt_lionmuon_matrix(&c, 0, 1.0, 2, 3, W, G, M, ws, &muon, &e) == 0, "%s", e.msg);
    cr_assert(muon == 1, "t = 0 must be a Muon step");
    double scale = 0.2 * sqrt(3.0), lr = 0.1, dec = 1 - lr * 0.2;
    double U[6] = {1, 0, 0, 0, -1, 0};
    double W0[6] = {1, 2, 3, 4, 5, 6};
    for (int i = 0; i < 6; i++) {
        cr_assert(fabs(W[i] - (W0[i] * dec - lr * scale * U[i])) < 1e-15, "W[%d] = %.17g", i, W[i]);
        cr_assert(fabs(M[i] - 0.25 * G[i]) < 1e-15, "M[%d]", i);
    }
    /* t = 1: Lion step.  C = 0.5 M + 0.5 G2 */
    double G2[6] = {-1, 2, 0, -3, 1, 0.5};
    double W1[6], M1[6], C[6];
    memcpy(W1, W, sizeof W);
    memcpy(M1, M, sizeof M);
    for (int i = 0; i < 6; i++)
        C[i] = 0.5 * M1[i] + 0.5 * G2[i];
    cr_assert(opt_lionmuon_matrix(&c, 1, 1.0, 2, 3, W, G2, M, ws, &muon, &e) == 0);
    cr_assert(muon == 0, "t = 1 must be a Lion step under P = 2");
    for (int i = 0; i < 6; i++) {
        double sg = C[i] > 0 ? 1 : C[i] < 0 ? -1 : 0;
        double want = W1[i] * (1 - 0.01 * 0.2) - 0.01 * sg;
        cr_assert(fabs(W[i] - want) < 1e-15, "Lion W[%d] = %.17g want %.17g", i, W[i], want);
        cr_assert(fabs(M[i] - (0.75 * M1[i] + 0.25 * G2[i])) < 1e-15);
    }
    /* sign(0) = 0: entry 2 had C = 0 and moved by weight decay alone */
    cr_assert(fabs(W[2] - W1[2] * (1 - 0.002)) < 1e-15);
    opt_matrix_ws_free(ws);
}

/* The momentum buffer is one EMA of the gradients whatever the step type:
 * after steps with gradients G0, G1, G2, M = (1-b2)(b2^2 G0 + b2 G1 + G2). */
Test(optim, one_momentum_buffer_across_muon_and_lion_steps)
{
    opt_config c = cfg(OPT_LIONMUON);
    c.period = 2;
    gsl_rng *r = tu_rng(7);
    double W[12], M[12] = {0}, G[3][12];
    tu_gauss(r, 12, W);
    for (int k = 0; k < 3; k++)
        tu_gauss(r, 12, G[k]);
    opt_matrix_ws *ws = opt_matrix_ws_alloc(3, 4);
    lm_error e;
    int types[3];
    for (int k = 0; k < 3; k++)
        cr_assert(opt_lionmuon_matrix(&c, k, 1.0, 3, 4, W, G[k], M, ws, &types[k], &e) == 0);
    cr_assert(types[0] == 1 && types[1] == 0 && types[2] == 1);
    double b2 = c.beta2;
    for (int i = 0; i < 12; i++) {
        double want = (1 - b2) * (b2 * b2 * G[0][i] + b2 * G[1][i] + G[2][i]);
        cr_assert(fabs(M[i] - want) < 1e-15, "M[%d]", i);
    }
    opt_matrix_ws_free(ws);
    gsl_rng_free(r);
}

/* Run `steps` steps of config c on a fixed random problem (two matrices and
 * a 1-D tensor, gradients drawn per step) and return the final weights. */
#define NW (12 + 20 + 5)
static void trajectory(const opt_config *c, int steps, double out[NW])
{
    gsl_rng *r = tu_rng(11);
    double w[NW], g[NW];
    tu_gauss(r, NW, w);
    opt_tensor t[3] = {
        {"a", 3, 4, w, g, OPT_RULE_MATRIX, 0},
        {"b", 5, 4, w + 12, g + 12, OPT_RULE_MATRIX, 0},
        {"gain", 1, 5, w + 32, g + 32, OPT_RULE_ADAMW, 0},
    };
    opt_state *s = opt_alloc(c, 3, t);
    lm_error e;
    for (int k = 0; k < steps; k++) {
        tu_gauss(r, NW, g);
        cr_assert(opt_step(s, k, 1.0, NULL, &e) == 0, "%s", e.msg);
    }
    memcpy(out, w, sizeof w);
    opt_free(s);
    gsl_rng_free(r);
}

static void assert_same(const double *a, const double *b, const char *what)
{
    for (int i = 0; i < NW; i++)
        cr_assert(a[i] == b[i], "%s: differ at %d (%.17g vs %.17g)", what, i, a[i], b[i]);
}

/* The paper's table as identities of one rule, compared bit for bit. */
Test(optim, special_cases_are_lionmuon_with_fixed_parameters)
{
    double x[NW], y[NW];
    opt_config lm = cfg(OPT_LIONMUON), other;

    /* LionMuon with beta1 = beta2 is SignMuon */
    lm.beta1 = lm.beta2 = 0.9;
    lm.period = 3;
    other = cfg(OPT_SIGNMUON);
    other.beta1 = 0.9;
    other.beta2 = 0.123; /* ignored: SignMuon ties beta2 to beta1 */
    other.period = 3;
    other.lr_muon = lm.lr_muon;
    trajectory(&lm, 7, x);
    trajectory(&other, 7, y);
    assert_same(x, y, "LionMuon(b1 = b2) vs SignMuon");

    /* P = 1 with beta1 = beta2 is Muon (the paper's table form) */
    lm.period = 1;
    other = cfg(OPT_MUON);
    lm.beta1 = lm.beta2 = other.beta1;
    other.lr_muon = lm.lr_muon;
    other.lr_sign = lm.lr_sign;
    trajectory(&lm, 5, x);
    trajectory(&other, 5, y);
    assert_same(x, y, "LionMuon(P = 1, b1 = b2) vs Muon");

    /* P = 0 is Lion */
    lm = cfg(OPT_LIONMUON);
    lm.period = 0;
    other = cfg(OPT_LION);
    other.period = 5; /* ignored: Lion never takes a Muon step */
    trajectory(&lm, 6, x);
    trajectory(&other, 6, y);
    assert_same(x, y, "LionMuon(P = 0) vs Lion");

    /* Lion with beta1 = beta2 is Signum */
    other = cfg(OPT_LION);
    opt_config sg = cfg(OPT_SIGNUM);
    other.beta1 = other.beta2 = sg.beta1;
    other.lr_sign = sg.lr_sign; /* the named defaults differ: 5e-5 and 1e-4 */
    trajectory(&other, 6, x);
    trajectory(&sg, 6, y);
    assert_same(x, y, "Lion(b1 = b2) vs Signum");
}

/* The paper's runs write "never" as P = 10^7: that equals Lion from t = 1 on,
 * after one Muon step at t = 0 -- so it differs from P = 0 exactly there. */
Test(optim, paper_large_period_takes_one_muon_step)
{
    cr_assert(opt_is_muon_step(10000000, 0) && !opt_is_muon_step(10000000, 1));
    cr_assert(!opt_is_muon_step(0, 0));
    double x[NW], y[NW];
    opt_config a = cfg(OPT_LIONMUON), b = cfg(OPT_LIONMUON);
    a.period = 10000000;
    b.period = 0;
    trajectory(&a, 1, x);
    trajectory(&b, 1, y);
    int differ = 0;
    for (int i = 0; i < 32; i++)
        differ |= x[i] != y[i];
    cr_assert(differ, "P = 1e7 and P = 0 agree at t = 0");
}

/* AdamW, both eps placements, at k = t + 1 = 3 from a given state, by hand. */
Test(optim, adamw_both_eps_modes_by_hand)
{
    for (int mode = 0; mode < 2; mode++) {
        opt_config c = cfg(OPT_ADAMW);
        c.adamw_eps_mode = mode ? OPT_EPS_TORCH : OPT_EPS_PAPER;
        c.adamw_eps = 1e-3; /* large, so the placement matters */
        c.lr_adamw = 0.01;
        c.weight_decay = 0.1;
        double p[2] = {0.5, -1.5}, g[2] = {0.2, -0.4}, m[2] = {0.1, 0.3}, v[2] = {0.04, 0.01};
        double b1 = c.adamw_beta1, b2 = c.adamw_beta2, want[2];
        for (int i = 0; i < 2; i++) {
            double mm = b1 * m[i] + (1 - b1) * g[i];
            double vv = b2 * v[i] + (1 - b2) * g[i] * g[i];
            double bc1 = 1 - b1 * b1 * b1, bc2 = 1 - b2 * b2 * b2;
            double pp = p[i] * (1 - 0.01 * 0.1);
            if (mode == 0)
                want[i] = pp - 0.01 / (bc1 / sqrt(bc2)) * mm / (1e-3 + sqrt(vv));
            else
                want[i] = pp - 0.01 / bc1 * mm / (sqrt(vv) / sqrt(bc2) + 1e-3);
        }
        opt_adamw_tensor(&c, 2, 1.0, 2, p, g, m, v);
        for (int i = 0; i < 2; i++)
            cr_assert(fabs(p[i] - want[i]) < 1e-15, "mode %d p[%d] = %.17g want %.17g", mode, i,
                      p[i], want[i]);
    }
}

/* Keller Jordan's Muon by hand on a matrix whose Nesterov direction has the
 * obvious polar factor, in both momentum forms and both shape factors. */
Test(optim, muon_nesterov_by_hand)
{
    opt_matrix_ws *ws = opt_matrix_ws_alloc(3, 2);
    lm_error e;
    for (int form = 0; form < 2; form++) {
        for (int adjust = 0; adjust < 2; adjust++) {
            opt_config c = cfg(OPT_MUON_NESTEROV);
            cr_assert(c.momentum_form == OPT_FORM_EMA, "the EMA form is the default");
            c.momentum_form = form ? OPT_FORM_SGD : OPT_FORM_EMA;
            c.adjust = adjust ? OPT_ADJUST_MATCH_RMS : OPT_ADJUST_ORIGINAL;
            c.beta1 = 0.5;
            c.lr_muon = 0.1;
            c.weight_decay = 0;
            double W[6] = {0}, B[6] = {0}, G[6] = {0, 0, 2, 0, 0, 0};
            /* 3 x 2: SGD B = G, direction G + 0.5 B = 1.5 G; EMA B = G / 2,
             * direction G / 2 + B / 2 = 0.75 G; msign = e_{1,0} either way;
             * scale sqrt(3/2) (original) or 0.2 sqrt(3) (match_rms_adamw) */
            cr_assert(opt_muon_nesterov_matrix(&c, 1.0, 3, 2, W, G, B, ws, &e) == 0);
            double a = adjust ? 0.2 * sqrt(3.0) : sqrt(1.5);
            for (int i = 0; i < 6; i++) {
                double want = i == 2 ? -0.1 * a : 0;
                cr_assert(fabs(W[i] - want) < 1e-15, "W[%d] = %g", i, W[i]);
                cr_assert(B[i] == (form ? G[i] : 0.5 * G[i]));
            }
        }
    }
    opt_matrix_ws_free(ws);
}

/* State memory: LionMuon keeps one buffer per matrix, as Lion; AdamW two. */
Test(optim, state_bytes_lionmuon_equals_lion_equals_half_adamw)
{
    double w[32], g[32];
    opt_tensor t[2] = {{"a", 3, 4, w, g, OPT_RULE_MATRIX, 0}, {"b", 5, 4, w + 12, g + 12, OPT_RULE_MATRIX, 0}};
    opt_config lm = cfg(OPT_LIONMUON), li = cfg(OPT_LION), ad = cfg(OPT_ADAMW);
    opt_state *a = opt_alloc(&lm, 2, t), *b = opt_alloc(&li, 2, t), *c = opt_alloc(&ad, 2, t);
    cr_assert_eq(opt_state_bytes(a), 32 * sizeof(double));
    cr_assert_eq(opt_state_bytes(b), opt_state_bytes(a));
    cr_assert_eq(opt_state_bytes(c), 2 * opt_state_bytes(a));
    cr_assert(opt_buffer(a, 0, 1) == NULL && opt_buffer(c, 0, 1) != NULL);
    opt_free(a);
    opt_free(b);
    opt_free(c);
}

/* Adaptive trigger: a rank-one direction (stable rank 1) takes a Muon step,
 * a direction with equal singular values (stable rank min(m, n)) a Lion step. */
Test(optim, stable_rank_trigger)
{
    opt_config c = cfg(OPT_LIONMUON);
    c.srank_alpha = 0.5;
    c.beta1 = 0; /* C = G */
    double W[16] = {0}, M[16] = {0}, G1[16], G2[16] = {0};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            G1[i * 4 + j] = (i + 1) * (j % 2 ? -1.0 : 1.0);
    for (int i = 0; i < 4; i++)
        G2[i * 4 + (3 - i)] = 1.0; /* a permutation: all singular values 1 */
    opt_matrix_ws *ws = opt_matrix_ws_alloc(4, 4);
    lm_error e;
    int muon;
    cr_assert(opt_lionmuon_matrix(&c, 1, 1.0, 4, 4, W, G1, M, ws, &muon, &e) == 0);
    cr_assert(muon == 1, "rank one should trigger Muon");
    cr_assert(opt_lionmuon_matrix(&c, 0, 1.0, 4, 4, W, G2, M, ws, &muon, &e) == 0);
    cr_assert(muon == 0, "full stable rank should take a Lion step");
    opt_matrix_ws_free(ws);
}

Test(optim, schedule_values)
{
    cr_assert(fabs(opt_lr_schedule(0, 10, 110) - 0.01) < 1e-15);
    cr_assert(fabs(opt_lr_schedule(5, 10, 110) - (0.01 + 0.99 * 0.5)) < 1e-15);
    cr_assert(fabs(opt_lr_schedule(10, 10, 110) - 1.0) < 1e-15);
    cr_assert(fabs(opt_lr_schedule(60, 10, 110) - 0.5) < 1e-15);
    cr_assert(fabs(opt_lr_schedule(110, 10, 110)) < 1e-15);
}

/* torch.nn.utils.clip_grad_norm_: coef = max / (norm + 1e-6), only if < 1. */
Test(optim, global_norm_clipping)
{
    double g[5] = {3, 0, 0, 4, 0}, w[5];
    opt_tensor t[2] = {{"a", 1, 3, w, g, OPT_RULE_ADAMW, 0}, {"b", 1, 2, w + 3, g + 3, OPT_RULE_ADAMW, 0}};
    double total = opt_clip_grad_norm(2, t, 0.5);
    cr_assert(fabs(total - 5) < 1e-15);
    double coef = 0.5 / (5 + 1e-6);
    cr_assert(fabs(g[0] - 3 * coef) < 1e-15 && fabs(g[3] - 4 * coef) < 1e-15);
    double h[2] = {0.1, 0.1};
    opt_tensor u = {"c", 1, 2, w, h, OPT_RULE_ADAMW, 0};
    opt_clip_grad_norm(1, &u, 0.5);
    cr_assert(h[0] == 0.1 && h[1] == 0.1, "clipping below the threshold");
}

Test(optim, bad_hyperparameters_name_the_flag)
{
    opt_config c = cfg(OPT_LIONMUON);
    lm_error e;
    c.beta1 = 1.0;
    cr_assert(opt_config_check(&c, &e) != 0 && strstr(e.msg, "--beta1"), "%s", e.msg);
    c = cfg(OPT_LIONMUON);
    c.beta2 = -0.1;
    cr_assert(opt_config_check(&c, &e) != 0 && strstr(e.msg, "--beta2"), "%s", e.msg);
    c = cfg(OPT_LIONMUON);
    c.lr_muon = -1;
    cr_assert(opt_config_check(&c, &e) != 0 && strstr(e.msg, "--lr-muon"), "%s", e.msg);
    c = cfg(OPT_LIONMUON);
    c.period = -2;
    cr_assert(opt_config_check(&c, &e) != 0 && strstr(e.msg, "--period"), "%s", e.msg);
    c = cfg(OPT_ADAMW);
    c.adamw_eps = 0;
    cr_assert(opt_config_check(&c, &e) != 0 && strstr(e.msg, "--adamw-eps"), "%s", e.msg);
    c = cfg(OPT_LIONMUON);
    cr_assert(opt_config_check(&c, &e) == 0, "%s", e.msg);
}

/* A non-finite gradient is refused, naming the tensor, before any update. */
Test(optim, nonfinite_gradient_is_refused)
{
    double w[4] = {1, 2, 3, 4}, g[4] = {0, NAN, 0, 0};
    opt_tensor t = {"layer.weight", 2, 2, w, g, OPT_RULE_MATRIX, 0};
    opt_config c = cfg(OPT_LIONMUON);
    opt_state *s = opt_alloc(&c, 1, &t);
    lm_error e;
    cr_assert(opt_step(s, 0, 1.0, NULL, &e) != 0);
    cr_assert(strstr(e.msg, "layer.weight") != NULL, "%s", e.msg);
    cr_assert(w[0] == 1 && w[3] == 4, "weights changed");
    opt_free(s);
}

/* opt_step spreads the matrices over the OpenMP team, each with
 * single-threaded BLAS: the bits must be those of a one-thread run, for
 * every rule (the state is allocated per thread, so set the count first). */
Test(optim, matrices_in_parallel_match_one_thread)
{
    opt_kind kinds[] = {OPT_LIONMUON, OPT_MUON_NESTEROV, OPT_ADAMW};
    for (int k = 0; k < 3; k++) {
        double one[NW], two[NW];
        opt_config c = cfg(kinds[k]);
        c.msign = msign_default_opts(MSIGN_NS5);
        omp_set_num_threads(1);
        trajectory(&c, 5, one);
        omp_set_num_threads(2);
        trajectory(&c, 5, two);
        omp_set_num_threads(1);
        assert_same(one, two, opt_kind_name(kinds[k]));
    }
}
