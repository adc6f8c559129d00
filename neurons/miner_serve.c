/*
 * miner_serve.c: what based-miner does with each HTTP request (see miner.h
 * for the routes and statuses).
 *
 * A challenge is checked on the loop thread in the order of cost: it must
 * open with our box keys, decode, carry a valid validator signature, name
 * our Brain and uid, be recent with respect to the head the watcher tracks,
 * come from a validator of the Brain, fit the model (vocabulary, context),
 * find room in the queue (max_concurrent), and not be a replay. Only a
 * challenge that passed everything is recorded in the replay cache, so a
 * forged copy with a bad signature cannot burn a real challenge's id.
 *
 * Accepted challenges wait in a FIFO; whenever a worker's model_state is
 * free the next one goes to the thread pool (uv_queue_work) and its HTTP
 * response is deferred (node_http_defer). The worker runs the answer
 * function, signs, encodes and seals; the after-work callback on the loop
 * thread completes the response, logs one line and starts the next job.
 * A job whose validator has gone before its turn is dropped unrun.
 *
 * The replay cache is two generations of NEURON_MINER_REPLAY_IDS ids in
 * open-addressing tables (load at most 1/2); when the current one is full
 * the older is emptied and becomes current, so the last
 * NEURON_MINER_REPLAY_IDS ids are always remembered. A replay older than
 * that is refused anyway as stale unless more than that many challenges
 * arrived within NEURON_MINER_STALE_BLOCKS blocks.
 */
#include <jansson.h>
#include <sodium.h>

#include "node/log.h"
#include "neurons/answer.h"
#include "neurons/miner_int.h"

#define REPLAY_SLOTS (2u * NEURON_MINER_REPLAY_IDS)

struct neuron_job {
    uv_work_t work;
    neuron_miner *m;
    node_http_pending *p;
    neuron_challenge ch;
    neuron_answer ans;
    chain_hash id;
    int vuid, slot;
    based_err rc;
    uint8_t *box;
    size_t box_len;
    uint64_t t0;                    /* uv_hrtime at acceptance */
    neuron_job *next;
};

/* ---- replay cache ------------------------------------------------------ */

based_err neuron_replay_init(neuron_replay *r)
{
    memset(r, 0, sizeof *r);
    for (int g = 0; g < 2; g++) {
        r->slots[g] = malloc(REPLAY_SLOTS * sizeof(chain_hash));
        r->used[g] = calloc(REPLAY_SLOTS, 1);
        if (!r->slots[g] || !r->used[g]) {
            neuron_replay_free(r);
            return BASED_E_NOMEM;
        }
    }
    return BASED_E_OK;
}

void neuron_replay_free(neuron_replay *r)
{
    for (int g = 0; g < 2; g++) {
        free(r->slots[g]);
        free(r->used[g]);
    }
    memset(r, 0, sizeof *r);
}

static size_t replay_home(const chain_hash *id)
{
    uint64_t v;
    memcpy(&v, id->b, sizeof v);
    return (size_t)(v & (REPLAY_SLOTS - 1));
}

static bool replay_has(const neuron_replay *r, int g, const chain_hash *id)
{
    for (size_t i = replay_home(id); r->used[g][i]; i = (i + 1) & (REPLAY_SLOTS - 1))
        if (!memcmp(r->slots[g][i].b, id->b, 32))
            return true;
    return false;
}

bool neuron_replay_check_add(neuron_replay *r, const chain_hash *id)
{
    if (replay_has(r, 0, id) || replay_has(r, 1, id))
        return true;
    if (r->count[r->cur] >= NEURON_MINER_REPLAY_IDS) {
        r->cur ^= 1;
        memset(r->used[r->cur], 0, REPLAY_SLOTS);
        r->count[r->cur] = 0;
    }
    size_t i = replay_home(id);
    while (r->used[r->cur][i])
        i = (i + 1) & (REPLAY_SLOTS - 1);
    r->slots[r->cur][i] = *id;
    r->used[r->cur][i] = 1;
    r->count[r->cur]++;
    return false;
}

/* ---- responses --------------------------------------------------------- */

static void set_json(node_http_response *res, int status, json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    res->status = text ? status : 500;
    res->content_type = "application/json";
    res->body = text;
    res->body_len = text ? strlen(text) : 0;
}

static void set_error(node_http_response *res, int status, const char *msg)
{
    set_json(res, status, json_pack("{s:s}", "error", msg));
}

static void refuse(neuron_miner *m, node_http_response *res, int status, const char *msg)
{
    m->refused++;
    node_log(NODE_LOG_INFO, "challenge refused (%d): %s", status, msg);
    set_error(res, status, msg);
}

static void health(neuron_miner *m, node_http_response *res)
{
    set_json(res, 200, json_pack("{s:s,s:i,s:i,s:s,s:I,s:I,s:i,s:i,s:i,s:I,s:b}", "status", "ok",
                                 "uid", m->uid, "brain", m->brain, "method", m->method,
                                 "served", (json_int_t)m->served, "refused",
                                 (json_int_t)m->refused, "queued", m->queued, "running",
                                 m->running, "workers", m->workers, "head",
                                 (json_int_t)neuron_watch_head(&m->watch), "node",
                                 neuron_watch_node_ok(&m->watch)));
}

/* ---- checks ------------------------------------------------------------ */

/* Opens, decodes and verifies the body into j->ch; 0 or an HTTP status
 * with msg filled. */
static int check_envelope(neuron_miner *m, const node_http_request *req, neuron_job *j,
                          char *msg, size_t n)
{
    uint8_t plain[NEURON_CHALLENGE_MAX];
    size_t len = 0;
    char why[160];
    if (req->body_len > NEURON_REQUEST_BODY_MAX)
        return snprintf(msg, n, "challenge too large: %zu bytes, at most %d", req->body_len,
                        NEURON_REQUEST_BODY_MAX), 413;
    if (neuron_open((const uint8_t *)req->body, req->body_len, m->box, plain, &len) != BASED_E_OK)
        return snprintf(msg, n, "not sealed to this miner"), 400;
    based_err rc = neuron_challenge_decode(plain, len, &j->ch, why, sizeof why);
    sodium_memzero(plain, sizeof plain);
    if (rc != BASED_E_OK)
        return snprintf(msg, n, "malformed challenge: %s", why), 400;
    if (!neuron_challenge_verify(&j->ch))
        return snprintf(msg, n, "bad signature: not signed by the validator it names"), 400;
    return 0;
}

/* Brain, uid, height, requester, model limits; 0 or an HTTP status. */
static int check_content(neuron_miner *m, neuron_job *j, char *msg, size_t n)
{
    const neuron_challenge *c = &j->ch;
    const struct model_config *mc = model_config(m->model);
    uint64_t head = neuron_watch_head(&m->watch);
    if (c->brain != m->brain)
        return snprintf(msg, n, "challenge for Brain %u, this miner serves Brain %u", c->brain,
                        m->brain), 400;
    if (c->uid != m->uid)
        return snprintf(msg, n, "challenge for uid %u, this miner is uid %d", c->uid, m->uid), 409;
    if (c->height + NEURON_MINER_STALE_BLOCKS < head)
        return snprintf(msg, n, "stale: block %" PRIu64 " is more than %d blocks behind the head %" PRIu64,
                        c->height, NEURON_MINER_STALE_BLOCKS, head), 410;
    if (c->height > head + NEURON_MINER_AHEAD_BLOCKS)
        return snprintf(msg, n, "stale: block %" PRIu64 " is ahead of the head %" PRIu64, c->height,
                        head), 410;
    if ((j->vuid = neuron_watch_validator(&m->watch, &c->validator)) < 0) {
        char hex[65];
        chain_hex(c->validator.b, 32, hex);
        return snprintf(msg, n, "0x%s is not a validator of Brain %u", hex, m->brain), 403;
    }
    if (c->topk < 1 || c->topk > mc->vocab)
        return snprintf(msg, n, "topk: %u, must be 1..%d", c->topk,
                        mc->vocab < NEURON_MAX_TOPK ? mc->vocab : NEURON_MAX_TOPK), 400;
    for (unsigned i = 0; i < c->n_prompt; i++)
        if (c->prompt[i] >= mc->vocab)
            return snprintf(msg, n, "prompt[%u]: token %d outside the model's vocabulary (%d)", i,
                            (int)c->prompt[i], mc->vocab), 400;
    if ((int)c->n_prompt + (int)c->n_gen > mc->seq_len)
        return snprintf(msg, n, "prompt + n_gen: %d tokens, the model's context is %d",
                        (int)c->n_prompt + (int)c->n_gen, mc->seq_len), 400;
    return 0;
}

/* ---- jobs -------------------------------------------------------------- */

static neuron_miner_wire_fn wire_hook;
static void *wire_user;

void neuron_miner_set_wire_hook(neuron_miner_wire_fn fn, void *user)
{
    wire_hook = fn;
    wire_user = user;
}

static void on_work(uv_work_t *w)
{
    neuron_job *j = w->data;
    neuron_miner *m = j->m;
    neuron_miner_worker wk = { m->states[j->slot], m->model, &m->key, j->slot };
    uint8_t *enc = malloc(NEURON_ANSWER_MAX);
    bool sign = true;
    size_t len = 0;
    uint64_t t0 = uv_hrtime();
    memset(&j->ans, 0, sizeof j->ans);
    j->ans.id = j->id;
    j->ans.miner = m->key.addr;
    j->ans.k = j->ch.topk;
    j->rc = enc ? m->fn(m->user, &wk, &j->ch, &j->ans, &sign) : BASED_E_NOMEM;
    if (j->rc == BASED_E_OK && !j->ans.elapsed_us) {
        uint64_t us = (uv_hrtime() - t0) / 1000u;
        j->ans.elapsed_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    }
    if (j->rc == BASED_E_OK && sign)
        j->rc = neuron_answer_sign(&j->ans, m->key.sk);
    if (j->rc == BASED_E_OK)
        j->rc = neuron_answer_encode(&j->ans, enc, NEURON_ANSWER_MAX, &len);
    if (j->rc == BASED_E_OK && !(j->box = malloc(len + NEURON_SEAL_OVERHEAD)))
        j->rc = BASED_E_NOMEM;
    if (j->rc == BASED_E_OK && (j->rc = neuron_seal(enc, len, j->ch.vbox_pk, j->box)) == BASED_E_OK)
        j->box_len = len + NEURON_SEAL_OVERHEAD;
    if (j->rc == BASED_E_OK && wire_hook)
        wire_hook(wire_user, enc, len, &j->box, &j->box_len);
    free(enc);
}

static void pump(neuron_miner *m);

static void on_work_done(uv_work_t *w, int status)
{
    neuron_job *j = w->data;
    neuron_miner *m = j->m;
    node_http_response res = { 0 };
    bool open = node_http_pending_open(j->p);
    double ms = (double)(uv_hrtime() - j->t0) / 1e6;
    m->busy[j->slot] = false;
    m->running--;
    if (status == 0 && j->rc == BASED_E_OK) {
        res.status = 200;
        res.content_type = "application/octet-stream";
        res.body = (char *)j->box;
        res.body_len = j->box_len;
        j->box = NULL;
        m->served += open;   /* an answer dropped with its validator gone is not served */
        node_log(NODE_LOG_INFO, "challenge from validator uid %d: %u tokens in %.0f ms%s", j->vuid,
                 j->ans.n, ms, open ? "" : " (validator gone, answer dropped)");
    } else {
        char msg[128];
        snprintf(msg, sizeof msg, "cannot answer: %s", based_strerror(j->rc));
        set_error(&res, 500, msg);
        node_log(NODE_LOG_WARN, "challenge from validator uid %d: %s", j->vuid, msg);
    }
    node_http_complete(j->p, &res);
    free(j->box);
    free(j);
    pump(m);
}

static int free_slot(const neuron_miner *m)
{
    for (int i = 0; i < m->workers; i++)
        if (!m->busy[i])
            return i;
    return -1;
}

static neuron_job *pop(neuron_miner *m)
{
    neuron_job *j = m->qhead;
    m->qhead = j->next;
    if (!m->qhead)
        m->qtail = NULL;
    m->queued--;
    return j;
}

/* Starts queued jobs while a worker is free. */
static void pump(neuron_miner *m)
{
    int slot;
    while (m->qhead && !m->stopping && (slot = free_slot(m)) >= 0) {
        neuron_job *j = pop(m);
        if (!node_http_pending_open(j->p)) {
            node_log(NODE_LOG_INFO, "challenge from validator uid %d dropped: the validator left",
                     j->vuid);
            node_http_complete(j->p, NULL);
            free(j);
            continue;
        }
        j->slot = slot;
        j->work.data = j;
        m->busy[slot] = true;
        m->running++;
        if (uv_queue_work(m->loop, &j->work, on_work, on_work_done) != 0) {
            m->busy[slot] = false;
            m->running--;
            node_http_complete(j->p, NULL);
            free(j);
        }
    }
}

void neuron_miner_drop_queue(neuron_miner *m)
{
    while (m->qhead) {
        neuron_job *j = pop(m);
        node_http_complete(j->p, NULL);
        free(j);
    }
}

/* POST /v1/challenge. */
static void challenge(neuron_miner *m, const node_http_request *req, node_http_response *res)
{
    char msg[256];
    neuron_job *j = calloc(1, sizeof *j);
    int status = 0;
    if (!j) {
        set_error(res, 503, "out of memory");
        return;
    }
    if (m->stopping)
        status = 503, snprintf(msg, sizeof msg, "shutting down");
    if (!status)
        status = check_envelope(m, req, j, msg, sizeof msg);
    if (!status)
        status = check_content(m, j, msg, sizeof msg);
    if (!status && m->queued + m->running >= m->max_concurrent)
        status = 429, snprintf(msg, sizeof msg, "busy: %d challenges queued or running, at most %d",
                               m->queued + m->running, m->max_concurrent);
    if (!status) {
        j->id = neuron_challenge_id(&j->ch);
        if (neuron_replay_check_add(&m->replay, &j->id))
            status = 409, snprintf(msg, sizeof msg, "replayed: this challenge was answered before");
    }
    if (!status && !(j->p = node_http_defer(req)))
        status = 503, snprintf(msg, sizeof msg, "cannot defer the answer");
    if (status) {
        refuse(m, res, status, msg);
        free(j);
        return;
    }
    j->m = m;
    j->t0 = uv_hrtime();
    if (m->qtail)
        m->qtail->next = j;
    else
        m->qhead = j;
    m->qtail = j;
    m->queued++;
    pump(m);
}

void neuron_miner_handle(void *user, const node_http_request *req, node_http_response *res)
{
    neuron_miner *m = user;
    bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    if (!strcmp(req->path, "/health")) {
        if (get) {
            health(m, res);
            return;
        }
        set_error(res, 405, "method not allowed: use GET");
        res->headers = "Allow: GET\r\n";
    } else if (!strcmp(req->path, NEURON_CHALLENGE_PATH)) {
        if (!strcmp(req->method, "POST")) {
            challenge(m, req, res);
            return;
        }
        set_error(res, 405, "method not allowed: use POST");
        res->headers = "Allow: POST\r\n";
    } else {
        set_error(res, 404, "not found: POST " NEURON_CHALLENGE_PATH " or GET /health");
    }
}

/* ---- the honest answer ------------------------------------------------- */

based_err neuron_miner_answer_honest(void *user, const neuron_miner_worker *w,
                                     const neuron_challenge *c, neuron_answer *a, bool *sign)
{
    (void)user;
    (void)sign;
    return neuron_answer_generate(w->state, c, a);
}
