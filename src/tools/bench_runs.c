/* bench_runs.c - `lionmuon bench`'s throughput of tiny runs: what a sweep
 * of many small runs pays per run besides the runs' own work.
 *
 * The standard tiny run is a `synth` run (16 x 16 separable objective,
 * Gaussian noise, LionMuon, 100 steps, 200 extra noise samples).  Each round
 * times, one after the other so that all see the same load:
 *   run      the tiny run spawned as `lionmuon sweep` spawns it (its
 *            environment already holds OMP_WAIT_POLICY and the kernel, so it
 *            does not re-execute itself);
 *   start    `lionmuon version` spawned the same way: process start, the
 *            dynamic loader, the libraries' initialisation, exit;
 *   alone    `lionmuon version` spawned without OMP_WAIT_POLICY: a run
 *            started by hand, with the re-execution of src/cli/startup.c;
 *   write    the run's two output files written again in this process, the
 *            way the run writes them (atomically: temporary file, fsync,
 *            rename).
 * The overhead of a run is start + write; its own work is what remains of
 * `run`.  Medians over the rounds.
 */
#include "tools/bench.h"

#include <fcntl.h>
#include <jansson.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lionmuon/fs.h"
#include "lionmuon/linalg.h"
#include "lionmuon/stats.h"

extern char **environ;

/* Wall seconds of exe argv (stdout and stderr to /dev/null) in env; -1 if
 * it could not start or did not exit 0. */
static double spawn_wait(const char *exe, char *const argv[], char *const env[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int status = 0;
    double t0 = la_seconds();
    int err = posix_spawn(&pid, exe, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0 || waitpid(pid, &status, 0) < 0)
        return -1;
    double t = la_seconds() - t0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? t : -1;
}

/* environ without OMP_WAIT_POLICY (the array is malloc'd, the strings are
 * environ's). */
static char **env_without_wait_policy(void)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = lm_malloc((n + 1) * sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "OMP_WAIT_POLICY=", 16))
            env[k++] = environ[i];
    env[k] = NULL;
    return env;
}

/* The run's files, read back: their contents rewritten in `write`. */
typedef struct {
    const char *name;
    char *data;
    size_t len;
} out_file;

static int read_file(const char *path, out_file *f)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->data = lm_malloc(len > 0 ? (size_t)len : 1);
    f->len = len > 0 && fread(f->data, 1, (size_t)len, fp) == (size_t)len ? (size_t)len : 0;
    fclose(fp);
    return 0;
}

static double write_files(const char *dir, out_file *f, int nf, lm_error *e)
{
    double t0 = la_seconds();
    for (int i = 0; i < nf; i++) {
        char *p = lm_path_join(dir, f[i].name);
        int rc = lm_write_atomic(p, f[i].data, f[i].len, e);
        free(p);
        if (rc != 0)
            return -1;
    }
    return la_seconds() - t0;
}

static void remove_dir(const char *dir, out_file *f, int nf)
{
    for (int i = 0; i < nf; i++) {
        char *p = lm_path_join(dir, f[i].name);
        unlink(p);
        free(p);
    }
    rmdir(dir);
}

typedef struct {
    double run, start, alone, write;
} round_times;

/* One round: the four timings (run writes into dir/r). */
static int one_round(const char *exe, const char *dir, char **env_alone, out_file *f,
                     round_times *t, lm_error *e)
{
    char *rdir = lm_path_join(dir, "r"), *wdir = lm_path_join(dir, "w");
    char *run_argv[] = {(char *)exe, "synth", "--objective", "separable", "--noise",
                        "gaussian", "--optimizer", "lionmuon", "--steps", "100",
                        "--extra-samples", "200", "--seed", "1", "--out", rdir, NULL};
    char *ver_argv[] = {(char *)exe, "version", NULL};
    int rc = 0;
    t->run = spawn_wait(exe, run_argv, environ);
    t->start = spawn_wait(exe, ver_argv, environ);
    t->alone = spawn_wait(exe, ver_argv, env_alone);
    if (t->run < 0 || t->start < 0 || t->alone < 0)
        rc = lm_fail(e, "bench runs: %s synth/version did not run", exe);
    for (int i = 0; i < 2 && rc == 0 && !f[i].data; i++) {
        char *p = lm_path_join(rdir, f[i].name);
        if (read_file(p, &f[i]) != 0)
            rc = lm_fail(e, "bench runs: the tiny run wrote no %s", p);
        free(p);
    }
    if (rc == 0 && (lm_mkdir_p(wdir, e) != 0 || (t->write = write_files(wdir, f, 2, e)) < 0))
        rc = -1;
    remove_dir(wdir, f, 2);
    remove_dir(rdir, f, 2);
    free(rdir);
    free(wdir);
    return rc;
}

static json_t *report(const round_times *rt, int rounds, FILE *out)
{
    double v[4][64];
    for (int i = 0; i < rounds; i++) {
        v[0][i] = rt[i].run;
        v[1][i] = rt[i].start;
        v[2][i] = rt[i].alone;
        v[3][i] = rt[i].write;
    }
    double run = stats_median(rounds, v[0]), start = stats_median(rounds, v[1]);
    double alone = stats_median(rounds, v[2]), wr = stats_median(rounds, v[3]);
    double over = start + wr, work = run - over;
    fprintf(out, "\nthroughput of a tiny run (synth 16x16, lionmuon, 100 steps, 200 extra "
                 "samples; median of %d rounds)\n", rounds);
    fprintf(out, "  %.1f runs/s one after another (%.1f ms a run); per run: process start "
                 "%.1f ms, file writes %.1f ms, own work %.1f ms\n", 1 / run, 1e3 * run,
            1e3 * start, 1e3 * wr, 1e3 * work);
    fprintf(out, "  overhead %.0f%% of a run; a run started by hand (re-execution for "
                 "OMP_WAIT_POLICY) starts in %.1f ms\n", 100 * over / run, 1e3 * alone);
    return json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:i}", "runs_per_second", 1 / run,
                     "seconds_per_run", run, "process_start_s", start, "file_writes_s", wr,
                     "own_work_s", work, "overhead_fraction", over / run,
                     "standalone_start_s", alone, "rounds", rounds);
}

json_t *bench_runs_section(int quick, const char *exe, FILE *out, lm_error *e)
{
    const char *tmp = getenv("TMPDIR");
    lm_buf dir = {0};
    lm_buf_printf(&dir, "%s/lionmuon-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir.s)) {
        lm_fail(e, "bench runs: cannot create a directory %s", dir.s);
        lm_buf_free(&dir);
        return NULL;
    }
    int rounds = quick ? 3 : 15, rc = 0;
    round_times rt[64];
    out_file f[2] = {{"trajectory.csv", NULL, 0}, {"constants.json", NULL, 0}};
    char **env_alone = env_without_wait_policy();
    for (int i = 0; i < rounds && rc == 0; i++)
        rc = one_round(exe, dir.s, env_alone, f, &rt[i], e);
    rmdir(dir.s);
    free(env_alone);
    free(f[0].data);
    free(f[1].data);
    lm_buf_free(&dir);
    return rc == 0 ? report(rt, rounds, out) : NULL;
}
