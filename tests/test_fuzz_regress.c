/* test_fuzz_regress.c - every input the fuzzers ever found, and every seed,
 * replayed through the same harness (tests/fuzz/fuzz_targets.h) in the
 * normal suite, built with the normal compiler: no clang needed.
 *
 *   tests/fuzz/regress/TARGET/...  inputs that once crashed, leaked or broke a
 *                                 property (kept forever once fixed)
 *   tests/fuzz/corpus/TARGET/...   the committed seed corpora
 * for the targets safetensors, cli, llmc, step, sweep and ckptmeta
 * (fuzz_targets.h).
 *
 * The property is the fuzzers' own: each input is refused with a message or
 * accepted consistently, and the process survives (a crash fails the test;
 * under `make sanitize` so does any sanitizer report).  The tests run from
 * the repository root (run_all.sh changes there); a missing directory holds
 * no inputs, which is not an error for regress/ (nothing found yet).
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/fuzz_targets.h"

typedef void (*fz_mem_fn)(const uint8_t *, size_t);

/* The step target takes a selector byte and a file: write the rest of the
 * input to a temporary file and run the subcommand with stdio silenced. */
static void replay_step(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    char path[] = "/tmp/lm-fuzz-step.XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0, "mkstemp");
    cr_assert_eq(write(fd, data + 1, size - 1), (ssize_t)(size - 1));
    close(fd);
    FILE *null = fopen("/dev/null", "w"), *out = stdout, *err = stderr;
    stdout = null;
    stderr = null;
    fz_step_path(data[0], path);
    stdout = out;
    stderr = err;
    fclose(null);
    unlink(path);
}

/* Read the whole of path (a small file). */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    rewind(fp);
    cr_assert_geq(n, 0);
    unsigned char *b = malloc((size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, fp), (size_t)n, "short read of %s", path);
    fclose(fp);
    *len = (size_t)n;
    return b;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of dir, sorted (NULL-terminated; NULL if no dir). */
static char **list_files(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    *count = 0;
    if (!d)
        return NULL;
    int cap = 16;
    char **v = malloc(sizeof *v * (size_t)cap);
    struct dirent *de;
    while ((de = readdir(d))) {
        char path[1024];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (de->d_name[0] == '.' || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (*count + 1 >= cap)
            v = realloc(v, sizeof *v * (size_t)(cap *= 2));
        v[(*count)++] = strdup(path);
    }
    closedir(d);
    qsort(v, (size_t)*count, sizeof *v, by_name);
    v[*count] = NULL;
    return v;
}

/* Replay every file of dir through fn (in memory) or, for the path-based
 * llm.c reader, through fz_llmc_path.  Returns the number replayed. */
static int replay(const char *dir, fz_mem_fn fn)
{
    int n;
    char **files = list_files(dir, &n);
    for (int k = 0; k < n; k++) {
        size_t len;
        if (fn) {
            unsigned char *b = slurp(files[k], &len);
            fn(b, len);
            free(b);
        } else {
            struct stat st;
            cr_assert_eq(stat(files[k], &st), 0);
            fz_llmc_path(files[k], (size_t)st.st_size);
        }
        free(files[k]);
    }
    free(files);
    return n;
}

static void replay_target(const char *target, fz_mem_fn fn)
{
    char seeds[256], regress[256];
    snprintf(seeds, sizeof seeds, "tests/fuzz/corpus/%s", target);
    snprintf(regress, sizeof regress, "tests/fuzz/regress/%s", target);
    int ns = replay(seeds, fn);
    int nr = replay(regress, fn);
    /* the seeds are committed: none found means the test ran from the wrong
     * directory and checked nothing */
    cr_assert_gt(ns, 0, "no seeds in %s (run from the repository root)", seeds);
    cr_log_info("%s: %d seeds and %d regression inputs replayed", target, ns, nr);
}

Test(fuzz_regress, safetensors_reader_survives_every_saved_input)
{
    replay_target("safetensors", fz_safetensors);
}

Test(fuzz_regress, sweep_manifest_reader_survives_every_saved_input)
{
    replay_target("sweep", fz_sweep);
}

Test(fuzz_regress, checkpoint_metadata_checks_survive_every_saved_input)
{
    replay_target("ckptmeta", fz_ckptmeta);
}

Test(fuzz_regress, cli_parser_survives_every_saved_argv)
{
    replay_target("cli", fz_cli);
}

Test(fuzz_regress, llmc_reader_survives_every_saved_file)
{
    replay_target("llmc", NULL);
}

Test(fuzz_regress, step_and_msign_survive_every_saved_file)
{
    replay_target("step", replay_step);
}

/* A few properties stated directly, so a reader sees what the replay means. */
Test(fuzz_regress, truncated_safetensors_prefixes_are_all_refused)
{
    size_t len;
    unsigned char *b = slurp("tests/fuzz/corpus/safetensors/f64_2x2", &len);
    for (size_t cut = 0; cut < len; cut++) {
        st_file *f = NULL;
        lm_error e = {{0}};
        cr_assert_neq(st_parse(b, cut, "cut", &f, &e), 0, "prefix of %zu bytes accepted", cut);
        cr_assert_null(f);
        cr_assert(strstr(e.msg, "cut"), "message does not name the source: %s", e.msg);
    }
    free(b);
}

Test(fuzz_regress, argv_split_on_nul_keeps_empty_arguments)
{
    const uint8_t in[] = "a\0\0b";
    char copy[8], *argv[FZ_MAX_ARGS + 1];
    int argc = fz_split_argv(in, 4, copy, argv);
    cr_assert_eq(argc, 4);
    cr_assert_str_eq(argv[1], "a");
    cr_assert_str_eq(argv[2], "");
    cr_assert_str_eq(argv[3], "b");
}

/* The seeds of the two newest targets are written to land on both sides of
 * each check: the valid ones must be accepted and every other one refused,
 * or the fuzzer would start far from the branches it should explore. */
static int seed_accepted(const char *target, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fuzz/corpus/%s/%s", target, name);
    size_t len;
    unsigned char *b = slurp(path, &len);
    lm_error e = {{0}};
    int ok;
    if (!strcmp(target, "sweep")) {
        sweep_manifest *m = NULL;
        ok = sweep_parse((const char *)b, len, path, &m, &e) == 0;
        sweep_free(m);
    } else {
        json_t *j = json_loadb((const char *)b, len, 0, NULL);
        st_file *f = st_new();
        const char *key;
        json_t *v;
        json_object_foreach(j, key, v)
            if (json_is_string(v))
                st_set_meta(f, key, json_string_value(v));
        json_decref(j);
        ckpt_expect x = {FZ_CKPT_CONFIG, FZ_CKPT_RUN_ID, FZ_CKPT_DATA, "the fuzz data", 6, 1, 2,
                         16.0, FZ_CKPT_METRICS, FZ_CKPT_DIAG};
        progress_state ps;
        lm_buf m = {0}, d = {0};
        ok = ckpt_check_meta(f, path, &x, &ps, &m, &d, &e) == 0;
        lm_buf_free(&m);
        lm_buf_free(&d);
        st_free(f);
    }
    if (!ok)
        cr_log_info("%s: %s", name, e.msg);
    free(b);
    return ok;
}

Test(fuzz_regress, sweep_and_ckptmeta_seeds_fall_on_both_sides)
{
    static const char *const sweep_ok[] = {"one", "several", "no_newline", "crlf", "unicode"};
    static const char *const ckpt_ok[] = {"valid_1", "valid_4", "valid_6"};
    const char *targets[2] = {"sweep", "ckptmeta"};
    for (int t = 0; t < 2; t++) {
        int n;
        char dir[64];
        snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", targets[t]);
        char **files = list_files(dir, &n);
        cr_assert_gt(n, 0);
        for (int k = 0; k < n; k++) {
            const char *name = strrchr(files[k], '/') + 1;
            int want = 0;
            const char *const *ok = t ? ckpt_ok : sweep_ok;
            for (int i = 0; i < (t ? 3 : 5); i++)
                want |= !strcmp(name, ok[i]);
            cr_expect_eq(seed_accepted(targets[t], name), want, "%s/%s: %s", targets[t], name,
                         want ? "refused" : "accepted");
            free(files[k]);
        }
        free(files);
    }
}
