/*
 * quant.h: tensor storage types and the kernels that read them.
 *
 * Standard ggml block layouts (ggml-common.h): F32, F16, Q8_0 (34 bytes per
 * 32 weights: fp16 scale d, 32 int8, x = d*q) and Q4_0 (18 bytes per 32:
 * fp16 d, 16 bytes of nibbles, byte j holds element j low and j+16 high,
 * x = d*(nibble-8)). Plus two types of ours (docs/model-format.md):
 *
 *   CRB8 (200)  Cerberus rows: per row f32 S, f32 min, f32 step, then one
 *               u8 level per weight; x = (min + q*step) / S.
 *   SQ8  (201)  sparse blocks of 32: u32 keep mask (bit j = element j),
 *               fp16 d, then one int8 per kept element; x = d*q or 0.
 *               Block size varies (6 + popcount(mask) bytes).
 *
 * The dot kernels fix their order of operations (independent lanes summed
 * in a fixed order, integer sums where the format allows), so a build gives
 * the same bits whatever the vector width the compiler picks.
 */
#ifndef BASED_MODEL_QUANT_H
#define BASED_MODEL_QUANT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

enum model_type {
    MODEL_T_F32 = 0, MODEL_T_F16 = 1, MODEL_T_Q4_0 = 2, MODEL_T_Q8_0 = 8,
    MODEL_T_CRB8 = 200, MODEL_T_SQ8 = 201
};

#define MODEL_QK 32

/* Name ("F32", "Q8_0", ...) or NULL for an unknown type. */
const char *model_type_name(uint32_t type);
bool model_type_known(uint32_t type);
/*
 * Bytes of one row of `cols` elements for fixed-size types; 0 when the type
 * is unknown, variable (SQ8) or cols is not a multiple of its block.
 */
uint64_t model_type_row_bytes(uint32_t type, uint64_t cols);
/*
 * Bytes used by an SQ8 tensor of rows x cols starting at p with `avail`
 * bytes readable; 0 when it does not fit. Fills row_off[rows] when given.
 */
uint64_t model_sq8_bytes(const uint8_t *p, uint64_t avail, uint64_t rows,
                         uint64_t cols, uint64_t *row_off);

uint16_t model_f32_to_f16(float f);
float model_f16_to_f32(uint16_t h);

/* Quantize n (multiple of 32) floats; return bytes written. */
size_t model_quantize_q8_0(const float *x, size_t n, uint8_t *out);
size_t model_quantize_q4_0(const float *x, size_t n, uint8_t *out);
/* Dequantize one row of a fixed-size-type row, or an SQ8 row. */
void model_dequant_row(uint32_t type, const uint8_t *row, size_t cols, float *out);

/* Activations quantized for integer dot products. */
struct model_qact {
    int8_t *q;       /* Q8_0 activations: n int8 */
    float *d;        /* one scale per 32 */
    uint8_t *u;      /* Cerberus-squeezed activations: n u8 levels */
    float min, step, scale;  /* x = (min + u*step)/scale */
    int32_t usum;    /* sum of u */
};
void model_qact_q8(const float *x, size_t n, int8_t *q, float *d);

/* Dot products of one weight row with an activation vector of n. */
float model_dot_f32(const float *w, const float *x, size_t n);
/*
 * Batched F32 dots: `rows` consecutive rows of n (w) against nb blocks of
 * TB = model_tb() tokens stored transposed: token t of block b is
 * xt[(b * n + k) * TB + t] for k < n. out[(b * rows + r) * TB + t] is
 * bit-identical to model_dot_f32(w + r * n, x_bt, n): the block width (the
 * floats of a vector register: 16 with AVX-512, 8 with AVX, else 4; at most
 * MODEL_TB_MAX) changes the speed, never a bit.
 */
#define MODEL_TB_MAX 16
int model_tb(void);
void model_dot_f32_tb(const float *w, size_t rows, const float *xt, size_t n, int nb, float *out);
float model_dot_q8_0(const uint8_t *w, const int8_t *xq, const float *xd, size_t n);
float model_dot_q4_0(const uint8_t *w, const int8_t *xq, const float *xd, size_t n);
float model_dot_q8_0_portable(const uint8_t *w, const int8_t *xq, const float *xd, size_t n);
float model_dot_q4_0_portable(const uint8_t *w, const int8_t *xq, const float *xd, size_t n);
float model_dot_crb8_f32(const uint8_t *w, const float *x, size_t n);
float model_dot_crb8_u8(const uint8_t *w, const struct model_qact *a, size_t n);
float model_dot_sq8(const uint8_t *w, const float *x, size_t n);

/*
 * Cerberus Squeezing of one vector (whitepaper 5.1): sigma of the vector;
 * S = alpha if sigma > thresh else 1/alpha; levels between the scaled
 * vector's min and max, step = (max-min)/(levels-1); q = round or floor.
 * Writes levels to q (one byte each, levels <= 256) and returns S, min, step.
 */
struct model_squeeze { int levels; float thresh, alpha; bool floor_mode; };
void model_squeeze(const float *x, size_t n, const struct model_squeeze *p,
                   uint8_t *q, float *S, float *min, float *step);

#endif
