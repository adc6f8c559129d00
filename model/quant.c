/*
 * quant.c: tensor types, fp16 conversion, ggml's reference block
 * quantizers (Q8_0, Q4_0), our Cerberus and sparse types, and the dot
 * kernels used by the forward pass (see quant.h).
 *
 * Float dots use 16 independent lanes summed pairwise at the end, so the
 * compiler may vectorise them without changing a bit. Q8_0 and Q4_0 dots
 * quantize the activation to Q8_0 blocks (as ggml does) and sum integer
 * products exactly; Cerberus with squeezed activations uses u8 x u8 integer
 * sums and the min/step algebra of the two affine grids.
 */
#include <math.h>
#if defined(__F16C__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#include "model/internal.h"
#include "chain/base.h"

struct tinfo { uint32_t type; const char *name; uint32_t block, bytes; };

static const struct tinfo types[] = {
    { MODEL_T_F32, "F32", 1, 4 },
    { MODEL_T_F16, "F16", 1, 2 },
    { MODEL_T_Q4_0, "Q4_0", 32, 18 },
    { MODEL_T_Q8_0, "Q8_0", 32, 34 },
    { MODEL_T_CRB8, "CRB8", 1, 1 },   /* plus 12 bytes per row */
    { MODEL_T_SQ8, "SQ8", 32, 0 },
};

static const struct tinfo *tinfo(uint32_t type)
{
    for (size_t i = 0; i < BASED_ARRAY_LEN(types); i++)
        if (types[i].type == type)
            return &types[i];
    return NULL;
}

const char *model_type_name(uint32_t type)
{
    const struct tinfo *t = tinfo(type);
    return t ? t->name : NULL;
}

bool model_type_known(uint32_t type) { return tinfo(type) != NULL; }

uint64_t model_type_row_bytes(uint32_t type, uint64_t cols)
{
    const struct tinfo *t = tinfo(type);
    if (!t || !t->bytes || cols % t->block)
        return 0;
    return cols / t->block * t->bytes + (type == MODEL_T_CRB8 ? 12 : 0);
}

uint64_t model_sq8_bytes(const uint8_t *p, uint64_t avail, uint64_t rows,
                         uint64_t cols, uint64_t *row_off)
{
    if (cols % MODEL_QK || !p)
        return 0;
    uint64_t off = 0;
    for (uint64_t r = 0; r < rows; r++) {
        if (row_off)
            row_off[r] = off;
        for (uint64_t b = 0; b < cols / MODEL_QK; b++) {
            if (avail - off < 6)
                return 0;
            uint32_t m = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 |
                         (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
            off += 6;
            uint32_t k = (uint32_t)__builtin_popcount(m);
            if (avail - off < k)
                return 0;
            off += k;
        }
    }
    return off ? off : 0;
}

/* ---- fp16 -------------------------------------------------------------- */

uint16_t model_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp = (x >> 23) & 0xff, man = x & 0x7fffffu;
    if (exp == 0xff)
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31)
        return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10)
            return (uint16_t)sign;
        man |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t h = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1)))
            h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (man >> 13), rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
        h++; /* may carry into the exponent: still correct */
    return (uint16_t)(sign | h);
}

float model_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ffu, x;
    if (exp == 0) {
        if (!man) {
            x = sign;
        } else {
            int e = -1;
            do { e++; man <<= 1; } while (!(man & 0x400u));
            x = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        x = sign | 0x7f800000u | (man << 13);
    } else {
        x = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* fp16 -> fp32 is exact either way; the F16C instruction is just faster. */
static float rd_f16(const uint8_t *p)
{
#ifdef __F16C__
    return _cvtsh_ss((unsigned short)(p[0] | p[1] << 8));
#else
    return model_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
#endif
}

static void wr_f16(uint8_t *p, float f)
{
    uint16_t h = model_f32_to_f16(f);
    p[0] = (uint8_t)h;
    p[1] = (uint8_t)(h >> 8);
}

static float rd_f32(const uint8_t *p) { float f; memcpy(&f, p, 4); return f; }

/* ---- ggml reference quantizers ------------------------------------------ */

/* v rounded into [lo, hi]; NaN (from a hostile file's weights) becomes 0. */
static int clampi(float v, int lo, int hi)
{
    if (!(v == v))
        return lo > 0 ? lo : hi < 0 ? hi : 0;
    return v < (float)lo ? lo : v > (float)hi ? hi : (int)v;
}

size_t model_quantize_q8_0(const float *x, size_t n, uint8_t *out)
{
    for (size_t b = 0; b < n / MODEL_QK; b++, x += MODEL_QK, out += 34) {
        float amax = 0;
        for (int j = 0; j < MODEL_QK; j++)
            amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
        wr_f16(out, d);
        for (int j = 0; j < MODEL_QK; j++)
            out[2 + j] = (uint8_t)(int8_t)clampi(roundf(x[j] * id), -127, 127);
    }
    return n / MODEL_QK * 34;
}

size_t model_quantize_q4_0(const float *x, size_t n, uint8_t *out)
{
    for (size_t b = 0; b < n / MODEL_QK; b++, x += MODEL_QK, out += 18) {
        float amax = 0, max = 0;
        for (int j = 0; j < MODEL_QK; j++)
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        float d = max / -8.0f, id = d ? 1.0f / d : 0.0f;
        wr_f16(out, d);
        for (int j = 0; j < MODEL_QK / 2; j++) {
            int a = clampi(x[j] * id + 8.5f, 0, 15), c = clampi(x[j + 16] * id + 8.5f, 0, 15);
            out[2 + j] = (uint8_t)(a | c << 4);
        }
    }
    return n / MODEL_QK * 18;
}

void model_dequant_row(uint32_t type, const uint8_t *row, size_t cols, float *out)
{
    switch (type) {
    case MODEL_T_F32:
        memcpy(out, row, cols * 4);
        break;
    case MODEL_T_F16:
        for (size_t j = 0; j < cols; j++)
            out[j] = rd_f16(row + 2 * j);
        break;
    case MODEL_T_Q8_0:
        for (size_t b = 0; b < cols / MODEL_QK; b++, row += 34) {
            float d = rd_f16(row);
            for (int j = 0; j < MODEL_QK; j++)
                out[b * MODEL_QK + j] = d * (float)(int8_t)row[2 + j];
        }
        break;
    case MODEL_T_Q4_0:
        for (size_t b = 0; b < cols / MODEL_QK; b++, row += 18) {
            float d = rd_f16(row);
            for (int j = 0; j < 16; j++) {
                out[b * MODEL_QK + j] = d * (float)((row[2 + j] & 15) - 8);
                out[b * MODEL_QK + j + 16] = d * (float)((row[2 + j] >> 4) - 8);
            }
        }
        break;
    case MODEL_T_CRB8: {
        float S = rd_f32(row), mn = rd_f32(row + 4), st = rd_f32(row + 8);
        for (size_t j = 0; j < cols; j++)
            out[j] = (mn + (float)row[12 + j] * st) / S;
        break;
    }
    case MODEL_T_SQ8:
        for (size_t b = 0; b < cols / MODEL_QK; b++) {
            uint32_t m = (uint32_t)row[0] | (uint32_t)row[1] << 8 |
                         (uint32_t)row[2] << 16 | (uint32_t)row[3] << 24;
            float d = rd_f16(row + 4);
            const int8_t *q = (const int8_t *)(row + 6);
            int k = 0;
            for (int j = 0; j < MODEL_QK; j++)
                out[b * MODEL_QK + j] = (m >> j & 1) ? d * (float)q[k++] : 0.0f;
            row += 6 + k;
        }
        break;
    default:
        memset(out, 0, cols * 4);
    }
}

/* ---- dot kernels ------------------------------------------------------- */

#define LANES 16

static float lanes_sum(const float *acc)
{
    float s8[8], s4[4];
    for (int i = 0; i < 8; i++) s8[i] = acc[i] + acc[i + 8];
    for (int i = 0; i < 4; i++) s4[i] = s8[i] + s8[i + 4];
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

float model_dot_f32(const float *w, const float *x, size_t n)
{
    float acc[LANES] = { 0 };
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++)
            acc[l] += w[i + l] * x[i + l];
    for (int l = 0; i < n; i++, l++)
        acc[l] += w[i] * x[i];
    return lanes_sum(acc);
}

/*
 * One row against a block of TB tokens stored transposed (xt[k][t]):
 * out[t] = w . x_t, with exactly model_dot_f32's order for every token. The
 * vectors run across the tokens instead of along k: acc[l][t] is lane l of
 * token t's dot (the products k = l, l + 16, ... in order), so the lane sums
 * are vertical adds in lanes_sum's tree and no shuffles are needed (a vt:
 * TB = MODEL_TB lanes, internal.h).
 */
#define TB MODEL_TB
typedef model_vt vt;
#define ldt model_ldt

int model_tb(void) { return TB; }

/* The lane sums of acc in lanes_sum's tree, TB tokens at once, to out. */
static inline __attribute__((always_inline)) void lanes_sum_tb(const vt *acc, float *out)
{
    vt s8[8], s4[4];
    for (int i = 0; i < 8; i++) s8[i] = acc[i] + acc[i + 8];
    for (int i = 0; i < 4; i++) s4[i] = s8[i] + s8[i + 4];
    vt r = (s4[0] + s4[2]) + (s4[1] + s4[3]);
    memcpy(out, &r, sizeof r);
}

/* One row against one block, for rows that are not a multiple of 16: the
 * last lanes take one product fewer. */
static void dot_tb_tail(const float *w, const float *xt, size_t n, float *out)
{
    vt acc[LANES];
    for (int l = 0; l < LANES; l++)
        acc[l] = (vt){ 0 };
    size_t k = 0;
    for (; k + LANES <= n; k += LANES, xt += LANES * TB)
        for (int l = 0; l < LANES; l++)
            acc[l] += w[k + l] * ldt(xt + l * TB);
    for (int l = 0; k + (size_t)l < n; l++)
        acc[l] += w[k + l] * ldt(xt + l * TB);
    lanes_sum_tb(acc, out);
}

/*
 * One row of n (a multiple of 16) against J <= 4 blocks (block j at xt +
 * j * xs, its outputs to out + j * os). Each weight is broadcast once for
 * the J blocks: the 16 lanes are done G = 16 / J (4 for J = 3) at a time,
 * so that the J x G accumulators fit in registers. The first products are
 * added to +0 as a loop from 0 would (a zeroing loop would be compiled into
 * a memset of the accumulators).
 */
static inline __attribute__((always_inline)) void dot_tb(const float *w, const float *xt,
                                                         size_t n, size_t xs, float *out,
                                                         size_t os, const int J)
{
    const int G = J == 1 ? 16 : J == 2 ? 8 : 4;
    vt acc[4][LANES], zero = { 0 };
    for (int l0 = 0; l0 < LANES; l0 += G) {
        vt a[4][16];
        for (int j = 0; j < J; j++)
            for (int l = 0; l < G; l++)
                a[j][l] = zero + w[l0 + l] * ldt(xt + j * xs + (size_t)(l0 + l) * TB);
        for (size_t k = LANES; k + LANES <= n; k += LANES)
            for (int l = 0; l < G; l++) {
                float wk = w[k + l0 + l];
                for (int j = 0; j < J; j++)
                    a[j][l] += wk * ldt(xt + j * xs + (k + l0 + l) * TB);
            }
        for (int j = 0; j < J; j++)
            for (int l = 0; l < G; l++)
                acc[j][l0 + l] = a[j][l];
    }
    for (int j = 0; j < J; j++)
        lanes_sum_tb(acc[j], out + j * os);
}

/* Blocks a row takes at once: up to 4, as many as fit 48 KB (a level-1
 * data cache), since every row reads them all again. */
#define TB_CACHE 49152

void model_dot_f32_tb(const float *w, size_t rows, const float *xt, size_t n, int nb, float *out)
{
    size_t xs = n * TB, os = rows * TB, fit = TB_CACHE / (xs * sizeof(float));
    int J = fit >= 4 ? 4 : fit >= 2 ? (int)fit : 1;
    for (int b0 = 0; b0 < nb; b0 += J) {
        int jn = nb - b0 < J ? nb - b0 : J;
        const float *x = xt + (size_t)b0 * xs, *wr = w;
        float *o = out + (size_t)b0 * os;
        for (size_t r = 0; r < rows; r++, wr += n, o += TB) {
            if (n % LANES)
                for (int j = 0; j < jn; j++)
                    dot_tb_tail(wr, x + (size_t)j * xs, n, o + (size_t)j * os);
            else if (jn == 4)
                dot_tb(wr, x, n, xs, o, os, 4);
            else if (jn == 3)
                dot_tb(wr, x, n, xs, o, os, 3);
            else if (jn == 2)
                dot_tb(wr, x, n, xs, o, os, 2);
            else
                dot_tb(wr, x, n, xs, o, os, 1);
        }
    }
}

void model_qact_q8(const float *x, size_t n, int8_t *q, float *d)
{
    for (size_t b = 0; b < n / MODEL_QK; b++) {
        float amax = 0;
        for (int j = 0; j < MODEL_QK; j++)
            amax = fmaxf(amax, fabsf(x[b * MODEL_QK + j]));
        /* Round the scale through fp16 as ggml's q8_0 block does. */
        float s = model_f16_to_f32(model_f32_to_f16(amax / 127.0f));
        float id = s ? 1.0f / s : 0.0f;
        d[b] = s;
        for (int j = 0; j < MODEL_QK; j++) {
            q[b * MODEL_QK + j] = (int8_t)clampi(roundf(x[b * MODEL_QK + j] * id), -127, 127);
        }
    }
}

/*
 * Q8_0 x Q8_0 and Q4_0 x Q8_0 dots share one order of operations: in each
 * block of 32, lane k (k < 8) is the exact integer sum of products 4k..4k+3;
 * each lane accumulates (d_w * d_x) * lane in float; the 8 lanes are summed
 * pairwise at the end. The AVX2 path (maddubs/madd) and the portable path
 * compute exactly this, so they give the same bits.
 */
static float lanes8_sum(const float *acc)
{
    float s4[4];
    for (int i = 0; i < 4; i++)
        s4[i] = acc[i] + acc[i + 4];
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

#ifdef __AVX2__
static __m256i i8_lanes(__m256i w, __m256i x)
{
    __m256i aw = _mm256_sign_epi8(w, w), sx = _mm256_sign_epi8(x, w);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(aw, sx), _mm256_set1_epi16(1));
}

static float blocks_avx2(const uint8_t *w, const int8_t *xq, const float *xd, size_t nb, bool q4)
{
    __m256 acc = _mm256_setzero_ps();
    for (size_t b = 0; b < nb; b++) {
        __m256i qw;
        if (q4) {
            __m128i raw = _mm_loadu_si128((const __m128i *)(w + 2));
            __m128i lo = _mm_and_si128(raw, _mm_set1_epi8(15));
            __m128i hi = _mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(15));
            qw = _mm256_sub_epi8(_mm256_set_m128i(hi, lo), _mm256_set1_epi8(8));
        } else {
            qw = _mm256_loadu_si256((const __m256i *)(w + 2));
        }
        __m256i l = i8_lanes(qw, _mm256_loadu_si256((const __m256i *)(xq + b * MODEL_QK)));
        float d = rd_f16(w) * xd[b];
        acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(l)));
        w += q4 ? 18 : 34;
    }
    float a[8];
    _mm256_storeu_ps(a, acc);
    return lanes8_sum(a);
}
#endif

static float blocks_portable(const uint8_t *w, const int8_t *xq, const float *xd, size_t nb, bool q4)
{
    float acc[8] = { 0 };
    for (size_t b = 0; b < nb; b++) {
        int8_t q[MODEL_QK];
        if (q4) {
            for (int j = 0; j < 16; j++) {
                q[j] = (int8_t)((w[2 + j] & 15) - 8);
                q[j + 16] = (int8_t)((w[2 + j] >> 4) - 8);
            }
        } else {
            memcpy(q, w + 2, MODEL_QK);
        }
        const int8_t *x = xq + b * MODEL_QK;
        float d = rd_f16(w) * xd[b];
        for (int k = 0; k < 8; k++) {
            int32_t l = 0;
            for (int j = 4 * k; j < 4 * k + 4; j++)
                l += (int32_t)q[j] * (int32_t)x[j];
            acc[k] += d * (float)l;
        }
        w += q4 ? 18 : 34;
    }
    return lanes8_sum(acc);
}

float model_dot_q8_0(const uint8_t *w, const int8_t *xq, const float *xd, size_t n)
{
#ifdef __AVX2__
    return blocks_avx2(w, xq, xd, n / MODEL_QK, false);
#else
    return blocks_portable(w, xq, xd, n / MODEL_QK, false);
#endif
}

float model_dot_q4_0(const uint8_t *w, const int8_t *xq, const float *xd, size_t n)
{
#ifdef __AVX2__
    return blocks_avx2(w, xq, xd, n / MODEL_QK, true);
#else
    return blocks_portable(w, xq, xd, n / MODEL_QK, true);
#endif
}

/* The portable kernels, exported for the test that checks both paths agree. */
float model_dot_q8_0_portable(const uint8_t *w, const int8_t *xq, const float *xd, size_t n)
{
    return blocks_portable(w, xq, xd, n / MODEL_QK, false);
}

float model_dot_q4_0_portable(const uint8_t *w, const int8_t *xq, const float *xd, size_t n)
{
    return blocks_portable(w, xq, xd, n / MODEL_QK, true);
}

float model_dot_crb8_f32(const uint8_t *w, const float *x, size_t n)
{
    float S = rd_f32(w), mn = rd_f32(w + 4), st = rd_f32(w + 8);
    const uint8_t *q = w + 12;
    float acc[LANES] = { 0 }, xs[LANES] = { 0 };
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++) {
            acc[l] += (float)q[i + l] * x[i + l];
            xs[l] += x[i + l];
        }
    for (int l = 0; i < n; i++, l++) {
        acc[l] += (float)q[i] * x[i];
        xs[l] += x[i];
    }
    return (st * lanes_sum(acc) + mn * lanes_sum(xs)) / S;
}

float model_dot_crb8_u8(const uint8_t *w, const struct model_qact *a, size_t n)
{
    float S = rd_f32(w), mn = rd_f32(w + 4), st = rd_f32(w + 8);
    const uint8_t *q = w + 12;
    int32_t dot = 0, wsum = 0;
    size_t i = 0;
#ifdef __AVX2__
    /* exact integer sums: any order gives the same result */
    __m256i acc = _mm256_setzero_si256(), sum = _mm256_setzero_si256();
    for (; i + 32 <= n; i += 32) {
        __m256i qv = _mm256_loadu_si256((const __m256i *)(q + i));
        __m256i uv = _mm256_loadu_si256((const __m256i *)(a->u + i));
        __m256i q0 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(qv));
        __m256i q1 = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(qv, 1));
        __m256i u0 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(uv));
        __m256i u1 = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(uv, 1));
        acc = _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(q0, u0), _mm256_madd_epi16(q1, u1)));
        sum = _mm256_add_epi64(sum, _mm256_sad_epu8(qv, _mm256_setzero_si256()));
    }
    int32_t lanes[8];
    int64_t sums[4];
    _mm256_storeu_si256((__m256i *)lanes, acc);
    _mm256_storeu_si256((__m256i *)sums, sum);
    for (int k = 0; k < 8; k++)
        dot += lanes[k];
    for (int k = 0; k < 4; k++)
        wsum += (int32_t)sums[k];
#endif
    for (; i < n; i++) {
        dot += (int32_t)q[i] * (int32_t)a->u[i];
        wsum += q[i];
    }
    /* sum_j (mn + st q_j)(amin + ast u_j) / (S * a->scale) */
    double r = (double)n * mn * a->min + (double)mn * a->step * a->usum +
               (double)st * a->min * wsum + (double)st * a->step * dot;
    return (float)(r / ((double)S * a->scale));
}

float model_dot_sq8(const uint8_t *w, const float *x, size_t n)
{
    float sum = 0;
    for (size_t b = 0; b < n / MODEL_QK; b++) {
        uint32_t m = (uint32_t)w[0] | (uint32_t)w[1] << 8 | (uint32_t)w[2] << 16 | (uint32_t)w[3] << 24;
        float d = rd_f16(w + 4);
        const int8_t *q = (const int8_t *)(w + 6);
        const float *xb = x + b * MODEL_QK;
        float s = 0;
        int k = 0;
        while (m) {
            int j = __builtin_ctz(m);
            s += (float)q[k++] * xb[j];
            m &= m - 1;
        }
        sum += d * s;
        w += 6 + k;
    }
    return sum;
}

/* ---- Cerberus Squeezing ----------------------------------------------------- */

void model_squeeze(const float *x, size_t n, const struct model_squeeze *p,
                   uint8_t *q, float *S, float *min, float *step)
{
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        var += (x[i] - mean) * (x[i] - mean);
    double sigma = sqrt(var / (double)n);
    float s = sigma > p->thresh ? p->alpha : 1.0f / p->alpha;
    float mn = x[0] * s, mx = x[0] * s;
    for (size_t i = 1; i < n; i++) {
        mn = fminf(mn, x[i] * s);
        mx = fmaxf(mx, x[i] * s);
    }
    float st = (mx - mn) / (float)(p->levels - 1);
    float inv = st > 0 ? 1.0f / st : 0.0f;
    for (size_t i = 0; i < n; i++) {
        float t = (x[i] * s - mn) * inv;
        q[i] = (uint8_t)clampi(p->floor_mode ? floorf(t) : roundf(t), 0, p->levels - 1);
    }
    *S = s;
    *min = mn;
    *step = st;
}
