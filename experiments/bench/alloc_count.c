/* alloc_count.c - an LD_PRELOAD shim that counts heap calls, to check that a
 * training step allocates nothing.
 *
 * It wraps malloc, calloc, realloc, aligned_alloc, memalign, posix_memalign
 * and free (forwarding to glibc's __libc_* entry points) and defines
 * lm_alloc_probe(), the weak hook that bench_train (src/tools/bench.c) calls when
 * each timed step starts (1) and ends (0).  At exit it prints to stderr
 *
 *   alloc_count: steps S, in steps: malloc N calloc N realloc N memalign N free N
 *   alloc_count: whole run: malloc N calloc N realloc N memalign N free N
 *
 * A step (forward, backward, clipping, optimizer) allocates nothing when the
 * "in steps" counts are 0.  With ALLOC_COUNT_TRACE=1 every call inside a
 * step also prints its call stack (glibc backtrace), to find the caller.
 *
 * Build: cc -O2 -shared -fPIC -o alloc_count.so alloc_count.c
 * Run:   LD_PRELOAD=./alloc_count.so ./lionmuon bench train ... --steps 4
 * (experiments/bench.mk: make bench-alloc). */
#define _GNU_SOURCE
#include <execinfo.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

enum { MALLOC, CALLOC, REALLOC, MEMALIGN, FREE, NKIND };
static const char *NAMES[NKIND] = {"malloc", "calloc", "realloc", "memalign", "free"};
static atomic_long total[NKIND], in_step[NKIND];
static atomic_int inside, steps;
static __thread int tracing; /* backtrace() itself may allocate once */

static void count(int kind)
{
    atomic_fetch_add(&total[kind], 1);
    if (!atomic_load(&inside))
        return;
    atomic_fetch_add(&in_step[kind], 1);
    static int trace = -1;
    if (trace < 0)
        trace = getenv("ALLOC_COUNT_TRACE") != NULL;
    if (trace && !tracing) {
        tracing = 1;
        void *f[10];
        int n = backtrace(f, 10);
        fprintf(stderr, "alloc_count: %s in a step, from\n", NAMES[kind]);
        backtrace_symbols_fd(f + 1, n - 1, 2);
        tracing = 0;
    }
}

void lm_alloc_probe(int in)
{
    atomic_store(&inside, in);
    if (in)
        atomic_fetch_add(&steps, 1);
}

void *malloc(size_t n)
{
    count(MALLOC);
    return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
    count(CALLOC);
    return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
    count(REALLOC);
    return __libc_realloc(p, n);
}

void *aligned_alloc(size_t al, size_t n)
{
    count(MEMALIGN);
    return __libc_memalign(al, n);
}

void *memalign(size_t al, size_t n)
{
    count(MEMALIGN);
    return __libc_memalign(al, n);
}

int posix_memalign(void **p, size_t al, size_t n)
{
    count(MEMALIGN);
    *p = __libc_memalign(al, n);
    return *p ? 0 : 12; /* ENOMEM */
}

void free(void *p)
{
    if (p)
        count(FREE);
    __libc_free(p);
}

__attribute__((destructor)) static void report(void)
{
    fprintf(stderr, "alloc_count: steps %d, in steps:", atomic_load(&steps));
    for (int k = 0; k < NKIND; k++)
        fprintf(stderr, " %s %ld", NAMES[k], atomic_load(&in_step[k]));
    fprintf(stderr, "\nalloc_count: whole run:");
    for (int k = 0; k < NKIND; k++)
        fprintf(stderr, " %s %ld", NAMES[k], atomic_load(&total[k]));
    fprintf(stderr, "\n");
}
