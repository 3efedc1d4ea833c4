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
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* Append the one-line form of s[0..n) to b: control characters and bytes
 * that are not part of well-formed UTF-8 become escapes; C1 controls
 * (U+0080..U+009F, which terminals obey like ESC sequences) become \u00XX. */
static void append_printable(lm_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c >= 0x20 && c < 0x7f) {
            size_t j = i;
            while (j < n && p[j] >= 0x20 && p[j] < 0x7f)
                j++;
            lm_buf_printf(b, "%.*s", (int)(j - i), s + i);
            i = j;
            continue;
        }
        if (c == '\n' || c == '\t' || c == '\r') {
            lm_buf_printf(b, "\\%c", c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
            i++;
            continue;
        }
        if (c < 0x80) { /* other C0 controls and DEL */
            lm_buf_printf(b, "\\x%02x", c);
            i++;
            continue;
        }
        /* a UTF-8 sequence: its length, then its continuation bytes */
        size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        int ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++)
            ok = (p[i + k] & 0xc0) == 0x80;
        if (ok && len == 3) /* overlong forms and surrogates */
            ok = !(c == 0xe0 && p[i + 1] < 0xa0) && !(c == 0xed && p[i + 1] >= 0xa0);
        if (ok && len == 4)
            ok = !(c == 0xf0 && p[i + 1] < 0x90) && !(c == 0xf4 && p[i + 1] >= 0x90);
        if (!ok) {
            lm_buf_printf(b, "\\x%02x", c);
            i++;
        } else if (len == 2 && c == 0xc2 && p[i + 1] < 0xa0) {
            lm_buf_printf(b, "\\u%04x", p[i + 1]);
            i += 2;
        } else {
            lm_buf_printf(b, "%.*s", (int)len, s + i);
            i += len;
        }
    }
}

char *lm_printable(const char *s)
{
    if (!s)
        return lm_strdup("(null)");
    lm_buf b = {0};
    lm_buf_printf(&b, "%s", "");
    append_printable(&b, s, strlen(s));
    return b.s;
}

/* Store the message text (any length) in e: escaped, and when too long its
 * beginning and end around " [...] " (the end carries the reason).  Cuts
 * fall on UTF-8 character boundaries. */
static void store_message(lm_error *e, const char *text)
{
    lm_buf b = {0};
    lm_buf_printf(&b, "%s", "");
    append_printable(&b, text, strlen(text));
    size_t cap = sizeof e->msg;
    if (b.len < cap) {
        memcpy(e->msg, b.s, b.len + 1);
    } else {
        static const char mark[] = " [...] ";
        size_t keep = cap - 1 - (sizeof mark - 1);
        size_t head = keep / 3, tail = keep - head;
        while (head > 0 && ((unsigned char)b.s[head] & 0xc0) == 0x80)
            head--;
        size_t from = b.len - tail;
        while (from < b.len && ((unsigned char)b.s[from] & 0xc0) == 0x80)
            from++;
        memcpy(e->msg, b.s, head);
        memcpy(e->msg + head, mark, sizeof mark - 1);
        memcpy(e->msg + head + sizeof mark - 1, b.s + from, b.len - from + 1);
    }
    lm_buf_free(&b);
}

/* vsnprintf into a new buffer of the exact size. */
static char *vformat(const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0)
        return lm_strdup("(message could not be formatted)");
    char *s = lm_malloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

int lm_fail(lm_error *e, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        char *s = vformat(fmt, ap);
        va_end(ap);
        store_message(e, s);
        free(s);
    }
    return -1;
}

int lm_wrap(lm_error *e, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        char *prefix = vformat(fmt, ap);
        va_end(ap);
        lm_buf b = {0};
        lm_buf_printf(&b, "%s: %s", prefix, e->msg);
        free(prefix);
        store_message(e, b.s);
        lm_buf_free(&b);
    }
    return -1;
}

int lm_mul_size(size_t a, size_t b, size_t *out)
{
    size_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return -1;
    *out = r;
    return 0;
}

int lm_add_size(size_t a, size_t b, size_t *out)
{
    size_t r;
    if (__builtin_add_overflow(a, b, &r))
        return -1;
    *out = r;
    return 0;
}

/* LIONMUON_MEM_LIMIT: a number of bytes with an optional K, M, G or T
 * (powers of 1024); anything else is ignored. */
static double env_mem_limit(void)
{
    const char *s = getenv("LIONMUON_MEM_LIMIT");
    if (!s || !*s)
        return INFINITY;
    char *end;
    double v = strtod(s, &end);
    double mult = 1;
    switch (*end) {
    case 'k': case 'K': mult = 0x1p10; end++; break;
    case 'm': case 'M': mult = 0x1p20; end++; break;
    case 'g': case 'G': mult = 0x1p30; end++; break;
    case 't': case 'T': mult = 0x1p40; end++; break;
    default: break;
    }
    if (end == s || *end || !(v > 0) || !isfinite(v))
        return INFINITY;
    return v * mult;
}

double lm_mem_limit(void)
{
    double lim = INFINITY;
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psize > 0)
        lim = (double)pages * (double)psize;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        lim = fmin(lim, (double)rl.rlim_cur);
    if (getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        lim = fmin(lim, (double)rl.rlim_cur);
    return fmin(lim, env_mem_limit());
}

/* bytes in the largest unit that leaves a number >= 1 */
static void human_bytes(double x, char *buf, size_t n)
{
    static const char *const unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    while (x >= 1024 && u < 6) {
        x /= 1024;
        u++;
    }
    if (!isfinite(x))
        snprintf(buf, n, "more than 2^64 bytes");
    else
        snprintf(buf, n, u ? "%.3g %s" : "%.0f %s", x, unit[u]);
}

int lm_mem_check(double bytes, const char *what, lm_error *e)
{
    double lim = lm_mem_limit();
    if (bytes <= lim)
        return 0;
    char need[48], have[48];
    human_bytes(bytes, need, sizeof need);
    human_bytes(lim, have, sizeof have);
    return lm_fail(e, "%s needs about %s of memory, more than the %s this process may use "
                      "(physical memory, ulimit -v, LIONMUON_MEM_LIMIT)", what, need, have);
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
