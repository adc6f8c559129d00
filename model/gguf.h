/*
 * gguf.h: GGUF version 3 files, read and written (ggml's docs/gguf.md).
 *
 * A model_gguf is one file held in memory: its typed key/value metadata (all
 * thirteen value types, arrays of any type including nested arrays) and its
 * tensors (name, ggml type, up to four dimensions in ggml order, data). The
 * same handle is filled by the reader or built up by a writer, so a file read
 * and written back is byte-for-byte the same file.
 *
 * Reading is hostile-input safe: every count and length is checked against
 * the bytes that remain before anything is allocated; unknown value or tensor
 * types, bad alignment, tensors outside the data section or overlapping each
 * other, duplicate keys or names are rejected with a message in `err`.
 *
 * Ownership: the handle owns every string, array and tensor byte it hands
 * out; pointers stay valid until model_gguf_free. Not thread-safe for
 * writing; concurrent reads are fine.
 */
#ifndef BASED_MODEL_GGUF_H
#define BASED_MODEL_GGUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "chain/base.h"

/* Metadata value types (gguf_metadata_value_type). */
enum model_gguf_vtype {
    MODEL_GGUF_U8 = 0, MODEL_GGUF_I8 = 1, MODEL_GGUF_U16 = 2,
    MODEL_GGUF_I16 = 3, MODEL_GGUF_U32 = 4, MODEL_GGUF_I32 = 5,
    MODEL_GGUF_F32 = 6, MODEL_GGUF_BOOL = 7, MODEL_GGUF_STRING = 8,
    MODEL_GGUF_ARRAY = 9, MODEL_GGUF_U64 = 10, MODEL_GGUF_I64 = 11,
    MODEL_GGUF_F64 = 12
};

/* Caps applied by the reader (hostile input). */
#define MODEL_GGUF_MAX_FILE    ((size_t)4 << 30)
#define MODEL_GGUF_MAX_KV      65536u
#define MODEL_GGUF_MAX_TENSORS 65536u
#define MODEL_GGUF_MAX_NAME    64u
#define MODEL_GGUF_MAX_KEY     65535u
#define MODEL_GGUF_MAX_DEPTH   4

/*
 * One metadata value. Scalars live in the union; a string is `str` (NUL
 * terminated copy) with `len` bytes; an array has `elem_type`, `count` and
 * either `raw` (count fixed-size little-endian elements, for numeric and bool
 * element types) or `items` (count values, for strings and nested arrays).
 */
struct model_gguf_value {
    uint32_t type;
    union { uint64_t u; int64_t i; double f; } v;
    char *str;
    uint64_t len;
    uint32_t elem_type;
    uint64_t count;
    uint8_t *raw;
    struct model_gguf_value *items;
};

struct model_gguf_tensor {
    char name[MODEL_GGUF_MAX_NAME + 1];
    uint32_t type;            /* ggml type code, see quant.h */
    uint32_t n_dims;
    uint64_t dims[4];         /* dims[0] is the row length */
    uint64_t offset;          /* from the start of the data section */
    uint64_t nbytes;
    const uint8_t *data;
};

typedef struct model_gguf model_gguf;

/* An empty file (no metadata, no tensors) to build with the setters. */
model_gguf *model_gguf_new(void);
void model_gguf_free(model_gguf *g);

/* Parse `len` bytes (copied). On error *out is NULL and err says why. */
based_err model_gguf_parse(const uint8_t *buf, size_t len, model_gguf **out,
                           char *err, size_t errlen);
/* Read and parse a file (at most MODEL_GGUF_MAX_FILE bytes). */
based_err model_gguf_load(const char *path, model_gguf **out, char *err,
                          size_t errlen);

/* Serialise to a malloc'd buffer the caller frees. */
based_err model_gguf_serialize(const model_gguf *g, uint8_t **out, size_t *len);
/* Write to a file (via a temporary file renamed into place). */
based_err model_gguf_save(const model_gguf *g, const char *path, char *err,
                          size_t errlen);

/* Metadata access. Keys keep their insertion (file) order. */
size_t model_gguf_kv_count(const model_gguf *g);
const char *model_gguf_kv_key(const model_gguf *g, size_t i);
const struct model_gguf_value *model_gguf_kv_value(const model_gguf *g, size_t i);
const struct model_gguf_value *model_gguf_find(const model_gguf *g, const char *key);
/* Any integer type that fits; false when absent or not an integer. */
bool model_gguf_get_u64(const model_gguf *g, const char *key, uint64_t *out);
/* F32 or F64 (or an integer); false when absent. */
bool model_gguf_get_f64(const model_gguf *g, const char *key, double *out);
/* The string, or NULL when absent or not a string. */
const char *model_gguf_get_str(const model_gguf *g, const char *key);

/* Setters replace a key of the same name. Values are deep-copied. */
based_err model_gguf_set(model_gguf *g, const char *key, const struct model_gguf_value *v);
based_err model_gguf_set_u32(model_gguf *g, const char *key, uint32_t v);
based_err model_gguf_set_f32(model_gguf *g, const char *key, float v);
based_err model_gguf_set_bool(model_gguf *g, const char *key, bool v);
based_err model_gguf_set_str(model_gguf *g, const char *key, const char *s);
/* Array of fixed-size elements (count * element size bytes at `data`). */
based_err model_gguf_set_arr(model_gguf *g, const char *key, uint32_t elem_type,
                             uint64_t count, const void *data);
based_err model_gguf_set_str_arr(model_gguf *g, const char *key, uint64_t count,
                                 const char *const *strs);

/* Tensors, in file order. */
size_t model_gguf_tensor_count(const model_gguf *g);
const struct model_gguf_tensor *model_gguf_tensor_at(const model_gguf *g, size_t i);
const struct model_gguf_tensor *model_gguf_find_tensor(const model_gguf *g, const char *name);
/* Add a tensor; its data (nbytes, checked against type and dims) is copied. */
based_err model_gguf_add_tensor(model_gguf *g, const char *name, uint32_t type,
                                uint32_t n_dims, const uint64_t *dims,
                                const void *data, uint64_t nbytes);
uint32_t model_gguf_alignment(const model_gguf *g);

/* Byte size of one value element type (0 for string/array/unknown). */
size_t model_gguf_vtype_size(uint32_t type);

#endif
