/*
 * payload.h: the table-driven payload codec of the contracts/ and staking/
 * transaction kinds.
 *
 * A kind's payload is a fixed list of fields (a contract_pfield table). The
 * binary form follows chain/codec.h: fixed-width little-endian integers,
 * 32-byte addresses and hashes, strings as LEB128 length + bytes (no control
 * characters: printable ASCII, at most `max` bytes); an optional field is preceded by a
 * presence byte (0 or 1, anything else is a decode error). Decoding then
 * encoding gives the same bytes; trailing bytes are errors.
 *
 * The JSON form is an object with one key per field: integers as JSON
 * integers, amounts as decimal strings ("12.5", 9 decimals; to_json also
 * gives "<name>_base"), addresses as SS58 (0x ids accepted), hashes and keys
 * as 0x hex, enums by name. Errors name the field.
 */
#ifndef BASED_CONTRACTS_PAYLOAD_H
#define BASED_CONTRACTS_PAYLOAD_H

#include <jansson.h>

#include "chain/codec.h"
#include "chain/crypto.h"

#define CONTRACT_STR_MAX 256
#define CONTRACT_MAX_FIELDS 10

typedef enum {
    CP_U16, CP_U32, CP_U64, CP_AMOUNT, CP_ADDR, CP_HASH, CP_STR, CP_ENUM
} contract_ptype;

typedef struct {
    const char *name;
    contract_ptype type;
    uint64_t max;               /* integers: largest value; CP_STR: bytes; 0 = type max */
    bool optional;
    const char *const *names;   /* CP_ENUM: value names, NULL-terminated */
} contract_pfield;

typedef struct {
    bool present;
    uint64_t u;                 /* integers, amounts, enums */
    uint8_t b[32];              /* addresses, hashes */
    char s[CONTRACT_STR_MAX + 1];
} contract_pval;

typedef struct {
    const contract_pfield *f;
    size_t n;
} contract_payload;

/* Decodes p (n bytes) into v[0..spec->n-1]; *why names the field. */
based_err contract_payload_decode(const contract_payload *spec, const uint8_t *p, size_t n,
                                  contract_pval *v, const char **why);
/* Encodes v into out. */
void contract_payload_encode(const contract_payload *spec, const contract_pval *v,
                             chain_wbuf *out);
/* JSON object -> values (unknown keys are errors). */
based_err contract_payload_from_json(const contract_payload *spec, json_t *obj,
                                     uint16_t prefix, contract_pval *v, const char **why);
/* Bytes -> JSON object (new reference; JSON null if malformed). */
json_t *contract_payload_to_json(const contract_payload *spec, const uint8_t *p, size_t n,
                                 uint16_t prefix);

#endif
