/*
 * cheats.c: the dishonest answers of cheats.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/neurons/cheats.h"
#include "neurons/answer.h"
#include "chain/base.h"

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

/* The honest model's top-k rows along a->tokens (teacher forcing); with
 * skip, the tokens ranked 2..k+1 instead of 1..k. */
static int honest_rows(model_state *s, const neuron_challenge *c, neuron_answer *a, int skip)
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
    for (int t = 0; !rc && t < n; t++) {
        neuron_lp row[NEURON_MAX_TOPK + 1];
        topk_row(lg + (size_t)t * V, V, a->k + skip, row);
        memcpy(a->topk + (size_t)t * a->k, row + skip, (size_t)a->k * sizeof *row);
    }
    free(lg);
    return rc;
}

static int cheat_temp15(model_state *s, const neuron_challenge *c, neuron_answer *a,
                        uint64_t *rng)
{
    (void)rng;
    neuron_challenge d = *c;
    d.temp_milli = 1500;
    return neuron_answer_generate(s, &d, a) ? -1 : 0;
}

static int cheat_greedy(model_state *s, const neuron_challenge *c, neuron_answer *a,
                        uint64_t *rng)
{
    (void)rng;
    neuron_challenge d = *c;
    d.temp_milli = 0;
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

static int cheat_repeat(model_state *s, const neuron_challenge *c, neuron_answer *a,
                        uint64_t *rng)
{
    if (cheat_greedy(s, c, a, rng))
        return -1;
    for (int t = 1; t < a->n; t++)
        a->tokens[t] = a->tokens[0];
    return honest_rows(s, c, a, 0);
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

static int cheat_zero_lp(model_state *s, const neuron_challenge *c, neuron_answer *a,
                         uint64_t *rng)
{
    (void)rng;
    if (neuron_answer_generate(s, c, a))
        return -1;
    for (int i = 0; i < a->n * a->k; i++)
        a->topk[i].logprob = 0.0f;
    return 0;
}

static int cheat_skip_top(model_state *s, const neuron_challenge *c, neuron_answer *a,
                          uint64_t *rng)
{
    (void)rng;
    if (neuron_answer_generate(s, c, a))
        return -1;
    return honest_rows(s, c, a, 1);
}

static const struct {
    const char *name;
    int (*fn)(model_state *, const neuron_challenge *, neuron_answer *, uint64_t *);
} modes[] = {
    { "random", cheat_random },   { "repeat", cheat_repeat },   { "temp15", cheat_temp15 },
    { "greedy", cheat_greedy },   { "zero-lp", cheat_zero_lp }, { "copy-lp", cheat_copy_lp },
    { "skip-top", cheat_skip_top },
};

const char *cheat_mode_name(int i)
{
    return i >= 0 && (size_t)i < BASED_ARRAY_LEN(modes) ? modes[i].name : NULL;
}

bool cheat_mode_known(const char *mode)
{
    for (size_t i = 0; mode && i < BASED_ARRAY_LEN(modes); i++)
        if (strcmp(modes[i].name, mode) == 0)
            return true;
    return false;
}

int cheat_answer(const char *mode, model_state *honest, const neuron_challenge *c,
                 neuron_answer *a, uint64_t *rng)
{
    if (!mode || !honest || !c || !a || !rng)
        return -1;
    for (size_t i = 0; i < BASED_ARRAY_LEN(modes); i++)
        if (strcmp(modes[i].name, mode) == 0)
            return modes[i].fn(honest, c, a, rng);
    return -1;
}
