/*
 * calib_test.c: the score's calibration on the real default model. Forty
 * challenges with the default parameters on held-out fortunes text; each
 * miner (compressions of the default model, a substituted model, the cheat
 * catalogue) answers all of them and is scored against the f32 reference.
 * Prints the table of docs/validating.md and asserts the bars of issue 10
 * on the mean score relative to the honest f32 miner.
 */
#include <math.h>
#include <time.h>

#include "tests/runner.h"
#include "tests/neurons/util.h"
#include "tests/neurons/cheats.h"
#include "neurons/answer.h"
#include "neurons/score.h"
#include "model/gguf.h"
#include "chain/base.h"

#define N_CHAL 40
#define DEADLINE_MS 1000.0
#define CALIB_BYTES (64 * 1024)

struct miner {
    const char *name;
    const char *method;   /* compression of the default model, or NULL */
    const char *cheat;    /* cheat mode on the f32 model, or NULL */
    bool substitute;      /* the briefly trained other model */
    model_t *m;
    double score, kl, agree, rank_max, ms;
    double agree_min, agree_max, kl_max;
    int gated, exact;   /* answers gated; answers with KL 0 and agreement 1 */
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* Another real byte-level model: trained from scratch on the training split
 * for 300 steps (dim 64, 2 layers, context 128). */
static model_t *substitute_model(void)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/substitute.gguf", test_tmpdir());
    struct model_train_opts o = {
        .cfg = { 64, 192, 2, 4, 4, 256, 128, 10000.0f, 1e-5f },
        .max_bytes = 400000, .steps = 150, .batch = 8, .threads = 2, .lr = 3e-3f,
        .min_lr = 3e-4f, .weight_decay = 0.1f, .warmup = 20, .seed = 11, .eval_every = 0,
        .out_path = path,
    };
    struct model_train_result r;
    char err[256];
    model_t *m = NULL;
    double t0 = now_ms();
    if (model_train(&o, &r, err, sizeof err) || model_load(path, &m, err, sizeof err)) {
        fprintf(stderr, "substitute: %s\n", err);
        return NULL;
    }
    printf("    substitute model: %d steps in %.1f s, held-out loss %.3f nats/byte\n", o.steps,
           (now_ms() - t0) / 1e3, r.heldout_loss);
    return m;
}

static model_t *compressed(const model_t *ref, const char *method, const struct model_corpus *c)
{
    struct model_compress_opts o;
    model_compress_defaults(&o);
    o.method = method;
    o.calib = c->train;
    o.n_calib = c->n_train < CALIB_BYTES ? c->n_train : CALIB_BYTES;
    struct model_gguf *g;
    model_t *q = NULL;
    char err[256];
    if (model_compress(ref, &o, &g, err, sizeof err) || model_from_gguf(g, &q, err, sizeof err))
        fprintf(stderr, "%s: %s\n", method, err);
    return q;
}

/* One miner's answers to every challenge, scored against ref. */
static int run_miner(struct miner *mi, model_t *f32, model_state *ref, const neuron_challenge *ch,
                     const neuron_score_params *p)
{
    model_state *s = model_state_new(mi->m ? mi->m : f32);
    neuron_answer *a = malloc(sizeof *a);
    uint64_t rng = 0x5eed;
    int rc = s && a ? 0 : -1;
    for (int i = 0; !rc && i < N_CHAL; i++) {
        double t0 = now_ms();
        rc = mi->cheat ? cheat_answer(mi->cheat, s, &ch[i], a, &rng)
                       : (neuron_answer_generate(s, &ch[i], a) ? -1 : 0);
        double ms = now_ms() - t0;
        neuron_score sc;
        if (!rc && neuron_score_answer(ref, &ch[i], a, ms, DEADLINE_MS, p, &sc))
            rc = -1;
        mi->score += sc.score / N_CHAL;
        mi->kl += sc.kl / N_CHAL;
        mi->agree += sc.agree / N_CHAL;
        mi->ms += ms / N_CHAL;
        mi->rank_max = sc.worst_rank > mi->rank_max ? sc.worst_rank : mi->rank_max;
        mi->gated += sc.gate != NEURON_GATE_OK;
        mi->exact += sc.kl == 0 && sc.agree == 1;
        mi->agree_min = i == 0 || sc.agree < mi->agree_min ? sc.agree : mi->agree_min;
        mi->agree_max = sc.agree > mi->agree_max ? sc.agree : mi->agree_max;
        mi->kl_max = sc.kl > mi->kl_max ? sc.kl : mi->kl_max;
    }
    free(a);
    model_state_free(s);
    return rc;
}

static struct miner miners[] = {
    { "f32", "f32", NULL, false, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "q8_0", "q8_0", NULL, false, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "cerberus", "cerberus", NULL, false, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "heads", "heads", NULL, false, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "q4_0", "q4_0", NULL, false, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "prime", "prime", NULL, false, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "substituted model", NULL, NULL, true, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "random tokens", NULL, "random", false, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "repeated token", NULL, "repeat", false, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "T=1.5 for 0.8", NULL, "temp15", false, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "greedy for 0.8", NULL, "greedy", false, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "log-probs all 0", NULL, "zero-lp", false, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "log-probs copied", NULL, "copy-lp", false, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "top-1 left out", NULL, "skip-top", false, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
};

static struct miner *find(const char *name)
{
    for (size_t i = 0; i < BASED_ARRAY_LEN(miners); i++)
        if (strcmp(miners[i].name, name) == 0)
            return &miners[i];
    return NULL;
}

static double rel(const char *name)
{
    return find(name)->score / miners[0].score;
}

TEST(neuron_score_calibration)
{
    model_t *f32 = nt_default_model();
    CHECK(f32);
    struct model_corpus corp;
    char err[256];
    CHECK_EQ_INT(model_corpus_load(MODEL_FORTUNES_DIR, 0, &corp, err, sizeof err), BASED_E_OK);
    neuron_challenge *ch = malloc(N_CHAL * sizeof *ch);
    CHECK(ch);
    uint64_t rng = 0xCA11B8A7E;
    for (int i = 0; i < N_CHAL; i++)
        nt_challenge(f32, corp.heldout, corp.n_heldout, &rng, &ch[i]);
    neuron_score_params p;
    neuron_score_params_default(&p);
    model_state *ref = model_state_new(f32);
    CHECK(ref);
    printf("    %-18s %7s %8s %9s %8s %7s %11s %6s %5s %6s\n", "miner", "score", "relative",
           "mean KL", "max KL", "agree", "agree range", "gated", "rank", "ms");
    for (size_t i = 0; i < BASED_ARRAY_LEN(miners); i++) {
        struct miner *mi = &miners[i];
        if (mi->method)
            mi->m = compressed(f32, mi->method, &corp);
        if (mi->substitute)
            mi->m = substitute_model();
        CHECK(mi->m || mi->cheat);
        CHECK_EQ_INT(run_miner(mi, f32, ref, ch, &p), 0);
        printf("    %-18s %7.4f %8.4f %9.6f %8.5f %7.4f %5.3f-%5.3f %3d/%d %5.0f %6.2f\n", mi->name,
               mi->score, mi->score / miners[0].score, mi->kl, mi->kl_max, mi->agree,
               mi->agree_min, mi->agree_max, mi->gated, N_CHAL, mi->rank_max, mi->ms);
        fflush(stdout);
        model_free(mi->m);
        mi->m = NULL;
    }
    /* the bars of issue 10 */
    CHECK(miners[0].score > 0.9);
    CHECK_EQ_INT(find("f32")->exact, N_CHAL);
    CHECK(rel("q8_0") >= 0.95);
    CHECK(rel("cerberus") >= 0.95);
    CHECK(rel("q4_0") < rel("q8_0"));
    CHECK(rel("q4_0") >= 0.5);
    CHECK(rel("prime") <= 0.05);
    CHECK(rel("substituted model") <= 0.05);
    CHECK(rel("random tokens") == 0);
    CHECK(rel("repeated token") == 0);
    CHECK(rel("T=1.5 for 0.8") <= 0.6);
    CHECK(rel("greedy for 0.8") <= 0.6);
    CHECK(rel("log-probs all 0") <= 0.05);
    CHECK(rel("log-probs copied") <= 0.05);
    CHECK(rel("top-1 left out") <= 0.05);
    CHECK(rel("heads") >= 0.9);
    model_state_free(ref);
    free(ch);
    model_corpus_free(&corp);
    model_free(f32);
}
