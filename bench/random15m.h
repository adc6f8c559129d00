/* random15m.h: a randomly initialised model of llama2.c's stories15M shape
 * (dim 288, 6 layers, 6 heads, hidden 768, vocab 32000, seq 256, classifier
 * tied to the embedding), for the model benches: speed depends only on the
 * shape. */
#ifndef BASED_BENCH_RANDOM15M_H
#define BASED_BENCH_RANDOM15M_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"
#include "model/gguf.h"
#include "chain/base.h"

/* The trainer's exporter with uniform weights in [-0.05, 0.05) (seed 15);
 * NULL with err set on failure. */
static inline model_t *bench_random_15m(char *err, size_t errlen)
{
    struct model_config c = { 288, 768, 6, 6, 6, 32000, 256, 10000.0f, 1e-5f };
    size_t np = model_param_count(&c);
    float *p = malloc(np * sizeof(float));
    if (!p)
        return NULL;
    uint64_t rng = 15;
    for (size_t i = 0; i < np; i++)
        p[i] = (float)(model_rng_uniform(&rng) - 0.5) * 0.1f;
    char path[64];
    snprintf(path, sizeof path, "/tmp/based-bench-15m-%ld.gguf", (long)getpid());
    model_t *m = NULL;
    model_gguf *g = NULL, *h = model_gguf_new();
    if (h && model_export(&c, p, path, err, errlen) == BASED_E_OK &&
        model_gguf_load(path, &g, err, errlen) == BASED_E_OK) {
        /* stories15M shares its classifier with the embedding: drop output.weight */
        for (size_t i = 0; i < model_gguf_kv_count(g); i++)
            model_gguf_set(h, model_gguf_kv_key(g, i), model_gguf_kv_value(g, i));
        for (size_t i = 0; i < model_gguf_tensor_count(g); i++) {
            const struct model_gguf_tensor *t = model_gguf_tensor_at(g, i);
            if (strcmp(t->name, "output.weight") != 0)
                model_gguf_add_tensor(h, t->name, t->type, t->n_dims, t->dims, t->data, t->nbytes);
        }
        model_from_gguf(h, &m, err, errlen);
        h = NULL;
    }
    model_gguf_free(g);
    model_gguf_free(h);
    remove(path);
    free(p);
    return m;
}

#endif
