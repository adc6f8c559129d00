/*
 * bench/rpc_account_get.c: account_get on the real node. Starts
 * `bin/basedd --dev` (BASED_BIN, default bin/) as its own process with a
 * temporary data directory and a free loopback port, waits for its cookie
 * and a first account_get answer (checked: dev1's balance), then runs wrk
 * (-t1 -c32 -d5s, keep-alive) on loopback:
 *   baseline:  GET /health on the same node (HTTP only: no auth, no JSON);
 *   measured:  POST / account_get for dev1's SS58 address, with
 *              `Authorization: Basic base64(cookie)`, body and headers set
 *              by a Lua script written to a temporary file.
 * Prints requests/s, latency and the ratio to the baseline (target:
 * >= 20,000 req/s), then stops the node with SIGTERM and checks it exits 0.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/wrk.h"
#include "tests/support.h"
#include "chain/crypto.h"

#define TARGET_RPS 20000.0
#define WRK_ARGS "-t1 -c32 -d5s"

typedef struct {
    pid_t pid;
    int port;
    char datadir[256];
    char url[64];
    char cookie[256];
} node_proc;

static int read_cookie(node_proc *n)
{
    char path[300];
    snprintf(path, sizeof path, "%s/.cookie", n->datadir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t k = fread(n->cookie, 1, sizeof n->cookie - 1, f);
    fclose(f);
    n->cookie[k] = '\0';
    n->cookie[strcspn(n->cookie, "\r\n")] = '\0';
    return strncmp(n->cookie, "__cookie__:", 11) == 0 && strlen(n->cookie) > 11 ? 0 : -1;
}

typedef struct {
    char buf[4096];
    size_t n;
} body;

static size_t on_body(char *p, size_t size, size_t nmemb, void *user)
{
    body *b = user;
    size_t k = size * nmemb;
    if (b->n + k >= sizeof b->buf)
        return 0;
    memcpy(b->buf + b->n, p, k);
    b->n += k;
    b->buf[b->n] = '\0';
    return k;
}

/* POSTs req to the node with the cookie; returns the HTTP status. */
static long post(const node_proc *n, const char *req, body *out)
{
    CURL *c = curl_easy_init();
    long status = -1;
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    out->n = 0;
    out->buf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, n->url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_USERPWD, n->cookie);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static int node_start(node_proc *n, const char *bindir, const char *req)
{
    char exe[300], bind[64], log[300];
    snprintf(exe, sizeof exe, "%s/basedd", bindir);
    if (access(exe, X_OK) != 0) {
        fprintf(stderr, "rpc_account_get: %s not found (run make first)\n", exe);
        return -1;
    }
    n->port = tsup_free_port();
    snprintf(bind, sizeof bind, "127.0.0.1:%d", n->port);
    snprintf(n->url, sizeof n->url, "http://127.0.0.1:%d/", n->port);
    snprintf(log, sizeof log, "%s/basedd.log", n->datadir);
    fflush(NULL);
    n->pid = fork();
    if (n->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(exe, exe, "--dev", "--datadir", n->datadir, "--rpc-bind", bind,
              "--log-level", "warn", (char *)NULL);
        _exit(127);
    }
    if (n->pid < 0)
        return -1;
    for (int i = 0; i < 400; i++) {
        body b;
        int st;
        if (waitpid(n->pid, &st, WNOHANG) == n->pid) {
            n->pid = 0;
            fprintf(stderr, "rpc_account_get: basedd exited at start (see %s)\n", log);
            return -1;
        }
        if (read_cookie(n) == 0 && post(n, req, &b) == 200) {
            if (!strstr(b.buf, "\"balance\":\"1000000\"")) {
                fprintf(stderr, "rpc_account_get: unexpected answer: %s\n", b.buf);
                return -1;
            }
            return 0;
        }
        tsup_nap_ms(50);
    }
    fprintf(stderr, "rpc_account_get: basedd did not answer in 20 s\n");
    return -1;
}

/* SIGTERM and wait; returns the exit status (-1 if it did not exit). */
static int node_stop(node_proc *n)
{
    int st = 0;
    if (n->pid <= 0)
        return -1;
    kill(n->pid, SIGTERM);
    for (int i = 0; i < 300; i++) {
        pid_t r = waitpid(n->pid, &st, WNOHANG);
        if (r == n->pid) {
            n->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        if (r < 0 && errno != EINTR)
            break;
        tsup_nap_ms(50);
    }
    kill(n->pid, SIGKILL);
    waitpid(n->pid, &st, 0);
    n->pid = 0;
    return -1;
}

int main(void)
{
    node_proc n;
    chain_addr dev1;
    uint8_t sk[32];
    char addr[CHAIN_ADDR_STRLEN], req[256], script[64], args[512];
    wrk_result health, rpc;
    const char *bindir = getenv("BASED_BIN") ? getenv("BASED_BIN") : "bin";
    int status = 0;
    if (access("/usr/bin/wrk", X_OK) != 0) {
        fprintf(stderr, "rpc_account_get: wrk is not installed (apt-get install wrk)\n");
        return 1;
    }
    if (chain_crypto_init() != 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return 1;
    memset(&n, 0, sizeof n);
    snprintf(n.datadir, sizeof n.datadir, "/tmp/based-bench-rpc-XXXXXX");
    if (!mkdtemp(n.datadir))
        return 1;
    chain_key_dev(1, sk);
    chain_key_pub(sk, &dev1);
    sodium_memzero(sk, sizeof sk);
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &dev1, addr);
    snprintf(req, sizeof req,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"account_get\",\"params\":[\"%s\"]}", addr);
    if (node_start(&n, bindir, req) != 0 || wrk_write_script(script, sizeof script, req, n.cookie)) {
        node_stop(&n);
        return 1;
    }
    snprintf(args, sizeof args, WRK_ARGS " http://127.0.0.1:%d/health", n.port);
    if (wrk_run(args, &health) != 0)
        status = 1;
    snprintf(args, sizeof args, WRK_ARGS " -s %s http://127.0.0.1:%d/", script, n.port);
    if (wrk_run(args, &rpc) != 0)
        status = 1;
    unlink(script);
    int code = node_stop(&n);

    printf("basedd --dev, wrk " WRK_ARGS ", account_get of dev1 (%s)\n", addr);
    printf("GET /health (baseline)  %10.0f req/s   %s\n", health.rps, health.latency);
    printf("POST / account_get      %10.0f req/s   %s\n", rpc.rps, rpc.latency);
    printf("ratio account_get/health %.2f; target >= %.0f req/s: %s\n",
           health.rps > 0 ? rpc.rps / health.rps : 0.0, TARGET_RPS,
           rpc.rps >= TARGET_RPS ? "met" : "NOT MET");
    if (health.non2xx || rpc.non2xx || health.socket_errors || rpc.socket_errors) {
        printf("errors: non-2xx %ld/%ld, socket errors %s\n", health.non2xx, rpc.non2xx,
               health.socket_errors || rpc.socket_errors ? "yes" : "no");
        status = 1;
    }
    printf("basedd exit status after SIGTERM: %d%s\n", code, code == 0 ? "" : " (expected 0)");
    if (code != 0) {
        fprintf(stderr, "rpc_account_get: see %s/basedd.log\n", n.datadir);
        status = 1;
    } else {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", n.datadir);
        if (system(cmd) != 0)
            status = 1;
    }
    curl_global_cleanup();
    return status;
}
