/*
 * miner.c: based-miner's start-up, loop and shutdown (see miner.h; the flags
 * are in miner_flags.c).
 *
 * Start-up, each step a one-line error and exit status 1 if it fails:
 * connect to the node (neuron_client), load the key (--key), register as a
 * miner on the Brain if not yet (memorize, --max-fee), load the model and
 * compress it (--compress; f32 serves the file as it is, a file that
 * based-model compress wrote under its method's name), derive the X25519
 * keys from the account key, start the HTTP server (node/http.c, bodies
 * capped at NEURON_REQUEST_BODY_MAX), publish host, port and X25519 key
 * with `serve` unless the chain already shows exactly those, start the
 * chain watcher, print the banner, and run the loop until SIGINT/SIGTERM.
 *
 * Stopping: the server stops (open connections close, a deferred answer
 * still being generated is discarded when it completes), queued challenges
 * are dropped, the loop runs until the running workers finish, then the
 * watcher thread is joined and everything freed; uv_loop_close() is 0.
 */
#include <signal.h>
#include <sodium.h>
#include <time.h>

#include "model/gguf.h"
#include "node/log.h"
#include "neurons/miner_int.h"

#define PROG NEURON_MINER_PROG
#define CALIB_BYTES (64 * 1024)

/* ---- start-up ---------------------------------------------------------- */

static double secs_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Loads the GGUF file into *in; `method` gets the compression the file
 * records (based.compression.method), "f32" when it records none. */
static based_err load_file(const char *path, model_t **in, char *method, size_t cap, char *err,
                           size_t errlen)
{
    struct model_gguf *g;
    char why[200];
    based_err rc = model_gguf_load(path, &g, err, errlen);
    if (rc != BASED_E_OK)
        return rc;
    const char *fm = model_gguf_get_str(g, "based.compression.method");
    snprintf(method, cap, "%s", fm && model_method_known(fm) ? fm : "f32");
    if ((rc = model_from_gguf(g, in, why, sizeof why)) != BASED_E_OK)
        snprintf(err, errlen, "%s: %s", path, why);
    return rc;
}

/* Loads --model and applies --compress into m->model. A file compressed
 * already (by based-model compress) is served as it is with --compress f32,
 * under its own method's name; compressing it again is refused. */
static based_err load_model(neuron_miner *m, neuron_miner_opts *o, char *err, size_t errlen)
{
    struct timespec t0;
    model_t *in;
    char file_method[16];
    clock_gettime(CLOCK_MONOTONIC, &t0);
    based_err rc = load_file(o->model, &in, file_method, sizeof file_method, err, errlen);
    if (rc != BASED_E_OK)
        return rc;
    uint64_t bytes = model_weight_bytes(in);
    node_log(NODE_LOG_INFO, "model %s: %" PRIu64 " weight bytes (%s), loaded in %.2f s", o->model,
             bytes, file_method, secs_since(&t0));
    if (strcmp(file_method, "f32") && strcmp(o->method, "f32")) {
        model_free(in);
        snprintf(err, errlen, "%s is compressed with %s already: serve it as it is with "
                 "--compress f32, or compress the uncompressed model with --compress %s",
                 o->model, file_method, o->method);
        return BASED_E_BAD_PARAM;
    }
    if (!strcmp(o->method, "f32")) {
        snprintf(m->method, sizeof m->method, "%s", file_method);
        m->model = in;
        return BASED_E_OK;
    }
    struct model_corpus corpus = { 0 };
    struct model_gguf *g = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!strcmp(o->method, "heads") || !strcmp(o->method, "consensus")) {
        rc = model_corpus_load(MODEL_FORTUNES_DIR, 0, &corpus, err, errlen);
        o->copts.calib = corpus.train;
        o->copts.n_calib = corpus.n_train < CALIB_BYTES ? corpus.n_train : CALIB_BYTES;
    }
    if (rc == BASED_E_OK && (rc = model_compress(in, &o->copts, &g, err, errlen)) == BASED_E_OK)
        rc = model_from_gguf(g, &m->model, err, errlen);
    model_corpus_free(&corpus);
    model_free(in);
    if (rc == BASED_E_OK)
        node_log(NODE_LOG_INFO, "compressed with %s in %.2f s: %" PRIu64 " weight bytes (%.2fx smaller)",
                 o->method, secs_since(&t0), model_weight_bytes(m->model),
                 (double)bytes / (double)model_weight_bytes(m->model));
    return rc;
}

/* Publishes host:port and the X25519 key unless the chain shows them. */
static based_err publish(neuron_client *c, neuron_miner *m, const char *host, int port,
                         char *err)
{
    neuron_info *l;
    size_t n;
    based_err rc = neuron_metagraph(c, m->brain, &l, &n, err);
    if (rc != BASED_E_OK)
        return rc;
    bool same = false;
    for (size_t i = 0; i < n; i++)
        if (l[i].uid == m->uid && l[i].served && !strcmp(l[i].host, host) && l[i].port == port &&
            !memcmp(l[i].x25519, m->box->pk, 32))
            same = true;
    free(l);
    if (same) {
        node_log(NODE_LOG_INFO, "endpoint %s:%d and key already on chain", host, port);
        return BASED_E_OK;
    }
    char hex[67] = "0x";
    chain_hex(m->box->pk, 32, hex + 2);
    json_t *pj = json_pack("{s:i,s:s,s:i,s:s}", "brain", m->brain, "host", host, "port", port,
                           "x25519", hex);
    chain_hash h;
    if ((rc = neuron_send(c, &m->key, "serve", pj, 0, &h, NULL, err)) != BASED_E_OK)
        return rc;
    unsigned wait = (unsigned)(neuron_client_info(c)->block_time_ms * 30 + 5000);
    if ((rc = neuron_wait_tx(c, &h, wait, NULL, err)) == BASED_E_OK)
        node_log(NODE_LOG_INFO, "serve included: %s:%d", host, port);
    return rc;
}

/* Connects, loads the key, registers; fills m->uid and m->key. */
static based_err join_chain(neuron_miner *m, const neuron_miner_opts *o, neuron_client **c, char *err)
{
    based_err rc = neuron_client_new(o->node, o->cookie, 0, c, err);
    if (rc != BASED_E_OK)
        return rc;
    rc = neuron_key_load(o->key, o->wallet_dir, o->password_file,
                         neuron_client_info(*c)->ss58_prefix, &m->key, err);
    if (rc != BASED_E_OK)
        return rc;
    rc = neuron_ensure_registered(*c, &m->key, m->brain, "miner", o->max_fee, &m->uid, err);
    if (rc == BASED_E_OK)
        node_log(NODE_LOG_INFO, "%s is miner uid %d on Brain %u", m->key.ss58, m->uid, m->brain);
    return rc;
}

static based_err start_server(neuron_miner *m, const neuron_miner_opts *o, char *err, size_t errlen)
{
    node_http_config cfg;
    m->states = calloc((size_t)m->workers, sizeof *m->states);
    m->busy = calloc((size_t)m->workers, sizeof *m->busy);
    if (!m->states || !m->busy || neuron_replay_init(&m->replay) != BASED_E_OK)
        return snprintf(err, errlen, "out of memory"), BASED_E_NOMEM;
    for (int i = 0; i < m->workers; i++)
        if (!(m->states[i] = model_state_new(m->model)))
            return snprintf(err, errlen, "out of memory for %d model states", m->workers),
                   BASED_E_NOMEM;
    node_http_config_init(&cfg);
    cfg.bind = o->listen;
    cfg.max_body = NEURON_REQUEST_BODY_MAX;
    return node_http_start(m->loop, &cfg, neuron_miner_handle, m, &m->srv, err, errlen);
}

/* Head and metagraph now, then the watcher thread. */
static based_err start_watch(neuron_miner *m, const neuron_miner_opts *o, neuron_client *c, char *err)
{
    uint64_t head;
    chain_hash hash;
    neuron_info *l;
    size_t n;
    based_err rc = neuron_head(c, &head, &hash, err);
    if (rc == BASED_E_OK)
        rc = neuron_metagraph(c, m->brain, &l, &n, err);
    if (rc != BASED_E_OK)
        return rc;
    uint64_t bt = neuron_client_info(c)->block_time_ms / 2;
    unsigned poll = (unsigned)(bt < 100 ? 100 : bt > 1000 ? 1000 : bt);
    rc = neuron_watch_start(&m->watch, o->node, o->cookie, m->brain, &m->key.addr, head, l, n,
                            poll, err);
    free(l);
    return rc;
}

/* ---- loop -------------------------------------------------------------- */

static void on_signal(uv_signal_t *s, int signum)
{
    neuron_miner *m = s->data;
    if (m->stopping)
        return;
    node_log(NODE_LOG_INFO, "signal %d: stopping (%d challenges running)", signum, m->running);
    m->stopping = true;
    node_http_stop(m->srv);
    m->srv = NULL;
    neuron_miner_drop_queue(m);
    for (int i = 0; i < 2; i++)
        uv_close((uv_handle_t *)&m->sig[i], NULL);
}

static void start_signals(neuron_miner *m)
{
    static const int sigs[2] = { SIGINT, SIGTERM };
    for (int i = 0; i < 2; i++) {
        uv_signal_init(m->loop, &m->sig[i]);
        m->sig[i].data = m;
        uv_signal_start(&m->sig[i], on_signal, sigs[i]);
    }
}

static void banner(const neuron_miner *m, const neuron_miner_opts *o)
{
    char hex[65];
    chain_hex(m->box->pk, 32, hex);
    bool v6 = strchr(o->host, ':') != NULL;
    printf(PROG ": uid %d on Brain %u serving http://%s%s%s:%d%s (method %s, %" PRIu64
           " model bytes, %d worker%s, x25519 %.16s...)\n", m->uid, m->brain, v6 ? "[" : "",
           o->host, v6 ? "]" : "",
           node_http_port(m->srv), NEURON_CHALLENGE_PATH, m->method, model_weight_bytes(m->model),
           m->workers, m->workers == 1 ? "" : "s", hex);
    fflush(stdout);
    node_log(NODE_LOG_INFO, "serving uid %d on Brain %u at %s:%d", m->uid, m->brain, o->host,
             node_http_port(m->srv));
}

static void release(neuron_miner *m)
{
    neuron_watch_stop(&m->watch);
    for (int i = 0; m->states && i < m->workers; i++)
        model_state_free(m->states[i]);
    free(m->states);
    free(m->busy);
    neuron_replay_free(&m->replay);
    model_free(m->model);
    if (m->box)
        sodium_free(m->box);
    neuron_key_release(&m->key);
}

/* Everything after the flags; returns the exit status. */
static int run(neuron_miner *m, neuron_miner_opts *o)
{
    char err[CLI_ERR_LEN];
    neuron_client *c = NULL;
    uv_loop_t loop;
    based_err rc = BASED_E_OK;
    char ws[16];
    snprintf(ws, sizeof ws, "%d", m->workers < 4 ? 4 : m->workers);
    setenv("UV_THREADPOOL_SIZE", ws, 1);   /* before the pool's first use */
    if (uv_loop_init(&loop) != 0)
        return fprintf(stderr, PROG ": cannot create the event loop\n"), 1;
    m->loop = &loop;
    if ((rc = join_chain(m, o, &c, err)) == BASED_E_OK &&
        (rc = load_model(m, o, err, sizeof err)) == BASED_E_OK &&
        (rc = (m->box = sodium_malloc(sizeof *m->box)) ? BASED_E_OK : BASED_E_NOMEM) == BASED_E_OK) {
        neuron_box_keys_derive(m->key.sk, m->box);
        if ((rc = start_server(m, o, err, sizeof err)) == BASED_E_OK &&
            (rc = publish(c, m, o->host, node_http_port(m->srv), err)) == BASED_E_OK)
            rc = start_watch(m, o, c, err);
    } else if (rc == BASED_E_NOMEM) {
        snprintf(err, sizeof err, "out of memory");
    }
    neuron_client_free(c);
    if (rc == BASED_E_OK) {
        start_signals(m);
        banner(m, o);
    } else {
        fprintf(stderr, PROG ": %s\n", err);
        node_http_stop(m->srv);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    int closed = uv_loop_close(&loop);
    if (rc == BASED_E_OK)
        node_log(NODE_LOG_INFO, "stopped: %" PRIu64 " challenges answered, %" PRIu64 " refused",
                 m->served, m->refused);
    release(m);
    if (closed != 0)
        node_log(NODE_LOG_WARN, "event loop closed with handles open");
    return rc == BASED_E_OK ? 0 : 1;
}

int neuron_miner_main(int argc, char **argv, neuron_miner_answer_fn fn, void *user)
{
    neuron_miner_opts o;
    neuron_miner m;
    int rc = neuron_miner_parse_args(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (sodium_init() < 0)
        return fprintf(stderr, PROG ": cannot initialise libsodium\n"), 1;
    signal(SIGPIPE, SIG_IGN);
    if (o.log_file && node_log_open(o.log_file) != BASED_E_OK)
        return fprintf(stderr, PROG ": cannot open the log file %s\n", o.log_file), 1;
    memset(&m, 0, sizeof m);
    m.brain = (uint16_t)o.brain;
    m.uid = -1;
    m.workers = o.workers;
    m.max_concurrent = o.max_concurrent;
    m.fn = fn ? fn : neuron_miner_answer_honest;
    m.user = user;
    snprintf(m.method, sizeof m.method, "%s", o.method);
    rc = run(&m, &o);
    node_log_close();
    return rc;
}
