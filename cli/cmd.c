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
#include "cli/keystore.h"
#include "cli/password.h"
#include "cli/rpcclient.h"
#include "cli/cmd.h"
#include "cli/verbs.h"
#include "node/runtime.h"
#include "chain/base.h"

const char CLI_DEV_NOTE[] = "public dev key, for dev networks only";

/* ---------------- options ---------------- */

/* Flags that fill a transaction payload field: --flag VALUE -> "key". */
const cli_txfield cli_txfields[] = {
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
_Static_assert(sizeof cli_txfields / sizeof cli_txfields[0] == NTXF, "NTXF");

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
    { "weights", "UID:W,...", O_WEIGHTS, offsetof(opts, weights),
      "weights commit|reveal|set: the row, e.g. 1:65535,2:30000" },
    { "salt", "HEX", O_WEIGHTS, offsetof(opts, salt),
      "weights commit|set: salt (default random); reveal: default the stored one" },
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

/* ---------------- helpers shared by the verbs ---------------- */

int cli_die(const char *fmt, ...)
{
    va_list ap;
    fputs("based-cli: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_RUNTIME;
}

int cli_usage(const verb *v, const char *fmt, ...)
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

void cli_print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (s) {
        puts(s);
        free(s);
    }
}

/* Any scalar member as text ("-" if absent). */
const char *cli_jtext(json_t *obj, const char *key, char *buf, size_t n)
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
        return cli_die("%s", err);
    return 0;
}

/* Calls method with params (stolen); 0 and *res on success, else prints. */
int cli_call(ctx *c, const char *method, json_t *params, json_t **res)
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
        return cli_die("%s; \"%s\" is not a based-cli verb either (see based-cli --help)", e.line,
                    method);
    return cli_die("%s", e.line);
}

/* An integer member that may also be a decimal string; false if neither. */
bool cli_ju64(json_t *obj, const char *key, uint64_t *out)
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

int cli_need_wallet_dir(ctx *c)
{
    char err[CLI_ERR_LEN];
    if (cli_wallet_dir(c->o.wallet_dir, c->wallet_dir, sizeof c->wallet_dir, err) != BASED_E_OK)
        return cli_die("%s", err);
    return 0;
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
    int st = cli_call(c, method, params, &r);
    if (st != 0)
        return st;
    cli_print_json(r);
    json_decref(r);
    return 0;
}

/* ---------------- the table ---------------- */

static const verb verbs[] = {
    { "wallet new", "NAME", "create an encrypted wallet (password asked twice)", 0, 1, 1, cli_v_wallet_new },
    { "wallet list", "", "list the wallets in the wallet directory", 0, 0, 0, cli_v_wallet_list },
    { "wallet show", "NAME [--show-secret]", "show a wallet's address (and secret key with --show-secret)",
      O_SHOW_SECRET, 1, 1, cli_v_wallet_show },
    { "balance", "ADDR|NAME", "balance and nonce of an account", 0, 1, 1, cli_v_balance },
    { "transfer", "--from NAME --to ADDR|NAME --amount X [--fee F] [--wait]",
      "sign a transfer locally and send it; prints the tx hash",
      O_FROM | O_TO | O_AMOUNT | O_FEE | O_WAIT, 0, 0, cli_v_transfer },
    { "tx", "HASH", "a transaction, its status and receipt", 0, 1, 1, cli_v_tx },
    { "head", "", "height, hash and time of the chain head", 0, 0, 0, cli_v_head },
    { "block", "HEIGHT|HASH", "a block's header and transactions", 0, 1, 1, cli_v_block },
#define TXO (O_FROM | O_FEE | O_WAIT)
    { "pepe balance", "ADDR|NAME", "Pepecoin balance, locked Pepecoin and owned Brains", 0, 1, 1,
      cli_v_pepe_balance },
    { "pepe transfer", "--from NAME --to ADDR|NAME --amount X", "send Pepecoin",
      TXO | O_TO | O_AMOUNT, 0, 0, cli_v_txverb },
    { "pepe bridge", "--from BRIDGEKEY --to ADDR|NAME --amount X",
      "mint Pepecoin (the genesis bridge key only; dev networks)", TXO | O_TO | O_AMOUNT, 0, 0,
      cli_v_txverb },
    { "brain buy", "--from NAME --burn|--stake [ID]",
      "buy a Brain with Pepecoin (the next free id, or ID)", TXO | O_METHOD, 0, 1, cli_v_txverb },
    { "brain set", "ID --from OWNER [--name N] [--designation D] [--payout ADDR] "
      "[--model-hash H] [--model-uri U] [--reg-fee X] [--validator-bps B] [--consensus C]",
      "change a Brain's settings", TXO | O_TXF, 1, 1, cli_v_txverb },
    { "brain transfer", "ID --from OWNER --to ADDR|NAME", "give a Brain bought by burn away",
      TXO | O_TO, 1, 1, cli_v_txverb },
    { "brain deactivate", "ID --from OWNER",
      "return a Brain bought by stake after its lock; unlocks the Pepecoin", TXO, 1, 1, cli_v_txverb },
    { "brain", "ID", "a Brain's owner, settings, slots and stake", 0, 1, 1, cli_v_brain },
    { "brains", "", "every active Brain (a table)", 0, 0, 0, cli_v_brains },
    { "neurons", "BRAIN", "a Brain's metagraph: UID, STAKE, RANK, TRUST, CONSENSUS, INCENTIVE, "
      "DIVIDENDS, EMISSION, VTRUST, VAL, UPDATED, ACTIVE", 0, 1, 1, cli_v_neurons },
    { "rewards", "ADDR|NAME", "what an account earned per Brain and role", 0, 1, 1,
      cli_v_rewards },
    { "emission", "[HEIGHT]", "block reward, halving, beta(t) and supply at a height", 0, 0, 1,
      cli_v_emission },
    { "weights commit", "--from NAME --brain ID --weights UID:W,... [--salt HEX]",
      "commit a weights row (the salt is kept in the wallet directory)",
      TXO | O_TXF | O_WEIGHTS, 0, 0, cli_v_weights },
    { "weights reveal", "--from NAME --brain ID [--weights UID:W,... --salt HEX]",
      "reveal the pending commit in the next window", TXO | O_TXF | O_WEIGHTS, 0, 0,
      cli_v_weights },
    { "weights set", "--from NAME --brain ID --weights UID:W,... [--salt HEX]",
      "commit, wait for the reveal window, reveal", TXO | O_TXF | O_WEIGHTS, 0, 0,
      cli_v_weights },
    { "memorize", "--from NAME --brain ID --role miner|validator [--max-fee X]",
      "register on a Brain, paying its registration fee", TXO | O_TXF, 0, 0, cli_v_txverb },
    { "serve", "--from NAME --brain ID --host H --port P --x25519 KEY",
      "publish a miner's endpoint and encryption key", TXO | O_TXF, 0, 0, cli_v_txverb },
    { "stake", "--from NAME --brain ID --hotkey ADDR|NAME --amount X",
      "stake BASED to a validator of a Brain", TXO | O_TXF | O_AMOUNT, 0, 0, cli_v_txverb },
    { "unstake", "--from NAME --brain ID --hotkey ADDR|NAME --amount X [--instance N]",
      "take stake back", TXO | O_TXF | O_AMOUNT, 0, 0, cli_v_txverb },
    { "take", "--from NAME --take BPS", "set your validator take (basis points)", TXO | O_TXF,
      0, 0, cli_v_txverb },
    { "gov propose", "--from NAME (--param P --value V | --text T) [--brain GIGABRAIN]",
      "propose a parameter change or a text (admin key or a GigaBrain's owner)", TXO | O_TXF,
      0, 0, cli_v_txverb },
    { "gov vote", "ID --from NAME --choice yes|no [--brain GIGABRAIN]",
      "vote with a GigaBrain, or a Pepecoin signal vote without --brain", TXO | O_TXF, 1, 1,
      cli_v_txverb },
    { "gov list", "", "governance proposals (a table)", 0, 0, 0, cli_v_gov_list },
    { "gov show", "ID", "one proposal with its votes", 0, 1, 1, cli_v_gov_show },
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
                return cli_usage(NULL, "too many arguments");
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
            return cli_usage(NULL, "unknown flag %s", a);
        o->given |= opt->bit;
        if (!opt->arg) {
            if (eq)
                return cli_usage(NULL, "--%s takes no value", opt->name);
            *(bool *)((char *)o + opt->off) = true;
            continue;
        }
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val)
            return cli_usage(NULL, "--%s needs a value (%s)", opt->name, opt->arg);
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
            return cli_usage(NULL, "flags like --from/--to/--wait belong to a verb, not to "
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
            return cli_usage(v, "%s does not take --%s", v->name, options[k].name);
    c->args = o->pos + words;
    c->nargs = o->npos - words;
    if (c->nargs < v->min_args)
        return cli_usage(v, "%s needs %s", v->name, v->usage);
    if (c->nargs > v->max_args)
        return cli_usage(v, "unexpected argument \"%s\"", c->args[v->max_args]);
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
    c.rt = based_runtime();
    int st = parse_args(argc, argv, &c.o);
    if (st == 0)
        st = run(&c);
    cli_rpc_free(c.rpc);
    fflush(stdout);
    return st;
}

