/* par.h - the one parallel-loop helper (private to the library).
 *
 * A loop runs on the OpenMP team only when it is large: below LM_PAR_MIN_WORK
 * operations the team's start-up costs more than the loop.  Never inside
 * another parallel region, and never for a team of one: libgomp allocates a
 * fresh team for each one-thread region, and a training step must not
 * allocate.  Each index is computed by one thread with the same operations,
 * so results do not depend on the thread count.
 */
#ifndef LM_CORE_PAR_H
#define LM_CORE_PAR_H

#include <stddef.h>
#include <omp.h>

#define LM_PAR_MIN_WORK ((size_t)1 << 15)

/* 1 if a loop of `work` operations should be split over the team. */
static inline int lm_par_use_team(size_t work)
{
    return work >= LM_PAR_MIN_WORK && omp_get_max_threads() > 1 && !omp_in_parallel();
}

/* for (i = 0; i < n; i++) stmt;  statically split over the team when `work`
 * is large.  stmt must only write what index i owns. */
#define LM_PAR_FOR(i, n, work, ...)                                               \
    do {                                                                          \
        long n_ = (long)(n);                                                      \
        if (lm_par_use_team(work)) {                                              \
            _Pragma("omp parallel for schedule(static)")                          \
            for (long i = 0; i < n_; i++) { __VA_ARGS__; }                        \
        } else {                                                                  \
            for (long i = 0; i < n_; i++) { __VA_ARGS__; }                        \
        }                                                                         \
    } while (0)

/* The elementwise form: the same split, and each thread's slice vectorised
 * (omp simd).  For loops whose body is one expression per element. */
#define LM_PAR_FOR_SIMD(i, n, ...)                                                \
    do {                                                                          \
        size_t n_ = (n);                                                          \
        if (lm_par_use_team(n_)) {                                                \
            _Pragma("omp parallel for simd schedule(static)")                     \
            for (size_t i = 0; i < n_; i++) { __VA_ARGS__; }                      \
        } else {                                                                  \
            _Pragma("omp simd")                                                   \
            for (size_t i = 0; i < n_; i++) { __VA_ARGS__; }                      \
        }                                                                         \
    } while (0)

#endif
