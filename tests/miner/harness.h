/*
 * harness.h: what the based-miner tests run: a real basedd --dev on a free
 * port with a fast-block genesis, a Brain bought by burn, real based-miner
 * processes (stopped by PID), and binary POSTs with libcurl.
 */
#ifndef BASED_TESTS_MINER_HARNESS_H
#define BASED_TESTS_MINER_HARNESS_H

#include <jansson.h>
#include <sys/types.h>

#include "neurons/client.h"
#include "neurons/proto.h"
#include "tests/support.h"

typedef struct {
    pid_t pid;
    char url[64];
    char cookie[600];               /* the cookie file's path */
    char datadir[512];
    neuron_client *client;
    uint16_t brain;
} mt_node;

typedef struct {
    pid_t pid;
    int port, uid;
    int status;                     /* wait status when it exited before its banner */
    char out[600];                  /* its stdout+stderr */
    char log[600];                  /* its --log-file */
    char url[96];                   /* http://127.0.0.1:PORT/v1/challenge */
    neuron_key key;
    uint8_t x25519[32];             /* as published on chain */
} mt_miner;

/* basedd --dev with block_time_ms blocks, then a Brain bought by dev1
 * (burn) and dev3 registered as its validator. 0 on success. */
int mt_node_start(mt_node *n, unsigned block_ms);
/* The same with more members of the genesis "dev" object (dev_extra, e.g.
 * "\"tempo\": 19", may be NULL). */
int mt_node_start_dev(mt_node *n, unsigned block_ms, const char *dev_extra);
void mt_node_stop(mt_node *n);
/* Sends a tx of `kind` (JSON payload pj, stolen) from dev account `dev` and
 * waits for its inclusion. 0 on success. */
int mt_send_dev(mt_node *n, unsigned dev, const char *kind, json_t *pj);
/* Stops the node and starts it again on the same data directory and port
 * (the chain continues; the node writes a fresh cookie). 0 on success. */
int mt_node_restart(mt_node *n);
/* Waits until the head is at least h (at most timeout_ms). */
int mt_wait_height(mt_node *n, uint64_t h, unsigned timeout_ms);

/* Starts bin/based-miner for dev key `dev` with extra flags (NULL-ended),
 * waits for its banner and reads its published key. 0 on success. */
int mt_miner_start(mt_miner *m, mt_node *n, unsigned dev, const char *const *extra);
/* Starts `prog` (based-miner or a program taking its flags) for key (a dev
 * name or a keystore file; password_file may be NULL) with extra flags, and
 * returns without waiting; mt_miner_wait then waits for its banner and its
 * published key (0 on success). */
int mt_miner_launch(mt_miner *m, mt_node *n, const char *prog, const char *key,
                    const char *password_file, const char *const *extra);
int mt_miner_wait(mt_miner *m, mt_node *n, unsigned timeout_ms);
/* SIGTERM, then waits (at most timeout_ms; SIGKILL after). Returns the exit
 * status, -1 if it had to be killed or died of a signal. */
int mt_miner_stop(mt_miner *m, unsigned timeout_ms);

/* POSTs body (len bytes, application/octet-stream) to url; the HTTP status
 * (0 on a transport failure); the response into *out (malloc'd) and
 * *out_len. */
long mt_post(const char *url, const void *body, size_t len, uint8_t **out, size_t *out_len);
/* GET; the status, body NUL-terminated into out. */
long mt_get(const char *url, char *out, size_t cap);


#endif
