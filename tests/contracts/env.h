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

typedef struct {
    chain_ledger *l;
    chain_genesis g;
    uint8_t sk[64];
    uint64_t nonce[10];
    chain_addr dev[10];
    char db[512];
    const char *why;        /* of the last rejection */
    based_err last;
} env;

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
/* Produces n empty blocks. */
void env_blocks(env *e, unsigned n);
uint64_t env_height(env *e);
/* Checks every supply invariant now (1 = ok); prints why not. */
int env_audit(env *e);
/* SS58 of dev i (static buffer, one per i). */
const char *env_addr(env *e, unsigned i);
uint64_t env_balance(env *e, unsigned i);
uint64_t env_pepe(env *e, unsigned i);

/* Test only: overwrites Brain id's performance in the store (outside the
 * state root), so emission can be tested without epochs. */
void env_set_perf(env *e, uint16_t id, uint16_t perf);
/* dev<from> commits (reveal = false) or reveals weights on Brain `brain`
 * (n entries, salt of at most 32 bytes), each in a block of its own. */
void env_weights(env *e, unsigned from, uint16_t brain, bool reveal, const uint16_t *uids,
                 const uint16_t *w, size_t n, const uint8_t *salt, size_t saltlen);

#endif
