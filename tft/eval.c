/*
 * eval.c: rolling-origin evaluation of the TFT against two baselines on
 * the same points. Each series is cut into a fitted part (all but its last
 * `horizon` steps) and a held-out tail; every held-out step is forecast
 * one step ahead from the values before it. Baselines, fitted on the
 * fitted part: seasonal naive (y[t+1-S]) and simple exponential smoothing
 * (alpha by grid search on one-step squared error), each with the
 * empirical 10/50/90 % quantiles of its in-sample one-step residuals added
 * to its point forecast. Scaled quantile loss (SQL) of a series = mean over
 * points and q in {0.1, 0.5, 0.9} of 2 x pinball, divided by the in-sample
 * MAE of the one-step naive forecast; pooled = mean over series.
 */
#include "tft/tft.h"
#include "chain/base.h"

static const double QS[3] = { 0.1, 0.5, 0.9 };

static double absd(double x) { return x < 0 ? -x : x; }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Empirical quantiles (linear interpolation) of r[n], sorted in place. */
static void quantiles(double *r, int n, double out[3])
{
    if (n <= 0) {
        out[0] = out[1] = out[2] = 0;
        return;
    }
    qsort(r, (size_t)n, sizeof *r, cmp_double);
    for (int j = 0; j < 3; j++) {
        double h = (n - 1) * QS[j];
        int lo = (int)h;
        int hi = lo + 1 < n ? lo + 1 : lo;
        out[j] = r[lo] + (h - lo) * (r[hi] - r[lo]);
    }
}

static double qloss(const double *f, double y)
{
    double s = 0;
    for (int j = 0; j < 3; j++) {
        double e = y - f[j];
        s += 2.0 * (e > 0 ? QS[j] * e : (QS[j] - 1.0) * e);
    }
    return s / 3.0;
}

int tft_detect_season(const struct tft_dataset *d, const int *fit, int max_lag)
{
    double best = 0.1;
    int season = 1;
    for (int lag = 2; lag <= max_lag; lag++) {
        double acc = 0;
        int used = 0;
        for (int i = 0; i < d->n_series; i++) {
            const double *y = d->target + (size_t)i * (size_t)d->n_steps;
            int n = fit ? fit[i] : d->len[i];
            if (n < 3 * lag + 2)
                continue;
            double mu = 0, num = 0, den = 0;
            for (int t = 1; t < n; t++)
                mu += y[t] - y[t - 1];
            mu /= n - 1;
            for (int t = 1; t < n; t++) {
                double x = y[t] - y[t - 1] - mu;
                den += x * x;
                if (t - lag >= 1)
                    num += x * (y[t - lag] - y[t - lag - 1] - mu);
            }
            if (den > 0) {
                acc += num / den;
                used++;
            }
        }
        if (used > 0 && acc / used > best) {
            best = acc / used;
            season = lag;
        }
    }
    return season;
}

/* Seasonal naive and SES forecasts for the held-out tail of series i. */
static void baselines(const double *y, int fit, int len, int S, double *fn, double *fe)
{
    int H = len - fit, nr = 0;
    double *r = malloc((size_t)(fit + 1) * sizeof(double)), q[3];
    if (!r)
        return;
    for (int t = S; t < fit; t++)
        r[nr++] = y[t] - y[t - S];
    quantiles(r, nr, q);
    for (int h = 0; h < H; h++) {
        int t = fit + h;
        double p = t - S >= 0 ? y[t - S] : y[fit - 1];
        for (int j = 0; j < 3; j++)
            fn[h * 3 + j] = p + q[j];
    }
    /* SES: alpha on a grid, by one-step SSE over the fitted part */
    double best_a = 0.5, best = -1;
    for (int k = 1; k <= 20; k++) {
        double a = 0.05 * k, l = y[0], sse = 0;
        for (int t = 1; t < fit; t++) {
            double e = y[t] - l;
            sse += e * e;
            l = a * y[t] + (1 - a) * l;
        }
        if (best < 0 || sse < best) {
            best = sse;
            best_a = a;
        }
    }
    double l = y[0];
    nr = 0;
    for (int t = 1; t < fit; t++) {
        r[nr++] = y[t] - l;
        l = best_a * y[t] + (1 - best_a) * l;
    }
    quantiles(r, nr, q);
    for (int h = 0; h < H; h++) {
        for (int j = 0; j < 3; j++)
            fe[h * 3 + j] = l + q[j];
        l = best_a * y[fit + h] + (1 - best_a) * l;
    }
    free(r);
}

static double naive_scale(const double *y, int fit)
{
    double s = 0;
    for (int t = 1; t < fit; t++)
        s += absd(y[t] - y[t - 1]);
    s = fit > 1 ? s / (fit - 1) : 0;
    return s > 0 ? s : 1.0;
}

static based_err score(const struct tft_dataset *d, int H, int S, struct tft_eval *ev)
{
    int N = d->n_series;
    double *fn = malloc((size_t)H * 3 * sizeof(double));
    double *fe = malloc((size_t)H * 3 * sizeof(double));
    if (!fn || !fe) {
        free(fn);
        free(fe);
        return BASED_E_NOMEM;
    }
    double cover = 0;
    ev->worst_series_ratio_naive = 0;
    for (int i = 0; i < N; i++) {
        const double *y = d->target + (size_t)i * (size_t)d->n_steps;
        int len = d->len[i], fit = len - H;
        struct tft_series_eval *se = &ev->series[i];
        baselines(y, fit, len, S, fn, fe);
        double sc = naive_scale(y, fit), lt = 0, ln = 0, le = 0, cv = 0;
        for (int h = 0; h < H; h++) {
            const double *ft = ev->forecasts + ((size_t)i * (size_t)H + (size_t)h) * 3;
            double v = y[fit + h];
            lt += qloss(ft, v);
            ln += qloss(fn + h * 3, v);
            le += qloss(fe + h * 3, v);
            cv += (v >= ft[0] && v <= ft[2]) ? 1.0 : 0.0;
        }
        se->sql_tft = lt / H / sc;
        se->sql_naive = ln / H / sc;
        se->sql_ets = le / H / sc;
        se->ratio_naive = se->sql_naive > 0 ? se->sql_tft / se->sql_naive : 0;
        se->ratio_ets = se->sql_ets > 0 ? se->sql_tft / se->sql_ets : 0;
        se->coverage = cv / H;
        ev->sql_tft += se->sql_tft / N;
        ev->sql_naive += se->sql_naive / N;
        ev->sql_ets += se->sql_ets / N;
        cover += cv;
        if (se->ratio_naive > ev->worst_series_ratio_naive)
            ev->worst_series_ratio_naive = se->ratio_naive;
    }
    ev->coverage = cover / ((double)N * H);
    ev->ratio_naive = ev->sql_naive > 0 ? ev->sql_tft / ev->sql_naive : 0;
    ev->ratio_ets = ev->sql_ets > 0 ? ev->sql_tft / ev->sql_ets : 0;
    free(fn);
    free(fe);
    return BASED_E_OK;
}

based_err tft_evaluate(const struct tft_config *cfg, const struct tft_dataset *d,
                       int H, int season, struct tft_eval *ev,
                       struct tft_model **model_out, FILE *log)
{
    if (model_out)
        *model_out = NULL;
    if (!cfg || !d || !ev || H < 1 || season < 0)
        return BASED_E_BAD_PARAM;
    memset(ev, 0, sizeof *ev);
    int N = d->n_series, *fit = malloc((size_t)N * sizeof(int));
    if (!fit)
        return BASED_E_NOMEM;
    for (int i = 0; i < N; i++) {
        fit[i] = d->len[i] - H;
        if (fit[i] < cfg->valid + cfg->warmup + 4) {
            free(fit);
            return BASED_E_BAD_PARAM;
        }
    }
    ev->horizon = H;
    ev->n_series = N;
    ev->n_points = N * H;
    ev->season = season > 0 ? season : tft_detect_season(d, fit, 28);
    ev->series = calloc((size_t)N, sizeof *ev->series);
    ev->forecasts = calloc((size_t)N * (size_t)H * 3, sizeof(double));
    struct tft_config c = *cfg;
    c.season = ev->season <= 64 ? ev->season : 0;   /* the base uses the same S as naive */
    struct tft_model *m = tft_model_new(&c, d->n_static, d->n_past, d->n_future);
    double *out = malloc(((size_t)d->n_steps + 1) * 3 * sizeof(double));
    based_err e = (!ev->series || !ev->forecasts || !out) ? BASED_E_NOMEM
                : !m ? BASED_E_BAD_PARAM : BASED_E_OK;
    if (e == BASED_E_OK)
        e = tft_train(m, d, fit, &ev->train, log);
    for (int i = 0; e == BASED_E_OK && i < N; i++) {
        e = tft_forecast_series(m, d, i, fit[i], out);
        /* out[s] forecasts step s + 1: held-out step fit + h is out[fit + h - 1] */
        for (int h = 0; e == BASED_E_OK && h < H; h++)
            memcpy(ev->forecasts + ((size_t)i * (size_t)H + (size_t)h) * 3,
                   out + (size_t)(fit[i] + h - 1) * 3, 3 * sizeof(double));
    }
    if (e == BASED_E_OK)
        e = score(d, H, ev->season, ev);
    free(out);
    free(fit);
    if (e == BASED_E_OK && model_out)
        *model_out = m;
    else
        tft_model_free(m);
    if (e != BASED_E_OK)
        tft_eval_release(ev);
    return e;
}

void tft_eval_release(struct tft_eval *ev)
{
    if (!ev)
        return;
    free(ev->series);
    free(ev->forecasts);
    ev->series = NULL;
    ev->forecasts = NULL;
}
