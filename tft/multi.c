/*
 * multi.c: multi-step forecasts (h = 1..H steps past the data) on top of
 * the one-step model, by the public incremental API only (tft_state_*).
 *
 * Method (recursive, docs/tft.md "Multi-step forecasts"): a state is fed
 * the series from its forecast window's start, exactly as
 * tft_forecast_series does, so step 1 is the one-step forecast bit for
 * bit. For h >= 2 the state is advanced with the previous step's P50 as
 * if it had been observed (past covariates held at the last observed
 * row's; known-future covariates as given, else the last row's), and
 * forecast again. The offsets a recursive step reports only describe that
 * step's own one-step uncertainty (its inputs are treated as known), so
 * they are widened: with d_j the lower (P50 - P10) or upper (P90 - P50)
 * offset of step j, step h uses sqrt(d_1^2 + ... + d_h^2): independent
 * one-step errors that each persist into every later step (a random walk;
 * a constant offset d grows as d sqrt(h)). Quantiles never cross: P50
 * minus / plus non-negative offsets.
 *
 * Determinism: IEEE double basic operations and tft_sqrt only, one fixed
 * loop order, no libm.
 */
#include "tft/model.h"
#include "chain/base.h"

/* Checks the arguments; the forecast window is [*lo, len). */
static based_err multi_check(const struct tft_model *m, const struct tft_dataset *d, int i,
                             int fit_len, int horizon, int *lo)
{
    if (!m || !d || i < 0 || i >= d->n_series || fit_len < 1 || horizon < 1 ||
        horizon > TFT_MAX_HORIZON || d->n_static != m->n_static || d->n_past != m->n_past ||
        d->n_future != m->n_future)
        return BASED_E_BAD_PARAM;
    *lo = tft_window_start(m, fit_len);
    return *lo < d->len[i] ? BASED_E_OK : BASED_E_BAD_PARAM;
}

/* Feeds steps [lo, len) of series i into a new state. */
static based_err multi_feed(const struct tft_model *m, const struct tft_dataset *d, int i,
                            int fit_len, int lo, struct tft_state **out)
{
    double mean, sd;
    size_t N = (size_t)d->n_steps, row = (size_t)i * N;
    *out = NULL;
    tft_series_scaling(d, i, fit_len, &mean, &sd);
    struct tft_state *s = tft_state_new(m, d->stat + (size_t)i * (size_t)d->n_static, mean, sd);
    if (!s)
        return BASED_E_NOMEM;
    for (int t = lo; t < d->len[i]; t++) {
        size_t at = row + (size_t)t;
        based_err e = tft_state_advance(s, d->target[at], d->past + at * (size_t)d->n_past,
                                        d->future + at * (size_t)d->n_future);
        if (e != BASED_E_OK) {
            tft_state_free(s);
            return e;
        }
    }
    *out = s;
    return BASED_E_OK;
}

based_err tft_forecast_multi(const struct tft_model *m, const struct tft_dataset *d, int i,
                             int fit_len, int horizon, const double *future, double *out)
{
    int lo;
    struct tft_state *s;
    based_err e = multi_check(m, d, i, fit_len, horizon, &lo);
    if (e != BASED_E_OK)
        return e;
    if ((e = multi_feed(m, d, i, fit_len, lo, &s)) != BASED_E_OK)
        return e;
    size_t last = (size_t)i * (size_t)d->n_steps + (size_t)d->len[i] - 1;
    const double *past_last = d->past + last * (size_t)d->n_past;
    const double *fut_last = d->future + last * (size_t)d->n_future;
    double sl = 0.0, su = 0.0;           /* running sums of squared offsets */
    for (int h = 0; h < horizon && e == BASED_E_OK; h++) {
        const double *fh = future ? future + (size_t)h * (size_t)d->n_future : fut_last;
        double q[3], *o = out + (size_t)h * 3;
        if (h > 0) {
            const double *fp = future ? future + (size_t)(h - 1) * (size_t)d->n_future : fut_last;
            e = tft_state_advance(s, out[(size_t)(h - 1) * 3 + 1], past_last, fp);
        }
        if (e == BASED_E_OK)
            e = tft_state_forecast(s, fh, q);
        if (e != BASED_E_OK)
            break;
        double dl = q[1] - q[0], du = q[2] - q[1];
        dl = dl > 0.0 ? dl : 0.0;
        du = du > 0.0 ? du : 0.0;
        sl += dl * dl;
        su += du * du;
        if (h == 0) {                    /* the one-step forecast itself */
            o[0] = q[0], o[1] = q[1], o[2] = q[2];
            continue;
        }
        o[1] = q[1];
        o[0] = q[1] - tft_sqrt(sl);
        o[2] = q[1] + tft_sqrt(su);
    }
    tft_state_free(s);
    return e;
}
