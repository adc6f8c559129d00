/*
 * The test table of tests/rewards.
 */
#include "tests/runner.h"

#define T(name) void test_##name(void);
#define LIST(X) \
    X(rewards_weighted_median) X(rewards_weighted_median_col) X(rewards_weighted_median_property) \
    X(rewards_max_upscale) X(rewards_exp_sigmoid) \
    X(rewards_tv4_bonds) X(rewards_tv5_active_stake) X(rewards_tv6_outdated_weights) \
    X(rewards_tv7_zero_weights) X(rewards_tv8_512_graph) X(rewards_epoch_input) \
    X(rewards_whitepaper_cabal_shrinks) X(rewards_whitepaper_values) X(rewards_tft_term) \
    X(rewards_sim_json) X(rewards_sim_cli)
LIST(T)
#define ROW(name) { #name, test_##name },
const struct test_case test_table[] = { LIST(ROW) { NULL, NULL } };
