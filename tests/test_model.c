/* test_model.c - the transformers: finite-difference gradient checks of every
 * parameter tensor, the tied head, the loss at init, the ignore index, RoPE,
 * and the parameter list of theory/models.md §1-§2. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/model.h"
#include "testutil.h"

/* Tiny configurations: L=2, nh=2, C=8, T=5, B=2, V=11; LLaMA with
 * multiple_of 4, so H = 4 ceil(floor(64/3)/4) = 24. */
#define TB 2
#define TT 5
#define TV 11

static model *tiny(model_kind kind, int bias)
{
    model_config c = model_default_config(kind, 2, 2, 8, TV, TT);
    c.bias = bias;
    c.multiple_of = 4;
    lm_error e;
    model *m = model_alloc(&c, TB, TT, &e);
    cr_assert(m, "model_alloc: %s", e.msg);
    return m;
}

/* Away from the init point, so every nonlinearity is exercised: gains
 * 1 + 0.2 N(0,1), biases 0.2 N(0,1), matrices 0.3 N(0,1). */
static void randomize(model *m, unsigned long seed)
{
    gsl_rng *r = tu_rng(seed);
    for (int i = 0; i < model_nparams(m); i++) {
        const model_param *p = model_param_at(m, i);
        int is_bias = strstr(p->name, ".bias") != NULL;
        for (size_t j = 0; j < p->numel; j++) {
            double z = gsl_ran_gaussian(r, 1.0);
            p->w[j] = p->ndim == 2 ? 0.3 * z : (is_bias ? 0.2 * z : 1.0 + 0.2 * z);
        }
    }
    gsl_rng_free(r);
}

static void batch(unsigned long seed, int *inp, int *tgt, int with_ignore)
{
    gsl_rng *r = tu_rng(seed);
    for (int i = 0; i < TB * TT; i++) {
        inp[i] = (int)gsl_rng_uniform_int(r, TV);
        tgt[i] = (int)gsl_rng_uniform_int(r, TV);
    }
    if (with_ignore) {
        tgt[1] = -1;
        tgt[TB * TT - 2] = -1;
    }
    gsl_rng_free(r);
}

static double loss_at(model *m, const int *inp, const int *tgt)
{
    double L;
    lm_error e;
    cr_assert_eq(model_forward(m, inp, tgt, &L, &e), 0, "%s", e.msg);
    return L;
}

/* Fourth-order central differences,
 *   g_fd = (f(w-2h) - 8 f(w-h) + 8 f(w+h) - f(w+2h)) / (12 h),  h = 1e-4:
 * the truncation error is h^4 |f^(5)| / 30 ~ 3e-18 |f^(5)| and the rounding
 * error ~ 1.5 eps |f| / h ~ 1.5 * 2.2e-16 * 3 / 1e-4 ~ 1e-11, so a correct
 * gradient agrees to ~1e-11 absolutely.  (Two-point differences with
 * h = 1e-5 have rounding ~1e-10 plus truncation h^2 |f^(3)| / 6, which with
 * the weights of randomize() shows up near 1e-9.)  We require
 *   |g - g_fd| <= 1e-6 * max(|g|, |g_fd|, 1e-4):
 * relative error 1e-6 for gradients above 1e-4, and for smaller ones an
 * absolute error 1e-10, ten times the rounding floor above.  Tensors of up
 * to 128 entries are checked in full, larger ones at 40 entries spread
 * over the tensor (first and last included).  Returns the largest ratio
 * |g - g_fd| / max(|g|, |g_fd|, 1e-4) seen. */
static double gradcheck(model *m, const int *inp, const int *tgt)
{
    const double h = 1e-4, floor_ = 1e-4, tol = 1e-6;
    size_t n = model_num_params(m);
    double *g = malloc(sizeof(double) * n);
    loss_at(m, inp, tgt);
    model_backward(m);
    memcpy(g, model_grads(m), sizeof(double) * n);
    double worst = 0;
    for (int i = 0; i < model_nparams(m); i++) {
        const model_param *p = model_param_at(m, i);
        size_t cnt = p->numel <= 128 ? p->numel : 40;
        for (size_t s = 0; s < cnt; s++) {
            size_t j = cnt == p->numel ? s : (s * (p->numel - 1)) / (cnt - 1);
            double w0 = p->w[j], f[4];
            const double off[4] = {-2 * h, -h, h, 2 * h};
            for (int q = 0; q < 4; q++) {
                p->w[j] = w0 + off[q];
                f[q] = loss_at(m, inp, tgt);
            }
            p->w[j] = w0;
            double fd = (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h);
            double an = g[p->offset + j];
            double den = fmax(fmax(fabs(fd), fabs(an)), floor_);
            double rel = fabs(fd - an) / den;
            if (rel > worst)
                worst = rel;
            cr_expect(rel <= tol, "%s[%zu]: analytic %.12g, finite difference %.12g "
                      "(rel %.3g)", p->name, j, an, fd, rel);
        }
    }
    free(g);
    return worst;
}

static void run_gradcheck(model_kind kind, int bias, const char *label)
{
    model *m = tiny(kind, bias);
    randomize(m, 11);
    int inp[TB * TT], tgt[TB * TT];
    batch(5, inp, tgt, 1);
    double worst = gradcheck(m, inp, tgt);
    fprintf(stderr, "gradcheck %s: max relative error %.3g over %d tensors\n", label,
            worst, model_nparams(m));
    model_free(m);
}

Test(model, gradcheck_gpt2_every_tensor)
{
    run_gradcheck(MODEL_GPT2, 0, "gpt2");
}

Test(model, gradcheck_gpt2_bias_every_tensor)
{
    run_gradcheck(MODEL_GPT2, 1, "gpt2 --bias");
}

Test(model, gradcheck_llama_every_tensor)
{
    run_gradcheck(MODEL_LLAMA, 0, "llama");
}

/* The tied head: transformer.wte.weight is both the token table and the
 * output layer.  A row whose token occurs among the inputs gets gradient from
 * both uses; a row whose token never occurs as an input only from the head.
 * Finite differences over each full row must match in both cases, and the
 * first must differ from what the head alone gives (tested by zeroing the
 * row's input occurrences: the gradient changes). */
Test(model, tied_embedding_gradient_has_both_uses)
{
    model *m = tiny(MODEL_GPT2, 0);
    randomize(m, 3);
    int inp[TB * TT], tgt[TB * TT];
    batch(9, inp, tgt, 0);
    for (int i = 0; i < TB * TT; i++)
        if (inp[i] == 7)
            inp[i] = 6; /* token 7 never an input: head use only */
    inp[0] = 3;         /* token 3 is an input */
    const model_param *wte = model_find_param(m, "transformer.wte.weight");
    cr_assert(wte);
    loss_at(m, inp, tgt);
    model_backward(m);
    double g3[8], g7[8];
    memcpy(g3, wte->g + 3 * 8, sizeof g3);
    memcpy(g7, wte->g + 7 * 8, sizeof g7);
    const double h = 1e-5;
    for (int row = 3; row <= 7; row += 4)
        for (int j = 0; j < 8; j++) {
            double *w = &wte->w[row * 8 + j], w0 = *w;
            *w = w0 + h;
            double fp = loss_at(m, inp, tgt);
            *w = w0 - h;
            double fm = loss_at(m, inp, tgt);
            *w = w0;
            double fd = (fp - fm) / (2 * h), an = row == 3 ? g3[j] : g7[j];
            cr_expect(fabs(fd - an) <= 1e-6 * fmax(fabs(fd), 1e-3),
                      "wte[%d,%d]: analytic %.12g vs fd %.12g", row, j, an, fd);
        }
    /* head-only gradient of row 3: replace the input occurrences of 3 */
    int inp2[TB * TT];
    for (int i = 0; i < TB * TT; i++)
        inp2[i] = inp[i] == 3 ? 6 : inp[i];
    loss_at(m, inp2, tgt);
    model_backward(m);
    cr_expect(tu_maxdiff(8, g3, wte->g + 3 * 8) > 1e-6,
              "row 3's gradient ignores its use as an input embedding");
    model_free(m);
}

/* At init (weights N(0, 0.02)) the logits are ~ N(0, 0.02^2 C) per entry, so
 * the loss is ln V + O(0.02^2 C / 2) = ln V + 0.006 for C = 32. */
Test(model, loss_at_init_is_log_vocab)
{
    for (int k = 0; k < 2; k++) {
        model_config c = model_default_config(k ? MODEL_LLAMA : MODEL_GPT2, 2, 4, 32, 256,
                                              16);
        lm_error e;
        model *m = model_alloc(&c, 4, 16, &e);
        cr_assert(m, "%s", e.msg);
        model_init(m, 1234);
        int inp[64], tgt[64];
        for (int i = 0; i < 64; i++) {
            inp[i] = (i * 37) % 256;
            tgt[i] = (i * 91 + 5) % 256;
        }
        double L = loss_at(m, inp, tgt);
        cr_expect(fabs(L - log(256.0)) < 0.05, "%s: loss at init %.6f vs ln V %.6f",
                  model_kind_name(c.kind), L, log(256.0));
        model_free(m);
    }
}

/* Targets -1 are ignored: the loss is the mean over the other positions of
 * logsumexp(z) - z[target], computed here from the logits; with every target
 * -1 the loss is 0 and so is every gradient. */
Test(model, ignore_index_minus_one)
{
    model *m = tiny(MODEL_LLAMA, 0);
    randomize(m, 21);
    int inp[TB * TT], tgt[TB * TT];
    batch(17, inp, tgt, 1);
    double L = loss_at(m, inp, tgt);
    const double *z = model_logits(m);
    double s = 0;
    int cnt = 0;
    for (int r = 0; r < TB * TT; r++) {
        if (tgt[r] < 0)
            continue;
        double mx = -INFINITY, se = 0;
        for (int i = 0; i < TV; i++)
            mx = fmax(mx, z[r * TV + i]);
        for (int i = 0; i < TV; i++)
            se += exp(z[r * TV + i] - mx);
        s += mx + log(se) - z[r * TV + tgt[r]];
        cnt++;
    }
    cr_expect_eq(model_loss_count(m), cnt);
    cr_expect(fabs(L - s / cnt) < 1e-13, "loss %.15g vs %.15g", L, s / cnt);
    for (int i = 0; i < TB * TT; i++)
        tgt[i] = -1;
    L = loss_at(m, inp, tgt);
    cr_expect_eq(L, 0.0);
    model_backward(m);
    double mx = 0;
    for (size_t i = 0; i < model_num_params(m); i++)
        mx = fmax(mx, fabs(model_grads(m)[i]));
    cr_expect_eq(mx, 0.0, "gradient %.3g with every target ignored", mx);
    /* out of range ids are refused, naming the position */
    lm_error e;
    inp[3] = TV;
    cr_expect_eq(model_forward(m, inp, tgt, &L, &e), -1);
    cr_expect(strstr(e.msg, "position 3") != NULL, "%s", e.msg);
    model_free(m);
}

/* RoPE, hs = 4, position t: pair 0 turns by t, pair 1 by t 10000^(-2/4) =
 * t / 100, on ADJACENT elements.  x = (1, 2, 3, 4) at t = 3:
 *   (cos 3 - 2 sin 3, sin 3 + 2 cos 3, 3 cos .03 - 4 sin .03, 3 sin .03 + 4 cos .03)
 * and q.k after RoPE depends on the positions only through their difference. */
Test(model, rope_matches_closed_form)
{
    double x[4] = {1, 2, 3, 4};
    model_rope_apply(4, 3, x);
    double want[4] = {cos(3.0) - 2 * sin(3.0), sin(3.0) + 2 * cos(3.0),
                      3 * cos(0.03) - 4 * sin(0.03), 3 * sin(0.03) + 4 * cos(0.03)};
    for (int i = 0; i < 4; i++)
        cr_expect(fabs(x[i] - want[i]) < 1e-15, "x[%d] = %.17g, want %.17g", i, x[i],
                  want[i]);
    double q[8] = {0.3, -1.2, 0.5, 0.9, -0.4, 0.7, 1.1, -0.2};
    double k[8] = {0.8, 0.1, -0.6, 0.4, 0.2, -0.9, 0.3, 0.5};
    double dots[2];
    for (int s = 0; s < 2; s++) {
        double a[8], b[8];
        memcpy(a, q, sizeof a);
        memcpy(b, k, sizeof b);
        model_rope_apply(8, 5 + 7 * s, a);
        model_rope_apply(8, 2 + 7 * s, b);
        dots[s] = 0;
        for (int i = 0; i < 8; i++)
            dots[s] += a[i] * b[i];
    }
    cr_expect(fabs(dots[0] - dots[1]) < 1e-14, "%.17g vs %.17g", dots[0], dots[1]);
}

/* The parameter list of theory/models.md §1-§2, in state_dict order, with shapes. */
Test(model, names_and_counts_match_models_md)
{
    int C = 8, V = TV, T = TT, L = 2;
    model *m = tiny(MODEL_GPT2, 0);
    const char *gpt[] = {"transformer.wte.weight", "transformer.wpe.weight",
        "transformer.h.0.ln_1.weight", "transformer.h.0.attn.c_attn.weight",
        "transformer.h.0.attn.c_proj.weight", "transformer.h.0.ln_2.weight",
        "transformer.h.0.mlp.c_fc.weight", "transformer.h.0.mlp.c_proj.weight",
        "transformer.h.1.ln_1.weight", "transformer.h.1.attn.c_attn.weight",
        "transformer.h.1.attn.c_proj.weight", "transformer.h.1.ln_2.weight",
        "transformer.h.1.mlp.c_fc.weight", "transformer.h.1.mlp.c_proj.weight",
        "transformer.ln_f.weight"};
    int gshape[][2] = {{V, C}, {T, C}, {C, 1}, {3 * C, C}, {C, C}, {C, 1}, {4 * C, C},
                       {C, 4 * C}, {C, 1}, {3 * C, C}, {C, C}, {C, 1}, {4 * C, C},
                       {C, 4 * C}, {C, 1}};
    cr_assert_eq(model_nparams(m), 15);
    for (int i = 0; i < 15; i++) {
        const model_param *p = model_param_at(m, i);
        cr_expect_str_eq(p->name, gpt[i]);
        cr_expect(p->shape[0] == gshape[i][0] && p->shape[1] == gshape[i][1],
                  "%s: [%d, %d]", p->name, p->shape[0], p->shape[1]);
        cr_expect_eq(p->hidden, strstr(p->name, ".h.") && p->ndim == 2 ? 1 : 0);
    }
    cr_expect_eq(model_num_params(m), (size_t)(V * C + T * C + L * (2 * C + 12 * C * C) + C));
    /* the paper's FLOPs count: N = L 12 C^2 + V C + T C */
    cr_expect_eq(model_flops_params(m), (double)(L * 12 * C * C + V * C + T * C));
    model_free(m);

    m = tiny(MODEL_GPT2, 1);
    cr_assert_eq(model_nparams(m), 2 + 2 * 12 + 2);
    cr_expect_str_eq(model_param_at(m, 3)->name, "transformer.h.0.ln_1.bias");
    cr_expect_str_eq(model_param_at(m, 5)->name, "transformer.h.0.attn.c_attn.bias");
    cr_expect_eq(model_param_at(m, 5)->shape[0], 3 * C);
    cr_expect_str_eq(model_param_at(m, 27)->name, "transformer.ln_f.bias");
    cr_expect_eq(model_num_params(m),
                 (size_t)(V * C + T * C + L * (4 * C + 12 * C * C + 3 * C + C + 4 * C + C) + 2 * C));
    model_free(m);

    m = tiny(MODEL_LLAMA, 0);
    const char *lla[] = {"transformer.wte.weight", "transformer.h.0.ln_1.weight",
        "transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_proj.weight",
        "transformer.h.0.ln_2.weight", "transformer.h.0.mlp.w1.weight",
        "transformer.h.0.mlp.w2.weight", "transformer.h.0.mlp.c_proj.weight"};
    int H = 24;
    int lshape[][2] = {{V, C}, {C, 1}, {3 * C, C}, {C, C}, {C, 1}, {H, C}, {H, C}, {C, H}};
    cr_assert_eq(model_nparams(m), 1 + 2 * 7 + 1);
    for (int i = 0; i < 8; i++) {
        const model_param *p = model_param_at(m, i);
        cr_expect_str_eq(p->name, lla[i]);
        cr_expect(p->shape[0] == lshape[i][0] && p->shape[1] == lshape[i][1],
                  "%s: [%d, %d]", p->name, p->shape[0], p->shape[1]);
    }
    cr_expect_str_eq(model_param_at(m, 15)->name, "transformer.ln_f.weight");
    model_free(m);

    /* SwiGLU width: H = 256 ceil(floor(8C/3) / 256) */
    model_config c = model_default_config(MODEL_LLAMA, 1, 12, 768, 50304, 512);
    cr_expect_eq(model_mlp_hidden(&c), 2048);
    c.n_embd = 512;
    cr_expect_eq(model_mlp_hidden(&c), 1536);
    c.n_embd = 64;
    cr_expect_eq(model_mlp_hidden(&c), 256);
}

/* The init of the paper's code: c_proj weights have std 0.02/sqrt(2L), the
 * other matrices 0.02, gains 1, biases 0; the same seed gives the same bytes. */
Test(model, init_statistics_and_seed)
{
    model_config c = model_default_config(MODEL_GPT2, 2, 4, 64, 300, 32);
    c.bias = 1;
    lm_error e;
    model *m = model_alloc(&c, 1, 8, &e), *m2 = model_alloc(&c, 1, 8, &e);
    model_init(m, 7);
    model_init(m2, 7);
    cr_expect(memcmp(model_params(m), model_params(m2),
                     sizeof(double) * model_num_params(m)) == 0);
    for (int i = 0; i < model_nparams(m); i++) {
        const model_param *p = model_param_at(m, i);
        double s = 0, s2 = 0;
        for (size_t j = 0; j < p->numel; j++) {
            s += p->w[j];
            s2 += p->w[j] * p->w[j];
        }
        if (strstr(p->name, ".bias"))
            cr_expect_eq(s2, 0.0, "%s", p->name);
        else if (p->ndim == 1)
            cr_expect_eq(s, (double)p->numel, "%s", p->name);
        else {
            double want = strstr(p->name, "c_proj.weight") ? 0.02 / 2.0 : 0.02;
            double sd = sqrt(s2 / p->numel);
            /* the sample std of n normal draws has relative sd 1/sqrt(2n):
             * allow 5 of those */
            cr_expect(fabs(sd / want - 1) < 5 / sqrt(2.0 * p->numel), "%s: std %.5f, want %.5f", p->name,
                      sd, want);
        }
    }
    model_free(m);
    model_free(m2);
}

/* Two forward/backward passes on the same batch give bitwise the same loss
 * and gradients; bad sizes are refused naming the flag. */
Test(model, deterministic_and_checked_sizes)
{
    model *m = tiny(MODEL_LLAMA, 0);
    randomize(m, 2);
    int inp[TB * TT], tgt[TB * TT];
    batch(4, inp, tgt, 0);
    double L1 = loss_at(m, inp, tgt);
    model_backward(m);
    size_t n = model_num_params(m);
    double *g = malloc(sizeof(double) * n);
    memcpy(g, model_grads(m), sizeof(double) * n);
    double L2 = loss_at(m, inp, tgt);
    model_backward(m);
    cr_expect_eq(L1, L2);
    cr_expect(memcmp(g, model_grads(m), sizeof(double) * n) == 0);
    free(g);
    model_free(m);

    lm_error e;
    model_config c = model_default_config(MODEL_GPT2, 2, 3, 8, 11, 5);
    cr_expect_null(model_alloc(&c, 1, 5, &e));
    cr_expect(strstr(e.msg, "--n-head") != NULL, "%s", e.msg);
    c = model_default_config(MODEL_LLAMA, 2, 4, 12, 11, 5); /* hs = 3 */
    cr_expect_null(model_alloc(&c, 1, 5, &e));
    cr_expect(strstr(e.msg, "RoPE") != NULL, "%s", e.msg);
    c = model_default_config(MODEL_GPT2, 2, 2, 8, 11, 5);
    cr_expect_null(model_alloc(&c, 1, 6, &e));
    cr_expect(strstr(e.msg, "position table") != NULL, "%s", e.msg);
}
