/*
 * main.c: the based-tft program.
 *
 *   based-tft train   --data F.csv --out MODEL [model options]
 *   based-tft eval    --data F.csv [--horizon H] [--season S] [--json] [model options]
 *   based-tft gen     --kind synthetic [--series N] [--steps T] [--seed S] [--out F.csv]
 *   based-tft gen     --kind devnet [--rpc URL] [--rpc-cookie FILE] [--brain ID ...]
 *                     [--from H] [--to H] [--bucket N] [--min-steps N] [--out F.csv]
 *   based-tft forecast --model MODEL --data F.csv
 *   based-tft explain --model MODEL --data F.csv
 *
 * Model options: --d N --heads N --k N --epochs N --patience N --batch N
 * --lr X --seed N --dropout X --ablate vsn,attn,lstm,gate,base --log.
 * Exit status: 0 success, 1 failure (bad data, I/O, no node), 2 usage error.
 *
 * `gen --kind devnet` reads a node's RPC through cli/tftrec.c (libcurl,
 * jansson). The determinism build (tft/determinism.mk) compiles this file
 * with -DTFT_NO_DEVNET and links only tft/ and libsodium: that build says
 * so and exits 1 for `--kind devnet`; everything else is the same.
 */
#include <errno.h>
#include <sodium.h>

#include "tft/tft.h"
#ifndef TFT_NO_DEVNET
#include "cli/tftrec.h"
#endif
#include "chain/base.h"

#define MAX_GEN_BRAINS 64

struct opts {
    const char *data, *out, *model, *kind;
    int horizon, season, series, steps;
    bool json, log;
    struct tft_config cfg;
    uint64_t gen_seed;
    /* gen --kind devnet */
    const char *rpc, *cookie;
    int brains[MAX_GEN_BRAINS], nbrains, bucket, min_steps;
    long long from, to;
};

static int usage(FILE *f, int rc)
{
    fprintf(f,
        "usage: based-tft COMMAND [options]\n"
        "  train    --data F.csv --out MODEL         train on every row, save weights\n"
        "  eval     --data F.csv [--horizon H] [--season S] [--json]\n"
        "           rolling-origin test of the last H steps: TFT vs seasonal naive and SES\n"
        "  gen      --kind synthetic [--series N] [--steps T] [--seed S] [--out F]\n"
        "  gen      --kind devnet [--rpc URL] [--rpc-cookie FILE] [--brain ID ...] [--from H]\n"
        "           [--to H] [--bucket N] [--min-steps N] [--out F]\n"
        "           a running chain's per-neuron and network series, from its JSON-RPC;\n"
        "           with --to above the head it follows the chain until --to\n"
        "  forecast --model MODEL --data F.csv       next-step P10/P50/P90 per series\n"
        "  explain  --model MODEL --data F.csv       variable-selection and attention weights\n"
        "model options: --d N --heads N --k N --epochs N --patience N --batch N --lr X\n"
        "               --seed N --dropout X --ablate vsn,attn,lstm,gate,base --log\n"
        "  --help, --version\n");
    return rc;
}

static int die(const char *what, const char *msg)
{
    fprintf(stderr, "based-tft: %s: %s\n", what, msg);
    return 1;
}

static bool parse_int(const char *s, long lo, long hi, int *v)
{
    char *end;
    long x = strtol(s, &end, 10);
    if (!*s || *end || x < lo || x > hi)
        return false;
    *v = (int)x;
    return true;
}

static bool parse_dbl(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return *s && !*end;
}

static bool parse_ablate(const char *s, unsigned *a)
{
    static const struct { const char *n; unsigned f; } T[] = {
        { "vsn", TFT_NO_VSN }, { "attn", TFT_NO_ATTN },
        { "lstm", TFT_NO_LSTM }, { "gate", TFT_NO_GATE }, { "base", TFT_NO_BASE },
        { "none", 0 } };
    *a = 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        size_t i;
        for (i = 0; i < BASED_ARRAY_LEN(T); i++)
            if (strlen(T[i].n) == n && !strncmp(s, T[i].n, n))
                break;
        if (i == BASED_ARRAY_LEN(T))
            return false;
        *a |= T[i].f;
        s += n;
        if (*s == ',')
            s++;
    }
    return true;
}

/* Returns 0, or 2 after printing a usage error. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    tft_config_default(&o->cfg);
    o->horizon = 28;
    o->series = 128;
    o->steps = 240;
    o->gen_seed = 42;
    o->from = o->to = -1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true, flag = true;
        int iv;
        if (!strcmp(a, "--json")) o->json = true;
        else if (!strcmp(a, "--log")) o->log = true;
        else {
            flag = false;
            if (!v) { fprintf(stderr, "based-tft: %s needs a value\n", a); return 2; }
            if (!strcmp(a, "--data")) o->data = v;
            else if (!strcmp(a, "--out")) o->out = v;
            else if (!strcmp(a, "--model")) o->model = v;
            else if (!strcmp(a, "--kind")) o->kind = v;
            else if (!strcmp(a, "--rpc")) o->rpc = v;
            else if (!strcmp(a, "--rpc-cookie")) o->cookie = v;
            else if (!strcmp(a, "--brain")) {
                ok = o->nbrains < MAX_GEN_BRAINS && parse_int(v, 0, 1023, &iv);
                if (ok)
                    o->brains[o->nbrains++] = iv;
            }
            else if (!strcmp(a, "--from")) { ok = parse_int(v, 0, 2147483647, &iv); o->from = iv; }
            else if (!strcmp(a, "--to")) { ok = parse_int(v, 0, 2147483647, &iv); o->to = iv; }
            else if (!strcmp(a, "--bucket")) ok = parse_int(v, 1, 1000000, &o->bucket);
            else if (!strcmp(a, "--min-steps")) ok = parse_int(v, 0, TFT_MAX_STEPS, &o->min_steps);
            else if (!strcmp(a, "--horizon")) ok = parse_int(v, 1, TFT_MAX_STEPS, &o->horizon);
            else if (!strcmp(a, "--season")) ok = parse_int(v, 1, 1000, &o->season);
            else if (!strcmp(a, "--series")) ok = parse_int(v, 1, TFT_MAX_SERIES, &o->series);
            else if (!strcmp(a, "--steps")) ok = parse_int(v, 8, TFT_MAX_STEPS, &o->steps);
            else if (!strcmp(a, "--d")) ok = parse_int(v, 4, 32, &o->cfg.d);
            else if (!strcmp(a, "--heads")) ok = parse_int(v, 1, 4, &o->cfg.heads);
            else if (!strcmp(a, "--k")) ok = parse_int(v, 1, 64, &o->cfg.k);
            else if (!strcmp(a, "--epochs")) ok = parse_int(v, 0, 10000, &o->cfg.epochs);
            else if (!strcmp(a, "--patience")) ok = parse_int(v, 1, 10000, &o->cfg.patience);
            else if (!strcmp(a, "--batch")) ok = parse_int(v, 1, 65536, &o->cfg.batch);
            else if (!strcmp(a, "--valid")) ok = parse_int(v, 1, 10000, &o->cfg.valid);
            else if (!strcmp(a, "--lr")) ok = parse_dbl(v, &o->cfg.lr);
            else if (!strcmp(a, "--dropout")) ok = parse_dbl(v, &o->cfg.dropout);
            else if (!strcmp(a, "--ablate")) ok = parse_ablate(v, &o->cfg.ablate);
            else if (!strcmp(a, "--seed")) {
                ok = parse_int(v, 0, 2147483647, &iv);
                o->cfg.seed = o->gen_seed = (uint64_t)iv;
            } else {
                fprintf(stderr, "based-tft: unknown option %s\n", a);
                return 2;
            }
        }
        if (!ok) {
            fprintf(stderr, "based-tft: bad value for %s: %s\n", a, v);
            return 2;
        }
        if (!flag)
            i++;
    }
    return 0;
}

static int load_data(const struct opts *o, struct tft_dataset **d)
{
    char err[256];
    if (!o->data) {
        fprintf(stderr, "based-tft: --data is required\n");
        return 2;
    }
    if (tft_csv_load(o->data, d, err, sizeof err) != BASED_E_OK)
        return die(o->data, err);
    return 0;
}

static void sha_hex(const void *p, size_t n, char hex[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, p, n);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
}

static int weights_hash(const struct tft_model *m, char hex[65])
{
    size_t n = 0;
    tft_model_save(m, NULL, &n);
    uint8_t *b = malloc(n);
    if (!b)
        return 1;
    tft_model_save(m, b, &n);
    sha_hex(b, n, hex);
    free(b);
    return 0;
}

static int write_model(const struct tft_model *m, const char *path)
{
    size_t n = 0;
    tft_model_save(m, NULL, &n);
    uint8_t *b = malloc(n);
    FILE *f = b ? fopen(path, "wb") : NULL;
    int rc = 0;
    if (!b || !f || tft_model_save(m, b, &n) != BASED_E_OK || fwrite(b, 1, n, f) != n)
        rc = die(path, "cannot write model");
    if (f && fclose(f) != 0 && rc == 0)
        rc = die(path, "cannot write model");
    free(b);
    return rc;
}

static int read_model(const char *path, struct tft_model **m)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return die(path, strerror(errno));
    size_t cap = (size_t)TFT_MAX_PARAMS * 8 + 4096, n;
    uint8_t *b = malloc(cap);
    n = b ? fread(b, 1, cap, f) : 0;
    fclose(f);
    based_err e = b ? tft_model_load(b, n, m) : BASED_E_NOMEM;
    free(b);
    return e == BASED_E_OK ? 0 : die(path, "not a based-tft model (bad magic, version or size)");
}

static int cmd_train(const struct opts *o)
{
    struct tft_dataset *d = NULL;
    int rc = load_data(o, &d);
    if (rc)
        return rc;
    if (!o->out) {
        tft_dataset_free(d);
        fprintf(stderr, "based-tft: --out is required\n");
        return 2;
    }
    struct tft_model *m = tft_model_new(&o->cfg, d->n_static, d->n_past, d->n_future);
    struct tft_train_report r;
    based_err e = m ? tft_train(m, d, NULL, &r, o->log ? stderr : NULL) : BASED_E_BAD_PARAM;
    if (e != BASED_E_OK) {
        rc = die("train", based_strerror(e));
    } else if ((rc = write_model(m, o->out)) == 0) {
        char hex[65];
        weights_hash(m, hex);
        printf("params %zu  epochs %d  best epoch %d  valid loss %.6f  qscale %.2f  "
               "shrink %.2f\nweights_sha256 %s\n", tft_model_nparams(m), r.epochs_run,
               r.best_epoch, r.best_valid_loss, r.qscale, r.shrink, hex);
    }
    tft_model_free(m);
    tft_dataset_free(d);
    return rc;
}

static void print_eval(const struct tft_eval *ev, const struct tft_dataset *d,
                       const char *wh, const char *fh, bool json)
{
    if (json) {
        printf("{\"sql_tft\":%.6f,\"sql_naive\":%.6f,\"sql_ets\":%.6f,"
               "\"ratio_naive\":%.6f,\"ratio_ets\":%.6f,\"coverage\":%.6f,"
               "\"worst_series_ratio_naive\":%.6f,\"weights_sha256\":\"%s\","
               "\"forecasts_sha256\":\"%s\",\"horizon\":%d,\"season\":%d,"
               "\"epochs\":%d,\"best_epoch\":%d,\"qscale\":%.2f,\"shrink\":%.2f,"
               "\"tail_worst_ratio_naive\":%.6f,\"series\":[",
               ev->sql_tft, ev->sql_naive, ev->sql_ets, ev->ratio_naive, ev->ratio_ets,
               ev->coverage, ev->worst_series_ratio_naive, wh, fh, ev->horizon, ev->season,
               ev->train.epochs_run, ev->train.best_epoch, ev->train.qscale, ev->train.shrink,
               ev->train.tail_worst);
        for (int i = 0; i < ev->n_series; i++) {
            const struct tft_series_eval *s = &ev->series[i];
            printf("%s{\"name\":\"%s\",\"sql_tft\":%.6f,\"sql_naive\":%.6f,\"sql_ets\":%.6f,"
                   "\"ratio_naive\":%.6f,\"ratio_ets\":%.6f,\"coverage\":%.6f}",
                   i ? "," : "", d->series_names[i], s->sql_tft, s->sql_naive, s->sql_ets,
                   s->ratio_naive, s->ratio_ets, s->coverage);
        }
        printf("]}\n");
        return;
    }
    printf("%-12s %9s %9s %9s %8s %8s %8s\n", "series", "sql_tft", "sql_naive",
           "sql_ets", "r_naive", "r_ets", "cover");
    for (int i = 0; i < ev->n_series; i++) {
        const struct tft_series_eval *s = &ev->series[i];
        printf("%-12s %9.4f %9.4f %9.4f %8.3f %8.3f %8.3f\n", d->series_names[i],
               s->sql_tft, s->sql_naive, s->sql_ets, s->ratio_naive, s->ratio_ets, s->coverage);
    }
    printf("pooled (%d series x %d steps, season %d; trained %d epochs, best %d, qscale %.2f, "
           "shrink %.2f)\n", ev->n_series, ev->horizon, ev->season, ev->train.epochs_run,
           ev->train.best_epoch, ev->train.qscale, ev->train.shrink);
    printf("  sql_tft %.4f  sql_naive %.4f  sql_ets %.4f\n", ev->sql_tft, ev->sql_naive, ev->sql_ets);
    printf("  ratio_naive %.4f  ratio_ets %.4f  coverage %.4f  worst_series_ratio_naive %.4f\n",
           ev->ratio_naive, ev->ratio_ets, ev->coverage, ev->worst_series_ratio_naive);
    printf("  weights_sha256   %s\n  forecasts_sha256 %s\n", wh, fh);
}

static int cmd_eval(const struct opts *o)
{
    struct tft_dataset *d = NULL;
    int rc = load_data(o, &d);
    if (rc)
        return rc;
    struct tft_eval ev;
    struct tft_model *m = NULL;
    based_err e = tft_evaluate(&o->cfg, d, o->horizon, o->season, &ev, &m,
                               o->log ? stderr : NULL);
    if (e != BASED_E_OK) {
        tft_dataset_free(d);
        return die("eval", e == BASED_E_BAD_PARAM
                   ? "bad configuration, or a series too short for the horizon"
                   : based_strerror(e));
    }
    char wh[65], fh[65];
    weights_hash(m, wh);
    sha_hex(ev.forecasts, (size_t)ev.n_series * (size_t)ev.horizon * 3 * sizeof(double), fh);
    print_eval(&ev, d, wh, fh, o->json);
    tft_eval_release(&ev);
    tft_model_free(m);
    tft_dataset_free(d);
    return 0;
}

static int gen_devnet(const struct opts *o)
{
#ifdef TFT_NO_DEVNET
    (void)o;
    return die("gen --kind devnet", "left out of this build (compiled with TFT_NO_DEVNET, as "
               "tft/determinism.mk does, to link tft/ without curl and jansson); use bin/based-tft");
#else
    cli_tftrec_opts r;
    char err[CLI_ERR_LEN];
    memset(&r, 0, sizeof r);
    r.rpc = o->rpc;
    r.cookie = o->cookie;
    memcpy(r.brains, o->brains, sizeof r.brains);
    r.nbrains = o->nbrains;
    r.from = o->from;
    r.to = o->to;
    r.bucket = o->bucket;
    r.min_steps = o->min_steps;
    r.log = stderr;
    /* written to a temporary file first: no half-written CSV on an error */
    char tmp[4096];
    FILE *f = stdout;
    if (o->out) {
        snprintf(tmp, sizeof tmp, "%s.part", o->out);
        if (!(f = fopen(tmp, "w")))
            return die(tmp, strerror(errno));
    }
    based_err e = cli_tftrec_run(&r, f, err);
    int rc = 0;
    if (o->out) {
        if (fclose(f) != 0 && e == BASED_E_OK)
            rc = die(tmp, "write failed");
        if (e != BASED_E_OK || rc != 0)
            remove(tmp);
        else if (rename(tmp, o->out) != 0)
            rc = die(o->out, strerror(errno));
    }
    if (e != BASED_E_OK)
        return die("gen --kind devnet", err);
    return rc;
#endif
}

static int cmd_gen(const struct opts *o)
{
    if (!o->kind) {
        fprintf(stderr, "based-tft: --kind synthetic|devnet is required\n");
        return 2;
    }
    if (!strcmp(o->kind, "devnet"))
        return gen_devnet(o);
    if (strcmp(o->kind, "synthetic") != 0) {
        fprintf(stderr, "based-tft: unknown --kind %s\n", o->kind);
        return 2;
    }
    struct tft_gen_opts g = { o->series, o->steps, o->gen_seed };
    struct tft_dataset *d = tft_gen_synthetic(&g);
    if (!d)
        return die("gen", "bad sizes or out of memory");
    FILE *f = o->out ? fopen(o->out, "w") : stdout;
    int rc = 0;
    if (!f)
        rc = die(o->out, strerror(errno));
    else if (tft_csv_write(d, f) != BASED_E_OK || (o->out && fclose(f) != 0))
        rc = die(o->out ? o->out : "stdout", "write failed");
    tft_dataset_free(d);
    return rc;
}

static int model_and_data(const struct opts *o, struct tft_model **m, struct tft_dataset **d)
{
    if (!o->model) {
        fprintf(stderr, "based-tft: --model is required\n");
        return 2;
    }
    int rc = load_data(o, d);
    if (rc)
        return rc;
    if ((rc = read_model(o->model, m)) != 0) {
        tft_dataset_free(*d);
        return rc;
    }
    return 0;
}

static int cmd_forecast(const struct opts *o)
{
    struct tft_model *m;
    struct tft_dataset *d;
    int rc = model_and_data(o, &m, &d);
    if (rc)
        return rc;
    double *out = malloc(((size_t)d->n_steps + 1) * 3 * sizeof(double));
    printf("series,t,p10,p50,p90\n");
    for (int i = 0; out && rc == 0 && i < d->n_series; i++) {
        based_err e = tft_forecast_series(m, d, i, d->len[i], out);
        if (e != BASED_E_OK) {
            rc = die("forecast", "data does not match the model's covariates");
            break;
        }
        const double *q = out + (size_t)(d->len[i] - 1) * 3;
        printf("%s,%" PRId64 ",%.6f,%.6f,%.6f\n", d->series_names[i],
               d->t0[i] + d->len[i], q[0], q[1], q[2]);
    }
    free(out);
    tft_model_free(m);
    tft_dataset_free(d);
    return rc;
}

static int cmd_explain(const struct opts *o)
{
    struct tft_model *m;
    struct tft_dataset *d;
    int rc = model_and_data(o, &m, &d);
    if (rc)
        return rc;
    struct tft_explain tot, ex;
    memset(&tot, 0, sizeof tot);
    for (int i = 0; i < d->n_series; i++) {
        if (tft_explain_series(m, d, i, d->len[i], 0, &ex) != BASED_E_OK) {
            rc = die("explain", "data does not match the model's covariates");
            break;
        }
        tot.n_static = ex.n_static; tot.n_past = ex.n_past; tot.n_future = ex.n_future; tot.k = ex.k;
        for (int j = 0; j < ex.n_static; j++) tot.static_w[j] += ex.static_w[j] / d->n_series;
        for (int j = 0; j < ex.n_past; j++) tot.past_w[j] += ex.past_w[j] / d->n_series;
        for (int j = 0; j < ex.n_future; j++) tot.future_w[j] += ex.future_w[j] / d->n_series;
        for (int j = 0; j <= ex.k; j++) tot.attn[j] += ex.attn[j] / d->n_series;
    }
    if (rc == 0) {
        printf("static selection:");
        for (int j = 0; j < tot.n_static; j++)
            printf(" %s=%.3f", j < d->n_static ? d->static_names[j] : j == d->n_static ? "level" : "scale", tot.static_w[j]);
        printf("\npast selection: target=%.3f", tot.past_w[0]);
        for (int j = 0; j < d->n_past; j++) printf(" %s=%.3f", d->past_names[j], tot.past_w[1 + j]);
        for (int j = 0; j < d->n_future; j++) printf(" %s=%.3f", d->future_names[j], tot.past_w[1 + d->n_past + j]);
        printf("\nfuture selection:");
        for (int j = 0; j < tot.n_future; j++) printf(" %s=%.3f", d->n_future ? d->future_names[j] : "const", tot.future_w[j]);
        printf("\nattention by lag:");
        for (int j = 0; j <= tot.k; j++) printf(" %d:%.3f", j, tot.attn[j]);
        printf("\n");
    }
    tft_model_free(m);
    tft_dataset_free(d);
    return rc;
}

static const struct { const char *name; int (*fn)(const struct opts *); } CMDS[] = {
    { "train", cmd_train }, { "eval", cmd_eval }, { "gen", cmd_gen },
    { "forecast", cmd_forecast }, { "explain", cmd_explain },
};

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, 2);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return usage(stdout, 0);
    if (!strcmp(argv[1], "--version")) {
        printf("based-tft %s (model format %u)\n", BASED_VERSION, TFT_MODEL_VERSION);
        return 0;
    }
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help"))
            return usage(stdout, 0);
    if (sodium_init() < 0)
        return die("libsodium", "initialisation failed");
    for (size_t i = 0; i < BASED_ARRAY_LEN(CMDS); i++)
        if (!strcmp(argv[1], CMDS[i].name)) {
            struct opts o;
            int rc = parse_opts(argc, argv, &o);
            return rc ? rc : CMDS[i].fn(&o);
        }
    fprintf(stderr, "based-tft: unknown command %s (try --help)\n", argv[1]);
    return 2;
}
