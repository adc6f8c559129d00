/*
 * kinds.h: the transaction kind table.
 *
 * Each kind is one row: its stable number and name, a stateless payload
 * check, the BASED it moves out of the sender beyond the fee (used by the
 * mempool's balance pre-check), its state transition, and its JSON forms.
 * Later modules add kinds as rows of their own tables that chain_kind_at
 * walks after this file's (contracts/kinds.c lists the contracts/ and
 * staking/ kinds); the core (tx.c, exec.c, mempool, RPC) never changes for
 * a new kind.
 */
#ifndef BASED_CHAIN_KINDS_H
#define BASED_CHAIN_KINDS_H

#include <jansson.h>

#include "chain/codec.h"
#include "chain/tx.h"

struct chain_exec;

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

enum {
    CHAIN_KIND_TRANSFER = 1,
    /* contracts/ */
    CHAIN_KIND_PEPE_TRANSFER = 2,
    CHAIN_KIND_PEPE_BRIDGE = 3,
    CHAIN_KIND_BRAIN_BUY = 4,
    CHAIN_KIND_BRAIN_SET = 5,
    CHAIN_KIND_BRAIN_TRANSFER = 6,
    CHAIN_KIND_BRAIN_DEACTIVATE = 7,
    /* staking/ */
    CHAIN_KIND_MEMORIZE = 8,
    CHAIN_KIND_SERVE = 9,
    CHAIN_KIND_STAKE = 10,
    CHAIN_KIND_UNSTAKE = 11,
    CHAIN_KIND_SET_TAKE = 12,
    /* contracts/gov.c */
    CHAIN_KIND_GOV_PROPOSE = 13,
    CHAIN_KIND_GOV_VOTE = 14,
    /* rewards/ */
    CHAIN_KIND_WEIGHTS_COMMIT = 15,
    CHAIN_KIND_WEIGHTS_REVEAL = 16,
};

const chain_kind *chain_kind_find(uint16_t id);
const chain_kind *chain_kind_by_name(const char *name);
/* Row i of the table (NULL past the end), for listing. */
const chain_kind *chain_kind_at(size_t i);

#endif
