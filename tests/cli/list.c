/* The cli test table. */
#include "tests/runner.h"

void test_keystore_roundtrip(void);
void test_keystore_wrong_password(void);
void test_keystore_tampered(void);
void test_keystore_malformed(void);
void test_keystore_names(void);
void test_keystore_list_and_resolve(void);
void test_password_file(void);
void test_rpc_client_success(void);
void test_rpc_client_error_format(void);
void test_rpc_client_401(void);
void test_rpc_client_response_cap(void);
void test_cli_no_node(void);
void test_cli_401_names_cookie(void);
void test_cli_rpc_error(void);
void test_cli_method_passthrough(void);
void test_cli_head_and_balance(void);
void test_cli_transfer_dev(void);
void test_cli_transfer_wallet(void);
void test_cli_usage_errors(void);
void test_cli_wallet_verbs(void);
void test_cli_no_password_source(void);

const struct test_case test_table[] = {
    { "keystore_roundtrip", test_keystore_roundtrip },
    { "keystore_wrong_password", test_keystore_wrong_password },
    { "keystore_tampered", test_keystore_tampered },
    { "keystore_malformed", test_keystore_malformed },
    { "keystore_names", test_keystore_names },
    { "keystore_list_and_resolve", test_keystore_list_and_resolve },
    { "password_file", test_password_file },
    { "rpc_client_success", test_rpc_client_success },
    { "rpc_client_error_format", test_rpc_client_error_format },
    { "rpc_client_401", test_rpc_client_401 },
    { "rpc_client_response_cap", test_rpc_client_response_cap },
    { "cli_no_node", test_cli_no_node },
    { "cli_401_names_cookie", test_cli_401_names_cookie },
    { "cli_rpc_error", test_cli_rpc_error },
    { "cli_method_passthrough", test_cli_method_passthrough },
    { "cli_head_and_balance", test_cli_head_and_balance },
    { "cli_transfer_dev", test_cli_transfer_dev },
    { "cli_transfer_wallet", test_cli_transfer_wallet },
    { "cli_usage_errors", test_cli_usage_errors },
    { "cli_wallet_verbs", test_cli_wallet_verbs },
    { "cli_no_password_source", test_cli_no_password_source },
    { NULL, NULL },
};
