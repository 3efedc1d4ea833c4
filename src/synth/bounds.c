/* bounds.c - Thm 1 and Cor. 2 of theory/bounds.md as code (see bounds.h). */
#include "lionmuon/bounds.h"

#include <math.h>
#include <string.h>

const long bound_periods[BOUND_NPERIODS] = {1, 2, 3, 4, 5, 8, 10, 20, 50, 100, 0};

static const char *const VARIANT_NAMES[] = {"refined", "statement"};

const char *bound_variant_name(bound_variant v)
{
    return (unsigned)v < 2u ? VARIANT_NAMES[v] : "?";
}

int bound_variant_parse(const char *name, bound_variant *out)
{
    int i = lm_name_lookup(VARIANT_NAMES, 2, name);
    if (i < 0)
        return -1;
    *out = (bound_variant)i;
    return 0;
}

int bound_constants_check(const bound_constants *k, lm_error *e)
{
    const double v[] = {k->L_M, k->L_L, k->alpha, k->gamma, k->sigma_F,
                        k->rho_N, k->rho_1, k->Delta, k->g0_N, k->g0_1};
    const char *names[] = {"L_M", "L_L", "alpha", "gamma", "sigma_F",
                           "rho_N", "rho_1", "Delta", "g0_N", "g0_1"};
    for (int i = 0; i < 10; i++)
        if (!(v[i] >= 0) || !isfinite(v[i]))
            return lm_fail(e, "constant %s must be finite and >= 0 (got %g)", names[i], v[i]);
    if (!(k->kappa > 1 && k->kappa <= 2))
        return lm_fail(e, "constant kappa must lie in (1, 2] (got %g): the bound needs a "
                          "finite noise moment of order kappa > 1", k->kappa);
    return 0;
}

void bound_counts(long P, long T, long *n_M, long *n_L)
{
    *n_M = P > 0 ? (T + P - 1) / P : 0;
    *n_L = T - *n_M;
}

/* Lemma 3: the b2-discounted mean length of the steps preceding a step of
 * each type, in that step's own norm, in the periodic steady state.  Works
 * with q2 = 1 - beta2 so that q2 below the double epsilon (the tuned bound
 * needs q2 ~ 1e-20 for heavy tails) keeps its value. */
static void step_lengths_q(const bound_constants *k, bound_variant v, long P, double eta_M,
                           double eta_L, double q2, double *A_2, double *A_inf)
{
    double l2_lion = k->alpha * eta_L;   /* a Lion step, measured in ||.||_2 */
    double linf_muon = k->gamma * eta_M; /* a Muon step, measured in ||.||_inf */
    if (v == BOUND_STATEMENT) {
        *A_2 = fmax(eta_M, l2_lion);
        *A_inf = fmax(eta_L, linf_muon);
        return;
    }
    if (P == 1) {
        *A_2 = eta_M;
        *A_inf = linf_muon; /* no Lion step exists; kept for continuity */
        return;
    }
    if (P == 0) {
        *A_2 = l2_lion; /* no Muon step exists; kept for continuity */
        *A_inf = eta_L;
        return;
    }
    double Pd = (double)P, lb = log1p(-q2); /* log beta2 */
    /* weights of the Muon steps inside the discounted window:
     *   before a Muon step  (1-b2) b2^{P-1} / (1 - b2^P)
     *   before a Lion step  (1 - b2^{P-1}) / ((P-1)(1 - b2^P))
     * both -> 1/P as b2 -> 1 */
    double one_m_bP = -expm1(Pd * lb), one_m_bP1 = -expm1((Pd - 1) * lb);
    double wM_before_M = q2 > 0 ? q2 * exp((Pd - 1) * lb) / one_m_bP : 1.0 / Pd;
    double wM_before_L = q2 > 0 ? one_m_bP1 / ((Pd - 1) * one_m_bP) : 1.0 / Pd;
    *A_2 = l2_lion - (l2_lion - eta_M) * wM_before_M;
    *A_inf = eta_L - (eta_L - linf_muon) * wM_before_L;
}

void bound_step_lengths(const bound_constants *k, bound_variant v, long P, double eta_M,
                        double eta_L, double beta2, double *A_2, double *A_inf)
{
    step_lengths_q(k, v, P, eta_M, eta_L, 1 - beta2, A_2, A_inf);
}

double bound_phase_length(const bound_constants *k, bound_variant v, long P, long j,
                          double eta_M, double eta_L, double beta2)
{
    double A2, Ainf;
    bound_step_lengths(k, v, P, eta_M, eta_L, beta2, &A2, &Ainf);
    int muon = P > 0 && j % P == 0;
    if (v == BOUND_STATEMENT || P <= 1 || muon)
        return muon ? A2 : Ainf;
    double q2 = 1 - beta2, lb = log1p(-q2), jj = (double)(j % P);
    double w = q2 > 0 ? q2 * exp((jj - 1) * lb) / -expm1((double)P * lb) : 1.0 / (double)P;
    return eta_L - (eta_L - k->gamma * eta_M) * w;
}

/* sum over the Lion phases 1..m of a period of bound_phase_length (refined,
 * P >= 2): m eta_L - (eta_L - gamma eta_M) (1 - b2^m) / (1 - b2^P). */
static double lion_phases_sum(const bound_constants *k, long P, long m, double eta_M,
                              double eta_L, double q2)
{
    if (m <= 0)
        return 0;
    double lb = log1p(-q2);
    double frac = q2 > 0 ? expm1((double)m * lb) / expm1((double)P * lb) : (double)m / P;
    return (double)m * eta_L - (eta_L - k->gamma * eta_M) * frac;
}

/* sum_t eta_t L_tau(t) bound_phase_length(t) over t < T: whole periods by
 * the period means, the partial last period phase by phase. */
static double drift_weighted_sum(const bound_constants *k, bound_variant v, long P, long T,
                                 double eta_M, double eta_L, double beta2)
{
    double A2, Ainf;
    bound_step_lengths(k, v, P, eta_M, eta_L, beta2, &A2, &Ainf);
    long nM, nL;
    bound_counts(P, T, &nM, &nL);
    double muon = nM * eta_M * k->L_M * A2;
    if (v == BOUND_STATEMENT || P <= 1)
        return muon + nL * eta_L * k->L_L * Ainf;
    long full = T / P, rem = T % P;
    double lion = (double)full * (P - 1) * Ainf;
    lion += lion_phases_sum(k, P, rem - 1, eta_M, eta_L, 1 - beta2);
    return muon + eta_L * k->L_L * lion;
}

void bound_period_averages(const bound_constants *k, bound_variant v, long P, long T,
                           double eta_M, double eta_L, double beta2, double *Lbar,
                           double *Sbar)
{
    long nM, nL;
    bound_counts(P, T, &nM, &nL);
    double H = nM * eta_M + nL * eta_L;
    *Lbar = H > 0 ? drift_weighted_sum(k, v, P, T, eta_M, eta_L, beta2) / H : 0;
    *Sbar = H > 0 ? k->sigma_F * (nM * eta_M * k->rho_N + nL * eta_L * k->rho_1) / H : 0;
}

/* The noise factor b1 2^{(2-k)/k} (1-b2)^{(k-1)/k} + (1 - b1) of Lemma 4. */
static double noise_factor_q(double kappa, double q1, double q2)
{
    return (1 - q1) * pow(2.0, (2 - kappa) / kappa) * pow(q2, (kappa - 1) / kappa) + q1;
}

static double noise_factor(double kappa, double beta1, double beta2)
{
    return noise_factor_q(kappa, 1 - beta1, 1 - beta2);
}

void bound_rhs(const bound_constants *k, bound_variant v, long P, long T, double eta_M,
               double eta_L, double beta1, double beta2, bound_terms *out)
{
    memset(out, 0, sizeof *out);
    long nM, nL;
    bound_counts(P, T, &nM, &nL);
    double H = nM * eta_M + nL * eta_L;
    out->H = H;
    if (!(H > 0)) {
        out->total = INFINITY;
        return;
    }
    bound_period_averages(k, v, P, T, eta_M, eta_L, beta2, &out->Lbar, &out->Sbar);
    /* initial momentum: (2 b1 / H) sum_t eta_t b2^t ||g_0||_{tau(t)*}, summed exactly */
    double init = 0, bt = 1;
    for (long t = 0; t < T && bt > 1e-300; t++, bt *= beta2)
        init += bt * (P > 0 && t % P == 0 ? eta_M * k->g0_N : eta_L * k->g0_1);
    out->delta = k->Delta / H;
    out->init = 2 * beta1 * init / H;
    out->drift = beta2 < 1 ? 2 * beta1 * out->Lbar / (1 - beta2) : INFINITY;
    out->noise = 2 * out->Sbar * noise_factor(k->kappa, beta1, beta2);
    out->quad = (nM * k->L_M * eta_M * eta_M + nL * k->L_L * eta_L * eta_L) / (2 * H);
    out->total = out->delta + out->init + out->drift + out->noise + out->quad;
    /* Cor. 1: the common currency ||g||_N, sign steps credited with g_ratio */
    double r = k->g_ratio >= 1 ? k->g_ratio : 1.0;
    out->H_cc = nM * eta_M + r * nL * eta_L;
    out->total_common = out->total * H / out->H_cc;
}

/* Per-unit-eta quantities at (P, theta, b2): the weights of each regime in
 * H, lhat = Lbar / eta, lquad (quadratic term = eta lquad / 2), Sbar, and
 * h_cc / h, the common currency's rescaling of eps (Cor. 1). */
typedef struct {
    double h, lhat, lquad, Sbar, gmax, cc;
} unit_terms;

static void unit_terms_at(const bound_constants *k, bound_variant v, long P, double theta,
                          double q2, unit_terms *u)
{
    double fM = P > 0 ? 1.0 / P : 0.0, fL = 1 - fM;
    double eta_L = theta;
    if (P == 1)
        eta_L = 0, fL = 0;
    u->h = fM + fL * eta_L;
    double wM = fM / u->h, wL = fL * eta_L / u->h;
    double A2, Ainf;
    step_lengths_q(k, v, P, 1.0, eta_L, q2, &A2, &Ainf);
    u->lhat = wM * k->L_M * A2 + wL * k->L_L * Ainf;
    u->lquad = wM * k->L_M + wL * eta_L * k->L_L;
    u->Sbar = k->sigma_F * (wM * k->rho_N + wL * k->rho_1);
    u->gmax = fmax(fM > 0 ? k->g0_N : 0.0, fL > 0 ? eta_L * k->g0_1 : 0.0);
    double r = k->g_ratio >= 1 ? k->g_ratio : 1.0;
    u->cc = (fM + r * fL * eta_L) / u->h;
}

/* T at one (q, theta): the smallest T with
 *   (Delta/eta + I') / (T h) + eta Lambda + 2 Sbar c(q) <= eps
 * at the optimal eta = sqrt(Delta / (T h Lambda)). */
static double T_at(const bound_constants *k, bound_variant v, bound_currency cur, long P,
                   double eps, double q, double theta, double *eta)
{
    double b = 1 - q;
    unit_terms u;
    unit_terms_at(k, v, P, theta, q, &u);
    if (cur == BOUND_COMMON)
        eps *= u.cc;
    double r = eps - 2 * u.Sbar * noise_factor_q(k->kappa, q, q);
    if (!(r > 0))
        return INFINITY;
    double Lambda = 2 * b * u.lhat / q + u.lquad / 2;
    double I = 2 * b * u.gmax / (q * u.h);
    double beta = sqrt(k->Delta * Lambda / u.h);
    double x = r / (beta + sqrt(beta * beta + I * r)); /* x = 1/sqrt(T) */
    double T = 1.0 / (x * x);
    if (eta)
        *eta = Lambda > 0 ? sqrt(k->Delta / (T * u.h * Lambda)) : INFINITY;
    return T;
}

double bound_T_at(const bound_constants *k, bound_variant v, bound_currency c, long P,
                  double eps, double eta_M, double eta_L, double beta, double *excess)
{
    double q = 1 - beta, eta = P == 0 ? eta_L : eta_M;
    double theta = P == 0 ? 1.0 : P == 1 ? 1.0 : eta_L / eta_M;
    if (excess)
        *excess = INFINITY;
    if (!(eta > 0) || !(q > 0) || !(theta > 0))
        return INFINITY;
    unit_terms u;
    unit_terms_at(k, v, P, theta, q, &u);
    if (c == BOUND_COMMON)
        eps *= u.cc;
    double Lambda = 2 * beta * u.lhat / q + u.lquad / 2;
    double floor_ = eta * Lambda + 2 * u.Sbar * noise_factor_q(k->kappa, q, q);
    double r = eps - floor_;
    if (excess)
        *excess = floor_ / eps;
    if (!(r > 0))
        return INFINITY;
    return (k->Delta / eta + 2 * beta * u.gmax / q) / (u.h * r);
}

/* bound_tuned at the constants' own (kappa, sigma_F). */
static void tuned_one(const bound_constants *k, bound_variant v, bound_currency c, long P,
                      double eps, bound_tuned_point *o)
{
    o->T = INFINITY;
    o->q = o->theta = o->eta = NAN;
    o->kappa = k->kappa;
    o->sigma_F = k->sigma_F;
    int nth = (P == 1 || P == 0) ? 1 : 81;
    for (int it = 0; it < nth; it++) {
        double theta = nth == 1 ? 1.0 : pow(10.0, -4.0 + 8.0 * it / (nth - 1));
        for (int iq = 0; iq <= 600; iq++) {
            double q = pow(10.0, -30.0 + 30.0 * iq / 600.0);
            double eta = NAN;
            double T = T_at(k, v, c, P, eps, q, theta, &eta);
            if (T < o->T) {
                o->T = T;
                o->q = q;
                o->theta = theta;
                o->eta = eta;
            }
        }
    }
}

double bound_tuned(const bound_constants *k, bound_variant v, bound_currency c, long P,
                   double eps, bound_tuned_point *out)
{
    bound_tuned_point best;
    tuned_one(k, v, c, P, eps, &best);
    for (int i = 0; i < k->nkappa && i < BOUND_MAX_KAPPA; i++) {
        if (!(k->kappa_tab[i] > 1 && k->kappa_tab[i] <= 2) || !isfinite(k->sigma_tab[i]))
            continue;
        bound_constants kk = *k;
        kk.kappa = k->kappa_tab[i];
        kk.sigma_F = k->sigma_tab[i];
        bound_tuned_point p;
        tuned_one(&kk, v, c, P, eps, &p);
        if (p.T < best.T)
            best = p;
    }
    if (out)
        *out = best;
    return best.T;
}

double bound_tuned_T(const bound_constants *k, bound_variant v, long P, double eps,
                     double *q_opt, double *theta_opt, double *eta_opt)
{
    bound_tuned_point p;
    bound_tuned(k, v, BOUND_MIXED, P, eps, &p);
    if (q_opt)
        *q_opt = p.q;
    if (theta_opt)
        *theta_opt = p.theta;
    if (eta_opt)
        *eta_opt = p.eta;
    return p.T;
}

double bound_tuned_T_closed(const bound_constants *k, bound_variant v, long P, double eps,
                            double theta)
{
    unit_terms u;
    unit_terms_at(k, v, P, theta, 0.0, &u); /* b2 -> 1: plain period averages */
    double Lp = 2 * u.lhat + u.lquad / 2;
    double kap = k->kappa;
    double ck = pow(2.0, (2 - kap) / kap) + 1;
    double noise = pow(4 * ck * u.Sbar / eps, kap / (kap - 1));
    return 16 * k->Delta * Lp / (u.h * eps * eps) * fmax(1.0, noise);
}

double bound_cost_per_iter(long P, double c_grad, double c_msign, double c_sign)
{
    if (P <= 0)
        return c_grad + c_sign;
    return c_grad + c_msign / P + c_sign * (1 - 1.0 / P);
}
