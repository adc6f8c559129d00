/*
 * compress.c: the compression methods of based-model (docs/compression.md).
 *
 *   f32        the weights as F32 (the reference, for measurement)
 *   q8_0       ggml Q8_0 for every matrix
 *   q4_0       ggml Q4_0 for every matrix except output.weight, kept at Q8_0
 *              (llama.cpp's Q4_0 file type also keeps the classifier wider)
 *   cerberus   whitepaper 5.1 per row: sigma, S = alpha or 1/alpha, L levels
 *              between the scaled row's min and max (CRB8), plus run-time
 *              squeezing of every matrix input (based.cerberus.activations)
 *   heads      whitepaper 7.1.2: S(h) = KL divergence added by switching head
 *              h off on calibration text; heads with S(h) <= theta removed
 *   consensus  seeds 000/001: m shards of calibration text each vote for the
 *              top `keep` of every row by |W_ij| * rms(x_j); a weight stays
 *              with at least ceil(2m/3) votes; kept weights stored as SQ8
 *   prime      seed 003: W_ij kept when i and j are prime (0-based) and
 *              |W_ij| is above the matrix's 80th percentile; stored as SQ8
 *
 * Every method copies all metadata and the 1-D tensors unchanged, and
 * records based.compression.method (and its parameters) in the output.
 */
#include <math.h>

#include "model/internal.h"
#include "chain/base.h"

#define MAX_W (4 + 7 * MODEL_MAX_LAYERS)

void model_compress_defaults(struct model_compress_opts *o)
{
    memset(o, 0, sizeof *o);
    o->method = "q8_0";
    o->levels = 256;
    o->thresh = 0.1f;
    o->alpha = 0.5f;
    o->activations = true;
    o->theta = 0.02f;
    o->shards = 9;
    o->keep = 0.5f;
}

static const char *const methods[] = { "f32", "q8_0", "q4_0", "cerberus", "heads", "consensus", "prime" };

bool model_method_known(const char *name)
{
    for (size_t i = 0; i < BASED_ARRAY_LEN(methods); i++)
        if (strcmp(methods[i], name) == 0)
            return true;
    return false;
}

/* ---- encoders: rows x cols floats -> one tensor's bytes ------------------------ */

struct buf { uint8_t *p; size_t len; };

static float *dense(const struct model_wt *w)
{
    float *f = malloc((size_t)w->rows * (size_t)w->cols * sizeof(float));
    if (f)
        for (int r = 0; r < w->rows; r++)
            model_dequant_row(w->type, w->data + w->row_off[r], (size_t)w->cols,
                              f + (size_t)r * w->cols);
    return f;
}

static based_err enc_fixed(uint32_t type, const float *f, int rows, int cols,
                           const struct model_compress_opts *o, struct buf *b)
{
    size_t rb = (size_t)model_type_row_bytes(type, (uint64_t)cols);
    if (!rb)
        return BASED_E_BAD_PARAM;
    b->len = rb * (size_t)rows;
    b->p = malloc(b->len);
    if (!b->p)
        return BASED_E_NOMEM;
    struct model_squeeze sq = { o->levels, o->thresh, o->alpha, o->floor_mode };
    for (int r = 0; r < rows; r++) {
        const float *x = f + (size_t)r * cols;
        uint8_t *out = b->p + rb * (size_t)r;
        if (type == MODEL_T_F32) {
            memcpy(out, x, (size_t)cols * sizeof(float));
        } else if (type == MODEL_T_Q8_0) {
            model_quantize_q8_0(x, (size_t)cols, out);
        } else if (type == MODEL_T_Q4_0) {
            model_quantize_q4_0(x, (size_t)cols, out);
        } else {
            float S, mn, st;
            model_squeeze(x, (size_t)cols, &sq, out + 12, &S, &mn, &st);
            memcpy(out, &S, 4);
            memcpy(out + 4, &mn, 4);
            memcpy(out + 8, &st, 4);
        }
    }
    return BASED_E_OK;
}

/* SQ8: kept weights (mask != 0) quantized per block of 32 (d = amax/127). */
static based_err enc_sq8(const float *f, const uint8_t *mask, int rows, int cols, struct buf *b)
{
    size_t nb = (size_t)rows * (size_t)cols / MODEL_QK;
    b->p = malloc(nb * (6 + MODEL_QK));
    if (!b->p)
        return BASED_E_NOMEM;
    size_t o = 0;
    for (size_t blk = 0; blk < nb; blk++) {
        const float *x = f + blk * MODEL_QK;
        const uint8_t *mk = mask + blk * MODEL_QK;
        uint32_t m = 0;
        float amax = 0;
        for (int j = 0; j < MODEL_QK; j++)
            if (mk[j]) {
                m |= 1u << j;
                amax = fmaxf(amax, fabsf(x[j]));
            }
        float d = amax / 127.0f;
        uint16_t h = model_f32_to_f16(d);
        float dq = model_f16_to_f32(h), id = dq ? 1.0f / dq : 0.0f;
        for (int i = 0; i < 4; i++)
            b->p[o + (size_t)i] = (uint8_t)(m >> (8 * i));
        b->p[o + 4] = (uint8_t)h;
        b->p[o + 5] = (uint8_t)(h >> 8);
        o += 6;
        for (int j = 0; j < MODEL_QK; j++)
            if (mk[j]) {
                float v = roundf(x[j] * id);
                v = v > 127 ? 127 : v < -127 ? -127 : (v == v ? v : 0);
                b->p[o++] = (uint8_t)(int8_t)v;
            }
    }
    b->len = o;
    return BASED_E_OK;
}

/* ---- masks -------------------------------------------------------------------------- */

static bool is_prime(int n)
{
    if (n < 2)
        return false;
    for (int d = 2; d * d <= n; d++)
        if (n % d == 0)
            return false;
    return true;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static based_err prime_mask(const float *f, int rows, int cols, uint8_t *mask)
{
    size_t n = (size_t)rows * (size_t)cols;
    float *a = malloc(n * sizeof(float));
    if (!a)
        return BASED_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        a[i] = fabsf(f[i]);
    qsort(a, n, sizeof(float), cmp_float);
    float tau = a[(size_t)((double)n * 0.8)];  /* top 20 %: |W| > tau */
    free(a);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            mask[(size_t)r * cols + c] = is_prime(r) && is_prime(c) &&
                                         fabsf(f[(size_t)r * cols + c]) > tau;
    return BASED_E_OK;
}

/* ---- calibration --------------------------------------------------------------------- */

/* Mean KL(P_ref || P) per position over a forward of toks. */
static double kl_of(const float *ref, const float *lg, int n, int V)
{
    double total = 0;
    for (int t = 0; t < n; t++) {
        const float *a = ref + (size_t)t * V, *b = lg + (size_t)t * V;
        double ma = a[0], mb = b[0], sa = 0, sb = 0, kl = 0;
        for (int i = 1; i < V; i++) {
            ma = fmax(ma, a[i]);
            mb = fmax(mb, b[i]);
        }
        for (int i = 0; i < V; i++) {
            sa += exp(a[i] - ma);
            sb += exp(b[i] - mb);
        }
        double la = ma + log(sa), lb = mb + log(sb);
        for (int i = 0; i < V; i++) {
            double lpa = a[i] - la;
            kl += exp(lpa) * (lpa - (b[i] - lb));
        }
        total += kl;
    }
    return total / n;
}

struct calib { const model_t *m; model_state *s; const uint8_t *text; size_t len; int T, windows; };

/* Run window w of the calibration text; logits into lg (T x V). */
static based_err calib_run(struct calib *c, int w, float *lg)
{
    int toks[128];
    size_t off = (size_t)w * (size_t)c->T;
    for (int t = 0; t < c->T; t++)
        toks[t] = off + (size_t)t < c->len ? c->text[off + (size_t)t] % c->m->c.vocab : 0;
    return model_forward(c->s, toks, c->T, 0, lg, false);
}

/* S(h) for every head; returns the L*H array (caller frees). */
static double *head_significance(struct calib *c)
{
    const struct model_config *cf = &c->m->c;
    size_t LH = (size_t)cf->n_layers * cf->n_heads, TV = (size_t)c->T * cf->vocab;
    double *S = calloc(LH, sizeof(double));
    uint8_t *off = calloc(LH, 1);
    float *ref = malloc(TV * sizeof(float) * (size_t)c->windows), *lg = malloc(TV * sizeof(float));
    if (!S || !off || !ref || !lg)
        goto fail;
    for (int w = 0; w < c->windows; w++)
        if (calib_run(c, w, ref + TV * (size_t)w))
            goto fail;
    for (size_t h = 0; h < LH; h++) {
        off[h] = 1;
        model_state_heads_off(c->s, off);
        for (int w = 0; w < c->windows; w++) {
            if (calib_run(c, w, lg))
                goto fail;
            S[h] += kl_of(ref + TV * (size_t)w, lg, c->T, cf->vocab) / c->windows;
        }
        off[h] = 0;
    }
    model_state_heads_off(c->s, NULL);
    free(off);
    free(ref);
    free(lg);
    return S;
fail:
    model_state_heads_off(c->s, NULL);
    free(S);
    free(off);
    free(ref);
    free(lg);
    return NULL;
}

struct rank { float s; int j; };

/* Higher score first; equal scores by lower column index. */
static int cmp_rank(const void *a, const void *b)
{
    const struct rank *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return x->j - y->j;
}

/*
 * Consensus votes: for shard k (windows k, k+m, k+2m, ...) accumulate
 * input sums of squares, score |W_ij| * rms(x_j), vote per row for the top
 * keep fraction. votes[i] counts shards voting for weight i of matrix w.
 */
static based_err consensus_votes(struct calib *c, const struct model_compress_opts *o,
                                 const struct model_wt **ws, int nw, float **dense_w,
                                 uint8_t **votes)
{
    double **sums = nw > 0 && nw <= MAX_W ? calloc((size_t)nw, sizeof *sums) : NULL;
    float *lg = malloc((size_t)c->T * c->m->c.vocab * sizeof(float));
    float *score = NULL;
    struct rank *rank = NULL;
    based_err e = sums && lg ? BASED_E_OK : BASED_E_NOMEM;
    for (int i = 0; i < nw && !e; i++)
        if (!(sums[i] = calloc((size_t)ws[i]->cols, sizeof(double))))
            e = BASED_E_NOMEM;
    for (int k = 0; k < o->shards && !e; k++) {
        for (int i = 0; i < nw; i++)
            memset(sums[i], 0, (size_t)ws[i]->cols * sizeof(double));
        model_state_stats(c->s, sums);
        for (int w = k; w < c->windows && !e; w += o->shards)
            e = calib_run(c, w, lg);
        model_state_stats(c->s, NULL);
        for (int i = 0; i < nw && !e; i++) {
            if (!votes[i])
                continue;
            int R = ws[i]->rows, C = ws[i]->cols;
            int nkeep = (int)((float)C * o->keep + 0.5f);
            free(score);
            free(rank);
            score = malloc((size_t)C * sizeof(float));
            rank = malloc((size_t)C * sizeof *rank);
            if (!score || !rank) {
                e = BASED_E_NOMEM;
                break;
            }
            for (int r = 0; r < R; r++) {
                const float *row = dense_w[i] + (size_t)r * C;
                for (int j = 0; j < C; j++)
                    score[j] = fabsf(row[j]) * (float)sqrt(sums[i][j]);
                for (int q = 0; q < C; q++) {
                    rank[q].s = score[q];
                    rank[q].j = q;
                }
                qsort(rank, (size_t)C, sizeof *rank, cmp_rank);
                for (int q = 0; q < nkeep; q++)
                    votes[i][(size_t)r * C + rank[q].j]++;
            }
        }
    }
    free(score);
    free(rank);
    free(lg);
    for (int i = 0; sums && i < nw; i++)
        free(sums[i]);
    free(sums);
    return e;
}

/* ---- assembling the output ------------------------------------------------------------- */

static bool is_weight(const struct model_wt **ws, int nw, const struct model_gguf_tensor *t, int *at)
{
    for (int i = 0; i < nw; i++)
        if (ws[i]->t == t) {
            *at = i;
            return true;
        }
    return false;
}

static based_err copy_meta(const model_t *in, model_gguf *g, const struct model_compress_opts *o)
{
    for (size_t i = 0; i < model_gguf_kv_count(in->g); i++)
        if (model_gguf_set(g, model_gguf_kv_key(in->g, i), model_gguf_kv_value(in->g, i)))
            return BASED_E_NOMEM;
    based_err e = model_gguf_set_str(g, "based.compression.method", o->method);
    if (!e && strcmp(o->method, "cerberus") == 0) {
        e = model_gguf_set_bool(g, "based.cerberus.activations", o->activations);
        if (!e) e = model_gguf_set_u32(g, "based.cerberus.levels", (uint32_t)o->levels);
        if (!e) e = model_gguf_set_f32(g, "based.cerberus.threshold", o->thresh);
        if (!e) e = model_gguf_set_f32(g, "based.cerberus.alpha", o->alpha);
        if (!e) e = model_gguf_set_str(g, "based.cerberus.rounding", o->floor_mode ? "floor" : "nearest");
    }
    if (!e && strcmp(o->method, "heads") == 0)
        e = model_gguf_set_f32(g, "based.heads.theta", o->theta);
    if (!e && strcmp(o->method, "consensus") == 0) {
        e = model_gguf_set_u32(g, "based.consensus.shards", (uint32_t)o->shards);
        if (!e) e = model_gguf_set_f32(g, "based.consensus.keep", o->keep);
    }
    return e;
}

struct job {
    const model_t *in;
    const struct model_compress_opts *o;
    const struct model_wt *ws[MAX_W];
    int nw;
    float *dense[MAX_W];
    uint8_t *votes[MAX_W];
    double *S;           /* heads */
    uint8_t *keep_head;  /* heads: L*H, 1 = kept */
};

/* Rows of a head-pruned attention matrix (or columns of attn_output). */
static based_err head_slice(const struct job *j, const struct model_gguf_tensor *t,
                            const float *f, int rows, int cols, float **out, int *nr, int *nc)
{
    const struct model_config *c = &j->in->c;
    int l, hs = c->dim / c->n_heads, grp = c->n_heads / c->n_kv_heads;
    char kind[32] = "";
    if (sscanf(t->name, "blk.%d.%31[a-z_]", &l, kind) != 2 || strncmp(kind, "attn_", 5) != 0 ||
        strcmp(kind, "attn_norm") == 0)
        return BASED_E_NOT_FOUND;
    const uint8_t *keep = j->keep_head + (size_t)l * c->n_heads;
    bool by_kv = strcmp(kind, "attn_k") == 0 || strcmp(kind, "attn_v") == 0;
    bool by_col = strcmp(kind, "attn_output") == 0;
    int units = by_kv ? c->n_kv_heads : c->n_heads, kept = 0;
    uint8_t use[1024];
    for (int u = 0; u < units; u++) {
        use[u] = 0;
        for (int h = 0; h < c->n_heads; h++)
            if (keep[h] && (by_kv ? h / grp == u : h == u))
                use[u] = 1;
        kept += use[u];
    }
    *nr = by_col ? rows : kept * hs;
    *nc = by_col ? kept * hs : cols;
    *out = malloc((size_t)*nr * (size_t)*nc * sizeof(float) + 1);
    if (!*out)
        return BASED_E_NOMEM;
    size_t o = 0;
    for (int r = 0; r < rows; r++)
        for (int cc = 0; cc < cols; cc++) {
            int u = (by_col ? cc : r) / hs;
            if (use[u])
                (*out)[o++] = f[(size_t)r * cols + cc];
        }
    return BASED_E_OK;
}

static based_err emit_weight(struct job *j, model_gguf *g, const struct model_gguf_tensor *t, int i)
{
    const char *m = j->o->method;
    const struct model_wt *w = j->ws[i];
    float *f = j->dense[i], *sliced = NULL;
    int rows = w->rows, cols = w->cols;
    struct buf b = { 0 };
    uint32_t type = MODEL_T_F32;
    based_err e = BASED_E_OK;
    if (strcmp(m, "heads") == 0) {
        int nr, nc;
        e = head_slice(j, t, f, rows, cols, &sliced, &nr, &nc);
        if (e == BASED_E_OK) {
            if (nr == 0 || nc == 0) {
                free(sliced);
                return BASED_E_OK;   /* every head of the layer removed */
            }
            f = sliced;
            rows = nr;
            cols = nc;
        } else if (e != BASED_E_NOT_FOUND) {
            return e;
        }
        e = enc_fixed(MODEL_T_F32, f, rows, cols, j->o, &b);
    } else if (strcmp(m, "prime") == 0 || (strcmp(m, "consensus") == 0 && j->votes[i])) {
        size_t n = (size_t)rows * cols;
        uint8_t *mask = malloc(n);
        if (!mask)
            return BASED_E_NOMEM;
        if (strcmp(m, "prime") == 0) {
            e = prime_mask(f, rows, cols, mask);
        } else {
            int need = (2 * j->o->shards + 2) / 3;
            for (size_t q = 0; q < n; q++)
                mask[q] = j->votes[i][q] >= need;
        }
        if (!e)
            e = enc_sq8(f, mask, rows, cols, &b);
        free(mask);
        type = MODEL_T_SQ8;
    } else {
        type = strcmp(m, "q8_0") == 0 || strcmp(m, "consensus") == 0 ? MODEL_T_Q8_0
             : strcmp(m, "q4_0") == 0 ? (strcmp(t->name, "output.weight") == 0 ? MODEL_T_Q8_0 : MODEL_T_Q4_0)
             : strcmp(m, "cerberus") == 0 ? MODEL_T_CRB8 : MODEL_T_F32;
        e = enc_fixed(type, f, rows, cols, j->o, &b);
    }
    if (!e) {
        uint64_t dims[2] = { (uint64_t)cols, (uint64_t)rows };
        e = model_gguf_add_tensor(g, t->name, type, 2, dims, b.p, b.len);
    }
    free(b.p);
    free(sliced);
    return e;
}

static based_err prepare(struct job *j, char *err, size_t errlen)
{
    const char *m = j->o->method;
    bool heads = strcmp(m, "heads") == 0, cons = strcmp(m, "consensus") == 0;
    if (!heads && !cons)
        return BASED_E_OK;
    const struct model_config *c = &j->in->c;
    if (!j->o->calib || j->o->n_calib < (size_t)c->seq_len * 2) {
        snprintf(err, errlen, "method %s needs calibration text", m);
        return BASED_E_BAD_PARAM;
    }
    if (heads && model_gguf_find(j->in->g, "based.attention.head_mask")) {
        snprintf(err, errlen, "model already has heads removed");
        return BASED_E_BAD_PARAM;
    }
    int T = c->seq_len < 128 ? c->seq_len : 128;
    int windows = (int)(j->o->n_calib / (size_t)T);
    int want = heads ? 8 : 4 * j->o->shards;
    struct calib cb = { j->in, model_state_new(j->in), j->o->calib, j->o->n_calib, T,
                        windows < want ? windows : want };
    if (!cb.s)
        return BASED_E_NOMEM;
    based_err e = BASED_E_OK;
    if (heads) {
        size_t LH = (size_t)c->n_layers * c->n_heads;
        j->S = head_significance(&cb);
        j->keep_head = malloc(LH);
        e = j->S && j->keep_head ? BASED_E_OK : BASED_E_NOMEM;
        for (size_t h = 0; h < LH && !e; h++)
            j->keep_head[h] = j->S[h] > j->o->theta;
    } else {
        for (int i = 0; i < j->nw && !e; i++) {
            if (j->ws[i] == &j->in->emb)
                continue;    /* the embedding has no input activations */
            j->votes[i] = calloc((size_t)j->ws[i]->rows * j->ws[i]->cols, 1);
            e = j->votes[i] ? BASED_E_OK : BASED_E_NOMEM;
        }
        if (!e)
            e = consensus_votes(&cb, j->o, j->ws, j->nw, j->dense, j->votes);
    }
    model_state_free(cb.s);
    return e;
}

static based_err build(struct job *j, model_gguf *g, char *err, size_t errlen)
{
    based_err e = copy_meta(j->in, g, j->o);
    if (!e && j->keep_head) {
        const struct model_config *c = &j->in->c;
        e = model_gguf_set_arr(g, "based.attention.head_mask", MODEL_GGUF_U8,
                               (uint64_t)c->n_layers * c->n_heads, j->keep_head);
        if (!e) {
            size_t LH = (size_t)c->n_layers * c->n_heads;
            float *sf = malloc(LH * sizeof(float));
            e = sf ? BASED_E_OK : BASED_E_NOMEM;
            for (size_t h = 0; h < LH && !e; h++)
                sf[h] = (float)j->S[h];
            if (!e)
                e = model_gguf_set_arr(g, "based.heads.significance", MODEL_GGUF_F32, LH, sf);
            free(sf);
        }
    }
    for (size_t i = 0; i < model_gguf_tensor_count(j->in->g) && !e; i++) {
        const struct model_gguf_tensor *t = model_gguf_tensor_at(j->in->g, i);
        int at;
        if (is_weight(j->ws, j->nw, t, &at))
            e = emit_weight(j, g, t, at);
        else
            e = model_gguf_add_tensor(g, t->name, t->type, t->n_dims, t->dims, t->data, t->nbytes);
        if (e)
            snprintf(err, errlen, "cannot write tensor %s: %s", t->name, based_strerror(e));
    }
    return e;
}

based_err model_compress(const model_t *in, const struct model_compress_opts *o,
                         struct model_gguf **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!model_method_known(o->method)) {
        snprintf(err, errlen, "unknown method \"%s\"", o->method);
        return BASED_E_BAD_PARAM;
    }
    if (o->levels < 2 || o->levels > 256 || !(o->alpha > 0) || o->shards < 1 || o->shards > 255 ||
        !(o->keep > 0 && o->keep <= 1)) {
        snprintf(err, errlen, "bad method parameters");
        return BASED_E_BAD_PARAM;
    }
    struct job *j = calloc(1, sizeof *j);
    model_gguf *g = model_gguf_new();
    based_err e = j && g ? BASED_E_OK : BASED_E_NOMEM;
    if (!e) {
        j->in = in;
        j->o = o;
        j->nw = model_weights(in, j->ws, MAX_W);
        for (int i = 0; i < j->nw && !e; i++)
            if (!(j->dense[i] = dense(j->ws[i])))
                e = BASED_E_NOMEM;
    }
    if (!e)
        e = prepare(j, err, errlen);
    if (!e)
        e = build(j, g, err, errlen);
    if (e == BASED_E_NOMEM)
        snprintf(err, errlen, "out of memory");
    for (int i = 0; j && i < j->nw; i++) {
        free(j->dense[i]);
        free(j->votes[i]);
    }
    if (j) {
        free(j->S);
        free(j->keep_head);
    }
    free(j);
    if (e) {
        model_gguf_free(g);
        return e;
    }
    *out = g;
    return BASED_E_OK;
}
