/* api_internal.h - what the files of the API layer (src/api/) share: the
 * thread-local last-error message behind lm_last_error() and the checks
 * every entry point makes on its arguments.  Private to src/api/. */
#ifndef LM_API_INTERNAL_H
#define LM_API_INTERNAL_H

#include <stdint.h>

#include "lionmuon/api.h"
#include "lionmuon/common.h"

/* Clear this thread's message: every int-returning entry point starts so. */
void api_clear(void);

/* Set this thread's message and return -1. */
int api_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Take the message of an internal lm_error as this thread's; returns -1. */
int api_from(const lm_error *e);

/* An int64 m x n shape as the int pair the internal routines take: fails
 * (naming `what`) when a side is negative, exceeds INT_MAX, or m n does. */
int api_shape2(const char *what, int64_t m, int64_t n, int *mi, int *ni);

/* numel = prod(shape) of a rank 0..8 shape (the empty product is 1):
 * fails, naming `what`, on a bad rank, a NULL shape of positive rank, a
 * negative dimension, or overflow of int64. */
int api_numel(int ndim, const int64_t *shape, const char *what, int64_t *numel);

/* A pointer argument that must not be NULL (when count > 0). */
int api_need(const void *p, int64_t count, const char *what);

#endif
