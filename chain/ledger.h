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

#include "chain/account.h"
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

/* ---------------- executing blocks ----------------
 *
 * One entry executes a block, whoever drives it: the dev producer, replay
 * (chain_ledger_apply, --verify) and CometBFT (FinalizeBlock). It returns
 * a pending block: the state after it, uncommitted, with what every input
 * transaction did; chain_ledger_commit_pending then writes it in one
 * synced batch. Nothing is called back during execution: the caller reads
 * what was skipped afterwards. */

/* Which engine certifies the blocks of a database: the dev chain's own
 * authority signatures, or CometBFT's commits (stored in the database at
 * the first block; one database is never driven by both). */
typedef enum { CHAIN_ENGINE_DEV = 0, CHAIN_ENGINE_COMETBFT = 1 } chain_engine;

typedef struct {
    uint64_t height;           /* must be head + 1 */
    uint64_t time_ms;          /* must be after the head's time */
    chain_edpub proposer;      /* an authority of the genesis; its account gets the fees */
    chain_tx *const *txs;      /* in block order */
    size_t ntx;
    const chain_evidence *ev;  /* misbehaviour to record (at most CHAIN_MAX_EVIDENCE) */
    size_t nev;
    bool skip_failing;         /* leave failing txs out (else the first failure fails) */
    bool verify_sigs;          /* check each tx's signature and chain id first */
} chain_block_input;

typedef struct chain_pending chain_pending;

based_err chain_ledger_execute(chain_ledger *l, const chain_block_input *in,
                               chain_pending **out, char *err, size_t errlen);
/* The state root after the block. */
chain_hash chain_pending_root(const chain_pending *p);
uint64_t chain_pending_height(const chain_pending *p);
size_t chain_pending_included(const chain_pending *p);
/* What input tx i did: BASED_E_OK (included) or why it was left out. */
based_err chain_pending_result(const chain_pending *p, size_t i, const char **why);
/* The receipt of input tx i (borrowed; NULL when left out). */
json_t *chain_pending_receipt(const chain_pending *p, size_t i);
/* Writes the block (its included txs, copied at execution) and the new
 * head in one synced batch. sk: the dev producer's key, which signs the
 * block and its commit (NULL on a CometBFT network). Fails when the head
 * moved since execution. The pending block stays the caller's to free. */
based_err chain_ledger_commit_pending(chain_ledger *l, chain_pending *p, const uint8_t *sk,
                                      char *err, size_t errlen);
void chain_pending_free(chain_pending *p);

chain_engine chain_ledger_engine(const chain_ledger *l);
/* Sets the engine of a database with no block yet, or checks it. */
based_err chain_ledger_set_engine(chain_ledger *l, chain_engine e, char *err, size_t errlen);

/* A candidate a produced block left out. */
typedef struct {
    const chain_tx *tx;
    based_err err;
    const char *why;
} chain_skip;

/* Produces, signs and commits the next block from the candidates (in the
 * given order; their signatures already checked), as authority `sk`
 * (libsodium Ed25519 64-byte key) at time_ms (raised to head time + 1 if
 * needed). *included gets the number of txs in the block; the candidates
 * left out are listed in skipped (room for n; may be NULL), *nskipped
 * of them. */
based_err chain_ledger_produce(chain_ledger *l, chain_tx *const *cands, size_t n,
                               uint64_t time_ms, const uint8_t sk[64],
                               chain_skip *skipped, size_t *nskipped, size_t *included,
                               char *err, size_t errlen);

/* Validates and commits a block made elsewhere: height, previous hash,
 * time, proposer is an authority and signed it, the last commit, every tx
 * (signature, chain id, execution), tx root and state root. `commit` are the
 * signatures on this block itself (stored for the next header). On a
 * CometBFT database the signatures are CometBFT's business and not
 * checked here; everything else is. */
based_err chain_ledger_apply(chain_ledger *l, const chain_block *b,
                             const chain_commit_sig *commit, size_t ncommit,
                             char *err, size_t errlen);

/* The evidence recorded on chain, oldest first: up to max entries from
 * index `from`, with the height of the block that recorded each. */
typedef struct {
    uint64_t block_height;
    chain_evidence ev;
} chain_evidence_record;
based_err chain_ledger_evidence(chain_ledger *l, size_t from, chain_evidence_record *out,
                                size_t max, size_t *n);

/* Runs tx on the head state as the next block would, and throws the
 * result away: the error code a block producer would get (only when the tx
 * is the sender's next nonce on the head state; otherwise BASED_E_OK, as
 * earlier pending txs may change the outcome). The mempool uses it so that
 * tx_send reports a stateful rejection (NOT_TRANSFERABLE, LOCKED, ...) at
 * once. */
based_err chain_ledger_dry_run(chain_ledger *l, const chain_tx *tx, const char **why);

/* A check state: the head state with the next block's start-of-block
 * work applied, onto which each admitted transaction is executed, so that
 * nonces advance and every kind's rules are checked against what was
 * admitted before it (CometBFT's CheckTx). Free it before the head moves
 * (the ledger rebuilds the base it rests on). */
typedef struct chain_checkstate chain_checkstate;
chain_checkstate *chain_ledger_check_begin(chain_ledger *l);
/* Signature, chain id, then execution; on success the tx's effects stay.
 * With dry_run the effects are dropped either way. */
based_err chain_checkstate_tx(chain_checkstate *c, const chain_tx *tx, bool dry_run,
                              const char **why);
/* The account as the check state sees it (nonce includes admitted txs). */
based_err chain_checkstate_account(chain_checkstate *c, const chain_addr *a, chain_account *out);
void chain_checkstate_free(chain_checkstate *c);

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
