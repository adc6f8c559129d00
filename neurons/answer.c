/*
 * answer.c: the honest miner's answer (answer.h): model_generate with the
 * challenge's prompt, sampler and seed, exactly n_gen tokens, and the top-k
 * log-probabilities of the raw distribution at each generated position.
 */
#include <string.h>

#include "neurons/answer.h"

static bool fits(const struct model_config *cf, const neuron_challenge *c)
{
    if (c->n_prompt < 1 || c->n_prompt > NEURON_MAX_PROMPT || c->n_gen < 1 ||
        c->n_gen > NEURON_MAX_GEN || c->topk < 1 || c->topk > NEURON_MAX_TOPK ||
        c->topk > cf->vocab || (int)c->n_prompt + (int)c->n_gen > cf->seq_len)
        return false;
    for (int i = 0; i < c->n_prompt; i++)
        if (c->prompt[i] < 0 || c->prompt[i] >= cf->vocab)
            return false;
    return true;
}

based_err neuron_answer_generate(model_state *s, const neuron_challenge *c, neuron_answer *a)
{
    if (!s || !c || !a)
        return BASED_E_BAD_PARAM;
    a->n = 0;
    a->k = 0;
    if (!fits(model_state_config(s), c))
        return BASED_E_BAD_PARAM;
    struct model_sampler sp;
    neuron_challenge_sampler(c, &sp);
    int n = c->n_gen, k = c->topk;
    struct model_topk tk[NEURON_MAX_GEN * NEURON_MAX_TOPK];
    int got = model_generate(s, c->prompt, c->n_prompt, &sp, c->seed, n, a->tokens, k, tk);
    if (got != n)
        return BASED_E_NOMEM;   /* the sizes were checked: only an allocation can fail */
    for (int i = 0; i < n * k; i++) {
        a->topk[i].token = tk[i].token;
        a->topk[i].logprob = tk[i].logprob;
    }
    a->n = (uint16_t)n;
    a->k = (uint8_t)k;
    return BASED_E_OK;
}
