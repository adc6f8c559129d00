/*
 * Tests of cli/rpcclient and of bin/based-cli as a real second process,
 * against a fake node: a plain-socket HTTP server forked from the test that
 * checks the cookie and answers canned JSON-RPC responses (the real node is
 * tested in tests/node). tx_send in the fake node decodes and checks the
 * transaction and saves its hex to TMPDIR/sent.hex.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/runner.h"
#include "chain/tx.h"
#include "cli/keystore.h"
#include "cli/rpcclient.h"
#include "node/runtime.h"
#include "chain/base.h"

#define COOKIE "__cookie__:0123456789abcdef"
#define CHAIN_ID "based-test"
#define NEXT_NONCE 4

/* ---------------- the fake node ---------------- */

typedef struct {
    pid_t pid;
    int port;
    char url[64];
    char cookie_file[600];
} fake_node;

static json_t *ok_result(json_t *id, json_t *result)
{
    return json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id, "result", result);
}

static json_t *err_result(json_t *id, int code, const char *msg, const char *name,
                          const char *field)
{
    json_t *e = json_pack("{s:i,s:s}", "code", code, "message", msg);
    if (name)
        json_object_set_new(e, "data", json_pack("{s:s,s:s}", "error", name, "field", field));
    return json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id, "error", e);
}

static json_t *fake_tx_send(json_t *id, json_t *params)
{
    const char *hex = json_string_value(json_array_get(params, 0));
    if (!hex || strncmp(hex, "0x", 2) != 0 || strlen(hex) % 2 || strlen(hex) > 2 * CHAIN_TX_MAX)
        return err_result(id, -32006, "malformed hex string", "BAD_HEX", "tx");
    size_t n = (strlen(hex) - 2) / 2;
    uint8_t *raw = malloc(n + 1);
    chain_tx tx;
    const char *why = "tx";
    json_t *out;
    memset(&tx, 0, sizeof tx);
    if (chain_unhex(hex, raw, n) != BASED_E_OK || chain_tx_decode(raw, n, &tx, &why) != BASED_E_OK)
        out = err_result(id, -32004, "malformed encoding", "DECODE", why);
    else if (chain_tx_check(based_runtime(), &tx, CHAIN_ID, &why) != BASED_E_OK)
        out = err_result(id, -32010, "bad signature", "BAD_SIGNATURE", why);
    else if (tx.nonce != NEXT_NONCE)
        out = err_result(id, -32012, "nonce is ahead of the account's next nonce", "NONCE_GAP",
                         "nonce");
    else {
        char h[67], path[600];
        chain_hash_hex(&tx.hash, h);
        snprintf(path, sizeof path, "%s/sent.hex", test_tmpdir());
        FILE *f = fopen(path, "w");
        if (f) {
            fputs(hex, f);
            fclose(f);
        }
        out = ok_result(id, json_pack("{s:s}", "hash", h));
    }
    chain_tx_release(&tx);
    free(raw);
    return out;
}

/* The canned answer to one request object. */
static json_t *fake_answer(json_t *req)
{
    json_t *id = json_object_get(req, "id"), *params = json_object_get(req, "params");
    const char *m = json_string_value(json_object_get(req, "method"));
    if (!m)
        return err_result(id, -32600, "invalid request", NULL, NULL);
    if (!strcmp(m, "node_getInfo"))
        return ok_result(id, json_pack("{s:s,s:s,s:i,s:i,s:s,s:i,s:b,s:b}", "version", "0.1.0",
                                       "chain_id", CHAIN_ID, "ss58_prefix", 32323, "height", 7,
                                       "head", "0x77", "peers", 0, "syncing", 0, "authority", 1));
    if (!strcmp(m, "chain_getHead"))
        return ok_result(id, json_pack("{s:i,s:s,s:I,s:s}", "height", 7, "hash", "0xabcdef",
                                       "time_ms", (json_int_t)1700000000000, "time",
                                       "2023-11-14T22:13:20Z"));
    if (!strcmp(m, "chain_getBlock"))
        return ok_result(id, json_pack("{s:O}", "echo", params ? params : json_null()));
    if (!strcmp(m, "account_get"))
        return ok_result(id, json_pack("{s:O,s:s,s:s,s:i,s:i}", "address",
                                       json_array_get(params, 0), "balance", "12.5",
                                       "balance_base", "12500000000", "nonce", 3, "next_nonce",
                                       NEXT_NONCE));
    if (!strcmp(m, "tx_send"))
        return fake_tx_send(id, params);
    if (!strcmp(m, "tx_get"))
        return ok_result(id, json_pack("{s:O,s:s,s:i,s:i,s:{s:s,s:s},s:{s:s,s:s,s:[]}}", "hash",
                                       json_array_get(params, 0), "status", "committed",
                                       "block_height", 9, "index", 0, "tx", "kind", "transfer",
                                       "fee", "0.0001", "receipt", "status", "ok", "fee",
                                       "0.0001", "events"));
    if (!strcmp(m, "test_error"))
        return err_result(id, -32012, "nonce is ahead of the account's next nonce", "NONCE_GAP",
                          "nonce");
    return err_result(id, -32601, "method not found", NULL, NULL);
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Case-insensitive strstr (strcasestr is a GNU extension). */
static char *ci_find(char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

static void fake_serve_one(int fd, const char *want_auth)
{
    static char buf[1 << 20];
    size_t len = 0;
    char *hdr_end = NULL;
    buf[0] = '\0';
    while (len < sizeof buf - 1 && !(hdr_end = strstr(buf, "\r\n\r\n"))) {
        ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);
        if (r <= 0)
            return;
        len += (size_t)r;
        buf[len] = '\0';
    }
    if (!hdr_end)
        return;
    char *cl = ci_find(buf, "\r\ncontent-length:");
    size_t body_len = cl ? strtoul(cl + 17, NULL, 10) : 0;
    size_t body_off = (size_t)(hdr_end + 4 - buf);
    while (len < body_off + body_len && len < sizeof buf - 1) {
        ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);
        if (r <= 0)
            return;
        len += (size_t)r;
    }
    buf[len] = '\0';
    char *auth = ci_find(buf, "\r\nauthorization: basic ");
    bool ok = auth && strncmp(auth + 23, want_auth, strlen(want_auth)) == 0 &&
              auth[23 + strlen(want_auth)] == '\r';
    if (!ok) {
        static const char r401[] = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n"
                                   "Connection: close\r\n\r\n";
        send_all(fd, r401, sizeof r401 - 1);
        return;
    }
    json_t *req = json_loadb(buf + body_off, body_len, 0, NULL);
    const char *m = json_string_value(json_object_get(req, "method"));
    char head[256];
    if (m && !strcmp(m, "test_big")) {   /* a body over the client's 16 MiB cap */
        size_t big = CLI_RPC_RESPONSE_MAX + 4096;
        int hl = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\nConnection: close\r\n\r\n", big);
        send_all(fd, head, (size_t)hl);
        static char spaces[65536];
        memset(spaces, ' ', sizeof spaces);
        for (size_t sent = 0; sent < big; sent += sizeof spaces)
            send_all(fd, spaces, big - sent < sizeof spaces ? big - sent : sizeof spaces);
        json_decref(req);
        return;
    }
    json_t *resp = req ? fake_answer(req) : err_result(json_null(), -32700, "parse error", NULL, NULL);
    char *body = json_dumps(resp, JSON_COMPACT);
    int hl = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n", strlen(body));
    send_all(fd, head, (size_t)hl);
    send_all(fd, body, strlen(body));
    free(body);
    json_decref(resp);
    json_decref(req);
}

/* Starts the fake node; it accepts `cookie` and writes COOKIE to the cookie file. */
static int fake_start(fake_node *f, const char *cookie)
{
    memset(f, 0, sizeof *f);
    snprintf(f->cookie_file, sizeof f->cookie_file, "%s/.cookie", test_tmpdir());
    FILE *cf = fopen(f->cookie_file, "w");
    if (!cf)
        return -1;
    fprintf(cf, "%s\n", COOKIE);
    fclose(cf);
    char want[256];
    sodium_bin2base64(want, sizeof want, (const unsigned char *)cookie, strlen(cookie),
                      sodium_base64_VARIANT_ORIGINAL);
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t al = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 16) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &al) != 0)
        return -1;
    f->port = ntohs(a.sin_port);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/", f->port);
    fflush(NULL);
    f->pid = fork();
    if (f->pid == 0) {
        signal(SIGPIPE, SIG_IGN);
        for (;;) {
            int c = accept(s, NULL, NULL);
            if (c < 0)
                continue;
            fake_serve_one(c, want);
            close(c);
        }
    }
    close(s);
    return f->pid > 0 ? 0 : -1;
}

static void fake_stop(fake_node *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGKILL);
        waitpid(f->pid, NULL, 0);
        f->pid = 0;
    }
}

/* A port nothing listens on. */
static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &al) != 0)
        return -1;
    close(s);
    return ntohs(a.sin_port);
}

/* ---------------- running bin/based-cli ---------------- */

typedef struct {
    int status;          /* exit status, or -1 */
    char out[65536];
    char err[8192];
} cli_run;

static void read_into(const char *path, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    fclose(f);
}

/* Runs based-cli with args (NULL-terminated) and env "K=V" strings (NULL-
 * terminated, may be NULL) in a new session (no controlling terminal), with
 * HOME set to the test directory and the BASED_* variables cleared. */
static void run_cli(cli_run *r, const char *const *env, const char *const *args)
{
    char outp[600], errp[600];
    snprintf(outp, sizeof outp, "%s/cli.out", test_tmpdir());
    snprintf(errp, sizeof errp, "%s/cli.err", test_tmpdir());
    const char *argv[64];
    int n = 0;
    argv[n++] = "based-cli";
    for (int i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(o, 1);
        dup2(e, 2);
        setenv("HOME", test_tmpdir(), 1);
        unsetenv("BASED_PASSWORD");
        unsetenv("BASED_DATADIR");
        unsetenv("BASED_WALLET_DIR");
        for (int i = 0; env && env[i]; i++)
            putenv((char *)env[i]);
        execv(test_bin("based-cli"), (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    read_into(outp, r->out, sizeof r->out);
    read_into(errp, r->err, sizeof r->err);
}

/* Checks a run's exit status, showing its stderr when it differs. */
#define CHECK_STATUS(r, want) do { if ((r).status != (want)) { \
    test_fail_(__FILE__, __LINE__, "exit status %d != %d; stderr: %s", (r).status, (want), \
               (r).err); return; } } while (0)

/* ---------------- client library tests ---------------- */

TEST(rpc_client_success)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    fake_node f;
    CHECK_EQ_INT(fake_start(&f, COOKIE), 0);
    char err[CLI_ERR_LEN];
    cli_rpc *c;
    CHECK_EQ_INT(cli_rpc_new(f.url, f.cookie_file, &c, err), BASED_E_OK);
    json_t *res;
    cli_rpc_error e;
    CHECK_EQ_INT(cli_rpc_call(c, "chain_getHead", json_array(), &res, &e), BASED_E_OK);
    CHECK_EQ_INT(json_integer_value(json_object_get(res, "height")), 7);
    CHECK_EQ_STR(json_string_value(json_object_get(res, "hash")), "0xabcdef");
    json_decref(res);
    /* A second call on the same client. */
    json_t *p = json_pack("[i,s]", 3, "x");
    CHECK_EQ_INT(cli_rpc_call(c, "chain_getBlock", p, &res, &e), BASED_E_OK);
    CHECK(json_equal(json_object_get(res, "echo"), p));
    json_decref(p);
    json_decref(res);
    cli_rpc_free(c);
    fake_stop(&f);
}

TEST(rpc_client_error_format)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    char line[CLI_ERR_LEN];
    cli_rpc_format_error("insufficient balance", -32014, "INSUFFICIENT", "amount", line, sizeof line);
    CHECK_EQ_STR(line, "insufficient balance (INSUFFICIENT, field amount)");
    cli_rpc_format_error("method not found", -32601, "", "", line, sizeof line);
    CHECK_EQ_STR(line, "method not found (JSON-RPC error -32601)");
    cli_rpc_format_error("not found", -32019, "NOT_FOUND", "", line, sizeof line);
    CHECK_EQ_STR(line, "not found (NOT_FOUND)");

    fake_node f;
    CHECK_EQ_INT(fake_start(&f, COOKIE), 0);
    char err[CLI_ERR_LEN];
    cli_rpc *c;
    CHECK_EQ_INT(cli_rpc_new(f.url, f.cookie_file, &c, err), BASED_E_OK);
    json_t *res;
    cli_rpc_error e;
    CHECK_EQ_INT(cli_rpc_call(c, "test_error", NULL, &res, &e), BASED_E_NONCE_GAP);
    CHECK(res == NULL);
    CHECK_EQ_INT(e.code, -32012);
    CHECK_EQ_STR(e.name, "NONCE_GAP");
    CHECK_EQ_STR(e.field, "nonce");
    CHECK_EQ_STR(e.line, "nonce is ahead of the account's next nonce (NONCE_GAP, field nonce)");
    CHECK_EQ_INT(cli_rpc_call(c, "no_such", NULL, &res, &e), BASED_E_INTERNAL);
    CHECK_EQ_INT(e.code, -32601);
    cli_rpc_free(c);
    fake_stop(&f);
}

TEST(rpc_client_401)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    fake_node f;
    CHECK_EQ_INT(fake_start(&f, "__cookie__:somethingelse"), 0);
    char err[CLI_ERR_LEN];
    cli_rpc *c;
    CHECK_EQ_INT(cli_rpc_new(f.url, f.cookie_file, &c, err), BASED_E_OK);
    json_t *res;
    cli_rpc_error e;
    CHECK_EQ_INT(cli_rpc_call(c, "chain_getHead", NULL, &res, &e), BASED_E_UNAUTHORIZED);
    CHECK(strstr(e.line, "rejected the cookie from") != NULL);
    CHECK(strstr(e.line, f.cookie_file) != NULL);
    cli_rpc_free(c);
    /* An unreadable --rpc-cookie is an error at once. */
    char missing[700];
    snprintf(missing, sizeof missing, "%s/nope", test_tmpdir());
    CHECK_EQ_INT(cli_rpc_new(f.url, missing, &c, err), BASED_E_IO);
    CHECK(strstr(err, missing) != NULL);
    fake_stop(&f);
}

TEST(rpc_client_response_cap)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    fake_node f;
    CHECK_EQ_INT(fake_start(&f, COOKIE), 0);
    char err[CLI_ERR_LEN];
    cli_rpc *c;
    CHECK_EQ_INT(cli_rpc_new(f.url, f.cookie_file, &c, err), BASED_E_OK);
    json_t *res;
    cli_rpc_error e;
    CHECK_EQ_INT(cli_rpc_call(c, "test_big", NULL, &res, &e), BASED_E_TOO_LARGE);
    CHECK(strstr(e.line, "over 16 MiB") != NULL);
    cli_rpc_free(c);
    fake_stop(&f);
}

/* ---------------- bin/based-cli as a process ---------------- */

TEST(cli_no_node)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    int port = free_port();
    CHECK(port > 0);
    char url[64], want[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    static cli_run r;
    run_cli(&r, NULL, (const char *[]){ "--rpc", url, "head", NULL });
    CHECK_STATUS(r, 1);
    snprintf(want, sizeof want, "based-cli: no node answering at %s (start one with \"make devnet\" "
             "or \"bin/basedd --dev\")\n", url);
    CHECK_EQ_STR(r.err, want);
    CHECK_EQ_STR(r.out, "");
    /* Same for a method by name and for transfer. */
    run_cli(&r, NULL, (const char *[]){ "--rpc", url, "chain_getBlock", "3", NULL });
    CHECK_STATUS(r, 1);
    CHECK_EQ_STR(r.err, want);
    run_cli(&r, NULL, (const char *[]){ "--rpc", url, "transfer", "--from", "dev0", "--to", "dev1",
                                         "--amount", "1", NULL });
    CHECK_STATUS(r, 1);
    CHECK_EQ_STR(r.err, want);
}

TEST(cli_401_names_cookie)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    fake_node f;
    CHECK_EQ_INT(fake_start(&f, "__cookie__:other"), 0);
    static cli_run r;
    run_cli(&r, NULL, (const char *[]){ "--rpc", f.url, "--rpc-cookie", f.cookie_file, "head", NULL });
    CHECK_STATUS(r, 1);
    CHECK(strncmp(r.err, "based-cli: the node at ", 23) == 0);
    CHECK(strstr(r.err, f.cookie_file) != NULL);
    CHECK(strstr(r.err, "wrong or stale") != NULL);
    /* No cookie anywhere: says where it looked. */
    char dd[700], env[800];
    snprintf(dd, sizeof dd, "%s/emptydatadir", test_tmpdir());
    snprintf(env, sizeof env, "BASED_DATADIR=%s", dd);
    run_cli(&r, (const char *[]){ env, NULL }, (const char *[]){ "--rpc", f.url, "head", NULL });
    CHECK_STATUS(r, 1);
    CHECK(strstr(r.err, "none was found") != NULL);
    CHECK(strstr(r.err, dd) != NULL);
    fake_stop(&f);
}

TEST(cli_rpc_error)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    fake_node f;
    CHECK_EQ_INT(fake_start(&f, COOKIE), 0);
    static cli_run r;
    run_cli(&r, NULL, (const char *[]){ "--rpc", f.url, "--rpc-cookie", f.cookie_file, "test_error", NULL });
    CHECK_STATUS(r, 1);
    CHECK_EQ_STR(r.err, "based-cli: nonce is ahead of the account's next nonce (NONCE_GAP, field nonce)\n");
    run_cli(&r, NULL, (const char *[]){ "--rpc", f.url, "--rpc-cookie", f.cookie_file, "balanse", "x", NULL });
    CHECK_STATUS(r, 1);
    CHECK(strstr(r.err, "\"balanse\" is not a based-cli verb either") != NULL);
    fake_stop(&f);
}

TEST(cli_method_passthrough)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    fake_node f;
    CHECK_EQ_INT(fake_start(&f, COOKIE), 0);
    char env[700];
    snprintf(env, sizeof env, "BASED_DATADIR=%s", test_tmpdir());   /* finds .cookie itself */
    static cli_run r;
    run_cli(&r, (const char *[]){ env, NULL },
            (const char *[]){ "--rpc", f.url, "chain_getBlock", "3", "abc", "{\"a\":[1,true]}", "\"7\"", NULL });
    CHECK_STATUS(r, 0);
    json_t *got = json_loads(r.out, 0, NULL);
    json_t *want = json_pack("{s:[i,s,{s:[i,b]},s]}", "echo", 3, "abc", "a", 1, 1, "7");
    CHECK(got != NULL);
    CHECK(json_equal(got, want));
    CHECK(strstr(r.out, "\n  \"echo\"") != NULL);   /* pretty-printed */
    json_decref(got);
    json_decref(want);
    fake_stop(&f);
}

TEST(cli_head_and_balance)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    fake_node f;
    CHECK_EQ_INT(fake_start(&f, COOKIE), 0);
    static cli_run r;
    run_cli(&r, NULL, (const char *[]){ "--rpc", f.url, "--rpc-cookie", f.cookie_file, "head", NULL });
    CHECK_STATUS(r, 0);
    CHECK_EQ_STR(r.out, "height  7\nhash    0xabcdef\ntime    2023-11-14T22:13:20Z\n");
    run_cli(&r, NULL, (const char *[]){ "--rpc", f.url, "--rpc-cookie", f.cookie_file, "--json", "head", NULL });
    CHECK_STATUS(r, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "time_ms")), 1700000000000);
    json_decref(j);
    /* balance dev1: the name is sent as the 0x account id, and labelled a dev key. */
    uint8_t sk[32];
    chain_addr pub;
    char hex[67] = "0x";
    chain_key_dev(1, sk);
    CHECK_EQ_INT(chain_key_pub(sk, &pub), BASED_E_OK);
    chain_hex(&pub, 32, hex + 2);
    run_cli(&r, NULL, (const char *[]){ "--rpc", f.url, "--rpc-cookie", f.cookie_file, "balance", "dev1", NULL });
    CHECK_STATUS(r, 0);
    char want[512];
    snprintf(want, sizeof want, "address  %s\nbalance  12.5 BASED\nnonce    3\n"
             "note     dev1 is a public dev key, for dev networks only\n", hex);
    CHECK_EQ_STR(r.out, want);
    run_cli(&r, NULL, (const char *[]){ "--rpc", f.url, "--rpc-cookie", f.cookie_file, "block", "3", NULL });
    CHECK_STATUS(r, 0);
    fake_stop(&f);
}

/* Decodes TMPDIR/sent.hex and checks it is a transfer from `from` to `to`. */
static void check_sent(const chain_addr *from, const chain_addr *to, uint64_t amount,
                       uint64_t fee, const char *printed_hash)
{
    char path[600], hex[2 * CHAIN_TX_MAX + 8], h[67];
    snprintf(path, sizeof path, "%s/sent.hex", test_tmpdir());
    read_into(path, hex, sizeof hex);
    size_t n = (strlen(hex) - 2) / 2;
    static uint8_t raw[CHAIN_TX_MAX];
    CHECK(n > 0 && n <= sizeof raw);
    CHECK_EQ_INT(chain_unhex(hex, raw, n), BASED_E_OK);
    chain_tx tx;
    CHECK_EQ_INT(chain_tx_decode(raw, n, &tx, NULL), BASED_E_OK);
    CHECK_EQ_INT(chain_tx_check(based_runtime(), &tx, CHAIN_ID, NULL), BASED_E_OK);
    CHECK_EQ_STR(tx.chain_id, CHAIN_ID);
    CHECK_EQ_MEM(&tx.sender, from, 32);
    CHECK_EQ_U64(tx.nonce, NEXT_NONCE);
    CHECK_EQ_U64(tx.fee, fee);
    CHECK_EQ_INT(tx.kind, 1);
    chain_transfer t;
    CHECK_EQ_INT(chain_transfer_decode(tx.payload, tx.payload_len, &t, NULL), BASED_E_OK);
    CHECK_EQ_MEM(&t.to, to, 32);
    CHECK_EQ_U64(t.amount, amount);
    chain_hash_hex(&tx.hash, h);
    CHECK_EQ_STR(printed_hash, h);
    chain_tx_release(&tx);
}

static void dev_pub(unsigned i, chain_addr *pub)
{
    uint8_t sk[32];
    chain_key_dev(i, sk);
    chain_key_pub(sk, pub);
}

TEST(cli_transfer_dev)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    fake_node f;
    CHECK_EQ_INT(fake_start(&f, COOKIE), 0);
    chain_addr d0, d1;
    dev_pub(0, &d0);
    dev_pub(1, &d1);
    char to[CHAIN_ADDR_STRLEN], line[80];
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &d1, to);
    static cli_run r;
    run_cli(&r, NULL, (const char *[]){ "--rpc", f.url, "--rpc-cookie", f.cookie_file, "transfer",
                                         "--from", "dev0", "--to", to, "--amount", "12.5", NULL });
    CHECK_STATUS(r, 0);
    CHECK_EQ_INT(strlen(r.out), 67);   /* "0x" + 64 hex + "\n" */
    snprintf(line, sizeof line, "%.66s", r.out);
    check_sent(&d0, &d1, 12500000000ull, 100000, line);
    /* --to by dev name, --fee, --wait. */
    run_cli(&r, NULL, (const char *[]){ "--rpc", f.url, "--rpc-cookie", f.cookie_file, "transfer",
                                         "--from", "dev0", "--to", "dev1", "--amount", "0.000000001",
                                         "--fee=0.5", "--wait", NULL });
    CHECK_STATUS(r, 0);
    snprintf(line, sizeof line, "%.66s", r.out);
    check_sent(&d0, &d1, 1, 500000000, line);
    CHECK(strstr(r.out, "\ncommitted in block 9 (receipt ok)\n") != NULL);
    fake_stop(&f);
}

TEST(cli_transfer_wallet)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    fake_node f;
    CHECK_EQ_INT(fake_start(&f, COOKIE), 0);
    char dir[600], pwf[600], bad[600], err[CLI_ERR_LEN], line[80];
    snprintf(dir, sizeof dir, "%s/keys", test_tmpdir());
    snprintf(pwf, sizeof pwf, "%s/pw", test_tmpdir());
    snprintf(bad, sizeof bad, "%s/badpw", test_tmpdir());
    FILE *p = fopen(pwf, "w");
    CHECK(p);
    fputs("hunter2\n", p);
    fclose(p);
    p = fopen(bad, "w");
    CHECK(p);
    fputs("hunter3\n", p);
    fclose(p);
    chain_addr alice, d2;
    CHECK_EQ_INT(cli_keystore_create(dir, "alice", "hunter2", NULL, crypto_pwhash_OPSLIMIT_MIN,
                                     crypto_pwhash_MEMLIMIT_MIN, &alice, NULL, err), BASED_E_OK);
    dev_pub(2, &d2);
    static cli_run r;
    run_cli(&r, NULL, (const char *[]){ "--rpc", f.url, "--rpc-cookie", f.cookie_file, "--wallet-dir", dir,
                                         "--password-file", pwf, "transfer", "--from", "alice",
                                         "--to", "dev2", "--amount", "3", NULL });
    CHECK_STATUS(r, 0);
    snprintf(line, sizeof line, "%.66s", r.out);
    check_sent(&alice, &d2, 3 * CHAIN_COIN, 100000, line);
    run_cli(&r, NULL, (const char *[]){ "--rpc", f.url, "--rpc-cookie", f.cookie_file, "--wallet-dir", dir,
                                         "--password-file", bad, "transfer", "--from", "alice",
                                         "--to", "dev2", "--amount", "3", NULL });
    CHECK_STATUS(r, 1);
    CHECK(strstr(r.err, "based-cli: wrong password for wallet \"alice\"") != NULL);
    /* An unknown recipient name. */
    run_cli(&r, NULL, (const char *[]){ "--rpc", f.url, "--rpc-cookie", f.cookie_file, "--wallet-dir", dir,
                                         "transfer", "--from", "dev0", "--to", "carol", "--amount", "3", NULL });
    CHECK_STATUS(r, 1);
    CHECK(strstr(r.err, "no wallet named \"carol\"") != NULL);
    fake_stop(&f);
}

TEST(cli_usage_errors)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    static cli_run r;
    run_cli(&r, NULL, (const char *[]){ "transfer", "--from", "dev0", "--to", "dev1", NULL });
    CHECK_STATUS(r, 2);
    CHECK(strstr(r.err, "based-cli: transfer needs --from, --to and --amount\n") != NULL);
    CHECK(strstr(r.err, "usage: based-cli transfer --from NAME") != NULL);
    run_cli(&r, NULL, (const char *[]){ "transfer", "--from", "dev0", "--to", "dev1", "--amount",
                                         "1.0000000001", NULL });
    CHECK_STATUS(r, 2);
    CHECK(strstr(r.err, "more than 9 decimals") != NULL);
    run_cli(&r, NULL, (const char *[]){ "transfer", "--from", "dev0", "--to", "dev1", "--amount", "-1", NULL });
    CHECK_STATUS(r, 2);
    run_cli(&r, NULL, (const char *[]){ "--bogus", "head", NULL });
    CHECK_STATUS(r, 2);
    CHECK(strstr(r.err, "unknown flag --bogus") != NULL);
    run_cli(&r, NULL, (const char *[]){ "head", "extra", NULL });
    CHECK_STATUS(r, 2);
    CHECK(strstr(r.err, "usage: based-cli head") != NULL);
    run_cli(&r, NULL, (const char *[]){ "balance", NULL });
    CHECK_STATUS(r, 2);
    CHECK(strstr(r.err, "usage: based-cli balance ADDR|NAME") != NULL);
    run_cli(&r, NULL, (const char *[]){ "head", "--amount", "3", NULL });
    CHECK_STATUS(r, 2);
    run_cli(&r, NULL, (const char *[]){ "wallet", NULL });
    CHECK_STATUS(r, 2);
    CHECK(strstr(r.err, "usage: based-cli wallet new NAME") != NULL);
    run_cli(&r, NULL, (const char *[]){ "wallet", "new", "dev4", NULL });
    CHECK_STATUS(r, 2);
    CHECK(strstr(r.err, "reserved") != NULL);
    run_cli(&r, NULL, (const char *[]){ "--rpc", NULL });
    CHECK_STATUS(r, 2);
    run_cli(&r, NULL, (const char *[]){ NULL });
    CHECK_STATUS(r, 2);
    run_cli(&r, NULL, (const char *[]){ "--help", NULL });
    CHECK_STATUS(r, 0);
    static const char *const verbs[] = { "wallet new NAME", "wallet list", "wallet show NAME",
                                         "balance ADDR|NAME", "transfer --from", "tx HASH",
                                         "head", "block HEIGHT|HASH", "METHOD [PARAMS...]" };
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        CHECK(strstr(r.out, verbs[i]) != NULL);
    run_cli(&r, NULL, (const char *[]){ "--version", NULL });
    CHECK_STATUS(r, 0);
    CHECK_EQ_STR(r.out, "based-cli " BASED_VERSION "\n");
}

TEST(cli_wallet_verbs)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    char dir[600], env_dir[700];
    snprintf(dir, sizeof dir, "%s/wallets", test_tmpdir());
    snprintf(env_dir, sizeof env_dir, "BASED_WALLET_DIR=%s", dir);
    const char *env[] = { env_dir, "BASED_PASSWORD=pw-from-env", NULL };
    static cli_run r;
    run_cli(&r, env, (const char *[]){ "wallet", "new", "bob", NULL });
    CHECK_STATUS(r, 0);
    CHECK(strncmp(r.out, "created wallet bob\naddress  ", 28) == 0);
    char addr[CHAIN_ADDR_STRLEN], path[700], err[CLI_ERR_LEN];
    snprintf(addr, sizeof addr, "%.49s", r.out + 28);
    chain_addr pub;
    CHECK_EQ_INT(cli_keystore_address(dir, "bob", &pub, err), BASED_E_OK);
    char want[CHAIN_ADDR_STRLEN];
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &pub, want);
    CHECK(strncmp(r.out + 28, want, strlen(want)) == 0);
    snprintf(path, sizeof path, "%s/bob.json", dir);
    CHECK(access(path, R_OK) == 0);
    run_cli(&r, env, (const char *[]){ "wallet", "new", "bob", NULL });
    CHECK_STATUS(r, 1);
    CHECK(strstr(r.err, "already exists") != NULL);
    run_cli(&r, env, (const char *[]){ "wallet", "list", NULL });
    CHECK_STATUS(r, 0);
    CHECK(strstr(r.out, "bob") != NULL && strstr(r.out, want) != NULL);
    run_cli(&r, env, (const char *[]){ "wallet", "show", "bob", NULL });
    CHECK_STATUS(r, 0);
    CHECK(strstr(r.out, want) != NULL);
    CHECK(strstr(r.out, "secret") == NULL);
    run_cli(&r, env, (const char *[]){ "--json", "wallet", "show", "bob", "--show-secret", NULL });
    CHECK_STATUS(r, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    const char *skhex = json_string_value(json_object_get(j, "secret_key"));
    CHECK(skhex && strlen(skhex) == 64);
    uint8_t sk[32];
    chain_addr back;
    CHECK_EQ_INT(chain_unhex(skhex, sk, 32), BASED_E_OK);
    CHECK_EQ_INT(chain_key_pub(sk, &back), BASED_E_OK);
    CHECK_EQ_MEM(&back, &pub, 32);
    json_decref(j);
    const char *env_bad[] = { env_dir, "BASED_PASSWORD=wrong", NULL };
    run_cli(&r, env_bad, (const char *[]){ "wallet", "show", "bob", "--show-secret", NULL });
    CHECK_STATUS(r, 1);
    CHECK(strstr(r.err, "wrong password") != NULL);
    run_cli(&r, env, (const char *[]){ "wallet", "show", "dev0", NULL });
    CHECK_STATUS(r, 0);
    CHECK(strstr(r.out, "public dev key, for dev networks only") != NULL);
}

TEST(cli_no_password_source)
{
    CHECK_EQ_INT(chain_crypto_init(), 0);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/wallets", test_tmpdir());
    static cli_run r;
    /* run_cli starts a new session: there is no /dev/tty to prompt on. */
    run_cli(&r, NULL, (const char *[]){ "--wallet-dir", dir, "wallet", "new", "carol", NULL });
    CHECK_STATUS(r, 1);
    CHECK_EQ_STR(r.err, "based-cli: a password is needed for new wallet carol and there is no "
                        "terminal to ask: use --password-file FILE or set BASED_PASSWORD\n");
}
