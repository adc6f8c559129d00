/*
 * state.c: a series' incremental forecasting state. The LSTM state, the
 * last k encoder positions' attention keys and value, and the static
 * contexts are kept as plain values; each call rebuilds only the new
 * step's graph on a private tape, with those values as constant leaves.
 * Leaves carry the same bits the whole-series pass computed, so results
 * match tft_forecast_series exactly.
 */
#include "tft/model.h"
#include "chain/base.h"

struct tft_state {
    const struct tft_model *m;
    double mean, sd;
    double st[TFT_MAX_COVARIATES + 2];
    double cs[MAXD], ce[MAXD], h[MAXD], c[MAXD];
    int n, head;                         /* positions held (<= k), oldest */
    double *K, *V;                       /* ring [k][heads][da], [k][da] */
    double *yz;                          /* ring [ring_len()]: z-scored targets */
    long fed;                            /* steps advanced */
    double esum;                         /* sum of |base errors| (scale_z) */
    struct tft_guard g;                  /* the online guard's losses */
    double zc[3], xc[MAXV];              /* head output of the last forecast */
    long zfed;                           /* ... made at fed = zfed (-1: none) */
    struct tape tp;
};

/* Targets kept: four seasons and one step for the base, level_len() for
 * the input. */
static long ring_len(const struct tft_model *m)
{
    long a = 4L * m->season + 1, b = level_len(m);
    return a > b ? a : b;
}

struct tft_state *tft_state_new(const struct tft_model *m, const double *stat,
                                double mean, double sd)
{
    if (!m || (m->n_static > 0 && !stat) || !(sd > 0))
        return NULL;
    struct tft_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->m = m;
    s->K = calloc((size_t)m->cfg.k * (size_t)(m->cfg.heads + 1) * (size_t)m->da +
                  (size_t)ring_len(m), sizeof(double));
    if (!s->K) {
        free(s);
        return NULL;
    }
    s->V = s->K + (size_t)m->cfg.k * (size_t)m->cfg.heads * (size_t)m->da;
    s->yz = s->V + (size_t)m->cfg.k * (size_t)m->da;
    s->mean = mean;
    s->sd = sd;
    s->zfed = -1;
    guard_init(&s->g);
    for (int j = 0; j < m->n_static; j++)
        s->st[j] = zscore(stat[j], m->stat_mu[j], m->stat_sd[j]);
    s->st[m->n_static] = zscore(mean, m->stat_mu[m->n_static], m->stat_sd[m->n_static]);
    s->st[m->n_static + 1] = zscore(sd, m->stat_mu[m->n_static + 1],
                                    m->stat_sd[m->n_static + 1]);
    tape_init(&s->tp);
    tape_reset(&s->tp, m->P, NULL);
    struct ctxs cx;
    static_fwd(&s->tp, m, s->st, false, &cx);
    int d = m->cfg.d;
    if (s->tp.fail) {
        tft_state_free(s);
        return NULL;
    }
    memcpy(s->cs, tape_val(&s->tp, cx.cs), (size_t)d * sizeof(double));
    memcpy(s->ce, tape_val(&s->tp, cx.ce), (size_t)d * sizeof(double));
    if (!(m->cfg.ablate & TFT_NO_LSTM)) {
        memcpy(s->h, tape_val(&s->tp, cx.ch), (size_t)d * sizeof(double));
        memcpy(s->c, tape_val(&s->tp, cx.cc), (size_t)d * sizeof(double));
    }
    return s;
}

void tft_state_free(struct tft_state *s)
{
    if (!s)
        return;
    tape_release(&s->tp);
    free(s->K);
    free(s);
}

/* Slot of the j-th oldest position in the ring. */
static double *kslot(const struct tft_state *s, int j, int hh)
{
    const struct tft_model *m = s->m;
    int at = (s->head + j) % m->cfg.k;
    return s->K + ((size_t)at * (size_t)m->cfg.heads + (size_t)hh) * (size_t)m->da;
}
static double *vslot(const struct tft_state *s, int j)
{
    int at = (s->head + j) % s->m->cfg.k;
    return s->V + (size_t)at * (size_t)s->m->da;
}

static void leaves(struct tft_state *s, struct ctxs *cx, int *h, int *c)
{
    int d = s->m->cfg.d;
    tape_reset(&s->tp, s->m->P, NULL);
    cx->cs = tape_leaf(&s->tp, s->cs, d);
    cx->ce = tape_leaf(&s->tp, s->ce, d);
    cx->ch = cx->cc = cx->ws = -1;
    *h = tape_leaf(&s->tp, s->h, d);
    *c = tape_leaf(&s->tp, s->c, d);
}

/* base_z() over the fed steps (fed > 0, window start 0, t = fed - 1). */
static double state_base(const struct tft_state *s)
{
    return base_ring(s->m, s->yz, ring_len(s->m), 0, s->fed - 1);
}

/* Future inputs (z-scored; 1.0 without future covariates) into x. */
static void future_x(const struct tft_model *m, const double *future, double *x)
{
    if (m->n_future == 0)
        x[0] = 1.0;
    for (int j = 0; j < m->n_future; j++)
        x[j] = zscore(future[j], m->fut_mu[j], m->fut_sd[j]);
}

/* The head's output z for the next step from the state as it is (the
 * decoder over the held positions), cached with its inputs. */
static based_err decode(struct tft_state *s, const double *x, double z[3])
{
    const struct tft_model *m = s->m;
    int H = m->cfg.heads, K[64 * MAXH], V[64], h, c, attn, wf;
    struct ctxs cx;
    leaves(s, &cx, &h, &c);
    for (int j = 0; j < s->n; j++) {
        for (int hh = 0; hh < H; hh++)
            K[j * H + hh] = tape_leaf(&s->tp, kslot(s, j, hh), m->da);
        V[j] = tape_leaf(&s->tp, vslot(s, j), m->da);
    }
    int out = dec_fwd(&s->tp, m, &cx, x, h, c, K, V, s->n, false, &attn, &wf);
    if (s->tp.fail)
        return BASED_E_NOMEM;
    memcpy(z, tape_val(&s->tp, out), 3 * sizeof(double));
    memcpy(s->zc, z, 3 * sizeof(double));
    memcpy(s->xc, x, (size_t)m->mf * sizeof(double));
    s->zfed = s->fed;
    return BASED_E_OK;
}

/* Scores the forecast made before this step (the last forecast's head
 * output when it was made here with the same inputs, else decoded now)
 * on the new z-scored target yz: = guard_update() in tft_forecast_series. */
static based_err guard_step(struct tft_state *s, const double *future, double yz)
{
    const struct tft_model *m = s->m;
    double x[MAXV], z[3], q[3];
    future_x(m, future, x);
    if (s->zfed == s->fed && memcmp(x, s->xc, (size_t)m->mf * sizeof(double)) == 0) {
        memcpy(z, s->zc, sizeof z);
    } else {
        based_err e = decode(s, x, z);
        if (e != BASED_E_OK)
            return e;
    }
    quantiles_out(m, z, q);
    guard_update(m, &s->g, q, state_base(s), s->esum / (double)s->fed, yz);
    return BASED_E_OK;
}

based_err tft_state_advance(struct tft_state *s, double target, const double *past,
                            const double *future)
{
    if (!s)
        return BASED_E_BAD_PARAM;
    const struct tft_model *m = s->m;
    int d = m->cfg.d, H = m->cfg.heads, k = m->cfg.k, h, c;
    double x[MAXV];
    struct ctxs cx;
    struct enc_out e;
    double yz = zscore(target, s->mean, s->sd);
    if (s->fed > 0 && m->guard && s->n > 0) {
        based_err ge = guard_step(s, future, yz);
        if (ge != BASED_E_OK)
            return ge;
    }
    if (s->fed > 0)                      /* = scale_z() */
        s->esum += clip_err(yz - state_base(s), s->esum / (double)s->fed);
    else
        s->esum = 1.0;
    long R = ring_len(m);
    s->yz[s->fed % R] = yz;
    s->fed++;
    x[0] = yz;
    if (!(m->cfg.ablate & TFT_NO_BASE)) {    /* = target_input() */
        long L = level_len(m), n = s->fed < L ? s->fed : L;
        double sum = 0;
        for (long u = s->fed - n; u < s->fed; u++)
            sum += s->yz[u % R];
        x[0] = yz - sum / (double)n;
    }
    for (int j = 0; j < m->n_past; j++)
        x[1 + j] = zscore(past[j], m->past_mu[j], m->past_sd[j]);
    for (int j = 0; j < m->n_future; j++)
        x[1 + m->n_past + j] = zscore(future[j], m->fut_mu[j], m->fut_sd[j]);
    leaves(s, &cx, &h, &c);
    enc_step(&s->tp, m, &cx, x, h, c, false, &e);
    if (s->tp.fail)
        return BASED_E_NOMEM;
    memcpy(s->h, tape_val(&s->tp, e.h), (size_t)d * sizeof(double));
    memcpy(s->c, tape_val(&s->tp, e.c), (size_t)d * sizeof(double));
    if (s->n == k) {                     /* drop the oldest */
        s->head = (s->head + 1) % k;
        s->n--;
    }
    for (int hh = 0; hh < H; hh++)
        memcpy(kslot(s, s->n, hh), tape_val(&s->tp, e.K[hh]), (size_t)m->da * sizeof(double));
    memcpy(vslot(s, s->n), tape_val(&s->tp, e.V), (size_t)m->da * sizeof(double));
    s->n++;
    return BASED_E_OK;
}

based_err tft_state_forecast(struct tft_state *s, const double *future_next, double q[3])
{
    if (!s || s->n == 0)
        return BASED_E_BAD_PARAM;
    const struct tft_model *m = s->m;
    double x[MAXV], z[3], zq[3], b = 0.0, r = 1.0;
    future_x(m, future_next, x);
    based_err e = decode(s, x, z);
    if (e != BASED_E_OK)
        return e;
    quantiles_out(m, z, zq);
    if (!(m->cfg.ablate & TFT_NO_BASE))
    {
        b = state_base(s);                  /* = base_z(), scale_z() */
        r = s->esum / (double)s->fed;
    }
    guard_apply(zq, guard_choice(m, &s->g), z);
    for (int j = 0; j < 3; j++)
        q[j] = s->mean + s->sd * (b + r * z[j]);
    return BASED_E_OK;
}

size_t tft_state_trim(struct tft_state *s)
{
    if (!s)
        return 0;
    tape_release(&s->tp);                /* scratch only: regrown by the next call */
    const struct tft_model *m = s->m;
    size_t ring = (size_t)m->cfg.k * (size_t)(m->cfg.heads + 1) * (size_t)m->da +
                  (size_t)ring_len(m);
    return sizeof *s + ring * sizeof(double);
}
