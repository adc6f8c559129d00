/* A replaced uid inherits nothing: weights a validator set on the uid's
 * previous occupant do not pay its new occupant (issue 3's rule, enforced
 * by the epoch's registration mask and the per-occupant weight rows). */
#include "tests/runner.h"
#include "tests/emission/env.h"
#include "rewards/internal.h"

static const uint8_t SALT[2] = { 9, 9 };

static void weights(env *e, bool reveal, const uint16_t *uids, const uint16_t *w)
{
    env_weights(e, 1, 0, reveal, uids, w, 2, SALT, sizeof SALT);
}

/* Runs n blocks; the validator keeps its weights fresh when `keep` is set. */
static void run(env *e, unsigned n, bool keep, const uint16_t *uids, const uint16_t *w)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t h = env_height(e) + 1;
        if (keep && reward_window(9, 0, h) != reward_window(9, 0, h - 1)) {
            weights(e, true, uids, w);
            weights(e, false, uids, w);
        } else {
            env_blocks(e, 1);
        }
    }
}

TEST(reuse_replaced_uid_inherits_no_weights)
{
    env e;
    const uint16_t uids[2] = { 1, 2 }, w[2] = { 65535, 20000 };
    env_open_year(&e, 100000, "\"tempo\": 9, \"weights_rate_limit\": 5, \"max_miners\": 2, "
                         "\"immunity_blocks\": 1, \"activity_cutoff\": 1000");
    char j[256];
    CHECK_EQ_INT(env_tx(&e, 1, "memorize", "{\"brain\": 0, \"role\": \"validator\"}"), BASED_E_OK);
    CHECK_EQ_INT(env_tx(&e, 2, "memorize", "{\"brain\": 0, \"role\": \"miner\"}"), BASED_E_OK);
    CHECK_EQ_INT(env_tx(&e, 3, "memorize", "{\"brain\": 0, \"role\": \"miner\"}"), BASED_E_OK);
    snprintf(j, sizeof j, "{\"brain\": 0, \"hotkey\": \"%s\", \"amount\": \"1000\"}", env_addr(&e, 1));
    CHECK_EQ_INT(env_tx(&e, 1, "stake", j), BASED_E_OK);
    uint64_t b3 = env_balance(&e, 3);
    run(&e, 60, true, uids, w);
    CHECK(env_balance(&e, 3) > b3);           /* uid 2 (dev3) was being paid */
    /* the role is full: dev4 replaces the lowest pruning score, dev3 at uid 2 */
    CHECK_EQ_INT(env_tx(&e, 4, "memorize", "{\"brain\": 0, \"role\": \"miner\"}"), BASED_E_OK);
    contract_brain b;
    stake_neuron n;
    chain_view *v = chain_ledger_view(e.l);
    CHECK_EQ_INT(contract_brain_get(v, 0, &b), BASED_E_OK);
    CHECK_EQ_INT(stake_neuron_get(v, &b, 2, &n), BASED_E_OK);
    chain_view_free(v);
    CHECK_EQ_MEM(n.addr.b, e.dev[4].b, 32);
    /* the validator stops setting weights: its stored row still names uid 2,
     * set before dev4 registered; dev4 must get nothing from it while dev2
     * (uid 1) keeps being paid from the same row */
    uint64_t b4 = env_balance(&e, 4), b2 = env_balance(&e, 2);
    run(&e, 25, false, uids, w);
    CHECK(env_balance(&e, 2) > b2);
    CHECK_EQ_U64(env_balance(&e, 4), b4);
    CHECK(env_audit(&e));
    env_close(&e);
}
