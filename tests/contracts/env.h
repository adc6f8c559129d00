/* A test chain for contracts/ and staking/: a short-time dev genesis, dev
 * accounts as senders, transactions from their JSON payloads, one block per
 * call. */
#ifndef BASED_TESTS_CONTRACTS_ENV_H
#define BASED_TESTS_CONTRACTS_ENV_H

#include "chain/account.h"
#include "chain/genesis.h"
#include "chain/kinds.h"
#include "chain/ledger.h"
#include "rewards/rewards.h"
#include "contracts/contracts.h"
#include "contracts/state.h"
#include "staking/staking.h"
#include "node/runtime.h"

/* Accounts dev0..dev9 are funded by the dev genesis; dev10..dev(ENV_ACCOUNTS-1)
 * have the same kind of deterministic keys (chain_key_dev) and start empty
 * (fund them with a transfer). */
#define ENV_ACCOUNTS 160
#define ENV_QUEUE_MAX 256

typedef struct {
    chain_ledger *l;
    chain_genesis g;
    uint8_t sk[64];
    uint64_t nonce[ENV_ACCOUNTS];
    chain_addr dev[ENV_ACCOUNTS];
    char db[512];
    const char *why;        /* of the last rejection */
    based_err last;
    chain_tx queue[ENV_QUEUE_MAX];   /* env_queue'd, signed, not yet in a block */
    size_t nqueue;
} env;

/* The runtime every env ledger runs with: the node's composition with a
 * TFT training pool (1 thread) and a forecast cache, as basedd's defaults;
 * made at first use, kept for the process. */
const chain_runtime *env_runtime(void);
/* Its rewards/ handles, for tests that switch the pool or the cache off
 * (set h->pool = NULL for synchronous training; put it back after). */
reward_handles *env_tft(void);

/* Opens a ledger on a dev genesis whose "params" are overridden by
 * params_json (an object body, e.g. "\"max_validators\": 4"). */
void env_open(env *e, const char *params_json);
/* The same with a given blocks_per_year (short years for emission tests). */
void env_open_year(env *e, uint64_t blocks_per_year, const char *params_json);
void env_close(env *e);
/* Builds, signs and offers one tx of `kind` from dev<from> with a JSON
 * payload in a block of its own; returns BASED_E_OK if included or the
 * rejection code. */
based_err env_tx(env *e, unsigned from, const char *kind, const char *json);
/* Builds and signs one tx like env_tx and queues it for the next
 * env_flush (nonces advance at once); returns BASED_E_OK or why the tx could
 * not be made (then nothing is queued). Queueing more than ENV_QUEUE_MAX
 * aborts. */
based_err env_queue(env *e, unsigned from, const char *kind, const char *json);
/* Produces one block from the queued txs in queue order; returns how many
 * were included (e->last / e->why hold the last rejection) and resyncs the
 * senders' nonces with the chain. */
size_t env_flush(env *e);
/* Produces n empty blocks. */
void env_blocks(env *e, unsigned n);
uint64_t env_height(env *e);
/* Checks every supply invariant now (1 = ok); prints why not. */
int env_audit(env *e);
/* SS58 of dev i (static buffer, one per i < ENV_ACCOUNTS). */
const char *env_addr(env *e, unsigned i);
uint64_t env_balance(env *e, unsigned i);
uint64_t env_pepe(env *e, unsigned i);

/* Test only: overwrites Brain id's performance in the store (outside the
 * state root), so emission can be tested without epochs. */
void env_set_perf(env *e, uint16_t id, uint16_t perf);
/* The JSON payload of a weights commit (reveal = false) or reveal on Brain
 * `brain` (n entries, salt of at most 32 bytes) into j[jl]; aborts if it
 * does not fit. Kind: "weights_commit" / "weights_reveal". */
void env_weights_json(uint16_t brain, bool reveal, const uint16_t *uids, const uint16_t *w,
                      size_t n, const uint8_t *salt, size_t saltlen, char *j, size_t jl);
/* dev<from> commits (reveal = false) or reveals weights on Brain `brain`
 * (n entries, salt of at most 32 bytes), each in a block of its own. */
void env_weights(env *e, unsigned from, uint16_t brain, bool reveal, const uint16_t *uids,
                 const uint16_t *w, size_t n, const uint8_t *salt, size_t saltlen);

#endif
