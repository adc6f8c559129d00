/*
 * pepe.c: the Pepecoin ledger. Pepecoin is an Ethereum ERC-20 token; here
 * it is a ledger of balances funded from genesis and, where the genesis
 * names a bridge key, minted by that key (the dev stand-in for the
 * Ethereum bridge). It pays for Brains: burned (buy by burn) or locked
 * (buy by stake). Same 9 decimals as BASED.
 */
#include "contracts/state.h"

static const contract_pfield move_f[] = {
    { "to", CP_ADDR, 0, false, NULL },
    { "amount", CP_AMOUNT, 0, false, NULL },
};
static const contract_payload move_spec = { move_f, BASED_ARRAY_LEN(move_f) };

static based_err move_check(const contract_pval *v, const char **why)
{
    if (v[1].u == 0) {
        *why = "amount";
        return BASED_E_ZERO_AMOUNT;
    }
    return BASED_E_OK;
}

static based_err transfer_apply(chain_exec *ex, const chain_tx *tx, const contract_pval *v,
                                const char **why)
{
    const chain_addr *to = (const chain_addr *)v[0].b;
    char s[CHAIN_ADDR_STRLEN], amt[32];
    based_err rc;
    if (memcmp(to->b, tx->sender.b, 32) == 0)
        return *why = "to", BASED_E_SELF_TRANSFER;
    if ((rc = contract_pepe_debit(ex->txview, &tx->sender, v[1].u)) != BASED_E_OK)
        return *why = "amount", rc;
    if ((rc = contract_pepe_credit(ex->txview, to, v[1].u)) != BASED_E_OK)
        return *why = "amount", rc;
    chain_amount_format(v[1].u, amt);
    CONTRACT_EVENT(ex, "pepe_transfer", "{s:s,s:s}", "to", contract_ss58(ex, to, s),
                   "amount", amt);
    return BASED_E_OK;
}

static based_err bridge_apply(chain_exec *ex, const chain_tx *tx, const contract_pval *v,
                              const char **why)
{
    const chain_addr *to = (const chain_addr *)v[0].b;
    const chain_genesis *g = ex->genesis;
    contract_pepe_supply sup;
    char s[CHAIN_ADDR_STRLEN], amt[32];
    if (!g->has_bridge || memcmp(g->pepe_bridge.b, tx->sender.b, 32) != 0)
        return *why = "sender (not the genesis bridge key)", BASED_E_UNAUTHORIZED;
    based_err rc = contract_pepe_supply_get(ex->txview, &sup);
    if (rc != BASED_E_OK)
        return rc;
    if (sup.bridged > UINT64_MAX - v[1].u || sup.genesis + sup.bridged > UINT64_MAX - v[1].u)
        return *why = "amount", BASED_E_OVERFLOW;
    sup.bridged += v[1].u;
    if ((rc = contract_pepe_credit(ex->txview, to, v[1].u)) != BASED_E_OK)
        return *why = "amount", rc;
    if ((rc = contract_pepe_supply_put(ex->txview, &sup)) != BASED_E_OK)
        return rc;
    chain_amount_format(v[1].u, amt);
    CONTRACT_EVENT(ex, "pepe_bridge", "{s:s,s:s}", "to", contract_ss58(ex, to, s),
                   "amount", amt);
    return BASED_E_OK;
}

CONTRACT_KIND(contract_pepe_transfer, CONTRACT_KIND_PEPE_TRANSFER, "pepe_transfer", move_spec,
              move_check, transfer_apply, NULL);
CONTRACT_KIND(contract_pepe_bridge, CONTRACT_KIND_PEPE_BRIDGE, "pepe_bridge", move_spec,
              move_check, bridge_apply, NULL);
