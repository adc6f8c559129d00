/*
 * internal.h: the inside of a model_t, shared by the files of model/ only
 * (model.c loads and runs it, tokenizer.c reads its vocabulary, compress.c
 * and eval.c walk its weights). Nothing outside model/ includes this.
 */
#ifndef BASED_MODEL_INTERNAL_H
#define BASED_MODEL_INTERNAL_H

#include "model/model.h"
#include "model/gguf.h"
#include "model/quant.h"

/* One weight matrix of rows x cols (ggml dims {cols, rows}). */
struct model_wt {
    const struct model_gguf_tensor *t;
    uint32_t type;
    int rows, cols;
    const uint8_t *data;
    uint64_t *row_off;     /* byte offset of each row (all types) */
    float *owned;          /* F16 converted to F32 */
};

struct model_layer {
    const float *attn_norm, *ffn_norm;
    struct model_wt wq, wk, wv, wo, w1, w2, w3;
    int nh, nkv;           /* kept query heads, kept kv heads */
    int *head_kv;          /* kept query head -> kept kv head */
};

struct model_tok {
    bool byte_level;
    int n;
    char **piece;          /* n pieces (NUL-terminated copies) */
    uint32_t *plen;
    float *score;
    int32_t *type;
    int *sorted;           /* ids sorted by piece for lookup */
    int byte_id[256];      /* <0xXX> tokens, -1 when absent */
    int bos, eos;
};

struct model_t {
    struct model_config c;
    struct model_gguf *g;
    struct model_wt emb, out;
    const float *out_norm;
    struct model_layer *layer;
    float **owned;         /* norm vectors converted from F16 */
    int n_owned;
    float *rope_cos, *rope_sin;   /* [seq_len][hs/2] */
    bool squeeze_act;
    struct model_squeeze sq;
    struct model_tok tok;
};

based_err model_tok_init(struct model_t *m, char *err, size_t errlen);
void model_tok_free(struct model_tok *t);

/*
 * Calibration hooks (compress.c): switch off attention heads (index
 * l * n_heads + h, 1 = off; NULL for none), and accumulate, for every
 * weight in model_weights() order, the sum over positions of x_j^2 of its
 * input column j (sums[i] has cols entries; NULL to stop).
 */
void model_state_heads_off(model_state *s, const uint8_t *off);
void model_state_stats(model_state *s, double **sums);

/* Every 2-D weight of the model, in a fixed order, with its GGUF name. */
int model_weights(const struct model_t *m, const struct model_wt **out, int max);

#endif
