/* cli.c - the flag parser and the optimizer flags shared by the subcommands. */
#include "cli.h"

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
        if (end == v || *end || errno == ERANGE || !isfinite(d) || strpbrk(v, "xX"))
            return lm_fail(e, "%s: '%s' is not a finite number", f->name, v);
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

int cli_parse(int argc, char **argv, cli_flag *flags, int nflags,
              const char **pos, int max_pos, int *npos, int *help, lm_error *e)
{
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
                          "signmuon, lionmuon, muon-nesterov)", s->optimizer);
    *c = opt_default_config(kind);
    s->msign = msign_method_name(c->msign.method);
    s->eps_mode = opt_eps_mode_name(c->adamw_eps_mode);
    int n = *nflags;
    cli_add(flags, &n, "--optimizer", FLAG_STRING, &s->optimizer,
        "adamw|lion|signum|muon|signmuon|lionmuon|muon-nesterov");
    cli_add(flags, &n, "--lr-muon", FLAG_DOUBLE, &c->lr_muon, "learning rate of Muon steps");
    cli_add(flags, &n, "--lr-sign", FLAG_DOUBLE, &c->lr_sign, "learning rate of Lion (sign) steps");
    cli_add(flags, &n, "--lr-adamw", FLAG_DOUBLE, &c->lr_adamw,
        "AdamW learning rate (1-D tensors, embeddings; every tensor with adamw)");
    cli_add(flags, &n, "--beta1", FLAG_DOUBLE, &c->beta1, "interpolation beta of the direction C");
    cli_add(flags, &n, "--beta2", FLAG_DOUBLE, &c->beta2,
        "momentum EMA beta (forced = beta1 for signum, muon, signmuon)");
    cli_add(flags, &n, "--period", FLAG_LONG, &c->period,
        "P: Muon step when t mod P == 0, 0 = never (forced 0 for lion/signum, 1 for muon)");
    cli_add(flags, &n, "--ns-steps", FLAG_INT, &c->msign.steps,
        "Newton-Schulz steps (ns5, polar-express) or iteration cap (cubic)");
    cli_add(flags, &n, "--msign", FLAG_STRING, &s->msign, "msign method: svd|ns5|cubic|polar-express|qr-newton");
    cli_add(flags, &n, "--srank-alpha", FLAG_DOUBLE, &c->srank_alpha,
        "adaptive trigger: Muon step when stable rank <= alpha min(m,n); 0 = off");
    cli_add(flags, &n, "--weight-decay", FLAG_DOUBLE, &c->weight_decay,
        "decoupled weight decay, on every tensor");
    cli_add(flags, &n, "--adamw-beta1", FLAG_DOUBLE, &c->adamw_beta1, "AdamW beta1");
    cli_add(flags, &n, "--adamw-beta2", FLAG_DOUBLE, &c->adamw_beta2, "AdamW beta2");
    cli_add(flags, &n, "--adamw-eps", FLAG_DOUBLE, &c->adamw_eps, "AdamW eps");
    cli_add(flags, &n, "--adamw-eps-mode", FLAG_STRING, &s->eps_mode,
        "paper (eps + sqrt(v) before bias correction) | torch (torch.optim.AdamW)");
    *nflags = n;
    return 0;
}

int cli_optim_finish(opt_config *c, const cli_optim_strings *s, cli_flag *flags,
                     int nflags, lm_error *e)
{
    if (msign_method_parse(s->msign, &c->msign.method) != 0)
        return lm_fail(e, "--msign: unknown method '%s' (svd, ns5, cubic, polar-express, qr-newton)",
                       s->msign);
    /* cubic's step count is an iteration cap; its default is larger */
    cli_flag *ns = cli_find(flags, nflags, "--ns-steps");
    if (c->msign.method == MSIGN_CUBIC && !(ns && ns->given))
        c->msign.steps = 100;
    if (opt_eps_mode_parse(s->eps_mode, &c->adamw_eps_mode) != 0)
        return lm_fail(e, "--adamw-eps-mode: unknown mode '%s' (paper, torch)", s->eps_mode);

    /* The special cases are fixed points of LionMuon's parameters: a flag
     * that contradicts one is an error, not silently ignored. */
    cli_flag *b2 = cli_find(flags, nflags, "--beta2");
    cli_flag *per = cli_find(flags, nflags, "--period");
    int tied = c->kind == OPT_SIGNUM || c->kind == OPT_MUON || c->kind == OPT_SIGNMUON ||
               c->kind == OPT_MUON_NESTEROV;
    if (tied) {
        if (b2 && b2->given && c->beta2 != c->beta1)
            return lm_fail(e, "--beta2: %s uses beta2 = beta1; give --beta1 only",
                           opt_kind_name(c->kind));
        c->beta2 = c->beta1;
    }
    if (per && per->given) {
        if ((c->kind == OPT_LION || c->kind == OPT_SIGNUM) && c->period != 0)
            return lm_fail(e, "--period: %s never takes a Muon step (P = 0); use lionmuon "
                              "or signmuon for a period", opt_kind_name(c->kind));
        if ((c->kind == OPT_MUON || c->kind == OPT_MUON_NESTEROV) && c->period != 1)
            return lm_fail(e, "--period: %s takes a Muon step every step (P = 1)",
                           opt_kind_name(c->kind));
    }
    long P;
    double bb1, bb2;
    opt_effective(c, &P, &bb1, &bb2);
    c->period = P;
    return opt_config_check(c, e);
}
