/*
 * fakeminer.c: the validator tests' miner endpoints (fakeminer.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "chain/crypto.h"
#include "neurons/answer.h"
#include "tests/validator/fakeminer.h"

struct fake_miner {
    const model_t *model;
    model_state *s;
    fm_mode mode;
    uint8_t sk[32];
    chain_addr addr;
    neuron_box_keys box;
    int fd, port;
    pthread_t th;
    atomic_int stop, requests;
    uint8_t first[NEURON_RESPONSE_BODY_MAX];   /* FM_REPLAY: the first sealed answer */
    size_t first_len;
};

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

static void reply(int fd, int status, const uint8_t *body, size_t n)
{
    char h[160];
    int l = snprintf(h, sizeof h, "HTTP/1.1 %d %s\r\nContent-Type: application/octet-stream\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n", status,
                     status == 200 ? "OK" : "Error", n);
    send_all(fd, h, (size_t)l);
    if (n)
        send_all(fd, body, n);
}

/* Reads one request's body (at most cap bytes) into body; -1 on error. */
static long read_request(int fd, uint8_t *body, size_t cap)
{
    char hdr[8192];
    size_t n = 0;
    char *end = NULL;
    while (!end) {
        if (n == sizeof hdr - 1)
            return -1;
        ssize_t r = recv(fd, hdr + n, sizeof hdr - 1 - n, 0);
        if (r <= 0)
            return -1;
        n += (size_t)r;
        hdr[n] = '\0';
        end = strstr(hdr, "\r\n\r\n");
    }
    for (char *p = hdr; p < end; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    const char *cl = strstr(hdr, "content-length:");
    size_t want = cl ? strtoul(cl + 15, NULL, 10) : 0, have = n - (size_t)(end + 4 - hdr);
    if (want > cap || have > want)
        return -1;
    memcpy(body, end + 4, have);
    while (have < want) {
        ssize_t r = recv(fd, body + have, want - have, 0);
        if (r <= 0)
            return -1;
        have += (size_t)r;
    }
    return (long)want;
}

/* The honest answer to the sealed challenge in req, sealed into out. */
static size_t honest(fake_miner *f, const uint8_t *req, size_t n, uint8_t *out, bool wrong_seal,
                     bool bad_sig, bool fixed)
{
    uint8_t plain[NEURON_CHALLENGE_MAX], *enc = malloc(NEURON_ANSWER_MAX);
    size_t pl, el = 0;
    char why[96];
    neuron_challenge c;
    neuron_answer *a = calloc(1, sizeof *a);
    if (!enc || !a || n > NEURON_REQUEST_BODY_MAX ||
        neuron_open(req, n, &f->box, plain, &pl) != BASED_E_OK ||
        neuron_challenge_decode(plain, pl, &c, why, sizeof why) != BASED_E_OK ||
        neuron_answer_generate(f->s, &c, a) != BASED_E_OK)
        goto out;
    if (fixed) {   /* always the same 32 tokens (n_gen is 32 or more) */
        a->n = 32;
        for (int i = 0; i < a->n; i++)
            a->tokens[i] = 'e';
    }
    a->id = neuron_challenge_id(&c);
    a->miner = f->addr;
    a->elapsed_us = 1000;
    uint8_t other[32];
    chain_key_dev(9, other);
    neuron_answer_sign(a, bad_sig ? other : f->sk);
    if (neuron_answer_encode(a, enc, NEURON_ANSWER_MAX, &el) != BASED_E_OK) {
        el = 0;
        goto out;
    }
    uint8_t pk[32];
    memcpy(pk, c.vbox_pk, 32);
    if (wrong_seal)
        pk[0] ^= 0x55;
    if (neuron_seal(enc, el, pk, out) != BASED_E_OK)
        el = 0;
    else
        el += NEURON_SEAL_OVERHEAD;
out:
    free(enc);
    free(a);
    return el;
}

static void serve_one(fake_miner *f, int fd)
{
    uint8_t *req = malloc(NEURON_REQUEST_BODY_MAX), *out = malloc(NEURON_RESPONSE_BODY_MAX + 4096);
    long n = req && out ? read_request(fd, req, NEURON_REQUEST_BODY_MAX) : -1;
    size_t ol = 0;
    if (n < 0)
        goto done;
    atomic_fetch_add(&f->requests, 1);
    switch (f->mode) {
    case FM_GARBAGE:
        randombytes_buf(out, 300);
        reply(fd, 200, out, 300);
        break;
    case FM_OVERSIZED:
        memset(out, 'x', NEURON_RESPONSE_BODY_MAX + 4096);
        reply(fd, 200, out, NEURON_RESPONSE_BODY_MAX + 4096);
        break;
    case FM_HTTP500:
        reply(fd, 500, NULL, 0);
        break;
    case FM_REPLAY:
        if (f->first_len) {
            reply(fd, 200, f->first, f->first_len);
            break;
        }
        ol = honest(f, req, (size_t)n, out, false, false, false);
        memcpy(f->first, out, ol);
        f->first_len = ol;
        reply(fd, ol ? 200 : 400, out, ol);
        break;
    default:
        ol = honest(f, req, (size_t)n, out, f->mode == FM_WRONG_SEAL, f->mode == FM_BAD_SIG,
                    f->mode == FM_FIXED);
        if (f->mode == FM_SLOW) {
            struct timespec ts = { 4, 0 };
            nanosleep(&ts, NULL);
        }
        reply(fd, ol ? 200 : 400, out, ol);
        break;
    }
done:
    free(req);
    free(out);
}

static void *loop(void *arg)
{
    fake_miner *f = arg;
    while (!atomic_load(&f->stop)) {
        int c = accept(f->fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        serve_one(f, c);
        close(c);
    }
    return NULL;
}

fake_miner *fm_start(const model_t *m, unsigned dev, fm_mode mode)
{
    fake_miner *f = calloc(1, sizeof *f);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (!f)
        return NULL;
    f->model = m;
    f->mode = mode;
    chain_key_dev(dev, f->sk);
    chain_key_pub(f->sk, &f->addr);
    neuron_box_keys_derive(f->sk, &f->box);
    f->s = model_state_new(m);
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(f->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (!f->s || f->fd < 0 || bind(f->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(f->fd, 16) != 0 || getsockname(f->fd, (struct sockaddr *)&a, &len) != 0 ||
        pthread_create(&f->th, NULL, loop, f) != 0) {
        if (f->fd >= 0)
            close(f->fd);
        model_state_free(f->s);
        free(f);
        return NULL;
    }
    f->port = ntohs(a.sin_port);
    return f;
}

void fm_stop(fake_miner *f)
{
    if (!f)
        return;
    atomic_store(&f->stop, 1);
    shutdown(f->fd, SHUT_RDWR);
    pthread_join(f->th, NULL);
    close(f->fd);
    model_state_free(f->s);
    free(f);
}

int fm_port(const fake_miner *f)
{
    return f->port;
}

const uint8_t *fm_box_pk(const fake_miner *f)
{
    return f->box.pk;
}

const chain_addr *fm_addr(const fake_miner *f)
{
    return &f->addr;
}

int fm_requests(const fake_miner *f)
{
    return atomic_load(&f->requests);
}
