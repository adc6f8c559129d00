/* The in-process ABCI++ test node (see fixture.h). */
#include <sodium.h>

#include "tests/runner.h"
#include "node/runtime.h"
#include "tests/abciapp/fixture.h"
#include "chain/account.h"
#include "node/log.h"

static void die(const char *what, const char *err)
{
    fprintf(stderr, "fixture: %s: %s\n", what, err);
    abort();
}

/* The authorities' keys come from fixed seeds, so every node of a test
 * builds the same genesis. */
static void fx_keys(fx *f)
{
    for (int i = 0; i < 2; i++) {
        uint8_t seed[32], pk[32], h[crypto_hash_sha256_BYTES];
        memset(seed, 0x51 + i, sizeof seed);
        crypto_sign_seed_keypair(pk, f->ask[i], seed);
        crypto_hash_sha256(h, pk, 32);
        memcpy(f->addr[i], h, 20);
    }
}

static void fx_genesis(fx *f)
{
    const char *src = chain_genesis_default;
    char auth[1024], bal[2048], hx[65], ss[CHAIN_ADDR_STRLEN];
    chain_addr a;
    size_t n = 0;
    n += (size_t)snprintf(auth + n, sizeof auth - n, "\"authorities\": [");
    for (int i = 0; i < 2; i++) {
        chain_hex(f->ask[i] + 32, 32, hx);
        fx_dev(8u + (unsigned)i, &a);
        chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &a, ss);
        n += (size_t)snprintf(auth + n, sizeof auth - n,
                              "%s{\"name\": \"auth%d\", \"key\": \"0x%s\", \"power\": %d, "
                              "\"account\": \"%s\"}", i ? ", " : "", i, hx, 10 * (i + 1), ss);
    }
    snprintf(auth + n, sizeof auth - n, "]");
    n = (size_t)snprintf(bal, sizeof bal, "\"balances\": [");
    for (unsigned i = 0; i < FX_FUNDED; i++) {
        fx_dev(i, &a);
        chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &a, ss);
        n += (size_t)snprintf(bal + n, sizeof bal - n, "%s{\"address\": \"%s\", \"amount\": "
                              "\"1000000\"}", i ? ", " : "", ss);
    }
    snprintf(bal + n, sizeof bal - n, "]");
    const char *pa = strstr(src, "\"authorities\": []");
    const char *pb = strstr(src, "\"balances\": []");
    if (!pa || !pb || pb < pa)
        die("genesis.json", "no empty authorities and balances to fill");
    size_t cap = strlen(src) + sizeof auth + sizeof bal;
    char *text = malloc(cap);
    if (!text)
        die("genesis", "out of memory");
    snprintf(text, cap, "%.*s%s%.*s%s%s", (int)(pa - src), src, auth,
             (int)(pb - (pa + strlen("\"authorities\": []"))), pa + strlen("\"authorities\": []"),
             bal, pb + strlen("\"balances\": []"));
    if (chain_genesis_parse(text, strlen(text), "net-genesis.json", &f->g, f->err,
                            sizeof f->err) != BASED_E_OK)
        die("genesis", f->err);
    free(text);
}

void fx_open(fx *f, const char *name)
{
    memset(f, 0, sizeof *f);
    node_log_set_level(NODE_LOG_ERROR);
    node_log_set_stderr(false);
    fx_keys(f);
    fx_genesis(f);
    snprintf(f->db, sizeof f->db, "%s/%s", test_tmpdir(), name);
    if (chain_ledger_open(based_runtime(), f->db, &f->g, &f->l, f->err, sizeof f->err) != BASED_E_OK)
        die("open", f->err);
    if (node_abci_app_new(f->l, &f->app, f->err, sizeof f->err) != BASED_E_OK)
        die("app", f->err);
    f->a = abci_arena_new();
    if (!f->a)
        die("arena", "out of memory");
}

void fx_close(fx *f)
{
    node_abci_app_free(f->app);
    chain_ledger_free(f->l);
    abci_arena_free(f->a);
    chain_genesis_release(&f->g);
    f->app = NULL;
    f->l = NULL;
    f->a = NULL;
}

void fx_reopen(fx *f)
{
    node_abci_app_free(f->app);
    chain_ledger_free(f->l);
    f->app = NULL;
    if (chain_ledger_open(based_runtime(), f->db, NULL, &f->l, f->err, sizeof f->err) != BASED_E_OK)
        die("reopen", f->err);
    if (node_abci_app_new(f->l, &f->app, f->err, sizeof f->err) != BASED_E_OK)
        die("app", f->err);
}

int fx_call(fx *f, Abci__Request *req, Abci__Response *resp)
{
    abci__response__init(resp);
    f->err[0] = '\0';
    return node_abci_app_handle(f->app, req, resp, f->a, f->err, sizeof f->err);
}

int fx_packs(const Abci__Response *resp)
{
    size_t n = abci__response__get_packed_size(resp);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return 0;
    size_t m = abci__response__pack(resp, buf);
    Abci__Response *back = m == n ? abci__response__unpack(NULL, n, buf) : NULL;
    int ok = back && back->value_case == resp->value_case;
    abci__response__free_unpacked(back, NULL);
    free(buf);
    return ok;
}

Abci__ResponseInfo *fx_info(fx *f)
{
    Abci__Request rq;
    Abci__RequestInfo q;
    Abci__Response rs;
    abci__request__init(&rq);
    abci__request_info__init(&q);
    rq.value_case = ABCI__REQUEST__VALUE_INFO;
    rq.info = &q;
    if (fx_call(f, &rq, &rs) != 0 || rs.value_case != ABCI__RESPONSE__VALUE_INFO || !fx_packs(&rs))
        return NULL;
    return rs.info;
}

Abci__ResponseCheckTx *fx_check(fx *f, const void *tx, size_t len, bool recheck)
{
    Abci__Request rq;
    Abci__RequestCheckTx q;
    Abci__Response rs;
    abci__request__init(&rq);
    abci__request_check_tx__init(&q);
    q.tx.data = (uint8_t *)(uintptr_t)tx;
    q.tx.len = len;
    q.type = recheck ? ABCI__CHECK_TX_TYPE__RECHECK : ABCI__CHECK_TX_TYPE__NEW;
    rq.value_case = ABCI__REQUEST__VALUE_CHECK_TX;
    rq.check_tx = &q;
    if (fx_call(f, &rq, &rs) != 0 || rs.value_case != ABCI__RESPONSE__VALUE_CHECK_TX ||
        !fx_packs(&rs))
        return NULL;
    return rs.check_tx;
}

/* The fields every block request shares. */
typedef struct {
    Abci__Timestamp ts;
    uint8_t addr[20];
    ProtobufCBinaryData proposer;
} blk_common;

static Abci__Timestamp *blk_fill(fx *f, const fx_blk *b, blk_common *c)
{
    abci__timestamp__init(&c->ts);
    c->ts.seconds = b->secs;
    c->ts.nanos = b->nanos;
    if (b->proposer >= 0)
        memcpy(c->addr, f->addr[b->proposer], 20);
    else
        memset(c->addr, 0xee, 20);
    c->proposer.data = c->addr;
    c->proposer.len = b->proposer == -2 ? 19 : 20;
    return b->no_time ? NULL : &c->ts;
}

Abci__ResponsePrepareProposal *fx_prepare(fx *f, const fx_blk *b)
{
    Abci__Request rq;
    Abci__RequestPrepareProposal q;
    Abci__Response rs;
    blk_common c;
    abci__request__init(&rq);
    abci__request_prepare_proposal__init(&q);
    q.time = blk_fill(f, b, &c);
    q.proposer_address = c.proposer;
    q.height = b->height;
    q.max_tx_bytes = b->max_tx_bytes;
    q.txs = (ProtobufCBinaryData *)(uintptr_t)b->txs;
    q.n_txs = b->ntx;
    q.misbehavior = b->mb;
    q.n_misbehavior = b->nmb;
    rq.value_case = ABCI__REQUEST__VALUE_PREPARE_PROPOSAL;
    rq.prepare_proposal = &q;
    if (fx_call(f, &rq, &rs) != 0 || rs.value_case != ABCI__RESPONSE__VALUE_PREPARE_PROPOSAL ||
        !fx_packs(&rs))
        return NULL;
    return rs.prepare_proposal;
}

int fx_process(fx *f, const fx_blk *b)
{
    Abci__Request rq;
    Abci__RequestProcessProposal q;
    Abci__Response rs;
    blk_common c;
    abci__request__init(&rq);
    abci__request_process_proposal__init(&q);
    q.time = blk_fill(f, b, &c);
    q.proposer_address = c.proposer;
    q.height = b->height;
    q.txs = (ProtobufCBinaryData *)(uintptr_t)b->txs;
    q.n_txs = b->ntx;
    q.misbehavior = b->mb;
    q.n_misbehavior = b->nmb;
    rq.value_case = ABCI__REQUEST__VALUE_PROCESS_PROPOSAL;
    rq.process_proposal = &q;
    if (fx_call(f, &rq, &rs) != 0 || rs.value_case != ABCI__RESPONSE__VALUE_PROCESS_PROPOSAL ||
        !fx_packs(&rs))
        return -1;
    return (int)rs.process_proposal->status;
}

Abci__ResponseFinalizeBlock *fx_finalize(fx *f, const fx_blk *b)
{
    Abci__Request rq;
    Abci__RequestFinalizeBlock q;
    Abci__Response rs;
    blk_common c;
    abci__request__init(&rq);
    abci__request_finalize_block__init(&q);
    q.time = blk_fill(f, b, &c);
    q.proposer_address = c.proposer;
    q.height = b->height;
    q.txs = (ProtobufCBinaryData *)(uintptr_t)b->txs;
    q.n_txs = b->ntx;
    q.misbehavior = b->mb;
    q.n_misbehavior = b->nmb;
    rq.value_case = ABCI__REQUEST__VALUE_FINALIZE_BLOCK;
    rq.finalize_block = &q;
    if (fx_call(f, &rq, &rs) != 0 || rs.value_case != ABCI__RESPONSE__VALUE_FINALIZE_BLOCK ||
        !fx_packs(&rs))
        return NULL;
    return rs.finalize_block;
}

int fx_commit(fx *f)
{
    Abci__Request rq;
    Abci__RequestCommit q;
    Abci__Response rs;
    abci__request__init(&rq);
    abci__request_commit__init(&q);
    rq.value_case = ABCI__REQUEST__VALUE_COMMIT;
    rq.commit = &q;
    int rc = fx_call(f, &rq, &rs);
    if (rc == 0 && (rs.value_case != ABCI__RESPONSE__VALUE_COMMIT || !fx_packs(&rs)))
        return -2;
    return rc;
}

Abci__ResponseQuery *fx_query(fx *f, const char *path, const void *data, size_t len)
{
    Abci__Request rq;
    Abci__RequestQuery q;
    Abci__Response rs;
    abci__request__init(&rq);
    abci__request_query__init(&q);
    q.path = (char *)(uintptr_t)path;
    q.data.data = (uint8_t *)(uintptr_t)data;
    q.data.len = len;
    rq.value_case = ABCI__REQUEST__VALUE_QUERY;
    rq.query = &q;
    if (fx_call(f, &rq, &rs) != 0 || rs.value_case != ABCI__RESPONSE__VALUE_QUERY ||
        !fx_packs(&rs))
        return NULL;
    return rs.query;
}

void fx_empty_block(fx *f)
{
    chain_head h = chain_ledger_head(f->l);
    fx_blk b;
    memset(&b, 0, sizeof b);
    b.height = (int64_t)h.height + 1;
    b.secs = (int64_t)(h.time_ms / 1000) + 1;
    if (!fx_finalize(f, &b) || fx_commit(f) != 0)
        die("empty block", f->err);
}

void fx_dev(unsigned i, chain_addr *a)
{
    uint8_t sk[32];
    chain_key_dev(i, sk);
    chain_key_pub(sk, a);
}

void fx_transfer(chain_tx *tx, unsigned from, unsigned to, uint64_t amount, uint64_t nonce)
{
    uint8_t sk[32], p[CHAIN_TRANSFER_LEN];
    chain_transfer t;
    fx_dev(to, &t.to);
    t.amount = amount;
    chain_key_dev(from, sk);
    chain_transfer_encode(&t, p);
    if (chain_tx_make(tx, "based-devnet", nonce, 10000, CHAIN_KIND_TRANSFER, p, sizeof p, sk) !=
        BASED_E_OK)
        die("transfer", "cannot sign");
}

void fx_badsig(const chain_tx *tx, chain_tx *out)
{
    uint8_t raw[CHAIN_TX_MAX];
    const char *why;
    memcpy(raw, tx->raw, tx->raw_len);
    raw[tx->raw_len - 1] ^= 0x01;
    if (chain_tx_decode(raw, tx->raw_len, out, &why) != BASED_E_OK)
        die("badsig", why);
}

ProtobufCBinaryData fx_bin(const chain_tx *tx)
{
    ProtobufCBinaryData b = { tx->raw_len, tx->raw };
    return b;
}
