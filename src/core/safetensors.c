/* safetensors.c - reading and writing safetensors files.
 *
 * File layout (theory/models.md §4; the format of huggingface/safetensors):
 *
 *   [8 bytes]  N, the header length, unsigned little-endian
 *   [N bytes]  UTF-8 JSON object: name -> {"dtype", "shape", "data_offsets"},
 *              plus an optional "__metadata__" object of string -> string
 *   [rest]     the byte buffer; data_offsets [begin, end) are relative to it
 *
 * The reader trusts nothing: every rule below is checked and each refusal is
 * one line naming the source and, where one is at fault, the tensor.
 *   - the file holds the 8-byte length and the N header bytes it announces;
 *   - the header is valid UTF-8 JSON, an object, with no duplicate keys;
 *   - every entry other than "__metadata__" is an object with a non-empty
 *     name, a known dtype string, a shape of at most ST_MAX_DIM non-negative
 *     integers whose product (and byte size) does not overflow, and
 *     data_offsets of exactly two non-negative integers begin <= end;
 *   - end - begin == numel * sizeof(dtype), and end lies inside the buffer;
 *   - sorted by offset, the tensors tile the buffer exactly: no overlap, no
 *     gap, no trailing bytes (the rule of the reference Rust reader, so a
 *     zero-size tensor must also sit at a tile boundary);
 *   - "__metadata__", when present, is an object of string -> string.
 * Keys inside a tensor entry other than the three are ignored, as the
 * reference reader does.
 *
 * Values: floating dtypes are upcast to double exactly (every F32, F16 and
 * BF16 value is a double); integer dtypes are widened to int64.
 */
#include "lionmuon/safetensors.h"
#include "lionmuon/fs.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* The file format is little-endian and this code moves element bytes with
 * memcpy, so the host must be little-endian too (x86-64, aarch64, riscv64:
 * every machine this reference targets).  Refuse to build elsewhere rather
 * than silently read byte-swapped numbers. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif
_Static_assert(sizeof(double) == 8 && sizeof(float) == 4,
               "IEEE-754 binary64/binary32 double and float are assumed");

#define ST_META_KEY "__metadata__"

/* ---- dtypes -------------------------------------------------------------- */

static const struct {
    const char *name;
    size_t size;
    int is_float;
} dtype_info[] = {
    [ST_F64] = {"F64", 8, 1},  [ST_F32] = {"F32", 4, 1}, [ST_F16] = {"F16", 2, 1},
    [ST_BF16] = {"BF16", 2, 1}, [ST_I64] = {"I64", 8, 0}, [ST_I32] = {"I32", 4, 0},
};
#define ST_NDTYPE ((int)(sizeof dtype_info / sizeof dtype_info[0]))

const char *st_dtype_name(st_dtype d)
{
    return (int)d >= 0 && (int)d < ST_NDTYPE ? dtype_info[d].name : "?";
}

/* The dtype named s, or -1 when it is not one this reader decodes. */
static int dtype_from_name(const char *s)
{
    for (int d = 0; d < ST_NDTYPE; d++)
        if (!strcmp(s, dtype_info[d].name))
            return d;
    return -1;
}

/* ---- exact conversions of the small binary floats ------------------------
 *
 * A binary float with e exponent bits and m mantissa bits, bias 2^(e-1) - 1,
 * stores sign s, biased exponent E and fraction F and means
 *   E == 0:          (-1)^s * F * 2^(1 - bias - m)            (zero, subnormal)
 *   0 < E < 2^e - 1: (-1)^s * (2^m + F) * 2^(E - bias - m)    (normal)
 *   E == 2^e - 1:    (-1)^s * inf when F == 0, else NaN.
 * F16 is (e, m) = (5, 10), BF16 is (8, 7).  Both fit inside binary64 with room
 * to spare, so ldexp of the integer significand is exact.  A NaN keeps its
 * sign and payload (shifted to the top of the binary64 fraction). */
static double small_float_to_double(uint32_t bits, int ebits, int mbits)
{
    uint32_t sign = bits >> (ebits + mbits) & 1;
    uint32_t emax = (1u << ebits) - 1;
    uint32_t E = bits >> mbits & emax;
    uint32_t F = bits & ((1u << mbits) - 1);
    int bias = (1 << (ebits - 1)) - 1;
    double v;

    if (E == emax) {
        if (F == 0) {
            v = INFINITY;
        } else {
            uint64_t nan = 0x7ff0000000000000ull | (uint64_t)F << (52 - mbits);
            memcpy(&v, &nan, sizeof v);
        }
    } else if (E == 0) {
        v = ldexp((double)F, 1 - bias - mbits);
    } else {
        v = ldexp((double)((1u << mbits) + F), (int)E - bias - mbits);
    }
    return sign ? -v : v;
}

static double f16_to_double(uint16_t h) { return small_float_to_double(h, 5, 10); }
static double bf16_to_double(uint16_t h) { return small_float_to_double(h, 8, 7); }

/* ---- st_file: construction and lookup ------------------------------------ */

st_file *st_new(void)
{
    return lm_calloc(1, sizeof(st_file));
}

static void tensor_free(st_tensor *t)
{
    free(t->name);
    free(t->f);
    free(t->i);
}

void st_free(st_file *f)
{
    if (!f)
        return;
    for (int k = 0; k < f->n; k++)
        tensor_free(&f->t[k]);
    free(f->t);
    for (int k = 0; k < f->nmeta; k++) {
        free(f->mkey[k]);
        free(f->mval[k]);
    }
    free(f->mkey);
    free(f->mval);
    free(f->hslot);
    free(f);
}

/* FNV-1a of a name. */
static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static void index_put(st_file *f, int k)
{
    size_t mask = (size_t)f->hcap - 1, j = (size_t)name_hash(f->t[k].name) & mask;
    while (f->hslot[j] >= 0)
        j = (j + 1) & mask;
    f->hslot[j] = k;
}

/* Bring the index up to date with t[0..n): grown (and rebuilt) to keep it
 * at most half full, then the new tensors added. */
static void index_sync(st_file *f)
{
    if (f->hn == f->n && f->hslot)
        return;
    if (!f->hslot || 2 * (size_t)f->n > (size_t)f->hcap) {
        size_t cap = 16;
        while (cap < 2 * (size_t)f->n)
            cap *= 2;
        free(f->hslot);
        f->hslot = lm_malloc(cap * sizeof *f->hslot);
        for (size_t j = 0; j < cap; j++)
            f->hslot[j] = -1;
        f->hcap = (int)cap;
        f->hn = 0;
    }
    for (; f->hn < f->n; f->hn++)
        index_put(f, f->hn);
}

st_tensor *st_get(const st_file *f, const char *name)
{
    if (f->hn != f->n || !f->hslot) {
        /* tensors added behind append_tensor's back: search them all */
        for (int k = 0; k < f->n; k++)
            if (!strcmp(f->t[k].name, name))
                return &f->t[k];
        return NULL;
    }
    size_t mask = (size_t)f->hcap - 1, j = (size_t)name_hash(name) & mask;
    for (; f->hslot[j] >= 0; j = (j + 1) & mask)
        if (!strcmp(f->t[f->hslot[j]].name, name))
            return &f->t[f->hslot[j]];
    return NULL;
}

int st_check_int_dims(const st_tensor *t, const char *what, lm_error *e)
{
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] > INT_MAX)
            return lm_fail(e, "%s: tensor '%s': dimension %d is %" PRId64 ", more than the "
                              "%d this tool handles", what, t->name, d, t->shape[d], INT_MAX);
    if (t->numel > (size_t)INT_MAX)
        return lm_fail(e, "%s: tensor '%s': %zu elements, more than the %d this tool "
                          "handles", what, t->name, t->numel, INT_MAX);
    return 0;
}

/* "[2, 3]" into buf (truncated to size). */
static const char *shape_str(int ndim, const int64_t *shape, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%" PRId64, d ? ", " : "",
                                 shape[d]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
    return buf;
}

st_tensor *st_get_float(const st_file *f, const char *name, int ndim, lm_error *e)
{
    st_tensor *t = st_get(f, name);
    char sh[256];
    if (!t) {
        lm_fail(e, "no tensor '%s'", name);
        return NULL;
    }
    if (!t->f) {
        lm_fail(e, "tensor '%s' is %s, expected a floating tensor", name,
                st_dtype_name(t->dtype));
        return NULL;
    }
    if (ndim >= 0 && t->ndim != ndim) {
        lm_fail(e, "tensor '%s' has shape %s (rank %d), expected rank %d", name,
                shape_str(t->ndim, t->shape, sh, sizeof sh), t->ndim, ndim);
        return NULL;
    }
    return t;
}

/* numel = prod(shape), refusing a negative dimension and a product that
 * overflows size_t or whose byte size at elem_size bytes per element does.
 * The empty product is 1 (a rank-0 tensor is a scalar); a 0 anywhere makes
 * the product 0 however large the other dimensions. */
static int shape_numel(int ndim, const int64_t *shape, size_t elem_size, size_t *numel)
{
    size_t n = 1;
    for (int d = 0; d < ndim; d++)
        if (shape[d] < 0)
            return -1;
    for (int d = 0; d < ndim; d++)
        if (shape[d] == 0) {
            *numel = 0;
            return 0;
        }
    for (int d = 0; d < ndim; d++) {
        if (n > SIZE_MAX / (uint64_t)shape[d])
            return -1;
        n *= (size_t)shape[d];
    }
    if (n > SIZE_MAX / elem_size)
        return -1;
    *numel = n;
    return 0;
}

/* A tensor name must be non-empty, unique, and not the metadata key. */
static int check_new_name(const st_file *f, const char *name, lm_error *e)
{
    if (!name || !*name)
        return lm_fail(e, "empty tensor name");
    if (!strcmp(name, ST_META_KEY))
        return lm_fail(e, "tensor name '%s' is reserved for metadata", name);
    if (st_get(f, name))
        return lm_fail(e, "duplicate tensor name '%s'", name);
    return 0;
}

/* Append a tensor with its name, shape and numel set and no data yet. */
static st_tensor *append_tensor(st_file *f, const char *name, st_dtype dtype, int ndim,
                                const int64_t *shape, size_t numel)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 8;
        st_tensor *t = realloc(f->t, (size_t)f->cap * sizeof *t);
        if (!t) {
            fprintf(stderr, "lionmuon: out of memory (tensor table)\n");
            abort();
        }
        f->t = t;
    }
    st_tensor *t = &f->t[f->n++];
    memset(t, 0, sizeof *t);
    t->name = lm_strdup(name);
    t->dtype = dtype;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        t->shape[d] = shape[d];
    t->numel = numel;
    index_sync(f);
    return t;
}

/* Checks shared by st_add_f64 and st_add_i64. */
static int check_add(const st_file *f, const char *name, int ndim, const int64_t *shape,
                     size_t *numel, lm_error *e)
{
    if (check_new_name(f, name, e))
        return -1;
    if (ndim < 0 || ndim > ST_MAX_DIM)
        return lm_fail(e, "tensor '%s': rank %d outside 0..%d", name, ndim, ST_MAX_DIM);
    if (ndim > 0 && !shape)
        return lm_fail(e, "tensor '%s': rank %d but no shape", name, ndim);
    if (shape_numel(ndim, shape, 8, numel))
        return lm_fail(e, "tensor '%s': shape has a negative dimension or its size "
                          "overflows", name);
    return 0;
}

int st_add_f64(st_file *f, const char *name, int ndim, const int64_t *shape,
               const double *data, lm_error *e)
{
    size_t numel;
    if (check_add(f, name, ndim, shape, &numel, e))
        return -1;
    st_tensor *t = append_tensor(f, name, ST_F64, ndim, shape, numel);
    t->f = lm_calloc(numel, sizeof(double));
    if (data && numel)
        memcpy(t->f, data, numel * sizeof(double));
    return 0;
}

int st_add_i64(st_file *f, const char *name, int ndim, const int64_t *shape,
               const int64_t *data, lm_error *e)
{
    size_t numel;
    if (check_add(f, name, ndim, shape, &numel, e))
        return -1;
    st_tensor *t = append_tensor(f, name, ST_I64, ndim, shape, numel);
    t->i = lm_calloc(numel, sizeof(int64_t));
    if (data && numel)
        memcpy(t->i, data, numel * sizeof(int64_t));
    return 0;
}

/* ---- metadata ------------------------------------------------------------ */

/* Append a key known to be new. */
static void meta_append(st_file *f, const char *key, const char *value)
{
    if (f->nmeta == f->capmeta) {
        f->capmeta = f->capmeta ? 2 * f->capmeta : 8;
        char **mk = realloc(f->mkey, (size_t)f->capmeta * sizeof *mk);
        char **mv = mk ? realloc(f->mval, (size_t)f->capmeta * sizeof *mv) : NULL;
        if (!mk || !mv) {
            fprintf(stderr, "lionmuon: out of memory (metadata table)\n");
            abort();
        }
        f->mkey = mk;
        f->mval = mv;
    }
    f->mkey[f->nmeta] = lm_strdup(key);
    f->mval[f->nmeta] = lm_strdup(value);
    f->nmeta++;
}

void st_set_meta(st_file *f, const char *key, const char *value)
{
    for (int k = 0; k < f->nmeta; k++)
        if (!strcmp(f->mkey[k], key)) {
            free(f->mval[k]);
            f->mval[k] = lm_strdup(value);
            return;
        }
    meta_append(f, key, value);
}

const char *st_get_meta(const st_file *f, const char *key)
{
    for (int k = 0; k < f->nmeta; k++)
        if (!strcmp(f->mkey[k], key))
            return f->mval[k];
    return NULL;
}

/* ---- reading ------------------------------------------------------------- */

/* What the header says about one tensor, before its bytes are decoded. */
typedef struct {
    const char *name; /* owned by the JSON tree */
    int dtype;
    int ndim;
    int64_t shape[ST_MAX_DIM];
    size_t numel;
    uint64_t begin, end;
} st_entry;

/* A non-negative JSON integer.  jansson holds integers as json_int_t (long
 * long) and refuses larger ones at parse time, so no value here exceeds
 * INT64_MAX. */
static int json_nonneg_int(const json_t *v, int64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

/* Validate the header entry of one tensor: its keys, types and the
 * agreement of shape, dtype and byte span.  Offsets against the buffer and
 * against each other are checked later, once all entries are known. */
static int parse_entry(const char *name, const json_t *v, st_entry *en, lm_error *e)
{
    char sh[256];
    memset(en, 0, sizeof *en);
    en->name = name;
    if (!*name)
        return lm_fail(e, "a tensor has an empty name");
    if (!json_is_object(v))
        return lm_fail(e, "tensor '%s': entry is not a JSON object", name);

    const json_t *dt = json_object_get(v, "dtype");
    if (!dt)
        return lm_fail(e, "tensor '%s': missing \"dtype\"", name);
    if (!json_is_string(dt))
        return lm_fail(e, "tensor '%s': \"dtype\" is not a string", name);
    en->dtype = dtype_from_name(json_string_value(dt));
    if (en->dtype < 0)
        return lm_fail(e, "tensor '%s': unsupported dtype \"%s\" (this reader decodes "
                          "F64, F32, F16, BF16, I64, I32)", name, json_string_value(dt));

    const json_t *shape = json_object_get(v, "shape");
    if (!shape)
        return lm_fail(e, "tensor '%s': missing \"shape\"", name);
    if (!json_is_array(shape))
        return lm_fail(e, "tensor '%s': \"shape\" is not an array", name);
    if (json_array_size(shape) > ST_MAX_DIM)
        return lm_fail(e, "tensor '%s': rank %zu exceeds the maximum %d", name,
                       json_array_size(shape), ST_MAX_DIM);
    en->ndim = (int)json_array_size(shape);
    for (int d = 0; d < en->ndim; d++)
        if (json_nonneg_int(json_array_get(shape, (size_t)d), &en->shape[d]))
            return lm_fail(e, "tensor '%s': shape entry %d is not a non-negative integer",
                           name, d);
    size_t esize = dtype_info[en->dtype].size;
    if (shape_numel(en->ndim, en->shape, esize, &en->numel))
        return lm_fail(e, "tensor '%s': the element count of shape %s overflows", name,
                       shape_str(en->ndim, en->shape, sh, sizeof sh));

    const json_t *off = json_object_get(v, "data_offsets");
    int64_t b, end;
    if (!off)
        return lm_fail(e, "tensor '%s': missing \"data_offsets\"", name);
    if (!json_is_array(off) || json_array_size(off) != 2 ||
        json_nonneg_int(json_array_get(off, 0), &b) ||
        json_nonneg_int(json_array_get(off, 1), &end))
        return lm_fail(e, "tensor '%s': \"data_offsets\" is not two non-negative integers",
                       name);
    if (b > end)
        return lm_fail(e, "tensor '%s': data_offsets [%" PRId64 ", %" PRId64 "] begin "
                          "after end", name, b, end);
    en->begin = (uint64_t)b;
    en->end = (uint64_t)end;
    if (en->end - en->begin != (uint64_t)en->numel * esize)
        return lm_fail(e, "tensor '%s': %" PRIu64 " bytes for shape %s of %s, which needs "
                          "%zu", name, en->end - en->begin,
                       shape_str(en->ndim, en->shape, sh, sizeof sh),
                       dtype_info[en->dtype].name, en->numel * esize);
    return 0;
}

/* "__metadata__" must be an object of string -> string. */
static int parse_meta(const json_t *v, st_file *f, lm_error *e)
{
    const char *key;
    const json_t *val;
    if (!json_is_object(v))
        return lm_fail(e, "\"%s\" is not a JSON object", ST_META_KEY);
    json_object_foreach((json_t *)v, key, val) {
        if (!json_is_string(val))
            return lm_fail(e, "\"%s\" value of key '%s' is not a string", ST_META_KEY, key);
        meta_append(f, key, json_string_value(val));
    }
    return 0;
}

static int cmp_entry_offsets(const void *pa, const void *pb)
{
    const st_entry *a = *(st_entry *const *)pa, *b = *(st_entry *const *)pb;
    if (a->begin != b->begin)
        return a->begin < b->begin ? -1 : 1;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    return 0;
}

/* The tensors, sorted by offset, must tile [0, buflen) exactly: each begins
 * where the previous ended.  A begin before that point is an overlap, one
 * after it a gap, and an end short of buflen leaves trailing bytes. */
static int check_tiling(st_entry *en, int n, uint64_t buflen, lm_error *e)
{
    st_entry **s = lm_malloc((size_t)n * sizeof *s);
    uint64_t at = 0;
    const char *prev = NULL;
    int rc = 0;
    for (int k = 0; k < n; k++)
        s[k] = &en[k];
    qsort(s, (size_t)n, sizeof *s, cmp_entry_offsets);
    for (int k = 0; k < n && rc == 0; k++) {
        if (s[k]->begin < at)
            rc = lm_fail(e, "tensor '%s' (bytes [%" PRIu64 ", %" PRIu64 ")) overlaps "
                            "tensor '%s' (which ends at %" PRIu64 ")", s[k]->name,
                         s[k]->begin, s[k]->end, prev, at);
        else if (s[k]->begin > at)
            rc = lm_fail(e, "bytes [%" PRIu64 ", %" PRIu64 ") before tensor '%s' belong to "
                            "no tensor (gap)", at, s[k]->begin, s[k]->name);
        at = s[k]->end;
        prev = s[k]->name;
    }
    if (rc == 0 && at != buflen)
        rc = prev ? lm_fail(e, "trailing bytes [%" PRIu64 ", %" PRIu64 ") after tensor '%s' "
                               "belong to no tensor", at, buflen, prev)
                  : lm_fail(e, "%" PRIu64 " buffer bytes but no tensors", buflen);
    free(s);
    return rc;
}

/* Element k of a floating tensor of dtype d at p, as the exact double. */
static double load_float(st_dtype d, const unsigned char *p, size_t k)
{
    double x;
    float x32;
    uint16_t h;
    switch (d) {
    case ST_F64: memcpy(&x, p + 8 * k, 8); return x;
    case ST_F32: memcpy(&x32, p + 4 * k, 4); return x32;
    case ST_F16: memcpy(&h, p + 2 * k, 2); return f16_to_double(h);
    default:     memcpy(&h, p + 2 * k, 2); return bf16_to_double(h); /* ST_BF16 */
    }
}

/* Element k of an integer tensor of dtype d at p, widened to int64. */
static int64_t load_int(st_dtype d, const unsigned char *p, size_t k)
{
    int64_t x;
    int32_t x32;
    if (d == ST_I64) {
        memcpy(&x, p + 8 * k, 8);
        return x;
    }
    memcpy(&x32, p + 4 * k, 4); /* ST_I32 */
    return x32;
}

/* Decode one tensor's bytes (already checked to lie inside the buffer). */
static void decode_tensor(st_file *f, const st_entry *en, const unsigned char *p)
{
    st_tensor *t = append_tensor(f, en->name, (st_dtype)en->dtype, en->ndim, en->shape,
                                 en->numel);
    if (dtype_info[en->dtype].is_float) {
        t->f = lm_malloc(en->numel * sizeof(double));
        for (size_t k = 0; k < en->numel; k++)
            t->f[k] = load_float(t->dtype, p, k);
    } else {
        t->i = lm_malloc(en->numel * sizeof(int64_t));
        for (size_t k = 0; k < en->numel; k++)
            t->i[k] = load_int(t->dtype, p, k);
    }
}

/* Parse the validated JSON header `root` and decode the buffer into f. */
static int parse_header(const json_t *root, const unsigned char *data, uint64_t buflen,
                        st_file *f, lm_error *e)
{
    size_t cap = json_object_size(root);
    st_entry *en = lm_malloc((cap ? cap : 1) * sizeof *en);
    int n = 0, rc = 0;
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)root, key, v) {
        if (!strcmp(key, ST_META_KEY))
            rc = parse_meta(v, f, e);
        else
            rc = parse_entry(key, v, &en[n++], e);
        if (rc)
            break;
    }
    for (int k = 0; k < n && rc == 0; k++)
        if (en[k].end > buflen)
            rc = lm_fail(e, "tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] beyond "
                            "the %" PRIu64 "-byte buffer", en[k].name, en[k].begin,
                         en[k].end, buflen);
    if (rc == 0)
        rc = check_tiling(en, n, buflen, e);
    if (rc == 0) {
        /* decoded, each element takes 8 bytes whatever its dtype */
        double bytes = 0;
        for (int k = 0; k < n; k++)
            bytes += 8.0 * (double)en[k].numel + sizeof(st_tensor);
        rc = lm_mem_check(bytes, "decoding the tensors", e);
    }
    for (int k = 0; k < n && rc == 0; k++)
        decode_tensor(f, &en[k], data + en[k].begin);
    free(en);
    return rc;
}

int st_parse(const unsigned char *buf, size_t len, const char *what, st_file **out,
             lm_error *e)
{
    uint64_t hlen;
    json_error_t jerr;
    *out = NULL;

    if (len < 8)
        return lm_fail(e, "%s: %zu bytes, too short for the 8-byte header length", what, len);
    memcpy(&hlen, buf, 8);
    /* Compared against what follows the length field, so a huge u64 cannot
     * overflow the sum 8 + hlen. */
    if (hlen > len - 8)
        return lm_fail(e, "%s: header length %" PRIu64 " exceeds the %zu bytes after the "
                          "length field", what, hlen, len - 8);

    /* jansson checks the UTF-8 (and refuses a NUL) itself. */
    json_t *root = json_loadb((const char *)buf + 8, (size_t)hlen, JSON_REJECT_DUPLICATES,
                              &jerr);
    if (!root)
        return lm_fail(e, "%s: header is not valid JSON: %s (header byte %d)", what,
                       jerr.text, jerr.position);
    if (!json_is_object(root)) {
        json_decref(root);
        return lm_fail(e, "%s: header is not a JSON object", what);
    }

    st_file *f = st_new();
    int rc = parse_header(root, buf + 8 + hlen, len - 8 - hlen, f, e);
    json_decref(root);
    if (rc) {
        st_free(f);
        return lm_wrap(e, "%s", what);
    }
    *out = f;
    return 0;
}

int st_read(const char *path, st_file **out, lm_error *e)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    *out = NULL;
    if (lm_read_file(path, 0, &buf, &len, e))
        return -1;
    int rc = st_parse(buf, len, path, out, e);
    free(buf);
    return rc;
}

/* ---- writing ------------------------------------------------------------- */

/* The smallest double that rounds (to nearest, ties to even) to F32 inf:
 * FLT_MAX = (2 - 2^-23) 2^127 plus half its ulp 2^104, i.e. (2 - 2^-24) 2^127.
 * Tested before converting, since a double out of float range converted to
 * float is undefined behaviour in C. */
#define F32_OVERFLOW 0x1.ffffffp+127

/* Everything the writer must refuse about f, before any byte is produced:
 * tensors that could not be read back (bad names, shapes or sizes, a
 * duplicate) and values that would not survive (a non-finite value, or a
 * finite one beyond the F32 range when as_f32: both would be silent
 * NaN/inf in the output, which the house rules forbid). */
static int cmp_tensor_names(const void *a, const void *b)
{
    return strcmp((*(const st_tensor *const *)a)->name, (*(const st_tensor *const *)b)->name);
}

/* No two tensors of one name: sorted, neighbours compared (n log n). */
static int check_unique(const st_file *f, lm_error *e)
{
    const st_tensor **s = lm_malloc((size_t)LM_MAX(f->n, 1) * sizeof *s);
    for (int k = 0; k < f->n; k++)
        s[k] = &f->t[k];
    qsort(s, (size_t)f->n, sizeof *s, cmp_tensor_names);
    int rc = 0;
    for (int k = 1; k < f->n && rc == 0; k++)
        if (!strcmp(s[k - 1]->name, s[k]->name))
            rc = lm_fail(e, "duplicate tensor name '%s'", s[k]->name);
    free(s);
    return rc;
}

static int check_writable(const st_file *f, int as_f32, lm_error *e)
{
    for (int k = 0; k < f->n; k++)
        if (!f->t[k].name || !*f->t[k].name)
            return lm_fail(e, "tensor %d has an empty name", k);
    if (check_unique(f, e))
        return -1;
    for (int k = 0; k < f->n; k++) {
        const st_tensor *t = &f->t[k];
        size_t numel;
        if (!t->name || !*t->name)
            return lm_fail(e, "tensor %d has an empty name", k);
        if (!strcmp(t->name, ST_META_KEY))
            return lm_fail(e, "tensor name '%s' is reserved for metadata", t->name);
        if ((t->f == NULL) == (t->i == NULL))
            return lm_fail(e, "tensor '%s' must hold either float or integer data", t->name);
        if (t->ndim < 0 || t->ndim > ST_MAX_DIM)
            return lm_fail(e, "tensor '%s': rank %d outside 0..%d", t->name, t->ndim,
                           ST_MAX_DIM);
        if (shape_numel(t->ndim, t->shape, 8, &numel) || numel != t->numel)
            return lm_fail(e, "tensor '%s': shape disagrees with its %zu elements", t->name,
                           t->numel);
        for (size_t j = 0; t->f && j < numel; j++) {
            if (!isfinite(t->f[j]))
                return lm_fail(e, "tensor '%s': element %zu is %g; refusing to write a "
                                  "non-finite value", t->name, j, t->f[j]);
            if (as_f32 && fabs(t->f[j]) >= F32_OVERFLOW)
                return lm_fail(e, "tensor '%s': element %zu = %g overflows F32", t->name, j,
                               t->f[j]);
        }
    }
    return 0;
}

/* The JSON header: "__metadata__" first when present, then the tensors in
 * insertion order with contiguous offsets.  NULL (with a message) when a
 * name or string is not valid UTF-8, which jansson refuses to hold. */
static json_t *build_header(const st_file *f, int as_f32, size_t *buflen, lm_error *e)
{
    json_t *root = json_object();
    size_t at = 0;
    if (f->nmeta > 0) {
        json_t *m = json_object();
        json_object_set_new(root, ST_META_KEY, m);
        for (int k = 0; k < f->nmeta; k++) {
            json_t *s = json_string(f->mval[k]);
            if (!s || json_object_set_new(m, f->mkey[k], s)) {
                json_decref(root);
                lm_fail(e, "metadata key '%s': key or value is not valid UTF-8", f->mkey[k]);
                return NULL;
            }
        }
    }
    for (int k = 0; k < f->n; k++) {
        const st_tensor *t = &f->t[k];
        st_dtype d = t->f ? (as_f32 ? ST_F32 : ST_F64) : ST_I64;
        size_t bytes = t->numel * dtype_info[d].size;
        json_t *shape = json_array();
        for (int j = 0; j < t->ndim; j++)
            json_array_append_new(shape, json_integer(t->shape[j]));
        json_t *ent = json_pack("{s:s, s:o, s:[I, I]}", "dtype", dtype_info[d].name,
                                "shape", shape, "data_offsets", (json_int_t)at,
                                (json_int_t)(at + bytes));
        if (!ent || json_object_set_new(root, t->name, ent)) {
            json_decref(root);
            lm_fail(e, "tensor name '%s' is not valid UTF-8", t->name);
            return NULL;
        }
        at += bytes;
    }
    *buflen = at;
    return root;
}

int st_serialize(const st_file *f, int as_f32, unsigned char **buf, size_t *len,
                 lm_error *e)
{
    size_t buflen;
    *buf = NULL;
    *len = 0;
    if (check_writable(f, as_f32, e))
        return -1;
    json_t *root = build_header(f, as_f32, &buflen, e);
    if (!root)
        return -1;
    char *js = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!js)
        return lm_fail(e, "cannot encode the JSON header");

    /* Pad the header with spaces (JSON whitespace) to a multiple of 8 so the
     * buffer, 8 + N bytes in, is 8-byte aligned for readers that map it. */
    size_t jlen = strlen(js), hlen = (jlen + 7) / 8 * 8;
    uint64_t hlen64 = hlen;
    unsigned char *out = lm_malloc(8 + hlen + buflen);
    memcpy(out, &hlen64, 8);
    memcpy(out + 8, js, jlen);
    memset(out + 8 + jlen, ' ', hlen - jlen);
    free(js);

    unsigned char *p = out + 8 + hlen;
    for (int k = 0; k < f->n; k++) {
        const st_tensor *t = &f->t[k];
        if (t->i) {
            memcpy(p, t->i, t->numel * 8);
            p += t->numel * 8;
        } else if (!as_f32) {
            memcpy(p, t->f, t->numel * 8);
            p += t->numel * 8;
        } else {
            for (size_t j = 0; j < t->numel; j++, p += 4) {
                float x = (float)t->f[j]; /* round to nearest even */
                memcpy(p, &x, 4);
            }
        }
    }
    *buf = out;
    *len = 8 + hlen + buflen;
    return 0;
}

static int write_file(const st_file *f, int as_f32, const char *path, lm_error *e)
{
    unsigned char *buf;
    size_t len;
    if (st_serialize(f, as_f32, &buf, &len, e))
        return lm_wrap(e, "%s", path);
    int rc = lm_write_atomic(path, buf, len, e);
    free(buf);
    return rc;
}

int st_write(const st_file *f, const char *path, lm_error *e)
{
    return write_file(f, 0, path, e);
}

int st_write_f32(const st_file *f, const char *path, lm_error *e)
{
    return write_file(f, 1, path, e);
}

int st_same_shape(const st_tensor *a, const st_tensor *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return 0;
    return 1;
}
