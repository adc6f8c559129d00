/*
 * tokenizer.c: the vocabulary a GGUF file carries.
 *
 * Byte-level ("based-byte", or no tokenizer keys and 256 tokens): token i
 * is byte i. SentencePiece-style ("llama"): tokens with scores and types;
 * encoding replaces spaces by U+2581, adds the dummy-prefix U+2581, looks
 * each UTF-8 character up (falling back to <0xXX> byte tokens), then
 * repeatedly merges the adjacent pair whose concatenation is a token with
 * the highest score (ties: leftmost). Decoding maps U+2581 back to a space
 * and byte tokens to their byte.
 */
#include "model/internal.h"
#include "chain/base.h"

static const struct model_tok *cmp_tok_ctx;

static int cmp_piece(const char *a, uint32_t al, const char *b, uint32_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al < bl ? -1 : al > bl);
}

static int cmp_ids(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    const struct model_tok *t = cmp_tok_ctx;
    int c = cmp_piece(t->piece[a], t->plen[a], t->piece[b], t->plen[b]);
    return c ? c : a - b;
}

static int lookup(const struct model_tok *t, const char *s, uint32_t len)
{
    int lo = 0, hi = t->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, id = t->sorted[mid];
        int c = cmp_piece(t->piece[id], t->plen[id], s, len);
        if (c == 0)
            return id;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static int byte_of(const char *p, uint32_t len)
{
    if (len != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' || p[5] != '>')
        return -1;
    char h[3] = { p[3], p[4], 0 };
    char *end;
    long v = strtol(h, &end, 16);
    return *end ? -1 : (int)v;
}

static based_err load_vocab(struct model_t *m, const struct model_gguf_value *toks,
                            char *err, size_t errlen)
{
    struct model_tok *t = &m->tok;
    const model_gguf *g = m->g;
    if (toks->type != MODEL_GGUF_ARRAY || toks->elem_type != MODEL_GGUF_STRING ||
        toks->count != (uint64_t)m->c.vocab) {
        snprintf(err, errlen, "tokenizer.ggml.tokens is not %d strings", m->c.vocab);
        return BASED_E_DECODE;
    }
    t->n = m->c.vocab;
    t->piece = calloc((size_t)t->n, sizeof *t->piece);
    t->plen = calloc((size_t)t->n, sizeof *t->plen);
    t->score = calloc((size_t)t->n, sizeof *t->score);
    t->type = calloc((size_t)t->n, sizeof *t->type);
    t->sorted = calloc((size_t)t->n, sizeof *t->sorted);
    if (!t->piece || !t->plen || !t->score || !t->type || !t->sorted)
        return BASED_E_NOMEM;
    const struct model_gguf_value *sc = model_gguf_find(g, "tokenizer.ggml.scores");
    const struct model_gguf_value *ty = model_gguf_find(g, "tokenizer.ggml.token_type");
    bool has_sc = sc && sc->type == MODEL_GGUF_ARRAY && sc->elem_type == MODEL_GGUF_F32 && sc->count == toks->count;
    bool has_ty = ty && ty->type == MODEL_GGUF_ARRAY && ty->elem_type == MODEL_GGUF_I32 && ty->count == toks->count;
    for (int i = 0; i < 256; i++)
        t->byte_id[i] = -1;
    for (int i = 0; i < t->n; i++) {
        if (toks->items[i].len > 4096) {
            snprintf(err, errlen, "token %d longer than 4096 bytes", i);
            return BASED_E_DECODE;
        }
        t->piece[i] = toks->items[i].str;   /* owned by the GGUF */
        t->plen[i] = (uint32_t)toks->items[i].len;
        if (has_sc)
            memcpy(&t->score[i], sc->raw + 4 * (size_t)i, 4);
        if (has_ty)
            memcpy(&t->type[i], ty->raw + 4 * (size_t)i, 4);
        int b = byte_of(t->piece[i], t->plen[i]);
        if (b >= 0 && t->byte_id[b] < 0)
            t->byte_id[b] = i;
        t->sorted[i] = i;
    }
    cmp_tok_ctx = t;
    qsort(t->sorted, (size_t)t->n, sizeof *t->sorted, cmp_ids);
    cmp_tok_ctx = NULL;
    return BASED_E_OK;
}

based_err model_tok_init(struct model_t *m, char *err, size_t errlen)
{
    struct model_tok *t = &m->tok;
    memset(t, 0, sizeof *t);
    t->bos = t->eos = -1;
    uint64_t v;
    if (model_gguf_get_u64(m->g, "tokenizer.ggml.bos_token_id", &v) && v < (uint64_t)m->c.vocab)
        t->bos = (int)v;
    if (model_gguf_get_u64(m->g, "tokenizer.ggml.eos_token_id", &v) && v < (uint64_t)m->c.vocab)
        t->eos = (int)v;
    const char *kind = model_gguf_get_str(m->g, "tokenizer.ggml.model");
    const struct model_gguf_value *toks = model_gguf_find(m->g, "tokenizer.ggml.tokens");
    if (!kind && m->c.vocab != 256) {
        t->n = m->c.vocab;   /* no tokenizer: forward works, encode does not */
        return BASED_E_OK;
    }
    if (!kind || strcmp(kind, "based-byte") == 0) {
        if (m->c.vocab != 256) {
            snprintf(err, errlen, "byte-level tokenizer needs 256 tokens, model has %d", m->c.vocab);
            return BASED_E_DECODE;
        }
        t->byte_level = true;
        t->n = 256;
        return BASED_E_OK;
    }
    if (strcmp(kind, "llama") != 0 || !toks) {
        snprintf(err, errlen, "unsupported tokenizer \"%s\"", kind);
        return BASED_E_DECODE;
    }
    return load_vocab(m, toks, err, errlen);
}

void model_tok_free(struct model_tok *t)
{
    free(t->piece);
    free(t->plen);
    free(t->score);
    free(t->type);
    free(t->sorted);
    memset(t, 0, sizeof *t);
}

bool model_is_byte_level(const model_t *m) { return m->tok.byte_level; }
int model_bos(const model_t *m) { return m->tok.bos; }

static size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
}

/* Merge the best-scoring adjacent pair until none merges. */
static int merge(const struct model_tok *t, int *ids, int n, char *buf)
{
    for (;;) {
        float best = -1e30f;
        int at = -1, best_id = -1;
        for (int i = 0; i + 1 < n; i++) {
            uint32_t a = t->plen[ids[i]], b = t->plen[ids[i + 1]];
            memcpy(buf, t->piece[ids[i]], a);
            memcpy(buf + a, t->piece[ids[i + 1]], b);
            int id = lookup(t, buf, a + b);
            if (id >= 0 && t->score[id] > best) {
                best = t->score[id];
                at = i;
                best_id = id;
            }
        }
        if (at < 0)
            return n;
        ids[at] = best_id;
        memmove(ids + at + 1, ids + at + 2, (size_t)(n - at - 2) * sizeof(int));
        n--;
    }
}

int model_encode(const model_t *m, const char *text, size_t len, int *out, int max)
{
    const struct model_tok *t = &m->tok;
    if (!t->byte_level && !t->piece)
        return -1;
    if (t->byte_level) {
        if (len > (size_t)max)
            return -1;
        for (size_t i = 0; i < len; i++)
            out[i] = (unsigned char)text[i];
        return (int)len;
    }
    /* dummy prefix + spaces as U+2581 */
    size_t cap = 3 * len + 3;
    char *s = malloc(cap + 1);
    int *ids = malloc((cap + 1) * 4 * sizeof(int));
    char *buf = malloc(2 * 4096 + 1);
    int n = -1;
    if (!s || !ids || !buf)
        goto out;
    size_t k = 0;
    s[k++] = (char)0xE2; s[k++] = (char)0x96; s[k++] = (char)0x81;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') {
            s[k++] = (char)0xE2; s[k++] = (char)0x96; s[k++] = (char)0x81;
        } else {
            s[k++] = text[i];
        }
    }
    n = 0;
    for (size_t i = 0; i < k;) {
        size_t cl = utf8_len((unsigned char)s[i]);
        if (cl > k - i)
            cl = k - i;
        int id = lookup(t, s + i, (uint32_t)cl);
        if (id >= 0) {
            ids[n++] = id;
        } else {
            for (size_t j = 0; j < cl; j++) {
                int b = t->byte_id[(unsigned char)s[i + j]];
                ids[n++] = b >= 0 ? b : 0;
            }
        }
        i += cl;
    }
    n = merge(t, ids, n, buf);
    if (n > max)
        n = -1;
    else
        memcpy(out, ids, (size_t)n * sizeof(int));
out:
    free(s);
    free(ids);
    free(buf);
    return n;
}

size_t model_decode(const model_t *m, int token, char *buf, size_t cap)
{
    const struct model_tok *t = &m->tok;
    size_t used = strlen(buf);
    if (token < 0 || token >= t->n || used + 1 >= cap || (!t->byte_level && !t->piece))
        return 0;
    if (t->byte_level) {
        buf[used] = (char)token;
        buf[used + 1] = 0;
        return 1;
    }
    const char *p = t->piece[token];
    uint32_t len = t->plen[token];
    int b = byte_of(p, len);
    if (b >= 0) {
        buf[used] = (char)b;
        buf[used + 1] = 0;
        return 1;
    }
    size_t added = 0;
    for (uint32_t i = 0; i < len && used + added + 1 < cap;) {
        if (i + 2 < len && (unsigned char)p[i] == 0xE2 && (unsigned char)p[i + 1] == 0x96 &&
            (unsigned char)p[i + 2] == 0x81) {
            buf[used + added++] = ' ';
            i += 3;
        } else {
            buf[used + added++] = p[i++];
        }
    }
    buf[used + added] = 0;
    return added;
}
