/* util.h: fixtures shared by the neurons tests. */
#ifndef BASED_TESTS_NEURONS_UTIL_H
#define BASED_TESTS_NEURONS_UTIL_H

#include "model/model.h"
#include "neurons/proto.h"

/* The default model (NULL with a message when it does not load). */
model_t *nt_default_model(void);
/*
 * A challenge with the default parameters of proto.h (prompt 24-64 bytes
 * of text, 32-48 tokens, top-8, T = 0.8, no truncation), its window and
 * sizes drawn from *rng (splitmix64) instead of a block hash.
 */
void nt_challenge(const model_t *m, const uint8_t *text, size_t len, uint64_t *rng,
                  neuron_challenge *c);
#endif
