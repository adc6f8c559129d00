/*
 * proto.h: the challenge protocol between a validator and a miner.
 *
 * A round, for each serving miner:
 *   1. The validator derives a challenge (neuron_challenge_derive) from the
 *      latest block hash, its own account key, the Brain, the miner's uid
 *      and a round counter: a prompt window of the Brain's evaluation text,
 *      a generation length, a sampling seed. The same inputs give the same
 *      challenge on every machine; a new block or round gives a new one.
 *   2. It signs the challenge with its account key (BIP340), encodes it and
 *      seals it to the miner's X25519 key (libsodium crypto_box_seal). The
 *      HTTP body of POST /v1/challenge is that sealed box, nothing else.
 *   3. The miner opens the box, checks the version, caps and signature, that
 *      the challenge is for its own uid and Brain, that the block height is
 *      recent and that the id was never seen before, generates, and answers
 *      with an answer (the tokens and per-position top-k log-probabilities)
 *      signed by its account key and sealed to the validator's X25519 key
 *      named in the challenge. A relay sees two sealed boxes.
 *
 * Encodings are fixed binary layouts (chain/codec.h: little-endian integers),
 * version byte first; decoders reject anything not exactly well-formed
 * (trailing bytes, counts over the caps, tokens outside the vocabulary
 * bound, non-finite log-probabilities) with an error naming the field.
 *
 *   challenge: u8 version=1 | u16 brain | u16 uid | addr32 validator |
 *              x25519 vbox_pk[32] | u64 height | hash32 block | u32 round |
 *              u16 n_prompt | u32 prompt[n_prompt] | u16 n_gen | u8 topk |
 *              u16 temp_milli | u16 top_k | u16 top_p_milli | u64 seed |
 *              sig64 (validator, over neuron_challenge_id)
 *   answer:    u8 version=1 | hash32 challenge id | addr32 miner |
 *              u16 n | u32 tokens[n] | u8 k | (u32 token, f32 logprob)[n*k] |
 *              u32 elapsed_us (the miner's own claim; never trusted) |
 *              sig64 (miner, over neuron_answer_hash)
 *
 * Ids and hashes are BLAKE2b-256 over a domain string and the encoding
 * without the signature. X25519 keys are derived from the account secret
 * key (neuron_box_keys), so a restart keeps the key published by `serve`.
 *
 * Threads: everything here is a pure function of its arguments.
 */
#ifndef BASED_NEURONS_PROTO_H
#define BASED_NEURONS_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "chain/crypto.h"
#include "chain/base.h"

#define NEURON_PROTO_VERSION 1
#define NEURON_MAX_PROMPT 512      /* tokens in a challenge's prompt */
#define NEURON_MAX_GEN 256         /* tokens a challenge may ask for */
#define NEURON_MAX_TOPK 16         /* log-probabilities per position */
#define NEURON_MAX_VOCAB 262144    /* token ids are below this */
/* Largest encodings, and the sealed sizes the HTTP bodies are capped at. */
#define NEURON_CHALLENGE_MAX (1 + 2 + 2 + 32 + 32 + 8 + 32 + 4 + 2 + 4 * NEURON_MAX_PROMPT + \
                              2 + 1 + 2 + 2 + 2 + 8 + 64)
#define NEURON_ANSWER_MAX (1 + 32 + 32 + 2 + 4 * NEURON_MAX_GEN + 1 + \
                           8 * NEURON_MAX_GEN * NEURON_MAX_TOPK + 4 + 64)
#define NEURON_SEAL_OVERHEAD 48    /* crypto_box_SEALBYTES */
#define NEURON_REQUEST_BODY_MAX (NEURON_CHALLENGE_MAX + NEURON_SEAL_OVERHEAD)
#define NEURON_RESPONSE_BODY_MAX (NEURON_ANSWER_MAX + NEURON_SEAL_OVERHEAD)
#define NEURON_CHALLENGE_PATH "/v1/challenge"

typedef struct {
    uint8_t pk[32];   /* X25519 public key (published by serve) */
    uint8_t sk[32];   /* X25519 secret key (keep in secure memory) */
} neuron_box_keys;

typedef struct {
    uint16_t brain;
    uint16_t uid;                 /* the miner's uid */
    chain_addr validator;         /* the validator's account */
    uint8_t vbox_pk[32];          /* answer is sealed to this X25519 key */
    uint64_t height;              /* block the challenge derives from */
    chain_hash block;             /* its hash */
    uint32_t round;               /* the validator's round counter */
    uint16_t n_prompt;
    int32_t prompt[NEURON_MAX_PROMPT];
    uint16_t n_gen;               /* tokens to generate, exactly */
    uint8_t topk;                 /* log-probabilities per position */
    uint16_t temp_milli;          /* temperature x 1000 (0: greedy) */
    uint16_t top_k;               /* 0: all */
    uint16_t top_p_milli;         /* top-p x 1000 (1000: all) */
    uint64_t seed;                /* sampling seed (model_generate) */
    chain_sig sig;                /* the validator's, over the id */
} neuron_challenge;

typedef struct {
    int32_t token;
    float logprob;
} neuron_lp;

typedef struct {
    chain_hash id;                /* neuron_challenge_id of what it answers */
    chain_addr miner;             /* the miner's account */
    uint16_t n;
    int32_t tokens[NEURON_MAX_GEN];
    uint8_t k;
    neuron_lp topk[NEURON_MAX_GEN * NEURON_MAX_TOPK];   /* n x k, row-major */
    uint32_t elapsed_us;
    chain_sig sig;                /* the miner's, over neuron_answer_hash */
} neuron_answer;

/* X25519 keys derived from an account secret key:
 * sk = BLAKE2b-256("based/neuron/x25519/v1" || account_sk), pk = X25519 base. */
void neuron_box_keys_derive(const uint8_t account_sk[32], neuron_box_keys *out);

/* Evaluation text a challenge's prompt is cut from (bytes; the validator's
 * held-out text). Tokenised by the caller's model: a prompt is a window of
 * `len` bytes starting at a seed-chosen offset, encoded with the model's
 * tokenizer into at most NEURON_MAX_PROMPT tokens. */
typedef struct {
    int min_prompt_bytes, max_prompt_bytes;   /* prompt window, bytes */
    int min_gen, max_gen;                     /* tokens to generate */
    uint8_t topk;                             /* log-probabilities asked */
    uint16_t temp_milli, top_k, top_p_milli;  /* sampler asked */
} neuron_challenge_params;

/* The defaults: prompts 24-64 bytes, 32-48 tokens, top-8, T = 0.8, no
 * top-k / top-p truncation. */
void neuron_challenge_params_default(neuron_challenge_params *p);

/* The 32-byte seed of a challenge:
 * BLAKE2b-256("based/challenge/v1" || block || validator || u16 brain ||
 *             u16 uid || u32 round || u64 height), integers little-endian. */
chain_hash neuron_challenge_seed(const chain_hash *block, uint64_t height,
                                 const chain_addr *validator, uint16_t brain, uint16_t uid,
                                 uint32_t round);

/* Fills the fields of c other than prompt/n_prompt and sig from the seed and
 * params (n_gen, topk, sampler, seed) and returns in *offset and *len the
 * byte window of a text of text_len bytes to use as the prompt (text_len
 * must be > max_prompt_bytes). The caller encodes the window into
 * c->prompt and signs (neuron_challenge_sign). */
void neuron_challenge_derive(neuron_challenge *c, const neuron_challenge_params *p,
                             const chain_hash *seed, size_t text_len, size_t *offset,
                             size_t *len);

/* BLAKE2b-256("based/challenge-id/v1" || encoding without sig). */
chain_hash neuron_challenge_id(const neuron_challenge *c);
/* Sets c->sig with the validator's account key. */
based_err neuron_challenge_sign(neuron_challenge *c, const uint8_t validator_sk[32]);
bool neuron_challenge_verify(const neuron_challenge *c);

/* BLAKE2b-256("based/answer/v1" || encoding without sig). */
chain_hash neuron_answer_hash(const neuron_answer *a);
based_err neuron_answer_sign(neuron_answer *a, const uint8_t miner_sk[32]);
/* True when a->sig is a->miner's signature of the answer. */
bool neuron_answer_verify(const neuron_answer *a);

/* Encoding into out (cap bytes); *len is the size written. BASED_E_TOO_LARGE
 * if cap is too small, BASED_E_BAD_PARAM for counts over the caps. */
based_err neuron_challenge_encode(const neuron_challenge *c, uint8_t *out, size_t cap,
                                  size_t *len);
based_err neuron_answer_encode(const neuron_answer *a, uint8_t *out, size_t cap, size_t *len);
/* Decoding; on error *why names the field ("prompt: 600 tokens, at most 512")
 * in a static or caller buffer (why_buf, why_n bytes). */
based_err neuron_challenge_decode(const uint8_t *p, size_t n, neuron_challenge *c,
                                  char *why, size_t why_n);
based_err neuron_answer_decode(const uint8_t *p, size_t n, neuron_answer *a, char *why,
                               size_t why_n);

/* Sealing (crypto_box_seal): out must hold n + NEURON_SEAL_OVERHEAD bytes. */
based_err neuron_seal(const uint8_t *msg, size_t n, const uint8_t pk[32], uint8_t *out);
/* Opening: out holds n - NEURON_SEAL_OVERHEAD bytes. BASED_E_DECODE if the
 * box is too short or does not open with these keys. */
based_err neuron_open(const uint8_t *box, size_t n, const neuron_box_keys *k, uint8_t *out,
                      size_t *out_len);

/* Challenge <-> sampler: temperature = temp_milli / 1000, top_p = top_p_milli / 1000. */
struct model_sampler;
void neuron_challenge_sampler(const neuron_challenge *c, struct model_sampler *s);

#endif
