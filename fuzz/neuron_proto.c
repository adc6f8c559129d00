/*
 * fuzz/neuron_proto.c: libFuzzer harness for the miner/validator protocol
 * decoders (neurons/proto.c). The first byte picks the decoder (challenge
 * or answer), the rest is the message. A decoded message must encode back
 * to exactly the input (one encoding only); a rejected one must come with a
 * reason. Opening a sealed box with a fixed key must never crash either.
 */
#include <stdlib.h>

#include "neurons/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t which = data[0];
    data++;
    size--;
    char why[160];
    size_t len;
    if (which % 3 == 0) {
        neuron_challenge *c = malloc(sizeof *c);
        uint8_t *buf = malloc(NEURON_CHALLENGE_MAX);
        why[0] = 0;
        if (neuron_challenge_decode(data, size, c, why, sizeof why) == BASED_E_OK) {
            if (neuron_challenge_encode(c, buf, NEURON_CHALLENGE_MAX, &len) != BASED_E_OK ||
                len != size || memcmp(buf, data, size) != 0)
                __builtin_trap();
            (void)neuron_challenge_verify(c);
        } else if (!why[0]) {
            __builtin_trap();
        }
        free(c);
        free(buf);
    } else if (which % 3 == 1) {
        neuron_answer *a = malloc(sizeof *a);
        uint8_t *buf = malloc(NEURON_ANSWER_MAX);
        why[0] = 0;
        if (neuron_answer_decode(data, size, a, why, sizeof why) == BASED_E_OK) {
            if (neuron_answer_encode(a, buf, NEURON_ANSWER_MAX, &len) != BASED_E_OK ||
                len != size || memcmp(buf, data, size) != 0)
                __builtin_trap();
            (void)neuron_answer_verify(a);
        } else if (!why[0]) {
            __builtin_trap();
        }
        free(a);
        free(buf);
    } else {
        static const uint8_t sk[32] = { 1, 2, 3 };
        neuron_box_keys k;
        neuron_box_keys_derive(sk, &k);
        uint8_t *out = malloc(size + 1);
        if (neuron_open(data, size, &k, out, &len) == BASED_E_OK && len + NEURON_SEAL_OVERHEAD != size)
            __builtin_trap();
        free(out);
    }
    return 0;
}
