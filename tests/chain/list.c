/* The chain test table. */
#include "tests/runner.h"

void test_codec_uleb_minimal(void);
void test_codec_writer_cap(void);
void test_crypto_amounts(void);
void test_crypto_bip340_vector(void);
void test_crypto_ss58(void);
void test_tx_roundtrip_and_checks(void);
void test_genesis_errors_name_position(void);
void test_genesis_default_and_encoding(void);
void test_genesis_dev_overrides(void);
void test_ledger_blocks_transfers_verify(void);
void test_ledger_apply_rejects_bad_blocks(void);
void test_engine_cometbft_execute_commit_verify(void);
void test_engine_evidence_state_and_encoding(void);
void test_engine_skip_strict_and_commit_rules(void);
void test_engine_checkstate_nonces_and_balances(void);
void test_engine_block_full(void);
void test_fuzz_regress_unhex_no_partial_output(void);
void test_fuzz_regress_genesis_nul_after_number(void);
void test_chain_includes_nothing_above_it(void);
void test_runtime_kind_table_by_id(void);
void test_runtime_refuses_duplicate_and_bad_kinds(void);
void test_runtime_hooks_in_module_order(void);

const struct test_case test_table[] = {
    { "codec_uleb_minimal", test_codec_uleb_minimal },
    { "codec_writer_cap", test_codec_writer_cap },
    { "crypto_amounts", test_crypto_amounts },
    { "crypto_bip340_vector", test_crypto_bip340_vector },
    { "crypto_ss58", test_crypto_ss58 },
    { "tx_roundtrip_and_checks", test_tx_roundtrip_and_checks },
    { "genesis_errors_name_position", test_genesis_errors_name_position },
    { "genesis_default_and_encoding", test_genesis_default_and_encoding },
    { "genesis_dev_overrides", test_genesis_dev_overrides },
    { "ledger_blocks_transfers_verify", test_ledger_blocks_transfers_verify },
    { "ledger_apply_rejects_bad_blocks", test_ledger_apply_rejects_bad_blocks },
    { "engine_cometbft_execute_commit_verify", test_engine_cometbft_execute_commit_verify },
    { "engine_evidence_state_and_encoding", test_engine_evidence_state_and_encoding },
    { "engine_skip_strict_and_commit_rules", test_engine_skip_strict_and_commit_rules },
    { "engine_checkstate_nonces_and_balances", test_engine_checkstate_nonces_and_balances },
    { "engine_block_full", test_engine_block_full },
    { "fuzz_regress_unhex_no_partial_output", test_fuzz_regress_unhex_no_partial_output },
    { "fuzz_regress_genesis_nul_after_number", test_fuzz_regress_genesis_nul_after_number },
    { "chain_includes_nothing_above_it", test_chain_includes_nothing_above_it },
    { "runtime_kind_table_by_id", test_runtime_kind_table_by_id },
    { "runtime_refuses_duplicate_and_bad_kinds", test_runtime_refuses_duplicate_and_bad_kinds },
    { "runtime_hooks_in_module_order", test_runtime_hooks_in_module_order },
    { NULL, NULL },
};
