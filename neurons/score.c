/*
 * score.c: the validator's score of one miner answer (score.h).
 *
 * One batched reference pass gives the logits at every generated position:
 * the prompt but its last token with only the last row of logits (wasted,
 * but the KV cache is filled in one call), then the last prompt token and
 * the returned tokens but the last with all rows. A position's logits do
 * not depend on how the sequence is split into calls (model.h), so they
 * are bit-identical to what an honest f32 miner saw while decoding.
 *
 * The reference log-probabilities are computed exactly as model_generate
 * computes the ones it reports (max logit, sum of exp in index order in
 * double, lp = (float)(logit - lse)), so an honest f32 miner's cells equal
 * the reference's bit for bit and its KL is exactly 0. The agreement replays
 * model_sample with the challenge's sampler and seed on the reference
 * logits, drawing from the generator exactly as model_generate does (one
 * uniform per generated token, in order), with the two refinements that
 * make it fair to honest compressed miners (miner's order of its top-k, a
 * tolerance on the uniform; see agrees()); for an honest f32 miner it is
 * model_sample step for step, so its agreement is exactly 1.
 */
#include <math.h>
#include <string.h>

#include "neurons/score.h"

/* Log-probabilities claimed by a miner may sum over 1 by rounding: each
 * reported float log-probability is within half an ulp (~6e-8 relative) of
 * its true value, so k <= 16 of them sum at most ~1e-6 over 1. Anything
 * beyond 1 + 1e-4 is not rounding but an invented distribution. */
#define SUM_TOL 1e-4
/* Probability floor of a miner's cell in the KL: a cell the miner claims
 * (almost) impossible costs p x log(p / 1e-6) = p x 13.8 nats instead of
 * infinity, already far beyond any kl_bad. */
#define CELL_FLOOR 1e-6

static const char *const gate_names[NEURON_GATE__COUNT] = {
    [NEURON_GATE_OK] = "ok",               [NEURON_GATE_LENGTH] = "length",
    [NEURON_GATE_VOCAB] = "vocab",         [NEURON_GATE_RANK] = "rank",
    [NEURON_GATE_LOGPROBS] = "logprobs",   [NEURON_GATE_CONTEXT] = "context",
    [NEURON_GATE_REPEAT] = "repeat",
    [NEURON_GATE_NO_ANSWER] = "no-answer", [NEURON_GATE_TIMEOUT] = "timeout",
    [NEURON_GATE_SEAL] = "seal",           [NEURON_GATE_DECODE] = "decode",
    [NEURON_GATE_SIGNATURE] = "signature", [NEURON_GATE_CHALLENGE] = "challenge",
    [NEURON_GATE_DUPLICATE] = "duplicate",
};

const char *neuron_gate_name(int gate)
{
    return gate >= 0 && gate < NEURON_GATE__COUNT ? gate_names[gate] : "unknown";
}

/*
 * The defaults. Measured on models/based-fortunes.gguf over 40 challenges
 * of the default parameters (tests/neurons/calib_test.c) and 600 more
 * (docs/validating.md), per-answer values:
 *   KL:        f32 0, q8_0 1.4e-4, cerberus 3.8e-4, heads 4.3e-4 (one
 *              answer in 600: 0.10), q4_0 6.2e-3 (at most 0.015); a
 *              substituted model 0.74, prime 1.6, copied rows 3.9;
 *   agreement: f32 1, q8_0 0.999, cerberus 0.997, q4_0 0.95; greedy 0.61,
 *              T = 1.5 0.36, a substituted model 0.34, prime 0.04.
 */
void neuron_score_params_default(neuron_score_params *p)
{
    /* f = 1 up to q8_0 / cerberus level (2-10x their mean KL): those are
     * lossless for scoring; q4_0 loses ~5 % of f. */
    p->kl_good = 0.001;
    /* f = 0 at 0.1 nats: 7x the worst q4_0 answer, 7x under the best
     * substituted-model answer. Published q4_0 KLs of 7-8B models are
     * 0.03-0.07, so this also holds for larger models. */
    p->kl_bad = 0.1;
    /* 2 % of the probability mass: takes the honest q8_0 mismatches from
     * 1.8 % of positions to 0.1 % (the CDF shifted by small probability
     * differences), while greedy and T = 1.5 answers miss by more than
     * that at 39 % and 63 % of positions. */
    p->agree_tol = 0.02;
    /* g = 0 at 75 % agreement: above greedy answers (mean 0.61-0.63, the
     * most agreeing of 40 at 0.717; with the square root below, a floor of
     * 0.7 still paid greedy miners ~1 % of a Brain's emission on chain),
     * under every honest q4_0 answer (0.82 at least in 640). */
    p->agree_floor = 0.75;
    /* square root: one mismatch in 32 tokens (a = 0.969, which an honest
     * cerberus or q8_0 miner sees in some challenges) costs 6 %, not 12 %,
     * so the smoothed score of an honest compressed miner stays within a
     * few % of f32's; q4_0 at 0.95 keeps 0.89 of its quality. */
    p->agree_power = 0.5;
    /* R = 64 + 128 (T - 0.5): 64 at T <= 0.5, 102 at the default 0.8, 128
     * at 1. An honest T = 0.8 sample ranks beyond 96 with probability
     * 1.6e-6 (7e-5 an answer of 40 tokens); 32 uniform random bytes all
     * fall within top-102 with probability 2e-13. For vocabularies far
     * larger than 256, raise rank_base with the vocabulary. */
    p->rank_base = 64;
    p->rank_per_temp = 128;
    /* a small bounded speed bonus: answering within a quarter of the
     * deadline is full speed, a miner at the deadline loses 3 %. On a busy
     * machine honest miners' latencies spread by load alone; the free
     * quarter keeps that noise out of the score. */
    p->speed_weight = 0.03;
    p->speed_free = 0.25;
}

void neuron_score_gated(neuron_score *out, int gate)
{
    memset(out, 0, sizeof *out);
    out->gate = gate;
}

/* ---- gates on the answer alone ---------------------------------------------- */

static int shape_gate(const struct model_config *cf, const neuron_challenge *c,
                      const neuron_answer *a)
{
    if (a->n != c->n_gen || a->k != c->topk || a->n > NEURON_MAX_GEN || a->k > NEURON_MAX_TOPK)
        return NEURON_GATE_LENGTH;
    if (c->n_prompt < 1 || c->n_prompt > NEURON_MAX_PROMPT || c->n_gen < 1 || c->topk < 1 ||
        c->topk > cf->vocab || (int)c->n_prompt + (int)c->n_gen > cf->seq_len)
        return NEURON_GATE_CONTEXT;
    for (int i = 0; i < c->n_prompt; i++)
        if (c->prompt[i] < 0 || c->prompt[i] >= cf->vocab)
            return NEURON_GATE_CONTEXT;
    for (int i = 0; i < a->n; i++)
        if (a->tokens[i] < 0 || a->tokens[i] >= cf->vocab)
            return NEURON_GATE_VOCAB;
    for (int i = 0; i < a->n * a->k; i++)
        if (a->topk[i].token < 0 || a->topk[i].token >= cf->vocab)
            return NEURON_GATE_VOCAB;
    return NEURON_GATE_OK;
}

/* One position's k log-probabilities: finite, <= 0, non-increasing, distinct
 * tokens, probabilities summing at most 1 + SUM_TOL. */
static bool row_ok(const neuron_lp *r, int k)
{
    double sum = 0;
    for (int j = 0; j < k; j++) {
        float lp = r[j].logprob;
        if (!isfinite(lp) || lp > 0 || (j > 0 && lp > r[j - 1].logprob))
            return false;
        for (int i = 0; i < j; i++)
            if (r[i].token == r[j].token)
                return false;
        sum += exp((double)lp);
    }
    return sum <= 1 + SUM_TOL;
}

/* ---- the reference ------------------------------------------------------------ */

/* Log-probabilities of logits lg exactly as model_generate reports them. */
static void ref_logprobs(const float *lg, int vocab, float *lp)
{
    int best = 0;
    for (int i = 1; i < vocab; i++)
        if (lg[i] > lg[best])
            best = i;
    float mx = lg[best];
    double sum = 0;
    for (int i = 0; i < vocab; i++)
        sum += exp((double)(lg[i] - mx));
    double lse = (double)mx + log(sum);
    for (int i = 0; i < vocab; i++)
        lp[i] = (float)((double)lg[i] - lse);
}

/* 1-based rank of token t in lp, ties broken by lower id first. */
static int rank_of(const float *lp, int vocab, int t)
{
    int r = 1;
    for (int i = 0; i < vocab; i++)
        r += lp[i] > lp[t] || (lp[i] == lp[t] && i < t);
    return r;
}

/* The k most likely tokens of lp (ties: lower id first), best first. */
static void ref_topk(const float *lp, int vocab, int k, int *top)
{
    int n = 0;
    for (int i = 0; i < vocab; i++) {
        if (n == k && lp[i] <= lp[top[k - 1]])
            continue;
        int j = n < k ? n++ : k - 1;
        while (j > 0 && lp[top[j - 1]] < lp[i]) {
            top[j] = top[j - 1];
            j--;
        }
        top[j] = i;
    }
}

/*
 * KL(P || Q) over cells: the miner's k tokens, the reference's top-k tokens
 * the miner left out, and the lumped rest. A left-out token gets the most
 * the miner's own claim allows it: no more than its k-th probability and an
 * equal share of its "other" mass. An honest compressed miner that swapped
 * the k-th and (k+1)-th tokens pays almost nothing; a miner that lists
 * unlikely tokens with true log-probabilities (and leaves out the likely
 * ones) pays for the likely ones.
 */
static double cell_kl(const float *lp, int vocab, const neuron_lp *r, int k)
{
    int top[NEURON_MAX_TOPK], miss[NEURON_MAX_TOPK], m = 0;
    ref_topk(lp, vocab, k, top);
    for (int i = 0; i < k; i++) {
        int j = 0;
        while (j < k && r[j].token != top[i])
            j++;
        if (j == k)
            miss[m++] = top[i];
    }
    double kl = 0, sp = 0, sq = 0;
    for (int j = 0; j < k; j++) {
        double p = exp((double)lp[r[j].token]), q = exp((double)r[j].logprob);
        sp += p;
        sq += q;
        kl += p * log(fmax(p, CELL_FLOOR) / fmax(q, CELL_FLOOR));
    }
    double qo = fmax(1 - sq, 0);
    double qm = m ? fmin(exp((double)r[k - 1].logprob), qo / m) : 0;
    for (int i = 0; i < m; i++) {
        double p = exp((double)lp[miss[i]]);
        sp += p;
        kl += p * log(fmax(p, CELL_FLOOR) / fmax(qm, CELL_FLOOR));
    }
    qo = fmax(qo - m * qm, 0);
    double po = fmax(1 - sp, 0);
    kl += po * log(fmax(po, CELL_FLOOR) / fmax(qo, CELL_FLOOR));
    return fmax(kl, 0);
}

/* ---- the shared-seed sample ---------------------------------------------------- */

/*
 * model_sample (model/sample.c) sorts the candidates by probability and
 * inverts the CDF at the generator's uniform. Two tokens of nearly equal
 * probability that a compressed model ranks the other way round shift the
 * whole CDF, and the same uniform then picks different tokens far more
 * often than the distributions differ (measured on q8_0: 3.7 % of positions
 * instead of ~1 %). So the reference draws with its own probabilities but
 * its candidates in the order the miner reported for its top-k (the rest in
 * the reference's order). When that order is the reference's own (an honest
 * f32 miner, or any cheat reporting the true log-probabilities), this is
 * model_sample step for step (it calls the same model_sample_sorted and
 * model_sample_keep, then draws one uniform a token), so the result is
 * bit-identical. At temperature 0 it is the reference's argmax, as in
 * model_sample.
 */

/* Scratch of the replay: 2 x vocab candidates, probabilities by id, and a
 * zeroed mark byte per token. */
struct replay {
    struct model_cand *c;
    double *byid;
    uint8_t *mark;
};

/* Moves the miner's top-k tokens (distinct, checked) to the front of the
 * sorted candidates, in the miner's order. */
static void miner_order(struct replay *w, int vocab, const neuron_lp *r, int k)
{
    struct model_cand *c = w->c, *tmp = w->c + vocab;
    int j = 0;
    while (j < k && c[j].id == r[j].token)
        j++;
    if (j == k)
        return;   /* already the reference's order */
    for (j = 0; j < k; j++) {
        tmp[j] = (struct model_cand){ r[j].token, w->byid[r[j].token] };
        w->mark[r[j].token] = 1;
    }
    for (int i = 0, n = k; i < vocab; i++)
        if (!w->mark[c[i].id])
            tmp[n++] = c[i];
    for (j = 0; j < k; j++)
        w->mark[r[j].token] = 0;
    memcpy(c, tmp, (size_t)vocab * sizeof *c);
}

/*
 * Whether the miner's token x is the reference's draw at one position with
 * the generator's uniform moved by at most tol (a share of the probability
 * mass): u falls within tol of x's interval of the CDF. Draws the uniform
 * (one per position, as model_generate). With tol 0 this is "the reference
 * draws x" exactly: the probabilities, the truncation and the interval ends
 * are the very numbers model_sample computes and compares u with. At
 * temperature 0 (no uniform drawn) x agrees if it is the argmax or its
 * probability (lp: the reference's log-probabilities) is within tol of it.
 */
static bool agrees(const float *lg, const float *lp, int vocab, const struct model_sampler *sp,
                   uint64_t *rng, const neuron_lp *r, int k, int x, double tol, struct replay *w)
{
    if (sp->temperature <= 0) {
        int top = model_argmax(lg, vocab);
        return x == top || exp((double)lp[x]) >= exp((double)lp[top]) - tol;
    }
    struct model_cand *c = w->c;
    model_sample_sorted(lg, vocab, sp->temperature, c, w->byid);
    miner_order(w, vocab, r, k);
    double keep;
    int m = model_sample_keep(c, vocab, sp, &keep);
    double u = model_rng_uniform(rng) * keep, lo = 0;
    for (int i = 0; i < m; i++) {
        double hi = lo + c[i].p;
        if (c[i].id == x) {
            double d = u < lo ? lo - u : u >= hi && i < m - 1 ? u - hi : 0;
            return d <= tol * keep;
        }
        lo = hi;
    }
    return false;   /* x is outside what the sampler may draw */
}

/* Logits at every generated position: n x vocab into lg. */
static based_err reference_pass(model_state *ref, const neuron_challenge *c,
                                const neuron_answer *a, float *lg)
{
    int np = c->n_prompt, n = a->n;
    based_err e = BASED_E_OK;
    if (np > 1)
        e = model_forward(ref, c->prompt, np - 1, 0, lg, true);
    int seq[NEURON_MAX_GEN];
    seq[0] = c->prompt[np - 1];
    for (int i = 0; i + 1 < n; i++)
        seq[i + 1] = a->tokens[i];
    if (!e)
        e = model_forward(ref, seq, n, np - 1, lg, false);
    return e;
}

/* ---- the score ---------------------------------------------------------------- */

static double clamp01(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

static int rank_limit(const neuron_score_params *p, const neuron_challenge *c)
{
    double t = (double)c->temp_milli / 1000.0;
    return p->rank_base + (int)(p->rank_per_temp * (t > 0.5 ? t - 0.5 : 0));
}

static void combine(const neuron_score_params *p, double latency_ms, double deadline_ms,
                    neuron_score *o)
{
    o->fidelity = clamp01((p->kl_bad - o->kl) / (p->kl_bad - p->kl_good));
    double ga = clamp01((o->agree - p->agree_floor) / (1 - p->agree_floor));
    o->quality = o->fidelity * pow(ga, p->agree_power);
    double span = deadline_ms * (1 - p->speed_free);
    o->speed = deadline_ms > 0 && span > 0 ? clamp01((deadline_ms - latency_ms) / span) : 0;
    o->score = o->quality * (1 - p->speed_weight + p->speed_weight * o->speed);
}

/* Scratch of one scoring: n x vocab logits, vocab log-probabilities, the
 * replay's. */
struct work {
    float *lg, *lp;
    struct replay rp;
};

static bool work_new(struct work *w, int n, int vocab)
{
    w->lg = malloc((size_t)n * (size_t)vocab * sizeof *w->lg);
    w->lp = malloc((size_t)vocab * sizeof *w->lp);
    w->rp.c = malloc(2 * (size_t)vocab * sizeof *w->rp.c);
    w->rp.byid = malloc((size_t)vocab * sizeof *w->rp.byid);
    w->rp.mark = calloc((size_t)vocab, 1);
    return w->lg && w->lp && w->rp.c && w->rp.byid && w->rp.mark;
}

static void work_free(struct work *w)
{
    free(w->lg);
    free(w->lp);
    free(w->rp.c);
    free(w->rp.byid);
    free(w->rp.mark);
}

/*
 * A token that makes up more than half of the answer, or -1. Repetition is
 * where a prefix vouches for itself: after a few spaces a byte model expects
 * more spaces, so an answer of one token repeated agrees with the reference
 * almost everywhere after its first positions (measured: up to 98 % of
 * positions for a run of spaces) although the reference would not have
 * started it. Honest answers can be repetitive too (a line of '=' or
 * spaces: 1.3 % of honest answers at T = 0.8 have one token making up half
 * or more), so
 * repetition alone is no gate; a repetitive answer must agree at every
 * position of its repeated token.
 */
static int majority_token(const neuron_answer *a)
{
    for (int t = 0; t < a->n; t++) {
        int cnt = 0;
        for (int u = 0; u < a->n; u++)
            cnt += a->tokens[u] == a->tokens[t];
        if (2 * cnt > a->n)
            return a->tokens[t];
    }
    return -1;
}

/* Rank, KL and agreement at every position (the logits in w->lg); returns
 * false when the answer is repetitive and disagrees on its repeated token. */
static bool audit(const neuron_challenge *c, const neuron_answer *a, int vocab,
                  const neuron_score_params *p, struct work *w, neuron_score *o)
{
    struct model_sampler sp;
    neuron_challenge_sampler(c, &sp);
    uint64_t rng = c->seed;
    double kl = 0;
    int agree = 0, k = a->k, rep = majority_token(a);
    bool rep_ok = true;
    for (int t = 0; t < a->n; t++) {
        const float *row = w->lg + (size_t)t * vocab;
        const neuron_lp *r = a->topk + (size_t)t * k;
        ref_logprobs(row, vocab, w->lp);
        int rk = rank_of(w->lp, vocab, a->tokens[t]);
        o->worst_rank = rk > o->worst_rank ? rk : o->worst_rank;
        kl += cell_kl(w->lp, vocab, r, k);
        bool ok = agrees(row, w->lp, vocab, &sp, &rng, r, k, a->tokens[t], p->agree_tol, &w->rp);
        agree += ok;
        rep_ok &= ok || a->tokens[t] != rep;
    }
    o->positions = a->n;
    o->kl = kl / a->n;
    o->agree = (double)agree / a->n;
    return rep_ok;
}

based_err neuron_score_answer(model_state *ref, const neuron_challenge *c,
                              const neuron_answer *a, double latency_ms, double deadline_ms,
                              const neuron_score_params *p, neuron_score *out)
{
    neuron_score_gated(out, NEURON_GATE_OK);
    if (!ref || !c || !a || !p)
        return BASED_E_BAD_PARAM;
    const struct model_config *cf = model_state_config(ref);
    if ((out->gate = shape_gate(cf, c, a)) != NEURON_GATE_OK)
        return BASED_E_OK;
    for (int t = 0; t < a->n; t++)
        if (!row_ok(a->topk + (size_t)t * a->k, a->k)) {
            out->gate = NEURON_GATE_LOGPROBS;
            return BASED_E_OK;
        }
    struct work w;
    based_err e = work_new(&w, a->n, cf->vocab) ? reference_pass(ref, c, a, w.lg) : BASED_E_NOMEM;
    bool rep_ok = !e && audit(c, a, cf->vocab, p, &w, out);
    work_free(&w);
    if (e)
        return e;
    if (out->worst_rank > rank_limit(p, c))
        out->gate = NEURON_GATE_RANK;
    else if (!rep_ok)
        out->gate = NEURON_GATE_REPEAT;
    else
        combine(p, latency_ms, deadline_ms, out);
    return BASED_E_OK;
}
