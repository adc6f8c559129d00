/*
 * contracts.h: what the rest of based sees of contracts/ (Pepecoin, Brains,
 * governance) and staking/ (neurons, stake): the module they form together
 * (contract_module: their kinds, the genesis state, the start-of-block
 * work, the supply audit) and the JSON views the RPC serves.
 *
 * Everything here runs on the ledger's thread, on views it owns.
 */
#ifndef BASED_CONTRACTS_CONTRACTS_H
#define BASED_CONTRACTS_CONTRACTS_H

#include <jansson.h>

#include "chain/exec.h"
#include "chain/genesis.h"
#include "chain/kinds.h"
#include "chain/runtime.h"
#include "chain/state.h"

/* The kinds of contracts/ and staking/ (ids in contracts/state.h and
 * staking/staking.h), and the module: these kinds, genesis_init =
 * contract_genesis_init, block_begin = contract_block_begin, audit =
 * contract_audit (adding the stake it finds). */
extern const chain_kind *const contract_kinds[];
extern const chain_module contract_module;

/* Writes the genesis state of contracts/: Pepecoin balances and supply,
 * the reserved Brains owned by the admin key, the totals record. */
based_err contract_genesis_init(chain_view *v, const chain_genesis *g);

/* Work at the start of every block, before its transactions: proposals
 * whose voting period has ended are tallied (and parameter changes of
 * passed ones take effect). Runs on ex->view. */
based_err contract_block_begin(chain_exec *ex);

/* Checks the invariants of contracts/ and staking/ over the committed
 * store: Pepecoin genesis + bridged - burned = balances + locked; the stake
 * records add up to the totals record and to each Brain's stake; at most
 * 1024 Brains; slot counts within limits. *stake_total gets all staked
 * BASED (for the BASED supply check). err names the first failure. */
based_err contract_audit(chain_store *st, const chain_genesis *g, uint64_t *stake_total,
                         char *err, size_t errlen);

/* JSON views for the RPC (new references; NULL + *code/why on error). */
json_t *contract_brain_json(chain_view *v, const chain_genesis *g, uint64_t height,
                            uint64_t id, based_err *code);
json_t *contract_brain_list_json(chain_view *v, const chain_genesis *g, uint64_t height);
json_t *contract_neurons_json(chain_view *v, const chain_genesis *g, uint64_t height,
                              uint64_t id, based_err *code);
/* Pepecoin balance, locked Pepecoin, stakes and owned Brains of an account,
 * added to obj. */
based_err contract_account_json(chain_store *st, chain_view *v, const chain_genesis *g,
                                const chain_addr *a, json_t *obj);
json_t *contract_gov_list_json(chain_view *v, const chain_genesis *g, uint64_t height);
json_t *contract_gov_json(chain_view *v, const chain_genesis *g, uint64_t height, uint64_t id,
                          based_err *code);

#endif
