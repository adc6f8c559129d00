/*
 * score.h: how a validator scores one miner's answer against the reference.
 *
 * One batched reference prefill (the uncompressed model) over prompt +
 * returned tokens gives the reference distribution P_t at every generated
 * position t. Then, in order:
 *   hard gates (score 0): wrong length or k, a token outside the
 *     vocabulary, malformed log-probabilities (not sorted, duplicates,
 *     positive or non-finite, probabilities summing over 1), prompt +
 *     tokens beyond the context; a returned token ranked below top-R under
 *     P_t (R grows with the asked temperature); one token making up more
 *     than half of the answer while the reference, replaying the seed,
 *     disagrees at any of its positions (repetition vouches for itself);
 *   fidelity f from the mean KL(P_t || Q_t) over the audited positions
 *     (all of them), where Q_t is the miner's top-k, plus the reference's
 *     top-k tokens the miner left out (each given the most the miner's
 *     claim allows), plus the rest lumped into one "other" cell, and P_t is
 *     projected on the same cells (an honest uncompressed miner gets
 *     exactly 0); f = 1 at KL <= kl_good, 0 at KL >= kl_bad, linear between;
 *   agreement a: share of positions where the miner's token is the token
 *     the reference draws there with the challenge's sampler and seed (the
 *     generator stream of model_generate, on the miner's prefix), the
 *     candidates in the miner's reported order for its top-k, the uniform
 *     allowed to move by agree_tol (an honest f32 miner gets exactly 1);
 *   quality = f x g(a), g(a) = ((a - a0) / (1 - a0))^power, 0 below a0;
 *   speed s = (deadline - latency) / (deadline x (1 - speed_free)) clamped to
 *     [0, 1], by the validator's own clock (full speed within speed_free x
 *     the deadline);
 *   score = quality x (1 - speed_weight + speed_weight x s).
 * The constants and why they have these values: docs/validating.md.
 *
 * Threads: uses the caller's model_state (one per thread); nothing else.
 */
#ifndef BASED_NEURONS_SCORE_H
#define BASED_NEURONS_SCORE_H

#include "model/model.h"
#include "neurons/proto.h"

enum neuron_gate {
    NEURON_GATE_OK = 0,
    NEURON_GATE_LENGTH,      /* n or k differs from what was asked */
    NEURON_GATE_VOCAB,       /* a token outside the vocabulary */
    NEURON_GATE_RANK,        /* a token ranked below top-R */
    NEURON_GATE_LOGPROBS,    /* malformed log-probabilities */
    NEURON_GATE_CONTEXT,     /* prompt + tokens beyond the context */
    NEURON_GATE_REPEAT,      /* one token over half the answer, not all agreeing */
    /* Set by the validator before scoring, never by neuron_score_answer: */
    NEURON_GATE_NO_ANSWER,   /* connection refused, HTTP error */
    NEURON_GATE_TIMEOUT,     /* no complete answer before the deadline */
    NEURON_GATE_SEAL,        /* response is not a box sealed to us */
    NEURON_GATE_DECODE,      /* the opened answer is malformed */
    NEURON_GATE_SIGNATURE,   /* not signed by the miner's account */
    NEURON_GATE_CHALLENGE,   /* answers another challenge (replay, copy) */
    NEURON_GATE_DUPLICATE,   /* same tokens as another miner's this round */
    NEURON_GATE__COUNT
};
/* "ok", "length", "rank", ... (static). */
const char *neuron_gate_name(int gate);

typedef struct {
    double kl_good;          /* KL at or below this: f = 1 (nats) */
    double kl_bad;           /* KL at or above this: f = 0 (nats) */
    double agree_tol;        /* a token agrees if the uniform moved by this share of
                                the probability mass draws it (greedy: its probability
                                within this of the top one's) */
    double agree_floor;      /* a0: g(a) = 0 at or below */
    double agree_power;      /* g(a) = ((a - a0) / (1 - a0))^power */
    int rank_base;           /* R at temperature <= 0.5 */
    int rank_per_temp;       /* R grows by this per 1.0 of temperature above 0.5 */
    double speed_weight;     /* share of the score that speed can move */
    double speed_free;       /* latency up to this share of the deadline is full speed */
} neuron_score_params;

/* The defaults, calibrated on models/based-fortunes.gguf (docs/validating.md). */
void neuron_score_params_default(neuron_score_params *p);

typedef struct {
    double score;            /* final, [0, 1] */
    double quality;          /* f x g(a), [0, 1] */
    double kl;               /* mean KL over the audited positions (nats) */
    double fidelity;         /* f */
    double agree;            /* a */
    double speed;            /* s */
    int gate;                /* NEURON_GATE_OK or the gate that failed */
    int worst_rank;          /* largest reference rank of a returned token (1 = top) */
    int positions;           /* audited positions */
} neuron_score;

/*
 * Scores answer a to challenge c with the reference model state ref (its KV
 * cache is overwritten). latency_ms is the validator-measured round trip,
 * deadline_ms the deadline it used. Sets every field of *out; returns
 * BASED_E_OK also when a gate failed (out->gate says which; score and
 * quality are then 0, and kl, agree, worst_rank are filled when the gate
 * came after the reference pass), an error only when the reference pass
 * itself failed (out of memory).
 */
based_err neuron_score_answer(model_state *ref, const neuron_challenge *c,
                              const neuron_answer *a, double latency_ms, double deadline_ms,
                              const neuron_score_params *p, neuron_score *out);

/* A score for an answer that never got to scoring (gate set, rest 0). */
void neuron_score_gated(neuron_score *out, int gate);

#endif
