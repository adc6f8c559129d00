/*
 * export.c: writes a trained byte-level model as an F32 GGUF file with the
 * llama architecture keys, tensor names and ggml dimension order that other
 * GGUF readers expect (dims[0] is the row length, i.e. the input size of a
 * weight matrix), and a 256-entry byte vocabulary ("<0x00>".."<0xFF>", token
 * type 6 = byte) under tokenizer.ggml.model = "based-byte".
 */
#include "model/model.h"
#include "model/gguf.h"
#include "model/quant.h"
#include "chain/base.h"

static based_err meta(model_gguf *g, const struct model_config *c)
{
    based_err e = 0;
    e |= model_gguf_set_str(g, "general.architecture", "llama");
    e |= model_gguf_set_str(g, "general.name", "based-fortunes");
    e |= model_gguf_set_u32(g, "general.alignment", 32);
    e |= model_gguf_set_u32(g, "general.file_type", 0);
    e |= model_gguf_set_u32(g, "general.quantization_version", 2);
    e |= model_gguf_set_u32(g, "llama.context_length", (uint32_t)c->seq_len);
    e |= model_gguf_set_u32(g, "llama.embedding_length", (uint32_t)c->dim);
    e |= model_gguf_set_u32(g, "llama.block_count", (uint32_t)c->n_layers);
    e |= model_gguf_set_u32(g, "llama.feed_forward_length", (uint32_t)c->hidden);
    e |= model_gguf_set_u32(g, "llama.rope.dimension_count", (uint32_t)(c->dim / c->n_heads));
    e |= model_gguf_set_u32(g, "llama.attention.head_count", (uint32_t)c->n_heads);
    e |= model_gguf_set_u32(g, "llama.attention.head_count_kv", (uint32_t)c->n_kv_heads);
    e |= model_gguf_set_f32(g, "llama.attention.layer_norm_rms_epsilon", c->eps);
    e |= model_gguf_set_f32(g, "llama.rope.freq_base", c->rope_theta);
    e |= model_gguf_set_u32(g, "llama.vocab_size", (uint32_t)c->vocab);
    return e ? BASED_E_NOMEM : BASED_E_OK;
}

static based_err vocab(model_gguf *g)
{
    char names[256][8];
    const char *ptrs[256];
    float scores[256];
    int32_t types[256];
    for (int i = 0; i < 256; i++) {
        snprintf(names[i], sizeof names[i], "<0x%02X>", i);
        ptrs[i] = names[i];
        scores[i] = 0;
        types[i] = 6;
    }
    based_err e = 0;
    e |= model_gguf_set_str(g, "tokenizer.ggml.model", "based-byte");
    e |= model_gguf_set_str_arr(g, "tokenizer.ggml.tokens", 256, ptrs);
    e |= model_gguf_set_arr(g, "tokenizer.ggml.scores", MODEL_GGUF_F32, 256, scores);
    e |= model_gguf_set_arr(g, "tokenizer.ggml.token_type", MODEL_GGUF_I32, 256, types);
    return e ? BASED_E_NOMEM : BASED_E_OK;
}

static based_err add2(model_gguf *g, const char *name, const float *w, uint64_t cols, uint64_t rows)
{
    uint64_t dims[2] = { cols, rows };
    return model_gguf_add_tensor(g, name, MODEL_T_F32, rows > 1 ? 2 : 1, dims, w,
                                 cols * rows * sizeof(float));
}

based_err model_export(const struct model_config *c, const float *params,
                       const char *path, char *err, size_t errlen)
{
    model_gguf *g = model_gguf_new();
    if (!g)
        return BASED_E_NOMEM;
    uint64_t D = (uint64_t)c->dim, H = (uint64_t)c->hidden, V = (uint64_t)c->vocab;
    uint64_t L = (uint64_t)c->n_layers, Dkv = D / (uint64_t)c->n_heads * (uint64_t)c->n_kv_heads;
    const float *emb = params, *rms_att = emb + V * D, *wq = rms_att + L * D,
                *wk = wq + L * D * D, *wv = wk + L * Dkv * D, *wo = wv + L * Dkv * D,
                *rms_ffn = wo + L * D * D, *w1 = rms_ffn + L * D, *w2 = w1 + L * H * D,
                *w3 = w2 + L * D * H, *rms_f = w3 + L * H * D, *wcls = rms_f + D;
    based_err e = meta(g, c);
    if (!e && c->vocab == 256)
        e = vocab(g);
    if (!e)
        e = add2(g, "token_embd.weight", emb, D, V);
    for (uint64_t l = 0; l < L && !e; l++) {
        char n[64];
#define T(suffix, ptr, cols, rows) \
        if (!e) { snprintf(n, sizeof n, "blk.%u.%s", (unsigned)l, suffix); \
                  e = add2(g, n, ptr, cols, rows); }
        T("attn_norm.weight", rms_att + l * D, D, 1)
        T("attn_q.weight", wq + l * D * D, D, D)
        T("attn_k.weight", wk + l * Dkv * D, D, Dkv)
        T("attn_v.weight", wv + l * Dkv * D, D, Dkv)
        T("attn_output.weight", wo + l * D * D, D, D)
        T("ffn_norm.weight", rms_ffn + l * D, D, 1)
        T("ffn_gate.weight", w1 + l * H * D, D, H)
        T("ffn_down.weight", w2 + l * D * H, H, D)
        T("ffn_up.weight", w3 + l * H * D, D, H)
#undef T
    }
    if (!e)
        e = add2(g, "output_norm.weight", rms_f, D, 1);
    if (!e)
        e = add2(g, "output.weight", wcls, D, V);
    if (e)
        snprintf(err, errlen, "%s: cannot build GGUF: %s", path, based_strerror(e));
    else
        e = model_gguf_save(g, path, err, errlen);
    model_gguf_free(g);
    return e;
}
