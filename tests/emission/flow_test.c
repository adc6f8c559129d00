/* A multi-epoch run with the real epoch: a validator with a delegator sets
 * weights by commit-reveal every window, two miners; the supply invariant
 * holds after every block, miners are paid to their balances, the owner
 * gets 25 %, the delegator is paid pro rata after the validator's take,
 * and a replay from genesis gives the same roots. */
#include "tests/runner.h"
#include "tests/emission/env.h"
#include "rewards/internal.h"

static const uint8_t SALT[2] = { 7, 7 };

static void set_weights(env *e, bool reveal_now, const uint16_t *uids, const uint16_t *w)
{
    env_weights(e, 1, 0, reveal_now, uids, w, 2, SALT, sizeof SALT);
}

static void note_of(env *e, unsigned dev, uint64_t height, uint64_t out[4])
{
    uint8_t k[43];
    chain_view *v = chain_ledger_view(e->l);
    k[0] = CHAIN_T_REWARD;
    memcpy(k + 1, e->dev[dev].b, 32);
    k[33] = 0, k[34] = 0;
    chain_put_be64(k + 35, height);
    reward_get_u64s(v, k, sizeof k, out, 4);
    chain_view_free(v);
}

TEST(flow_multi_epoch_rewards)
{
    env e;
    const uint16_t uids[2] = { 1, 2 }, w[2] = { 65535, 20000 };
    env_open_year(&e, 100000, "\"tempo\": 9, \"weights_rate_limit\": 5, \"take_default_bps\": 1800");
    char j[256];
    CHECK_EQ_INT(env_tx(&e, 1, "memorize", "{\"brain\": 0, \"role\": \"validator\"}"), BASED_E_OK);
    CHECK_EQ_INT(env_tx(&e, 2, "memorize", "{\"brain\": 0, \"role\": \"miner\"}"), BASED_E_OK);
    CHECK_EQ_INT(env_tx(&e, 3, "memorize", "{\"brain\": 0, \"role\": \"miner\"}"), BASED_E_OK);
    snprintf(j, sizeof j, "{\"brain\": 0, \"hotkey\": \"%s\", \"amount\": \"1000\"}", env_addr(&e, 1));
    CHECK_EQ_INT(env_tx(&e, 1, "stake", j), BASED_E_OK);
    CHECK_EQ_INT(env_tx(&e, 5, "stake", j), BASED_E_OK);      /* dev5 delegates 1000 */
    uint64_t m2 = env_balance(&e, 2), owner0 = env_balance(&e, 0);
    uint64_t first_pay = 0;
    for (unsigned blk = 0; blk < 120; blk++) {
        uint64_t h = env_height(&e) + 1;
        uint64_t win = reward_window(9, 0, h);
        if (win != reward_window(9, 0, h - 1)) {
            set_weights(&e, true, uids, w);      /* reveal last window's commit */
            set_weights(&e, false, uids, w);     /* and commit for the next */
        } else {
            env_blocks(&e, 1);
        }
        CHECK(env_audit(&e));
    }
    for (uint64_t h = 1; !first_pay && h <= env_height(&e); h++) {
        uint64_t n[4];
        note_of(&e, 5, h, n);
        if (n[2] > 0)
            first_pay = h;
    }
    CHECK(env_balance(&e, 2) > m2);                  /* miner incentive to the balance */
    CHECK(env_balance(&e, 0) > owner0);              /* owner (dev0 owns Brain 0) */
    CHECK(first_pay > 0);
    /* the first epoch that paid dividends: delegator = (D - take) x 1000/2000 */
    {
        uint64_t val[4], del[4];
        note_of(&e, 1, first_pay, val);
        note_of(&e, 5, first_pay, del);
        uint64_t d = val[1] + del[2];
        uint64_t rest = d - d * 1800 / 10000;
        CHECK_EQ_U64(del[2], rest * 1000 / 2000);
    }
    contract_brain b;
    reward_brain r;
    chain_view *v = chain_ledger_view(e.l);
    CHECK_EQ_INT(contract_brain_get(v, 0, &b), BASED_E_OK);
    CHECK_EQ_INT(reward_brain_get(v, &b, &r), BASED_E_OK);
    chain_view_free(v);
    CHECK(r.epochs >= 10);
    CHECK(r.perf > 0);
    /* replay */
    char tmp[600], err[256];
    snprintf(tmp, sizeof tmp, "%s/replay", test_tmpdir());
    chain_ledger_free(e.l);
    e.l = NULL;
    CHECK_EQ_INT(chain_ledger_verify(env_runtime(), e.db, tmp, NULL, NULL, err, sizeof err), BASED_E_OK);
    chain_genesis_release(&e.g);
}
