/*
 * state.h: the LevelDB store and the write-buffering views that block
 * execution runs on.
 *
 * chain_store owns the LevelDB handle. Nothing writes to it except through
 * a chain_batch, which is written atomically and (for blocks) synced: a
 * block, its state writes, its indexes and the new head pointer are one
 * batch, so after a crash the store is at the last whole block.
 *
 * chain_view is a layer of pending writes over a parent view or over the
 * store. Execution of a block uses one view; each transaction runs in a
 * child view that is merged into it on success and dropped on failure.
 * chain_view_commit turns the block view's writes into a batch and the new
 * state root:
 *     root' = BLAKE2b-256(root || BLAKE2b-256(sorted writes))
 * where the writes are the changed state keys in byte order, each encoded
 * as key bytes || (1 || value bytes, or 0 for a deletion), lengths LEB128.
 * Every consensus-state write goes through a view, so two nodes with any
 * difference in state have different roots from that height on.
 *
 * Values returned by chain_view_get are borrowed: valid until the next
 * write to the same view or its free.
 * Not thread-safe: one thread uses a store and its views at a time, except
 * that chain_store_get may be called concurrently (LevelDB allows it).
 */
#ifndef BASED_CHAIN_STATE_H
#define BASED_CHAIN_STATE_H

#include "chain/crypto.h"

#define CHAIN_KEY_MAX   128
#define CHAIN_VALUE_MAX (1u << 24)

typedef struct chain_store chain_store;
typedef struct chain_batch chain_batch;
typedef struct chain_view chain_view;

/* Opens (creating if needed) the LevelDB at path. On error, a message in err. */
based_err chain_store_open(const char *path, chain_store **out, char *err, size_t errlen);
void chain_store_free(chain_store *st);

/* Reads a key: *val is malloc'd (caller frees). BASED_E_NOT_FOUND if absent. */
based_err chain_store_get(chain_store *st, const void *key, size_t klen,
                          uint8_t **val, size_t *vlen);
/* Calls fn for every key starting with prefix, in order; stops early when fn
 * returns non-zero (and returns that value). */
int chain_store_scan(chain_store *st, const void *prefix, size_t plen,
                     int (*fn)(void *user, const uint8_t *k, size_t kl,
                               const uint8_t *v, size_t vl),
                     void *user);

chain_batch *chain_batch_new(void);
void chain_batch_put(chain_batch *b, const void *key, size_t klen, const void *val, size_t vlen);
void chain_batch_del(chain_batch *b, const void *key, size_t klen);
/* Writes the batch atomically; sync = fsync before returning. */
based_err chain_batch_write(chain_store *st, chain_batch *b, bool sync, char *err, size_t errlen);
void chain_batch_free(chain_batch *b);

/* A view over `parent` (if not NULL) or else directly over `st`. */
chain_view *chain_view_new(chain_store *st, chain_view *parent);
void chain_view_free(chain_view *v);
/* BASED_E_NOT_FOUND when absent (or deleted in a pending layer). */
based_err chain_view_get(chain_view *v, const void *key, size_t klen,
                         const uint8_t **val, size_t *vlen);
based_err chain_view_put(chain_view *v, const void *key, size_t klen,
                         const void *val, size_t vlen);
based_err chain_view_del(chain_view *v, const void *key, size_t klen);
/* Calls fn for every key starting with prefix as the view sees it (the
 * store overlaid with the pending writes of this view and its parents), in
 * key order; stops early when fn returns non-zero (and returns that value).
 * fn must not write to v. Returns -1 on an allocation or store failure. */
int chain_view_scan(chain_view *v, const void *prefix, size_t plen,
                    int (*fn)(void *user, const uint8_t *k, size_t kl,
                              const uint8_t *val, size_t vl),
                    void *user);
/* Moves every pending write of child into its parent view; child is then
 * empty (still to be freed by the caller). */
based_err chain_view_merge(chain_view *child);
/* Number of pending writes. */
size_t chain_view_count(const chain_view *v);
/* Computes the new state root from prev_root and the pending writes of a
 * top-level view, and adds the writes to batch b. */
based_err chain_view_commit(chain_view *v, const chain_hash *prev_root,
                            chain_hash *new_root, chain_batch *b);

#endif
