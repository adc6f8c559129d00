/*
 * cheats.h: answers of dishonest miners, for the scoring tests and for the
 * cheating miner process of the integration tests (tests/neurons/cheat/).
 * Test-only: the product miner has no such modes.
 *
 * Each mode is the cheapest way to fake one part of an honest answer while
 * keeping the rest well-formed, so that the score (not the format checks)
 * has to catch it:
 *   random   uniform random tokens; well-formed invented log-probabilities
 *   repeat   one token (the honest model's first greedy choice) repeated;
 *            log-probabilities of the honest model along that text
 *   temp15   the honest model sampled at T = 1.5 (whatever was asked);
 *            its honest T = 1 log-probabilities
 *   greedy   the honest model decoded greedily (T = 0); honest log-probs
 *   zero-lp  honest tokens and top-k tokens, every log-probability 0
 *   copy-lp  honest tokens; each position's top-k row copied from another
 *            position of the honest answer (a cyclic shift by 1..n-1)
 *   skip-top honest tokens; at each position the honest model's tokens
 *            ranked 2..k+1 with their true log-probabilities (true numbers,
 *            well-formed, but not the top k)
 *
 * Threads: uses the caller's model_state and rng only.
 */
#ifndef BASED_TESTS_NEURONS_CHEATS_H
#define BASED_TESTS_NEURONS_CHEATS_H

#include <stdbool.h>
#include <stdint.h>

#include "model/model.h"
#include "neurons/proto.h"

/* The i-th mode's name (static), NULL past the last. */
const char *cheat_mode_name(int i);
bool cheat_mode_known(const char *mode);

/*
 * Fills a (tokens, topk, n, k; not id, miner, sig) for challenge c in the
 * given mode, with the honest model's state (its KV cache is overwritten)
 * and the caller's generator *rng for any random choice. Returns 0, or -1
 * for an unknown mode or a challenge the model cannot answer.
 */
int cheat_answer(const char *mode, model_state *honest, const neuron_challenge *c,
                 neuron_answer *a, uint64_t *rng);

#endif
