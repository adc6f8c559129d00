/*
 * proto.c: challenge and answer encodings, ids, signatures, sealing, and the
 * derivation of a challenge from a block (see proto.h for the layouts).
 *
 * Decoders read every field through chain_rbuf (which never reads past the
 * input), check each count against its cap before using it, and refuse
 * trailing bytes; the first problem is reported by field name.
 */
#include <math.h>
#include <sodium.h>
#include <stdarg.h>

#include "chain/codec.h"
#include "model/model.h"
#include "neurons/proto.h"

_Static_assert(NEURON_SEAL_OVERHEAD == crypto_box_SEALBYTES, "seal overhead");

static const char DOM_X25519[] = "based/neuron/x25519/v1";
static const char DOM_SEED[] = "based/challenge/v1";
static const char DOM_ID[] = "based/challenge-id/v1";
static const char DOM_ANSWER[] = "based/answer/v1";

static void why_set(char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void why_set(char *why, size_t n, const char *fmt, ...)
{
    if (!why || !n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
}

void neuron_box_keys_derive(const uint8_t account_sk[32], neuron_box_keys *out)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)DOM_X25519, sizeof DOM_X25519 - 1);
    crypto_generichash_update(&st, account_sk, 32);
    crypto_generichash_final(&st, out->sk, 32);
    sodium_memzero(&st, sizeof st);
    crypto_scalarmult_base(out->pk, out->sk);
}

void neuron_challenge_params_default(neuron_challenge_params *p)
{
    memset(p, 0, sizeof *p);
    p->min_prompt_bytes = 24;
    p->max_prompt_bytes = 64;
    p->min_gen = 32;
    p->max_gen = 48;
    p->topk = 8;
    p->temp_milli = 800;
    p->top_k = 0;
    p->top_p_milli = 1000;
}

/* ---------------- hashing helpers ---------------- */

static chain_hash hash_domain(const char *dom, const uint8_t *p, size_t n)
{
    chain_hash h;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h.b);
    crypto_generichash_update(&st, (const uint8_t *)dom, strlen(dom));
    crypto_generichash_update(&st, p, n);
    crypto_generichash_final(&st, h.b, sizeof h.b);
    return h;
}

chain_hash neuron_challenge_seed(const chain_hash *block, uint64_t height,
                                 const chain_addr *validator, uint16_t brain, uint16_t uid,
                                 uint32_t round)
{
    chain_wbuf w;
    chain_w_init(&w, 128);
    chain_w_raw(&w, block->b, 32);
    chain_w_raw(&w, validator->b, 32);
    chain_w_u16(&w, brain);
    chain_w_u16(&w, uid);
    chain_w_u32(&w, round);
    chain_w_u64(&w, height);
    chain_hash h;
    if (w.err)
        memset(&h, 0, sizeof h);   /* 80 bytes always fit; keeps the analyser quiet */
    else
        h = hash_domain(DOM_SEED, w.p, w.len);
    chain_w_free(&w);
    return h;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* A value in [lo, hi] (lo <= hi) from the generator. */
static int pick(uint64_t *rng, int lo, int hi)
{
    uint64_t span = (uint64_t)(hi - lo) + 1;
    return lo + (int)(model_rng_next(rng) % span);
}

void neuron_challenge_derive(neuron_challenge *c, const neuron_challenge_params *p,
                             const chain_hash *seed, size_t text_len, size_t *offset,
                             size_t *len)
{
    uint64_t rng = le64(seed->b) ^ le64(seed->b + 8);
    int lo = p->min_prompt_bytes > 0 ? p->min_prompt_bytes : 1;
    int hi = p->max_prompt_bytes >= lo ? p->max_prompt_bytes : lo;
    size_t n = (size_t)pick(&rng, lo, hi);
    if (n > text_len)
        n = text_len;
    *len = n;
    *offset = (size_t)(model_rng_next(&rng) % (uint64_t)(text_len - n + 1));
    int glo = p->min_gen > 0 ? p->min_gen : 1;
    int ghi = p->max_gen >= glo ? p->max_gen : glo;
    c->n_gen = (uint16_t)pick(&rng, glo, ghi);
    c->topk = p->topk;
    c->temp_milli = p->temp_milli;
    c->top_k = p->top_k;
    c->top_p_milli = p->top_p_milli;
    c->seed = le64(seed->b + 16) ^ le64(seed->b + 24);
}

void neuron_challenge_sampler(const neuron_challenge *c, struct model_sampler *s)
{
    s->temperature = (float)c->temp_milli / 1000.0f;
    s->top_k = c->top_k;
    s->top_p = c->top_p_milli >= 1000 ? 1.0f : (float)c->top_p_milli / 1000.0f;
}

/* ---------------- challenge encoding ---------------- */

static void challenge_body(const neuron_challenge *c, chain_wbuf *w)
{
    chain_w_u8(w, NEURON_PROTO_VERSION);
    chain_w_u16(w, c->brain);
    chain_w_u16(w, c->uid);
    chain_w_raw(w, c->validator.b, 32);
    chain_w_raw(w, c->vbox_pk, 32);
    chain_w_u64(w, c->height);
    chain_w_raw(w, c->block.b, 32);
    chain_w_u32(w, c->round);
    chain_w_u16(w, c->n_prompt);
    for (unsigned i = 0; i < c->n_prompt; i++)
        chain_w_u32(w, (uint32_t)c->prompt[i]);
    chain_w_u16(w, c->n_gen);
    chain_w_u8(w, c->topk);
    chain_w_u16(w, c->temp_milli);
    chain_w_u16(w, c->top_k);
    chain_w_u16(w, c->top_p_milli);
    chain_w_u64(w, c->seed);
}

static bool challenge_fits(const neuron_challenge *c)
{
    return c->n_prompt <= NEURON_MAX_PROMPT && c->n_gen <= NEURON_MAX_GEN &&
           c->topk <= NEURON_MAX_TOPK;
}

chain_hash neuron_challenge_id(const neuron_challenge *c)
{
    chain_hash h;
    memset(&h, 0, sizeof h);
    if (!challenge_fits(c))
        return h;
    chain_wbuf w;
    chain_w_init(&w, NEURON_CHALLENGE_MAX);
    challenge_body(c, &w);
    if (!w.err)
        h = hash_domain(DOM_ID, w.p, w.len);
    chain_w_free(&w);
    return h;
}

based_err neuron_challenge_sign(neuron_challenge *c, const uint8_t validator_sk[32])
{
    if (!challenge_fits(c))
        return BASED_E_BAD_PARAM;
    chain_hash id = neuron_challenge_id(c);
    return chain_sign(validator_sk, &id, &c->sig);
}

bool neuron_challenge_verify(const neuron_challenge *c)
{
    if (!challenge_fits(c))
        return false;
    chain_hash id = neuron_challenge_id(c);
    return chain_verify(&c->validator, &id, &c->sig);
}

/* Copies a finished writer into out (cap bytes). */
static based_err emit(chain_wbuf *w, uint8_t *out, size_t cap, size_t *len)
{
    based_err rc = BASED_E_OK;
    if (w->err)
        rc = BASED_E_NOMEM;
    else if (w->len > cap)
        rc = BASED_E_TOO_LARGE;
    else {
        memcpy(out, w->p, w->len);
        *len = w->len;
    }
    chain_w_free(w);
    return rc;
}

based_err neuron_challenge_encode(const neuron_challenge *c, uint8_t *out, size_t cap,
                                  size_t *len)
{
    *len = 0;
    if (!challenge_fits(c))
        return BASED_E_BAD_PARAM;
    chain_wbuf w;
    chain_w_init(&w, NEURON_CHALLENGE_MAX);
    challenge_body(c, &w);
    chain_w_raw(&w, c->sig.b, 64);
    return emit(&w, out, cap, len);
}

/* Reads a token id (u32 below NEURON_MAX_VOCAB); false when out of range. */
static bool read_token(chain_rbuf *r, int32_t *out)
{
    uint32_t t = chain_r_u32(r);
    *out = (int32_t)t;
    return t < NEURON_MAX_VOCAB;
}

static based_err fail(chain_rbuf *r, char *why, size_t why_n)
{
    why_set(why, why_n, "%s", r->what ? r->what : "malformed");
    return BASED_E_DECODE;
}

based_err neuron_challenge_decode(const uint8_t *p, size_t n, neuron_challenge *c,
                                  char *why, size_t why_n)
{
    chain_rbuf r;
    memset(c, 0, sizeof *c);
    if (n > NEURON_CHALLENGE_MAX) {
        why_set(why, why_n, "challenge: %zu bytes, at most %d", n, NEURON_CHALLENGE_MAX);
        return BASED_E_TOO_LARGE;
    }
    chain_r_init(&r, p, n);
    uint8_t v = chain_r_u8(&r);
    if (!r.err && v != NEURON_PROTO_VERSION) {
        why_set(why, why_n, "version: %u, this miner speaks %d", v, NEURON_PROTO_VERSION);
        return BASED_E_DECODE;
    }
    c->brain = chain_r_u16(&r);
    c->uid = chain_r_u16(&r);
    chain_r_raw(&r, c->validator.b, 32);
    chain_r_raw(&r, c->vbox_pk, 32);
    c->height = chain_r_u64(&r);
    chain_r_raw(&r, c->block.b, 32);
    c->round = chain_r_u32(&r);
    c->n_prompt = chain_r_u16(&r);
    if (r.err)
        return fail(&r, why, why_n);
    if (c->n_prompt == 0 || c->n_prompt > NEURON_MAX_PROMPT) {
        why_set(why, why_n, "prompt: %u tokens, must be 1..%d", c->n_prompt, NEURON_MAX_PROMPT);
        return BASED_E_DECODE;
    }
    for (unsigned i = 0; i < c->n_prompt; i++)
        if (!read_token(&r, &c->prompt[i]) && !r.err) {
            why_set(why, why_n, "prompt[%u]: token id out of range", i);
            return BASED_E_DECODE;
        }
    c->n_gen = chain_r_u16(&r);
    c->topk = chain_r_u8(&r);
    c->temp_milli = chain_r_u16(&r);
    c->top_k = chain_r_u16(&r);
    c->top_p_milli = chain_r_u16(&r);
    c->seed = chain_r_u64(&r);
    chain_r_raw(&r, c->sig.b, 64);
    chain_r_finish(&r);
    if (r.err)
        return fail(&r, why, why_n);
    if (c->n_gen == 0 || c->n_gen > NEURON_MAX_GEN) {
        why_set(why, why_n, "n_gen: %u tokens, must be 1..%d", c->n_gen, NEURON_MAX_GEN);
        return BASED_E_DECODE;
    }
    if (c->topk > NEURON_MAX_TOPK) {
        why_set(why, why_n, "topk: %u, at most %d", c->topk, NEURON_MAX_TOPK);
        return BASED_E_DECODE;
    }
    if (c->top_p_milli == 0 || c->top_p_milli > 1000) {
        why_set(why, why_n, "top_p: %u/1000, must be 1..1000", c->top_p_milli);
        return BASED_E_DECODE;
    }
    if (c->temp_milli > 10000) {
        why_set(why, why_n, "temperature: %u/1000, at most 10", c->temp_milli);
        return BASED_E_DECODE;
    }
    return BASED_E_OK;
}

/* ---------------- answer encoding ---------------- */

static bool answer_fits(const neuron_answer *a)
{
    return a->n <= NEURON_MAX_GEN && a->k <= NEURON_MAX_TOPK;
}

static void answer_body(const neuron_answer *a, chain_wbuf *w)
{
    chain_w_u8(w, NEURON_PROTO_VERSION);
    chain_w_raw(w, a->id.b, 32);
    chain_w_raw(w, a->miner.b, 32);
    chain_w_u16(w, a->n);
    for (unsigned i = 0; i < a->n; i++)
        chain_w_u32(w, (uint32_t)a->tokens[i]);
    chain_w_u8(w, a->k);
    for (size_t i = 0; i < (size_t)a->n * a->k; i++) {
        uint32_t bits;
        memcpy(&bits, &a->topk[i].logprob, 4);
        chain_w_u32(w, (uint32_t)a->topk[i].token);
        chain_w_u32(w, bits);
    }
    chain_w_u32(w, a->elapsed_us);
}

chain_hash neuron_answer_hash(const neuron_answer *a)
{
    chain_hash h;
    memset(&h, 0, sizeof h);
    if (!answer_fits(a))
        return h;
    chain_wbuf w;
    chain_w_init(&w, NEURON_ANSWER_MAX);
    answer_body(a, &w);
    if (!w.err)
        h = hash_domain(DOM_ANSWER, w.p, w.len);
    chain_w_free(&w);
    return h;
}

based_err neuron_answer_sign(neuron_answer *a, const uint8_t miner_sk[32])
{
    if (!answer_fits(a))
        return BASED_E_BAD_PARAM;
    chain_hash h = neuron_answer_hash(a);
    return chain_sign(miner_sk, &h, &a->sig);
}

bool neuron_answer_verify(const neuron_answer *a)
{
    if (!answer_fits(a))
        return false;
    chain_hash h = neuron_answer_hash(a);
    return chain_verify(&a->miner, &h, &a->sig);
}

based_err neuron_answer_encode(const neuron_answer *a, uint8_t *out, size_t cap, size_t *len)
{
    *len = 0;
    if (!answer_fits(a))
        return BASED_E_BAD_PARAM;
    chain_wbuf w;
    chain_w_init(&w, NEURON_ANSWER_MAX);
    answer_body(a, &w);
    chain_w_raw(&w, a->sig.b, 64);
    return emit(&w, out, cap, len);
}

based_err neuron_answer_decode(const uint8_t *p, size_t n, neuron_answer *a, char *why,
                               size_t why_n)
{
    chain_rbuf r;
    memset(a, 0, sizeof *a);
    if (n > NEURON_ANSWER_MAX) {
        why_set(why, why_n, "answer: %zu bytes, at most %d", n, NEURON_ANSWER_MAX);
        return BASED_E_TOO_LARGE;
    }
    chain_r_init(&r, p, n);
    uint8_t v = chain_r_u8(&r);
    if (!r.err && v != NEURON_PROTO_VERSION) {
        why_set(why, why_n, "version: %u, expected %d", v, NEURON_PROTO_VERSION);
        return BASED_E_DECODE;
    }
    chain_r_raw(&r, a->id.b, 32);
    chain_r_raw(&r, a->miner.b, 32);
    a->n = chain_r_u16(&r);
    if (r.err)
        return fail(&r, why, why_n);
    if (a->n > NEURON_MAX_GEN) {
        why_set(why, why_n, "tokens: %u, at most %d", a->n, NEURON_MAX_GEN);
        return BASED_E_DECODE;
    }
    for (unsigned i = 0; i < a->n; i++)
        if (!read_token(&r, &a->tokens[i]) && !r.err) {
            why_set(why, why_n, "tokens[%u]: token id out of range", i);
            return BASED_E_DECODE;
        }
    a->k = chain_r_u8(&r);
    if (r.err)
        return fail(&r, why, why_n);
    if (a->k > NEURON_MAX_TOPK) {
        why_set(why, why_n, "k: %u log-probabilities per position, at most %d", a->k,
                NEURON_MAX_TOPK);
        return BASED_E_DECODE;
    }
    for (size_t i = 0; i < (size_t)a->n * a->k; i++) {
        if (!read_token(&r, &a->topk[i].token) && !r.err) {
            why_set(why, why_n, "topk[%zu][%zu]: token id out of range", i / a->k, i % a->k);
            return BASED_E_DECODE;
        }
        uint32_t bits = chain_r_u32(&r);
        memcpy(&a->topk[i].logprob, &bits, 4);
        if (!r.err && !isfinite(a->topk[i].logprob)) {
            why_set(why, why_n, "topk[%zu][%zu]: log-probability is not finite", i / a->k,
                    i % a->k);
            return BASED_E_DECODE;
        }
    }
    a->elapsed_us = chain_r_u32(&r);
    chain_r_raw(&r, a->sig.b, 64);
    chain_r_finish(&r);
    if (r.err)
        return fail(&r, why, why_n);
    return BASED_E_OK;
}

/* ---------------- sealing ---------------- */

based_err neuron_seal(const uint8_t *msg, size_t n, const uint8_t pk[32], uint8_t *out)
{
    return crypto_box_seal(out, msg, n, pk) == 0 ? BASED_E_OK : BASED_E_BAD_KEY;
}

based_err neuron_open(const uint8_t *box, size_t n, const neuron_box_keys *k, uint8_t *out,
                      size_t *out_len)
{
    *out_len = 0;
    if (n < NEURON_SEAL_OVERHEAD)
        return BASED_E_DECODE;
    if (crypto_box_seal_open(out, box, n, k->pk, k->sk) != 0)
        return BASED_E_DECODE;
    *out_len = n - NEURON_SEAL_OVERHEAD;
    return BASED_E_OK;
}
