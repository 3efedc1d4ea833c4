/* optstate.h - the optimizer state of one parameter in a safetensors file
 * (prefix optstate_): the one serialisation that training checkpoints and
 * `lionmuon step` share.
 *
 * Keys (external tools read and write them; never rename):
 *   state.NAME.momentum                      a tensor of a matrix rule
 *   state.NAME.exp_avg, state.NAME.exp_avg_sq  a tensor of AdamW (torch's names)
 * Each has the parameter's shape and is written as F64.  Which keys a tensor
 * has follows its rule in the opt_state: opt_buffer(s, i, 1) exists only for
 * AdamW.
 */
#ifndef LM_OPTSTATE_H
#define LM_OPTSTATE_H

#include <stdint.h>

#include "common.h"
#include "optim.h"
#include "safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What optstate_load does with a state tensor missing from the file. */
typedef enum {
    OPTSTATE_REQUIRED = 0,     /* an error naming the tensor (checkpoints) */
    OPTSTATE_ZEROS_IF_ABSENT   /* leave the buffer as it is: zeros after
                                  opt_alloc (a first `step`) */
} optstate_absent;

/* The parameter a state belongs to: NAME, the key of its own tensor in the
 * same file (NAME in a checkpoint, params.NAME in a step file; errors name
 * it), and its shape. */
typedef struct {
    const char *name;
    const char *param_key;
    int ndim;
    const int64_t *shape;
} optstate_param;

/* Add the state of tensor i of s under p's keys (momentum, or exp_avg then
 * exp_avg_sq).  Fails on a duplicate key. */
int optstate_add(st_file *f, const optstate_param *p, opt_state *s, int i, lm_error *e);
/* The same under PREFIX + the keys (golden files: "step.k." + state.NAME.*). */
int optstate_add_prefixed(st_file *f, const char *prefix, const optstate_param *p,
                          opt_state *s, int i, lm_error *e);

/* Load the state of tensor i of s from f.  Each tensor must be floating
 * point, of p's shape and finite, and exp_avg_sq non-negative; errors name
 * path and the tensor.  On an error the buffers may be partly loaded. */
int optstate_load(const st_file *f, const char *path, const optstate_param *p,
                  optstate_absent absent, opt_state *s, int i, lm_error *e);

#ifdef __cplusplus
}
#endif

#endif
