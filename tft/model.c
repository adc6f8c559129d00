/*
 * model.c: a TFT's parameter layout, initialisation, configuration and
 * serialisation. Layout assigns each weight block an offset in the one
 * parameter array P, in a fixed order; initialisation then walks the same
 * blocks: Glorot-uniform matrices, zero biases, unit layer-norm gains, and
 * LSTM forget-gate biases of 1, all drawn from splitmix64(cfg.seed).
 */
#include "tft/model.h"
#include "chain/base.h"

#define MAXBLOCKS 2048
enum { B_MAT, B_ZERO, B_ONE, B_FORGET };
struct block { int off, n, kind, fin, fout; };
struct layout { struct tft_model *m; struct block b[MAXBLOCKS]; int nb; bool fail; };

static int take(struct layout *L, int n, int kind, int fin, int fout)
{
    if (L->nb >= MAXBLOCKS) {
        L->fail = true;
        return 0;
    }
    int off = L->m->np;
    L->b[L->nb++] = (struct block){ off, n, kind, fin, fout };
    L->m->np += n;
    return off;
}

static struct lin mk_lin(struct layout *L, int in, int out, bool bias)
{
    struct lin l = { 0, -1, in, out };
    l.w = take(L, in * out, B_MAT, in, out);
    if (bias)
        l.b = take(L, out, B_ZERO, 0, 0);
    return l;
}

static struct gate mk_gate(struct layout *L, int in, int out)
{
    struct gate g;
    g.l4 = mk_lin(L, in, out, true);
    g.l5 = mk_lin(L, in, out, true);
    g.ln_g = take(L, out, B_ONE, 0, 0);
    g.ln_b = take(L, out, B_ZERO, 0, 0);
    return g;
}

static struct grn mk_grn(struct layout *L, int in, int out, int ctx)
{
    int d = L->m->cfg.d;
    struct grn g;
    memset(&g, 0, sizeof g);
    g.in = in;
    g.out = out;
    g.ctx = ctx;
    if (in != out)
        g.skip = mk_lin(L, in, out, true);
    g.l2 = mk_lin(L, in, d, true);
    if (ctx)
        g.l3 = mk_lin(L, ctx, d, false);
    g.l1 = mk_lin(L, d, d, true);
    g.g = mk_gate(L, d, out);
    return g;
}

static void mk_vsn(struct layout *L, struct vsn *v, int m, int ctx)
{
    int d = L->m->cfg.d;
    v->m = m;
    for (int j = 0; j < m; j++)
        v->tr[j] = mk_lin(L, 1, d, true);
    v->flat = mk_grn(L, m * d, m, ctx);
    for (int j = 0; j < m; j++)
        v->var[j] = mk_grn(L, d, d, 0);
    v->logits = take(L, m, B_ZERO, 0, 0);
}

static struct lstm mk_lstm(struct layout *L)
{
    int d = L->m->cfg.d;
    struct lstm s;
    s.wx = mk_lin(L, d, 4 * d, false);
    s.wx.b = take(L, 4 * d, B_FORGET, 0, 0);
    s.wh = mk_lin(L, d, 4 * d, false);
    return s;
}

static void layout_all(struct layout *L)
{
    struct tft_model *m = L->m;
    int d = m->cfg.d;
    mk_vsn(L, &m->vs, m->ms, 0);
    mk_vsn(L, &m->vp, m->mp, d);
    mk_vsn(L, &m->vf, m->mf, d);
    m->cs = mk_grn(L, d, d, 0);
    m->ce = mk_grn(L, d, d, 0);
    m->ch = mk_grn(L, d, d, 0);
    m->cc = mk_grn(L, d, d, 0);
    m->enc = mk_lstm(L);
    m->dec = mk_lstm(L);
    m->lstm_gate = mk_gate(L, d, d);
    m->enrich = mk_grn(L, d, d, d);
    for (int h = 0; h < m->cfg.heads; h++) {
        m->wq[h] = mk_lin(L, d, m->da, false);
        m->wk[h] = mk_lin(L, d, m->da, false);
    }
    m->wv = mk_lin(L, d, m->da, false);
    m->wh = mk_lin(L, m->da, d, false);
    m->attn_gate = mk_gate(L, d, d);
    m->pos = mk_grn(L, d, d, 0);
    m->final_gate = mk_gate(L, d, d);
    m->head = mk_lin(L, d, 3, true);
}

static void init_params(struct layout *L)
{
    struct tft_model *m = L->m;
    uint64_t rng = m->cfg.seed ^ 0x7466742d696e6974ull;   /* "tft-init" */
    int d = m->cfg.d;
    for (int i = 0; i < L->nb; i++) {
        const struct block *b = &L->b[i];
        double *p = m->P + b->off;
        switch (b->kind) {
        case B_MAT: {
            double lim = tft_sqrt(6.0 / (double)(b->fin + b->fout));
            for (int j = 0; j < b->n; j++)
                p[j] = (2.0 * tft_rng_uniform(&rng) - 1.0) * lim;
            break;
        }
        case B_ONE:
            for (int j = 0; j < b->n; j++) p[j] = 1.0;
            break;
        case B_FORGET:
            for (int j = 0; j < b->n; j++) p[j] = (j >= d && j < 2 * d) ? 1.0 : 0.0;
            break;
        default:
            for (int j = 0; j < b->n; j++) p[j] = 0.0;
            break;
        }
    }
}

void tft_config_default(struct tft_config *c)
{
    memset(c, 0, sizeof *c);
    c->d = 16;
    c->heads = 4;
    c->k = 14;
    c->max_len = 512;
    c->epochs = 100;
    c->patience = 10;
    c->batch = 2;
    c->valid = 14;
    c->warmup = 7;
    c->lr = 0.003;
    c->clip = 1.0;
    c->dropout = 0.1;
    c->seed = 1;
    c->ablate = 0;
}

static bool config_ok(const struct tft_config *c)
{
    return c->d >= 4 && c->d <= MAXD && c->heads >= 1 && c->heads <= MAXH &&
           c->d % c->heads == 0 && c->k >= 1 && c->k <= 64 &&
           c->max_len >= 4 && c->max_len <= TFT_MAX_STEPS && c->epochs >= 0 &&
           c->epochs <= 10000 && c->patience >= 1 && c->batch >= 1 &&
           c->valid >= 1 && c->warmup >= 0 && c->lr > 0 && c->lr < 1 &&
           c->clip > 0 && c->dropout >= 0 && c->dropout < 0.9 &&
           (c->ablate & ~31u) == 0 && c->season >= 0 && c->season <= 64;
}

struct tft_model *tft_model_new(const struct tft_config *cfg, int n_static,
                                int n_past, int n_future)
{
    if (!cfg || !config_ok(cfg) || n_static < 0 || n_past < 0 || n_future < 0 ||
        n_static > TFT_MAX_COVARIATES || n_past > TFT_MAX_COVARIATES ||
        n_future > TFT_MAX_COVARIATES)
        return NULL;
    struct tft_model *m = calloc(1, sizeof *m);
    struct layout *L = calloc(1, sizeof *L);
    if (!m || !L) {
        free(m);
        free(L);
        return NULL;
    }
    m->cfg = *cfg;
    m->n_static = n_static;
    m->n_past = n_past;
    m->n_future = n_future;
    m->ms = n_static + 2;
    m->mp = 1 + n_past + n_future;
    m->mf = n_future > 0 ? n_future : 1;
    m->da = cfg->d / cfg->heads;
    m->qscale = 1.0;
    m->season = cfg->season > 0 ? cfg->season : 1;
    m->base_rev = 1;
    m->guard = (cfg->ablate & TFT_NO_BASE) ? 0 : 1;
    for (int j = 0; j < TFT_MAX_COVARIATES; j++)
        m->past_sd[j] = m->fut_sd[j] = 1.0;
    for (int j = 0; j < TFT_MAX_COVARIATES + 2; j++)
        m->stat_sd[j] = 1.0;
    L->m = m;
    layout_all(L);
    if (L->fail || m->np > TFT_MAX_PARAMS ||
        !(m->P = calloc((size_t)m->np, sizeof(double)))) {
        free(L);
        free(m);
        return NULL;
    }
    init_params(L);
    free(L);
    return m;
}

void tft_model_free(struct tft_model *m)
{
    if (!m)
        return;
    free(m->P);
    free(m);
}

size_t tft_model_nparams(const struct tft_model *m) { return (size_t)m->np; }
const struct tft_config *tft_model_config(const struct tft_model *m) { return &m->cfg; }

int tft_window_start(const struct tft_model *m, int fit_len)
{
    return fit_len > m->cfg.max_len ? fit_len - m->cfg.max_len : 0;
}

/* ---- serialisation ------------------------------------------------------ */

struct wbuf { uint8_t *p; size_t n, cap; };

static void put_u64(struct wbuf *w, uint64_t v)
{
    for (int i = 0; i < 8; i++, w->n++)
        if (w->p && w->n < w->cap)
            w->p[w->n] = (uint8_t)(v >> (8 * i));
}
static void put_f64(struct wbuf *w, double x)
{
    uint64_t v;
    memcpy(&v, &x, sizeof v);
    put_u64(w, v);
}

/* Fixed field order: the file format. */
static void put_all(struct wbuf *w, const struct tft_model *m)
{
    const struct tft_config *c = &m->cfg;
    if (w->p && w->cap >= 4)
        memcpy(w->p, TFT_MODEL_MAGIC, 4);
    w->n = 4;
    put_u64(w, TFT_MODEL_VERSION);
    int64_t ints[] = { c->d, c->heads, c->k, c->max_len, c->epochs, c->patience,
                       c->batch, c->valid, c->warmup, (int64_t)c->ablate,
                       m->n_static, m->n_past, m->n_future, m->np, m->season };
    for (size_t i = 0; i < BASED_ARRAY_LEN(ints); i++)
        put_u64(w, (uint64_t)ints[i]);
    put_f64(w, c->lr);
    put_f64(w, c->clip);
    put_f64(w, c->dropout);
    put_u64(w, c->seed);
    put_f64(w, m->qscale);
    put_f64(w, m->shrink);                              /* since version 3 */
    put_u64(w, (uint64_t)m->base_rev);                  /* since version 4 */
    put_u64(w, (uint64_t)m->guard);                     /* since version 5 */
    for (int j = 0; j < m->n_past; j++) { put_f64(w, m->past_mu[j]); put_f64(w, m->past_sd[j]); }
    for (int j = 0; j < m->n_future; j++) { put_f64(w, m->fut_mu[j]); put_f64(w, m->fut_sd[j]); }
    for (int j = 0; j < m->ms; j++) { put_f64(w, m->stat_mu[j]); put_f64(w, m->stat_sd[j]); }
    for (int j = 0; j < m->np; j++)
        put_f64(w, m->P[j]);
}

based_err tft_model_save(const struct tft_model *m, uint8_t *buf, size_t *n)
{
    if (!m || !n)
        return BASED_E_BAD_PARAM;
    struct wbuf w = { NULL, 0, 0 };
    put_all(&w, m);
    if (!buf) {
        *n = w.n;
        return BASED_E_OK;
    }
    if (*n < w.n)
        return BASED_E_TOO_LARGE;
    struct wbuf o = { buf, 0, *n };
    put_all(&o, m);
    *n = o.n;
    return BASED_E_OK;
}

struct rbuf { const uint8_t *p; size_t n, at; bool bad; };

static uint64_t get_u64(struct rbuf *r)
{
    uint64_t v = 0;
    if (r->at + 8 > r->n) {
        r->bad = true;
        return 0;
    }
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)r->p[r->at + (size_t)i] << (8 * i);
    r->at += 8;
    return v;
}
static double get_f64(struct rbuf *r)
{
    uint64_t v = get_u64(r);
    double x;
    memcpy(&x, &v, sizeof x);
    return x;
}
static int get_int(struct rbuf *r)
{
    uint64_t v = get_u64(r);
    if (v > 100000000u)
        r->bad = true;
    return (int)(v & 0x7fffffff);
}

based_err tft_model_load(const uint8_t *buf, size_t n, struct tft_model **out)
{
    if (!buf || !out)
        return BASED_E_BAD_PARAM;
    *out = NULL;
    if (n < 12 || memcmp(buf, TFT_MODEL_MAGIC, 4) != 0)
        return BASED_E_DECODE;
    struct rbuf r = { buf, n, 4, false };
    /* version 1: no base, no season field; 1 and 2: no shrink field;
     * 1 to 3: no base_rev field (0: seasonal-naive base, level over S);
     * 1 to 4: no guard field (0: no per-series online guard) */
    uint64_t ver = get_u64(&r);
    if (ver < 1u || ver > TFT_MODEL_VERSION)
        return BASED_E_DECODE;
    struct tft_config c;
    memset(&c, 0, sizeof c);
    c.d = get_int(&r); c.heads = get_int(&r); c.k = get_int(&r);
    c.max_len = get_int(&r); c.epochs = get_int(&r); c.patience = get_int(&r);
    c.batch = get_int(&r); c.valid = get_int(&r); c.warmup = get_int(&r);
    c.ablate = (unsigned)get_int(&r);
    int ns = get_int(&r), npast = get_int(&r), nf = get_int(&r), np = get_int(&r);
    c.season = ver == 1u ? 1 : get_int(&r);
    if (ver == 1u)
        c.ablate |= TFT_NO_BASE;
    c.lr = get_f64(&r); c.clip = get_f64(&r); c.dropout = get_f64(&r);
    c.seed = get_u64(&r);
    double qscale = get_f64(&r), shrink = ver >= 3u ? get_f64(&r) : 0.0;
    int base_rev = ver >= 4u ? get_int(&r) : 0;
    int guard = ver >= 5u ? get_int(&r) : 0;
    if (r.bad || !(qscale > 0 && qscale <= 100) || !(shrink >= 0 && shrink < 1) ||
        base_rev < 0 || base_rev > 1 || guard < 0 || guard > 1 ||
        (guard != 0 && (c.ablate & TFT_NO_BASE)) ||
        (shrink != 0 && (c.ablate & TFT_NO_BASE)))
        return BASED_E_DECODE;
    struct tft_model *m = tft_model_new(&c, ns, npast, nf);
    if (!m || m->np != np) {
        tft_model_free(m);
        return BASED_E_DECODE;
    }
    m->qscale = qscale;
    m->shrink = shrink;
    m->base_rev = base_rev;
    m->guard = guard;
    for (int j = 0; j < npast; j++) { m->past_mu[j] = get_f64(&r); m->past_sd[j] = get_f64(&r); }
    for (int j = 0; j < nf; j++) { m->fut_mu[j] = get_f64(&r); m->fut_sd[j] = get_f64(&r); }
    for (int j = 0; j < m->ms; j++) { m->stat_mu[j] = get_f64(&r); m->stat_sd[j] = get_f64(&r); }
    for (int j = 0; j < np; j++)
        m->P[j] = get_f64(&r);
    for (int j = 0; j < np; j++)
        r.bad |= !(m->P[j] - m->P[j] == 0);                 /* NaN or Inf */
    for (int j = 0; j < m->ms; j++)
        r.bad |= !(m->stat_sd[j] > 0) || !(m->stat_mu[j] - m->stat_mu[j] == 0);
    for (int j = 0; j < npast; j++)
        r.bad |= !(m->past_sd[j] > 0) || !(m->past_mu[j] - m->past_mu[j] == 0);
    for (int j = 0; j < nf; j++)
        r.bad |= !(m->fut_sd[j] > 0) || !(m->fut_mu[j] - m->fut_mu[j] == 0);
    if (r.bad || r.at != n) {
        tft_model_free(m);
        return BASED_E_DECODE;
    }
    *out = m;
    return BASED_E_OK;
}
