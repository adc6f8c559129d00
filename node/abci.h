/*
 * abci.h: basedd's ABCI++ socket server, the transport between CometBFT
 * v0.38 and the application (what each request does is the application's
 * handler, not this module's).
 *
 * Wire: every message is an unsigned varint length followed by that many
 * bytes of protobuf, a Request from CometBFT or a Response back (the
 * messages are node/abci.proto, generated into node/abci.pb-c.h by the
 * Makefile). CometBFT opens four connections (query, snapshot, mempool,
 * consensus) and nothing tells them apart: every connection is served the
 * same way. Requests are pipelined; each is answered at once, in order, and
 * the answers are written after each read, so a Flush is answered after
 * everything before it. Echo and Flush are answered by the server itself.
 *
 * Errors: a frame announcing more than max_msg_bytes, a length varint over
 * 10 bytes, bytes that are not a Request, a Request of no known type, a
 * handler returning -1 or answering the wrong type: each is logged
 * (node/log.h) with the connection number and the reason, answered with
 * ResponseException, and closes that connection only (CometBFT stops
 * itself on an exception; the server goes on accepting).
 *
 * Limits: max_msg_bytes per request (default ABCI_DEFAULT_MAX_MSG);
 * decoding one request may use at most 16 x its size + 1 MiB of memory;
 * ABCI_MAX_CONNECTIONS at a time (more are closed at once); reading stops
 * while more than 16 MiB of answers wait for the peer, and a connection is
 * closed when its unwritten answers would pass ABCI_MAX_PENDING_OUT.
 *
 * Ownership and threading: everything runs on the loop's thread; the
 * handler is called there, synchronously. The server owns its libuv handles
 * and frees them in close callbacks: after abci_server_stop(), running the
 * loop until it has no more handles releases everything. A Unix socket file
 * is created mode 0600 and removed when the server stops.
 */
#ifndef BASED_NODE_ABCI_H
#define BASED_NODE_ABCI_H

#include <uv.h>

#include "node/abci.pb-c.h"
#include "chain/base.h"

#define ABCI_DEFAULT_MAX_MSG (64u << 20)
#define ABCI_MAX_CONNECTIONS 64
#define ABCI_MAX_PENDING_OUT (256u << 20)
/* Bytes of a length varint at most (a 64-bit value). */
#define ABCI_VARINT_MAX 10

/* ---- the arena the handler allocates its response from ------------------ */

typedef struct abci_arena abci_arena;  /* freed by the server after the response is packed */

/* n zeroed bytes, aligned for any type; NULL on OOM (or past the arena's
 * 1 GiB cap). */
void *abci_alloc(abci_arena *a, size_t n);
/* A copy of p[0..n) (NULL on OOM; n == 0 gives a valid empty block). */
void *abci_dup(abci_arena *a, const void *p, size_t n);
/* A NUL-terminated copy of s. */
char *abci_strdup(abci_arena *a, const char *s);

/* Arenas outside the server (tests, tools): abci_arena_new() NULL on OOM;
 * abci_arena_free(NULL) is a no-op. */
abci_arena *abci_arena_new(void);
/* Frees everything allocated (keeps one chunk for reuse). */
void abci_arena_reset(abci_arena *a);
void abci_arena_free(abci_arena *a);

/* ---- the server ---------------------------------------------------------- */

/* The application: one call per request, on the loop thread, in the order the
 * requests arrive on that connection. It sets resp->value_case and the matching
 * member (allocating everything from the arena, or pointing into req, which
 * lives until the response is packed). Return 0, or -1 to answer
 * ResponseException (err says why) and close that connection.
 * Echo and Flush are answered by the server itself. The response must be of
 * the request's type (Info -> ResponseInfo, ...), or the connection closes.
 * Note: initialise an Abci__PublicKey with abci__public_key__init(), not its
 * _INIT macro (which trips -Wmissing-braces). */
typedef int (*abci_handle_fn)(void *user, const Abci__Request *req, Abci__Response *resp,
                              abci_arena *a, char *err, size_t errlen);

typedef struct abci_server abci_server;

/* addr: "unix:///abs/path.sock" (or "unix:path") or "tcp://127.0.0.1:PORT"
 * (loopback only: 127.x.x.x, localhost or [::1]; PORT 0 = any free).
 * A stale socket file is removed first; a path in use by a live server, or
 * that is not a socket, is refused. max_msg_bytes 0 means the default.
 * BASED_E_OK with *out set; otherwise BASED_E_CONFIG (bad address) or
 * BASED_E_NET (cannot listen) with err saying why, *out NULL (a listener
 * that failed after it was made is closed through the loop: running the
 * loop, as at shutdown, releases it). */
based_err abci_server_start(uv_loop_t *loop, const char *addr, size_t max_msg_bytes,
                            abci_handle_fn fn, void *user, abci_server **out,
                            char *err, size_t errlen);
/* TCP: the bound port; unix: 0. */
int abci_server_port(const abci_server *s);
/* Connections open now. */
size_t abci_server_connections(const abci_server *s);
/* Closes the listener and all connections; frees when closed. NULL: no-op. */
void abci_server_stop(abci_server *s);

/* ---- frames, without sockets (the server, tests and the fuzzer) --------- */

typedef enum {
    ABCI_FRAME_OK = 0,       /* a whole frame is there */
    ABCI_FRAME_MORE,         /* not yet: read more bytes */
    ABCI_FRAME_BAD_VARINT,   /* the length varint runs over 10 bytes or 64 bits */
    ABCI_FRAME_TOO_LARGE,    /* the length is over max_msg */
} abci_frame_status;

/* Looks at the start of buf[0..len) for one frame. ABCI_FRAME_OK: the
 * message is buf[*hdr_len .. *hdr_len + *body_len). Otherwise *hdr_len and
 * *body_len are 0. Never reads past len. */
abci_frame_status abci_frame_next(const uint8_t *buf, size_t len, size_t max_msg,
                                  size_t *hdr_len, size_t *body_len);
/* A static description ("length varint longer than 10 bytes", ...). */
const char *abci_frame_status_str(abci_frame_status st);

/* Writes v as an unsigned varint into out; returns its length (1..10). */
size_t abci_varint_put(uint8_t out[ABCI_VARINT_MAX], uint64_t v);

/* m packed as one frame (varint length + bytes) in a malloc'd buffer of
 * *len bytes; NULL on OOM. */
uint8_t *abci_frame_pack(const ProtobufCMessage *m, size_t *len);

/* One request decoded with a memory budget. Keep the struct in place from
 * abci_request_decode() to abci_request_release() (its allocator points at
 * it). */
typedef struct {
    Abci__Request *req;      /* NULL unless decoded */
    ProtobufCAllocator alloc;
    size_t used, limit;      /* bytes live, and the budget */
    bool over;               /* the budget stopped the decoding */
} abci_request_buf;

/* Decodes body[0..len) into d->req: a valid Request of a known type.
 * BASED_E_OK, or BASED_E_DECODE / BASED_E_TOO_LARGE (over the budget) with
 * err naming the problem and d->req NULL. Release d either way. */
based_err abci_request_decode(abci_request_buf *d, const uint8_t *body, size_t len,
                              char *err, size_t errlen);
void abci_request_release(abci_request_buf *d);

/* "echo", "check_tx", ... for a request type; "?" for anything else. */
const char *abci_request_name(Abci__Request__ValueCase c);
/* The response type that answers request type c (NOT_SET when none). */
Abci__Response__ValueCase abci_response_case_for(Abci__Request__ValueCase c);

#endif
