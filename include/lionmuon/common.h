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

/* The tool's version: recorded in checkpoints, summaries and a sweep's
 * done.json, and checked when a run is resumed or a sweep skips a run. */
#define LIONMUON_VERSION "0.1.0"

/* LM_ERROR_MAX bytes of message.  A longer message (long paths or tensor
 * names) keeps its beginning and its end -- the reason is at the end -- and
 * loses the middle, marked " [...] ".  Messages are one line: control
 * characters (newline, ESC, C1 controls, ...) and bytes that are not UTF-8
 * are written as escapes (\n, \x1b, \u009b, \xff), so a file or tensor name
 * can neither break the line nor drive the terminal.  `lm_error e = {{0}}`
 * is an empty error. */
#define LM_ERROR_MAX 2048
typedef struct {
    char msg[LM_ERROR_MAX];
} lm_error;

/* Format a message into e (if e is not NULL) and return -1. */
int lm_fail(lm_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefix the message already in e with "prefix: " (for adding context such
 * as a file name as an error travels up).  Returns -1. */
int lm_wrap(lm_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* s with every control character and non-UTF-8 byte escaped as lm_fail does
 * (newly allocated; free it): for names and paths printed in tables and
 * progress lines, so that a name cannot fake a row or drive the terminal.
 * NULL gives "(null)". */
char *lm_printable(const char *s);

/* Checked size arithmetic: 0 and *out = a * b (a + b), or -1 when the result
 * does not fit size_t. */
int lm_mul_size(size_t a, size_t b, size_t *out);
int lm_add_size(size_t a, size_t b, size_t *out);

/* Memory a run may plan to use, in bytes: the physical memory, lowered by
 * RLIMIT_AS / RLIMIT_DATA and by the environment variable LIONMUON_MEM_LIMIT
 * (bytes, or with a suffix K, M, G, T; for shared machines and tests). */
double lm_mem_limit(void);
/* Refuse (naming what, e.g. "--n-embd 100000: the model") an estimate of
 * bytes (a double, so no estimate overflows) above lm_mem_limit(). */
int lm_mem_check(double bytes, const char *what, lm_error *e);

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
