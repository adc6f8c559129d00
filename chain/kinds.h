/*
 * kinds.h: the transaction kind table.
 *
 * Each kind is one row: its stable number and name, a stateless payload
 * check, the BASED it moves out of the sender beyond the fee (used by the
 * mempool's balance pre-check), its state transition, and its JSON forms.
 * Each module lists its kinds in a table of its own, declared in its header
 * with the ids it owns (chain's: chain_transfer_kinds below); a runtime
 * (chain/runtime.h) indexes every module's kinds by id, and these lookups
 * go through it. The core (tx.c, exec.c, mempool, RPC) never changes for a
 * new kind; docs/architecture.md says how to add one.
 */
#ifndef BASED_CHAIN_KINDS_H
#define BASED_CHAIN_KINDS_H

#include <jansson.h>

#include "chain/codec.h"
#include "chain/tx.h"

struct chain_exec;
struct chain_runtime;

typedef struct {
    uint16_t id;
    const char *name;     /* "transfer" */
    /* Well-formedness of the payload alone; *why names the field. */
    based_err (*check)(const uint8_t *p, size_t n, const char **why);
    /* BASED leaving the sender's balance besides the fee (0 if none). The
     * payload has passed check(). */
    uint64_t (*spend)(const uint8_t *p, size_t n);
    /* Applies the payload (after the core charged the fee and bumped the
     * nonce). On error the whole tx is rolled back. */
    based_err (*apply)(struct chain_exec *ex, const chain_tx *tx, const char **why);
    /* Payload as a JSON object (new reference), for RPC and the CLI. */
    json_t *(*to_json)(const uint8_t *p, size_t n, uint16_t ss58_prefix);
    /* Payload from a JSON object (the RPC/CLI form); *why names the field. */
    based_err (*from_json)(json_t *obj, uint16_t ss58_prefix, chain_wbuf *out,
                           const char **why);
} chain_kind;

/* The kind ids chain/ owns. Every other module declares its own in its
 * header; a runtime refuses two kinds with one id. */
enum {
    CHAIN_KIND_TRANSFER = 1,
};

/* chain's kind table (the transfer kind). */
extern const chain_kind *const chain_transfer_kinds[];

/* The kind with this id in rt (O(1)); NULL when none or rt is NULL. */
const chain_kind *chain_kind_find(const struct chain_runtime *rt, uint16_t id);
/* The kind with this name in rt; NULL when none. */
const chain_kind *chain_kind_by_name(const struct chain_runtime *rt, const char *name);
/* Kind i of rt in module order (NULL past the end), for listing. */
const chain_kind *chain_kind_at(const struct chain_runtime *rt, size_t i);

#endif
