/*
 * gen.c: the synthetic benchmark set. Each series is a level (with
 * regime shifts: persistent jumps at random steps) plus a linear trend,
 * a weekly-like profile (period 7, one of four shapes by group, perturbed
 * per series), noise, and planted manipulation spikes (a boost of 30-80 %
 * of the base level for 1-3 steps). Covariates: static_group (0-3),
 * static_amp (seasonal amplitude / level); past `activity` (the current
 * regime level over the base level, noisy: like a miner's stake);
 * future_phase (t mod 7) and future_weekend. Gaussian-like noise is the
 * sum of four uniforms (no log/cos). Deterministic in the seed.
 */
#include "tft/tft.h"
#include "chain/base.h"

static double gauss(uint64_t *r)
{
    double s = 0;
    for (int i = 0; i < 4; i++)
        s += tft_rng_uniform(r);
    return (s - 2.0) * 1.7320508075688772;
}

static const double PROFILES[4][7] = {
    { 0.6, 0.8, 0.7, 0.5, 0.3, -1.4, -1.5 },     /* weekend dip */
    { -1.0, -0.5, 0.0, 0.5, 1.0, 0.5, -0.5 },    /* mid-week ramp */
    { 1.5, -0.2, -0.3, -0.3, -0.2, -0.3, -0.2 }, /* Monday peak */
    { -0.9, 0.9, -0.9, 0.9, -0.9, 0.9, 0.0 },    /* alternating */
};

static void gen_series(struct tft_dataset *d, int i, uint64_t seed)
{
    uint64_t r = seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(i + 1));
    int g = i % 4, T = d->n_steps;
    double base = 20.0 + 80.0 * tft_rng_uniform(&r);
    double slope = base * (tft_rng_uniform(&r) - 0.5) * 0.004;
    double amp = 0.1 + 0.3 * tft_rng_uniform(&r);
    double noise = base * (0.03 + 0.05 * tft_rng_uniform(&r));
    double prof[7];
    for (int k = 0; k < 7; k++)
        prof[k] = PROFILES[g][k] + 0.2 * gauss(&r);
    snprintf(d->series_names[i], TFT_NAME_LEN, "syn%04d", i);
    d->t0[i] = 0;
    d->len[i] = T;
    d->stat[(size_t)i * 2] = g;
    d->stat[(size_t)i * 2 + 1] = (double)(int)(amp * 100.0 + 0.5) / 100.0;
    double level = base;
    int spike_left = 0;
    double spike = 0;
    for (int t = 0; t < T; t++) {
        if (tft_rng_uniform(&r) < 1.0 / 120.0)
            level += base * 0.6 * (tft_rng_uniform(&r) - 0.5);
        if (level < 0.2 * base)
            level = 0.2 * base;
        if (spike_left == 0 && tft_rng_uniform(&r) < 1.0 / 50.0) {
            spike_left = 1 + (int)(tft_rng_uniform(&r) * 3.0);
            spike = base * (0.3 + 0.5 * tft_rng_uniform(&r));
        }
        double y = level + slope * t + base * amp * prof[t % 7] + noise * gauss(&r);
        if (spike_left > 0) {
            y += spike;
            spike_left--;
        }
        size_t at = (size_t)i * (size_t)T + (size_t)t;
        d->target[at] = y;
        d->past[at] = (level + slope * t) / base + 0.02 * gauss(&r);
        d->future[at * 2] = t % 7;
        d->future[at * 2 + 1] = t % 7 >= 5 ? 1.0 : 0.0;
    }
}

struct tft_dataset *tft_gen_synthetic(const struct tft_gen_opts *o)
{
    if (!o || o->n_steps < 8)
        return NULL;
    struct tft_dataset *d = tft_dataset_new(o->n_series, o->n_steps, 2, 1, 2);
    if (!d)
        return NULL;
    snprintf(d->static_names[0], TFT_NAME_LEN, "static_group");
    snprintf(d->static_names[1], TFT_NAME_LEN, "static_amp");
    snprintf(d->past_names[0], TFT_NAME_LEN, "activity");
    snprintf(d->future_names[0], TFT_NAME_LEN, "future_phase");
    snprintf(d->future_names[1], TFT_NAME_LEN, "future_weekend");
    for (int i = 0; i < o->n_series; i++)
        gen_series(d, i, o->seed);
    return d;
}
