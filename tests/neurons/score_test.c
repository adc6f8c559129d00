/*
 * score_test.c: the honest answer and each gate of the score, on the
 * default model. The calibration against compressions, a substituted model
 * and the cheat catalogue is in calib_test.c.
 */
#include <math.h>

#include "tests/runner.h"
#include "tests/neurons/list.h"
#include "tests/neurons/util.h"
#include "tests/neurons/cheats.h"
#include "neurons/answer.h"
#include "neurons/score.h"
#include "chain/base.h"

#define DECL(name) void test_##name(void);
#define ROW(name) { #name, test_##name },
NEURON_TESTS(DECL)
const struct test_case test_table[] = {
    NEURON_TESTS(ROW)
    { NULL, NULL } };

/* The default model, a state on it, one challenge on held-out text and the
 * honest f32 answer to it. */
struct fx {
    model_t *m;
    model_state *s;
    neuron_challenge c;
    neuron_answer a;
    neuron_score_params p;
};

static struct fx *fx_new(uint64_t seed)
{
    struct fx *f = calloc(1, sizeof *f);
    struct model_corpus corp;
    char err[256];
    if (!f || !(f->m = nt_default_model()) || !(f->s = model_state_new(f->m)) ||
        model_corpus_load(MODEL_FORTUNES_DIR, 0, &corp, err, sizeof err)) {
        free(f);
        return NULL;
    }
    uint64_t rng = seed;
    nt_challenge(f->m, corp.heldout, corp.n_heldout, &rng, &f->c);
    model_corpus_free(&corp);
    neuron_score_params_default(&f->p);
    if (neuron_answer_generate(f->s, &f->c, &f->a)) {
        model_state_free(f->s);
        model_free(f->m);
        free(f);
        return NULL;
    }
    return f;
}

static void fx_free(struct fx *f)
{
    if (f) {
        model_state_free(f->s);
        model_free(f->m);
        free(f);
    }
}

/* The gate answer b gets on the fixture's challenge. */
static int gate_of(struct fx *f, const neuron_answer *b)
{
    neuron_score sc;
    if (neuron_score_answer(f->s, &f->c, b, 0, 1000, &f->p, &sc))
        return -1;
    if (sc.gate != NEURON_GATE_OK && (sc.score != 0 || sc.quality != 0))
        return -2;   /* a gated answer must score 0 */
    return sc.gate;
}

TEST(neuron_answer_shape)
{
    struct fx *f = fx_new(1);
    CHECK(f);
    CHECK_EQ_INT(f->a.n, f->c.n_gen);
    CHECK_EQ_INT(f->a.k, 8);
    CHECK(f->c.n_gen >= 32 && f->c.n_gen <= 48);
    for (int t = 0; t < f->a.n; t++) {
        CHECK(f->a.tokens[t] >= 0 && f->a.tokens[t] < 256);
        double sum = 0;
        for (int j = 0; j < f->a.k; j++) {
            const neuron_lp *l = &f->a.topk[t * f->a.k + j];
            CHECK(l->logprob <= 0 && isfinite(l->logprob));
            CHECK(j == 0 || l->logprob <= l[-1].logprob);
            sum += exp(l->logprob);
        }
        CHECK(sum <= 1 + 1e-6);
    }
    /* the same challenge gives the same answer; another seed another one */
    neuron_answer b;
    CHECK_EQ_INT(neuron_answer_generate(f->s, &f->c, &b), BASED_E_OK);
    CHECK_EQ_MEM(b.tokens, f->a.tokens, f->a.n * sizeof b.tokens[0]);
    CHECK_EQ_MEM(b.topk, f->a.topk, (size_t)f->a.n * f->a.k * sizeof b.topk[0]);
    f->c.seed ^= 1;
    CHECK_EQ_INT(neuron_answer_generate(f->s, &f->c, &b), BASED_E_OK);
    CHECK(memcmp(b.tokens, f->a.tokens, f->a.n * sizeof b.tokens[0]) != 0);
    fx_free(f);
}

TEST(neuron_answer_context)
{
    struct fx *f = fx_new(2);
    CHECK(f);
    neuron_answer b;
    neuron_challenge c = f->c;
    c.n_gen = (uint16_t)(128 - c.n_prompt);   /* exactly the context: fine */
    CHECK_EQ_INT(neuron_answer_generate(f->s, &c, &b), BASED_E_OK);
    CHECK_EQ_INT(b.n, c.n_gen);
    c.n_gen++;
    CHECK_EQ_INT(neuron_answer_generate(f->s, &c, &b), BASED_E_BAD_PARAM);
    c = f->c;
    c.topk = 0;
    CHECK_EQ_INT(neuron_answer_generate(f->s, &c, &b), BASED_E_BAD_PARAM);
    c.topk = NEURON_MAX_TOPK + 1;
    CHECK_EQ_INT(neuron_answer_generate(f->s, &c, &b), BASED_E_BAD_PARAM);
    c = f->c;
    c.prompt[0] = 256;
    CHECK_EQ_INT(neuron_answer_generate(f->s, &c, &b), BASED_E_BAD_PARAM);
    c = f->c;
    c.n_prompt = 0;
    CHECK_EQ_INT(neuron_answer_generate(f->s, &c, &b), BASED_E_BAD_PARAM);
    c = f->c;
    c.n_gen = NEURON_MAX_GEN + 1;
    CHECK_EQ_INT(neuron_answer_generate(f->s, &c, &b), BASED_E_BAD_PARAM);
    fx_free(f);
}

/* An honest f32 miner matches the reference bit for bit: KL exactly 0,
 * agreement exactly 1, quality 1, over several challenges and samplers. */
TEST(neuron_score_honest_exact)
{
    struct fx *f = fx_new(3);
    CHECK(f);
    static const uint16_t temps[] = { 800, 0, 300, 1000, 1500 };
    for (int i = 0; i < 10; i++) {
        f->c.seed = 1000 + (uint64_t)i;
        f->c.temp_milli = temps[i % 5];
        f->c.top_k = i == 7 ? 5 : 0;
        f->c.top_p_milli = i == 8 ? 900 : 1000;
        CHECK_EQ_INT(neuron_answer_generate(f->s, &f->c, &f->a), BASED_E_OK);
        neuron_score sc;
        CHECK_EQ_INT(neuron_score_answer(f->s, &f->c, &f->a, 0, 1000, &f->p, &sc), BASED_E_OK);
        CHECK_EQ_INT(sc.gate, NEURON_GATE_OK);
        CHECK(sc.kl == 0);
        CHECK(sc.agree == 1);
        CHECK(sc.fidelity == 1 && sc.quality == 1 && sc.speed == 1 && sc.score == 1);
        CHECK_EQ_INT(sc.positions, f->c.n_gen);
        CHECK(sc.worst_rank >= 1);
    }
    fx_free(f);
}

TEST(neuron_gate_length)
{
    struct fx *f = fx_new(4);
    CHECK(f);
    neuron_answer b = f->a;
    b.n--;
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_LENGTH);
    b.n = (uint16_t)(f->a.n + 1);
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_LENGTH);
    b = f->a;
    b.k = 4;
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_LENGTH);
    b.k = 0;
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_LENGTH);
    b.n = 0;
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_LENGTH);
    CHECK_EQ_INT(gate_of(f, &f->a), NEURON_GATE_OK);
    fx_free(f);
}

TEST(neuron_gate_vocab)
{
    struct fx *f = fx_new(5);
    CHECK(f);
    neuron_answer b = f->a;
    b.tokens[3] = 256;
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_VOCAB);
    b.tokens[3] = -1;
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_VOCAB);
    b = f->a;
    b.tokens[b.n - 1] = 1 << 20;
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_VOCAB);
    b = f->a;
    b.topk[5 * b.k + 7].token = 256;
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_VOCAB);
    b.topk[5 * b.k + 7].token = -5;
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_VOCAB);
    fx_free(f);
}

TEST(neuron_gate_logprobs)
{
    struct fx *f = fx_new(6);
    CHECK(f);
    int k = f->a.k;
    neuron_answer b = f->a;
    neuron_lp *r = &b.topk[2 * k];
    neuron_lp t = r[1];   /* unsorted */
    r[1] = r[2];
    r[2] = t;
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_LOGPROBS);
    b = f->a;
    r = &b.topk[2 * k];
    r[3].token = r[0].token;   /* duplicate token */
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_LOGPROBS);
    b = f->a;
    b.topk[0].logprob = 0.01f;   /* positive */
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_LOGPROBS);
    b = f->a;
    b.topk[k * 10 + 4].logprob = NAN;
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_LOGPROBS);
    b = f->a;
    b.topk[k * 10 + 7].logprob = -INFINITY;
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_LOGPROBS);
    b = f->a;
    b.topk[0].logprob = INFINITY;
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_LOGPROBS);
    b = f->a;   /* eight cells of 0.2 each: 1.6 in all */
    for (int j = 0; j < k; j++)
        b.topk[k * 7 + j].logprob = logf(0.2f);
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_LOGPROBS);
    b = f->a;   /* 0.6 + 0.5: just over 1 */
    b.topk[k].logprob = logf(0.6f);
    b.topk[k + 1].logprob = logf(0.5f);
    for (int j = 2; j < k; j++)
        b.topk[k + j].logprob = -30;
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_LOGPROBS);
    b.topk[k + 1].logprob = logf(0.39f);   /* 0.99: well-formed, if wrong */
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_OK);
    fx_free(f);
}

TEST(neuron_gate_context)
{
    struct fx *f = fx_new(7);
    CHECK(f);
    neuron_challenge c = f->c;
    neuron_answer b = f->a;
    c.n_prompt = (uint16_t)(128 - c.n_gen + 1);   /* one over the context */
    for (int i = f->c.n_prompt; i < c.n_prompt; i++)
        c.prompt[i] = ' ';
    neuron_score sc;
    CHECK_EQ_INT(neuron_score_answer(f->s, &c, &b, 0, 1000, &f->p, &sc), BASED_E_OK);
    CHECK_EQ_INT(sc.gate, NEURON_GATE_CONTEXT);
    CHECK(sc.score == 0);
    c.n_prompt--;   /* exactly the context */
    CHECK_EQ_INT(neuron_score_answer(f->s, &c, &b, 0, 1000, &f->p, &sc), BASED_E_OK);
    CHECK(sc.gate != NEURON_GATE_CONTEXT);
    c = f->c;
    c.prompt[0] = 300;
    CHECK_EQ_INT(neuron_score_answer(f->s, &c, &b, 0, 1000, &f->p, &sc), BASED_E_OK);
    CHECK_EQ_INT(sc.gate, NEURON_GATE_CONTEXT);
    c = f->c;
    c.n_prompt = 0;
    CHECK_EQ_INT(neuron_score_answer(f->s, &c, &b, 0, 1000, &f->p, &sc), BASED_E_OK);
    CHECK_EQ_INT(sc.gate, NEURON_GATE_CONTEXT);
    fx_free(f);
}

/* A token the reference ranks below top-R fails the whole answer; the same
 * token at a rank within R does not. */
TEST(neuron_gate_rank)
{
    struct fx *f = fx_new(8);
    CHECK(f);
    neuron_score sc;
    CHECK_EQ_INT(neuron_score_answer(f->s, &f->c, &f->a, 0, 1000, &f->p, &sc), BASED_E_OK);
    int limit = f->p.rank_base + (int)(f->p.rank_per_temp * 0.3);
    CHECK(sc.worst_rank <= limit);
    /* the last position: its logits do not depend on the replaced token */
    int t = f->a.n - 1, V = 256;
    float *lg = malloc((size_t)(f->c.n_prompt + t) * V * sizeof *lg);
    CHECK(lg);
    int seq[256];
    memcpy(seq, f->c.prompt, f->c.n_prompt * sizeof seq[0]);
    memcpy(seq + f->c.n_prompt, f->a.tokens, t * sizeof seq[0]);
    CHECK_EQ_INT(model_forward(f->s, seq, f->c.n_prompt + t, 0, lg, true), BASED_E_OK);
    int order[256];   /* ids by logit, descending (ties: lower id first) */
    for (int i = 0; i < V; i++)
        order[i] = i;
    for (int i = 1; i < V; i++)
        for (int j = i; j > 0 && (lg[order[j]] > lg[order[j - 1]] ||
                                  (lg[order[j]] == lg[order[j - 1]] && order[j] < order[j - 1])); j--) {
            int x = order[j];
            order[j] = order[j - 1];
            order[j - 1] = x;
        }
    free(lg);
    neuron_answer b = f->a;
    b.tokens[t] = order[limit];   /* rank limit + 1 */
    CHECK_EQ_INT(gate_of(f, &b), NEURON_GATE_RANK);
    CHECK_EQ_INT(neuron_score_answer(f->s, &f->c, &b, 0, 1000, &f->p, &sc), BASED_E_OK);
    CHECK_EQ_INT(sc.worst_rank, limit + 1);
    b.tokens[t] = order[V - 1];
    CHECK_EQ_INT(neuron_score_answer(f->s, &f->c, &b, 0, 1000, &f->p, &sc), BASED_E_OK);
    CHECK_EQ_INT(sc.gate, NEURON_GATE_RANK);
    CHECK_EQ_INT(sc.worst_rank, V);
    b.tokens[t] = order[limit - 1];   /* rank limit: passes the gate */
    CHECK_EQ_INT(neuron_score_answer(f->s, &f->c, &b, 0, 1000, &f->p, &sc), BASED_E_OK);
    CHECK_EQ_INT(sc.gate, NEURON_GATE_OK);
    CHECK(sc.worst_rank == limit || sc.worst_rank < limit);
    /* greedy challenges allow only rank_base */
    f->c.temp_milli = 0;
    CHECK_EQ_INT(neuron_answer_generate(f->s, &f->c, &f->a), BASED_E_OK);
    CHECK_EQ_INT(neuron_score_answer(f->s, &f->c, &f->a, 0, 1000, &f->p, &sc), BASED_E_OK);
    CHECK_EQ_INT(sc.worst_rank, 1);
    CHECK_EQ_INT(sc.gate, NEURON_GATE_OK);
    fx_free(f);
}

TEST(neuron_gate_names)
{
    CHECK_EQ_STR(neuron_gate_name(NEURON_GATE_OK), "ok");
    CHECK_EQ_STR(neuron_gate_name(NEURON_GATE_RANK), "rank");
    CHECK_EQ_STR(neuron_gate_name(NEURON_GATE_DUPLICATE), "duplicate");
    CHECK_EQ_STR(neuron_gate_name(-1), "unknown");
    CHECK_EQ_STR(neuron_gate_name(NEURON_GATE__COUNT), "unknown");
    for (int g = 0; g < NEURON_GATE__COUNT; g++)
        CHECK(strcmp(neuron_gate_name(g), "unknown") != 0);
    neuron_score sc;
    memset(&sc, 0x55, sizeof sc);
    neuron_score_gated(&sc, NEURON_GATE_TIMEOUT);
    CHECK_EQ_INT(sc.gate, NEURON_GATE_TIMEOUT);
    CHECK(sc.score == 0 && sc.quality == 0 && sc.kl == 0 && sc.agree == 0);
    CHECK_EQ_INT(sc.positions, 0);
}

/* Speed moves at most speed_weight of the score, by the validator's clock. */
TEST(neuron_score_speed)
{
    struct fx *f = fx_new(9);
    CHECK(f);
    neuron_score sc;
    double w = f->p.speed_weight;
    CHECK(w > 0 && w <= 0.25);
    CHECK_EQ_INT(neuron_score_answer(f->s, &f->c, &f->a, 500, 1000, &f->p, &sc), BASED_E_OK);
    CHECK_NEAR(sc.speed, 0.5, 1e-12);
    CHECK_NEAR(sc.score, 1 - w / 2, 1e-12);
    CHECK_EQ_INT(neuron_score_answer(f->s, &f->c, &f->a, 2000, 1000, &f->p, &sc), BASED_E_OK);
    CHECK(sc.speed == 0);
    CHECK_NEAR(sc.score, 1 - w, 1e-12);
    fx_free(f);
}

/* Every cheat answer passes the format checks a decoder would make (sizes,
 * vocabulary, finite log-probabilities), so scoring is what catches it. */
TEST(neuron_cheats_wellformed)
{
    struct fx *f = fx_new(10);
    CHECK(f);
    uint64_t rng = 42;
    int n = 0;
    for (const char *const *m = cheat_modes; *m; m++, n++) {
        neuron_answer b;
        CHECK(cheat_mode_known(*m));
        CHECK_EQ_INT(cheat_answer(*m, f->s, &f->c, &b, &rng), 0);
        CHECK_EQ_INT(b.n, f->c.n_gen);
        CHECK_EQ_INT(b.k, f->c.topk);
        for (int i = 0; i < b.n * b.k; i++)
            CHECK(isfinite(b.topk[i].logprob) && b.topk[i].token >= 0 && b.topk[i].token < 256);
        CHECK(memcmp(b.tokens, f->a.tokens, b.n * sizeof b.tokens[0]) != 0 ||
              memcmp(b.topk, f->a.topk, (size_t)b.n * b.k * sizeof b.topk[0]) != 0);
    }
    CHECK_EQ_INT(n, 6);
    neuron_answer b;
    CHECK(!cheat_mode_known("honest"));
    CHECK_EQ_INT(cheat_answer("honest", f->s, &f->c, &b, &rng), -1);
    fx_free(f);
}
