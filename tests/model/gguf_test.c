/*
 * gguf_test.c: GGUF round trips and rejections, fp16, block quantizers and
 * the dot kernels.
 */
#include <math.h>

#include "tests/runner.h"
#include "model/gguf.h"
#include "model/quant.h"
#include "model/model.h"
#include "chain/base.h"

TEST(model_f16_known_answers)
{
    CHECK_EQ_INT(model_f32_to_f16(1.0f), 0x3c00);
    CHECK_EQ_INT(model_f32_to_f16(-2.0f), 0xc000);
    CHECK_EQ_INT(model_f32_to_f16(65504.0f), 0x7bff);
    CHECK_EQ_INT(model_f32_to_f16(1e6f), 0x7c00);
    CHECK_EQ_INT(model_f32_to_f16(5.960464477539063e-08f), 0x0001);
    CHECK_EQ_INT(model_f32_to_f16(0.0f), 0);
    /* every finite half survives half -> float -> half */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00)
            continue;
        CHECK_EQ_INT(model_f32_to_f16(model_f16_to_f32((uint16_t)h)), h);
    }
}

static void fill(float *x, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(model_rng_uniform(&seed) - 0.5);
}

TEST(model_q8_q4_roundtrip)
{
    float x[256], y[256];
    uint8_t b[256 * 2];
    fill(x, 256, 3);
    CHECK_EQ_INT(model_quantize_q8_0(x, 256, b), 8 * 34);
    model_dequant_row(MODEL_T_Q8_0, b, 256, y);
    for (int i = 0; i < 256; i++)
        CHECK_NEAR(x[i], y[i], 0.5 / 127 + 1e-3);
    CHECK_EQ_INT(model_quantize_q4_0(x, 256, b), 8 * 18);
    model_dequant_row(MODEL_T_Q4_0, b, 256, y);
    for (int i = 0; i < 256; i++)
        CHECK_NEAR(x[i], y[i], 0.5 / 8 + 1e-3);
    CHECK_EQ_U64(model_type_row_bytes(MODEL_T_Q4_0, 33), 0);
    CHECK_EQ_U64(model_type_row_bytes(MODEL_T_CRB8, 100), 112);
}

TEST(model_dot_paths_agree)
{
    enum { N = 512 };
    float x[N], w[N];
    uint8_t w8[N / 32 * 34], w4[N / 32 * 18];
    int8_t xq[N];
    float xd[N / 32];
    for (uint64_t seed = 1; seed < 20; seed++) {
        fill(x, N, seed);
        fill(w, N, seed + 100);
        model_quantize_q8_0(w, N, w8);
        model_quantize_q4_0(w, N, w4);
        model_qact_q8(x, N, xq, xd);
        float a = model_dot_q8_0(w8, xq, xd, N), b = model_dot_q8_0_portable(w8, xq, xd, N);
        CHECK_EQ_MEM(&a, &b, sizeof a);
        a = model_dot_q4_0(w4, xq, xd, N);
        b = model_dot_q4_0_portable(w4, xq, xd, N);
        CHECK_EQ_MEM(&a, &b, sizeof a);
        double ref = 0;
        for (int i = 0; i < N; i++)
            ref += (double)w[i] * x[i];
        CHECK_NEAR(model_dot_q8_0(w8, xq, xd, N), ref, 0.05);
        CHECK_NEAR(model_dot_f32(w, x, N), ref, 1e-3);
    }
}

TEST(model_squeeze_levels)
{
    float x[64];
    uint8_t q[64];
    float S, mn, st;
    fill(x, 64, 9);
    struct model_squeeze p = { 256, 0.1f, 0.5f, false };
    model_squeeze(x, 64, &p, q, &S, &mn, &st);
    CHECK_NEAR(S, 0.5, 0);   /* sigma of U(-0.5,0.5) is ~0.29 > 0.1 */
    for (int i = 0; i < 64; i++)
        CHECK_NEAR((mn + q[i] * st) / S, x[i], 0.5 * st / S + 1e-6);
    for (int i = 0; i < 64; i++)
        x[i] *= 0.01f;     /* sigma below T: S = 1/alpha */
    model_squeeze(x, 64, &p, q, &S, &mn, &st);
    CHECK_NEAR(S, 2.0, 0);
    p.floor_mode = true;
    model_squeeze(x, 64, &p, q, &S, &mn, &st);
    for (int i = 0; i < 64; i++) {
        float back = (mn + q[i] * st) / S;
        CHECK(back <= x[i] + 1e-7f && x[i] - back <= st / S + 1e-7f);
    }
}

/* The integer algebra of two squeezed grids equals the float dot of the
 * dequantized vectors (up to float rounding), for lengths with a tail. */
TEST(model_crb8_dot_algebra)
{
    for (size_t n = 31; n <= 300; n += 67) {
        float x[300], w[300], wd[300], xd[300];
        uint8_t row[12 + 300], u[300];
        fill(x, n, n);
        fill(w, n, n + 1);
        struct model_squeeze p = { 256, 0.1f, 0.5f, false };
        float S, mn, st;
        model_squeeze(w, n, &p, row + 12, &S, &mn, &st);
        memcpy(row, &S, 4);
        memcpy(row + 4, &mn, 4);
        memcpy(row + 8, &st, 4);
        struct model_qact a = { .u = u };
        model_squeeze(x, n, &p, u, &a.scale, &a.min, &a.step);
        a.usum = 0;
        for (size_t i = 0; i < n; i++)
            a.usum += u[i];
        model_dequant_row(MODEL_T_CRB8, row, n, wd);
        double ref = 0, refx = 0;
        for (size_t i = 0; i < n; i++) {
            xd[i] = (a.min + (float)u[i] * a.step) / a.scale;
            ref += (double)wd[i] * xd[i];
            refx += (double)wd[i] * x[i];
        }
        CHECK_NEAR(model_dot_crb8_u8(row, &a, n), ref, 1e-4);
        CHECK_NEAR(model_dot_crb8_f32(row, x, n), refx, 1e-4);
    }
}

/* A file with every value type, a nested array, and one tensor of each type. */
static model_gguf *sample_file(void)
{
    model_gguf *g = model_gguf_new();
    struct model_gguf_value v = { 0 };
    static const uint32_t scalar[] = { MODEL_GGUF_U8, MODEL_GGUF_I8, MODEL_GGUF_U16, MODEL_GGUF_I16,
        MODEL_GGUF_U32, MODEL_GGUF_I32, MODEL_GGUF_F32, MODEL_GGUF_BOOL, MODEL_GGUF_U64,
        MODEL_GGUF_I64, MODEL_GGUF_F64 };
    for (size_t i = 0; i < BASED_ARRAY_LEN(scalar); i++) {
        char key[32];
        snprintf(key, sizeof key, "test.scalar%zu", i);
        memset(&v, 0, sizeof v);
        v.type = scalar[i];
        if (scalar[i] == MODEL_GGUF_F32 || scalar[i] == MODEL_GGUF_F64)
            v.v.f = 0.25;
        else if (scalar[i] == MODEL_GGUF_I8 || scalar[i] == MODEL_GGUF_I16 ||
                 scalar[i] == MODEL_GGUF_I32 || scalar[i] == MODEL_GGUF_I64)
            v.v.i = -5;
        else
            v.v.u = 1;
        model_gguf_set(g, key, &v);
    }
    model_gguf_set_str(g, "general.architecture", "llama");
    const char *strs[] = { "a", "", "héllo" };
    model_gguf_set_str_arr(g, "test.strings", 3, strs);
    int16_t i16[4] = { -1, 2, -3, 4 };
    model_gguf_set_arr(g, "test.i16", MODEL_GGUF_I16, 4, i16);
    /* nested: array of two arrays of u32 */
    uint32_t a0[2] = { 1, 2 }, a1[1] = { 3 };
    struct model_gguf_value in[2] = {
        { .type = MODEL_GGUF_ARRAY, .elem_type = MODEL_GGUF_U32, .count = 2, .raw = (uint8_t *)a0 },
        { .type = MODEL_GGUF_ARRAY, .elem_type = MODEL_GGUF_U32, .count = 1, .raw = (uint8_t *)a1 } };
    struct model_gguf_value nest = { .type = MODEL_GGUF_ARRAY, .elem_type = MODEL_GGUF_ARRAY,
                                     .count = 2, .items = in };
    model_gguf_set(g, "test.nested", &nest);
    float w[64 * 2];
    fill(w, 128, 5);
    uint64_t dims[2] = { 64, 2 };
    uint8_t b[64 * 2 * 4 + 64];
    model_gguf_add_tensor(g, "t.f32", MODEL_T_F32, 2, dims, w, sizeof w);
    for (int i = 0; i < 128; i++) {
        uint16_t h = model_f32_to_f16(w[i]);
        memcpy(b + 2 * i, &h, 2);
    }
    model_gguf_add_tensor(g, "t.f16", MODEL_T_F16, 2, dims, b, 256);
    model_gguf_add_tensor(g, "t.q8", MODEL_T_Q8_0, 2, dims, b, model_quantize_q8_0(w, 128, b));
    model_gguf_add_tensor(g, "t.q4", MODEL_T_Q4_0, 2, dims, b, model_quantize_q4_0(w, 128, b));
    uint64_t d1[1] = { 3 };
    model_gguf_add_tensor(g, "t.vec", MODEL_T_F32, 1, d1, w, 12);
    return g;
}

TEST(model_gguf_roundtrip)
{
    model_gguf *g = sample_file(), *h;
    CHECK(g);
    CHECK_EQ_INT(model_gguf_tensor_count(g), 5);
    uint8_t *b1, *b2;
    size_t n1, n2;
    char err[200];
    CHECK_EQ_INT(model_gguf_serialize(g, &b1, &n1), BASED_E_OK);
    CHECK_EQ_INT(model_gguf_parse(b1, n1, &h, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(model_gguf_kv_count(h), model_gguf_kv_count(g));
    for (size_t i = 0; i < model_gguf_kv_count(g); i++)
        CHECK_EQ_STR(model_gguf_kv_key(h, i), model_gguf_kv_key(g, i));
    const struct model_gguf_value *n = model_gguf_find(h, "test.nested");
    CHECK(n && n->count == 2 && n->items[0].count == 2 && n->items[1].count == 1);
    uint32_t three;
    memcpy(&three, n->items[1].raw, 4);
    CHECK_EQ_INT(three, 3);
    CHECK_EQ_STR(model_gguf_find(h, "test.strings")->items[2].str, "héllo");
    double f;
    CHECK(model_gguf_get_f64(h, "test.scalar6", &f) && f == 0.25);
    CHECK_EQ_INT(model_gguf_find(h, "test.scalar1")->v.i, -5);
    for (size_t i = 0; i < model_gguf_tensor_count(g); i++) {
        const struct model_gguf_tensor *a = model_gguf_tensor_at(g, i), *b = model_gguf_tensor_at(h, i);
        CHECK_EQ_STR(a->name, b->name);
        CHECK_EQ_INT(a->type, b->type);
        CHECK_EQ_U64(a->nbytes, b->nbytes);
        CHECK_EQ_U64(a->dims[0], b->dims[0]);
        CHECK_EQ_U64(a->offset % 32, 0);
        CHECK_EQ_MEM(a->data, b->data, a->nbytes);
    }
    CHECK_EQ_INT(model_gguf_serialize(h, &b2, &n2), BASED_E_OK);
    CHECK_EQ_U64(n1, n2);
    CHECK_EQ_MEM(b1, b2, n1);
    free(b1);
    free(b2);
    model_gguf_free(g);
    model_gguf_free(h);
}

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

static based_err parse_bytes(const uint8_t *b, size_t n, char *err)
{
    model_gguf *g;
    based_err e = model_gguf_parse(b, n, &g, err, 200);
    model_gguf_free(g);
    return e;
}

/* Offset of tensor info i's type field (after its name, n_dims, dims). */
static size_t tinfo_type_at(const uint8_t *b, size_t after_kv, int which)
{
    size_t p = after_kv;
    for (int i = 0;; i++) {
        uint64_t nl = 0;
        for (int k = 0; k < 8; k++) nl |= (uint64_t)b[p + k] << (8 * k);
        p += 8 + nl;
        uint32_t nd = b[p];
        p += 4 + 8 * nd;
        if (i == which)
            return p;
        p += 12;
    }
}

TEST(model_gguf_malformed)
{
    model_gguf *g = sample_file();
    uint8_t *b;
    size_t n;
    char err[200];
    CHECK_EQ_INT(model_gguf_serialize(g, &b, &n), BASED_E_OK);
    uint8_t *c = malloc(n);
    /* the first tensor info starts 8 bytes (its name length) before "t.f32" */
    size_t kv_end = 0;
    for (size_t i = 8; i + 5 < n && !kv_end; i++)
        if (memcmp(b + i, "t.f32", 5) == 0)
            kv_end = i - 8;
    CHECK(kv_end > 0);
#define MUTATE(stmt, want, msg) do { memcpy(c, b, n); stmt; \
        CHECK_EQ_INT(parse_bytes(c, n, err), want); CHECK(strstr(err, msg) != NULL); } while (0)
    MUTATE(c[0] = 'X', BASED_E_DECODE, "magic");
    MUTATE(put32(c + 4, 2), BASED_E_DECODE, "version");
    MUTATE(put64(c + 8, (uint64_t)1 << 40), BASED_E_TOO_LARGE, "count");
    MUTATE(put64(c + 16, 1u << 30), BASED_E_TOO_LARGE, "count");
    /* first key's value type (after 8-byte length + key) */
    size_t vt = 24 + 8 + strlen("test.scalar0");
    MUTATE(put32(c + vt, 13), BASED_E_DECODE, "unknown metadata value type");
    MUTATE(put64(c + 24, (uint64_t)1 << 62), BASED_E_TOO_LARGE, "string too long");
    /* scalar7 is the bool: find it and set it to 2 */
    size_t bp = 0;
    for (size_t i = 0; i + 12 < n; i++)
        if (memcmp(b + i, "test.scalar7", 12) == 0) { bp = i + 12 + 4; break; }
    CHECK(bp);
    MUTATE(c[bp] = 2, BASED_E_DECODE, "bool");
    size_t t0 = tinfo_type_at(b, kv_end, 0), t1 = tinfo_type_at(b, kv_end, 1);
    MUTATE(put32(c + t0, 77), BASED_E_DECODE, "unknown tensor type");
    MUTATE(put64(c + t1 + 4, 0), BASED_E_DECODE, "overlapping");
    MUTATE(put64(c + t1 + 4, 1), BASED_E_DECODE, "misaligned");
    MUTATE(put64(c + t1 + 4, (uint64_t)1 << 40), BASED_E_DECODE, "misaligned or past");
    MUTATE(put64(c + t0 - 16, (uint64_t)1 << 41), BASED_E_TOO_LARGE, "absurd");
    MUTATE(c[t0 - 20] = 9, BASED_E_DECODE, "dimension count");
    /* duplicate tensor name: rename t.f16 to t.f32 */
    for (size_t i = 0; i + 5 < n; i++)
        if (memcmp(b + i, "t.f16", 5) == 0) { memcpy(c, b, n); memcpy(c + i, "t.f32", 5);
            CHECK_EQ_INT(parse_bytes(c, n, err), BASED_E_DECODE); CHECK(strstr(err, "duplicate")); break; }
#undef MUTATE
    free(c);
    free(b);
    model_gguf_free(g);
}

TEST(model_gguf_truncations)
{
    model_gguf *g = sample_file();
    uint8_t *b;
    size_t n;
    char err[200];
    CHECK_EQ_INT(model_gguf_serialize(g, &b, &n), BASED_E_OK);
    /* Every strict prefix that cuts into data a tensor needs must fail. */
    size_t last_end = 0;
    for (size_t i = 0; i < model_gguf_tensor_count(g); i++) {
        const struct model_gguf_tensor *t = model_gguf_tensor_at(g, i);
        if (t->offset + t->nbytes > last_end)
            last_end = t->offset + t->nbytes;
    }
    size_t need = n - (size_t)((n - last_end) % 32);  /* conservative */
    (void)need;
    int ok = 0;
    for (size_t len = 0; len < n; len++) {
        model_gguf *h;
        if (model_gguf_parse(b, len, &h, err, sizeof err) == BASED_E_OK) {
            ok++;
            model_gguf_free(h);
        } else {
            CHECK(err[0] != 0);
        }
    }
    /* only the trailing alignment padding after the last tensor may go */
    CHECK(ok < 32);
    free(b);
    model_gguf_free(g);
}
