/* Helpers shared by the benchmarks in bench/: clocks, medians, a PRNG, and
 * the full Brain of the reward-epoch benches. */
#ifndef BASED_BENCH_H
#define BASED_BENCH_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "rewards/epoch.h"
#include "rewards/fixed.h"

/* Seconds on clock `id` (CLOCK_MONOTONIC for wall time,
 * CLOCK_THREAD_CPUTIME_ID for this thread's CPU time). */
static inline double bench_clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wall-clock seconds (monotonic). */
static inline double bench_now(void)
{
    return bench_clock_s(CLOCK_MONOTONIC);
}

/* xorshift64: reproducible bench data (not for anything secret). */
static inline uint64_t bench_rng(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static inline int bench_cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of t[0..n) (sorts t). */
static inline double bench_median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, bench_cmp_d);
    return t[n / 2];
}

/* A full Brain's epoch input: nv validators (stake 1,000-101,000 BASED)
 * with dense random u16 weights (max-upscaled) on the n - nv miners; every
 * neuron permitted and updated at block 10; the epoch at block 100. ns has
 * n entries; wu and wv hold nv rows of n - nv entries (row-major). */
static inline void bench_full_brain(reward_epoch_in *in, reward_neuron_in *ns, uint16_t *wu,
                                    uint16_t *wv, int nv, int n)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
    int m = n - nv;
    for (int i = 0; i < n; i++) {
        ns[i].last_update = 10;
        ns[i].permit = true;
        if (i >= nv)
            continue;
        ns[i].stake = 1000000000000ull + bench_rng(&x) % 100000000000000ull;
        uint16_t *u = wu + (size_t)i * (size_t)m, *v = wv + (size_t)i * (size_t)m;
        for (int j = 0; j < m; j++) {
            u[j] = (uint16_t)(nv + j);
            v[j] = (uint16_t)(1 + bench_rng(&x) % 65535);
        }
        reward_weights_upscale(v, (size_t)m, v);
        ns[i].weights = (reward_row){ u, v, (size_t)m };
    }
    *in = (reward_epoch_in){ 100, 1000000000000ull, { REWARD_MODE_YUMA, 32767, 10, 900000, 5000, 256 },
                             (size_t)n, ns, 0, NULL, NULL };
}

#endif
