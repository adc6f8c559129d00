/*
 * bench/net_finality.c: finality and throughput of the 4-authority CometBFT
 * network, against the one-node dev chain, both run here in one process.
 *
 * Targets (each started, measured and stopped in turn):
 *   dev:     `basedd --dev` (its own block producer, 1 s blocks), one node;
 *   network: `based-net start --nodes 4 --full-nodes 0` (4 authorities,
 *            each basedd + CometBFT 0.38, timeout_commit 1s), in a temp dir.
 * CometBFT comes from $BASED_COMETBFT, else build/go/bin/cometbft (next to
 * BASED_BIN, then in the current directory); without one the bench prints
 * "skipped" and exits 0. Programs come from $BASED_BIN (default bin/).
 *
 * Transactions are transfers signed here (chain_tx_make) by the prefunded
 * dev0..dev9, with the chain id and min fee of the target's genesis and
 * sequential nonces from each sender's next_nonce (account_get); sender j
 * always sends to node j % nodes, so its nonces reach one node in order.
 * A tx_send refused with NONCE_GAP or MEMPOOL_FULL is sent again every
 * RETRY_MS (as a wallet would); such txs are counted and printed, with the
 * time of each sender's first refusal (UTC, to find it in the node logs).
 * A poller thread reads every node's chain_getHead every POLL_MS and, for
 * each new height, chain_getBlock (tx hashes): it stamps when each tx is
 * first seen committed on each node and checks that every node has the same
 * block hash at every height.
 *
 * (1) finality: FIN_TXS transfers at FIN_RATE per second; per tx, the time
 *     from tx_send's return to the tx committed on every node: p50, p90,
 *     p99, max (goal: p99 < 3 s with 1 s blocks).
 * (2) throughput: a burst of BURST_TXS transfers, one thread per sender
 *     sending as fast as its node answers; committed transfers per second
 *     from the first send to the last tx committed on every node, with the
 *     blocks and txs per block seen.
 * Printed: both targets and the ratios network/dev. Exit 1 if a tx is
 * refused or never lands, or if nodes disagree on a block hash (the temp
 * dir with every node's logs is then kept and named).
 * Environment: BENCH_NET_ONLY=dev|network runs one target; BENCH_NET_KEEP=1
 * keeps the temp dir (node logs) after a good run too; BENCH_NET_BURST=N
 * sets the burst's size.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chain/genesis.h"
#include "chain/kinds.h"
#include "chain/tx.h"
#include "cli/rpcclient.h"
#include "tests/support.h"

#define NODES         4
#define MAXN          NODES
#define SENDERS       10
#define FIN_TXS       500
#define FIN_RATE      25
#define BURST_TXS     12000           /* default; BENCH_NET_BURST=N (100..50000) */
#define POLL_MS       20
#define FIN_WAIT_MS   30000.0
#define BURST_WAIT_MS 180000.0
#define BLOCKS_MAX    20000           /* heights recorded per phase */
#define GOAL_P99_S    3.0
#define RPC_TIMEOUT_MS 20000
#define RETRY_MS      10
#define RETRY_MAX     100

static atomic_bool interrupted;
static size_t burst_txs = BURST_TXS;

typedef struct {
    const char *name;
    int n;                          /* nodes */
    char url[MAXN][128];
    char cookie[MAXN][512];
    char chain_id[CHAIN_CHAIN_ID_MAX + 1];
    uint64_t min_fee;
} target;

typedef struct {
    chain_hash hash;
    char *hex;                      /* the encoding, hex */
    int sender, node;
    double sent_ms;                 /* tx_send returned (0: not sent) */
    double call_ms;                 /* tx_send's duration */
    double seen_ms[MAXN];           /* first seen committed on node k (0: not yet) */
    double first_try_ms;            /* the first tx_send began */
    struct timespec first_try_wall; /* the same on the wall clock (to read node logs with) */
    int retries;                    /* tx_send refusals before the last call */
    char first_err[48];             /* the first refusal's error name, "" if none */
    char err[48];                   /* the last call's error name, "" if accepted */
} btx;

typedef struct {
    chain_hash h;
    uint32_t i;
} hidx;

typedef struct {
    size_t ntx, ours;
    uint64_t time_ms;
    chain_hash hash[MAXN];
    double seen_ms[MAXN];           /* first seen on node k */
    bool have[MAXN];
} blockrec;

typedef struct {
    const target *t;
    btx *tx;
    size_t ntx;
    hidx *byhash;                   /* sorted by hash */
    pthread_mutex_t mu;             /* guards what the poller writes */
    size_t all;                     /* txs committed on every node */
    blockrec *blk;                  /* heights base+1 .. base+nblk */
    size_t nblk;
    uint64_t base, known[MAXN];
    size_t poll_errors;
    char first_err[CLI_ERR_LEN];
    atomic_bool stop;
} phase;

typedef struct {
    size_t sent, refused, retried, landed;
    double p50, p90, p99, max, first_p50, call_p50;
} fin_result;

typedef struct {
    size_t sent, refused, retried, landed, blocks, busy, max_per_block;
    double secs, rate, send_rate, per_block, interval_s;
} burst_result;

/* ---------------- RPC helpers ---------------- */

/* Calls method with params (stolen); *res (may be NULL) gets the result. */
static based_err call(cli_rpc *c, const char *method, json_t *params, json_t **res,
                      cli_rpc_error *e)
{
    json_t *r = NULL;
    memset(e, 0, sizeof *e);
    based_err rc = cli_rpc_call(c, method, params, &r, e);
    json_decref(params);
    if (res)
        *res = r;
    else
        json_decref(r);
    return rc;
}

static int parse_hash(json_t *v, chain_hash *h)
{
    const char *s = json_string_value(v);
    return s && s[0] == '0' && s[1] == 'x' && chain_unhex(s, h->b, 32) == BASED_E_OK ? 0 : -1;
}

static int rpc_head(cli_rpc *c, uint64_t *height)
{
    json_t *r;
    cli_rpc_error e;
    if (call(c, "chain_getHead", NULL, &r, &e) != BASED_E_OK)
        return -1;
    json_t *h = json_object_get(r, "height");
    int ok = json_is_integer(h) && json_integer_value(h) >= 0;
    *height = ok ? (uint64_t)json_integer_value(h) : 0;
    json_decref(r);
    return ok ? 0 : -1;
}

static int rpc_next_nonce(cli_rpc *c, const chain_addr *a, uint64_t *nonce)
{
    char id[67] = "0x";
    json_t *r;
    cli_rpc_error e;
    chain_hex(a->b, 32, id + 2);
    if (call(c, "account_get", json_pack("[s]", id), &r, &e) != BASED_E_OK) {
        fprintf(stderr, "net_finality: account_get: %s\n", e.line);
        return -1;
    }
    json_t *n = json_object_get(r, "next_nonce");
    int ok = json_is_integer(n) && json_integer_value(n) >= 0;
    *nonce = ok ? (uint64_t)json_integer_value(n) : 0;
    json_decref(r);
    return ok ? 0 : -1;
}

static void free_clients(cli_rpc **c, int n)
{
    for (int k = 0; k < n; k++) {
        cli_rpc_free(c[k]);
        c[k] = NULL;
    }
}

/* One client per node (made on the main thread: cli_rpc_new initialises curl). */
static int make_clients(const target *t, cli_rpc **c)
{
    char err[CLI_ERR_LEN];
    for (int k = 0; k < t->n; k++) {
        if (cli_rpc_new(t->url[k], t->cookie[k], &c[k], err) != BASED_E_OK) {
            fprintf(stderr, "net_finality: %s\n", err);
            free_clients(c, k);
            return -1;
        }
        cli_rpc_set_timeout(c[k], RPC_TIMEOUT_MS);
    }
    return 0;
}

/* ---------------- transactions ---------------- */

static int cmp_hidx(const void *a, const void *b)
{
    return memcmp(((const hidx *)a)->h.b, ((const hidx *)b)->h.b, 32);
}

static long find_tx(const phase *p, const chain_hash *h)
{
    hidx key = { *h, 0 };
    const hidx *f = bsearch(&key, p->byhash, p->ntx, sizeof *p->byhash, cmp_hidx);
    return f ? (long)f->i : -1;
}

static int sign_one(btx *b, const target *t, size_t i, uint64_t nonce)
{
    uint8_t sk[32], pl[CHAIN_TRANSFER_LEN];
    chain_transfer tr = { .amount = 1 + i };
    chain_tx tx;
    int s = (int)(i % SENDERS);
    chain_key_dev((unsigned)((s + 1) % SENDERS), sk);
    chain_key_pub(sk, &tr.to);
    chain_key_dev((unsigned)s, sk);
    chain_transfer_encode(&tr, pl);
    based_err rc = chain_tx_make(&tx, t->chain_id, nonce, t->min_fee, CHAIN_KIND_TRANSFER, pl,
                                 sizeof pl, sk);
    sodium_memzero(sk, sizeof sk);
    if (rc != BASED_E_OK || !(b->hex = malloc(2 * tx.raw_len + 1))) {
        chain_tx_release(&tx);
        return -1;
    }
    chain_hex(tx.raw, tx.raw_len, b->hex);
    b->hash = tx.hash;
    b->sender = s;
    b->node = s % t->n;
    chain_tx_release(&tx);
    return 0;
}

/* n transfers: tx i from dev(i % SENDERS) to the next dev account, with
 * that sender's nonces in order from its next_nonce on its node. */
static int phase_init(phase *p, const target *t, cli_rpc **c, size_t n)
{
    uint64_t next[SENDERS];
    memset(p, 0, sizeof *p);
    p->t = t;
    pthread_mutex_init(&p->mu, NULL);
    for (int s = 0; s < SENDERS; s++) {
        uint8_t sk[32];
        chain_addr a;
        chain_key_dev((unsigned)s, sk);
        chain_key_pub(sk, &a);
        sodium_memzero(sk, sizeof sk);
        if (rpc_next_nonce(c[s % t->n], &a, &next[s]) != 0)
            return -1;
    }
    p->tx = calloc(n, sizeof *p->tx);
    p->byhash = calloc(n, sizeof *p->byhash);
    p->blk = calloc(BLOCKS_MAX, sizeof *p->blk);
    if (!p->tx || !p->byhash || !p->blk)
        return -1;
    p->ntx = n;
    for (size_t i = 0; i < n; i++) {
        if (sign_one(&p->tx[i], t, i, next[i % SENDERS] + i / SENDERS) != 0)
            return -1;
        p->byhash[i] = (hidx){ p->tx[i].hash, (uint32_t)i };
    }
    qsort(p->byhash, n, sizeof *p->byhash, cmp_hidx);
    return 0;
}

static void phase_release(phase *p)
{
    for (size_t i = 0; p->tx && i < p->ntx; i++)
        free(p->tx[i].hex);
    free(p->tx);
    free(p->byhash);
    free(p->blk);
    if (p->t)
        pthread_mutex_destroy(&p->mu);
    memset(p, 0, sizeof *p);
}

/* One tx_send of tx b; BASED_E_OK, or the error with its name in why. */
static based_err send_once(cli_rpc *c, btx *b, char *why, size_t cap, char *line)
{
    json_t *r;
    cli_rpc_error e;
    chain_hash h;
    double t0 = tsup_now_ms();
    based_err rc = call(c, "tx_send", json_pack("[s]", b->hex), &r, &e);
    b->sent_ms = tsup_now_ms();
    b->call_ms = b->sent_ms - t0;
    if (rc == BASED_E_OK && (parse_hash(json_object_get(r, "hash"), &h) != 0 ||
                             !chain_hash_eq(&h, &b->hash)))
        rc = BASED_E_DECODE, snprintf(e.line, sizeof e.line, "tx_send answered another hash");
    json_decref(r);
    if (rc != BASED_E_OK) {
        snprintf(why, cap, "%s", e.name[0] ? e.name : based_errname(rc));
        snprintf(line, CLI_ERR_LEN, "%s", e.line);
    }
    return rc;
}

/* tx_send of tx i on client c, as a wallet would: a refusal that may pass
 * a moment later (NONCE_GAP, MEMPOOL_FULL) is retried every RETRY_MS, up
 * to RETRY_MAX times. Stamps the accepted call's return. */
static void send_tx(phase *p, cli_rpc *c, size_t i)
{
    btx *b = &p->tx[i];
    char why[48], line[CLI_ERR_LEN];
    b->first_try_ms = tsup_now_ms();
    clock_gettime(CLOCK_REALTIME, &b->first_try_wall);
    for (int k = 0; k <= RETRY_MAX && !atomic_load(&interrupted); k++) {
        if (k)
            tsup_nap_ms(RETRY_MS);
        b->retries = k;
        if (send_once(c, b, why, sizeof why, line) == BASED_E_OK) {
            b->err[0] = '\0';
            return;
        }
        if (!k)
            snprintf(b->first_err, sizeof b->first_err, "%s", why);
        snprintf(b->err, sizeof b->err, "%s", why);
        if (strcmp(why, "NONCE_GAP") != 0 && strcmp(why, "MEMPOOL_FULL") != 0)
            break;
    }
    pthread_mutex_lock(&p->mu);
    if (!p->first_err[0])
        snprintf(p->first_err, sizeof p->first_err, "%s", line);
    pthread_mutex_unlock(&p->mu);
}

/* ---------------- the poller ---------------- */

typedef struct {
    phase *p;
    cli_rpc *c[MAXN];
    pthread_t th;
} poller;

/* Records block `height` of node k, seen at `now` (p->mu held). */
static void record_block(phase *p, int k, uint64_t height, json_t *b, double now)
{
    json_t *txs = json_object_get(b, "txs");
    size_t slot = (size_t)(height - p->base - 1);
    if (slot >= BLOCKS_MAX)
        return;
    blockrec *r = &p->blk[slot];
    if (slot >= p->nblk)
        p->nblk = slot + 1;
    r->ntx = json_array_size(txs);
    r->time_ms = (uint64_t)json_integer_value(json_object_get(b, "time_ms"));
    r->have[k] = parse_hash(json_object_get(b, "hash"), &r->hash[k]) == 0;
    r->seen_ms[k] = now;
    r->ours = 0;
    for (size_t j = 0; j < r->ntx; j++) {
        chain_hash h;
        long i = parse_hash(json_array_get(txs, j), &h) == 0 ? find_tx(p, &h) : -1;
        if (i < 0)
            continue;
        r->ours++;
        btx *t = &p->tx[i];
        if (t->seen_ms[k] > 0)
            continue;
        t->seen_ms[k] = now;
        int on = 0;
        for (int m = 0; m < p->t->n; m++)
            on += t->seen_ms[m] > 0;
        p->all += on == p->t->n;
    }
}

static int poll_node(phase *p, cli_rpc *c, int k)
{
    uint64_t head;
    if (rpc_head(c, &head) != 0)
        return -1;
    double now = tsup_now_ms();
    while (p->known[k] < head && !atomic_load(&p->stop)) {
        json_t *b;
        cli_rpc_error e;
        if (call(c, "chain_getBlock", json_pack("[I]", (json_int_t)(p->known[k] + 1)), &b, &e) !=
            BASED_E_OK)
            return -1;
        pthread_mutex_lock(&p->mu);
        record_block(p, k, p->known[k] + 1, b, now);
        pthread_mutex_unlock(&p->mu);
        json_decref(b);
        p->known[k]++;
    }
    return 0;
}

static void *poll_main(void *arg)
{
    poller *pl = arg;
    phase *p = pl->p;
    double next = tsup_now_ms();
    while (!atomic_load(&p->stop)) {
        for (int k = 0; k < p->t->n; k++) {
            if (poll_node(p, pl->c[k], k) != 0) {
                pthread_mutex_lock(&p->mu);
                p->poll_errors++;
                pthread_mutex_unlock(&p->mu);
            }
        }
        next += POLL_MS;
        double now = tsup_now_ms();
        if (next > now)
            tsup_nap_ms((unsigned)(next - now));
        else
            next = now;
    }
    return NULL;
}

/* Starts the poller from every node's current head. */
static int poller_start(poller *pl, phase *p, cli_rpc **c)
{
    pl->p = p;
    p->base = UINT64_MAX;
    for (int k = 0; k < p->t->n; k++) {
        pl->c[k] = c[k];
        if (rpc_head(c[k], &p->known[k]) != 0)
            return -1;
        if (p->known[k] < p->base)
            p->base = p->known[k];
    }
    atomic_store(&p->stop, false);
    return pthread_create(&pl->th, NULL, poll_main, pl) == 0 ? 0 : -1;
}

static void poller_stop(poller *pl)
{
    atomic_store(&pl->p->stop, true);
    pthread_join(pl->th, NULL);
}

/* Waits until `want` txs are committed on every node, or until deadline. */
static void wait_landed(phase *p, size_t want, double deadline_ms)
{
    while (!atomic_load(&interrupted) && tsup_now_ms() < deadline_ms) {
        pthread_mutex_lock(&p->mu);
        size_t all = p->all;
        pthread_mutex_unlock(&p->mu);
        if (all >= want)
            return;
        tsup_nap_ms(20);
    }
}

/* ---------------- figures ---------------- */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile q (0..1] of sorted v[0..n). */
static double pct(const double *v, size_t n, double q)
{
    size_t r = (size_t)ceil(q * (double)n);
    return n ? v[(r ? r : 1) - 1] : 0.0;
}

static bool landed(const phase *p, const btx *b, double *last, double *first)
{
    *last = 0, *first = 1e300;
    for (int k = 0; k < p->t->n; k++) {
        if (b->seen_ms[k] <= 0)
            return false;
        *last = b->seen_ms[k] > *last ? b->seen_ms[k] : *last;
        *first = b->seen_ms[k] < *first ? b->seen_ms[k] : *first;
    }
    return true;
}

/* Blocks from the first to the last that holds one of the phase's txs. */
static void block_figures(const phase *p, burst_result *r)
{
    size_t lo = SIZE_MAX, hi = 0, txs = 0;
    for (size_t s = 0; s < p->nblk; s++) {
        if (p->blk[s].ours == 0)
            continue;
        lo = s < lo ? s : lo;
        hi = s;
        r->busy++;
        txs += p->blk[s].ntx;
        if (p->blk[s].ntx > r->max_per_block)
            r->max_per_block = p->blk[s].ntx;
    }
    if (lo == SIZE_MAX)
        return;
    r->blocks = hi - lo + 1;
    r->per_block = (double)txs / (double)r->busy;
    if (hi > lo)
        r->interval_s = (double)(p->blk[hi].time_ms - p->blk[lo].time_ms) / 1e3 / (double)(hi - lo);
}

/* Blocks where two nodes report different hashes. */
static size_t count_mismatches(const phase *p)
{
    size_t bad = 0;
    for (size_t s = 0; s < p->nblk; s++) {
        const blockrec *r = &p->blk[s];
        int ref = -1;
        for (int k = 0; k < p->t->n; k++) {
            if (!r->have[k])
                continue;
            if (ref < 0)
                ref = k;
            else if (!chain_hash_eq(&r->hash[k], &r->hash[ref])) {
                bad++;
                break;
            }
        }
    }
    return bad;
}

/* A tally of up to TALLY_MAX distinct names. */
#define TALLY_MAX 8
typedef struct {
    char name[TALLY_MAX][64];
    size_t count[TALLY_MAX], n, other;
} tally;

static void tally_add(tally *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->name[i], name) == 0) {
            t->count[i]++;
            return;
        }
    if (t->n == TALLY_MAX) {
        t->other++;
        return;
    }
    snprintf(t->name[t->n], sizeof t->name[0], "%s", name);
    t->count[t->n++] = 1;
}

static void tally_print(const tally *t)
{
    for (size_t i = 0; i < t->n; i++)
        fprintf(stderr, "%s %s %zu", i ? "," : "", t->name[i], t->count[i]);
    if (t->other)
        fprintf(stderr, ", other %zu", t->other);
    fprintf(stderr, "\n");
}

/* Why accepted txs did not land: the tx_get of each on its node, tallied
 * by status and error; the first few in full. */
static void explain_missing(const phase *p, cli_rpc **c)
{
    tally t = { .n = 0 };
    int shown = 0;
    for (size_t i = 0; i < p->ntx; i++) {
        double last, first;
        const btx *b = &p->tx[i];
        if (b->err[0] || b->sent_ms <= 0 || landed(p, b, &last, &first))
            continue;
        char hx[67] = "0x", what[64];
        json_t *r = NULL;
        cli_rpc_error e;
        chain_hex(b->hash.b, 32, hx + 2);
        call(c[b->node], "tx_get", json_pack("[s]", hx), &r, &e);
        const char *st = json_string_value(json_object_get(r, "status"));
        const char *er = json_string_value(json_object_get(r, "error"));
        snprintf(what, sizeof what, "%s%s%s", st ? st : e.name[0] ? e.name : "no answer",
                 er ? " " : "", er ? er : "");
        tally_add(&t, what);
        char *txt = r && shown < 3 ? json_dumps(r, JSON_COMPACT) : NULL;
        if (shown++ < 3)
            fprintf(stderr, "net_finality:   e.g. dev%d nonce-order %zu via node%d: %s\n",
                    b->sender, i / SENDERS, b->node, txt ? txt : e.line);
        free(txt);
        json_decref(r);
    }
    fprintf(stderr, "net_finality:   tx_get says:");
    tally_print(&t);
}

/* The ms from the nearest block first seen on node k to time t (negative:
 * the block came after t); *height gets that block's height. */
static double near_commit(const phase *p, int k, double t, uint64_t *height)
{
    double best = 1e300;
    for (size_t s = 0; s < p->nblk; s++) {
        double d = t - p->blk[s].seen_ms[k];
        if (p->blk[s].seen_ms[k] > 0 && fabs(d) < fabs(best))
            best = d, *height = p->base + 1 + s;
    }
    return best;
}

/* Each sender's first refused tx_send: when, and how far from a block
 * committed on its node (blocks are seen every POLL_MS, later under load). */
static void first_refusals(const phase *p, double t0)
{
    for (int s = 0; s < SENDERS; s++) {
        for (size_t i = (size_t)s; i < p->ntx; i += SENDERS) {
            const btx *b = &p->tx[i];
            if (!b->first_err[0])
                continue;
            uint64_t h = 0;
            double d = near_commit(p, b->node, b->first_try_ms, &h);
            struct tm tm;
            char wall[32];
            gmtime_r(&b->first_try_wall.tv_sec, &tm);
            strftime(wall, sizeof wall, "%H:%M:%S", &tm);
            fprintf(stderr, "net_finality:   dev%d: first refusal: its tx %zu, %s, at +%.3f s "
                    "(%s.%03ldZ; %s after %d retries); node%d showed block %" PRIu64
                    " %.0f ms %s\n", s, i / SENDERS, b->first_err, (b->first_try_ms - t0) / 1e3,
                    wall, b->first_try_wall.tv_nsec / 1000000, b->err[0] ? "refused" : "accepted",
                    b->retries, b->node, h, fabs(d), d >= 0 ? "before" : "after");
            break;
        }
    }
}

/* Counts and reports what was refused (*refused; *retried: accepted only
 * after a refusal) or did not land; returns the number lost. */
static size_t report_losses(const phase *p, cli_rpc **c, const char *what, double t0,
                            size_t *refused, size_t *retried, size_t *landed_n)
{
    size_t sent = 0;
    tally why = { .n = 0 }, first = { .n = 0 };
    *refused = *retried = *landed_n = 0;
    for (size_t i = 0; i < p->ntx; i++) {
        const btx *b = &p->tx[i];
        double l, f;
        sent += b->sent_ms > 0;
        if (b->err[0])
            tally_add(&why, b->err);
        else if (b->first_err[0])
            tally_add(&first, b->first_err);
        *refused += b->err[0] != 0;
        *retried += !b->err[0] && b->first_err[0];
        *landed_n += landed(p, b, &l, &f);
    }
    size_t lost = sent - *refused - *landed_n;
    if (*retried) {
        fprintf(stderr, "net_finality: %s on %s: %zu txs accepted by tx_send only on a retry; "
                "first refusals:", what, p->t->name, *retried);
        tally_print(&first);
    }
    if (*refused) {
        fprintf(stderr, "net_finality: %s on %s: %zu of %zu txs refused by tx_send (one: %s):",
                what, p->t->name, *refused, sent, p->first_err);
        tally_print(&why);
    }
    if (*retried || *refused)
        first_refusals(p, t0);
    if (lost) {
        fprintf(stderr, "net_finality: %s on %s: %zu accepted txs not committed on every node\n",
                what, p->t->name, lost);
        explain_missing(p, c);
    }
    if (p->poll_errors)
        fprintf(stderr, "net_finality: %s on %s: %zu failed polls\n", what, p->t->name,
                p->poll_errors);
    return *refused + lost;
}

/* ---------------- the two phases ---------------- */

/* Percentiles over the txs that landed; returns how many did. */
static size_t finality_figures(const phase *p, fin_result *out)
{
    double *fin = calloc(p->ntx, sizeof *fin), *first = calloc(p->ntx, sizeof *first),
           *callt = calloc(p->ntx, sizeof *callt);
    size_t n = 0;
    for (size_t i = 0; fin && first && callt && i < p->ntx; i++) {
        double last, fst;
        if (p->tx[i].err[0] || !landed(p, &p->tx[i], &last, &fst))
            continue;
        fin[n] = (last - p->tx[i].sent_ms) / 1e3;
        first[n] = (fst - p->tx[i].sent_ms) / 1e3;
        callt[n++] = p->tx[i].call_ms;
    }
    qsort(fin, n, sizeof *fin, cmp_d);
    qsort(first, n, sizeof *first, cmp_d);
    qsort(callt, n, sizeof *callt, cmp_d);
    out->p50 = pct(fin, n, .5);
    out->p90 = pct(fin, n, .9);
    out->p99 = pct(fin, n, .99);
    out->max = n ? fin[n - 1] : 0;
    out->first_p50 = pct(first, n, .5);
    out->call_p50 = pct(callt, n, .5);
    free(fin);
    free(first);
    free(callt);
    return n;
}

static int run_finality(const target *t, cli_rpc **c, cli_rpc **pc, fin_result *out)
{
    phase p;
    poller pl;
    memset(out, 0, sizeof *out);
    if (phase_init(&p, t, c, FIN_TXS) != 0 || poller_start(&pl, &p, pc) != 0) {
        phase_release(&p);
        return -1;
    }
    double t0 = tsup_now_ms();
    for (size_t i = 0; i < p.ntx && !atomic_load(&interrupted); i++) {
        double at = t0 + (double)i * 1000.0 / FIN_RATE, now = tsup_now_ms();
        if (at > now)
            tsup_nap_ms((unsigned)(at - now));
        send_tx(&p, c[p.tx[i].node], i);
        out->sent++;
    }
    wait_landed(&p, p.ntx, tsup_now_ms() + FIN_WAIT_MS);
    poller_stop(&pl);
    size_t n = finality_figures(&p, out);
    size_t lost = report_losses(&p, c, "finality", t0, &out->refused, &out->retried,
                                &out->landed);
    size_t bad = count_mismatches(&p);
    if (bad)
        fprintf(stderr, "net_finality: %s: %zu heights with different block hashes\n", t->name, bad);
    phase_release(&p);
    return lost || bad || !n || atomic_load(&interrupted) ? -1 : 0;
}

typedef struct {
    phase *p;
    cli_rpc *c;
    int sender;
    pthread_t th;
} sender;

static void *send_main(void *arg)
{
    sender *s = arg;
    for (size_t i = (size_t)s->sender; i < s->p->ntx && !atomic_load(&interrupted); i += SENDERS)
        send_tx(s->p, s->c, i);
    return NULL;
}

static void burst_send(phase *p, cli_rpc **c)
{
    sender s[SENDERS];
    int started = 0;
    for (int j = 0; j < SENDERS; j++, started++) {
        s[j] = (sender){ p, c[j], j, 0 };
        if (pthread_create(&s[j].th, NULL, send_main, &s[j]) != 0)
            break;
    }
    for (int j = 0; j < started; j++)
        pthread_join(s[j].th, NULL);
}

static int run_burst(const target *t, cli_rpc **c, cli_rpc **pc, cli_rpc **cs,
                     burst_result *out)
{
    phase p;
    poller pl;
    memset(out, 0, sizeof *out);
    if (phase_init(&p, t, c, burst_txs) != 0 || poller_start(&pl, &p, pc) != 0) {
        phase_release(&p);
        return -1;
    }
    double t0 = tsup_now_ms();
    burst_send(&p, cs);
    double tsent = tsup_now_ms();
    wait_landed(&p, p.ntx, tsent + BURST_WAIT_MS);
    poller_stop(&pl);
    double tlast = t0;
    for (size_t i = 0; i < p.ntx; i++) {
        double last, first;
        out->sent += p.tx[i].sent_ms > 0;
        if (landed(&p, &p.tx[i], &last, &first) && last > tlast)
            tlast = last;
    }
    size_t lost = report_losses(&p, c, "throughput", t0, &out->refused, &out->retried,
                                &out->landed);
    size_t bad = count_mismatches(&p);
    if (bad)
        fprintf(stderr, "net_finality: %s: %zu heights with different block hashes\n", t->name, bad);
    out->secs = (tlast - t0) / 1e3;
    out->rate = out->secs > 0 ? (double)out->landed / out->secs : 0;
    out->send_rate = (double)out->sent / ((tsent - t0) / 1e3);
    block_figures(&p, out);
    phase_release(&p);
    return lost || bad || !out->landed || atomic_load(&interrupted) ? -1 : 0;
}

/* Both phases on one started target. Clients (one thread each): c for the
 * paced sends and set-up, pc for the poller, cs one per sender. */
static int measure(const target *t, fin_result *fin, burst_result *burst)
{
    cli_rpc *c[MAXN] = { NULL }, *pc[MAXN] = { NULL }, *cs[SENDERS] = { NULL };
    int rc = make_clients(t, c) == 0 && make_clients(t, pc) == 0 ? 0 : -1;
    for (int j = 0; rc == 0 && j < SENDERS; j++) {
        char err[CLI_ERR_LEN];
        rc = cli_rpc_new(t->url[j % t->n], t->cookie[j % t->n], &cs[j], err) == BASED_E_OK ? 0 : -1;
        if (cs[j])
            cli_rpc_set_timeout(cs[j], RPC_TIMEOUT_MS);
    }
    if (rc == 0) {
        fprintf(stderr, "net_finality: %s: finality, %d transfers at %d/s...\n", t->name,
                FIN_TXS, FIN_RATE);
        rc = run_finality(t, c, pc, fin);
    }
    if (!atomic_load(&interrupted) && cs[SENDERS - 1]) {
        fprintf(stderr, "net_finality: %s: throughput, a burst of %zu transfers...\n", t->name,
                burst_txs);
        rc |= run_burst(t, c, pc, cs, burst);
    }
    free_clients(c, MAXN);
    free_clients(pc, MAXN);
    free_clients(cs, SENDERS);
    return rc;
}

/* ---------------- the targets ---------------- */

/* Runs argv to its end with output into log; its exit status or -1. */
static int run_prog(const char *const *argv, const char *log)
{
    int st;
    pid_t pid = tsup_spawn(argv, log, NULL, true);
    if (pid < 0)
        return -1;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int read_net(const char *dir, target *t)
{
    char path[600], err[256];
    json_error_t je;
    chain_genesis g;
    snprintf(path, sizeof path, "%s/net.json", dir);
    json_t *j = json_load_file(path, 0, &je), *nodes = json_object_get(j, "nodes");
    t->n = 0;
    for (size_t k = 0; k < json_array_size(nodes) && t->n < MAXN; k++) {
        const char *u = json_string_value(json_object_get(json_array_get(nodes, k), "rpc"));
        const char *ck = json_string_value(json_object_get(json_array_get(nodes, k), "cookie"));
        if (!u || !ck)
            break;
        snprintf(t->url[t->n], sizeof t->url[0], "%s", u);
        snprintf(t->cookie[t->n++], sizeof t->cookie[0], "%s", ck);
    }
    json_decref(j);
    snprintf(path, sizeof path, "%s/genesis.json", dir);
    if (t->n != NODES || chain_genesis_load(path, &g, err, sizeof err) != BASED_E_OK) {
        fprintf(stderr, "net_finality: cannot read %s/net.json or genesis.json\n", dir);
        return -1;
    }
    snprintf(t->chain_id, sizeof t->chain_id, "%s", g.chain_id);
    t->min_fee = g.params.min_fee;
    chain_genesis_release(&g);
    return 0;
}

static int net_start(const char *bin, const char *cmt, const char *dir, target *t)
{
    char exe[600], log[600], nodes[8];
    snprintf(exe, sizeof exe, "%s/based-net", bin);
    snprintf(log, sizeof log, "%s.log", dir);
    snprintf(nodes, sizeof nodes, "%d", NODES);
    const char *argv[] = { exe, "start", "--nodes", nodes, "--full-nodes", "0", "--dir", dir,
                           "--cometbft", cmt, "--basedd", NULL, NULL };
    char basedd[600];
    snprintf(basedd, sizeof basedd, "%s/basedd", bin);
    argv[11] = basedd;
    if (run_prog(argv, log) != 0) {
        fprintf(stderr, "net_finality: based-net start failed (see %s)\n", log);
        return -1;
    }
    return read_net(dir, t);
}

static int net_stop(const char *bin, const char *dir)
{
    char exe[600], log[600];
    snprintf(exe, sizeof exe, "%s/based-net", bin);
    snprintf(log, sizeof log, "%s.log", dir);
    const char *argv[] = { exe, "stop", "--dir", dir, NULL };
    return run_prog(argv, log);
}

/* basedd --dev on a free port (*pid: its PID once spawned); waits until it
 * answers chain_getHead. */
static int dev_start(const char *bin, const char *dir, target *t, pid_t *pid)
{
    char exe[600], bind[64], log[600], err[256];
    chain_genesis g;
    chain_edpub pub;
    uint8_t edsk[64];
    int port = tsup_free_port();
    snprintf(exe, sizeof exe, "%s/basedd", bin);
    snprintf(bind, sizeof bind, "127.0.0.1:%d", port);
    snprintf(log, sizeof log, "%s/out.log", dir);
    snprintf(t->url[0], sizeof t->url[0], "http://%s/", bind);
    snprintf(t->cookie[0], sizeof t->cookie[0], "%s/.cookie", dir);
    t->n = 1;
    /* the dev chain's parameters: the built-in genesis made a dev genesis */
    chain_ed_generate(edsk, &pub);
    sodium_memzero(edsk, sizeof edsk);
    if (chain_genesis_parse(chain_genesis_default, strlen(chain_genesis_default), "genesis.json",
                            &g, err, sizeof err) != BASED_E_OK)
        return -1;
    if (chain_genesis_make_dev(&g, &pub, 0) != BASED_E_OK) {
        chain_genesis_release(&g);
        return -1;
    }
    snprintf(t->chain_id, sizeof t->chain_id, "%s", g.chain_id);
    t->min_fee = g.params.min_fee;
    chain_genesis_release(&g);
    const char *argv[] = { exe, "--dev", "--datadir", dir, "--rpc-bind", bind, "--log-level",
                           "warn", NULL };
    *pid = tsup_spawn(argv, log, NULL, false);
    for (int i = 0; *pid > 0 && i < 600 && !atomic_load(&interrupted); i++, tsup_nap_ms(50)) {
        cli_rpc *c;
        char cerr[CLI_ERR_LEN];
        uint64_t h;
        if (waitpid(*pid, NULL, WNOHANG) == *pid) {
            *pid = 0;
            fprintf(stderr, "net_finality: basedd --dev exited at start (see %s)\n", log);
            return -1;
        }
        if (access(t->cookie[0], R_OK) != 0 || cli_rpc_new(t->url[0], t->cookie[0], &c, cerr))
            continue;
        cli_rpc_set_timeout(c, 2000);
        int up = rpc_head(c, &h) == 0;
        cli_rpc_free(c);
        if (up)
            return 0;
    }
    fprintf(stderr, "net_finality: basedd --dev did not answer in 30 s (see %s)\n", log);
    return -1;
}

/* SIGTERM, then SIGKILL after 15 s; 0 if it exited 0. */
static int dev_stop(pid_t pid)
{
    int st = 0;
    kill(pid, SIGTERM);
    for (int i = 0; i < 300; i++, tsup_nap_ms(50))
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

/* ---------------- main ---------------- */

static const char *find_cometbft(const char *bin, char *buf, size_t n)
{
    const char *env = getenv("BASED_COMETBFT");
    if (env && *env)
        return access(env, X_OK) == 0 ? env : NULL;
    snprintf(buf, n, "%s/../build/go/bin/cometbft", bin);
    if (access(buf, X_OK) == 0)
        return buf;
    snprintf(buf, n, "build/go/bin/cometbft");
    return access(buf, X_OK) == 0 ? buf : NULL;
}

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&interrupted, true);
}

static void print_finality(const fin_result *f, const bool *ran)
{
    const char *names[2] = { "dev (1 node)", "network (4 nodes)" };
    printf("finality: %d transfers at %d/s, tx_send's return -> committed on every node (s)\n",
           FIN_TXS, FIN_RATE);
    printf("  %-18s %7s %7s %7s %7s %12s %12s\n", "", "p50", "p90", "p99", "max", "1st node p50",
           "tx_send p50");
    for (int i = 0; i < 2; i++)
        if (ran[i])
            printf("  %-18s %7.3f %7.3f %7.3f %7.3f %12.3f %9.2f ms  (%zu of %zu landed; %zu "
                   "sent again after a refusal)\n", names[i], f[i].p50, f[i].p90, f[i].p99,
                   f[i].max, f[i].first_p50, f[i].call_p50, f[i].landed, f[i].sent, f[i].retried);
    if (ran[0] && ran[1] && f[0].p50 > 0 && f[0].p99 > 0)
        printf("  ratio network/dev: p50 %.2f, p99 %.2f\n", f[1].p50 / f[0].p50,
               f[1].p99 / f[0].p99);
    if (ran[1])
        printf("  goal: network p99 < %.0f s: %s\n", GOAL_P99_S,
               f[1].landed == f[1].sent && f[1].p99 < GOAL_P99_S ? "met" : "NOT MET");
}

static void print_burst(const burst_result *b, const bool *ran)
{
    const char *names[2] = { "dev (1 node)", "network (4 nodes)" };
    printf("throughput: a burst of %zu transfers from %d senders, first send -> last committed on "
           "every node\n", burst_txs, SENDERS);
    for (int i = 0; i < 2; i++)
        if (ran[i])
            printf("  %-18s %7.0f tx/s  (%zu of %zu landed in %.2f s, %zu sent again after a "
                   "refusal; sent at %.0f tx/s; %zu blocks, %zu with txs: %.0f txs/block, max "
                   "%zu; block interval %.2f s)\n", names[i], b[i].rate, b[i].landed, b[i].sent,
                   b[i].secs, b[i].retried, b[i].send_rate, b[i].blocks, b[i].busy,
                   b[i].per_block, b[i].max_per_block, b[i].interval_s);
    if (ran[0] && ran[1] && b[0].rate > 0)
        printf("  ratio network/dev %.2f\n", b[1].rate / b[0].rate);
}

/* The dev chain, then the network (BENCH_NET_ONLY=dev or network: one of
 * them); each is stopped whatever happened. */
static int run_all(const char *bin, const char *cmt, const char *dir, fin_result *f,
                   burst_result *b, bool *ran)
{
    target dev = { .name = "dev" }, net = { .name = "network" };
    const char *only = getenv("BENCH_NET_ONLY");
    char ddir[256], ndir[256];
    int rc = 0;
    snprintf(ddir, sizeof ddir, "%s/dev", dir);
    snprintf(ndir, sizeof ndir, "%s/net", dir);
    if (!only || strcmp(only, "network") != 0) {
        pid_t pid = 0;
        ran[0] = true;
        rc = mkdir(ddir, 0700) == 0 ? dev_start(bin, ddir, &dev, &pid) : -1;
        if (rc == 0)
            rc = measure(&dev, &f[0], &b[0]);
        if (pid > 0 && dev_stop(pid) != 0) {
            fprintf(stderr, "net_finality: basedd --dev did not exit 0 on SIGTERM (see %s)\n", ddir);
            rc = -1;
        }
    }
    if ((only && strcmp(only, "dev") == 0) || atomic_load(&interrupted))
        return rc;
    ran[1] = true;
    fprintf(stderr, "net_finality: starting %d authorities in %s...\n", NODES, ndir);
    int nrc = net_start(bin, cmt, ndir, &net);
    if (nrc == 0)
        nrc = measure(&net, &f[1], &b[1]);
    if (net_stop(bin, ndir) != 0) {
        fprintf(stderr, "net_finality: based-net stop failed (see %s.log)\n", ndir);
        nrc = -1;
    }
    return rc || nrc ? -1 : 0;
}

int main(void)
{
    const char *bin = getenv("BASED_BIN") ? getenv("BASED_BIN") : "bin";
    char cbuf[600], dir[] = "/tmp/based-bench-net-XXXXXX";
    const char *cmt = find_cometbft(bin, cbuf, sizeof cbuf);
    fin_result f[2];
    burst_result b[2];
    bool ran[2] = { false, false };
    if (!cmt) {
        const char *env = getenv("BASED_COMETBFT");
        if (env && *env)
            printf("net_finality: skipped: BASED_COMETBFT=%s is not an executable\n", env);
        else
            printf("net_finality: skipped: no CometBFT 0.38 (set BASED_COMETBFT, or run "
                   "`make cometbft`, which needs Go >= 1.22)\n");
        return 0;
    }
    const char *bs = getenv("BENCH_NET_BURST");
    if (bs) {
        char *end;
        unsigned long v = strtoul(bs, &end, 10);
        if (*end || v < 100 || v > 50000) {
            fprintf(stderr, "net_finality: BENCH_NET_BURST must be 100..50000\n");
            return 2;
        }
        burst_txs = v;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    if (chain_crypto_init() != 0 || !mkdtemp(dir))
        return 1;
    memset(f, 0, sizeof f);
    memset(b, 0, sizeof b);
    int rc = run_all(bin, cmt, dir, f, b, ran);
    printf("%d authorities (basedd + CometBFT each, timeout_commit 1s) and basedd --dev (1 s "
           "blocks), one after the other on this machine (%ld cores)\n", NODES,
           sysconf(_SC_NPROCESSORS_ONLN));
    print_finality(f, ran);
    print_burst(b, ran);
    if (rc == 0 && !atomic_load(&interrupted) && !getenv("BENCH_NET_KEEP")) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "net_finality: could not remove %s\n", dir);
    } else {
        fprintf(stderr, "net_finality: %s; logs kept in %s\n", rc ? "failed" : "done", dir);
    }
    return rc == 0 ? 0 : 1;
}
