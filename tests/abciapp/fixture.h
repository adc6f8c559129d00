/* The ABCI++ application under test, driven in-process: a two-authority
 * network genesis, a ledger in the test's directory, the app, and helpers
 * that build protobuf-c requests and return the app's responses. */
#ifndef BASED_TESTS_ABCIAPP_FIXTURE_H
#define BASED_TESTS_ABCIAPP_FIXTURE_H

#include "chain/genesis.h"
#include "chain/kinds.h"
#include "chain/ledger.h"
#include "node/abci_app.h"

#define FX_T0 1767225600000ull        /* genesis time (2026-01-01T00:00:00Z) in ms */
#define FX_T0_S 1767225600ll
#define FX_FUNDED 5                   /* dev0..dev4 hold FX_BALANCE each */
#define FX_BALANCE (1000000ull * 1000000000ull)

typedef struct {
    chain_genesis g;
    uint8_t ask[2][64];               /* the authorities' Ed25519 keys (power 10, 20) */
    uint8_t addr[2][20];              /* their CometBFT addresses */
    char db[512];
    chain_ledger *l;
    node_abci_app *app;
    abci_arena *a;                    /* every response, freed at close */
    char err[512];
} fx;

/* A block request's fields (Prepare, Process, Finalize). proposer: the
 * authority index, -1 for an unknown address, -2 for a 19-byte address. */
typedef struct {
    int64_t height;
    int64_t secs;
    int32_t nanos;
    bool no_time;
    int proposer;
    const ProtobufCBinaryData *txs;
    size_t ntx;
    Abci__Misbehavior **mb;
    size_t nmb;
    int64_t max_tx_bytes;
} fx_blk;

/* Opens node `name` (its own database) on the shared genesis; aborts on
 * failure. */
void fx_open(fx *f, const char *name);
/* Frees the app and the ledger (the database stays). */
void fx_close(fx *f);
/* The app again on the database as it is on disk (genesis from there). */
void fx_reopen(fx *f);

/* One request; resp is initialised first. The handler's return value. */
int fx_call(fx *f, Abci__Request *req, Abci__Response *resp);
/* Packs resp and unpacks it again (1 = it is a valid message). */
int fx_packs(const Abci__Response *resp);

Abci__ResponseInfo *fx_info(fx *f);
Abci__ResponseCheckTx *fx_check(fx *f, const void *tx, size_t len, bool recheck);
Abci__ResponsePrepareProposal *fx_prepare(fx *f, const fx_blk *b);
/* ACCEPT / REJECT, or -1 when the handler failed. */
int fx_process(fx *f, const fx_blk *b);
Abci__ResponseFinalizeBlock *fx_finalize(fx *f, const fx_blk *b);
int fx_commit(fx *f);
Abci__ResponseQuery *fx_query(fx *f, const char *path, const void *data, size_t len);
/* FinalizeBlock then Commit of an empty block at the next height, time
 * (head + 1 s); aborts on failure. */
void fx_empty_block(fx *f);

/* dev<i>'s address; a signed transfer from dev<from> to dev<to>. */
void fx_dev(unsigned i, chain_addr *a);
void fx_transfer(chain_tx *tx, unsigned from, unsigned to, uint64_t amount, uint64_t nonce);
/* A copy of tx with a flipped signature byte. */
void fx_badsig(const chain_tx *tx, chain_tx *out);
ProtobufCBinaryData fx_bin(const chain_tx *tx);

#endif
