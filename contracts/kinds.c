/*
 * kinds.c: the rows contracts/ and staking/ add to the transaction kind
 * table (chain/kinds.c walks its own rows, then these).
 */
#include "contracts/contracts.h"

extern const chain_kind contract_pepe_transfer_kind, contract_pepe_bridge_kind,
    contract_brain_buy_kind, contract_brain_set_kind, contract_brain_transfer_kind,
    contract_brain_deactivate_kind, stake_memorize_kind, stake_serve_kind, stake_stake_kind,
    stake_unstake_kind, stake_set_take_kind, contract_gov_propose_kind, contract_gov_vote_kind;

static const chain_kind *const rows[] = {
    &contract_pepe_transfer_kind, &contract_pepe_bridge_kind, &contract_brain_buy_kind,
    &contract_brain_set_kind, &contract_brain_transfer_kind, &contract_brain_deactivate_kind,
    &stake_memorize_kind, &stake_serve_kind, &stake_stake_kind, &stake_unstake_kind,
    &stake_set_take_kind, &contract_gov_propose_kind, &contract_gov_vote_kind,
};

const chain_kind *contract_kind_at(size_t i)
{
    return i < BASED_ARRAY_LEN(rows) ? rows[i] : NULL;
}
