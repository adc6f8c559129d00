/*
 * Tests of tft/multi.c (multi-step forecasts): step 1 is the one-step
 * forecast bit for bit; every later step equals an independent
 * recomputation by the whole-series path over the series extended with
 * the fed-back P50s, with offsets widened by the documented rule;
 * quantiles never cross and widen with h; results are deterministic;
 * bad arguments are refused.
 */
#include "tests/runner.h"
#include "tft/tft.h"

static struct tft_model *multi_model(struct tft_dataset **dout)
{
    struct tft_gen_opts g = { 4, 36, 21 };
    struct tft_config c;
    struct tft_dataset *d = tft_gen_synthetic(&g);
    tft_config_default(&c);
    c.d = 8, c.heads = 2, c.k = 3, c.epochs = 3, c.warmup = 2, c.valid = 3, c.seed = 5;
    c.max_len = 24;                      /* the window starts inside the series */
    struct tft_model *m = d ? tft_model_new(&c, d->n_static, d->n_past, d->n_future) : NULL;
    if (m && tft_train(m, d, NULL, NULL, NULL) != BASED_E_OK) {
        tft_model_free(m);
        m = NULL;
    }
    *dout = d;
    return m;
}

/* Series i of d plus `extra` rows: target y[j], past and future held at
 * the last row's. */
static struct tft_dataset *extended(const struct tft_dataset *d, int i, const double *y, int extra)
{
    int len = d->len[i], n = len + extra;
    struct tft_dataset *e = tft_dataset_new(1, n, d->n_static, d->n_past, d->n_future);
    if (!e)
        return NULL;
    size_t row = (size_t)i * (size_t)d->n_steps;
    for (int j = 0; j < d->n_static; j++)
        e->stat[j] = d->stat[(size_t)i * (size_t)d->n_static + (size_t)j];
    for (int t = 0; t < n; t++) {
        size_t src = row + (size_t)(t < len ? t : len - 1);
        e->target[t] = t < len ? d->target[src] : y[t - len];
        for (int j = 0; j < d->n_past; j++)
            e->past[(size_t)t * (size_t)d->n_past + (size_t)j] = d->past[src * (size_t)d->n_past + (size_t)j];
        for (int j = 0; j < d->n_future; j++)
            e->future[(size_t)t * (size_t)d->n_future + (size_t)j] =
                d->future[src * (size_t)d->n_future + (size_t)j];
    }
    return e;
}

TEST(tft_multi_step_one_equals_one_step_and_recursion_values)
{
    enum { H = 5 };
    struct tft_dataset *d;
    struct tft_model *m = multi_model(&d);
    CHECK(m != NULL);
    for (int i = 0; i < d->n_series; i++) {
        int len = d->len[i];
        double one[36 * 3], out[H * 3];
        CHECK(tft_forecast_series(m, d, i, len, one) == BASED_E_OK);
        CHECK(tft_forecast_multi(m, d, i, len, H, NULL, out) == BASED_E_OK);
        CHECK_EQ_MEM(out, one + (size_t)(len - 1) * 3, 3 * sizeof(double));
        /* step h by the whole-series path over the series + fed-back P50s */
        double y[H], sl = 0, su = 0;
        for (int h = 0; h < H; h++) {
            struct tft_dataset *e = extended(d, i, y, h);
            double w[(36 + H) * 3];
            CHECK(e != NULL);
            CHECK(tft_forecast_series(m, e, 0, len, w) == BASED_E_OK);
            const double *q = w + (size_t)(len + h - 1) * 3;
            double dl = q[1] - q[0], du = q[2] - q[1];
            CHECK(dl > 0 && du > 0);
            sl += dl * dl, su += du * du;
            CHECK(out[h * 3 + 1] == q[1]);
            if (h > 0) {
                CHECK(out[h * 3 + 0] == q[1] - tft_sqrt(sl));
                CHECK(out[h * 3 + 2] == q[1] + tft_sqrt(su));
                /* widening: never narrower than the step before */
                CHECK(out[h * 3 + 1] - out[h * 3] >= out[h * 3 - 2] - out[h * 3 - 3]);
                CHECK(out[h * 3 + 2] - out[h * 3 + 1] >= out[h * 3 - 1] - out[h * 3 - 2]);
            }
            CHECK(out[h * 3] < out[h * 3 + 1] && out[h * 3 + 1] < out[h * 3 + 2]);
            y[h] = out[h * 3 + 1];
            tft_dataset_free(e);
        }
    }
    tft_model_free(m);
    tft_dataset_free(d);
}

TEST(tft_multi_step_deterministic_and_checked)
{
    enum { H = 4 };
    struct tft_dataset *d, *d2;
    struct tft_model *m = multi_model(&d), *m2 = multi_model(&d2);
    CHECK(m && m2);
    double a[H * 3], b[H * 3], c[H * 3], fut[H * 2];
    CHECK(tft_forecast_multi(m, d, 2, d->len[2], H, NULL, a) == BASED_E_OK);
    CHECK(tft_forecast_multi(m2, d2, 2, d2->len[2], H, NULL, b) == BASED_E_OK);
    CHECK_EQ_MEM(a, b, sizeof a);            /* retrained from the same seed */
    CHECK(tft_forecast_multi(m, d, 2, d->len[2], H, NULL, b) == BASED_E_OK);
    CHECK_EQ_MEM(a, b, sizeof a);            /* no hidden state between calls */
    /* explicit future covariates equal to the last row's: the same bits */
    CHECK_EQ_INT(d->n_future, 2);
    size_t last = (size_t)2 * (size_t)d->n_steps + (size_t)d->len[2] - 1;
    for (int h = 0; h < H; h++)
        fut[h * 2] = d->future[last * 2], fut[h * 2 + 1] = d->future[last * 2 + 1];
    CHECK(tft_forecast_multi(m, d, 2, d->len[2], H, fut, c) == BASED_E_OK);
    CHECK_EQ_MEM(a, c, sizeof a);
    /* other known-future inputs do move steps >= 1 */
    for (int h = 0; h < H; h++)
        fut[h * 2] += 3.0;
    CHECK(tft_forecast_multi(m, d, 2, d->len[2], H, fut, c) == BASED_E_OK);
    CHECK(memcmp(a, c, sizeof a) != 0);
    /* refused */
    CHECK_EQ_INT(tft_forecast_multi(m, d, 2, d->len[2], 0, NULL, c), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(tft_forecast_multi(m, d, 2, d->len[2], TFT_MAX_HORIZON + 1, NULL, c),
                 BASED_E_BAD_PARAM);
    CHECK_EQ_INT(tft_forecast_multi(m, d, 4, d->len[0], 2, NULL, c), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(tft_forecast_multi(m, d, -1, d->len[0], 2, NULL, c), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(tft_forecast_multi(NULL, d, 0, d->len[0], 2, NULL, c), BASED_E_BAD_PARAM);
    struct tft_dataset *bare = tft_dataset_new(1, 10, 0, 0, 0);
    CHECK_EQ_INT(tft_forecast_multi(m, bare, 0, 10, 2, NULL, c), BASED_E_BAD_PARAM);
    tft_dataset_free(bare);
    tft_model_free(m);
    tft_model_free(m2);
    tft_dataset_free(d);
    tft_dataset_free(d2);
}
