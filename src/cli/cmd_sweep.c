/* cmd_sweep.c - `lionmuon sweep MANIFEST`: run a manifest of runs, locally
 * with N workers or under mpirun with the runs spread over the ranks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tools/sweep.h"

#ifdef LM_MPI
#include <mpi.h>
#endif

static const char USAGE[] = "lionmuon sweep MANIFEST [--workers N] [--mpi] [--summary FILE]";
static const char ABOUT[] =
    "Runs every line of MANIFEST (JSON lines {\"out\": DIR, \"argv\": [subcommand, flags...]})\n"
    "as `lionmuon ARGV...` with stdout and stderr in DIR/log.txt, skipping runs whose\n"
    "DIR/done.json exists (written atomically when a run exits 0), so a killed sweep\n"
    "resumes where it stopped.  Runs are handed out dynamically: locally to --workers\n"
    "processes; with --mpi (a build made with `make MPI=1`, started by\n"
    "`mpirun -n K lionmuon sweep --mpi ...`) one at a time to each of the K ranks.\n"
    "The summary (status, seconds and worker of every run) goes to --summary,\n"
    "default MANIFEST.summary.json.  Exit 0 only if every run succeeded.";

/* Read and run the manifest (under MPI when use_mpi); print the tally.
 * Returns the exit status. */
static int run_manifest(const char *manifest, const char *exe, int workers, int use_mpi,
                        const char *summary, int *argc, char ***argv)
{
    lm_error e = {{0}};
    sweep_manifest *m = NULL;
    if (sweep_read(manifest, &m, &e) != 0) {
        fprintf(stderr, "lionmuon sweep: %s\n", e.msg);
        return 1;
    }
#ifdef LM_MPI
    if (use_mpi)
        MPI_Init(argc, argv);
#else
    (void)argc;
    (void)argv;
#endif
    sweep_stats st;
    int rc = sweep_execute(m, exe, workers, use_mpi, summary, &st, &e);
    int rank = 0;
#ifdef LM_MPI
    if (use_mpi) {
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Finalize();
    }
#endif
    if (rank == 0) {
        printf("sweep: %d runs: %d done, %d skipped (finished before), %d failed, %.2f s\n", m->n,
               st.done, st.skipped, st.failed, st.seconds);
        if (rc != 0)
            fprintf(stderr, "lionmuon sweep: %s\n", e.msg);
    }
    sweep_free(m);
    return rc == 0 ? 0 : 1;
}

int cmd_sweep(int argc, char **argv)
{
    lm_error e = {{0}};
    int workers = 2, use_mpi = 0;
    const char *summary = NULL;
    cli_flag flags[] = {
        {"--workers", FLAG_INT, &workers, "local processes at once", 0},
        {"--mpi", FLAG_BOOL, &use_mpi, "spread the runs over the MPI ranks", 0},
        {"--summary", FLAG_STRING, &summary, "summary JSON path (default MANIFEST.summary.json)", 0},
    };
    const char *pos[1];
    int npos, help;
    if (cli_parse(argc, argv, flags, 3, pos, 1, &npos, &help, &e) != 0) {
        fprintf(stderr, "lionmuon sweep: %s\n", e.msg);
        return 2;
    }
    if (help) {
        cli_print_help(stdout, USAGE, ABOUT, flags, 3);
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
    int status = run_manifest(pos[0], exe, workers, use_mpi, summary, &argc, &argv);
    lm_buf_free(&defsum);
    free(exe);
    return status;
}
