/* stepfile.h - one raw optimizer step on the tensors of a safetensors file
 * (prefix stepfile_): the engine of `lionmuon step`, the oracle a GPU
 * implementation is held against update by update (theory/models.md §5).
 *
 * Input, either of:
 *   - a step file: params.NAME and grads.NAME (same shape) for each
 *     parameter and, when present, its state under the keys of optstate.h
 *     (absent state means zeros);
 *   - a `lionmuon train` checkpoint (__metadata__ format =
 *     lionmuon-checkpoint-1): the parameters under their bare NAMEs and
 *     their state; the gradients then come from grads_path (keys grads.NAME
 *     or NAME), and the routing from the checkpoint's config unless given.
 * __metadata__ key `step` is the global step counter t (absent: 0).
 *
 * Routing (theory/algorithms.md §6): "2d" (the default of a step file)
 * sends every 2-D tensor to the matrix rule and every other tensor to
 * AdamW; any other name (those of `lionmuon train --routing`) is decided by
 * the route callback.  With OPT_ADAMW every tensor follows AdamW.  Any
 * other tensor name is refused, as is a gradient or state without its
 * parameter, state of the kind the parameter's rule does not keep, recorded
 * step kinds (a previous step's output) that disagree with the rules, and
 * non-finite values.
 *
 * Precision: LP_F64 is this reference.  LP_F32, LP_BF16 and LP_F16 emulate a
 * GPU implementation (lowprec.h): parameters, gradients and state are
 * rounded to float32 (master weights), the step's elementwise arithmetic is
 * rounded to float32, and the Muon step's msign runs in the format (its
 * products' inputs and outputs in the format, float32 accumulation); the
 * output is F32.
 *
 * The output holds params.NAME and the state, the input's metadata (a
 * checkpoint's is not copied) and: format = lionmuon-step-1, step = t + 1,
 * optimizer, period, beta1, beta2 (in effect), lr_muon, lr_sign, lr_adamw,
 * lr_scale, adamw_beta1, adamw_beta2, adamw_eps, adamw_eps_mode,
 * weight_decay, msign, ns_steps, srank_alpha, routing, precision, and
 * step_kinds: a JSON object giving each output tensor's kind, "muon" or
 * "sign" (a matrix's step), "adamw", or "state" (what `compare --baseline`
 * reads).  It is written atomically, and only when the step succeeded with
 * finite results.
 */
#ifndef LM_STEPFILE_H
#define LM_STEPFILE_H

#include <stdint.h>

#include "common.h"
#include "lowprec.h"
#include "optim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Decide the rule of one tensor under a routing name other than "2d": set
 * *matrix to 1 for the matrix rule, 0 for AdamW; return -1 (with a message)
 * for an unknown routing name. */
typedef int (*stepfile_route_fn)(void *ctx, const char *routing, const char *name, int ndim,
                                 const int64_t *shape, int *matrix, lm_error *e);

typedef struct {
    opt_config opt;         /* checked by the caller (opt_config_check) */
    const char *in_path;    /* safetensors input */
    const char *out_path;   /* safetensors output */
    const char *grads_path; /* NULL, or the gradients (required for a checkpoint) */
    const char *routing;    /* NULL: the input's recorded routing, else "2d" */
    stepfile_route_fn route;/* NULL: only "2d" is known */
    void *route_ctx;
    lp_precision precision; /* LP_F64 (0), LP_F32, LP_BF16 or LP_F16 */
    double lr_scale;        /* multiplies every learning rate; 0 means 1 */
} stepfile_opts;

/* The return value of stepfile_run for input that cannot be stepped (the
 * command exits 2); -1 is a failure of the step or of the write. */
#define STEPFILE_BAD_INPUT (-2)

/* One step: no schedule, no clipping.  0, -1 or STEPFILE_BAD_INPUT, with e
 * naming the file and tensor at fault. */
int stepfile_run(const stepfile_opts *o, lm_error *e);

#ifdef __cplusplus
}
#endif

#endif
