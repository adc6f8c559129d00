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
#include "model/gguf.h"
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

/* Whether token a ranks before token b under logits lg. */
static bool before(const float *lg, int a, int b)
{
    return lg[a] > lg[b] || (lg[a] == lg[b] && a < b);
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
        for (int j = i; j > 0 && before(lg, order[j], order[j - 1]); j--) {
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
    double free_ms = 1000 * f->p.speed_free;
    CHECK(free_ms > 0 && free_ms < 1000);
    CHECK_EQ_INT(neuron_score_answer(f->s, &f->c, &f->a, free_ms, 1000, &f->p, &sc), BASED_E_OK);
    CHECK(sc.speed == 1);   /* within the free share: full speed */
    CHECK_NEAR(sc.score, 1, 1e-12);
    double mid = (free_ms + 1000) / 2;
    CHECK_EQ_INT(neuron_score_answer(f->s, &f->c, &f->a, mid, 1000, &f->p, &sc), BASED_E_OK);
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
    for (const char *m; (m = cheat_mode_name(n)) != NULL; n++) {
        neuron_answer b;
        CHECK(cheat_mode_known(m));
        CHECK_EQ_INT(cheat_answer(m, f->s, &f->c, &b, &rng), 0);
        CHECK_EQ_INT(b.n, f->c.n_gen);
        CHECK_EQ_INT(b.k, f->c.topk);
        for (int i = 0; i < b.n * b.k; i++)
            CHECK(isfinite(b.topk[i].logprob) && b.topk[i].token >= 0 && b.topk[i].token < 256);
        CHECK(memcmp(b.tokens, f->a.tokens, b.n * sizeof b.tokens[0]) != 0 ||
              memcmp(b.topk, f->a.topk, (size_t)b.n * b.k * sizeof b.topk[0]) != 0);
    }
    CHECK_EQ_INT(n, 7);
    neuron_answer b;
    CHECK(!cheat_mode_known("honest"));
    CHECK_EQ_INT(cheat_answer("honest", f->s, &f->c, &b, &rng), -1);
    fx_free(f);
}

/* A challenge on a literal prompt (T = 0.8, 40 tokens, top-8). */
static void text_challenge(const model_t *m, const char *text, neuron_challenge *c)
{
    memset(c, 0, sizeof *c);
    c->n_prompt = (uint16_t)model_encode(m, text, strlen(text), c->prompt, NEURON_MAX_PROMPT);
    c->n_gen = 40;
    c->topk = 8;
    c->temp_milli = 800;
    c->top_p_milli = 1000;
    c->seed = 3;
}

static int majority_share(const neuron_answer *a, int *tok)
{
    int best = 0;
    for (int t = 0; t < a->n; t++) {
        int n = 0;
        for (int u = 0; u < a->n; u++)
            n += a->tokens[u] == a->tokens[t];
        if (n > best) {
            best = n;
            *tok = a->tokens[t];
        }
    }
    return best;
}

/* One token repeated scores 0 although its log-probabilities are true and
 * its prefix soon vouches for it; an honest answer that repeats (a line of
 * '=' or '_' in a fortune) is not gated; the same answer with one more
 * repeated token where the reference draws another is. */
TEST(neuron_gate_repeat)
{
    struct fx *f = fx_new(11);
    CHECK(f);
    uint64_t rng = 1;
    for (int i = 0; i < 6; i++) {
        f->c.seed = 77 + (uint64_t)i;
        neuron_answer b;
        CHECK_EQ_INT(cheat_answer("repeat", f->s, &f->c, &b, &rng), 0);
        neuron_score sc;
        CHECK_EQ_INT(neuron_score_answer(f->s, &f->c, &b, 0, 1000, &f->p, &sc), BASED_E_OK);
        CHECK_EQ_INT(sc.gate, NEURON_GATE_REPEAT);
        CHECK(sc.kl == 0 && sc.score == 0);
    }
    neuron_challenge c;
    neuron_answer b;
    neuron_score sc;
    int tok = -1;
    text_challenge(f->m, "==========", &c);
    CHECK_EQ_INT(neuron_answer_generate(f->s, &c, &b), BASED_E_OK);
    CHECK_EQ_INT(majority_share(&b, &tok), 40);
    CHECK_EQ_INT(neuron_score_answer(f->s, &c, &b, 0, 1000, &f->p, &sc), BASED_E_OK);
    CHECK_EQ_INT(sc.gate, NEURON_GATE_OK);
    CHECK(sc.score == 1);
    text_challenge(f->m, "_____", &c);
    CHECK_EQ_INT(neuron_answer_generate(f->s, &c, &b), BASED_E_OK);
    int share = majority_share(&b, &tok);
    CHECK(share > 20 && share < 40);
    CHECK_EQ_INT(neuron_score_answer(f->s, &c, &b, 0, 1000, &f->p, &sc), BASED_E_OK);
    CHECK_EQ_INT(sc.gate, NEURON_GATE_OK);
    int t = 0;
    while (b.tokens[t] == tok)
        t++;
    b.tokens[t] = tok;
    CHECK_EQ_INT(neuron_score_answer(f->s, &c, &b, 0, 1000, &f->p, &sc), BASED_E_OK);
    CHECK_EQ_INT(sc.gate, NEURON_GATE_REPEAT);
    fx_free(f);
}

/* The KL cells: listing the tokens ranked 2..k+1 with their true
 * log-probabilities costs the top token's mass; listing the (k+1)-th in
 * place of the k-th (a near tie a compressed model may swap) costs little. */
TEST(neuron_score_left_out)
{
    struct fx *f = fx_new(12);
    CHECK(f);
    uint64_t rng = 1;
    neuron_answer b;
    neuron_score sc;
    CHECK_EQ_INT(cheat_answer("skip-top", f->s, &f->c, &b, &rng), 0);
    CHECK_EQ_INT(neuron_score_answer(f->s, &f->c, &b, 0, 1000, &f->p, &sc), BASED_E_OK);
    CHECK(sc.kl > 1);
    CHECK(sc.fidelity == 0 && sc.score == 0);
    neuron_challenge c9 = f->c;
    c9.topk = 9;
    CHECK_EQ_INT(neuron_answer_generate(f->s, &c9, &b), BASED_E_OK);
    CHECK_EQ_MEM(b.tokens, f->a.tokens, b.n * sizeof b.tokens[0]);
    neuron_answer *s8 = &f->a;   /* rows: the 1st-7th and the 9th */
    for (int t = 0; t < b.n; t++) {
        memcpy(&s8->topk[t * 8], &b.topk[t * 9], 7 * sizeof b.topk[0]);
        s8->topk[t * 8 + 7] = b.topk[t * 9 + 8];
    }
    CHECK_EQ_INT(neuron_score_answer(f->s, &f->c, s8, 0, 1000, &f->p, &sc), BASED_E_OK);
    CHECK_EQ_INT(sc.gate, NEURON_GATE_OK);
    printf("    8th and 9th swapped at every position: kl %.6f, fidelity %.4f\n", sc.kl,
           sc.fidelity);
    CHECK(sc.kl > 0 && sc.kl < 0.02);
    CHECK(sc.fidelity > 0.8);
    fx_free(f);
}

/* q8_0 against the reference: KL above 0 and below kl_good; the tolerance
 * of the shared-seed replay turns the boundary cases into agreement, and
 * with no tolerance the honest f32 miner still agrees everywhere. */
TEST(neuron_score_q8_tolerance)
{
    struct fx *f = fx_new(13);
    CHECK(f);
    struct model_compress_opts o;
    model_compress_defaults(&o);
    o.method = "q8_0";
    struct model_gguf *g;
    model_t *q;
    char err[256];
    CHECK_EQ_INT(model_compress(f->m, &o, &g, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(model_from_gguf(g, &q, err, sizeof err), BASED_E_OK);
    model_state *qs = model_state_new(q);
    CHECK(qs);
    neuron_score_params exact = f->p;
    exact.agree_tol = 0;
    double a_tol = 0, a_exact = 0, kl = 0, f32_exact = 0;
    for (int i = 0; i < 10; i++) {
        f->c.seed = 500 + (uint64_t)i;
        neuron_answer b;
        neuron_score sc;
        CHECK_EQ_INT(neuron_answer_generate(qs, &f->c, &b), BASED_E_OK);
        CHECK_EQ_INT(neuron_score_answer(f->s, &f->c, &b, 0, 1000, &f->p, &sc), BASED_E_OK);
        a_tol += sc.agree / 10;
        kl += sc.kl / 10;
        CHECK_EQ_INT(neuron_score_answer(f->s, &f->c, &b, 0, 1000, &exact, &sc), BASED_E_OK);
        a_exact += sc.agree / 10;
        CHECK_EQ_INT(neuron_answer_generate(f->s, &f->c, &b), BASED_E_OK);
        CHECK_EQ_INT(neuron_score_answer(f->s, &f->c, &b, 0, 1000, &exact, &sc), BASED_E_OK);
        f32_exact += sc.agree == 1;
    }
    printf("    q8_0 over 10 challenges: kl %.6f, agreement %.4f (tolerance %g), %.4f (none)\n", kl,
           a_tol, f->p.agree_tol, a_exact);
    CHECK(kl > 0 && kl < f->p.kl_good);
    CHECK(a_tol >= a_exact && a_tol > 0.98);
    CHECK(f32_exact == 10);
    model_state_free(qs);
    model_free(q);
    fx_free(f);
}

/* A model of the given shape with uniform random weights in [-w, w) (w 0:
 * all zero, so every logit ties), loaded from a scratch GGUF. */
static model_t *random_model(int vocab, float w)
{
    struct model_config c = { 32, 64, 1, 2, 2, vocab, 128, 10000.0f, 1e-5f };
    size_t np = model_param_count(&c);
    float *p = malloc(np * sizeof *p);
    if (!p)
        return NULL;
    uint64_t rng = 4;
    for (size_t i = 0; i < np; i++)
        p[i] = (float)(model_rng_uniform(&rng) * 2 - 1) * w;
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/random-%d.gguf", test_tmpdir(), vocab);
    model_t *m = NULL;
    if (model_export(&c, p, path, err, sizeof err) || model_load(path, &m, err, sizeof err))
        fprintf(stderr, "random_model: %s\n", err);
    free(p);
    return m;
}

/* The replay of model_sample (radix-sorted candidates) matches it bit for
 * bit on a vocabulary of 4096 ids, with every sampler setting, and with
 * every logit tied (ties go to the lower id). */
TEST(neuron_score_large_vocab_exact)
{
    static const float widths[] = { 0.5f, 0 };
    for (size_t wi = 0; wi < BASED_ARRAY_LEN(widths); wi++) {
        model_t *m = random_model(4096, widths[wi]);
        CHECK(m);
        model_state *s = model_state_new(m);
        CHECK(s);
        neuron_score_params p;
        neuron_score_params_default(&p);
        p.agree_tol = 0;
        p.rank_base = 4096;
        static const uint16_t temps[] = { 800, 1000, 1500, 300, 0 };
        static neuron_challenge c;
        static neuron_answer a;
        uint64_t rng = 9;
        for (int i = 0; i < 10; i++) {
            memset(&c, 0, sizeof c);
            c.n_prompt = 16;
            for (int j = 0; j < 16; j++)
                c.prompt[j] = (int)(model_rng_next(&rng) % 4096);
            c.n_gen = 40;
            c.topk = 16;
            c.temp_milli = temps[i % 5];
            c.top_k = i == 5 ? 50 : 0;
            c.top_p_milli = i == 6 ? 500 : 1000;
            c.seed = model_rng_next(&rng);
            CHECK_EQ_INT(neuron_answer_generate(s, &c, &a), BASED_E_OK);
            neuron_score sc;
            CHECK_EQ_INT(neuron_score_answer(s, &c, &a, 0, 1000, &p, &sc), BASED_E_OK);
            CHECK_EQ_INT(sc.gate, NEURON_GATE_OK);
            CHECK(sc.kl == 0 && sc.agree == 1);
        }
        model_state_free(s);
        model_free(m);
    }
}
