/* select.c - learning-rate selection for the paper experiment (paper.h):
 * per model and config, the factor of the tuning grid with the lowest best
 * validation loss at the tuning seed (a missing or diverged run counts as
 * +inf), written to DIR/tuned.json. */
#include "paper_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/fs.h"

/* {"scale": the chosen factor, "losses": the best validation loss of each
 * factor (null: missing or diverged)}; ties keep the smaller factor.  One
 * progress line on stderr per (model, config). */
static json_t *select_config(const char *dir, int mi, int ci, const double *g, int ng)
{
    json_t *losses = json_array();
    double best = INFINITY, best_s = g[0];
    int done = 0;
    for (int k = 0; k < ng; k++) {
        char *run = pp_tune_dir(dir, mi, ci, g[k]);
        double l = pp_summary_value(run, "best_val_loss");
        free(run);
        json_array_append_new(losses, isfinite(l) ? json_real(l) : json_null());
        done += isfinite(l);
        if (isfinite(l) && l < best) {
            best = l;
            best_s = g[k];
        }
    }
    if (done)
        fprintf(stderr, "paper select: %s %s: factor %g (best validation loss %.4f); %d of %d "
                        "tuning runs finished\n", PP_MODELS[mi], PP_CONFIGS[ci].name, best_s, best,
                done, ng);
    else
        fprintf(stderr, "paper select: %s %s: no tuning run finished (of %d); factor %g by "
                        "default\n", PP_MODELS[mi], PP_CONFIGS[ci].name, ng, best_s);
    fflush(stderr);
    return json_pack("{s:f,s:o}", "scale", best_s, "losses", losses);
}

int paper_select(const char *dir, int quick, lm_error *e)
{
    const double *g;
    int ng;
    pp_grid(quick, &g, &ng);
    json_t *root = json_object();
    for (int mi = 0; mi < PP_NMODEL; mi++) {
        json_t *per = json_object();
        for (int ci = 0; ci < PP_NCONF; ci++)
            json_object_set_new(per, PP_CONFIGS[ci].name, select_config(dir, mi, ci, g, ng));
        json_object_set_new(root, PP_MODELS[mi], per);
    }
    json_t *gj = json_array();
    for (int k = 0; k < ng; k++)
        json_array_append_new(gj, json_real(g[k]));
    json_object_set_new(root, "grid", gj);
    char *path = pp_tuned_path(dir);
    char *txt = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    int rc = lm_write_atomic(path, txt, strlen(txt), e);
    free(txt);
    free(path);
    json_decref(root);
    return rc;
}
