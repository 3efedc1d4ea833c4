/* safetensors.h - reading and writing safetensors files (prefix st_).
 *
 * Layout: 8-byte little-endian header length N, N bytes of JSON mapping each
 * tensor name to {"dtype", "shape", "data_offsets": [begin, end]} plus an
 * optional "__metadata__" object of string to string, then the byte buffer.
 * The reader validates every rule (theory/models.md §4): header within the file, valid
 * UTF-8 JSON object, known dtype, non-negative shape whose element count
 * matches its byte span, offsets in range, tensors covering the buffer
 * exactly with no overlap, unique names, string metadata.
 *
 * In memory every floating tensor (F64, F32, F16, BF16) is held as double and
 * every integer tensor (I64, I32) as int64_t.  Writes store F64 and I64
 * (or F32 on request) and are atomic.  JSON through jansson.
 */
#ifndef LM_SAFETENSORS_H
#define LM_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ST_MAX_DIM 8

typedef enum { ST_F64 = 0, ST_F32, ST_F16, ST_BF16, ST_I64, ST_I32 } st_dtype;

typedef struct {
    char *name;
    st_dtype dtype; /* as stored in the file read (ST_F64/ST_I64 when built) */
    int ndim;
    int64_t shape[ST_MAX_DIM];
    size_t numel;
    double *f;      /* floating tensors, upcast to double; else NULL */
    int64_t *i;     /* integer tensors, widened to int64; else NULL */
} st_tensor;

typedef struct {
    int n, cap;
    st_tensor *t;
    int nmeta, capmeta;
    char **mkey, **mval;
    /* the name index of st_get (private): open addressing over t[0..hn),
     * hcap slots holding an index into t or -1.  Tensor names are not to be
     * changed in place. */
    int *hslot;
    int hcap, hn;
} st_file;

const char *st_dtype_name(st_dtype d);

st_file *st_new(void);
void st_free(st_file *f);

/* Read and validate path, which must be a regular file (not a directory,
 * a device or a FIFO).  Before any tensor is decoded, the memory it takes
 * as double / int64 is checked against lm_mem_limit().  Errors name the file
 * and, where one is at fault, the tensor. */
int st_read(const char *path, st_file **out, lm_error *e);
/* The same from memory; `what` names the source in messages. */
int st_parse(const unsigned char *buf, size_t len, const char *what,
             st_file **out, lm_error *e);

/* Tensor by name, or NULL (a hash lookup: 100k tensors are cheap). */
st_tensor *st_get(const st_file *f, const char *name);
/* A floating tensor by name that must have the given rank (ndim < 0: any);
 * NULL with a message naming the tensor otherwise. */
st_tensor *st_get_float(const st_file *f, const char *name, int ndim, lm_error *e);

/* 0 when every dimension of t and its element count fit an int (the
 * numerical routines index with int); else -1 with a message naming the
 * tensor (prefixed by what, e.g. the file). */
int st_check_int_dims(const st_tensor *t, const char *what, lm_error *e);

/* Add a copy of data (NULL: zeros).  Fails on a duplicate or empty name. */
int st_add_f64(st_file *f, const char *name, int ndim, const int64_t *shape,
               const double *data, lm_error *e);
int st_add_i64(st_file *f, const char *name, int ndim, const int64_t *shape,
               const int64_t *data, lm_error *e);

/* Metadata (string -> string); set replaces an existing key. */
void st_set_meta(st_file *f, const char *key, const char *value);
const char *st_get_meta(const st_file *f, const char *key);

/* Serialize: floats as F64 (or F32 when as_f32), integers as I64.  The
 * header is padded with spaces to a multiple of 8 bytes. */
int st_serialize(const st_file *f, int as_f32, unsigned char **buf, size_t *len,
                 lm_error *e);
/* Serialize and write atomically (temporary file + rename). */
int st_write(const st_file *f, const char *path, lm_error *e);
int st_write_f32(const st_file *f, const char *path, lm_error *e);

/* 1 if a and b have the same number of dimensions and the same shape. */
int st_same_shape(const st_tensor *a, const st_tensor *b);

#ifdef __cplusplus
}
#endif

#endif
