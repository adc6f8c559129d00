/* The manipulation test of issue 6, at the epoch level (rewards/epoch.c
 * with real TFT forecasts from rewards/tftchain.c's model and rounding):
 * 4 validators (a 60 % cabal and 3 honest), 6 miners whose weights drift
 * slowly. For epochs 40-43 the cabal boosts miner 0. Bands for epoch t are
 * forecast from the miners' incentive up to t - 1 (window 16) by a model
 * trained on epochs 0-39. Compares b = 1 with b = 0: the cabal's excess
 * (miner 0's incentive emission above its mean of epochs 24-39) and the
 * honest miners' emission over epochs 30-39. Figures are printed. */
#include <stdio.h>

#include "tests/runner.h"
#include "rewards/epoch.h"
#include "rewards/tftchain.h"

#define NV 4
#define NM 6
#define NE 44
#define WIN 16

static uint16_t wt(size_t v, size_t m, size_t t)
{
    if (v == 0 && t >= 40 && t < NE)
        return m == 0 ? 65535 : 1000;               /* the cabal's boost */
    return (uint16_t)(20000 + 6000 * m + 1500 * ((t * (m + 1) + v) % 4));
}

static void epoch_at(size_t t, uint64_t b, const uint16_t *p10, const uint16_t *p90,
                     uint16_t inc[NM], uint64_t em[NM])
{
    reward_neuron_in nr[NV + NM];
    uint16_t uid[NV][NM], val[NV][NM];
    reward_epoch_in in;
    reward_epoch_out out;
    memset(nr, 0, sizeof nr);
    memset(&in, 0, sizeof in);
    for (size_t v = 0; v < NV; v++) {
        for (size_t m = 0; m < NM; m++)
            uid[v][m] = (uint16_t)(NV + m), val[v][m] = wt(v, m, t);
        nr[v].stake = v == 0 ? 6000 : 1333;
        nr[v].permit = true;
        nr[v].last_update = 1000 + t;
        nr[v].weights = (reward_row){ uid[v], val[v], NM };
    }
    in.block = 1000 + t;
    in.emission = 1000000000;
    in.p = (reward_epoch_params){ REWARD_MODE_YUMA, 32767, 10, 900000, 100000, NV };
    in.n = NV + NM;
    in.neurons = nr;
    in.tft_b = b, in.p10 = p10, in.p90 = p90;
    CHECK_EQ_INT(reward_epoch_run(&in, &out), BASED_E_OK);
    for (size_t m = 0; m < NM; m++)
        inc[m] = out.incentive[NV + m], em[m] = out.emission_incentive[NV + m];
    reward_epoch_out_free(&out);
}

TEST(tft_manipulation_cabal_boost_damped)
{
    static uint16_t y[NM][NE];
    uint64_t em0[NE][NM], em1[NE][NM];
    uint16_t inc[NM];
    for (size_t t = 0; t < NE; t++) {
        epoch_at(t, 0, NULL, NULL, inc, em0[t]);
        for (size_t m = 0; m < NM; m++)
            y[m][t] = inc[m];
    }
    const uint16_t *series[NM];
    size_t len[NM];
    for (size_t m = 0; m < NM; m++)
        series[m] = &y[m][40 - WIN], len[m] = WIN;
    struct tft_model *model = NULL;
    CHECK_EQ_INT(reward_tft_train(series, len, NM, WIN, 1, &model), BASED_E_OK);
    CHECK(model != NULL);
    for (size_t t = 30; t < NE && model; t++) {
        uint16_t p10[NV + NM] = { 0 }, p90[NV + NM], q[3];
        for (size_t i = 0; i < NV + NM; i++)
            p90[i] = 65535;
        for (size_t m = 0; m < NM; m++) {
            CHECK_EQ_INT(reward_tft_forecast(model, &y[m][t - WIN], WIN, q), BASED_E_OK);
            p10[NV + m] = q[0], p90[NV + m] = q[2];
        }
        epoch_at(t, TFT_BETA_ONE, p10, p90, inc, em1[t]);
    }
    tft_model_free(model);
    uint64_t base = 0, hon0 = 0, hon1 = 0, ah0 = 0, ah1 = 0;
    int64_t ex0 = 0, ex1 = 0;
    for (size_t t = 24; t < 40; t++)
        base += em0[t][0];
    base /= 16;
    for (size_t t = 40; t < NE; t++) {
        ex0 += (int64_t)em0[t][0] - (int64_t)base, ex1 += (int64_t)em1[t][0] - (int64_t)base;
        for (size_t m = 1; m < NM; m++)
            ah0 += em0[t][m], ah1 += em1[t][m];
    }
    for (size_t t = 30; t < 40; t++)
        for (size_t m = 1; m < NM; m++)
            hon0 += em0[t][m], hon1 += em1[t][m];
    double hchg = ((double)hon1 - (double)hon0) / (double)hon0;
    printf("cabal excess b=0 %" PRId64 " b=1 %" PRId64 " (%.1f %%); honest 30-39 change %.2f %%; "
           "honest in attack epochs %+.1f %%\n", ex0, ex1, 100.0 * (double)ex1 / (double)ex0,
           100.0 * hchg, 100.0 * ((double)ah1 - (double)ah0) / (double)ah0);
    CHECK(ex0 > 0);
    CHECK(2 * ex1 <= ex0);
    CHECK(hchg < 0.05 && hchg > -0.05);
}
