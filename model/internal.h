/*
 * internal.h: the inside of a model_t and a model_state, shared by the
 * files of model/ only (model.c loads and runs it, batch.c and attend.c run
 * its prefills, tokenizer.c reads its vocabulary, compress.c and eval.c
 * walk its weights). Nothing outside model/ includes this.
 */
#ifndef BASED_MODEL_INTERNAL_H
#define BASED_MODEL_INTERNAL_H

#include <string.h>

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
    bool all_f32;          /* every matrix F32: prefills take batch.c */
    struct model_squeeze sq;
    struct model_tok tok;
};

/*
 * A model_state: the KV cache and the scratch of model_forward (model.c,
 * batch.c). The scratch holds cap positions; batch.c uses the same arrays
 * for blocks of MODEL_TB tokens stored transposed.
 */
struct model_state {
    const struct model_t *m;
    float *kc, *vc;              /* [L][seq][kvdim] */
    float *x, *xb, *q, *k, *v, *ao, *h1, *h3, *tmp, *att;
    int8_t *xq;
    float *xd;
    uint8_t *xu;
    struct model_qact *qa;
    int cap;                     /* positions the scratch holds */
    const uint8_t *heads_off;    /* calibration: heads switched off */
    double **stats;              /* calibration: input sums of squares */
    const struct model_wt *wlist[4 + 7 * MODEL_MAX_LAYERS];
    int n_wlist;
};

int model_kv_dim(const struct model_t *m);

/*
 * Blocks of tokens (batch.c, attend.c, quant.c): MODEL_TB tokens, as many
 * floats as a vector register of this build holds, and a model_vt of
 * MODEL_TB independent float lanes (GCC vector extension: element-wise IEEE
 * arithmetic, so a lane computes exactly what scalar code computes, whatever
 * the machine's vector width). Every file of model/ is built with the same
 * flags, so they agree on MODEL_TB; nothing outside model/ sees it.
 */
#if defined(__AVX512F__)
#define MODEL_TB 16
#elif defined(__AVX__)
#define MODEL_TB 8
#else
#define MODEL_TB 4
#endif
typedef float model_vt __attribute__((vector_size(MODEL_TB * sizeof(float))));

static inline model_vt model_ldt(const float *p)
{
    model_vt v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void model_stt(float *p, model_vt v) { memcpy(p, &v, sizeof v); }

/*
 * Causal attention of one head (attend.c). Keys and values of position u
 * are at kc + u * kvd and vc + u * kvd (hs floats each); scale is
 * 1 / sqrt(hs). model_attend_one: the query q at position pos, its output
 * to o (hs floats); att holds pos + 1 floats. model_attend_block: the
 * queries of nt <= MODEL_TB lanes of qt (hs x MODEL_TB, transposed) at
 * positions pos .. pos + nt - 1, their keys already in the cache; outputs
 * to ot (hs x MODEL_TB, lanes past nt unspecified), each bit-identical to
 * model_attend_one's; sc holds (pos + nt) x MODEL_TB floats.
 */
void model_attend_one(const float *q, int pos, const float *kc, const float *vc, size_t kvd,
                      int hs, float scale, float *att, float *o);
void model_attend_block(const float *qt, int nt, int pos, const float *kc, const float *vc,
                        size_t kvd, int hs, float scale, float *sc, float *ot);

/*
 * The prefill of n > 1 tokens through a model whose matrices are all F32
 * (model_all_f32), with the same bits as model_forward one token at a time
 * (batch.c). model_forward has checked the arguments; the scratch holds
 * n rounded up to MODEL_TB positions.
 */
bool model_all_f32(const struct model_t *m);
void model_forward_batch(model_state *s, const int *tokens, int n, int pos0, float *logits,
                         bool last_only);

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
