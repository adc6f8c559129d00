/*
 * main.c: based-model, the command line of the model runtime.
 *
 *   based-model train     train the default byte-level model on fortunes
 *   based-model compress  compress a GGUF model with one method
 *   based-model eval      measure every method against the uncompressed model
 *   based-model generate  sample text from a model
 *   based-model info      print a GGUF file's metadata and tensors
 *
 * Exit status: 0 success, 1 failure (one line on stderr), 2 usage error.
 */
#include <getopt.h>
#include <limits.h>
#include <math.h>

#include "model/model.h"
#include "model/gguf.h"
#include "model/quant.h"
#include "chain/base.h"

int model_cmd_compress(int argc, char **argv);
int model_cmd_eval(int argc, char **argv);

static int usage_error(const char *cmd, const char *msg)
{
    fprintf(stderr, "based-model %s: %s (see based-model %s --help)\n", cmd, msg, cmd);
    return 2;
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_float(const char *s, float *out)
{
    char *end;
    float v = strtof(s, &end);
    if (!*s || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* ---- train ------------------------------------------------------------------- */

static const char train_help[] =
    "usage: based-model train [options]\n"
    "Train a byte-level Llama-style model on the fortunes text and write it as GGUF.\n"
    "  --out FILE        output GGUF (default " MODEL_DEFAULT_PATH ")\n"
    "  --data DIR        fortune files (default " MODEL_FORTUNES_DIR ")\n"
    "  --max-bytes N     use at most N bytes of text per split (default all)\n"
    "  --dim N --layers N --heads N --kv-heads N --hidden N --seq N   shape\n"
    "                    (default 128, 4, 4, 4, 384, 128)\n"
    "  --steps N --batch N --lr X --min-lr X --warmup N --wd X\n"
    "                    (default 3000, 16, 0.003, 0.0001, 100, 0.1)\n"
    "  --seed N          (default 1)   --threads N (1 or 2, default 2)\n"
    "  --eval-every N    held-out check and checkpoint every N steps (default 250)\n"
    "  --quiet           no progress bar\n";

int model_cmd_train(int argc, char **argv);
int model_cmd_train(int argc, char **argv)
{
    struct model_train_opts o = {
        .cfg = { 128, 384, 4, 4, 4, 256, 128, 10000.0f, 1e-5f },
        .steps = 3000, .batch = 16, .threads = 2, .lr = 3e-3f, .min_lr = 1e-4f,
        .weight_decay = 0.1f, .warmup = 100, .seed = 1, .eval_every = 250,
        .out_path = MODEL_DEFAULT_PATH, .progress = stderr,
    };
    static const struct option lo[] = {
        { "out", 1, 0, 'o' }, { "data", 1, 0, 'd' }, { "max-bytes", 1, 0, 'm' },
        { "dim", 1, 0, 'D' }, { "layers", 1, 0, 'L' }, { "heads", 1, 0, 'H' },
        { "kv-heads", 1, 0, 'K' }, { "hidden", 1, 0, 'F' }, { "seq", 1, 0, 'T' },
        { "steps", 1, 0, 's' }, { "batch", 1, 0, 'b' }, { "lr", 1, 0, 'l' },
        { "min-lr", 1, 0, 'n' }, { "warmup", 1, 0, 'w' }, { "wd", 1, 0, 'W' },
        { "seed", 1, 0, 'S' }, { "threads", 1, 0, 't' }, { "eval-every", 1, 0, 'e' },
        { "quiet", 0, 0, 'q' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
    int c;
    long v = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'o': o.out_path = optarg; break;
        case 'd': o.data_dir = optarg; break;
        case 'm': ok = parse_long(optarg, 1, 1L << 30, &v); o.max_bytes = (size_t)v; break;
        case 'D': ok = parse_long(optarg, 32, 4096, &v); o.cfg.dim = (int)v; break;
        case 'L': ok = parse_long(optarg, 1, 64, &v); o.cfg.n_layers = (int)v; break;
        case 'H': ok = parse_long(optarg, 1, 64, &v); o.cfg.n_heads = (int)v; break;
        case 'K': ok = parse_long(optarg, 1, 64, &v); o.cfg.n_kv_heads = (int)v; break;
        case 'F': ok = parse_long(optarg, 32, 16384, &v); o.cfg.hidden = (int)v; break;
        case 'T': ok = parse_long(optarg, 8, 4096, &v); o.cfg.seq_len = (int)v; break;
        case 's': ok = parse_long(optarg, 1, 10000000, &v); o.steps = (int)v; break;
        case 'b': ok = parse_long(optarg, 2, 4096, &v); o.batch = (int)v; break;
        case 'l': ok = parse_float(optarg, &o.lr); break;
        case 'n': ok = parse_float(optarg, &o.min_lr); break;
        case 'w': ok = parse_long(optarg, 0, 1000000, &v); o.warmup = (int)v; break;
        case 'W': ok = parse_float(optarg, &o.weight_decay); break;
        case 'S': ok = parse_long(optarg, 0, LONG_MAX, &v); o.seed = (uint64_t)v; break;
        case 't': ok = parse_long(optarg, 1, 2, &v); o.threads = (int)v; break;
        case 'e': ok = parse_long(optarg, 0, 10000000, &v); o.eval_every = (int)v; break;
        case 'q': o.progress = NULL; break;
        case 'h': fputs(train_help, stdout); return 0;
        default: return usage_error("train", "unknown option");
        }
        if (!ok)
            return usage_error("train", "bad option value");
    }
    if (optind != argc)
        return usage_error("train", "unexpected argument");
    struct model_train_result r;
    char err[256];
    if (model_train(&o, &r, err, sizeof err)) {
        fprintf(stderr, "based-model train: %s\n", err);
        return 1;
    }
    printf("trained %zu parameters: %ld tokens in %.0f s, train loss %.4f, held-out loss %.4f nats/byte -> %s\n",
           model_param_count(&o.cfg), r.tokens, r.seconds, r.train_loss, r.heldout_loss, o.out_path);
    return 0;
}

/* ---- generate ---------------------------------------------------------------- */

static const char gen_help[] =
    "usage: based-model generate [--model M] [--prompt TEXT] [-n N] [--seed N]\n"
    "                            [--temp X] [--top-k N] [--top-p X]\n"
    "Sample text from a model (default " MODEL_DEFAULT_PATH ", temperature 0.8, top-k 40,\n"
    "top-p 0.95, seed 1, 200 tokens). The same seed gives the same text. Past the\n"
    "context the window slides (the last half is prefilled again).\n";

/*
 * Generate n tokens after the prompt. Past the end of the context the
 * window slides: the last half of the context is prefilled again and
 * sampling continues (seed + chunk number), so -n may exceed the context.
 */
static int generate_text(model_t *m, const char *prompt, const struct model_sampler *sp,
                         uint64_t seed, int n)
{
    const struct model_config *cf = model_config(m);
    size_t cap = (size_t)cf->seq_len + (size_t)n + 1;
    int *hist = malloc(cap * sizeof(int)), np = 0, rc = 1;
    model_state *s = model_state_new(m);
    if (!hist || !s)
        goto done;
    if (model_bos(m) >= 0)
        hist[np++] = model_bos(m);
    int k = model_encode(m, prompt, strlen(prompt), hist + np, cf->seq_len - np);
    if (k < 0) {
        fprintf(stderr, "based-model generate: prompt longer than the context (%d tokens)\n", cf->seq_len);
        goto done;
    }
    np += k;
    if (np == 0)
        hist[np++] = '\n';  /* byte-level models start from a newline */
    fputs(prompt, stdout);
    int len = np, chunk = 0, done_n = 0;
    while (done_n < n) {
        int start = len < cf->seq_len ? 0 : len - cf->seq_len / 2;
        int win = len - start, want = n - done_n;
        if (want > cf->seq_len - win + 1)
            want = cf->seq_len - win + 1;
        int got = model_generate(s, hist + start, win, sp, seed + (uint64_t)chunk++, want,
                                 hist + len, 0, NULL);
        if (got <= 0) {
            fprintf(stderr, "based-model generate: forward pass failed\n");
            goto done;
        }
        for (int i = 0; i < got; i++) {
            char piece[256] = "";
            model_decode(m, hist[len + i], piece, sizeof piece);
            fputs(piece, stdout);
        }
        len += got;
        done_n += got;
    }
    fputc('\n', stdout);
    rc = 0;
done:
    free(hist);
    model_state_free(s);
    return rc;
}

static int cmd_generate(int argc, char **argv)
{
    const char *path = MODEL_DEFAULT_PATH, *prompt = "";
    struct model_sampler sp = { 0.8f, 40, 0.95f };
    long n = 200, seed = 1, v = 0;
    static const struct option lo[] = {
        { "model", 1, 0, 'm' }, { "prompt", 1, 0, 'p' }, { "seed", 1, 0, 's' },
        { "temp", 1, 0, 't' }, { "top-k", 1, 0, 'k' }, { "top-p", 1, 0, 'P' },
        { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:h", lo, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'm': path = optarg; break;
        case 'p': prompt = optarg; break;
        case 'n': ok = parse_long(optarg, 0, MODEL_MAX_SEQ, &n); break;
        case 's': ok = parse_long(optarg, 0, LONG_MAX, &seed); break;
        case 't': ok = parse_float(optarg, &sp.temperature) && sp.temperature >= 0; break;
        case 'k': ok = parse_long(optarg, 0, MODEL_MAX_VOCAB, &v); sp.top_k = (int)v; break;
        case 'P': ok = parse_float(optarg, &sp.top_p) && sp.top_p > 0 && sp.top_p <= 1; break;
        case 'h': fputs(gen_help, stdout); return 0;
        default: return usage_error("generate", "unknown option");
        }
        if (!ok)
            return usage_error("generate", "bad option value");
    }
    if (optind != argc)
        return usage_error("generate", "unexpected argument");
    model_t *m;
    char err[256];
    if (model_load(path, &m, err, sizeof err)) {
        fprintf(stderr, "based-model generate: %s\n", err);
        return 1;
    }
    int rc = generate_text(m, prompt, &sp, (uint64_t)seed, (int)n);
    model_free(m);
    return rc;
}

/* ---- info -------------------------------------------------------------------- */

static void print_value(const struct model_gguf_value *v)
{
    switch (v->type) {
    case MODEL_GGUF_STRING: printf("\"%.60s%s\"", v->str, v->len > 60 ? "..." : ""); break;
    case MODEL_GGUF_ARRAY:
        printf("array[%" PRIu64 "] of type %u", v->count, v->elem_type);
        if (v->count <= 64 && v->raw && (v->elem_type == MODEL_GGUF_F32 || v->elem_type == MODEL_GGUF_U8)) {
            printf(":");
            for (uint64_t i = 0; i < v->count; i++) {
                float f;
                if (v->elem_type == MODEL_GGUF_U8) {
                    printf(" %u", v->raw[i]);
                } else {
                    memcpy(&f, v->raw + 4 * i, 4);
                    printf(" %.4g", f);
                }
            }
        }
        break;
    case MODEL_GGUF_F32: case MODEL_GGUF_F64: printf("%g", v->v.f); break;
    case MODEL_GGUF_I8: case MODEL_GGUF_I16: case MODEL_GGUF_I32: case MODEL_GGUF_I64:
        printf("%" PRId64, v->v.i); break;
    case MODEL_GGUF_BOOL: printf(v->v.u ? "true" : "false"); break;
    default: printf("%" PRIu64, v->v.u);
    }
}

static const char info_help[] =
    "usage: based-model info [FILE]\n"
    "Print a GGUF file's metadata and tensors (default " MODEL_DEFAULT_PATH ").\n";

static int cmd_info(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(info_help, stdout);
        return 0;
    }
    if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
        return usage_error("info", "expects at most one file");
    const char *path = argc == 2 ? argv[1] : MODEL_DEFAULT_PATH;
    model_gguf *g;
    char err[256];
    if (model_gguf_load(path, &g, err, sizeof err)) {
        fprintf(stderr, "based-model info: %s\n", err);
        return 1;
    }
    printf("%s: GGUF v3, %zu metadata keys, %zu tensors\n", path, model_gguf_kv_count(g),
           model_gguf_tensor_count(g));
    for (size_t i = 0; i < model_gguf_kv_count(g); i++) {
        printf("  %-42s ", model_gguf_kv_key(g, i));
        print_value(model_gguf_kv_value(g, i));
        printf("\n");
    }
    uint64_t total = 0;
    for (size_t i = 0; i < model_gguf_tensor_count(g); i++) {
        const struct model_gguf_tensor *t = model_gguf_tensor_at(g, i);
        printf("  %-28s %-5s [", t->name, model_type_name(t->type));
        for (uint32_t d = 0; d < t->n_dims; d++)
            printf("%s%" PRIu64, d ? ", " : "", t->dims[d]);
        printf("] %" PRIu64 " bytes\n", t->nbytes);
        total += t->nbytes;
    }
    printf("tensor data: %" PRIu64 " bytes\n", total);
    model_gguf_free(g);
    return 0;
}

/* ---- dispatch ------------------------------------------------------------------ */

static const struct { const char *name; int (*fn)(int, char **); const char *what; } cmds[] = {
    { "train", model_cmd_train, "train the default byte-level model on fortunes" },
    { "compress", model_cmd_compress, "compress a model: q8_0 q4_0 cerberus heads consensus prime" },
    { "eval", model_cmd_eval, "measure every compression method against the original" },
    { "generate", cmd_generate, "sample text from a model with a seed" },
    { "info", cmd_info, "print a GGUF file's metadata and tensors" },
};

static void help(FILE *f)
{
    fprintf(f, "usage: based-model COMMAND [options]   (COMMAND --help for its options)\n");
    for (size_t i = 0; i < BASED_ARRAY_LEN(cmds); i++)
        fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].what);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        help(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        help(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("based-model %s\n", BASED_VERSION);
        return 0;
    }
    for (size_t i = 0; i < BASED_ARRAY_LEN(cmds); i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "based-model: unknown command \"%s\" (see based-model --help)\n", argv[1]);
    return 2;
}
