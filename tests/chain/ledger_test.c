/* Tests of chain/genesis, chain/ledger and the execution rules. */
#include "tests/runner.h"
#include "chain/account.h"
#include "chain/genesis.h"
#include "chain/kinds.h"
#include "chain/ledger.h"
#include "node/runtime.h"

static void dev_genesis(chain_genesis *g, uint8_t sk[64])
{
    char err[256];
    chain_edpub pub;
    if (chain_genesis_parse(chain_genesis_default, strlen(chain_genesis_default), "genesis.json",
                            g, err, sizeof err) != BASED_E_OK) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    chain_ed_generate(sk, &pub);
    chain_genesis_make_dev(g, &pub, 1767225600000ull);
}

static void dev_addr(unsigned i, chain_addr *a)
{
    uint8_t sk[32];
    chain_key_dev(i, sk);
    chain_key_pub(sk, a);
}

static void make_transfer(chain_tx *tx, unsigned from, const chain_addr *to, uint64_t amount,
                          uint64_t nonce, uint64_t fee)
{
    uint8_t sk[32], p[CHAIN_TRANSFER_LEN];
    chain_transfer t = { *to, amount };
    chain_key_dev(from, sk);
    chain_transfer_encode(&t, p);
    chain_tx_make(tx, "based-devnet", nonce, fee, CHAIN_KIND_TRANSFER, p, sizeof p, sk);
}

TEST(genesis_errors_name_position)
{
    chain_genesis g;
    char err[256];
    const char *t1 = "{\n  \"chain_id\": \"x\",\n  \"genesis_time\": \"2026-01-01T00:00:00Z\",\n"
                     "  \"block_time_ms\": -5,\n  \"authorities\": []\n}\n";
    CHECK_EQ_INT(chain_genesis_parse(t1, strlen(t1), "g.json", &g, err, sizeof err), BASED_E_GENESIS);
    CHECK_EQ_STR(err, "g.json:4:3: \"block_time_ms\" must be an integer from 1 to 3600000");
    const char *t2 = "{\"chain_id\": \"x\", \"genesis_time\": \"2026-01-01T00:00:00Z\",\n"
                     " \"block_time_ms\": 5, \"authorities\": [], \"bogus\": 1}";
    CHECK_EQ_INT(chain_genesis_parse(t2, strlen(t2), "g.json", &g, err, sizeof err), BASED_E_GENESIS);
    CHECK_EQ_STR(err, "g.json:2:41: unknown key \"bogus\"");
    const char *t3 = "{\"chain_id\": \"x\", \"genesis_time\": \"2026-01-01T00:00:00Z\",\n"
                     " \"block_time_ms\": 5, \"authorities\": [],\n \"params\": {\"min_fee\": \"1.0000000001\"}}";
    CHECK_EQ_INT(chain_genesis_parse(t3, strlen(t3), "g.json", &g, err, sizeof err), BASED_E_GENESIS);
    CHECK_EQ_STR(err, "g.json:3:13: \"min_fee\": amount has more than 9 decimals");
    const char *t4 = "{\"chain_id\": \"x\", \"block_time_ms\": 5, \"authorities\": []}";
    CHECK_EQ_INT(chain_genesis_parse(t4, strlen(t4), "g.json", &g, err, sizeof err), BASED_E_GENESIS);
    CHECK_EQ_STR(err, "g.json:1:1: missing required key \"genesis_time\"");
    const char *t5 = "{\"chain_id\": \"x\",\n \"genesis_time\": 5";
    CHECK_EQ_INT(chain_genesis_parse(t5, strlen(t5), "g.json", &g, err, sizeof err), BASED_E_GENESIS);
    CHECK(strncmp(err, "g.json:2:", 9) == 0);
    const char *t6 = "{\"chain_id\": \"x\", \"genesis_time\": \"2026-02-30T00:00:00Z\", "
                     "\"block_time_ms\": 5, \"authorities\": []}";
    CHECK_EQ_INT(chain_genesis_parse(t6, strlen(t6), "g.json", &g, err, sizeof err), BASED_E_GENESIS);
    const char *t7 = "{\"chain_id\": \"x\", \"genesis_time\": \"2026-01-01T00:00:00Z\", "
                     "\"block_time_ms\": 5, \"authorities\": [{\"key\": \"0x12\", \"account\": \"x\"}]}";
    CHECK_EQ_INT(chain_genesis_parse(t7, strlen(t7), "g.json", &g, err, sizeof err), BASED_E_GENESIS);
    CHECK_EQ_STR(err, "g.json:1:96: \"key\" must be an Ed25519 public key: 0x and 64 hex digits");
}

TEST(genesis_default_and_encoding)
{
    chain_genesis g, back;
    uint8_t sk[64];
    chain_wbuf w;
    dev_genesis(&g, sk);
    CHECK_EQ_STR(g.chain_id, "based-devnet");
    CHECK_EQ_INT(g.ss58_prefix, 32323);
    CHECK_EQ_U64(g.block_time_ms, 1000);
    CHECK_EQ_U64(g.nbal, 10);
    CHECK_EQ_U64(g.bal[3].amount, 1000000ull * CHAIN_COIN);
    CHECK_EQ_U64(g.params.min_fee, 10000);
    chain_w_init(&w, 1 << 20);
    chain_genesis_encode(&g, &w);
    CHECK_EQ_INT(chain_genesis_decode(w.p, w.len, &back), BASED_E_OK);
    CHECK_EQ_MEM(back.hash.b, g.hash.b, 32);
    CHECK_EQ_U64(back.nbal, 10);
    CHECK_EQ_INT(chain_genesis_decode(w.p, w.len - 1, &back), BASED_E_DECODE);
    chain_w_free(&w);
    chain_genesis_release(&g);
}

/* The dev overrides: parsed, applied by make_dev, encoded only when set
 * (so a genesis without them hashes as before), errors with line:col. */
TEST(genesis_dev_overrides)
{
    chain_genesis g, back;
    char err[256];
    chain_wbuf w, w2;
    chain_edpub pub;
    uint8_t sk[64];
    CHECK_EQ_INT(chain_genesis_parse(chain_genesis_default, strlen(chain_genesis_default),
                                     "genesis.json", &g, err, sizeof err), BASED_E_OK);
    CHECK_EQ_U64(g.params.tempo, 99);
    CHECK_EQ_U64(g.dev.tempo, 19);
    CHECK_EQ_U64(g.dev.weights_rate_limit, 10);
    CHECK_EQ_U64(g.dev.activity_cutoff, CHAIN_DEV_UNSET);
    chain_ed_generate(sk, &pub);
    chain_genesis_make_dev(&g, &pub, 1767225600000ull);
    CHECK_EQ_U64(g.params.tempo, 19);
    CHECK_EQ_U64(g.params.weights_rate_limit, 10);
    CHECK_EQ_U64(g.params.activity_cutoff, 5000);
    CHECK_EQ_U64(g.params.immunity_blocks, 4096);
    chain_w_init(&w, 1 << 20);
    chain_w_init(&w2, 1 << 20);
    chain_genesis_encode(&g, &w);
    CHECK_EQ_INT(chain_genesis_decode(w.p, w.len, &back), BASED_E_OK);
    CHECK_EQ_U64(back.dev.tempo, 19);
    CHECK_EQ_U64(back.dev.immunity_blocks, CHAIN_DEV_UNSET);
    CHECK_EQ_U64(back.params.tempo, 19);
    chain_genesis_encode(&back, &w2);
    CHECK_EQ_U64(w2.len, w.len);
    CHECK_EQ_MEM(w2.p, w.p, w.len);
    chain_genesis_release(&back);
    /* a bad override count in the trailer (count byte at len - 33) */
    w.p[w.len - 33] = 3;
    CHECK_EQ_INT(chain_genesis_decode(w.p, w.len, &back), BASED_E_DECODE);
    chain_genesis_release(&g);
    /* no overrides: no trailer; decodes as unset, the same hash */
    const char *t0 = "{\"chain_id\": \"x\", \"genesis_time\": \"2026-01-01T00:00:00Z\", "
                     "\"block_time_ms\": 5, \"authorities\": [], \"dev\": {\"accounts\": 2}}";
    CHECK_EQ_INT(chain_genesis_parse(t0, strlen(t0), "g.json", &g, err, sizeof err), BASED_E_OK);
    chain_genesis_make_dev(&g, &pub, 1767225600000ull);
    CHECK_EQ_U64(g.params.tempo, 99);
    chain_w_reset(&w2);
    chain_genesis_encode(&g, &w2);
    CHECK_EQ_INT(chain_genesis_decode(w2.p, w2.len, &back), BASED_E_OK);
    CHECK_EQ_U64(back.dev.tempo, CHAIN_DEV_UNSET);
    CHECK_EQ_U64(back.dev.weights_rate_limit, CHAIN_DEV_UNSET);
    CHECK_EQ_MEM(back.hash.b, g.hash.b, 32);
    chain_genesis_release(&back);
    chain_genesis_release(&g);
    /* every override at once; 0 is a valid tempo and rate limit */
    const char *t1 = "{\"chain_id\": \"x\", \"genesis_time\": \"2026-01-01T00:00:00Z\", "
                     "\"block_time_ms\": 5, \"authorities\": [], \"dev\": {\"tempo\": 0, "
                     "\"weights_rate_limit\": 0, \"activity_cutoff\": 7, \"immunity_blocks\": 3}}";
    CHECK_EQ_INT(chain_genesis_parse(t1, strlen(t1), "g.json", &g, err, sizeof err), BASED_E_OK);
    chain_genesis_make_dev(&g, &pub, 1767225600000ull);
    CHECK_EQ_U64(g.params.tempo, 0);
    CHECK_EQ_U64(g.params.weights_rate_limit, 0);
    CHECK_EQ_U64(g.params.activity_cutoff, 7);
    CHECK_EQ_U64(g.params.immunity_blocks, 3);
    chain_genesis_release(&g);
    /* out of range and unknown keys, with line and column */
    const char *t2 = "{\"chain_id\": \"x\", \"genesis_time\": \"2026-01-01T00:00:00Z\",\n"
                     " \"block_time_ms\": 5, \"authorities\": [],\n \"dev\": {\"tempo\": 65536}}";
    CHECK_EQ_INT(chain_genesis_parse(t2, strlen(t2), "g.json", &g, err, sizeof err), BASED_E_GENESIS);
    CHECK_EQ_STR(err, "g.json:3:10: \"tempo\" must be an integer from 0 to 65535");
    const char *t3 = "{\"chain_id\": \"x\", \"genesis_time\": \"2026-01-01T00:00:00Z\",\n"
                     " \"block_time_ms\": 5, \"authorities\": [],\n \"dev\": {\"activity_cutoff\": 0}}";
    CHECK_EQ_INT(chain_genesis_parse(t3, strlen(t3), "g.json", &g, err, sizeof err), BASED_E_GENESIS);
    CHECK_EQ_STR(err, "g.json:3:10: \"activity_cutoff\" must be an integer from 1 to 4294967295");
    const char *t4 = "{\"chain_id\": \"x\", \"genesis_time\": \"2026-01-01T00:00:00Z\",\n"
                     " \"block_time_ms\": 5, \"authorities\": [],\n \"dev\": {\"tempo\": 9,\n"
                     "  \"kappa\": 5}}";
    CHECK_EQ_INT(chain_genesis_parse(t4, strlen(t4), "g.json", &g, err, sizeof err), BASED_E_GENESIS);
    CHECK_EQ_STR(err, "g.json:4:3: unknown key \"kappa\"");
    chain_w_free(&w);
    chain_w_free(&w2);
}

TEST(ledger_blocks_transfers_verify)
{
    chain_genesis g;
    uint8_t sk[64];
    chain_ledger *l;
    char err[512], db[512], tmp[512];
    chain_addr to, d0, d1;
    dev_genesis(&g, sk);
    snprintf(db, sizeof db, "%s/db", test_tmpdir());
    snprintf(tmp, sizeof tmp, "%s/verify", test_tmpdir());
    CHECK_EQ_INT(chain_ledger_open(based_runtime(), db, &g, &l, err, sizeof err), BASED_E_OK);
    CHECK_EQ_U64(chain_ledger_head(l).height, 0);
    dev_addr(5, &to);
    dev_addr(0, &d0);
    dev_addr(1, &d1);
    chain_tx txs[4];
    make_transfer(&txs[0], 1, &to, 12500000000ull, 0, 10000);
    make_transfer(&txs[1], 1, &to, 1, 1, 10000);
    make_transfer(&txs[2], 1, &to, 1, 5, 10000);                  /* gap: skipped */
    make_transfer(&txs[3], 2, &to, 2000000ull * CHAIN_COIN, 0, 10000); /* too much: skipped */
    chain_tx *c[4] = { &txs[0], &txs[1], &txs[2], &txs[3] };
    chain_skip skipped[4];
    size_t inc = 0, nsk = 0;
    CHECK_EQ_INT(chain_ledger_produce(l, c, 4, 1767225601000ull, sk, skipped, &nsk, &inc, err,
                                      sizeof err), BASED_E_OK);
    CHECK_EQ_INT(inc, 2);
    CHECK_EQ_INT(nsk, 2);
    CHECK(skipped[0].tx == &txs[2]);
    CHECK_EQ_INT(skipped[0].err, BASED_E_NONCE_GAP);
    CHECK(skipped[1].tx == &txs[3]);
    CHECK_EQ_INT(skipped[1].err, BASED_E_INSUFFICIENT);
    chain_view *v = chain_ledger_view(l);
    chain_account a;
    chain_account_get(v, &to, &a);
    CHECK_EQ_U64(a.balance, 1000000ull * CHAIN_COIN + 12500000001ull);
    chain_account_get(v, &d1, &a);
    CHECK_EQ_U64(a.balance, 1000000ull * CHAIN_COIN - 12500000001ull - 20000);
    CHECK_EQ_U64(a.nonce, 2);
    chain_account_get(v, &d0, &a);   /* dev0 is the dev authority's fee account */
    CHECK_EQ_U64(a.balance, 1000000ull * CHAIN_COIN + 20000);
    chain_view_free(v);
    uint64_t held, expected;
    CHECK_EQ_INT(chain_ledger_audit(l, &held, &expected), BASED_E_OK);
    CHECK_EQ_U64(held, 10000000ull * CHAIN_COIN);
    /* receipts and index */
    uint64_t h;
    uint32_t idx;
    json_t *r;
    CHECK_EQ_INT(chain_ledger_tx(l, &txs[1].hash, &h, &idx, &r), BASED_E_OK);
    CHECK_EQ_U64(h, 1);
    CHECK_EQ_INT(idx, 1);
    CHECK_EQ_STR(json_string_value(json_object_get(r, "fee")), "0.00001");
    json_decref(r);
    CHECK_EQ_INT(chain_ledger_tx(l, &txs[2].hash, &h, &idx, &r), BASED_E_NOT_FOUND);
    /* a few empty blocks, then replay */
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(chain_ledger_produce(l, NULL, 0, 0, sk, NULL, NULL, &inc, err, sizeof err),
                     BASED_E_OK);
    CHECK_EQ_U64(chain_ledger_head(l).height, 4);
    chain_block b;
    CHECK_EQ_INT(chain_ledger_block(l, 3, &b), BASED_E_OK);
    CHECK_EQ_INT(b.h.ncommit, 1);   /* the commit of block 2 */
    chain_block_release(&b);
    chain_ledger_free(l);
    CHECK_EQ_INT(chain_ledger_verify(based_runtime(), db, tmp, NULL, NULL, err, sizeof err), BASED_E_OK);
    /* the same database refuses another genesis */
    chain_genesis g2;
    uint8_t sk2[64];
    dev_genesis(&g2, sk2);
    CHECK_EQ_INT(chain_ledger_open(based_runtime(), db, &g2, &l, err, sizeof err), BASED_E_GENESIS);
    /* tampering with a balance outside the node is found by verify */
    CHECK_EQ_INT(chain_ledger_open(based_runtime(), db, NULL, &l, err, sizeof err), BASED_E_OK);
    chain_view *tv = chain_ledger_view(l);
    chain_credit(tv, &to, 1);
    chain_batch *bt = chain_batch_new();
    chain_hash zero, root;
    memset(&zero, 0, sizeof zero);
    chain_view_commit(tv, &zero, &root, bt);
    CHECK_EQ_INT(chain_batch_write(chain_ledger_store(l), bt, true, err, sizeof err), BASED_E_OK);
    chain_batch_free(bt);
    chain_view_free(tv);
    CHECK_EQ_INT(chain_ledger_audit(l, &held, &expected), BASED_E_STATE_MISMATCH);
    chain_ledger_free(l);
    CHECK_EQ_INT(chain_ledger_verify(based_runtime(), db, tmp, NULL, NULL, err, sizeof err), BASED_E_STATE_MISMATCH);
    for (int i = 0; i < 4; i++)
        chain_tx_release(&txs[i]);
    chain_genesis_release(&g);
    chain_genesis_release(&g2);
}

TEST(ledger_apply_rejects_bad_blocks)
{
    chain_genesis g;
    uint8_t sk[64];
    chain_ledger *a, *b;
    char err[512], db1[512], db2[512];
    chain_addr to;
    size_t inc;
    dev_genesis(&g, sk);
    snprintf(db1, sizeof db1, "%s/a", test_tmpdir());
    snprintf(db2, sizeof db2, "%s/b", test_tmpdir());
    CHECK_EQ_INT(chain_ledger_open(based_runtime(), db1, &g, &a, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_ledger_open(based_runtime(), db2, &g, &b, err, sizeof err), BASED_E_OK);
    dev_addr(7, &to);
    chain_tx tx;
    make_transfer(&tx, 3, &to, 5, 0, 10000);
    chain_tx *c[1] = { &tx };
    CHECK_EQ_INT(chain_ledger_produce(a, c, 1, 0, sk, NULL, NULL, &inc, err, sizeof err), BASED_E_OK);
    chain_block blk;
    chain_commit_sig cs[CHAIN_MAX_AUTHORITIES];
    size_t ncs;
    CHECK_EQ_INT(chain_ledger_block(a, 1, &blk), BASED_E_OK);
    CHECK_EQ_INT(chain_ledger_commit(a, 1, cs, &ncs), BASED_E_OK);
    /* a wrong state root is refused and leaves b untouched */
    chain_block bad = blk;
    bad.h.state_root.b[0] ^= 1;
    bad.hash = chain_header_hash(&bad.h);
    CHECK(chain_ledger_apply(b, &bad, cs, ncs, err, sizeof err) != BASED_E_OK);
    CHECK_EQ_U64(chain_ledger_head(b).height, 0);
    /* a commit that does not sign this block is refused */
    CHECK_EQ_INT(chain_ledger_apply(b, &blk, cs, 0, err, sizeof err), BASED_E_BAD_BLOCK);
    /* the real block applies and gives the same head */
    CHECK_EQ_INT(chain_ledger_apply(b, &blk, cs, ncs, err, sizeof err), BASED_E_OK);
    CHECK_EQ_MEM(chain_ledger_head(b).state_root.b, chain_ledger_head(a).state_root.b, 32);
    /* the same block again is not the next height */
    CHECK_EQ_INT(chain_ledger_apply(b, &blk, cs, ncs, err, sizeof err), BASED_E_BAD_BLOCK);
    chain_block_release(&blk);
    chain_tx_release(&tx);
    chain_ledger_free(a);
    chain_ledger_free(b);
    chain_genesis_release(&g);
}
