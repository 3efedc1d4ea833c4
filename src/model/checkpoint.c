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

/* __metadata__: the configuration and flags, the position in the run and
 * how the data and random streams continue from it. */
static void set_meta(st_file *f, const train_config *c, const progress_state *ps)
{
    char *cfg = train_config_json(c);
    st_set_meta(f, "format", "lionmuon-checkpoint-1");
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
}

/* Every parameter (theory/models.md names), then every parameter's state. */
int ckpt_write(const run *r, const progress_state *ps, lm_error *e)
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
        set_meta(f, r->c, ps);
        char *path = lm_path_join(r->c->out_dir, CKPT_NAME);
        rc = st_write(f, path, e);
        free(path);
    }
    st_free(f);
    return rc;
}

static int meta_get_double(const st_file *f, const char *path, const char *k, double *v,
                           lm_error *e)
{
    const char *s = st_get_meta(f, k);
    char *end;
    if (!s)
        return lm_fail(e, "%s: __metadata__ has no '%s'", path, k);
    *v = strtod(s, &end);
    if (end == s || *end)
        return lm_fail(e, "%s: __metadata__ '%s' = '%s' is not a number", path, k, s);
    return 0;
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

/* The position in the run from __metadata__; the step must lie in the
 * schedule. */
static int read_progress(const st_file *f, const char *path, const train_config *c,
                         progress_state *ps, lm_error *e)
{
    double step = 0, bvs = 0;
    int rc = meta_get_double(f, path, "step", &step, e) ||
             meta_get_double(f, path, "tokens", &ps->tokens, e) ||
             meta_get_double(f, path, "flops", &ps->flops, e) ||
             meta_get_double(f, path, "wall_s", &ps->wall_s, e) ||
             meta_get_double(f, path, "best_val_loss", &ps->best_val, e) ||
             meta_get_double(f, path, "best_val_step", &bvs, e) ? -1 : 0;
    if (!rc && (step < 0 || step > c->iterations || step != floor(step)))
        rc = lm_fail(e, "%s: step %g is outside [0, --iterations %ld]", path, step,
                     c->iterations);
    ps->step = (long)step;
    ps->best_val_step = (long)bvs;
    return rc;
}

/* The run's parameters, optimizer state and progress from out_dir's
 * checkpoint, which must have been written with this configuration. */
int ckpt_read(run *r, progress_state *ps, lm_error *e)
{
    const train_config *c = r->c;
    char *path = lm_path_join(c->out_dir, CKPT_NAME);
    st_file *f = NULL;
    int rc = st_read(path, &f, e);
    if (!rc) {
        char *cfg = train_config_json(c);
        const char *stored = st_get_meta(f, "config");
        if (!stored || strcmp(stored, cfg))
            rc = lm_fail(e, "%s: the stored configuration differs from this run's "
                         "(stored %.300s)", path, stored ? stored : "(none)");
        free(cfg);
    }
    for (int i = 0; i < r->nt && !rc; i++)
        rc = load_param(f, path, model_param_at(r->m, i), e) || state_load(r, f, path, i, e)
                 ? -1 : 0;
    if (!rc)
        rc = read_progress(f, path, c, ps, e);
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

/* Keep the CSV header and the rows whose first field (the step) is <= step. */
void ckpt_load_csv_prefix(const char *dir, const char *name, long step, lm_buf *b,
                          const char *header)
{
    char *path = lm_path_join(dir, name);
    FILE *fp = fopen(path, "r");
    free(path);
    lm_buf_printf(b, "%s", header);
    if (!fp)
        return;
    char *line = NULL;
    size_t cap = 0;
    int first = 1;
    while (getline(&line, &cap, fp) > 0) {
        if (first) {
            first = 0;
            continue;
        }
        char *end;
        long s = strtol(line, &end, 10);
        if (end != line && *end == ',' && s <= step)
            lm_buf_printf(b, "%s", line);
    }
    free(line);
    fclose(fp);
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
