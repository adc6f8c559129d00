/* Tests of chain/codec, chain/crypto and chain/tx. */
#include "tests/runner.h"
#include "chain/codec.h"
#include "chain/crypto.h"
#include "chain/kinds.h"
#include "chain/tx.h"
#include "node/runtime.h"

TEST(codec_uleb_minimal)
{
    chain_wbuf w;
    chain_rbuf r;
    chain_w_init(&w, 64);
    chain_w_uleb(&w, 0);
    chain_w_uleb(&w, 127);
    chain_w_uleb(&w, 128);
    chain_w_uleb(&w, UINT64_MAX);
    CHECK(!w.err);
    CHECK_EQ_INT(w.len, 1 + 1 + 2 + 10);
    chain_r_init(&r, w.p, w.len);
    CHECK_EQ_U64(chain_r_uleb(&r), 0);
    CHECK_EQ_U64(chain_r_uleb(&r), 127);
    CHECK_EQ_U64(chain_r_uleb(&r), 128);
    CHECK_EQ_U64(chain_r_uleb(&r), UINT64_MAX);
    chain_r_finish(&r);
    CHECK(!r.err);
    chain_w_free(&w);
    static const uint8_t nonmin[] = { 0x80, 0x00 };
    chain_r_init(&r, nonmin, 2);
    chain_r_uleb(&r);
    CHECK(r.err);
    CHECK_EQ_STR(r.what, "non-minimal LEB128 length");
    static const uint8_t over[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
    chain_r_init(&r, over, sizeof over);
    chain_r_uleb(&r);
    CHECK(r.err);
}

TEST(codec_writer_cap)
{
    chain_wbuf w;
    chain_w_init(&w, 4);
    chain_w_u32(&w, 1);
    CHECK(!w.err);
    chain_w_u8(&w, 1);
    CHECK(w.err);
    CHECK_EQ_INT(w.len, 4);
    chain_w_free(&w);
}

TEST(crypto_amounts)
{
    uint64_t v;
    const char *why;
    char buf[32];
    CHECK_EQ_INT(chain_amount_parse("12.5", &v, &why), BASED_E_OK);
    CHECK_EQ_U64(v, 12500000000ull);
    CHECK_EQ_INT(chain_amount_parse("0.000000001", &v, &why), BASED_E_OK);
    CHECK_EQ_U64(v, 1);
    CHECK_EQ_INT(chain_amount_parse("0.0000000001", &v, &why), BASED_E_BAD_AMOUNT);
    CHECK_EQ_STR(why, "amount has more than 9 decimals");
    CHECK_EQ_INT(chain_amount_parse("-1", &v, &why), BASED_E_BAD_AMOUNT);
    CHECK_EQ_STR(why, "amount is negative");
    CHECK_EQ_INT(chain_amount_parse("1e5", &v, &why), BASED_E_BAD_AMOUNT);
    CHECK_EQ_INT(chain_amount_parse("1.", &v, &why), BASED_E_BAD_AMOUNT);
    CHECK_EQ_INT(chain_amount_parse("", &v, &why), BASED_E_BAD_AMOUNT);
    CHECK_EQ_INT(chain_amount_parse("18446744073.709551615", &v, &why), BASED_E_OK);
    CHECK_EQ_U64(v, UINT64_MAX);
    CHECK_EQ_INT(chain_amount_parse("18446744073.709551616", &v, &why), BASED_E_OVERFLOW);
    CHECK_EQ_INT(chain_amount_parse("99999999999999999999999", &v, &why), BASED_E_OVERFLOW);
    chain_amount_format(12500000000ull, buf);
    CHECK_EQ_STR(buf, "12.5");
    chain_amount_format(0, buf);
    CHECK_EQ_STR(buf, "0");
    chain_amount_format(1, buf);
    CHECK_EQ_STR(buf, "0.000000001");
    chain_amount_format(UINT64_MAX, buf);
    CHECK_EQ_STR(buf, "18446744073.709551615");
}

TEST(crypto_bip340_vector)
{
    /* BIP340 test vector 0 (secret key 3, zero message, zero aux). */
    chain_addr pub, want;
    chain_hash msg;
    chain_sig sig;
    uint8_t sk[32] = {0};
    sk[31] = 3;
    memset(&msg, 0, sizeof msg);
    CHECK_EQ_INT(chain_unhex("F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9",
                             want.b, 32), BASED_E_OK);
    CHECK_EQ_INT(chain_key_pub(sk, &pub), BASED_E_OK);
    CHECK_EQ_MEM(pub.b, want.b, 32);
    CHECK_EQ_INT(chain_unhex("E907831F80848D1069A5371B402410364BDF1C5F8307B0084C55F1CE2DCA8215"
                             "25F66A4A85EA8B71E482A74F382D2CE5EBEEE8FDB2172F477DF4900D310536C0",
                             sig.b, 64), BASED_E_OK);
    CHECK(chain_verify(&pub, &msg, &sig));
    sig.b[5] ^= 1;
    CHECK(!chain_verify(&pub, &msg, &sig));
    /* our own signatures verify */
    CHECK_EQ_INT(chain_sign(sk, &msg, &sig), BASED_E_OK);
    CHECK(chain_verify(&pub, &msg, &sig));
}

TEST(crypto_ss58)
{
    chain_addr a, b;
    char s[CHAIN_ADDR_STRLEN], hex[70];
    const char *why;
    uint8_t sk[32];
    chain_key_dev(0, sk);
    CHECK_EQ_INT(chain_key_pub(sk, &a), BASED_E_OK);
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &a, s);
    CHECK_EQ_INT(chain_addr_parse(s, CHAIN_SS58_DEFAULT_PREFIX, &b, &why), BASED_E_OK);
    CHECK_EQ_MEM(a.b, b.b, 32);
    /* the same key under the Substrate wildcard prefix 42 is a different string */
    char s42[CHAIN_ADDR_STRLEN];
    chain_ss58_encode(42, &a, s42);
    CHECK(strcmp(s, s42) != 0);
    CHECK_EQ_INT(chain_addr_parse(s42, CHAIN_SS58_DEFAULT_PREFIX, &b, &why), BASED_E_BAD_ADDRESS);
    /* checksum */
    s[10] = s[10] == 'a' ? 'b' : 'a';
    CHECK_EQ_INT(chain_addr_parse(s, CHAIN_SS58_DEFAULT_PREFIX, &b, &why), BASED_E_BAD_ADDRESS);
    CHECK_EQ_INT(chain_addr_parse("0OIl", CHAIN_SS58_DEFAULT_PREFIX, &b, &why), BASED_E_BAD_ADDRESS);
    /* hex form */
    hex[0] = '0';
    hex[1] = 'x';
    chain_hex(a.b, 32, hex + 2);
    CHECK_EQ_INT(chain_addr_parse(hex, CHAIN_SS58_DEFAULT_PREFIX, &b, &why), BASED_E_OK);
    CHECK_EQ_MEM(a.b, b.b, 32);
    hex[5] = 'g';
    CHECK_EQ_INT(chain_addr_parse(hex, CHAIN_SS58_DEFAULT_PREFIX, &b, &why), BASED_E_BAD_ADDRESS);
    /* Substrate's well-known vector: Alice's key under prefix 42 */
    CHECK_EQ_INT(chain_unhex("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d",
                             a.b, 32), BASED_E_OK);
    chain_ss58_encode(42, &a, s42);
    CHECK_EQ_STR(s42, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
}

TEST(tx_roundtrip_and_checks)
{
    uint8_t sk[32], payload[CHAIN_TRANSFER_LEN];
    chain_transfer t = { .amount = 5 };
    chain_tx tx, back;
    const char *why = NULL;
    chain_key_dev(1, sk);
    chain_key_dev(2, payload); /* any bytes */
    CHECK_EQ_INT(chain_key_pub(payload, &t.to), BASED_E_OK);
    chain_transfer_encode(&t, payload);
    CHECK_EQ_INT(chain_tx_make(&tx, "based-test", 7, 100, CHAIN_KIND_TRANSFER, payload,
                               sizeof payload, sk), BASED_E_OK);
    CHECK_EQ_INT(chain_tx_check(based_runtime(), &tx, "based-test", &why), BASED_E_OK);
    CHECK_EQ_INT(chain_tx_check(based_runtime(), &tx, "other", &why), BASED_E_WRONG_CHAIN);
    CHECK_EQ_INT(chain_tx_decode(tx.raw, tx.raw_len, &back, &why), BASED_E_OK);
    CHECK_EQ_MEM(back.hash.b, tx.hash.b, 32);
    CHECK_EQ_U64(back.nonce, 7);
    CHECK_EQ_U64(back.fee, 100);
    CHECK_EQ_STR(back.chain_id, "based-test");
    chain_tx_release(&back);
    /* every truncation fails, a trailing byte fails */
    for (size_t n = 0; n < tx.raw_len; n++)
        CHECK(chain_tx_decode(tx.raw, n, &back, &why) == BASED_E_DECODE);
    uint8_t longer[512];
    memcpy(longer, tx.raw, tx.raw_len);
    longer[tx.raw_len] = 0;
    CHECK_EQ_INT(chain_tx_decode(longer, tx.raw_len + 1, &back, &why), BASED_E_DECODE);
    CHECK_EQ_STR(why, "trailing bytes");
    /* a flipped signature bit is a bad signature */
    memcpy(longer, tx.raw, tx.raw_len);
    longer[tx.raw_len - 1] ^= 1;
    CHECK_EQ_INT(chain_tx_decode(longer, tx.raw_len, &back, &why), BASED_E_OK);
    CHECK_EQ_INT(chain_tx_check(based_runtime(), &back, "based-test", &why), BASED_E_BAD_SIGNATURE);
    chain_tx_release(&back);
    /* an unknown kind */
    chain_tx_release(&tx);
    CHECK_EQ_INT(chain_tx_make(&tx, "based-test", 0, 1, 999, payload, sizeof payload, sk), BASED_E_OK);
    CHECK_EQ_INT(chain_tx_check(based_runtime(), &tx, "based-test", &why), BASED_E_UNKNOWN_KIND);
    chain_tx_release(&tx);
    /* a zero transfer */
    t.amount = 0;
    chain_transfer_encode(&t, payload);
    CHECK_EQ_INT(chain_tx_make(&tx, "based-test", 0, 1, CHAIN_KIND_TRANSFER, payload, sizeof payload, sk), BASED_E_OK);
    CHECK_EQ_INT(chain_tx_check(based_runtime(), &tx, "based-test", &why), BASED_E_ZERO_AMOUNT);
    chain_tx_release(&tx);
}
