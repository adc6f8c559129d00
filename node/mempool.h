/*
 * mempool.h: transactions waiting for a block.
 *
 * Every transaction is fully validated on entry against the committed state
 * plus the sender's transactions already pending: encoding, chain id,
 * signature, payload, nonce (exactly the sender's next one: lower is a
 * replay, higher is a gap), fee (at least the minimum) and balance (enough
 * for the amounts and fees of all the sender's pending transactions).
 * Duplicates are rejected. The pool holds at most max_txs transactions:
 * when full, a transaction paying more than the cheapest evictable one (the
 * last pending transaction of some sender, so no gap is ever created)
 * replaces it; otherwise it is rejected.
 *
 * Candidates for a block come in arrival order, which keeps each sender's
 * nonce order. After a block, included transactions leave and the rest are
 * checked again against the new state.
 * One thread (the node's loop).
 */
#ifndef BASED_NODE_MEMPOOL_H
#define BASED_NODE_MEMPOOL_H

#include "chain/ledger.h"
#include "chain/tx.h"

typedef struct node_mempool node_mempool;

node_mempool *node_mempool_new(size_t max_txs, size_t max_per_sender);
void node_mempool_free(node_mempool *m);

/* Validates and adds an encoded tx; *hash is its id (set once decoded, even
 * on a later error). *why names the field at fault. */
based_err node_mempool_add(node_mempool *m, chain_ledger *l, const void *raw, size_t n,
                           chain_hash *hash, const char **why);

/* Up to max candidate pointers in block order (valid until the next call
 * that changes the pool). Returns the count. */
size_t node_mempool_candidates(node_mempool *m, chain_tx **out, size_t max);

/* Drops a tx the producer could not include, and the sender's later ones. */
void node_mempool_drop(node_mempool *m, const chain_hash *hash);

/* After a block was committed: removes what it included and re-checks the
 * rest against the new state. */
void node_mempool_after_block(node_mempool *m, chain_ledger *l);

/* The pending tx with this hash, or NULL. */
const chain_tx *node_mempool_find(node_mempool *m, const chain_hash *hash);
/* The sender's next nonce counting its pending transactions. */
uint64_t node_mempool_next_nonce(node_mempool *m, chain_ledger *l, const chain_addr *a);
size_t node_mempool_size(const node_mempool *m);

#endif
