/*
 * model.c: loads a Llama-style model from GGUF and runs its forward pass.
 *
 * Loading checks every shape against the llama.* metadata before anything
 * runs: a file that parses as GGUF but does not describe a usable model is
 * rejected with a message naming the tensor or key. F16 tensors are widened
 * to F32; quantized and our own types are used in place.
 *
 * The forward pass takes n tokens at once (batched prefill) and computes
 * each position exactly as a single-token step would: every weight row is
 * dotted with every position's input by the same kernel, attention for a
 * position reads the KV cache up to itself. That is what makes prefill
 * logits equal, bit for bit, to token-by-token logits. A prefill through a
 * model whose matrices are all F32 goes to batch.c, which computes the same
 * numbers a block of tokens at a time (vectors across the tokens); every
 * other case, and every single-token step, runs here.
 *
 * A file produced by `compress --method heads` carries
 * based.attention.head_mask (u8, layers x heads, 1 = kept); its attention
 * tensors then hold only the kept heads' rows (and the kept kv heads').
 * A file with based.cerberus.activations = true squeezes the input of every
 * CRB8 matrix at run time (whitepaper 5.1 applied to activations).
 */
#include <math.h>

#include "model/internal.h"
#include "chain/base.h"


#define FAIL(e, ...) (snprintf(err, errlen, __VA_ARGS__), (e))

/* ---- loading ------------------------------------------------------------------ */

static bool get_int(const model_gguf *g, const char *key, int lo, int hi, int *out)
{
    uint64_t v;
    if (!model_gguf_get_u64(g, key, &v) || v < (uint64_t)lo || v > (uint64_t)hi)
        return false;
    *out = (int)v;
    return true;
}

static based_err read_config(model_t *m, char *err, size_t errlen)
{
    const model_gguf *g = m->g;
    struct model_config *c = &m->c;
    const char *arch = model_gguf_get_str(g, "general.architecture");
    if (!arch || strcmp(arch, "llama") != 0)
        return FAIL(BASED_E_DECODE, "general.architecture is %s, want llama",
                    arch ? arch : "missing");
    static const struct { const char *key; int lo, hi; size_t off; } keys[] = {
        { "llama.embedding_length", 2, MODEL_MAX_DIM, offsetof(struct model_config, dim) },
        { "llama.feed_forward_length", 1, 4 * MODEL_MAX_DIM, offsetof(struct model_config, hidden) },
        { "llama.block_count", 1, MODEL_MAX_LAYERS, offsetof(struct model_config, n_layers) },
        { "llama.attention.head_count", 1, 1024, offsetof(struct model_config, n_heads) },
        { "llama.context_length", 1, MODEL_MAX_SEQ, offsetof(struct model_config, seq_len) },
    };
    for (size_t i = 0; i < BASED_ARRAY_LEN(keys); i++)
        if (!get_int(g, keys[i].key, keys[i].lo, keys[i].hi, (int *)((char *)c + keys[i].off)))
            return FAIL(BASED_E_DECODE, "%s missing or out of range", keys[i].key);
    if (!get_int(g, "llama.attention.head_count_kv", 1, 1024, &c->n_kv_heads))
        c->n_kv_heads = c->n_heads;
    double d;
    c->eps = model_gguf_get_f64(g, "llama.attention.layer_norm_rms_epsilon", &d) ? (float)d : 1e-5f;
    c->rope_theta = model_gguf_get_f64(g, "llama.rope.freq_base", &d) ? (float)d : 10000.0f;
    if (c->dim % c->n_heads || (c->dim / c->n_heads) % 2 || c->n_heads % c->n_kv_heads ||
        !(c->eps > 0) || !(c->rope_theta > 1))
        return FAIL(BASED_E_DECODE, "%s", "inconsistent head counts, eps or rope base");
    /* the rotary tables hold seq_len x head_size/2 entries: cap them (128 MB) */
    if ((size_t)c->seq_len * (size_t)(c->dim / c->n_heads / 2) > ((size_t)1 << 24))
        return FAIL(BASED_E_TOO_LARGE, "%s", "context length x head size too large");
    const struct model_gguf_tensor *te = model_gguf_find_tensor(g, "token_embd.weight");
    if (!te || te->n_dims != 2 || te->dims[0] != (uint64_t)c->dim || te->dims[1] > MODEL_MAX_VOCAB)
        return FAIL(BASED_E_DECODE, "%s", "token_embd.weight missing or misshapen");
    c->vocab = (int)te->dims[1];
    return BASED_E_OK;
}

static based_err load_wt(model_t *m, const char *name, int cols, int rows, struct model_wt *w,
                         char *err, size_t errlen)
{
    const struct model_gguf_tensor *t = model_gguf_find_tensor(m->g, name);
    memset(w, 0, sizeof *w);
    if (!t)
        return FAIL(BASED_E_DECODE, "tensor %s missing", name);
    if (t->n_dims != 2 || t->dims[0] != (uint64_t)cols || t->dims[1] != (uint64_t)rows)
        return FAIL(BASED_E_DECODE, "tensor %s has the wrong shape", name);
    bool ok = t->type == MODEL_T_F32 || t->type == MODEL_T_F16 || t->type == MODEL_T_Q8_0 ||
              t->type == MODEL_T_Q4_0 || t->type == MODEL_T_CRB8 || t->type == MODEL_T_SQ8;
    if (!ok)
        return FAIL(BASED_E_DECODE, "tensor %s has an unsupported type", name);
    w->t = t;
    w->type = t->type;
    w->rows = rows;
    w->cols = cols;
    w->data = t->data;
    w->row_off = malloc((size_t)rows * sizeof *w->row_off);
    if (!w->row_off)
        return BASED_E_NOMEM;
    if (t->type == MODEL_T_F16) {
        w->owned = malloc((size_t)rows * (size_t)cols * sizeof(float));
        if (!w->owned)
            return BASED_E_NOMEM;
        for (int r = 0; r < rows; r++)
            model_dequant_row(MODEL_T_F16, t->data + (size_t)r * cols * 2, (size_t)cols,
                              w->owned + (size_t)r * cols);
        w->type = MODEL_T_F32;
        w->data = (const uint8_t *)w->owned;
    }
    if (w->type == MODEL_T_SQ8) {
        model_sq8_bytes(w->data, t->nbytes, (uint64_t)rows, (uint64_t)cols, w->row_off);
    } else {
        uint64_t rb = model_type_row_bytes(w->type, (uint64_t)cols);
        for (int r = 0; r < rows; r++)
            w->row_off[r] = rb * (uint64_t)r;
    }
    return BASED_E_OK;
}

static based_err load_vec(model_t *m, const char *name, int n, const float **out,
                          char *err, size_t errlen)
{
    const struct model_gguf_tensor *t = model_gguf_find_tensor(m->g, name);
    if (!t || t->n_dims != 1 || t->dims[0] != (uint64_t)n ||
        (t->type != MODEL_T_F32 && t->type != MODEL_T_F16))
        return FAIL(BASED_E_DECODE, "tensor %s missing, misshapen or not F32/F16", name);
    if (t->type == MODEL_T_F32) {
        *out = (const float *)t->data;
        return BASED_E_OK;
    }
    float **no = realloc(m->owned, (size_t)(m->n_owned + 1) * sizeof *no);
    if (!no)
        return BASED_E_NOMEM;
    m->owned = no;
    float *v = malloc((size_t)n * sizeof(float));
    if (!v)
        return BASED_E_NOMEM;
    model_dequant_row(MODEL_T_F16, t->data, (size_t)n, v);
    m->owned[m->n_owned++] = v;
    *out = v;
    return BASED_E_OK;
}

/* Kept heads of layer l from based.attention.head_mask (all when absent). */
static based_err head_plan(model_t *m, int l, struct model_layer *ly, char *err, size_t errlen)
{
    const struct model_config *c = &m->c;
    const struct model_gguf_value *mask = model_gguf_find(m->g, "based.attention.head_mask");
    if (mask && (mask->type != MODEL_GGUF_ARRAY || mask->elem_type != MODEL_GGUF_U8 ||
                 mask->count != (uint64_t)c->n_layers * (uint64_t)c->n_heads))
        return FAIL(BASED_E_DECODE, "%s", "based.attention.head_mask misshapen");
    ly->head_kv = malloc((size_t)c->n_heads * sizeof(int));
    if (!ly->head_kv)
        return BASED_E_NOMEM;
    int grp = c->n_heads / c->n_kv_heads, last_kv = -1;
    ly->nh = ly->nkv = 0;
    for (int h = 0; h < c->n_heads; h++) {
        if (mask && !mask->raw[(size_t)l * c->n_heads + h])
            continue;
        if (h / grp != last_kv) {
            last_kv = h / grp;
            ly->nkv++;
        }
        ly->head_kv[ly->nh++] = ly->nkv - 1;
    }
    return BASED_E_OK;
}

static based_err load_layer(model_t *m, int l, char *err, size_t errlen)
{
    struct model_layer *ly = &m->layer[l];
    const struct model_config *c = &m->c;
    int hs = c->dim / c->n_heads;
    based_err e = head_plan(m, l, ly, err, errlen);
    char n[80];
#define V(field, suffix) if (!e) { snprintf(n, sizeof n, "blk.%d.%s", l, suffix); \
        e = load_vec(m, n, c->dim, &ly->field, err, errlen); }
#define W(field, suffix, cols, rows) if (!e) { snprintf(n, sizeof n, "blk.%d.%s", l, suffix); \
        e = load_wt(m, n, cols, rows, &ly->field, err, errlen); }
    V(attn_norm, "attn_norm.weight")
    V(ffn_norm, "ffn_norm.weight")
    if (ly->nh > 0) {   /* every head removed: the layer has no attention tensors */
        W(wq, "attn_q.weight", c->dim, ly->nh * hs)
        W(wk, "attn_k.weight", c->dim, ly->nkv * hs)
        W(wv, "attn_v.weight", c->dim, ly->nkv * hs)
        W(wo, "attn_output.weight", ly->nh * hs, c->dim)
    }
    W(w1, "ffn_gate.weight", c->dim, c->hidden)
    W(w2, "ffn_down.weight", c->hidden, c->dim)
    W(w3, "ffn_up.weight", c->dim, c->hidden)
#undef V
#undef W
    return e;
}

static based_err rope_tables(model_t *m)
{
    int hs = m->c.dim / m->c.n_heads, half = hs / 2;
    size_t n = (size_t)m->c.seq_len * (size_t)half;
    m->rope_cos = malloc(n * sizeof(float));
    m->rope_sin = malloc(n * sizeof(float));
    if (!m->rope_cos || !m->rope_sin)
        return BASED_E_NOMEM;
    for (int p = 0; p < m->c.seq_len; p++)
        for (int i = 0; i < half; i++) {
            float f = 1.0f / powf(m->c.rope_theta, (float)(2 * i) / (float)hs);
            float a = (float)p * f;
            m->rope_cos[(size_t)p * half + i] = cosf(a);
            m->rope_sin[(size_t)p * half + i] = sinf(a);
        }
    return BASED_E_OK;
}

static based_err squeeze_config(model_t *m)
{
    const model_gguf *g = m->g;
    const struct model_gguf_value *v = model_gguf_find(g, "based.cerberus.activations");
    m->squeeze_act = v && v->type == MODEL_GGUF_BOOL && v->v.u;
    double d;
    uint64_t u;
    m->sq.levels = model_gguf_get_u64(g, "based.cerberus.levels", &u) && u >= 2 && u <= 256 ? (int)u : 256;
    m->sq.thresh = model_gguf_get_f64(g, "based.cerberus.threshold", &d) ? (float)d : 0.1f;
    m->sq.alpha = model_gguf_get_f64(g, "based.cerberus.alpha", &d) && d > 0 ? (float)d : 0.5f;
    const char *r = model_gguf_get_str(g, "based.cerberus.rounding");
    m->sq.floor_mode = r && strcmp(r, "floor") == 0;
    return BASED_E_OK;
}

based_err model_from_gguf(struct model_gguf *g, model_t **out, char *err, size_t errlen)
{
    *out = NULL;
    model_t *m = calloc(1, sizeof *m);
    if (!m) {
        model_gguf_free(g);
        return BASED_E_NOMEM;
    }
    m->g = g;
    based_err e = read_config(m, err, errlen);
    if (!e)
        e = load_wt(m, "token_embd.weight", m->c.dim, m->c.vocab, &m->emb, err, errlen);
    if (!e && model_gguf_find_tensor(g, "output.weight"))
        e = load_wt(m, "output.weight", m->c.dim, m->c.vocab, &m->out, err, errlen);
    if (!e)
        e = load_vec(m, "output_norm.weight", m->c.dim, &m->out_norm, err, errlen);
    if (!e) {
        m->layer = calloc((size_t)m->c.n_layers, sizeof *m->layer);
        e = m->layer ? BASED_E_OK : BASED_E_NOMEM;
    }
    for (int l = 0; l < m->c.n_layers && !e; l++)
        e = load_layer(m, l, err, errlen);
    if (!e)
        e = rope_tables(m);
    if (!e)
        e = squeeze_config(m);
    if (!e)
        e = model_tok_init(m, err, errlen);
    if (!e)
        m->all_f32 = model_all_f32(m);
    if (e) {
        if (e == BASED_E_NOMEM)
            snprintf(err, errlen, "out of memory");
        model_free(m);
        return e;
    }
    *out = m;
    return BASED_E_OK;
}

based_err model_load(const char *path, model_t **out, char *err, size_t errlen)
{
    model_gguf *g;
    *out = NULL;
    based_err e = model_gguf_load(path, &g, err, errlen);
    if (e)
        return e;
    char sub[200];
    e = model_from_gguf(g, out, sub, sizeof sub);
    if (e)
        snprintf(err, errlen, "%s: %s", path, sub);
    return e;
}

static void wt_free(struct model_wt *w)
{
    free(w->row_off);
    free(w->owned);
}

void model_free(model_t *m)
{
    if (!m)
        return;
    wt_free(&m->emb);
    wt_free(&m->out);
    for (int l = 0; m->layer && l < m->c.n_layers; l++) {
        struct model_layer *ly = &m->layer[l];
        struct model_wt *ws[] = { &ly->wq, &ly->wk, &ly->wv, &ly->wo, &ly->w1, &ly->w2, &ly->w3 };
        for (size_t i = 0; i < BASED_ARRAY_LEN(ws); i++)
            wt_free(ws[i]);
        free(ly->head_kv);
    }
    free(m->layer);
    for (int i = 0; i < m->n_owned; i++)
        free(m->owned[i]);
    free(m->owned);
    free(m->rope_cos);
    free(m->rope_sin);
    model_tok_free(&m->tok);
    model_gguf_free(m->g);
    free(m);
}

const struct model_config *model_config(const model_t *m) { return &m->c; }
const struct model_gguf *model_file(const model_t *m) { return m->g; }

int model_weights(const model_t *m, const struct model_wt **out, int max)
{
    int n = 0;
#define ADD(w) if ((w)->t && n < max) out[n++] = (w)
    ADD(&m->emb);
    for (int l = 0; l < m->c.n_layers; l++) {
        const struct model_layer *ly = &m->layer[l];
        ADD(&ly->wq); ADD(&ly->wk); ADD(&ly->wv); ADD(&ly->wo);
        ADD(&ly->w1); ADD(&ly->w2); ADD(&ly->w3);
    }
    ADD(&m->out);
#undef ADD
    return n;
}

uint64_t model_weight_count(const model_t *m)
{
    const struct model_wt *w[4 + 7 * MODEL_MAX_LAYERS];
    int n = model_weights(m, w, (int)BASED_ARRAY_LEN(w));
    uint64_t s = 0;
    for (int i = 0; i < n; i++)
        s += (uint64_t)w[i]->rows * (uint64_t)w[i]->cols;
    return s;
}

uint64_t model_weight_bytes(const model_t *m)
{
    const struct model_wt *w[4 + 7 * MODEL_MAX_LAYERS];
    int n = model_weights(m, w, (int)BASED_ARRAY_LEN(w));
    uint64_t s = 0;
    for (int i = 0; i < n; i++)
        s += w[i]->t->nbytes;
    return s;
}

/* ---- state ----------------------------------------------------------------------- */

/* n floats on a 64-byte boundary (a cache line: the batched kernels load
 * whole vectors of these), zeroed or not; free() releases them. */
static float *floats(size_t n, bool zero)
{
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p && zero)
        memset(p, 0, bytes);
    return p;
}

int model_kv_dim(const model_t *m) { return m->c.dim / m->c.n_heads * m->c.n_kv_heads; }

model_state *model_state_new(const model_t *m)
{
    model_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    const struct model_config *c = &m->c;
    size_t cache = (size_t)c->n_layers * (size_t)c->seq_len * (size_t)model_kv_dim(m);
    s->m = m;
    s->kc = floats(cache, true);
    s->vc = floats(cache, true);
    s->att = floats((size_t)c->seq_len * MODEL_TB, false);
    s->qa = calloc(1, sizeof *s->qa);
    if (!s->kc || !s->vc || !s->att || !s->qa) {
        model_state_free(s);
        return NULL;
    }
    return s;
}

static void scratch_free(model_state *s)
{
    float **f[] = { &s->x, &s->xb, &s->q, &s->k, &s->v, &s->ao, &s->h1, &s->h3, &s->tmp, &s->xd };
    for (size_t i = 0; i < BASED_ARRAY_LEN(f); i++) {
        free(*f[i]);
        *f[i] = NULL;
    }
    free(s->xq);
    free(s->xu);
    s->xq = NULL;
    s->xu = NULL;
    s->cap = 0;
}

static bool scratch_reserve(model_state *s, int n)
{
    if (n <= s->cap)
        return true;
    scratch_free(s);
    const struct model_config *c = &s->m->c;
    size_t N = (size_t)n, D = (size_t)c->dim, H = (size_t)c->hidden, W = D > H ? D : H;
    size_t V = (size_t)c->vocab, big = W > V ? W : V;
    s->x = floats(N * D, false);
    s->xb = floats(N * W, false);
    s->q = floats(N * D, false);
    s->k = floats(N * D, false);
    s->v = floats(N * D, false);
    s->ao = floats(N * D, false);
    s->h1 = floats(N * H, false);
    s->h3 = floats(N * H, false);
    s->tmp = floats(N * big, false);
    s->xq = malloc(N * W);
    s->xd = malloc(N * (W / MODEL_QK + 1) * sizeof(float));
    s->xu = malloc(N * W + N * 16);
    s->qa = realloc(s->qa, N * sizeof *s->qa);
    if (!s->x || !s->xb || !s->q || !s->k || !s->v || !s->ao || !s->h1 || !s->h3 || !s->tmp ||
        !s->xq || !s->xd || !s->xu || !s->qa) {
        scratch_free(s);
        return false;
    }
    s->cap = n;
    return true;
}

void model_state_free(model_state *s)
{
    if (!s)
        return;
    scratch_free(s);
    free(s->kc);
    free(s->vc);
    free(s->att);
    free(s->qa);
    free(s);
}

const struct model_config *model_state_config(const model_state *s) { return &s->m->c; }

void model_state_heads_off(model_state *s, const uint8_t *off) { s->heads_off = off; }

void model_state_stats(model_state *s, double **sums)
{
    s->stats = sums;
    s->n_wlist = sums ? model_weights(s->m, s->wlist, (int)BASED_ARRAY_LEN(s->wlist)) : 0;
}

static void stats_add(model_state *s, const struct model_wt *w, const float *x, int n)
{
    for (int i = 0; i < s->n_wlist; i++)
        if (s->wlist[i] == w) {
            double *d = s->stats[i];
            for (int t = 0; t < n; t++)
                for (int j = 0; j < w->cols; j++)
                    d[j] += (double)x[(size_t)t * w->cols + j] * x[(size_t)t * w->cols + j];
            return;
        }
}

/* ---- kernels ------------------------------------------------------------------------- */

static void rmsnorm(float *o, const float *x, const float *w, int n, float eps)
{
    float ss = 0;
    for (int i = 0; i < n; i++)
        ss += x[i] * x[i];
    float inv = 1.0f / sqrtf(ss / (float)n + eps);
    for (int i = 0; i < n; i++)
        o[i] = x[i] * inv * w[i];
}

/* out[t][r] = W[r] . x[t] for t < n. */
static void matmul(model_state *s, const struct model_wt *w, const float *x, int n, float *out)
{
    const model_t *m = s->m;
    int K = w->cols, R = w->rows;
    bool q8 = w->type == MODEL_T_Q8_0 || w->type == MODEL_T_Q4_0;
    bool sq = w->type == MODEL_T_CRB8 && m->squeeze_act;
    if (s->stats)
        stats_add(s, w, x, n);
    for (int t = 0; t < n && q8; t++)
        model_qact_q8(x + (size_t)t * K, (size_t)K, s->xq + (size_t)t * K,
                      s->xd + (size_t)t * (K / MODEL_QK));
    for (int t = 0; t < n && sq; t++) {
        struct model_qact *a = &s->qa[t];
        a->u = s->xu + (size_t)t * K;
        model_squeeze(x + (size_t)t * K, (size_t)K, &m->sq, a->u, &a->scale, &a->min, &a->step);
        int32_t us = 0;
        for (int j = 0; j < K; j++)
            us += a->u[j];
        a->usum = us;
    }
    for (int r = 0; r < R; r++) {
        const uint8_t *row = w->data + w->row_off[r];
        for (int t = 0; t < n; t++) {
            const float *xt = x + (size_t)t * K;
            float v;
            switch (w->type) {
            case MODEL_T_F32: v = model_dot_f32((const float *)row, xt, (size_t)K); break;
            case MODEL_T_Q8_0:
                v = model_dot_q8_0(row, s->xq + (size_t)t * K, s->xd + (size_t)t * (K / MODEL_QK), (size_t)K);
                break;
            case MODEL_T_Q4_0:
                v = model_dot_q4_0(row, s->xq + (size_t)t * K, s->xd + (size_t)t * (K / MODEL_QK), (size_t)K);
                break;
            case MODEL_T_CRB8:
                v = sq ? model_dot_crb8_u8(row, &s->qa[t], (size_t)K) : model_dot_crb8_f32(row, xt, (size_t)K);
                break;
            default: v = model_dot_sq8(row, xt, (size_t)K); break;
            }
            out[(size_t)t * R + r] = v;
        }
    }
}

static void rope_apply(const model_t *m, float *v, int heads, int pos)
{
    int hs = m->c.dim / m->c.n_heads, half = hs / 2;
    const float *co = m->rope_cos + (size_t)pos * half, *si = m->rope_sin + (size_t)pos * half;
    for (int h = 0; h < heads; h++)
        for (int i = 0; i < half; i++) {
            float *p = v + h * hs + 2 * i, x0 = p[0], x1 = p[1];
            p[0] = x0 * co[i] - x1 * si[i];
            p[1] = x0 * si[i] + x1 * co[i];
        }
}

static void attention(model_state *s, int l, const struct model_layer *ly, const float *q,
                      int pos, float *out)
{
    const model_t *m = s->m;
    int hs = m->c.dim / m->c.n_heads, kvd = model_kv_dim(m);
    float scale = 1.0f / sqrtf((float)hs);
    const float *kc = s->kc + (size_t)l * m->c.seq_len * kvd, *vc = s->vc + (size_t)l * m->c.seq_len * kvd;
    for (int h = 0; h < ly->nh; h++) {
        int kh = ly->head_kv[h];
        if (s->heads_off && s->heads_off[(size_t)l * m->c.n_heads + h])
            memset(out + h * hs, 0, (size_t)hs * sizeof(float));
        else
            model_attend_one(q + h * hs, pos, kc + kh * hs, vc + kh * hs, (size_t)kvd, hs, scale,
                             s->att, out + h * hs);
    }
}

static void layer_forward(model_state *s, int l, int n, int pos0)
{
    const model_t *m = s->m;
    const struct model_layer *ly = &m->layer[l];
    int D = m->c.dim, H = m->c.hidden, hs = D / m->c.n_heads, kvd = model_kv_dim(m);
    int qd = ly->nh * hs, kd = ly->nkv * hs;
    if (ly->nh > 0) {
        for (int t = 0; t < n; t++)
            rmsnorm(s->xb + (size_t)t * D, s->x + (size_t)t * D, ly->attn_norm, D, m->c.eps);
        matmul(s, &ly->wq, s->xb, n, s->q);
        matmul(s, &ly->wk, s->xb, n, s->k);
        matmul(s, &ly->wv, s->xb, n, s->v);
        for (int t = 0; t < n; t++) {
            rope_apply(m, s->q + (size_t)t * qd, ly->nh, pos0 + t);
            rope_apply(m, s->k + (size_t)t * kd, ly->nkv, pos0 + t);
            size_t at = ((size_t)l * m->c.seq_len + (size_t)(pos0 + t)) * kvd;
            memcpy(s->kc + at, s->k + (size_t)t * kd, (size_t)kd * sizeof(float));
            memcpy(s->vc + at, s->v + (size_t)t * kd, (size_t)kd * sizeof(float));
        }
        for (int t = 0; t < n; t++)
            attention(s, l, ly, s->q + (size_t)t * qd, pos0 + t, s->ao + (size_t)t * qd);
        matmul(s, &ly->wo, s->ao, n, s->tmp);
        for (size_t i = 0; i < (size_t)n * D; i++)
            s->x[i] += s->tmp[i];
    }
    for (int t = 0; t < n; t++)
        rmsnorm(s->xb + (size_t)t * D, s->x + (size_t)t * D, ly->ffn_norm, D, m->c.eps);
    matmul(s, &ly->w1, s->xb, n, s->h1);
    matmul(s, &ly->w3, s->xb, n, s->h3);
    for (size_t i = 0; i < (size_t)n * H; i++)
        s->h1[i] = s->h1[i] / (1.0f + expf(-s->h1[i])) * s->h3[i];
    matmul(s, &ly->w2, s->h1, n, s->tmp);
    for (size_t i = 0; i < (size_t)n * D; i++)
        s->x[i] += s->tmp[i];
}

based_err model_forward(model_state *s, const int *tokens, int n, int pos0,
                        float *logits, bool last_only)
{
    const model_t *m = s->m;
    int D = m->c.dim;
    if (n < 1 || pos0 < 0 || pos0 + n > m->c.seq_len)
        return BASED_E_BAD_PARAM;
    for (int t = 0; t < n; t++)
        if (tokens[t] < 0 || tokens[t] >= m->c.vocab)
            return BASED_E_BAD_PARAM;
    if (n > 1 && m->all_f32 && !s->stats) {
        if (!scratch_reserve(s, (n + MODEL_TB - 1) / MODEL_TB * MODEL_TB))
            return BASED_E_NOMEM;
        model_forward_batch(s, tokens, n, pos0, logits, last_only);
        return BASED_E_OK;
    }
    if (!scratch_reserve(s, n))
        return BASED_E_NOMEM;
    for (int t = 0; t < n; t++)
        model_dequant_row(m->emb.type, m->emb.data + m->emb.row_off[tokens[t]], (size_t)D,
                          s->x + (size_t)t * D);
    for (int l = 0; l < m->c.n_layers; l++)
        layer_forward(s, l, n, pos0);
    int first = last_only ? n - 1 : 0;
    for (int t = first; t < n; t++)
        rmsnorm(s->xb + (size_t)(t - first) * D, s->x + (size_t)t * D, m->out_norm, D, m->c.eps);
    matmul(s, m->out.t ? &m->out : &m->emb, s->xb, n - first, logits);
    return BASED_E_OK;
}
