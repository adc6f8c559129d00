/*
 * batch.c: the prefill of n > 1 tokens through a model whose matrices are
 * all F32, with the same bits as decoding the tokens one at a time
 * (model.h's determinism contract; model.c runs every other case).
 *
 * The activations live in blocks of TB = MODEL_TB tokens stored transposed:
 * element i of token t of block b of an array of `rows` per token is at
 * [(b * rows + i) * TB + t]. Every step is then a vector across the block's
 * tokens in which each lane does the one-token arithmetic in its order:
 * model_dot_f32_tb for the matrices (a weight row is loaded once for TB
 * tokens), model_attend_block for attention, and here RMSNorm (a token's
 * sum of squares in index order), the rotary positions, SiLU and the
 * residual adds. Nothing is transposed between steps: the tokens go in
 * once (embedding rows), and the keys and values (into the cache, which
 * decoding reads) and the logits come out. Lanes past the last token hold
 * whatever the arithmetic makes of zeros and never reach the cache or the
 * logits.
 */
#include <math.h>

#include "model/internal.h"

#define TB MODEL_TB
typedef model_vt vt;
#define ldt model_ldt
#define stt model_stt

bool model_all_f32(const model_t *m)
{
    const struct model_wt *out = m->out.t ? &m->out : &m->emb;
    if (out->type != MODEL_T_F32)
        return false;
    for (int l = 0; l < m->c.n_layers; l++) {
        const struct model_layer *ly = &m->layer[l];
        const struct model_wt *ws[] = { &ly->wq, &ly->wk, &ly->wv, &ly->wo, &ly->w1, &ly->w2, &ly->w3 };
        for (size_t i = ly->nh > 0 ? 0 : 4; i < BASED_ARRAY_LEN(ws); i++)
            if (ws[i]->type != MODEL_T_F32)
                return false;
    }
    return true;
}

/* o = RMSNorm(x) * w over nb blocks of D rows: per token, the sum of squares
 * in index order, inv = 1 / sqrt(ss / D + eps), x * inv * w. */
static void rmsnorm_t(float *o, const float *x, const float *w, int D, float eps, int nb)
{
    for (int b = 0; b < nb; b++, x += (size_t)D * TB, o += (size_t)D * TB) {
        vt ss = { 0 };
        for (int i = 0; i < D; i++) {
            vt v = ldt(x + (size_t)i * TB);
            ss += v * v;
        }
        float sq[TB], inv[TB];
        stt(sq, ss);
        for (int t = 0; t < TB; t++)
            inv[t] = 1.0f / sqrtf(sq[t] / (float)D + eps);
        vt iv = ldt(inv);
        for (int i = 0; i < D; i++)
            stt(o + (size_t)i * TB, ldt(x + (size_t)i * TB) * iv * w[i]);
    }
}

/* out = W in over nb blocks (W: R rows of K, one after the other as F32
 * rows are). */
static void matmul_t(const struct model_wt *w, const float *in, int nb, float *out)
{
    int K = w->cols, R = w->rows;
    model_dot_f32_tb((const float *)w->data, (size_t)R, in, (size_t)K, nb, out);
}

/* x += d over n floats. */
static void add_t(float *x, const float *d, size_t n)
{
    for (size_t i = 0; i < n; i += TB)
        stt(x + i, ldt(x + i) + ldt(d + i));
}

/* The rotary positions on one block of `heads` heads (hs rows each) whose
 * first token is at position pos, nt tokens; the pairs (2i, 2i + 1) of each
 * head turned by token t's angle as rope_apply does. */
static void rope_t(const model_t *m, float *v, int heads, int pos, int nt)
{
    int hs = m->c.dim / m->c.n_heads, half = hs / 2;
    for (int i = 0; i < half; i++) {
        float co[TB], si[TB];
        for (int t = 0; t < TB; t++) {
            size_t at = (size_t)(pos + (t < nt ? t : 0)) * half + i;
            co[t] = m->rope_cos[at];
            si[t] = m->rope_sin[at];
        }
        vt c = ldt(co), s = ldt(si);
        for (int h = 0; h < heads; h++) {
            float *p0 = v + (size_t)(h * hs + 2 * i) * TB, *p1 = p0 + TB;
            vt x0 = ldt(p0), x1 = ldt(p1);
            stt(p0, x0 * c - x1 * s);
            stt(p1, x0 * s + x1 * c);
        }
    }
}

/* The embedding rows of the n tokens into s->x, zeros past the last. */
static void embed_t(model_state *s, const int *tokens, int n, int nb)
{
    const model_t *m = s->m;
    int D = m->c.dim;
    float *row = s->tmp;
    for (int t = 0; t < nb * TB; t++) {
        if (t < n)
            model_dequant_row(m->emb.type, m->emb.data + m->emb.row_off[tokens[t]], (size_t)D, row);
        float *xb = s->x + (size_t)(t / TB) * D * TB + t % TB;
        for (int i = 0; i < D; i++)
            xb[(size_t)i * TB] = t < n ? row[i] : 0.0f;
    }
}

/* Keys and values of the block's nt tokens into layer l's cache. */
static void cache_t(model_state *s, int l, int kd, int b, int nt, int pos)
{
    const model_t *m = s->m;
    int kvd = model_kv_dim(m);
    const float *k = s->k + (size_t)b * kd * TB, *v = s->v + (size_t)b * kd * TB;
    for (int t = 0; t < nt; t++) {
        size_t at = ((size_t)l * m->c.seq_len + (size_t)(pos + t)) * kvd;
        for (int r = 0; r < kd; r++) {
            s->kc[at + r] = k[(size_t)r * TB + t];
            s->vc[at + r] = v[(size_t)r * TB + t];
        }
    }
}

/* Layer l's rotary positions and cache for every block, attention for the
 * blocks from `from` on. */
static void attention_t(model_state *s, int l, int n, int pos0, int from)
{
    const model_t *m = s->m;
    const struct model_layer *ly = &m->layer[l];
    int hs = m->c.dim / m->c.n_heads, kvd = model_kv_dim(m), qd = ly->nh * hs, kd = ly->nkv * hs;
    float scale = 1.0f / sqrtf((float)hs);
    const float *kc = s->kc + (size_t)l * m->c.seq_len * kvd, *vc = s->vc + (size_t)l * m->c.seq_len * kvd;
    for (int b = 0; b * TB < n; b++) {
        int nt = n - b * TB < TB ? n - b * TB : TB, pos = pos0 + b * TB;
        float *q = s->q + (size_t)b * qd * TB, *k = s->k + (size_t)b * kd * TB;
        rope_t(m, k, ly->nkv, pos, nt);
        cache_t(s, l, kd, b, nt, pos);
        if (b < from)
            continue;
        rope_t(m, q, ly->nh, pos, nt);
        for (int h = 0; h < ly->nh; h++) {
            float *o = s->ao + ((size_t)b * qd + (size_t)h * hs) * TB;
            int kh = ly->head_kv[h];
            if (s->heads_off && s->heads_off[(size_t)l * m->c.n_heads + h])
                memset(o, 0, (size_t)hs * TB * sizeof(float));
            else
                model_attend_block(q + (size_t)h * hs * TB, nt, pos, kc + kh * hs, vc + kh * hs,
                                   (size_t)kvd, hs, scale, s->att, o);
        }
    }
}

/*
 * Layer l over the nb blocks of n tokens. Its keys and values are needed
 * for every block, the rest only for the blocks whose output is: from
 * `from` on (the last layer of a prefill that wants only the last logits
 * computes the last block alone, each of its tokens as ever).
 */
static void layer_t(model_state *s, int l, int n, int pos0, int nb, int from)
{
    const model_t *m = s->m;
    const struct model_layer *ly = &m->layer[l];
    int D = m->c.dim, H = m->c.hidden, hs = D / m->c.n_heads, nf = nb - from;
    float *x = s->x + (size_t)from * D * TB, *xb = s->xb + (size_t)from * D * TB;
    float *h1 = s->h1 + (size_t)from * H * TB, *h3 = s->h3 + (size_t)from * H * TB;
    if (ly->nh > 0) {
        int qd = ly->nh * hs;
        rmsnorm_t(s->xb, s->x, ly->attn_norm, D, m->c.eps, nb);
        matmul_t(&ly->wq, xb, nf, s->q + (size_t)from * qd * TB);
        matmul_t(&ly->wk, s->xb, nb, s->k);
        matmul_t(&ly->wv, s->xb, nb, s->v);
        attention_t(s, l, n, pos0, from);
        matmul_t(&ly->wo, s->ao + (size_t)from * qd * TB, nf, s->tmp);
        add_t(x, s->tmp, (size_t)nf * D * TB);
    }
    rmsnorm_t(xb, x, ly->ffn_norm, D, m->c.eps, nf);
    matmul_t(&ly->w1, xb, nf, h1);
    matmul_t(&ly->w3, xb, nf, h3);
    for (int b = from; b < nb; b++) {
        int nt = n - b * TB < TB ? n - b * TB : TB;
        float *g = s->h1 + (size_t)b * H * TB, *u = s->h3 + (size_t)b * H * TB;
        for (int r = 0; r < H; r++) {   /* g / (1 + expf(-g)) * u, the divisions in a vector */
            float e[TB];
            for (int t = 0; t < TB; t++)
                e[t] = t < nt ? expf(-g[(size_t)r * TB + t]) : 0.0f;
            float *p = g + (size_t)r * TB;
            stt(p, ldt(p) / (1.0f + ldt(e)) * ldt(u + (size_t)r * TB));
        }
    }
    matmul_t(&ly->w2, h1, nf, s->tmp);
    add_t(x, s->tmp, (size_t)nf * D * TB);
}

/* The logits of the last token only (one row, as a decoding step computes
 * them), or of every token, block by block. */
static void logits_t(model_state *s, int n, int nb, float *logits, bool last_only)
{
    const model_t *m = s->m;
    const struct model_wt *w = m->out.t ? &m->out : &m->emb;
    int D = m->c.dim, V = m->c.vocab;
    if (last_only) {
        int b = (n - 1) / TB, t = (n - 1) % TB;
        rmsnorm_t(s->xb, s->x + (size_t)b * D * TB, m->out_norm, D, m->c.eps, 1);
        float *row = s->tmp;
        for (int i = 0; i < D; i++)
            row[i] = s->xb[(size_t)i * TB + t];
        for (int r = 0; r < V; r++)
            logits[r] = model_dot_f32((const float *)(w->data + w->row_off[r]), row, (size_t)D);
        return;
    }
    rmsnorm_t(s->xb, s->x, m->out_norm, D, m->c.eps, nb);
    for (int b = 0; b < nb; b++) {
        int nt = n - b * TB < TB ? n - b * TB : TB;
        matmul_t(w, s->xb + (size_t)b * D * TB, 1, s->tmp);
        for (int t = 0; t < nt; t++) {
            float *out = logits + (size_t)(b * TB + t) * V;
            for (int r = 0; r < V; r++)
                out[r] = s->tmp[(size_t)r * TB + t];
        }
    }
}

void model_forward_batch(model_state *s, const int *tokens, int n, int pos0, float *logits,
                         bool last_only)
{
    int nb = (n + TB - 1) / TB;
    embed_t(s, tokens, n, nb);
    int L = s->m->c.n_layers;
    for (int l = 0; l < L; l++)
        layer_t(s, l, n, pos0, nb, last_only && l == L - 1 ? nb - 1 : 0);
    logits_t(s, n, nb, logits, last_only);
}
