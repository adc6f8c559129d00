/*
 * authkey.h: the authority's Ed25519 key file.
 *
 * JSON {"type": "ed25519", "public": "0x<64 hex>", "secret": "0x<128 hex>"}
 * (libsodium's 64-byte secret key), written atomically with mode 0600. The
 * secret is read into libsodium secure memory; the caller frees it with
 * node_authkey_free.
 */
#ifndef BASED_NODE_AUTHKEY_H
#define BASED_NODE_AUTHKEY_H

#include "chain/crypto.h"

typedef struct {
    uint8_t *sk;       /* 64 bytes, sodium_malloc'd */
    chain_edpub pub;
} node_authkey;

/* Generates a key and writes it to path (refuses to overwrite). */
based_err node_authkey_create(const char *path, node_authkey *k, char *err, size_t errlen);
/* Reads and checks a key file (mode must not give access to others). */
based_err node_authkey_load(const char *path, node_authkey *k, char *err, size_t errlen);
void node_authkey_free(node_authkey *k);

#endif
