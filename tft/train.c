/*
 * train.c: fitting a TFT. Z-scoring statistics come from the training
 * steps only. Each epoch visits the series in a seeded shuffled order, in
 * mini-batches of cfg.batch series; a series contributes the summed
 * pinball loss (q = 0.1, 0.5, 0.9) of its one-step forecasts at the scored
 * origins. The batch gradient (sum over series in batch order, divided by
 * the scored count) is clipped to global norm cfg.clip and applied by
 * Adam. After every epoch the loss on the held-out tail (the last
 * cfg.valid fitted steps of every series) decides early stopping; the best
 * epoch's parameters are kept. Finally two constants are fitted on that
 * tail (tail_fit): shrink, how far P50 is pulled toward the seasonal-naive
 * base (0 to 0.5), chosen to minimise the worst series' loss relative to
 * seasonal naive on the tail; and qscale, the factor on the P10/P90
 * offsets, the smallest value on a fixed grid whose held-out coverage of
 * [P10, P90] reaches 82 % (margin: the tail also chose the stopping
 * epoch). Loss and calibration are on (y - base) / scale (forward.c:
 * base_z, scale_z).
 * One thread, fixed order: bit-exact.
 */
#include "tft/model.h"
#include "chain/base.h"

static const double QS[3] = { 0.1, 0.5, 0.9 };

/* Pinball loss of forecast f (3 quantiles) for y; gradient into g. */
static double pinball(const double *f, double y, double *g)
{
    double loss = 0;
    for (int j = 0; j < 3; j++) {
        double e = y - f[j];
        if (e > 0) {
            loss += QS[j] * e;
            g[j] = -QS[j];
        } else {
            loss += (QS[j] - 1.0) * e;
            g[j] = e < 0 ? 1.0 - QS[j] : 0.0;
        }
    }
    return loss;
}

static void mean_sd(const double *x, size_t n, size_t stride, double *mu, double *sd)
{
    double s = 0, v = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i * stride];
    s = n ? s / (double)n : 0;
    for (size_t i = 0; i < n; i++)
        v += (x[i * stride] - s) * (x[i * stride] - s);
    v = n > 1 ? v / (double)(n - 1) : 0;
    double r = tft_sqrt(v);
    *mu = s;
    *sd = r > 1e-9 ? r : 1.0;
}

static based_err fit_norms(struct tft_model *m, const struct tft_dataset *d, const int *fit)
{
    size_t rows = 0;
    for (int i = 0; i < d->n_series; i++)
        rows += (size_t)fit[i];
    size_t nb = rows > (size_t)d->n_series ? rows : (size_t)d->n_series;
    double *buf = malloc((nb + 1) * sizeof(double));
    if (!buf)
        return BASED_E_NOMEM;
    for (int j = 0; j < m->n_past + m->n_future; j++) {
        bool past = j < m->n_past;
        int jj = past ? j : j - m->n_past, w = past ? m->n_past : m->n_future;
        const double *src = past ? d->past : d->future;
        size_t n = 0;
        for (int i = 0; i < d->n_series; i++)
            for (int t = 0; t < fit[i]; t++)
                buf[n++] = src[((size_t)i * (size_t)d->n_steps + (size_t)t) * (size_t)w + (size_t)jj];
        if (past)
            mean_sd(buf, n, 1, &m->past_mu[jj], &m->past_sd[jj]);
        else
            mean_sd(buf, n, 1, &m->fut_mu[jj], &m->fut_sd[jj]);
    }
    for (int j = 0; j < m->ms; j++) {
        for (int i = 0; i < d->n_series; i++) {
            double mu, sd;
            if (j < m->n_static) {
                buf[i] = d->stat[(size_t)i * (size_t)m->n_static + (size_t)j];
                continue;
            }
            tft_series_scaling(d, i, fit[i], &mu, &sd);
            buf[i] = j == m->n_static ? mu : sd;
        }
        mean_sd(buf, (size_t)d->n_series, 1, &m->stat_mu[j], &m->stat_sd[j]);
    }
    free(buf);
    return BASED_E_OK;
}

struct trainer {
    struct tft_model *m;
    const struct tft_dataset *d;
    const int *fit;
    struct pseries *ps;
    struct tape tp;
    double *G, *am, *av, *best;
    int *order;
    struct series_fwd f;
    int fcap;
    double b1t, b2t;
    int step;
};

static bool ensure_f(struct trainer *T, int n)
{
    if (n <= T->fcap)
        return true;
    int *q = realloc(T->f.q, (size_t)n * 4 * sizeof(int));
    if (!q)
        return false;
    T->f.q = q;
    T->f.attn = q + n;
    T->f.wp = q + 2 * n;
    T->f.wf = q + 3 * n;
    T->fcap = n;
    return true;
}

/* Scored origins of series i: train [lo, mid), validation [mid, hi). */
static void origins(const struct trainer *T, int i, int *start, int *lo, int *mid, int *hi)
{
    const struct tft_config *c = &T->m->cfg;
    int fit = T->fit[i];
    *start = tft_window_start(T->m, fit);
    *hi = fit - 1;
    *mid = fit - 1 - c->valid;
    *lo = *start + c->warmup;
    if (*mid < *lo)
        *mid = *lo;
    if (*hi < *mid)
        *hi = *mid;
}

/* Forward (and backward when G) over origins [a, b) of series i; returns
 * the summed loss, adds the count to *cnt. */
static double run(struct trainer *T, int i, int a, int b, bool train, long *cnt)
{
    int start, lo, mid, hi;
    origins(T, i, &start, &lo, &mid, &hi);
    if (b <= a)
        return 0;
    if (!ensure_f(T, b - a)) {
        T->tp.fail = true;
        return 0;
    }
    tape_reset(&T->tp, T->m->P, train ? T->G : NULL);
    series_forward(&T->tp, T->m, &T->ps[i], start, a, b, train, &T->f);
    if (T->tp.fail)
        return 0;
    double loss = 0, g[3];
    for (int t = a; t < b; t++) {
        const double *y = T->ps[i].y;
        double yt = (y[t + 1] - base_z(T->m, y, start, t)) / scale_z(T->m, y, start, t);
        loss += pinball(tape_val(&T->tp, T->f.q[t - a]), yt, g);
        if (train)
            tape_seed(&T->tp, T->f.q[t - a], g);
    }
    if (train)
        tape_backward(&T->tp);
    *cnt += b - a;
    return loss;
}

static void adam(struct trainer *T, long cnt)
{
    const struct tft_config *c = &T->m->cfg;
    int n = T->m->np;
    double nrm = 0, inv = cnt > 0 ? 1.0 / (double)cnt : 0;
    for (int j = 0; j < n; j++) {
        T->G[j] *= inv;
        nrm += T->G[j] * T->G[j];
    }
    nrm = tft_sqrt(nrm);
    double sc = nrm > c->clip ? c->clip / nrm : 1.0;
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    T->b1t *= b1;
    T->b2t *= b2;
    for (int j = 0; j < n; j++) {
        double g = T->G[j] * sc;
        T->am[j] = b1 * T->am[j] + (1 - b1) * g;
        T->av[j] = b2 * T->av[j] + (1 - b2) * g * g;
        double mh = T->am[j] / (1 - T->b1t), vh = T->av[j] / (1 - T->b2t);
        T->m->P[j] -= c->lr * mh / (tft_sqrt(vh) + eps);
    }
}

static double epoch(struct trainer *T, uint64_t *rng)
{
    int N = T->d->n_series, B = T->m->cfg.batch;
    for (int i = N - 1; i > 0; i--) {
        int j = (int)(tft_rng_next(rng) % (uint64_t)(i + 1));
        int x = T->order[i];
        T->order[i] = T->order[j];
        T->order[j] = x;
    }
    double tot = 0;
    long tcnt = 0;
    for (int b0 = 0; b0 < N; b0 += B) {
        long cnt = 0;
        memset(T->G, 0, (size_t)T->m->np * sizeof(double));
        for (int b = b0; b < b0 + B && b < N; b++) {
            int i = T->order[b], start, lo, mid, hi;
            origins(T, i, &start, &lo, &mid, &hi);
            tot += run(T, i, lo, mid, true, &cnt);
        }
        if (T->tp.fail)
            return -1;
        if (cnt > 0)
            adam(T, cnt);
        tcnt += cnt;
    }
    return tcnt ? tot / (double)tcnt : 0;
}

static double validate(struct trainer *T)
{
    double tot = 0;
    long cnt = 0;
    for (int i = 0; i < T->d->n_series; i++) {
        int start, lo, mid, hi;
        origins(T, i, &start, &lo, &mid, &hi);
        tot += run(T, i, mid, hi, false, &cnt);
    }
    return cnt ? tot / (double)cnt : 0;
}

/* Keys are finite and never -0 (naive_quantiles adds +0), so equal keys
 * are equal bits and the sorted array is the same whatever qsort does. */
static int cmp_double(const void *pa, const void *pb)
{
    double x = *(const double *)pa, y = *(const double *)pb;
    return (x > y) - (x < y);
}

/* Seasonal naive's 10/50/90 % residual quantiles (linear interpolation)
 * over the steps u in [S, end) of z-scored y; 0 when there are none. */
static void naive_quantiles(const double *y, int S, int end, double *buf, double q[3])
{
    int n = 0;
    for (int u = S; u < end; u++)
        buf[n++] = (y[u] - y[u - S]) + 0.0;            /* -0 -> +0 */
    for (int j = 0; j < 3; j++)
        q[j] = 0;
    if (n == 0)
        return;
    qsort(buf, (size_t)n, sizeof *buf, cmp_double);
    for (int j = 0; j < 3; j++) {
        double h = (double)(n - 1) * QS[j];
        int lo = (int)h, hi = lo + 1 < n ? lo + 1 : lo;
        q[j] = buf[lo] + (h - (double)lo) * (buf[hi] - buf[lo]);
    }
}

double tail_fit(const struct tail_pt *p, const int *first, int ns, bool fit_shrink,
                double *shrink, double *qscale)
{
    enum { NQ = 176, NL = 11 };
    double best = -1;
    int n = first[ns];
    *shrink = 0;
    *qscale = n > 0 ? 4.0 : 1.0;
    for (int l = 0; l < (fit_shrink ? NL : 1); l++) {
        double lam = 0.05 * l, qs = 4.0, worst = 0, q[3], g[3];
        long hits[NQ];
        memset(hits, 0, sizeof hits);
        for (int k = 0; k < n; k++) {
            double u = (p[k].y - p[k].b) / p[k].r;
            for (int s = 0; s < NQ; s++) {
                quantiles_with(p[k].z, lam, 0.5 + 0.02 * s, q);
                hits[s] += u >= q[0] && u <= q[2];
            }
        }
        for (int s = 0; s < NQ; s++)
            if (50 * hits[s] >= 41 * (long)n) {
                qs = 0.5 + 0.02 * s;
                break;
            }
        for (int i = 0; i < ns; i++) {
            double lt = 0, ln = 0;
            for (int k = first[i]; k < first[i + 1]; k++) {
                double f[3];
                quantiles_with(p[k].z, lam, qs, q);
                for (int j = 0; j < 3; j++)
                    f[j] = p[k].b + p[k].r * q[j];
                lt += pinball(f, p[k].y, g);
                ln += pinball(p[k].nv, p[k].y, g);
            }
            if (ln > 0 && lt / ln > worst)
                worst = lt / ln;
        }
        if (n > 0 && (best < 0 || worst < best)) {
            best = worst;
            *shrink = lam;
            *qscale = qs;
        }
    }
    return best > 0 ? best : 0;
}

/* Collects the held-out tail's points (forecasts with the trained weights,
 * seasonal naive with residual quantiles from the fitted steps before the
 * tail) and fits shrink and qscale on them (tail_fit). */
static based_err calibrate(struct trainer *T, struct tft_train_report *r)
{
    int N = T->d->n_series, S = T->m->season, *first = malloc(((size_t)N + 1) * sizeof(int));
    size_t cap = 1, total = 0;
    for (int i = 0; i < N; i++) {
        int start, lo, mid, hi;
        origins(T, i, &start, &lo, &mid, &hi);
        total += (size_t)(hi - mid);
        cap = (size_t)T->fit[i] > cap ? (size_t)T->fit[i] : cap;
    }
    struct tail_pt *p = malloc((total + 1) * sizeof *p);
    double *buf = malloc(cap * sizeof(double));
    if (!first || !p || !buf) {
        free(first);
        free(p);
        free(buf);
        return BASED_E_NOMEM;
    }
    int n = 0;
    for (int i = 0; i < N; i++) {
        int start, lo, mid, hi;
        long cnt = 0;
        first[i] = n;
        origins(T, i, &start, &lo, &mid, &hi);
        run(T, i, mid, hi, false, &cnt);
        if (T->tp.fail)
            break;
        const double *y = T->ps[i].y;
        double nq[3];
        naive_quantiles(y, S, mid + 1, buf, nq);
        for (int t = mid; t < hi; t++, n++) {
            memcpy(p[n].z, tape_val(&T->tp, T->f.q[t - mid]), sizeof p[n].z);
            p[n].y = y[t + 1];
            p[n].b = base_z(T->m, y, start, t);
            p[n].r = scale_z(T->m, y, start, t);
            for (int j = 0; j < 3; j++)
                p[n].nv[j] = (t + 1 - S >= 0 ? y[t + 1 - S] : y[t]) + nq[j];
        }
    }
    first[N] = n;
    if (!T->tp.fail)
        r->tail_worst = tail_fit(p, first, N, !(T->m->cfg.ablate & TFT_NO_BASE),
                                 &T->m->shrink, &T->m->qscale);
    r->shrink = T->m->shrink;
    r->qscale = T->m->qscale;
    free(first);
    free(p);
    free(buf);
    return T->tp.fail ? BASED_E_NOMEM : BASED_E_OK;
}

static void trainer_release(struct trainer *T)
{
    if (T->ps)
        for (int i = 0; i < T->d->n_series; i++)
            pseries_release(&T->ps[i]);
    free(T->ps);
    free(T->G);
    free(T->order);
    free(T->f.q);
    tape_release(&T->tp);
}

static based_err trainer_init(struct trainer *T, struct tft_model *m,
                              const struct tft_dataset *d, const int *fit)
{
    memset(T, 0, sizeof *T);
    T->m = m;
    T->d = d;
    T->fit = fit;
    size_t n = (size_t)m->np;
    T->G = calloc(4 * n, sizeof(double));
    T->order = malloc((size_t)d->n_series * sizeof(int));
    T->ps = calloc((size_t)d->n_series, sizeof *T->ps);
    if (!T->G || !T->order || !T->ps)
        return BASED_E_NOMEM;
    T->am = T->G + n;
    T->av = T->am + n;
    T->best = T->av + n;
    T->b1t = T->b2t = 1.0;
    tape_init(&T->tp);
    T->tp.rng = m->cfg.seed ^ 0x64726f706f7574ull;   /* "dropout" */
    for (int i = 0; i < d->n_series; i++) {
        T->order[i] = i;
        based_err e = pseries_make(m, d, i, fit[i], &T->ps[i]);
        if (e != BASED_E_OK)
            return e;
    }
    return BASED_E_OK;
}

based_err tft_train(struct tft_model *m, const struct tft_dataset *d,
                    const int *fit_len, struct tft_train_report *rep, FILE *log)
{
    if (!m || !d || d->n_static != m->n_static || d->n_past != m->n_past ||
        d->n_future != m->n_future || d->n_series < 1)
        return BASED_E_BAD_PARAM;
    int *fit = malloc((size_t)d->n_series * sizeof(int));
    if (!fit)
        return BASED_E_NOMEM;
    for (int i = 0; i < d->n_series; i++) {
        fit[i] = fit_len ? fit_len[i] : d->len[i];
        if (fit[i] > d->len[i] || fit[i] < 2) {
            free(fit);
            return BASED_E_BAD_PARAM;
        }
    }
    struct trainer T;
    m->season = m->cfg.season > 0 ? m->cfg.season : tft_detect_season(d, fit, 28);
    based_err e = fit_norms(m, d, fit);
    if (e == BASED_E_OK)
        e = trainer_init(&T, m, d, fit);
    else
        memset(&T, 0, sizeof T);
    struct tft_train_report r = { 0, 0, 1e300, 0, 1.0, 0.0, 0.0 };
    uint64_t rng = m->cfg.seed ^ 0x73687566666c65ull;       /* "shuffle" */
    int since = 0;
    for (int ep = 1; e == BASED_E_OK && ep <= m->cfg.epochs; ep++) {
        double tl = epoch(&T, &rng), vl = validate(&T);
        if (T.tp.fail) {
            e = BASED_E_NOMEM;
            break;
        }
        r.epochs_run = ep;
        r.last_train_loss = tl;
        if (log)
            fprintf(log, "epoch %3d  train %.5f  valid %.5f\n", ep, tl, vl);
        if (vl < r.best_valid_loss - 1e-6) {
            r.best_valid_loss = vl;
            r.best_epoch = ep;
            memcpy(T.best, m->P, (size_t)m->np * sizeof(double));
            since = 0;
        } else if (++since >= m->cfg.patience) {
            break;
        }
    }
    if (e == BASED_E_OK && r.best_epoch > 0)
        memcpy(m->P, T.best, (size_t)m->np * sizeof(double));
    if (e == BASED_E_OK && m->cfg.epochs == 0)
        r.best_valid_loss = validate(&T);
    if (e == BASED_E_OK)
        e = calibrate(&T, &r);
    if (T.d)
        trainer_release(&T);
    free(fit);
    if (rep)
        *rep = r;
    return e;
}
