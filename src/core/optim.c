/* optim.c - the LionMuon family, the second class, AdamW, the schedules and
 * clipping.  The update rules are stated in optim.h and again above each
 * kernel. */
#include "lionmuon/optim.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "lionmuon/linalg.h"
#include "core/par.h"

/* Elementwise loops run through LM_PAR_FOR_SIMD (core/par.h). */

/* ---- configuration ---- */

static const char *KIND_NAMES[] = {"adamw",    "lion",     "signum",        "muon",
                                   "signmuon", "lionmuon", "muon-nesterov", "signmuon-sgd"};
#define N_KINDS ((int)(sizeof KIND_NAMES / sizeof KIND_NAMES[0]))

const char *opt_kind_name(opt_kind k)
{
    return (unsigned)k < (unsigned)N_KINDS ? KIND_NAMES[k] : "?";
}

int opt_kind_parse(const char *name, opt_kind *out)
{
    int i = lm_name_lookup(KIND_NAMES, N_KINDS, name);
    if (i < 0 && name && !strcmp(name, "sign_muon"))
        i = OPT_SIGNMUON_SGD; /* the paper code's name of the class */
    if (i < 0)
        return -1;
    *out = (opt_kind)i;
    return 0;
}

static const char *const EPS_MODE_NAMES[] = {"paper", "torch"};

const char *opt_eps_mode_name(opt_eps_mode m)
{
    return (unsigned)m < 2u ? EPS_MODE_NAMES[m] : "?";
}

int opt_eps_mode_parse(const char *name, opt_eps_mode *out)
{
    int i = lm_name_lookup(EPS_MODE_NAMES, 2, name);
    if (i < 0)
        return -1;
    *out = (opt_eps_mode)i;
    return 0;
}

/* The name tables of the choices (optim.h), in enum order. */
static const char *const CHOICE_NAMES[OPT_CH_COUNT][4] = {
    [OPT_CH_EPS] = {"paper", "torch"},
    [OPT_CH_DECAY] = {"all", "linear"},
    [OPT_CH_ROUND] = {"none", "bf16"},
    [OPT_CH_FORM] = {"ema", "sgd"},
    [OPT_CH_ADJUST] = {"original", "match_rms_adamw"},
    [OPT_CH_SCALING] = {"none", "muon", "frob"},
    [OPT_CH_CHEAP] = {"sign", "norm", "cheap-ns"},
    [OPT_CH_NESTEROV] = {"off", "on"},
};
static const char *const CHOICE_LISTS[OPT_CH_COUNT] = {
    "paper|torch", "all|linear", "none|bf16", "ema|sgd", "original|match_rms_adamw",
    "none|muon|frob", "sign|norm|cheap-ns", "on|off"};

static int choice_count(opt_choice which)
{
    int n = 0;
    while (n < 4 && CHOICE_NAMES[which][n])
        n++;
    return n;
}

const char *opt_choice_name(opt_choice which, int value)
{
    if ((unsigned)which >= OPT_CH_COUNT || value < 0 || value >= choice_count(which))
        return "?";
    return CHOICE_NAMES[which][value];
}

int opt_choice_parse(opt_choice which, const char *name, int *value)
{
    if ((unsigned)which >= OPT_CH_COUNT)
        return -1;
    int i = lm_name_lookup(CHOICE_NAMES[which], choice_count(which), name);
    if (i < 0)
        return -1;
    *value = i;
    return 0;
}

const char *opt_choice_list(opt_choice which)
{
    return (unsigned)which < OPT_CH_COUNT ? CHOICE_LISTS[which] : "?";
}

const char *opt_choice_key(opt_choice which)
{
    static const char *const KEYS[OPT_CH_COUNT] = {
        "adamw_eps_mode", "decay_on", "round_update", "momentum_form", "muon_adjust",
        "sign_scaling", "cheap_mode", "nesterov"};
    return (unsigned)which < OPT_CH_COUNT ? KEYS[which] : "?";
}

int opt_choice_get(const opt_config *c, opt_choice which)
{
    switch (which) {
    case OPT_CH_EPS: return (int)c->adamw_eps_mode;
    case OPT_CH_DECAY: return (int)c->decay_on;
    case OPT_CH_ROUND: return (int)c->round_update;
    case OPT_CH_FORM: return (int)c->momentum_form;
    case OPT_CH_ADJUST: return (int)c->adjust;
    case OPT_CH_SCALING: return (int)c->sign_scaling;
    case OPT_CH_CHEAP: return (int)c->cheap_mode;
    case OPT_CH_NESTEROV: return c->nesterov != 0;
    case OPT_CH_COUNT: break;
    }
    return -1;
}

void opt_choice_set(opt_config *c, opt_choice which, int v)
{
    switch (which) {
    case OPT_CH_EPS: c->adamw_eps_mode = (opt_eps_mode)v; break;
    case OPT_CH_DECAY: c->decay_on = (opt_decay_on)v; break;
    case OPT_CH_ROUND: c->round_update = (opt_round)v; break;
    case OPT_CH_FORM: c->momentum_form = (opt_momentum_form)v; break;
    case OPT_CH_ADJUST: c->adjust = (opt_adjust)v; break;
    case OPT_CH_SCALING: c->sign_scaling = (opt_sign_scaling)v; break;
    case OPT_CH_CHEAP: c->cheap_mode = (opt_cheap_mode)v; break;
    case OPT_CH_NESTEROV: c->nesterov = v; break;
    case OPT_CH_COUNT: break;
    }
}

/* The defaults are the released runs of the paper's headline table
 * (theory/algorithms.md §9) at the 124M settings (§5):
 *   lionmuon  fw_base_lionmuon_k2     P = 2, (0.9, 0.99), 1e-3 / 5e-5
 *   signmuon  fw_base_signmuon_fixed_k2  P = 2, 0.9, 2e-3 / 5e-5
 *   muon      fw_base_muon_fixed      0.9, 1e-3
 *   lion      fw_base_lion            (0.9, 0.99), lr_sign 5e-5 (lr_muon 7e-3
 *                                     acts only with a period, at t = 0)
 *   signum    fw_base_signum_fixed    0.9, lr_sign 1e-4 (lr_muon 1e-3 likewise)
 *   adamw     fw_base_adamw           torch.optim.AdamW, (0.8, 0.999), 5e-4,
 *                                     decay on Linear weights only
 *   signmuon-sgd  fw_base_signmuon_k2 mu 0.95, Nesterov, raw sign, P = 2,
 *                                     2e-3 / 2e-5
 * and the AdamW part of the hybrids: (0.8, 0.999), eps 1e-8 before the bias
 * correction, 1e-3.  Weight decay 0.1; 5 Newton-Schulz steps; no update
 * rounding (the runs' bf16 rounding is --round-update bf16, on in presets).
 * muon-nesterov is not a run of the paper: Keller Jordan's mu 0.95, lr 0.02. */
opt_config opt_default_config(opt_kind kind)
{
    opt_config c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.period = 2;
    c.beta1 = 0.9;
    c.beta2 = 0.99;
    c.lr_muon = 1e-3;
    c.lr_sign = 5e-5;
    c.msign = msign_default_opts(MSIGN_NS5);
    c.weight_decay = 0.1;
    c.nesterov = 1;
    c.cheap_ns_steps = 2;
    c.lr_adamw = 1e-3;
    c.adamw_beta1 = 0.8;
    c.adamw_beta2 = 0.999;
    c.adamw_eps = 1e-8;
    switch (kind) {
    case OPT_ADAMW:
        c.lr_adamw = 5e-4;
        c.adamw_eps_mode = OPT_EPS_TORCH;
        c.decay_on = OPT_DECAY_LINEAR;
        break;
    case OPT_LION: c.period = 0; c.lr_muon = 7e-3; break;
    case OPT_SIGNUM: c.period = 0; c.beta1 = c.beta2 = 0.9; c.lr_sign = 1e-4; break;
    case OPT_MUON: c.period = 1; c.beta1 = c.beta2 = 0.9; break;
    case OPT_SIGNMUON: c.beta1 = c.beta2 = 0.9; c.lr_muon = 2e-3; break;
    case OPT_LIONMUON: break;
    case OPT_MUON_NESTEROV: c.period = 1; c.beta1 = c.beta2 = 0.95; c.lr_muon = 0.02; break;
    case OPT_SIGNMUON_SGD:
        c.beta1 = c.beta2 = 0.95;
        c.lr_muon = 2e-3;
        c.lr_sign = 2e-5;
        break;
    }
    return c;
}

int opt_fixed_side_rates(const opt_config *c)
{
    return c->kind == OPT_SIGNMUON_SGD;
}

void opt_effective(const opt_config *c, long *P, double *beta1, double *beta2)
{
    *P = c->period;
    *beta1 = c->beta1;
    *beta2 = c->beta2;
    switch (c->kind) {
    case OPT_LION: *P = 0; break;
    case OPT_SIGNUM: *P = 0; *beta2 = c->beta1; break;
    case OPT_MUON: *P = 1; *beta2 = c->beta1; break;
    case OPT_SIGNMUON: *beta2 = c->beta1; break;
    case OPT_MUON_NESTEROV: *P = 1; *beta2 = c->beta1; break;
    case OPT_SIGNMUON_SGD: *beta2 = c->beta1; break;
    case OPT_LIONMUON:
    case OPT_ADAMW: break;
    }
}

/* ---- settings ---- */

/* The flag and the key of each setting (optim.h), in opt_setting order. */
static const char *const SETTING_NAMES[OPT_SET_COUNT][2] = {
    [OPT_SET_OPTIMIZER] = {"--optimizer", "optimizer"},
    [OPT_SET_LR_MUON] = {"--lr-muon", "lr_muon"},
    [OPT_SET_LR_SIGN] = {"--lr-sign", "lr_sign"},
    [OPT_SET_LR_ADAMW] = {"--lr-adamw", "lr_adamw"},
    [OPT_SET_BETA1] = {"--beta1", "beta1"},
    [OPT_SET_BETA2] = {"--beta2", "beta2"},
    [OPT_SET_PERIOD] = {"--period", "period"},
    [OPT_SET_MSIGN] = {"--msign", "msign"},
    [OPT_SET_NS_STEPS] = {"--ns-steps", "ns_steps"},
    [OPT_SET_MSIGN_TOL] = {"--msign-tol", "msign_tol"},
    [OPT_SET_MSIGN_RANK_RTOL] = {"--msign-rank-rtol", "msign_rank_rtol"},
    [OPT_SET_SRANK_ALPHA] = {"--srank-alpha", "srank_alpha"},
    [OPT_SET_SRANK_EXACT] = {"--srank-exact", "srank_exact"},
    [OPT_SET_SEED] = {"--seed", "seed"},
    [OPT_SET_WEIGHT_DECAY] = {"--weight-decay", "weight_decay"},
    [OPT_SET_ADAMW_BETA1] = {"--adamw-beta1", "adamw_beta1"},
    [OPT_SET_ADAMW_BETA2] = {"--adamw-beta2", "adamw_beta2"},
    [OPT_SET_ADAMW_EPS] = {"--adamw-eps", "adamw_eps"},
    [OPT_SET_CHEAP_NS_STEPS] = {"--cheap-ns-steps", "cheap_ns_steps"},
    [OPT_SET_CHOICE + OPT_CH_EPS] = {"--adamw-eps-mode", "adamw_eps_mode"},
    [OPT_SET_CHOICE + OPT_CH_DECAY] = {"--decay-on", "decay_on"},
    [OPT_SET_CHOICE + OPT_CH_ROUND] = {"--round-update", "round_update"},
    [OPT_SET_CHOICE + OPT_CH_FORM] = {"--momentum-form", "momentum_form"},
    [OPT_SET_CHOICE + OPT_CH_ADJUST] = {"--muon-adjust", "muon_adjust"},
    [OPT_SET_CHOICE + OPT_CH_SCALING] = {"--sign-scaling", "sign_scaling"},
    [OPT_SET_CHOICE + OPT_CH_CHEAP] = {"--cheap-mode", "cheap_mode"},
    [OPT_SET_CHOICE + OPT_CH_NESTEROV] = {"--nesterov", "nesterov"},
};
_Static_assert(OPT_SET_COUNT <= 32, "opt_given.given holds one bit per setting");

const char *opt_setting_name(opt_setting s, opt_naming how)
{
    /* "?" also for a setting added to the enum but not to the table */
    if ((unsigned)s >= OPT_SET_COUNT || !SETTING_NAMES[s][how == OPT_NAME_KEY])
        return "?";
    return SETTING_NAMES[s][how == OPT_NAME_KEY];
}

int opt_choice_applies(opt_kind k, opt_choice which)
{
    switch (which) {
    case OPT_CH_FORM:
    case OPT_CH_ADJUST: return k == OPT_MUON_NESTEROV;
    case OPT_CH_SCALING:
    case OPT_CH_CHEAP: return k == OPT_SIGNMUON_SGD;
    case OPT_CH_NESTEROV: return k == OPT_SIGNMUON_SGD || k == OPT_MUON_NESTEROV;
    case OPT_CH_EPS:
    case OPT_CH_DECAY:
    case OPT_CH_ROUND: return 1;
    case OPT_CH_COUNT: break;
    }
    return 0;
}

int opt_setting_applies(opt_kind k, opt_setting s)
{
    if (s >= OPT_SET_CHOICE && s < OPT_SET_COUNT)
        return opt_choice_applies(k, (opt_choice)(s - OPT_SET_CHOICE));
    if (s == OPT_SET_CHEAP_NS_STEPS)
        return k == OPT_SIGNMUON_SGD;
    return (unsigned)s < OPT_SET_COUNT;
}

#define GIVEN(g, s) (((g)->given & OPT_GIVEN(s)) != 0)

/* The settings given by name (the msign method, the choices), and settings
 * given to an optimizer that does not read them. */
static int finish_names(opt_config *c, const opt_given *g, opt_naming how, lm_error *e)
{
    if (g->msign && msign_method_parse(g->msign, &c->msign.method) != 0)
        return lm_fail(e, "%s: unknown method '%s' (svd, ns5, cubic, polar-express, qr-newton)",
                       opt_setting_name(OPT_SET_MSIGN, how), g->msign);
    /* cubic's step count is an iteration cap; its default is larger */
    if (c->msign.method == MSIGN_CUBIC && !GIVEN(g, OPT_SET_NS_STEPS))
        c->msign.steps = 100;
    for (int k = 0; k < OPT_CH_COUNT; k++) {
        opt_setting set = (opt_setting)(OPT_SET_CHOICE + k);
        int v;
        if (g->choice[k]) {
            if (opt_choice_parse((opt_choice)k, g->choice[k], &v) != 0)
                return lm_fail(e, "%s: unknown mode '%s' (%s)", opt_setting_name(set, how),
                               g->choice[k], opt_choice_list((opt_choice)k));
            opt_choice_set(c, (opt_choice)k, v);
        }
        if (GIVEN(g, set) && !opt_setting_applies(c->kind, set))
            return lm_fail(e, "%s: %s does not use it", opt_setting_name(set, how),
                           opt_kind_name(c->kind));
    }
    if (GIVEN(g, OPT_SET_CHEAP_NS_STEPS) && !opt_setting_applies(c->kind, OPT_SET_CHEAP_NS_STEPS))
        return lm_fail(e, "%s: %s does not use it", opt_setting_name(OPT_SET_CHEAP_NS_STEPS, how),
                       opt_kind_name(c->kind));
    if (GIVEN(g, OPT_SET_SRANK_EXACT) && c->srank_exact && !(c->srank_alpha > 0))
        return lm_fail(e, "%s: the trigger is off (give %s > 0)",
                       opt_setting_name(OPT_SET_SRANK_EXACT, how),
                       opt_setting_name(OPT_SET_SRANK_ALPHA, how));
    return 0;
}

/* The special cases are fixed points of LionMuon's parameters: a given value
 * that contradicts one is an error, not silently ignored. */
static int finish_pins(opt_config *c, const opt_given *g, opt_naming how, lm_error *e)
{
    opt_kind k = c->kind;
    const char *kind = opt_kind_name(k);
    int tied = k == OPT_SIGNUM || k == OPT_MUON || k == OPT_SIGNMUON ||
               k == OPT_MUON_NESTEROV || k == OPT_SIGNMUON_SGD;
    if (tied) {
        if (GIVEN(g, OPT_SET_BETA2) && c->beta2 != c->beta1)
            return lm_fail(e, "%s: %s uses beta2 = beta1; give %s only",
                           opt_setting_name(OPT_SET_BETA2, how), kind,
                           opt_setting_name(OPT_SET_BETA1, how));
        c->beta2 = c->beta1;
    }
    if (GIVEN(g, OPT_SET_PERIOD)) {
        const char *per = opt_setting_name(OPT_SET_PERIOD, how);
        if ((k == OPT_LION || k == OPT_SIGNUM) && c->period != 0)
            return lm_fail(e, "%s: %s never takes a Muon step (P = 0); use lionmuon "
                              "or signmuon for a period", per, kind);
        if ((k == OPT_MUON || k == OPT_MUON_NESTEROV) && c->period != 1)
            return lm_fail(e, "%s: %s takes a Muon step every step (P = 1)", per, kind);
    }
    long P;
    double b1, b2;
    opt_effective(c, &P, &b1, &b2);
    c->period = P;
    return 0;
}

int opt_config_finish(opt_config *c, const opt_given *g, opt_naming how, lm_error *e)
{
    if (finish_names(c, g, how, e) != 0 || finish_pins(c, g, how, e) != 0)
        return -1;
    return opt_config_check_named(c, how, e);
}

static int check_rate(double v, opt_setting s, opt_naming how, lm_error *e)
{
    if (!isfinite(v) || v < 0)
        return lm_fail(e, "%s must be finite and >= 0 (got %g)", opt_setting_name(s, how), v);
    return 0;
}

static int check_beta(double v, opt_setting s, opt_naming how, lm_error *e)
{
    if (!(v >= 0 && v < 1))
        return lm_fail(e, "%s must be in [0, 1) (got %g)", opt_setting_name(s, how), v);
    return 0;
}

static int check_positive(double v, opt_setting s, opt_naming how, lm_error *e)
{
    if (!(v > 0) || !isfinite(v))
        return lm_fail(e, "%s must be finite and > 0 (got %g)", opt_setting_name(s, how), v);
    return 0;
}

int opt_config_check_named(const opt_config *c, opt_naming how, lm_error *e)
{
#define NM(s) opt_setting_name(s, how)
    if ((unsigned)c->kind >= (unsigned)N_KINDS)
        return lm_fail(e, "%s: unknown optimizer %d", NM(OPT_SET_OPTIMIZER), (int)c->kind);
    if (check_rate(c->lr_muon, OPT_SET_LR_MUON, how, e) ||
        check_rate(c->lr_sign, OPT_SET_LR_SIGN, how, e) ||
        check_rate(c->lr_adamw, OPT_SET_LR_ADAMW, how, e) ||
        check_rate(c->weight_decay, OPT_SET_WEIGHT_DECAY, how, e) ||
        check_beta(c->beta1, OPT_SET_BETA1, how, e) || check_beta(c->beta2, OPT_SET_BETA2, how, e) ||
        check_beta(c->adamw_beta1, OPT_SET_ADAMW_BETA1, how, e) ||
        check_beta(c->adamw_beta2, OPT_SET_ADAMW_BETA2, how, e))
        return -1;
    if (c->period < 0)
        return lm_fail(e, "%s must be >= 0 (0 = never a Muon step; got %ld)", NM(OPT_SET_PERIOD),
                       c->period);
    if (check_positive(c->adamw_eps, OPT_SET_ADAMW_EPS, how, e))
        return -1;
    if (c->msign.steps < 1)
        return lm_fail(e, "%s must be >= 1 (got %d)", NM(OPT_SET_NS_STEPS), c->msign.steps);
    if (check_positive(c->msign.tol, OPT_SET_MSIGN_TOL, how, e) ||
        check_rate(c->msign.rank_rtol, OPT_SET_MSIGN_RANK_RTOL, how, e))
        return -1;
    if (!isfinite(c->srank_alpha) || c->srank_alpha < 0)
        return lm_fail(e, "%s must be finite and >= 0 (got %g)", NM(OPT_SET_SRANK_ALPHA),
                       c->srank_alpha);
    if (c->cheap_ns_steps < 1)
        return lm_fail(e, "%s must be >= 1 (got %d)", NM(OPT_SET_CHEAP_NS_STEPS),
                       c->cheap_ns_steps);
    for (int k = 0; k < OPT_CH_COUNT; k++)
        if (!strcmp(opt_choice_name((opt_choice)k, opt_choice_get(c, (opt_choice)k)), "?"))
            return lm_fail(e, "%s: value %d out of range (%s)",
                           NM((opt_setting)(OPT_SET_CHOICE + k)),
                           opt_choice_get(c, (opt_choice)k), opt_choice_list((opt_choice)k));
    /* lr * wd >= 1 would flip or zero the weights every step */
    double lrmax = fmax(fmax(c->lr_muon, c->lr_sign), c->lr_adamw);
    if (lrmax * c->weight_decay >= 1)
        return lm_fail(e, "%s times the largest learning rate must be < 1 (got %g)",
                       NM(OPT_SET_WEIGHT_DECAY), lrmax * c->weight_decay);
    return 0;
#undef NM
}

int opt_config_check(const opt_config *c, lm_error *e)
{
    return opt_config_check_named(c, OPT_NAME_FLAG, e);
}

int opt_is_muon_step(long P, long t)
{
    return P > 0 && t % P == 0;
}

/* ---- workspace ---- */

opt_matrix_ws *opt_matrix_ws_alloc(int max_rows, int max_cols)
{
    opt_matrix_ws *ws = lm_calloc(1, sizeof *ws);
    ws->max_rows = max_rows;
    ws->max_cols = max_cols;
    ws->C = lm_malloc((size_t)LM_MAX(max_rows * max_cols, 1) * sizeof(double));
    ws->ms = msign_ws_alloc(max_rows, max_cols);
    int d = LM_MAX(LM_MAX(max_rows, max_cols), 1);
    ws->pu = lm_malloc((size_t)d * sizeof(double));
    ws->pv = lm_malloc((size_t)d * sizeof(double));
    ws->rng = gsl_rng_alloc(gsl_rng_mt19937);
    return ws;
}

void opt_matrix_ws_free(opt_matrix_ws *ws)
{
    if (!ws)
        return;
    free(ws->C);
    msign_ws_free(ws->ms);
    free(ws->pu);
    free(ws->pv);
    gsl_rng_free(ws->rng);
    free(ws);
}

/* ---- the kernels ---- */

static double sign0(double x)
{
    return (x > 0) - (x < 0); /* sign(0) = 0, as torch.sign */
}

double opt_round_bf16(double x)
{
    float f = (float)x; /* torch casts double to float, then float to bf16 */
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7f800000u) != 0x7f800000u) { /* finite: round to nearest even */
        u += 0x7fffu + ((u >> 16) & 1u);
        u &= 0xffff0000u;
    }
    memcpy(&f, &u, sizeof f);
    return (double)f;
}

/* splitmix64's finaliser: the mixing of the trigger's seed (theory/algorithms.md §2.3) */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* ||X||_2 as the paper's code estimates it: a random start vector v (n
 * standard normal draws, gsl_ran_gaussian, from a GSL mt19937 seeded with
 * mix64(mix64(mix64(seed) ^ t) ^ index)), then 3 times u = X v / (||X v|| +
 * 1e-7), v = X^T u / (||X^T u|| + 1e-7), and the estimate ||X v||.  With
 * srank_exact the top singular value from LAPACK instead. */
static double top_singular_value(const opt_config *c, long t, int m, int n, const double *X,
                                 opt_matrix_ws *ws)
{
    if (c->srank_exact)
        return la_norm_spectral(m, n, X);
    gsl_rng *r = ws->rng;
    gsl_rng_set(r, (unsigned long)mix64(mix64(mix64(c->seed) ^ (uint64_t)t) ^
                                        (uint64_t)ws->index));
    double *u = ws->pu, *v = ws->pv;
    for (int j = 0; j < n; j++)
        v[j] = gsl_ran_gaussian(r, 1.0);
    for (int it = 0; it < 3; it++) {
        cblas_dgemv(CblasRowMajor, CblasNoTrans, m, n, 1.0, X, n, v, 1, 0.0, u, 1);
        cblas_dscal(m, 1.0 / (cblas_dnrm2(m, u, 1) + 1e-7), u, 1);
        cblas_dgemv(CblasRowMajor, CblasTrans, m, n, 1.0, X, n, u, 1, 0.0, v, 1);
        cblas_dscal(n, 1.0 / (cblas_dnrm2(n, v, 1) + 1e-7), v, 1);
    }
    cblas_dgemv(CblasRowMajor, CblasNoTrans, m, n, 1.0, X, n, v, 1, 0.0, u, 1);
    return cblas_dnrm2(m, u, 1);
}

/* The adaptive trigger (theory/algorithms.md §2.3): a Muon step when the
 * stable rank ||X||_F^2 / (||X||_2^2 + 1e-12) is at most alpha min(m, n). */
static double srank_estimate(const opt_config *c, long t, int m, int n, const double *X,
                             opt_matrix_ws *ws)
{
    double s1 = top_singular_value(c, t, m, n, X, ws);
    double f = la_norm_fro(m, n, X);
    return (f * f) / (s1 * s1 + 1e-12);
}

static int srank_wants_muon(const opt_config *c, long t, int m, int n, const double *X,
                            opt_matrix_ws *ws)
{
    return srank_estimate(c, t, m, n, X, ws) <= c->srank_alpha * LM_MIN(m, n);
}

/* W <- W (1 - lr wd) - lr a U, with a U rounded to bf16 first when asked. */
static void apply_update(const opt_config *c, size_t mn, double *W, const double *U,
                         double lr, double a)
{
    double decay = 1 - lr * c->weight_decay;
    if (c->round_update == OPT_ROUND_BF16)
        LM_PAR_FOR_SIMD(i, mn, W[i] = W[i] * decay - lr * opt_round_bf16(a * U[i]));
    else
        LM_PAR_FOR_SIMD(i, mn, W[i] = W[i] * decay - lr * a * U[i]);
}

/* The sign step: U = sign(C) scaled by a (in place in C), then applied. */
static void sign_step(const opt_config *c, size_t mn, double *W, double *C, double lr, double a)
{
    LM_PAR_FOR_SIMD(i, mn, C[i] = sign0(C[i]));
    apply_update(c, mn, W, C, lr, a);
}

/* LionMuon on one matrix (m x n) at global step t:
 *
 *   C = beta1 M + (1 - beta1) G
 *   if t mod P == 0:  U = 0.2 sqrt(max(m, n)) msign(C),  lr = lr_muon
 *   else:             U = sign(C),                        lr = lr_sign
 *   W <- W (1 - lr wd) - lr U
 *   M <- beta2 M + (1 - beta2) G
 *
 * (P, beta1, beta2) come from opt_effective, so the same code is Lion,
 * Signum, Muon and SignMuon.  With srank_alpha > 0 the step type is chosen
 * per matrix instead: Muon when stable_rank(C) <= alpha min(m, n). */
int opt_lionmuon_matrix(const opt_config *c, long t, double lr_scale,
                        int m, int n, double *W, const double *G, double *M,
                        opt_matrix_ws *ws, int *took_muon, lm_error *e)
{
    long P;
    double beta1, beta2;
    opt_effective(c, &P, &beta1, &beta2);
    size_t mn = (size_t)m * n;
    double *C = ws->C;

    LM_PAR_FOR_SIMD(i, mn, C[i] = beta1 * M[i] + (1 - beta1) * G[i]);

    int muon = c->srank_alpha > 0 ? srank_wants_muon(c, t, m, n, C, ws)
                                  : opt_is_muon_step(P, t);
    if (muon) {
        if (msign(&c->msign, m, n, C, C, ws->ms, NULL, e) != 0)
            return -1;
        apply_update(c, mn, W, C, c->lr_muon * lr_scale, 0.2 * sqrt((double)LM_MAX(m, n)));
    } else {
        sign_step(c, mn, W, C, c->lr_sign * lr_scale, 1.0);
    }

    LM_PAR_FOR_SIMD(i, mn, M[i] = beta2 * M[i] + (1 - beta2) * G[i]);
    if (took_muon)
        *took_muon = muon;
    return 0;
}

/* Classic Muon, mu = beta1, lr = lr_muon (optim.h):
 *   EMA: B <- mu B + (1 - mu) G;  D = (1 - mu) G + mu B
 *   SGD: B <- mu B + G;           D = G + mu B
 *   (D = B without Nesterov);  W <- W (1 - lr wd) - lr a msign(D). */
int opt_muon_nesterov_matrix(const opt_config *c, double lr_scale, int m, int n,
                             double *W, const double *G, double *B,
                             opt_matrix_ws *ws, lm_error *e)
{
    size_t mn = (size_t)m * n;
    double mu = c->beta1, *D = ws->C;
    if (c->momentum_form == OPT_FORM_SGD)
        LM_PAR_FOR_SIMD(i, mn, B[i] = mu * B[i] + G[i]; D[i] = G[i] + mu * B[i]);
    else
        LM_PAR_FOR_SIMD(i, mn, B[i] = mu * B[i] + (1 - mu) * G[i];
                        D[i] = (1 - mu) * G[i] + mu * B[i]);
    if (!c->nesterov)
        memcpy(D, B, mn * sizeof *D);
    if (msign(&c->msign, m, n, D, D, ws->ms, NULL, e) != 0)
        return -1;
    double a = c->adjust == OPT_ADJUST_MATCH_RMS ? 0.2 * sqrt((double)LM_MAX(m, n))
                                                 : sqrt(fmax(1.0, (double)m / n));
    apply_update(c, mn, W, D, c->lr_muon * lr_scale, a);
    return 0;
}

/* The second class's step between Muon steps on D (in place), at the fixed
 * rate lr_sign (optim.h). */
static int cheap_step(const opt_config *c, int m, int n, double *W, double *D,
                      opt_matrix_ws *ws, lm_error *e)
{
    size_t mn = (size_t)m * n;
    double lr = c->lr_sign, big = sqrt((double)LM_MAX(m, n));
    double aspect = sqrt(fmax(1.0, (double)m / n));
    if (c->cheap_mode == OPT_CHEAP_NORM) {
        double nrm = la_norm_fro(m, n, D) + 1e-7;
        double k1 = sqrt((double)LM_MIN(m, n)), k2 = aspect;
        LM_PAR_FOR_SIMD(i, mn, D[i] = D[i] / nrm * k1 * k2);
        apply_update(c, mn, W, D, lr, 1.0);
    } else if (c->cheap_mode == OPT_CHEAP_NS) {
        msign_opts o = c->msign;
        o.steps = c->cheap_ns_steps;
        if (msign(&o, m, n, D, D, ws->ms, NULL, e) != 0)
            return -1;
        apply_update(c, mn, W, D, lr, 0.2 * big);
    } else if (c->sign_scaling == OPT_SCALING_NONE) {
        sign_step(c, mn, W, D, lr, 1.0);
    } else {
        /* sign / sqrt(max(m, n)), times sqrt(max(1, m/n)) for "muon" */
        double k2 = c->sign_scaling == OPT_SCALING_MUON ? aspect : 1.0;
        LM_PAR_FOR_SIMD(i, mn, D[i] = sign0(D[i]) / big * k2);
        apply_update(c, mn, W, D, lr, 1.0);
    }
    return 0;
}

/* The paper code's second class on one matrix (optim.h, theory/algorithms.md §3):
 * B <- mu B + G, D = G + mu B (or B), a Muon step on D every P steps (or by
 * the trigger on B), the cheap step otherwise. */
int opt_signmuon_sgd_matrix(const opt_config *c, long t, double lr_scale, int m, int n,
                            double *W, const double *G, double *B, opt_matrix_ws *ws,
                            int *took_muon, lm_error *e)
{
    size_t mn = (size_t)m * n;
    double mu = c->beta1, *D = ws->C;
    if (c->nesterov)
        LM_PAR_FOR_SIMD(i, mn, B[i] = mu * B[i] + G[i]; D[i] = G[i] + mu * B[i]);
    else
        LM_PAR_FOR_SIMD(i, mn, B[i] = mu * B[i] + G[i]; D[i] = B[i]);
    int muon = c->srank_alpha > 0 ? srank_wants_muon(c, t, m, n, B, ws)
                                  : opt_is_muon_step(c->period, t);
    if (muon) {
        if (msign(&c->msign, m, n, D, D, ws->ms, NULL, e) != 0)
            return -1;
        apply_update(c, mn, W, D, c->lr_muon * lr_scale, 0.2 * sqrt((double)LM_MAX(m, n)));
    } else if (cheap_step(c, m, n, W, D, ws, e) != 0) {
        return -1;
    }
    if (took_muon)
        *took_muon = muon;
    return 0;
}

/* AdamW at global step t, bias-correction count k = t + 1:
 *   m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v)      (torch's lerp)
 *   p <- p (1 - lr wd)
 *   paper: p <- p - lr sqrt(1 - b2^k) / (1 - b1^k) * m / (eps + sqrt v)
 *   torch: p <- p - lr / (1 - b1^k) * m / (sqrt v / sqrt(1 - b2^k) + eps)
 * The paper's code adds eps to sqrt(v) before the bias correction. */
void opt_adamw_tensor_wd(const opt_config *c, long t, double lr_scale, double wd, size_t n,
                         double *p, const double *g, double *m, double *v)
{
    double b1 = c->adamw_beta1, b2 = c->adamw_beta2, eps = c->adamw_eps;
    double lr = c->lr_adamw * lr_scale;
    double k = (double)(t + 1);
    double bc1 = 1 - pow(b1, k), bc2 = 1 - pow(b2, k);
    double decay = 1 - lr * wd;
    int paper = c->adamw_eps_mode == OPT_EPS_PAPER;
    LM_PAR_FOR_SIMD(i, n,
             m[i] += (1 - b1) * (g[i] - m[i]);
             v[i] += (1 - b2) * (g[i] * g[i] - v[i]);
             p[i] *= decay;
             if (paper)
                 p[i] -= (lr * sqrt(bc2) / bc1) * m[i] / (eps + sqrt(v[i]));
             else
                 p[i] -= (lr / bc1) * m[i] / (sqrt(v[i]) / sqrt(bc2) + eps));
}

void opt_adamw_tensor(const opt_config *c, long t, double lr_scale, size_t n,
                      double *p, const double *g, double *m, double *v)
{
    opt_adamw_tensor_wd(c, t, lr_scale, c->weight_decay, n, p, g, m, v);
}

/* ---- a model's worth of tensors ---- */

struct opt_state {
    opt_config cfg;
    int n, n_matrix;
    opt_tensor *t;
    double **buf0, **buf1;   /* per tensor: momentum / exp_avg, exp_avg_sq */
    int *took;               /* per tensor: the last step's type (opt_last_step_type) */
    opt_matrix_ws **ws;      /* one workspace per OpenMP thread */
    int nws;
    size_t bytes;
};

opt_state *opt_alloc(const opt_config *c, int n, const opt_tensor *t)
{
    opt_state *s = lm_calloc(1, sizeof *s);
    s->cfg = *c;
    s->n = n;
    s->t = lm_malloc((size_t)LM_MAX(n, 1) * sizeof *s->t);
    memcpy(s->t, t, (size_t)n * sizeof *t);
    s->buf0 = lm_calloc((size_t)LM_MAX(n, 1), sizeof *s->buf0);
    s->buf1 = lm_calloc((size_t)LM_MAX(n, 1), sizeof *s->buf1);
    s->took = lm_malloc((size_t)LM_MAX(n, 1) * sizeof *s->took);
    int maxr = 1, maxc = 1;
    for (int i = 0; i < n; i++) {
        opt_tensor *x = &s->t[i];
        s->took[i] = -1;
        if (c->kind == OPT_ADAMW)
            x->rule = OPT_RULE_ADAMW;
        size_t numel = (size_t)x->rows * x->cols;
        s->buf0[i] = lm_calloc(LM_MAX(numel, 1), sizeof(double));
        s->bytes += numel * sizeof(double);
        if (x->rule == OPT_RULE_ADAMW) {
            s->buf1[i] = lm_calloc(LM_MAX(numel, 1), sizeof(double));
            s->bytes += numel * sizeof(double);
        } else {
            /* one workspace serves every matrix: size it for the largest
             * short and long sides (the msign's wide orientation) */
            maxr = LM_MAX(maxr, LM_MIN(x->rows, x->cols));
            maxc = LM_MAX(maxc, LM_MAX(x->rows, x->cols));
        }
    }
    /* every matrix fits the wide maxr x maxc box, so its area bounds them all;
     * one workspace per thread, for opt_step's matrices-in-parallel */
    s->nws = LM_MAX(omp_get_max_threads(), 1);
    s->ws = lm_calloc((size_t)s->nws, sizeof *s->ws);
    for (int k = 0; k < s->nws; k++)
        s->ws[k] = opt_matrix_ws_alloc(maxr, maxc);
    for (int i = 0; i < n; i++)
        s->n_matrix += s->t[i].rule == OPT_RULE_MATRIX;
    return s;
}

void opt_free(opt_state *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++) {
        free(s->buf0[i]);
        free(s->buf1[i]);
    }
    free(s->buf0);
    free(s->buf1);
    free(s->took);
    free(s->t);
    for (int k = 0; k < s->nws; k++)
        opt_matrix_ws_free(s->ws[k]);
    free(s->ws);
    free(s);
}

double *opt_buffer(opt_state *s, int i, int which)
{
    if (i < 0 || i >= s->n)
        return NULL;
    return which == 0 ? s->buf0[i] : s->buf1[i];
}

size_t opt_state_bytes(const opt_state *s)
{
    return s->bytes;
}

int opt_step_one(opt_state *s, int i, long t, double lr_scale, int *took_muon, lm_error *e)
{
    opt_config c = s->cfg; /* a copy: the tensor's own weight decay */
    opt_tensor *x = &s->t[i];
    size_t numel = (size_t)x->rows * x->cols;
    *took_muon = s->took[i] = -1;
    if (c.decay_on == OPT_DECAY_LINEAR && !x->linear)
        c.weight_decay = 0;
    if (x->rule == OPT_RULE_ADAMW) {
        /* the second class schedules lr_muon alone */
        double sc = opt_fixed_side_rates(&c) ? 1.0 : lr_scale;
        opt_adamw_tensor(&c, t, sc, numel, x->w, x->g, s->buf0[i], s->buf1[i]);
        return 0;
    }
    int muon = 1, me = omp_get_thread_num(), rc;
    opt_matrix_ws *ws = s->ws[me < s->nws ? me : 0];
    ws->index = i;
    if (c.kind == OPT_MUON_NESTEROV)
        rc = opt_muon_nesterov_matrix(&c, lr_scale, x->rows, x->cols, x->w, x->g, s->buf0[i],
                                      ws, e);
    else if (c.kind == OPT_SIGNMUON_SGD)
        rc = opt_signmuon_sgd_matrix(&c, t, lr_scale, x->rows, x->cols, x->w, x->g,
                                     s->buf0[i], ws, &muon, e);
    else
        rc = opt_lionmuon_matrix(&c, t, lr_scale, x->rows, x->cols, x->w, x->g, s->buf0[i],
                                 ws, &muon, e);
    if (rc != 0)
        return lm_wrap(e, "%s", x->name ? x->name : "?");
    *took_muon = s->took[i] = muon;
    return 0;
}

int opt_last_step_type(const opt_state *s, int i)
{
    return i >= 0 && i < s->n ? s->took[i] : -1;
}

/* The matrix the trigger of tensor i looks at, the kernels' expressions
 * (without their updates of the state): C for the LionMuon rule, the
 * updated momentum for the second class, the direction D for muon-nesterov. */
static void trigger_matrix(const opt_config *c, size_t mn, const double *G, const double *M,
                           double *X)
{
    long P;
    double b1, b2, mu = c->beta1;
    opt_effective(c, &P, &b1, &b2);
    if (c->kind == OPT_SIGNMUON_SGD) {
        LM_PAR_FOR_SIMD(i, mn, X[i] = mu * M[i] + G[i]);
    } else if (c->kind == OPT_MUON_NESTEROV) {
        int sgd = c->momentum_form == OPT_FORM_SGD, nest = c->nesterov;
        for (size_t i = 0; i < mn; i++) {
            double b = sgd ? mu * M[i] + G[i] : mu * M[i] + (1 - mu) * G[i];
            X[i] = !nest ? b : sgd ? G[i] + mu * b : (1 - mu) * G[i] + mu * b;
        }
    } else {
        LM_PAR_FOR_SIMD(i, mn, X[i] = b1 * M[i] + (1 - b1) * G[i]);
    }
}

int opt_trigger(opt_state *s, int i, long t, const double *G, double *srank, int *muon,
                lm_error *e)
{
    if (i < 0 || i >= s->n)
        return lm_fail(e, "opt_trigger: no tensor %d (of %d)", i, s->n);
    const opt_tensor *x = &s->t[i];
    if (x->rule == OPT_RULE_ADAMW)
        return lm_fail(e, "%s follows AdamW: it takes no matrix step",
                       x->name ? x->name : "?");
    const opt_config *c = &s->cfg;
    int m = x->rows, n = x->cols;
    opt_matrix_ws *ws = s->ws[0];
    trigger_matrix(c, (size_t)m * n, G, s->buf0[i], ws->C);
    ws->index = i;
    double est = srank_estimate(c, t, m, n, ws->C, ws);
    long P;
    double b1, b2;
    opt_effective(c, &P, &b1, &b2);
    if (srank)
        *srank = est;
    if (muon)
        *muon = c->kind == OPT_MUON_NESTEROV ? 1
                : c->srank_alpha > 0         ? est <= c->srank_alpha * LM_MIN(m, n)
                                             : opt_is_muon_step(P, t);
    return 0;
}

int opt_check_grads(const opt_state *s, lm_error *e)
{
    for (int i = 0; i < s->n; i++) {
        size_t numel = (size_t)s->t[i].rows * s->t[i].cols;
        long bad = lm_first_nonfinite(numel, s->t[i].g);
        if (bad >= 0)
            return lm_fail(e, "gradient of %s: non-finite value at element %ld",
                           s->t[i].name ? s->t[i].name : "?", bad);
    }
    return 0;
}

/* Several matrices: each one's step (its msign above all) on one thread
 * with single-threaded BLAS, the matrices spread over the team.  Small
 * matrices keep every core busy this way, where a threaded BLAS call on
 * each would not, and each matrix's arithmetic is that of a one-thread run,
 * so the result does not depend on the thread count. */
static int step_parallel(opt_state *s, long t, double lr_scale, int *nm, int *nl, lm_error *e)
{
    int blas = openblas_get_num_threads(), fail = 0, m = 0, l = 0;
    lm_error first = {{0}};
    openblas_set_num_threads(1);
#pragma omp parallel for schedule(dynamic, 1) num_threads(s->nws) reduction(+ : m, l)
    for (int i = 0; i < s->n; i++) {
        int muon;
        lm_error le;
        if (opt_step_one(s, i, t, lr_scale, &muon, &le) != 0) {
#pragma omp critical
            if (!fail) {
                fail = 1;
                first = le;
            }
            continue;
        }
        m += muon == 1;
        l += muon == 0;
    }
    openblas_set_num_threads(blas);
    *nm = m;
    *nl = l;
    if (fail && e)
        *e = first;
    return fail ? -1 : 0;
}

int opt_step(opt_state *s, long t, double lr_scale, opt_step_info *info, lm_error *e)
{
    if (opt_check_grads(s, e) != 0)
        return -1;
    int nm = 0, nl = 0;
    if (s->nws > 1 && s->n_matrix > 1 && !omp_in_parallel()) {
        if (step_parallel(s, t, lr_scale, &nm, &nl, e) != 0)
            return -1;
    } else {
        for (int i = 0; i < s->n; i++) {
            int muon;
            if (opt_step_one(s, i, t, lr_scale, &muon, e) != 0)
                return -1;
            nm += muon == 1;
            nl += muon == 0;
        }
    }
    if (info) {
        info->n_muon = nm;
        info->n_lion = nl;
    }
    return 0;
}

int opt_ntensors(const opt_state *s)
{
    return s->n;
}

/* ---- schedule and clipping ---- */

double opt_lr_schedule(long k, long warmup, long iterations)
{
    if (k < warmup)
        return 0.01 + 0.99 * (double)k / warmup;
    if (iterations <= warmup)
        return 1.0;
    double frac = (double)(k - warmup) / (double)(iterations - warmup);
    if (frac > 1)
        frac = 1;
    return 0.5 * (1 + cos(M_PI * frac));
}

double opt_lr_schedule_wsd(long k, long warmup, long iterations, double fract_decay,
                           double final_factor)
{
    long n_decay = (long)(fract_decay * (double)iterations); /* Python's int(): toward 0 */
    long n_hold = iterations - n_decay;
    if (k < warmup) {
        double r = (double)k / (double)warmup;
        return r + (1 - r) / 100;
    }
    if (k < n_hold)
        return 1.0;
    if (k < iterations)
        return final_factor + (1 - final_factor) * (1 - (double)(k - n_hold) / (double)n_decay);
    return final_factor;
}

double opt_clip_grad_norm(int n, const opt_tensor *t, double max_norm)
{
    /* the 2-norm of the concatenation, as the 2-norm of the per-tensor norms */
    double sq = 0;
    for (int i = 0; i < n; i++) {
        double ni = cblas_dnrm2(t[i].rows * t[i].cols, t[i].g, 1);
        sq += ni * ni;
    }
    double total = sqrt(sq);
    if (max_norm > 0) {
        double coef = max_norm / (total + 1e-6);
        if (coef < 1)
            for (int i = 0; i < n; i++)
                cblas_dscal(t[i].rows * t[i].cols, coef, t[i].g, 1);
    }
    return total;
}
