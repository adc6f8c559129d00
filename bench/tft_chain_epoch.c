/*
 * tft_chain_epoch: what the TFT Enforcer costs the chain per Brain epoch,
 * through the chain's own code (rewards/tftchain.c reward_tft_before +
 * reward_tft_after on a LevelDB-backed view), for a full Brain (256
 * validators + 1792 miners = 2048 uids, every uid forecast) with the
 * chain's training configuration and window K (genesis.json defaults):
 *   (a) incremental: the cache warm, each state advanced one epoch;
 *   (b) cold: every state rebuilt from its feed (a restart, a Brain the
 *       cache has no room for, or a model applied with no prebuild);
 *   (p) the first epoch after a model is applied, its states prebuilt on a
 *       thread when the model was applied (and that prebuild's time);
 *   (s) whole-feed recomputation with tft_forecast_series (what the chain
 *       did before the incremental forecasts);
 *   (c) the training job (what the worker thread runs; timed here on the
 *       main thread through reward_tft_block, which trains synchronously):
 *       capped at REWARD_TFT_TRAIN_MAX series of the 2048;
 *   (q) training over all 2048 windows (the chain before the cap) against
 *       the capped subset (the chain's choice, reward_tft_pick_rank), on
 *       two sets: this Brain's incentives and tft_gen_synthetic (x 100,
 *       u16) with 2048 series; CPU time of each training and the pooled
 *       pinball loss (reward_tft_pinball, tenths of a u16 unit per forecast)
 *       of each model's one-step forecasts over all 2048 uids for the H = 8
 *       epochs after the windows (each from its last K values), with
 *       seasonal naive alongside.
 * Baseline in the same process: the classic reward epoch (reward_epoch_run,
 * integer Yuma) of the same Brain. Times are the thread's CPU time (the
 * machine is shared; wall clock printed alongside). Medians, ratios to the
 * baseline, and the cost at 1024 Brains as a share of block time (tempo and
 * block time from genesis.json): share = 1024 x t / (tempo x block_time),
 * and the worst single block (the most Brains whose epoch falls in one
 * block, all cold).
 */
#include <time.h>

#include "bench/bench.h"
#include "chain/genesis.h"
#include "chain/state.h"
#include "node/runtime.h"
#include "rewards/epoch.h"
#include "rewards/fixed.h"
#include "rewards/rewards.h"
#include "rewards/tftcache.h"
#include "rewards/tftchain.h"
#include "tft/tft.h"

#define NV 256
#define NN 2048


static double cpu_last;                 /* thread CPU time of the last tft_epoch */

static reward_neuron_in ns[NN];
static uint16_t wu[NV][NN - NV], wv[NV][NN - NV];
static uint16_t base_inc[NN], inc[NN];
static stake_neuron nn[NN];

/* The full Brain of bench/epoch_full.c: dense random weights, bonds from a
 * first epoch. */
static bool brain_setup(reward_epoch_in *in, reward_epoch_out *first)
{
    bench_full_brain(in, ns, &wu[0][0], &wv[0][0], NV, NN);
    if (reward_epoch_run(in, first) != BASED_E_OK)
        return false;
    for (int i = 0; i < NN; i++) {
        ns[i].bonds = (reward_row){ first->bond_uid[i], first->bond_val[i], first->bond_n[i] };
        base_inc[i] = first->incentive[i];
    }
    return true;
}

/* This epoch's incentives: the Brain's, each miner moved by a little noise. */
static void next_incentives(uint64_t *x)
{
    for (int i = 0; i < NN; i++) {
        int64_t v = base_inc[i] + (i >= NV ? (int64_t)(bench_rng(x) % 41) - 20 : 0);
        inc[i] = v < 0 ? 0 : v > 65535 ? 65535 : (uint16_t)v;
    }
}

#define QH 8                            /* held-out epochs of (q) */
#define QMAX (REWARD_TFT_MAX_WINDOW + QH)

typedef struct {
    double train_cpu[2];                /* all, capped */
    double loss[2], naive;              /* pooled pinball per forecast */
    size_t n[2];
} quality;

static uint16_t qy[NN][QMAX];

typedef struct {
    uint64_t rank;
    size_t uid;
} qpick;

static int qpick_cmp(const void *a, const void *b)
{
    const qpick *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* Pooled loss of m's one-step forecasts of qy[i][k + s] from qy[i][s .. s + k - 1]. */
static double pooled_loss(const struct tft_model *m, size_t k)
{
    uint64_t sum = 0, cnt = 0;
    for (size_t i = 0; i < NN; i++)
        for (size_t s = 0; s < QH; s++) {
            uint16_t q[3];
            if (m) {
                if (reward_tft_forecast(m, qy[i] + s, k, q) != BASED_E_OK)
                    continue;
            } else {
                reward_tft_naive(qy[i] + s, k, q);
            }
            sum += reward_tft_pinball(qy[i][k + s], q);
            cnt++;
        }
    return cnt ? (double)sum / (double)cnt : 0;
}

/* (q) over the windows qy[i][0 .. k - 1]: all 2048 against the capped subset. */
static bool quality_run(size_t k, uint64_t height, quality *r)
{
    const uint16_t *y[NN];
    size_t len[NN];
    qpick pk[NN];
    bool take[NN] = { false };
    for (size_t i = 0; i < NN; i++)
        pk[i].rank = reward_tft_pick_rank(7, 1, height, (uint16_t)i), pk[i].uid = i;
    qsort(pk, NN, sizeof *pk, qpick_cmp);
    for (size_t i = 0; i < REWARD_TFT_TRAIN_MAX; i++)
        take[pk[i].uid] = true;
    r->naive = pooled_loss(NULL, k);
    for (int v = 0; v < 2; v++) {
        size_t n = 0;
        for (size_t i = 0; i < NN; i++)
            if (v == 0 || take[i])
                y[n] = qy[i], len[n++] = k;
        struct tft_model *m = NULL;
        double c0 = bench_clock_s(CLOCK_THREAD_CPUTIME_ID);
        if (reward_tft_train(y, len, n, (int)k, 0x5EED + height, &m) != BASED_E_OK || !m)
            return false;
        r->train_cpu[v] = bench_clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        r->n[v] = n;
        r->loss[v] = pooled_loss(m, k);
        tft_model_free(m);
    }
    return true;
}

typedef struct {
    chain_exec ex;
    contract_brain b;
    uint64_t tempo, x;
} bctx;

/* One Brain epoch of the TFT: before + after, at the Brain's next epoch. */
static double tft_epoch(bctx *c)
{
    reward_tft_epoch t;
    next_incentives(&c->x);
    c->ex.height += c->tempo + 1;
    double t0 = bench_now(), c0 = bench_clock_s(CLOCK_THREAD_CPUTIME_ID);
    based_err rc = reward_tft_before(&c->ex, &c->b, nn, NN, &t);
    if (rc == BASED_E_OK)
        rc = reward_tft_after(&c->ex, &c->b, nn, NN, inc);
    double dt = bench_now() - t0;
    cpu_last = bench_clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    reward_tft_epoch_free(&t);
    if (rc != BASED_E_OK) {
        fprintf(stderr, "tft_chain_epoch: epoch failed (%d)\n", (int)rc);
        exit(1);
    }
    return dt;
}

int main(void)
{
    chain_genesis g;
    char err[256], dir[] = "/tmp/based-tftbench-XXXXXX";
    chain_store *st = NULL;
    if (chain_genesis_load("genesis.json", &g, err, sizeof err) != BASED_E_OK) {
        fprintf(stderr, "tft_chain_epoch: genesis.json: %s\n", err);
        return 1;
    }
    g.params.tft_enabled = 1;
    uint64_t tempo = g.params.tempo, every = g.params.tft_train_every;
    double block_s = (double)g.block_time_ms / 1000.0;
    if (!mkdtemp(dir) || chain_store_open(dir, &st, err, sizeof err) != BASED_E_OK) {
        fprintf(stderr, "tft_chain_epoch: store: %s\n", err);
        return 1;
    }
    reward_epoch_in in;
    reward_epoch_out first;
    if (!brain_setup(&in, &first))
        return 1;
    double tc[5], cc[5];
    for (int r = 0; r < 5; r++) {
        reward_epoch_out o;
        double t0 = bench_now(), c0 = bench_clock_s(CLOCK_THREAD_CPUTIME_ID);
        if (reward_epoch_run(&in, &o) != BASED_E_OK)
            return 1;
        tc[r] = bench_now() - t0;
        cc[r] = bench_clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        reward_epoch_out_free(&o);
    }
    double classic_wall = bench_median(tc, 5), classic = bench_median(cc, 5);

    /* the node's handles (a pool, a cache), switched per measurement */
    chain_runtime *rt = NULL;
    based_runtime_opts ro = { 1, true, 0 };
    if (based_runtime_new(&ro, &rt, err, sizeof err) != BASED_E_OK) {
        fprintf(stderr, "tft_chain_epoch: %s\n", err);
        return 1;
    }
    reward_handles *hd = chain_runtime_state(rt, &reward_module);
    reward_tft_pool *pool = hd->pool;
    chain_exec_params xp = { g.params.min_fee, g.ss58_prefix, rt };
    bctx c;
    memset(&c, 0, sizeof c);
    c.ex.params = &xp;
    c.ex.view = chain_view_new(st, NULL);
    c.ex.genesis = &g;
    c.ex.height = 1000;
    c.b.id = 7, c.b.instance = 1;
    c.tempo = tempo, c.x = 42;
    for (int i = 0; i < NN; i++)
        nn[i].uid = (uint16_t)i, nn[i].registered_at = 10 + (uint64_t)i, nn[i].role = i < NV;
    hd->pool = NULL;                   /* no thread competes with the timings */
    g.params.tft_train_every = 65535;  /* no job while the windows fill */
    size_t k = g.params.tft_window;
    double tn[8];
    for (size_t e = 0; e < k + 1; e++) {   /* fill the windows (no model yet) */
        double dt = tft_epoch(&c);
        if (e + 8 >= k + 1)
            tn[e + 8 - (k + 1)] = dt;
    }
    double nomodel = bench_median(tn, 8);    /* wall: too short to be disturbed much */
    /* (c) a training job over full windows: one epoch with every = 1 */
    g.params.tft_train_every = 1;
    tft_epoch(&c);
    g.params.tft_train_every = every;
    c.ex.height += g.params.tft_apply_delay + 1;
    double t0 = bench_now(), c0 = bench_clock_s(CLOCK_THREAD_CPUTIME_ID);
    if (reward_tft_block(&c.ex, &c.b) != BASED_E_OK) {
        fprintf(stderr, "tft_chain_epoch: training failed\n");
        return 1;
    }
    double train_wall = bench_now() - t0, train = bench_clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    /* first epoch with the model: feeds cut to K, every state rebuilt */
    reward_tft_cache_set(hd->cache, REWARD_TFT_CACHE_ON, 0);
    tft_epoch(&c);
    double first_cold = cpu_last;
    double ta[7], tb[5], ts[3], ca[7], cb[5], cs[3];
    for (int r = 0; r < 7; r++)                                   /* (a) */
        ta[r] = tft_epoch(&c), ca[r] = cpu_last;
    reward_tft_cache_stats s;
    reward_tft_cache_stats_get(hd->cache, &s);
    reward_tft_cache_set(hd->cache, REWARD_TFT_CACHE_REBUILD, 0);           /* (b) */
    for (int r = 0; r < 5; r++)
        tb[r] = tft_epoch(&c), cb[r] = cpu_last;
    reward_tft_cache_set(hd->cache, REWARD_TFT_CACHE_SERIES, 0);            /* (s) */
    for (int r = 0; r < 3; r++)
        ts[r] = tft_epoch(&c), cs[r] = cpu_last;
    reward_tft_cache_set(hd->cache, REWARD_TFT_CACHE_ON, 0);
    double warm_wall = bench_median(ta, 7), cold_wall = bench_median(tb, 5), series_wall = bench_median(ts, 3);
    double warm = bench_median(ca, 7), cold = bench_median(cb, 5), series = bench_median(cs, 3);
    /* (p) a second model, applied with the worker on: prebuilt states */
    tft_epoch(&c);                                                /* warm the cache again */
    g.params.tft_train_every = 1;
    tft_epoch(&c);                                                /* a job (if none pending) */
    g.params.tft_train_every = every;
    c.ex.height += g.params.tft_apply_delay + 1;
    hd->pool = pool;
    t0 = bench_now(), c0 = bench_clock_s(CLOCK_THREAD_CPUTIME_ID);
    if (reward_tft_block(&c.ex, &c.b) != BASED_E_OK) {
        fprintf(stderr, "tft_chain_epoch: training failed\n");
        return 1;
    }
    double train2_wall = bench_now() - t0, train2 = bench_clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    hd->pool = NULL;
    t0 = bench_now();
    reward_tft_prebuild_wait(hd->cache);
    double prebuild = bench_now() - t0;
    reward_tft_cache_stats s0, s1;
    reward_tft_cache_stats_get(hd->cache, &s0);
    tft_epoch(&c);
    double first_pre = cpu_last;
    reward_tft_cache_stats_get(hd->cache, &s1);
    double trains[2] = { train, train2 };
    train = (train + train2) / 2;
    double amort = ((double)(every - 1) * warm + first_pre) / (double)every;
    double amort_cold = ((double)(every - 1) * warm + cold) / (double)every;

    size_t worst = 0;                   /* Brains whose epoch is in one block */
    for (uint64_t h = 0; h <= tempo; h++) {
        size_t nb = 0;
        for (uint16_t id = 0; id < 1024; id++)
            nb += reward_is_epoch_block(tempo, id, h);
        worst = nb > worst ? nb : worst;
    }
    double period = (double)tempo * block_s;
    printf("full Brain: %d uids (%d validators + %d miners), K = %zu, model %s "
           "(chain training config), genesis tempo %" PRIu64 ", block %.0f s\n",
           NN, NV, NN - NV, k, "d 8, 2 heads, k 4", tempo, block_s);
    printf("times are the thread's CPU time (medians), wall clock in brackets: the machine is shared\n");
    printf("baseline: classic reward epoch (reward_epoch_run): %.1f ms [%.1f] (median of 5)\n",
           classic * 1e3, classic_wall * 1e3);
    printf("TFT per Brain epoch (reward_tft_before + reward_tft_after):\n");
    printf("  no model yet (feeds, naive, jobs): %7.1f ms [wall]  %5.2fx baseline\n", nomodel * 1e3,
           nomodel / classic);
    printf("  (a) incremental, warm cache:       %7.1f ms [%.1f]  %5.2fx baseline  (median of 7)\n",
           warm * 1e3, warm_wall * 1e3, warm / classic);
    printf("  (b) cold, every state rebuilt:     %7.1f ms [%.1f]  %5.2fx baseline  (median of 5; "
           "first epoch after a model, no prebuild: %.1f ms)\n", cold * 1e3, cold_wall * 1e3,
           cold / classic, first_cold * 1e3);
    printf("  (p) first epoch after a model, prebuilt: %.1f ms (%" PRIu64 " of %d states prebuilt; "
           "the prebuild took %.1f ms wall on its thread after the model was applied)\n",
           first_pre * 1e3, s1.prebuilt - s0.prebuilt, NN, prebuild * 1e3);
    printf("  (s) whole-feed recomputation:      %7.1f ms [%.1f]  %5.2fx baseline  (median of 3; "
           "the chain before this change)\n", series * 1e3, series_wall * 1e3, series / classic);
    printf("  incremental vs cold %.1fx, vs whole-feed %.1fx\n", cold / warm, series / warm);
    printf("  amortised, a model applied every %" PRIu64 " epochs ((%" PRIu64
           " warm + 1 first) / %" PRIu64 "): %.1f ms with the prebuild, %.1f ms without\n", every,
           every - 1, every, amort * 1e3, amort_cold * 1e3);
    printf("  (c) training job (worker thread): %.2f s and %.2f s [%.2f, %.2f] = %.0fx baseline\n",
           trains[0], trains[1], train_wall, train2_wall, train / classic);
    printf("cache: %zu uids, %zu bytes = %.2f MB per full Brain (%.0f B per uid); "
           "1024 full Brains: %.2f GB\n", s.uids, s.bytes, (double)s.bytes / 1e6,
           (double)s.bytes / (double)(s.uids ? s.uids : 1), 1024.0 * (double)s.bytes / 1e9);
    printf("1024 Brains, share of block time (1024 x t / (tempo x block time)):\n");
    printf("  classic epoch %.2f %%; TFT incremental %.2f %%, cold %.2f %%, amortised %.2f %% "
           "(%.2f %% without prebuild), whole-feed %.2f %%\n", 100 * 1024 * classic / period,
           100 * 1024 * warm / period, 100 * 1024 * cold / period, 100 * 1024 * amort / period,
           100 * 1024 * amort_cold / period, 100 * 1024 * series / period);
    printf("  prebuilds (worker threads): 1024 Brains x 1 per %" PRIu64 " epochs = %.2f %% of one core\n",
           every, 100 * 1024.0 / (double)every * prebuild / period);
    double steady = first_pre > warm ? first_pre : warm;
    printf("  worst single block: %zu Brains' epochs; steady state (warm or prebuilt) TFT %.0f ms = "
           "%.1f %% of a block (with the classic epochs %.1f %%); after a restart (all cold) "
           "%.0f ms = %.1f %% (%.1f %%)\n", worst, (double)worst * steady * 1e3,
           100 * (double)worst * steady / block_s, 100 * (double)worst * (steady + classic) / block_s,
           (double)worst * cold * 1e3, 100 * (double)worst * cold / block_s,
           100 * (double)worst * (cold + classic) / block_s);
    printf("  training: 1024 Brains x 1 job per %" PRIu64 " epochs = %.1f %% of one core\n",
           every, 100 * 1024.0 / (double)every * train / period);
    /* (q) all windows against the capped subset */
    quality qb, qs;
    uint64_t qx = 7;
    for (size_t t = 0; t < k + QH; t++) {          /* this Brain's incentives */
        next_incentives(&qx);
        for (int i = 0; i < NN; i++)
            qy[i][t] = inc[i];
    }
    if (!quality_run(k, c.ex.height, &qb))
        return 1;
    struct tft_gen_opts go = { NN, (int)(k + QH), 42 };
    struct tft_dataset *gd = tft_gen_synthetic(&go);
    if (!gd)
        return 1;
    for (int i = 0; i < NN; i++)
        for (size_t t = 0; t < k + QH; t++) {
            double v = gd->target[(size_t)i * (size_t)gd->n_steps + t] * 100.0 + 0.5;
            qy[i][t] = v <= 0 ? 0 : v >= 65535 ? 65535 : (uint16_t)v;
        }
    tft_dataset_free(gd);
    if (!quality_run(k, c.ex.height, &qs))
        return 1;
    const quality *qq[2] = { &qb, &qs };
    const char *qn[2] = { "this Brain's incentives", "tft_gen_synthetic x 100" };
    printf("(q) training set: all %d windows vs the capped subset (%d, reward_tft_pick_rank); "
           "pooled pinball loss per forecast over all %d uids x %d held-out epochs "
           "(tenths of a u16 unit):\n", NN, REWARD_TFT_TRAIN_MAX, NN, QH);
    for (int v = 0; v < 2; v++)
        printf("  %-24s train %.2f s (all) vs %.2f s (capped) = %.1fx; loss %.1f (all) vs %.1f "
               "(capped) = %.3f; seasonal naive %.1f (ratios to naive %.3f / %.3f)\n", qn[v],
               qq[v]->train_cpu[0], qq[v]->train_cpu[1], qq[v]->train_cpu[0] / qq[v]->train_cpu[1],
               qq[v]->loss[0], qq[v]->loss[1], qq[v]->loss[1] / qq[v]->loss[0], qq[v]->naive,
               qq[v]->loss[0] / qq[v]->naive, qq[v]->loss[1] / qq[v]->naive);
    printf("  training at 1024 Brains (1 job per %" PRIu64 " epochs): all windows %.1f %% of one core, "
           "capped %.1f %% (this Brain's incentives)\n", every,
           100 * 1024.0 / (double)every * qb.train_cpu[0] / period,
           100 * 1024.0 / (double)every * qb.train_cpu[1] / period);
    reward_tft_worker_stats ws;
    reward_tft_pool_stats(pool, &ws);
    printf("worker: %zu slots; %" PRIu64 " jobs submitted, %" PRIu64 " taken, %" PRIu64 " evicted\n",
           ws.slots, ws.submitted, ws.taken, ws.evicted);
    size_t inflight = 0, inflight_aligned = 0;     /* jobs written in any D + 1 blocks */
    uint64_t dd = g.params.tft_apply_delay;
    for (uint64_t h = 0; h <= tempo; h++) {
        size_t nb = 0;
        for (uint64_t hh = h; hh <= h + dd; hh++)
            for (uint16_t id = 0; id < 1024; id++)
                nb += reward_is_epoch_block(tempo, id, hh % (tempo + 1));
        inflight_aligned = nb > inflight_aligned ? nb : inflight_aligned;
    }
    inflight = (size_t)(1024.0 / (double)every * (double)(dd + 1) / (double)(tempo + 1) + 0.999);
    printf("  jobs in flight at 1024 Brains (written in %" PRIu64 " blocks before their apply): "
           "about %zu on average, at most %zu if every Brain trains at the same epoch\n",
           dd + 1, inflight, inflight_aligned);
    reward_epoch_out_free(&first);
    chain_view_free(c.ex.view);
    chain_store_free(st);
    hd->pool = pool;
    based_runtime_free(rt);                 /* joins the pool's threads */
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "tft_chain_epoch: could not remove %s\n", dir);
    chain_genesis_release(&g);
    return 0;
}
