/* test_safetensors.c - the safetensors reader and writer.
 *
 * Decoding is checked against bit patterns whose values are known by hand
 * (BF16 0x3F80 = 1, F16 0x0001 = 2^-24, ...) and, exhaustively, against the
 * compiler's own float conversions; the writer by exact round trips.  Every
 * rule the reader enforces has its own test: a file built byte by byte that
 * breaks that one rule, which must be refused with a message naming the
 * source and the tensor (or the reason).  All comparisons are exact: every
 * conversion under test is exact by construction, so no tolerance applies.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lionmuon/safetensors.h"
#include "testutil.h"

#define WHAT "mem.st"

/* ---- helpers ------------------------------------------------------------- */

/* The bytes of a safetensors file: the 8-byte little-endian length of the
 * header, the header, then dlen data bytes.  Single quotes in the header are
 * turned into double quotes so the JSON in the tests stays readable. */
static unsigned char *mkfile(const char *header, const void *data, size_t dlen, size_t *len)
{
    size_t h = strlen(header);
    unsigned char *b = malloc(8 + h + dlen + 1);
    uint64_t h64 = h;
    memcpy(b, &h64, 8);
    for (size_t k = 0; k < h; k++)
        b[8 + k] = header[k] == '\'' ? '"' : (unsigned char)header[k];
    if (dlen)
        memcpy(b + 8 + h, data, dlen);
    *len = 8 + h + dlen;
    return b;
}

/* Parse a hand-built file that must be accepted. */
static st_file *parse_ok(const char *header, const void *data, size_t dlen)
{
    size_t len;
    unsigned char *b = mkfile(header, data, dlen, &len);
    st_file *f = NULL;
    lm_error e = {{0}};
    int rc = st_parse(b, len, WHAT, &f, &e);
    free(b);
    cr_assert_eq(rc, 0, "refused a valid file: %s", e.msg);
    cr_assert_not_null(f);
    return f;
}

/* Raw bytes that must be refused with a message naming the source and
 * containing each of the (up to two) needles. */
static void refuse_bytes(const unsigned char *b, size_t len, const char *n1, const char *n2)
{
    st_file *f = (st_file *)1;
    lm_error e = {{0}};
    cr_assert_eq(st_parse(b, len, WHAT, &f, &e), -1, "accepted a bad file (wanted '%s')", n1);
    cr_assert_null(f, "output not cleared on failure");
    cr_assert(strstr(e.msg, WHAT), "message does not name the source: %s", e.msg);
    cr_assert(!n1 || strstr(e.msg, n1), "message lacks '%s': %s", n1, e.msg);
    cr_assert(!n2 || strstr(e.msg, n2), "message lacks '%s': %s", n2, e.msg);
}

/* A hand-built header and data that must be refused (see refuse_bytes). */
static void refuse(const char *header, const void *data, size_t dlen, const char *n1,
                   const char *n2)
{
    size_t len;
    unsigned char *b = mkfile(header, data, dlen, &len);
    refuse_bytes(b, len, n1, n2);
    free(b);
}

/* x and y the same double, bit for bit up to NaN payloads: equal values of
 * equal sign (so -0 differs from +0), or both NaN. */
static int same_double(double x, double y)
{
    if (isnan(x) || isnan(y))
        return isnan(x) && isnan(y);
    return x == y && signbit(x) == signbit(y);
}

static double from_bits64(uint64_t u)
{
    double x;
    memcpy(&x, &u, 8);
    return x;
}

static const unsigned char zeros[64];

/* A fresh empty directory under /tmp for the file-writing tests. */
static char *tmpdir(void)
{
    char *d = strdup("/tmp/lm_st_test_XXXXXX");
    cr_assert_not_null(mkdtemp(d));
    return d;
}

/* Number of entries in directory d other than . and .. */
static int count_entries(const char *d)
{
    DIR *dir = opendir(d);
    struct dirent *de;
    int n = 0;
    cr_assert_not_null(dir);
    while ((de = readdir(dir)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(dir);
    return n;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    rewind(fp);
    char *b = malloc((size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return b;
}

/* ---- decoding each dtype from known bit patterns ------------------------- */

Test(safetensors, bf16_known_bit_patterns_decode_exactly)
{
    /* BF16 is the top half of an F32: sign, 8 exponent bits, 7 fraction bits. */
    const uint16_t bits[] = {0x3F80, 0xC000, 0x0000, 0x8000, 0x0001, 0x007F,
                             0x0080, 0x7F7F, 0x7F80, 0xFF80, 0x7FC0, 0x3E80};
    const double want[] = {1.0, -2.0, 0.0, -0.0, 0x1p-133, 0x7Fp-133,
                           0x1p-126, 0x1.FEp127, INFINITY, -INFINITY, NAN, 0.25};
    size_t n = sizeof bits / sizeof bits[0];
    char h[200];
    snprintf(h, sizeof h, "{'x':{'dtype':'BF16','shape':[%zu],'data_offsets':[0,%zu]}}",
             n, 2 * n);
    st_file *f = parse_ok(h, bits, sizeof bits);
    st_tensor *t = st_get(f, "x");
    cr_assert_eq(t->dtype, ST_BF16);
    cr_assert_null(t->i);
    for (size_t k = 0; k < n; k++)
        cr_expect(same_double(t->f[k], want[k]), "BF16 0x%04X -> %a, want %a", bits[k],
                  t->f[k], want[k]);
    st_free(f);
}

Test(safetensors, bf16_every_bit_pattern_equals_f32_with_low_half_zero)
{
    /* Independent check: BF16 h means the F32 with bits h << 16, and the C
     * conversion float -> double is exact. */
    uint16_t *bits = malloc(65536 * 2);
    for (uint32_t k = 0; k < 65536; k++)
        bits[k] = (uint16_t)k;
    st_file *f = parse_ok("{'x':{'dtype':'BF16','shape':[256,256],'data_offsets':[0,131072]}}",
                          bits, 65536 * 2);
    const double *x = st_get(f, "x")->f;
    for (uint32_t k = 0; k < 65536; k++) {
        uint32_t u = k << 16;
        float y;
        memcpy(&y, &u, 4);
        cr_assert(same_double(x[k], (double)y), "BF16 0x%04X -> %a, want %a", k, x[k],
                  (double)y);
    }
    st_free(f);
    free(bits);
}

Test(safetensors, f16_known_bit_patterns_decode_exactly)
{
    /* F16: sign, 5 exponent bits (bias 15), 10 fraction bits. */
    const uint16_t bits[] = {0x3C00, 0xC000, 0x0000, 0x8000, 0x0001, 0x03FF, 0x0400,
                             0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0x3555, 0x8001};
    const double want[] = {1.0, -2.0, 0.0, -0.0, 0x1p-24, 0x3FFp-24, 0x1p-14,
                           65504.0, INFINITY, -INFINITY, NAN, 0x1.554p-2, -0x1p-24};
    size_t n = sizeof bits / sizeof bits[0];
    char h[200];
    snprintf(h, sizeof h, "{'x':{'dtype':'F16','shape':[%zu],'data_offsets':[0,%zu]}}",
             n, 2 * n);
    st_file *f = parse_ok(h, bits, sizeof bits);
    st_tensor *t = st_get(f, "x");
    cr_assert_eq(t->dtype, ST_F16);
    for (size_t k = 0; k < n; k++)
        cr_expect(same_double(t->f[k], want[k]), "F16 0x%04X -> %a, want %a", bits[k],
                  t->f[k], want[k]);
    st_free(f);
}

#ifdef __FLT16_MAX__
Test(safetensors, f16_every_bit_pattern_equals_the_compilers_float16)
{
    /* Independent check against the compiler's _Float16 -> double, which is
     * exact (every half is a double). */
    uint16_t *bits = malloc(65536 * 2);
    for (uint32_t k = 0; k < 65536; k++)
        bits[k] = (uint16_t)k;
    st_file *f = parse_ok("{'x':{'dtype':'F16','shape':[65536],'data_offsets':[0,131072]}}",
                          bits, 65536 * 2);
    const double *x = st_get(f, "x")->f;
    for (uint32_t k = 0; k < 65536; k++) {
        _Float16 y;
        memcpy(&y, &bits[k], 2);
        cr_assert(same_double(x[k], (double)y), "F16 0x%04X -> %a, want %a", k, x[k],
                  (double)y);
    }
    st_free(f);
    free(bits);
}
#endif

Test(safetensors, f32_and_i32_known_bit_patterns_decode_exactly)
{
    /* F32 tensor "a" at [0,16), I32 tensor "b" at [16,32). */
    const uint32_t fb[] = {0x3F800000u, 0x00000001u, 0x7F800000u, 0xBEAAAAABu};
    const double fw[] = {1.0, 0x1p-149, INFINITY, -0x1.555556p-2};
    const int32_t ib[] = {-1, INT32_MIN, INT32_MAX, 7};
    unsigned char data[32];
    memcpy(data, fb, 16);
    memcpy(data + 16, ib, 16);
    st_file *f = parse_ok("{'a':{'dtype':'F32','shape':[2,2],'data_offsets':[0,16]},"
                          "'b':{'dtype':'I32','shape':[4],'data_offsets':[16,32]}}",
                          data, sizeof data);
    st_tensor *a = st_get(f, "a"), *b = st_get(f, "b");
    cr_assert_eq(a->dtype, ST_F32);
    cr_assert_eq(a->ndim, 2);
    cr_assert_eq(a->numel, 4);
    for (int k = 0; k < 4; k++)
        cr_expect(same_double(a->f[k], fw[k]), "F32 0x%08X -> %a, want %a", fb[k], a->f[k],
                  fw[k]);
    cr_assert_eq(b->dtype, ST_I32);
    cr_assert_null(b->f);
    for (int k = 0; k < 4; k++)
        cr_expect_eq(b->i[k], (int64_t)ib[k]);
    st_free(f);
}

/* ---- the writer: exact round trips --------------------------------------- */

Test(safetensors, f64_and_i64_round_trip_bit_exactly)
{
    const double x[] = {0.0, -0.0, 1.0 / 3.0, -DBL_MAX, DBL_MIN, 0x1p-1074, M_PI,
                        from_bits64(0x3FF0000000000001ull)};
    const int64_t y[] = {0, -1, INT64_MIN, INT64_MAX, 1234567890123456789LL, 42};
    const int64_t sx[] = {2, 4}, sy[] = {3, 1, 2};
    lm_error e = {{0}};
    st_file *f = st_new(), *g = NULL;
    cr_assert_eq(st_add_f64(f, "x", 2, sx, x, &e), 0, "%s", e.msg);
    cr_assert_eq(st_add_i64(f, "y", 3, sy, y, &e), 0, "%s", e.msg);
    unsigned char *buf;
    size_t len;
    cr_assert_eq(st_serialize(f, 0, &buf, &len, &e), 0, "%s", e.msg);
    cr_assert_eq(st_parse(buf, len, WHAT, &g, &e), 0, "%s", e.msg);
    st_tensor *gx = st_get(g, "x"), *gy = st_get(g, "y");
    cr_assert_eq(gx->dtype, ST_F64);
    cr_assert_eq(gy->dtype, ST_I64);
    cr_assert_eq(gx->ndim, 2);
    cr_assert_eq(gx->shape[1], 4);
    cr_assert_eq(gy->ndim, 3);
    cr_assert_eq(gy->shape[0], 3);
    cr_assert_eq(memcmp(gx->f, x, sizeof x), 0, "F64 bits changed");
    cr_assert_eq(memcmp(gy->i, y, sizeof y), 0, "I64 values changed");
    /* The names come back in insertion order. */
    cr_assert_str_eq(g->t[0].name, "x");
    cr_assert_str_eq(g->t[1].name, "y");
    free(buf);
    st_free(f);
    st_free(g);
}

Test(safetensors, f32_writer_rounds_to_nearest_float_and_reads_back_exactly)
{
    /* as_f32 stores (float)x: exact for values that are floats, round to
     * nearest otherwise; reading back upcasts exactly, so the round trip
     * gives (double)(float)x bit for bit.  Integers stay I64. */
    const double x[] = {1.0, -0.5, 0x1p-149, 1.0 / 3.0, 0.1, FLT_MAX,
                        0x1.fffffefp+127 /* rounds down to FLT_MAX */};
    const int64_t step[] = {INT64_MAX};
    const int64_t sx[] = {7};
    lm_error e = {{0}};
    st_file *f = st_new(), *g = NULL;
    cr_assert_eq(st_add_f64(f, "x", 1, sx, x, &e), 0, "%s", e.msg);
    cr_assert_eq(st_add_i64(f, "step", 0, NULL, step, &e), 0, "%s", e.msg);
    unsigned char *buf;
    size_t len;
    cr_assert_eq(st_serialize(f, 1, &buf, &len, &e), 0, "%s", e.msg);
    cr_assert_eq(st_parse(buf, len, WHAT, &g, &e), 0, "%s", e.msg);
    st_tensor *gx = st_get(g, "x");
    cr_assert_eq(gx->dtype, ST_F32);
    for (int k = 0; k < 7; k++)
        cr_expect(same_double(gx->f[k], (double)(float)x[k]), "%a -> %a", x[k], gx->f[k]);
    cr_assert_eq(gx->f[0], 1.0);
    cr_assert_eq(gx->f[2], 0x1p-149);
    cr_assert_eq(st_get(g, "step")->dtype, ST_I64);
    cr_assert_eq(st_get(g, "step")->i[0], INT64_MAX);
    free(buf);
    st_free(f);
    st_free(g);
}

Test(safetensors, metadata_round_trips_and_is_written_first)
{
    lm_error e = {{0}};
    st_file *f = st_new(), *g = NULL;
    const int64_t s[] = {1};
    cr_assert_eq(st_add_f64(f, "w", 1, s, NULL, &e), 0, "%s", e.msg);
    st_set_meta(f, "format", "pt");
    st_set_meta(f, "note", "first");
    st_set_meta(f, "note", "replaced \"quoted\" \xc3\xa9"); /* set replaces; UTF-8 kept */
    cr_assert_str_eq(st_get_meta(f, "note"), "replaced \"quoted\" \xc3\xa9");
    cr_assert_null(st_get_meta(f, "absent"));
    unsigned char *buf;
    size_t len;
    cr_assert_eq(st_serialize(f, 0, &buf, &len, &e), 0, "%s", e.msg);
    cr_assert_eq(memcmp(buf + 8, "{\"__metadata__\":", 16), 0, "metadata is not first");
    cr_assert_eq(st_parse(buf, len, WHAT, &g, &e), 0, "%s", e.msg);
    cr_assert_eq(g->nmeta, 2);
    cr_assert_str_eq(st_get_meta(g, "format"), "pt");
    cr_assert_str_eq(st_get_meta(g, "note"), "replaced \"quoted\" \xc3\xa9");
    cr_assert_eq(g->n, 1);
    free(buf);
    st_free(f);
    st_free(g);
}

Test(safetensors, header_is_space_padded_to_a_multiple_of_8)
{
    /* Names of every length mod 8 exercise every amount of padding. */
    for (int L = 1; L <= 16; L++) {
        char name[17];
        memset(name, 'a', (size_t)L);
        name[L] = 0;
        lm_error e = {{0}};
        st_file *f = st_new(), *g = NULL;
        double v = L;
        cr_assert_eq(st_add_f64(f, name, 0, NULL, &v, &e), 0, "%s", e.msg);
        unsigned char *buf;
        size_t len;
        uint64_t n;
        cr_assert_eq(st_serialize(f, 0, &buf, &len, &e), 0, "%s", e.msg);
        memcpy(&n, buf, 8);
        cr_assert_eq(n % 8, 0, "header length %llu for name length %d", (unsigned long long)n, L);
        cr_assert_eq(len, 8 + n + 8);
        /* The JSON ends at its closing brace; only spaces follow. */
        size_t k = 8 + n;
        while (buf[k - 1] == ' ')
            k--;
        cr_assert_eq(buf[k - 1], '}');
        cr_assert_lt(8 + n - k, 8);
        cr_assert_eq(st_parse(buf, len, WHAT, &g, &e), 0, "%s", e.msg);
        cr_assert_eq(st_get(g, name)->f[0], v);
        free(buf);
        st_free(f);
        st_free(g);
    }
}

Test(safetensors, rank0_and_zero_size_tensors_are_legal)
{
    /* Rank 0 has numel 1 (the empty product); a 0 in the shape gives numel 0
     * with begin == end, here between two non-empty tensors. */
    double d[2] = {2.5, -1.0};
    st_file *f = parse_ok("{'s':{'dtype':'F64','shape':[],'data_offsets':[0,8]},"
                          "'z':{'dtype':'F64','shape':[3,0],'data_offsets':[8,8]},"
                          "'t':{'dtype':'F64','shape':[1],'data_offsets':[8,16]}}",
                          d, sizeof d);
    st_tensor *s = st_get(f, "s"), *z = st_get(f, "z"), *t = st_get(f, "t");
    cr_assert_eq(s->ndim, 0);
    cr_assert_eq(s->numel, 1);
    cr_assert_eq(s->f[0], 2.5);
    cr_assert_eq(z->ndim, 2);
    cr_assert_eq(z->numel, 0);
    cr_assert_eq(t->f[0], -1.0);
    /* And both survive the writer. */
    unsigned char *buf;
    size_t len;
    lm_error e = {{0}};
    st_file *g = NULL;
    cr_assert_eq(st_serialize(f, 0, &buf, &len, &e), 0, "%s", e.msg);
    cr_assert_eq(st_parse(buf, len, WHAT, &g, &e), 0, "%s", e.msg);
    cr_assert_eq(st_get(g, "s")->ndim, 0);
    cr_assert_eq(st_get(g, "z")->numel, 0);
    cr_assert_eq(st_get(g, "z")->shape[0], 3);
    free(buf);
    st_free(f);
    st_free(g);
}

Test(safetensors, empty_header_with_no_buffer_is_an_empty_file)
{
    st_file *f = parse_ok("{}", NULL, 0);
    cr_assert_eq(f->n, 0);
    cr_assert_eq(f->nmeta, 0);
    st_free(f);
}

Test(safetensors, padded_header_and_unknown_entry_keys_are_accepted)
{
    /* Trailing spaces are JSON whitespace; extra keys in an entry are
     * ignored, as the reference reader ignores them. */
    double one = 1.0;
    st_file *f = parse_ok("{'w':{'dtype':'F64','shape':[1],'data_offsets':[0,8],"
                          "'extra':1}}      ", &one, 8);
    cr_assert_eq(st_get(f, "w")->f[0], 1.0);
    st_free(f);
}

/* ---- lookups and additions ----------------------------------------------- */

Test(safetensors, get_float_names_the_tensor_when_missing_integer_or_wrong_rank)
{
    lm_error e = {{0}};
    st_file *f = st_new();
    const int64_t s[] = {2, 2};
    cr_assert_eq(st_add_f64(f, "m", 2, s, NULL, &e), 0);
    cr_assert_eq(st_add_i64(f, "k", 1, s, NULL, &e), 0);
    cr_assert_not_null(st_get_float(f, "m", 2, &e));
    cr_assert_not_null(st_get_float(f, "m", -1, &e));
    cr_assert_null(st_get_float(f, "m", 1, &e));
    cr_assert(strstr(e.msg, "'m'") && strstr(e.msg, "rank"), "%s", e.msg);
    cr_assert_null(st_get_float(f, "k", 1, &e));
    cr_assert(strstr(e.msg, "'k'") && strstr(e.msg, "I64"), "%s", e.msg);
    cr_assert_null(st_get_float(f, "nope", -1, &e));
    cr_assert(strstr(e.msg, "'nope'"), "%s", e.msg);
    cr_assert_eq(st_get(f, "m")->f[3], 0.0, "NULL data must give zeros");
    st_free(f);
}

Test(safetensors, add_refuses_duplicate_empty_and_reserved_names)
{
    lm_error e = {{0}};
    st_file *f = st_new();
    const int64_t s[] = {1}, neg[] = {-1};
    cr_assert_eq(st_add_f64(f, "w", 1, s, NULL, &e), 0);
    cr_assert_eq(st_add_f64(f, "w", 1, s, NULL, &e), -1);
    cr_assert(strstr(e.msg, "duplicate") && strstr(e.msg, "'w'"), "%s", e.msg);
    cr_assert_eq(st_add_i64(f, "w", 1, s, NULL, &e), -1);
    cr_assert_eq(st_add_f64(f, "", 1, s, NULL, &e), -1);
    cr_assert(strstr(e.msg, "empty"), "%s", e.msg);
    cr_assert_eq(st_add_f64(f, "__metadata__", 1, s, NULL, &e), -1);
    cr_assert(strstr(e.msg, "reserved"), "%s", e.msg);
    cr_assert_eq(st_add_f64(f, "n", 1, neg, NULL, &e), -1);
    cr_assert(strstr(e.msg, "'n'"), "%s", e.msg);
    cr_assert_eq(st_add_f64(f, "r", ST_MAX_DIM + 1, s, NULL, &e), -1);
    cr_assert(strstr(e.msg, "'r'"), "%s", e.msg);
    cr_assert_eq(f->n, 1);
    st_free(f);
}

Test(safetensors, writer_refuses_nonfinite_values_and_f32_overflow)
{
    lm_error e = {{0}};
    const int64_t s[] = {2};
    const double bad[] = {1.0, NAN}, big[] = {1.0, 1e39};
    unsigned char *buf;
    size_t len;

    st_file *f = st_new();
    cr_assert_eq(st_add_f64(f, "g", 1, s, bad, &e), 0);
    cr_assert_eq(st_serialize(f, 0, &buf, &len, &e), -1);
    cr_assert(strstr(e.msg, "'g'") && strstr(e.msg, "element 1"), "%s", e.msg);
    cr_assert_null(buf);
    st_free(f);

    f = st_new();
    cr_assert_eq(st_add_f64(f, "h", 1, s, big, &e), 0);
    cr_assert_eq(st_serialize(f, 0, &buf, &len, &e), 0, "1e39 is a fine F64: %s", e.msg);
    free(buf);
    cr_assert_eq(st_serialize(f, 1, &buf, &len, &e), -1);
    cr_assert(strstr(e.msg, "'h'") && strstr(e.msg, "F32"), "%s", e.msg);
    st_free(f);
}

Test(safetensors, writer_refuses_a_duplicate_made_by_renaming)
{
    lm_error e = {{0}};
    const int64_t s[] = {1};
    unsigned char *buf;
    size_t len;
    st_file *f = st_new();
    cr_assert_eq(st_add_f64(f, "a", 1, s, NULL, &e), 0);
    cr_assert_eq(st_add_f64(f, "b", 1, s, NULL, &e), 0);
    f->t[1].name[0] = 'a'; /* bypass st_add's check */
    cr_assert_eq(st_serialize(f, 0, &buf, &len, &e), -1);
    cr_assert(strstr(e.msg, "duplicate") && strstr(e.msg, "'a'"), "%s", e.msg);
    st_free(f);
}

/* ---- every malformed-file rule, one test each ---------------------------- */

Test(safetensors, refuses_file_shorter_than_8_bytes)
{
    const unsigned char b[7] = {0};
    refuse_bytes(b, 0, "too short", NULL);
    refuse_bytes(b, 7, "too short", NULL);
}

Test(safetensors, refuses_header_length_beyond_the_file)
{
    size_t len;
    unsigned char *b = mkfile("{}", NULL, 0, &len);
    uint64_t n = 3; /* one more than the 2 header bytes present */
    memcpy(b, &n, 8);
    refuse_bytes(b, len, "header length 3", "exceeds");
    free(b);
}

Test(safetensors, refuses_header_length_near_2_to_the_64_without_overflow)
{
    /* 8 + N wraps around for N near 2^64: the check must not add. */
    size_t len;
    unsigned char *b = mkfile("{}", NULL, 0, &len);
    const uint64_t huge[] = {UINT64_MAX, UINT64_MAX - 7, UINT64_MAX - 5, (uint64_t)1 << 63};
    for (int k = 0; k < 4; k++) {
        memcpy(b, &huge[k], 8);
        refuse_bytes(b, len, "exceeds", NULL);
    }
    free(b);
}

Test(safetensors, refuses_header_that_is_not_json)
{
    refuse("{'w':{'dtype':'F64'", NULL, 0, "not valid JSON", NULL);
    refuse("", NULL, 0, "not valid JSON", NULL);
}

Test(safetensors, refuses_header_that_is_not_utf8)
{
    refuse("{'w\xff':{'dtype':'F64','shape':[0],'data_offsets':[0,0]}}", NULL, 0,
           "not valid JSON", "0xff");
}

Test(safetensors, refuses_header_that_is_not_an_object)
{
    refuse("[]", NULL, 0, "not a JSON object", NULL);
    refuse("3", NULL, 0, "not valid JSON", NULL);
}

Test(safetensors, refuses_entry_that_is_not_an_object)
{
    refuse("{'w':[0,8]}", zeros, 8, "'w'", "not a JSON object");
}

Test(safetensors, refuses_entry_without_dtype)
{
    refuse("{'w':{'shape':[1],'data_offsets':[0,8]}}", zeros, 8, "'w'", "missing \"dtype\"");
}

Test(safetensors, refuses_dtype_that_is_not_a_string)
{
    refuse("{'w':{'dtype':8,'shape':[1],'data_offsets':[0,8]}}", zeros, 8, "'w'",
           "not a string");
}

Test(safetensors, refuses_unknown_dtypes_naming_dtype_and_tensor)
{
    const char *bad[] = {"U8", "F8_E4M3", "BOOL", "XYZ", "f64", ""};
    for (int k = 0; k < 6; k++) {
        char h[200], want[40];
        snprintf(h, sizeof h, "{'w':{'dtype':'%s','shape':[1],'data_offsets':[0,8]}}", bad[k]);
        snprintf(want, sizeof want, "dtype \"%s\"", bad[k]);
        refuse(h, zeros, 8, "'w'", want);
    }
}

Test(safetensors, refuses_entry_without_shape)
{
    refuse("{'w':{'dtype':'F64','data_offsets':[0,8]}}", zeros, 8, "'w'", "missing \"shape\"");
}

Test(safetensors, refuses_shape_that_is_not_an_array)
{
    refuse("{'w':{'dtype':'F64','shape':1,'data_offsets':[0,8]}}", zeros, 8, "'w'",
           "not an array");
}

Test(safetensors, refuses_negative_shape_entry)
{
    refuse("{'w':{'dtype':'F64','shape':[1,-1],'data_offsets':[0,8]}}", zeros, 8, "'w'",
           "shape entry 1");
}

Test(safetensors, refuses_non_integer_shape_entry)
{
    refuse("{'w':{'dtype':'F64','shape':[1.0],'data_offsets':[0,8]}}", zeros, 8, "'w'",
           "shape entry 0");
    refuse("{'w':{'dtype':'F64','shape':['1'],'data_offsets':[0,8]}}", zeros, 8, "'w'",
           "shape entry 0");
    refuse("{'w':{'dtype':'F64','shape':[null],'data_offsets':[0,8]}}", zeros, 8, "'w'",
           "shape entry 0");
}

Test(safetensors, refuses_rank_above_max_dim)
{
    /* ST_MAX_DIM ones are fine; one more is refused. */
    refuse("{'w':{'dtype':'F64','shape':[1,1,1,1,1,1,1,1,1],'data_offsets':[0,8]}}", zeros, 8,
           "'w'", "rank 9");
    st_file *f = parse_ok("{'w':{'dtype':'F64','shape':[1,1,1,1,1,1,1,1],'data_offsets':[0,8]}}",
                          zeros, 8);
    cr_assert_eq(st_get(f, "w")->ndim, ST_MAX_DIM);
    st_free(f);
}

Test(safetensors, refuses_element_count_overflow)
{
    /* 2^32 * 2^32 * 16 = 2^68 elements; and 2^61 F64 elements = 2^64 bytes. */
    refuse("{'w':{'dtype':'F64','shape':[4294967296,4294967296,16],'data_offsets':[0,8]}}",
           zeros, 8, "'w'", "overflows");
    refuse("{'w':{'dtype':'F64','shape':[2305843009213693952],'data_offsets':[0,8]}}",
           zeros, 8, "'w'", "overflows");
    /* A 0 anywhere makes the product 0, however large the rest. */
    st_file *f = parse_ok("{'w':{'dtype':'F64','shape':[4294967296,4294967296,0],"
                          "'data_offsets':[0,0]}}", NULL, 0);
    cr_assert_eq(st_get(f, "w")->numel, 0);
    st_free(f);
}

Test(safetensors, refuses_entry_without_data_offsets)
{
    refuse("{'w':{'dtype':'F64','shape':[1]}}", zeros, 8, "'w'", "missing \"data_offsets\"");
}

Test(safetensors, refuses_data_offsets_that_are_not_two_nonnegative_integers)
{
    const char *bad[] = {"[0]", "[0,8,8]", "[-8,0]", "[0,8.0]", "'0,8'", "[0,null]"};
    for (int k = 0; k < 6; k++) {
        char h[200];
        snprintf(h, sizeof h, "{'w':{'dtype':'F64','shape':[1],'data_offsets':%s}}", bad[k]);
        refuse(h, zeros, 8, "'w'", "data_offsets");
    }
}

Test(safetensors, refuses_data_offsets_with_begin_after_end)
{
    refuse("{'w':{'dtype':'F64','shape':[1],'data_offsets':[8,0]}}", zeros, 8, "'w'",
           "begin after end");
}

Test(safetensors, refuses_byte_span_that_disagrees_with_shape_and_dtype)
{
    /* [2] F32 needs 8 bytes: 12 offered; and [1] F64 in 4. */
    refuse("{'w':{'dtype':'F32','shape':[2],'data_offsets':[0,12]}}", zeros, 12, "'w'",
           "needs 8");
    refuse("{'v':{'dtype':'F64','shape':[1],'data_offsets':[0,4]}}", zeros, 4, "'v'",
           "needs 8");
}

Test(safetensors, refuses_offsets_beyond_the_buffer)
{
    refuse("{'w':{'dtype':'F64','shape':[2],'data_offsets':[0,16]}}", zeros, 8, "'w'",
           "beyond");
    /* Offsets near 2^63: a span of the right size, far past the buffer. */
    refuse("{'w':{'dtype':'F64','shape':[1],'data_offsets':[9223372036854775799,"
           "9223372036854775807]}}", zeros, 8, "'w'", "beyond");
}

Test(safetensors, refuses_overlapping_tensors)
{
    /* a = [0,16), b = [8,24) in a 24-byte buffer. */
    refuse("{'a':{'dtype':'F64','shape':[2],'data_offsets':[0,16]},"
           "'b':{'dtype':'F64','shape':[2],'data_offsets':[8,24]}}", zeros, 24, "'b'",
           "overlaps tensor 'a'");
    /* Two tensors on the same bytes. */
    refuse("{'a':{'dtype':'F64','shape':[1],'data_offsets':[0,8]},"
           "'b':{'dtype':'I64','shape':[1],'data_offsets':[0,8]}}", zeros, 8, "overlaps",
           NULL);
    /* A zero-size tensor inside another one's bytes. */
    refuse("{'a':{'dtype':'F64','shape':[2],'data_offsets':[0,16]},"
           "'z':{'dtype':'F64','shape':[0],'data_offsets':[8,8]}}", zeros, 16, "'z'",
           "overlaps");
}

Test(safetensors, refuses_gap_between_tensors)
{
    refuse("{'a':{'dtype':'F64','shape':[1],'data_offsets':[0,8]},"
           "'b':{'dtype':'F64','shape':[1],'data_offsets':[16,24]}}", zeros, 24, "gap",
           "'b'");
    refuse("{'b':{'dtype':'F64','shape':[1],'data_offsets':[8,16]}}", zeros, 16, "gap", "'b'");
}

Test(safetensors, refuses_trailing_bytes_after_the_last_tensor)
{
    refuse("{'a':{'dtype':'F64','shape':[1],'data_offsets':[0,8]}}", zeros, 9, "trailing",
           "'a'");
    refuse("{}", zeros, 8, "no tensors", NULL);
}

Test(safetensors, refuses_metadata_that_is_not_an_object)
{
    refuse("{'__metadata__':'pt'}", NULL, 0, "__metadata__", "not a JSON object");
}

Test(safetensors, refuses_metadata_value_that_is_not_a_string)
{
    refuse("{'__metadata__':{'format':'pt','epoch':3}}", NULL, 0, "__metadata__", "'epoch'");
    refuse("{'__metadata__':{'nested':{}}}", NULL, 0, "'nested'", NULL);
}

Test(safetensors, refuses_duplicate_tensor_names)
{
    refuse("{'w':{'dtype':'F64','shape':[0],'data_offsets':[0,0]},"
           "'w':{'dtype':'F64','shape':[0],'data_offsets':[0,0]}}", NULL, 0, "duplicate",
           "\"w\"");
}

Test(safetensors, refuses_empty_tensor_name)
{
    refuse("{'':{'dtype':'F64','shape':[0],'data_offsets':[0,0]}}", NULL, 0, "empty name",
           NULL);
}

/* ---- reading and writing files ------------------------------------------- */

Test(safetensors, read_names_a_missing_file)
{
    st_file *f = NULL;
    lm_error e = {{0}};
    cr_assert_eq(st_read("/nonexistent/dir/x.safetensors", &f, &e), -1);
    cr_assert_null(f);
    cr_assert(strstr(e.msg, "/nonexistent/dir/x.safetensors"), "%s", e.msg);
}

Test(safetensors, write_then_read_round_trips_through_a_file)
{
    char *d = tmpdir(), path[256];
    snprintf(path, sizeof path, "%s/a.safetensors", d);
    lm_error e = {{0}};
    st_file *f = st_new(), *g = NULL;
    const double x[] = {1.5, -2.25};
    const int64_t s[] = {2};
    cr_assert_eq(st_add_f64(f, "x", 1, s, x, &e), 0);
    cr_assert_eq(st_write(f, path, &e), 0, "%s", e.msg);
    cr_assert_eq(st_read(path, &g, &e), 0, "%s", e.msg);
    cr_assert_eq(st_get(g, "x")->f[1], -2.25);
    st_free(g);
    cr_assert_eq(st_write_f32(f, path, &e), 0, "%s", e.msg);
    cr_assert_eq(st_read(path, &g, &e), 0, "%s", e.msg);
    cr_assert_eq(st_get(g, "x")->dtype, ST_F32);
    cr_assert_eq(st_get(g, "x")->f[0], 1.5);
    cr_assert_eq(count_entries(d), 1, "a temporary file was left behind");
    st_free(g);
    st_free(f);
    unlink(path);
    rmdir(d);
    free(d);
}

Test(safetensors, write_into_a_missing_directory_fails_and_leaves_no_file)
{
    char *d = tmpdir(), path[256];
    snprintf(path, sizeof path, "%s/no/such/dir/a.safetensors", d);
    lm_error e = {{0}};
    st_file *f = st_new();
    const int64_t s[] = {1};
    cr_assert_eq(st_add_f64(f, "x", 1, s, NULL, &e), 0);
    cr_assert_eq(st_write(f, path, &e), -1);
    cr_assert(strstr(e.msg, path), "message does not name the path: %s", e.msg);
    cr_assert_eq(count_entries(d), 0);
    st_free(f);
    rmdir(d);
    free(d);
}

Test(safetensors, write_over_an_existing_file_replaces_it_whole)
{
    /* A long file, then a short one at the same path: the result is exactly
     * the short one's bytes, with no tail of the old file. */
    char *d = tmpdir(), path[256];
    snprintf(path, sizeof path, "%s/a.safetensors", d);
    lm_error e = {{0}};
    const int64_t big[] = {1000}, one[] = {1};
    st_file *f = st_new(), *g = st_new();
    cr_assert_eq(st_add_f64(f, "long", 1, big, NULL, &e), 0);
    cr_assert_eq(st_add_f64(g, "short", 1, one, NULL, &e), 0);
    cr_assert_eq(st_write(f, path, &e), 0, "%s", e.msg);
    cr_assert_eq(st_write(g, path, &e), 0, "%s", e.msg);
    unsigned char *want;
    size_t wlen, glen;
    cr_assert_eq(st_serialize(g, 0, &want, &wlen, &e), 0);
    char *got = slurp(path, &glen);
    cr_assert_eq(glen, wlen);
    cr_assert_eq(memcmp(got, want, wlen), 0);
    cr_assert_eq(count_entries(d), 1);
    free(got);
    free(want);
    st_free(f);
    st_free(g);
    unlink(path);
    rmdir(d);
    free(d);
}

Test(safetensors, failed_write_leaves_the_old_file_and_no_temporary)
{
    /* Two late failures: a refused value (before any byte is written), and
     * a rename onto a directory (after the temporary file is complete). */
    char *d = tmpdir(), path[256], sub[256];
    snprintf(path, sizeof path, "%s/a.safetensors", d);
    snprintf(sub, sizeof sub, "%s/adir", d);
    lm_error e = {{0}};
    const int64_t one[] = {1};
    const double nan1[] = {NAN};
    st_file *good = st_new(), *bad = st_new();
    cr_assert_eq(st_add_f64(good, "x", 1, one, NULL, &e), 0);
    cr_assert_eq(st_add_f64(bad, "x", 1, one, nan1, &e), 0);
    cr_assert_eq(st_write(good, path, &e), 0, "%s", e.msg);
    size_t len0, len1;
    char *before = slurp(path, &len0);
    cr_assert_eq(st_write(bad, path, &e), -1);
    cr_assert(strstr(e.msg, path) && strstr(e.msg, "'x'"), "%s", e.msg);
    char *after = slurp(path, &len1);
    cr_assert_eq(len0, len1);
    cr_assert_eq(memcmp(before, after, len0), 0, "old file changed");

    cr_assert_eq(mkdir(sub, 0755), 0);
    cr_assert_eq(st_write(good, sub, &e), -1);
    cr_assert(strstr(e.msg, sub), "%s", e.msg);
    struct stat st;
    cr_assert_eq(stat(sub, &st), 0);
    cr_assert(S_ISDIR(st.st_mode));
    cr_assert_eq(count_entries(d), 2, "a temporary file was left behind");
    free(before);
    free(after);
    st_free(good);
    st_free(bad);
    rmdir(sub);
    unlink(path);
    rmdir(d);
    free(d);
}
