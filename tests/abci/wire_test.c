/* Tests of node/abci_wire.c, no sockets: the frame reader on known bytes
 * and on every malformed shape, the varint writer, request decoding (good,
 * garbage, empty, unknown type, over the memory budget), response packing
 * against the exact bytes CometBFT's own encoder gives, and the arena. */
#include <stdalign.h>

#include "tests/runner.h"
#include "tests/abci/tests.h"
#include "node/abci.h"
#include "chain/base.h"

static const uint8_t flush_req[] = { 0x02, 0x12, 0x00 };
static const uint8_t echo_req[] = { 0x09, 0x0a, 0x07, 0x0a, 0x05, 'h', 'e', 'l', 'l', 'o' };

TEST(abci_frame_known_bytes)
{
    size_t h = 99, b = 99;
    CHECK_EQ_INT(abci_frame_next(flush_req, sizeof flush_req, 1024, &h, &b), ABCI_FRAME_OK);
    CHECK_EQ_INT(h, 1);
    CHECK_EQ_INT(b, 2);
    CHECK_EQ_INT(abci_frame_next(echo_req, sizeof echo_req, 1024, &h, &b), ABCI_FRAME_OK);
    CHECK_EQ_INT(h, 1);
    CHECK_EQ_INT(b, 9);
    /* every strict prefix asks for more, and leaves the outputs zero */
    for (size_t n = 0; n < sizeof echo_req; n++) {
        h = b = 99;
        CHECK_EQ_INT(abci_frame_next(echo_req, n, 1024, &h, &b), ABCI_FRAME_MORE);
        CHECK_EQ_INT(h, 0);
        CHECK_EQ_INT(b, 0);
    }
    /* two frames back to back: the first only */
    uint8_t two[sizeof flush_req + sizeof echo_req];
    memcpy(two, flush_req, sizeof flush_req);
    memcpy(two + sizeof flush_req, echo_req, sizeof echo_req);
    CHECK_EQ_INT(abci_frame_next(two, sizeof two, 1024, &h, &b), ABCI_FRAME_OK);
    CHECK_EQ_INT(h + b, sizeof flush_req);
    /* an empty frame is a frame */
    static const uint8_t zero[] = { 0x00 };
    CHECK_EQ_INT(abci_frame_next(zero, 1, 1024, &h, &b), ABCI_FRAME_OK);
    CHECK_EQ_INT(h, 1);
    CHECK_EQ_INT(b, 0);
    /* a non-minimal varint (0x82 0x00 = 2) is accepted, as Go's reader does */
    static const uint8_t nonmin[] = { 0x82, 0x00, 0x12, 0x00 };
    CHECK_EQ_INT(abci_frame_next(nonmin, sizeof nonmin, 1024, &h, &b), ABCI_FRAME_OK);
    CHECK_EQ_INT(h, 2);
    CHECK_EQ_INT(b, 2);
}

TEST(abci_frame_rejects)
{
    size_t h, b;
    uint8_t buf[16];
    /* 11 bytes with the continuation bit: over 10 bytes */
    memset(buf, 0xff, sizeof buf);
    CHECK_EQ_INT(abci_frame_next(buf, 11, SIZE_MAX, &h, &b), ABCI_FRAME_BAD_VARINT);
    CHECK_EQ_INT(abci_frame_next(buf, 10, SIZE_MAX, &h, &b), ABCI_FRAME_BAD_VARINT);
    CHECK_EQ_INT(abci_frame_next(buf, 9, SIZE_MAX, &h, &b), ABCI_FRAME_MORE);
    /* a 10th byte above 1 overflows 64 bits */
    memset(buf, 0x80, 9);
    buf[9] = 0x02;
    CHECK_EQ_INT(abci_frame_next(buf, 10, SIZE_MAX, &h, &b), ABCI_FRAME_BAD_VARINT);
    buf[9] = 0x01;                       /* 2^63: valid varint, far over any cap */
    CHECK_EQ_INT(abci_frame_next(buf, 10, SIZE_MAX / 4, &h, &b), ABCI_FRAME_TOO_LARGE);
    /* the cap: 1024 is fine, 1025 is not, before any body byte arrives */
    size_t n = abci_varint_put(buf, 1024);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(abci_frame_next(buf, n, 1024, &h, &b), ABCI_FRAME_MORE);
    n = abci_varint_put(buf, 1025);
    CHECK_EQ_INT(abci_frame_next(buf, n, 1024, &h, &b), ABCI_FRAME_TOO_LARGE);
    CHECK_EQ_INT(h, 0);
    CHECK_EQ_INT(b, 0);
    CHECK(strstr(abci_frame_status_str(ABCI_FRAME_BAD_VARINT), "10 bytes") != NULL);
    CHECK(strstr(abci_frame_status_str(ABCI_FRAME_TOO_LARGE), "limit") != NULL);
}

TEST(abci_varint_roundtrip)
{
    static const uint64_t vals[] = { 0, 1, 127, 128, 300, 16383, 16384, (1ull << 32) - 1,
                                     1ull << 56, UINT64_MAX };
    static const size_t lens[] = { 1, 1, 1, 2, 2, 2, 3, 5, 9, 10 };
    uint8_t buf[ABCI_VARINT_MAX + 1];
    for (size_t i = 0; i < BASED_ARRAY_LEN(vals); i++) {
        size_t n = abci_varint_put(buf, vals[i]), h, b;
        CHECK_EQ_INT(n, lens[i]);
        /* a header alone: whole for length 0, else the body is missing */
        CHECK_EQ_INT(abci_frame_next(buf, n, SIZE_MAX, &h, &b),
                     vals[i] == 0 ? ABCI_FRAME_OK : ABCI_FRAME_MORE);
        uint64_t v = 0;
        for (size_t k = 0; k < n; k++)
            v |= (uint64_t)(buf[k] & 0x7f) << (7 * k);
        CHECK_EQ_U64(v, vals[i]);
    }
    buf[0] = 0x96; buf[1] = 0x01;        /* the protobuf documentation's 150 */
    uint8_t mine[ABCI_VARINT_MAX];
    CHECK_EQ_INT(abci_varint_put(mine, 150), 2);
    CHECK_EQ_MEM(mine, buf, 2);
}

TEST(abci_request_decode_cases)
{
    abci_request_buf d;
    char err[256];
    CHECK_EQ_INT(abci_request_decode(&d, echo_req + 1, sizeof echo_req - 1, err, sizeof err),
                 BASED_E_OK);
    CHECK(d.req != NULL);
    CHECK_EQ_INT(d.req->value_case, ABCI__REQUEST__VALUE_ECHO);
    CHECK_EQ_STR(d.req->echo->message, "hello");
    CHECK(d.used > 0);
    abci_request_release(&d);
    CHECK_EQ_INT(d.used, 0);             /* every block given back */

    CHECK_EQ_INT(abci_request_decode(&d, flush_req + 1, 2, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(d.req->value_case, ABCI__REQUEST__VALUE_FLUSH);
    abci_request_release(&d);

    static const uint8_t garbage[] = { 0xff, 0xff, 0xff };
    CHECK_EQ_INT(abci_request_decode(&d, garbage, sizeof garbage, err, sizeof err), BASED_E_DECODE);
    CHECK(d.req == NULL);
    CHECK(strstr(err, "not a valid abci Request") != NULL);
    abci_request_release(&d);
    CHECK_EQ_INT(d.used, 0);

    CHECK_EQ_INT(abci_request_decode(&d, garbage, 0, err, sizeof err), BASED_E_DECODE);
    CHECK(strstr(err, "no type set") != NULL);
    abci_request_release(&d);

    static const uint8_t setoption[] = { 0x22, 0x00 };   /* field 4: SetOption, gone */
    CHECK_EQ_INT(abci_request_decode(&d, setoption, sizeof setoption, err, sizeof err),
                 BASED_E_DECODE);
    CHECK_EQ_STR(err, "unknown request type (field 4)");
    abci_request_release(&d);
    CHECK_EQ_INT(d.used, 0);

    /* a truncated inner message */
    static const uint8_t cut[] = { 0x0a, 0x07, 0x0a, 0x05, 'h', 'e' };
    CHECK_EQ_INT(abci_request_decode(&d, cut, sizeof cut, err, sizeof err), BASED_E_DECODE);
    abci_request_release(&d);
}

/* A FinalizeBlock of n txs of txlen bytes each, packed (body only). */
static uint8_t *finalize_body(size_t n, size_t txlen, size_t *len)
{
    Abci__Request req = ABCI__REQUEST__INIT;
    Abci__RequestFinalizeBlock fb = ABCI__REQUEST_FINALIZE_BLOCK__INIT;
    ProtobufCBinaryData *txs = calloc(n, sizeof *txs);
    uint8_t *data = calloc(1, txlen + 1);
    if (!txs || !data)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        txs[i].data = data;
        txs[i].len = txlen;
    }
    memset(data, 0x5a, txlen);
    fb.n_txs = n;
    fb.txs = txs;
    fb.height = 7;
    req.value_case = ABCI__REQUEST__VALUE_FINALIZE_BLOCK;
    req.finalize_block = &fb;
    *len = abci__request__get_packed_size(&req);
    uint8_t *out = malloc(*len);
    if (out)
        abci__request__pack(&req, out);
    free(txs);
    free(data);
    return out;
}

TEST(abci_request_decode_budget)
{
    abci_request_buf d;
    char err[256];
    size_t len;
    /* real-looking: 2000 txs of 200 bytes decode */
    uint8_t *body = finalize_body(2000, 200, &len);
    CHECK(body != NULL);
    CHECK_EQ_INT(abci_request_decode(&d, body, len, err, sizeof err), BASED_E_OK);
    CHECK_EQ_INT(d.req->finalize_block->n_txs, 2000);
    CHECK_EQ_INT(d.req->finalize_block->txs[1999].len, 200);
    CHECK_EQ_INT(d.req->finalize_block->height, 7);
    CHECK(d.limit == 16 * len + (1u << 20));
    abci_request_release(&d);
    free(body);
    /* two million empty txs: 4 MB on the wire, far more once decoded */
    body = finalize_body(2000000, 0, &len);
    CHECK(body != NULL);
    CHECK(len > 4000000 && len < 4200000);
    CHECK_EQ_INT(abci_request_decode(&d, body, len, err, sizeof err), BASED_E_TOO_LARGE);
    CHECK(d.req == NULL);
    CHECK(strstr(err, "needs more than") != NULL);
    abci_request_release(&d);
    CHECK_EQ_INT(d.used, 0);
    free(body);
}

TEST(abci_response_exact_bytes)
{
    Abci__Response r = ABCI__RESPONSE__INIT;
    Abci__ResponseFlush f = ABCI__RESPONSE_FLUSH__INIT;
    Abci__ResponseEcho e = ABCI__RESPONSE_ECHO__INIT;
    size_t n;
    r.value_case = ABCI__RESPONSE__VALUE_FLUSH;
    r.flush = &f;
    uint8_t *p = abci_frame_pack(&r.base, &n);
    static const uint8_t want_flush[] = { 0x02, 0x1a, 0x00 };
    CHECK(p != NULL);
    CHECK_EQ_INT(n, sizeof want_flush);
    CHECK_EQ_MEM(p, want_flush, n);
    free(p);
    e.message = (char *)"hello";
    r.value_case = ABCI__RESPONSE__VALUE_ECHO;
    r.echo = &e;
    p = abci_frame_pack(&r.base, &n);
    static const uint8_t want_echo[] = { 0x09, 0x12, 0x07, 0x0a, 0x05, 'h', 'e', 'l', 'l', 'o' };
    CHECK_EQ_INT(n, sizeof want_echo);
    CHECK_EQ_MEM(p, want_echo, n);
    free(p);
    /* ResponseInfo: height 5 (field 4), hash {1,2} (field 5) inside field 4 */
    Abci__ResponseInfo info = ABCI__RESPONSE_INFO__INIT;
    uint8_t hash[2] = { 1, 2 };
    info.last_block_height = 5;
    info.last_block_app_hash.data = hash;
    info.last_block_app_hash.len = 2;
    r.value_case = ABCI__RESPONSE__VALUE_INFO;
    r.info = &info;
    p = abci_frame_pack(&r.base, &n);
    static const uint8_t want_info[] = { 0x08, 0x22, 0x06, 0x20, 0x05, 0x2a, 0x02, 0x01, 0x02 };
    CHECK_EQ_INT(n, sizeof want_info);
    CHECK_EQ_MEM(p, want_info, n);
    free(p);
}

TEST(abci_type_table)
{
    CHECK_EQ_STR(abci_request_name(ABCI__REQUEST__VALUE_FINALIZE_BLOCK), "finalize_block");
    CHECK_EQ_STR(abci_request_name(ABCI__REQUEST__VALUE_CHECK_TX), "check_tx");
    CHECK_EQ_STR(abci_request_name(ABCI__REQUEST__VALUE__NOT_SET), "?");
    CHECK_EQ_INT(abci_response_case_for(ABCI__REQUEST__VALUE__NOT_SET), ABCI__RESPONSE__VALUE__NOT_SET);
    /* every request field of the schema has its answer one field number up,
     * and the same name */
    const ProtobufCMessageDescriptor *rq = &abci__request__descriptor, *rs = &abci__response__descriptor;
    CHECK_EQ_INT(rq->n_fields, 16);
    CHECK_EQ_INT(rs->n_fields, 17);
    for (unsigned i = 0; i < rq->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &rq->fields[i];
        Abci__Response__ValueCase c = abci_response_case_for((Abci__Request__ValueCase)f->id);
        CHECK_EQ_INT(c, f->id + 1);
        CHECK_EQ_STR(abci_request_name((Abci__Request__ValueCase)f->id), f->name);
        const ProtobufCFieldDescriptor *g = protobuf_c_message_descriptor_get_field(rs, (unsigned)c);
        CHECK(g != NULL);
        CHECK_EQ_STR(g->name, f->name);
    }
}

TEST(abci_arena_basics)
{
    abci_arena *a = abci_arena_new();
    CHECK(a != NULL);
    uint8_t *p = abci_alloc(a, 3);
    CHECK(p != NULL);
    CHECK(p[0] == 0 && p[1] == 0 && p[2] == 0);
    memset(p, 0xee, 3);
    uint64_t *q = abci_alloc(a, sizeof *q);
    CHECK(q != NULL);
    CHECK_EQ_INT((uintptr_t)q % alignof(max_align_t), 0);
    CHECK_EQ_U64(*q, 0);
    CHECK((uint8_t *)q >= p + 3);
    uint8_t *big = abci_alloc(a, 1u << 20);  /* over a chunk: a chunk of its own */
    CHECK(big != NULL);
    CHECK_EQ_INT(big[0] | big[(1u << 20) - 1], 0);
    memset(big, 1, 1u << 20);
    uint8_t *after = abci_alloc(a, 16);      /* still from the first chunk */
    CHECK(after != NULL);
    CHECK(after > (uint8_t *)q && after < (uint8_t *)q + (64u << 10));
    char *s = abci_strdup(a, "based");
    CHECK_EQ_STR(s, "based");
    CHECK(abci_dup(a, "", 0) != NULL);
    CHECK(abci_alloc(a, (size_t)1 << 31) == NULL);   /* over the cap */
    CHECK(abci_alloc(NULL, 1) == NULL);
    abci_arena_reset(a);
    uint8_t *again = abci_alloc(a, 3);
    CHECK(again != NULL);
    CHECK(again[0] == 0 && again[1] == 0 && again[2] == 0);   /* zeroed on reuse */
    abci_arena_free(a);
    abci_arena_free(NULL);
}
