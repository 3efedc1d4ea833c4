/* cmd_predict.c - `lionmuon predict`: the tuned bound's iterations and compute
 * per period P, and P*.  Flag parsing and dispatch; the formulas are in
 * src/synth/bounds.c and src/synth/validate.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lionmuon/fs.h"
#include "lionmuon/validate.h"

static const char PREDICT_USAGE[] = "lionmuon predict --constants FILE --eps E [cost flags]";
static const char PREDICT_ABOUT[] =
    "Evaluate the tuned bound (theory/bounds.md, Cor. 2) on the constants in FILE\n"
    "(as written by synth) for every P in {1,2,3,4,5,8,10,20,50,100,inf}: the\n"
    "iteration count T(eps; P) with eta, beta and theta = eta_L/eta_M tuned, the\n"
    "cost per iteration c(P) = c_grad + c_msign/P + c_sign (1 - 1/P) and the\n"
    "compute C(eps, P) = T c(P).  Prints JSON with P_star (the P of the smallest\n"
    "compute) and periods.  The cost flags override the file's \"cost\" object.\n"
    "When FILE has sigma_F_of_kappa (synth writes it), T is minimised over kappa\n"
    "too.  --currency common: the target is ||grad f||_N with sign steps credited\n"
    "by the file's g_ratio (theory/bounds.md, Cor. 1).";

int cmd_predict(int argc, char **argv)
{
    const char *constants = NULL, *variant = "refined", *out = NULL, *currency = "mixed";
    double eps = 0;
    val_cost cost = {-1, -1, -1}, fc;
    cli_flag flags[] = {
        {"--constants", FLAG_STRING, &constants, "constants.json from synth", 0},
        {"--eps", FLAG_DOUBLE, &eps, "target eps (> 0)", 0},
        {"--c-grad", FLAG_DOUBLE, &cost.c_grad, "FLOPs of a stochastic gradient (-1: file)", 0},
        {"--c-msign", FLAG_DOUBLE, &cost.c_msign, "FLOPs of one msign (-1: file)", 0},
        {"--c-sign", FLAG_DOUBLE, &cost.c_sign, "FLOPs of one sign step (-1: file)", 0},
        {"--variant", FLAG_STRING, &variant, "refined|statement step lengths", 0},
        {"--currency", FLAG_STRING, &currency, "mixed (the theorem's left side) | common", 0},
        {"--out", FLAG_STRING, &out, "also write the JSON to this file (atomically)", 0},
    };
    int nflags = sizeof flags / sizeof flags[0];
    lm_error e = {{0}};
    const char *pos[1];
    int npos, help, has_cost, code = 2; /* 2: usage or bad input; 1: the output failed */
    bound_constants k;
    bound_variant v;
    if (cli_parse(argc, argv, flags, nflags, pos, 0, &npos, &help, &e) != 0)
        goto fail;
    if (help) {
        cli_print_help(stdout, PREDICT_USAGE, PREDICT_ABOUT, flags, nflags);
        return 0;
    }
    if (!constants) {
        lm_fail(&e, "--constants: required");
        goto fail;
    }
    if (!(eps > 0)) {
        lm_fail(&e, "--eps: must be > 0 (got %g)", eps);
        goto fail;
    }
    if (bound_variant_parse(variant, &v) != 0) {
        lm_fail(&e, "--variant: unknown variant '%s' (refined, statement)", variant);
        goto fail;
    }
    static const char *const CUR[] = {"mixed", "common"};
    int cur = lm_name_lookup(CUR, 2, currency);
    if (cur < 0) {
        lm_fail(&e, "--currency: unknown currency '%s' (mixed, common)", currency);
        goto fail;
    }
    if (val_read_constants(constants, &k, &fc, &has_cost, &e) != 0)
        goto fail;
    double *cv[] = {&cost.c_grad, &cost.c_msign, &cost.c_sign};
    const double fv[] = {fc.c_grad, fc.c_msign, fc.c_sign};
    const char *cn[] = {"--c-grad", "--c-msign", "--c-sign"};
    for (int i = 0; i < 3; i++) {
        if (*cv[i] < 0 && !has_cost) {
            lm_fail(&e, "%s: not given and %s has no \"cost\" object", cn[i], constants);
            goto fail;
        }
        if (*cv[i] < 0)
            *cv[i] = fv[i];
        if (!(*cv[i] >= 0)) {
            lm_fail(&e, "%s: must be >= 0", cn[i]);
            goto fail;
        }
    }
    json_t *j = val_predict_cur(&k, &cost, eps, v, (bound_currency)cur, NULL);
    char *txt = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    code = 1; /* from here on the output failed */
    int rc = out ? val_write_json(j, out, &e) : 0;
    json_decref(j);
    if (rc != 0) {
        free(txt);
        goto fail;
    }
    printf("%s\n", txt);
    free(txt);
    return 0;
fail:
    fprintf(stderr, "lionmuon predict: %s\n", e.msg);
    return code;
}
