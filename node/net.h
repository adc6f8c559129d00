/*
 * net.h: what the files of based-net (node/net*.c) share: a local network
 * of nodes on loopback, each a basedd (the application) and a cometbft
 * (consensus, p2p) process, described by DIR/net.json.
 *
 * Layout of DIR:
 *   net.json                 this description (nodes, roles, ports, programs)
 *   genesis.json             our genesis (N authorities, dev accounts funded)
 *   cometbft-genesis.json    CometBFT's genesis derived from it
 *   nodeK/basedd/            basedd's datadir (genesis.json, keys/authority.json
 *                            for authorities, .cookie, abci.sock, db/)
 *   nodeK/cometbft/          CometBFT's home (config/, data/)
 *   nodeK/{basedd,cometbft}.log, nodeK/{basedd,cometbft}.pid
 * Nodes 0..nauth-1 are authorities, the rest full nodes.
 *
 * With app "kvstore" (a testing aid) no basedd runs: CometBFT's built-in
 * kvstore application stands in, to check the CometBFT side alone.
 *
 * Every fallible function returns a based_err and writes one line into err
 * (NODE_NET_ERR bytes). Single-threaded.
 */
#ifndef BASED_NODE_NET_H
#define BASED_NODE_NET_H

#include <sys/types.h>

#include "chain/base.h"
#include "node/cmtgen.h"

#define NODE_NET_MAX_AUTH 16
#define NODE_NET_MAX_FULL 16
#define NODE_NET_MAX (NODE_NET_MAX_AUTH + NODE_NET_MAX_FULL)
#define NODE_NET_PATH 1024
#define NODE_NET_ERR 2048

typedef enum { NODE_NET_BASEDD, NODE_NET_COMETBFT } node_net_prog;

typedef struct {
    char name[16];                  /* "node0" */
    bool authority;
    int rpc_port;                   /* basedd JSON-RPC */
    int cmt_rpc_port;               /* CometBFT RPC */
    int p2p_port;                   /* CometBFT p2p */
    int abci_port;                  /* 0: ABCI on the unix socket basedd/abci.sock */
    char node_id[CMTGEN_ID_LEN];
    pid_t pid[2];                   /* of the last start, by node_net_prog */
} node_net_node;

typedef struct {
    char dir[NODE_NET_PATH];        /* absolute */
    char chain_id[64];
    char app[16];                   /* "based" or "kvstore" */
    char prog[2][NODE_NET_PATH];    /* basedd and cometbft, absolute */
    char timeout_commit[16];        /* "1s" */
    char log_level[64];             /* CometBFT's log_level */
    size_t n, nauth;
    node_net_node node[NODE_NET_MAX];
} node_net;

/* What `start` was asked for. */
typedef struct {
    int nauth;                      /* -1: not given */
    int nfull;                      /* -1: not given (1 for a new network) */
    int base_port;                  /* 0: free ports picked by the kernel */
    const char *cometbft, *basedd;  /* NULL: found as described in net.c */
    const char *app;                /* "based" (NULL) or "kvstore" */
    const char *timeout_commit;     /* NULL: "1s" */
    const char *log_level;          /* NULL: "info" */
    unsigned wait_s;                /* for the first block */
    bool foreground;
    uint64_t only;                  /* --node K: bit K set; 0: every node */
} node_net_opts;

/* Is node k among those selected by a --node mask (0: all)? */
static inline bool node_net_selected(uint64_t only, size_t k)
{
    return only == 0 || (k < 64 && (only >> k & 1u));
}

static inline bool node_net_kvstore(const node_net *n)
{
    return strcmp(n->app, "kvstore") == 0;
}

/* --- net_setup.c: the directory --- */
/* "DIR/nodeK/<rel>" (rel may be "") into out; false if it does not fit. */
bool node_net_path(const node_net *n, size_t k, const char *rel, char *out, size_t cap);
/* Creates a fresh network in n->dir from the options (n->dir, prog[] set). */
based_err node_net_create(node_net *n, const node_net_opts *o, char *err);
/* Reads / writes DIR/net.json. */
based_err node_net_load(const char *dir, node_net *n, char *err);
based_err node_net_save(const node_net *n, char *err);
/* Is TCP port free on 127.0.0.1 (bind-probe)? */
bool node_net_port_free(int port);

/* --- net_run.c: the processes --- */
/* Finds and checks the programs (flag, else env, else next to based-net,
 * else PATH) into n->prog. */
based_err node_net_find_progs(node_net *n, const char *cometbft, const char *basedd, char *err);
/* Checks `cometbft version` is 0.38.x; *version gets what it printed. */
based_err node_net_check_cometbft(const char *path, char *version, size_t cap, char *err);
/* Runs argv to completion (stdout+stderr into out, cap bytes, may be NULL);
 * its exit status, -1 if it could not run. */
int node_net_run(const char *const *argv, char *out, size_t cap);
/* A node's process from its PID file, when it is alive and ours (its
 * /proc/PID/cmdline names the program and an argument inside DIR); else 0. */
pid_t node_net_running(const node_net *n, size_t k, node_net_prog p);
/* How many processes of the network run. */
size_t node_net_count_running(const node_net *n);
/* Starts the processes of the selected nodes (only, see node_net_selected)
 * detached: every basedd first, then every cometbft; on a failure *bad
 * names the node to blame (-1: none). */
based_err node_net_start_all(node_net *n, uint64_t only, ssize_t *bad, char *err);
/* Stops the running processes of the selected nodes: SIGTERM, up to
 * timeout_ms, then SIGKILL; CometBFT first. Removes their PID files.
 * Prints what it did to `report` (may be NULL). Returns how many were
 * stopped. */
size_t node_net_stop_all(const node_net *n, uint64_t only, unsigned timeout_ms, FILE *report);
/* Collects our exited children; returns true and names one that exited
 * (node index, program, wait status). */
bool node_net_reap(node_net *n, size_t *k, node_net_prog *p, int *status);
/* The last lines of a node's log into out. */
void node_net_log_tail(const node_net *n, size_t k, node_net_prog p, size_t lines, char *out,
                       size_t cap);
const char *node_net_prog_name(node_net_prog p);

/* --- net_query.c: asking the nodes --- */
typedef struct {
    bool up;                        /* basedd (or, for kvstore, CometBFT) answers */
    bool cmt_up;
    int64_t height;                 /* -1: unknown */
    int64_t cmt_height;             /* CometBFT's latest block, -1: unknown */
    int peers;                      /* -1: unknown */
    char app_hash[80];
} node_net_state;

void node_net_query(const node_net *n, size_t k, unsigned timeout_ms, node_net_state *s);
/* "http://127.0.0.1:P" URLs and the cookie path. */
void node_net_rpc_url(const node_net *n, size_t k, char *out, size_t cap);
void node_net_cmt_url(const node_net *n, size_t k, char *out, size_t cap);
void node_net_cookie(const node_net *n, size_t k, char *out, size_t cap);
/* The status of every node: a table, or with json the array of objects. */
void node_net_print_status(const node_net *n, bool json, FILE *out);
/* The table `start` prints: node, role, RPC URL, cookie, an example. */
void node_net_print_endpoints(const node_net *n, FILE *out);
/* One line: heights and peers of every node. */
void node_net_print_line(const node_net *n, FILE *out);

#endif
