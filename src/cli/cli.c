/* cli.c - the flag parser and the optimizer flags shared by the subcommands. */
#include "cli.h"
#include "lionmuon/fs.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

cli_flag *cli_find(cli_flag *flags, int nflags, const char *name)
{
    for (int i = 0; i < nflags; i++)
        if (!strcmp(flags[i].name, name))
            return &flags[i];
    return NULL;
}

/* The flag whose name is the first len characters of a, or NULL. */
static cli_flag *find_prefix(cli_flag *flags, int nflags, const char *a, size_t len)
{
    for (int i = 0; i < nflags; i++)
        if (!strncmp(flags[i].name, a, len) && flags[i].name[len] == '\0')
            return &flags[i];
    return NULL;
}

char *cli_self_exe(void)
{
    for (size_t cap = 256; cap <= ((size_t)1 << 20); cap *= 2) {
        char *p = lm_malloc(cap);
        ssize_t n = readlink("/proc/self/exe", p, cap);
        if (n <= 0) {
            free(p);
            return NULL;
        }
        if ((size_t)n < cap) {
            p[n] = '\0';
            return p;
        }
        free(p); /* truncated: try a larger buffer */
    }
    return NULL;
}

static int parse_value(cli_flag *f, const char *v, lm_error *e)
{
    char *end = NULL;
    errno = 0;
    switch (f->type) {
    case FLAG_DOUBLE: {
        double d = strtod(v, &end);
        /* strtod also reads hexadecimal ("0x10" = 16): not a plain number */
        int range = errno == ERANGE;
        if (end == v || *end || strpbrk(v, "xX") || (!isfinite(d) && !range))
            return lm_fail(e, "%s: '%s' is not a finite number", f->name, v);
        /* ERANGE: beyond DBL_MAX (d = +-HUGE_VAL) or below the smallest
         * subnormal (d = 0 although the text is not zero); a subnormal
         * result is kept, it is the nearest double */
        if (range && !isfinite(d))
            return lm_fail(e, "%s: '%s' overflows: its magnitude is beyond the largest "
                              "double (1.8e308), so it is not a finite number", f->name, v);
        if (range && d == 0)
            return lm_fail(e, "%s: '%s' underflows: its magnitude is below the smallest "
                              "positive double (4.9e-324); write 0 for zero", f->name, v);
        *(double *)f->dest = d;
        return 0;
    }
    case FLAG_LONG:
    case FLAG_INT: {
        long l = strtol(v, &end, 10);
        if (end == v || *end || errno == ERANGE)
            return lm_fail(e, "%s: '%s' is not an integer", f->name, v);
        if (f->type == FLAG_INT) {
            if (l < INT_MIN || l > INT_MAX)
                return lm_fail(e, "%s: '%s' is out of range", f->name, v);
            *(int *)f->dest = (int)l;
        } else {
            *(long *)f->dest = l;
        }
        return 0;
    }
    case FLAG_STRING:
        *(const char **)f->dest = v;
        return 0;
    case FLAG_BOOL:
        *(int *)f->dest = 1;
        return 0;
    }
    return lm_fail(e, "%s: bad flag type", f->name);
}

/* At exit: output lost on the way to stdout (/dev/full, a full disk) is a
 * failure, not a success -- exit 1 with the reason. */
static void stdout_check_at_exit(void)
{
    lm_error e = {{0}};
    if (lm_flush_stdout(&e)) {
        fprintf(stderr, "lionmuon: %s\n", e.msg);
        _exit(1);
    }
}

int cli_parse(int argc, char **argv, cli_flag *flags, int nflags,
              const char **pos, int max_pos, int *npos, int *help, lm_error *e)
{
    static int at_exit_set = 0;
    if (!at_exit_set)
        at_exit_set = atexit(stdout_check_at_exit) == 0;
    *npos = 0;
    *help = 0;
    int flags_done = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!flags_done && (!strcmp(a, "--help") || !strcmp(a, "-h"))) {
            *help = 1;
            continue;
        }
        if (!flags_done && !strcmp(a, "--")) {
            flags_done = 1;
            continue;
        }
        if (flags_done || strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (*npos >= max_pos)
                return lm_fail(e, "unexpected argument '%s'", a);
            pos[(*npos)++] = a;
            continue;
        }
        /* --name=value or --name value */
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        cli_flag *f = find_prefix(flags, nflags, a, len);
        if (!f && len >= 128)
            return lm_fail(e, "unknown flag '%.60s...'", a);
        if (!f)
            return lm_fail(e, "unknown flag '%.*s' (see --help)", (int)len, a);
        const char *v = NULL;
        if (f->type == FLAG_BOOL) {
            if (eq)
                return lm_fail(e, "%s takes no value", f->name);
        } else if (eq) {
            v = eq + 1;
        } else {
            if (i + 1 >= argc)
                return lm_fail(e, "%s: missing value", f->name);
            v = argv[++i];
        }
        if (f->given && f->type != FLAG_BOOL)
            return lm_fail(e, "%s given twice", f->name);
        if (parse_value(f, v, e) != 0)
            return -1;
        f->given = 1;
    }
    return 0;
}

void cli_print_help(FILE *fp, const char *usage, const char *about,
                    const cli_flag *flags, int nflags)
{
    fprintf(fp, "usage: %s\n\n%s\n", usage, about);
    if (nflags > 0)
        fprintf(fp, "\nflags (default in brackets):\n");
    for (int i = 0; i < nflags; i++) {
        const cli_flag *f = &flags[i];
        fprintf(fp, "  %-20s %s ", f->name, f->help);
        switch (f->type) {
        case FLAG_DOUBLE: fprintf(fp, "[%g]", *(double *)f->dest); break;
        case FLAG_LONG: fprintf(fp, "[%ld]", *(long *)f->dest); break;
        case FLAG_INT: fprintf(fp, "[%d]", *(int *)f->dest); break;
        case FLAG_STRING: {
            const char *s = *(const char **)f->dest;
            fprintf(fp, "[%s]", s ? s : "none");
            break;
        }
        case FLAG_BOOL: fprintf(fp, "[%s]", *(int *)f->dest ? "on" : "off"); break;
        }
        fprintf(fp, "\n");
    }
}

/* ---- optimizer flags ---- */

void cli_add(cli_flag *flags, int *n, const char *name, cli_flag_type type, void *dest,
             const char *help)
{
    flags[*n] = (cli_flag){name, type, dest, help, 0};
    (*n)++;
}

/* The string flags of the choices (optim.h), their help, and the optimizers
 * that use them (NULL: every optimizer). */
static const struct {
    const char *flag, *help;
    int only[3]; /* opt_kind + 1, 0-terminated; {0}: any */
} CHOICE_FLAGS[OPT_CH_COUNT] = {
    [OPT_CH_EPS] = {"--adamw-eps-mode",
                    "paper (eps + sqrt(v) before bias correction) | torch (torch.optim.AdamW)",
                    {0}},
    [OPT_CH_DECAY] = {"--decay-on",
                      "tensors the weight decay applies to: all | linear (Linear-layer weights "
                      "only: the AdamW baseline's two groups)", {0}},
    [OPT_CH_ROUND] = {"--round-update",
                      "none | bf16: round each applied matrix update to bfloat16, as the paper's "
                      "code does (on in presets)", {0}},
    [OPT_CH_FORM] = {"--momentum-form",
                     "muon-nesterov: ema (B <- mu B + (1-mu) G, torch.optim.Muon) | sgd "
                     "(B <- mu B + G)", {OPT_MUON_NESTEROV + 1}},
    [OPT_CH_ADJUST] = {"--muon-adjust",
                       "muon-nesterov: scale original sqrt(max(1,m/n)) | match_rms_adamw "
                       "0.2 sqrt(max(m,n)) (torch.optim.Muon's adjust_lr_fn)",
                       {OPT_MUON_NESTEROV + 1}},
    [OPT_CH_SCALING] = {"--sign-scaling",
                        "signmuon-sgd: the cheap sign's scale none | muon | frob",
                        {OPT_SIGNMUON_SGD + 1}},
    [OPT_CH_CHEAP] = {"--cheap-mode",
                      "signmuon-sgd: the step between Muon steps, sign | norm | cheap-ns",
                      {OPT_SIGNMUON_SGD + 1}},
    [OPT_CH_NESTEROV] = {"--nesterov",
                         "signmuon-sgd, muon-nesterov: direction G + mu B (on) or B (off)",
                         {OPT_SIGNMUON_SGD + 1, OPT_MUON_NESTEROV + 1}},
};

int cli_optim_begin(int argc, char **argv, const char *fallback, opt_config *c,
                    cli_optim_strings *s, cli_flag *flags, int *nflags, lm_error *e)
{
    /* The defaults depend on the optimizer, so find it before parsing. */
    s->optimizer = fallback;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--optimizer") && i + 1 < argc)
            s->optimizer = argv[i + 1];
        else if (!strncmp(argv[i], "--optimizer=", 12))
            s->optimizer = argv[i] + 12;
    }
    opt_kind kind;
    if (opt_kind_parse(s->optimizer, &kind) != 0)
        return lm_fail(e, "--optimizer: unknown optimizer '%s' (adamw, lion, signum, muon, "
                          "signmuon, lionmuon, muon-nesterov, signmuon-sgd)", s->optimizer);
    *c = opt_default_config(kind);
    s->msign = msign_method_name(c->msign.method);
    for (int k = 0; k < OPT_CH_COUNT; k++)
        s->choice[k] = opt_choice_name((opt_choice)k, opt_choice_get(c, (opt_choice)k));
    int n = *nflags;
    cli_add(flags, &n, "--optimizer", FLAG_STRING, &s->optimizer,
        "adamw|lion|signum|muon|signmuon|lionmuon|muon-nesterov|signmuon-sgd");
    cli_add(flags, &n, "--lr-muon", FLAG_DOUBLE, &c->lr_muon, "learning rate of Muon steps");
    cli_add(flags, &n, "--lr-sign", FLAG_DOUBLE, &c->lr_sign,
        "learning rate of Lion (sign) steps; signmuon-sgd: of its cheap steps (not scheduled)");
    cli_add(flags, &n, "--lr-adamw", FLAG_DOUBLE, &c->lr_adamw,
        "AdamW learning rate (1-D tensors, embeddings; every tensor with adamw)");
    cli_add(flags, &n, "--beta1", FLAG_DOUBLE, &c->beta1,
        "interpolation beta of the direction C; mu of muon-nesterov and signmuon-sgd");
    cli_add(flags, &n, "--beta2", FLAG_DOUBLE, &c->beta2,
        "momentum EMA beta (forced = beta1 for signum, muon, signmuon)");
    cli_add(flags, &n, "--period", FLAG_LONG, &c->period,
        "P: Muon step when t mod P == 0, 0 = never (forced 0 for lion/signum, 1 for muon)");
    cli_add(flags, &n, "--ns-steps", FLAG_INT, &c->msign.steps,
        "Newton-Schulz steps (ns5, polar-express) or iteration cap (cubic)");
    cli_add(flags, &n, "--msign", FLAG_STRING, &s->msign, "msign method: svd|ns5|cubic|polar-express|qr-newton");
    cli_add(flags, &n, "--srank-alpha", FLAG_DOUBLE, &c->srank_alpha,
        "adaptive trigger: Muon step when stable rank <= alpha min(m,n); 0 = off");
    cli_add(flags, &n, "--srank-exact", FLAG_BOOL, &c->srank_exact,
        "the trigger's ||C||_2 from LAPACK, not 3 power iterations from a seeded random vector");
    cli_add(flags, &n, "--weight-decay", FLAG_DOUBLE, &c->weight_decay,
        "decoupled weight decay (on the tensors of --decay-on)");
    cli_add(flags, &n, "--adamw-beta1", FLAG_DOUBLE, &c->adamw_beta1, "AdamW beta1");
    cli_add(flags, &n, "--adamw-beta2", FLAG_DOUBLE, &c->adamw_beta2, "AdamW beta2");
    cli_add(flags, &n, "--adamw-eps", FLAG_DOUBLE, &c->adamw_eps, "AdamW eps");
    for (int k = 0; k < OPT_CH_COUNT; k++)
        cli_add(flags, &n, CHOICE_FLAGS[k].flag, FLAG_STRING, &s->choice[k], CHOICE_FLAGS[k].help);
    cli_add(flags, &n, "--cheap-ns-steps", FLAG_INT, &c->cheap_ns_steps,
        "signmuon-sgd, --cheap-mode cheap-ns: Newton-Schulz steps");
    *nflags = n;
    return 0;
}

int cli_optim_finish(opt_config *c, const cli_optim_strings *s, cli_flag *flags,
                     int nflags, lm_error *e)
{
    /* The flags given and the names; the rules (pinned values, settings the
     * optimizer does not read, ranges) are opt_config_finish's, shared with
     * the C API, with messages that name the flags. */
    opt_given g = {0, s->msign, {0}};
    for (int k = 0; k < OPT_CH_COUNT; k++)
        g.choice[k] = s->choice[k];
    for (int i = 0; i < OPT_SET_COUNT; i++) {
        cli_flag *f = cli_find(flags, nflags, opt_setting_name((opt_setting)i, OPT_NAME_FLAG));
        if (f && f->given)
            g.given |= OPT_GIVEN(i);
    }
    return opt_config_finish(c, &g, OPT_NAME_FLAG, e);
}

/* ---- presets ---- */

/* The value of --NAME in argv (either form), or NULL; *count: how often. */
static const char *scan_flag(int argc, char **argv, const char *name, int *count)
{
    const char *v = NULL;
    size_t n = strlen(name);
    *count = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strncmp(argv[i], name, n) && argv[i][n] == '=') {
            v = argv[i] + n + 1;
            (*count)++;
        } else if (!strcmp(argv[i], name) && i + 1 < argc) {
            v = argv[++i];
            (*count)++;
        }
    }
    return v;
}

int cli_preset_begin(int argc, char **argv, cli_preset *cp, lm_error *e)
{
    memset(cp, 0, sizeof *cp);
    int nn, nf, no;
    const char *name = scan_flag(argc, argv, "--preset", &nn);
    const char *from = scan_flag(argc, argv, "--preset-from", &nf);
    const char *opt = scan_flag(argc, argv, "--optimizer", &no);
    if (!name && !from)
        return 0;
    if (name && from)
        return lm_fail(e, "--preset and --preset-from: give one of them");
    if (name ? preset_find(name, &cp->p, e) : preset_from_file(from, &cp->p, e))
        return -1;
    if (!cp->p.ok)
        return lm_fail(e, "%s %s: not reproducible: %s", name ? "--preset" : "--preset-from",
                       cp->p.name, cp->p.reason);
    const char *popt = preset_value(&cp->p, "--optimizer");
    if (opt && popt && strcmp(opt, popt))
        return lm_fail(e, "--optimizer %s: the preset %s runs %s; give one of them", opt,
                       cp->p.name, popt);
    cp->active = 1;
    snprintf(cp->label, sizeof cp->label, "%s%s", name ? "" : "from ", name ? name : from);
    return 0;
}

const char *cli_preset_optimizer(const cli_preset *cp, const char *fallback)
{
    const char *o = cp->active ? preset_value(&cp->p, "--optimizer") : NULL;
    return o ? o : fallback;
}

void cli_preset_add(cli_preset *cp, cli_flag *flags, int *nflags)
{
    cli_add(flags, nflags, "--preset", FLAG_STRING, &cp->name,
            "RUN: the flags of a released run of the paper (`lionmuon presets`); "
            "flags given here override them");
    cli_add(flags, nflags, "--preset-from", FLAG_STRING, &cp->from,
            "FILE: the same, derived from a run's summary.json or its args object");
}

int cli_preset_apply(cli_preset *cp, cli_flag *flags, int nflags, lm_error *e)
{
    if (!cp->active)
        return 0;
    for (int i = 0; i < cp->p.nflags; i++) {
        preset_flag *pf = &cp->p.flags[i];
        cli_flag *f = cli_find(flags, nflags, pf->flag);
        if (!f)
            continue; /* a setting this subcommand does not have */
        if (f->type == FLAG_BOOL)
            *(int *)f->dest = 1;
        else if (parse_value(f, pf->value, e) != 0)
            return lm_wrap(e, "preset %s", cp->p.name);
    }
    return 0;
}
