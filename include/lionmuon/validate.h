/* validate.h - the files of `lionmuon synth` and `lionmuon predict`, and the
 * theory checks V1-V6 of theory/bounds.md (prefix val_).
 *
 *   DIR/trajectory.csv  one row per step: step, type (M/L), f, the gradient
 *                       in both duals, the momentum error, the local
 *                       smoothness ratios, alpha_t, gamma_t, step lengths,
 *                       noise norms
 *   DIR/constants.json  the measured constants (L_M, L_L, alpha, gamma,
 *                       sigma_F, kappa, rho_N, rho_1, Delta, ...), their
 *                       quantiles, the analytic smoothness constants, the
 *                       cost model, the bound at this run's step sizes and
 *                       Lbar(P), Sbar(P) for every P
 *   predict             P_star and, per P, the tuned iteration count and the
 *                       compute C(eps, P) = T(eps; P) c(P)
 */
#ifndef LM_VALIDATE_H
#define LM_VALIDATE_H

#include <jansson.h>
#include "bounds.h"
#include "measure.h"

/* The cost model of one iteration (FLOPs). */
typedef struct {
    double c_grad, c_msign, c_sign;
} val_cost;

/* c_grad = obj_grad_flops + m n (the noise), c_msign = 5-step Newton-Schulz
 * by the paper's count, c_sign = m n. */
val_cost val_default_cost(const obj *o);

/* A JSON number, or null for a non-finite value (JSON has no NaN). */
json_t *val_num(double x);
/* P as JSON: the number, or the string "inf" for P = 0. */
json_t *val_period(long P);

/* Write DIR/trajectory.csv (atomically). */
int val_write_trajectory(const meas_trace *t, const char *path, lm_error *e);

/* Describe a run: free-form string fields (objective, noise, ...) are taken
 * from `info` (a JSON object, stolen).  Returns the constants.json object. */
json_t *val_constants_json(const meas_trace *t, const meas_summary *s, const obj *o,
                           json_t *info);

/* Write a JSON value to path atomically (indent 2). */
int val_write_json(const json_t *j, const char *path, lm_error *e);

/* Read constants.json: the numeric keys L_M, L_L, alpha, gamma, sigma_F,
 * kappa, rho_N, rho_1, Delta (required), g0_N, g0_1 (0 if absent) and the
 * cost object (cost.c_grad, ...; has_cost = 0 if absent).  Every failure
 * names the file and the key.  Optional: g_ratio (common currency) and
 * sigma_F_of_kappa (the table predict minimises over). */
int val_read_constants(const char *path, bound_constants *k, val_cost *cost, int *has_cost,
                       lm_error *e);

/* The predict JSON: {eps, variant, currency, kappa_minimised, P_star,
 * periods: [{P, iterations, compute, cost_per_iter, beta, theta, eta_M,
 * eta_L, kappa, sigma_F, Lbar, Sbar}]}: the tuned bound per period, minimised
 * over the constants' sigma_F(kappa) table when it has one.  val_predict is
 * the mixed currency (the theorem's own left side). */
json_t *val_predict(const bound_constants *k, const val_cost *cost, double eps,
                    bound_variant v, long *P_star);
json_t *val_predict_cur(const bound_constants *k, const val_cost *cost, double eps,
                        bound_variant v, bound_currency cur, long *P_star);

#endif
