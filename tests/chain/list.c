/* The chain test table. */
#include "tests/runner.h"

void test_codec_uleb_minimal(void);
void test_codec_writer_cap(void);
void test_crypto_amounts(void);
void test_crypto_bip340_vector(void);
void test_crypto_ss58(void);
void test_tx_roundtrip_and_checks(void);

const struct test_case test_table[] = {
    { "codec_uleb_minimal", test_codec_uleb_minimal },
    { "codec_writer_cap", test_codec_writer_cap },
    { "crypto_amounts", test_crypto_amounts },
    { "crypto_bip340_vector", test_crypto_bip340_vector },
    { "crypto_ss58", test_crypto_ss58 },
    { "tx_roundtrip_and_checks", test_tx_roundtrip_and_checks },
    { NULL, NULL },
};
