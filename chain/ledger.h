/*
 * ledger.h: the chain as a whole: genesis, blocks, state and indexes in one
 * LevelDB, the head, block production and block application.
 *
 * Execution is a pure function (state, block) -> (state', receipts): the
 * same code runs when an authority produces a block (skipping transactions
 * that fail, so a block never contains one), when a block is applied from
 * outside, and when `basedd --verify` replays the chain from genesis into
 * a fresh database and checks every stored state root.
 *
 * Each block is committed with one synced WriteBatch holding its state
 * writes, the block, its hash and tx indexes, its commit and the new head.
 * A crash at any instant leaves the previous or the new block, whole.
 *
 * The modules above chain/ (their kinds and block hooks) come from the
 * runtime given to chain_ledger_open (chain/runtime.h), borrowed for the
 * ledger's life.
 *
 * One thread at a time (the node's loop thread).
 */
#ifndef BASED_CHAIN_LEDGER_H
#define BASED_CHAIN_LEDGER_H

#include <jansson.h>

#include "chain/block.h"
#include "chain/genesis.h"
#include "chain/runtime.h"
#include "chain/state.h"

typedef struct chain_ledger chain_ledger;

typedef struct {
    uint64_t height;
    chain_hash hash;
    chain_hash state_root;
    uint64_t time_ms;
} chain_head;

/* Opens the database at dbpath, executing with the modules of rt (which
 * must outlive the ledger). With g != NULL: a new database is initialised
 * from g (height 0, the genesis state: balances, supply, then every
 * module's genesis_init); an existing one must have been created from the
 * same genesis (hash compared). With g == NULL the database must exist and
 * its stored genesis is used. */
based_err chain_ledger_open(const chain_runtime *rt, const char *dbpath, const chain_genesis *g,
                            chain_ledger **out, char *err, size_t errlen);
void chain_ledger_free(chain_ledger *l);

const chain_genesis *chain_ledger_genesis(const chain_ledger *l);
chain_head chain_ledger_head(const chain_ledger *l);
chain_store *chain_ledger_store(chain_ledger *l);
/* The runtime the ledger was opened with. */
const chain_runtime *chain_ledger_runtime(const chain_ledger *l);
/* A fresh read view over the committed state (caller frees). */
chain_view *chain_ledger_view(chain_ledger *l);

/* Block at a height (1..head) into *b (release with chain_block_release). */
based_err chain_ledger_block(chain_ledger *l, uint64_t height, chain_block *b);
based_err chain_ledger_height_of(chain_ledger *l, const chain_hash *hash, uint64_t *height);
/* The commit signatures stored for a block (count in *n). */
based_err chain_ledger_commit(chain_ledger *l, uint64_t height, chain_commit_sig *sigs, size_t *n);
/* Where a committed tx is: height, index, and its receipt (new ref). */
based_err chain_ledger_tx(chain_ledger *l, const chain_hash *txhash, uint64_t *height,
                          uint32_t *index, json_t **receipt);

/* Called for each candidate left out of a produced block. */
typedef void (*chain_skip_fn)(void *user, const chain_tx *tx, based_err e, const char *why);

/* Produces, signs and commits the next block from the candidates (in the
 * given order; their signatures already checked), as authority `sk`
 * (libsodium Ed25519 64-byte key) at time_ms (raised to head time + 1 if
 * needed). *included gets the number of txs in the block. */
based_err chain_ledger_produce(chain_ledger *l, chain_tx *const *cands, size_t n,
                               uint64_t time_ms, const uint8_t sk[64],
                               chain_skip_fn skip, void *user, size_t *included,
                               char *err, size_t errlen);

/* Validates and commits a block made elsewhere: height, previous hash,
 * time, proposer is an authority and signed it, the last commit, every tx
 * (signature, chain id, execution), tx root and state root. `commit` are the
 * signatures on this block itself (stored for the next header). */
based_err chain_ledger_apply(chain_ledger *l, const chain_block *b,
                             const chain_commit_sig *commit, size_t ncommit,
                             char *err, size_t errlen);

/* Runs tx on the head state as the next block would, and throws the
 * result away: the error code a block producer would get (only when the tx
 * is the sender's next nonce on the head state; otherwise BASED_E_OK, as
 * earlier pending txs may change the outcome). The mempool uses it so that
 * tx_send reports a stateful rejection (NOT_TRANSFERABLE, LOCKED, ...) at
 * once. */
based_err chain_ledger_dry_run(chain_ledger *l, const chain_tx *tx, const char **why);

/* Sums every account balance and what the modules hold outside accounts
 * (their audit hooks: stake, pending emission) and checks it against
 * genesis + minted - burned; also fails (with the module's code) when a
 * module's invariant fails. */
based_err chain_ledger_audit(chain_ledger *l, uint64_t *held, uint64_t *expected);
/* Every module's audit hook in module order (chain_runtime_audit): *held
 * gets what they hold; err names the first invariant that fails. */
based_err chain_ledger_audit_modules(chain_ledger *l, uint64_t *held, char *err, size_t errlen);

/* Replays every block of the database at dbpath into a fresh database at
 * tmppath (removed afterwards), both opened with rt, and checks each state
 * root and the final head. progress (may be NULL) is called every block. */
based_err chain_ledger_verify(const chain_runtime *rt, const char *dbpath, const char *tmppath,
                              void (*progress)(void *user, uint64_t height, uint64_t head),
                              void *user, char *err, size_t errlen);

#endif
