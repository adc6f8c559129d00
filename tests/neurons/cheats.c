/*
 * cheats.c: the dishonest answers of cheats.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/neurons/cheats.h"
#include "neurons/answer.h"

const char *const cheat_modes[] = { "random", "repeat", "temp15", "greedy", "zero-lp", "copy-lp",
                                    NULL };

bool cheat_mode_known(const char *mode)
{
    for (int i = 0; mode && cheat_modes[i]; i++)
        if (strcmp(cheat_modes[i], mode) == 0)
            return true;
    return false;
}

static int rand_below(uint64_t *rng, int n)
{
    return (int)(model_rng_uniform(rng) * n);
}

/* k most likely tokens of logits lg with their log-probabilities. */
static void topk_row(const float *lg, int vocab, int k, neuron_lp *out)
{
    float mx = lg[0];
    for (int i = 1; i < vocab; i++)
        mx = lg[i] > mx ? lg[i] : mx;
    double sum = 0;
    for (int i = 0; i < vocab; i++)
        sum += exp((double)(lg[i] - mx));
    double lse = (double)mx + log(sum);
    for (int j = 0; j < k; j++)
        out[j] = (neuron_lp){ -1, -INFINITY };
    for (int i = 0; i < vocab; i++) {
        float lp = (float)((double)lg[i] - lse);
        int j = k - 1;
        if (lp <= out[j].logprob)
            continue;
        while (j > 0 && out[j - 1].logprob < lp) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = (neuron_lp){ i, lp };
    }
}

/* The honest model's top-k rows along a->tokens (teacher forcing). */
static int honest_rows(model_state *s, const neuron_challenge *c, neuron_answer *a)
{
    int V = model_state_config(s)->vocab, n = a->n, np = c->n_prompt;
    float *lg = malloc((size_t)n * (size_t)V * sizeof *lg);
    int seq[NEURON_MAX_GEN], rc = lg ? 0 : -1;
    seq[0] = c->prompt[np - 1];
    for (int i = 0; i + 1 < n; i++)
        seq[i + 1] = a->tokens[i];
    if (!rc && np > 1 && model_forward(s, c->prompt, np - 1, 0, lg, true))
        rc = -1;
    if (!rc && model_forward(s, seq, n, np - 1, lg, false))
        rc = -1;
    for (int t = 0; !rc && t < n; t++)
        topk_row(lg + (size_t)t * V, V, a->k, a->topk + (size_t)t * a->k);
    free(lg);
    return rc;
}

static int with_sampler(model_state *s, const neuron_challenge *c, neuron_answer *a,
                        uint16_t temp_milli)
{
    neuron_challenge d = *c;
    d.temp_milli = temp_milli;
    return neuron_answer_generate(s, &d, a) ? -1 : 0;
}

static int cheat_random(model_state *s, const neuron_challenge *c, neuron_answer *a,
                        uint64_t *rng)
{
    int V = model_state_config(s)->vocab, k = c->topk;
    if (neuron_answer_generate(s, c, a))   /* the shape checks only */
        return -1;
    for (int t = 0; t < a->n; t++) {
        a->tokens[t] = rand_below(rng, V);
        neuron_lp *r = a->topk + (size_t)t * k;
        for (int j = 0; j < k; j++) {
            int tok, dup;
            do {
                tok = rand_below(rng, V);
                dup = 0;
                for (int i = 0; i < j; i++)
                    dup |= r[i].token == tok;
            } while (dup);
            r[j] = (neuron_lp){ tok, -1.0f - 0.5f * (float)j };   /* sums to ~0.93 */
        }
    }
    return 0;
}

static int cheat_repeat(model_state *s, const neuron_challenge *c, neuron_answer *a)
{
    if (with_sampler(s, c, a, 0))
        return -1;
    for (int t = 1; t < a->n; t++)
        a->tokens[t] = a->tokens[0];
    return honest_rows(s, c, a);
}

static int cheat_copy_lp(model_state *s, const neuron_challenge *c, neuron_answer *a,
                         uint64_t *rng)
{
    if (neuron_answer_generate(s, c, a))
        return -1;
    int n = a->n, k = a->k, shift = n > 1 ? 1 + rand_below(rng, n - 1) : 0;
    neuron_lp *rows = malloc((size_t)n * (size_t)k * sizeof *rows);
    if (!rows)
        return -1;
    memcpy(rows, a->topk, (size_t)n * (size_t)k * sizeof *rows);
    for (int t = 0; t < n; t++)
        memcpy(a->topk + (size_t)t * k, rows + (size_t)((t + shift) % n) * k,
               (size_t)k * sizeof *rows);
    free(rows);
    return 0;
}

int cheat_answer(const char *mode, model_state *honest, const neuron_challenge *c,
                 neuron_answer *a, uint64_t *rng)
{
    if (!mode || !honest || !c || !a || !rng)
        return -1;
    if (strcmp(mode, "random") == 0)
        return cheat_random(honest, c, a, rng);
    if (strcmp(mode, "repeat") == 0)
        return cheat_repeat(honest, c, a);
    if (strcmp(mode, "temp15") == 0)
        return with_sampler(honest, c, a, 1500);
    if (strcmp(mode, "greedy") == 0)
        return with_sampler(honest, c, a, 0);
    if (strcmp(mode, "copy-lp") == 0)
        return cheat_copy_lp(honest, c, a, rng);
    if (strcmp(mode, "zero-lp") == 0) {
        if (neuron_answer_generate(honest, c, a))
            return -1;
        for (int i = 0; i < a->n * a->k; i++)
            a->topk[i].logprob = 0.0f;
        return 0;
    }
    return -1;
}
