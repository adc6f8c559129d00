/*
 * Tests of neurons/validator_round.c with the shipped model and real HTTP
 * endpoints (fakeminer.c): challenges (fresh per uid/round/block, signed,
 * fitting the context), every gate of an answer (seal, decode, signature,
 * challenge), and whole rounds: an honest miner scores high, a miner that
 * is down, slow, answers garbage, oversized bodies or HTTP errors gets 0
 * with its gate, copies and replays get 0, and no round outlasts the
 * deadline by much.
 */
#include <time.h>

#include "neurons/answer.h"
#include "neurons/validator.h"
#include "tests/runner.h"
#include "tests/validator/fakeminer.h"
#include "tests/validator/tests.h"

typedef struct {
    model_t *m;
    neuron_val_ctx x;
    uint8_t sk[32];
    struct model_corpus corpus;
} rig;

/* The validator dev2 with the shipped model and the held-out fortunes. */
static int rig_init(rig *r, unsigned deadline_ms)
{
    char err[256];
    memset(r, 0, sizeof *r);
    if (model_load(MODEL_DEFAULT_PATH, &r->m, err, sizeof err) != BASED_E_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    if (model_corpus_load(MODEL_FORTUNES_DIR, 0, &r->corpus, err, sizeof err) != BASED_E_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    r->x.model = r->m;
    r->x.ref = model_state_new(r->m);
    r->x.text = r->corpus.heldout;
    r->x.text_len = r->corpus.n_heldout;
    neuron_challenge_params_default(&r->x.cp);
    neuron_score_params_default(&r->x.sp);
    chain_key_dev(2, r->sk);
    r->x.sk = r->sk;
    chain_key_pub(r->sk, &r->x.addr);
    neuron_box_keys_derive(r->sk, &r->x.box);
    r->x.brain = 7;
    r->x.deadline_ms = deadline_ms;
    return r->x.ref ? 0 : -1;
}

static void rig_free(rig *r)
{
    model_state_free(r->x.ref);
    model_free(r->m);
    model_corpus_free(&r->corpus);
}

static chain_hash block_of(uint8_t seed)
{
    chain_hash h;
    for (int i = 0; i < 32; i++)
        h.b[i] = (uint8_t)(seed * 31 + i);
    return h;
}

TEST(val_challenge_fresh_and_fitting)
{
    rig r;
    CHECK_EQ_INT(rig_init(&r, 1000), 0);
    chain_hash b1 = block_of(1), b2 = block_of(2);
    neuron_challenge a, b;
    const struct model_config *cf = model_config(r.m);
    CHECK_EQ_INT(neuron_val_challenge(&r.x, &b1, 100, 3, 0, &a), BASED_E_OK);
    CHECK(neuron_challenge_verify(&a));
    CHECK_EQ_INT(a.uid, 3);
    CHECK_EQ_INT(a.brain, 7);
    CHECK_EQ_U64(a.height, 100);
    CHECK_EQ_MEM(a.vbox_pk, r.x.box.pk, 32);
    CHECK_EQ_MEM(a.validator.b, r.x.addr.b, 32);
    CHECK(a.n_prompt >= 1 && a.n_prompt <= NEURON_MAX_PROMPT);
    CHECK(a.n_prompt + a.n_gen <= cf->seq_len);
    CHECK(a.n_gen >= 32 && a.n_gen <= 48);
    /* the prompt is a window of the held-out text (byte-level model) */
    char window[NEURON_MAX_PROMPT + 1];
    for (int i = 0; i < a.n_prompt; i++)
        window[i] = (char)a.prompt[i];
    window[a.n_prompt] = '\0';
    bool found = false;
    for (size_t i = 0; !found && i + a.n_prompt <= r.x.text_len; i++)
        found = memcmp(r.x.text + i, window, a.n_prompt) == 0;
    CHECK(found);
    /* the same inputs: the same challenge; any input changed: another */
    CHECK_EQ_INT(neuron_val_challenge(&r.x, &b1, 100, 3, 0, &b), BASED_E_OK);
    chain_hash ia = neuron_challenge_id(&a), ib = neuron_challenge_id(&b);
    CHECK_EQ_MEM(ia.b, ib.b, 32);
    const struct { const chain_hash *blk; uint64_t h; uint16_t uid; uint32_t round; } v[] = {
        { &b2, 100, 3, 0 }, { &b1, 101, 3, 0 }, { &b1, 100, 4, 0 }, { &b1, 100, 3, 1 },
    };
    for (size_t i = 0; i < BASED_ARRAY_LEN(v); i++) {
        CHECK_EQ_INT(neuron_val_challenge(&r.x, v[i].blk, v[i].h, v[i].uid, v[i].round, &b),
                     BASED_E_OK);
        ib = neuron_challenge_id(&b);
        CHECK(memcmp(ia.b, ib.b, 32) != 0);
        CHECK(b.seed != a.seed);
    }
    /* a text too short for a prompt is refused, not read past */
    neuron_val_ctx y = r.x;
    y.text_len = (size_t)y.cp.max_prompt_bytes;
    CHECK_EQ_INT(neuron_val_challenge(&y, &b1, 100, 3, 0, &b), BASED_E_BAD_PARAM);
    rig_free(&r);
}

/* Seals answer a (signed with sk) to pk; returns the sealed length. */
static size_t seal_answer(neuron_answer *a, const uint8_t sk[32], const uint8_t pk[32],
                          uint8_t *out)
{
    uint8_t *enc = malloc(NEURON_ANSWER_MAX);
    size_t n = 0;
    neuron_answer_sign(a, sk);
    neuron_answer_encode(a, enc, NEURON_ANSWER_MAX, &n);
    neuron_seal(enc, n, pk, out);
    free(enc);
    return n + NEURON_SEAL_OVERHEAD;
}

TEST(val_open_gates)
{
    rig r;
    CHECK_EQ_INT(rig_init(&r, 1000), 0);
    chain_hash b1 = block_of(1);
    neuron_challenge c, c2;
    uint8_t msk[32], *box = malloc(NEURON_RESPONSE_BODY_MAX);
    chain_addr maddr;
    char why[128];
    chain_key_dev(3, msk);
    chain_key_pub(msk, &maddr);
    neuron_answer *a = calloc(1, sizeof *a), *got = calloc(1, sizeof *got);
    CHECK_EQ_INT(neuron_val_challenge(&r.x, &b1, 100, 3, 0, &c), BASED_E_OK);
    CHECK_EQ_INT(neuron_val_challenge(&r.x, &b1, 100, 3, 1, &c2), BASED_E_OK);
    model_state *ms = model_state_new(r.m);
    CHECK_EQ_INT(neuron_answer_generate(ms, &c, a), BASED_E_OK);
    a->id = neuron_challenge_id(&c);
    a->miner = maddr;
    size_t n = seal_answer(a, msk, r.x.box.pk, box);
    CHECK_EQ_INT(neuron_val_open(&r.x, box, n, &c, &maddr, got, why, sizeof why), NEURON_GATE_OK);
    CHECK_EQ_INT(got->n, c.n_gen);
    CHECK_EQ_MEM(got->tokens, a->tokens, a->n * sizeof a->tokens[0]);
    /* the reference scores it as a perfect answer */
    neuron_score sc;
    CHECK_EQ_INT(neuron_score_answer(r.x.ref, &c, got, 10, 1000, &r.x.sp, &sc), BASED_E_OK);
    CHECK_EQ_INT(sc.gate, NEURON_GATE_OK);
    CHECK(sc.score > 0.9);
    CHECK_NEAR(sc.kl, 0, 1e-9);
    /* too short / too long / not sealed to us */
    CHECK_EQ_INT(neuron_val_open(&r.x, box, 47, &c, &maddr, got, why, sizeof why), NEURON_GATE_SEAL);
    CHECK_EQ_INT(neuron_val_open(&r.x, box, NEURON_RESPONSE_BODY_MAX + 1, &c, &maddr, got, why,
                                 sizeof why), NEURON_GATE_SEAL);
    uint8_t other_pk[32];
    memcpy(other_pk, r.x.box.pk, 32);
    other_pk[3] ^= 1;
    size_t n2 = seal_answer(a, msk, other_pk, box);
    CHECK_EQ_INT(neuron_val_open(&r.x, box, n2, &c, &maddr, got, why, sizeof why), NEURON_GATE_SEAL);
    /* sealed to us but not an answer */
    uint8_t junk[64];
    memset(junk, 0x41, sizeof junk);
    neuron_seal(junk, sizeof junk, r.x.box.pk, box);
    CHECK_EQ_INT(neuron_val_open(&r.x, box, sizeof junk + NEURON_SEAL_OVERHEAD, &c, &maddr, got,
                                 why, sizeof why), NEURON_GATE_DECODE);
    CHECK(why[0] != '\0');
    /* signed by another account, or naming another miner */
    uint8_t osk[32];
    chain_key_dev(9, osk);
    n = seal_answer(a, osk, r.x.box.pk, box);
    CHECK_EQ_INT(neuron_val_open(&r.x, box, n, &c, &maddr, got, why, sizeof why),
                 NEURON_GATE_SIGNATURE);
    chain_addr oaddr;
    chain_key_pub(osk, &oaddr);
    n = seal_answer(a, msk, r.x.box.pk, box);
    CHECK_EQ_INT(neuron_val_open(&r.x, box, n, &c, &oaddr, got, why, sizeof why),
                 NEURON_GATE_SIGNATURE);
    /* an answer to another challenge (a replay of round 0 in round 1) */
    CHECK_EQ_INT(neuron_val_open(&r.x, box, n, &c2, &maddr, got, why, sizeof why),
                 NEURON_GATE_CHALLENGE);
    model_state_free(ms);
    free(a);
    free(got);
    free(box);
    rig_free(&r);
}

/* A metagraph row for miner f at uid (served at its port). */
static neuron_info row(int uid, const fake_miner *f)
{
    neuron_info n;
    memset(&n, 0, sizeof n);
    n.uid = uid;
    n.addr = *fm_addr(f);
    chain_ss58_encode(CHAIN_SS58_DEFAULT_PREFIX, &n.addr, n.ss58);
    n.served = true;
    snprintf(n.host, sizeof n.host, "127.0.0.1");
    n.port = (uint16_t)fm_port(f);
    memcpy(n.x25519, fm_box_pk(f), 32);
    return n;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const neuron_val_result *by_uid(const neuron_val_result *r, size_t n, int uid)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].uid == uid)
            return &r[i];
    return NULL;
}

TEST(val_round_answers_and_failures)
{
    rig r;
    const unsigned deadline = 1500;
    CHECK_EQ_INT(rig_init(&r, deadline), 0);
    static const fm_mode modes[] = { FM_HONEST, FM_GARBAGE, FM_OVERSIZED, FM_SLOW, FM_HTTP500,
                                     FM_HONEST };
    fake_miner *f[BASED_ARRAY_LEN(modes)];
    neuron_info l[BASED_ARRAY_LEN(modes) + 2];
    size_t nl = 0;
    for (size_t i = 0; i < BASED_ARRAY_LEN(modes); i++) {
        f[i] = fm_start(r.m, (unsigned)(i < 2 ? i : i + 1), modes[i]);   /* not dev2 */
        CHECK(f[i] != NULL);
        l[nl++] = row((int)i, f[i]);
    }
    /* the last one is down: its port closed */
    fm_stop(f[5]);
    f[5] = NULL;
    /* the validator itself and an unserved miner are not challenged */
    l[nl] = l[0];
    l[nl].uid = 6, l[nl].validator = true, nl++;
    l[nl] = l[1];
    l[nl].uid = 7, l[nl].served = false, nl++;
    chain_hash b1 = block_of(1);
    neuron_val_result *res;
    size_t n;
    char err[CLI_ERR_LEN];
    double t0 = now_ms();
    CHECK_EQ_INT(neuron_val_round(&r.x, &b1, 100, 0, l, nl, &res, &n, err), BASED_E_OK);
    double took = now_ms() - t0;
    CHECK_EQ_INT(n, 6);
    CHECK(by_uid(res, n, 6) == NULL && by_uid(res, n, 7) == NULL);
    const neuron_val_result *h = by_uid(res, n, 0);
    CHECK(h != NULL);
    if (h->sc.gate != NEURON_GATE_OK)
        fprintf(stderr, "honest: gate %s worst rank %d agree %g kl %g\n",
                neuron_gate_name(h->sc.gate), h->sc.worst_rank, h->sc.agree, h->sc.kl);
    CHECK_EQ_INT(h->sc.gate, NEURON_GATE_OK);
    CHECK(h->sc.score > 0.9);
    CHECK(h->latency_ms > 0 && h->latency_ms < deadline);
    CHECK_NEAR(h->sc.kl, 0, 1e-9);
    static const int gates[] = { NEURON_GATE_OK, NEURON_GATE_SEAL, NEURON_GATE_DECODE,
                                 NEURON_GATE_TIMEOUT, NEURON_GATE_NO_ANSWER,
                                 NEURON_GATE_NO_ANSWER };
    for (int u = 1; u < 6; u++) {
        const neuron_val_result *x = by_uid(res, n, u);
        CHECK(x != NULL);
        if (x->sc.gate != gates[u])
            fprintf(stderr, "uid %d: gate %s (%s)\n", u, neuron_gate_name(x->sc.gate), x->why);
        CHECK_EQ_INT(x->sc.gate, gates[u]);
        CHECK_NEAR(x->sc.score, 0, 0);
        CHECK(x->why[0] != '\0');
        CHECK(x->a == NULL);
    }
    const neuron_val_result *big = by_uid(res, n, 2), *e500 = by_uid(res, n, 4);
    CHECK(big && e500);
    CHECK(strstr(big->why, "over") != NULL);      /* oversized, aborted */
    CHECK(strstr(e500->why, "500") != NULL);
    /* the slow miner did not hold the round much past the deadline */
    fprintf(stderr, "round of 6 endpoints: %.0f ms (deadline %u)\n", took, deadline);
    CHECK(took < deadline + 1500);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(fm_requests(f[i]), 1);
    neuron_val_results_free(res, n);
    for (size_t i = 0; i < BASED_ARRAY_LEN(modes); i++)
        fm_stop(f[i]);
    rig_free(&r);
}

TEST(val_round_cheats_and_replay)
{
    rig r;
    CHECK_EQ_INT(rig_init(&r, 3000), 0);
    static const fm_mode modes[] = { FM_HONEST, FM_WRONG_SEAL, FM_BAD_SIG, FM_FIXED, FM_FIXED,
                                     FM_REPLAY };
    fake_miner *f[BASED_ARRAY_LEN(modes)];
    neuron_info l[BASED_ARRAY_LEN(modes)];
    for (size_t i = 0; i < BASED_ARRAY_LEN(modes); i++) {
        f[i] = fm_start(r.m, (unsigned)(i < 2 ? i : i + 1), modes[i]);
        CHECK(f[i] != NULL);
        l[i] = row((int)(10 + i), f[i]);
    }
    static const int gates[] = { NEURON_GATE_OK, NEURON_GATE_SEAL, NEURON_GATE_SIGNATURE,
                                 NEURON_GATE_DUPLICATE, NEURON_GATE_DUPLICATE, NEURON_GATE_OK };
    neuron_val_result *res;
    size_t n;
    char err[CLI_ERR_LEN];
    for (uint32_t round = 0; round < 2; round++) {
        chain_hash b = block_of((uint8_t)(1 + round));
        CHECK_EQ_INT(neuron_val_round(&r.x, &b, 100 + 5 * round, round, l, BASED_ARRAY_LEN(l),
                                      &res, &n, err), BASED_E_OK);
        CHECK_EQ_INT(n, BASED_ARRAY_LEN(modes));
        for (size_t i = 0; i < n; i++) {
            int want = gates[i];
            if (i == 5 && round == 1)
                want = NEURON_GATE_CHALLENGE;   /* round 0's answer again */
            if (res[i].sc.gate != want)
                fprintf(stderr, "round %u uid %d: gate %s (%s)\n", round, res[i].uid,
                        neuron_gate_name(res[i].sc.gate), res[i].why);
            CHECK_EQ_INT(res[i].sc.gate, want);
            if (want == NEURON_GATE_OK)
                CHECK(res[i].sc.score > 0.9);
            else
                CHECK_NEAR(res[i].sc.score, 0, 0);
        }
        neuron_val_results_free(res, n);
    }
    for (size_t i = 0; i < BASED_ARRAY_LEN(modes); i++)
        fm_stop(f[i]);
    rig_free(&r);
}
