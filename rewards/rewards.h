/*
 * rewards.h: what the rest of based sees of the chain half of rewards/:
 * emission (the block reward, its halving and its split among Brains),
 * weights (commit-reveal transaction kinds and the stored rows), and the
 * per-Brain epoch run inside block execution with its payouts. The epoch
 * math itself is rewards/epoch.h (reward_epoch_run).
 *
 * State (prefixes in chain/keys.h; `brain` is be16 id || be32 instance;
 * values in the chain/codec.h encoding):
 *   e                      -> pending_total u64 || unminted u64
 *   e || id(be16)          -> reward_brain (below)
 *   w || brain || uid      -> weights row: set_at u64 || n uleb || n x (uid u16, w u16)
 *   j || brain || uid      -> weights commit: hash(32) || height u64
 *   y || brain || epoch    -> one epoch's inputs and outputs (reward_epoch_rec)
 *   r || account || id(be16) || height(be64) -> what the account got at that
 *                             epoch: miner, validator, delegator, owner (u64 each);
 *                             height = UINT64_MAX holds the running totals
 * Emission accrues into each Brain's `pending` every block (counted in
 * chain_supply.minted at once; the supply audit counts pending_total as
 * held); the epoch pays pending out and keeps what it could not place.
 *
 * Everything runs on the ledger's thread, on views it owns. Integer only.
 */
#ifndef BASED_REWARDS_REWARDS_H
#define BASED_REWARDS_REWARDS_H

#include <jansson.h>

#include "chain/exec.h"
#include "chain/genesis.h"
#include "chain/kinds.h"
#include "chain/runtime.h"
#include "chain/state.h"
#include "contracts/state.h"

#define REWARD_EPOCHS_KEPT 16        /* epoch records kept per Brain */
#define REWARD_PERF_ONE 65535        /* performance is a u16 fraction */

/* ---------------- the module ---------------- */

/* The kind ids of rewards/ and their rows (weights.c). */
enum {
    REWARD_KIND_WEIGHTS_COMMIT = 15,
    REWARD_KIND_WEIGHTS_REVEAL = 16,
};
extern const chain_kind reward_wcommit_kind, reward_wreveal_kind;
extern const chain_kind *const reward_kinds[];

/* rewards/ as a module (module.c): its kinds, block_begin =
 * reward_block_begin, block_end = reward_tftnet_block_end (rewards/tftnet.h),
 * audit = reward_audit (adding the pending emission). Its handle
 * (chain_runtime_bind) is a reward_handles. */
extern const chain_module reward_module;

/* What the node lends rewards/ (each may be NULL; neither changes a
 * result): the TFT training pool (rewards/tftchain.h; NULL: a job trains
 * at its apply block) and the TFT forecast cache (rewards/tftcache.h;
 * NULL: every state is rebuilt each epoch). The node owns both. */
typedef struct reward_tft_pool reward_tft_pool;
typedef struct reward_tft_cache reward_tft_cache;
typedef struct {
    reward_tft_pool *pool;
    reward_tft_cache *cache;
} reward_handles;

/* The handles bound to reward_module in the runtime ex executes with
 * (ex->params->rt), or NULL. */
const reward_handles *reward_exec_handles(const chain_exec *ex);

/* ---------------- emission ---------------- */

/* block_reward >> floor(height / blocks_per_year); 0 at height 0 and once
 * the shift reaches 64. */
uint64_t reward_block_reward(uint64_t block_reward, uint64_t blocks_per_year, uint64_t height);

/* One Brain's entry to the split of a block reward. */
typedef struct {
    uint16_t id;
    uint64_t stake;          /* BASED staked on the Brain */
    uint16_t perf;           /* performance, u16 fraction of REWARD_PERF_ONE */
    bool earning;            /* active and past its lock */
    uint64_t share;          /* out: base units to its pending emission */
} reward_split_in;

/* Splits `reward` among b[0..n-1] (any order; ties broken by id):
 * base_bps of it by min(stake, cap) x perf, the rest evenly over the top
 * ceil(n_perf x top_bps / 10000) Brains by performance (n_perf = earning
 * Brains with perf > 0). Returns the sum of the shares (<= reward; the
 * difference is not minted). */
uint64_t reward_split(uint64_t reward, uint64_t cap, uint64_t base_bps, uint64_t top_bps,
                      reward_split_in *b, size_t n);

typedef struct {
    uint64_t pending_total;  /* sum of every Brain's pending emission */
    uint64_t unminted;       /* block rewards not minted: split dust, no earning Brain */
} reward_totals;

typedef struct {
    uint32_t instance;       /* the Brain issue this record belongs to */
    uint64_t pending;        /* accrued, not yet paid */
    uint16_t perf;           /* performance from the last epoch (0 before any) */
    uint64_t epochs;         /* epochs run so far */
    uint64_t last_epoch;     /* height of the last epoch (0 = none) */
    uint64_t accrued;        /* everything ever accrued to this Brain */
} reward_brain;

based_err reward_totals_get(chain_view *v, reward_totals *t);
/* A Brain's record; a record of another instance reads as a fresh one. */
based_err reward_brain_get(chain_view *v, const contract_brain *b, reward_brain *r);
based_err reward_brain_put(chain_view *v, uint16_t id, const reward_brain *r);

/* Start-of-block work (after contract_block_begin): accrues this block's
 * reward to the Brains' pending emission, then runs the epoch of every
 * Brain whose turn it is (id order), paying it out. On ex->view. */
based_err reward_block_begin(chain_exec *ex);

/* Does Brain `id` run its epoch at the start of block `height`? */
bool reward_is_epoch_block(uint64_t tempo, uint16_t id, uint64_t height);
/* The reveal window of a height for Brain id (window k+1 starts with the
 * block whose start runs epoch k). */
uint64_t reward_window(uint64_t tempo, uint16_t id, uint64_t height);

/* Checks over the committed store: the Brains' pending emission adds up
 * to pending_total (returned in *pending, which the BASED supply counts). */
based_err reward_audit(chain_store *st, uint64_t *pending, char *err, size_t errlen);

/* ---------------- weights ---------------- */

#define REWARD_SALT_MAX 64

/* The commit hash: BLAKE2b-256 of "based-weights" || brain be16 || n uleb ||
 * n x uid be16 || n x weight be16 || salt (raw bytes). */
chain_hash reward_commit_hash(uint16_t brain, const uint16_t *uids, const uint16_t *w, size_t n,
                              const uint8_t *salt, size_t salt_len);

/* Max-upscales u16 values to u16 (largest = 65535, rounding half away from
 * zero, subtensor's two branches). */
void reward_max_upscale(const uint16_t *in, size_t n, uint16_t *out);

typedef struct {
    uint64_t set_at;         /* block of the reveal (subtensor's LastUpdate) */
    size_t n;
    uint16_t uid[2048];
    uint16_t val[2048];
} reward_wrow;

/* The stored row of a uid (n = 0, set_at = 0 when none). */
based_err reward_weights_get(chain_view *v, const contract_brain *b, uint16_t uid, reward_wrow *r);

/* ---------------- JSON views for the RPC ---------------- */

/* The schedule at `height` (block reward, halving, beta) and the supply
 * counters of the head state v. */
json_t *reward_schedule_json(chain_view *v, const chain_genesis *g, uint64_t height);
/* An account's rewards from the committed store: all-time totals per
 * Brain and role, and the epochs with from <= height <= to. */
json_t *reward_account_json(chain_store *st, const chain_genesis *g, const chain_addr *a,
                            uint64_t from, uint64_t to);
/* Epoch `epoch` (from 0; the last when !has_epoch) of Brain id; NULL with
 * *code = BASED_E_NOT_FOUND when no such Brain or epoch is kept. */
json_t *reward_epoch_json(chain_view *v, const chain_genesis *g, uint64_t id, bool has_epoch,
                          uint64_t epoch, based_err *code);
json_t *reward_weights_json(chain_view *v, const chain_genesis *g, uint64_t id, based_err *code);
/* Adds the last epoch's columns (rank, trust, consensus, incentive,
 * dividends, validator_trust as u16 and *_frac, emission, and last_update
 * from the current weights row) to each object of `neurons` (the array of
 * contract_neurons_json, read by its uid and registered_at). */
based_err reward_neurons_fields(chain_view *v, uint64_t id, json_t *neurons);

#endif
