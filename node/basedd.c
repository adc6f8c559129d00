/*
 * basedd.c: the node's main. Parses flags (and the config file), opens the
 * chain, and runs one libuv loop with the block producer, the HTTP/JSON-RPC
 * server and the signal handlers. `--verify` replays the chain instead.
 *
 * Start-up failures exit 1 with one line naming the problem; usage errors
 * exit 2. SIGINT/SIGTERM: stop accepting, finish the block in hand (block
 * production is synchronous on the loop, so a block is never half made),
 * close LevelDB, and end with uv_loop_close() returning 0.
 */
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "chain/kinds.h"
#include "node/abci_app.h"
#include "node/authkey.h"
#include "node/cmtgen.h"
#include "node/cmtrpc.h"
#include "node/cookie.h"
#include "node/http.h"
#include "node/log.h"
#include "node/node.h"
#include "node/runtime.h"

#define PATH_CAP 1024

typedef struct {
    char datadir[PATH_CAP];
    char genesis[PATH_CAP];
    char rpc_bind[256];
    char authority_key[PATH_CAP];
    char log_level[16];
    char conf[PATH_CAP];
    char new_key[PATH_CAP];
    char tft_threads[16];
    char tft_cache_mib[24];
    char abci[PATH_CAP];
    char cometbft_rpc[256];
    char cmt_genesis[PATH_CAP];
    char cmt_key[PATH_CAP];
    bool dev, verify;
    bool set[24];              /* which options came from the command line */
} opts;

typedef struct {
    const char *name;          /* flag without "--", also the config key */
    const char *arg;           /* NULL: a switch */
    size_t off, cap;           /* into opts: a char[] or a bool */
    const char *help;
} optdef;

#define OS(f) offsetof(opts, f), sizeof(((opts *)0)->f)
static const optdef optdefs[] = {
    { "datadir", "DIR", OS(datadir), "data directory (default ~/.based, or ~/.based/dev with --dev)" },
    { "genesis", "FILE", OS(genesis), "genesis file (default: DATADIR/genesis.json; with --dev the built-in genesis.json)" },
    { "rpc-bind", "ADDR:PORT", OS(rpc_bind), "JSON-RPC/HTTP address (default 127.0.0.1:9933)" },
    { "authority-key", "FILE", OS(authority_key), "Ed25519 key file of this authority (produces blocks)" },
    { "dev", NULL, OS(dev), "one-node dev chain: built-in genesis, fresh authority key, 1 s blocks, dev0..dev9 prefunded" },
    { "abci", "ADDR", OS(abci), "serve CometBFT's ABCI++ on unix:///PATH or tcp://127.0.0.1:PORT: CometBFT drives the blocks (a network node; see docs/network.md)" },
    { "cometbft-rpc", "URL", OS(cometbft_rpc), "with --abci: the local CometBFT's RPC, where tx_send hands txs (default http://127.0.0.1:26657)" },
    { "log-level", "LEVEL", OS(log_level), "error, warn, info (default) or debug" },
    { "conf", "FILE", OS(conf), "config file of `key = value` lines, same keys as the flags (default DATADIR/basedd.conf)" },
    { "verify", NULL, OS(verify), "replay every block from genesis, check each state root, and exit" },
    { "new-authority-key", "FILE", OS(new_key), "write a fresh authority key to FILE, print its public key, and exit" },
    { "cometbft-genesis", "OUT", OS(cmt_genesis), "write CometBFT's genesis.json derived from --genesis (authorities become its validators) to OUT, and exit" },
    { "cometbft-key", "OUT", OS(cmt_key), "write CometBFT's priv_validator_key.json for --authority-key to OUT (mode 0600), and exit" },
    { "tft-threads", "N", OS(tft_threads), "threads that train TFT models in the background, 1-16 (default 1)" },
    { "tft-cache-mib", "N", OS(tft_cache_mib), "memory cap of the TFT forecast cache in MiB (default 5120; 0: no cache, rebuild each epoch)" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: basedd [OPTIONS]\n\nThe based chain node.\n\n");
    for (size_t i = 0; i < BASED_ARRAY_LEN(optdefs); i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", optdefs[i].name, optdefs[i].arg ? " " : "",
                 optdefs[i].arg ? optdefs[i].arg : "");
        fprintf(f, "  %-26s %s\n", left, optdefs[i].help);
    }
    fprintf(f, "  %-26s %s\n  %-26s %s\n", "--help", "this help", "--version", "print the version");
    fprintf(f, "\nFiles in DATADIR: db/ (LevelDB), .cookie (RPC credentials), keys/, basedd.conf, basedd.log\n"
               "Exit status: 0 ok, 1 runtime failure, 2 usage error.\n");
}

/* A decimal count 0..max, digits only. */
static int parse_count(const char *s, unsigned long long max, unsigned long long *out)
{
    unsigned long long v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned long long)(*s - '0');
        if (v > max)
            return -1;
    }
    *out = v;
    return 0;
}

static int die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int die_usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "basedd: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see basedd --help)\n");
    return 2;
}

/* Sets option d from value v; returns 0 or a usage error exit code. */
static int set_opt(opts *o, const optdef *d, const char *v, bool from_cli)
{
    size_t idx = (size_t)(d - optdefs);
    if (!from_cli && o->set[idx])
        return 0;   /* the command line wins over the config file */
    if (!d->arg) {
        bool b = true;
        if (v && (!strcmp(v, "0") || !strcmp(v, "false")))
            b = false;
        else if (v && strcmp(v, "1") && strcmp(v, "true"))
            return die_usage("\"%s\" must be true or false", d->name);
        memcpy((char *)o + d->off, &b, sizeof b);
    } else {
        if (strlen(v) >= d->cap)
            return die_usage("the value of --%s is too long", d->name);
        memcpy((char *)o + d->off, v, strlen(v) + 1);
    }
    o->set[idx] = true;
    return 0;
}

static const optdef *find_opt(const char *name)
{
    for (size_t i = 0; i < BASED_ARRAY_LEN(optdefs); i++)
        if (!strcmp(optdefs[i].name, name))
            return &optdefs[i];
    return NULL;
}

static int parse_args(opts *o, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(a, "--version")) {
            printf("basedd %s\n", BASED_VERSION);
            exit(0);
        }
        if (strncmp(a, "--", 2) != 0)
            return die_usage("unexpected argument \"%s\"", a);
        char name[64];
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (n >= sizeof name)
            return die_usage("unknown option \"%s\"", a);
        memcpy(name, a + 2, n);
        name[n] = '\0';
        const optdef *d = find_opt(name);
        if (!d)
            return die_usage("unknown option \"%s\"", a);
        const char *v = eq ? eq + 1 : NULL;
        if (d->arg && !v) {
            if (i + 1 >= argc)
                return die_usage("--%s needs a value", name);
            v = argv[++i];
        }
        int rc = set_opt(o, d, v, true);
        if (rc)
            return rc;
    }
    return 0;
}

/* Reads `key = value` lines ('#' comments) into options not set on the
 * command line. A missing default file is fine; a missing --conf is not. */
static int read_conf(opts *o, const char *path, bool required)
{
    FILE *f = fopen(path, "r");
    char line[2048];
    int ln = 0;
    if (!f) {
        if (!required && errno == ENOENT)
            return 0;
        fprintf(stderr, "basedd: cannot read config %s: %s\n", path, strerror(errno));
        return 1;
    }
    while (fgets(line, sizeof line, f)) {
        ln++;
        char *p = line, *eq, *end;
        if (!strchr(line, '\n') && !feof(f)) {
            fprintf(stderr, "basedd: %s:%d: line too long\n", path, ln);
            fclose(f);
            return 1;
        }
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\0')
            continue;
        if (!(eq = strchr(p, '='))) {
            fprintf(stderr, "basedd: %s:%d: expected `key = value`\n", path, ln);
            fclose(f);
            return 1;
        }
        for (end = eq; end > p && (end[-1] == ' ' || end[-1] == '\t'); end--)
            ;
        *end = '\0';
        char *v = eq + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        for (end = v + strlen(v); end > v && strchr(" \t\r\n", end[-1]); end--)
            ;
        *end = '\0';
        const optdef *d = find_opt(p);
        if (!d || !strcmp(p, "conf") || !strcmp(p, "new-authority-key") || !strcmp(p, "verify") ||
            !strcmp(p, "cometbft-genesis") || !strcmp(p, "cometbft-key")) {
            fprintf(stderr, "basedd: %s:%d: unknown key \"%s\"\n", path, ln, p);
            fclose(f);
            return 1;
        }
        if (set_opt(o, d, v, false)) {
            fclose(f);
            return 1;
        }
    }
    fclose(f);
    return 0;
}

/* ---------------- the running node ---------------- */

typedef struct {
    uv_loop_t loop;
    uv_timer_t block_timer;
    uv_signal_t sigint, sigterm;
    node_http_server *http;
    node_http_rpc rpc;
    node_ctx ctx;
    node_authkey key;
    abci_server *abci;         /* on a network: the ABCI++ server */
    chain_tx **cands;
    chain_runtime *rt;         /* the modules, with this node's TFT pool and cache */
    char datadir[PATH_CAP];
    bool stopping;
} daemon_t;

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Drops the candidates the block left out (after the block is committed:
 * nothing calls into the mempool while a block executes). */
static void drop_skipped(daemon_t *d, const chain_skip *sk, size_t n)
{
    /* hashes first: dropping a tx also frees the sender's later ones */
    chain_hash *hs = malloc((n ? n : 1) * sizeof *hs);
    for (size_t i = 0; hs && i < n; i++) {
        char h[67];
        hs[i] = sk[i].tx->hash;
        chain_hash_hex(&hs[i], h);
        node_log(NODE_LOG_DEBUG, "tx %s left out of the block: %s (%s)", h,
                 based_strerror(sk[i].err), sk[i].why);
    }
    for (size_t i = 0; hs && i < n; i++)
        node_mempool_drop(d->ctx.mempool, &hs[i]);
    free(hs);
}

static void produce(uv_timer_t *t)
{
    daemon_t *d = t->data;
    char err[512];
    size_t inc = 0, nsk = 0;
    const chain_genesis *g = chain_ledger_genesis(d->ctx.ledger);
    size_t n = node_mempool_candidates(d->ctx.mempool, d->cands, (size_t)g->params.max_block_txs);
    chain_skip *sk = calloc(n ? n : 1, sizeof *sk);
    based_err rc = sk ? chain_ledger_produce(d->ctx.ledger, d->cands, n, wall_ms(), d->key.sk, sk,
                                             &nsk, &inc, err, sizeof err)
                      : BASED_E_NOMEM;
    if (rc == BASED_E_OK)
        drop_skipped(d, sk, nsk);
    free(sk);
    if (rc != BASED_E_OK) {
        node_log(NODE_LOG_ERROR, "block production failed: %s", err);
        return;
    }
    node_mempool_after_block(d->ctx.mempool, d->ctx.ledger);
    chain_head h = chain_ledger_head(d->ctx.ledger);
    char hash[67];
    chain_hash_hex(&h.hash, hash);
    node_log(inc ? NODE_LOG_INFO : NODE_LOG_DEBUG, "block %" PRIu64 " %s txs=%zu mempool=%zu",
             h.height, hash, inc, node_mempool_size(d->ctx.mempool));
}

static void on_close_noop(uv_handle_t *h) { (void)h; }

static void on_signal(uv_signal_t *s, int signum)
{
    daemon_t *d = s->data;
    if (d->stopping)
        return;
    d->stopping = true;
    node_log(NODE_LOG_INFO, "signal %d: shutting down", signum);
    node_http_stop(d->http);
    d->http = NULL;
    abci_server_stop(d->abci);
    d->abci = NULL;
    node_cmtrpc_stop(d->ctx.cmt);
    uv_timer_stop(&d->block_timer);
    uv_close((uv_handle_t *)&d->block_timer, on_close_noop);
    uv_close((uv_handle_t *)&d->sigint, on_close_noop);
    uv_close((uv_handle_t *)&d->sigterm, on_close_noop);
}

/* ---------------- start-up ---------------- */

static int mkdir_p(const char *path, mode_t mode)
{
    char tmp[PATH_CAP];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return (mkdir(tmp, mode) != 0 && errno != EEXIST) ? -1 : 0;
}

static bool file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Opens (or creates) the chain for this run; fills d->ctx.ledger and d->key. */
static int open_chain(daemon_t *d, opts *o)
{
    char db[PATH_CAP + 8], keys[PATH_CAP + 8], keyfile[PATH_CAP + 32], err[1024];
    chain_genesis g;
    based_err rc;
    bool have_g = false;
    snprintf(db, sizeof db, "%s/db", d->datadir);
    snprintf(keys, sizeof keys, "%s/keys", d->datadir);
    snprintf(keyfile, sizeof keyfile, "%s/authority.json", keys);
    if (o->dev) {
        bool fresh = !file_exists(db);
        if (fresh) {
            if (o->genesis[0])
                rc = chain_genesis_load(o->genesis, &g, err, sizeof err);
            else
                rc = chain_genesis_parse(chain_genesis_default, strlen(chain_genesis_default),
                                         "genesis.json (built in)", &g, err, sizeof err);
            if (rc != BASED_E_OK) {
                fprintf(stderr, "basedd: %s\n", err);
                return 1;
            }
            have_g = true;
            if (mkdir_p(keys, 0700) != 0 ||
                node_authkey_create(keyfile, &d->key, err, sizeof err) != BASED_E_OK) {
                fprintf(stderr, "basedd: %s\n", err[0] ? err : "cannot create the keys directory");
                chain_genesis_release(&g);
                return 1;
            }
            chain_genesis_make_dev(&g, &d->key.pub, wall_ms() / 1000 * 1000);
        } else if (node_authkey_load(o->authority_key[0] ? o->authority_key : keyfile, &d->key,
                                     err, sizeof err) != BASED_E_OK) {
            fprintf(stderr, "basedd: %s\n", err);
            return 1;
        }
    } else {
        char gpath[PATH_CAP + 16];
        snprintf(gpath, sizeof gpath, "%s", o->genesis[0] ? o->genesis : "");
        if (!gpath[0])
            snprintf(gpath, sizeof gpath, "%s/genesis.json", d->datadir);
        if (!file_exists(db) || o->genesis[0]) {
            if (chain_genesis_load(gpath, &g, err, sizeof err) != BASED_E_OK) {
                fprintf(stderr, "basedd: %s%s\n", err,
                        o->genesis[0] ? "" : " (pass --genesis FILE, or --dev for a dev chain)");
                return 1;
            }
            have_g = true;
            if (g.nauth == 0) {
                fprintf(stderr, "basedd: %s lists no authorities: add one, or run a dev chain with --dev\n",
                        gpath);
                chain_genesis_release(&g);
                return 1;
            }
        }
        if (o->authority_key[0] &&
            node_authkey_load(o->authority_key, &d->key, err, sizeof err) != BASED_E_OK) {
            fprintf(stderr, "basedd: %s\n", err);
            if (have_g)
                chain_genesis_release(&g);
            return 1;
        }
    }
    rc = chain_ledger_open(d->rt, db, have_g ? &g : NULL, &d->ctx.ledger, err, sizeof err);
    if (have_g)
        chain_genesis_release(&g);
    if (rc != BASED_E_OK) {
        fprintf(stderr, "basedd: %s%s\n", err,
                strstr(err, "lock") ? " (is another basedd running on this data directory?)" : "");
        return 1;
    }
    if (d->key.sk && chain_genesis_authority(chain_ledger_genesis(d->ctx.ledger), &d->key.pub) < 0) {
        fprintf(stderr, "basedd: the authority key is not one of the genesis authorities\n");
        return 1;
    }
    return 0;
}

static void banner(daemon_t *d, const char *cookie_path)
{
    const chain_genesis *g = chain_ledger_genesis(d->ctx.ledger);
    chain_head h = chain_ledger_head(d->ctx.ledger);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", node_http_port(d->http));
    printf("basedd %s  chain %s  height %" PRIu64 "%s\n", BASED_VERSION, g->chain_id, h.height,
           d->ctx.abci ? "  (network node: CometBFT drives the blocks)"
           : d->ctx.authority ? "  (authority: producing blocks)" : "");
    printf("  data dir   %s\n  RPC        %s\n  cookie     %s\n", d->datadir, url, cookie_path);
    printf("  try        curl -s -u \"$(cat %s)\" -d '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"chain_getHead\"}' %s\n",
           cookie_path, url);
    if (d->ctx.dev) {
        printf("  dev accounts (PUBLIC dev keys, for dev networks only; based-cli knows them as dev0..dev9):\n");
        for (uint64_t i = 0; i < g->dev.accounts; i++) {
            uint8_t sk[32];
            chain_addr a;
            char s[CHAIN_ADDR_STRLEN], bal[32];
            chain_key_dev((unsigned)i, sk);
            chain_key_pub(sk, &a);
            chain_ss58_encode(g->ss58_prefix, &a, s);
            chain_amount_format(g->dev.balance, bal);
            printf("    dev%-2" PRIu64 " %s  %s BASED at genesis\n", i, s, bal);
        }
    }
    printf("  stop with Ctrl-C\n");
    fflush(stdout);
}

/* A network node: the ABCI++ server for CometBFT and the client of its RPC. */
static int start_network(daemon_t *d, opts *o, char *err, size_t errlen)
{
    const char *url = o->cometbft_rpc[0] ? o->cometbft_rpc : "http://127.0.0.1:26657";
    if (node_abci_app_new(d->ctx.ledger, &d->ctx.abci, err, errlen) != BASED_E_OK)
        return 1;
    if (node_cmtrpc_new(&d->loop, url, &d->ctx.cmt, err, errlen) != BASED_E_OK)
        return 1;
    if (abci_server_start(&d->loop, o->abci, ABCI_DEFAULT_MAX_MSG, node_abci_app_handle,
                          d->ctx.abci, &d->abci, err, errlen) != BASED_E_OK)
        return 1;
    node_log(NODE_LOG_INFO, "ABCI++ server on %s; CometBFT's RPC at %s", o->abci, url);
    return 0;
}

static int run(daemon_t *d, opts *o)
{
    char err[512], cookie[NODE_COOKIE_BUFSZ], cookie_path[PATH_CAP + 16];
    const chain_genesis *g = chain_ledger_genesis(d->ctx.ledger);
    d->ctx.mempool = node_mempool_new((size_t)g->params.mempool_max_txs,
                                      (size_t)g->params.mempool_max_per_sender);
    d->cands = calloc((size_t)g->params.max_block_txs, sizeof *d->cands);
    if (!d->ctx.mempool || !d->cands || uv_loop_init(&d->loop) != 0) {
        fprintf(stderr, "basedd: out of memory\n");
        return 1;
    }
    d->ctx.authority = d->key.sk != NULL;
    d->ctx.dev = o->dev;
    d->ctx.started_ms = wall_ms();
    if (node_cookie_write(d->datadir, cookie, sizeof cookie) != BASED_E_OK) {
        fprintf(stderr, "basedd: cannot write %s/.cookie\n", d->datadir);
        return 1;
    }
    node_cookie_path(d->datadir, cookie_path, sizeof cookie_path);
    node_http_config cfg;
    node_http_config_init(&cfg);
    if (o->rpc_bind[0])
        cfg.bind = o->rpc_bind;
    cfg.auth = cookie;
    d->rpc.table = node_methods;
    d->rpc.ctx = &d->ctx;
    if (node_http_start(&d->loop, &cfg, node_http_rpc_handler, &d->rpc, &d->http, err,
                        sizeof err) != BASED_E_OK) {
        fprintf(stderr, "basedd: %s\n", err);
        node_cookie_remove(d->datadir);
        uv_run(&d->loop, UV_RUN_DEFAULT);
        uv_loop_close(&d->loop);
        return 1;
    }
    uv_timer_init(&d->loop, &d->block_timer);
    d->block_timer.data = d;
    uv_signal_init(&d->loop, &d->sigint);
    uv_signal_init(&d->loop, &d->sigterm);
    d->sigint.data = d->sigterm.data = d;
    uv_signal_start(&d->sigint, on_signal, SIGINT);
    uv_signal_start(&d->sigterm, on_signal, SIGTERM);
    if (o->abci[0] && start_network(d, o, err, sizeof err) != 0) {
        fprintf(stderr, "basedd: %s\n", err);
        on_signal(&d->sigint, 0);
        uv_run(&d->loop, UV_RUN_DEFAULT);
        uv_loop_close(&d->loop);
        node_cookie_remove(d->datadir);
        return 1;
    }
    if (d->ctx.authority && !o->abci[0])
        uv_timer_start(&d->block_timer, produce, g->block_time_ms, g->block_time_ms);
    node_log(NODE_LOG_INFO, "started: chain %s, height %" PRIu64 ", RPC port %d", g->chain_id,
             chain_ledger_head(d->ctx.ledger).height, node_http_port(d->http));
    banner(d, cookie_path);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    node_cookie_remove(d->datadir);
    int lc = uv_loop_close(&d->loop);
    node_log(lc == 0 ? NODE_LOG_INFO : NODE_LOG_ERROR, "stopped at height %" PRIu64 "%s",
             chain_ledger_head(d->ctx.ledger).height, lc == 0 ? "" : " (event loop not empty)");
    return lc == 0 ? 0 : 1;
}

static void verify_progress(void *user, uint64_t h, uint64_t top)
{
    (void)user;
    if (h == top || h % 1000 == 0)
        fprintf(stderr, "\rverify: block %" PRIu64 " of %" PRIu64, h, top);
    if (h == top)
        fputc('\n', stderr);
}

static int do_verify(daemon_t *d)
{
    char db[PATH_CAP + 8], tmp[PATH_CAP + 16], err[1024];
    snprintf(db, sizeof db, "%s/db", d->datadir);
    snprintf(tmp, sizeof tmp, "%s/verify.tmp", d->datadir);
    if (!file_exists(db)) {
        fprintf(stderr, "basedd: no chain in %s\n", d->datadir);
        return 1;
    }
    based_err rc = chain_ledger_verify(d->rt, db, tmp, verify_progress, NULL, err, sizeof err);
    if (rc != BASED_E_OK) {
        fprintf(stderr, "basedd: verify FAILED: %s\n", err);
        return 1;
    }
    printf("verify: ok: every block replayed from genesis, every state root and the "
           "total supply match\n");
    return 0;
}

int main(int argc, char **argv)
{
    static daemon_t d;
    opts o;
    memset(&o, 0, sizeof o);
    int rc = parse_args(&o, argc, argv);
    if (rc)
        return rc;
    if (chain_crypto_init() != 0) {
        fprintf(stderr, "basedd: cannot initialise libsodium/libsecp256k1\n");
        return 1;
    }
    if (o.abci[0] && o.dev)
        return die_usage("--abci and --dev exclude each other: a dev chain makes its own blocks");
    if (o.cometbft_rpc[0] && !o.abci[0])
        return die_usage("--cometbft-rpc needs --abci");
    if (o.cmt_genesis[0] || o.cmt_key[0]) {
        char err[1024];
        if (o.cmt_genesis[0] && !o.genesis[0])
            return die_usage("--cometbft-genesis needs --genesis FILE");
        if (o.cmt_key[0] && !o.authority_key[0])
            return die_usage("--cometbft-key needs --authority-key FILE");
        based_err rc2 = o.cmt_genesis[0]
                            ? cmtgen_write_genesis(o.genesis, o.cmt_genesis, err, sizeof err)
                            : BASED_E_OK;
        if (rc2 == BASED_E_OK && o.cmt_key[0])
            rc2 = cmtgen_write_validator_key(o.authority_key, o.cmt_key, err, sizeof err);
        if (rc2 != BASED_E_OK) {
            fprintf(stderr, "basedd: %s\n", err);
            return 1;
        }
        if (o.cmt_genesis[0])
            printf("wrote %s\n", o.cmt_genesis);
        if (o.cmt_key[0])
            printf("wrote %s\n", o.cmt_key);
        return 0;
    }
    if (o.new_key[0]) {
        char err[512], pub[67];
        if (node_authkey_create(o.new_key, &d.key, err, sizeof err) != BASED_E_OK) {
            fprintf(stderr, "basedd: %s\n", err);
            return 1;
        }
        pub[0] = '0';
        pub[1] = 'x';
        chain_hex(d.key.pub.b, 32, pub + 2);
        printf("%s\n", pub);
        node_authkey_free(&d.key);
        return 0;
    }
    if (o.datadir[0]) {
        snprintf(d.datadir, sizeof d.datadir, "%s", o.datadir);
    } else {
        const char *home = getenv("HOME");
        snprintf(d.datadir, sizeof d.datadir, "%s/.based%s", home && *home ? home : ".",
                 o.dev ? "/dev" : "");
    }
    char conf[PATH_CAP + 16];
    snprintf(conf, sizeof conf, "%s", o.conf[0] ? o.conf : "");
    if (!conf[0])
        snprintf(conf, sizeof conf, "%s/basedd.conf", d.datadir);
    if (read_conf(&o, conf, o.conf[0] != '\0'))
        return 1;
    node_log_level lvl = NODE_LOG_INFO;
    if (o.log_level[0] && node_log_parse_level(o.log_level, &lvl) != BASED_E_OK)
        return die_usage("--log-level \"%s\": use error, warn, info or debug", o.log_level);
    node_log_set_level(lvl);
    based_runtime_opts ro = { 1, true, 0 };
    if (o.tft_threads[0]) {
        unsigned long long n;
        if (parse_count(o.tft_threads, 16, &n) != 0 || n < 1)
            return die_usage("--tft-threads \"%s\": use a whole number from 1 to 16", o.tft_threads);
        ro.tft_threads = (size_t)n;
    }
    if (o.tft_cache_mib[0]) {
        unsigned long long n;
        if (parse_count(o.tft_cache_mib, (unsigned long long)1 << 30, &n) != 0)
            return die_usage("--tft-cache-mib \"%s\": use a whole number of MiB (0 for no cache)",
                             o.tft_cache_mib);
        ro.tft_cache = n != 0;
        ro.tft_cache_bytes = (size_t)n << 20;
    }
    if (mkdir_p(d.datadir, 0700) != 0) {
        fprintf(stderr, "basedd: cannot create data directory %s: %s\n", d.datadir, strerror(errno));
        return 1;
    }
    char rerr[256];
    if (based_runtime_new(&ro, &d.rt, rerr, sizeof rerr) != BASED_E_OK) {
        fprintf(stderr, "basedd: %s\n", rerr);
        return 1;
    }
    if (o.verify) {
        rc = do_verify(&d);
        based_runtime_free(d.rt);
        return rc;
    }
    char logpath[PATH_CAP + 16];
    snprintf(logpath, sizeof logpath, "%s/basedd.log", d.datadir);
    node_log_open(logpath);
    signal(SIGPIPE, SIG_IGN);
    if (open_chain(&d, &o) != 0) {
        based_runtime_free(d.rt);
        return 1;
    }
    rc = run(&d, &o);
    node_abci_app_free(d.ctx.abci);
    node_cmtrpc_free(d.ctx.cmt);
    chain_ledger_free(d.ctx.ledger);
    based_runtime_free(d.rt);
    node_mempool_free(d.ctx.mempool);
    free(d.cands);
    node_authkey_free(&d.key);
    node_log_close();
    return rc;
}
