/*
 * codec.c: the canonical encoding (see codec.h). Writers are bounded
 * growable buffers; readers are cursors that latch the first error.
 */
#include "chain/codec.h"

void chain_w_init(chain_wbuf *w, size_t max)
{
    memset(w, 0, sizeof *w);
    w->max = max;
}

void chain_w_free(chain_wbuf *w)
{
    free(w->p);
    memset(w, 0, sizeof *w);
}

void chain_w_reset(chain_wbuf *w)
{
    w->len = 0;
    w->err = false;
}

static bool w_reserve(chain_wbuf *w, size_t n)
{
    if (w->err)
        return false;
    if (n > w->max || w->len > w->max - n) {
        w->err = true;
        return false;
    }
    if (w->len + n <= w->cap)
        return true;
    size_t cap = w->cap ? w->cap : 64;
    while (cap < w->len + n)
        cap = cap > w->max / 2 ? w->max : cap * 2;
    uint8_t *p = realloc(w->p, cap);
    if (!p) {
        w->err = true;
        return false;
    }
    w->p = p;
    w->cap = cap;
    return true;
}

void chain_w_raw(chain_wbuf *w, const void *p, size_t n)
{
    if (n == 0 || !w_reserve(w, n))
        return;
    memcpy(w->p + w->len, p, n);
    w->len += n;
}

static void w_le(chain_wbuf *w, uint64_t v, size_t n)
{
    uint8_t b[8];
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    chain_w_raw(w, b, n);
}

void chain_w_u8(chain_wbuf *w, uint8_t v) { chain_w_raw(w, &v, 1); }
void chain_w_u16(chain_wbuf *w, uint16_t v) { w_le(w, v, 2); }
void chain_w_u32(chain_wbuf *w, uint32_t v) { w_le(w, v, 4); }
void chain_w_u64(chain_wbuf *w, uint64_t v) { w_le(w, v, 8); }

void chain_w_uleb(chain_wbuf *w, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        b[n++] = (uint8_t)(byte | (v ? 0x80 : 0));
    } while (v);
    chain_w_raw(w, b, n);
}

void chain_w_bytes(chain_wbuf *w, const void *p, size_t n)
{
    chain_w_uleb(w, n);
    chain_w_raw(w, p, n);
}

void chain_put_be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

uint64_t chain_get_be64(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | in[i];
    return v;
}

/* --- reader --- */

void chain_r_init(chain_rbuf *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->err = false;
    r->what = NULL;
}

void chain_r_fail(chain_rbuf *r, const char *what)
{
    if (!r->err) {
        r->err = true;
        r->what = what;
    }
}

static const uint8_t *r_take(chain_rbuf *r, size_t n)
{
    if (r->err)
        return NULL;
    if (n > r->len - r->pos) {
        chain_r_fail(r, "input too short");
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

static uint64_t r_le(chain_rbuf *r, size_t n)
{
    const uint8_t *p = r_take(r, n);
    uint64_t v = 0;
    if (!p)
        return 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

uint8_t chain_r_u8(chain_rbuf *r) { return (uint8_t)r_le(r, 1); }
uint16_t chain_r_u16(chain_rbuf *r) { return (uint16_t)r_le(r, 2); }
uint32_t chain_r_u32(chain_rbuf *r) { return (uint32_t)r_le(r, 4); }
uint64_t chain_r_u64(chain_rbuf *r) { return r_le(r, 8); }

uint64_t chain_r_uleb(chain_rbuf *r)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        const uint8_t *p = r_take(r, 1);
        if (!p)
            return 0;
        uint64_t low = *p & 0x7f;
        if (i == 9 && (*p & 0xfe)) {
            chain_r_fail(r, "LEB128 value exceeds 64 bits");
            return 0;
        }
        v |= low << (7 * i);
        if (!(*p & 0x80)) {
            if (i > 0 && *p == 0) {
                chain_r_fail(r, "non-minimal LEB128 length");
                return 0;
            }
            return v;
        }
    }
    chain_r_fail(r, "LEB128 value too long");
    return 0;
}

void chain_r_raw(chain_rbuf *r, void *out, size_t n)
{
    const uint8_t *p = r_take(r, n);
    if (p)
        memcpy(out, p, n);
    else
        memset(out, 0, n);
}

const uint8_t *chain_r_bytes(chain_rbuf *r, size_t *n, size_t max)
{
    uint64_t len = chain_r_uleb(r);
    *n = 0;
    if (r->err)
        return NULL;
    if (len > max) {
        chain_r_fail(r, "length above its limit");
        return NULL;
    }
    const uint8_t *p = r_take(r, (size_t)len);
    if (p)
        *n = (size_t)len;
    return p;
}

void chain_r_finish(chain_rbuf *r)
{
    if (!r->err && r->pos != r->len)
        chain_r_fail(r, "trailing bytes");
}
