/*
 * bench/round64.c: one full validator round against 64 miners (issue 10,
 * Performance: "finished well inside the 10 s block on this 2-core
 * machine").
 *
 * The round is based-validator's own, neuron_val_round
 * (neurons/validator_round.c), with the context based-validator builds: the
 * default model as the reference, held-out fortunes as the evaluation text,
 * the default challenge and score parameters, the default 3000 ms deadline.
 * The round needs the chain only for the head block and the metagraph, so
 * the bench hands it a random block hash, a height and a list of 64 served
 * miners (and the validator itself, which the round skips); no node runs.
 *
 * The 64 endpoints run the real miner serving code: 64 neuron_miner
 * instances (neurons/miner_int.h) on one libuv loop, each with its own
 * HTTP server (node/http.c) on a free loopback port, its own random
 * account key, the X25519 keys derived from it, one model state
 * (--workers 1, --max-concurrent 8), the product's handler
 * neuron_miner_handle and its honest answer function. So every challenge
 * is opened, checked (signature, Brain, uid, height, validator, model
 * limits, replay), generated afresh with model_generate, signed and sealed
 * exactly as based-miner does it. Only the chain watcher thread does not
 * run: each miner's view of the chain (the head, the validator set) is
 * filled in directly. Generation runs on libuv's thread pool, sized 2 (the
 * machine's cores), as 64 miners sharing this machine would at best.
 *
 * Two configurations, each one warm-up round and then ROUNDS timed rounds:
 *   A: the 64 endpoints in this process, their loop on a thread of its own;
 *   B: the 64 endpoints in a child process (fork; stopped by PID with
 *      SIGTERM, exit status 0 checked), so the validator's process runs
 *      nothing but the validator. Both still share the 2 cores.
 *
 * Per round: the wall time of neuron_val_round and the CPU time of the
 * validator's thread during it (the round is single-threaded: libcurl
 * multi on the calling thread). The round runs its phases one after the
 * other (build every challenge, send them all, then open and score every
 * answer), so: transfers = the longest exchange (all start together; the
 * latencies are the round's own, by its clock); build = the challenges
 * built, encoded and sealed again right after the round with the same
 * functions (neuron_val_challenge, neuron_challenge_encode, neuron_seal),
 * their ids checked equal to the round's; after = wall - build - transfers,
 * the opening, verifying, duplicate check and scoring inside the round;
 * scoring = the 64 answers scored again with neuron_score_answer, total and
 * per answer, each score checked equal to the round's. Also the answers
 * scoring > 0.9 (must be 64) and the miners' own generation time (the
 * elapsed_us they report, summed). The summary is the median of the
 * rounds; the ratio is against the 10 s block of genesis.json. Exit status
 * 1 if any round had an answer at or below 0.9 or anything failed.
 */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "node/log.h"
#include "neurons/miner_int.h"
#include "neurons/validator.h"

#define N_MINERS 64
#define ROUNDS 5
#define BRAIN 7
#define SS58_PREFIX 42
#define DEADLINE_MS 3000       /* based-validator's default --deadline-ms */
#define BLOCK_MS 10000.0       /* genesis.json block_time_ms */
#define HEAD 1010              /* the miners' head; rounds use heights just below */
#define HEIGHT0 1000
#define GOOD 0.9

/* What the validator needs to know of an endpoint (its metagraph entry). */
typedef struct {
    uint16_t port;
    chain_addr addr;
    uint8_t x25519[32];
} endpoint;

/* The 64 miners on one loop. */
typedef struct {
    uv_loop_t loop;
    uv_async_t stop;
    uv_signal_t term;
    bool with_signal, stopped;
    uv_thread_t thread;
    neuron_miner *m;           /* N_MINERS */
    int n;                     /* initialised so far */
    endpoint ep[N_MINERS];
} fleet;

typedef struct {
    double wall, cpu, build, transfer, after, score, per_p50, per_max, gen, min_score;
    int good, scored;
} figures;

static model_t *model;
static uint8_t *text;
static size_t text_len;

static double thread_cpu_ms(void)
{
    return bench_clock_s(CLOCK_THREAD_CPUTIME_ID) * 1e3;
}

/* ---- the miners ----------------------------------------------------------- */

/* The miner's view of the chain, as the watcher thread would keep it: the
 * head and one validator (uid 0). No thread runs. */
static int watch_fill(neuron_watch *w, const chain_addr *self, int uid, const chain_addr *val)
{
    memset(w, 0, sizeof *w);
    w->brain = BRAIN;
    w->self = *self;
    w->self_uid = uid;
    w->head = HEAD;
    w->poll_ms = 1000;
    atomic_store(&w->node_ok, true);
    if (!(w->vals = calloc(1, sizeof *w->vals)))
        return -1;
    w->vals[0].addr = *val;
    w->vals[0].uid = 0;
    w->n_vals = 1;
    if (uv_mutex_init(&w->mu) != 0) {
        free(w->vals);
        w->vals = NULL;
        return -1;
    }
    return 0;
}

static void miner_release(neuron_miner *m)
{
    if (m->watch.vals) {
        free(m->watch.vals);
        uv_mutex_destroy(&m->watch.mu);
    }
    for (int i = 0; m->states && i < m->workers; i++)
        model_state_free(m->states[i]);
    free(m->states);
    free(m->busy);
    neuron_replay_free(&m->replay);
    if (m->box)
        sodium_free(m->box);
    neuron_key_release(&m->key);
}

/* Miner uid: a fresh account key, its X25519 keys, a model state, the
 * replay cache, the chain view and its HTTP server on a free port. */
static int miner_init(neuron_miner *m, uv_loop_t *loop, int uid, const chain_addr *val)
{
    char err[256];
    node_http_config cfg;
    memset(m, 0, sizeof *m);
    m->brain = BRAIN;
    m->uid = uid;
    m->model = model;
    snprintf(m->method, sizeof m->method, "f32");
    m->workers = 1;
    m->max_concurrent = 8;
    m->fn = neuron_miner_answer_honest;
    m->loop = loop;
    if (!(m->key.sk = sodium_malloc(32)) || !(m->box = sodium_malloc(sizeof *m->box)))
        return -1;
    chain_key_generate(m->key.sk);
    chain_key_pub(m->key.sk, &m->key.addr);
    chain_ss58_encode(SS58_PREFIX, &m->key.addr, m->key.ss58);
    neuron_box_keys_derive(m->key.sk, m->box);
    m->states = calloc(1, sizeof *m->states);
    m->busy = calloc(1, sizeof *m->busy);
    if (!m->states || !m->busy || !(m->states[0] = model_state_new(model)) ||
        neuron_replay_init(&m->replay) != BASED_E_OK ||
        watch_fill(&m->watch, &m->key.addr, uid, val))
        return -1;
    node_http_config_init(&cfg);
    cfg.bind = "127.0.0.1:0";
    cfg.max_body = NEURON_REQUEST_BODY_MAX;
    if (node_http_start(loop, &cfg, neuron_miner_handle, m, &m->srv, err, sizeof err) != BASED_E_OK)
        return fprintf(stderr, "round64: %s\n", err), -1;
    return 0;
}

/* Stops every server (as based-miner does on SIGTERM); loop thread. */
static void fleet_halt(fleet *f)
{
    if (f->stopped)
        return;
    f->stopped = true;
    for (int i = 0; i < f->n; i++) {
        neuron_miner *m = &f->m[i];
        m->stopping = true;
        node_http_stop(m->srv);
        m->srv = NULL;
        neuron_miner_drop_queue(m);
    }
    uv_close((uv_handle_t *)&f->stop, NULL);
    if (f->with_signal)
        uv_close((uv_handle_t *)&f->term, NULL);
}

static void on_stop(uv_async_t *a)
{
    fleet_halt(a->data);
}

static void on_term(uv_signal_t *s, int signum)
{
    (void)signum;
    fleet_halt(s->data);
}

/* After fleet_halt: runs the loop dry and frees; 0 when the loop closed
 * with no handle left. */
static int fleet_free(fleet *f)
{
    uv_run(&f->loop, UV_RUN_DEFAULT);
    int closed = uv_loop_close(&f->loop);
    for (int i = 0; i < f->n; i++)
        miner_release(&f->m[i]);
    free(f->m);
    f->m = NULL;
    return closed == 0 ? 0 : -1;
}

/* Sets up the loop and the 64 miners (uids 1..64) answering validator val. */
static int fleet_open(fleet *f, const chain_addr *val, bool with_signal)
{
    memset(f, 0, sizeof *f);
    if (uv_loop_init(&f->loop) != 0)
        return -1;
    f->stop.data = f;
    uv_async_init(&f->loop, &f->stop, on_stop);
    f->with_signal = with_signal;
    if (with_signal) {
        uv_signal_init(&f->loop, &f->term);
        f->term.data = f;
        uv_signal_start(&f->term, on_term, SIGTERM);
    }
    int rc = (f->m = calloc(N_MINERS, sizeof *f->m)) ? 0 : -1;
    for (int i = 0; rc == 0 && i < N_MINERS; i++) {
        rc = miner_init(&f->m[i], &f->loop, i + 1, val);
        f->n = i + 1;
        if (rc == 0) {
            f->ep[i].port = (uint16_t)node_http_port(f->m[i].srv);
            f->ep[i].addr = f->m[i].key.addr;
            memcpy(f->ep[i].x25519, f->m[i].box->pk, 32);
        }
    }
    if (rc != 0) {
        fleet_halt(f);
        fleet_free(f);
    }
    return rc;
}

static void loop_thread(void *arg)
{
    fleet *f = arg;
    uv_run(&f->loop, UV_RUN_DEFAULT);
}

/* ---- configuration B: the miners in a child process ------------------------ */

static bool write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

static bool read_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n > 0) {
        ssize_t r = read(fd, b, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        b += r;
        n -= (size_t)r;
    }
    return true;
}

/* The child: serves until SIGTERM; exit status 0 after a clean stop. */
static void child_main(int fd, const chain_addr *val)
{
    static fleet f;
    uint8_t ok = fleet_open(&f, val, true) == 0;
    bool sent = write_all(fd, &ok, 1) && (!ok || write_all(fd, f.ep, sizeof f.ep));
    close(fd);
    if (!ok)
        _exit(1);
    if (!sent)
        fleet_halt(&f);
    /* fleet_free runs the loop: it serves until SIGTERM halts it */
    _exit(fleet_free(&f) == 0 && sent ? 0 : 1);
}

/* Forks the child serving the miners; *pid and ep[] filled. */
static int child_start(const chain_addr *val, pid_t *pid, endpoint *ep)
{
    int p[2];
    uint8_t ok = 0;
    if (pipe(p) != 0)
        return -1;
    fflush(NULL);
    *pid = fork();
    if (*pid == 0) {
        close(p[0]);
        child_main(p[1], val);
    }
    close(p[1]);
    bool got = *pid > 0 && read_all(p[0], &ok, 1) && ok &&
               read_all(p[0], ep, N_MINERS * sizeof *ep);
    close(p[0]);
    return got ? 0 : -1;
}

/* SIGTERM and wait: its exit status, or -1. */
static int child_stop(pid_t pid)
{
    int st;
    if (pid <= 0 || kill(pid, SIGTERM) != 0)
        return -1;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- the validator -------------------------------------------------------- */

typedef struct {
    neuron_val_ctx x;
    uint8_t sk[32];
    neuron_info list[N_MINERS + 1];   /* the validator (uid 0), then the miners */
} validator;

static int validator_init(validator *v)
{
    memset(v, 0, sizeof *v);
    chain_key_generate(v->sk);
    if (chain_key_pub(v->sk, &v->x.addr) != BASED_E_OK || !(v->x.ref = model_state_new(model)))
        return -1;
    v->x.model = model;
    v->x.text = text;
    v->x.text_len = text_len;
    neuron_challenge_params_default(&v->x.cp);
    neuron_score_params_default(&v->x.sp);
    v->x.sk = v->sk;
    neuron_box_keys_derive(v->sk, &v->x.box);
    v->x.brain = BRAIN;
    v->x.deadline_ms = DEADLINE_MS;
    v->list[0].uid = 0;
    v->list[0].addr = v->x.addr;
    v->list[0].validator = true;
    chain_ss58_encode(SS58_PREFIX, &v->x.addr, v->list[0].ss58);
    return 0;
}

/* The metagraph the round sees: the validator and the 64 served miners. */
static void validator_meet(validator *v, const endpoint *ep)
{
    for (int i = 0; i < N_MINERS; i++) {
        neuron_info *ni = &v->list[i + 1];
        memset(ni, 0, sizeof *ni);
        ni->uid = i + 1;
        ni->addr = ep[i].addr;
        chain_ss58_encode(SS58_PREFIX, &ni->addr, ni->ss58);
        ni->served = true;
        snprintf(ni->host, sizeof ni->host, "127.0.0.1");
        ni->port = ep[i].port;
        memcpy(ni->x25519, ep[i].x25519, 32);
    }
}

static void validator_free(validator *v)
{
    model_state_free(v->x.ref);
    sodium_memzero(v->sk, sizeof v->sk);
    sodium_memzero(&v->x.box, sizeof v->x.box);
}

/* ---- one round ------------------------------------------------------------ */

/* Builds, encodes and seals every challenge of the round again (what the
 * round's prepare() does); ms into f->build; -1 if one differs. */
static int retime_build(const validator *v, const chain_hash *block, uint64_t height,
                        uint32_t round, const neuron_val_result *res, figures *f)
{
    static neuron_challenge c;
    static uint8_t enc[NEURON_CHALLENGE_MAX], sealed[NEURON_REQUEST_BODY_MAX];
    int bad = 0;
    double t0 = bench_now();
    for (int i = 0; i < N_MINERS; i++) {
        size_t len;
        const neuron_info *ni = &v->list[i + 1];
        bad |= neuron_val_challenge(&v->x, block, height, (uint16_t)ni->uid, round, &c) ||
               neuron_challenge_encode(&c, enc, sizeof enc, &len) ||
               neuron_seal(enc, len, ni->x25519, sealed);
        chain_hash a = neuron_challenge_id(&c), b = neuron_challenge_id(&res[i].c);
        bad |= res[i].uid != ni->uid || !chain_hash_eq(&a, &b);
    }
    f->build = (bench_now() - t0) * 1e3;
    return bad ? -1 : 0;
}

/* Scores every answer again, timing each; -1 if a score differs. */
static int retime_score(const validator *v, const neuron_val_result *res, figures *f)
{
    double per[N_MINERS];
    int k = 0, bad = 0;
    f->score = 0;
    for (int i = 0; i < N_MINERS; i++) {
        neuron_score sc;
        if (!res[i].a)
            continue;
        double t0 = bench_now();
        bad |= neuron_score_answer(v->x.ref, &res[i].c, res[i].a, res[i].latency_ms,
                                   (double)v->x.deadline_ms, &v->x.sp, &sc) != BASED_E_OK;
        per[k] = (bench_now() - t0) * 1e3;
        f->score += per[k++];
        bad |= sc.score != res[i].sc.score;
    }
    f->scored = k;
    f->per_max = 0;
    for (int i = 0; i < k; i++)
        f->per_max = per[i] > f->per_max ? per[i] : f->per_max;
    f->per_p50 = k ? bench_median(per, k) : 0;
    return bad ? -1 : 0;
}

/* What the round's own results say: transfers, scores, the miners' time. */
static void tally(const neuron_val_result *res, figures *f)
{
    f->transfer = 0;
    f->gen = 0;
    f->good = 0;
    f->min_score = 1;
    for (int i = 0; i < N_MINERS; i++) {
        const neuron_val_result *r = &res[i];
        f->transfer = r->latency_ms > f->transfer ? r->latency_ms : f->transfer;
        f->good += r->sc.score > GOOD;
        f->min_score = r->sc.score < f->min_score ? r->sc.score : f->min_score;
        if (r->a)
            f->gen += r->a->elapsed_us / 1e3;
        if (r->sc.gate != NEURON_GATE_OK)
            fprintf(stderr, "round64: uid %d: gate %s: %s\n", r->uid,
                    neuron_gate_name(r->sc.gate), r->why);
    }
}

static int one_round(validator *v, uint32_t round, figures *f)
{
    char err[CLI_ERR_LEN];
    chain_hash block;
    neuron_val_result *res;
    size_t n;
    uint64_t height = HEIGHT0 + round;
    randombytes_buf(block.b, sizeof block.b);
    double c0 = thread_cpu_ms(), t0 = bench_now();
    based_err rc = neuron_val_round(&v->x, &block, height, round, v->list, N_MINERS + 1, &res,
                                    &n, err);
    f->wall = (bench_now() - t0) * 1e3;
    f->cpu = thread_cpu_ms() - c0;
    if (rc != BASED_E_OK || n != N_MINERS) {
        fprintf(stderr, "round64: round %u: %s\n", round, rc ? err : "not every miner challenged");
        if (rc == BASED_E_OK)
            neuron_val_results_free(res, n);
        return -1;
    }
    tally(res, f);
    int bad = retime_build(v, &block, height, round, res, f);
    if (bad)
        fprintf(stderr, "round64: round %u: a rebuilt challenge differs from the round's\n", round);
    else if ((bad = retime_score(v, res, f)) != 0)
        fprintf(stderr, "round64: round %u: a rescored answer differs from the round's\n", round);
    f->after = f->wall - f->build - f->transfer;
    neuron_val_results_free(res, n);
    return bad;
}

static void print_row(const char *label, const figures *f)
{
    printf("%-7s %7.1f %7.1f %6.1f %9.1f %9.1f %8.1f %6.2f/%-6.2f %4d %6.4f %9.1f\n", label,
           f->wall, f->cpu, f->build, f->transfer, f->after, f->score, f->per_p50, f->per_max,
           f->good, f->min_score, f->gen);
}

/* The column-wise median of f[0..n); good is the worst round's. */
static figures median_of(const figures *f, int n)
{
    figures m = { 0 };
    double col[ROUNDS];
    size_t offs[] = { offsetof(figures, wall), offsetof(figures, cpu), offsetof(figures, build),
                      offsetof(figures, transfer), offsetof(figures, after),
                      offsetof(figures, score), offsetof(figures, per_p50),
                      offsetof(figures, per_max), offsetof(figures, gen),
                      offsetof(figures, min_score) };
    for (size_t k = 0; k < BASED_ARRAY_LEN(offs); k++) {
        for (int i = 0; i < n; i++)
            memcpy(&col[i], (const char *)&f[i] + offs[k], sizeof col[i]);
        double med = bench_median(col, n);
        memcpy((char *)&m + offs[k], &med, sizeof med);
    }
    m.good = f[0].good;
    for (int i = 1; i < n; i++)
        m.good = f[i].good < m.good ? f[i].good : m.good;
    return m;
}

/* A warm-up round, then ROUNDS timed ones; the median row into *med. */
static int rounds(validator *v, uint32_t *round, figures *med)
{
    figures f[ROUNDS], warm;
    int bad = one_round(v, (*round)++, &warm);
    printf("%-7s %7s %7s %6s %9s %9s %8s %13s %4s %6s %9s\n", "round", "wall", "cpu", "build",
           "transfers", "after", "scoring", "p50/max", ">0.9", "min", "miner gen");
    if (!bad)
        print_row("warm-up", &warm);
    for (int r = 0; !bad && r < ROUNDS; r++) {
        char label[16];
        bad = one_round(v, (*round)++, &f[r]);
        snprintf(label, sizeof label, "%d", r + 1);
        if (!bad)
            print_row(label, &f[r]);
        if (!bad && f[r].good != N_MINERS) {
            fprintf(stderr, "round64: round %d: %d answers > %.1f, not %d\n", r + 1, f[r].good,
                    GOOD, N_MINERS);
            bad = -1;
        }
    }
    if (bad)
        return -1;
    *med = median_of(f, ROUNDS);
    print_row("median", med);
    printf("round / block: %.1f ms / %.0f ms = %.3f (%.1f%% of the block)\n", med->wall, BLOCK_MS,
           med->wall / BLOCK_MS, 100.0 * med->wall / BLOCK_MS);
    return 0;
}

/* ---- main ----------------------------------------------------------------- */

static int config_a(validator *v, uint32_t *round, figures *med)
{
    fleet *f = calloc(1, sizeof *f);
    if (!f || fleet_open(f, &v->x.addr, false) != 0) {
        free(f);
        return fprintf(stderr, "round64: cannot start the 64 endpoints\n"), -1;
    }
    validator_meet(v, f->ep);
    int rc = uv_thread_create(&f->thread, loop_thread, f) == 0 ? 0 : -1;
    if (rc == 0) {
        printf("\nA: the 64 endpoints in this process (their loop on a thread, 2 generation "
               "threads)\n");
        rc = rounds(v, round, med);
        uv_async_send(&f->stop);
        uv_thread_join(&f->thread);
    } else {
        fleet_halt(f);
    }
    if (fleet_free(f) != 0) {
        fprintf(stderr, "round64: the endpoints' loop closed with handles open\n");
        rc = -1;
    }
    free(f);
    return rc;
}

static int config_b(validator *v, uint32_t *round, figures *med)
{
    endpoint ep[N_MINERS];
    pid_t pid = 0;
    int rc = child_start(&v->x.addr, &pid, ep);
    if (rc == 0) {
        validator_meet(v, ep);
        printf("\nB: the 64 endpoints in a child process (pid %d, 2 generation threads); this "
               "process is the validator alone\n", (int)pid);
        rc = rounds(v, round, med);
    } else {
        fprintf(stderr, "round64: the child did not start the 64 endpoints\n");
    }
    int st = pid > 0 ? child_stop(pid) : -1;
    if (pid > 0 && st != 0) {
        fprintf(stderr, "round64: the endpoints' process exited with %d\n", st);
        rc = -1;
    }
    return rc;
}

static int load_inputs(void)
{
    char err[256];
    struct model_corpus c;
    if (model_load(MODEL_DEFAULT_PATH, &model, err, sizeof err) != BASED_E_OK ||
        model_corpus_load(MODEL_FORTUNES_DIR, 0, &c, err, sizeof err) != BASED_E_OK)
        return fprintf(stderr, "round64: %s\n", err), -1;
    text = c.heldout;
    text_len = c.n_heldout;
    c.heldout = NULL;
    model_corpus_free(&c);
    return 0;
}

static void banner(void)
{
    printf("round64: neuron_val_round against %d miner endpoints (the real miner handler, honest "
           "f32 answers of %s), deadline %d ms, default challenges (prompts 24-64 bytes of "
           "held-out fortunes, 32-48 tokens, top-8, T 0.8); %d timed rounds after a warm-up, "
           "median\n", N_MINERS, MODEL_DEFAULT_PATH, DEADLINE_MS, ROUNDS);
    printf("columns, in ms: wall = the round (neuron_val_round); cpu = the validator thread's CPU "
           "time in it; build = building, encoding and sealing the 64 challenges (timed again); "
           "transfers = the longest exchange (the round's own clock); after = wall - build - "
           "transfers (opening, verifying, duplicates and scoring, in the round); scoring = the "
           "64 answers scored again, total and p50/max per answer; >0.9 = answers scoring over "
           "0.9; min = the lowest score; miner gen = the miners' own generation times, summed\n");
}

int main(void)
{
    static validator v;
    figures a, b;
    uint32_t round = 0;
    setenv("UV_THREADPOOL_SIZE", "2", 1);   /* the machine's cores; before the pool starts */
    if (sodium_init() < 0 || load_inputs() != 0 || validator_init(&v) != 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    node_log_set_level(NODE_LOG_WARN);
    banner();
    /* B first: the fork happens before this process starts any thread. */
    int rc = config_b(&v, &round, &b);
    if (rc == 0)
        rc = config_a(&v, &round, &a);
    if (rc == 0)
        printf("\nsummary: round %.0f ms in-process (A), %.0f ms with the miners in another "
               "process (B): %.3f and %.3f of the 10 s block; %d/%d answers > 0.9 in every "
               "round\n", a.wall, b.wall, a.wall / BLOCK_MS, b.wall / BLOCK_MS,
               a.good < b.good ? a.good : b.good, N_MINERS);
    validator_free(&v);
    model_free(model);
    free(text);
    return rc == 0 ? 0 : 1;
}
