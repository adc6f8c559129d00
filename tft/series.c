/*
 * series.c: turning a dataset series into the model's normalised inputs
 * (target scaled by the series' own fitted mean and sd; covariates and
 * statics by the model's training-set statistics), and whole-series
 * forecasting and explanation on top of series_forward().
 */
#include "tft/model.h"
#include "chain/base.h"

void tft_series_scaling(const struct tft_dataset *d, int i, int fit_len,
                        double *mean, double *sd)
{
    const double *y = d->target + (size_t)i * (size_t)d->n_steps;
    int n = fit_len < d->len[i] ? fit_len : d->len[i];
    double mu = 0, v = 0;
    for (int t = 0; t < n; t++)
        mu += y[t];
    mu = n > 0 ? mu / n : 0;
    for (int t = 0; t < n; t++)
        v += (y[t] - mu) * (y[t] - mu);
    v = n > 1 ? v / (n - 1) : 0;
    double s = tft_sqrt(v);
    double a = mu < 0 ? -mu : mu;
    if (!(s > 1e-9 * (1.0 + a)))
        s = 1.0;
    *mean = mu;
    *sd = s;
}

based_err pseries_make(const struct tft_model *m, const struct tft_dataset *d,
                       int i, int fit_len, struct pseries *s)
{
    memset(s, 0, sizeof *s);
    int len = d->len[i];
    size_t N = (size_t)d->n_steps, row = (size_t)i * N;
    s->len = len;
    s->y = malloc((size_t)(len + 1) * sizeof(double));
    s->pc = malloc(((size_t)len * (size_t)m->n_past + 1) * sizeof(double));
    s->fc = malloc(((size_t)(len + 1) * (size_t)m->n_future + 1) * sizeof(double));
    if (!s->y || !s->pc || !s->fc) {
        pseries_release(s);
        return BASED_E_NOMEM;
    }
    tft_series_scaling(d, i, fit_len, &s->mean, &s->sd);
    for (int t = 0; t < len; t++)
        s->y[t] = zscore(d->target[row + (size_t)t], s->mean, s->sd);
    s->y[len] = 0;
    for (int t = 0; t < len; t++)
        for (int j = 0; j < m->n_past; j++) {
            size_t at = (size_t)t * (size_t)m->n_past + (size_t)j;
            s->pc[at] = zscore(d->past[row * (size_t)m->n_past + at],
                               m->past_mu[j], m->past_sd[j]);
        }
    for (int t = 0; t <= len; t++)
        for (int j = 0; j < m->n_future; j++) {
            int tt = t < len ? t : len - 1;
            size_t at = (size_t)tt * (size_t)m->n_future + (size_t)j;
            s->fc[(size_t)t * (size_t)m->n_future + (size_t)j] =
                zscore(d->future[row * (size_t)m->n_future + at], m->fut_mu[j], m->fut_sd[j]);
        }
    for (int j = 0; j < m->n_static; j++)
        s->st[j] = zscore(d->stat[(size_t)i * (size_t)m->n_static + (size_t)j],
                          m->stat_mu[j], m->stat_sd[j]);
    s->st[m->n_static] = zscore(s->mean, m->stat_mu[m->n_static], m->stat_sd[m->n_static]);
    s->st[m->n_static + 1] = zscore(s->sd, m->stat_mu[m->n_static + 1],
                                    m->stat_sd[m->n_static + 1]);
    return BASED_E_OK;
}

void pseries_release(struct pseries *s)
{
    free(s->y);
    free(s->pc);
    free(s->fc);
    s->y = s->pc = s->fc = NULL;
}

/* Runs the whole-series forward; the caller reads nodes off the tape. */
static based_err run_series(const struct tft_model *m, const struct tft_dataset *d,
                            int i, int fit_len, struct tape *tp, struct pseries *s,
                            struct series_fwd *f, int *lo, int *hi)
{
    if (!m || !d || i < 0 || i >= d->n_series || fit_len < 1 ||
        d->n_static != m->n_static || d->n_past != m->n_past ||
        d->n_future != m->n_future)
        return BASED_E_BAD_PARAM;
    based_err e = pseries_make(m, d, i, fit_len, s);
    if (e != BASED_E_OK)
        return e;
    *lo = tft_window_start(m, fit_len);
    *hi = s->len;
    int n = *hi - *lo > 0 ? *hi - *lo : 0;
    f->q = calloc((size_t)n * 4 + 1, sizeof(int));
    if (!f->q) {
        pseries_release(s);
        return BASED_E_NOMEM;
    }
    f->attn = f->q + n;
    f->wp = f->attn + n;
    f->wf = f->wp + n;
    tape_init(tp);
    tape_reset(tp, m->P, NULL);
    if (n > 0)
        series_forward(tp, m, s, *lo, *lo, *hi, false, f);
    if (tp->fail) {
        tape_release(tp);
        free(f->q);
        pseries_release(s);
        return BASED_E_NOMEM;
    }
    return BASED_E_OK;
}

based_err tft_forecast_series(const struct tft_model *m, const struct tft_dataset *d,
                              int i, int fit_len, double *out)
{
    struct tape tp;
    struct pseries s;
    struct series_fwd f;
    int lo, hi;
    based_err e = run_series(m, d, i, fit_len, &tp, &s, &f, &lo, &hi);
    if (e != BASED_E_OK)
        return e;
    memset(out, 0, (size_t)s.len * 3 * sizeof(double));
    double esum = 1.0;          /* scale_z() kept incrementally, same ops */
    struct tft_guard g;
    guard_init(&g);
    for (int t = lo; t < hi; t++) {
        double q[3], qg[3];
        quantiles_out(m, tape_val(&tp, f.q[t - lo]), q);
        if (t > lo)
            esum += clip_err(s.y[t] - base_z(m, s.y, lo, t - 1), esum / (double)(t - lo));
        double b = base_z(m, s.y, lo, t);
        double r = (m->cfg.ablate & TFT_NO_BASE) ? 1.0 : esum / (double)(1 + t - lo);
        guard_apply(q, guard_choice(m, &g), qg);
        for (int j = 0; j < 3; j++)
            out[(size_t)t * 3 + (size_t)j] = s.mean + s.sd * (b + r * qg[j]);
        if (t + 1 < hi)         /* origin t scored on y[t + 1] */
            guard_update(m, &g, q, b, r, s.y[t + 1]);
    }
    tape_release(&tp);
    free(f.q);
    pseries_release(&s);
    return BASED_E_OK;
}

based_err tft_explain_series(const struct tft_model *m, const struct tft_dataset *d,
                             int i, int fit_len, int from, struct tft_explain *ex)
{
    struct tape tp;
    struct pseries s;
    struct series_fwd f;
    int lo, hi;
    based_err e = run_series(m, d, i, fit_len, &tp, &s, &f, &lo, &hi);
    if (e != BASED_E_OK)
        return e;
    memset(ex, 0, sizeof *ex);
    ex->n_static = m->ms;
    ex->n_past = m->mp;
    ex->n_future = m->mf;
    ex->k = m->cfg.k;
    const double *ws = tape_val(&tp, f.cx.ws);
    for (int j = 0; j < m->ms; j++)
        ex->static_w[j] = ws[j];
    for (int t = from > lo ? from : lo; t < hi; t++) {
        const double *wp = tape_val(&tp, f.wp[t - lo]), *wf = tape_val(&tp, f.wf[t - lo]);
        for (int j = 0; j < m->mp; j++)
            ex->past_w[j] += wp[j];
        for (int j = 0; j < m->mf; j++)
            ex->future_w[j] += wf[j];
        if (f.attn[t - lo] >= 0) {
            int L = tape_len(&tp, f.attn[t - lo]);
            const double *a = tape_val(&tp, f.attn[t - lo]);
            for (int j = 0; j < L; j++)
                ex->attn[j] += a[L - 1 - j];        /* lag j */
        }
        ex->count++;
    }
    if (ex->count > 0) {
        for (int j = 0; j < m->mp; j++) ex->past_w[j] /= ex->count;
        for (int j = 0; j < m->mf; j++) ex->future_w[j] /= ex->count;
        for (int j = 0; j <= m->cfg.k; j++) ex->attn[j] /= ex->count;
    }
    tape_release(&tp);
    free(f.q);
    pseries_release(&s);
    return BASED_E_OK;
}
