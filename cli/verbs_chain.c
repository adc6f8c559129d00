/*
 * verbs_chain.c: based-cli's chain verbs (balance, head, block, tx) and the transfer,
 * with the signing and sending path every transaction verb uses.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stddef.h>
#include <time.h>

#include "chain/kinds.h"
#include "chain/tx.h"
#include "cli/keystore.h"
#include "cli/password.h"
#include "cli/rpcclient.h"
#include "cli/verbs.h"
#include "chain/base.h"

/* ---------------- chain verbs ---------------- */

/* An account argument as the node wants it: a name becomes 0x hex. */
int cli_account_arg(ctx *c, const char *s, char *out, size_t n, bool *is_dev)
{
    char err[CLI_ERR_LEN];
    *is_dev = false;
    if (!cli_name_syntax_ok(s)) {
        snprintf(out, n, "%s", s);   /* an address: the node parses it */
        return 0;
    }
    if (cli_dev_index(s) < 0 && cli_need_wallet_dir(c))
        return EXIT_RUNTIME;
    chain_addr pub;
    if (cli_resolve_account(c->wallet_dir, s, CHAIN_SS58_DEFAULT_PREFIX, &pub, is_dev, err) !=
        BASED_E_OK)
        return cli_die("%s", err);
    char hex[65];
    chain_hex(&pub, 32, hex);
    snprintf(out, n, "0x%s", hex);
    return 0;
}

int cli_v_balance(ctx *c)
{
    char acct[256], b1[64], b2[64];
    bool is_dev;
    json_t *r;
    int st = cli_account_arg(c, c->args[0], acct, sizeof acct, &is_dev);
    if (st == 0)
        st = cli_call(c, "account_get", json_pack("[s]", acct), &r);
    if (st != 0)
        return st;
    if (c->o.json) {
        cli_print_json(r);
        if (is_dev)
            fprintf(stderr, "based-cli: note: %s is a %s\n", c->args[0], CLI_DEV_NOTE);
    } else {
        printf("address  %s\n", cli_jtext(r, "address", b1, sizeof b1));
        printf("balance  %s BASED\n", cli_jtext(r, "balance", b1, sizeof b1));
        printf("nonce    %s\n", cli_jtext(r, "nonce", b2, sizeof b2));
        if (is_dev)
            printf("note     %s is a %s\n", c->args[0], CLI_DEV_NOTE);
    }
    json_decref(r);
    return 0;
}

int cli_v_head(ctx *c)
{
    char b[64];
    json_t *r;
    int st = cli_call(c, "chain_getHead", json_array(), &r);
    if (st != 0)
        return st;
    if (c->o.json) {
        cli_print_json(r);
    } else {
        printf("height  %s\n", cli_jtext(r, "height", b, sizeof b));
        printf("hash    %s\n", cli_jtext(r, "hash", b, sizeof b));
        printf("time    %s\n", cli_jtext(r, "time", b, sizeof b));
    }
    json_decref(r);
    return 0;
}

bool cli_all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static void print_fields(json_t *obj, const char *const *keys, size_t n)
{
    char b[64];
    for (size_t i = 0; i < n; i++)
        printf("%-11s %s\n", keys[i], cli_jtext(obj, keys[i], b, sizeof b));
}

int cli_v_block(ctx *c)
{
    const char *arg = c->args[0];
    json_t *param;
    if (cli_all_digits(arg)) {
        errno = 0;
        unsigned long long h = strtoull(arg, NULL, 10);
        if (errno || h > (unsigned long long)INT64_MAX)
            return cli_usage(c->v, "height %s is out of range", arg);
        param = json_integer((json_int_t)h);
    } else {
        param = json_string(arg);
    }
    json_t *r;
    int st = cli_call(c, "chain_getBlock", json_pack("[o]", param), &r);
    if (st != 0)
        return st;
    if (c->o.json) {
        cli_print_json(r);
    } else {
        static const char *const keys[] = { "height", "hash", "prev_hash", "time",
                                            "proposer", "tx_root", "state_root" };
        print_fields(r, keys, BASED_ARRAY_LEN(keys));
        json_t *txs = json_object_get(r, "txs");
        printf("%-11s %zu\n", "txs", json_array_size(txs));
        size_t i;
        json_t *t;
        char b[80];
        json_array_foreach(txs, i, t)
            printf("  %s\n", json_is_object(t) ? cli_jtext(t, "hash", b, sizeof b) : cli_jtext(t, NULL, b, sizeof b));
    }
    json_decref(r);
    return 0;
}

static void print_tx(json_t *r)
{
    char b[80], b2[80];
    json_t *tx = json_object_get(r, "tx"), *rc = json_object_get(r, "receipt");
    printf("%-11s %s\n", "tx", cli_jtext(r, "hash", b, sizeof b));
    const char *status = cli_jtext(r, "status", b, sizeof b);
    if (strcmp(status, "committed") == 0)
        printf("%-11s committed (block %s, index %s)\n", "status",
               cli_jtext(r, "block_height", b2, sizeof b2), cli_jtext(r, "index", b, sizeof b));
    else
        printf("%-11s %s\n", "status", status);
    if (json_is_object(tx)) {
        static const char *const keys[] = { "chain_id", "sender", "nonce", "fee", "kind" };
        print_fields(tx, keys, BASED_ARRAY_LEN(keys));
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(tx, "payload"), k, v)
            printf("  %-9s %s\n", k, cli_jtext(v, NULL, b, sizeof b));
    }
    if (json_is_object(rc))
        printf("%-11s %s, fee %s, %zu event(s)\n", "receipt", cli_jtext(rc, "status", b, sizeof b),
               cli_jtext(rc, "fee", b2, sizeof b2), json_array_size(json_object_get(rc, "events")));
}

int cli_v_tx(ctx *c)
{
    json_t *r;
    int st = cli_call(c, "tx_get", json_pack("[s]", c->args[0]), &r);
    if (st != 0)
        return st;
    if (c->o.json)
        cli_print_json(r);
    else
        print_tx(r);
    json_decref(r);
    return 0;
}

/* ---------------- transfer ---------------- */

static int parse_amounts(ctx *c, uint64_t *amount, uint64_t *fee)
{
    const char *why = NULL;
    if (!c->o.from || !c->o.to || !c->o.amount)
        return cli_usage(c->v, "transfer needs --from, --to and --amount");
    if (chain_amount_parse(c->o.amount, amount, &why) != BASED_E_OK)
        return cli_usage(c->v, "--amount %s: %s", c->o.amount, why ? why : "malformed amount");
    if (*amount == 0)
        return cli_usage(c->v, "--amount must be positive");
    const char *f = c->o.fee ? c->o.fee : DEFAULT_FEE;
    if (chain_amount_parse(f, fee, &why) != BASED_E_OK)
        return cli_usage(c->v, "--fee %s: %s", f, why ? why : "malformed amount");
    return 0;
}

/* node_getInfo's chain id and SS58 prefix. */
int cli_chain_info(ctx *c, char *chain_id, size_t n, uint16_t *prefix)
{
    json_t *r;
    int st = cli_call(c, "node_getInfo", json_array(), &r);
    if (st != 0)
        return st;
    const char *id = json_string_value(json_object_get(r, "chain_id"));
    uint64_t p = CHAIN_SS58_DEFAULT_PREFIX;
    if (json_object_get(r, "ss58_prefix") && !cli_ju64(r, "ss58_prefix", &p))
        p = UINT64_MAX;
    if (!id || !*id || strlen(id) >= n || p > UINT16_MAX) {
        json_decref(r);
        return cli_die("node_getInfo at %s returned no valid chain_id/ss58_prefix; is it a based node?",
                    cli_rpc_url(c->rpc));
    }
    snprintf(chain_id, n, "%s", id);
    *prefix = (uint16_t)p;
    json_decref(r);
    return 0;
}

static int next_nonce(ctx *c, const chain_addr *sender, uint64_t *nonce)
{
    char hex[67] = "0x";
    chain_hex(sender, 32, hex + 2);
    json_t *r;
    int st = cli_call(c, "account_get", json_pack("[s]", hex), &r);
    if (st != 0)
        return st;
    bool ok = cli_ju64(r, "next_nonce", nonce);
    json_decref(r);
    return ok ? 0 : cli_die("account_get returned no next_nonce for %s", hex);
}

/* Polls tx_get until the tx is committed; *out is the last result. */
int cli_wait_committed(ctx *c, const char *hash, json_t **out)
{
    struct timespec pause = { 0, 250 * 1000 * 1000 };
    for (int i = 0; i < WAIT_SECONDS * 4; i++) {
        json_t *r;
        int st = cli_call(c, "tx_get", json_pack("[s]", hash), &r);
        if (st != 0)
            return st;
        const char *s = json_string_value(json_object_get(r, "status"));
        if (s && strcmp(s, "committed") == 0) {
            *out = r;
            return 0;
        }
        json_decref(r);
        nanosleep(&pause, NULL);
    }
    return cli_die("transaction %s was not committed within %d s (check later with \"based-cli tx %s\")",
                hash, WAIT_SECONDS, hash);
}

static int send_tx(ctx *c, const chain_tx *tx)
{
    char *hex = malloc(2 * tx->raw_len + 3), local[67], b[64];
    if (!hex)
        return cli_die("out of memory");
    hex[0] = '0';
    hex[1] = 'x';
    chain_hex(tx->raw, tx->raw_len, hex + 2);
    json_t *r;
    int st = cli_call(c, "tx_send", json_pack("[s]", hex), &r);
    free(hex);
    if (st != 0)
        return st;
    chain_hash_hex(&tx->hash, local);
    const char *hash = json_string_value(json_object_get(r, "hash"));
    if (!hash) {
        json_decref(r);
        return cli_die("tx_send returned no hash; the transaction's local hash is %s", local);
    }
    if (strcmp(hash, local) != 0)
        fprintf(stderr, "based-cli: warning: the node reports hash %s, computed locally %s\n", hash,
                local);
    if (!c->o.wait) {
        if (c->o.json)
            cli_print_json(r);
        else
            printf("%s\n", hash);
        json_decref(r);
        return 0;
    }
    if (!c->o.json)
        printf("%s\n", hash);
    fflush(stdout);
    json_t *done = NULL;
    st = cli_wait_committed(c, local, &done);
    json_decref(r);
    if (st != 0)
        return st;
    uint64_t at;
    if (cli_ju64(done, "block_height", &at))
        c->committed_at = at;
    if (c->o.json) {
        cli_print_json(done);
    } else {
        json_t *rc = json_object_get(done, "receipt");
        printf("committed in block %s", cli_jtext(done, "block_height", b, sizeof b));
        if (json_is_object(rc))
            printf(" (receipt %s)", cli_jtext(rc, "status", b, sizeof b));
        printf("\n");
    }
    json_decref(done);
    return 0;
}

/* Signs payload as a tx of kind k from --from and sends it (send_tx). */
int cli_sign_send(ctx *c, const chain_kind *k, const char *chain_id, uint64_t fee,
                     const chain_wbuf *payload)
{
    uint64_t nonce;
    int st;
    based_err rc;
    uint8_t *sk = sodium_malloc(32);
    bool is_dev;
    chain_addr sender;
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    st = sk ? cli_load_secret(c, c->o.from, sk, &is_dev) : cli_die("out of secure memory");
    if (st == 0 && chain_key_pub(sk, &sender) != BASED_E_OK)
        st = cli_die("the key of %s is invalid", c->o.from);
    if (st == 0)
        st = next_nonce(c, &sender, &nonce);
    if (st == 0 && (rc = chain_tx_make(&tx, chain_id, nonce, fee, k->id, payload->p, payload->len,
                                       sk)) != BASED_E_OK)
        st = cli_die("cannot sign the transaction: %s", based_strerror(rc));
    if (sk)
        sodium_free(sk);
    if (st == 0)
        st = send_tx(c, &tx);
    chain_tx_release(&tx);
    return st;
}

int cli_v_transfer(ctx *c)
{
    uint64_t amount, fee;
    char chain_id[CHAIN_CHAIN_ID_MAX + 1], err[CLI_ERR_LEN], to_ss58[CHAIN_ADDR_STRLEN];
    uint16_t prefix = CHAIN_SS58_DEFAULT_PREFIX;
    int st = parse_amounts(c, &amount, &fee);
    if (st != 0)
        return st;
    if (cli_dev_index(c->o.from) < 0 && !cli_name_syntax_ok(c->o.from))
        return cli_usage(c->v, "--from must be a wallet name or dev0..dev9, not \"%s\"", c->o.from);
    bool to_is_wallet = cli_dev_index(c->o.to) < 0 && cli_name_syntax_ok(c->o.to);
    if ((to_is_wallet || cli_dev_index(c->o.from) < 0) && cli_need_wallet_dir(c))
        return EXIT_RUNTIME;
    if ((st = cli_chain_info(c, chain_id, sizeof chain_id, &prefix)) != 0)
        return st;
    chain_addr to;
    if (cli_resolve_account(c->wallet_dir, c->o.to, prefix, &to, NULL, err) != BASED_E_OK)
        return cli_die("--to: %s", err);
    chain_ss58_encode(prefix, &to, to_ss58);

    const chain_kind *k = chain_kind_by_name(c->rt, "transfer");
    chain_wbuf payload;
    chain_w_init(&payload, CHAIN_TX_PAYLOAD_MAX);
    char amt[32];
    chain_amount_format(amount, amt);
    json_t *pj = json_pack("{s:s,s:s}", "to", to_ss58, "amount", amt);
    const char *why = "payload";
    based_err rc = k && pj ? k->from_json(pj, prefix, &payload, &why) : BASED_E_NOMEM;
    json_decref(pj);
    if (rc != BASED_E_OK) {
        chain_w_free(&payload);
        return cli_die("cannot build the transfer (%s: %s)", why, based_strerror(rc));
    }

    st = cli_sign_send(c, k, chain_id, fee, &payload);
    chain_w_free(&payload);
    return st;
}

int cli_send_json(ctx *c, const chain_kind *k, json_t *pj, const char *chain_id,
                  uint16_t prefix, uint64_t fee)
{
    const char *why = "payload";
    chain_wbuf payload;
    int st = 0;
    chain_w_init(&payload, CHAIN_TX_PAYLOAD_MAX);
    based_err rc = k->from_json(pj, prefix, &payload, &why);
    json_decref(pj);
    if (rc != BASED_E_OK)
        st = cli_usage(c->v, "%s: %s (%s)", c->v->name, based_strerror(rc), why);
    else
        st = cli_sign_send(c, k, chain_id, fee, &payload);
    chain_w_free(&payload);
    return st;
}
