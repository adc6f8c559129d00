/*
 * tftnet.h: the network series of the TFT Enforcer (docs/tft.md "Network
 * series"). Per network epoch (a bucket of `tempo` blocks: epoch n is
 * blocks n*T+1 .. (n+1)*T, T = tempo, 99 when tempo is 0) the chain
 * records six integer series, forecasts each REWARD_TFTNET_H epochs ahead
 * with a network TFT model and scores its one-step forecasts against
 * seasonal naive. State, under CHAIN_T_TFT with 'N' as the second byte
 * (a Brain's keys are f || be16 id (first byte <= 3) || ..., 8 bytes; these
 * are 3 bytes, so they cannot collide):
 *
 *   f N A -> the running epoch: its last height, partial flag, blocks, txs,
 *            bytes, intervals and their sum, the previous block's time,
 *            minted at its start, the smallest sender hashes (<= 256)
 *   f N S -> the series record: the last K values of each series, the
 *            forecasts for the next epochs (TFT, h = 1..H) and the next one
 *            (seasonal naive), the per-series pinball losses of the last K
 *            scored epochs
 *   f N J -> a pending network training job (as a Brain's, other payload)
 *   f N M -> the applied network model (trained_at, applied_at, bytes)
 *
 * With tft_enabled = 0 nothing is read or written. Training uses the
 * Brains' job / worker / apply-delay machinery (rewards/tftchain.h) and
 * their model configuration; tft_train_every counts network epochs here.
 * Integer state only; forecasts enter it through reward_tftnet_round.
 */
#ifndef BASED_REWARDS_TFTNET_H
#define BASED_REWARDS_TFTNET_H

#include <jansson.h>

#include "chain/exec.h"
#include "chain/genesis.h"
#include "chain/tx.h"

#define REWARD_TFTNET_SERIES 6
#define REWARD_TFTNET_H 3              /* epochs ahead */
#define REWARD_TFTNET_KMV 256          /* sender hashes kept per epoch */
#define REWARD_TFTNET_FIX 65536        /* unit of the pooled relative losses */

/* End of every block, after its transactions (tft_enabled only): applies
 * a due network model, adds the block to the running epoch and, at the
 * epoch's last block, records, scores, forecasts and maybe writes a job. */
based_err reward_tftnet_block_end(chain_exec *ex, chain_tx *const *txs, size_t n);

/* tft_getForecast without a Brain: every network series (which == NULL)
 * or the one named `which` (NULL and *code = BASED_E_BAD_PARAM when there
 * is no such series), with history, forecasts, losses and accuracy, the
 * model, beta and the network b, and a b summary of every Brain. */
json_t *reward_tftnet_json(chain_view *v, const chain_genesis *g, uint64_t height,
                           const char *which, based_err *code);

/* ---- the pieces, exported for tests ---- */
/* Series i's name ("txs_per_block_milli", ...); NULL past the end. */
const char *reward_tftnet_series_name(size_t i);
/* double -> integer: NaN and v <= 0 give 0, v >= 2^63 gives 2^63 - 1,
 * v >= 2^52 (an integer already) is converted exactly, else floor(v + 0.5)
 * (round half up; exact below 2^52). */
uint64_t reward_tftnet_round(double v);
/* Seasonal naive (season 1): P50 = the last value, P10/P90 = P50 + the
 * nearest-rank 10 %/90 % of the window's one-step changes, clamped to
 * [0, 2^63 - 1]. len >= 1. */
void reward_tftnet_naive(const uint64_t *y, size_t len, uint64_t q[3]);
/* Summed pinball loss at q = 0.1, 0.5, 0.9 in tenths of a unit, saturating. */
uint64_t reward_tftnet_pinball(uint64_t y, const uint64_t q[3]);
/* Distinct count from the n smallest hashes kept (ascending): n when
 * n < REWARD_TFTNET_KMV (exact), else the k-minimum-values estimate
 * floor((K - 1) * 2^64 / (h_K + 1)). */
uint64_t reward_tftnet_distinct(const uint64_t *h, size_t n);
/* Adds hash x to the ascending set h[0..*n) (the smallest K kept). */
void reward_tftnet_kmv_add(uint64_t *h, size_t *n, uint64_t x);
/* Pooled accuracy over series: tft_accuracy(sum_s floor(FIX x lt_s / ln_s),
 * FIX x #s) over the series with ln_s > 0 (each term capped at 2^40). */
uint64_t reward_tftnet_accuracy(const uint64_t *lt, const uint64_t *ln, size_t n,
                                uint64_t *pooled_tft, uint64_t *pooled_naive);

#endif
