/*
 * batch_test.c: the batched prefill gives the bits of token-by-token
 * decoding. The F32 block kernel against model_dot_f32 (every row length
 * and block count the kernel treats apart), then whole forward passes cut
 * into calls at many places, for the default model (blocks, a partial last
 * block, keys of earlier calls) and for every storage type and a GQA shape
 * on the tiny model.
 */
#include <math.h>

#include "tests/runner.h"
#include "tests/model/util.h"
#include "model/gguf.h"
#include "model/quant.h"
#include "chain/base.h"

/* Values of every magnitude, with zeros of both signs. */
static void fill(float *x, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        double u = model_rng_uniform(&seed) - 0.5;
        uint64_t r = model_rng_next(&seed);
        x[i] = r % 13 == 0 ? (r & 16 ? -0.0f : 0.0f) : (float)(u * pow(2.0, (double)(r % 40) - 20));
    }
}

TEST(model_dot_f32_tb_bits)
{
    enum { ROWS = 3, MAXN = 400, MAXB = 6 };
    static const size_t ns[] = { 1, 5, 15, 16, 17, 31, 32, 48, 100, 128, 130, 288, 384 };
    int tb = model_tb();
    CHECK(tb >= 1 && tb <= MODEL_TB_MAX);
    float *w = malloc(ROWS * MAXN * sizeof(float)), *xt = malloc(MAXB * MAXN * MODEL_TB_MAX * sizeof(float));
    float *out = malloc(MAXB * ROWS * MODEL_TB_MAX * sizeof(float)), x[MAXN];
    CHECK(w && xt && out);
    for (size_t i = 0; i < BASED_ARRAY_LEN(ns); i++)
        for (int nb = 1; nb <= MAXB; nb++) {
            size_t n = ns[i];
            fill(w, ROWS * n, 100 + i);
            fill(xt, (size_t)nb * n * (size_t)tb, 200 + i + (size_t)nb);
            model_dot_f32_tb(w, ROWS, xt, n, nb, out);
            int bad = 0;
            for (int b = 0; b < nb; b++)
                for (int t = 0; t < tb; t++) {
                    for (size_t k = 0; k < n; k++)
                        x[k] = xt[((size_t)b * n + k) * (size_t)tb + (size_t)t];
                    for (int r = 0; r < ROWS; r++) {
                        float want = model_dot_f32(w + (size_t)r * n, x, n);
                        bad += memcmp(&want, &out[((size_t)b * ROWS + (size_t)r) * (size_t)tb + (size_t)t],
                                      sizeof want) != 0;
                    }
                }
            if (bad)
                printf("    n %zu, %d blocks: %d dots differ\n", n, nb, bad);
            CHECK_EQ_INT(bad, 0);
        }
    free(w);
    free(xt);
    free(out);
}

/*
 * Forward n tokens in calls of the given lengths (0-terminated), all logits,
 * and compare every position with `ref` (token-by-token logits); with
 * last_only, compare only each call's last position. Returns the number of
 * positions that differ (-1 when a call fails).
 */
static int split_differs(const model_t *m, const int *toks, const float *ref, const int *cuts,
                         bool last_only)
{
    int V = model_config(m)->vocab, pos = 0, bad = 0;
    model_state *s = model_state_new(m);
    float *lg = malloc((size_t)model_config(m)->seq_len * (size_t)V * sizeof(float));
    for (int c = 0; s && lg && cuts[c] > 0; c++) {
        if (model_forward(s, toks + pos, cuts[c], pos, lg, last_only) != BASED_E_OK) {
            bad = -1;
            break;
        }
        for (int t = last_only ? cuts[c] - 1 : 0; t < cuts[c]; t++)
            bad += memcmp(lg + (size_t)(last_only ? 0 : t) * V, ref + (size_t)(pos + t) * V,
                          (size_t)V * sizeof(float)) != 0;
        pos += cuts[c];
    }
    model_state_free(s);
    free(lg);
    return bad;
}

/* Token-by-token logits of toks[0..n) (caller frees). */
static float *decode_all(const model_t *m, const int *toks, int n)
{
    int V = model_config(m)->vocab;
    model_state *s = model_state_new(m);
    float *ref = malloc((size_t)n * (size_t)V * sizeof(float));
    for (int t = 0; s && ref && t < n; t++)
        if (model_forward(s, toks + t, 1, t, ref + (size_t)t * V, true) != BASED_E_OK) {
            free(ref);
            ref = NULL;
        }
    model_state_free(s);
    return ref;
}

/* Every split of `splits` (rows of cuts, 0-terminated, summing to n). */
static int all_splits_differ(const model_t *m, const int *toks, int n, const int (*splits)[8],
                             size_t ns)
{
    float *ref = decode_all(m, toks, n);
    int bad = ref ? 0 : -1;
    for (size_t i = 0; ref && i < ns; i++) {
        int d = split_differs(m, toks, ref, splits[i], false), e = split_differs(m, toks, ref, splits[i], true);
        if (d || e)
            printf("    split %zu: %d positions differ (%d of the last ones)\n", i, d, e);
        bad += d != 0 || e != 0;
    }
    free(ref);
    return bad;
}

TEST(model_prefill_splits_default)
{
    model_t *m;
    char err[256];
    CHECK_EQ_INT(model_load(MODEL_DEFAULT_PATH, &m, err, sizeof err), BASED_E_OK);
    enum { N = 128 };   /* the whole context */
    int toks[N];
    uint64_t x = 5;
    for (int i = 0; i < N; i++)
        toks[i] = 32 + (int)(model_rng_next(&x) % 95);
    static const int splits[][8] = {
        { 128 }, { 1, 127 }, { 7, 121 }, { 16, 112 }, { 17, 40, 71 }, { 39, 32, 57 },
        { 15, 1, 16, 2, 94 }, { 64, 64 }, { 100, 1, 27 },
    };
    CHECK_EQ_INT(all_splits_differ(m, toks, N, splits, BASED_ARRAY_LEN(splits)), 0);
    model_free(m);
}

/* The tiny model with every tensor stored F16 (widened to F32 at load). */
static model_t *as_f16(const model_t *m)
{
    const struct model_gguf *src = model_file(m);
    struct model_gguf *g = model_gguf_new();
    for (size_t i = 0; g && i < model_gguf_kv_count(src); i++)
        model_gguf_set(g, model_gguf_kv_key(src, i), model_gguf_kv_value(src, i));
    for (size_t i = 0; g && i < model_gguf_tensor_count(src); i++) {
        const struct model_gguf_tensor *t = model_gguf_tensor_at(src, i);
        uint64_t n = t->nbytes / 4;
        uint16_t *h = malloc(n * 2);
        for (uint64_t k = 0; h && k < n; k++) {
            float f;
            memcpy(&f, t->data + 4 * k, 4);
            h[k] = model_f32_to_f16(f);
        }
        if (!h || model_gguf_add_tensor(g, t->name, MODEL_T_F16, t->n_dims, t->dims, h, n * 2)) {
            free(h);
            model_gguf_free(g);
            return NULL;
        }
        free(h);
    }
    model_t *out = NULL;
    char err[256];
    if (g && model_from_gguf(g, &out, err, sizeof err))
        fprintf(stderr, "as_f16: %s\n", err);
    return out;
}

TEST(model_prefill_splits_types)
{
    const char *p = tiny_model("tiny.gguf", 2);
    model_t *m = NULL;
    char err[256];
    CHECK(p);
    CHECK_EQ_INT(model_load(p, &m, err, sizeof err), BASED_E_OK);
    enum { N = 32 };   /* the tiny model's context: GQA, 2 heads of 16 */
    int toks[N];
    uint64_t x = 9;
    for (int i = 0; i < N; i++)
        toks[i] = 32 + (int)(model_rng_next(&x) % 95);
    static const int splits[][8] = {
        { 32 }, { 1, 31 }, { 5, 27 }, { 16, 16 }, { 17, 15 }, { 3, 14, 15 }, { 9, 1, 22 },
    };
    struct model_corpus c;
    CHECK_EQ_INT(model_corpus_load(MODEL_FORTUNES_DIR, 200000, &c, err, sizeof err), BASED_E_OK);
    static const char *const methods[] = { "f16", "f32", "q8_0", "q4_0", "cerberus", "prime",
                                           "consensus", "heads" };
    for (size_t i = 0; i < BASED_ARRAY_LEN(methods); i++) {
        model_t *q = NULL;
        if (strcmp(methods[i], "f16") == 0) {
            q = as_f16(m);
        } else {
            struct model_compress_opts o;
            model_compress_defaults(&o);
            o.method = methods[i];
            o.calib = c.train;
            o.n_calib = 32 * 16;
            struct model_gguf *g;
            CHECK_EQ_INT(model_compress(m, &o, &g, err, sizeof err), BASED_E_OK);
            CHECK_EQ_INT(model_from_gguf(g, &q, err, sizeof err), BASED_E_OK);
        }
        CHECK(q);
        int bad = all_splits_differ(q, toks, N, splits, BASED_ARRAY_LEN(splits));
        if (bad)
            printf("    %s: %d splits differ\n", methods[i], bad);
        CHECK_EQ_INT(bad, 0);
        model_free(q);
    }
    model_corpus_free(&c);
    model_free(m);
}

/* A random model whose rows are not multiples of 16 and whose heads are not
 * multiples of 8 (the kernels' tails), with 3 query heads on 1 kv head. */
TEST(model_prefill_splits_odd_shape)
{
    struct model_config c = { 36, 40, 2, 3, 1, 256, 40, 10000.0f, 1e-5f };   /* heads of 12 */
    size_t np = model_param_count(&c);
    float *p = malloc(np * sizeof(float));
    CHECK(p);
    uint64_t rng = 3;
    for (size_t i = 0; i < np; i++)
        p[i] = (float)(model_rng_uniform(&rng) - 0.5) * 0.6f;
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/odd.gguf", test_tmpdir());
    CHECK_EQ_INT(model_export(&c, p, path, err, sizeof err), BASED_E_OK);
    free(p);
    model_t *m;
    CHECK_EQ_INT(model_load(path, &m, err, sizeof err), BASED_E_OK);
    enum { N = 40 };
    int toks[N];
    for (int i = 0; i < N; i++)
        toks[i] = (int)(model_rng_next(&rng) % 256);
    static const int splits[][8] = { { 40 }, { 1, 39 }, { 3, 18, 19 }, { 17, 23 }, { 33, 7 } };
    CHECK_EQ_INT(all_splits_differ(m, toks, N, splits, BASED_ARRAY_LEN(splits)), 0);
    model_free(m);
}
