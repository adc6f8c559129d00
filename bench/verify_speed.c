/*
 * verify_speed.c: what a validator pays to verify an answer against what
 * the miner paid to produce it. For N = 32 and 64 returned tokens: the
 * miner's time (neuron_answer_generate: prompt prefill, N decode steps with
 * sampling and top-8 log-probabilities) against the validator's time
 * (neuron_score_answer: one batched reference prefill over prompt + tokens,
 * then rank, KL and the shared-seed replay at each position), both f32 on
 * one thread, medians of RUNS runs. Bar: validator / miner <= 0.5, on the
 * default model and on a random model of the stories15M shape (vocab
 * 32000, prompt token ids drawn directly). The exit status says whether
 * every ratio met the bar.
 */
#include "bench/bench.h"
#include "bench/random15m.h"
#include "neurons/answer.h"
#include "neurons/score.h"

#define RUNS 9
#define PROMPT 40   /* prompt tokens: default-model prompts are 24-64 bytes */

/* A challenge with the default sampler (T = 0.8, top-8) on PROMPT prompt
 * tokens drawn uniformly from [lo, hi). */
static void challenge(neuron_challenge *c, int lo, int hi, int n_gen, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    uint64_t x = seed;
    c->n_prompt = PROMPT;
    for (int i = 0; i < PROMPT; i++)
        c->prompt[i] = lo + (int)(bench_rng(&x) % (uint64_t)(hi - lo));
    c->n_gen = (uint16_t)n_gen;
    c->topk = 8;
    c->temp_milli = 800;
    c->top_p_milli = 1000;
    c->seed = seed;
}

/* The forward passes alone, in ms: *batched as the validator runs them
 * (prompt but its last token, then the last prompt token and the answer
 * but its last token, all logits), *stepwise as the miner runs them (the
 * prompt, then one token a call). */
static int forwards(model_state *s, const neuron_challenge *c, const neuron_answer *a, float *lg,
                    double *batched, double *stepwise)
{
    int np = c->n_prompt, n = a->n, seq[PROMPT + NEURON_MAX_GEN];
    memcpy(seq, c->prompt, (size_t)np * sizeof *seq);
    memcpy(seq + np, a->tokens, (size_t)n * sizeof *seq);
    double t0 = bench_now();
    int e = model_forward(s, seq, np - 1, 0, lg, true) ||
            model_forward(s, seq + np - 1, n, np - 1, lg, false);
    double t1 = bench_now();
    e = e || model_forward(s, seq, np, 0, lg, true);
    for (int i = 0; !e && i + 1 < n; i++)
        e = model_forward(s, seq + np + i, 1, np + i, lg, true);
    *batched = (t1 - t0) * 1e3;
    *stepwise = (bench_now() - t1) * 1e3;
    return e ? -1 : 0;
}

struct times { double miner, valid, batched, stepwise; };

/* Medians over RUNS challenges of n tokens; -1 on error (or if the honest
 * answer does not score KL 0 and agreement 1). */
static int time_pair(model_t *m, int n, struct times *out)
{
    int V = model_config(m)->vocab;
    model_state *s = model_state_new(m), *ref = model_state_new(m);
    neuron_answer *a = malloc(sizeof *a);
    neuron_challenge *c = malloc(sizeof *c);
    float *lg = malloc((size_t)(PROMPT + n) * (size_t)V * sizeof *lg);
    neuron_score_params p;
    neuron_score_params_default(&p);
    double t[4][RUNS];
    int rc = s && ref && a && c && lg ? 0 : -1;
    for (int r = 0; !rc && r < RUNS; r++) {
        /* printable bytes for the byte-level model, any id for a vocabulary */
        challenge(c, V == 256 ? 32 : 0, V == 256 ? 127 : V, n, 1000 + (uint64_t)r);
        double t0 = bench_now();
        rc = neuron_answer_generate(s, c, a) ? -1 : 0;
        double t1 = bench_now();
        neuron_score sc;
        if (!rc)
            rc = neuron_score_answer(ref, c, a, 0, 1000, &p, &sc) || sc.kl != 0 || sc.agree != 1
                     ? -1 : 0;
        t[0][r] = (t1 - t0) * 1e3;
        t[1][r] = (bench_now() - t1) * 1e3;
        if (!rc)
            rc = forwards(ref, c, a, lg, &t[2][r], &t[3][r]);
    }
    if (!rc)
        *out = (struct times){ bench_median(t[0], RUNS), bench_median(t[1], RUNS),
                               bench_median(t[2], RUNS), bench_median(t[3], RUNS) };
    free(lg);
    free(c);
    free(a);
    model_state_free(ref);
    model_state_free(s);
    return rc;
}

static int run(const char *label, model_t *m)
{
    int over = 0;
    printf("%s\n  f32, one thread, median of %d, prompt %d tokens\n", label, RUNS, PROMPT);
    static const int ns[] = { 32, 64 };
    for (size_t i = 0; i < BASED_ARRAY_LEN(ns); i++) {
        struct times t;
        if (time_pair(m, ns[i], &t)) {
            fprintf(stderr, "verify_speed: %s: N = %d failed\n", label, ns[i]);
            return -1;
        }
        printf("  N = %2d  miner %8.2f ms   validator %8.2f ms   ratio %.3f%s\n", ns[i], t.miner,
               t.valid, t.valid / t.miner, t.valid / t.miner <= 0.5 ? "" : "   (over the 0.5 bar)");
        printf("          forward passes alone: batched %.2f ms, token by token %.2f ms (%.3f)\n",
               t.batched, t.stepwise, t.batched / t.stepwise);
        over += t.valid / t.miner > 0.5;
    }
    return over;
}

int main(void)
{
    char err[256];
    int over = 0;
    model_t *def = NULL;
    if (model_load(MODEL_DEFAULT_PATH, &def, err, sizeof err) == BASED_E_OK) {
        over += run("default model " MODEL_DEFAULT_PATH, def);
        model_free(def);
    } else {
        printf("default model not found (%s); skipped\n", err);
    }
    model_t *m = bench_random_15m(err, sizeof err);
    if (!m) {
        fprintf(stderr, "verify_speed: cannot build the 15M model: %s\n", err);
        return 1;
    }
    over += run("random stories15M shape (dim 288, 6 layers, 6 heads, vocab 32000)", m);
    model_free(m);
    return over == 0 ? 0 : 1;
}
