/*
 * bench/block_commit.c: a block of 5,000 transfers, executed and committed.
 *
 * Setup (not timed): NKEYS fresh keys funded in a dev genesis built here,
 * each signing NTX/NKEYS transfers with sequential nonces.
 *
 * Each of RUNS runs opens two fresh ledgers (temp dirs) on that genesis and
 * times:
 *   produce: chain_ledger_produce of the 5,000 candidates on ledger A:
 *            execute every tx (receipts included), compute the state root,
 *            build, sign and encode the block, and write everything with
 *            the one synced WriteBatch (signatures are checked by the
 *            mempool on entry, so production does not verify them again);
 *   apply:   chain_ledger_apply of that same block (read back from A) on
 *            ledger B: header and commit checks, every tx signature
 *            verified, execution, state-root comparison, the synced batch.
 * Prints the median (and min/max) wall-clock ms of each, its share of a
 * 10-second block interval (the genesis.json block time), and the median
 * CPU ms of the thread (on a shared machine the wall clock also counts
 * time spent waiting for a CPU; the difference to CPU time is that wait
 * plus the fsync). The baseline in the same
 * process is the bare synced LevelDB write of the produced block's bytes,
 * which bounds what any commit can cost on this disk.
 */
#include <sodium.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "chain/genesis.h"
#include "chain/kinds.h"
#include "chain/ledger.h"
#include "chain/state.h"
#include "node/runtime.h"

#define NTX 5000
#define NKEYS 1000
#define RUNS 5
#define INTERVAL_MS 10000.0

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }
static double cpu_ms(void) { return clock_ms(CLOCK_THREAD_CPUTIME_ID); }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void die(const char *what)
{
    fprintf(stderr, "block_commit: %s\n", what);
    exit(1);
}

static void rm_rf(const char *dir)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "block_commit: could not remove %s\n", dir);
}

static void print_row(const char *name, double *ms, double *cpu)
{
    qsort(ms, RUNS, sizeof *ms, cmp_double);
    qsort(cpu, RUNS, sizeof *cpu, cmp_double);
    printf("%-30s %8.1f ms median (min %.1f, max %.1f)  %5.2f %% of a 10 s block;"
           " cpu %.1f ms\n", name, ms[RUNS / 2], ms[0], ms[RUNS - 1],
           100.0 * ms[RUNS / 2] / INTERVAL_MS, cpu[RUNS / 2]);
}

int main(void)
{
    static chain_addr keys[NKEYS];
    static chain_tx txs[NTX];
    static chain_tx *cands[NTX];
    uint8_t *sks, edsk[64];
    chain_edpub edpub;
    chain_genesis g;
    char err[512];
    if (chain_crypto_init() != 0 || !(sks = sodium_malloc(NKEYS * 32)))
        die("setup failed");
    for (size_t k = 0; k < NKEYS; k++) {
        chain_key_generate(sks + 32 * k);
        chain_key_pub(sks + 32 * k, &keys[k]);
    }
    if (chain_genesis_parse(chain_genesis_default, strlen(chain_genesis_default), "genesis.json",
                            &g, err, sizeof err) != BASED_E_OK)
        die(err);
    chain_balance *bal = realloc(g.bal, (g.nbal + NKEYS) * sizeof *bal);
    if (!bal)
        die("out of memory");
    for (size_t k = 0; k < NKEYS; k++) {
        bal[g.nbal + k].address = keys[k];
        bal[g.nbal + k].amount = 1000000ull * CHAIN_COIN;
    }
    g.bal = bal;
    g.nbal += NKEYS;
    chain_ed_generate(edsk, &edpub);
    if (chain_genesis_make_dev(&g, &edpub, 1767225600000ull) != BASED_E_OK)
        die("chain_genesis_make_dev failed");
    if (g.params.max_block_txs < NTX)
        die("the genesis allows fewer than 5,000 txs per block");
    for (size_t i = 0; i < NTX; i++) {
        size_t k = i % NKEYS;
        uint8_t p[CHAIN_TRANSFER_LEN];
        chain_transfer t = { keys[(k + 1 + i / NKEYS) % NKEYS], 1000 + i };
        chain_transfer_encode(&t, p);
        if (chain_tx_make(&txs[i], g.chain_id, i / NKEYS, g.params.min_fee, CHAIN_KIND_TRANSFER,
                          p, sizeof p, sks + 32 * k) != BASED_E_OK)
            die("chain_tx_make failed");
        cands[i] = &txs[i];
    }
    sodium_free(sks);

    double prod[RUNS], app[RUNS], base[RUNS], cprod[RUNS], capp[RUNS], cbase[RUNS];
    size_t block_bytes = 0;
    for (int r = 0; r < RUNS; r++) {
        char dir[] = "/tmp/based-bench-blk-XXXXXX", pa[300], pb[300], pc[300];
        chain_ledger *a = NULL, *b = NULL;
        chain_block blk;
        chain_commit_sig cs[CHAIN_MAX_AUTHORITIES];
        size_t ncs = 0, included = 0;
        if (!mkdtemp(dir))
            die("mkdtemp failed");
        snprintf(pa, sizeof pa, "%s/a", dir);
        snprintf(pb, sizeof pb, "%s/b", dir);
        snprintf(pc, sizeof pc, "%s/c", dir);
        if (chain_ledger_open(based_runtime(), pa, &g, &a, err, sizeof err) != BASED_E_OK ||
            chain_ledger_open(based_runtime(), pb, &g, &b, err, sizeof err) != BASED_E_OK)
            die(err);

        double t0 = now_ms(), c0 = cpu_ms();
        based_err rc = chain_ledger_produce(a, cands, NTX, 1767225601000ull, edsk, NULL, NULL,
                                            &included, err, sizeof err);
        prod[r] = now_ms() - t0;
        cprod[r] = cpu_ms() - c0;
        if (rc != BASED_E_OK || included != NTX)
            die(rc != BASED_E_OK ? err : "not every transaction was included");

        if (chain_ledger_block(a, 1, &blk) != BASED_E_OK ||
            chain_ledger_commit(a, 1, cs, &ncs) != BASED_E_OK)
            die("cannot read the produced block back");
        t0 = now_ms(), c0 = cpu_ms();
        rc = chain_ledger_apply(b, &blk, cs, ncs, err, sizeof err);
        app[r] = now_ms() - t0;
        capp[r] = cpu_ms() - c0;
        if (rc != BASED_E_OK)
            die(err);
        chain_head ha = chain_ledger_head(a), hb = chain_ledger_head(b);
        if (!chain_hash_eq(&ha.state_root, &hb.state_root) || !chain_hash_eq(&ha.hash, &hb.hash))
            die("the two ledgers disagree after the block");

        /* baseline: one synced write of the block's bytes to a fresh store */
        chain_store *st;
        chain_wbuf w;
        chain_w_init(&w, CHAIN_MAX_BLOCK_BYTES);
        chain_block_encode(&blk, &w);
        block_bytes = w.len;
        if (chain_store_open(pc, &st, err, sizeof err) != BASED_E_OK)
            die(err);
        chain_batch *bt = chain_batch_new();
        t0 = now_ms(), c0 = cpu_ms();
        chain_batch_put(bt, "B", 1, w.p, w.len);
        rc = chain_batch_write(st, bt, true, err, sizeof err);
        base[r] = now_ms() - t0;
        cbase[r] = cpu_ms() - c0;
        if (rc != BASED_E_OK)
            die(err);
        chain_batch_free(bt);
        chain_store_free(st);
        chain_w_free(&w);

        fprintf(stderr, "block_commit: run %d: produce %.1f ms, apply %.1f ms, bare write %.1f ms\n",
                r + 1, prod[r], app[r], base[r]);
        chain_block_release(&blk);
        chain_ledger_free(a);
        chain_ledger_free(b);
        rm_rf(dir);
    }
    printf("block of %d transfers, %zu bytes, %d runs\n", NTX, block_bytes, RUNS);
    print_row("produce (execute + commit)", prod, cprod);
    print_row("apply (verify + exec + commit)", app, capp);
    print_row("bare synced write (baseline)", base, cbase);
    printf("ratio produce/apply %.2f; produce/bare-write %.1f\n", prod[RUNS / 2] / app[RUNS / 2],
           prod[RUNS / 2] / base[RUNS / 2]);

    for (size_t i = 0; i < NTX; i++)
        chain_tx_release(&txs[i]);
    chain_genesis_release(&g);
    sodium_memzero(edsk, sizeof edsk);
    return 0;
}
