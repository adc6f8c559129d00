/*
 * faults_test.c: a based network of real processes on loopback, harder
 * cases: a full node that joins late, basedd killed at random moments
 * under load, and an authority whose key runs twice (double signing).
 *
 * - a full node created with the network but first started after the
 *   authorities passed height 10 syncs from genesis by CometBFT's block
 *   sync, reaches their height with the same hashes, and its data passes
 *   `basedd --verify` once it is stopped;
 * - node0's basedd is SIGKILLed 20 times (every other kill at a random
 *   moment 0.2-2 s after the last restart, the others a few ms after
 *   CometBFT stored a block, so that they land while basedd executes or
 *   commits it) while a sender pushes transfers through node1; each time
 *   its CometBFT stops by itself (its ABCI connection fails; when its
 *   shutdown hangs it is killed after 5 s), both are started again and
 *   node0 catches up. At the end: the same chain on all four, no app
 *   hash mismatch in node0's CometBFT log, every transfer accepted is in
 *   the chain, and `basedd --verify` of node0's data passes. How many kills
 *   left a block stored by CometBFT but not yet committed by basedd (read
 *   from CometBFT's handshake at each restart) is printed;
 * - a fifth node runs with a copy of node0's validator key (its own home,
 *   node key, ports and basedd: the full node of the network, given the
 *   key before its first start): the honest authorities see conflicting
 *   votes, CometBFT commits DuplicateVoteEvidence and every node's
 *   chain_getEvidence shows it for node0's address, recorded at the same
 *   height.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chain/crypto.h"
#include "tests/network/netfix.h"
#include "tests/support.h"

/* Runs `basedd --datadir D --verify`: exit 0 and "verify: ok". */
static bool verify(const tnet *t, size_t k)
{
    char dd[700], out[700], buf[4096];
    tnet_path(t, k, "basedd", dd, sizeof dd);
    tnet_path(t, k, "verify.txt", out, sizeof out);
    const char *argv[] = { test_bin("basedd"), "--datadir", dd, "--verify", NULL };
    pid_t pid = tsup_spawn(argv, out, NULL, false);
    int st = 0;
    REQ(pid > 0 && waitpid(pid, &st, 0) == pid);
    FILE *f = fopen(out, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    REQ_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0 && strstr(buf, "verify: ok"),
            "basedd --verify of node%zu: status 0x%x:\n%s", k, st, buf);
    return true;
}

/* The integer after "key=" in the last line of path holding `line`; -1. */
static long long last_field(const char *path, const char *line, const char *key)
{
    FILE *f = fopen(path, "r");
    char buf[8192];
    long long v = -1;
    while (f && fgets(buf, sizeof buf, f)) {
        const char *p = strstr(buf, line), *q = p ? strstr(p, key) : NULL;
        if (q)
            v = strtoll(q + strlen(key), NULL, 10);
    }
    if (f)
        fclose(f);
    return v;
}

static bool late_full_node(tnet *t)
{
    const uint64_t auth = 0xf, full = 0x10;
    char path[700], log[700];
    REQ(tnet_new(t, 4, 1, "300ms", true));          /* created, nothing runs */
    REQ_EQ(t->n, 5);
    REQ(tnet_start_nodes(t, auth));
    REQ(tnet_pid(t, 4, "basedd") == 0 && tnet_pid(t, 4, "cometbft") == 0);
    REQ(tnet_wait_height(t, auth, 10, 90000));
    tnet_path(t, 4, "basedd/db", path, sizeof path);
    REQ_MSG(access(path, F_OK) != 0, "node4 has a database before its first start");
    int64_t hi;
    REQ(tnet_min_height(t, auth, &hi) >= 10);
    REQ(tnet_start_nodes(t, full));
    REQ(tnet_wait_height(t, full, hi, 60000));
    int64_t lo = tnet_min_height(t, auth, NULL);
    REQ(tnet_wait_height(t, full, lo, 30000));      /* at the authorities' height */
    tnet_path(t, 4, "cometbft.log", log, sizeof log);
    long long sw = last_field(log, "Time to switch to consensus reactor", "height=");
    REQ_MSG(sw >= 10, "node4's CometBFT did not block-sync past height 10 (switch to consensus "
            "at %lld)", sw);
    bool synced = false;
    for (int i = 0; i < 50 && !synced; i++) {
        json_t *r = tnet_call(t, 4, "node_getInfo", NULL, NULL, 0);
        synced = json_is_false(json_object_get(r, "catching_up"));
        json_decref(r);
        if (!synced)
            tsup_nap_ms(200);
    }
    REQ_MSG(synced, "node4's node_getInfo still says catching_up");
    REQ(tnet_same_chain(t, auth | full, 1, lo));
    REQ(tnet_stop_nodes(t, full));
    REQ(verify(t, 4));
    fprintf(stderr, "    node4 started at the authorities' height %lld, block-synced to %lld, "
            "blocks 1..%lld identical, --verify ok\n", (long long)hi, sw, (long long)lo);
    return true;
}

TEST(network_late_full_node_syncs)
{
    static tnet t;
    const char *cmt = tnet_cometbft();
    if (!cmt)
        return;
    tnet_init(&t, "late", cmt);
    tnet_guarded(&t, late_full_node, 180);
}

/* --- SIGKILL under load --- */

#define KILLS 20
/* CometBFT stops itself when its application's connection fails, but its
 * shutdown sometimes hangs (its consensus state waits for a block that
 * basedd will never answer: "Stopping TimeoutTicker service" is its last
 * line); after this long it is killed too (its data survive SIGKILL). */
#define CMT_SELF_STOP_MS 5000

typedef struct {
    const tnet *t;
    uint8_t to[32];
    char from[67];
    uint64_t nonce0;
    atomic_bool stop;
    atomic_ullong sent;      /* accepted by tx_send */
    atomic_ullong failed;
    char last_err[256];
} sender;

/* dev1 sends 1-unit transfers through node1 with consecutive nonces. */
static void *send_loop(void *arg)
{
    sender *s = arg;
    char hash[67], why[256];
    while (!atomic_load(&s->stop)) {
        uint64_t n = s->nonce0 + atomic_load(&s->sent);
        if (tnet_transfer(s->t, 1, 1, n, s->to, 1, hash, why, sizeof why))
            atomic_fetch_add(&s->sent, 1);
        else {
            atomic_fetch_add(&s->failed, 1);
            snprintf(s->last_err, sizeof s->last_err, "%s", why);
            tsup_nap_ms(200);
        }
        tsup_nap_ms(30);
    }
    return NULL;
}

typedef struct {
    int replayed;            /* CometBFT had stored a block basedd had not committed */
    int app_ahead;           /* basedd had committed, CometBFT's state not yet saved */
    int cmt_killed;          /* CometBFT did not stop by itself in time */
    int in_commit;           /* CometBFT was waiting for basedd's Commit */
    int in_finalize;         /* ... for another answer within a block */
    int aimed;               /* kills sent just after CometBFT wrote a block */
} kill_stats;

/* Waits (up to 3 s) until node0's CometBFT writes its block store: it has
 * just decided a block and is about to hand it to basedd (FinalizeBlock,
 * then Commit). True when it saw the write. */
static bool block_written(const tnet *t)
{
    char dir[700], buf[4096];
    tnet_path(t, 0, "cometbft/data/blockstore.db", dir, sizeof dir);
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    bool seen = false;
    if (fd >= 0 && inotify_add_watch(fd, dir, IN_MODIFY | IN_CREATE) >= 0) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        seen = poll(&p, 1, 3000) == 1 && read(fd, buf, sizeof buf) > 0;
    }
    if (fd >= 0)
        close(fd);
    return seen;
}

/* Kills node0's basedd (aimed: a few ms after CometBFT stored a block, so
 * that the kill often lands while basedd executes or commits it), waits
 * for its CometBFT to stop, starts both. */
static bool kill_restart(tnet *t, kill_stats *ks, int i, bool aimed)
{
    char log[700];
    pid_t b = tnet_pid(t, 0, "basedd"), c = tnet_pid(t, 0, "cometbft");
    REQ_MSG(b > 0 && c > 0, "kill %d: node0 does not run (basedd %d, cometbft %d)", i, (int)b,
            (int)c);
    if (aimed && block_written(t)) {
        ks->aimed++;
        tsup_nap_ms(randombytes_uniform(11));
    }
    REQ(kill(b, SIGKILL) == 0);
    REQ(tnet_wait_gone(b, 5000));
    tnet_path(t, 0, "cometbft.log", log, sizeof log);
    if (!tnet_wait_gone(c, CMT_SELF_STOP_MS)) {
        if (ks->cmt_killed++ == 0) {
            fprintf(stderr, "    kill %d: node0's CometBFT still runs %d s after basedd died "
                    "(SIGKILL); its log ends:\n", i, CMT_SELF_STOP_MS / 1000);
            tnet_file_tail(log, 6);
        }
        kill(c, SIGKILL);
        REQ(tnet_wait_gone(c, 5000));
    }
    REQ(tnet_start_nodes(t, 0x1));
    long long app = last_field(log, "ABCI Replay Blocks", "appHeight=");
    long long store = last_field(log, "ABCI Replay Blocks", "storeHeight=");
    long long state = last_field(log, "ABCI Replay Blocks", "stateHeight=");
    REQ(app >= 0 && store >= 0 && state >= 0);
    ks->replayed += store > app;
    ks->app_ahead += app == store && state < store;
    int64_t hi;
    tnet_min_height(t, 0xe, &hi);
    REQ_MSG(tnet_wait_height(t, 0x1, hi, 30000), "kill %d: node0 did not catch up to %lld", i,
            (long long)hi);
    return true;
}

/* CometBFT stops with "CONSENSUS FAILURE" when its application's
 * connection dies in the middle of a block: that is the kill itself (the
 * reason names the lost connection); during Commit or during
 * FinalizeBlock. Any other consensus failure is one. */
static bool consensus_failures(const char *log, int *in_commit, int *in_finalize)
{
    static const char *const lost[] = { "read message: EOF", "connection reset",
                                        "broken pipe", "use of closed network connection" };
    FILE *f = fopen(log, "r");
    char line[16384];
    bool ok = true;
    while (f && fgets(line, sizeof line, f)) {
        if (!strstr(line, "CONSENSUS FAILURE"))
            continue;
        bool conn = false;
        for (size_t i = 0; i < BASED_ARRAY_LEN(lost) && !conn; i++)
            conn = strstr(line, lost[i]) != NULL;
        if (conn && strstr(line, "commit failed for application"))
            (*in_commit)++;
        else if (conn)
            (*in_finalize)++;
        else {
            fprintf(stderr, "    | %.900s\n", line);
            ok = false;
        }
    }
    if (f)
        fclose(f);
    return ok;
}

/* No app hash mismatch, replay error or other consensus failure in node0's
 * logs. */
static bool no_mismatch(const tnet *t, kill_stats *ks)
{
    static const char *const bad[] = { "wrong Block.Header.AppHash", "does not match AppHash",
                                       "app hash mismatch", "error on replay" };
    char log[700];
    tnet_path(t, 0, "cometbft.log", log, sizeof log);
    for (size_t i = 0; i < BASED_ARRAY_LEN(bad); i++) {
        int c = tnet_file_count(log, bad[i]);
        if (c)
            tnet_file_show(log, bad[i], 12);
        REQ_MSG(c == 0, "node0's cometbft.log says \"%s\" %d times", bad[i], c);
    }
    REQ_MSG(consensus_failures(log, &ks->in_commit, &ks->in_finalize),
            "node0's cometbft.log has a CONSENSUS FAILURE not caused by basedd's death");
    tnet_path(t, 0, "basedd.log", log, sizeof log);
    int c = tnet_file_count(log, "mismatch");
    REQ_MSG(c == 0, "node0's basedd.log says \"mismatch\" %d times", c);
    return true;
}

/* Every other kill at a random moment (0.2-2 s after the last restart),
 * the others aimed at a block's execution (0.2-1 s, then the next block). */
static bool kill_loop(tnet *t, kill_stats *ks)
{
    for (int i = 0; i < KILLS; i++) {
        tsup_nap_ms(200 + randombytes_uniform(i % 2 ? 801 : 1801));
        if (!kill_restart(t, ks, i, i % 2 == 1))
            return false;
    }
    return true;
}

static bool sigkill_recovery(tnet *t)
{
    static sender s;
    kill_stats ks = { 0, 0, 0, 0, 0, 0 };
    char to[67];
    uint64_t bal;
    pthread_t th;
    REQ(tnet_new(t, 4, 0, "300ms", false));
    REQ(tnet_wait_height(t, 0xf, 2, 60000));
    s.t = t;
    tnet_dev_addr(1, s.from);
    tnet_dev_addr(7, to);
    REQ(chain_unhex(to + 2, s.to, 32) == BASED_E_OK);
    REQ(tnet_account(t, 1, s.from, &bal, &s.nonce0));
    REQ(pthread_create(&th, NULL, send_loop, &s) == 0);
    double t0 = tsup_now_ms();
    bool ok = kill_loop(t, &ks);
    atomic_store(&s.stop, true);
    pthread_join(th, NULL);
    REQ(ok);
    uint64_t sent = atomic_load(&s.sent), n = 0;
    REQ_MSG(sent >= 50, "only %llu transfers were accepted (%llu failed; last: %s)",
            (unsigned long long)sent, (unsigned long long)atomic_load(&s.failed), s.last_err);
    double until = tsup_now_ms() + 30000;       /* every accepted transfer lands */
    while (tsup_now_ms() < until && (!tnet_account(t, 0, s.from, &bal, &n) || n < s.nonce0 + sent))
        tsup_nap_ms(250);
    REQ_MSG(n == s.nonce0 + sent, "dev1's nonce on node0 is %llu; %llu transfers were accepted",
            (unsigned long long)n, (unsigned long long)sent);
    int64_t hi;
    tnet_min_height(t, 0xf, &hi);
    REQ(tnet_wait_height(t, 0xf, hi, 30000));
    int64_t head = tnet_min_height(t, 0xf, NULL);
    REQ(tnet_same_chain(t, 0xf, 1, head));
    REQ(no_mismatch(t, &ks));
    REQ(tnet_stop_nodes(t, 0x1));
    REQ(verify(t, 0));
    fprintf(stderr, "    %d SIGKILLs of node0's basedd in %.0f s under load (%llu transfers "
            "accepted, all committed), %d aimed just after CometBFT stored a block; %d landed inside Commit and %d inside another step of "
            "a block (CometBFT's CONSENSUS FAILURE on the lost connection); at restart %d "
            "blocks stored by CometBFT but not committed by basedd were replayed, %d times "
            "basedd was one commit ahead of CometBFT's state; CometBFT's shutdown hung and it "
            "was killed %d times; blocks 1..%lld identical, --verify ok\n", KILLS,
            (tsup_now_ms() - t0) / 1000.0, (unsigned long long)sent, ks.aimed, ks.in_commit,
            ks.in_finalize, ks.replayed, ks.app_ahead, ks.cmt_killed, (long long)head);
    return true;
}

TEST(network_sigkill_recovery)
{
    static tnet t;
    const char *cmt = tnet_cometbft();
    if (!cmt)
        return;
    tnet_init(&t, "sigkill", cmt);
    tnet_guarded(&t, sigkill_recovery, 240);
}

/* --- double signing --- */

/* Gives node4 a copy of node0's validator key and a fresh signing state;
 * *addr gets node0's CometBFT address (hex, as CometBFT writes it). */
static bool make_twin(const tnet *t, char *addr, size_t cap)
{
    char src[700], dst[700], state[700];
    json_error_t je;
    tnet_path(t, 0, "cometbft/config/priv_validator_key.json", src, sizeof src);
    tnet_path(t, 4, "cometbft/config/priv_validator_key.json", dst, sizeof dst);
    tnet_path(t, 4, "cometbft/data/priv_validator_state.json", state, sizeof state);
    json_t *key = json_load_file(src, 0, &je);
    const char *a = json_string_value(json_object_get(key, "address"));
    bool ok = a && strlen(a) == 40 && strlen(a) < cap;
    if (ok)
        snprintf(addr, cap, "%s", a);
    ok = ok && json_dump_file(key, dst, JSON_INDENT(2)) == 0 && chmod(dst, 0600) == 0;
    json_decref(key);
    REQ_MSG(ok, "cannot copy %s to %s", src, dst);
    FILE *f = fopen(state, "w");
    REQ(f);
    fputs("{\n  \"height\": \"0\",\n  \"round\": 0,\n  \"step\": 0\n}\n", f);
    REQ(fclose(f) == 0);
    return true;
}

typedef struct {
    long long recorded_at, height;
    bool authority;
} ev_rec;

/* Node k's first duplicate_vote record for addr (case-insensitive). */
static bool evidence_of(const tnet *t, size_t k, const char *addr, ev_rec *out, size_t *total)
{
    json_t *r = tnet_call(t, k, "chain_getEvidence", NULL, NULL, 0);
    json_t *ev = json_object_get(r, "evidence");
    bool found = false;
    *total = json_array_size(ev);
    for (size_t i = 0; i < json_array_size(ev) && !found; i++) {
        json_t *o = json_array_get(ev, i);
        const char *type = json_string_value(json_object_get(o, "type"));
        const char *va = json_string_value(json_object_get(o, "validator_address"));
        json_t *at = json_object_get(o, "recorded_at"), *h = json_object_get(o, "height");
        if (type && va && !strcmp(type, "duplicate_vote") && !strcasecmp(va, addr) &&
            json_is_integer(at) && json_is_integer(h)) {
            out->recorded_at = json_integer_value(at);
            out->height = json_integer_value(h);
            out->authority = json_is_string(json_object_get(o, "authority"));
            found = true;
        }
    }
    json_decref(r);
    return found;
}

static bool double_sign(tnet *t)
{
    const uint64_t auth = 0xf;
    char addr[64];
    ev_rec rec[4];
    size_t total[4] = { 0 };
    REQ(tnet_new(t, 4, 1, "300ms", true));
    REQ(make_twin(t, addr, sizeof addr));
    REQ(tnet_start_nodes(t, auth));
    REQ(tnet_wait_height(t, auth, 2, 60000));
    REQ(tnet_start_nodes(t, 0x10));                 /* the double signer */
    double t0 = tsup_now_ms(), until = t0 + 60000;
    size_t have = 0;
    while (have < 4 && tsup_now_ms() < until) {
        have = 0;
        for (size_t k = 0; k < 4; k++)
            have += evidence_of(t, k, addr, &rec[k], &total[k]);
        if (have < 4)
            tsup_nap_ms(1000);
    }
    double took = (tsup_now_ms() - t0) / 1000.0;
    REQ(tnet_stop_nodes(t, 0x10));                  /* the double signer first */
    REQ_MSG(have == 4, "after 60 s only %zu of 4 authorities show duplicate_vote evidence for "
            "node0's address %s (records: %zu %zu %zu %zu)", have, addr, total[0], total[1],
            total[2], total[3]);
    for (size_t k = 0; k < 4; k++) {
        REQ_MSG(rec[k].recorded_at == rec[0].recorded_at && rec[k].height == rec[0].height,
                "node%zu records the evidence at %lld (offence at %lld), node0 at %lld (%lld)",
                k, rec[k].recorded_at, rec[k].height, rec[0].recorded_at, rec[0].height);
        REQ(rec[k].authority);
    }
    REQ(rec[0].height >= 1 && rec[0].recorded_at > rec[0].height);
    int64_t hi;
    tnet_min_height(t, auth, &hi);
    REQ(tnet_wait_height(t, auth, hi + 2, 30000));  /* the chain goes on */
    int64_t head = tnet_min_height(t, auth, NULL);
    REQ(tnet_same_chain(t, auth, 1, head));
    fprintf(stderr, "    double signing by %s at height %lld recorded at %lld on all 4 "
            "authorities after %.1f s\n", addr, rec[0].height, rec[0].recorded_at, took);
    return true;
}

TEST(network_double_sign_evidence)
{
    static tnet t;
    const char *cmt = tnet_cometbft();
    if (!cmt)
        return;
    tnet_init(&t, "double", cmt);
    tnet_guarded(&t, double_sign, 180);
}
