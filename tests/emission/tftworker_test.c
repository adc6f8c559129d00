/* The TFT training pool (rewards/tftpool.c): a bounded number of threads
 * trains queued jobs in submission order; taking a job's model gives the
 * pool's result, waits while it trains, and trains in the caller when the
 * job is still queued or was never submitted: the same bytes every way. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/runner.h"
#include "rewards/tftchain.h"

static atomic_int running, most_running, calls, gate;
static _Thread_local bool caller;        /* the test's own thread passes the gate */

/* A deterministic "trainer": the model is the job's bytes reversed, each
 * xor 0x5a; it takes about 30 ms and records how many run at once. In pool
 * threads it first waits for the gate, so that the test knows which jobs
 * are still queued however slow the machine is. */
static based_err slow_trainer(const uint8_t *job, size_t n, uint8_t **model, size_t *ml)
{
    int now = atomic_fetch_add(&running, 1) + 1;
    int seen = atomic_load(&most_running);
    while (now > seen && !atomic_compare_exchange_weak(&most_running, &seen, now))
        ;
    atomic_fetch_add(&calls, 1);
    struct timespec tick = { 0, 1000 * 1000 };
    while (!caller && !atomic_load(&gate))
        nanosleep(&tick, NULL);
    struct timespec ts = { 0, 30 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    *model = malloc(n ? n : 1);
    if (!*model) {
        atomic_fetch_sub(&running, 1);
        return BASED_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        (*model)[i] = (uint8_t)(job[n - 1 - i] ^ 0x5a);
    *ml = n;
    atomic_fetch_sub(&running, 1);
    return BASED_E_OK;
}

static void job_of(int k, uint8_t job[16])
{
    for (int i = 0; i < 16; i++)
        job[i] = (uint8_t)(k * 31 + i * 7);
}

static void check_model(int k, const uint8_t *m, size_t ml)
{
    uint8_t job[16];
    job_of(k, job);
    CHECK_EQ_U64(ml, 16);
    for (int i = 0; i < 16; i++)
        CHECK_EQ_INT(m[i], job[15 - i] ^ 0x5a);
}

TEST(tft_worker_pool_bounded_in_order_same_bytes)
{
    reward_tft_worker_stats st;
    reward_tft_pool *p = NULL;
    caller = true;
    atomic_store(&gate, 0);
    CHECK_EQ_INT(reward_tft_pool_new(2, &p), BASED_E_OK);
    if (!p)
        return;
    reward_tft_pool_stats(p, &st);
    CHECK_EQ_U64(st.threads, 0);            /* started at the first job */
    uint8_t job[16];
    for (int k = 0; k < 8; k++) {
        job_of(k, job);
        reward_tft_submit(p, slow_trainer, job, sizeof job);
        reward_tft_submit(p, slow_trainer, job, sizeof job);   /* once per content */
    }
    reward_tft_pool_stats(p, &st);
    CHECK_EQ_U64(st.submitted, 8);
    CHECK_EQ_U64(st.threads, 2);
    CHECK(st.queued >= 6);                  /* at most 2 started, held at the gate */
    /* Take the last one first: it is still queued, so it is trained here. */
    uint8_t *m;
    size_t ml;
    job_of(7, job);
    CHECK_EQ_INT(reward_tft_take(p, slow_trainer, job, sizeof job, &m, &ml), BASED_E_OK);
    check_model(7, m, ml);
    free(m);
    atomic_store(&gate, 1);
    for (int k = 0; k < 7; k++) {        /* the rest from the pool, waiting as needed */
        job_of(k, job);
        CHECK_EQ_INT(reward_tft_take(p, slow_trainer, job, sizeof job, &m, &ml), BASED_E_OK);
        check_model(k, m, ml);
        free(m);
    }
    /* Never submitted: trained in the caller. */
    job_of(99, job);
    CHECK_EQ_INT(reward_tft_take(p, slow_trainer, job, sizeof job, &m, &ml), BASED_E_OK);
    check_model(99, m, ml);
    free(m);
    reward_tft_pool_stats(p, &st);
    CHECK_EQ_U64(st.queued, 0);
    CHECK_EQ_U64(st.in_flight, 0);
    CHECK_EQ_U64(st.taken, 7);              /* job 7 was dropped from the queue */
    CHECK(atomic_load(&most_running) <= 3); /* 2 pool threads + this caller */
    CHECK_EQ_INT(atomic_load(&calls), 9);   /* 7 in the pool, 7 and 99 here */
    reward_tft_pool_free(p);                /* joins its threads */
}

/* Freeing a pool with jobs queued and one running: the running job
 * finishes, every thread is joined (nothing runs afterwards); without a
 * pool (NULL) every job trains in the caller. */
TEST(tft_worker_pool_free_joins_and_null_pool_trains_here)
{
    reward_tft_pool *p = NULL;
    uint8_t job[16], *m;
    size_t ml;
    caller = true;
    atomic_store(&gate, 0);
    atomic_store(&calls, 0);
    CHECK_EQ_INT(reward_tft_pool_new(1, &p), BASED_E_OK);
    if (!p)
        return;
    for (int k = 20; k < 24; k++) {
        job_of(k, job);
        reward_tft_submit(p, slow_trainer, job, sizeof job);
    }
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    while (atomic_load(&calls) < 1)        /* one job started (held at the gate) */
        nanosleep(&ts, NULL);
    atomic_store(&gate, 1);
    reward_tft_pool_free(p);
    int ran = atomic_load(&calls);
    CHECK(ran >= 1 && ran <= 4);            /* queued jobs left at the stop never run */
    CHECK_EQ_INT(atomic_load(&running), 0); /* joined: nothing runs after free */
    job_of(21, job);
    reward_tft_submit(NULL, slow_trainer, job, sizeof job);   /* nothing */
    CHECK_EQ_INT(atomic_load(&calls), ran);
    CHECK_EQ_INT(reward_tft_take(NULL, slow_trainer, job, sizeof job, &m, &ml), BASED_E_OK);
    check_model(21, m, ml);
    free(m);
    CHECK_EQ_INT(atomic_load(&calls), ran + 1);
}
