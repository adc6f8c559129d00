/*
 * crypto.c: BLAKE2b hashing and Ed25519 (libsodium), BIP340 Schnorr
 * (libsecp256k1), hex, SS58 and decimal amounts. See crypto.h.
 *
 * SS58 prefixes: the format carries 14 bits of network identifier (0..16383)
 * in one byte (< 64) or two. Prefixes above 16383 (the BasedAI network's
 * 32323 among them) are reduced to their low 14 bits exactly as Substrate's
 * own encoder does, so our addresses match what a Substrate chain configured
 * with that prefix prints; decoding compares against the reduced value.
 */
#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <sodium.h>

#include "chain/crypto.h"

static secp256k1_context *g_ctx;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_init_rc = -1;

static void crypto_init_once(void)
{
    if (sodium_init() < 0)
        return;
    g_ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
    if (!g_ctx)
        return;
    unsigned char seed[32];
    randombytes_buf(seed, sizeof seed);
    if (!secp256k1_context_randomize(g_ctx, seed))
        return;
    sodium_memzero(seed, sizeof seed);
    g_init_rc = 0;
}

int chain_crypto_init(void)
{
    pthread_once(&g_once, crypto_init_once);
    return g_init_rc;
}

static secp256k1_context *ctx(void)
{
    if (chain_crypto_init() != 0) {
        fprintf(stderr, "based: crypto initialisation failed\n");
        abort();
    }
    return g_ctx;
}

chain_hash chain_hash_bytes(const void *p, size_t n)
{
    chain_hash h;
    crypto_generichash(h.b, sizeof h.b, p, n, NULL, 0);
    return h;
}

chain_hash chain_hash_pair(const chain_hash *a, const chain_hash *b)
{
    uint8_t buf[64];
    memcpy(buf, a->b, 32);
    memcpy(buf + 32, b->b, 32);
    return chain_hash_bytes(buf, sizeof buf);
}

bool chain_hash_eq(const chain_hash *a, const chain_hash *b)
{
    return memcmp(a->b, b->b, 32) == 0;
}

bool chain_hash_is_zero(const chain_hash *h)
{
    static const uint8_t zero[32];
    return memcmp(h->b, zero, 32) == 0;
}

/* --- secp256k1 --- */

based_err chain_key_pub(const uint8_t sk[32], chain_addr *pub)
{
    secp256k1_keypair kp;
    secp256k1_xonly_pubkey xpk;
    memset(pub, 0, sizeof *pub);
    if (!secp256k1_keypair_create(ctx(), &kp, sk))
        return BASED_E_BAD_KEY;
    int ok = secp256k1_keypair_xonly_pub(ctx(), &xpk, NULL, &kp) &&
             secp256k1_xonly_pubkey_serialize(ctx(), pub->b, &xpk);
    sodium_memzero(&kp, sizeof kp);
    return ok ? BASED_E_OK : BASED_E_BAD_KEY;
}

void chain_key_generate(uint8_t sk[32])
{
    do {
        randombytes_buf(sk, 32);
    } while (!secp256k1_ec_seckey_verify(ctx(), sk));
}

void chain_key_dev(unsigned i, uint8_t sk[32])
{
    char label[64];
    int n = snprintf(label, sizeof label, "based/dev-account/%u", i);
    crypto_generichash(sk, 32, (const uint8_t *)label, (size_t)n, NULL, 0);
    /* Re-hash in the (astronomically unlikely) case of an invalid scalar. */
    while (!secp256k1_ec_seckey_verify(ctx(), sk))
        crypto_generichash(sk, 32, sk, 32, NULL, 0);
}

based_err chain_sign(const uint8_t sk[32], const chain_hash *msg, chain_sig *sig)
{
    secp256k1_keypair kp;
    uint8_t aux[32];
    memset(sig, 0, sizeof *sig);
    if (!secp256k1_keypair_create(ctx(), &kp, sk))
        return BASED_E_BAD_KEY;
    randombytes_buf(aux, sizeof aux);
    int ok = secp256k1_schnorrsig_sign32(ctx(), sig->b, msg->b, &kp, aux);
    sodium_memzero(&kp, sizeof kp);
    return ok ? BASED_E_OK : BASED_E_BAD_KEY;
}

/* Parsing an x-only key costs a square root (~4 us, an eighth of a
 * verification), and a block holds many transactions of the same senders:
 * each thread keeps a small direct-mapped cache of parsed keys. A slot is
 * used only when its 32 key bytes match exactly, so the cache can never
 * change a result. */
#define PK_CACHE_SLOTS 1024
typedef struct {
    uint8_t key[32];
    secp256k1_xonly_pubkey xpk;
    bool used;
} pk_slot;
static _Thread_local pk_slot pk_cache[PK_CACHE_SLOTS];

static bool parse_xonly(const chain_addr *pub, secp256k1_xonly_pubkey *xpk)
{
    unsigned idx = ((unsigned)pub->b[0] | (unsigned)pub->b[1] << 8) % PK_CACHE_SLOTS;
    pk_slot *s = &pk_cache[idx];
    if (s->used && memcmp(s->key, pub->b, 32) == 0) {
        *xpk = s->xpk;
        return true;
    }
    if (!secp256k1_xonly_pubkey_parse(ctx(), xpk, pub->b))
        return false;
    memcpy(s->key, pub->b, 32);
    s->xpk = *xpk;
    s->used = true;
    return true;
}

bool chain_verify(const chain_addr *pub, const chain_hash *msg, const chain_sig *sig)
{
    secp256k1_xonly_pubkey xpk;
    if (!parse_xonly(pub, &xpk))
        return false;
    return secp256k1_schnorrsig_verify(ctx(), sig->b, msg->b, 32, &xpk) == 1;
}

/* --- Ed25519 --- */

void chain_ed_generate(uint8_t sk[64], chain_edpub *pub)
{
    (void)ctx();
    crypto_sign_keypair(pub->b, sk);
}

void chain_ed_sign(const uint8_t sk[64], const chain_hash *msg, chain_edsig *sig)
{
    crypto_sign_detached(sig->b, NULL, msg->b, 32, sk);
}

bool chain_ed_verify(const chain_edpub *pub, const chain_hash *msg, const chain_edsig *sig)
{
    (void)ctx();
    return crypto_sign_verify_detached(sig->b, msg->b, 32, pub->b) == 0;
}

/* --- hex --- */

void chain_hex(const void *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

based_err chain_unhex(const char *s, void *out, size_t n)
{
    uint8_t *b = out;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    if (strlen(s) != 2 * n)
        return BASED_E_BAD_HEX;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            memset(out, 0, n);   /* no half-written output on error */
            return BASED_E_BAD_HEX;
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    return BASED_E_OK;
}

void chain_hash_hex(const chain_hash *h, char *out)
{
    out[0] = '0';
    out[1] = 'x';
    chain_hex(h->b, 32, out + 2);
}

/* --- base58 and SS58 --- */

static const char b58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Encodes n bytes (n <= 40) as base58 into out (>= 2n+1 bytes). */
static void base58_encode(const uint8_t *in, size_t n, char *out)
{
    uint8_t digits[64] = {0};
    size_t nd = 0, zeros = 0;
    while (zeros < n && in[zeros] == 0)
        zeros++;
    for (size_t i = zeros; i < n; i++) {
        unsigned carry = in[i];
        for (size_t j = 0; j < nd; j++) {
            carry += (unsigned)digits[j] << 8;
            digits[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        while (carry) {
            digits[nd++] = (uint8_t)(carry % 58);
            carry /= 58;
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < zeros; i++)
        out[k++] = '1';
    for (size_t i = 0; i < nd; i++)
        out[k++] = b58[digits[nd - 1 - i]];
    out[k] = '\0';
}

/* Decodes base58 into exactly `n` bytes; -1 if it is not n bytes long or
 * has a character outside the alphabet. */
static int base58_decode(const char *s, uint8_t *out, size_t n)
{
    uint8_t bytes[64] = {0};
    size_t nb = 0, zeros = 0, len = strlen(s);
    if (len == 0 || len > 80)
        return -1;
    while (s[zeros] == '1')
        zeros++;
    for (size_t i = zeros; i < len; i++) {
        const char *p = strchr(b58, s[i]);
        if (!p || !s[i])
            return -1;
        unsigned carry = (unsigned)(p - b58);
        for (size_t j = 0; j < nb; j++) {
            carry += (unsigned)bytes[j] * 58;
            bytes[j] = (uint8_t)carry;
            carry >>= 8;
        }
        while (carry) {
            if (nb >= sizeof bytes)
                return -1;
            bytes[nb++] = (uint8_t)carry;
            carry >>= 8;
        }
    }
    if (zeros + nb != n)
        return -1;
    memset(out, 0, zeros);
    for (size_t i = 0; i < nb; i++)
        out[zeros + i] = bytes[nb - 1 - i];
    return 0;
}

/* Prefix bytes of the SS58 format; returns their count (1 or 2). */
static size_t ss58_prefix_bytes(uint16_t prefix, uint8_t out[2])
{
    unsigned id = prefix & 0x3fffu;
    if (id < 64) {
        out[0] = (uint8_t)id;
        return 1;
    }
    out[0] = (uint8_t)(((id & 0xfcu) >> 2) | 0x40u);
    out[1] = (uint8_t)((id >> 8) | ((id & 3u) << 6));
    return 2;
}

static void ss58_checksum(const uint8_t *body, size_t n, uint8_t out[2])
{
    crypto_generichash_state st;
    uint8_t h[64];
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const uint8_t *)"SS58PRE", 7);
    crypto_generichash_update(&st, body, n);
    crypto_generichash_final(&st, h, sizeof h);
    out[0] = h[0];
    out[1] = h[1];
}

void chain_ss58_encode(uint16_t prefix, const chain_addr *a, char *out)
{
    uint8_t buf[36];
    size_t np = ss58_prefix_bytes(prefix, buf);
    memcpy(buf + np, a->b, 32);
    ss58_checksum(buf, np + 32, buf + np + 32);
    base58_encode(buf, np + 34, out);
}

based_err chain_addr_parse(const char *s, uint16_t prefix, chain_addr *a,
                           const char **why)
{
    const char *dummy;
    uint8_t buf[36], want[2], sum[2];
    if (!why)
        why = &dummy;
    memset(a, 0, sizeof *a);
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        if (chain_unhex(s, a->b, 32) != BASED_E_OK) {
            *why = "hex account id must be 0x followed by 64 hex digits";
            return BASED_E_BAD_ADDRESS;
        }
        return BASED_E_OK;
    }
    size_t np = ss58_prefix_bytes(prefix, want);
    if (base58_decode(s, buf, np + 34) != 0) {
        *why = "not an SS58 address (bad base58 or wrong length)";
        return BASED_E_BAD_ADDRESS;
    }
    if (memcmp(buf, want, np) != 0) {
        *why = "SS58 address is for another network (prefix differs)";
        return BASED_E_BAD_ADDRESS;
    }
    ss58_checksum(buf, np + 32, sum);
    if (memcmp(sum, buf + np + 32, 2) != 0) {
        *why = "SS58 checksum mismatch";
        return BASED_E_BAD_ADDRESS;
    }
    memcpy(a->b, buf + np, 32);
    return BASED_E_OK;
}

/* --- amounts --- */

based_err chain_amount_parse(const char *s, uint64_t *out, const char **why)
{
    const char *dummy;
    uint64_t whole = 0, frac = 0;
    unsigned nfrac = 0;
    if (!why)
        why = &dummy;
    *out = 0;
    if (!s || !*s) {
        *why = "empty amount";
        return BASED_E_BAD_AMOUNT;
    }
    if (*s == '-') {
        *why = "amount is negative";
        return BASED_E_BAD_AMOUNT;
    }
    const char *p = s;
    if (*p < '0' || *p > '9') {
        *why = "amount is not a decimal number";
        return BASED_E_BAD_AMOUNT;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        if (whole > (UINT64_MAX - 9) / 10) {
            *why = "amount too large";
            return BASED_E_OVERFLOW;
        }
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') {
            *why = "amount has no digits after the decimal point";
            return BASED_E_BAD_AMOUNT;
        }
        for (; *p >= '0' && *p <= '9'; p++) {
            if (++nfrac > 9) {
                *why = "amount has more than 9 decimals";
                return BASED_E_BAD_AMOUNT;
            }
            frac = frac * 10 + (uint64_t)(*p - '0');
        }
    }
    if (*p) {
        *why = "amount is not a decimal number";
        return BASED_E_BAD_AMOUNT;
    }
    for (; nfrac < 9; nfrac++)
        frac *= 10;
    if (whole > (UINT64_MAX - frac) / CHAIN_COIN) {
        *why = "amount does not fit in 64-bit base units";
        return BASED_E_OVERFLOW;
    }
    *out = whole * CHAIN_COIN + frac;
    return BASED_E_OK;
}

void chain_amount_format(uint64_t v, char *out)
{
    uint64_t whole = v / CHAIN_COIN, frac = v % CHAIN_COIN;
    if (!frac) {
        snprintf(out, 32, "%" PRIu64, whole);
        return;
    }
    char f[16];
    snprintf(f, sizeof f, "%09" PRIu64, frac);
    for (int i = 8; i > 0 && f[i] == '0'; i--)
        f[i] = '\0';
    snprintf(out, 32, "%" PRIu64 ".%s", whole, f);
}
