/*
 * net_test.c: bin/based-net with real processes, and its command line.
 *
 * The CometBFT side for real, without basedd: `--app kvstore` runs
 * CometBFT's built-in kvstore application. 4 authorities and 1 full node
 * on loopback reach height 3 with 4 peers each and the same app hash at
 * the same height (asked of CometBFT's own RPC), and a transaction sent to
 * one node is committed and seen by all; `status --json` is an
 * array of 5 objects with the documented keys; a second start is refused;
 * `stop` ends every process (each PID checked) and removes the PID files;
 * a start on the stopped network continues the same chain.
 *
 * CometBFT is $BASED_COMETBFT, else $BASED_BUILD/go/bin/cometbft (what
 * `make cometbft` builds); without either the process test says so and
 * passes (skipped). Every process the test causes is stopped by PID, also
 * when a check fails.
 */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/rpcclient.h"
#include "tests/runner.h"
#include "tests/support.h"

#define NODES 5
#define OUT_MAX 65536

/* Runs based-net with args (NULL-terminated); its exit status, its
 * stdout+stderr into out. */
static int run_net(char *out, const char *const *args)
{
    const char *argv[24];
    char path[600];
    size_t n = 0;
    argv[n++] = test_bin("based-net");
    for (size_t i = 0; args[i] && n < 23; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    snprintf(path, sizeof path, "%s/net-out.txt", test_tmpdir());
    pid_t pid = tsup_spawn(argv, path, NULL, false);
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    FILE *f = fopen(path, "r");
    size_t k = f ? fread(out, 1, OUT_MAX - 1, f) : 0;
    out[k] = '\0';
    if (f)
        fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(net_usage_errors)
{
    static char out[OUT_MAX];
    const char *none[] = { NULL };
    const char *ver[] = { "--version", NULL };
    const char *nonodes[] = { "start", "--dir", "/tmp/based-net-never", NULL };
    const char *zero[] = { "start", "--nodes", "0", "--dir", "/tmp/x", NULL };
    const char *bad[] = { "launch", "--dir", "/tmp/x", NULL };
    const char *tc[] = { "start", "--nodes", "1", "--dir", "/tmp/x", "--timeout-commit", "1h",
                         NULL };
    const char *nodir[] = { "status", NULL };
    CHECK_EQ_INT(run_net(out, none), 2);
    CHECK_EQ_INT(run_net(out, ver), 0);
    CHECK(strncmp(out, "based-net ", 10) == 0);
    CHECK_EQ_INT(run_net(out, zero), 2);
    CHECK(strstr(out, "--nodes must be an integer from 1 to 16") != NULL);
    CHECK_EQ_INT(run_net(out, bad), 2);
    CHECK(strstr(out, "unknown command \"launch\"") != NULL);
    CHECK_EQ_INT(run_net(out, tc), 2);
    CHECK_EQ_INT(run_net(out, nodir), 2);
    CHECK(strstr(out, "--dir") != NULL);
    /* a new network without --nodes: nothing is created */
    char dir[600], *argv3[4];
    snprintf(dir, sizeof dir, "%s/empty", test_tmpdir());
    memcpy(argv3, nonodes, sizeof argv3);
    argv3[2] = dir;
    CHECK_EQ_INT(run_net(out, (const char *const *)argv3), 2);
    CHECK(strstr(out, "needs --nodes") != NULL);
    /* status of a directory with no network */
    const char *st[] = { "status", "--dir", dir, NULL };
    CHECK_EQ_INT(run_net(out, st), 1);
    CHECK(strstr(out, "no net.json") != NULL);
    /* --node: a node number, for start and stop only */
    const char *nodebad[] = { "stop", "--dir", dir, "--node", "32", NULL };
    const char *nodest[] = { "status", "--dir", dir, "--node", "1", NULL };
    const char *nodecr[] = { "create", "--nodes", "1", "--dir", dir, "--node", "0", NULL };
    const char *crfg[] = { "create", "--nodes", "1", "--dir", dir, "--foreground", NULL };
    const char *nodenew[] = { "start", "--nodes", "1", "--dir", dir, "--node", "0", NULL };
    CHECK_EQ_INT(run_net(out, nodebad), 2);
    CHECK(strstr(out, "--node must be an integer from 0 to 31") != NULL);
    CHECK_EQ_INT(run_net(out, nodest), 2);
    CHECK(strstr(out, "--node is a flag of start and stop") != NULL);
    CHECK_EQ_INT(run_net(out, nodecr), 2);
    CHECK_EQ_INT(run_net(out, crfg), 2);
    CHECK(strstr(out, "--foreground and --wait are flags of start") != NULL);
    CHECK_EQ_INT(run_net(out, nodenew), 2);
    CHECK(strstr(out, "--node K applies to an existing network") != NULL);
}

TEST(net_missing_cometbft_says_what_to_do)
{
    static char out[OUT_MAX];
    char dir[600];
    snprintf(dir, sizeof dir, "%s/n", test_tmpdir());
    const char *args[] = { "start", "--nodes", "1", "--dir", dir, "--app", "kvstore",
                           "--cometbft", "/nonexistent/cometbft", NULL };
    CHECK_EQ_INT(run_net(out, args), 1);
    CHECK(strstr(out, "make cometbft") != NULL);
    CHECK(strstr(out, "Go >= 1.22") != NULL);
}

/* CometBFT's own RPC: one method's result (new reference) or NULL. */
static json_t *cmt_call(const char *url, const char *method)
{
    cli_rpc *c;
    cli_rpc_error e;
    char err[CLI_ERR_LEN];
    json_t *res = NULL;
    if (cli_rpc_new(url, NULL, &c, err) != BASED_E_OK)
        return NULL;
    cli_rpc_set_timeout(c, 3000);
    if (cli_rpc_call(c, method, NULL, &res, &e) != BASED_E_OK)
        res = NULL;
    cli_rpc_free(c);
    return res;
}

static long long str_int(json_t *v)
{
    const char *s = json_string_value(v);
    return s ? strtoll(s, NULL, 10) : -1;
}

typedef struct {
    char dir[600];
    pid_t pids[2 * NODES];
    size_t npids;
} net_run;

/* Records the PIDs of the PID files (for the final check and cleanup). */
static void read_pids(net_run *r)
{
    for (int k = 0; k < NODES; k++) {
        char path[700], buf[32] = "";
        snprintf(path, sizeof path, "%s/node%d/cometbft.pid", r->dir, k);
        FILE *f = fopen(path, "r");
        long v = f && fgets(buf, sizeof buf, f) ? strtol(buf, NULL, 10) : 0;
        if (v > 1 && r->npids < 2 * NODES)
            r->pids[r->npids++] = (pid_t)v;
        if (f)
            fclose(f);
    }
}

/* A PID that is gone or a zombie no longer runs. */
static bool pid_runs(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t k = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[k] = '\0';
    const char *rp = strrchr(buf, ')');
    return k > 0 && !(rp && rp[1] == ' ' && rp[2] == 'Z');
}

/* Does pid's command line name dir (so it is one of ours, not a reuse)? */
static bool pid_in_dir(pid_t pid, const char *dir)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    FILE *f = fopen(path, "r");
    size_t k = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    for (size_t i = 0; i < k; i++)
        if (!buf[i])
            buf[i] = ' ';
    buf[k] = '\0';
    return strstr(buf, dir) != NULL;
}

#define REQ(cond) do { if (!(cond)) { \
    test_fail_(__FILE__, __LINE__, "CHECK(%s) failed", #cond); return false; } } while (0)
#define REQ_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) { test_fail_(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_); \
        return false; } } while (0)

static const char *net_dir(const net_run *r) { return r->dir; }

/* Polls `status --json` until every node is up at height >= min (90 s);
 * *max gets the highest height seen. */
static bool wait_heights(const net_run *r, long long min, long long *max, json_t **doc)
{
    static char out[OUT_MAX];
    const char *args[] = { "status", "--dir", net_dir(r), "--json", NULL };
    double until = tsup_now_ms() + 90000;
    *doc = NULL;
    while (tsup_now_ms() < until) {
        REQ_EQ(run_net(out, args), 0);
        json_t *arr = json_loads(out, 0, NULL);
        bool all = json_is_array(arr) && json_array_size(arr) == NODES;
        *max = 0;
        for (size_t i = 0; all && i < NODES; i++) {
            json_t *h = json_object_get(json_array_get(arr, i), "height");
            all = json_is_integer(h) && json_integer_value(h) >= min;
            if (all && json_integer_value(h) > *max)
                *max = json_integer_value(h);
        }
        if (all) {
            *doc = arr;
            return true;
        }
        json_decref(arr);
        tsup_nap_ms(500);
    }
    test_fail_(__FILE__, __LINE__, "not every node reached height %lld in 90 s:\n%s", min, out);
    return false;
}

/* The status array: 5 objects with the documented keys, 4 authorities
 * and 1 full node, 4 peers each. */
static bool check_status(json_t *arr)
{
    static const char *const keys[] = { "node", "rpc", "cookie", "height", "app_hash", "peers",
                                        "role", "up", "cometbft_rpc" };
    int auth = 0;
    for (size_t i = 0; i < NODES; i++) {
        json_t *o = json_array_get(arr, i);
        char name[16];
        snprintf(name, sizeof name, "node%zu", i);
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            REQ(json_object_get(o, keys[k]) != NULL);
        REQ(strcmp(json_string_value(json_object_get(o, "node")), name) == 0);
        REQ(json_is_true(json_object_get(o, "up")));
        REQ_EQ(json_integer_value(json_object_get(o, "peers")), NODES - 1);
        REQ(json_string_value(json_object_get(o, "app_hash")) != NULL);
        auth += strcmp(json_string_value(json_object_get(o, "role")), "authority") == 0;
    }
    REQ_EQ(auth, 4);
    return true;
}

/* CometBFT itself: block 2 is the same on every node (hash and app hash),
 * and each has 4 peers. */
static bool check_cometbft(json_t *arr)
{
    char first_hash[128] = "", first_app[128] = "";
    for (size_t i = 0; i < NODES; i++) {
        const char *url = json_string_value(json_object_get(json_array_get(arr, i),
                                                            "cometbft_rpc"));
        REQ(url);
        json_t *ni = cmt_call(url, "net_info");
        REQ(ni);
        REQ_EQ(str_int(json_object_get(ni, "n_peers")), NODES - 1);
        json_decref(ni);
        cli_rpc *c;
        cli_rpc_error e;
        char err[CLI_ERR_LEN];
        json_t *params = json_pack("{s:s}", "height", "2"), *res = NULL;
        REQ(cli_rpc_new(url, NULL, &c, err) == BASED_E_OK);
        based_err rc = cli_rpc_call(c, "block", params, &res, &e);
        cli_rpc_free(c);
        json_decref(params);
        REQ(rc == BASED_E_OK && res);
        const char *hash = json_string_value(json_object_get(json_object_get(res, "block_id"),
                                                             "hash"));
        const char *app = json_string_value(json_object_get(
            json_object_get(json_object_get(res, "block"), "header"), "app_hash"));
        REQ(hash && app && strlen(hash) == 64);
        if (i == 0) {
            snprintf(first_hash, sizeof first_hash, "%s", hash);
            snprintf(first_app, sizeof first_app, "%s", app);
        }
        REQ(strcmp(hash, first_hash) == 0);
        REQ(strcmp(app, first_app) == 0);
        json_decref(res);
    }
    return true;
}

/* One call with params (borrowed); the result (new reference) or NULL. */
static json_t *cmt_call_p(const char *url, const char *method, json_t *params)
{
    cli_rpc *c;
    cli_rpc_error e;
    char err[CLI_ERR_LEN];
    json_t *res = NULL;
    if (cli_rpc_new(url, NULL, &c, err) != BASED_E_OK)
        return NULL;
    cli_rpc_set_timeout(c, 15000);
    if (cli_rpc_call(c, method, params, &res, &e) != BASED_E_OK)
        res = NULL;
    cli_rpc_free(c);
    return res;
}

/* A transaction "net=test" sent to node 2 is committed, and every node's
 * kvstore then answers "test" for the key "net" (gossip, one chain). */
static bool check_tx_everywhere(json_t *arr)
{
    const char *url2 = json_string_value(json_object_get(json_array_get(arr, 2),
                                                         "cometbft_rpc"));
    json_t *p = json_pack("{s:s}", "tx", "bmV0PXRlc3Q=");     /* base64("net=test") */
    json_t *res = cmt_call_p(url2, "broadcast_tx_commit", p);
    json_decref(p);
    REQ(res);
    long long h = str_int(json_object_get(res, "height"));
    json_t *code = json_object_get(json_object_get(res, "tx_result"), "code");
    REQ(h >= 1 && json_integer_value(code) == 0);
    json_decref(res);
    for (size_t i = 0; i < NODES; i++) {
        const char *url = json_string_value(json_object_get(json_array_get(arr, i),
                                                            "cometbft_rpc"));
        double until = tsup_now_ms() + 20000;
        const char *v = NULL;
        json_t *r = NULL;
        while (!v && tsup_now_ms() < until) {
            json_decref(r);
            p = json_pack("{s:s}", "data", "6e6574");             /* hex("net") */
            r = cmt_call_p(url, "abci_query", p);
            json_decref(p);
            v = json_string_value(json_object_get(json_object_get(r, "response"), "value"));
            if (!v)
                tsup_nap_ms(200);
        }
        bool same = v && strcmp(v, "dGVzdA==") == 0;          /* base64("test") */
        json_decref(r);
        REQ(same);
    }
    return true;
}

/* stop: exit 0, every recorded PID ends, the PID files are gone. */
static bool stop_and_check(net_run *r)
{
    static char out[OUT_MAX];
    const char *stop[] = { "stop", "--dir", r->dir, NULL };
    REQ_EQ(run_net(out, stop), 0);
    REQ(strstr(out, "stopped 5 processes") != NULL);
    for (size_t i = 0; i < r->npids; i++)
        REQ(!pid_runs(r->pids[i]));
    for (int k = 0; k < NODES; k++) {
        char path[700];
        snprintf(path, sizeof path, "%s/node%d/cometbft.pid", r->dir, k);
        REQ(access(path, F_OK) != 0);
    }
    r->npids = 0;
    return true;
}

static bool scenario(net_run *r, const char *cmt)
{
    static char out[OUT_MAX];
    const char *start[] = { "start", "--nodes", "4", "--full-nodes", "1", "--dir", r->dir,
                            "--app", "kvstore", "--cometbft", cmt, "--timeout-commit", "500ms",
                            NULL };
    const char *again[] = { "start", "--dir", r->dir, "--cometbft", cmt, NULL };
    long long max = 0, max2 = 0;
    json_t *doc;
    int st = run_net(out, start);
    read_pids(r);
    if (st != 0)
        fprintf(stderr, "%s", out);
    REQ_EQ(st, 0);
    REQ_EQ(r->npids, NODES);
    REQ(strstr(out, "node4   full") != NULL);
    REQ(wait_heights(r, 3, &max, &doc));
    bool ok = check_status(doc) && check_cometbft(doc) && check_tx_everywhere(doc);
    json_decref(doc);
    REQ(ok);
    /* running: a second start is refused and changes nothing */
    REQ_EQ(run_net(out, again), 1);
    REQ(strstr(out, "already running") != NULL);
    REQ(stop_and_check(r));
    /* stopped: start continues the same chain */
    st = run_net(out, again);
    read_pids(r);
    REQ_EQ(st, 0);
    REQ(strstr(out, "restarting") != NULL);
    REQ(wait_heights(r, max + 2, &max2, &doc));
    json_decref(doc);
    return stop_and_check(r);
}

TEST(net_kvstore_four_authorities_one_full_node)
{
    const char *cmt = getenv("BASED_COMETBFT"), *build = getenv("BASED_BUILD");
    static char built[600];
    snprintf(built, sizeof built, "%s/go/bin/cometbft", build && *build ? build : "build");
    if ((!cmt || !*cmt) && access(built, X_OK) == 0)
        cmt = built;
    if (!cmt || !*cmt || access(cmt, X_OK) != 0) {
        fprintf(stderr, "    skipped: set BASED_COMETBFT to a CometBFT 0.38 binary "
                "(e.g. build/go/bin/cometbft after `make cometbft`)\n");
        return;
    }
    net_run r;
    memset(&r, 0, sizeof r);
    snprintf(r.dir, sizeof r.dir, "%s/net", test_tmpdir());
    bool ok = scenario(&r, cmt);
    if (!ok) {                      /* whatever still runs: stop it, by PID */
        static char out[OUT_MAX];
        const char *stop[] = { "stop", "--dir", r.dir, NULL };
        run_net(out, stop);
        for (size_t i = 0; i < r.npids; i++)
            if (pid_runs(r.pids[i]) && pid_in_dir(r.pids[i], r.dir))
                kill(r.pids[i], SIGKILL);
    }
    CHECK(ok);
}
