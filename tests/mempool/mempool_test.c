/* Tests of node/mempool: every admission rule, eviction, block follow-up. */
#include "tests/runner.h"
#include "chain/account.h"
#include "chain/genesis.h"
#include "chain/kinds.h"
#include "chain/ledger.h"
#include "node/mempool.h"
#include "node/runtime.h"

static uint8_t g_auth[64];

static chain_ledger *open_dev(void)
{
    chain_genesis g;
    chain_edpub pub;
    chain_ledger *l = NULL;
    char err[256], db[512];
    chain_genesis_parse(chain_genesis_default, strlen(chain_genesis_default), "genesis.json", &g,
                        err, sizeof err);
    chain_ed_generate(g_auth, &pub);
    chain_genesis_make_dev(&g, &pub, 1767225600000ull);
    snprintf(db, sizeof db, "%s/db", test_tmpdir());
    if (chain_ledger_open(based_runtime(), db, &g, &l, err, sizeof err) != BASED_E_OK)
        abort();
    chain_genesis_release(&g);
    return l;
}

static void transfer(chain_tx *tx, const char *chain, unsigned from, unsigned to,
                     uint64_t amount, uint64_t nonce, uint64_t fee)
{
    uint8_t sk[32], p[CHAIN_TRANSFER_LEN];
    chain_transfer t;
    chain_key_dev(to, sk);
    chain_key_pub(sk, &t.to);
    t.amount = amount;
    chain_key_dev(from, sk);
    chain_transfer_encode(&t, p);
    chain_tx_make(tx, chain, nonce, fee, CHAIN_KIND_TRANSFER, p, sizeof p, sk);
}

static based_err add(node_mempool *m, chain_ledger *l, unsigned from, uint64_t amount,
                     uint64_t nonce, uint64_t fee, const char **why)
{
    chain_tx tx;
    chain_hash h;
    transfer(&tx, "based-devnet", from, 9, amount, nonce, fee);
    based_err rc = node_mempool_add(m, l, tx.raw, tx.raw_len, &h, why);
    chain_tx_release(&tx);
    return rc;
}

TEST(mempool_admission_rules)
{
    chain_ledger *l = open_dev();
    node_mempool *m = node_mempool_new(100, 100);
    const char *why = "";
    chain_tx tx;
    chain_hash h;
    transfer(&tx, "based-devnet", 1, 9, 5, 0, 10000);
    CHECK_EQ_INT(node_mempool_add(m, l, tx.raw, tx.raw_len, &h, &why), BASED_E_OK);
    CHECK_EQ_MEM(h.b, tx.hash.b, 32);
    CHECK_EQ_INT(node_mempool_add(m, l, tx.raw, tx.raw_len, &h, &why), BASED_E_DUPLICATE);
    chain_tx_release(&tx);
    CHECK_EQ_INT(add(m, l, 1, 6, 0, 10000, &why), BASED_E_NONCE_USED);
    CHECK_EQ_STR(why, "nonce");
    CHECK_EQ_INT(add(m, l, 1, 5, 2, 10000, &why), BASED_E_NONCE_GAP);
    CHECK_EQ_INT(add(m, l, 1, 5, 1, 9999, &why), BASED_E_FEE_TOO_LOW);
    CHECK_EQ_STR(why, "fee");
    /* balance counts what is already pending: 1,000,000 BASED in all */
    CHECK_EQ_INT(add(m, l, 1, 999999ull * CHAIN_COIN, 1, 10000, &why), BASED_E_OK);
    CHECK_EQ_INT(add(m, l, 1, CHAIN_COIN, 2, 10000, &why), BASED_E_INSUFFICIENT);
    CHECK_EQ_U64(node_mempool_next_nonce(m, l, &(chain_addr){{0}}), 0);
    transfer(&tx, "other-chain", 2, 9, 5, 0, 10000);
    CHECK_EQ_INT(node_mempool_add(m, l, tx.raw, tx.raw_len, &h, &why), BASED_E_WRONG_CHAIN);
    tx.raw[tx.raw_len - 3] ^= 0x40;
    chain_tx_release(&tx);
    transfer(&tx, "based-devnet", 2, 9, 5, 0, 10000);
    tx.raw[tx.raw_len - 3] ^= 0x40;
    CHECK_EQ_INT(node_mempool_add(m, l, tx.raw, tx.raw_len, &h, &why), BASED_E_BAD_SIGNATURE);
    CHECK_EQ_INT(node_mempool_add(m, l, tx.raw, tx.raw_len - 1, &h, &why), BASED_E_DECODE);
    chain_tx_release(&tx);
    transfer(&tx, "based-devnet", 2, 2, 5, 0, 10000);   /* to itself: admitted, fails in a block */
    chain_tx_release(&tx);
    /* amount + fee overflow */
    CHECK_EQ_INT(add(m, l, 3, UINT64_MAX, 0, 10000, &why), BASED_E_OVERFLOW);
    CHECK_EQ_INT(node_mempool_size(m), 2);
    node_mempool_free(m);
    chain_ledger_free(l);
}

TEST(mempool_eviction_by_fee)
{
    chain_ledger *l = open_dev();
    node_mempool *m = node_mempool_new(3, 100);
    const char *why;
    CHECK_EQ_INT(add(m, l, 1, 1, 0, 20000, &why), BASED_E_OK);
    CHECK_EQ_INT(add(m, l, 2, 1, 0, 10000, &why), BASED_E_OK);
    CHECK_EQ_INT(add(m, l, 3, 1, 0, 30000, &why), BASED_E_OK);
    /* full: a cheaper tx is refused, a dearer one evicts the cheapest tail */
    CHECK_EQ_INT(add(m, l, 4, 1, 0, 10000, &why), BASED_E_MEMPOOL_FULL);
    CHECK_EQ_INT(add(m, l, 4, 1, 0, 15000, &why), BASED_E_OK);
    CHECK_EQ_INT(node_mempool_size(m), 3);
    chain_tx *c[8];
    size_t n = node_mempool_candidates(m, c, 8);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_U64(c[0]->fee, 20000);
    CHECK_EQ_U64(c[1]->fee, 30000);
    CHECK_EQ_U64(c[2]->fee, 15000);
    node_mempool_free(m);
    chain_ledger_free(l);
}

TEST(mempool_after_block)
{
    chain_ledger *l = open_dev();
    node_mempool *m = node_mempool_new(100, 100);
    const char *why;
    char err[256];
    size_t inc;
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(add(m, l, 1, 1, (uint64_t)i, 10000, &why), BASED_E_OK);
    CHECK_EQ_INT(add(m, l, 2, 1, 0, 10000, &why), BASED_E_OK);
    chain_tx *c[8];
    size_t n = node_mempool_candidates(m, c, 2);   /* a block that takes only two */
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(chain_ledger_produce(l, c, n, 0, g_auth, NULL, NULL, &inc, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(inc, 2);
    node_mempool_after_block(m, l);
    CHECK_EQ_INT(node_mempool_size(m), 2);
    uint8_t sk[32];
    chain_addr d1;
    chain_key_dev(1, sk);
    chain_key_pub(sk, &d1);
    CHECK_EQ_U64(node_mempool_next_nonce(m, l, &d1), 3);
    n = node_mempool_candidates(m, c, 8);
    CHECK_EQ_U64(c[0]->nonce, 2);
    /* dropping a tx drops the sender's later ones too */
    CHECK_EQ_INT(add(m, l, 1, 1, 3, 10000, &why), BASED_E_OK);
    node_mempool_drop(m, &c[0]->hash);
    CHECK_EQ_INT(node_mempool_size(m), 1);
    node_mempool_free(m);
    chain_ledger_free(l);
}

const struct test_case test_table[] = {
    { "mempool_admission_rules", test_mempool_admission_rules },
    { "mempool_eviction_by_fee", test_mempool_eviction_by_fee },
    { "mempool_after_block", test_mempool_after_block },
    { NULL, NULL },
};
