/*
 * cli.c: the compress and eval commands of based-model.
 *
 * compress: based-model compress --method M [method options] IN OUT
 * eval:     based-model eval [--model M] [--methods a,b,...] [--json]
 *
 * Both take calibration text (heads, consensus) from the training split of
 * the fortunes corpus, and eval scores on its held-out split, so neither
 * method ever sees the text it is measured on.
 */
#include <getopt.h>
#include <math.h>

#include "model/model.h"
#include "model/gguf.h"
#include "chain/base.h"

int model_cmd_compress(int argc, char **argv);
int model_cmd_eval(int argc, char **argv);

#define CALIB_BYTES (64 * 1024)

static int usage(const char *cmd, const char *msg)
{
    fprintf(stderr, "based-model %s: %s (see based-model %s --help)\n", cmd, msg, cmd);
    return 2;
}

static bool num(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

/* Method options shared by compress and eval; returns 0 handled, 1 not ours, 2 bad. */
static int method_opt(int c, const char *arg, struct model_compress_opts *o)
{
    double v;
    switch (c) {
    case 'L': if (!num(arg, 2, 256, &v)) return 2; o->levels = (int)v; return 0;
    case 'T': if (!num(arg, 0, 1e9, &v)) return 2; o->thresh = (float)v; return 0;
    case 'A': if (!num(arg, 1e-6, 1e6, &v)) return 2; o->alpha = (float)v; return 0;
    case 'R':
        if (strcmp(arg, "floor") && strcmp(arg, "nearest")) return 2;
        o->floor_mode = strcmp(arg, "floor") == 0;
        return 0;
    case 'N': o->activations = false; return 0;
    case 'H': if (!num(arg, -1e9, 1e9, &v)) return 2; o->theta = (float)v; return 0;
    case 'S': if (!num(arg, 1, 255, &v)) return 2; o->shards = (int)v; return 0;
    case 'K': if (!num(arg, 1e-6, 1, &v)) return 2; o->keep = (float)v; return 0;
    default: return 1;
    }
}

#define METHOD_LONGOPTS \
    { "levels", 1, 0, 'L' }, { "threshold", 1, 0, 'T' }, { "alpha", 1, 0, 'A' }, \
    { "rounding", 1, 0, 'R' }, { "no-activations", 0, 0, 'N' }, { "theta", 1, 0, 'H' }, \
    { "shards", 1, 0, 'S' }, { "keep", 1, 0, 'K' }

#define METHOD_HELP \
    "method options (docs/compression.md):\n" \
    "  cerberus:  --levels L (256) --threshold T (0.1) --alpha A (0.5)\n" \
    "             --rounding nearest|floor (nearest) --no-activations\n" \
    "  heads:     --theta X (0.02; heads with S(h) <= X are removed)\n" \
    "  consensus: --shards M (9) --keep F (0.5; each shard votes for this share of a row)\n" \
    "  --data DIR fortunes directory for calibration/held-out text\n"

static based_err load_text(const char *dir, struct model_corpus *c, char *err, size_t n)
{
    return model_corpus_load(dir ? dir : MODEL_FORTUNES_DIR, 0, c, err, n);
}

/* ---- compress ---------------------------------------------------------------------- */

static const char compress_help[] =
    "usage: based-model compress --method M [options] IN OUT\n"
    "Compress the GGUF model IN into OUT. Methods: f32 q8_0 q4_0 cerberus heads consensus prime.\n"
    METHOD_HELP;

int model_cmd_compress(int argc, char **argv)
{
    struct model_compress_opts o;
    model_compress_defaults(&o);
    const char *method = NULL, *data = NULL;
    static const struct option lo[] = { { "method", 1, 0, 'm' }, { "data", 1, 0, 'd' },
        { "help", 0, 0, 'h' }, METHOD_LONGOPTS, { 0, 0, 0, 0 } };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        if (c == 'h') {
            fputs(compress_help, stdout);
            return 0;
        }
        if (c == 'm') { method = optarg; continue; }
        if (c == 'd') { data = optarg; continue; }
        int r = method_opt(c, optarg, &o);
        if (r)
            return usage("compress", r == 2 ? "bad option value" : "unknown option");
    }
    if (!method || !model_method_known(method))
        return usage("compress", method ? "unknown method" : "--method is required");
    if (argc - optind != 2)
        return usage("compress", "expects IN and OUT");
    o.method = method;
    char err[256];
    model_t *m;
    if (model_load(argv[optind], &m, err, sizeof err)) {
        fprintf(stderr, "based-model compress: %s\n", err);
        return 1;
    }
    struct model_corpus corpus = { 0 };
    int rc = 1;
    model_gguf *g = NULL;
    if (!strcmp(method, "heads") || !strcmp(method, "consensus")) {
        if (load_text(data, &corpus, err, sizeof err))
            goto fail;
        o.calib = corpus.train;
        o.n_calib = corpus.n_train < CALIB_BYTES ? corpus.n_train : CALIB_BYTES;
    }
    if (model_compress(m, &o, &g, err, sizeof err) || model_gguf_save(g, argv[optind + 1], err, sizeof err))
        goto fail;
    printf("%s -> %s (%s)\n", argv[optind], argv[optind + 1], method);
    rc = 0;
fail:
    if (rc)
        fprintf(stderr, "based-model compress: %s\n", err);
    model_gguf_free(g);
    model_corpus_free(&corpus);
    model_free(m);
    return rc;
}

/* ---- eval ------------------------------------------------------------------------------ */

static const char eval_help[] =
    "usage: based-model eval [--model M] [--methods a,b,...] [--json] [--positions N]\n"
    "Compress M (default " MODEL_DEFAULT_PATH ") with each method (default\n"
    "f32,q8_0,q4_0,cerberus,heads,consensus,prime) and measure against the original on\n"
    "N held-out positions (default 20480): bytes_per_weight, ratio (to F32), kld,\n"
    "top1, ppl_ratio, tokens_per_s (single thread, token-by-token decoding).\n"
    METHOD_HELP;

static based_err eval_one(const model_t *ref, const char *method, struct model_compress_opts *o,
                          const struct model_corpus *c, const float *ref_logits, long n,
                          struct model_eval_row *row, char *err, size_t errlen)
{
    memset(row, 0, sizeof *row);
    snprintf(row->method, sizeof row->method, "%s", method);
    o->method = method;
    o->calib = c->train;
    o->n_calib = c->n_train < CALIB_BYTES ? c->n_train : CALIB_BYTES;
    model_gguf *g;
    based_err e = model_compress(ref, o, &g, err, errlen);
    if (e)
        return e;
    model_t *q;
    e = model_from_gguf(g, &q, err, errlen);
    if (e)
        return e;
    uint64_t count = model_weight_count(ref), bytes = model_weight_bytes(q);
    row->bytes_per_weight = (double)bytes / (double)count;
    row->ratio = 4.0 * (double)count / (double)bytes;
    e = model_eval_against(ref_logits, n, q, c->heldout, c->n_heldout, row);
    if (e)
        snprintf(err, errlen, "cannot score %s (held-out text too short?)", method);
    else
        for (int i = 0; i < 3; i++) {
            double r = model_decode_speed(q, 256);
            row->tokens_per_s = r > row->tokens_per_s ? r : row->tokens_per_s;
        }
    model_free(q);
    return e;
}

static void print_rows(const struct model_eval_row *r, int n, bool json)
{
    if (json) {
        printf("[");
        for (int i = 0; i < n; i++)
            printf("%s\n {\"method\": \"%s\", \"bytes_per_weight\": %.4f, \"ratio\": %.3f, "
                   "\"kld\": %.6f, \"top1\": %.4f, \"ppl_ratio\": %.4f, \"tokens_per_s\": %.0f, "
                   "\"positions\": %ld}", i ? "," : "", r[i].method, r[i].bytes_per_weight,
                   r[i].ratio, r[i].kld, r[i].top1, r[i].ppl_ratio, r[i].tokens_per_s,
                   r[i].positions);
        printf("\n]\n");
        return;
    }
    printf("%-10s %16s %7s %10s %7s %9s %12s\n", "method", "bytes_per_weight", "ratio", "kld",
           "top1", "ppl_ratio", "tokens_per_s");
    for (int i = 0; i < n; i++)
        printf("%-10s %16.4f %7.2f %10.6f %7.4f %9.4f %12.0f\n", r[i].method, r[i].bytes_per_weight,
               r[i].ratio, r[i].kld, r[i].top1, r[i].ppl_ratio, r[i].tokens_per_s);
}

int model_cmd_eval(int argc, char **argv)
{
    struct model_compress_opts o;
    model_compress_defaults(&o);
    const char *path = MODEL_DEFAULT_PATH, *data = NULL;
    char list[512] = "f32,q8_0,q4_0,cerberus,heads,consensus,prime";
    bool json = false;
    double pos = 20480;
    static const struct option lo[] = { { "model", 1, 0, 'm' }, { "methods", 1, 0, 'x' },
        { "json", 0, 0, 'j' }, { "positions", 1, 0, 'p' }, { "data", 1, 0, 'd' },
        { "help", 0, 0, 'h' }, METHOD_LONGOPTS, { 0, 0, 0, 0 } };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(eval_help, stdout); return 0;
        case 'm': path = optarg; continue;
        case 'd': data = optarg; continue;
        case 'j': json = true; continue;
        case 'x': snprintf(list, sizeof list, "%s", optarg); continue;
        case 'p': if (!num(optarg, 1, 1e8, &pos)) return usage("eval", "bad --positions"); continue;
        default: break;
        }
        int r = method_opt(c, optarg, &o);
        if (r)
            return usage("eval", r == 2 ? "bad option value" : "unknown option");
    }
    if (optind != argc)
        return usage("eval", "unexpected argument");
    const char *names[16];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!model_method_known(t) || n == 16)
            return usage("eval", "unknown method in --methods");
        names[n++] = t;
    }
    char err[256];
    model_t *m;
    struct model_corpus corpus;
    if (model_load(path, &m, err, sizeof err)) {
        fprintf(stderr, "based-model eval: %s\n", err);
        return 1;
    }
    if (load_text(data, &corpus, err, sizeof err)) {
        fprintf(stderr, "based-model eval: %s\n", err);
        model_free(m);
        return 1;
    }
    struct model_eval_row rows[16];
    int rc = 0;
    long npos;
    float *ref = model_eval_reference(m, corpus.heldout, corpus.n_heldout, (long)pos, &npos);
    if (!ref) {
        fprintf(stderr, "based-model eval: cannot score %.0f positions (held-out text too short "
                "or not a byte-level model)\n", pos);
        rc = 1;
    }
    for (int i = 0; i < n && !rc; i++)
        if (eval_one(m, names[i], &o, &corpus, ref, npos, &rows[i], err, sizeof err)) {
            fprintf(stderr, "based-model eval: %s: %s\n", names[i], err);
            rc = 1;
        }
    if (!rc)
        print_rows(rows, n, json);
    free(ref);
    model_corpus_free(&corpus);
    model_free(m);
    return rc;
}
