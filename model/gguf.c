/*
 * gguf.c: the GGUF v3 reader and writer (see gguf.h).
 *
 * The reader walks a private copy of the file with a bounds-checked cursor:
 * header, key/value pairs (recursively for arrays, depth-limited), tensor
 * infos, then the aligned data section. Tensor sizes come from the type and
 * dimensions (or, for our sparse SQ8 type, from walking its blocks), and the
 * tensors are then checked for alignment, bounds and overlap in offset order.
 * The writer lays the same structures out again with zero padding, so a
 * parsed file serialises back to identical bytes.
 */
#include <errno.h>
#include <unistd.h>

#include "model/gguf.h"
#include "model/quant.h"
#include "chain/base.h"

struct kv { char *key; struct model_gguf_value val; };

struct model_gguf {
    struct kv *kv;
    size_t n_kv, cap_kv;
    struct model_gguf_tensor *t;
    uint8_t **tdata;          /* owned tensor data (writer side) */
    size_t n_t, cap_t;
    uint8_t *file;            /* owned file copy (reader side) */
};

/* ---- small helpers ---------------------------------------------------- */

size_t model_gguf_vtype_size(uint32_t type)
{
    static const size_t sz[] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };
    return type < BASED_ARRAY_LEN(sz) ? sz[type] : 0;
}

static void value_clear(struct model_gguf_value *v)
{
    free(v->str);
    free(v->raw);
    if (v->items)
        for (uint64_t i = 0; i < v->count; i++)
            value_clear(&v->items[i]);
    free(v->items);
    memset(v, 0, sizeof *v);
}

model_gguf *model_gguf_new(void)
{
    return calloc(1, sizeof(model_gguf));
}

void model_gguf_free(model_gguf *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_kv; i++) {
        free(g->kv[i].key);
        value_clear(&g->kv[i].val);
    }
    for (size_t i = 0; i < g->n_t; i++)
        free(g->tdata[i]);
    free(g->kv);
    free(g->t);
    free(g->tdata);
    free(g->file);
    free(g);
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
    return x + (a - x % a) % a;
}

uint32_t model_gguf_alignment(const model_gguf *g)
{
    uint64_t a;
    if (model_gguf_get_u64(g, "general.alignment", &a) && a > 0 && a % 8 == 0 && a <= 65536)
        return (uint32_t)a;
    return 32;
}

/* ---- reader ------------------------------------------------------------ */

struct cur { const uint8_t *p; size_t len, pos; char *err; size_t errlen; };

static based_err fail(struct cur *c, based_err e, const char *msg)
{
    if (c->err && c->errlen)
        snprintf(c->err, c->errlen, "%s at byte %zu", msg, c->pos);
    return e;
}

static bool take(struct cur *c, size_t n, const uint8_t **out)
{
    if (c->len - c->pos < n)
        return false;
    *out = c->p + c->pos;
    c->pos += n;
    return true;
}

static uint64_t rd_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static bool rd_u32(struct cur *c, uint32_t *v)
{
    const uint8_t *p;
    if (!take(c, 4, &p))
        return false;
    *v = (uint32_t)rd_le(p, 4);
    return true;
}

static bool rd_u64(struct cur *c, uint64_t *v)
{
    const uint8_t *p;
    if (!take(c, 8, &p))
        return false;
    *v = rd_le(p, 8);
    return true;
}

static based_err rd_string(struct cur *c, uint64_t max, char **out, uint64_t *len)
{
    uint64_t n;
    const uint8_t *p;
    if (!rd_u64(c, &n))
        return fail(c, BASED_E_DECODE, "truncated string length");
    if (n > max)
        return fail(c, BASED_E_TOO_LARGE, "string too long");
    if (!take(c, (size_t)n, &p))
        return fail(c, BASED_E_DECODE, "truncated string");
    char *s = malloc((size_t)n + 1);
    if (!s)
        return BASED_E_NOMEM;
    memcpy(s, p, (size_t)n);
    s[n] = 0;
    *out = s;
    if (len)
        *len = n;
    return BASED_E_OK;
}

static void scalar_decode(struct model_gguf_value *v, const uint8_t *p, size_t sz)
{
    uint64_t u = rd_le(p, sz);
    switch (v->type) {
    case MODEL_GGUF_I8: v->v.i = (int8_t)u; break;
    case MODEL_GGUF_I16: v->v.i = (int16_t)u; break;
    case MODEL_GGUF_I32: v->v.i = (int32_t)u; break;
    case MODEL_GGUF_I64: v->v.i = (int64_t)u; break;
    case MODEL_GGUF_F32: { uint32_t b = (uint32_t)u; float f; memcpy(&f, &b, 4); v->v.f = f; break; }
    case MODEL_GGUF_F64: memcpy(&v->v.f, &u, 8); break;
    default: v->v.u = u; break;
    }
}

static based_err rd_value(struct cur *c, uint32_t type, int depth, struct model_gguf_value *v);

static based_err rd_array(struct cur *c, int depth, struct model_gguf_value *v)
{
    if (depth >= MODEL_GGUF_MAX_DEPTH)
        return fail(c, BASED_E_DECODE, "arrays nested too deeply");
    if (!rd_u32(c, &v->elem_type) || !rd_u64(c, &v->count))
        return fail(c, BASED_E_DECODE, "truncated array header");
    if (v->elem_type > MODEL_GGUF_F64)
        return fail(c, BASED_E_DECODE, "unknown array element type");
    size_t es = model_gguf_vtype_size(v->elem_type);
    size_t remain = c->len - c->pos;
    /* Strings and arrays take at least 8 bytes each, scalars es bytes. */
    if (v->count > remain / (es ? es : 8))
        return fail(c, BASED_E_TOO_LARGE, "array count exceeds the file");
    if (es) {
        const uint8_t *p = NULL;
        if (!take(c, (size_t)v->count * es, &p))
            return fail(c, BASED_E_DECODE, "truncated array");
        v->raw = malloc((size_t)v->count * es + 1);
        if (!v->raw)
            return BASED_E_NOMEM;
        memcpy(v->raw, p, (size_t)v->count * es);
        if (v->elem_type == MODEL_GGUF_BOOL)
            for (uint64_t i = 0; i < v->count; i++)
                if (p[i] > 1)
                    return fail(c, BASED_E_DECODE, "bool array element not 0 or 1");
        return BASED_E_OK;
    }
    v->items = calloc((size_t)v->count + 1, sizeof *v->items);
    if (!v->items)
        return BASED_E_NOMEM;
    for (uint64_t i = 0; i < v->count; i++) {
        based_err e = rd_value(c, v->elem_type, depth + 1, &v->items[i]);
        if (e) {
            v->count = i + 1; /* so value_clear frees what was read */
            return e;
        }
    }
    return BASED_E_OK;
}

static based_err rd_value(struct cur *c, uint32_t type, int depth, struct model_gguf_value *v)
{
    v->type = type;
    if (type == MODEL_GGUF_STRING)
        return rd_string(c, c->len, &v->str, &v->len);
    if (type == MODEL_GGUF_ARRAY)
        return rd_array(c, depth, v);
    size_t sz = model_gguf_vtype_size(type);
    const uint8_t *p;
    if (!sz)
        return fail(c, BASED_E_DECODE, "unknown metadata value type");
    if (!take(c, sz, &p))
        return fail(c, BASED_E_DECODE, "truncated value");
    if (type == MODEL_GGUF_BOOL && p[0] > 1)
        return fail(c, BASED_E_DECODE, "bool value not 0 or 1");
    scalar_decode(v, p, sz);
    return BASED_E_OK;
}

static based_err grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return BASED_E_OK;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return BASED_E_NOMEM;
    *arr = p;
    *cap = nc;
    return BASED_E_OK;
}

static based_err rd_kvs(struct cur *c, model_gguf *g, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        char *key;
        based_err e = rd_string(c, MODEL_GGUF_MAX_KEY, &key, NULL);
        if (e)
            return e;
        if (model_gguf_find(g, key)) {
            free(key);
            return fail(c, BASED_E_DECODE, "duplicate metadata key");
        }
        e = grow((void **)&g->kv, &g->cap_kv, g->n_kv + 1, sizeof *g->kv);
        if (e) {
            free(key);
            return e;
        }
        struct kv *kv = &g->kv[g->n_kv++];
        memset(kv, 0, sizeof *kv);
        kv->key = key;
        uint32_t type;
        if (!rd_u32(c, &type))
            return fail(c, BASED_E_DECODE, "truncated value type");
        if (type > MODEL_GGUF_F64)
            return fail(c, BASED_E_DECODE, "unknown metadata value type");
        e = rd_value(c, type, 0, &kv->val);
        if (e)
            return e;
    }
    return BASED_E_OK;
}

static based_err rd_tensor_info(struct cur *c, struct model_gguf_tensor *t)
{
    char *name;
    uint64_t nlen;
    based_err e = rd_string(c, MODEL_GGUF_MAX_NAME, &name, &nlen);
    if (e)
        return e;
    memcpy(t->name, name, (size_t)nlen + 1);
    free(name);
    if (!rd_u32(c, &t->n_dims))
        return fail(c, BASED_E_DECODE, "truncated tensor info");
    if (t->n_dims < 1 || t->n_dims > 4)
        return fail(c, BASED_E_DECODE, "tensor dimension count not in 1..4");
    uint64_t total = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        if (!rd_u64(c, &t->dims[d]))
            return fail(c, BASED_E_DECODE, "truncated tensor dims");
        if (t->dims[d] == 0 || t->dims[d] > ((uint64_t)1 << 40) / total)
            return fail(c, BASED_E_TOO_LARGE, "absurd tensor dimension");
        total *= t->dims[d];
    }
    for (uint32_t d = t->n_dims; d < 4; d++)
        t->dims[d] = 1;
    if (!rd_u32(c, &t->type) || !rd_u64(c, &t->offset))
        return fail(c, BASED_E_DECODE, "truncated tensor info");
    if (!model_type_known(t->type))
        return fail(c, BASED_E_DECODE, "unknown tensor type");
    if (t->type != MODEL_T_SQ8) {
        uint64_t rb = model_type_row_bytes(t->type, t->dims[0]);
        if (!rb)
            return fail(c, BASED_E_DECODE, "row length not a multiple of the block size");
        t->nbytes = rb * (total / t->dims[0]);
    }
    return BASED_E_OK;
}

static int cmp_off(const void *a, const void *b)
{
    const struct model_gguf_tensor *x = *(struct model_gguf_tensor *const *)a;
    const struct model_gguf_tensor *y = *(struct model_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Sizes of SQ8 tensors, bounds, alignment, overlap. */
static based_err check_layout(struct cur *c, model_gguf *g, uint64_t data_start, uint32_t align)
{
    uint64_t dlen = c->len - data_start;
    struct model_gguf_tensor **ord = malloc((g->n_t + 1) * sizeof *ord);
    if (!ord)
        return BASED_E_NOMEM;
    for (size_t i = 0; i < g->n_t; i++) {
        struct model_gguf_tensor *t = &g->t[i];
        ord[i] = t;
        if (t->offset % align || t->offset > dlen) {
            free(ord);
            return fail(c, BASED_E_DECODE, "tensor offset misaligned or past the end");
        }
        if (t->type == MODEL_T_SQ8) {
            uint64_t rows = t->dims[1] * t->dims[2] * t->dims[3];
            t->nbytes = model_sq8_bytes(c->p + data_start + t->offset, dlen - t->offset,
                                        rows, t->dims[0], NULL);
            if (!t->nbytes) {
                free(ord);
                return fail(c, BASED_E_DECODE, "malformed sparse tensor");
            }
        }
        if (t->nbytes > dlen - t->offset) {
            free(ord);
            return fail(c, BASED_E_DECODE, "tensor data past the end of the file");
        }
        t->data = c->p + data_start + t->offset;
    }
    qsort(ord, g->n_t, sizeof *ord, cmp_off);
    for (size_t i = 1; i < g->n_t; i++)
        if (ord[i - 1]->offset + ord[i - 1]->nbytes > ord[i]->offset) {
            free(ord);
            return fail(c, BASED_E_DECODE, "overlapping tensors");
        }
    free(ord);
    return BASED_E_OK;
}

static based_err parse_body(struct cur *c, model_gguf *g)
{
    uint32_t magic, version;
    uint64_t n_t, n_kv;
    if (!rd_u32(c, &magic) || !rd_u32(c, &version) || !rd_u64(c, &n_t) || !rd_u64(c, &n_kv))
        return fail(c, BASED_E_DECODE, "truncated header");
    if (magic != 0x46554747u)
        return fail(c, BASED_E_DECODE, "not a GGUF file (bad magic)");
    if (version != 3)
        return fail(c, BASED_E_DECODE, "unsupported GGUF version (want 3)");
    if (n_t > MODEL_GGUF_MAX_TENSORS || n_kv > MODEL_GGUF_MAX_KV)
        return fail(c, BASED_E_TOO_LARGE, "absurd tensor or metadata count");
    based_err e = rd_kvs(c, g, n_kv);
    if (e)
        return e;
    const struct model_gguf_value *al = model_gguf_find(g, "general.alignment");
    if (al && (al->type != MODEL_GGUF_U32 || al->v.u == 0 || al->v.u % 8 || al->v.u > 65536))
        return fail(c, BASED_E_DECODE, "bad general.alignment");
    if (n_t > (c->len - c->pos) / 24)
        return fail(c, BASED_E_TOO_LARGE, "tensor count exceeds the file");
    g->t = calloc((size_t)n_t + 1, sizeof *g->t);
    g->tdata = calloc((size_t)n_t + 1, sizeof *g->tdata);
    if (!g->t || !g->tdata)
        return BASED_E_NOMEM;
    g->cap_t = (size_t)n_t + 1;
    for (uint64_t i = 0; i < n_t; i++) {
        e = rd_tensor_info(c, &g->t[i]);
        if (e)
            return e;
        if (model_gguf_find_tensor(g, g->t[i].name))
            return fail(c, BASED_E_DECODE, "duplicate tensor name");
        g->n_t++;
    }
    uint32_t align = model_gguf_alignment(g);
    uint64_t data_start = align_up(c->pos, align);
    if (n_t && data_start > c->len)
        return fail(c, BASED_E_DECODE, "truncated before the tensor data");
    if (data_start > c->len)
        data_start = c->len;
    return check_layout(c, g, data_start, align);
}

based_err model_gguf_parse(const uint8_t *buf, size_t len, model_gguf **out,
                           char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = 0;
    if (len > MODEL_GGUF_MAX_FILE) {
        if (err && errlen)
            snprintf(err, errlen, "file larger than %zu bytes", MODEL_GGUF_MAX_FILE);
        return BASED_E_TOO_LARGE;
    }
    model_gguf *g = model_gguf_new();
    if (!g)
        return BASED_E_NOMEM;
    g->file = malloc(len ? len : 1);
    if (!g->file) {
        free(g);
        return BASED_E_NOMEM;
    }
    memcpy(g->file, buf, len);
    struct cur c = { g->file, len, 0, err, errlen };
    based_err e = parse_body(&c, g);
    if (e) {
        if (e == BASED_E_NOMEM && err && errlen)
            snprintf(err, errlen, "out of memory");
        model_gguf_free(g);
        return e;
    }
    *out = g;
    return BASED_E_OK;
}

based_err model_gguf_load(const char *path, model_gguf **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return BASED_E_IO;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            if (cap >= MODEL_GGUF_MAX_FILE) {
                free(buf);
                fclose(f);
                snprintf(err, errlen, "%s: larger than %zu bytes", path, MODEL_GGUF_MAX_FILE);
                return BASED_E_TOO_LARGE;
            }
            cap = cap ? cap * 2 : 1 << 20;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return BASED_E_NOMEM;
            }
            buf = nb;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errlen, "%s: read error", path);
        return BASED_E_IO;
    }
    char sub[200];
    based_err e = model_gguf_parse(buf, len, out, sub, sizeof sub);
    free(buf);
    if (e)
        snprintf(err, errlen, "%s: %s", path, sub);
    return e;
}

/* ---- metadata access ----------------------------------------------------- */

size_t model_gguf_kv_count(const model_gguf *g) { return g->n_kv; }
const char *model_gguf_kv_key(const model_gguf *g, size_t i) { return i < g->n_kv ? g->kv[i].key : NULL; }

const struct model_gguf_value *model_gguf_kv_value(const model_gguf *g, size_t i)
{
    return i < g->n_kv ? &g->kv[i].val : NULL;
}

const struct model_gguf_value *model_gguf_find(const model_gguf *g, const char *key)
{
    for (size_t i = 0; i < g->n_kv; i++)
        if (strcmp(g->kv[i].key, key) == 0)
            return &g->kv[i].val;
    return NULL;
}

bool model_gguf_get_u64(const model_gguf *g, const char *key, uint64_t *out)
{
    const struct model_gguf_value *v = model_gguf_find(g, key);
    if (!v)
        return false;
    switch (v->type) {
    case MODEL_GGUF_U8: case MODEL_GGUF_U16: case MODEL_GGUF_U32: case MODEL_GGUF_U64:
        *out = v->v.u;
        return true;
    case MODEL_GGUF_I8: case MODEL_GGUF_I16: case MODEL_GGUF_I32: case MODEL_GGUF_I64:
        if (v->v.i < 0)
            return false;
        *out = (uint64_t)v->v.i;
        return true;
    default:
        return false;
    }
}

bool model_gguf_get_f64(const model_gguf *g, const char *key, double *out)
{
    const struct model_gguf_value *v = model_gguf_find(g, key);
    uint64_t u;
    if (v && (v->type == MODEL_GGUF_F32 || v->type == MODEL_GGUF_F64)) {
        *out = v->v.f;
        return true;
    }
    if (model_gguf_get_u64(g, key, &u)) {
        *out = (double)u;
        return true;
    }
    return false;
}

const char *model_gguf_get_str(const model_gguf *g, const char *key)
{
    const struct model_gguf_value *v = model_gguf_find(g, key);
    return v && v->type == MODEL_GGUF_STRING ? v->str : NULL;
}

/* ---- setters ------------------------------------------------------------- */

static based_err value_copy(struct model_gguf_value *d, const struct model_gguf_value *s)
{
    *d = *s;
    d->str = NULL;
    d->raw = NULL;
    d->items = NULL;
    if (s->type == MODEL_GGUF_STRING) {
        d->str = malloc((size_t)s->len + 1);
        if (!d->str)
            return BASED_E_NOMEM;
        memcpy(d->str, s->str, (size_t)s->len);
        d->str[s->len] = 0;
    } else if (s->type == MODEL_GGUF_ARRAY) {
        size_t es = model_gguf_vtype_size(s->elem_type);
        if (es) {
            d->raw = malloc((size_t)s->count * es + 1);
            if (!d->raw)
                return BASED_E_NOMEM;
            if (s->count)
                memcpy(d->raw, s->raw, (size_t)s->count * es);
        } else {
            d->items = calloc((size_t)s->count + 1, sizeof *d->items);
            if (!d->items)
                return BASED_E_NOMEM;
            for (uint64_t i = 0; i < s->count; i++) {
                based_err e = value_copy(&d->items[i], &s->items[i]);
                if (e) {
                    d->count = i + 1;
                    return e;
                }
            }
        }
    }
    return BASED_E_OK;
}

based_err model_gguf_set(model_gguf *g, const char *key, const struct model_gguf_value *v)
{
    if (!key || strlen(key) > MODEL_GGUF_MAX_KEY || v->type > MODEL_GGUF_F64)
        return BASED_E_BAD_PARAM;
    struct model_gguf_value nv;
    based_err e = value_copy(&nv, v);
    if (e) {
        value_clear(&nv);
        return e;
    }
    for (size_t i = 0; i < g->n_kv; i++)
        if (strcmp(g->kv[i].key, key) == 0) {
            value_clear(&g->kv[i].val);
            g->kv[i].val = nv;
            return BASED_E_OK;
        }
    size_t kl = strlen(key);
    char *k = malloc(kl + 1);
    if (!k || grow((void **)&g->kv, &g->cap_kv, g->n_kv + 1, sizeof *g->kv)) {
        free(k);
        value_clear(&nv);
        return BASED_E_NOMEM;
    }
    memcpy(k, key, kl + 1);
    g->kv[g->n_kv].key = k;
    g->kv[g->n_kv].val = nv;
    g->n_kv++;
    return BASED_E_OK;
}

based_err model_gguf_set_u32(model_gguf *g, const char *key, uint32_t v)
{
    struct model_gguf_value x = { .type = MODEL_GGUF_U32 };
    x.v.u = v;
    return model_gguf_set(g, key, &x);
}

based_err model_gguf_set_f32(model_gguf *g, const char *key, float v)
{
    struct model_gguf_value x = { .type = MODEL_GGUF_F32 };
    x.v.f = v;
    return model_gguf_set(g, key, &x);
}

based_err model_gguf_set_bool(model_gguf *g, const char *key, bool v)
{
    struct model_gguf_value x = { .type = MODEL_GGUF_BOOL };
    x.v.u = v;
    return model_gguf_set(g, key, &x);
}

based_err model_gguf_set_str(model_gguf *g, const char *key, const char *s)
{
    struct model_gguf_value x = { .type = MODEL_GGUF_STRING, .str = (char *)s, .len = strlen(s) };
    return model_gguf_set(g, key, &x);
}

based_err model_gguf_set_arr(model_gguf *g, const char *key, uint32_t elem_type,
                             uint64_t count, const void *data)
{
    if (!model_gguf_vtype_size(elem_type))
        return BASED_E_BAD_PARAM;
    struct model_gguf_value x = { .type = MODEL_GGUF_ARRAY, .elem_type = elem_type,
                                  .count = count, .raw = (uint8_t *)data };
    return model_gguf_set(g, key, &x);
}

based_err model_gguf_set_str_arr(model_gguf *g, const char *key, uint64_t count,
                                 const char *const *strs)
{
    struct model_gguf_value *it = calloc((size_t)count + 1, sizeof *it);
    if (!it)
        return BASED_E_NOMEM;
    for (uint64_t i = 0; i < count; i++) {
        it[i].type = MODEL_GGUF_STRING;
        it[i].str = (char *)strs[i];
        it[i].len = strlen(strs[i]);
    }
    struct model_gguf_value x = { .type = MODEL_GGUF_ARRAY, .elem_type = MODEL_GGUF_STRING,
                                  .count = count, .items = it };
    based_err e = model_gguf_set(g, key, &x);
    free(it);
    return e;
}

/* ---- tensors --------------------------------------------------------------- */

size_t model_gguf_tensor_count(const model_gguf *g) { return g->n_t; }

const struct model_gguf_tensor *model_gguf_tensor_at(const model_gguf *g, size_t i)
{
    return i < g->n_t ? &g->t[i] : NULL;
}

const struct model_gguf_tensor *model_gguf_find_tensor(const model_gguf *g, const char *name)
{
    for (size_t i = 0; i < g->n_t; i++)
        if (strcmp(g->t[i].name, name) == 0)
            return &g->t[i];
    return NULL;
}

based_err model_gguf_add_tensor(model_gguf *g, const char *name, uint32_t type,
                                uint32_t n_dims, const uint64_t *dims,
                                const void *data, uint64_t nbytes)
{
    if (!name || strlen(name) > MODEL_GGUF_MAX_NAME || n_dims < 1 || n_dims > 4 ||
        !model_type_known(type) || model_gguf_find_tensor(g, name))
        return BASED_E_BAD_PARAM;
    struct model_gguf_tensor t = { .type = type, .n_dims = n_dims, .nbytes = nbytes };
    uint64_t rows = 1;
    for (uint32_t d = 0; d < 4; d++) {
        t.dims[d] = d < n_dims ? dims[d] : 1;
        if (!t.dims[d])
            return BASED_E_BAD_PARAM;
        if (d)
            rows *= t.dims[d];
    }
    uint64_t want = type == MODEL_T_SQ8
        ? model_sq8_bytes(data, nbytes, rows, t.dims[0], NULL)
        : model_type_row_bytes(type, t.dims[0]) * rows;
    if (!want || want != nbytes)
        return BASED_E_BAD_PARAM;
    memcpy(t.name, name, strlen(name) + 1);
    uint64_t off = 0;
    uint32_t align = model_gguf_alignment(g);
    for (size_t i = 0; i < g->n_t; i++)
        if (g->t[i].offset + g->t[i].nbytes > off)
            off = g->t[i].offset + g->t[i].nbytes;
    t.offset = align_up(off, align);
    if (grow((void **)&g->t, &g->cap_t, g->n_t + 1, sizeof *g->t))
        return BASED_E_NOMEM;
    uint8_t **nd = realloc(g->tdata, g->cap_t * sizeof *nd);
    if (!nd)
        return BASED_E_NOMEM;
    g->tdata = nd;
    uint8_t *copy = malloc((size_t)nbytes);
    if (!copy)
        return BASED_E_NOMEM;
    memcpy(copy, data, (size_t)nbytes);
    t.data = copy;
    g->tdata[g->n_t] = copy;
    g->t[g->n_t++] = t;
    return BASED_E_OK;
}

/* ---- writer ---------------------------------------------------------------- */

struct wbuf { uint8_t *p; size_t len, cap; bool oom; };

static void put(struct wbuf *w, const void *src, size_t n)
{
    if (w->oom)
        return;
    if (w->len + n > w->cap) {
        size_t nc = w->cap ? w->cap : 4096;
        while (nc < w->len + n)
            nc *= 2;
        uint8_t *np = realloc(w->p, nc);
        if (!np) {
            w->oom = true;
            return;
        }
        w->p = np;
        w->cap = nc;
    }
    if (n)
        memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void put_le(struct wbuf *w, uint64_t v, size_t n)
{
    uint8_t b[8];
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put(w, b, n);
}

static void put_str(struct wbuf *w, const char *s, uint64_t n)
{
    put_le(w, n, 8);
    put(w, s, (size_t)n);
}

static void put_value(struct wbuf *w, const struct model_gguf_value *v)
{
    size_t sz = model_gguf_vtype_size(v->type);
    if (v->type == MODEL_GGUF_STRING) {
        put_str(w, v->str, v->len);
    } else if (v->type == MODEL_GGUF_ARRAY) {
        put_le(w, v->elem_type, 4);
        put_le(w, v->count, 8);
        size_t es = model_gguf_vtype_size(v->elem_type);
        if (es)
            put(w, v->raw, (size_t)v->count * es);
        else
            for (uint64_t i = 0; i < v->count; i++)
                put_value(w, &v->items[i]);
    } else if (v->type == MODEL_GGUF_F32) {
        float f = (float)v->v.f;
        uint32_t b;
        memcpy(&b, &f, 4);
        put_le(w, b, 4);
    } else if (v->type == MODEL_GGUF_F64) {
        uint64_t b;
        memcpy(&b, &v->v.f, 8);
        put_le(w, b, 8);
    } else {
        put_le(w, v->v.u, sz);
    }
}

static void put_pad(struct wbuf *w, uint32_t align)
{
    static const uint8_t zero[64];
    size_t pad = (size_t)(align_up(w->len, align) - w->len);
    while (pad) {
        size_t n = pad < sizeof zero ? pad : sizeof zero;
        put(w, zero, n);
        pad -= n;
    }
}

based_err model_gguf_serialize(const model_gguf *g, uint8_t **out, size_t *len)
{
    struct wbuf w = { 0 };
    uint32_t align = model_gguf_alignment(g);
    put_le(&w, 0x46554747u, 4);
    put_le(&w, 3, 4);
    put_le(&w, g->n_t, 8);
    put_le(&w, g->n_kv, 8);
    for (size_t i = 0; i < g->n_kv; i++) {
        put_str(&w, g->kv[i].key, strlen(g->kv[i].key));
        put_le(&w, g->kv[i].val.type, 4);
        put_value(&w, &g->kv[i].val);
    }
    for (size_t i = 0; i < g->n_t; i++) {
        const struct model_gguf_tensor *t = &g->t[i];
        put_str(&w, t->name, strlen(t->name));
        put_le(&w, t->n_dims, 4);
        for (uint32_t d = 0; d < t->n_dims; d++)
            put_le(&w, t->dims[d], 8);
        put_le(&w, t->type, 4);
        put_le(&w, t->offset, 8);
    }
    put_pad(&w, align);
    size_t base = w.len;
    /* Tensors in offset order (file order for anything we built). */
    for (size_t i = 0; i < g->n_t; i++) {
        const struct model_gguf_tensor *t = &g->t[i];
        if (w.len - base > t->offset) {
            free(w.p);
            return BASED_E_BAD_PARAM; /* offsets not increasing */
        }
        static const uint8_t zero[64];
        while (w.len - base < t->offset) {
            size_t n = (size_t)(t->offset - (w.len - base));
            put(&w, zero, n < sizeof zero ? n : sizeof zero);
            if (w.oom)
                break;
        }
        put(&w, t->data, (size_t)t->nbytes);
    }
    if (g->n_t)
        put_pad(&w, align);
    if (w.oom) {
        free(w.p);
        return BASED_E_NOMEM;
    }
    *out = w.p;
    *len = w.len;
    return BASED_E_OK;
}

based_err model_gguf_save(const model_gguf *g, const char *path, char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    based_err e = model_gguf_serialize(g, &buf, &len);
    if (e) {
        snprintf(err, errlen, "%s: cannot serialise: %s", path, based_strerror(e));
        return e;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        free(buf);
        return BASED_E_IO;
    }
    bool ok = fwrite(buf, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    free(buf);
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        remove(tmp);
        return BASED_E_IO;
    }
    return BASED_E_OK;
}
