/*
 * brain.c: Brains, ERC-721 style. Ids 0..1023, at most 1024 issued and
 * active at once; the genesis reserves some ids (0-6 and 47) for the admin
 * key. A Brain is bought with Pepecoin, by burn (1000 + 200 x Brains issued
 * by burn so far, burned; transferable) or by stake (100,000 locked for
 * 777,600 blocks; not transferable; deactivation after the lock returns the
 * token, unlocks the Pepecoin and frees the id). The owner sets its name,
 * designation, payout address, model, registration fee, validator share
 * and consensus mode. All amounts and blocks are genesis parameters.
 */
#include "chain/account.h"
#include "contracts/contracts.h"
#include "contracts/state.h"

static const char *const method_names[] = { "burn", "stake", NULL };
static const char *const consensus_names[] = { "yuma", "whitepaper", NULL };

/* ---------------- genesis ---------------- */

static based_err issue(chain_view *v, contract_totals *t, uint16_t id, uint8_t method,
                       const chain_addr *owner, uint64_t height, uint64_t fee)
{
    contract_brain b;
    memset(&b, 0, sizeof b);
    b.id = id;
    b.instance = (uint32_t)++t->instance_seq;
    b.method = method;
    b.owner = b.payout = *owner;
    b.issued_at = height;
    b.fee = fee;
    b.validator_bps = 5000;
    t->active++;
    return contract_brain_put(v, &b);
}

based_err contract_genesis_init(chain_view *v, const chain_genesis *g)
{
    contract_pepe_supply sup = { 0, 0, 0, 0 };
    contract_totals t;
    memset(&t, 0, sizeof t);
    based_err rc = chain_genesis_pepe_total(g, &sup.genesis);
    for (size_t i = 0; rc == BASED_E_OK && i < g->npepe; i++)
        rc = contract_pepe_credit(v, &g->pepe[i].address, g->pepe[i].amount);
    for (size_t i = 0; rc == BASED_E_OK && g->has_admin && i < g->nreserved; i++)
        rc = issue(v, &t, g->reserved[i], CONTRACT_BY_RESERVE, &g->admin, 0,
                   g->params.brain_default_fee);
    if (rc == BASED_E_OK)
        rc = contract_pepe_supply_put(v, &sup);
    if (rc == BASED_E_OK)
        rc = contract_totals_put(v, &t);
    return rc;
}

/* ---------------- buy ---------------- */

static const contract_pfield buy_f[] = {
    { "method", CP_ENUM, 0, false, method_names },
    { "id", CP_U16, CONTRACT_MAX_BRAINS - 1, true, NULL },
};
static const contract_payload buy_spec = { buy_f, BASED_ARRAY_LEN(buy_f) };

/* The requested id, or the lowest free id that is not reserved. */
static based_err pick_id(chain_exec *ex, const contract_pval *idv, uint16_t *id, const char **why)
{
    contract_brain b;
    based_err rc;
    if (idv->present) {
        if (chain_genesis_reserved(ex->genesis, idv->u))
            return *why = "id", BASED_E_RESERVED;
        rc = contract_brain_get(ex->txview, idv->u, &b);
        if (rc == BASED_E_OK)
            return *why = "id", BASED_E_EXISTS;
        if (rc != BASED_E_NOT_FOUND)
            return rc;
        *id = (uint16_t)idv->u;
        return BASED_E_OK;
    }
    for (uint16_t i = 0; i < CONTRACT_MAX_BRAINS; i++) {
        if (chain_genesis_reserved(ex->genesis, i))
            continue;
        rc = contract_brain_get(ex->txview, i, &b);
        if (rc == BASED_E_NOT_FOUND) {
            *id = i;
            return BASED_E_OK;
        }
        if (rc != BASED_E_OK)
            return rc;
    }
    return *why = "id (no free Brain id)", BASED_E_BRAIN_LIMIT;
}

/* Takes the price in Pepecoin from the sender: burned or locked. */
static based_err pay(chain_exec *ex, const chain_tx *tx, bool burn, contract_totals *t,
                     uint64_t *cost, const char **why)
{
    contract_pepe_supply sup;
    based_err rc = contract_pepe_supply_get(ex->txview, &sup);
    if (rc != BASED_E_OK)
        return rc;
    if (burn) {
        contract_u128 c = (contract_u128)CONTRACT_PARAM(ex, brain_burn_step) *
                              t->burn_issued + CONTRACT_PARAM(ex, brain_burn_base);
        if (c > UINT64_MAX)
            return *why = "method (burn price)", BASED_E_OVERFLOW;
        *cost = (uint64_t)c;
    } else {
        *cost = CONTRACT_PARAM(ex, brain_stake_amount);
    }
    if ((rc = contract_pepe_debit(ex->txview, &tx->sender, *cost)) != BASED_E_OK)
        return *why = "method (Pepecoin balance)", rc;
    if (burn) {
        sup.burned += *cost;
        t->burn_issued++;
    } else {
        sup.locked += *cost;
    }
    return contract_pepe_supply_put(ex->txview, &sup);
}

static based_err buy_apply(chain_exec *ex, const chain_tx *tx, const contract_pval *v,
                           const char **why)
{
    contract_totals t;
    contract_brain b;
    uint16_t id = 0;
    uint64_t cost = 0;
    bool burn = v[0].u == 0;
    based_err rc = contract_totals_get(ex->txview, &t);
    if (rc != BASED_E_OK)
        return rc;
    if (t.active >= CONTRACT_MAX_BRAINS)
        return *why = "id (1024 Brains are issued and active)", BASED_E_BRAIN_LIMIT;
    /* pay first: a buyer without the Pepecoin costs no id scan */
    if ((rc = pay(ex, tx, burn, &t, &cost, why)) != BASED_E_OK)
        return rc;
    if ((rc = pick_id(ex, &v[1], &id, why)) != BASED_E_OK)
        return rc;
    rc = issue(ex->txview, &t, id, burn ? CONTRACT_BY_BURN : CONTRACT_BY_STAKE, &tx->sender,
               ex->height, CONTRACT_PARAM(ex, brain_default_fee));
    if (rc == BASED_E_OK && !burn && (rc = contract_brain_get(ex->txview, id, &b)) == BASED_E_OK) {
        b.locked = cost;
        b.unlock_at = ex->height + CONTRACT_PARAM(ex, brain_stake_lock_blocks);
        rc = contract_brain_put(ex->txview, &b);
    }
    if (rc == BASED_E_OK)
        rc = contract_totals_put(ex->txview, &t);
    char c[32];
    chain_amount_format(cost, c);
    CONTRACT_EVENT(ex, "brain_issued", "{s:i,s:s,s:s}", "id", id, "method", method_names[v[0].u],
                   "pepecoin", c);
    return rc;
}

/* ---------------- owner's Brain ---------------- */

static based_err owned(chain_exec *ex, const chain_tx *tx, uint64_t id, contract_brain *b,
                       const char **why)
{
    based_err rc = contract_brain_get(ex->txview, id, b);
    if (rc == BASED_E_NOT_FOUND)
        return *why = "id (no such active Brain)", rc;
    if (rc != BASED_E_OK)
        return rc;
    if (memcmp(b->owner.b, tx->sender.b, 32) != 0)
        return *why = "id (sender does not own this Brain)", BASED_E_UNAUTHORIZED;
    return BASED_E_OK;
}

/* ---------------- settings ---------------- */

static const contract_pfield set_f[] = {
    { "id", CP_U16, CONTRACT_MAX_BRAINS - 1, false, NULL },
    { "name", CP_STR, CONTRACT_NAME_MAX, true, NULL },
    { "designation", CP_STR, CONTRACT_DESIGNATION_MAX, true, NULL },
    { "payout", CP_ADDR, 0, true, NULL },
    { "model_hash", CP_HASH, 0, true, NULL },
    { "model_uri", CP_STR, CONTRACT_URI_MAX, true, NULL },
    { "fee", CP_AMOUNT, 0, true, NULL },
    { "validator_bps", CP_U16, 10000, true, NULL },
    { "consensus", CP_ENUM, 0, true, consensus_names },
};
static const contract_payload set_spec = { set_f, BASED_ARRAY_LEN(set_f) };

static based_err set_check(const contract_pval *v, const char **why)
{
    for (size_t i = 1; i < BASED_ARRAY_LEN(set_f); i++)
        if (v[i].present)
            return BASED_E_OK;
    *why = "name|designation|payout|model_hash|model_uri|fee|validator_bps|consensus";
    return BASED_E_BAD_PARAM;
}

static based_err set_apply(chain_exec *ex, const chain_tx *tx, const contract_pval *v,
                           const char **why)
{
    contract_brain b;
    based_err rc = owned(ex, tx, v[0].u, &b, why);
    if (rc != BASED_E_OK)
        return rc;
    if (v[1].present)
        contract_strcpy(b.name, sizeof b.name, v[1].s);
    if (v[2].present)
        contract_strcpy(b.designation, sizeof b.designation, v[2].s);
    if (v[3].present)
        memcpy(b.payout.b, v[3].b, 32);
    if (v[4].present)
        memcpy(b.model_hash.b, v[4].b, 32);
    if (v[5].present)
        contract_strcpy(b.model_uri, sizeof b.model_uri, v[5].s);
    if (v[6].present)
        b.fee = v[6].u;                /* later registrations only */
    if (v[7].present)
        b.validator_bps = (uint16_t)v[7].u;
    if (v[8].present)
        b.consensus = (uint8_t)v[8].u;
    CONTRACT_EVENT(ex, "brain_set", "{s:i}", "id", b.id);
    return contract_brain_put(ex->txview, &b);
}

/* ---------------- transfer ---------------- */

static const contract_pfield xfer_f[] = {
    { "id", CP_U16, CONTRACT_MAX_BRAINS - 1, false, NULL },
    { "to", CP_ADDR, 0, false, NULL },
};
static const contract_payload xfer_spec = { xfer_f, BASED_ARRAY_LEN(xfer_f) };

static based_err xfer_apply(chain_exec *ex, const chain_tx *tx, const contract_pval *v,
                            const char **why)
{
    contract_brain b;
    char s[CHAIN_ADDR_STRLEN];
    based_err rc = owned(ex, tx, v[0].u, &b, why);
    if (rc != BASED_E_OK)
        return rc;
    if (b.method != CONTRACT_BY_BURN)
        return *why = b.method == CONTRACT_BY_STAKE ? "id (bought by stake)" : "id (reserved)",
               BASED_E_NOT_TRANSFERABLE;
    if (memcmp(v[1].b, tx->sender.b, 32) == 0)
        return *why = "to", BASED_E_SELF_TRANSFER;
    if (memcmp(b.payout.b, b.owner.b, 32) == 0)
        memcpy(b.payout.b, v[1].b, 32);
    memcpy(b.owner.b, v[1].b, 32);
    CONTRACT_EVENT(ex, "brain_transfer", "{s:i,s:s}", "id", b.id, "to",
                   contract_ss58(ex, &b.owner, s));
    return contract_brain_put(ex->txview, &b);
}

/* ---------------- deactivate ---------------- */

static const contract_pfield id_f[] = {
    { "id", CP_U16, CONTRACT_MAX_BRAINS - 1, false, NULL },
};
static const contract_payload id_spec = { id_f, BASED_ARRAY_LEN(id_f) };

static based_err deactivate_apply(chain_exec *ex, const chain_tx *tx, const contract_pval *v,
                                  const char **why)
{
    contract_brain b;
    contract_totals t;
    contract_pepe_supply sup;
    based_err rc = owned(ex, tx, v[0].u, &b, why);
    if (rc != BASED_E_OK)
        return rc;
    if (b.method != CONTRACT_BY_STAKE)
        return *why = "id", BASED_E_NOT_DEACTIVATABLE;
    if (ex->height < b.unlock_at)
        return *why = "id (the Pepecoin lock has not ended)", BASED_E_LOCKED;
    if ((rc = contract_totals_get(ex->txview, &t)) != BASED_E_OK ||
        (rc = contract_pepe_supply_get(ex->txview, &sup)) != BASED_E_OK)
        return rc;
    t.active--;
    t.stake_orphan += b.stake;         /* stays claimable by unstaking (instance) */
    sup.locked -= b.locked;
    if ((rc = contract_pepe_credit(ex->txview, &b.owner, b.locked)) != BASED_E_OK ||
        (rc = contract_pepe_supply_put(ex->txview, &sup)) != BASED_E_OK ||
        (rc = contract_totals_put(ex->txview, &t)) != BASED_E_OK)
        return rc;
    char c[32];
    chain_amount_format(b.locked, c);
    CONTRACT_EVENT(ex, "brain_deactivated", "{s:i,s:i,s:s}", "id", b.id, "instance",
                   (int)b.instance, "unlocked", c);
    return contract_brain_del(ex->txview, b.id);
}

CONTRACT_KIND(contract_brain_buy, CONTRACT_KIND_BRAIN_BUY, "brain_buy", buy_spec, NULL,
              buy_apply, NULL);
CONTRACT_KIND(contract_brain_set, CONTRACT_KIND_BRAIN_SET, "brain_set", set_spec, set_check,
              set_apply, NULL);
CONTRACT_KIND(contract_brain_transfer, CONTRACT_KIND_BRAIN_TRANSFER, "brain_transfer", xfer_spec,
              NULL, xfer_apply, NULL);
CONTRACT_KIND(contract_brain_deactivate, CONTRACT_KIND_BRAIN_DEACTIVATE, "brain_deactivate",
              id_spec, NULL, deactivate_apply, NULL);
