/*
 * netfix.c: the network tests' fixture (see netfix.h): based-net runs,
 * calls to each node's basedd, heights and blocks, PIDs, the guarded
 * scenario and the cleanup that stops every process by PID.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chain/kinds.h"
#include "chain/tx.h"
#include "cli/rpcclient.h"
#include "tests/network/netfix.h"
#include "tests/support.h"

const char *tnet_cometbft(void)
{
    static char built[600];
    const char *cmt = getenv("BASED_COMETBFT"), *build = getenv("BASED_BUILD");
    snprintf(built, sizeof built, "%s/go/bin/cometbft", build && *build ? build : "build");
    if ((!cmt || !*cmt) && access(built, X_OK) == 0)
        cmt = built;
    if (!cmt || !*cmt || access(cmt, X_OK) != 0) {
        fprintf(stderr, "    skipped: set BASED_COMETBFT to a CometBFT 0.38 binary "
                "(e.g. build/go/bin/cometbft after `make cometbft`)\n");
        return NULL;
    }
    return cmt;
}

int tnet_based_net(char *out, const char *const *args)
{
    const char *argv[40];
    char path[700];
    size_t n = 0;
    static int seq;
    argv[n++] = test_bin("based-net");
    for (size_t i = 0; args[i] && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    snprintf(path, sizeof path, "%s/based-net-%d-%d.txt", test_tmpdir(), (int)getpid(), seq++);
    pid_t pid = tsup_spawn(argv, path, NULL, false);
    int st;
    while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    FILE *f = fopen(path, "r");
    size_t k = f && out ? fread(out, 1, TNET_OUT - 1, f) : 0;
    if (out)
        out[k] = '\0';
    if (f)
        fclose(f);
    unlink(path);
    if (pid < 0)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void tnet_init(tnet *t, const char *name, const char *cmt)
{
    memset(t, 0, sizeof *t);
    chain_crypto_init();
    snprintf(t->dir, sizeof t->dir, "%s/%s", test_tmpdir(), name);
    snprintf(t->cmt, sizeof t->cmt, "%s", cmt);
}

void tnet_path(const tnet *t, size_t k, const char *rel, char *out, size_t cap)
{
    snprintf(out, cap, "%s/node%zu/%s", t->dir, k, rel);
}

/* The endpoints of every node, from DIR/net.json. */
static bool load(tnet *t)
{
    char path[700];
    json_error_t je;
    snprintf(path, sizeof path, "%s/net.json", t->dir);
    json_t *doc = json_load_file(path, 0, &je), *nodes = json_object_get(doc, "nodes");
    const char *cid = json_string_value(json_object_get(doc, "chain_id"));
    REQ_MSG(json_is_array(nodes) && cid, "%s: %s", path, doc ? "no nodes/chain_id" : je.text);
    snprintf(t->chain_id, sizeof t->chain_id, "%s", cid);
    t->n = json_array_size(nodes) < TNET_MAX ? json_array_size(nodes) : TNET_MAX;
    t->nauth = 0;
    for (size_t k = 0; k < t->n; k++) {
        json_t *o = json_array_get(nodes, k);
        const char *rpc = json_string_value(json_object_get(o, "rpc"));
        const char *cookie = json_string_value(json_object_get(o, "cookie"));
        const char *role = json_string_value(json_object_get(o, "role"));
        if (!rpc || !cookie || !role) {
            json_decref(doc);
            REQ_MSG(false, "%s: node %zu lacks rpc/cookie/role", path, k);
        }
        snprintf(t->rpc[k], sizeof t->rpc[k], "%s", rpc);
        snprintf(t->cookie[k], sizeof t->cookie[k], "%s", cookie);
        t->nauth += strcmp(role, "authority") == 0;
    }
    json_decref(doc);
    return true;
}

bool tnet_new(tnet *t, int nauth, int nfull, const char *timeout_commit, bool create_only)
{
    static char out[TNET_OUT];
    char na[8], nf[8];
    snprintf(na, sizeof na, "%d", nauth);
    snprintf(nf, sizeof nf, "%d", nfull);
    const char *args[] = { create_only ? "create" : "start", "--nodes", na, "--full-nodes", nf,
                           "--dir", t->dir, "--cometbft", t->cmt, "--timeout-commit",
                           timeout_commit, NULL };
    int st = tnet_based_net(out, args);
    REQ_MSG(st == 0, "based-net %s exited %d:\n%s", args[0], st, out);
    return load(t);
}

/* based-net cmd --dir D --node K... for the nodes of mask. */
static bool net_nodes(tnet *t, const char *cmd, uint64_t mask)
{
    static char out[TNET_OUT];
    const char *args[40] = { cmd, "--dir", t->dir };
    char ks[TNET_MAX][8];
    size_t n = 3;
    for (size_t k = 0; k < TNET_MAX; k++)
        if (mask >> k & 1u) {
            snprintf(ks[k], sizeof ks[k], "%zu", k);
            args[n++] = "--node";
            args[n++] = ks[k];
        }
    args[n] = NULL;
    int st = tnet_based_net(out, args);
    REQ_MSG(st == 0, "based-net %s (nodes mask 0x%llx) exited %d:\n%s", cmd,
            (unsigned long long)mask, st, out);
    return true;
}

bool tnet_start_nodes(tnet *t, uint64_t mask)
{
    return net_nodes(t, "start", mask);
}

bool tnet_stop_nodes(tnet *t, uint64_t mask)
{
    return net_nodes(t, "stop", mask);
}

/* --- calls --- */

json_t *tnet_call(const tnet *t, size_t k, const char *method, json_t *params, char *why,
                  size_t cap)
{
    cli_rpc *c = NULL;
    cli_rpc_error e;
    char err[CLI_ERR_LEN];
    json_t *res = NULL;
    memset(&e, 0, sizeof e);
    if (cli_rpc_new(t->rpc[k], t->cookie[k], &c, err) != BASED_E_OK) {
        if (why)
            snprintf(why, cap, "%s", err);
        json_decref(params);
        return NULL;
    }
    cli_rpc_set_timeout(c, 4000);
    if (cli_rpc_call(c, method, params, &res, &e) != BASED_E_OK) {
        res = NULL;
        if (why)
            snprintf(why, cap, "%s", e.line);
    }
    cli_rpc_free(c);
    json_decref(params);
    return res;
}

int64_t tnet_height(const tnet *t, size_t k)
{
    json_t *r = tnet_call(t, k, "chain_getHead", NULL, NULL, 0);
    json_t *h = json_object_get(r, "height");
    int64_t v = json_is_integer(h) ? (int64_t)json_integer_value(h) : -1;
    json_decref(r);
    return v;
}

int64_t tnet_min_height(const tnet *t, uint64_t mask, int64_t *max)
{
    int64_t lo = INT64_MAX, hi = -1;
    for (size_t k = 0; k < t->n; k++) {
        if (!(mask >> k & 1u))
            continue;
        int64_t h = tnet_height(t, k);
        lo = h < lo ? h : lo;
        hi = h > hi ? h : hi;
    }
    if (max)
        *max = hi;
    return lo == INT64_MAX ? -1 : lo;
}

bool tnet_wait_height(const tnet *t, uint64_t mask, int64_t min, unsigned timeout_ms)
{
    double until = tsup_now_ms() + timeout_ms;
    int64_t lo = -1, hi = -1;
    while (tsup_now_ms() < until) {
        if ((lo = tnet_min_height(t, mask, &hi)) >= min)
            return true;
        tsup_nap_ms(200);
    }
    REQ_MSG(false, "nodes (mask 0x%llx) not all at height %lld after %u ms: lowest %lld, "
            "highest %lld", (unsigned long long)mask, (long long)min, timeout_ms, (long long)lo,
            (long long)hi);
}

bool tnet_block(const tnet *t, size_t k, int64_t h, char *hash, char *root)
{
    json_t *r = tnet_call(t, k, "chain_getBlock", json_pack("[I]", (json_int_t)h), NULL, 0);
    const char *hs = json_string_value(json_object_get(r, "hash"));
    const char *rs = json_string_value(json_object_get(r, "state_root"));
    json_t *hv = json_object_get(r, "height");
    bool ok = hs && rs && strlen(hs) == 66 && strlen(rs) == 66 && json_is_integer(hv) &&
              json_integer_value(hv) == h;
    if (ok) {
        memcpy(hash, hs, 67);
        memcpy(root, rs, 67);
    }
    json_decref(r);
    return ok;
}

bool tnet_same_chain(const tnet *t, uint64_t mask, int64_t from, int64_t to)
{
    for (int64_t h = from; h <= to; h++) {
        char h0[67] = "", r0[67] = "", hk[67], rk[67];
        size_t first = TNET_MAX;
        for (size_t k = 0; k < t->n; k++) {
            if (!(mask >> k & 1u))
                continue;
            REQ_MSG(tnet_block(t, k, h, hk, rk), "node%zu has no block %lld", k, (long long)h);
            if (first == TNET_MAX) {
                first = k;
                memcpy(h0, hk, 67);
                memcpy(r0, rk, 67);
                continue;
            }
            REQ_MSG(!strcmp(hk, h0), "block %lld: node%zu hash %s, node%zu hash %s",
                    (long long)h, first, h0, k, hk);
            REQ_MSG(!strcmp(rk, r0), "block %lld: node%zu state_root %s, node%zu state_root %s",
                    (long long)h, first, r0, k, rk);
        }
    }
    return true;
}

/* --- processes --- */

bool tnet_alive(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = pid > 0 ? fopen(path, "r") : NULL;
    size_t k = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[k] = '\0';
    const char *rp = strrchr(buf, ')');
    return k > 0 && !(rp && rp[1] == ' ' && rp[2] == 'Z');
}

/* Does pid's command line name dir (one of ours, not a reused PID)? */
static bool in_dir(pid_t pid, const char *dir)
{
    char path[64], buf[8192];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    FILE *f = fopen(path, "r");
    size_t k = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    for (size_t i = 0; i < k; i++)
        if (!buf[i])
            buf[i] = ' ';
    buf[k] = '\0';
    return k > 0 && strstr(buf, dir) != NULL;
}

static pid_t read_pidfile(const char *path)
{
    char buf[32] = "";
    FILE *f = fopen(path, "r");
    long v = f && fgets(buf, sizeof buf, f) ? strtol(buf, NULL, 10) : 0;
    if (f)
        fclose(f);
    return v > 1 && v < INT32_MAX ? (pid_t)v : 0;
}

pid_t tnet_pid(const tnet *t, size_t k, const char *prog)
{
    char rel[32], path[700];
    snprintf(rel, sizeof rel, "%s.pid", prog);
    tnet_path(t, k, rel, path, sizeof path);
    pid_t pid = read_pidfile(path);
    return pid && tnet_alive(pid) && in_dir(pid, t->dir) ? pid : 0;
}

bool tnet_wait_gone(pid_t pid, unsigned timeout_ms)
{
    double until = tsup_now_ms() + timeout_ms;
    while (tnet_alive(pid) && tsup_now_ms() < until)
        tsup_nap_ms(20);
    return !tnet_alive(pid);
}

int tnet_signal_node(const tnet *t, size_t k, int sig)
{
    int c = 0;
    const char *progs[] = { "basedd", "cometbft" };
    for (int i = 0; i < 2; i++) {
        pid_t pid = tnet_pid(t, k, progs[i]);
        c += pid && kill(pid, sig) == 0;
    }
    return c;
}

int tnet_file_count(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char line[8192];
    int c = 0;
    size_t nl = strlen(needle);
    while (f && fgets(line, sizeof line, f))
        for (const char *p = line; *p; p++)
            if (strncasecmp(p, needle, nl) == 0) {
                c++;
                p += nl - 1;
            }
    if (f)
        fclose(f);
    return c;
}

void tnet_file_show(const char *path, const char *needle, int after)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int left = 0, shown = 0;
    size_t nl = strlen(needle);
    while (f && fgets(line, sizeof line, f) && shown < 40) {
        bool hit = false;
        for (const char *p = line; *p && !hit; p++)
            hit = strncasecmp(p, needle, nl) == 0;
        if (hit)
            left = after + 1;
        if (left > 0) {
            fprintf(stderr, "    | %.600s%s", line, strchr(line, '\n') ? "" : "\n");
            left--;
            shown++;
        }
    }
    if (f)
        fclose(f);
}

void tnet_file_tail(const char *path, size_t lines)
{
    char buf[4097];
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long end = ftell(f);
    fseek(f, end > 4096 ? end - 4096 : 0, SEEK_SET);
    size_t got = fread(buf, 1, sizeof buf - 1, f), seen = 0, i;
    fclose(f);
    buf[got] = '\0';
    for (i = got; i > 0 && seen <= lines; i--)
        seen += buf[i - 1] == '\n';
    fprintf(stderr, "%s\n", buf + i + (i > 0));
}

/* Every PID of the network: the PID files and net.json's record. */
static size_t all_pids(const tnet *t, pid_t *out, size_t cap)
{
    size_t n = 0;
    char path[700];
    const char *progs[] = { "basedd", "cometbft" };
    for (size_t k = 0; k < TNET_MAX; k++)
        for (int i = 0; i < 2 && n < cap; i++) {
            char rel[32];
            snprintf(rel, sizeof rel, "%s.pid", progs[i]);
            tnet_path(t, k, rel, path, sizeof path);
            pid_t p = read_pidfile(path);
            if (p)
                out[n++] = p;
        }
    snprintf(path, sizeof path, "%s/net.json", t->dir);
    json_t *doc = json_load_file(path, 0, NULL), *nodes = json_object_get(doc, "nodes");
    for (size_t k = 0; k < json_array_size(nodes); k++)
        for (int i = 0; i < 2 && n < cap; i++) {
            json_t *v = json_object_get(json_object_get(json_array_get(nodes, k), "pids"),
                                        progs[i]);
            if (json_is_integer(v) && json_integer_value(v) > 1)
                out[n++] = (pid_t)json_integer_value(v);
        }
    json_decref(doc);
    return n;
}

/* The last lines of every log, for a failed scenario. */
static void show_logs(const tnet *t)
{
    const char *progs[] = { "basedd", "cometbft" };
    for (size_t k = 0; k < t->n; k++)
        for (int i = 0; i < 2; i++) {
            char rel[32], path[700], buf[1601];
            snprintf(rel, sizeof rel, "%s.log", progs[i]);
            tnet_path(t, k, rel, path, sizeof path);
            FILE *f = fopen(path, "r");
            if (!f)
                continue;
            fseek(f, 0, SEEK_END);
            long end = ftell(f);
            fseek(f, end > 1600 ? end - 1600 : 0, SEEK_SET);
            size_t got = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[got] = '\0';
            const char *from = end > 1600 && strchr(buf, '\n') ? strchr(buf, '\n') + 1 : buf;
            fprintf(stderr, "    --- end of %s:\n%s\n", path, from);
        }
}

void tnet_cleanup(tnet *t)
{
    static char out[TNET_OUT];
    pid_t pids[4 * TNET_MAX + 8];
    size_t n = all_pids(t, pids, BASED_ARRAY_LEN(pids));
    for (size_t i = 0; i < n; i++)          /* a paused process cannot stop */
        if (tnet_alive(pids[i]) && in_dir(pids[i], t->dir))
            kill(pids[i], SIGCONT);
    const char *stop[] = { "stop", "--dir", t->dir, NULL };
    if (access(t->dir, F_OK) == 0)
        tnet_based_net(out, stop);
    for (size_t i = 0; i < n; i++)
        if (tnet_alive(pids[i]) && in_dir(pids[i], t->dir)) {
            fprintf(stderr, "    cleanup: PID %d still runs after based-net stop: SIGKILL\n",
                    (int)pids[i]);
            kill(pids[i], SIGKILL);
            tnet_wait_gone(pids[i], 5000);
        }
}

void tnet_guarded(tnet *t, bool (*fn)(tnet *), unsigned limit_s)
{
    test_tmpdir();          /* made before the fork: the child's is the same */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        bool ok = fn(t);
        fflush(NULL);
        _exit(ok ? 0 : 1);
    }
    int st = 0;
    bool done = false, late = false;
    double until = tsup_now_ms() + limit_s * 1000.0;
    while (pid > 0 && !done) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        done = w == pid || (w < 0 && errno != EINTR);
        if (!done && tsup_now_ms() > until) {
            late = true;
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            done = true;
        }
        if (!done)
            tsup_nap_ms(100);
    }
    bool ok = pid > 0 && !late && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (!ok)
        show_logs(t);
    tnet_cleanup(t);
    if (pid < 0)
        test_fail_(__FILE__, __LINE__, "fork: %s", strerror(errno));
    else if (late)
        test_fail_(__FILE__, __LINE__, "the scenario did not finish within %u s", limit_s);
    else if (WIFSIGNALED(st))
        test_fail_(__FILE__, __LINE__, "the scenario died of signal %d", WTERMSIG(st));
    else if (!ok)
        test_fail_(__FILE__, __LINE__, "the scenario failed (see above)");
}

/* --- transactions --- */

void tnet_dev_addr(unsigned i, char *out)
{
    uint8_t *sk = sodium_malloc(32);
    chain_addr a;
    memset(&a, 0, sizeof a);
    if (sk) {
        chain_key_dev(i, sk);
        chain_key_pub(sk, &a);
        sodium_free(sk);
    }
    out[0] = '0';
    out[1] = 'x';
    chain_hex(a.b, 32, out + 2);
}

bool tnet_transfer(const tnet *t, size_t k, unsigned dev, uint64_t nonce, const uint8_t to[32],
                   uint64_t amount, char *hash, char *why, size_t cap)
{
    uint8_t *sk = sodium_malloc(32), p[CHAIN_TRANSFER_LEN];
    chain_transfer tr;
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    memcpy(tr.to.b, to, 32);
    tr.amount = amount;
    chain_transfer_encode(&tr, p);
    if (!sk) {
        snprintf(why, cap, "out of secure memory");
        return false;
    }
    chain_key_dev(dev, sk);
    based_err rc = chain_tx_make(&tx, t->chain_id, nonce, TNET_FEE, CHAIN_KIND_TRANSFER, p,
                                 sizeof p, sk);
    sodium_free(sk);
    if (rc != BASED_E_OK) {
        snprintf(why, cap, "chain_tx_make: %s", based_strerror(rc));
        return false;
    }
    char *hex = malloc(2 * tx.raw_len + 3);
    if (hex) {
        hex[0] = '0';
        hex[1] = 'x';
        chain_hex(tx.raw, tx.raw_len, hex + 2);
    }
    json_t *r = hex ? tnet_call(t, k, "tx_send", json_pack("[s]", hex), why, cap) : NULL;
    free(hex);
    hash[0] = '0';
    hash[1] = 'x';
    chain_hex(tx.hash.b, 32, hash + 2);
    const char *got = json_string_value(json_object_get(r, "hash"));
    bool ok = got && strcmp(got, hash) == 0;
    if (r && !ok)
        snprintf(why, cap, "tx_send answered hash %s, computed %s", got ? got : "(none)", hash);
    json_decref(r);
    chain_tx_release(&tx);
    return ok;
}

bool tnet_account(const tnet *t, size_t k, const char *addr, uint64_t *balance, uint64_t *nonce)
{
    json_t *r = tnet_call(t, k, "account_get", json_pack("[s]", addr), NULL, 0);
    const char *b = json_string_value(json_object_get(r, "balance_base"));
    json_t *nv = json_object_get(r, "nonce");
    bool ok = b && *b && strspn(b, "0123456789") == strlen(b) && json_is_integer(nv);
    if (ok) {
        *balance = strtoull(b, NULL, 10);
        *nonce = (uint64_t)json_integer_value(nv);
    }
    json_decref(r);
    return ok;
}
