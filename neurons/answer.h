/*
 * answer.h: the honest miner's answer to a challenge.
 *
 * The miner runs its (possibly compressed) model on the challenge's prompt
 * and samples exactly n_gen tokens with the challenge's sampler and seed
 * (model_generate: one generator draw per sampled token), and reports at
 * each generated position the k = c->topk most likely tokens with their
 * log-probabilities under the raw (temperature 1) distribution of its model.
 * The validator replays the same sampler on its reference (score.h).
 *
 * Threads: uses the caller's model_state (one per thread); nothing else.
 */
#ifndef BASED_NEURONS_ANSWER_H
#define BASED_NEURONS_ANSWER_H

#include "model/model.h"
#include "neurons/proto.h"

/*
 * Fills a->tokens, a->topk, a->n (= c->n_gen) and a->k (= c->topk); leaves
 * id, miner, elapsed_us and sig to the caller. s's KV cache is overwritten.
 * BASED_E_BAD_PARAM when the challenge does not fit the model: no prompt,
 * n_gen or topk out of [1, NEURON_MAX_GEN] / [1, NEURON_MAX_TOPK], a topk
 * above the vocabulary, n_prompt + n_gen beyond the context, a prompt token
 * outside the vocabulary; BASED_E_NOMEM when the model could not run.
 */
based_err neuron_answer_generate(model_state *s, const neuron_challenge *c, neuron_answer *a);

#endif
