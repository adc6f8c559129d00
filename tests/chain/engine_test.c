/* Tests of the block-execution API (chain_ledger_execute / commit_pending),
 * the engines (dev and CometBFT), evidence in blocks and state, and the
 * check state CometBFT's CheckTx runs on. */
#include "tests/runner.h"
#include "node/runtime.h"
#include "chain/account.h"
#include "chain/genesis.h"
#include "chain/kinds.h"
#include "chain/ledger.h"

#define T0 1767225600000ull     /* the genesis time of the dev genesis */

static void eng_genesis(chain_genesis *g, uint8_t sk[64])
{
    char err[256];
    chain_edpub pub;
    if (chain_genesis_parse(chain_genesis_default, strlen(chain_genesis_default), "genesis.json",
                            g, err, sizeof err) != BASED_E_OK) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    chain_ed_generate(sk, &pub);
    chain_genesis_make_dev(g, &pub, T0);
}

static void eng_addr(unsigned i, chain_addr *a)
{
    uint8_t sk[32];
    chain_key_dev(i, sk);
    chain_key_pub(sk, a);
}

static void eng_transfer(chain_tx *tx, unsigned from, unsigned to, uint64_t amount,
                         uint64_t nonce)
{
    uint8_t sk[32], p[CHAIN_TRANSFER_LEN];
    chain_transfer t;
    eng_addr(to, &t.to);
    t.amount = amount;
    chain_key_dev(from, sk);
    chain_transfer_encode(&t, p);
    chain_tx_make(tx, "based-devnet", nonce, 10000, CHAIN_KIND_TRANSFER, p, sizeof p, sk);
}

/* A copy of tx whose signature's last byte is flipped (decodes, does not
 * verify). */
static void eng_badsig(const chain_tx *tx, chain_tx *out)
{
    uint8_t raw[CHAIN_TX_MAX];
    const char *why;
    memcpy(raw, tx->raw, tx->raw_len);
    raw[tx->raw_len - 1] ^= 0x01;
    if (chain_tx_decode(raw, tx->raw_len, out, &why) != BASED_E_OK)
        abort();
}

static uint64_t eng_balance(chain_ledger *l, unsigned i, uint64_t *nonce)
{
    chain_addr a;
    chain_account acct;
    eng_addr(i, &a);
    chain_view *v = chain_ledger_view(l);
    chain_account_get(v, &a, &acct);
    chain_view_free(v);
    if (nonce)
        *nonce = acct.nonce;
    return acct.balance;
}

static chain_block_input eng_input(const chain_genesis *g, uint64_t height, uint64_t time_ms,
                                   chain_tx *const *txs, size_t n)
{
    chain_block_input in;
    memset(&in, 0, sizeof in);
    in.height = height;
    in.time_ms = time_ms;
    in.proposer = g->auth[0].key;
    in.txs = txs;
    in.ntx = n;
    in.verify_sigs = true;
    return in;
}

static bool all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* CometBFT engine: execute + commit_pending without a key, the stored
 * block, reopening, replay; the engines do not mix. */
TEST(engine_cometbft_execute_commit_verify)
{
    chain_genesis g;
    uint8_t sk[64];
    chain_ledger *l, *l2;
    char err[512], db[512], db2[512], tmp[512];
    eng_genesis(&g, sk);
    snprintf(db, sizeof db, "%s/db", test_tmpdir());
    snprintf(db2, sizeof db2, "%s/db2", test_tmpdir());
    snprintf(tmp, sizeof tmp, "%s/verify", test_tmpdir());
    CHECK_EQ_INT(chain_ledger_open(based_runtime(), db, &g, &l, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_ledger_engine(l), CHAIN_ENGINE_DEV);
    CHECK_EQ_INT(chain_ledger_set_engine(l, CHAIN_ENGINE_COMETBFT, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_ledger_engine(l), CHAIN_ENGINE_COMETBFT);
    chain_tx txs[2];
    eng_transfer(&txs[0], 1, 5, 7 * CHAIN_COIN, 0);
    eng_transfer(&txs[1], 2, 5, 3, 0);
    chain_tx *c[2] = { &txs[0], &txs[1] };
    chain_block_input in = eng_input(&g, 1, T0 + 1000, c, 2);
    chain_pending *p = NULL;
    CHECK_EQ_INT(chain_ledger_execute(l, &in, &p, err, sizeof err), BASED_E_OK);
    CHECK_EQ_U64(chain_pending_height(p), 1);
    CHECK_EQ_INT(chain_pending_included(p), 2);
    CHECK_EQ_INT(chain_pending_result(p, 0, NULL), BASED_E_OK);
    CHECK_EQ_INT(chain_pending_result(p, 1, NULL), BASED_E_OK);
    CHECK_EQ_STR(json_string_value(json_object_get(chain_pending_receipt(p, 1), "fee")),
                 "0.00001");
    /* nothing is written before the commit */
    CHECK_EQ_U64(chain_ledger_head(l).height, 0);
    CHECK_EQ_U64(eng_balance(l, 5, NULL), 1000000ull * CHAIN_COIN);
    chain_hash root = chain_pending_root(p);
    CHECK_EQ_INT(chain_ledger_commit_pending(l, p, NULL, err, sizeof err), BASED_E_OK);
    chain_pending_free(p);
    chain_head h = chain_ledger_head(l);
    CHECK_EQ_U64(h.height, 1);
    CHECK_EQ_U64(h.time_ms, T0 + 1000);
    CHECK_EQ_MEM(h.state_root.b, root.b, 32);
    CHECK_EQ_U64(eng_balance(l, 5, NULL), 1000000ull * CHAIN_COIN + 7 * CHAIN_COIN + 3);
    CHECK_EQ_U64(eng_balance(l, 0, NULL), 1000000ull * CHAIN_COIN + 20000);   /* the fees */
    chain_block b;
    CHECK_EQ_INT(chain_ledger_block(l, 1, &b), BASED_E_OK);
    CHECK_EQ_INT(b.h.ncommit, 0);
    CHECK(all_zero(b.proposer_sig.b, 64));
    CHECK_EQ_INT(b.ntx, 2);
    CHECK_EQ_INT(b.nev, 0);
    CHECK_EQ_MEM(b.txs[1].hash.b, txs[1].hash.b, 32);
    CHECK_EQ_MEM(b.hash.b, h.hash.b, 32);
    CHECK_EQ_MEM(b.h.state_root.b, root.b, 32);
    CHECK_EQ_MEM(b.h.proposer.b, g.auth[0].key.b, 32);
    chain_block_release(&b);
    chain_commit_sig cs[CHAIN_MAX_AUTHORITIES];
    size_t ncs = 99;
    CHECK_EQ_INT(chain_ledger_commit(l, 1, cs, &ncs), BASED_E_OK);
    CHECK_EQ_INT(ncs, 0);
    /* an empty block 2 */
    in = eng_input(&g, 2, T0 + 2000, NULL, 0);
    CHECK_EQ_INT(chain_ledger_execute(l, &in, &p, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_ledger_commit_pending(l, p, NULL, err, sizeof err), BASED_E_OK);
    chain_pending_free(p);
    CHECK_EQ_INT(chain_ledger_block(l, 2, &b), BASED_E_OK);
    CHECK_EQ_INT(b.h.ncommit, 0);     /* no commit of block 1 carried either */
    CHECK_EQ_MEM(b.h.prev_hash.b, h.hash.b, 32);
    chain_block_release(&b);
    /* the dev producer refuses a CometBFT database */
    size_t inc = 9, nsk = 9;
    err[0] = '\0';
    CHECK_EQ_INT(chain_ledger_produce(l, NULL, 0, 0, sk, NULL, &nsk, &inc, err, sizeof err),
                 BASED_E_BAD_BLOCK);
    CHECK(strstr(err, "CometBFT") != NULL);
    CHECK_EQ_INT(inc, 0);
    CHECK_EQ_U64(chain_ledger_head(l).height, 2);
    /* a second ledger applies the blocks (no signatures on this engine) */
    CHECK_EQ_INT(chain_ledger_open(based_runtime(), db2, &g, &l2, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_ledger_set_engine(l2, CHAIN_ENGINE_COMETBFT, err, sizeof err), BASED_E_OK);
    for (uint64_t ht = 1; ht <= 2; ht++) {
        CHECK_EQ_INT(chain_ledger_block(l, ht, &b), BASED_E_OK);
        if (ht == 1) {   /* a block that carries a commit of ours is refused */
            chain_block bad = b;
            bad.h.ncommit = 1;
            bad.hash = chain_header_hash(&bad.h);
            CHECK_EQ_INT(chain_ledger_apply(l2, &bad, NULL, 0, err, sizeof err),
                         BASED_E_BAD_BLOCK);
            CHECK(strstr(err, "carries no commit") != NULL);
        }
        CHECK_EQ_INT(chain_ledger_apply(l2, &b, NULL, 0, err, sizeof err), BASED_E_OK);
        chain_block_release(&b);
    }
    CHECK_EQ_MEM(chain_ledger_head(l2).hash.b, chain_ledger_head(l).hash.b, 32);
    CHECK_EQ_MEM(chain_ledger_head(l2).state_root.b, chain_ledger_head(l).state_root.b, 32);
    chain_ledger_free(l2);
    chain_ledger_free(l);
    /* the engine is stored: reopened, it is still a CometBFT database */
    CHECK_EQ_INT(chain_ledger_open(based_runtime(), db, NULL, &l, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_ledger_engine(l), CHAIN_ENGINE_COMETBFT);
    CHECK_EQ_U64(chain_ledger_head(l).height, 2);
    err[0] = '\0';
    CHECK_EQ_INT(chain_ledger_set_engine(l, CHAIN_ENGINE_DEV, err, sizeof err), BASED_E_GENESIS);
    CHECK_EQ_STR(err, "this database holds a CometBFT network chain; a dev chain needs its own "
                      "--datadir");
    CHECK_EQ_INT(chain_ledger_set_engine(l, CHAIN_ENGINE_COMETBFT, err, sizeof err), BASED_E_OK);
    chain_ledger_free(l);
    err[0] = '\0';
    CHECK_EQ_INT(chain_ledger_verify(based_runtime(), db, tmp, NULL, NULL, err, sizeof err), BASED_E_OK);
    /* a dev database: the engine may change at height 0 only */
    char db3[512];
    snprintf(db3, sizeof db3, "%s/dev", test_tmpdir());
    CHECK_EQ_INT(chain_ledger_open(based_runtime(), db3, &g, &l, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_ledger_set_engine(l, CHAIN_ENGINE_COMETBFT, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_ledger_set_engine(l, CHAIN_ENGINE_DEV, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_ledger_produce(l, NULL, 0, 0, sk, NULL, NULL, &inc, err, sizeof err),
                 BASED_E_OK);
    err[0] = '\0';
    CHECK_EQ_INT(chain_ledger_set_engine(l, CHAIN_ENGINE_COMETBFT, err, sizeof err),
                 BASED_E_GENESIS);
    CHECK_EQ_STR(err, "this database holds a dev (--dev) chain; a CometBFT network chain needs "
                      "its own --datadir");
    CHECK_EQ_INT(chain_ledger_engine(l), CHAIN_ENGINE_DEV);
    chain_ledger_free(l);
    CHECK_EQ_INT(chain_ledger_open(based_runtime(), db3, NULL, &l, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_ledger_engine(l), CHAIN_ENGINE_DEV);
    chain_ledger_free(l);
    for (int i = 0; i < 2; i++)
        chain_tx_release(&txs[i]);
    chain_genesis_release(&g);
}

static chain_evidence eng_ev(uint8_t type, uint8_t fill, uint64_t height, uint64_t power)
{
    chain_evidence e;
    memset(&e, 0, sizeof e);
    e.type = type;
    memset(e.address, fill, 20);
    e.address[19] = (uint8_t)(fill + 1);
    e.height = height;
    e.time_ms = T0 + height * 1000 + 7;
    e.power = power;
    e.total_power = 40;
    return e;
}

static chain_hash eng_root_with(chain_ledger *l, const chain_block_input *in)
{
    chain_pending *p = NULL;
    char err[256];
    chain_hash r;
    memset(&r, 0, sizeof r);
    if (chain_ledger_execute(l, in, &p, err, sizeof err) == BASED_E_OK)
        r = chain_pending_root(p);
    chain_pending_free(p);
    return r;
}

/* Evidence: recorded in state (so in the root), read back with the block
 * height, encoded in blocks, strict decoding. */
TEST(engine_evidence_state_and_encoding)
{
    chain_genesis g;
    uint8_t sk[64];
    chain_ledger *l;
    char err[512], db[512], tmp[512];
    eng_genesis(&g, sk);
    snprintf(db, sizeof db, "%s/db", test_tmpdir());
    snprintf(tmp, sizeof tmp, "%s/verify", test_tmpdir());
    CHECK_EQ_INT(chain_ledger_open(based_runtime(), db, &g, &l, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_ledger_set_engine(l, CHAIN_ENGINE_COMETBFT, err, sizeof err), BASED_E_OK);
    chain_pending *p = NULL;
    chain_block_input in = eng_input(&g, 1, T0 + 1000, NULL, 0);
    CHECK_EQ_INT(chain_ledger_execute(l, &in, &p, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_ledger_commit_pending(l, p, NULL, err, sizeof err), BASED_E_OK);
    chain_pending_free(p);
    chain_evidence ev[2] = { eng_ev(CHAIN_EVIDENCE_DUPLICATE_VOTE, 0xa0, 1, 10),
                             eng_ev(CHAIN_EVIDENCE_LIGHT_CLIENT_ATTACK, 0x30, 1, 30) };
    in = eng_input(&g, 2, T0 + 2000, NULL, 0);
    chain_hash none = eng_root_with(l, &in);
    in.ev = ev;
    in.nev = 2;
    chain_hash with = eng_root_with(l, &in);
    chain_evidence ev2[2] = { ev[0], ev[1] };
    ev2[1].power = 31;
    in.ev = ev2;
    chain_hash other = eng_root_with(l, &in);
    CHECK(!chain_hash_is_zero(&none) && !chain_hash_is_zero(&with) && !chain_hash_is_zero(&other));
    CHECK(!chain_hash_eq(&none, &with));
    CHECK(!chain_hash_eq(&with, &other));
    /* too much evidence is refused */
    chain_evidence many[CHAIN_MAX_EVIDENCE + 1];
    for (size_t i = 0; i < CHAIN_MAX_EVIDENCE + 1; i++)
        many[i] = eng_ev(CHAIN_EVIDENCE_DUPLICATE_VOTE, (uint8_t)i, 1, 1);
    in.ev = many;
    in.nev = CHAIN_MAX_EVIDENCE + 1;
    err[0] = '\0';
    CHECK_EQ_INT(chain_ledger_execute(l, &in, &p, err, sizeof err), BASED_E_BAD_BLOCK);
    CHECK(p == NULL);
    CHECK_EQ_STR(err, "block 2: more than 128 evidence entries");
    /* the real block 2 */
    in.ev = ev;
    in.nev = 2;
    CHECK_EQ_INT(chain_ledger_execute(l, &in, &p, err, sizeof err), BASED_E_OK);
    CHECK_EQ_MEM(chain_pending_root(p).b, with.b, 32);
    CHECK_EQ_INT(chain_ledger_commit_pending(l, p, NULL, err, sizeof err), BASED_E_OK);
    chain_pending_free(p);
    CHECK_EQ_MEM(chain_ledger_head(l).state_root.b, with.b, 32);
    /* read back, oldest first, with paging */
    chain_evidence_record rec[4];
    size_t n = 99;
    CHECK_EQ_INT(chain_ledger_evidence(l, 0, rec, 4, &n), BASED_E_OK);
    CHECK_EQ_INT(n, 2);
    for (size_t i = 0; i < 2; i++) {
        CHECK_EQ_U64(rec[i].block_height, 2);
        CHECK_EQ_INT(rec[i].ev.type, ev[i].type);
        CHECK_EQ_MEM(rec[i].ev.address, ev[i].address, 20);
        CHECK_EQ_U64(rec[i].ev.height, 1);
        CHECK_EQ_U64(rec[i].ev.time_ms, T0 + 1007);
        CHECK_EQ_U64(rec[i].ev.power, ev[i].power);
        CHECK_EQ_U64(rec[i].ev.total_power, 40);
    }
    CHECK_EQ_INT(chain_ledger_evidence(l, 1, rec, 4, &n), BASED_E_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(rec[0].ev.type, CHAIN_EVIDENCE_LIGHT_CLIENT_ATTACK);
    CHECK_EQ_INT(chain_ledger_evidence(l, 0, rec, 1, &n), BASED_E_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(rec[0].ev.type, CHAIN_EVIDENCE_DUPLICATE_VOTE);
    CHECK_EQ_INT(chain_ledger_evidence(l, 2, rec, 4, &n), BASED_E_OK);
    CHECK_EQ_INT(n, 0);
    /* the stored block carries it; encoding round-trips */
    chain_block b, back;
    const char *why = "";
    CHECK_EQ_INT(chain_ledger_block(l, 2, &b), BASED_E_OK);
    CHECK_EQ_INT(b.nev, 2);
    CHECK_EQ_MEM(&b.ev[1], &ev[1], sizeof ev[1]);
    chain_wbuf w;
    chain_w_init(&w, CHAIN_MAX_BLOCK_BYTES);
    chain_block_encode(&b, &w);
    CHECK_EQ_INT(chain_block_decode(w.p, w.len, &back, &why), BASED_E_OK);
    CHECK_EQ_INT(back.nev, 2);
    for (size_t i = 0; i < 2; i++) {
        CHECK_EQ_INT(back.ev[i].type, ev[i].type);
        CHECK_EQ_MEM(back.ev[i].address, ev[i].address, 20);
        CHECK_EQ_U64(back.ev[i].height, ev[i].height);
        CHECK_EQ_U64(back.ev[i].time_ms, ev[i].time_ms);
        CHECK_EQ_U64(back.ev[i].power, ev[i].power);
        CHECK_EQ_U64(back.ev[i].total_power, ev[i].total_power);
    }
    CHECK_EQ_MEM(back.hash.b, b.hash.b, 32);
    chain_block_release(&back);
    /* an unknown type (the second entry's type byte is 53 bytes from the end) */
    w.p[w.len - CHAIN_EVIDENCE_LEN] = 3;
    CHECK_EQ_INT(chain_block_decode(w.p, w.len, &back, &why), BASED_E_DECODE);
    CHECK_EQ_STR(why, "unknown evidence type");
    w.p[w.len - CHAIN_EVIDENCE_LEN] = 0;
    CHECK_EQ_INT(chain_block_decode(w.p, w.len, &back, &why), BASED_E_DECODE);
    w.p[w.len - CHAIN_EVIDENCE_LEN] = CHAIN_EVIDENCE_LIGHT_CLIENT_ATTACK;
    /* one byte short, one byte too many */
    CHECK_EQ_INT(chain_block_decode(w.p, w.len - 1, &back, &why), BASED_E_DECODE);
    chain_w_u8(&w, 0);
    CHECK_EQ_INT(chain_block_decode(w.p, w.len, &back, &why), BASED_E_DECODE);
    /* counts: exactly CHAIN_MAX_EVIDENCE decodes, one more does not */
    size_t base = w.len - 1 - 1 - 2 * CHAIN_EVIDENCE_LEN;   /* where the count starts */
    for (size_t cnt = CHAIN_MAX_EVIDENCE; cnt <= CHAIN_MAX_EVIDENCE + 1; cnt++) {
        w.len = base;
        chain_w_uleb(&w, cnt);
        for (size_t i = 0; i < cnt; i++) {
            uint8_t e[CHAIN_EVIDENCE_LEN];
            memset(e, (int)i, sizeof e);
            e[0] = CHAIN_EVIDENCE_DUPLICATE_VOTE;
            chain_w_raw(&w, e, sizeof e);
        }
        based_err rc = chain_block_decode(w.p, w.len, &back, &why);
        if (cnt == CHAIN_MAX_EVIDENCE) {
            CHECK_EQ_INT(rc, BASED_E_OK);
            CHECK_EQ_INT(back.nev, CHAIN_MAX_EVIDENCE);
            CHECK_EQ_INT(back.ev[127].address[0], 127);
            chain_block_release(&back);
        } else {
            CHECK_EQ_INT(rc, BASED_E_DECODE);
            CHECK_EQ_STR(why, "too much evidence");
        }
    }
    /* a huge count with nothing behind it */
    w.len = base;
    chain_w_uleb(&w, 1000000);
    CHECK_EQ_INT(chain_block_decode(w.p, w.len, &back, &why), BASED_E_DECODE);
    chain_w_free(&w);
    chain_block_release(&b);
    chain_ledger_free(l);
    /* replay records the same evidence */
    CHECK_EQ_INT(chain_ledger_verify(based_runtime(), db, tmp, NULL, NULL, err, sizeof err), BASED_E_OK);
    chain_genesis_release(&g);
}

/* skip_failing lists what each input tx did; strict mode fails on the
 * first failure; a pending block commits once and only on its head. */
TEST(engine_skip_strict_and_commit_rules)
{
    chain_genesis g;
    uint8_t sk[64];
    chain_ledger *l;
    char err[512], db[512];
    eng_genesis(&g, sk);
    snprintf(db, sizeof db, "%s/db", test_tmpdir());
    CHECK_EQ_INT(chain_ledger_open(based_runtime(), db, &g, &l, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_ledger_set_engine(l, CHAIN_ENGINE_COMETBFT, err, sizeof err), BASED_E_OK);
    chain_tx tx[5];
    eng_transfer(&tx[0], 1, 5, 100, 0);                           /* ok */
    eng_transfer(&tx[1], 1, 5, 100, 2);                           /* nonce gap */
    eng_transfer(&tx[2], 2, 5, 2000000ull * CHAIN_COIN, 0);       /* insufficient */
    chain_tx good3;
    eng_transfer(&good3, 3, 5, 100, 0);
    eng_badsig(&good3, &tx[3]);                                   /* bad signature */
    eng_transfer(&tx[4], 1, 5, 100, 1);                           /* ok after tx 0 */
    chain_tx *c[5] = { &tx[0], &tx[1], &tx[2], &tx[3], &tx[4] };
    chain_head h0 = chain_ledger_head(l);
    chain_block_input in = eng_input(&g, 1, T0 + 1000, c, 5);
    chain_pending *p = NULL, *p2 = NULL;
    /* strict */
    err[0] = '\0';
    CHECK_EQ_INT(chain_ledger_execute(l, &in, &p, err, sizeof err), BASED_E_BAD_BLOCK);
    CHECK(p == NULL);
    CHECK(strncmp(err, "transaction 1 (0x", 17) == 0);
    CHECK(strstr(err, "nonce is ahead") != NULL);
    CHECK_EQ_U64(chain_ledger_head(l).height, 0);
    CHECK_EQ_MEM(chain_ledger_head(l).state_root.b, h0.state_root.b, 32);
    /* skipping */
    in.skip_failing = true;
    CHECK_EQ_INT(chain_ledger_execute(l, &in, &p, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_pending_included(p), 2);
    const based_err want[5] = { BASED_E_OK, BASED_E_NONCE_GAP, BASED_E_INSUFFICIENT,
                                BASED_E_BAD_SIGNATURE, BASED_E_OK };
    for (size_t i = 0; i < 5; i++) {
        const char *why = NULL;
        CHECK_EQ_INT(chain_pending_result(p, i, &why), want[i]);
        CHECK(why != NULL);
        CHECK(want[i] == BASED_E_OK || why[0] != '\0');
        CHECK((chain_pending_receipt(p, i) != NULL) == (want[i] == BASED_E_OK));
    }
    const char *why = NULL;
    CHECK_EQ_INT(chain_pending_result(p, 5, &why), BASED_E_NOT_FOUND);
    CHECK(chain_pending_receipt(p, 5) == NULL);
    /* without signature checks the badly signed tx executes */
    in.verify_sigs = false;
    CHECK_EQ_INT(chain_ledger_execute(l, &in, &p2, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_pending_result(p2, 3, NULL), BASED_E_OK);
    CHECK_EQ_INT(chain_pending_included(p2), 3);
    chain_pending_free(p2);
    p2 = NULL;
    in.verify_sigs = true;
    /* a second execution of the same block, for the head-moved case */
    CHECK_EQ_INT(chain_ledger_execute(l, &in, &p2, err, sizeof err), BASED_E_OK);
    CHECK_EQ_MEM(chain_pending_root(p2).b, chain_pending_root(p).b, 32);
    CHECK_EQ_INT(chain_ledger_commit_pending(l, p, NULL, err, sizeof err), BASED_E_OK);
    CHECK_EQ_U64(chain_ledger_head(l).height, 1);
    chain_head h1 = chain_ledger_head(l);
    err[0] = '\0';
    CHECK_EQ_INT(chain_ledger_commit_pending(l, p, NULL, err, sizeof err), BASED_E_BAD_BLOCK);
    CHECK_EQ_STR(err, "block 1 was already committed");
    err[0] = '\0';
    CHECK_EQ_INT(chain_ledger_commit_pending(l, p2, NULL, err, sizeof err), BASED_E_BAD_BLOCK);
    CHECK_EQ_STR(err, "block 1 was executed on another head");
    CHECK_EQ_MEM(chain_ledger_head(l).hash.b, h1.hash.b, 32);
    chain_pending_free(p);
    chain_pending_free(p2);
    /* the block holds the two included txs, in input order, indexed */
    chain_block b;
    CHECK_EQ_INT(chain_ledger_block(l, 1, &b), BASED_E_OK);
    CHECK_EQ_INT(b.ntx, 2);
    CHECK_EQ_MEM(b.txs[0].hash.b, tx[0].hash.b, 32);
    CHECK_EQ_MEM(b.txs[1].hash.b, tx[4].hash.b, 32);
    chain_block_release(&b);
    uint64_t ht;
    uint32_t idx;
    json_t *r;
    CHECK_EQ_INT(chain_ledger_tx(l, &tx[4].hash, &ht, &idx, &r), BASED_E_OK);
    CHECK_EQ_U64(ht, 1);
    CHECK_EQ_INT(idx, 1);
    json_decref(r);
    CHECK_EQ_INT(chain_ledger_tx(l, &tx[2].hash, &ht, &idx, &r), BASED_E_NOT_FOUND);
    uint64_t nonce;
    CHECK_EQ_U64(eng_balance(l, 1, &nonce), 1000000ull * CHAIN_COIN - 200 - 20000);
    CHECK_EQ_U64(nonce, 2);
    /* bad inputs: height, time, proposer */
    in = eng_input(&g, 3, T0 + 5000, NULL, 0);
    err[0] = '\0';
    CHECK_EQ_INT(chain_ledger_execute(l, &in, &p, err, sizeof err), BASED_E_BAD_BLOCK);
    CHECK_EQ_STR(err, "block 3 is not the next height (head 1)");
    in.height = 2;
    in.time_ms = T0 + 1000;
    CHECK_EQ_INT(chain_ledger_execute(l, &in, &p, err, sizeof err), BASED_E_BAD_BLOCK);
    CHECK_EQ_STR(err, "block 2: time is not after the previous block's");
    in.time_ms = T0 + 1001;
    in.proposer.b[0] ^= 1;
    CHECK_EQ_INT(chain_ledger_execute(l, &in, &p, err, sizeof err), BASED_E_UNAUTHORIZED);
    CHECK(p == NULL);
    chain_ledger_free(l);
    for (int i = 0; i < 5; i++)
        chain_tx_release(&tx[i]);
    chain_tx_release(&good3);
    chain_genesis_release(&g);
}

/* The check state: admitted txs advance nonces and spend balances; dry runs
 * leave nothing; it rests on the head. */
TEST(engine_checkstate_nonces_and_balances)
{
    chain_genesis g;
    uint8_t sk[64];
    chain_ledger *l;
    char err[512], db[512];
    chain_addr d1, d2;
    chain_account a;
    const char *why = "";
    eng_genesis(&g, sk);
    eng_addr(1, &d1);
    eng_addr(2, &d2);
    snprintf(db, sizeof db, "%s/db", test_tmpdir());
    CHECK_EQ_INT(chain_ledger_open(based_runtime(), db, &g, &l, err, sizeof err), BASED_E_OK);
    chain_checkstate *c = chain_ledger_check_begin(l);
    CHECK(c != NULL);
    chain_tx t0, t1, t3, t3b, big1, fit1, badsig, wrongchain;
    eng_transfer(&t0, 1, 5, 1000, 0);
    eng_transfer(&t1, 1, 5, 1000, 1);
    eng_transfer(&t3, 1, 5, 1000, 3);
    CHECK_EQ_INT(chain_checkstate_tx(c, &t0, false, &why), BASED_E_OK);
    CHECK_EQ_INT(chain_checkstate_tx(c, &t1, false, &why), BASED_E_OK);
    CHECK_EQ_INT(chain_checkstate_account(c, &d1, &a), BASED_E_OK);
    CHECK_EQ_U64(a.nonce, 2);
    CHECK_EQ_U64(a.balance, 1000000ull * CHAIN_COIN - 2000 - 20000);
    why = "";
    CHECK_EQ_INT(chain_checkstate_tx(c, &t3, false, &why), BASED_E_NONCE_GAP);
    CHECK(why[0] != '\0');
    CHECK_EQ_INT(chain_checkstate_tx(c, &t0, false, &why), BASED_E_NONCE_USED);
    CHECK_EQ_INT(chain_checkstate_tx(c, &t1, true, &why), BASED_E_NONCE_USED);
    CHECK_EQ_INT(chain_checkstate_account(c, &d1, &a), BASED_E_OK);
    CHECK_EQ_U64(a.nonce, 2);
    /* balance: 600k then 500k of 1M does not fit; 399k does */
    chain_tx first;
    eng_transfer(&first, 2, 5, 600000ull * CHAIN_COIN, 0);
    eng_transfer(&big1, 2, 5, 500000ull * CHAIN_COIN, 1);
    eng_transfer(&fit1, 2, 5, 399000ull * CHAIN_COIN, 1);
    CHECK_EQ_INT(chain_checkstate_tx(c, &big1, true, &why), BASED_E_NONCE_GAP);
    CHECK_EQ_INT(chain_checkstate_tx(c, &first, false, &why), BASED_E_OK);
    CHECK_EQ_INT(chain_checkstate_tx(c, &big1, false, &why), BASED_E_INSUFFICIENT);
    CHECK_EQ_INT(chain_checkstate_tx(c, &big1, true, &why), BASED_E_INSUFFICIENT);
    /* a dry run that would pass leaves no effect */
    CHECK_EQ_INT(chain_checkstate_tx(c, &fit1, true, &why), BASED_E_OK);
    CHECK_EQ_INT(chain_checkstate_account(c, &d2, &a), BASED_E_OK);
    CHECK_EQ_U64(a.nonce, 1);
    CHECK_EQ_U64(a.balance, 400000ull * CHAIN_COIN - 10000);
    CHECK_EQ_INT(chain_checkstate_tx(c, &fit1, true, &why), BASED_E_OK);
    CHECK_EQ_INT(chain_checkstate_tx(c, &fit1, false, &why), BASED_E_OK);
    CHECK_EQ_INT(chain_checkstate_account(c, &d2, &a), BASED_E_OK);
    CHECK_EQ_U64(a.nonce, 2);
    CHECK_EQ_U64(a.balance, 1000ull * CHAIN_COIN - 20000);
    /* stateless checks first */
    eng_transfer(&t3b, 3, 5, 1, 0);
    eng_badsig(&t3b, &badsig);
    CHECK_EQ_INT(chain_checkstate_tx(c, &badsig, false, &why), BASED_E_BAD_SIGNATURE);
    {
        uint8_t k[32], pl[CHAIN_TRANSFER_LEN];
        chain_transfer tr = { d1, 5 };
        chain_key_dev(3, k);
        chain_transfer_encode(&tr, pl);
        chain_tx_make(&wrongchain, "other-chain", 0, 10000, CHAIN_KIND_TRANSFER, pl, sizeof pl, k);
    }
    CHECK_EQ_INT(chain_checkstate_tx(c, &wrongchain, false, &why), BASED_E_WRONG_CHAIN);
    CHECK_EQ_INT(chain_checkstate_tx(c, &t3b, false, &why), BASED_E_OK);
    /* the committed state did not move */
    uint64_t nonce;
    CHECK_EQ_U64(eng_balance(l, 1, &nonce), 1000000ull * CHAIN_COIN);
    CHECK_EQ_U64(nonce, 0);
    CHECK_EQ_U64(eng_balance(l, 2, &nonce), 1000000ull * CHAIN_COIN);
    chain_checkstate_free(c);
    /* a block with t0; a new check state rests on it */
    chain_tx *cand[1] = { &t0 };
    size_t inc = 0;
    CHECK_EQ_INT(chain_ledger_produce(l, cand, 1, 0, sk, NULL, NULL, &inc, err, sizeof err),
                 BASED_E_OK);
    CHECK_EQ_INT(inc, 1);
    c = chain_ledger_check_begin(l);
    CHECK(c != NULL);
    CHECK_EQ_INT(chain_checkstate_tx(c, &t0, false, &why), BASED_E_NONCE_USED);
    CHECK_EQ_INT(chain_checkstate_tx(c, &t1, false, &why), BASED_E_OK);
    CHECK_EQ_INT(chain_checkstate_account(c, &d1, &a), BASED_E_OK);
    CHECK_EQ_U64(a.nonce, 2);
    chain_checkstate_free(c);
    chain_ledger_free(l);
    chain_tx *all[] = { &t0, &t1, &t3, &t3b, &big1, &fit1, &badsig, &wrongchain, &first };
    for (size_t i = 0; i < BASED_ARRAY_LEN(all); i++)
        chain_tx_release(all[i]);
    chain_genesis_release(&g);
}

/* max_block_txs: skip mode leaves the rest out ("block is full"), strict
 * mode fails, apply refuses a block with more. */
TEST(engine_block_full)
{
    chain_genesis g;
    uint8_t sk[64];
    chain_edpub pub;
    chain_ledger *l, *l2;
    char err[512], db[512], db2[512];
    const char *src = chain_genesis_default, *at = strstr(src, "\"max_block_txs\": 5000");
    CHECK(at != NULL);
    size_t cap = strlen(src) + 1;
    char *text = malloc(cap);
    CHECK(text != NULL);
    snprintf(text, cap, "%.*s\"max_block_txs\": 2   %s", (int)(at - src), src,
             at + strlen("\"max_block_txs\": 5000"));
    CHECK_EQ_INT(chain_genesis_parse(text, strlen(text), "g.json", &g, err, sizeof err),
                 BASED_E_OK);
    free(text);
    CHECK_EQ_U64(g.params.max_block_txs, 2);
    chain_ed_generate(sk, &pub);
    chain_genesis_make_dev(&g, &pub, T0);
    snprintf(db, sizeof db, "%s/db", test_tmpdir());
    snprintf(db2, sizeof db2, "%s/db2", test_tmpdir());
    CHECK_EQ_INT(chain_ledger_open(based_runtime(), db, &g, &l, err, sizeof err), BASED_E_OK);
    chain_tx tx[3];
    for (unsigned i = 0; i < 3; i++)
        eng_transfer(&tx[i], 1 + i, 5, 1, 0);
    chain_tx *c[3] = { &tx[0], &tx[1], &tx[2] };
    chain_block_input in = eng_input(&g, 1, T0 + 1000, c, 3);
    chain_pending *p = NULL;
    CHECK_EQ_INT(chain_ledger_execute(l, &in, &p, err, sizeof err), BASED_E_BAD_BLOCK);
    CHECK(strstr(err, "block is full") != NULL);
    in.skip_failing = true;
    CHECK_EQ_INT(chain_ledger_execute(l, &in, &p, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(chain_pending_included(p), 2);
    const char *why = "";
    CHECK_EQ_INT(chain_pending_result(p, 2, &why), BASED_E_TOO_LARGE);
    CHECK_EQ_STR(why, "block is full");
    CHECK_EQ_INT(chain_ledger_commit_pending(l, p, sk, err, sizeof err), BASED_E_OK);
    chain_pending_free(p);
    /* a dev block of 3 txs (signed, but over the limit) is refused */
    chain_block b;
    chain_commit_sig cs[CHAIN_MAX_AUTHORITIES];
    size_t ncs;
    CHECK_EQ_INT(chain_ledger_block(l, 1, &b), BASED_E_OK);
    CHECK_EQ_INT(chain_ledger_commit(l, 1, cs, &ncs), BASED_E_OK);
    CHECK_EQ_INT(ncs, 1);    /* the dev engine: the producer's commit signature */
    CHECK(!all_zero(b.proposer_sig.b, 64));
    chain_tx *three = calloc(3, sizeof *three);
    CHECK(three != NULL);
    for (size_t i = 0; i < 2; i++)
        chain_tx_copy(&three[i], &b.txs[i]);
    chain_tx_copy(&three[2], &tx[2]);
    chain_block big = b;
    big.txs = three;
    big.ntx = 3;
    big.h.tx_root = chain_tx_root(three, 3);
    big.hash = chain_header_hash(&big.h);
    CHECK_EQ_INT(chain_ledger_open(based_runtime(), db2, &g, &l2, err, sizeof err), BASED_E_OK);
    err[0] = '\0';
    CHECK_EQ_INT(chain_ledger_apply(l2, &big, cs, ncs, err, sizeof err), BASED_E_BAD_BLOCK);
    CHECK(strstr(err, "too many transactions") != NULL);
    CHECK_EQ_INT(chain_ledger_apply(l2, &b, cs, ncs, err, sizeof err), BASED_E_OK);
    CHECK_EQ_MEM(chain_ledger_head(l2).state_root.b, chain_ledger_head(l).state_root.b, 32);
    for (size_t i = 0; i < 3; i++)
        chain_tx_release(&three[i]);
    free(three);
    chain_block_release(&b);
    chain_ledger_free(l2);
    chain_ledger_free(l);
    for (unsigned i = 0; i < 3; i++)
        chain_tx_release(&tx[i]);
    chain_genesis_release(&g);
}
