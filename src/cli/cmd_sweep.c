/* cmd_sweep.c - `lionmuon sweep MANIFEST`: run a manifest of runs, locally
 * with N workers or under mpirun with the runs spread over the ranks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lionmuon/fs.h"
#include "tools/sweep.h"

#ifdef LM_MPI
#include <mpi.h>
#endif

static const char USAGE[] =
    "lionmuon sweep MANIFEST [--workers N] [--timeout S] [--mpi] [--summary FILE]";
static const char ABOUT[] =
    "Runs every line of MANIFEST (JSON lines {\"out\": DIR, \"argv\": [subcommand, flags...]})\n"
    "as `lionmuon ARGV...` with stdout and stderr in DIR/log.txt, skipping runs whose\n"
    "DIR/done.json (written atomically when a run exits 0) records the same argv and\n"
    "tool version, so a killed sweep resumes where it stopped and a changed line runs\n"
    "again.  A manifest may run train, golden, synth, predict, synth-check, msign,\n"
    "msign-study, step, compare, bench, demo and version (never sweep or paper).  Two\n"
    "lines may not name one directory (however spelt); each directory is locked while\n"
    "its run is in progress, so two sweeps never run one line at once (the second\n"
    "reports it busy).  Each run is its own process group: SIGINT, SIGTERM and SIGHUP\n"
    "are passed on to the runs, and --timeout stops a run after S seconds.\n"
    "Runs are handed out dynamically: locally to --workers processes; with --mpi (a\n"
    "build made with `make MPI=1`, started by `mpirun -n K lionmuon sweep --mpi ...`)\n"
    "one at a time to each of the K ranks.  The summary (status, seconds and worker of\n"
    "every run) goes to --summary, default MANIFEST.summary.json.  Exit 0 only if every\n"
    "run succeeded; 2 for a bad manifest or flag; 128 + N when stopped by signal N.";

/* Read and run the manifest (under MPI when use_mpi); print the tally.
 * Returns the exit status. */
static int run_manifest(const char *manifest, const char *exe, const sweep_opts *o,
                        int *argc, char ***argv)
{
    lm_error e = {{0}};
    sweep_manifest *m = NULL;
    if (sweep_read(manifest, &m, &e) != 0 || sweep_check_summary(m, o->summary_path, &e)) {
        fprintf(stderr, "lionmuon sweep: %s\n", e.msg);
        sweep_free(m);
        return 2;
    }
#ifdef LM_MPI
    if (o->use_mpi)
        MPI_Init(argc, argv);
#else
    (void)argc;
    (void)argv;
#endif
    sweep_stats st;
    int rc = sweep_execute(m, exe, o, &st, &e);
    int rank = 0;
#ifdef LM_MPI
    if (o->use_mpi) {
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Finalize();
    }
#endif
    if (rank == 0) {
        printf("sweep: %d runs: %d done, %d skipped (finished before), %d failed, "
               "%d timed out, %d busy, %.2f s\n", m->n, st.done, st.skipped, st.failed,
               st.timed_out, st.busy, st.seconds);
        if (o->summary_path) {
            char *sp = lm_printable(o->summary_path);
            printf("sweep: summary (every run's status, time and exit code) in %s\n", sp);
            free(sp);
        }
        lm_error fe = {{0}};
        if (rc == 0 && lm_flush_stdout(&fe)) {
            memcpy(&e, &fe, sizeof e);
            rc = -1;
        }
        if (rc != 0)
            fprintf(stderr, "lionmuon sweep: %s\n", e.msg);
    }
    sweep_free(m);
    if (st.signal)
        return 128 + st.signal;
    return rc == 0 ? 0 : 1;
}

int cmd_sweep(int argc, char **argv)
{
    lm_error e = {{0}};
    int workers = 2, use_mpi = 0;
    double timeout = 0;
    const char *summary = NULL;
    cli_flag flags[] = {
        {"--workers", FLAG_INT, &workers, "local processes at once", 0},
        {"--timeout", FLAG_DOUBLE, &timeout, "per-run limit in seconds (SIGTERM, then SIGKILL "
                                             "5 s later); 0 = none", 0},
        {"--mpi", FLAG_BOOL, &use_mpi, "spread the runs over the MPI ranks", 0},
        {"--summary", FLAG_STRING, &summary, "summary JSON path (default MANIFEST.summary.json)", 0},
    };
    int nflags = (int)(sizeof flags / sizeof flags[0]);
    const char *pos[1];
    int npos, help;
    if (cli_parse(argc, argv, flags, nflags, pos, 1, &npos, &help, &e) != 0) {
        fprintf(stderr, "lionmuon sweep: %s\n", e.msg);
        return 2;
    }
    if (help) {
        cli_print_help(stdout, USAGE, ABOUT, flags, nflags);
        return 0;
    }
    if (npos != 1) {
        fprintf(stderr, "lionmuon sweep: expected MANIFEST\nusage: %s\n", USAGE);
        return 2;
    }
    if (workers < 1 || workers > 1024) {
        fprintf(stderr, "lionmuon sweep: --workers must be in 1..1024 (got %d)\n", workers);
        return 2;
    }
    if (!(timeout >= 0) || timeout > 1e9) {
        fprintf(stderr, "lionmuon sweep: --timeout must be in [0, 1e9] seconds (got %g)\n",
                timeout);
        return 2;
    }
#ifndef LM_MPI
    if (use_mpi) {
        fprintf(stderr, "lionmuon sweep: --mpi: this build has no MPI (rebuild with make MPI=1)\n");
        return 2;
    }
#endif
    char *exe = cli_self_exe();
    if (!exe) {
        fprintf(stderr, "lionmuon sweep: cannot find this program's path (/proc/self/exe)\n");
        return 1;
    }
    lm_buf defsum = {0};
    if (!summary) {
        lm_buf_printf(&defsum, "%s.summary.json", pos[0]);
        summary = defsum.s;
    }
    sweep_opts o = {workers, use_mpi, timeout, summary};
    int status = run_manifest(pos[0], exe, &o, &argc, &argv);
    lm_buf_free(&defsum);
    free(exe);
    return status;
}
