/*
 * kinds.c: the transaction kind table and the transfer kind.
 * Later issues add one row per kind here, pointing into their module.
 */
#include "chain/account.h"
#include "chain/exec.h"
#include "chain/kinds.h"
#include "contracts/contracts.h"
#include "rewards/rewards.h"

/* ---------------- transfer ---------------- */

static based_err transfer_check(const uint8_t *p, size_t n, const char **why)
{
    chain_transfer t;
    based_err rc = chain_transfer_decode(p, n, &t, why);
    if (rc != BASED_E_OK)
        return rc;
    if (t.amount == 0) {
        *why = "amount";
        return BASED_E_ZERO_AMOUNT;
    }
    return BASED_E_OK;
}

static uint64_t transfer_spend(const uint8_t *p, size_t n)
{
    chain_transfer t;
    return chain_transfer_decode(p, n, &t, NULL) == BASED_E_OK ? t.amount : 0;
}

static based_err transfer_apply(chain_exec *ex, const chain_tx *tx, const char **why)
{
    chain_transfer t;
    based_err rc = chain_transfer_decode(tx->payload, tx->payload_len, &t, why);
    if (rc != BASED_E_OK)
        return rc;
    if (memcmp(t.to.b, tx->sender.b, 32) == 0) {
        *why = "to";
        return BASED_E_SELF_TRANSFER;
    }
    if ((rc = chain_debit(ex->txview, &tx->sender, t.amount)) != BASED_E_OK) {
        *why = "amount";
        return rc;
    }
    if ((rc = chain_credit(ex->txview, &t.to, t.amount)) != BASED_E_OK) {
        *why = "amount";
        return rc;
    }
    if (ex->events) {
        char to[CHAIN_ADDR_STRLEN], amt[32];
        chain_ss58_encode(ex->params->ss58_prefix, &t.to, to);
        chain_amount_format(t.amount, amt);
        chain_exec_event(ex, "transfer", json_pack("{s:s,s:s}", "to", to, "amount", amt));
    }
    return BASED_E_OK;
}

static json_t *transfer_to_json(const uint8_t *p, size_t n, uint16_t prefix)
{
    chain_transfer t;
    char to[CHAIN_ADDR_STRLEN], amt[32], base[24];
    if (chain_transfer_decode(p, n, &t, NULL) != BASED_E_OK)
        return json_null();
    chain_ss58_encode(prefix, &t.to, to);
    chain_amount_format(t.amount, amt);
    snprintf(base, sizeof base, "%" PRIu64, t.amount);
    return json_pack("{s:s,s:s,s:s}", "to", to, "amount", amt, "amount_base", base);
}

static based_err transfer_from_json(json_t *obj, uint16_t prefix, chain_wbuf *out,
                                    const char **why)
{
    chain_transfer t;
    uint8_t buf[CHAIN_TRANSFER_LEN];
    json_t *to = json_object_get(obj, "to"), *amount = json_object_get(obj, "amount");
    if (!json_is_string(to)) {
        *why = "to";
        return BASED_E_BAD_ADDRESS;
    }
    if (chain_addr_parse(json_string_value(to), prefix, &t.to, NULL) != BASED_E_OK) {
        *why = "to";
        return BASED_E_BAD_ADDRESS;
    }
    if (!json_is_string(amount)) {
        *why = "amount";
        return BASED_E_BAD_AMOUNT;
    }
    based_err rc = chain_amount_parse(json_string_value(amount), &t.amount, NULL);
    if (rc != BASED_E_OK) {
        *why = "amount";
        return rc;
    }
    chain_transfer_encode(&t, buf);
    chain_w_raw(out, buf, sizeof buf);
    return out->err ? BASED_E_NOMEM : BASED_E_OK;
}

/* ---------------- the table ---------------- */

static const chain_kind kinds[] = {
    { CHAIN_KIND_TRANSFER, "transfer", transfer_check, transfer_spend, transfer_apply,
      transfer_to_json, transfer_from_json },
};

/* Rows of this table, then the rows of contracts/ and staking/, then those
 * of rewards/. */
const chain_kind *chain_kind_at(size_t i)
{
    if (i < BASED_ARRAY_LEN(kinds))
        return &kinds[i];
    i -= BASED_ARRAY_LEN(kinds);
    const chain_kind *k = contract_kind_at(i);
    size_t nc = 0;
    if (k)
        return k;
    while (contract_kind_at(nc))
        nc++;
    return reward_kind_at(i - nc);
}

const chain_kind *chain_kind_find(uint16_t id)
{
    const chain_kind *k;
    for (size_t i = 0; (k = chain_kind_at(i)) != NULL; i++)
        if (k->id == id)
            return k;
    return NULL;
}

const chain_kind *chain_kind_by_name(const char *name)
{
    const chain_kind *k;
    for (size_t i = 0; (k = chain_kind_at(i)) != NULL; i++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}
