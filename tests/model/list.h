/* list.h: every test of test-model, in the order they run. */
#ifndef BASED_TESTS_MODEL_LIST_H
#define BASED_TESTS_MODEL_LIST_H
#define MODEL_TESTS(X) \
    X(model_f16_known_answers) X(model_q8_q4_roundtrip) X(model_dot_paths_agree) \
    X(model_squeeze_levels) X(model_crb8_dot_algebra) X(model_gguf_roundtrip) X(model_gguf_malformed) \
    X(model_gguf_truncations) X(model_train_tiny_learns) X(model_train_gradcheck) X(model_train_threads_same) \
    X(model_prefill_equals_decode) X(model_dot_f32_tb_bits) X(model_prefill_splits_default) \
    X(model_prefill_splits_types) X(model_prefill_splits_odd_shape) X(model_forward_deterministic) X(model_gqa_loads) X(model_f16_and_tied_load) \
    X(model_generate_seeded) X(model_sampler) X(model_spm_tokenizer) \
    X(model_compress_all_methods_tiny) X(model_consensus_vote_rule) X(model_prime_mask) \
    X(model_heads_removes) X(model_default_bands) X(model_default_heldout_loss) \
    X(model_interop_hf_gguf) X(model_cli_help_and_usage) X(model_cli_generate_seed)
#endif
