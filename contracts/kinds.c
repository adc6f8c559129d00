/*
 * kinds.c: the module of contracts/ and staking/ (contract_module): its
 * kind table and its hooks, in the form chain/runtime.h composes.
 */
#include "contracts/contracts.h"
#include "staking/staking.h"

const chain_kind *const contract_kinds[] = {
    &contract_pepe_transfer_kind, &contract_pepe_bridge_kind, &contract_brain_buy_kind,
    &contract_brain_set_kind, &contract_brain_transfer_kind, &contract_brain_deactivate_kind,
    &stake_memorize_kind, &stake_serve_kind, &stake_stake_kind, &stake_unstake_kind,
    &stake_set_take_kind, &contract_gov_propose_kind, &contract_gov_vote_kind,
};

/* The audit hook: the invariants, and all staked BASED as held. */
static based_err audit(chain_store *st, const chain_genesis *g, uint64_t *held, char *err,
                       size_t errlen)
{
    uint64_t stake = 0;
    based_err rc = contract_audit(st, g, &stake, err, errlen);
    if (rc == BASED_E_OK)
        *held += stake;
    return rc;
}

const chain_module contract_module = {
    "contracts", contract_kinds, BASED_ARRAY_LEN(contract_kinds), contract_genesis_init,
    contract_block_begin, NULL, audit,
};
