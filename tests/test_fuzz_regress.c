/* test_fuzz_regress.c - every input the fuzzers ever found, and every seed,
 * replayed through the same harness (tests/fuzz/fuzz_targets.h) in the
 * normal suite, built with the normal compiler: no clang needed.
 *
 *   tests/fuzz/regress/TARGET/...  inputs that once crashed, leaked or broke a
 *                                 property (kept forever once fixed)
 *   tests/fuzz/corpus/TARGET/...   the committed seed corpora
 * for the targets safetensors, cli, llmc and step (fuzz_targets.h).
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
