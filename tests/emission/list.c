/* The test table of tests/emission. */
#include "tests/runner.h"

#define T(name) void test_##name(void);
#define TESTS(X) \
    X(emission_halving_schedule) X(emission_split_counted_stake_cap) \
    X(emission_split_performance_and_bonus_top30) X(emission_per_year_on_short_genesis) \
    X(emission_stake_brain_earns_after_lock) X(emission_nothing_minted_without_performance) \
    X(emission_deactivated_brain_pending_is_burned) X(weights_max_upscale_u16) \
    X(weights_commit_reveal_paths) X(weights_rules) X(flow_multi_epoch_rewards) \
    X(reuse_replaced_uid_inherits_no_weights) \
    X(tft_enabled_at_beta_zero_is_classic_yuma) X(tft_short_year_trains_applies_beta_rises_and_replays) \
    X(tft_manipulation_cabal_boost_damped) X(tftnet_records_forecasts_scores_and_replays) \
    X(tftnet_off_writes_nothing) X(tftnet_pieces) X(tft_chain_manipulation_cabal_boost_damped) \
    X(tft_chain_manipulation_aperiodic_network) X(tft_feed_append_rebases_and_cut) \
    X(tft_incremental_equals_full_recomputation) X(tft_worker_pool_bounded_in_order_same_bytes) \
    X(tft_worker_pool_free_joins_and_null_pool_trains_here) X(tft_incremental_chain_cache_on_off_replay) \
    X(tft_job_training_subset_capped_and_deterministic)
TESTS(T)
#undef T
#define ROW(name) { #name, test_##name },
const struct test_case test_table[] = { TESTS(ROW) { NULL, NULL } };
