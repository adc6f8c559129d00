/*
 * cmtrpc.h: basedd's side of the local CometBFT's RPC.
 *
 * tx_send on a network node checks the tx against the check state, then
 * queues it here; one libuv work item at a time hands the queue, in order,
 * to CometBFT's broadcast_tx_sync (which runs our CheckTx and gossips the
 * tx to every node). The outcome of each tx sent from this node is kept
 * (pending, or rejected with CheckTx's reason) for tx_get. A timer reads
 * CometBFT's /status and /net_info every second for node_getInfo (peers,
 * catching up, the latest height CometBFT knows).
 * Loop thread only; the HTTP calls run on libuv's thread pool.
 */
#ifndef BASED_NODE_CMTRPC_H
#define BASED_NODE_CMTRPC_H

#include <jansson.h>
#include <uv.h>

#include "chain/tx.h"

typedef struct node_cmtrpc node_cmtrpc;

/* url: CometBFT's RPC, e.g. http://127.0.0.1:26657 */
based_err node_cmtrpc_new(uv_loop_t *loop, const char *url, node_cmtrpc **out, char *err,
                          size_t errlen);
/* Stops the timer and queueing; work in flight finishes on its own. */
void node_cmtrpc_stop(node_cmtrpc *c);
/* After the loop has ended. */
void node_cmtrpc_free(node_cmtrpc *c);

/* Queues a checked tx for CometBFT (copies its bytes). */
based_err node_cmtrpc_submit(node_cmtrpc *c, const chain_tx *tx);
/* Txs of this sender queued or in flight (their broadcast not answered
 * yet) with a nonce >= from. A tx CheckTx has already admitted while its
 * answer is on its way is in the check state (whose next nonce the caller
 * passes as from) and must not be counted twice. */
uint64_t node_cmtrpc_inflight(node_cmtrpc *c, const chain_addr *sender, uint64_t from);

typedef enum { NODE_CMT_TX_UNKNOWN = 0, NODE_CMT_TX_QUEUED, NODE_CMT_TX_REJECTED } node_cmt_txstate;
/* What happened to a tx sent from this node; for REJECTED, *code and why. */
node_cmt_txstate node_cmtrpc_tx(node_cmtrpc *c, const chain_hash *h, int *code, char *why,
                                size_t cap);

/* Adds "peers", "catching_up", "network_height", "cometbft" to info. */
void node_cmtrpc_info(node_cmtrpc *c, json_t *info);

#endif
