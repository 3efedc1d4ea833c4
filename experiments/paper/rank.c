/* rank.c - the rank agreement between the CPU reproduction and the paper's
 * own 124M runs of the same optimizers (paper_rank_agreement, paper.h).
 *
 * The paper's side: its FineWeb runs (audit.h), GPT-2 ("base") and LLaMA,
 * one seed each, by folder name:
 *   adamw fw_M_adamw, lion fw_M_lion, signum fw_M_signum_fixed, muon
 *   fw_M_muon_fixed, signmuon-p2 fw_M_signmuon_fixed_k2, lionmuon-pK
 *   fw_M_lionmuon_kK   (M = base for gpt2, llama for llama; the "fixed"
 *   runs are the ones with the paper's stated betas, theory/algorithms.md §9).
 * The CPU side: the mean best validation loss over the finished evaluation
 * seeds of each config.  Spearman's rho over the configs present on both
 * sides, two-sided p from the t approximation on n - 2 degrees of freedom. */
#include "audit.h"
#include "paper_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lionmuon/verdict.h"

static const char *const PAPER_RUN[PP_NCONF] = {
    "adamw", "lion", "signum_fixed", "muon_fixed", "signmuon_fixed_k2",
    "lionmuon_k1", "lionmuon_k2", "lionmuon_k5", "lionmuon_k20", "lionmuon_k100"};

/* The CPU reproduction's mean best validation loss of (model, config) over
 * the seeds that finished (NAN when none did). */
static double cpu_mean(const char *dir, int mi, int ci)
{
    double s = 0;
    int n = 0;
    for (int seed = 1; seed <= 64; seed++) {
        char *run = pp_main_dir(dir, mi, ci, seed);
        double l = pp_summary_value(run, "best_val_loss");
        free(run);
        if (isfinite(l)) {
            s += l;
            n++;
        }
    }
    return n ? s / n : NAN;
}

/* One model: the table rows, rho and p. */
static json_t *rank_model(const audit_set *s, const char *dir, int mi, lm_buf *md)
{
    double a[PP_NCONF], b[PP_NCONF];
    int n = 0;
    json_t *rows = json_array();
    const char *m = !strcmp(PP_MODELS[mi], "gpt2") ? "base" : PP_MODELS[mi];
    if (md)
        lm_buf_printf(md, "\n| %s config | paper run (124M) | paper best val | CPU mean best val |\n"
                          "|---|---|---|---|\n", PP_MODELS[mi]);
    for (int ci = 0; ci < PP_NCONF; ci++) {
        char *name = pp_strf("fw_%s_%s", m, PAPER_RUN[ci]);
        double pv = audit_best_val(s, name), cv = cpu_mean(dir, mi, ci);
        if (md)
            lm_buf_printf(md, "| %s | %s | %.4f | %.4f |\n", PP_CONFIGS[ci].name, name, pv, cv);
        json_array_append_new(rows, json_pack("{s:s,s:s,s:o,s:o}", "config", PP_CONFIGS[ci].name,
                                              "paper_run", name,
                                              "paper_best_val", isfinite(pv) ? json_real(pv) : json_null(),
                                              "cpu_mean_best_val", isfinite(cv) ? json_real(cv) : json_null()));
        free(name);
        if (isfinite(pv) && isfinite(cv)) {
            a[n] = pv;
            b[n++] = cv;
        }
    }
    double rho = n >= 3 ? vd_spearman(n, a, b) : NAN, p = vd_spearman_p(n, rho);
    if (md)
        lm_buf_printf(md, "\n%s: Spearman rho = %.3f over %d configs (two-sided p = %.3g, t "
                          "approximation on %d df).\n", PP_MODELS[mi], rho, n, p, n - 2);
    return json_pack("{s:s,s:i,s:o,s:o,s:o}", "model", PP_MODELS[mi], "n", n, "spearman",
                     isfinite(rho) ? json_real(rho) : json_null(), "p",
                     isfinite(p) ? json_real(p) : json_null(), "configs", rows);
}

int paper_rank_agreement(const char *audit_dir, const char *results_dir, lm_buf *md, json_t **js,
                         lm_error *e)
{
    audit_set s;
    if (audit_load(audit_dir, &s, e) != 0)
        return lm_wrap(e, "rank agreement");
    if (md)
        lm_buf_printf(md, "\n## Rank agreement with the paper's 124M runs\n\nThe same ten "
                          "optimizers ranked by best validation loss: the paper's FineWeb runs "
                          "under `%s` (one seed each) against this reproduction's mean over its "
                          "evaluation seeds under `%s`.  A rank correlation, not a test of the "
                          "losses: the scales differ by three orders of magnitude.\n",
                      audit_dir, results_dir);
    json_t *arr = json_array();
    for (int mi = 0; mi < PP_NMODEL; mi++)
        json_array_append_new(arr, rank_model(&s, results_dir, mi, md));
    audit_free(&s);
    if (js)
        *js = json_pack("{s:s,s:s,s:o}", "paper_runs", audit_dir, "cpu_results", results_dir,
                        "models", arr);
    else
        json_decref(arr);
    return 0;
}
