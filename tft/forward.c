/*
 * forward.c: the TFT's forward graph on the tape, and whole-series
 * forecasting. One series is one pass: static contexts once; the encoder
 * (past VSN -> LSTM -> gated skip -> static enrichment) over every step of
 * the window, each step's keys and value computed once; then for every
 * origin t the forecast position (future VSN -> decoder LSTM step from the
 * encoder state at t -> the same gated skip and enrichment -> attention
 * over the last k encoder positions and itself -> gate -> position-wise GRN
 * -> final gated skip to the LSTM output -> quantile head).
 */
#include <limits.h>

#include "tft/model.h"
#include "chain/base.h"

double zscore(double x, double mu, double sd)
{
    return (x - mu) / sd;
}

double median3(double a, double b, double c)
{
    if (a > b) {
        double x = a;
        a = b;
        b = x;
    }
    /* a <= b */
    return c <= a ? a : (c >= b ? b : c);
}

static double minmod(double a, double b)
{
    if (a > 0 && b > 0)
        return a < b ? a : b;
    if (a < 0 && b < 0)
        return a > b ? a : b;
    return 0.0;
}

double base_ring(const struct tft_model *m, const double *y, long R, long start, long t)
{
    if (m->cfg.ablate & TFT_NO_BASE)
        return 0.0;
    long S = m->season, p = t + 1 - S;
    if (m->base_rev >= 1) {
        /* q's profile from seasons no newer than p's: lags kS..(k + 2)S */
        long q = S > 1 ? t : t - 1, k = S > 1 ? 2 : 1;
        if (q - (k + 2) * S >= start && p - 3 * S >= start) {
            double a = y[(p - S) % R], b = y[(p - 2 * S) % R], c = y[(p - 3 * S) % R];
            double mp = median3(a, b, c), dp = y[p % R] - mp;
            double hi = a > b ? a : b, lo = a < b ? a : b;
            hi = c > hi ? c : hi;
            lo = c < lo ? c : lo;
            double sp = hi - lo > 0.5 ? hi - lo : 0.5;     /* z units: sd / 2 */
            if (dp <= 2.0 * sp && -dp <= 2.0 * sp)
                return y[p % R];    /* within the seasons' own spread: naive */
            double mq = median3(y[(q - k * S) % R], y[(q - (k + 1) * S) % R],
                                y[(q - (k + 2) * S) % R]);
            return mp + minmod(dp, y[q % R] - mq);
        }
        if (p - 2 * S >= start)
            return median3(y[p % R], y[(p - S) % R], y[(p - 2 * S) % R]);
    }
    return p >= start ? y[p % R] : y[t % R];
}

double base_z(const struct tft_model *m, const double *y, int start, int t)
{
    return base_ring(m, y, LONG_MAX, start, t);
}

int level_len(const struct tft_model *m)
{
    int S = m->season;
    return m->base_rev >= 1 ? S * ((4 + S - 1) / S) : S;
}

static int gate_fwd(struct tape *tp, const struct tft_model *m, const struct gate *g,
                    int x, int skip)
{
    int v = tape_linear(tp, x, &g->l5);
    if (!(m->cfg.ablate & TFT_NO_GATE))
        v = tape_mul(tp, tape_sigmoid(tp, tape_linear(tp, x, &g->l4)), v);
    return tape_layernorm(tp, tape_add(tp, skip, v), g->ln_g, g->ln_b);
}

static int grn_fwd(struct tape *tp, const struct tft_model *m, const struct grn *g,
                   int a, int c, bool train)
{
    int skip = g->in != g->out ? tape_linear(tp, a, &g->skip) : a;
    int h = tape_linear(tp, a, &g->l2);
    if (g->ctx && c >= 0)
        h = tape_add(tp, h, tape_linear(tp, c, &g->l3));
    h = tape_elu(tp, h);
    int e = tape_linear(tp, h, &g->l1);
    if (train && m->cfg.dropout > 0)
        e = tape_dropout(tp, e, m->cfg.dropout);
    return gate_fwd(tp, m, &g->g, e, skip);
}

static int vsn_fwd(struct tape *tp, const struct tft_model *m, const struct vsn *v,
                   const double *x, int c, bool train, int *wnode)
{
    int xi[MAXV], xt[MAXV], w;
    for (int j = 0; j < v->m; j++)
        xi[j] = tape_scalar_lin(tp, x[j], &v->tr[j]);
    if (m->cfg.ablate & TFT_NO_VSN)
        w = tape_softmax(tp, tape_param(tp, v->logits, v->m));
    else
        w = tape_softmax(tp, grn_fwd(tp, m, &v->flat, tape_concat(tp, xi, v->m), c, train));
    for (int j = 0; j < v->m; j++)
        xt[j] = grn_fwd(tp, m, &v->var[j], xi[j], -1, train);
    *wnode = w;
    return tape_wsum(tp, w, xt, v->m);
}

void static_fwd(struct tape *tp, const struct tft_model *m, const double *st,
                bool train, struct ctxs *cx)
{
    int z = vsn_fwd(tp, m, &m->vs, st, -1, train, &cx->ws);
    cx->cs = grn_fwd(tp, m, &m->cs, z, -1, train);
    cx->ce = grn_fwd(tp, m, &m->ce, z, -1, train);
    cx->ch = grn_fwd(tp, m, &m->ch, z, -1, train);
    cx->cc = grn_fwd(tp, m, &m->cc, z, -1, train);
}

/* One LSTM step: returns h' and sets *c to c'. */
static int lstm_step(struct tape *tp, const struct tft_model *m, const struct lstm *L,
                     int x, int h, int *c)
{
    int d = m->cfg.d;
    int z = tape_add(tp, tape_linear(tp, x, &L->wx), tape_linear(tp, h, &L->wh));
    int gi = tape_sigmoid(tp, tape_slice(tp, z, 0, d));
    int gf = tape_sigmoid(tp, tape_slice(tp, z, d, d));
    int gg = tape_tanh(tp, tape_slice(tp, z, 2 * d, d));
    int go = tape_sigmoid(tp, tape_slice(tp, z, 3 * d, d));
    *c = tape_add(tp, tape_mul(tp, gf, *c), tape_mul(tp, gi, gg));
    return tape_mul(tp, go, tape_tanh(tp, *c));
}

/* LSTM (or its ablation), gated skip, static enrichment: theta. */
static int temporal(struct tape *tp, const struct tft_model *m, const struct ctxs *cx,
                    const struct lstm *L, int xi, int *h, int *c, bool train, int *phi)
{
    if (m->cfg.ablate & TFT_NO_LSTM) {
        *phi = xi;
    } else {
        *h = lstm_step(tp, m, L, xi, *h, c);
        *phi = gate_fwd(tp, m, &m->lstm_gate, *h, xi);
    }
    return grn_fwd(tp, m, &m->enrich, *phi, cx->ce, train);
}

void enc_step(struct tape *tp, const struct tft_model *m, const struct ctxs *cx,
              const double *x, int h, int c, bool train, struct enc_out *o)
{
    int phi;
    int xi = vsn_fwd(tp, m, &m->vp, x, cx->cs, train, &o->wp);
    o->h = h;
    o->c = c;
    o->theta = temporal(tp, m, cx, &m->enc, xi, &o->h, &o->c, train, &phi);
    for (int hh = 0; hh < m->cfg.heads; hh++)
        o->K[hh] = tape_linear(tp, o->theta, &m->wk[hh]);
    o->V = tape_linear(tp, o->theta, &m->wv);
}

/* Interpretable multi-head attention of query position theta over K/V. */
static int attention(struct tape *tp, const struct tft_model *m, int theta,
                     const int *K, const int *V, int L, int *attn)
{
    int H = m->cfg.heads, keys[65], vals[65], avg = -1;
    double scale = 1.0 / tft_sqrt((double)m->da);
    for (int j = 0; j < L; j++)
        vals[j] = V[j];
    vals[L] = tape_linear(tp, theta, &m->wv);
    for (int hh = 0; hh < H; hh++) {
        for (int j = 0; j < L; j++)
            keys[j] = K[j * H + hh];
        keys[L] = tape_linear(tp, theta, &m->wk[hh]);
        int q = tape_linear(tp, theta, &m->wq[hh]);
        int a = tape_softmax(tp, tape_scores(tp, q, keys, L + 1, scale));
        avg = hh == 0 ? a : tape_add(tp, avg, a);
    }
    if (H > 1)
        avg = tape_scale(tp, avg, 1.0 / (double)H);
    *attn = avg;
    return tape_linear(tp, tape_wsum(tp, avg, vals, L + 1), &m->wh);
}

int dec_fwd(struct tape *tp, const struct tft_model *m, const struct ctxs *cx,
            const double *xf, int h, int c, const int *K, const int *V, int L,
            bool train, int *attn, int *wf)
{
    int phi, delta;
    int xi = vsn_fwd(tp, m, &m->vf, xf, cx->cs, train, wf);
    int theta = temporal(tp, m, cx, &m->dec, xi, &h, &c, train, &phi);
    *attn = -1;
    if (m->cfg.ablate & TFT_NO_ATTN)
        delta = theta;
    else
        delta = gate_fwd(tp, m, &m->attn_gate,
                         attention(tp, m, theta, K, V, L, attn), theta);
    int psi = grn_fwd(tp, m, &m->pos, delta, -1, train);
    int out = gate_fwd(tp, m, &m->final_gate, psi, phi);
    return tape_qhead(tp, tape_linear(tp, out, &m->head));
}

void quantiles_with(const double *z, double shrink, double qscale, double *q)
{
    q[1] = (1.0 - shrink) * z[1];
    q[0] = q[1] - qscale * (z[1] - z[0]);
    q[2] = q[1] + qscale * (z[2] - z[1]);
}

void quantiles_out(const struct tft_model *m, const double *z, double *q)
{
    quantiles_with(z, m->shrink, m->qscale, q);
}

/* The guard's candidates: P50 x w for w = iw / (GUARD_NW - 1), and the
 * band: ib = 0 the model's P10/P90 offsets, ib >= 1 symmetric offsets of
 * GUARD_HALF[ib] (units of the base's error scale r). */
static const double GUARD_HALF[GUARD_NB] = { 0.0, 0.7, 1.2, 1.8 };
enum { GUARD_DEF = (GUARD_NW - 1) * GUARD_NB };    /* w = 1, model band */

void guard_init(struct tft_guard *g)
{
    for (int k = 0; k < GUARD_NC; k++)
        g->loss[k] = 0.0;
}

int guard_choice(const struct tft_model *m, const struct tft_guard *g)
{
    if (!m->guard)
        return GUARD_DEF;
    int best = -1;
    for (int k = 0; k < GUARD_NC; k++)
        if (k != GUARD_DEF && (best < 0 || g->loss[k] < g->loss[best]))
            best = k;
    return g->loss[best] < GUARD_MARGIN * g->loss[GUARD_DEF] ? best : GUARD_DEF;
}

void guard_apply(const double *q, int k, double *out)
{
    if (k == GUARD_DEF) {           /* the model as is, bit for bit */
        out[0] = q[0], out[1] = q[1], out[2] = q[2];
        return;
    }
    int ib = k % GUARD_NB;
    out[1] = (double)(k / GUARD_NB) / (double)(GUARD_NW - 1) * q[1];
    if (ib > 0) {
        out[0] = out[1] - GUARD_HALF[ib];
        out[2] = out[1] + GUARD_HALF[ib];
    } else {
        out[0] = out[1] - (q[1] - q[0]);
        out[2] = out[1] + (q[2] - q[1]);
    }
}

void guard_update(const struct tft_model *m, struct tft_guard *g, const double *q,
                  double b, double r, double y)
{
    static const double QS[3] = { 0.1, 0.5, 0.9 };
    if (!m->guard)
        return;
    for (int k = 0; k < GUARD_NC; k++) {
        double c[3], loss = 0.0;
        guard_apply(q, k, c);
        for (int j = 0; j < 3; j++) {
            double e = y - (b + r * c[j]);
            loss += e > 0 ? QS[j] * e : (QS[j] - 1.0) * e;
        }
        g->loss[k] = GUARD_DECAY * g->loss[k] + loss;
    }
}

double clip_err(double e, double r)
{
    double a = e < 0 ? -e : e;
    return a < 3.0 * r ? a : 3.0 * r;
}

double scale_z(const struct tft_model *m, const double *y, int start, int t)
{
    if (m->cfg.ablate & TFT_NO_BASE)
        return 1.0;
    double sum = 1.0;
    for (int u = start + 1; u <= t; u++) {
        double e = y[u] - base_z(m, y, start, u - 1);
        sum += clip_err(e, sum / (double)(u - start));
    }
    return sum / (double)(1 + t - start);
}

double target_input(const struct tft_model *m, const double *y, int start, int t)
{
    if (m->cfg.ablate & TFT_NO_BASE)
        return y[t];
    int L = level_len(m);
    int a = t + 1 - L > start ? t + 1 - L : start;
    double sum = 0;
    for (int u = a; u <= t; u++)
        sum += y[u];
    return y[t] - sum / (double)(t + 1 - a);
}

void past_inputs(const struct tft_model *m, const struct pseries *s, int start, int t,
                 double *x)
{
    x[0] = target_input(m, s->y, start, t);
    for (int j = 0; j < m->n_past; j++)
        x[1 + j] = s->pc[(size_t)t * (size_t)m->n_past + (size_t)j];
    for (int j = 0; j < m->n_future; j++)
        x[1 + m->n_past + j] = s->fc[(size_t)t * (size_t)m->n_future + (size_t)j];
}

void future_inputs(const struct tft_model *m, const struct pseries *s, int t, double *x)
{
    if (m->n_future == 0) {
        x[0] = 1.0;
        return;
    }
    for (int j = 0; j < m->n_future; j++)
        x[j] = s->fc[(size_t)t * (size_t)m->n_future + (size_t)j];
}

void series_forward(struct tape *tp, const struct tft_model *m, const struct pseries *s,
                    int start, int o_lo, int o_hi, bool train, struct series_fwd *f)
{
    int d = m->cfg.d, H = m->cfg.heads, k = m->cfg.k;
    double x[MAXV], zero[MAXD];
    memset(zero, 0, sizeof zero);
    static_fwd(tp, m, s->st, train, &f->cx);
    int h = f->cx.ch, c = f->cx.cc;
    if (m->cfg.ablate & TFT_NO_LSTM)
        h = c = tape_leaf(tp, zero, d);
    /* ring of the last k encoder positions' keys and values */
    int K[64 * MAXH], V[64], Ko[64 * MAXH], Vo[64], n = 0;
    for (int t = start; t < o_hi; t++) {
        struct enc_out e;
        past_inputs(m, s, start, t, x);
        enc_step(tp, m, &f->cx, x, h, c, train, &e);
        h = e.h;
        c = e.c;
        if (n == k) {
            memmove(K, K + H, (size_t)(k - 1) * (size_t)H * sizeof(int));
            memmove(V, V + 1, (size_t)(k - 1) * sizeof(int));
            n--;
        }
        memcpy(K + n * H, e.K, (size_t)H * sizeof(int));
        V[n++] = e.V;
        if (t < o_lo)
            continue;
        memcpy(Ko, K, (size_t)(n * H) * sizeof(int));
        memcpy(Vo, V, (size_t)n * sizeof(int));
        future_inputs(m, s, t + 1, x);
        int i = t - o_lo;
        f->wp[i] = e.wp;
        f->q[i] = dec_fwd(tp, m, &f->cx, x, h, c, Ko, Vo, n, train, &f->attn[i], &f->wf[i]);
    }
}
