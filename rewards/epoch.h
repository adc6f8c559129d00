/*
 * epoch.h: one Brain's epoch: weights and stake in, consensus, incentive,
 * dividends, bonds ("Credits") and emission out.
 *
 * Two modes (per Brain):
 *   REWARD_MODE_YUMA        classic Yuma consensus exactly as subtensor's
 *                           2023 epoch (the BasedAI chain's), in integer
 *                           fixed point (32.32 with 128-bit intermediates,
 *                           floor multiply, truncating divide), bit for bit.
 *   REWARD_MODE_WHITEPAPER  the whitepaper's mechanism: binary trust T,
 *                           C = sigmoid(rho (T^T S - kappa)) with an
 *                           integer-only exp, I = normalise(R * C),
 *                           dCredits = W * S.
 * With tft_b = 0 the result is exactly classic Yuma; with tft_b > 0 the
 * incentive is I = normalise((1 - b) RC + b clamp(RC, P10, P90)).
 *
 * Pure function: no I/O, no allocation visible to the caller except the
 * output arrays (reward_epoch_out_free). Deterministic on every machine:
 * no floating point anywhere.
 */
#ifndef BASED_REWARDS_EPOCH_H
#define BASED_REWARDS_EPOCH_H

#include "chain/base.h"

#define REWARD_MAX_NEURONS 2048          /* 256 validators + 1792 miners */

typedef enum { REWARD_MODE_YUMA = 0, REWARD_MODE_WHITEPAPER = 1 } reward_mode;

typedef struct {
    reward_mode mode;
    uint16_t kappa;                 /* u16 fraction of 65535 (default 32767) */
    uint32_t rho;                   /* steepness (default 10) */
    uint64_t bonds_moving_average;  /* parts per million (default 900000) */
    uint64_t activity_cutoff;       /* blocks (default 5000) */
    uint16_t max_validators;        /* permits (default 256) */
} reward_epoch_params;

/* A sparse u16 row: entries (uid, value), uids strictly increasing. */
typedef struct {
    const uint16_t *uid;
    const uint16_t *val;
    size_t n;
} reward_row;

typedef struct {
    uint64_t stake;                 /* base units */
    uint64_t last_update;           /* block of the last weights */
    uint64_t registered_at;         /* block of registration (masks older weights on it) */
    bool permit;                    /* validator permit held from the previous epoch */
    reward_row weights;             /* stored max-upscaled u16 row */
    reward_row bonds;               /* stored u16 bonds row */
} reward_neuron_in;

typedef struct {
    uint64_t block;                 /* current block */
    uint64_t emission;              /* base units to distribute this epoch */
    reward_epoch_params p;
    size_t n;                       /* neurons, uid = index, n <= REWARD_MAX_NEURONS */
    const reward_neuron_in *neurons;
    /* TFT term: b in 32.32 fixed point (0 = classic), per-neuron incentive
     * bands as u16 fractions (NULL when b = 0). */
    uint64_t tft_b;
    const uint16_t *p10, *p90;
} reward_epoch_in;

typedef struct {
    size_t n;
    uint16_t *rank, *trust, *consensus, *incentive, *dividends, *validator_trust; /* u16 */
    uint16_t *incentive_rc;         /* u16: the incentive before the TFT term (RC, what
                                     * the TFT forecasts); = incentive when b = 0 */
    uint64_t *emission;             /* base units; sums to at most in->emission */
    bool *permit;                   /* new permits */
    uint16_t **bond_uid, **bond_val;/* new bonds rows (sparse), per neuron */
    size_t *bond_n;
    /* What to pay (each floored on its own; sum over both <= in->emission):
     * the incentive part (miners' half) and the dividends part
     * (validators' half, or the stake fallback). `emission` above is the
     * chain's displayed column floor(normalise(I + D) * emission), which
     * can differ from their sum by a unit. */
    uint64_t *emission_incentive, *emission_dividends;
} reward_epoch_out;

/* Runs the epoch. Errors: BASED_E_BAD_PARAM (n too large, unsorted rows,
 * uid out of range, bonds_moving_average > 1000000, tft_b > 0 without
 * p10/p90), BASED_E_NOMEM. On error *out is zeroed. The bonds rows out are
 * the rows to store for every neuron: the new row for new permit holders,
 * empty for neurons that lost their permit, the input row otherwise (as
 * subtensor leaves it untouched). */
based_err reward_epoch_run(const reward_epoch_in *in, reward_epoch_out *out);
void reward_epoch_out_free(reward_epoch_out *out);

#endif
