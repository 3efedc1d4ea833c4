/* test_data.c - the synthetic corpus has the entropy rate it states, batches
 * are pure functions of (seed, split, k), and token files are validated. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lionmuon/data.h"

static data_source *synth(int V, double s, unsigned long seed)
{
    data_config c = {DATA_SYNTHETIC, V, s, seed, NULL, NULL};
    lm_error e;
    data_source *d = data_open(&c, &e);
    cr_assert(d, "%s", e.msg);
    return d;
}

/* The stated entropy rate is the Zipf entropy -sum p_r ln p_r.  Each target's
 * loss under the true conditional, -ln P(x_{t+1} | x_t), is the -ln p of an
 * independent Zipf rank, so over n targets its mean estimates H with
 * standard error sigma / sqrt(n), sigma^2 = sum p (ln p)^2 - H^2 (exact).
 * We require agreement within 4 standard errors. */
Test(data, empirical_entropy_matches_stated_rate)
{
    int V = 256, B = 16, T = 64, K = 60;
    data_source *d = synth(V, 1.1, 42);
    const double *p = data_zipf(d);
    double H = 0, m2 = 0;
    for (int r = 0; r < V; r++) {
        H -= p[r] * log(p[r]);
        m2 += p[r] * log(p[r]) * log(p[r]);
    }
    cr_expect(fabs(H - data_entropy_rate(d)) < 1e-12);
    double sigma = sqrt(m2 - H * H);
    int *in = malloc(sizeof(int) * B * T), *tg = malloc(sizeof(int) * B * T);
    double sum = 0;
    long n = 0;
    for (int k = 0; k < K; k++) {
        data_batch(d, DATA_TRAIN, k, B, T, in, tg);
        for (int i = 0; i < B * T; i++) {
            cr_assert(in[i] >= 0 && in[i] < V && tg[i] >= 0 && tg[i] < V);
            if (i % T < T - 1)
                cr_assert_eq(tg[i], in[i + 1], "targets are the inputs shifted by one");
            sum -= log(data_cond_prob(d, in[i], tg[i]));
            n++;
        }
    }
    double mean = sum / n, se = sigma / sqrt((double)n);
    fprintf(stderr, "synthetic V=256 s=1.1: entropy rate %.5f, empirical %.5f "
            "(se %.5f, n %ld), ln V %.5f\n", H, mean, se, n, log(V));
    cr_expect(fabs(mean - H) < 4 * se, "empirical %.6f vs stated %.6f (4 se = %.6f)",
              mean, H, 4 * se);
    free(in);
    free(tg);
    data_free(d);
}

/* An estimate that does not use the true conditionals: the plug-in
 * conditional entropy from bigram counts, V = 8, n = 2^18 transitions.  Its
 * bias is about -V (V - 1) / (2 n) = -1.1e-4 and its standard error about
 * sigma / sqrt(n) < 2e-3; we allow 1e-2. */
Test(data, plugin_bigram_entropy_small_vocab)
{
    int V = 8, B = 64, T = 64, K = 64;
    data_source *d = synth(V, 1.3, 7);
    static long cnt[8][8];
    memset(cnt, 0, sizeof cnt);
    int *in = malloc(sizeof(int) * B * T), *tg = malloc(sizeof(int) * B * T);
    long n = 0;
    for (int k = 0; k < K; k++) {
        data_batch(d, DATA_TRAIN, k, B, T, in, tg);
        for (int i = 0; i < B * T; i++, n++)
            cnt[in[i]][tg[i]]++;
    }
    double Hc = 0;
    for (int a = 0; a < V; a++) {
        long na = 0;
        for (int b = 0; b < V; b++)
            na += cnt[a][b];
        for (int b = 0; b < V; b++)
            if (cnt[a][b])
                Hc -= (double)cnt[a][b] / n * log((double)cnt[a][b] / na);
    }
    cr_expect(fabs(Hc - data_entropy_rate(d)) < 1e-2, "plug-in %.5f vs stated %.5f", Hc,
              data_entropy_rate(d));
    free(in);
    free(tg);
    data_free(d);
}

/* Token frequencies are heavy-tailed: the most frequent 10% of the tokens
 * carry well over 10% of the mass (measured ~40% at V = 256, s = 1.1) and
 * the commonest token is several times the uniform 1/V. */
Test(data, unigram_frequencies_heavy_tailed)
{
    int V = 256, B = 32, T = 64, K = 30;
    data_source *d = synth(V, 1.1, 1);
    long *f = calloc(V, sizeof(long));
    int *in = malloc(sizeof(int) * B * T), *tg = malloc(sizeof(int) * B * T);
    long n = 0;
    for (int k = 0; k < K; k++) {
        data_batch(d, DATA_TRAIN, k, B, T, in, tg);
        for (int i = 0; i < B * T; i++, n++)
            f[tg[i]]++;
    }
    /* sort descending */
    for (int i = 0; i < V; i++)
        for (int j = i + 1; j < V; j++)
            if (f[j] > f[i]) {
                long t = f[i];
                f[i] = f[j];
                f[j] = t;
            }
    long top = 0;
    for (int i = 0; i < V / 10; i++)
        top += f[i];
    double share = (double)top / n, first = (double)f[0] / n;
    fprintf(stderr, "synthetic unigram: top 10%% of tokens carry %.3f, top token %.4f "
            "(uniform %.4f)\n", share, first, 1.0 / V);
    cr_expect(share > 0.25, "top-10%% share %.3f", share);
    cr_expect(first > 4.0 / V, "top token frequency %.4f", first);
    free(f);
    free(in);
    free(tg);
    data_free(d);
}

Test(data, batches_reproducible_from_seed)
{
    int B = 4, T = 16, N = B * T;
    data_source *d = synth(64, 1.1, 5), *d2 = synth(64, 1.1, 5), *d3 = synth(64, 1.1, 6);
    int a[64], at[64], b[64], bt[64];
    data_batch(d, DATA_TRAIN, 3, B, T, a, at);
    data_batch(d2, DATA_TRAIN, 3, B, T, b, bt);
    cr_expect(!memcmp(a, b, sizeof a) && !memcmp(at, bt, sizeof at), "same seed, same batch");
    data_batch(d, DATA_TRAIN, 4, B, T, b, bt);
    cr_expect(memcmp(a, b, sizeof a), "batch 4 differs from batch 3");
    data_batch(d, DATA_VAL, 3, B, T, b, bt);
    cr_expect(memcmp(a, b, sizeof a), "validation differs from training");
    data_batch(d3, DATA_TRAIN, 3, B, T, b, bt);
    cr_expect(memcmp(a, b, sizeof a), "another seed, another batch");
    (void)N;
    data_free(d);
    data_free(d2);
    data_free(d3);
}

static char *tmpname(const char *tag)
{
    static char buf[4][256];
    static int i;
    char *p = buf[i++ % 4];
    snprintf(p, 256, "/tmp/lm_test_data_%d_%s", (int)getpid(), tag);
    return p;
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    fwrite(b, 1, n, f);
    fclose(f);
}

Test(data, llmc_roundtrip_and_rejects_bad_files)
{
    uint16_t tok[300];
    for (int i = 0; i < 300; i++)
        tok[i] = (uint16_t)((i * 7919) % 50257);
    char *good = tmpname("good.bin");
    lm_error e;
    cr_assert_eq(data_write_llmc(good, tok, 300, &e), 0, "%s", e.msg);
    uint16_t *r;
    size_t n;
    cr_assert_eq(data_read_llmc(good, &r, &n, &e), 0, "%s", e.msg);
    cr_expect_eq(n, 300);
    cr_expect(!memcmp(r, tok, sizeof tok));
    free(r);

    unsigned char buf[1024 + 600];
    FILE *f = fopen(good, "rb");
    cr_assert_eq(fread(buf, 1, sizeof buf, f), sizeof buf);
    fclose(f);

    char *bad = tmpname("bad.bin");
    buf[0] ^= 0xff; /* magic */
    write_bytes(bad, buf, sizeof buf);
    cr_expect_eq(data_read_llmc(bad, &r, &n, &e), -1);
    cr_expect(strstr(e.msg, bad) && strstr(e.msg, "magic"), "%s", e.msg);
    buf[0] ^= 0xff;
    buf[4] = 2; /* version */
    write_bytes(bad, buf, sizeof buf);
    cr_expect_eq(data_read_llmc(bad, &r, &n, &e), -1);
    cr_expect(strstr(e.msg, "version"), "%s", e.msg);
    buf[4] = 1;
    write_bytes(bad, buf, sizeof buf - 10); /* truncated body */
    cr_expect_eq(data_read_llmc(bad, &r, &n, &e), -1);
    cr_expect(strstr(e.msg, bad) && strstr(e.msg, "truncated"), "%s", e.msg);
    write_bytes(bad, buf, 100); /* truncated header */
    cr_expect_eq(data_read_llmc(bad, &r, &n, &e), -1);
    cr_expect(strstr(e.msg, "truncated"), "%s", e.msg);
    cr_expect_eq(data_read_llmc("/nonexistent/x.bin", &r, &n, &e), -1);
    cr_expect(strstr(e.msg, "/nonexistent/x.bin"), "%s", e.msg);

    /* as a data source: the largest token is reported with its file, and
     * batches are windows of the file */
    data_config c = {DATA_LLMC, 0, 0, 3, good, good};
    data_source *d = data_open(&c, &e);
    cr_assert(d, "%s", e.msg);
    int mx = 0;
    for (int i = 0; i < 300; i++)
        mx = tok[i] > mx ? tok[i] : mx;
    cr_expect_eq(data_max_token(d), mx);
    cr_expect(strstr(data_max_token_source(d), good));
    int in[2 * 8], tg[2 * 8];
    data_batch(d, DATA_TRAIN, 0, 2, 8, in, tg);
    for (int b = 0; b < 2; b++) {
        int off = -1;
        for (int i = 0; i + 8 < 300 && off < 0; i++)
            if (tok[i] == in[b * 8] && tok[i + 1] == in[b * 8 + 1] && tok[i + 2] == in[b * 8 + 2])
                off = i;
        cr_assert(off >= 0);
        for (int t = 0; t < 8; t++) {
            cr_expect_eq(in[b * 8 + t], tok[off + t]);
            cr_expect_eq(tg[b * 8 + t], tok[off + t + 1]);
        }
    }
    cr_expect_eq(data_check_seq_len(d, 400, &e), -1);
    cr_expect(strstr(e.msg, "--seq-len"), "%s", e.msg);
    data_free(d);
    unlink(good);
    unlink(bad);
}

Test(data, text_files_are_bytes_with_holdout)
{
    char *p = tmpname("text.txt");
    const char *txt = "the quick brown fox jumps over the lazy dog, again and again.\n";
    write_bytes(p, txt, strlen(txt));
    data_config c = {DATA_TEXT, 0, 0, 1, p, NULL};
    lm_error e;
    data_source *d = data_open(&c, &e);
    cr_assert(d, "%s", e.msg);
    cr_expect_eq(data_max_token(d), 'z');
    int in[4], tg[4];
    data_batch(d, DATA_VAL, 0, 1, 4, in, tg); /* the last 10%: 6 bytes "gain.\n" */
    char w[6] = {(char)in[0], (char)in[1], (char)in[2], (char)in[3], (char)tg[3], 0};
    cr_expect(strstr("gain.\n", w) != NULL, "validation window '%s'", w);
    cr_expect_eq(data_check_seq_len(d, 10, &e), -1); /* 6 held-out bytes < 11 */
    data_free(d);
    unlink(p);
}
