/*
 * tests.h: the list of test-node tests, one X(name) per test; table.c turns
 * it into the runner's table and every test file defines its tests with
 * TEST(name).
 */
#ifndef BASED_TESTS_NODE_TESTS_H
#define BASED_TESTS_NODE_TESTS_H

#define NODE_TESTS(X) \
    X(node_log_format_line) \
    X(node_log_levels) \
    X(node_log_file) \
    X(node_cookie_file) \
    X(node_cookie_read_rejects) \
    X(node_rpc_call_roundtrip) \
    X(node_rpc_named_params) \
    X(node_rpc_batch) \
    X(node_rpc_notifications) \
    X(node_rpc_parse_error) \
    X(node_rpc_invalid_request) \
    X(node_rpc_bad_ids) \
    X(node_rpc_method_not_found) \
    X(node_rpc_invalid_params) \
    X(node_rpc_app_error) \
    X(node_rpc_internal_error) \
    X(node_rpc_batch_limits) \
    X(node_rpc_deep_nesting) \
    X(node_rpc_openrpc_doc) \
    X(node_rpc_discover_call) \
    X(node_http_rpc_roundtrip) \
    X(node_http_auth) \
    X(node_http_body_limit) \
    X(node_http_malformed) \
    X(node_http_keepalive) \
    X(node_http_pipelining) \
    X(node_http_max_connections) \
    X(node_http_idle_timeout) \
    X(node_http_clean_shutdown) \
    X(node_http_bind_errors) \
    X(node_http_defer_timer_and_work) \
    X(node_http_defer_pipelined_order) \
    X(node_http_defer_client_gone) \
    X(node_http_defer_stop_outstanding) \
    X(node_cmtrpc_inflight_counts)

#endif
