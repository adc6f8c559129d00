/*
 * fuzz/abci_frame.c: libFuzzer harness for the ABCI frame reader and
 * request decoder (node/abci_wire.c), the code that sees every byte
 * CometBFT sends. The input is read as a stream of frames, the way the
 * server reads a connection, with a 64 KiB message cap so that the
 * too-large path is reached. Properties checked:
 *   - abci_frame_next() never claims bytes past the input; a whole frame
 *     has a 1..10-byte header whose varint value is the body length, at
 *     most the cap; a frame cut short by one byte is "more", not a frame;
 *     errors leave both outputs 0.
 *   - abci_request_decode() either gives a Request of a known type (which
 *     packs and unpacks to the same type and the same bytes), or fails
 *     with a reason and no request; its memory budget accounting returns
 *     to 0 after release.
 *   - every decoded request can be answered (an Echo of its type's name is
 *     framed and read back as one frame).
 * Seeds in fuzz/seeds/abci_frame/ are requests a real CometBFT v0.38.25
 * sent to a toy app (re-packed by protobuf-c), plus Flush and Echo.
 */
#include "node/abci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_MSG (64u << 10)

static void check_frame(const uint8_t *p, size_t len, size_t hdr, size_t body)
{
    if (hdr < 1 || hdr > ABCI_VARINT_MAX || body > FUZZ_MAX_MSG || hdr + body > len)
        __builtin_trap();
    uint64_t v = 0;
    for (size_t i = 0; i < hdr; i++) {
        if ((i + 1 < hdr) != ((p[i] & 0x80) != 0))
            __builtin_trap();
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
    }
    if (v != body)
        __builtin_trap();
    size_t h2 = 1, b2 = 1;
    if (abci_frame_next(p, hdr + body - 1, FUZZ_MAX_MSG, &h2, &b2) != ABCI_FRAME_MORE || h2 || b2)
        __builtin_trap();
}

static void check_request(const uint8_t *body, size_t len)
{
    abci_request_buf d;
    char err[256] = "";
    based_err e = abci_request_decode(&d, body, len, err, sizeof err);
    if (e != BASED_E_OK) {
        if (d.req || !err[0] || (e != BASED_E_DECODE && e != BASED_E_TOO_LARGE))
            __builtin_trap();
        abci_request_release(&d);
        if (d.used != 0)
            __builtin_trap();
        return;
    }
    const Abci__Request *req = d.req;
    if (!req || abci_response_case_for(req->value_case) == ABCI__RESPONSE__VALUE__NOT_SET)
        __builtin_trap();
    /* re-pack, unpack: same type, and re-packing that gives the same bytes */
    size_t n1 = abci__request__get_packed_size(req);
    uint8_t *b1 = malloc(n1 + 1);
    if (!b1 || abci__request__pack(req, b1) != n1)
        __builtin_trap();
    Abci__Request *again = abci__request__unpack(NULL, n1, b1);
    if (!again || again->value_case != req->value_case)
        __builtin_trap();
    size_t n2 = abci__request__get_packed_size(again);
    uint8_t *b2 = malloc(n2 + 1);
    if (!b2 || abci__request__pack(again, b2) != n2 || n2 != n1 || memcmp(b1, b2, n1) != 0)
        __builtin_trap();
    /* an answer frames and reads back as one frame */
    Abci__Response r = ABCI__RESPONSE__INIT;
    Abci__ResponseEcho echo = ABCI__RESPONSE_ECHO__INIT;
    echo.message = (char *)abci_request_name(req->value_case);
    r.value_case = ABCI__RESPONSE__VALUE_ECHO;
    r.echo = &echo;
    size_t fl, hl, bl;
    uint8_t *f = abci_frame_pack(&r.base, &fl);
    if (!f || abci_frame_next(f, fl, FUZZ_MAX_MSG, &hl, &bl) != ABCI_FRAME_OK || hl + bl != fl)
        __builtin_trap();
    free(f);
    free(b1);
    free(b2);
    abci__request__free_unpacked(again, NULL);
    abci_request_release(&d);
    if (d.used != 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        size_t hdr = 7, body = 7;
        abci_frame_status st = abci_frame_next(data + off, size - off, FUZZ_MAX_MSG, &hdr, &body);
        if (st == ABCI_FRAME_MORE) {
            if (hdr || body)
                __builtin_trap();
            break;
        }
        if (st != ABCI_FRAME_OK) {
            if (hdr || body || (st != ABCI_FRAME_BAD_VARINT && st != ABCI_FRAME_TOO_LARGE) ||
                !abci_frame_status_str(st)[0])
                __builtin_trap();
            break;
        }
        check_frame(data + off, size - off, hdr, body);
        check_request(data + off + hdr, body);
        off += hdr + body;
    }
    return 0;
}
