/*
 * bench/rpc_http.c: JSON-RPC over HTTP throughput. Starts the node's HTTP
 * server in-process (its libuv loop in a thread, cookie auth on) with an
 * account_get-like method that validates an address param and returns a
 * small object, then runs wrk (-t1 -c32 -d5s, keep-alive) on loopback:
 * first against GET /health (the baseline: HTTP only, no JSON), then
 * against POST / account_get, with the body and Authorization header set
 * by a Lua script written to a temporary file. Prints requests/s, latency
 * and the ratio to the baseline; the target is >= 20,000 req/s.
 */
#include <sodium.h>
#include <unistd.h>
#include <uv.h>

#include "bench/wrk.h"
#include "node/http.h"
#include "node/log.h"
#include "node/rpc.h"
#include "chain/base.h"

#define TARGET_RPS 20000.0
#define ADDRESS "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"

static const char cookie[] = "__cookie__:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static bool address_ok(const char *s)
{
    static const char b58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    size_t n = strlen(s);
    if (n == 66 && s[0] == '0' && s[1] == 'x')
        return strspn(s + 2, "0123456789abcdef") == 64;
    return n >= 46 && n <= 48 && strspn(s, b58) == n;
}

static json_t *m_account_get(void *ctx, json_t *const *args, node_rpc_error *err)
{
    (void)ctx;
    const char *addr = json_string_value(args[0]);
    if (!address_ok(addr))
        return node_rpc_fail(err, BASED_E_BAD_ADDRESS, "address", "malformed address");
    return json_pack("{s:s, s:s, s:i, s:[], s:s}", "address", addr, "balance", "1000000000000",
                     "nonce", 0, "stakes", "locked", "0");
}

static const node_rpc_method table[] = {
    { "account_get", "Balance, nonce, stakes and locked amounts of an account", m_account_get,
      { { "address", NODE_RPC_STRING, true, "SS58 or 0x hex address" } },
      "{address, balance, nonce, stakes, locked}", "BAD_ADDRESS" },
    { NULL, NULL, NULL, { { NULL, 0, false, NULL } }, NULL, NULL },
};

typedef struct {
    uv_loop_t loop;
    uv_async_t stop;
    uv_thread_t thread;
    node_http_server *srv;
    node_http_rpc rpc;
    int close_rc;
} bench_server;

static void on_stop(uv_async_t *a)
{
    bench_server *b = a->data;
    node_http_stop(b->srv);
    uv_close((uv_handle_t *)a, NULL);
}

static void run_loop(void *arg)
{
    bench_server *b = arg;
    uv_run(&b->loop, UV_RUN_DEFAULT);
    b->close_rc = uv_loop_close(&b->loop);
}

static int server_start(bench_server *b)
{
    node_http_config cfg;
    char err[256];
    node_http_config_init(&cfg);
    cfg.bind = "127.0.0.1:0";
    cfg.auth = cookie;
    b->rpc.table = table;
    b->rpc.ctx = NULL;
    if (uv_loop_init(&b->loop) != 0 ||
        node_http_start(&b->loop, &cfg, node_http_rpc_handler, &b->rpc, &b->srv, err, sizeof err)) {
        fprintf(stderr, "rpc_http: %s\n", err);
        return -1;
    }
    b->stop.data = b;
    uv_async_init(&b->loop, &b->stop, on_stop);
    return uv_thread_create(&b->thread, run_loop, b);
}

int main(void)
{
    bench_server b;
    wrk_result health, rpc;
    char script[64], args[512], body[256];
    int status = 0;
    if (access("/usr/bin/wrk", X_OK) != 0) {
        fprintf(stderr, "rpc_http: wrk is not installed (apt-get install wrk)\n");
        return 1;
    }
    node_log_set_level(NODE_LOG_WARN);
    snprintf(body, sizeof body,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"account_get\",\"params\":[\"%s\"]}",
             ADDRESS);
    if (sodium_init() < 0 || server_start(&b) != 0 ||
        wrk_write_script(script, sizeof script, body, cookie) != 0)
        return 1;
    int port = node_http_port(b.srv);
    snprintf(args, sizeof args, "-t1 -c32 -d5s http://127.0.0.1:%d/health", port);
    if (wrk_run(args, &health) != 0)
        status = 1;
    snprintf(args, sizeof args, "-t1 -c32 -d5s -s %s http://127.0.0.1:%d/", script, port);
    if (wrk_run(args, &rpc) != 0)
        status = 1;
    unlink(script);
    uv_async_send(&b.stop);
    uv_thread_join(&b.thread);
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
    if (b.close_rc != 0) {
        printf("uv_loop_close returned %d\n", b.close_rc);
        status = 1;
    }
    return status;
}
