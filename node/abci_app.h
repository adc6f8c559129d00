/*
 * abci_app.h: basedd as a CometBFT ABCI++ application.
 *
 * CometBFT orders the blocks; this file answers its requests with the same
 * state machine the dev chain runs (chain_ledger_execute):
 *   Info          height and app hash (the state root) of the last commit
 *   InitChain     checks chain id and validators against genesis.json
 *   CheckTx       decodes, checks the signature and executes the tx on a
 *                 check state that advances nonces (new and recheck)
 *   PrepareProposal  orders by sender and nonce, keeps max_tx_bytes, drops
 *                 what would fail
 *   ProcessProposal  executes the proposal; any failing tx rejects it
 *   FinalizeBlock executes (or reuses the execution of Prepare/Process for
 *                 the same inputs) and answers the new state root
 *   Commit        writes the block, its state and the head in one synced
 *                 batch, then starts a fresh check state
 *   Query         "/account" with an address: balance and nonce as JSON
 * Block time is CometBFT's (BFT time, raised to the previous block's time
 * + 1 ms when equal), never the local clock. Misbehaviour in FinalizeBlock
 * is recorded on chain as evidence.
 * One thread: the node's loop.
 */
#ifndef BASED_NODE_ABCI_APP_H
#define BASED_NODE_ABCI_APP_H

#include "chain/ledger.h"
#include "node/abci.h"

typedef struct node_abci_app node_abci_app;

/* Puts the ledger in CometBFT mode (fails on a dev chain's database). */
based_err node_abci_app_new(chain_ledger *l, node_abci_app **out, char *err, size_t errlen);
void node_abci_app_free(node_abci_app *app);

/* The abci_handle_fn for abci_server_start (user = the app). */
int node_abci_app_handle(void *user, const Abci__Request *req, Abci__Response *resp,
                         abci_arena *a, char *err, size_t errlen);

/* Checks a tx as CheckTx would, without keeping its effects (tx_send's
 * first answer). */
based_err node_abci_app_precheck(node_abci_app *app, const chain_tx *tx, const char **why);
/* The account's nonce after every tx this node's mempool admitted. */
uint64_t node_abci_app_nonce(node_abci_app *app, const chain_addr *a);
/* Is this tx admitted (in the check state) and not yet committed? */
bool node_abci_app_admitted(node_abci_app *app, const chain_hash *h);
/* True between a Commit and the end of CometBFT's recheck of the txs left
 * in its mempool: the check state does not hold them yet. */
bool node_abci_app_rechecking(const node_abci_app *app);
/* Blocks finalised, proposals rejected, txs rejected by CheckTx. */
void node_abci_app_counters(const node_abci_app *app, uint64_t *blocks, uint64_t *rejected_props,
                            uint64_t *rejected_txs);

#endif
