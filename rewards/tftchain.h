/*
 * tftchain.h: the TFT Enforcer inside block execution (issue 6, "In the
 * chain"; docs/tft.md). Per Brain, in chain state under CHAIN_T_TFT:
 *
 *   f || brain || 'S' -> the series record: applied_at of the model the
 *                        feeds were last cut for; for every uid its occupant
 *                        (registered_at), its feed: its incentive (u16,
 *                        oldest first) since the feed start, at most 2K
 *                        values (the window is the last K of them), and the
 *                        forecasts for the next epoch made before its value
 *                        is known (TFT and seasonal-naive P10/P50/P90, u16);
 *                        the pooled pinball losses of the last K scored
 *                        epochs. A feed starts with its occupant, is cut to
 *                        its last K values when a model is applied and
 *                        rebased to its last K when it would exceed 2K.
 *   f || brain || 'J' -> a pending training job: the data as of height h
 *                        (every uid's window), its seed, and apply_at = h + D.
 *   f || brain || 'M' -> the applied model: trained_at, applied_at and the
 *                        model's bytes (tft_model_save, IEEE bit patterns).
 *
 * (brain = be16 id || be32 instance.) With tft_enabled = 0 nothing is read
 * or written and b = 0. With the node's training pool (reward_tft_pool,
 * bound to reward_module as reward_handles.pool) training runs on a pool
 * thread from the moment a job is written; the block at apply_at takes its
 * result (waiting only then) or trains synchronously when the pool does not
 * have it (no pool, replay, restart): the same bytes either way. Integer state only; the floats of tft/ enter
 * state through reward_tft_round and the model's bit patterns.
 */
#ifndef BASED_REWARDS_TFTCHAIN_H
#define BASED_REWARDS_TFTCHAIN_H

#include <jansson.h>

#include "chain/exec.h"
#include "chain/genesis.h"
#include "contracts/state.h"
#include "staking/staking.h"
#include "tft/tft.h"

#define REWARD_TFT_MAX_WINDOW 64
#define REWARD_TFT_MIN_TRAIN 8       /* a uid's window enters training from this length */
/* At most this many series in a Brain's training job (docs/tft.md "In the
 * chain"): when more uids are eligible, the REWARD_TFT_TRAIN_MAX with the
 * smallest reward_tft_pick_rank at the job's height (ties by uid). */
#define REWARD_TFT_TRAIN_MAX 256
#define REWARD_TFT_SEASON 1          /* seasonal naive's season, in epochs */

/* What one epoch of a Brain uses: b and the bands (per uid). */
typedef struct {
    bool on;                         /* tft_enabled */
    uint64_t beta, acc, b;           /* 32.32 */
    uint64_t loss_tft, loss_naive;   /* pooled over the last K scored epochs */
    size_t n;
    uint8_t *has;                    /* [n] 1 = a TFT forecast made last epoch */
    uint16_t *p10, *p50, *p90;       /* [n] (0, 0, 65535 where !has) */
} reward_tft_epoch;

/* Before the epoch: b = tft_beta(height) x accuracy, and the bands. */
based_err reward_tft_before(chain_exec *ex, const contract_brain *b, const stake_neuron *nn,
                            size_t n, reward_tft_epoch *t);
/* After it: scores last epoch's forecasts against `incentive` (the epoch's
 * incentive before the TFT term, RC: reward_epoch_out.incentive_rc; the
 * clamped one would let the TFT score and learn its own clamps), appends it
 * to the windows, forecasts the next epoch, writes a training job when due. */
based_err reward_tft_after(chain_exec *ex, const contract_brain *b, const stake_neuron *nn,
                           size_t n, const uint16_t *incentive);
void reward_tft_epoch_free(reward_tft_epoch *t);
/* Start of every block, per Brain: applies its training job if due. */
based_err reward_tft_block(chain_exec *ex, const contract_brain *b);

/* tft_getForecast: a Brain's windows, bands, accuracy, beta and b. */
json_t *reward_tft_json(chain_view *v, const chain_genesis *g, uint64_t height, uint64_t id,
                        based_err *code);

/* ---- the pieces, exported for tests ---- */
/* double -> u16: NaN and v <= 0 give 0, v >= 65535 gives 65535, else
 * floor(v + 0.5) (round half up). */
uint16_t reward_tft_round(double v);
/* The training configuration of the chain (small: d = 8, 2 heads). */
void reward_tft_config(struct tft_config *c, int window, uint64_t seed);
/* v -> reward_tft_round each, then sorted ascending. */
void reward_tft_round3(const double v[3], uint16_t q[3]);
/* A uid's feed (docs/tft.md "In the chain"): appends v; a feed of 2K values
 * is first rebased to its last K - 1 (so it then holds K). */
void reward_tft_feed_append(uint16_t *y, size_t *len, uint16_t v, size_t k);
/* Keeps a feed's last K values (when a new model is applied). */
void reward_tft_feed_cut(uint16_t *y, size_t *len, size_t k);
/* P10/P50/P90 of the step after y[0..len-1] (len >= 2), rounded and sorted. */
based_err reward_tft_forecast(const struct tft_model *m, const uint16_t *y, size_t len,
                              uint16_t q[3]);
/* Seasonal naive: P50 = y[len - SEASON]; P10/P90 = P50 + the nearest-rank
 * 10 %/90 % residuals y[s] - y[s - SEASON] of the window, clamped to u16. */
void reward_tft_naive(const uint16_t *y, size_t len, uint16_t q[3]);
/* Summed pinball loss of q (P10, P50, P90) at y, in tenths of a u16 unit. */
uint64_t reward_tft_pinball(uint16_t y, const uint16_t q[3]);
/* Trains a model from the series (seed as given); *out NULL when training
 * is refused. Caller frees with tft_model_free. */
based_err reward_tft_train(const uint16_t *const *series, const size_t *len, size_t n,
                           int window, uint64_t seed, struct tft_model **out);
/* The training-subset rank of a uid: the first 8 bytes (big-endian) of
 * BLAKE2b-256(brain be16 || instance be32 || height be64 || uid be16). */
uint64_t reward_tft_pick_rank(uint16_t brain, uint32_t instance, uint64_t height, uint16_t uid);

/* ---- the training pool (rewards/tftpool.c) ----
 * A handle the node owns: `threads` training threads (clamped to 1..16),
 * started at the first job, trained jobs kept until taken. Thread-safe.
 * reward_tft_pool_free stops and joins the threads (a running job
 * finishes first) and frees every job; free(NULL) is a no-op. */
typedef struct reward_tft_pool reward_tft_pool;
based_err reward_tft_pool_new(size_t threads, reward_tft_pool **out);
void reward_tft_pool_free(reward_tft_pool *p);
/* The pool's counters (not consensus). */
typedef struct {
    uint64_t submitted, taken, evicted;  /* evicted: an untaken job's slot reused */
    size_t slots, in_flight;             /* in_flight: submitted, not yet taken */
    size_t queued, threads;              /* queued: not started; threads: started */
} reward_tft_worker_stats;
void reward_tft_pool_stats(reward_tft_pool *p, reward_tft_worker_stats *s);

/* ---- the job / worker / model machinery, shared with rewards/tftnet.c ----
 * A job value starts with made_at u64 || apply_at u64 (codec encoding);
 * the rest is the trainer's. A model record is trained_at be64 ||
 * applied_at be64 || tft_model_save bytes (empty: the job gave none). */
/* Trains the model of a job value; *model (malloc'd, the caller's) is
 * empty (*ml = 0) when no model results. A pure function of the bytes. */
typedef based_err (*reward_tft_trainer)(const uint8_t *job, size_t n, uint8_t **model,
                                        size_t *ml);
/* Writes the job made_at = height || apply_at = height + tft_apply_delay ||
 * seed || window u16 || data under key and submits it with fn to the
 * node's pool (reward_exec_handles(ex), if any); seed = the
 * first 8 bytes (big-endian) of BLAKE2b-256(salt || height (u64) || data). */
based_err reward_tft_job_write(chain_exec *ex, const uint8_t *key, size_t kl, const uint8_t *salt,
                               size_t sl, uint16_t window, const uint8_t *data, size_t dl,
                               reward_tft_trainer fn);
/* Queues a copy of the job for pool p (once per content; p NULL: nothing). */
void reward_tft_submit(reward_tft_pool *p, reward_tft_trainer fn, const uint8_t *job, size_t n);
/* The job's model: p's result (waiting while it trains) or, when the job
 * is still queued or was never submitted (or p is NULL), fn run now: the
 * same bytes. *bytes is malloc'ed (the caller frees). */
based_err reward_tft_take(reward_tft_pool *p, reward_tft_trainer fn, const uint8_t *job,
                          size_t n, uint8_t **bytes, size_t *bl);
/* Start of a block: when the job under jk is due (apply_at <= height), its
 * model (the pool's result, waiting for it, or trained now: the same
 * bytes) is stored under mk and the job deleted. Keys are kl bytes.
 * When applied is not NULL and a model was stored, *applied gets a copy
 * of its bytes (the caller frees) and *applied_len their length. */
based_err reward_tft_apply_due(chain_exec *ex, const uint8_t *jk, const uint8_t *mk, size_t kl,
                               reward_tft_trainer fn, uint8_t **applied, size_t *applied_len);
typedef struct {
    bool present;
    uint64_t trained_at, applied_at;
    struct tft_model *m;             /* the caller frees; NULL when the job gave none */
    size_t bytes, nparams;
} reward_tft_model;
based_err reward_tft_model_get(chain_view *v, const uint8_t *k, size_t kl, reward_tft_model *t);
/* {model: {trained_at, applied_at, params, bytes} | null, pending_job:
 * {made_at, apply_at} | null} for the records under mk and jk. */
json_t *reward_tft_model_json(chain_view *v, const uint8_t *jk, const uint8_t *mk, size_t kl);
/* Trains the chain configuration (reward_tft_config) on a target-only
 * dataset; *out NULL when training is refused. */
based_err reward_tft_train_dataset(const struct tft_dataset *d, int window, uint64_t seed,
                                   struct tft_model **out);
/* A 32.32 value as a JSON real. */
json_t *reward_tft_fx_json(uint64_t v);

#endif
