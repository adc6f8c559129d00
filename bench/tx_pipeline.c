/*
 * bench/tx_pipeline.c: the transaction pipeline against raw signature
 * verification, on one core, in one process.
 *
 * Setup (not timed): NKEYS fresh secp256k1 keys (chain_key_generate) are
 * funded in a dev genesis built here; each signs NTX/NKEYS transfers to
 * other keys with sequential nonces, so there are NTX = 100,000 encoded,
 * signed transfers. A ledger is opened on that genesis in a temp dir.
 *
 * (a) pipeline: for every encoding, chain_tx_decode + chain_tx_check
 *     (chain id, kind, payload, BIP340 signature) + chain_exec_tx (nonce,
 *     fee, balances, in a child view merged into one block view over the
 *     ledger's LevelDB store) + chain_tx_release. This is exactly what a
 *     node does per transaction when it applies a block, minus the
 *     receipts and the commit (bench/block_commit.c times those).
 * (b) baseline: secp256k1_schnorrsig_verify of the same NTX signatures
 *     over their sighashes, with a context created once and the public
 *     keys parsed before timing (only the verify calls are timed).
 * (c) for information: the same with secp256k1_xonly_pubkey_parse of the
 *     32-byte sender key inside the timed loop, as chain_verify does (a
 *     transaction carries the key as bytes); the gap between (a) and (c)
 *     is everything that is not secp256k1.
 *
 * Each is run REPS times, alternating, single-threaded. Both are timed by
 * the thread's CPU clock (so another process on a shared machine does not
 * skew the ratio) and by the wall clock; the medians are printed with the
 * ratio (a)/(b) of the CPU-time rates. Target: >= 0.75.
 */
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <sodium.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "chain/exec.h"
#include "chain/genesis.h"
#include "chain/kinds.h"
#include "chain/ledger.h"
#include "node/runtime.h"

#define NTX 100000
#define NKEYS 1000
#define REPS 3
#define TARGET 0.75

typedef struct {
    uint8_t *raw;
    size_t len;
} enc;

typedef struct {
    double cpu, wall;
} stamp;

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static stamp now(void)
{
    stamp s = { clock_s(CLOCK_THREAD_CPUTIME_ID), clock_s(CLOCK_MONOTONIC) };
    return s;
}

static stamp since(stamp t0)
{
    stamp t = now();
    t.cpu -= t0.cpu;
    t.wall -= t0.wall;
    return t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void die(const char *what)
{
    fprintf(stderr, "tx_pipeline: %s\n", what);
    exit(1);
}

/* The default genesis made a dev genesis, plus every key funded. */
static void make_genesis(chain_genesis *g, const chain_addr *keys, size_t n)
{
    char err[256];
    chain_edpub pub;
    uint8_t edsk[64];
    if (chain_genesis_parse(chain_genesis_default, strlen(chain_genesis_default), "genesis.json",
                            g, err, sizeof err) != BASED_E_OK)
        die(err);
    chain_balance *bal = realloc(g->bal, (g->nbal + n) * sizeof *bal);
    if (!bal)
        die("out of memory");
    for (size_t i = 0; i < n; i++) {
        bal[g->nbal + i].address = keys[i];
        bal[g->nbal + i].amount = 1000000ull * CHAIN_COIN;
    }
    g->bal = bal;
    g->nbal += n;
    chain_ed_generate(edsk, &pub);
    if (chain_genesis_make_dev(g, &pub, 1767225600000ull) != BASED_E_OK)
        die("chain_genesis_make_dev failed");
}

/* (a): returns the times; cpu < 0 if any tx fails. */
static stamp run_pipeline(chain_ledger *l, const enc *txs, const chain_exec_params *xp,
                           const chain_addr *fee_account)
{
    const char *chain_id = chain_ledger_genesis(l)->chain_id;
    chain_view *view = chain_ledger_view(l);
    chain_exec ex = { .view = view, .params = xp, .genesis = chain_ledger_genesis(l), .height = 1,
                      .time_ms = 1767225601000ull, .fee_account = *fee_account };
    size_t bad = 0;
    stamp t0 = now();
    for (size_t i = 0; i < NTX; i++) {
        chain_tx tx;
        uint64_t fee;
        const char *why;
        based_err rc = chain_tx_decode(txs[i].raw, txs[i].len, &tx, &why);
        if (rc == BASED_E_OK)
            rc = chain_tx_check(xp->rt, &tx, chain_id, &why);
        if (rc == BASED_E_OK)
            rc = chain_exec_tx(&ex, &tx, &fee, &why);
        bad += rc != BASED_E_OK;
        chain_tx_release(&tx);
    }
    stamp t = since(t0);
    if (chain_view_count(view) != NKEYS + 1)
        bad++;
    chain_view_free(view);
    if (bad)
        t.cpu = -1.0;
    return t;
}

/* (c): returns the times; cpu < 0 if a key or signature fails. */
static stamp run_raw_parse(const secp256k1_context *ctx, const chain_addr *keys,
                           const chain_hash *msgs, const chain_sig *sigs)
{
    size_t bad = 0;
    stamp t0 = now();
    for (size_t i = 0; i < NTX; i++) {
        secp256k1_xonly_pubkey pk;
        bad += !secp256k1_xonly_pubkey_parse(ctx, &pk, keys[i % NKEYS].b) ||
               secp256k1_schnorrsig_verify(ctx, sigs[i].b, msgs[i].b, 32, &pk) != 1;
    }
    stamp t = since(t0);
    if (bad)
        t.cpu = -1.0;
    return t;
}

/* (b): returns the times; cpu < 0 if a signature fails. */
static stamp run_raw(const secp256k1_context *ctx, const secp256k1_xonly_pubkey *pks,
                      const chain_hash *msgs, const chain_sig *sigs)
{
    size_t bad = 0;
    stamp t0 = now();
    for (size_t i = 0; i < NTX; i++)
        bad += secp256k1_schnorrsig_verify(ctx, sigs[i].b, msgs[i].b, 32, &pks[i]) != 1;
    stamp t = since(t0);
    if (bad)
        t.cpu = -1.0;
    return t;
}

int main(void)
{
    static chain_addr keys[NKEYS];
    uint8_t *sks = NULL;
    enc *txs = calloc(NTX, sizeof *txs);
    chain_hash *msgs = calloc(NTX, sizeof *msgs);
    chain_sig *sigs = calloc(NTX, sizeof *sigs);
    secp256k1_xonly_pubkey *pks = calloc(NTX, sizeof *pks);
    char dir[] = "/tmp/based-bench-txp-XXXXXX", err[256];
    if (!txs || !msgs || !sigs || !pks || chain_crypto_init() != 0)
        die("setup failed");

    /* keys in secure memory */
    sks = sodium_malloc(NKEYS * 32);
    if (!sks)
        die("sodium_malloc failed");
    for (size_t k = 0; k < NKEYS; k++) {
        chain_key_generate(sks + 32 * k);
        if (chain_key_pub(sks + 32 * k, &keys[k]) != BASED_E_OK)
            die("chain_key_pub failed");
    }
    chain_genesis g;
    make_genesis(&g, keys, NKEYS);

    fprintf(stderr, "tx_pipeline: signing %d transfers from %d keys...\n", NTX, NKEYS);
    stamp ts = now();
    for (size_t i = 0; i < NTX; i++) {
        size_t k = i % NKEYS;
        uint8_t p[CHAIN_TRANSFER_LEN];
        chain_transfer t = { keys[(k + 1 + i / NKEYS) % NKEYS], 1000 + i };
        chain_tx tx;
        chain_transfer_encode(&t, p);
        if (chain_tx_make(&tx, g.chain_id, i / NKEYS, g.params.min_fee, CHAIN_KIND_TRANSFER,
                          p, sizeof p, sks + 32 * k) != BASED_E_OK)
            die("chain_tx_make failed");
        txs[i].raw = tx.raw;         /* keep the encoding */
        txs[i].len = tx.raw_len;
        msgs[i] = tx.sighash;
        sigs[i] = tx.sig;
        tx.raw = NULL;
        chain_tx_release(&tx);
    }
    sodium_free(sks);
    fprintf(stderr, "tx_pipeline: signed in %.1f s\n", since(ts).wall);

    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_VERIFY);
    for (size_t i = 0; i < NTX; i++)
        if (!secp256k1_xonly_pubkey_parse(ctx, &pks[i], keys[i % NKEYS].b))
            die("bad public key");

    if (!mkdtemp(dir))
        die("mkdtemp failed");
    char dbpath[300];
    snprintf(dbpath, sizeof dbpath, "%s/db", dir);
    chain_ledger *l;
    if (chain_ledger_open(based_runtime(), dbpath, &g, &l, err, sizeof err) != BASED_E_OK)
        die(err);
    chain_exec_params xp = { g.params.min_fee, g.ss58_prefix, based_runtime() };

    double ta[REPS], tb[REPS], tc[REPS], wa[REPS], wb[REPS];
    for (int r = 0; r < REPS; r++) {
        stamp b = run_raw(ctx, pks, msgs, sigs), a = run_pipeline(l, txs, &xp, &g.auth[0].account);
        stamp c = run_raw_parse(ctx, keys, msgs, sigs);
        if (a.cpu < 0 || b.cpu < 0 || c.cpu < 0)
            die("a transaction or signature failed");
        ta[r] = a.cpu, tb[r] = b.cpu, tc[r] = c.cpu, wa[r] = a.wall, wb[r] = b.wall;
        fprintf(stderr, "tx_pipeline: run %d: pipeline %.3f s cpu (%.3f wall), "
                "raw verify %.3f s cpu (%.3f wall), parse+verify %.3f s cpu\n",
                r + 1, a.cpu, a.wall, b.cpu, b.wall, c.cpu);
    }
    qsort(tc, REPS, sizeof *tc, cmp_double);
    qsort(ta, REPS, sizeof *ta, cmp_double);
    qsort(tb, REPS, sizeof *tb, cmp_double);
    qsort(wa, REPS, sizeof *wa, cmp_double);
    qsort(wb, REPS, sizeof *wb, cmp_double);
    double ra = NTX / ta[REPS / 2], rb = NTX / tb[REPS / 2], ratio = ra / rb;
    printf("decode+verify+apply      %9.0f tx/s   (%.2f us/tx cpu; wall %.0f tx/s; median of %d x %d)\n",
           ra, 1e6 / ra, NTX / wa[REPS / 2], REPS, NTX);
    printf("raw schnorrsig_verify    %9.0f sig/s  (%.2f us/sig cpu; wall %.0f sig/s; baseline)\n",
           rb, 1e6 / rb, NTX / wb[REPS / 2]);
    printf("raw parse key + verify   %9.0f sig/s  (%.2f us/sig cpu; for information)\n",
           NTX / tc[REPS / 2], 1e6 * tc[REPS / 2] / NTX);
    printf("ratio pipeline/raw %.3f; target >= %.2f: %s\n", ratio, TARGET,
           ratio >= TARGET ? "met" : "NOT MET");

    chain_ledger_free(l);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "tx_pipeline: could not remove %s\n", dir);
    secp256k1_context_destroy(ctx);
    for (size_t i = 0; i < NTX; i++)
        free(txs[i].raw);
    free(txs);
    free(msgs);
    free(sigs);
    free(pks);
    chain_genesis_release(&g);
    return 0;
}
