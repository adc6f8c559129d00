/*
 * exec.h: transaction execution, a pure function of (state view, tx,
 * block context).
 *
 * chain_exec_tx runs one transaction in a child view of ex->view: it checks
 * the nonce (equal to the account's next nonce), the fee (at least the
 * minimum) and the balance for the fee, charges the fee to the block's
 * proposer account, bumps the nonce, and calls the kind's apply. Any error
 * drops the child view, leaving ex->view untouched; on success the child is
 * merged. Signature and chain id are checked before (chain_tx_check).
 * The kind is looked up in ex->params->rt.
 */
#ifndef BASED_CHAIN_EXEC_H
#define BASED_CHAIN_EXEC_H

#include <jansson.h>

#include "chain/genesis.h"
#include "chain/state.h"
#include "chain/tx.h"

struct chain_runtime;

typedef struct {
    uint64_t min_fee;          /* base units */
    uint16_t ss58_prefix;
    const struct chain_runtime *rt;  /* the modules: kinds, hooks, handles (chain/runtime.h) */
} chain_exec_params;

typedef struct chain_exec {
    chain_view *view;          /* the block's view */
    chain_view *txview;        /* the running tx's child view (for apply) */
    const chain_exec_params *params;
    uint64_t height;
    uint64_t time_ms;
    chain_addr fee_account;    /* the proposer's account: fees go here */
    json_t *events;            /* events of the running tx (array), or NULL */
    const chain_genesis *genesis; /* every genesis parameter (contracts/, staking/) */
} chain_exec;

/* Runs tx; on success *fee_paid is the fee charged. */
based_err chain_exec_tx(chain_exec *ex, const chain_tx *tx, uint64_t *fee_paid,
                        const char **why);

/* Appends an event object {"type": type, ...fields} to the running tx's
 * receipt (steals the reference to fields; NULL = no fields). */
void chain_exec_event(chain_exec *ex, const char *type, json_t *fields);

#endif
