/* sweep.c - the manifest runner (see sweep.h). */
#include "tools/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lionmuon/linalg.h"
#include "lionmuon/fs.h"

#ifdef LM_MPI
#include <mpi.h>
#endif

extern char **environ;

static void free_run(sweep_run *r)
{
    free(r->out);
    for (int i = 0; i < r->argc; i++)
        free(r->argv[i]);
    free(r->argv);
}

void sweep_free(sweep_manifest *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n; i++)
        free_run(&m->runs[i]);
    free(m->runs);
    free(m);
}

static int parse_line(const char *line, const char *path, int lineno, sweep_run *r, lm_error *e)
{
    json_error_t je;
    json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return lm_fail(e, "%s:%d: not a JSON object (%s)", path, lineno, j ? "wrong type" : je.text);
    }
    json_t *out = json_object_get(j, "out"), *argv = json_object_get(j, "argv");
    int rc = 0;
    if (!json_is_string(out) || !json_string_length(out))
        rc = lm_fail(e, "%s:%d: \"out\" must be a non-empty string", path, lineno);
    else if (!json_is_array(argv) || json_array_size(argv) == 0)
        rc = lm_fail(e, "%s:%d: \"argv\" must be a non-empty array of strings", path, lineno);
    else
        for (size_t i = 0; i < json_array_size(argv) && rc == 0; i++)
            if (!json_is_string(json_array_get(argv, i)))
                rc = lm_fail(e, "%s:%d: \"argv\"[%zu] is not a string", path, lineno, i);
    if (rc == 0) {
        r->out = lm_strdup(json_string_value(out));
        r->argc = (int)json_array_size(argv);
        r->argv = lm_calloc((size_t)r->argc + 1, sizeof *r->argv);
        for (int i = 0; i < r->argc; i++)
            r->argv[i] = lm_strdup(json_string_value(json_array_get(argv, (size_t)i)));
    }
    json_decref(j);
    return rc;
}

int sweep_read(const char *path, sweep_manifest **out, lm_error *e)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return lm_fail(e, "%s: cannot open: %s", path, strerror(errno));
    sweep_manifest *m = lm_calloc(1, sizeof *m);
    int cap = 0, lineno = 0, rc = 0;
    char *line = NULL;
    size_t len = 0;
    while (rc == 0 && getline(&line, &len, fp) >= 0) {
        lineno++;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0' || *s == '\n' || *s == '#')
            continue;
        if (m->n == cap) {
            cap = cap ? 2 * cap : 64;
            m->runs = realloc(m->runs, (size_t)cap * sizeof *m->runs);
            if (!m->runs)
                abort();
        }
        rc = parse_line(s, path, lineno, &m->runs[m->n], e);
        if (rc == 0)
            m->n++;
    }
    free(line);
    fclose(fp);
    /* two runs writing one directory would race for its files */
    for (int i = 0; i < m->n && rc == 0; i++)
        for (int j = i + 1; j < m->n && rc == 0; j++)
            if (!strcmp(m->runs[i].out, m->runs[j].out))
                rc = lm_fail(e, "%s: runs %d and %d share the output directory %s", path, i + 1,
                             j + 1, m->runs[i].out);
    if (rc != 0) {
        sweep_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

int sweep_append(const char *path, const char *out, int argc, const char *const *argv,
                 lm_error *e)
{
    json_t *arr = json_array();
    for (int i = 0; i < argc; i++)
        json_array_append_new(arr, json_string(argv[i]));
    json_t *j = json_pack("{s:s,s:o}", "out", out, "argv", arr);
    char *txt = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    FILE *fp = fopen(path, "a");
    int rc = 0;
    if (!fp || fprintf(fp, "%s\n", txt) < 0 || fclose(fp) != 0)
        rc = lm_fail(e, "%s: cannot append: %s", path, strerror(errno));
    free(txt);
    return rc;
}

static char *done_path(const sweep_run *r)
{
    return lm_path_join(r->out, "done.json");
}

static int is_done(const sweep_run *r)
{
    char *p = done_path(r);
    int d = access(p, F_OK) == 0;
    free(p);
    return d;
}

/* Start run r as a child with stdout/stderr to OUT/log.txt. */
static int spawn_run(const sweep_run *r, const char *exe, pid_t *pid, lm_error *e)
{
    if (lm_mkdir_p(r->out, e) != 0)
        return -1;
    char *log = lm_path_join(r->out, "log.txt");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    char **argv = lm_calloc((size_t)r->argc + 2, sizeof *argv);
    argv[0] = (char *)exe;
    for (int i = 0; i < r->argc; i++)
        argv[i + 1] = r->argv[i];
    int err = posix_spawn(pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(argv);
    free(log);
    if (err != 0)
        return lm_fail(e, "%s: cannot start %s: %s", r->out, exe, strerror(err));
    return 0;
}

static int write_done(const sweep_run *r, int code, double seconds, int worker, lm_error *e)
{
    json_t *j = json_pack("{s:s,s:i,s:f,s:i}", "out", r->out, "exit", code, "seconds", seconds,
                          "worker", worker);
    char *txt = json_dumps(j, JSON_INDENT(1));
    json_decref(j);
    char *p = done_path(r);
    int rc = lm_write_atomic(p, txt, strlen(txt), e);
    free(p);
    free(txt);
    return rc;
}

/* Per-run bookkeeping for the summary. */
typedef struct {
    int status; /* 0 not run, 1 done now, 2 skipped (done before), 3 failed */
    int code, worker;
    double seconds;
} run_state;

/* Record a finished child; progress goes to stderr, one line per run. */
static int finish(const sweep_run *r, run_state *s, int status, double t0, int worker,
                  int index, int total, lm_error *e)
{
    s->seconds = la_seconds() - t0;
    s->worker = worker;
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    s->status = ok ? 1 : 3;
    s->code = ok ? 0 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    fprintf(stderr, "sweep: run %d/%d %s in %.1f s (worker %d): %s\n", index + 1, total,
            ok ? "done" : "FAILED", s->seconds, worker, r->out);
    return ok ? write_done(r, 0, s->seconds, worker, e) : 0;
}

static int run_local(const sweep_manifest *m, const char *exe, int workers, run_state *st,
                     lm_error *e)
{
    pid_t *pids = lm_calloc((size_t)workers, sizeof *pids);
    int *which = lm_calloc((size_t)workers, sizeof *which);
    double *t0 = lm_calloc((size_t)workers, sizeof *t0);
    int next = 0, running = 0, rc = 0;
    for (;;) {
        while (rc == 0 && running < workers && next < m->n) {
            int i = next++;
            if (is_done(&m->runs[i])) {
                st[i].status = 2;
                continue;
            }
            int slot = 0;
            while (pids[slot])
                slot++;
            if (spawn_run(&m->runs[i], exe, &pids[slot], e) != 0) {
                rc = -1;
                break;
            }
            which[slot] = i;
            t0[slot] = la_seconds();
            running++;
        }
        if (running == 0)
            break;
        int status;
        pid_t p = wait(&status);
        if (p < 0) {
            if (errno == EINTR)
                continue;
            rc = lm_fail(e, "wait: %s", strerror(errno));
            break;
        }
        for (int s = 0; s < workers; s++)
            if (pids[s] == p) {
                if (finish(&m->runs[which[s]], &st[which[s]], status, t0[s], s, which[s], m->n,
                           e) != 0)
                    rc = -1;
                pids[s] = 0;
                running--;
            }
    }
    free(pids);
    free(which);
    free(t0);
    return rc;
}

#ifdef LM_MPI
/* Every rank claims the next line with an atomic fetch-and-add on a counter
 * in rank 0's window, runs it, and claims again: dynamic assignment with no
 * rank idle as a dispatcher.  States are then summed onto rank 0 (each run
 * is set by exactly one rank, the others hold zeros). */
static int run_mpi(const sweep_manifest *m, const char *exe, run_state *st, lm_error *e)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    long *counter = NULL;
    MPI_Win win;
    MPI_Win_allocate(rank == 0 ? sizeof(long) : 0, sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD,
                     &counter, &win);
    if (rank == 0)
        *counter = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    int rc = 0;
    for (;;) {
        long one = 1, i;
        MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win);
        MPI_Fetch_and_op(&one, &i, MPI_LONG, 0, 0, MPI_SUM, win);
        MPI_Win_unlock(0, win);
        if (i >= m->n)
            break;
        if (is_done(&m->runs[i])) {
            st[i].status = 2;
            continue;
        }
        pid_t pid;
        double t0 = la_seconds();
        int status;
        if (spawn_run(&m->runs[i], exe, &pid, e) != 0 || waitpid(pid, &status, 0) < 0) {
            st[i].status = 3;
            st[i].code = 127;
            rc = -1;
            continue;
        }
        if (finish(&m->runs[i], &st[i], status, t0, rank, (int)i, m->n, e) != 0)
            rc = -1;
    }
    MPI_Win_free(&win);
    /* combine: every field is zero except on the rank that ran the line, so
     * a sum gives every rank the whole picture */
    int n4 = 4 * m->n;
    double *buf = lm_calloc((size_t)LM_MAX(n4, 1), sizeof *buf);
    double *sum = lm_calloc((size_t)LM_MAX(n4, 1), sizeof *sum);
    for (int i = 0; i < m->n; i++) {
        buf[4 * i] = st[i].status;
        buf[4 * i + 1] = st[i].code;
        buf[4 * i + 2] = st[i].worker;
        buf[4 * i + 3] = st[i].seconds;
    }
    MPI_Allreduce(buf, sum, n4, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    for (int i = 0; i < m->n; i++) {
        st[i].status = (int)sum[4 * i];
        st[i].code = (int)sum[4 * i + 1];
        st[i].worker = (int)sum[4 * i + 2];
        st[i].seconds = sum[4 * i + 3];
    }
    free(buf);
    free(sum);
    int any = rc != 0, all;
    MPI_Allreduce(&any, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return all ? -1 : 0;
}
#endif

static int write_summary(const sweep_manifest *m, const run_state *st, const char *path,
                         double seconds, int workers, int use_mpi, lm_error *e)
{
    static const char *names[] = {"not-run", "done", "skipped", "failed"};
    json_t *runs = json_array();
    for (int i = 0; i < m->n; i++)
        json_array_append_new(runs, json_pack("{s:s,s:s,s:i,s:f,s:i}", "out", m->runs[i].out,
            "status", names[st[i].status], "exit", st[i].code, "seconds", st[i].seconds,
            "worker", st[i].worker));
    json_t *j = json_pack("{s:i,s:i,s:s,s:f,s:o}", "runs_total", m->n, "workers", workers,
                          "mode", use_mpi ? "mpi" : "local", "wall_seconds", seconds, "runs", runs);
    char *txt = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(j);
    int rc = lm_write_atomic(path, txt, strlen(txt), e);
    free(txt);
    return rc;
}

int sweep_execute(const sweep_manifest *m, const char *exe, int workers, int use_mpi,
                  const char *summary_path, sweep_stats *stats, lm_error *e)
{
    run_state *st = lm_calloc((size_t)LM_MAX(m->n, 1), sizeof *st);
    double t0 = la_seconds();
    int rc, rank = 0;
    if (use_mpi) {
#ifdef LM_MPI
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &workers);
        rc = run_mpi(m, exe, st, e);
#else
        free(st);
        return lm_fail(e, "--mpi: this build has no MPI (rebuild with make MPI=1)");
#endif
    } else {
        rc = run_local(m, exe, workers < 1 ? 1 : workers, st, e);
    }
    double wall = la_seconds() - t0;
    memset(stats, 0, sizeof *stats);
    stats->seconds = wall;
    for (int i = 0; i < m->n; i++) {
        stats->done += st[i].status == 1;
        stats->skipped += st[i].status == 2;
        stats->failed += st[i].status == 3 || st[i].status == 0;
    }
    if (rank == 0 && summary_path && write_summary(m, st, summary_path, wall, workers, use_mpi,
                                                   rc ? NULL : e) != 0)
        rc = -1;
    free(st);
    if (rc == 0 && stats->failed)
        rc = lm_fail(e, "%d of %d runs failed (see their log.txt)", stats->failed, m->n);
    return rc;
}
