/*
 * verify_speed.c: what a validator pays to verify an answer against what
 * the miner paid to produce it. For N = 32 and 64 returned tokens: the
 * miner's time (neuron_answer_generate: prompt prefill, N decode steps with
 * sampling and top-8 log-probabilities) against the validator's time
 * (neuron_score_answer: one batched reference prefill over prompt + tokens,
 * then rank, KL and the shared-seed replay at each position), both f32 on
 * one thread. Bar: validator / miner <= 0.5, on the default model and on a
 * random model of the stories15M shape (vocab 32000, prompt token ids drawn
 * directly). The exit status is 0 only if every ratio met the bar (and
 * nothing failed).
 *
 * Each run is one challenge: the miner answers it, the validator scores
 * that answer (same prompt, same N). Times are the thread's CPU time: the
 * machine may be shared, and wall time would also count the time the
 * thread waited for a core. The ratio held to the bar is the median over
 * the runs of each run's validator / miner (the two measured back to back,
 * so a slow spell of the machine affects both); the medians of the times
 * and their ratio are printed too.
 */
#include "bench/bench.h"
#include "bench/random15m.h"
#include "neurons/answer.h"
#include "neurons/score.h"

#define MAX_RUNS 21
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

/* This thread's CPU time in seconds. */
static double cpu_now(void)
{
    return bench_clock_s(CLOCK_THREAD_CPUTIME_ID);
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
    double t0 = cpu_now();
    int e = model_forward(s, seq, np - 1, 0, lg, true) ||
            model_forward(s, seq + np - 1, n, np - 1, lg, false);
    double t1 = cpu_now();
    e = e || model_forward(s, seq, np, 0, lg, true);
    for (int i = 0; !e && i + 1 < n; i++)
        e = model_forward(s, seq + np + i, 1, np + i, lg, true);
    *batched = (t1 - t0) * 1e3;
    *stepwise = (cpu_now() - t1) * 1e3;
    return e ? -1 : 0;
}

struct times { double miner, valid, batched, stepwise, ratio; };

/* Medians over `runs` challenges of n tokens; -1 on error (or if the honest
 * answer does not score KL 0 and agreement 1). */
static int time_pair(model_t *m, int n, int runs, struct times *out)
{
    int V = model_config(m)->vocab;
    model_state *s = model_state_new(m), *ref = model_state_new(m);
    neuron_answer *a = malloc(sizeof *a);
    neuron_challenge *c = malloc(sizeof *c);
    float *lg = malloc((size_t)(PROMPT + n) * (size_t)V * sizeof *lg);
    neuron_score_params p;
    neuron_score_params_default(&p);
    double t[5][MAX_RUNS];
    int rc = s && ref && a && c && lg ? 0 : -1;
    for (int r = 0; !rc && r < runs; r++) {
        /* printable bytes for the byte-level model, any id for a vocabulary */
        challenge(c, V == 256 ? 32 : 0, V == 256 ? 127 : V, n, 1000 + (uint64_t)r);
        double t0 = cpu_now();
        rc = neuron_answer_generate(s, c, a) ? -1 : 0;
        double t1 = cpu_now();
        neuron_score sc;
        if (!rc)
            rc = neuron_score_answer(ref, c, a, 0, 1000, &p, &sc) || sc.kl != 0 || sc.agree != 1
                     ? -1 : 0;
        t[0][r] = (t1 - t0) * 1e3;
        t[1][r] = (cpu_now() - t1) * 1e3;
        t[4][r] = t[1][r] / t[0][r];
        if (!rc)
            rc = forwards(ref, c, a, lg, &t[2][r], &t[3][r]);
    }
    if (!rc)
        *out = (struct times){ bench_median(t[0], runs), bench_median(t[1], runs),
                               bench_median(t[2], runs), bench_median(t[3], runs),
                               bench_median(t[4], runs) };
    free(lg);
    free(c);
    free(a);
    model_state_free(ref);
    model_state_free(s);
    return rc;
}

/* The ratios of one model; returns how many are over the bar, -1 on error. */
static int run(const char *label, model_t *m, int runs)
{
    int over = 0;
    printf("%s\n  f32, one thread's CPU time, median of %d, prompt %d tokens\n", label, runs, PROMPT);
    static const int ns[] = { 32, 64 };
    for (size_t i = 0; i < BASED_ARRAY_LEN(ns); i++) {
        struct times t;
        if (time_pair(m, ns[i], runs, &t)) {
            fprintf(stderr, "verify_speed: %s: N = %d failed\n", label, ns[i]);
            return -1;
        }
        printf("  N = %2d  miner %8.2f ms   validator %8.2f ms   ratio %.3f%s\n", ns[i], t.miner,
               t.valid, t.ratio, t.ratio <= 0.5 ? "" : "   (over the 0.5 bar)");
        printf("          (ratio of the medians %.3f)  forward passes alone: batched %.2f ms,"
               " token by token %.2f ms (%.3f)\n", t.valid / t.miner, t.batched, t.stepwise,
               t.batched / t.stepwise);
        over += t.ratio > 0.5;
    }
    return over;
}

int main(void)
{
    char err[256];
    int over = 0, failed = 0;
    model_t *def = NULL;
    if (model_load(MODEL_DEFAULT_PATH, &def, err, sizeof err) == BASED_E_OK) {
        int r = run("default model " MODEL_DEFAULT_PATH, def, MAX_RUNS);
        failed |= r < 0;
        over += r > 0 ? r : 0;
        model_free(def);
    } else {
        printf("default model not found (%s); skipped\n", err);
    }
    model_t *m = bench_random_15m(err, sizeof err);
    if (!m) {
        fprintf(stderr, "verify_speed: cannot build the 15M model: %s\n", err);
        return 1;
    }
    /* a run takes ~1 s on this shape: fewer of them */
    int r = run("random stories15M shape (dim 288, 6 layers, 6 heads, vocab 32000)", m, 9);
    failed |= r < 0;
    over += r > 0 ? r : 0;
    model_free(m);
    return over == 0 && !failed ? 0 : 1;
}
