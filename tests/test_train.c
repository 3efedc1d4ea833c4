/* test_train.c - the training loop's accounting: FLOPs by the paper's formula,
 * optimizer-state bytes by the routing, the warm-up default, and a resumed
 * run ending bitwise where an uninterrupted one does. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lionmuon/safetensors.h"
#include "lionmuon/train.h"

static train_config tiny_config(const char *dir, opt_kind kind)
{
    train_config c;
    memset(&c, 0, sizeof c);
    c.model = model_default_config(MODEL_GPT2, 2, 2, 16, 32, 8);
    c.batch_size = 2;
    c.iterations = 6;
    c.warmup = 1;
    c.opt = opt_default_config(kind);
    c.routing = TRAIN_ROUTE_PAPER;
    c.grad_clip = 0.5;
    c.seed = 3;
    c.data.kind = DATA_SYNTHETIC;
    c.data.zipf_s = 1.1;
    c.eval_every = 3;
    c.eval_batches = 1;
    c.diag_every = 0;
    c.ckpt_every = 0;
    c.out_dir = dir;
    c.argv_json = "[]";
    return c;
}

static char *tmpdir(void)
{
    char *d = strdup("/tmp/lm_test_train_XXXXXX");
    cr_assert(mkdtemp(d));
    return d;
}

static void rmdir_all(const char *d)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    cr_assert_eq(system(cmd), 0);
}

/* theory/algorithms.md §8: a run of LionMuon with period P costs
 *   iters (model + NS / P + sign (1 - 1/P)),   model = 6 N T B,
 *   N = L 12 C^2 + V C + T C,
 *   NS = sum over the four hidden matrices (C,3C), (C,C), (C,4C), (4C,C) of each
 *        layer of ns_steps 2 dmin^2 (2 dmax + dmin),   sign = sum of m n.
 * With 6 iterations and P = 2 the formula is exact (3 Muon, 3 Lion steps). */
Test(train, flops_follow_the_paper_accounting)
{
    char *d = tmpdir();
    train_config c = tiny_config(d, OPT_LIONMUON);
    train_result r;
    lm_error e;
    cr_assert_eq(train_run(&c, 0, &r, &e), 0, "%s", e.msg);
    double L = 2, C = 16, V = 32, T = 8, B = 2, P = 2, iters = 6, s = 5;
    double N = L * 12 * C * C + V * C + T * C, model = 6 * N * T * B;
    double shapes[4][2] = {{C, 3 * C}, {C, C}, {C, 4 * C}, {4 * C, C}}, ns = 0, sign = 0;
    for (int i = 0; i < 4; i++) {
        double dmin = fmin(shapes[i][0], shapes[i][1]), dmax = fmax(shapes[i][0], shapes[i][1]);
        ns += L * s * 2 * dmin * dmin * (2 * dmax + dmin);
        sign += L * shapes[i][0] * shapes[i][1];
    }
    double want = iters * (model + ns / P + sign * (1 - 1 / P));
    cr_expect(fabs(r.flops - want) <= 1e-12 * want, "flops %.17g, want %.17g", r.flops, want);
    cr_expect_eq(r.steps_done, 6);
    cr_expect_eq(r.tokens, iters * B * T);
    /* optimizer state: one buffer per hidden matrix, two per AdamW tensor */
    double hidden = L * 12 * C * C, rest = V * C + T * C + L * 2 * C + C;
    cr_expect_eq((double)r.opt_state_bytes, 8 * (hidden + 2 * rest));
    cr_expect(isfinite(r.best_val_loss) && fabs(r.entropy_rate - 2.89) < 1.0,
              "val %g, entropy rate %g", r.best_val_loss, r.entropy_rate);
    rmdir_all(d);
    free(d);

    d = tmpdir();
    c = tiny_config(d, OPT_ADAMW);
    cr_assert_eq(train_run(&c, 0, &r, &e), 0, "%s", e.msg);
    cr_expect_eq(r.flops, iters * model, "AdamW adds no optimizer FLOPs");
    cr_expect_eq((double)r.opt_state_bytes, 8 * 2 * (hidden + rest));
    rmdir_all(d);
    free(d);
}

Test(train, warmup_default_is_the_paper_fraction)
{
    cr_expect_eq(train_default_warmup(64000), 3000);
    cr_expect_eq(train_default_warmup(300), 14);
    cr_expect_eq(train_default_warmup(10), 1);
    cr_expect_eq(train_default_warmup(1), 0);
}

/* Stop after 4 of 6 steps, resume, and compare every tensor of the final
 * checkpoint (parameters and optimizer state) bitwise with a run that was
 * never interrupted. */
Test(train, resume_is_bitwise_exact)
{
    char *a = tmpdir(), *b = tmpdir();
    train_result r;
    lm_error e;
    train_config ca = tiny_config(a, OPT_LIONMUON), cb = tiny_config(b, OPT_LIONMUON);
    ca.diag_every = cb.diag_every = 2;
    cr_assert_eq(train_run(&ca, 0, &r, &e), 0, "%s", e.msg);
    cb.stop_after = 4;
    cr_assert_eq(train_run(&cb, 0, &r, &e), 0, "%s", e.msg);
    cr_expect(r.stopped_early && r.steps_done == 4);
    cb.stop_after = 0;
    cr_assert_eq(train_run(&cb, 1, &r, &e), 0, "%s", e.msg);
    cr_expect_eq(r.steps_done, 6);
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/checkpoint.safetensors", a);
    snprintf(pb, sizeof pb, "%s/checkpoint.safetensors", b);
    st_file *fa, *fb;
    cr_assert_eq(st_read(pa, &fa, &e), 0, "%s", e.msg);
    cr_assert_eq(st_read(pb, &fb, &e), 0, "%s", e.msg);
    cr_assert_eq(fa->n, fb->n);
    for (int i = 0; i < fa->n; i++) {
        st_tensor *x = &fa->t[i], *y = st_get(fb, x->name);
        cr_assert(y, "%s missing after resume", x->name);
        cr_expect(x->numel == y->numel && !memcmp(x->f, y->f, sizeof(double) * x->numel),
                  "%s differs after resume", x->name);
    }
    cr_expect_str_eq(st_get_meta(fa, "step"), st_get_meta(fb, "step"));
    st_free(fa);
    st_free(fb);
    /* a run with another configuration refuses the checkpoint */
    train_config cc = tiny_config(b, OPT_LIONMUON);
    cc.opt.lr_muon = 2e-3;
    cr_expect_eq(train_run(&cc, 1, &r, &e), -1);
    cr_expect(strstr(e.msg, "configuration differs") != NULL, "%s", e.msg);
    rmdir_all(a);
    rmdir_all(b);
    free(a);
    free(b);
}
