/* common.c - errors, checked allocation, name tables, text buffers. */
#define _POSIX_C_SOURCE 200809L
#include "lionmuon/common.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int lm_fail(lm_error *e, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int lm_wrap(lm_error *e, const char *fmt, ...)
{
    if (e) {
        char old[sizeof e->msg];
        memcpy(old, e->msg, sizeof old);
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof e->msg - 2)
            snprintf(e->msg + n, sizeof e->msg - (size_t)n, ": %s", old);
    }
    return -1;
}

void *lm_malloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "lionmuon: out of memory (%zu bytes)\n", bytes);
        abort();
    }
    return p;
}

void *lm_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "lionmuon: out of memory (%zu x %zu bytes)\n", count, size);
        abort();
    }
    return p;
}

char *lm_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = lm_malloc(n);
    memcpy(d, s, n);
    return d;
}

long lm_first_nonfinite(size_t n, const double *x)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return (long)i;
    return -1;
}

int lm_all_finite(size_t n, const double *x)
{
    return lm_first_nonfinite(n, x) < 0;
}

void lm_buf_printf(lm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 4096;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            fprintf(stderr, "lionmuon: out of memory (%zu bytes)\n", cap);
            abort();
        }
        b->s = p;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void lm_buf_free(lm_buf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

int lm_name_lookup(const char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return i;
    return -1;
}
