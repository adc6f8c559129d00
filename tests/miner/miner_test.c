/*
 * Tests of based-miner as a real process against a real basedd --dev:
 * a challenge built, signed and sealed here as a validator would gets a
 * signed, sealed answer whose tokens and log-probabilities equal
 * model_generate's for the same challenge (f32, and q8_0 compressed here the
 * same way); malformed, unsealed, oversized, replayed, stale, misaddressed,
 * wrongly signed and non-validator requests each get their status and the
 * miner keeps serving; over --max-concurrent gets 429; SIGTERM with work in
 * flight exits 0. Flags are checked without a node (exit 2 / 1).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/gguf.h"
#include "model/model.h"
#include "neurons/miner.h"
#include "neurons/miner_int.h"
#include "tests/miner/harness.h"
#include "tests/runner.h"

#define BLOCK_MS 250

static const char TEXT[] =
    "A fool and his money are soon parted. Never put off until tomorrow what you can do the "
    "day after tomorrow. Beware of all enterprises that require new clothes.";

typedef struct {
    neuron_challenge c;
    neuron_box_keys vbox;           /* the validator's X25519 keys for the answer */
    uint8_t sealed[NEURON_REQUEST_BODY_MAX];
    size_t sealed_len;
    chain_hash id;
} chal;

/* A challenge from dev `vdev` to miner m at head + dh, prompt from TEXT. */
static int build(chal *x, mt_node *n, const mt_miner *m, const model_t *model, unsigned vdev,
                 uint32_t round, int dh)
{
    uint8_t vsk[32];
    uint64_t head;
    chain_hash hash;
    char err[CLI_ERR_LEN];
    neuron_challenge_params p;
    size_t off, len;
    int toks[NEURON_MAX_PROMPT];
    memset(x, 0, sizeof *x);
    if (neuron_head(n->client, &head, &hash, err) != BASED_E_OK)
        return -1;
    chain_key_dev(vdev, vsk);
    chain_key_pub(vsk, &x->c.validator);
    x->c.brain = n->brain;
    x->c.uid = (uint16_t)m->uid;
    x->c.height = (uint64_t)((int64_t)head + dh);
    x->c.block = hash;
    x->c.round = round;
    crypto_box_keypair(x->vbox.pk, x->vbox.sk);
    memcpy(x->c.vbox_pk, x->vbox.pk, 32);
    neuron_challenge_params_default(&p);
    chain_hash seed = neuron_challenge_seed(&hash, x->c.height, &x->c.validator, x->c.brain,
                                            x->c.uid, round);
    neuron_challenge_derive(&x->c, &p, &seed, sizeof TEXT - 1, &off, &len);
    int k = model_encode(model, TEXT + off, len, toks, NEURON_MAX_PROMPT);
    if (k <= 0)
        return -1;
    x->c.n_prompt = (uint16_t)k;
    for (int i = 0; i < k; i++)
        x->c.prompt[i] = toks[i];
    return neuron_challenge_sign(&x->c, vsk) == BASED_E_OK ? 0 : -1;
}

/* Encodes and seals x->c to pk (after any change to it). */
static int seal(chal *x, const uint8_t pk[32])
{
    uint8_t enc[NEURON_CHALLENGE_MAX];
    size_t len;
    if (neuron_challenge_encode(&x->c, enc, sizeof enc, &len) != BASED_E_OK ||
        neuron_seal(enc, len, pk, x->sealed) != BASED_E_OK)
        return -1;
    x->sealed_len = len + NEURON_SEAL_OVERHEAD;
    x->id = neuron_challenge_id(&x->c);
    return 0;
}

/* Re-signs after a change, then seals to the miner. */
static int resign_seal(chal *x, unsigned vdev, const mt_miner *m)
{
    uint8_t vsk[32];
    chain_key_dev(vdev, vsk);
    if (neuron_challenge_sign(&x->c, vsk) != BASED_E_OK)
        return -1;
    return seal(x, m->x25519);
}

/* POSTs x and returns the status; on 200 opens and checks the answer
 * (signature, id, miner, counts) into *a. */
static long ask(const mt_miner *m, const chal *x, neuron_answer *a, char *body, size_t cap)
{
    uint8_t *out, plain[NEURON_ANSWER_MAX];
    size_t n, pn;
    char why[160];
    long st = mt_post(m->url, x->sealed, x->sealed_len, &out, &n);
    snprintf(body, cap, "%.*s", st == 200 ? 0 : (int)n, out ? (char *)out : "");
    if (st == 200) {
        bool ok = n <= NEURON_RESPONSE_BODY_MAX &&
                  neuron_open(out, n, &x->vbox, plain, &pn) == BASED_E_OK &&
                  neuron_answer_decode(plain, pn, a, why, sizeof why) == BASED_E_OK &&
                  neuron_answer_verify(a) && !memcmp(a->id.b, x->id.b, 32) &&
                  !memcmp(a->miner.b, m->key.addr.b, 32) && a->n == x->c.n_gen &&
                  a->k == x->c.topk;
        if (!ok)
            st = -200;
    }
    free(out);
    return st;
}

/* Do the answer's tokens and top-k equal model_generate's on `model`? */
static bool matches(const model_t *model, const neuron_challenge *c, const neuron_answer *a)
{
    model_state *s = model_state_new(model);
    int prompt[NEURON_MAX_PROMPT], out[NEURON_MAX_GEN];
    struct model_topk *tk = calloc((size_t)c->n_gen * c->topk + 1, sizeof *tk);
    struct model_sampler sm;
    bool ok = s && tk;
    for (unsigned i = 0; i < c->n_prompt; i++)
        prompt[i] = c->prompt[i];
    neuron_challenge_sampler(c, &sm);
    ok = ok && model_generate(s, prompt, c->n_prompt, &sm, c->seed, c->n_gen, out, c->topk, tk) ==
                   c->n_gen;
    for (int i = 0; ok && i < c->n_gen; i++)
        ok = out[i] == a->tokens[i];
    for (size_t i = 0; ok && i < (size_t)c->n_gen * c->topk; i++)
        ok = tk[i].token == a->topk[i].token && tk[i].logprob == a->topk[i].logprob;
    free(tk);
    model_state_free(s);
    return ok;
}

static long health(const mt_miner *m, char *out, size_t cap)
{
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/health", m->port);
    return mt_get(url, out, cap);
}

/* The refusals, each with its status and words, then a good request. */
static void refusals(mt_node *n, mt_miner *m, const model_t *model, const chal *good,
                     neuron_answer *a)
{
    chal *x = calloc(1, sizeof *x);
    char body[512], err[CLI_ERR_LEN];
    uint8_t junk[300], *out;
    size_t olen;
    CHECK(x);
    /* replayed: the very same box */
    CHECK_EQ_INT(ask(m, good, a, body, sizeof body), 409);
    CHECK(strstr(body, "\"error\":\"replayed") != NULL);
    /* unsealed: the plain encoding; sealed to someone else; not a box at all */
    CHECK_EQ_INT(build(x, n, m, model, 3, 10, 0), 0);
    uint8_t other[32], other_sk[32];
    crypto_box_keypair(other, other_sk);
    CHECK_EQ_INT(seal(x, other), 0);
    CHECK_EQ_INT(ask(m, x, a, body, sizeof body), 400);
    CHECK(strstr(body, "not sealed to this miner") != NULL);
    CHECK_EQ_INT(neuron_challenge_encode(&x->c, x->sealed, sizeof x->sealed, &x->sealed_len), 0);
    CHECK_EQ_INT(ask(m, x, a, body, sizeof body), 400);
    CHECK(strstr(body, "not sealed") != NULL);
    x->sealed_len = 0;
    CHECK_EQ_INT(ask(m, x, a, body, sizeof body), 400);
    /* malformed: random bytes and a truncated challenge, sealed to the miner */
    randombytes_buf(junk, sizeof junk);
    CHECK_EQ_INT(neuron_seal(junk, sizeof junk, m->x25519, x->sealed), 0);
    x->sealed_len = sizeof junk + NEURON_SEAL_OVERHEAD;
    CHECK_EQ_INT(ask(m, x, a, body, sizeof body), 400);
    CHECK(strstr(body, "malformed challenge") != NULL);
    uint8_t enc[NEURON_CHALLENGE_MAX];
    size_t elen;
    CHECK_EQ_INT(neuron_challenge_encode(&x->c, enc, sizeof enc, &elen), 0);
    CHECK_EQ_INT(neuron_seal(enc, elen - 1, m->x25519, x->sealed), 0);
    x->sealed_len = elen - 1 + NEURON_SEAL_OVERHEAD;
    CHECK_EQ_INT(ask(m, x, a, body, sizeof body), 400);
    CHECK(strstr(body, "malformed challenge") != NULL);
    /* oversized: one byte over the cap */
    uint8_t *big = calloc(NEURON_REQUEST_BODY_MAX + 1, 1);
    CHECK(big);
    CHECK_EQ_INT(mt_post(m->url, big, NEURON_REQUEST_BODY_MAX + 1, &out, &olen), 413);
    free(out);
    free(big);
    /* a bad signature; a non-validator's (dev4, properly signed) */
    CHECK_EQ_INT(build(x, n, m, model, 3, 11, 0), 0);
    x->c.sig.b[5] ^= 1;
    CHECK_EQ_INT(seal(x, m->x25519), 0);
    CHECK_EQ_INT(ask(m, x, a, body, sizeof body), 400);
    CHECK(strstr(body, "bad signature") != NULL);
    CHECK_EQ_INT(build(x, n, m, model, 4, 12, 0), 0);
    CHECK_EQ_INT(seal(x, m->x25519), 0);
    CHECK_EQ_INT(ask(m, x, a, body, sizeof body), 403);
    CHECK(strstr(body, "is not a validator of Brain") != NULL);
    /* misaddressed: another uid, another Brain */
    CHECK_EQ_INT(build(x, n, m, model, 3, 13, 0), 0);
    x->c.uid = (uint16_t)(m->uid + 7);
    CHECK_EQ_INT(resign_seal(x, 3, m), 0);
    CHECK_EQ_INT(ask(m, x, a, body, sizeof body), 409);
    CHECK(strstr(body, "this miner is uid") != NULL);
    x->c.uid = (uint16_t)m->uid;
    x->c.brain = (uint16_t)(n->brain + 1);
    CHECK_EQ_INT(resign_seal(x, 3, m), 0);
    CHECK_EQ_INT(ask(m, x, a, body, sizeof body), 400);
    CHECK(strstr(body, "this miner serves Brain") != NULL);
    /* beyond the model: a token outside the vocabulary, past the context */
    CHECK_EQ_INT(build(x, n, m, model, 3, 14, 0), 0);
    x->c.prompt[0] = 300;
    CHECK_EQ_INT(resign_seal(x, 3, m), 0);
    CHECK_EQ_INT(ask(m, x, a, body, sizeof body), 400);
    CHECK(strstr(body, "vocabulary") != NULL);
    x->c.prompt[0] = 'a';
    x->c.topk = 0;
    CHECK_EQ_INT(resign_seal(x, 3, m), 0);
    CHECK_EQ_INT(ask(m, x, a, body, sizeof body), 400);
    CHECK(strstr(body, "topk") != NULL);
    CHECK_EQ_INT(build(x, n, m, model, 3, 15, 0), 0);
    x->c.n_gen = (uint16_t)(model_config(model)->seq_len - x->c.n_prompt + 1);
    CHECK_EQ_INT(resign_seal(x, 3, m), 0);
    CHECK_EQ_INT(ask(m, x, a, body, sizeof body), 400);
    CHECK(strstr(body, "context") != NULL);
    /* over the protocol's cap (n_gen patched in the encoding: no API makes one) */
    CHECK_EQ_INT(neuron_challenge_encode(&x->c, enc, sizeof enc, &elen), 0);
    size_t at = 1 + 2 + 2 + 32 + 32 + 8 + 32 + 4 + 2 + 4 * (size_t)x->c.n_prompt;
    enc[at] = (NEURON_MAX_GEN + 1) >> 8;
    enc[at + 1] = (NEURON_MAX_GEN + 1) & 0xff;
    CHECK_EQ_INT(neuron_seal(enc, elen, m->x25519, x->sealed), 0);
    x->sealed_len = elen + NEURON_SEAL_OVERHEAD;
    CHECK_EQ_INT(ask(m, x, a, body, sizeof body), 400);
    CHECK(strstr(body, "n_gen") != NULL);
    /* stale: too old, too far ahead */
    CHECK_EQ_INT(mt_wait_height(n, NEURON_MINER_STALE_BLOCKS + 12, 60000), 0);
    CHECK_EQ_INT(build(x, n, m, model, 3, 16, -(NEURON_MINER_STALE_BLOCKS + 6)), 0);
    CHECK_EQ_INT(seal(x, m->x25519), 0);
    CHECK_EQ_INT(ask(m, x, a, body, sizeof body), 410);
    CHECK(strstr(body, "behind the head") != NULL);
    CHECK_EQ_INT(build(x, n, m, model, 3, 17, NEURON_MINER_AHEAD_BLOCKS + 8), 0);
    CHECK_EQ_INT(seal(x, m->x25519), 0);
    CHECK_EQ_INT(ask(m, x, a, body, sizeof body), 410);
    CHECK(strstr(body, "ahead of the head") != NULL);
    /* wrong routes */
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/nope", m->port);
    CHECK_EQ_INT(mt_get(url, body, sizeof body), 404);
    CHECK_EQ_INT(mt_get(m->url, body, sizeof body), 405);
    /* and a good one is still served */
    CHECK_EQ_INT(build(x, n, m, model, 3, 18, -1), 0);
    CHECK_EQ_INT(seal(x, m->x25519), 0);
    CHECK_EQ_INT(ask(m, x, a, body, sizeof body), 200);
    CHECK(matches(model, &x->c, a));
    (void)err;
    free(x);
}

TEST(miner_answers_and_refuses)
{
    mt_node n;
    mt_miner m, q;
    model_t *f32 = NULL, *q8 = NULL;
    char err[256], body[1024];
    chal *x = calloc(1, sizeof *x);
    neuron_answer *a = calloc(1, sizeof *a);
    CHECK(x && a);
    CHECK_EQ_INT(model_load(MODEL_DEFAULT_PATH, &f32, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(mt_node_start(&n, BLOCK_MS), 0);
    const char *qflags[] = { "--compress", "q8_0", "--workers", "2", NULL };
    CHECK_EQ_INT(mt_miner_start(&m, &n, 5, NULL), 0);
    CHECK_EQ_INT(mt_miner_start(&q, &n, 6, qflags), 0);
    CHECK(m.uid != q.uid);
    /* an honest answer: exactly model_generate's */
    CHECK_EQ_INT(build(x, &n, &m, f32, 3, 1, -1), 0);
    CHECK_EQ_INT(seal(x, m.x25519), 0);
    CHECK_EQ_INT(ask(&m, x, a, body, sizeof body), 200);
    CHECK(matches(f32, &x->c, a));
    CHECK(a->elapsed_us > 0);
    refusals(&n, &m, f32, x, a);
    CHECK_EQ_INT(health(&m, body, sizeof body), 200);
    CHECK(strstr(body, "\"served\":2") != NULL);
    CHECK(strstr(body, "\"method\":\"f32\"") != NULL);
    /* the q8_0 miner answers as the q8_0 model compressed here does */
    struct model_compress_opts o;
    struct model_gguf *g;
    model_compress_defaults(&o);
    o.method = "q8_0";
    CHECK_EQ_INT(model_compress(f32, &o, &g, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(model_from_gguf(g, &q8, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(build(x, &n, &q, f32, 3, 2, -1), 0);
    CHECK_EQ_INT(seal(x, q.x25519), 0);
    CHECK_EQ_INT(ask(&q, x, a, body, sizeof body), 200);
    CHECK(matches(q8, &x->c, a));
    CHECK(!matches(f32, &x->c, a));
    /* the log has one line per challenge */
    FILE *f = fopen(m.log, "r");
    CHECK(f);
    char line[512];
    int answered = 0;
    while (fgets(line, sizeof line, f))
        answered += strstr(line, "challenge from validator uid") != NULL;
    fclose(f);
    CHECK_EQ_INT(answered, 2);
    CHECK_EQ_INT(mt_miner_stop(&m, 10000), 0);
    CHECK_EQ_INT(mt_miner_stop(&q, 10000), 0);
    mt_node_stop(&n);
    model_free(q8);
    model_free(f32);
    free(x);
    free(a);
}

/* n challenges sent at once on n connections; counts statuses. */
static void burst(const mt_miner *m, chal *xs, int cnt, int *ok, int *busy)
{
    char url[96];
    int fds[16];
    *ok = *busy = 0;
    snprintf(url, sizeof url, "127.0.0.1:%d", m->port);
    for (int i = 0; i < cnt; i++) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)m->port) };
        struct timeval tv = { .tv_sec = 20 };
        sa.sin_addr.s_addr = htonl(0x7f000001);
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fds[i], (struct sockaddr *)&sa, sizeof sa) != 0)
            return;
    }
    for (int i = 0; i < cnt; i++) {
        char hdr[256];
        int hl = snprintf(hdr, sizeof hdr, "POST " NEURON_CHALLENGE_PATH " HTTP/1.1\r\nHost: %s\r\n"
                          "Content-Length: %zu\r\n\r\n", url, xs[i].sealed_len);
        if (send(fds[i], hdr, (size_t)hl, MSG_NOSIGNAL) != hl ||
            send(fds[i], xs[i].sealed, xs[i].sealed_len, MSG_NOSIGNAL) != (ssize_t)xs[i].sealed_len)
            return;
    }
    for (int i = 0; i < cnt; i++) {
        char resp[64] = "";
        int status = 0;
        if (recv(fds[i], resp, sizeof resp - 1, 0) > 12 && sscanf(resp, "HTTP/1.1 %d", &status) == 1) {
            *ok += status == 200;
            *busy += status == 429;
        }
        close(fds[i]);
    }
}

TEST(miner_busy_and_sigterm)
{
    mt_node n;
    mt_miner m;
    model_t *f32 = NULL;
    char err[256], body[1024];
    enum { N = 6 };
    chal *xs = calloc(N, sizeof *xs);
    CHECK(xs);
    CHECK_EQ_INT(model_load(MODEL_DEFAULT_PATH, &f32, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(mt_node_start(&n, BLOCK_MS), 0);
    const char *flags[] = { "--max-concurrent", "2", NULL };
    CHECK_EQ_INT(mt_miner_start(&m, &n, 7, flags), 0);
    int ctx = model_config(f32)->seq_len;
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(build(&xs[i], &n, &m, f32, 3, (uint32_t)(100 + i), -1), 0);
        xs[i].c.n_gen = (uint16_t)(ctx - xs[i].c.n_prompt);    /* as long as the model allows */
        CHECK_EQ_INT(resign_seal(&xs[i], 3, &m), 0);
    }
    int ok, busy;
    burst(&m, xs, N, &ok, &busy);
    CHECK(ok >= 2);
    CHECK(busy >= 1);
    CHECK_EQ_INT(ok + busy, N);
    CHECK_EQ_INT(health(&m, body, sizeof body), 200);
    char want[32];
    snprintf(want, sizeof want, "\"served\":%d", ok);
    CHECK(strstr(body, want) != NULL);
    /* SIGTERM while one is being answered: a clean exit */
    CHECK_EQ_INT(build(&xs[0], &n, &m, f32, 3, 200, -1), 0);
    xs[0].c.n_gen = (uint16_t)(ctx - xs[0].c.n_prompt);
    CHECK_EQ_INT(resign_seal(&xs[0], 3, &m), 0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)m.port) };
    sa.sin_addr.s_addr = htonl(0x7f000001);
    CHECK_EQ_INT(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char hdr[256];
    int hl = snprintf(hdr, sizeof hdr, "POST " NEURON_CHALLENGE_PATH " HTTP/1.1\r\nHost: x\r\n"
                      "Content-Length: %zu\r\n\r\n", xs[0].sealed_len);
    CHECK_EQ_INT(send(fd, hdr, (size_t)hl, MSG_NOSIGNAL), hl);
    CHECK_EQ_INT(send(fd, xs[0].sealed, xs[0].sealed_len, MSG_NOSIGNAL), (ssize_t)xs[0].sealed_len);
    double t0 = tsup_now_ms();
    int uid = m.uid, port = m.port;
    CHECK_EQ_INT(mt_miner_stop(&m, 10000), 0);
    CHECK(tsup_now_ms() - t0 < 5000);
    close(fd);
    /* a restart on the same endpoint: same uid, nothing to publish, serves */
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    const char *again[] = { "--listen", listen, NULL };
    CHECK_EQ_INT(mt_miner_start(&m, &n, 7, again), 0);
    CHECK_EQ_INT(m.uid, uid);
    CHECK_EQ_INT(m.port, port);
    FILE *f = fopen(m.out, "r");
    CHECK(f);
    size_t k = fread(body, 1, sizeof body - 1, f);
    fclose(f);
    body[k] = '\0';
    CHECK(strstr(body, "already on chain") != NULL);
    CHECK_EQ_INT(build(&xs[1], &n, &m, f32, 3, 300, -1), 0);
    CHECK_EQ_INT(seal(&xs[1], m.x25519), 0);
    neuron_answer *a = calloc(1, sizeof *a);
    CHECK(a);
    CHECK_EQ_INT(ask(&m, &xs[1], a, body, sizeof body), 200);
    CHECK(matches(f32, &xs[1].c, a));
    free(a);
    CHECK_EQ_INT(mt_miner_stop(&m, 10000), 0);
    mt_node_stop(&n);
    model_free(f32);
    free(xs);
}

/* The miner's /health "head" once "node" is true and head >= h, else -1. */
static long long health_head_at_least(const mt_miner *m, uint64_t h, unsigned timeout_ms)
{
    char body[1024];
    double t0 = tsup_now_ms();
    while (tsup_now_ms() - t0 < timeout_ms) {
        const char *p;
        unsigned long long head;
        if (health(m, body, sizeof body) == 200 && strstr(body, "\"node\":true") &&
            (p = strstr(body, "\"head\":")) && sscanf(p, "\"head\":%llu", &head) == 1 &&
            head >= h)
            return (long long)head;
        usleep(100000);
    }
    return -1;
}

/* The node restarts under a running miner (and writes a fresh cookie): the
 * miner says so, reconnects by itself and answers challenges at the new
 * heads, instead of freezing its head and refusing them as "ahead". */
TEST(miner_survives_node_restart)
{
    mt_node n;
    mt_miner m;
    model_t *f32 = NULL;
    char err[256], body[1024], cookie0[256] = "", cookie1[256] = "";
    chal *x = calloc(1, sizeof *x);
    neuron_answer *a = calloc(1, sizeof *a);
    uint64_t head;
    chain_hash hash;
    CHECK(x && a);
    CHECK_EQ_INT(model_load(MODEL_DEFAULT_PATH, &f32, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(mt_node_start(&n, BLOCK_MS), 0);
    CHECK_EQ_INT(mt_miner_start(&m, &n, 8, NULL), 0);
    CHECK_EQ_INT(build(x, &n, &m, f32, 3, 1, -1), 0);
    CHECK_EQ_INT(seal(x, m.x25519), 0);
    CHECK_EQ_INT(ask(&m, x, a, body, sizeof body), 200);
    FILE *f = fopen(n.cookie, "r");
    CHECK(f && fgets(cookie0, sizeof cookie0, f));
    if (f)
        fclose(f);
    CHECK_EQ_INT(mt_node_restart(&n), 0);
    f = fopen(n.cookie, "r");
    CHECK(f && fgets(cookie1, sizeof cookie1, f));
    if (f)
        fclose(f);
    CHECK(strcmp(cookie0, cookie1) != 0);           /* the old connection is refused */
    CHECK_EQ_INT(neuron_head(n.client, &head, &hash, err), BASED_E_OK);
    uint64_t want = head + NEURON_MINER_AHEAD_BLOCKS + 4;
    CHECK_EQ_INT(mt_wait_height(&n, want, 30000), 0);
    CHECK(health_head_at_least(&m, want, 15000) >= (long long)want);
    CHECK_EQ_INT(build(x, &n, &m, f32, 3, 2, -1), 0);
    CHECK_EQ_INT(seal(x, m.x25519), 0);
    CHECK_EQ_INT(ask(&m, x, a, body, sizeof body), 200);
    CHECK(matches(f32, &x->c, a));
    /* said once each in the log */
    f = fopen(m.log, "r");
    CHECK(f);
    char line[512];
    int down = 0, up = 0;
    while (f && fgets(line, sizeof line, f)) {
        down += strstr(line, "WARN") && strstr(line, "node not answering") != NULL;
        up += strstr(line, "node answering again") != NULL;
    }
    if (f)
        fclose(f);
    CHECK_EQ_INT(down, 1);
    CHECK_EQ_INT(up, 1);
    CHECK_EQ_INT(mt_miner_stop(&m, 10000), 0);
    mt_node_stop(&n);
    model_free(f32);
    free(x);
    free(a);
}

/* A file compressed by based-model compress is served as it is under its
 * own method's name (not as "f32"); compressing it again is refused. */
TEST(miner_precompressed_file)
{
    mt_node n;
    mt_miner m;
    model_t *f32 = NULL, *q4 = NULL;
    char err[256], body[1024], path[600], out[8192];
    struct model_compress_opts o;
    struct model_gguf *g;
    chal *x = calloc(1, sizeof *x);
    neuron_answer *a = calloc(1, sizeof *a);
    CHECK(x && a);
    CHECK_EQ_INT(model_load(MODEL_DEFAULT_PATH, &f32, err, sizeof err), BASED_E_OK);
    model_compress_defaults(&o);
    o.method = "q4_0";
    snprintf(path, sizeof path, "%s/q4_0.gguf", test_tmpdir());
    CHECK_EQ_INT(model_compress(f32, &o, &g, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(model_gguf_save(g, path, err, sizeof err), BASED_E_OK);
    model_gguf_free(g);
    CHECK_EQ_INT(model_load(path, &q4, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(mt_node_start(&n, BLOCK_MS), 0);
    const char *flags[] = { "--model", path, NULL };
    CHECK_EQ_INT(mt_miner_start(&m, &n, 9, flags), 0);
    CHECK_EQ_INT(health(&m, body, sizeof body), 200);
    CHECK(strstr(body, "\"method\":\"q4_0\"") != NULL);
    FILE *f = fopen(m.out, "r");
    size_t k = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[k] = '\0';
    if (f)
        fclose(f);
    CHECK(strstr(out, "(method q4_0,") != NULL);
    CHECK_EQ_INT(build(x, &n, &m, f32, 3, 1, -1), 0);
    CHECK_EQ_INT(seal(x, m.x25519), 0);
    CHECK_EQ_INT(ask(&m, x, a, body, sizeof body), 200);
    CHECK(matches(q4, &x->c, a));
    CHECK_EQ_INT(mt_miner_stop(&m, 10000), 0);
    /* --compress q8_0 on the q4_0 file: a one-line error, exit 1 */
    const char *again[] = { "--model", path, "--compress", "q8_0", NULL };
    CHECK(mt_miner_start(&m, &n, 9, again) != 0);
    CHECK(m.pid == 0 && WIFEXITED(m.status) && WEXITSTATUS(m.status) == 1);
    f = fopen(m.out, "r");
    k = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[k] = '\0';
    if (f)
        fclose(f);
    CHECK(strstr(out, "is compressed with q4_0 already") != NULL);
    mt_miner_stop(&m, 10000);
    mt_node_stop(&n);
    model_free(q4);
    model_free(f32);
    free(x);
    free(a);
}

/* Runs based-miner with args (no node needed); exit status, output in out. */
static int run_miner(const char *const *args, char *out, size_t cap)
{
    char path[600], cmd[2048];
    size_t k = (size_t)snprintf(cmd, sizeof cmd, "%s", test_bin("based-miner"));
    for (int i = 0; args[i] && k < sizeof cmd; i++)
        k += (size_t)snprintf(cmd + k, sizeof cmd - k, " '%s'", args[i]);
    snprintf(path, sizeof path, "%s/usage.out", test_tmpdir());
    if (k >= sizeof cmd - 700)
        return -1;
    snprintf(cmd + k, sizeof cmd - k, " > %s 2>&1", path);
    int st = system(cmd);
    FILE *f = fopen(path, "r");
    size_t r = f ? fread(out, 1, cap - 1, f) : 0;
    out[r] = '\0';
    if (f)
        fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(miner_flags)
{
    static const struct {
        const char *args[8];
        int status;
        const char *says;
    } cases[] = {
        { { "--key", "dev5", NULL }, 2, "--brain ID is required" },
        { { "--brain", "7", NULL }, 2, "--key NAME|FILE is required" },
        { { "--brain", "70000", "--key", "dev5", NULL }, 2, "expected 0-65535" },
        { { "--brain", "7", "--key", "dev5", "--compress", "zip", NULL }, 2, "unknown method" },
        { { "--brain", "7", "--key", "dev5", "--compress", "q4_0:levels=8", NULL }, 2,
          "levels is an option of cerberus" },
        { { "--brain", "7", "--key", "dev5", "--compress", "cerberus:levels=999", NULL }, 2,
          "levels=999" },
        { { "--brain", "7", "--key", "dev5", "--workers", "0", NULL }, 2, "--workers" },
        { { "--brain", "7", "--key", "dev5", "--listen", "0.0.0.0:8091", NULL }, 2, "--public-host" },
        { { "--brain", "7", "--key", "dev5", "--max-fee", "-1", NULL }, 2, "--max-fee" },
        { { "--brain", "7", "--key", "dev5", "--public-host", "a.example:99", NULL }, 2,
          "without scheme, port or path" },
        { { "--brain", "7", "--key", "dev5", "--public-host", "http://a.example", NULL }, 2,
          "--public-host" },
        { { "--brain", "7", "--key", "dev5", "--public-host", "-a", NULL }, 2, "--public-host" },
        { { "--brain", "7", "--key", "dev5", "--listen", "a/b:8091", NULL }, 2, "not a host name" },
        { { "--frobnicate", NULL }, 2, "unknown option --frobnicate" },
        { { "--brain", "7", "--key", "dev5", "--node", "http://127.0.0.1:1/", NULL }, 1,
          "no node answering" },
        { { "--version", NULL }, 0, "based-miner " },
    };
    char out[8192];
    for (size_t i = 0; i < BASED_ARRAY_LEN(cases); i++) {
        int st = run_miner(cases[i].args, out, sizeof out);
        if (st != cases[i].status || !strstr(out, cases[i].says))
            fprintf(stderr, "case %zu: status %d, output: %s\n", i, st, out);
        CHECK_EQ_INT(st, cases[i].status);
        CHECK(strstr(out, cases[i].says) != NULL);
        if (st == 2)
            CHECK(strstr(out, "(see based-miner --help)") != NULL);
    }
    /* --help documents every flag */
    const char *help[] = { "--help", NULL };
    CHECK_EQ_INT(run_miner(help, out, sizeof out), 0);
    static const char *const all[] = { "--node", "--rpc-cookie", "--brain", "--key", "--wallet-dir",
        "--password-file", "--model", "--compress", "--listen", "--public-host", "--max-fee",
        "--workers", "--max-concurrent", "--log-file", "--help", "--version" };
    for (size_t i = 0; i < BASED_ARRAY_LEN(all); i++)
        CHECK(strstr(out, all[i]) != NULL);
    /* docs/mining.md quotes --help exactly */
    static char doc[65536];
    FILE *f = fopen("docs/mining.md", "r");
    size_t k = f ? fread(doc, 1, sizeof doc - 1, f) : 0;
    doc[k] = '\0';
    if (f)
        fclose(f);
    CHECK(k > 0 && strstr(doc, out) != NULL);
}

TEST(miner_compress_spec)
{
    struct model_compress_opts o;
    char method[16], err[256];
    CHECK_EQ_INT(neuron_miner_parse_compress("cerberus:levels=16,thresh=0.2,alpha=0.25,rounding=floor,activations=off",
                                             &o, method, sizeof method, err, sizeof err), BASED_E_OK);
    CHECK_EQ_STR(o.method, "cerberus");
    CHECK_EQ_INT(o.levels, 16);
    CHECK_NEAR(o.thresh, 0.2, 1e-6);
    CHECK_NEAR(o.alpha, 0.25, 1e-6);
    CHECK(o.floor_mode);
    CHECK(!o.activations);
    CHECK_EQ_INT(neuron_miner_parse_compress("heads:theta=0.05", &o, method, sizeof method, err,
                                             sizeof err), BASED_E_OK);
    CHECK_NEAR(o.theta, 0.05, 1e-6);
    CHECK_EQ_INT(neuron_miner_parse_compress("consensus:shards=9,keep=0.5", &o, method,
                                             sizeof method, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(o.shards, 9);
    CHECK_NEAR(o.keep, 0.5, 1e-6);
    static const char *const ok[] = { "f32", "q8_0", "q4_0", "prime", "cerberus", "heads" };
    for (size_t i = 0; i < BASED_ARRAY_LEN(ok); i++)
        CHECK_EQ_INT(neuron_miner_parse_compress(ok[i], &o, method, sizeof method, err, sizeof err),
                     BASED_E_OK);
    static const char *const bad[] = { "", "zip", "cerberus:", "cerberus:levels", "cerberus:=3",
        "cerberus:levels=1", "cerberus:levels=2.5", "cerberus:levels=abc", "cerberus:rounding=up",
        "consensus:keep=0", "consensus:keep=1.5", "consensus:shards=256", "heads:levels=3",
        "q8_0:theta=1", "cerberus:colour=blue" };
    for (size_t i = 0; i < BASED_ARRAY_LEN(bad); i++) {
        err[0] = '\0';
        CHECK(neuron_miner_parse_compress(bad[i], &o, method, sizeof method, err, sizeof err) != BASED_E_OK);
        CHECK(strstr(err, "--compress") != NULL);
    }
}

static chain_hash id_of(uint32_t i)
{
    chain_hash h;
    crypto_generichash(h.b, sizeof h.b, (const uint8_t *)&i, sizeof i, NULL, 0);
    return h;
}

TEST(miner_replay_cache)
{
    neuron_replay r;
    const uint32_t cap = NEURON_MINER_REPLAY_IDS;
    CHECK_EQ_INT(neuron_replay_init(&r), BASED_E_OK);
    for (uint32_t i = 0; i < 3 * cap + 17; i++) {
        chain_hash h = id_of(i);
        if (neuron_replay_check_add(&r, &h)) {
            test_fail_(__FILE__, __LINE__, "id %u taken for a replay when first seen", i);
            break;
        }
        /* the last `cap` ids are always remembered (a sample of them) */
        for (uint32_t back = 0; back < cap && back <= i; back += cap / 7 + 1) {
            chain_hash old = id_of(i - back);
            if (!neuron_replay_check_add(&r, &old)) {
                test_fail_(__FILE__, __LINE__, "id %u forgotten %u ids later", i - back, back);
                i = 3 * cap + 17;
                break;
            }
        }
    }
    /* memory is bounded: the oldest ids are gone */
    chain_hash first = id_of(0);
    CHECK(!neuron_replay_check_add(&r, &first));
    CHECK(neuron_replay_check_add(&r, &first));
    neuron_replay_free(&r);
}

void test_cheat_catalogue_end_to_end(void);

const struct test_case test_table[] = {
    { "miner_compress_spec", test_miner_compress_spec },
    { "miner_replay_cache", test_miner_replay_cache },
    { "miner_flags", test_miner_flags },
    { "miner_answers_and_refuses", test_miner_answers_and_refuses },
    { "miner_busy_and_sigterm", test_miner_busy_and_sigterm },
    { "miner_survives_node_restart", test_miner_survives_node_restart },
    { "miner_precompressed_file", test_miner_precompressed_file },
    { "cheat_catalogue_end_to_end", test_cheat_catalogue_end_to_end },
    { NULL, NULL },
};
