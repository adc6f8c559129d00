/*
 * cheat_miner.c: based-cheat-miner, the test-only cheating miner of the
 * cheat catalogue (tests/miner/catalogue_test.c). It is the real miner
 * (neurons/miner.h: registration, serve, sealed HTTP, workers) with the
 * answer step, or the bytes on the wire, replaced by one cheat:
 *
 *   based-cheat-miner --cheat MODE [--share FILE] [--slow-ms MS] [based-miner flags]
 *
 *   random repeat temp15 greedy zero-lp copy-lp skip-top
 *             the answers of tests/neurons/cheats.c
 *   honest-share  honest, and writes each answer's encoding to --share FILE
 *             (the colluder of "copy")
 *   copy      answers with the tokens and log-probabilities of the latest
 *             answer in --share FILE (another miner's), cut or cycled to the
 *             asked length, signed as its own
 *   replay    answers every challenge with its first answer, verbatim
 *   badsig    honest answer signed by another key
 *   slow      honest answer after --slow-ms (past the validator's deadline)
 *   garbage   random bytes of the sealed answer's length
 *   oversized random bytes, larger than any answer may be
 *   unsealed  the signed answer's encoding, not sealed
 *
 * It is not a flag of based-miner: the product has no way to cheat.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <time.h>

#include "neurons/answer.h"
#include "neurons/miner.h"
#include "tests/neurons/cheats.h"

typedef struct {
    const char *mode;
    const char *share;
    unsigned slow_ms;
    pthread_mutex_t mu;
    bool have_first;
    neuron_answer first;         /* replay: the first answer, signed */
} cheat;

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void write_share(const char *path, const neuron_answer *a)
{
    uint8_t *buf = malloc(NEURON_ANSWER_MAX);
    size_t len;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (buf && neuron_answer_encode(a, buf, NEURON_ANSWER_MAX, &len) == BASED_E_OK) {
        FILE *f = fopen(tmp, "wb");
        if (f && fwrite(buf, 1, len, f) == len && fclose(f) == 0)
            rename(tmp, path);
        else if (f)
            fclose(f);
    }
    free(buf);
}

/* The latest shared answer, or false. */
static bool read_share(const char *path, neuron_answer *a)
{
    uint8_t *buf = malloc(NEURON_ANSWER_MAX + 1);
    FILE *f = buf ? fopen(path, "rb") : NULL;
    size_t len = f ? fread(buf, 1, NEURON_ANSWER_MAX + 1, f) : 0;
    char why[128];
    bool ok = f && neuron_answer_decode(buf, len, a, why, sizeof why) == BASED_E_OK;
    if (f)
        fclose(f);
    free(buf);
    return ok;
}

static based_err answer(void *user, const neuron_miner_worker *w, const neuron_challenge *c,
                        neuron_answer *a, bool *sign)
{
    cheat *ch = user;
    const char *m = ch->mode;
    if (cheat_mode_known(m)) {
        uint64_t rng = c->seed ^ 0x5eedc4ea7ull;
        return cheat_answer(m, w->state, c, a, &rng) == 0 ? BASED_E_OK : BASED_E_BAD_PARAM;
    }
    if (!strcmp(m, "copy")) {
        neuron_answer *other = malloc(sizeof *other);
        if (!other)
            return BASED_E_NOMEM;
        if (read_share(ch->share, other) && other->n && other->k == c->topk) {
            /* the other miner's tokens and rows, cut or cycled to our length */
            a->n = c->n_gen;
            a->k = other->k;
            for (unsigned i = 0; i < a->n; i++) {
                unsigned j = i % other->n;
                a->tokens[i] = other->tokens[j];
                memcpy(&a->topk[(size_t)i * a->k], &other->topk[(size_t)j * a->k],
                       a->k * sizeof a->topk[0]);
            }
        }
        free(other);
        return BASED_E_OK;   /* nothing shared yet: an empty answer */
    }
    if (!strcmp(m, "slow"))
        sleep_ms(ch->slow_ms);
    based_err rc = neuron_answer_generate(w->state, c, a);
    if (rc != BASED_E_OK)
        return rc;
    if (!strcmp(m, "honest-share")) {
        write_share(ch->share, a);
    } else if (!strcmp(m, "badsig")) {
        uint8_t other[32];
        randombytes_buf(other, sizeof other);
        *sign = false;
        rc = neuron_answer_sign(a, other);   /* a valid signature, by a key not the miner's */
        sodium_memzero(other, sizeof other);
    } else if (!strcmp(m, "replay")) {
        pthread_mutex_lock(&ch->mu);
        if (!ch->have_first) {
            a->elapsed_us = 1;   /* set before signing: the miner fills a 0 afterwards */
            rc = neuron_answer_sign(a, w->key->sk);
            ch->first = *a;
            ch->have_first = rc == BASED_E_OK;
        }
        *a = ch->first;
        pthread_mutex_unlock(&ch->mu);
        *sign = false;
    }
    return rc;
}

static void *cheat_user;

static void wire(void *user, const uint8_t *plain, size_t plain_len, uint8_t **body,
                 size_t *body_len)
{
    const cheat *ch = user;
    size_t n = 0;
    if (!strcmp(ch->mode, "garbage"))
        n = *body_len;
    else if (!strcmp(ch->mode, "oversized"))
        n = NEURON_RESPONSE_BODY_MAX + 4096;
    else if (!strcmp(ch->mode, "unsealed"))
        n = plain_len;
    else
        return;
    uint8_t *b = malloc(n);
    if (!b)
        return;
    if (!strcmp(ch->mode, "unsealed"))
        memcpy(b, plain, n);
    else
        randombytes_buf(b, n);
    free(*body);
    *body = b;
    *body_len = n;
}

static const char *const WIRE_MODES[] = { "garbage", "oversized", "unsealed" };
static const char *const OWN_MODES[] = { "honest-share", "copy", "replay", "badsig", "slow" };

static bool mode_known(const char *m)
{
    if (cheat_mode_known(m))
        return true;
    for (size_t i = 0; i < BASED_ARRAY_LEN(WIRE_MODES); i++)
        if (!strcmp(m, WIRE_MODES[i]))
            return true;
    for (size_t i = 0; i < BASED_ARRAY_LEN(OWN_MODES); i++)
        if (!strcmp(m, OWN_MODES[i]))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    static cheat ch = { .slow_ms = 5000 };
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int nr = 0;
    if (!rest)
        return 1;
    rest[nr++] = argv[0];
    for (int i = 1; i < argc; i++) {
        bool val = i + 1 < argc;
        if (!strcmp(argv[i], "--cheat") && val)
            ch.mode = argv[++i];
        else if (!strcmp(argv[i], "--share") && val)
            ch.share = argv[++i];
        else if (!strcmp(argv[i], "--slow-ms") && val)
            ch.slow_ms = (unsigned)strtoul(argv[++i], NULL, 10);
        else
            rest[nr++] = argv[i];
    }
    if (!ch.mode || !mode_known(ch.mode)) {
        fprintf(stderr, "based-cheat-miner: --cheat MODE is required and must be a known mode\n");
        free(rest);
        return 2;
    }
    if ((!strcmp(ch.mode, "copy") || !strcmp(ch.mode, "honest-share")) && !ch.share) {
        fprintf(stderr, "based-cheat-miner: --cheat %s needs --share FILE\n", ch.mode);
        free(rest);
        return 2;
    }
    pthread_mutex_init(&ch.mu, NULL);
    cheat_user = &ch;
    neuron_miner_set_wire_hook(wire, cheat_user);
    int st = neuron_miner_main(nr, rest, answer, &ch);
    free(rest);
    return st;
}
