/* startup.c - before anything else, lionmuon may start itself again, once,
 * with a better environment:
 *
 * - OMP_WAIT_POLICY=passive when the variable is unset and the OpenMP team
 *   has more than one thread.  libgomp reads it once, when it is loaded,
 *   and by default idle OpenMP threads spin: on a 2-core machine they take
 *   the core that OpenBLAS or the other thread needs, which made training
 *   steps 2x slower even on an idle machine.
 * - OPENBLAS_CORETYPE=CORE when OpenBLAS loaded a kernel set below what the
 *   CPU supports (src/core/blaskernel.h: the rules, the self-check and the
 *   variables that control it).  OpenBLAS also reads it once, at load.
 *
 * Both take effect only in a new image, so they share one execv.  An
 * explicit setting of either variable is kept.  The new image runs the
 * DGEMM self-check of a kernel the tool selected; if it fails, the program
 * starts once more on OpenBLAS's own choice, and `lionmuon version` says
 * so.  Left alone: under mpirun (re-executing a rank before MPI_Init is not
 * something to rely on) and under valgrind (the new image would escape the
 * checker).
 */
#include "startup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <omp.h>

#include "cli.h"
#include "core/blaskernel.h"

static int leave_alone(void)
{
    const char *pre = getenv("LD_PRELOAD");
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_RANK") ||
           (pre && strstr(pre, "vgpreload"));
}

static void reexec(char **argv)
{
    char *exe = cli_self_exe();
    if (exe)
        execv(exe, argv);
    free(exe); /* exec failed: carry on in this image */
}

/* The selected kernel failed its self-check: back to OpenBLAS's choice. */
static void fall_back(char **argv, const char *core)
{
    char *mark = lm_blas_kernel_fail_marker();
    fprintf(stderr, "lionmuon: the OpenBLAS kernel it selected failed its DGEMM self-check; "
                    "restarting on OpenBLAS's own choice, %s\n", core);
    if (setenv("OPENBLAS_CORETYPE", core, 1) == 0 &&
        setenv("LIONMUON_BLAS_SELECTED", mark, 1) == 0)
        reexec(argv);
    free(mark);
}

void cli_startup(char **argv)
{
    if (leave_alone())
        return;
    const char *fallback;
    if (lm_blas_kernel_verify(&fallback) != 0) {
        fall_back(argv, fallback);
        return;
    }
    int again = 0;
    /* a team of one thread has no idle threads to spin: no need to start
     * again for the wait policy (a sweep of OMP_NUM_THREADS=1 runs saves a
     * process image a run) */
    if (!getenv("OMP_WAIT_POLICY") && omp_get_max_threads() > 1)
        again = setenv("OMP_WAIT_POLICY", "passive", 1) == 0;
    const char *core = lm_blas_kernel_plan();
    char *old = getenv("OPENBLAS_CORETYPE") ? strdup(getenv("OPENBLAS_CORETYPE")) : NULL;
    if (core) {
        char *mark = lm_blas_kernel_marker(core);
        if (setenv("OPENBLAS_CORETYPE", core, 1) == 0 &&
            setenv("LIONMUON_BLAS_SELECTED", mark, 1) == 0)
            again = 1;
        free(mark);
    }
    if (again)
        reexec(argv);
    /* still this image, on the kernel it loaded: undo the kernel's marks */
    if (core) {
        unsetenv("LIONMUON_BLAS_SELECTED");
        if (old)
            setenv("OPENBLAS_CORETYPE", old, 1);
        else
            unsetenv("OPENBLAS_CORETYPE");
    }
    free(old);
}
