/* stepfile.h - one raw optimizer step on the tensors of a safetensors file
 * (prefix stepfile_): the engine of `lionmuon step`, the oracle a GPU
 * implementation is held against update by update.
 *
 * The input file holds params.NAME and grads.NAME (same shape) for each
 * parameter and, when present, its state under the keys of optstate.h
 * (absent state means zeros).  __metadata__ key `step` is the global step
 * counter t (absent: 0).  2-D tensors follow the configured matrix rule,
 * every other tensor AdamW (every tensor with OPT_ADAMW).  Any other tensor
 * name is refused, as is a gradient or state without its parameter, state of
 * the kind the parameter's rule does not keep, and non-finite values.
 *
 * The output holds params.NAME and the state (F64), the input's metadata,
 * step = t + 1 and optimizer = the optimizer's name; it is written
 * atomically, and only when the step succeeded with finite results.
 */
#ifndef LM_STEPFILE_H
#define LM_STEPFILE_H

#include "common.h"
#include "optim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    opt_config opt;       /* checked by the caller (opt_config_check) */
    const char *in_path;  /* safetensors input */
    const char *out_path; /* safetensors output */
} stepfile_opts;

/* One step: no schedule (lr_scale 1), no clipping.  0, or -1 with e naming
 * the file and tensor at fault. */
int stepfile_run(const stepfile_opts *o, lm_error *e);

#ifdef __cplusplus
}
#endif

#endif
