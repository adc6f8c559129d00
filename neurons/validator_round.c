/*
 * validator_round.c: one round of based-validator against the serving
 * miners (validator.h): challenges, the concurrent HTTP exchange with
 * libcurl multi, opening and checking the answers, duplicate detection and
 * scoring against the reference model.
 *
 * Everything a miner sends is hostile input: a response is read only up to
 * NEURON_RESPONSE_BODY_MAX bytes (the transfer is aborted beyond), every
 * transfer is bounded by the deadline (connect included), only plain HTTP
 * to the published host:port is spoken (no redirects, no proxies, no other
 * protocols), and whatever fails sets that miner's gate and nothing else.
 */
#include <curl/curl.h>
#include <sodium.h>
#include <time.h>

#include "neurons/validator.h"

/* ---------------- challenges ---------------- */

based_err neuron_val_challenge(const neuron_val_ctx *x, const chain_hash *block, uint64_t height,
                               uint16_t uid, uint32_t round, neuron_challenge *c)
{
    size_t off, len;
    const struct model_config *cf = model_config(x->model);
    memset(c, 0, sizeof *c);
    if (x->text_len <= (size_t)x->cp.max_prompt_bytes || cf->seq_len < 2)
        return BASED_E_BAD_PARAM;
    chain_hash seed = neuron_challenge_seed(block, height, &x->addr, x->brain, uid, round);
    neuron_challenge_derive(c, &x->cp, &seed, x->text_len, &off, &len);
    c->brain = x->brain;
    c->uid = uid;
    c->validator = x->addr;
    memcpy(c->vbox_pk, x->box.pk, 32);
    c->height = height;
    c->block = *block;
    c->round = round;
    if (c->n_gen >= cf->seq_len)
        c->n_gen = (uint16_t)(cf->seq_len / 2);   /* a context shorter than the asked length */
    int cap = cf->seq_len - c->n_gen;
    if (cap > NEURON_MAX_PROMPT)
        cap = NEURON_MAX_PROMPT;
    /* a tokenizer gives at most ~1 token per byte plus a prefix; room for 4 */
    int room = (int)(4 * len + 8);
    int *toks = malloc((size_t)room * sizeof *toks);
    if (!toks)
        return BASED_E_NOMEM;
    int nt = model_encode(x->model, (const char *)x->text + off, len, toks, room);
    if (nt > cap)
        nt = cap;
    for (int i = 0; i < nt; i++)
        c->prompt[i] = toks[i];
    free(toks);
    if (nt <= 0)
        return BASED_E_BAD_PARAM;
    c->n_prompt = (uint16_t)nt;
    return neuron_challenge_sign(c, x->sk);
}

/* ---------------- answers ---------------- */

int neuron_val_open(const neuron_val_ctx *x, const uint8_t *body, size_t len,
                    const neuron_challenge *c, const chain_addr *miner, neuron_answer *a,
                    char *why, size_t why_n)
{
    size_t n = 0;
    if (len < NEURON_SEAL_OVERHEAD || len > NEURON_RESPONSE_BODY_MAX) {
        snprintf(why, why_n, "response of %zu bytes is no sealed answer", len);
        return NEURON_GATE_SEAL;
    }
    uint8_t *plain = malloc(len - NEURON_SEAL_OVERHEAD + 1);
    if (!plain) {
        snprintf(why, why_n, "out of memory");
        return NEURON_GATE_NO_ANSWER;
    }
    if (neuron_open(body, len, &x->box, plain, &n) != BASED_E_OK) {
        free(plain);
        snprintf(why, why_n, "response does not open with the validator's key");
        return NEURON_GATE_SEAL;
    }
    char dwhy[96] = "";
    based_err rc = neuron_answer_decode(plain, n, a, dwhy, sizeof dwhy);
    free(plain);
    if (rc != BASED_E_OK) {
        snprintf(why, why_n, "answer: %s", dwhy[0] ? dwhy : based_strerror(rc));
        return NEURON_GATE_DECODE;
    }
    if (memcmp(a->miner.b, miner->b, 32) != 0) {
        snprintf(why, why_n, "answer names another miner than the uid's account");
        return NEURON_GATE_SIGNATURE;
    }
    if (!neuron_answer_verify(a)) {
        snprintf(why, why_n, "answer's signature is not the miner's");
        return NEURON_GATE_SIGNATURE;
    }
    chain_hash id = neuron_challenge_id(c);
    if (!chain_hash_eq(&id, &a->id)) {
        snprintf(why, why_n, "answer is for another challenge (replayed or copied)");
        return NEURON_GATE_CHALLENGE;
    }
    return NEURON_GATE_OK;
}

/* ---------------- HTTP ---------------- */

bool neuron_val_url(const char *host, uint16_t port, char *url, size_t n)
{
    bool colon = false;
    if (!host[0] || port == 0)
        return false;
    for (const char *p = host; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == ':';
        if (!ok)
            return false;
        colon = colon || *p == ':';
    }
    int w = snprintf(url, n, colon ? "http://[%s]:%u%s" : "http://%s:%u%s", host, port,
                     NEURON_CHALLENGE_PATH);
    return w > 0 && (size_t)w < n;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct {
    neuron_val_req *r;
    size_t cap;              /* allocated bytes of r->resp */
    bool oversized;
    double t0;
} xfer;

static size_t on_data(char *p, size_t size, size_t nmemb, void *user)
{
    xfer *t = user;
    size_t k = size * nmemb;
    if (k > NEURON_RESPONSE_BODY_MAX - t->r->resp_len) {
        t->oversized = true;
        return 0;   /* aborts the transfer */
    }
    if (t->r->resp_len + k > t->cap) {
        size_t nc = t->cap ? t->cap : 4096;
        while (nc < t->r->resp_len + k)
            nc *= 2;
        if (nc > NEURON_RESPONSE_BODY_MAX)
            nc = NEURON_RESPONSE_BODY_MAX;
        uint8_t *np = realloc(t->r->resp, nc);
        if (!np)
            return 0;
        t->r->resp = np;
        t->cap = nc;
    }
    memcpy(t->r->resp + t->r->resp_len, p, k);
    t->r->resp_len += k;
    return k;
}

static CURL *easy_for(xfer *t, struct curl_slist *hdr, unsigned deadline_ms)
{
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    curl_easy_setopt(e, CURLOPT_URL, t->r->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, (const char *)t->r->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)t->r->body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)deadline_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)deadline_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE, (long)NEURON_RESPONSE_BODY_MAX);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTP);
#endif
    return e;
}

/* Sets r's gate from how its transfer ended. */
static void finish(xfer *t, CURL *e, CURLcode cc)
{
    neuron_val_req *r = t->r;
    r->latency_ms = now_ms() - t->t0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
    if (t->oversized || cc == CURLE_FILESIZE_EXCEEDED) {
        r->gate = NEURON_GATE_DECODE;
        snprintf(r->why, sizeof r->why, "response over %d bytes (transfer aborted)",
                 NEURON_RESPONSE_BODY_MAX);
    } else if (cc == CURLE_OPERATION_TIMEDOUT) {
        r->gate = NEURON_GATE_TIMEOUT;
        snprintf(r->why, sizeof r->why, "no complete answer within the deadline");
    } else if (cc != CURLE_OK) {
        r->gate = NEURON_GATE_NO_ANSWER;
        snprintf(r->why, sizeof r->why, "%s", curl_easy_strerror(cc));
    } else if (r->status != 200) {
        r->gate = NEURON_GATE_NO_ANSWER;
        snprintf(r->why, sizeof r->why, "HTTP status %ld", r->status);
    } else {
        r->gate = NEURON_GATE_OK;
        r->why[0] = '\0';
    }
}

/* Drives the multi handle until every transfer is done. */
static void run_multi(CURLM *m, unsigned deadline_ms)
{
    int running = 1;
    double end = now_ms() + deadline_ms + 2000.0;   /* curl's own timeouts end it first */
    while (running > 0 && now_ms() < end) {
        if (curl_multi_perform(m, &running) != CURLM_OK)
            break;
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            xfer *t = NULL;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
            if (t)
                finish(t, msg->easy_handle, msg->data.result);
        }
        if (running > 0 && curl_multi_poll(m, NULL, 0, 50, NULL) != CURLM_OK)
            break;
    }
}

based_err neuron_val_fetch(neuron_val_req *r, size_t n, unsigned deadline_ms, char *err)
{
    static bool inited;
    if (!inited) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        inited = true;
    }
    xfer *t = calloc(n ? n : 1, sizeof *t);
    CURL **e = calloc(n ? n : 1, sizeof *e);
    CURLM *m = curl_multi_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/octet-stream");
    struct curl_slist *h2 = hdr ? curl_slist_append(hdr, "Expect:") : NULL;
    based_err rc = t && e && m && h2 ? BASED_E_OK : BASED_E_NOMEM;
    if (h2)
        hdr = h2;
    if (m)
        curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 512L);
    double t0 = now_ms();
    for (size_t i = 0; rc == BASED_E_OK && i < n; i++) {
        r[i].gate = NEURON_GATE_TIMEOUT;   /* until its transfer ends */
        r[i].status = 0;
        r[i].resp_len = 0;
        snprintf(r[i].why, sizeof r[i].why, "transfer did not end in time");
        t[i].r = &r[i];
        t[i].t0 = t0;
        if (!(e[i] = easy_for(&t[i], hdr, deadline_ms)) || curl_multi_add_handle(m, e[i]) != CURLM_OK)
            rc = BASED_E_NOMEM;
    }
    if (rc == BASED_E_OK)
        run_multi(m, deadline_ms);
    for (size_t i = 0; e && i < n; i++)
        if (e[i]) {
            curl_multi_remove_handle(m, e[i]);
            curl_easy_cleanup(e[i]);
        }
    curl_multi_cleanup(m);
    curl_slist_free_all(hdr);
    free(t);
    free(e);
    return rc == BASED_E_OK ? rc : cli_fail(err, rc, "cannot start the round's transfers");
}

void neuron_val_req_release(neuron_val_req *r)
{
    free(r->resp);
    r->resp = NULL;
    r->resp_len = 0;
}

/* ---------------- a round ---------------- */

void neuron_val_results_free(neuron_val_result *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++)
        free(r[i].a);
    free(r);
}

/* Builds, seals and addresses result i's challenge into req; false (gate
 * and why set) when it cannot be sent. */
static bool prepare(const neuron_val_ctx *x, const chain_hash *block, uint64_t height,
                    uint32_t round, const neuron_info *ni, neuron_val_result *res,
                    neuron_val_req *req, uint8_t *sealed)
{
    uint8_t enc[NEURON_CHALLENGE_MAX];
    size_t len;
    res->uid = ni->uid;
    res->addr = ni->addr;
    snprintf(res->ss58, sizeof res->ss58, "%s", ni->ss58);
    neuron_score_gated(&res->sc, NEURON_GATE_NO_ANSWER);
    if (!neuron_val_url(ni->host, ni->port, req->url, sizeof req->url)) {
        snprintf(res->why, sizeof res->why, "published endpoint \"%.60s\" is not a host name",
                 ni->host);
        return false;
    }
    if (neuron_val_challenge(x, block, height, (uint16_t)ni->uid, round, &res->c) != BASED_E_OK ||
        neuron_challenge_encode(&res->c, enc, sizeof enc, &len) != BASED_E_OK) {
        snprintf(res->why, sizeof res->why, "no challenge could be built (evaluation text, model)");
        return false;
    }
    if (neuron_seal(enc, len, ni->x25519, sealed) != BASED_E_OK) {
        snprintf(res->why, sizeof res->why, "its published X25519 key is not usable");
        return false;
    }
    req->body = sealed;
    req->body_len = len + NEURON_SEAL_OVERHEAD;
    return true;
}

/* Opens the answers that arrived (req[j] is result idx[j]'s exchange); the
 * results never sent keep gate NO_ANSWER. */
static void open_all(const neuron_val_ctx *x, neuron_val_result *res, const neuron_val_req *req,
                     const size_t *idx, size_t m, int *gate)
{
    for (size_t j = 0; j < m; j++) {
        size_t i = idx[j];
        res[i].latency_ms = req[j].latency_ms;
        res[i].status = req[j].status;
        gate[i] = req[j].gate;
        snprintf(res[i].why, sizeof res[i].why, "%s", req[j].why);
        if (gate[i] != NEURON_GATE_OK)
            continue;
        res[i].a = malloc(sizeof *res[i].a);
        gate[i] = res[i].a ? neuron_val_open(x, req[j].resp, req[j].resp_len, &res[i].c,
                                             &res[i].addr, res[i].a, res[i].why,
                                             sizeof res[i].why)
                           : NEURON_GATE_NO_ANSWER;
        if (gate[i] != NEURON_GATE_OK) {
            free(res[i].a);
            res[i].a = NULL;
        }
    }
}

/* Scores the answers that passed every gate; the others get their gate. */
static based_err score_all(const neuron_val_ctx *x, neuron_val_result *res, const int *gate,
                           size_t n, char *err)
{
    for (size_t i = 0; i < n; i++) {
        if (gate[i] != NEURON_GATE_OK) {
            neuron_score_gated(&res[i].sc, gate[i]);
            if (gate[i] == NEURON_GATE_DUPLICATE)
                snprintf(res[i].why, sizeof res[i].why, "same tokens as another miner's answer");
            continue;
        }
        based_err rc = neuron_score_answer(x->ref, &res[i].c, res[i].a, res[i].latency_ms,
                                           (double)x->deadline_ms, &x->sp, &res[i].sc);
        if (rc != BASED_E_OK)
            return cli_fail(err, rc, "the reference pass failed: %s", based_strerror(rc));
    }
    return BASED_E_OK;
}

based_err neuron_val_round(const neuron_val_ctx *x, const chain_hash *block, uint64_t height,
                           uint32_t round, const neuron_info *list, size_t n,
                           neuron_val_result **out, size_t *n_out, char *err)
{
    size_t k = 0, m = 0;
    *out = NULL;
    *n_out = 0;
    for (size_t i = 0; i < n; i++)
        k += !list[i].validator && list[i].served;
    size_t c = k ? k : 1;
    neuron_val_result *res = calloc(c, sizeof *res);
    neuron_val_req *req = calloc(c, sizeof *req);
    uint8_t *sealed = malloc(c * (size_t)NEURON_REQUEST_BODY_MAX);
    size_t *idx = calloc(c, sizeof *idx);
    int *gate = calloc(c, sizeof *gate);
    const neuron_answer **ans = calloc(c, sizeof *ans);
    based_err rc = res && req && sealed && idx && gate && ans
                       ? BASED_E_OK : cli_fail(err, BASED_E_NOMEM, "out of memory for a round");
    for (size_t i = 0, j = 0; rc == BASED_E_OK && i < n; i++) {
        if (list[i].validator || !list[i].served)
            continue;
        gate[j] = NEURON_GATE_NO_ANSWER;
        if (prepare(x, block, height, round, &list[i], &res[j], &req[m],
                    sealed + m * (size_t)NEURON_REQUEST_BODY_MAX))
            idx[m++] = j;
        j++;
    }
    if (rc == BASED_E_OK)
        rc = neuron_val_fetch(req, m, x->deadline_ms, err);
    if (rc == BASED_E_OK) {
        open_all(x, res, req, idx, m, gate);
        for (size_t i = 0; i < k; i++)
            ans[i] = res[i].a;
        neuron_val_duplicates(ans, gate, k);
        rc = score_all(x, res, gate, k, err);
    }
    for (size_t j = 0; req && j < m; j++)
        neuron_val_req_release(&req[j]);
    free(req);
    free(sealed);
    free(idx);
    free(gate);
    free(ans);
    if (rc != BASED_E_OK) {
        neuron_val_results_free(res, k);
        return rc;
    }
    *out = res;
    *n_out = k;
    return BASED_E_OK;
}
