/*
 * client.c: a neuron's view of its node (see client.h): the signing key,
 * chain facts, transactions with nonce tracking, and the metagraph.
 */
#include <sodium.h>
#include <time.h>

#include "chain/kinds.h"
#include "chain/tx.h"
#include "cli/keystore.h"
#include "cli/password.h"
#include "neurons/client.h"
#include "node/runtime.h"

#define NEURON_DEFAULT_FEE 100000ull   /* 0.0001 BASED */
#define NONCES 16

struct neuron_client {
    cli_rpc *rpc;
    const chain_runtime *rt;        /* the kinds payloads are built with */
    neuron_chain_info info;
    struct { chain_addr a; uint64_t next; bool used; } nonce[NONCES];
};

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---------------- keys ---------------- */

static bool is_file_spec(const char *s)
{
    size_t n = strlen(s);
    return strchr(s, '/') || (n > 5 && strcmp(s + n - 5, ".json") == 0);
}

/* dir and name of a keystore file path ("x/y/alice.json" -> "x/y", "alice"). */
static based_err split_file(const char *spec, char *dir, size_t dn, char *name, size_t nn,
                            char *err)
{
    const char *slash = strrchr(spec, '/');
    const char *base = slash ? slash + 1 : spec;
    size_t bl = strlen(base);
    if (bl > 5 && strcmp(base + bl - 5, ".json") == 0)
        bl -= 5;
    if (bl == 0 || bl >= nn)
        return cli_fail(err, BASED_E_BAD_PARAM, "key file \"%s\": expected DIR/NAME.json", spec);
    memcpy(name, base, bl);
    name[bl] = '\0';
    if (!cli_name_syntax_ok(name))
        return cli_fail(err, BASED_E_BAD_PARAM,
                        "key file \"%s\": the name must be 1 to 32 of A-Z a-z 0-9 _ -", spec);
    int w = slash ? snprintf(dir, dn, "%.*s", (int)(slash - spec), spec) : snprintf(dir, dn, ".");
    if (w < 0 || (size_t)w >= dn)
        return cli_fail(err, BASED_E_BAD_PARAM, "key file \"%s\": path too long", spec);
    if (slash && slash == spec)
        snprintf(dir, dn, "/");
    return BASED_E_OK;
}

based_err neuron_key_load(const char *spec, const char *wallet_dir, const char *password_file,
                          uint16_t ss58_prefix, neuron_key *out, char *err)
{
    memset(out, 0, sizeof *out);
    if (!spec || !*spec)
        return cli_fail(err, BASED_E_BAD_PARAM, "--key is required (dev0..dev9, a wallet name or a keystore file)");
    out->sk = sodium_malloc(32);
    if (!out->sk)
        return cli_fail(err, BASED_E_NOMEM, "out of secure memory");
    based_err rc = BASED_E_OK;
    int dev = cli_dev_index(spec);
    if (dev >= 0) {
        chain_key_dev((unsigned)dev, out->sk);
        out->is_dev = true;
    } else {
        char dir[4096], name[CLI_NAME_MAX + 1], what[80];
        if (is_file_spec(spec))
            rc = split_file(spec, dir, sizeof dir, name, sizeof name, err);
        else if (!cli_name_syntax_ok(spec))
            rc = cli_fail(err, BASED_E_BAD_PARAM,
                          "--key \"%s\": not dev0..dev9, a wallet name or a keystore file", spec);
        else {
            snprintf(name, sizeof name, "%s", spec);
            rc = cli_wallet_dir(wallet_dir, dir, sizeof dir, err);
        }
        chain_addr pub;
        if (rc == BASED_E_OK)
            rc = cli_keystore_address(dir, name, &pub, err);
        char *pw = NULL;
        snprintf(what, sizeof what, "wallet %s", name);
        if (rc == BASED_E_OK)
            rc = cli_password_get(password_file, what, false, &pw, err);
        if (rc == BASED_E_OK)
            rc = cli_keystore_load(dir, name, pw, out->sk, &pub, err);
        if (pw)
            cli_password_free(pw);
    }
    if (rc == BASED_E_OK && chain_key_pub(out->sk, &out->addr) != BASED_E_OK)
        rc = cli_fail(err, BASED_E_BAD_KEY, "the key of %s is not a valid secp256k1 key", spec);
    if (rc != BASED_E_OK) {
        neuron_key_release(out);
        return rc;
    }
    chain_ss58_encode(ss58_prefix, &out->addr, out->ss58);
    return BASED_E_OK;
}

void neuron_key_release(neuron_key *k)
{
    if (k->sk)
        sodium_free(k->sk);   /* wipes */
    memset(k, 0, sizeof *k);
}

/* ---------------- client ---------------- */

based_err neuron_call(neuron_client *c, const char *method, json_t *params, json_t **res,
                      char *err)
{
    cli_rpc_error e;
    *res = NULL;
    based_err rc = cli_rpc_call(c->rpc, method, params, res, &e);
    json_decref(params);
    if (rc != BASED_E_OK)
        return cli_fail(err, rc, "%s: %s", method, e.line);
    return BASED_E_OK;
}

static bool ju64(json_t *o, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

static based_err learn_info(neuron_client *c, char *err)
{
    json_t *o;
    based_err rc = neuron_call(c, "node_getInfo", NULL, &o, err);
    if (rc != BASED_E_OK)
        return rc;
    const char *cid = json_string_value(json_object_get(o, "chain_id"));
    uint64_t prefix = 0;
    bool ok = cid && strlen(cid) < sizeof c->info.chain_id && ju64(o, "ss58_prefix", &prefix) &&
              prefix <= 0xffff && ju64(o, "block_time_ms", &c->info.block_time_ms);
    if (ok) {
        snprintf(c->info.chain_id, sizeof c->info.chain_id, "%s", cid);
        c->info.ss58_prefix = (uint16_t)prefix;
        c->info.dev = json_is_true(json_object_get(o, "dev"));
    }
    json_decref(o);
    if (!ok)
        return cli_fail(err, BASED_E_DECODE, "node_getInfo: missing chain_id, ss58_prefix or block_time_ms");
    if ((rc = neuron_call(c, "rewards_getSchedule", NULL, &o, err)) != BASED_E_OK)
        return rc;
    ok = ju64(o, "tempo", &c->info.tempo);
    if (!ju64(o, "weights_rate_limit", &c->info.weights_rate_limit))
        c->info.weights_rate_limit = 0;
    json_decref(o);
    return ok ? BASED_E_OK : cli_fail(err, BASED_E_DECODE, "rewards_getSchedule: no tempo");
}

based_err neuron_client_new(const char *url, const char *cookie_flag, unsigned timeout_ms,
                            neuron_client **out,
                            char *err)
{
    *out = NULL;
    neuron_client *c = calloc(1, sizeof *c);
    if (!c)
        return cli_fail(err, BASED_E_NOMEM, "out of memory");
    c->rt = based_runtime();
    based_err rc = cli_rpc_new(url, cookie_flag, &c->rpc, err);
    if (rc == BASED_E_OK && timeout_ms)
        cli_rpc_set_timeout(c->rpc, timeout_ms);
    if (rc == BASED_E_OK)
        rc = learn_info(c, err);
    if (rc != BASED_E_OK) {
        neuron_client_free(c);
        return rc;
    }
    *out = c;
    return BASED_E_OK;
}

void neuron_client_free(neuron_client *c)
{
    if (!c)
        return;
    cli_rpc_free(c->rpc);
    free(c);
}

const neuron_chain_info *neuron_client_info(const neuron_client *c)
{
    return &c->info;
}

cli_rpc *neuron_client_rpc(neuron_client *c)
{
    return c->rpc;
}

based_err neuron_head(neuron_client *c, uint64_t *height, chain_hash *hash, char *err)
{
    json_t *o;
    based_err rc = neuron_call(c, "chain_getHead", NULL, &o, err);
    if (rc != BASED_E_OK)
        return rc;
    const char *h = json_string_value(json_object_get(o, "hash"));
    bool ok = ju64(o, "height", height) && h && (h[0] == '0' && h[1] == 'x') &&
              chain_unhex(h + 2, hash->b, 32) == BASED_E_OK;
    json_decref(o);
    return ok ? BASED_E_OK : cli_fail(err, BASED_E_DECODE, "chain_getHead: no height or hash");
}

/* ---------------- transactions ---------------- */

/* The slot keeping addr's next nonce (taken over when all are used). */
static int nonce_slot(neuron_client *c, const chain_addr *a)
{
    for (int i = 0; i < NONCES; i++)
        if (c->nonce[i].used && !memcmp(c->nonce[i].a.b, a->b, 32))
            return i;
    for (int i = 0; i < NONCES; i++)
        if (!c->nonce[i].used)
            return i;
    return 0;
}

static based_err fetch_nonce(neuron_client *c, const neuron_key *k, int slot, char *err)
{
    json_t *o;
    based_err rc = neuron_call(c, "account_get", json_pack("[s]", k->ss58), &o, err);
    if (rc != BASED_E_OK)
        return rc;
    uint64_t n;
    bool ok = ju64(o, "next_nonce", &n) || ju64(o, "nonce", &n);
    json_decref(o);
    if (!ok)
        return cli_fail(err, BASED_E_DECODE, "account_get: no next_nonce");
    c->nonce[slot].a = k->addr;
    c->nonce[slot].next = n;
    c->nonce[slot].used = true;
    return BASED_E_OK;
}

static based_err send_once(neuron_client *c, const neuron_key *k, const chain_kind *kind,
                           const chain_wbuf *payload, uint64_t fee, uint64_t nonce,
                           chain_hash *hash, based_err *rej, char *err)
{
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    based_err rc = chain_tx_make(&tx, c->info.chain_id, nonce, fee, kind->id, payload->p,
                                 payload->len, k->sk);
    if (rc != BASED_E_OK)
        return cli_fail(err, rc, "cannot sign a %s transaction", kind->name);
    char *hex = malloc(tx.raw_len * 2 + 3);
    if (!hex) {
        chain_tx_release(&tx);
        return cli_fail(err, BASED_E_NOMEM, "out of memory");
    }
    hex[0] = '0';
    hex[1] = 'x';
    chain_hex(tx.raw, tx.raw_len, hex + 2);
    if (hash)
        *hash = tx.hash;
    chain_tx_release(&tx);
    json_t *res = NULL, *params = json_pack("[s]", hex);
    cli_rpc_error e;
    rc = cli_rpc_call(c->rpc, "tx_send", params, &res, &e);
    json_decref(params);
    json_decref(res);
    free(hex);
    if (rc != BASED_E_OK) {
        bool transport = e.code == 0;
        *rej = transport ? BASED_E_OK : rc;
        return cli_fail(err, rc, "%s rejected: %s", kind->name, e.line);
    }
    return BASED_E_OK;
}

based_err neuron_send(neuron_client *c, const neuron_key *k, const char *kind, json_t *pj,
                      uint64_t fee, chain_hash *hash, based_err *rej, char *err)
{
    based_err dummy;
    if (!rej)
        rej = &dummy;
    *rej = BASED_E_OK;
    const chain_kind *kd = chain_kind_by_name(c->rt, kind);
    const char *why = "payload";
    chain_wbuf w;
    chain_w_init(&w, CHAIN_TX_PAYLOAD_MAX);
    if (!kd || kd->from_json(pj, c->info.ss58_prefix, &w, &why) != BASED_E_OK) {
        json_decref(pj);
        chain_w_free(&w);
        return cli_fail(err, BASED_E_BAD_PARAM, "%s: bad payload field %s", kind, why);
    }
    json_decref(pj);
    int slot = nonce_slot(c, &k->addr);
    bool known = c->nonce[slot].used && !memcmp(c->nonce[slot].a.b, k->addr.b, 32);
    based_err rc = BASED_E_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!known && (rc = fetch_nonce(c, k, slot, err)) != BASED_E_OK)
            break;
        known = true;
        rc = send_once(c, k, kd, &w, fee ? fee : NEURON_DEFAULT_FEE, c->nonce[slot].next, hash,
                       rej, err);
        if (rc == BASED_E_OK) {
            c->nonce[slot].next++;
            break;
        }
        if ((*rej == BASED_E_NONCE_GAP || *rej == BASED_E_NONCE_USED) && attempt == 0) {
            known = false;   /* another process used this key: re-read */
            continue;
        }
        break;
    }
    chain_w_free(&w);
    return rc;
}

based_err neuron_wait_tx(neuron_client *c, const chain_hash *hash, unsigned timeout_ms,
                         uint64_t *height, char *err)
{
    char hex[67];
    chain_hash_hex(hash, hex);
    bool seen = false;
    for (unsigned waited = 0;; waited += 200) {
        json_t *o;
        cli_rpc_error e;
        json_t *params = json_pack("[s]", hex);
        based_err rc = cli_rpc_call(c->rpc, "tx_get", params, &o, &e);
        json_decref(params);
        if (rc == BASED_E_NOT_FOUND && seen)
            return cli_fail(err, BASED_E_NOT_FOUND,
                            "transaction %s left the mempool without being included (it failed at execution)", hex);
        if (rc != BASED_E_OK && rc != BASED_E_NOT_FOUND)
            return cli_fail(err, rc, "tx_get: %s", e.line);
        if (rc == BASED_E_OK) {
            seen = true;
            const char *s = json_string_value(json_object_get(o, "status"));
            bool done = s && !strcmp(s, "committed");
            uint64_t h = 0;
            if (done && height)
                *height = ju64(o, "block_height", &h) ? h : 0;
            json_decref(o);
            if (done)
                return BASED_E_OK;
        }
        if (waited >= timeout_ms)
            return cli_fail(err, BASED_E_TIMEOUT, "transaction %s not included after %u ms", hex,
                            timeout_ms);
        sleep_ms(200);
    }
}

/* ---------------- metagraph ---------------- */

static void parse_endpoint(const char *ep, neuron_info *n)
{
    const char *colon = strrchr(ep, ':');
    if (!colon)
        return;
    const char *h = ep;
    size_t hl = (size_t)(colon - ep);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end || port == 0 || port > 65535 || hl == 0 || hl >= sizeof n->host)
        return;
    memcpy(n->host, h, hl);
    n->host[hl] = '\0';
    n->port = (uint16_t)port;
    n->served = true;
}

static bool parse_neuron(json_t *x, uint16_t prefix, neuron_info *n)
{
    memset(n, 0, sizeof *n);
    json_t *uid = json_object_get(x, "uid");
    const char *a = json_string_value(json_object_get(x, "address"));
    const char *role = json_string_value(json_object_get(x, "role"));
    if (!json_is_integer(uid) || !a || !role || json_integer_value(uid) < 0 ||
        json_integer_value(uid) >= 65536)
        return false;
    n->uid = (int)json_integer_value(uid);
    if (chain_addr_parse(a, prefix, &n->addr, NULL) != BASED_E_OK)
        return false;
    snprintf(n->ss58, sizeof n->ss58, "%s", a);
    n->validator = !strcmp(role, "validator");
    uint64_t st;
    n->stake = ju64(x, "stake_base", &st) ? st : 0;
    const char *ep = json_string_value(json_object_get(x, "endpoint"));
    const char *xk = json_string_value(json_object_get(x, "x25519"));
    if (ep && xk) {
        if (xk[0] == '0' && xk[1] == 'x')
            xk += 2;
        if (chain_unhex(xk, n->x25519, 32) == BASED_E_OK)
            parse_endpoint(ep, n);
    }
    return true;
}

based_err neuron_metagraph(neuron_client *c, uint16_t brain, neuron_info **list, size_t *n,
                           char *err)
{
    *list = NULL;
    *n = 0;
    json_t *o;
    based_err rc = neuron_call(c, "brain_getNeurons", json_pack("[i]", brain), &o, err);
    if (rc != BASED_E_OK)
        return rc;
    json_t *arr = json_object_get(o, "neurons"), *x;
    size_t cnt = json_array_size(arr), i;
    neuron_info *l = calloc(cnt ? cnt : 1, sizeof *l);
    if (!l) {
        json_decref(o);
        return cli_fail(err, BASED_E_NOMEM, "out of memory");
    }
    size_t k = 0;
    json_array_foreach(arr, i, x) {
        if (parse_neuron(x, c->info.ss58_prefix, &l[k]))
            k++;
    }
    json_decref(o);
    *list = l;
    *n = k;
    return BASED_E_OK;
}

based_err neuron_uid_of(neuron_client *c, uint16_t brain, const chain_addr *addr, int *uid,
                        char *err)
{
    neuron_info *l;
    size_t n;
    *uid = -1;
    based_err rc = neuron_metagraph(c, brain, &l, &n, err);
    if (rc != BASED_E_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (!memcmp(l[i].addr.b, addr->b, 32))
            *uid = l[i].uid;
    free(l);
    return BASED_E_OK;
}

based_err neuron_ensure_registered(neuron_client *c, const neuron_key *k, uint16_t brain,
                                   const char *role, uint64_t max_fee, int *uid, char *err)
{
    based_err rc = neuron_uid_of(c, brain, &k->addr, uid, err);
    if (rc != BASED_E_OK || *uid >= 0)
        return rc;
    json_t *pj = json_pack("{s:i,s:s}", "brain", brain, "role", role);
    if (max_fee) {
        char amt[32];
        chain_amount_format(max_fee, amt);
        json_object_set_new(pj, "max_fee", json_string(amt));
    }
    chain_hash h;
    if ((rc = neuron_send(c, k, "memorize", pj, 0, &h, NULL, err)) != BASED_E_OK)
        return rc;
    unsigned wait = (unsigned)(c->info.block_time_ms * 30 + 5000);
    if ((rc = neuron_wait_tx(c, &h, wait, NULL, err)) != BASED_E_OK)
        return rc;
    if ((rc = neuron_uid_of(c, brain, &k->addr, uid, err)) != BASED_E_OK)
        return rc;
    return *uid >= 0 ? BASED_E_OK
                     : cli_fail(err, BASED_E_NOT_REGISTERED,
                                "memorize was included but %s is not on Brain %u", k->ss58, brain);
}
