/*
 * proc.c: running the real programs from tests (see proc.h).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chain/kinds.h"
#include "tests/integration/proc.h"
#include "tests/runner.h"
#include "tests/support.h"
#include "chain/base.h"

static int read_cookie(test_node *n)
{
    char path[600];
    snprintf(path, sizeof path, "%s/.cookie", n->datadir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t k = fread(n->cookie, 1, sizeof n->cookie - 1, f);
    fclose(f);
    n->cookie[k] = '\0';
    return k > 11 ? 0 : -1;
}

int test_node_start(test_node *n, const char *datadir, const char *const *extra)
{
    const char *argv[32];
    char bind[64], log[600];
    int k = 0;
    n->port = tsup_free_port();
    snprintf(n->datadir, sizeof n->datadir, "%s", datadir);
    snprintf(bind, sizeof bind, "127.0.0.1:%d", n->port);
    snprintf(n->url, sizeof n->url, "http://127.0.0.1:%d/", n->port);
    argv[k++] = test_bin("basedd");
    argv[k++] = "--datadir";
    argv[k++] = datadir;
    argv[k++] = "--rpc-bind";
    argv[k++] = bind;
    for (int i = 0; extra && extra[i] && k < 30; i++)
        argv[k++] = extra[i];
    argv[k] = NULL;
    /* a cookie from an earlier (killed) run must not be taken as ready */
    snprintf(log, sizeof log, "%s/.cookie", datadir);
    unlink(log);
    snprintf(log, sizeof log, "%s/basedd-%d.out", test_tmpdir(), n->port);
    fflush(NULL);
    n->pid = fork();
    if (n->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 400; i++) {
        int st;
        if (waitpid(n->pid, &st, WNOHANG) == n->pid) {
            n->pid = 0;
            return -1;
        }
        if (read_cookie(n) == 0) {
            json_t *r = test_rpc_result(n, "chain_getHead", NULL);
            if (r) {
                json_decref(r);
                return 0;
            }
        }
        tsup_nap_ms(50);
    }
    return -1;
}

int test_node_stop(test_node *n, bool hard)
{
    int st = 0;
    if (n->pid <= 0)
        return -1;
    kill(n->pid, hard ? SIGKILL : SIGTERM);
    while (waitpid(n->pid, &st, 0) < 0 && errno == EINTR)
        ;
    n->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

typedef struct {
    char *p;
    size_t n;
} membuf;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *user)
{
    membuf *b = user;
    size_t k = size * nmemb;
    if (b->n + k > (64u << 20))
        return 0;
    char *np = realloc(b->p, b->n + k + 1);
    if (!np)
        return 0;
    memcpy(np + b->n, ptr, k);
    b->p = np;
    b->n += k;
    b->p[b->n] = '\0';
    return k;
}

long test_http_post(const char *url, const char *auth, const char *body, size_t len, char **out)
{
    CURL *c = curl_easy_init();
    membuf b = { NULL, 0 };
    long status = -1;
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (auth)
        curl_easy_setopt(c, CURLOPT_USERPWD, auth);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (out)
        *out = b.p;
    else
        free(b.p);
    return status;
}

json_t *test_rpc(test_node *n, const char *method, json_t *params)
{
    json_t *req = json_pack("{s:s,s:i,s:s}", "jsonrpc", "2.0", "id", 1, "method", method);
    if (params)
        json_object_set(req, "params", params);
    char *body = json_dumps(req, JSON_COMPACT), *out = NULL;
    json_decref(req);
    long st = test_http_post(n->url, n->cookie, body, strlen(body), &out);
    free(body);
    json_t *resp = (st == 200 && out) ? json_loads(out, 0, NULL) : NULL;
    free(out);
    return resp;
}

json_t *test_rpc_result(test_node *n, const char *method, json_t *params)
{
    json_t *resp = test_rpc(n, method, params);
    json_t *r = resp ? json_object_get(resp, "result") : NULL;
    json_incref(r);
    json_decref(resp);
    return r;
}

int test_run(const char *const *argv, char *out, size_t cap)
{
    int fds[2], st = 0;
    if (pipe(fds) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    size_t k = 0;
    char junk[4096];
    for (;;) {
        ssize_t r = (out && k + 1 < cap) ? read(fds[0], out + k, cap - 1 - k)
                                         : read(fds[0], junk, sizeof junk);
        if (r <= 0)
            break;
        if (out && k + 1 < cap)
            k += (size_t)r;
    }
    if (out && cap)
        out[k] = '\0';
    close(fds[0]);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void test_dev_transfer(chain_tx *tx, const char *chain_id, unsigned from, unsigned to,
                       uint64_t amount, uint64_t nonce, uint64_t fee)
{
    uint8_t sk[32], p[CHAIN_TRANSFER_LEN];
    chain_transfer t;
    chain_key_dev(to, sk);
    chain_key_pub(sk, &t.to);
    t.amount = amount;
    chain_key_dev(from, sk);
    chain_transfer_encode(&t, p);
    chain_tx_make(tx, chain_id, nonce, fee, CHAIN_KIND_TRANSFER, p, sizeof p, sk);
}

char *test_tx_hex(const chain_tx *tx)
{
    char *s = malloc(tx->raw_len * 2 + 3);
    if (!s)
        abort();
    s[0] = '0';
    s[1] = 'x';
    chain_hex(tx->raw, tx->raw_len, s + 2);
    return s;
}
