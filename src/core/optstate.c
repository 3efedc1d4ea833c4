/* optstate.c - one parameter's optimizer state as safetensors tensors
 * (optstate.h): the key names, and the checks a loaded state must pass. */
#include "lionmuon/optstate.h"

#include <stdlib.h>
#include <string.h>

/* The suffixes of buffer 0 and buffer 1 for each kind of rule. */
static const char *suffix_of(int adamw, int which)
{
    if (!adamw)
        return "momentum";
    return which == 0 ? "exp_avg" : "exp_avg_sq";
}

/* Buffers a tensor keeps: 2 for AdamW (exp_avg_sq exists), 1 otherwise. */
static int nbuffers(opt_state *s, int i)
{
    return opt_buffer(s, i, 1) ? 2 : 1;
}

static char *state_key(const char *name, const char *suffix)
{
    lm_buf b = {0};
    lm_buf_printf(&b, "state.%s.%s", name, suffix);
    return b.s;
}

int optstate_add_prefixed(st_file *f, const char *prefix, const optstate_param *p,
                          opt_state *s, int i, lm_error *e)
{
    int nb = nbuffers(s, i), rc = 0;
    for (int which = 0; which < nb && rc == 0; which++) {
        lm_buf key = {0};
        lm_buf_printf(&key, "%sstate.%s.%s", prefix, p->name, suffix_of(nb == 2, which));
        rc = st_add_f64(f, key.s, p->ndim, p->shape, opt_buffer(s, i, which), e);
        lm_buf_free(&key);
    }
    return rc;
}

int optstate_add(st_file *f, const optstate_param *p, opt_state *s, int i, lm_error *e)
{
    return optstate_add_prefixed(f, "", p, s, i, e);
}

static int same_shape(const st_tensor *t, const optstate_param *p)
{
    if (t->ndim != p->ndim)
        return 0;
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] != p->shape[d])
            return 0;
    return 1;
}

/* The checks of one state tensor t stored under key, then the copy into buf.
 * A second moment is an average of squares: a negative one would make
 * AdamW's sqrt(v) NaN, so it marks a corrupt file. */
static int load_one(const st_tensor *t, const char *path, const char *key,
                    const optstate_param *p, int second_moment, double *buf, lm_error *e)
{
    if (!t->f)
        return lm_fail(e, "%s: tensor %s must be floating point", path, key);
    if (!same_shape(t, p))
        return lm_fail(e, "%s: tensor %s has a different shape from %s", path, key,
                       p->param_key);
    long bad = lm_first_nonfinite(t->numel, t->f);
    if (bad >= 0)
        return lm_fail(e, "%s: tensor %s has a non-finite value at element %ld", path, key, bad);
    if (second_moment)
        for (size_t k = 0; k < t->numel; k++)
            if (t->f[k] < 0)
                return lm_fail(e, "%s: tensor %s has a negative second moment at element %zu",
                               path, key, k);
    memcpy(buf, t->f, t->numel * sizeof(double));
    return 0;
}

int optstate_load(const st_file *f, const char *path, const optstate_param *p,
                  optstate_absent absent, opt_state *s, int i, lm_error *e)
{
    int nb = nbuffers(s, i), rc = 0;
    for (int which = 0; which < nb && rc == 0; which++) {
        char *key = state_key(p->name, suffix_of(nb == 2, which));
        const st_tensor *t = st_get(f, key);
        if (t)
            rc = load_one(t, path, key, p, which == 1, opt_buffer(s, i, which), e);
        else if (absent == OPTSTATE_REQUIRED)
            rc = lm_fail(e, "%s: tensor %s is missing", path, key);
        free(key);
    }
    return rc;
}
