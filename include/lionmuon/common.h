/* common.h - the one error mechanism and a few small helpers shared by every
 * module.
 *
 * Every fallible routine returns 0 on success and -1 on failure, and on
 * failure fills an lm_error with a one-line message that names the file,
 * tensor or flag at fault.  Nothing is printed by the library; the
 * command-line front end prints the message and exits non-zero.
 */
#ifndef LM_COMMON_H
#define LM_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char msg[1024];
} lm_error;

/* Format a message into e (if e is not NULL) and return -1. */
int lm_fail(lm_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefix the message already in e with "prefix: " (for adding context such
 * as a file name as an error travels up).  Returns -1. */
int lm_wrap(lm_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* malloc/calloc that abort with a message on exhaustion: allocation failure
 * is not a recoverable condition for a numerical tool, and checking every
 * allocation by hand hides the numerics. */
void *lm_malloc(size_t bytes);
void *lm_calloc(size_t count, size_t size);
char *lm_strdup(const char *s);

/* 1 if every one of the n values is finite. */
int lm_all_finite(size_t n, const double *x);

/* Index of the first non-finite value, or -1 if all are finite. */
long lm_first_nonfinite(size_t n, const double *x);

/* Index of name in names[0..n-1], or -1: the parsers of the enumerations
 * (msign methods, optimizers, objectives, noise laws) share it. */
int lm_name_lookup(const char *const *names, int n, const char *name);

/* A growing text buffer, for files assembled in memory and then written
 * whole (atomically).  Start from {0}; lm_buf_free releases it. */
typedef struct {
    char *s;
    size_t len, cap;
} lm_buf;
void lm_buf_printf(lm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lm_buf_free(lm_buf *b);

#define LM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define LM_MAX(a, b) ((a) > (b) ? (a) : (b))

#ifdef __cplusplus
}
#endif

#endif
