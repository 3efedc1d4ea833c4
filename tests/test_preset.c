/* test_preset.c - the presets of the paper's released runs (preset.h): the
 * fact table's counts, the flags of the headline runs and of the second
 * class, and the derivation from an args object (theory/algorithms.md §9). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/preset.h"

static preset find(const char *name)
{
    preset p;
    lm_error e;
    cr_assert(preset_find(name, &p, &e) == 0, "%s", e.msg);
    cr_assert(p.ok, "%s: %s", name, p.reason);
    return p;
}

static void has(const preset *p, const char *flag, const char *want)
{
    const char *v = preset_value(p, flag);
    cr_assert(v != NULL, "%s: no %s", p->name, flag);
    cr_assert_str_eq(v, want, "%s %s", p->name, flag);
}

static double num(const preset *p, const char *flag)
{
    const char *v = preset_value(p, flag);
    cr_assert(v != NULL, "%s: no %s", p->name, flag);
    return strtod(v, NULL);
}

/* 170 runs; 146 of the classes the tool implements (lion_muon 104,
 * sign_muon 36, adamw 6) resolve; lidmuon, signdmuon, rmsspectral do not. */
Test(preset, the_released_runs)
{
    int n = preset_count(), ok = 0, by[3] = {0}, other = 0;
    cr_assert_eq(n, 170);
    for (int i = 0; i < n; i++) {
        preset p;
        lm_error e;
        cr_assert(preset_at(i, &p, &e) == 0, "%s", e.msg);
        cr_assert(!isnan(p.best_val) && p.best_val > 2 && p.best_val < 5, "%s", p.name);
        ok += p.ok;
        if (!strcmp(p.opt_class, "lion_muon"))
            by[0] += p.ok;
        else if (!strcmp(p.opt_class, "sign_muon"))
            by[1] += p.ok;
        else if (!strcmp(p.opt_class, "adamw"))
            by[2] += p.ok;
        else {
            other++;
            cr_assert(!p.ok && strstr(p.reason, p.opt_class), "%s: %s", p.name, p.reason);
        }
    }
    cr_assert(ok == 146 && by[0] == 104 && by[1] == 36 && by[2] == 6 && other == 24,
              "ok %d: %d %d %d, other %d", ok, by[0], by[1], by[2], other);
}

/* The headline table (theory/algorithms.md §9): runs, best losses, flags. */
Test(preset, headline_table)
{
    static const struct {
        const char *run, *opt, *period, *beta1, *beta2, *lr_muon, *lr_sign;
        double best;
    } rows[] = {
        {"fw_base_lionmuon_k2", "lionmuon", "2", "0.9", "0.99", "0.001", "5e-05", 3.5006},
        {"fw_base_lionmuon_k5", "lionmuon", "5", "0.9", "0.99", "0.002", "5e-05", 3.5060},
        {"fw_base_lionmuon_k1", "lionmuon", "1", "0.9", "0.99", "0.0007", NULL, 3.5102},
        {"fw_base_signmuon_fixed_k2", "signmuon", "2", "0.9", NULL, "0.002", "5e-05", 3.5103},
        {"fw_base_lionmuon_k20", "lionmuon", "20", "0.9", "0.99", "0.005", "5e-05", 3.5233},
        {"fw_base_muon_fixed", "muon", "1", "0.9", NULL, "0.001", NULL, 3.5257},
        {"fw_base_lionmuon_k100", "lionmuon", "100", "0.9", "0.99", "0.007", "5e-05", 3.5536},
        {"fw_base_lion", "lionmuon", "10000000", "0.9", "0.99", "0.007", "5e-05", 3.5794},
        {"fw_base_signum_fixed", "signmuon", "10000000", "0.9", NULL, "0.001", "0.0001", 3.5972},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        preset p = find(rows[i].run);
        cr_assert(fabs(p.best_val - rows[i].best) < 5e-5, "%s %.5f", p.name, p.best_val);
        has(&p, "--optimizer", rows[i].opt);
        has(&p, "--period", rows[i].period);
        has(&p, "--beta1", rows[i].beta1);
        if (rows[i].beta2)
            has(&p, "--beta2", rows[i].beta2);
        else
            cr_assert(preset_value(&p, "--beta2") == NULL);
        has(&p, "--lr-muon", rows[i].lr_muon);
        if (rows[i].lr_sign)
            has(&p, "--lr-sign", rows[i].lr_sign);
        has(&p, "--lr-adamw", "0.001");
        has(&p, "--adamw-eps-mode", "paper");
        has(&p, "--decay-on", "all");
        has(&p, "--round-update", "bf16");
        has(&p, "--routing", "name");
        has(&p, "--model", "gpt2");
        has(&p, "--warmup", "-1"); /* 3000 of 64000: the paper's fraction */
        has(&p, "--iterations", "64000");
        has(&p, "--schedule", "cos");
        has(&p, "--grad-clip", "0.5");
        has(&p, "--weight-decay", "0.1");
    }
    /* sign_lr = null: the code's lion_lr = 1% of the Muon rate */
    preset k1 = find("fw_base_lionmuon_k1");
    cr_assert(num(&k1, "--lr-sign") == 0.0007 * 0.01);
    preset a = find("fw_base_adamw");
    cr_assert(fabs(a.best_val - 3.5525) < 5e-5);
    has(&a, "--optimizer", "adamw");
    has(&a, "--lr-adamw", "0.0005");
    has(&a, "--adamw-beta1", "0.8");
    has(&a, "--adamw-beta2", "0.999");
    has(&a, "--adamw-eps-mode", "torch");
    has(&a, "--decay-on", "linear");
    has(&a, "--round-update", "none");
}

/* The second class: the FineWeb GPT-2 runs of opt = sign_muon. */
Test(preset, second_class)
{
    static const struct {
        const char *run, *period, *lr_muon, *lr_sign;
    } rows[] = {
        {"fw_base_muon", "1", "0.001", "0.00025"},
        {"fw_base_signmuon_k2", "2", "0.002", "2e-05"},
        {"fw_base_signmuon_k5", "5", "0.003", "2e-05"},
        {"fw_base_signmuon_k20", "20", "0.01", "5e-05"},
        {"fw_base_signmuon_k100", "100", "0.01", "5e-05"},
        {"fw_base_signum", "10000000", "1", "5e-05"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        preset p = find(rows[i].run);
        has(&p, "--optimizer", "signmuon-sgd");
        has(&p, "--period", rows[i].period);
        has(&p, "--beta1", "0.95");
        has(&p, "--nesterov", "on");
        has(&p, "--lr-muon", rows[i].lr_muon);
        has(&p, "--lr-sign", rows[i].lr_sign); /* fw_base_muon: 0.25 lr_muon (unused) */
        has(&p, "--cheap-mode", "sign");
        has(&p, "--sign-scaling", i == 0 ? "muon" : "none");
        has(&p, "--round-update", "bf16");
        has(&p, "--adamw-eps-mode", "paper");
    }
}

/* The two 10000-step diagnostic runs: 24 layers and the wsd schedule with
 * no decay phase (constant after 500 warm-up steps). */
Test(preset, normdiag_runs_use_wsd)
{
    preset p = find("fw_base_lionmuon_k2_normdiag_fast");
    has(&p, "--n-layer", "24");
    has(&p, "--schedule", "wsd");
    has(&p, "--wsd-fract-decay", "0");
    has(&p, "--wsd-final-lr", "1");
    has(&p, "--warmup", "500");
    has(&p, "--iterations", "10000");
    preset q = find("wt_base_lionmuon_k2_normdiag_fast");
    cr_assert(num(&q, "--lr-sign") == 0.001 * 0.01, "sign_lr null there");
    preset l = find("spj_llama_lionmuon_k2");
    has(&l, "--model", "llama");
    has(&l, "--multiple-of", "256");
}

/* The derivation from an args object alone, a summary, and what it refuses. */
Test(preset, derivation_from_text)
{
    preset p;
    lm_error e;
    cr_assert(preset_from_text("{\"opt\":\"lion_muon\",\"muon_every_k\":3,\"beta1\":0.9,"
                               "\"beta2\":0.9,\"muon_lr_factor\":0.002,\"sign_lr\":1e-4,"
                               "\"n_layer\":2,\"model\":\"base\"}", "x", &p, &e) == 0, "%s", e.msg);
    cr_assert(p.ok, "%s", p.reason);
    has(&p, "--optimizer", "signmuon");
    has(&p, "--period", "3");
    has(&p, "--n-layer", "2");
    has(&p, "--batch-size", "50"); /* llm-baselines' default */
    cr_assert(isnan(p.best_val));
    cr_assert(preset_from_text("{\"args\":{\"opt\":\"adamw\",\"model\":\"base\"},"
                               "\"val_loss\":[null,4.5,3.25,3.5]}", "s", &p, &e) == 0);
    cr_assert(p.ok && p.best_val == 3.25);
    /* not reproducible, with the reason */
    static const struct {
        const char *args, *why;
    } no[] = {
        {"{\"opt\":\"soap\"}", "soap"},
        {"{\"opt\":\"lidmuon\"}", "not in the released code"},
        {"{\"opt\":\"rmsspectral\"}", "RMSspectral"},
        {"{\"opt\":\"adamw\",\"model\":\"base\",\"dropout\":0.1}", "dropout"},
        {"{\"opt\":\"adamw\",\"model\":\"base\",\"scheduler\":\"cos_inf\"}", "cos_inf"},
        {"{\"opt\":\"sign_muon\",\"model\":\"base\",\"cheap_mode\":\"cached\"}", "cached"},
        {"{\"opt\":\"adamw\",\"model\":\"llama\",\"n_kv_head\":4}", "n_kv_head"},
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        cr_assert(preset_from_text(no[i].args, "x", &p, &e) == 0, "%s", e.msg);
        cr_assert(!p.ok && p.nflags == 0 && strstr(p.reason, no[i].why), "%s: %s", no[i].args,
                  p.reason);
    }
    /* malformed input */
    cr_assert(preset_from_text("[1]", "x", &p, &e) == -1);
    cr_assert(preset_from_text("{\"args\":3}", "x", &p, &e) == -1);
    cr_assert(preset_from_text("{\"lr\":1}", "x", &p, &e) == -1 && strstr(e.msg, "opt"));
    cr_assert(preset_from_text("{\"opt\":\"adamw\",\"n_layer\":\"12\"}", "x", &p, &e) == -1 &&
              strstr(e.msg, "n_layer"), "%s", e.msg);
    cr_assert(preset_find("fw_base_nonesuch", &p, &e) == -1 && strstr(e.msg, "nonesuch"));
}
