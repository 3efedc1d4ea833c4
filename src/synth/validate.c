/* validate.c - the synth/predict files (see validate.h). */
#include "lionmuon/validate.h"
#include "lionmuon/fs.h"
#include "lionmuon/msign.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

val_cost val_default_cost(const obj *o)
{
    val_cost c;
    msign_opts ns = msign_default_opts(MSIGN_NS5);
    ns.steps = 5;
    double mn = (double)o->m * o->n;
    c.c_grad = obj_grad_flops(o) + mn;
    c.c_msign = msign_flops(&ns, o->m, o->n);
    c.c_sign = mn;
    return c;
}

json_t *val_num(double x) { return isfinite(x) ? json_real(x) : json_null(); }

json_t *val_period(long P) { return P > 0 ? json_integer(P) : json_string("inf"); }

int val_write_trajectory(const meas_trace *t, const char *path, lm_error *e)
{
    lm_buf b = {0};
    lm_buf_printf(&b, "step,type,f,grad_nuc,grad_l1,grad_fro,err_nuc,err_l1,"
                  "smooth_nuc_over_2,smooth_1_over_inf,alpha_t,gamma_t,step_2,step_inf,"
                  "noise_fro,noise_nuc,noise_l1,momnoise_fro,momnoise_nuc,momnoise_l1\n");
    for (long k = 0; k < t->T; k++) {
        const meas_row *r = &t->rows[k];
        lm_buf_printf(&b, "%ld,%c,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,"
                      "%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g\n",
                  r->step, r->muon ? 'M' : 'L', r->f, r->gN, r->g1, r->gF, r->EN, r->E1,
                  r->ratioN, r->ratio1, r->alpha, r->gamma, r->step2, r->stepinf, r->xiF,
                  r->xiN, r->xi1, r->SF, r->SN, r->S1);
    }
    int rc = lm_write_atomic(path, b.s, b.len, e);
    free(b.s);
    return rc;
}

static json_t *quant_json(const meas_quant *q)
{
    json_t *j = json_object();
    json_object_set_new(j, "max", val_num(q->max));
    json_object_set_new(j, "q50", val_num(q->q50));
    json_object_set_new(j, "q90", val_num(q->q90));
    json_object_set_new(j, "q99", val_num(q->q99));
    json_object_set_new(j, "count", json_integer(q->count));
    return j;
}

static json_t *terms_json(const bound_terms *b, double lhs)
{
    json_t *j = json_object();
    json_object_set_new(j, "delta", val_num(b->delta));
    json_object_set_new(j, "init", val_num(b->init));
    json_object_set_new(j, "drift", val_num(b->drift));
    json_object_set_new(j, "noise", val_num(b->noise));
    json_object_set_new(j, "quad", val_num(b->quad));
    json_object_set_new(j, "total", val_num(b->total));
    json_object_set_new(j, "Lbar", val_num(b->Lbar));
    json_object_set_new(j, "Sbar", val_num(b->Sbar));
    json_object_set_new(j, "slack", val_num(lhs > 0 ? b->total / lhs : NAN));
    json_object_set_new(j, "total_common_currency", val_num(b->total_common));
    return j;
}

/* Per P of bound_periods: Lbar(P) of both variants (Lbar_refined,
 * Lbar_statement) and Sbar(P), at this run's step sizes and beta2. */
static json_t *periods_json(const bound_constants *k, const meas_trace *t)
{
    json_t *pa = json_array();
    for (int i = 0; i < BOUND_NPERIODS; i++) {
        long P = bound_periods[i];
        json_t *pj = json_object();
        json_object_set_new(pj, "P", val_period(P));
        for (int v = 0; v < 2; v++) {
            double Lb, Sb;
            bound_period_averages(k, (bound_variant)v, P, t->T, t->eta_M, t->eta_L,
                                  t->beta2, &Lb, &Sb);
            lm_buf key = {0};
            lm_buf_printf(&key, "Lbar_%s", bound_variant_name((bound_variant)v));
            json_object_set_new(pj, key.s, val_num(Lb));
            lm_buf_free(&key);
            if (v == 0)
                json_object_set_new(pj, "Sbar", val_num(Sb));
        }
        json_array_append_new(pa, pj);
    }
    return pa;
}

json_t *val_constants_json(const meas_trace *t, const meas_summary *s, const obj *o,
                           json_t *info)
{
    json_t *j = info ? info : json_object();
    bound_constants k;
    meas_constants(t, s, &k);
    json_object_set_new(j, "m", json_integer(o->m));
    json_object_set_new(j, "n", json_integer(o->n));
    json_object_set_new(j, "P", val_period(t->P));
    json_object_set_new(j, "beta1", val_num(t->beta1));
    json_object_set_new(j, "beta2", val_num(t->beta2));
    json_object_set_new(j, "eta_M", val_num(t->eta_M));
    json_object_set_new(j, "eta_L", val_num(t->eta_L));
    json_object_set_new(j, "steps", json_integer(t->T));
    const struct { const char *name; double v; } keys[] = {
        {"L_M", k.L_M}, {"L_L", k.L_L}, {"alpha", k.alpha}, {"gamma", k.gamma},
        {"sigma_F", k.sigma_F}, {"kappa", k.kappa}, {"rho_N", k.rho_N}, {"rho_1", k.rho_1},
        {"Delta", k.Delta}, {"g0_N", k.g0_N}, {"g0_1", k.g0_1},
        {"tail_index", s->tail_index}, {"rho_N_noise", s->rho_N_xi},
        {"rho_1_noise", s->rho_1_xi}, {"rho_N_momentum_noise", s->rho_N_S},
        {"rho_1_momentum_noise", s->rho_1_S}, {"f_final", t->f_final},
        {"lhs", s->lhs}, {"lhs_nuc", s->lhs_N}, {"min_grad_nuc", s->min_gN},
        {"g_ratio", s->g_ratio_min}, {"sigma_F_sampled", s->sigma_F_sampled},
        {"hill_lo", s->hill_lo}, {"hill_hi", s->hill_hi}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        json_object_set_new(j, keys[i].name, val_num(keys[i].v));
    json_object_set_new(j, "hill_k", json_integer(s->hill_k));
    json_object_set_new(j, "hill_stable", s->hill_stable < 0 ? json_null()
                                                            : json_boolean(s->hill_stable));
    static const char *METHOD[] = {"sampled", "computed from the law",
                                   "computed from the law (low-rank: cross terms dropped)"};
    json_object_set_new(j, "sigma_F_method", json_string(METHOD[s->sigma_method]));
    json_t *kt = json_array();
    for (int i = 0; i < s->nkappa; i++)
        json_array_append_new(kt, json_pack("{s:o,s:o}", "kappa", val_num(s->kappa_tab[i]),
                                            "sigma_F", val_num(s->sigma_tab[i])));
    json_object_set_new(j, "sigma_F_of_kappa", kt);
    json_object_set_new(j, "noise_samples", json_integer((json_int_t)t->nsamp));

    json_t *q = json_object();
    json_object_set_new(q, "L_M", quant_json(&s->L_M));
    json_object_set_new(q, "L_L", quant_json(&s->L_L));
    json_object_set_new(q, "alpha", quant_json(&s->alpha));
    json_object_set_new(q, "gamma", quant_json(&s->gamma));
    json_object_set_new(q, "rho_N", quant_json(&s->rhoN_pt));
    json_object_set_new(q, "rho_1", quant_json(&s->rho1_pt));
    json_object_set_new(j, "quantiles", q);

    obj_smooth sm;
    json_t *an = json_object();
    if (obj_smoothness((obj *)o, &sm, NULL) == 0) {
        json_object_set_new(an, "L_M_upper", val_num(sm.LM_hi));
        json_object_set_new(an, "L_M_attained", val_num(sm.LM_lo));
        json_object_set_new(an, "L_L_upper", val_num(sm.LL_hi));
        json_object_set_new(an, "L_L_attained", val_num(sm.LL_lo));
    }
    json_object_set_new(j, "analytic", an);

    val_cost c = val_default_cost(o);
    json_t *cj = json_object();
    json_object_set_new(cj, "c_grad", val_num(c.c_grad));
    json_object_set_new(cj, "c_msign", val_num(c.c_msign));
    json_object_set_new(cj, "c_sign", val_num(c.c_sign));
    json_object_set_new(j, "cost", cj);

    json_t *bj = json_object();
    for (int v = 0; v < 2; v++) {
        bound_terms b;
        bound_rhs(&k, (bound_variant)v, t->P, t->T, t->eta_M, t->eta_L, t->beta1, t->beta2, &b);
        json_object_set_new(bj, bound_variant_name((bound_variant)v), terms_json(&b, s->lhs));
    }
    json_object_set_new(j, "bound", bj);

    json_t *pa = periods_json(&k, t);
    json_object_set_new(j, "periods", pa);
    return j;
}

int val_write_json(const json_t *j, const char *path, lm_error *e)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    if (!s)
        return lm_fail(e, "%s: cannot serialise JSON", path);
    size_t n = strlen(s);
    char *t = lm_malloc(n + 2);
    memcpy(t, s, n);
    t[n] = '\n';
    free(s);
    int rc = lm_write_atomic(path, t, n + 1, e);
    free(t);
    return rc;
}

static int get_num(json_t *root, const char *path, const char *key, int required, double *out,
                   lm_error *e)
{
    json_t *v = json_object_get(root, key);
    if (!v) {
        if (required)
            return lm_fail(e, "%s: missing numeric key \"%s\"", path, key);
        *out = 0;
        return 0;
    }
    if (!json_is_number(v))
        return lm_fail(e, "%s: key \"%s\" must be a number", path, key);
    *out = json_number_value(v);
    if (!isfinite(*out))
        return lm_fail(e, "%s: key \"%s\" is not finite", path, key);
    return 0;
}

/* The optional "sigma_F_of_kappa": [{"kappa": k, "sigma_F": s}, ...]. */
static int read_kappa_table(json_t *root, const char *path, bound_constants *k, lm_error *e)
{
    json_t *kt = json_object_get(root, "sigma_F_of_kappa");
    if (!kt)
        return 0;
    if (!json_is_array(kt) || json_array_size(kt) > BOUND_MAX_KAPPA)
        return lm_fail(e, "%s: \"sigma_F_of_kappa\" must be an array of at most %d "
                          "{kappa, sigma_F} objects", path, BOUND_MAX_KAPPA);
    size_t i;
    json_t *it;
    json_array_foreach(kt, i, it) {
        double ka, sf;
        if (get_num(it, path, "kappa", 1, &ka, e) || get_num(it, path, "sigma_F", 1, &sf, e))
            return lm_wrap(e, "in \"sigma_F_of_kappa\"[%zu]", i);
        if (!(ka > 1 && ka <= 2) || !(sf >= 0))
            return lm_fail(e, "%s: \"sigma_F_of_kappa\"[%zu]: kappa must lie in (1, 2] and "
                              "sigma_F be >= 0 (got %g, %g)", path, i, ka, sf);
        k->kappa_tab[k->nkappa] = ka;
        k->sigma_tab[k->nkappa++] = sf;
    }
    return 0;
}

int val_read_constants(const char *path, bound_constants *k, val_cost *cost, int *has_cost,
                       lm_error *e)
{
    json_error_t je;
    unsigned char *buf;
    size_t len;
    if (lm_read_file(path, (size_t)64 << 20, &buf, &len, e))
        return -1;
    json_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!root)
        return lm_fail(e, "%s: cannot read constants: %s (line %d)", path, je.text, je.line);
    int rc = -1;
    memset(k, 0, sizeof *k);
    *has_cost = 0;
    if (!json_is_object(root)) {
        lm_fail(e, "%s: constants must be a JSON object", path);
        goto done;
    }
    struct { const char *key; double *dst; int req; } f[] = {
        {"L_M", &k->L_M, 1}, {"L_L", &k->L_L, 1}, {"alpha", &k->alpha, 1},
        {"gamma", &k->gamma, 1}, {"sigma_F", &k->sigma_F, 1}, {"kappa", &k->kappa, 1},
        {"rho_N", &k->rho_N, 1}, {"rho_1", &k->rho_1, 1}, {"Delta", &k->Delta, 1},
        {"g0_N", &k->g0_N, 0}, {"g0_1", &k->g0_1, 0}, {"g_ratio", &k->g_ratio, 0}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (get_num(root, path, f[i].key, f[i].req, f[i].dst, e) != 0)
            goto done;
    if (read_kappa_table(root, path, k, e) != 0)
        goto done;
    if (bound_constants_check(k, e) != 0) {
        lm_wrap(e, "%s", path);
        goto done;
    }
    json_t *c = json_object_get(root, "cost");
    if (c) {
        if (!json_is_object(c)) {
            lm_fail(e, "%s: key \"cost\" must be an object", path);
            goto done;
        }
        if (get_num(c, path, "c_grad", 1, &cost->c_grad, e) ||
            get_num(c, path, "c_msign", 1, &cost->c_msign, e) ||
            get_num(c, path, "c_sign", 1, &cost->c_sign, e)) {
            lm_wrap(e, "in \"cost\"");
            goto done;
        }
        *has_cost = 1;
    }
    rc = 0;
done:
    json_decref(root);
    return rc;
}

/* One period's entry of the predict JSON; *C its compute. */
static json_t *predict_period(const bound_constants *k, const val_cost *cost, double eps,
                              bound_variant v, bound_currency cur, long P, double *C)
{
    bound_tuned_point tp;
    double T = bound_tuned(k, v, cur, P, eps, &tp);
    double c = bound_cost_per_iter(P, cost->c_grad, cost->c_msign, cost->c_sign);
    *C = T * c;
    double Lb = NAN, Sb = NAN, q = tp.q, eta = tp.eta, theta = tp.theta;
    if (isfinite(T)) {
        long Tl = (long)fmin(ceil(T), 1e15);
        bound_constants kk = *k;
        kk.kappa = tp.kappa;
        kk.sigma_F = tp.sigma_F;
        double eM = P == 0 ? 0 : eta, eL = P == 1 ? 0 : eta * theta;
        bound_period_averages(&kk, v, P, Tl > 0 ? Tl : 1, P == 0 ? 1 : eM, P == 1 ? 1 : eL,
                              1 - q, &Lb, &Sb);
    }
    json_t *pj = json_object();
    json_object_set_new(pj, "P", val_period(P));
    json_object_set_new(pj, "iterations", val_num(T));
    json_object_set_new(pj, "compute", val_num(*C));
    json_object_set_new(pj, "cost_per_iter", val_num(c));
    json_object_set_new(pj, "beta", val_num(1 - q));
    json_object_set_new(pj, "theta", val_num(P == 0 || P == 1 ? NAN : theta));
    json_object_set_new(pj, "eta_M", val_num(P == 0 ? NAN : eta));
    json_object_set_new(pj, "eta_L", val_num(P == 1 ? NAN : eta * theta));
    json_object_set_new(pj, "kappa", val_num(tp.kappa));
    json_object_set_new(pj, "sigma_F", val_num(tp.sigma_F));
    json_object_set_new(pj, "Lbar", val_num(Lb));
    json_object_set_new(pj, "Sbar", val_num(Sb));
    return pj;
}

json_t *val_predict_cur(const bound_constants *k, const val_cost *cost, double eps,
                        bound_variant v, bound_currency cur, long *P_star)
{
    json_t *root = json_object();
    json_object_set_new(root, "eps", val_num(eps));
    json_object_set_new(root, "variant", json_string(bound_variant_name(v)));
    json_object_set_new(root, "currency", json_string(cur == BOUND_COMMON ? "common" : "mixed"));
    json_object_set_new(root, "kappa_minimised", json_boolean(k->nkappa > 0));
    json_t *arr = json_array();
    double best = INFINITY;
    long bestP = -1;
    for (int i = 0; i < BOUND_NPERIODS; i++) {
        double C;
        json_array_append_new(arr, predict_period(k, cost, eps, v, cur, bound_periods[i], &C));
        if (C < best) {
            best = C;
            bestP = bound_periods[i];
        }
    }
    json_object_set_new(root, "P_star", bestP >= 0 ? val_period(bestP) : json_null());
    json_object_set_new(root, "periods", arr);
    if (P_star)
        *P_star = bestP;
    return root;
}

json_t *val_predict(const bound_constants *k, const val_cost *cost, double eps,
                    bound_variant v, long *P_star)
{
    return val_predict_cur(k, cost, eps, v, BOUND_MIXED, P_star);
}
