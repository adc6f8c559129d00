/*
 * cmd.c: based-cli's command line.
 *
 * Arguments are parsed in one pass against one option table (global flags
 * may appear anywhere; "--" ends options); the first positional words pick a
 * row of the verb table (a verb may be two words: "wallet new"). A word that
 * is no verb is taken as an RPC method name and the remaining words as its
 * params, each parsed as JSON if it parses and passed as a string otherwise.
 *
 * Friendly verbs print readable text, or the raw JSON result with --json.
 * Secrets (wallet keys, passwords) stay in libsodium secure memory and are
 * wiped as soon as the transaction is signed.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stddef.h>
#include <time.h>

#include "chain/kinds.h"
#include "chain/tx.h"
#include "cli/cmd.h"
#include "cli/keystore.h"
#include "cli/password.h"
#include "cli/rpcclient.h"
#include "chain/base.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define MAX_POS 64
#define DEFAULT_FEE "0.0001"
#define WAIT_SECONDS 60

static const char DEV_NOTE[] = "public dev key, for dev networks only";

/* ---------------- options ---------------- */

enum {
    O_GLOBAL = 1u << 0,   /* allowed with every verb */
    O_SHOW_SECRET = 1u << 1,
    O_FROM = 1u << 2,
    O_TO = 1u << 3,
    O_AMOUNT = 1u << 4,
    O_FEE = 1u << 5,
    O_WAIT = 1u << 6,
    O_TXF = 1u << 7,      /* a payload field of a transaction verb (txfields[]) */
    O_METHOD = 1u << 8,   /* --burn / --stake of brain buy */
};

/* Flags that fill a transaction payload field: --flag VALUE -> "key". */
static const struct { const char *flag, *key, *help; } txfields[] = {
    { "brain", "brain", "Brain id (memorize, serve, stake, unstake, gov)" },
    { "role", "role", "memorize: miner | validator" },
    { "max-fee", "max_fee", "memorize: refuse if the Brain's fee is higher (BASED)" },
    { "name", "name", "brain set: name (printable ASCII, <= 32)" },
    { "designation", "designation", "brain set: ENS/BNS-style designation (<= 64)" },
    { "payout", "payout", "brain set: payout address (fees and the owner's 25 %)" },
    { "model-hash", "model_hash", "brain set: model hash, 0x + 64 hex" },
    { "model-uri", "model_uri", "brain set: model URI (<= 200)" },
    { "reg-fee", "fee", "brain set: registration fee in BASED (later registrations)" },
    { "validator-bps", "validator_bps", "brain set: validators' share of the nodes' 75 %, bps" },
    { "consensus", "consensus", "brain set: yuma | whitepaper" },
    { "host", "host", "serve: host name or IP" },
    { "port", "port", "serve: port" },
    { "x25519", "x25519", "serve: X25519 public key, 0x + 64 hex" },
    { "hotkey", "hotkey", "stake, unstake: the validator's address or wallet name" },
    { "instance", "instance", "unstake: instance of a deactivated Brain" },
    { "take", "take_bps", "take: validator take in basis points" },
    { "param", "param", "gov propose: parameter name (see gov list)" },
    { "value", "value", "gov propose: new value (an integer, base units for amounts)" },
    { "text", "text", "gov propose: text (<= 256)" },
    { "choice", "choice", "gov vote: yes | no" },
};
#define NTXF (sizeof txfields / sizeof txfields[0])

typedef struct {
    const char *rpc, *cookie, *wallet_dir, *password_file;
    const char *from, *to, *amount, *fee;
    bool json, help, version, show_secret, wait, burn, bstake;
    const char *txf[NTXF];
    unsigned given;                 /* O_* bits of the options present */
    const char *pos[MAX_POS];
    int npos;
} opts;

typedef struct {
    const char *name;
    const char *arg;                /* NULL: a flag without a value */
    unsigned bit;
    size_t off;                     /* const char * or bool in opts */
    const char *help;
} option;

static const option options[] = {
    { "rpc", "URL", O_GLOBAL, offsetof(opts, rpc), "node RPC URL (default " CLI_RPC_DEFAULT_URL ")" },
    { "rpc-cookie", "FILE", O_GLOBAL, offsetof(opts, cookie),
      "cookie file (default $BASED_DATADIR/.cookie, ~/.based/dev/.cookie, ~/.based/.cookie)" },
    { "wallet-dir", "DIR", O_GLOBAL, offsetof(opts, wallet_dir),
      "wallet directory (default $BASED_WALLET_DIR, else ~/.based/keys)" },
    { "password-file", "FILE", O_GLOBAL, offsetof(opts, password_file),
      "read the wallet password from the first line of FILE (else $BASED_PASSWORD, else a prompt)" },
    { "json", NULL, O_GLOBAL, offsetof(opts, json), "print the raw JSON result" },
    { "help", NULL, O_GLOBAL, offsetof(opts, help), "this help, or a verb's usage" },
    { "version", NULL, O_GLOBAL, offsetof(opts, version), "print the version" },
    { "show-secret", NULL, O_SHOW_SECRET, offsetof(opts, show_secret), "wallet show: print the secret key" },
    { "from", "NAME", O_FROM, offsetof(opts, from), "transactions: sending wallet (or dev0..dev9)" },
    { "to", "ADDR|NAME", O_TO, offsetof(opts, to), "transfer, pepe, brain transfer: recipient" },
    { "amount", "X", O_AMOUNT, offsetof(opts, amount), "amount (BASED, or Pepecoin for pepe; up to 9 decimals)" },
    { "fee", "F", O_FEE, offsetof(opts, fee), "transactions: fee in BASED (default " DEFAULT_FEE ")" },
    { "wait", NULL, O_WAIT, offsetof(opts, wait), "transactions: wait until committed, print the block" },
    { "burn", NULL, O_METHOD, offsetof(opts, burn), "brain buy: burn Pepecoin (transferable Brain)" },
    { "stake", NULL, O_METHOD, offsetof(opts, bstake), "brain buy: lock Pepecoin (90 days)" },
    { "brain", "X", O_TXF, offsetof(opts, txf) + 0 * sizeof(const char *),
      "Brain id (memorize, serve, stake, unstake, gov)" },
    { "role", "X", O_TXF, offsetof(opts, txf) + 1 * sizeof(const char *),
      "memorize: miner | validator" },
    { "max-fee", "X", O_TXF, offsetof(opts, txf) + 2 * sizeof(const char *),
      "memorize: refuse if the Brain's fee is higher (BASED)" },
    { "name", "X", O_TXF, offsetof(opts, txf) + 3 * sizeof(const char *),
      "brain set: name (printable ASCII, <= 32)" },
    { "designation", "X", O_TXF, offsetof(opts, txf) + 4 * sizeof(const char *),
      "brain set: ENS/BNS-style designation (<= 64)" },
    { "payout", "X", O_TXF, offsetof(opts, txf) + 5 * sizeof(const char *),
      "brain set: payout address (fees and the owner's 25 %)" },
    { "model-hash", "X", O_TXF, offsetof(opts, txf) + 6 * sizeof(const char *),
      "brain set: model hash, 0x + 64 hex" },
    { "model-uri", "X", O_TXF, offsetof(opts, txf) + 7 * sizeof(const char *),
      "brain set: model URI (<= 200)" },
    { "reg-fee", "X", O_TXF, offsetof(opts, txf) + 8 * sizeof(const char *),
      "brain set: registration fee in BASED (later registrations)" },
    { "validator-bps", "X", O_TXF, offsetof(opts, txf) + 9 * sizeof(const char *),
      "brain set: validators' share of the nodes' 75 %, bps" },
    { "consensus", "X", O_TXF, offsetof(opts, txf) + 10 * sizeof(const char *),
      "brain set: yuma | whitepaper" },
    { "host", "X", O_TXF, offsetof(opts, txf) + 11 * sizeof(const char *),
      "serve: host name or IP" },
    { "port", "X", O_TXF, offsetof(opts, txf) + 12 * sizeof(const char *),
      "serve: port" },
    { "x25519", "X", O_TXF, offsetof(opts, txf) + 13 * sizeof(const char *),
      "serve: X25519 public key, 0x + 64 hex" },
    { "hotkey", "X", O_TXF, offsetof(opts, txf) + 14 * sizeof(const char *),
      "stake, unstake: the validator's address or wallet name" },
    { "instance", "X", O_TXF, offsetof(opts, txf) + 15 * sizeof(const char *),
      "unstake: instance of a deactivated Brain" },
    { "take", "X", O_TXF, offsetof(opts, txf) + 16 * sizeof(const char *),
      "take: validator take in basis points" },
    { "param", "X", O_TXF, offsetof(opts, txf) + 17 * sizeof(const char *),
      "gov propose: parameter name (see gov list)" },
    { "value", "X", O_TXF, offsetof(opts, txf) + 18 * sizeof(const char *),
      "gov propose: new value (an integer, base units for amounts)" },
    { "text", "X", O_TXF, offsetof(opts, txf) + 19 * sizeof(const char *),
      "gov propose: text (<= 256)" },
    { "choice", "X", O_TXF, offsetof(opts, txf) + 20 * sizeof(const char *),
      "gov vote: yes | no" },
};

/* ---------------- context and verbs ---------------- */

typedef struct verb verb;

typedef struct {
    opts o;
    const verb *v;
    const char *const *args;        /* positional words after the verb */
    int nargs;
    char wallet_dir[4096];
    cli_rpc *rpc;
} ctx;

struct verb {
    const char *name;               /* one or two words */
    const char *usage;              /* after the name */
    const char *summary;
    unsigned opts;                  /* O_* bits accepted besides O_GLOBAL */
    int min_args, max_args;
    int (*fn)(ctx *c);
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    fputs("based-cli: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_RUNTIME;
}

static int usage_error(const verb *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const verb *v, const char *fmt, ...)
{
    va_list ap;
    fputs("based-cli: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (v)
        fprintf(stderr, "usage: based-cli %s%s%s\n", v->name, *v->usage ? " " : "", v->usage);
    else
        fputs("usage: based-cli [FLAGS] VERB [ARGS] | METHOD [PARAMS...]; see based-cli --help\n",
              stderr);
    return EXIT_USAGE;
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (s) {
        puts(s);
        free(s);
    }
}

/* Any scalar member as text ("-" if absent). */
static const char *jtext(json_t *obj, const char *key, char *buf, size_t n)
{
    json_t *v = key ? json_object_get(obj, key) : obj;
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, n, "%s", json_is_true(v) ? "true" : "false");
    else if (json_is_array(v))
        snprintf(buf, n, "[%zu items]", json_array_size(v));
    else
        snprintf(buf, n, "-");
    return buf;
}

static int rpc_open(ctx *c)
{
    if (c->rpc)
        return 0;
    char err[CLI_ERR_LEN];
    if (cli_rpc_new(c->o.rpc, c->o.cookie, &c->rpc, err) != BASED_E_OK)
        return fail("%s", err);
    return 0;
}

/* Calls method with params (stolen); 0 and *res on success, else prints. */
static int call(ctx *c, const char *method, json_t *params, json_t **res)
{
    *res = NULL;
    if (rpc_open(c) != 0) {
        json_decref(params);
        return EXIT_RUNTIME;
    }
    cli_rpc_error e;
    based_err rc = cli_rpc_call(c->rpc, method, params, res, &e);
    json_decref(params);
    if (rc == BASED_E_OK)
        return 0;
    if (e.code == -32601)
        return fail("%s; \"%s\" is not a based-cli verb either (see based-cli --help)", e.line,
                    method);
    return fail("%s", e.line);
}

/* An integer member that may also be a decimal string; false if neither. */
static bool ju64(json_t *obj, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return true;
    }
    if (json_is_string(v)) {
        char *end;
        const char *s = json_string_value(v);
        errno = 0;
        unsigned long long x = strtoull(s, &end, 10);
        if (*s && *end == '\0' && errno == 0 && *s != '-') {
            *out = x;
            return true;
        }
    }
    return false;
}

static int need_wallet_dir(ctx *c)
{
    char err[CLI_ERR_LEN];
    if (cli_wallet_dir(c->o.wallet_dir, c->wallet_dir, sizeof c->wallet_dir, err) != BASED_E_OK)
        return fail("%s", err);
    return 0;
}

/* ---------------- wallet verbs ---------------- */

static int v_wallet_new(ctx *c)
{
    const char *name = c->args[0];
    char err[CLI_ERR_LEN], path[4096], addr[CHAIN_ADDR_STRLEN], what[64];
    if (cli_name_check(name, err) != BASED_E_OK)
        return usage_error(c->v, "%s", err);
    if (need_wallet_dir(c))
        return EXIT_RUNTIME;
    chain_addr pub;
    if (cli_keystore_address(c->wallet_dir, name, &pub, NULL) != BASED_E_NOT_FOUND)
        return fail("wallet \"%s\" already exists in %s; choose another name", name,
                    c->wallet_dir);
    char *pw;
    snprintf(what, sizeof what, "new wallet %s", name);
    if (cli_password_get(c->o.password_file, what, true, &pw, err) != BASED_E_OK)
        return fail("%s", err);
    based_err rc = cli_keystore_create(c->wallet_dir, name, pw, NULL, 0, 0, &pub, path, err);
    cli_password_free(pw);
    if (rc != BASED_E_OK)
        return fail("%s", err);
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &pub, addr);
    if (c->o.json) {
        json_t *j = json_pack("{s:s,s:s,s:s}", "name", name, "address", addr, "file", path);
        print_json(j);
        json_decref(j);
        return 0;
    }
    printf("created wallet %s\naddress  %s\nfile     %s\n", name, addr, path);
    printf("keep a backup of the file and the password: nothing can recover a lost password\n");
    return 0;
}

static int v_wallet_list(ctx *c)
{
    char err[CLI_ERR_LEN], addr[CHAIN_ADDR_STRLEN];
    if (need_wallet_dir(c))
        return EXIT_RUNTIME;
    char **names;
    size_t n;
    if (cli_keystore_list(c->wallet_dir, &names, &n, err) != BASED_E_OK)
        return fail("%s", err);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        chain_addr pub;
        if (cli_keystore_address(c->wallet_dir, names[i], &pub, err) == BASED_E_OK) {
            chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &pub, addr);
            json_array_append_new(arr, json_pack("{s:s,s:s}", "name", names[i], "address", addr));
            if (!c->o.json)
                printf("%-32s  %s\n", names[i], addr);
        } else {
            json_array_append_new(arr, json_pack("{s:s,s:s}", "name", names[i], "error", err));
            if (!c->o.json)
                printf("%-32s  (unreadable: %s)\n", names[i], err);
        }
    }
    if (c->o.json)
        print_json(arr);
    else if (n == 0)
        printf("no wallets in %s (create one with \"based-cli wallet new NAME\")\n", c->wallet_dir);
    if (!c->o.json)
        printf("dev0..dev9 are also usable by name (public dev keys, for dev networks only)\n");
    json_decref(arr);
    cli_names_free(names, n);
    return 0;
}

/* Loads a signing key by name into sk (secure, 32 bytes). */
static int load_secret(ctx *c, const char *name, uint8_t *sk, bool *is_dev)
{
    char err[CLI_ERR_LEN], what[64];
    int dev = cli_dev_index(name);
    *is_dev = dev >= 0;
    if (dev >= 0) {
        chain_key_dev((unsigned)dev, sk);
        return 0;
    }
    if (!cli_name_syntax_ok(name))
        return usage_error(c->v, "bad wallet name \"%s\": use 1 to 32 of A-Z a-z 0-9 _ -", name);
    if (need_wallet_dir(c))
        return EXIT_RUNTIME;
    chain_addr pub;
    if (cli_keystore_address(c->wallet_dir, name, &pub, err) != BASED_E_OK)
        return fail("%s", err);
    char *pw;
    snprintf(what, sizeof what, "wallet %s", name);
    if (cli_password_get(c->o.password_file, what, false, &pw, err) != BASED_E_OK)
        return fail("%s", err);
    based_err rc = cli_keystore_load(c->wallet_dir, name, pw, sk, &pub, err);
    cli_password_free(pw);
    return rc == BASED_E_OK ? 0 : fail("%s", err);
}

static int v_wallet_show(ctx *c)
{
    const char *name = c->args[0];
    char err[CLI_ERR_LEN], addr[CHAIN_ADDR_STRLEN], idhex[67], path[4200] = "";
    chain_addr pub;
    bool is_dev = cli_dev_index(name) >= 0;
    uint8_t *sk = NULL;
    char *skhex = NULL;
    if (!cli_name_syntax_ok(name))
        return usage_error(c->v, "bad wallet name \"%s\": use 1 to 32 of A-Z a-z 0-9 _ -", name);
    if (!is_dev) {
        if (need_wallet_dir(c))
            return EXIT_RUNTIME;
        snprintf(path, sizeof path, "%s/%s.json", c->wallet_dir, name);
    }
    if (c->o.show_secret) {
        sk = sodium_malloc(32);
        skhex = sodium_malloc(65);
        int st = sk && skhex ? load_secret(c, name, sk, &is_dev) : fail("out of secure memory");
        if (st == 0 && chain_key_pub(sk, &pub) != BASED_E_OK)
            st = fail("the key of %s is invalid", name);
        if (st != 0) {
            if (sk)
                sodium_free(sk);
            if (skhex)
                sodium_free(skhex);
            return st;
        }
        chain_hex(sk, 32, skhex);
        sodium_free(sk);
    } else if (cli_resolve_account(c->wallet_dir, name, CHAIN_SS58_DEFAULT_PREFIX, &pub, &is_dev,
                                   err) != BASED_E_OK) {
        return fail("%s", err);
    }
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &pub, addr);
    idhex[0] = '0';
    idhex[1] = 'x';
    chain_hex(&pub, 32, idhex + 2);
    if (c->o.json) {
        json_t *j = json_pack("{s:s,s:s,s:s}", "name", name, "address", addr, "account_id", idhex);
        if (is_dev)
            json_object_set_new(j, "note", json_string(DEV_NOTE));
        else
            json_object_set_new(j, "file", json_string(path));
        if (skhex)
            json_object_set_new(j, "secret_key", json_string(skhex));
        print_json(j);
        json_decref(j);
    } else {
        if (is_dev)
            printf("name        %s  (%s)\n", name, DEV_NOTE);
        else
            printf("name        %s\n", name);
        printf("address     %s\naccount id  %s\n", addr, idhex);
        if (!is_dev)
            printf("file        %s\n", path);
        if (skhex)
            printf("secret key  %s\n%s\n", skhex,
                   is_dev ? "(this key is public: never send real funds to it)"
                          : "anyone who sees this secret key controls the account");
    }
    if (skhex)
        sodium_free(skhex);
    return 0;
}

/* ---------------- chain verbs ---------------- */

/* An account argument as the node wants it: a name becomes 0x hex. */
static int account_arg(ctx *c, const char *s, char *out, size_t n, bool *is_dev)
{
    char err[CLI_ERR_LEN];
    *is_dev = false;
    if (!cli_name_syntax_ok(s)) {
        snprintf(out, n, "%s", s);   /* an address: the node parses it */
        return 0;
    }
    if (cli_dev_index(s) < 0 && need_wallet_dir(c))
        return EXIT_RUNTIME;
    chain_addr pub;
    if (cli_resolve_account(c->wallet_dir, s, CHAIN_SS58_DEFAULT_PREFIX, &pub, is_dev, err) !=
        BASED_E_OK)
        return fail("%s", err);
    char hex[65];
    chain_hex(&pub, 32, hex);
    snprintf(out, n, "0x%s", hex);
    return 0;
}

static int v_balance(ctx *c)
{
    char acct[256], b1[64], b2[64];
    bool is_dev;
    json_t *r;
    int st = account_arg(c, c->args[0], acct, sizeof acct, &is_dev);
    if (st == 0)
        st = call(c, "account_get", json_pack("[s]", acct), &r);
    if (st != 0)
        return st;
    if (c->o.json) {
        print_json(r);
        if (is_dev)
            fprintf(stderr, "based-cli: note: %s is a %s\n", c->args[0], DEV_NOTE);
    } else {
        printf("address  %s\n", jtext(r, "address", b1, sizeof b1));
        printf("balance  %s BASED\n", jtext(r, "balance", b1, sizeof b1));
        printf("nonce    %s\n", jtext(r, "nonce", b2, sizeof b2));
        if (is_dev)
            printf("note     %s is a %s\n", c->args[0], DEV_NOTE);
    }
    json_decref(r);
    return 0;
}

static int v_head(ctx *c)
{
    char b[64];
    json_t *r;
    int st = call(c, "chain_getHead", json_array(), &r);
    if (st != 0)
        return st;
    if (c->o.json) {
        print_json(r);
    } else {
        printf("height  %s\n", jtext(r, "height", b, sizeof b));
        printf("hash    %s\n", jtext(r, "hash", b, sizeof b));
        printf("time    %s\n", jtext(r, "time", b, sizeof b));
    }
    json_decref(r);
    return 0;
}

static bool all_digits(const char *s)
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
        printf("%-11s %s\n", keys[i], jtext(obj, keys[i], b, sizeof b));
}

static int v_block(ctx *c)
{
    const char *arg = c->args[0];
    json_t *param;
    if (all_digits(arg)) {
        errno = 0;
        unsigned long long h = strtoull(arg, NULL, 10);
        if (errno || h > (unsigned long long)INT64_MAX)
            return usage_error(c->v, "height %s is out of range", arg);
        param = json_integer((json_int_t)h);
    } else {
        param = json_string(arg);
    }
    json_t *r;
    int st = call(c, "chain_getBlock", json_pack("[o]", param), &r);
    if (st != 0)
        return st;
    if (c->o.json) {
        print_json(r);
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
            printf("  %s\n", json_is_object(t) ? jtext(t, "hash", b, sizeof b) : jtext(t, NULL, b, sizeof b));
    }
    json_decref(r);
    return 0;
}

static void print_tx(json_t *r)
{
    char b[80], b2[80];
    json_t *tx = json_object_get(r, "tx"), *rc = json_object_get(r, "receipt");
    printf("%-11s %s\n", "tx", jtext(r, "hash", b, sizeof b));
    const char *status = jtext(r, "status", b, sizeof b);
    if (strcmp(status, "committed") == 0)
        printf("%-11s committed (block %s, index %s)\n", "status",
               jtext(r, "block_height", b2, sizeof b2), jtext(r, "index", b, sizeof b));
    else
        printf("%-11s %s\n", "status", status);
    if (json_is_object(tx)) {
        static const char *const keys[] = { "chain_id", "sender", "nonce", "fee", "kind" };
        print_fields(tx, keys, BASED_ARRAY_LEN(keys));
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(tx, "payload"), k, v)
            printf("  %-9s %s\n", k, jtext(v, NULL, b, sizeof b));
    }
    if (json_is_object(rc))
        printf("%-11s %s, fee %s, %zu event(s)\n", "receipt", jtext(rc, "status", b, sizeof b),
               jtext(rc, "fee", b2, sizeof b2), json_array_size(json_object_get(rc, "events")));
}

static int v_tx(ctx *c)
{
    json_t *r;
    int st = call(c, "tx_get", json_pack("[s]", c->args[0]), &r);
    if (st != 0)
        return st;
    if (c->o.json)
        print_json(r);
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
        return usage_error(c->v, "transfer needs --from, --to and --amount");
    if (chain_amount_parse(c->o.amount, amount, &why) != BASED_E_OK)
        return usage_error(c->v, "--amount %s: %s", c->o.amount, why ? why : "malformed amount");
    if (*amount == 0)
        return usage_error(c->v, "--amount must be positive");
    const char *f = c->o.fee ? c->o.fee : DEFAULT_FEE;
    if (chain_amount_parse(f, fee, &why) != BASED_E_OK)
        return usage_error(c->v, "--fee %s: %s", f, why ? why : "malformed amount");
    return 0;
}

/* node_getInfo's chain id and SS58 prefix. */
static int chain_info(ctx *c, char *chain_id, size_t n, uint16_t *prefix)
{
    json_t *r;
    int st = call(c, "node_getInfo", json_array(), &r);
    if (st != 0)
        return st;
    const char *id = json_string_value(json_object_get(r, "chain_id"));
    uint64_t p = CHAIN_SS58_DEFAULT_PREFIX;
    if (json_object_get(r, "ss58_prefix") && !ju64(r, "ss58_prefix", &p))
        p = UINT64_MAX;
    if (!id || !*id || strlen(id) >= n || p > UINT16_MAX) {
        json_decref(r);
        return fail("node_getInfo at %s returned no valid chain_id/ss58_prefix; is it a based node?",
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
    int st = call(c, "account_get", json_pack("[s]", hex), &r);
    if (st != 0)
        return st;
    bool ok = ju64(r, "next_nonce", nonce);
    json_decref(r);
    return ok ? 0 : fail("account_get returned no next_nonce for %s", hex);
}

/* Polls tx_get until the tx is committed; *out is the last result. */
static int wait_committed(ctx *c, const char *hash, json_t **out)
{
    struct timespec pause = { 0, 250 * 1000 * 1000 };
    for (int i = 0; i < WAIT_SECONDS * 4; i++) {
        json_t *r;
        int st = call(c, "tx_get", json_pack("[s]", hash), &r);
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
    return fail("transaction %s was not committed within %d s (check later with \"based-cli tx %s\")",
                hash, WAIT_SECONDS, hash);
}

static int send_tx(ctx *c, const chain_tx *tx)
{
    char *hex = malloc(2 * tx->raw_len + 3), local[67], b[64];
    if (!hex)
        return fail("out of memory");
    hex[0] = '0';
    hex[1] = 'x';
    chain_hex(tx->raw, tx->raw_len, hex + 2);
    json_t *r;
    int st = call(c, "tx_send", json_pack("[s]", hex), &r);
    free(hex);
    if (st != 0)
        return st;
    chain_hash_hex(&tx->hash, local);
    const char *hash = json_string_value(json_object_get(r, "hash"));
    if (!hash) {
        json_decref(r);
        return fail("tx_send returned no hash; the transaction's local hash is %s", local);
    }
    if (strcmp(hash, local) != 0)
        fprintf(stderr, "based-cli: warning: the node reports hash %s, computed locally %s\n", hash,
                local);
    if (!c->o.wait) {
        if (c->o.json)
            print_json(r);
        else
            printf("%s\n", hash);
        json_decref(r);
        return 0;
    }
    if (!c->o.json)
        printf("%s\n", hash);
    fflush(stdout);
    json_t *done = NULL;
    st = wait_committed(c, local, &done);
    json_decref(r);
    if (st != 0)
        return st;
    if (c->o.json) {
        print_json(done);
    } else {
        json_t *rc = json_object_get(done, "receipt");
        printf("committed in block %s", jtext(done, "block_height", b, sizeof b));
        if (json_is_object(rc))
            printf(" (receipt %s)", jtext(rc, "status", b, sizeof b));
        printf("\n");
    }
    json_decref(done);
    return 0;
}

/* Signs payload as a tx of kind k from --from and sends it (send_tx). */
static int sign_send(ctx *c, const chain_kind *k, const char *chain_id, uint64_t fee,
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
    st = sk ? load_secret(c, c->o.from, sk, &is_dev) : fail("out of secure memory");
    if (st == 0 && chain_key_pub(sk, &sender) != BASED_E_OK)
        st = fail("the key of %s is invalid", c->o.from);
    if (st == 0)
        st = next_nonce(c, &sender, &nonce);
    if (st == 0 && (rc = chain_tx_make(&tx, chain_id, nonce, fee, k->id, payload->p, payload->len,
                                       sk)) != BASED_E_OK)
        st = fail("cannot sign the transaction: %s", based_strerror(rc));
    if (sk)
        sodium_free(sk);
    if (st == 0)
        st = send_tx(c, &tx);
    chain_tx_release(&tx);
    return st;
}

static int v_transfer(ctx *c)
{
    uint64_t amount, fee;
    char chain_id[CHAIN_CHAIN_ID_MAX + 1], err[CLI_ERR_LEN], to_ss58[CHAIN_ADDR_STRLEN];
    uint16_t prefix = CHAIN_SS58_DEFAULT_PREFIX;
    int st = parse_amounts(c, &amount, &fee);
    if (st != 0)
        return st;
    if (cli_dev_index(c->o.from) < 0 && !cli_name_syntax_ok(c->o.from))
        return usage_error(c->v, "--from must be a wallet name or dev0..dev9, not \"%s\"", c->o.from);
    bool to_is_wallet = cli_dev_index(c->o.to) < 0 && cli_name_syntax_ok(c->o.to);
    if ((to_is_wallet || cli_dev_index(c->o.from) < 0) && need_wallet_dir(c))
        return EXIT_RUNTIME;
    if ((st = chain_info(c, chain_id, sizeof chain_id, &prefix)) != 0)
        return st;
    chain_addr to;
    if (cli_resolve_account(c->wallet_dir, c->o.to, prefix, &to, NULL, err) != BASED_E_OK)
        return fail("--to: %s", err);
    chain_ss58_encode(prefix, &to, to_ss58);

    const chain_kind *k = chain_kind_by_name("transfer");
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
        return fail("cannot build the transfer (%s: %s)", why, based_strerror(rc));
    }

    st = sign_send(c, k, chain_id, fee, &payload);
    chain_w_free(&payload);
    return st;
}

/* ---------------- Brains, neurons, stake, governance ---------------- */

/* A transaction verb: kind, the payload key of its positional argument (if
 * any), and the payload keys its flags may fill ("to" and "amount" come
 * from --to and --amount, "method" from --burn/--stake). */
typedef struct {
    const char *verb, *kind, *pos_key, *keys;
} txverb;

static const txverb txverbs[] = {
    { "pepe transfer", "pepe_transfer", NULL, " to amount " },
    { "pepe bridge", "pepe_bridge", NULL, " to amount " },
    { "brain buy", "brain_buy", NULL, " method " },
    { "brain set", "brain_set", "id", " name designation payout model_hash model_uri fee "
      "validator_bps consensus " },
    { "brain transfer", "brain_transfer", "id", " to " },
    { "brain deactivate", "brain_deactivate", "id", " " },
    { "memorize", "memorize", NULL, " brain role max_fee " },
    { "serve", "serve", NULL, " brain host port x25519 " },
    { "stake", "stake", NULL, " brain hotkey amount " },
    { "unstake", "unstake", NULL, " brain hotkey amount instance " },
    { "take", "set_take", NULL, " take_bps " },
    { "gov propose", "gov_propose", NULL, " kind param value text brain " },
    { "gov vote", "gov_vote", "proposal", " choice brain " },
};

static bool key_allowed(const txverb *t, const char *key)
{
    char k[40];
    snprintf(k, sizeof k, " %s ", key);
    return strstr(t->keys, k) != NULL;
}

/* Sets payload[key] = value; addresses may be wallet names. */
static int set_field(ctx *c, const txverb *t, json_t *pj, const char *key, const char *val,
                     uint16_t prefix)
{
    char err[CLI_ERR_LEN], ss58[CHAIN_ADDR_STRLEN];
    if (!key_allowed(t, key))
        return usage_error(c->v, "%s takes no %s", c->v->name, key);
    if (!strcmp(key, "to") || !strcmp(key, "payout") || !strcmp(key, "hotkey")) {
        chain_addr a;
        if (cli_name_syntax_ok(val) && cli_dev_index(val) < 0 && need_wallet_dir(c))
            return EXIT_RUNTIME;
        if (cli_resolve_account(c->wallet_dir, val, prefix, &a, NULL, err) != BASED_E_OK)
            return fail("%s: %s", key, err);
        chain_ss58_encode(prefix, &a, ss58);
        val = ss58;
    }
    json_object_set_new(pj, key, json_string(val));
    return 0;
}

static int txverb_payload(ctx *c, const txverb *t, json_t *pj, uint16_t prefix)
{
    int st = 0;
    if (t->pos_key && c->nargs > 0)
        json_object_set_new(pj, t->pos_key, json_string(c->args[0]));
    if (c->o.to)
        st = set_field(c, t, pj, "to", c->o.to, prefix);
    if (st == 0 && c->o.amount)
        st = set_field(c, t, pj, "amount", c->o.amount, prefix);
    for (size_t i = 0; st == 0 && i < NTXF; i++)
        if (c->o.txf[i])
            st = set_field(c, t, pj, txfields[i].key, c->o.txf[i], prefix);
    if (st == 0 && !strcmp(t->kind, "brain_buy")) {
        if (c->o.burn == c->o.bstake)
            return usage_error(c->v, "brain buy needs one of --burn or --stake");
        json_object_set_new(pj, "method", json_string(c->o.burn ? "burn" : "stake"));
        if (c->nargs > 0)
            json_object_set_new(pj, "id", json_string(c->args[0]));
    } else if (st == 0 && (c->o.burn || c->o.bstake)) {
        return usage_error(c->v, "--burn/--stake belong to brain buy");
    }
    if (st == 0 && !strcmp(t->kind, "gov_propose"))
        json_object_set_new(pj, "kind", json_string(c->o.txf[17] ? "param" : "text"));
    return st;
}

static int v_txverb(ctx *c)
{
    const txverb *t = NULL;
    char chain_id[CHAIN_CHAIN_ID_MAX + 1];
    uint16_t prefix = CHAIN_SS58_DEFAULT_PREFIX;
    uint64_t fee;
    const char *why = NULL;
    for (size_t i = 0; i < BASED_ARRAY_LEN(txverbs); i++)
        if (!strcmp(txverbs[i].verb, c->v->name))
            t = &txverbs[i];
    if (!t || !c->o.from)
        return usage_error(c->v, "%s needs --from NAME", c->v->name);
    if (cli_dev_index(c->o.from) < 0 && !cli_name_syntax_ok(c->o.from))
        return usage_error(c->v, "--from must be a wallet name or dev0..dev9, not \"%s\"", c->o.from);
    const char *f = c->o.fee ? c->o.fee : DEFAULT_FEE;
    if (chain_amount_parse(f, &fee, &why) != BASED_E_OK)
        return usage_error(c->v, "--fee %s: %s", f, why ? why : "malformed amount");
    int st = chain_info(c, chain_id, sizeof chain_id, &prefix);
    json_t *pj = json_object();
    if (st == 0)
        st = txverb_payload(c, t, pj, prefix);
    const chain_kind *k = chain_kind_by_name(t->kind);
    chain_wbuf payload;
    chain_w_init(&payload, CHAIN_TX_PAYLOAD_MAX);
    if (st == 0) {
        why = "payload";
        based_err rc = k->from_json(pj, prefix, &payload, &why);
        if (rc != BASED_E_OK)
            st = usage_error(c->v, "%s: %s (%s)", c->v->name, based_strerror(rc), why);
    }
    json_decref(pj);
    if (st == 0)
        st = sign_send(c, k, chain_id, fee, &payload);
    chain_w_free(&payload);
    return st;
}

/* Every member of an object as "key  value" lines (objects/arrays as JSON). */
static void print_object(json_t *o)
{
    const char *key;
    json_t *v;
    char b[128];
    json_object_foreach(o, key, v) {
        if (json_is_object(v) || json_is_array(v)) {
            char *s = json_dumps(v, JSON_COMPACT);
            printf("%-16s %s\n", key, s ? s : "");
            free(s);
        } else {
            printf("%-16s %s\n", key, jtext(v, NULL, b, sizeof b));
        }
    }
}

/* Calls method with one argument (an integer id or a string) and prints. */
static int show(ctx *c, const char *method, const char *arg, json_t **out)
{
    json_t *r, *param = all_digits(arg) ? json_integer(strtoll(arg, NULL, 10)) : json_string(arg);
    int st = call(c, method, json_pack("[o]", param), &r);
    if (st != 0)
        return st;
    if (out) {
        *out = r;
        return 0;
    }
    if (c->o.json)
        print_json(r);
    else
        print_object(r);
    json_decref(r);
    return 0;
}

static int v_brain(ctx *c) { return show(c, "brain_get", c->args[0], NULL); }
static int v_gov_show(ctx *c) { return show(c, "gov_get", c->args[0], NULL); }

static int v_pepe_balance(ctx *c)
{
    char acct[256], b[64];
    bool is_dev;
    json_t *r;
    int st = account_arg(c, c->args[0], acct, sizeof acct, &is_dev);
    if (st == 0)
        st = show(c, "account_get", acct, &r);
    if (st != 0)
        return st;
    if (c->o.json) {
        print_json(r);
    } else {
        printf("address          %s\n", jtext(r, "address", b, sizeof b));
        printf("pepecoin         %s\n", jtext(r, "pepecoin", b, sizeof b));
        printf("pepecoin_locked  %s\n", jtext(r, "pepecoin_locked", b, sizeof b));
        char *s = json_dumps(json_object_get(r, "brains"), JSON_COMPACT);
        printf("brains           %s\n", s ? s : "[]");
        free(s);
    }
    json_decref(r);
    return 0;
}

/* Prints rows of objects as a table of the given columns. */
static void print_table(json_t *rows, const char *const *cols, const int *width, size_t n)
{
    char b[128];
    for (size_t i = 0; i < n; i++)
        printf("%-*s ", width[i], cols[i]);
    printf("\n");
    for (size_t r = 0; r < json_array_size(rows); r++) {
        json_t *o = json_array_get(rows, r);
        for (size_t i = 0; i < n; i++)
            printf("%-*s ", width[i], jtext(o, cols[i], b, sizeof b));
        printf("\n");
    }
}

static int v_list(ctx *c, const char *method, const char *rows_key, json_t *param,
                  const char *const *cols, const int *width, size_t n)
{
    json_t *r;
    int st = call(c, method, param, &r);
    if (st != 0)
        return st;
    if (c->o.json)
        print_json(r);
    else
        print_table(json_object_get(r, rows_key), cols, width, n);
    json_decref(r);
    return 0;
}

static int v_brains(ctx *c)
{
    static const char *const cols[] = { "id", "method", "owner", "name", "fee", "stake",
                                        "gigabrain", "validators", "miners", "earning" };
    static const int w[] = { 4, 8, 50, 16, 8, 12, 9, 10, 6, 7 };
    return v_list(c, "brain_list", "brains", json_array(), cols, w, BASED_ARRAY_LEN(cols));
}

static int v_neurons(ctx *c)
{
    static const char *const cols[] = { "uid", "role", "address", "stake", "active", "immune",
                                        "registered_at", "endpoint" };
    static const int w[] = { 5, 9, 50, 12, 6, 6, 13, 21 };
    if (!all_digits(c->args[0]))
        return usage_error(c->v, "BRAIN must be a Brain id");
    return v_list(c, "brain_getNeurons", "neurons",
                  json_pack("[I]", (json_int_t)strtoll(c->args[0], NULL, 10)), cols, w,
                  BASED_ARRAY_LEN(cols));
}

static int v_gov_list(ctx *c)
{
    static const char *const cols[] = { "id", "kind", "status", "end", "param", "value", "text" };
    static const int w[] = { 4, 5, 8, 8, 24, 16, 30 };
    return v_list(c, "gov_list", "proposals", json_array(), cols, w, BASED_ARRAY_LEN(cols));
}

/* ---------------- any RPC method ---------------- */

static int rpc_passthrough(ctx *c, const char *method, const char *const *args, int n)
{
    json_t *params = json_array();
    for (int i = 0; i < n; i++) {
        json_t *p = json_loads(args[i], JSON_DECODE_ANY, NULL);
        json_array_append_new(params, p ? p : json_string(args[i]));
    }
    json_t *r;
    int st = call(c, method, params, &r);
    if (st != 0)
        return st;
    print_json(r);
    json_decref(r);
    return 0;
}

/* ---------------- the table ---------------- */

static const verb verbs[] = {
    { "wallet new", "NAME", "create an encrypted wallet (password asked twice)", 0, 1, 1, v_wallet_new },
    { "wallet list", "", "list the wallets in the wallet directory", 0, 0, 0, v_wallet_list },
    { "wallet show", "NAME [--show-secret]", "show a wallet's address (and secret key with --show-secret)",
      O_SHOW_SECRET, 1, 1, v_wallet_show },
    { "balance", "ADDR|NAME", "balance and nonce of an account", 0, 1, 1, v_balance },
    { "transfer", "--from NAME --to ADDR|NAME --amount X [--fee F] [--wait]",
      "sign a transfer locally and send it; prints the tx hash",
      O_FROM | O_TO | O_AMOUNT | O_FEE | O_WAIT, 0, 0, v_transfer },
    { "tx", "HASH", "a transaction, its status and receipt", 0, 1, 1, v_tx },
    { "head", "", "height, hash and time of the chain head", 0, 0, 0, v_head },
    { "block", "HEIGHT|HASH", "a block's header and transactions", 0, 1, 1, v_block },
#define TXO (O_FROM | O_FEE | O_WAIT)
    { "pepe balance", "ADDR|NAME", "Pepecoin balance, locked Pepecoin and owned Brains", 0, 1, 1,
      v_pepe_balance },
    { "pepe transfer", "--from NAME --to ADDR|NAME --amount X", "send Pepecoin",
      TXO | O_TO | O_AMOUNT, 0, 0, v_txverb },
    { "pepe bridge", "--from BRIDGEKEY --to ADDR|NAME --amount X",
      "mint Pepecoin (the genesis bridge key only; dev networks)", TXO | O_TO | O_AMOUNT, 0, 0,
      v_txverb },
    { "brain buy", "--from NAME --burn|--stake [ID]",
      "buy a Brain with Pepecoin (the next free id, or ID)", TXO | O_METHOD, 0, 1, v_txverb },
    { "brain set", "ID --from OWNER [--name N] [--designation D] [--payout ADDR] "
      "[--model-hash H] [--model-uri U] [--reg-fee X] [--validator-bps B] [--consensus C]",
      "change a Brain's settings", TXO | O_TXF, 1, 1, v_txverb },
    { "brain transfer", "ID --from OWNER --to ADDR|NAME", "give a Brain bought by burn away",
      TXO | O_TO, 1, 1, v_txverb },
    { "brain deactivate", "ID --from OWNER",
      "return a Brain bought by stake after its lock; unlocks the Pepecoin", TXO, 1, 1, v_txverb },
    { "brain", "ID", "a Brain's owner, settings, slots and stake", 0, 1, 1, v_brain },
    { "brains", "", "every active Brain (a table)", 0, 0, 0, v_brains },
    { "neurons", "BRAIN", "a Brain's neurons (a table)", 0, 1, 1, v_neurons },
    { "memorize", "--from NAME --brain ID --role miner|validator [--max-fee X]",
      "register on a Brain, paying its registration fee", TXO | O_TXF, 0, 0, v_txverb },
    { "serve", "--from NAME --brain ID --host H --port P --x25519 KEY",
      "publish a miner's endpoint and encryption key", TXO | O_TXF, 0, 0, v_txverb },
    { "stake", "--from NAME --brain ID --hotkey ADDR|NAME --amount X",
      "stake BASED to a validator of a Brain", TXO | O_TXF | O_AMOUNT, 0, 0, v_txverb },
    { "unstake", "--from NAME --brain ID --hotkey ADDR|NAME --amount X [--instance N]",
      "take stake back", TXO | O_TXF | O_AMOUNT, 0, 0, v_txverb },
    { "take", "--from NAME --take BPS", "set your validator take (basis points)", TXO | O_TXF,
      0, 0, v_txverb },
    { "gov propose", "--from NAME (--param P --value V | --text T) [--brain GIGABRAIN]",
      "propose a parameter change or a text (admin key or a GigaBrain's owner)", TXO | O_TXF,
      0, 0, v_txverb },
    { "gov vote", "ID --from NAME --choice yes|no [--brain GIGABRAIN]",
      "vote with a GigaBrain, or a Pepecoin signal vote without --brain", TXO | O_TXF, 1, 1,
      v_txverb },
    { "gov list", "", "governance proposals (a table)", 0, 0, 0, v_gov_list },
    { "gov show", "ID", "one proposal with its votes", 0, 1, 1, v_gov_show },
#undef TXO
};

static void help(FILE *f)
{
    fprintf(f, "based-cli %s: the based JSON-RPC client and wallet\n\n"
               "usage: based-cli [FLAGS] VERB [ARGS]\n"
               "       based-cli [FLAGS] METHOD [PARAMS...]   call any RPC method; each PARAM is\n"
               "                 JSON if it parses, else a string (based-cli chain_getBlock 3)\n\nverbs:\n",
            BASED_VERSION);
    for (size_t i = 0; i < BASED_ARRAY_LEN(verbs); i++)
        fprintf(f, "  %s%s%s\n      %s\n", verbs[i].name, *verbs[i].usage ? " " : "",
                verbs[i].usage, verbs[i].summary);
    fprintf(f, "\nflags:\n");
    for (size_t i = 0; i < BASED_ARRAY_LEN(options); i++) {
        char lhs[48];
        snprintf(lhs, sizeof lhs, "--%s%s%s", options[i].name, options[i].arg ? " " : "",
                 options[i].arg ? options[i].arg : "");
        fprintf(f, "  %-24s %s\n", lhs, options[i].help);
    }
    fprintf(f, "\nwallet names: [A-Za-z0-9_-]{1,32}; dev0..dev9 name the public dev keys\n"
               "(for dev networks only).\nexit status: 0 ok, 1 runtime failure, 2 usage error.\n");
}

/* One pass over argv; returns 0 or an exit status after printing. */
static int parse_args(int argc, char **argv, opts *o)
{
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0' || (a[1] != '-' && a[1] != 'h')) {
            if (o->npos == MAX_POS)
                return usage_error(NULL, "too many arguments");
            o->pos[o->npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (strcmp(a, "-h") == 0) {
            o->help = true;
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        const option *opt = NULL;
        for (size_t k = 0; k < BASED_ARRAY_LEN(options); k++)
            if (strlen(options[k].name) == nl && strncmp(options[k].name, name, nl) == 0)
                opt = &options[k];
        if (!opt)
            return usage_error(NULL, "unknown flag %s", a);
        o->given |= opt->bit;
        if (!opt->arg) {
            if (eq)
                return usage_error(NULL, "--%s takes no value", opt->name);
            *(bool *)((char *)o + opt->off) = true;
            continue;
        }
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val)
            return usage_error(NULL, "--%s needs a value (%s)", opt->name, opt->arg);
        *(const char **)((char *)o + opt->off) = val;
    }
    return 0;
}

/* The verb named by the first one or two positional words, and how many. */
static const verb *find_verb(const opts *o, int *words)
{
    for (size_t i = 0; i < BASED_ARRAY_LEN(verbs); i++) {
        const char *n = verbs[i].name, *sp = strchr(n, ' ');
        size_t l1 = sp ? (size_t)(sp - n) : strlen(n);
        if (strlen(o->pos[0]) != l1 || strncmp(o->pos[0], n, l1) != 0)
            continue;
        if (!sp) {
            *words = 1;
            return &verbs[i];
        }
        if (o->npos > 1 && strcmp(o->pos[1], sp + 1) == 0) {
            *words = 2;
            return &verbs[i];
        }
    }
    return NULL;
}

static bool is_verb_group(const char *w)
{
    size_t l = strlen(w);
    for (size_t i = 0; i < BASED_ARRAY_LEN(verbs); i++)
        if (strncmp(verbs[i].name, w, l) == 0 && verbs[i].name[l] == ' ')
            return true;
    return false;
}

static int run(ctx *c)
{
    opts *o = &c->o;
    if (o->version && o->npos == 0) {
        printf("based-cli %s\n", BASED_VERSION);
        return 0;
    }
    if (o->npos == 0) {
        help(o->help ? stdout : stderr);
        return o->help ? 0 : EXIT_USAGE;
    }
    int words = 0;
    const verb *v = find_verb(o, &words);
    if (!v && is_verb_group(o->pos[0])) {
        fprintf(stderr, "based-cli: \"%s\" needs one of:\n", o->pos[0]);
        for (size_t i = 0; i < BASED_ARRAY_LEN(verbs); i++)
            if (strncmp(verbs[i].name, o->pos[0], strlen(o->pos[0])) == 0 &&
                verbs[i].name[strlen(o->pos[0])] == ' ')
                fprintf(stderr, "usage: based-cli %s %s\n", verbs[i].name, verbs[i].usage);
        return EXIT_USAGE;
    }
    c->v = v;
    if (!v) {
        if (o->help) {
            help(stdout);
            return 0;
        }
        if (o->given & ~(unsigned)O_GLOBAL)
            return usage_error(NULL, "flags like --from/--to/--wait belong to a verb, not to "
                                     "the RPC method %s", o->pos[0]);
        return rpc_passthrough(c, o->pos[0], o->pos + 1, o->npos - 1);
    }
    if (o->help) {
        printf("usage: based-cli %s %s\n  %s\n", v->name, v->usage, v->summary);
        return 0;
    }
    unsigned extra = o->given & ~(v->opts | O_GLOBAL);
    for (size_t k = 0; extra && k < BASED_ARRAY_LEN(options); k++)
        if (extra & options[k].bit)
            return usage_error(v, "%s does not take --%s", v->name, options[k].name);
    c->args = o->pos + words;
    c->nargs = o->npos - words;
    if (c->nargs < v->min_args)
        return usage_error(v, "%s needs %s", v->name, v->usage);
    if (c->nargs > v->max_args)
        return usage_error(v, "unexpected argument \"%s\"", c->args[v->max_args]);
    return v->fn(c);
}

int cli_main(int argc, char **argv)
{
    if (chain_crypto_init() != 0) {
        fprintf(stderr, "based-cli: cannot initialise the crypto libraries\n");
        return EXIT_RUNTIME;
    }
    ctx c;
    memset(&c, 0, sizeof c);
    int st = parse_args(argc, argv, &c.o);
    if (st == 0)
        st = run(&c);
    cli_rpc_free(c.rpc);
    fflush(stdout);
    return st;
}
