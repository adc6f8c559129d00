/* The net test table: node/cmtgen and bin/based-net. */
#include "tests/runner.h"

void test_cmtgen_validator_key_known_answer(void);
void test_cmtgen_node_key_and_id_known_answer(void);
void test_cmtgen_time_rfc3339_nanoseconds(void);
void test_cmtgen_net_genesis_ours(void);
void test_cmtgen_genesis_json_fields(void);
void test_cmtgen_toml_set_edits_one_line(void);
void test_cmtgen_write_files(void);
void test_net_usage_errors(void);
void test_net_missing_cometbft_says_what_to_do(void);
void test_net_kvstore_four_authorities_one_full_node(void);

const struct test_case test_table[] = {
    { "cmtgen_validator_key_known_answer", test_cmtgen_validator_key_known_answer },
    { "cmtgen_node_key_and_id_known_answer", test_cmtgen_node_key_and_id_known_answer },
    { "cmtgen_time_rfc3339_nanoseconds", test_cmtgen_time_rfc3339_nanoseconds },
    { "cmtgen_net_genesis_ours", test_cmtgen_net_genesis_ours },
    { "cmtgen_genesis_json_fields", test_cmtgen_genesis_json_fields },
    { "cmtgen_toml_set_edits_one_line", test_cmtgen_toml_set_edits_one_line },
    { "cmtgen_write_files", test_cmtgen_write_files },
    { "net_usage_errors", test_net_usage_errors },
    { "net_missing_cometbft_says_what_to_do", test_net_missing_cometbft_says_what_to_do },
    { "net_kvstore_four_authorities_one_full_node",
      test_net_kvstore_four_authorities_one_full_node },
    { NULL, NULL }
};
