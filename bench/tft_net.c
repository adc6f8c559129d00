/*
 * tft_net: the cost of the network series (rewards/tftnet.c) per block and
 * per network epoch, medians of repeated runs, on one core.
 *
 * 1. Per network epoch: H = 3 step forecasts of the six series (window 32,
 *    the chain's model configuration) by tft_forecast_multi; baseline in
 *    the same process: the six one-step forecasts by tft_forecast_series
 *    (what a Brain's uid costs); ratio multi / one-step.
 * 2. Training the network model (6 series x 32 epochs, the chain's
 *    configuration): what a worker thread does every tft_train_every
 *    network epochs.
 * 3. Per block: the distinct-sender sketch for a full block (5000 txs):
 *    BLAKE2b-256 of each sender and reward_tftnet_kmv_add; baseline: the
 *    hashes alone; ratio sketch / hashes.
 */
#include <time.h>

#include "chain/crypto.h"
#include "rewards/tftchain.h"
#include "rewards/tftnet.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

#define REPS 21
#define NSER REWARD_TFTNET_SERIES
#define WIN 32
#define TXS 5000

int main(void)
{
    struct tft_gen_opts g = { NSER, WIN, 9 };
    struct tft_dataset *syn = tft_gen_synthetic(&g);
    struct tft_dataset *d = tft_dataset_new(NSER, WIN, 0, 0, 0);
    struct tft_model *m = NULL;
    double tm[REPS], tb[REPS], tt[3], sink = 0;
    if (!syn || !d) {
        fprintf(stderr, "tft_net: setup failed\n");
        return 1;
    }
    memcpy(d->target, syn->target, (size_t)NSER * WIN * sizeof(double));
    for (int r = 0; r < 3; r++) {
        struct tft_model *mm = NULL;
        double t0 = now();
        if (reward_tft_train_dataset(d, WIN, 11, &mm) != BASED_E_OK || !mm) {
            fprintf(stderr, "tft_net: training failed\n");
            return 1;
        }
        tt[r] = now() - t0;
        tft_model_free(m);
        m = mm;
    }
    double out[WIN * 3];
    for (int r = 0; r < REPS; r++) {
        double t0 = now();
        for (int i = 0; i < NSER; i++) {
            tft_forecast_multi(m, d, i, WIN, REWARD_TFTNET_H, NULL, out);
            sink += out[1];
        }
        tm[r] = now() - t0;
        t0 = now();
        for (int i = 0; i < NSER; i++) {
            tft_forecast_series(m, d, i, WIN, out);
            sink += out[1];
        }
        tb[r] = now() - t0;
    }
    double fm = median(tm, REPS), fb = median(tb, REPS);
    printf("network epoch: H=%d forecasts of %d series %.3f ms; one-step baseline %.3f ms; "
           "ratio %.2f\n", REWARD_TFTNET_H, NSER, fm * 1e3, fb * 1e3, fm / fb);
    printf("network model training (%d x %d, chain config, %zu params): median %.3f s\n", NSER,
           WIN, tft_model_nparams(m), median(tt, 3));
    /* per block: the sender sketch */
    static chain_addr senders[TXS];
    uint64_t rng = 7, *kmv = malloc(REWARD_TFTNET_KMV * sizeof *kmv);
    for (int i = 0; i < TXS; i++)
        for (int b = 0; b < 32; b += 8) {
            uint64_t x = tft_rng_next(&rng);
            memcpy(senders[i].b + b, &x, 8);
        }
    double ts[REPS], th[REPS];
    for (int r = 0; r < REPS; r++) {
        size_t n = 0;
        double t0 = now();
        for (int i = 0; i < TXS; i++) {
            chain_hash h = chain_hash_bytes(senders[i].b, 32);
            reward_tftnet_kmv_add(kmv, &n, chain_get_be64(h.b));
        }
        ts[r] = now() - t0;
        sink += (double)reward_tftnet_distinct(kmv, n);
        t0 = now();
        for (int i = 0; i < TXS; i++) {
            chain_hash h = chain_hash_bytes(senders[i].b, 32);
            sink += h.b[0];
        }
        th[r] = now() - t0;
    }
    double s = median(ts, REPS), h = median(th, REPS);
    printf("per block (%d txs): sender sketch %.3f ms; hashes alone %.3f ms; ratio %.2f\n", TXS,
           s * 1e3, h * 1e3, s / h);
    printf("(sink %g)\n", sink);
    free(kmv);
    tft_model_free(m);
    tft_dataset_free(d);
    tft_dataset_free(syn);
    return 0;
}
