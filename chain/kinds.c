/*
 * kinds.c: the transfer kind, chain's module (chain_transfer_module: the
 * transfer kind, no hooks) and the kind lookups over a runtime's table.
 */
#include "chain/account.h"
#include "chain/exec.h"
#include "chain/kinds.h"
#include "chain/runtime.h"

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

/* ---------------- the table and the lookups ---------------- */

static const chain_kind transfer_kind = {
    CHAIN_KIND_TRANSFER, "transfer", transfer_check, transfer_spend, transfer_apply,
    transfer_to_json, transfer_from_json,
};

const chain_kind *const chain_transfer_kinds[] = { &transfer_kind };

const chain_module chain_transfer_module = {
    "chain", chain_transfer_kinds, BASED_ARRAY_LEN(chain_transfer_kinds), NULL, NULL, NULL, NULL,
};

const chain_kind *chain_kind_find(const chain_runtime *rt, uint16_t id)
{
    return rt && id <= CHAIN_KIND_ID_MAX ? rt->by_id[id] : NULL;
}

const chain_kind *chain_kind_by_name(const chain_runtime *rt, const char *name)
{
    for (size_t i = 0; rt && i < rt->nkinds; i++)
        if (strcmp(rt->list[i]->name, name) == 0)
            return rt->list[i];
    return NULL;
}

const chain_kind *chain_kind_at(const chain_runtime *rt, size_t i)
{
    return rt && i < rt->nkinds ? rt->list[i] : NULL;
}
