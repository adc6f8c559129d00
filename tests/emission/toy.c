/* The three-miner toy chain of the TFT tests (tests/emission/env.h). */
#include <stdio.h>

#include "tests/emission/env.h"
#include "rewards/internal.h"

const uint16_t env_toy_uids[3] = { 1, 2, 3 };
const uint8_t env_toy_salt[2] = { 7, 7 };

void env_toy_weights(uint64_t win, uint16_t w[3])
{
    w[0] = 65535;
    w[1] = (uint16_t)(20000 + 4000 * (win % 5));
    w[2] = (uint16_t)(30000 + 2500 * (win % 3));
}

void env_toy_commit_reveal(env *e, uint64_t win)
{
    uint16_t w[3];
    env_toy_weights(win - 1, w);
    env_weights(e, 1, 0, true, env_toy_uids, w, 3, env_toy_salt, sizeof env_toy_salt);
    env_toy_weights(win, w);
    env_weights(e, 1, 0, false, env_toy_uids, w, 3, env_toy_salt, sizeof env_toy_salt);
}

void env_toy_setup(env *e)
{
    char j[256];
    env_tx(e, 1, "memorize", "{\"brain\": 0, \"role\": \"validator\"}");
    for (unsigned m = 2; m <= 4; m++)
        env_tx(e, m, "memorize", "{\"brain\": 0, \"role\": \"miner\"}");
    snprintf(j, sizeof j, "{\"brain\": 0, \"hotkey\": \"%s\", \"amount\": \"1000\"}", env_addr(e, 1));
    env_tx(e, 1, "stake", j);
}

void env_toy_step(env *e)
{
    uint64_t h = env_height(e) + 1;
    if (reward_window(9, 0, h) != reward_window(9, 0, h - 1))
        env_toy_commit_reveal(e, reward_window(9, 0, h));
    else
        env_blocks(e, 1);
}
