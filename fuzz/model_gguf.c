/*
 * model_gguf.c: libFuzzer harness for the GGUF reader and the model loader.
 *
 * Any byte string is parsed; what parses is handed to the model loader (its
 * shape checks), and a model small enough is run for two tokens and
 * serialised back, which must parse again. Nothing may crash, leak or read
 * out of bounds whatever the input.
 */
#include "model/model.h"
#include "model/gguf.h"
#include "chain/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_model(model_gguf *g)
{
    uint64_t dim = 0, layers = 0, ctx = 0, ff = 0;
    model_gguf_get_u64(g, "llama.embedding_length", &dim);
    model_gguf_get_u64(g, "llama.block_count", &layers);
    model_gguf_get_u64(g, "llama.context_length", &ctx);
    model_gguf_get_u64(g, "llama.feed_forward_length", &ff);
    if (dim > 256 || layers > 4 || ctx > 256 || ff > 1024) {
        model_gguf_free(g);
        return;
    }
    model_t *m;
    char err[256];
    if (model_from_gguf(g, &m, err, sizeof err) != BASED_E_OK)
        return;
    const struct model_config *c = model_config(m);
    model_state *s = model_state_new(m);
    float *lg = malloc((size_t)c->vocab * 2 * sizeof(float));
    int toks[2] = { 0, c->vocab - 1 };
    if (s && lg && c->seq_len >= 2)
        model_forward(s, toks, 2, 0, lg, false);
    free(lg);
    model_state_free(s);
    model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    model_gguf *g;
    char err[256];
    if (model_gguf_parse(data, size, &g, err, sizeof err) != BASED_E_OK)
        return 0;
    uint8_t *out;
    size_t n;
    if (model_gguf_serialize(g, &out, &n) == BASED_E_OK) {
        model_gguf *h;
        if (model_gguf_parse(out, n, &h, err, sizeof err) != BASED_E_OK)
            __builtin_trap();   /* what we write must read back */
        model_gguf_free(h);
        free(out);
    }
    try_model(g);
    return 0;
}
