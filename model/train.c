/*
 * train.c: trains a byte-level Llama-style model in plain C.
 *
 * Forward and backward are written out layer by layer (RMSNorm, rotary
 * positions, causal attention, SwiGLU, classifier, cross-entropy) for one
 * sequence at a time, with every activation kept for the backward pass.
 * AdamW with bias correction, weight decay on matrices only, a linear warmup
 * and a cosine decay, gradients clipped to global norm 1.
 *
 * Determinism: the batch is always cut into SHARDS fixed halves, each with
 * its own gradient buffer; threads only decide who computes a shard, and the
 * shards are summed in a fixed order. Sequence offsets come from a seeded
 * splitmix64. So a run gives the same bits with 1 or 2 threads.
 *
 * Parameter layout (llama2.c order, one allocation): emb[V][D],
 * rms_att[L][D], wq[L][D][D], wk[L][Dkv][D], wv[L][Dkv][D], wo[L][D][D],
 * rms_ffn[L][D], w1[L][H][D], w2[L][D][H], w3[L][H][D], rms_final[D],
 * wcls[V][D]. Matrices are [out][in], rows contiguous.
 */
#include <math.h>
#include <pthread.h>

#include "model/model.h"
#include "chain/base.h"

#define SHARDS 2

struct params {
    float *emb, *rms_att, *wq, *wk, *wv, *wo, *rms_ffn, *w1, *w2, *w3, *rms_final, *wcls;
};

static size_t layout(const struct model_config *c, float *base, struct params *p)
{
    size_t D = (size_t)c->dim, H = (size_t)c->hidden, L = (size_t)c->n_layers, V = (size_t)c->vocab;
    size_t Dkv = D / (size_t)c->n_heads * (size_t)c->n_kv_heads, off = 0;
    float **slots[] = { &p->emb, &p->rms_att, &p->wq, &p->wk, &p->wv, &p->wo, &p->rms_ffn,
                        &p->w1, &p->w2, &p->w3, &p->rms_final, &p->wcls };
    size_t sizes[] = { V * D, L * D, L * D * D, L * Dkv * D, L * Dkv * D, L * D * D, L * D,
                       L * H * D, L * D * H, L * H * D, D, V * D };
    for (size_t i = 0; i < BASED_ARRAY_LEN(sizes); i++) {
        if (p)
            *slots[i] = base ? base + off : NULL;
        off += sizes[i];
    }
    return off;
}

size_t model_param_count(const struct model_config *c)
{
    struct params p;
    return layout(c, NULL, &p);
}

/* ---- kernels ------------------------------------------------------------------ */

#define LN 16

/* out[T][N] = in[T][K] . W[N][K]^T */
static void mm_fwd(float *out, const float *in, const float *W, int T, int K, int N)
{
    for (int t = 0; t < T; t++) {
        const float *x = in + (size_t)t * K;
        for (int n = 0; n < N; n++) {
            const float *w = W + (size_t)n * K;
            float acc[LN] = { 0 };
            for (int k = 0; k + LN <= K; k += LN)
                for (int l = 0; l < LN; l++)
                    acc[l] += w[k + l] * x[k + l];
            float s = 0;
            for (int l = 0; l < LN; l++)
                s += acc[l];
            out[(size_t)t * N + n] = s;
        }
    }
}

static void axpy(float *y, float a, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += a * x[i];
}

/* din[T][K] += dout[T][N] . W[N][K] */
static void mm_bwd_in(float *din, const float *dout, const float *W, int T, int K, int N)
{
    for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++)
            axpy(din + (size_t)t * K, dout[(size_t)t * N + n], W + (size_t)n * K, K);
}

/* dW[N][K] += dout[T][N]^T . in[T][K] */
static void mm_bwd_w(float *dW, const float *dout, const float *in, int T, int K, int N)
{
    for (int n = 0; n < N; n++)
        for (int t = 0; t < T; t++)
            axpy(dW + (size_t)n * K, dout[(size_t)t * N + n], in + (size_t)t * K, K);
}

static void rms_fwd(float *y, float *r, const float *x, const float *w, int T, int D, float eps)
{
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * D;
        float ss = 0;
        for (int i = 0; i < D; i++)
            ss += xt[i] * xt[i];
        float inv = 1.0f / sqrtf(ss / (float)D + eps);
        r[t] = inv;
        for (int i = 0; i < D; i++)
            y[(size_t)t * D + i] = xt[i] * inv * w[i];
    }
}

/* dx += d(rmsnorm)/dx . dy ; dw += ... */
static void rms_bwd(float *dx, float *dw, const float *dy, const float *x, const float *r,
                    const float *w, int T, int D)
{
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * D, *dyt = dy + (size_t)t * D;
        float inv = r[t], dot = 0;
        for (int i = 0; i < D; i++) {
            dot += dyt[i] * w[i] * xt[i];
            dw[i] += dyt[i] * xt[i] * inv;
        }
        float c = dot * inv * inv * inv / (float)D;
        for (int i = 0; i < D; i++)
            dx[(size_t)t * D + i] += dyt[i] * w[i] * inv - c * xt[i];
    }
}

/* Rotate pairs (2i, 2i+1) of each head by pos * theta^(-2i/hs); dir -1 undoes. */
static void rope(float *v, int T, int width, int hs, float theta, float dir)
{
    for (int t = 0; t < T; t++)
        for (int j = 0; j < width; j += 2) {
            int i = j % hs;
            float f = 1.0f / powf(theta, (float)i / (float)hs);
            float a = (float)t * f, c = cosf(a), s = sinf(a) * dir;
            float *p = v + (size_t)t * width + j, x0 = p[0], x1 = p[1];
            p[0] = x0 * c - x1 * s;
            p[1] = x0 * s + x1 * c;
        }
}

/* ---- one sequence: activations and gradients ------------------------------------ */

struct acts {
    float *x, *xn1, *r1, *q, *k, *v, *att, *ao, *xm, *xn2, *r2, *h1, *h3, *hg, *xf, *rf, *lg;
    /* backward scratch */
    float *dx, *dxn, *dq, *dk, *dv, *dao, *dh1, *dh3, *dhg, *dlg, *dxf, *datt;
};

struct shape { int T, D, H, L, V, NH, NKV, hs, Dkv; float eps, theta; };

static struct shape shape_of(const struct model_config *c, int T)
{
    struct shape s = { T, c->dim, c->hidden, c->n_layers, c->vocab, c->n_heads, c->n_kv_heads,
                       c->dim / c->n_heads, c->dim / c->n_heads * c->n_kv_heads, c->eps,
                       c->rope_theta };
    return s;
}

static float *acts_alloc(const struct shape *s, struct acts *a)
{
    size_t T = (size_t)s->T, D = (size_t)s->D, H = (size_t)s->H, L = (size_t)s->L,
           V = (size_t)s->V, Dkv = (size_t)s->Dkv, A = (size_t)s->NH * T * T;
    float **slots[] = { &a->x, &a->xn1, &a->r1, &a->q, &a->k, &a->v, &a->att, &a->ao, &a->xm,
                        &a->xn2, &a->r2, &a->h1, &a->h3, &a->hg, &a->xf, &a->rf, &a->lg,
                        &a->dx, &a->dxn, &a->dq, &a->dk, &a->dv, &a->dao, &a->dh1, &a->dh3,
                        &a->dhg, &a->dlg, &a->dxf, &a->datt };
    size_t sizes[] = { (L + 1) * T * D, L * T * D, L * T, L * T * D, L * T * Dkv, L * T * Dkv,
                       L * A, L * T * D, L * T * D, L * T * D, L * T, L * T * H, L * T * H,
                       L * T * H, T * D, T, T * V,
                       T * D, T * D, T * D, T * Dkv, T * Dkv, T * D, T * H, T * H, T * H, T * V,
                       T * D, T };
    size_t total = 0;
    for (size_t i = 0; i < BASED_ARRAY_LEN(sizes); i++)
        total += sizes[i];
    float *base = calloc(total, sizeof(float));
    if (!base)
        return NULL;
    size_t off = 0;
    for (size_t i = 0; i < BASED_ARRAY_LEN(sizes); i++) {
        *slots[i] = base + off;
        off += sizes[i];
    }
    return base;
}

static void attn_fwd(const struct shape *s, const float *q, const float *k, const float *v,
                     float *att, float *out)
{
    int T = s->T, hs = s->hs, grp = s->NH / s->NKV;
    float scale = 1.0f / sqrtf((float)hs);
    for (int h = 0; h < s->NH; h++) {
        int kh = h / grp;
        for (int t = 0; t < T; t++) {
            const float *qt = q + (size_t)t * s->D + h * hs;
            float *a = att + ((size_t)h * T + t) * T, mx = -INFINITY, sum = 0;
            for (int u = 0; u <= t; u++) {
                const float *ku = k + (size_t)u * s->Dkv + kh * hs;
                float d = 0;
                for (int i = 0; i < hs; i++)
                    d += qt[i] * ku[i];
                a[u] = d * scale;
                mx = fmaxf(mx, a[u]);
            }
            for (int u = 0; u <= t; u++) {
                a[u] = expf(a[u] - mx);
                sum += a[u];
            }
            float *o = out + (size_t)t * s->D + h * hs;
            memset(o, 0, (size_t)hs * sizeof(float));
            for (int u = 0; u <= t; u++) {
                a[u] /= sum;
                axpy(o, a[u], v + (size_t)u * s->Dkv + kh * hs, hs);
            }
        }
    }
}

static void attn_bwd(const struct shape *s, const float *q, const float *k, const float *v,
                     const float *att, const float *dout, float *dq, float *dk, float *dv,
                     float *dp)
{
    int T = s->T, hs = s->hs, grp = s->NH / s->NKV;
    float scale = 1.0f / sqrtf((float)hs);
    for (int h = 0; h < s->NH; h++) {
        int kh = h / grp;
        for (int t = 0; t < T; t++) {
            const float *a = att + ((size_t)h * T + t) * T, *dot = dout + (size_t)t * s->D + h * hs;
            float dsum = 0;
            for (int u = 0; u <= t; u++) {
                const float *vu = v + (size_t)u * s->Dkv + kh * hs;
                float d = 0;
                for (int i = 0; i < hs; i++)
                    d += dot[i] * vu[i];
                dp[u] = d;
                dsum += d * a[u];
                axpy(dv + (size_t)u * s->Dkv + kh * hs, a[u], dot, hs);
            }
            for (int u = 0; u <= t; u++) {
                float ds = a[u] * (dp[u] - dsum) * scale;
                axpy(dq + (size_t)t * s->D + h * hs, ds, k + (size_t)u * s->Dkv + kh * hs, hs);
                axpy(dk + (size_t)u * s->Dkv + kh * hs, ds, q + (size_t)t * s->D + h * hs, hs);
            }
        }
    }
}

/* Forward one sequence; returns summed loss over T targets (if tgt). */
static double seq_forward(const struct shape *s, const struct params *p, struct acts *a,
                          const uint8_t *tok, const uint8_t *tgt)
{
    int T = s->T, D = s->D, H = s->H, Dkv = s->Dkv;
    size_t TD = (size_t)T * D, TH = (size_t)T * H, TK = (size_t)T * Dkv;
    for (int t = 0; t < T; t++)
        memcpy(a->x + (size_t)t * D, p->emb + (size_t)tok[t] * D, (size_t)D * sizeof(float));
    for (int l = 0; l < s->L; l++) {
        float *x = a->x + l * TD, *xn1 = a->xn1 + l * TD, *q = a->q + l * TD, *k = a->k + l * TK,
              *v = a->v + l * TK, *ao = a->ao + l * TD, *xm = a->xm + l * TD,
              *xn2 = a->xn2 + l * TD, *h1 = a->h1 + l * TH, *h3 = a->h3 + l * TH,
              *hg = a->hg + l * TH, *xo = a->x + (l + 1) * TD;
        rms_fwd(xn1, a->r1 + (size_t)l * T, x, p->rms_att + (size_t)l * D, T, D, s->eps);
        mm_fwd(q, xn1, p->wq + (size_t)l * D * D, T, D, D);
        mm_fwd(k, xn1, p->wk + (size_t)l * Dkv * D, T, D, Dkv);
        mm_fwd(v, xn1, p->wv + (size_t)l * Dkv * D, T, D, Dkv);
        rope(q, T, D, s->hs, s->theta, 1.0f);
        rope(k, T, Dkv, s->hs, s->theta, 1.0f);
        attn_fwd(s, q, k, v, a->att + (size_t)l * s->NH * T * T, ao);
        mm_fwd(xm, ao, p->wo + (size_t)l * D * D, T, D, D);
        for (size_t i = 0; i < TD; i++)
            xm[i] += x[i];
        rms_fwd(xn2, a->r2 + (size_t)l * T, xm, p->rms_ffn + (size_t)l * D, T, D, s->eps);
        mm_fwd(h1, xn2, p->w1 + (size_t)l * H * D, T, D, H);
        mm_fwd(h3, xn2, p->w3 + (size_t)l * H * D, T, D, H);
        for (size_t i = 0; i < TH; i++)
            hg[i] = h1[i] / (1.0f + expf(-h1[i])) * h3[i];
        mm_fwd(xo, hg, p->w2 + (size_t)l * D * H, T, H, D);
        for (size_t i = 0; i < TD; i++)
            xo[i] += xm[i];
    }
    rms_fwd(a->xf, a->rf, a->x + (size_t)s->L * TD, p->rms_final, T, D, s->eps);
    mm_fwd(a->lg, a->xf, p->wcls, T, D, s->V);
    double loss = 0;
    for (int t = 0; t < T && tgt; t++) {
        float *lg = a->lg + (size_t)t * s->V, mx = -INFINITY, sum = 0;
        for (int i = 0; i < s->V; i++)
            mx = fmaxf(mx, lg[i]);
        for (int i = 0; i < s->V; i++) {
            lg[i] = expf(lg[i] - mx);
            sum += lg[i];
        }
        for (int i = 0; i < s->V; i++)
            lg[i] /= sum; /* probabilities, kept for the backward pass */
        loss -= log((double)lg[tgt[t]] + 1e-30);
    }
    return loss;
}

static void layer_bwd(const struct shape *s, const struct params *p, struct params *g,
                      struct acts *a, int l)
{
    int T = s->T, D = s->D, H = s->H, Dkv = s->Dkv;
    size_t TD = (size_t)T * D, TH = (size_t)T * H, TK = (size_t)T * Dkv;
    float *x = a->x + l * TD, *xn1 = a->xn1 + l * TD, *q = a->q + l * TD, *k = a->k + l * TK,
          *v = a->v + l * TK, *ao = a->ao + l * TD, *xm = a->xm + l * TD, *xn2 = a->xn2 + l * TD,
          *h1 = a->h1 + l * TH, *h3 = a->h3 + l * TH, *hg = a->hg + l * TH;
    /* a->dx holds d x_out; FFN branch */
    memset(a->dhg, 0, TH * sizeof(float));
    mm_bwd_in(a->dhg, a->dx, p->w2 + (size_t)l * D * H, T, H, D);
    mm_bwd_w(g->w2 + (size_t)l * D * H, a->dx, hg, T, H, D);
    for (size_t i = 0; i < TH; i++) {
        float sg = 1.0f / (1.0f + expf(-h1[i])), si = h1[i] * sg;
        a->dh3[i] = a->dhg[i] * si;
        a->dh1[i] = a->dhg[i] * h3[i] * sg * (1.0f + h1[i] * (1.0f - sg));
    }
    memset(a->dxn, 0, TD * sizeof(float));
    mm_bwd_in(a->dxn, a->dh1, p->w1 + (size_t)l * H * D, T, D, H);
    mm_bwd_in(a->dxn, a->dh3, p->w3 + (size_t)l * H * D, T, D, H);
    mm_bwd_w(g->w1 + (size_t)l * H * D, a->dh1, xn2, T, D, H);
    mm_bwd_w(g->w3 + (size_t)l * H * D, a->dh3, xn2, T, D, H);
    rms_bwd(a->dx, g->rms_ffn + (size_t)l * D, a->dxn, xm, a->r2 + (size_t)l * T,
            p->rms_ffn + (size_t)l * D, T, D);
    /* a->dx is now d xm; attention branch */
    memset(a->dao, 0, TD * sizeof(float));
    mm_bwd_in(a->dao, a->dx, p->wo + (size_t)l * D * D, T, D, D);
    mm_bwd_w(g->wo + (size_t)l * D * D, a->dx, ao, T, D, D);
    memset(a->dq, 0, TD * sizeof(float));
    memset(a->dk, 0, TK * sizeof(float));
    memset(a->dv, 0, TK * sizeof(float));
    attn_bwd(s, q, k, v, a->att + (size_t)l * s->NH * T * T, a->dao, a->dq, a->dk, a->dv, a->datt);
    rope(a->dq, T, D, s->hs, s->theta, -1.0f);
    rope(a->dk, T, Dkv, s->hs, s->theta, -1.0f);
    memset(a->dxn, 0, TD * sizeof(float));
    mm_bwd_in(a->dxn, a->dq, p->wq + (size_t)l * D * D, T, D, D);
    mm_bwd_in(a->dxn, a->dk, p->wk + (size_t)l * Dkv * D, T, D, Dkv);
    mm_bwd_in(a->dxn, a->dv, p->wv + (size_t)l * Dkv * D, T, D, Dkv);
    mm_bwd_w(g->wq + (size_t)l * D * D, a->dq, xn1, T, D, D);
    mm_bwd_w(g->wk + (size_t)l * Dkv * D, a->dk, xn1, T, D, Dkv);
    mm_bwd_w(g->wv + (size_t)l * Dkv * D, a->dv, xn1, T, D, Dkv);
    rms_bwd(a->dx, g->rms_att + (size_t)l * D, a->dxn, x, a->r1 + (size_t)l * T,
            p->rms_att + (size_t)l * D, T, D);
}

static void seq_backward(const struct shape *s, const struct params *p, struct params *g,
                         struct acts *a, const uint8_t *tok, const uint8_t *tgt, float scale)
{
    int T = s->T, D = s->D, V = s->V;
    for (int t = 0; t < T; t++)
        for (int i = 0; i < V; i++)
            a->dlg[(size_t)t * V + i] = (a->lg[(size_t)t * V + i] - (i == tgt[t])) * scale;
    memset(a->dxf, 0, (size_t)T * D * sizeof(float));
    mm_bwd_in(a->dxf, a->dlg, p->wcls, T, D, V);
    mm_bwd_w(g->wcls, a->dlg, a->xf, T, D, V);
    memset(a->dx, 0, (size_t)T * D * sizeof(float));
    rms_bwd(a->dx, g->rms_final, a->dxf, a->x + (size_t)s->L * T * D, a->rf, p->rms_final, T, D);
    for (int l = s->L - 1; l >= 0; l--)
        layer_bwd(s, p, g, a, l);
    for (int t = 0; t < T; t++)
        axpy(g->emb + (size_t)tok[t] * D, 1.0f, a->dx + (size_t)t * D, D);
}

/* ---- the training loop ------------------------------------------------------------- */

struct shard {
    const struct shape *s;
    const struct params *p;
    struct params g;
    float *gbase;
    size_t np;
    struct acts a;
    float *abase;
    const uint8_t *data;
    const size_t *offs;
    int nseq;
    float scale;
    double loss;
};

static void *shard_run(void *arg)
{
    struct shard *sh = arg;
    memset(sh->gbase, 0, sh->np * sizeof(float));
    sh->loss = 0;
    for (int i = 0; i < sh->nseq; i++) {
        const uint8_t *tok = sh->data + sh->offs[i];
        sh->loss += seq_forward(sh->s, sh->p, &sh->a, tok, tok + 1);
        seq_backward(sh->s, sh->p, &sh->g, &sh->a, tok, tok + 1, sh->scale);
    }
    return NULL;
}

static double gauss(uint64_t *rng)
{
    double u1 = model_rng_uniform(rng), u2 = model_rng_uniform(rng);
    return sqrt(-2.0 * log(u1 + 1e-300)) * cos(6.283185307179586 * u2);
}

static void init_params(const struct model_config *c, float *base, size_t np, uint64_t seed)
{
    struct params p;
    layout(c, base, &p);
    uint64_t rng = seed;
    for (size_t i = 0; i < np; i++)
        base[i] = (float)(0.02 * gauss(&rng));
    size_t D = (size_t)c->dim, L = (size_t)c->n_layers, H = (size_t)c->hidden;
    for (size_t i = 0; i < L * D; i++)
        p.rms_att[i] = p.rms_ffn[i] = 1.0f;
    for (size_t i = 0; i < D; i++)
        p.rms_final[i] = 1.0f;
    float f = 1.0f / sqrtf(2.0f * (float)L);
    for (size_t i = 0; i < L * D * D; i++)
        p.wo[i] *= f;
    for (size_t i = 0; i < L * D * H; i++)
        p.w2[i] *= f;
}

/* Is parameter i part of a 1-D norm weight (no weight decay)? */
static bool is_norm(const struct params *p, const float *base, size_t i, const struct model_config *c)
{
    size_t D = (size_t)c->dim, L = (size_t)c->n_layers;
    size_t a = (size_t)(p->rms_att - base), f = (size_t)(p->rms_ffn - base),
           r = (size_t)(p->rms_final - base);
    return (i >= a && i < a + L * D) || (i >= f && i < f + L * D) || (i >= r && i < r + D);
}

static double heldout_loss_train(const struct shape *s, const struct params *p, struct acts *a,
                                 const uint8_t *text, size_t n, int windows)
{
    double loss = 0;
    long cnt = 0;
    size_t span = n - (size_t)s->T - 1;
    for (int w = 0; w < windows; w++) {
        size_t off = span * (size_t)w / (size_t)windows;
        loss += seq_forward(s, p, a, text + off, text + off + 1);
        cnt += s->T;
    }
    return loss / (double)cnt;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void progress(FILE *f, int step, int steps, double loss, double held, double tps, double left)
{
    if (!f)
        return;
    char bar[31];
    int fill = (int)(30.0 * step / steps);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    fprintf(f, "\rstep %5d/%d [%s] loss %.3f held-out %.3f | %6.0f tok/s | %3dm%02ds left ",
            step, steps, bar, loss, held, tps, (int)left / 60, (int)left % 60);
    fflush(f);
}

static based_err check_opts(const struct model_train_opts *o, char *err, size_t errlen)
{
    const struct model_config *c = &o->cfg;
    if (c->dim <= 0 || c->n_heads <= 0 || c->dim % c->n_heads || (c->dim / c->n_heads) % 2 ||
        c->n_kv_heads <= 0 || c->n_heads % c->n_kv_heads || c->hidden <= 0 || c->n_layers <= 0 ||
        c->vocab != 256 || c->seq_len < 8 || c->dim % 32 || c->hidden % 32 ||
        o->batch < SHARDS || o->batch % SHARDS || o->steps <= 0 || !o->out_path) {
        snprintf(err, errlen, "bad training shape: dim and hidden multiples of 32, heads dividing "
                 "dim, kv-heads dividing heads, vocab 256, seq >= 8, batch a positive even number");
        return BASED_E_BAD_PARAM;
    }
    return BASED_E_OK;
}

struct trainer {
    struct shape s;
    float *pbase, *m, *v, *gsum;
    size_t np;
    struct params p;
    struct shard sh[SHARDS];
    struct model_corpus corpus;
};

static void trainer_free(struct trainer *t)
{
    free(t->pbase);
    free(t->m);
    free(t->v);
    free(t->gsum);
    for (int i = 0; i < SHARDS; i++) {
        free(t->sh[i].gbase);
        free(t->sh[i].abase);
        free((void *)t->sh[i].offs);
    }
    model_corpus_free(&t->corpus);
}

static based_err trainer_init(struct trainer *t, const struct model_train_opts *o,
                              char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    based_err e = model_corpus_load(o->data_dir ? o->data_dir : MODEL_FORTUNES_DIR,
                                    o->max_bytes, &t->corpus, err, errlen);
    if (e)
        return e;
    t->s = shape_of(&o->cfg, o->cfg.seq_len);
    if (t->corpus.n_train < (size_t)t->s.T * 4 || t->corpus.n_heldout < (size_t)t->s.T + 2) {
        snprintf(err, errlen, "corpus too small for sequence length %d", t->s.T);
        return BASED_E_BAD_PARAM;
    }
    t->np = model_param_count(&o->cfg);
    t->pbase = malloc(t->np * sizeof(float));
    t->m = calloc(t->np, sizeof(float));
    t->v = calloc(t->np, sizeof(float));
    t->gsum = malloc(t->np * sizeof(float));
    if (!t->pbase || !t->m || !t->v || !t->gsum)
        return BASED_E_NOMEM;
    init_params(&o->cfg, t->pbase, t->np, o->seed);
    layout(&o->cfg, t->pbase, &t->p);
    for (int i = 0; i < SHARDS; i++) {
        struct shard *sh = &t->sh[i];
        sh->s = &t->s;
        sh->p = &t->p;
        sh->np = t->np;
        sh->gbase = malloc(t->np * sizeof(float));
        sh->abase = acts_alloc(&t->s, &sh->a);
        sh->nseq = o->batch / SHARDS;
        sh->offs = calloc((size_t)sh->nseq, sizeof(size_t));
        sh->data = t->corpus.train;
        sh->scale = 1.0f / (float)((size_t)o->batch * (size_t)t->s.T);
        if (!sh->gbase || !sh->abase || !sh->offs)
            return BASED_E_NOMEM;
        layout(&o->cfg, sh->gbase, &sh->g);
    }
    return BASED_E_OK;
}

/* Sum shard gradients, clip, AdamW. Returns the mean loss of the step. */
static double update(struct trainer *t, const struct model_train_opts *o, int step, float lr)
{
    double loss = 0, norm = 0;
    for (int i = 0; i < SHARDS; i++)
        loss += t->sh[i].loss;
    for (size_t i = 0; i < t->np; i++) {
        float g = t->sh[0].gbase[i];
        for (int j = 1; j < SHARDS; j++)
            g += t->sh[j].gbase[i];
        t->gsum[i] = g;
        norm += (double)g * g;
    }
    norm = sqrt(norm);
    float clip = norm > 1.0 ? (float)(1.0 / norm) : 1.0f;
    float b1 = 0.9f, b2 = 0.95f;
    float c1 = 1.0f - powf(b1, (float)step), c2 = 1.0f - powf(b2, (float)step);
    for (size_t i = 0; i < t->np; i++) {
        float g = t->gsum[i] * clip;
        t->m[i] = b1 * t->m[i] + (1.0f - b1) * g;
        t->v[i] = b2 * t->v[i] + (1.0f - b2) * g * g;
        float upd = (t->m[i] / c1) / (sqrtf(t->v[i] / c2) + 1e-8f);
        if (!is_norm(&t->p, t->pbase, i, &o->cfg))
            upd += o->weight_decay * t->pbase[i];
        t->pbase[i] -= lr * upd;
    }
    return loss / ((double)o->batch * t->s.T);
}

static float lr_at(const struct model_train_opts *o, int step)
{
    if (step <= o->warmup)
        return o->lr * (float)step / (float)(o->warmup > 0 ? o->warmup : 1);
    float r = (float)(step - o->warmup) / (float)(o->steps - o->warmup > 0 ? o->steps - o->warmup : 1);
    return o->min_lr + 0.5f * (o->lr - o->min_lr) * (1.0f + cosf(3.14159265f * r));
}

static void run_shards(struct trainer *t, int threads)
{
    pthread_t th[SHARDS];
    bool started[SHARDS] = { false };
    for (int i = 1; i < SHARDS && threads > 1; i++)
        started[i] = pthread_create(&th[i], NULL, shard_run, &t->sh[i]) == 0;
    shard_run(&t->sh[0]);
    for (int i = 1; i < SHARDS; i++) {
        if (started[i])
            pthread_join(th[i], NULL);
        else
            shard_run(&t->sh[i]);
    }
}

based_err model_train(const struct model_train_opts *o, struct model_train_result *r,
                      char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    based_err e = check_opts(o, err, errlen);
    struct trainer t;
    if (e)
        return e;
    e = trainer_init(&t, o, err, errlen);
    if (e) {
        if (e == BASED_E_NOMEM)
            snprintf(err, errlen, "out of memory");
        trainer_free(&t);
        return e;
    }
    if (o->progress)
        fprintf(o->progress, "training %zu parameters on %zu bytes (held out %zu bytes)\n",
                t.np, t.corpus.n_train, t.corpus.n_heldout);
    uint64_t rng = o->seed ^ 0x9e3779b97f4a7c15ull;
    size_t span = t.corpus.n_train - (size_t)t.s.T - 1;
    double t0 = now_s(), held = NAN, loss = 0, shown = -1;
    for (int step = 1; step <= o->steps; step++) {
        for (int i = 0; i < SHARDS; i++)
            for (int j = 0; j < t.sh[i].nseq; j++)
                ((size_t *)t.sh[i].offs)[j] = (size_t)(model_rng_next(&rng) % span);
        run_shards(&t, o->threads);
        loss = update(&t, o, step, lr_at(o, step));
        r->tokens += (long)o->batch * t.s.T;
        bool last = step == o->steps;
        if (last || (o->eval_every > 0 && step % o->eval_every == 0)) {
            held = heldout_loss_train(&t.s, &t.p, &t.sh[0].a, t.corpus.heldout,
                                      t.corpus.n_heldout, 64);
            e = model_export(&o->cfg, t.pbase, o->out_path, err, errlen);
            if (e)
                break;
            if (o->progress)
                fprintf(o->progress, "\nstep %d: train loss %.4f, held-out loss %.4f, %.0f s\n",
                        step, loss, held, now_s() - t0);
        }
        double el = now_s() - t0;
        if (last || el - shown >= 0.25) {   /* redraw at most 4 times a second */
            shown = el;
            progress(o->progress, step, o->steps, loss, held, (double)r->tokens / el,
                     el / step * (o->steps - step));
        }
    }
    if (o->progress)
        fprintf(o->progress, "\n");
    r->train_loss = loss;
    r->heldout_loss = held;
    r->seconds = now_s() - t0;
    trainer_free(&t);
    return e;
}

/*
 * Gradient check (tests): for a model of shape c with seeded random
 * parameters, compare the backward pass with central finite differences of
 * the loss (in double over the float forward) at `n` parameters spread over
 * every tensor. Returns the largest relative error, or -1 on error.
 */
double model_train_gradcheck(const struct model_config *c, uint64_t seed, int n)
{
    struct shape s = shape_of(c, c->seq_len);
    size_t np = model_param_count(c);
    float *p = malloc(np * sizeof(float)), *g = calloc(np, sizeof(float));
    struct acts a;
    float *ab = acts_alloc(&s, &a);
    uint8_t *tok = malloc((size_t)s.T + 1);
    double worst = -1;
    if (!p || !g || !ab || !tok)
        goto out;
    init_params(c, p, np, seed);
    uint64_t rng = seed;
    for (size_t i = 0; i < np; i++)   /* break the symmetry of the norm weights */
        p[i] += (float)(0.05 * (model_rng_uniform(&rng) - 0.5));
    for (int t = 0; t <= s.T; t++)
        tok[t] = (uint8_t)(model_rng_next(&rng) % (uint64_t)c->vocab);
    struct params pp, gg;
    layout(c, p, &pp);
    layout(c, g, &gg);
    seq_forward(&s, &pp, &a, tok, tok + 1);
    seq_backward(&s, &pp, &gg, &a, tok, tok + 1, 1.0f);
    worst = 0;
    for (int k = 0; k < n; k++) {
        size_t i = (size_t)(model_rng_next(&rng) % np);
        float keep = p[i], h = 1e-2f;
        p[i] = keep + h;
        double lp = seq_forward(&s, &pp, &a, tok, tok + 1);
        p[i] = keep - h;
        double lm = seq_forward(&s, &pp, &a, tok, tok + 1);
        p[i] = keep;
        double num = (lp - lm) / (2.0 * h), ana = g[i];
        double err = fabs(num - ana) / fmax(1e-2, fabs(num) + fabs(ana));
        worst = fmax(worst, err);
    }
out:
    free(p);
    free(g);
    free(ab);
    free(tok);
    return worst;
}
