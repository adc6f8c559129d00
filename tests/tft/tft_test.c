/*
 * Tests of tft/: beta(t) exact values, the deterministic numerics, the
 * hand-written gradients against central finite differences (every
 * parameter, full model and each ablation), incremental state versus
 * whole-series forecasts (bit-exact), serialisation, CSV parsing and its
 * errors, training determinism, non-crossing quantiles, evaluation.
 */
#include <sys/wait.h>

#include "tests/runner.h"
#include "tft/model.h"
#include "chain/base.h"

#define ONE TFT_BETA_ONE

void test_tft_multi_step_one_equals_one_step_and_recursion_values(void);  /* multi_test.c */
void test_tft_multi_step_deterministic_and_checked(void);

TEST(tft_beta_exact)
{
    const uint64_t Y = 3153600;
    CHECK_EQ_U64(tft_beta(0, Y), 0);
    CHECK_EQ_U64(tft_beta(Y, Y), 0);
    CHECK_EQ_U64(tft_beta(2 * Y, Y), 0);
    CHECK_EQ_U64(tft_beta(2 * Y + 1, Y), (9 * ONE) / (20 * Y));
    CHECK_EQ_U64(tft_beta(3 * Y, Y), 1932735283u);          /* floor(0.45 * 2^32) */
    CHECK_EQ_U64(tft_beta(4 * Y, Y), 3865470566u);          /* floor(0.9 * 2^32) */
    CHECK_EQ_U64(tft_beta(4 * Y + 1, Y), ONE);
    CHECK_EQ_U64(tft_beta(UINT64_MAX, Y), ONE);
    CHECK_EQ_U64(tft_beta(5, 0), 0);
    CHECK_EQ_U64(tft_beta(30, 10), 1932735283u);            /* short dev year */
    /* monotone over the ramp */
    uint64_t prev = 0;
    for (uint64_t h = 0; h <= 50; h++) {
        uint64_t b = tft_beta(h, 10);
        CHECK(b >= prev);
        prev = b;
    }
    CHECK_EQ_U64(tft_beta_times(ONE / 2, ONE / 2), ONE / 4);
    CHECK_EQ_U64(tft_beta_times(ONE, 2 * ONE), ONE);
    CHECK_EQ_U64(tft_accuracy(90, 100), ONE);
    CHECK_EQ_U64(tft_accuracy(95, 100), ONE / 2);
    CHECK_EQ_U64(tft_accuracy(100, 100), 0);
    CHECK_EQ_U64(tft_accuracy(120, 100), 0);
    CHECK_EQ_U64(tft_accuracy(0, 0), 0);
    CHECK_EQ_U64(tft_accuracy(0, 7), ONE);
}

TEST(tft_numerics)
{
    CHECK(tft_exp(0.0) == 1.0);
    CHECK_NEAR(tft_exp(1.0), 2.718281828459045, 1e-14);
    CHECK_NEAR(tft_exp(-1.0), 0.36787944117144233, 1e-15);
    CHECK_NEAR(tft_exp(10.0) / 22026.465794806718, 1.0, 1e-14);
    CHECK_NEAR(tft_exp(-20.0) / 2.061153622438558e-09, 1.0, 1e-14);
    CHECK(tft_exp(-1e9) > 0 && tft_exp(1e9) < 1e305);
    CHECK_NEAR(tft_tanh(0.5), 0.46211715726000974, 1e-15);
    CHECK(tft_tanh(-0.5) == -tft_tanh(0.5));
    CHECK_NEAR(tft_sigmoid(2.0) + tft_sigmoid(-2.0), 1.0, 1e-15);
    CHECK(tft_sqrt(4.0) == 2.0);
    CHECK(tft_sqrt(0.0) == 0.0 && tft_sqrt(-1.0) == 0.0);
    CHECK_NEAR(tft_sqrt(2.0), 1.4142135623730951, 4e-16);
    CHECK_NEAR(tft_sqrt(1e-12) * 1e6, 1.0, 1e-15);
    CHECK_NEAR(tft_sqrt(3e10) / 173205.08075688773, 1.0, 1e-15);
    uint64_t s = 7, s2 = 7;
    CHECK_EQ_U64(tft_rng_next(&s), tft_rng_next(&s2));
    for (int i = 0; i < 1000; i++) {
        double u = tft_rng_uniform(&s);
        CHECK(u >= 0 && u < 1);
    }
}

static struct tft_dataset *small_data(int ns, int nt, uint64_t seed)
{
    struct tft_gen_opts g = { ns, nt, seed };
    return tft_gen_synthetic(&g);
}

static void small_cfg(struct tft_config *c, unsigned ablate)
{
    tft_config_default(c);
    c->d = 4;
    c->heads = 2;
    c->k = 3;
    c->dropout = 0;
    c->warmup = 2;
    c->valid = 3;
    c->ablate = ablate;
}

/* Smooth objective: sum over origins of r . q (fixed random r). */
static double objective(struct tape *tp, struct tft_model *m, struct pseries *s, double *G)
{
    struct series_fwd f;
    int n = s->len - 1, q[64], at[64], wp[64], wf[64];
    f.q = q; f.attn = at; f.wp = wp; f.wf = wf;
    tape_reset(tp, m->P, G);
    series_forward(tp, m, s, 0, 1, n, false, &f);
    uint64_t rng = 99;
    double L = 0;
    for (int t = 1; t < n; t++) {
        double r[3];
        const double *v = tape_val(tp, q[t - 1]);
        for (int j = 0; j < 3; j++) {
            r[j] = tft_rng_uniform(&rng) - 0.5;
            L += r[j] * v[j];
        }
        if (G)
            tape_seed(tp, q[t - 1], r);
    }
    if (G)
        tape_backward(tp);
    return L;
}

static void gradcheck(unsigned ablate)
{
    struct tft_config c;
    small_cfg(&c, ablate);
    struct tft_dataset *d = small_data(1, 12, 5);
    struct tft_model *m = tft_model_new(&c, d->n_static, d->n_past, d->n_future);
    CHECK(m != NULL);
    /* move LN gains and biases off their initial values */
    uint64_t rng = 3;
    for (int j = 0; j < m->np; j++)
        m->P[j] += 0.1 * (tft_rng_uniform(&rng) - 0.5);
    struct pseries s;
    CHECK(pseries_make(m, d, 0, 12, &s) == BASED_E_OK);
    struct tape tp;
    tape_init(&tp);
    double *G = calloc((size_t)m->np, sizeof(double));
    objective(&tp, m, &s, G);
    double worst = 0;
    int bad = -1, used = 0;
    for (int j = 0; j < m->np; j++) {
        double h = 1e-5, keep = m->P[j];
        m->P[j] = keep + h;
        double lp = objective(&tp, m, &s, NULL);
        m->P[j] = keep - h;
        double lm = objective(&tp, m, &s, NULL);
        m->P[j] = keep;
        double num = (lp - lm) / (2 * h);
        double err = (num - G[j] < 0 ? G[j] - num : num - G[j]) /
                     (1e-4 + (num < 0 ? -num : num) + (G[j] < 0 ? -G[j] : G[j]));
        used += G[j] != 0;
        if (err > worst) {
            worst = err;
            bad = j;
        }
    }
    if (worst > 1e-4)
        fprintf(stderr, "    worst relative error %g at parameter %d (ablate %u)\n", worst, bad, ablate);
    CHECK(worst <= 1e-4);
    CHECK(used > m->np / 3);
    free(G);
    tape_release(&tp);
    pseries_release(&s);
    tft_model_free(m);
    tft_dataset_free(d);
}

TEST(tft_gradcheck_full) { gradcheck(0); }
TEST(tft_gradcheck_ablations)
{
    gradcheck(TFT_NO_VSN);
    gradcheck(TFT_NO_ATTN);
    gradcheck(TFT_NO_LSTM);
    gradcheck(TFT_NO_GATE);
}

static struct tft_model *trained(struct tft_dataset *d, unsigned ablate, int epochs)
{
    struct tft_config c;
    small_cfg(&c, ablate);
    c.d = 8;
    c.epochs = epochs;
    c.dropout = 0.1;
    struct tft_model *m = tft_model_new(&c, d->n_static, d->n_past, d->n_future);
    if (m && tft_train(m, d, NULL, NULL, NULL) != BASED_E_OK) {
        tft_model_free(m);
        return NULL;
    }
    return m;
}

TEST(tft_state_matches_series)
{
    /* With the seasonal-naive base (ablate 0, its ring of the last S
     * targets and its running error scale in the state), without it, and
     * with the base and a nonzero P50 shrinkage. */
    for (unsigned ab = 0; ab <= 2 * TFT_NO_BASE; ab += TFT_NO_BASE) {
    struct tft_dataset *d = small_data(3, 40, 11);
    struct tft_model *m = trained(d, ab & TFT_NO_BASE, 2);
    CHECK(m != NULL);
    if (ab == 2 * TFT_NO_BASE)          /* with the base and a P50 shrinkage */
        m->shrink = 0.35;
    double out[41 * 3];
    /* every base revision (1: median of three seasons, level over >= 4
     * steps; 0: formats 1-3) and seasons 1, 2, 3, 7 (the weights do not
     * depend on them, so setting them after training is a fair check) */
    int seasons[4] = { 1, 2, 3, 7 }, guarded = 0;
    /* v & 8: the per-series guard on (format 5; never under TFT_NO_BASE) */
    for (int v = 0; v < 16; v++) {
    m->base_rev = v & 1;
    m->season = seasons[(v >> 1) & 3];
    m->guard = (v & 8) && !(ab & TFT_NO_BASE);
    for (int i = 0; i < 3; i++) {
        int fit = 30;
        double off[41 * 3];
        if (m->guard) {                 /* the same without the guard */
            m->guard = 0;
            CHECK(tft_forecast_series(m, d, i, fit, off) == BASED_E_OK);
            m->guard = 1;
        }
        CHECK(tft_forecast_series(m, d, i, fit, out) == BASED_E_OK);
        if (m->guard)
            guarded += memcmp(off, out, 40 * 3 * sizeof(double)) != 0;
        double mean, sd;
        tft_series_scaling(d, i, fit, &mean, &sd);
        struct tft_state *s = tft_state_new(m, d->stat + i * d->n_static, mean, sd);
        /* s2 forecasts only now and then, sometimes with other future
         * inputs: the guard's scoring must not depend on those calls */
        struct tft_state *s2 = tft_state_new(m, d->stat + i * d->n_static, mean, sd);
        CHECK(s != NULL && s2 != NULL);
        for (int t = 0; t < 40; t++) {
            size_t at = (size_t)i * 40 + (size_t)t;
            CHECK(tft_state_advance(s, d->target[at], d->past + at * 1, d->future + at * 2) == BASED_E_OK);
            CHECK(tft_state_advance(s2, d->target[at], d->past + at * 1, d->future + at * 2) == BASED_E_OK);
            const double *fn = t + 1 < 40 ? d->future + (at + 1) * 2 : d->future + at * 2;
            double q[3], q2[3], other[2] = { fn[0] + 1.0, fn[1] - 0.5 };
            CHECK(tft_state_forecast(s, fn, q) == BASED_E_OK);
            CHECK_EQ_MEM(q, out + t * 3, sizeof q);
            CHECK(q[0] < q[1] && q[1] < q[2]);
            if (t % 3 == 0)
                CHECK(tft_state_forecast(s2, other, q2) == BASED_E_OK);
            if (t % 3 == 1) {
                CHECK(tft_state_forecast(s2, fn, q2) == BASED_E_OK);
                CHECK_EQ_MEM(q2, out + t * 3, sizeof q2);
            }
        }
        tft_state_free(s);
        tft_state_free(s2);
    }
    }
    if (!(ab & TFT_NO_BASE))            /* the guard acted on some series */
        CHECK(guarded > 0);
    tft_model_free(m);
    tft_dataset_free(d);
    }
}

TEST(tft_train_deterministic_and_serialises)
{
    struct tft_dataset *d = small_data(4, 40, 12);
    struct tft_model *a = trained(d, 0, 3), *b = trained(d, 0, 3);
    CHECK(a && b);
    size_t na = 0, nb = 0;
    CHECK(tft_model_save(a, NULL, &na) == BASED_E_OK);
    CHECK(tft_model_save(b, NULL, &nb) == BASED_E_OK);
    CHECK_EQ_INT(na, nb);
    uint8_t *ba = malloc(na), *bb = malloc(nb);
    CHECK(tft_model_save(a, ba, &na) == BASED_E_OK);
    CHECK(tft_model_save(b, bb, &nb) == BASED_E_OK);
    CHECK_EQ_MEM(ba, bb, na);
    CHECK(memcmp(ba, TFT_MODEL_MAGIC, 4) == 0);
    struct tft_model *c = NULL;
    CHECK(tft_model_load(ba, na, &c) == BASED_E_OK);
    size_t nc = na;
    CHECK(tft_model_save(c, bb, &nc) == BASED_E_OK);
    CHECK_EQ_MEM(ba, bb, na);
    CHECK(tft_model_load(ba, na - 1, &c) != BASED_E_OK || 0);
    ba[0] = 'X';
    struct tft_model *e = NULL;
    CHECK(tft_model_load(ba, na, &e) == BASED_E_DECODE && e == NULL);
    ba[0] = 'B';
    ba[4] = 9;                                   /* version */
    CHECK(tft_model_load(ba, na, &e) == BASED_E_DECODE);
    CHECK(tft_model_nparams(a) <= TFT_MAX_PARAMS);
    free(ba);
    free(bb);
    tft_model_free(a);
    tft_model_free(b);
    tft_model_free(c);
    tft_dataset_free(d);
}

/* A version 4 file (no guard field) loads without the guard and forecasts
 * as before. A version 2 file (no shrink field) still loads, with shrink 0, and
 * forecasts as before; bad shrink values are rejected. A version 3 file
 * (no base revision field) loads with base revision 0 and forecasts as a
 * model with the seasonal-naive base. */
TEST(tft_model_loads_version_2)
{
    struct tft_dataset *d = small_data(2, 40, 13);
    struct tft_model *a = trained(d, 0, 1), *b = NULL;
    CHECK(a != NULL);
    a->shrink = 0;
    size_t n = 0;
    CHECK(tft_model_save(a, NULL, &n) == BASED_E_OK);
    uint8_t *buf = malloc(n);
    CHECK(tft_model_save(a, buf, &n) == BASED_E_OK);
    CHECK_EQ_INT(buf[4], 5);                              /* version 5 */
    CHECK_EQ_INT(a->base_rev, 1);
    CHECK_EQ_INT(a->guard, 1);
    /* the shrink field follows magic, version, 15 ints, lr, clip, dropout,
     * seed and qscale: byte 4 + 8 * 21; the base revision follows it, then
     * the guard */
    size_t at = 4 + 8 * 21;
    CHECK_EQ_INT(buf[at + 16], 1);
    buf[at + 16] = 2;                                     /* unknown guard */
    CHECK(tft_model_load(buf, n, &b) == BASED_E_DECODE && b == NULL);
    buf[at + 16] = 1;
    /* version 4: the same bytes without the guard: loads without it and
     * forecasts as the model with the guard off */
    memmove(buf + at + 16, buf + at + 24, n - at - 24);
    n -= 8;
    buf[4] = 4;
    CHECK(tft_model_load(buf, n, &b) == BASED_E_OK);
    CHECK_EQ_INT(b->guard, 0);
    {
        double og[40 * 3], o0[40 * 3], o4[40 * 3];
        CHECK(tft_forecast_series(a, d, 1, 30, og) == BASED_E_OK);
        CHECK(tft_forecast_series(b, d, 1, 30, o4) == BASED_E_OK);
        a->guard = 0;
        CHECK(tft_forecast_series(a, d, 1, 30, o0) == BASED_E_OK);
        CHECK_EQ_MEM(o0, o4, sizeof o0);
    }
    tft_model_free(b);
    b = NULL;
    CHECK_EQ_INT(buf[at + 8], 1);
    buf[at + 8] = 2;                                      /* unknown revision */
    CHECK(tft_model_load(buf, n, &b) == BASED_E_DECODE && b == NULL);
    /* version 3: the same bytes without the base revision */
    memmove(buf + at + 8, buf + at + 16, n - at - 16);
    n -= 8;
    buf[4] = 3;
    CHECK(tft_model_load(buf, n, &b) == BASED_E_OK);
    CHECK_EQ_INT(b->base_rev, 0);
    {
        double o1[40 * 3], o0[40 * 3], o3[40 * 3];
        CHECK(tft_forecast_series(a, d, 1, 30, o1) == BASED_E_OK);
        CHECK(tft_forecast_series(b, d, 1, 30, o3) == BASED_E_OK);
        a->base_rev = 0;
        CHECK(tft_forecast_series(a, d, 1, 30, o0) == BASED_E_OK);
        CHECK_EQ_MEM(o0, o3, sizeof o0);
        CHECK(memcmp(o1, o3, sizeof o1) != 0);
    }
    tft_model_free(b);
    b = NULL;
    double x = 0.5;
    memcpy(buf + at, &x, 8);
    CHECK(tft_model_load(buf, n, &b) == BASED_E_OK);
    CHECK(b->shrink == 0.5);
    tft_model_free(b);
    x = 1.0;
    memcpy(buf + at, &x, 8);
    CHECK(tft_model_load(buf, n, &b) == BASED_E_DECODE && b == NULL);
    x = -0.1;
    memcpy(buf + at, &x, 8);
    CHECK(tft_model_load(buf, n, &b) == BASED_E_DECODE);
    /* version 2: the same bytes without the field */
    memmove(buf + at, buf + at + 8, n - at - 8);
    buf[4] = 2;
    CHECK(tft_model_load(buf, n - 8, &b) == BASED_E_OK);
    CHECK(b->shrink == 0);
    double oa[40 * 3], ob[40 * 3];
    CHECK(tft_forecast_series(a, d, 1, 30, oa) == BASED_E_OK);
    CHECK(tft_forecast_series(b, d, 1, 30, ob) == BASED_E_OK);
    CHECK_EQ_MEM(oa, ob, sizeof oa);
    free(buf);
    tft_model_free(a);
    tft_model_free(b);
    tft_dataset_free(d);
}

/* The tail fit on hand-made points (b = 0, r = 1, so y is in head units).
 * Series A: P50 biased (2, truth 0), offsets 0.9; B: unbiased; C: naive
 * exact (loss 0, skipped). Covering >= 82 % of 15 points needs A's
 * points covered: qscale x 0.9 >= 2 (1 - shrink). Shrink 0.5 halves A's
 * bias: qscale 1.12, A's loss per point 0.0008 + 0.5 + 0.2008 against
 * naive's 0.2: worst ratio 3.508 (7.006 at shrink 0). */
TEST(tft_tail_fit_known_answer)
{
    struct tail_pt p[15];
    int first[4] = { 0, 5, 10, 15 };
    for (int k = 0; k < 15; k++) {
        bool a = k < 5, c = k >= 10;
        struct tail_pt v = { { a ? 1.1 : -1, a ? 2 : 0, a ? 2.9 : 1 }, 0, 0, 1,
                             { c ? 0 : -1, 0, c ? 0 : 1 } };
        p[k] = v;
    }
    double shrink = -1, qs = -1;
    double w = tail_fit(p, first, 3, true, &shrink, &qs);
    CHECK_NEAR(shrink, 0.5, 1e-12);
    CHECK_NEAR(qs, 1.12, 1e-12);
    CHECK_NEAR(w, (0.0008 + 0.5 + 0.2008) / 0.2, 1e-9);
    w = tail_fit(p, first, 3, false, &shrink, &qs);      /* shrink not fitted */
    CHECK(shrink == 0);
    CHECK_NEAR(qs, 2.24, 1e-12);
    CHECK_NEAR(w, (0.1 * 0.016 + 1.0 + 0.1 * 4.016) / 0.2, 1e-9);
    /* nothing biased: every shrink ties, the smallest (0) is kept */
    w = tail_fit(p + 5, first, 2, true, &shrink, &qs);
    CHECK(shrink == 0);
    CHECK_NEAR(qs, 0.5, 1e-12);
    CHECK_NEAR(w, (0.1 * 0.5 + 0.1 * 0.5) / 0.2, 1e-9);
    first[1] = 0;                                        /* no points */
    w = tail_fit(p, first, 1, true, &shrink, &qs);
    CHECK(shrink == 0 && qs == 1.0 && w == 0);
}

TEST(tft_param_budget)
{
    struct tft_config c;
    tft_config_default(&c);
    struct tft_model *m = tft_model_new(&c, 2, 1, 2);
    CHECK(m != NULL);
    CHECK(tft_model_nparams(m) <= 50000);
    tft_model_free(m);
    c.d = 32;
    CHECK(tft_model_new(&c, 16, 16, 16) == NULL);     /* over the budget */
    c.d = 16;
    c.heads = 3;
    CHECK(tft_model_new(&c, 1, 1, 1) == NULL);        /* heads must divide d */
}

static based_err parse(const char *s, struct tft_dataset **d, char *err)
{
    return tft_csv_parse(s, strlen(s), d, err, 200);
}

TEST(tft_csv_good)
{
    struct tft_dataset *d = NULL;
    char err[200];
    const char *s = "series,t,target,static_g,x,future_f\r\n"
                    "a,5,1.5,2,0.1,1\r\nb,0,3,7,0.2,0\na,6,2.5,2,0.3,0\n\nb,1,4,7,0.4,1\n";
    CHECK(parse(s, &d, err) == BASED_E_OK);
    CHECK_EQ_INT(d->n_series, 2);
    CHECK_EQ_INT(d->n_steps, 2);
    CHECK_EQ_INT(d->n_static, 1);
    CHECK_EQ_INT(d->n_past, 1);
    CHECK_EQ_INT(d->n_future, 1);
    CHECK_EQ_STR(d->series_names[1], "b");
    CHECK_EQ_INT(d->t0[0], 5);
    CHECK(d->target[1] == 2.5 && d->target[2] == 3.0);
    CHECK(d->stat[1] == 7.0 && d->past[1] == 0.3 && d->future[3] == 1.0);
    CHECK_EQ_STR(d->past_names[0], "x");
    /* write and read back: identical */
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    CHECK(tft_csv_write(d, f) == BASED_E_OK);
    fclose(f);
    struct tft_dataset *e = NULL;
    CHECK(tft_csv_parse(buf, n, &e, err, sizeof err) == BASED_E_OK);
    CHECK_EQ_MEM(d->target, e->target, 4 * sizeof(double));
    free(buf);
    tft_dataset_free(e);
    tft_dataset_free(d);
}

TEST(tft_csv_errors)
{
    static const struct { const char *csv, *msg; } cases[] = {
        { "", "line 1, column 1: empty input" },
        { "series,target\na,1\n", "line 1, column 1: header needs columns series, t and target" },
        { "series,t,target,t\n", "line 1, column 4: duplicate column" },
        { "series,t,target\na,0,1\na,1,x\n", "line 3, column 3: not a finite number" },
        { "series,t,target\na,0,nan\n", "line 2, column 3: not a finite number" },
        { "series,t,target\na,0,1\na,2,1\n", "line 3, column 2: t must increase by 1 within a series" },
        { "series,t,target\na,0\n", "line 2, column 3: missing field" },
        { "series,t,target\na,0,1,2\n", "line 2, column 4: too many fields" },
        { "series,t,target\na,1.5,1\n", "line 2, column 2: t is not an integer" },
        { "series,t,target\n\"a\",0,1\n", "line 2, column 1: quotes, NUL and CR are not allowed in fields" },
        { "series,t,target\n,0,1\n", "line 2, column 1: empty or too long series name" },
        { "series,t,target\n", "line 1, column 1: no data rows" },
        { "series,t,target,static_s\na,0,1,1\na,1,1,2\n", "series a: column static_s is not constant" },
    };
    for (size_t i = 0; i < BASED_ARRAY_LEN(cases); i++) {
        struct tft_dataset *d = NULL;
        char err[200];
        based_err e = parse(cases[i].csv, &d, err);
        CHECK(e != BASED_E_OK);
        CHECK(d == NULL);
        CHECK_EQ_STR(err, cases[i].msg);
    }
    /* too many covariates of one kind */
    char big[2048];
    int n = snprintf(big, sizeof big, "series,t,target");
    for (int j = 0; j < TFT_MAX_COVARIATES + 1; j++)
        n += snprintf(big + n, sizeof big - (size_t)n, ",c%d", j);
    struct tft_dataset *d = NULL;
    char err[200];
    CHECK(parse(big, &d, err) == BASED_E_DECODE);
    CHECK_EQ_STR(err, "line 1, column 20: too many covariates of this kind");
}

TEST(tft_eval_small)
{
    struct tft_dataset *d = small_data(8, 60, 21);
    struct tft_config c;
    small_cfg(&c, 0);
    c.d = 8;
    c.epochs = 3;
    struct tft_eval ev;
    struct tft_model *m = NULL;
    CHECK(tft_evaluate(&c, d, 10, 0, &ev, &m, NULL) == BASED_E_OK);
    CHECK_EQ_INT(ev.season, 7);
    CHECK_EQ_INT(ev.n_points, 80);
    CHECK(ev.sql_tft > 0 && ev.sql_naive > 0 && ev.sql_ets > 0);
    CHECK(ev.coverage >= 0 && ev.coverage <= 1);
    for (int i = 0; i < 80; i++)
        CHECK(ev.forecasts[i * 3] < ev.forecasts[i * 3 + 1] &&
              ev.forecasts[i * 3 + 1] < ev.forecasts[i * 3 + 2]);
    CHECK(tft_evaluate(&c, d, 55, 0, &ev, NULL, NULL) == BASED_E_BAD_PARAM);
    tft_eval_release(&ev);
    tft_model_free(m);
    tft_dataset_free(d);
}

static int run(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(tft_cli)
{
    char cmd[1024], out[4096];
    const char *bin = test_bin("based-tft"), *dir = test_tmpdir();
    snprintf(cmd, sizeof cmd, "%s --help", bin);
    CHECK_EQ_INT(run(cmd, out, sizeof out), 0);
    CHECK(strstr(out, "usage: based-tft") != NULL);
    snprintf(cmd, sizeof cmd, "%s --version", bin);
    CHECK_EQ_INT(run(cmd, out, sizeof out), 0);
    snprintf(cmd, sizeof cmd, "%s eval --bogus 1 2>&1", bin);
    CHECK_EQ_INT(run(cmd, out, sizeof out), 2);
    /* the devnet recorder needs a node (tests/integration/tftdev_test.c runs one) */
    snprintf(cmd, sizeof cmd, "%s gen --kind devnet --rpc http://127.0.0.1:1/ 2>&1", bin);
    CHECK_EQ_INT(run(cmd, out, sizeof out), 1);
    CHECK(strstr(out, "no node answering at http://127.0.0.1:1/") != NULL);
    snprintf(cmd, sizeof cmd, "%s gen --kind synthetic --series 6 --steps 50 --out %s/s.csv && "
             "%s train --data %s/s.csv --out %s/m.bin --d 8 --epochs 2 && "
             "%s forecast --model %s/m.bin --data %s/s.csv && "
             "%s explain --model %s/m.bin --data %s/s.csv",
             bin, dir, bin, dir, dir, bin, dir, dir, bin, dir, dir);
    CHECK_EQ_INT(run(cmd, out, sizeof out), 0);
    CHECK(strstr(out, "weights_sha256") != NULL);
    CHECK(strstr(out, "syn0005,50,") != NULL);
    CHECK(strstr(out, "attention by lag") != NULL);
    snprintf(cmd, sizeof cmd, "printf 'series,t,target\\na,0,zz\\n' > %s/bad.csv; "
             "%s eval --data %s/bad.csv 2>&1", dir, bin, dir);
    CHECK_EQ_INT(run(cmd, out, sizeof out), 1);
    CHECK(strstr(out, "line 2, column 3: not a finite number") != NULL);
    snprintf(cmd, sizeof cmd, "%s eval --data %s/s.csv --horizon 8 --d 8 --epochs 2 --json",
             bin, dir);
    CHECK_EQ_INT(run(cmd, out, sizeof out), 0);
    static const char *keys[] = { "\"sql_tft\"", "\"sql_naive\"", "\"sql_ets\"",
        "\"ratio_naive\"", "\"ratio_ets\"", "\"coverage\"", "\"worst_series_ratio_naive\"",
        "\"weights_sha256\"", "\"forecasts_sha256\"", "\"series\"" };
    for (size_t i = 0; i < BASED_ARRAY_LEN(keys); i++)
        CHECK(strstr(out, keys[i]) != NULL);
}

/* The reduced determinism check: 8 builds (gcc/clang x -O0/-O2/-O3/-O3
 * -march=native) must print identical data, weight and forecast hashes,
 * with no libm symbol in tft/ objects (see tft/determinism.mk). */
TEST(tft_determinism_quick)
{
    char out[8192];
    int rc = run("make -s -f tft/determinism.mk QUICK=1 2>&1", out, sizeof out);
    if (rc != 0)
        fprintf(stderr, "%s", out);
    CHECK_EQ_INT(rc, 0);
    CHECK(strstr(out, "tft-determinism: OK, 8 builds identical, no libm") != NULL);
}

const struct test_case test_table[] = {
    { "tft_beta_exact", test_tft_beta_exact },
    { "tft_numerics", test_tft_numerics },
    { "tft_gradcheck_full", test_tft_gradcheck_full },
    { "tft_gradcheck_ablations", test_tft_gradcheck_ablations },
    { "tft_state_matches_series", test_tft_state_matches_series },
    { "tft_train_deterministic_and_serialises", test_tft_train_deterministic_and_serialises },
    { "tft_model_loads_version_2", test_tft_model_loads_version_2 },
    { "tft_tail_fit_known_answer", test_tft_tail_fit_known_answer },
    { "tft_param_budget", test_tft_param_budget },
    { "tft_csv_good", test_tft_csv_good },
    { "tft_csv_errors", test_tft_csv_errors },
    { "tft_eval_small", test_tft_eval_small },
    { "tft_cli", test_tft_cli },
    { "tft_determinism_quick", test_tft_determinism_quick },
    { "tft_multi_step_one_equals_one_step_and_recursion_values",
      test_tft_multi_step_one_equals_one_step_and_recursion_values },
    { "tft_multi_step_deterministic_and_checked", test_tft_multi_step_deterministic_and_checked },
    { NULL, NULL },
};
