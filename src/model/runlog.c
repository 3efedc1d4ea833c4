/* runlog.c - the human- and plot-facing outputs of a training run:
 * metrics.csv and diagnostics.csv (assembled in memory, written whole),
 * summary.json, loss.gp with its plot loss.png, and the progress line. */
#include "train_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lionmuon/fs.h"
#include "lionmuon/linalg.h"

const char runlog_metrics_header[] =
    "step,train_loss,val_loss,lr_muon,lr_sign,lr_adamw,tokens,flops,wall_s\n";

void runlog_diag_header(lm_buf *b)
{
    lm_buf_printf(b, "step");
    for (int j = 0; j < NDIAG; j++)
        lm_buf_printf(b, ",%s", diag_names[j]);
    lm_buf_printf(b, "\n");
}

/* Row 0: the validation loss at init, before any step. */
void runlog_init_row(lm_buf *metrics, double val, double wall_s)
{
    lm_buf_printf(metrics, "0,,%.10g,,,,0,0,%.3f\n", val, wall_s);
}

/* The row of a step; val_loss is empty unless the step evaluated. */
void runlog_metrics_row(lm_buf *metrics, const train_config *c, long step, double train_loss,
                        int has_val, double val, double scale, const progress_state *ps)
{
    lm_buf_printf(metrics, "%ld,%.10g,", step, train_loss);
    if (has_val)
        lm_buf_printf(metrics, "%.10g", val);
    /* the second class schedules lr_muon alone */
    double side = opt_fixed_side_rates(&c->opt) ? 1.0 : scale;
    lm_buf_printf(metrics, ",%.10g,%.10g,%.10g,%.0f,%.6g,%.3f\n", c->opt.lr_muon * scale,
                  c->opt.lr_sign * side, c->opt.lr_adamw * side, ps->tokens, ps->flops,
                  ps->wall_s);
}

void runlog_diag_row(lm_buf *diags, long step, const double v[NDIAG])
{
    lm_buf_printf(diags, "%ld", step);
    for (int j = 0; j < NDIAG; j++)
        lm_buf_printf(diags, ",%.10g", v[j]);
    lm_buf_printf(diags, "\n");
}

static void fmt_eta(double s, char *buf, size_t n)
{
    if (!isfinite(s) || s < 0)
        s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
}

/* The progress line after step t on stderr: rewritten in place on a
 * terminal (c->progress 1), a plain line otherwise (2).  The rate is over
 * the steps of this call (since tstart); the time left is at that rate. */
void runlog_progress(const train_config *c, long t, long start, double tstart,
                     double train_loss, double last_val)
{
    long B = c->batch_size, T = c->model.block_size;
    double el = la_seconds() - tstart, rate = (t + 1 - start) / (el > 0 ? el : 1e-9);
    char eta[32];
    fmt_eta((c->iterations - t - 1) / rate, eta, sizeof eta);
    fprintf(stderr, "%sstep %ld/%ld  loss %.4f  val %.4f  %.0f tok/s  ETA %s%s",
            c->progress == 1 ? "\r" : "", t + 1, c->iterations, train_loss, last_val,
            rate * B * T, eta, c->progress == 1 ? "   " : "\n");
    fflush(stderr);
}

int runlog_write_csvs(const char *dir, const lm_buf *metrics, const lm_buf *diags,
                      lm_error *e)
{
    if (lm_write_in_dir(dir, "metrics.csv", metrics->s, metrics->len, e) ||
        lm_write_in_dir(dir, "diagnostics.csv", diags->s, diags->len, e))
        return -1;
    return 0;
}

/* A finite value, or null (JSON has no NaN). */
static json_t *real_or_null(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

/* The last diagnostics and their step, for summary.json. */
static json_t *diag_object(const double *diag_last, long diag_step)
{
    json_t *d = json_object();
    json_object_set_new(d, "step", json_integer(diag_step));
    for (int j = 0; j < NDIAG; j++)
        json_object_set_new(d, diag_names[j], real_or_null(diag_last[j]));
    return d;
}

int runlog_write_summary(const run *r, const progress_state *ps, const train_result *res,
                         const double *diag_last, long diag_step, lm_error *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "run_id", json_string(ps->run_id));
    json_object_set_new(o, "version", json_string(LIONMUON_VERSION));
    json_object_set_new(o, "config", train_config_object(r->c));
    json_object_set_new(o, "steps_done", json_integer(res->steps_done));
    json_object_set_new(o, "stopped_early", json_boolean(res->stopped_early));
    json_object_set_new(o, "n_params", json_integer((json_int_t)model_num_params(r->m)));
    json_object_set_new(o, "final_train_loss", real_or_null(res->final_train_loss));
    json_object_set_new(o, "final_val_loss", real_or_null(res->final_val_loss));
    json_object_set_new(o, "best_val_loss", real_or_null(ps->best_val));
    json_object_set_new(o, "best_val_step", json_integer(ps->best_val_step));
    /* the synthetic corpus's entropy rate is the Bayes-optimal loss */
    double H = data_entropy_rate(r->d);
    json_object_set_new(o, "entropy_rate", real_or_null(H));
    json_object_set_new(o, "bayes_loss", real_or_null(H));
    json_object_set_new(o, "excess_loss", isfinite(H) ? real_or_null(ps->best_val - H)
                                                      : json_null());
    json_object_set_new(o, "total_flops", json_real(ps->flops));
    json_object_set_new(o, "flops_model_per_step", json_real(r->flops_model));
    json_object_set_new(o, "flops_msign_per_muon_step", json_real(r->flops_ns));
    json_object_set_new(o, "flops_sign_per_lion_step", json_real(r->flops_sign));
    json_object_set_new(o, "tokens", json_real(ps->tokens));
    json_object_set_new(o, "wall_s", json_real(ps->wall_s));
    json_object_set_new(o, "optimizer_state_bytes",
                        json_integer((json_int_t)opt_state_bytes(r->os)));
    if (diag_step >= 0)
        json_object_set_new(o, "last_diagnostics", diag_object(diag_last, diag_step));
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(o);
    lm_buf b = {0};
    lm_buf_printf(&b, "%s\n", s);
    free(s);
    int rc = lm_write_in_dir(r->c->out_dir, "summary.json", b.s, b.len, e);
    lm_buf_free(&b);
    return rc;
}

/* loss.gp: train and validation loss against the step, and the Bayes-optimal
 * loss where the data has one (H finite). */
static void plot_script(lm_buf *b, const train_config *c, double H)
{
    /* cairo (antialiased, real dash patterns); the key below the axes, never
     * over the curves */
    lm_buf_printf(b, "# gnuplot script written by lionmuon train; run: gnuplot loss.gp\n"
                  "set terminal pngcairo noenhanced size 900,600 font ',11'\n"
                  "set output 'loss.png.tmp'\n"
                  "set datafile separator ','\n"
                  "set key outside below center horizontal maxrows 1 Left reverse height 1.5\n"
                  "set xlabel 'step'\nset ylabel 'loss (nats)'\nset grid lc rgb '#d0d0d0'\n"
                  "set title 'lionmuon train: %s, %s'\n",
                  model_kind_name(c->model.kind), opt_kind_name(c->opt.kind));
    lm_buf_printf(b, "plot 'metrics.csv' every ::1 using 1:2 with lines lw 1.5 lc rgb '#1f77b4' "
                  "title 'train (batch loss)', \\\n"
                  "     'metrics.csv' every ::1 using 1:($3 == $3 ? $3 : NaN) with "
                  "linespoints lw 2 pt 7 ps 0.8 lc rgb '#ff7f0e' title 'validation'");
    if (isfinite(H))
        lm_buf_printf(b, ", \\\n     %.10g with lines lw 2 dt (8,6) lc rgb 'black' "
                      "title 'Bayes-optimal (entropy rate %.4f)'", H, H);
    lm_buf_printf(b, "\n");
}

/* loss.gp, and loss.png by running gnuplot in the output directory (the plot
 * goes to a temporary name, renamed when gnuplot succeeds, so a failed run
 * never leaves a partial PNG).  Not having gnuplot is not an error: returns
 * 1 with no PNG; -1 only when loss.gp cannot be written. */
int runlog_write_plot(const train_config *c, double H, lm_error *e)
{
    lm_buf b = {0};
    plot_script(&b, c, H);
    int rc = lm_write_in_dir(c->out_dir, "loss.gp", b.s, b.len, e);
    lm_buf_free(&b);
    if (rc)
        return -1;
    lm_error ignored; /* a figure is never required: any failure is "no PNG" */
    return lm_gnuplot_png(c->out_dir, "loss.gp", "loss.png", &ignored) == 0 ? 0 : 1;
}
