/*
 * tftcache.h: incremental per-epoch TFT forecasts in the chain (issue 6,
 * "per-epoch forecasts advance incrementally"; docs/tft.md "In the chain").
 *
 * What consensus fixes. A uid's TFT forecast for its next epoch is a pure
 * function of its feed, the u16 incentives kept for it in the series record
 * (oldest first, at most REWARD_TFT_MAX_FEED), and of the applied model:
 *
 *     F(y[0..L-1]) = the last P10/P50/P90 of tft_forecast_series over y
 *                    with fit_len = reward_tft_fit_len(L, K, model),
 *                    rounded by reward_tft_round and sorted.
 *
 * fit_len = min(L, K, the model's max_len) is both the scaling (mean and sd
 * of the feed's first fit_len values) and, being <= max_len, makes the
 * encoder run from the feed's first value. Once a feed holds K values its
 * scaling is frozen, so the forecast of the next epoch is the same LSTM
 * and attention state advanced by one value: one tft_state_advance and one
 * tft_state_forecast per uid instead of a whole-window pass.
 *
 * What the node keeps. A cache (a handle the node owns, bound to
 * reward_module as reward_handles.cache) holds, per Brain (id, instance)
 * and model (BLAKE2b-256 of its bytes), each uid's tft_state together with
 * the exact values it has been fed, its occupant and fit_len. An entry is
 * used only when its occupant and fit_len equal the uid's and the values it
 * has been fed are a prefix of the uid's feed; it is then advanced over
 * the rest. Anything else (new model, new occupant, a feed cut or rebased,
 * another fork, a replay, a restart) rebuilds the state from the feed. The
 * state is a function of (model, scaling, values fed) only, so a hit and a
 * rebuild give the same bits (tests/emission/tftinc_test.c). The cache's
 * memory is capped: whole Brains are evicted, least recently used first,
 * among those unused for stale_blocks; a Brain that does not fit is
 * forecast without caching (rebuilt every epoch).
 *
 * Without a cache handle (NULL) every state is rebuilt from its feed each
 * epoch: the same bits, more work.
 *
 * Thread safety: every function takes the cache's mutex; forecasts of one
 * call run on the caller's thread.
 */
#ifndef BASED_REWARDS_TFTCACHE_H
#define BASED_REWARDS_TFTCACHE_H

#include "rewards/tftchain.h"

#define REWARD_TFT_MAX_FEED (2 * REWARD_TFT_MAX_WINDOW)

/* One uid's feed and its forecast. */
typedef struct {
    uint64_t reg;                /* in: occupant's registered_at */
    const uint16_t *y;           /* in: the feed, oldest first */
    size_t len;                  /* in: forecast when 2 <= len <= REWARD_TFT_MAX_FEED */
    bool ok;                     /* out: a TFT forecast was made */
    uint16_t q[3];               /* out: P10, P50, P90 rounded and sorted */
    double raw[3];               /* out: the same before rounding */
} reward_tft_feed;

/* One Brain's epoch: which Brain, its applied model, K. */
typedef struct {
    uint16_t brain;
    uint32_t instance;
    const uint8_t *model;        /* tft_model_save bytes (borrowed) */
    size_t model_len;            /* 0: no model, nothing is forecast */
    size_t window;               /* K */
    uint64_t height;             /* now (eviction order only) */
    uint64_t stale_blocks;       /* entries unused this long may be evicted */
} reward_tft_brain_epoch;

typedef struct reward_tft_cache reward_tft_cache;

/* Forecasts every feed f[0..n-1] (uid order) of one Brain epoch through
 * cache c (NULL: no cache). Feeds outside 2..REWARD_TFT_MAX_FEED, and all
 * feeds when the model bytes do not load, get ok = false. Returns
 * BASED_E_NOMEM when memory runs out (results then unusable), else
 * BASED_E_OK. */
based_err reward_tft_forecast_feeds(reward_tft_cache *c, const reward_tft_brain_epoch *b,
                                    reward_tft_feed *f, size_t n);

/* When a model is applied (reward_tft_block), the node builds on a thread
 * the states the Brain's next epoch will ask for: each feed as cut for the
 * model, under the new model, for feeds whose scaling the next value will
 * not change (>= K values). The Brain's next reward_tft_forecast_feeds
 * waits for it and takes the states into the cache, where they are checked
 * like any cached state; so the cold rebuild that a new model forces runs
 * off the block path during the D blocks before that epoch. Copies its
 * inputs; does nothing unless c is not NULL and its mode is ON; skipped
 * when no thread can start (the epoch then rebuilds). Threads are joined
 * when taken, when superseded, and by reward_tft_cache_clear / _free. */
void reward_tft_prebuild(reward_tft_cache *c, const reward_tft_brain_epoch *b,
                         const reward_tft_feed *f, size_t n);
/* Waits until every prebuild of c started so far has finished (bench). */
void reward_tft_prebuild_wait(reward_tft_cache *c);

/* min(len, window, the model's max_len): the scaling length of a feed. */
size_t reward_tft_fit_len(size_t len, size_t window, const struct tft_model *m);
/* The reference: F over the whole feed by tft_forecast_series (no state). */
based_err reward_tft_forecast_feed(const struct tft_model *m, const uint16_t *y, size_t len,
                                   size_t window, double raw[3], uint16_t q[3]);

/* ---- the cache ---- */
typedef enum {
    REWARD_TFT_CACHE_ON,         /* keep states between epochs (default) */
    REWARD_TFT_CACHE_REBUILD,    /* no cache: rebuild every state every epoch */
    REWARD_TFT_CACHE_SERIES,     /* no state: tft_forecast_series every epoch */
} reward_tft_cache_mode;

#define REWARD_TFT_CACHE_DEFAULT_BYTES ((size_t)5 << 30)   /* 1024 full Brains: 4.3 GB */

/* A cache in `mode` with a memory cap of max_bytes (0: the default). */
based_err reward_tft_cache_new(reward_tft_cache_mode mode, size_t max_bytes,
                               reward_tft_cache **out);
/* Joins its prebuilds and frees everything; free(NULL) is a no-op. */
void reward_tft_cache_free(reward_tft_cache *c);
/* Sets the mode and the memory cap (bytes; 0 keeps the current cap); a
 * change of mode empties the cache. */
void reward_tft_cache_set(reward_tft_cache *c, reward_tft_cache_mode mode, size_t max_bytes);
/* Empties the cache (as after a restart). */
void reward_tft_cache_clear(reward_tft_cache *c);

typedef struct {
    uint64_t advanced;           /* forecasts from a cached state */
    uint64_t rebuilt;            /* forecasts from a state rebuilt from the feed */
    uint64_t series;             /* forecasts by tft_forecast_series */
    uint64_t evicted;            /* Brains evicted (cap, or an error) */
    uint64_t uncached;           /* Brain epochs forecast without caching (cap) */
    uint64_t prebuilt;           /* states taken from a prebuild (model applied) */
    size_t brains, uids, bytes;  /* held now */
} reward_tft_cache_stats;
void reward_tft_cache_stats_get(reward_tft_cache *c, reward_tft_cache_stats *s);

#endif
