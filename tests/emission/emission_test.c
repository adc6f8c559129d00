/* Tests of rewards/ emission: the halving schedule, the split among Brains
 * (counted-stake cap, the bonus to the top 30 %), the lock before earning,
 * the supply invariant after every block and the per-year minted totals on
 * a short-year genesis. */
#include "tests/runner.h"
#include "tests/emission/env.h"

#define COIN 1000000000ull

TEST(emission_halving_schedule)
{
    uint64_t r = 10 * COIN;
    CHECK_EQ_U64(reward_block_reward(r, 600, 0), 0);
    CHECK_EQ_U64(reward_block_reward(r, 600, 1), 10 * COIN);
    CHECK_EQ_U64(reward_block_reward(r, 600, 599), 10 * COIN);
    CHECK_EQ_U64(reward_block_reward(r, 600, 600), 5 * COIN);
    CHECK_EQ_U64(reward_block_reward(r, 600, 1200), 2500000000ull);
    CHECK_EQ_U64(reward_block_reward(r, 600, 1800), 1250000000ull);
    CHECK_EQ_U64(reward_block_reward(r, 600, 600 * 33 + 5), 1);       /* 10e9 >> 33 */
    CHECK_EQ_U64(reward_block_reward(r, 600, 600 * 34), 0);           /* nothing minted */
    CHECK_EQ_U64(reward_block_reward(r, 600, UINT64_MAX), 0);
    /* the main genesis: year 1 is 3,153,600 blocks of 10 BASED */
    CHECK_EQ_U64(reward_block_reward(r, 3153600, 3153599), 10 * COIN);
    CHECK_EQ_U64(reward_block_reward(r, 3153600, 3153600), 5 * COIN);
    /* the whitepaper's table: year n mints 31,536,000 / 2^(n-1) BASED */
    for (unsigned y = 0; y < 6; y++)
        CHECK_EQ_U64(3153600ull * reward_block_reward(r, 3153600, 3153600ull * y + 1),
                     (31536000ull * COIN) >> y);
}

TEST(emission_split_counted_stake_cap)
{
    /* cap 100: Brain 1 counts 100 of its 1000; 2 counts 50; 3 is not earning. */
    reward_split_in b[3] = {
        { 1, 1000, REWARD_PERF_ONE, true, 0 },
        { 2, 50, REWARD_PERF_ONE, true, 0 },
        { 3, 100000, REWARD_PERF_ONE, false, 0 },
    };
    uint64_t sum = reward_split(3000, 100, 9000, 3000, b, 3);
    /* base 2700: 1800 and 900; bonus 300 to ceil(2 x 0.3) = 1 Brain: the
     * first by performance, ties by id: Brain 1. */
    CHECK_EQ_U64(b[0].share, 1800 + 300);
    CHECK_EQ_U64(b[1].share, 900);
    CHECK_EQ_U64(b[2].share, 0);
    CHECK_EQ_U64(sum, 3000);
}

TEST(emission_split_performance_and_bonus_top30)
{
    /* ten earning Brains with equal counted stake, performance 10..100 %:
     * the base goes by performance, the bonus to the top 3 (ids 10, 9, 8). */
    reward_split_in b[10];
    for (unsigned i = 0; i < 10; i++)
        b[i] = (reward_split_in){ (uint16_t)(i + 1), 500, (uint16_t)(6553 * (i + 1) + (i == 9 ? 5 : 0)),
                                  true, 0 };
    uint64_t reward = 10 * COIN;
    uint64_t sum = reward_split(reward, 1000, 9000, 3000, b, 10);
    uint64_t base = 9 * COIN, bonus = COIN;
    contract_u128 tot = 0;
    for (unsigned i = 0; i < 10; i++)
        tot += (contract_u128)500 * b[i].perf / 65535;
    for (unsigned i = 0; i < 10; i++) {
        uint64_t w = (uint64_t)((contract_u128)500 * b[i].perf / 65535);
        uint64_t expect = (uint64_t)((contract_u128)base * w / tot) + (i >= 7 ? bonus / 3 : 0);
        CHECK_EQ_U64(b[i].share, expect);
    }
    CHECK(sum <= reward);
    CHECK(reward - sum < 10 + 3);   /* floor dust: < one unit per share */
    /* zero performance: no base, no bonus, nothing minted */
    for (unsigned i = 0; i < 10; i++)
        b[i].perf = 0;
    CHECK_EQ_U64(reward_split(reward, 1000, 9000, 3000, b, 10), 0);
}

/* Registers dev<v> as validator of Brain id with `stake` BASED of its own. */
static based_err validator_with_stake(env *e, unsigned v, unsigned id, unsigned stake)
{
    char j[256];
    snprintf(j, sizeof j, "{\"brain\": %u, \"role\": \"validator\"}", id);
    based_err rc = env_tx(e, v, "memorize", j);
    if (rc != BASED_E_OK)
        return rc;
    snprintf(j, sizeof j, "{\"brain\": %u, \"hotkey\": \"%s\", \"amount\": \"%u\"}", id,
             env_addr(e, v), stake);
    return env_tx(e, v, "stake", j);
}

static uint64_t minted(env *e)
{
    chain_supply s;
    chain_view *v = chain_ledger_view(e->l);
    chain_supply_get(v, &s);
    chain_view_free(v);
    return s.minted;
}

static reward_totals totals(env *e)
{
    reward_totals t;
    chain_view *v = chain_ledger_view(e->l);
    reward_totals_get(v, &t);
    chain_view_free(v);
    return t;
}

static uint64_t pending_of(env *e, uint16_t id)
{
    contract_brain b;
    reward_brain r = { 0, 0, 0, 0, 0, 0 };
    chain_view *v = chain_ledger_view(e->l);
    if (contract_brain_get(v, id, &b) == BASED_E_OK)
        reward_brain_get(v, &b, &r);
    chain_view_free(v);
    return r.pending;
}

TEST(emission_per_year_on_short_genesis)
{
    env e;
    const uint64_t bpy = 40;
    env_open_year(&e, bpy, "\"tempo\": 0");
    CHECK_EQ_INT(validator_with_stake(&e, 1, 0, 1000), BASED_E_OK);
    CHECK_EQ_INT(validator_with_stake(&e, 2, 1, 3000), BASED_E_OK);
    CHECK_EQ_INT(validator_with_stake(&e, 3, 2, 7), BASED_E_OK);
    env_set_perf(&e, 0, 65535);
    env_set_perf(&e, 1, 30000);
    env_set_perf(&e, 2, 777);
    uint64_t start = env_height(&e);
    uint64_t m0 = minted(&e), u0 = totals(&e).unminted;
    /* to the end of year 1, then years 2, 3 and 4 block by block */
    for (uint64_t h = start + 1; h <= 4 * bpy - 1; h++) {
        env_blocks(&e, 1);
        CHECK(env_audit(&e));
        if ((h + 1) % bpy != 0)
            continue;
        uint64_t y = h / bpy, m = minted(&e), u = totals(&e).unminted;
        uint64_t blocks = y == 0 ? bpy - 1 - start : bpy;
        uint64_t table = blocks * ((10 * COIN) >> y);
        CHECK_EQ_U64((m - m0) + (u - u0), table);
        CHECK(u - u0 <= 4 * blocks);       /* floor dust: < 1 base unit per share */
        CHECK(m - m0 > 0);
        m0 = m, u0 = u;
    }
    CHECK_EQ_U64(totals(&e).pending_total, pending_of(&e, 0) + pending_of(&e, 1) + pending_of(&e, 2));
    env_close(&e);
}

TEST(emission_stake_brain_earns_after_lock)
{
    env e;
    env_open_year(&e, 1000, "\"tempo\": 0, \"brain_stake_lock_blocks\": 20");
    CHECK_EQ_INT(env_tx(&e, 1, "brain_buy", "{\"method\": \"stake\"}"), BASED_E_OK);
    uint64_t bought = env_height(&e);
    chain_view *v = chain_ledger_view(e.l);
    contract_brain b;
    uint16_t id = 0;
    for (id = 7; id < 1024; id++)
        if (contract_brain_get(v, id, &b) == BASED_E_OK && b.method == CONTRACT_BY_STAKE)
            break;
    chain_view_free(v);
    CHECK(id < 1024);
    CHECK_EQ_INT(validator_with_stake(&e, 2, id, 100), BASED_E_OK);
    env_set_perf(&e, id, 65535);
    while (env_height(&e) < bought + 19) {
        env_blocks(&e, 1);
        CHECK_EQ_U64(pending_of(&e, id), 0);
    }
    env_blocks(&e, 2);    /* unlock_at = bought + 20: earns from there */
    CHECK(pending_of(&e, id) > 0);
    CHECK(env_audit(&e));
    env_close(&e);
}

TEST(emission_nothing_minted_without_performance)
{
    env e;
    env_open_year(&e, 100, "\"tempo\": 0");
    CHECK_EQ_INT(validator_with_stake(&e, 1, 0, 1000), BASED_E_OK);
    uint64_t m = minted(&e);
    env_blocks(&e, 5);
    CHECK_EQ_U64(minted(&e), m);
    CHECK_EQ_U64(totals(&e).unminted, (env_height(&e)) * 10 * COIN - (env_height(&e) >= 100 ? 1 : 0));
    CHECK(env_audit(&e));
    env_close(&e);
}

TEST(emission_deactivated_brain_pending_is_burned)
{
    env e;
    env_open_year(&e, 1000, "\"tempo\": 0, \"brain_stake_lock_blocks\": 2");
    CHECK_EQ_INT(env_tx(&e, 1, "brain_buy", "{\"method\": \"stake\", \"id\": 9}"), BASED_E_OK);
    CHECK_EQ_INT(validator_with_stake(&e, 2, 9, 100), BASED_E_OK);
    env_set_perf(&e, 9, 65535);
    env_blocks(&e, 3);
    uint64_t p = pending_of(&e, 9);
    CHECK(p > 0);
    CHECK_EQ_INT(env_tx(&e, 1, "brain_deactivate", "{\"id\": 9}"), BASED_E_OK);
    env_blocks(&e, 1);
    CHECK_EQ_U64(totals(&e).pending_total, 0);
    CHECK(env_audit(&e));
    env_close(&e);
}
