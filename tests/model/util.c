/* util.c: fixtures shared by the model tests (see util.h). */
#include <sys/wait.h>

#include "tests/model/util.h"
#include "tests/runner.h"
#include "chain/base.h"

const char *tiny_model(const char *name, int threads)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    struct model_train_opts o = {
        .cfg = { 32, 64, 2, 2, 1, 256, 32, 10000.0f, 1e-5f },
        .max_bytes = 200000, .steps = 40, .batch = 4, .threads = threads, .lr = 5e-3f,
        .min_lr = 1e-4f, .weight_decay = 0.1f, .warmup = 5, .seed = 7, .eval_every = 0,
        .out_path = path,
    };
    struct model_train_result r;
    char err[256];
    if (model_train(&o, &r, err, sizeof err)) {
        fprintf(stderr, "tiny_model: %s\n", err);
        return NULL;
    }
    return path;
}

int run_cmd(const char *cmd)
{
    int st = system(cmd);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    for (size_t r; b && (r = fread(b + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) {
            char *nb = realloc(b, 2 * cap + 1);
            if (!nb) { free(b); b = NULL; break; }
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (b) {
        b[n] = 0;
        if (len)
            *len = n;
    }
    return b;
}
