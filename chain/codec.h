/*
 * codec.h: the canonical binary encoding used for everything that is hashed
 * or signed (transactions, blocks, state values).
 *
 * Rules: fixed-width integers are little-endian; lengths and counts are
 * unsigned LEB128, minimal (no redundant 0x80 continuation bytes, at most
 * 10 bytes, value fits 64 bits). One encoding only: decoding and encoding
 * again gives the same bytes. A decoder rejects short input, non-minimal
 * LEB128, lengths above the caller's cap, and (via chain_r_finish) any
 * trailing byte.
 *
 * Writers grow up to a maximum size fixed at init; past it they set `err`
 * and stop writing. Readers never read past `len`; after the first error
 * every further read returns zero and `err` stays set, so a decoder can read
 * all fields and check `err` once at the end.
 */
#ifndef BASED_CHAIN_CODEC_H
#define BASED_CHAIN_CODEC_H

#include "chain/base.h"

typedef struct {
    uint8_t *p;     /* owned; free with chain_w_free */
    size_t len;
    size_t cap;
    size_t max;     /* hard cap on len */
    bool err;       /* set on allocation failure or when max is exceeded */
} chain_wbuf;

void chain_w_init(chain_wbuf *w, size_t max);
void chain_w_free(chain_wbuf *w);
/* Resets len to 0, keeps the allocation. */
void chain_w_reset(chain_wbuf *w);
void chain_w_u8(chain_wbuf *w, uint8_t v);
void chain_w_u16(chain_wbuf *w, uint16_t v);
void chain_w_u32(chain_wbuf *w, uint32_t v);
void chain_w_u64(chain_wbuf *w, uint64_t v);
void chain_w_uleb(chain_wbuf *w, uint64_t v);
void chain_w_raw(chain_wbuf *w, const void *p, size_t n);
/* LEB128 length, then the bytes. */
void chain_w_bytes(chain_wbuf *w, const void *p, size_t n);
/* Big-endian u64, for LevelDB keys (sort order = numeric order). */
void chain_put_be64(uint8_t out[8], uint64_t v);
uint64_t chain_get_be64(const uint8_t in[8]);

typedef struct {
    const uint8_t *p;
    size_t len;
    size_t pos;
    bool err;
    const char *what;   /* static description of the first error */
} chain_rbuf;

void chain_r_init(chain_rbuf *r, const void *p, size_t len);
uint8_t chain_r_u8(chain_rbuf *r);
uint16_t chain_r_u16(chain_rbuf *r);
uint32_t chain_r_u32(chain_rbuf *r);
uint64_t chain_r_u64(chain_rbuf *r);
uint64_t chain_r_uleb(chain_rbuf *r);
/* Copies exactly n bytes into out (zeroed on error). */
void chain_r_raw(chain_rbuf *r, void *out, size_t n);
/* A LEB128 length (must be <= max) and a pointer into the input; *n = 0 and
 * NULL on error. The pointer is valid as long as the input is. */
const uint8_t *chain_r_bytes(chain_rbuf *r, size_t *n, size_t max);
/* Fails (err set, what = "trailing bytes") unless the input is consumed. */
void chain_r_finish(chain_rbuf *r);
/* Marks the reader failed with a static reason (keeps the first one). */
void chain_r_fail(chain_rbuf *r, const char *what);

#endif
