/*
 * tests.h: the list of test-validator tests, one X(name) per test; table.c
 * turns it into the runner's table and every test file defines its tests
 * with TEST(name).
 */
#ifndef BASED_TESTS_VALIDATOR_TESTS_H
#define BASED_TESTS_VALIDATOR_TESTS_H

#define VALIDATOR_TESTS(X) \
    X(val_state_roundtrip) \
    X(val_state_missing_and_unwritable) \
    X(val_state_corrupt_named) \
    X(val_state_other_brain_or_key) \
    X(val_ema_missed_and_takeover) \
    X(val_forfeit_on_forgery) \
    X(val_retain_drops_gone_miners) \
    X(val_weights_normalised) \
    X(val_duplicates_marked) \
    X(val_commit_reveal_timing) \
    X(val_url_hosts) \
    X(val_challenge_fresh_and_fitting) \
    X(val_open_gates) \
    X(val_round_answers_and_failures) \
    X(val_round_cheats_and_replay) \
    X(val_program_usage) \
    X(val_doc_quotes_help) \
    X(val_program_on_chain)

#endif
