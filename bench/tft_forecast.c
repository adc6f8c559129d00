/*
 * tft_forecast: how fast the TFT Enforcer forecasts and trains.
 *
 * 1. Per-epoch forecast of a full Brain: 1792 miner series, each with an
 *    incremental state already advanced through 60 epochs; timed: advance
 *    every state by one observed epoch and forecast the next (P10/P50/P90),
 *    on one core. Bar: under 50 ms. Baseline in the same process: the same
 *    forecasts recomputed from the whole window (tft_forecast_series), for
 *    64 series, scaled to 1792.
 * 2. The per-epoch cost at 1024 Brains as a share of an epoch's wall time
 *    (tempo 99 blocks x 10 s).
 * 2b. Rebuilding 256 states over HIST values (what a new model or a cache
 *    miss costs) with the per-series guard (format 5: one more decoder
 *    step per value fed) against the same with the guard off.
 * 3. Training of the reference configuration: seconds per epoch on the
 *    128 x 240 synthetic set (3 epochs timed), one thread.
 */
#include <time.h>

#include "tft/model.h"
#include "chain/base.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define NS 1792
#define HIST 60

int main(void)
{
    struct tft_config c;
    tft_config_default(&c);
    struct tft_gen_opts g = { NS, HIST + 2, 5 };
    struct tft_dataset *d = tft_gen_synthetic(&g);
    struct tft_model *m = d ? tft_model_new(&c, d->n_static, d->n_past, d->n_future) : NULL;
    struct tft_state **st = calloc(NS, sizeof *st);
    if (!m || !st) {
        fprintf(stderr, "tft_forecast: setup failed\n");
        return 1;
    }
    int T = d->n_steps;
    for (int i = 0; i < NS; i++) {
        double mean, sd;
        tft_series_scaling(d, i, HIST, &mean, &sd);
        st[i] = tft_state_new(m, d->stat + (size_t)i * 2, mean, sd);
        for (int t = 0; t < HIST; t++) {
            size_t at = (size_t)i * (size_t)T + (size_t)t;
            tft_state_advance(st[i], d->target[at], d->past + at, d->future + at * 2);
        }
    }
    double q[3], sink = 0, best = 1e9;
    for (int rep = 0; rep < 3; rep++) {          /* each rep advances one more epoch */
        double t0 = now();
        for (int i = 0; i < NS; i++) {
            size_t at = (size_t)i * (size_t)T + (size_t)(HIST + (rep > 0));
            if (rep > 0)
                tft_state_advance(st[i], d->target[at - 1], d->past + at - 1, d->future + (at - 1) * 2);
            tft_state_forecast(st[i], d->future + at * 2, q);
            sink += q[1];
        }
        double dt = now() - t0;
        best = dt < best ? dt : best;
    }
    double *out = malloc(((size_t)T + 1) * 3 * sizeof(double));
    double t0 = now();
    for (int i = 0; i < 64; i++) {
        tft_forecast_series(m, d, i, HIST, out);
        sink += out[3 * HIST];
    }
    double full = (now() - t0) * NS / 64.0;
    printf("params %zu (d %d, heads %d, k %d)\n", tft_model_nparams(m), c.d, c.heads, c.k);
    printf("forecast 1792 series (advance 1 epoch + P10/P50/P90): %.1f ms  [bar 50 ms: %s]\n",
           best * 1e3, best < 0.050 ? "ok" : "MISSED");
    printf("baseline, whole-window recompute of %d steps: %.1f ms  ratio %.1fx\n",
           HIST, full * 1e3, full / best);
    double brains = best * 1024.0;
    printf("1024 Brains x 1792 miners per epoch: %.1f s = %.2f %% of an epoch (99 blocks x 10 s)\n",
           brains, 100.0 * brains / 990.0);
    /* rebuilds: guard on vs off, same process */
    double rb[2];
    for (int on = 1; on >= 0; on--) {
        m->guard = on;
        double b0 = 1e9;
        for (int rep = 0; rep < 3; rep++) {
            double t1 = now();
            for (int i = 0; i < 256; i++) {
                double mean, sd;
                tft_series_scaling(d, i, HIST, &mean, &sd);
                struct tft_state *s = tft_state_new(m, d->stat + (size_t)i * 2, mean, sd);
                for (int t = 0; s && t < HIST; t++) {
                    size_t at = (size_t)i * (size_t)T + (size_t)t;
                    tft_state_advance(s, d->target[at], d->past + at, d->future + at * 2);
                }
                tft_state_forecast(s, d->future + ((size_t)i * (size_t)T + HIST) * 2, q);
                sink += q[1];
                tft_state_free(s);
            }
            double dt = now() - t1;
            b0 = dt < b0 ? dt : b0;
        }
        rb[on] = b0;
    }
    m->guard = 1;
    printf("rebuild 256 states over %d values: guard on %.1f ms, off %.1f ms  ratio %.2fx\n",
           HIST, rb[1] * 1e3, rb[0] * 1e3, rb[1] / rb[0]);
    /* training */
    struct tft_gen_opts g2 = { 128, 240, 42 };
    struct tft_dataset *d2 = tft_gen_synthetic(&g2);
    struct tft_config c2 = c;
    c2.epochs = 3;
    c2.patience = 100;
    struct tft_model *m2 = d2 ? tft_model_new(&c2, d2->n_static, d2->n_past, d2->n_future) : NULL;
    t0 = now();
    if (!m2 || tft_train(m2, d2, NULL, NULL, NULL) != BASED_E_OK) {
        fprintf(stderr, "tft_forecast: training failed\n");
        return 1;
    }
    double ep = (now() - t0) / 3.0;
    printf("training, reference config on 128 x 240 synthetic: %.2f s per epoch "
           "(one thread; at most %d epochs = %.1f min)\n", ep, c.epochs, ep * c.epochs / 60.0);
    if (sink != sink)
        printf("(nan)\n");
    for (int i = 0; i < NS; i++)
        tft_state_free(st[i]);
    free(st);
    free(out);
    tft_model_free(m);
    tft_model_free(m2);
    tft_dataset_free(d);
    tft_dataset_free(d2);
    return 0;
}
