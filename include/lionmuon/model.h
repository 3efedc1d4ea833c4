/* model.h - the two transformers of the paper, GPT-2 and LLaMA, forward and
 * backward by hand in double (prefix model_).
 *
 * Tensor names, shapes and layouts are those of the paper's PyTorch modules
 * (llm-baselines GPTBase and Llama, see theory/models.md §1-§2), so a state_dict and a
 * list from model_param_at() name the same tensors:
 *
 *   GPT-2  transformer.wte.weight [V, C]      (tied: also the lm_head)
 *          transformer.wpe.weight [T_max, C]
 *          transformer.h.{i}.ln_1.weight [C]   (+ .bias with bias = 1)
 *          transformer.h.{i}.attn.c_attn.weight [3C, C]  (+ .bias [3C])
 *          transformer.h.{i}.attn.c_proj.weight [C, C]   (+ .bias [C])
 *          transformer.h.{i}.ln_2.weight [C]   (+ .bias)
 *          transformer.h.{i}.mlp.c_fc.weight [4C, C]     (+ .bias [4C])
 *          transformer.h.{i}.mlp.c_proj.weight [C, 4C]   (+ .bias [C])
 *          transformer.ln_f.weight [C]         (+ .bias)
 *   LLaMA  transformer.wte.weight [V, C]      (tied)
 *          transformer.h.{i}.ln_1.weight [C]   (RMSNorm)
 *          transformer.h.{i}.attn.c_attn.weight [3C, C]
 *          transformer.h.{i}.attn.c_proj.weight [C, C]
 *          transformer.h.{i}.ln_2.weight [C]
 *          transformer.h.{i}.mlp.w1.weight, mlp.w2.weight [H, C]
 *          transformer.h.{i}.mlp.c_proj.weight [C, H]
 *          transformer.ln_f.weight [C]
 *
 * Linear layers store W as [out, in] and compute y = x W^T (+ b).  All
 * parameters live in one contiguous buffer and all gradients in another, in
 * the order above (the state_dict order); activations for a fixed (B, T) are
 * allocated once by model_alloc, so forward and backward allocate nothing.
 */
#ifndef LM_MODEL_H
#define LM_MODEL_H

#include <stddef.h>
#include "common.h"

typedef enum { MODEL_GPT2 = 0, MODEL_LLAMA } model_kind;

/* The models' constants (theory/models.md §1-§2), recorded in golden files:
 * the epsilon of LayerNorm and RMSNorm, RoPE's base theta and its pairing of
 * adjacent elements (x[2i], x[2i+1]), and the initialisation's standard
 * deviation (c_proj weights: MODEL_INIT_STD / sqrt(2 L)). */
#define MODEL_NORM_EPS 1e-5
#define MODEL_ROPE_THETA 10000.0
#define MODEL_ROPE_PAIRING "adjacent"
#define MODEL_INIT_STD 0.02

typedef struct {
    model_kind kind;
    int n_layer;     /* L */
    int n_head;      /* nh */
    int n_embd;      /* C */
    int vocab_size;  /* V */
    int block_size;  /* T_max: the position table of GPT-2, the longest sequence */
    int bias;        /* GPT-2 only: Linear and LayerNorm biases */
    int multiple_of; /* LLaMA only: H = multiple_of ceil(floor(8C/3) / multiple_of) */
} model_config;

/* The paper's architecture defaults with the given sizes: bias 0,
 * multiple_of 256. */
model_config model_default_config(model_kind kind, int n_layer, int n_head,
                                  int n_embd, int vocab_size, int block_size);

const char *model_kind_name(model_kind k);
int model_kind_parse(const char *name, model_kind *out);

/* Checks sizes: positive, n_embd divisible by n_head, an even head size for
 * RoPE, no bias with LLaMA.  The message names the flag (--n-embd, ...). */
int model_config_check(const model_config *c, lm_error *e);

/* MLP hidden width: 4C for GPT-2; multiple_of ceil(floor(8C/3)/multiple_of)
 * for LLaMA. */
int model_mlp_hidden(const model_config *c);

typedef struct {
    char *name;      /* state_dict name (owned by the model) */
    int ndim;        /* 1 or 2 */
    int shape[2];    /* [rows, cols]; shape[1] = 1 for a 1-D tensor */
    size_t numel;
    size_t offset;   /* into the parameter (and gradient) buffer */
    double *w, *g;   /* views: value and gradient */
    int hidden;      /* 1 for a 2-D matrix inside a block (transformer.h.*):
                        the matrices the paper routes to the matrix rule */
} model_param;

typedef struct model model;

/* A model for batches of B sequences of T tokens (T <= block_size).
 * Parameters are zero until model_init. */
model *model_alloc(const model_config *c, int B, int T, lm_error *e);
void model_free(model *m);

const model_config *model_get_config(const model *m);
int model_batch(const model *m);
int model_seq_len(const model *m);

/* The parameter list, in state_dict order. */
int model_nparams(const model *m);
const model_param *model_param_at(const model *m, int i);
const model_param *model_find_param(const model *m, const char *name);
/* Total number of scalars, and the two contiguous buffers. */
size_t model_num_params(const model *m);
double *model_params(model *m);
double *model_grads(model *m);

/* Initialisation of the paper's code: every Linear and Embedding weight
 * N(0, 0.02); weights named *c_proj.weight N(0, 0.02 / sqrt(2 L)); biases 0;
 * norm gains 1.  Draws come from a GSL mt19937 seeded with seed, tensor by
 * tensor in list order, row-major within a tensor. */
void model_init(model *m, unsigned long seed);

/* Forward pass on inputs (B*T token ids in [0, V)) and targets (B*T ids in
 * [0, V) or -1 = ignored; NULL: no loss).  *loss = mean cross-entropy over
 * the positions whose target is not -1 (0 when there are none).  Fails,
 * naming the position, on an id out of range. */
int model_forward(model *m, const int *inputs, const int *targets, double *loss,
                  lm_error *e);

/* Gradients of the last forward's loss with respect to every parameter,
 * written (not accumulated) into the gradient buffer.  Requires a forward
 * with targets. */
void model_backward(model *m);

/* Number of positions that counted in the last loss. */
long model_loss_count(const model *m);
/* Logits of the last forward, B*T rows of V. */
const double *model_logits(const model *m);

/* RoPE applied in place to one head vector x (length hs, even) at position
 * t: pairs (x[2i], x[2i+1]) rotated by t theta^(-2i/hs), theta = 10000.
 * Exposed for the tests; the model uses a precomputed table. */
void model_rope_apply(int hs, int t, double *x);

/* Paper FLOPs accounting: N = (hidden-matrix parameters) + V C (+ T C for
 * GPT-2's position table); for GPT-2 this is L (12 C^2) + V C + T C. */
double model_flops_params(const model *m);

#endif
