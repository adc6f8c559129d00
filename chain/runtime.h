/*
 * runtime.h: the modules above chain/ and their hooks, composed into one
 * runtime the ledger executes with.
 *
 * chain/ knows no module by name. Each module (contracts/, rewards/, and
 * chain's own transfer) exports one const chain_module: its transaction
 * kinds and the hooks it needs at genesis, at the start and the end of
 * every block, and in the supply audit. A runtime is an ordered list of
 * modules (composed in one place above every module: node/runtime.c) with
 * the kind index built from them: one table by kind id, so that a kind is
 * found in O(1). Hooks run in module order; a module without a hook leaves
 * it NULL.
 *
 * A runtime may also carry one handle per module (chain_runtime_bind): the
 * node's per-process state a module uses in its hooks, such as the TFT
 * training pool of rewards/. chain/ never looks inside it; a module finds
 * its own through ex->params->rt (chain_runtime_state). A handle never
 * changes results, only how fast they come.
 *
 * A runtime is built once (chain_runtime_init) and read-only afterwards;
 * the ledger borrows it (it must outlive every ledger opened with it).
 */
#ifndef BASED_CHAIN_RUNTIME_H
#define BASED_CHAIN_RUNTIME_H

#include "chain/exec.h"
#include "chain/kinds.h"
#include "chain/state.h"

#define CHAIN_RUNTIME_MAX_MODULES 8
#define CHAIN_KIND_ID_MAX 255          /* kind ids are 1..CHAIN_KIND_ID_MAX */

typedef struct chain_module {
    const char *name;                   /* "contracts" */
    const chain_kind *const *kinds;     /* this module's transaction kinds */
    size_t nkinds;
    /* Writes the module's genesis state (after the balances and supply). */
    based_err (*genesis_init)(chain_view *v, const chain_genesis *g);
    /* Start of every block, before its transactions, on ex->view. */
    based_err (*block_begin)(chain_exec *ex);
    /* End of every block, after its transactions (the included ones). */
    based_err (*block_end)(chain_exec *ex, chain_tx *const *included, size_t n);
    /* Checks the module's invariants over the committed store and adds the
     * BASED it holds outside accounts (stake, pending emission) to *held;
     * err names the first failure. */
    based_err (*audit)(chain_store *st, const chain_genesis *g, uint64_t *held, char *err,
                       size_t errlen);
} chain_module;

typedef struct chain_runtime {
    const chain_module *modules[CHAIN_RUNTIME_MAX_MODULES];   /* in hook order */
    void *state[CHAIN_RUNTIME_MAX_MODULES];    /* module i's handle (NULL: none) */
    size_t n;
    const chain_kind *by_id[CHAIN_KIND_ID_MAX + 1];   /* the kind table: by_id[kind id] */
    const chain_kind *list[CHAIN_KIND_ID_MAX];        /* every kind, in module order */
    size_t nkinds;
} chain_runtime;

/* Composes mods[0..n-1] into *rt (no handles bound). Fails with
 * BASED_E_BAD_PARAM and a message in err when a kind id is 0 or above
 * CHAIN_KIND_ID_MAX, when two kinds share an id or a name, when a kind has
 * no check, apply, to_json or from_json, or when there are more than
 * CHAIN_RUNTIME_MAX_MODULES modules. */
based_err chain_runtime_init(chain_runtime *rt, const chain_module *const *mods, size_t n,
                             char *err, size_t errlen);
/* Binds a handle to module m of rt (BASED_E_NOT_FOUND when m is not one
 * of its modules). The caller keeps owning it. */
based_err chain_runtime_bind(chain_runtime *rt, const chain_module *m, void *state);
/* The handle bound to m (NULL when none, or when rt is NULL). */
void *chain_runtime_state(const chain_runtime *rt, const chain_module *m);

/* The hooks of every module, in module order; the first error stops. */
based_err chain_runtime_genesis_init(const chain_runtime *rt, chain_view *v,
                                     const chain_genesis *g);
based_err chain_runtime_block_begin(const chain_runtime *rt, chain_exec *ex);
based_err chain_runtime_block_end(const chain_runtime *rt, chain_exec *ex,
                                  chain_tx *const *included, size_t n);
/* Every module's audit; *held gets the sum of what they hold
 * (BASED_E_OVERFLOW if it does not fit in 64 bits). */
based_err chain_runtime_audit(const chain_runtime *rt, chain_store *st, const chain_genesis *g,
                              uint64_t *held, char *err, size_t errlen);

/* chain's own module: the transfer kind. */
extern const chain_module chain_transfer_module;

#endif
