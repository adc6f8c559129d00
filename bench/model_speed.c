/*
 * model_speed.c: tokens per second of single-token decoding, one thread,
 * for the F32, Q8_0, Q4_0 and Cerberus paths, on the default model and on a
 * randomly initialised model of llama2.c's stories15M shape (dim 288,
 * 6 layers, 6 heads, hidden 768, vocab 32000, seq 256). Each figure is the
 * best of three runs of a full context; the ratio is against F32 measured in
 * this process. The quantized paths must beat F32 on the 15M shape (the exit
 * status says whether they did).
 */
#include "bench/random15m.h"

static double best_of(const model_t *m, int n)
{
    double best = 0;
    for (int i = 0; i < 3; i++) {
        double r = model_decode_speed(m, n);
        best = r > best ? r : best;
    }
    return best;
}

static int run(const char *label, model_t *ref, int n)
{
    static const char *const methods[] = { "f32", "q8_0", "q4_0", "cerberus" };
    double f32 = 0;
    int slower = 0;
    printf("%s (%d tokens a run, best of 3, one thread)\n", label, n);
    for (size_t i = 0; i < BASED_ARRAY_LEN(methods); i++) {
        struct model_compress_opts o;
        model_compress_defaults(&o);
        o.method = methods[i];
        model_gguf *g;
        model_t *m;
        char err[256];
        if (model_compress(ref, &o, &g, err, sizeof err) || model_from_gguf(g, &m, err, sizeof err)) {
            fprintf(stderr, "model_speed: %s: %s\n", methods[i], err);
            return -1;
        }
        double r = best_of(m, n);
        if (i == 0)
            f32 = r;
        else if (r <= f32)
            slower++;
        printf("  %-9s %9.1f tok/s   %5.2fx F32   %8.2f MB of weights\n", methods[i], r,
               f32 > 0 ? r / f32 : 0, (double)model_weight_bytes(m) / 1e6);
        model_free(m);
    }
    return slower;
}

int main(void)
{
    char err[256];
    model_t *def = NULL;
    if (model_load(MODEL_DEFAULT_PATH, &def, err, sizeof err) == BASED_E_OK) {
        run("default model " MODEL_DEFAULT_PATH, def, model_config(def)->seq_len);
        model_free(def);
    } else {
        printf("default model not found (%s); skipped\n", err);
    }
    model_t *m = bench_random_15m(err, sizeof err);
    if (!m) {
        fprintf(stderr, "model_speed: cannot build the 15M model: %s\n", err);
        return 1;
    }
    int slower = run("random stories15M shape (dim 288, 6 layers, 6 heads, vocab 32000)", m, 256);
    model_free(m);
    if (slower != 0)
        printf("a quantized path was not faster than F32 on the 15M shape\n");
    return slower == 0 ? 0 : 1;
}
