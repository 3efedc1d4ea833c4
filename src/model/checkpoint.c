/* checkpoint.c - checkpoint.safetensors: writing it, reading it back for
 * --resume (with the CSV rows up to its step), and the stored flags
 * (train_checkpoint_argv).  Optimizer state goes through optstate.h, the
 * serialisation `lionmuon step` shares. */
#include "train_impl.h"

#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lionmuon/fs.h"
#include "lionmuon/optstate.h"

#define CKPT_NAME "checkpoint.safetensors"

void ckpt_meta_double(st_file *f, const char *k, double v)
{
    char b[64];
    snprintf(b, sizeof b, "%.17g", v);
    st_set_meta(f, k, b);
}

void ckpt_meta_long(st_file *f, const char *k, long v)
{
    char b[64];
    snprintf(b, sizeof b, "%ld", v);
    st_set_meta(f, k, b);
}

int ckpt_add_param(st_file *f, const char *key, const model_param *p, const double *data,
                   lm_error *e)
{
    int64_t shape[2] = {p->shape[0], p->shape[1]};
    return st_add_f64(f, key, p->ndim, shape, data, e);
}

/* Parameter i's state as optstate.h stores it: under NAME's keys, of the
 * parameter's shape (its tensor in the checkpoint is NAME itself). */
static int state_add(const run *r, st_file *f, int i, lm_error *e)
{
    const model_param *p = model_param_at(r->m, i);
    int64_t shape[2] = {p->shape[0], p->shape[1]};
    optstate_param sp = {p->name, p->name, p->ndim, shape};
    return optstate_add(f, &sp, r->os, i, e);
}

static int state_load(run *r, const st_file *f, const char *path, int i, lm_error *e)
{
    const model_param *p = model_param_at(r->m, i);
    int64_t shape[2] = {p->shape[0], p->shape[1]};
    optstate_param sp = {p->name, p->name, p->ndim, shape};
    return optstate_load(f, path, &sp, OPTSTATE_REQUIRED, r->os, i, e);
}

/* FNV-1a, 64 bits, from basis h. */
static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

void ckpt_run_id(const run *r, char id[33])
{
    char *cfg = train_config_json(r->c), fp[32];
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)data_fingerprint(r->d));
    uint64_t h[2] = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull};
    for (int k = 0; k < 2; k++) {
        h[k] = fnv(h[k], cfg);
        h[k] = fnv(h[k], fp);
        h[k] = fnv(h[k], LIONMUON_VERSION);
        h[k] = fnv(h[k], k ? "run id, second half" : "run id, first half");
    }
    free(cfg);
    snprintf(id, 33, "%016llx%016llx", (unsigned long long)h[0], (unsigned long long)h[1]);
}

/* The latest diagnostics as a JSON array (null for NaN). */
static char *diag_json(const progress_state *ps)
{
    json_t *a = json_array();
    for (int j = 0; j < NDIAG; j++)
        json_array_append_new(a, isfinite(ps->diag_last[j]) ? json_real(ps->diag_last[j])
                                                            : json_null());
    char *s = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(a);
    return s;
}

static void set_meta_hex(st_file *f, const char *k, uint64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%016llx", (unsigned long long)v);
    st_set_meta(f, k, b);
}

/* __metadata__: the identity, the configuration and flags, the position in
 * the run and how the data and random streams continue from it, the logs. */
static void set_meta(st_file *f, const run *r, const progress_state *ps, const lm_buf *metrics,
                     const lm_buf *diags)
{
    const train_config *c = r->c;
    char *cfg = train_config_json(c);
    st_set_meta(f, "format", CKPT_FORMAT);
    st_set_meta(f, "version", LIONMUON_VERSION);
    st_set_meta(f, "run_id", ps->run_id);
    set_meta_hex(f, "data_fingerprint", data_fingerprint(r->d));
    st_set_meta(f, "config", cfg);
    free(cfg);
    st_set_meta(f, "argv", c->argv_json ? c->argv_json : "[]");
    ckpt_meta_long(f, "step", ps->step);
    ckpt_meta_long(f, "seed", (long)c->seed);
    ckpt_meta_long(f, "data_position", ps->step);
    st_set_meta(f, "data_stream", "training batch k is a pure function of (seed, "
                "split, k): the next batch is k = step");
    st_set_meta(f, "rng", "init: GSL mt19937(seed), fully consumed at init; data: "
                "xoshiro256** seeded by splitmix64(seed, split, k); no other randomness");
    ckpt_meta_double(f, "tokens", ps->tokens);
    ckpt_meta_double(f, "flops", ps->flops);
    ckpt_meta_double(f, "wall_s", ps->wall_s);
    ckpt_meta_double(f, "best_val_loss", ps->best_val);
    ckpt_meta_long(f, "best_val_step", ps->best_val_step);
    ckpt_meta_double(f, "train_loss", ps->train_loss);
    ckpt_meta_double(f, "last_val_loss", ps->last_val);
    ckpt_meta_long(f, "diag_step", ps->diag_step);
    char *dj = diag_json(ps);
    st_set_meta(f, "diag_last", dj);
    free(dj);
    st_set_meta(f, "metrics_csv", metrics->s ? metrics->s : "");
    st_set_meta(f, "diagnostics_csv", diags->s ? diags->s : "");
}

/* Every parameter (theory/models.md names), then every parameter's state. */
int ckpt_write(const run *r, const progress_state *ps, const lm_buf *metrics,
               const lm_buf *diags, lm_error *e)
{
    st_file *f = st_new();
    int rc = 0;
    for (int i = 0; i < r->nt && !rc; i++) {
        const model_param *p = model_param_at(r->m, i);
        rc = ckpt_add_param(f, p->name, p, p->w, e);
    }
    for (int i = 0; i < r->nt && !rc; i++)
        rc = state_add(r, f, i, e);
    if (!rc) {
        set_meta(f, r, ps, metrics, diags);
        char *path = lm_path_join(r->c->out_dir, CKPT_NAME);
        rc = st_write(f, path, e);
        free(path);
    }
    st_free(f);
    return rc;
}

/* A parameter's values: floating point, of the model's shape, finite. */
static int load_param(const st_file *f, const char *path, const model_param *p, lm_error *e)
{
    const char *name = p->name;
    st_tensor *t = st_get(f, name);
    if (!t)
        return lm_fail(e, "%s: tensor %s is missing", path, name);
    if (!t->f)
        return lm_fail(e, "%s: tensor %s is not floating point", path, name);
    int ok = t->ndim == p->ndim && t->shape[0] == p->shape[0] &&
             (p->ndim == 1 || t->shape[1] == p->shape[1]);
    if (!ok)
        return lm_fail(e, "%s: tensor %s has another shape than the model's [%d%s%.0d]",
                       path, name, p->shape[0], p->ndim == 2 ? ", " : "",
                       p->ndim == 2 ? p->shape[1] : 0);
    long bad = lm_first_nonfinite(t->numel, t->f);
    if (bad >= 0)
        return lm_fail(e, "%s: tensor %s has a non-finite value at element %ld", path, name,
                       bad);
    memcpy(p->w, t->f, sizeof(double) * p->numel);
    return 0;
}

/* What this run expects of its checkpoint's __metadata__ (ckptmeta.c). */
static void expectations(const run *r, ckpt_expect *x, char *cfg, const char *run_id,
                         const char *fingerprint, const char *diag_header)
{
    const train_config *c = r->c;
    x->config_json = cfg;
    x->run_id = run_id;
    x->data_fingerprint = fingerprint;
    x->data_what = c->data.train_path ? "--train-data/--val-data" : "the synthetic corpus";
    x->iterations = c->iterations;
    x->seed = (long)c->seed;
    x->diag_every = c->diag_every;
    x->tokens_per_step = (double)c->batch_size * c->model.block_size;
    x->metrics_header = runlog_metrics_header;
    x->diag_header = diag_header;
}

/* The run id of DIR/summary.json, when it has one, must be the checkpoint's:
 * otherwise the directory mixes two runs. */
static int check_summary_id(const char *dir, const progress_state *ps, lm_error *e)
{
    char *path = lm_path_join(dir, "summary.json");
    unsigned char *buf = NULL;
    size_t len = 0;
    lm_error ignored;
    json_t *j = NULL;
    struct stat st;
    if (lstat(path, &st) == 0 && lm_read_file(path, (size_t)64 << 20, &buf, &len, &ignored) == 0)
        j = json_loadb((const char *)buf, len, 0, NULL);
    free(buf);
    const char *id = json_string_value(json_object_get(j, "run_id"));
    int rc = 0;
    if (id && strcmp(id, ps->run_id))
        rc = lm_fail(e, "%s: run %s, but the checkpoint is of run %s: the directory mixes "
                        "two runs", path, id, ps->run_id);
    json_decref(j);
    free(path);
    return rc;
}

/* The run's parameters, optimizer state, progress and logs from out_dir's
 * checkpoint, which must be this run's (see train_impl.h). */
int ckpt_read(run *r, progress_state *ps, lm_buf *metrics, lm_buf *diags, lm_error *e)
{
    const train_config *c = r->c;
    char *path = lm_path_join(c->out_dir, CKPT_NAME);
    st_file *f = NULL;
    int rc = st_read(path, &f, e);
    if (!rc) {
        char id[33], fp[32];
        ckpt_run_id(r, id);
        snprintf(fp, sizeof fp, "%016llx", (unsigned long long)data_fingerprint(r->d));
        lm_buf dh = {0};
        runlog_diag_header(&dh);
        char *cfg = train_config_json(c);
        ckpt_expect x;
        expectations(r, &x, cfg, id, fp, dh.s);
        rc = ckpt_check_meta(f, path, &x, ps, metrics, diags, e) ||
                     check_summary_id(c->out_dir, ps, e) ? -1 : 0;
        free(cfg);
        lm_buf_free(&dh);
    }
    for (int i = 0; i < r->nt && !rc; i++)
        rc = load_param(f, path, model_param_at(r->m, i), e) || state_load(r, f, path, i, e)
                 ? -1 : 0;
    st_free(f);
    free(path);
    return rc;
}

int train_checkpoint_argv(const char *dir, char **argv_json, lm_error *e)
{
    char *path = lm_path_join(dir, CKPT_NAME);
    st_file *f;
    int rc = 0;
    if (st_read(path, &f, e)) {
        free(path);
        return lm_wrap(e, "--resume");
    }
    const char *a = st_get_meta(f, "argv");
    if (a)
        *argv_json = lm_strdup(a);
    else
        rc = lm_fail(e, "--resume: %s has no __metadata__ 'argv' (not a training "
                     "checkpoint?)", path);
    st_free(f);
    free(path);
    return rc;
}

/* A run killed during an atomic write leaves its temporary file
 * (NAME.tmp.XXXXXX, see lm_write_atomic) beside the intact NAME; a resumed
 * run removes them. */
void ckpt_remove_stale_temporaries(const char *dir)
{
    char *pat = lm_path_join(dir, "*.tmp.??????");
    glob_t g;
    if (glob(pat, 0, NULL, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; i++)
            unlink(g.gl_pathv[i]);
    globfree(&g);
    free(pat);
}
