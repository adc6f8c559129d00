/*
 * tftpool.c: the TFT training pool, a handle the node owns
 * (reward_tft_pool_new / _free; see tftchain.h).
 *
 * A fixed number of training threads (1..16, started at the first job)
 * takes queued jobs in submission order. A job stays in its slot until its
 * model is taken at apply time. Slots in flight at 1024 Brains: jobs
 * written in D + 1 blocks, about 1024 / (8 x (tempo + 1)) x 11 = 14 on
 * average, and at most the Brains whose epoch falls in D + 1 consecutive
 * blocks (113 when every Brain trains at the same epoch). A new job reuses
 * a free or taken slot first; only when all TFT_POOL_SLOTS hold untaken
 * jobs is the oldest evicted (waited for if it is running; its apply then
 * trains synchronously: the same bytes). The pool bounds the CPU the node
 * gives training: at 1024 Brains the jobs need about 15 % of one core
 * (docs/tft.md), so one thread keeps up and the block path keeps the other
 * cores. reward_tft_pool_free stops the threads (a running job finishes
 * first), joins them and frees every slot.
 *
 * Never part of consensus: a job's model is a pure function of the job's
 * bytes, whichever thread trains it.
 */
#include <pthread.h>

#include "rewards/tftchain.h"

#define TFT_POOL_SLOTS 256
#define TFT_POOL_THREADS_MAX 16

typedef enum { W_FREE, W_QUEUED, W_RUNNING, W_DONE } wstate;

typedef struct {
    wstate st;
    bool taken;
    chain_hash id;
    reward_tft_trainer fn;
    uint8_t *job, *model;
    size_t jn, mn;
    uint64_t seq;                        /* submission order */
    based_err rc;
} wslot;

struct reward_tft_pool {
    pthread_mutex_t mu;
    pthread_cond_t work;                 /* a job was queued, or stop */
    pthread_cond_t done;                 /* a job finished */
    wslot slots[TFT_POOL_SLOTS];
    uint64_t seq;
    size_t want, started;
    bool stop;
    pthread_t th[TFT_POOL_THREADS_MAX];
    reward_tft_worker_stats stats;
};

based_err reward_tft_pool_new(size_t threads, reward_tft_pool **out)
{
    *out = NULL;
    reward_tft_pool *p = calloc(1, sizeof *p);
    if (!p)
        return BASED_E_NOMEM;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return BASED_E_NOMEM;
    }
    if (pthread_cond_init(&p->work, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return BASED_E_NOMEM;
    }
    if (pthread_cond_init(&p->done, NULL) != 0) {
        pthread_cond_destroy(&p->work);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return BASED_E_NOMEM;
    }
    p->want = threads < 1 ? 1 : threads > TFT_POOL_THREADS_MAX ? TFT_POOL_THREADS_MAX : threads;
    *out = p;
    return BASED_E_OK;
}

void reward_tft_pool_free(reward_tft_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->started; i++)
        pthread_join(p->th[i], NULL);
    for (size_t i = 0; i < TFT_POOL_SLOTS; i++) {
        free(p->slots[i].job);
        free(p->slots[i].model);
    }
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void reward_tft_pool_stats(reward_tft_pool *p, reward_tft_worker_stats *s)
{
    pthread_mutex_lock(&p->mu);
    *s = p->stats;
    s->slots = TFT_POOL_SLOTS;
    s->threads = p->started;
    s->in_flight = s->queued = 0;
    for (size_t i = 0; i < TFT_POOL_SLOTS; i++) {
        s->in_flight += p->slots[i].st != W_FREE && !p->slots[i].taken;
        s->queued += p->slots[i].st == W_QUEUED;
    }
    pthread_mutex_unlock(&p->mu);
}

/* Under mu: the queued job submitted first, or NULL. */
static wslot *next_queued(reward_tft_pool *p)
{
    wslot *best = NULL;
    for (size_t i = 0; i < TFT_POOL_SLOTS; i++)
        if (p->slots[i].st == W_QUEUED && (!best || p->slots[i].seq < best->seq))
            best = &p->slots[i];
    return best;
}

static void *worker_main(void *arg)
{
    reward_tft_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        wslot *s = NULL;
        while (!p->stop && !(s = next_queued(p)))
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        s->st = W_RUNNING;               /* job and fn stay put while running */
        reward_tft_trainer fn = s->fn;
        const uint8_t *job = s->job;
        size_t jn = s->jn;
        pthread_mutex_unlock(&p->mu);
        uint8_t *model = NULL;
        size_t mn = 0;
        based_err rc = fn(job, jn, &model, &mn);
        pthread_mutex_lock(&p->mu);
        s->rc = rc, s->model = model, s->mn = mn, s->st = W_DONE;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Under mu: empties a slot, waiting first if its job is running. */
static void slot_clear(reward_tft_pool *p, wslot *s)
{
    while (s->st == W_RUNNING)
        pthread_cond_wait(&p->done, &p->mu);
    free(s->job);
    free(s->model);
    memset(s, 0, sizeof *s);
}

static wslot *slot_find(reward_tft_pool *p, reward_tft_trainer fn, const chain_hash *id)
{
    for (size_t i = 0; i < TFT_POOL_SLOTS; i++)
        if (p->slots[i].st != W_FREE && p->slots[i].fn == fn &&
            memcmp(p->slots[i].id.b, id->b, 32) == 0)
            return &p->slots[i];
    return NULL;
}

/* A free slot, else the oldest taken one, else the oldest (evicted). */
static wslot *slot_pick(reward_tft_pool *p)
{
    wslot *taken = NULL, *oldest = NULL;
    for (size_t i = 0; i < TFT_POOL_SLOTS; i++) {
        wslot *s = &p->slots[i];
        if (s->st == W_FREE)
            return s;
        if (s->taken && (!taken || s->seq < taken->seq))
            taken = s;
        if (!oldest || s->seq < oldest->seq)
            oldest = s;
    }
    if (!taken)
        p->stats.evicted++;
    return taken ? taken : oldest;
}

/* Under mu: starts threads up to the pool's size. */
static void start_threads(reward_tft_pool *p)
{
    while (!p->stop && p->started < p->want) {
        if (pthread_create(&p->th[p->started], NULL, worker_main, p) != 0)
            break;
        p->started++;
    }
}

void reward_tft_submit(reward_tft_pool *p, reward_tft_trainer fn, const uint8_t *job, size_t n)
{
    if (!p)
        return;
    chain_hash id = chain_hash_bytes(job, n);
    pthread_mutex_lock(&p->mu);
    start_threads(p);
    if (!p->stop && p->started && !slot_find(p, fn, &id)) {
        wslot *s = slot_pick(p);
        slot_clear(p, s);
        s->job = malloc(n ? n : 1);
        if (s->job) {
            memcpy(s->job, job, n);
            s->jn = n, s->id = id, s->fn = fn, s->seq = p->seq++, s->st = W_QUEUED;
            p->stats.submitted++;
            pthread_cond_signal(&p->work);
        }
    }
    pthread_mutex_unlock(&p->mu);
}

/* Under mu: the pool's result of the job in slot s (waiting while it
 * trains) into *bytes; BASED_E_NOT_FOUND when it has none (never seen, or
 * still queued: then dropped, as training here is cheaper than waiting). */
static based_err take_locked(reward_tft_pool *p, wslot *s, uint8_t **bytes, size_t *bl)
{
    if (s && s->st == W_QUEUED) {
        slot_clear(p, s);
        s = NULL;
    }
    while (s && s->st == W_RUNNING)
        pthread_cond_wait(&p->done, &p->mu);
    if (!s)
        return BASED_E_NOT_FOUND;
    s->taken = true;
    p->stats.taken++;
    *bl = s->mn;
    *bytes = malloc(s->mn ? s->mn : 1);
    if (!*bytes)
        return BASED_E_NOMEM;
    if (s->mn)
        memcpy(*bytes, s->model, s->mn);
    return s->rc;
}

based_err reward_tft_take(reward_tft_pool *p, reward_tft_trainer fn, const uint8_t *job,
                          size_t n, uint8_t **bytes, size_t *bl)
{
    based_err rc = BASED_E_NOT_FOUND;
    if (p) {
        chain_hash id = chain_hash_bytes(job, n);
        pthread_mutex_lock(&p->mu);
        rc = take_locked(p, slot_find(p, fn, &id), bytes, bl);
        pthread_mutex_unlock(&p->mu);
    }
    return rc == BASED_E_NOT_FOUND ? fn(job, n, bytes, bl) : rc;
}
