/*
 * model.h (internal to tft/): the layout of a TFT's parameters, its
 * normalisation statistics, and the forward pieces shared by training
 * (train.c), whole-series forecasting and the incremental state (model.c,
 * state.c). Shapes are in the comments; d = hidden size, da = d / heads.
 */
#ifndef BASED_TFT_MODEL_H
#define BASED_TFT_MODEL_H

#include "tft/tape.h"
#include "tft/tft.h"

#define MAXV (2 * TFT_MAX_COVARIATES + 1)  /* past VSN: target + past + future */
#define MAXH 4
#define MAXD 32

struct gate { struct lin l4, l5; int ln_g, ln_b; };     /* LN(skip + GLU(x)) */
struct grn {                                            /* GRN(a, c): in -> out */
    int in, out, ctx;
    struct lin skip;        /* in -> out when in != out */
    struct lin l2, l3, l1;  /* in -> d, ctx -> d (no bias), d -> d */
    struct gate g;          /* d -> out */
};
struct vsn {
    int m;
    struct lin tr[MAXV];    /* 1 -> d per variable */
    struct grn flat;        /* m*d -> m, context c_s */
    struct grn var[MAXV];   /* d -> d per variable */
    int logits;             /* [m], used by TFT_NO_VSN */
};
struct lstm { struct lin wx, wh; };   /* d -> 4d (bias), d -> 4d; gates i f g o */

struct tft_model {
    struct tft_config cfg;
    int n_static, n_past, n_future;
    int ms, mp, mf, da;
    struct vsn vs, vp, vf;
    struct grn cs, ce, ch, cc;          /* static encoders */
    struct lstm enc, dec;
    struct gate lstm_gate;              /* shared by encoder and decoder */
    struct grn enrich;                  /* context c_e */
    struct lin wq[MAXH], wk[MAXH];      /* d -> da, no bias */
    struct lin wv, wh;                  /* d -> da shared V; da -> d */
    struct gate attn_gate;
    struct grn pos;
    struct gate final_gate;
    struct lin head;                    /* d -> 3 */
    /* z-scoring fitted on training data */
    double past_mu[TFT_MAX_COVARIATES], past_sd[TFT_MAX_COVARIATES];
    double fut_mu[TFT_MAX_COVARIATES], fut_sd[TFT_MAX_COVARIATES];
    double stat_mu[TFT_MAX_COVARIATES + 2], stat_sd[TFT_MAX_COVARIATES + 2];
    double qscale;      /* interval calibration: P10/P90 offsets x qscale */
    double shrink;      /* P50 shrinkage toward the base, in [0, 1) (0 under
                           TFT_NO_BASE and for version 1-2 files) */
    int season;         /* resolved season of the base (>= 1) */
    int base_rev;       /* 1 (format 4): base = three-season median profile
                           + persisting deviation (base_z), target input
                           level over level_len();
                           0 (formats 1-3): seasonal naive, level over S */
    int guard;          /* 1 (format 5): the per-series online guard
                           (guard_*); 0 (formats 1-4, and under
                           TFT_NO_BASE): quantiles_out() as is */
    int np;
    double *P;
};

/* Final quantiles (in units of the base's error scale, around the base)
 * from the head's output z = (P10, P50, P90): P50 = (1 - shrink) z1, then
 * P50 -/+ qscale x the head's offsets (z1 - z0, z2 - z1). */
void quantiles_out(const struct tft_model *m, const double *z, double *q);
void quantiles_with(const double *z, double shrink, double qscale, double *q);

/* The per-series online guard (format 5): a rolling-origin safeguard so
 * that no series' forecasts run away from the base. Per series it keeps
 * discounted pinball losses (q = 0.1, 0.5, 0.9; z-scored units; each
 * step's loss added to GUARD_DECAY x the sum so far) of GUARD_NC candidate
 * forecasts b + r x c, each made from the final quantiles q of the same
 * origin: P50 = w x q1 (pulled toward the base b), w in 0, 1/4, ..., 1,
 * and P10/P90 = P50 -/+ either the model's offsets (q1 - q0, q2 - q1) or
 * symmetric 0.7, 1.2, 1.8 (units of r). Candidate GUARD_DEF (w = 1, the
 * model's offsets) is the model as is. The forecast for the next step
 * uses the candidate with the smallest loss if it is below GUARD_MARGIN x
 * the model's (ties: the lower index), else the model. Only steps already
 * observed count; no gradients. */
enum { GUARD_NW = 5, GUARD_NB = 4, GUARD_NC = GUARD_NW * GUARD_NB };
#define GUARD_DECAY 0.9
#define GUARD_MARGIN 0.8
struct tft_guard { double loss[GUARD_NC]; };
void guard_init(struct tft_guard *g);
/* The candidate for the next forecast (GUARD_DEF without the guard). */
int guard_choice(const struct tft_model *m, const struct tft_guard *g);
/* Candidate k's quantiles from the final quantiles q (non-crossing if q
 * is; k = GUARD_DEF: q itself). */
void guard_apply(const double *q, int k, double *out);
/* Scores every candidate of the forecast made with final quantiles q,
 * base b and scale r against the observed y (no-op without the guard). */
void guard_update(const struct tft_model *m, struct tft_guard *g, const double *q,
                  double b, double r, double y);

/* The tail fit run after training (train.c; exported for tests). One
 * held-out point: head output z, target y, base b and scale r (z-scored
 * units; the forecast is b + r x quantiles) and the seasonal-naive
 * quantiles nv of the same point (y[t + 1 - S] + the series' residual
 * quantiles). Points of series i are p[first[i] .. first[i + 1]). */
struct tail_pt { double z[3], y, b, r, nv[3]; };
/* For each shrink on the grid 0, 0.05, ..., 0.50: qscale = the smallest
 * of 0.50, 0.52, ..., 4.00 whose coverage of all points reaches 82 %
 * (4.00 when none does); then every series' ratio of its pinball loss to
 * naive's (series where naive's loss is 0 skipped). Picks the shrink with
 * the smallest worst-series ratio (ties: the smaller shrink); with
 * fit_shrink false only 0. Sets *shrink, *qscale; returns the worst ratio
 * (0 when no series counts). */
double tail_fit(const struct tail_pt *p, const int *first, int ns, bool fit_shrink,
                double *shrink, double *qscale);

/* One series, normalised: y[len], pc[len][n_past], fc[len + 1][n_future]
 * (row len repeats row len - 1), st[ms]. */
struct pseries {
    int len;
    double *y, *pc, *fc;
    double st[TFT_MAX_COVARIATES + 2];
    double mean, sd;
};
based_err pseries_make(const struct tft_model *m, const struct tft_dataset *d,
                       int i, int fit_len, struct pseries *s);
void pseries_release(struct pseries *s);

struct ctxs { int cs, ce, ch, cc; int ws; };    /* static contexts (nodes) */
void static_fwd(struct tape *tp, const struct tft_model *m, const double *st,
                bool train, struct ctxs *cx);

/* Encoder step: x[mp] = (y, past covs, future covs) of the step; h, c
 * state nodes in/out; theta out; K[heads], V out. wp: selection weights. */
struct enc_out { int h, c, theta, K[MAXH], V, wp; };
void enc_step(struct tape *tp, const struct tft_model *m, const struct ctxs *cx,
              const double *x, int h, int c, bool train, struct enc_out *o);

/* Forecast position: xf[mf] future inputs of the next step; h, c encoder
 * state after the last step; K[L][heads], V[L] memory oldest first.
 * Returns the qhead node (3 values); *attn = averaged attention (L + 1),
 * *wf = future selection weights. */
int dec_fwd(struct tape *tp, const struct tft_model *m, const struct ctxs *cx,
            const double *xf, int h, int c, const int *K, const int *V, int L,
            bool train, int *attn, int *wf);

/* Past/future VSN inputs of series step s (normalised). */
void past_inputs(const struct tft_model *m, const struct pseries *s, int start, int t,
                 double *x);
/* The target's input at step t of a window from `start`: y[t] minus the
 * mean of the last level_len() values up to and including t (fewer at the
 * window's start), so that the encoder sees level-free values; y[t] under
 * TFT_NO_BASE. */
double target_input(const struct tft_model *m, const double *y, int start, int t);
void future_inputs(const struct tft_model *m, const struct pseries *s, int t, double *x);

/* Whole-series forward: encoder over [start, o_hi), forecasts for origins
 * [o_lo, o_hi) (forecast of step t + 1). q[t - o_lo] = qhead node. */
struct series_fwd {
    int *q, *attn, *wp, *wf;    /* [o_hi - o_lo] each (wp: of step t) */
    struct ctxs cx;
};
void series_forward(struct tape *tp, const struct tft_model *m, const struct pseries *s,
                    int start, int o_lo, int o_hi, bool train, struct series_fwd *f);

double zscore(double x, double mu, double sd);

/* The base the head's quantiles are offsets from, for the forecast of step
 * t + 1 made at origin t over a window starting at `start` (z-scored
 * targets y), p = t + 1 - S. Base revision 1 (format 4): with
 * M_k[u] = median(y[u - kS], y[u - (k+1)S], y[u - (k+2)S]) (the seasonal
 * profile before u, robust to one odd season) and the latest step
 * q = t, k = 2 (S > 1) or q = t - 1, k = 1 (S = 1), so that q's profile
 * uses no newer seasons than p's:
 *   base = y[p] (seasonal naive) when |y[p] - M_1[p]| <= 2 x the spread
 *          (max - min) of y[p - S], y[p - 2S], y[p - 3S], at least 0.5
 *          (half the series' sd: y is z-scored), else
 *   base = M_1[p] + minmod(y[p] - M_1[p], y[q] - M_k[q])
 * (minmod: the one smaller in magnitude when both have the same sign, else
 * 0), when every step used is in the window (4S + 1 steps for S > 1, 5
 * for S = 1). The base lies between M[p] and seasonal naive y[p]; the
 * deviation of y[p] is taken only as far as the latest step q confirms it:
 * a level shift is followed one season after it (as seasonal naive does;
 * S = 1: one step later than naive), a one-season excursion (a boosted
 * season, a spike) comes back for at most one step and never through M.
 * With fewer steps: the median of y[p], y[p - S], y[p - 2S] when in the
 * window; then (and under revision 0, formats 1-3) seasonal naive y[p]
 * when p is in the window, else the last value y[t]; 0 under TFT_NO_BASE. */
double base_z(const struct tft_model *m, const double *y, int start, int t);
/* base_z over a ring: y[u % R] holds step u (R = LONG_MAX: a plain array). */
double base_ring(const struct tft_model *m, const double *y, long R, long start, long t);
/* The unit of the head's output for that forecast: the mean absolute error
 * of the base over the window so far, one prior error of 1 and each
 * |y[u] - base_z(u - 1)| (start < u <= t, in order) clipped to 3 x the mean
 * before it: r = sum / (1 + t - start); 1 under TFT_NO_BASE. Forecast = base_z + scale_z x head quantiles. */
double scale_z(const struct tft_model *m, const double *y, int start, int t);
/* |e| clipped to 3 r (so that spikes and level shifts do not inflate it). */
double clip_err(double e, double r);
/* The median of three values (one of them, bit for bit). */
double median3(double a, double b, double c);
/* How many steps target_input()'s local level averages: S under base_rev 0;
 * else the smallest multiple of S that is >= 4 (S = 1: 4, so that the
 * input is not identically 0 on aperiodic series). */
int level_len(const struct tft_model *m);

#endif
