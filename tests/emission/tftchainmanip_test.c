/* The manipulation test of issue 6 at the chain level: two chains from the
 * same short-year genesis, one with tft_enabled = 1 and one with
 * tft_enabled = 0 (b = 0, classic Yuma), fed the same transactions through
 * block execution.
 *
 * The network: Brain 0 with NV = 5 validators (dev1..dev5; dev1 and dev2,
 * the cabal, stake 60 % of the Brain between them) and NM = 128 miners
 * (dev10..dev137, funded by dev0) of quality 0.6-1.4. Every reveal window
 * each validator reveals the weights it committed a window before and
 * commits the next ones (real weights_commit / weights_reveal txs, all in
 * the window's first block). A validator's score of miner m for epoch t is
 *   quality(m) x (1 + cycle(t + m) + noise(m, t)) x (1 + vnoise(v, m, t)):
 * a 4-epoch load cycle of +/-`cycle` (phase by miner), the miner's own
 * per-epoch noise (uniform +/-`noise`) and the validator's measurement noise
 * (uniform +/-2 %), all seeded. The TFT chain trains its model every 8
 * epochs on the last K = 16 epochs (jobs applied D = 3 blocks later) and
 * measures its accuracy against season-1 naive on chain; blocks_per_year =
 * 50 makes beta = 1 from height 200 (epoch 20). (Emission halves every 5
 * epochs: rewards fall 2^10-fold over the run.)
 *
 * The attack: in epochs ATTACK..ATTACK+3 the cabal scores one miner
 * (BOOSTED, of median quality) BOOST times higher; with 60 % of the stake
 * its weights are the consensus and the miner's incentive goes to about
 * 3.3x its fair share. The model applied during the attack was trained at
 * epoch 40 on pre-attack epochs (the next job, at 48, comes after it).
 *
 * Rewards are what the chain paid: each miner's `paid` in the epoch records
 * (read after every epoch; checked against the miners' balance deltas).
 *   fair share  = BOOSTED's paid / all miners' paid, summed over the normal
 *                 epochs NORMAL0..ATTACK-1 of the b = 0 chain;
 *   excess(c, span) = sum over the span of BOOSTED's paid in chain c minus
 *                 fair share x that epoch's miners' total in chain c (what
 *                 the boost gained it above its fair share);
 *   honest change(span) = per honest miner, (paid in the TFT chain - paid
 *                 in the b = 0 chain) / paid in the b = 0 chain, summed over
 *                 the span; the worst over the honest miners is reported.
 * Spans: the attack epochs, the normal epochs NORMAL0..ATTACK-1, the 4
 * epochs after the attack, and the whole run.
 *
 * tft_chain_manipulation_cabal_boost_damped (load cycle 15 %, noise 4 %):
 * asserts b = 1 (TFT_BETA_ONE) in the attack epochs; excess(TFT, attack)
 * <= excess(b = 0, attack) / 2; over the attack and the 4 epochs after it,
 * the excess in shares of the epochs' miners' totals with the TFT <= half
 * of b = 0's (the base, format 4, takes a season's deviation only as far
 * as the latest epoch confirms it, so the boosted season is not echoed a
 * season later, except for its first epoch: docs/tft.md "In the chain");
 * every honest change (attack, normal, run) below 5 %.
 * tft_chain_manipulation_aperiodic_network (no cycle, noise 8 %): the same
 * attack with no season detected (S = 1); asserts the records' b = beta x
 * accuracy, b >= 1/2 in the attack epochs (formats 1-3, whose target input
 * was identically 0 with S = 1, reached ~0.1: docs/tft.md), that the TFT
 * does not raise the excess, and the honest changes below 5 %. */
#include <stdio.h>

#include "tests/runner.h"
#include "tests/emission/env.h"
#include "rewards/internal.h"
#include "rewards/tftchain.h"

#define NV 5
#define NM 128
#define FIRST_MINER 10                /* dev10.. are the miners */
#define NUIDS (NV + NM)               /* validators are uids 0..4, miners 5.. */
#define TEMPO 9                       /* an epoch every 10 blocks */
#define NE 50                         /* epochs run: 0..NE-1 */
#define NORMAL0 24                    /* first normal epoch compared */
#define ATTACK 41                     /* the boosted epochs: ATTACK..ATTACK+3 */
#define NATTACK 4
#define BOOSTED (NM / 2 - 1)          /* miner index; quality 0.99 */
#define BOOST 5                       /* the cabal's factor on its score */
#define SEED 0x5eed0f7f7ull

#define PARAMS "\"tempo\": 9, \"weights_rate_limit\": 5, \"tft_window\": 16, " \
               "\"tft_train_every\": 8, \"tft_apply_delay\": 3"

typedef struct {
    int64_t cycle, noise;             /* parts per 10000 */
} network;

static network NET;

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Uniform integer in [-r, r], a function of (a, b, c) only. */
static int64_t noise(uint64_t a, uint64_t b, uint64_t c, int64_t r)
{
    uint64_t h = mix(SEED ^ mix(a ^ mix(b ^ mix(c))));
    return (int64_t)(h % (uint64_t)(2 * r + 1)) - r;
}

/* Miner m's quality in parts per 10000: 0.6-1.4, spread over the uids. */
static int64_t quality(size_t m)
{
    return 6000 + 8000 * (int64_t)((m * 37) % NM) / (NM - 1);
}

/* Validator v's u16 weight on miner m for epoch t. */
static uint16_t score(size_t v, size_t m, size_t t)
{
    static const int64_t shape[4] = { 10000, 3000, -10000, -3000 };
    int64_t load = NET.cycle * shape[(t + m) % 4] / 10000;
    int64_t perf = quality(m) * (10000 + load + noise(1, m, t, NET.noise)) / 10000;
    int64_t s = perf * (10000 + noise(2 + v, m, t, 200)) / 10000;
    if (v < 2 && m == BOOSTED && t >= ATTACK && t < ATTACK + NATTACK)
        s *= BOOST;
    s = s * 10000 / 13000;            /* the boosted score stays below 65535 */
    return (uint16_t)(s > 65535 ? 65535 : s);
}

static void weights_tx(env *e, size_t v, size_t t, bool reveal)
{
    static char j[8192];
    uint16_t uids[NM], w[NM];
    uint8_t salt[2] = { (uint8_t)v, (uint8_t)t };
    for (size_t m = 0; m < NM; m++)
        uids[m] = (uint16_t)(NV + m), w[m] = score(v, m, t);
    env_weights_json(0, reveal, uids, w, NM, salt, sizeof salt, j, sizeof j);
    CHECK_EQ_INT(env_queue(e, (unsigned)(1 + v), reveal ? "weights_reveal" : "weights_commit", j),
                 BASED_E_OK);
}

/* What one chain paid, per epoch. */
typedef struct {
    uint64_t paid[NE][NUIDS];
    uint64_t miners[NE];              /* the epoch's miners_paid */
    uint64_t b[NE], beta[NE], acc[NE];/* 32.32; 0 when the TFT is off */
    uint64_t loss_tft, loss_naive;    /* pooled, at the end */
    uint16_t inc[NE][NUIDS], p10[NE][NUIDS], p90[NE][NUIDS];
} run;

static void setup(env *e, bool tft)
{
    char j[256];
    env_open_year(e, 50, tft ? "\"tft_enabled\": 1, " PARAMS : PARAMS);
    for (unsigned m = 0; m < NM; m++) {
        snprintf(j, sizeof j, "{\"to\": \"%s\", \"amount\": \"1000\"}", env_addr(e, FIRST_MINER + m));
        CHECK_EQ_INT(env_queue(e, 0, "transfer", j), BASED_E_OK);
    }
    CHECK_EQ_U64(env_flush(e), NM);
    for (unsigned v = 0; v < NV; v++)
        CHECK_EQ_INT(env_queue(e, 1 + v, "memorize", "{\"brain\": 0, \"role\": \"validator\"}"),
                     BASED_E_OK);
    for (unsigned m = 0; m < NM; m++)
        CHECK_EQ_INT(env_queue(e, FIRST_MINER + m, "memorize", "{\"brain\": 0, \"role\": \"miner\"}"),
                     BASED_E_OK);
    CHECK_EQ_U64(env_flush(e), NUIDS);
    for (unsigned v = 0; v < NV; v++) {
        snprintf(j, sizeof j, "{\"brain\": 0, \"hotkey\": \"%s\", \"amount\": \"%s\"}",
                 env_addr(e, 1 + v), v < 2 ? "300000" : "133333");
        CHECK_EQ_INT(env_queue(e, 1 + v, "stake", j), BASED_E_OK);
    }
    CHECK_EQ_U64(env_flush(e), NV);
}

/* Reads epoch `ep`'s record into r. */
static void take_epoch(env *e, uint32_t inst, size_t ep, run *r)
{
    reward_epoch_rec rec;
    chain_view *v = chain_ledger_view(e->l);
    based_err rc = reward_epoch_rec_get(v, 0, inst, ep, &rec);
    chain_view_free(v);
    CHECK_EQ_INT(rc, BASED_E_OK);
    CHECK_EQ_U64(rec.n, NUIDS);
    if (rec.n != NUIDS) {
        reward_epoch_rec_free(&rec);
        return;
    }
    r->miners[ep] = rec.miners_paid;
    r->b[ep] = rec.has_tft ? rec.tft_b : 0;
    r->beta[ep] = rec.has_tft ? rec.tft_beta : 0;
    r->acc[ep] = rec.has_tft ? rec.tft_acc : 0;
    for (size_t i = 0; i < NUIDS; i++) {
        CHECK_EQ_INT(rec.nr[i].role, i < NV ? STAKE_VALIDATOR : STAKE_MINER);
        r->paid[ep][i] = rec.nr[i].paid;
        r->inc[ep][i] = rec.nr[i].incentive;
        r->p10[ep][i] = rec.has_tft ? rec.nr[i].p10 : 0;
        r->p90[ep][i] = rec.has_tft ? rec.nr[i].p90 : 65535;
    }
    reward_epoch_rec_free(&rec);
}

/* Runs one chain to the end of epoch NE - 1; its store is then renamed to
 * db-on / db-off so that the other chain starts fresh. */
static void run_chain(bool tft, run *r)
{
    env e;
    contract_brain b;
    uint64_t bal0[NM];
    char moved[700];
    memset(r, 0, sizeof *r);
    setup(&e, tft);
    chain_view *v = chain_ledger_view(e.l);
    CHECK_EQ_INT(contract_brain_get(v, 0, &b), BASED_E_OK);
    chain_view_free(v);
    for (size_t m = 0; m < NM; m++)
        bal0[m] = env_balance(&e, FIRST_MINER + (unsigned)m);
    size_t next = 0;                  /* the next epoch record to read */
    while (next < NE) {
        uint64_t h = env_height(&e) + 1, w = reward_window(TEMPO, 0, h);
        if (reward_window(TEMPO, 0, h - 1) != w) {
            /* window w's first block: reveal epoch w's scores (committed in
             * window w - 1), commit epoch w + 1's; epoch w runs at the start
             * of window w + 1 */
            for (size_t val = 0; val < NV; val++) {
                if (w >= 2)
                    weights_tx(&e, val, w, true);
                weights_tx(&e, val, w + 1, false);
            }
            CHECK_EQ_U64(env_flush(&e), w >= 2 ? 2 * NV : NV);
        } else {
            env_blocks(&e, 1);
        }
        if (reward_is_epoch_block(TEMPO, 0, h))
            take_epoch(&e, b.instance, next++, r);
    }
    /* the records' payouts are what reached the miners' balances */
    for (size_t m = 0; m < NM; m++) {
        uint64_t sum = 0;
        for (size_t t = 0; t < NE; t++)
            sum += r->paid[t][NV + m];
        CHECK_EQ_U64(env_balance(&e, FIRST_MINER + (unsigned)m) - bal0[m], sum);
    }
    if (tft) {
        based_err code;
        v = chain_ledger_view(e.l);
        json_t *f = reward_tft_json(v, &e.g, env_height(&e), 0, &code);
        chain_view_free(v);
        CHECK(f != NULL);
        r->loss_tft = (uint64_t)json_integer_value(json_object_get(f, "loss_tft"));
        r->loss_naive = (uint64_t)json_integer_value(json_object_get(f, "loss_naive"));
        json_decref(f);
    }
    CHECK(env_audit(&e));
    env_close(&e);
    snprintf(moved, sizeof moved, "%s-%s", e.db, tft ? "on" : "off");
    CHECK_EQ_INT(rename(e.db, moved), 0);
}

/* The worst change over the honest miners of paid in the TFT chain vs
 * b = 0, summed over epochs [t0, t1). */
static double honest_change(const run *r0, const run *r1, size_t t0, size_t t1)
{
    double worst = 0, worst_abs = 0;
    for (size_t m = 0; m < NM; m++) {
        uint64_t s0 = 0, s1 = 0;
        if (m == BOOSTED)
            continue;
        for (size_t t = t0; t < t1; t++)
            s0 += r0->paid[t][NV + m], s1 += r1->paid[t][NV + m];
        double c = s0 ? ((double)s1 - (double)s0) / (double)s0 : 1.0;
        if ((c < 0 ? -c : c) > worst_abs)
            worst_abs = c < 0 ? -c : c, worst = c;
    }
    return worst;
}

static double excess(const run *r, double fair, size_t t0, size_t t1)
{
    double x = 0;
    for (size_t t = t0; t < t1; t++)
        x += (double)r->paid[t][NV + BOOSTED] - fair * (double)r->miners[t];
    return x;
}

/* The same in shares of each epoch's miners' total (emission halves every
 * 5 epochs here, so base units weigh later epochs less). */
static double excess_share(const run *r, double fair, size_t t0, size_t t1)
{
    double x = 0;
    for (size_t t = t0; t < t1; t++)
        x += r->miners[t] ? (double)r->paid[t][NV + BOOSTED] / (double)r->miners[t] - fair : 0;
    return x;
}

typedef struct {
    double ex0, ex1, after0, after1;  /* excess: attack epochs, the 4 after */
    double sh0, sh1;                  /* excess_share over attack + the 4 after */
    double h_att, h_norm, h_after, h_run;
    uint64_t bmin_attack;
} figures;

static void compare(const run *r0, const run *r1, figures *f)
{
    uint64_t sx = 0, sall = 0;
    for (size_t t = NORMAL0; t < ATTACK; t++)
        sx += r0->paid[t][NV + BOOSTED], sall += r0->miners[t];
    CHECK(sall > 0);
    double fair = sall ? (double)sx / (double)sall : 0, boost = 0;
    size_t in = 0, all = 0;
    f->ex0 = excess(r0, fair, ATTACK, ATTACK + NATTACK);
    f->ex1 = excess(r1, fair, ATTACK, ATTACK + NATTACK);
    f->after0 = excess(r0, fair, ATTACK + NATTACK, ATTACK + 2 * NATTACK);
    f->after1 = excess(r1, fair, ATTACK + NATTACK, ATTACK + 2 * NATTACK);
    f->sh0 = excess_share(r0, fair, ATTACK, ATTACK + 2 * NATTACK);
    f->sh1 = excess_share(r1, fair, ATTACK, ATTACK + 2 * NATTACK);
    f->h_att = honest_change(r0, r1, ATTACK, ATTACK + NATTACK);
    f->h_norm = honest_change(r0, r1, NORMAL0, ATTACK);
    f->h_after = honest_change(r0, r1, ATTACK + NATTACK, ATTACK + 2 * NATTACK);
    f->h_run = honest_change(r0, r1, 0, NE);
    f->bmin_attack = UINT64_MAX;
    for (size_t t = ATTACK; t < ATTACK + NATTACK; t++) {
        boost += (double)r0->paid[t][NV + BOOSTED] / (fair * (double)r0->miners[t]) / NATTACK;
        f->bmin_attack = r1->b[t] < f->bmin_attack ? r1->b[t] : f->bmin_attack;
    }
    /* the bands against the b = 0 chain's incentive (the TFT chain's own
     * RC differs from it only through the validators' stakes) */
    for (size_t t = NORMAL0; t < ATTACK; t++)
        for (size_t m = 0; m < NM; m++, all++)
            in += r0->inc[t][NV + m] >= r1->p10[t][NV + m] && r0->inc[t][NV + m] <= r1->p90[t][NV + m];
    for (size_t t = NORMAL0 - 4; t < NE; t++)
        printf("epoch %2zu b %.3f acc %.3f | boosted: incentive (b=0) %5u band [%5u, %5u] "
               "paid b=0 %9" PRIu64 " tft %9" PRIu64 "\n", t, r1->b[t] / 4294967296.0,
               r1->acc[t] / 4294967296.0, r0->inc[t][NV + BOOSTED], r1->p10[t][NV + BOOSTED],
               r1->p90[t][NV + BOOSTED], r0->paid[t][NV + BOOSTED], r1->paid[t][NV + BOOSTED]);
    printf("pooled loss TFT %" PRIu64 " naive %" PRIu64 " (ratio %.3f); P10-P90 coverage of the "
           "miners' incentive, epochs %d-%d: %.3f; boosted miner at %.2fx its fair share (b=0)\n",
           r1->loss_tft, r1->loss_naive,
           r1->loss_naive ? (double)r1->loss_tft / (double)r1->loss_naive : 0.0, NORMAL0,
           ATTACK - 1, all ? (double)in / (double)all : 0.0, boost);
    printf("cabal excess in the attack epochs: b=0 %.0f, TFT %.0f (%.1f %%); in the %d epochs "
           "after: b=0 %.0f, TFT %.0f; attack + after: %.1f %%\n", f->ex0, f->ex1,
           100.0 * f->ex1 / f->ex0, NATTACK, f->after0, f->after1,
           100.0 * (f->ex1 + f->after1) / (f->ex0 + f->after0));
    printf("the same in shares of the epochs' miners' total: attack b=0 %.4f, TFT %.4f; after: "
           "b=0 %.4f, TFT %.4f\n", excess_share(r0, fair, ATTACK, ATTACK + NATTACK),
           excess_share(r1, fair, ATTACK, ATTACK + NATTACK),
           excess_share(r0, fair, ATTACK + NATTACK, ATTACK + 2 * NATTACK),
           excess_share(r1, fair, ATTACK + NATTACK, ATTACK + 2 * NATTACK));
    printf("attack + after in shares: b=0 %.4f, TFT %.4f (%.1f %%)\n", f->sh0, f->sh1,
           f->sh0 != 0 ? 100.0 * f->sh1 / f->sh0 : 0.0);
    printf("worst honest change TFT vs b=0: attack epochs %+.2f %%, normal epochs %d-%d %+.2f %%, "
           "%d epochs after %+.2f %%, whole run %+.2f %%\n", 100.0 * f->h_att, NORMAL0,
           ATTACK - 1, 100.0 * f->h_norm, NATTACK, 100.0 * f->h_after, 100.0 * f->h_run);
}

static void check_records(const run *r1)
{
    for (size_t t = 0; t < NE; t++)
        CHECK_EQ_U64(r1->b[t], tft_beta_times(r1->beta[t], r1->acc[t]));
}

TEST(tft_chain_manipulation_cabal_boost_damped)
{
    static run r0, r1;
    figures f;
    NET = (network){ 1500, 400 };
    run_chain(false, &r0);
    run_chain(true, &r1);
    compare(&r0, &r1, &f);
    check_records(&r1);
    for (size_t t = ATTACK; t < ATTACK + NATTACK; t++)
        CHECK_EQ_U64(r1.b[t], TFT_BETA_ONE);
    CHECK(f.ex0 > 0);
    CHECK(2 * f.ex1 <= f.ex0);
    CHECK(f.sh0 > 0);
    CHECK(2 * f.sh1 <= f.sh0);          /* no echo of the boosted season */
    CHECK(f.h_att < 0.05 && f.h_att > -0.05);
    CHECK(f.h_norm < 0.05 && f.h_norm > -0.05);
    CHECK(f.h_run < 0.05 && f.h_run > -0.05);
}

TEST(tft_chain_manipulation_aperiodic_network)
{
    static run r0, r1;
    figures f;
    NET = (network){ 0, 800 };
    run_chain(false, &r0);
    run_chain(true, &r1);
    compare(&r0, &r1, &f);
    check_records(&r1);
    printf("b in the attack epochs >= %.3f\n", f.bmin_attack / 4294967296.0);
    CHECK(f.bmin_attack >= TFT_BETA_ONE / 2);
    CHECK(f.ex0 > 0);
    CHECK(f.ex1 <= f.ex0);
    CHECK(f.h_att < 0.05 && f.h_att > -0.05);
    CHECK(f.h_norm < 0.05 && f.h_norm > -0.05);
    CHECK(f.h_run < 0.05 && f.h_run > -0.05);
}
