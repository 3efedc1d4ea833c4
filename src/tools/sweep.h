/* sweep.h - run a manifest of independent runs, locally or under MPI
 * (prefix sweep_).
 *
 * A manifest is a text file with one run per line, as a JSON object:
 *   {"out": "results/x/run1", "argv": ["synth", "--steps", "100", ...]}
 * "argv" is a lionmuon subcommand and its flags (it should write its
 * results under "out"); blank lines and lines starting with '#' are skipped.
 *
 * A run is finished when OUT/done.json exists: the runner writes it
 * (atomically) after the run exits 0, so a killed sweep started again skips
 * what finished and redoes what did not.  Each run's stdout and stderr go to
 * OUT/log.txt.  Runs are handed out dynamically -- the next free worker takes
 * the next unfinished line -- so a long run never holds up a queue.
 *   local:  `workers` child processes at a time on this machine;
 *   MPI:    one run at a time per rank, lines claimed through an atomic
 *           counter (MPI_Fetch_and_op on a window held by rank 0).
 * At the end the summary (every run's out, status, seconds, exit code,
 * worker) is written as JSON, by rank 0 under MPI.
 */
#ifndef LM_SWEEP_H
#define LM_SWEEP_H

#include "lionmuon/common.h"

typedef struct {
    char *out;
    int argc;
    char **argv;
} sweep_run;

typedef struct {
    int n;
    sweep_run *runs;
} sweep_manifest;

/* Read and validate a manifest (errors name the file and the line). */
int sweep_read(const char *path, sweep_manifest **out, lm_error *e);
void sweep_free(sweep_manifest *m);

/* Append one run to a manifest file (creating it), for the experiment
 * drivers that write manifests. */
int sweep_append(const char *path, const char *out, int argc, const char *const *argv,
                 lm_error *e);

typedef struct {
    int done, skipped, failed;
    double seconds;
} sweep_stats;

/* Execute the manifest with `exe` (the lionmuon binary) as the program.
 * workers: processes at once (local; ignored under MPI, where each rank runs
 * one at a time).  summary_path: where the summary JSON goes (NULL: none).
 * Returns 0 when every run finished successfully. */
int sweep_execute(const sweep_manifest *m, const char *exe, int workers, int use_mpi,
                  const char *summary_path, sweep_stats *st, lm_error *e);

#endif
