/*
 * tests.h: the list of test-abci tests, one X(name) per test; table.c
 * turns it into the runner's table.
 */
#ifndef BASED_TESTS_ABCI_TESTS_H
#define BASED_TESTS_ABCI_TESTS_H

#define ABCI_TESTS(X) \
    X(abci_frame_known_bytes) \
    X(abci_frame_rejects) \
    X(abci_varint_roundtrip) \
    X(abci_request_decode_cases) \
    X(abci_request_decode_budget) \
    X(abci_response_exact_bytes) \
    X(abci_type_table) \
    X(abci_arena_basics) \
    X(abci_unix_exact_bytes) \
    X(abci_tcp_exact_bytes) \
    X(abci_info_values) \
    X(abci_pipelined_in_order) \
    X(abci_split_byte_by_byte) \
    X(abci_malformed_closes_only_that_connection) \
    X(abci_message_cap) \
    X(abci_backpressure_keeps_order) \
    X(abci_addresses) \
    X(abci_stale_and_live_socket) \
    X(abci_stop_closes_connections) \
    X(cometbft_drives_a_toy_app)

#define ABCI_DECLARE(name) void test_##name(void);
ABCI_TESTS(ABCI_DECLARE)
#undef ABCI_DECLARE

#endif
