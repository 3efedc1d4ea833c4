/* cmd_presets.c - `lionmuon presets`: the paper's released runs as presets
 * (preset.h): the list with each run's best validation loss, one run's
 * flags, or the flags derived from a summary.json. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lionmuon/preset.h"

static const char USAGE[] =
    "lionmuon presets [--json]            the released runs, reproducible or not\n"
    "       lionmuon presets RUN [--json]        the flags of RUN\n"
    "       lionmuon presets --from FILE [--json]  the flags derived from a summary.json";
static const char ABOUT[] =
    "The paper's 170 released runs (brain-lab-research/lion-muon, exps/NAME/summary.json,\n"
    "kept in the tool as a table) with their best validation loss (the minimum of the\n"
    "logged val_loss).  A run of the classes lion_muon, sign_muon or adamw resolves to\n"
    "the flags that reproduce its optimizer configuration exactly (theory/algorithms.md §9):\n"
    "`lionmuon train --preset RUN` (and golden, step, bench train) sets them, and flags\n"
    "given there override them (sizes, data, steps).  Runs of other classes (lidmuon,\n"
    "signdmuon, rmsspectral) are listed as not reproducible, with the reason.\n"
    "--from FILE derives the flags from any run's summary.json or args object, as\n"
    "--preset-from FILE does.";

static void print_flags(const preset *p)
{
    for (int i = 0; i < p->nflags; i++)
        printf("  %s%s%s\n", p->flags[i].flag, p->flags[i].value[0] ? " " : "",
               p->flags[i].value);
}

static json_t *preset_json(const preset *p)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:b}", "name", p->name, "class", p->opt_class,
                          "dataset", p->dataset, "reproducible", p->ok);
    json_object_set_new(o, "best_val", isnan(p->best_val) ? json_null() : json_real(p->best_val));
    if (!p->ok) {
        json_object_set_new(o, "reason", json_string(p->reason));
        return o;
    }
    json_t *a = json_array();
    for (int i = 0; i < p->nflags; i++) {
        json_array_append_new(a, json_string(p->flags[i].flag));
        if (p->flags[i].value[0])
            json_array_append_new(a, json_string(p->flags[i].value));
    }
    json_object_set_new(o, "flags", a);
    return o;
}

static void print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    printf("%s\n", s ? s : "null");
    free(s);
    json_decref(o);
}

/* One preset: a header line and its flags, one per line. */
static int show_one(const preset *p, int json)
{
    if (json) {
        print_json(preset_json(p));
    } else {
        printf("%s: class %s%s%s", p->name, p->opt_class, p->dataset[0] ? ", data " : "",
               p->dataset);
        if (!isnan(p->best_val))
            printf(", best validation loss %.4f", p->best_val);
        printf("\n");
        if (p->ok)
            print_flags(p);
        else
            printf("  not reproducible: %s\n", p->reason);
    }
    return p->ok ? 0 : 1;
}

/* Every released run: one line each, then the count. */
static int list_all(int json, lm_error *e)
{
    int n = preset_count(), nok = 0;
    json_t *arr = json ? json_array() : NULL;
    if (!json)
        printf("%-36s %-12s %-11s %9s  %s\n", "run", "class", "data", "best val", "preset");
    for (int i = 0; i < n; i++) {
        preset p;
        if (preset_at(i, &p, e)) {
            json_decref(arr);
            return -1;
        }
        nok += p.ok;
        if (json) {
            json_array_append_new(arr, preset_json(&p));
            continue;
        }
        printf("%-36s %-12s %-11s %9.4f  %s%s\n", p.name, p.opt_class, p.dataset, p.best_val,
               p.ok ? "yes" : "not reproducible: ", p.ok ? "" : p.reason);
    }
    if (json)
        print_json(arr);
    else
        printf("%d released runs: %d resolve to presets, %d are not reproducible\n", n, nok,
               n - nok);
    return 0;
}

int cmd_presets(int argc, char **argv)
{
    lm_error e = {{0}};
    const char *from = NULL;
    int json = 0;
    cli_flag flags[] = {
        {"--from", FLAG_STRING, &from, "FILE: derive the flags from a summary.json or args", 0},
        {"--json", FLAG_BOOL, &json, "print JSON", 0},
    };
    const char *pos[1];
    int npos, help;
    if (cli_parse(argc, argv, flags, 2, pos, 1, &npos, &help, &e) != 0) {
        fprintf(stderr, "lionmuon presets: %s\n", e.msg);
        return 2;
    }
    if (help) {
        cli_print_help(stdout, USAGE, ABOUT, flags, 2);
        return 0;
    }
    if (npos && from) {
        fprintf(stderr, "lionmuon presets: give RUN or --from FILE, not both\n");
        return 2;
    }
    preset p;
    int rc = 0;
    if (from)
        rc = preset_from_file(from, &p, &e);
    else if (npos)
        rc = preset_find(pos[0], &p, &e);
    else
        rc = list_all(json, &e);
    if (rc) {
        fprintf(stderr, "lionmuon presets: %s\n", e.msg);
        return 2;
    }
    return from || npos ? show_one(&p, json) : 0;
}
