/* Incremental per-epoch TFT forecasts (rewards/tftcache.c) and the feeds of
 * rewards/tftchain.c:
 *  - the feed rules: rebased to the last K at 2K, cut to K;
 *  - a cached state advanced epoch by epoch gives the same bits as the
 *    whole-feed recomputation (tft_forecast_series), through growth,
 *    rebases, a model application, an occupant change, a rewritten
 *    history (fork), random cache clears and a cache too small to hold
 *    the Brain; and it really advances (counted);
 *  - a chain with the cache on (cleared at random blocks; states prebuilt
 *    on a thread when a model is applied) replays to the
 *    same state root at every block with the cache warm from a later
 *    height, with no cache, and with whole-feed recomputation; a second
 *    chain run with whole-feed recomputation ends in the same state,
 *    TFT keys and epoch records included. */
#include <stdio.h>

#include "tests/runner.h"
#include "tests/emission/env.h"
#include "chain/keys.h"
#include "rewards/internal.h"
#include "rewards/tftcache.h"

TEST(tft_feed_append_rebases_and_cut)
{
    uint16_t y[REWARD_TFT_MAX_FEED];
    size_t len = 0;
    for (uint16_t v = 1; v <= 16; v++)
        reward_tft_feed_append(y, &len, v, 8);
    CHECK_EQ_U64(len, 16);
    CHECK_EQ_INT(y[0], 1);
    reward_tft_feed_append(y, &len, 17, 8);      /* 2K reached: last K - 1, then 17 */
    CHECK_EQ_U64(len, 8);
    for (size_t i = 0; i < 8; i++)
        CHECK_EQ_INT(y[i], 10 + (int)i);
    reward_tft_feed_append(y, &len, 18, 8);
    CHECK_EQ_U64(len, 9);
    reward_tft_feed_cut(y, &len, 8);
    CHECK_EQ_U64(len, 8);
    CHECK_EQ_INT(y[0], 11);
    CHECK_EQ_INT(y[7], 18);
    reward_tft_feed_cut(y, &len, 8);               /* no-op at K */
    CHECK_EQ_U64(len, 8);
    len = 3;
    reward_tft_feed_cut(y, &len, 8);
    CHECK_EQ_U64(len, 3);
}

/* ---- epoch by epoch against the reference ---- */

#define NU 6
#define KW 8

static uint16_t value(size_t u, size_t t)
{
    return (uint16_t)(3000 + 1500 * u + 700 * ((t * (u + 2)) % 5) + 40 * (t % 7));
}

static uint8_t *model_bytes_of(uint64_t seed, size_t *n)
{
    static uint16_t y[NU][KW];
    const uint16_t *s[NU];
    size_t len[NU];
    struct tft_model *m = NULL;
    for (size_t u = 0; u < NU; u++) {
        for (size_t t = 0; t < KW; t++)
            y[u][t] = value(u, t + seed);
        s[u] = y[u], len[u] = KW;
    }
    if (reward_tft_train(s, len, NU, KW, seed, &m) != BASED_E_OK || !m)
        return NULL;
    uint8_t *b = NULL;
    if (tft_model_save(m, NULL, n) == BASED_E_OK && (b = malloc(*n)) != NULL &&
        tft_model_save(m, b, n) != BASED_E_OK) {
        free(b);
        b = NULL;
    }
    tft_model_free(m);
    return b;
}

typedef struct {
    uint16_t y[NU][REWARD_TFT_MAX_FEED];
    size_t len[NU];
    uint64_t reg[NU];
} feeds;

/* Forecasts every feed through the cache and checks each against the
 * reference, bit for bit; *made = the number of forecasts made. */
static void forecast_check(const uint8_t *mb, size_t ml, feeds *fs, uint64_t height, size_t *made)
{
    reward_tft_feed f[NU];
    reward_tft_brain_epoch be = { 3, 1, mb, ml, KW, height, 20 };
    struct tft_model *m = NULL;
    *made = 0;
    memset(f, 0, sizeof f);
    for (size_t u = 0; u < NU; u++)
        f[u] = (reward_tft_feed){ .reg = fs->reg[u], .y = fs->y[u], .len = fs->len[u] };
    CHECK_EQ_INT(reward_tft_forecast_feeds(env_tft()->cache, &be, f, NU), BASED_E_OK);
    CHECK_EQ_INT(tft_model_load(mb, ml, &m), BASED_E_OK);
    for (size_t u = 0; m && u < NU; u++) {
        double raw[3];
        uint16_t q[3];
        if (fs->len[u] < 2) {
            CHECK(!f[u].ok);
            continue;
        }
        CHECK(f[u].ok);
        CHECK_EQ_INT(reward_tft_forecast_feed(m, fs->y[u], fs->len[u], KW, raw, q), BASED_E_OK);
        CHECK(memcmp(raw, f[u].raw, sizeof raw) == 0);
        CHECK(memcmp(q, f[u].q, sizeof q) == 0);
        (*made)++;
    }
    tft_model_free(m);
}

TEST(tft_incremental_equals_full_recomputation)
{
    size_t ml1 = 0, ml2 = 0;
    uint8_t *m1 = model_bytes_of(1, &ml1), *m2 = model_bytes_of(2, &ml2);
    CHECK(m1 && m2);
    if (!m1 || !m2)
        return;
    static feeds fs;
    reward_tft_cache_stats s0, s1;
    uint64_t rng = 0x1234567;
    memset(&fs, 0, sizeof fs);
    reward_tft_cache_set(env_tft()->cache, REWARD_TFT_CACHE_ON, REWARD_TFT_CACHE_DEFAULT_BYTES);
    reward_tft_cache_clear(env_tft()->cache);
    const uint8_t *mb = m1;
    size_t ml = ml1;
    static feeds prev;            /* what each cached state was fed */
    bool cached[NU] = { false }, cut = false;
    for (size_t t = 0; t < 60; t++) {
        if (t == 30) {                                /* a new model: feeds cut to K */
            mb = m2, ml = ml2, cut = true;
            for (size_t u = 0; u < NU; u++)
                reward_tft_feed_cut(fs.y[u], &fs.len[u], KW);
        }
        for (size_t u = 0; u < NU; u++)
            reward_tft_feed_append(fs.y[u], &fs.len[u], value(u, t), KW);
        if (t == 36)                                  /* uid 1: a new occupant */
            fs.reg[1] = 36, fs.len[1] = 1, fs.y[1][0] = value(1, t);
        if (t == 44)                                  /* another fork rewrote uid 2's past */
            fs.y[2][fs.len[2] - 3] ^= 0x55;
        size_t want = 0;
        for (size_t u = 0; u < NU; u++) {
            size_t nf = fs.len[u] < KW ? fs.len[u] : KW, pf = prev.len[u] < KW ? prev.len[u] : KW;
            bool hit = cached[u] && !(cut && t == 30) && fs.len[u] >= 2 &&
                       prev.reg[u] == fs.reg[u] && nf == pf && prev.len[u] <= fs.len[u] &&
                       memcmp(prev.y[u], fs.y[u], prev.len[u] * sizeof fs.y[u][0]) == 0;
            want += hit;
        }
        reward_tft_cache_stats_get(env_tft()->cache, &s0);
        size_t made = 0;
        forecast_check(mb, ml, &fs, 100 + t, &made);
        reward_tft_cache_stats_get(env_tft()->cache, &s1);
        size_t adv = (size_t)(s1.advanced - s0.advanced), reb = (size_t)(s1.rebuilt - s0.rebuilt);
        CHECK_EQ_U64(adv + reb, made);
        CHECK_EQ_U64(adv, want);
        if (t == 30)
            CHECK_EQ_U64(reb, NU);                    /* model application rebuilds all */
        if (t == 37 || t == 44 || t == 16 || t == 25)
            CHECK(reb >= 1);                          /* occupant, fork, rebases */
        prev = fs;
        for (size_t u = 0; u < NU; u++)
            cached[u] = fs.len[u] >= 2;
        if (t >= 50 && (rng = rng * 6364136223846793005ull + 1, (rng >> 60) & 1)) {
            reward_tft_cache_clear(env_tft()->cache);   /* as after a restart */
            memset(cached, 0, sizeof cached);
        }
    }
    CHECK(s1.advanced > s1.rebuilt);
    /* a cache too small for the Brain: forecast uncached, same bits */
    reward_tft_cache_set(env_tft()->cache, REWARD_TFT_CACHE_ON, 4096);
    reward_tft_cache_clear(env_tft()->cache);
    size_t made;
    reward_tft_cache_stats_get(env_tft()->cache, &s0);
    forecast_check(mb, ml, &fs, 200, &made);
    forecast_check(mb, ml, &fs, 201, &made);
    reward_tft_cache_stats_get(env_tft()->cache, &s1);
    CHECK_EQ_U64(s1.brains, 0);
    CHECK_EQ_U64(s1.uncached - s0.uncached, 2);
    CHECK_EQ_U64(s1.advanced - s0.advanced, 0);
    /* cached entries report their memory */
    reward_tft_cache_set(env_tft()->cache, REWARD_TFT_CACHE_ON, REWARD_TFT_CACHE_DEFAULT_BYTES);
    forecast_check(mb, ml, &fs, 202, &made);
    reward_tft_cache_stats_get(env_tft()->cache, &s1);
    CHECK_EQ_U64(s1.brains, 1);
    CHECK_EQ_U64(s1.uids, NU);
    CHECK(s1.bytes > NU * 1000 && s1.bytes < ml + NU * 8000);
    reward_tft_cache_clear(env_tft()->cache);
    free(m1);
    free(m2);
}

/* ---- the chain ---- */

/* K = 8, a model every 12 epochs: feeds grow past 2K and are rebased. The
 * cache is cleared after a block with probability 1/clear_every (0: never). */
static void run_chain(env *e, unsigned blocks, unsigned clear_every)
{
    uint64_t rng = 99;
    env_open_year(e, 20, "\"tft_enabled\": 1, \"tempo\": 9, \"weights_rate_limit\": 5, "
                  "\"tft_window\": 8, \"tft_train_every\": 12, \"tft_apply_delay\": 5");
    env_toy_setup(e);
    while (env_height(e) < blocks) {
        env_toy_step(e);
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        if (clear_every && (rng >> 33) % clear_every == 0)
            reward_tft_cache_clear(env_tft()->cache);
    }
}

static int dump_kv(void *user, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl)
{
    chain_wbuf *w = user;
    chain_w_bytes(w, k, kl);
    chain_w_bytes(w, val, vl);
    return 0;
}

/* Every state key and value, TFT keys and epoch records included. */
static chain_hash digest(env *e, size_t *tft_bytes)
{
    chain_wbuf w;
    chain_w_init(&w, 1u << 28);
    for (uint8_t c = 'a'; c <= 'z'; c++) {
        size_t before = w.len;
        chain_store_scan(chain_ledger_store(e->l), &c, 1, dump_kv, &w);
        if (c == CHAIN_T_TFT)
            *tft_bytes = w.len - before;
    }
    chain_hash h = chain_hash_bytes(w.p, w.len);
    chain_w_free(&w);
    return h;
}

static based_err replay(env *e, const char *name)
{
    char tmp[600], err[256];
    snprintf(tmp, sizeof tmp, "%s/%s", test_tmpdir(), name);
    based_err rc = chain_ledger_verify(env_runtime(), e->db, tmp, NULL, NULL, err, sizeof err);
    if (rc != BASED_E_OK)
        printf("replay %s: %s\n", name, err);
    return rc;
}

TEST(tft_incremental_chain_cache_on_off_replay)
{
    env e;
    char moved[700];
    size_t tft1 = 0, tft2 = 0;
    reward_tft_cache_stats s;
    reward_tft_cache_set(env_tft()->cache, REWARD_TFT_CACHE_ON, REWARD_TFT_CACHE_DEFAULT_BYTES);
    reward_tft_cache_clear(env_tft()->cache);
    run_chain(&e, 330, 64);
    reward_tft_cache_stats_get(env_tft()->cache, &s);
    printf("cache on: %" PRIu64 " forecasts advanced (%" PRIu64 " states prebuilt when a model "
           "was applied), %" PRIu64 " rebuilt, %zu bytes held\n", s.advanced, s.prebuilt,
           s.rebuilt, s.bytes);
    CHECK(s.advanced > 0);
    CHECK(s.prebuilt > 0);
    CHECK(s.rebuilt > 0);
    CHECK(s.advanced > s.rebuilt);
    chain_hash on = digest(&e, &tft1);
    based_err code;
    chain_view *v = chain_ledger_view(e.l);
    json_t *f = reward_tft_json(v, &e.g, env_height(&e), 0, &code);
    chain_view_free(v);
    CHECK(f != NULL);
    CHECK(json_is_object(json_object_get(f, "model")));
    size_t with_tft = 0;
    json_t *uids = json_object_get(f, "uids");
    for (size_t i = 0; i < json_array_size(uids); i++)
        with_tft += json_is_object(json_object_get(json_array_get(uids, i), "tft"));
    CHECK(with_tft >= 3);
    json_decref(f);
    /* replays: warm cache from height 330, no cache, whole-feed recomputation */
    chain_ledger_free(e.l);
    e.l = NULL;
    reward_tft_pool *pool = env_tft()->pool;
    env_tft()->pool = NULL;
    CHECK_EQ_INT(replay(&e, "replay-warm"), BASED_E_OK);
    reward_tft_cache_set(env_tft()->cache, REWARD_TFT_CACHE_REBUILD, 0);
    CHECK_EQ_INT(replay(&e, "replay-rebuild"), BASED_E_OK);
    reward_tft_cache_set(env_tft()->cache, REWARD_TFT_CACHE_SERIES, 0);
    CHECK_EQ_INT(replay(&e, "replay-series"), BASED_E_OK);
    reward_tft_cache *cache = env_tft()->cache;
    env_tft()->cache = NULL;
    CHECK_EQ_INT(replay(&e, "replay-nocache"), BASED_E_OK);
    env_tft()->cache = cache;
    env_tft()->pool = pool;
    chain_genesis_release(&e.g);
    /* a second chain, whole-feed recomputation throughout: the same state */
    snprintf(moved, sizeof moved, "%s/db-on", test_tmpdir());
    CHECK_EQ_INT(rename(e.db, moved), 0);
    run_chain(&e, 330, 0);
    chain_hash series = digest(&e, &tft2);
    env_close(&e);
    reward_tft_cache_set(env_tft()->cache, REWARD_TFT_CACHE_ON, 0);
    CHECK(tft1 > 0);
    CHECK_EQ_U64(tft1, tft2);
    CHECK(memcmp(on.b, series.b, 32) == 0);
}

/* ---- the training subset of a job ---- */

#define PICK_NU 300
#define PICK_K 8

typedef struct {
    uint64_t rank;
    uint16_t uid;
} pick_ref;

static int pick_ref_cmp(const void *a, const void *b)
{
    const pick_ref *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return (x->uid > y->uid) - (x->uid < y->uid);
}

/* Runs n uids through PICK_K + 1 Brain epochs (a job due at the last) on a
 * fresh store; the job value into job[*jl] (0 when none). uid u's incentive
 * at epoch e is 100 u + e, so a series names its uid. */
static void pick_chain(size_t n, uint64_t height0, uint8_t *job, size_t *jl, uint64_t *job_height)
{
    chain_genesis g;
    char err[256], dir[600];
    chain_store *st = NULL;
    static stake_neuron nn[PICK_NU];
    uint16_t inc[PICK_NU];
    static unsigned run;
    *jl = 0;
    if (chain_genesis_load("genesis.json", &g, err, sizeof err) != BASED_E_OK) {
        CHECK(!"genesis.json");
        return;
    }
    snprintf(dir, sizeof dir, "%s/pick%u", test_tmpdir(), run++);
    if (chain_store_open(dir, &st, err, sizeof err) != BASED_E_OK) {
        CHECK(!"store");
        chain_genesis_release(&g);
        return;
    }
    g.params.tft_enabled = 1, g.params.tft_window = PICK_K, g.params.tft_train_every = PICK_K;
    chain_exec ex;
    memset(&ex, 0, sizeof ex);
    ex.view = chain_view_new(st, NULL);
    ex.genesis = &g;
    contract_brain b;
    memset(&b, 0, sizeof b);
    b.id = 3, b.instance = 2;
    memset(nn, 0, sizeof nn);
    for (size_t i = 0; i < n; i++)
        nn[i].uid = (uint16_t)i, nn[i].registered_at = 1 + i;
    for (size_t e = 0; e <= PICK_K; e++) {   /* no handles: synchronous, no cache */
        ex.height = height0 + 100 * e;
        for (size_t i = 0; i < n; i++)
            inc[i] = (uint16_t)(100 * i + e);
        CHECK_EQ_INT(reward_tft_after(&ex, &b, nn, n, inc), BASED_E_OK);
    }
    *job_height = ex.height;
    uint8_t key[8] = { CHAIN_T_TFT };
    reward_put_brain(key + 1, b.id, b.instance);
    key[7] = 'J';
    const uint8_t *val;
    size_t vl;
    if (chain_view_get(ex.view, key, sizeof key, &val, &vl) == BASED_E_OK && vl <= 200000) {
        memcpy(job, val, vl);
        *jl = vl;
    }
    chain_view_free(ex.view);
    chain_store_free(st);
    chain_genesis_release(&g);
}

/* The uids of a job's series (in order) into uid[], their count into *cnt
 * (0 when the job does not parse). */
static void pick_job_uids(const uint8_t *job, size_t jl, uint16_t *uid, size_t *cnt)
{
    *cnt = 0;
    chain_rbuf r;
    chain_r_init(&r, job, jl);
    chain_r_u64(&r), chain_r_u64(&r), chain_r_u64(&r);
    CHECK_EQ_INT(chain_r_u16(&r), PICK_K);
    uint64_t n = chain_r_uleb(&r);
    for (uint64_t i = 0; i < n && !r.err; i++) {
        CHECK_EQ_INT(chain_r_u8(&r), PICK_K);            /* a whole window */
        uint16_t y0 = chain_r_u16(&r);
        uid[i] = (uint16_t)(y0 / 100);
        CHECK_EQ_INT(y0 % 100, 1);                        /* the window is epochs 1..K */
        for (size_t s = 1; s < PICK_K; s++)
            CHECK_EQ_INT(chain_r_u16(&r), 100 * uid[i] + 1 + s);
    }
    chain_r_finish(&r);
    CHECK(!r.err);
    *cnt = (size_t)n;
}

TEST(tft_job_training_subset_capped_and_deterministic)
{
    static uint8_t j1[200000], j2[200000], j3[200000];
    size_t l1, l2, l3, c;
    uint64_t h1, h2, h3;
    uint16_t u1[PICK_NU], u3[PICK_NU];
    pick_chain(PICK_NU, 1000, j1, &l1, &h1);
    pick_chain(PICK_NU, 1000, j2, &l2, &h2);        /* replay */
    CHECK(l1 > 0);
    CHECK_EQ_U64(l1, l2);
    CHECK_EQ_MEM(j1, j2, l1);
    pick_job_uids(j1, l1, u1, &c);
    CHECK_EQ_U64(c, REWARD_TFT_TRAIN_MAX);
    /* exactly the REWARD_TFT_TRAIN_MAX smallest ranks, in uid order */
    pick_ref ref[PICK_NU];
    for (uint16_t i = 0; i < PICK_NU; i++)
        ref[i] = (pick_ref){ reward_tft_pick_rank(3, 2, h1, i), i };
    qsort(ref, PICK_NU, sizeof *ref, pick_ref_cmp);
    bool want[PICK_NU] = { false };
    for (size_t i = 0; i < REWARD_TFT_TRAIN_MAX; i++)
        want[ref[i].uid] = true;
    size_t at = 0;
    for (uint16_t i = 0; i < PICK_NU; i++)
        if (want[i]) {
            CHECK_EQ_INT(u1[at], i);
            at++;
        }
    CHECK_EQ_U64(at, REWARD_TFT_TRAIN_MAX);
    /* another height, another subset (same size) */
    pick_chain(PICK_NU, 1001, j3, &l3, &h3);
    pick_job_uids(j3, l3, u3, &c);
    CHECK_EQ_U64(c, REWARD_TFT_TRAIN_MAX);
    CHECK(memcmp(u1, u3, sizeof u3[0] * REWARD_TFT_TRAIN_MAX) != 0);
    /* at most the cap: every eligible uid, in uid order */
    pick_chain(REWARD_TFT_TRAIN_MAX - 10, 1000, j3, &l3, &h3);
    pick_job_uids(j3, l3, u3, &c);
    CHECK_EQ_U64(c, REWARD_TFT_TRAIN_MAX - 10);
    for (uint16_t i = 0; i < REWARD_TFT_TRAIN_MAX - 10; i++)
        CHECK_EQ_INT(u3[i], i);
}
