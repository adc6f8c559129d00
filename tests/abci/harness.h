/*
 * harness.h: helpers of test-abci. An ABCI server on its own libuv loop in
 * a thread (stopped with an async handle, so every test can check that
 * uv_loop_close() returned 0), and a blocking client: connect over a Unix
 * socket or TCP, send bytes, read one frame or one Response, expect EOF.
 * Client reads time out after 5 s.
 */
#ifndef BASED_TESTS_ABCI_HARNESS_H
#define BASED_TESTS_ABCI_HARNESS_H

#include <uv.h>

#include "node/abci.h"
#include "chain/base.h"

typedef struct {
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t stop;
    abci_server *srv;
    int close_rc;
    int port;
} tabci_server;

/* Starts a server on addr in a new thread: BASED_E_OK, or what
 * abci_server_start() returned, with err set. */
based_err tabci_start(tabci_server *t, const char *addr, size_t max_msg, abci_handle_fn fn,
                      void *user, char *err, size_t errlen);
/* Stops it, joins the thread; uv_loop_close()'s result (0 when all was freed). */
int tabci_stop(tabci_server *t);

/* "unix://<test tmpdir>/<name>" into buf; returns buf. The path alone is
 * buf + 7. */
char *tabci_unix_addr(char *buf, size_t cap, const char *name);

int tabci_connect_unix(const char *path);   /* fd or -1 */
int tabci_connect_tcp(int port);            /* fd or -1 */
int tabci_send(int fd, const void *p, size_t n);   /* 0 or -1 */
/* Reads exactly n bytes: 0, or -1 on EOF, error or timeout. */
int tabci_read_exact(int fd, void *p, size_t n);
/* Reads one frame: 1 with *body malloc'd (*len bytes), 0 on a clean EOF
 * before any byte, -1 otherwise. */
int tabci_read_frame(int fd, uint8_t **body, size_t *len);
/* One frame unpacked as a Response (free with abci__response__free_unpacked),
 * or NULL. */
Abci__Response *tabci_read_response(int fd);
/* True when the next read sees EOF (not a timeout, reset or more data). */
bool tabci_eof(int fd);

/* Sends req as one frame: 0 or -1. */
int tabci_send_request(int fd, const Abci__Request *req);
/* The frame bytes of an Echo / a Flush request (malloc'd). */
uint8_t *tabci_echo_frame(const char *msg, size_t *len);
uint8_t *tabci_flush_frame(size_t *len);

#endif
