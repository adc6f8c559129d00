/*
 * fakeminer.h: miner endpoints for the validator's tests: a tiny HTTP
 * server on 127.0.0.1 (one thread, one connection at a time) answering
 * POST /v1/challenge like a miner, honestly (proto.c + answer.c with the
 * reference model) or with one of the misbehaviours below.
 */
#ifndef BASED_TESTS_VALIDATOR_FAKEMINER_H
#define BASED_TESTS_VALIDATOR_FAKEMINER_H

#include "model/model.h"
#include "neurons/proto.h"

typedef enum {
    FM_HONEST,       /* opens, generates, signs, seals to the validator */
    FM_GARBAGE,      /* 300 random bytes, HTTP 200 */
    FM_OVERSIZED,    /* a body past NEURON_RESPONSE_BODY_MAX */
    FM_SLOW,         /* honest, but 4 s late */
    FM_WRONG_SEAL,   /* honest answer sealed to another key */
    FM_BAD_SIG,      /* honest answer signed by another account */
    FM_FIXED,        /* well-formed, signed, but always the same tokens */
    FM_REPLAY,       /* honest the first time, then the first answer again */
    FM_HTTP500,      /* HTTP 500, no body */
} fm_mode;

typedef struct fake_miner fake_miner;

/* Starts a miner with dev key `dev` (its account and X25519 keys) on a
 * free port; NULL on failure. The model is shared (read only). */
fake_miner *fm_start(const model_t *m, unsigned dev, fm_mode mode);
void fm_stop(fake_miner *f);
int fm_port(const fake_miner *f);
const uint8_t *fm_box_pk(const fake_miner *f);
const chain_addr *fm_addr(const fake_miner *f);
/* Requests it has answered so far. */
int fm_requests(const fake_miner *f);

#endif
