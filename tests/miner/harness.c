/* The based-miner test harness (see harness.h). */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/miner/harness.h"
#include "tests/runner.h"
#include "tests/support.h"

static bool exited(pid_t pid, int *status)
{
    return waitpid(pid, status, WNOHANG) == pid;
}

/* ---- the node ---------------------------------------------------------- */

static const char *write_genesis(unsigned block_ms, const char *dev_extra)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/genesis.json", test_tmpdir());
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fprintf(f, "{\"chain_id\": \"based-devnet\", \"genesis_time\": \"2026-01-01T00:00:00Z\",\n"
               " \"block_time_ms\": 10000, \"authorities\": [], \"params\": {\"tft_enabled\": 0},\n"
               " \"dev\": {\"block_time_ms\": %u, \"accounts\": 10, \"balance\": \"1000000\"%s%s}}\n",
            block_ms, dev_extra ? ", " : "", dev_extra ? dev_extra : "");
    fclose(f);
    return path;
}

static int wait_rpc(mt_node *n)
{
    char err[CLI_ERR_LEN];
    for (int i = 0; i < 400; i++) {
        int st;
        if (exited(n->pid, &st)) {
            n->pid = 0;
            return -1;
        }
        if (access(n->cookie, R_OK) == 0 &&
            neuron_client_new(n->url, n->cookie, 0, &n->client, err) == BASED_E_OK)
            return 0;
        tsup_nap_ms(50);
    }
    fprintf(stderr, "basedd did not answer: %s\n", err);
    return -1;
}

/* Sends kind from dev `dev` and waits for it. */
int mt_send_dev(mt_node *n, unsigned dev, const char *kind, json_t *pj)
{
    char err[CLI_ERR_LEN], name[8];
    neuron_key k;
    chain_hash h;
    snprintf(name, sizeof name, "dev%u", dev);
    if (neuron_key_load(name, NULL, NULL, neuron_client_info(n->client)->ss58_prefix, &k, err) ||
        neuron_send(n->client, &k, kind, pj, 0, &h, NULL, err) ||
        neuron_wait_tx(n->client, &h, 20000, NULL, err)) {
        fprintf(stderr, "%s from dev%u: %s\n", kind, dev, err);
        neuron_key_release(&k);
        return -1;
    }
    neuron_key_release(&k);
    return 0;
}

/* brain_buy by dev1; the id is the last Brain dev1 owns. */
static int buy_brain(mt_node *n)
{
    char err[CLI_ERR_LEN];
    json_t *o;
    uint8_t sk[32];
    chain_addr a;
    char ss58[CHAIN_ADDR_STRLEN];
    if (mt_send_dev(n, 1, "brain_buy", json_pack("{s:s}", "method", "burn")))
        return -1;
    chain_key_dev(1, sk);
    chain_key_pub(sk, &a);
    chain_ss58_encode(neuron_client_info(n->client)->ss58_prefix, &a, ss58);
    if (neuron_call(n->client, "account_get", json_pack("[s]", ss58), &o, err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    json_t *ids = json_object_get(o, "brains");
    size_t cnt = json_array_size(ids);
    int id = cnt ? (int)json_integer_value(json_array_get(ids, cnt - 1)) : -1;
    json_decref(o);
    if (id < 0)
        return -1;
    n->brain = (uint16_t)id;
    return 0;
}

/* basedd on n's datadir and port (from n->url), output appended to a file. */
static int node_spawn(mt_node *n)
{
    static int starts;
    char bind[64], out[600], genesis[600];
    snprintf(genesis, sizeof genesis, "%s/genesis.json", test_tmpdir());
    snprintf(bind, sizeof bind, "%s", n->url + strlen("http://"));
    bind[strcspn(bind, "/")] = '\0';
    snprintf(out, sizeof out, "%s/basedd-%d.out", test_tmpdir(), ++starts);
    const char *argv[] = { test_bin("basedd"), "--dev", "--genesis", genesis, "--datadir",
                           n->datadir, "--rpc-bind", bind, NULL };
    n->pid = tsup_spawn(argv, out, NULL, false);
    return n->pid < 0 ? -1 : wait_rpc(n);
}

int mt_node_restart(mt_node *n)
{
    mt_node_stop(n);
    return node_spawn(n);
}

int mt_node_start(mt_node *n, unsigned block_ms)
{
    return mt_node_start_dev(n, block_ms, NULL);
}

int mt_node_start_dev(mt_node *n, unsigned block_ms, const char *dev_extra)
{
    const char *genesis = write_genesis(block_ms, dev_extra);
    int port = tsup_free_port();
    memset(n, 0, sizeof *n);
    if (!genesis || port < 0)
        return -1;
    snprintf(n->datadir, sizeof n->datadir, "%s/node", test_tmpdir());
    snprintf(n->cookie, sizeof n->cookie, "%s/.cookie", n->datadir);
    snprintf(n->url, sizeof n->url, "http://127.0.0.1:%d/", port);
    if (node_spawn(n))
        return -1;
    if (buy_brain(n))
        return -1;
    char err[CLI_ERR_LEN];
    neuron_key v;
    int uid;
    if (neuron_key_load("dev3", NULL, NULL, neuron_client_info(n->client)->ss58_prefix, &v, err) ||
        neuron_ensure_registered(n->client, &v, n->brain, "validator", 0, &uid, err)) {
        fprintf(stderr, "validator dev3: %s\n", err);
        neuron_key_release(&v);
        return -1;
    }
    neuron_key_release(&v);
    return 0;
}

void mt_node_stop(mt_node *n)
{
    int st;
    neuron_client_free(n->client);
    n->client = NULL;
    if (n->pid > 0) {
        kill(n->pid, SIGTERM);
        while (waitpid(n->pid, &st, 0) < 0 && errno == EINTR)
            ;
    }
    n->pid = 0;
}

int mt_wait_height(mt_node *n, uint64_t h, unsigned timeout_ms)
{
    char err[CLI_ERR_LEN];
    double t0 = tsup_now_ms();
    while (tsup_now_ms() - t0 < timeout_ms) {
        uint64_t head;
        chain_hash hash;
        if (neuron_head(n->client, &head, &hash, err) == BASED_E_OK && head >= h)
            return 0;
        tsup_nap_ms(50);
    }
    return -1;
}

/* ---- the miner --------------------------------------------------------- */

/* Reads the banner "based-miner: uid U on Brain B serving http://H:P/..." */
static int read_banner(mt_miner *m)
{
    char buf[8192];
    FILE *f = fopen(m->out, "r");
    if (!f)
        return -1;
    size_t k = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[k] = '\0';
    char *b = strstr(buf, "based-miner: uid ");
    int uid, port;
    if (!b || !strchr(b, '\n') || sscanf(b, "based-miner: uid %d on Brain %*d serving http://127.0.0.1:%d", &uid, &port) != 2)
        return -1;
    m->uid = uid;
    m->port = port;
    snprintf(m->url, sizeof m->url, "http://127.0.0.1:%d%s", port, NEURON_CHALLENGE_PATH);
    return 0;
}

static int read_x25519(mt_miner *m, mt_node *n)
{
    char err[CLI_ERR_LEN];
    neuron_info *l;
    size_t cnt;
    int found = -1;
    if (neuron_metagraph(n->client, n->brain, &l, &cnt, err))
        return -1;
    for (size_t i = 0; i < cnt; i++)
        if (l[i].uid == m->uid && l[i].served && l[i].port == m->port &&
            !memcmp(l[i].addr.b, m->key.addr.b, 32)) {
            memcpy(m->x25519, l[i].x25519, 32);
            found = 0;
        }
    free(l);
    return found;
}

int mt_miner_launch(mt_miner *m, mt_node *n, const char *prog, const char *key,
                    const char *password_file, const char *const *extra)
{
    char brain[16], err[CLI_ERR_LEN], tag[48];
    const char *argv[48];
    int k = 0;
    static int starts;
    memset(m, 0, sizeof *m);
    snprintf(brain, sizeof brain, "%u", n->brain);
    snprintf(tag, sizeof tag, "%.32s", strrchr(key, '/') ? strrchr(key, '/') + 1 : key);
    snprintf(m->out, sizeof m->out, "%s/miner-%s-%d.out", test_tmpdir(), tag, ++starts);
    snprintf(m->log, sizeof m->log, "%s/miner-%s.log", test_tmpdir(), tag);
    if (neuron_key_load(key, NULL, password_file, neuron_client_info(n->client)->ss58_prefix,
                        &m->key, err)) {
        fprintf(stderr, "key %s: %s\n", key, err);
        return -1;
    }
    const char *base[] = { prog, "--node", n->url, "--rpc-cookie", n->cookie,
                           "--brain", brain, "--key", key, "--listen", "127.0.0.1:0",
                           "--log-file", m->log };
    for (size_t i = 0; i < BASED_ARRAY_LEN(base); i++)
        argv[k++] = base[i];
    if (password_file) {
        argv[k++] = "--password-file";
        argv[k++] = password_file;
    }
    for (int i = 0; extra && extra[i] && k < 46; i++)
        argv[k++] = extra[i];
    argv[k] = NULL;
    m->pid = tsup_spawn(argv, m->out, NULL, false);
    return m->pid > 0 ? 0 : -1;
}

int mt_miner_wait(mt_miner *m, mt_node *n, unsigned timeout_ms)
{
    double t0 = tsup_now_ms();
    while (m->pid > 0 && tsup_now_ms() - t0 < timeout_ms) {
        int st;
        if (exited(m->pid, &st)) {
            m->pid = 0;
            m->status = st;
            break;
        }
        if (read_banner(m) == 0)
            return read_x25519(m, n);
        tsup_nap_ms(50);
    }
    fprintf(stderr, "miner %s did not start (see %s)\n", m->key.ss58, m->out);
    return -1;
}

int mt_miner_start(mt_miner *m, mt_node *n, unsigned dev, const char *const *extra)
{
    char key[8];
    snprintf(key, sizeof key, "dev%u", dev);
    if (mt_miner_launch(m, n, test_bin("based-miner"), key, NULL, extra))
        return -1;
    return mt_miner_wait(m, n, 60000);
}

int mt_miner_stop(mt_miner *m, unsigned timeout_ms)
{
    int st = 0;
    double t0 = tsup_now_ms();
    neuron_key_release(&m->key);
    if (m->pid <= 0)
        return -1;
    kill(m->pid, SIGTERM);
    while (!exited(m->pid, &st)) {
        if (tsup_now_ms() - t0 > timeout_ms) {
            kill(m->pid, SIGKILL);
            waitpid(m->pid, &st, 0);
            m->pid = 0;
            return -1;
        }
        tsup_nap_ms(20);
    }
    m->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- HTTP -------------------------------------------------------------- */

typedef struct {
    uint8_t *p;
    size_t n;
} sink;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *user)
{
    sink *s = user;
    size_t k = size * nmemb;
    if (s->n + k > (8u << 20))
        return 0;
    uint8_t *q = realloc(s->p, s->n + k + 1);
    if (!q)
        return 0;
    memcpy(q + s->n, ptr, k);
    s->p = q;
    s->n += k;
    s->p[s->n] = 0;
    return k;
}

static long perform(CURL *c, sink *s)
{
    long status = 0;
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

long mt_post(const char *url, const void *body, size_t len, uint8_t **out, size_t *out_len)
{
    CURL *c = curl_easy_init();
    sink s = { NULL, 0 };
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/octet-stream");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, len ? body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    long st = perform(c, &s);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    *out = s.p;
    *out_len = s.n;
    return st;
}

long mt_get(const char *url, char *out, size_t cap)
{
    CURL *c = curl_easy_init();
    sink s = { NULL, 0 };
    curl_easy_setopt(c, CURLOPT_URL, url);
    long st = perform(c, &s);
    curl_easy_cleanup(c);
    snprintf(out, cap, "%s", s.p ? (char *)s.p : "");
    free(s.p);
    return st;
}
