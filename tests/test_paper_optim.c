/* test_paper_optim.c - what the paper's released runs did beyond the LionMuon
 * rule (theory/algorithms.md §2.3, §2.4, §3, §4, §5, §7), against hand
 * computations: the second class, the bf16 update rounding, the seeded
 * stable-rank trigger, the AdamW decay groups, the wsd schedule. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "lionmuon/optim.h"
#include "testutil.h"

static opt_config cfg(opt_kind kind)
{
    opt_config c = opt_default_config(kind);
    c.msign = msign_default_opts(MSIGN_SVD);
    return c;
}

/* torch's .to(bfloat16) of a double: to float, then to bf16, nearest even. */
Test(paper_optim, bf16_rounding_is_torchs)
{
    double ulp = ldexp(1, -7); /* bf16's spacing in [1, 2) */
    cr_assert(opt_round_bf16(1.0) == 1.0);
    cr_assert(opt_round_bf16(-0.375) == -0.375, "exactly representable values stay");
    cr_assert(opt_round_bf16(1 + ulp / 2) == 1.0, "a tie goes to the even neighbour");
    cr_assert(opt_round_bf16(1 + 1.5 * ulp) == 1 + 2 * ulp, "a tie goes to the even neighbour");
    cr_assert(opt_round_bf16(1 + 0.6 * ulp) == 1 + ulp);
    cr_assert(opt_round_bf16(-(1 + 0.6 * ulp)) == -(1 + ulp));
    /* just above the tie, but below float's resolution: the float cast
     * lands on the tie first, so torch (and this) give 1, not 1 + ulp */
    cr_assert(opt_round_bf16(1 + ulp / 2 + ldexp(1, -30)) == 1.0);
    cr_assert(opt_round_bf16(3e-3) == 0.0030059814453125, "torch.tensor(3e-3).to(bfloat16)");
}

/* The second class by hand (theory/algorithms.md §3) on a 2 x 3 matrix whose
 * Nesterov direction has an obvious polar factor: a Muon step at t = 0, a
 * raw sign step at t = 1 at the fixed rate lr_sign (the schedule multiplier
 * 0.5 scales lr_muon only). */
Test(paper_optim, signmuon_sgd_by_hand)
{
    opt_config c = cfg(OPT_SIGNMUON_SGD);
    cr_assert(c.nesterov && c.sign_scaling == OPT_SCALING_NONE && c.cheap_mode == OPT_CHEAP_SIGN);
    c.beta1 = c.beta2 = 0.5;
    c.lr_muon = 0.1;
    c.lr_sign = 0.01;
    c.weight_decay = 0.2;
    c.period = 2;
    double W[6] = {1, 2, 3, 4, 5, 6}, B[6] = {0}, W0[6];
    double G[6] = {6, 0, 0, 0, -4, 0};
    memcpy(W0, W, sizeof W);
    opt_matrix_ws *ws = opt_matrix_ws_alloc(2, 3);
    lm_error e;
    int muon;
    cr_assert(opt_signmuon_sgd_matrix(&c, 0, 0.5, 2, 3, W, G, B, ws, &muon, &e) == 0, "%s", e.msg);
    cr_assert(muon == 1);
    /* B = G; D = G + 0.5 B = 1.5 G; msign(D) = diag(1, -1) padded */
    double lr = 0.1 * 0.5, a = 0.2 * sqrt(3.0), U[6] = {1, 0, 0, 0, -1, 0};
    for (int i = 0; i < 6; i++) {
        cr_assert(B[i] == G[i]);
        cr_assert(fabs(W[i] - (W0[i] * (1 - lr * 0.2) - lr * a * U[i])) < 1e-15, "W[%d]", i);
    }
    double G2[6] = {-1, 2, 0, -3, 1, 0.5}, W1[6], B1[6];
    memcpy(W1, W, sizeof W);
    memcpy(B1, B, sizeof B);
    cr_assert(opt_signmuon_sgd_matrix(&c, 1, 0.5, 2, 3, W, G2, B, ws, &muon, &e) == 0);
    cr_assert(muon == 0);
    for (int i = 0; i < 6; i++) {
        double b = 0.5 * B1[i] + G2[i], d = G2[i] + 0.5 * b;
        double sg = d > 0 ? 1 : d < 0 ? -1 : 0;
        cr_assert(B[i] == b, "B[%d]", i);
        cr_assert(fabs(W[i] - (W1[i] * (1 - 0.01 * 0.2) - 0.01 * sg)) < 1e-15, "W[%d]", i);
    }
    opt_matrix_ws_free(ws);
}

/* The cheap step's other forms (§3): the sign scaled by sign_scaling, the
 * Frobenius-normalised direction, and Nesterov off (D = B). */
Test(paper_optim, signmuon_sgd_cheap_modes)
{
    double G[6] = {3, -1, 0, 2, 0.5, -4};
    opt_matrix_ws *ws = opt_matrix_ws_alloc(3, 2);
    lm_error e;
    int muon;
    for (int mode = 0; mode < 4; mode++) {
        opt_config c = cfg(OPT_SIGNMUON_SGD);
        c.beta1 = c.beta2 = 0.9;
        c.lr_sign = 0.01;
        c.weight_decay = 0;
        c.period = 0; /* never a Muon step */
        c.nesterov = 0;
        c.sign_scaling = mode == 1 ? OPT_SCALING_MUON : mode == 2 ? OPT_SCALING_FROB
                                                                  : OPT_SCALING_NONE;
        c.cheap_mode = mode == 3 ? OPT_CHEAP_NORM : OPT_CHEAP_SIGN;
        double W[6] = {0}, B[6] = {0};
        cr_assert(opt_signmuon_sgd_matrix(&c, 0, 1.0, 3, 2, W, G, B, ws, &muon, &e) == 0);
        cr_assert(muon == 0);
        /* 3 x 2: sign / sqrt(3) (frob), times sqrt(3/2) (muon); norm:
         * G / ||G||_F sqrt(2) sqrt(3/2) */
        double nrm = sqrt(9 + 1 + 0 + 4 + 0.25 + 16) + 1e-7;
        for (int i = 0; i < 6; i++) {
            double s = G[i] > 0 ? 1 : G[i] < 0 ? -1 : 0, u = s;
            if (mode == 1)
                u = s / sqrt(3.0) * sqrt(1.5);
            else if (mode == 2)
                u = s / sqrt(3.0);
            else if (mode == 3)
                u = G[i] / nrm * sqrt(2.0) * sqrt(1.5);
            cr_assert(fabs(W[i] + 0.01 * u) < 1e-15, "mode %d W[%d] = %.17g", mode, i, W[i]);
        }
    }
    opt_matrix_ws_free(ws);
}

/* With --round-update bf16 the applied update is bf16(U): on a Muon step
 * with an exact msign of scale 0.2 sqrt(3), W moves by lr bf16(0.2 sqrt 3). */
Test(paper_optim, round_update_bf16_rounds_the_applied_update)
{
    opt_config c = cfg(OPT_LIONMUON);
    c.round_update = OPT_ROUND_BF16;
    c.lr_muon = 0.1;
    c.weight_decay = 0;
    double W[6] = {0}, M[6] = {0}, G[6] = {6, 0, 0, 0, -4, 0};
    opt_matrix_ws *ws = opt_matrix_ws_alloc(2, 3);
    lm_error e;
    int muon;
    cr_assert(opt_lionmuon_matrix(&c, 0, 1.0, 2, 3, W, G, M, ws, &muon, &e) == 0);
    double a = opt_round_bf16(0.2 * sqrt(3.0));
    cr_assert(a != 0.2 * sqrt(3.0), "the test needs a scale bf16 cannot hold");
    cr_assert(W[0] == -0.1 * a && W[4] == 0.1 * a, "W = %.17g %.17g", W[0], W[4]);
    opt_matrix_ws_free(ws);
}

/* The stable-rank trigger (§2.3): a direction whose top right singular
 * vector is orthogonal to a smooth ramp.  The exact stable rank is about 1,
 * so alpha min(m, n) = 0.25 * 8 = 2 asks for a Muon step; a power iteration
 * started on the ramp would never see the top direction and estimate a
 * stable rank of about 101.  The seeded random start (and --srank-exact)
 * find the top direction. */
Test(paper_optim, stable_rank_trigger_with_a_random_start)
{
    enum { m = 8, n = 64 };
    double v1[n], v2[n], u1[m] = {0}, u2[m] = {0}, X[m * n];
    double dot = 0, n2 = 0;
    for (int j = 0; j < n; j++) {
        v2[j] = 1.0 + (double)j / n;           /* the old fixed start vector */
        v1[j] = (j % 2 ? 1.0 : -1.0) * (1 + 0.1 * j);
    }
    for (int j = 0; j < n; j++)
        dot += v1[j] * v2[j], n2 += v2[j] * v2[j];
    for (int j = 0; j < n; j++)
        v1[j] -= dot / n2 * v2[j];             /* v1 orthogonal to the ramp */
    u1[0] = 1;
    u2[1] = 1;
    double s1 = 10 / sqrt(cblas_ddot(n, v1, 1, v1, 1)), s2 = 1 / sqrt(n2);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            X[i * n + j] = s1 * u1[i] * v1[j] + s2 * u2[i] * v2[j];
    opt_matrix_ws *ws = opt_matrix_ws_alloc(m, n);
    lm_error e;
    for (int exact = 0; exact < 2; exact++) {
        for (unsigned long seed = 0; seed < 3; seed++) {
            opt_config c = cfg(OPT_LIONMUON);
            c.beta1 = 0; /* C = G */
            c.srank_alpha = 0.25;
            c.srank_exact = exact;
            c.seed = seed;
            double W[m * n] = {0}, M[m * n] = {0};
            int muon = -1;
            cr_assert(opt_lionmuon_matrix(&c, 5, 1.0, m, n, W, X, M, ws, &muon, &e) == 0);
            cr_assert(muon == 1, "exact %d seed %lu: a Muon step", exact, seed);
        }
    }
    opt_matrix_ws_free(ws);
}

/* The AdamW baseline's two groups (§4): with decay on Linear weights only,
 * a tensor that is not one keeps its weight decay at 0. */
Test(paper_optim, adamw_decay_groups)
{
    opt_config c = cfg(OPT_ADAMW);
    cr_assert(c.decay_on == OPT_DECAY_LINEAR && c.adamw_eps_mode == OPT_EPS_TORCH,
              "adamw's defaults are the baseline run's");
    double w[4] = {1, 1, 1, 1}, g[4] = {0, 0, 0, 0};
    opt_tensor t[2] = {{"transformer.h.0.mlp.c_fc.weight", 1, 2, w, g, OPT_RULE_ADAMW, 1},
                       {"transformer.wte.weight", 1, 2, w + 2, g + 2, OPT_RULE_ADAMW, 0}};
    opt_state *s = opt_alloc(&c, 2, t);
    lm_error e;
    cr_assert(opt_step(s, 0, 1.0, NULL, &e) == 0);
    cr_assert(w[0] == 1 - 5e-4 * 0.1 && w[1] == w[0], "the Linear weight decays: %.17g", w[0]);
    cr_assert(w[2] == 1 && w[3] == 1, "the embedding does not");
    opt_free(s);
    c.decay_on = OPT_DECAY_ALL;
    w[0] = w[1] = w[2] = w[3] = 1;
    s = opt_alloc(&c, 2, t);
    cr_assert(opt_step(s, 0, 1.0, NULL, &e) == 0);
    cr_assert(w[2] == 1 - 5e-4 * 0.1, "decay on all: every tensor");
    opt_free(s);
}

/* In the second class the schedule scales lr_muon alone: the AdamW part of
 * a step at multiplier 0.5 equals that of a step at 1. */
Test(paper_optim, signmuon_sgd_adamw_rate_is_fixed)
{
    double wa[3] = {1, 2, 3}, wb[3] = {1, 2, 3}, g[3] = {0.5, -1, 2};
    opt_config c = cfg(OPT_SIGNMUON_SGD);
    opt_tensor ta = {"gain", 1, 3, wa, g, OPT_RULE_ADAMW, 0}, tb = ta;
    tb.w = wb;
    opt_state *a = opt_alloc(&c, 1, &ta), *b = opt_alloc(&c, 1, &tb);
    lm_error e;
    cr_assert(opt_step(a, 0, 0.5, NULL, &e) == 0 && opt_step(b, 0, 1.0, NULL, &e) == 0);
    cr_assert(memcmp(wa, wb, sizeof wa) == 0);
    cr_assert(opt_fixed_side_rates(&c) && !opt_fixed_side_rates(&(opt_config){.kind = OPT_LIONMUON}));
    opt_free(a);
    opt_free(b);
}

/* The paper code's "wsd": warm-up k/w + (1 - k/w)/100, hold 1, then linear
 * to the final factor over the last floor(fract iterations) steps. */
Test(paper_optim, wsd_schedule)
{
    cr_assert(fabs(opt_lr_schedule_wsd(0, 10, 100, 0.2, 0.1) - 0.01) < 1e-15);
    cr_assert(fabs(opt_lr_schedule_wsd(5, 10, 100, 0.2, 0.1) - (0.5 + 0.5 / 100)) < 1e-15);
    cr_assert(opt_lr_schedule_wsd(10, 10, 100, 0.2, 0.1) == 1.0);
    cr_assert(opt_lr_schedule_wsd(79, 10, 100, 0.2, 0.1) == 1.0);
    cr_assert(fabs(opt_lr_schedule_wsd(90, 10, 100, 0.2, 0.1) - (0.1 + 0.9 * 0.5)) < 1e-15);
    cr_assert(opt_lr_schedule_wsd(100, 10, 100, 0.2, 0.1) == 0.1);
    /* the released normdiag runs: no decay phase, constant after warm-up */
    cr_assert(opt_lr_schedule_wsd(9999, 500, 10000, 0.0, 1.0) == 1.0);
}

/* Names: the paper code's class name is accepted; the choices round-trip and
 * have their metadata keys. */
Test(paper_optim, names)
{
    opt_kind k;
    cr_assert(opt_kind_parse("sign_muon", &k) == 0 && k == OPT_SIGNMUON_SGD);
    cr_assert(opt_kind_parse("signmuon-sgd", &k) == 0 && k == OPT_SIGNMUON_SGD);
    cr_assert_str_eq(opt_kind_name(OPT_SIGNMUON_SGD), "signmuon-sgd");
    for (int ch = 0; ch < OPT_CH_COUNT; ch++) {
        int v;
        for (int i = 0; strcmp(opt_choice_name((opt_choice)ch, i), "?"); i++) {
            cr_assert(opt_choice_parse((opt_choice)ch, opt_choice_name((opt_choice)ch, i), &v) == 0);
            cr_assert(v == i);
        }
        cr_assert(opt_choice_parse((opt_choice)ch, "nonsense", &v) == -1);
        cr_assert(strcmp(opt_choice_key((opt_choice)ch), "?"));
    }
    /* the metadata keys that verify_golden.py reads */
    cr_assert_str_eq(opt_choice_key(OPT_CH_DECAY), "decay_on");
    cr_assert_str_eq(opt_choice_key(OPT_CH_ROUND), "round_update");
    cr_assert_str_eq(opt_choice_key(OPT_CH_NESTEROV), "nesterov");
    cr_assert_str_eq(opt_choice_key(OPT_CH_COUNT), "?");
}

/* The second class and the trigger's seeded start vectors give the bits of
 * a one-thread run when the matrices are spread over two threads. */
Test(paper_optim, threads_do_not_change_the_bits)
{
    enum { NW2 = 37 };
    double out[2][NW2];
    for (int run = 0; run < 2; run++) {
        omp_set_num_threads(run ? 2 : 1);
        gsl_rng *r = tu_rng(5);
        double w[NW2], g[NW2];
        tu_gauss(r, NW2, w);
        opt_tensor t[3] = {{"a", 3, 4, w, g, OPT_RULE_MATRIX, 1},
                           {"b", 5, 4, w + 12, g + 12, OPT_RULE_MATRIX, 1},
                           {"gain", 1, 5, w + 32, g + 32, OPT_RULE_ADAMW, 0}};
        opt_config c = opt_default_config(OPT_SIGNMUON_SGD);
        c.srank_alpha = 0.5;
        c.round_update = OPT_ROUND_BF16;
        opt_state *s = opt_alloc(&c, 3, t);
        lm_error e;
        for (int k = 0; k < 5; k++) {
            tu_gauss(r, NW2, g);
            cr_assert(opt_step(s, k, 0.7, NULL, &e) == 0, "%s", e.msg);
        }
        memcpy(out[run], w, sizeof w);
        opt_free(s);
        gsl_rng_free(r);
    }
    omp_set_num_threads(1);
    cr_assert(memcmp(out[0], out[1], sizeof out[0]) == 0);
}

/* opt_config_finish: the one set of rules for the command line and the C API,
 * the same message with the setting named as a flag or as a key. */
Test(paper_optim, config_finish_names_flags_or_keys)
{
    static const struct {
        opt_kind kind;
        opt_setting set;
        const char *flag_msg, *key_msg;
    } CASES[] = {
        {OPT_SIGNMUON_SGD, OPT_SET_BETA2,
         "--beta2: signmuon-sgd uses beta2 = beta1; give --beta1 only",
         "beta2: signmuon-sgd uses beta2 = beta1; give beta1 only"},
        {OPT_MUON_NESTEROV, OPT_SET_PERIOD,
         "--period: muon-nesterov takes a Muon step every step (P = 1)",
         "period: muon-nesterov takes a Muon step every step (P = 1)"},
        {OPT_LIONMUON, OPT_SET_CHOICE + OPT_CH_NESTEROV, "--nesterov: lionmuon does not use it",
         "nesterov: lionmuon does not use it"},
        {OPT_MUON, OPT_SET_CHEAP_NS_STEPS, "--cheap-ns-steps: muon does not use it",
         "cheap_ns_steps: muon does not use it"},
        {OPT_LIONMUON, OPT_SET_SRANK_EXACT,
         "--srank-exact: the trigger is off (give --srank-alpha > 0)",
         "srank_exact: the trigger is off (give srank_alpha > 0)"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        for (int how = 0; how < 2; how++) {
            opt_config c = opt_default_config(CASES[i].kind);
            c.beta2 = 0.5;
            c.period = 2;
            c.srank_exact = 1;
            opt_given g = {OPT_GIVEN(CASES[i].set), NULL, {0}};
            lm_error e = {{0}};
            cr_assert(opt_config_finish(&c, &g, (opt_naming)how, &e) == -1);
            cr_assert_str_eq(e.msg, how ? CASES[i].key_msg : CASES[i].flag_msg);
        }
    /* a range check, and the names given as strings */
    opt_config c = opt_default_config(OPT_SIGNMUON_SGD);
    c.lr_muon = -1;
    opt_given g = {0, "svd", {[OPT_CH_CHEAP] = "norm"}};
    lm_error e;
    cr_assert(opt_config_finish(&c, &g, OPT_NAME_KEY, &e) == -1);
    cr_assert_str_eq(e.msg, "lr_muon must be finite and >= 0 (got -1)");
    c = opt_default_config(OPT_SIGNMUON_SGD);
    g.choice[OPT_CH_SCALING] = "frob";
    g.given = OPT_GIVEN(OPT_SET_CHOICE + OPT_CH_SCALING);
    cr_assert(opt_config_finish(&c, &g, OPT_NAME_KEY, &e) == 0, "%s", e.msg);
    cr_assert(c.msign.method == MSIGN_SVD && c.cheap_mode == OPT_CHEAP_NORM &&
              c.sign_scaling == OPT_SCALING_FROB && c.beta2 == c.beta1);
    g.choice[OPT_CH_CHEAP] = "cached";
    cr_assert(opt_config_finish(&c, &g, OPT_NAME_FLAG, &e) == -1);
    cr_assert_str_eq(e.msg, "--cheap-mode: unknown mode 'cached' (sign|norm|cheap-ns)");
    /* cubic's iteration cap, unless the step count was given */
    opt_given cubic = {0, "cubic", {0}};
    c = opt_default_config(OPT_LIONMUON);
    cr_assert(opt_config_finish(&c, &cubic, OPT_NAME_FLAG, &e) == 0 && c.msign.steps == 100);
    c = opt_default_config(OPT_LIONMUON);
    c.msign.steps = 7;
    cubic.given = OPT_GIVEN(OPT_SET_NS_STEPS);
    cr_assert(opt_config_finish(&c, &cubic, OPT_NAME_FLAG, &e) == 0 && c.msign.steps == 7);
    /* the two names of every setting are one name: "--" + the key, '_' -> '-' */
    for (int s = 0; s < OPT_SET_COUNT; s++) {
        const char *flag = opt_setting_name((opt_setting)s, OPT_NAME_FLAG);
        const char *key = opt_setting_name((opt_setting)s, OPT_NAME_KEY);
        cr_assert(!strncmp(flag, "--", 2) && strlen(flag) == strlen(key) + 2, "%s", flag);
        for (size_t k = 0; key[k]; k++)
            cr_assert(flag[k + 2] == (key[k] == '_' ? '-' : key[k]), "%s %s", flag, key);
    }
    cr_assert_str_eq(opt_setting_name(OPT_SET_COUNT, OPT_NAME_KEY), "?");
}

/* opt_trigger is the decision opt_step makes, and opt_last_step_type what it
 * made: with alpha just above and just below the trigger's own estimate. */
Test(paper_optim, trigger_query_is_the_steps_decision)
{
    enum { NW = 12 + 20 + 5 };
    for (int kind = 0; kind < 2; kind++)
        for (int side = 0; side < 2; side++) {
            gsl_rng *r = tu_rng(11);
            double w[NW], g[NW], est, est2;
            tu_gauss(r, NW, w);
            tu_gauss(r, NW, g);
            opt_tensor t[3] = {{"a", 3, 4, w, g, OPT_RULE_MATRIX, 1},
                               {"b", 5, 4, w + 12, g + 12, OPT_RULE_MATRIX, 1},
                               {"gain", 1, 5, w + 32, g + 32, OPT_RULE_ADAMW, 0}};
            opt_config c = opt_default_config(kind ? OPT_SIGNMUON_SGD : OPT_LIONMUON);
            c.seed = 3;
            c.srank_alpha = 0.5;
            lm_error e;
            opt_state *s = opt_alloc(&c, 3, t);
            cr_assert(opt_step(s, 0, 1.0, NULL, &e) == 0, "%s", e.msg); /* some momentum */
            tu_gauss(r, NW, g);
            int muon;
            cr_assert(opt_trigger(s, 1, 7, g + 12, &est, &muon, &e) == 0, "%s", e.msg);
            cr_assert(opt_trigger(s, 1, 7, g + 12, &est2, NULL, &e) == 0 && est2 == est);
            cr_assert(opt_trigger(s, 2, 7, g + 32, &est, &muon, &e) == -1);
            opt_free(s);
            /* the same state again, alpha min(m, n) just above or below est */
            c.srank_alpha = est2 / 4 * (side ? 1 - 1e-9 : 1 + 1e-9);
            gsl_rng_free(r);
            r = tu_rng(11);
            tu_gauss(r, NW, w);
            tu_gauss(r, NW, g);
            s = opt_alloc(&c, 3, t);
            cr_assert(opt_step(s, 0, 1.0, NULL, &e) == 0);
            tu_gauss(r, NW, g);
            cr_assert(opt_trigger(s, 1, 7, g + 12, NULL, &muon, &e) == 0 && muon == !side);
            cr_assert(opt_step(s, 7, 1.0, NULL, &e) == 0, "%s", e.msg);
            cr_assert(opt_last_step_type(s, 1) == !side, "kind %d side %d", kind, side);
            cr_assert(opt_last_step_type(s, 2) == -1 && opt_last_step_type(s, 3) == -1);
            opt_free(s);
            gsl_rng_free(r);
        }
}
