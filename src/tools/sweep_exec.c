/* sweep_exec.c - executing a manifest (sweep.h): one locked output
 * directory and one process group per run, done.json with the run's argv
 * and the tool's version, per-run time limits, signals passed on to the
 * runs, and the summary. */
#include "tools/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lionmuon/fs.h"
#include "lionmuon/linalg.h"

#ifdef LM_MPI
#include <mpi.h>
#endif

extern char **environ;

#define LOCK_NAME ".sweep.lock"
#define KILL_GRACE_S 5.0

/* What became of a run. */
enum { ST_NOT_RUN = 0, ST_DONE, ST_SKIPPED, ST_FAILED, ST_BUSY, ST_TIMEOUT, ST_KILLED };
static const char *const STATUS_NAMES[] = {"not-run", "done",    "skipped", "failed",
                                           "busy",    "timeout", "killed"};

typedef struct {
    int status, code, worker;
    double seconds;
} run_state;

/* One run in progress. */
typedef struct {
    pid_t pid;          /* 0: the slot is free */
    int run;
    int lockfd;
    double t0, term_at; /* start; when SIGTERM went to its group (0: not yet) */
    int timed_out;
} slot;

/* ---- signals ------------------------------------------------------------------ */

static volatile sig_atomic_t stop_signal = 0;

static void on_stop(int sig)
{
    stop_signal = sig;
}

/* SIGCHLD only has to interrupt the sleep of the wait loop. */
static void on_child(int sig)
{
    (void)sig;
}

typedef struct {
    struct sigaction old[4];
} saved_signals;

static const int STOP_SIGNALS[3] = {SIGINT, SIGTERM, SIGHUP};

static void install_signals(saved_signals *s)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop; /* no SA_RESTART: the sleep returns at once */
    for (int i = 0; i < 3; i++)
        sigaction(STOP_SIGNALS[i], &sa, &s->old[i]);
    sa.sa_handler = on_child;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, &s->old[3]);
}

static void restore_signals(const saved_signals *s)
{
    for (int i = 0; i < 3; i++)
        sigaction(STOP_SIGNALS[i], &s->old[i], NULL);
    sigaction(SIGCHLD, &s->old[3], NULL);
}

/* ---- done.json ------------------------------------------------------------------- */

static json_t *argv_array(const sweep_run *r)
{
    json_t *a = json_array();
    for (int i = 0; i < r->argc; i++)
        json_array_append_new(a, json_string(r->argv[i]));
    return a;
}

/* 1 when OUT/done.json records this run (same argv, same tool version), 0
 * when there is none, -1 when it records something else or cannot be read
 * (*why says what). */
static int done_state(const sweep_run *r, const char **why)
{
    char *p = lm_path_join(r->out, "done.json");
    struct stat st;
    if (lstat(p, &st) != 0) {
        free(p);
        return 0;
    }
    unsigned char *buf = NULL;
    size_t len = 0;
    lm_error e = {{0}};
    json_t *j = NULL;
    if (lm_read_file(p, (size_t)1 << 20, &buf, &len, &e) == 0)
        j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
    free(buf);
    free(p);
    int rc = -1;
    json_t *a = argv_array(r);
    if (!json_is_object(j))
        *why = "done.json is not a JSON object";
    else if (!json_equal(json_object_get(j, "argv"), a))
        *why = "done.json records another argv";
    else if (!json_is_string(json_object_get(j, "version")) ||
             strcmp(json_string_value(json_object_get(j, "version")), LIONMUON_VERSION))
        *why = "done.json was written by another version of lionmuon";
    else
        rc = 1;
    json_decref(a);
    json_decref(j);
    return rc;
}

static int write_done(const sweep_run *r, double seconds, int worker, lm_error *e)
{
    json_t *j = json_pack("{s:s,s:o,s:s,s:i,s:f,s:i}", "out", r->out, "argv", argv_array(r),
                          "version", LIONMUON_VERSION, "exit", 0, "seconds", seconds,
                          "worker", worker);
    char *txt = j ? json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!txt)
        return lm_fail(e, "%s: cannot encode done.json", r->out);
    char *p = lm_path_join(r->out, "done.json");
    int rc = lm_write_atomic(p, txt, strlen(txt), e);
    free(p);
    free(txt);
    return rc;
}

/* ---- starting a run ------------------------------------------------------------- */

/* Lock OUT: 1 locked (*fd), 0 busy (another sweep's run holds it), -1 error. */
static int lock_dir(const sweep_run *r, int *fd, lm_error *e)
{
    char *p = lm_path_join(r->out, LOCK_NAME);
    int rc = -1;
    *fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0644);
    struct stat st;
    if (*fd < 0)
        lm_fail(e, "%s: cannot open the lock file: %s", p, strerror(errno));
    else if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode))
        lm_fail(e, "%s: the lock file is not a regular file", p);
    else if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
        rc = 1;
    else if (errno == EWOULDBLOCK)
        rc = 0;
    else
        lm_fail(e, "%s: cannot lock: %s", p, strerror(errno));
    if (rc != 1 && *fd >= 0) {
        close(*fd);
        *fd = -1;
    }
    free(p);
    return rc;
}

/* The child: its own process group, default signal dispositions, stdin
 * from /dev/null, stdout and stderr to the log, and the lock on fd 3 (or 4)
 * so that a run outliving a killed sweep still holds its directory. */
static int spawn_child(const sweep_run *r, const char *exe, int logfd, int lockfd, pid_t *pid)
{
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, logfd, 1);
    posix_spawn_file_actions_adddup2(&fa, logfd, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, lockfd, lockfd == 3 ? 4 : 3);
    char **argv = lm_calloc((size_t)r->argc + 2, sizeof *argv);
    argv[0] = (char *)exe;
    for (int i = 0; i < r->argc; i++)
        argv[i + 1] = r->argv[i];
    int err = posix_spawn(pid, exe, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    free(argv);
    return err;
}

/* A run that could not start: failed, with the reason on stderr. */
static int start_failed(const sweep_run *r, run_state *st, const lm_error *e)
{
    st->status = ST_FAILED;
    st->code = 127;
    fprintf(stderr, "sweep: line %d FAILED to start: %s\n", r->line, e->msg);
    return 0;
}

/* If OUT/done.json is not this run's, say so and remove it: the run goes
 * again.  1 when the run is done already. */
static int already_done(const sweep_run *r)
{
    const char *why = NULL;
    int d = done_state(r, &why);
    if (d < 0) {
        char *o = lm_printable(r->out);
        fprintf(stderr, "sweep: line %d runs again (%s): %s\n", r->line, why, o);
        free(o);
        char *p = lm_path_join(r->out, "done.json");
        unlink(p);
        free(p);
    }
    return d == 1;
}

/* Start run i in slot s, or settle it without a process: skipped (done
 * before), busy (locked by another sweep), failed (could not start: its
 * directory, lock or log).  A failure to start is the run's, not the
 * sweep's: the other runs go on. */
static void start_run(const sweep_manifest *m, int i, const char *exe, slot *s, run_state *st)
{
    const sweep_run *r = &m->runs[i];
    lm_error e = {{0}};
    char *created;
    if (lm_mkdir_new(r->out, &created, &e)) {
        start_failed(r, st, &e);
        return;
    }
    int lockfd, locked = lock_dir(r, &lockfd, &e);
    if (locked <= 0) {
        lm_rmdir_created(r->out, created);
        if (locked < 0) {
            start_failed(r, st, &e);
            return;
        }
        st->status = ST_BUSY;
        char *o = lm_printable(r->out);
        fprintf(stderr, "sweep: line %d busy (another sweep is running it): %s\n", r->line, o);
        free(o);
        return;
    }
    free(created);
    if (already_done(r)) {
        st->status = ST_SKIPPED;
        close(lockfd);
        return;
    }
    char *log = lm_path_join(r->out, "log.txt");
    int logfd = lm_open_log(log, &e);
    free(log);
    int err = logfd < 0 ? -1 : spawn_child(r, exe, logfd, lockfd, &s->pid);
    if (logfd >= 0)
        close(logfd);
    if (err != 0) {
        close(lockfd);
        s->pid = 0;
        if (err > 0)
            lm_fail(&e, "%s: cannot start %s: %s", r->out, exe, strerror(err));
        start_failed(r, st, &e);
        return;
    }
    s->run = i;
    s->lockfd = lockfd;
    s->t0 = la_seconds();
    s->term_at = 0;
    s->timed_out = 0;
}

/* ---- finishing a run --------------------------------------------------------------- */

/* "k/N finished, T s elapsed, ETA R s": over the lines this sweep runs
 * (those finished before are not counted), the time left at the rate so far. */
static void progress_tail(const sweep_manifest *m, const run_state *st, double t0, char *buf,
                          size_t n)
{
    int fin = 0, todo = 0;
    for (int i = 0; i < m->n; i++) {
        if (st[i].status == ST_SKIPPED)
            continue;
        todo++;
        fin += st[i].status != ST_NOT_RUN;
    }
    double el = la_seconds() - t0;
    if (fin > 0 && fin < todo)
        snprintf(buf, n, "%d/%d finished, %.0f s elapsed, ETA %.0f s", fin, todo, el,
                 el / fin * (todo - fin));
    else
        snprintf(buf, n, "%d/%d finished, %.0f s elapsed", fin, todo, el);
}

/* Record the end of slot s's run (wait status ws); progress goes to stderr,
 * one line per run, with the elapsed time and the ETA of the sweep (started
 * at t0). */
static int finish_run(const sweep_manifest *m, slot *s, int ws, int worker, run_state *st,
                      double t0, lm_error *e)
{
    const sweep_run *r = &m->runs[s->run];
    run_state *x = &st[s->run];
    x->seconds = la_seconds() - s->t0;
    x->worker = worker;
    int ok = WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && !s->timed_out;
    x->code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    x->status = ok ? ST_DONE : s->timed_out ? ST_TIMEOUT : stop_signal ? ST_KILLED : ST_FAILED;
    int rc = ok ? write_done(r, x->seconds, worker, e) : 0;
    char *o = lm_printable(r->out);
    char tail[96];
    progress_tail(m, st, t0, tail, sizeof tail);
    fprintf(stderr, "sweep: line %d %s in %.1f s (worker %d): %s; %s\n", r->line,
            ok ? "done" : x->status == ST_TIMEOUT ? "TIMED OUT" : x->status == ST_KILLED
                        ? "KILLED" : "FAILED", x->seconds, worker, o, tail);
    free(o);
    close(s->lockfd);
    s->pid = 0;
    return rc;
}

/* Signals to the process groups: SIGTERM on a stop or a timeout, SIGKILL
 * KILL_GRACE_S later. */
static void police(slot *sl, int n, double timeout_s)
{
    double now = la_seconds();
    for (int k = 0; k < n; k++) {
        slot *s = &sl[k];
        if (!s->pid)
            continue;
        if (!s->term_at && timeout_s > 0 && now - s->t0 > timeout_s)
            s->timed_out = 1;
        if (!s->term_at && (s->timed_out || stop_signal)) {
            kill(-s->pid, stop_signal ? stop_signal : SIGTERM);
            s->term_at = now;
        } else if (s->term_at && now - s->term_at > KILL_GRACE_S) {
            kill(-s->pid, SIGKILL);
        }
    }
}

/* ---- the loop ------------------------------------------------------------------------ */

/* The next line to run: locally a counter, under MPI a shared one. */
typedef struct {
    int next;
    double t0;       /* the sweep's start, for the elapsed time and the ETA */
#ifdef LM_MPI
    MPI_Win win;
    int mpi;
#endif
} claimer;

static int claim(claimer *c, int n)
{
#ifdef LM_MPI
    if (c->mpi) {
        long one = 1, i;
        MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, c->win);
        MPI_Fetch_and_op(&one, &i, MPI_LONG, 0, 0, MPI_SUM, c->win);
        MPI_Win_unlock(0, c->win);
        return i < n ? (int)i : -1;
    }
#endif
    return c->next < n ? c->next++ : -1;
}

static void nap(void)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL); /* SIGCHLD or a stop signal cut it short */
}

/* Reap whatever of our runs ended (only their pids: under MPI the process
 * may have other children); a wait error gives the slot up (*rc = -1). */
static void reap(const sweep_manifest *m, slot *sl, int n, int rank, run_state *st,
                double t0, int *running, int *rc, lm_error *e)
{
    for (int k = 0; k < n; k++) {
        if (!sl[k].pid)
            continue;
        int ws;
        pid_t p;
        while ((p = waitpid(sl[k].pid, &ws, WNOHANG)) < 0 && errno == EINTR)
            ;
        if (p < 0) { /* not ours after all: give the slot up */
            *rc = lm_fail(e, "wait for line %d: %s", m->runs[sl[k].run].line, strerror(errno));
            st[sl[k].run].status = ST_FAILED;
            close(sl[k].lockfd);
            sl[k].pid = 0;
            (*running)--;
            continue;
        }
        if (p == 0)
            continue;
        if (finish_run(m, &sl[k], ws, n > 1 ? k : rank, st, t0, e))
            *rc = -1;
        (*running)--;
    }
}

static int run_loop(const sweep_manifest *m, const char *exe, int workers, double timeout_s,
                    claimer *c, int rank, run_state *st, lm_error *e)
{
    slot *sl = lm_calloc((size_t)workers, sizeof *sl);
    int running = 0, rc = 0, more = 1;
    for (;;) {
        while (rc == 0 && more && !stop_signal && running < workers) {
            int i = claim(c, m->n);
            if (i < 0) {
                more = 0;
                break;
            }
            int k = 0;
            while (sl[k].pid)
                k++;
            start_run(m, i, exe, &sl[k], &st[i]);
            if (sl[k].pid)
                running++;
        }
        if (running == 0)
            break;
        reap(m, sl, workers, rank, st, c->t0, &running, &rc, e);
        if (running == 0)
            continue;
        police(sl, workers, timeout_s);
        nap();
    }
    free(sl);
    return rc;
}

#ifdef LM_MPI
/* Every rank claims the next line with an atomic fetch-and-add on a counter
 * in rank 0's window, runs it, and claims again: dynamic assignment with no
 * rank idle as a dispatcher.  States are then summed onto every rank (each
 * run is set by exactly one rank, the others hold zeros). */
static int run_mpi(const sweep_manifest *m, const char *exe, double timeout_s, run_state *st,
                   lm_error *e)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    long *counter = NULL;
    claimer c = {0};
    c.mpi = 1;
    c.t0 = la_seconds();
    MPI_Win_allocate(rank == 0 ? sizeof(long) : 0, sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD,
                     &counter, &c.win);
    if (rank == 0)
        *counter = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    int rc = run_loop(m, exe, 1, timeout_s, &c, rank, st, e);
    MPI_Win_free(&c.win);
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

static int write_summary(const sweep_manifest *m, const run_state *st, const sweep_opts *o,
                         int workers, double seconds, lm_error *e)
{
    json_t *runs = json_array();
    for (int i = 0; i < m->n; i++)
        json_array_append_new(runs, json_pack("{s:s,s:i,s:s,s:i,s:f,s:i}", "out",
            m->runs[i].out, "line", m->runs[i].line, "status", STATUS_NAMES[st[i].status],
            "exit", st[i].code, "seconds", st[i].seconds, "worker", st[i].worker));
    json_t *j = json_pack("{s:i,s:i,s:s,s:f,s:f,s:s,s:o}", "runs_total", m->n, "workers",
                          workers, "mode", o->use_mpi ? "mpi" : "local", "timeout_s",
                          o->timeout_s, "wall_seconds", seconds, "version", LIONMUON_VERSION,
                          "runs", runs);
    char *txt = j ? json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!txt)
        return lm_fail(e, "%s: cannot encode the summary", o->summary_path);
    int rc = lm_write_atomic(o->summary_path, txt, strlen(txt), e);
    free(txt);
    return rc;
}

static void tally(const sweep_manifest *m, const run_state *st, sweep_stats *s)
{
    for (int i = 0; i < m->n; i++) {
        s->done += st[i].status == ST_DONE;
        s->skipped += st[i].status == ST_SKIPPED;
        s->busy += st[i].status == ST_BUSY;
        s->timed_out += st[i].status == ST_TIMEOUT;
        s->failed += st[i].status == ST_FAILED || st[i].status == ST_NOT_RUN ||
                     st[i].status == ST_KILLED;
    }
}

int sweep_execute(const sweep_manifest *m, const char *exe, const sweep_opts *o,
                  sweep_stats *stats, lm_error *e)
{
    run_state *st = lm_calloc((size_t)LM_MAX(m->n, 1), sizeof *st);
    double t0 = la_seconds();
    int rc, rank = 0, workers = o->workers < 1 ? 1 : o->workers;
    saved_signals ss;
    stop_signal = 0;
    install_signals(&ss);
    if (o->use_mpi) {
#ifdef LM_MPI
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &workers);
        rc = run_mpi(m, exe, o->timeout_s, st, e);
#else
        rc = lm_fail(e, "--mpi: this build has no MPI (rebuild with make MPI=1)");
#endif
    } else {
        claimer c = {0};
        c.t0 = t0;
        rc = run_loop(m, exe, workers, o->timeout_s, &c, 0, st, e);
    }
    restore_signals(&ss);
    double wall = la_seconds() - t0;
    memset(stats, 0, sizeof *stats);
    stats->seconds = wall;
    stats->signal = stop_signal;
    tally(m, st, stats);
    if (rank == 0 && o->summary_path &&
        write_summary(m, st, o, workers, wall, rc ? NULL : e) != 0)
        rc = -1;
    free(st);
    if (rc == 0 && stats->signal)
        rc = lm_fail(e, "stopped by signal %d (%s); the runs in progress were stopped",
                     stats->signal, strsignal(stats->signal));
    else if (rc == 0 && stats->failed + stats->timed_out)
        rc = lm_fail(e, "%d of %d runs failed%s (see their log.txt)",
                     stats->failed + stats->timed_out, m->n,
                     stats->timed_out ? " or timed out" : "");
    else if (rc == 0 && stats->busy)
        rc = lm_fail(e, "%d of %d runs are held by another sweep (busy); run this sweep "
                        "again when it has finished", stats->busy, m->n);
    return rc;
}
