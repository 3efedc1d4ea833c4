/* fuzz_targets.h - what each fuzz target does with one input, shared by the
 * libFuzzer entry points (tests/fuzz/fuzz_*.c, built with clang) and by the
 * Criterion replay of the saved findings and seeds (tests/test_fuzz_regress.c,
 * built with the normal compiler).
 *
 * Each function must return normally on every input: a refusal is fine
 * (that is the parser doing its job), a crash, a sanitizer report, a leak or
 * a broken property (abort) is a finding.  The properties checked:
 *   safetensors  st_parse either refuses with a message or accepts; what it
 *                accepts and can write (finite values) serializes and parses
 *                back to the same names, shapes, dtypes-as-written, values
 *                (bitwise) and metadata.
 *   cli          argv = the input split on NUL bytes; cli_parse with a table
 *                holding every flag type, then cli_optim_begin/finish (the
 *                optimizer flags), each either refusing with a message or
 *                accepting values that are finite where they must be.
 *   llmc         data_read_llmc on the input as a file; when accepted, the
 *                token count matches the file size, and data_open plus a few
 *                batches read only inside the token array.
 *   sweep        sweep_parse on the input as a manifest; when accepted, every
 *                run has a non-empty out, an absolute normalised key, an
 *                allowed subcommand, increasing line numbers and a key of
 *                its own, and the runs written back as lines parse to the
 *                same outs and argvs.
 *   ckptmeta     the input as a JSON object of strings is a checkpoint's
 *                __metadata__, checked by ckpt_check_meta against a fixed
 *                expectation; when accepted, every progress value is in
 *                range and the logs hold their headers and step + 1 metrics
 *                rows; when refused, no log was handed back.
 */
#ifndef LM_FUZZ_TARGETS_H
#define LM_FUZZ_TARGETS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lionmuon/common.h"
#include "model/train_impl.h"
#include "tools/sweep.h"
#include "lionmuon/data.h"
#include "lionmuon/safetensors.h"

/* A broken property: say which and abort, so the fuzzer saves the input. */
#define FZ_CHECK(cond)                                                              \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "fuzz property failed: %s (%s:%d)\n", #cond, __FILE__,  \
                    __LINE__);                                                      \
            abort();                                                                \
        }                                                                           \
    } while (0)

/* ---- safetensors ----------------------------------------------------------- */

static inline int fz_same_tensor(const st_tensor *a, const st_tensor *b)
{
    if (strcmp(a->name, b->name) || a->ndim != b->ndim || a->numel != b->numel)
        return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return 0;
    if ((a->f == NULL) != (b->f == NULL))
        return 0;
    if (a->f)
        return a->numel == 0 || !memcmp(a->f, b->f, a->numel * sizeof(double));
    return a->numel == 0 || !memcmp(a->i, b->i, a->numel * sizeof(int64_t));
}

static inline void fz_safetensors(const uint8_t *data, size_t size)
{
    st_file *f = NULL;
    lm_error e = {{0}};
    if (st_parse(data, size, "fuzz.safetensors", &f, &e) != 0) {
        FZ_CHECK(f == NULL);
        FZ_CHECK(e.msg[0] != '\0');
        return;
    }
    FZ_CHECK(f != NULL);
    for (int k = 0; k < f->n; k++) {
        const st_tensor *t = &f->t[k];
        FZ_CHECK(t->name && t->name[0]);
        FZ_CHECK(t->ndim >= 0 && t->ndim <= ST_MAX_DIM);
        FZ_CHECK((t->f == NULL) != (t->i == NULL));
        /* touch every element: ASan catches a short buffer */
        volatile double sink = 0;
        for (size_t j = 0; j < t->numel; j++)
            sink += t->f ? t->f[j] : (double)t->i[j];
        (void)sink;
    }
    /* Round trip: what was accepted and is finite writes and reads back. */
    unsigned char *buf = NULL;
    size_t len = 0;
    if (st_serialize(f, 0, &buf, &len, &e) == 0) {
        st_file *g = NULL;
        int rc = st_parse(buf, len, "fuzz.roundtrip", &g, &e);
        if (rc != 0)
            fprintf(stderr, "round trip refused: %s\n", e.msg);
        FZ_CHECK(rc == 0);
        FZ_CHECK(g->n == f->n && g->nmeta == f->nmeta);
        for (int k = 0; k < f->n; k++) {
            const st_tensor *b = st_get(g, f->t[k].name);
            FZ_CHECK(b != NULL);
            FZ_CHECK(fz_same_tensor(&f->t[k], b));
        }
        for (int k = 0; k < f->nmeta; k++) {
            const char *v = st_get_meta(g, f->mkey[k]);
            FZ_CHECK(v != NULL && !strcmp(v, f->mval[k]));
        }
        st_free(g);
        free(buf);
    } else {
        FZ_CHECK(buf == NULL && e.msg[0] != '\0');
    }
    st_free(f);
}

/* ---- command-line parser ----------------------------------------------------- */

#define FZ_MAX_ARGS 64

/* Split data on NUL bytes into argv[1..]; argv[0] is the subcommand. */
static inline int fz_split_argv(const uint8_t *data, size_t size, char *copy, char **argv)
{
    int argc = 0;
    argv[argc++] = (char *)"fuzz";
    memcpy(copy, data, size);
    copy[size] = '\0';
    size_t start = 0;
    for (size_t i = 0; i <= size && argc < FZ_MAX_ARGS; i++)
        if (i == size || copy[i] == '\0') {
            if (i > start || i < size) /* keep empty arguments, not a trailing one */
                argv[argc++] = copy + start;
            start = i + 1;
        }
    argv[argc] = NULL;
    return argc;
}

static inline void fz_cli(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    char *argv[FZ_MAX_ARGS + 1];
    int argc = fz_split_argv(data, size, copy, argv);
    lm_error e = {{0}};

    /* a table with every flag type */
    double d = 1.0;
    long l = 2;
    int i = 3, b = 0;
    const char *s = "default";
    cli_flag flags[] = {
        {"--double", FLAG_DOUBLE, &d, "a double", 0},
        {"--long", FLAG_LONG, &l, "a long", 0},
        {"--int", FLAG_INT, &i, "an int", 0},
        {"--string", FLAG_STRING, &s, "a string", 0},
        {"--bool", FLAG_BOOL, &b, "a boolean", 0},
    };
    const char *pos[3];
    int npos = -1, help = -1;
    if (cli_parse(argc, argv, flags, 5, pos, 3, &npos, &help, &e) == 0) {
        FZ_CHECK(npos >= 0 && npos <= 3);
        FZ_CHECK(help == 0 || help == 1);
        FZ_CHECK(isfinite(d));
        for (int k = 0; k < npos; k++)
            FZ_CHECK(pos[k] != NULL);
        FZ_CHECK(s != NULL);
    } else {
        FZ_CHECK(e.msg[0] != '\0');
    }

    /* the optimizer flags, as `step` uses them */
    opt_config c;
    cli_optim_strings os;
    cli_flag of[CLI_OPTIM_NFLAGS];
    int nof = 0;
    e.msg[0] = '\0';
    if (cli_optim_begin(argc, argv, "lionmuon", &c, &os, of, &nof, &e) == 0) {
        FZ_CHECK(nof > 0 && nof <= CLI_OPTIM_NFLAGS);
        if (cli_parse(argc, argv, of, nof, pos, 2, &npos, &help, &e) == 0 &&
            cli_optim_finish(&c, &os, of, nof, &e) == 0) {
            FZ_CHECK(isfinite(c.lr_muon) && c.lr_muon >= 0);
            FZ_CHECK(isfinite(c.lr_sign) && c.lr_sign >= 0);
            FZ_CHECK(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1);
            FZ_CHECK(c.period >= 0 && c.msign.steps >= 1);
        } else {
            FZ_CHECK(e.msg[0] != '\0');
        }
    } else {
        FZ_CHECK(e.msg[0] != '\0');
    }
    free(copy);
}

/* ---- llm.c token files -------------------------------------------------------- */

/* path holds the input.  The reader takes only a path (data.h has no
 * in-memory entry point), so the libFuzzer target hands it a memfd. */
static inline void fz_llmc_path(const char *path, size_t size)
{
    uint16_t *tok = NULL;
    size_t n = 0;
    lm_error e = {{0}};
    if (data_read_llmc(path, &tok, &n, &e) != 0) {
        FZ_CHECK(e.msg[0] != '\0');
        return;
    }
    FZ_CHECK(size == 1024 + 2 * n);
    volatile unsigned sink = 0;
    for (size_t k = 0; k < n; k++)
        sink += tok[k];
    (void)sink;
    free(tok);

    /* the same file as a training source (the last 10% held out) */
    data_config c = {0};
    c.kind = DATA_LLMC;
    c.seed = 1;
    c.train_path = path;
    data_source *src = data_open(&c, &e);
    FZ_CHECK(src != NULL);
    FZ_CHECK(data_max_token(src) < 65536);
    const int B = 2, T = 4;
    if (data_check_seq_len(src, T, &e) == 0) {
        int in[2 * 4], tg[2 * 4];
        for (long k = 0; k < 3; k++) {
            data_batch(src, DATA_TRAIN, k, B, T, in, tg);
            data_batch(src, DATA_VAL, k, B, T, in, tg);
            for (int j = 0; j < B * T; j++)
                FZ_CHECK(in[j] >= 0 && in[j] <= data_max_token(src) && tg[j] >= 0 &&
                         tg[j] <= data_max_token(src));
        }
    }
    data_free(src);
}

/* ---- the step and msign subcommands on a fuzzed file ------------------------
 *
 * The first input byte picks the subcommand and its flags, the rest is the
 * safetensors file at `path` (written there by the caller, without that
 * byte).  The output goes to /dev/null, which the writer refuses only after
 * all the work is done: the names, shapes, state and numerics of `step` and
 * `msign` all run on whatever the reader accepted.  Exit status 0, 1 or 2
 * are all fine; the property is surviving. */
static inline void fz_step_path(uint8_t selector, const char *path)
{
    static const char *const opts[] = {"lionmuon", "signmuon", "muon", "lion",
                                       "signum", "adamw", "muon-nesterov"};
    static const char *const methods[] = {"svd", "ns5", "cubic", "polar-express"};
    char in[256];
    snprintf(in, sizeof in, "%s", path);
    if (selector & 0x80) {
        char *argv[] = {"msign", "--method", (char *)methods[selector & 3], in,
                        "/dev/null", NULL};
        int rc = cmd_msign(5, argv);
        FZ_CHECK(rc >= 0 && rc <= 2);
    } else {
        char *argv[] = {"step", "--optimizer", (char *)opts[(selector & 0x7f) % 7],
                        "--srank-alpha", selector & 0x40 ? "0.5" : "0", in, "/dev/null", NULL};
        int rc = cmd_step(7, argv);
        FZ_CHECK(rc >= 0 && rc <= 2);
    }
}

/* ---- sweep manifests ----------------------------------------------------------- */

static inline int fz_allowed(const char *cmd)
{
    for (int i = 0; sweep_allowed[i]; i++)
        if (!strcmp(cmd, sweep_allowed[i]))
            return 1;
    return 0;
}

static inline void fz_sweep(const uint8_t *data, size_t size)
{
    sweep_manifest *m = NULL;
    lm_error e = {{0}};
    if (sweep_parse((const char *)data, size, "fuzz.jsonl", &m, &e) != 0) {
        FZ_CHECK(m == NULL && e.msg[0] != '\0');
        return;
    }
    FZ_CHECK(m != NULL && m->n >= 1);
    lm_buf again = {0};
    for (int i = 0; i < m->n; i++) {
        const sweep_run *r = &m->runs[i];
        FZ_CHECK(r->out[0] != '\0' && r->key[0] == '/');
        FZ_CHECK(r->argc >= 1 && sweep_argv_allowed(r->argc, (const char *const *)r->argv));
        FZ_CHECK(fz_allowed(r->argv[0]) ||
                 (r->argc >= 4 && !strcmp(r->argv[0], "paper") && !strcmp(r->argv[1], "timed") &&
                  !strcmp(r->argv[3], "train")));
        FZ_CHECK(i == 0 || r->line > m->runs[i - 1].line);
        for (int j = 0; j < i; j++)
            FZ_CHECK(strcmp(r->key, m->runs[j].key) != 0);
        FZ_CHECK(sweep_format_line(&again, r->out, r->argc, (const char *const *)r->argv,
                                   &e) == 0);
    }
    sweep_manifest *m2 = NULL;
    int rc = sweep_parse(again.s, again.len, "fuzz.again", &m2, &e);
    if (rc != 0)
        fprintf(stderr, "written back, refused: %s\n", e.msg);
    FZ_CHECK(rc == 0 && m2->n == m->n);
    for (int i = 0; i < m->n; i++) {
        FZ_CHECK(!strcmp(m->runs[i].out, m2->runs[i].out));
        FZ_CHECK(!strcmp(m->runs[i].key, m2->runs[i].key));
        FZ_CHECK(m->runs[i].argc == m2->runs[i].argc);
        for (int k = 0; k < m->runs[i].argc; k++)
            FZ_CHECK(!strcmp(m->runs[i].argv[k], m2->runs[i].argv[k]));
    }
    sweep_free(m2);
    sweep_free(m);
    lm_buf_free(&again);
}

/* ---- checkpoint metadata ------------------------------------------------------ */

/* The expectation the ckptmeta seeds are written for (make_corpus.py):
 * 6 iterations of 16 tokens, seed 1, diagnostics every 2 steps. */
#define FZ_CKPT_CONFIG "{\"fuzz\": true}"
#define FZ_CKPT_RUN_ID "0123456789abcdef0123456789abcdef"
#define FZ_CKPT_DATA "00000000000000ff"
#define FZ_CKPT_METRICS "step,train_loss,val_loss\n"
#define FZ_CKPT_DIAG "step,a,b,c,d,e,f,g\n"

static inline void fz_ckptmeta(const uint8_t *data, size_t size)
{
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return;
    }
    st_file *f = st_new();
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
        if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v))
            st_set_meta(f, key, json_string_value(v));
    json_decref(j);
    ckpt_expect x = {FZ_CKPT_CONFIG, FZ_CKPT_RUN_ID, FZ_CKPT_DATA, "the fuzz data", 6, 1, 2,
                     16.0, FZ_CKPT_METRICS, FZ_CKPT_DIAG};
    progress_state ps;
    memset(&ps, 0, sizeof ps);
    lm_buf m = {0}, d = {0};
    lm_error e = {{0}};
    if (ckpt_check_meta(f, "fuzz.ckpt", &x, &ps, &m, &d, &e) != 0) {
        FZ_CHECK(e.msg[0] != '\0' && m.len == 0 && d.len == 0);
    } else {
        FZ_CHECK(ps.step >= 0 && ps.step <= 6);
        FZ_CHECK(ps.best_val_step >= 0 && ps.best_val_step <= ps.step);
        FZ_CHECK(ps.diag_step >= -1 && ps.diag_step <= ps.step);
        FZ_CHECK(ps.tokens == 16.0 * ps.step);
        FZ_CHECK(isfinite(ps.flops) && ps.flops >= 0 && isfinite(ps.wall_s) && ps.wall_s >= 0);
        FZ_CHECK(isfinite(ps.best_val) && ps.best_val >= 0 && ps.best_val <= ps.last_val);
        FZ_CHECK(!strcmp(ps.run_id, FZ_CKPT_RUN_ID));
        FZ_CHECK(!strncmp(m.s, FZ_CKPT_METRICS, strlen(FZ_CKPT_METRICS)));
        FZ_CHECK(!strncmp(d.s, FZ_CKPT_DIAG, strlen(FZ_CKPT_DIAG)));
        long lines = 0;
        for (size_t k = 0; k < m.len; k++)
            lines += m.s[k] == '\n';
        FZ_CHECK(lines == ps.step + 2);
    }
    lm_buf_free(&m);
    lm_buf_free(&d);
    st_free(f);
}

#endif
