/*
 * Tests of neurons/proto.c: challenge and answer encodings (round trip,
 * every truncation and a trailing byte rejected, caps), ids and signatures
 * (tampering breaks them), sealing (only the right key opens), and the
 * derivation of challenges (deterministic, fresh per block/uid/round, within
 * the parameters).
 */
#include <math.h>
#include <sodium.h>

#include "chain/crypto.h"
#include "model/model.h"
#include "neurons/proto.h"
#include "tests/runner.h"

static void make_challenge(neuron_challenge *c, const uint8_t vsk[32])
{
    memset(c, 0, sizeof *c);
    c->brain = 7;
    c->uid = 3;
    chain_key_pub(vsk, &c->validator);
    for (int i = 0; i < 32; i++) {
        c->vbox_pk[i] = (uint8_t)(i * 7);
        c->block.b[i] = (uint8_t)(255 - i);
    }
    c->height = 1234;
    c->round = 9;
    c->n_prompt = 5;
    for (int i = 0; i < 5; i++)
        c->prompt[i] = 'a' + i;
    c->n_gen = 32;
    c->topk = 8;
    c->temp_milli = 800;
    c->top_p_milli = 1000;
    c->seed = 0x0123456789abcdefull;
}

static neuron_answer *make_answer(const uint8_t msk[32])
{
    neuron_answer *a = calloc(1, sizeof *a);
    chain_key_pub(msk, &a->miner);
    a->n = 4;
    a->k = 2;
    for (int i = 0; i < 4; i++) {
        a->tokens[i] = 100 + i;
        a->topk[2 * i] = (neuron_lp){ 100 + i, -0.25f };
        a->topk[2 * i + 1] = (neuron_lp){ 7, -2.5f };
    }
    a->elapsed_us = 777;
    a->id.b[0] = 1;
    neuron_answer_sign(a, msk);
    return a;
}

TEST(proto_challenge_roundtrip_sign_tamper)
{
    uint8_t vsk[32], buf[NEURON_CHALLENGE_MAX];
    size_t len;
    chain_key_dev(2, vsk);
    neuron_challenge c, d;
    make_challenge(&c, vsk);
    CHECK_EQ_INT(neuron_challenge_sign(&c, vsk), BASED_E_OK);
    CHECK(neuron_challenge_verify(&c));
    CHECK_EQ_INT(neuron_challenge_encode(&c, buf, sizeof buf, &len), BASED_E_OK);
    CHECK_EQ_INT(len, 1 + 2 + 2 + 32 + 32 + 8 + 32 + 4 + 2 + 4 * 5 + 2 + 1 + 2 + 2 + 2 + 8 + 64);
    char why[128];
    CHECK_EQ_INT(neuron_challenge_decode(buf, len, &d, why, sizeof why), BASED_E_OK);
    CHECK(neuron_challenge_verify(&d));
    chain_hash a = neuron_challenge_id(&c), b = neuron_challenge_id(&d);
    CHECK_EQ_MEM(a.b, b.b, 32);
    CHECK_EQ_INT(d.prompt[4], 'e');
    CHECK_EQ_U64(d.seed, c.seed);
    /* every truncation and one trailing byte fail with a reason */
    for (size_t n = 0; n < len; n++) {
        why[0] = 0;
        CHECK(neuron_challenge_decode(buf, n, &d, why, sizeof why) != BASED_E_OK);
        CHECK(why[0] != 0);
    }
    buf[len] = 0;
    CHECK(neuron_challenge_decode(buf, len + 1, &d, why, sizeof why) != BASED_E_OK);
    /* changing any field breaks the signature */
    d = c;
    d.seed ^= 1;
    CHECK(!neuron_challenge_verify(&d));
    d = c;
    d.uid = 4;
    CHECK(!neuron_challenge_verify(&d));
    d = c;
    d.prompt[0]++;
    CHECK(!neuron_challenge_verify(&d));
    /* another key's signature is not the validator's */
    uint8_t other[32];
    chain_key_dev(3, other);
    d = c;
    neuron_challenge_sign(&d, other);
    CHECK(!neuron_challenge_verify(&d));
}

TEST(proto_challenge_caps_named)
{
    uint8_t vsk[32], buf[NEURON_CHALLENGE_MAX];
    size_t len;
    char why[128];
    chain_key_dev(2, vsk);
    neuron_challenge c, d;
    make_challenge(&c, vsk);
    c.n_prompt = NEURON_MAX_PROMPT + 1;
    CHECK_EQ_INT(neuron_challenge_encode(&c, buf, sizeof buf, &len), BASED_E_BAD_PARAM);
    make_challenge(&c, vsk);
    CHECK_EQ_INT(neuron_challenge_encode(&c, buf, sizeof buf, &len), BASED_E_OK);
    /* n_prompt field at offset 1+2+2+32+32+8+32+4 = 113 */
    buf[113] = 0xff;
    buf[114] = 0xff;
    CHECK(neuron_challenge_decode(buf, len, &d, why, sizeof why) != BASED_E_OK);
    CHECK(strstr(why, "prompt") != NULL);
    make_challenge(&c, vsk);
    c.n_gen = 0;
    CHECK_EQ_INT(neuron_challenge_encode(&c, buf, sizeof buf, &len), BASED_E_OK);
    CHECK(neuron_challenge_decode(buf, len, &d, why, sizeof why) != BASED_E_OK);
    CHECK(strstr(why, "n_gen") != NULL);
    make_challenge(&c, vsk);
    c.prompt[2] = NEURON_MAX_VOCAB;
    CHECK_EQ_INT(neuron_challenge_encode(&c, buf, sizeof buf, &len), BASED_E_OK);
    CHECK(neuron_challenge_decode(buf, len, &d, why, sizeof why) != BASED_E_OK);
    CHECK(strstr(why, "prompt[2]") != NULL);
    make_challenge(&c, vsk);
    c.top_p_milli = 0;
    CHECK_EQ_INT(neuron_challenge_encode(&c, buf, sizeof buf, &len), BASED_E_OK);
    CHECK(neuron_challenge_decode(buf, len, &d, why, sizeof why) != BASED_E_OK);
    CHECK(strstr(why, "top_p") != NULL);
    buf[0] = 2;   /* version */
    CHECK(neuron_challenge_decode(buf, len, &d, why, sizeof why) != BASED_E_OK);
    CHECK(strstr(why, "version") != NULL);
    uint8_t *big = calloc(1, NEURON_CHALLENGE_MAX + 1);
    CHECK_EQ_INT(neuron_challenge_decode(big, NEURON_CHALLENGE_MAX + 1, &d, why, sizeof why),
                 BASED_E_TOO_LARGE);
    free(big);
}

TEST(proto_answer_roundtrip_sign_tamper)
{
    uint8_t msk[32];
    chain_key_dev(5, msk);
    neuron_answer *a = make_answer(msk), *d = calloc(1, sizeof *d);
    uint8_t *buf = malloc(NEURON_ANSWER_MAX + 1);
    size_t len;
    char why[128];
    CHECK(neuron_answer_verify(a));
    CHECK_EQ_INT(neuron_answer_encode(a, buf, NEURON_ANSWER_MAX, &len), BASED_E_OK);
    CHECK_EQ_INT(len, 1 + 32 + 32 + 2 + 16 + 1 + 64 + 4 + 64);
    CHECK_EQ_INT(neuron_answer_decode(buf, len, d, why, sizeof why), BASED_E_OK);
    CHECK(neuron_answer_verify(d));
    CHECK_EQ_INT(d->tokens[3], 103);
    CHECK(d->topk[7].logprob == -2.5f);
    CHECK_EQ_INT(d->elapsed_us, 777);
    for (size_t n = 0; n < len; n++) {
        why[0] = 0;
        CHECK(neuron_answer_decode(buf, n, d, why, sizeof why) != BASED_E_OK);
        CHECK(why[0] != 0);
    }
    buf[len] = 0;
    CHECK(neuron_answer_decode(buf, len + 1, d, why, sizeof why) != BASED_E_OK);
    /* a NaN log-probability is named */
    float nan = NAN;
    uint32_t bits;
    memcpy(&bits, &nan, 4);
    size_t lp0 = 1 + 32 + 32 + 2 + 16 + 1 + 4;   /* first logprob */
    memcpy(buf + lp0, &bits, 4);
    CHECK(neuron_answer_decode(buf, len, d, why, sizeof why) != BASED_E_OK);
    CHECK(strstr(why, "topk[0][0]") != NULL);
    /* tampering with a token or a logprob breaks the signature */
    *d = *a;
    d->tokens[0]++;
    CHECK(!neuron_answer_verify(d));
    *d = *a;
    d->topk[1].logprob = -2.4f;
    CHECK(!neuron_answer_verify(d));
    /* re-signed by another key: verifies only as that key */
    uint8_t other[32];
    chain_key_dev(6, other);
    *d = *a;
    neuron_answer_sign(d, other);
    CHECK(!neuron_answer_verify(d));
    free(a);
    free(d);
    free(buf);
}

TEST(proto_seal_open_only_with_the_key)
{
    uint8_t sk1[32], sk2[32], msg[100], box[100 + NEURON_SEAL_OVERHEAD], out[100];
    size_t n;
    chain_key_dev(4, sk1);
    chain_key_dev(5, sk2);
    neuron_box_keys k1, k2, k1b;
    neuron_box_keys_derive(sk1, &k1);
    neuron_box_keys_derive(sk2, &k2);
    neuron_box_keys_derive(sk1, &k1b);
    CHECK_EQ_MEM(k1.pk, k1b.pk, 32);   /* derived, stable across restarts */
    CHECK(memcmp(k1.pk, k2.pk, 32) != 0);
    for (int i = 0; i < 100; i++)
        msg[i] = (uint8_t)i;
    CHECK_EQ_INT(neuron_seal(msg, sizeof msg, k1.pk, box), BASED_E_OK);
    CHECK_EQ_INT(neuron_open(box, sizeof box, &k1, out, &n), BASED_E_OK);
    CHECK_EQ_INT(n, 100);
    CHECK_EQ_MEM(out, msg, 100);
    CHECK_EQ_INT(neuron_open(box, sizeof box, &k2, out, &n), BASED_E_DECODE);
    box[60] ^= 1;
    CHECK_EQ_INT(neuron_open(box, sizeof box, &k1, out, &n), BASED_E_DECODE);
    CHECK_EQ_INT(neuron_open(box, 10, &k1, out, &n), BASED_E_DECODE);
}

TEST(proto_derive_deterministic_fresh_in_range)
{
    neuron_challenge_params p;
    neuron_challenge_params_default(&p);
    chain_hash blk;
    chain_addr v;
    memset(&blk, 0x11, sizeof blk);
    memset(&v, 0x22, sizeof v);
    chain_hash s1 = neuron_challenge_seed(&blk, 10, &v, 7, 3, 1);
    chain_hash s2 = neuron_challenge_seed(&blk, 10, &v, 7, 3, 1);
    CHECK_EQ_MEM(s1.b, s2.b, 32);
    chain_hash s3 = neuron_challenge_seed(&blk, 10, &v, 7, 4, 1);   /* other uid */
    chain_hash s4 = neuron_challenge_seed(&blk, 10, &v, 7, 3, 2);   /* next round */
    blk.b[0] ^= 1;
    chain_hash s5 = neuron_challenge_seed(&blk, 10, &v, 7, 3, 1);   /* other block */
    CHECK(memcmp(s1.b, s3.b, 32) && memcmp(s1.b, s4.b, 32) && memcmp(s1.b, s5.b, 32));
    /* ranges over many seeds, and different windows for different seeds */
    size_t first_off = 0;
    int distinct = 0;
    for (uint32_t r = 0; r < 200; r++) {
        neuron_challenge c;
        memset(&c, 0, sizeof c);
        size_t off, len;
        chain_hash s = neuron_challenge_seed(&blk, 10, &v, 7, 3, r);
        neuron_challenge_derive(&c, &p, &s, 100000, &off, &len);
        CHECK(len >= 24 && len <= 64);
        CHECK(off + len <= 100000);
        CHECK(c.n_gen >= 32 && c.n_gen <= 48);
        CHECK_EQ_INT(c.topk, 8);
        CHECK_EQ_INT(c.temp_milli, 800);
        if (r == 0)
            first_off = off;
        else if (off != first_off)
            distinct++;
        struct model_sampler sm;
        neuron_challenge_sampler(&c, &sm);
        CHECK(sm.temperature == 0.8f && sm.top_p == 1.0f && sm.top_k == 0);
    }
    CHECK(distinct > 190);
}

const struct test_case test_table[] = {
    { "proto_challenge_roundtrip_sign_tamper", test_proto_challenge_roundtrip_sign_tamper },
    { "proto_challenge_caps_named", test_proto_challenge_caps_named },
    { "proto_answer_roundtrip_sign_tamper", test_proto_answer_roundtrip_sign_tamper },
    { "proto_seal_open_only_with_the_key", test_proto_seal_open_only_with_the_key },
    { "proto_derive_deterministic_fresh_in_range", test_proto_derive_deterministic_fresh_in_range },
    { NULL, NULL },
};
