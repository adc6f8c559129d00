/*
 * miner_int.h: what the files of based-miner share (not for other modules).
 *
 *   miner.c        start-up, the main loop, shutdown
 *   miner_flags.c  the command line
 *   miner_serve.c  the HTTP handler: checks, the worker queue, answers
 *   miner_watch.c  the chain watcher thread: head and validator set
 *
 * Threads: the libuv loop thread runs the handler and owns everything in
 * neuron_miner except the watcher's state (behind its mutex) and the worker
 * jobs while they run on the thread pool.
 */
#ifndef BASED_NEURONS_MINER_INT_H
#define BASED_NEURONS_MINER_INT_H

#include <stdatomic.h>
#include <uv.h>

#include "neurons/miner.h"
#include "node/http.h"

#define NEURON_MINER_PROG "based-miner"

/* ---- the command line (miner_flags.c) ---- */

typedef struct {
    const char *node, *cookie, *key, *wallet_dir, *password_file, *model, *compress;
    const char *listen, *public_host, *log_file;
    long brain;
    uint64_t max_fee;
    int workers, max_concurrent;
    char host[256];                 /* the host to publish */
    struct model_compress_opts copts;
    char method[16];
} neuron_miner_opts;

/* Parses and checks the flags; 0, 2 (usage error, printed) or -1 (--help or
 * --version printed: exit 0). */
int neuron_miner_parse_args(int argc, char **argv, neuron_miner_opts *o);

/* ---- the chain watcher (miner_watch.c) ---- */

typedef struct {
    chain_addr addr;
    int uid;
} neuron_vset_entry;

typedef struct {
    uv_thread_t thread;
    uv_mutex_t mu;
    atomic_bool stop, want_refresh;
    atomic_bool node_ok;            /* the last RPC to the node succeeded */
    neuron_client *client;          /* the watcher thread's own */
    char *url, *cookie;             /* to reconnect (NULL: the defaults) */
    uint64_t last_connect;          /* ms, the last reconnection attempt */
    uint16_t brain;
    chain_addr self;
    unsigned poll_ms;
    /* behind mu */
    uint64_t head;
    neuron_vset_entry *vals;        /* sorted by addr */
    size_t n_vals;
    int self_uid;                   /* -1 once we are no longer registered */
    bool started;
} neuron_watch;

/* Starts the thread with its own client (url, cookie as the miner's); head0
 * and the metagraph l0/n0 are the first state. */
based_err neuron_watch_start(neuron_watch *w, const char *url, const char *cookie,
                             uint16_t brain, const chain_addr *self, uint64_t head0,
                             const neuron_info *l0, size_t n0, unsigned poll_ms, char *err);
uint64_t neuron_watch_head(neuron_watch *w);
/* Did the watcher's last RPC to the node succeed? */
bool neuron_watch_node_ok(neuron_watch *w);
/* The uid of validator a, or -1 (then a refresh is asked for). */
int neuron_watch_validator(neuron_watch *w, const chain_addr *a);
void neuron_watch_stop(neuron_watch *w);

/* ---- the replay cache (miner_serve.c) ---- */

typedef struct {
    chain_hash *slots[2];           /* two generations, open addressing */
    uint8_t *used[2];
    size_t count[2];
    int cur;
} neuron_replay;

/* ---- the miner ---- */

typedef struct neuron_job neuron_job;

typedef struct {
    /* configuration, from flags and start-up */
    uint16_t brain;
    int uid;
    neuron_key key;
    neuron_box_keys *box;           /* sodium_malloc'd */
    model_t *model;
    char method[16];
    int workers, max_concurrent;
    neuron_miner_answer_fn fn;
    void *user;
    /* loop thread */
    uv_loop_t *loop;
    node_http_server *srv;
    uv_signal_t sig[2];
    bool stopping;
    model_state **states;
    bool *busy;
    neuron_job *qhead, *qtail;
    int queued, running;
    uint64_t served, refused;
    neuron_replay replay;
    neuron_watch watch;
} neuron_miner;

based_err neuron_replay_init(neuron_replay *r);
void neuron_replay_free(neuron_replay *r);
/* True if id was seen; otherwise records it. */
bool neuron_replay_check_add(neuron_replay *r, const chain_hash *id);

/* The node_http_handler of the miner (user: the neuron_miner). */
void neuron_miner_handle(void *user, const node_http_request *req, node_http_response *res);
/* Drops the queued jobs (their answers are discarded) at shutdown. */
void neuron_miner_drop_queue(neuron_miner *m);

#endif
