/* Tests of node/abci_app.c: every ABCI++ request answered in-process, with
 * the exact values CometBFT would read, on a two-authority network genesis
 * (tests/abciapp/fixture.h). */
#include <sodium.h>

#include "tests/runner.h"
#include "node/runtime.h"
#include "tests/abciapp/fixture.h"
#include "chain/account.h"

#define ACCEPT ABCI__RESPONSE_PROCESS_PROPOSAL__PROPOSAL_STATUS__ACCEPT
#define REJECT ABCI__RESPONSE_PROCESS_PROPOSAL__PROPOSAL_STATUS__REJECT

static bool bin_eq(const ProtobufCBinaryData *b, const void *p, size_t n)
{
    return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

static fx_blk blk_at(int64_t height, int64_t secs, int proposer, const ProtobufCBinaryData *txs,
                     size_t n)
{
    fx_blk b;
    memset(&b, 0, sizeof b);
    b.height = height;
    b.secs = secs;
    b.proposer = proposer;
    b.txs = txs;
    b.ntx = n;
    b.max_tx_bytes = 1 << 20;
    return b;
}

/* dev1 and dev2 ordered by their account key: lo sorts first. */
static void senders(unsigned *lo, unsigned *hi)
{
    chain_addr a, b;
    fx_dev(1, &a);
    fx_dev(2, &b);
    *lo = memcmp(a.b, b.b, 32) < 0 ? 1 : 2;
    *hi = 3 - *lo;
}

/* ---------------- Info and InitChain ---------------- */

static void val_init(Abci__ValidatorUpdate *v, Abci__PublicKey *pk, const uint8_t *key,
                     int64_t power)
{
    abci__validator_update__init(v);
    abci__public_key__init(pk);
    pk->sum_case = ABCI__PUBLIC_KEY__SUM_ED25519;
    pk->ed25519.data = (uint8_t *)(uintptr_t)key;
    pk->ed25519.len = 32;
    v->pub_key = pk;
    v->power = power;
}

static int init_chain(fx *f, const char *chain_id, Abci__ValidatorUpdate **v, size_t n,
                      int64_t initial_height, Abci__ResponseInitChain **out)
{
    Abci__Request rq;
    Abci__RequestInitChain q;
    Abci__Response rs;
    Abci__Timestamp ts;
    abci__request__init(&rq);
    abci__request_init_chain__init(&q);
    abci__timestamp__init(&ts);
    ts.seconds = FX_T0_S;
    q.time = &ts;
    q.chain_id = (char *)(uintptr_t)chain_id;
    q.validators = v;
    q.n_validators = n;
    q.initial_height = initial_height;
    rq.value_case = ABCI__REQUEST__VALUE_INIT_CHAIN;
    rq.init_chain = &q;
    int rc = fx_call(f, &rq, &rs);
    *out = rc == 0 && rs.value_case == ABCI__RESPONSE__VALUE_INIT_CHAIN && fx_packs(&rs)
               ? rs.init_chain : NULL;
    return rc;
}

TEST(abciapp_info_and_init_chain)
{
    fx f;
    fx_open(&f, "n0");
    chain_head h = chain_ledger_head(f.l);
    Abci__ResponseInfo *info = fx_info(&f);
    CHECK(info != NULL);
    CHECK_EQ_INT(info->last_block_height, 0);
    CHECK(bin_eq(&info->last_block_app_hash, h.state_root.b, 32));
    CHECK_EQ_STR(info->data, "based");
    CHECK_EQ_U64(info->app_version, 1);
    CHECK(info->version[0] != '\0');
    Abci__ValidatorUpdate v0, v1, v0p, vx, v0dup, vsecp, vnokey;
    Abci__PublicKey k0, k1, k0p, kx, k0d, ks;
    uint8_t other[32];
    memset(other, 0x77, sizeof other);
    val_init(&v0, &k0, f.ask[0] + 32, 10);
    val_init(&v1, &k1, f.ask[1] + 32, 20);
    val_init(&v0p, &k0p, f.ask[0] + 32, 11);
    val_init(&vx, &kx, other, 10);
    val_init(&v0dup, &k0d, f.ask[0] + 32, 10);
    val_init(&vsecp, &ks, f.ask[1] + 32, 20);
    ks.sum_case = ABCI__PUBLIC_KEY__SUM_SECP256K1;
    abci__validator_update__init(&vnokey);
    vnokey.power = 20;
    Abci__ResponseInitChain *r = NULL;
    Abci__ValidatorUpdate *good[2] = { &v1, &v0 };     /* any order */
    CHECK_EQ_INT(init_chain(&f, "wrong-chain", good, 2, 1, &r), -1);
    CHECK_EQ_STR(f.err, "InitChain: CometBFT's chain id \"wrong-chain\" is not genesis.json's "
                        "\"based-devnet\"");
    Abci__ValidatorUpdate *unknown[2] = { &v0, &vx };
    CHECK_EQ_INT(init_chain(&f, "based-devnet", unknown, 2, 1, &r), -1);
    CHECK_EQ_STR(f.err, "InitChain: CometBFT's validator 1 (key and power) is not an authority "
                        "of genesis.json (or is listed twice)");
    Abci__ValidatorUpdate *power[2] = { &v0p, &v1 };
    CHECK_EQ_INT(init_chain(&f, "based-devnet", power, 2, 1, &r), -1);
    CHECK(strstr(f.err, "validator 0 ") != NULL);
    CHECK_EQ_INT(init_chain(&f, "based-devnet", good, 1, 1, &r), -1);
    CHECK_EQ_STR(f.err, "InitChain: CometBFT's genesis lists 1 validators, genesis.json 2 "
                        "authorities");
    Abci__ValidatorUpdate *dup[2] = { &v0, &v0dup };   /* authority 1 missing */
    CHECK_EQ_INT(init_chain(&f, "based-devnet", dup, 2, 1, &r), -1);
    CHECK(strstr(f.err, "validator 1") != NULL);
    Abci__ValidatorUpdate *secp[2] = { &v0, &vsecp };
    CHECK_EQ_INT(init_chain(&f, "based-devnet", secp, 2, 1, &r), -1);
    CHECK(strstr(f.err, "validator 1") != NULL);
    Abci__ValidatorUpdate *nokey[2] = { &vnokey, &v0 };
    CHECK_EQ_INT(init_chain(&f, "based-devnet", nokey, 2, 1, &r), -1);
    CHECK(strstr(f.err, "validator 0") != NULL);
    CHECK_EQ_INT(init_chain(&f, "based-devnet", good, 2, 5, &r), -1);
    CHECK(strstr(f.err, "initial_height 5") != NULL);
    CHECK_EQ_INT(init_chain(&f, "based-devnet", good, 2, 1, &r), 0);
    CHECK(r != NULL);
    CHECK(bin_eq(&r->app_hash, h.state_root.b, 32));
    CHECK_EQ_INT(r->n_validators, 0);    /* CometBFT's genesis validators stand */
    CHECK_EQ_INT(init_chain(&f, "based-devnet", good, 2, 0, &r), 0);   /* 0 means 1 */
    CHECK_EQ_U64(chain_ledger_head(f.l).height, 0);
    fx_close(&f);
}

/* A dev chain's database is refused. */
TEST(abciapp_refuses_dev_database)
{
    chain_genesis g;
    uint8_t sk[64];
    chain_edpub pub;
    chain_ledger *l;
    node_abci_app *app = NULL;
    char err[512], db[512];
    size_t inc;
    CHECK_EQ_INT(chain_genesis_parse(chain_genesis_default, strlen(chain_genesis_default),
                                     "genesis.json", &g, err, sizeof err), BASED_E_OK);
    chain_ed_generate(sk, &pub);
    chain_genesis_make_dev(&g, &pub, FX_T0);
    snprintf(db, sizeof db, "%s/dev", test_tmpdir());
    CHECK_EQ_INT(chain_ledger_open(based_runtime(), db, &g, &l, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_ledger_produce(l, NULL, 0, 0, sk, NULL, NULL, &inc, err, sizeof err),
                 BASED_E_OK);
    err[0] = '\0';
    CHECK_EQ_INT(node_abci_app_new(l, &app, err, sizeof err), BASED_E_GENESIS);
    CHECK(app == NULL);
    CHECK(strstr(err, "dev (--dev) chain") != NULL);
    chain_ledger_free(l);
    chain_genesis_release(&g);
}

/* ---------------- CheckTx ---------------- */

TEST(abciapp_check_tx)
{
    fx f;
    chain_addr d1;
    chain_tx t0, t1, t2, t3;
    fx_open(&f, "n0");
    fx_dev(1, &d1);
    fx_transfer(&t0, 1, 6, 1000, 0);
    fx_transfer(&t1, 1, 6, 1000, 1);
    fx_transfer(&t2, 1, 6, 1000, 2);
    fx_transfer(&t3, 1, 6, 1000, 3);
    Abci__ResponseCheckTx *r = fx_check(&f, t0.raw, t0.raw_len, false);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->code, 0);
    CHECK_EQ_INT(r->gas_wanted, 1);
    r = fx_check(&f, t1.raw, t1.raw_len, false);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->code, 0);
    CHECK_EQ_U64(node_abci_app_nonce(f.app, &d1), 2);
    CHECK(node_abci_app_admitted(f.app, &t0.hash));
    CHECK(node_abci_app_admitted(f.app, &t1.hash));
    /* a gap */
    r = fx_check(&f, t3.raw, t3.raw_len, false);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->code, BASED_E_NONCE_GAP);
    CHECK_EQ_STR(r->info, "NONCE_GAP");
    CHECK_EQ_STR(r->codespace, "based");
    CHECK(strncmp(r->log, "nonce is ahead of the account's next nonce (", 44) == 0);
    CHECK(!node_abci_app_admitted(f.app, &t3.hash));
    /* a replay */
    r = fx_check(&f, t0.raw, t0.raw_len, false);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->code, BASED_E_NONCE_USED);
    CHECK_EQ_STR(r->info, "NONCE_USED");
    /* garbage, empty, oversize */
    r = fx_check(&f, "hello", 5, false);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->code, BASED_E_DECODE);
    CHECK_EQ_STR(r->info, "DECODE");
    CHECK(strncmp(r->log, "malformed encoding (", 20) == 0);
    r = fx_check(&f, NULL, 0, false);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->code, BASED_E_DECODE);
    uint8_t *big = calloc(1, CHAIN_TX_MAX + 1);
    CHECK(big != NULL);
    memcpy(big, t2.raw, t2.raw_len);
    r = fx_check(&f, big, CHAIN_TX_MAX + 1, false);
    free(big);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->code, BASED_E_TX_TOO_LARGE);
    CHECK_EQ_STR(r->info, "TX_TOO_LARGE");
    /* a bad signature */
    chain_tx bad;
    fx_badsig(&t2, &bad);
    r = fx_check(&f, bad.raw, bad.raw_len, false);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->code, BASED_E_BAD_SIGNATURE);
    chain_tx_release(&bad);
    /* a stateful failure: more than dev3 holds */
    chain_tx rich;
    fx_transfer(&rich, 3, 6, FX_BALANCE, 0);
    r = fx_check(&f, rich.raw, rich.raw_len, false);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->code, BASED_E_INSUFFICIENT);
    chain_tx_release(&rich);
    uint64_t blocks, rprops, rtxs;
    node_abci_app_counters(f.app, &blocks, &rprops, &rtxs);
    CHECK_EQ_U64(rtxs, 7);
    CHECK_EQ_U64(blocks, 0);
    /* precheck: t2 would pass and is not kept */
    const char *why = "";
    CHECK_EQ_INT(node_abci_app_precheck(f.app, &t2, &why), BASED_E_OK);
    CHECK_EQ_U64(node_abci_app_nonce(f.app, &d1), 2);
    CHECK_EQ_INT(node_abci_app_precheck(f.app, &t3, &why), BASED_E_NONCE_GAP);
    r = fx_check(&f, t2.raw, t2.raw_len, false);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->code, 0);
    CHECK_EQ_U64(node_abci_app_nonce(f.app, &d1), 3);
    /* nothing reached the ledger */
    CHECK_EQ_U64(chain_ledger_head(f.l).height, 0);
    chain_tx_release(&t0);
    chain_tx_release(&t1);
    chain_tx_release(&t2);
    chain_tx_release(&t3);
    fx_close(&f);
}

/* ---------------- PrepareProposal ---------------- */

static size_t proposal_size(const ProtobufCBinaryData *txs, size_t n)
{
    Abci__ResponsePrepareProposal r;
    abci__response_prepare_proposal__init(&r);
    r.txs = (ProtobufCBinaryData *)(uintptr_t)txs;
    r.n_txs = n;
    return abci__response_prepare_proposal__get_packed_size(&r);
}

TEST(abciapp_prepare_orders_and_caps_bytes)
{
    fx f;
    unsigned lo, hi;
    senders(&lo, &hi);
    fx_open(&f, "n0");
    chain_tx l0, l1, l2, h0, h1;
    fx_transfer(&l0, lo, 6, 10, 0);
    fx_transfer(&l1, lo, 6, 11, 1);
    fx_transfer(&l2, lo, 6, 12, 2);
    fx_transfer(&h0, hi, 6, 20, 0);
    fx_transfer(&h1, hi, 6, 21, 1);
    ProtobufCBinaryData in[5] = { fx_bin(&h1), fx_bin(&l2), fx_bin(&l0), fx_bin(&h0),
                                  fx_bin(&l1) };
    const chain_tx *want[5] = { &l0, &l1, &l2, &h0, &h1 };
    ProtobufCBinaryData sorted[5];
    for (int i = 0; i < 5; i++)
        sorted[i] = fx_bin(want[i]);
    fx_blk b = blk_at(1, FX_T0_S + 1, 0, in, 5);
    Abci__ResponsePrepareProposal *r = fx_prepare(&f, &b);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->n_txs, 5);
    for (int i = 0; i < 5; i++)
        CHECK(bin_eq(&r->txs[i], want[i]->raw, want[i]->raw_len));
    /* the byte budget counts each tx as protobuf does (tag, length, bytes) */
    size_t s3 = proposal_size(sorted, 3);
    CHECK_EQ_U64(s3, 3 * (1 + 2 + l0.raw_len));
    b.max_tx_bytes = (int64_t)s3;
    r = fx_prepare(&f, &b);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->n_txs, 3);
    CHECK(bin_eq(&r->txs[2], l2.raw, l2.raw_len));
    CHECK(proposal_size(r->txs, r->n_txs) <= s3);
    b.max_tx_bytes = (int64_t)s3 - 1;
    r = fx_prepare(&f, &b);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->n_txs, 2);
    CHECK(bin_eq(&r->txs[1], l1.raw, l1.raw_len));
    b.max_tx_bytes = (int64_t)l0.raw_len;     /* smaller than any tx with its framing */
    r = fx_prepare(&f, &b);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->n_txs, 0);
    /* the prepared list is accepted, finalised with every tx included */
    b.max_tx_bytes = 1 << 20;
    r = fx_prepare(&f, &b);
    CHECK(r != NULL && r->n_txs == 5);
    fx_blk pb = blk_at(1, FX_T0_S + 1, 0, r->txs, r->n_txs);
    CHECK_EQ_INT(fx_process(&f, &pb), ACCEPT);
    Abci__ResponseFinalizeBlock *fr = fx_finalize(&f, &pb);
    CHECK(fr != NULL);
    CHECK_EQ_INT(fr->n_tx_results, 5);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(fr->tx_results[i]->code, 0);
    CHECK_EQ_INT(fx_commit(&f), 0);
    chain_block blk;
    CHECK_EQ_INT(chain_ledger_block(f.l, 1, &blk), BASED_E_OK);
    CHECK_EQ_INT(blk.ntx, 5);
    CHECK_EQ_MEM(blk.txs[3].hash.b, h0.hash.b, 32);
    chain_block_release(&blk);
    chain_tx *all[] = { &l0, &l1, &l2, &h0, &h1 };
    for (size_t i = 0; i < 5; i++)
        chain_tx_release(all[i]);
    fx_close(&f);
}

/* Failing txs are left out of a proposal; Process and Finalize of it then
 * report every tx as included, with the same app hash a node that never
 * saw the proposal computes. */
TEST(abciapp_prepare_drops_failing_txs)
{
    fx f, g;
    unsigned lo, hi;
    senders(&lo, &hi);
    fx_open(&f, "n0");
    fx_open(&g, "n1");
    chain_tx l0, lrich, l5, h0, hbad;
    fx_transfer(&l0, lo, 6, 10, 0);
    fx_transfer(&lrich, lo, 6, 2 * FX_BALANCE, 0);    /* insufficient; sorts before l0 */
    fx_transfer(&l5, lo, 6, 10, 5);                   /* nonce gap */
    fx_transfer(&h0, hi, 6, 20, 0);
    fx_badsig(&h0, &hbad);                            /* bad signature */
    uint8_t *big = calloc(1, CHAIN_TX_MAX + 1);
    CHECK(big != NULL);
    ProtobufCBinaryData in[7] = { fx_bin(&lrich), fx_bin(&hbad), fx_bin(&l5), fx_bin(&l0),
                                  { 3, (uint8_t *)(uintptr_t)"xyz" }, fx_bin(&h0),
                                  { CHAIN_TX_MAX + 1, big } };
    fx_blk b = blk_at(1, FX_T0_S + 1, 1, in, 7);
    Abci__ResponsePrepareProposal *r = fx_prepare(&f, &b);
    free(big);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->n_txs, 2);
    CHECK(bin_eq(&r->txs[0], l0.raw, l0.raw_len));
    CHECK(bin_eq(&r->txs[1], h0.raw, h0.raw_len));
    fx_blk pb = blk_at(1, FX_T0_S + 1, 1, r->txs, r->n_txs);
    CHECK_EQ_INT(fx_process(&f, &pb), ACCEPT);
    Abci__ResponseFinalizeBlock *fr = fx_finalize(&f, &pb);
    CHECK(fr != NULL);
    CHECK_EQ_INT(fr->n_tx_results, 2);
    CHECK_EQ_INT(fr->tx_results[0]->code, 0);
    CHECK_EQ_INT(fr->tx_results[1]->code, 0);
    /* the other node, cold */
    Abci__ResponseFinalizeBlock *gr = fx_finalize(&g, &pb);
    CHECK(gr != NULL);
    CHECK_EQ_INT(gr->tx_results[0]->code, 0);
    CHECK_EQ_INT(gr->tx_results[1]->code, 0);
    CHECK(bin_eq(&fr->app_hash, gr->app_hash.data, gr->app_hash.len));
    CHECK_EQ_INT(fx_commit(&f), 0);
    CHECK_EQ_INT(fx_commit(&g), 0);
    CHECK_EQ_MEM(chain_ledger_head(f.l).hash.b, chain_ledger_head(g.l).hash.b, 32);
    CHECK_EQ_MEM(chain_ledger_head(f.l).state_root.b, fr->app_hash.data, 32);
    chain_block blk;
    CHECK_EQ_INT(chain_ledger_block(f.l, 1, &blk), BASED_E_OK);
    CHECK_EQ_INT(blk.ntx, 2);
    chain_block_release(&blk);
    chain_tx *all[] = { &l0, &lrich, &l5, &h0, &hbad };
    for (size_t i = 0; i < BASED_ARRAY_LEN(all); i++)
        chain_tx_release(all[i]);
    fx_close(&f);
    fx_close(&g);
}

/* ---------------- ProcessProposal ---------------- */

TEST(abciapp_process_rejects)
{
    fx f;
    unsigned lo, hi;
    senders(&lo, &hi);
    fx_open(&f, "n0");
    chain_tx l0, l2, h0, hbad, wrong;
    fx_transfer(&l0, lo, 6, 10, 0);
    fx_transfer(&l2, lo, 6, 10, 2);
    fx_transfer(&h0, hi, 6, 20, 0);
    fx_badsig(&h0, &hbad);
    {
        uint8_t k[32], pl[CHAIN_TRANSFER_LEN];
        chain_transfer tr;
        fx_dev(6, &tr.to);
        tr.amount = 5;
        chain_key_dev(hi, k);
        chain_transfer_encode(&tr, pl);
        chain_tx_make(&wrong, "other-chain", 0, 10000, CHAIN_KIND_TRANSFER, pl, sizeof pl, k);
    }
    uint8_t *big = calloc(1, CHAIN_TX_MAX + 1);
    CHECK(big != NULL);
    ProtobufCBinaryData good[2] = { fx_bin(&l0), fx_bin(&h0) };
    ProtobufCBinaryData sig[2] = { fx_bin(&l0), fx_bin(&hbad) };
    ProtobufCBinaryData junk[2] = { fx_bin(&l0), { 4, (uint8_t *)(uintptr_t)"junk" } };
    ProtobufCBinaryData gap[2] = { fx_bin(&l0), fx_bin(&l2) };
    ProtobufCBinaryData chain[2] = { fx_bin(&l0), fx_bin(&wrong) };
    ProtobufCBinaryData large[2] = { fx_bin(&l0), { CHAIN_TX_MAX + 1, big } };
    fx_blk b = blk_at(1, FX_T0_S + 1, 0, good, 2);
    CHECK_EQ_INT(fx_process(&f, &b), ACCEPT);
    const ProtobufCBinaryData *bad[5] = { sig, junk, gap, chain, large };
    for (int i = 0; i < 5; i++) {
        b.txs = bad[i];
        CHECK_EQ_INT(fx_process(&f, &b), REJECT);
    }
    b.txs = good;
    b.proposer = -1;      /* not a validator */
    CHECK_EQ_INT(fx_process(&f, &b), REJECT);
    b.proposer = -2;      /* not an address */
    CHECK_EQ_INT(fx_process(&f, &b), REJECT);
    b.proposer = 1;
    b.height = 2;         /* not the next height */
    CHECK_EQ_INT(fx_process(&f, &b), REJECT);
    b.height = 1;
    CHECK_EQ_INT(fx_process(&f, &b), ACCEPT);
    uint64_t blocks, rprops, rtxs;
    node_abci_app_counters(f.app, &blocks, &rprops, &rtxs);
    CHECK_EQ_U64(rprops, 8);
    CHECK_EQ_U64(chain_ledger_head(f.l).height, 0);
    /* PrepareProposal as an unknown proposer is an error, not a crash */
    b.proposer = -1;
    CHECK(fx_prepare(&f, &b) == NULL);
    CHECK(strstr(f.err, "proposer") != NULL);
    free(big);
    chain_tx *all[] = { &l0, &l2, &h0, &hbad, &wrong };
    for (size_t i = 0; i < BASED_ARRAY_LEN(all); i++)
        chain_tx_release(all[i]);
    fx_close(&f);
}

/* ---------------- FinalizeBlock, Commit, Info, restart ---------------- */

TEST(abciapp_finalize_commit_restart)
{
    fx f, g;
    char tmp[512];
    chain_tx t0, t1, t2, t3;
    chain_addr d1;
    fx_dev(1, &d1);
    fx_open(&f, "n0");
    fx_open(&g, "n1");
    fx_transfer(&t0, 1, 6, 1000, 0);
    fx_transfer(&t1, 1, 6, 2000, 1);
    fx_transfer(&t2, 1, 6, 3000, 2);
    fx_transfer(&t3, 1, 6, 4000, 3);
    CHECK_EQ_INT(fx_check(&f, t0.raw, t0.raw_len, false)->code, 0);
    CHECK_EQ_INT(fx_check(&f, t1.raw, t1.raw_len, false)->code, 0);
    ProtobufCBinaryData txs[4] = { fx_bin(&t0), { 3, (uint8_t *)(uintptr_t)"bad" }, fx_bin(&t1),
                                   fx_bin(&t3) };
    fx_blk b = blk_at(1, FX_T0_S + 1, 1, txs, 4);
    b.nanos = 250000000;
    Abci__ResponseFinalizeBlock *r = fx_finalize(&f, &b);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->n_tx_results, 4);
    CHECK_EQ_INT(r->tx_results[0]->code, 0);
    CHECK_EQ_INT(r->tx_results[1]->code, BASED_E_DECODE);
    CHECK_EQ_STR(r->tx_results[1]->log, "transaction does not decode");
    CHECK_EQ_INT(r->tx_results[2]->code, 0);
    CHECK_EQ_INT(r->tx_results[3]->code, BASED_E_NONCE_GAP);
    CHECK(strncmp(r->tx_results[3]->log, "nonce is ahead", 14) == 0);
    CHECK_EQ_STR(r->tx_results[3]->codespace, "based");
    CHECK_EQ_INT(r->app_hash.len, 32);
    uint8_t app_hash[32];
    memcpy(app_hash, r->app_hash.data, 32);
    /* nothing is written before Commit */
    CHECK_EQ_U64(chain_ledger_head(f.l).height, 0);
    Abci__ResponseInfo *info = fx_info(&f);
    CHECK(info != NULL);
    CHECK_EQ_INT(info->last_block_height, 0);
    CHECK_EQ_INT(fx_commit(&f), 0);
    chain_head h = chain_ledger_head(f.l);
    CHECK_EQ_U64(h.height, 1);
    CHECK_EQ_MEM(h.state_root.b, app_hash, 32);
    CHECK_EQ_U64(h.time_ms, FX_T0 + 1250);
    info = fx_info(&f);
    CHECK(info != NULL);
    CHECK_EQ_INT(info->last_block_height, 1);
    CHECK(bin_eq(&info->last_block_app_hash, app_hash, 32));
    chain_block blk;
    CHECK_EQ_INT(chain_ledger_block(f.l, 1, &blk), BASED_E_OK);
    CHECK_EQ_INT(blk.ntx, 2);
    CHECK_EQ_MEM(blk.txs[1].hash.b, t1.hash.b, 32);
    CHECK_EQ_MEM(blk.h.proposer.b, f.ask[1] + 32, 32);
    CHECK_EQ_INT(blk.h.ncommit, 0);
    chain_block_release(&blk);
    uint64_t blocks, rprops, rtxs;
    node_abci_app_counters(f.app, &blocks, &rprops, &rtxs);
    CHECK_EQ_U64(blocks, 1);
    /* the check state starts again from the new head */
    CHECK(!node_abci_app_admitted(f.app, &t0.hash));
    CHECK_EQ_INT(fx_check(&f, t0.raw, t0.raw_len, true)->code, BASED_E_NONCE_USED);
    CHECK_EQ_INT(fx_check(&f, t1.raw, t1.raw_len, true)->code, BASED_E_NONCE_USED);
    CHECK_EQ_INT(fx_check(&f, t3.raw, t3.raw_len, false)->code, BASED_E_NONCE_GAP);
    CHECK_EQ_INT(fx_check(&f, t2.raw, t2.raw_len, false)->code, 0);
    CHECK_EQ_U64(node_abci_app_nonce(f.app, &d1), 3);
    /* Commit needs a FinalizeBlock */
    CHECK_EQ_INT(fx_commit(&f), -1);
    CHECK_EQ_STR(f.err, "Commit without FinalizeBlock");
    /* the other node computes the same hash */
    Abci__ResponseFinalizeBlock *r2 = fx_finalize(&g, &b);
    CHECK(r2 != NULL);
    CHECK(bin_eq(&r2->app_hash, app_hash, 32));
    CHECK_EQ_INT(fx_commit(&g), 0);
    CHECK_EQ_MEM(chain_ledger_head(g.l).hash.b, h.hash.b, 32);
    fx_close(&g);
    /* the proposer's account got both fees */
    chain_view *v = chain_ledger_view(f.l);
    chain_addr d9;
    chain_account acct;
    fx_dev(9, &d9);
    CHECK_EQ_INT(chain_account_get(v, &d9, &acct), BASED_E_OK);
    CHECK_EQ_U64(acct.balance, 20000);
    chain_view_free(v);
    /* restart: the app on the database as it is on disk */
    fx_reopen(&f);
    CHECK_EQ_U64(chain_ledger_head(f.l).height, 1);
    CHECK_EQ_INT(chain_ledger_engine(f.l), CHAIN_ENGINE_COMETBFT);
    info = fx_info(&f);
    CHECK(info != NULL);
    CHECK_EQ_INT(info->last_block_height, 1);
    CHECK(bin_eq(&info->last_block_app_hash, app_hash, 32));
    /* CometBFT replays block 2 after the restart */
    ProtobufCBinaryData t2b = fx_bin(&t2);
    fx_blk b2 = blk_at(2, FX_T0_S + 2, 0, &t2b, 1);
    r = fx_finalize(&f, &b2);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->tx_results[0]->code, 0);
    CHECK_EQ_INT(fx_commit(&f), 0);
    CHECK_EQ_U64(chain_ledger_head(f.l).height, 2);
    fx_close(&f);
    snprintf(tmp, sizeof tmp, "%s/verify", test_tmpdir());
    CHECK_EQ_INT(chain_ledger_verify(based_runtime(), f.db, tmp, NULL, NULL, f.err, sizeof f.err), BASED_E_OK);
    chain_tx_release(&t0);
    chain_tx_release(&t1);
    chain_tx_release(&t2);
    chain_tx_release(&t3);
}

/* A second FinalizeBlock before Commit replaces the first (CometBFT's
 * crash recovery re-sends it); Commit writes the latest. */
TEST(abciapp_finalize_twice_then_commit)
{
    fx f;
    chain_tx t0;
    fx_open(&f, "n0");
    fx_transfer(&t0, 1, 6, 1000, 0);
    ProtobufCBinaryData one = fx_bin(&t0);
    fx_blk b = blk_at(1, FX_T0_S + 1, 0, NULL, 0);
    CHECK(fx_finalize(&f, &b) != NULL);
    b.txs = &one;
    b.ntx = 1;
    Abci__ResponseFinalizeBlock *r = fx_finalize(&f, &b);
    CHECK(r != NULL);
    CHECK_EQ_INT(fx_commit(&f), 0);
    CHECK_EQ_MEM(chain_ledger_head(f.l).state_root.b, r->app_hash.data, 32);
    chain_block blk;
    CHECK_EQ_INT(chain_ledger_block(f.l, 1, &blk), BASED_E_OK);
    CHECK_EQ_INT(blk.ntx, 1);
    chain_block_release(&blk);
    /* a FinalizeBlock for a height that is not next fails */
    b.height = 5;
    CHECK(fx_finalize(&f, &b) == NULL);
    CHECK(strncmp(f.err, "FinalizeBlock 5: ", 17) == 0);
    chain_tx_release(&t0);
    fx_close(&f);
}

/* ---------------- block time ---------------- */

TEST(abciapp_block_time)
{
    fx f, g;
    fx_open(&f, "n0");
    fx_open(&g, "n1");
    /* 1: the genesis time itself is raised by 1 ms, the same on every node */
    fx_blk b = blk_at(1, FX_T0_S, 0, NULL, 0);
    Abci__ResponseFinalizeBlock *r = fx_finalize(&f, &b), *r2 = fx_finalize(&g, &b);
    CHECK(r != NULL && r2 != NULL);
    CHECK(bin_eq(&r->app_hash, r2->app_hash.data, r2->app_hash.len));
    CHECK_EQ_INT(fx_commit(&f), 0);
    CHECK_EQ_INT(fx_commit(&g), 0);
    CHECK_EQ_U64(chain_ledger_head(f.l).time_ms, FX_T0 + 1);
    CHECK_EQ_MEM(chain_ledger_head(f.l).hash.b, chain_ledger_head(g.l).hash.b, 32);
    /* 2: a time before the head's; 3: no time at all */
    b = blk_at(2, FX_T0_S - 1, 0, NULL, 0);
    CHECK(fx_finalize(&f, &b) != NULL);
    CHECK_EQ_INT(fx_commit(&f), 0);
    CHECK_EQ_U64(chain_ledger_head(f.l).time_ms, FX_T0 + 2);
    b = blk_at(3, 0, 0, NULL, 0);
    b.no_time = true;
    CHECK(fx_finalize(&f, &b) != NULL);
    CHECK_EQ_INT(fx_commit(&f), 0);
    CHECK_EQ_U64(chain_ledger_head(f.l).time_ms, FX_T0 + 3);
    /* 4: seconds and nanos, the nanos truncated to ms */
    b = blk_at(4, FX_T0_S + 5, 0, NULL, 0);
    b.nanos = 999999999;
    CHECK(fx_finalize(&f, &b) != NULL);
    CHECK_EQ_INT(fx_commit(&f), 0);
    CHECK_EQ_U64(chain_ledger_head(f.l).time_ms, FX_T0 + 5999);
    /* 5: negative seconds, negative nanos */
    b = blk_at(5, -5, 1, NULL, 0);
    b.nanos = -1;
    CHECK(fx_finalize(&f, &b) != NULL);
    CHECK_EQ_INT(fx_commit(&f), 0);
    CHECK_EQ_U64(chain_ledger_head(f.l).time_ms, FX_T0 + 6000);
    /* 6: seconds past year 9999 (ms would wrap 64 bits) count as no time */
    b = blk_at(6, INT64_MAX, 1, NULL, 0);
    CHECK(fx_finalize(&f, &b) != NULL);
    CHECK_EQ_INT(fx_commit(&f), 0);
    CHECK_EQ_U64(chain_ledger_head(f.l).time_ms, FX_T0 + 6001);
    /* 7: the last second of year 9999 is a time */
    b = blk_at(7, 253402300799ll, 1, NULL, 0);
    CHECK(fx_finalize(&f, &b) != NULL);
    CHECK_EQ_INT(fx_commit(&f), 0);
    CHECK_EQ_U64(chain_ledger_head(f.l).time_ms, 253402300799000ull);
    chain_block blk;
    CHECK_EQ_INT(chain_ledger_block(f.l, 4, &blk), BASED_E_OK);
    CHECK_EQ_U64(blk.h.time_ms, FX_T0 + 5999);
    chain_block_release(&blk);
    fx_close(&f);
    fx_close(&g);
}

/* ---------------- misbehaviour ---------------- */

static void mb_init(Abci__Misbehavior *m, Abci__Validator *v, Abci__Timestamp *ts,
                    Abci__MisbehaviorType type, const uint8_t *addr, size_t alen, int64_t power)
{
    abci__misbehavior__init(m);
    abci__validator__init(v);
    abci__timestamp__init(ts);
    v->address.data = (uint8_t *)(uintptr_t)addr;
    v->address.len = alen;
    v->power = power;
    ts->seconds = FX_T0_S + 1;
    ts->nanos = 5000000;
    m->type = type;
    m->validator = v;
    m->height = 1;
    m->time = ts;
    m->total_voting_power = 30;
}

TEST(abciapp_misbehavior_recorded)
{
    fx f, g;
    fx_open(&f, "n0");
    fx_open(&g, "n1");
    fx_empty_block(&f);
    fx_empty_block(&g);
    Abci__Misbehavior m[5];
    Abci__Validator v[5];
    Abci__Timestamp ts[5];
    mb_init(&m[0], &v[0], &ts[0], ABCI__MISBEHAVIOR_TYPE__DUPLICATE_VOTE, f.addr[0], 20, 10);
    mb_init(&m[1], &v[1], &ts[1], ABCI__MISBEHAVIOR_TYPE__UNKNOWN, f.addr[1], 20, 20);
    mb_init(&m[2], &v[2], &ts[2], ABCI__MISBEHAVIOR_TYPE__LIGHT_CLIENT_ATTACK, f.addr[1], 20, 20);
    mb_init(&m[3], &v[3], &ts[3], ABCI__MISBEHAVIOR_TYPE__DUPLICATE_VOTE, f.addr[1], 19, 20);
    mb_init(&m[4], &v[4], &ts[4], ABCI__MISBEHAVIOR_TYPE__DUPLICATE_VOTE, f.addr[1], 20, 20);
    m[4].validator = NULL;
    Abci__Misbehavior *mp[5] = { &m[0], &m[1], &m[2], &m[3], &m[4] };
    fx_blk b = blk_at(2, FX_T0_S + 3, 0, NULL, 0);
    b.mb = mp;
    b.nmb = 5;
    Abci__ResponseFinalizeBlock *r = fx_finalize(&f, &b);
    CHECK(r != NULL);
    uint8_t with[32];
    memcpy(with, r->app_hash.data, 32);
    CHECK_EQ_INT(fx_commit(&f), 0);
    chain_evidence_record rec[8];
    size_t n = 0;
    CHECK_EQ_INT(chain_ledger_evidence(f.l, 0, rec, 8, &n), BASED_E_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_U64(rec[0].block_height, 2);
    CHECK_EQ_INT(rec[0].ev.type, CHAIN_EVIDENCE_DUPLICATE_VOTE);
    CHECK_EQ_MEM(rec[0].ev.address, f.addr[0], 20);
    CHECK_EQ_U64(rec[0].ev.height, 1);
    CHECK_EQ_U64(rec[0].ev.time_ms, FX_T0 + 1005);
    CHECK_EQ_U64(rec[0].ev.power, 10);
    CHECK_EQ_U64(rec[0].ev.total_power, 30);
    CHECK_EQ_INT(rec[1].ev.type, CHAIN_EVIDENCE_LIGHT_CLIENT_ATTACK);
    CHECK_EQ_MEM(rec[1].ev.address, f.addr[1], 20);
    CHECK_EQ_U64(rec[1].ev.power, 20);
    chain_block blk;
    CHECK_EQ_INT(chain_ledger_block(f.l, 2, &blk), BASED_E_OK);
    CHECK_EQ_INT(blk.nev, 2);
    chain_block_release(&blk);
    /* the evidence is in the app hash */
    b.mb = NULL;
    b.nmb = 0;
    Abci__ResponseFinalizeBlock *r2 = fx_finalize(&g, &b);
    CHECK(r2 != NULL);
    CHECK(!bin_eq(&r2->app_hash, with, 32));
    /* the same misbehaviour gives the same hash (and Prepare/Process agree) */
    b.mb = mp;
    b.nmb = 5;
    CHECK(fx_prepare(&g, &b) != NULL);
    CHECK_EQ_INT(fx_process(&g, &b), ACCEPT);
    r2 = fx_finalize(&g, &b);
    CHECK(r2 != NULL);
    CHECK(bin_eq(&r2->app_hash, with, 32));
    fx_close(&f);
    fx_close(&g);
}

/* ---------------- Query ---------------- */

TEST(abciapp_query_account)
{
    fx f;
    chain_addr d1;
    char ss[CHAIN_ADDR_STRLEN], hx[70];
    fx_open(&f, "n0");
    fx_dev(1, &d1);
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &d1, ss);
    Abci__ResponseQuery *r = fx_query(&f, "/account", ss, strlen(ss));
    CHECK(r != NULL);
    CHECK_EQ_INT(r->code, 0);
    CHECK_EQ_INT(r->height, 0);
    json_t *j = json_loadb((const char *)r->value.data, r->value.len, 0, NULL);
    CHECK(j != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "balance_base")), "1000000000000000");
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "nonce")), 0);
    CHECK(json_is_integer(json_object_get(j, "nonce")));
    json_decref(j);
    /* after a block with one transfer from dev1 */
    chain_tx t0;
    fx_transfer(&t0, 1, 6, 1000, 0);
    ProtobufCBinaryData one = fx_bin(&t0);
    fx_blk b = blk_at(1, FX_T0_S + 1, 0, &one, 1);
    CHECK(fx_finalize(&f, &b) != NULL);
    CHECK_EQ_INT(fx_commit(&f), 0);
    hx[0] = '0';
    hx[1] = 'x';
    chain_hex(d1.b, 32, hx + 2);
    r = fx_query(&f, "/account", hx, strlen(hx));
    CHECK(r != NULL);
    CHECK_EQ_INT(r->code, 0);
    CHECK_EQ_INT(r->height, 1);
    CHECK(bin_eq(&r->value, "{\"balance_base\":\"999999999989000\",\"nonce\":1}", 44));
    /* an account nobody funded */
    chain_addr d7;
    fx_dev(7, &d7);
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &d7, ss);
    r = fx_query(&f, "/account", ss, strlen(ss));
    CHECK(r != NULL && r->code == 0);
    CHECK(bin_eq(&r->value, "{\"balance_base\":\"0\",\"nonce\":0}", 30));
    /* errors */
    r = fx_query(&f, "/account", "nope", 4);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->code, BASED_E_BAD_ADDRESS);
    CHECK(strncmp(r->log, "malformed address (", 19) == 0);
    CHECK_EQ_STR(r->codespace, "based");
    CHECK_EQ_INT(r->value.len, 0);
    r = fx_query(&f, "/balance", ss, strlen(ss));
    CHECK(r != NULL);
    CHECK_EQ_INT(r->code, BASED_E_NOT_FOUND);
    CHECK(strstr(r->log, "/account") != NULL);
    r = fx_query(&f, "/account", NULL, 0);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->code, BASED_E_BAD_ADDRESS);
    char longaddr[300];
    memset(longaddr, '5', sizeof longaddr);
    r = fx_query(&f, "/account", longaddr, sizeof longaddr);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->code, BASED_E_BAD_ADDRESS);
    char withnul[CHAIN_ADDR_STRLEN + 8];        /* a valid address, then a NUL and more */
    size_t sl = strlen(ss);
    memcpy(withnul, ss, sl);
    memcpy(withnul + sl, "\0junk", 5);
    r = fx_query(&f, "/account", withnul, sl + 5);
    CHECK(r != NULL);
    CHECK_EQ_INT(r->code, BASED_E_BAD_ADDRESS);
    chain_tx_release(&t0);
    fx_close(&f);
}

/* ---------------- snapshots, vote extensions, the rest ---------------- */

TEST(abciapp_snapshots_vote_extensions_unknown)
{
    fx f;
    Abci__Request rq;
    Abci__Response rs;
    fx_open(&f, "n0");
    Abci__RequestListSnapshots ls;
    Abci__RequestOfferSnapshot os;
    Abci__RequestLoadSnapshotChunk lc;
    Abci__RequestApplySnapshotChunk ac;
    Abci__RequestExtendVote ev;
    Abci__RequestVerifyVoteExtension vv;
    Abci__RequestEcho echo;
    abci__request_list_snapshots__init(&ls);
    abci__request_offer_snapshot__init(&os);
    abci__request_load_snapshot_chunk__init(&lc);
    abci__request_apply_snapshot_chunk__init(&ac);
    abci__request_extend_vote__init(&ev);
    abci__request_verify_vote_extension__init(&vv);
    abci__request_echo__init(&echo);
    abci__request__init(&rq);
    rq.value_case = ABCI__REQUEST__VALUE_LIST_SNAPSHOTS;
    rq.list_snapshots = &ls;
    CHECK_EQ_INT(fx_call(&f, &rq, &rs), 0);
    CHECK_EQ_INT(rs.value_case, ABCI__RESPONSE__VALUE_LIST_SNAPSHOTS);
    CHECK_EQ_INT(rs.list_snapshots->n_snapshots, 0);
    CHECK(fx_packs(&rs));
    rq.value_case = ABCI__REQUEST__VALUE_OFFER_SNAPSHOT;
    rq.offer_snapshot = &os;
    CHECK_EQ_INT(fx_call(&f, &rq, &rs), 0);
    CHECK_EQ_INT(rs.value_case, ABCI__RESPONSE__VALUE_OFFER_SNAPSHOT);
    CHECK_EQ_INT(rs.offer_snapshot->result, ABCI__RESPONSE_OFFER_SNAPSHOT__RESULT__REJECT);
    CHECK(fx_packs(&rs));
    rq.value_case = ABCI__REQUEST__VALUE_LOAD_SNAPSHOT_CHUNK;
    rq.load_snapshot_chunk = &lc;
    CHECK_EQ_INT(fx_call(&f, &rq, &rs), 0);
    CHECK_EQ_INT(rs.value_case, ABCI__RESPONSE__VALUE_LOAD_SNAPSHOT_CHUNK);
    CHECK_EQ_INT(rs.load_snapshot_chunk->chunk.len, 0);
    CHECK(fx_packs(&rs));
    rq.value_case = ABCI__REQUEST__VALUE_APPLY_SNAPSHOT_CHUNK;
    rq.apply_snapshot_chunk = &ac;
    CHECK_EQ_INT(fx_call(&f, &rq, &rs), 0);
    CHECK_EQ_INT(rs.value_case, ABCI__RESPONSE__VALUE_APPLY_SNAPSHOT_CHUNK);
    CHECK_EQ_INT(rs.apply_snapshot_chunk->result,
                 ABCI__RESPONSE_APPLY_SNAPSHOT_CHUNK__RESULT__ABORT);
    CHECK(fx_packs(&rs));
    rq.value_case = ABCI__REQUEST__VALUE_EXTEND_VOTE;
    rq.extend_vote = &ev;
    CHECK_EQ_INT(fx_call(&f, &rq, &rs), 0);
    CHECK_EQ_INT(rs.value_case, ABCI__RESPONSE__VALUE_EXTEND_VOTE);
    CHECK_EQ_INT(rs.extend_vote->vote_extension.len, 0);
    CHECK(fx_packs(&rs));
    rq.value_case = ABCI__REQUEST__VALUE_VERIFY_VOTE_EXTENSION;
    rq.verify_vote_extension = &vv;
    CHECK_EQ_INT(fx_call(&f, &rq, &rs), 0);
    CHECK_EQ_INT(rs.value_case, ABCI__RESPONSE__VALUE_VERIFY_VOTE_EXTENSION);
    CHECK_EQ_INT(rs.verify_vote_extension->status,
                 ABCI__RESPONSE_VERIFY_VOTE_EXTENSION__VERIFY_STATUS__ACCEPT);
    CHECK(fx_packs(&rs));
    /* Echo and Flush are the server's; anything else is an error */
    rq.value_case = ABCI__REQUEST__VALUE_ECHO;
    rq.echo = &echo;
    CHECK_EQ_INT(fx_call(&f, &rq, &rs), -1);
    CHECK_EQ_STR(f.err, "unexpected request (oneof case 1)");
    rq.value_case = ABCI__REQUEST__VALUE__NOT_SET;
    CHECK_EQ_INT(fx_call(&f, &rq, &rs), -1);
    CHECK_EQ_STR(f.err, "unexpected request (oneof case 0)");
    fx_close(&f);
}

const struct test_case test_table[] = {
    { "abciapp_info_and_init_chain", test_abciapp_info_and_init_chain },
    { "abciapp_refuses_dev_database", test_abciapp_refuses_dev_database },
    { "abciapp_check_tx", test_abciapp_check_tx },
    { "abciapp_prepare_orders_and_caps_bytes", test_abciapp_prepare_orders_and_caps_bytes },
    { "abciapp_prepare_drops_failing_txs", test_abciapp_prepare_drops_failing_txs },
    { "abciapp_process_rejects", test_abciapp_process_rejects },
    { "abciapp_finalize_commit_restart", test_abciapp_finalize_commit_restart },
    { "abciapp_finalize_twice_then_commit", test_abciapp_finalize_twice_then_commit },
    { "abciapp_block_time", test_abciapp_block_time },
    { "abciapp_misbehavior_recorded", test_abciapp_misbehavior_recorded },
    { "abciapp_query_account", test_abciapp_query_account },
    { "abciapp_snapshots_vote_extensions_unknown", test_abciapp_snapshots_vote_extensions_unknown },
    { NULL, NULL },
};
