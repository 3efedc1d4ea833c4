/* blaskernel.c - the OpenBLAS core in use, its selection, its self-check
 * (see blaskernel.h for the rules and the environment variables). */
#include "core/blaskernel.h"

#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/blas.h"
#include "lionmuon/common.h"

/* The instruction level of OpenBLAS's cores (the names of its dynamic.c,
 * 0.3.x): 0 generic SSE, 1 AVX, 2 AVX2/FMA, 3 AVX-512.  Bulldozer to
 * Steamroller have AVX (and FMA4/FMA3) without AVX2; Excavator has AVX2. */
static const struct {
    const char *name;
    int level;
} CORES[] = {
    {"Unknown", 0},     {"Katmai", 0},       {"Coppermine", 0},    {"Northwood", 0},
    {"Prescott", 0},    {"Banias", 0},       {"Atom", 0},          {"Core2", 0},
    {"Penryn", 0},      {"Dunnington", 0},   {"Nehalem", 0},       {"Athlon", 0},
    {"Opteron", 0},     {"Opteron_SSE3", 0}, {"Barcelona", 0},     {"Nano", 0},
    {"Bobcat", 0},      {"Sandybridge", 1},  {"Bulldozer", 1},     {"Piledriver", 1},
    {"Steamroller", 1}, {"Excavator", 2},    {"Haswell", 2},       {"Zen", 2},
    {"Dhyana", 2},      {"SkylakeX", 3},     {"CooperLake", 3},    {"SapphireRapids", 3},
};

/* The level of a core name (any case), -1 if unknown. */
static int core_level(const char *name)
{
    for (size_t i = 0; i < sizeof CORES / sizeof CORES[0]; i++)
        if (!strcasecmp(name, CORES[i].name))
            return CORES[i].level;
    return -1;
}

/* The best core this CPU's instruction-set flags support (cpuid, with the
 * operating system's support of the wide registers, as libgcc checks it),
 * or NULL when that is the generic level. */
static const char *cpu_best_core(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return __builtin_cpu_is("amd") ? "Zen" : "Haswell";
    if (__builtin_cpu_supports("avx"))
        return "Sandybridge";
    return NULL;
}

static int dynamic_arch(void)
{
    const char *cfg = openblas_get_config();
    return cfg && strstr(cfg, "DYNAMIC_ARCH") != NULL;
}

static const char *select_mode(void)
{
    const char *m = getenv("LIONMUON_BLAS_SELECT");
    return m && *m ? m : "1";
}

static int forced(void)
{
    return !strcmp(select_mode(), "force") || !strcmp(select_mode(), "force-fail");
}

const char *lm_blas_kernel_plan(void)
{
    if (!strcmp(select_mode(), "0") || getenv("LIONMUON_BLAS_SELECTED"))
        return NULL;
    if (getenv("OPENBLAS_CORETYPE") && !forced())
        return NULL; /* the user's choice */
    if (!dynamic_arch())
        return NULL; /* one fixed kernel set: nothing to choose */
    int have = core_level(openblas_get_corename());
    const char *best = cpu_best_core();
    if (have < 0 || !best || core_level(best) <= have)
        return NULL;
    return best;
}

char *lm_blas_kernel_marker(const char *core)
{
    lm_buf b = {0};
    lm_buf_printf(&b, "%s:%s", core, openblas_get_corename());
    return b.s;
}

/* The parsed marker: selected core and OpenBLAS's default; failed = 1 for
 * "failed:...".  Returns 0 when the marker is present and well formed. */
static int read_marker(char *core, char *dflt, size_t size, int *failed)
{
    const char *s = getenv("LIONMUON_BLAS_SELECTED");
    if (!s)
        return -1;
    *failed = !strncmp(s, "failed:", 7);
    if (*failed)
        s += 7;
    const char *colon = strchr(s, ':');
    if (!colon || (size_t)(colon - s) >= size || strlen(colon + 1) >= size)
        return -1;
    memcpy(core, s, (size_t)(colon - s));
    core[colon - s] = '\0';
    strcpy(dflt, colon + 1);
    return 0;
}

/* 1 when this image runs with OPENBLAS_CORETYPE as the tool set it. */
static int tool_selected(char *core, char *dflt, size_t size, int *failed)
{
    const char *env = getenv("OPENBLAS_CORETYPE");
    if (read_marker(core, dflt, size, failed) != 0 || !env)
        return 0;
    return !strcasecmp(env, *failed ? dflt : core);
}

/* ---- the self-check ---- */

static sigjmp_buf ill_jump;

static void on_sigill(int sig)
{
    (void)sig;
    siglongjmp(ill_jump, 1);
}

/* C = alpha op(A) op(B) + beta C in row-major, by blocks of 16: the
 * reference.  op(A) is M x K, op(B) is K x N. */
static void ref_gemm(int ta, int tb, int M, int N, int K, double alpha, const double *A,
                     int lda, const double *B, int ldb, double beta, double *C, int ldc)
{
    enum { NB = 16 };
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++)
            C[(size_t)i * ldc + j] *= beta;
    for (int i0 = 0; i0 < M; i0 += NB)
        for (int k0 = 0; k0 < K; k0 += NB)
            for (int i = i0; i < LM_MIN(M, i0 + NB); i++)
                for (int k = k0; k < LM_MIN(K, k0 + NB); k++) {
                    double a = alpha * (ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]);
                    for (int j = 0; j < N; j++)
                        C[(size_t)i * ldc + j] +=
                            a * (tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]);
                }
}

/* One shape: DGEMM against the reference, max |diff| <= 1e-12 max |C|. */
static int check_shape(int ta, int tb, int M, int N, int K, double *buf)
{
    double *A = buf, *B = A + (size_t)M * K, *C = B + (size_t)K * N, *R = C + (size_t)M * N;
    for (size_t i = 0; i < (size_t)M * K; i++)
        A[i] = sin(0.7 * (double)i + 0.3);
    for (size_t i = 0; i < (size_t)K * N; i++)
        B[i] = cos(1.3 * (double)i) - 0.25;
    for (size_t i = 0; i < (size_t)M * N; i++)
        C[i] = R[i] = 0.5 - 1.0 / (1.0 + (double)(i % 7));
    int lda = ta ? M : K, ldb = tb ? K : N;
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                M, N, K, 0.75, A, lda, B, ldb, -0.5, C, N);
    ref_gemm(ta, tb, M, N, K, 0.75, A, lda, B, ldb, -0.5, R, N);
    double scale = 0, diff = 0;
    for (size_t i = 0; i < (size_t)M * N; i++) {
        scale = fmax(scale, fabs(R[i]));
        diff = fmax(diff, fabs(C[i] - R[i]));
    }
    return diff <= 1e-12 * fmax(scale, 1.0) && isfinite(diff) ? 0 : -1;
}

int lm_blas_selfcheck(void)
{
    /* below OpenBLAS's threading threshold (about 65536 * 4 multiply-adds),
     * so every product runs on this thread; odd sizes reach the kernels'
     * edge paths */
    static const int shapes[][5] = {{0, 0, 64, 64, 64}, {0, 1, 37, 29, 71},
                                    {1, 0, 23, 41, 19}, {1, 1, 9, 13, 8}, {0, 0, 1, 50, 33}};
    double *buf = lm_malloc((size_t)4 * 64 * 64 * sizeof *buf);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigill;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGILL, &sa, &old);
    int rc = 0;
    if (sigsetjmp(ill_jump, 1) == 0) {
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0] && rc == 0; i++)
            rc = check_shape(shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3],
                             shapes[i][4], buf);
    } else {
        rc = -1; /* an illegal instruction: the CPU cannot run this kernel */
    }
    sigaction(SIGILL, &old, NULL);
    free(buf);
    return rc;
}

/* ---- verification and the report ---- */

static int check_failed = -1; /* -1 not run, 0 passed, 1 failed */

int lm_blas_kernel_verify(const char **fallback)
{
    static char dflt_keep[32];
    char core[32], dflt[32];
    int failed;
    *fallback = NULL;
    if (!tool_selected(core, dflt, sizeof core, &failed) || failed)
        return 0;
    if (check_failed < 0)
        check_failed = lm_blas_selfcheck() != 0 || !strcmp(select_mode(), "force-fail");
    if (!check_failed)
        return 0;
    strcpy(dflt_keep, dflt);
    *fallback = dflt_keep;
    return -1;
}

char *lm_blas_kernel_fail_marker(void)
{
    char core[32], dflt[32];
    int failed;
    lm_buf b = {0};
    if (read_marker(core, dflt, sizeof core, &failed) == 0)
        lm_buf_printf(&b, "failed:%s:%s", core, dflt);
    else
        lm_buf_printf(&b, "failed:?:%s", openblas_get_corename());
    return b.s;
}

static void copy_name(char *dst, const char *src)
{
    snprintf(dst, 32, "%s", src ? src : "");
}

void lm_blas_kernel_info(lm_blas_kernel *k)
{
    memset(k, 0, sizeof *k);
    const char *now = openblas_get_corename(), *best = cpu_best_core();
    copy_name(k->core, now);
    copy_name(k->default_core, now);
    copy_name(k->cpu_best, best);
    char core[32], dflt[32];
    int failed;
    if (tool_selected(core, dflt, sizeof core, &failed)) {
        copy_name(k->default_core, dflt);
        if (failed) {
            snprintf(k->origin, sizeof k->origin, "OpenBLAS's detection");
            snprintf(k->note, sizeof k->note, "lionmuon selected %s in place of OpenBLAS's "
                     "%s, but its DGEMM self-check failed: back on %s", core, dflt, dflt);
            return;
        }
        const char *fb;
        if (lm_blas_kernel_verify(&fb) == 0) {
            k->selected_by_tool = 1;
            snprintf(k->origin, sizeof k->origin, "selected by lionmuon");
        } else {
            snprintf(k->origin, sizeof k->origin, "selected by lionmuon, self-check FAILED");
        }
        if (strcasecmp(now, core))
            snprintf(k->note, sizeof k->note, "lionmuon asked for %s, OpenBLAS loaded %s",
                     core, now);
        return;
    }
    int have = core_level(now), can = best ? core_level(best) : 0;
    if (getenv("OPENBLAS_CORETYPE")) {
        snprintf(k->origin, sizeof k->origin, "set by the user in OPENBLAS_CORETYPE");
        if (have > can)
            snprintf(k->note, sizeof k->note, "%s needs instructions this CPU's flags do not "
                     "list", now);
        return;
    }
    snprintf(k->origin, sizeof k->origin, "OpenBLAS's detection");
    if (dynamic_arch() && best && have >= 0 && can > have)
        snprintf(k->note, sizeof k->note, "this CPU supports %s: OPENBLAS_CORETYPE=%s is "
                 "faster%s", best, best, !strcmp(select_mode(), "0") ? "" :
                 " (not selected here: mpirun, valgrind or a failed re-execution)");
}

void lm_blas_kernel_describe(char *buf, unsigned long size)
{
    lm_blas_kernel k;
    lm_blas_kernel_info(&k);
    if (k.selected_by_tool)
        snprintf(buf, size, "%s (selected by lionmuon in place of OpenBLAS's %s%s%s)", k.core,
                 k.default_core, k.note[0] ? "; " : "", k.note);
    else
        snprintf(buf, size, "%s (%s%s%s)", k.core, k.origin, k.note[0] ? "; " : "", k.note);
}
