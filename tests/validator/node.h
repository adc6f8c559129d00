/*
 * node.h: the validator tests' processes: a real `bin/basedd --dev` on a
 * free loopback port with a temp datadir, and the programs under test run
 * with their output in files, each stopped by its PID.
 */
#ifndef BASED_TESTS_VALIDATOR_NODE_H
#define BASED_TESTS_VALIDATOR_NODE_H

#include <sys/types.h>

#include "tests/support.h"

typedef struct {
    pid_t pid;
    int port;
    char datadir[512];
    char url[64];
    char cookie[600];        /* path of the cookie file */
} vt_node;

/* Starts basedd --dev --genesis genesis in datadir; waits (20 s at most)
 * until its RPC answers. 0 on success. */
int vt_node_start(vt_node *n, const char *datadir, const char *genesis);
void vt_node_stop(vt_node *n);
/* Waits for pid (SIGKILL after timeout_s); its exit status, -1 if killed. */
int vt_wait(pid_t pid, int timeout_s);

#endif
