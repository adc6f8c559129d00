/*
 * miner_watch.c: the miner's view of the chain, kept fresh by a thread of
 * its own so that the loop thread never waits on the node.
 *
 * Every poll_ms it reads the head (chain_getHead); the Brain's metagraph
 * (brain_getNeurons) is read again every REFRESH_MS, or sooner (at most
 * every MIN_REFRESH_MS) when the handler met a requester it did not know
 * as a validator, so that a validator that just registered is served within
 * a poll or two. The loop thread reads the head and the validator set
 * under the mutex. Each RPC is bounded by RPC_TIMEOUT_MS, so stopping never
 * waits longer than that on a node that does not answer.
 *
 * When the node stops answering (it went down, or it restarted and wrote a
 * fresh cookie that the old connection does not know), the watcher says so
 * once in the log, keeps the last head and validator set, and connects
 * afresh every RECONNECT_MS (reading the cookie file again) until the node
 * answers; then it says so and carries on. Without that a restart of the
 * node would freeze the miner's head and it would refuse every new
 * challenge as "ahead of the head" while /health said ok.
 */
#include <stdlib.h>
#include <time.h>

#include "node/log.h"
#include "neurons/miner_int.h"

#define REFRESH_MS 10000
#define MIN_REFRESH_MS 1000
#define RPC_TIMEOUT_MS 3000
#define SLICE_MS 50
#define RECONNECT_MS 2000

static int addr_cmp(const void *a, const void *b)
{
    return memcmp(((const neuron_vset_entry *)a)->addr.b, ((const neuron_vset_entry *)b)->addr.b,
                  32);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Replaces the validator set from a metagraph (and notes our own uid). */
static void set_metagraph(neuron_watch *w, const neuron_info *l, size_t n)
{
    neuron_vset_entry *v = calloc(n ? n : 1, sizeof *v);
    size_t k = 0;
    int self = -1;
    if (!v)
        return;                     /* keep the old set */
    for (size_t i = 0; i < n; i++) {
        if (!memcmp(l[i].addr.b, w->self.b, 32))
            self = l[i].uid;
        if (l[i].validator) {
            v[k].addr = l[i].addr;
            v[k++].uid = l[i].uid;
        }
    }
    qsort(v, k, sizeof *v, addr_cmp);
    uv_mutex_lock(&w->mu);
    if (w->self_uid >= 0 && self < 0)
        node_log(NODE_LOG_WARN, "this miner is no longer registered on Brain %u (replaced?)",
                 w->brain);
    free(w->vals);
    w->vals = v;
    w->n_vals = k;
    w->self_uid = self;
    uv_mutex_unlock(&w->mu);
}

/* Notes an RPC failure: logged once per outage; a fresh connection is
 * tried at most every RECONNECT_MS. */
static void rpc_failed(neuron_watch *w, const char *err)
{
    uint64_t t = now_ms();
    if (atomic_exchange(&w->node_ok, false))
        node_log(NODE_LOG_WARN, "node not answering (%s); serving on with head %" PRIu64
                 ", reconnecting every %d s", err, neuron_watch_head(w), RECONNECT_MS / 1000);
    if (t - w->last_connect < RECONNECT_MS)
        return;
    w->last_connect = t;
    neuron_client *c;
    char e[CLI_ERR_LEN];
    if (neuron_client_new(w->url, w->cookie, RPC_TIMEOUT_MS, &c, e) != BASED_E_OK) {
        node_log(NODE_LOG_DEBUG, "reconnect: %s", e);
        return;
    }
    neuron_client_free(w->client);
    w->client = c;
}

static void rpc_ok(neuron_watch *w)
{
    if (!atomic_exchange(&w->node_ok, true))
        node_log(NODE_LOG_INFO, "node answering again");
}

static void refresh(neuron_watch *w)
{
    neuron_info *l;
    size_t n;
    char err[CLI_ERR_LEN];
    if (neuron_metagraph(w->client, w->brain, &l, &n, err) != BASED_E_OK) {
        rpc_failed(w, err);
        return;
    }
    rpc_ok(w);
    set_metagraph(w, l, n);
    free(l);
}

static void poll_head(neuron_watch *w)
{
    uint64_t h;
    chain_hash hash;
    char err[CLI_ERR_LEN];
    if (neuron_head(w->client, &h, &hash, err) != BASED_E_OK) {
        rpc_failed(w, err);
        return;
    }
    rpc_ok(w);
    uv_mutex_lock(&w->mu);
    if (h > w->head)
        w->head = h;
    uv_mutex_unlock(&w->mu);
}

static void watch_run(void *arg)
{
    neuron_watch *w = arg;
    uint64_t last_poll = now_ms(), last_refresh = last_poll;
    while (!atomic_load(&w->stop)) {
        struct timespec ts = { 0, SLICE_MS * 1000000L };
        nanosleep(&ts, NULL);
        uint64_t t = now_ms();
        if (t - last_refresh >= REFRESH_MS ||
            (atomic_load(&w->want_refresh) && t - last_refresh >= MIN_REFRESH_MS)) {
            atomic_store(&w->want_refresh, false);
            refresh(w);
            last_refresh = now_ms();
        }
        if (t - last_poll >= w->poll_ms) {
            poll_head(w);
            last_poll = now_ms();
        }
    }
}

static void free_strings(neuron_watch *w)
{
    free(w->url);
    free(w->cookie);
    w->url = w->cookie = NULL;
}

based_err neuron_watch_start(neuron_watch *w, const char *url, const char *cookie,
                             uint16_t brain, const chain_addr *self, uint64_t head0,
                             const neuron_info *l0, size_t n0, unsigned poll_ms, char *err)
{
    memset(w, 0, sizeof *w);
    w->brain = brain;
    w->self = *self;
    w->head = head0;
    w->self_uid = -1;
    w->poll_ms = poll_ms ? poll_ms : 1000;
    atomic_store(&w->node_ok, true);
    if ((url && !(w->url = strdup(url))) || (cookie && !(w->cookie = strdup(cookie)))) {
        free_strings(w);
        return cli_fail(err, BASED_E_NOMEM, "out of memory");
    }
    based_err rc = neuron_client_new(url, cookie, RPC_TIMEOUT_MS, &w->client, err);
    if (rc != BASED_E_OK) {
        free_strings(w);
        return rc;
    }
    if (uv_mutex_init(&w->mu) != 0) {
        neuron_client_free(w->client);
        free_strings(w);
        return cli_fail(err, BASED_E_INTERNAL, "cannot create a mutex");
    }
    set_metagraph(w, l0, n0);
    if (uv_thread_create(&w->thread, watch_run, w) != 0) {
        neuron_client_free(w->client);
        uv_mutex_destroy(&w->mu);
        free(w->vals);
        free_strings(w);
        return cli_fail(err, BASED_E_INTERNAL, "cannot start the chain watcher thread");
    }
    w->started = true;
    return BASED_E_OK;
}

uint64_t neuron_watch_head(neuron_watch *w)
{
    uv_mutex_lock(&w->mu);
    uint64_t h = w->head;
    uv_mutex_unlock(&w->mu);
    return h;
}

bool neuron_watch_node_ok(neuron_watch *w)
{
    return atomic_load(&w->node_ok);
}

int neuron_watch_validator(neuron_watch *w, const chain_addr *a)
{
    neuron_vset_entry key = { .addr = *a }, *hit;
    uv_mutex_lock(&w->mu);
    hit = w->n_vals ? bsearch(&key, w->vals, w->n_vals, sizeof key, addr_cmp) : NULL;
    int uid = hit ? hit->uid : -1;
    uv_mutex_unlock(&w->mu);
    if (uid < 0)
        atomic_store(&w->want_refresh, true);
    return uid;
}

void neuron_watch_stop(neuron_watch *w)
{
    if (!w->started)
        return;
    atomic_store(&w->stop, true);
    uv_thread_join(&w->thread);
    uv_mutex_destroy(&w->mu);
    neuron_client_free(w->client);
    w->client = NULL;
    free(w->vals);
    w->vals = NULL;
    free_strings(w);
    w->started = false;
}
