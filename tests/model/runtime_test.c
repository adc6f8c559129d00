/*
 * runtime_test.c: the trainer, the forward pass, generation, sampling and
 * the tokenizers, on tiny models trained in the test itself.
 */
#include <math.h>

#include "tests/runner.h"
#include "tests/model/util.h"
#include "model/gguf.h"
#include "model/quant.h"
#include "chain/base.h"

static const int toks[] = { 'T', 'h', 'e', ' ', 'c', 'a', 't', ' ', 's', 'a', 't', '.', '\n', '%', '\n', 'A' };
#define NT ((int)BASED_ARRAY_LEN(toks))

TEST(model_train_tiny_learns)
{
    const char *p = tiny_model("tiny.gguf", 1);
    CHECK(p);
    model_t *m;
    char err[256];
    CHECK_EQ_INT(model_load(p, &m, err, sizeof err), BASED_E_OK);
    struct model_corpus c;
    CHECK_EQ_INT(model_corpus_load(MODEL_FORTUNES_DIR, 200000, &c, err, sizeof err), BASED_E_OK);
    double loss = model_heldout_loss(m, c.heldout, c.n_heldout, 2048);
    /* uniform over 256 bytes is 5.55 nats; 40 steps must get well below */
    CHECK(loss < 3.6);
    CHECK(loss > 1.0);
    model_corpus_free(&c);
    model_free(m);
}

TEST(model_train_gradcheck)
{
    /* GQA shape: 4 query heads sharing 2 kv heads */
    struct model_config c = { 32, 64, 2, 4, 2, 256, 8, 10000.0f, 1e-5f };
    double worst = model_train_gradcheck(&c, 11, 300);
    printf("    worst relative gradient error %.2e\n", worst);
    CHECK(worst >= 0);
    CHECK(worst < 0.05);
}

TEST(model_train_threads_same)
{
    char a[512], b[512];
    const char *p = tiny_model("t1.gguf", 1);
    CHECK(p);
    snprintf(a, sizeof a, "%s", p);
    p = tiny_model("t2.gguf", 2);
    CHECK(p);
    snprintf(b, sizeof b, "%s", p);
    size_t na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    CHECK(x && y);
    CHECK_EQ_U64(na, nb);
    CHECK_EQ_MEM(x, y, na);
    free(x);
    free(y);
}

static model_t *tiny(void)
{
    const char *p = tiny_model("tiny.gguf", 2);
    model_t *m = NULL;
    char err[256];
    if (p && model_load(p, &m, err, sizeof err))
        fprintf(stderr, "%s\n", err);
    return m;
}

/* The same check for F32 and each quantized path. */
static int prefill_vs_decode(const model_t *m)
{
    int V = model_config(m)->vocab;
    model_state *a = model_state_new(m), *b = model_state_new(m);
    float *all = malloc((size_t)NT * V * sizeof(float)), *one = malloc((size_t)V * sizeof(float));
    int bad = model_forward(a, toks, NT, 0, all, false) != BASED_E_OK;
    for (int t = 0; t < NT && !bad; t++) {
        bad |= model_forward(b, &toks[t], 1, t, one, true) != BASED_E_OK;
        bad |= memcmp(one, all + (size_t)t * V, (size_t)V * sizeof(float)) != 0;
    }
    /* prefill split in two calls gives the same last logits too */
    model_state *c = model_state_new(m);
    bad |= model_forward(c, toks, 5, 0, one, true) != BASED_E_OK;
    bad |= model_forward(c, toks + 5, NT - 5, 5, one, true) != BASED_E_OK;
    bad |= memcmp(one, all + (size_t)(NT - 1) * V, (size_t)V * sizeof(float)) != 0;
    model_state_free(a);
    model_state_free(b);
    model_state_free(c);
    free(all);
    free(one);
    return bad;
}

TEST(model_prefill_equals_decode)
{
    model_t *m = tiny();
    CHECK(m);
    CHECK_EQ_INT(prefill_vs_decode(m), 0);
    static const char *const methods[] = { "q8_0", "q4_0", "cerberus", "prime" };
    for (size_t i = 0; i < BASED_ARRAY_LEN(methods); i++) {
        struct model_compress_opts o;
        model_compress_defaults(&o);
        o.method = methods[i];
        struct model_gguf *g;
        model_t *q;
        char err[256];
        CHECK_EQ_INT(model_compress(m, &o, &g, err, sizeof err), BASED_E_OK);
        CHECK_EQ_INT(model_from_gguf(g, &q, err, sizeof err), BASED_E_OK);
        CHECK_EQ_INT(prefill_vs_decode(q), 0);
        model_free(q);
    }
    model_free(m);
}

TEST(model_forward_deterministic)
{
    model_t *m = tiny();
    CHECK(m);
    int V = model_config(m)->vocab;
    float *a = malloc((size_t)NT * V * sizeof(float)), *b = malloc((size_t)NT * V * sizeof(float));
    model_state *s = model_state_new(m);
    CHECK_EQ_INT(model_forward(s, toks, NT, 0, a, false), BASED_E_OK);
    CHECK_EQ_INT(model_forward(s, toks, NT, 0, b, false), BASED_E_OK);
    CHECK_EQ_MEM(a, b, (size_t)NT * V * sizeof(float));
    for (int i = 0; i < NT * V; i++)
        CHECK(isfinite(a[i]));
    /* out-of-range input is an error, not a crash */
    int bad = 300;
    CHECK_EQ_INT(model_forward(s, &bad, 1, 0, a, true), BASED_E_BAD_PARAM);
    CHECK_EQ_INT(model_forward(s, toks, 1, model_config(m)->seq_len, a, true), BASED_E_BAD_PARAM);
    model_state_free(s);
    free(a);
    free(b);
    model_free(m);
}

TEST(model_gqa_loads)
{
    model_t *m = tiny();
    CHECK(m);
    const struct model_config *c = model_config(m);
    CHECK_EQ_INT(c->n_heads, 2);
    CHECK_EQ_INT(c->n_kv_heads, 1);
    CHECK_EQ_INT(c->vocab, 256);
    CHECK(model_is_byte_level(m));
    CHECK_EQ_INT(model_bos(m), -1);
    CHECK_EQ_U64(model_weight_count(m), 256 * 32 * 2 + 2 * (32 * 32 * 2 + 16 * 32 * 2 + 3 * 32 * 64));
    model_free(m);
}

/* F16 tensors (as llama.cpp's converters write them) and a tied classifier. */
TEST(model_f16_and_tied_load)
{
    model_t *m = tiny();
    CHECK(m);
    const struct model_gguf *src = model_file(m);
    struct model_gguf *g = model_gguf_new(), *tied = model_gguf_new();
    for (size_t i = 0; i < model_gguf_kv_count(src); i++) {
        model_gguf_set(g, model_gguf_kv_key(src, i), model_gguf_kv_value(src, i));
        model_gguf_set(tied, model_gguf_kv_key(src, i), model_gguf_kv_value(src, i));
    }
    for (size_t i = 0; i < model_gguf_tensor_count(src); i++) {
        const struct model_gguf_tensor *t = model_gguf_tensor_at(src, i);
        uint64_t n = t->nbytes / 4;
        uint16_t *h = malloc(n * 2);
        for (uint64_t k = 0; k < n; k++) {
            float f;
            memcpy(&f, t->data + 4 * k, 4);
            h[k] = model_f32_to_f16(f);
        }
        CHECK_EQ_INT(model_gguf_add_tensor(g, t->name, MODEL_T_F16, t->n_dims, t->dims, h, n * 2), BASED_E_OK);
        free(h);
        if (strcmp(t->name, "output.weight") != 0)
            CHECK_EQ_INT(model_gguf_add_tensor(tied, t->name, t->type, t->n_dims, t->dims, t->data,
                                               t->nbytes), BASED_E_OK);
    }
    model_t *h16, *ht;
    char err[256];
    CHECK_EQ_INT(model_from_gguf(g, &h16, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(model_from_gguf(tied, &ht, err, sizeof err), BASED_E_OK);
    int V = model_config(m)->vocab;
    float *a = malloc((size_t)V * sizeof(float)), *b = malloc((size_t)V * sizeof(float));
    model_state *sa = model_state_new(m), *sb = model_state_new(h16), *sc = model_state_new(ht);
    CHECK_EQ_INT(model_forward(sa, toks, NT, 0, a, true), BASED_E_OK);
    CHECK_EQ_INT(model_forward(sb, toks, NT, 0, b, true), BASED_E_OK);
    for (int i = 0; i < V; i++)
        CHECK_NEAR(a[i], b[i], 0.05);
    CHECK_EQ_INT(model_forward(sc, toks, NT, 0, b, true), BASED_E_OK);
    for (int i = 0; i < V; i++)
        CHECK(isfinite(b[i]));
    model_state_free(sa);
    model_state_free(sb);
    model_state_free(sc);
    free(a);
    free(b);
    model_free(h16);
    model_free(ht);
    model_free(m);
}

TEST(model_generate_seeded)
{
    model_t *m = tiny();
    CHECK(m);
    model_state *s = model_state_new(m);
    struct model_sampler sp = { 0.9f, 20, 0.95f };
    int a[20], b[20], c[20];
    struct model_topk ka[20 * 3], kb[20 * 3];
    CHECK_EQ_INT(model_generate(s, toks, 4, &sp, 42, 20, a, 3, ka), 20);
    CHECK_EQ_INT(model_generate(s, toks, 4, &sp, 42, 20, b, 3, kb), 20);
    CHECK_EQ_MEM(a, b, sizeof a);
    CHECK_EQ_MEM(ka, kb, sizeof ka);
    CHECK_EQ_INT(model_generate(s, toks, 4, &sp, 43, 20, c, 0, NULL), 20);
    CHECK(memcmp(a, c, sizeof a) != 0);
    for (int i = 0; i < 20; i++) {
        CHECK(ka[3 * i].logprob >= ka[3 * i + 1].logprob);
        CHECK(ka[3 * i].logprob <= 0);
    }
    /* greedy: each generated token is the top-1 of its position */
    struct model_sampler greedy = { 0, 0, 1 };
    CHECK_EQ_INT(model_generate(s, toks, 4, &greedy, 1, 20, a, 1, ka), 20);
    for (int i = 0; i < 20; i++)
        CHECK_EQ_INT(a[i], ka[i].token);
    /* stops at the end of the context */
    int big[1000];
    CHECK_EQ_INT(model_generate(s, toks, 4, &greedy, 1, 1000, big, 0, NULL),
                 model_config(m)->seq_len - 4 + 1);
    model_state_free(s);
    model_free(m);
}

TEST(model_sampler)
{
    float lg[5] = { 1.0f, 3.0f, 2.0f, 3.0f, -1.0f };
    uint64_t r = 1;
    struct model_sampler g = { 0, 0, 1 };
    CHECK_EQ_INT(model_sample(lg, 5, &g, &r), 1);  /* ties: lowest id */
    struct model_sampler k1 = { 1.0f, 1, 1 };
    for (int i = 0; i < 50; i++)
        CHECK_EQ_INT(model_sample(lg, 5, &k1, &r), 1);
    struct model_sampler k2 = { 1.0f, 2, 1 };
    int seen[5] = { 0 };
    for (int i = 0; i < 400; i++)
        seen[model_sample(lg, 5, &k2, &r)]++;
    CHECK(seen[1] > 100 && seen[3] > 100 && seen[0] == 0 && seen[2] == 0 && seen[4] == 0);
    struct model_sampler p = { 1.0f, 0, 0.3f };
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 400; i++)
        seen[model_sample(lg, 5, &p, &r)]++;
    CHECK(seen[1] == 400);  /* p(1) = 0.397 >= 0.3 alone; ties rank the lower id first */
    uint64_t s1 = 5, s2 = 5;
    CHECK_EQ_U64(model_rng_next(&s1), model_rng_next(&s2));
}

/* A tiny llama-tokenizer model: random weights, scored vocabulary. */
static model_t *spm_model(void)
{
    /* merge paths: he+llo -> hello, _+hello; or, w+or, wor+ld -> world, _+world */
    static const char *const pieces[] = { "<unk>", "<s>", "</s>", "\xe2\x96\x81", "h", "e", "l",
        "o", "w", "r", "d", "he", "ll", "llo", "hello", "\xe2\x96\x81hello", "or", "ld", "wor",
        "world", "\xe2\x96\x81world" };
    enum { NP = BASED_ARRAY_LEN(pieces) };
    const char *all[NP + 256];
    char bytes[256][8];
    float sc[NP + 256];
    int32_t ty[NP + 256];
    for (int i = 0; i < NP; i++) {
        all[i] = pieces[i];
        sc[i] = (float)strlen(pieces[i]);
        ty[i] = i < 3 ? 3 : 1;
    }
    for (int i = 0; i < 256; i++) {
        snprintf(bytes[i], sizeof bytes[i], "<0x%02X>", i);
        all[NP + i] = bytes[i];
        sc[NP + i] = -100;
        ty[NP + i] = 6;
    }
    int V = NP + 256;
    struct model_config c = { 32, 64, 1, 2, 2, V, 16, 10000.0f, 1e-5f };
    size_t np = model_param_count(&c);
    float *p = malloc(np * sizeof(float));
    uint64_t r = 3;
    for (size_t i = 0; i < np; i++)
        p[i] = (float)(model_rng_uniform(&r) - 0.5) * 0.2f;
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/spm.gguf", test_tmpdir());
    model_t *m = NULL;
    struct model_gguf *g;
    if (!model_export(&c, p, path, err, sizeof err) && !model_gguf_load(path, &g, err, sizeof err)) {
        model_gguf_set_str(g, "tokenizer.ggml.model", "llama");
        model_gguf_set_str_arr(g, "tokenizer.ggml.tokens", (uint64_t)V, all);
        model_gguf_set_arr(g, "tokenizer.ggml.scores", MODEL_GGUF_F32, (uint64_t)V, sc);
        model_gguf_set_arr(g, "tokenizer.ggml.token_type", MODEL_GGUF_I32, (uint64_t)V, ty);
        model_gguf_set_u32(g, "tokenizer.ggml.bos_token_id", 1);
        model_gguf_set_u32(g, "tokenizer.ggml.eos_token_id", 2);
        if (model_from_gguf(g, &m, err, sizeof err))
            fprintf(stderr, "spm: %s\n", err);
    }
    free(p);
    return m;
}

TEST(model_spm_tokenizer)
{
    model_t *m = spm_model();
    CHECK(m);
    CHECK(!model_is_byte_level(m));
    CHECK_EQ_INT(model_bos(m), 1);
    int ids[32];
    int n = model_encode(m, "hello world", 11, ids, 32);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(ids[0], 15);   /* "_hello" */
    CHECK_EQ_INT(ids[1], 20);   /* "_world" */
    char text[64] = "";
    for (int i = 0; i < n; i++)
        model_decode(m, ids[i], text, sizeof text);
    CHECK_EQ_STR(text, " hello world");
    /* unknown characters fall back to byte tokens */
    n = model_encode(m, "hi!", 3, ids, 32);
    CHECK(n >= 3);
    text[0] = 0;
    for (int i = 0; i < n; i++)
        model_decode(m, ids[i], text, sizeof text);
    CHECK_EQ_STR(text, " hi!");
    CHECK_EQ_INT(model_encode(m, "hello world", 11, ids, 1), -1);
    model_free(m);
}

TEST(model_default_heldout_loss)
{
    model_t *m;
    char err[256];
    CHECK_EQ_INT(model_load(MODEL_DEFAULT_PATH, &m, err, sizeof err), BASED_E_OK);
    struct model_corpus c;
    CHECK_EQ_INT(model_corpus_load(MODEL_FORTUNES_DIR, 0, &c, err, sizeof err), BASED_E_OK);
    double loss = model_heldout_loss(m, c.heldout, c.n_heldout, 20480);
    printf("    default model held-out loss %.4f nats/byte\n", loss);
    CHECK(loss <= 1.8);
    model_corpus_free(&c);
    model_free(m);
}
