/*
 * node.h: the running node as the RPC handlers and the block producer see
 * it. Owned by basedd's main; everything runs on the one libuv loop thread.
 */
#ifndef BASED_NODE_NODE_H
#define BASED_NODE_NODE_H

#include "chain/ledger.h"
#include "node/mempool.h"
#include "node/rpc.h"

struct node_abci_app;
struct node_cmtrpc;

typedef struct {
    chain_ledger *ledger;
    node_mempool *mempool;     /* the dev chain's (unused on a network) */
    struct node_abci_app *abci; /* on a CometBFT network: the ABCI app */
    struct node_cmtrpc *cmt;   /* and the local CometBFT's RPC */
    bool authority;            /* this node produces blocks */
    bool dev;
    uint64_t started_ms;
} node_ctx;

/* The node's method table (ends with a NULL row). */
extern const node_rpc_method node_methods[];

#endif
