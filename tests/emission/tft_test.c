/* The TFT Enforcer in the chain (rewards/tftchain.c): a Brain with one
 * validator and three miners whose weights vary by window.
 *  - tft_enabled = 1 at beta = 0 leaves every state key outside the TFT's
 *    own prefix, and every epoch record up to its TFT section, byte for
 *    byte equal to a chain with tft_enabled = 0 (classic Yuma exactly);
 *  - a short-year chain trains a model over the windows, applies it at
 *    h + D, forecasts every miner, shows beta rising from 0 to 1 in its
 *    epoch records, and replays (training synchronously) to the same
 *    roots. */
#include <stdio.h>

#include "tests/runner.h"
#include "tests/emission/env.h"
#include "chain/keys.h"
#include "rewards/internal.h"
#include "rewards/tftchain.h"

static void run_chain(env *e, uint64_t bpy, const char *params, unsigned blocks)
{
    env_open_year(e, bpy, params);
    env_toy_setup(e);
    while (env_height(e) < blocks) {
        env_toy_step(e);
    }
}

/* ---- a digest of the state, without the TFT's keys and sections ---- */

typedef struct {
    chain_wbuf w;
    chain_view *v;
} dump;

static int dump_kv(void *user, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl)
{
    dump *d = user;
    if (k[0] == CHAIN_T_EPOCH && kl == 15) {
        reward_epoch_rec r;
        uint16_t id = (uint16_t)(k[1] << 8 | k[2]);
        uint32_t inst = (uint32_t)k[3] << 24 | (uint32_t)k[4] << 16 | (uint32_t)k[5] << 8 | k[6];
        if (reward_epoch_rec_get(d->v, id, inst, chain_get_be64(k + 7), &r) == BASED_E_OK) {
            if (r.has_tft)
                vl -= 25 + 7 * r.n;           /* the TFT section */
            reward_epoch_rec_free(&r);
        }
    }
    chain_w_bytes(&d->w, k, kl);
    chain_w_bytes(&d->w, val, vl);
    return 0;
}

static chain_hash digest(env *e)
{
    dump d;
    chain_w_init(&d.w, 1u << 28);
    d.v = chain_ledger_view(e->l);
    for (uint8_t c = 'a'; c <= 'z'; c++)
        if (c != CHAIN_T_TFT)
            chain_store_scan(chain_ledger_store(e->l), &c, 1, dump_kv, &d);
    chain_view_free(d.v);
    chain_hash h = chain_hash_bytes(d.w.p, d.w.len);
    chain_w_free(&d.w);
    return h;
}

static json_t *forecast_json(env *e)
{
    based_err code;
    chain_view *v = chain_ledger_view(e->l);
    json_t *o = reward_tft_json(v, &e->g, env_height(e), 0, &code);
    chain_view_free(v);
    return o;
}

#define TFT_PARAMS "\"tempo\": 9, \"weights_rate_limit\": 5, \"tft_window\": 8, " \
                   "\"tft_train_every\": 4, \"tft_apply_delay\": 5"

TEST(tft_enabled_at_beta_zero_is_classic_yuma)
{
    env e;
    char moved[700];
    run_chain(&e, 1000000, "\"tempo\": 9, \"weights_rate_limit\": 5", 130);
    chain_hash off = digest(&e);
    env_close(&e);
    snprintf(moved, sizeof moved, "%s/db-off", test_tmpdir());
    CHECK_EQ_INT(rename(e.db, moved), 0);
    run_chain(&e, 1000000, "\"tft_enabled\": 1, " TFT_PARAMS, 130);
    chain_hash on = digest(&e);
    json_t *f = forecast_json(&e);
    CHECK(f != NULL);
    CHECK(json_is_object(json_object_get(f, "model")));        /* the TFT really ran */
    CHECK_EQ_INT(json_integer_value(json_object_get(f, "b_fx32")), 0);
    json_decref(f);
    env_close(&e);
    CHECK(memcmp(off.b, on.b, 32) == 0);
}

TEST(tft_short_year_trains_applies_beta_rises_and_replays)
{
    env e;
    char tmp[600], err[256];
    run_chain(&e, 20, "\"tft_enabled\": 1, " TFT_PARAMS, 160);
    json_t *f = forecast_json(&e);
    json_t *m = json_object_get(f, "model");
    CHECK(json_is_object(m));
    CHECK_EQ_U64((uint64_t)json_integer_value(json_object_get(m, "applied_at")),
                 (uint64_t)json_integer_value(json_object_get(m, "trained_at")) + 5);
    json_t *uids = json_object_get(f, "uids");
    size_t with_tft = 0;
    for (size_t i = 0; i < json_array_size(uids); i++)
        with_tft += json_is_object(json_object_get(json_array_get(uids, i), "tft"));
    CHECK(with_tft >= 3);
    json_decref(f);
    /* beta in the epoch records: 0 for t <= 2 years (40 blocks), 1 after 4 (80) */
    chain_view *v = chain_ledger_view(e.l);
    uint64_t prev = 0, first = UINT64_MAX, last = 0;
    for (uint64_t ep = 0; ep < 16; ep++) {
        reward_epoch_rec r;
        if (reward_epoch_rec_get(v, 0, 1, ep, &r) != BASED_E_OK)  /* Brain 0, instance 1 */
            continue;
        CHECK(r.has_tft);
        CHECK(r.tft_beta >= prev);
        CHECK_EQ_U64(r.tft_beta, tft_beta(r.height, 20));
        printf("epoch %2" PRIu64 " height %3" PRIu64 " beta %.3f acc %.3f b %.3f\n", ep, r.height,
               r.tft_beta / 4294967296.0, r.tft_acc / 4294967296.0, r.tft_b / 4294967296.0);
        prev = r.tft_beta;
        first = first == UINT64_MAX ? r.tft_beta : first;
        last = r.tft_beta;
        reward_epoch_rec_free(&r);
    }
    /* rewards_getEpoch shows the TFT term and the bands of the last epoch */
    based_err code;
    json_t *ej = reward_epoch_json(v, &e.g, 0, false, 0, &code);
    CHECK(ej != NULL);
    json_t *tj = json_object_get(ej, "tft");
    CHECK(json_is_object(tj));
    CHECK_EQ_STR(json_string_value(json_object_get(tj, "beta")), "1.000000000");
    CHECK_EQ_U64((uint64_t)json_integer_value(json_object_get(tj, "beta_fixed")), TFT_BETA_ONE);
    size_t banded = 0;
    json_t *nj = json_object_get(ej, "neurons");
    for (size_t i = 0; i < json_array_size(nj); i++)
        banded += json_is_object(json_object_get(json_array_get(nj, i), "tft_band"));
    CHECK(banded >= 1);
    json_decref(ej);
    chain_view_free(v);
    CHECK_EQ_U64(first, 0);
    CHECK_EQ_U64(last, TFT_BETA_ONE);
    /* replay from genesis with synchronous training: the same roots */
    snprintf(tmp, sizeof tmp, "%s/replay", test_tmpdir());
    chain_ledger_free(e.l);
    e.l = NULL;
    reward_tft_pool *pool = env_tft()->pool;
    env_tft()->pool = NULL;
    CHECK_EQ_INT(chain_ledger_verify(env_runtime(), e.db, tmp, NULL, NULL, err, sizeof err),
                 BASED_E_OK);
    env_tft()->pool = pool;
    chain_genesis_release(&e.g);
}
