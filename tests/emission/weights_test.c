/* Tests of rewards/weights.c: max-upscaling, the commit hash, and every
 * accept and reject path of weights_commit / weights_reveal with its code. */
#include "tests/runner.h"
#include "tests/emission/env.h"

TEST(weights_max_upscale_u16)
{
    uint16_t in1[2] = { 43690, 21845 }, out[4];
    reward_max_upscale(in1, 2, out);
    CHECK_EQ_INT(out[0], 65535);
    CHECK_EQ_INT(out[1], 32768);                 /* 32767.5 rounds away from zero */
    uint16_t in2[3] = { 1, 2, 3 };
    reward_max_upscale(in2, 3, out);
    CHECK_EQ_INT(out[0], 21845);
    CHECK_EQ_INT(out[1], 43690);
    CHECK_EQ_INT(out[2], 65535);
    uint16_t in3[2] = { 0, 0 };
    reward_max_upscale(in3, 2, out);
    CHECK_EQ_INT(out[0], 0);
    CHECK_EQ_INT(out[1], 0);
    uint16_t in4[2] = { 32768, 1 };              /* the max <= 32768 branch */
    reward_max_upscale(in4, 2, out);
    CHECK_EQ_INT(out[0], 65535);
    CHECK_EQ_INT(out[1], 2);                     /* 65535 / 32768 = 1.99997 -> 2 */
}

static const uint8_t SALT[4] = { 1, 2, 3, 4 };

static based_err commit(env *e, unsigned from, const uint16_t *uids, const uint16_t *w, size_t n)
{
    char j[256], hex[65];
    chain_hash h = reward_commit_hash(0, uids, w, n, SALT, sizeof SALT);
    chain_hex(h.b, 32, hex);
    snprintf(j, sizeof j, "{\"brain\": 0, \"commit\": \"0x%s\"}", hex);
    return env_tx(e, from, "weights_commit", j);
}

static based_err reveal(env *e, unsigned from, const uint16_t *uids, const uint16_t *w, size_t n,
                        const char *salt)
{
    char j[512];
    size_t o = (size_t)snprintf(j, sizeof j, "{\"brain\": 0, \"uids\": [");
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(j + o, sizeof j - o, "%s%u", i ? "," : "", uids[i]);
    o += (size_t)snprintf(j + o, sizeof j - o, "], \"weights\": [");
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(j + o, sizeof j - o, "%s%u", i ? "," : "", w[i]);
    snprintf(j + o, sizeof j - o, "], \"salt\": \"%s\"}", salt);
    return env_tx(e, from, "weights_reveal", j);
}

/* Produces blocks until the next block is the first of a new reveal window. */
static void next_window(env *e)
{
    uint64_t w = reward_window(9, 0, env_height(e) + 1);
    while (reward_window(9, 0, env_height(e) + 1) == w)
        env_blocks(e, 1);
}

static void setup(env *e)
{
    env_open_year(e, 100000, "\"tempo\": 9, \"weights_rate_limit\": 5, \"min_allowed_weights\": 2, "
                        "\"max_weights_limit\": 50000");
    env_tx(e, 1, "memorize", "{\"brain\": 0, \"role\": \"validator\"}");           /* uid 0 */
    env_tx(e, 2, "memorize", "{\"brain\": 0, \"role\": \"miner\"}");               /* uid 1 */
    env_tx(e, 3, "memorize", "{\"brain\": 0, \"role\": \"miner\"}");               /* uid 2 */
    env_tx(e, 4, "memorize", "{\"brain\": 0, \"role\": \"validator\"}");           /* uid 3 */
}

TEST(weights_commit_reveal_paths)
{
    env e;
    const uint16_t uids[2] = { 1, 2 }, w[2] = { 43690, 21845 };
    setup(&e);
    /* who may commit */
    CHECK_EQ_INT(commit(&e, 2, uids, w, 2), BASED_E_NOT_VALIDATOR);
    CHECK_EQ_INT(commit(&e, 5, uids, w, 2), BASED_E_NOT_REGISTERED);
    /* nothing to reveal yet */
    CHECK_EQ_INT(reveal(&e, 1, uids, w, 2, "0x01020304"), BASED_E_NO_COMMIT);
    next_window(&e);
    CHECK_EQ_INT(commit(&e, 1, uids, w, 2), BASED_E_OK);
    CHECK_EQ_INT(commit(&e, 1, uids, w, 2), BASED_E_RATE_LIMITED);
    /* same window: too early */
    CHECK_EQ_INT(reveal(&e, 1, uids, w, 2, "0x01020304"), BASED_E_REVEAL_TOO_EARLY);
    next_window(&e);
    CHECK_EQ_INT(reveal(&e, 1, uids, w, 2, "0x01020305"), BASED_E_REVEAL_MISMATCH);
    const uint16_t w2[2] = { 43690, 21846 };
    CHECK_EQ_INT(reveal(&e, 1, uids, w2, 2, "0x01020304"), BASED_E_REVEAL_MISMATCH);
    CHECK_EQ_INT(reveal(&e, 1, uids, w, 2, "0x01020304"), BASED_E_OK);
    uint64_t set_at = env_height(&e);
    CHECK_EQ_INT(reveal(&e, 1, uids, w, 2, "0x01020304"), BASED_E_NO_COMMIT);
    /* the stored row: max-upscaled, sorted, set_at = the reveal's height */
    {
        contract_brain b;
        reward_wrow *row = malloc(sizeof *row);
        chain_view *v = chain_ledger_view(e.l);
        CHECK(row != NULL);
        CHECK_EQ_INT(contract_brain_get(v, 0, &b), BASED_E_OK);
        CHECK_EQ_INT(reward_weights_get(v, &b, 0, row), BASED_E_OK);
        chain_view_free(v);
        CHECK_EQ_U64(row->set_at, set_at);
        CHECK_EQ_INT(row->n, 2);
        CHECK_EQ_INT(row->uid[0], 1);
        CHECK_EQ_INT(row->val[0], 65535);
        CHECK_EQ_INT(row->uid[1], 2);
        CHECK_EQ_INT(row->val[1], 32768);
        free(row);
    }
    /* late: two windows after the commit */
    env_blocks(&e, 5);
    CHECK_EQ_INT(commit(&e, 1, uids, w, 2), BASED_E_OK);
    next_window(&e);
    next_window(&e);
    CHECK_EQ_INT(reveal(&e, 1, uids, w, 2, "0x01020304"), BASED_E_REVEAL_TOO_LATE);
    CHECK(env_audit(&e));
    env_close(&e);
}

/* Commits, waits a window and reveals; returns the reveal's code. */
static based_err cycle(env *e, const uint16_t *uids, const uint16_t *w, size_t n)
{
    env_blocks(e, 5);
    based_err rc = commit(e, 1, uids, w, n);
    if (rc != BASED_E_OK)
        return rc;
    next_window(e);
    return reveal(e, 1, uids, w, n, "0x01020304");
}

TEST(weights_rules)
{
    env e;
    setup(&e);
    const uint16_t to_validator[2] = { 1, 3 }, dup[2] = { 1, 1 }, bad[2] = { 1, 9 }, one[1] = { 1 };
    const uint16_t ok[2] = { 1, 2 }, w[2] = { 30000, 30000 }, spiky[2] = { 65535, 1 };
    CHECK_EQ_INT(cycle(&e, to_validator, w, 2), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(cycle(&e, dup, w, 2), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(cycle(&e, bad, w, 2), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(cycle(&e, one, w, 1), BASED_E_TOO_FEW_WEIGHTS);
    CHECK_EQ_INT(cycle(&e, ok, spiky, 2), BASED_E_MAX_WEIGHT);
    CHECK_EQ_INT(cycle(&e, ok, w, 2), BASED_E_OK);
    CHECK(env_audit(&e));
    env_close(&e);
}
