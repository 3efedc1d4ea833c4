/* data.h - token sources for the transformer (prefix data_).
 *
 * Three sources, each with a training and a validation split:
 *
 *   synthetic  (the default, no download) a first-order Markov chain on V
 *              tokens whose every conditional law is a permuted Zipf law:
 *                P(x_{t+1} = perm_a(r) | x_t = a) = r^-s / Z,  r = 1..V,
 *              Z = sum_r r^-s.  Each row is a permutation of the same law, so
 *              every transition has entropy exactly
 *                H = -sum_r p_r ln p_r,    p_r = r^-s / Z,
 *              whatever the state: H is the entropy rate, and the Bayes-optimal
 *              expected loss of every target given its prefix (the best any
 *              model can do) is exactly H nats.  The permutations perm_a are
 *              Plackett-Luce draws with token weights (b + 1)^-s, so popular
 *              tokens rank high in most rows and the unigram frequencies are
 *              heavy-tailed (Zipf-like), while the rows still differ enough for
 *              the previous token to carry ~1 nat of information.
 *   text       a file of bytes, vocabulary 256.
 *   llmc       llm.c token files: a header of 256 int32 (magic 20240520,
 *              version 1, number of tokens), then that many uint16 tokens.
 *
 * Batches are pure functions of (seed, split, batch index): batch k of a
 * split is the same bytes whenever and however often it is asked for, so a
 * resumed run needs only the step number to continue the data stream.
 * Synthetic rows start from a uniformly random previous state; file rows are
 * windows of T + 1 tokens at uniformly random offsets.  Random numbers:
 * xoshiro256** seeded by splitmix64 of (seed, split, k).
 */
#ifndef LM_DATA_H
#define LM_DATA_H

#include <stdint.h>
#include "common.h"

typedef enum { DATA_SYNTHETIC = 0, DATA_TEXT, DATA_LLMC } data_kind;

#define DATA_SYNTH_MAX_VOCAB 4096
#define DATA_LLMC_MAGIC 20240520
#define DATA_LLMC_VERSION 1

typedef struct {
    data_kind kind;
    int vocab_size;        /* synthetic: V (2..DATA_SYNTH_MAX_VOCAB) */
    double zipf_s;         /* synthetic: Zipf exponent s > 0 (default 1.1) */
    unsigned long seed;    /* synthetic chain and every batch */
    const char *train_path;/* text / llmc */
    const char *val_path;  /* text / llmc; NULL: the last 10% of train_path */
} data_config;

enum { DATA_TRAIN = 0, DATA_VAL = 1 };

typedef struct data_source data_source;

const char *data_kind_name(data_kind k);
int data_kind_parse(const char *name, data_kind *out);

/* Build the synthetic chain or read and validate the files (errors name the
 * file: missing, bad magic or version, truncated, too short). */
data_source *data_open(const data_config *c, lm_error *e);
void data_free(data_source *d);

/* Largest token id present (synthetic: V - 1), to check against the model's
 * vocabulary. */
int data_max_token(const data_source *d);
/* Where the largest token came from, for messages ("file.bin", "synthetic"). */
const char *data_max_token_source(const data_source *d);

/* A 64-bit fingerprint (FNV-1a) of everything the batches are drawn from:
 * the tokens of both splits (files), or the chain's tables (synthetic).  A
 * checkpoint stores it, so a run never resumes on changed data. */
uint64_t data_fingerprint(const data_source *d);

/* Entropy rate in nats per token (the Bayes-optimal loss), or NAN for files. */
double data_entropy_rate(const data_source *d);

/* Fails (naming the file) when a split holds fewer than T + 1 tokens. */
int data_check_seq_len(const data_source *d, int T, lm_error *e);

/* Batch k of a split: B rows of T + 1 consecutive tokens x; inputs[b, t] =
 * x[t], targets[b, t] = x[t + 1]. */
void data_batch(const data_source *d, int split, long k, int B, int T, int *inputs,
                int *targets);

/* Synthetic only: P(next | prev) and the Zipf law p_r (r = 1..V). */
double data_cond_prob(const data_source *d, int prev, int next);
const double *data_zipf(const data_source *d);

/* Reading llm.c token files alone (for tools and tests): the tokens of path,
 * validated.  *tokens is malloc'd. */
int data_read_llmc(const char *path, uint16_t **tokens, size_t *n, lm_error *e);
/* Write tokens as an llm.c file (atomically). */
int data_write_llmc(const char *path, const uint16_t *tokens, size_t n, lm_error *e);

#endif
