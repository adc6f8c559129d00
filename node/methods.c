/*
 * methods.c: the node's JSON-RPC methods, one row each in node_methods[]
 * (the table also generates rpc.discover and is checked against
 * docs/rpc.md by a test). Handlers run on the loop thread and only read
 * the ledger, except tx_send which adds to the mempool.
 */
#include <errno.h>
#include <time.h>
#include <sodium.h>

#include "chain/account.h"
#include "chain/kinds.h"
#include "contracts/contracts.h"
#include "node/abci_app.h"
#include "node/cmtrpc.h"
#include "node/node.h"
#include "rewards/rewards.h"
#include "rewards/tftchain.h"
#include "rewards/tftnet.h"

/* ---------------- JSON forms ---------------- */

static json_t *hash_json(const chain_hash *h)
{
    char s[67];
    chain_hash_hex(h, s);
    return json_string(s);
}

static json_t *amount_json(uint64_t v)
{
    char s[32];
    chain_amount_format(v, s);
    return json_string(s);
}

static json_t *base_json(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, v);
    return json_string(s);
}

static json_t *time_json(uint64_t ms)
{
    char s[40];
    struct tm tm;
    time_t t = (time_t)(ms / 1000);
    if (!gmtime_r(&t, &tm))
        return json_null();
    size_t n = strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(s + n, sizeof s - n, ".%03uZ", (unsigned)(ms % 1000));
    return json_string(s);
}

static json_t *addr_json(const node_ctx *c, const chain_addr *a)
{
    char s[CHAIN_ADDR_STRLEN];
    chain_ss58_encode(chain_ledger_genesis(c->ledger)->ss58_prefix, a, s);
    return json_string(s);
}

static json_t *tx_json(const node_ctx *c, const chain_tx *tx)
{
    const chain_kind *k = chain_kind_find(tx->kind);
    uint16_t prefix = chain_ledger_genesis(c->ledger)->ss58_prefix;
    return json_pack("{s:o,s:s,s:o,s:I,s:o,s:o,s:s,s:I,s:o}",
                     "hash", hash_json(&tx->hash),
                     "chain_id", tx->chain_id,
                     "sender", addr_json(c, &tx->sender),
                     "nonce", (json_int_t)tx->nonce,
                     "fee", amount_json(tx->fee),
                     "fee_base", base_json(tx->fee),
                     "kind", k ? k->name : "unknown",
                     "size", (json_int_t)tx->raw_len,
                     "payload", k ? k->to_json(tx->payload, tx->payload_len, prefix) : json_null());
}

static json_t *commit_json(const chain_commit_sig *sigs, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char s[131];
        s[0] = '0';
        s[1] = 'x';
        chain_hex(sigs[i].sig.b, 64, s + 2);
        json_array_append_new(arr, json_pack("{s:i,s:s}", "authority", sigs[i].index,
                                             "signature", s));
    }
    return arr;
}

/* ---------------- argument helpers ---------------- */

static based_err parse_hash_arg(json_t *v, chain_hash *h)
{
    return chain_unhex(json_string_value(v), h->b, 32);
}

/* ---------------- methods ---------------- */

static json_t *m_node_getInfo(void *ctx, json_t *const *args, node_rpc_error *err)
{
    node_ctx *c = ctx;
    const chain_genesis *g = chain_ledger_genesis(c->ledger);
    chain_head h = chain_ledger_head(c->ledger);
    (void)args;
    (void)err;
    json_t *out = json_pack("{s:s,s:s,s:o,s:i,s:I,s:o,s:i,s:b,s:b,s:b,s:I,s:I,s:s}",
                     "version", BASED_VERSION,
                     "chain_id", g->chain_id,
                     "genesis_hash", hash_json(&g->hash),
                     "ss58_prefix", g->ss58_prefix,
                     "height", (json_int_t)h.height,
                     "head", hash_json(&h.hash),
                     "peers", 0,
                     "syncing", 0,
                     "authority", c->authority,
                     "dev", c->dev,
                     "block_time_ms", (json_int_t)g->block_time_ms,
                     "mempool_size", (json_int_t)node_mempool_size(c->mempool),
                     "consensus", c->abci ? "cometbft" : "dev");
    if (out && c->cmt)
        node_cmtrpc_info(c->cmt, out);
    return out;
}

static json_t *m_chain_getHead(void *ctx, json_t *const *args, node_rpc_error *err)
{
    node_ctx *c = ctx;
    chain_head h = chain_ledger_head(c->ledger);
    (void)args;
    (void)err;
    return json_pack("{s:I,s:o,s:I,s:o,s:o}", "height", (json_int_t)h.height,
                     "hash", hash_json(&h.hash), "time_ms", (json_int_t)h.time_ms,
                     "time", time_json(h.time_ms), "state_root", hash_json(&h.state_root));
}

static json_t *m_chain_getEvidence(void *ctx, json_t *const *args, node_rpc_error *err)
{
    node_ctx *c = ctx;
    enum { PAGE = 100 };
    chain_evidence_record rec[PAGE];
    size_t n = 0;
    json_int_t from = args[0] ? json_integer_value(args[0]) : 0;
    if (from < 0)
        return node_rpc_fail(err, BASED_E_BAD_PARAM, "from", "from must not be negative");
    if (chain_ledger_evidence(c->ledger, (size_t)from, rec, PAGE, &n) != BASED_E_OK)
        return node_rpc_fail(err, BASED_E_DB, "from", "cannot read the evidence");
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const chain_evidence *e = &rec[i].ev;
        char addr[41];
        int ai = -1;
        const chain_genesis *g = chain_ledger_genesis(c->ledger);
        for (size_t k = 0; k < g->nauth && ai < 0; k++) {
            uint8_t h[32];
            crypto_hash_sha256(h, g->auth[k].key.b, 32);
            if (memcmp(h, e->address, 20) == 0)
                ai = (int)k;
        }
        chain_hex(e->address, 20, addr);
        json_t *o = json_pack("{s:I,s:s,s:s,s:I,s:I,s:o,s:I,s:I}",
                              "recorded_at", (json_int_t)rec[i].block_height,
                              "type", e->type == CHAIN_EVIDENCE_DUPLICATE_VOTE
                                          ? "duplicate_vote" : "light_client_attack",
                              "validator_address", addr, "height", (json_int_t)e->height,
                              "time_ms", (json_int_t)e->time_ms, "time", time_json(e->time_ms),
                              "power", (json_int_t)e->power,
                              "total_power", (json_int_t)e->total_power);
        if (o && ai >= 0) {
            chain_hash kh;
            memcpy(kh.b, g->auth[ai].key.b, 32);
            json_object_set_new(o, "authority", hash_json(&kh));
        }
        json_array_append_new(arr, o);
    }
    return json_pack("{s:o,s:I}", "evidence", arr, "next", (json_int_t)((size_t)from + n));
}

/* Height from an integer, a decimal string, "latest" or a 0x block hash. */
static json_t *block_height_arg(node_ctx *c, json_t *v, uint64_t *height, node_rpc_error *err)
{
    chain_head h = chain_ledger_head(c->ledger);
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return node_rpc_fail(err, BASED_E_BAD_PARAM, "height_or_hash",
                                 "height must not be negative");
        *height = (uint64_t)json_integer_value(v);
    } else {
        const char *s = json_string_value(v);
        char *end;
        chain_hash hash;
        if (strcmp(s, "latest") == 0) {
            *height = h.height;
        } else if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
            if (parse_hash_arg(v, &hash) != BASED_E_OK)
                return node_rpc_fail(err, BASED_E_BAD_HEX, "height_or_hash",
                                     "block hash must be 0x followed by 64 hex digits");
            if (chain_hash_eq(&hash, &chain_ledger_genesis(c->ledger)->hash))
                *height = 0;
            else if (chain_ledger_height_of(c->ledger, &hash, height) != BASED_E_OK)
                return node_rpc_fail(err, BASED_E_NOT_FOUND, "height_or_hash",
                                     "no block with hash %s", s);
        } else {
            errno = 0;
            unsigned long long u = strtoull(s, &end, 10);
            if (!*s || *end || errno || s[0] == '-')
                return node_rpc_fail(err, BASED_E_BAD_PARAM, "height_or_hash",
                                     "expected a height, \"latest\" or a 0x block hash");
            *height = u;
        }
    }
    if (*height > h.height)
        return node_rpc_fail(err, BASED_E_NOT_FOUND, "height_or_hash",
                             "no block at height %" PRIu64 " (head is %" PRIu64 ")", *height,
                             h.height);
    return json_true(); /* non-NULL marker; caller drops it */
}

static json_t *genesis_block_json(node_ctx *c)
{
    const chain_genesis *g = chain_ledger_genesis(c->ledger);
    return json_pack("{s:i,s:o,s:I,s:o,s:i,s:[],s:[]}", "height", 0, "hash", hash_json(&g->hash),
                     "time_ms", (json_int_t)g->genesis_time_ms, "time", time_json(g->genesis_time_ms),
                     "tx_count", 0, "txs", "commit");
}

static json_t *m_chain_getBlock(void *ctx, json_t *const *args, node_rpc_error *err)
{
    node_ctx *c = ctx;
    uint64_t height;
    chain_block b;
    chain_commit_sig cs[CHAIN_MAX_AUTHORITIES];
    size_t ncs = 0;
    json_t *ok = block_height_arg(c, args[0], &height, err);
    if (!ok)
        return NULL;
    json_decref(ok);
    if (height == 0)
        return genesis_block_json(c);
    if (chain_ledger_block(c->ledger, height, &b) != BASED_E_OK)
        return node_rpc_fail(err, BASED_E_DB, "height_or_hash", "block %" PRIu64 " unreadable",
                             height);
    chain_ledger_commit(c->ledger, height, cs, &ncs);
    bool full = args[1] && json_is_true(args[1]);
    json_t *txs = json_array();
    for (size_t i = 0; i < b.ntx; i++)
        json_array_append_new(txs, full ? tx_json(c, &b.txs[i]) : hash_json(&b.txs[i].hash));
    char prop[67];
    prop[0] = '0';
    prop[1] = 'x';
    chain_hex(b.h.proposer.b, 32, prop + 2);
    json_t *out = json_pack("{s:I,s:o,s:o,s:I,s:o,s:o,s:o,s:s,s:I,s:o,s:o,s:o}",
                            "height", (json_int_t)b.h.height, "hash", hash_json(&b.hash),
                            "prev_hash", hash_json(&b.h.prev_hash),
                            "time_ms", (json_int_t)b.h.time_ms, "time", time_json(b.h.time_ms),
                            "tx_root", hash_json(&b.h.tx_root),
                            "state_root", hash_json(&b.h.state_root), "proposer", prop,
                            "tx_count", (json_int_t)b.ntx, "txs", txs,
                            "last_commit", commit_json(b.h.commit, b.h.ncommit),
                            "commit", commit_json(cs, ncs));
    chain_block_release(&b);
    return out;
}

/* A sender's next nonce on a network node: the check state's, plus this
 * node's txs of the sender still on their way to CheckTx. */
static uint64_t network_next_nonce(node_ctx *c, const chain_addr *a)
{
    uint64_t next = node_abci_app_nonce(c->abci, a);
    return next + node_cmtrpc_inflight(c->cmt, a, next);
}

/* tx_send on a CometBFT network: the check CometBFT's CheckTx will make
 * (a tx may follow this node's txs of the same sender still on their way
 * to CometBFT), then the tx is handed to CometBFT, which gossips it. */
static based_err network_submit(node_ctx *c, const uint8_t *raw, size_t n, chain_hash *hash,
                                const char **why)
{
    chain_tx tx;
    based_err rc = chain_tx_decode(raw, n, &tx, why);
    if (rc != BASED_E_OK)
        return rc;
    *hash = tx.hash;
    uint64_t next = node_abci_app_nonce(c->abci, &tx.sender),
             ahead = node_cmtrpc_inflight(c->cmt, &tx.sender, next);
    if (!ahead)
        rc = node_abci_app_precheck(c->abci, &tx, why);
    else if (tx.nonce == next + ahead)
        rc = chain_tx_check(&tx, chain_ledger_genesis(c->ledger)->chain_id, why);
    else
        rc = tx.nonce < next + ahead ? BASED_E_NONCE_USED : BASED_E_NONCE_GAP, *why = "nonce";
    if (rc == BASED_E_OK && node_abci_app_admitted(c->abci, &tx.hash))
        rc = BASED_E_DUPLICATE, *why = "hash";
    if (rc == BASED_E_OK)
        rc = node_cmtrpc_submit(c->cmt, &tx);
    chain_tx_release(&tx);
    return rc;
}

static json_t *m_tx_send(void *ctx, json_t *const *args, node_rpc_error *err)
{
    node_ctx *c = ctx;
    const char *hex = json_string_value(args[0]), *why = "";
    size_t len = strlen(hex);
    chain_hash hash;
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
        hex += 2;
        len -= 2;
    }
    if (len > 2 * (size_t)CHAIN_TX_MAX)
        return node_rpc_fail(err, BASED_E_TX_TOO_LARGE, "hex",
                             "transaction larger than %d bytes", CHAIN_TX_MAX);
    if (len == 0 || len % 2)
        return node_rpc_fail(err, BASED_E_BAD_HEX, "hex", "hex must have an even, non-zero length");
    uint8_t *raw = malloc(len / 2);
    if (!raw)
        return node_rpc_fail(err, BASED_E_NOMEM, "hex", "out of memory");
    if (chain_unhex(hex, raw, len / 2) != BASED_E_OK) {
        free(raw);
        return node_rpc_fail(err, BASED_E_BAD_HEX, "hex", "hex contains a non-hex character");
    }
    based_err rc = c->abci ? network_submit(c, raw, len / 2, &hash, &why)
                           : node_mempool_add(c->mempool, c->ledger, raw, len / 2, &hash, &why);
    free(raw);
    if (rc != BASED_E_OK) {
        /* why is a field name, possibly followed by an explanation: "id (reserved)" */
        char field[64];
        size_t fl = strcspn(why, " ");
        snprintf(field, sizeof field, "%.*s", (int)(fl < sizeof field ? fl : sizeof field - 1), why);
        return node_rpc_fail(err, rc, field, "transaction rejected: %s (%s)", based_strerror(rc),
                             why);
    }
    return json_pack("{s:o}", "hash", hash_json(&hash));
}

/* A tx not yet in a block on a network: admitted to CometBFT's mempool,
 * on its way there, or refused by CometBFT's CheckTx. */
static json_t *network_tx(node_ctx *c, const chain_hash *h)
{
    char why[200];
    int code = 0;
    if (node_abci_app_admitted(c->abci, h))
        return json_pack("{s:o,s:s}", "hash", hash_json(h), "status", "pending");
    switch (node_cmtrpc_tx(c->cmt, h, &code, why, sizeof why)) {
    case NODE_CMT_TX_QUEUED:
        return json_pack("{s:o,s:s}", "hash", hash_json(h), "status", "pending");
    case NODE_CMT_TX_REJECTED:
        return json_pack("{s:o,s:s,s:s,s:s}", "hash", hash_json(h), "status", "rejected",
                         "error", code > 0 && code < BASED_E__COUNT ? based_errname((based_err)code)
                                                                     : "NETWORK",
                         "reason", why);
    default:
        return NULL;
    }
}

static json_t *m_tx_get(void *ctx, json_t *const *args, node_rpc_error *err)
{
    node_ctx *c = ctx;
    chain_hash hash;
    uint64_t height;
    uint32_t idx;
    json_t *receipt;
    if (parse_hash_arg(args[0], &hash) != BASED_E_OK)
        return node_rpc_fail(err, BASED_E_BAD_HEX, "hash", "tx hash must be 0x followed by 64 hex digits");
    const chain_tx *p = node_mempool_find(c->mempool, &hash);
    if (p)
        return json_pack("{s:o,s:s,s:o}", "hash", hash_json(&hash), "status", "pending",
                         "tx", tx_json(c, p));
    if (chain_ledger_tx(c->ledger, &hash, &height, &idx, &receipt) != BASED_E_OK) {
        json_t *net = c->abci ? network_tx(c, &hash) : NULL;
        if (net)
            return net;
        return node_rpc_fail(err, BASED_E_NOT_FOUND, "hash", "no transaction %s",
                             json_string_value(args[0]));
    }
    chain_block b;
    if (chain_ledger_block(c->ledger, height, &b) != BASED_E_OK || idx >= b.ntx) {
        json_decref(receipt);
        return node_rpc_fail(err, BASED_E_DB, "hash", "block %" PRIu64 " unreadable", height);
    }
    json_t *out = json_pack("{s:o,s:s,s:I,s:o,s:i,s:o,s:o}", "hash", hash_json(&hash),
                            "status", "committed", "block_height", (json_int_t)height,
                            "block_hash", hash_json(&b.hash), "index", (int)idx,
                            "tx", tx_json(c, &b.txs[idx]), "receipt", receipt);
    chain_block_release(&b);
    return out;
}

static json_t *m_account_get(void *ctx, json_t *const *args, node_rpc_error *err)
{
    node_ctx *c = ctx;
    chain_addr a;
    chain_account acct;
    const char *why;
    char id[67];
    if (chain_addr_parse(json_string_value(args[0]), chain_ledger_genesis(c->ledger)->ss58_prefix,
                         &a, &why) != BASED_E_OK)
        return node_rpc_fail(err, BASED_E_BAD_ADDRESS, "address", "%s", why);
    chain_view *v = chain_ledger_view(c->ledger);
    based_err rc = v ? chain_account_get(v, &a, &acct) : BASED_E_NOMEM;
    chain_view_free(v);
    if (rc != BASED_E_OK)
        return node_rpc_fail(err, rc, "address", "cannot read the account");
    id[0] = '0';
    id[1] = 'x';
    chain_hex(a.b, 32, id + 2);
    json_t *out = json_pack("{s:o,s:s,s:o,s:o,s:I,s:I}", "address", addr_json(c, &a),
                            "account_id", id, "balance", amount_json(acct.balance),
                            "balance_base", base_json(acct.balance), "nonce", (json_int_t)acct.nonce,
                            "next_nonce",
                            (json_int_t)(c->abci ? network_next_nonce(c, &a)
                                                 : node_mempool_next_nonce(c->mempool, c->ledger, &a)));
    v = chain_ledger_view(c->ledger);
    rc = v ? contract_account_json(chain_ledger_store(c->ledger), v, chain_ledger_genesis(c->ledger),
                                   &a, out) : BASED_E_NOMEM;
    chain_view_free(v);
    if (rc != BASED_E_OK) {
        json_decref(out);
        return node_rpc_fail(err, rc, "address", "cannot read the account's stakes and Brains");
    }
    return out;
}

/* ---------------- Brains, neurons, governance (contracts/) ---------------- */

static json_t *id_arg(json_t *v, const char *field, uint64_t max, uint64_t *id,
                      node_rpc_error *err)
{
    if (json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
        return node_rpc_fail(err, BASED_E_BAD_PARAM, field, "%s must be 0 to %" PRIu64, field, max);
    *id = (uint64_t)json_integer_value(v);
    return json_true();
}

/* Runs a contracts/ view on a fresh view of the head state. */
typedef json_t *(*view_fn)(chain_view *v, const chain_genesis *g, uint64_t height, uint64_t id,
                           based_err *code);

static json_t *with_view(node_ctx *c, view_fn fn, uint64_t id, const char *field,
                         node_rpc_error *err)
{
    based_err code = BASED_E_OK;
    chain_view *v = chain_ledger_view(c->ledger);
    json_t *r = v ? fn(v, chain_ledger_genesis(c->ledger), chain_ledger_head(c->ledger).height,
                       id, &code) : NULL;
    chain_view_free(v);
    if (!r && code == BASED_E_NOT_FOUND)
        return node_rpc_fail(err, code, field, "no %s %" PRIu64,
                             strcmp(field, "id") == 0 && fn == contract_gov_json ? "proposal"
                                                                                : "active Brain", id);
    if (!r)
        return node_rpc_fail(err, code ? code : BASED_E_NOMEM, field, "cannot read the state");
    return r;
}

static json_t *list_brains(chain_view *v, const chain_genesis *g, uint64_t h, uint64_t id,
                           based_err *code)
{
    (void)id;
    (void)code;
    return contract_brain_list_json(v, g, h);
}

static json_t *list_gov(chain_view *v, const chain_genesis *g, uint64_t h, uint64_t id,
                        based_err *code)
{
    (void)id;
    (void)code;
    return contract_gov_list_json(v, g, h);
}

static json_t *m_brain_list(void *ctx, json_t *const *args, node_rpc_error *err)
{
    (void)args;
    return with_view(ctx, list_brains, 0, "", err);
}

static json_t *m_brain_get(void *ctx, json_t *const *args, node_rpc_error *err)
{
    uint64_t id;
    json_t *ok = id_arg(args[0], "id", 1023, &id, err);
    if (!ok)
        return NULL;
    json_decref(ok);
    return with_view(ctx, contract_brain_json, id, "id", err);
}

/* contract_neurons_json plus the last epoch's metagraph columns. */
static json_t *neurons_with_rewards(chain_view *v, const chain_genesis *g, uint64_t h,
                                    uint64_t id, based_err *code)
{
    json_t *r = contract_neurons_json(v, g, h, id, code);
    if (r && (*code = reward_neurons_fields(v, id, json_object_get(r, "neurons"))) != BASED_E_OK) {
        json_decref(r);
        return NULL;
    }
    return r;
}

static json_t *m_brain_getNeurons(void *ctx, json_t *const *args, node_rpc_error *err)
{
    uint64_t id;
    json_t *ok = id_arg(args[0], "id", 1023, &id, err);
    if (!ok)
        return NULL;
    json_decref(ok);
    return with_view(ctx, neurons_with_rewards, id, "id", err);
}

static json_t *m_gov_list(void *ctx, json_t *const *args, node_rpc_error *err)
{
    (void)args;
    return with_view(ctx, list_gov, 0, "", err);
}

static json_t *m_gov_get(void *ctx, json_t *const *args, node_rpc_error *err)
{
    uint64_t id;
    json_t *ok = id_arg(args[0], "id", UINT32_MAX, &id, err);
    if (!ok)
        return NULL;
    json_decref(ok);
    return with_view(ctx, contract_gov_json, id, "id", err);
}

/* ---------------- rewards (rewards/) ---------------- */

/* An optional non-negative integer argument; *has = false when absent. */
static json_t *opt_u64_arg(json_t *v, const char *field, bool *has, uint64_t *out,
                           node_rpc_error *err)
{
    *has = v && !json_is_null(v);
    if (!*has)
        return json_true();
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return node_rpc_fail(err, BASED_E_BAD_PARAM, field, "%s must be a non-negative integer",
                             field);
    *out = (uint64_t)json_integer_value(v);
    return json_true();
}

static json_t *m_rewards_get(void *ctx, json_t *const *args, node_rpc_error *err)
{
    node_ctx *c = ctx;
    chain_addr a;
    const char *why;
    bool hf, ht;
    uint64_t from = 0, to = UINT64_MAX;
    json_t *ok;
    if (chain_addr_parse(json_string_value(args[0]), chain_ledger_genesis(c->ledger)->ss58_prefix,
                         &a, &why) != BASED_E_OK)
        return node_rpc_fail(err, BASED_E_BAD_ADDRESS, "address", "%s", why);
    if (!(ok = opt_u64_arg(args[1], "from_epoch", &hf, &from, err)))
        return NULL;
    json_decref(ok);
    if (!(ok = opt_u64_arg(args[2], "to_epoch", &ht, &to, err)))
        return NULL;
    json_decref(ok);
    if (from > to)
        return node_rpc_fail(err, BASED_E_BAD_PARAM, "to_epoch",
                             "to_epoch must not be below from_epoch");
    json_t *r = reward_account_json(chain_ledger_store(c->ledger), chain_ledger_genesis(c->ledger),
                                    &a, from, to);
    return r ? r : node_rpc_fail(err, BASED_E_DB, "address", "cannot read the reward records");
}

static json_t *m_rewards_getSchedule(void *ctx, json_t *const *args, node_rpc_error *err)
{
    node_ctx *c = ctx;
    bool has;
    uint64_t height = chain_ledger_head(c->ledger).height;
    json_t *ok = opt_u64_arg(args[0], "height", &has, &height, err);
    if (!ok)
        return NULL;
    json_decref(ok);
    chain_view *v = chain_ledger_view(c->ledger);
    json_t *r = v ? reward_schedule_json(v, chain_ledger_genesis(c->ledger), height) : NULL;
    chain_view_free(v);
    return r ? r : node_rpc_fail(err, BASED_E_DB, "height", "cannot read the supply");
}

static json_t *m_rewards_getEpoch(void *ctx, json_t *const *args, node_rpc_error *err)
{
    node_ctx *c = ctx;
    uint64_t id, epoch = 0;
    bool has;
    based_err code = BASED_E_OK;
    json_t *ok = id_arg(args[0], "brain", 1023, &id, err);
    if (!ok)
        return NULL;
    json_decref(ok);
    if (!(ok = opt_u64_arg(args[1], "epoch", &has, &epoch, err)))
        return NULL;
    json_decref(ok);
    chain_view *v = chain_ledger_view(c->ledger);
    json_t *r = v ? reward_epoch_json(v, chain_ledger_genesis(c->ledger), id, has, epoch, &code)
                  : NULL;
    chain_view_free(v);
    if (!r && code == BASED_E_NOT_FOUND) {
        v = chain_ledger_view(c->ledger);
        contract_brain b;
        bool brain = v && contract_brain_get(v, id, &b) == BASED_E_OK;
        chain_view_free(v);
        if (!brain)
            return node_rpc_fail(err, code, "brain", "no active Brain %" PRIu64, id);
        if (has)
            return node_rpc_fail(err, code, "epoch", "epoch %" PRIu64 " of Brain %" PRIu64
                                 " is not kept (the last 16 are)", epoch, id);
        return node_rpc_fail(err, code, "epoch", "Brain %" PRIu64 " has run no epoch yet", id);
    }
    return r ? r : node_rpc_fail(err, code ? code : BASED_E_NOMEM, "brain",
                                 "cannot read the state");
}

static json_t *weights_view(chain_view *v, const chain_genesis *g, uint64_t h, uint64_t id,
                            based_err *code)
{
    (void)h;
    return reward_weights_json(v, g, id, code);
}

static json_t *m_brain_getWeights(void *ctx, json_t *const *args, node_rpc_error *err)
{
    uint64_t id;
    json_t *ok = id_arg(args[0], "brain", 1023, &id, err);
    if (!ok)
        return NULL;
    json_decref(ok);
    return with_view(ctx, weights_view, id, "brain", err);
}

/* The network series (all, or one by name) for tft_getForecast. */
static json_t *m_tft_network(node_ctx *c, const char *which, node_rpc_error *err)
{
    based_err code = BASED_E_OK;
    chain_view *v = chain_ledger_view(c->ledger);
    json_t *r = v ? reward_tftnet_json(v, chain_ledger_genesis(c->ledger),
                                       chain_ledger_head(c->ledger).height, which, &code) : NULL;
    chain_view_free(v);
    if (!r && code == BASED_E_BAD_PARAM)
        return node_rpc_fail(err, code, "series", "series must be a Brain id (0 to 1023), "
                             "\"network\" or one of txs_per_block_milli, bytes_per_block_milli, "
                             "block_interval_ms, active_addresses, emission, total_stake");
    return r ? r : node_rpc_fail(err, code ? code : BASED_E_NOMEM, "series",
                                 "cannot read the state");
}

static json_t *m_tft_getForecast(void *ctx, json_t *const *args, node_rpc_error *err)
{
    uint64_t id;
    json_t *sel = args[0] && !json_is_null(args[0]) ? args[0] : NULL;
    json_t *byid = args[1] && !json_is_null(args[1]) ? args[1] : NULL;
    const char *field = byid ? "id" : "series";
    if (sel && byid)
        return node_rpc_fail(err, BASED_E_BAD_PARAM, "id", "give series or id, not both");
    if (byid)
        sel = byid;
    if (!sel || (json_is_string(sel) && strcmp(json_string_value(sel), "network") == 0))
        return m_tft_network(ctx, NULL, err);
    if (json_is_string(sel))
        return m_tft_network(ctx, json_string_value(sel), err);
    json_t *ok = id_arg(sel, field, 1023, &id, err);
    if (!ok)
        return NULL;
    json_decref(ok);
    return with_view(ctx, reward_tft_json, id, field, err);
}

const node_rpc_method node_methods[] = {
    { "node_getInfo", "Version, chain id, height, head, peers, sync state, authority or not",
      m_node_getInfo, { { NULL, 0, false, NULL } },
      "object: version, chain_id, genesis_hash, ss58_prefix, height, head, peers, syncing, "
      "authority, dev, block_time_ms, mempool_size", "" },
    { "chain_getEvidence", "Misbehaviour (double signing) CometBFT reported and the chain recorded",
      m_chain_getEvidence,
      { { "from", NODE_RPC_INTEGER, false, "index of the first record (default 0); pages of 100" },
        { NULL, 0, false, NULL } },
      "object: evidence (array of recorded_at, type, validator_address (CometBFT address, hex), "
      "height, time_ms, time, power, total_power, authority (its Ed25519 key, when a genesis "
      "authority)), next (the from of the next page)", "BAD_PARAM, DB" },
    { "chain_getHead", "The head block: height, hash and time", m_chain_getHead,
      { { NULL, 0, false, NULL } },
      "object: height, hash, time_ms, time (ISO-8601 UTC), state_root", "" },
    { "chain_getBlock", "A block by height, \"latest\" or hash, with tx hashes or full txs",
      m_chain_getBlock,
      { { "height_or_hash", NODE_RPC_STRING_OR_INTEGER, true,
          "a height, \"latest\", or a 0x block hash" },
        { "full_txs", NODE_RPC_BOOLEAN, false, "true for full transactions instead of hashes" },
        { NULL, 0, false, NULL } },
      "object: height, hash, prev_hash, time_ms, time, tx_root, state_root, proposer, tx_count, "
      "txs (hashes, or with full_txs objects: hash, chain_id, sender, nonce, fee, fee_base, kind, "
      "size (bytes of the encoded tx), payload), last_commit, commit", "BAD_PARAM, BAD_HEX, NOT_FOUND" },
    { "tx_send", "Submit a signed transaction (hex of its canonical encoding)", m_tx_send,
      { { "hex", NODE_RPC_STRING, true, "the encoded transaction, hex, 0x optional" },
        { NULL, 0, false, NULL } },
      "object: hash",
      "BAD_HEX, TX_TOO_LARGE, DECODE, WRONG_CHAIN, UNKNOWN_KIND, BAD_SIGNATURE, ZERO_AMOUNT, "
      "NONCE_USED, NONCE_GAP, FEE_TOO_LOW, INSUFFICIENT, OVERFLOW, DUPLICATE, MEMPOOL_FULL, and "
      "when the tx is the sender's next nonce any rejection of its kind's rules (a dry run on "
      "the head state): NOT_FOUND, UNAUTHORIZED, EXISTS, RESERVED, BRAIN_LIMIT, LOCKED, "
      "NOT_TRANSFERABLE, NOT_DEACTIVATABLE, ROLE_FULL, FEE_CHANGED, NOT_REGISTERED, "
      "NOT_VALIDATOR, RATE_LIMITED, NOT_GIGABRAIN, ALREADY_VOTED, VOTING_CLOSED, GOV_FULL" },
    { "tx_get", "A transaction, pending or committed, with its block and receipt", m_tx_get,
      { { "hash", NODE_RPC_STRING, true, "the 0x tx hash" }, { NULL, 0, false, NULL } },
      "object: hash, status (pending|committed), tx, and when committed block_height, "
      "block_hash, index, receipt {status, fee, events}", "BAD_HEX, NOT_FOUND" },
    { "account_get", "Balance, nonce, Pepecoin, stakes and owned Brains of an account",
      m_account_get,
      { { "address", NODE_RPC_STRING, true, "SS58 address or 0x account id" },
        { NULL, 0, false, NULL } },
      "object: address, account_id, balance, balance_base, nonce, next_nonce (counting pending "
      "txs), pepecoin, pepecoin_locked (in Brains bought by stake), brains (owned ids), stakes "
      "[{brain, instance, hotkey, amount}], take_bps", "BAD_ADDRESS" },
    { "brain_list", "Every active Brain, with the counters of the Brain contract", m_brain_list,
      { { NULL, 0, false, NULL } },
      "object: brains [brain objects as brain_get], active, max, issued_by_burn, next_burn_price, "
      "stake_price, total_stake, pepecoin_burned, pepecoin_locked", "" },
    { "brain_get", "One Brain: owner, payout, model, fee, split, stake, GigaBrain status",
      m_brain_get,
      { { "id", NODE_RPC_INTEGER, true, "Brain id, 0 to 1023" }, { NULL, 0, false, NULL } },
      "object: id, instance, method (reserved|burn|stake), owner, payout, issued_at, name, "
      "designation, model_hash, model_uri, fee, fee_base, validator_bps, consensus, uids, "
      "validators, miners, stake, gigabrain, active, earning, and for stake Brains "
      "locked_pepecoin, unlock_at", "BAD_PARAM, NOT_FOUND" },
    { "brain_getNeurons", "A Brain's neurons: registration and the last epoch's metagraph columns",
      m_brain_getNeurons,
      { { "id", NODE_RPC_INTEGER, true, "Brain id, 0 to 1023" }, { NULL, 0, false, NULL } },
      "object: brain, uids, validators, miners, neurons [{uid, address, role, stake, stake_base, "
      "registered_at, active (validator permit), immune, pruning_score, fee_paid, endpoint, "
      "x25519, served_at, and from the last epoch rank, trust, consensus, incentive, dividends, "
      "validator_trust (u16 and _frac, 6 decimals), emission (with _base), last_update}]", "BAD_PARAM, NOT_FOUND" },
    { "brain_getWeights", "A Brain's current weights rows (W) and binary trust (T)",
      m_brain_getWeights,
      { { "brain", NODE_RPC_INTEGER, true, "Brain id, 0 to 1023" }, { NULL, 0, false, NULL } },
      "object: brain, instance, uids, weights {validator uid: [[miner uid, u16 weight]]}, "
      "T {validator uid: [miner uids with non-zero weight]}, set_at {validator uid: height}",
      "BAD_PARAM, NOT_FOUND" },
    { "rewards_get", "What an account earned per Brain and role: totals and per epoch",
      m_rewards_get,
      { { "address", NODE_RPC_STRING, true, "SS58 address or 0x account id" },
        { "from_epoch", NODE_RPC_INTEGER, false, "lowest epoch height listed (default 0)" },
        { "to_epoch", NODE_RPC_INTEGER, false, "highest epoch height listed (default: all)" },
        { NULL, 0, false, NULL } },
      "object: address, from_epoch, to_epoch, total and in_range {miner, validator, delegator, "
      "owner, total (each with _base)}, brains [{brain, total, in_range, epochs [{height, "
      "miner, validator, delegator, owner, total}]}] (at most 1000 epochs per Brain), truncated",
      "BAD_ADDRESS, BAD_PARAM" },
    { "rewards_getSchedule", "Block reward, halving and beta(t) at a height; supply minted",
      m_rewards_getSchedule,
      { { "height", NODE_RPC_INTEGER, false, "block height (default: the head)" },
        { NULL, 0, false, NULL } },
      "object: height, blocks_per_year, year (from 1), halvings, blocks_to_next_halving, "
      "next_halving_height, beta (decimal, 9 places), beta_fixed (32.32 integer), block_reward, "
      "initial_block_reward, genesis_supply, minted, burned, total_supply, pending_emission, "
      "unminted (amounts with _base), tempo, weights_rate_limit", "BAD_PARAM" },
    { "rewards_getEpoch", "One stored epoch of a Brain: S, W, T, R, C, I, D, Credits, payouts",
      m_rewards_getEpoch,
      { { "brain", NODE_RPC_INTEGER, true, "Brain id, 0 to 1023" },
        { "epoch", NODE_RPC_INTEGER, false, "epoch number from 0 (default: the last; the last "
          "16 are kept)" },
        { NULL, 0, false, NULL } },
      "object: brain, instance, epoch, epochs, oldest_kept, height, consensus, tft_b (decimal, 0 when the TFT is off), tft {b, beta, accuracy as decimals and 32.32} or null, "
      "emission, owner, miners_paid, validators_paid, S [base units], W {uid: [[uid, w]]}, "
      "T {binary {uid: [uids]}, trust [u16]}, R, C, I, D [u16], credits {uid: [[uid, bond]]}, "
      "payouts [base units], neurons [{uid, role, stake, rank, trust, consensus, incentive, "
      "dividends, validator_trust (u16 and _frac), emission, paid, permit, last_update, "
      "registered_at, weights, bonds, tft_band {p10, p50, p90} or null}]", "BAD_PARAM, NOT_FOUND" },
    { "gov_list", "Governance proposals (newest 100 first) and the governable parameters",
      m_gov_list, { { NULL, 0, false, NULL } },
      "object: proposals [proposal objects as gov_get], params {name: current value}", "" },
    { "gov_get", "One governance proposal with its votes and status", m_gov_get,
      { { "id", NODE_RPC_INTEGER, true, "proposal id (from 1)" }, { NULL, 0, false, NULL } },
      "object: id, kind (param|text), proposer, status (open|passed|rejected), created, end, "
      "rule, votes {yes, no}, signal {yes, no, voters} (Pepecoin-weighted, not binding), param, "
      "value, text, gigabrains_at_tally", "BAD_PARAM, NOT_FOUND" },
    { "tft_getForecast", "A Brain's TFT Enforcer: per-uid windows and bands, accuracy, beta, b",
      m_tft_getForecast,
      { { "series", NODE_RPC_STRING_OR_INTEGER, false,
          "a Brain id (0 to 1023); \"network\" or absent for every network series; or one "
          "series: txs_per_block_milli, bytes_per_block_milli, block_interval_ms, "
          "active_addresses, emission, total_stake" },
        { "id", NODE_RPC_INTEGER, false, "Brain id, 0 to 1023 (the former name of series, "
          "for named params)" },
        { NULL, 0, false, NULL } },
      "with a Brain id: object: brain, instance, enabled, height, epochs, scored_epochs, "
      "loss_tft, loss_naive "
      "(pooled pinball, tenths of a u16 unit, last K scored epochs), beta (next block), accuracy, "
      "b, b_fx32, model {trained_at, applied_at, params, bytes} or null, pending_job {made_at, "
      "apply_at} or null, uids [{uid, registered_at, history (u16 incentive, oldest first), "
      "tft {p10, p50, p90} or null, naive {p10, p50, p90} or null}] (forecasts for the next "
      "epoch). Otherwise the network series: object: network (true), enabled, height, "
      "epoch_blocks, next_epoch_end, horizon (H), epochs, scored_epochs, loss_tft, loss_naive "
      "(pooled relative loss, 65536 = naive's), beta (next block), accuracy, b, b_fx32 (the "
      "network model's, not used in rewards), model, pending_job, series [{name, history "
      "(integers, oldest first), tft [{h, p10, p50, p90}] for h = 1..H or null, naive {p10, "
      "p50, p90} (next epoch) or null, loss_tft, loss_naive (pinball, tenths of a unit, last K "
      "scored epochs), accuracy}], brains [{brain, instance, scored_epochs, accuracy, b, "
      "b_fx32}]", "BAD_PARAM, NOT_FOUND" },
    { NULL, NULL, NULL, { { NULL, 0, false, NULL } }, NULL, NULL },
};
