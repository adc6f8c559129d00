/*
 * tft.h: the TFT Enforcer, a small deterministic Temporal Fusion Transformer
 * (Lim, Arik, Loeff, Pfister 2021) in C, and the beta(t) phase-in schedule.
 *
 * What it is: one global model over many series. Per time step a series has
 * a target, past-observed covariates and known-future covariates; per series
 * it has static covariates. The model forecasts the next step's P10, P50 and
 * P90 (one step ahead; quantiles never cross: P50 -/+ positive offsets).
 *
 * Architecture (every component of docs/tft.md): gated residual networks
 * (ELU, GLU gating, layer norm); static, past and future variable selection
 * networks; four static context encoders (c_s, c_e, c_h, c_c); an LSTM
 * encoder over the past started from (c_h, c_c), an LSTM decoder over the
 * next step's known inputs; gated skips; static enrichment; interpretable
 * multi-head attention (per-head Q/K, one shared V, heads averaged, causal:
 * the forecast position attends to the last k encoder positions and
 * itself); position-wise GRN; final gated skip; linear quantile head trained
 * with the summed pinball loss. Unless TFT_NO_BASE, the head forecasts a
 * correction to a manipulation-robust seasonal base (seasonal naive unless
 * y[t+1-S] is an outlier to its three earlier seasons, then their median
 * plus the deviation as far as the latest step confirms it) in units of
 * the base's recent (clipped) mean absolute error, and the target enters
 * the encoder minus the mean of its last L = S x ceil(4 / S) values
 * (docs/tft.md, "Manipulation-robust seasonal base"); the median of that
 * correction is shrunk toward 0 by a factor fitted on the held-out tail. Adam with global-norm gradient clipping,
 * early stopping on a held-out tail, z-scoring fitted on training data only.
 *
 * The encoder is stateful: it runs from the start of a series' forecasting
 * window, so a forecast made by tft_forecast() over a whole series and one
 * made by advancing a tft_state one step at a time are bit-identical. That
 * is what lets a node advance every miner's state once per epoch cheaply.
 *
 * Determinism (consensus-critical): every result (trained weights,
 * forecasts) is a function of the inputs and the seed only, bit for bit,
 * across gcc/clang and -O levels: IEEE double basic operations only,
 * -ffp-contract=off, fixed summation order, no threads, no libm (own exp,
 * tanh, sigmoid, sqrt in num.c), own PRNG (splitmix64), no wall-clock time.
 *
 * Ownership: tft_dataset_new/_free, tft_model_new/_free, tft_state_new/_free
 * pair up; every _free accepts NULL. Nothing here is thread-safe on a
 * shared object; distinct objects may be used from distinct threads (a
 * chain worker thread may train one model while another forecasts).
 */
#ifndef BASED_TFT_TFT_H
#define BASED_TFT_TFT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "chain/base.h"

/* ---- beta(t): the phase-in of the TFT term (economics.md) ---------------
 * beta in 32.32 fixed point (TFT_BETA_ONE = 1.0). t = height /
 * blocks_per_year years: 0 for t <= 2; floor(0.9 * ONE * (t - 2) / 2) for
 * 2 < t <= 4 (so exactly floor(0.9 * ONE) at t = 4); ONE for t > 4.
 * blocks_per_year == 0 returns 0. Pure integer code. */
#define TFT_BETA_ONE ((uint64_t)1 << 32)
uint64_t tft_beta(uint64_t height, uint64_t blocks_per_year);

/* b = beta x accuracy, both 32.32, floor; accuracy is clamped to ONE. */
uint64_t tft_beta_times(uint64_t beta, uint64_t accuracy);

/* Accuracy(TFT) in 32.32 from the pooled losses of the TFT and of seasonal
 * naive over the same points: 0 when loss_tft >= loss_naive, ONE when
 * loss_tft <= 0.9 * loss_naive, linear between. Losses are non-negative
 * integers (e.g. pinball loss in base units); loss_naive == 0 gives 0. */
uint64_t tft_accuracy(uint64_t loss_tft, uint64_t loss_naive);

/* ---- Datasets ----------------------------------------------------------
 * Series x steps x features, in memory. Series may have different lengths
 * (len[i] <= n_steps); values of series i at step s (0-based from the
 * series' first row) live at index i * n_steps + s. */
#define TFT_MAX_COVARIATES 16        /* per kind: static, past, future */
#define TFT_MAX_SERIES 65536
#define TFT_MAX_STEPS 100000
#define TFT_MAX_CELLS 50000000       /* n_series * n_steps cap */
#define TFT_NAME_LEN 48

struct tft_dataset {
    int n_series, n_steps;
    int n_static, n_past, n_future;  /* user covariates (target excluded) */
    char static_names[TFT_MAX_COVARIATES][TFT_NAME_LEN];
    char past_names[TFT_MAX_COVARIATES][TFT_NAME_LEN];
    char future_names[TFT_MAX_COVARIATES][TFT_NAME_LEN];
    char (*series_names)[TFT_NAME_LEN]; /* [n_series] */
    int64_t *t0;        /* [n_series] the `t` of each series' first row */
    int *len;           /* [n_series] */
    double *target;     /* [n_series][n_steps] */
    double *past;       /* [n_series][n_steps][n_past] */
    double *future;     /* [n_series][n_steps][n_future] */
    double *stat;       /* [n_series][n_static] */
};

/* A zero-filled dataset (all len = n_steps). NULL on bad sizes or no
 * memory. Free with tft_dataset_free. */
struct tft_dataset *tft_dataset_new(int n_series, int n_steps, int n_static,
                                    int n_past, int n_future);
void tft_dataset_free(struct tft_dataset *d);

/* Parses CSV text (see docs/tft.md: header; `series`, `t`, `target`;
 * `static_*`, `future_*`, other columns past-observed). Rows of a series
 * must have consecutive t; series may be interleaved. On error returns
 * non-OK and writes "line L, column C: reason" into err. Input is capped
 * at TFT_MAX_CSV_BYTES and the TFT_MAX_* sizes. */
#define TFT_MAX_CSV_BYTES ((size_t)256 << 20)
based_err tft_csv_parse(const char *text, size_t n, struct tft_dataset **out,
                        char *err, size_t errlen);
based_err tft_csv_load(const char *path, struct tft_dataset **out,
                       char *err, size_t errlen);
/* Writes a dataset as CSV (%.17g, round-trips exactly). */
based_err tft_csv_write(const struct tft_dataset *d, FILE *f);

/* ---- Synthetic data ----------------------------------------------------
 * Trend, weekly-like seasonality (period 7), regime shifts (persistent
 * level jumps), planted manipulation spikes (a few steps boosted), noise;
 * static_group, static_amp; past covariate `activity`; known-future
 * `future_phase` and `future_weekend`. Deterministic in the seed. */
struct tft_gen_opts {
    int n_series, n_steps;
    uint64_t seed;
};
struct tft_dataset *tft_gen_synthetic(const struct tft_gen_opts *o);

/* ---- Model -------------------------------------------------------------- */
enum {
    TFT_NO_VSN = 1,     /* selection weights = softmax of learned constants */
    TFT_NO_ATTN = 2,    /* attention block removed (delta = theta) */
    TFT_NO_LSTM = 4,    /* LSTM and its gated skip removed (phi = xi) */
    TFT_NO_GATE = 8,    /* every GLU replaced by its linear branch */
    TFT_NO_BASE = 16,   /* no seasonal-naive base: the head forecasts the
                           z-scored target itself, not the correction */
};

struct tft_config {
    int d;              /* hidden size, 4..32 (8-16 recommended) */
    int heads;          /* 1..4, divides d */
    int k;              /* encoder positions the forecast attends to */
    int max_len;        /* encoder window: at most this many steps */
    int epochs;         /* maximum epochs */
    int patience;       /* early stopping: epochs without improvement */
    int batch;          /* series per Adam step */
    int valid;          /* held-out tail (steps per series) for early stop */
    int warmup;         /* first origins of a series not scored */
    double lr;          /* Adam step size */
    double clip;        /* global gradient-norm clip */
    double dropout;     /* GRN dropout rate in training */
    uint64_t seed;      /* init, shuffling and dropout */
    unsigned ablate;    /* TFT_NO_* flags */
    int season;         /* season S of the seasonal-naive base, 1..64;
                           0 = detected by tft_train on the fitted steps */
};
/* The reference configuration (d = 16, 4 heads, k = 14, ...). */
void tft_config_default(struct tft_config *c);

struct tft_model;

/* A model for the dataset's covariate layout, initialised from cfg.seed.
 * NULL on bad configuration (or > TFT_MAX_PARAMS parameters). */
#define TFT_MAX_PARAMS 50000
struct tft_model *tft_model_new(const struct tft_config *cfg, int n_static,
                                int n_past, int n_future);
void tft_model_free(struct tft_model *m);
size_t tft_model_nparams(const struct tft_model *m);
const struct tft_config *tft_model_config(const struct tft_model *m);

/* Training report. */
struct tft_train_report {
    int epochs_run, best_epoch;
    double best_valid_loss;     /* mean pinball (z-scored units) */
    double last_train_loss;
    double qscale;              /* interval calibration factor chosen */
    double shrink;              /* P50 shrinkage toward the base chosen */
    double tail_worst;          /* worst series' loss / naive's on the tail */
};

/* Trains on the first fit_len[i] steps of each series (fit_len NULL: the
 * whole series); z-scoring statistics are fitted on those steps only and
 * stored in the model; the last cfg.valid of them are held out for early
 * stopping (best epoch's weights kept), and then used to fit two
 * constants: the P50 shrinkage toward the seasonal-naive base (0 to 0.5,
 * the one whose worst series on the tail is least worse than seasonal
 * naive; 0 under TFT_NO_BASE) and the P10/P90 scale (82 % coverage of
 * the tail, 2 points of margin for its use in early stopping). cfg.season == 0: the base's season is detected on
 * the fitted steps (tft_detect_season, lags up to 28). Deterministic in cfg.seed. Progress
 * lines go to log when non-NULL. */
based_err tft_train(struct tft_model *m, const struct tft_dataset *d,
                    const int *fit_len, struct tft_train_report *rep,
                    FILE *log);

/* One-step forecasts. For series i, out[(s) * 3 + q] (q = P10, P50, P90)
 * is the forecast of target step s + 1 made from steps <= s, for every
 * s in [0, len[i] - 1); out has room for 3 * len[i] doubles and the last
 * triple is the forecast of the step after the data (needs future
 * covariates: those of the last row are reused). Target scaling uses the
 * first fit_len steps of the series (the data the model was trained on).
 * Entries before the encoder window are NaN-free zeros. */
based_err tft_forecast_series(const struct tft_model *m,
                              const struct tft_dataset *d, int series,
                              int fit_len, double *out);

/* Interpretability: mean selection weights per variable and mean attention
 * per lag over the forecasts of one series (positions >= from).
 * Variable order: static = dataset statics then "level", "scale";
 * past = "target", past covariates, future covariates; future = future
 * covariates (or "const" when there are none). attn[j] = weight on lag j
 * (0 = the forecast position itself), j <= k. */
struct tft_explain {
    int n_static, n_past, n_future, k;
    double static_w[TFT_MAX_COVARIATES + 2];
    double past_w[2 * TFT_MAX_COVARIATES + 1];
    double future_w[TFT_MAX_COVARIATES + 1];
    double attn[65];
    int count;
};
based_err tft_explain_series(const struct tft_model *m,
                             const struct tft_dataset *d, int series,
                             int fit_len, int from, struct tft_explain *ex);

/* ---- Incremental state (per series) --------------------------------------
 * Holds a series' LSTM state, the keys/values of its last k encoder
 * positions and its target scaling. tft_state_new starts it from the
 * static covariates and the scaling (mean, sd of the series' fitted
 * target); tft_state_advance feeds one observed step (target, past and
 * future covariates of that step, raw units); tft_state_forecast gives
 * the next step's P10/P50/P90 from that step's future covariates. The
 * results equal tft_forecast_series bit for bit when the same steps are
 * fed from the start of the forecast window. */
struct tft_state;
struct tft_state *tft_state_new(const struct tft_model *m, const double *stat,
                                double mean, double sd);
void tft_state_free(struct tft_state *s);
based_err tft_state_advance(struct tft_state *s, double target,
                            const double *past, const double *future);
based_err tft_state_forecast(struct tft_state *s, const double *future_next,
                             double q[3]);
/* Frees the state's scratch tape (it is regrown by the next advance or
 * forecast; results are unchanged) and returns the bytes the state still
 * holds. For callers that keep many states between uses. */
size_t tft_state_trim(struct tft_state *s);
/* Scaling tft_forecast_series uses for a series: mean and sd of its first
 * fit_len targets (sd floored). And the window start for that fit_len. */
void tft_series_scaling(const struct tft_dataset *d, int series, int fit_len,
                        double *mean, double *sd);
int tft_window_start(const struct tft_model *m, int fit_len);

/* ---- Multi-step forecasts (multi.c) --------------------------------------
 * P10/P50/P90 of steps len .. len + horizon - 1 of series i (h = 1..horizon
 * steps past its data) into out[(h - 1) * 3 + q]. Recursive: a state fed
 * from the forecast window's start (as tft_forecast_series), then for
 * h >= 2 advanced with the previous step's P50 as if observed (past
 * covariates held at the last row's); the offsets of step h are widened
 * to sqrt(sum over j <= h of the offsets of step j squared). h = 1 equals
 * the last triple of tft_forecast_series bit for bit; never crossing.
 * future: [horizon][n_future] known-future covariates of the forecast
 * steps, or NULL to reuse the last row's. BASED_E_BAD_PARAM on a layout
 * mismatch, horizon outside 1..TFT_MAX_HORIZON or no step in the window. */
#define TFT_MAX_HORIZON 64
based_err tft_forecast_multi(const struct tft_model *m, const struct tft_dataset *d,
                             int series, int fit_len, int horizon, const double *future,
                             double *out);

/* ---- Serialisation --------------------------------------------------------
 * "BTFT" magic, version, config, layout, normalisation statistics and
 * parameters as little-endian IEEE-754 bit patterns. Version 3 adds the
 * P50 shrink, version 4 the base revision (1: median-of-three-seasons base,
 * level over >= 4 steps), version 5 the per-series online guard flag;
 * versions 1 to 4 still load with their old behaviour (no guard; base
 * revision 0 for 1 to 3; shrink 0 for 1 and 2; version 1: no base). tft_model_save with
 * buf == NULL returns the size needed in *n. */
#define TFT_MODEL_MAGIC "BTFT"
#define TFT_MODEL_VERSION 5u
based_err tft_model_save(const struct tft_model *m, uint8_t *buf, size_t *n);
based_err tft_model_load(const uint8_t *buf, size_t n, struct tft_model **out);

/* ---- Evaluation (rolling origin, against baselines) ---------------------- */
struct tft_series_eval {
    double sql_tft, sql_naive, sql_ets;  /* mean scaled quantile loss */
    double ratio_naive, ratio_ets, coverage;
};
struct tft_eval {
    int horizon, season, n_series, n_points;
    double sql_tft, sql_naive, sql_ets;  /* pooled: mean over series */
    double ratio_naive, ratio_ets, coverage, worst_series_ratio_naive;
    struct tft_series_eval *series;      /* [n_series], owned */
    double *forecasts;                   /* [n_series][horizon][3], owned */
    struct tft_train_report train;
};
/* Trains a model with cfg on each series minus its last `horizon` steps
 * and forecasts those steps one step ahead from the values before each;
 * baselines: seasonal naive (season > 0 given, 0 = detected) and simple
 * exponential smoothing, both with empirical residual quantiles. The model
 * is returned in *model_out when non-NULL (caller frees). */
based_err tft_evaluate(const struct tft_config *cfg, const struct tft_dataset *d,
                       int horizon, int season, struct tft_eval *ev,
                       struct tft_model **model_out, FILE *log);
void tft_eval_release(struct tft_eval *ev);
/* Season detected from the training parts (autocorrelation of differences,
 * pooled over series, lags 2..max_lag); 1 when none stands out. */
int tft_detect_season(const struct tft_dataset *d, const int *fit_len, int max_lag);

/* ---- Deterministic numerics (num.c), exported for tests ------------------ */
double tft_exp(double x);
double tft_sigmoid(double x);
double tft_tanh(double x);
double tft_sqrt(double x);
uint64_t tft_rng_next(uint64_t *state);      /* splitmix64 */
double tft_rng_uniform(uint64_t *state);     /* [0, 1), 53 bits */

#endif
