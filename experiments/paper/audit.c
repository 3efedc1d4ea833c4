/* audit.c - the paper's released runs read back: labels, FLOPs, Pareto
 * fronts and the verdict on the LionMuon P = 2 claim (see audit.h). */
#include "audit.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lionmuon/fs.h"

/* ---- the paper's FLOPs count (theory/algorithms.md §8) ---------------- */

static double ns_matrix(double m, double n, double steps)
{
    double dmin = m < n ? m : n, dmax = m < n ? n : m;
    return steps * 2.0 * dmin * dmin * (2.0 * dmax + dmin);
}

double audit_model_flops(long n_layer, long n_embd, long vocab, long seq_len, long batch)
{
    double L = (double)n_layer, C = (double)n_embd, V = (double)vocab, T = (double)seq_len;
    double N = L * 12.0 * C * C + V * C + T * C;
    return 6.0 * N * T * (double)batch;
}

double audit_ns_flops(long n_layer, long n_embd, long ns_steps)
{
    double C = (double)n_embd, s = (double)ns_steps;
    double layer = ns_matrix(C, 3 * C, s) + ns_matrix(C, C, s) + ns_matrix(C, 4 * C, s) +
                   ns_matrix(4 * C, C, s);
    return (double)n_layer * layer;
}

double audit_sign_flops(long n_layer, long n_embd)
{
    double C = (double)n_embd;
    return (double)n_layer * (3 * C * C + C * C + 4 * C * C + 4 * C * C);
}

double audit_total_flops(double iterations, double model, double ns, double sign, double P)
{
    if (P >= AUDIT_NEVER)
        return iterations * (model + sign) + ns;
    return iterations * (model + ns / P + sign * (1.0 - 1.0 / P));
}

/* ---- reading one file ------------------------------------------------- */

/* The whole of a regular file of at most AUDIT_MAX_BYTES, NUL-terminated.
 * The type is checked on the opened descriptor (a symlink to /dev/zero or a
 * FIFO is refused without reading it). */
static int read_regular(const char *path, char **out, size_t *len, lm_error *e)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return lm_fail(e, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return lm_fail(e, "%s: not a regular file", path);
    }
    if ((unsigned long long)st.st_size > AUDIT_MAX_BYTES) {
        close(fd);
        return lm_fail(e, "%s: %lld bytes, over the %zu MiB limit", path,
                       (long long)st.st_size, AUDIT_MAX_BYTES >> 20);
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = lm_malloc(cap + 1);
    for (;;) {
        if (n == cap) { /* the file grew while being read */
            if (cap > AUDIT_MAX_BYTES)
                break;
            cap = LM_MIN(2 * cap, AUDIT_MAX_BYTES + 1);
            char *p = realloc(buf, cap + 1);
            if (!p) {
                fprintf(stderr, "lionmuon: out of memory (%zu bytes)\n", cap + 1);
                abort();
            }
            buf = p;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            lm_fail(e, "%s: read failed: %s", path, strerror(errno));
            close(fd);
            free(buf);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > AUDIT_MAX_BYTES) {
        free(buf);
        return lm_fail(e, "%s: over the %zu MiB limit", path, AUDIT_MAX_BYTES >> 20);
    }
    if (memchr(buf, '\0', n)) {
        free(buf);
        return lm_fail(e, "%s: contains a NUL byte; not a JSON text", path);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* Length of a NaN / Infinity / -Infinity token at s (followed by a JSON
 * delimiter), or 0. */
static size_t nonfinite_token(const char *s, size_t n)
{
    static const char *const toks[] = {"NaN", "Infinity", "-Infinity"};
    for (int i = 0; i < 3; i++) {
        size_t k = strlen(toks[i]);
        if (k <= n && !memcmp(s, toks[i], k) &&
            (k == n || strchr(" \t\r\n,]}", s[k])))
            return k;
    }
    return 0;
}

/* Replace NaN / Infinity / -Infinity in value position (outside strings)
 * by null, so that jansson (which rejects them) reads the file.  Returns
 * the text to parse: a new buffer in b, or s itself when nothing changed. */
static const char *sanitize_nonfinite(const char *s, size_t n, lm_buf *b, size_t *outlen,
                                      int *count)
{
    size_t seg = 0;
    int in_str = 0;
    char prev = 0;
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        size_t k = (prev == '[' || prev == ',' || prev == ':') ? nonfinite_token(s + i, n - i) : 0;
        if (k) {
            lm_buf_printf(b, "%.*s null", (int)(i - seg), s + seg);
            seg = i + k;
            i += k - 1;
            (*count)++;
            prev = 'l';
            continue;
        }
        if (c == '"')
            in_str = 1;
        prev = c;
    }
    if (*count == 0) {
        *outlen = n;
        return s;
    }
    lm_buf_printf(b, "%.*s", (int)(n - seg), s + seg);
    *outlen = b->len;
    return b->s;
}

/* ---- the fields of a run ---------------------------------------------- */

/* A number field: *out = NAN when absent or null and not required. */
static int get_num(json_t *obj, const char *where, const char *key, int required, double *out,
                   const char *path, lm_error *e)
{
    json_t *v = json_object_get(obj, key);
    *out = NAN;
    if ((!v || json_is_null(v)) && !required)
        return 0;
    if (!v || json_is_null(v))
        return lm_fail(e, "%s: %s%s is missing", path, where, key);
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return lm_fail(e, "%s: %s%s is not a finite number", path, where, key);
    *out = json_number_value(v);
    return 0;
}

static int get_count(json_t *args, const char *key, long *out, const char *path, lm_error *e)
{
    double v;
    if (get_num(args, "args.", key, 1, &v, path, e) != 0)
        return -1;
    if (v < 1 || v > 1e12 || v != floor(v))
        return lm_fail(e, "%s: args.%s = %g is not a positive integer", path, key, v);
    *out = (long)v;
    return 0;
}

static int get_str(json_t *args, const char *key, char **out, const char *path, lm_error *e)
{
    json_t *v = json_object_get(args, key);
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 200)
        return lm_fail(e, "%s: args.%s is not a non-empty string", path, key);
    /* kept printable (lm_printable): the tables print it, and a newline
     * or a terminal escape in a log must not fake a row */
    *out = lm_printable(json_string_value(v));
    return 0;
}

/* Best validation loss: the minimum of the finite entries (null allowed). */
static int best_val_loss(json_t *root, const char *path, double *best, lm_error *e)
{
    json_t *vl = json_object_get(root, "val_loss");
    if (!json_is_array(vl))
        return lm_fail(e, "%s: val_loss is not a list", path);
    *best = NAN;
    size_t i;
    json_t *v;
    json_array_foreach(vl, i, v) {
        if (json_is_null(v))
            continue;
        if (!json_is_number(v))
            return lm_fail(e, "%s: val_loss[%zu] is not a number", path, i);
        double x = json_number_value(v);
        if (isfinite(x) && !(x >= *best))
            *best = x;
    }
    return 0;
}

static const char RULE_P[] = "paper: iterations * (model + NS/P + sign*(1 - 1/P))";
static const char RULE_NEVER[] =
    "paper: iterations * (model + sign) + NS once (P >= 1e6 is never, but for t = 0)";
static const char RULE_ADAMW[] = "paper: iterations * model";
static const char RULE_APPROX[] =
    "approximate: the LionMuon formula with P = muon_every_k (the variant's per-step "
    "cost is not specified by the paper's count)";
static const char RULE_SRANK[] =
    "approximate: the LionMuon formula with P = muon_every_k (the stable-rank trigger "
    "ignores P and adds power iterations)";
static const char RULE_MODEL[] = "approximate: unknown class without a period; model only";

static void period_text(double P, char *buf, size_t n)
{
    if (P >= AUDIT_NEVER)
        snprintf(buf, n, "never");
    else
        snprintf(buf, n, "%g", P);
}

/* The label (theory/algorithms.md §2.2 names for the LionMuon class) and
 * the accounting rule of a run; r->period must be set. */
static void classify(audit_run *r, double beta1, double beta2, double srank, json_t *args)
{
    char p[32];
    period_text(r->period, p, sizeof p);
    int never = r->period >= AUDIT_NEVER, tied = beta1 == beta2;
    r->approximate = 0;
    r->flops_rule = never ? RULE_NEVER : RULE_P;
    if (!strcmp(r->opt, "lion_muon")) {
        if (srank > 0) {
            snprintf(r->label, sizeof r->label, "LionMuon srank a=%g", srank);
            r->flops_rule = RULE_SRANK;
            r->approximate = 1;
        } else if (never)
            snprintf(r->label, sizeof r->label, "%s", tied ? "Signum" : "Lion");
        else if (r->period == 1 && tied)
            snprintf(r->label, sizeof r->label, "Muon");
        else
            snprintf(r->label, sizeof r->label, "%s P=%s", tied ? "SignMuon" : "LionMuon", p);
    } else if (!strcmp(r->opt, "sign_muon")) {
        snprintf(r->label, sizeof r->label, "SignMuon-class K=%s", p);
    } else if (!strcmp(r->opt, "adamw")) {
        snprintf(r->label, sizeof r->label, "AdamW");
        r->flops_rule = RULE_ADAMW;
    } else {
        const char *variant = json_string_value(json_object_get(args, "rmsspectral_variant"));
        if (!strcmp(r->opt, "lidmuon"))
            snprintf(r->label, sizeof r->label, "LidMuon-class K=%s", p);
        else if (!strcmp(r->opt, "signdmuon"))
            snprintf(r->label, sizeof r->label, "SignDMuon-class K=%s", p);
        else if (!strcmp(r->opt, "rmsspectral"))
            snprintf(r->label, sizeof r->label, "RMSSpectral-class (%.32s)",
                     variant ? variant : "?");
        else
            snprintf(r->label, sizeof r->label, "%.40s (unspecified class)", r->opt);
        r->flops_rule = isnan(r->period) ? RULE_MODEL : RULE_APPROX;
        r->approximate = 1;
    }
}

static int known_period_class(const char *opt)
{
    return !strcmp(opt, "lion_muon") || !strcmp(opt, "sign_muon");
}

/* The args fields of a run, its label and FLOPs. */
static int parse_args(json_t *args, audit_run *r, const char *path, lm_error *e)
{
    double acc = NAN, beta1 = NAN, beta2 = NAN, srank = NAN, P = NAN;
    if (!json_is_object(args))
        return lm_fail(e, "%s: args is not an object", path);
    if (get_str(args, "opt", &r->opt, path, e) || get_str(args, "dataset", &r->dataset, path, e) ||
        get_str(args, "model", &r->model, path, e) ||
        get_count(args, "n_layer", &r->n_layer, path, e) ||
        get_count(args, "n_embd", &r->n_embd, path, e) ||
        get_count(args, "sequence_length", &r->seq_len, path, e) ||
        get_count(args, "batch_size", &r->batch, path, e) ||
        get_count(args, "vocab_size", &r->vocab, path, e) ||
        get_count(args, "iterations", &r->iterations, path, e) ||
        get_num(args, "args.", "acc_steps", 0, &acc, path, e))
        return -1;
    int lion = !strcmp(r->opt, "lion_muon"), adamw = !strcmp(r->opt, "adamw");
    if (get_num(args, "args.", "beta1", lion, &beta1, path, e) ||
        get_num(args, "args.", "beta2", lion, &beta2, path, e) ||
        get_num(args, "args.", "srank_alpha", 0, &srank, path, e) ||
        (!adamw && get_num(args, "args.", "muon_every_k", known_period_class(r->opt), &P, path, e)))
        return -1;
    if (!isnan(acc) && (acc < 1 || acc != floor(acc) || acc > 1e6))
        return lm_fail(e, "%s: args.acc_steps = %g is not a positive integer", path, acc);
    if (!isnan(P) && (P < 1 || P != floor(P)))
        return lm_fail(e, "%s: args.muon_every_k = %g is not a positive integer", path, P);
    r->ns_steps = 0;
    if (!adamw && !isnan(P) && get_count(args, "muon_ns_steps", &r->ns_steps, path, e))
        return -1;
    r->batch *= isnan(acc) ? 1 : (long)acc; /* tokens per optimizer step: B * acc_steps */
    r->period = P;
    classify(r, beta1, beta2, srank, args);
    double model = audit_model_flops(r->n_layer, r->n_embd, r->vocab, r->seq_len, r->batch);
    double it = (double)r->iterations;
    r->model_flops = it * model;
    if (adamw || isnan(P))
        r->flops = it * model;
    else
        r->flops = audit_total_flops(it, model, audit_ns_flops(r->n_layer, r->n_embd, r->ns_steps),
                                     audit_sign_flops(r->n_layer, r->n_embd), P);
    return 0;
}

static int parse_run(const char *path, const char *name, audit_run *r, lm_error *e)
{
    char *text;
    size_t len, plen;
    lm_buf fixed = {0};
    memset(r, 0, sizeof *r);
    r->name = lm_printable(name); /* printed in tables: escaped, as args strings */
    if (read_regular(path, &text, &len, e) != 0)
        return -1;
    const char *src = sanitize_nonfinite(text, len, &fixed, &plen, &r->nonfinite_tokens);
    json_error_t je;
    json_t *root = json_loadb(src, plen, JSON_REJECT_DUPLICATES, &je);
    free(text);
    lm_buf_free(&fixed);
    if (!root)
        return lm_fail(e, "%s: line %d, column %d: %s", path, je.line, je.column, je.text);
    int rc = -1;
    if (!json_is_object(root))
        lm_fail(e, "%s: not a JSON object", path);
    else if (best_val_loss(root, path, &r->best_val, e) == 0 &&
             get_num(root, "", "wall_time", 0, &r->wall, path, e) == 0 &&
             parse_args(json_object_get(root, "args"), r, path, e) == 0)
        rc = 0;
    json_decref(root);
    return rc;
}

/* ---- the directory ---------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of DIR's entries that are folders, sorted. */
static int list_folders(const char *dir, char ***out, size_t *n, lm_error *e)
{
    DIR *d = opendir(dir);
    if (!d)
        return lm_fail(e, "%s: cannot read the directory: %s", dir, strerror(errno));
    char **names = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *p = lm_path_join(dir, de->d_name);
        struct stat st;
        int is_dir = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
        free(p);
        if (!is_dir)
            continue;
        if (cnt == cap) {
            cap = cap ? 2 * cap : 64;
            char **q = realloc(names, cap * sizeof *names);
            if (!q) {
                fprintf(stderr, "lionmuon: out of memory\n");
                abort();
            }
            names = q;
        }
        names[cnt++] = lm_strdup(de->d_name);
    }
    closedir(d);
    if (cnt)
        qsort(names, cnt, sizeof *names, cmp_str);
    *out = names;
    *n = cnt;
    return 0;
}

int audit_load(const char *dir, audit_set *s, lm_error *e)
{
    memset(s, 0, sizeof *s);
    char **names = NULL;
    size_t n = 0;
    if (list_folders(dir, &names, &n, e) != 0)
        return -1;
    s->dir = lm_strdup(dir);
    json_t *probe = json_string(dir);
    for (size_t i = 0; i < n && probe; i++) { /* the JSON report holds these names */
        json_decref(probe);
        probe = json_string(names[i]);
    }
    if (!probe) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        free(s->dir);
        s->dir = NULL;
        return lm_fail(e, "%s: a folder name (or the path) is not valid UTF-8", dir);
    }
    json_decref(probe);
    s->runs = lm_calloc(n ? n : 1, sizeof *s->runs);
    s->skipped = lm_calloc(n ? n : 1, sizeof *s->skipped);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char *sub = lm_path_join(dir, names[i]);
        char *path = lm_path_join(sub, "summary.json");
        struct stat st;
        if (rc == 0 && lstat(path, &st) != 0 && errno == ENOENT) {
            s->skipped[s->nskipped++] = names[i];
            names[i] = NULL;
        } else if (rc == 0) {
            rc = parse_run(path, names[i], &s->runs[s->nruns], e);
            s->nruns++;
        }
        free(sub);
        free(path);
        free(names[i]);
    }
    free(names);
    if (rc == 0 && s->nruns == 0)
        rc = lm_fail(e, "%s: no folder holds a summary.json", dir);
    if (rc != 0)
        audit_free(s);
    return rc;
}

void audit_free(audit_set *s)
{
    for (size_t i = 0; i < s->nruns; i++) {
        free(s->runs[i].name);
        free(s->runs[i].dataset);
        free(s->runs[i].model);
        free(s->runs[i].opt);
    }
    for (size_t i = 0; i < s->nskipped; i++)
        free(s->skipped[i]);
    free(s->runs);
    free(s->skipped);
    free(s->dir);
    memset(s, 0, sizeof *s);
}

/* ---- the analysis ----------------------------------------------------- */

#define NBASE 4
/* Gaps below this many nats are flagged: typical seed-to-seed noise at the
 * 124M scale (a caveat, not measured here). */
#define AUDIT_NOISE 0.01
static const char *const BASELINES[NBASE] = {"Muon", "Lion", "Signum", "AdamW"};
static const char CLAIM_LABEL[] = "LionMuon P=2";
static const char CLAIM[] = "LionMuon P=2 Pareto-dominates Muon, Lion, Signum and AdamW";

/* The headline table of theory/algorithms.md §9 (FineWeb, GPT-2 124M): the
 * names only, a fact table; the values are read from the logs (and, with
 * --headline-md, from the document). */
static const struct {
    const char *headline, *run;
} HEADLINE[] = {
    {"LionMuon P=2", "fw_base_lionmuon_k2"},   {"LionMuon P=5", "fw_base_lionmuon_k5"},
    {"LionMuon P=1", "fw_base_lionmuon_k1"},   {"SignMuon P=2", "fw_base_signmuon_fixed_k2"},
    {"LionMuon P=20", "fw_base_lionmuon_k20"}, {"Muon", "fw_base_muon_fixed"},
    {"AdamW", "fw_base_adamw"},                {"LionMuon P=100", "fw_base_lionmuon_k100"},
    {"Lion", "fw_base_lion"},                  {"Signum", "fw_base_signum_fixed"},
};
#define NHEAD ((int)(sizeof HEADLINE / sizeof HEADLINE[0]))

typedef struct {
    long run;            /* index, -1 if the cell has none */
    int dominated;       /* the claim run dominates it */
    int dominates_claim; /* it dominates the claim run */
    double gap, ratio;   /* baseline loss - claim loss; claim FLOPs / baseline FLOPs */
} audit_against;

typedef struct {
    const char *dataset, *model;
    size_t *idx, n;      /* the cell's runs, by name */
    size_t *by_loss;     /* the same, by best loss (runs without one last) */
    int *front;          /* per entry of idx: on the Pareto front of all runs */
    int *front_paper;    /* ... of the runs with the paper's accounting */
    long claim;          /* the LionMuon P = 2 run, -1 if none */
    audit_against vs[NBASE];
    int holds, present;
} audit_cell;

typedef struct {
    audit_cell *cells;
    size_t ncells;
    double table[NHEAD]; /* from headline_md; NAN when not given or absent */
    int table_state[NHEAD]; /* 1 found, 0 absent, -1 the row names another run */
    int have_table, approx, llama, no_loss, nonfinite;
} audit_analysis;

static int dominates(const audit_run *a, const audit_run *b)
{
    return (a->flops <= b->flops && a->best_val < b->best_val) ||
           (a->flops < b->flops && a->best_val <= b->best_val);
}

static int same_config(const audit_run *a, const audit_run *b)
{
    return a->iterations == b->iterations && a->n_layer == b->n_layer &&
           a->n_embd == b->n_embd && a->seq_len == b->seq_len && a->batch == b->batch &&
           a->vocab == b->vocab;
}

/* The run of a label in a cell: with ref < 0 the one with the most
 * iterations; else preferably one with ref's configuration; ties by name. */
static long pick(const audit_set *s, const audit_cell *c, const char *label, long ref)
{
    long best = -1;
    for (size_t k = 0; k < c->n; k++) {
        const audit_run *r = &s->runs[c->idx[k]];
        if (strcmp(r->label, label) || isnan(r->best_val))
            continue;
        if (best < 0) {
            best = (long)c->idx[k];
            continue;
        }
        const audit_run *b = &s->runs[best];
        if (ref < 0 ? r->iterations > b->iterations
                    : (same_config(r, &s->runs[ref]) && !same_config(b, &s->runs[ref])))
            best = (long)c->idx[k];
    }
    return best;
}

static const audit_run *sort_runs; /* qsort context (single-threaded) */
static int cmp_loss(const void *a, const void *b)
{
    const audit_run *x = &sort_runs[*(const size_t *)a], *y = &sort_runs[*(const size_t *)b];
    int nx = isnan(x->best_val), ny = isnan(y->best_val);
    if (nx != ny)
        return nx - ny;
    if (!nx && x->best_val != y->best_val)
        return x->best_val < y->best_val ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* front[k] = 1 when run idx[k] has a loss and no other run of the cell
 * dominates it (paper_only: among the runs with the paper's accounting). */
static int *pareto(const audit_set *s, const audit_cell *c, int paper_only)
{
    int *front = lm_calloc(c->n ? c->n : 1, sizeof *front);
    for (size_t k = 0; k < c->n; k++) {
        const audit_run *r = &s->runs[c->idx[k]];
        front[k] = !isnan(r->best_val) && !(paper_only && r->approximate);
        for (size_t j = 0; j < c->n && front[k]; j++) {
            const audit_run *o = &s->runs[c->idx[j]];
            if (j != k && !isnan(o->best_val) && !(paper_only && o->approximate) &&
                dominates(o, r))
                front[k] = 0;
        }
    }
    return front;
}

static int front_of(const audit_cell *c, const int *front, size_t run)
{
    for (size_t k = 0; k < c->n; k++)
        if (c->idx[k] == run)
            return front[k];
    return 0;
}

static void analyse_cell(const audit_set *s, audit_cell *c)
{
    c->by_loss = lm_malloc((c->n ? c->n : 1) * sizeof *c->by_loss);
    memcpy(c->by_loss, c->idx, c->n * sizeof *c->idx);
    sort_runs = s->runs;
    qsort(c->by_loss, c->n, sizeof *c->by_loss, cmp_loss);
    c->front = pareto(s, c, 0);
    c->front_paper = pareto(s, c, 1);
    c->claim = pick(s, c, CLAIM_LABEL, -1);
    c->holds = c->claim >= 0;
    c->present = 0;
    for (int b = 0; b < NBASE; b++) {
        audit_against *a = &c->vs[b];
        a->run = c->claim >= 0 ? pick(s, c, BASELINES[b], c->claim) : -1;
        if (a->run < 0)
            continue;
        const audit_run *x = &s->runs[c->claim], *y = &s->runs[a->run];
        a->dominated = dominates(x, y);
        a->dominates_claim = dominates(y, x);
        a->gap = y->best_val - x->best_val;
        a->ratio = x->flops / y->flops;
        c->present++;
        c->holds = c->holds && a->dominated;
    }
    c->holds = c->holds && c->present == NBASE; /* all four, not a vacuous truth */
}

/* Group the runs (sorted by name) into (data set, model) cells, sorted. */
static void group_cells(const audit_set *s, audit_analysis *A)
{
    size_t *cell_of = lm_malloc(s->nruns * sizeof *cell_of);
    A->cells = lm_calloc(s->nruns, sizeof *A->cells);
    for (size_t i = 0; i < s->nruns; i++) {
        const audit_run *r = &s->runs[i];
        size_t c = 0;
        while (c < A->ncells &&
               (strcmp(A->cells[c].dataset, r->dataset) || strcmp(A->cells[c].model, r->model)))
            c++;
        if (c == A->ncells) {
            A->cells[c].dataset = r->dataset;
            A->cells[c].model = r->model;
            A->ncells++;
        }
        cell_of[i] = c;
        A->cells[c].n++;
        A->approx |= r->approximate;
        A->llama |= !strcmp(r->model, "llama");
        A->no_loss += isnan(r->best_val);
        A->nonfinite += r->nonfinite_tokens;
    }
    for (size_t c = 0; c < A->ncells; c++) {
        A->cells[c].idx = lm_malloc(A->cells[c].n * sizeof(size_t));
        A->cells[c].n = 0;
    }
    for (size_t i = 0; i < s->nruns; i++)
        A->cells[cell_of[i]].idx[A->cells[cell_of[i]].n++] = i;
    free(cell_of);
    for (size_t a = 1; a < A->ncells; a++) /* insertion sort by (data set, model) */
        for (size_t b = a; b > 0; b--) {
            audit_cell *x = &A->cells[b - 1], *y = &A->cells[b];
            int d = strcmp(x->dataset, y->dataset);
            if (d < 0 || (d == 0 && strcmp(x->model, y->model) <= 0))
                break;
            audit_cell t = *x;
            *x = *y;
            *y = t;
        }
    for (size_t c = 0; c < A->ncells; c++)
        analyse_cell(s, &A->cells[c]);
}

static void trim(char **b, char **e)
{
    while (*b < *e && isspace((unsigned char)**b))
        (*b)++;
    while (*e > *b && (isspace((unsigned char)(*e)[-1]) || (*e)[-1] == '`'))
        (*e)--;
    if (*b < *e && **b == '`')
        (*b)++;
}

/* The "| headline | best val | run |" rows of a Markdown table. */
static void scan_md_row(char *line, audit_analysis *A)
{
    char *cell[3][2];
    char *p = line;
    if (*p++ != '|')
        return;
    for (int k = 0; k < 3; k++) {
        char *q = strchr(p, '|');
        if (!q)
            return;
        cell[k][0] = p;
        cell[k][1] = q;
        trim(&cell[k][0], &cell[k][1]);
        p = q + 1;
    }
    for (int h = 0; h < NHEAD; h++) {
        size_t n = (size_t)(cell[0][1] - cell[0][0]);
        if (A->table_state[h] || strlen(HEADLINE[h].headline) != n ||
            memcmp(cell[0][0], HEADLINE[h].headline, n))
            continue;
        size_t rn = (size_t)(cell[2][1] - cell[2][0]);
        char num[64], *end;
        size_t vn = LM_MIN((size_t)(cell[1][1] - cell[1][0]), sizeof num - 1);
        memcpy(num, cell[1][0], vn);
        num[vn] = '\0';
        double v = strtod(num, &end);
        if (strlen(HEADLINE[h].run) != rn || memcmp(cell[2][0], HEADLINE[h].run, rn))
            A->table_state[h] = -1;
        else if (vn > 0 && *end == '\0' && isfinite(v)) {
            A->table_state[h] = 1;
            A->table[h] = v;
        }
    }
}

static int read_headline_md(const char *path, audit_analysis *A, lm_error *e)
{
    char *text;
    size_t len;
    if (read_regular(path, &text, &len, e) != 0)
        return -1;
    A->have_table = 1;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        scan_md_row(line, A);
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    return 0;
}

static void analysis_free(audit_analysis *A)
{
    for (size_t c = 0; c < A->ncells; c++) {
        free(A->cells[c].idx);
        free(A->cells[c].by_loss);
        free(A->cells[c].front);
        free(A->cells[c].front_paper);
    }
    free(A->cells);
}

static long find_run(const audit_set *s, const char *name)
{
    for (size_t i = 0; i < s->nruns; i++)
        if (!strcmp(s->runs[i].name, name))
            return (long)i;
    return -1;
}

double audit_best_val(const audit_set *s, const char *name)
{
    long i = find_run(s, name);
    return i >= 0 ? s->runs[i].best_val : NAN;
}

/* ---- caveats ---------------------------------------------------------- */

static int caveats(const audit_analysis *A, const char **out)
{
    int n = 0;
    out[n++] = "One seed per run (theory/algorithms.md §9): no interval can be given. Loss gaps "
               "below about 0.01 nats (marked) are within typical seed-to-seed noise at this "
               "scale; that is a caveat from experience, not measured here.";
    out[n++] = "Best validation loss is the minimum of the logged val_loss entries (one every "
               "eval_interval iterations), as the headline table reports it.";
    out[n++] = "FLOPs follow the paper's count (theory/algorithms.md §8): model 6 N T B with "
               "N = L 12 C^2 + V C + T C and B = batch_size * acc_steps, Newton-Schulz "
               "ns_steps * 2 dmin^2 (2 dmax + dmin) and sign m n over the (C,3C), (C,C), "
               "(C,4C), (4C,C) matrices of each layer, NS/P per iteration (not the exact "
               "count of Muon steps); the AdamW part of the hybrids and wpe are left out.";
    out[n++] = "Dominance is between end points (total FLOPs, best validation loss) at each "
               "run's own budget. At equal iterations Lion, Signum and AdamW cost fewer FLOPs "
               "per iteration than LionMuon P=2 under this count, so P=2 can dominate them "
               "only by reaching a lower loss with fewer FLOPs; loss-versus-FLOPs curves, as "
               "the paper plots them, are not compared here.";
    out[n++] = "loss_gap = baseline best loss - LionMuon P=2 best loss (positive: P=2 lower); "
               "flops_ratio = P=2 total FLOPs / baseline total FLOPs (below 1: P=2 cheaper).";
    if (A->llama)
        out[n++] = "LLaMA runs are counted with the GPT-2 formula, the only one that "
                   "theory/algorithms.md §8 states. At the paper's settings (C = 768, multiple_of "
                   "256) LLaMA's SwiGLU width H = 2048 = 8C/3 (theory/models.md §2) gives the "
                   "same 12 C^2 hidden parameters per layer, but LLaMA has no position table "
                   "(the T C term is counted anyway) and its matrices (3C,C), (C,C), (H,C) x2, "
                   "(C,H) differ from GPT-2's in the Newton-Schulz count.";
    if (A->approx)
        out[n++] = "Runs marked approximate (classes lidmuon, signdmuon, rmsspectral, and the "
                   "stable-rank trigger runs of theory/algorithms.md §2.3) are counted with the "
                   "LionMuon formula at P = muon_every_k; the paper's count does not cover "
                   "them, so their place on the Pareto front is indicative only.";
    return n;
}

/* ---- text ------------------------------------------------------------- */

static const char *model_name(const char *m)
{
    return !strcmp(m, "base") ? "GPT-2" : !strcmp(m, "llama") ? "LLaMA" : m;
}

static void text_num(lm_buf *b, const char *fmt, double v)
{
    if (isfinite(v))
        lm_buf_printf(b, fmt, v);
    else
        lm_buf_printf(b, "-");
}

static void text_verdicts(const audit_set *s, const audit_analysis *A, lm_buf *b)
{
    lm_buf_printf(b, "## Verdicts: \"%s\"\n\n", CLAIM);
    lm_buf_printf(b, "A baseline is dominated when P=2 has <= FLOPs and < loss, or < FLOPs and "
                     "<= loss; the claim holds in a cell when all four are present and "
                     "dominated.\n\n");
    lm_buf_printf(b, "| data set | model | P=2 run | P=2 on front (all / paper acc.) | holds | "
                     "not dominated |\n|---|---|---|---|---|---|\n");
    for (size_t c = 0; c < A->ncells; c++) {
        const audit_cell *C = &A->cells[c];
        if (C->claim < 0) {
            lm_buf_printf(b, "| %s | %s | (none) | - | - | - |\n", C->dataset,
                          model_name(C->model));
            continue;
        }
        lm_buf_printf(b, "| %s | %s | %s | %s / %s | %s |", C->dataset, model_name(C->model),
                      s->runs[C->claim].name,
                      front_of(C, C->front, (size_t)C->claim) ? "yes" : "no",
                      front_of(C, C->front_paper, (size_t)C->claim) ? "yes" : "no",
                      C->holds ? "yes" : "no");
        int any = 0;
        for (int k = 0; k < NBASE; k++)
            if (C->vs[k].run >= 0 && !C->vs[k].dominated)
                lm_buf_printf(b, "%s %s", any++ ? "," : "", BASELINES[k]);
            else if (C->vs[k].run < 0)
                lm_buf_printf(b, "%s %s (absent)", any++ ? "," : "", BASELINES[k]);
        lm_buf_printf(b, "%s |\n", any ? "" : " (none)");
    }
    lm_buf_printf(b, "\n");
}

static void text_headline(const audit_set *s, const audit_analysis *A, lm_buf *b)
{
    lm_buf_printf(b, "## Headline table (FineWeb, GPT-2; theory/algorithms.md §9)\n\n");
    lm_buf_printf(b, "| headline | run | label from args | best val (log) | table | agrees |\n");
    lm_buf_printf(b, "|---|---|---|---|---|---|\n");
    for (int h = 0; h < NHEAD; h++) {
        long i = find_run(s, HEADLINE[h].run);
        lm_buf_printf(b, "| %s | %s | %s | ", HEADLINE[h].headline, HEADLINE[h].run,
                      i >= 0 ? s->runs[i].label : "(not in DIR)");
        text_num(b, "%.4f", i >= 0 ? s->runs[i].best_val : NAN);
        lm_buf_printf(b, " | ");
        if (!A->have_table)
            lm_buf_printf(b, "(see §9) | - |\n");
        else if (A->table_state[h] < 0)
            lm_buf_printf(b, "(row names another run) | no |\n");
        else if (A->table_state[h] == 0)
            lm_buf_printf(b, "(row absent) | - |\n");
        else {
            double v = i >= 0 ? s->runs[i].best_val : NAN;
            lm_buf_printf(b, "%.4f | %s |\n", A->table[h],
                          isfinite(v) && fabs(v - A->table[h]) <= 5e-5 ? "yes" : "no");
        }
    }
    lm_buf_printf(b, "\n%s\n\n", A->have_table
                                      ? "agrees: the log value rounds to the table value "
                                        "(4 decimals)."
                                      : "Pass --headline-md theory/algorithms.md to print the "
                                        "table values beside the logs.");
}

/* The front in FLOPs order: on a front, loss falls as FLOPs rise, so it is
 * the by-loss order reversed. */
static void text_front(const audit_set *s, const audit_cell *C, const int *front,
                       const char *title, lm_buf *b)
{
    lm_buf_printf(b, "\n%s (FLOPs ascending):", title);
    for (size_t k = C->n; k-- > 0;) {
        size_t i = C->by_loss[k];
        if (front_of(C, front, i))
            lm_buf_printf(b, " %s (%.4e, %.4f);", s->runs[i].name, s->runs[i].flops,
                          s->runs[i].best_val);
    }
    lm_buf_printf(b, "\n");
}

static void text_cell(const audit_set *s, const audit_cell *C, lm_buf *b)
{
    lm_buf_printf(b, "## %s / %s (%s): %zu runs\n\n", C->dataset, C->model, model_name(C->model),
                  C->n);
    lm_buf_printf(b, "| run | label | class | iters | L | best val | total FLOPs | x model | "
                     "wall h | front (all / paper acc.) |\n"
                     "|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t k = 0; k < C->n; k++) {
        size_t i = C->by_loss[k];
        const audit_run *r = &s->runs[i];
        lm_buf_printf(b, "| %s | %s | %s | %ld | %ld | ", r->name, r->label, r->opt,
                      r->iterations, r->n_layer);
        text_num(b, "%.4f", r->best_val);
        lm_buf_printf(b, " | %.4e%s | %.3fx | ", r->flops, r->approximate ? " (approx)" : "",
                      r->flops / r->model_flops);
        text_num(b, "%.2f", r->wall / 3600.0);
        int fa = front_of(C, C->front, i), fp = front_of(C, C->front_paper, i);
        lm_buf_printf(b, " | %s |\n", fa || fp ? (fa ? (fp ? "yes / yes" : "yes / -") : "no / yes")
                                              : "");
    }
    text_front(s, C, C->front, "Pareto front, all runs", b);
    text_front(s, C, C->front_paper, "Pareto front, runs with the paper's accounting", b);
    lm_buf_printf(b, "\n");
    if (C->claim < 0) {
        lm_buf_printf(b, "No %s run in this cell: no verdict.\n\n", CLAIM_LABEL);
        return;
    }
    const audit_run *x = &s->runs[C->claim];
    lm_buf_printf(b, "Claim: %s (%s: %.4f, %.4e FLOPs): %s\n\n", CLAIM, x->name, x->best_val,
                  x->flops, C->holds ? "holds" : "does not hold");
    lm_buf_printf(b, "| baseline | run | best val | loss gap | FLOPs ratio | P=2 dominates | "
                     "baseline dominates P=2 |\n|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < NBASE; k++) {
        const audit_against *a = &C->vs[k];
        if (a->run < 0) {
            lm_buf_printf(b, "| %s | (absent) | - | - | - | - | - |\n", BASELINES[k]);
            continue;
        }
        lm_buf_printf(b, "| %s | %s | %.4f | %+.4f%s | %.4f | %s | %s |\n", BASELINES[k],
                      s->runs[a->run].name, s->runs[a->run].best_val, a->gap,
                      fabs(a->gap) < AUDIT_NOISE ? " (< 0.01)" : "", a->ratio,
                      a->dominated ? "yes" : "no", a->dominates_claim ? "yes" : "no");
    }
    lm_buf_printf(b, "\n");
}

static void text_report(const audit_set *s, const audit_analysis *A, lm_buf *b)
{
    lm_buf_printf(b, "# Audit of the paper's released runs\n\n");
    char *pd = lm_printable(s->dir);
    lm_buf_printf(b, "Directory: %s\nRuns read: %zu in %zu (data set, model) cells\n", pd,
                  s->nruns, A->ncells);
    free(pd);
    lm_buf_printf(b, "Folders without summary.json (skipped): ");
    for (size_t i = 0; i < s->nskipped; i++) {
        char *sk = lm_printable(s->skipped[i]);
        lm_buf_printf(b, "%s%s", i ? ", " : "", sk);
        free(sk);
    }
    lm_buf_printf(b, "%s\n", s->nskipped ? "" : "none");
    if (A->no_loss)
        lm_buf_printf(b, "Runs without a finite val_loss (left out of fronts and verdicts): %d\n",
                      A->no_loss);
    if (A->nonfinite)
        lm_buf_printf(b, "NaN/Infinity tokens read as null: %d\n", A->nonfinite);
    lm_buf_printf(b, "\n");
    text_verdicts(s, A, b);
    text_headline(s, A, b);
    for (size_t c = 0; c < A->ncells; c++)
        text_cell(s, &A->cells[c], b);
    const char *cv[8];
    int n = caveats(A, cv);
    lm_buf_printf(b, "## Caveats\n\n");
    for (int k = 0; k < n; k++)
        lm_buf_printf(b, "- %s\n", cv[k]);
}

/* ---- JSON ------------------------------------------------------------- */

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *json_run(const audit_run *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(r->name));
    json_object_set_new(o, "dataset", json_string(r->dataset));
    json_object_set_new(o, "model", json_string(r->model));
    json_object_set_new(o, "optimizer_class", json_string(r->opt));
    json_object_set_new(o, "label", json_string(r->label));
    json_object_set_new(o, "best_val_loss", jnum(r->best_val));
    json_object_set_new(o, "total_flops", jnum(r->flops));
    json_object_set_new(o, "wall_time", jnum(r->wall));
    json_object_set_new(o, "flops_accounting",
                        json_string(r->approximate ? "approximate" : "paper"));
    json_object_set_new(o, "flops_rule", json_string(r->flops_rule));
    json_object_set_new(o, "iterations", json_integer(r->iterations));
    json_object_set_new(o, "n_layer", json_integer(r->n_layer));
    json_object_set_new(o, "period", jnum(r->period));
    return o;
}

static json_t *json_cell(const audit_set *s, const audit_cell *C)
{
    json_t *o = json_object(), *runs = json_array(), *front = json_array(), *by = json_array(),
           *front_paper = json_array();
    for (size_t k = 0; k < C->n; k++) {
        json_array_append_new(runs, json_string(s->runs[C->idx[k]].name));
        json_array_append_new(by, json_string(s->runs[C->by_loss[k]].name));
        if (C->front[k])
            json_array_append_new(front, json_string(s->runs[C->idx[k]].name));
        if (C->front_paper[k])
            json_array_append_new(front_paper, json_string(s->runs[C->idx[k]].name));
    }
    json_object_set_new(o, "dataset", json_string(C->dataset));
    json_object_set_new(o, "model", json_string(C->model));
    json_object_set_new(o, "runs", runs);
    json_object_set_new(o, "by_best_val_loss", by);
    json_object_set_new(o, "pareto_front", front);
    json_object_set_new(o, "pareto_front_paper_accounting", front_paper);
    return o;
}

static json_t *json_verdict(const audit_set *s, const audit_cell *C)
{
    json_t *o = json_object(), *against = json_array(), *missing = json_array();
    json_object_set_new(o, "dataset", json_string(C->dataset));
    json_object_set_new(o, "model", json_string(C->model));
    json_object_set_new(o, "claim", json_string(CLAIM));
    json_object_set_new(o, "claim_run", json_string(s->runs[C->claim].name));
    json_object_set_new(o, "holds", json_boolean(C->holds));
    json_object_set_new(o, "claim_on_front", json_boolean(front_of(C, C->front, (size_t)C->claim)));
    json_object_set_new(o, "claim_on_front_paper_accounting",
                        json_boolean(front_of(C, C->front_paper, (size_t)C->claim)));
    for (int k = 0; k < NBASE; k++) {
        const audit_against *a = &C->vs[k];
        if (a->run < 0) {
            json_array_append_new(missing, json_string(BASELINES[k]));
            continue;
        }
        json_t *x = json_object();
        json_object_set_new(x, "baseline", json_string(BASELINES[k]));
        json_object_set_new(x, "run", json_string(s->runs[a->run].name));
        json_object_set_new(x, "dominated", json_boolean(a->dominated));
        json_object_set_new(x, "baseline_dominates_claim", json_boolean(a->dominates_claim));
        json_object_set_new(x, "loss_gap", jnum(a->gap));
        json_object_set_new(x, "flops_ratio", jnum(a->ratio));
        json_object_set_new(x, "gap_below_noise_caveat", json_boolean(fabs(a->gap) < AUDIT_NOISE));
        json_array_append_new(against, x);
    }
    json_object_set_new(o, "against", against);
    json_object_set_new(o, "baselines_absent", missing);
    return o;
}

static json_t *json_headline(const audit_set *s, const audit_analysis *A)
{
    json_t *arr = json_array();
    for (int h = 0; h < NHEAD; h++) {
        long i = find_run(s, HEADLINE[h].run);
        json_t *o = json_object();
        json_object_set_new(o, "headline", json_string(HEADLINE[h].headline));
        json_object_set_new(o, "run", json_string(HEADLINE[h].run));
        json_object_set_new(o, "found", json_boolean(i >= 0));
        json_object_set_new(o, "label", i >= 0 ? json_string(s->runs[i].label) : json_null());
        json_object_set_new(o, "best_val_loss", jnum(i >= 0 ? s->runs[i].best_val : NAN));
        if (A->have_table)
            json_object_set_new(o, "table_value",
                                jnum(A->table_state[h] == 1 ? A->table[h] : NAN));
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *json_report(const audit_set *s, const audit_analysis *A)
{
    json_t *o = json_object(), *runs = json_array(), *cells = json_array(),
           *verdicts = json_array(), *cav = json_array(), *skipped = json_array();
    for (size_t i = 0; i < s->nruns; i++)
        json_array_append_new(runs, json_run(&s->runs[i]));
    for (size_t c = 0; c < A->ncells; c++) {
        json_array_append_new(cells, json_cell(s, &A->cells[c]));
        if (A->cells[c].claim >= 0)
            json_array_append_new(verdicts, json_verdict(s, &A->cells[c]));
    }
    const char *cv[8];
    int n = caveats(A, cv);
    for (int k = 0; k < n; k++)
        json_array_append_new(cav, json_string(cv[k]));
    for (size_t i = 0; i < s->nskipped; i++)
        json_array_append_new(skipped, json_string(s->skipped[i]));
    json_object_set_new(o, "dir", json_string(s->dir));
    json_object_set_new(o, "runs", runs);
    json_object_set_new(o, "cells", cells);
    json_object_set_new(o, "verdicts", verdicts);
    json_object_set_new(o, "headline", json_headline(s, A));
    json_object_set_new(o, "caveats", cav);
    json_object_set_new(o, "skipped", skipped);
    json_object_set_new(o, "nonfinite_tokens_as_null", json_integer(A->nonfinite));
    return o;
}

int audit_render(const audit_set *s, int json, const char *headline_md, lm_buf *out,
                 lm_error *e)
{
    audit_analysis A;
    memset(&A, 0, sizeof A);
    for (int h = 0; h < NHEAD; h++)
        A.table[h] = NAN;
    if (headline_md && read_headline_md(headline_md, &A, e) != 0)
        return -1;
    group_cells(s, &A);
    int rc = 0;
    if (json) {
        json_t *root = json_report(s, &A);
        char *txt = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(root);
        if (!txt)
            rc = lm_fail(e, "cannot encode the JSON report (a string is not UTF-8?)");
        else
            lm_buf_printf(out, "%s\n", txt);
        free(txt);
    } else {
        text_report(s, &A, out);
    }
    analysis_free(&A);
    return rc;
}
