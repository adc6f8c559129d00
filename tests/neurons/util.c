/* util.c: fixtures shared by the neurons tests (see util.h). */
#include <string.h>

#include "tests/neurons/util.h"

model_t *nt_default_model(void)
{
    model_t *m = NULL;
    char err[256];
    if (model_load(MODEL_DEFAULT_PATH, &m, err, sizeof err))
        fprintf(stderr, "%s\n", err);
    return m;
}

void nt_challenge(const model_t *m, const uint8_t *text, size_t len, uint64_t *rng,
                  neuron_challenge *c)
{
    memset(c, 0, sizeof *c);
    size_t bytes = 24 + model_rng_next(rng) % 41;              /* 24-64 bytes */
    size_t off = model_rng_next(rng) % (len - bytes);
    int n = model_encode(m, (const char *)text + off, bytes, c->prompt, NEURON_MAX_PROMPT);
    c->n_prompt = (uint16_t)(n > 0 ? n : 0);
    c->n_gen = (uint16_t)(32 + model_rng_next(rng) % 17);       /* 32-48 tokens */
    c->topk = 8;
    c->temp_milli = 800;
    c->top_k = 0;
    c->top_p_milli = 1000;
    c->seed = model_rng_next(rng);
}
