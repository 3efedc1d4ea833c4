/* sweep.h - run a manifest of independent runs, locally or under MPI
 * (prefix sweep_).
 *
 * A manifest is a regular text file with one run per line, as a JSON object:
 *   {"out": "results/x/run1", "argv": ["synth", "--steps", "100", ...]}
 * "argv" is a lionmuon subcommand and its flags (it should write its
 * results under "out"); blank lines and lines starting with '#' are skipped.
 * Only the subcommands in sweep_allowed may be run (never `sweep` or
 * `paper`, which would start sweeps of their own), and `paper timed FILE
 * train ...` (train in the run's own process, its CPU time written to FILE:
 * the paper experiment's runs), which starts nothing but that train.  Each "out" is
 * normalised (made absolute, symbolic links of its existing part resolved,
 * "." and ".." applied): two lines that name one directory in two spellings
 * ("a", "a/", "./a") are refused.
 *
 * A run is finished when OUT/done.json exists and records the same argv and
 * the same tool version (LIONMUON_VERSION): the runner writes it
 * (atomically) after the run exits 0, so a killed sweep started again skips
 * what finished and redoes what did not, and a line changed since (or a new
 * version of the tool) runs again.  While a run is in progress its directory
 * is locked (flock on OUT/.sweep.lock, inherited by the run, so a run whose
 * sweep was killed holds it until it ends): a second sweep on the same
 * manifest, or on another naming the same directory, reports the run as
 * "busy" instead of running it twice.  Each run's stdout and stderr go to
 * OUT/log.txt, which is never written through a symbolic link.  Each run is
 * the leader of its own process group: a sweep stopped by SIGINT, SIGTERM or
 * SIGHUP passes the signal to every running group (SIGKILL 5 s later), and
 * a run that exceeds the per-run time limit is stopped the same way.
 * Runs are handed out dynamically -- the next free worker takes the next
 * unfinished line -- so a long run never holds up a queue.
 *   local:  `workers` child processes at a time on this machine;
 *   MPI:    one run at a time per rank, lines claimed through an atomic
 *           counter (MPI_Fetch_and_op on a window held by rank 0).
 * At the end the summary (every run's out, line, status, seconds, exit code,
 * worker) is written as JSON, by rank 0 under MPI.
 */
#ifndef LM_SWEEP_H
#define LM_SWEEP_H

#include <stddef.h>

#include "lionmuon/common.h"

typedef struct {
    char *out;   /* as the manifest spells it */
    char *key;   /* normalised absolute path: what identifies the directory */
    int line;    /* line number in the manifest */
    int argc;
    char **argv;
} sweep_run;

typedef struct {
    int n;
    sweep_run *runs;
    char *key;   /* the manifest's own normalised path */
} sweep_manifest;

/* The subcommands a manifest may run (NULL-terminated). */
extern const char *const sweep_allowed[];
/* 1 when a manifest may run argv: argv[0] in sweep_allowed, or
 * `paper timed FILE train ...`. */
int sweep_argv_allowed(int argc, const char *const *argv);

/* Read and validate a manifest (errors name the file and the line).  The
 * file must be a regular file of at most SWEEP_MAX_BYTES and hold a run. */
#define SWEEP_MAX_BYTES ((size_t)64 << 20)
int sweep_read(const char *path, sweep_manifest **out, lm_error *e);
/* The same on text in memory (path names it in messages; the fuzz target). */
int sweep_parse(const char *text, size_t len, const char *path, sweep_manifest **out,
                lm_error *e);
void sweep_free(sweep_manifest *m);

/* The normalised absolute form of a path (see above); newly allocated. */
char *sweep_normalise(const char *path);

/* One run as a manifest line (with its newline) appended to b, for the
 * experiment drivers that write manifests (then lm_write_atomic). */
int sweep_format_line(lm_buf *b, const char *out, int argc, const char *const *argv,
                      lm_error *e);

/* Append one run to a manifest file (creating it). */
int sweep_append(const char *path, const char *out, int argc, const char *const *argv,
                 lm_error *e);

typedef struct {
    int workers;              /* local processes at once (ignored under MPI) */
    int use_mpi;
    double timeout_s;         /* per-run limit in seconds; 0: none */
    const char *summary_path; /* where the summary JSON goes (NULL: none) */
} sweep_opts;

typedef struct {
    int done, skipped, failed, busy, timed_out;
    double seconds;
    int signal;               /* the signal that stopped the sweep, or 0 */
} sweep_stats;

/* Refuse a summary path that is the manifest itself (or one of the runs'
 * directories). */
int sweep_check_summary(const sweep_manifest *m, const char *summary_path, lm_error *e);

/* Execute the manifest with `exe` (the lionmuon binary) as the program.
 * Returns 0 when every run finished successfully (done now or before). */
int sweep_execute(const sweep_manifest *m, const char *exe, const sweep_opts *o,
                  sweep_stats *st, lm_error *e);

#endif
