/*
 * devnet_int.h: what the files of based-devnet share (not for other
 * modules): the options, the children, the devnet itself, and the helpers
 * the option parser and the board use.
 *
 *   devnet.c        PID files, children, set-up, the banner, main
 *   devnet_opts.c   the command line
 *   devnet_board.c  the live board (validator rounds, chain columns)
 *
 * Everything runs on the main thread.
 */
#ifndef BASED_NEURONS_DEVNET_INT_H
#define BASED_NEURONS_DEVNET_INT_H

#include <jansson.h>
#include <stdio.h>

#include "cli/rpcclient.h"
#include "neurons/client.h"
#include "neurons/devproc.h"
#include "neurons/roundlog.h"
#include "chain/base.h"

#define DN_PATH 1024
#define DN_MAX_CHILDREN 12
#define DN_MAX_MINERS 8
#define DN_NDEV 10
#define DN_OWNER 1                       /* dev1 buys the Brain */
#define DN_FIRST_NEURON 2                /* dev2.. are the neurons */
#define DEVNET_BRAIN 7
#define DEVNET_STAKE (1000ull * CHAIN_COIN)
#define DEVNET_FEE 100000ull             /* 0.0001 BASED */
#define DEVNET_RESTARTS 3
#define DEVNET_RESTART_DELAY_MS 5000
#define DN_BOARD_MS 2000                 /* on a terminal */
#define DN_PLAIN_MS 5000                 /* plain lines, stdout not a terminal */
#define DN_EVENTS 6
#define DN_MAX_OTHERS 8                  /* miners not ours shown on the board */



typedef struct {
    char datadir[DN_PATH], genesis[DN_PATH], model[DN_PATH], bindir[DN_PATH];
    char rpc_bind[128];
    unsigned interval, base_port;
    int nvalidators, nminers;
    char methods[DN_MAX_MINERS][96];
    bool board;
} dn_opts;

typedef enum { C_NODE, C_VALIDATOR, C_MINER } ckind;

typedef struct {
    neuron_proc p;
    ckind kind;
    int dev;                         /* dev account, -1 for the node */
    char method[96];
    unsigned port;
    bool gave_up;
    int restarts;
    uint64_t restart_at;             /* monotonic ms, 0: none due */
} child;

typedef struct {                     /* a validator's last --json round */
    bool have;
    neuron_round r;
} vround;

typedef struct {
    dn_opts o;
    char url[160], cookie[DN_PATH], self_pidfile[DN_PATH];
    neuron_client *nc;
    char chain_id[64];
    neuron_key dev[DN_NDEV];
    child ch[DN_MAX_CHILDREN];
    int nch;
    vround vr[DN_MAX_CHILDREN];
    char events[DN_EVENTS][DN_PATH + 128];
    int nevents;
    bool tty;
    int board_lines;                 /* of the last board drawn on the terminal */
    char err[CLI_ERR_LEN];
} devnet;

/* ---- the command line (devnet_opts.c) ---- */
/* 0, 2 (usage error, printed) or -1 (--help / --version printed: exit 0). */
int dn_parse_opts(int argc, char **argv, dn_opts *o);
/* Makes the data directory and finds the programs; 0 or 1 (printed). */
int dn_resolve_paths(dn_opts *o);

/* ---- the board (devnet_board.c) ---- */
void dn_draw(devnet *d);

/* ---- helpers (devnet.c) ---- */
int dn_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool dn_path_fmt(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool dn_is_file(const char *p);
int dn_mkdirs(const char *path);
void dn_stamp(char *out, size_t n);
based_err dn_rpc(devnet *d, const char *method, json_t *params, json_t **res);
int64_t dn_jint(json_t *o, const char *k, int64_t def);
const char *dn_jstr(json_t *o, const char *k);

#endif
