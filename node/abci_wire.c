/*
 * abci_wire.c: the parts of the ABCI server that touch no socket (see
 * abci.h): the frame reader (varint length + body), the varint writer and
 * frame packer, the decoding of one Request under a memory budget, the
 * request/response type table, and the arena responses are built in.
 *
 * The arena is a list of chunks with a bump pointer; abci_alloc() hands out
 * zeroed, max_align_t-aligned blocks, an allocation larger than a chunk
 * gets a chunk of its own, and the total is capped. The server resets it
 * after each response (keeping one chunk for the next request).
 *
 * Decoding uses protobuf-c with a counting allocator: every block carries
 * its size in a header, so frees are real and the budget bounds the bytes
 * live at once (protobuf-c's temporary slabs included). The budget, 16 x the
 * message size + 1 MiB, is far above what real requests need (a few times
 * their size for the smallest transactions) and stops a frame of tiny
 * repeated fields from costing a hundred times its size.
 */
#include <stdalign.h>

#include "node/abci.h"
#include "chain/base.h"

#define ARENA_CHUNK (64u << 10)
#define ARENA_CAP ((size_t)1 << 30)
#define DECODE_FACTOR 16u
#define DECODE_SLACK ((size_t)1 << 20)

/* ---- frames -------------------------------------------------------------- */

abci_frame_status abci_frame_next(const uint8_t *buf, size_t len, size_t max_msg,
                                  size_t *hdr_len, size_t *body_len)
{
    uint64_t v = 0;
    *hdr_len = *body_len = 0;
    for (size_t i = 0; i < ABCI_VARINT_MAX; i++) {
        if (i == len)
            return ABCI_FRAME_MORE;
        uint8_t b = buf[i];
        if (i == ABCI_VARINT_MAX - 1 && b > 1)
            return ABCI_FRAME_BAD_VARINT;     /* bits past 64 */
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (b & 0x80)
            continue;
        if (v > max_msg)
            return ABCI_FRAME_TOO_LARGE;
        if (len - (i + 1) < v)
            return ABCI_FRAME_MORE;
        *hdr_len = i + 1;
        *body_len = (size_t)v;
        return ABCI_FRAME_OK;
    }
    return ABCI_FRAME_BAD_VARINT;
}

const char *abci_frame_status_str(abci_frame_status st)
{
    switch (st) {
    case ABCI_FRAME_OK: return "ok";
    case ABCI_FRAME_MORE: return "incomplete frame";
    case ABCI_FRAME_BAD_VARINT: return "length varint longer than 10 bytes or over 64 bits";
    case ABCI_FRAME_TOO_LARGE: return "frame length over the message size limit";
    }
    return "?";
}

size_t abci_varint_put(uint8_t out[ABCI_VARINT_MAX], uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

uint8_t *abci_frame_pack(const ProtobufCMessage *m, size_t *len)
{
    uint8_t hdr[ABCI_VARINT_MAX];
    size_t body = protobuf_c_message_get_packed_size(m);
    size_t h = abci_varint_put(hdr, body);
    uint8_t *p = malloc(h + body + 1);
    *len = 0;
    if (!p)
        return NULL;
    memcpy(p, hdr, h);
    protobuf_c_message_pack(m, p + h);
    *len = h + body;
    return p;
}

/* ---- request and response types ----------------------------------------- */

static const struct {
    Abci__Request__ValueCase req;
    Abci__Response__ValueCase resp;
    const char *name;
} kinds[] = {
    { ABCI__REQUEST__VALUE_ECHO, ABCI__RESPONSE__VALUE_ECHO, "echo" },
    { ABCI__REQUEST__VALUE_FLUSH, ABCI__RESPONSE__VALUE_FLUSH, "flush" },
    { ABCI__REQUEST__VALUE_INFO, ABCI__RESPONSE__VALUE_INFO, "info" },
    { ABCI__REQUEST__VALUE_INIT_CHAIN, ABCI__RESPONSE__VALUE_INIT_CHAIN, "init_chain" },
    { ABCI__REQUEST__VALUE_QUERY, ABCI__RESPONSE__VALUE_QUERY, "query" },
    { ABCI__REQUEST__VALUE_CHECK_TX, ABCI__RESPONSE__VALUE_CHECK_TX, "check_tx" },
    { ABCI__REQUEST__VALUE_COMMIT, ABCI__RESPONSE__VALUE_COMMIT, "commit" },
    { ABCI__REQUEST__VALUE_LIST_SNAPSHOTS, ABCI__RESPONSE__VALUE_LIST_SNAPSHOTS, "list_snapshots" },
    { ABCI__REQUEST__VALUE_OFFER_SNAPSHOT, ABCI__RESPONSE__VALUE_OFFER_SNAPSHOT, "offer_snapshot" },
    { ABCI__REQUEST__VALUE_LOAD_SNAPSHOT_CHUNK, ABCI__RESPONSE__VALUE_LOAD_SNAPSHOT_CHUNK,
      "load_snapshot_chunk" },
    { ABCI__REQUEST__VALUE_APPLY_SNAPSHOT_CHUNK, ABCI__RESPONSE__VALUE_APPLY_SNAPSHOT_CHUNK,
      "apply_snapshot_chunk" },
    { ABCI__REQUEST__VALUE_PREPARE_PROPOSAL, ABCI__RESPONSE__VALUE_PREPARE_PROPOSAL,
      "prepare_proposal" },
    { ABCI__REQUEST__VALUE_PROCESS_PROPOSAL, ABCI__RESPONSE__VALUE_PROCESS_PROPOSAL,
      "process_proposal" },
    { ABCI__REQUEST__VALUE_EXTEND_VOTE, ABCI__RESPONSE__VALUE_EXTEND_VOTE, "extend_vote" },
    { ABCI__REQUEST__VALUE_VERIFY_VOTE_EXTENSION, ABCI__RESPONSE__VALUE_VERIFY_VOTE_EXTENSION,
      "verify_vote_extension" },
    { ABCI__REQUEST__VALUE_FINALIZE_BLOCK, ABCI__RESPONSE__VALUE_FINALIZE_BLOCK,
      "finalize_block" },
};

const char *abci_request_name(Abci__Request__ValueCase c)
{
    for (size_t i = 0; i < BASED_ARRAY_LEN(kinds); i++)
        if (kinds[i].req == c)
            return kinds[i].name;
    return "?";
}

Abci__Response__ValueCase abci_response_case_for(Abci__Request__ValueCase c)
{
    for (size_t i = 0; i < BASED_ARRAY_LEN(kinds); i++)
        if (kinds[i].req == c)
            return kinds[i].resp;
    return ABCI__RESPONSE__VALUE__NOT_SET;
}

/* ---- decoding under a budget --------------------------------------------- */

typedef union {
    size_t size;
    max_align_t align;
} block_hdr;

static void *budget_alloc(void *data, size_t size)
{
    abci_request_buf *d = data;
    if (size > d->limit - d->used || sizeof(block_hdr) > d->limit - d->used - size) {
        d->over = true;
        return NULL;
    }
    block_hdr *h = malloc(sizeof *h + size);
    if (!h)
        return NULL;
    h->size = size;
    d->used += size + sizeof *h;
    return h + 1;
}

static void budget_free(void *data, void *p)
{
    abci_request_buf *d = data;
    if (!p)
        return;
    block_hdr *h = (block_hdr *)p - 1;
    d->used -= h->size + sizeof *h;
    free(h);
}

static void decode_init(abci_request_buf *d, size_t len)
{
    memset(d, 0, sizeof *d);
    d->alloc.alloc = budget_alloc;
    d->alloc.free = budget_free;
    d->alloc.allocator_data = d;
    d->limit = len > (SIZE_MAX - DECODE_SLACK) / DECODE_FACTOR ? SIZE_MAX
                                                                 : len * DECODE_FACTOR + DECODE_SLACK;
}

based_err abci_request_decode(abci_request_buf *d, const uint8_t *body, size_t len,
                              char *err, size_t errlen)
{
    decode_init(d, len);
    Abci__Request *r = abci__request__unpack(&d->alloc, len, body);
    if (!r) {
        if (d->over) {
            snprintf(err, errlen, "a %zu-byte request needs more than %zu bytes to decode",
                     len, d->limit);
            return BASED_E_TOO_LARGE;
        }
        snprintf(err, errlen, "%zu bytes that are not a valid abci Request", len);
        return BASED_E_DECODE;
    }
    if (abci_response_case_for(r->value_case) == ABCI__RESPONSE__VALUE__NOT_SET) {
        if (r->base.n_unknown_fields > 0)
            snprintf(err, errlen, "unknown request type (field %u)", r->base.unknown_fields[0].tag);
        else
            snprintf(err, errlen, "request with no type set (%zu bytes)", len);
        abci__request__free_unpacked(r, &d->alloc);
        return BASED_E_DECODE;
    }
    d->req = r;
    return BASED_E_OK;
}

void abci_request_release(abci_request_buf *d)
{
    if (d->req)
        abci__request__free_unpacked(d->req, &d->alloc);
    d->req = NULL;
}

/* ---- the arena ------------------------------------------------------------ */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t cap, used;
    max_align_t mem[];
} arena_chunk;

struct abci_arena {
    arena_chunk *head;
    size_t total;                 /* bytes of all chunks */
};

abci_arena *abci_arena_new(void)
{
    return calloc(1, sizeof(abci_arena));
}

static size_t round_up(size_t n)
{
    size_t a = alignof(max_align_t);
    return (n + a - 1) / a * a;
}

static arena_chunk *chunk_new(abci_arena *a, size_t n)
{
    size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
    if (cap > ARENA_CAP - a->total)
        return NULL;
    arena_chunk *c = malloc(sizeof *c + cap);
    if (!c)
        return NULL;
    c->cap = cap;
    c->used = 0;
    a->total += cap;
    return c;
}

void *abci_alloc(abci_arena *a, size_t n)
{
    if (!a || n > ARENA_CAP)
        return NULL;
    n = round_up(n ? n : 1);
    arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        c = chunk_new(a, n);
        if (!c)
            return NULL;
        if (n >= ARENA_CHUNK && a->head) {   /* a big block: keep filling the current chunk */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = (char *)c->mem + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

void *abci_dup(abci_arena *a, const void *p, size_t n)
{
    void *q = abci_alloc(a, n);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

char *abci_strdup(abci_arena *a, const char *s)
{
    return abci_dup(a, s, strlen(s) + 1);
}

void abci_arena_reset(abci_arena *a)
{
    if (!a)
        return;
    arena_chunk *keep = NULL, *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        if (!keep && c->cap == ARENA_CHUNK) {
            keep = c;
        } else {
            a->total -= c->cap;
            free(c);
        }
        c = next;
    }
    a->head = keep;
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
}

void abci_arena_free(abci_arena *a)
{
    if (!a)
        return;
    while (a->head) {
        arena_chunk *next = a->head->next;
        free(a->head);
        a->head = next;
    }
    free(a);
}
