/* data.c - the synthetic Zipf-Markov corpus, byte files and llm.c token
 * files, and deterministic batches (see data.h for the definitions). */
#include "lionmuon/data.h"
#include "lionmuon/fs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct data_source {
    data_kind kind;
    int V;
    /* synthetic */
    double s, H;
    double *zipf, *cdf;   /* p_r and its running sum, r = 0..V-1 (rank r+1) */
    uint16_t *perm;       /* perm[a * V + r]: the token of rank r after a */
    uint16_t *rank;       /* rank[a * V + b]: the rank of token b after a */
    /* files */
    uint16_t *tok[2];     /* train, val */
    size_t ntok[2];
    char *path[2];
    int max_token;
    const char *max_src;  /* where max_token occurs: a literal or path[s] */
    unsigned long seed;
};

/* ---- random numbers: splitmix64 to seed, xoshiro256** to draw ---- */

typedef struct {
    uint64_t s[4];
} xrng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* The stream of (seed, split, k): each key is mixed in turn. */
static void xrng_seed(xrng *r, uint64_t seed, uint64_t split, uint64_t k)
{
    uint64_t x = seed;
    x = splitmix64(&x) ^ (split * 0xD1B54A32D192ED03ULL);
    x = splitmix64(&x) ^ (k * 0x8CB92BA72F3D8DD7ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t xrng_next(xrng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* uniform on [0, 1) with 53 random bits */
static double xrng_uniform(xrng *r)
{
    return (double)(xrng_next(r) >> 11) * 0x1.0p-53;
}

/* uniform integer in [0, n), by rejection (no modulo bias) */
static uint64_t xrng_below(xrng *r, uint64_t n)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = xrng_next(r);
    while (x >= lim);
    return x % n;
}

/* ---- the synthetic chain ---- */

typedef struct {
    double key;
    int idx;
} keyed;

static int by_key_desc(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return x->idx - y->idx;
}

/* p_r = r^-s / Z;  H = -sum p_r ln p_r;  perm_a a Plackett-Luce draw with
 * weights (b + 1)^-s: sort the Gumbel-perturbed log-weights
 * -s ln(b + 1) - ln(-ln U_b) in decreasing order. */
static int synth_build(data_source *d, lm_error *e)
{
    int V = d->V;
    double s = d->s;
    d->zipf = lm_malloc(sizeof(double) * V);
    d->cdf = lm_malloc(sizeof(double) * V);
    /* For a large s the far terms p_r underflow to 0; their share of H,
     * -p ln p, tends to 0 with p, so it is taken as 0 -- never 0 * (-inf) =
     * NaN.  (Z >= 1: its first term is 1.) */
    double Z = 0;
    for (int r = V - 1; r >= 0; r--) /* small terms first */
        Z += pow(r + 1.0, -s);
    double H = 0, c = 0;
    for (int r = 0; r < V; r++) {
        double p = pow(r + 1.0, -s) / Z;
        d->zipf[r] = p;
        c += p;
        d->cdf[r] = c;
        if (p > 0)
            H -= p * log(p);
    }
    d->cdf[V - 1] = 1.0;
    d->H = H;
    d->perm = lm_malloc(sizeof(uint16_t) * (size_t)V * V);
    d->rank = lm_malloc(sizeof(uint16_t) * (size_t)V * V);
    keyed *k = lm_malloc(sizeof(keyed) * V);
    xrng r;
    xrng_seed(&r, d->seed, 2, 0);
    for (int a = 0; a < V; a++) {
        for (int b = 0; b < V; b++) {
            double u = xrng_uniform(&r);
            while (u == 0.0)
                u = xrng_uniform(&r);
            k[b].key = -s * log(b + 1.0) - log(-log(u));
            k[b].idx = b;
        }
        qsort(k, V, sizeof *k, by_key_desc);
        for (int q = 0; q < V; q++) {
            d->perm[(size_t)a * V + q] = (uint16_t)k[q].idx;
            d->rank[(size_t)a * V + k[q].idx] = (uint16_t)q;
        }
    }
    free(k);
    d->max_token = V - 1;
    d->max_src = "the synthetic corpus";
    (void)e;
    return 0;
}

/* Smallest rank r with cdf[r] > u (binary search). */
static int zipf_draw(const data_source *d, double u)
{
    int lo = 0, hi = d->V - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (d->cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* ---- files ---- */

/* The whole of a token file: a regular file (a directory, a device or a
 * FIFO is refused by lm_read_file), with room for its tokens as uint16
 * (two bytes per byte of text) checked against the memory limit. */
static int slurp(const char *path, unsigned char **buf, size_t *len, lm_error *e)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        lm_mem_check(3.0 * (double)st.st_size, path, e))
        return -1;
    return lm_read_file(path, 0, buf, len, e);
}

static int32_t rd_i32(const unsigned char *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

int data_read_llmc(const char *path, uint16_t **tokens, size_t *n, lm_error *e)
{
    unsigned char *buf;
    size_t len;
    if (slurp(path, &buf, &len, e))
        return -1;
    if (len < 1024) {
        free(buf);
        return lm_fail(e, "%s: truncated llm.c token file (%zu bytes, the header alone "
                       "is 1024)", path, len);
    }
    int32_t magic = rd_i32(buf), version = rd_i32(buf + 4), cnt = rd_i32(buf + 8);
    if (magic != DATA_LLMC_MAGIC) {
        free(buf);
        return lm_fail(e, "%s: not an llm.c token file (magic %d, expected %d)", path,
                       magic, DATA_LLMC_MAGIC);
    }
    if (version != DATA_LLMC_VERSION) {
        free(buf);
        return lm_fail(e, "%s: llm.c token file version %d, expected %d", path, version,
                       DATA_LLMC_VERSION);
    }
    if (cnt < 0 || len != 1024 + 2 * (size_t)cnt) {
        free(buf);
        return lm_fail(e, "%s: header says %d tokens (%zu bytes) but the file has %zu "
                       "bytes after the header%s", path, cnt, 2 * (size_t)(cnt < 0 ? 0 : cnt),
                       len - 1024, len < 1024 + 2 * (size_t)(cnt < 0 ? 0 : cnt) ?
                       " (truncated)" : "");
    }
    *tokens = lm_malloc(sizeof(uint16_t) * (size_t)(cnt ? cnt : 1));
    for (int32_t i = 0; i < cnt; i++)
        (*tokens)[i] = (uint16_t)(buf[1024 + 2 * i] | buf[1024 + 2 * i + 1] << 8);
    *n = (size_t)cnt;
    free(buf);
    return 0;
}

int data_write_llmc(const char *path, const uint16_t *tokens, size_t n, lm_error *e)
{
    if (n > INT32_MAX)
        return lm_fail(e, "%s: too many tokens for an llm.c file", path);
    size_t len = 1024 + 2 * n;
    unsigned char *buf = lm_calloc(len, 1);
    int32_t hdr[3] = {DATA_LLMC_MAGIC, DATA_LLMC_VERSION, (int32_t)n};
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 4; b++)
            buf[4 * i + b] = (unsigned char)((uint32_t)hdr[i] >> (8 * b));
    for (size_t i = 0; i < n; i++) {
        buf[1024 + 2 * i] = (unsigned char)(tokens[i] & 0xff);
        buf[1024 + 2 * i + 1] = (unsigned char)(tokens[i] >> 8);
    }
    int rc = lm_write_atomic(path, buf, len, e);
    free(buf);
    return rc;
}

static int read_text(const char *path, uint16_t **tokens, size_t *n, lm_error *e)
{
    unsigned char *buf;
    size_t len;
    if (slurp(path, &buf, &len, e))
        return -1;
    *tokens = lm_malloc(sizeof(uint16_t) * (len ? len : 1));
    for (size_t i = 0; i < len; i++)
        (*tokens)[i] = buf[i];
    *n = len;
    free(buf);
    return 0;
}

/* ---- the source ---- */

static const char *const DATA_KIND_NAMES[] = {"synthetic", "text", "llmc"};

const char *data_kind_name(data_kind k)
{
    return (unsigned)k < 3u ? DATA_KIND_NAMES[k] : "?";
}

int data_kind_parse(const char *name, data_kind *out)
{
    int i = lm_name_lookup(DATA_KIND_NAMES, 3, name);
    if (i < 0)
        return -1;
    *out = (data_kind)i;
    return 0;
}

data_source *data_open(const data_config *c, lm_error *e)
{
    data_source *d = lm_calloc(1, sizeof *d);
    d->kind = c->kind;
    d->seed = c->seed;
    if (c->kind == DATA_SYNTHETIC) {
        if (c->vocab_size < 2 || c->vocab_size > DATA_SYNTH_MAX_VOCAB) {
            lm_fail(e, "--vocab-size %d: the synthetic corpus takes 2..%d", c->vocab_size,
                    DATA_SYNTH_MAX_VOCAB);
            free(d);
            return NULL;
        }
        if (!(c->zipf_s > 0) || !isfinite(c->zipf_s)) {
            lm_fail(e, "--zipf-s must be a positive number (got %g)", c->zipf_s);
            free(d);
            return NULL;
        }
        d->V = c->vocab_size;
        d->s = c->zipf_s;
        synth_build(d, e);
        return d;
    }
    if (!c->train_path) {
        lm_fail(e, "--train-data is required with --data %s", data_kind_name(c->kind));
        free(d);
        return NULL;
    }
    const char *paths[2] = {c->train_path, c->val_path};
    for (int s = 0; s < 2; s++) {
        if (!paths[s])
            continue;
        int rc = c->kind == DATA_LLMC ? data_read_llmc(paths[s], &d->tok[s], &d->ntok[s], e)
                                      : read_text(paths[s], &d->tok[s], &d->ntok[s], e);
        if (rc) {
            data_free(d);
            return NULL;
        }
        d->path[s] = lm_strdup(paths[s]);
    }
    if (!c->val_path) {
        /* hold out the last 10% of the training file */
        size_t n = d->ntok[0], nv = n / 10;
        d->tok[1] = lm_malloc(sizeof(uint16_t) * (nv ? nv : 1));
        memcpy(d->tok[1], d->tok[0] + (n - nv), sizeof(uint16_t) * nv);
        d->ntok[1] = nv;
        d->ntok[0] = n - nv;
        size_t L = strlen(c->train_path) + 32;
        d->path[1] = lm_malloc(L);
        snprintf(d->path[1], L, "%s (last 10%%)", c->train_path);
    }
    d->max_token = -1;
    d->max_src = "";
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < d->ntok[s]; i++)
            if (d->tok[s][i] > d->max_token) {
                d->max_token = d->tok[s][i];
                d->max_src = d->path[s];
            }
    d->V = d->max_token + 1;
    return d;
}

void data_free(data_source *d)
{
    if (!d)
        return;
    free(d->zipf);
    free(d->cdf);
    free(d->perm);
    free(d->rank);
    for (int s = 0; s < 2; s++) {
        free(d->tok[s]);
        free(d->path[s]);
    }
    free(d);
}

int data_max_token(const data_source *d) { return d->max_token; }
const char *data_max_token_source(const data_source *d) { return d->max_src; }

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

uint64_t data_fingerprint(const data_source *d)
{
    uint64_t h = 0xcbf29ce484222325ull;
    uint64_t head[2] = {(uint64_t)d->kind, (uint64_t)d->V};
    h = fnv_bytes(h, head, sizeof head);
    if (d->kind == DATA_SYNTHETIC) {
        size_t V = (size_t)d->V;
        h = fnv_bytes(h, &d->s, sizeof d->s);
        h = fnv_bytes(h, d->zipf, V * sizeof *d->zipf);
        return fnv_bytes(h, d->perm, V * V * sizeof *d->perm);
    }
    for (int s = 0; s < 2; s++) {
        uint64_t n = d->ntok[s];
        h = fnv_bytes(h, &n, sizeof n);
        h = fnv_bytes(h, d->tok[s], d->ntok[s] * sizeof *d->tok[s]);
    }
    return h;
}

double data_entropy_rate(const data_source *d)
{
    return d->kind == DATA_SYNTHETIC ? d->H : NAN;
}

int data_check_seq_len(const data_source *d, int T, lm_error *e)
{
    if (d->kind == DATA_SYNTHETIC)
        return 0;
    for (int s = 0; s < 2; s++)
        if (d->ntok[s] < (size_t)T + 1)
            return lm_fail(e, "%s: %zu tokens, fewer than --seq-len + 1 = %d", d->path[s],
                           d->ntok[s], T + 1);
    return 0;
}

void data_batch(const data_source *d, int split, long k, int B, int T, int *inputs,
                int *targets)
{
    xrng r;
    xrng_seed(&r, d->seed, (uint64_t)split, (uint64_t)k);
    for (int b = 0; b < B; b++) {
        int *in = inputs + (size_t)b * T, *tg = targets + (size_t)b * T;
        if (d->kind == DATA_SYNTHETIC) {
            /* previous state uniform; then T + 1 transitions */
            int x = (int)xrng_below(&r, (uint64_t)d->V);
            for (int t = 0; t <= T; t++) {
                int next = d->perm[(size_t)x * d->V + zipf_draw(d, xrng_uniform(&r))];
                if (t < T)
                    in[t] = next;
                if (t > 0)
                    tg[t - 1] = next;
                x = next;
            }
        } else {
            const uint16_t *tok = d->tok[split];
            size_t off = (size_t)xrng_below(&r, (uint64_t)(d->ntok[split] - (size_t)T));
            for (int t = 0; t < T; t++) {
                in[t] = tok[off + t];
                tg[t] = tok[off + t + 1];
            }
        }
    }
}

double data_cond_prob(const data_source *d, int prev, int next)
{
    if (d->kind != DATA_SYNTHETIC)
        return NAN;
    return d->zipf[d->rank[(size_t)prev * d->V + next]];
}

const double *data_zipf(const data_source *d)
{
    return d->kind == DATA_SYNTHETIC ? d->zipf : NULL;
}
