/* api_st.c - safetensors files behind the C API (lm_st_*): a read handle
 * over st_file with index-based accessors (what a ctypes binding needs),
 * and a writer from parallel arrays of names, shapes and data.  Every
 * validation rule is the core reader's and writer's (src/core/safetensors.c). */
#include "api/api_internal.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lionmuon/safetensors.h"

struct lm_st {
    st_file *f;
};

int lm_st_read(const char *path, lm_st **out)
{
    api_clear();
    if (api_need(out, 1, "st_read: out") || api_need(path, 1, "st_read: path"))
        return -1;
    *out = NULL;
    st_file *f = NULL;
    lm_error e = {{0}};
    if (st_read(path, &f, &e) != 0)
        return api_from(&e);
    lm_st *h = lm_calloc(1, sizeof *h);
    h->f = f;
    *out = h;
    return 0;
}

void lm_st_free(lm_st *f)
{
    if (!f)
        return;
    st_free(f->f);
    free(f);
}

/* Tensor i, or NULL (with a message) when out of range. */
static const st_tensor *tensor_at(const lm_st *f, int i)
{
    if (!f || i < 0 || i >= f->f->n) {
        api_fail("safetensors: tensor index %d out of range (%d tensors)", i, f ? f->f->n : 0);
        return NULL;
    }
    return &f->f->t[i];
}

int lm_st_count(const lm_st *f)
{
    return f ? f->f->n : 0;
}

const char *lm_st_name(const lm_st *f, int i)
{
    const st_tensor *t = tensor_at(f, i);
    return t ? t->name : NULL;
}

const char *lm_st_dtype(const lm_st *f, int i)
{
    const st_tensor *t = tensor_at(f, i);
    return t ? st_dtype_name(t->dtype) : NULL;
}

int lm_st_ndim(const lm_st *f, int i)
{
    const st_tensor *t = tensor_at(f, i);
    return t ? t->ndim : -1;
}

int lm_st_shape(const lm_st *f, int i, int64_t *shape)
{
    const st_tensor *t = tensor_at(f, i);
    if (!t || api_need(shape, t->ndim, "st_shape: shape"))
        return -1;
    for (int d = 0; d < t->ndim; d++)
        shape[d] = t->shape[d];
    return t->ndim;
}

int64_t lm_st_numel(const lm_st *f, int i)
{
    const st_tensor *t = tensor_at(f, i);
    return t ? (int64_t)t->numel : -1;
}

int lm_st_is_int(const lm_st *f, int i)
{
    const st_tensor *t = tensor_at(f, i);
    return t ? t->i != NULL : -1;
}

const double *lm_st_data_f64(const lm_st *f, int i)
{
    const st_tensor *t = tensor_at(f, i);
    return t ? t->f : NULL;
}

const int64_t *lm_st_data_i64(const lm_st *f, int i)
{
    const st_tensor *t = tensor_at(f, i);
    return t ? t->i : NULL;
}

int lm_st_meta_count(const lm_st *f)
{
    return f ? f->f->nmeta : 0;
}

const char *lm_st_meta_key(const lm_st *f, int i)
{
    return f && i >= 0 && i < f->f->nmeta ? f->f->mkey[i] : NULL;
}

const char *lm_st_meta_value(const lm_st *f, int i)
{
    return f && i >= 0 && i < f->f->nmeta ? f->f->mval[i] : NULL;
}

/* metadata_json (an object of string -> string) into f's __metadata__. */
static int set_metadata(st_file *f, const char *metadata_json)
{
    if (!metadata_json || !*metadata_json)
        return 0;
    json_error_t je;
    json_t *root = json_loads(metadata_json, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return api_fail("st_write: metadata: invalid JSON at line %d, column %d: %s", je.line,
                        je.column, je.text);
    int rc = json_is_object(root) ? 0 : api_fail("st_write: metadata must be a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (rc != 0)
            break;
        if (!json_is_string(v))
            rc = api_fail("st_write: metadata '%s' must be a string", key);
        else
            st_set_meta(f, key, json_string_value(v));
    }
    json_decref(root);
    return rc;
}

/* Tensor i of the writer's arrays into f. */
static int add_one(st_file *f, int i, const char *const *names, const int *ndims,
                   const int64_t *const *shapes, const void *const *data, const int *is_int)
{
    const char *name = names[i] ? names[i] : "";
    int64_t numel;
    lm_error e = {{0}};
    if (api_numel(ndims[i], shapes[i], *name ? name : "st_write", &numel) ||
        api_need(data[i], numel, *name ? name : "st_write: data"))
        return -1;
    int rc = is_int && is_int[i] ? st_add_i64(f, name, ndims[i], shapes[i], data[i], &e)
                                 : st_add_f64(f, name, ndims[i], shapes[i], data[i], &e);
    return rc != 0 ? api_from(&e) : 0;
}

int lm_st_write(const char *path, int n, const char *const *names, const int *ndims,
                const int64_t *const *shapes, const void *const *data, const int *is_int,
                const char *metadata_json, int as_f32)
{
    api_clear();
    if (api_need(path, 1, "st_write: path") || api_need(names, n, "st_write: names") ||
        api_need(ndims, n, "st_write: ndims") || api_need(shapes, n, "st_write: shapes") ||
        api_need(data, n, "st_write: data"))
        return -1;
    if (n < 0)
        return api_fail("st_write: negative tensor count %d", n);
    st_file *f = st_new();
    int rc = set_metadata(f, metadata_json);
    for (int i = 0; i < n && rc == 0; i++)
        rc = add_one(f, i, names, ndims, shapes, data, is_int);
    lm_error e = {{0}};
    if (rc == 0 && (as_f32 ? st_write_f32(f, path, &e) : st_write(f, path, &e)) != 0)
        rc = api_from(&e);
    st_free(f);
    return rc;
}
