/*
 * runtime.h: the one place the modules are composed (chain/runtime.h).
 *
 * Order (the order their hooks run in, so results depend on it):
 *   chain's transfer kind   (chain_transfer_module)
 *   contracts/ + staking/   (contract_module)
 *   rewards/                (reward_module)
 * Adding a module or a kind: docs/architecture.md.
 *
 * based_runtime() is the composition with no handles: what the CLI, the
 * tools, the tests and a replay without the node need. A node makes its own
 * with based_runtime_new: the same modules with the handles it owns bound
 * (the TFT training pool and forecast cache of rewards/), freed (threads
 * joined) by based_runtime_free. Either gives the same results bit for bit.
 */
#ifndef BASED_NODE_RUNTIME_H
#define BASED_NODE_RUNTIME_H

#include "chain/runtime.h"

/* The composition without handles, built on first use (thread-safe) and
 * never freed. The tables are checked when built; an inconsistency (two
 * kinds with one id) is a programming error: it is printed and the
 * process aborts (tests/chain checks that it never does). */
const chain_runtime *based_runtime(void);

typedef struct {
    size_t tft_threads;        /* TFT training threads, 1..16 (0: 1) */
    bool tft_cache;            /* keep TFT forecast states between epochs */
    size_t tft_cache_bytes;    /* its memory cap (0: REWARD_TFT_CACHE_DEFAULT_BYTES) */
} based_runtime_opts;

/* The composition with the node's handles: a TFT training pool of
 * o->tft_threads threads and, when o->tft_cache, a forecast cache. *out is
 * the caller's (based_runtime_free). */
based_err based_runtime_new(const based_runtime_opts *o, chain_runtime **out, char *err,
                            size_t errlen);
/* Stops and joins the pool's threads, frees the cache and the runtime.
 * Only for runtimes from based_runtime_new; NULL is a no-op. */
void based_runtime_free(chain_runtime *rt);

#endif
