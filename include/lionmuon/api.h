/* api.h - the stable C API of liblionmuon.so (prefix lm_): the one set of
 * symbols the shared library exports, for callers in other languages
 * (python/lionmuon/ binds it with ctypes) and for C or C++ harnesses that
 * link the shared library.
 *
 * Conventions, the same for every function:
 *   - Arrays are row-major (C order) doubles, contiguous, owned by the
 *     caller, with explicit shapes as int64_t: a numpy array's buffer as it
 *     is (numpy.ascontiguousarray(a, dtype=numpy.float64)).
 *   - A function returning int returns 0 on success and -1 on failure; the
 *     failure's one-line message (naming the tensor, key or file at fault)
 *     is then lm_last_error().  Every such call clears that message first,
 *     so it always describes the last call made on this thread.
 *   - Handles (lm_opt, lm_st) come from a _new/_read function and go back
 *     with the matching _free; free(NULL)-style, _free accepts NULL.  A
 *     handle may be used by one thread at a time.
 *   - Nothing is printed.
 * This header is self-contained: it includes no other lionmuon header, so an
 * installed copy is usable with `pkg-config --cflags --libs lionmuon` alone.
 * The internal API of liblionmuon.a (msign(), opt_*, st_*, la_*) is not
 * exported by the shared library; these functions wrap it.
 */
#ifndef LM_API_H
#define LM_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library and of this API, "MAJOR.MINOR.PATCH"; the
 * shared library's soname carries MAJOR (liblionmuon.so.0). */
#define LIONMUON_VERSION "0.1.0"

/* Marks the exported symbols; the library is built with -fvisibility=hidden,
 * so everything else stays inside it. */
#if defined(__GNUC__)
#define LM_API __attribute__((visibility("default")))
#else
#define LM_API
#endif

/* ---- version and errors ---- */

/* The library's version, LIONMUON_VERSION as it was built (compare with the
 * header's to detect a mismatched install). */
LM_API const char *lm_version(void);

/* The message of the last failing lm_ call on this thread, "" after a
 * success.  Thread-local: each thread sees its own calls only.  The pointer
 * stays valid until the thread's next lm_ call. */
LM_API const char *lm_last_error(void);

/* ---- msign, the polar factor (theory/algorithms.md §1) ---- */

typedef struct {
    int iterations;     /* Newton-Schulz iterations run (0 for svd) */
    int rank;           /* svd: singular values kept; else -1 */
    double last_change; /* cubic: the final relative change; else 0 */
} lm_msign_info;

/* out (m x n) = msign(in) = U V^T by `method`: "svd" (exact, LAPACK dgesdd),
 * "ns5" (Keller Jordan's quintic), "cubic" (Higham's iteration to a
 * tolerance) or "polar-express" (Amsel et al. 2025) -- the methods and
 * options of `lionmuon msign`:
 *   steps      ns5, polar-express: iterations (default 5); cubic: the
 *              iteration cap (default 100); 0 means the default, < 0 fails
 *   tol        cubic: stop when ||X_{k+1} - X_k||_F <= tol ||X_{k+1}||_F;
 *              0 means the default 1e-12, < 0 fails
 *   rank_rtol  svd: keep sigma_i > rank_rtol sigma_max (0: max(m, n) eps,
 *              numpy.linalg.matrix_rank's tolerance); cubic: the cut-off
 *              below which singular values go to 0 (0: 1e-10); < 0 fails
 * m, n >= 0 (an empty matrix is a no-op); out may equal in; info may be
 * NULL.  Fails on an unknown method, a non-finite input (naming the
 * element), a shape beyond int range, LAPACK non-convergence, or cubic not
 * converging within its cap. */
LM_API int lm_msign(const char *method, int64_t m, int64_t n, const double *in, double *out,
                    int steps, double tol, double rank_rtol, lm_msign_info *info);

/* The stable rank ||X||_F^2 / ||X||_2^2 of X (m x n), with ||X||_2 from 3
 * power iterations from the fixed start vector v_j = 1 + j/n.  0 for X = 0.
 * The optimizer's adaptive trigger (theory/algorithms.md §2.3) starts its
 * power iteration from a seeded random vector instead; lm_opt_trigger gives
 * its own estimate.  Fails on a non-finite input or a shape beyond int
 * range. */
LM_API int lm_stable_rank(int64_t m, int64_t n, const double *X, double *srank);

/* ---- comparison under numpy.allclose's rule (`lionmuon compare`) ---- */

typedef struct {
    double max_abs;       /* max |a - b|; NaN if either array holds a NaN */
    double max_rel;       /* max |a - b| / |b| (0/0 = 0, x/0 = inf); NaN likewise */
    double rel_frobenius; /* ||a - b||_F / ||b||_F (0 when equal; inf if b = 0 != a);
                             NaN if either array holds a NaN */
    int64_t worst_index;  /* flat index of the largest |a - b| (the first NaN
                             pair if any; -1 for empty arrays) */
    int64_t n_bad;        /* elements failing |a - b| <= atol + rtol |b| */
    int64_t first_bad;    /* flat index of the first of them, -1 if none */
    int32_t passed;       /* 1 when n_bad == 0 */
    int32_t reserved;
} lm_compare_result;

/* Compare a (the array under test, shape shape_a[0..ndim_a-1]) with the
 * reference b elementwise: an element passes when |a - b| <= atol + rtol |b|;
 * NaN in either always fails, an infinity passes only against the same
 * infinity (numpy.allclose, and `lionmuon compare`).  Returns 0 when the
 * comparison was made (its verdict in r->passed), -1 when it could not be:
 * different shapes, rank outside 0..8, negative rtol or atol. */
LM_API int lm_compare(int ndim_a, const int64_t *shape_a, const double *a, int ndim_b,
                      const int64_t *shape_b, const double *b, double rtol, double atol,
                      lm_compare_result *r);

/* ---- the optimizer family (theory/algorithms.md §2-§7) ---- */

typedef struct lm_opt lm_opt;

/* Routing of a parameter: the matrix rule (LionMuon and its special cases)
 * or AdamW.  AUTO is `lionmuon step`'s rule: 2-D tensors follow the matrix
 * rule, every other tensor AdamW; with optimizer "adamw" everything does. */
enum { LM_RULE_AUTO = -1, LM_RULE_MATRIX = 0, LM_RULE_ADAMW = 1 };

/* A new optimizer from a JSON object of settings; NULL or "" is lionmuon
 * with the paper's defaults.  Keys (dashes or underscores alike, the flags
 * of `lionmuon step` without the leading dashes):
 *   optimizer      adamw|lion|signum|muon|signmuon|lionmuon|muon-nesterov|
 *                  signmuon-sgd (also sign_muon; default lionmuon); the
 *                  other defaults are that optimizer's (`lionmuon step
 *                  --optimizer NAME --help`)
 *   lr_muon, lr_sign, lr_adamw, weight_decay        numbers >= 0
 *   beta1, beta2, adamw_beta1, adamw_beta2          numbers in [0, 1)
 *   period         integer >= 0 (0: never a Muon step)
 *   msign          svd|ns5|cubic|polar-express (the Muon step's msign)
 *   ns_steps       integer >= 1 (cubic: iteration cap, default 100)
 *   msign_tol, msign_rank_rtol   the msign's tol (> 0) and rank_rtol (>= 0)
 *   srank_alpha    number >= 0; > 0: the stable-rank trigger replaces P
 *   srank_exact    true: the trigger's ||X||_2 from LAPACK (needs srank_alpha)
 *   seed           integer >= 0: the trigger's start vectors (a run's --seed;
 *                  default 0, as `lionmuon step`)
 *   adamw_eps      number > 0;  adamw_eps_mode  paper|torch
 *   decay_on       all|linear: the tensors weight decay applies to (linear:
 *                  the parameters added as Linear weights, lm_opt_add_param_ex)
 *   round_update   none|bf16: each applied matrix update rounded to bfloat16
 *   momentum_form  ema|sgd, muon_adjust  original|match_rms_adamw
 *                  (muon-nesterov only)
 *   nesterov       on|off or true|false (muon-nesterov, signmuon-sgd only)
 *   sign_scaling   none|muon|frob, cheap_mode  sign|norm|cheap-ns,
 *   cheap_ns_steps integer >= 1   (signmuon-sgd only)
 * A null value means the default.  The rules are the command line's (one
 * function applies both): a setting that contradicts a named optimizer fails
 * (beta2 != beta1 for signum, muon, signmuon, muon-nesterov, signmuon-sgd; a
 * non-zero period for lion and signum; a period other than 1 for muon and
 * muon-nesterov), as does a setting the optimizer does not read (nesterov
 * with lionmuon, ...), an unknown key, a wrong type or an out-of-range
 * value; the message names the key. */
LM_API int lm_opt_new(const char *config_json, lm_opt **out);
LM_API void lm_opt_free(lm_opt *opt);

/* The effective settings as a JSON object (the keys above, every one set,
 * with the pinned values applied; null for a setting the optimizer does not
 * read), written to buf as a NUL-terminated string of at most size bytes.
 * Passed back to lm_opt_new it gives the same optimizer.  Returns the length
 * the whole string needs (without the NUL), as snprintf does, or -1. */
LM_API int lm_opt_config(const lm_opt *opt, char *buf, size_t size);

/* Whether a parameter is the weight of a Linear layer: the parameters that
 * weight decay applies to under decay_on = linear (torch's two AdamW groups:
 * decay on the Linear weights, none on biases, gains and embeddings).  AUTO:
 * the 2-D tensors. */
enum { LM_LINEAR_AUTO = -1, LM_LINEAR_NO = 0, LM_LINEAR_YES = 1 };

/* Declare parameter `name` of rank ndim and shape shape[0..ndim-1] with
 * routing `rule` (LM_RULE_*) and, for _ex, `linear` (LM_LINEAR_*;
 * lm_opt_add_param is LM_LINEAR_AUTO).  The matrix rule needs ndim == 2.
 * Parameters are numbered in the order they are added; all must be added
 * before the first step or state access (which allocate the state, zeros).
 * Fails on a duplicate or empty name, a bad shape, a bad rule or linear
 * value, or a late addition. */
LM_API int lm_opt_add_param(lm_opt *opt, const char *name, int ndim, const int64_t *shape,
                            int rule);
LM_API int lm_opt_add_param_ex(lm_opt *opt, const char *name, int ndim, const int64_t *shape,
                               int rule, int linear);
LM_API int lm_opt_nparams(const lm_opt *opt);
/* Name of parameter i, NULL when out of range. */
LM_API const char *lm_opt_param_name(const lm_opt *opt, int i);
/* LM_RULE_MATRIX or LM_RULE_ADAMW as resolved for `name`, -1 if unknown. */
LM_API int lm_opt_param_rule(const lm_opt *opt, const char *name);
/* 1 if `name` counts as a Linear weight (resolved), 0 if not, -1 if unknown. */
LM_API int lm_opt_param_linear(const lm_opt *opt, const char *name);

/* One raw step at global step counter t >= 0 (a Muon step when t mod P == 0;
 * AdamW's bias correction uses k = t + 1) with schedule multiplier lr_scale
 * (1 for none; it multiplies every learning rate, except under signmuon-sgd,
 * whose schedule scales lr_muon alone): params[i] (updated in place) and
 * grads[i] are the n == nparams arrays of parameter i, numel values each.
 * took_muon, when not NULL, receives per parameter the step it took: 1 (Muon
 * step), 0 (Lion step, or signmuon-sgd's cheap step) or -1 (AdamW).
 * Gradients and parameters are checked finite first; on any failure neither
 * the parameters nor the optimizer state change. */
LM_API int lm_opt_step(lm_opt *opt, int64_t t, double lr_scale, int64_t n,
                       double *const *params, const double *const *grads, int *took_muon);

/* Copy a state buffer of parameter `name` out (get) or in (set): `which` is
 * "momentum" for the matrix rule, "exp_avg" or "exp_avg_sq" for AdamW (the
 * state.NAME.WHICH tensors of `lionmuon step`); numel must be the
 * parameter's.  set refuses non-finite values and a negative exp_avg_sq. */
LM_API int lm_opt_state_get(lm_opt *opt, const char *name, const char *which, double *out,
                            int64_t numel);
LM_API int lm_opt_state_set(lm_opt *opt, const char *name, const char *which,
                            const double *in, int64_t numel);

/* The step-type decision for matrix parameter `name` at step t with
 * gradient grad (numel values), from the current momentum M and without
 * changing anything, exactly as the step would make it: *srank = the
 * trigger's estimate ||X||_F^2 / (||X||_2^2 + 1e-12) of the matrix X it
 * looks at -- C = beta1 M + (1 - beta1) G for the LionMuon rule, the updated
 * momentum mu M + G for signmuon-sgd, the direction D for muon-nesterov --
 * with ||X||_2 from 3 power iterations from the seeded start vector of
 * theory/algorithms.md §2.3 (seed, t, the parameter's index), or from LAPACK
 * with srank_exact; and *muon = 1 if the step would be a Muon step --
 * srank <= srank_alpha min(m, n) when srank_alpha > 0, else t mod P == 0;
 * always for muon-nesterov -- 0 otherwise.  Either pointer may be NULL.
 * Fails for an AdamW parameter. */
LM_API int lm_opt_trigger(lm_opt *opt, const char *name, int64_t t, const double *grad,
                          int64_t numel, double *srank, int *muon);

/* The warm-up + cosine multiplier of step k (theory/algorithms.md §5):
 * 0.01 + 0.99 k / warmup for k < warmup, then (1 + cos(pi (k - warmup) /
 * (iterations - warmup))) / 2, 0 beyond iterations. */
LM_API double lm_lr_schedule(int64_t k, int64_t warmup, int64_t iterations);

/* ---- safetensors files (theory/models.md §4) ---- */

typedef struct lm_st lm_st;

/* Read and validate a safetensors file.  Floating tensors (F64, F32, F16,
 * BF16) are held as double, integer ones (I64, I32) as int64. */
LM_API int lm_st_read(const char *path, lm_st **out);
LM_API void lm_st_free(lm_st *f);

/* Tensor i, 0 <= i < lm_st_count: name; dtype as stored ("F64", "F32",
 * "F16", "BF16", "I64", "I32"); rank; shape (ndim values written to shape,
 * returns ndim); element count; 1 for an integer tensor; its values (f64 for
 * floating tensors, i64 for integer ones, NULL otherwise or when i is out of
 * range; valid until lm_st_free). */
LM_API int lm_st_count(const lm_st *f);
LM_API const char *lm_st_name(const lm_st *f, int i);
LM_API const char *lm_st_dtype(const lm_st *f, int i);
LM_API int lm_st_ndim(const lm_st *f, int i);
LM_API int lm_st_shape(const lm_st *f, int i, int64_t *shape);
LM_API int64_t lm_st_numel(const lm_st *f, int i);
LM_API int lm_st_is_int(const lm_st *f, int i);
LM_API const double *lm_st_data_f64(const lm_st *f, int i);
LM_API const int64_t *lm_st_data_i64(const lm_st *f, int i);

/* The __metadata__ entries (string -> string), in file order. */
LM_API int lm_st_meta_count(const lm_st *f);
LM_API const char *lm_st_meta_key(const lm_st *f, int i);
LM_API const char *lm_st_meta_value(const lm_st *f, int i);

/* Write n tensors to path atomically: tensor i is names[i], of rank
 * ndims[i] (0..8) and shape shapes[i], its values data[i] -- int64_t when
 * is_int[i] (is_int may be NULL: all double), double otherwise.  Floating
 * tensors are stored as F64, or F32 when as_f32 (values must then fit F32),
 * integer ones as I64.  metadata_json: NULL, "" or a JSON object of string
 * -> string.  Fails on a duplicate or empty name, a non-finite value, a bad
 * shape or metadata, or an I/O error naming the path; nothing is left at
 * path on failure. */
LM_API int lm_st_write(const char *path, int n, const char *const *names, const int *ndims,
                       const int64_t *const *shapes, const void *const *data,
                       const int *is_int, const char *metadata_json, int as_f32);

#ifdef __cplusplus
}
#endif

#endif
