/* select.c - learning-rate selection for the paper experiment (paper.h):
 * per model and config, the factor of its grid with the lowest mean best
 * validation loss over the tuning seeds (a missing or diverged run counts
 * as +inf), written to DIR/tuned.json; a pick at the grid's smallest or
 * largest factor grows the grid by a factor 2 on that side (DIR/grid.json,
 * within [PP_FACTOR_MIN, PP_FACTOR_MAX]) and makes paper_select return
 * PAPER_EXTENDED, so that the tuning stage runs the new factors. */
#include "paper_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/fs.h"

/* Grow the grid g (n factors, ascending) at the pick's end; returns 1 when
 * it grew. */
static int grow(double *g, int *n, int pick)
{
    if (*n >= PP_MAXFACTOR)
        return 0;
    if (pick == 0 && g[0] / 2 >= PP_FACTOR_MIN * (1 - 1e-12)) {
        memmove(g + 1, g, (size_t)*n * sizeof *g);
        g[0] /= 2;
        (*n)++;
        return 1;
    }
    if (pick == *n - 1 && g[*n - 1] * 2 <= PP_FACTOR_MAX * (1 + 1e-12)) {
        g[*n] = g[*n - 1] * 2;
        (*n)++;
        return 1;
    }
    return 0;
}

/* {"scale", "edge", "grid", "losses" (mean over the tuning seeds, null when
 * a seed is missing or diverged), "seed_losses"}; ties keep the smaller
 * factor.  *grew: the grid grew (written back into g, n).  One progress
 * line on stderr per (model, config). */
static json_t *select_config(const char *dir, int mi, int ci, double *g, int *n, int *grew)
{
    json_t *losses = json_array(), *seeds = json_array(), *grid = json_array();
    double best = INFINITY;
    int pick = 0, done = 0, total = 0;
    for (int k = 0; k < *n; k++) {
        double sum = 0;
        json_t *per = json_array();
        for (int t = 0; t < pp_ntune(); t++) {
            char *run = pp_tune_dir(dir, mi, ci, g[k], t);
            double l = pp_summary_value(run, "best_val_loss");
            free(run);
            total++;
            done += isfinite(l);
            sum += isfinite(l) ? l : INFINITY;
            json_array_append_new(per, isfinite(l) ? json_real(l) : json_null());
        }
        double m = sum / pp_ntune();
        json_array_append_new(losses, isfinite(m) ? json_real(m) : json_null());
        json_array_append_new(seeds, per);
        json_array_append_new(grid, json_real(g[k]));
        if (m < best) {
            best = m;
            pick = k;
        }
    }
    double scale = g[pick];
    int edge = pick == 0 || pick == *n - 1;
    *grew = edge && isfinite(best) && grow(g, n, pick);
    if (isfinite(best))
        fprintf(stderr, "paper select: %s %s: factor %g (mean best validation loss %.4f over %d "
                        "tuning seeds); %d of %d tuning runs finished%s\n",
                PP_MODELS[mi], PP_CONFIGS[ci].name, scale, best, pp_ntune(), done, total,
                !edge ? "" : *grew ? (pick == 0 ? "; at the grid's low end, factor /2 added"
                                                : "; at the grid's high end, factor x2 added")
                                   : "; at the grid's end, which is capped");
    else
        fprintf(stderr, "paper select: %s %s: no factor finished on every tuning seed (%d of %d "
                        "tuning runs finished); factor %g by default\n",
                PP_MODELS[mi], PP_CONFIGS[ci].name, done, total, scale);
    fflush(stderr);
    return json_pack("{s:f,s:b,s:o,s:o,s:o}", "scale", scale, "edge", edge && !*grew, "grid",
                     grid, "losses", losses, "seed_losses", seeds);
}

static int write_json(json_t *root, char *path, lm_error *e)
{
    char *txt = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    int rc = lm_write_atomic(path, txt, strlen(txt), e);
    free(txt);
    free(path);
    return rc;
}

int paper_select(const char *dir, int quick, lm_error *e)
{
    json_t *root = json_object(), *gridj = json_object(), *old = pp_load_grid(dir);
    int grew = 0;
    for (int mi = 0; mi < PP_NMODEL; mi++) {
        json_t *per = json_object(), *gper = json_object();
        for (int ci = 0; ci < PP_NCONF; ci++) {
            double g[PP_MAXFACTOR];
            int n = pp_grid_of(old, quick, mi, ci, g), gr;
            json_object_set_new(per, PP_CONFIGS[ci].name, select_config(dir, mi, ci, g, &n, &gr));
            grew += gr;
            json_t *ga = json_array();
            for (int k = 0; k < n; k++)
                json_array_append_new(ga, json_real(g[k]));
            json_object_set_new(gper, PP_CONFIGS[ci].name, ga);
        }
        json_object_set_new(root, PP_MODELS[mi], per);
        json_object_set_new(gridj, PP_MODELS[mi], gper);
    }
    json_decref(old);
    int rc = write_json(root, pp_tuned_path(dir), e);
    if (rc == 0)
        rc = write_json(gridj, lm_path_join(dir, "grid.json"), e);
    json_decref(root);
    json_decref(gridj);
    if (rc == 0 && grew)
        fprintf(stderr, "lionmuon paper select: %d grids grew at an end; run the tuning stage "
                        "again\n", grew);
    return rc != 0 ? -1 : grew ? PAPER_EXTENDED : 0;
}
