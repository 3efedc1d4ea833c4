/* measure.h - run one optimizer of the LionMuon family on a synthetic
 * objective and measure, along the run, every constant of the bound
 * (prefix meas_).  Definitions: theory/bounds.md, section "Measurement".
 *
 * Per step t (g_t = grad f(W_t), the noise-free gradient; G_t = g_t + xi_t):
 *   local smoothness of the move out of W_t, in both pairings,
 *     ratio_N = ||g_{t+1} - g_t||_N / ||W_{t+1} - W_t||_2
 *     ratio_1 = ||g_{t+1} - g_t||_1 / ||W_{t+1} - W_t||_inf
 *   cross-geometry lengths alpha_t = ||sign(C_t)||_2, gamma_t = ||msign(C_t)||_inf
 *     (exact SVD msign, whatever method the optimizer uses)
 *   the momentum error E_t = g_t - C_t in both duals
 *   the noise xi_t: ||xi_t||_F, rho_N = ||xi||_N / ||xi||_F, rho_1 = ||xi||_1 / ||xi||_F,
 *     and the same ratios on the momentum-averaged noise
 *     S_t = b2 S_{t-1} + (1 - b2) xi_t (the sum that Lemma 4 bounds).
 * Every random draw comes from one mt19937 seeded with setup.seed.
 */
#ifndef LM_MEASURE_H
#define LM_MEASURE_H

#include <stddef.h>
#include "bounds.h"
#include "common.h"
#include "noise.h"
#include "objective.h"
#include "optim.h"

typedef struct {
    long step;
    int muon;               /* 1 Muon step, 0 Lion step */
    double f;               /* f(W_t) */
    double gN, g1, gF;      /* ||g_t|| in nuclear, l1, Frobenius */
    double EN, E1;          /* ||E_t||_N, ||E_t||_1 */
    double dgN, dg1;        /* ||g_{t+1} - g_t||_N, _1 (= R_{t+1} of Lemma 3) */
    double step2, stepinf;  /* ||W_{t+1} - W_t||_2, _inf */
    double ratioN, ratio1;  /* local smoothness (NAN when the step is 0) */
    double alpha, gamma;    /* ||sign(C_t)||_2, ||msign(C_t)||_inf */
    double xiF, xiN, xi1;   /* noise norms */
    double SF, SN, S1;      /* momentum-averaged noise norms */
} meas_row;

typedef struct meas_trace meas_trace;

typedef struct {
    obj *o;
    const noise_params *noise; /* injected noise (NOISE_NONE: none) */
    const opt_config *opt;     /* the LionMuon family (not adamw / muon-nesterov) */
    long T;
    unsigned long seed;
    int light;                 /* 1: only f, gN, g1 per step (sweeps); 2: f, g1 only.
                                * A light run that diverges stops there (diverged = 1)
                                * instead of failing. */
    long extra_samples;        /* noise draws at W_0 for the moment and tail fits */
    int sgd;                   /* 1: momentum SGD instead of the family (a control):
                                * C = b1 M + (1-b1) G, W <- W - lr_sign C, betas and
                                * lr_sign from opt (every step counts as a Lion step) */
    /* Optional early stop: called after row k is filled (f and the gradient
     * norms at W_k); a non-zero return ends the run with T = k + 1. */
    int (*stop)(const meas_trace *t, long k, void *ctx);
    void *stop_ctx;
} meas_setup;

struct meas_trace {
    long T;
    int diverged;              /* a light run stopped at a non-finite iterate */
    int m, n;
    noise_params noise;        /* the injected noise (dist NOISE_NONE: none) */
    int sampling;              /* the objective has its own sampling noise (zipf) */
    double finf;               /* inf f of the objective */
    meas_row *rows;
    long P;
    double eta_M, eta_L, beta1, beta2;
    double Delta, g0_N, g0_1, f_final;
    size_t nsamp;
    double *xiF;               /* ||xi||_F samples: the run's, then the extra ones */
    double xiN_sum, xi1_sum, xiF_sum, SN_sum, S1_sum, SF_sum; /* over the run (full) */
    double exN_sum, ex1_sum, exF_sum; /* over the extra samples */
};

int meas_run(const meas_setup *s, meas_trace *out, lm_error *e);
void meas_trace_free(meas_trace *t);

/* max and quantiles (gsl_stats_quantile_from_sorted_data) of the finite values */
typedef struct {
    double max, q50, q90, q99;
    long count;
} meas_quant;
void meas_quantiles(size_t n, const double *x, meas_quant *q);

typedef struct {
    meas_quant L_M, L_L, alpha, gamma, rhoN_pt, rho1_pt;
    double rho_N, rho_1;       /* ratios of expectations, max over xi and S */
    double rho_N_xi, rho_1_xi, rho_N_S, rho_1_S;
    double tail_index;         /* Hill estimate on ||xi||_F */
    long hill_k;
    double kappa, sigma_F;     /* the moment order used and (E||xi||_F^kappa)^{1/kappa} */
    double lhs;                /* (1/H) sum eta_t ||g_t||_{tau(t)*} over the run */
    double lhs_N;              /* the same with ||.||_N for every step */
    double min_gN;
    double g_ratio_min;        /* min over the steps of ||g_t||_1 / ||g_t||_N (>= 1) */
    double hill_lo, hill_hi;   /* Hill estimates over k in [sqrt(n), n/5] */
    int hill_stable;           /* 1: (hi - lo) / median <= 0.3; 0: not; -1: too few samples */
    int sigma_method;          /* 0 sampled, 1 computed from the law, 2 computed, approximate */
    double sigma_F_sampled;    /* the sample estimate, always */
    int nkappa;                /* sigma_F(kappa) on a grid of moment orders */
    double kappa_tab[BOUND_MAX_KAPPA], sigma_tab[BOUND_MAX_KAPPA];
} meas_summary;

/* The Hill-stability threshold: a relative spread above this over
 * k in [sqrt(n), n/5] flags the tail-index estimate as unstable. */
#define MEAS_HILL_SPREAD 0.3

/* kappa: if kappa_override > 0 use it; else min(2, max(1.05, (1 + t)/2, 0.9 t))
 * with t the known tail index if finite (injected noise) or else the Hill
 * estimate.  Fails if no moment order in (1, 2] is found.  sigma_F: for
 * injected noise on an objective without sampling noise, computed from the
 * law (noise_sigma_F: the same for every seed); else the sample moment over
 * the run's and the extra draws.  The kappa grid: 10 orders in (1, min(2, t))
 * (1.1 .. 2 when t > 2), with sigma_F at each. */
int meas_summarize(const meas_trace *t, double kappa_override, double known_tail,
                   meas_summary *s, lm_error *e);
void meas_constants(const meas_trace *t, const meas_summary *s, bound_constants *k);

/* Hill's estimator of the tail index from the k largest of n positive samples:
 *   1/alpha_hat = (1/k) sum_{i<k} log(x_(i) / x_(k)),  x_(0) >= x_(1) >= ...
 * (Hill 1975).  x is not modified. */
double meas_hill(size_t n, const double *x, size_t k);
/* The k used here: round(sqrt(n)), at least 10 and at most n - 1 (sqrt(n)
 * trades the bias of a large k against the variance of a small one). */
size_t meas_hill_k(size_t n);

/* (1/H_T') sum_{t<T'} eta_t ||g_t||_* for T' = T: norm 'N', '1' or 't'
 * (each step's own dual). */
double meas_weighted_avg(const meas_trace *t, long T, char norm);
/* The first T' >= 1 with the running weighted average above <= eps, or -1.
 * norm 'f': the first T' with f(W_{T'-1}) - inf f <= eps (no averaging). */
long meas_hit_time(const meas_trace *t, char norm, double eps);

/* The drift the bound charges, measured: with R_s = g_s - g_{s-1},
 *   (1/H) sum_t eta_t (1 - b2) sum_{s<=t} b2^{t-s} ||R_s||_{tau(t)*},
 * the counterpart of Lbar (Thm 1 bounds the inner sum by L_tau A_tau/(1 - b2)).
 * Needs a full (not light) trace. */
double meas_drift_lbar(const meas_trace *t);

#endif
