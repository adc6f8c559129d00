/*
 * exec.c: the core of transaction execution (see exec.h). Kind-specific
 * effects are in the kind table; this file does what every kind shares:
 * nonce, fee, rollback on failure, receipt events.
 */
#include "chain/account.h"
#include "chain/exec.h"
#include "chain/kinds.h"

void chain_exec_event(chain_exec *ex, const char *type, json_t *fields)
{
    if (!ex->events) {
        json_decref(fields);
        return;
    }
    json_t *ev = fields ? fields : json_object();
    json_object_set_new(ev, "type", json_string(type));
    json_array_append_new(ex->events, ev);
}

static based_err charge(chain_exec *ex, chain_view *tv, const chain_tx *tx,
                        const char **why)
{
    chain_account acct;
    based_err rc = chain_account_get(tv, &tx->sender, &acct);
    if (rc != BASED_E_OK)
        return rc;
    if (tx->nonce > acct.nonce) {
        *why = "nonce";
        return BASED_E_NONCE_GAP;
    }
    if (tx->nonce < acct.nonce) {
        *why = "nonce";
        return BASED_E_NONCE_USED;
    }
    if (tx->fee < ex->params->min_fee) {
        *why = "fee";
        return BASED_E_FEE_TOO_LOW;
    }
    if (acct.balance < tx->fee) {
        *why = "fee";
        return BASED_E_INSUFFICIENT;
    }
    acct.balance -= tx->fee;
    acct.nonce++;
    if ((rc = chain_account_put(tv, &tx->sender, &acct)) != BASED_E_OK)
        return rc;
    if (tx->fee && (rc = chain_credit(tv, &ex->fee_account, tx->fee)) != BASED_E_OK) {
        *why = "fee";
        return rc;
    }
    return BASED_E_OK;
}

based_err chain_exec_tx(chain_exec *ex, const chain_tx *tx, uint64_t *fee_paid,
                        const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = "";
    *fee_paid = 0;
    const chain_kind *k = chain_kind_find(ex->params->rt, tx->kind);
    if (!k) {
        *why = "kind";
        return BASED_E_UNKNOWN_KIND;
    }
    chain_view *tv = chain_view_new(NULL, ex->view);
    if (!tv)
        return BASED_E_NOMEM;
    based_err rc = charge(ex, tv, tx, why);
    if (rc == BASED_E_OK) {
        ex->txview = tv;
        rc = k->apply(ex, tx, why);
        ex->txview = NULL;
    }
    if (rc == BASED_E_OK)
        rc = chain_view_merge(tv);
    chain_view_free(tv);
    if (rc == BASED_E_OK)
        *fee_paid = tx->fee;
    return rc;
}
