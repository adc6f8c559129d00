/*
 * model.h: the language-model runtime of based, as used by based-model,
 * and later by based-miner and based-validator.
 *
 * A model_t is a Llama-style decoder (RMSNorm, rotary positions over
 * interleaved pairs, multi-head or grouped-query attention, SwiGLU, no
 * biases) loaded from a GGUF v3 file (gguf.h) whose tensors may be F32, F16,
 * Q8_0, Q4_0 or our Cerberus/sparse types (quant.h). Its tokenizer comes from
 * the same file: byte-level (our models) or a scored SentencePiece-style
 * vocabulary (tokenizer.ggml.model = "llama").
 *
 * Typical use (a validator's reference pass, a miner's answer):
 *
 *     model_t *m; char err[256];
 *     if (model_load("models/based-fortunes.gguf", &m, err, sizeof err)) ...
 *     model_state *s = model_state_new(m);
 *     model_forward(s, toks, n, 0, logits);          // n x vocab logits
 *     model_generate(s, prompt, np, &samp, seed, 200, out, 5, topk);
 *
 * Determinism: the same binary, model and tokens give bit-identical logits,
 * and a position's logits do not depend on how the sequence was split into
 * forward calls (one batched prefill equals token-by-token decoding).
 *
 * Ownership and threads: a model_t is immutable after loading and may be
 * shared by threads; a model_state (KV cache, scratch) belongs to one
 * thread. Everything returned is owned by the caller unless stated.
 */
#ifndef BASED_MODEL_MODEL_H
#define BASED_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

#include "chain/base.h"

#define MODEL_DEFAULT_PATH "models/based-fortunes.gguf"
#define MODEL_MAX_VOCAB 262144
#define MODEL_MAX_DIM 16384
#define MODEL_MAX_LAYERS 256
#define MODEL_MAX_SEQ 32768

struct model_config {
    int dim;          /* embedding length */
    int hidden;       /* feed-forward length */
    int n_layers;
    int n_heads;
    int n_kv_heads;   /* == n_heads: MHA; divides n_heads: GQA */
    int vocab;
    int seq_len;      /* context length */
    float rope_theta; /* 10000 */
    float eps;        /* RMSNorm epsilon, 1e-5 */
};

typedef struct model_t model_t;
typedef struct model_state model_state;

/* ---- loading ---------------------------------------------------------------- */
struct model_gguf;
/* Load a GGUF file. On error *out is NULL and err names the problem. */
based_err model_load(const char *path, model_t **out, char *err, size_t errlen);
/* Build from a parsed GGUF; takes ownership of g (freed on error too). */
based_err model_from_gguf(struct model_gguf *g, model_t **out, char *err, size_t errlen);
void model_free(model_t *m);
const struct model_config *model_config(const model_t *m);
/* The GGUF the model was loaded from (owned by the model). */
const struct model_gguf *model_file(const model_t *m);
/* Number of weights in 2-D tensors, and bytes those tensors take. */
uint64_t model_weight_count(const model_t *m);
uint64_t model_weight_bytes(const model_t *m);

/* ---- inference ----------------------------------------------------------------- */
model_state *model_state_new(const model_t *m);
void model_state_free(model_state *s);
const struct model_config *model_state_config(const model_state *s);
/*
 * Run tokens[0..n) at positions pos0..pos0+n-1 (pos0 + n <= seq_len; the
 * KV cache must hold positions < pos0). Writes n x vocab logits, or only the
 * last position's vocab logits when last_only is set. Returns BASED_E_BAD_PARAM
 * for positions beyond the context or tokens outside the vocabulary.
 */
based_err model_forward(model_state *s, const int *tokens, int n, int pos0,
                        float *logits, bool last_only);

/* ---- tokenizer ------------------------------------------------------------------ */
/* Encode text into at most max tokens; returns the count, or -1 on error. */
int model_encode(const model_t *m, const char *text, size_t len, int *out, int max);
/* Append the text of one token to buf (NUL-terminated); returns bytes added. */
size_t model_decode(const model_t *m, int token, char *buf, size_t cap);
bool model_is_byte_level(const model_t *m);
int model_bos(const model_t *m); /* -1 when none */

/* ---- sampling ---------------------------------------------------------------------- */
struct model_sampler {
    float temperature;  /* 0 = greedy */
    int top_k;          /* 0 = all */
    float top_p;        /* 1 = all */
};
/* Deterministic generator (splitmix64); state advanced in place. */
uint64_t model_rng_next(uint64_t *state);
double model_rng_uniform(uint64_t *state); /* [0, 1), 53 bits */
/* Sample one token from logits (not modified) of vocab entries. */
int model_sample(const float *logits, int vocab, const struct model_sampler *p, uint64_t *rng);

/* The steps of model_sample, for replaying its draw elsewhere: one
 * candidate a token, with its probability at the sampler's temperature. */
struct model_cand { int id; double p; };
/* The probabilities of logits at temperature (> 0) into c[0..vocab) sorted
 * largest first, ties by lower id (c holds 2 x vocab entries: the second
 * half is scratch); byid (may be NULL) gets them by token id. */
void model_sample_sorted(const float *logits, int vocab, float temperature,
                         struct model_cand *c, double *byid);
/* How many of the first candidates top_k / top_p keep, and their mass. */
int model_sample_keep(const struct model_cand *c, int vocab, const struct model_sampler *p,
                      double *keep);
/* The first index of the largest logit. */
int model_argmax(const float *logits, int vocab);

struct model_topk { int token; float logprob; };
/*
 * Prefill the prompt, then sample n_gen tokens with the seeded sampler.
 * out[i] is the i-th generated token; when k > 0, topk[i*k .. i*k+k) holds the
 * k most likely tokens and their log-probabilities (temperature 1, the raw
 * model distribution) at the position that produced out[i]. Returns the
 * number generated (stops early at the context end), or -1 on error.
 */
int model_generate(model_state *s, const int *prompt, int n_prompt,
                   const struct model_sampler *p, uint64_t seed, int n_gen,
                   int *out, int k, struct model_topk *topk);

/* ---- corpus (Debian fortunes) and training ------------------------------------------ */
struct model_corpus {
    uint8_t *train, *heldout;
    size_t n_train, n_heldout;
};
#define MODEL_FORTUNES_DIR "/usr/share/games/fortunes"
/* Every 10th fortune (index % 10 == 9) is held out. max_bytes 0 = no cap. */
based_err model_corpus_load(const char *dir, size_t max_bytes, struct model_corpus *c,
                            char *err, size_t errlen);
void model_corpus_free(struct model_corpus *c);

struct model_train_opts {
    struct model_config cfg;
    const char *data_dir;
    size_t max_bytes;
    int steps, batch, threads;
    float lr, min_lr, weight_decay;
    int warmup;
    uint64_t seed;
    int eval_every;           /* steps between held-out checks (0: only at end) */
    const char *out_path;
    FILE *progress;           /* progress bar and log lines, or NULL */
};
struct model_train_result { double train_loss, heldout_loss, seconds; long tokens; };
based_err model_train(const struct model_train_opts *o, struct model_train_result *r,
                      char *err, size_t errlen);
/* Write an F32 GGUF of a byte-level model from trainer-layout parameters. */
based_err model_export(const struct model_config *c, const float *params,
                       const char *path, char *err, size_t errlen);
/* Largest relative error of the backward pass against finite differences
 * at n seeded parameters of a random model of shape c (tests). */
double model_train_gradcheck(const struct model_config *c, uint64_t seed, int n);
/* Parameter count of the trainer layout. */
size_t model_param_count(const struct model_config *c);

/* ---- compression and evaluation --------------------------------------------------------- */
struct model_compress_opts {
    const char *method;       /* q8_0 q4_0 cerberus heads consensus prime f32 */
    /* cerberus */
    int levels; float thresh, alpha; bool floor_mode, activations;
    /* heads */
    float theta;
    /* consensus */
    int shards; float keep;
    /* calibration text for heads/consensus (bytes from the training split) */
    const uint8_t *calib; size_t n_calib;
};
void model_compress_defaults(struct model_compress_opts *o);
/* Compress `in` into a new GGUF (caller frees with model_gguf_free). */
based_err model_compress(const model_t *in, const struct model_compress_opts *o,
                         struct model_gguf **out, char *err, size_t errlen);
bool model_method_known(const char *name);

struct model_eval_row {
    char method[32];
    double bytes_per_weight, ratio, kld, top1, ppl_ratio, tokens_per_s;
    long positions;
};
/*
 * Score `q` against reference `ref` over `positions` held-out positions
 * (windows of the context length). Fills kld, top1, ppl_ratio.
 */
based_err model_eval_pair(const model_t *ref, const model_t *q, const uint8_t *text,
                          size_t len, long positions, struct model_eval_row *row);
/*
 * The same in two steps, to score many models against one reference: the
 * reference logits of ceil(positions / context) windows (caller frees; NULL
 * when the text is too short), then one model against them.
 */
float *model_eval_reference(const model_t *ref, const uint8_t *text, size_t len,
                            long positions, long *n_out);
based_err model_eval_against(const float *ref_logits, long n, const model_t *q,
                             const uint8_t *text, size_t len, struct model_eval_row *row);
/* Tokens per second of single-token decoding for n tokens, one thread. */
double model_decode_speed(const model_t *m, int n);

/* Held-out mean loss (nats per token) of a model over windows of its context. */
double model_heldout_loss(const model_t *m, const uint8_t *text, size_t len, long positions);

#endif
