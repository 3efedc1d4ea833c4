/* blaskernel.h - which OpenBLAS kernel set ("core") runs, its selection
 * when OpenBLAS falls back to a generic one, and a DGEMM self-check
 * (private to the tool; prefix lm_blas_).
 *
 * A DYNAMIC_ARCH OpenBLAS picks its kernels when it is loaded, from the
 * CPU's vendor, family and model.  A CPU it does not know gets the generic
 * "Prescott" (SSE3) kernels, 3-5x slower than the AVX2 or AVX-512 ones the
 * CPU may well support.  The only way to change the choice is the variable
 * OPENBLAS_CORETYPE, read once at load: so the tool decides at start-up
 * (lm_blas_kernel_plan), sets the variable and executes itself again (the
 * one re-execution it also needs for OMP_WAIT_POLICY, src/cli/startup.c),
 * and the new image checks the kernel against a plain reference product
 * before trusting it (lm_blas_kernel_verify).
 *
 * The decision reads the CPU's instruction-set flags (never its model
 * number): AVX-512 (F, CD, BW, DQ, VL) -> SkylakeX; AVX2 and FMA -> Zen on
 * AMD, Haswell otherwise; AVX -> Sandybridge.  It replaces the loaded core
 * only when that is of a lower level (generic SSE < AVX < AVX2/FMA <
 * AVX-512).
 *
 * Environment:
 *   OPENBLAS_CORETYPE        set by the user: kept (a user choice), unless
 *                            LIONMUON_BLAS_SELECT=force
 *   LIONMUON_BLAS_SELECT     0: never select; 1 or unset: select when the
 *                            loaded core is generic for this CPU; force: also
 *                            treat an explicit OPENBLAS_CORETYPE as if
 *                            OpenBLAS had chosen it (how the tests force a
 *                            generic kernel on a CPU OpenBLAS knows);
 *                            force-fail: as force, and the self-check of the
 *                            selected kernel is reported failed (tests only:
 *                            exercises the fall-back)
 *   LIONMUON_BLAS_SELECTED   set by the tool, not by users: "CORE:DEFAULT"
 *                            once it selected CORE in place of OpenBLAS's
 *                            DEFAULT, "failed:CORE:DEFAULT" after a failed
 *                            self-check sent it back to DEFAULT.  Child
 *                            processes (sweep runs) inherit it and neither
 *                            select nor re-execute again.
 */
#ifndef LM_CORE_BLASKERNEL_H
#define LM_CORE_BLASKERNEL_H

/* What runs, and why. */
typedef struct {
    char core[32];         /* the core in use (openblas_get_corename) */
    char default_core[32]; /* OpenBLAS's own choice, when the tool replaced
                              it (else the same as core) */
    char cpu_best[32];     /* the best core this CPU's flags support ("" if
                              none beyond generic) */
    int selected_by_tool;  /* 1: core was chosen by lionmuon and verified */
    char origin[64];       /* "OpenBLAS's detection", "OPENBLAS_CORETYPE
                              (user)", "selected by lionmuon", ... */
    char note[256];        /* a fall-back or a hint; "" if none */
} lm_blas_kernel;

/* The core to select before OpenBLAS is used in earnest, or NULL to leave
 * it alone (selection off, a user setting, already selected in this process
 * tree, not a DYNAMIC_ARCH build, an unknown core name, or no better core
 * for this CPU).  The name is one OPENBLAS_CORETYPE accepts. */
const char *lm_blas_kernel_plan(void);

/* The value of LIONMUON_BLAS_SELECTED to set with OPENBLAS_CORETYPE = core
 * (malloc'd): "CORE:DEFAULT" with DEFAULT the core loaded now. */
char *lm_blas_kernel_marker(const char *core);

/* In an image started with a core the tool selected: run the self-check.
 * Returns 0 when there is nothing to check or the check passed; -1 when it
 * failed, with *fallback the core to go back to (OpenBLAS's own choice;
 * the caller sets it, marks the failure and executes itself again). */
int lm_blas_kernel_verify(const char **fallback);

/* The marker for a failed selection: "failed:CORE:DEFAULT" (malloc'd). */
char *lm_blas_kernel_fail_marker(void);

/* The DGEMM self-check: small products (several shapes, transposes, alpha
 * and beta) against a blocked triple loop, within 1e-12 relative; an
 * illegal instruction (a kernel the CPU cannot run) counts as a failure.
 * Returns 0 on a pass. */
int lm_blas_selfcheck(void);

/* Fill k with the state of this process. */
void lm_blas_kernel_info(lm_blas_kernel *k);

/* One line: "Zen (selected by lionmuon in place of OpenBLAS's Prescott)". */
void lm_blas_kernel_describe(char *buf, unsigned long size);

#endif
